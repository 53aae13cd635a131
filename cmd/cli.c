/* cli.c - the options every subcommand shares; see cli.h. */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../manifest/buf.h"
#include "../mirror/config.h"
#include "../rewriter/policy.h"
#include "../rewriter/signature.h"

void rw_common_init(struct rw_common *c)
{
	memset(c, 0, sizeof(*c));
	rg_options_init(&c->src);
	rg_options_init(&c->dst);
}

void rw_common_free(struct rw_common *c)
{
	size_t i;

	for (i = 0; i < c->n_platforms; i++)
		mf_platform_clear(&c->platforms[i]);
	free(c->platforms);
	for (i = 0; i < sizeof(c->owned) / sizeof(c->owned[0]); i++) {
		if (c->owned[i]) {
			explicit_bzero(c->owned[i], strlen(c->owned[i]));
			free(c->owned[i]);
		}
	}
	memset(c, 0, sizeof(*c));
}

static int keep_owned(struct rw_common *c, char *s, struct err *e)
{
	size_t i;

	for (i = 0; i < sizeof(c->owned) / sizeof(c->owned[0]); i++) {
		if (!c->owned[i]) {
			c->owned[i] = s;
			return 0;
		}
	}
	explicit_bzero(s, strlen(s));
	free(s);
	return err_set(e, ERR_INPUT, "too many credential options");
}

/* USER:PASS with a non-empty user. The value itself never appears in a
 * message. */
static int check_creds(const char *what, const char *v, struct err *e)
{
	const char *colon = strchr(v, ':');

	if (!colon || colon == v)
		return err_set(e, ERR_INPUT, "%s takes USER:PASS (a user name, a colon, a password)",
			       what);
	return 0;
}

/* The first line of stdin, without its newline, bounded to 64 KiB. */
static int creds_from_stdin(struct rw_common *c, struct err *e)
{
	struct buf b;
	int ch;
	char *s;

	buf_init(&b, 64 * 1024);
	while ((ch = getchar()) != EOF && ch != '\n') {
		char byte = (char)ch;

		if (buf_append(&b, &byte, 1) < 0) {
			buf_free(&b);
			return err_set(e, ERR_INPUT, "--creds-stdin: the first line of stdin is too long");
		}
	}
	if (b.len && b.data[b.len - 1] == '\r')
		b.data[--b.len] = '\0';
	s = buf_detach(&b, NULL);
	if (!s)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (check_creds("--creds-stdin", s, e) < 0) {
		explicit_bzero(s, strlen(s));
		free(s);
		return -1;
	}
	if (keep_owned(c, s, e) < 0) /* frees s on failure */
		return -1;
	c->src.creds = c->dst.creds = s;
	return 0;
}

/* A whole number in [min, max] for option name: "NAME takes UNIT from MIN to
 * MAX, not 'ARG'" otherwise. */
static int number_option(const char *arg, const char *name, const char *unit, long min, long max,
			 long *ret, struct err *e)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || *end || end == arg || n < min || n > max)
		return err_set(e, ERR_INPUT, "%s takes %s from %ld to %ld, not '%.40s'", name, unit,
			       min, max, arg);
	*ret = n;
	return 0;
}

