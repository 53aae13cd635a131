/* test_image.c - manifests and indexes (manifest/image.c): parsing, media type
 * rules, validation messages, select, the builder API and round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../manifest/image.h"
#include "../../manifest/mediatype.h"

#define HA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HB "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HC "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define HD "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define DA "sha256:" HA
#define DB "sha256:" HB
#define DC "sha256:" HC
#define DD "sha256:" HD

/* Pretty-printed on purpose: the bytes must be kept exactly. */
static const char oci_manifest[] =
    "{\n  \"schemaVersion\": 2,\n"
    "  \"mediaType\": \"" MT_OCI_MANIFEST "\",\n"
    "  \"config\": {\"mediaType\": \"" MT_OCI_CONFIG "\", \"digest\": \"" DA "\", "
    "\"size\": 1469},\n"
    "  \"layers\": [\n"
    "    {\"mediaType\": \"" MT_OCI_LAYER_GZIP "\", \"digest\": \"" DB "\", \"size\": 2100000,"
    " \"annotations\": {\"org.example.layer\": \"base\"}},\n"
    "    {\"mediaType\": \"" MT_OCI_LAYER_ZSTD "\", \"digest\": \"" DC "\", \"size\": 0,"
    " \"x-unknown\": [1, 2]}\n"
    "  ],\n"
    "  \"annotations\": {\"org.opencontainers.image.created\": \"2024-01-01T00:00:00Z\"},\n"
    "  \"x-vendor\": {\"keep\": true}\n}\n";

static const char docker_manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
    "\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"size\":7023,\"digest\":\"" DA "\"},"
    "\"layers\":[{\"mediaType\":\"" MT_DOCKER_LAYER_GZIP "\",\"size\":32654,\"digest\":\"" DB
    "\"}]}";

static const char oci_index[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DA "\",\"size\":100,"
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DB "\",\"size\":200,"
    "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"},"
    "\"x-child\":\"kept\"},"
    "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DC "\",\"size\":300,"
    "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"},"
    "\"annotations\":{\"" ANN_DOCKER_REFERENCE_TYPE "\":\"attestation-manifest\","
    "\"vnd.docker.reference.digest\":\"" DA "\"}}"
    "],\"annotations\":{\"org.example.index\":\"yes\"},\"x-top\":1}";

