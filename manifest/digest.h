/* digest.h - syntax of content digests ("sha256:<64 lowercase hex>").
 * Pure checks; computing digests is layers/hash.h. */
#ifndef INLAY_DIGEST_H
#define INLAY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define DIGEST_SHA256_LEN 71 /* "sha256:" + 64 hex */
#define MF_DIGEST_MAX 136    /* "sha512:" + 128 hex + NUL: room for any digest */

/* True when s is "sha256:" followed by exactly 64 lowercase hex digits, or
 * "sha512:" followed by exactly 128. Other algorithms are not accepted: inlay
 * could not verify them. */
bool mf_digest_valid(const char *s);

/* Validate s, filling e with a message naming `what` (for example "layer 3
 * digest") when it is not a valid digest. Returns 0 or -1 (ERR_INPUT). */
int mf_digest_check(const char *s, const char *what, struct err *e);

/* The hex part of a valid digest (the text after ':'). */
const char *mf_digest_hex(const char *digest);

/* The algorithm of a valid digest, "sha256" or "sha512", copied into out. */
void mf_digest_algorithm(const char *digest, char out[8]);

#endif
