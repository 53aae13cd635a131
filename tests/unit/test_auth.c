/* test_auth.c - registry authentication pieces that need no server:
 * WWW-Authenticate parsing, token answers, Basic headers, auth files
 * (docker config.json / containers auth.json), credential helpers, the
 * credential chain, and URL handling (Location resolution, query append,
 * same-origin checks, Retry-After).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../registry/auth.h"
#include "../../registry/creds.h"
#include "../../registry/http.h"

/* ---- WWW-Authenticate ---- */

struct challenge_case {
	const char *header;
	int ok; /* 0 parses, -1 malformed */
	int scheme;
	const char *realm, *service, *scope, *error, *other;
};

static const struct challenge_case challenge_cases[] = {
    {"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"", 0,
     RG_AUTH_BEARER, "https://auth.docker.io/token", "registry.docker.io", "", "", ""},
    {"Bearer realm=\"https://a/token\",service=\"s\",scope=\"repository:x/y:pull\"", 0,
     RG_AUTH_BEARER, "https://a/token", "s", "repository:x/y:pull", "", ""},
    {"Basic realm=\"Registry Realm\"", 0, RG_AUTH_BASIC, "Registry Realm", "", "", "", ""},
    {"basic realm=r", 0, RG_AUTH_BASIC, "r", "", "", "", ""},
    {"BEARER REALM=\"x\",SeRvIcE=\"y\"", 0, RG_AUTH_BEARER, "x", "y", "", "", ""},
    {"Bearer realm=\"a\\\"b\\\\c\"", 0, RG_AUTH_BEARER, "a\"b\\c", "", "", "", ""},
    {"Bearer realm=\"x\", Basic realm=\"y\"", 0, RG_AUTH_BEARER, "x", "", "", "", ""},
    {"Basic realm=\"y\", Bearer realm=\"x\",service=\"s\"", 0, RG_AUTH_BEARER, "x", "s", "", "",
     ""},
    {"Negotiate", 0, RG_AUTH_NONE, "", "", "", "", "Negotiate"},
    {"Negotiate abc123==, Basic realm=\"z\"", 0, RG_AUTH_BASIC, "z", "", "", "", "Negotiate"},
    {"Bearer realm=\"x\",error=\"insufficient_scope\",scope=\"a:b:pull\"", 0, RG_AUTH_BEARER, "x",
     "", "a:b:pull", "insufficient_scope", ""},
    {"Bearer realm = \"x\" , service = \"y\"", 0, RG_AUTH_BEARER, "x", "y", "", "", ""},
    {"Bearer realm=\"x\",,service=\"y\"", 0, RG_AUTH_BEARER, "x", "y", "", "", ""},
    {"Bearer realm=\"https://a/t?x=1,2\",service=\"s\"", 0, RG_AUTH_BEARER, "https://a/t?x=1,2",
     "s", "", "", ""},
    {"Bearer foo=\"bar\",realm=\"x\"", 0, RG_AUTH_BEARER, "x", "", "", "", ""},
    {"", 0, RG_AUTH_NONE, "", "", "", "", ""},
    {"  ,  ", 0, RG_AUTH_NONE, "", "", "", "", ""},
    {"Bearer", 0, RG_AUTH_BEARER, "", "", "", "", ""},
    {"Digest realm=\"d\", nonce=\"n\", Bearer realm=\"b\"", 0, RG_AUTH_BEARER, "b", "", "", "",
     "Digest"},
    {"Bearer\trealm=\"tab\"", 0, RG_AUTH_BEARER, "tab", "", "", "", ""},
    /* malformed */
    {"Bearer realm=\"unterminated", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"Bearer realm=", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"Bearer realm=\"x\" junk", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"Bearer realm=\"x\",realm=\"y\"", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"Bearer REALM=\"x\",realm=\"y\"", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"=\"x\"", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"Bearer realm=\"a\x01b\"", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"Bearer realm=@", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"Bearer=realm", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"Bearer realm=\"x\" service=\"y\"", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"Bearer realm=\"x\\", -1, 0, NULL, NULL, NULL, NULL, NULL},
    {"\"Bearer\" realm=x", -1, 0, NULL, NULL, NULL, NULL, NULL},
};

static void test_challenge_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(challenge_cases) / sizeof(challenge_cases[0]); i++) {
		const struct challenge_case *c = &challenge_cases[i];
		struct rg_challenge ch;
		struct err e;
		int r;

		err_clear(&e);
		memset(&ch, 0x5a, sizeof(ch)); /* must be untouched on failure */
		r = rg_challenge_parse(c->header, &ch, &e);
		if (r != c->ok)
			fail_msg("case %zu '%s': got %d (%s), want %d", i, c->header, r, e.msg,
				 c->ok);
		if (r < 0) {
			assert_int_equal(e.cls, ERR_INPUT);
			assert_non_null(strstr(e.msg, "WWW-Authenticate"));
			assert_int_equal((unsigned char)ch.realm[0], 0x5a);
			continue;
		}
		if (ch.scheme != c->scheme)
			fail_msg("case %zu '%s': scheme %d, want %d", i, c->header, ch.scheme,
				 c->scheme);
		assert_string_equal(ch.realm, c->realm);
		assert_string_equal(ch.service, c->service);
		assert_string_equal(ch.scope, c->scope);
		assert_string_equal(ch.error, c->error);
		assert_string_equal(ch.other, c->other);
	}
}

