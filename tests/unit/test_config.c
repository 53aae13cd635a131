/* test_config.c - image configurations (manifest/config.c): parsing, getters,
 * changes, round trips and the entrypoint truth table of DESIGN.md section 4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../manifest/config.h"
#include "../../manifest/mediatype.h"

#define HA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HC "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define DA "sha256:" HA
#define DB "sha256:" HB
#define DC "sha256:" HC

/* A config with the given "config" member text (without braces around it). */
#define CFG(cc)                                                                                    \
	"{\"architecture\":\"amd64\",\"os\":\"linux\"" cc ",\"rootfs\":{\"type\":\"layers\","      \
	"\"diff_ids\":[\"" DA "\"]}}"

/* A realistic Docker config: unknown fields, container_config, history. */
static const char docker_cfg[] =
    "{\"architecture\":\"arm64\",\"variant\":\"v8\",\"config\":{\"Hostname\":\"\","
    "\"Env\":[\"PATH=/usr/bin\"],\"Cmd\":[\"sh\"],\"Entrypoint\":[\"/docker-entrypoint.sh\"],"
    "\"Labels\":{\"maintainer\":\"x\"},\"WorkingDir\":\"/app\"},"
    "\"container_config\":{\"Cmd\":[\"/bin/sh\",\"-c\",\"#(nop) CMD [\\\"sh\\\"]\"]},"
    "\"created\":\"2023-05-19T20:19:21.218798011Z\",\"docker_version\":\"20.10.23\","
    "\"history\":[{\"created\":\"2023-05-19T20:19:20Z\",\"created_by\":\"ADD file:abc in / \"},"
    "{\"created\":\"2023-05-19T20:19:21Z\",\"created_by\":\"CMD [\\\"sh\\\"]\","
    "\"empty_layer\":true},{\"created_by\":\"RUN make\"}],"
    "\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DA "\",\"" DB "\"]},"
    "\"x-unknown\":{\"nested\":[1,2.5,null]}}";

static const char *const P[] = {"/.inlay/sensor", "--", NULL};

static struct mf_config *parse_ok(const char *doc)
{
	struct mf_config *c = NULL;
	struct err e = {0};

	if (mf_config_parse(doc, strlen(doc), &c, &e) != 0)
		fail_msg("parse failed: %s\n%s", e.msg, doc);
	return c;
}

