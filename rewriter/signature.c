/* signature.c - see signature.h. The documents are built with jansson in a
 * fixed key order (compact, no timestamps), so that the same key over the
 * same digest always gives the same bytes with Ed25519. */
#include "signature.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../layers/hash.h"
#include "../manifest/mediatype.h"
#include "../manifest/ref.h"

/* What go-containerregistry writes for the "created" of an empty image. */
#define ZERO_TIME "0001-01-01T00:00:00Z"

/* --- payload ----------------------------------------------------------- */

static int dump_compact(json_t *doc, char **ret, size_t *ret_len, struct err *e)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (!s)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	*ret = s;
	*ret_len = strlen(s);
	return 0;
}

int rw_payload_build(const char *docker_reference, const char *digest, char **ret_payload,
		     size_t *ret_len, struct err *e)
{
	char creator[64];
	json_t *doc;
	int rc;

	if (mf_digest_check(digest, "signed digest", e) < 0)
		return -1;
	if (!docker_reference[0] || strlen(docker_reference) > RW_REFERENCE_MAX)
		return err_set(e, ERR_INPUT, "a signature needs a repository name of 1 to %d bytes",
			       RW_REFERENCE_MAX);
	snprintf(creator, sizeof(creator), "inlay %s", INLAY_VERSION);
	doc = json_pack("{s:{s:{s:s}, s:{s:s}, s:s}, s:{s:s}}", "critical", "identity",
			"docker-reference", docker_reference, "image", "docker-manifest-digest",
			digest, "type", RW_COSIGN_PAYLOAD_TYPE, "optional", "creator", creator);
	rc = dump_compact(doc, ret_payload, ret_len, e);
	json_decref(doc);
	return rc;
}

/* obj is an object with exactly n keys (checked before each is read). */
static bool exact_size(const json_t *obj, size_t n)
{
	return json_is_object(obj) && json_object_size(obj) == n;
}

int rw_payload_parse(const void *data, size_t len, struct rw_payload *ret, struct err *e)
{
	json_t *doc, *critical, *optional, *image, *identity, *type, *digest, *ref;
	json_error_t je;
	int rc = -1;

	if (len > RW_PAYLOAD_MAX)
		return err_set(e, ERR_VERIFY,
			       "signature payload: %zu bytes, more than the %u allowed", len,
			       RW_PAYLOAD_MAX);
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return err_set(e, ERR_VERIFY, "signature payload: not JSON: %.200s (line %d)",
			       je.text, je.line);
	critical = json_object_get(doc, "critical");
	optional = json_object_get(doc, "optional");
	if (!exact_size(doc, 2) || !critical || !optional) {
		err_set(e, ERR_VERIFY,
			"signature payload: expected an object with exactly "
			"\"critical\" and \"optional\"");
		goto out;
	}
	if (!json_is_null(optional) && !json_is_object(optional)) {
		err_set(e, ERR_VERIFY, "signature payload: \"optional\" must be null or an object");
		goto out;
	}
	type = json_object_get(critical, "type");
	image = json_object_get(critical, "image");
	identity = json_object_get(critical, "identity");
	if (!exact_size(critical, 3) || !type || !image || !identity) {
		err_set(e, ERR_VERIFY,
			"signature payload: \"critical\" must hold exactly \"identity\", "
			"\"image\" and \"type\"");
		goto out;
	}
	if (!json_is_string(type) || strcmp(json_string_value(type), RW_COSIGN_PAYLOAD_TYPE) != 0) {
		err_set(e, ERR_VERIFY, "signature payload: critical.type is not \"%s\"",
			RW_COSIGN_PAYLOAD_TYPE);
		goto out;
	}
	digest = json_object_get(image, "docker-manifest-digest");
	if (!exact_size(image, 1) || !json_is_string(digest) ||
	    !mf_digest_valid(json_string_value(digest))) {
		err_set(e, ERR_VERIFY,
			"signature payload: critical.image must be exactly "
			"{\"docker-manifest-digest\": a valid digest}");
		goto out;
	}
	ref = json_object_get(identity, "docker-reference");
	if (!exact_size(identity, 1) || !json_is_string(ref) || json_string_length(ref) == 0 ||
	    json_string_length(ref) > RW_REFERENCE_MAX) {
		err_set(e, ERR_VERIFY,
			"signature payload: critical.identity must be exactly "
			"{\"docker-reference\": a repository name}");
		goto out;
	}
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->digest, sizeof(ret->digest), "%s", json_string_value(digest));
	ret->docker_reference = strdup(json_string_value(ref));
	if (!ret->docker_reference) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

