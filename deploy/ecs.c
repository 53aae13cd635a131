/* ecs.c - the containers of an ECS task definition: the input of
 * `aws ecs register-task-definition --cli-input-json`, the output of
 * `describe-task-definition` ({"taskDefinition": {...}}), or a bare list of
 * container definitions (`--container-definitions file://...`). The
 * override of the image's entrypoint is entryPoint; command is its Cmd. */
#include <stdio.h>
#include <string.h>

#include "spec.h"

/* runtimePlatform.cpuArchitecture: X86_64 or ARM64 (Fargate's two). */
static const char *task_arch(const struct dp_tree *t, const struct dp_node *td)
{
	const char *a = dp_get_str(t, dp_get(t, td, "runtimePlatform"), "cpuArchitecture");

	if (a && strcmp(a, "ARM64") == 0)
		return "arm64";
	if (a && strcmp(a, "X86_64") == 0)
		return "amd64";
	return "";
}

static int definitions(struct dp_spec *s, size_t doc, const struct dp_node *list,
		       const char *pointer, const char *arch, struct err *e)
{
	const struct dp_tree *t = s->tree;
	size_t i;

	if (list->type != DP_SEQUENCE)
		return err_set(e, ERR_INPUT, "document %zu (line %zu): containerDefinitions must be a list",
			       doc + 1, dp_line_of(t, list->start));
	for (i = 0; i < list->n; i++) {
		const char *name = dp_get_str(t, dp_item(t, list, i), "name");
		char where[256], ptr[256];

		snprintf(where, sizeof(where), "document %zu: containerDefinitions[%zu]%s%.60s%s",
			 doc + 1, i, name ? " (" : "", name ? name : "", name ? ")" : "");
		snprintf(ptr, sizeof(ptr), "%s/%zu", pointer, i);
		if (dp_spec_add(s, doc, where, ptr, list->kids[i], "entryPoint", arch, e) < 0)
			return -1;
	}
	return 0;
}

int dp_find_ecs(struct dp_spec *s, struct err *e)
{
	const struct dp_tree *t = s->tree;
	size_t d;

	for (d = 0; d < t->n_docs; d++) {
		const struct dp_node *root = dp_node(t, t->docs[d]), *td = root, *list;
		const char *prefix = "";

		if (root->type == DP_SEQUENCE) {
			if (definitions(s, d, root, "", "", e) < 0)
				return -1;
			continue;
		}
		if (!dp_get(t, td, "containerDefinitions") && dp_get(t, td, "taskDefinition")) {
			td = dp_get(t, td, "taskDefinition");
			prefix = "/taskDefinition";
		}
		list = dp_get(t, td, "containerDefinitions");
		if (!list) {
			s->other_documents++;
			continue;
		}
		{
			char ptr[64];

			snprintf(ptr, sizeof(ptr), "%s/containerDefinitions", prefix);
			if (definitions(s, d, list, ptr, task_arch(t, td), e) < 0)
				return -1;
		}
	}
	return 0;
}
