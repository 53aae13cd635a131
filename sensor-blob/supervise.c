/* supervise.c - see supervise.h. */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* signalfd_siginfo records read per read() */
#define SIGBATCH 16

int sn_supervisor_init(struct sn_supervisor *s, const struct sn_supervisor_hooks *hooks,
		       struct sn_err *e)
{
	struct sigaction dfl;
	sigset_t all;

	memset(s, 0, sizeof(*s));
	s->sigfd = -1;
	s->execfd = -1;
	if (hooks)
		s->hooks = *hooks;
	s->self = getpid();
	s->pid1 = s->self == 1;

	/* sigfillset leaves out the libc's internal signals; SIGKILL and SIGSTOP
	 * cannot be blocked and are silently kept. */
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
		return sn_err_sys(e, "cannot block signals");

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (sigaction(SIGCHLD, &dfl, NULL) < 0)
		return sn_err_sys(e, "cannot reset SIGCHLD");

	/* Not fatal when refused (very old kernel, seccomp): orphans then go to
	 * the outer init, which reaps them too; the caller may warn. */
	if (!s->pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
		s->subreaper = 1;
	return 0;
}

void sn_supervisor_set_hooks(struct sn_supervisor *s, const struct sn_supervisor_hooks *hooks)
{
	if (hooks)
		s->hooks = *hooks;
	else
		memset(&s->hooks, 0, sizeof(s->hooks));
}

void sn_supervisor_set_lock(struct sn_supervisor *s, pthread_mutex_t *lock)
{
	s->lock = lock;
}

int sn_supervisor_watch_fd(struct sn_supervisor *s, int fd, sn_fd_cb cb, void *ctx,
			   struct sn_err *e)
{
	if (s->nwatch >= SN_SUPERVISOR_MAX_FDS)
		return sn_err_set(e, "too many watched descriptors (at most %d)",
				  SN_SUPERVISOR_MAX_FDS);
	s->watch[s->nwatch].fd = fd;
	s->watch[s->nwatch].cb = cb;
	s->watch[s->nwatch].ctx = ctx;
	s->nwatch++;
	return 0;
}

/* Give the child its own process group, and the terminal when the sensor's
 * group holds it. SIGTTOU is still blocked, so tcsetpgrp from what is now a
 * background group is allowed. Failures are harmless (no tty, no job control):
 * the application then simply shares the sensor's group. */
static void child_isolate(int foreground)
{
	if (setpgid(0, 0) < 0)
		return;
	if (foreground)
		tcsetpgrp(STDIN_FILENO, getpgrp());
}

/* Whether the terminal on stdin (if any, and if it is ours) has the sensor's
 * process group in the foreground. A sensor started in the background must
 * not hand the terminal to its child. */
static int own_terminal(void)
{
	pid_t fg = tcgetpgrp(STDIN_FILENO);

	return fg > 0 && fg == getpgrp();
}

/* libc refuses (EINVAL) to touch the signals it reserves for itself (musl:
 * 32-34, glibc: 32-33), but an ignored disposition of one of them, inherited
 * from whoever started the sensor, would survive the exec: reset it with the
 * system call itself. The kernel's struct sigaction, with sa_restorer, is the
 * same on x86_64 and aarch64. */
static void kernel_default_action(int sig)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long long mask;
	} ksa;

	memset(&ksa, 0, sizeof(ksa));
	ksa.handler = (void *)SIG_DFL;
	syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
}

/* The application must start with the signal state a fresh process has, not
 * the sensor's "everything blocked". */
static void child_reset_signals(void)
{
	struct sigaction dfl;
	sigset_t none;
	int sig;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, &dfl, NULL) < 0)
			kernel_default_action(sig);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child: never returns. */
static void child_run(struct sn_supervisor *s, char *const argv[], int report_fd)
{
	struct sn_exec_failure fail;
	int r;

	child_isolate(s->gave_tty);
	if (s->hooks.child_prepare && (r = s->hooks.child_prepare(s->hooks.ctx)) < 0) {
		memset(&fail, 0, sizeof(fail));
		fail.err = -r;
		fail.detail = SN_EXEC_PLAIN;
	} else {
		child_reset_signals();
		sn_exec_search(argv, &fail);
	}
	/* One write below PIPE_BUF is atomic: the parent reads all or nothing. */
	while (write(report_fd, &fail, sizeof(fail)) < 0 && errno == EINTR)
		;
	_exit(sn_exec_status(fail.err));
}

int sn_supervisor_spawn(struct sn_supervisor *s, char *const argv[], struct sn_err *e)
{
	int pipefd[2] = {-1, -1};
	sigset_t all;
	pid_t pid;

	if (!argv || !argv[0])
		return sn_err_set(e, "no command to run");
	sigfillset(&all);
	s->sigfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sigfd < 0)
		return sn_err_sys(e, "cannot create signalfd");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return sn_err_sys(e, "cannot create pipe");

	s->gave_tty = own_terminal();
	pid = fork();
	if (pid < 0) {
		sn_err_sys(e, "cannot start %s", argv[0]);
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		close(s->sigfd);
		child_run(s, argv, pipefd[1]);
	}
	close(pipefd[1]);
	/* Non-blocking: after the child is reaped the pipe is read once more to
	 * collect a failure report, and that read must never wait. */
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	s->execfd = pipefd[0];
	s->child = pid;

	if (s->hooks.child_started && s->hooks.child_started(s->hooks.ctx, pid, e) < 0) {
		kill(pid, SIGKILL);
		return -1;
	}
	return 0;
}

