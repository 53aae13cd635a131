/* test_ref.c - image reference parsing (manifest/ref.c), table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../manifest/ref.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H128 H64 H64
#define D256 "sha256:" H64

struct valid_case {
	const char *in;
	const char *domain, *path, *tag, *digest;
};

static const struct valid_case valid[] = {
    {"busybox", "docker.io", "library/busybox", NULL, NULL},
    {"busybox:1.36", "docker.io", "library/busybox", "1.36", NULL},
    {"docker://busybox:latest", "docker.io", "library/busybox", "latest", NULL},
    {"library/busybox", "docker.io", "library/busybox", NULL, NULL},
    {"team/app", "docker.io", "team/app", NULL, NULL},
    {"docker.io/busybox", "docker.io", "library/busybox", NULL, NULL},
    {"docker.io/library/busybox:1", "docker.io", "library/busybox", "1", NULL},
    {"index.docker.io/busybox", "docker.io", "library/busybox", NULL, NULL},
    {"index.docker.io/team/app:v1", "docker.io", "team/app", "v1", NULL},
    {"localhost/app", "localhost", "app", NULL, NULL},
    {"localhost:5000/app:tag", "localhost:5000", "app", "tag", NULL},
    {"127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c", NULL, NULL},
    {"[::1]:5000/app", "[::1]:5000", "app", NULL, NULL},
    {"[::1]/app", "[::1]", "app", NULL, NULL},
    {"[2001:db8::1]:443/x/y:z", "[2001:db8::1]:443", "x/y", "z", NULL},
    {"registry.example.com/org/app@" D256, "registry.example.com", "org/app", NULL, D256},
    {"registry.example.com/org/app:v1@" D256, "registry.example.com", "org/app", "v1", D256},
    {"docker://quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd", "v3.5.0", NULL},
    {"Registry.Example.COM/app", "Registry.Example.COM", "app", NULL, NULL},
    {"Foo/bar", "Foo", "bar", NULL, NULL}, /* uppercase first element: a host */
    {"a__b/c-d", "docker.io", "a__b/c-d", NULL, NULL},
    {"a---b", "docker.io", "library/a---b", NULL, NULL},
    {"ab_c/d.e", "docker.io", "ab_c/d.e", NULL, NULL},
    {"localhost:5000", "docker.io", "library/localhost", "5000", NULL},
    {"app:TAG_With.Mixed-1", "docker.io", "library/app", "TAG_With.Mixed-1", NULL},
    {"app:_x", "docker.io", "library/app", "_x", NULL},
    {"app@sha512:" H128, "docker.io", "library/app", NULL, "sha512:" H128},
    {"example.com:5000/app", "example.com:5000", "app", NULL, NULL},
    {"foo/bar/baz/qux", "docker.io", "foo/bar/baz/qux", NULL, NULL},
    {"xn--bcher-kva.example/app", "xn--bcher-kva.example", "app", NULL, NULL},
    {"docker.io:5000/app", "docker.io:5000", "app", NULL, NULL},
    {"my-registry.local:65535/ns/app:1.0@" D256, "my-registry.local:65535", "ns/app", "1.0", D256},
    {"0/1", "docker.io", "0/1", NULL, NULL},
};

struct invalid_case {
	const char *in;
	const char *want; /* substring of the message */
};

