/* read.c - list a layer held in memory with libarchive (see layer.h).
 *
 * The bytes are hostile: only the tar format and the one filter the layer
 * claims are enabled (no external programs, no other formats), every size is
 * checked against the limits before anything is read, and paths that would
 * escape the root on extraction are refused rather than listed. */
#include "layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ustar/tar blocks: an archive ends with at least one zero block. */
#define TAR_BLOCK 512

const struct ly_read_limits ly_read_limits_default = {
    .max_entries = 100000,
    .max_entry_bytes = (int64_t)1 << 30,
    .max_total_bytes = (uint64_t)4 << 30,
    .max_content_bytes = (size_t)4 << 20,
};

/* libarchive's message for the failure of `what`: bad bytes, unless
 * libarchive ran out of memory. */
static int archive_err(struct archive *a, const char *what, struct err *e)
{
	const char *msg = archive_error_string(a);

	return err_set(e, archive_errno(a) == ENOMEM ? ERR_OPERATIONAL : ERR_INPUT, "%s: %s", what,
		       msg ? msg : "unknown libarchive error");
}

/* A path an extraction would resolve outside its root: absolute, or with a
 * ".." component. Empty paths are refused too (nothing to name). */
static const char *path_problem(const char *path)
{
	const char *p = path, *end;

	if (path[0] == '\0')
		return "is empty";
	if (path[0] == '/')
		return "is absolute";
	for (;;) {
		end = strchr(p, '/');
		if (!end)
			end = p + strlen(p);
		if (end - p == 2 && p[0] == '.' && p[1] == '.')
			return "has a '..' component";
		if (*end == '\0')
			return NULL;
		p = end + 1;
	}
}

static enum ly_entry_type entry_type(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return LY_ENTRY_HARDLINK;
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		return LY_ENTRY_FILE;
	case AE_IFDIR:
		return LY_ENTRY_DIR;
	case AE_IFLNK:
		return LY_ENTRY_SYMLINK;
	default:
		return LY_ENTRY_OTHER;
	}
}

static int enable_filter(struct archive *a, enum ly_compression c, struct err *e)
{
	int ar;

	switch (c) {
	case LY_COMPRESS_GZIP:
		ar = archive_read_support_filter_gzip(a);
		break;
	case LY_COMPRESS_ZSTD:
		ar = archive_read_support_filter_zstd(a);
		break;
	default:
		ar = archive_read_support_filter_none(a);
		break;
	}
	/* ARCHIVE_WARN means libarchive would run an external program for the
	 * filter: not for hostile bytes. */
	if (ar != ARCHIVE_OK)
		return err_set(e, ERR_OPERATIONAL,
			       "this libarchive cannot read %s layers by itself (built without %s)",
			       ly_compression_name(c), c == LY_COMPRESS_ZSTD ? "libzstd" : "zlib");
	return 0;
}

/* Read the current entry's size bytes of content into *cbuf (grown as
 * needed, at most limits->max_content_bytes + 1). */
static int read_content(struct archive *a, const char *path, size_t size, unsigned char **cbuf,
			size_t *ccap, struct err *e)
{
	unsigned char *grown;
	size_t got = 0;
	la_ssize_t n;

	if (size + 1 > *ccap) {
		grown = realloc(*cbuf, size + 1);
		if (!grown)
			return err_set(e, ERR_OPERATIONAL, "out of memory");
		*cbuf = grown;
		*ccap = size + 1;
	}
	while (got < size) {
		n = archive_read_data(a, *cbuf + got, size - got);
		if (n < 0) {
			char what[256];

			snprintf(what, sizeof(what), "cannot read layer entry '%.200s'", path);
			return archive_err(a, what, e);
		}
		if (n == 0)
			return err_set(e, ERR_INPUT,
				       "layer entry '%.200s' is truncated (%zu of %zu bytes)", path,
				       got, size);
		got += (size_t)n;
	}
	(*cbuf)[size] = '\0';
	return 0;
}

