/* tree.h - a deployment spec as a tree of nodes that remember where they
 * are in the text, so a rewrite can replace a few bytes and keep the rest.
 *
 * YAML (libyaml, yaml.c) and JSON (jansson plus a span scanner, json.c)
 * load into the same tree; the format walkers (kube.c, ecs.c, aci.c) read
 * only this tree, and splice.c writes edits back into the original text.
 *
 * A node's span [start, end) is in bytes of the original text. Aliases in
 * YAML are resolved to the anchored node: both uses share one node, and its
 * span is where the anchor is defined. All strings are NUL-terminated and
 * owned by the tree. */
#ifndef INLAY_DP_TREE_H
#define INLAY_DP_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "../manifest/err.h"

/* The largest spec read (a `helm template` of a big chart is a few MB). */
#define DP_MAX_TEXT (64u * 1024 * 1024)
/* Nesting deeper than this is refused (no spec needs it; a parser that
 * recursed without a bound could be crashed by a hostile file). */
#define DP_MAX_DEPTH 128

enum dp_type { DP_SCALAR, DP_SEQUENCE, DP_MAPPING };

enum dp_style {
	DP_PLAIN,    /* YAML plain scalar; JSON number, true, false, null */
	DP_SINGLE,   /* 'x' */
	DP_DOUBLE,   /* "x" (every JSON string) */
	DP_LITERAL,  /* YAML | or > block scalar */
	DP_BLOCK,    /* YAML block sequence or mapping (indentation) */
	DP_FLOW,     /* YAML [..] {..}, every JSON array and object */
};

struct dp_node {
	enum dp_type type;
	enum dp_style style;
	size_t start, end;  /* byte span in the text */
	char *value;        /* scalars: the decoded value */
	size_t len;         /* scalars: value's length */
	bool null;          /* a null: JSON null, YAML ~, null, empty */
	size_t *kids;       /* sequence: items; mapping: key, value, key, value... */
	size_t n;           /* items, or pairs */
};

struct dp_tree {
	bool json;               /* loaded from JSON (edits are written as JSON) */
	const char *text;        /* borrowed: the text the spans point into */
	size_t text_len;
	struct dp_node *nodes;   /* nodes[0] is unused: 0 means "none" */
	size_t n_nodes, cap_nodes;
	size_t *docs;            /* the root node of each document */
	size_t *doc_lines;       /* the line (1-based) each document starts on */
	size_t n_docs;
};

/* Load every document of text (YAML: a "---" separated stream; JSON: one
 * or more values separated by whitespace). The tree borrows text, which
 * must outlive it. ERR_INPUT naming the line and what is wrong. */
int dp_tree_load_yaml(const char *text, size_t len, struct dp_tree **ret, struct err *e);
int dp_tree_load_json(const char *text, size_t len, struct dp_tree **ret, struct err *e);

/* Accepts NULL. */
void dp_tree_free(struct dp_tree *t);

/* Node by index, or NULL for 0. */
const struct dp_node *dp_node(const struct dp_tree *t, size_t i);

/* The value of key in a mapping (following YAML merge keys "<<"), or NULL
 * when node is not a mapping or has no such key. */
const struct dp_node *dp_get(const struct dp_tree *t, const struct dp_node *map, const char *key);

/* As dp_get, then the value's string when it is a non-null scalar. */
const char *dp_get_str(const struct dp_tree *t, const struct dp_node *map, const char *key);

/* Item i of a sequence, or NULL. */
const struct dp_node *dp_item(const struct dp_tree *t, const struct dp_node *seq, size_t i);

/* The line (1-based) of a byte offset, for messages. */
size_t dp_line_of(const struct dp_tree *t, size_t offset);

/* For the loaders: append a node (all zero but type), growing the arena,
 * which moves every node (hold indices, not pointers, across a call);
 * returns its index, 0 on allocation failure or beyond the node limit. */
size_t dp_tree_add(struct dp_tree *t, enum dp_type type);
int dp_tree_add_doc(struct dp_tree *t, size_t root, size_t line, struct err *e);
int dp_tree_add_item(struct dp_tree *t, size_t seq, size_t item, struct err *e);
int dp_tree_add_pair(struct dp_tree *t, size_t map, size_t key, size_t value, struct err *e);

#endif
