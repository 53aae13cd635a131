/* cmd_verify.c - `inlay verify REF --key PUB`: check an instrumented image's
 * signatures (DESIGN.md section 6) and say precisely what fails.
 *
 * The checks are rw_verify's (rewriter/verify.h); this file reads the
 * command line and prints the report, as text or JSON. Every check is run
 * and reported; the exit status is 3 (ERR_VERIFY) when any fails. */
#include <stdio.h>

#include "../rewriter/verify.h"
#include "cli.h"

enum {
	OPT_KEY = OPT_COMMAND_BASE,
	OPT_IDENTITY,
};

const char rw_verify_usage[] =
    "Usage: inlay verify REF --key PUB [options]\n"
    "\n"
    "Check an inlay-instrumented image, or an index and each of its images:\n"
    "  signature         a cosign signature (tag sha256-<hex>.sig in the same\n"
    "                    repository) verifies with the key, over a payload that names\n"
    "                    exactly this manifest digest and this repository;\n"
    "  instrumented      the image carries inlay's sensor labels;\n"
    "  sensor-layer      the sensor layer the config names is the image's last layer;\n"
    "  sensor-signature  that layer's signature (io.inlay.sensor.signature) verifies\n"
    "                    with the key and io.inlay.sensor.signer names it;\n"
    "  entrypoint        the entrypoint starts the sensor (/.inlay/sensor --).\n"
    "Exit status 0 when every check holds, 3 when one fails (the message says which\n"
    "and why: no signature, wrong key, digest mismatch, layer mismatch, not\n"
    "instrumented, ...).\n"
    "\n"
    "  --key PUB             public key (PEM, as 'inlay keygen' writes to PREFIX.pub)\n"
    "  --identity REPO       the repository the signatures must name (default: REF's);\n"
    "                        for images copied here together with their signatures\n"
    "  --platform OS/ARCH    check only these images of an index (and the index)\n"
    "  --json                print a JSON report with every check\n" RW_TRANSPORT_USAGE;

static void print_text(const struct rw_verify_report *r, const struct rg_endpoint *ep,
		       const struct rw_verify_options *o)
{
	size_t i, k;

	printf("%s@%s, key %s (%s %s)\n", rg_endpoint_repository(ep), r->digest, o->key_path,
	       ly_key_type_name(ly_key_type(o->key)), r->fingerprint);
	for (i = 0; i < r->n; i++) {
		const struct rw_verify_subject *s = &r->subjects[i];

		printf("%s %s\n", s->digest, s->what);
		for (k = 0; k < s->n; k++)
			printf("  %-4s  %-16s  %s\n", s->checks[k].ok ? "ok" : "FAIL",
			       s->checks[k].name, s->checks[k].detail);
	}
	if (r->failures)
		printf("FAILED: %zu of %zu checks\n", r->failures, r->checks);
	else
		printf("verified: %zu manifest%s, %zu checks\n", r->n, r->n == 1 ? "" : "s",
		       r->checks);
}

static int print_json(const struct rw_verify_report *r, const struct rg_endpoint *ep,
		      const struct rw_verify_options *o, struct err *e)
{
	json_t *arr = json_array(), *obj;
	size_t i, k;

	for (i = 0; arr && i < r->n; i++) {
		const struct rw_verify_subject *s = &r->subjects[i];
		json_t *checks = json_array();
		bool ok = true;

		for (k = 0; checks && k < s->n; k++) {
			const struct rw_verify_check *c = &s->checks[k];

			ok = ok && c->ok;
			json_array_append_new(checks, json_pack("{s:s, s:b, s:s?, s:s}", "check",
								c->name, "ok", c->ok, "reason",
								c->reason, "detail", c->detail));
		}
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:o}", "digest", s->digest,
						     "platform", s->what, "verified", ok, "checks",
						     checks));
	}
	obj = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:b, s:I, s:o}", "reference",
			rg_endpoint_display(ep), "repository", rg_endpoint_repository(ep), "digest",
			r->digest, "identity", r->identity, "key", "file", o->key_path, "type",
			ly_key_type_name(ly_key_type(o->key)), "signer", r->fingerprint, "verified",
			r->failures == 0, "failures", (json_int_t)r->failures, "manifests", arr);
	return rw_print_json(obj, e);
}

int cmd_verify(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
	    RW_TRANSPORT_OPTIONS,
	    {"key", required_argument, NULL, OPT_KEY},
	    {"identity", required_argument, NULL, OPT_IDENTITY},
	    {NULL, 0, NULL, 0},
	};
	struct rw_verify_options o = {0};
	struct rw_verify_report *r = NULL;
	struct rg_endpoint *ep = NULL;
	struct ly_key *key = NULL;
	struct rw_common c;
	int opt, rc = -1;

	rw_common_init(&c);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int res = rw_common_option(&c, opt, optarg, e);

		if (res < 0)
			goto out;
		if (res == 1)
			continue;
		if (opt == OPT_KEY) {
			o.key_path = optarg;
		} else if (opt == OPT_IDENTITY) {
			o.identity = optarg;
		} else {
			rw_bad_option(e, "verify", argv);
			goto out;
		}
	}
	if (c.help) {
		fputs(rw_verify_usage, stdout);
		rc = 0;
		goto out;
	}
	if (argc - optind != 1) {
		rw_usage_error(e, "verify", "takes one image reference");
		goto out;
	}
	if (!o.key_path) {
		rw_usage_error(e, "verify", "give --key PUB, the public key to verify with");
		goto out;
	}
	if (ly_key_load_public(o.key_path, &key, e) < 0)
		goto out;
	o.key = key;
	o.platforms = c.platforms;
	o.n_platforms = c.n_platforms;
	if (rg_endpoint_open(argv[optind], &c.src, &ep, e) < 0 || rw_verify(ep, &o, &r, e) < 0)
		goto out;
	if (c.json) {
		if (print_json(r, ep, &o, e) < 0)
			goto out;
	} else {
		print_text(r, ep, &o);
	}
	/* The first failure says what to fix first; the report above has the
	 * others. */
	rc = rw_verify_failed(r, ep, e);
out:
	rw_verify_report_free(r);
	rg_endpoint_free(ep);
	ly_key_free(key);
	rw_common_free(&c);
	return rc;
}
