/* test_deploy.c - deploy/'s pure parts: loading YAML and JSON into one tree
 * with byte spans, finding containers per format, and splicing edits back
 * so only the edited bytes change. Images are "resolved" here by a fixed
 * rule (IMAGE -> IMAGE@sha256:H64 with the tag dropped); the registry side
 * is tested in tests/integration/rewrite.t. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../deploy/spec.h"
#include "../../deploy/splice.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Rewrite every container of text: image -> <repo>@sha256:H64, sensor in
 * front of overrides. Returns the new text (caller frees), or NULL with e. */
static char *rewrite(const char *text, struct err *e)
{
	struct dp_spec *s = NULL;
	struct dp_edits ed = {0};
	char *out = NULL;
	size_t i, len;

	if (dp_spec_load(text, strlen(text), DP_FORMAT_AUTO, &s, e) < 0)
		return NULL;
	for (i = 0; i < s->n; i++) {
		const struct dp_container *c = &s->containers[i];
		char img[512], *colon;

		if (c->image) {
			snprintf(img, sizeof(img), "%s", dp_node(s->tree, c->image)->value);
			colon = strrchr(img, ':');
			if (colon && !strchr(colon, '/'))
				*colon = '\0';
			strncat(img, "@sha256:" H64, sizeof(img) - strlen(img) - 1);
			if (dp_edit_scalar(&ed, s->tree, c->image, img, e) < 0)
				goto out;
		}
		if (c->command && !dp_command_has_sensor(s->tree, c->command) &&
		    dp_edit_prefix_sensor(&ed, s->tree, c->command, e) < 0)
			goto out;
	}
	if (dp_splice(text, strlen(text), &ed, &out, &len, e) < 0)
		out = NULL;
out:
	dp_edits_free(&ed);
	dp_spec_free(s);
	return out;
}

struct golden {
	const char *name, *in, *want;
};

#define POD "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"

static const struct golden goldens[] = {
    {"plain, block command", POD "  containers:\n  - name: a\n    image: app:1\n    command:\n    - sh\n",
     POD "  containers:\n  - name: a\n    image: app@sha256:" H64 "\n    command:\n    - /.inlay/sensor\n    - --\n    - sh\n"},
    {"quoted styles kept", POD "  containers:\n  - image: \"app:1\"\n    command: ['a', 'b']\n",
     POD "  containers:\n  - image: \"app@sha256:" H64 "\"\n    command: ['/.inlay/sensor', '--', 'a', 'b']\n"},
    {"flow separator kept", POD "  containers:\n  - image: app\n    command: [\"a\",\"b\"]\n",
     POD "  containers:\n  - image: app@sha256:" H64 "\n    command: [\"/.inlay/sensor\",\"--\",\"a\",\"b\"]\n"},
    {"multi-byte text before the edit",
     "# héllo wörld ✓\n" POD "  containers:\n  - image: app:1 # ✓\n",
     "# héllo wörld ✓\n" POD "  containers:\n  - image: app@sha256:" H64 " # ✓\n"},
    {"byte-order mark", "\xef\xbb\xbf" POD "  containers:\n  - image: app:1\n",
     "\xef\xbb\xbf" POD "  containers:\n  - image: app@sha256:" H64 "\n"},
    {"anchor and alias: edited once, at the anchor",
     POD "  containers:\n  - image: &i app:1\n  - image: *i\n",
     POD "  containers:\n  - image: &i app@sha256:" H64 "\n  - image: *i\n"},
    {"merge key", POD "  containers:\n  - &base {name: a, image: app:1}\n  - <<: *base\n    name: b\n",
     POD "  containers:\n  - &base {name: a, image: app@sha256:" H64 "}\n  - <<: *base\n    name: b\n"},
    {"sensor already first", POD "  containers:\n  - image: app\n    command: [/.inlay/sensor, --, x]\n",
     POD "  containers:\n  - image: app@sha256:" H64 "\n    command: [/.inlay/sensor, --, x]\n"},
    {"CRLF line ends", "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - image: app:1\r\n    command:\r\n    - a\r\n",
     "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - image: app@sha256:" H64 "\r\n    command:\r\n    - /.inlay/sensor\r\n    - --\r\n    - a\r\n"},
    {"CR line ends", "apiVersion: v1\rkind: Pod\rspec:\r  containers:\r  - image: app:1\r    command: # c\r    - a\r",
     "apiVersion: v1\rkind: Pod\rspec:\r  containers:\r  - image: app@sha256:" H64 "\r    command: # c\r    - /.inlay/sensor\r    - --\r    - a\r"},
    {"folded image scalar", POD "  containers:\n  - image: >-\n      app:1\n    name: a\n",
     POD "  containers:\n  - image: \"app@sha256:" H64 "\"\n    name: a\n"},
    {"list at its key's indentation, first item an alias: flow, indented",
     POD "  containers:\n  - args: [&c sh]\n    image: app\n    command:\n    - *c\n    - x\n",
     POD "  containers:\n  - args: [&c sh]\n    image: app@sha256:" H64 "\n    command:\n      [\"/.inlay/sensor\",\"--\",\"sh\",\"x\"]\n"},
    {"flow list whose first item has a tag and an anchor: the sensor before them",
     POD "  containers:\n  - image: app\n    command: [!!str &c a, *c]\n",
     POD "  containers:\n  - image: app@sha256:" H64 "\n    command: [/.inlay/sensor, --, !!str &c a, *c]\n"},
    {"other kinds untouched", "kind: ConfigMap\napiVersion: v1\ndata: {image: x}\n---\n" POD "  containers: [{image: a}]\n",
     "kind: ConfigMap\napiVersion: v1\ndata: {image: x}\n---\n" POD "  containers: [{image: a@sha256:" H64 "}]\n"},
    {"ECS JSON, one-item multi-line list",
     "{\"containerDefinitions\": [{\"image\": \"app:1\", \"entryPoint\": [\n    \"sh\"\n  ]}]}",
     "{\"containerDefinitions\": [{\"image\": \"app@sha256:" H64 "\", \"entryPoint\": [\n    \"/.inlay/sensor\",\n    \"--\",\n    \"sh\"\n  ]}]}"},
    {"JSON escapes elsewhere kept", "{\"x\": \"\\u00e9\\/\", \"containerDefinitions\": [{\"image\": \"a\"}]}",
     "{\"x\": \"\\u00e9\\/\", \"containerDefinitions\": [{\"image\": \"a@sha256:" H64 "\"}]}"},
    {"ACI", "properties:\n  containers:\n  - name: a\n    properties: {image: app:1, command: [x]}\n",
     "properties:\n  containers:\n  - name: a\n    properties: {image: app@sha256:" H64 ", command: [/.inlay/sensor, --, x]}\n"},
};

