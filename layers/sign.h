/* sign.h - signing primitives over OpenSSL EVP (DESIGN.md section 6).
 *
 * Two key types: Ed25519 (the default: signatures are deterministic, so an
 * instrumented image signed twice comes out byte-identical) and ECDSA P-256
 * (SHA-256, DER-encoded signatures, as cosign and `openssl dgst -sha256
 * -sign` make them). Private keys are PEM PKCS#8, plain or encrypted; public
 * keys are PEM SubjectPublicKeyInfo. The formats are the ones `openssl
 * genpkey`/`openssl pkey -pubout` and cosign read and write.
 *
 * Private key material is held only inside OpenSSL objects and buffers that
 * are wiped before they are freed; no function here prints, and no error
 * message carries key bytes or passphrases.
 *
 * A passphrase comes from a callback the caller supplies (the rewriter asks
 * INLAY_KEY_PASSWORD or a terminal); this module never reads the environment
 * or a terminal itself.
 */
#ifndef INLAY_LY_SIGN_H
#define INLAY_LY_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "../manifest/err.h"
#include "hash.h"

enum ly_key_type {
	LY_KEY_ED25519 = 1,
	LY_KEY_ECDSA_P256 = 2,
};

/* Limits for untrusted inputs: PEM files, signatures, base64 text. */
#define LY_KEY_FILE_MAX (64u * 1024)
#define LY_SIGNATURE_MAX 512   /* Ed25519: 64 bytes; ECDSA P-256 DER: at most 72 */
#define LY_PASSPHRASE_MAX 1024 /* bytes, without the NUL */

struct ly_key; /* opaque: a public key, or a private key with its public half */

/* Fill buf (size bytes) with a NUL-terminated passphrase for the key at
 * `what` (a file name, for a prompt). Returns its length, or -1 with e filled
 * (no passphrase to be had). Called at most once per key load. */
typedef int (*ly_passphrase_fn)(char *buf, size_t size, const char *what, void *ctx, struct err *e);

/* Parse a key type name: "ed25519" or "ecdsa-p256". ERR_INPUT otherwise. */
int ly_key_type_parse(const char *name, enum ly_key_type *ret, struct err *e);

/* "ed25519" or "ecdsa-p256". */
const char *ly_key_type_name(enum ly_key_type t);

/* Make a new key pair. */
int ly_key_generate(enum ly_key_type t, struct ly_key **ret_key, struct err *e);

/* Read a private key PEM ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY", or the
 * traditional "EC PRIVATE KEY") from memory. `what` names the source in
 * messages. An encrypted key asks `pass` (which may be NULL: then an
 * encrypted key is an error). Only Ed25519 and EC P-256 keys are accepted.
 * ERR_INPUT for anything malformed, a wrong passphrase or another key type. */
int ly_key_from_private_pem(const void *pem, size_t len, const char *what, ly_passphrase_fn pass,
			    void *pass_ctx, struct ly_key **ret_key, struct err *e);

/* Read a public key PEM ("PUBLIC KEY", SubjectPublicKeyInfo) from memory. */
int ly_key_from_public_pem(const void *pem, size_t len, const char *what, struct ly_key **ret_key,
			   struct err *e);

/* Load a private key file. The file is opened first and its mode checked on
 * the open descriptor (fstat), so what is checked is what is read: a key
 * file that is not a regular file, or that grants any permission to group
 * or others, is refused (ERR_INPUT) before a byte of it is read. At most
 * LY_KEY_FILE_MAX bytes. */
int ly_key_load_private(const char *path, ly_passphrase_fn pass, void *pass_ctx,
			struct ly_key **ret_key, struct err *e);

/* Load a public key file (any mode; at most LY_KEY_FILE_MAX bytes). */
int ly_key_load_public(const char *path, struct ly_key **ret_key, struct err *e);

/* Accepts NULL. Wipes the private half. */
void ly_key_free(struct ly_key *k);

enum ly_key_type ly_key_type(const struct ly_key *k);

/* True when k holds a private key (it can sign). */
bool ly_key_is_private(const struct ly_key *k);

/* The public key as DER SubjectPublicKeyInfo. Caller frees *ret_der. */
int ly_key_public_der(const struct ly_key *k, unsigned char **ret_der, size_t *ret_len,
		      struct err *e);

/* The key's identity: "sha256:<hex>" of its public key DER (what the label
 * io.inlay.sensor.signer holds). */
int ly_key_fingerprint(const struct ly_key *k, char out[LY_DIGEST_MAX], struct err *e);

/* The public key as PEM text (NUL-terminated). Caller frees. */
int ly_key_public_pem(const struct ly_key *k, char **ret_pem, size_t *ret_len, struct err *e);

/* The private key as PKCS#8 PEM text; encrypted with AES-256-CBC (PBKDF2)
 * when passphrase is not NULL. Caller wipes (explicit_bzero) and frees. */
int ly_key_private_pem(const struct ly_key *k, const char *passphrase, char **ret_pem,
		       size_t *ret_len, struct err *e);

/* Write the private key (see ly_key_private_pem) to a new file of mode 0600:
 * created with O_EXCL, so an existing file is never overwritten (ERR_INPUT
 * naming it). */
int ly_key_write_private(const struct ly_key *k, const char *path, const char *passphrase,
			 struct err *e);

/* Write the public key PEM to a new file of mode 0644 (O_EXCL likewise). */
int ly_key_write_public(const struct ly_key *k, const char *path, struct err *e);

/* Sign data with a private key: Ed25519 over the bytes themselves (pure
 * Ed25519, deterministic), ECDSA P-256 over their SHA-256 (DER signature).
 * Caller frees *ret_sig. */
int ly_sign(const struct ly_key *k, const void *data, size_t len, unsigned char **ret_sig,
	    size_t *ret_len, struct err *e);

/* Check a signature made by ly_sign (or openssl, or cosign) with k's public
 * half. 0 when it verifies; -1 with ERR_VERIFY when it does not (a
 * malformed signature is a signature that does not verify). */
int ly_verify(const struct ly_key *k, const void *data, size_t len, const unsigned char *sig,
	      size_t sig_len, struct err *e);

/* ly_sign, then base64 (standard alphabet, padded). Caller frees. */
int ly_sign_base64(const struct ly_key *k, const void *data, size_t len, char **ret_b64,
		   struct err *e);

/* Decode a base64 signature and ly_verify it. ERR_VERIFY when the text is
 * not canonical base64 or the signature does not verify. */
int ly_verify_base64(const struct ly_key *k, const void *data, size_t len, const char *b64,
		     struct err *e);

/* Base64, RFC 4648 standard alphabet with padding. Encode: caller frees the
 * NUL-terminated text. */
int ly_base64_encode(const void *data, size_t len, char **ret_text, struct err *e);

/* The value of a character of the standard alphabet (0-63), or -1 ('='
 * included). */
int ly_base64_value(unsigned char c);

/* Decode exactly len bytes of text: only the standard alphabet, length a
 * multiple of 4, '=' padding only at the end, unused bits zero (so each byte
 * string has one encoding). At most max decoded bytes. ERR_INPUT otherwise.
 * *ret_data is NUL-terminated for convenience; caller frees. */
int ly_base64_decode(const char *text, size_t len, size_t max, unsigned char **ret_data,
		     size_t *ret_len, struct err *e);

#endif
