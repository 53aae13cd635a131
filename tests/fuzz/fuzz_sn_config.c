/* fuzz_sn_config.c - the sensor's config and JSON parsers and its string escaper on
 * arbitrary bytes: never crash, and every escaped string is valid, bounded JSON. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include "../../sensor-blob/config.h"
#include "../../sensor-blob/event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sn_config c;
	struct sn_err e;
	struct sn_json_doc *doc = NULL;
	char buf[64];

	sn_config_defaults(&c);
	if (sn_config_parse(&c, (const char *)data, size, &e) == 0) {
		if (c.policy && (c.policy_len == 0 || c.policy_text[0] != '{'))
			abort();
	}
	sn_config_free(&c);
	if (sn_json_parse((const char *)data, size, &doc, &e) == 0) {
		const struct sn_json *r = sn_json_root(doc);
		if (r->src_off + r->src_len > size)
			abort();
	}
	sn_json_free(doc);
	/* the escaper must always produce quoted output within bounds */
	for (size_t max = 8; max < sizeof(buf); max += 13) {
		size_t n = sn_json_quote(buf, max, (const char *)data, size);
		if (n > max || n < 2 || buf[0] != '"' || buf[n - 1] != '"')
			abort();
		/* must itself parse as JSON */
		struct sn_json_doc *d2 = NULL;
		if (sn_json_parse(buf, n, &d2, &e) != 0)
			abort();
		sn_json_free(d2);
	}
	return 0;
}