static void parse_fails(const char *doc, const char *want)
{
	struct mf_config *c = NULL;
	struct err e = {0};

	if (mf_config_parse(doc, strlen(doc), &c, &e) == 0)
		fail_msg("parsed, expected \"%s\": %s", want, doc);
	assert_null(c);
	assert_int_equal(e.cls, ERR_INPUT);
	if (!strstr(e.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static char *serialize(const struct mf_config *c)
{
	struct err e = {0};
	char *s = NULL;
	size_t len = 0;

	assert_int_equal(mf_config_serialize(c, &s, &len, &e), 0);
	assert_int_equal(strlen(s), len);
	return s;
}

/* Compare a NULL-terminated argv with the expected list (NULL = absent). */
static void assert_argv(const char *const *have, const char *const *want)
{
	size_t i;

	if (!want) {
		assert_null(have);
		return;
	}
	assert_non_null(have);
	for (i = 0; want[i]; i++) {
		assert_non_null(have[i]);
		assert_string_equal(have[i], want[i]);
	}
	assert_null(have[i]);
}

static void test_getters(void **state)
{
	struct mf_config *c = parse_ok(docker_cfg);
	static const char *const ep[] = {"/docker-entrypoint.sh", NULL};
	static const char *const cmd[] = {"sh", NULL};

	(void)state;
	assert_string_equal(mf_config_os(c), "linux");
	assert_string_equal(mf_config_architecture(c), "arm64");
	assert_string_equal(mf_config_variant(c), "v8");
	assert_argv(mf_config_entrypoint(c), ep);
	assert_argv(mf_config_cmd(c), cmd);
	assert_string_equal(mf_config_label(c, "maintainer"), "x");
	assert_null(mf_config_label(c, "nope"));
	assert_int_equal(mf_config_diff_id_count(c), 2);
	assert_string_equal(mf_config_diff_id(c, 1), DB);
	assert_null(mf_config_diff_id(c, 2));
	mf_config_free(c);
	mf_config_free(NULL);

	/* Absent, null and empty are three different answers. */
	c = parse_ok(CFG(""));
	assert_null(mf_config_entrypoint(c));
	assert_null(mf_config_cmd(c));
	assert_null(mf_config_variant(c));
	assert_null(mf_config_label(c, "x"));
	mf_config_free(c);
	c = parse_ok(CFG(",\"config\":null"));
	assert_null(mf_config_entrypoint(c));
	mf_config_free(c);
	c = parse_ok(CFG(",\"config\":{\"Entrypoint\":null,\"Cmd\":[],\"Labels\":null}"));
	assert_null(mf_config_entrypoint(c));
	assert_non_null(mf_config_cmd(c));
	assert_null(mf_config_cmd(c)[0]);
	assert_null(mf_config_label(c, "x"));
	mf_config_free(c);
}

static void test_validation(void **state)
{
	(void)state;
	parse_fails("", "empty document");
	parse_fails("[1]", "not a JSON object");
	parse_fails("{\"os\":\"linux\"", "invalid JSON");
	parse_fails("{\"os\":\"linux\",\"os\":\"linux\"}", "duplicate object key");
	parse_fails("{\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		    "image config architecture: missing");
	parse_fails("{\"architecture\":1,\"os\":\"linux\"}", "architecture: not a string");
	parse_fails("{\"architecture\":\"amd64\",\"rootfs\":{}}", "image config os: missing");
	parse_fails("{\"architecture\":\"\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		    "\"diff_ids\":[]}}",
		    "empty architecture or os");
	parse_fails(CFG(",\"variant\":8"), "variant: not a string");
	parse_fails(CFG(",\"config\":[]"), "image config config: not an object or null");
	parse_fails(CFG(",\"config\":{\"Entrypoint\":\"/bin/sh\"}"),
		    "config.Entrypoint: not an array of strings or null");
	parse_fails(CFG(",\"config\":{\"Cmd\":[\"a\",1]}"), "image config config.Cmd[1]: not a "
							    "string");
	parse_fails(CFG(",\"config\":{\"Labels\":[]}"), "config.Labels: not an object or null");
	parse_fails(CFG(",\"config\":{\"Labels\":{\"a\":true}}"),
		    "config.Labels[\"a\"]: not a string");
	parse_fails("{\"architecture\":\"amd64\",\"os\":\"linux\"}", "rootfs: missing");
	parse_fails("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"x\","
		    "\"diff_ids\":[]}}",
		    "rootfs.type: not \"layers\"");
	parse_fails(
	    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}",
	    "rootfs.diff_ids: missing");
	parse_fails("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		    "\"diff_ids\":[\"" DA "\",\"sha256:abc\"]}}",
		    "image config rootfs.diff_ids[1]: \"sha256:abc\" is not a valid sha256 digest");
	parse_fails("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		    "\"diff_ids\":[7]}}",
		    "rootfs.diff_ids[0]: not a string");
	parse_fails(CFG(",\"history\":{}"), "history: not an array or null");
	parse_fails(CFG(",\"history\":[{},1]"), "history[1]: not an object");
	parse_fails(CFG(",\"history\":[{\"empty_layer\":\"yes\"}]"),
		    "history[0].empty_layer: not a boolean");
	parse_fails(CFG(",\"history\":[{\"created_by\":[]}]"), "history[0].created_by: not a "
							       "string");
	parse_fails(CFG(",\"created\":5"), "created: not a string");
}

static void test_size_limit(void **state)
{
	size_t n = LIMIT_CONFIG_BYTES + 1;
	char *big = malloc(n);
	struct mf_config *c = NULL;
	struct err e = {0};

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, CFG(""), strlen(CFG("")));
	assert_int_equal(mf_config_parse(big, n, &c, &e), -1);
	assert_non_null(strstr(e.msg, "more than the 4194304 allowed"));
	assert_int_equal(mf_config_parse(big, n - 1, &c, &e), 0);
	mf_config_free(c);
	free(big);
}

static void test_round_trip_keeps_unknown_fields(void **state)
{
	struct mf_config *c = parse_ok(docker_cfg), *d;
	char *s, *s2;

	(void)state;
	s = serialize(c);
	/* docker_cfg is already compact: the bytes come back identical. */
	assert_string_equal(s, docker_cfg);
	d = parse_ok(s);
	s2 = serialize(d);
	assert_string_equal(s, s2);
	free(s);
	free(s2);
	mf_config_free(d);
	mf_config_free(c);
}

static void test_changes(void **state)
{
	struct mf_config *c = parse_ok(docker_cfg);
	static const char *const ep[] = {"/bin/app", "--flag", NULL};
	static const char *const bad_utf8[] = {"\xff", NULL};
	struct err e = {0};
	char *s;

	(void)state;
	assert_int_equal(mf_config_set_entrypoint(c, ep, &e), 0);
	assert_argv(mf_config_entrypoint(c), ep);
	assert_int_equal(mf_config_set_entrypoint(c, bad_utf8, &e), -1);
	assert_argv(mf_config_entrypoint(c), ep);
	assert_int_equal(mf_config_set_label(c, LABEL_SENSOR_VERSION, "0.1.0", &e), 0);
	assert_int_equal(mf_config_set_label(c, "maintainer", "y", &e), 0);
	assert_string_equal(mf_config_label(c, "maintainer"), "y");
	assert_int_equal(mf_config_set_label(c, "", "y", &e), -1);
	assert_int_equal(mf_config_remove_label(c, "nope", &e), 0);
	assert_int_equal(mf_config_append_diff_id(c, DC, &e), 0);
	assert_int_equal(mf_config_append_diff_id(c, "sha256:zz", &e), -1);
	assert_int_equal(mf_config_diff_id_count(c), 3);
	assert_int_equal(mf_config_append_history(c, "inlay instrument 0.1.0", &e), 0);
	s = serialize(c);
	assert_non_null(strstr(s, "\"Entrypoint\":[\"/bin/app\",\"--flag\"],\"Labels\":"
				  "{\"maintainer\":\"y\",\"io.inlay.sensor.version\":\"0.1.0\"},"
				  "\"WorkingDir\":\"/app\"}"));
	assert_non_null(strstr(s, "{\"created_by\":\"RUN make\"},{\"created\":"
				  "\"2023-05-19T20:19:21.218798011Z\",\"created_by\":"
				  "\"inlay instrument 0.1.0\",\"empty_layer\":false}]"));
	assert_non_null(strstr(s, "\"diff_ids\":[\"" DA "\",\"" DB "\",\"" DC "\"]}"));
	free(s);

	/* Undo it all: history entry of layer 2 (the empty_layer entry is skipped). */
	assert_int_equal(mf_config_remove_history_layer(c, 2, &e), 1);
	assert_int_equal(mf_config_remove_history_layer(c, 2, &e), 0);
	assert_int_equal(mf_config_remove_diff_id(c, 2, &e), 0);
	assert_int_equal(mf_config_remove_diff_id(c, 2, &e), -1);
	assert_int_equal(mf_config_remove_label(c, LABEL_SENSOR_VERSION, &e), 0);
	assert_null(mf_config_label(c, LABEL_SENSOR_VERSION));
	s = serialize(c);
	assert_non_null(strstr(s, "{\"created_by\":\"RUN make\"}],\"os\":"));
	assert_non_null(strstr(s, "\"diff_ids\":[\"" DA "\",\"" DB "\"]}"));
	free(s);

	/* Layer 1 is the third history entry: the second is an empty layer. */
	assert_int_equal(mf_config_remove_history_layer(c, 1, &e), 1);
	s = serialize(c);
	assert_non_null(strstr(s, "\"empty_layer\":true}],\"os\""));
	free(s);
	mf_config_free(c);

	/* Labels null or absent, no history, no created: all created on demand. */
	c = parse_ok(CFG(",\"config\":{\"Labels\":null}"));
	assert_int_equal(mf_config_set_label(c, "a", "b", &e), 0);
	assert_int_equal(mf_config_append_history(c, "x", &e), 0);
	s = serialize(c);
	assert_string_equal(s, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":"
			       "{\"Labels\":{\"a\":\"b\"}},\"rootfs\":{\"type\":\"layers\","
			       "\"diff_ids\":[\"" DA "\"]},\"history\":[{\"created_by\":\"x\","
			       "\"empty_layer\":false}]}");
	free(s);
	mf_config_free(c);
	c = parse_ok(CFG(""));
	assert_int_equal(mf_config_set_label(c, "a", "b", &e), 0);
	assert_int_equal(mf_config_append_history(c, "x", &e), 0);
	assert_int_equal(mf_config_set_entrypoint(c, NULL, &e), 0);
	s = serialize(c);
	assert_string_equal(s, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
			       "{\"type\":\"layers\",\"diff_ids\":[\"" DA "\"]},\"config\":"
			       "{\"Labels\":{\"a\":\"b\"},\"Entrypoint\":null},\"history\":"
			       "[{\"created_by\":\"x\",\"empty_layer\":false}]}");
	free(s);
	mf_config_free(c);
}

/* One row of the DESIGN.md section 4 table. */
struct row {
	const char *config;	   /* the "config" member, "" for none */
	const char *const *new_ep; /* NULL: wrapping is refused */
	const char *const *cmd;	   /* Cmd after wrapping, unchanged */
	const char *label;	   /* recorded original entrypoint */
};

static const char *const PE[] = {"/.inlay/sensor", "--", "/e", "x", NULL};
static const char *const C[] = {"/c", "y", NULL};
static const char *const EMPTY[] = {NULL};

static const struct row rows[] = {
    /* E non-empty, C present: P + E, C unchanged */
    {",\"config\":{\"Entrypoint\":[\"/e\",\"x\"],\"Cmd\":[\"/c\",\"y\"]}", PE, C, "[\"/e\",\"x\"]"},
    /* E non-empty, no Cmd (absent, null, empty) */
    {",\"config\":{\"Entrypoint\":[\"/e\",\"x\"]}", PE, NULL, "[\"/e\",\"x\"]"},
    {",\"config\":{\"Entrypoint\":[\"/e\",\"x\"],\"Cmd\":null}", PE, NULL, "[\"/e\",\"x\"]"},
    {",\"config\":{\"Entrypoint\":[\"/e\",\"x\"],\"Cmd\":[]}", PE, EMPTY, "[\"/e\",\"x\"]"},
    /* no Entrypoint (absent, null, empty), Cmd present: P, C unchanged */
    {",\"config\":{\"Cmd\":[\"/c\",\"y\"]}", P, C, "null"},
    {",\"config\":{\"Entrypoint\":null,\"Cmd\":[\"/c\",\"y\"]}", P, C, "null"},
    {",\"config\":{\"Entrypoint\":[],\"Cmd\":[\"/c\",\"y\"]}", P, C, "[]"},
    /* neither: refused */
    {"", NULL, NULL, NULL},
    {",\"config\":null", NULL, NULL, NULL},
    {",\"config\":{}", NULL, NULL, NULL},
    {",\"config\":{\"Entrypoint\":null,\"Cmd\":null}", NULL, NULL, NULL},
    {",\"config\":{\"Entrypoint\":[],\"Cmd\":[]}", NULL, NULL, NULL},
};

static char *cfg_text(const char *member)
{
	char *s;

	assert_true(asprintf(&s,
			     "{\"architecture\":\"amd64\",\"os\":\"linux\"%s,\"rootfs\":"
			     "{\"type\":\"layers\",\"diff_ids\":[]}}",
			     member) > 0);
	return s;
}

static void test_wrap_truth_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		char *doc = cfg_text(r->config), *before = NULL, *after;
		struct mf_config *c = parse_ok(doc);
		struct err e = {0};

		before = serialize(c);
		if (!r->new_ep) {
			if (mf_config_wrap_entrypoint(c, P, &e) == 0)
				fail_msg("row %zu wrapped", i);
			assert_int_equal(e.cls, ERR_INPUT);
			assert_non_null(strstr(e.msg, "the image has nothing to run (no Entrypoint "
						      "and no Cmd)"));
			after = serialize(c);
			assert_string_equal(before, after); /* untouched */
			free(after);
			goto next;
		}
		if (mf_config_wrap_entrypoint(c, P, &e) != 0)
			fail_msg("row %zu: %s", i, e.msg);
		assert_argv(mf_config_entrypoint(c), r->new_ep);
		assert_argv(mf_config_cmd(c), r->cmd);
		assert_string_equal(mf_config_label(c, LABEL_ORIGINAL_ENTRYPOINT), r->label);

		/* Wrapping twice is refused: the label would record the sensor. */
		assert_int_equal(mf_config_wrap_entrypoint(c, P, &e), -1);
		assert_non_null(strstr(e.msg, "already instrumented"));

		/* Unwrap then wrap again gives the same bytes (re-instrumenting). */
		after = serialize(c);
		assert_int_equal(mf_config_unwrap_entrypoint(c, &e), 0);
		assert_null(mf_config_label(c, LABEL_ORIGINAL_ENTRYPOINT));
		assert_argv(mf_config_cmd(c), r->cmd);
		if (strcmp(r->label, "null") == 0)
			assert_null(mf_config_entrypoint(c));
		else if (strcmp(r->label, "[]") == 0)
			assert_argv(mf_config_entrypoint(c), EMPTY);
		else
			assert_string_equal(mf_config_entrypoint(c)[0], "/e");
		assert_int_equal(mf_config_wrap_entrypoint(c, P, &e), 0);
		{
			char *again = serialize(c);

			assert_string_equal(after, again);
			free(again);
		}
		free(after);
	next:
		free(before);
		free(doc);
		mf_config_free(c);
	}
}

