/* main.c - the inlay command: dispatch to one subcommand, print its error,
 * exit with its class. The only place that prints diagnostics. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../layers/hash.h"
#include "cli.h"
#include "../rewriter/sensors.h"

int cmd_copy(int argc, char **argv, struct err *e);
int cmd_inspect(int argc, char **argv, struct err *e);
int cmd_instrument(int argc, char **argv, struct err *e);
int cmd_keygen(int argc, char **argv, struct err *e);
int cmd_sign(int argc, char **argv, struct err *e);
int cmd_verify(int argc, char **argv, struct err *e);
int cmd_policy(int argc, char **argv, struct err *e);
int cmd_serve(int argc, char **argv, struct err *e);
int cmd_rewrite(int argc, char **argv, struct err *e);
int cmd_sync(int argc, char **argv, struct err *e);
extern const char rw_copy_usage[], rw_inspect_usage[], rw_instrument_usage[];
extern const char rw_keygen_usage[], rw_sign_usage[], rw_verify_usage[];
extern const char rw_policy_usage[], rw_serve_usage[], rw_rewrite_usage[], rw_sync_usage[];

static int cmd_version(int argc, char **argv, struct err *e);
static int cmd_help(int argc, char **argv, struct err *e);

static const char version_usage[] = "Usage: inlay version\n\n"
				    "Print inlay's version and each embedded sensor's version, "
				    "size and digest.\n";
static const char help_usage[] = "Usage: inlay help [COMMAND]\n";

const struct rw_command rw_commands[] = {
	{"copy", cmd_copy, "copy an image or index between registries and OCI layouts",
	 rw_copy_usage},
	{"inspect", cmd_inspect, "print a manifest, its config, or a summary", rw_inspect_usage},
	{"instrument", cmd_instrument, "add the sensor layer to an image and push the result",
	 rw_instrument_usage},
	{"verify", cmd_verify, "check an instrumented image's signatures", rw_verify_usage},
	{"sign", cmd_sign, "sign an image already in a registry (cosign-compatible)",
	 rw_sign_usage},
	{"keygen", cmd_keygen, "make a signing key pair", rw_keygen_usage},
	{"policy", cmd_policy, "check a sensor policy, or build one from what it learned",
	 rw_policy_usage},
	{"serve", cmd_serve, "run a registry mirror that serves instrumented images",
	 rw_serve_usage},
	{"rewrite", cmd_rewrite, "pin deployment specs to instrumented images, sensor first",
	 rw_rewrite_usage},
	{"sync", cmd_sync, "instrument whole repositories or registries, only what changed",
	 rw_sync_usage},
	{"version", cmd_version, "print versions of inlay and its sensors", version_usage},
	{"help", cmd_help, "describe a command", help_usage},
	{NULL, NULL, NULL, NULL},
};

const struct rw_command *rw_command_find(const char *name)
{
	const struct rw_command *c;

	for (c = rw_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void print_overview(FILE *f)
{
	const struct rw_command *c;

	fputs("Usage: inlay COMMAND [OPTIONS] ARGS\n\n"
	      "Instrument container images with a runtime-security sensor, over the registry "
	      "API.\n\nCommands:\n",
	      f);
	for (c = rw_commands; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fputs("\nRun 'inlay help COMMAND' for a command's options.\n", f);
}

static int cmd_help(int argc, char **argv, struct err *e)
{
	const struct rw_command *c;

	if (argc < 2) {
		print_overview(stdout);
		return 0;
	}
	c = rw_command_find(argv[1]);
	if (!c)
		return rw_usage_error(e, "help", "no command '%.60s'", argv[1]);
	fputs(c->usage, stdout);
	return 0;
}

static int cmd_version(int argc, char **argv, struct err *e)
{
	size_t i;

	(void)argv;
	if (argc > 1)
		return rw_usage_error(e, "version", "takes no arguments");
	printf("inlay %s\n", INLAY_VERSION);
	for (i = 0; i < rw_sensor_count(); i++) {
		const struct rw_sensor *s = rw_sensor_at(i);
		char digest[LY_DIGEST_MAX];

		ly_sha256_digest(s->data, s->len, digest);
		printf("sensor linux/%s %s %s %zu bytes\n", s->architecture, INLAY_VERSION, digest,
		       s->len);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct rw_command *c;
	struct err e;
	int rc;

	err_clear(&e);
	/* A registry closing a connection must be an error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_overview(argc < 2 ? stderr : stdout);
		return argc < 2 ? ERR_INPUT : 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		argv[1] = "version";
	c = rw_command_find(argv[1]);
	if (!c) {
		fprintf(stderr, "inlay: unknown command '%.60s' (see 'inlay help')\n", argv[1]);
		return ERR_INPUT;
	}
	if (rg_global_init(&e) < 0) {
		fprintf(stderr, "inlay: %s\n", e.msg);
		return ERR_OPERATIONAL;
	}
	opterr = 0; /* rw_bad_option reports bad options, once */
	rc = c->run(argc - 1, argv + 1, &e);
	fflush(stdout);
	rg_global_cleanup();
	if (rc < 0) {
		fprintf(stderr, "inlay %s: %s\n", c->name, e.msg[0] ? e.msg : "failed");
		return err_exit_status(&e);
	}
	return 0;
}
