/* hash.h - content digests over OpenSSL EVP, computed as bytes stream by.
 *
 * A layer's digest (of the compressed bytes) and diff_id (of the tar) are each
 * one ly_hash fed in the same pass; blob reads are verified by feeding the
 * bytes as they arrive and comparing at the end. */
#ifndef INLAY_LY_HASH_H
#define INLAY_LY_HASH_H

#include <stdbool.h>
#include <stddef.h>

#include "../manifest/err.h"

/* "sha512:" + 128 hex + NUL */
#define LY_DIGEST_MAX 136

struct ly_hash;

/* Start a hash for algorithm "sha256" or "sha512" (the part of a digest
 * before ':'). Returns 0 or -1 (ERR_INPUT for another algorithm). */
int ly_hash_new(const char *algorithm, struct ly_hash **ret_hash, struct err *e);

/* Start a hash of the same algorithm as `digest` ("sha256:..."). */
int ly_hash_new_for(const char *digest, struct ly_hash **ret_hash, struct err *e);

void ly_hash_update(struct ly_hash *h, const void *data, size_t n);

/* Finish: writes "algo:hex" into out. The hash cannot be updated after. */
void ly_hash_final(struct ly_hash *h, char out[LY_DIGEST_MAX]);

/* Accepts NULL. */
void ly_hash_free(struct ly_hash *h);

/* sha256 digest of a buffer, "sha256:hex". */
void ly_sha256_digest(const void *data, size_t n, char out[LY_DIGEST_MAX]);

/* True when the bytes hash to `digest` (sha256 or sha512). */
bool ly_digest_matches(const char *digest, const void *data, size_t n);

#endif
