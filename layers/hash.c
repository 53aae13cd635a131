/* hash.c - see hash.h. */
#include "hash.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct ly_hash {
	EVP_MD_CTX *ctx;
	char algorithm[8];
};

int ly_hash_new(const char *algorithm, struct ly_hash **ret_hash, struct err *e)
{
	const EVP_MD *md;
	struct ly_hash *h;

	if (strcmp(algorithm, "sha256") == 0)
		md = EVP_sha256();
	else if (strcmp(algorithm, "sha512") == 0)
		md = EVP_sha512();
	else
		return err_set(e, ERR_INPUT, "unsupported digest algorithm '%.16s' (inlay verifies sha256 and sha512)",
			       algorithm);
	h = calloc(1, sizeof(*h));
	if (!h)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
		ly_hash_free(h);
		return err_set(e, ERR_OPERATIONAL, "cannot start a %s hash (OpenSSL)", algorithm);
	}
	snprintf(h->algorithm, sizeof(h->algorithm), "%s", algorithm);
	*ret_hash = h;
	return 0;
}

int ly_hash_new_for(const char *digest, struct ly_hash **ret_hash, struct err *e)
{
	char algorithm[8];
	size_t n = strcspn(digest, ":");

	if (n == 0 || n >= sizeof(algorithm) || digest[n] != ':')
		return err_set(e, ERR_INPUT, "'%.80s' is not a digest (expected sha256:<hex>)", digest);
	memcpy(algorithm, digest, n);
	algorithm[n] = '\0';
	return ly_hash_new(algorithm, ret_hash, e);
}

void ly_hash_update(struct ly_hash *h, const void *data, size_t n)
{
	if (n)
		EVP_DigestUpdate(h->ctx, data, n);
}

void ly_hash_final(struct ly_hash *h, char out[LY_DIGEST_MAX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	size_t pos;

	EVP_DigestFinal_ex(h->ctx, md, &mdlen);
	pos = (size_t)snprintf(out, LY_DIGEST_MAX, "%s:", h->algorithm);
	for (i = 0; i < mdlen && pos + 2 < LY_DIGEST_MAX; i++) {
		out[pos++] = hex[md[i] >> 4];
		out[pos++] = hex[md[i] & 15];
	}
	out[pos] = '\0';
}

void ly_hash_free(struct ly_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void ly_sha256_digest(const void *data, size_t n, char out[LY_DIGEST_MAX])
{
	struct ly_hash *h = NULL;

	if (ly_hash_new("sha256", &h, NULL) < 0) {
		out[0] = '\0';
		return;
	}
	ly_hash_update(h, data, n);
	ly_hash_final(h, out);
	ly_hash_free(h);
}

bool ly_digest_matches(const char *digest, const void *data, size_t n)
{
	char got[LY_DIGEST_MAX];
	struct ly_hash *h = NULL;

	if (ly_hash_new_for(digest, &h, NULL) < 0)
		return false;
	ly_hash_update(h, data, n);
	ly_hash_final(h, got);
	ly_hash_free(h);
	return strcmp(got, digest) == 0;
}
