/* fuzz_mirror_route.c - the mirror's request paths (mirror/route.c) and the
 * choice of upstream, on arbitrary text. An accepted path must give a valid
 * name and a reference of the right grammar; a refused one an HTTP status
 * and a distribution error code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../manifest/digest.h"
#include "../../manifest/ref.h"
#include "../../mirror/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mr_config cfg;
	static int ready;
	struct mr_route r;
	struct mr_target t;
	struct err e = {0};
	char *s;

	if (!ready) {
		const char *json = "{\"store\":\"oci:/s\",\"upstreams\":{"
				   "\"docker.io\":{\"url\":\"https://registry-1.docker.io\"},"
				   "\"local\":{\"url\":\"http://127.0.0.1:5000\"}}}";

		mr_config_init(&cfg);
		if (mr_config_parse(&cfg, json, strlen(json), "fuzz", &e) < 0)
			abort();
		ready = 1;
	}
	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&r, 0, sizeof(r));
	if (mr_route_parse(s, &r, &e) < 0) {
		if (!r.error_code || e.http_status < 400 || e.http_status > 499 || !e.msg[0])
			abort();
		goto out;
	}
	if (r.kind == MR_ROUTE_MANIFEST || r.kind == MR_ROUTE_BLOB || r.kind == MR_ROUTE_TAGS ||
	    r.kind == MR_ROUTE_REFERRERS) {
		if (!mf_repo_path_valid(r.name, strlen(r.name)))
			abort();
		if (r.kind == MR_ROUTE_BLOB && !mf_digest_valid(r.reference))
			abort();
		if (r.kind == MR_ROUTE_MANIFEST && !mf_digest_valid(r.reference) &&
		    !mf_tag_valid(r.reference))
			abort();
		/* the name, as ns too: an upstream is found or a 404 said */
		if (mr_route_target(&cfg, r.name, r.name, &t, &e) == 0) {
			if (!t.upstream || !t.repository[0])
				abort();
		} else if (e.http_status != 404) {
			abort();
		}
	}
out:
	free(s);
	return 0;
}
