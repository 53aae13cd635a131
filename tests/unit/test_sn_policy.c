/* test_sn_policy.c - the sensor's policy matcher and learn-mode profile
 * (sensor-blob/policy.c): which documents it accepts (the table shared with
 * inlay's own parser), what each rule allows and refuses, and that a learned
 * profile, emitted as events and read back as a policy, allows exactly what
 * was observed. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../sensor-blob/json.h"
#include "../../sensor-blob/policy.h"
#include "policy_cases.h"

/* Build a policy from JSON text; fails the test when it is refused. */
static struct sn_policy *policy(const char *json)
{
	struct sn_json_doc *doc = NULL;
	struct sn_policy *p = NULL;
	struct sn_err e;

	if (sn_json_parse(json, strlen(json), &doc, &e) < 0)
		fail_msg("JSON refused: %s: %s", json, e.msg);
	if (sn_policy_new(sn_json_root(doc), &p, &e) < 0)
		fail_msg("policy refused: %s: %s", json, e.msg);
	sn_json_free(doc);
	return p;
}

/* The error for a document, or NULL when it is accepted. */
static const char *refusal(const char *json, size_t len, struct sn_err *e)
{
	struct sn_json_doc *doc = NULL;
	struct sn_policy *p = NULL;
	int r;

	if (sn_json_parse(json, len, &doc, e) < 0)
		return e->msg;
	r = sn_policy_new(sn_json_root(doc), &p, e);
	sn_json_free(doc);
	sn_policy_free(p);
	return r < 0 ? e->msg : NULL;
}

static void shared_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < POLICY_CASES; i++) {
		const struct policy_case *c = &policy_cases[i];
		struct sn_err e;
		const char *why = refusal(c->json, strlen(c->json), &e);

		if (!c->error_part && why)
			fail_msg("case %zu (%s) refused: %s", i, c->json, why);
		if (c->error_part && !why)
			fail_msg("case %zu (%s) accepted", i, c->json);
		if (c->error_part && !strstr(why, c->error_part))
			fail_msg("case %zu: '%s' does not mention '%s'", i, why, c->error_part);
	}
}

static void limits(void **state)
{
	size_t cap = 4200 * 12 + 64, o, i;
	char *doc = malloc(cap), *rule = malloc(4200);
	struct sn_err e;
	const char *why;

	(void)state;
	assert_non_null(doc);
	assert_non_null(rule);
	/* 4096 rules are fine, 4097 are not. */
	o = (size_t)snprintf(doc, cap, "{\"net\":{\"listen\":[");
	for (i = 0; i < 4096; i++)
		o += (size_t)snprintf(doc + o, cap - o, "%s\"tcp:%zu\"", i ? "," : "",
				      i % 65535 + 1);
	snprintf(doc + o, cap - o, "]}}");
	assert_null(refusal(doc, strlen(doc), &e));
	snprintf(doc + o, cap - o, ",\"tcp:1\"]}}");
	why = refusal(doc, strlen(doc), &e);
	assert_non_null(why);
	assert_non_null(strstr(why, "net.listen: more than 4096 rules"));

	/* A rule of 4096 bytes is fine, 4097 is not. */
	rule[0] = '/';
	memset(rule + 1, 'a', 4095);
	rule[4096] = '\0';
	snprintf(doc, cap, "{\"files\":{\"write\":[\"/tmp/\",\"%s\"]}}", rule);
	assert_null(refusal(doc, strlen(doc), &e));
	snprintf(doc, cap, "{\"files\":{\"write\":[\"/tmp/\",\"%sa\"]}}", rule);
	why = refusal(doc, strlen(doc), &e);
	assert_non_null(why);
	assert_non_null(strstr(why, "files.write[1]: longer than 4096 bytes"));
	free(doc);
	free(rule);
}

static void error_names_the_rule(void **state)
{
	const char *doc =
	    "{\"net\":{\"connect\":[\"10.0.0.0/8:5432\",\"*:53\",\"10.0.0.0/40:1\"]}}";
	struct sn_err e;
	const char *why;

	(void)state;
	why = refusal(doc, strlen(doc), &e);
	assert_non_null(why);
	assert_string_equal(why, "net.connect[2]: '10.0.0.0/40:1' is not ADDRESS[/BITS]:PORT "
				 "(10.0.0.0/8:5432): the prefix length must be 0-32");
}

