/* test_policy_build.c - inlay's side of policies (rewriter/policy.c and
 * rewriter/policy_build.c): the validator accepts exactly what the sensor
 * accepts (the table shared with test_sn_policy.c), rules made from events
 * have the sensor's learn-mode forms, and `inlay policy build` merges
 * profiles and events into the expected policy, skipping what is not an
 * event and refusing what cannot be a policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../rewriter/policy.h"
#include "../../rewriter/policy_build.h"
#include "policy_cases.h"

/* A line exactly as sensor-blob/policy.c's sn_profile_emit writes it. */
static const char profile_line[] =
    "{\"time\":\"2026-11-28T19:47:51.125616472Z\",\"rule\":\"sensor profile\",\"priority\":"
    "\"Informational\",\"output\":\"19:47:51.125616472: Informational Sensor profile "
    "(exec=2 listen=1 connect=2 write=2 dropped=0 part=1/1)\",\"source\":\"inlay\","
    "\"tags\":[\"inlay\",\"sensor\",\"profile\"],\"hostname\":\"vm\",\"output_fields\":{"
    "\"evt.type\":\"sensor\",\"proc.pid\":3897,\"profile.part\":1,\"profile.parts\":1,"
    "\"profile.dropped\":0,\"profile\":{\"exec\":{\"allow\":[\"/bin/busybox[cat]\","
    "\"/usr/bin/python3\"]},\"net\":{\"listen\":[\"tcp:8080\"],\"connect\":["
    "\"10.0.0.5:5432\",\"[fd00::1]:443\"]},\"files\":{\"write\":[\"/tmp/\","
    "\"/var/log/app/\"]}}}}";

/* An individual event with the given output_fields members. */
static char *event(const char *fields)
{
	char *s;

	if (asprintf(&s,
		     "{\"time\":\"t\",\"rule\":\"r\",\"priority\":\"Notice\",\"output\":\"o\","
		     "\"source\":\"inlay\",\"tags\":[],\"output_fields\":{%s}}",
		     fields) < 0)
		fail_msg("out of memory");
	return s;
}

static void add(struct rw_policy_builder *b, const char *line)
{
	struct err e;

	err_clear(&e);
	if (rw_policy_builder_add_line(b, line, strlen(line), &e) < 0)
		fail_msg("line refused: %s\n%s", e.msg, line);
}

static void add_event(struct rw_policy_builder *b, const char *fields)
{
	char *line = event(fields);

	add(b, line);
	free(line);
}

static char *finish(struct rw_policy_builder *b)
{
	char *out = NULL;
	struct err e;

	err_clear(&e);
	if (rw_policy_builder_finish(b, &out, &e) < 0)
		fail_msg("finish: %s", e.msg);
	return out;
}

/* The policy text with all whitespace removed, for compact comparisons. */
static char *squeeze(char *s)
{
	char *o = s, *i;

	for (i = s; *i; i++)
		if (*i != ' ' && *i != '\n')
			*o++ = *i;
	*o = '\0';
	return s;
}

static void shared_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < POLICY_CASES; i++) {
		const struct policy_case *c = &policy_cases[i];
		char *out = NULL;
		struct err e;
		int r;

		err_clear(&e);
		r = rw_policy_parse(c->json, strlen(c->json), &out, &e);
		if (!c->error_part && r != 0)
			fail_msg("case %zu (%s) refused: %s", i, c->json, e.msg);
		if (c->error_part && r == 0)
			fail_msg("case %zu (%s) accepted", i, c->json);
		if (c->error_part && !strstr(e.msg, c->error_part))
			fail_msg("case %zu: '%s' does not mention '%s'", i, e.msg, c->error_part);
		if (c->error_part)
			assert_int_equal(e.cls, ERR_INPUT);
		free(out);
	}
}