static const char docker_list[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":["
    "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" DA "\",\"size\":100,"
    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
    "{\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"digest\":\"" DB "\",\"size\":200,"
    "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}}]}";

static struct mf_manifest *parse_ok(const char *doc, const char *ct)
{
	struct mf_manifest *m = NULL;
	struct err e = {0};

	if (mf_manifest_parse(doc, strlen(doc), ct, &m, &e) != 0)
		fail_msg("parse failed: %s", e.msg);
	return m;
}

/* Parse must fail with ERR_INPUT and a message containing want. */
static void parse_fails(const char *doc, const char *ct, const char *want)
{
	struct mf_manifest *m = NULL;
	struct err e = {0};

	if (mf_manifest_parse(doc, strlen(doc), ct, &m, &e) == 0)
		fail_msg("parsed, expected \"%s\": %s", want, doc);
	assert_null(m);
	assert_int_equal(e.cls, ERR_INPUT);
	if (!strstr(e.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, want);
}

static void test_oci_manifest(void **state)
{
	struct mf_manifest *m = parse_ok(oci_manifest, MT_OCI_MANIFEST);
	const struct mf_descriptor *d;
	const char *bytes;
	size_t len;

	(void)state;
	assert_int_equal(mf_manifest_kind(m), MF_KIND_IMAGE);
	assert_string_equal(mf_manifest_media_type(m), MT_OCI_MANIFEST);
	bytes = mf_manifest_bytes(m, &len);
	assert_int_equal(len, strlen(oci_manifest));
	assert_memory_equal(bytes, oci_manifest, len);
	d = mf_manifest_config(m);
	assert_non_null(d);
	assert_string_equal(d->media_type, MT_OCI_CONFIG);
	assert_string_equal(d->digest, DA);
	assert_int_equal(d->size, 1469);
	assert_null(d->platform.os);
	assert_int_equal(mf_manifest_layer_count(m), 2);
	d = mf_manifest_layer(m, 0);
	assert_string_equal(d->media_type, MT_OCI_LAYER_GZIP);
	assert_int_equal(d->size, 2100000);
	assert_string_equal(mf_descriptor_annotation(d, "org.example.layer"), "base");
	assert_null(mf_descriptor_annotation(d, "nope"));
	d = mf_manifest_layer(m, 1);
	assert_string_equal(d->digest, DC);
	assert_int_equal(d->size, 0);
	assert_null(mf_manifest_layer(m, 2));
	assert_int_equal(mf_manifest_child_count(m), 0);
	assert_null(mf_manifest_child(m, 0));
	assert_string_equal(mf_manifest_annotation(m, "org.opencontainers.image.created"),
			    "2024-01-01T00:00:00Z");
	assert_null(mf_manifest_annotation(m, "x"));
	mf_manifest_free(m);
	mf_manifest_free(NULL);
}

static void test_docker_and_index_kinds(void **state)
{
	struct mf_manifest *m;
	const struct mf_descriptor *c;
	char *s;

	(void)state;
	m = parse_ok(docker_manifest, MT_DOCKER_MANIFEST);
	assert_int_equal(mf_manifest_kind(m), MF_KIND_IMAGE);
	assert_string_equal(mf_manifest_media_type(m), MT_DOCKER_MANIFEST);
	assert_string_equal(mf_manifest_config(m)->media_type, MT_DOCKER_CONFIG);
	assert_int_equal(mf_manifest_layer_count(m), 1);
	mf_manifest_free(m);

	m = parse_ok(oci_index, NULL);
	assert_int_equal(mf_manifest_kind(m), MF_KIND_INDEX);
	assert_string_equal(mf_manifest_media_type(m), MT_OCI_INDEX);
	assert_null(mf_manifest_config(m));
	assert_int_equal(mf_manifest_layer_count(m), 0);
	assert_int_equal(mf_manifest_child_count(m), 3);
	c = mf_manifest_child(m, 1);
	assert_string_equal(c->platform.os, "linux");
	assert_string_equal(c->platform.architecture, "arm64");
	assert_string_equal(c->platform.variant, "v8");
	s = mf_platform_string(&c->platform);
	assert_string_equal(s, "linux/arm64/v8");
	free(s);
	c = mf_manifest_child(m, 2);
	assert_string_equal(mf_descriptor_annotation(c, ANN_DOCKER_REFERENCE_TYPE),
			    "attestation-manifest");
	assert_string_equal(mf_manifest_annotation(m, "org.example.index"), "yes");
	mf_manifest_free(m);

	m = parse_ok(docker_list, MT_DOCKER_LIST);
	assert_int_equal(mf_manifest_kind(m), MF_KIND_INDEX);
	assert_string_equal(mf_manifest_media_type(m), MT_DOCKER_LIST);
	assert_int_equal(mf_manifest_child_count(m), 2);
	mf_manifest_free(m);
}

#define NO_MT_IMAGE                                                                                \
	"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" DA                  \
	"\",\"size\":1},\"layers\":[]}"
#define NO_MT_INDEX "{\"schemaVersion\":2,\"manifests\":[]}"

static void expect_type(const char *doc, const char *ct, const char *want)
{
	struct mf_manifest *m = parse_ok(doc, ct);

	assert_string_equal(mf_manifest_media_type(m), want);
	mf_manifest_free(m);
}

static void test_media_type_rules(void **state)
{
	(void)state;
	/* Without a mediaType field the shape decides, the Content-Type refines. */
	expect_type(NO_MT_IMAGE, NULL, MT_OCI_MANIFEST);
	expect_type(NO_MT_IMAGE, "application/json", MT_OCI_MANIFEST);
	expect_type(NO_MT_IMAGE, "application/octet-stream", MT_OCI_MANIFEST);
	expect_type(NO_MT_IMAGE, MT_DOCKER_MANIFEST, MT_DOCKER_MANIFEST);
	expect_type(NO_MT_IMAGE, " " MT_DOCKER_MANIFEST "; charset=utf-8", MT_DOCKER_MANIFEST);
	expect_type(NO_MT_IMAGE, "Application/VND.Docker.Distribution.Manifest.V2+JSON",
		    MT_DOCKER_MANIFEST);
	expect_type(NO_MT_INDEX, NULL, MT_OCI_INDEX);
	expect_type(NO_MT_INDEX, "application/json", MT_OCI_INDEX);
	expect_type(NO_MT_INDEX, MT_DOCKER_LIST, MT_DOCKER_LIST);
	expect_type(NO_MT_INDEX, MT_OCI_INDEX, MT_OCI_INDEX);
	/* The document's mediaType wins over a generic Content-Type. */
	expect_type(docker_manifest, "application/json", MT_DOCKER_MANIFEST);
	expect_type(docker_list, NULL, MT_DOCKER_LIST);
	expect_type(docker_list, "text/plain", MT_DOCKER_LIST);

	/* Conflicts between a manifest Content-Type and the document. */
	parse_fails(docker_manifest, MT_OCI_MANIFEST, "disagrees with the Content-Type");
	parse_fails(oci_index, MT_DOCKER_LIST, "disagrees with the Content-Type");
	parse_fails(NO_MT_IMAGE, MT_OCI_INDEX, "but the document is an image manifest");
	parse_fails(NO_MT_INDEX, MT_DOCKER_MANIFEST, "but the document is an index");
	/* A mediaType that contradicts the shape, or that inlay does not know. */
	parse_fails("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"config\":{},"
		    "\"layers\":[]}",
		    NULL, "but the document is an image manifest");
	parse_fails("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.foo\",\"manifests\":[]}",
		    NULL, "manifest mediaType: \"application/vnd.foo\" is not supported");
	parse_fails("{\"schemaVersion\":2,\"mediaType\":7,\"manifests\":[]}", NULL,
		    "manifest.mediaType: not a string");
}

#define LAYER(d, sz)                                                                               \
	"{\"mediaType\":\"" MT_OCI_LAYER_GZIP "\",\"digest\":\"" d "\",\"size\":" sz "}"
#define IMG(layers)                                                                                \
	"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":\"" DA    \
	"\",\"size\":1},\"layers\":[" layers "]}"
#define IDX(children) "{\"schemaVersion\":2,\"manifests\":[" children "]}"
#define CHILD(platform)                                                                            \
	"{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DA "\",\"size\":5" platform "}"

static void test_validation_messages(void **state)
{
	(void)state;
	parse_fails("", NULL, "empty document");
	parse_fails("[]", NULL, "not a JSON object");
	parse_fails("{", NULL, "invalid JSON at line 1");
	parse_fails(IMG("") " trailing", NULL, "invalid JSON");
	parse_fails("{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}", NULL,
		    "duplicate object key");
	parse_fails("{\"config\":{},\"layers\":[]}", NULL, "manifest schemaVersion: missing");
	parse_fails("{\"schemaVersion\":\"2\",\"manifests\":[]}", NULL, "not an integer");
	parse_fails("{\"schemaVersion\":1,\"manifests\":[]}", NULL, "schemaVersion: 1 is not");
	parse_fails("{\"schemaVersion\":2}", NULL, "has neither");
	parse_fails("{\"schemaVersion\":2,\"manifests\":[],\"config\":{}}", NULL, "has both");
	parse_fails("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" DA
		    "\",\"size\":1}}",
		    NULL, "manifest layers: missing");
	parse_fails("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" DA
		    "\",\"size\":1},\"layers\":{}}",
		    NULL, "manifest layers: not an array");
	parse_fails("{\"schemaVersion\":2,\"config\":[],\"layers\":[]}", NULL,
		    "manifest config: not an object");
	parse_fails(IMG(LAYER(DB, "1") "," LAYER(DC, "2") "," LAYER("sha256:abc", "3")), NULL,
		    "manifest layers[2].digest: \"sha256:abc\" is not a valid sha256 digest");
	parse_fails(IMG(LAYER("md5:00", "3")), NULL,
		    "manifest layers[0].digest: unsupported digest algorithm");
	parse_fails(IMG(LAYER(DB, "-1")), NULL, "manifest layers[0].size: -1 is out of range");
	parse_fails(IMG(LAYER(DB, "1.0")), NULL, "manifest layers[0].size: not an integer");
	parse_fails(IMG(LAYER(DB, "9007199254740993")), NULL, "out of range");
	parse_fails(IMG(LAYER(DB, "\"1\"")), NULL, "layers[0].size: not an integer");
	parse_fails(IMG(LAYER(DB, "99999999999999999999999")), NULL, "invalid JSON");
	parse_fails(IMG("{\"digest\":\"" DB "\",\"size\":1}"), NULL,
		    "manifest layers[0].mediaType: missing");
	parse_fails(
	    IMG("{\"mediaType\":\"text/plain\\r\\nX-Evil: 1\",\"digest\":\"" DB "\",\"size\":1}"),
	    NULL, "layers[0].mediaType: \"text/plain");
	parse_fails(IMG("{\"mediaType\":\"nos lash\",\"digest\":\"" DB "\",\"size\":1}"), NULL,
		    "is not a valid media type");
	parse_fails(IMG("{\"mediaType\":\"a/b\",\"size\":1}"), NULL,
		    "manifest layers[0].digest: missing");
	parse_fails(IMG("{\"mediaType\":\"a/b\",\"digest\":\"" DB "\"}"), NULL,
		    "manifest layers[0].size: missing");
	parse_fails(IMG("7"), NULL, "manifest layers[0]: not an object");
	parse_fails(IMG("{\"mediaType\":\"a/b\",\"digest\":\"" DB "\",\"size\":1,"
			"\"annotations\":{\"k\":1}}"),
		    NULL, "manifest layers[0].annotations[\"k\"]: not a string");
	parse_fails(IMG("{\"mediaType\":\"a/b\",\"digest\":\"" DB "\",\"size\":1,"
			"\"annotations\":[]}"),
		    NULL, "manifest layers[0].annotations: not an object");
	parse_fails(IMG("{\"mediaType\":\"a/b\",\"digest\":\"" DB "\",\"size\":1,"
			"\"urls\":[1]}"),
		    NULL, "manifest layers[0].urls[0]: not a string");
	parse_fails(IDX(CHILD(",\"platform\":{\"architecture\":\"amd64\"}")), NULL,
		    "manifest manifests[0].platform.os: missing");
	parse_fails(IDX(CHILD(",\"platform\":{\"architecture\":\"amd64\",\"os\":1}")), NULL,
		    "manifest manifests[0].platform.os: not a string");
	parse_fails(IDX(CHILD(",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\","
			      "\"variant\":7}")),
		    NULL, "manifests[0].platform.variant: not a string");
	parse_fails(IDX(CHILD(",\"platform\":\"linux/amd64\"")), NULL,
		    "manifests[0].platform: not an object");
	parse_fails(IDX(CHILD("") "," CHILD(",\"platform\":{\"architecture\":\"a\",\"os\":\"b\","
					    "\"os.features\":\"x\"}")),
		    NULL, "manifests[1].platform.os.features: not an array");
	parse_fails("{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"a\":null}}", NULL,
		    "manifest.annotations[\"a\"]: not a string");
	parse_fails("{\"schemaVersion\":2,\"manifests\":[],\"subject\":{\"mediaType\":\"a/b\"}}",
		    NULL, "manifest subject.digest: missing");
	parse_fails("{\"schemaVersion\":2,\"manifests\":[],\"artifactType\":\"x\"}", NULL,
		    "manifest artifactType");
	parse_fails("{\"schemaVersion\":2,\"manifests\":[\"\\u0000\"]}", NULL, "invalid JSON");
}

static void test_size_limits(void **state)
{
	struct mf_manifest *m = NULL;
	struct err e = {0};
	char *big;
	size_t n = LIMIT_MANIFEST_BYTES + 1, i, off;
	const size_t per = strlen(LAYER(DB, "1") ",");

	(void)state;
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, NO_MT_INDEX, strlen(NO_MT_INDEX));
	big[n] = '\0';
	assert_int_equal(mf_manifest_parse(big, n, NULL, &m, &e), -1);
	assert_non_null(strstr(e.msg, "more than the 4194304 allowed"));
	/* One byte less is accepted (trailing whitespace is valid JSON). */
	assert_int_equal(mf_manifest_parse(big, n - 1, NULL, &m, &e), 0);
	mf_manifest_free(m);
	m = NULL;

	/* MF_MAX_LAYERS layers are fine, one more is not. */
	off = (size_t)sprintf(big, "%s", IMG(""));
	off -= 2; /* drop "]}" */
	for (i = 0; i < MF_MAX_LAYERS + 1; i++) {
		memcpy(big + off, LAYER(DB, "1") ",", per);
		off += per;
	}
	memcpy(big + off - 1, "]}", 3);
	assert_int_equal(mf_manifest_parse(big, strlen(big), NULL, &m, &e), -1);
	assert_non_null(strstr(e.msg, "manifest layers: 1001 entries, more than the 1000"));
	/* Remove the last layer again. */
	off -= per;
	memcpy(big + off - 1, "]}", 3);
	assert_int_equal(mf_manifest_parse(big, strlen(big), NULL, &m, &e), 0);
	assert_int_equal(mf_manifest_layer_count(m), MF_MAX_LAYERS);
	mf_manifest_free(m);
	free(big);
}

static void assert_descriptors_equal(const struct mf_descriptor *a, const struct mf_descriptor *b)
{
	assert_string_equal(a->media_type, b->media_type);
	assert_string_equal(a->digest, b->digest);
	assert_int_equal(a->size, b->size);
	assert_true((a->platform.os == NULL) == (b->platform.os == NULL));
	if (a->platform.os) {
		assert_string_equal(a->platform.os, b->platform.os);
		assert_string_equal(a->platform.architecture, b->platform.architecture);
		assert_true((a->platform.variant == NULL) == (b->platform.variant == NULL));
	}
	assert_int_equal(a->n_annotations, b->n_annotations);
	for (size_t i = 0; i < a->n_annotations; i++) {
		assert_string_equal(a->annotations[i].key, b->annotations[i].key);
		assert_string_equal(a->annotations[i].value, b->annotations[i].value);
	}
}

static void assert_manifests_equal(const struct mf_manifest *a, const struct mf_manifest *b)
{
	assert_int_equal(mf_manifest_kind(a), mf_manifest_kind(b));
	assert_string_equal(mf_manifest_media_type(a), mf_manifest_media_type(b));
	if (mf_manifest_kind(a) == MF_KIND_IMAGE)
		assert_descriptors_equal(mf_manifest_config(a), mf_manifest_config(b));
	assert_int_equal(mf_manifest_layer_count(a), mf_manifest_layer_count(b));
	for (size_t i = 0; i < mf_manifest_layer_count(a); i++)
		assert_descriptors_equal(mf_manifest_layer(a, i), mf_manifest_layer(b, i));
	assert_int_equal(mf_manifest_child_count(a), mf_manifest_child_count(b));
	for (size_t i = 0; i < mf_manifest_child_count(a); i++)
		assert_descriptors_equal(mf_manifest_child(a, i), mf_manifest_child(b, i));
}

/* Serialise, parse the bytes again (with no Content-Type) and compare. */
static struct mf_manifest *reparse(struct mf_manifest *m)
{
	struct err e = {0};
	struct mf_manifest *b = NULL;
	const char *bytes;
	size_t len;

	assert_int_equal(mf_manifest_serialize(m, &e), 0);
	bytes = mf_manifest_bytes(m, &len);
	assert_int_equal(strlen(bytes), len);
	if (mf_manifest_parse(bytes, len, mf_manifest_media_type(m), &b, &e) != 0)
		fail_msg("serialised manifest does not parse: %s", e.msg);
	assert_manifests_equal(m, b);
	return b;
}

static void test_round_trips(void **state)
{
	const char *docs[] = {oci_manifest, docker_manifest, oci_index, docker_list, NO_MT_IMAGE};
	const char *bytes;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct mf_manifest *a = parse_ok(docs[i], NULL), *b = reparse(a);

		mf_manifest_free(b);
		mf_manifest_free(a);
	}
	/* Compact, key order and unknown fields kept. */
	{
		struct mf_manifest *a = parse_ok(oci_manifest, NULL), *b = reparse(a);

		bytes = mf_manifest_bytes(a, &len);
		assert_non_null(strstr(bytes, "{\"schemaVersion\":2,\"mediaType\":"));
		assert_non_null(strstr(bytes, "\"x-unknown\":[1,2]}],\"annotations\":"));
		assert_non_null(strstr(bytes, "\"x-vendor\":{\"keep\":true}}"));
		assert_null(strchr(bytes, '\n'));
		mf_manifest_free(b);
		mf_manifest_free(a);
	}
}

