/* verify.c - the checks of `inlay verify` (see verify.h), over a registry
 * endpoint, collected into a report. */
#include "verify.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../manifest/config.h"
#include "../manifest/mediatype.h"
#include "instrument.h"
#include "signature.h"

/* One run: where the manifests are read, what they are checked with, and
 * the report being filled. */
struct verify {
	struct rg_endpoint *ep;
	const struct rw_verify_options *o;
	struct rw_verify_report *r;
};

static struct rw_verify_subject *new_subject(struct verify *v, const char *digest, const char *what)
{
	struct rw_verify_subject *s = &v->r->subjects[v->r->n++];

	memset(s, 0, sizeof(*s));
	snprintf(s->digest, sizeof(s->digest), "%s", digest);
	snprintf(s->what, sizeof(s->what), "%s", what);
	return s;
}

static void record(struct verify *v, struct rw_verify_subject *s, const char *name,
		   const char *reason, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void record(struct verify *v, struct rw_verify_subject *s, const char *name,
		   const char *reason, const char *fmt, ...)
{
	struct rw_verify_check *c;
	va_list ap;

	if (s->n >= RW_VERIFY_MAX_CHECKS)
		return;
	c = &s->checks[s->n++];
	c->name = name;
	c->ok = reason == NULL;
	c->reason = reason;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	v->r->checks++;
	if (c->ok)
		return;
	if (v->r->failures++ == 0) {
		v->r->first_subject = s;
		v->r->first = c;
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
static int check_signature(struct verify *v, struct rw_verify_subject *s, struct err *e)
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
		if (ly_verify_base64(v->o->key, payload.data, payload.len, se->signature, e) < 0) {
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
		} else if (!rw_same_repository(p.docker_reference, v->r->identity)) {
			consider(
			    &best, 3, "reference-mismatch",
			    "reference mismatch: a signature verifies, but it names the repository "
			    "'%.200s', not %s (for an image copied from there with its signatures, "
			    "give --identity %.200s)",
			    p.docker_reference, v->r->identity, p.docker_reference);
		} else {
			record(v, s, "signature", NULL,
			       "cosign signature in %s:%s verifies with %s; its payload names this "
			       "digest "
			       "in %s",
			       repo, tag, v->r->fingerprint, p.docker_reference);
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
		       candidates, best.detail, v->o->key_path, v->r->fingerprint);
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
static int check_image(struct verify *v, struct rw_verify_subject *s, const struct mf_manifest *m,
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
	} else if (!signer || strcmp(signer, v->r->fingerprint) != 0) {
		record(v, s, "sensor-signature", "wrong-key",
		       "wrong key: the sensor layer was signed by %.80s, not by the key %s (%s)",
		       signer ? signer : "an unnamed key (no label " LABEL_SENSOR_SIGNER ")",
		       v->o->key_path, v->r->fingerprint);
	} else if (!layer || ly_verify_base64(v->o->key, layer, strlen(layer), sig, e) < 0) {
		if (layer && e->cls != ERR_VERIFY)
			goto out;
		err_clear(e);
		record(v, s, "sensor-signature", "bad-signature",
		       "bad signature: the sensor layer signature (label %s) does not verify over "
		       "%.80s with the key %s",
		       LABEL_SENSOR_SIGNATURE, layer ? layer : "(no layer named)", v->o->key_path);
	} else {
		record(v, s, "sensor-signature", NULL, "the sensor layer %s is signed by %s", layer,
		       v->r->fingerprint);
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

/* The index's own signature, then each selected image. */
static int verify_index(struct verify *v, const struct rg_manifest_blob *mb,
			const struct mf_manifest *idx, struct err *e)
{
	struct rw_verify_subject *top = new_subject(v, mb->digest, "index");
	size_t i, images = 0;

	if (check_signature(v, top, e) < 0)
		return -1;
	for (i = 0; i < mf_manifest_child_count(idx); i++) {
		const struct mf_descriptor *d = mf_manifest_child(idx, i);
		struct rg_manifest_blob cmb = {0};
		struct mf_manifest *child = NULL;
		struct rw_verify_subject *s;
		char *pl;
		int rc;

		if (rw_is_attestation(d) ||
		    !rw_platform_selected(&d->platform, v->o->platforms, v->o->n_platforms))
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
	if (images == 0 && v->o->n_platforms)
		return err_set(e, ERR_INPUT,
			       "%s: the index has no image for the platforms asked for",
			       rg_endpoint_display(v->ep));
	if (images == 0)
		record(v, top, "instrumented", "not-instrumented",
		       "not instrumented: the index holds no image (only attestations)");
	return 0;
}

void rw_verify_report_free(struct rw_verify_report *r)
{
	if (!r)
		return;
	free(r->subjects);
	free(r->identity);
	free(r);
}

int rw_verify(struct rg_endpoint *ep, const struct rw_verify_options *o,
	      struct rw_verify_report **ret_report, struct err *e)
{
	struct rw_verify_report *r = calloc(1, sizeof(*r));
	struct verify v = {ep, o, r};
	struct rg_manifest_blob mb = {0};
	struct mf_manifest *m = NULL;
	int rc = -1;

	if (!r) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (ly_key_fingerprint(o->key, r->fingerprint, e) < 0)
		goto out;
	r->identity = strdup(o->identity ? o->identity : rg_endpoint_repository(ep));
	if (!r->identity) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (rg_manifest_get(ep, NULL, &mb, e) < 0)
		goto out;
	if (mf_manifest_parse(mb.data, mb.len, mb.media_type, &m, e) < 0) {
		err_prefix(e, "%s", rg_endpoint_display(ep));
		goto out;
	}
	snprintf(r->digest, sizeof(r->digest), "%s", mb.digest);
	/* One subject for the manifest, one per child of an index. */
	r->subjects = calloc(mf_manifest_child_count(m) + 1, sizeof(*r->subjects));
	if (!r->subjects) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (mf_manifest_kind(m) == MF_KIND_INDEX) {
		if (verify_index(&v, &mb, m, e) < 0)
			goto out;
	} else {
		struct rw_verify_subject *s = new_subject(&v, mb.digest, "image");

		if (check_signature(&v, s, e) < 0 || check_image(&v, s, m, e) < 0) {
			err_prefix(e, "%s", rg_endpoint_display(ep));
			goto out;
		}
	}
	*ret_report = r;
	r = NULL; /* transferred */
	rc = 0;
out:
	rw_verify_report_free(r);
	mf_manifest_free(m);
	rg_manifest_blob_clear(&mb);
	return rc;
}

int rw_verify_failed(const struct rw_verify_report *r, const struct rg_endpoint *ep, struct err *e)
{
	if (r->failures == 0)
		return 0;
	err_set(e, ERR_VERIFY, "%s@%s (%s): %s", rg_endpoint_repository(ep),
		r->first_subject->digest, r->first_subject->what, r->first->detail);
	if (r->failures > 1)
		err_prefix(e, "%zu checks failed; the first", r->failures);
	return -1;
}
