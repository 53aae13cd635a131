/* decode.c - see decode.h. */
#include "decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "sn_err.h"

/* Reads never cross a 4 KiB boundary in one piece unless the whole range is
 * wanted: a string may end just before an unmapped page. 4 KiB divides every
 * page size Linux uses, so the rule holds on 16/64 KiB-page kernels too. */
#define CHUNK 4096UL

/* open(2) for the sensor's own reads of /proc and of scripts. Made raw:
 * musl's open() follows an O_CLOEXEC open with fcntl(F_SETFD) for kernels
 * older than 2.6.23, one more system call on the tracer's hot path. */
static int open_ro(const char *path, int extra)
{
	long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | extra);

	return fd < 0 ? -1 : (int)fd;
}

/* process_vm_readv refused once (ENOSYS, EPERM from a seccomp profile): do
 * not pay for the failing call again. */
static int vm_readv_broken;

static int read_vm(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		return -EFAULT; /* partial: part of the range is not mapped */
	return -errno;
}

static int read_peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	unsigned char *out = buf;
	uint64_t a = addr & ~(uint64_t)(sizeof(long) - 1);

	while (len) {
		size_t skip = (size_t)(addr - a), take;
		long w;

		errno = 0;
		w = ptrace(PTRACE_PEEKDATA, pid, (void *)(uintptr_t)a, NULL);
		if (w == -1 && errno)
			return errno == EIO ? -EFAULT : -errno;
		take = sizeof(w) - skip < len ? sizeof(w) - skip : len;
		memcpy(out, (unsigned char *)&w + skip, take);
		out += take;
		len -= take;
		addr += take;
		a += sizeof(w);
	}
	return 0;
}

static int read_procmem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open_ro(path, 0);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)addr);
	if (n < 0)
		err = errno == EIO ? -EFAULT : -errno;
	else if ((size_t)n != len)
		err = -EFAULT;
	close(fd);
	return err;
}

int sn_mem_read(pid_t pid, int traced, uint64_t addr, void *buf, size_t len)
{
	int r;

	if (len == 0)
		return 0;
	if (!vm_readv_broken) {
		r = read_vm(pid, addr, buf, len);
		if (r != -ENOSYS && r != -EPERM)
			return r;
		vm_readv_broken = 1;
	}
	return traced ? read_peek(pid, addr, buf, len) : read_procmem(pid, addr, buf, len);
}

long sn_mem_string(pid_t pid, int traced, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;

	buf[0] = '\0';
	if (size == 0)
		return -EINVAL;
	if (addr == 0)
		return -EFAULT;
	while (got < size - 1) {
		size_t want = CHUNK - ((addr + got) & (CHUNK - 1));
		char *nul;
		int r;

		if (want > size - 1 - got)
			want = size - 1 - got;
		r = sn_mem_read(pid, traced, addr + got, buf + got, want);
		if (r < 0) {
			buf[0] = '\0';
			return r;
		}
		nul = memchr(buf + got, '\0', want);
		if (nul)
			return (long)(nul - buf);
		got += want;
	}
	buf[size - 1] = '\0';
	return -ENAMETOOLONG;
}

/* --- paths -------------------------------------------------------------------- */