static void test_select(void **state)
{
	struct mf_manifest *idx = parse_ok(oci_index, MT_OCI_INDEX), *sel = NULL;
	struct err e = {0};
	const size_t pos[] = {1, 0}, bad[] = {3};
	const char *bytes;
	size_t len;

	(void)state;
	assert_int_equal(mf_index_select(idx, pos, 2, &sel, &e), 0);
	assert_int_equal(mf_manifest_kind(sel), MF_KIND_INDEX);
	assert_string_equal(mf_manifest_media_type(sel), MT_OCI_INDEX);
	assert_int_equal(mf_manifest_child_count(sel), 2);
	assert_descriptors_equal(mf_manifest_child(sel, 0), mf_manifest_child(idx, 1));
	assert_descriptors_equal(mf_manifest_child(sel, 1), mf_manifest_child(idx, 0));
	assert_string_equal(mf_manifest_annotation(sel, "org.example.index"), "yes");
	bytes = mf_manifest_bytes(sel, &len);
	assert_string_equal(
	    bytes, "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
		   "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DB "\",\"size\":200,"
		   "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"},"
		   "\"x-child\":\"kept\"},"
		   "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" DA "\",\"size\":100,"
		   "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}],"
		   "\"annotations\":{\"org.example.index\":\"yes\"},\"x-top\":1}");
	mf_manifest_free(sel);
	sel = NULL;
	/* The source index is untouched. */
	assert_int_equal(mf_manifest_child_count(idx), 3);
	bytes = mf_manifest_bytes(idx, &len);
	assert_memory_equal(bytes, oci_index, len);

	assert_int_equal(mf_index_select(idx, bad, 1, &sel, &e), -1);
	assert_null(sel);
	assert_non_null(strstr(e.msg, "position 3 is past the 3 children"));
	assert_int_equal(mf_index_select(idx, NULL, 0, &sel, &e), 0);
	assert_int_equal(mf_manifest_child_count(sel), 0);
	mf_manifest_free(sel);
	sel = NULL;
	mf_manifest_free(idx);

	/* A Docker list stays a Docker list, even without a mediaType field. */
	idx = parse_ok("{\"schemaVersion\":2,\"manifests\":[" CHILD("") "]}", MT_DOCKER_LIST);
	assert_int_equal(mf_index_select(idx, pos + 1, 1, &sel, &e), 0);
	assert_string_equal(mf_manifest_media_type(sel), MT_DOCKER_LIST);
	mf_manifest_free(sel);
	sel = NULL;
	mf_manifest_free(idx);

	/* Selecting from an image manifest is an error. */
	idx = parse_ok(docker_manifest, NULL);
	assert_int_equal(mf_index_select(idx, pos + 1, 1, &sel, &e), -1);
	assert_non_null(strstr(e.msg, "not an index"));
	mf_manifest_free(idx);
}