static void test_challenge_limits(void **state)
{
	char *h = malloc(RG_CHALLENGE_HEADER_MAX + 64);
	struct rg_challenge ch;
	struct err e;
	size_t n;

	(void)state;
	assert_non_null(h);
	/* A header over the limit is refused before any parsing. */
	memset(h, 'a', RG_CHALLENGE_HEADER_MAX + 1);
	memcpy(h, "Bearer realm=", 13);
	h[RG_CHALLENGE_HEADER_MAX + 1] = '\0';
	assert_int_equal(rg_challenge_parse(h, &ch, &e), -1);
	assert_non_null(strstr(e.msg, "longer than"));
	/* A value over the limit (quoted and token) is refused. */
	n = (size_t)sprintf(h, "Bearer realm=\"");
	memset(h + n, 'r', RG_CHALLENGE_VALUE_MAX);
	strcpy(h + n + RG_CHALLENGE_VALUE_MAX, "\"");
	assert_int_equal(rg_challenge_parse(h, &ch, &e), -1);
	n = (size_t)sprintf(h, "Bearer realm=");
	memset(h + n, 'r', RG_CHALLENGE_VALUE_MAX + 1);
	h[n + RG_CHALLENGE_VALUE_MAX + 1] = '\0';
	assert_int_equal(rg_challenge_parse(h, &ch, &e), -1);
	/* The longest value that fits is kept whole. */
	n = (size_t)sprintf(h, "Bearer realm=\"");
	memset(h + n, 'r', RG_CHALLENGE_VALUE_MAX - 1);
	strcpy(h + n + RG_CHALLENGE_VALUE_MAX - 1, "\"");
	assert_int_equal(rg_challenge_parse(h, &ch, &e), 0);
	assert_int_equal(strlen(ch.realm), RG_CHALLENGE_VALUE_MAX - 1);
	free(h);
}

/* ---- token answers and Basic ---- */

static void test_token_response(void **state)
{
	char *tok = NULL;
	long ttl = 0;
	struct err e;

	(void)state;
#define PARSE(s) rg_token_response_parse(s, strlen(s), &tok, &ttl, &e)
	assert_int_equal(PARSE("{\"token\":\"abc.def\",\"expires_in\":300}"), 0);
	assert_string_equal(tok, "abc.def");
	assert_int_equal(ttl, 300);
	free(tok);
	assert_int_equal(PARSE("{\"access_token\":\"zz\"}"), 0);
	assert_string_equal(tok, "zz");
	assert_int_equal(ttl, RG_TOKEN_DEFAULT_TTL);
	free(tok);
	/* "token" wins over "access_token"; an empty token falls back. */
	assert_int_equal(PARSE("{\"token\":\"t1\",\"access_token\":\"t2\"}"), 0);
	assert_string_equal(tok, "t1");
	free(tok);
	assert_int_equal(PARSE("{\"token\":\"\",\"access_token\":\"t2\"}"), 0);
	assert_string_equal(tok, "t2");
	free(tok);
	/* expires_in is raised to the minimum and capped at a day. */
	assert_int_equal(PARSE("{\"token\":\"t\",\"expires_in\":5}"), 0);
	assert_int_equal(ttl, RG_TOKEN_DEFAULT_TTL);
	free(tok);
	assert_int_equal(PARSE("{\"token\":\"t\",\"expires_in\":1e12}"), 0);
	assert_int_equal(ttl, 86400);
	free(tok);
	assert_int_equal(PARSE("{\"token\":\"t\",\"expires_in\":\"600\"}"), 0);
	assert_int_equal(ttl, RG_TOKEN_DEFAULT_TTL);
	free(tok);
	tok = NULL;
	assert_int_equal(PARSE("{}"), -1);
	assert_int_equal(PARSE("[\"token\"]"), -1);
	assert_int_equal(PARSE("not json"), -1);
	assert_int_equal(PARSE("{\"token\":\"a b\"}"), -1);
	assert_int_equal(PARSE("{\"token\":\"a\\r\\nX-Injected: 1\"}"), -1);
	assert_int_equal(PARSE("{\"token\":42}"), -1);
	assert_null(tok);
#undef PARSE
}

