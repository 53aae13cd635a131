/* config_yaml.c - see config_yaml.h. */
#include "config_yaml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64
#define MAX_NODES 100000

struct convert {
	yaml_document_t *doc;
	const char *what;
	size_t nodes;
	struct err *e;
};

static bool is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return true;
	return false;
}

/* A plain scalar as the core schema resolves it. */
static json_t *plain_scalar(const char *s)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	const char *p = s + (*s == '-' || *s == '+');
	char *end;
	long long v;

	if (is_one_of(s, nulls))
		return json_null();
	if (is_one_of(s, trues))
		return json_true();
	if (is_one_of(s, falses))
		return json_false();
	if (*p >= '0' && *p <= '9' && strspn(p, "0123456789") == strlen(p)) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (!errno && !*end)
			return json_integer(v);
	}
	return json_string(s);
}

static json_t *convert_node(struct convert *c, yaml_node_t *n, int depth)
{
	yaml_node_item_t *item;
	yaml_node_pair_t *pair;
	json_t *out = NULL;

	if (!n) {
		err_set(c->e, ERR_INPUT, "%s: an alias names nothing", c->what);
		return NULL;
	}
	if (depth > MAX_DEPTH || ++c->nodes > MAX_NODES) {
		err_set(c->e, ERR_INPUT, "%s: line %zu: nested deeper than %d or more than %d values",
			c->what, n->start_mark.line + 1, MAX_DEPTH, MAX_NODES);
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)n->data.scalar.value;

		if (strlen(s) != n->data.scalar.length) {
			err_set(c->e, ERR_INPUT, "%s: line %zu: a NUL byte in a value", c->what,
				n->start_mark.line + 1);
			return NULL;
		}
		out = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s)
								     : json_string(s);
		break;
	}
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (item = n->data.sequence.items.start; out && item < n->data.sequence.items.top;
		     item++) {
			json_t *v = convert_node(c, yaml_document_get_node(c->doc, *item), depth + 1);

			if (!v || json_array_append_new(out, v) < 0) {
				json_decref(out);
				return NULL;
			}
		}
		break;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (pair = n->data.mapping.pairs.start; out && pair < n->data.mapping.pairs.top;
		     pair++) {
			yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);
			json_t *v;

			if (!k || k->type != YAML_SCALAR_NODE) {
				err_set(c->e, ERR_INPUT, "%s: line %zu: a key must be a plain value",
					c->what, n->start_mark.line + 1);
				json_decref(out);
				return NULL;
			}
			if (json_object_get(out, (const char *)k->data.scalar.value)) {
				err_set(c->e, ERR_INPUT, "%s: line %zu: key '%.80s' given twice", c->what,
					k->start_mark.line + 1, (const char *)k->data.scalar.value);
				json_decref(out);
				return NULL;
			}
			v = convert_node(c, yaml_document_get_node(c->doc, pair->value), depth + 1);
			if (!v ||
			    json_object_set_new(out, (const char *)k->data.scalar.value, v) < 0) {
				if (v && c->e->msg[0] == '\0')
					err_set(c->e, ERR_INPUT, "%s: line %zu: a key is not UTF-8",
						c->what, k->start_mark.line + 1);
				json_decref(out);
				return NULL;
			}
		}
		break;
	default:
		err_set(c->e, ERR_INPUT, "%s: an empty document", c->what);
		return NULL;
	}
	if (!out && !c->e->msg[0])
		err_set(c->e, ERR_INPUT, "%s: line %zu: a value that is not UTF-8 (or no memory)",
			c->what, n->start_mark.line + 1);
	return out;
}

int mr_yaml_to_json(const char *text, size_t len, const char *what, json_t **ret, struct err *e)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct convert c = {&doc, what, 0, e};
	json_t *root = NULL;
	bool more;

	*ret = NULL;
	if (!yaml_parser_initialize(&parser))
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err_set(e, ERR_INPUT, "%s: line %zu: %s", what, parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		return -1;
	}
	err_clear(e);
	root = convert_node(&c, yaml_document_get_root_node(&doc), 0);
	yaml_document_delete(&doc);
	/* One document only: a second would be silently ignored. */
	if (root) {
		if (!yaml_parser_load(&parser, &extra)) {
			err_set(e, ERR_INPUT, "%s: line %zu: %s", what, parser.problem_mark.line + 1,
				parser.problem ? parser.problem : "not YAML");
			json_decref(root);
			root = NULL;
		} else {
			more = yaml_document_get_root_node(&extra) != NULL;
			yaml_document_delete(&extra);
			if (more) {
				err_set(e, ERR_INPUT, "%s: more than one YAML document", what);
				json_decref(root);
				root = NULL;
			}
		}
	}
	yaml_parser_delete(&parser);
	if (!root)
		return -1;
	*ret = root;
	return 0;
}
