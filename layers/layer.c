/* layer.c - compression names and media types, and the deterministic layer
 * builder. See layer.h for what makes the bytes reproducible. */
#include "layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../manifest/buf.h"
#include "../manifest/mediatype.h"
#include "compress.h"

#define TAR_BLOCK 512

/* ---- compression names and media types ---- */

int ly_compression_parse(const char *s, enum ly_compression *ret, struct err *e)
{
	enum ly_compression c;

	if (strcmp(s, "gzip") == 0)
		c = LY_COMPRESS_GZIP;
	else if (strcmp(s, "zstd") == 0)
		c = LY_COMPRESS_ZSTD;
	else if (strcmp(s, "none") == 0)
		c = LY_COMPRESS_NONE;
	else
		return err_set(e, ERR_INPUT, "unknown compression '%.40s' (use gzip, zstd or none)",
			       s);
	*ret = c;
	return 0;
}

const char *ly_compression_name(enum ly_compression c)
{
	switch (c) {
	case LY_COMPRESS_NONE:
		return "none";
	case LY_COMPRESS_GZIP:
		return "gzip";
	case LY_COMPRESS_ZSTD:
		return "zstd";
	case LY_COMPRESS_AUTO:
		return "auto";
	}
	return "unknown";
}

enum ly_compression ly_detect_compression(const void *head, size_t n)
{
	static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
	const unsigned char *p = head;

	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return LY_COMPRESS_GZIP;
	if (n >= 4 && memcmp(p, zstd_magic, 4) == 0)
		return LY_COMPRESS_ZSTD;
	return LY_COMPRESS_NONE;
}

int ly_compression_from_media_type(const char *media_type, enum ly_compression *ret, struct err *e)
{
	enum ly_compression c;

	if (strcmp(media_type, MT_OCI_LAYER_GZIP) == 0 ||
	    strcmp(media_type, MT_DOCKER_LAYER_GZIP) == 0 ||
	    strcmp(media_type, MT_DOCKER_LAYER_FOREIGN) == 0)
		c = LY_COMPRESS_GZIP;
	else if (strcmp(media_type, MT_OCI_LAYER_ZSTD) == 0)
		c = LY_COMPRESS_ZSTD;
	else if (strcmp(media_type, MT_OCI_LAYER_TAR) == 0)
		c = LY_COMPRESS_NONE;
	else
		return err_set(
		    e, ERR_INPUT,
		    "unsupported layer media type '%.200s' (expected an OCI tar, tar+gzip "
		    "or tar+zstd layer, or a Docker tar.gzip layer)",
		    media_type);
	*ret = c;
	return 0;
}

const char *ly_media_type_for(enum ly_compression c, bool docker)
{
	switch (c) {
	case LY_COMPRESS_GZIP:
		return docker ? MT_DOCKER_LAYER_GZIP : MT_OCI_LAYER_GZIP;
	case LY_COMPRESS_ZSTD:
		return docker ? NULL : MT_OCI_LAYER_ZSTD;
	case LY_COMPRESS_NONE:
		return docker ? NULL : MT_OCI_LAYER_TAR;
	case LY_COMPRESS_AUTO:
		break;
	}
	return NULL;
}

void ly_layer_release(struct ly_layer *l)
{
	if (!l)
		return;
	free(l->data);
	memset(l, 0, sizeof(*l));
}

/* ---- the builder ---- */

struct ly_spec {
	char *path; /* canonical: no trailing '/' */
	unsigned mode;
	bool dir;
	const void *data; /* borrowed */
	size_t len;
};

struct ly_layer_builder {
	struct ly_spec *v;
	size_t n, cap;
	size_t max_bytes;
	size_t data_total; /* sum of file sizes, <= max_bytes */
};

int ly_layer_builder_new(size_t max_bytes, struct ly_layer_builder **ret_builder, struct err *e)
{
	struct ly_layer_builder *b = calloc(1, sizeof(*b));

	if (!b)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	b->max_bytes = max_bytes;
	*ret_builder = b;
	return 0;
}

void ly_layer_builder_free(struct ly_layer_builder *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++)
		free(b->v[i].path);
	free(b->v);
	free(b);
}

/* Check a path against the rules in layer.h and return its canonical copy
 * (malloc'd) in *ret. */