static void test_builder_image(void **state)
{
	struct mf_manifest *m = parse_ok(oci_manifest, NULL), *b;
	struct mf_annotation ann = {"org.example.sensor", "1"};
	struct mf_descriptor layer = {.media_type = MT_OCI_LAYER_GZIP,
				      .digest = DD,
				      .size = 42,
				      .annotations = &ann,
				      .n_annotations = 1};
	struct mf_descriptor bad = layer;
	struct err e = {0};
	const char *before;
	size_t len;

	(void)state;
	before = mf_manifest_bytes(m, &len);
	assert_int_equal(mf_manifest_append_layer(m, &layer, &e), 0);
	assert_int_equal(mf_manifest_layer_count(m), 3);
	assert_descriptors_equal(mf_manifest_layer(m, 2), &layer);
	/* Bytes change only when serialised. */
	assert_ptr_equal(mf_manifest_bytes(m, &len), before);
	assert_int_equal(mf_manifest_set_config(m, DD, 999, &e), 0);
	assert_string_equal(mf_manifest_config(m)->digest, DD);
	assert_int_equal(mf_manifest_config(m)->size, 999);
	assert_string_equal(mf_manifest_config(m)->media_type, MT_OCI_CONFIG);
	assert_int_equal(mf_manifest_set_annotation(m, ANN_BASE_NAME, "docker.io/library/x", &e),
			 0);
	assert_int_equal(
	    mf_manifest_set_annotation(m, "org.opencontainers.image.created", NULL, &e), 0);
	assert_null(mf_manifest_annotation(m, "org.opencontainers.image.created"));
	assert_string_equal(mf_manifest_annotation(m, ANN_BASE_NAME), "docker.io/library/x");
	assert_int_equal(mf_manifest_remove_layer(m, 0, &e), 0);
	assert_int_equal(mf_manifest_layer_count(m), 2);
	assert_string_equal(mf_manifest_layer(m, 0)->digest, DC);

	/* Failures leave the manifest as it was. */
	bad.digest = "sha256:nope";
	assert_int_equal(mf_manifest_append_layer(m, &bad, &e), -1);
	assert_non_null(strstr(e.msg, "append layer"));
	bad = layer;
	bad.size = -1;
	assert_int_equal(mf_manifest_append_layer(m, &bad, &e), -1);
	bad = layer;
	bad.media_type = "bad type";
	assert_int_equal(mf_manifest_append_layer(m, &bad, &e), -1);
	assert_int_equal(mf_manifest_remove_layer(m, 2, &e), -1);
	assert_non_null(strstr(e.msg, "has 2 layers"));
	assert_int_equal(mf_manifest_set_config(m, "sha256:x", 1, &e), -1);
	assert_int_equal(mf_manifest_set_annotation(m, "k", "\xff", &e), -1);
	assert_int_equal(mf_index_replace_child(m, 0, DA, 1, &e), -1);
	assert_non_null(strstr(e.msg, "not an index"));
	assert_int_equal(mf_index_remove_child(m, 0, &e), -1);
	assert_int_equal(mf_manifest_layer_count(m), 2);

	b = reparse(m);
	assert_string_equal(mf_manifest_annotation(b, ANN_BASE_NAME), "docker.io/library/x");
	assert_string_equal(mf_descriptor_annotation(mf_manifest_layer(b, 1), "org.example.sensor"),
			    "1");
	assert_non_null(strstr(mf_manifest_bytes(m, &len), "\"x-vendor\":{\"keep\":true}"));
	mf_manifest_free(b);
	mf_manifest_free(m);

	/* Docker schema2 has no annotations. */
	m = parse_ok(docker_manifest, NULL);
	assert_int_equal(mf_manifest_set_annotation(m, ANN_BASE_NAME, "x", &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "Docker schema2"));
	layer.media_type = MT_DOCKER_LAYER_GZIP;
	layer.n_annotations = 0;
	assert_int_equal(mf_manifest_append_layer(m, &layer, &e), 0);
	b = reparse(m);
	assert_string_equal(mf_manifest_media_type(b), MT_DOCKER_MANIFEST);
	assert_string_equal(
	    mf_manifest_bytes(m, &len),
	    "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
	    "\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"size\":7023,"
	    "\"digest\":\"" DA "\"},\"layers\":[{\"mediaType\":\"" MT_DOCKER_LAYER_GZIP
	    "\",\"size\":32654,\"digest\":\"" DB "\"},{\"mediaType\":\"" MT_DOCKER_LAYER_GZIP
	    "\",\"digest\":\"" DD "\",\"size\":42}]}");
	mf_manifest_free(b);
	mf_manifest_free(m);
}