static void no_policy_allows_everything(void **state)
{
	struct sn_policy *p = NULL;
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(22)};
	struct sn_err e;

	(void)state;
	assert_int_equal(sn_policy_new(NULL, &p, &e), 0);
	assert_true(sn_policy_exec_allowed(p, "/tmp/evil", NULL));
	assert_true(sn_policy_listen_allowed(p, "tcp", 4444));
	assert_true(sn_policy_connect_allowed(p, (struct sockaddr *)&in, sizeof(in)));
	assert_true(sn_policy_write_allowed(p, "/etc/passwd"));
	assert_int_equal(sn_policy_drift(p), SN_DRIFT_DEFAULT);
	sn_policy_free(p);

	/* Absent sections and lists restrict nothing either; an empty list
	 * allows nothing. */
	p = policy("{\"exec\":{\"drift\":\"block\"},\"net\":{\"listen\":[]},\"files\":{}}");
	assert_true(sn_policy_exec_allowed(p, "/tmp/evil", NULL));
	assert_false(sn_policy_listen_allowed(p, "tcp", 4444));
	assert_true(sn_policy_connect_allowed(p, (struct sockaddr *)&in, sizeof(in)));
	assert_true(sn_policy_write_allowed(p, "/etc/passwd"));
	assert_int_equal(sn_policy_drift(p), SN_DRIFT_BLOCK);
	sn_policy_free(p);

	p = policy("{\"exec\":{\"drift\":\"alert\"}}");
	assert_int_equal(sn_policy_drift(p), SN_DRIFT_ALERT);
	sn_policy_free(p);
	sn_policy_free(NULL);
}

struct exec_case {
	const char *exe, *applet;
	bool allowed;
};

static void exec_rules(void **state)
{
	static const struct exec_case cases[] = {
	    {"/usr/bin/python3", NULL, true},
	    {"/usr/bin/python3", "python", true}, /* no [applet]: any name */
	    {"/usr/bin/python", NULL, false},
	    {"/usr/bin/python3x", NULL, false},
	    {"/usr/bin//python3", NULL, true}, /* the same file */
	    {"/usr/./bin/python3", NULL, true},
	    {"/usr/lib/../bin/python3", NULL, false}, /* ".." is never resolved */
	    /* busybox: cat allowed, wc not, whatever the path */
	    {"/bin/busybox", "cat", true},
	    {"/bin/busybox", "/bin/cat", true}, /* argv[0] given as a path */
	    {"/bin/busybox", "wc", false},
	    {"/bin/busybox", "catx", false},
	    {"/bin/busybox", NULL, false},	/* "busybox wc": argv[1] decides */
	    {"/bin/busybox", "busybox", false}, /* the same */
	    {"/bin/cat", NULL, false},		/* rules name the resolved binary */
	    /* globs stay within one component */
	    {"/opt/app/bin/server", NULL, true},
	    {"/opt/app/bin/.hidden", NULL, true},
	    {"/opt/app/bin/sub/server", NULL, false},
	    {"/opt/app/bin", NULL, false},
	    {"/usr/lib/jvm/java-17/bin/java", NULL, true},
	    {"/usr/lib/jvm/java-17/x/bin/java", NULL, false},
	    /* applet globs */
	    {"/usr/bin/toybox", "ls", true},
	    {"/usr/bin/toybox", "lsof", false},
	    {"/usr/bin/toybox", "l", false},
	    {"/usr/bin/toybox", NULL, false},
	    /* [busybox] means "run under its own name" */
	    {"/sbin/busybox", NULL, true},
	    {"/sbin/busybox", "busybox", true},
	    {"/sbin/busybox", "sh", false},
	    /* escapes: a literal '*' and '[' in names */
	    {"/srv/a*b", NULL, true},
	    {"/srv/aXb", NULL, false},
	    {"/usr/bin/[", NULL, true},
	    {"/bin/bb", "[", true},
	    {"/bin/bb", "[[", false},
	    /* nonsense from the caller is refused, never a crash */
	    {"usr/bin/python3", NULL, false},
	    {"", NULL, false},
	    {NULL, NULL, false},
	};
	struct sn_policy *p = policy(
	    "{\"exec\":{\"allow\":[\"/usr/bin/python3\",\"/bin/busybox[cat]\",\"/opt/app/bin/*\","
	    "\"/usr/lib/jvm/*/bin/java\",\"/usr/bin/toybox[l?]\",\"/sbin/busybox[busybox]\","
	    "\"/srv/a\\\\*b\",\"/usr/bin/\\\\[\",\"/bin/bb[\\\\[]\"]}}");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = sn_policy_exec_allowed(p, cases[i].exe, cases[i].applet);

		if (got != cases[i].allowed)
			fail_msg("exec %s [%s]: got %s", cases[i].exe ? cases[i].exe : "(null)",
				 cases[i].applet ? cases[i].applet : "-",
				 got ? "allowed" : "refused");
	}
	sn_policy_free(p);

	/* An empty list allows nothing. */
	p = policy("{\"exec\":{\"allow\":[]}}");
	assert_false(sn_policy_exec_allowed(p, "/bin/sh", NULL));
	sn_policy_free(p);
}

