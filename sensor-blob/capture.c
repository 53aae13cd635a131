/* capture.c - see capture.h: the judges of the capture engine.
 *
 * Layout: the process cache; events and the rate limit; the judges (exec,
 * file writes, network, the other watched calls) and their dispatch. The
 * mechanisms in trace.c hand every stopped call to sn_cap_judge. The big
 * scratch buffers are static: the sensor is single-threaded, PID 1's stack
 * stays small, and nothing is allocated per stop.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"
#include "event.h"

#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)
#define AT_EMPTY_PATH_FLAG 0x1000

/* Who did it, for an event's proc.* fields. */
struct who {
	pid_t pid, ppid;
	long uid;
	const char *exe, *argv0, *cmdline;
	char cwd[PATH_MAX];
	char exebuf[PATH_MAX], a0buf[256], cmdbuf[1024];
};

static struct sn_event ev; /* 16 KiB */
static struct who who;

/* --- process table ------------------------------------------------------------------ */

static struct proc **slot(struct sn_capture *c, pid_t pid)
{
	struct proc **pp = &c->table[(unsigned)pid % SN_CAP_BUCKETS];

	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	return pp;
}

struct proc *sn_cap_proc_find(struct sn_capture *c, pid_t pid)
{
	return *slot(c, pid);
}

struct proc *sn_cap_proc_add(struct sn_capture *c, pid_t pid)
{
	struct proc **pp = slot(c, pid), *p;

	if (*pp)
		return *pp;
	if (c->nprocs >= SN_CAP_PROC_MAX || !(p = calloc(1, sizeof(*p))))
		return NULL;
	p->pid = pid;
	*pp = p;
	c->nprocs++;
	return p;
}

static void conn_drop(struct proc *p)
{
	if (!p->conn)
		return;
	if (p->conn->dup >= 0)
		close(p->conn->dup);
	free(p->conn);
	p->conn = NULL;
}

void sn_cap_proc_forget(struct sn_capture *c, pid_t pid)
{
	struct proc **pp = slot(c, pid), *p = *pp;

	if (!p)
		return;
	*pp = p->next;
	conn_drop(p);
	free(p->exec);
	free(p);
	c->nprocs--;
}

/* A new process starts as a copy of its parent until it execs. */
void sn_cap_proc_inherit(struct proc *child, struct proc *parent, int is_fork)
{
	if (!parent)
		return;
	/* A fork's identity follows from its parent's: no /proc read at its
	 * first event. A clone may be a thread (another tgid and ppid). */
	/* One thread at birth; once it has run (its first stop came before
	 * this event) it may have cloned already. */
	if (is_fork && !child->seen)
		child->single = 1;
	if (is_fork && parent->info_ok && !child->info_ok) {
		child->info.tgid = child->pid;
		child->info.ppid = parent->info.tgid;
		child->info.uid = parent->info.uid;
		child->info_ok = 1;
	}
	if (child->cmdline[0])
		return;
	memcpy(child->exe, parent->exe, sizeof(child->exe));
	memcpy(child->argv0, parent->argv0, sizeof(child->argv0));
	memcpy(child->cmdline, parent->cmdline, sizeof(child->cmdline));
}

/* --- events ----------------------------------------------------------------------- */

static const char *const tags_process[] = {"inlay", "process", NULL};
static const char *const tags_file[] = {"inlay", "filesystem", NULL};
static const char *const tags_net[] = {"inlay", "network", NULL};
static const char *const tags_drift[] = {"inlay", "process", "drift", NULL};
static const char *const tags_policy[] = {"inlay", "policy", NULL};
static const char *const tags_sensor[] = {"inlay", "sensor", NULL};

static void send_event(struct sn_capture *c)
{
	struct sn_err e;

	/* A lost event is never fatal: the application matters more than the
	 * sensor's log (a closed output loses every event the same way). */
	sn_event_emit(&ev, c->o.out, &e);
}

static void report_dropped(struct sn_capture *c, struct bucket *b)
{
	sn_event_begin(&ev, "events dropped", SN_PRI_WARNING, tags_sensor,
		       "Events dropped by the rate limit (class=%s dropped=%lu limit=%ld/s)",
		       b->name, b->dropped, b->rate);
	sn_event_str(&ev, "evt.type", "drop");
	sn_event_str(&ev, "sensor.class", b->name);
	sn_event_int(&ev, "sensor.dropped", (long long)b->dropped);
	send_event(c);
	b->dropped = 0;
}

/* Token bucket: `rate` events a second, `burst` at once. Whether an event
 * of this class would be written now, without using a token. The coarse
 * clock is read from the vDSO: no system call per event. */
static int bucket_open(struct bucket *b)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	ms = (long)(now.tv_sec - b->last.tv_sec) * 1000 + (now.tv_nsec - b->last.tv_nsec) / 1000000;
	if (ms > 0) {
		b->tokens += ms * b->rate;
		if (b->tokens > b->burst * 1000)
			b->tokens = b->burst * 1000;
		b->last = now;
	}
	return b->tokens >= 1000;
}

/* Use a token; 0 (and one more dropped) when there is none. */
static int bucket_take(struct sn_capture *c, struct bucket *b)
{
	if (!bucket_open(b)) {
		b->dropped++;
		return 0;
	}
	b->tokens -= 1000;
	if (b->dropped)
		report_dropped(c, b);
	return 1;
}

/* The policy questions, for a capture that may have no policy at all. */
static int pol_exec(const struct sn_capture *c, const char *exe, const char *applet)
{
	return !c->o.policy || sn_policy_exec_allowed(c->o.policy, exe, applet);
}

static int pol_write(const struct sn_capture *c, const char *path)
{
	return !c->o.policy || sn_policy_write_allowed(c->o.policy, path);
}

static int pol_connect(const struct sn_capture *c, const struct sockaddr_storage *sa, socklen_t len)
{
	return !c->o.policy ||
	       sn_policy_connect_allowed(c->o.policy, (const struct sockaddr *)sa, len);
}

static int pol_listen(const struct sn_capture *c, const char *proto, int port)
{
	return !c->o.policy || sn_policy_listen_allowed(c->o.policy, proto, (unsigned)port);
}

