/* test_mirror_config.c - the mirror's pure parts: request routes
 * (mirror/route.c), upstream choice, rule globs and the configuration file
 * (mirror/config.c), and htpasswd checks (mirror/htpasswd.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../mirror/config.h"
#include "../../mirror/htpasswd.h"
#include "../../mirror/route.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D256 "sha256:" H64

struct route_case {
	const char *path;
	int kind; /* -1: refused */
	const char *name, *reference;
	int status;       /* when refused */
	const char *code; /* when refused */
};

static const struct route_case routes[] = {
    {"/v2/", MR_ROUTE_BASE, "", "", 0, NULL},
    {"/v2", MR_ROUTE_BASE, "", "", 0, NULL},
    {"/healthz", MR_ROUTE_HEALTHZ, "", "", 0, NULL},
    {"/metrics", MR_ROUTE_METRICS, "", "", 0, NULL},
    {"/v2/app/manifests/1", MR_ROUTE_MANIFEST, "app", "1", 0, NULL},
    {"/v2/library/busybox/manifests/latest", MR_ROUTE_MANIFEST, "library/busybox", "latest", 0,
     NULL},
    {"/v2/a/manifests/" D256, MR_ROUTE_MANIFEST, "a", D256, 0, NULL},
    {"/v2/a/b/blobs/" D256, MR_ROUTE_BLOB, "a/b", D256, 0, NULL},
    /* a name may hold an action word as a component: the last one counts */
    {"/v2/x/blobs/y/blobs/" D256, MR_ROUTE_BLOB, "x/blobs/y", D256, 0, NULL},
    {"/v2/x/manifests/tags/list", MR_ROUTE_TAGS, "x/manifests", "", 0, NULL},
    {"/v2/team/app/tags/list", MR_ROUTE_TAGS, "team/app", "", 0, NULL},
    {"/v2/app/referrers/" D256, MR_ROUTE_REFERRERS, "app", D256, 0, NULL},
    {"/v2/app/manifests/sha256-" H64 ".sig", MR_ROUTE_MANIFEST, "app", "sha256-" H64 ".sig", 0,
     NULL},
    {"/v2/UPPER/manifests/1", -1, NULL, NULL, 400, "NAME_INVALID"},
    {"/v2/a//b/manifests/1", -1, NULL, NULL, 400, "NAME_INVALID"},
    {"/v2/../etc/manifests/1", -1, NULL, NULL, 400, "NAME_INVALID"},
    {"/v2/manifests/1", -1, NULL, NULL, 404, "NOT_FOUND"},
    {"/v2/a/manifests/a:b:c", -1, NULL, NULL, 400, "DIGEST_INVALID"},
    {"/v2/a/manifests/-x", -1, NULL, NULL, 400, "TAG_INVALID"},
    {"/v2/a/manifests/", -1, NULL, NULL, 400, "TAG_INVALID"},
    {"/v2/a/blobs/latest", -1, NULL, NULL, 400, "DIGEST_INVALID"},
    {"/v2/a/blobs/sha256:zz", -1, NULL, NULL, 400, "DIGEST_INVALID"},
    {"/v2/a/tags/other", -1, NULL, NULL, 404, "NOT_FOUND"},
    {"/v2/a/uploads/", -1, NULL, NULL, 404, "NOT_FOUND"},
    {"/etc/passwd", -1, NULL, NULL, 404, "NOT_FOUND"},
    {"", -1, NULL, NULL, 404, "NOT_FOUND"},
};

static void test_routes(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route_case *c = &routes[i];
		struct mr_route r;
		struct err e;
		int rc;

		err_clear(&e);
		memset(&r, 0, sizeof(r));
		rc = mr_route_parse(c->path, &r, &e);
		if (c->kind < 0) {
			if (rc == 0)
				fail_msg("%s: accepted", c->path);
			assert_int_equal(e.http_status, c->status);
			assert_string_equal(r.error_code, c->code);
			assert_true(e.msg[0] != '\0');
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", c->path, e.msg);
		assert_int_equal(r.kind, c->kind);
		assert_string_equal(r.name, c->name);
		assert_string_equal(r.reference, c->reference);
	}
}