static void test_builder_index(void **state)
{
	struct mf_manifest *m = parse_ok(oci_index, NULL), *b;
	struct err e = {0};
	struct mf_descriptor layer = {.media_type = "a/b", .digest = DD, .size = 1};
	size_t len;

	(void)state;
	assert_int_equal(mf_index_replace_child(m, 1, DD, 4321, &e), 0);
	assert_string_equal(mf_manifest_child(m, 1)->digest, DD);
	assert_int_equal(mf_manifest_child(m, 1)->size, 4321);
	assert_string_equal(mf_manifest_child(m, 1)->platform.variant, "v8");
	assert_int_equal(mf_index_remove_child(m, 2, &e), 0);
	assert_int_equal(mf_manifest_child_count(m), 2);
	assert_int_equal(mf_index_remove_child(m, 2, &e), -1);
	assert_int_equal(mf_index_replace_child(m, 5, DD, 1, &e), -1);
	assert_int_equal(mf_index_replace_child(m, 0, DD, -5, &e), -1);
	assert_int_equal(mf_manifest_append_layer(m, &layer, &e), -1);
	assert_non_null(strstr(e.msg, "is an index"));
	assert_int_equal(mf_manifest_set_annotation(m, "org.example.index", "no", &e), 0);
	b = reparse(m);
	assert_non_null(strstr(mf_manifest_bytes(m, &len), "\"x-child\":\"kept\""));
	assert_non_null(
	    strstr(mf_manifest_bytes(m, &len), "\"org.example.index\":\"no\"},\"x-top\""));
	mf_manifest_free(b);
	mf_manifest_free(m);

	m = parse_ok(docker_list, NULL);
	assert_int_equal(mf_manifest_set_annotation(m, "k", "v", &e), -1);
	assert_int_equal(mf_index_replace_child(m, 0, DD, 7, &e), 0);
	b = reparse(m);
	assert_string_equal(mf_manifest_child(b, 0)->digest, DD);
	mf_manifest_free(b);
	mf_manifest_free(m);
}