/* What p runs and its command line, from /proc while it is stopped: the
 * whole executable's name in exe (n bytes), what fits of it in p->exe. A
 * program without arguments (execve with an empty argv) is named by its
 * file, so the command line is never empty once read. */
static void proc_names(pid_t tid, struct proc *p, char *exe, size_t n)
{
	sn_proc_link(tid, "exe", exe, n);
	sn_fmt(p->exe, sizeof(p->exe), "%s", exe);
	sn_proc_cmdline(tid, p->cmdline, sizeof(p->cmdline), p->argv0, sizeof(p->argv0));
	if (!p->cmdline[0])
		sn_fmt(p->cmdline, sizeof(p->cmdline), "%s", sn_basename(exe));
}

static void who_fill(pid_t tid, struct proc *p)
{
	struct sn_procinfo pi;
	int ok;

	if (p && p->info_ok) {
		pi = p->info;
		ok = 1;
	} else {
		ok = sn_proc_status(tid, &pi) == 0;
		if (ok && p) {
			p->info = pi;
			p->info_ok = 1;
		}
	}
	if (ok) {
		who.pid = pi.tgid;
		who.ppid = pi.ppid;
		who.uid = (long)pi.uid;
	} else {
		who.pid = tid;
		who.ppid = -1;
		who.uid = -1;
	}
	sn_proc_link(tid, "cwd", who.cwd, sizeof(who.cwd));
	if (p) {
		/* Not known yet, or left for now at its exec. */
		if (!p->cmdline[0])
			proc_names(tid, p, who.exebuf, sizeof(who.exebuf));
		who.exe = p->exe;
		who.argv0 = p->argv0;
		who.cmdline = p->cmdline;
		return;
	}
	sn_proc_link(tid, "exe", who.exebuf, sizeof(who.exebuf));
	sn_proc_cmdline(tid, who.cmdbuf, sizeof(who.cmdbuf), who.a0buf, sizeof(who.a0buf));
	who.exe = who.exebuf;
	who.argv0 = who.a0buf;
	who.cmdline = who.cmdbuf;
}

/* Begin an event about what process tid did: takes a token from b (returns
 * 0, writing nothing, when the class is over its rate), fills the common
 * proc.* fields. The caller adds its own fields and calls send_event. */
static int ev_start(struct sn_capture *c, struct bucket *b, const char *rule, enum sn_priority pri,
		    const char *const *tags, const char *evt_type, pid_t tid, struct proc *p,
		    const char *fmt, ...) __attribute__((format(printf, 9, 10)));

static int ev_start(struct sn_capture *c, struct bucket *b, const char *rule, enum sn_priority pri,
		    const char *const *tags, const char *evt_type, pid_t tid, struct proc *p,
		    const char *fmt, ...)
{
	static char msg[2048];
	va_list ap;

	if (!bucket_take(c, b))
		return 0;
	who_fill(tid, p);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sn_event_begin(&ev, rule, pri, tags,
		       "%s (user.uid=%ld proc.pid=%d proc.ppid=%d proc.exepath=%.256s "
		       "proc.cmdline=%.512s proc.cwd=%.256s)",
		       msg, who.uid, (int)who.pid, (int)who.ppid, who.exe, who.cmdline, who.cwd);
	sn_event_str(&ev, "evt.type", evt_type);
	sn_event_int(&ev, "proc.pid", who.pid);
	if (tid != who.pid)
		sn_event_int(&ev, "thread.tid", tid);
	sn_event_int(&ev, "proc.ppid", who.ppid);
	sn_event_str(&ev, "proc.exe", who.argv0);
	sn_event_str(&ev, "proc.exepath", who.exe);
	sn_event_str(&ev, "proc.cmdline", who.cmdline);
	sn_event_str(&ev, "proc.cwd", who.cwd);
	sn_event_int(&ev, "user.uid", who.uid);
	return 1;
}

static const char *action_name(int denied)
{
	return denied ? "denied" : "allowed";
}

/* "policy violation": what (fd.name or the program) is not allowed by
 * section (exec, net.listen, net.connect, files.write). */
static void violation(struct sn_capture *c, const char *evt_type, pid_t tid, struct proc *p,
		      const char *section, const char *key, const char *what, const char *action)
{
	if (!ev_start(c, &c->alerts, "policy violation",
		      strcmp(action, "allowed") ? SN_PRI_ERROR : SN_PRI_WARNING, tags_policy,
		      evt_type, tid, p,
		      "Policy violation: %.1024s is not allowed by %s (action=%s mode=%s)", what,
		      section, action, sn_mode_name(c->o.mode)))
		return;
	sn_event_str(&ev, key, what);
	sn_event_str(&ev, "sensor.rule", section);
	sn_event_str(&ev, "sensor.action", action);
	sn_event_str(&ev, "sensor.mode", sn_mode_name(c->o.mode));
	send_event(c);
}

/* The program as invoked, in policy notation: "/bin/busybox[cat]". */
static void program_name(const char *exe, const char *applet, char *out, size_t n)
{
	if (applet && applet[0])
		sn_fmt(out, n, "%s[%s]", exe, applet);
	else
		sn_fmt(out, n, "%s", exe);
}

/* Why a program is not part of the image. */
enum drift_kind {
	DRIFT_NONE,
	DRIFT_CHANGED, /* its file was created or modified after the container started */
	DRIFT_ABSENT,  /* its path is not in the image's inventory */
};

static void drift(struct sn_capture *c, const char *evt_type, pid_t tid, struct proc *p,
		  const char *program, int kind, const char *action)
{
	const char *why = kind == DRIFT_ABSENT
			      ? "is not in the image's inventory"
			      : "was created or modified after the container started";

	if (!ev_start(c, &c->alerts, "drift detected", SN_PRI_CRITICAL, tags_drift, evt_type, tid,
		      p, "Drift detected: %.1024s %s (action=%s mode=%s)", program, why, action,
		      sn_mode_name(c->o.mode)))
		return;
	sn_event_str(&ev, "sensor.program", program);
	sn_event_str(&ev, "sensor.drift", kind == DRIFT_ABSENT ? "not in inventory" : "changed");
	sn_event_str(&ev, "sensor.action", action);
	sn_event_str(&ev, "sensor.mode", sn_mode_name(c->o.mode));
	send_event(c);
}

