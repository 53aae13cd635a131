/* cmd_policy.c - `inlay policy check FILE` and `inlay policy build
 * [--base POLICY] [EVENTS...]`: validate a policy, and turn what a sensor
 * learned into one (docs/POLICY.md). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../rewriter/policy.h"
#include "../rewriter/policy_build.h"

enum {
	OPT_BASE = OPT_COMMAND_BASE,
};

const char rw_policy_usage[] =
    "Usage: inlay policy check [--json] FILE\n"
    "       inlay policy build [--base POLICY] [--quiet] [EVENTS.jsonl...]\n"
    "\n"
    "check: validate a sensor policy (the --policy of 'inlay instrument'). Prints\n"
    "  'FILE: valid policy (...)' with the number of rules in each list, or names\n"
    "  the first bad field ('net.connect[2]: ...') and exits 2. FILE - is stdin.\n"
    "\n"
    "build: turn what sensors reported into a policy, printed on stdout. Reads the\n"
    "  sensor's JSON Lines events from each EVENTS file (- or none: stdin); other\n"
    "  lines (the application's own output) are skipped and counted on stderr.\n"
    "  Uses every 'sensor profile' event (learn mode) and every event of a program\n"
    "  executed, a socket listening, an outbound connection and a file opened for\n"
    "  writing (any mode); merges them as sets, written files generalised to their\n"
    "  directories, and sets exec.drift to block. The result is meant for\n"
    "  'inlay instrument --mode enforce --policy FILE'.\n"
    "\n"
    "  --base POLICY         start from this policy: its rules are kept, and its\n"
    "                        exec.drift when it has one\n"
    "  --quiet               no summary on stderr\n"
    "  --json                (check) print a JSON report\n"
    "\n"
    "Workflow: instrument with --mode learn, run the workload, keep the container's\n"
    "output (the learned profile arrives as 'sensor profile' events), then\n"
    "  inlay policy build container.log > policy.json\n"
    "  inlay policy check policy.json\n"
    "  inlay instrument --mode enforce --policy policy.json SRC DST\n";

/* "3 exec rules" / "1 listen rule" / "connect unrestricted" */
static void describe_list(json_t *arr, const char *what, char *out, size_t n)
{
	size_t k = json_array_size(arr);

	if (!arr)
		snprintf(out, n, "%s unrestricted", what);
	else
		snprintf(out, n, "%zu %s rule%s", k, what, k == 1 ? "" : "s");
}

static int policy_check(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	const char *file;
	char *canon = NULL;
	char d[4][80];
	json_t *o = NULL, *lists[4];
	const char *drift;
	bool json = false;
	int opt, rc = -1;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			json = true;
			break;
		case OPT_HELP:
			fputs(rw_policy_usage, stdout);
			return 0;
		default:
			return rw_bad_option(e, "policy", argv);
		}
	}
	if (argc - optind != 1)
		return rw_usage_error(e, "policy", "check takes one FILE, got %d arguments",
				      argc - optind);
	file = argv[optind];
	if (strcmp(file, "-") == 0) {
		if (rw_policy_load("/dev/stdin", &canon, e) < 0)
			return -1;
	} else if (rw_policy_load(file, &canon, e) < 0) {
		return -1;
	}
	o = json_loads(canon, 0, NULL);
	if (!o) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	lists[0] = json_object_get(json_object_get(o, "exec"), "allow");
	lists[1] = json_object_get(json_object_get(o, "net"), "listen");
	lists[2] = json_object_get(json_object_get(o, "net"), "connect");
	lists[3] = json_object_get(json_object_get(o, "files"), "write");
	drift = json_string_value(json_object_get(json_object_get(o, "exec"), "drift"));
	if (json) {
		json_t *r = json_pack(
		    "{s:s, s:b, s:o, s:s?, s:o, s:o, s:o}", "file", file, "valid", 1, "exec_rules",
		    lists[0] ? json_integer((json_int_t)json_array_size(lists[0])) : json_null(),
		    "drift", drift, "listen_rules",
		    lists[1] ? json_integer((json_int_t)json_array_size(lists[1])) : json_null(),
		    "connect_rules",
		    lists[2] ? json_integer((json_int_t)json_array_size(lists[2])) : json_null(),
		    "write_rules",
		    lists[3] ? json_integer((json_int_t)json_array_size(lists[3])) : json_null());
		rc = rw_print_json(r, e);
		goto out;
	}
	describe_list(lists[0], "exec", d[0], sizeof(d[0]));
	describe_list(lists[1], "listen", d[1], sizeof(d[1]));
	describe_list(lists[2], "connect", d[2], sizeof(d[2]));
	describe_list(lists[3], "write", d[3], sizeof(d[3]));
	printf("%s: valid policy (%s, drift %s, %s, %s, %s)\n", file, d[0],
	       drift ? drift : "default", d[1], d[2], d[3]);
	rc = 0;