static int path_canonical(const char *path, bool dir, char **ret, struct err *e)
{
	size_t n = strlen(path), i, start;
	char *copy;

	if (dir && n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0)
		return err_set(e, ERR_INPUT, "layer entry path is empty");
	if (n > LY_PATH_MAX)
		return err_set(e, ERR_INPUT, "layer entry path '%.60s...' is longer than %d bytes",
			       path, LY_PATH_MAX);
	if (path[0] == '/')
		return err_set(e, ERR_INPUT,
			       "layer entry path '%.*s' is absolute (must be relative)", (int)n,
			       path);
	for (i = 0; i < n; i++) {
		/* Printable ASCII only: the header bytes must not depend on the
		 * locale libarchive would convert names with. */
		if ((unsigned char)path[i] < 0x20 || (unsigned char)path[i] > 0x7e)
			return err_set(
			    e, ERR_INPUT,
			    "layer entry path '%.*s' has a byte that is not printable ASCII",
			    (int)n, path);
	}
	for (start = 0; start <= n; start = i + 1) {
		for (i = start; i < n && path[i] != '/'; i++)
			;
		if (i == start || (i - start == 1 && path[start] == '.') ||
		    (i - start == 2 && path[start] == '.' && path[start + 1] == '.'))
			return err_set(
			    e, ERR_INPUT,
			    "layer entry path '%.*s' has an empty, '.' or '..' component", (int)n,
			    path);
	}
	copy = strndup(path, n);
	if (!copy)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	*ret = copy;
	return 0;
}

static int builder_add(struct ly_layer_builder *b, const char *path, unsigned mode, bool dir,
		       const void *data, size_t len, struct err *e)
{
	struct ly_spec *v;
	char *canon = NULL;
	size_t i, cap;

	if (mode & ~07777u)
		return err_set(
		    e, ERR_INPUT,
		    "layer entry '%.200s': mode %o has bits beyond the permissions (07777)", path,
		    mode);
	if (!dir && len > 0 && !data)
		return err_set(e, ERR_INPUT, "layer entry '%.200s': no data for %zu bytes", path,
			       len);
	if (b->n >= LY_BUILDER_MAX_ENTRIES)
		return err_set(e, ERR_INPUT, "layer has more than %d entries",
			       LY_BUILDER_MAX_ENTRIES);
	if (len > b->max_bytes - b->data_total)
		return err_set(e, ERR_INPUT,
			       "layer entry '%.200s': the layer would exceed %zu bytes", path,
			       b->max_bytes);
	if (path_canonical(path, dir, &canon, e) < 0)
		return -1;
	for (i = 0; i < b->n; i++) {
		if (strcmp(b->v[i].path, canon) == 0) {
			err_set(e, ERR_INPUT, "layer entry '%.200s' added twice", canon);
			free(canon);
			return -1;
		}
	}
	if (b->n == b->cap) {
		cap = b->cap ? b->cap * 2 : 8;
		v = reallocarray(b->v, cap, sizeof(*v));
		if (!v) {
			free(canon);
			return err_set(e, ERR_OPERATIONAL, "out of memory");
		}
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n] = (struct ly_spec){canon, mode, dir, dir ? NULL : data, dir ? 0 : len};
	b->n++;
	b->data_total += dir ? 0 : len;
	return 0;
}

int ly_layer_add_dir(struct ly_layer_builder *b, const char *path, unsigned mode, struct err *e)
{
	return builder_add(b, path, mode, true, NULL, 0, e);
}

int ly_layer_add_file(struct ly_layer_builder *b, const char *path, unsigned mode, const void *data,
		      size_t len, struct err *e)
{
	size_t n = strlen(path);

	if (n > 0 && path[n - 1] == '/')
		return err_set(e, ERR_INPUT, "layer file '%.200s' ends in '/'", path);
	return builder_add(b, path, mode, false, data, len, e);
}

static int spec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ly_spec *)a)->path, ((const struct ly_spec *)b)->path);
}

static const struct ly_spec *spec_find(const struct ly_spec *v, size_t n, const char *path)
{
	struct ly_spec key = {.path = (char *)(uintptr_t)path};

	return bsearch(&key, v, n, sizeof(*v), spec_cmp);
}

/* The entries to write: the builder's plus each missing parent directory
 * (0755), sorted by path. Returns a malloc'd array whose paths are borrowed
 * from the builder or, for added parents, owned (listed in *ret_owned). */
