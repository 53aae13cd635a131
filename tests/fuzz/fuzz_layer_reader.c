/* fuzz_layer_reader.c - arbitrary bytes into ly_layer_list.
 *
 * The layer reader sees blobs from registries; whatever the bytes, it must
 * return 0 or -1 with a message, within its limits, without touching memory
 * it does not own. The first byte picks the claimed compression (mostly
 * "auto", so the magic-byte detection and every filter get exercised); the
 * content handed to the callback is read in full so ASan checks its bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../layers/layer.h"

/* An independent check of what the reader refuses: a ".." component. */
static int has_dotdot(const char *p)
{
	size_t n;

	for (;;) {
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

static int touch(void *arg, const struct ly_entry *ent, struct err *e)
{
	unsigned *sum = arg;
	const unsigned char *c = ent->content;
	int64_t i;

	(void)e;
	*sum += (unsigned)strlen(ent->path) + (unsigned)strlen(ent->uname) +
		(unsigned)strlen(ent->gname);
	if (ent->linkname)
		*sum += (unsigned)strlen(ent->linkname);
	if (c)
		for (i = 0; i < ent->size; i++)
			*sum += c[i];
	/* the reader's promises, checked on every entry it lets through */
	if (ent->path[0] == '\0' || ent->path[0] == '/' || has_dotdot(ent->path) || ent->size < 0 ||
	    ent->mode > 07777)
		abort();
	if (ent->type == LY_ENTRY_HARDLINK &&
	    (ent->linkname[0] == '/' || has_dotdot(ent->linkname)))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ly_compression claims[4] = {LY_COMPRESS_AUTO, LY_COMPRESS_NONE,
						      LY_COMPRESS_GZIP, LY_COMPRESS_ZSTD};
	/* Smaller than the defaults so a decompression bomb is cut short
	 * quickly instead of timing the fuzzer out. */
	static const struct ly_read_limits lim = {
	    .max_entries = 1000,
	    .max_entry_bytes = 16 << 20,
	    .max_total_bytes = 64 << 20,
	    .max_content_bytes = 1 << 20,
	};
	enum ly_compression claim = LY_COMPRESS_AUTO;
	struct err e = {0};
	unsigned sum = 0;

	if (size > 0) {
		/* a low-probability prefix byte selects a fixed claim; any
		 * other first byte is part of the layer */
		if (data[0] >= 0xfc) {
			claim = claims[data[0] - 0xfc];
			data++;
			size--;
		}
	}
	if (ly_layer_list(data, size, claim, &lim, touch, &sum, &e) < 0 && e.msg[0] == '\0')
		abort(); /* a failure always says why */
	return 0;
}
