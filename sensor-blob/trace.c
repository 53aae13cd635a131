/* trace.c - see trace.h.
 *
 * Layout: the ptrace stop handler; the seccomp notification handler; the
 * start-up handshake with the child. What a stopped call means is decided
 * in capture.c (capture.h), the same way for both mechanisms.
 */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch.h"
#include "capture.h"
#include "decode.h"
#include "seccomp.h"

#define CLONE_UNTRACED_FLAG 0x00800000ULL
#define HANDSHAKE_MS 10000

#define TRACE_OPTS                                                                                 \
	(PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |  \
	 PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)

/* --- ptrace ---------------------------------------------------------------------------------- */

static void resume(pid_t pid, int req, int sig)
{
	/* ESRCH: killed meanwhile (SIGKILL needs no tracer's consent); its
	 * exit is reported next. */
	ptrace(req, pid, NULL, (void *)(long)sig);
}

static void on_seccomp(struct sn_capture *c, pid_t pid, struct proc *p)
{
	struct sn_syscall sc;
	struct sn_regs regs;
	int err, want_exit = 0, i;

	if (sn_regs_get(pid, &regs) < 0) {
		resume(pid, PTRACE_CONT, 0);
		return;
	}
	sc.pid = pid;
	sc.nr = sn_regs_syscall(&regs);
	sc.traced = 1;
	sc.followed = 1;
	for (i = 0; i < 6; i++)
		sc.args[i] = sn_regs_arg(&regs, (unsigned)i);
	if (sc.nr == SYS_clone) {
		/* The filter stops clone only for CLONE_UNTRACED, which would
		 * leave the child with a RET_TRACE filter and no tracer. */
		sn_regs_set_arg(pid, &regs, 0, sc.args[0] & ~CLONE_UNTRACED_FLAG);
		resume(pid, PTRACE_CONT, 0);
		return;
	}
	err = sn_cap_judge(c, &sc, p, &want_exit);
	if (err)
		sn_regs_skip(pid, &regs, -err);
	resume(pid, want_exit && !err ? PTRACE_SYSCALL : PTRACE_CONT, 0);
}

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

int sn_capture_on_wait(void *ctx, pid_t pid, int status)
{
	struct sn_capture *c = ctx;
	struct proc *p;
	unsigned long msg = 0;
	int sig, event, first = 0;

	if (!c || (c->mech != SN_MECH_PTRACE_SECCOMP && c->mech != SN_MECH_PTRACE))
		return 0;
	if (!WIFSTOPPED(status)) {
		sn_cap_proc_forget(c, pid);
		return 0;
	}
	sig = WSTOPSIG(status);
	event = (unsigned)status >> 16;
	p = sn_cap_proc_find(c, pid);
	if (!p) {
		/* A new child can report before its parent's fork event. */
		p = sn_cap_proc_add(c, pid);
		first = 1;
	}
	if (event == PTRACE_EVENT_STOP) {
		if (first || (p && !p->seen)) {
			/* The stop every auto-attached child starts with. */
			resume(pid, PTRACE_CONT, 0);
		} else if (is_stop_signal(sig)) {
			/* A group-stop: stay stopped, but let SIGCONT through
			 * (PTRACE_CONT here would undo the stop). */
			resume(pid, PTRACE_LISTEN, 0);
		} else {
			resume(pid, PTRACE_CONT, 0); /* an interrupt, or the end of a group-stop */
		}
	} else if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
		on_seccomp(c, pid, p);
	} else if (sig == SIGTRAP && (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
				      event == PTRACE_EVENT_CLONE)) {
		if (p && event == PTRACE_EVENT_CLONE)
			p->single = 0;
		if (ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg) == 0 && msg) {
			struct proc *child = sn_cap_proc_find(c, (pid_t)msg);

			if (!child)
				child = sn_cap_proc_add(c, (pid_t)msg); /* seen stays 0 */
			if (child)
				sn_cap_proc_inherit(child, p, event != PTRACE_EVENT_CLONE);
		}
		resume(pid, PTRACE_CONT, 0);
	} else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
		/* A thread other than the leader exec'd: it now has the
		 * leader's pid, and its judged exec sits under its old tid.
		 * A process known to have one thread need not be asked. */
		if ((!p || !p->single) && ptrace(PTRACE_GETEVENTMSG, pid, NULL, &msg) == 0 &&
		    (pid_t)msg != pid) {
			struct proc *old = sn_cap_proc_find(c, (pid_t)msg);

			if (old && p && old->exec) {
				free(p->exec);
				p->exec = old->exec;
				old->exec = NULL;
			}
			sn_cap_proc_forget(c, (pid_t)msg);
		}
		sn_cap_exec_event(c, pid, p);
		if (p)
			p->single = 1; /* exec ended every other thread */
		resume(pid, PTRACE_CONT, 0);
	} else if (sig == (SIGTRAP | 0x80)) {
		if (p && p->conn)
			sn_cap_connect_done(c, pid, p);
		resume(pid, PTRACE_CONT, 0);
	} else if (event) {
		resume(pid, PTRACE_CONT, 0); /* an event not asked for */
	} else {
		/* Signal-delivery-stop: deliver the signal as it was sent. */
		resume(pid, PTRACE_CONT, sig);
	}
	if (p)
		p->seen = 1;
	return 1;
}

