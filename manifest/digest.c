/* digest.c - see digest.h.
 *
 * Only lowercase hex is accepted, as go-digest does: a registry compares
 * digests as strings, so "sha256:ABC..." would name a different blob. */
#include "digest.h"

#include <stdio.h>
#include <string.h>

struct digest_alg {
	const char *name;
	size_t hex_len;
};

static const struct digest_alg algorithms[] = {
    {"sha256", 64},
    {"sha512", 128},
};

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/* The algorithm entry whose name is the text before ':' in s, or NULL. */
static const struct digest_alg *find_algorithm(const char *s)
{
	const char *colon = strchr(s, ':');

	if (!colon)
		return NULL;
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++) {
		size_t n = strlen(algorithms[i].name);

		if ((size_t)(colon - s) == n && memcmp(s, algorithms[i].name, n) == 0)
			return &algorithms[i];
	}
	return NULL;
}

bool mf_digest_valid(const char *s)
{
	const struct digest_alg *alg;
	const char *hex;

	if (!s)
		return false;
	alg = find_algorithm(s);
	if (!alg)
		return false;
	hex = s + strlen(alg->name) + 1;
	return strlen(hex) == alg->hex_len && is_lower_hex(hex, alg->hex_len);
}

int mf_digest_check(const char *s, const char *what, struct err *e)
{
	const struct digest_alg *alg;
	const char *colon, *hex;

	if (!what)
		what = "digest";
	if (mf_digest_valid(s))
		return 0;
	if (!s || !*s)
		return err_set(e, ERR_INPUT, "%s: missing digest", what);
	colon = strchr(s, ':');
	if (!colon)
		return err_set(
		    e, ERR_INPUT,
		    "%s: \"%.100s\" is not a digest (want sha256:<64 lowercase hex digits>)", what,
		    s);
	alg = find_algorithm(s);
	if (!alg)
		return err_set(
		    e, ERR_INPUT,
		    "%s: unsupported digest algorithm \"%.*s\" (inlay verifies sha256 and "
		    "sha512 only)",
		    what, (int)((colon - s) > 32 ? 32 : (colon - s)), s);
	hex = colon + 1;
	return err_set(e, ERR_INPUT,
		       "%s: \"%.150s\" is not a valid %s digest (want %zu lowercase hex digits, "
		       "got %zu characters%s)",
		       what, s, alg->name, alg->hex_len, strlen(hex),
		       is_lower_hex(hex, strlen(hex)) ? "" : " with non-hex or uppercase ones");
}

const char *mf_digest_hex(const char *digest)
{
	const char *colon = strchr(digest, ':');

	return colon ? colon + 1 : digest + strlen(digest);
}

void mf_digest_algorithm(const char *digest, char out[8])
{
	const struct digest_alg *alg = find_algorithm(digest);

	snprintf(out, 8, "%s", alg ? alg->name : "");
}
