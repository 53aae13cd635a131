/* signature.h - cosign-compatible image signatures (DESIGN.md section 6).
 *
 * A signature of the manifest with digest D in repository R is an OCI image
 * stored in R under the tag "sha256-<hex of D>.sig" (cosign's "tag" scheme):
 *   - one layer per signature, of media type MT_COSIGN_SIMPLESIGNING, whose
 *     bytes are the simple-signing payload naming R and D, and whose
 *     annotation ANN_COSIGN_SIGNATURE is the base64 signature over exactly
 *     those bytes;
 *   - a config blob that says nothing (what go-containerregistry writes for
 *     an empty image with those layers), so `cosign verify`, Kyverno and
 *     Sigstore's policy-controller read it as one of theirs.
 * Signing again with another key appends a layer; signing again with the
 * same key changes nothing. Payloads carry no timestamp, so with Ed25519
 * the whole signature image is reproducible.
 *
 * The payload:
 *   {"critical":{"identity":{"docker-reference":R},
 *                "image":{"docker-manifest-digest":D},
 *                "type":"cosign container image signature"},
 *    "optional":{"creator":"inlay VERSION"}}
 *
 * This file also holds the sensor-layer signature labels and the passphrase
 * prompt for encrypted keys (the only place inlay reads a terminal).
 */
#ifndef INLAY_RW_SIGNATURE_H
#define INLAY_RW_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../layers/sign.h"
#include "../manifest/config.h"
#include "../manifest/digest.h"
#include "../registry/registry.h"
#include "instrument.h"

#define RW_PAYLOAD_MAX (256u * 1024) /* a simple-signing payload; real ones are ~250 bytes */
#define RW_REFERENCE_MAX 1024	     /* docker-reference in a payload */
#define RW_SIG_LAYERS_MAX 64	     /* signatures examined in one .sig image */
#define RW_SIGNATURE_B64_MAX 4096    /* the signature annotation */
#define RW_SIGNATURE_TAG_MAX 144     /* "sha512-" + 128 hex + ".sig" + NUL */
#define RW_COSIGN_PAYLOAD_TYPE "cosign container image signature"
#define RW_KEY_PASSWORD_ENV "INLAY_KEY_PASSWORD"

/* --- payload ----------------------------------------------------------- */

struct rw_payload {
	char digest[MF_DIGEST_MAX]; /* critical.image.docker-manifest-digest, validated */
	char *docker_reference;	    /* critical.identity.docker-reference */
};

/* The payload bytes for a signature of `digest` in repository
 * `docker_reference`: compact JSON in the key order above, NUL-terminated.
 * Caller frees. */
int rw_payload_build(const char *docker_reference, const char *digest, char **ret_payload,
		     size_t *ret_len, struct err *e);

/* Parse untrusted payload bytes. Strict, as containers/image is: an object
 * with exactly "critical" and "optional"; "critical" with exactly
 * "identity", "image" and "type"; "type" the cosign type; "image" exactly
 * {"docker-manifest-digest": valid digest}; "identity" exactly
 * {"docker-reference": string}; "optional" null or an object (its contents
 * are ignored); no duplicate keys; at most RW_PAYLOAD_MAX bytes. ERR_VERIFY
 * on anything else: an unreadable payload is a signature that fails. Fill
 * *ret (free with rw_payload_clear). */
int rw_payload_parse(const void *data, size_t len, struct rw_payload *ret, struct err *e);

void rw_payload_clear(struct rw_payload *p);

/* "sha256-<hex>.sig" for a valid digest (the algorithm comes along:
 * "sha512-..." for sha512). ERR_INPUT for an invalid digest. */
int rw_signature_tag(const char *digest, char out[RW_SIGNATURE_TAG_MAX], struct err *e);

/* True when two repository names denote the same repository: equal, or
 * equal once parsed as references (docker.io, index.docker.io and
 * registry-1.docker.io are one registry; "library/" is implied). */
bool rw_same_repository(const char *a, const char *b);

/* --- the signature image ----------------------------------------------- */

/* One layer of a signature image. */
struct rw_sig_entry {
	char digest[MF_DIGEST_MAX];
	int64_t size;
	char *signature;    /* ANN_COSIGN_SIGNATURE, or NULL when the layer has none */
	bool simplesigning; /* its media type is MT_COSIGN_SIMPLESIGNING */
};

struct rw_sig_manifest; /* opaque: the parsed document and its entries */

/* Parse untrusted signature-image manifest bytes: an OCI (or Docker
 * schema2) image manifest with at most RW_SIG_LAYERS_MAX layers, each with
 * a media type, a valid digest and a size. ERR_INPUT otherwise. */
int rw_sig_manifest_parse(const void *data, size_t len, struct rw_sig_manifest **ret,
			  struct err *e);