static void test_platforms(void **state)
{
	struct mf_platform p = {0}, want = {0};
	struct err e = {0};
	char *s;
	static const char *const bad[] = {
	    "",		 "linux",	   "linux/",	   "/amd64",
	    "linux//v7", "linux/arm/v7/x", "linux/amd 64", "linux/arm/"};

	(void)state;
	assert_int_equal(mf_platform_parse("linux/amd64", &p, &e), 0);
	assert_string_equal(p.os, "linux");
	assert_string_equal(p.architecture, "amd64");
	assert_null(p.variant);
	s = mf_platform_string(&p);
	assert_string_equal(s, "linux/amd64");
	free(s);
	mf_platform_clear(&p);
	assert_null(p.os);
	assert_int_equal(mf_platform_parse("linux/arm/v7", &p, &e), 0);
	assert_string_equal(p.variant, "v7");
	mf_platform_clear(&p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mf_platform_parse(bad[i], &p, &e) == 0)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_int_equal(e.cls, ERR_INPUT);
		assert_non_null(strstr(e.msg, "OS/ARCH[/VARIANT]"));
	}
	assert_null(mf_platform_string(&p));

	/* Matching: variant compared only when wanted; arm64 means arm64/v8. */
	p = (struct mf_platform){"linux", "arm", "v7"};
	want = (struct mf_platform){"linux", "arm", NULL};
	assert_true(mf_platform_matches(&p, &want));
	want.variant = "v7";
	assert_true(mf_platform_matches(&p, &want));
	want.variant = "v6";
	assert_false(mf_platform_matches(&p, &want));
	p = (struct mf_platform){"linux", "arm64", NULL};
	want = (struct mf_platform){"linux", "arm64", "v8"};
	assert_true(mf_platform_matches(&p, &want));
	want.variant = "v9";
	assert_false(mf_platform_matches(&p, &want));
	want = (struct mf_platform){"linux", "amd64", NULL};
	assert_false(mf_platform_matches(&p, &want));
	want = (struct mf_platform){"windows", "arm64", NULL};
	assert_false(mf_platform_matches(&p, &want));
	p = (struct mf_platform){NULL, NULL, NULL};
	assert_false(mf_platform_matches(&p, &want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oci_manifest),     cmocka_unit_test(test_docker_and_index_kinds),
	    cmocka_unit_test(test_media_type_rules), cmocka_unit_test(test_validation_messages),
	    cmocka_unit_test(test_size_limits),	     cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_select),	     cmocka_unit_test(test_builder_image),
	    cmocka_unit_test(test_builder_index),    cmocka_unit_test(test_platforms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
