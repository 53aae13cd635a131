/* fuzz_policy.c - the --policy parser on arbitrary bytes: never crashes, and
 * what it accepts it accepts again in its canonical form, unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../rewriter/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL, *again = NULL;
	struct err e;

	if (rw_policy_parse(data, size, &out, &e) == 0) {
		if (rw_policy_parse(out, strlen(out), &again, &e) != 0 || strcmp(out, again) != 0)
			abort();
	}
	free(out);
	free(again);
	return 0;
}
