/* yaml.c - load a YAML stream into a dp_tree with libyaml's document API.
 *
 * libyaml's marks count characters, not bytes (and not a leading byte-order
 * mark), so each mark is turned into a byte offset through a table of the
 * byte offset of every character. Aliases come resolved: an alias and its
 * anchor are one node, whose span is the anchor's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "tree.h"

struct offsets {
	size_t *at; /* at[i]: byte offset of character i; at[n] = end */
	size_t n;
	size_t bom; /* bytes of a UTF-8 byte-order mark libyaml skipped */
};

static int offsets_build(const char *text, size_t len, struct offsets *o, struct err *e)
{
	size_t i, c = 0;

	o->bom = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
	o->at = malloc((len - o->bom + 1) * sizeof(*o->at));
	if (!o->at)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	for (i = o->bom; i < len; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80) /* not a continuation byte */
			o->at[c++] = i;
	o->at[c] = len;
	o->n = c;
	return 0;
}

static size_t byte_at(const struct offsets *o, size_t index)
{
	return o->at[index < o->n ? index : o->n];
}

static enum dp_style scalar_style(yaml_scalar_style_t s)
{
	switch (s) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		return DP_SINGLE;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		return DP_DOUBLE;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE:
		return DP_LITERAL;
	default:
		return DP_PLAIN;
	}
}

