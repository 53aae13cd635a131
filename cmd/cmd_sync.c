/* cmd_sync.c - `inlay sync`: instrument whole repositories or registries
 * ahead of time, incrementally (DESIGN.md section 10). The work is
 * mirror/sync.c's; this is its command line and its report. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "../manifest/ref.h"
#include "../mirror/config.h"
#include "../mirror/sync.h"

const char rw_sync_usage[] =
	"Usage: inlay sync SRC DST [options]\n"
	"       inlay sync --config FILE [options]\n"
	"\n"
	"Instrument every tag of SRC into DST, as 'inlay instrument' would, and only what\n"
	"changed: for each tag the result is computed without writing and compared with\n"
	"the destination tag; equal (and signed, with --key) moves nothing.\n"
	"\n"
	"  SRC REGISTRY/REPO     that repository's tags\n"
	"  SRC REGISTRY, or REGISTRY/PREFIX/   every repository of the registry's catalog\n"
	"                        (under PREFIX); DST is then a prefix: REPO goes to DST/REPO\n"
	"  DST REGISTRY/REPO or oci:DIR   where results go (another registry, another\n"
	"                        prefix, a layout; the same repository needs --tag-suffix,\n"
	"                        default -inlay there)\n"
	"\n"
	"  --config FILE         JSON or YAML, as for 'inlay serve': its \"sync\" section lists\n"
	"                        the repositories; mode, policy, key and rules apply\n"
	"  --tags REGEX          only source tags matching (POSIX extended, unanchored)\n"
	"  --exclude REGEX       not the source tags matching\n"
	"  --tag-suffix S        destination tag = source tag + S (default none)\n"
	"  --mode monitor|learn|enforce, --policy FILE, --key FILE, --inventory\n"
	"                        as for instrument; --key also signs the results\n"
	"  --jobs N              tags worked on at once (default 4)\n"
	"  --delete              also delete destination tags whose source tag is gone\n"
	"                        (only manifests inlay wrote; never one another tag names)\n"
	"  --dry-run             say what would be done, write nothing\n"
	"  --json                one JSON report on stdout\n"
	"  --quiet               no progress on stderr\n"
	"\n"
	"One line per tag: instrumented, unchanged, kept (no platform with a sensor, or a\n"
	"passthrough rule: copied as is), failed, deleted (with --dry-run: would-...).\n"
	"Exit status 1 when any tag failed; the others still complete.\n"
	"\n"
	"Transport options: --ca-file, --insecure, --plain-http, --creds, --src-creds,\n"
	"--dest-creds, --authfile (as for copy).\n";

enum {
	OPT_CONFIG = OPT_COMMAND_BASE,
	OPT_TAGS,
	OPT_EXCLUDE,
	OPT_TAG_SUFFIX,
	OPT_DELETE,
	OPT_DRY_RUN,
};

struct report {
	bool json, progress;
	json_t *tags; /* --json: the entries */
	unsigned done;
};

static void on_item(void *ctx, const struct mr_sync_item *it)
{
	struct report *r = ctx;

	r->done++;
	if (r->json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "source", it->source, "destination",
				      it->destination, "status", it->status);

		if (o && it->digest[0])
			json_object_set_new(o, "digest", json_string(it->digest));
		if (o && it->source_digest[0])
			json_object_set_new(o, "source_digest", json_string(it->source_digest));
		if (o && it->error)
			json_object_set_new(o, "error", json_string(it->error));
		json_array_append_new(r->tags, o);
	} else {
		if (r->progress)
			fputs("\r\033[K", stderr);
		if (it->error)
			printf("%s %s: %s\n", it->status, it->source, it->error);
		else
			printf("%s %s -> %s%s%s\n", it->status, it->source,
			       it->destination[0] ? it->destination : it->source,
			       it->digest[0] ? "@" : "", it->digest);
		fflush(stdout);
	}
	if (r->progress) {
		fprintf(stderr, "\r\033[Ksync: %u tags done", r->done);
		fflush(stderr);
	}
}

static int apply_option(struct mr_config *cfg, int opt, const char *arg, const char **tags,
			const char **exclude, struct err *e)
{
	switch (opt) {
	case OPT_TAGS:
		*tags = arg;
		return 0;
	case OPT_EXCLUDE:
		*exclude = arg;
		return 0;
	case OPT_TAG_SUFFIX:
		if (*arg && !mf_tag_valid(arg))
			return rw_usage_error(e, "sync", "--tag-suffix '%.100s' is not tag characters "
							 "(A-Za-z0-9_.-)", arg);
		return mr_config_set(&cfg->sync.tag_suffix, arg, e);
	case OPT_DELETE:
		cfg->sync.delete_gone = true;
		return 0;
	}
	return rw_usage_error(e, "sync", "unknown option");
}