static void test_basic_header(void **state)
{
	struct rg_creds *c = NULL;
	char *h = NULL;
	struct err e;

	(void)state;
	assert_int_equal(rg_creds_from_userpass("user:pass", &c, &e), 0);
	assert_int_equal(rg_basic_header(c, &h, &e), 0);
	assert_string_equal(h, "Basic dXNlcjpwYXNz");
	free(h);
	rg_creds_free(c);
	/* The password may hold ':'; only the first one splits. */
	assert_int_equal(rg_creds_from_userpass("a:b:c", &c, &e), 0);
	assert_string_equal(c->username, "a");
	assert_string_equal(c->password, "b:c");
	rg_creds_free(c);
	assert_int_equal(rg_creds_from_userpass("u:", &c, &e), 0);
	assert_string_equal(c->password, "");
	rg_creds_free(c);
	c = NULL;
	assert_int_equal(rg_creds_from_userpass(":secretpw", &c, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_null(strstr(e.msg, "secretpw"));
	assert_int_equal(rg_creds_from_userpass("secretpw", &c, &e), -1);
	assert_null(strstr(e.msg, "secretpw"));
	assert_null(c);
}

/* ---- auth files ---- */

static int lookup(const char *json, const char *key, const char *path, struct rg_authfile_hit *h,
		  struct err *e)
{
	memset(h, 0, sizeof(*h));
	return rg_authfile_lookup_buf(json, strlen(json), "/x/auth.json", key, path, h, e);
}

static void test_authfile_auths(void **state)
{
	struct rg_authfile_hit h;
	struct err e;

	(void)state;
	/* base64("user:pa:ss") */
	assert_int_equal(lookup("{\"auths\":{\"localhost:5000\":{\"auth\":\"dXNlcjpwYTpzcw==\"}}}",
				"localhost:5000", "app", &h, &e),
			 1);
	assert_string_equal(h.creds->username, "user");
	assert_string_equal(h.creds->password, "pa:ss");
	assert_null(h.creds->identity_token);
	assert_null(h.helper);
	rg_authfile_hit_clear(&h);
	/* Padding is optional. */
	assert_int_equal(lookup("{\"auths\":{\"localhost:5000\":{\"auth\":\"dXNlcjpwYTpzcw\"}}}",
				"localhost:5000", NULL, &h, &e),
			 1);
	assert_string_equal(h.creds->password, "pa:ss");
	rg_authfile_hit_clear(&h);
	/* username/password fields */
	assert_int_equal(
	    lookup("{\"auths\":{\"r.example\":{\"username\":\"u\",\"password\":\"p\"}}}",
		   "r.example", NULL, &h, &e),
	    1);
	assert_string_equal(h.creds->username, "u");
	assert_string_equal(h.creds->password, "p");
	rg_authfile_hit_clear(&h);
	/* identitytoken, with the user from auth ("user:") */
	assert_int_equal(lookup("{\"auths\":{\"r.example\":{\"auth\":\"dXNlcjo=\","
				"\"identitytoken\":\"rt-1\"}}}",
				"r.example", NULL, &h, &e),
			 1);
	assert_string_equal(h.creds->username, "user");
	assert_string_equal(h.creds->identity_token, "rt-1");
	rg_authfile_hit_clear(&h);
	/* an identity token alone */
	assert_int_equal(lookup("{\"auths\":{\"r.example\":{\"identitytoken\":\"rt-2\"}}}",
				"r.example", NULL, &h, &e),
			 1);
	assert_string_equal(h.creds->username, "");
	assert_null(h.creds->password);
	assert_string_equal(h.creds->identity_token, "rt-2");
	rg_authfile_hit_clear(&h);
	/* no entry, other registries, no auths at all */
	assert_int_equal(lookup("{\"auths\":{\"other:5000\":{\"auth\":\"dXNlcjpw\"}}}",
				"localhost:5000", NULL, &h, &e),
			 0);
	assert_int_equal(lookup("{}", "localhost:5000", NULL, &h, &e), 0);
	/* an empty entry (docker desktop leaves those) is no match */
	assert_int_equal(
	    lookup("{\"auths\":{\"localhost:5000\":{}}}", "localhost:5000", NULL, &h, &e), 0);
}

static void test_authfile_keys(void **state)
{
	static const char hub[] =
	    "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"aHViOnB3\"}}}";
	struct rg_authfile_hit h;
	struct err e;
	char n[256];

	(void)state;
	rg_registry_key_normalize("https://index.docker.io/v1/", n, sizeof(n));
	assert_string_equal(n, "docker.io");
	rg_registry_key_normalize("registry-1.docker.io", n, sizeof(n));
	assert_string_equal(n, "docker.io");
	rg_registry_key_normalize("http://LocalHost:5000/v2/", n, sizeof(n));
	assert_string_equal(n, "localhost:5000");
	rg_registry_key_normalize("quay.io/org/", n, sizeof(n));
	assert_string_equal(n, "quay.io/org");
	rg_registry_key_normalize("https://quay.io/v1", n, sizeof(n));
	assert_string_equal(n, "quay.io");

	/* Docker Hub's key, asked for in every spelling. */
	assert_int_equal(lookup(hub, "https://index.docker.io/v1/", "library/busybox", &h, &e), 1);
	assert_string_equal(h.creds->username, "hub");
	rg_authfile_hit_clear(&h);
	assert_int_equal(lookup(hub, "docker.io", NULL, &h, &e), 1);
	rg_authfile_hit_clear(&h);
	assert_int_equal(lookup("{\"auths\":{\"docker.io\":{\"auth\":\"aHViOnB3\"}}}",
				"https://index.docker.io/v1/", NULL, &h, &e),
			 1);
	rg_authfile_hit_clear(&h);
	/* Scheme and /v2/ forms of a private registry's key. */
	assert_int_equal(lookup("{\"auths\":{\"https://localhost:5000/v2/\":{\"auth\":\"dTpw\"}}}",
				"localhost:5000", NULL, &h, &e),
			 1);
	assert_string_equal(h.creds->username, "u");
	rg_authfile_hit_clear(&h);
	assert_int_equal(lookup("{\"auths\":{\"http://localhost:5000\":{\"auth\":\"dTpw\"}}}",
				"localhost:5000", NULL, &h, &e),
			 1);
	rg_authfile_hit_clear(&h);
	/* A port is part of the registry. */
	assert_int_equal(lookup("{\"auths\":{\"localhost\":{\"auth\":\"dTpw\"}}}", "localhost:5000",
				NULL, &h, &e),
			 0);
	/* Namespaced keys (containers auth.json): the most specific wins,
	 * and they never match another namespace. */
	{
		static const char ns[] = "{\"auths\":{"
					 "\"quay.io\":{\"auth\":\"cm9vdDpw\"},"
					 "\"quay.io/org\":{\"auth\":\"b3JnOnA=\"},"
					 "\"quay.io/org/app\":{\"auth\":\"YXBwOnA=\"}}}";

		assert_int_equal(lookup(ns, "quay.io", "org/app", &h, &e), 1);
		assert_string_equal(h.creds->username, "app");
		rg_authfile_hit_clear(&h);
		assert_int_equal(lookup(ns, "quay.io", "org/other", &h, &e), 1);
		assert_string_equal(h.creds->username, "org");
		rg_authfile_hit_clear(&h);
		assert_int_equal(lookup(ns, "quay.io", "elsewhere/app", &h, &e), 1);
		assert_string_equal(h.creds->username, "root");
		rg_authfile_hit_clear(&h);
		assert_int_equal(lookup(ns, "quay.io", "organisation/app", &h, &e), 1);
		assert_string_equal(h.creds->username, "root");
		rg_authfile_hit_clear(&h);
	}
}

static void test_authfile_helpers(void **state)
{
	struct rg_authfile_hit h;
	struct err e;

	(void)state;
	assert_int_equal(lookup("{\"credHelpers\":{\"gcr.io\":\"gcloud\"},"
				"\"auths\":{\"gcr.io\":{\"auth\":\"dTpw\"}}}",
				"gcr.io", NULL, &h, &e),
			 1);
	assert_string_equal(h.helper, "gcloud");
	assert_false(h.helper_is_store);
	assert_null(h.creds);
	rg_authfile_hit_clear(&h);
	/* auths beat credsStore; credsStore is used when auths has nothing */
	assert_int_equal(
	    lookup("{\"credsStore\":\"desktop\",\"auths\":{\"a.io\":{\"auth\":\"dTpw\"},"
		   "\"b.io\":{}}}",
		   "a.io", NULL, &h, &e),
	    1);
	assert_non_null(h.creds);
	assert_null(h.helper);
	rg_authfile_hit_clear(&h);
	assert_int_equal(
	    lookup("{\"credsStore\":\"desktop\",\"auths\":{\"a.io\":{\"auth\":\"dTpw\"},"
		   "\"b.io\":{}}}",
		   "b.io", NULL, &h, &e),
	    1);
	assert_string_equal(h.helper, "desktop");
	assert_true(h.helper_is_store);
	rg_authfile_hit_clear(&h);
	/* a helper name must not be a path */
	assert_int_equal(
	    lookup("{\"credHelpers\":{\"x.io\":\"../../bin/sh\"}}", "x.io", NULL, &h, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_int_equal(lookup("{\"credsStore\":\"a/b\"}", "x.io", NULL, &h, &e), -1);
	assert_int_equal(lookup("{\"credsStore\":\"\"}", "x.io", NULL, &h, &e), 0);
}

static void test_authfile_malformed(void **state)
{
	static const char *const bad[] = {
	    "{\"auths\":{\"r.io\":{\"auth\":\"!!!!c2VjcmV0\"}}}", /* not base64 */
	    "{\"auths\":{\"r.io\":{\"auth\":\"c2VjcmV0\"}}}",	  /* "secret": no ':' */
	    "{\"auths\":{\"r.io\":{\"auth\":42}}}",
	    "{\"auths\":{\"r.io\":\"c2VjcmV0\"}}",
	    "{\"auths\":[]}",
	    "{\"credHelpers\":\"x\"}",
	    "[]",
	    "{\"auths\":{\"r.io\":{\"auth\":\"secret-value\"",
	    "{\"auths\":{},\"auths\":{}}",
	    "{\"auths\":{\"r.io\":{\"username\":\"u\"}}}",
	    "{\"credHelpers\":{\"r.io\":7}}",
	};
	struct rg_authfile_hit h;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		if (lookup(bad[i], "r.io", NULL, &h, &e) != -1)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_int_equal(e.cls, ERR_INPUT);
		/* the file is named, its secrets are not */
		assert_non_null(strstr(e.msg, "/x/auth.json"));
		assert_null(strstr(e.msg, "secret"));
		assert_null(strstr(e.msg, "c2VjcmV0"));
	}
}

/* ---- files, helpers, chain (temporary directory) ---- */

struct tmp {
	char dir[PATH_MAX];
	char *old_path;
};

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));
	char path[PATH_MAX * 2];
	const char *old = getenv("PATH");

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "%s/inlay-test-auth-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(t->dir))
		return -1;
	/* A fake credential helper: answers for two servers, "not found"
	 * for others, fails loudly for "boom", floods for "flood". */
	write_file(t->dir, "docker-credential-fake",
		   "#!/bin/sh\n"
		   "[ \"$1\" = get ] || exit 2\n"
		   "read -r server || true\n"
		   "case \"$server\" in\n"
		   "helper.example) printf '{\"ServerURL\":\"%s\",\"Username\":\"hu\","
		   "\"Secret\":\"hs\"}' \"$server\" ;;\n"
		   "token.example) printf '{\"Username\":\"<token>\",\"Secret\":\"idt\"}' ;;\n"
		   "boom) echo 'helper exploded' ; exit 3 ;;\n"
		   "flood) head -c 200000 /dev/zero | tr '\\0' a ;;\n"
		   "garbage) echo 'not json' ;;\n"
		   "*) echo 'credentials not found in native keychain' ; exit 1 ;;\n"
		   "esac\n",
		   0755);
	t->old_path = old ? strdup(old) : NULL;
	snprintf(path, sizeof(path), "%s:%s", t->dir, old ? old : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[PATH_MAX + 16];

	if (t->old_path)
		setenv("PATH", t->old_path, 1);
	free(t->old_path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void test_cred_helper(void **state)
{
	struct rg_creds *c = NULL;
	struct err e;

	(void)state;
	assert_int_equal(rg_cred_helper_get("fake", "helper.example", &c, &e), 1);
	assert_string_equal(c->username, "hu");
	assert_string_equal(c->password, "hs");
	assert_null(c->identity_token);
	rg_creds_free(c);
	c = NULL;
	assert_int_equal(rg_cred_helper_get("fake", "token.example", &c, &e), 1);
	assert_string_equal(c->username, "");
	assert_null(c->password);
	assert_string_equal(c->identity_token, "idt");
	rg_creds_free(c);
	c = NULL;
	assert_int_equal(rg_cred_helper_get("fake", "unknown.example", &c, &e), 0);
	assert_null(c);
	assert_int_equal(rg_cred_helper_get("fake", "boom", &c, &e), -1);
	assert_non_null(strstr(e.msg, "docker-credential-fake"));
	assert_non_null(strstr(e.msg, "exit status 3"));
	assert_int_equal(rg_cred_helper_get("fake", "flood", &c, &e), -1);
	assert_non_null(strstr(e.msg, "larger than"));
	assert_int_equal(rg_cred_helper_get("fake", "garbage", &c, &e), -1);
	assert_non_null(strstr(e.msg, "not JSON"));
	assert_int_equal(rg_cred_helper_get("not-installed-anywhere", "x", &c, &e), -1);
	assert_int_equal(e.sys_errno, ENOENT);
	assert_int_equal(rg_cred_helper_get("../fake", "x", &c, &e), -1);
	assert_null(c);
}

static void test_authfile_from_file(void **state)
{
	struct tmp *t = *state;
	struct rg_authfile_hit h = {0};
	char p[PATH_MAX + 32];
	struct err e;
	FILE *f;

	snprintf(p, sizeof(p), "%s/nonexistent.json", t->dir);
	assert_int_equal(rg_authfile_lookup(p, false, "r.io", NULL, &h, &e), 0);
	assert_int_equal(rg_authfile_lookup(p, true, "r.io", NULL, &h, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, p));
	write_file(t->dir, "bad.json", "{\"auths\": {", 0600);
	snprintf(p, sizeof(p), "%s/bad.json", t->dir);
	assert_int_equal(rg_authfile_lookup(p, false, "r.io", NULL, &h, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, p));
	/* Over the size limit: refused, not read. */
	snprintf(p, sizeof(p), "%s/big.json", t->dir);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fseek(f, RG_AUTHFILE_MAX + 1, SEEK_SET), 0);
	fputc(' ', f);
	fclose(f);
	assert_int_equal(rg_authfile_lookup(p, false, "r.io", NULL, &h, &e), -1);
	assert_non_null(strstr(e.msg, "at most"));
	/* A directory is not an auth file. */
	assert_int_equal(rg_authfile_lookup(t->dir, false, "r.io", NULL, &h, &e), -1);
}

static void set_env_dirs(struct tmp *t)
{
	char p[PATH_MAX + 32];

	snprintf(p, sizeof(p), "%s/xdg", t->dir);
	mkdir(p, 0700);
	setenv("XDG_RUNTIME_DIR", p, 1);
	snprintf(p, sizeof(p), "%s/xdg/containers", t->dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/dockercfg", t->dir);
	mkdir(p, 0700);
	setenv("DOCKER_CONFIG", p, 1);
	unsetenv("REGISTRY_AUTH_FILE");
}

static void test_creds_chain(void **state)
{
	struct tmp *t = *state;
	struct rg_options o = {0};
	struct rg_creds *c = NULL;
	char p[PATH_MAX + 32], sub[PATH_MAX + 32];
	struct err e;

	set_env_dirs(t);
	/* docker config.json only */
	snprintf(sub, sizeof(sub), "%s/dockercfg", t->dir);
	write_file(sub, "config.json",
		   "{\"auths\":{\"r.io\":{\"auth\":\"ZG9ja2VyOnB3\"}},"
		   "\"credHelpers\":{\"helper.example\":\"fake\"},\"credsStore\":\"fake\"}",
		   0600);
	assert_int_equal(rg_creds_lookup("r.io", "app", &o, &c, &e), 0);
	assert_non_null(c);
	assert_string_equal(c->username, "docker");
	rg_creds_free(c);
	/* credHelpers runs the helper with the registry on stdin */
	assert_int_equal(rg_creds_lookup("helper.example", NULL, &o, &c, &e), 0);
	assert_non_null(c);
	assert_string_equal(c->username, "hu");
	rg_creds_free(c);
	/* credsStore that knows nothing: anonymous */
	assert_int_equal(rg_creds_lookup("nothing.example", NULL, &o, &c, &e), 0);
	assert_null(c);
	/* a failing credHelper is an error naming the file */
	write_file(sub, "config.json", "{\"credHelpers\":{\"boom\":\"fake\"}}", 0600);
	assert_int_equal(rg_creds_lookup("boom", NULL, &o, &c, &e), -1);
	assert_non_null(strstr(e.msg, "config.json"));
	/* a credsStore that is not installed is no match */
	write_file(sub, "config.json", "{\"credsStore\":\"missing-store\"}", 0600);
	assert_int_equal(rg_creds_lookup("r.io", NULL, &o, &c, &e), 0);
	assert_null(c);

	/* $XDG_RUNTIME_DIR/containers/auth.json comes before docker's */
	write_file(sub, "config.json", "{\"auths\":{\"r.io\":{\"auth\":\"ZG9ja2VyOnB3\"}}}", 0600);
	snprintf(p, sizeof(p), "%s/xdg/containers", t->dir);
	write_file(p, "auth.json", "{\"auths\":{\"r.io\":{\"auth\":\"eGRnOnB3\"}}}", 0600);
	assert_int_equal(rg_creds_lookup("r.io", NULL, &o, &c, &e), 0);
	assert_string_equal(c->username, "xdg");
	rg_creds_free(c);
	/* ...but a file without an entry passes the question on */
	assert_int_equal(rg_creds_lookup("s.io", NULL, &o, &c, &e), 0);
	assert_null(c);
	write_file(sub, "config.json", "{\"auths\":{\"s.io\":{\"auth\":\"ZG9ja2VyOnB3\"}}}", 0600);
	assert_int_equal(rg_creds_lookup("s.io", NULL, &o, &c, &e), 0);
	assert_string_equal(c->username, "docker");
	rg_creds_free(c);

	/* $REGISTRY_AUTH_FILE before both; a missing one is skipped */
	snprintf(p, sizeof(p), "%s/missing.json", t->dir);
	setenv("REGISTRY_AUTH_FILE", p, 1);
	assert_int_equal(rg_creds_lookup("r.io", NULL, &o, &c, &e), 0);
	assert_string_equal(c->username, "xdg");
	rg_creds_free(c);
	write_file(t->dir, "env.json", "{\"auths\":{\"r.io\":{\"auth\":\"ZW52OnB3\"}}}", 0600);
	snprintf(p, sizeof(p), "%s/env.json", t->dir);
	setenv("REGISTRY_AUTH_FILE", p, 1);
	assert_int_equal(rg_creds_lookup("r.io", NULL, &o, &c, &e), 0);
	assert_string_equal(c->username, "env");
	rg_creds_free(c);

	/* --authfile before that; it must exist */
	write_file(t->dir, "flag.json", "{\"auths\":{\"r.io\":{\"auth\":\"ZmxhZzpwdw==\"}}}", 0600);
	snprintf(p, sizeof(p), "%s/flag.json", t->dir);
	o.authfile = p;
	assert_int_equal(rg_creds_lookup("r.io", NULL, &o, &c, &e), 0);
	assert_string_equal(c->username, "flag");
	rg_creds_free(c);
	snprintf(sub, sizeof(sub), "%s/nope.json", t->dir);
	o.authfile = sub;
	assert_int_equal(rg_creds_lookup("r.io", NULL, &o, &c, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);

	/* --creds before everything */
	o.creds = "cli:pw";
	assert_int_equal(rg_creds_lookup("r.io", NULL, &o, &c, &e), 0);
	assert_string_equal(c->username, "cli");
	assert_string_equal(c->password, "pw");
	rg_creds_free(c);
	o.creds = "broken";
	assert_int_equal(rg_creds_lookup("r.io", NULL, &o, &c, &e), -1);
	assert_non_null(strstr(e.msg, "--creds"));
	unsetenv("REGISTRY_AUTH_FILE");
}

/* ---- URLs ---- */

static void expect_resolve(const char *base, const char *loc, const char *want)
{
	char *out = NULL;
	struct err e;

	if (rg_url_resolve(base, loc, &out, &e) < 0)
		fail_msg("resolve '%s' against '%s': %s", loc, base, e.msg);
	assert_string_equal(out, want);
	free(out);
}

static void test_url_resolve(void **state)
{
	char *out = NULL;
	struct err e;

	(void)state;
	expect_resolve("http://r:5000/v2/a/blobs/uploads/", "/v2/a/blobs/uploads/u1?_state=x",
		       "http://r:5000/v2/a/blobs/uploads/u1?_state=x");
	expect_resolve("https://r/v2/a/blobs/uploads/", "u2", "https://r/v2/a/blobs/uploads/u2");
	expect_resolve("https://r/v2/a/blobs/x", "../b/y?z=1", "https://r/v2/a/b/y?z=1");
	expect_resolve("https://r/v2/", "https://s3.example/bucket/key?sig=abc",
		       "https://s3.example/bucket/key?sig=abc");
	expect_resolve("https://r/v2/", "//cdn.example/blob", "https://cdn.example/blob");
	expect_resolve("http://[::1]:5000/v2/", "/v2/x", "http://[::1]:5000/v2/x");
	assert_int_equal(rg_url_resolve("https://r/v2/", "ftp://x/y", &out, &e), -1);
	assert_int_equal(rg_url_resolve("https://r/v2/", "file:///etc/passwd", &out, &e), -1);
	assert_int_equal(rg_url_resolve("https://r/v2/", "/a b", &out, &e), -1);
	assert_int_equal(rg_url_resolve("https://r/v2/", "/a\r\nX: y", &out, &e), -1);
	assert_int_equal(rg_url_resolve("https://r/v2/", "", &out, &e), -1);
	assert_null(out);
}

static void test_url_query(void **state)
{
	char *out = NULL;
	struct err e;

	(void)state;
	assert_int_equal(rg_url_add_query("http://r/v2/a/blobs/uploads/u?_state=x%2By", "digest",
					  "sha256:abc", &out, &e),
			 0);
	assert_string_equal(out, "http://r/v2/a/blobs/uploads/u?_state=x%2By&digest=sha256%3aabc");
	free(out);
	assert_int_equal(rg_url_add_query("http://r/v2/u", "digest", "sha256:abc", &out, &e), 0);
	assert_string_equal(out, "http://r/v2/u?digest=sha256%3aabc");
	free(out);
	assert_int_equal(rg_url_add_query("http://r/v2/u?", "from", "a/b c&d", &out, &e), 0);
	assert_string_equal(out, "http://r/v2/u?from=a%2fb+c%26d");
	free(out);
}

static void test_url_origin(void **state)
{
	char m[256];

	(void)state;
	assert_true(rg_url_same_origin("https://r.io/v2/x", "https://R.IO:443/other?q"));
	assert_true(rg_url_same_origin("http://r.io:80/a", "http://r.io/b"));
	assert_false(rg_url_same_origin("https://r.io/a", "http://r.io/a"));
	assert_false(rg_url_same_origin("https://r.io/a", "https://r.io:5000/a"));
	assert_false(rg_url_same_origin("https://r.io/a", "https://s3.r.io/a"));
	assert_false(rg_url_same_origin("https://r.io/a", "not a url"));
	assert_true(rg_url_is_loopback("http://localhost:5000/v2/"));
	assert_true(rg_url_is_loopback("http://127.1.2.3/"));
	assert_true(rg_url_is_loopback("http://[::1]:5000/"));
	assert_false(rg_url_is_loopback("http://128.0.0.1/"));
	assert_false(rg_url_is_loopback("http://localhost.evil.example/"));
	assert_false(rg_url_is_loopback("http://[::2]/"));
	rg_url_for_message("https://user:secret@r.io/v2/x?sig=secret#f", m, sizeof(m));
	assert_string_equal(m, "https://r.io/v2/x");
	rg_url_for_message("http://r.io/a?b", m, sizeof(m));
	assert_string_equal(m, "http://r.io/a");
}

static void test_retry_after(void **state)
{
	long long now = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */

	(void)state;
	assert_int_equal(rg_retry_after_seconds("3", now), 3);
	assert_int_equal(rg_retry_after_seconds(" 0 ", now), 0);
	assert_int_equal(rg_retry_after_seconds("3600", now), RG_HTTP_RETRY_AFTER_MAX);
	assert_int_equal(rg_retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now), 10);
	assert_int_equal(rg_retry_after_seconds("Wed, 21 Oct 2015 07:00:00 GMT", now), 0);
	assert_int_equal(rg_retry_after_seconds("Thu, 22 Oct 2015 07:28:00 GMT", now),
			 RG_HTTP_RETRY_AFTER_MAX);
	assert_int_equal(rg_retry_after_seconds("soon", now), -1);
	assert_int_equal(rg_retry_after_seconds("5s", now), -1);
	assert_int_equal(rg_retry_after_seconds("99999999999999999999999", now), -1);
}

/* ---- http.c against a scripted loopback server ----
 *
 * One thread answers one request per connection (Connection: close) from a
 * script keyed by path, and logs whether each request carried an
 * Authorization header. "localhost" and "127.0.0.1" are different origins
 * on the same port: that is how a redirect to "another host" is made. */

#define SRV_LOG_MAX 32

struct srv {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	char paths[SRV_LOG_MAX][128];
	bool auth[SRV_LOG_MAX];
	int n, busy_left;
};

static void srv_reply(int c, const char *status, const char *extra, const char *body)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, extra, strlen(body));

	if (write(c, head, (size_t)n) < 0 || write(c, body, strlen(body)) < 0)
		return;
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	char req[8192], path[128], loc[256];
	int c;

	while ((c = accept(s->fd, NULL, NULL)) >= 0) {
		size_t got = 0;
		ssize_t r;
		bool auth;

		while (got < sizeof(req) - 1 &&
		       (r = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
			got += (size_t)r;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[got] = '\0';
		if (sscanf(req, "%*s %127s", path) != 1)
			path[0] = '\0';
		auth = strcasestr(req, "\r\nAuthorization:") != NULL;
		pthread_mutex_lock(&s->lock);
		if (s->n < SRV_LOG_MAX) {
			snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
			s->auth[s->n++] = auth;
		}
		pthread_mutex_unlock(&s->lock);
		if (strcmp(path, "/start") == 0) {
			snprintf(loc, sizeof(loc),
				 "Location: http://localhost:%d/storage?sig=1\r\n", s->port);
			srv_reply(c, "307 Temporary Redirect", loc, "");
		} else if (strncmp(path, "/storage", 8) == 0) {
			srv_reply(c, "200 OK", "", "blob-bytes");
		} else if (strcmp(path, "/rel") == 0) {
			srv_reply(c, "302 Found", "Location: same?x=1\r\n", "");
		} else if (strcmp(path, "/same?x=1") == 0) {
			srv_reply(c, "200 OK", "", "same-origin");
		} else if (strcmp(path, "/busy") == 0 && s->busy_left-- > 0) {
			srv_reply(c, "503 Service Unavailable", "Retry-After: 0\r\n", "busy");
		} else if (strcmp(path, "/busy") == 0) {
			srv_reply(c, "200 OK", "", "ok");
		} else if (strcmp(path, "/loop") == 0) {
			srv_reply(c, "302 Found", "Location: /loop\r\n", "");
		} else if (strcmp(path, "/evil") == 0) {
			srv_reply(c, "302 Found", "Location: file:///etc/passwd\r\n", "");
		} else if (strcmp(path, "/big") == 0) {
			srv_reply(c, "200 OK", "", "0123456789abcdefghij");
		} else {
			srv_reply(c, "404 Not Found", "",
				  "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"no\"}]}");
		}
		close(c);
	}
	return NULL;
}

static int srv_setup(void **state)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);

	if (!s)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(s->fd, 16) < 0 || getsockname(s->fd, (struct sockaddr *)&a, &al) < 0)
		return -1;
	s->port = ntohs(a.sin_port);
	s->busy_left = 2;
	pthread_mutex_init(&s->lock, NULL);
	if (pthread_create(&s->thread, NULL, srv_main, s) != 0)
		return -1;
	*state = s;
	return 0;
}

