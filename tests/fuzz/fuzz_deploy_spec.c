/* fuzz_deploy_spec.c - deploy/ on arbitrary bytes: YAML or JSON loaded,
 * containers found (the first byte picks the format, or auto), every image
 * replaced and every override given the sensor, and the result spliced.
 * Never a crash or a leak; and what a rewrite writes must load again with
 * the same containers, the images now pinned (a rewrite never breaks a
 * spec it accepted). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../deploy/spec.h"
#include "../../deploy/splice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PINNED "r/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *rewrite(const char *text, size_t len, enum dp_format f, size_t *ret_n, size_t *ret_len)
{
	struct dp_spec *s = NULL;
	struct dp_edits ed = {0};
	struct err e = {0};
	char *out = NULL;
	size_t i;

	if (dp_spec_load(text, len, f, &s, &e) < 0) {
		if (e.cls != ERR_INPUT && e.cls != ERR_OPERATIONAL)
			abort();
		return NULL;
	}
	for (i = 0; i < s->n; i++) {
		const struct dp_container *c = &s->containers[i];

		if (c->image && dp_edit_scalar(&ed, s->tree, c->image, PINNED, &e) < 0)
			goto out;
		if (c->command && !dp_command_has_sensor(s->tree, c->command) &&
		    dp_edit_prefix_sensor(&ed, s->tree, c->command, &e) < 0)
			goto out;
	}
	*ret_n = s->n;
	if (dp_splice(text, len, &ed, &out, ret_len, &e) < 0)
		out = NULL;
out:
	dp_edits_free(&ed);
	dp_spec_free(s);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dp_format formats[] = {DP_FORMAT_AUTO, DP_FORMAT_KUBERNETES, DP_FORMAT_ECS,
						 DP_FORMAT_ACI};
	enum dp_format f;
	struct dp_spec *again = NULL;
	struct err e = {0};
	char *text, *out;
	size_t n = 0, len = 0, i;

	if (size < 1)
		return 0;
	f = formats[data[0] & 3];
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	out = rewrite(text, size - 1, f, &n, &len);
	if (out) {
		if (dp_spec_load(out, len, f, &again, &e) < 0) {
			fprintf(stderr, "the rewrite does not load again: %s\n%.*s\n", e.msg,
				(int)len, out);
			abort();
		}
		if (again->n != n)
			abort();
		for (i = 0; i < n; i++) {
			const struct dp_container *c = &again->containers[i];

			if (c->image && strcmp(dp_node(again->tree, c->image)->value, PINNED) != 0)
				abort();
			if (c->command && !dp_command_has_sensor(again->tree, c->command))
				abort();
		}
		dp_spec_free(again);
	}
	free(out);
	free(text);
	return 0;
}