void rw_payload_clear(struct rw_payload *p)
{
	if (!p)
		return;
	free(p->docker_reference);
	memset(p, 0, sizeof(*p));
}

int rw_signature_tag(const char *digest, char out[RW_SIGNATURE_TAG_MAX], struct err *e)
{
	char algorithm[8];

	if (mf_digest_check(digest, "digest to sign", e) < 0)
		return -1;
	mf_digest_algorithm(digest, algorithm);
	snprintf(out, RW_SIGNATURE_TAG_MAX, "%s-%s.sig", algorithm, mf_digest_hex(digest));
	return 0;
}

/* Docker Hub's aliases, as go-containerregistry and Docker name them. */
static const char *canonical_domain(const char *d)
{
	if (strcmp(d, "index.docker.io") == 0 || strcmp(d, "registry-1.docker.io") == 0)
		return "docker.io";
	return d;
}

bool rw_same_repository(const char *a, const char *b)
{
	struct mf_ref *ra = NULL, *rb = NULL;
	struct err e;
	bool same = false;

	if (strcmp(a, b) == 0)
		return true;
	if (mf_ref_parse(a, &ra, &e) == 0 && mf_ref_parse(b, &rb, &e) == 0 &&
	    strcmp(canonical_domain(ra->domain), canonical_domain(rb->domain)) == 0) {
		const char *pa = ra->path, *pb = rb->path;
		bool hub = strcmp(canonical_domain(ra->domain), "docker.io") == 0;

		/* "index.docker.io/busybox" is Docker Hub's library/busybox. */
		if (hub && !strchr(pa, '/') && strncmp(pb, "library/", 8) == 0)
			pb += 8;
		if (hub && !strchr(pb, '/') && strncmp(pa, "library/", 8) == 0)
			pa += 8;
		same = strcmp(pa, pb) == 0;
	}
	mf_ref_free(ra);
	mf_ref_free(rb);
	return same;
}

/* --- the signature image ----------------------------------------------- */

struct rw_sig_manifest {
	json_t *layers; /* the document's layers array, kept for rebuilding */
	struct rw_sig_entry *entries;
	size_t n;
};

void rw_sig_manifest_free(struct rw_sig_manifest *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free(m->entries[i].signature);
	free(m->entries);
	json_decref(m->layers);
	free(m);
}

size_t rw_sig_manifest_count(const struct rw_sig_manifest *m)
{
	return m->n;
}

const struct rw_sig_entry *rw_sig_manifest_entry(const struct rw_sig_manifest *m, size_t i)
{
	return i < m->n ? &m->entries[i] : NULL;
}

