/* cmd_verify.c - `inlay verify REF --key PUB`: check an instrumented image's
 * signatures (DESIGN.md section 6) and say precisely what fails.
 *
 * For an image, and for an index and each of its images:
 *   signature         a cosign signature (tag sha256-<hex>.sig) verifies with
 *                     the key over its payload, and the payload names exactly
 *                     this manifest digest in this repository;
 * and for each image also:
 *   instrumented      the config carries inlay's labels;
 *   sensor-layer      the layer the config names (io.inlay.sensor.digest) is
 *                     the manifest's last layer;
 *   sensor-signature  io.inlay.sensor.signer is this key and
 *                     io.inlay.sensor.signature verifies over that digest;
 *   entrypoint        the entrypoint starts /.inlay/sensor --.
 * The manifest digest binds the config (and so the labels) and the layers;
 * the cosign signature binds the digest to the key; the label signature binds
 * the sensor layer to the key. Every check is run and reported; the exit
 * status is 3 (ERR_VERIFY) when any fails. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../manifest/config.h"
#include "../manifest/image.h"
#include "../manifest/mediatype.h"
#include "cli.h"
#include "../rewriter/instrument.h"
#include "../rewriter/signature.h"

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

#define MAX_CHECKS 6

struct check {
	const char *name;
	bool ok;
	const char *reason; /* a stable word for scripts; NULL when ok */
	char detail[ERR_MSG_MAX];
};

struct subject {
	char digest[MF_DIGEST_MAX];
	char what[64]; /* "index", "linux/amd64", "image" */
	struct check checks[MAX_CHECKS];
	size_t n;
};

struct verify {
	struct rg_endpoint *ep;
	const struct ly_key *key;
	const char *key_path;
	char fingerprint[LY_DIGEST_MAX];
	const char *identity; /* the repository payloads must name */
	struct subject *subjects;
	size_t n;
	size_t checks, failures;
	const struct subject *first_subject; /* where the first failure is */
	const struct check *first;
};

static struct subject *new_subject(struct verify *v, const char *digest, const char *what)
{
	struct subject *s = &v->subjects[v->n++];

	memset(s, 0, sizeof(*s));
	snprintf(s->digest, sizeof(s->digest), "%s", digest);
	snprintf(s->what, sizeof(s->what), "%s", what);
	return s;
}

