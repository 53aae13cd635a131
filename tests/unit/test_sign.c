/* test_sign.c - signing primitives (layers/sign.c): RFC 8032 and RFC 4648
 * vectors, sign/verify round trips for both key types, PEM round trips
 * (plain and encrypted), key types refused, key file permissions and the
 * never-overwrite rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../../layers/sign.h"

/* RFC 8032 section 7.1, tests 1 and 2, as PKCS#8 PEM (the 32-byte seed
 * after the fixed prefix 302e020100300506032b657004220420). */
static const char vec1_pem[] = "-----BEGIN PRIVATE KEY-----\n"
			       "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
			       "-----END PRIVATE KEY-----\n";
static const char vec1_pub[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char vec1_sig[] = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
			       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
static const char vec2_pem[] = "-----BEGIN PRIVATE KEY-----\n"
			       "MC4CAQAwBQYDK2VwBCIEIEzNCJso/5banbbDRuwRTg9bijGfNaumJNqM9u1PuKb7\n"
			       "-----END PRIVATE KEY-----\n";
static const char vec2_sig[] = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
			       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

static const char layer_digest[] =
    "sha256:34a69a4580422a12b92bb2716796ff3be346fbfa9bec9aeef71c003f6db66def";

static void hex(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

static struct ly_key *load_pem(const char *pem)
{
	struct ly_key *k = NULL;
	struct err e;

	if (ly_key_from_private_pem(pem, strlen(pem), "test key", NULL, NULL, &k, &e) < 0)
		fail_msg("load: %s", e.msg);
	return k;
}

static void test_base64_vectors(void **state)
{
	static const char *const v[][2] = {
	    {"", ""},
	    {"f", "Zg=="},
	    {"fo", "Zm8="},
	    {"foo", "Zm9v"},
	    {"foob", "Zm9vYg=="},
	    {"fooba", "Zm9vYmE="},
	    {"foobar", "Zm9vYmFy"},
	};
	static const char *const bad[] = {
	    "Zg=",	/* length not a multiple of 4 */
	    "Zg=a",	/* padding inside */
	    "Z===",	/* too much padding */
	    "====",	/* nothing but padding */
	    "Zh==",	/* non-zero bits before the padding */
	    "Zm9=",	/* likewise, one '=' */
	    "Zm9v\n",	/* whitespace */
	    " Zm9v",	/* whitespace */
	    "Zm-v",	/* URL alphabet */
	    "Zm_v",	/* URL alphabet */
	    "Zg==Zg==", /* padding in the middle */
	};
	unsigned char *out;
	char *text;
	size_t i, n;
	struct err e;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(ly_base64_encode(v[i][0], strlen(v[i][0]), &text, &e), 0);
		assert_string_equal(text, v[i][1]);
		free(text);
		assert_int_equal(ly_base64_decode(v[i][1], strlen(v[i][1]), 64, &out, &n, &e), 0);
		assert_int_equal(n, strlen(v[i][0]));
		assert_memory_equal(out, v[i][0], n);
		free(out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ly_base64_decode(bad[i], strlen(bad[i]), 64, &out, &n, &e) == 0)
			fail_msg("'%s' should be refused", bad[i]);
		assert_int_equal(e.cls, ERR_INPUT);
	}
	/* The bound is on decoded bytes. */
	assert_int_equal(ly_base64_decode("Zm9vYmFy", 8, 5, &out, &n, &e), -1);
	assert_non_null(strstr(e.msg, "more than 5"));
	assert_int_equal(ly_base64_decode("Zm9vYmFy", 8, 6, &out, &n, &e), 0);
	free(out);
}

static void test_base64_round_trip(void **state)
{
	unsigned char data[300], *out;
	char *text;
	size_t len, n, i;
	struct err e;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (len = 0; len <= sizeof(data); len++) {
		assert_int_equal(ly_base64_encode(data, len, &text, &e), 0);
		assert_int_equal(strlen(text), (len + 2) / 3 * 4);
		assert_int_equal(ly_base64_decode(text, strlen(text), sizeof(data), &out, &n, &e),
				 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, data, len);
		free(out);
		free(text);
	}
}

static void test_rfc8032_vectors(void **state)
{
	struct ly_key *k1 = load_pem(vec1_pem), *k2 = load_pem(vec2_pem);
	unsigned char *sig, *der;
	char got[300], fp[LY_DIGEST_MAX], want_fp[LY_DIGEST_MAX];
	size_t n, der_len;
	struct err e;

	(void)state;
	assert_int_equal(ly_key_type(k1), LY_KEY_ED25519);
	assert_true(ly_key_is_private(k1));
	/* The public key DER is SubjectPublicKeyInfo: a fixed prefix, then the
	 * RFC's public key. */
	assert_int_equal(ly_key_public_der(k1, &der, &der_len, &e), 0);
	assert_int_equal(der_len, 44);
	hex(der + 12, 32, got);
	assert_string_equal(got, vec1_pub);
	/* The signer fingerprint is sha256 of exactly those bytes. */
	ly_sha256_digest(der, der_len, want_fp);
	assert_int_equal(ly_key_fingerprint(k1, fp, &e), 0);
	assert_string_equal(fp, want_fp);
	free(der);

	assert_int_equal(ly_sign(k1, "", 0, &sig, &n, &e), 0);
	assert_int_equal(n, 64);
	hex(sig, n, got);
	assert_string_equal(got, vec1_sig);
	assert_int_equal(ly_verify(k1, "", 0, sig, n, &e), 0);
	free(sig);

	assert_int_equal(ly_sign(k2, "\x72", 1, &sig, &n, &e), 0);
	hex(sig, n, got);
	assert_string_equal(got, vec2_sig);
	assert_int_equal(ly_verify(k2, "\x72", 1, sig, n, &e), 0);
	assert_int_equal(ly_verify(k1, "\x72", 1, sig, n, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	free(sig);
	ly_key_free(k1);
	ly_key_free(k2);
}

static void round_trip(enum ly_key_type t)
{
	struct ly_key *k = NULL, *other = NULL;
	unsigned char *s1, *s2;
	size_t n1, n2;
	char *b64;
	struct err e;

	assert_int_equal(ly_key_generate(t, &k, &e), 0);
	assert_int_equal(ly_key_generate(t, &other, &e), 0);
	assert_int_equal(ly_key_type(k), t);
	assert_int_equal(ly_sign(k, layer_digest, strlen(layer_digest), &s1, &n1, &e), 0);
	assert_int_equal(ly_sign(k, layer_digest, strlen(layer_digest), &s2, &n2, &e), 0);
	if (t == LY_KEY_ED25519) {
		/* Deterministic: what keeps signed images reproducible. */
		assert_int_equal(n1, 64);
		assert_int_equal(n2, 64);
		assert_memory_equal(s1, s2, 64);
	} else {
		/* DER SEQUENCE of two INTEGERs, random nonce: differs each time. */
		assert_int_equal(s1[0], 0x30);
		assert_true(n1 <= 72);
		assert_false(n1 == n2 && memcmp(s1, s2, n1) == 0);
	}
	assert_int_equal(ly_verify(k, layer_digest, strlen(layer_digest), s1, n1, &e), 0);
	assert_int_equal(ly_verify(k, layer_digest, strlen(layer_digest), s2, n2, &e), 0);
	/* Another message, another key, a changed signature: all refused. */
	assert_int_equal(ly_verify(k, layer_digest, strlen(layer_digest) - 1, s1, n1, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	assert_int_equal(ly_verify(other, layer_digest, strlen(layer_digest), s1, n1, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	s1[n1 / 2] ^= 1;
	assert_int_equal(ly_verify(k, layer_digest, strlen(layer_digest), s1, n1, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	assert_int_equal(ly_verify(k, layer_digest, strlen(layer_digest), s1, 0, &e), -1);
	/* The base64 forms used in labels and annotations. */
	assert_int_equal(ly_sign_base64(k, "payload", 7, &b64, &e), 0);
	assert_int_equal(ly_verify_base64(k, "payload", 7, b64, &e), 0);
	assert_int_equal(ly_verify_base64(k, "payloaD", 7, b64, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	assert_int_equal(ly_verify_base64(k, "payload", 7, "not base64!", &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	free(b64);
	free(s1);
	free(s2);
	ly_key_free(k);
	ly_key_free(other);
}

static void test_round_trip_ed25519(void **state)
{
	(void)state;
	round_trip(LY_KEY_ED25519);
}

static void test_round_trip_ecdsa(void **state)
{
	(void)state;
	round_trip(LY_KEY_ECDSA_P256);
}

struct pass_ctx {
	const char *pass;
	int calls;
};

static int give_pass(char *buf, size_t size, const char *what, void *ctx, struct err *e)
{
	struct pass_ctx *p = ctx;

	(void)what;
	p->calls++;
	if (!p->pass)
		return err_set(e, ERR_INPUT, "nobody to ask");
	snprintf(buf, size, "%s", p->pass);
	return (int)strlen(p->pass);
}

static void test_pem_round_trip(void **state)
{
	enum ly_key_type types[] = {LY_KEY_ED25519, LY_KEY_ECDSA_P256};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct ly_key *k = NULL, *back = NULL, *pub = NULL;
		char fp[LY_DIGEST_MAX], fp2[LY_DIGEST_MAX], *pem, *enc, *ppem, *b64;
		struct pass_ctx pc = {"correct horse", 0};
		size_t len, elen, plen;
		struct err e;

		assert_int_equal(ly_key_generate(types[i], &k, &e), 0);
		assert_int_equal(ly_key_fingerprint(k, fp, &e), 0);
		assert_int_equal(ly_key_private_pem(k, NULL, &pem, &len, &e), 0);
		assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
		assert_int_equal(ly_key_from_private_pem(pem, len, "k", NULL, NULL, &back, &e), 0);
		assert_int_equal(ly_key_fingerprint(back, fp2, &e), 0);
		assert_string_equal(fp, fp2);
		ly_key_free(back);
		back = NULL;

		/* Encrypted: PKCS#8 with a passphrase, asked exactly once. */
		assert_int_equal(ly_key_private_pem(k, "correct horse", &enc, &elen, &e), 0);
		assert_non_null(strstr(enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
		assert_int_equal(ly_key_from_private_pem(enc, elen, "k", give_pass, &pc, &back, &e),
				 0);
		assert_int_equal(pc.calls, 1);
		assert_int_equal(ly_key_fingerprint(back, fp2, &e), 0);
		assert_string_equal(fp, fp2);
		ly_key_free(back);
		back = NULL;
		pc.pass = "wrong";
		assert_int_equal(ly_key_from_private_pem(enc, elen, "k", give_pass, &pc, &back, &e),
				 -1);
		assert_int_equal(e.cls, ERR_INPUT);
		assert_non_null(strstr(e.msg, "wrong passphrase"));
		pc.pass = NULL;
		assert_int_equal(ly_key_from_private_pem(enc, elen, "k", give_pass, &pc, &back, &e),
				 -1);
		assert_string_equal(e.msg, "nobody to ask");
		assert_int_equal(ly_key_from_private_pem(enc, elen, "k.key", NULL, NULL, &back, &e),
				 -1);
		assert_non_null(strstr(e.msg, "k.key is encrypted"));

		/* The public half verifies what the private half signs, and
		 * cannot sign itself. */
		assert_int_equal(ly_key_public_pem(k, &ppem, &plen, &e), 0);
		assert_non_null(strstr(ppem, "-----BEGIN PUBLIC KEY-----"));
		assert_int_equal(ly_key_from_public_pem(ppem, plen, "pub", &pub, &e), 0);
		assert_false(ly_key_is_private(pub));
		assert_int_equal(ly_key_fingerprint(pub, fp2, &e), 0);
		assert_string_equal(fp, fp2);
		assert_int_equal(ly_sign_base64(k, layer_digest, strlen(layer_digest), &b64, &e),
				 0);
		assert_int_equal(ly_verify_base64(pub, layer_digest, strlen(layer_digest), b64, &e),
				 0);
		free(b64);
		assert_int_equal(ly_sign_base64(pub, "x", 1, &b64, &e), -1);
		/* A public key is not a private key, nor the reverse. */
		assert_int_equal(ly_key_from_private_pem(ppem, plen, "pub", NULL, NULL, &back, &e),
				 -1);
		assert_non_null(strstr(e.msg, "not a PEM private key"));
		assert_int_equal(ly_key_from_public_pem(pem, len, "priv", &back, &e), -1);
		assert_non_null(strstr(e.msg, "not a PEM public key"));

		explicit_bzero(pem, len);
		free(pem);
		free(enc);
		free(ppem);
		ly_key_free(k);
		ly_key_free(pub);
	}
}

/* A PEM of a key type inlay refuses, made with OpenSSL directly. */
static char *foreign_pem(EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *mem, *copy;
	long n;

	assert_non_null(pkey);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(bio, &mem);
	copy = strndup(mem, (size_t)n);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return copy;
}

static void test_key_types_refused(void **state)
{
	char *rsa = foreign_pem(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
	char *p384 = foreign_pem(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
	struct ly_key *k = NULL;
	enum ly_key_type t;
	struct err e;

	(void)state;
	assert_int_equal(ly_key_from_private_pem(rsa, strlen(rsa), "rsa.key", NULL, NULL, &k, &e),
			 -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "Ed25519 or ECDSA P-256"));
	assert_int_equal(
	    ly_key_from_private_pem(p384, strlen(p384), "p384.key", NULL, NULL, &k, &e), -1);
	assert_non_null(strstr(e.msg, "secp384r1"));
	assert_int_equal(ly_key_from_private_pem("hello", 5, "junk", NULL, NULL, &k, &e), -1);
	assert_non_null(strstr(e.msg, "junk: not a PEM private key"));
	assert_int_equal(ly_key_from_public_pem("", 0, "empty", &k, &e), -1);
	assert_int_equal(ly_key_type_parse("ed25519", &t, &e), 0);
	assert_int_equal(t, LY_KEY_ED25519);
	assert_int_equal(ly_key_type_parse("ecdsa-p256", &t, &e), 0);
	assert_int_equal(t, LY_KEY_ECDSA_P256);
	assert_int_equal(ly_key_type_parse("rsa", &t, &e), -1);
	assert_string_equal(ly_key_type_name(LY_KEY_ECDSA_P256), "ecdsa-p256");
	free(rsa);
	free(p384);
}

static void test_key_files(void **state)
{
	char dir[] = "/tmp/inlay-test-sign.XXXXXX", path[256], pub[256], big[256],
	     fp[LY_DIGEST_MAX], fp2[LY_DIGEST_MAX], before[512], after[512];
	struct ly_key *k = NULL, *back = NULL;
	struct stat st;
	mode_t old_umask;
	FILE *f;
	size_t n;
	struct err e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k.key", dir);
	snprintf(pub, sizeof(pub), "%s/k.pub", dir);
	snprintf(big, sizeof(big), "%s/big.key", dir);
	assert_int_equal(ly_key_generate(LY_KEY_ED25519, &k, &e), 0);
	assert_int_equal(ly_key_fingerprint(k, fp, &e), 0);
	/* Modes are exact whatever the umask. */
	old_umask = umask(077);
	assert_int_equal(ly_key_write_private(k, path, NULL, &e), 0);
	assert_int_equal(ly_key_write_public(k, pub, &e), 0);
	umask(old_umask);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(pub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* Never overwritten: the old bytes stay. */
	f = fopen(path, "r");
	n = fread(before, 1, sizeof(before) - 1, f);
	before[n] = '\0';
	fclose(f);
	ly_key_free(k);
	assert_int_equal(ly_key_generate(LY_KEY_ED25519, &k, &e), 0);
	assert_int_equal(ly_key_write_private(k, path, NULL, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "already exists"));
	assert_int_equal(ly_key_write_public(k, pub, &e), -1);
	f = fopen(path, "r");
	n = fread(after, 1, sizeof(after) - 1, f);
	after[n] = '\0';
	fclose(f);
	assert_string_equal(before, after);

	/* Loading checks the mode of what it opened. */
	assert_int_equal(ly_key_load_private(path, NULL, NULL, &back, &e), 0);
	assert_int_equal(ly_key_fingerprint(back, fp2, &e), 0);
	assert_string_equal(fp, fp2);
	ly_key_free(back);
	back = NULL;
	assert_int_equal(ly_key_load_public(pub, &back, &e), 0);
	assert_int_equal(ly_key_fingerprint(back, fp2, &e), 0);
	assert_string_equal(fp, fp2);
	ly_key_free(back);
	back = NULL;
	chmod(path, 0640);
	assert_int_equal(ly_key_load_private(path, NULL, NULL, &back, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "mode 0640"));
	assert_non_null(strstr(e.msg, "chmod 600"));
	chmod(path, 0604);
	assert_int_equal(ly_key_load_private(path, NULL, NULL, &back, &e), -1);
	chmod(path, 0400);
	assert_int_equal(ly_key_load_private(path, NULL, NULL, &back, &e), 0);
	ly_key_free(back);
	back = NULL;
	/* Public keys may be world-readable. */
	assert_int_equal(ly_key_load_public(pub, &back, &e), 0);
	ly_key_free(back);
	back = NULL;

	assert_int_equal(ly_key_load_private(dir, NULL, NULL, &back, &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));
	assert_int_equal(ly_key_load_private("/nonexistent/k.key", NULL, NULL, &back, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	f = fopen(big, "w");
	for (n = 0; n <= LY_KEY_FILE_MAX; n += 16)
		fputs("0123456789abcde\n", f);
	fclose(f);
	chmod(big, 0600);
	assert_int_equal(ly_key_load_private(big, NULL, NULL, &back, &e), -1);
	assert_non_null(strstr(e.msg, "larger than"));

	unlink(path);
	unlink(pub);
	unlink(big);
	rmdir(dir);
	ly_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_vectors),    cmocka_unit_test(test_base64_round_trip),
	    cmocka_unit_test(test_rfc8032_vectors),   cmocka_unit_test(test_round_trip_ed25519),
	    cmocka_unit_test(test_round_trip_ecdsa),  cmocka_unit_test(test_pem_round_trip),
	    cmocka_unit_test(test_key_types_refused), cmocka_unit_test(test_key_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
