/* aci.c - the containers of an Azure Container Instances container group
 * (the YAML of `az container create --file`, or the same as JSON):
 * properties.containers[].properties.image and .command, and the same for
 * initContainers. ACI runs Linux containers on x86-64 only. */
#include <stdio.h>
#include <string.h>

#include "spec.h"

int dp_find_aci(struct dp_spec *s, struct err *e)
{
	static const char *const fields[] = {"containers", "initContainers"};
	const struct dp_tree *t = s->tree;
	size_t d, f, i;

	for (d = 0; d < t->n_docs; d++) {
		const struct dp_node *props = dp_get(t, dp_node(t, t->docs[d]), "properties");
		const char *name = dp_get_str(t, dp_node(t, t->docs[d]), "name");
		bool found = false;

		for (f = 0; f < 2; f++) {
			const struct dp_node *list = dp_get(t, props, fields[f]);

			if (!list || (list->type == DP_SCALAR && list->null))
				continue;
			if (list->type != DP_SEQUENCE)
				return err_set(e, ERR_INPUT, "document %zu (line %zu): properties.%s must be a list",
					       d + 1, dp_line_of(t, list->start), fields[f]);
			found = true;
			for (i = 0; i < list->n; i++) {
				const struct dp_node *c = dp_item(t, list, i);
				const struct dp_node *cp = dp_get(t, c, "properties");
				const char *cname = dp_get_str(t, c, "name");
				char where[320], ptr[128];

				snprintf(where, sizeof(where),
					 "document %zu (container group %.60s): properties.%s[%zu]%s%.60s%s",
					 d + 1, name ? name : "without a name", fields[f], i,
					 cname ? " (" : "", cname ? cname : "", cname ? ")" : "");
				snprintf(ptr, sizeof(ptr), "/properties/%s/%zu/properties", fields[f], i);
				if (!cp)
					return err_set(e, ERR_INPUT, "%s: a container needs properties", where);
				if (dp_spec_add(s, d, where, ptr, (size_t)(cp - t->nodes), "command",
						"amd64", e) < 0)
					return -1;
			}
		}
		if (!found)
			s->other_documents++;
	}
	return 0;
}