static void test_route_long_name(void **state)
{
	char path[700], name[300];
	struct mr_route r;
	struct err e;

	(void)state;
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(path, sizeof(path), "/v2/%s/manifests/1", name);
	assert_int_equal(mr_route_parse(path, &r, &e), -1);
	assert_int_equal(e.http_status, 400);
}

static void config_with(struct mr_config *c, const char *json)
{
	struct err e;

	mr_config_init(c);
	err_clear(&e);
	if (mr_config_parse(c, json, strlen(json), "test", &e) < 0 || mr_config_finish(c, &e) < 0)
		fail_msg("%s: %s", json, e.msg);
}

static void test_targets(void **state)
{
	struct mr_config c;
	struct mr_target t;
	struct err e;

	(void)state;
	config_with(&c, "{\"store\":\"oci:/s\",\"upstreams\":{"
			"\"docker.io\":{\"url\":\"https://registry-1.docker.io\"},"
			"\"local\":{\"url\":\"http://127.0.0.1:5000\"}},"
			"\"default_upstream\":\"docker.io\"}");
	/* containerd's ?ns= */
	assert_int_equal(mr_route_target(&c, "busybox", "docker.io", &t, &e), 0);
	assert_string_equal(t.upstream->name, "docker.io");
	assert_string_equal(t.repository, "library/busybox");
	assert_true(t.upstream->docker_hub);
	/* a path prefix */
	assert_int_equal(mr_route_target(&c, "local/team/app", NULL, &t, &e), 0);
	assert_string_equal(t.upstream->name, "local");
	assert_string_equal(t.repository, "team/app");
	assert_true(t.upstream->plain_http);
	assert_false(t.upstream->docker_hub);
	/* neither: the default; an unknown ns changes nothing */
	assert_int_equal(mr_route_target(&c, "team/app", "quay.io", &t, &e), 0);
	assert_string_equal(t.upstream->name, "docker.io");
	assert_string_equal(t.repository, "team/app");
	mr_config_free(&c);

	config_with(&c, "{\"store\":\"oci:/s\",\"upstreams\":{"
			"\"a\":{\"url\":\"http://127.0.0.1:1\"},\"b\":{\"url\":\"http://127.0.0.1:2\"}}}");
	assert_int_equal(mr_route_target(&c, "app", NULL, &t, &e), -1);
	assert_int_equal(e.http_status, 404);
	assert_int_equal(mr_route_target(&c, "b/app", NULL, &t, &e), 0);
	assert_string_equal(t.upstream->host, "127.0.0.1:2");
	/* the prefix alone names no repository */
	assert_int_equal(mr_route_target(&c, "b", "a", &t, &e), 0);
	assert_string_equal(t.upstream->name, "a");
	mr_config_free(&c);
}

static void test_globs(void **state)
{
	(void)state;
	assert_true(mr_glob_match("docker.io/library/*", "docker.io/library/busybox"));
	assert_false(mr_glob_match("docker.io/library/*", "docker.io/library/a/b"));
	assert_true(mr_glob_match("docker.io/**", "docker.io/library/a/b"));
	assert_true(mr_glob_match("*/team/*", "local/team/app"));
	assert_false(mr_glob_match("*/team/*", "local/other/app"));
	assert_true(mr_glob_match("local/app", "local/app"));
	assert_false(mr_glob_match("local/app", "local/app2"));
	assert_true(mr_glob_match("**", ""));
	assert_true(mr_glob_match("a*b*c", "aXXbYYc"));
	assert_false(mr_glob_match("a*b*c", "aXXbYY"));
	assert_true(mr_glob_match("", ""));
	assert_false(mr_glob_match("", "a"));
	assert_true(mr_glob_match("*", ""));
	assert_false(mr_glob_match("*", "a/b"));
	assert_true(mr_glob_match("a/**/z", "a/b/c/z"));
	assert_true(mr_glob_match("**/z", "a/b/z"));
	assert_false(mr_glob_match("**/z", "a/b/zz"));
	assert_true(mr_glob_match("***", "a/b"));
}

/* The fuzzer's find: a pattern of many stars against a long name that
 * almost matches took exponential time (every way to place the stars). */
