/* main.c - the in-container sensor's entry point (DESIGN.md section 5).
 *
 *   /.inlay/sensor [--config PATH] [--] ARGV...
 *   /.inlay/sensor --version
 *
 * inlay rewrites an image's entrypoint to ["/.inlay/sensor", "--", ...], so
 * the sensor starts first, supervises ARGV as PID 1 (supervise.h) and exits
 * with ARGV's status. It reads the config and the policy, sets up capture
 * (trace.h) on the child through the supervisor's hooks, and reports
 * "sensor started" (with the capture mechanism), "sensor degraded" when
 * capture is partial or absent, the captured activity, "sensor profile" in
 * learn mode, and "application exited". fail "closed" refuses to start ARGV
 * when the config, the output, the policy or every capture mechanism fails.
 *
 * Exit status: ARGV's own, or 128+N when signal N killed it; 127 when ARGV
 * was not found, 126 when it was found but could not be executed. 125 when
 * the sensor itself fails before ARGV runs (bad usage, a refused config), the
 * status env(1), nohup(1) and docker use for "the wrapper failed".
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "config.h"
#include "entered.h"
#include "event.h"
#include "exec.h"
#include "inventory.h"
#include "policy.h"
#include "seccomp.h"
#include "sn_err.h"
#include "supervise.h"
#include "trace.h"

#ifndef SENSOR_VERSION
#define SENSOR_VERSION "0.0.0"
#endif

#define EXIT_SENSOR 125
#define CMDLINE_MAX 8192

static const char usage_text[] =
    "usage: " SN_PROG " [--config PATH] [--] COMMAND [ARG...]\n"
    "       " SN_PROG " --version\n"
    "Runs COMMAND as a supervised child (signals forwarded, zombies reaped) and\n"
    "exits with its status. Config: " SN_CONFIG_PATH " (INLAY_MODE, INLAY_OUTPUT\n"
    "override it).\n";

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Copy s into out (size n) with control characters shown as '?', so a
 * hostile command name cannot drive the terminal through our diagnostics. */
static const char *printable(const char *s, char *out, size_t n)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
	return out;
}

/* Falco's proc.cmdline: the program's base name, then its arguments. */
static void make_cmdline(char *const argv[], char *out, size_t n)
{
	const char *base = strrchr(argv[0], '/');
	size_t o = 0, i;

	base = base ? base + 1 : argv[0];
	o = (size_t)snprintf(out, n, "%s", base);
	for (i = 1; argv[i] && o + 1 < n; i++)
		o += (size_t)snprintf(out + o, n - o, " %s", argv[i]);
}

