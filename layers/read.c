/* read.c - list a layer with libarchive, held in memory or streamed from a
 * source callback (see layer.h).
 *
 * The bytes are hostile: only the tar format and the one filter the layer
 * claims are enabled (no external programs, no other formats), every size is
 * checked against the limits before anything is read, and paths that would
 * escape the root on extraction are refused rather than listed. Both front
 * ends (memory, stream) only set up the archive; one loop, list_entries,
 * does every check, so the two cannot drift apart. */
#include "layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ustar/tar blocks: an archive ends with at least one zero block. */
#define TAR_BLOCK 512
/* Bytes pulled from a stream source per call: large enough that the
 * callback's cost disappears next to decompression, small next to the
 * ~20 MiB inlay runs in. */
#define STREAM_CHUNK (64u * 1024)
/* Bytes needed to tell the compression (zstd's magic is the longest). */
#define MAGIC_BYTES 4

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

/* The source's own error when the failure started there (a stream that
 * broke or failed its digest check): libarchive only saw a read fail, and
 * its message would hide the cause. NULL or an unset err for none. */
static int fail(struct archive *a, const char *what, const struct err *src_err, struct err *e)
{
	if (src_err && src_err->cls != ERR_OK) {
		*e = *src_err;
		return -1;
	}
	return archive_err(a, what, e);
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
			size_t *ccap, const struct err *src_err, struct err *e)
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
			return fail(a, what, src_err, e);
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

/* Refuse a compression claim the first bytes contradict; len is how many
 * bytes there were to look at (0: the layer is empty). */
static int check_claim(enum ly_compression claimed, enum ly_compression found, size_t len,
		       struct err *e)
{
	if (len == 0)
		return err_set(e, ERR_INPUT, "the layer is empty (not even a tar end block)");
	if (claimed == LY_COMPRESS_AUTO || claimed == found)
		return 0;
	if (claimed != LY_COMPRESS_NONE && claimed != LY_COMPRESS_GZIP &&
	    claimed != LY_COMPRESS_ZSTD)
		return err_set(e, ERR_INPUT, "unknown layer compression %d", (int)claimed);
	return err_set(e, ERR_INPUT,
		       "the layer is said to be %s but its bytes are %s (media type and "
		       "content disagree)",
		       ly_compression_name(claimed),
		       found == LY_COMPRESS_NONE ? "not gzip or zstd" : ly_compression_name(found));
}

/* A tar reader with the one filter `found` (and nothing else) enabled. */
static int new_reader(enum ly_compression found, struct archive **ret, struct err *e)
{
	struct archive *a = archive_read_new();

	if (!a)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (archive_read_support_format_tar(a) != ARCHIVE_OK) {
		archive_err(a, "cannot set up the tar reader", e);
		archive_read_free(a);
		return -1;
	}
	if (enable_filter(a, found, e) < 0) {
		archive_read_free(a);
		return -1;
	}
	*ret = a;
	return 0;
}

/* Consume the rest of the current entry's data (read holds how much of it
 * was read already) and its padding, so the next header read starts at the
 * next block (the end check relies on it). Returns 0; 1 when the tar ends
 * here, inside the padding, after every byte of the data (Go's tar writer
 * leaves the last padding out when it is not closed, as umoci insert's
 * layers show; accepted only with end_blocks_optional); or -1. */
static int finish_entry(struct archive *a, const char *path, int64_t read, int64_t size,
			const struct ly_read_limits *lim, const struct err *src_err, struct err *e)
{
	const void *block;
	size_t n;
	la_int64_t off;
	int64_t end = read;
	char what[256];
	int ar;

	for (;;) {
		ar = archive_read_data_block(a, &block, &n, &off);
		if (ar == ARCHIVE_EOF)
			return 0;
		if (ar != ARCHIVE_OK)
			break;
		if (off >= 0 && off + (int64_t)n > end)
			end = off + (int64_t)n;
	}
	if (lim->end_blocks_optional && end >= size && !(src_err && src_err->cls != ERR_OK))
		return 1;
	snprintf(what, sizeof(what), "cannot read layer entry '%.200s'", path);
	return fail(a, what, src_err, e);
}

/* The listing loop both front ends share: every entry checked against the
 * limits and the path rules, then handed to cb. a is open; src_err is the
 * stream source's error slot, or NULL. */
