/* trace.h - the sensor's capture engine: it watches what the application and
 * every process it starts do, reports it as events, learns it, and in
 * enforce mode stops what the policy forbids (DESIGN.md section 5).
 *
 * Mechanisms, chosen at start by trying them on the real child, best first:
 *   ptrace+seccomp  the sensor PTRACE_SEIZEs the child, then the child
 *                   installs the seccomp filter (seccomp.h) with
 *                   SECCOMP_RET_TRACE and execs the application. Forks,
 *                   vforks, clones and execs are followed through ptrace
 *                   events (every descendant is traced; PTRACE_O_EXITKILL
 *                   kills them if the sensor dies, so nothing runs on
 *                   unwatched). The filter stops only the calls that matter.
 *   ptrace          seccomp refused but ptrace works: only executions are
 *                   seen (ptrace exec events), with drift and exec policy.
 *   seccomp-notify  ptrace refused (a container seccomp profile): the filter
 *                   uses SECCOMP_RET_USER_NOTIF and the sensor answers each
 *                   call from its poll loop. Observation is complete for the
 *                   filtered calls; denial is best effort (the caller's
 *                   memory can change between the check and the call), and
 *                   an exec is judged before it happens, never after.
 *   none            passthrough: the application runs unwatched ("sensor
 *                   degraded"), or with fail closed does not start.
 * The order matters: ptrace is probed before any filter exists, because a
 * RET_TRACE filter without a tracer fails the filtered calls with ENOSYS.
 *
 * Installing a filter needs no_new_privs unless the sensor holds
 * CAP_SYS_ADMIN; without it the child sets PR_SET_NO_NEW_PRIVS, and so
 * setuid/setgid binaries in the image run without their privilege (as with
 * Docker's --security-opt no-new-privileges, which runc sets by default).
 *
 * Tracing keeps the application's behaviour: signals are re-injected as they
 * were sent, group-stops are held with PTRACE_LISTEN (SIGSTOP/SIGCONT work),
 * exit statuses are untouched. Known differences: the application cannot
 * ptrace its own children (they already have a tracer), clone3 fails with
 * ENOSYS (libcs fall back to clone) and CLONE_UNTRACED is ignored.
 *
 * Enforce mode: a denied call fails with EACCES. An exec is judged at its
 * seccomp stop (the resolved executable plus argv[0]'s applet name, and the
 * file's ctime against the sensor's start for drift), then re-checked at
 * the exec event: if the file that runs is not the one judged (a swap, or a
 * #! interpreter that is not the script's), it is judged again and the
 * process killed when that fails.
 *
 * Paths (decode.h) are the caller's: relative ones against its cwd or
 * dirfd, /proc/self as its own. A written file's fd.name is normalized
 * lexically when only monitoring; with a policy or in learn mode (and for
 * /proc/PID/... names) symlinks are resolved, so a link cannot lead a write
 * out of an allowed directory and learn names files as enforce checks them.
 * Socket local addresses need pidfd_getfd (Linux 5.6).
 *
 * Events (event.h, one line each; capture.c writes them):
 *   process executed, file opened for writing, outbound connection (connect,
 *   and sendto/sendmsg naming a destination; fd.name "local->peer"),
 *   listening socket (listen; bind of a datagram socket to a port), file made
 *   executable, memory file created, process tracing attempted, io_uring set
 *   up, namespace or mount change, drift detected, policy violation (with
 *   sensor.action allowed, denied or killed), process entered container
 *   (sn_capture_judge_entered), events dropped.
 * They are rate-limited per class - activity 100/s with bursts of 1000,
 * alerts (drift, violations) 50/s with bursts of 500 - and what a class
 * drops is counted in an "events dropped" event. Denials and learning never
 * depend on the rate limit.
 *
 * Learn mode records every exec (the program as invoked), listen, connect
 * and write in the profile (policy.h); main emits it.
 */
#ifndef INLAY_SENSOR_TRACE_H
#define INLAY_SENSOR_TRACE_H

#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "event.h"
#include "inventory.h"
#include "policy.h"
#include "sn_err.h"
#include "supervise.h"

enum sn_mechanism {
	SN_MECH_NONE,
	SN_MECH_PTRACE_SECCOMP,
	SN_MECH_PTRACE,
	SN_MECH_NOTIFY,
};

struct sn_capture_opts {
	enum sn_mode mode;
	enum sn_fail fail;
	const struct sn_policy *policy;	      /* NULL: allow everything; borrowed */
	struct sn_profile *profile;	      /* learn mode: where to record; borrowed */
	const struct sn_output *out;	      /* borrowed, must outlive the capture */
	struct timespec start;		      /* drift: files changed at or after this */
	const struct sn_inventory *inventory; /* the image's programs, or NULL; borrowed */
};

struct sn_capture;

/* Create a capture (and the channel to the child it will prepare). Before
 * sn_supervisor_spawn. *ret is owned by the caller: sn_capture_free. */
int sn_capture_new(const struct sn_capture_opts *o, struct sn_capture **ret, struct sn_err *e);

/* Hook for sn_supervisor_hooks.child_prepare (ctx: the capture). In the
 * child: waits for the parent's probe result, installs the filter it asks
 * for, hands a notification listener over, and waits for the go. */
int sn_capture_child_prepare(void *ctx);

/* In the parent once the child exists (from the child_started hook): probe
 * the mechanisms on it and set the child up. 0 with a mechanism chosen
 * (possibly none, with fail open); -1 with e saying why when nothing works
 * and fail is closed (the caller must not let the child run). `sup` is
 * used to watch a notification listener. The child still waits for
 * sn_capture_release. */
int sn_capture_attach(struct sn_capture *c, pid_t pid, struct sn_supervisor *sup, struct sn_err *e);

/* Let the child go on to exec the application. */
int sn_capture_release(struct sn_capture *c, struct sn_err *e);

/* Hook for sn_supervisor_hooks.on_wait (ctx: the capture): consumes ptrace
 * stops (returns 1) and lets exits through (returns 0). */
int sn_capture_on_wait(void *ctx, pid_t pid, int status);

/* The mechanism in use, its name for events ("ptrace+seccomp", "ptrace",
 * "seccomp-notify", "none"), and why the sensor is degraded (NULL when it
 * is not: ptrace+seccomp). */
enum sn_mechanism sn_capture_mechanism(const struct sn_capture *c);

/* Which calls stop on a seccomp listener rather than for the tracer:
 * "opens,execs" (the hybrid filter), "all" (notification alone) or
 * "none". */
const char *sn_capture_listener(const struct sn_capture *c);
const char *sn_mechanism_name(enum sn_mechanism m);
const char *sn_capture_degraded(const struct sn_capture *c);

/* A process that entered the container from outside the application's
 * tree (entered.h): report it and judge its program by the exec policy and
 * drift; in enforce mode SIGKILL it when they forbid it. Works whatever the
 * mechanism, none included. */
void sn_capture_judge_entered(struct sn_capture *c, pid_t pid);

/* Report what the rate limit dropped, if anything. At the end of a run. */
void sn_capture_finish(struct sn_capture *c);

/* Free the capture and close its descriptors. Accepts NULL. With a
 * hybrid filter, first SIGKILL what is left of the application's traced
 * processes (PTRACE_O_EXITKILL would, but only after the kernel closed the
 * listener: see trace.c). Call it once the application is done. */
void sn_capture_free(struct sn_capture *c);

#endif