static int plan_entries(struct ly_layer_builder *b, struct ly_spec **ret_v, size_t *ret_n,
			char ***ret_owned, size_t *ret_owned_n, struct err *e)
{
	struct ly_spec *v = NULL, *grown;
	char **owned = NULL, **ogrown, *parent = NULL;
	size_t n = b->n, cap = b->n + 8, on = 0, ocap = 0, i, known;
	char *slash;
	int r = -1;

	v = calloc(cap, sizeof(*v));
	if (!v) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (n)
		memcpy(v, b->v, n * sizeof(*v));
	qsort(v, n, sizeof(*v), spec_cmp);
	known = n;
	/* Walk every entry's ancestors; a missing one is appended and looked
	 * up linearly among the appended ones (few) after a bsearch among the
	 * originals (many). Appended parents are themselves walked, since the
	 * loop runs to the growing n. */
	for (i = 0; i < n; i++) {
		parent = strdup(v[i].path);
		if (!parent) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
		slash = strrchr(parent, '/');
		if (slash) {
			const struct ly_spec *found;
			size_t j;

			*slash = '\0';
			found = spec_find(v, known, parent);
			for (j = known; !found && j < n; j++)
				if (strcmp(v[j].path, parent) == 0)
					found = &v[j];
			if (found && !found->dir) {
				err_set(
				    e, ERR_INPUT,
				    "layer entry '%.200s': its parent '%.200s' is a file, not a "
				    "directory",
				    v[i].path, parent);
				goto out;
			}
			if (!found) {
				if (n + 1 > LY_BUILDER_MAX_ENTRIES) {
					err_set(e, ERR_INPUT, "layer has more than %d entries",
						LY_BUILDER_MAX_ENTRIES);
					goto out;
				}
				if (n == cap) {
					cap *= 2;
					grown = reallocarray(v, cap, sizeof(*v));
					if (!grown) {
						err_set(e, ERR_OPERATIONAL, "out of memory");
						goto out;
					}
					v = grown;
				}
				if (on == ocap) {
					ocap = ocap ? ocap * 2 : 8;
					ogrown = reallocarray(owned, ocap, sizeof(*owned));
					if (!ogrown) {
						err_set(e, ERR_OPERATIONAL, "out of memory");
						goto out;
					}
					owned = ogrown;
				}
				owned[on++] = parent;
				v[n++] = (struct ly_spec){parent, 0755, true, NULL, 0};
				parent = NULL; /* transferred */
			}
		}
		free(parent);
		parent = NULL;
	}
	qsort(v, n, sizeof(*v), spec_cmp);
	*ret_v = v;
	*ret_n = n;
	*ret_owned = owned;
	*ret_owned_n = on;
	v = NULL;
	owned = NULL; /* transferred */
	r = 0;
out:
	free(parent);
	free(v);
	for (i = 0; owned && i < on; i++)
		free(owned[i]);
	free(owned);
	return r;
}

/* One pass: libarchive's tar bytes -> diff_id hash -> compressor -> digest
 * hash -> output buffer. */
struct pipeline {
	struct ly_hash *diff_id;
	struct ly_hash *digest;
	struct ly_compressor *z;
	struct buf out;
	uint64_t tar_bytes;
	size_t max_bytes;
	struct err err; /* a failure inside a callback, reported instead of libarchive's */
	bool failed;
};

