/* spec.c - load a spec, tell its format, and collect its containers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rewriter/instrument.h"
#include "spec.h"

int dp_format_parse(const char *s, enum dp_format *ret, struct err *e)
{
	if (strcmp(s, "auto") == 0)
		*ret = DP_FORMAT_AUTO;
	else if (strcmp(s, "kubernetes") == 0 || strcmp(s, "k8s") == 0 ||
		 strcmp(s, "cloudrun") == 0)
		*ret = DP_FORMAT_KUBERNETES;
	else if (strcmp(s, "ecs") == 0)
		*ret = DP_FORMAT_ECS;
	else if (strcmp(s, "aci") == 0)
		*ret = DP_FORMAT_ACI;
	else
		return err_set(e, ERR_INPUT,
			       "unknown format '%.40s' (auto, kubernetes, cloudrun, ecs or aci)", s);
	return 0;
}

const char *dp_format_name(enum dp_format f)
{
	switch (f) {
	case DP_FORMAT_KUBERNETES:
		return "kubernetes";
	case DP_FORMAT_ECS:
		return "ecs";
	case DP_FORMAT_ACI:
		return "aci";
	default:
		return "auto";
	}
}

void dp_spec_free(struct dp_spec *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->containers[i].where);
		free(s->containers[i].pointer);
	}
	free(s->containers);
	dp_tree_free(s->tree);
	free(s);
}

static size_t index_of(const struct dp_tree *t, const struct dp_node *n)
{
	return n ? (size_t)(n - t->nodes) : 0;
}

bool dp_command_has_sensor(const struct dp_tree *t, size_t command)
{
	const struct dp_node *c = dp_node(t, command);
	const struct dp_node *a = dp_item(t, c, 0), *b = dp_item(t, c, 1);

	return a && b && a->type == DP_SCALAR && b->type == DP_SCALAR &&
	       strcmp(a->value, RW_SENSOR_PATH) == 0 && strcmp(b->value, "--") == 0;
}

const char *dp_container_problem(const struct dp_tree *t, const struct dp_container *c)
{
	if (c->command && !dp_command_has_sensor(t, c->command))
		return strcmp(c->command_field, "entryPoint") == 0
			   ? "entryPoint overrides the entrypoint without the sensor: it would run "
			     "uninstrumented (rewrite it with 'inlay rewrite')"
			   : "command overrides the entrypoint without the sensor: it would run "
			     "uninstrumented (rewrite it with 'inlay rewrite')";
	if (!c->image)
		return "no image";
	return NULL;
}

int dp_spec_add(struct dp_spec *s, size_t doc, const char *where, const char *pointer,
		size_t container, const char *command_field, const char *arch, struct err *e)
{
	const struct dp_tree *t = s->tree;
	const struct dp_node *c = dp_node(t, container), *image, *command;
	struct dp_container *dc;
	size_t i;

	if (!c || c->type != DP_MAPPING)
		return err_set(e, ERR_INPUT, "%s (line %zu): a container must be a mapping", where,
			       c ? dp_line_of(t, c->start) : 0);
	image = dp_get(t, c, "image");
	command = dp_get(t, c, command_field);
	if (image && (image->type != DP_SCALAR || (!image->null && image->len == 0)))
		return err_set(e, ERR_INPUT, "%s (line %zu): image must be a string", where,
			       dp_line_of(t, image->start));
	if (command && command->type == DP_SCALAR && command->null)
		command = NULL;
	if (command && command->type != DP_SEQUENCE)
		return err_set(e, ERR_INPUT, "%s (line %zu): %s must be a list of strings", where,
			       dp_line_of(t, command->start), command_field);
	for (i = 0; command && i < command->n; i++)
		if (dp_item(t, command, i)->type != DP_SCALAR || dp_item(t, command, i)->null)
			return err_set(e, ERR_INPUT, "%s (line %zu): %s must be a list of strings",
				       where, dp_line_of(t, command->start), command_field);
	/* An empty override is no override: the image's entrypoint runs. */
	if (command && command->n == 0)
		command = NULL;
	if ((s->n & (s->n - 1)) == 0) {
		struct dp_container *v =
		    realloc(s->containers, (s->n ? 2 * s->n : 1) * sizeof(*v));

		if (!v)
			return err_set(e, ERR_OPERATIONAL, "out of memory");
		s->containers = v;
	}
	dc = &s->containers[s->n];
	memset(dc, 0, sizeof(*dc));
	dc->doc = doc;
	dc->where = strdup(where);
	dc->pointer = strdup(pointer);
	if (!dc->where || !dc->pointer) {
		free(dc->where);
		free(dc->pointer);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	dc->image = image && !image->null ? index_of(t, image) : 0;
	dc->command = index_of(t, command);
	dc->command_field = command_field;
	snprintf(dc->arch, sizeof(dc->arch), "%s", arch ? arch : "");
	s->n++;
	return 0;
}

/* The format of a document by its shape. */
static enum dp_format guess(const struct dp_tree *t, const struct dp_node *root)
{
	const struct dp_node *props;

	if (!root)
		return DP_FORMAT_AUTO;
	if (root->type == DP_SEQUENCE) /* ECS: a bare list of container definitions */
		return t->json && dp_get_str(t, dp_item(t, root, 0), "image") ? DP_FORMAT_ECS
									     : DP_FORMAT_AUTO;
	if (dp_get(t, root, "containerDefinitions") ||
	    dp_get(t, dp_get(t, root, "taskDefinition"), "containerDefinitions"))
		return DP_FORMAT_ECS;
	props = dp_get(t, root, "properties");
	if (!dp_get(t, root, "kind") && props && dp_get(t, props, "containers"))
		return DP_FORMAT_ACI;
	if (dp_get(t, root, "kind") && dp_get(t, root, "apiVersion"))
		return DP_FORMAT_KUBERNETES;
	return DP_FORMAT_AUTO;
}

int dp_spec_load(const char *text, size_t len, enum dp_format format, struct dp_spec **ret,
		 struct err *e)
{
	struct dp_spec *s = calloc(1, sizeof(*s));
	size_t i = 0, d;
	int rc = -1;

	if (!s)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	while (i < len && strchr(" \t\r\n", text[i]) && text[i])
		i++;
	if (i + 3 <= len && memcmp(text + i, "\xef\xbb\xbf", 3) == 0)
		i += 3;
	if ((i < len && (text[i] == '{' || text[i] == '[')) ? dp_tree_load_json(text, len, &s->tree, e)
							 : dp_tree_load_yaml(text, len, &s->tree, e))
		goto out;
	for (d = 0; format == DP_FORMAT_AUTO && d < s->tree->n_docs; d++)
		format = guess(s->tree, dp_node(s->tree, s->tree->docs[d]));
	if (format == DP_FORMAT_AUTO) {
		err_set(e, ERR_INPUT,
			"not a spec inlay knows: no Kubernetes object (apiVersion and kind), ECS task "
			"definition (containerDefinitions) or Azure container group "
			"(properties.containers); give --format if it is one");
		goto out;
	}
	s->format = format;
	if ((format == DP_FORMAT_KUBERNETES ? dp_find_kubernetes(s, e)
	     : format == DP_FORMAT_ECS	    ? dp_find_ecs(s, e)
					    : dp_find_aci(s, e)) < 0)
		goto out;
	*ret = s;
	s = NULL; /* transferred */
	rc = 0;
out:
	dp_spec_free(s);
	return rc;
}