static void test_glob_many_stars(void **state)
{
	char pattern[512] = "", name[300];
	int i;

	(void)state;
	for (i = 0; i < 60; i++)
		strcat(pattern, "*a");
	strcat(pattern, "*b");
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_false(mr_glob_match(pattern, name)); /* returns at once, or the run times out */
	name[sizeof(name) - 2] = 'b';
	assert_true(mr_glob_match(pattern, name));
	for (i = 0; i < 60; i++)
		pattern[2 * i] = '*', pattern[2 * i + 1] = '*';
	assert_true(mr_glob_match(pattern, name));
}

static void test_rules(void **state)
{
	struct mr_config c;
	const struct mr_rule *r;

	(void)state;
	config_with(&c, "{\"store\":\"oci:/s\",\"upstreams\":{\"up\":{\"url\":\"http://h:1\"}},"
			"\"mode\":\"learn\",\"rules\":["
			"{\"match\":\"up/vendor/**\",\"action\":\"passthrough\"},"
			"{\"match\":\"up/prod/*\",\"mode\":\"enforce\",\"inventory\":true}]}");
	r = mr_config_rule(&c, "up", "vendor/x/y");
	assert_int_equal(r->action, MR_PASSTHROUGH);
	r = mr_config_rule(&c, "up", "prod/api");
	assert_int_equal(r->action, MR_INSTRUMENT);
	assert_string_equal(r->mode, "enforce");
	assert_true(r->inventory);
	r = mr_config_rule(&c, "up", "dev/api");
	assert_ptr_equal(r, &c.defaults);
	assert_string_equal(r->mode, "learn");
	assert_int_equal(c.tag_ttl, 300);
	mr_config_free(&c);
}

static const char *const bad_configs[] = {
    "[]",
    "{\"unknown\":1}",
    "{\"upstreams\":{\"Up\":{\"url\":\"http://h\"}}}",
    "{\"upstreams\":{\"up\":{\"url\":\"ftp://h\"}}}",
    "{\"upstreams\":{\"up\":{\"url\":\"http://h/path\"}}}",
    "{\"upstreams\":{\"up\":{\"url\":\"http://\"}}}",
    "{\"upstreams\":{\"up\":{}}}",
    "{\"upstreams\":{\"up\":{\"url\":\"http://h\",\"x\":1}}}",
    "{\"tag_ttl\":-1}",
    "{\"tag_ttl\":\"5m\"}",
    "{\"mode\":\"block\"}",
    "{\"action\":\"passthrough\"}",
    "{\"rules\":[{\"action\":\"instrument\"}]}",
    "{\"rules\":[{\"match\":\"a\",\"action\":\"copy\"}]}",
    "{\"rules\":[{\"match\":\"a\",\"nope\":true}]}",
    "{\"limits\":{\"connections\":0}}",
    "{\"limits\":{\"header_bytes\":10}}",
    "{\"tls\":{\"cert\":\"a\",\"other\":\"b\"}}",
    "{\"require_instrumented\":\"yes\"}",
    "{\"listen\":\"a\",\"listen\":\"b\"}",
    "{\"store\":\"\"}",
    "{\"admission\":true}",
    "{\"admission\":{\"enabled\":\"yes\"}}",
    "{\"admission\":{\"timeout_seconds\":30}}", /* the API server's own limit */
    "{\"admission\":{\"timeout_seconds\":0}}",
    "{\"admission\":{\"registry_map\":[\"a=b\"]}}",
    "{\"admission\":{\"registry_map\":{\"a\":1}}}",
    "{\"admission\":{\"registry_map\":{\"a=b\":\"c\"}}}",
    "{\"admission\":{\"registry_map\":{\"a\":\"\"}}}",
    "{\"admission\":{\"mutate\":true}}",
    "{\"sync\":[]}",
    "{\"sync\":{\"repositories\":[{\"from\":\"r:5000/a\"}]}}",
    "{\"sync\":{\"repositories\":[{\"from\":\"r:5000/a\",\"to\":\"r:5001/a\",\"tags\":\"(\"}]}}",
    "{\"sync\":{\"repositories\":[{\"from\":\"r:5000/a:1\",\"to\":\"r:5001/a\"}]}}",
    "{\"sync\":{\"repositories\":[{\"from\":\"r:5000/a\",\"to\":\"oci:/x:tag\"}]}}",
    "{\"sync\":{\"repositories\":[{\"from\":\"a/b\",\"to\":\"c/d\",\"x\":1}]}}",
    "{\"sync\":{\"jobs\":0}}",
    "{\"sync\":{\"delete\":1}}",
    "{",
    /* YAML */
    "tag_ttl: 5\ntag_ttl: 6\n",                   /* a key twice */
    "tag_ttl: '60'\n",                          /* quoted: a string */
    "tag_ttl: 60\n---\ntag_ttl: 70\n",           /* two documents */
    "rules: [{match: a, action: copy}]\n",
    "- a\n- b\n",                               /* not a mapping */
    "a: [\n",                                   /* not YAML */
    "? [a]\n: b\n",                              /* a key that is no scalar */
};