static const struct invalid_case invalid[] = {
    {"", "empty name"},
    {"docker://", "empty name"},
    {"Busybox", "must be lowercase"},
    {"team/App", "must be lowercase"},
    {"localhost/App", "must be lowercase"},
    {"app:", "tag \"\" is invalid"},
    {"app:-bad", "tag \"-bad\" is invalid"},
    {"app:.bad", "tag \".bad\" is invalid"},
    {"app@sha256:abc", "not a valid sha256 digest"},
    {"app@md5:0123456789abcdef0123456789abcdef", "unsupported digest algorithm \"md5\""},
    {"app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "uppercase"},
    {"app@", "missing digest"},
    {"app@" H64, "is not a digest"},
    {"-app", "path component \"-app\""},
    {"app-", "path component \"app-\""},
    {"a..b", "path component \"a..b\""},
    {"a___b", "path component \"a___b\""},
    {"foo//bar", "path component \"\""},
    {"foo/", "path component \"\""},
    {"/foo", "path component \"\""},
    {"localhost:99999/app", "invalid port"},
    {"localhost:0/app", "invalid port"},
    {"localhost:/app", "invalid port"},
    {"host:abc/app", "invalid port"},
    {"[::1/app", "IPv6"},
    {"[zz::1]:5000/app", "IPv6"},
    {"[]/app", "path component \"[]\""},
    {"-bad.com/app", "not a valid host name"},
    {"foo_bar.com/app", "not a valid host name"},
    {"bad-.com/app", "not a valid host name"},
    {"a..com/app", "not a valid host name"},
    {H64, "image ID"},
    {"app@" D256 "@" D256, "digest"},
    {"app:tag:tag", "path component \"app:tag\""},
    {"app name", "path component \"app name\""},
    {"app\n", "path component \"app?\""},
    {"app\xff", "path component \"app?\""},
    {"foo/bar@sha256:", "not a valid sha256 digest"},
    {"localhost:5000/a/B:tag", "must be lowercase"},
};

static void test_valid_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		const struct valid_case *c = &valid[i];
		struct mf_ref *r = NULL;
		struct err e = {0};

		if (mf_ref_parse(c->in, &r, &e) != 0)
			fail_msg("case %zu \"%s\": %s", i, c->in, e.msg);
		assert_string_equal(r->domain, c->domain);
		assert_string_equal(r->path, c->path);
		if (c->tag)
			assert_string_equal(r->tag, c->tag);
		else
			assert_null(r->tag);
		if (c->digest)
			assert_string_equal(r->digest, c->digest);
		else
			assert_null(r->digest);
		mf_ref_free(r);
	}
}

static void test_invalid_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		const struct invalid_case *c = &invalid[i];
		struct mf_ref *r = NULL;
		struct err e = {0};

		if (mf_ref_parse(c->in, &r, &e) == 0)
			fail_msg("case %zu \"%s\" parsed: %s / %s", i, c->in, r->domain, r->path);
		assert_null(r);
		assert_int_equal(e.cls, ERR_INPUT);
		if (!strstr(e.msg, c->want))
			fail_msg("case %zu \"%s\": message \"%s\" lacks \"%s\"", i, c->in, e.msg,
				 c->want);
		assert_non_null(strstr(e.msg, "invalid reference"));
	}
}

/* Every valid reference printed in normalized form parses to the same fields. */
static void test_string_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		struct mf_ref *a = NULL, *b = NULL;
		struct err e = {0};
		char *s;

		assert_int_equal(mf_ref_parse(valid[i].in, &a, &e), 0);
		s = mf_ref_string(a);
		assert_non_null(s);
		if (mf_ref_parse(s, &b, &e) != 0)
			fail_msg("\"%s\" printed as \"%s\" does not parse: %s", valid[i].in, s,
				 e.msg);
		assert_string_equal(a->domain, b->domain);
		assert_string_equal(a->path, b->path);
		assert_true((a->tag == NULL) == (b->tag == NULL));
		assert_true((a->digest == NULL) == (b->digest == NULL));
		free(s);
		mf_ref_free(a);
		mf_ref_free(b);
	}
}

static struct mf_ref *parse_ok(const char *s)
{
	struct mf_ref *r = NULL;
	struct err e = {0};

	if (mf_ref_parse(s, &r, &e) != 0)
		fail_msg("\"%s\": %s", s, e.msg);
	return r;
}

static void test_strings_and_hosts(void **state)
{
	struct mf_ref *r = parse_ok("busybox"), *d;
	char *s;

	(void)state;
	assert_string_equal(mf_ref_api_host(r), "registry-1.docker.io");
	assert_string_equal(mf_ref_auth_key(r), "https://index.docker.io/v1/");
	assert_string_equal(mf_ref_reference(r), "latest");
	s = mf_ref_string(r);
	assert_string_equal(s, "docker.io/library/busybox");
	free(s);
	s = mf_ref_repository(r);
	assert_string_equal(s, "docker.io/library/busybox");
	free(s);
	mf_ref_free(r);

	r = parse_ok("localhost:5000/team/app:v1@" D256);
	assert_string_equal(mf_ref_api_host(r), "localhost:5000");
	assert_string_equal(mf_ref_auth_key(r), "localhost:5000");
	assert_string_equal(mf_ref_reference(r), D256); /* the digest wins over the tag */
	s = mf_ref_string(r);
	assert_string_equal(s, "localhost:5000/team/app:v1@" D256);
	free(s);
	s = mf_ref_repository(r);
	assert_string_equal(s, "localhost:5000/team/app");
	free(s);
	d = mf_ref_dup(r);
	assert_non_null(d);
	assert_ptr_not_equal(d->path, r->path);
	assert_string_equal(d->path, r->path);
	assert_string_equal(d->tag, "v1");
	assert_string_equal(d->digest, D256);
	mf_ref_free(d);
	mf_ref_free(r);

	r = parse_ok("quay.io/a/b:v2");
	assert_string_equal(mf_ref_reference(r), "v2");
	mf_ref_free(r);
	mf_ref_free(NULL);
}

