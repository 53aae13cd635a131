/* fuzz_inventory.c - arbitrary bytes as 1 to 3 layers, through the
 * streaming layer reader, the inventory merge and its serialisation.
 *
 * Input: byte 0 picks the number of layers (1 + (b & 3) % 3) and the size
 * of the pieces the source hands out (b >> 2); every layer but the last is
 * a 2-byte little-endian length and that many bytes, the last layer is the
 * rest. A layer the reader refuses ends the run (as it ends an
 * instrumentation); when every layer went through, the inventory must keep
 * the promises the sensor relies on, checked here independently: the
 * header, then absolute paths without empty, "." or ".." components or a
 * trailing '/', strictly ascending in byte order (so unique), each ending
 * in '\n', nothing under /.inlay, as many as it says.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../../layers/layer.h"
#include "../../rewriter/inventory.h"

struct source {
	const uint8_t *data;
	size_t len, pos, chunk;
};

static ssize_t source_read(void *ctx, void *buf, size_t n, struct err *e)
{
	struct source *s = ctx;
	size_t k = s->len - s->pos;

	(void)e;
	if (k > n)
		k = n;
	if (k > s->chunk)
		k = s->chunk;
	memcpy(buf, s->data + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

/* One line (without its '\n') must be a plain absolute path. */
static void check_path(const char *p, size_t n)
{
	size_t i, start;

	if (n < 2 || p[0] != '/' || p[n - 1] == '/')
		abort();
	if (memchr(p, '\0', n))
		abort();
	if (n >= 7 && memcmp(p, "/.inlay", 7) == 0 && (n == 7 || p[7] == '/'))
		abort();
	for (start = 1, i = 1; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (i == start) /* empty component */
			abort();
		if (i - start == 1 && p[start] == '.')
			abort();
		if (i - start == 2 && p[start] == '.' && p[start + 1] == '.')
			abort();
		start = i + 1;
	}
}

static void check_inventory(const struct rw_inventory_text *t)
{
	const size_t hl = strlen(RW_INVENTORY_HEADER);
	const char *p, *end, *nl, *prev = NULL;
	size_t prevlen = 0, lines = 0, len, m;
	int c;

	if (t->len < hl || memcmp(t->data, RW_INVENTORY_HEADER, hl) != 0)
		abort();
	if (t->len > hl && t->data[t->len - 1] != '\n')
		abort();
	p = t->data + hl;
	end = t->data + t->len;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			abort();
		len = (size_t)(nl - p);
		check_path(p, len);
		if (prev) {
			m = len < prevlen ? len : prevlen;
			c = memcmp(prev, p, m);
			if (c > 0 || (c == 0 && prevlen >= len))
				abort(); /* out of order, or repeated */
		}
		prev = p;
		prevlen = len;
		lines++;
		p = nl + 1;
	}
	if (lines != t->entries)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Small, so a bomb is cut short instead of timing the fuzzer out. */
	static const struct ly_read_limits lim = {
	    .max_entries = 2000,
	    .max_entry_bytes = 16 << 20,
	    .max_total_bytes = 32 << 20,
	    .max_content_bytes = 0,
	    .end_blocks_optional = true, /* as rw_inventory_of_image reads */
	};
	static const struct rw_inventory_limits ilim = {
	    .max_nodes = 5000,
	    .max_entries = 3000,
	    .max_bytes = 1 << 20,
	};
	struct rw_inventory *inv = NULL;
	struct rw_inventory_text t = {0};
	struct err e = {0};
	size_t layers, chunk, i, n;

	if (size < 1)
		return 0;
	layers = 1 + (size_t)(data[0] & 3) % 3;
	chunk = (data[0] >> 2) == 0 ? 1 : (size_t)(data[0] >> 2) * 61;
	data++;
	size--;
	if (rw_inventory_new(&ilim, &inv, &e) < 0)
		abort();
	for (i = 0; i < layers; i++) {
		struct source src = {.chunk = chunk};

		if (i + 1 < layers) {
			if (size < 2)
				goto out;
			n = (size_t)data[0] | (size_t)data[1] << 8;
			data += 2;
			size -= 2;
			if (n > size)
				n = size;
		} else {
			n = size;
		}
		src.data = data;
		src.len = n;
		data += n;
		size -= n;
		rw_inventory_next_layer(inv);
		if (ly_layer_list_stream(source_read, &src, LY_COMPRESS_AUTO, &lim,
					 rw_inventory_entry_fn, inv, &e) < 0) {
			if (e.msg[0] == '\0')
				abort(); /* a failure always says why */
			goto out;
		}
	}
	if (rw_inventory_serialize(inv, &t, &e) < 0) {
		if (e.msg[0] == '\0' || e.cls != ERR_INPUT)
			abort();
		goto out;
	}
	check_inventory(&t);
out:
	rw_inventory_text_clear(&t);
	rw_inventory_free(inv);
	return 0;
}
