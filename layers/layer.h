/* layer.h - deterministic tar layers: build one in memory, list one back.
 *
 * The builder produces the sensor layer (DESIGN.md section 4): the same entries
 * give byte-identical output on every run, whatever order they were added in.
 * What makes the bytes reproducible, fixed here and not configurable:
 *   - POSIX ustar headers written by libarchive, entries sorted by path
 *     (strcmp, so a directory always precedes what it contains), uid/gid 0,
 *     empty uname/gname, mtime 0, no atime/ctime/pax records, no device numbers;
 *     the archive ends with the two zero blocks and is not padded to a 10 KiB
 *     record (libarchive block size 0), like Go's archive/tar.
 *   - gzip: zlib deflate level 9, our own 10-byte header 1f 8b 08 FLG=0
 *     MTIME=0 XFL=2 (RFC 1952: "maximum compression") OS=255 (unknown): no
 *     file name, no timestamp, nothing of the machine.
 *   - zstd: libzstd level 19, single-threaded (worker threads change the
 *     bytes), content checksum on, one frame whose header records the tar's
 *     size (computed before the tar is written), so the window, and what a
 *     reader must allocate, is no larger than the layer.
 * Byte identity across machines holds for the same zlib and libzstd releases
 * (Debian 12: zlib 1.2.13, zstd 1.5.4); other releases, or zlib-ng, may
 * compress differently. The uncompressed tar (the diff_id) depends on inlay
 * and libarchive's ustar writer only. tests/unit/test_layer.c pins both.
 *
 * Digest (sha256 of the compressed bytes) and diff_id (sha256 of the tar) are
 * computed in one pass while the tar is written: each tar block is hashed and
 * fed to the compressor, whose output is hashed and kept.
 *
 * The reader lists a layer with libarchive (tar only, one filter), treating
 * the bytes as hostile: bounded entry count, entry size and total size;
 * absolute paths and ".." components are refused. It reads a layer held in
 * memory (ly_layer_list) or one streamed from a source callback
 * (ly_layer_list_stream); both share one listing loop.
 */
#ifndef INLAY_LY_LAYER_H
#define INLAY_LY_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../manifest/err.h"
#include "hash.h"

enum ly_compression {
	LY_COMPRESS_NONE = 0,
	LY_COMPRESS_GZIP = 1,
	LY_COMPRESS_ZSTD = 2,
	/* Reader only: decide from the first bytes (ly_detect_compression). */
	LY_COMPRESS_AUTO = 3,
};

/* Fixed compression levels (see the header comment): changing one changes
 * every sensor layer digest inlay produces. */
#define LY_GZIP_LEVEL 9
#define LY_ZSTD_LEVEL 19

/* Parse "gzip", "zstd" or "none" (the --compression values) into *ret.
 * Returns 0, or -1 with ERR_INPUT naming the accepted values. */
int ly_compression_parse(const char *s, enum ly_compression *ret, struct err *e);

/* "gzip", "zstd", "none", "auto"; "unknown" for anything else. Static. */
const char *ly_compression_name(enum ly_compression c);

/* The compression a layer's bytes start with: LY_COMPRESS_GZIP for 1f 8b,
 * LY_COMPRESS_ZSTD for the zstd frame magic 28 b5 2f fd, LY_COMPRESS_NONE
 * otherwise (including n too small to tell). Never LY_COMPRESS_AUTO. */
enum ly_compression ly_detect_compression(const void *head, size_t n);

/* The compression a layer media type implies: MT_OCI_LAYER_TAR -> none,
 * MT_OCI_LAYER_GZIP, MT_DOCKER_LAYER_GZIP and MT_DOCKER_LAYER_FOREIGN -> gzip,
 * MT_OCI_LAYER_ZSTD -> zstd. Returns 0, or -1 with ERR_INPUT for any other
 * media type (not a layer inlay can read). */
int ly_compression_from_media_type(const char *media_type, enum ly_compression *ret, struct err *e);

