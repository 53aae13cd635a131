/* json.c - load a JSON text (or a stream of JSON values) into a dp_tree.
 *
 * jansson validates and decodes, but keeps no positions; so each value is
 * first checked whole by jansson (strict RFC 8259, duplicate keys refused:
 * which one a platform would use is anybody's guess), then a small scanner
 * walks the same bytes to record each value's span. The scanner only finds
 * token boundaries in text jansson accepted; each string token is decoded by
 * jansson too, so there is one JSON decoder. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

struct scan {
	struct dp_tree *t;
	const char *s;
	size_t len, pos;
	struct err *e;
};

static void skip_space(struct scan *sc)
{
	while (sc->pos < sc->len && strchr(" \t\r\n", sc->s[sc->pos]) && sc->s[sc->pos])
		sc->pos++;
}

static int bad(struct scan *sc, const char *what)
{
	return err_set(sc->e, ERR_INPUT, "line %zu: %s", dp_line_of(sc->t, sc->pos), what);
}

static size_t value(struct scan *sc, size_t depth);

/* A string token from pos: its end, found by skipping escapes; decoded by
 * jansson. */
static size_t string_token(struct scan *sc)
{
	size_t start = sc->pos, i = sc->pos + 1, n;
	json_error_t je;
	json_t *j;
	struct dp_node *node;

	while (i < sc->len && sc->s[i] != '"')
		i += sc->s[i] == '\\' ? 2 : 1;
	if (i >= sc->len)
		return bad(sc, "unterminated string"), 0;
	sc->pos = i + 1;
	j = json_loadb(sc->s + start, sc->pos - start, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!j || !json_is_string(j)) {
		json_decref(j);
		return bad(sc, "malformed string"), 0;
	}
	n = dp_tree_add(sc->t, DP_SCALAR);
	if (n == 0) {
		json_decref(j);
		return bad(sc, "more values than inlay reads in one spec"), 0;
	}
	node = &sc->t->nodes[n];
	node->style = DP_DOUBLE;
	node->start = start;
	node->end = sc->pos;
	node->len = json_string_length(j);
	node->value = malloc(node->len + 1);
	if (node->value) {
		memcpy(node->value, json_string_value(j), node->len);
		node->value[node->len] = '\0';
	}
	json_decref(j);
	if (!node->value)
		return err_set(sc->e, ERR_OPERATIONAL, "out of memory"), 0;
	return n;
}

/* A number, true, false or null: a plain scalar holding its text. */
static size_t bare_token(struct scan *sc)
{
	size_t start = sc->pos, n;
	struct dp_node *node;

	while (sc->pos < sc->len && !strchr(" \t\r\n,]}", sc->s[sc->pos]))
		sc->pos++;
	if (sc->pos == start)
		return bad(sc, "expected a value"), 0;
	n = dp_tree_add(sc->t, DP_SCALAR);
	if (n == 0)
		return bad(sc, "more values than inlay reads in one spec"), 0;
	node = &sc->t->nodes[n];
	node->style = DP_PLAIN;
	node->start = start;
	node->end = sc->pos;
	node->len = sc->pos - start;
	node->value = strndup(sc->s + start, node->len);
	node->null = node->len == 4 && memcmp(sc->s + start, "null", 4) == 0;
	if (!node->value)
		return err_set(sc->e, ERR_OPERATIONAL, "out of memory"), 0;
	return n;
}

/* An array or object from pos (at its bracket). */
static size_t container(struct scan *sc, size_t depth)
{
	bool object = sc->s[sc->pos] == '{';
	char close = object ? '}' : ']';
	size_t n = dp_tree_add(sc->t, object ? DP_MAPPING : DP_SEQUENCE);

	if (n == 0)
		return bad(sc, "more values than inlay reads in one spec"), 0;
	sc->t->nodes[n].style = DP_FLOW;
	sc->t->nodes[n].start = sc->pos++;
	skip_space(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == close) {
		sc->t->nodes[n].end = ++sc->pos;
		return n;
	}
	for (;;) {
		size_t key = 0, v;

		if (object) {
			skip_space(sc);
			if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
				return bad(sc, "expected a key"), 0;
			if ((key = string_token(sc)) == 0)
				return 0;
			skip_space(sc);
			if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
				return bad(sc, "expected ':'"), 0;
			sc->pos++;
		}
		if ((v = value(sc, depth + 1)) == 0)
			return 0;
		if ((object ? dp_tree_add_pair(sc->t, n, key, v, sc->e)
			    : dp_tree_add_item(sc->t, n, v, sc->e)) < 0)
			return 0;
		skip_space(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == close)
			break;
		return bad(sc, object ? "expected ',' or '}'" : "expected ',' or ']'"), 0;
	}
	sc->t->nodes[n].end = ++sc->pos;
	return n;
}

static size_t value(struct scan *sc, size_t depth)
{
	skip_space(sc);
	if (depth > DP_MAX_DEPTH)
		return bad(sc, "nested too deep"), 0;
	if (sc->pos >= sc->len)
		return bad(sc, "unexpected end of text"), 0;
	if (sc->s[sc->pos] == '{' || sc->s[sc->pos] == '[')
		return container(sc, depth);
	if (sc->s[sc->pos] == '"')
		return string_token(sc);
	return bare_token(sc);
}

int dp_tree_load_json(const char *text, size_t len, struct dp_tree **ret, struct err *e)
{
	struct dp_tree *t = calloc(1, sizeof(*t));
	struct scan sc = {t, text, len, 0, e};
	size_t line = 1, counted = 0;
	int rc = -1;

	if (!t)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	t->json = true;
	t->text = text;
	t->text_len = len;
	if (len > DP_MAX_TEXT) {
		err_set(e, ERR_INPUT, "larger than %u bytes", DP_MAX_TEXT);
		goto out;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		sc.pos = 3; /* a byte-order mark some editors write */
	for (;;) {
		json_error_t je;
		json_t *whole;
		size_t start, root;

		skip_space(&sc);
		if (sc.pos >= len)
			break;
		start = sc.pos;
		/* The line of this value, counted on from the last one's: a
		 * stream of many values is read once, not once per value. */
		for (; counted < start; counted++)
			line += text[counted] == '\n';
		/* jansson first: it stops after one value and says where. */
		whole = json_loadb(text + start, len - start,
				   JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
				   &je);
		if (!whole) {
			err_set(e, ERR_INPUT, "line %zu column %d: %s",
				line + (size_t)(je.line > 0 ? je.line - 1 : 0), je.column, je.text);
			goto out;
		}
		json_decref(whole);
		if ((root = value(&sc, 0)) == 0)
			goto out;
		if (dp_tree_add_doc(t, root, line, e) < 0)
			goto out;
	}
	if (t->n_docs == 0) {
		err_set(e, ERR_INPUT, "no JSON value");
		goto out;
	}
	*ret = t;
	t = NULL; /* transferred */
	rc = 0;
out:
	dp_tree_free(t);
	return rc;
}