static void listen_rules(void **state)
{
	struct sn_policy *p = policy("{\"net\":{\"listen\":[\"tcp:8080\",\"udp:53\",\"udp:*\"]}}");

	(void)state;
	assert_true(sn_policy_listen_allowed(p, "tcp", 8080));
	assert_false(sn_policy_listen_allowed(p, "tcp", 8081));
	assert_false(sn_policy_listen_allowed(p, "tcp", 53));
	assert_true(sn_policy_listen_allowed(p, "udp", 53));
	assert_true(sn_policy_listen_allowed(p, "udp", 9999)); /* udp:* */
	assert_true(sn_policy_listen_allowed(p, "tcp", 0));    /* ephemeral */
	assert_false(sn_policy_listen_allowed(p, "sctp", 8080));
	assert_false(sn_policy_listen_allowed(p, NULL, 8080));
	assert_false(sn_policy_listen_allowed(p, "tcp", 65536 + 8080));
	sn_policy_free(p);
}

static struct sockaddr_in v4(const char *a, unsigned port)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	assert_int_equal(inet_pton(AF_INET, a, &in.sin_addr), 1);
	return in;
}

static struct sockaddr_in6 v6(const char *a, unsigned port)
{
	struct sockaddr_in6 in = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};

	assert_int_equal(inet_pton(AF_INET6, a, &in.sin6_addr), 1);
	return in;
}

struct connect_case {
	const char *addr;
	unsigned port;
	bool allowed;
};

static void connect_rules(void **state)
{
	static const struct connect_case cases[] = {
	    {"10.0.0.1", 5432, true},
	    {"10.255.255.255", 5432, true},
	    {"10.0.0.1", 5433, false},
	    {"11.0.0.1", 5432, false},
	    {"9.255.255.255", 5432, false},
	    {"192.168.1.10", 443, true},
	    {"192.168.1.11", 443, false},
	    {"192.168.1.10", 80, false},
	    {"8.8.8.8", 53, true}, /* *:53 */
	    {"2001:db8::1", 53, true},
	    {"10.1.2.3", 1, true}, /* 10.1.2.3:* */
	    {"10.1.2.3", 65535, true},
	    {"10.1.2.4", 80, false},
	    {"172.20.0.0", 80, true}, /* 172.16.0.0/12 */
	    {"172.31.255.255", 80, true},
	    {"172.32.0.0", 80, false},
	    {"172.15.255.255", 80, false},
	    /* IPv6 */
	    {"fd00::1", 443, true},
	    {"fdff:ffff::1", 443, true},
	    {"fe00::1", 443, false},
	    {"fd00::1", 80, false},
	    {"2001:db8::5", 8443, true},
	    {"2001:db8::6", 8443, false},
	    /* IPv4-mapped IPv6 addresses are their IPv4 addresses */
	    {"::ffff:10.9.9.9", 5432, true},
	    {"::ffff:11.9.9.9", 5432, false},
	    {"::ffff:10.1.2.3", 7, true},
	    {"::ffff:192.168.1.10", 443, true},
	    /* ... but IPv4-compatible ones (::a.b.c.d) are not */
	    {"::10.9.9.9", 5432, false},
	};
	struct sn_policy *p =
	    policy("{\"net\":{\"connect\":[\"10.0.0.0/8:5432\",\"192.168.1.10:443\","
		   "\"[fd00::/8]:443\",\"*:53\",\"10.1.2.3:*\",\"172.16.0.0/12:80\","
		   "\"[2001:db8::5]:8443\"]}}");
	struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/run/x.sock"};
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got;

		if (strchr(cases[i].addr, ':')) {
			in6 = v6(cases[i].addr, cases[i].port);
			got = sn_policy_connect_allowed(p, (struct sockaddr *)&in6, sizeof(in6));
		} else {
			in = v4(cases[i].addr, cases[i].port);
			got = sn_policy_connect_allowed(p, (struct sockaddr *)&in, sizeof(in));
		}
		if (got != cases[i].allowed)
			fail_msg("connect %s port %u: got %s", cases[i].addr, cases[i].port,
				 got ? "allowed" : "refused");
	}
	/* AF_UNIX is always allowed, as is any non-IP family. */
	assert_true(sn_policy_connect_allowed(p, (struct sockaddr *)&un, sizeof(un)));
	/* The 24-byte RFC 2133 sockaddr_in6 is what some programs pass. */
	in6 = v6("fd00::1", 443);
	assert_true(sn_policy_connect_allowed(p, (struct sockaddr *)&in6, 24));
	/* Too short to say: refused (the kernel would refuse it too). */
	in = v4("10.0.0.1", 5432);
	assert_false(sn_policy_connect_allowed(p, (struct sockaddr *)&in, 8));
	assert_false(sn_policy_connect_allowed(p, (struct sockaddr *)&in6, 20));
	assert_false(sn_policy_connect_allowed(p, NULL, 0));
	sn_policy_free(p);

	/* A v6 rule covering the mapped range is an IPv4 rule too. */
	p = policy("{\"net\":{\"connect\":[\"[::ffff:10.0.0.0/104]:80\",\"0.0.0.0/0:22\"]}}");
	in = v4("10.2.3.4", 80);
	assert_true(sn_policy_connect_allowed(p, (struct sockaddr *)&in, sizeof(in)));
	in = v4("11.2.3.4", 80);
	assert_false(sn_policy_connect_allowed(p, (struct sockaddr *)&in, sizeof(in)));
	in = v4("1.2.3.4", 22);
	assert_true(sn_policy_connect_allowed(p, (struct sockaddr *)&in, sizeof(in)));
	in6 = v6("2001:db8::1", 22); /* 0.0.0.0/0 is every IPv4 address, not IPv6 */
	assert_false(sn_policy_connect_allowed(p, (struct sockaddr *)&in6, sizeof(in6)));
	sn_policy_free(p);
}