/* The layer media type for a compression in a Docker schema2 (docker true) or
 * an OCI manifest. Docker schema2 has only a gzip layer type, so docker with
 * LY_COMPRESS_NONE or LY_COMPRESS_ZSTD returns NULL (the caller refuses
 * "--compression zstd" for a Docker image); LY_COMPRESS_AUTO returns NULL.
 * The result is a static string from manifest/mediatype.h. */
const char *ly_media_type_for(enum ly_compression c, bool docker);

/* ---- building ---- */

/* A finished layer. data is malloc'd and owned by the struct (release with
 * ly_layer_release); digest and diff_id are "sha256:<hex>". For
 * LY_COMPRESS_NONE digest equals diff_id. */
struct ly_layer {
	unsigned char *data;
	size_t size;
	enum ly_compression compression;
	char digest[LY_DIGEST_MAX];  /* of data */
	char diff_id[LY_DIGEST_MAX]; /* of the uncompressed tar */
	uint64_t tar_size;	     /* bytes of the uncompressed tar */
};

/* Free l->data and zero *l. Accepts NULL and a zeroed struct. */
void ly_layer_release(struct ly_layer *l);

struct ly_layer_builder;

/* Most entries one builder accepts: a layer is a handful of files. */
#define LY_BUILDER_MAX_ENTRIES 4096
/* Longest path the builder accepts (ustar's prefix + name fields). ustar
 * also needs a '/' that splits a path longer than 100 bytes into at most 155
 * + 100 (a directory's trailing '/' counts): finish fails, with libarchive's
 * "Pathname too long", for one that cannot be split. */
#define LY_PATH_MAX 255

/* Start an empty layer whose uncompressed tar and compressed bytes may each
 * be at most max_bytes (adding more data, or a finish that would produce
 * more, fails with ERR_INPUT). Returns 0 or -1 (out of memory). */
int ly_layer_builder_new(size_t max_bytes, struct ly_layer_builder **ret_builder, struct err *e);

/* Free the builder and its copies of the paths. Accepts NULL. The data of
 * added files is borrowed and not freed. */
void ly_layer_builder_free(struct ly_layer_builder *b);

/* Add a directory. path is relative, '/'-separated, printable ASCII, without
 * "." or ".." components or empty components; one trailing '/' is allowed
 * and dropped (".inlay/" and ".inlay" are the same entry). mode holds
 * permission bits only (<= 07777). The path is copied. A path added twice
 * (as anything) is an error (ERR_INPUT).
 *
 * Parent directories need not be added: finish adds each missing one with
 * mode 0755 (an explicit entry wins, whatever the order of the calls). */
int ly_layer_add_dir(struct ly_layer_builder *b, const char *path, unsigned mode, struct err *e);

/* Add a regular file of len bytes. Path and mode rules as ly_layer_add_dir
 * (no trailing '/'). data is borrowed: it must stay valid and unchanged until
 * the last ly_layer_finish on this builder returns. */
int ly_layer_add_file(struct ly_layer_builder *b, const char *path, unsigned mode, const void *data,
		      size_t len, struct err *e);

/* Write the layer: sorted entries, the given compression (not AUTO), digest
 * and diff_id in one pass. Fills *ret (owned by the caller, release with
 * ly_layer_release) only on success. The builder is left as it was, so
 * finish may be called again, for example with another compression. */
int ly_layer_finish(struct ly_layer_builder *b, enum ly_compression compression,
		    struct ly_layer *ret, struct err *e);

/* ---- reading ---- */

enum ly_entry_type {
	LY_ENTRY_FILE,
	LY_ENTRY_DIR,
	LY_ENTRY_SYMLINK,
	LY_ENTRY_HARDLINK,
	LY_ENTRY_OTHER, /* devices, fifos, sockets */
};

/* One tar entry as the reader saw it. Every pointer is valid only during the
 * callback. */