static void record(struct verify *v, struct subject *s, const char *name, const char *reason,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void record(struct verify *v, struct subject *s, const char *name, const char *reason,
		   const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (s->n >= MAX_CHECKS)
		return;
	c = &s->checks[s->n++];
	c->name = name;
	c->ok = reason == NULL;
	c->reason = reason;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	v->checks++;
	if (c->ok)
		return;
	if (v->failures++ == 0) {
		v->first_subject = s;
		v->first = c;
	}
}

/* A failure worth telling, kept while other signatures are tried: the one
 * that got furthest wins (a signature that verifies but names another
 * digest says more than one that does not verify). */
struct best {
	int rank;
	const char *reason;
	char detail[ERR_MSG_MAX];
};

static void consider(struct best *b, int rank, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void consider(struct best *b, int rank, const char *reason, const char *fmt, ...)
{
	va_list ap;

	if (rank <= b->rank)
		return;
	b->rank = rank;
	b->reason = reason;
	va_start(ap, fmt);
	vsnprintf(b->detail, sizeof(b->detail), fmt, ap);
	va_end(ap);
}

/* Failures of the registry's content (missing, malformed, not matching its
 * digest) are findings; anything else (network, auth) stops the run. */
static bool is_finding(const struct err *e)
{
	return e->http_status == 404 || e->cls == ERR_VERIFY || e->cls == ERR_INPUT;
}

/* The cosign signature of s->digest. Returns -1 only when the registry
 * cannot be asked; every finding is recorded in s. */
static int check_signature(struct verify *v, struct subject *s, struct err *e)
{
	const char *repo = rg_endpoint_repository(v->ep);
	struct rg_manifest_blob mb = {0};
	struct rw_sig_manifest *sm = NULL;
	struct rw_payload p = {0};
	struct best best = {-1, NULL, ""};
	char tag[RW_SIGNATURE_TAG_MAX];
	struct buf payload;
	size_t i, candidates = 0;
	int rc = -1;

	buf_init(&payload, RW_PAYLOAD_MAX);
	if (rw_signature_tag(s->digest, tag, e) < 0)
		goto out;
	if (rg_manifest_get(v->ep, tag, &mb, e) < 0) {
		if (e->http_status != 404)
			goto out;
		err_clear(e);
		record(v, s, "signature", "no-signature",
		       "no signature: the repository has no tag %s (sign the image with 'inlay "
		       "sign' or "
		       "instrument it with --key)",
		       tag);
		rc = 0;
		goto out;
	}
	if (rw_sig_manifest_parse(mb.data, mb.len, &sm, e) < 0) {
		record(v, s, "signature", "bad-signature-image",
		       "%s:%s is not a cosign signature image: %s", repo, tag, e->msg);
		err_clear(e);
		rc = 0;
		goto out;
	}
	for (i = 0; i < rw_sig_manifest_count(sm); i++) {
		const struct rw_sig_entry *se = rw_sig_manifest_entry(sm, i);

		if (!se->simplesigning || !se->signature)
			continue;
		candidates++;
		if (se->size > (int64_t)RW_PAYLOAD_MAX) {
			consider(&best, 0, "bad-payload",
				 "signature %zu in %s has a payload of %lld bytes, "
				 "more than inlay reads",
				 i, tag, (long long)se->size);
			continue;
		}
		if (rg_blob_get(v->ep, se->digest, &payload, e) < 0) {
			if (!is_finding(e))
				goto out;
			consider(&best, 0, "bad-payload", "signature %zu in %s: payload blob: %s",
				 i, tag, e->msg);
			err_clear(e);
			continue;
		}
		if (ly_verify_base64(v->key, payload.data, payload.len, se->signature, e) < 0) {
			if (e->cls != ERR_VERIFY)
				goto out;
			err_clear(e);
			consider(&best, 1, "bad-signature", "%s", tag);
			continue;
		}
		if (rw_payload_parse(payload.data, payload.len, &p, e) < 0) {
			consider(&best, 2, "bad-payload",
				 "signature %zu in %s verifies, but its payload is "
				 "unusable: %s",
				 i, tag, e->msg);
			err_clear(e);
			continue;
		}
		if (strcmp(p.digest, s->digest) != 0) {
			consider(&best, 3, "digest-mismatch",
				 "digest mismatch: a signature verifies, but its payload names %s, "
				 "not this "
				 "digest: it was made for another image",
				 p.digest);
		} else if (!rw_same_repository(p.docker_reference, v->identity)) {
			consider(
			    &best, 3, "reference-mismatch",
			    "reference mismatch: a signature verifies, but it names the repository "
			    "'%.200s', not %s (for an image copied from there with its signatures, "
			    "give --identity %.200s)",
			    p.docker_reference, v->identity, p.docker_reference);
		} else {
			record(v, s, "signature", NULL,
			       "cosign signature in %s:%s verifies with %s; its payload names this "
			       "digest "
			       "in %s",
			       repo, tag, v->fingerprint, p.docker_reference);
			rc = 0;
			goto out;
		}
		rw_payload_clear(&p);
	}
	if (candidates == 0)
		record(v, s, "signature", "no-signature",
		       "no signature: %s holds no %s layer with a %s annotation", tag,
		       MT_COSIGN_SIMPLESIGNING, ANN_COSIGN_SIGNATURE);
	else if (best.rank == 1)
		record(v, s, "signature", "bad-signature",
		       "bad signature: none of the %zu signature(s) in %s verifies with the key %s "
		       "(%s): made with another key, or the payload was altered",
		       candidates, best.detail, v->key_path, v->fingerprint);
	else
		record(v, s, "signature", best.reason, "%s", best.detail);
	rc = 0;
out:
	rw_payload_clear(&p);
	buf_free(&payload);
	rw_sig_manifest_free(sm);
	rg_manifest_blob_clear(&mb);
	return rc;
}

/* Render argv as JSON for a message, cut to fit. */
static void argv_text(const char *const *argv, char *out, size_t size)
{
	json_t *a = json_array();
	char *s;
	size_t i;

	for (i = 0; a && argv && argv[i]; i++)
		json_array_append_new(a, json_string(argv[i]));
	s = a && argv ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	snprintf(out, size, "%.200s", s ? s : "none");
	free(s);
	json_decref(a);
}

/* The checks of one image's config against its manifest and the key. */
static int check_image(struct verify *v, struct subject *s, const struct mf_manifest *m,
		       struct err *e)
{
	const char *version, *layer, *sig, *signer, *last = NULL;
	const char *const *entry;
	struct mf_config *cfg = NULL;
	size_t n = mf_manifest_layer_count(m), i;
	struct buf cb;
	int rc = -1;

	buf_init(&cb, LIMIT_CONFIG_BYTES);
	if (rg_blob_get(v->ep, mf_manifest_config(m)->digest, &cb, e) < 0 ||
	    mf_config_parse(cb.data, cb.len, &cfg, e) < 0) {
		if (!is_finding(e))
			goto out;
		record(v, s, "instrumented", "bad-config", "the image config %s is unusable: %s",
		       mf_manifest_config(m)->digest, e->msg);
		err_clear(e);
		rc = 0;
		goto out;
	}
	if (strcmp(s->what, "image") == 0)
		snprintf(s->what, sizeof(s->what), "%.20s/%.20s%s%.20s", mf_config_os(cfg),
			 mf_config_architecture(cfg), mf_config_variant(cfg) ? "/" : "",
			 mf_config_variant(cfg) ? mf_config_variant(cfg) : "");
	version = mf_config_label(cfg, LABEL_SENSOR_VERSION);
	if (!version) {
		record(v, s, "instrumented", "not-instrumented",
		       "not instrumented: the image config has no label %s (instrument it with "
		       "'inlay instrument --key')",
		       LABEL_SENSOR_VERSION);
		rc = 0;
		goto out;
	}
	record(v, s, "instrumented", NULL, "instrumented by inlay, sensor %.60s", version);

	layer = mf_config_label(cfg, LABEL_SENSOR_DIGEST);
	if (n > 0)
		last = mf_manifest_layer(m, n - 1)->digest;
	if (!layer) {
		record(v, s, "sensor-layer", "layer-mismatch",
		       "layer mismatch: the config has no label %s naming the sensor layer",
		       LABEL_SENSOR_DIGEST);
	} else if (!last || strcmp(last, layer) != 0) {
		for (i = 0; i < n && strcmp(mf_manifest_layer(m, i)->digest, layer) != 0; i++)
			;
		record(
		    v, s, "sensor-layer", "layer-mismatch",
		    "layer mismatch: the config names the sensor layer %.80s, but the image's last "
		    "layer is %s (%s)",
		    layer, last ? last : "none",
		    i < n ? "the named layer is not the last one"
			  : "the named layer is not in the image");
	} else {
		record(v, s, "sensor-layer", NULL,
		       "%s is the image's last layer, as the config says", layer);
	}

	sig = mf_config_label(cfg, LABEL_SENSOR_SIGNATURE);
	signer = mf_config_label(cfg, LABEL_SENSOR_SIGNER);
	if (!sig) {
		record(v, s, "sensor-signature", "unsigned-sensor-layer",
		       "the sensor layer is not signed (no label %s): the image was instrumented "
		       "without --key; instrument it again with --key",
		       LABEL_SENSOR_SIGNATURE);
	} else if (!signer || strcmp(signer, v->fingerprint) != 0) {
		record(v, s, "sensor-signature", "wrong-key",
		       "wrong key: the sensor layer was signed by %.80s, not by the key %s (%s)",
		       signer ? signer : "an unnamed key (no label " LABEL_SENSOR_SIGNER ")",
		       v->key_path, v->fingerprint);
	} else if (!layer || ly_verify_base64(v->key, layer, strlen(layer), sig, e) < 0) {
		if (layer && e->cls != ERR_VERIFY)
			goto out;
		err_clear(e);
		record(v, s, "sensor-signature", "bad-signature",
		       "bad signature: the sensor layer signature (label %s) does not verify over "
		       "%.80s with the key %s",
		       LABEL_SENSOR_SIGNATURE, layer ? layer : "(no layer named)", v->key_path);
	} else {
		record(v, s, "sensor-signature", NULL, "the sensor layer %s is signed by %s", layer,
		       v->fingerprint);
	}

	entry = mf_config_entrypoint(cfg);
	if (!entry || !entry[0] || strcmp(entry[0], RW_SENSOR_PATH) != 0 || !entry[1] ||
	    strcmp(entry[1], "--") != 0) {
		char text[256];

		argv_text(entry, text, sizeof(text));
		record(
		    v, s, "entrypoint", "entrypoint",
		    "the entrypoint does not start the sensor: it is %s, not [\"%s\",\"--\",...]",
		    text, RW_SENSOR_PATH);
	} else {
		record(v, s, "entrypoint", NULL, "the entrypoint starts %s --", RW_SENSOR_PATH);
	}
	rc = 0;
out:
	mf_config_free(cfg);
	buf_free(&cb);
	return rc;
}

static int verify_index(struct verify *v, const struct rg_manifest_blob *mb,
			const struct mf_manifest *idx, const struct rw_common *c, struct err *e)
{
	struct subject *top = new_subject(v, mb->digest, "index");
	size_t i, images = 0;

	if (check_signature(v, top, e) < 0)
		return -1;
	for (i = 0; i < mf_manifest_child_count(idx); i++) {
		const struct mf_descriptor *d = mf_manifest_child(idx, i);
		struct rg_manifest_blob cmb = {0};
		struct mf_manifest *child = NULL;
		struct subject *s;
		char *pl;
		int rc;

		if (rw_is_attestation(d) ||
		    !rw_platform_selected(&d->platform, c->platforms, c->n_platforms))
			continue;
		images++;
		pl = mf_platform_string(&d->platform);
		s = new_subject(v, d->digest, pl ? pl : "image");
		free(pl);
		rc = rg_manifest_get(v->ep, d->digest, &cmb, e);
		if (rc < 0 && is_finding(e)) {
			/* A child that is missing or does not match its digest is
			 * something the index's signer vouched for: a finding. */
			record(v, s, "instrumented", "bad-manifest", "unusable manifest: %s",
			       e->msg);
			err_clear(e);
			rc = 0;
		} else if (rc == 0 &&
			   mf_manifest_parse(cmb.data, cmb.len,
					     cmb.media_type ? cmb.media_type : d->media_type,
					     &child, e) < 0) {
			record(v, s, "instrumented", "bad-manifest", "unusable manifest: %s",
			       e->msg);
			err_clear(e);
		} else if (rc == 0 && mf_manifest_kind(child) != MF_KIND_IMAGE) {
			record(v, s, "instrumented", "not-instrumented",
			       "not instrumented: a nested index, which inlay does not make");
		} else if (rc == 0) {
			rc = check_signature(v, s, e);
			if (rc == 0)
				rc = check_image(v, s, child, e);
		}
		mf_manifest_free(child);
		rg_manifest_blob_clear(&cmb);
		if (rc < 0)
			return err_prefix(e, "%s@%s", rg_endpoint_repository(v->ep), d->digest);
	}
	if (images == 0 && c->n_platforms)
		return err_set(e, ERR_INPUT,
			       "%s: the index has no image for the platforms asked for",
			       rg_endpoint_display(v->ep));
	if (images == 0)
		record(v, top, "instrumented", "not-instrumented",
		       "not instrumented: the index holds no image (only attestations)");
	return 0;
}

static void print_text(const struct verify *v, const char *digest)
{
	size_t i, k;

	printf("%s@%s, key %s (%s %s)\n", rg_endpoint_repository(v->ep), digest, v->key_path,
	       ly_key_type_name(ly_key_type(v->key)), v->fingerprint);
	for (i = 0; i < v->n; i++) {
		const struct subject *s = &v->subjects[i];

		printf("%s %s\n", s->digest, s->what);
		for (k = 0; k < s->n; k++)
			printf("  %-4s  %-16s  %s\n", s->checks[k].ok ? "ok" : "FAIL",
			       s->checks[k].name, s->checks[k].detail);
	}
	if (v->failures)
		printf("FAILED: %zu of %zu checks\n", v->failures, v->checks);
	else
		printf("verified: %zu manifest%s, %zu checks\n", v->n, v->n == 1 ? "" : "s",
		       v->checks);
}

static int print_json(const struct verify *v, const char *digest, struct err *e)
{
	json_t *arr = json_array(), *o;
	size_t i, k;

	for (i = 0; arr && i < v->n; i++) {
		const struct subject *s = &v->subjects[i];
		json_t *checks = json_array();
		bool ok = true;

		for (k = 0; checks && k < s->n; k++) {
			const struct check *c = &s->checks[k];

			ok = ok && c->ok;
			json_array_append_new(checks, json_pack("{s:s, s:b, s:s?, s:s}", "check",
								c->name, "ok", c->ok, "reason",
								c->reason, "detail", c->detail));
		}
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:o}", "digest", s->digest,
						     "platform", s->what, "verified", ok, "checks",
						     checks));
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:b, s:I, s:o}", "reference",
		      rg_endpoint_display(v->ep), "repository", rg_endpoint_repository(v->ep),
		      "digest", digest, "identity", v->identity, "key", "file", v->key_path, "type",
		      ly_key_type_name(ly_key_type(v->key)), "signer", v->fingerprint, "verified",
		      v->failures == 0, "failures", (json_int_t)v->failures, "manifests", arr);
	return rw_print_json(o, e);
}