/* --- judging executions ------------------------------------------------------------- */

/* Changed at or after the start (o.start is the first coarse tick the
 * sensor did not start in: main.c's drift_epoch). */
static int newer_than_start(const struct sn_capture *c, const struct stat *st)
{
	return st->st_ctim.tv_sec > c->o.start.tv_sec || (st->st_ctim.tv_sec == c->o.start.tv_sec &&
							  st->st_ctim.tv_nsec >= c->o.start.tv_nsec);
}

/* Whether the program at exe (resolved), whose file is st (NULL: not known),
 * drifted: by its times, or by its absence from the image's inventory. */
static int drift_of(const struct sn_capture *c, const struct stat *st, const char *exe)
{
	if (st && newer_than_start(c, st))
		return DRIFT_CHANGED;
	if (c->o.inventory && !sn_inventory_has(c->o.inventory, exe))
		return DRIFT_ABSENT;
	return DRIFT_NONE;
}

/* argv[0]'s base name when it differs from the executable's: the applet of
 * a multi-call binary (busybox run as /proc/self/exe or through a link). */
static const char *applet_of(const char *argv0, const char *exe)
{
	const char *a = sn_basename(argv0);

	if (!a[0] || strcmp(a, sn_basename(exe)) == 0)
		return NULL;
	return a;
}

static int blocked(const struct sn_capture *c, int allowed, int is_drift)
{
	return c->enforce && (!allowed || (is_drift && c->drift_block));
}

/* The seccomp stop (or notification) of execve/execveat. Returns the errno
 * to fail it with, 0 to let it run. */
