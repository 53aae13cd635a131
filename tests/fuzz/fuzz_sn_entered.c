/* fuzz_sn_entered.c - the sensor's reader of /proc/PID/stat (entered.h) on
 * arbitrary bytes: a process names itself (COMM), so the text is the
 * process's to shape. Never crash or read past the bytes; an accepted text
 * has a ')' followed by " S PPID", and PPID is what follows it. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "../../sensor-blob/entered.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pid_t ppid = -1;
	char state = 0;
	/* An exact-size copy: reading a byte past it is an ASan error. */
	char *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (sn_entered_parse_stat(copy, size, &ppid, &state) == 0) {
		const char *p = memchr(copy, ')', size);

		if (!p || ppid < 0)
			abort();
	}
	free(copy);
	return 0;
}