static const char *signal_name(int sig, char *buf, size_t n)
{
	static const char *const names[] = {
	    [SIGHUP] = "SIGHUP",       [SIGINT] = "SIGINT",	  [SIGQUIT] = "SIGQUIT",
	    [SIGILL] = "SIGILL",       [SIGTRAP] = "SIGTRAP",	  [SIGABRT] = "SIGABRT",
	    [SIGBUS] = "SIGBUS",       [SIGFPE] = "SIGFPE",	  [SIGKILL] = "SIGKILL",
	    [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV",	  [SIGUSR2] = "SIGUSR2",
	    [SIGPIPE] = "SIGPIPE",     [SIGALRM] = "SIGALRM",	  [SIGTERM] = "SIGTERM",
	    [SIGSTKFLT] = "SIGSTKFLT", [SIGCHLD] = "SIGCHLD",	  [SIGCONT] = "SIGCONT",
	    [SIGSTOP] = "SIGSTOP",     [SIGTSTP] = "SIGTSTP",	  [SIGTTIN] = "SIGTTIN",
	    [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",	  [SIGXCPU] = "SIGXCPU",
	    [SIGXFSZ] = "SIGXFSZ",     [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF",
	    [SIGWINCH] = "SIGWINCH",   [SIGIO] = "SIGIO",	  [SIGPWR] = "SIGPWR",
	    [SIGSYS] = "SIGSYS",
	};

	if (sig > 0 && (size_t)sig < sizeof(names) / sizeof(names[0]) && names[sig])
		return names[sig];
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, n, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, n, "signal %d", sig);
	return buf;
}

/* The reason part of "cannot execute 'X': REASON". */
static void exec_reason(const struct sn_exec_failure *f, const char *name, char *out, size_t n)
{
	char path[sizeof(f->path)];
	const char *env_path = getenv("PATH");

	printable(f->path, path, sizeof(path));
	switch (f->detail) {
	case SN_EXEC_NOT_IN_PATH:
		sn_fmt(out, n, "not found in PATH (%.300s)",
		       env_path ? env_path : SN_EXEC_DEFAULT_PATH);
		return;
	case SN_EXEC_NO_INTERPRETER:
		sn_fmt(out, n, "%s (%s exists: its #! interpreter or ELF loader is missing)",
		       strerror(f->err), path);
		return;
	case SN_EXEC_IS_DIRECTORY:
		sn_fmt(out, n, "%s is a directory", path);
		return;
	}
	if (f->err == ENOEXEC)
		sn_fmt(out, n, "%s (%s is not a program for this platform, or a script without #!)",
		       strerror(f->err), path);
	else if (path[0] && strcmp(path, name) != 0)
		sn_fmt(out, n, "%s (%s)", strerror(f->err), path);
	else
		sn_fmt(out, n, "%s", strerror(f->err));
}

static void output_spec_text(const struct sn_output_spec *o, char *out, size_t n)
{
	if (o->kind == SN_OUTPUT_FILE)
		snprintf(out, n, "file:%s", o->path);
	else if (o->kind == SN_OUTPUT_FD)
		snprintf(out, n, "fd:%d", o->fd);
	else
		snprintf(out, n, "stderr");
}

static void emit(struct sn_event *ev, const struct sn_output *out)
{
	struct sn_err e;

	/* An event that cannot be written is lost, never fatal: the application
	 * matters more than the sensor's log. */
	if (sn_event_emit(ev, out, &e) < 0 && out->fd != STDERR_FILENO)
		sn_msg("event dropped: %s", e.msg);
}

/* What main knows while the supervisor runs its hooks. */
struct app {
	const struct sn_config *cfg;
	struct sn_supervisor *sup;
	const struct sn_output *out;
	const char *cmdline;
	struct sn_capture *cap;		/* NULL when capture could not even be set up */
	char cap_error[SN_ERR_MSG_MAX]; /* why not, then */
	struct sn_profile *profile;
	struct sn_inventory *inventory; /* NULL: drift by file times only */
	int refused;			/* fail closed and no capture: the child was not let go */
	struct sn_entered *entered;	/* PID 1 only: processes from outside */
	int entered_full;		/* its table overflowed (warned once) */
};

static const char *kernel_release(void)
{
	static struct utsname u;

	return uname(&u) == 0 ? u.release : "unknown";
}

/* The instant from which a program's file counts as changed (drift by file
 * times). File timestamps come from the coarse clock, which moves in ticks
 * (4 ms at HZ=250): a file the application writes in the very tick the
 * sensor started in carries that tick's time, so "newer than the start" would
 * miss it, and "not older" would take in what runc wrote just before us.
 * Waiting here until the tick after the one read at start-up (t) separates
 * the two: everything before the sensor ran is older than the new tick,
 * everything the application writes is not. Costs at most one tick, less the
 * set-up time already spent; bounded in case the clock is stepped back. */
static void drift_epoch(struct timespec *t)
{
	struct timespec now, nap = {0, 200 * 1000};
	int i;

	for (i = 0; i < 100; i++) {
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
		if (now.tv_sec != t->tv_sec || now.tv_nsec != t->tv_nsec)
			break;
		nanosleep(&nap, NULL);
	}
	*t = now;
}

static void event_started(const struct app *a, const char *mechanism)
{
	static const char *const tags[] = {"inlay", "sensor", NULL};
	static struct sn_event ev; /* 16 KiB: off the stack of PID 1 */
	const struct sn_config *cfg = a->cfg;
	const struct sn_supervisor *sup = a->sup;
	char spec[PATH_MAX + 8], caps[32], inventory[32];

	output_spec_text(&cfg->output, spec, sizeof(spec));
	snprintf(caps, sizeof(caps), "0x%016llx", (unsigned long long)sn_effective_caps());
	sn_event_begin(&ev, "sensor started", SN_PRI_INFORMATIONAL, tags,
		       "Sensor started (version=%s mode=%s fail=%s mechanism=%s kernel=%s "
		       "capabilities=%s pid=%d command=%.1024s)",
		       SENSOR_VERSION, sn_mode_name(cfg->mode), sn_fail_name(cfg->fail), mechanism,
		       kernel_release(), caps, (int)getpid(), a->cmdline);
	sn_event_str(&ev, "evt.type", "sensor");
	sn_event_int(&ev, "proc.pid", getpid());
	sn_event_int(&ev, "proc.ppid", getppid());
	sn_event_int(&ev, "user.uid", getuid());
	sn_event_str(&ev, "sensor.version", SENSOR_VERSION);
	sn_event_str(&ev, "sensor.mode", sn_mode_name(cfg->mode));
	sn_event_str(&ev, "sensor.fail", sn_fail_name(cfg->fail));
	sn_event_str(&ev, "sensor.mechanism", mechanism);
	sn_event_str(&ev, "sensor.listener", a->cap ? sn_capture_listener(a->cap) : "none");
	sn_event_str(&ev, "sensor.arch", SN_ARCH_NAME);
	sn_event_str(&ev, "sensor.kernel", kernel_release());
	sn_event_str(&ev, "sensor.capabilities", caps);
	sn_event_str(&ev, "sensor.reaper",
		     sup->pid1	      ? "pid1"
		     : sup->subreaper ? "subreaper"
				      : "none");
	sn_event_str(&ev, "sensor.config", cfg->source ? cfg->source : "defaults");
	sn_event_str(&ev, "sensor.policy", cfg->policy ? "present" : "none");
	if (a->inventory)
		sn_fmt(inventory, sizeof(inventory), "%zu programs",
		       sn_inventory_count(a->inventory));
	sn_event_str(&ev, "sensor.inventory", a->inventory ? inventory : "none");
	sn_event_str(&ev, "sensor.output", spec);
	sn_event_str(&ev, "sensor.command", a->cmdline);
	emit(&ev, a->out);
}

/* "sensor degraded": capture is partial (ptrace without seccomp, seccomp
 * notification) or absent; action says what the sensor does about it. */
static void event_degraded(const struct app *a, const char *mechanism, const char *reason,
			   const char *action)
{
	static const char *const tags[] = {"inlay", "sensor", NULL};
	static struct sn_event ev;

	sn_event_begin(&ev, "sensor degraded", SN_PRI_WARNING, tags,
		       "Sensor degraded (mechanism=%s action=%s fail=%s reason=%.1024s)", mechanism,
		       action, sn_fail_name(a->cfg->fail), reason);
	sn_event_str(&ev, "evt.type", "sensor");
	sn_event_int(&ev, "proc.pid", getpid());
	sn_event_str(&ev, "sensor.mechanism", mechanism);
	sn_event_str(&ev, "sensor.reason", reason);
	sn_event_str(&ev, "sensor.action", action);
	sn_event_str(&ev, "sensor.fail", sn_fail_name(a->cfg->fail));
	sn_event_str(&ev, "sensor.kernel", kernel_release());
	emit(&ev, a->out);
}

/* --- supervisor hooks: capture set-up on the child ------------------------- */

static int hook_child_prepare(void *ctx)
{
	struct app *a = ctx;

	return a->cap ? sn_capture_child_prepare(a->cap) : 0;
}

static int hook_child_started(void *ctx, pid_t pid, struct sn_err *e)
{
	struct app *a = ctx;
	enum sn_mechanism m = SN_MECH_NONE;
	const char *reason = a->cap_error, *mech;

	if (a->cap) {
		if (sn_capture_attach(a->cap, pid, a->sup, e) < 0) {
			m = sn_capture_mechanism(a->cap);
			if (m == SN_MECH_NONE && a->cfg->fail == SN_FAIL_CLOSED) {
				a->refused = 1;
				event_degraded(a, "none", e->msg,
					       "refused to start the application");
			}
			return -1;
		}
		m = sn_capture_mechanism(a->cap);
		reason = sn_capture_degraded(a->cap);
	} else if (a->cfg->fail == SN_FAIL_CLOSED) {
		a->refused = 1;
		event_degraded(a, "none", reason, "refused to start the application");
		return sn_err_set(e, "%s", reason);
	}
	mech = sn_mechanism_name(m);
	event_started(a, mech);
	if (reason && reason[0])
		event_degraded(a, mech, reason,
			       m == SN_MECH_NONE ? "running the application unmonitored"
						 : "running the application with partial capture");
	if (a->cap && sn_capture_release(a->cap, e) < 0)
		return -1;
	return 0;
}

static int hook_on_wait(void *ctx, pid_t pid, int status)
{
	struct app *a = ctx;

	return a->cap ? sn_capture_on_wait(a->cap, pid, status) : 0;
}

static void emit_profile(const struct app *a)
{
	struct sn_err e;

	if (a->profile && sn_profile_emit(a->profile, a->out, &e) < 0 &&
	    a->out->fd != STDERR_FILENO)
		sn_msg("profile event dropped: %s", e.msg);
}

/* learn_interval: the profile so far, every N seconds. */
static int on_learn_timer(void *ctx, int fd, struct sn_err *e)
{
	uint64_t ticks;

	(void)e;
	if (read(fd, &ticks, sizeof(ticks)) > 0)
		emit_profile(ctx);
	return 0;
}

/* A timer every ms milliseconds on the supervisor's poll loop, calling cb.
 * Returns its descriptor (the caller closes it), or -1. */
static int start_timer(struct sn_supervisor *sup, long ms, sn_fd_cb cb, void *ctx,
		       const char *what, struct sn_err *e)
{
	struct itimerspec its;
	int fd;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = its.it_interval.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = its.it_interval.tv_nsec = (ms % 1000) * 1000000L;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return sn_err_sys(e, "%s timer", what);
	if (timerfd_settime(fd, 0, &its, NULL) < 0 ||
	    sn_supervisor_watch_fd(sup, fd, cb, ctx, e) < 0) {
		sn_err_sys(e, "%s timer", what);
		close(fd);
		return -1;
	}
	return fd;
}

static void on_entered(void *ctx, pid_t pid)
{
	struct app *a = ctx;

	sn_capture_judge_entered(a->cap, pid);
}

/* Every SN_ENTERED_SCAN_MS: processes that entered from outside. */
static int on_entered_timer(void *ctx, int fd, struct sn_err *e)
{
	struct app *a = ctx;
	uint64_t ticks;

	(void)e;
	if (read(fd, &ticks, sizeof(ticks)) <= 0)
		return 0;
	sn_entered_scan(a->entered, getpid(), on_entered, a);
	if (sn_entered_overflowed(a->entered) && !a->entered_full) {
		a->entered_full = 1;
		sn_msg("warning: more than %d processes; new ones are no longer checked for "
		       "having entered from outside",
		       SN_ENTERED_MAX);
	}
	return 0;
}

static void event_exited(const struct sn_supervisor *sup, const struct sn_output *out,
			 char *const app[], const char *cmdline, int status, const char *reason)
{
	static const char *const tags[] = {"inlay", "process", NULL};
	static struct sn_event ev;
	int sig = 0, core = 0;
	char signame[32];

	if (sup->exec_failed) {
		sn_event_begin(&ev, "application exited", SN_PRI_ERROR, tags,
			       "Application could not be executed (status=%d error=%.300s "
			       "cmdline=%.1024s)",
			       status, reason, cmdline);
	} else if (WIFSIGNALED(sup->status)) {
		sig = WTERMSIG(sup->status);
		core = WCOREDUMP(sup->status) ? 1 : 0;
		sn_event_begin(&ev, "application exited", SN_PRI_INFORMATIONAL, tags,
			       "Application killed by %s (status=%d pid=%d cmdline=%.1024s)",
			       signal_name(sig, signame, sizeof(signame)), status, (int)sup->child,
			       cmdline);
	} else {
		sn_event_begin(&ev, "application exited", SN_PRI_INFORMATIONAL, tags,
			       "Application exited (status=%d pid=%d cmdline=%.1024s)", status,
			       (int)sup->child, cmdline);
	}
	sn_event_str(&ev, "evt.type", "procexit");
	sn_event_int(&ev, "proc.pid", sup->child);
	sn_event_int(&ev, "proc.ppid", getpid());
	sn_event_str(&ev, "proc.exe", app[0]);
	sn_event_str(&ev, "proc.cmdline", cmdline);
	sn_event_int(&ev, "evt.arg.status", status);
	sn_event_int(&ev, "evt.arg.sig", sig);
	sn_event_int(&ev, "evt.arg.core", core);
	if (sup->exec_failed)
		sn_event_str(&ev, "evt.arg.error", reason);
	emit(&ev, out);
}

/* A config or output problem: fail open warns and goes on with `fallback`,
 * fail closed refuses to start the application. Returns 0 to go on. */
static int config_problem(const struct sn_config *cfg, const struct sn_err *e, const char *fallback)
{
	if (cfg->fail == SN_FAIL_CLOSED) {
		sn_msg("%s; refusing to start the application (fail is closed)", e->msg);
		return -1;
	}
	sn_msg("warning: %s; continuing with %s (fail is open)", e->msg, fallback);
	return 0;
}

int main(int argc, char *argv[])
{
	static char cmdline[CMDLINE_MAX]; /* static: PID 1's stack stays small */
	static struct app ap;
	const char *config_path = SN_CONFIG_PATH;
	struct sn_output out = {.fd = -1};
	struct sn_supervisor_hooks hooks;
	struct sn_capture_opts copts;
	struct sn_policy *policy = NULL;
	struct sn_supervisor sup;
	struct sn_config cfg;
	struct timespec start;
	char reason[1024];
	char **app = NULL;
	struct sn_err e;
	int config_required = 0, status = EXIT_SENSOR, timerfd = -1, scanfd = -1, i;

	/* Drift is "changed after the container started": see drift_epoch. */
	clock_gettime(CLOCK_REALTIME_COARSE, &start);

	sn_config_defaults(&cfg);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			app = argv + i + 1;
			break;
		}
		if (strcmp(a, "--version") == 0) {
			write_all(STDOUT_FILENO, SN_PROG " " SENSOR_VERSION "\n",
				  sizeof(SN_PROG " " SENSOR_VERSION "\n") - 1);
			return 0;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			write_all(STDOUT_FILENO, usage_text, sizeof(usage_text) - 1);
			return 0;
		}
		if (strcmp(a, "--config") == 0) {
			if (i + 1 >= argc) {
				sn_msg("--config needs a PATH");
				return EXIT_SENSOR;
			}
			config_path = argv[++i];
			config_required = 1;
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0) {
			config_path = a + 9;
			config_required = 1;
			continue;
		}
		if (a[0] == '-') {
			sn_msg("unknown option '%.100s' (put the command after --)", a);
			write_all(STDERR_FILENO, usage_text, sizeof(usage_text) - 1);
			return EXIT_SENSOR;
		}
		/* Like tini: the first word that is not an option starts the command. */
		app = argv + i;
		break;
	}
	if (!app || !app[0]) {
		sn_msg("no command to run (the image has no entrypoint or cmd?)");
		write_all(STDERR_FILENO, usage_text, sizeof(usage_text) - 1);
		return EXIT_SENSOR;
	}

	/* First of all: from here on no signal is lost, even one that arrives
	 * while the config is read; it is forwarded once the child runs. */
	if (sn_supervisor_init(&sup, NULL, &e) < 0) {
		sn_msg("%s", e.msg);
		return EXIT_SENSOR;
	}
	if (!sup.pid1 && !sup.subreaper)
		sn_msg("warning: cannot become a child subreaper; orphaned processes will be "
		       "reaped by the outer init");

	if (sn_config_load(&cfg, config_path, config_required, &e) < 0 &&
	    config_problem(&cfg, &e, "the defaults") < 0)
		goto out;
	if (sn_config_apply_env(&cfg, &e) < 0 &&
	    config_problem(&cfg, &e, "the config file's settings") < 0)
		goto out;
	/* Before the supervisor opens its own descriptors, so fd:N can only name
	 * a descriptor the sensor was given. */
	if (sn_output_open(&out, &cfg.output, &e) < 0) {
		if (config_problem(&cfg, &e, "events on stderr") < 0)
			goto out;
		cfg.output.kind = SN_OUTPUT_STDERR;
		out.fd = STDERR_FILENO;
		out.owned = 0;
	}

	make_cmdline(app, cmdline, sizeof(cmdline));
	ap.cfg = &cfg;
	ap.sup = &sup;
	ap.out = &out;
	ap.cmdline = cmdline;
	if (cfg.policy && sn_policy_new(cfg.policy, &policy, &e) < 0) {
		sn_err_prefix(&e, "policy in %s", cfg.source ? cfg.source : "the config");
		if (config_problem(&cfg, &e, "no policy") < 0)
			goto out;
		policy = NULL;
	}
	if (cfg.inventory && sn_inventory_open(cfg.inventory, &ap.inventory, &e) < 0) {
		if (config_problem(&cfg, &e, "drift by file times only") < 0)
			goto out;
		ap.inventory = NULL;
	}
	if (cfg.mode == SN_MODE_LEARN && !(ap.profile = sn_profile_new()))
		sn_msg("warning: no memory for the learn profile; learning nothing");

	memset(&copts, 0, sizeof(copts));
	copts.mode = cfg.mode;
	copts.fail = cfg.fail;
	copts.policy = policy;
	copts.profile = ap.profile;
	copts.out = &out;
	drift_epoch(&start);
	copts.start = start;
	copts.inventory = ap.inventory;
	if (sn_capture_new(&copts, &ap.cap, &e) < 0) {
		ap.cap = NULL;
		sn_fmt(ap.cap_error, sizeof(ap.cap_error), "capture set-up failed: %s", e.msg);
	}
	memset(&hooks, 0, sizeof(hooks));
	hooks.ctx = &ap;
	hooks.child_prepare = hook_child_prepare;
	hooks.child_started = hook_child_started;
	hooks.on_wait = hook_on_wait;
	sn_supervisor_set_hooks(&sup, &hooks);
	if (ap.profile && cfg.learn_interval > 0 &&
	    (timerfd = start_timer(&sup, (long)cfg.learn_interval * 1000, on_learn_timer, &ap,
				   "learn_interval", &e)) < 0)
		sn_msg("warning: %s; the profile is reported at exit only", e.msg);
	/* Only PID 1 can tell: see entered.h. */
	if (ap.cap && getpid() == 1 && (ap.entered = sn_entered_new("/proc")) &&
	    (scanfd = start_timer(&sup, SN_ENTERED_SCAN_MS, on_entered_timer, &ap, "process scan",
				  &e)) < 0)
		sn_msg("warning: %s; processes entering from outside go unseen", e.msg);

	if (sn_supervisor_spawn(&sup, app, &e) < 0) {
		if (ap.refused)
			sn_msg("%s; refusing to start the application (fail is closed)", e.msg);
		else
			sn_msg("%s", e.msg);
		goto out;
	}
	if (sn_supervisor_run(&sup, &e) < 0) {
		sn_msg("%s", e.msg);
		goto out;
	}
	status = sn_supervisor_exit_status(&sup);
	reason[0] = '\0';
	if (sup.exec_failed) {
		char name[512];

		printable(app[0], name, sizeof(name));
		exec_reason(&sup.exec, app[0], reason, sizeof(reason));
		sn_msg("cannot execute '%s': %s", name, reason);
	}
	emit_profile(&ap);
	sn_capture_finish(ap.cap);
	event_exited(&sup, &out, app, cmdline, status, reason);
out:
	if (timerfd >= 0)
		close(timerfd);
	if (scanfd >= 0)
		close(scanfd);
	sn_entered_free(ap.entered);
	sn_capture_free(ap.cap);
	sn_profile_free(ap.profile);
	sn_inventory_free(ap.inventory);
	sn_policy_free(policy);
	sn_supervisor_close(&sup);
	sn_output_close(&out);
	sn_config_free(&cfg);
	return status;
}