static void test_goldens(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		struct err e = {0};
		char *out = rewrite(goldens[i].in, &e);

		if (!out)
			fail_msg("%s: %s", goldens[i].name, e.msg);
		if (strcmp(out, goldens[i].want) != 0)
			fail_msg("%s:\n got: %s\nwant: %s", goldens[i].name, out, goldens[i].want);
		free(out);
	}
}

static void test_arch_hints(void **state)
{
	static const struct {
		const char *text, *arch;
	} cases[] = {
	    {POD "  nodeSelector: {kubernetes.io/arch: arm64}\n  containers: [{image: a}]\n", "arm64"},
	    {POD "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
		 "{nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/arch, operator: In, "
		 "values: [amd64]}]}]}}}\n  containers: [{image: a}]\n",
	     "amd64"},
	    {POD "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
		 "{nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/arch, operator: In, "
		 "values: [amd64, arm64]}]}]}}}\n  containers: [{image: a}]\n",
	     ""},
	    {POD "  containers: [{image: a}]\n", ""},
	    {"{\"runtimePlatform\": {\"cpuArchitecture\": \"ARM64\"}, \"containerDefinitions\": [{\"image\": \"a\"}]}", "arm64"},
	    {"{\"containerDefinitions\": [{\"image\": \"a\"}]}", ""},
	    {"properties: {containers: [{properties: {image: a}}]}\n", "amd64"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_spec *s = NULL;
		struct err e = {0};

		assert_int_equal(dp_spec_load(cases[i].text, strlen(cases[i].text), DP_FORMAT_AUTO, &s, &e), 0);
		assert_int_equal(s->n, 1);
		assert_string_equal(s->containers[0].arch, cases[i].arch);
		dp_spec_free(s);
	}
}

static void test_kinds_and_paths(void **state)
{
	const char *text =
	    "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: n}\nspec:\n  jobTemplate:\n"
	    "    spec:\n      template:\n        spec:\n          initContainers: [{name: i, image: a}]\n"
	    "          containers: [{name: c, image: b}]\n---\n"
	    "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: p}, "
	    "spec: {ephemeralContainers: [{name: e, image: c}]}}\n---\n"
	    "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: k}\n"
	    "spec: {template: {spec: {containers: [{image: d}]}}}\n---\n"
	    "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: []}\n";
	struct dp_spec *s = NULL;
	struct err e = {0};

	assert_int_equal(dp_spec_load(text, strlen(text), DP_FORMAT_AUTO, &s, &e), 0);
	assert_int_equal(s->n, 4);
	assert_int_equal(s->other_documents, 1);
	/* containers first, then initContainers, then ephemeralContainers */
	assert_string_equal(s->containers[1].where,
			    "document 1 (CronJob n): spec.jobTemplate.spec.template.spec.initContainers[0] (i)");
	assert_string_equal(s->containers[1].pointer, "/spec/jobTemplate/spec/template/spec/initContainers/0");
	assert_string_equal(s->containers[2].pointer, "/items/0/spec/ephemeralContainers/0");
	assert_string_equal(s->containers[2].where, "document 2 (Pod p): spec.ephemeralContainers[0] (e)");
	assert_string_equal(s->containers[3].pointer, "/spec/template/spec/containers/0");
	dp_spec_free(s);
}

static void test_bad_input(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
	    {POD "  containers: [\n", "line"},
	    {POD "  containers:\n  - image: a\n    command: echo\n", "command must be a list of strings"},
	    {POD "  containers:\n  - image: a\n    command: [[x]]\n", "command must be a list of strings"},
	    {POD "  containers: {a: b}\n", "must be a list"},
	    {POD "  containers: [{image: [a]}]\n", "image must be a string"},
	    {"a: &a [*a]\nkind: Pod\napiVersion: v1\n", "alias"},
	    {"just: a mapping\n", "not a spec inlay knows"},
	    {"{\"containerDefinitions\": [{\"image\": \"a\", \"image\": \"b\"}]}", "duplicate"},
	    {"{\"containerDefinitions\": [}", "line 1"},
	    {"{\"containerDefinitions\": \"x\"}", "must be a list"},
	    {"\xff\xfe" "a\0", "UTF-16"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_spec *s = NULL;
		struct err e = {0};
		size_t len = strlen(cases[i].text);

		if (dp_spec_load(cases[i].text, len, DP_FORMAT_AUTO, &s, &e) == 0)
			fail_msg("case %zu accepted", i);
		assert_int_equal(e.cls, ERR_INPUT);
		if (!strstr(e.msg, cases[i].msg))
			fail_msg("case %zu: '%s' lacks '%s'", i, e.msg, cases[i].msg);
	}
}

/* A "billion laughs" document costs its size: aliases are not expanded. */
static void test_laughs(void **state)
{
	char text[4096];
	size_t i;
	struct dp_spec *s = NULL;
	struct err e = {0};

	snprintf(text, sizeof(text), "apiVersion: v1\nkind: Pod\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 30; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "l%zu: &l%zu [*l%zu, *l%zu, *l%zu, *l%zu, *l%zu, *l%zu, *l%zu, *l%zu]\n", i, i,
			 i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	strncat(text, "spec: {containers: [{image: a}]}\n", sizeof(text) - strlen(text) - 1);
	assert_int_equal(dp_spec_load(text, strlen(text), DP_FORMAT_AUTO, &s, &e), 0);
	assert_int_equal(s->n, 1);
	dp_spec_free(s);
}

/* Two containers sharing one anchored command cannot both get it changed
 * differently; identical edits of it are made once. */
static void test_splice_conflict(void **state)
{
	struct dp_edits ed = {0};
	struct err e = {0};
	char *out = NULL;
	size_t len;
	const char *text = "abcdef";

	ed.v = calloc(2, sizeof(*ed.v));
	ed.v[0] = (struct dp_edit){1, 3, strdup("X")};
	ed.v[1] = (struct dp_edit){2, 4, strdup("Y")};
	ed.n = 2;
	assert_int_equal(dp_splice(text, 6, &ed, &out, &len, &e), -1);
	assert_non_null(strstr(e.msg, "share this field"));
	free(ed.v[1].text);
	ed.v[1] = (struct dp_edit){1, 3, strdup("X")};
	assert_int_equal(dp_splice(text, 6, &ed, &out, &len, &e), 0);
	assert_string_equal(out, "aXdef");
	free(out);
	dp_edits_free(&ed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_goldens),	    cmocka_unit_test(test_arch_hints),
	    cmocka_unit_test(test_kinds_and_paths), cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_laughs),	    cmocka_unit_test(test_splice_conflict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