struct write_case {
	const char *path;
	bool allowed;
};

static void write_rules(void **state)
{
	static const struct write_case cases[] = {
	    {"/tmp/x", true},
	    {"/tmp/a/b/c", true},
	    {"/tmp", true}, /* "/tmp" names the directory itself */
	    {"/tmpfoo", false},
	    {"/tmpfoo/x", false},
	    {"/var/log/app/x.log", true},
	    {"/var/log/app", false}, /* "/var/log/app/": below it only */
	    {"/var/log/apps/x", false},
	    {"/var/log/x", false},
	    {"/data", true},
	    {"/data/db/1", true},
	    {"/database", false},
	    {"/etc/passwd", false},
	    /* normalised: // and /./ never change the file */
	    {"//tmp//x", true},
	    {"/var/log/./app/x", true},
	    {"/var/log//app/x", true},
	    /* ".." is refused: only the kernel knows where it leads */
	    {"/tmp/../etc/passwd", false},
	    {"/tmp/x/../y", false},
	    {"/tmp/..x", true}, /* a name, not ".." */
	    {"tmp/x", false},
	    {"", false},
	    {NULL, false},
	};
	struct sn_policy *p =
	    policy("{\"files\":{\"write\":[\"/tmp\",\"/var/log/app/\",\"/data\"]}}");
	char *longpath;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = sn_policy_write_allowed(p, cases[i].path);

		if (got != cases[i].allowed)
			fail_msg("write %s: got %s", cases[i].path ? cases[i].path : "(null)",
				 got ? "allowed" : "refused");
	}
	/* Paths longer than PATH_MAX (reached through openat) still match. */
	longpath = malloc(10000);
	assert_non_null(longpath);
	memcpy(longpath, "/tmp/", 5);
	memset(longpath + 5, 'x', 9990);
	longpath[9995] = '\0';
	assert_true(sn_policy_write_allowed(p, longpath));
	memcpy(longpath, "/etc/", 5);
	assert_false(sn_policy_write_allowed(p, longpath));
	free(longpath);
	sn_policy_free(p);

	/* Rules are normalised the same way; "/" allows everything, ".." too. */
	p = policy("{\"files\":{\"write\":[\"/srv//./www/\",\"/\"]}}");
	assert_true(sn_policy_write_allowed(p, "/etc/passwd"));
	assert_true(sn_policy_write_allowed(p, "/tmp/../etc/passwd"));
	sn_policy_free(p);
	p = policy("{\"files\":{\"write\":[\"/srv//./www/\"]}}");
	assert_true(sn_policy_write_allowed(p, "/srv/www/index.html"));
	assert_false(sn_policy_write_allowed(p, "/srv/www2/index.html"));
	sn_policy_free(p);
	p = policy("{\"files\":{\"write\":[]}}");
	assert_false(sn_policy_write_allowed(p, "/tmp/x"));
	sn_policy_free(p);
}