static void test_bad_configs(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		struct mr_config c;
		struct err e;

		mr_config_init(&c);
		err_clear(&e);
		if (mr_config_parse(&c, bad_configs[i], strlen(bad_configs[i]), "cfg", &e) == 0)
			fail_msg("accepted: %s", bad_configs[i]);
		assert_int_equal(e.cls, ERR_INPUT);
		if (strncmp(e.msg, "cfg", 3) != 0)
			fail_msg("%s: the message does not name the file: %s", bad_configs[i], e.msg);
		mr_config_free(&c);
	}
}

static void test_finish(void **state)
{
	struct mr_config c;
	struct err e;

	(void)state;
	mr_config_init(&c);
	assert_int_equal(mr_config_finish(&c, &e), -1); /* no store */
	assert_non_null(strstr(e.msg, "--store"));
	assert_int_equal(mr_config_add_upstream(&c, "up=http://127.0.0.1:5000", &e), 0);
	/* A registry store is a repository: no tag, no digest. */
	c.store = strdup("registry.example.com/x:latest");
	assert_int_equal(mr_config_finish(&c, &e), -1);
	assert_non_null(strstr(e.msg, "without a tag or digest"));
	free(c.store);
	c.store = strdup("registry.example.com/x@sha256:"
			 "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(mr_config_finish(&c, &e), -1);
	free(c.store);
	c.store = strdup("oci:");
	assert_int_equal(mr_config_finish(&c, &e), -1);
	free(c.store);
	c.store = strdup("Not A Reference");
	assert_int_equal(mr_config_finish(&c, &e), -1);
	assert_non_null(strstr(e.msg, "expected oci:DIR or REGISTRY/REPOSITORY"));
	free(c.store);
	c.store = strdup("registry.example.com/x");
	assert_int_equal(mr_config_finish(&c, &e), 0);
	mr_config_free(&c);
	mr_config_init(&c);
	assert_int_equal(mr_config_add_upstream(&c, "up=http://127.0.0.1:5000", &e), 0);
	c.store = strdup("oci:/tmp/s");
	c.tls_cert = strdup("cert.pem");
	assert_int_equal(mr_config_finish(&c, &e), -1); /* cert without key */
	free(c.tls_cert);
	c.tls_cert = NULL;
	assert_int_equal(mr_config_finish(&c, &e), 0);
	assert_string_equal(c.default_upstream, "up");
	assert_string_equal(c.listen, "127.0.0.1:5050");
	assert_string_equal(c.public_host, "127.0.0.1:5050");
	assert_string_equal(c.defaults.mode, "monitor");
	assert_int_equal(mr_config_add_upstream(&c, "noequals", &e), -1);
	mr_config_free(&c);
}

static void test_admission(void **state)
{
	struct mr_config c;
	struct err e;

	(void)state;
	/* Webhooks only: neither a store nor an upstream is needed. */
	config_with(&c, "{\"admission\":{\"enabled\":true,\"timeout_seconds\":3,"
			"\"check_key\":\"k.pub\",\"tag_suffix\":\"-x\","
			"\"registry_map\":{\"docker.io\":\"ecr.example/mirror\"}}}");
	assert_true(c.admission.enabled);
	assert_int_equal(c.admission.timeout_seconds, 3);
	assert_string_equal(c.admission.check_key, "k.pub");
	assert_string_equal(c.admission.tag_suffix, "-x");
	assert_int_equal(c.admission.n_maps, 1);
	assert_string_equal(c.admission.maps[0].from, "docker.io");
	assert_string_equal(c.admission.maps[0].to, "ecr.example/mirror");
	assert_int_equal(mr_config_add_map(&c, "quay.io=ecr.example/quay", &e), 0);
	assert_int_equal(c.admission.n_maps, 2);
	assert_int_equal(mr_config_add_map(&c, "quay.io", &e), -1);
	assert_int_equal(mr_config_add_map(&c, "=x", &e), -1);
	mr_config_free(&c);

	/* The default timeout stays well under the API server's 10 s. */
	mr_config_init(&c);
	assert_int_equal(c.admission.timeout_seconds, 5);
	/* A mirror beside the webhooks still needs its store. */
	c.admission.enabled = true;
	assert_int_equal(mr_config_add_upstream(&c, "up=http://127.0.0.1:5000", &e), 0);
	assert_int_equal(mr_config_finish(&c, &e), -1);
	assert_non_null(strstr(e.msg, "--store"));
	mr_config_free(&c);
}

static void test_sync(void **state)
{
	static const char sync_json[] =
	    "{\"mode\":\"learn\",\"sync\":{\"jobs\":8,\"delete\":true,\"tag_suffix\":\"-i\","
	    "\"interval_seconds\":60,\"repositories\":["
	    "{\"from\":\"r:5000/team/app\",\"to\":\"oci:/srv/app\",\"tags\":\"^v[0-9]\"},"
	    "{\"from\":\"r:5000\",\"to\":\"r:5001/all\",\"exclude\":\"-rc\"},"
	    "{\"from\":\"r:5000/team/\",\"to\":\"r:5001/t\"}]}}";
	struct mr_config c;
	struct err e;

	(void)state;
	mr_config_init(&c);
	err_clear(&e);
	assert_int_equal(mr_config_finish_sync(&c, &e), -1); /* nothing to sync */
	assert_int_equal(mr_config_parse(&c, sync_json, strlen(sync_json), "cfg", &e), 0);
	assert_int_equal(mr_config_finish_sync(&c, &e), 0);
	assert_int_equal(c.sync.n_repos, 3);
	assert_int_equal(c.sync.jobs, 8);
	assert_true(c.sync.delete_gone);
	assert_int_equal(c.sync.interval_seconds, 60);
	assert_string_equal(c.sync.tag_suffix, "-i");
	assert_string_equal(c.sync.repos[0].to, "oci:/srv/app");
	assert_string_equal(c.sync.repos[0].tags, "^v[0-9]");
	assert_null(c.sync.repos[0].exclude);
	assert_string_equal(c.sync.repos[1].from, "r:5000"); /* a catalog: no tag in it */
	assert_string_equal(c.sync.repos[1].exclude, "-rc");
	assert_string_equal(c.defaults.mode, "learn");
	/* the simple form's checks */
	assert_int_equal(mr_config_add_sync(&c, "r:5000/a", "r:5001/a", "[", NULL, &e), -1);
	assert_non_null(strstr(e.msg, "--tags"));
	assert_int_equal(mr_config_add_sync(&c, "r:5000/a@sha256:" H64, "r:5001/a", NULL, NULL, &e),
			 -1);
	assert_int_equal(mr_config_add_sync(&c, "", "r:5001/a", NULL, NULL, &e), -1);
	assert_int_equal(c.sync.n_repos, 3);
	mr_config_free(&c);
}

/* The YAML form is the JSON form: anchors, comments, block and flow styles. */
static void test_yaml(void **state)
{
	static const char yaml[] =
	    "# the mirror\n"
	    "store: oci:/s\n"
	    "upstreams:\n"
	    "  docker.io: {url: 'https://registry-1.docker.io'}\n"
	    "  local:\n"
	    "    url: http://127.0.0.1:5000\n"
	    "default_upstream: docker.io\n"
	    "tag_ttl: 60\n"
	    "require_instrumented: true\n"
	    "mode: &m enforce\n"
	    "rules:\n"
	    "  - match: local/vendor/**\n"
	    "    action: passthrough\n"
	    "  - {match: \"docker.io/library/*\", mode: *m, inventory: yes-this-is-a-string}\n";
	static const char bad_inventory[] = "rules: [{match: a, inventory: yes}]\n";
	struct mr_config c;
	struct err e;

	(void)state;
	mr_config_init(&c);
	err_clear(&e);
	/* YAML 1.2: "yes" is a string, not a boolean, so it is refused where
	 * a boolean belongs. */
	assert_int_equal(mr_config_parse(&c, yaml, strlen(yaml), "cfg.yaml", &e), -1);
	assert_non_null(strstr(e.msg, "inventory"));
	mr_config_free(&c);
	mr_config_init(&c);
	assert_int_equal(mr_config_parse(&c, bad_inventory, strlen(bad_inventory), "c", &e), -1);
	mr_config_free(&c);

	config_with(&c, "store: oci:/s\n"
			"upstreams:\n"
			"  docker.io: {url: 'https://registry-1.docker.io'}\n"
			"  local:\n"
			"    url: http://127.0.0.1:5000\n"
			"default_upstream: docker.io\n"
			"tag_ttl: 60\n"
			"require_instrumented: true\n"
			"mode: &m enforce\n"
			"rules:\n"
			"  - match: local/vendor/**\n"
			"    action: passthrough\n"
			"  - {match: \"docker.io/library/*\", mode: *m, inventory: true}\n");
	assert_string_equal(c.store, "oci:/s");
	assert_int_equal(c.n_upstreams, 2);
	assert_true(c.upstreams[1].plain_http);
	assert_int_equal(c.tag_ttl, 60);
	assert_true(c.require_instrumented);
	assert_int_equal(c.n_rules, 2);
	assert_int_equal(c.rules[0].action, MR_PASSTHROUGH);
	assert_string_equal(c.rules[1].mode, "enforce"); /* through the alias */
	assert_true(c.rules[1].inventory);
	mr_config_free(&c);
}

/* A bcrypt hash of "s3cret" at cost 4, made with `htpasswd -nbB -C 4`. */
static void test_htpasswd(void **state)
{
	char path[] = "/tmp/inlay-htpasswd-XXXXXX", user[MR_USER_MAX];
	const char *file = "# users\n\nalice:$2y$04$Llxlb8PPRKxt536P6tWgxuADeEF/XoUSZBr.x1hKsCdnk59ZyIQDO\n";
	struct mr_htpasswd *h = NULL;
	struct err e;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(file, f);
	fclose(f);
	assert_int_equal(mr_htpasswd_load(path, &h, &e), 0);
	/* "alice:s3cret" */
	assert_true(mr_htpasswd_check(h, "Basic YWxpY2U6czNjcmV0", user));
	assert_string_equal(user, "alice");
	assert_true(mr_htpasswd_check(h, "basic YWxpY2U6czNjcmV0", user)); /* remembered */
	/* "alice:wrong", "bob:s3cret", not base64, no colon, another scheme */
	assert_false(mr_htpasswd_check(h, "Basic YWxpY2U6d3Jvbmc=", user));
	assert_string_equal(user, "alice");
	assert_false(mr_htpasswd_check(h, "Basic Ym9iOnMzY3JldA==", user));
	assert_false(mr_htpasswd_check(h, "Basic !!!!", user));
	assert_false(mr_htpasswd_check(h, "Basic YWxpY2U=", user));
	assert_false(mr_htpasswd_check(h, "Bearer YWxpY2U6czNjcmV0", user));
	assert_false(mr_htpasswd_check(h, NULL, user));
	mr_htpasswd_free(h);

	f = fopen(path, "w");
	fputs("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", f);
	fclose(f);
	assert_int_equal(mr_htpasswd_load(path, &h, &e), -1);
	assert_non_null(strstr(e.msg, ":1: only bcrypt"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routes),   cmocka_unit_test(test_route_long_name),
	    cmocka_unit_test(test_targets),  cmocka_unit_test(test_globs),
	    cmocka_unit_test(test_glob_many_stars),
	    cmocka_unit_test(test_rules),    cmocka_unit_test(test_bad_configs),
	    cmocka_unit_test(test_finish),   cmocka_unit_test(test_htpasswd),
	    cmocka_unit_test(test_admission), cmocka_unit_test(test_sync),
	    cmocka_unit_test(test_yaml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
