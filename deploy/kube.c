/* kube.c - the containers of Kubernetes objects and of Cloud Run's Knative
 * Services: where each kind keeps its pod spec, and which architecture the
 * pod spec asks for. Kinds without a pod spec pass through untouched. */
#include <stdio.h>
#include <string.h>

#include "spec.h"

#define ARCH_LABEL "kubernetes.io/arch"

struct walk {
	struct dp_spec *s;
	size_t doc;
	char label[160]; /* "document 2 (Deployment web)" */
	struct err *e;
};

/* Where a kind keeps its pod spec, as keys from the object. Cloud Run's
 * Knative Service keeps it as a Deployment does; a core Service, which has
 * no api_prefix match, has none. */
struct pod_path {
	const char *kind;
	const char *api_prefix; /* the apiVersion must start with it; NULL: any */
	const char *keys[5];
};

static const struct pod_path pod_paths[] = {
    {"Pod", NULL, {"spec"}},
    {"Deployment", NULL, {"spec", "template", "spec"}},
    {"StatefulSet", NULL, {"spec", "template", "spec"}},
    {"DaemonSet", NULL, {"spec", "template", "spec"}},
    {"ReplicaSet", NULL, {"spec", "template", "spec"}},
    {"ReplicationController", NULL, {"spec", "template", "spec"}},
    {"Job", NULL, {"spec", "template", "spec"}},
    {"PodTemplate", NULL, {"template", "spec"}},
    {"CronJob", NULL, {"spec", "jobTemplate", "spec", "template", "spec"}},
    {"Service", "serving.knative.dev/", {"spec", "template", "spec"}},
};

/* The one architecture a pod is pinned to by its nodeSelector, or by a
 * required node affinity whose every term allows exactly that one; "" when
 * it may run on several (then the whole index is instrumented). */
static void pod_arch(const struct dp_tree *t, const struct dp_node *pod, char *out, size_t size)
{
	const char *sel = dp_get_str(t, dp_get(t, pod, "nodeSelector"), ARCH_LABEL);
	const struct dp_node *terms = dp_get(
	    t,
	    dp_get(t, dp_get(t, dp_get(t, pod, "affinity"), "nodeAffinity"),
		   "requiredDuringSchedulingIgnoredDuringExecution"),
	    "nodeSelectorTerms");
	const char *one = NULL;
	size_t i, k;

	out[0] = '\0';
	if (sel) {
		snprintf(out, size, "%s", sel);
		return;
	}
	/* Terms are ORed: every term must name the same single value. */
	for (i = 0; terms && i < terms->n; i++) {
		const struct dp_node *exprs = dp_get(t, dp_item(t, terms, i), "matchExpressions");
		const char *term_value = NULL;

		for (k = 0; exprs && k < exprs->n; k++) {
			const struct dp_node *x = dp_item(t, exprs, k);
			const struct dp_node *vals = dp_get(t, x, "values");
			const char *key = dp_get_str(t, x, "key"), *op = dp_get_str(t, x, "operator");
			const struct dp_node *v0 = dp_item(t, vals, 0);

			if (key && strcmp(key, ARCH_LABEL) == 0 && op && strcmp(op, "In") == 0 &&
			    vals && vals->n == 1 && v0->type == DP_SCALAR)
				term_value = v0->value;
		}
		if (!term_value || (one && strcmp(one, term_value) != 0))
			return;
		one = term_value;
	}
	if (one)
		snprintf(out, size, "%s", one);
}