/* The sensor parses addresses itself (it links no resolver code); it must
 * agree with glibc's inet_pton, which inlay's own validator uses, on every
 * string: run both on many strings over the address alphabet. */
static void addresses_agree_with_inet_pton(void **state)
{
	static const char alphabet[] = "0123456789abcdefABCDEF:.:.:::1f0";
	static const char *const fixed[] = {
	    "::",
	    "::1",
	    "1::",
	    "::ffff:1.2.3.4",
	    "1:2:3:4:5:6:1.2.3.4",
	    "1:2:3:4:5:6:7:1.2.3.4",
	    "::1.2.3.4",
	    "1.2.3.4",
	    "::01.2.3.4",
	    "::1.2.3",
	    "::1.2.3.4.5",
	    "1:2:3:4:5:6:7:8",
	    "1:2:3:4:5:6:7:8:9",
	    "1:2:3:4:5:6:7::",
	    "::2:3:4:5:6:7:8",
	    "1:2:3:4:5:6:7:8::",
	    "::1:2:3:4:5:6:7:8",
	    ":1::",
	    "1::2::3",
	    "12345::",
	    "1:::2",
	    "1:",
	    ":1",
	    "",
	    "255.255.255.255",
	    "256.1.1.1",
	    "1.2.3.04",
	    "0.0.0.0",
	    "00.0.0.0",
	    "1..2.3",
	    "::ffff:255.255.255.255",
	    "::1234.1.1.1",
	    "a:b:c:d:e:f:1.2.3.4",
	    "::1.2.3.4:5",
	};
	unsigned seed = 12345;
	char s[40], doc[128];
	size_t i, n, k;

	(void)state;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]) + 200000; i++) {
		unsigned char buf[16];
		int want4, want6, got4, got6;
		struct sn_err e;

		if (i < sizeof(fixed) / sizeof(fixed[0])) {
			snprintf(s, sizeof(s), "%s", fixed[i]);
		} else {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 22;
			for (k = 0; k < n; k++) {
				seed = seed * 1103515245u + 12345u;
				s[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
			}
			s[n] = '\0';
		}
		want4 = inet_pton(AF_INET, s, buf) == 1;
		want6 = inet_pton(AF_INET6, s, buf) == 1;
		snprintf(doc, sizeof(doc), "{\"net\":{\"connect\":[\"%s:1\"]}}", s);
		got4 = refusal(doc, strlen(doc), &e) == NULL;
		snprintf(doc, sizeof(doc), "{\"net\":{\"connect\":[\"[%s]:1\"]}}", s);
		got6 = refusal(doc, strlen(doc), &e) == NULL;
		/* "*" is the one non-address the unbracketed form takes. */
		if (got4 != want4 && strcmp(s, "*") != 0)
			fail_msg("IPv4 '%s': inet_pton says %d, the sensor %d", s, want4, got4);
		if (got6 != want6)
			fail_msg("IPv6 '%s': inet_pton says %d, the sensor %d", s, want6, got6);
	}
}

/* ------------------------------------------------------------------------ */
/* Profile */

/* Emit pr into a temporary file and return its bytes (caller frees). */
static char *emit_to_string(const struct sn_profile *pr, size_t *ret_len)
{
	FILE *f = tmpfile();
	struct sn_output out;
	struct sn_err e;
	char *text;
	long n;

	assert_non_null(f);
	out.fd = fileno(f);
	out.owned = 0;
	if (sn_profile_emit(pr, &out, &e) < 0)
		fail_msg("emit: %s", e.msg);
	n = lseek(out.fd, 0, SEEK_END);
	assert_true(n > 0);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(pread(out.fd, text, (size_t)n, 0), n);
	text[n] = '\0';
	fclose(f);
	*ret_len = (size_t)n;
	return text;
}