static int list_entries(struct archive *a, const struct ly_read_limits *lim, ly_entry_fn cb,
			void *arg, const struct err *src_err, struct err *e)
{
	static const unsigned char empty[1];
	struct archive_entry *ae;
	struct ly_entry ent;
	unsigned char *cbuf = NULL;
	size_t ccap = 0, count = 0;
	la_int64_t before, after, pos;
	const char *problem;
	char what[256];
	int ar, cr, fr, r = -1;

	for (;;) {
		before = archive_filter_bytes(a, 0);
		ar = archive_read_next_header(a, &ae);
		if (ar == ARCHIVE_EOF) {
			if (src_err && src_err->cls != ERR_OK) {
				*e = *src_err;
				goto out;
			}
			/* libarchive also ends quietly at a bare end of input
			 * between entries, or after one zero block. A complete
			 * tar ends with two (POSIX; every layer writer we know
			 * emits both), so less means the layer was cut short. */
			after = archive_filter_bytes(a, 0);
			if (after - before < 2 * TAR_BLOCK && !lim->end_blocks_optional) {
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
			fail(a, what, src_err, e);
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
				if (read_content(a, ent.path, (size_t)ent.size, &cbuf, &ccap,
						 src_err, e) < 0)
					goto out;
				ent.content = cbuf;
			}
		}
		cr = cb(arg, &ent, e);
		if (cr < 0)
			goto out;
		if (cr > 0)
			break;
		fr = finish_entry(a, ent.path, ent.content ? ent.size : 0, ent.size, lim, src_err,
				  e);
		if (fr < 0)
			goto out;
		if (fr > 0)
			break;
	}
	r = 0;
out:
	free(cbuf);
	return r;
}

int ly_layer_list(const void *data, size_t len, enum ly_compression compression,
		  const struct ly_read_limits *limits, ly_entry_fn cb, void *arg, struct err *e)
{
	const struct ly_read_limits *lim = limits ? limits : &ly_read_limits_default;
	enum ly_compression found = ly_detect_compression(data, len);
	struct archive *a = NULL;
	int r = -1;

	if (check_claim(compression, found, len, e) < 0 || new_reader(found, &a, e) < 0)
		return -1;
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		archive_err(a, "cannot read the layer", e);
		goto out;
	}
	r = list_entries(a, lim, cb, arg, NULL, e);
out:
	archive_read_free(a);
	return r;
}

/* The state behind libarchive's read callback for a streamed layer. */
struct stream_src {
	ly_read_fn read;
	void *ctx;
	unsigned char *buf; /* STREAM_CHUNK bytes, handed to libarchive */
	size_t ahead;	    /* bytes at buf read ahead (the magic) not yet handed out */
	bool eof;
	struct err err; /* the source's failure, ERR_OK while none */
};

/* One pull from the source into buf[off..STREAM_CHUNK): the count, 0 at
 * the end, -1 with s->err filled. */
static ssize_t stream_pull(struct stream_src *s, size_t off)
{
	ssize_t n;

	if (s->eof)
		return 0;
	n = s->read(s->ctx, s->buf + off, STREAM_CHUNK - off, &s->err);
	if (n < 0) {
		if (s->err.cls == ERR_OK)
			err_set(&s->err, ERR_OPERATIONAL, "reading the layer failed");
		return -1;
	}
	if ((size_t)n > STREAM_CHUNK - off) {
		err_set(&s->err, ERR_OPERATIONAL,
			"the layer's source returned more bytes than asked for");
		return -1;
	}
	if (n == 0)
		s->eof = true;
	return n;
}

static la_ssize_t stream_read_cb(struct archive *a, void *client, const void **buffer)
{
	struct stream_src *s = client;
	ssize_t n;

	*buffer = s->buf;
	if (s->ahead > 0) {
		n = (ssize_t)s->ahead;
		s->ahead = 0;
		return n;
	}
	n = stream_pull(s, 0);
	if (n < 0) {
		archive_set_error(a, EIO, "%s", s->err.msg);
		return ARCHIVE_FATAL;
	}
	return n;
}

int ly_layer_list_stream(ly_read_fn read, void *ctx, enum ly_compression compression,
			 const struct ly_read_limits *limits, ly_entry_fn cb, void *arg,
			 struct err *e)
{
	const struct ly_read_limits *lim = limits ? limits : &ly_read_limits_default;
	struct stream_src s = {.read = read, .ctx = ctx};
	struct archive *a = NULL;
	enum ly_compression found;
	ssize_t n;
	int r = -1;

	s.buf = malloc(STREAM_CHUNK);
	if (!s.buf)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	/* Read ahead what names the compression; libarchive gets these bytes
	 * first. A source may hand them out a byte at a time. */
	while (s.ahead < MAGIC_BYTES) {
		n = stream_pull(&s, s.ahead);
		if (n < 0) {
			*e = s.err;
			goto out;
		}
		if (n == 0)
			break;
		s.ahead += (size_t)n;
	}
	found = ly_detect_compression(s.buf, s.ahead);
	if (check_claim(compression, found, s.ahead, e) < 0 || new_reader(found, &a, e) < 0)
		goto out;
	if (archive_read_open(a, &s, NULL, stream_read_cb, NULL) != ARCHIVE_OK) {
		fail(a, "cannot read the layer", &s.err, e);
		goto out;
	}
	r = list_entries(a, lim, cb, arg, &s.err, e);
out:
	archive_read_free(a);
	free(s.buf);
	return r;
}
