/* test_signature.c - cosign signature documents (rewriter/signature.c): the
 * simple-signing payload built byte for byte and parsed strictly, the
 * signature tag, repository comparison, the signature image (config and
 * manifest, appending to an existing one), and the sensor-layer labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../layers/hash.h"
#include "../../manifest/config.h"
#include "../../manifest/image.h"
#include "../../manifest/mediatype.h"
#include "../../rewriter/signature.h"

#define H64 "a77d662fa89b8dbbba908f3027bc8f45e460875031f771857f97836b5eae849f"
#define D "sha256:" H64
#define D2 "sha256:34a69a4580422a12b92bb2716796ff3be346fbfa9bec9aeef71c003f6db66def"

static void test_payload_build(void **state)
{
	static const char want[] =
	    "{\"critical\":{\"identity\":{\"docker-reference\":\"localhost:5000/team/app\"},"
	    "\"image\":{\"docker-manifest-digest\":\"" D "\"},"
	    "\"type\":\"cosign container image signature\"},"
	    "\"optional\":{\"creator\":\"inlay " INLAY_VERSION "\"}}";
	struct rw_payload p;
	char *s, *again;
	size_t n, n2;
	struct err e;

	(void)state;
	assert_int_equal(rw_payload_build("localhost:5000/team/app", D, &s, &n, &e), 0);
	assert_string_equal(s, want);
	assert_int_equal(n, strlen(want));
	/* Deterministic: no timestamp, nothing random. */
	assert_int_equal(rw_payload_build("localhost:5000/team/app", D, &again, &n2, &e), 0);
	assert_string_equal(s, again);
	assert_int_equal(rw_payload_parse(s, n, &p, &e), 0);
	assert_string_equal(p.digest, D);
	assert_string_equal(p.docker_reference, "localhost:5000/team/app");
	rw_payload_clear(&p);
	free(s);
	free(again);
	assert_int_equal(rw_payload_build("r", "sha256:abc", &s, &n, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_int_equal(rw_payload_build("", D, &s, &n, &e), -1);
}

static void test_payload_parse_foreign(void **state)
{
	/* What cosign writes (optional null), and what containers/image writes
	 * (creator and timestamp), with keys in another order. */
	static const char *const ok[] = {
	    "{\"critical\":{\"identity\":{\"docker-reference\":\"index.docker.io/library/"
	    "busybox\"},"
	    "\"image\":{\"docker-manifest-digest\":\"" D "\"},\"type\":\"cosign container image "
	    "signature\"},\"optional\":null}",
	    "{\"optional\":{\"creator\":\"containers/image\",\"timestamp\":1700000000},"
	    "\"critical\":{\"type\":\"cosign container image signature\",\"image\":"
	    "{\"docker-manifest-digest\":\"" D
	    "\"},\"identity\":{\"docker-reference\":\"q.io/a/b:1\"}}}",
	    " {\"critical\":{\"identity\":{\"docker-reference\":\"x\"},\"image\":{\"docker-"
	    "manifest-"
	    "digest\":\"" D "\"},\"type\":\"cosign container image signature\"},\"optional\":{}}\n",
	};
	struct rw_payload p;
	size_t i;
	struct err e;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (rw_payload_parse(ok[i], strlen(ok[i]), &p, &e) < 0)
			fail_msg("payload %zu refused: %s", i, e.msg);
		assert_string_equal(p.digest, D);
		rw_payload_clear(&p);
	}
}

#define CRIT(identity, image, type)                                                                \
	"{\"critical\":{\"identity\":" identity ",\"image\":" image ",\"type\":" type "},"         \
	"\"optional\":null}"
#define GOOD_ID "{\"docker-reference\":\"r/a\"}"
#define GOOD_IMG "{\"docker-manifest-digest\":\"" D "\"}"
#define GOOD_TYPE "\"cosign container image signature\""