int cmd_sync(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
		RW_TRANSPORT_OPTIONS,
		{"config", required_argument, NULL, OPT_CONFIG},
		{"tags", required_argument, NULL, OPT_TAGS},
		{"exclude", required_argument, NULL, OPT_EXCLUDE},
		{"tag-suffix", required_argument, NULL, OPT_TAG_SUFFIX},
		RW_RULE_OPTIONS,
		{"delete", no_argument, NULL, OPT_DELETE},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{NULL, 0, NULL, 0},
	};
	struct mr_config cfg;
	struct mr_sync_options so = {0};
	struct mr_sync_counts n = {0};
	struct report rep = {0};
	struct rw_common c;
	struct timespec t0;
	const char *config_file = NULL, *tags = NULL, *exclude = NULL;
	bool jobs_given = false;
	int opt, rc = -1, i;

	mr_config_init(&cfg);
	rw_common_init(&c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	config_file = rw_config_arg(argc, argv);
	for (i = 1; i < argc; i++) /* over the config's "jobs" only when given */
		jobs_given |= strcmp(argv[i], "--jobs") == 0 || strncmp(argv[i], "--jobs=", 7) == 0;
	if (config_file && mr_config_load(&cfg, config_file, e) < 0)
		goto out;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = rw_common_option(&c, opt, optarg, e);

		if (r == 0)
			r = rw_rule_option(&cfg.defaults, "sync", opt, optarg, e);
		if (r < 0)
			goto out;
		if (r == 1 || opt == OPT_CONFIG)
			continue;
		if (opt == OPT_DRY_RUN) {
			so.dry_run = true;
			continue;
		}
		if (opt < OPT_COMMAND_BASE) {
			rw_bad_option(e, "sync", argv);
			goto out;
		}
		if (apply_option(&cfg, opt, optarg, &tags, &exclude, e) < 0)
			goto out;
	}
	if (c.help) {
		fputs(rw_sync_usage, stdout);
		rc = 0;
		goto out;
	}
	if (c.n_platforms) {
		rw_usage_error(e, "sync", "--platform is not a sync option (every platform with a "
					  "sensor is instrumented)");
		goto out;
	}
	if (argc - optind == 2) {
		if (mr_config_add_sync(&cfg, argv[optind], argv[optind + 1], tags, exclude, e) < 0) {
			e->cls = ERR_INPUT;
			goto out;
		}
	} else if (argc - optind != 0) {
		rw_usage_error(e, "sync", "takes SRC and DST (or --config), got %d arguments",
			       argc - optind);
		goto out;
	} else if (tags || exclude) {
		rw_usage_error(e, "sync", "--tags and --exclude go with SRC DST; in a config they are "
					  "per repository");
		goto out;
	}
	if (jobs_given)
		cfg.sync.jobs = (unsigned)c.src.jobs;
	if (mr_config_finish_sync(&cfg, e) < 0)
		goto out;
	rep.json = c.json;
	rep.progress = !c.json && !c.src.quiet && isatty(STDERR_FILENO);
	if (rep.json && !(rep.tags = json_array())) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	c.src.quiet = c.dst.quiet = true; /* no per-blob bars: the report is per tag */
	so.cfg = &cfg;
	so.src_transport = &c.src;
	so.dst_transport = &c.dst;
	so.report = on_item;
	so.ctx = &rep;
	if (mr_sync_run(&so, &n, e) < 0)
		goto out;
	if (rep.progress)
		fputs("\r\033[K", stderr);
	if (rep.json) {
		json_t *doc = json_pack("{s:b, s:O, s:{s:i, s:i, s:i, s:i, s:i}, s:f}", "dry_run",
					so.dry_run, "tags", rep.tags, "summary", "instrumented",
					n.instrumented, "unchanged", n.unchanged, "kept", n.kept,
					"failed", n.failed, "deleted", n.deleted, "seconds",
					rw_seconds_since(&t0));

		if (rw_print_json(doc, e) < 0)
			goto out;
	}
	fprintf(stderr, "sync: %u tags: %u %s, %u unchanged, %u %s, %u failed",
		n.instrumented + n.unchanged + n.kept + n.failed, n.instrumented,
		so.dry_run ? "to instrument" : "instrumented", n.unchanged, n.kept,
		so.dry_run ? "to keep" : "kept", n.failed);
	if (cfg.sync.delete_gone)
		fprintf(stderr, ", %u %s", n.deleted, so.dry_run ? "to delete" : "deleted");
	fprintf(stderr, " (%.1f s)\n", rw_seconds_since(&t0));
	if (n.failed) {
		err_set(e, ERR_OPERATIONAL, "%u failed (see above); the rest completed", n.failed);
		goto out;
	}
	rc = 0;
out:
	json_decref(rep.tags);
	mr_config_free(&cfg);
	rw_common_free(&c);
	return rc;
}