int sn_path_clean(const char *in, char *out, size_t size)
{
	size_t o = 0;
	const char *p = in;

	if (in[0] != '/')
		return -EINVAL;
	if (size < 2)
		return -ENAMETOOLONG;
	while (*p) {
		const char *s;
		size_t n;

		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the '/' before the dropped component */
			continue;
		}
		if (o + 1 + n + 1 > size)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

int sn_path_join(const char *base, const char *rel, char *out, size_t size)
{
	char tmp[PATH_MAX * 2 + 2];
	size_t b, r;

	if (rel[0] == '/')
		return sn_path_clean(rel, out, size);
	b = strlen(base);
	r = strlen(rel);
	if (b + 1 + r + 1 > sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, base, b);
	tmp[b] = '/';
	memcpy(tmp + b + 1, rel, r + 1);
	return sn_path_clean(tmp, out, size);
}

/* Whether path starts with component prefix p ("/proc/self") followed by
 * '/' or the end; returns the rest. */
static const char *after_prefix(const char *path, const char *p)
{
	size_t n = strlen(p);

	if (strncmp(path, p, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return NULL;
	return path + n;
}

int sn_path_proc_self(pid_t pid, const char *path, char *out, size_t size)
{
	const char *rest = after_prefix(path, "/proc/self");
	int n;

	/* /proc/PID/ reaches a thread too (hidden from listings, but open), so
	 * thread-self maps to the calling thread's id. */
	if (!rest)
		rest = after_prefix(path, "/proc/thread-self");
	if (rest)
		n = snprintf(out, size, "/proc/%d%s", (int)pid, rest);
	else
		n = snprintf(out, size, "%s", path);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int sn_path_at(pid_t pid, int dirfd, const char *path, char *display, size_t dsize, char *access,
	       size_t asize)
{
	char base[PATH_MAX], link[64], norm[PATH_MAX];
	long r;
	int n;

	if (path[0] == '/') {
		if (sn_path_clean(path, norm, sizeof(norm)) < 0)
			return -ENAMETOOLONG;
		if (display && sn_path_proc_self(pid, norm, display, dsize) < 0)
			return -ENAMETOOLONG;
		if (access) {
			/* The sensor shares the application's root; only
			 * /proc/self means something else for it. Spelled
			 * oddly ("/proc/./self") it is caught after
			 * normalizing. */
			const char *src = after_prefix(norm, "/proc/self") ||
						  after_prefix(norm, "/proc/thread-self")
					      ? norm
					      : path;
			if (sn_path_proc_self(pid, src, access, asize) < 0)
				return -ENAMETOOLONG;
		}
		return 0;
	}
	if (dirfd == SN_AT_FDCWD)
		snprintf(link, sizeof(link), "cwd");
	else if (dirfd >= 0)
		snprintf(link, sizeof(link), "fd/%d", dirfd);
	else
		return -EBADF;
	if (display) {
		r = sn_proc_link(pid, link, base, sizeof(base));
		if (r < 0)
			return (int)r;
		if (base[0] != '/') {
			/* Not a directory in the tree ("socket:[...]",
			 * "anon_inode:..."): the name is all there is. */
			n = snprintf(display, dsize, "%s%s%s", base, path[0] ? "/" : "", path);
			if (n < 0 || (size_t)n >= dsize)
				return -ENAMETOOLONG;
		} else if (path[0] == '\0') {
			if (sn_path_clean(base, display, dsize) < 0)
				return -ENAMETOOLONG;
		} else if (sn_path_join(base, path, norm, sizeof(norm)) < 0 ||
			   sn_path_proc_self(pid, norm, display, dsize) < 0) {
			return -ENAMETOOLONG;
		}
	}
	if (access) {
		n = snprintf(access, asize, "/proc/%d/%s%s%s", (int)pid, link, path[0] ? "/" : "",
			     path);
		if (n < 0 || (size_t)n >= asize)
			return -ENAMETOOLONG;
	}
	return 0;
}

const char *sn_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

/* See decode.h. */
void sn_path_write_target(const char *access, const char *display, char *out, size_t n)
{
	static char path[PATH_MAX + 64], dir[PATH_MAX + 64], link[PATH_MAX], real[PATH_MAX];
	struct stat st;
	char *slash;
	int hops;

	sn_fmt(path, sizeof(path), "%s", access);
	for (hops = 0; hops < 40; hops++) {
		ssize_t k;

		if (realpath(path, real)) {
			sn_fmt(out, n, "%s", real);
			return;
		}
		sn_fmt(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = '\0';
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
		    (k = readlink(path, link, sizeof(link) - 1)) > 0) {
			link[k] = '\0';
			if (link[0] == '/')
				sn_fmt(path, sizeof(path), "%s", link);
			else
				sn_fmt(path, sizeof(path), "%s/%s", dir, link);
			continue;
		}
		if (realpath(dir[0] ? dir : "/", real)) {
			sn_fmt(out, n, "%s/%s", strcmp(real, "/") ? real : "", slash + 1);
			return;
		}
		break;
	}
	sn_fmt(out, n, "%s", display);
}

/* See decode.h. */
int sn_script_runs_as(const char *script, const struct stat *st)
{
	char head[256], *p, *end;
	struct stat ist;
	ssize_t n;
	int fd = open_ro(script, O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return 0;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	if (n < 3 || head[0] != '#' || head[1] != '!')
		return 0;
	head[n] = '\0';
	for (p = head + 2; *p == ' ' || *p == '\t'; p++)
		;
	for (end = p; *end && *end != ' ' && *end != '\t' && *end != '\n'; end++)
		;
	*end = '\0';
	return stat(p, &ist) == 0 && ist.st_dev == st->st_dev && ist.st_ino == st->st_ino;
}

/* --- sockets -------------------------------------------------------------------- */

size_t sn_sockaddr_format(const struct sockaddr *sa, socklen_t len, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	int n = 0;

	if (size == 0)
		return 0;
	out[0] = '\0';
	if (len < (socklen_t)sizeof(sa_family_t)) {
		n = snprintf(out, size, "unknown");
	} else if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		n = snprintf(out, size, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		n = snprintf(out, size, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else if (sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
		size_t plen = (size_t)len - offsetof(struct sockaddr_un, sun_path), i, o = 0;

		if (plen > sizeof(un->sun_path))
			plen = sizeof(un->sun_path);
		if (plen == 0)
			return (size_t)snprintf(out, size, "unix:unnamed");
		if (un->sun_path[0] == '\0') {
			/* Abstract: every byte counts, NULs included; shown
			 * with '@' as ss(8) does. */
			for (i = 0; i < plen && o + 1 < size; i++)
				out[o++] = un->sun_path[i] ? un->sun_path[i] : '@';
		} else {
			for (i = 0; i < plen && un->sun_path[i] && o + 1 < size; i++)
				out[o++] = un->sun_path[i];
		}
		out[o] = '\0';
		return o;
	} else {
		n = snprintf(out, size, "family %u", (unsigned)sa->sa_family);
	}
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

int sn_sockaddr_port(const struct sockaddr *sa, socklen_t len)
{
	if (len >= (socklen_t)sizeof(struct sockaddr_in) && sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (len >= (socklen_t)sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}

void sn_open_flags_format(uint64_t flags, char *out, size_t size)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
	    {O_CREAT, "O_CREAT"},	  {O_EXCL, "O_EXCL"},	      {O_NOCTTY, "O_NOCTTY"},
	    {O_TRUNC, "O_TRUNC"},	  {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
	    {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_CLOEXEC, "O_CLOEXEC"},
	};
	size_t o, i;
	int n;

	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		n = snprintf(out, size, "O_RDONLY");
		break;
	case O_WRONLY:
		n = snprintf(out, size, "O_WRONLY");
		break;
	case O_RDWR:
		n = snprintf(out, size, "O_RDWR");
		break;
	default:
		n = snprintf(out, size, "O_ACCMODE");
		break;
	}
	o = n > 0 && (size_t)n < size ? (size_t)n : 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((flags & names[i].bit) != names[i].bit)
			continue;
		/* O_TMPFILE contains O_DIRECTORY; name it as such. */
		if (names[i].bit == O_DIRECTORY && (flags & O_TMPFILE) == O_TMPFILE) {
			n = snprintf(out + o, size - o, "|O_TMPFILE");
		} else {
			n = snprintf(out + o, size - o, "|%s", names[i].name);
		}
		if (n < 0 || (size_t)n >= size - o) {
			out[o] = '\0'; /* no half names */
			return;
		}
		o += (size_t)n;
	}
}

static int pidfd_of(pid_t pid)
{
	struct sn_procinfo pi;
	long fd = syscall(SYS_pidfd_open, pid, 0);

	/* pidfd_open wants a thread-group leader. */
	if (fd < 0 && errno == EINVAL && sn_proc_status(pid, &pi) == 0 && pi.tgid != pid)
		fd = syscall(SYS_pidfd_open, pi.tgid, 0);
	return fd < 0 ? -errno : (int)fd;
}

int sn_fd_copy(pid_t pid, int fd)
{
	int pidfd = pidfd_of(pid), r;

	if (pidfd < 0)
		return pidfd;
	r = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (r < 0)
		r = -errno;
	close(pidfd);
	return r;
}

int sn_sock_local(int dupfd, struct sn_sockinfo *info)
{
	info->local_len = sizeof(info->local);
	if (getsockname(dupfd, (struct sockaddr *)&info->local, &info->local_len) < 0) {
		info->local_len = 0;
		return -errno;
	}
	return 0;
}

int sn_sock_info(pid_t pid, int fd, struct sn_sockinfo *ret, int *ret_dup)
{
	struct sn_sockinfo info;
	socklen_t l = sizeof(int);
	int dup, r = 0;

	memset(&info, 0, sizeof(info));
	dup = sn_fd_copy(pid, fd);
	if (dup < 0)
		return dup;
	if (getsockopt(dup, SOL_SOCKET, SO_TYPE, &info.type, &l) < 0) {
		r = -errno; /* ENOTSOCK: not a socket at all */
		close(dup);
		return r;
	}
	l = sizeof(int);
	if (getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &info.family, &l) < 0)
		info.family = AF_UNSPEC;
	sn_sock_local(dup, &info);
	*ret = info;
	if (ret_dup)
		*ret_dup = dup;
	else
		close(dup);
	return 0;
}

/* Read a small /proc file into buf (NUL-terminated); returns its length or
 * -errno. */
static long read_small(const char *path, char *buf, size_t size)
{
	size_t got = 0;
	int fd = open_ro(path, 0);

	if (fd < 0)
		return -errno;
	while (got < size - 1) {
		size_t want = size - 1 - got;
		ssize_t n = read(fd, buf + got, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		/* A /proc file gives what is asked until its end: a short
		 * read is the end, and asking again costs a system call. */
		if ((size_t)n < want)
			break;
	}
	close(fd);
	buf[got] = '\0';
	return (long)got;
}

/* Scan one /proc/net/tcp-format file for the socket with `inode`: its local
 * port, or -ENOENT. Lines are read whole through a small window, so a large
 * table costs reads, not memory. */
static int net_scan(const char *path, unsigned long inode)
{
	char buf[4096];
	size_t have = 0;
	int fd = open_ro(path, 0), port = -ENOENT;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n'))) {
			unsigned lport;
			unsigned long ino;

			*nl = '\0';
			/* sl local_address rem_address st tx:rx tr:when retr uid timeout inode */
			if (sscanf(line, " %*s %*[0-9A-Fa-f]:%x %*s %*s %*s %*s %*s %*s %*s %lu",
				   &lport, &ino) == 2 &&
			    ino == inode) {
				port = (int)lport;
				goto out;
			}
			line = nl + 1;
		}
		have = (size_t)(buf + have - line);
		memmove(buf, line, have);
		if (have >= sizeof(buf) - 1)
			have = 0; /* a line longer than the window: skip it */
	}
out:
	close(fd);
	return port;
}

int sn_proc_net_port(pid_t pid, int fd)
{
	char link[64], target[64], path[64];
	unsigned long inode;
	int r;

	snprintf(link, sizeof(link), "fd/%d", fd);
	if (sn_proc_link(pid, link, target, sizeof(target)) < 0)
		return -EBADF;
	if (sscanf(target, "socket:[%lu]", &inode) != 1)
		return -ENOTSOCK;
	snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)pid);
	r = net_scan(path, inode);
	if (r >= 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/net/tcp6", (int)pid);
	return net_scan(path, inode);
}

/* --- processes ------------------------------------------------------------------ */

static long field(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	if (!p || (p != text && p[-1] != '\n'))
		return -1;
	return strtol(p + strlen(key), NULL, 10);
}

int sn_proc_status(pid_t pid, struct sn_procinfo *ret)
{
	char path[64], buf[1024];
	long tgid, ppid, uid, r;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = read_small(path, buf, sizeof(buf));
	if (r < 0)
		return (int)r;
	/* The first lines: Name, Umask, State, Tgid, Ngid, Pid, PPid,
	 * TracerPid, Uid. A hostile Name is escaped by the kernel and cannot
	 * contain "\nTgid:". */
	tgid = field(buf, "Tgid:");
	ppid = field(buf, "PPid:");
	uid = field(buf, "Uid:");
	if (tgid < 0 || ppid < 0 || uid < 0)
		return -EINVAL;
	ret->tgid = (pid_t)tgid;
	ret->ppid = (pid_t)ppid;
	ret->uid = (uid_t)uid;
	return 0;
}

long sn_proc_link(pid_t pid, const char *what, char *out, size_t size)
{
	char path[80];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	n = readlink(path, out, size - 1);
	if (n < 0) {
		out[0] = '\0';
		return -errno;
	}
	out[n] = '\0';
	return (long)n;
}

/* Turn a NUL-separated argv of n bytes in buf (buf[n] writable) into
 * Falco's proc.cmdline: argv[0]'s base name, then the arguments. */
static void argv_join(char *buf, size_t n, char *argv0, size_t a0size)
{
	size_t a0 = strnlen(buf, n), skip = 0, i;

	if (argv0) {
		size_t k = a0 < a0size - 1 ? a0 : a0size - 1;

		memcpy(argv0, buf, k);
		argv0[k] = '\0';
	}
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (i = 0; i + 1 < a0; i++)
		if (buf[i] == '/')
			skip = i + 1;
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	if (skip > n)
		skip = n;
	memmove(buf, buf + skip, n - skip);
	buf[n - skip] = '\0';
}

int sn_proc_cmdline(pid_t pid, char *out, size_t size, char *argv0, size_t a0size)
{
	char path[64];
	long n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = read_small(path, out, size);
	if (n < 0) {
		out[0] = '\0';
		if (argv0)
			argv0[0] = '\0';
		return (int)n;
	}
	argv_join(out, (size_t)n, argv0, a0size);
	return 0;
}

int sn_mem_cmdline(pid_t pid, int traced, uint64_t argv, char *out, size_t size, char *argv0,
		   size_t a0size)
{
	char first[1024];
	const char *base;
	size_t o;
	unsigned i;
	uint64_t p = 0;

	out[0] = '\0';
	if (argv0)
		argv0[0] = '\0';
	first[0] = '\0';
	if (argv && sn_mem_read(pid, traced, argv, &p, sizeof(p)) == 0 && p)
		sn_mem_string(pid, traced, p, first, sizeof(first)); /* cut: fine */
	if (argv0)
		sn_fmt(argv0, a0size, "%s", first);
	/* Falco's proc.cmdline: argv[0]'s base name, then the arguments. */
	base = strrchr(first, '/') && strrchr(first, '/')[1] ? strrchr(first, '/') + 1 : first;
	o = sn_fmt(out, size, "%s", base);
	for (i = 1; i < 256 && o + 2 < size; i++) {
		long n;

		if (sn_mem_read(pid, traced, argv + 8 * i, &p, sizeof(p)) < 0 || p == 0)
			break;
		out[o++] = ' ';
		n = sn_mem_string(pid, traced, p, out + o, size - o);
		if (n == -ENAMETOOLONG) {
			o = size - 1;
			break;
		}
		if (n < 0) {
			o--; /* the blank just added */
			break;
		}
		o += (size_t)n;
	}
	out[o] = '\0';
	return 0;
}

/* --- system calls ------------------------------------------------------------------ */

const char *sn_syscall_name(long nr)
{
	switch (nr) {
#ifdef SYS_open
	case SYS_open:
		return "open";
#endif
#ifdef SYS_creat
	case SYS_creat:
		return "creat";
#endif
#ifdef SYS_chmod
	case SYS_chmod:
		return "chmod";
#endif
	case SYS_openat:
		return "openat";
	case SYS_openat2:
		return "openat2";
	case SYS_execve:
		return "execve";
	case SYS_execveat:
		return "execveat";
	case SYS_connect:
		return "connect";
	case SYS_bind:
		return "bind";
	case SYS_listen:
		return "listen";
	case SYS_sendto:
		return "sendto";
	case SYS_sendmsg:
		return "sendmsg";
	case SYS_sendmmsg:
		return "sendmmsg";
	case SYS_fchmod:
		return "fchmod";
	case SYS_fchmodat:
		return "fchmodat";
	case SYS_fchmodat2:
		return "fchmodat2";
	case SYS_memfd_create:
		return "memfd_create";
	case SYS_ptrace:
		return "ptrace";
	case SYS_io_uring_setup:
		return "io_uring_setup";
	case SYS_mount:
		return "mount";
	case SYS_umount2:
		return "umount2";
	case SYS_unshare:
		return "unshare";
	case SYS_setns:
		return "setns";
	}
	return "syscall";
}