static int sig_entry_parse(json_t *layer, size_t i, struct rw_sig_entry *ent, struct err *e)
{
	json_t *mt = json_object_get(layer, "mediaType"),
	       *digest = json_object_get(layer, "digest"), *size = json_object_get(layer, "size"),
	       *ann = json_object_get(layer, "annotations");
	json_t *sig;

	if (!json_is_object(layer) || !json_is_string(mt) || !json_is_string(digest) ||
	    !mf_digest_valid(json_string_value(digest)) || !json_is_integer(size) ||
	    json_integer_value(size) < 0)
		return err_set(e, ERR_INPUT,
			       "layers[%zu]: not a descriptor with mediaType, a valid "
			       "digest and a size",
			       i);
	if (ann && !json_is_null(ann) && !json_is_object(ann))
		return err_set(e, ERR_INPUT, "layers[%zu].annotations: not an object", i);
	snprintf(ent->digest, sizeof(ent->digest), "%s", json_string_value(digest));
	ent->size = json_integer_value(size);
	ent->simplesigning = strcmp(json_string_value(mt), MT_COSIGN_SIMPLESIGNING) == 0;
	sig = json_is_object(ann) ? json_object_get(ann, ANN_COSIGN_SIGNATURE) : NULL;
	if (sig) {
		if (!json_is_string(sig) || json_string_length(sig) > RW_SIGNATURE_B64_MAX)
			return err_set(e, ERR_INPUT,
				       "layers[%zu]: annotation %s is not a string of at "
				       "most %d bytes",
				       i, ANN_COSIGN_SIGNATURE, RW_SIGNATURE_B64_MAX);
		ent->signature = strdup(json_string_value(sig));
		if (!ent->signature)
			return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	return 0;
}

int rw_sig_manifest_parse(const void *data, size_t len, struct rw_sig_manifest **ret, struct err *e)
{
	struct rw_sig_manifest *m = NULL;
	json_t *doc, *layers, *mt, *sv;
	json_error_t je;
	size_t i;
	int rc = -1;

	if (len > LIMIT_MANIFEST_BYTES)
		return err_set(e, ERR_INPUT, "signature manifest larger than %u bytes",
			       LIMIT_MANIFEST_BYTES);
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return err_set(e, ERR_INPUT, "signature manifest: not JSON: %.200s (line %d)",
			       je.text, je.line);
	sv = json_object_get(doc, "schemaVersion");
	mt = json_object_get(doc, "mediaType");
	layers = json_object_get(doc, "layers");
	if (!json_is_object(doc) || !json_is_integer(sv) || json_integer_value(sv) != 2) {
		err_set(e, ERR_INPUT, "signature manifest: not a schemaVersion 2 manifest");
		goto out;
	}
	if (mt &&
	    (!json_is_string(mt) || (strcmp(json_string_value(mt), MT_OCI_MANIFEST) != 0 &&
				     strcmp(json_string_value(mt), MT_DOCKER_MANIFEST) != 0))) {
		err_set(e, ERR_INPUT, "signature manifest: media type is not an image manifest's");
		goto out;
	}
	if (!json_is_array(layers)) {
		err_set(e, ERR_INPUT, "signature manifest: no layers array");
		goto out;
	}
	if (json_array_size(layers) > RW_SIG_LAYERS_MAX) {
		err_set(e, ERR_INPUT,
			"signature manifest: %zu layers, more than the %d signatures inlay "
			"reads",
			json_array_size(layers), RW_SIG_LAYERS_MAX);
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (!m || !(m->entries = calloc(json_array_size(layers) + 1, sizeof(*m->entries)))) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	for (i = 0; i < json_array_size(layers); i++) {
		m->n = i + 1; /* so rw_sig_manifest_free frees what was filled */
		if (sig_entry_parse(json_array_get(layers, i), i, &m->entries[i], e) < 0) {
			err_prefix(e, "signature manifest");
			goto out;
		}
	}
	m->n = json_array_size(layers);
	m->layers = json_incref(layers);
	*ret = m;
	m = NULL; /* transferred */
	rc = 0;
out:
	rw_sig_manifest_free(m);
	json_decref(doc);
	return rc;
}

void rw_sig_image_clear(struct rw_sig_image *img)
{
	if (!img)
		return;
	free(img->config);
	free(img->manifest);
	memset(img, 0, sizeof(*img));
}

/* The config go-containerregistry writes for an empty image with these
 * layers: zero times, empty platform, one history entry and one diff_id per
 * layer (a simple-signing layer is uncompressed: its diff_id is its digest). */
static json_t *sig_config(json_t *layers)
{
	json_t *history = json_array(), *diff_ids = json_array(), *cfg;
	size_t i;

	for (i = 0; history && diff_ids && i < json_array_size(layers); i++) {
		json_t *l = json_array_get(layers, i);

		json_array_append_new(history, json_pack("{s:s}", "created", ZERO_TIME));
		json_array_append(diff_ids, json_object_get(l, "digest"));
	}
	cfg = json_pack("{s:s, s:s, s:o, s:s, s:{s:s, s:o}, s:{}}", "architecture", "", "created",
			ZERO_TIME, "history", history, "os", "", "rootfs", "type", "layers",
			"diff_ids", diff_ids, "config");
	return cfg;
}

int rw_sig_image_build(const struct rw_sig_manifest *existing, const char *payload_digest,
		       size_t payload_len, const char *signature_b64, struct rw_sig_image *ret,
		       struct err *e)
{
	struct rw_sig_image img = {0};
	json_t *layers = NULL, *cfg = NULL, *man = NULL;
	size_t i;
	int rc = -1;

	if (mf_digest_check(payload_digest, "payload digest", e) < 0)
		return -1;
	if (existing && existing->n >= RW_SIG_LAYERS_MAX)
		return err_set(e, ERR_INPUT,
			       "the signature image already holds %d signatures; inlay "
			       "adds no more",
			       RW_SIG_LAYERS_MAX);
	layers = json_array();
	for (i = 0; layers && existing && i < existing->n; i++)
		if (json_array_append_new(layers,
					  json_deep_copy(json_array_get(existing->layers, i))) < 0)
			goto oom;
	if (!layers ||
	    json_array_append_new(
		layers, json_pack("{s:s, s:I, s:s, s:{s:s}}", "mediaType", MT_COSIGN_SIMPLESIGNING,
				  "size", (json_int_t)payload_len, "digest", payload_digest,
				  "annotations", ANN_COSIGN_SIGNATURE, signature_b64)) < 0)
		goto oom;
	cfg = sig_config(layers);
	if (dump_compact(cfg, &img.config, &img.config_len, e) < 0)
		goto out;
	ly_sha256_digest(img.config, img.config_len, img.config_digest);
	man = json_pack("{s:i, s:s, s:{s:s, s:I, s:s}, s:O}", "schemaVersion", 2, "mediaType",
			MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG, "size",
			(json_int_t)img.config_len, "digest", img.config_digest, "layers", layers);
	if (dump_compact(man, &img.manifest, &img.manifest_len, e) < 0)
		goto out;
	ly_sha256_digest(img.manifest, img.manifest_len, img.manifest_digest);
	*ret = img;
	memset(&img, 0, sizeof(img)); /* transferred */
	rc = 0;
	goto out;
oom:
	err_set(e, ERR_OPERATIONAL, "out of memory");
out:
	rw_sig_image_clear(&img);
	json_decref(layers);
	json_decref(cfg);
	json_decref(man);
	return rc;
}

/* --- signing over the registry ----------------------------------------- */

/* True when `existing` already holds a signature by key over this payload. */
static bool already_signed(const struct rw_sig_manifest *existing, const struct ly_key *key,
			   const char *payload, size_t payload_len, const char *payload_digest)
{
	size_t i;

	for (i = 0; existing && i < existing->n; i++) {
		const struct rw_sig_entry *s = &existing->entries[i];
		struct err ignored;

		if (s->simplesigning && s->signature && strcmp(s->digest, payload_digest) == 0 &&
		    ly_verify_base64(key, payload, payload_len, s->signature, &ignored) == 0)
			return true;
	}
	return false;
}

int rw_sign_manifest(struct rg_endpoint *ep, const struct ly_key *key, const char *digest,
		     bool *ret_pushed, struct err *e)
{
	return rw_sign_manifest_as(ep, rg_endpoint_repository(ep), key, digest, ret_pushed, e);
}

int rw_sign_manifest_as(struct rg_endpoint *ep, const char *identity, const struct ly_key *key,
			const char *digest, bool *ret_pushed, struct err *e)
{
	struct rg_manifest_blob mb = {0};
	struct rw_sig_manifest *existing = NULL;
	struct rw_sig_image img = {0};
	char tag[RW_SIGNATURE_TAG_MAX], payload_digest[LY_DIGEST_MAX];
	char *payload = NULL, *sig = NULL;
	const char *repo = identity;
	size_t payload_len;
	bool pushed = false;
	int rc = -1;

	if (rw_signature_tag(digest, tag, e) < 0 ||
	    rw_payload_build(repo, digest, &payload, &payload_len, e) < 0)
		goto out;
	ly_sha256_digest(payload, payload_len, payload_digest);
	if (rg_manifest_get(ep, tag, &mb, e) == 0) {
		if (rw_sig_manifest_parse(mb.data, mb.len, &existing, e) < 0) {
			err_prefix(
			    e,
			    "%s:%s is not a cosign signature image, so inlay will not replace "
			    "it (delete that tag to sign %s)",
			    repo, tag, digest);
			e->cls = ERR_INPUT;
			goto out;
		}
	} else if (e->http_status == 404) {
		err_clear(e); /* no signature yet: the first one is made below */
	} else {
		err_prefix(e, "read the signatures of %s@%s", repo, digest);
		goto out;
	}
	if (!already_signed(existing, key, payload, payload_len, payload_digest)) {
		if (ly_sign_base64(key, payload, payload_len, &sig, e) < 0 ||
		    rw_sig_image_build(existing, payload_digest, payload_len, sig, &img, e) < 0)
			goto out;
		/* Push order: blobs, then the manifest that names them. */
		if (rg_blob_put(ep, payload_digest, payload, payload_len, e) < 0 ||
		    rg_blob_put(ep, img.config_digest, img.config, img.config_len, e) < 0 ||
		    rg_manifest_put(ep, tag, img.manifest, img.manifest_len, MT_OCI_MANIFEST, e) <
			0) {
			err_prefix(e, "push the signature of %s@%s", repo, digest);
			goto out;
		}
		pushed = true;
	}
	if (ret_pushed)
		*ret_pushed = pushed;
	rc = 0;
out:
	free(payload);
	free(sig);
	rw_sig_image_clear(&img);
	rw_sig_manifest_free(existing);
	rg_manifest_blob_clear(&mb);
	return rc;
}

int rw_sign_instrumented(struct rg_endpoint *dst, const struct ly_key *key,
			 const struct rw_instrument_result *r, struct err *e)
{
	return rw_sign_instrumented_as(dst, rg_endpoint_repository(dst), key, r, e);
}

int rw_sign_instrumented_as(struct rg_endpoint *dst, const char *identity,
			    const struct ly_key *key, const struct rw_instrument_result *r,
			    struct err *e)
{
	size_t i;

	for (i = 0; i < r->n_platforms; i++) {
		const struct rw_platform_result *p = &r->platforms[i];

		if (p->instrumented && strcmp(p->result_digest, r->result_digest) != 0 &&
		    rw_sign_manifest_as(dst, identity, key, p->result_digest, NULL, e) < 0)
			return -1;
	}
	return rw_sign_manifest_as(dst, identity, key, r->result_digest, NULL, e);
}

bool rw_is_attestation(const struct mf_descriptor *d)
{
	return mf_descriptor_annotation(d, ANN_DOCKER_REFERENCE_TYPE) ||
	       (d->platform.os && strcmp(d->platform.os, "unknown") == 0 &&
		d->platform.architecture && strcmp(d->platform.architecture, "unknown") == 0);
}

bool rw_platform_selected(const struct mf_platform *pl, const struct mf_platform *want, size_t n)
{
	size_t k;

	if (n == 0)
		return true;
	if (!pl->os || !pl->architecture)
		return false;
	for (k = 0; k < n; k++)
		if (mf_platform_matches(pl, &want[k]))
			return true;
	return false;
}

/* --- the sensor layer's signature labels ------------------------------- */

int rw_sensor_labels_sign(const struct ly_key *key, struct mf_config *cfg, const char *layer_digest,
			  struct err *e)
{
	char fingerprint[LY_DIGEST_MAX], *sig = NULL;
	int rc = -1;

	if (!key)
		return 0;
	if (ly_key_fingerprint(key, fingerprint, e) < 0 ||
	    ly_sign_base64(key, layer_digest, strlen(layer_digest), &sig, e) < 0)
		goto out;
	if (mf_config_set_label(cfg, LABEL_SENSOR_SIGNATURE, sig, e) < 0 ||
	    mf_config_set_label(cfg, LABEL_SENSOR_SIGNER, fingerprint, e) < 0)
		goto out;
	rc = 0;
out:
	free(sig);
	return rc;
}

/* --- keys --------------------------------------------------------------- */

static volatile sig_atomic_t tty_signal;

static void on_tty_signal(int sig)
{
	tty_signal = sig;
}

/* Ask on the terminal with echo off. A signal while asking restores the
 * terminal before it takes effect, so ^C never leaves the user's terminal
 * silent. Returns the length, or -1. */
static int tty_ask(const char *prompt, char *buf, size_t size, struct err *e)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
	struct sigaction sa, old_sa[sizeof(sigs) / sizeof(sigs[0])];
	struct termios old, quiet;
	size_t len = 0, i;
	bool too_long = false;
	ssize_t n = 0;
	char c;
	int fd, rc = -1;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return err_set(e, ERR_INPUT, "no terminal to ask for the passphrase on; set %s",
			       RW_KEY_PASSWORD_ENV);
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return err_sys(e, ERR_INPUT,
			       "cannot use the terminal to ask for the passphrase; set %s",
			       RW_KEY_PASSWORD_ENV);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tty_signal; /* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	tty_signal = 0;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, &old_sa[i]);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		err_sys(e, ERR_INPUT, "cannot use the terminal to ask for the passphrase; set %s",
			RW_KEY_PASSWORD_ENV);
		goto restore;
	}
	while (!tty_signal && (n = read(fd, &c, 1)) == 1 && c != '\n') {
		if (len + 1 < size)
			buf[len++] = c;
		else
			too_long = true;
	}
	buf[len] = '\0';
	if (tty_signal || n < 0)
		err_set(e, ERR_INPUT, "no passphrase given");
	else if (too_long)
		err_set(e, ERR_INPUT, "the passphrase is longer than %zu bytes", size - 1);
	else
		rc = (int)len;
restore:
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* Only cosmetic: the prompt's line is not ended. */
	}
	close(fd);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &old_sa[i], NULL);
	if (rc < 0)
		explicit_bzero(buf, size);
	if (tty_signal)
		raise(tty_signal); /* now with the terminal as it was */
	return rc;
}