/* One event line's output_fields, checked for the profile event's shape. */
static const struct sn_json *profile_fields(const struct sn_json *ev)
{
	const struct sn_json *f = sn_json_get(ev, "output_fields");

	assert_string_equal(sn_json_cstr(sn_json_get(ev, "rule")), "sensor profile");
	assert_string_equal(sn_json_cstr(sn_json_get(ev, "priority")), "Informational");
	assert_string_equal(sn_json_cstr(sn_json_get(ev, "source")), "inlay");
	assert_non_null(f);
	assert_non_null(sn_json_get(f, "profile"));
	return f;
}

/* The strings of profile.SEC.KEY joined with ' ', for comparisons. */
static void list_text(const struct sn_json *profile, const char *sec, const char *key, char *out,
		      size_t n)
{
	const struct sn_json *arr = sn_json_get(sn_json_get(profile, sec), key), *v;
	size_t o = 0;

	assert_non_null(arr);
	assert_int_equal(arr->type, SN_JSON_ARRAY);
	out[0] = '\0';
	for (v = arr->child; v; v = v->next)
		o += (size_t)snprintf(out + o, n - o, "%s%s", o ? " " : "", sn_json_cstr(v));
}

static void profile_roundtrip(void **state)
{
	struct sn_profile *pr = sn_profile_new();
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/x"};
	struct sn_json_doc *doc = NULL;
	const struct sn_json *f, *prof;
	struct sn_policy *p = NULL;
	char text[1024];
	char *line;
	size_t len;
	struct sn_err e;

	(void)state;
	assert_non_null(pr);
	sn_profile_exec(pr, "/usr/bin/python3", NULL);
	sn_profile_exec(pr, "/bin/busybox", "cat");
	sn_profile_exec(pr, "/bin/busybox", "/usr/bin/cat"); /* the same applet */
	sn_profile_exec(pr, "/bin/busybox", "busybox");	     /* its own name */
	sn_profile_exec(pr, "/usr/bin/python3", NULL);	     /* a duplicate */
	sn_profile_exec(pr, "/opt//app/./x*y[1]", NULL);     /* escaped, normalised */
	sn_profile_exec(pr, "relative", NULL);		     /* dropped: 1 */
	sn_profile_listen(pr, "tcp", 8080);
	sn_profile_listen(pr, "udp", 53);
	sn_profile_listen(pr, "tcp", 8080);
	sn_profile_listen(pr, "tcp", 0);   /* ephemeral: nothing to learn */
	sn_profile_listen(pr, "sctp", 80); /* dropped: 2 */
	in = v4("10.1.2.3", 5432);
	sn_profile_connect(pr, (struct sockaddr *)&in, sizeof(in));
	in6 = v6("::ffff:10.1.2.3", 5432); /* the same destination */
	sn_profile_connect(pr, (struct sockaddr *)&in6, sizeof(in6));
	in6 = v6("FD00:0:0:0:0:0:0:1", 443);
	sn_profile_connect(pr, (struct sockaddr *)&in6, sizeof(in6));
	in6 = v6("2001:db8:0:0:1:0:0:1", 443);
	sn_profile_connect(pr, (struct sockaddr *)&in6, sizeof(in6));
	sn_profile_connect(pr, (struct sockaddr *)&un, sizeof(un)); /* not learned */
	sn_profile_write(pr, "/tmp/x1");
	sn_profile_write(pr, "/tmp/x2");
	sn_profile_write(pr, "/var/log/app/a.log");
	sn_profile_write(pr, "//var/log/app/./b.log");
	sn_profile_write(pr, "/marker");       /* directly in /: kept whole */
	sn_profile_write(pr, "/tmp/../etc/x"); /* dropped: 3 */

	line = emit_to_string(pr, &len);
	assert_int_equal(line[len - 1], '\n');
	assert_null(memchr(line, '\n', len - 1)); /* one event */
	if (sn_json_parse(line, len, &doc, &e) < 0)
		fail_msg("the event is not JSON: %s\n%s", e.msg, line);
	f = profile_fields(sn_json_root(doc));
	assert_int_equal(sn_json_get(f, "profile.dropped")->num, 3);
	assert_int_equal(sn_json_get(f, "profile.part")->num, 1);
	assert_int_equal(sn_json_get(f, "profile.parts")->num, 1);
	prof = sn_json_get(f, "profile");
	list_text(prof, "exec", "allow", text, sizeof(text));
	assert_string_equal(text, "/bin/busybox /bin/busybox[cat] /opt/app/x\\*y\\[1\\] "
				  "/usr/bin/python3");
	list_text(prof, "net", "listen", text, sizeof(text));
	assert_string_equal(text, "tcp:8080 udp:53");
	list_text(prof, "net", "connect", text, sizeof(text));
	assert_string_equal(text, "10.1.2.3:5432 [2001:db8::1:0:0:1]:443 [fd00::1]:443");
	list_text(prof, "files", "write", text, sizeof(text));
	assert_string_equal(text, "/marker /tmp/ /var/log/app/");

	/* The profile is a policy, and it allows what was observed. */
	if (sn_policy_new(prof, &p, &e) < 0)
		fail_msg("the profile is not a policy: %s", e.msg);
	assert_true(sn_policy_exec_allowed(p, "/usr/bin/python3", NULL));
	assert_true(sn_policy_exec_allowed(p, "/bin/busybox", "cat"));
	assert_true(sn_policy_exec_allowed(p, "/opt/app/x*y[1]", NULL));
	assert_false(sn_policy_exec_allowed(p, "/opt/app/xZy1", NULL));
	assert_true(sn_policy_listen_allowed(p, "tcp", 8080));
	assert_false(sn_policy_listen_allowed(p, "tcp", 8081));
	in = v4("10.1.2.3", 5432);
	assert_true(sn_policy_connect_allowed(p, (struct sockaddr *)&in, sizeof(in)));
	in = v4("10.1.2.4", 5432); /* exact addresses, not generalised */
	assert_false(sn_policy_connect_allowed(p, (struct sockaddr *)&in, sizeof(in)));
	in6 = v6("fd00::1", 443);
	assert_true(sn_policy_connect_allowed(p, (struct sockaddr *)&in6, sizeof(in6)));
	assert_true(sn_policy_write_allowed(p, "/tmp/x3"));
	assert_true(sn_policy_write_allowed(p, "/var/log/app/c.log"));
	assert_true(sn_policy_write_allowed(p, "/marker"));
	assert_false(sn_policy_write_allowed(p, "/marker2"));
	assert_false(sn_policy_write_allowed(p, "/etc/x"));
	sn_policy_free(p);
	sn_json_free(doc);
	free(line);
	sn_profile_free(pr);
	sn_profile_free(NULL);
}

