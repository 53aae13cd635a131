/* inventory.c - see inventory.h. */
#include "inventory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct sn_inventory {
	const char *data;
	size_t len;
	size_t body; /* offset of the first path */
	size_t count;
	void *map; /* the mapping to undo, NULL for a document in memory */
	size_t map_len;
};

/* Byte order of two paths, as `LC_ALL=C sort` orders lines: a path sorts
 * before every longer path it is a prefix of. */
static int path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r)
		return r;
	return alen < blen ? -1 : alen > blen;
}

/* Every line a path, in strictly ascending order: what bisection needs. */
static int check(struct sn_inventory *inv, struct sn_err *e)
{
	const size_t hlen = sizeof(SN_INVENTORY_HEADER) - 1;
	const char *prev = NULL;
	size_t prev_len = 0, off, line = 1;

	if (inv->len < hlen || memcmp(inv->data, SN_INVENTORY_HEADER, hlen) != 0)
		return sn_err_set(e, "line 1 is not \"inlay-inventory 1\" (instrument the image "
				     "again with this inlay)");
	if (inv->data[inv->len - 1] != '\n')
		return sn_err_set(e, "the last line does not end in a newline (the file is cut)");
	if (memchr(inv->data, '\0', inv->len))
		return sn_err_set(e, "the file holds a NUL byte");
	inv->body = hlen;
	inv->count = 0;
	for (off = hlen; off < inv->len;) {
		const char *s = inv->data + off;
		size_t n = (size_t)((const char *)memchr(s, '\n', inv->len - off) - s);

		line++;
		if (n == 0 || s[0] != '/')
			return sn_err_set(e, "line %zu is not an absolute path", line);
		if (prev && path_cmp(prev, prev_len, s, n) >= 0)
			return sn_err_set(e,
					  "line %zu is out of order or repeated (paths must be "
					  "sorted bytewise and unique)",
					  line);
		prev = s;
		prev_len = n;
		inv->count++;
		off += n + 1;
	}
	return 0;
}

int sn_inventory_from_memory(const char *data, size_t len, struct sn_inventory **ret,
			     struct sn_err *e)
{
	struct sn_inventory *inv;

	if (len > SN_INVENTORY_MAX)
		return sn_err_set(e, "%zu bytes, more than the %zu allowed", len, SN_INVENTORY_MAX);
	inv = calloc(1, sizeof(*inv));
	if (!inv) {
		errno = ENOMEM;
		return sn_err_sys(e, "cannot load the inventory");
	}
	inv->data = data;
	inv->len = len;
	if (check(inv, e) < 0) {
		free(inv);
		return -1;
	}
	*ret = inv;
	return 0;
}

int sn_inventory_open(const char *path, struct sn_inventory **ret, struct sn_err *e)
{
	struct sn_inventory *inv = NULL;
	struct stat st;
	void *map;
	int fd, r = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sn_err_sys(e, "cannot open the inventory %s", path);
	if (fstat(fd, &st) < 0) {
		sn_err_sys(e, "cannot stat the inventory %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > SN_INVENTORY_MAX) {
		sn_err_set(e, "the inventory %s is not a regular file of 1 to %zu bytes", path,
			   SN_INVENTORY_MAX);
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		sn_err_sys(e, "cannot map the inventory %s", path);
		goto out;
	}
	if (sn_inventory_from_memory(map, (size_t)st.st_size, &inv, e) < 0) {
		munmap(map, (size_t)st.st_size);
		sn_err_prefix(e, "inventory %s", path);
		goto out;
	}
	inv->map = map;
	inv->map_len = (size_t)st.st_size;
	/* The check read every page; lookups touch a few. Give the rest back
	 * (they stay in the page cache, so this costs nothing to undo). */
	madvise(map, inv->map_len, MADV_DONTNEED);
	*ret = inv;
	r = 0;
out:
	close(fd);
	return r;
}

int sn_inventory_has(const struct sn_inventory *inv, const char *path)
{
	size_t plen = strlen(path), lo = inv->body, hi = inv->len;

	/* lo is always the start of a line and hi the start of one or the end:
	 * the line holding mid lies whole inside [lo, hi). */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, start = mid, end;
		int c;

		while (start > lo && inv->data[start - 1] != '\n')
			start--;
		end = (size_t)((const char *)memchr(inv->data + mid, '\n', hi - mid) - inv->data);
		c = path_cmp(inv->data + start, end - start, path, plen);
		if (c == 0)
			return 1;
		if (c < 0)
			lo = end + 1;
		else
			hi = start;
	}
	return 0;
}

size_t sn_inventory_count(const struct sn_inventory *inv)
{
	return inv->count;
}

void sn_inventory_free(struct sn_inventory *inv)
{
	if (!inv)
		return;
	if (inv->map)
		munmap(inv->map, inv->map_len);
	free(inv);
}