static int pod_spec(struct walk *w, const struct dp_node *pod, const char *path_text,
		    const char *pointer)
{
	static const char *const fields[] = {"containers", "initContainers", "ephemeralContainers"};
	const struct dp_tree *t = w->s->tree;
	char arch[16], where[512], ptr[512];
	size_t f, i;

	if (!pod || pod->type != DP_MAPPING)
		return 0; /* a template without a spec: nothing to run */
	pod_arch(t, pod, arch, sizeof(arch));
	for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		const struct dp_node *list = dp_get(t, pod, fields[f]);

		if (!list || (list->type == DP_SCALAR && list->null))
			continue;
		if (list->type != DP_SEQUENCE)
			return err_set(w->e, ERR_INPUT, "%s (line %zu): %s.%s must be a list",
				       w->label, dp_line_of(t, list->start), path_text, fields[f]);
		for (i = 0; i < list->n; i++) {
			const struct dp_node *c = dp_item(t, list, i);
			const char *name = dp_get_str(t, c, "name");

			snprintf(where, sizeof(where), "%s: %s.%s[%zu]%s%.60s%s", w->label, path_text,
				 fields[f], i, name ? " (" : "", name ? name : "", name ? ")" : "");
			if (snprintf(ptr, sizeof(ptr), "%s/%s/%zu", pointer, fields[f], i) >=
			    (int)sizeof(ptr))
				return err_set(w->e, ERR_INPUT, "%s: %s.%s[%zu]: nested too deeply",
					       w->label, path_text, fields[f], i);
			if (dp_spec_add(w->s, w->doc, where, ptr, list->kids[i], "command", arch,
					w->e) < 0)
				return -1;
		}
	}
	return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* One object: a kind with a pod spec, a List (items, recursively), or
 * anything else (passed through). */
static int object(struct walk *w, const struct dp_node *obj, const char *pointer, int depth)
{
	const struct dp_tree *t = w->s->tree;
	const char *kind = dp_get_str(t, obj, "kind");
	const char *api = dp_get_str(t, obj, "apiVersion");
	const char *name = dp_get_str(t, dp_get(t, obj, "metadata"), "name");
	const struct dp_node *items = dp_get(t, obj, "items");
	size_t i;

	if (!kind || depth > 8)
		return 0;
	if (has_suffix(kind, "List") && items && items->type == DP_SEQUENCE) {
		int found = 0;

		for (i = 0; i < items->n; i++) {
			char ptr[512];
			int r;

			if (snprintf(ptr, sizeof(ptr), "%s/items/%zu", pointer, i) >= (int)sizeof(ptr))
				return err_set(w->e, ERR_INPUT, "document %zu: items nested too deeply",
					       w->doc + 1);
			r = object(w, dp_item(t, items, i), ptr, depth + 1);
			if (r < 0)
				return -1;
			found |= r;
		}
		return found;
	}
	snprintf(w->label, sizeof(w->label), "document %zu (%.40s%s%.80s)", w->doc + 1, kind,
		 name ? " " : "", name ? name : "");
	for (i = 0; i < sizeof(pod_paths) / sizeof(pod_paths[0]); i++) {
		const struct pod_path *pp = &pod_paths[i];
		const struct dp_node *pod = obj;
		char ptr[512], text[128] = "";
		size_t k;

		if (strcmp(kind, pp->kind) != 0 ||
		    (pp->api_prefix && (!api || strncmp(api, pp->api_prefix, strlen(pp->api_prefix)) != 0)))
			continue;
		/* The pod spec, its JSON pointer and its path for people, from
		 * the same keys. */
		snprintf(ptr, sizeof(ptr), "%s", pointer);
		for (k = 0; k < 5 && pp->keys[k]; k++) {
			pod = dp_get(t, pod, pp->keys[k]);
			snprintf(ptr + strlen(ptr), sizeof(ptr) - strlen(ptr), "/%s", pp->keys[k]);
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", k ? "." : "",
				 pp->keys[k]);
		}
		return pod_spec(w, pod, text, ptr) < 0 ? -1 : 1;
	}
	return 0;
}

int dp_find_kubernetes(struct dp_spec *s, struct err *e)
{
	struct walk w = {s, 0, "", e};

	for (w.doc = 0; w.doc < s->tree->n_docs; w.doc++) {
		int r = object(&w, dp_node(s->tree, s->tree->docs[w.doc]), "", 0);

		if (r < 0)
			return -1;
		if (r == 0)
			s->other_documents++;
	}
	return 0;
}