static void test_wrap_exact_bytes(void **state)
{
	struct mf_config *c = parse_ok(docker_cfg);
	struct err e = {0};
	char *s;

	(void)state;
	assert_int_equal(mf_config_wrap_entrypoint(c, P, &e), 0);
	s = serialize(c);
	assert_non_null(
	    strstr(s, "\"Cmd\":[\"sh\"],\"Entrypoint\":[\"/.inlay/sensor\",\"--\","
		      "\"/docker-entrypoint.sh\"],\"Labels\":{\"maintainer\":\"x\","
		      "\"io.inlay.original.entrypoint\":\"[\\\"/docker-entrypoint.sh\\\"]\"}"));
	/* container_config is not the runtime config: untouched. */
	assert_non_null(strstr(s, "\"container_config\":{\"Cmd\":[\"/bin/sh\",\"-c\""));
	free(s);
	mf_config_free(c);

	/* A config without Entrypoint and Labels gains both, in that order. */
	c = parse_ok(CFG(",\"config\":{\"Cmd\":[\"sh\"]}"));
	assert_int_equal(mf_config_wrap_entrypoint(c, P, &e), 0);
	s = serialize(c);
	assert_string_equal(s, CFG(",\"config\":{\"Cmd\":[\"sh\"],\"Entrypoint\":["
				   "\"/.inlay/sensor\",\"--\"],\"Labels\":{"
				   "\"io.inlay.original.entrypoint\":\"null\"}}"));
	free(s);
	mf_config_free(c);
}