void rw_sig_manifest_free(struct rw_sig_manifest *m);
size_t rw_sig_manifest_count(const struct rw_sig_manifest *m);
const struct rw_sig_entry *rw_sig_manifest_entry(const struct rw_sig_manifest *m, size_t i);

/* A signature image ready to push: config blob, then manifest. */
struct rw_sig_image {
	char *config; /* NUL-terminated JSON */
	size_t config_len;
	char config_digest[MF_DIGEST_MAX];
	char *manifest; /* NUL-terminated JSON, an OCI image manifest */
	size_t manifest_len;
	char manifest_digest[MF_DIGEST_MAX];
};

/* Build the signature image holding the layers of `existing` (NULL for
 * none; their descriptors kept as they are) plus a new simple-signing layer
 * (payload digest and size, base64 signature). The config lists every
 * layer's digest as its diff_id (simple-signing layers are uncompressed).
 * Fill *ret (free with rw_sig_image_clear). */
int rw_sig_image_build(const struct rw_sig_manifest *existing, const char *payload_digest,
		       size_t payload_len, const char *signature_b64, struct rw_sig_image *ret,
		       struct err *e);
void rw_sig_image_clear(struct rw_sig_image *img);

/* --- signing over the registry ----------------------------------------- */

/* Sign the manifest `digest` stored in ep's repository with `key`: push the
 * payload blob, the config blob, then the signature manifest under the tag
 * rw_signature_tag(digest). A signature already there by the same key over
 * the same payload is kept and nothing is pushed (*ret_pushed false);
 * signatures by other keys are kept beside the new one. ret_pushed may be
 * NULL. */
int rw_sign_manifest(struct rg_endpoint *ep, const struct ly_key *key, const char *digest,
		     bool *ret_pushed, struct err *e);

/* The same, with the payload naming `identity` (the repository as clients
 * see it: a mirror's own name for an image it stores elsewhere) instead of
 * ep's repository. */
int rw_sign_manifest_as(struct rg_endpoint *ep, const char *identity, const struct ly_key *key,
			const char *digest, bool *ret_pushed, struct err *e);

/* Sign what an instrument run pushed to dst: every instrumented image and,
 * for an index, the index. */
int rw_sign_instrumented(struct rg_endpoint *dst, const struct ly_key *key,
			 const struct rw_instrument_result *r, struct err *e);

/* The same, naming `identity` (see rw_sign_manifest_as). */
int rw_sign_instrumented_as(struct rg_endpoint *dst, const char *identity,
			    const struct ly_key *key, const struct rw_instrument_result *r,
			    struct err *e);

/* 1 when ep holds the manifest (a digest or a tag), 0 when it does not
 * (404), -1 on any other failure. */
int rw_manifest_present(struct rg_endpoint *ep, const char *reference, struct err *e);

/* 1 when every manifest rw_sign_instrumented would sign for r has its
 * signature tag at dst already (a planned run: nothing to sign), 0 when
 * one has not, -1 on failure. */
int rw_instrumented_signed(struct rg_endpoint *dst, const struct rw_instrument_result *r,
			   struct err *e);

/* True for an index child that is an attestation manifest (buildx's
 * unknown/unknown entries), which inlay neither instruments nor signs. */
bool rw_is_attestation(const struct mf_descriptor *d);

/* True when the child's platform matches one of want[0..n), or n is 0. */
bool rw_platform_selected(const struct mf_platform *pl, const struct mf_platform *want, size_t n);

/* --- the sensor layer's signature labels ------------------------------- */

/* When key is not NULL: set LABEL_SENSOR_SIGNATURE (base64 signature over
 * the ASCII text of layer_digest) and LABEL_SENSOR_SIGNER (the key's
 * fingerprint) on cfg, in that order. Does nothing when key is NULL. */
int rw_sensor_labels_sign(const struct ly_key *key, struct mf_config *cfg, const char *layer_digest,
			  struct err *e);

/* --- keys --------------------------------------------------------------- */

/* The passphrase source inlay uses (an ly_passphrase_fn): the environment
 * variable INLAY_KEY_PASSWORD when set, else a prompt on the controlling
 * terminal (/dev/tty) with echo off; ERR_INPUT when neither is there. ctx
 * is unused. */
int rw_passphrase(char *buf, size_t size, const char *what, void *ctx, struct err *e);

/* A new passphrase for `what`: INLAY_KEY_PASSWORD, else asked twice on the
 * terminal (both must match). Non-empty. Caller wipes and frees. */
int rw_new_passphrase(const char *what, char **ret_pass, struct err *e);

/* Load the private key file for --key: permissions checked, encrypted keys
 * decrypted with rw_passphrase. */
int rw_key_load(const char *path, struct ly_key **ret_key, struct err *e);

#endif
