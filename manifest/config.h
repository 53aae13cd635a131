/* config.h - the image configuration (OCI image config / Docker container
 * config JSON): read what inlay needs, change it, write it back.
 *
 * Parsing keeps the whole document, so serialising after a change keeps every
 * field inlay does not touch, in its order (compact JSON). Untrusted input:
 * bounded by LIMIT_CONFIG_BYTES, every field inlay reads is type-checked, and
 * errors are ERR_INPUT naming the field ("config config.Entrypoint[1]: ...").
 *
 * Pointers returned by the getters point into the configuration and stay
 * valid until the next change to it or mf_config_free.
 */
#ifndef INLAY_CONFIG_H
#define INLAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct mf_config; /* opaque */

/* Parse and validate a configuration: "architecture" and "os" strings,
 * "config" object or null (its Entrypoint and Cmd arrays of strings or null,
 * Labels an object of strings or null), "rootfs" {"type": "layers",
 * "diff_ids": [digests]}, "history" an array of objects or null. On success
 * *ret_cfg is new (free with mf_config_free). */
int mf_config_parse(const void *data, size_t len, struct mf_config **ret_cfg, struct err *e);

void mf_config_free(struct mf_config *cfg);

const char *mf_config_os(const struct mf_config *cfg);
const char *mf_config_architecture(const struct mf_config *cfg);
/* NULL when the config has no variant. */
const char *mf_config_variant(const struct mf_config *cfg);

/* config.Entrypoint / config.Cmd as a NULL-terminated array of strings: NULL
 * when absent or null, an array whose first element is NULL when empty. */
const char *const *mf_config_entrypoint(const struct mf_config *cfg);
const char *const *mf_config_cmd(const struct mf_config *cfg);

/* The value of label `key`, or NULL. */
const char *mf_config_label(const struct mf_config *cfg, const char *key);

/* rootfs.diff_ids: count, and entry i (NULL when out of range). */
size_t mf_config_diff_id_count(const struct mf_config *cfg);
const char *mf_config_diff_id(const struct mf_config *cfg, size_t i);

/* Replace config.Entrypoint by argv (NULL-terminated; argv NULL writes null).
 * Creates "config" when the document has none. */
int mf_config_set_entrypoint(struct mf_config *cfg, const char *const *argv, struct err *e);

/* Set label key to value, creating config.Labels when absent or null. */
int mf_config_set_label(struct mf_config *cfg, const char *key, const char *value, struct err *e);

/* Remove label key; not an error when there is no such label. */
int mf_config_remove_label(struct mf_config *cfg, const char *key, struct err *e);

/* Append a (validated) digest to rootfs.diff_ids; remove the entry at index i. */
int mf_config_append_diff_id(struct mf_config *cfg, const char *digest, struct err *e);
int mf_config_remove_diff_id(struct mf_config *cfg, size_t i, struct err *e);

/* Append the history entry {"created", "created_by": created_by,
 * "empty_layer": false} describing a layer just appended; "created" is the
 * config's own "created" (omitted when it has none), so the result stays
 * reproducible. */
int mf_config_append_history(struct mf_config *cfg, const char *created_by, struct err *e);

/* Remove the history entry of layer `layer` (0-based, counting only entries
 * without "empty_layer": true, which is how history lines up with
 * rootfs.diff_ids). Returns 1 when an entry was removed, 0 when the history
 * has no entry for that layer (images built without history are valid), or
 * a negative value on error. */
int mf_config_remove_history_layer(struct mf_config *cfg, size_t layer, struct err *e);

/* Serialise: compact JSON, keys in document order. *ret_bytes is
 * NUL-terminated and the caller's to free; *ret_len excludes the NUL. */
int mf_config_serialize(const struct mf_config *cfg, char **ret_bytes, size_t *ret_len,
			struct err *e);

/* The entrypoint rewrite of DESIGN.md section 4, with prefix P (a
 * NULL-terminated argv such as {"/.inlay/sensor", "--", NULL}):
 *   Entrypoint E non-empty           -> Entrypoint P + E, Cmd unchanged
 *   no or empty Entrypoint, Cmd C    -> Entrypoint P,     Cmd unchanged
 *   neither                          -> ERR_INPUT: nothing to run
 * The original Entrypoint is recorded as JSON (or "null") in the label
 * LABEL_ORIGINAL_ENTRYPOINT. ERR_INPUT when that label is already there:
 * unwrap first, so the recorded entrypoint is always the image's own. */
int mf_config_wrap_entrypoint(struct mf_config *cfg, const char *const *prefix, struct err *e);

/* Undo mf_config_wrap_entrypoint: restore config.Entrypoint from the
 * LABEL_ORIGINAL_ENTRYPOINT label and remove the label. ERR_INPUT when the
 * label is missing or is not a JSON array of strings or null. */
int mf_config_unwrap_entrypoint(struct mf_config *cfg, struct err *e);

#endif