int rw_passphrase(char *buf, size_t size, const char *what, void *ctx, struct err *e)
{
	const char *env = getenv(RW_KEY_PASSWORD_ENV);
	char prompt[512];

	(void)ctx;
	if (env) {
		size_t n = strlen(env);

		if (n + 1 > size)
			return err_set(e, ERR_INPUT, "%s is longer than %zu bytes",
				       RW_KEY_PASSWORD_ENV, size - 1);
		memcpy(buf, env, n + 1);
		return (int)n;
	}
	snprintf(prompt, sizeof(prompt), "Passphrase for %.400s: ", what);
	return tty_ask(prompt, buf, size, e);
}

int rw_new_passphrase(const char *what, char **ret_pass, struct err *e)
{
	char *a = calloc(1, LY_PASSPHRASE_MAX + 1), *b = calloc(1, LY_PASSPHRASE_MAX + 1);
	const char *env = getenv(RW_KEY_PASSWORD_ENV);
	char prompt[512];
	int rc = -1;

	if (!a || !b) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (env) {
		if (strlen(env) > LY_PASSPHRASE_MAX) {
			err_set(e, ERR_INPUT, "%s is longer than %d bytes", RW_KEY_PASSWORD_ENV,
				LY_PASSPHRASE_MAX);
			goto out;
		}
		strcpy(a, env);
	} else {
		snprintf(prompt, sizeof(prompt), "New passphrase for %.400s: ", what);
		if (tty_ask(prompt, a, LY_PASSPHRASE_MAX + 1, e) < 0)
			goto out;
		snprintf(prompt, sizeof(prompt), "The same passphrase again: ");
		if (tty_ask(prompt, b, LY_PASSPHRASE_MAX + 1, e) < 0)
			goto out;
		if (strcmp(a, b) != 0) {
			err_set(e, ERR_INPUT, "the two passphrases differ");
			goto out;
		}
	}
	if (!a[0]) {
		err_set(e, ERR_INPUT,
			"an empty passphrase encrypts nothing; give one, or leave out "
			"--encrypt");
		goto out;
	}
	*ret_pass = a;
	a = NULL; /* transferred */
	rc = 0;
out:
	if (a)
		explicit_bzero(a, LY_PASSPHRASE_MAX + 1);
	if (b)
		explicit_bzero(b, LY_PASSPHRASE_MAX + 1);
	free(a);
	free(b);
	return rc;
}

