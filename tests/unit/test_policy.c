/* test_policy.c - the policy documents `inlay instrument --policy` accepts:
 * what is valid is kept in canonical form, anything else is refused naming
 * the field; and the sensor configuration built from the options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../rewriter/instrument.h"
#include "../../rewriter/policy.h"

struct policy_case {
	const char *json;
	const char *error_part; /* NULL: valid */
};

static const struct policy_case cases[] = {
	{"{}", NULL},
	{"{\"exec\":{\"allow\":[\"/usr/bin/python3\",\"/bin/busybox[cat]\"],\"drift\":\"block\"}}", NULL},
	{"{\"exec\":{\"drift\":\"alert\"}}", NULL},
	{"{\"net\":{\"listen\":[\"tcp:8080\",\"udp:53\",\"tcp:*\"]}}", NULL},
	{"{\"net\":{\"connect\":[\"10.0.0.0/8:5432\",\"192.168.1.10:443\",\"[fd00::/8]:443\",\"*:53\"]}}",
	 NULL},
	{"{\"files\":{\"write\":[\"/tmp/\",\"/var/log/app/\"]}}", NULL},
	{"[]", "JSON object"},
	{"{\"exec\":{\"allow\":\"/bin/sh\"}}", "exec.allow"},
	{"{\"exec\":{\"allow\":[\"bin/sh\"]}}", "exec.allow[0]"},
	{"{\"exec\":{\"allow\":[\"/bin/busybox[cat\"]}}", "exec.allow[0]"},
	{"{\"exec\":{\"allow\":[\"/bin/busybox[]\"]}}", "exec.allow[0]"},
	{"{\"exec\":{\"drift\":\"maybe\"}}", "exec.drift"},
	{"{\"exec\":{\"alow\":[]}}", "unknown key 'alow'"},
	{"{\"network\":{}}", "unknown key 'network'"},
	{"{\"net\":{\"listen\":[\"tcp:0\"]}}", "net.listen[0]"},
	{"{\"net\":{\"listen\":[\"tcp:65536\"]}}", "net.listen[0]"},
	{"{\"net\":{\"listen\":[\"sctp:80\"]}}", "net.listen[0]"},
	{"{\"net\":{\"listen\":[\"tcp:80\",\"tcp:8x\"]}}", "net.listen[1]"},
	{"{\"net\":{\"connect\":[\"10.0.0.0/33:5432\"]}}", "net.connect[0]"},
	{"{\"net\":{\"connect\":[\"10.0.0.0/8\"]}}", "net.connect[0]"},
	{"{\"net\":{\"connect\":[\"example.com:443\"]}}", "net.connect[0]"},
	{"{\"net\":{\"connect\":[\"[::1:443\"]}}", "net.connect[0]"},
	{"{\"files\":{\"write\":[\"tmp/\"]}}", "files.write[0]"},
	{"{\"files\":{\"write\":[\"/tmp/../etc/\"]}}", "files.write[0]"},
	{"{\"files\":{\"write\":[\"/var/..\"]}}", "files.write[0]"},
	{"{\"files\":[]}", "files"},
	{"{\"exec\":{}, \"exec\":{}}", "duplicate"},
	{"{\"exec\":", "not valid JSON"},
};

static void policy_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		struct err e;
		int r;

		err_clear(&e);
		r = rw_policy_parse(cases[i].json, strlen(cases[i].json), &out, &e);
		if (!cases[i].error_part) {
			if (r != 0)
				fail_msg("case %zu (%s) refused: %s", i, cases[i].json, e.msg);
			assert_non_null(out);
		} else {
			if (r == 0)
				fail_msg("case %zu (%s) accepted", i, cases[i].json);
			assert_int_equal(e.cls, ERR_INPUT);
			if (!strstr(e.msg, cases[i].error_part))
				fail_msg("case %zu: '%s' does not mention '%s'", i, e.msg,
					 cases[i].error_part);
		}
		free(out);
	}
}

static void canonical_form_sorts_keys(void **state)
{
	const char *in = "{\"net\": {\"listen\": [\"tcp:80\"]},\n \"exec\": {\"drift\": \"block\"}}";
	char *out = NULL;
	struct err e;

	(void)state;
	assert_int_equal(rw_policy_parse(in, strlen(in), &out, &e), 0);
	assert_string_equal(out, "{\"exec\":{\"drift\":\"block\"},\"net\":{\"listen\":[\"tcp:80\"]}}");
	free(out);
}

static void sensor_config_is_canonical(void **state)
{
	struct rw_instrument_options o = {0};
	char *json = NULL;
	size_t len;
	struct err e;

	(void)state;
	o.mode = "enforce";
	o.policy_json = "{\"net\":{\"listen\":[\"tcp:80\"]},\"exec\":{\"drift\":\"block\"}}";
	assert_int_equal(rw_sensor_config(&o, &json, &len, &e), 0);
	assert_string_equal(json, "{\"fail\":\"open\",\"mode\":\"enforce\",\"output\":\"stderr\","
				  "\"policy\":{\"exec\":{\"drift\":\"block\"},\"net\":{\"listen\":"
				  "[\"tcp:80\"]}},\"version\":1}");
	assert_int_equal(len, strlen(json));
	free(json);

	o.mode = NULL;
	o.policy_json = NULL;
	assert_int_equal(rw_sensor_config(&o, &json, &len, &e), 0);
	assert_string_equal(json, "{\"fail\":\"open\",\"mode\":\"monitor\",\"output\":\"stderr\",\"version\":1}");
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_table),
		cmocka_unit_test(canonical_form_sorts_keys),
		cmocka_unit_test(sensor_config_is_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
