/* tree.c - the node arena both loaders fill, and lookups on it. */
#include <stdlib.h>
#include <string.h>

#include "tree.h"

/* One node per scalar, sequence and mapping: a limit on nodes bounds memory
 * whatever the text (a 64 MiB file of "[[[[..." has 64 Mi nodes at most,
 * and this refuses well before). */
#define DP_MAX_NODES (4u * 1024 * 1024)

void dp_tree_free(struct dp_tree *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n_nodes; i++) {
		free(t->nodes[i].value);
		free(t->nodes[i].kids);
	}
	free(t->nodes);
	free(t->docs);
	free(t->doc_lines);
	free(t);
}

size_t dp_tree_add(struct dp_tree *t, enum dp_type type)
{
	if (t->n_nodes >= DP_MAX_NODES)
		return 0;
	if (t->n_nodes == t->cap_nodes) {
		size_t cap = t->cap_nodes ? t->cap_nodes * 2 : 64;
		struct dp_node *n = realloc(t->nodes, cap * sizeof(*n));

		if (!n)
			return 0;
		t->nodes = n;
		t->cap_nodes = cap;
	}
	if (t->n_nodes == 0) {
		memset(&t->nodes[0], 0, sizeof(t->nodes[0])); /* index 0: "none" */
		t->n_nodes = 1;
	}
	memset(&t->nodes[t->n_nodes], 0, sizeof(t->nodes[0]));
	t->nodes[t->n_nodes].type = type;
	return t->n_nodes++;
}

/* Make room in an array of size_t that holds n entries for `more` more;
 * capacities are powers of two from 4, so the capacity follows from n. */
static int grow(size_t **arr, size_t n, size_t more, struct err *e)
{
	size_t cap = 4, want = n + more;
	size_t *a;

	while (cap < n)
		cap *= 2;
	if (*arr && want <= cap)
		return 0;
	while (cap < want)
		cap *= 2;
	a = realloc(*arr, cap * sizeof(**arr));
	if (!a)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	*arr = a;
	return 0;
}

int dp_tree_add_doc(struct dp_tree *t, size_t root, size_t line, struct err *e)
{
	if (grow(&t->docs, t->n_docs, 1, e) < 0 || grow(&t->doc_lines, t->n_docs, 1, e) < 0)
		return -1;
	t->docs[t->n_docs] = root;
	t->doc_lines[t->n_docs++] = line;
	return 0;
}

int dp_tree_add_item(struct dp_tree *t, size_t seq, size_t item, struct err *e)
{
	struct dp_node *p = &t->nodes[seq];

	if (grow(&p->kids, p->n, 1, e) < 0)
		return -1;
	p->kids[p->n++] = item;
	return 0;
}

int dp_tree_add_pair(struct dp_tree *t, size_t map, size_t key, size_t value, struct err *e)
{
	struct dp_node *p = &t->nodes[map];

	if (grow(&p->kids, 2 * p->n, 2, e) < 0)
		return -1;
	p->kids[2 * p->n] = key;
	p->kids[2 * p->n + 1] = value;
	p->n++;
	return 0;
}

const struct dp_node *dp_node(const struct dp_tree *t, size_t i)
{
	return i > 0 && i < t->n_nodes ? &t->nodes[i] : NULL;
}

/* depth bounds a chain of merges (<<: *a where a merges b ...), which a
 * hostile file could make cyclic. */
static const struct dp_node *get(const struct dp_tree *t, const struct dp_node *map, const char *key,
				 int depth)
{
	size_t i, k;

	if (!map || map->type != DP_MAPPING || depth > 8)
		return NULL;
	for (i = 0; i < map->n; i++) {
		const struct dp_node *kn = dp_node(t, map->kids[2 * i]);

		if (kn && kn->type == DP_SCALAR && strcmp(kn->value, key) == 0)
			return dp_node(t, map->kids[2 * i + 1]);
	}
	if (t->json)
		return NULL;
	/* YAML merge keys: the explicit keys above win over merged ones, and
	 * of a list of merged mappings the first that has the key wins. */
	for (i = 0; i < map->n; i++) {
		const struct dp_node *kn = dp_node(t, map->kids[2 * i]);
		const struct dp_node *vn = dp_node(t, map->kids[2 * i + 1]);
		const struct dp_node *r = NULL;

		if (!kn || kn->type != DP_SCALAR || kn->style != DP_PLAIN || strcmp(kn->value, "<<") != 0)
			continue;
		if (vn && vn->type == DP_MAPPING)
			r = get(t, vn, key, depth + 1);
		for (k = 0; !r && vn && vn->type == DP_SEQUENCE && k < vn->n; k++)
			r = get(t, dp_node(t, vn->kids[k]), key, depth + 1);
		if (r)
			return r;
	}
	return NULL;
}

const struct dp_node *dp_get(const struct dp_tree *t, const struct dp_node *map, const char *key)
{
	return get(t, map, key, 0);
}

const char *dp_get_str(const struct dp_tree *t, const struct dp_node *map, const char *key)
{
	const struct dp_node *v = dp_get(t, map, key);

	return v && v->type == DP_SCALAR && !v->null ? v->value : NULL;
}

const struct dp_node *dp_item(const struct dp_tree *t, const struct dp_node *seq, size_t i)
{
	return seq && seq->type == DP_SEQUENCE && i < seq->n ? dp_node(t, seq->kids[i]) : NULL;
}

size_t dp_line_of(const struct dp_tree *t, size_t offset)
{
	size_t line = 1, i;

	for (i = 0; i < offset && i < t->text_len; i++)
		line += t->text[i] == '\n';
	return line;
}
