/* fuzz_ref.c - mf_ref_parse on arbitrary text. A reference that parses must
 * print (mf_ref_string) to text that parses again to the same fields, and a
 * rejected one must say why, as ERR_INPUT. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../manifest/ref.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_ref *r = NULL, *again = NULL, *dup = NULL;
	struct err e = {0};
	char *s, *printed = NULL, *repo = NULL;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)mf_tag_valid(s);
	if (mf_ref_parse(s, &r, &e) < 0) {
		if (r || e.cls != ERR_INPUT || !e.msg[0])
			abort();
		goto out;
	}
	printed = mf_ref_string(r);
	repo = mf_ref_repository(r);
	dup = mf_ref_dup(r);
	if (!printed || !repo || !dup)
		abort();
	if (mf_ref_parse(printed, &again, &e) < 0)
		abort();
	if (!same(r->domain, again->domain) || !same(r->path, again->path) ||
	    !same(r->tag, again->tag) || !same(r->digest, again->digest))
		abort();
	if (!same(r->domain, dup->domain) || !same(r->path, dup->path) || !same(r->tag, dup->tag) ||
	    !same(r->digest, dup->digest))
		abort();
	if (strncmp(printed, repo, strlen(repo)) != 0)
		abort();
	if (mf_ref_is_loopback(r) != mf_ref_is_loopback(again))
		abort();
	if (!mf_ref_reference(r) || !mf_ref_api_host(r) || !mf_ref_auth_key(r))
		abort();
	if (r->tag && !mf_tag_valid(r->tag))
		abort();
out:
	mf_ref_free(r);
	mf_ref_free(again);
	mf_ref_free(dup);
	free(printed);
	free(repo);
	free(s);
	return 0;
}