/* --- seccomp notifications ------------------------------------------------------------------- */

/* One notification received, judged and answered; judged under c->lock
 * when `lock` (the listener thread; the poll loop's callback holds it
 * already). Returns 0, or -errno of the receive. */
static int notify_one(struct sn_capture *c, int lock)
{
	struct sn_seccomp_notif n;
	struct sn_syscall sc;
	int err, want_exit, i, r;

	r = sn_notify_recv(&c->notify, &n);
	if (r < 0)
		return r; /* ENOENT: the caller is gone; EINTR: try again */
	sc.pid = (pid_t)n.pid;
	sc.nr = n.data.nr;
	sc.traced = 0;
	for (i = 0; i < 6; i++)
		sc.args[i] = n.data.args[i];
	if (lock)
		pthread_mutex_lock(&c->lock);
	/* Hybrid: the caller is also a tracee, whose cache entry names it and
	 * whose exec event comes next. */
	sc.followed = c->mech != SN_MECH_NOTIFY;
	err = sn_cap_judge(c, &sc, sc.followed ? sn_cap_proc_find(c, sc.pid) : NULL, &want_exit);
	if (lock)
		pthread_mutex_unlock(&c->lock);
	/* No SECCOMP_IOCTL_NOTIF_ID_VALID first: a caller that died while
	 * its memory was read (its pid perhaps reused) has no waiting call,
	 * and the kernel refuses the answer (ENOENT). */
	sn_notify_reply(&c->notify, n.id, err);
	return 0;
}

static int notify_cb(void *ctx, int fd, struct sn_err *e)
{
	(void)fd;
	(void)e;
	notify_one(ctx, 0);
	return 0;
}

/* The listener thread: blocked in SECCOMP_IOCTL_NOTIF_RECV, where the
 * kernel hands the CPU straight over from the caller (Linux 6.6's
 * synchronous wake-up), instead of in the main loop's poll, which would
 * cost a poll and its set-up on every create and exec the application
 * makes. Ends only with the process (or if the listener is closed). */
static void *listener_main(void *arg)
{
	struct sn_capture *c = arg;
	int r;

	for (;;) {
		r = notify_one(c, 1);
		if (r < 0 && r != -ENOENT && r != -EINTR)
			return NULL;
	}
}

/* Read the listener: on a thread of its own when one can be had, else
 * from the supervisor's loop. */
