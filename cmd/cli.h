/* cli.h - what every inlay subcommand shares: the command table, the
 * transport options (--ca-file, --creds, ...) and their parsing.
 *
 * A subcommand is `int cmd_NAME(int argc, char **argv, struct err *e)`: it
 * prints results to stdout and returns 0, or returns -1 with e filled; main
 * prints e and exits with its class (DESIGN.md section 7). */
#ifndef INLAY_RW_CLI_H
#define INLAY_RW_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <time.h>
#include <stdbool.h>

#include "../manifest/err.h"
#include "../manifest/image.h"
#include "../registry/registry.h"

struct rw_command {
	const char *name;
	int (*run)(int argc, char **argv, struct err *e);
	const char *summary; /* one line for `inlay help` */
	const char *usage;   /* full text for `inlay help NAME` */
};

/* The table in main.c; NULL-terminated. */
extern const struct rw_command rw_commands[];
const struct rw_command *rw_command_find(const char *name);

enum {
	OPT_CA_FILE = 1000,
	OPT_INSECURE,
	OPT_PLAIN_HTTP,
	OPT_CREDS,
	OPT_SRC_CREDS,
	OPT_DEST_CREDS,
	OPT_CREDS_STDIN,
	OPT_AUTHFILE,
	OPT_JOBS,
	OPT_QUIET,
	OPT_JSON,
	OPT_PLATFORM,
	OPT_RETRY_TIMES,
	OPT_STALL_TIMEOUT,
	OPT_HELP,
	OPT_COMMAND_BASE = 1100, /* each command numbers its own from here */
};

/* The long options every command that talks to registries accepts. */
#define RW_TRANSPORT_OPTIONS                                                               \
	{"ca-file", required_argument, NULL, OPT_CA_FILE},                                 \
	    {"insecure", no_argument, NULL, OPT_INSECURE},                                 \
	    {"plain-http", no_argument, NULL, OPT_PLAIN_HTTP},                             \
	    {"creds", required_argument, NULL, OPT_CREDS},                                 \
	    {"src-creds", required_argument, NULL, OPT_SRC_CREDS},                         \
	    {"dest-creds", required_argument, NULL, OPT_DEST_CREDS},                       \
	    {"creds-stdin", no_argument, NULL, OPT_CREDS_STDIN},                           \
	    {"authfile", required_argument, NULL, OPT_AUTHFILE},                           \
	    {"jobs", required_argument, NULL, OPT_JOBS},                                   \
	    {"quiet", no_argument, NULL, OPT_QUIET}, {"json", no_argument, NULL, OPT_JSON}, \
	    {"platform", required_argument, NULL, OPT_PLATFORM},                           \
	    {"retry-times", required_argument, NULL, OPT_RETRY_TIMES},                     \
	    {"stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT},                 \
	    {"help", no_argument, NULL, OPT_HELP}

/* The text describing RW_TRANSPORT_OPTIONS, for usage strings. */
#define RW_TRANSPORT_USAGE                                                                   \
	"Transport options:\n"                                                               \
	"  --ca-file FILE        trust the CA certificates in FILE too (besides the system's)\n" \
	"  --insecure            do not verify TLS certificates\n"                          \
	"  --plain-http          talk HTTP, not HTTPS (loopback registries need no flag)\n" \
	"  --creds USER:PASS     credentials for every registry named\n"                    \
	"  --src-creds USER:PASS, --dest-creds USER:PASS   for one side only\n"              \
	"  --creds-stdin         read USER:PASS from the first line of standard input\n"    \
	"  --authfile FILE       credentials file (containers auth.json / docker config)\n" \
	"  --jobs N              blobs transferred at once (default 4)\n"                   \
	"  --retry-times N       retry a failed request N times (default 4; downloads that\n" \
	"                        break off also resume where they stopped)\n"              \
	"  --stall-timeout S     give up on a transfer that moves no byte for S seconds\n"  \
	"                        (default 60)\n"                                            \
	"  --quiet               no progress on stderr\n"

struct rw_common {
	struct rg_options src; /* options for the source endpoint */
	struct rg_options dst; /* options for the destination endpoint */
	bool json;
	bool help;
	struct mf_platform *platforms; /* --platform, in order */
	size_t n_platforms;
	char *owned[4]; /* strings the options point into (creds from stdin) */
};

void rw_common_init(struct rw_common *c);
void rw_common_free(struct rw_common *c);

/* Handle one getopt_long result that belongs to RW_TRANSPORT_OPTIONS.
 * Returns 1 when handled, 0 when opt is not a common option, -1 on bad
 * input (ERR_INPUT). */
int rw_common_option(struct rw_common *c, int opt, const char *arg, struct err *e);

/* Report a bad command line: ERR_INPUT with "WHAT (see 'inlay help CMD')"
 * (main prefixes "inlay CMD: "). Returns -1. */
int rw_usage_error(struct err *e, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --mode's value: monitor, learn or enforce, else a usage error of cmd. */
int rw_mode_check(const char *cmd, const char *mode, struct err *e);

/* The instrument options of the commands over mirror/'s configuration
 * (serve, sync), for their rules' defaults. */
enum { OPT_RULE_MODE = OPT_COMMAND_BASE + 200, OPT_RULE_POLICY, OPT_RULE_KEY, OPT_RULE_INVENTORY };
#define RW_RULE_OPTIONS                                                    \
	{"mode", required_argument, NULL, OPT_RULE_MODE},                  \
	    {"policy", required_argument, NULL, OPT_RULE_POLICY},          \
	    {"key", required_argument, NULL, OPT_RULE_KEY},                \
	    {"inventory", no_argument, NULL, OPT_RULE_INVENTORY}

/* Apply one of RW_RULE_OPTIONS to r: 1 when opt is one, 0 when not, -1 on
 * a bad value (a usage error of cmd). */
struct mr_rule;
int rw_rule_option(struct mr_rule *r, const char *cmd, int opt, const char *arg, struct err *e);

/* The value of --config FILE (or --config=FILE) in argv, or NULL: read
 * before the other options, which override it whatever their order. */
const char *rw_config_arg(int argc, char **argv);

/* getopt_long's unknown-option and missing-argument cases, as usage errors. */
int rw_bad_option(struct err *e, const char *cmd, char **argv);

/* Print a JSON report on stdout (indented, keys in order). Steals o;
 * o == NULL means an earlier allocation failed. */
int rw_print_json(json_t *o, struct err *e);

/* Seconds elapsed since t0 (CLOCK_MONOTONIC), for --json reports. */
double rw_seconds_since(const struct timespec *t0);

#endif
