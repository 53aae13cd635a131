/* splice.c - edits of a spec's text, and applying them. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../manifest/buf.h"
#include "../rewriter/instrument.h"
#include "splice.h"

void dp_edits_free(struct dp_edits *ed)
{
	size_t i;

	for (i = 0; i < ed->n; i++)
		free(ed->v[i].text);
	free(ed->v);
	ed->v = NULL;
	ed->n = 0;
}

/* Takes text. */
static int add(struct dp_edits *ed, size_t start, size_t end, char *text, struct err *e)
{
	struct dp_edit *v;

	if (!text)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	v = realloc(ed->v, (ed->n + 1) * sizeof(*v));
	if (!v) {
		free(text);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	ed->v = v;
	ed->v[ed->n++] = (struct dp_edit){start, end, text};
	return 0;
}

/* The length of the line break that ends just before s[i], or 0. YAML's
 * breaks are LF, CR, CRLF and (libyaml follows YAML 1.1) NEL, LS and PS, so
 * a file may end its lines with any of them. */
static size_t break_before(const char *s, size_t i)
{
	const unsigned char *u = (const unsigned char *)s;

	if (i >= 2 && u[i - 2] == '\r' && u[i - 1] == '\n')
		return 2;
	if (i >= 1 && (u[i - 1] == '\n' || u[i - 1] == '\r'))
		return 1;
	if (i >= 2 && u[i - 2] == 0xC2 && u[i - 1] == 0x85)
		return 2;
	if (i >= 3 && u[i - 3] == 0xE2 && u[i - 2] == 0x80 && (u[i - 1] == 0xA8 || u[i - 1] == 0xA9))
		return 3;
	return 0;
}

/* Where the line holding s[i] begins. */
static size_t line_start(const char *s, size_t i)
{
	while (i > 0 && !break_before(s, i))
		i--;
	return i;
}

/* Where a node's own text begins: past an anchor (&a) and a tag (!t) the
 * node's span starts with, and for a block sequence past the line break
 * and comments up to its first "-". */
static size_t content_start(const struct dp_tree *t, const struct dp_node *n)
{
	const char *s = t->text;
	size_t i = n->start;

	for (;;) {
		if (i < n->end && s[i] == '&') {
			/* libyaml's anchor names: letters, digits, '_' and '-' */
			for (i++; i < n->end && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-');)
				i++;
		} else if (i < n->end && s[i] == '!') {
			while (i < n->end && !strchr(" \t\r\n,[]{}", s[i]))
				i++;
		} else if (i < n->end && strchr(" \t\r\n", s[i])) {
			i++;
		} else if (i < n->end && s[i] == '#' && !t->json) {
			while (i < n->end && !break_before(s, i + 1))
				i++;
		} else {
			return i;
		}
	}
}

/* Characters that never need quotes in a plain YAML scalar, in block or
 * flow context, wherever they appear in an image reference. */
static bool plain_safe(const char *v)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				   "._/:@-";

	/* "-" and ":" may start a plain scalar when a non-space follows
	 * ("--" is one); "@" is reserved. */
	return v[0] && strspn(v, safe) == strlen(v) && v[0] != '@' &&
	       ((v[0] != '-' && v[0] != ':') || v[1]);
}

static char *double_quoted(const char *v)
{
	json_t *j = json_string(v);
	char *s = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	return s;
}

static char *single_quoted(const char *v)
{
	struct buf b;
	const char *p;

	buf_init(&b, 2 * strlen(v) + 3);
	buf_puts(&b, "'");
	for (p = v; *p; p++)
		buf_puts(&b, *p == '\'' ? "''" : (char[]){*p, 0});
	if (buf_puts(&b, "'") < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* value as a scalar in the given style. */
static char *quote(enum dp_style style, bool json, const char *v)
{
	if (!json && style == DP_PLAIN && plain_safe(v))
		return strdup(v);
	if (!json && style == DP_SINGLE)
		return single_quoted(v);
	return double_quoted(v);
}

int dp_edit_scalar(struct dp_edits *ed, const struct dp_tree *t, size_t node, const char *value,
		   struct err *e)
{
	const struct dp_node *n = dp_node(t, node);
	size_t start = content_start(t, n), end = n->end;
	char *text = quote(n->style, t->json, value);

	if (text && start > n->start && !strchr(" \t\r\n", t->text[start - 1])) {
		/* "&a?x": the scalar touched its anchor; the new one must not
		 * run into it. */
		char *spaced = NULL;

		if (asprintf(&spaced, " %s", text) < 0)
			spaced = NULL;
		free(text);
		text = spaced;
	}
	if (text && n->style == DP_LITERAL && end > start && break_before(t->text, end)) {
		/* A block scalar's span takes its line break with it. */
		size_t nl = break_before(t->text, end);
		char *with = NULL;

		if (asprintf(&with, "%s%.*s", text, (int)nl, t->text + end - nl) < 0)
			with = NULL;
		free(text);
		text = with;
	}
	return add(ed, start, end, text, e);
}

static bool only(const char *s, size_t len, const char *set)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!strchr(set, s[i]) || !s[i])
			return false;
	return true;
}

/* The whole list rewritten as a flow sequence of JSON strings: always
 * valid, used where the list's own layout cannot be followed (its first
 * item is an alias, or a block list that does not start its line). */
static int replace_as_flow(struct dp_edits *ed, const struct dp_tree *t, const struct dp_node *n,
			   struct err *e)
{
	json_t *a = json_pack("[ss]", RW_SENSOR_PATH, "--");
	const struct dp_node *last = dp_item(t, n, n->n - 1);
	size_t i, cs = content_start(t, n), ls = line_start(t->text, cs);
	size_t end = n->style == DP_BLOCK ? last->end : n->end;
	char *flow, *text = NULL;

	for (i = 0; a && i < n->n; i++)
		json_array_append_new(a, json_string(dp_item(t, n, i)->value));
	flow = a ? json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(a);
	if (flow && n->style == DP_BLOCK && only(t->text + ls, cs - ls, " ")) {
		/* A block list may sit at its key's own indentation; a flow
		 * list there would read as the next key. Two more spaces make
		 * it the value. */
		if (asprintf(&text, "  %s", flow) < 0)
			text = NULL;
		free(flow);
	} else {
		text = flow;
	}
	return add(ed, cs, end, text, e);
}

int dp_edit_prefix_sensor(struct dp_edits *ed, const struct dp_tree *t, size_t node,
			  struct err *e)
{
	const struct dp_node *n = dp_node(t, node), *first = dp_item(t, n, 0), *second;
	const char *s = t->text;
	size_t cs = content_start(t, n), at, line, nl;
	char *q1 = NULL, *q2 = NULL, *text = NULL, sep[128] = ", ";
	const char *eol;
	enum dp_style style;
	int rc;

	if (!first || first->start < n->start || first->end > n->end || first->type != DP_SCALAR)
		return replace_as_flow(ed, t, n, e);
	style = first->style == DP_LITERAL ? DP_DOUBLE : first->style;
	q1 = quote(style, t->json, RW_SENSOR_PATH);
	q2 = quote(style, t->json, "--");
	if (!q1 || !q2) {
		rc = err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (n->style == DP_BLOCK) {
		/* Two "- " lines at the list's indentation, before its first. */
		line = line_start(s, cs);
		if (!only(s + line, cs - line, " ") || cs - line > 100 || s[cs] != '-') {
			rc = replace_as_flow(ed, t, n, e);
			goto out;
		}
		/* The file's own line break: CRLF files stay CRLF. */
		nl = break_before(s, line);
		if (!nl) {
			eol = "\n";
			nl = 1;
		} else {
			eol = s + line - nl;
		}
		if (asprintf(&text, "- %s%.*s%.*s- %s%.*s%.*s", q1, (int)nl, eol, (int)(cs - line),
			     s + line, q2, (int)nl, eol, (int)(cs - line), s + line) < 0)
			text = NULL;
		rc = add(ed, cs, cs, text, e);
		goto out;
	}
	/* Flow and JSON: the separator the list already uses between items,
	 * else a newline and indentation if its first item sits on its own
	 * line, else ", ". */
	second = dp_item(t, n, 1);
	at = first->start; /* before its anchor or tag, which stay its own */
	if (second && second->start >= first->end && second->start <= n->end &&
	    second->start - first->end < sizeof(sep) &&
	    only(s + first->end, second->start - first->end, " \t\r\n,")) {
		snprintf(sep, sizeof(sep), "%.*s", (int)(second->start - first->end),
			 s + first->end);
	} else if (!second && at - (cs + 1) < sizeof(sep) - 1 &&
		   only(s + cs + 1, at - (cs + 1), " \t\r\n") && memchr(s + cs + 1, '\n', at - cs - 1)) {
		snprintf(sep, sizeof(sep), ",%.*s", (int)(at - cs - 1), s + cs + 1);
	}
	if (asprintf(&text, "%s%s%s%s", q1, sep, q2, sep) < 0)
		text = NULL;
	rc = add(ed, at, at, text, e);
out:
	free(q1);
	free(q2);
	return rc;
}

static int by_position(const void *a, const void *b)
{
	const struct dp_edit *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->text, y->text);
}

int dp_splice(const char *text, size_t len, const struct dp_edits *ed, char **ret, size_t *ret_len,
	      struct err *e)
{
	struct dp_edit *v = NULL;
	struct buf out;
	size_t i, pos = 0;
	int rc = -1;

	buf_init(&out, 2 * (size_t)DP_MAX_TEXT);
	if (ed->n) {
		v = malloc(ed->n * sizeof(*v));
		if (!v)
			return err_set(e, ERR_OPERATIONAL, "out of memory");
		memcpy(v, ed->v, ed->n * sizeof(*v));
		qsort(v, ed->n, sizeof(*v), by_position);
	}
	for (i = 0; i < ed->n; i++) {
		if (i > 0 && v[i].start == v[i - 1].start && v[i].end == v[i - 1].end &&
		    strcmp(v[i].text, v[i - 1].text) == 0)
			continue; /* a shared node (anchor and aliases), edited once */
		if (v[i].end > len || (i > 0 && (v[i].start < pos || v[i].start == v[i - 1].start))) {
			size_t line = 1, k;

			for (k = 0; k < v[i].start && k < len; k++)
				line += text[k] == '\n';
			err_set(e, ERR_INPUT,
				"line %zu: containers that share this field (a YAML anchor and its "
				"aliases) need different values; give each its own",
				line);
			goto out;
		}
		if (buf_append(&out, text + pos, v[i].start - pos) < 0 ||
		    buf_puts(&out, v[i].text) < 0) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
		pos = v[i].end;
	}
	if (buf_append(&out, text + pos, len - pos) < 0) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	*ret = buf_detach(&out, ret_len);
	rc = *ret ? 0 : err_set(e, ERR_OPERATIONAL, "out of memory");
out:
	free(v);
	buf_free(&out);
	return rc;
}
