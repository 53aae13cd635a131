/* fuzz_config.c - mf_config_parse, the entrypoint rewrite and serialisation.
 * A config that parses must serialise to one that parses; wrapping then
 * unwrapping must give back the original Entrypoint and Cmd. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../manifest/config.h"
#include "../../manifest/mediatype.h"

static const char *const prefix[] = {"/.inlay/sensor", "--", NULL};
#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Deep copy of a NULL-terminated argv, NULL stays NULL. */
static char **argv_dup(const char *const *v)
{
	size_t n = 0;
	char **d;

	if (!v)
		return NULL;
	while (v[n])
		n++;
	d = calloc(n + 1, sizeof(*d));
	if (!d)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!(d[i] = strdup(v[i])))
			abort();
	return d;
}

static void argv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int argv_same(char **a, const char *const *b)
{
	size_t i;

	if (!a || !b)
		return !a && !b;
	for (i = 0; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return !a[i] && !b[i];
}

static struct mf_config *reparse(const struct mf_config *c)
{
	struct mf_config *b = NULL;
	struct err e = {0};
	char *s = NULL;
	size_t len;

	if (mf_config_serialize(c, &s, &len, &e) < 0)
		return NULL;
	if (mf_config_parse(s, len, &b, &e) < 0)
		abort();
	free(s);
	return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mf_config *c = NULL, *b;
	struct err e = {0};
	char **ep = NULL, **cmd = NULL;
	size_t n;

	if (mf_config_parse(data, size, &c, &e) < 0) {
		if (c || e.cls != ERR_INPUT || !e.msg[0])
			abort();
		return 0;
	}
	if (!mf_config_os(c) || !mf_config_architecture(c))
		abort();
	n = mf_config_diff_id_count(c);
	for (size_t i = 0; i < n; i++)
		if (!mf_config_diff_id(c, i))
			abort();
	mf_config_free(reparse(c));

	if (mf_config_label(c, LABEL_ORIGINAL_ENTRYPOINT))
		(void)mf_config_unwrap_entrypoint(c, &e);
	ep = argv_dup(mf_config_entrypoint(c));
	cmd = argv_dup(mf_config_cmd(c));
	if (mf_config_wrap_entrypoint(c, prefix, &e) == 0) {
		if (mf_config_unwrap_entrypoint(c, &e) < 0)
			abort();
		if (!argv_same(ep, mf_config_entrypoint(c)) || !argv_same(cmd, mf_config_cmd(c)))
			abort();
		if (mf_config_wrap_entrypoint(c, prefix, &e) < 0)
			abort();
	} else if (e.cls != ERR_INPUT) {
		abort();
	}
	if (mf_config_append_diff_id(c, DIGEST, &e) == 0 &&
	    mf_config_append_history(c, "inlay instrument fuzz", &e) == 0) {
		if (mf_config_remove_history_layer(c, n, &e) < 0 ||
		    mf_config_remove_diff_id(c, n, &e) < 0)
			abort();
	}
	b = reparse(c);
	if (b && !argv_same(cmd, mf_config_cmd(b)))
		abort();
	mf_config_free(b);
	argv_free(ep);
	argv_free(cmd);
	mf_config_free(c);
	return 0;
}