static void test_payload_parse_refusals(void **state)
{
	static const char *const bad[] = {
	    "",
	    "null",
	    "[]",
	    "not json",
	    "{\"critical\":{}}",
	    "{\"optional\":null}",
	    "{\"critical\":{},\"optional\":null,\"extra\":1}",
	    CRIT(GOOD_ID, GOOD_IMG, "\"atomic container signature\""),
	    CRIT(GOOD_ID, GOOD_IMG, "1"),
	    CRIT(GOOD_ID, "{\"docker-manifest-digest\":\"sha256:abc\"}", GOOD_TYPE),
	    CRIT(GOOD_ID, "{\"docker-manifest-digest\":\"SHA256:" H64 "\"}", GOOD_TYPE),
	    CRIT(GOOD_ID, "{\"docker-manifest-digest\":\"" D "\",\"x\":1}", GOOD_TYPE),
	    CRIT(GOOD_ID, "{}", GOOD_TYPE),
	    CRIT("{\"docker-reference\":\"\"}", GOOD_IMG, GOOD_TYPE),
	    CRIT("{\"docker-reference\":7}", GOOD_IMG, GOOD_TYPE),
	    CRIT("{\"docker-reference\":\"r\",\"x\":\"y\"}", GOOD_IMG, GOOD_TYPE),
	    CRIT("\"r/a\"", GOOD_IMG, GOOD_TYPE),
	    /* an extra critical field */
	    "{\"critical\":{\"identity\":" GOOD_ID ",\"image\":" GOOD_IMG ",\"type\":" GOOD_TYPE
	    ",\"more\":1},\"optional\":null}",
	    /* a duplicate key: two readers could see two different digests */
	    "{\"critical\":{\"identity\":" GOOD_ID ",\"image\":{\"docker-manifest-digest\":\"" D
	    "\",\"docker-manifest-digest\":\"" D2 "\"},\"type\":" GOOD_TYPE "},\"optional\":null}",
	    /* optional neither null nor an object */
	    "{\"critical\":{\"identity\":" GOOD_ID ",\"image\":" GOOD_IMG ",\"type\":" GOOD_TYPE
	    "},\"optional\":5}",
	    /* trailing bytes */
	    CRIT(GOOD_ID, GOOD_IMG, GOOD_TYPE) "{}",
	};
	static const char good[] = CRIT(GOOD_ID, GOOD_IMG, GOOD_TYPE);
	struct rw_payload p;
	char *big;
	size_t i;
	struct err e;

	(void)state;
	assert_int_equal(rw_payload_parse(good, strlen(good), &p, &e), 0);
	rw_payload_clear(&p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rw_payload_parse(bad[i], strlen(bad[i]), &p, &e) == 0)
			fail_msg("payload %zu accepted: %s", i, bad[i]);
		assert_int_equal(e.cls, ERR_VERIFY);
	}
	/* A NUL inside: the bytes signed are not the text a C reader sees. */
	assert_int_equal(rw_payload_parse(good, strlen(good) + 1, &p, &e), -1);
	big = malloc(RW_PAYLOAD_MAX + 2);
	memset(big, ' ', RW_PAYLOAD_MAX + 1);
	memcpy(big, good, strlen(good));
	assert_int_equal(rw_payload_parse(big, RW_PAYLOAD_MAX + 1, &p, &e), -1);
	assert_non_null(strstr(e.msg, "more than"));
	free(big);
}

static void test_signature_tag(void **state)
{
	char tag[RW_SIGNATURE_TAG_MAX];
	struct err e;

	(void)state;
	assert_int_equal(rw_signature_tag(D, tag, &e), 0);
	assert_string_equal(tag, "sha256-" H64 ".sig");
	assert_int_equal(rw_signature_tag("sha512:" H64 H64, tag, &e), 0);
	assert_string_equal(tag, "sha512-" H64 H64 ".sig");
	assert_int_equal(rw_signature_tag("sha256:" H64 "0", tag, &e), -1);
	assert_int_equal(rw_signature_tag("latest", tag, &e), -1);
}