struct ly_entry {
	const char *path; /* as stored, e.g. ".inlay/sensor" or ".inlay/" */
	enum ly_entry_type type;
	unsigned mode; /* permission bits (07777) */
	int64_t uid, gid;
	const char *uname;	   /* "" when empty */
	const char *gname;	   /* "" when empty */
	int64_t mtime;		   /* seconds */
	bool atime_set, ctime_set; /* true when the archive carries them (pax) */
	int64_t size;		   /* bytes of content stored (0 for directories) */
	const char *linkname;	   /* symlink or hardlink target, NULL otherwise */
	/* The content of a regular file whose size is at most
	 * limits.max_content_bytes; NULL otherwise (the content was skipped). */
	const void *content;
};

/* Called per entry in archive order: return 0 to go on, 1 to stop listing
 * early (ly_layer_list then returns 0), or -1 after filling e to fail. */
typedef int (*ly_entry_fn)(void *arg, const struct ly_entry *entry, struct err *e);

struct ly_read_limits {
	size_t max_entries;	  /* more entries: ERR_INPUT */
	int64_t max_entry_bytes;  /* an entry larger than this: ERR_INPUT */
	uint64_t max_total_bytes; /* uncompressed tar stream larger: ERR_INPUT */
	size_t max_content_bytes; /* files up to this size are read into content */
	/* Accept a tar that ends after an entry's data without the two zero
	 * blocks that should end it, and even without that data's padding:
	 * umoci insert writes such layers (Go's tar writer, not closed), and
	 * Go's and containerd's readers take them. Without the blocks a cut
	 * after an entry looks like the end, so set it only for bytes whose
	 * integrity is checked otherwise (a digest). A cut inside a header or
	 * an entry's data is an error either way. */
	bool end_blocks_optional;
};

/* The limits ly_layer_list uses when given NULL: 100000 entries, 1 GiB per
 * entry, 4 GiB uncompressed in all, content of files up to 4 MiB, the end
 * blocks required. */
extern const struct ly_read_limits ly_read_limits_default;

/* List a layer held in memory. compression is the one the layer claims (its
 * media type) or LY_COMPRESS_AUTO; a claim the bytes contradict is an error.
 * Only a tar with one matching filter is accepted. Refused with ERR_INPUT:
 * malformed or truncated data (including a tar without the two zero blocks
 * that end it), an absolute path or a ".." component in a path or hardlink target,
 * an empty path, anything over the limits (NULL: ly_read_limits_default).
 * libarchive's message is copied into e. Returns 0 after the last entry (or
 * when cb returned 1), or -1. */
int ly_layer_list(const void *data, size_t len, enum ly_compression compression,
		  const struct ly_read_limits *limits, ly_entry_fn cb, void *arg, struct err *e);

/* Source of a streamed layer's bytes: copy at most n (> 0) bytes into buf
 * and return their count (> 0), 0 at the end of the layer, or -1 after
 * filling e. The end must mean what the source vouches for: a blob source
 * returns 0 only once every byte matched the blob's digest (rg_blob_stream
 * passes such a function). */
typedef ssize_t (*ly_read_fn)(void *ctx, void *buf, size_t n, struct err *e);

/* ly_layer_list over a stream: the same checks, limits, callbacks and
 * errors, but the bytes are pulled from read(ctx, ...) and decompressed as
 * they come, so memory stays at a few buffers of libarchive's and ours
 * whatever the layer's size. The compression claim is checked against the
 * first bytes. A failure of read is returned as read reported it (its e),
 * not as libarchive's rewording. The listing may end (after the tar's end
 * blocks, or when cb returns 1) before read returned 0: bytes after the tar
 * are not read, so a caller that must see a verified end (a digest check)
 * drains the source itself. */
int ly_layer_list_stream(ly_read_fn read, void *ctx, enum ly_compression compression,
			 const struct ly_read_limits *limits, ly_entry_fn cb, void *arg,
			 struct err *e);

#endif