static int judge_exec(struct sn_capture *c, const struct sn_syscall *sc, struct proc *p)
{
	static char path[PATH_MAX], access[PATH_MAX + 64], display[PATH_MAX], exe[PATH_MAX];
	static char argv0[256], program[PATH_MAX + NAME_MAX + 4];
	int at = sc->nr == SYS_execveat;
	int dirfd = at ? (int)sc->args[0] : SN_AT_FDCWD;
	uint64_t argv = sc->args[at ? 2 : 1];
	const char *applet;
	struct stat st;
	int allowed, is_drift, deny;

	if (p && p->exec)
		p->exec->valid = 0;
	if (sn_mem_string(sc->pid, sc->traced, sc->args[at ? 1 : 0], path, sizeof(path)) < 0)
		return 0; /* the kernel will fail it the same way (EFAULT, ENAMETOOLONG) */
	if (!path[0] && !(at && (sc->args[4] & AT_EMPTY_PATH_FLAG)))
		return 0; /* ENOENT */
	if (sn_path_at(sc->pid, dirfd, path, display, sizeof(display), access, sizeof(access)) < 0)
		return 0;
	/* A file that is not there cannot run: a shell's PATH search costs one
	 * stat per miss here, nothing more. */
	if (stat(access, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	/* Monitor mode with nothing to decide or learn: the exec event names
	 * the program; here only what it cannot see - which file was asked for
	 * (a script, whose interpreter is what runs) and whether it drifted. */
	if (sc->followed && p && !c->enforce && !c->o.policy && !c->o.profile &&
	    !newer_than_start(c, &st) && (p->exec || (p->exec = malloc(sizeof(*p->exec))))) {
		struct exec_check *x = p->exec;

		x->valid = 1;
		x->light = 1;
		x->dev = st.st_dev;
		x->ino = st.st_ino;
		x->allowed = 1;
		x->drift = DRIFT_NONE;
		sn_fmt(x->exe, sizeof(x->exe), "%s", access);
		x->applet[0] = '\0';
		return 0;
	}
	if (!realpath(access, exe)) {
		/* A descriptor of a deleted file or a memfd (fexecve): its
		 * link text ("/memfd:x (deleted)") is the best name there is. */
		ssize_t n = readlink(access, exe, sizeof(exe) - 1);

		if (n > 0)
			exe[n] = '\0';
		else
			sn_fmt(exe, sizeof(exe), "%s", display);
	}
	argv0[0] = '\0';
	{
		uint64_t a0 = 0;

		if (sn_mem_read(sc->pid, sc->traced, argv, &a0, sizeof(a0)) == 0 && a0)
			sn_mem_string(sc->pid, sc->traced, a0, argv0, sizeof(argv0));
	}
	applet = applet_of(argv0, exe);
	allowed = pol_exec(c, exe, applet);
	is_drift = drift_of(c, &st, exe);
	deny = blocked(c, allowed, is_drift);
	program_name(exe, applet, program, sizeof(program));

	if (deny || !sc->followed) {
		/* Denied now, or (notification) never seen again: report here.
		 * proc.* is the caller; for a notification of an exec that goes
		 * ahead, the new program's own command line. */
		struct proc np, *who_p = p;

		if (!deny) {
			memset(&np, 0, sizeof(np));
			sn_fmt(np.exe, sizeof(np.exe), "%s", exe);
			sn_mem_cmdline(sc->pid, sc->traced, argv, np.cmdline, sizeof(np.cmdline),
				       np.argv0, sizeof(np.argv0));
			if (!np.cmdline[0])
				sn_fmt(np.cmdline, sizeof(np.cmdline), "%s", sn_basename(exe));
			who_p = &np;
			if (c->o.profile)
				sn_profile_exec(c->o.profile, exe, applet);
			if (ev_start(c, &c->activity, "process executed", SN_PRI_INFORMATIONAL,
				     tags_process, "execve", sc->pid, who_p,
				     "Process executed (program=%.1024s)", program)) {
				sn_event_str(&ev, "sensor.program", program);
				send_event(c);
			}
		}
		if (!allowed)
			violation(c, "execve", sc->pid, who_p, "exec", "sensor.program", program,
				  action_name(deny));
		if (is_drift)
			drift(c, "execve", sc->pid, who_p, program, is_drift, action_name(deny));
		return deny ? EACCES : 0;
	}
	if (p && (p->exec || (p->exec = malloc(sizeof(*p->exec))))) {
		struct exec_check *x = p->exec;

		x->valid = 1;
		x->light = 0;
		x->dev = st.st_dev;
		x->ino = st.st_ino;
		x->allowed = (unsigned char)allowed;
		x->drift = (unsigned char)is_drift;
		sn_fmt(x->exe, sizeof(x->exe), "%s", exe);
		sn_fmt(x->applet, sizeof(x->applet), "%s", applet ? applet : "");
	}
	return 0;
}

/* The exec event: the new program runs (ptrace). Cache what it is, re-check
 * it against what was judged at the stop, report. */
void sn_cap_exec_event(struct sn_capture *c, pid_t pid, struct proc *p)
{
	static struct proc scratch;
	static char exe[PATH_MAX], program[PATH_MAX + NAME_MAX + 4];
	char link[64];
	struct exec_check *x;
	const char *applet;
	struct stat st;
	int have_st, allowed, is_drift, matched = 0;

	if (!p) {
		memset(&scratch, 0, sizeof(scratch));
		p = &scratch;
	}
	x = p->exec && p->exec->valid ? p->exec : NULL;
	/* exec keeps pid and ppid; only a setuid file changes the uid, which
	 * no_new_privs (set unless the sensor holds CAP_SYS_ADMIN) forbids. */
	if (p->info_ok && !c->nnp)
		p->info_ok = 0;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	have_st = stat(link, &st) == 0;
	if (x && x->light && have_st && x->dev == st.st_dev && x->ino == st.st_ino &&
	    !c->o.inventory && !bucket_open(&c->activity)) {
		/* Judged light, the file judged is what runs, and its name
		 * decides nothing (no inventory): all that is left is the
		 * "process executed" event, which the rate limit drops now.
		 * Under such a storm of executions the name and command line
		 * are read when an event first needs them (who_fill), not
		 * here: a readlink and a /proc read fewer per exec. */
		p->exe[0] = p->argv0[0] = p->cmdline[0] = '\0';
		x->valid = 0;
		c->activity.dropped++; /* as bucket_take counts it */
		return;
	}
	proc_names(pid, p, exe, sizeof(exe)); /* the whole name, for judging */
	if (x && have_st) {
		matched = x->dev == st.st_dev && x->ino == st.st_ino;
		if (matched && x->light) {
			/* The file judged light is what runs: name it from here. */
			x->light = 0;
			sn_fmt(x->exe, sizeof(x->exe), "%s", exe);
			applet = applet_of(p->argv0, exe);
			sn_fmt(x->applet, sizeof(x->applet), "%s", applet ? applet : "");
			x->drift = (unsigned char)drift_of(c, NULL, x->exe);
		} else if (!matched && sn_script_runs_as(x->exe, &st)) {
			matched = 1;
			if (x->light) {
				static char real[PATH_MAX];

				x->light = 0;
				if (realpath(x->exe, real))
					sn_fmt(x->exe, sizeof(x->exe), "%s", real);
				x->drift = (unsigned char)drift_of(c, NULL, x->exe);
			}
		}
	}
	if (matched) {
		applet = x->applet[0] ? x->applet : NULL;
		program_name(x->exe, applet, program, sizeof(program));
		allowed = x->allowed;
		is_drift = x->drift;
	} else {
		/* Not judged at a stop (no filter), or something else runs than
		 * what was judged: judge what runs. */
		applet = applet_of(p->argv0, exe);
		program_name(exe, applet, program, sizeof(program));
		allowed = pol_exec(c, exe, applet);
		is_drift = drift_of(c, have_st ? &st : NULL, exe);
	}
	if (x)
		x->valid = 0;
	if (blocked(c, allowed, is_drift)) {
		kill(pid, SIGKILL);
		if (!allowed)
			violation(c, "execve", pid, p, "exec", "sensor.program", program, "killed");
		if (is_drift)
			drift(c, "execve", pid, p, program, is_drift, "killed");
		return;
	}
	if (c->o.profile)
		sn_profile_exec(c->o.profile, matched ? x->exe : exe, applet);
	if (ev_start(c, &c->activity, "process executed", SN_PRI_INFORMATIONAL, tags_process,
		     "execve", pid, p, "Process executed (program=%.1024s)", program)) {
		sn_event_str(&ev, "sensor.program", program);
		send_event(c);
	}
	if (!allowed)
		violation(c, "execve", pid, p, "exec", "sensor.program", program, "allowed");
	if (is_drift)
		drift(c, "execve", pid, p, program, is_drift, "allowed");
}

/* A process that entered the container from outside (entered.h), running
 * exe: reported, and judged as an exec would be - but after the fact, so
 * what enforce forbids is killed, not denied. Not learned: a shell someone
 * opened during learning is no part of the application's profile. */
void sn_capture_judge_entered(struct sn_capture *c, pid_t pid)
{
	static char exe[PATH_MAX], argv0[256], cmdline[1024], program[PATH_MAX + NAME_MAX + 4];
	char link[64];
	const char *applet;
	struct stat st;
	int allowed, is_drift, deny;

	if (sn_proc_link(pid, "exe", exe, sizeof(exe)) < 0)
		return; /* gone already, or a kernel thread */
	sn_proc_cmdline(pid, cmdline, sizeof(cmdline), argv0, sizeof(argv0));
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	applet = applet_of(argv0, exe);
	program_name(exe, applet, program, sizeof(program));
	allowed = pol_exec(c, exe, applet);
	is_drift = drift_of(c, stat(link, &st) == 0 ? &st : NULL, exe);
	deny = blocked(c, allowed, is_drift);
	/* Reported first: the events read its names from /proc while it lives. */
	if (ev_start(c, &c->alerts, "process entered container", SN_PRI_NOTICE, tags_process,
		     "execve", pid, NULL,
		     "Process entered the container from outside (program=%.1024s action=%s)",
		     program, deny ? "killed" : "allowed")) {
		sn_event_str(&ev, "sensor.program", program);
		sn_event_str(&ev, "sensor.action", deny ? "killed" : "allowed");
		send_event(c);
	}
	if (!allowed)
		violation(c, "execve", pid, NULL, "exec", "sensor.program", program,
			  deny ? "killed" : "allowed");
	if (is_drift)
		drift(c, "execve", pid, NULL, program, is_drift, deny ? "killed" : "allowed");
	if (deny)
		kill(pid, SIGKILL);
}

/* --- judging file writes ------------------------------------------------------------- */

/* Writes that are not file writes: terminals, the null devices, descriptors
 * reopened through /dev/fd and /proc/PID/fd. Shells open these all the time
 * (2>/dev/null); a files.write policy must not break them. */
static int write_exempt(const char *path)
{
	static const char *const devs[] = {
	    "/dev/null",   "/dev/zero",	   "/dev/full",	   "/dev/tty",
	    "/dev/ptmx",   "/dev/console", "/dev/stdin",   "/dev/stdout",
	    "/dev/stderr", "/dev/random",  "/dev/urandom", NULL,
	};
	size_t i;

	if (strncmp(path, "/dev/", 5) == 0) {
		for (i = 0; devs[i]; i++)
			if (strcmp(path, devs[i]) == 0)
				return 1;
		return strncmp(path, "/dev/pts/", 9) == 0 || strncmp(path, "/dev/fd/", 8) == 0;
	}
	if (strncmp(path, "/proc/", 6) == 0) {
		i = 6 + strspn(path + 6, "0123456789");
		return i > 6 && strncmp(path + i, "/fd/", 4) == 0;
	}
	return 0;
}

static int judge_open(struct sn_capture *c, const struct sn_syscall *sc, struct proc *p)
{
	static char path[PATH_MAX], display[PATH_MAX], access[PATH_MAX + 64], target[PATH_MAX];
	char flagtext[160];
	int dirfd = SN_AT_FDCWD, allowed, deny;
	uint64_t flags = 0, addr;

	switch (sc->nr) {
#ifdef SYS_open
	case SYS_open:
		addr = sc->args[0];
		flags = sc->args[1];
		break;
#endif
#ifdef SYS_creat
	case SYS_creat:
		addr = sc->args[0];
		flags = O_CREAT | O_WRONLY | O_TRUNC;
		break;
#endif
	case SYS_openat2:
		/* struct open_how starts with the 64-bit flags. */
		if (sn_mem_read(sc->pid, sc->traced, sc->args[2], &flags, sizeof(flags)) < 0)
			return 0;
		/* fall through */
	default: /* openat */
		dirfd = (int)sc->args[0];
		addr = sc->args[1];
		if (sc->nr != SYS_openat2)
			flags = sc->args[2];
		break;
	}
	if (!(flags & WRITE_FLAGS))
		return 0;
	/* Nothing to report, learn or decide: the cheapest possible stop. */
	if (!c->enforce && !c->o.profile && !c->o.policy && !bucket_open(&c->activity)) {
		c->activity.dropped++;
		return 0;
	}
	if (sn_mem_string(sc->pid, sc->traced, addr, path, sizeof(path)) < 0 || !path[0])
		return 0;
	if (sn_path_at(sc->pid, dirfd, path, display, sizeof(display), access, sizeof(access)) < 0)
		return 0;
	if (write_exempt(display))
		return 0;
	/* The file really reached, wherever a policy is decided or learned
	 * (learn and enforce must name a file the same way), and for /proc
	 * paths (/proc/self/cwd/x means the caller's cwd). Plain monitoring
	 * keeps the name as written: no symlink walk per open. */
	if (c->enforce || c->o.policy || c->o.profile || strncmp(display, "/proc/", 6) == 0)
		sn_path_write_target(access, display, target, sizeof(target));
	else
		sn_fmt(target, sizeof(target), "%s", display);
	allowed = pol_write(c, target);
	deny = c->enforce && !allowed;
	if (!deny && c->o.profile)
		sn_profile_write(c->o.profile, target);
	sn_open_flags_format(flags, flagtext, sizeof(flagtext));
	if (!deny &&
	    ev_start(c, &c->activity, "file opened for writing", SN_PRI_INFORMATIONAL, tags_file,
		     sn_syscall_name(sc->nr), sc->pid, p,
		     "File opened for writing (fd.name=%.1024s flags=%s)", target, flagtext)) {
		sn_event_str(&ev, "fd.name", target);
		sn_event_str(&ev, "evt.arg.flags", flagtext);
		send_event(c);
	}
	if (!allowed)
		violation(c, sn_syscall_name(sc->nr), sc->pid, p, "files.write", "fd.name", target,
			  action_name(deny));
	return deny ? EACCES : 0;
}

/* --- judging the network ------------------------------------------------------------- */

static int read_addr(const struct sn_syscall *sc, uint64_t addr, uint64_t len,
		     struct sockaddr_storage *sa, socklen_t *ret_len)
{
	if (!addr || len < sizeof(sa_family_t))
		return -EINVAL;
	if (len > sizeof(*sa))
		len = sizeof(*sa);
	memset(sa, 0, sizeof(*sa));
	if (sn_mem_read(sc->pid, sc->traced, addr, sa, (size_t)len) < 0)
		return -EFAULT;
	*ret_len = (socklen_t)len;
	return 0;
}

static int is_inet(const struct sockaddr_storage *sa)
{
	return sa->ss_family == AF_INET || sa->ss_family == AF_INET6;
}

static uint32_t hash_bytes(const void *data, size_t n)
{
	const unsigned char *s = data;
	uint32_t h = 2166136261U;

	while (n--)
		h = (h ^ *s++) * 16777619U;
	return h | 1; /* never 0, the "none yet" value */
}

static void report_connect(struct sn_capture *c, const char *evt_type, pid_t tid, struct proc *p,
			   const struct sockaddr_storage *peer, socklen_t peer_len,
			   const struct sockaddr_storage *local, socklen_t local_len, long res)
{
	char l[SN_ADDR_MAX + 8], r[SN_ADDR_MAX + 8], name[2 * SN_ADDR_MAX + 24];

	sn_sockaddr_format((const struct sockaddr *)peer, peer_len, r, sizeof(r));
	l[0] = '\0';
	if (local_len)
		sn_sockaddr_format((const struct sockaddr *)local, local_len, l, sizeof(l));
	/* Falco's "local->peer"; a unix socket's peer path alone. */
	if (peer->ss_family == AF_UNIX)
		sn_fmt(name, sizeof(name), "%s", r);
	else
		sn_fmt(name, sizeof(name), "%s->%s", l, r);
	if (!ev_start(c, &c->activity, "outbound connection", SN_PRI_INFORMATIONAL, tags_net,
		      evt_type, tid, p, "Outbound connection (fd.name=%s res=%ld)", name, res))
		return;
	sn_event_str(&ev, "fd.name", name);
	sn_event_str(&ev, "fd.rip", r);
	sn_event_int(&ev, "evt.res", res);
	send_event(c);
}

/* One destination of a connect or a send, at addr (alen bytes) in the
 * caller. *ret_exit asks the tracer for the syscall-exit stop (to report
 * the local address and the result of a connect). */
static int judge_destination(struct sn_capture *c, const struct sn_syscall *sc, struct proc *p,
			     uint64_t addr, uint64_t alen, int *ret_exit)
{
	struct sockaddr_storage sa;
	struct sn_sockinfo si;
	socklen_t len;
	int fd = (int)sc->args[0], allowed = 1, deny, dup = -1;

	if (read_addr(sc, addr, alen, &sa, &len) < 0)
		return 0;
	if (!is_inet(&sa) && sa.ss_family != AF_UNIX)
		return 0; /* netlink, AF_UNSPEC (disconnect), ... */
	if (is_inet(&sa))
		allowed = pol_connect(c, &sa, len);
	deny = c->enforce && !allowed;
	if (deny) {
		char r[SN_ADDR_MAX + 8];

		sn_sockaddr_format((struct sockaddr *)&sa, len, r, sizeof(r));
		violation(c, sn_syscall_name(sc->nr), sc->pid, p, "net.connect", "fd.name", r,
			  "denied");
		return EACCES;
	}
	if (c->o.profile && is_inet(&sa))
		sn_profile_connect(c->o.profile, (struct sockaddr *)&sa, len);
	if (sc->nr != SYS_connect) {
		/* A datagram socket sends to the same place again and again:
		 * report a destination once per run of sends. */
		uint32_t h = hash_bytes(&sa, len);

		if (p && p->last_dest == h && allowed)
			return 0;
		if (p)
			p->last_dest = h;
	}
	if (bucket_open(&c->activity) || !allowed) {
		if (sn_sock_info(sc->pid, fd, &si,
				 sc->traced && sc->nr == SYS_connect && p ? &dup : NULL) < 0)
			si.local_len = 0;
		if (dup >= 0) {
			conn_drop(p);
			p->conn = malloc(sizeof(*p->conn));
			if (!p->conn) {
				close(dup);
				dup = -1;
			}
		}
		if (dup >= 0) {
			p->conn->dup = dup;
			p->conn->allowed = allowed;
			p->conn->peer = sa;
			p->conn->peer_len = len;
			*ret_exit = 1;
			return 0;
		}
		report_connect(c, sn_syscall_name(sc->nr), sc->pid, p, &sa, len, &si.local,
			       si.local_len, 0);
	} else {
		c->activity.dropped++;
	}
	if (!allowed) {
		char r[SN_ADDR_MAX + 8];

		sn_sockaddr_format((struct sockaddr *)&sa, len, r, sizeof(r));
		violation(c, sn_syscall_name(sc->nr), sc->pid, p, "net.connect", "fd.name", r,
			  "allowed");
	}
	return 0;
}

/* struct msghdr as the kernel lays it out (LP64): msg_name, then
 * msg_namelen; a struct mmsghdr is a msghdr and msg_len, 64 bytes. */
struct msghdr_head {
	uint64_t name;
	uint32_t namelen;
};
#define MMSGHDR_SIZE 64
#define MMSG_MAX 1024 /* UIO_MAXIOV: the kernel sends no more per call */

/* connect, and sendto/sendmsg naming a destination. */
static int judge_connect(struct sn_capture *c, const struct sn_syscall *sc, struct proc *p,
			 int *ret_exit)
{
	struct msghdr_head mh;

	if (sc->nr == SYS_connect)
		return judge_destination(c, sc, p, sc->args[1], sc->args[2], ret_exit);
	if (sc->nr == SYS_sendto)
		return judge_destination(c, sc, p, sc->args[4], sc->args[5], ret_exit);
	if (sn_mem_read(sc->pid, sc->traced, sc->args[1], &mh, sizeof(mh)) < 0 || !mh.name)
		return 0;
	return judge_destination(c, sc, p, mh.name, mh.namelen, ret_exit);
}

/* sendmmsg: every message naming a destination is judged like a sendto;
 * one denied destination fails the whole call. */
static int judge_sendmmsg(struct sn_capture *c, const struct sn_syscall *sc, struct proc *p)
{
	unsigned char chunk[16 * MMSGHDR_SIZE];
	uint64_t vlen = sc->args[2] < MMSG_MAX ? sc->args[2] : MMSG_MAX, i, j;
	int ignored, err;

	for (i = 0; i < vlen; i += j) {
		uint64_t n = vlen - i < 16 ? vlen - i : 16;

		if (sn_mem_read(sc->pid, sc->traced, sc->args[1] + i * MMSGHDR_SIZE, chunk,
				(size_t)(n * MMSGHDR_SIZE)) < 0)
			return 0; /* the kernel fails it the same way (EFAULT) */
		for (j = 0; j < n; j++) {
			struct msghdr_head mh;

			memcpy(&mh, chunk + j * MMSGHDR_SIZE, sizeof(mh));
			if (mh.name &&
			    (err = judge_destination(c, sc, p, mh.name, mh.namelen, &ignored)))
				return err;
		}
	}
	return 0;
}

/* The exit of a connect let through at its seccomp stop. */
void sn_cap_connect_done(struct sn_capture *c, pid_t pid, struct proc *p)
{
	struct conn_pending *k = p->conn;
	struct sn_sockinfo si;
	struct sn_regs regs;
	long res = 0;

	if (sn_regs_get(pid, &regs) == 0)
		res = sn_regs_retval(&regs);
	/* -ERESTARTSYS and kin: the call is restarted and stops again. */
	if (res <= -512 && res >= -516) {
		conn_drop(p);
		return;
	}
	memset(&si, 0, sizeof(si));
	sn_sock_local(k->dup, &si);
	report_connect(c, "connect", pid, p, &k->peer, k->peer_len, &si.local, si.local_len, res);
	if (!k->allowed) {
		char r[SN_ADDR_MAX + 8];

		sn_sockaddr_format((struct sockaddr *)&k->peer, k->peer_len, r, sizeof(r));
		violation(c, "connect", pid, p, "net.connect", "fd.name", r, "allowed");
	}
	conn_drop(p);
}

/* listen, and bind of a datagram socket to a port: a listening socket. */
static int judge_listen(struct sn_capture *c, const struct sn_syscall *sc, struct proc *p)
{
	struct sockaddr_storage sa;
	struct sn_sockinfo si;
	socklen_t len = 0;
	char name[SN_ADDR_MAX + 8];
	const char *proto = "tcp";
	int fd = (int)sc->args[0], port = -1, allowed = 1, deny;

	memset(&si, 0, sizeof(si));
	if (sc->nr == SYS_bind) {
		if (read_addr(sc, sc->args[1], sc->args[2], &sa, &len) < 0 || !is_inet(&sa))
			return 0;
		port = sn_sockaddr_port((struct sockaddr *)&sa, len);
		/* A stream socket listens at listen(); port 0 is a client's. */
		if (port <= 0 || sn_sock_info(sc->pid, fd, &si, NULL) < 0 || si.type != SOCK_DGRAM)
			return 0;
		proto = "udp";
		sn_sockaddr_format((struct sockaddr *)&sa, len, name, sizeof(name));
	} else if (sn_sock_info(sc->pid, fd, &si, NULL) == 0) {
		sn_sockaddr_format((struct sockaddr *)&si.local, si.local_len, name, sizeof(name));
		if (si.family == AF_INET || si.family == AF_INET6)
			port = sn_sockaddr_port((struct sockaddr *)&si.local, si.local_len);
		else if (si.family != AF_UNIX)
			return 0;
	} else {
		/* Descriptors cannot be copied here: find the port by inode. An
		 * unbound socket (port 0) listens on an ephemeral port. */
		port = sn_proc_net_port(sc->pid, fd);
		if (port < 0)
			sn_fmt(name, sizeof(name), "unknown");
		else
			sn_fmt(name, sizeof(name), "*:%d", port);
	}
	if (port >= 0)
		allowed = pol_listen(c, proto, port);
	deny = c->enforce && !allowed;
	if (!deny) {
		if (c->o.profile && port >= 0)
			sn_profile_listen(c->o.profile, proto, (unsigned)port);
		if (ev_start(c, &c->activity, "listening socket", SN_PRI_NOTICE, tags_net,
			     sn_syscall_name(sc->nr), sc->pid, p,
			     "Listening socket (fd.name=%s proto=%s)", name, proto)) {
			sn_event_str(&ev, "fd.name", name);
			sn_event_str(&ev, "fd.l4proto", si.family == AF_UNIX ? "unix" : proto);
			if (port >= 0)
				sn_event_int(&ev, "fd.sport", port);
			send_event(c);
		}
	}
	if (!allowed) {
		char what[SN_ADDR_MAX + 16];

		sn_fmt(what, sizeof(what), "%s:%d (%s)", proto, port, name);
		violation(c, sn_syscall_name(sc->nr), sc->pid, p, "net.listen", "fd.name", what,
			  action_name(deny));
	}
	return deny ? EACCES : 0;
}

/* --- the other watched calls ------------------------------------------------------------ */

/* chmod +x, memfd_create, ptrace, io_uring_setup, mount and namespaces:
 * reported, never denied (the policy has no rules for them). */
static void observe(struct sn_capture *c, const struct sn_syscall *sc, struct proc *p)
{
	static char a[PATH_MAX], b[PATH_MAX], name[PATH_MAX];
	const char *type = sn_syscall_name(sc->nr), *rule, *title, *fd_name = NULL;
	enum sn_priority pri = SN_PRI_NOTICE;
	char detail[256];
	uint64_t mode = 0;
	int dirfd = SN_AT_FDCWD;

	if (!bucket_open(&c->activity)) {
		c->activity.dropped++;
		return;
	}
	detail[0] = '\0';
	switch (sc->nr) {
#ifdef SYS_chmod
	case SYS_chmod:
#endif
	case SYS_fchmod:
	case SYS_fchmodat:
	case SYS_fchmodat2:
		rule = "file made executable";
		title = "File made executable";
		if (sc->nr == SYS_fchmod) {
			snprintf(b, sizeof(b), "fd/%d", (int)sc->args[0]);
			sn_proc_link(sc->pid, b, name, sizeof(name));
			mode = sc->args[1];
		} else {
			int i = sc->nr == SYS_fchmodat || sc->nr == SYS_fchmodat2;

			if (i)
				dirfd = (int)sc->args[0];
			if (sn_mem_string(sc->pid, sc->traced, sc->args[i], a, sizeof(a)) < 0 ||
			    sn_path_at(sc->pid, dirfd, a, name, sizeof(name), NULL, 0) < 0)
				sn_fmt(name, sizeof(name), "%s", a);
			mode = sc->args[i + 1];
		}
		fd_name = name;
		sn_fmt(detail, sizeof(detail), "fd.name=%.200s mode=%04llo", name,
		       (unsigned long long)(mode & 07777));
		break;
	case SYS_memfd_create:
		rule = "memory file created";
		title = "Memory file created";
		if (sn_mem_string(sc->pid, sc->traced, sc->args[0], a, sizeof(a)) < 0)
			a[0] = '\0';
		sn_fmt(name, sizeof(name), "memfd:%s", a);
		fd_name = name;
		sn_fmt(detail, sizeof(detail), "name=%.200s flags=%#llx", a,
		       (unsigned long long)sc->args[1]);
		break;
	case SYS_ptrace:
		rule = "process tracing attempted";
		title = "Process tracing attempted";
		pri = SN_PRI_WARNING;
		sn_fmt(detail, sizeof(detail), "request=%lld target=%lld", (long long)sc->args[0],
		       (long long)sc->args[1]);
		break;
	case SYS_io_uring_setup:
		rule = "io_uring set up";
		title = "io_uring set up";
		pri = SN_PRI_WARNING;
		sn_fmt(detail, sizeof(detail),
		       "entries=%llu; operations submitted through io_uring are not captured",
		       (unsigned long long)sc->args[0]);
		break;
	case SYS_mount:
		rule = "namespace or mount change";
		title = "Namespace or mount change";
		pri = SN_PRI_WARNING;
		if (sn_mem_string(sc->pid, sc->traced, sc->args[0], a, sizeof(a)) < 0)
			a[0] = '\0';
		if (sn_mem_string(sc->pid, sc->traced, sc->args[1], b, sizeof(b)) < 0)
			b[0] = '\0';
		if (sn_mem_string(sc->pid, sc->traced, sc->args[2], name, 64) < 0)
			name[0] = '\0';
		sn_fmt(detail, sizeof(detail), "source=%.80s target=%.80s fstype=%.32s flags=%#llx",
		       a, b, name, (unsigned long long)sc->args[3]);
		break;
	case SYS_umount2:
		rule = "namespace or mount change";
		title = "Namespace or mount change";
		pri = SN_PRI_WARNING;
		if (sn_mem_string(sc->pid, sc->traced, sc->args[0], a, sizeof(a)) < 0)
			a[0] = '\0';
		sn_fmt(detail, sizeof(detail), "target=%.200s flags=%#llx", a,
		       (unsigned long long)sc->args[1]);
		break;
	case SYS_unshare:
		rule = "namespace or mount change";
		title = "Namespace or mount change";
		pri = SN_PRI_WARNING;
		sn_fmt(detail, sizeof(detail), "flags=%#llx", (unsigned long long)sc->args[0]);
		break;
	case SYS_setns:
		rule = "namespace or mount change";
		title = "Namespace or mount change";
		pri = SN_PRI_WARNING;
		snprintf(b, sizeof(b), "fd/%d", (int)sc->args[0]);
		sn_proc_link(sc->pid, b, a, sizeof(a));
		sn_fmt(detail, sizeof(detail), "ns=%.200s nstype=%#llx", a,
		       (unsigned long long)sc->args[1]);
		break;
	default:
		return;
	}
	if (!ev_start(c, &c->activity, rule, pri, tags_process, type, sc->pid, p, "%s (%s)", title,
		      detail))
		return;
	if (fd_name)
		sn_event_str(&ev, "fd.name", fd_name);
	sn_event_str(&ev, "evt.args", detail);
	send_event(c);
}

/* --- dispatch ---------------------------------------------------------------------------- */

/* One stopped call, from either mechanism. Returns the errno to fail it with
 * (0: let it run); *ret_exit asks for its syscall-exit stop. */
int sn_cap_judge(struct sn_capture *c, const struct sn_syscall *sc, struct proc *p, int *ret_exit)
{
	*ret_exit = 0;
	switch (sc->nr) {
	case SYS_execve:
	case SYS_execveat:
		return judge_exec(c, sc, p);
#ifdef SYS_open
	case SYS_open:
#endif
#ifdef SYS_creat
	case SYS_creat:
#endif
	case SYS_openat:
	case SYS_openat2:
		return judge_open(c, sc, p);
	case SYS_connect:
	case SYS_sendto:
	case SYS_sendmsg:
		return judge_connect(c, sc, p, ret_exit);
	case SYS_sendmmsg:
		return judge_sendmmsg(c, sc, p);
	case SYS_bind:
	case SYS_listen:
		return judge_listen(c, sc, p);
	case SYS_io_uring_setup:
		/* Operations submitted through a ring never pass the filter:
		 * under enforcement a ring would bypass every rule. Programs
		 * fall back to plain system calls (as under Docker's default
		 * seccomp profile, which refuses io_uring altogether). */
		if (c->enforce) {
			violation(c, "io_uring_setup", sc->pid, p, "io_uring", "sensor.call",
				  "io_uring_setup", "denied");
			return EACCES;
		}
		break;
	}
	observe(c, sc, p);
	return 0;
}

/* --- life cycle --------------------------------------------------------------------- */

void sn_cap_init(struct sn_capture *c)
{
	enum sn_drift d = c->o.policy ? sn_policy_drift(c->o.policy) : SN_DRIFT_DEFAULT;

	c->enforce = c->o.mode == SN_MODE_ENFORCE;
	c->drift_block = d == SN_DRIFT_BLOCK || (d == SN_DRIFT_DEFAULT && c->enforce);
	/* Bursts are reported whole (a start-up, a deployment step); a steady
	 * flood is cut to a trickle with a count. Alerts have their own budget,
	 * so noisy activity can never hide a violation. */
	c->activity.name = "activity";
	c->activity.rate = 100;
	c->activity.burst = 1000;
	c->alerts.name = "alerts";
	c->alerts.rate = 50;
	c->alerts.burst = 500;
	c->activity.tokens = c->activity.burst * 1000;
	c->alerts.tokens = c->alerts.burst * 1000;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &c->activity.last);
	c->alerts.last = c->activity.last;
}

void sn_cap_finish(struct sn_capture *c)
{
	if (c->activity.dropped)
		report_dropped(c, &c->activity);
	if (c->alerts.dropped)
		report_dropped(c, &c->alerts);
}

void sn_cap_kill_all(struct sn_capture *c)
{
	const struct proc *p;
	unsigned i;

	for (i = 0; i < SN_CAP_BUCKETS; i++)
		for (p = c->table[i]; p; p = p->next)
			kill(p->pid, SIGKILL);
}

void sn_cap_forget_all(struct sn_capture *c)
{
	unsigned i;

	for (i = 0; i < SN_CAP_BUCKETS; i++)
		while (c->table[i])
			sn_cap_proc_forget(c, c->table[i]->pid);
}
