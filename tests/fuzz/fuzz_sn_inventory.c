/* fuzz_sn_inventory.c - the sensor's inventory loader on arbitrary bytes:
 * never crash; an accepted inventory finds each of its own lines and the
 * bisection agrees with a linear scan for probes taken from the input. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "../../sensor-blob/inventory.h"

static int listed(const char *text, size_t len, const char *p, size_t plen)
{
	size_t off = sizeof(SN_INVENTORY_HEADER) - 1;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = (size_t)(nl - (text + off));

		if (n == plen && memcmp(text + off, p, n) == 0)
			return 1;
		off += n + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sn_inventory *inv = NULL;
	struct sn_err e;
	char *text, probe[256];
	size_t i, n = 0;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	if (sn_inventory_from_memory(text, size, &inv, &e) == 0) {
		size_t off = sizeof(SN_INVENTORY_HEADER) - 1, lines = 0;

		while (off < size) {
			const char *nl = memchr(text + off, '\n', size - off);
			size_t len = (size_t)(nl - (text + off));

			if (len < sizeof(probe)) {
				memcpy(probe, text + off, len);
				probe[len] = '\0';
				if (!sn_inventory_has(inv, probe))
					abort();
				/* a near miss: the line with its last byte changed */
				probe[len - 1] ^= 1;
				if (probe[len - 1] &&
				    sn_inventory_has(inv, probe) != listed(text, size, probe, len))
					abort();
			}
			lines++;
			off += len + 1;
		}
		if (lines != sn_inventory_count(inv))
			abort();
		sn_inventory_free(inv);
	}
	/* Any substring that looks like a path: found only when listed. */
	for (i = 0; i < size && n < 4; i++) {
		if (data[i] == '/') {
			size_t len = 0;

			while (i + len < size && len + 1 < sizeof(probe) && data[i + len] != '\n' &&
			       data[i + len])
				len++;
			memcpy(probe, data + i, len);
			probe[len] = '\0';
			n++;
			inv = NULL;
			if (sn_inventory_from_memory(text, size, &inv, &e) == 0) {
				if (sn_inventory_has(inv, probe) != listed(text, size, probe, len))
					abort();
				sn_inventory_free(inv);
			}
		}
	}
	free(text);
	return 0;
}
