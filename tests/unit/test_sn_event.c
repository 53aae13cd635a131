/* test_sn_event.c - the sensor's JSON string quoting (sensor-blob/event.h):
 * what every event's fields go through, so what a log shipper parses. Each
 * result is compared byte for byte; cut strings must stay valid JSON (never
 * half an escape or half a UTF-8 sequence) and end in "...". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../../sensor-blob/event.h"

/* Quote s into a buffer of max bytes; returns the NUL-ended result. */
static const char *quote(const char *s, size_t len, size_t max)
{
	static char out[8192];
	size_t n;

	assert_true(max <= sizeof(out) - 1);
	memset(out, 'X', sizeof(out));
	n = sn_json_quote(out, max, s, len);
	assert_true(n <= max);
	out[n] = '\0';
	return out;
}

static void test_plain_text_is_copied(void **state)
{
	(void)state;
	assert_string_equal(quote("", 0, 64), "\"\"");
	assert_string_equal(quote("/usr/bin/busybox sh -c true", 27, 64),
			    "\"/usr/bin/busybox sh -c true\"");
}

static void test_escapes(void **state)
{
	static const char in[] = "a\"b\\c\nd\te\rf\bg\fh\x01i\x1fj\x7fk";

	(void)state;
	assert_string_equal(quote(in, sizeof(in) - 1, 256),
			    "\"a\\\"b\\\\c\\nd\\te\\rf\\bg\\fh\\u0001i\\u001fj\x7fk\"");
	/* A NUL inside the given length is data, not the end. */
	assert_string_equal(quote("a\0b", 3, 64), "\"a\\u0000b\"");
}

static void test_utf8(void **state)
{
	(void)state;
	/* Valid sequences pass as they are. */
	assert_string_equal(quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3", 14, 64),
			    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3\"");
	/* A stray continuation byte, a cut sequence, an overlong form. */
	assert_string_equal(quote("a\x80z", 3, 64), "\"a\\ufffdz\"");
	assert_string_equal(quote("a\xe2\x82", 3, 64), "\"a\\ufffd\\ufffd\"");
	assert_string_equal(quote("\xc0\xaf", 2, 64), "\"\\ufffd\\ufffd\"");
}

/* Exactly fitting is whole; one byte less is cut with "..." in the room. */
static void test_cut_at_the_limit(void **state)
{
	char long_text[4000];

	(void)state;
	assert_string_equal(quote("abcdefgh", 8, 10), "\"abcdefgh\"");
	assert_string_equal(quote("abcdefgh", 8, 9), "\"abcd...\"");
	assert_string_equal(quote("abcdefgh", 8, 8), "\"abc...\"");
	memset(long_text, 'x', sizeof(long_text));
	assert_int_equal(strlen(quote(long_text, sizeof(long_text), 1024)), 1024);
	assert_string_equal(quote(long_text, sizeof(long_text), 1024) + 1019, "x...\"");
	assert_int_equal(sn_json_quote((char[8]){0}, 7, "abc", 3), 0);
}

/* A cut never splits an escape or a multi-byte character. */
static void test_cut_keeps_escapes_whole(void **state)
{
	(void)state;
	assert_string_equal(quote("ab\ncdefgh", 9, 8), "\"ab...\"");
	assert_string_equal(quote("abc\ncdefgh", 10, 9), "\"abc...\"");
	assert_string_equal(quote("a\x01zzzzzzzzz", 11, 11), "\"a...\"");
	assert_string_equal(quote("a\x01zzzzzzzzz", 11, 12), "\"a\\u0001...\"");
	assert_string_equal(quote("ab\xe2\x82\xac" "cdefgh", 11, 9), "\"ab...\"");
	assert_string_equal(quote("abc\xe2\x82\xac" "defgh", 11, 11), "\"abc\xe2\x82\xac...\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_text_is_copied),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_utf8),
	    cmocka_unit_test(test_cut_at_the_limit),
	    cmocka_unit_test(test_cut_keeps_escapes_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
