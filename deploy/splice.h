/* splice.h - write changes back into a spec's original text: an image
 * scalar replaced, the sensor put in front of an entrypoint override, and
 * every other byte left as it was (comments, order, quoting, anchors).
 *
 * Edits are collected, then applied in one pass. Two containers that share
 * a node (a YAML anchor and its aliases) make the same edit once; edits
 * that would overlap differently are refused. */
#ifndef INLAY_DP_SPLICE_H
#define INLAY_DP_SPLICE_H

#include "tree.h"

struct dp_edit {
	size_t start, end; /* the bytes replaced; start == end inserts */
	char *text;
};

struct dp_edits {
	struct dp_edit *v;
	size_t n;
};

void dp_edits_free(struct dp_edits *ed);

/* Replace the scalar node with value, written in the node's own style
 * (plain, quoted; JSON strings as JSON). value must be an image reference
 * (it is written unquoted where the node was plain). */
int dp_edit_scalar(struct dp_edits *ed, const struct dp_tree *t, size_t node, const char *value,
		   struct err *e);

/* Put "/.inlay/sensor", "--" in front of the sequence node's items, in the
 * sequence's style: a block list gets two "- " lines at its indentation, a
 * flow or JSON list two items with its own separator. */
int dp_edit_prefix_sensor(struct dp_edits *ed, const struct dp_tree *t, size_t node,
			  struct err *e);

/* The text with the edits applied; caller frees. */
int dp_splice(const char *text, size_t len, const struct dp_edits *ed, char **ret, size_t *ret_len,
	      struct err *e);

#endif
