/* json.h - a small strict JSON parser (RFC 8259) for the sensor's config.
 *
 * The sensor may link nothing but libc, so it parses its own JSON. The parser
 * is strict because the file is written by inlay (jansson) and read here: any
 * input the two could read differently is refused rather than guessed at -
 * duplicate object keys, invalid UTF-8, lone surrogates, control characters in
 * strings, trailing garbage, leading zeros, nesting deeper than SN_JSON_DEPTH.
 *
 * The result is an immutable tree owned by one struct sn_json_doc. Every node,
 * string and key lives until sn_json_free(). Nodes are linked first-child /
 * next-sibling, in document order, so later stages can walk a policy without
 * copying it.
 */
#ifndef INLAY_SENSOR_JSON_H
#define INLAY_SENSOR_JSON_H

#include <stddef.h>

#include "sn_err.h"

#define SN_JSON_DEPTH 64

enum sn_json_type {
	SN_JSON_NULL,
	SN_JSON_FALSE,
	SN_JSON_TRUE,
	SN_JSON_NUMBER,
	SN_JSON_STRING,
	SN_JSON_ARRAY,
	SN_JSON_OBJECT,
};

struct sn_json {
	enum sn_json_type type;
	/* Object members only: the decoded key (NUL-terminated; key_len excludes the
	 * NUL and the key may itself contain "\u0000"). NULL elsewhere. */
	const char *key;
	size_t key_len;
	/* SN_JSON_STRING: the decoded value, NUL-terminated, len bytes.
	 * SN_JSON_NUMBER: the literal as written, NUL-terminated. NULL elsewhere. */
	const char *str;
	size_t len;
	/* SN_JSON_NUMBER: is_int is 1 when the literal has no fraction or exponent
	 * and fits a long long, which is then in num. */
	int is_int;
	long long num;
	/* SN_JSON_ARRAY / SN_JSON_OBJECT: first element or member, and their count. */
	const struct sn_json *child;
	size_t count;
	/* Next element or member of the enclosing array or object, NULL at the end. */
	const struct sn_json *next;
	/* Where the value is in the source text (byte offset and length), so a
	 * caller can keep a section verbatim. */
	size_t src_off;
	size_t src_len;
};

struct sn_json_doc;

/* Parse `len` bytes of `text` (need not be NUL-terminated; an embedded NUL is
 * an error). On success *ret_doc owns the whole tree; free it with
 * sn_json_free(). On failure e says what and where ("line L column C"). */
int sn_json_parse(const char *text, size_t len, struct sn_json_doc **ret_doc, struct sn_err *e);

/* The top-level value of a parsed document. Never NULL. */
const struct sn_json *sn_json_root(const struct sn_json_doc *doc);

/* Free a document and every node in it. Accepts NULL. */
void sn_json_free(struct sn_json_doc *doc);

/* The member `key` of an object, or NULL when `obj` is not an object or has no
 * such member. Keys are unique (the parser refuses duplicates). */
const struct sn_json *sn_json_get(const struct sn_json *obj, const char *key);

/* The string value of `v` as a C string, or NULL when `v` is NULL, not a
 * string, or holds an embedded NUL (so it cannot be used as a path or name). */
const char *sn_json_cstr(const struct sn_json *v);

/* Length of the well-formed UTF-8 sequence at s[0] (a byte >= 0x80) within
 * `avail` bytes, or 0 when it is malformed (overlong, surrogate, above
 * U+10FFFF, truncated). Shared with the event writer's escaping. */
size_t sn_utf8_seq_len(const unsigned char *s, size_t avail);

/* The value of a hexadecimal digit (either case), or -1. Shared with the
 * policy's IPv6 parser. */
int sn_hex_value(char c);

/* A static name for a type, for error messages ("object", "string", ...). */
const char *sn_json_type_name(enum sn_json_type t);

#endif