static void rule_valid(void **state)
{
	(void)state;
	assert_true(rw_policy_rule_valid(RW_POLICY_EXEC, "/bin/busybox[cat]"));
	assert_false(rw_policy_rule_valid(RW_POLICY_EXEC, "tcp:80"));
	assert_true(rw_policy_rule_valid(RW_POLICY_LISTEN, "tcp:80"));
	assert_false(rw_policy_rule_valid(RW_POLICY_LISTEN, "/tmp/"));
	assert_true(rw_policy_rule_valid(RW_POLICY_CONNECT, "[::1]:80"));
	assert_false(rw_policy_rule_valid(RW_POLICY_CONNECT, "::1:80"));
	assert_true(rw_policy_rule_valid(RW_POLICY_WRITE, "/tmp/"));
	assert_false(rw_policy_rule_valid(RW_POLICY_WRITE, "/tmp/../x"));
	assert_false(rw_policy_rule_valid(RW_POLICY_WRITE, NULL));
}

struct rule_case {
	const char *in, *applet, *want; /* want NULL: no rule */
};

/* The forms the sensor's learn mode writes (test_sn_policy.c checks the
 * same ones on the sensor's side). */
static void rules_from_observations(void **state)
{
	static const struct rule_case exec[] = {
	    {"/usr/bin/python3", NULL, "/usr/bin/python3"},
	    {"/bin/busybox", "cat", "/bin/busybox[cat]"},
	    {"/bin/busybox", "/usr/bin/cat", "/bin/busybox[cat]"},
	    {"/bin/busybox", "busybox", "/bin/busybox"},
	    {"/bin/busybox", "", "/bin/busybox"},
	    {"/opt//app/./x*y[1]", NULL, "/opt/app/x\\*y\\[1\\]"},
	    {"/bin/bb", "[", "/bin/bb[\\[]"},
	    {"/opt/../bin/sh", NULL, "/opt/../bin/sh"},
	    {"relative", NULL, NULL},
	    {"/bin/", NULL, NULL},
	    {"/", NULL, NULL},
	    {NULL, NULL, NULL},
	};
	static const struct rule_case write[] = {
	    {"/tmp/x1", NULL, "/tmp/"},	   {"//var/log/app/./b.log", NULL, "/var/log/app/"},
	    {"/tmp/x/", NULL, "/tmp/x/"},  {"/marker", NULL, "/marker"},
	    {"/tmp/../etc/x", NULL, NULL}, {"/", NULL, NULL},
	    {"tmp/x", NULL, NULL},
	};
	static const struct rule_case conn[] = {
	    {"10.1.2.3", "5432", "10.1.2.3:5432"},
	    {"::ffff:10.1.2.3", "5432", "10.1.2.3:5432"},
	    {"[FD00:0:0:0:0:0:0:1]", "443", "[fd00::1]:443"},
	    {"2001:db8:0:0:1:0:0:1", "443", "[2001:db8::1:0:0:1]:443"},
	    {"10.1.2.3", "0", NULL},
	    {"10.1.2.3", "65536", NULL},
	    {"example.com", "80", NULL},
	    {"*", "80", NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(exec) / sizeof(exec[0]); i++) {
		char *r = rw_policy_exec_rule(exec[i].in, exec[i].applet);

		if ((r == NULL) != (exec[i].want == NULL) || (r && strcmp(r, exec[i].want) != 0))
			fail_msg("exec %s [%s]: got %s, want %s",
				 exec[i].in ? exec[i].in : "(null)",
				 exec[i].applet ? exec[i].applet : "-", r ? r : "(none)",
				 exec[i].want ? exec[i].want : "(none)");
		if (r)
			assert_true(rw_policy_rule_valid(RW_POLICY_EXEC, r));
		free(r);
	}
	for (i = 0; i < sizeof(write) / sizeof(write[0]); i++) {
		char *r = rw_policy_write_rule(write[i].in);

		if ((r == NULL) != (write[i].want == NULL) || (r && strcmp(r, write[i].want) != 0))
			fail_msg("write %s: got %s", write[i].in, r ? r : "(none)");
		free(r);
	}
	for (i = 0; i < sizeof(conn) / sizeof(conn[0]); i++) {
		char *r = rw_policy_connect_rule(conn[i].in, atol(conn[i].applet));

		if ((r == NULL) != (conn[i].want == NULL) || (r && strcmp(r, conn[i].want) != 0))
			fail_msg("connect %s %s: got %s", conn[i].in, conn[i].applet,
				 r ? r : "(none)");
		free(r);
	}
}

static void profile_and_events(void **state)
{
	struct rw_policy_builder *b = NULL;
	const struct rw_build_stats *st;
	struct err e;
	char *out;

	(void)state;
	assert_int_equal(rw_policy_builder_new(&b, &e), 0);
	add(b, profile_line);
	/* exec: Falco's proc.exepath first, proc.exe when it is a path */
	add_event(b,
		  "\"evt.type\":\"execve\",\"proc.exe\":\"sh\",\"proc.exepath\":\"/bin/busybox\","
		  "\"proc.applet\":\"sh\",\"evt.res\":\"SUCCESS\"");
	add_event(b, "\"evt.type\":\"execveat\",\"proc.exe\":\"/usr/local/bin/app\"");
	/* as the sensor's capture writes it: argv[0] in proc.exe gives the applet */
	add_event(b,
		  "\"evt.type\":\"execve\",\"proc.exe\":\"ls\",\"proc.exepath\":\"/bin/busybox\"");
	add_event(b, "\"evt.type\":\"execve\",\"proc.exe\":\"/usr/bin/python3\","
		     "\"proc.exepath\":\"/usr/bin/python3\"");
	add_event(b, "\"evt.type\":\"execve\",\"proc.exe\":\"/usr/local/sbin/app\","
		     "\"evt.res\":\"ENOENT\""); /* a failed PATH lookup ran nothing */
	add_event(b, "\"evt.type\":\"execve\",\"proc.exe\":\"app\""); /* not a path */
	/* listen: fd.l4proto + fd.sport, or fd.name */
	add_event(b, "\"evt.type\":\"bind\",\"fd.l4proto\":\"udp\",\"fd.sport\":53");
	add_event(b, "\"evt.type\":\"listen\",\"fd.name\":\"0.0.0.0:9090\"");
	add_event(b, "\"evt.type\":\"bind\",\"fd.l4proto\":\"tcp\",\"fd.sport\":0"); /* ephemeral */
	/* connect: fd.sip + fd.sport, or Falco's fd.name */
	add_event(b, "\"evt.type\":\"connect\",\"fd.sip\":\"10.0.0.5\",\"fd.sport\":\"5432\"");
	add_event(b,
		  "\"evt.type\":\"connect\",\"fd.name\":\"172.17.0.2:41000->[2001:db8::1]:443\"");
	add_event(b, "\"evt.type\":\"sendto\",\"fd.name\":\"::1:5000->::ffff:8.8.8.8:53\"");
	/* write */
	add_event(b, "\"evt.type\":\"openat\",\"fd.name\":\"/tmp/sub/dir/f\""); /* under /tmp/ */
	add_event(b, "\"evt.type\":\"open\",\"fd.name\":\"/data/db/x\",\"evt.is_open_write\":true");
	add_event(b, "\"evt.type\":\"openat\",\"fd.name\":\"/etc/x\",\"evt.is_open_write\":false");
	/* what is no rule */
	add_event(
	    b, "\"evt.type\":\"execve\",\"proc.exe\":\"/tmp/evil\",\"sensor.action\":\"denied\"");
	add_event(
	    b, "\"evt.type\":\"execve\",\"proc.exepath\":\"/tmp/x\",\"sensor.action\":\"killed\"");
	/* a monitor-mode verdict: its activity event is the one used */
	add_event(
	    b, "\"evt.type\":\"connect\",\"fd.name\":\"1.1.1.1:80\",\"sensor.action\":\"allowed\"");
	add_event(b, "\"evt.type\":\"procexit\",\"proc.exe\":\"/bin/sh\"");
	add(b, "{\"level\":\"info\",\"msg\":\"the app's own JSON log\"}");
	add(b, "{\"source\":\"falco\",\"rule\":\"x\",\"output_fields\":{}}");
	add(b, "plain text from the application");
	add(b, "{\"truncated\":");
	add(b, "   ");
	out = finish(b);
	assert_string_equal(
	    squeeze(out),
	    "{\"exec\":{\"allow\":[\"/bin/busybox[cat]\",\"/bin/busybox[ls]\",\"/bin/busybox[sh]\","
	    "\"/usr/bin/python3\","
	    "\"/usr/local/bin/app\"],\"drift\":\"block\"},\"net\":{\"listen\":[\"tcp:8080\","
	    "\"tcp:9090\",\"udp:53\"],\"connect\":[\"10.0.0.5:5432\",\"8.8.8.8:53\","
	    "\"[2001:db8::1]:443\",\"[fd00::1]:443\"]},\"files\":{\"write\":[\"/data/db/\","
	    "\"/tmp/\",\"/var/log/app/\"]}}");
	st = rw_policy_builder_stats(b);
	assert_int_equal(st->profiles, 1);
	assert_int_equal(st->events, 11);
	assert_int_equal(st->denied, 2);
	/* ENOENT, "app", port 0, is_open_write false, procexit, the verdict */
	assert_int_equal(st->unused, 6);
	assert_int_equal(st->other_json, 2);
	assert_int_equal(st->not_json, 2);
	assert_int_equal(st->dropped, 0);
	free(out);
	rw_policy_builder_free(b);
	rw_policy_builder_free(NULL);
}

/* Broader rules absorb narrower ones; the result stays a valid policy. */
static void covered_rules_are_removed(void **state)
{
	struct rw_policy_builder *b = NULL;
	struct err e;
	char *out;

	(void)state;
	assert_int_equal(rw_policy_builder_new(&b, &e), 0);
	assert_int_equal(
	    rw_policy_builder_add_base(
		b,
		"{\"exec\":{\"allow\":[\"/bin/busybox\",\"/opt/*\"],\"drift\":\"alert\"},"
		"\"net\":{\"connect\":[\"*:53\",\"10.0.0.1:*\"],\"listen\":[\"udp:*\"]},"
		"\"files\":{\"write\":[\"/data\",\"/tmp/\"]}}",
		&e),
	    0);
	add_event(b,
		  "\"evt.type\":\"execve\",\"proc.exe\":\"/bin/busybox\",\"proc.applet\":\"cat\"");
	add_event(b, "\"evt.type\":\"execve\",\"proc.exe\":\"/opt/x\"");
	add_event(b, "\"evt.type\":\"connect\",\"fd.sip\":\"9.9.9.9\",\"fd.sport\":53");
	add_event(b, "\"evt.type\":\"connect\",\"fd.sip\":\"10.0.0.1\",\"fd.sport\":443");
	add_event(b, "\"evt.type\":\"connect\",\"fd.sip\":\"10.0.0.2\",\"fd.sport\":443");
	add_event(b, "\"evt.type\":\"bind\",\"fd.l4proto\":\"udp\",\"fd.sport\":53");
	add_event(b, "\"evt.type\":\"bind\",\"fd.l4proto\":\"tcp\",\"fd.sport\":53");
	add_event(b, "\"evt.type\":\"openat\",\"fd.name\":\"/data/x/y\"");
	add_event(b, "\"evt.type\":\"openat\",\"fd.name\":\"/data2/y\"");
	add_event(b, "\"evt.type\":\"openat\",\"fd.name\":\"/tmp/a/b/c\"");
	out = finish(b);
	assert_string_equal(
	    squeeze(out),
	    "{\"exec\":{\"allow\":[\"/bin/busybox\",\"/opt/*\",\"/opt/x\"],\"drift\":\"alert\"},"
	    "\"net\":{\"listen\":[\"tcp:53\",\"udp:*\"],\"connect\":[\"*:53\",\"10.0.0.1:*\","
	    "\"10.0.0.2:443\"]},\"files\":{\"write\":[\"/data\",\"/data2/\",\"/tmp/\"]}}");
	free(out);
	rw_policy_builder_free(b);
}

static void nothing_learned_is_an_error(void **state)
{
	struct rw_policy_builder *b = NULL;
	char *out = NULL;
	struct err e;

	(void)state;
	assert_int_equal(rw_policy_builder_new(&b, &e), 0);
	add(b, "not an event");
	add_event(b, "\"evt.type\":\"sensor\"");
	err_clear(&e);
	assert_int_equal(rw_policy_builder_finish(b, &out, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "no sensor profile and no event"));
	assert_null(out);
	rw_policy_builder_free(b);
}

static void bad_profile_is_an_error(void **state)
{
	static const char *const bad[] = {
	    "\"profile\":{\"exec\":{\"allow\":[\"bin/sh\"]}}",
	    "\"profile\":{\"exec\":{\"allow\":[\"/bin/sh\"]},\"nett\":{}}",
	    "\"profile\":[]",
	    "\"profile.part\":1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rw_policy_builder *b = NULL;
		char *line;
		struct err e;

		assert_int_equal(rw_policy_builder_new(&b, &e), 0);
		if (asprintf(
			&line,
			"{\"rule\":\"sensor profile\",\"source\":\"inlay\",\"output_fields\":{%s}}",
			bad[i]) < 0)
			fail_msg("out of memory");
		err_clear(&e);
		assert_int_equal(rw_policy_builder_add_line(b, line, strlen(line), &e), -1);
		assert_int_equal(e.cls, ERR_INPUT);
		assert_non_null(strstr(e.msg, "profile"));
		free(line);
		rw_policy_builder_free(b);
	}
}

/* Feed text through a pipe to rw_policy_builder_read, the way stdin is. */
static int read_text(struct rw_policy_builder *b, const char *text, size_t len, struct err *e)
{
	FILE *f = tmpfile();
	int r;

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fflush(f);
	rewind(f);
	err_clear(e);
	r = rw_policy_builder_read(b, fileno(f), "events.jsonl", e);
	fclose(f);
	return r;
}

static void reading_lines(void **state)
{
	struct rw_policy_builder *b = NULL;
	const struct rw_build_stats *st;
	size_t big = (1u << 20) + 10, n;
	char *text, *ev, *out;
	struct err e;

	(void)state;
	assert_int_equal(rw_policy_builder_new(&b, &e), 0);
	ev = event("\"evt.type\":\"listen\",\"fd.sport\":80");
	/* a line over 1 MiB between two events, and a last line with no
	 * newline, with a log driver's prefix and a CRLF in between */
	text = malloc(big + strlen(ev) + sizeof(profile_line) + 200);
	assert_non_null(text);
	n = (size_t)sprintf(text, "2024-05-01T00:00:00Z stdout F %s\r\n", ev);
	memset(text + n, 'x', big);
	n += big;
	text[n++] = '\n';
	n += (size_t)sprintf(text + n, "\n%s", profile_line);
	assert_int_equal(read_text(b, text, n, &e), 0);
	st = rw_policy_builder_stats(b);
	assert_int_equal(st->lines, 4);
	assert_int_equal(st->too_long, 1);
	assert_int_equal(st->events, 1);
	assert_int_equal(st->profiles, 1);
	out = finish(b);
	assert_non_null(strstr(out, "\"tcp:80\""));
	assert_non_null(strstr(out, "\"tcp:8080\""));
	free(out);
	free(text);

	/* A damaged profile is reported with its line. */
	text = NULL;
	if (asprintf(&text,
		     "%s\nnoise\n{\"rule\":\"sensor profile\",\"source\":\"inlay\","
		     "\"output_fields\":{\"profile\":{\"net\":{\"listen\":[\"tcp:0\"]}}}}\n",
		     ev) < 0)
		fail_msg("out of memory");
	assert_int_equal(read_text(b, text, strlen(text), &e), -1);
	assert_non_null(strstr(e.msg, "events.jsonl line 3: sensor profile"));
	assert_non_null(strstr(e.msg, "net.listen[0]"));
	free(text);
	free(ev);
	rw_policy_builder_free(b);
}

static void too_many_lines(void **state)
{
	struct rw_policy_builder *b = NULL;
	size_t n = 1000001, i;
	char *text = malloc(2 * n);
	struct err e;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < n; i++) {
		text[2 * i] = 'x';
		text[2 * i + 1] = '\n';
	}
	assert_int_equal(rw_policy_builder_new(&b, &e), 0);
	assert_int_equal(read_text(b, text, 2 * (n - 1), &e), 0); /* 1e6 lines: fine */
	rw_policy_builder_free(b);
	assert_int_equal(rw_policy_builder_new(&b, &e), 0);
	assert_int_equal(read_text(b, text, 2 * n, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "more than 1000000 lines"));
	rw_policy_builder_free(b);
	free(text);
}

