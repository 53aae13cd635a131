/* verify.h - check an instrumented image's signatures (DESIGN.md section 6)
 * and say precisely what fails: the engine of `inlay verify`, for every
 * command that must know whether an image is signed and instrumented.
 *
 * For an image, and for an index and each of its images:
 *   signature         a cosign signature (tag sha256-<hex>.sig) verifies with
 *                     the key over its payload, and the payload names exactly
 *                     this manifest digest in the identity's repository;
 * and for each image also:
 *   instrumented      the config carries inlay's labels;
 *   sensor-layer      the layer the config names (io.inlay.sensor.digest) is
 *                     the manifest's last layer;
 *   sensor-signature  io.inlay.sensor.signer is this key and
 *                     io.inlay.sensor.signature verifies over that digest;
 *   entrypoint        the entrypoint starts /.inlay/sensor --.
 * The manifest digest binds the config (and so the labels) and the layers;
 * the cosign signature binds the digest to the key; the label signature binds
 * the sensor layer to the key. Every check is run and its result kept in the
 * report: a failing check is a finding, not an error. */
#ifndef INLAY_RW_VERIFY_H
#define INLAY_RW_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "../layers/hash.h"
#include "../layers/sign.h"
#include "../manifest/digest.h"
#include "../manifest/err.h"
#include "../manifest/image.h"
#include "../registry/registry.h"

#define RW_VERIFY_MAX_CHECKS 6 /* the checks of one manifest; more are not kept */

/* One check of one manifest. */
struct rw_verify_check {
	const char *name; /* "signature", "instrumented", ...: a static string */
	bool ok;
	const char *reason;	  /* a stable word for scripts, static; NULL when ok */
	char detail[ERR_MSG_MAX]; /* what holds, or what fails and why, for people */
};

/* One manifest checked: the index, or an image. */
struct rw_verify_subject {
	char digest[MF_DIGEST_MAX];
	char what[64]; /* "index", the platform ("linux/amd64"), or "image" when unknown */
	struct rw_verify_check checks[RW_VERIFY_MAX_CHECKS];
	size_t n;
};

struct rw_verify_options {
	const struct ly_key *key; /* the public key signatures must verify with; borrowed */
	const char *key_path;	  /* how the key is named in messages; borrowed */
	const char *identity;	  /* the repository payloads must name; NULL: the endpoint's */
	/* Check only these images of an index (and the index itself); with
	 * none, every image but attestations. Borrowed. */
	const struct mf_platform *platforms;
	size_t n_platforms;
};

/* What rw_verify found. Everything in it is owned by the report and lives
 * until rw_verify_report_free; nothing points into the endpoint or the
 * options. */
struct rw_verify_report {
	char digest[MF_DIGEST_MAX];	    /* the manifest verified (what the reference named) */
	char *identity;			    /* the repository the payloads had to name */
	char fingerprint[LY_DIGEST_MAX];    /* the key's, "sha256:<hex>" */
	struct rw_verify_subject *subjects; /* the manifest first, then an index's images */
	size_t n;
	size_t checks, failures; /* over every subject */
	/* Where the first failure is (NULL when none): it says what to fix
	 * first. Both point into subjects. */
	const struct rw_verify_subject *first_subject;
	const struct rw_verify_check *first;
};

/* Fetch the manifest ep names (its tag or digest) and run every check on
 * it and, for an index, on each selected image. Findings (no signature,
 * wrong key, digest mismatch, a missing or malformed config, child or
 * signature image, ...) go in the report and still return 0. Returns -1
 * with e filled, *ret_report untouched, only when the registry cannot be asked
 * (network, auth), the manifest ep names is unusable, or an index has no
 * image for the platforms asked for (ERR_INPUT). On success *ret_report is the
 * caller's: free it with rw_verify_report_free. */
int rw_verify(struct rg_endpoint *ep, const struct rw_verify_options *o,
	      struct rw_verify_report **ret_report, struct err *e);

/* Accepts NULL. */
void rw_verify_report_free(struct rw_verify_report *r);

/* When r has failures: fill e with ERR_VERIFY and the first one,
 * "REPO@DIGEST (WHAT): DETAIL" (REPO being ep's repository), prefixed with
 * "N checks failed; the first: " when there are several, and return -1.
 * Returns 0, e untouched, when every check holds. */
int rw_verify_failed(const struct rw_verify_report *r, const struct rg_endpoint *ep, struct err *e);

#endif