int ly_layer_list(const void *data, size_t len, enum ly_compression compression,
		  const struct ly_read_limits *limits, ly_entry_fn cb, void *arg, struct err *e)
{
	static const unsigned char empty[1];
	const struct ly_read_limits *lim = limits ? limits : &ly_read_limits_default;
	enum ly_compression found = ly_detect_compression(data, len);
	struct archive *a = NULL;
	struct archive_entry *ae;
	struct ly_entry ent;
	unsigned char *cbuf = NULL;
	size_t ccap = 0, count = 0;
	la_int64_t before, after, pos;
	const char *problem;
	char what[256];
	int ar, cr, r = -1;

	if (len == 0)
		return err_set(e, ERR_INPUT, "the layer is empty (not even a tar end block)");
	if (compression != LY_COMPRESS_AUTO && compression != found) {
		if (compression != LY_COMPRESS_NONE && compression != LY_COMPRESS_GZIP &&
		    compression != LY_COMPRESS_ZSTD)
			return err_set(e, ERR_INPUT, "unknown layer compression %d",
				       (int)compression);
		return err_set(e, ERR_INPUT,
			       "the layer is said to be %s but its bytes are %s (media type and "
			       "content disagree)",
			       ly_compression_name(compression),
			       found == LY_COMPRESS_NONE ? "not gzip or zstd"
							 : ly_compression_name(found));
	}
	a = archive_read_new();
	if (!a)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (archive_read_support_format_tar(a) != ARCHIVE_OK) {
		archive_err(a, "cannot set up the tar reader", e);
		goto out;
	}
	if (enable_filter(a, found, e) < 0)
		goto out;
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		archive_err(a, "cannot read the layer", e);
		goto out;
	}
	for (;;) {
		before = archive_filter_bytes(a, 0);
		ar = archive_read_next_header(a, &ae);
		if (ar == ARCHIVE_EOF) {
			/* libarchive also ends quietly at a bare end of input
			 * between entries, or after one zero block. A complete
			 * tar ends with two (POSIX; every layer writer we know
			 * emits both), so less means the layer was cut short. */
			after = archive_filter_bytes(a, 0);
			if (after - before < 2 * TAR_BLOCK) {
				err_set(e, ERR_INPUT,
					"the layer is truncated: its tar ends after %lld bytes "
					"without the two zero blocks that end a tar",
					(long long)after);
				goto out;
			}
			break;
		}
		if (ar != ARCHIVE_OK) {
			/* ARCHIVE_WARN too: a header libarchive had to guess at
			 * is not one to trust. */
			snprintf(what, sizeof(what), "cannot read the layer after %zu entries",
				 count);
			archive_err(a, what, e);
			goto out;
		}
		if (++count > lim->max_entries) {
			err_set(e, ERR_INPUT, "the layer has more than %zu entries",
				lim->max_entries);
			goto out;
		}
		memset(&ent, 0, sizeof(ent));
		ent.path = archive_entry_pathname(ae);
		if (!ent.path) {
			err_set(e, ERR_INPUT, "layer entry %zu has no usable path", count);
			goto out;
		}
		problem = path_problem(ent.path);
		if (problem) {
			err_set(e, ERR_INPUT, "layer entry path '%.200s' %s", ent.path, problem);
			goto out;
		}
		ent.type = entry_type(ae);
		if (ent.type == LY_ENTRY_HARDLINK) {
			ent.linkname = archive_entry_hardlink(ae);
			problem = path_problem(ent.linkname);
			if (problem) {
				err_set(e, ERR_INPUT,
					"layer entry '%.200s' links to '%.200s', which %s",
					ent.path, ent.linkname, problem);
				goto out;
			}
		} else if (ent.type == LY_ENTRY_SYMLINK) {
			/* Symlink targets are resolved inside the container,
			 * where an absolute target is normal (/bin/sh ->
			 * busybox); they are listed as they are. */
			ent.linkname = archive_entry_symlink(ae);
			if (!ent.linkname)
				ent.linkname = "";
		}
		ent.size = archive_entry_size(ae);
		if (ent.size < 0 || ent.size > lim->max_entry_bytes) {
			err_set(e, ERR_INPUT,
				"layer entry '%.200s' is %lld bytes, more than the %lld allowed",
				ent.path, (long long)ent.size, (long long)lim->max_entry_bytes);
			goto out;
		}
		pos = archive_filter_bytes(a, 0);
		if (pos < 0 || (uint64_t)pos + (uint64_t)ent.size > lim->max_total_bytes) {
			err_set(e, ERR_INPUT,
				"the layer's tar is larger than the %llu bytes allowed (at entry "
				"'%.200s')",
				(unsigned long long)lim->max_total_bytes, ent.path);
			goto out;
		}
		ent.mode = (unsigned)(archive_entry_perm(ae) & 07777);
		ent.uid = archive_entry_uid(ae);
		ent.gid = archive_entry_gid(ae);
		ent.uname = archive_entry_uname(ae);
		ent.gname = archive_entry_gname(ae);
		if (!ent.uname)
			ent.uname = "";
		if (!ent.gname)
			ent.gname = "";
		ent.mtime = archive_entry_mtime(ae);
		ent.atime_set = archive_entry_atime_is_set(ae) != 0;
		ent.ctime_set = archive_entry_ctime_is_set(ae) != 0;
		if (ent.type == LY_ENTRY_FILE && (uint64_t)ent.size <= lim->max_content_bytes) {
			if (ent.size == 0) {
				ent.content = empty;
			} else {
				if (read_content(a, ent.path, (size_t)ent.size, &cbuf, &ccap, e) <
				    0)
					goto out;
				ent.content = cbuf;
			}
		}
		cr = cb(arg, &ent, e);
		if (cr < 0)
			goto out;
		if (cr > 0)
			break;
		/* Consume the rest of the data and its padding now, so the
		 * next header read starts at the next block (the end check
		 * above relies on it). */
		if (archive_read_data_skip(a) != ARCHIVE_OK) {
			snprintf(what, sizeof(what), "cannot read layer entry '%.200s'",
				 archive_entry_pathname(ae));
			archive_err(a, what, e);
			goto out;
		}
	}
	r = 0;
out:
	free(cbuf);
	archive_read_free(a);
	return r;
}