static int listen_on(struct sn_capture *c, struct sn_supervisor *sup, struct sn_err *e)
{
	pthread_attr_t attr;
	pthread_t thread;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* It judges with the main thread's code: path and event buffers are
	 * static, so a small stack does. */
	pthread_attr_setstacksize(&attr, 64 * 1024);
	r = pthread_create(&thread, &attr, listener_main, c);
	pthread_attr_destroy(&attr);
	if (r == 0) {
		c->listener = 1;
		sn_supervisor_set_lock(sup, &c->lock);
		return 0;
	}
	return sn_supervisor_watch_fd(sup, c->notify.fd, notify_cb, c, e);
}

/* --- set-up ------------------------------------------------------------------------------- */

struct reply {
	int err; /* 0: the filter asked for is installed */
	int has_fd;
	int fd; /* the listener's number in the child (hybrid: for pidfd_getfd) */
};

int sn_capture_new(const struct sn_capture_opts *o, struct sn_capture **ret, struct sn_err *e)
{
	struct sn_capture *c = calloc(1, sizeof(*c));

	if (!c) {
		errno = ENOMEM;
		return sn_err_sys(e, "capture");
	}
	c->o = *o;
	c->sock[0] = c->sock[1] = -1;
	c->notify.fd = -1;
	sn_cap_init(c);
	/* Held by the main thread from now on (see struct sn_capture). */
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_lock(&c->lock);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sock) < 0) {
		sn_err_sys(e, "capture: socketpair");
		free(c);
		return -1;
	}
	*ret = c;
	return 0;
}

/* --- child side: async-signal-safe only --- */

static int read_byte(int fd, char *b)
{
	ssize_t n;

	do
		n = read(fd, b, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/* The answer to 'U' carries the listener (SCM_RIGHTS). */
static void send_reply(int s, const struct reply *rep, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)rep, .iov_len = sizeof(*rep)};
	struct msghdr m;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	}
	/* sendmmsg, not sendmsg: the notification filter just installed
	 * stops sendmsg, and the sensor cannot answer before it has this
	 * message. Called raw: musl's sendmmsg loops over sendmsg. The
	 * padding musl keeps around the kernel's size_t fields is zero
	 * (memset), so its structs are the kernel's. */
	{
		struct mmsghdr mm;

		memset(&mm, 0, sizeof(mm));
		mm.msg_hdr = m;
		while (syscall(SYS_sendmmsg, s, &mm, 1, MSG_NOSIGNAL) < 0 && errno == EINTR)
			;
	}
}

int sn_capture_child_prepare(void *ctx)
{
	struct sn_capture *c = ctx;
	struct reply rep = {0, 0, -1};
	int s = c->sock[1], fd = -1, r;
	char verdict, go;

	close(c->sock[0]);
	if (read_byte(s, &verdict) < 0)
		return -ECANCELED;
	if (verdict == 'H' || verdict == 'T' || verdict == 'U') {
		/* Without CAP_SYS_ADMIN the kernel installs a filter only
		 * under no_new_privs (see trace.h for what that costs). */
		if (!sn_have_cap_sys_admin() && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
			rep.err = errno;
		} else {
			/* A listener can be refused where a plain filter is
			 * not (one already exists in the chain: EBUSY). */
			r = verdict == 'H' ? sn_filter_install(SN_FILTER_HYBRID, &fd) : -EINVAL;
			if (r < 0)
				r = sn_filter_install(
				    verdict == 'U' ? SN_FILTER_NOTIFY : SN_FILTER_TRACE, &fd);
			rep.err = r < 0 ? -r : 0;
			rep.has_fd = r == 0 && fd >= 0;
			rep.fd = fd;
		}
	} else {
		rep.err = ENOSYS;
	}
	if (verdict == 'U') {
		send_reply(s, &rep, rep.has_fd ? fd : -1);
	} else {
		/* A plain write: the trace filters stop every sendmsg and
		 * sendmmsg, and the tracer is not waiting for stops yet. The
		 * hybrid listener is taken with pidfd_getfd meanwhile. */
		while (write(s, &rep, sizeof(rep)) < 0 && errno == EINTR)
			;
	}
	r = read_byte(s, &go);
	/* The application must never hold its own listener: it could answer
	 * its own notifications. */
	if (fd >= 0)
		close(fd);
	close(s);
	return r == 0 && go == 'G' ? 0 : -ECANCELED;
}

