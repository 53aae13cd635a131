/* inventory.h - the executables of an image, for `inlay instrument
 * --inventory` (DESIGN.md section 5: a program absent from the inventory
 * written at instrument time is drift).
 *
 * The image's final filesystem is rebuilt in memory, without file contents,
 * by applying its layers in order as a container runtime does (OCI
 * image-spec layer.md, "Applying Changesets"):
 *   - an entry replaces what was at its path, except that a directory over a
 *     directory keeps the lower one's children; anything replaced goes with
 *     everything below it;
 *   - ".wh.NAME" removes NAME (and all below it) of lower layers,
 *     ".wh..wh..opq" every lower child of its directory; both only touch
 *     lower layers, whatever their place in the tar (what the layer itself
 *     adds stays); other ".wh..wh.*" names (aufs metadata) are ignored, and
 *     whiteouts never appear themselves;
 *   - the directories of an entry's path are followed through symlinks
 *     inside the image (an absolute target starts at the image's root, ".."
 *     stops there), and missing ones are created, as containerd does: a file
 *     written to "bin/x" when /bin -> usr/bin is /usr/bin/x. A path through
 *     a non-directory, or more than 40 symlinks, cannot be applied by a
 *     runtime either: ERR_INPUT;
 *   - a hard link is its own path with the type and mode its target has when
 *     the entry is applied (the link's target, not followed when it is a
 *     symlink, must exist and not be a directory, else ERR_INPUT); changing
 *     or removing the target later does not change the link.
 * The inventory lists every regular file (or hard link to one) with any of
 * the mode bits 0111, except under /.inlay/ (inlay's own layer). Symlinks
 * are not listed: the sensor looks up the resolved path.
 *
 * The file (RW_INVENTORY_PATH in the sensor layer, mode 0444): the line
 * RW_INVENTORY_HEADER, then one absolute path per line ("/usr/bin/ls"), each
 * ending in "\n", sorted in ascending byte order (unsigned memcmp, like
 * LC_ALL=C sort), unique, without "." or ".." or empty components or a
 * trailing '/'. A path holding "\n" cannot be written: it is left out and
 * counted (running it counts as drift).
 *
 * Memory: about 100 bytes per path alive in the merged tree (measured:
 * 1.9 million paths, 310 MiB peak with serialising; 200,000 paths, 40 MiB),
 * bounded by max_nodes; serialising needs twice the text (at most
 * 2 x max_bytes) for a moment. Child lookup is a hash table keyed with
 * SipHash-1-3 under a random key, so crafted names cannot make it slow.
 */
#ifndef INLAY_RW_INVENTORY_H
#define INLAY_RW_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../layers/layer.h"
#include "../manifest/err.h"
#include "../manifest/image.h"
#include "../registry/registry.h"

#define RW_INVENTORY_PATH "/.inlay/inventory"
#define RW_INVENTORY_HEADER "inlay-inventory 1\n"

/* Defaults (rw_inventory_limits_default). The text limit matches what the
 * sensor accepts (SN_INVENTORY_MAX less the header). 2,000,000 live paths
 * is several times the largest images seen (a CUDA + Python image holds a
 * few hundred thousand files) and keeps the tree near 200 MiB at most. */
#define RW_INVENTORY_MAX_ENTRIES 1000000u
#define RW_INVENTORY_MAX_BYTES (64u * 1024 * 1024)
#define RW_INVENTORY_MAX_NODES 2000000u
/* Longest absolute path kept, NUL included (Linux's PATH_MAX: a runtime
 * cannot create a longer one with one system call). Components longer than
 * 255 bytes (NAME_MAX) cannot exist either. Both: ERR_INPUT. */
#define RW_INVENTORY_PATH_MAX 4096
#define RW_INVENTORY_NAME_MAX 255
/* Symlinks followed while resolving one path (Linux's MAXSYMLINKS). */
#define RW_INVENTORY_MAX_SYMLINKS 40

struct rw_inventory_limits {
	size_t max_nodes;   /* paths alive in the merged tree (directories too) */
	size_t max_entries; /* executables listed */
	size_t max_bytes;   /* bytes of the path lines, without the header */
};

extern const struct rw_inventory_limits rw_inventory_limits_default;

struct rw_inventory; /* the merged tree */

/* An empty filesystem (just "/"). limits NULL means the defaults; they are
 * copied. Returns 0, or -1 (ERR_OPERATIONAL: out of memory). Free with
 * rw_inventory_free. */
int rw_inventory_new(const struct rw_inventory_limits *limits, struct rw_inventory **ret_inv,
		     struct err *e);

/* Accepts NULL. */
void rw_inventory_free(struct rw_inventory *inv);

/* Start the next layer, lowest first. Every entry applied until the next
 * call belongs to this layer (whiteouts in it touch only earlier ones). */
void rw_inventory_next_layer(struct rw_inventory *inv);

/* Apply one tar entry of the current layer (see the rules above). The
 * entry is borrowed for the call. Paths are relative as in a tar
 * ("usr/bin/ls", "./usr/bin/ls", "usr/bin/" for a directory); a leading
 * '/' is refused, as are "..", components over RW_INVENTORY_NAME_MAX and
 * paths over RW_INVENTORY_PATH_MAX (ERR_INPUT, naming the entry). More
 * than max_nodes paths alive: ERR_INPUT. Calling it before the first
 * rw_inventory_next_layer is a bug: ERR_OPERATIONAL. */
int rw_inventory_apply(struct rw_inventory *inv, const struct ly_entry *ent, struct err *e);

/* rw_inventory_apply as an ly_entry_fn, so a layer listing can feed the
 * tree directly: arg is the struct rw_inventory. */
int rw_inventory_entry_fn(void *arg, const struct ly_entry *ent, struct err *e);

/* A serialised inventory. data is malloc'd, owned by the struct. */
struct rw_inventory_text {
	char *data; /* RW_INVENTORY_HEADER, then the paths; not NUL-terminated */
	size_t len;
	size_t entries;	 /* paths listed */
	size_t left_out; /* executables with "\n" in their path, not listed */
};

/* Free t->data and zero *t. Accepts NULL. */
void rw_inventory_text_clear(struct rw_inventory_text *t);

/* Write the inventory of the tree as it stands. Fills *ret only on success.
 * More than max_entries executables or max_bytes of path lines: ERR_INPUT
 * saying to instrument without --inventory. The tree is not changed. */
int rw_inventory_serialize(const struct rw_inventory *inv, struct rw_inventory_text *ret,
			   struct err *e);

/* The inventory of the image manifest m (its layers in order; an old
 * sensor layer must already be taken out) read from src: every layer is
 * streamed with rg_blob_stream, digest-verified and decompressed on the fly
 * (never held whole), with read limits scaled to its size (see
 * inventory.c). A download that breaks is started over for the whole
 * image, up to 3 times. Layers of a media type inlay cannot read are
 * ERR_INPUT. stats (may be NULL) gets every byte downloaded, failed tries
 * included. Fills *ret only on success. */
int rw_inventory_of_image(struct rg_endpoint *src, const struct mf_manifest *m,
			  struct rw_inventory_text *ret, struct rg_stats *stats, struct err *e);

#endif
