/* main.c - the in-container sensor's entry point (DESIGN.md section 5).
 *
 *   /.inlay/sensor [--config PATH] [--] ARGV...
 *   /.inlay/sensor --version
 *
 * inlay rewrites an image's entrypoint to ["/.inlay/sensor", "--", ...], so
 * the sensor starts first, supervises ARGV as PID 1 (supervise.h) and exits
 * with ARGV's status. This first stage captures nothing ("sensor.mechanism":
 * "none"); it reads the config, reports "sensor started" and "application
 * exited" events, and is a correct init. Capture and policy plug in between
 * sn_supervisor_init and sn_supervisor_spawn (hooks) in a later stage; that
 * stage also makes fail "closed" refuse when no capture mechanism works - today
 * fail only decides what a broken config or output does.
 *
 * Exit status: ARGV's own, or 128+N when signal N killed it; 127 when ARGV
 * was not found, 126 when it was found but could not be executed. 125 when
 * the sensor itself fails before ARGV runs (bad usage, a refused config), the
 * status env(1), nohup(1) and docker use for "the wrapper failed".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "exec.h"
#include "sn_err.h"
#include "supervise.h"

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

static void event_started(const struct sn_config *cfg, const struct sn_supervisor *sup,
			  const struct sn_output *out, const char *cmdline)
{
	static const char *const tags[] = {"inlay", "sensor", NULL};
	static struct sn_event ev; /* 16 KiB: off the stack of PID 1 */
	char spec[PATH_MAX + 8];

	output_spec_text(&cfg->output, spec, sizeof(spec));
	sn_event_begin(&ev, "sensor started", SN_PRI_INFORMATIONAL, tags,
		       "Sensor started (version=%s mode=%s fail=%s mechanism=none pid=%d "
		       "command=%.1024s)",
		       SENSOR_VERSION, sn_mode_name(cfg->mode), sn_fail_name(cfg->fail),
		       (int)getpid(), cmdline);
	sn_event_str(&ev, "evt.type", "sensor");
	sn_event_int(&ev, "proc.pid", getpid());
	sn_event_int(&ev, "proc.ppid", getppid());
	sn_event_int(&ev, "user.uid", getuid());
	sn_event_str(&ev, "sensor.version", SENSOR_VERSION);
	sn_event_str(&ev, "sensor.mode", sn_mode_name(cfg->mode));
	sn_event_str(&ev, "sensor.fail", sn_fail_name(cfg->fail));
	sn_event_str(&ev, "sensor.mechanism", "none");
	sn_event_str(&ev, "sensor.reaper",
		     sup->pid1	      ? "pid1"
		     : sup->subreaper ? "subreaper"
				      : "none");
	sn_event_str(&ev, "sensor.config", cfg->source ? cfg->source : "defaults");
	sn_event_str(&ev, "sensor.policy", cfg->policy ? "present" : "none");
	sn_event_str(&ev, "sensor.output", spec);
	sn_event_str(&ev, "sensor.command", cmdline);
	emit(&ev, out);
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
	const char *config_path = SN_CONFIG_PATH;
	struct sn_output out = {.fd = -1};
	struct sn_supervisor sup;
	struct sn_config cfg;
	char reason[1024];
	char **app = NULL;
	struct sn_err e;
	int config_required = 0, status = EXIT_SENSOR, i;

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
	event_started(&cfg, &sup, &out, cmdline);

	if (sn_supervisor_spawn(&sup, app, &e) < 0 || sn_supervisor_run(&sup, &e) < 0) {
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
	event_exited(&sup, &out, app, cmdline, status, reason);
out:
	sn_supervisor_close(&sup);
	sn_output_close(&out);
	sn_config_free(&cfg);
	return status;
}