static int pipeline_out(void *arg, const void *data, size_t n, struct err *e)
{
	struct pipeline *p = arg;

	if (buf_append(&p->out, data, n) < 0) {
		if (errno == E2BIG)
			return err_set(e, ERR_INPUT, "the compressed layer would exceed %zu bytes",
				       p->max_bytes);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	ly_hash_update(p->digest, data, n);
	return 0;
}

static la_ssize_t pipeline_write(struct archive *a, void *arg, const void *data, size_t n)
{
	struct pipeline *p = arg;

	if (n > p->max_bytes || p->tar_bytes > p->max_bytes - n) {
		err_set(&p->err, ERR_INPUT, "the layer's tar would exceed %zu bytes", p->max_bytes);
		goto fail;
	}
	p->tar_bytes += n;
	ly_hash_update(p->diff_id, data, n);
	if (ly_compressor_write(p->z, data, n, &p->err) < 0)
		goto fail;
	return (la_ssize_t)n;
fail:
	p->failed = true;
	archive_set_error(a, EIO, "%s", p->err.msg);
	return -1;
}

/* libarchive's message, or the pipeline's when a callback failed. */
static int archive_fail(struct archive *a, struct pipeline *p, const char *what, const char *path,
			struct err *e)
{
	const char *msg;

	if (p->failed) {
		*e = p->err;
		return err_prefix(e, "%s '%.200s'", what, path);
	}
	msg = archive_error_string(a);
	return err_set(e, ERR_OPERATIONAL, "%s '%.200s' (libarchive): %s", what, path,
		       msg ? msg : "unknown error");
}

static int write_entry(struct archive *a, struct archive_entry *ae, struct pipeline *p,
		       const struct ly_spec *s, struct err *e)
{
	const char *data = s->data;
	size_t left = s->len;
	la_ssize_t w;

	/* Set only what the header needs: whatever is not set is zero or empty
	 * in ustar, and ustar has no field for atime or ctime at all. */
	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, s->path);
	archive_entry_set_filetype(ae, s->dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(ae, s->mode);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_mtime(ae, 0, 0);
	archive_entry_set_size(ae, (la_int64_t)s->len);
	if (archive_write_header(a, ae) != ARCHIVE_OK)
		return archive_fail(a, p, "cannot write the tar header of", s->path, e);
	while (left > 0) {
		w = archive_write_data(a, data, left);
		if (w <= 0)
			return archive_fail(a, p, "cannot write the tar data of", s->path, e);
		data += w;
		left -= (size_t)w;
	}
	if (archive_write_finish_entry(a) != ARCHIVE_OK)
		return archive_fail(a, p, "cannot finish the tar entry", s->path, e);
	return 0;
}

int ly_layer_finish(struct ly_layer_builder *b, enum ly_compression compression,
		    struct ly_layer *ret, struct err *e)
{
	struct pipeline p = {0};
	struct ly_layer layer = {0};
	struct archive *a = NULL;
	struct archive_entry *ae = NULL;
	struct ly_spec *v = NULL;
	char **owned = NULL;
	size_t n = 0, on = 0, i;
	uint64_t tar_size;
	int r = -1;

	buf_init(&p.out, b->max_bytes);
	p.max_bytes = b->max_bytes;
	if (compression != LY_COMPRESS_NONE && compression != LY_COMPRESS_GZIP &&
	    compression != LY_COMPRESS_ZSTD) {
		err_set(e, ERR_INPUT, "a layer is written as gzip, zstd or none, not '%s'",
			ly_compression_name(compression));
		goto out;
	}
	if (plan_entries(b, &v, &n, &owned, &on, e) < 0)
		goto out;
	/* ustar without blocking is exactly this long: a header block per
	 * entry, data padded to whole blocks, two zero blocks at the end.
	 * Known up front, it bounds the tar before anything is written and
	 * lets zstd record the size (see ly_compressor_new). */
	tar_size = 2 * TAR_BLOCK;
	for (i = 0; i < n && tar_size <= b->max_bytes; i++)
		tar_size += TAR_BLOCK + v[i].len / TAR_BLOCK * TAR_BLOCK +
			    (v[i].len % TAR_BLOCK ? TAR_BLOCK : 0);
	if (tar_size > b->max_bytes) {
		err_set(e, ERR_INPUT, "the layer's tar would exceed %zu bytes", b->max_bytes);
		goto out;
	}
	if (ly_hash_new("sha256", &p.diff_id, e) < 0 || ly_hash_new("sha256", &p.digest, e) < 0 ||
	    ly_compressor_new(compression, tar_size, pipeline_out, &p, &p.z, e) < 0)
		goto out;

	a = archive_write_new();
	ae = archive_entry_new();
	if (!a || !ae) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	/* ustar, not pax: pax would add extended headers (with their own
	 * names and times) for anything ustar cannot hold; our paths and sizes
	 * fit ustar or the write fails loudly. Block size 0: no padding of
	 * the end to a 10 KiB record. */
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open(a, &p, NULL, pipeline_write, NULL) != ARCHIVE_OK) {
		archive_fail(a, &p, "cannot start the tar stream for", "layer", e);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (write_entry(a, ae, &p, &v[i], e) < 0)
			goto out;
	/* close writes the end-of-archive blocks through pipeline_write */
	if (archive_write_close(a) != ARCHIVE_OK) {
		archive_fail(a, &p, "cannot finish the tar stream of", "layer", e);
		goto out;
	}
	if (p.tar_bytes != tar_size) {
		err_set(e, ERR_OPERATIONAL,
			"internal error: libarchive wrote a %llu-byte tar, %llu expected",
			(unsigned long long)p.tar_bytes, (unsigned long long)tar_size);
		goto out;
	}
	if (ly_compressor_finish(p.z, e) < 0) {
		err_prefix(e, "cannot finish the %s layer", ly_compression_name(compression));
		goto out;
	}
	ly_hash_final(p.diff_id, layer.diff_id);
	ly_hash_final(p.digest, layer.digest);
	layer.compression = compression;
	layer.tar_size = p.tar_bytes;
	layer.data = (unsigned char *)buf_detach(&p.out, &layer.size);
	if (!layer.data) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	*ret = layer; /* transferred */
	r = 0;
out:
	archive_entry_free(ae);
	archive_write_free(a);
	ly_compressor_free(p.z);
	ly_hash_free(p.diff_id);
	ly_hash_free(p.digest);
	buf_free(&p.out);
	free(v);
	for (i = 0; i < on; i++)
		free(owned[i]);
	free(owned);
	return r;
}
