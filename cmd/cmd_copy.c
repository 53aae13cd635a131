/* cmd_copy.c - `inlay copy SRC DST`: move an image or index between
 * registries and OCI layouts, every digest kept. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "../rewriter/copy.h"

const char rw_copy_usage[] =
	"Usage: inlay copy SRC DST [--platform OS/ARCH]... [options]\n"
	"\n"
	"Copy an image, or a whole multi-platform index, byte for byte: every digest is\n"
	"kept. SRC and DST are registry references ([docker://]HOST/NAME[:TAG][@DIGEST])\n"
	"or OCI layouts (oci:PATH[:TAG]). Blobs already at DST are not sent; within one\n"
	"registry they are mounted; across registries they stream with bounded memory.\n"
	"Prints the result as DST-REPOSITORY@sha256:... on stdout.\n"
	"\n"
	"  --platform OS/ARCH[/VARIANT]  copy only this child of an index (repeatable;\n"
	"                        several give a new index of just those)\n"
	"  --json                print a JSON report instead\n" RW_TRANSPORT_USAGE;

static int print_report(const struct rg_endpoint *src, const struct rg_endpoint *dst,
			const char *digest, const struct rg_stats *st, double secs, struct err *e)
{
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:I, s:i, s:i, s:i}, s:f}", "source",
		      rg_endpoint_display(src), "destination", rg_endpoint_display(dst), "repository",
		      rg_endpoint_repository(dst), "digest", digest, "transfer", "bytes_downloaded",
		      (json_int_t)st->bytes_downloaded, "bytes_uploaded",
		      (json_int_t)st->bytes_uploaded, "blobs_present", (int)st->blobs_present,
		      "blobs_mounted", (int)st->blobs_mounted, "blobs_streamed",
		      (int)st->blobs_streamed, "seconds", secs);
	return rw_print_json(o, e);
}

int cmd_copy(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {RW_TRANSPORT_OPTIONS, {NULL, 0, NULL, 0}};
	struct rg_endpoint *src = NULL, *dst = NULL;
	struct rg_stats stats = {0};
	struct rw_common c;
	struct timespec t0;
	char digest[MF_DIGEST_MAX];
	int opt, rc = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rw_common_init(&c);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = rw_common_option(&c, opt, optarg, e);

		if (r < 0)
			goto out;
		if (r == 0) {
			rw_bad_option(e, "copy", argv);
			goto out;
		}
	}
	if (c.help) {
		fputs(rw_copy_usage, stdout);
		rc = 0;
		goto out;
	}
	if (argc - optind != 2) {
		rw_usage_error(e, "copy", "takes SRC and DST, got %d argument%s", argc - optind,
			       argc - optind == 1 ? "" : "s");
		goto out;
	}
	if (rg_endpoint_open(argv[optind], &c.src, &src, e) < 0 ||
	    rg_endpoint_open(argv[optind + 1], &c.dst, &dst, e) < 0)
		goto out;
	if (rw_copy_image(src, dst, c.platforms, c.n_platforms, c.dst.jobs, &stats, digest, e) < 0)
		goto out;
	if (c.json)
		rc = print_report(src, dst, digest, &stats, rw_seconds_since(&t0), e);
	else
		rc = printf("%s@%s\n", rg_endpoint_repository(dst), digest) < 0 ? -1 : 0;
out:
	rg_endpoint_free(src);
	rg_endpoint_free(dst);
	rw_common_free(&c);
	return rc;
}