int rw_common_option(struct rw_common *c, int opt, const char *arg, struct err *e)
{
	long n;

	switch (opt) {
	case OPT_CA_FILE:
		c->src.ca_file = c->dst.ca_file = arg;
		return 1;
	case OPT_INSECURE:
		c->src.insecure = c->dst.insecure = true;
		return 1;
	case OPT_PLAIN_HTTP:
		c->src.plain_http = c->dst.plain_http = true;
		return 1;
	case OPT_CREDS:
		if (check_creds("--creds", arg, e) < 0)
			return -1;
		c->src.creds = c->dst.creds = arg;
		return 1;
	case OPT_SRC_CREDS:
		if (check_creds("--src-creds", arg, e) < 0)
			return -1;
		c->src.creds = arg;
		return 1;
	case OPT_DEST_CREDS:
		if (check_creds("--dest-creds", arg, e) < 0)
			return -1;
		c->dst.creds = arg;
		return 1;
	case OPT_CREDS_STDIN:
		return creds_from_stdin(c, e) < 0 ? -1 : 1;
	case OPT_AUTHFILE:
		c->src.authfile = c->dst.authfile = arg;
		return 1;
	case OPT_JOBS:
		if (number_option(arg, "--jobs", "a number", 1, 64, &n, e) < 0)
			return -1;
		c->src.jobs = c->dst.jobs = (int)n;
		return 1;
	case OPT_RETRY_TIMES:
		if (number_option(arg, "--retry-times", "a number", 0, 20, &n, e) < 0)
			return -1;
		c->src.max_attempts = c->dst.max_attempts = (int)n + 1;
		return 1;
	case OPT_STALL_TIMEOUT:
		if (number_option(arg, "--stall-timeout", "seconds", 1, 3600, &n, e) < 0)
			return -1;
		c->src.stall_timeout = c->dst.stall_timeout = (int)n;
		return 1;
	case OPT_QUIET:
		c->src.quiet = c->dst.quiet = true;
		return 1;
	case OPT_JSON:
		c->json = true;
		return 1;
	case OPT_HELP:
		c->help = true;
		return 1;
	case OPT_PLATFORM: {
		struct mf_platform p, *grown;

		if (mf_platform_parse(arg, &p, e) < 0)
			return err_prefix(e, "--platform");
		grown = realloc(c->platforms, (c->n_platforms + 1) * sizeof(*grown));
		if (!grown) {
			mf_platform_clear(&p);
			return err_set(e, ERR_OPERATIONAL, "out of memory");
		}
		c->platforms = grown;
		c->platforms[c->n_platforms++] = p;
		return 1;
	}
	default:
		return 0;
	}
}

int rw_usage_error(struct err *e, const char *cmd, const char *fmt, ...)
{
	char what[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(e, ERR_INPUT, "%s (see 'inlay help %s')", what, cmd);
}

int rw_bad_option(struct err *e, const char *cmd, char **argv)
{
	const char *bad = optind > 0 ? argv[optind - 1] : "?";

	if (optopt && optopt < 256)
		return rw_usage_error(e, cmd, "unknown option or missing argument '-%c'", optopt);
	return rw_usage_error(e, cmd, "unknown option or missing argument '%.100s'", bad);
}

int rw_print_json(json_t *o, struct err *e)
{
	char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	if (!text)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	puts(text);
	free(text);
	return 0;
}

double rw_seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int rw_mode_check(const char *cmd, const char *mode, struct err *e)
{
	if (strcmp(mode, "monitor") != 0 && strcmp(mode, "learn") != 0 &&
	    strcmp(mode, "enforce") != 0)
		return rw_usage_error(e, cmd, "--mode takes monitor, learn or enforce");
	return 0;
}

int rw_rule_option(struct mr_rule *r, const char *cmd, int opt, const char *arg, struct err *e)
{
	switch (opt) {
	case OPT_RULE_MODE:
		if (rw_mode_check(cmd, arg, e) < 0)
			return -1;
		return mr_config_set(&r->mode, arg, e) < 0 ? -1 : 1;
	case OPT_RULE_POLICY: {
		char *policy = NULL;

		if (rw_policy_load(arg, &policy, e) < 0)
			return -1;
		free(r->policy_json);
		r->policy_json = policy;
		return 1;
	}
	case OPT_RULE_KEY: {
		struct ly_key *key = NULL;

		if (rw_key_load(arg, &key, e) < 0)
			return -1;
		ly_key_free(r->key);
		r->key = key;
		return 1;
	}
	case OPT_RULE_INVENTORY:
		r->inventory = true;
		return 1;
	}
	return 0;
}

const char *rw_config_arg(int argc, char **argv)
{
	const char *file = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			file = argv[i] + 9;
	}
	return file;
}