/* --- parent side --- */

static int send_byte(struct sn_capture *c, char b, struct sn_err *e)
{
	ssize_t n;

	do
		n = send(c->sock[0], &b, 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return sn_err_sys(e, "capture set-up: cannot reach the child");
	return 0;
}

static int recv_reply(struct sn_capture *c, struct reply *rep, int *ret_fd, struct sn_err *e)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = rep, .iov_len = sizeof(*rep)};
	struct pollfd pfd = {.fd = c->sock[0], .events = POLLIN};
	struct cmsghdr *cm;
	struct msghdr m;
	ssize_t n;
	int r;

	*ret_fd = -1;
	do
		r = poll(&pfd, 1, HANDSHAKE_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return sn_err_set(e, "capture set-up: the child did not answer in %d s",
				  HANDSHAKE_MS / 1000);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	do
		n = recvmsg(c->sock[0], &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*rep))
		return sn_err_sys(e, "capture set-up: no answer from the child");
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
	return 0;
}

/* SECCOMP_USER_NOTIF_FLAG_CONTINUE arrived in Linux 5.5; without it every
 * watched call would wait for an answer the sensor cannot give. */
static int kernel_has_notify_continue(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major > 5 || (major == 5 && minor >= 5);
}

int sn_capture_attach(struct sn_capture *c, pid_t pid, struct sn_supervisor *sup, struct sn_err *e)
{
	char ptrace_why[160], seccomp_why[160];
	struct reply rep;
	struct proc *p;
	int fd = -1, probe, hybrid;

	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)TRACE_OPTS) == 0) {
		p = sn_cap_proc_add(c, pid);
		if (p)
			p->seen = 1;
		/* The hybrid filter wants answers to CONTINUE (5.5) and the
		 * listener taken from the child (pidfd_getfd, 5.6): tried on
		 * the child's end of the socket first. */
		probe = kernel_has_notify_continue() ? sn_fd_copy(pid, c->sock[1]) : -ENOSYS;
		hybrid = probe >= 0;
		if (probe >= 0)
			close(probe);
		close(c->sock[1]);
		c->sock[1] = -1;
		if (send_byte(c, hybrid ? 'H' : 'T', e) < 0 || recv_reply(c, &rep, &fd, e) < 0)
			return -1;
		if (hybrid && rep.err == 0 && rep.has_fd) {
			fd = sn_fd_copy(pid, rep.fd);
			/* A listener nobody reads would block every file
			 * open: the child must not run then. */
			if (fd < 0) {
				errno = -fd;
				return sn_err_sys(e, "capture set-up: cannot take the seccomp "
						     "listener from the child");
			}
		}
		/* Whether the child runs under no_new_privs: inherited, or set by
		 * the child for its filter (it has the sensor's capabilities). */
		c->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ||
			 (rep.err == 0 && !sn_have_cap_sys_admin());
		if (rep.err == 0) {
			c->mech = SN_MECH_PTRACE_SECCOMP;
			if (fd >= 0) {
				if (sn_notify_open(&c->notify, fd, e) < 0)
					return sn_err_prefix(e, "seccomp user notification");
				c->notify_open = 1;
				if (listen_on(c, sup, e) < 0)
					return -1;
			}
			return 0;
		}
		c->mech = SN_MECH_PTRACE;
		sn_fmt(c->degraded, sizeof(c->degraded),
		       "seccomp filter refused (%s): only program executions are captured",
		       strerror(rep.err));
		return 0;
	}
	sn_fmt(ptrace_why, sizeof(ptrace_why), "ptrace: %s", strerror(errno));
	close(c->sock[1]);
	c->sock[1] = -1;
	if (!kernel_has_notify_continue()) {
		sn_fmt(seccomp_why, sizeof(seccomp_why),
		       "seccomp user notification: needs Linux 5.5 or later");
		if (send_byte(c, 'N', e) < 0 || recv_reply(c, &rep, &fd, e) < 0)
			return -1;
	} else {
		if (send_byte(c, 'U', e) < 0 || recv_reply(c, &rep, &fd, e) < 0)
			return -1;
		sn_fmt(seccomp_why, sizeof(seccomp_why), "seccomp user notification: %s",
		       strerror(rep.err ? rep.err : EBADF));
	}
	if (rep.err == 0 && fd >= 0) {
		if (sn_notify_open(&c->notify, fd, e) == 0) {
			c->notify_open = 1;
			if (listen_on(c, sup, e) < 0)
				return -1;
			c->mech = SN_MECH_NOTIFY;
			sn_fmt(c->degraded, sizeof(c->degraded),
			       "%s; using seccomp user notification: calls are observed, denial is "
			       "best effort and executions are judged before they happen",
			       ptrace_why);
			return 0;
		}
		/* A listener nobody reads would block the application: it
		 * must not run with it. */
		return sn_err_prefix(e, "seccomp user notification");
	}
	if (fd >= 0)
		close(fd);
	c->mech = SN_MECH_NONE;
	sn_fmt(c->degraded, sizeof(c->degraded), "no capture mechanism works (%s; %s)", ptrace_why,
	       seccomp_why);
	if (c->o.fail == SN_FAIL_CLOSED)
		return sn_err_set(e, "%s", c->degraded);
	return 0;
}