out:
	json_decref(o);
	free(canon);
	return rc;
}

/* Feed one named input ("-": stdin) to the builder. */
static int build_input(struct rw_policy_builder *b, const char *name, struct err *e)
{
	int fd, rc;

	if (strcmp(name, "-") == 0)
		return rw_policy_builder_read(b, STDIN_FILENO, "standard input", e);
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_INPUT, "cannot open events file %s", name);
	rc = rw_policy_builder_read(b, fd, name, e);
	close(fd);
	return rc;
}

static void print_summary(const struct rw_build_stats *st)
{
	fprintf(stderr,
		"inlay policy build: %zu line%s read: %zu sensor profile%s and %zu event%s "
		"used",
		st->lines, st->lines == 1 ? "" : "s", st->profiles, st->profiles == 1 ? "" : "s",
		st->events, st->events == 1 ? "" : "s");
	if (st->unused)
		fprintf(stderr, ", %zu other inlay event%s", st->unused,
			st->unused == 1 ? "" : "s");
	if (st->denied)
		fprintf(stderr, ", %zu denied action%s skipped", st->denied,
			st->denied == 1 ? "" : "s");
	if (st->not_json)
		fprintf(stderr, ", %zu non-JSON line%s skipped", st->not_json,
			st->not_json == 1 ? "" : "s");
	if (st->other_json)
		fprintf(stderr, ", %zu other JSON line%s skipped", st->other_json,
			st->other_json == 1 ? "" : "s");
	if (st->too_long)
		fprintf(stderr, ", %zu line%s over %u bytes skipped", st->too_long,
			st->too_long == 1 ? "" : "s", RW_BUILD_MAX_LINE);
	fputs("\n", stderr);
}

static int policy_build(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
	    {"base", required_argument, NULL, OPT_BASE},
	    {"quiet", no_argument, NULL, OPT_QUIET},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct rw_policy_builder *b = NULL;
	const struct rw_build_stats *st;
	const char *base = NULL;
	char *base_json = NULL, *out = NULL;
	bool quiet = false;
	int opt, rc = -1, i;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_BASE:
			base = optarg;
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		case OPT_HELP:
			fputs(rw_policy_usage, stdout);
			return 0;
		default:
			return rw_bad_option(e, "policy", argv);
		}
	}
	if (rw_policy_builder_new(&b, e) < 0)
		return -1;
	if (base) {
		if (rw_policy_load(base, &base_json, e) < 0) {
			err_prefix(e, "--base");
			goto out;
		}
		if (rw_policy_builder_add_base(b, base_json, e) < 0)
			goto out;
	}
	if (optind == argc && build_input(b, "-", e) < 0)
		goto out;
	for (i = optind; i < argc; i++)
		if (build_input(b, argv[i], e) < 0)
			goto out;
	st = rw_policy_builder_stats(b);
	if (!quiet)
		print_summary(st);
	if (st->dropped)
		fprintf(stderr,
			"inlay policy build: warning: the sensor's profile could not record %zu "
			"observation%s (its limits were reached); the policy may not allow all "
			"the application did: check it in monitor mode first\n",
			st->dropped, st->dropped == 1 ? "" : "s");
	if (rw_policy_builder_finish(b, &out, e) < 0)
		goto out;
	if (puts(out) < 0 || fflush(stdout) != 0) {
		err_sys(e, ERR_OPERATIONAL, "write the policy to standard output");
		goto out;
	}
	rc = 0;
out:
	free(out);
	free(base_json);
	rw_policy_builder_free(b);
	return rc;
}

int cmd_policy(int argc, char **argv, struct err *e)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub)
		return rw_usage_error(e, "policy", "give a subcommand: check or build");
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		fputs(rw_policy_usage, stdout);
		return 0;
	}
	/* The subcommand's own options start after its name. */
	optind = 1;
	if (strcmp(sub, "check") == 0)
		return policy_check(argc - 1, argv + 1, e);
	if (strcmp(sub, "build") == 0)
		return policy_build(argc - 1, argv + 1, e);
	return rw_usage_error(e, "policy", "no subcommand '%.60s' (check or build)", sub);
}