/* YAML 1.1's nulls, for a plain scalar with no explicit tag. */
static bool plain_null(const char *v, size_t len)
{
	return len == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Copy document d into t; libyaml node id k becomes t's node base + k - 1,
 * as they are added in order. */
static int copy_document(struct dp_tree *t, yaml_document_t *d, const struct offsets *o,
			 struct err *e)
{
	size_t count = (size_t)(d->nodes.top - d->nodes.start), base = t->n_nodes ? t->n_nodes : 1;
	size_t k;

	for (k = 0; k < count; k++) {
		yaml_node_t *y = &d->nodes.start[k];
		enum dp_type type = y->type == YAML_SCALAR_NODE     ? DP_SCALAR
				    : y->type == YAML_SEQUENCE_NODE ? DP_SEQUENCE
								    : DP_MAPPING;
		size_t i = dp_tree_add(t, type);
		struct dp_node *n;

		if (i == 0)
			return err_set(e, ERR_INPUT, "more nodes than inlay reads in one spec");
		n = &t->nodes[i];
		n->start = byte_at(o, y->start_mark.index);
		n->end = byte_at(o, y->end_mark.index);
		if (type == DP_SCALAR) {
			n->style = scalar_style(y->data.scalar.style);
			n->len = y->data.scalar.length;
			n->value = malloc(n->len + 1);
			if (!n->value)
				return err_set(e, ERR_OPERATIONAL, "out of memory");
			memcpy(n->value, y->data.scalar.value, n->len);
			n->value[n->len] = '\0';
			n->null = n->style == DP_PLAIN && y->tag &&
				  strcmp((char *)y->tag, YAML_NULL_TAG) != 0
				      ? false
				      : n->style == DP_PLAIN && plain_null(n->value, n->len);
		} else if (type == DP_SEQUENCE) {
			n->style = y->data.sequence.style == YAML_FLOW_SEQUENCE_STYLE ? DP_FLOW : DP_BLOCK;
		} else {
			n->style = y->data.mapping.style == YAML_FLOW_MAPPING_STYLE ? DP_FLOW : DP_BLOCK;
		}
	}
	/* Children, now that every node has its index. */
	for (k = 0; k < count; k++) {
		yaml_node_t *y = &d->nodes.start[k];

		if (y->type == YAML_SEQUENCE_NODE) {
			yaml_node_item_t *it;

			for (it = y->data.sequence.items.start; it < y->data.sequence.items.top; it++)
				if (dp_tree_add_item(t, base + k, base + (size_t)*it - 1, e) < 0)
					return -1;
		} else if (y->type == YAML_MAPPING_NODE) {
			yaml_node_pair_t *p;

			for (p = y->data.mapping.pairs.start; p < y->data.mapping.pairs.top; p++)
				if (dp_tree_add_pair(t, base + k, base + (size_t)p->key - 1,
						     base + (size_t)p->value - 1, e) < 0)
					return -1;
		}
	}
	return 0;
}

/* A node whose children reach back to itself (`&a [*a]`) would send a
 * walker round for ever, and no spec needs one; nor nesting deeper than
 * DP_MAX_DEPTH. Depth-first with colours (1: on the path, 2: done), so a
 * node shared through aliases is visited once: a "billion laughs" file
 * costs its size, not its expansion. */
static int check_shape(const struct dp_tree *t, size_t i, size_t depth, unsigned char *colour,
		       struct err *e)
{
	const struct dp_node *n = dp_node(t, i);
	size_t k, kids;

	if (colour[i] == 2)
		return 0;
	if (colour[i] == 1)
		return err_set(e, ERR_INPUT, "line %zu: an alias refers to a node that contains it",
			       dp_line_of(t, n->start));
	if (depth > DP_MAX_DEPTH)
		return err_set(e, ERR_INPUT, "line %zu: nested more than %d deep",
			       dp_line_of(t, n->start), DP_MAX_DEPTH);
	colour[i] = 1;
	kids = n->type == DP_MAPPING ? 2 * n->n : n->type == DP_SEQUENCE ? n->n : 0;
	for (k = 0; k < kids; k++)
		if (check_shape(t, n->kids[k], depth + 1, colour, e) < 0)
			return -1;
	colour[i] = 2;
	return 0;
}

static int check_documents(const struct dp_tree *t, struct err *e)
{
	unsigned char *colour = calloc(t->n_nodes ? t->n_nodes : 1, 1);
	size_t d;
	int rc = 0;

	if (!colour)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	for (d = 0; d < t->n_docs && rc == 0; d++)
		rc = check_shape(t, t->docs[d], 0, colour, e);
	free(colour);
	return rc;
}

int dp_tree_load_yaml(const char *text, size_t len, struct dp_tree **ret, struct err *e)
{
	struct dp_tree *t = calloc(1, sizeof(*t));
	struct offsets o = {0};
	yaml_parser_t parser;
	bool parser_ready = false;
	int rc = -1;

	if (!t)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	t->text = text;
	t->text_len = len;
	if (len > DP_MAX_TEXT) {
		err_set(e, ERR_INPUT, "larger than %u bytes", DP_MAX_TEXT);
		goto out;
	}
	if ((len >= 2 && (memcmp(text, "\xff\xfe", 2) == 0 || memcmp(text, "\xfe\xff", 2) == 0))) {
		err_set(e, ERR_INPUT, "UTF-16 text; inlay reads UTF-8 (convert it with iconv)");
		goto out;
	}
	if (memchr(text, '\0', len)) {
		err_set(e, ERR_INPUT, "holds a NUL byte: not a YAML or JSON text");
		goto out;
	}
	if (offsets_build(text, len, &o, e) < 0 || !yaml_parser_initialize(&parser)) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	parser_ready = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		yaml_document_t d;
		yaml_node_t *root;
		size_t base = t->n_nodes ? t->n_nodes : 1;
		int r;

		if (!yaml_parser_load(&parser, &d)) {
			err_set(e, ERR_INPUT, "line %zu column %zu: %s%s%s",
				parser.problem_mark.line + 1, parser.problem_mark.column + 1,
				parser.problem ? parser.problem : "malformed YAML",
				parser.context ? " " : "", parser.context ? parser.context : "");
			goto out;
		}
		root = yaml_document_get_root_node(&d);
		if (!root) { /* the end of the stream */
			yaml_document_delete(&d);
			break;
		}
		r = copy_document(t, &d, &o, e);
		if (r == 0)
			r = dp_tree_add_doc(t, base + (size_t)(root - d.nodes.start),
					    d.start_mark.line + 1, e);
		yaml_document_delete(&d);
		if (r < 0)
			goto out;
	}
	if (check_documents(t, e) < 0)
		goto out;
	*ret = t;
	t = NULL; /* transferred */
	rc = 0;
out:
	if (parser_ready)
		yaml_parser_delete(&parser);
	free(o.at);
	dp_tree_free(t);
	return rc;
}