static void too_many_rules(void **state)
{
	struct rw_policy_builder *b = NULL;
	char fields[128], *out = NULL;
	struct err e;
	unsigned i;

	(void)state;
	assert_int_equal(rw_policy_builder_new(&b, &e), 0);
	for (i = 1; i <= 4097; i++) {
		snprintf(fields, sizeof(fields),
			 "\"evt.type\":\"bind\",\"fd.l4proto\":\"udp\","
			 "\"fd.sport\":%u",
			 i);
		add_event(b, fields);
	}
	err_clear(&e);
	assert_int_equal(rw_policy_builder_finish(b, &out, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "4097 distinct net.listen rules"));
	rw_policy_builder_free(b);
}

static void dropped_is_the_largest_count(void **state)
{
	struct rw_policy_builder *b = NULL;
	struct err e;
	const char *part1 = "{\"rule\":\"sensor profile\",\"source\":\"inlay\",\"output_fields\":{"
			    "\"profile.part\":1,\"profile.parts\":2,\"profile.dropped\":7,"
			    "\"profile\":{\"net\":{\"listen\":[\"tcp:1\"]}}}}";
	const char *part2 = "{\"rule\":\"sensor profile\",\"source\":\"inlay\",\"output_fields\":{"
			    "\"profile.part\":2,\"profile.parts\":2,\"profile.dropped\":7,"
			    "\"profile\":{\"net\":{\"listen\":[\"tcp:2\"]}}}}";

	const char *later = "{\"rule\":\"sensor profile\",\"source\":\"inlay\",\"output_fields\":{"
			    "\"profile.part\":1,\"profile.parts\":1,\"profile.dropped\":9,"
			    "\"profile\":{\"net\":{\"listen\":[\"tcp:3\"]}}}}";

	(void)state;
	assert_int_equal(rw_policy_builder_new(&b, &e), 0);
	add(b, part1);
	add(b, part2);
	assert_int_equal(rw_policy_builder_stats(b)->dropped, 7);
	assert_int_equal(rw_policy_builder_stats(b)->profiles, 2);
	/* The same sensor's profile emitted again later (learn_interval): it
	 * repeats what it dropped before, plus what it dropped since. */
	add(b, later);
	assert_int_equal(rw_policy_builder_stats(b)->dropped, 9);
	rw_policy_builder_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shared_table),
	    cmocka_unit_test(rule_valid),
	    cmocka_unit_test(rules_from_observations),
	    cmocka_unit_test(profile_and_events),
	    cmocka_unit_test(covered_rules_are_removed),
	    cmocka_unit_test(nothing_learned_is_an_error),
	    cmocka_unit_test(bad_profile_is_an_error),
	    cmocka_unit_test(reading_lines),
	    cmocka_unit_test(too_many_lines),
	    cmocka_unit_test(too_many_rules),
	    cmocka_unit_test(dropped_is_the_largest_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