static void test_unwrap_errors(void **state)
{
	static const char *const bad_labels[] = {"\"x\"", "{}", "[1]", "not json", "[\"a\"] x", ""};
	struct mf_config *c = parse_ok(CFG(",\"config\":{\"Cmd\":[\"sh\"]}"));
	static const char *const empty_prefix[] = {NULL};
	struct err e = {0};

	(void)state;
	assert_int_equal(mf_config_unwrap_entrypoint(c, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "has no io.inlay.original.entrypoint label"));
	assert_int_equal(mf_config_wrap_entrypoint(c, empty_prefix, &e), -1);
	assert_int_equal(mf_config_wrap_entrypoint(c, NULL, &e), -1);
	for (size_t i = 0; i < sizeof(bad_labels) / sizeof(bad_labels[0]); i++) {
		assert_int_equal(
		    mf_config_set_label(c, LABEL_ORIGINAL_ENTRYPOINT, bad_labels[i], &e), 0);
		if (mf_config_unwrap_entrypoint(c, &e) == 0)
			fail_msg("label %s unwrapped", bad_labels[i]);
		assert_non_null(strstr(e.msg, "is not a JSON array of strings or null"));
		/* unchanged */
		assert_string_equal(mf_config_label(c, LABEL_ORIGINAL_ENTRYPOINT), bad_labels[i]);
	}
	mf_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_getters),
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_round_trip_keeps_unknown_fields),
	    cmocka_unit_test(test_changes),
	    cmocka_unit_test(test_wrap_truth_table),
	    cmocka_unit_test(test_wrap_exact_bytes),
	    cmocka_unit_test(test_unwrap_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