static int srv_teardown(void **state)
{
	struct srv *s = *state;

	shutdown(s->fd, SHUT_RDWR); /* wakes accept() */
	pthread_join(s->thread, NULL);
	close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return 0;
}

static int srv_find(struct srv *s, const char *prefix)
{
	int i, r = -1;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n && r < 0; i++)
		if (strncmp(s->paths[i], prefix, strlen(prefix)) == 0)
			r = i;
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int srv_count(struct srv *s, const char *path)
{
	int i, n = 0;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n; i++)
		n += strcmp(s->paths[i], path) == 0;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void test_http_redirect_auth(void **state)
{
	struct srv *s = *state;
	struct rg_options o = {0};
	struct rg_http *h = NULL;
	struct rg_http_req req = {0};
	struct rg_http_resp resp;
	char url[128];
	struct buf body;
	struct err e;
	int i;

	o.max_attempts = 3;
	assert_int_equal(rg_http_new(&o, &h, &e), 0);
	buf_init(&body, 1024);
	req.method = "GET";
	req.authorization = "Basic c2VjcmV0OnNlY3JldA==";
	req.out = &body;
	req.follow_redirects = true;

	/* To another host: followed, without the Authorization header. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/start", s->port);
	req.url = url;
	assert_int_equal(rg_http_do(h, &req, &resp, &e), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(body.data, "blob-bytes");
	assert_non_null(strstr(resp.url, "localhost"));
	i = srv_find(s, "/start");
	assert_true(i >= 0 && s->auth[i]);
	i = srv_find(s, "/storage");
	assert_true(i >= 0);
	assert_false(s->auth[i]);
	rg_http_resp_clear(&resp);

	/* Relative, same origin: followed with it. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/rel", s->port);
	assert_int_equal(rg_http_do(h, &req, &resp, &e), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(body.data, "same-origin");
	i = srv_find(s, "/same");
	assert_true(i >= 0 && s->auth[i]);
	rg_http_resp_clear(&resp);

	/* Not followed when not asked: the 3xx comes back. */
	req.follow_redirects = false;
	assert_int_equal(rg_http_do(h, &req, &resp, &e), 0);
	assert_int_equal(resp.status, 302);
	assert_string_equal(resp.location, "same?x=1");
	rg_http_resp_clear(&resp);
	req.follow_redirects = true;

	/* Loops end; other schemes are refused. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/loop", s->port);
	assert_int_equal(rg_http_do(h, &req, &resp, &e), -1);
	assert_non_null(strstr(e.msg, "redirects"));
	assert_int_equal(srv_count(s, "/loop"), RG_HTTP_MAX_REDIRECTS + 1);
	rg_http_resp_clear(&resp);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/evil", s->port);
	assert_int_equal(rg_http_do(h, &req, &resp, &e), -1);
	assert_non_null(strstr(e.msg, "Location"));
	rg_http_resp_clear(&resp);
	for (i = 0; i < s->n; i++)
		assert_null(strstr(e.msg, "c2VjcmV0"));
	buf_free(&body);
	rg_http_free(h);
}

static void test_http_retry_and_limits(void **state)
{
	struct srv *s = *state;
	struct rg_options o = {0};
	struct rg_http *h = NULL;
	struct rg_http_req req = {0};
	struct rg_http_resp resp;
	struct buf body, errb;
	char url[128];
	struct err e;

	o.max_attempts = 3;
	assert_int_equal(rg_http_new(&o, &h, &e), 0);
	buf_init(&body, 10);
	buf_init(&errb, 4096);
	req.method = "GET";
	req.url = url;
	req.out = &body;
	req.err_body = &errb;

	/* 503 twice (Retry-After: 0), then 200: three attempts. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/busy", s->port);
	assert_int_equal(rg_http_do(h, &req, &resp, &e), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(body.data, "ok");
	assert_int_equal(srv_count(s, "/busy"), 3);
	rg_http_resp_clear(&resp);

	/* A body over the buffer's limit is an error, flagged as such. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", s->port);
	assert_int_equal(rg_http_do(h, &req, &resp, &e), -1);
	assert_true(resp.too_large);
	assert_int_equal(srv_count(s, "/big"), 1); /* not retried */
	rg_http_resp_clear(&resp);

	/* An error status is a response; its body lands in err_body. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/missing", s->port);
	assert_int_equal(rg_http_do(h, &req, &resp, &e), 0);
	assert_int_equal(resp.status, 404);
	assert_non_null(strstr(errb.data, "NAME_UNKNOWN"));
	assert_int_equal(body.len, 0);
	rg_http_resp_clear(&resp);

	/* Nobody listening: a transport error after max_attempts tries. */
	snprintf(url, sizeof(url), "http://127.0.0.1:1/x");
	req.no_retry = true;
	assert_int_equal(rg_http_do(h, &req, &resp, &e), -1);
	assert_int_equal(resp.status, 0);
	assert_non_null(strstr(e.msg, "127.0.0.1:1/x"));
	rg_http_resp_clear(&resp);
	buf_free(&body);
	buf_free(&errb);
	rg_http_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_challenge_table),
	    cmocka_unit_test(test_challenge_limits),
	    cmocka_unit_test(test_token_response),
	    cmocka_unit_test(test_basic_header),
	    cmocka_unit_test(test_authfile_auths),
	    cmocka_unit_test(test_authfile_keys),
	    cmocka_unit_test(test_authfile_helpers),
	    cmocka_unit_test(test_authfile_malformed),
	    cmocka_unit_test_setup_teardown(test_cred_helper, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_authfile_from_file, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_creds_chain, tmp_setup, tmp_teardown),
	    cmocka_unit_test(test_url_resolve),
	    cmocka_unit_test(test_url_query),
	    cmocka_unit_test(test_url_origin),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test_setup_teardown(test_http_redirect_auth, srv_setup, srv_teardown),
	    cmocka_unit_test_setup_teardown(test_http_retry_and_limits, srv_setup, srv_teardown),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
