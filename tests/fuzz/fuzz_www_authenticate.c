/* fuzz_www_authenticate.c - the WWW-Authenticate parser (registry/auth.c)
 * and the token endpoint answer parser, on hostile bytes. Checks the
 * parser's promises: every field NUL-terminated within its array, a known
 * scheme, and *ret untouched on failure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../registry/auth.h"

static void check_field(const char *f, size_t cap)
{
	if (memchr(f, '\0', cap) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg_challenge ch;
	struct err e;
	char *s, *tok = NULL;
	long ttl = 0;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&ch, 0x7f, sizeof(ch));
	if (rg_challenge_parse(s, &ch, &e) == 0) {
		if (ch.scheme != RG_AUTH_NONE && ch.scheme != RG_AUTH_BASIC &&
		    ch.scheme != RG_AUTH_BEARER)
			abort();
		check_field(ch.realm, sizeof(ch.realm));
		check_field(ch.service, sizeof(ch.service));
		check_field(ch.scope, sizeof(ch.scope));
		check_field(ch.error, sizeof(ch.error));
		check_field(ch.other, sizeof(ch.other));
	} else if (ch.realm[0] != 0x7f || e.cls != ERR_INPUT) {
		abort();
	}
	if (rg_token_response_parse((const char *)data, size, &tok, &ttl, &e) == 0) {
		if (!tok || ttl < RG_TOKEN_DEFAULT_TTL || ttl > 86400 || strpbrk(tok, " \r\n"))
			abort();
		free(tok);
	}
	free(s);
	return 0;
}
