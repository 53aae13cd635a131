/* entered.c - see entered.h. */
#include "entered.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sn_err.h"

#define BUCKETS 4096
/* Parents classified on the way to a process's own class, at most: deeper
 * chains are taken as the application's (a fork bomb is not an exec). */
#define MAX_DEPTH 64

struct known {
	struct known *next;
	pid_t pid;
	unsigned gen;	  /* the last scan that saw it */
	unsigned entered; /* 1: from outside the namespace */
	unsigned reported;
	dev_t dev;	  /* entered and reported: the program at the last scan, */
	ino_t ino;
	uint32_t argv0;	  /* and its argv[0] (a multi-call binary's applet) */
};

struct sn_entered {
	char root[256];
	struct known *table[BUCKETS];
	size_t count;
	unsigned gen;
	int overflowed;
};

struct sn_entered *sn_entered_new(const char *proc_root)
{
	struct sn_entered *s = calloc(1, sizeof(*s));

	if (s)
		sn_fmt(s->root, sizeof(s->root), "%s", proc_root);
	return s;
}

static struct known **slot(struct sn_entered *s, pid_t pid)
{
	struct known **k = &s->table[(unsigned)pid % BUCKETS];

	while (*k && (*k)->pid != pid)
		k = &(*k)->next;
	return k;
}

int sn_entered_parse_stat(const char *buf, size_t n, pid_t *ret_ppid, char *ret_state)
{
	const char *p = NULL, *end = buf + n;
	long long ppid = 0;
	size_t i;
	char state;

	/* COMM is the process's own choice: the last ')' ends it. */
	for (i = 0; i < n; i++)
		if (buf[i] == ')')
			p = buf + i;
	if (!p || end - p < 5 || p[1] != ' ' || p[3] != ' ')
		return -1;
	state = p[2];
	p += 4;
	if (p == end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		ppid = ppid * 10 + (*p - '0');
		if (ppid > 0x7fffffff)
			return -1;
	}
	if (p < end && *p != ' ' && *p != '\n')
		return -1;
	*ret_ppid = (pid_t)ppid;
	*ret_state = state;
	return 0;
}

/* The parent and state of pid from ROOT/PID/stat. */
static int read_stat(const struct sn_entered *s, pid_t pid, pid_t *ret_ppid, char *ret_state)
{
	char path[320], buf[512];
	ssize_t n;
	int fd;

	sn_fmt(path, sizeof(path), "%s/%d/stat", s->root, (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return -1;
	return sn_entered_parse_stat(buf, (size_t)n, ret_ppid, ret_state);
}

/* What pid runs: its executable's identity and a hash of its argv[0] (an
 * exec from one busybox applet to another keeps the file). */
static int exe_id(const struct sn_entered *s, pid_t pid, dev_t *dev, ino_t *ino, uint32_t *argv0)
{
	char path[320], buf[256];
	struct stat st;
	uint32_t h = 2166136261u;
	ssize_t n, i;
	int fd;

	sn_fmt(path, sizeof(path), "%s/%d/exe", s->root, (int)pid);
	if (stat(path, &st) < 0)
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	sn_fmt(path, sizeof(path), "%s/%d/cmdline", s->root, (int)pid);
	n = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	for (i = 0; i < n && buf[i]; i++)
		h = (h ^ (unsigned char)buf[i]) * 16777619u;
	*argv0 = h;
	return 0;
}

/* The entry of pid, classified (and its unknown ancestors with it); NULL
 * when it cannot be read or the table is full. */
static struct known *classify(struct sn_entered *s, pid_t pid, pid_t self, int depth)
{
	struct known **k = slot(s, pid), *parent, *n;
	pid_t ppid;
	char state;

	if (*k)
		return *k;
	if (read_stat(s, pid, &ppid, &state) < 0)
		return NULL;
	if (s->count >= SN_ENTERED_MAX) {
		s->overflowed = 1;
		return NULL;
	}
	if (!(n = calloc(1, sizeof(*n))))
		return NULL;
	n->pid = pid;
	n->gen = s->gen; /* its stat was just read: it is there */
	if (ppid == 0)
		n->entered = pid != 1 && pid != self;
	else if (ppid != self && ppid != 1 && depth < MAX_DEPTH &&
		 (parent = classify(s, ppid, self, depth + 1)))
		n->entered = parent->entered;
	k = slot(s, pid); /* the recursion may have added to this bucket */
	n->next = *k;
	*k = n;
	s->count++;
	return n;
}

int sn_entered_scan(struct sn_entered *s, pid_t self, sn_entered_cb cb, void *ctx)
{
	struct dirent *d;
	struct known *k, **kp;
	DIR *dir;
	int alive = 0;
	size_t i;

	if (!(dir = opendir(s->root)))
		return -1;
	s->gen++;
	while ((d = readdir(dir))) {
		char *end;
		long v;
		pid_t pid;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		v = strtol(d->d_name, &end, 10);
		if (*end || v <= 0 || (pid_t)v == self)
			continue;
		pid = (pid_t)v;
		dev_t dev = 0;
		ino_t ino = 0;
		uint32_t argv0 = 0;

		if (!(k = classify(s, pid, self, 0)))
			continue;
		k->gen = s->gen;
		if (!k->entered)
			continue;
		alive++;
		/* New, or the same process running another program (it exec'd). */
		if (exe_id(s, pid, &dev, &ino, &argv0) < 0 && k->reported)
			continue;
		if (!k->reported || dev != k->dev || ino != k->ino || argv0 != k->argv0) {
			k->reported = 1;
			k->dev = dev;
			k->ino = ino;
			k->argv0 = argv0;
			cb(ctx, pid);
		}
	}
	closedir(dir);
	/* What this scan did not meet is gone. */
	for (i = 0; i < BUCKETS; i++) {
		kp = &s->table[i];
		while ((k = *kp)) {
			if (k->gen != s->gen) {
				*kp = k->next;
				free(k);
				s->count--;
			} else {
				kp = &k->next;
			}
		}
	}
	return alive;
}

int sn_entered_overflowed(const struct sn_entered *s)
{
	return s->overflowed;
}

void sn_entered_free(struct sn_entered *s)
{
	struct known *k, *next;
	size_t i;

	if (!s)
		return;
	for (i = 0; i < BUCKETS; i++)
		for (k = s->table[i]; k; k = next) {
			next = k->next;
			free(k);
		}
	free(s);
}