static void test_same_repository(void **state)
{
	static const struct {
		const char *a, *b;
		bool same;
	} cases[] = {
	    {"localhost:5000/app", "localhost:5000/app", true},
	    {"127.0.0.1:5000/app", "127.0.0.1:5000/app:1", true},
	    {"docker.io/library/busybox", "index.docker.io/library/busybox", true},
	    {"docker.io/library/busybox", "busybox", true},
	    {"index.docker.io/busybox", "docker.io/library/busybox", true},
	    {"registry-1.docker.io/team/app", "docker.io/team/app", true},
	    {"localhost:5000/app", "localhost:5001/app", false},
	    {"localhost:5000/app", "localhost:5000/app2", false},
	    {"localhost:5000/team/app", "localhost:5000/app", false},
	    {"quay.io/busybox", "docker.io/library/busybox", false},
	    {"oci:/tmp/x", "oci:/tmp/x", true},
	    {"oci:/tmp/x", "oci:/tmp/y", false},
	    {"not a reference", "localhost:5000/app", false},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (rw_same_repository(cases[i].a, cases[i].b) != cases[i].same)
			fail_msg("'%s' vs '%s': expected %s", cases[i].a, cases[i].b,
				 cases[i].same ? "same" : "different");
}

static void test_sig_image_build(void **state)
{
	static const char want_cfg[] =
	    "{\"architecture\":\"\",\"created\":\"0001-01-01T00:00:00Z\",\"history\":[{\"created\":"
	    "\"0001-01-01T00:00:00Z\"}],\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
	    "\"" D2 "\"]},\"config\":{}}";
	char want_man[1024], cfg_digest[LY_DIGEST_MAX];
	struct rw_sig_image img, img2;
	struct rw_sig_manifest *sm;
	struct mf_manifest *m;
	const struct rw_sig_entry *ent;
	struct err e;

	(void)state;
	assert_int_equal(rw_sig_image_build(NULL, D2, 256, "c2lnbmF0dXJl", &img, &e), 0);
	assert_string_equal(img.config, want_cfg);
	ly_sha256_digest(want_cfg, strlen(want_cfg), cfg_digest);
	assert_string_equal(img.config_digest, cfg_digest);
	snprintf(
	    want_man, sizeof(want_man),
	    "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%"
	    "zu,"
	    "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"%s\",\"size\":256,\"digest\":\"" D2
	    "\",\"annotations\":{\"%s\":\"c2lnbmF0dXJl\"}}]}",
	    MT_OCI_MANIFEST, MT_OCI_CONFIG, strlen(want_cfg), cfg_digest, MT_COSIGN_SIMPLESIGNING,
	    ANN_COSIGN_SIGNATURE);
	assert_string_equal(img.manifest, want_man);
	ly_sha256_digest(img.manifest, img.manifest_len, cfg_digest);
	assert_string_equal(img.manifest_digest, cfg_digest);

	/* inlay's own manifest reader takes it as an ordinary OCI image. */
	assert_int_equal(mf_manifest_parse(img.manifest, img.manifest_len, NULL, &m, &e), 0);
	assert_int_equal(mf_manifest_layer_count(m), 1);
	assert_string_equal(mf_descriptor_annotation(mf_manifest_layer(m, 0), ANN_COSIGN_SIGNATURE),
			    "c2lnbmF0dXJl");
	mf_manifest_free(m);

	/* Parsed back, then a second signature appended: the first is kept
	 * as it was, and the config lists both. */
	assert_int_equal(rw_sig_manifest_parse(img.manifest, img.manifest_len, &sm, &e), 0);
	assert_int_equal(rw_sig_manifest_count(sm), 1);
	ent = rw_sig_manifest_entry(sm, 0);
	assert_true(ent->simplesigning);
	assert_string_equal(ent->digest, D2);
	assert_int_equal(ent->size, 256);
	assert_string_equal(ent->signature, "c2lnbmF0dXJl");
	assert_null(rw_sig_manifest_entry(sm, 1));
	assert_int_equal(rw_sig_image_build(sm, D, 100, "b3RoZXI=", &img2, &e), 0);
	rw_sig_manifest_free(sm);
	assert_non_null(strstr(img2.config, "\"diff_ids\":[\"" D2 "\",\"" D "\"]"));
	assert_non_null(strstr(img2.config, "\"history\":[{\"created\":\"0001-01-01T00:00:00Z\"},"
					    "{\"created\":\"0001-01-01T00:00:00Z\"}]"));
	assert_int_equal(rw_sig_manifest_parse(img2.manifest, img2.manifest_len, &sm, &e), 0);
	assert_int_equal(rw_sig_manifest_count(sm), 2);
	assert_string_equal(rw_sig_manifest_entry(sm, 0)->signature, "c2lnbmF0dXJl");
	assert_string_equal(rw_sig_manifest_entry(sm, 1)->signature, "b3RoZXI=");
	assert_string_equal(rw_sig_manifest_entry(sm, 1)->digest, D);
	rw_sig_manifest_free(sm);
	rw_sig_image_clear(&img);
	rw_sig_image_clear(&img2);
}

static void test_sig_manifest_keeps_foreign_layers(void **state)
{
	/* A keyless cosign signature carries a certificate and a bundle: both
	 * must survive inlay adding its own signature beside it. */
	static const char doc[] =
	    "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"config\":{\"mediaType\":"
	    "\"" MT_OCI_CONFIG "\",\"size\":1,\"digest\":\"" D
	    "\"},\"layers\":[{\"mediaType\":\"" MT_COSIGN_SIMPLESIGNING
	    "\",\"size\":5,\"digest\":\"" D2 "\",\"annotations\":{\"" ANN_COSIGN_SIGNATURE
	    "\":\"QQ==\",\"dev.sigstore.cosign/certificate\":\"CERT\",\"dev.sigstore.cosign/"
	    "bundle\":"
	    "\"{}\"}},{\"mediaType\":\"text/plain\",\"size\":0,\"digest\":\"" D "\"}]}";
	struct rw_sig_manifest *sm;
	struct rw_sig_image img;
	struct err e;

	(void)state;
	assert_int_equal(rw_sig_manifest_parse(doc, strlen(doc), &sm, &e), 0);
	assert_int_equal(rw_sig_manifest_count(sm), 2);
	assert_false(rw_sig_manifest_entry(sm, 1)->simplesigning);
	assert_null(rw_sig_manifest_entry(sm, 1)->signature);
	assert_int_equal(rw_sig_image_build(sm, D, 10, "Qg==", &img, &e), 0);
	assert_non_null(strstr(img.manifest, "\"dev.sigstore.cosign/certificate\":\"CERT\""));
	assert_non_null(strstr(img.manifest, "\"dev.sigstore.cosign/bundle\":\"{}\""));
	rw_sig_manifest_free(sm);
	rw_sig_image_clear(&img);
}

static void test_sig_manifest_refusals(void **state)
{
#define LAYER(x) "{\"schemaVersion\":2,\"layers\":[" x "]}"
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"schemaVersion\":1,\"layers\":[]}",
	    "{\"schemaVersion\":2}",
	    "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"layers\":[]}",
	    LAYER("1"),
	    LAYER("{\"mediaType\":\"x\",\"size\":1,\"digest\":\"sha256:abc\"}"),
	    LAYER("{\"mediaType\":\"x\",\"size\":-1,\"digest\":\"" D "\"}"),
	    LAYER("{\"size\":1,\"digest\":\"" D "\"}"),
	    LAYER("{\"mediaType\":\"x\",\"size\":1,\"digest\":\"" D "\",\"annotations\":[]}"),
	    LAYER("{\"mediaType\":\"x\",\"size\":1,\"digest\":\"" D
		  "\",\"annotations\":{\"" ANN_COSIGN_SIGNATURE "\":1}}"),
	};
	struct rw_sig_manifest *sm;
	char *many;
	size_t i, off;
	struct err e;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rw_sig_manifest_parse(bad[i], strlen(bad[i]), &sm, &e) == 0)
			fail_msg("signature manifest %zu accepted: %s", i, bad[i]);
		assert_int_equal(e.cls, ERR_INPUT);
	}
	/* No more layers than inlay is willing to try. */
	many = malloc(200 * (RW_SIG_LAYERS_MAX + 2));
	off = (size_t)sprintf(many, "{\"schemaVersion\":2,\"layers\":[");
	for (i = 0; i <= RW_SIG_LAYERS_MAX; i++)
		off += (size_t)sprintf(many + off,
				       "%s{\"mediaType\":\"x\",\"size\":1,\"digest\":\"" D "\"}",
				       i ? "," : "");
	strcpy(many + off, "]}");
	assert_int_equal(rw_sig_manifest_parse(many, strlen(many), &sm, &e), -1);
	assert_non_null(strstr(e.msg, "more than"));
	free(many);
