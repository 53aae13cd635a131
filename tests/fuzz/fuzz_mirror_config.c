/* fuzz_mirror_config.c - the mirror's configuration (mirror/config.c, JSON
 * or YAML through mirror/config_yaml.c) on arbitrary bytes: accepted or
 * refused with ERR_INPUT naming it, and never a crash or a leak. File references (policy, key) are not followed:
 * such keys are dropped first, so the fuzzer reads no files. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../mirror/config.h"
#include "../../mirror/config_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drop_files(json_t *o)
{
	json_t *rules, *r;
	size_t i;

	json_object_del(o, "policy");
	json_object_del(o, "key");
	rules = json_object_get(o, "rules");
	json_array_foreach(rules, i, r)
	{
		if (json_is_object(r)) {
			json_object_del(r, "policy");
			json_object_del(r, "key");
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mr_config c;
	struct err e = {0};
	json_t *doc;
	char *text;

	if (size > 65536)
		return 0;
	doc = json_loadb((const char *)data, size, 0, NULL);
	if (!doc && mr_yaml_to_json((const char *)data, size, "fuzz", &doc, &e) < 0) {
		if (e.cls != ERR_INPUT && e.cls != ERR_OPERATIONAL)
			abort();
		doc = NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		/* not an object: it must be refused as such */
		mr_config_init(&c);
		if (mr_config_parse(&c, (const char *)data, size, "fuzz", &e) == 0)
			abort();
		mr_config_free(&c);
		return 0;
	}
	drop_files(doc);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text)
		return 0;
	mr_config_init(&c);
	if (mr_config_parse(&c, text, strlen(text), "fuzz", &e) < 0) {
		if (e.cls != ERR_INPUT && e.cls != ERR_OPERATIONAL)
			abort();
	} else if (mr_config_finish(&c, &e) == 0) {
		size_t i;

		if (!c.store || !c.listen || !c.defaults.mode ||
		    (c.n_upstreams == 1 && !c.default_upstream))
			abort();
		for (i = 0; i < c.n_upstreams; i++)
			(void)mr_config_rule(&c, c.upstreams[i].name, "a/b");
	}
	mr_config_free(&c);
	free(text);
	return 0;
}