static void empty_profile(void **state)
{
	struct sn_profile *pr = sn_profile_new();
	struct sn_json_doc *doc = NULL;
	const struct sn_json *prof;
	struct sn_err e;
	char text[64], *line;
	size_t len;

	(void)state;
	line = emit_to_string(pr, &len);
	assert_int_equal(sn_json_parse(line, len, &doc, &e), 0);
	prof = sn_json_get(profile_fields(sn_json_root(doc)), "profile");
	list_text(prof, "exec", "allow", text, sizeof(text));
	assert_string_equal(text, "");
	list_text(prof, "files", "write", text, sizeof(text));
	assert_string_equal(text, "");
	sn_json_free(doc);
	free(line);
	sn_profile_free(pr);
}

/* Past 1024 entries of a kind the profile stops growing and counts; a large
 * profile goes out as several events, each within SN_EVENT_MAX, each a
 * valid profile, whose union is the whole profile. */
static void large_profile_is_split(void **state)
{
	struct sn_profile *pr = sn_profile_new();
	char path[300], *text, *line, *next;
	size_t len, i, lines = 0, seen_exec = 0, seen_write = 0, seen_listen = 0;
	long long parts = 0;

	(void)state;
	for (i = 0; i < 1100; i++) {
		snprintf(path, sizeof(path), "/opt/app/bin/%0200zu", i);
		sn_profile_exec(pr, path, NULL);
		snprintf(path, sizeof(path), "/data/%0100zu/file", i);
		sn_profile_write(pr, path);
	}
	for (i = 1; i <= 2000; i++)
		sn_profile_listen(pr, "tcp", (unsigned)i);
	text = emit_to_string(pr, &len);
	for (line = text; *line; line = next + 1) {
		struct sn_json_doc *doc = NULL;
		struct sn_policy *p = NULL;
		const struct sn_json *f, *v;
		struct sn_err e;

		next = strchr(line, '\n');
		assert_non_null(next);
		assert_true((size_t)(next - line) + 1 <= SN_EVENT_MAX);
		if (sn_json_parse(line, (size_t)(next - line), &doc, &e) < 0)
			fail_msg("event %zu is not JSON: %s", lines, e.msg);
		f = profile_fields(sn_json_root(doc));
		assert_int_equal(sn_json_get(f, "profile.part")->num, (long long)lines + 1);
		parts = sn_json_get(f, "profile.parts")->num;
		/* 76 exec + 976 listen + 76 write observations over the limits */
		assert_int_equal(sn_json_get(f, "profile.dropped")->num, 76 + 976 + 76);
		assert_int_equal(sn_policy_new(sn_json_get(f, "profile"), &p, &e), 0);
		sn_policy_free(p);
		v = sn_json_get(sn_json_get(sn_json_get(f, "profile"), "exec"), "allow");
		seen_exec += v->count;
		v = sn_json_get(sn_json_get(sn_json_get(f, "profile"), "net"), "listen");
		seen_listen += v->count;
		v = sn_json_get(sn_json_get(sn_json_get(f, "profile"), "files"), "write");
		seen_write += v->count;
		sn_json_free(doc);
		lines++;
	}
	assert_true(lines > 10);
	assert_int_equal(parts, (long long)lines);
	assert_int_equal(seen_exec, 1024);
	assert_int_equal(seen_listen, 1024);
	assert_int_equal(seen_write, 1024);
	free(text);
	sn_profile_free(pr);
}

