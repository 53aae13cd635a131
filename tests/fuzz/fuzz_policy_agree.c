/* fuzz_policy_agree.c - inlay's policy validator (rewriter/policy.c, jansson)
 * and the sensor's (sensor-blob/policy.c, its own JSON parser) on the same
 * bytes: a policy inlay accepts must be one the sensor accepts, and the other
 * way round, or `inlay instrument --policy` could ship a policy the sensor
 * refuses (or check one less strictly than it is enforced).
 *
 * The sensor shares no code with inlay and is never linked with it; this
 * test alone compiles the sensor's sources in (their external names are all
 * sn_*, their helpers static), to compare the two. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../rewriter/policy.h"

#include "../../sensor-blob/event.c"
#include "../../sensor-blob/json.c"
#include "../../sensor-blob/policy.c"
#include "../../sensor-blob/sn_err.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sn_json_doc *doc = NULL;
	struct sn_policy *p = NULL;
	char *canon = NULL;
	struct sn_err se;
	struct err e;
	int rw_ok, sn_ok;

	/* The sensor reads policies from a config of at most 1 MiB. */
	if (size > RW_POLICY_MAX_BYTES)
		return 0;
	rw_ok = rw_policy_parse(data, size, &canon, &e) == 0;
	sn_ok = sn_json_parse((const char *)data, size, &doc, &se) == 0 &&
		sn_policy_new(sn_json_root(doc), &p, &se) == 0;
	if (rw_ok != sn_ok)
		abort();
	sn_policy_free(p);
	sn_json_free(doc);
	/* What inlay writes into sensor.json is the canonical form: the sensor
	 * must accept that too. */
	if (rw_ok) {
		doc = NULL;
		p = NULL;
		if (sn_json_parse(canon, strlen(canon), &doc, &se) < 0 ||
		    sn_policy_new(sn_json_root(doc), &p, &se) < 0)
			abort();
		sn_policy_free(p);
		sn_json_free(doc);
	}
	free(canon);
	return 0;
}