#undef LAYER
}

static void test_sensor_labels(void **state)
{
	static const char cfg_json[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
				       "\"Labels\":{\"a\":\"b\"}},\"rootfs\":{\"type\":\"layers\","
				       "\"diff_ids\":[]}}";
	struct mf_config *cfg;
	struct ly_key *k;
	char fp[LY_DIGEST_MAX], *out;
	size_t len;
	struct err e;

	(void)state;
	assert_int_equal(ly_key_generate(LY_KEY_ED25519, &k, &e), 0);
	assert_int_equal(ly_key_fingerprint(k, fp, &e), 0);
	assert_int_equal(mf_config_parse(cfg_json, strlen(cfg_json), &cfg, &e), 0);
	/* No key: nothing changes. */
	assert_int_equal(rw_sensor_labels_sign(NULL, cfg, D2, &e), 0);
	assert_null(mf_config_label(cfg, LABEL_SENSOR_SIGNATURE));
	assert_int_equal(rw_sensor_labels_sign(k, cfg, D2, &e), 0);
	assert_string_equal(mf_config_label(cfg, LABEL_SENSOR_SIGNER), fp);
	/* The signature is over the digest's ASCII text, nothing more. */
	assert_int_equal(
	    ly_verify_base64(k, D2, strlen(D2), mf_config_label(cfg, LABEL_SENSOR_SIGNATURE), &e),
	    0);
	assert_int_equal(
	    ly_verify_base64(k, D, strlen(D), mf_config_label(cfg, LABEL_SENSOR_SIGNATURE), &e),
	    -1);
	/* Signature before signer, after the labels already there. */
	assert_int_equal(mf_config_serialize(cfg, &out, &len, &e), 0);
	assert_true(strstr(out, "\"a\":\"b\"") < strstr(out, LABEL_SENSOR_SIGNATURE));
	assert_true(strstr(out, LABEL_SENSOR_SIGNATURE) < strstr(out, LABEL_SENSOR_SIGNER));
	free(out);
	mf_config_free(cfg);
	ly_key_free(k);
}

static void test_platform_filters(void **state)
{
	struct mf_descriptor d = {0};
	struct mf_platform want[2];
	struct err e;

	(void)state;
	assert_int_equal(mf_platform_parse("linux/amd64", &want[0], &e), 0);
	assert_int_equal(mf_platform_parse("linux/arm64", &want[1], &e), 0);
	d.platform.os = "unknown";
	d.platform.architecture = "unknown";
	assert_true(rw_is_attestation(&d));
	d.platform.os = "linux";
	d.platform.architecture = "arm64";
	assert_false(rw_is_attestation(&d));
	assert_true(rw_platform_selected(&d.platform, NULL, 0));
	assert_true(rw_platform_selected(&d.platform, want, 2));
	assert_false(rw_platform_selected(&d.platform, want, 1));
	d.platform.os = NULL;
	d.platform.architecture = NULL;
	assert_false(rw_platform_selected(&d.platform, want, 2));
	mf_platform_clear(&want[0]);
	mf_platform_clear(&want[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_payload_build),
	    cmocka_unit_test(test_payload_parse_foreign),
	    cmocka_unit_test(test_payload_parse_refusals),
	    cmocka_unit_test(test_signature_tag),
	    cmocka_unit_test(test_same_repository),
	    cmocka_unit_test(test_sig_image_build),
	    cmocka_unit_test(test_sig_manifest_keeps_foreign_layers),
	    cmocka_unit_test(test_sig_manifest_refusals),
	    cmocka_unit_test(test_sensor_labels),
	    cmocka_unit_test(test_platform_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