/* Read the child's exec report: a full record means the exec failed; EOF means
 * it succeeded (or the child died before trying). */
static void read_exec_report(struct sn_supervisor *s)
{
	struct sn_exec_failure fail;
	ssize_t n;

	if (s->execfd < 0)
		return;
	do
		n = read(s->execfd, &fail, sizeof(fail));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n == (ssize_t)sizeof(fail)) {
		fail.path[sizeof(fail.path) - 1] = '\0';
		s->exec = fail;
		s->exec_failed = 1;
	}
	close(s->execfd);
	s->execfd = -1;
}

static void reap(struct sn_supervisor *s)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return; /* 0: children left, none ended; ECHILD: none left */
		if (s->hooks.on_wait && s->hooks.on_wait(s->hooks.ctx, pid, status))
			continue;
		if (pid == s->child && (WIFEXITED(status) || WIFSIGNALED(status)) && !s->done) {
			s->status = status;
			s->done = 1;
		}
		/* Any other pid is an orphan re-parented to us: reaped, done. */
	}
}

static void handle_signal(struct sn_supervisor *s, const struct signalfd_siginfo *si, pid_t self)
{
	int sig = (int)si->ssi_signo;

	if (sig == SIGCHLD) {
		reap(s);
		return;
	}
	/* The kernel reports a SIGPIPE or SIGXFSZ caused by the sensor's own write
	 * as sent by the sensor itself; it is not the application's business. */
	if ((pid_t)si->ssi_pid == self && (si->ssi_code == SI_USER || si->ssi_code == SI_TKILL))
		return;
	if (s->child > 0 && !s->done)
		kill(s->child, sig); /* ESRCH: it just ended; SIGCHLD is on its way */
}

static int read_signals(struct sn_supervisor *s, struct sn_err *e)
{
	struct signalfd_siginfo si[SIGBATCH];

	for (;;) {
		ssize_t n = read(s->sigfd, si, sizeof(si));
		size_t i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return sn_err_sys(e, "cannot read signalfd");
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++)
			handle_signal(s, &si[i], s->self);
		/* A short batch emptied the queue; what comes later makes
		 * poll return again. Under a tracer every ptrace stop is a
		 * SIGCHLD, so the read saved here is one per stop. */
		if ((size_t)n < sizeof(si))
			return 0;
	}
}

int sn_supervisor_run(struct sn_supervisor *s, struct sn_err *e)
{
	struct pollfd pfd[2 + SN_SUPERVISOR_MAX_FDS];
	int i;

	if (s->child <= 0)
		return sn_err_set(e, "nothing to supervise: no child was started");
	/* The child may have ended before the signalfd existed to see SIGCHLD's
	 * arrival; reaping once up front costs nothing. */
	reap(s);
	while (!s->done) {
		int n = 0, execidx = -1, r;

		pfd[n].fd = s->sigfd;
		pfd[n++].events = POLLIN;
		if (s->execfd >= 0) {
			execidx = n;
			pfd[n].fd = s->execfd;
			pfd[n++].events = POLLIN;
		}
		for (i = 0; i < s->nwatch; i++) {
			pfd[n].fd = s->watch[i].fd;
			pfd[n++].events = POLLIN;
		}
		if (s->lock)
			pthread_mutex_unlock(s->lock);
		r = poll(pfd, (nfds_t)n, -1);
		if (s->lock)
			pthread_mutex_lock(s->lock);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return sn_err_sys(e, "poll");
		}
		if (execidx >= 0 && pfd[execidx].revents)
			read_exec_report(s);
		for (i = 0; i < s->nwatch; i++) {
			if (pfd[n - s->nwatch + i].revents &&
			    s->watch[i].cb(s->watch[i].ctx, s->watch[i].fd, e) < 0)
				return -1;
		}
		if (pfd[0].revents && read_signals(s, e) < 0)
			return -1;
	}
	read_exec_report(s);
	/* Take the terminal back from the ended child's group, or whoever runs
	 * next on it (the shell that started a non-PID-1 sensor) would find
	 * itself in the background. */
	if (s->gave_tty && tcgetpgrp(STDIN_FILENO) == s->child)
		tcsetpgrp(STDIN_FILENO, getpgrp());
	return 0;
}

int sn_supervisor_exit_status(const struct sn_supervisor *s)
{
	if (s->exec_failed)
		return sn_exec_status(s->exec.err);
	if (WIFEXITED(s->status))
		return WEXITSTATUS(s->status);
	if (WIFSIGNALED(s->status))
		return 128 + WTERMSIG(s->status);
	return 1;
}

void sn_supervisor_close(struct sn_supervisor *s)
{
	if (!s)
		return;
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->execfd >= 0)
		close(s->execfd);
	s->sigfd = -1;
	s->execfd = -1;
}
