/* fuzz_layout_index.c - index.json of an OCI image layout is read from disk
 * and may have been written by anyone: parse it, and when it is accepted,
 * look a tag up and re-tag it as a write would, then check the result still
 * parses (what inlay writes, inlay must read back). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../manifest/mediatype.h"
#include "../../registry/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char digest[] =
	    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const char *const tags[] = {"latest", "v1", "t"};
	json_t *index = NULL, *again = NULL, *desc;
	struct err e;
	char *text;
	size_t i;

	if (rg_layout_index_parse(data, size, "fuzz", &index, &e) < 0) {
		if (e.cls != ERR_INPUT)
			abort();
		return 0;
	}
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		desc = NULL;
		if (rg_layout_index_find(index, tags[i], &desc, &e) == 1 && !desc)
			abort();
	}
	if (rg_layout_index_set_tag(index, "latest", MT_OCI_MANIFEST, digest, 42, &e) < 0)
		goto out;
	desc = NULL;
	if (rg_layout_index_find(index, "latest", &desc, &e) != 1 ||
	    strcmp(json_string_value(json_object_get(desc, "digest")), digest) != 0)
		abort();
	text = json_dumps(index, JSON_COMPACT);
	if (text) {
		if (rg_layout_index_parse(text, strlen(text), "fuzz (rewritten)", &again, &e) < 0)
			abort();
		free(text);
	}
out:
	json_decref(again);
	json_decref(index);
	return 0;
}
