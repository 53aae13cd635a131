/* image.h - image manifests and indexes (OCI and Docker schema2).
 *
 * Parsing validates what inlay relies on and keeps the document itself, so a
 * manifest that is only copied is pushed back byte for byte (its digest is
 * the digest of the original bytes, never of a re-serialisation), and one
 * that is rewritten keeps every field inlay does not touch.
 *
 * Untrusted input: every string, count and size is checked; errors are
 * ERR_INPUT and name the field ("layers[2].digest: ...").
 */
#ifndef INLAY_IMAGE_H
#define INLAY_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define MF_MAX_LAYERS 1000   /* more than any real image; bounds allocation */
#define MF_MAX_CHILDREN 1000 /* index entries */

enum mf_kind {
	MF_KIND_IMAGE = 1, /* OCI image manifest or Docker schema2 manifest */
	MF_KIND_INDEX = 2, /* OCI index or Docker manifest list */
};

struct mf_platform {
	char *os;           /* NULL when the descriptor has no platform */
	char *architecture; /* NULL when the descriptor has no platform */
	char *variant;      /* NULL when absent */
};

struct mf_annotation {
	char *key;
	char *value;
};

struct mf_descriptor {
	char *media_type;
	char *digest; /* validated */
	int64_t size; /* >= 0 */
	struct mf_platform platform;
	struct mf_annotation *annotations;
	size_t n_annotations;
};

struct mf_manifest; /* opaque */

/* Parse and validate a manifest or index. content_type is the
 * Content-Type the registry sent (may be NULL); when the document has a
 * mediaType field it wins, and a conflict is an error. On success
 * *ret_manifest owns a copy of the bytes. */
int mf_manifest_parse(const void *data, size_t len, const char *content_type,
		      struct mf_manifest **ret_manifest, struct err *e);

void mf_manifest_free(struct mf_manifest *m);

enum mf_kind mf_manifest_kind(const struct mf_manifest *m);

/* The media type, from the document or the content type it was parsed with. */
const char *mf_manifest_media_type(const struct mf_manifest *m);

/* The original bytes (exactly as parsed, or as last serialised). */
const char *mf_manifest_bytes(const struct mf_manifest *m, size_t *ret_len);

/* Image manifests: the config and layers. NULL / 0 for an index. */
const struct mf_descriptor *mf_manifest_config(const struct mf_manifest *m);
size_t mf_manifest_layer_count(const struct mf_manifest *m);
const struct mf_descriptor *mf_manifest_layer(const struct mf_manifest *m, size_t i);

/* Indexes: the child manifests. 0 for an image manifest. */
size_t mf_manifest_child_count(const struct mf_manifest *m);
const struct mf_descriptor *mf_manifest_child(const struct mf_manifest *m, size_t i);

/* A top-level annotation, or NULL. */
const char *mf_manifest_annotation(const struct mf_manifest *m, const char *key);

/* A descriptor annotation, or NULL. */
const char *mf_descriptor_annotation(const struct mf_descriptor *d, const char *key);

/* "os/arch[/variant]" of a descriptor, or NULL when it has no platform.
 * Caller frees. */
char *mf_platform_string(const struct mf_platform *p);

/* Parse "os/arch[/variant]" (as given to --platform). ERR_INPUT when it has
 * not two or three non-empty parts. Fill *ret (free with mf_platform_clear). */
int mf_platform_parse(const char *s, struct mf_platform *ret, struct err *e);
void mf_platform_clear(struct mf_platform *p);

/* True when a descriptor's platform matches `want`: os and architecture
 * equal, and variant equal when want has one. */
bool mf_platform_matches(const struct mf_platform *have, const struct mf_platform *want);

/* Build an index of the same kind (OCI index / Docker list) as `like` (an
 * index) holding only the children whose positions are listed, keeping the
 * index's annotations and other fields. The result is serialised: its bytes
 * are canonical JSON. */
int mf_index_select(const struct mf_manifest *like, const size_t *positions, size_t n,
		    struct mf_manifest **ret_index, struct err *e);

/* --- Building (added for the instrument pipeline) ---------------------------
 *
 * Changes are made to the parsed document, keeping every field they do not
 * touch (unknown fields included) and the order of keys. Each change is
 * validated as a whole: on failure the manifest is unchanged. After a change
 * the descriptor accessors above reflect it at once (pointers they returned
 * before are invalidated), while mf_manifest_bytes() keeps returning the old
 * bytes until mf_manifest_serialize() is called. */

/* Append a copy of `layer` (media type, digest, size, annotations; platform
 * when it has one) to an image manifest's layers. ERR_INPUT for an index, an
 * invalid descriptor or more than MF_MAX_LAYERS layers. */
int mf_manifest_append_layer(struct mf_manifest *m, const struct mf_descriptor *layer,
			     struct err *e);

/* Remove layer i of an image manifest. ERR_INPUT when i is out of range. */
int mf_manifest_remove_layer(struct mf_manifest *m, size_t i, struct err *e);

/* Point an image manifest's config at another blob: its digest and size
 * change, its media type and other fields stay. */
int mf_manifest_set_config(struct mf_manifest *m, const char *digest, int64_t size,
			   struct err *e);

/* Set the top-level annotation key to value (value NULL removes it), on OCI
 * manifests and indexes. Docker schema2 manifests and manifest lists have no
 * annotations field: for them this is an ERR_INPUT error and callers skip
 * annotating. */
int mf_manifest_set_annotation(struct mf_manifest *m, const char *key, const char *value,
			       struct err *e);

/* Re-serialise the document after changes: compact JSON, keys in their
 * order. mf_manifest_bytes() then returns the new bytes (whose digest is what
 * gets pushed). ERR_INPUT when the result passes LIMIT_MANIFEST_BYTES. */
int mf_manifest_serialize(struct mf_manifest *m, struct err *e);

/* Point child i of an index at another manifest: digest and size change, its
 * media type, platform, annotations and other fields stay. */
int mf_index_replace_child(struct mf_manifest *idx, size_t i, const char *digest, int64_t size,
			   struct err *e);

/* Remove child i of an index. ERR_INPUT when i is out of range. */
int mf_index_remove_child(struct mf_manifest *idx, size_t i, struct err *e);

#endif
