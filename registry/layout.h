/* layout.h - index.json handling of the OCI image layout transport (internal
 * to registry/; layout.c implements it, the unit tests and the fuzz target
 * call it directly).
 *
 * The transport itself is reached through rg_layout_open (transport.h). These
 * functions work on an index.json document already in memory, so the parser
 * of that untrusted file can be fuzzed without touching a disk.
 */
#ifndef INLAY_RG_LAYOUT_H
#define INLAY_RG_LAYOUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../manifest/err.h"

/* index.json is read whole; a layout holding thousands of tags stays far
 * below this, a hostile file cannot make us allocate more. */
#define RG_LAYOUT_INDEX_MAX (16u * 1024 * 1024)

/* The longest tag accepted (the Docker tag grammar's limit). */
#define RG_LAYOUT_TAG_MAX 128

/* Parse and validate an index.json document: a JSON object with
 * schemaVersion 2, mediaType absent or MT_OCI_INDEX, and a "manifests" array
 * of descriptors (mediaType string, valid digest, size >= 0, annotations a
 * string-to-string object when present). Fields inlay does not use are kept.
 * `what` names the file in messages ("oci:/x/index.json"). On success
 * *ret_index is a new reference the caller releases with json_decref.
 * Errors are ERR_INPUT and name the file and the field. */
int rg_layout_index_parse(const void *data, size_t len, const char *what, json_t **ret_index,
			  struct err *e);

/* Find the descriptor of a validated index whose annotation
 * org.opencontainers.image.ref.name equals tag. Returns 1 and sets *ret_desc
 * (borrowed from index) when found, 0 when no descriptor carries the tag, -1
 * (ERR_INPUT) when several descriptors with different digests carry it. */
int rg_layout_index_find(json_t *index, const char *tag, json_t **ret_desc, struct err *e);

/* Name {mediaType, digest, size} `tag` in a validated index: the tag is
 * taken off every descriptor carrying it (a descriptor left with no other
 * annotation is dropped, one with other annotations keeps them), and the new
 * descriptor takes the place of the first one that carried the tag, or is
 * appended. Returns 0, or -1 (ERR_OPERATIONAL) when out of memory. */
int rg_layout_index_set_tag(json_t *index, const char *tag, const char *media_type,
			    const char *digest, int64_t size, struct err *e);

/* 0 when tag follows the Docker tag grammar, [A-Za-z0-9_][A-Za-z0-9_.-]*,
 * at most RG_LAYOUT_TAG_MAX characters (what oci:PATH:TAG can name; a subset
 * of the OCI ref.name grammar), else -1 (ERR_INPUT). */
int rg_layout_check_tag(const char *tag, struct err *e);

#endif