int cmd_verify(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {
	    RW_TRANSPORT_OPTIONS,
	    {"key", required_argument, NULL, OPT_KEY},
	    {"identity", required_argument, NULL, OPT_IDENTITY},
	    {NULL, 0, NULL, 0},
	};
	struct verify v = {0};
	struct rg_manifest_blob mb = {0};
	struct mf_manifest *m = NULL;
	struct ly_key *key = NULL;
	const char *identity = NULL;
	struct rw_common c;
	int opt, rc = -1;

	rw_common_init(&c);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = rw_common_option(&c, opt, optarg, e);

		if (r < 0)
			goto out;
		if (r == 1)
			continue;
		if (opt == OPT_KEY) {
			v.key_path = optarg;
		} else if (opt == OPT_IDENTITY) {
			identity = optarg;
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
	if (!v.key_path) {
		rw_usage_error(e, "verify", "give --key PUB, the public key to verify with");
		goto out;
	}
	if (ly_key_load_public(v.key_path, &key, e) < 0 ||
	    ly_key_fingerprint(key, v.fingerprint, e) < 0)
		goto out;
	v.key = key;
	if (rg_endpoint_open(argv[optind], &c.src, &v.ep, e) < 0)
		goto out;
	v.identity = identity ? identity : rg_endpoint_repository(v.ep);
	if (rg_manifest_get(v.ep, NULL, &mb, e) < 0)
		goto out;
	if (mf_manifest_parse(mb.data, mb.len, mb.media_type, &m, e) < 0) {
		err_prefix(e, "%s", rg_endpoint_display(v.ep));
		goto out;
	}
	/* One subject for the manifest, one per child of an index. */
	v.subjects = calloc(mf_manifest_child_count(m) + 1, sizeof(*v.subjects));
	if (!v.subjects) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (mf_manifest_kind(m) == MF_KIND_INDEX) {
		if (verify_index(&v, &mb, m, &c, e) < 0)
			goto out;
	} else {
		struct subject *s = new_subject(&v, mb.digest, "image");

		if (check_signature(&v, s, e) < 0 || check_image(&v, s, m, e) < 0) {
			err_prefix(e, "%s", rg_endpoint_display(v.ep));
			goto out;
		}
	}
	if (c.json) {
		if (print_json(&v, mb.digest, e) < 0)
			goto out;
	} else {
		print_text(&v, mb.digest);
	}
	rc = 0;
	if (v.failures) {
		/* The first failure says what to fix first; the report above has
		 * the others. */
		err_set(e, ERR_VERIFY, "%s@%s (%s): %s", rg_endpoint_repository(v.ep),
			v.first_subject->digest, v.first_subject->what, v.first->detail);
		if (v.failures > 1)
			err_prefix(e, "%zu checks failed; the first", v.failures);
		rc = -1;
	}
out:
	free(v.subjects);
	rg_endpoint_free(v.ep);
	ly_key_free(key);
	mf_manifest_free(m);
	rg_manifest_blob_clear(&mb);
	rw_common_free(&c);
	return rc;
}