int rw_key_load(const char *path, struct ly_key **ret_key, struct err *e)
{
	return ly_key_load_private(path, rw_passphrase, NULL, ret_key, e);
}

int rw_manifest_present(struct rg_endpoint *ep, const char *reference, struct err *e)
{
	struct rg_manifest_blob mb = {0};
	int rc = rg_manifest_get(ep, reference, &mb, e);

	rg_manifest_blob_clear(&mb);
	if (rc == 0)
		return 1;
	if (e->http_status == 404) {
		err_clear(e);
		return 0;
	}
	return -1;
}

int rw_instrumented_signed(struct rg_endpoint *dst, const struct rw_instrument_result *res,
			  struct err *e)
{
	char tag[RW_SIGNATURE_TAG_MAX];
	size_t i;
	int r;

	if (rw_signature_tag(res->result_digest, tag, e) < 0)
		return -1;
	if ((r = rw_manifest_present(dst, tag, e)) <= 0)
		return r;
	for (i = 0; i < res->n_platforms; i++) {
		if (!res->platforms[i].instrumented ||
		    strcmp(res->platforms[i].result_digest, res->result_digest) == 0)
			continue;
		if (rw_signature_tag(res->platforms[i].result_digest, tag, e) < 0)
			return -1;
		if ((r = rw_manifest_present(dst, tag, e)) <= 0)
			return r;
	}
	return 1;
}
