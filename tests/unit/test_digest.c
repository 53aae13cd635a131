/* test_digest.c - digest syntax (manifest/digest.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../manifest/digest.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H128 H64 H64

static void test_valid(void **state)
{
	static const char *const ok[] = {
	    "sha256:" H64,
	    "sha512:" H128,
	    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	};
	static const char *const bad[] = {
	    "",
	    "sha256:",
	    "sha256",
	    H64,
	    "sha256:" H64 "0",
	    "sha256:" H64 "\n",
	    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	    "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	    "sha256:g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "SHA256:" H64,
	    "sha384:" H64 "0123456789abcdef0123456789abcdef",
	    "sha512:" H64,
	    "md5:0123456789abcdef0123456789abcdef",
	    " sha256:" H64,
	    "sha256::" H64,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!mf_digest_valid(ok[i]))
			fail_msg("\"%s\" should be valid", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mf_digest_valid(bad[i]))
			fail_msg("\"%s\" should be invalid", bad[i]);
	assert_false(mf_digest_valid(NULL));
}

static void test_check_messages(void **state)
{
	struct err e = {0};

	(void)state;
	assert_int_equal(mf_digest_check("sha256:" H64, "layer 3 digest", &e), 0);
	assert_int_equal(e.cls, ERR_OK);

	assert_int_equal(mf_digest_check("sha256:abc", "layer 3 digest", &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "layer 3 digest: "));
	assert_non_null(strstr(e.msg, "not a valid sha256 digest"));
	assert_non_null(strstr(e.msg, "got 3 characters"));

	assert_int_equal(mf_digest_check("md5:abc", "config digest", &e), -1);
	assert_non_null(strstr(e.msg, "config digest: unsupported digest algorithm \"md5\""));

	assert_int_equal(mf_digest_check("nonsense", "x", &e), -1);
	assert_non_null(strstr(e.msg, "is not a digest"));

	assert_int_equal(mf_digest_check(NULL, "x", &e), -1);
	assert_string_equal(e.msg, "x: missing digest");

	assert_int_equal(mf_digest_check("sha256:" H64 "X", NULL, &e), -1);
	assert_non_null(strstr(e.msg, "digest: "));
	assert_non_null(strstr(e.msg, "non-hex or uppercase"));

	/* A NULL error object is allowed. */
	assert_int_equal(mf_digest_check("bad", "x", NULL), -1);
}

static void test_parts(void **state)
{
	char alg[8];

	(void)state;
	assert_string_equal(mf_digest_hex("sha256:" H64), H64);
	assert_string_equal(mf_digest_hex("sha512:" H128), H128);
	mf_digest_algorithm("sha256:" H64, alg);
	assert_string_equal(alg, "sha256");
	mf_digest_algorithm("sha512:" H128, alg);
	assert_string_equal(alg, "sha512");
	mf_digest_algorithm("md5:00", alg);
	assert_string_equal(alg, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_check_messages),
	    cmocka_unit_test(test_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
