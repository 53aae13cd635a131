/* spec.h - the one model every deployment format is read into: a list of
 * containers, each with its image field, its entrypoint override and the
 * CPU architecture the spec runs it on (DESIGN.md section 11).
 *
 * The formats (kube.c: Kubernetes and Cloud Run's Knative Service; ecs.c:
 * ECS task definitions; aci.c: Azure Container Instances) each find their
 * containers in a dp_tree; nothing else in a spec is interpreted. */
#ifndef INLAY_DP_SPEC_H
#define INLAY_DP_SPEC_H

#include "tree.h"

enum dp_format {
	DP_FORMAT_AUTO,
	DP_FORMAT_KUBERNETES, /* and Cloud Run (serving.knative.dev Service) */
	DP_FORMAT_ECS,
	DP_FORMAT_ACI,
};

/* "auto", "kubernetes" (or "k8s", "cloudrun"), "ecs", "aci". */
int dp_format_parse(const char *s, enum dp_format *ret, struct err *e);
const char *dp_format_name(enum dp_format f);

struct dp_container {
	size_t doc;          /* which document of the stream (0-based) */
	char *where;         /* for people: "document 2 (Deployment web):
			      * spec.template.spec.containers[0] (app)" */
	char *pointer;       /* JSON pointer of the container object in its
			      * document: "/spec/template/spec/containers/0" */
	size_t image;        /* node of the image field (a scalar), 0: none */
	size_t command;      /* node of the entrypoint override (a sequence),
			      * 0 when the spec does not override it */
	const char *command_field; /* its key: "command" or "entryPoint" */
	char arch[16];       /* "amd64", "arm64", or "" for whatever the image has */
};

struct dp_spec {
	enum dp_format format;
	struct dp_tree *tree;
	struct dp_container *containers;
	size_t n;
	size_t other_documents; /* documents of kinds without containers */
};

/* Load text (YAML or JSON, told apart by its first character) and find its
 * containers. text is borrowed and must outlive the spec. ERR_INPUT with
 * the line, document and field when the text is malformed or a container
 * field has the wrong type. */
int dp_spec_load(const char *text, size_t len, enum dp_format format, struct dp_spec **ret,
		 struct err *e);
void dp_spec_free(struct dp_spec *s);

/* True when the override already starts with the sensor ("/.inlay/sensor",
 * "--"): rewriting it again would run the sensor under itself. */
bool dp_command_has_sensor(const struct dp_tree *t, size_t command);

/* What --check holds against a container apart from its image's own
 * checks: an entrypoint override that does not start the sensor, or no
 * image at all. NULL when neither. */
const char *dp_container_problem(const struct dp_tree *t, const struct dp_container *c);

/* For the format walkers: record one container. image and command are
 * checked (a scalar; a sequence of strings, or null). */
int dp_spec_add(struct dp_spec *s, size_t doc, const char *where, const char *pointer,
		size_t container, const char *command_field, const char *arch, struct err *e);

int dp_find_kubernetes(struct dp_spec *s, struct err *e);
int dp_find_ecs(struct dp_spec *s, struct err *e);
int dp_find_aci(struct dp_spec *s, struct err *e);

#endif