static void test_loopback(void **state)
{
	static const struct {
		const char *in;
		bool loopback;
	} cases[] = {
	    {"localhost/a", true},
	    {"localhost:5000/a", true},
	    {"LOCALHOST:5000/a", true},
	    {"127.0.0.1/a", true},
	    {"127.0.0.1:5000/a", true},
	    {"127.1.2.3:80/a", true},
	    {"[::1]/a", true},
	    {"[::1]:5000/a", true},
	    {"[0:0:0:0:0:0:0:1]:5000/a", true},
	    {"busybox", false},
	    {"128.0.0.1:5000/a", false},
	    {"10.0.0.1/a", false},
	    {"127.0.0.1.example.com/a", false},
	    {"localhost.example.com/a", false},
	    {"[::2]:5000/a", false},
	    {"[::]:5000/a", false},
	    {"example.com:5000/a", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mf_ref *r = parse_ok(cases[i].in);

		if (mf_ref_is_loopback(r) != cases[i].loopback)
			fail_msg("\"%s\": loopback should be %d", cases[i].in, cases[i].loopback);
		mf_ref_free(r);
	}
	assert_false(mf_ref_is_loopback(NULL));
}

static void test_tag_valid(void **state)
{
	char tag[200];

	(void)state;
	assert_true(mf_tag_valid("latest"));
	assert_true(mf_tag_valid("v1.2.3-rc.1_x"));
	assert_true(mf_tag_valid("_"));
	assert_true(mf_tag_valid("1-inlay"));
	assert_false(mf_tag_valid(""));
	assert_false(mf_tag_valid(NULL));
	assert_false(mf_tag_valid("-x"));
	assert_false(mf_tag_valid(".x"));
	assert_false(mf_tag_valid("a/b"));
	assert_false(mf_tag_valid("a:b"));
	assert_false(mf_tag_valid("a b"));
	memset(tag, 'a', 128);
	tag[128] = '\0';
	assert_true(mf_tag_valid(tag));
	tag[128] = 'a';
	tag[129] = '\0';
	assert_false(mf_tag_valid(tag));
}

/* The limit counts the normalized name, "docker.io/library/" included. */
static void test_name_length(void **state)
{
	char in[400];
	struct mf_ref *r = NULL;
	struct err e = {0};
	size_t room = 255 - strlen("docker.io/library/");

	(void)state;
	memset(in, 'a', room);
	in[room] = '\0';
	assert_int_equal(mf_ref_parse(in, &r, &e), 0);
	assert_int_equal(strlen(r->domain) + 1 + strlen(r->path), 255);
	mf_ref_free(r);
	r = NULL;
	in[room] = 'a';
	in[room + 1] = '\0';
	assert_int_equal(mf_ref_parse(in, &r, &e), -1);
	assert_non_null(strstr(e.msg, "longer than 255"));
	/* The message quotes the input, but bounded. */
	assert_non_null(strstr(e.msg, "..."));
	assert_true(strlen(e.msg) < 400);

	/* A 128-character tag is fine, 129 is not. */
	memcpy(in, "app:", 4);
	memset(in + 4, 't', 128);
	in[4 + 128] = '\0';
	assert_int_equal(mf_ref_parse(in, &r, &e), 0);
	assert_int_equal(strlen(r->tag), 128);
	mf_ref_free(r);
	r = NULL;
	in[4 + 128] = 't';
	in[4 + 129] = '\0';
	assert_int_equal(mf_ref_parse(in, &r, &e), -1);
	assert_non_null(strstr(e.msg, "tag"));
}

static void test_error_shows_input(void **state)
{
	struct mf_ref *r = NULL;
	struct err e = {0};

	(void)state;
	assert_int_equal(mf_ref_parse("docker://registry.example.com/Team/app:v1", &r, &e), -1);
	assert_string_equal(e.msg, "invalid reference \"registry.example.com/Team/app:v1\": "
				   "repository name \"Team/app\" must be lowercase");
	assert_int_equal(mf_ref_parse(NULL, &r, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_null(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_table),	      cmocka_unit_test(test_invalid_table),
	    cmocka_unit_test(test_string_round_trip), cmocka_unit_test(test_strings_and_hosts),
	    cmocka_unit_test(test_loopback),	      cmocka_unit_test(test_tag_valid),
	    cmocka_unit_test(test_name_length),	      cmocka_unit_test(test_error_shows_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
