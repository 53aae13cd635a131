/* supervise.h - the sensor's PID-1 duties (DESIGN.md section 5): start the
 * application, forward signals to it, reap every zombie, and learn how the
 * application ended.
 *
 *  - Every catchable signal is blocked in the sensor from sn_supervisor_init()
 *    on and read from a signalfd. Blocking (not handling) is what makes PID 1
 *    work: the kernel drops a signal sent to PID 1 that has no handler, but a
 *    blocked one stays pending and is read here.
 *  - Each signal except SIGCHLD is forwarded with kill() to the main child's
 *    pid; SIGCHLD reaps with waitpid(-1, WNOHANG | __WALL) until nothing is
 *    left, so orphans re-parented to the sensor never stay zombies. Signals the
 *    sensor raised on itself (SIGPIPE from writing an event into a closed pipe)
 *    are not forwarded.
 *  - Not PID 1: PR_SET_CHILD_SUBREAPER, so orphans come to the sensor, not to
 *    an init outside its view.
 *  - The child gets a fresh process group and, when the sensor's group owns the
 *    terminal on stdin, the terminal's foreground (as tini does), so Ctrl-C
 *    reaches the application once, not once from the terminal and once
 *    forwarded. Its signal mask is emptied and every disposition reset to
 *    SIG_DFL before exec. stdio, environment, cwd, user and rlimits are
 *    inherited untouched.
 *  - An exec failure travels back over a CLOEXEC pipe (EOF = exec succeeded),
 *    so the sensor knows 126 from 127 and why.
 *
 * Capture plugs in through struct sn_supervisor_hooks (trace.h: the ptrace
 * tracer prepares the child in child_prepare, probes it in child_started and
 * consumes its stops in on_wait) and sn_supervisor_watch_fd (a seccomp
 * notification listener, the learn-mode timer), without a second loop. Under
 * a tracer every ptrace stop arrives as a SIGCHLD, so the loop is also the
 * tracer's.
 */
#ifndef INLAY_SENSOR_SUPERVISE_H
#define INLAY_SENSOR_SUPERVISE_H

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include "exec.h"
#include "sn_err.h"

#define SN_SUPERVISOR_MAX_FDS 4

/* Extension points. Every member may be NULL. */
struct sn_supervisor_hooks {
	void *ctx; /* passed to every hook, owned by the caller */

	/* In the child after fork(), with all signals still blocked and before the
	 * signal state is reset and argv executed. Must be async-signal-safe.
	 * Return 0, or a negative errno to abort the start: the parent reports it
	 * as an exec failure (exit 126). */
	int (*child_prepare)(void *ctx);

	/* In the parent right after fork() with the child's pid. Return 0, or -1
	 * with e filled: the child is then killed (SIGKILL) and
	 * sn_supervisor_spawn fails. */
	int (*child_started)(void *ctx, pid_t pid, struct sn_err *e);

	/* For every status waitpid(-1, __WALL) reports, before the supervisor
	 * looks at it. Return 1 when the hook consumed it (a ptrace stop it has
	 * resumed), 0 to let the supervisor treat it as an exit. */
	int (*on_wait)(void *ctx, pid_t pid, int status);
};

/* Called when a watched fd is readable. Return 0, or -1 with e filled to end
 * sn_supervisor_run with that error. */
typedef int (*sn_fd_cb)(void *ctx, int fd, struct sn_err *e);

struct sn_supervisor {
	/* Results, read-only for callers. */
	int pid1;	 /* 1 when the sensor runs as PID 1 of its namespace */
	int subreaper;	 /* 1 when PR_SET_CHILD_SUBREAPER is in effect */
	pid_t child;	 /* the application's pid, 0 before sn_supervisor_spawn */
	int done;	 /* 1 once the application has exited or been killed */
	int status;	 /* its raw wait status, when done */
	int exec_failed; /* 1 when argv could not be executed; see exec */
	struct sn_exec_failure exec;

	/* private */
	struct sn_supervisor_hooks hooks;
	pid_t self;
	int sigfd;
	int execfd;
	int gave_tty; /* the child was given the terminal's foreground */
	pthread_mutex_t *lock; /* see sn_supervisor_set_lock; may be NULL */
	int nwatch;
	struct {
		int fd;
		sn_fd_cb cb;
		void *ctx;
	} watch[SN_SUPERVISOR_MAX_FDS];
};

/* Become a supervisor: block every catchable signal (they queue from now on,
 * to be forwarded once the child runs), set SIGCHLD to SIG_DFL (an inherited
 * SIG_IGN would make the kernel reap children behind our back) and, when not
 * PID 1, become a child subreaper (when refused, s->subreaper stays 0 and the
 * call still succeeds: the caller may warn). Opens no descriptor, so it can run before the
 * caller validates descriptors it was given (output fd:N). `hooks` is copied;
 * NULL means none. */
int sn_supervisor_init(struct sn_supervisor *s, const struct sn_supervisor_hooks *hooks,
		       struct sn_err *e);

/* Replace the hooks (copied; NULL means none). For callers that can only
 * build them after sn_supervisor_init (it runs first, to block signals
 * early); before sn_supervisor_spawn. */
void sn_supervisor_set_hooks(struct sn_supervisor *s, const struct sn_supervisor_hooks *hooks);

/* A lock the caller holds, released by sn_supervisor_run only while it
 * waits for something to happen (and taken back before it handles it):
 * another thread that shares the hooks' state takes it meanwhile. */
void sn_supervisor_set_lock(struct sn_supervisor *s, pthread_mutex_t *lock);

/* Watch `fd` in the run loop; cb is called when it is readable. The caller
 * keeps ownership of fd. At most SN_SUPERVISOR_MAX_FDS. */
int sn_supervisor_watch_fd(struct sn_supervisor *s, int fd, sn_fd_cb cb, void *ctx,
			   struct sn_err *e);

/* Start argv (argv[0] looked up like a shell does, see exec.h) as the main
 * child. Returns 0 once the child exists, even if its exec will fail: that is
 * learnt in sn_supervisor_run. -1 when the child could not be created. argv
 * must stay valid until the call returns. */
int sn_supervisor_spawn(struct sn_supervisor *s, char *const argv[], struct sn_err *e);

/* Forward signals and reap until the main child has ended (s->done). Returns
 * 0 then; -1 with e filled when the loop itself broke (the child may still
 * run). */
int sn_supervisor_run(struct sn_supervisor *s, struct sn_err *e);

/* The status the sensor exits with: 126/127 when the exec failed, the child's
 * exit code, or 128+signal when it was killed. Only meaningful when s->done. */
int sn_supervisor_exit_status(const struct sn_supervisor *s);

/* Close the supervisor's descriptors. Signals stay blocked: the sensor is about
 * to exit. Accepts NULL. */
void sn_supervisor_close(struct sn_supervisor *s);

#endif