int sn_capture_release(struct sn_capture *c, struct sn_err *e)
{
	int r = send_byte(c, 'G', e);

	close(c->sock[0]);
	c->sock[0] = -1;
	return r;
}

const char *sn_capture_listener(const struct sn_capture *c)
{
	if (!c->notify_open)
		return "none";
	return c->mech == SN_MECH_NOTIFY ? "all" : "opens,execs";
}

enum sn_mechanism sn_capture_mechanism(const struct sn_capture *c)
{
	return c->mech;
}

const char *sn_mechanism_name(enum sn_mechanism m)
{
	switch (m) {
	case SN_MECH_PTRACE_SECCOMP:
		return "ptrace+seccomp";
	case SN_MECH_PTRACE:
		return "ptrace";
	case SN_MECH_NOTIFY:
		return "seccomp-notify";
	case SN_MECH_NONE:
		break;
	}
	return "none";
}

const char *sn_capture_degraded(const struct sn_capture *c)
{
	return c->degraded[0] ? c->degraded : NULL;
}

void sn_capture_finish(struct sn_capture *c)
{
	if (c)
		sn_cap_finish(c);
}

void sn_capture_free(struct sn_capture *c)
{
	if (!c)
		return;
	/* Hybrid: what is left of the application dies by PTRACE_O_EXITKILL
	 * when the sensor exits, but the kernel closes the listener first,
	 * and in between a watched call would fail with ENOSYS (a shell says
	 * so on stderr). Kill it before the listener goes. */
	if (c->notify_open && c->mech != SN_MECH_NOTIFY)
		sn_cap_kill_all(c);
	sn_cap_forget_all(c);
	if (c->sock[0] >= 0)
		close(c->sock[0]);
	if (c->sock[1] >= 0)
		close(c->sock[1]);
	/* The listener thread may be in a receive into c->notify's buffers,
	 * and waits for c->lock (held here) with whatever it received: c and
	 * the listener stay until the process exits, which is next. */
	if (c->listener)
		return;
	if (c->notify_open)
		sn_notify_close(&c->notify);
	free(c);
}