/* What cannot be a rule is dropped, not written as a broken one. */
static void unrepresentable_entries_are_dropped(void **state)
{
	struct sn_profile *pr = sn_profile_new();
	struct sn_json_doc *doc = NULL;
	const struct sn_json *f;
	char *line, *huge;
	size_t len;
	struct sn_err e;
	char text[256];

	(void)state;
	sn_profile_exec(pr, "/bin/\xff\xfe", NULL); /* not UTF-8: no JSON string */
	sn_profile_write(pr, "/tmp/\xff/x");	    /* its directory is not either */
	sn_profile_write(pr, "/tmp/ok\n/x");	    /* a newline is fine, escaped */
	sn_profile_exec(pr, "/bin/", NULL);	    /* a directory */
	sn_profile_write(pr, "/");		    /* nothing to generalise */
	huge = malloc(5000);
	assert_non_null(huge);
	memset(huge, 'a', 4999);
	huge[0] = '/';
	huge[4999] = '\0';
	sn_profile_exec(pr, huge, NULL); /* longer than a rule may be */
	free(huge);
	line = emit_to_string(pr, &len);
	assert_int_equal(sn_json_parse(line, len, &doc, &e), 0);
	f = profile_fields(sn_json_root(doc));
	assert_int_equal(sn_json_get(f, "profile.dropped")->num, 5);
	list_text(sn_json_get(f, "profile"), "files", "write", text, sizeof(text));
	assert_string_equal(text, "/tmp/ok\n/");
	sn_json_free(doc);
	free(line);
	sn_profile_free(pr);
}

/* A NULL profile or policy is never a crash. */
static void null_safe(void **state)
{
	struct sn_output out = {.fd = -1, .owned = 0};
	struct sn_err e;

	(void)state;
	sn_profile_exec(NULL, "/bin/sh", NULL);
	sn_profile_listen(NULL, "tcp", 1);
	sn_profile_connect(NULL, NULL, 0);
	sn_profile_write(NULL, "/tmp/x");
	assert_int_equal(sn_profile_emit(NULL, &out, &e), -1);
	assert_true(sn_policy_exec_allowed(NULL, "/bin/sh", NULL));
	assert_true(sn_policy_write_allowed(NULL, "/x"));
}

static void emit_to_closed_output_fails(void **state)
{
	struct sn_profile *pr = sn_profile_new();
	struct sn_output out = {.fd = -1, .owned = 0};
	struct sn_err e;

	(void)state;
	sn_profile_listen(pr, "tcp", 80);
	assert_int_equal(sn_profile_emit(pr, &out, &e), -1);
	assert_non_null(strstr(e.msg, "closed"));
	sn_profile_free(pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shared_table),
	    cmocka_unit_test(limits),
	    cmocka_unit_test(error_names_the_rule),
	    cmocka_unit_test(no_policy_allows_everything),
	    cmocka_unit_test(exec_rules),
	    cmocka_unit_test(listen_rules),
	    cmocka_unit_test(connect_rules),
	    cmocka_unit_test(write_rules),
	    cmocka_unit_test(addresses_agree_with_inet_pton),
	    cmocka_unit_test(profile_roundtrip),
	    cmocka_unit_test(empty_profile),
	    cmocka_unit_test(large_profile_is_split),
	    cmocka_unit_test(unrepresentable_entries_are_dropped),
	    cmocka_unit_test(null_safe),
	    cmocka_unit_test(emit_to_closed_output_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
