/* fuzz_authfile.c - the docker config.json / containers auth.json parser
 * (registry/creds.c, rg_authfile_lookup_buf) on hostile bytes, asked about
 * a few registry spellings. Checks that a hit carries either credentials
 * or a helper name that cannot be a path. Runs no helper. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../registry/creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[][2] = {
	    {"localhost:5000", "team/app"},
	    {"https://index.docker.io/v1/", "library/busybox"},
	    {"quay.io", NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct rg_authfile_hit hit;
		struct err e;
		int r;

		memset(&hit, 0, sizeof(hit));
		r = rg_authfile_lookup_buf((const char *)data, size, "fuzz.json", keys[i][0],
					   keys[i][1], &hit, &e);
		if (r == 1) {
			if (!hit.creds == !hit.helper)
				abort();
			if (hit.creds && !hit.creds->username)
				abort();
			if (hit.creds && !hit.creds->password && !hit.creds->identity_token)
				abort();
			if (hit.helper && strchr(hit.helper, '/'))
				abort();
		} else if (r != 0 && (r != -1 || e.cls == ERR_OK)) {
			abort();
		}
		rg_authfile_hit_clear(&hit);
	}
	return 0;
}
