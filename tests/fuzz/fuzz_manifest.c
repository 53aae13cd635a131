/* fuzz_manifest.c - mf_manifest_parse with every kind of Content-Type, then
 * the builder API: whatever parses must keep its bytes, survive changes
 * (or refuse them cleanly), and serialise to bytes that parse again to the
 * same descriptors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../manifest/image.h"
#include "../../manifest/mediatype.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *const content_types[] = {
    NULL,	    MT_OCI_MANIFEST,
    MT_OCI_INDEX,   MT_DOCKER_MANIFEST,
    MT_DOCKER_LIST, "application/json; charset=utf-8",
};

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_same_descriptor(const struct mf_descriptor *a, const struct mf_descriptor *b)
{
	if (!same(a->media_type, b->media_type) || !same(a->digest, b->digest) ||
	    a->size != b->size || !same(a->platform.os, b->platform.os) ||
	    !same(a->platform.architecture, b->platform.architecture) ||
	    !same(a->platform.variant, b->platform.variant) || a->n_annotations != b->n_annotations)
		abort();
	for (size_t i = 0; i < a->n_annotations; i++)
		if (!same(a->annotations[i].key, b->annotations[i].key) ||
		    !same(a->annotations[i].value, b->annotations[i].value))
			abort();
}

/* Serialise m and parse the result: it must give the same manifest. */
static void check_round_trip(struct mf_manifest *m)
{
	struct mf_manifest *b = NULL;
	struct err e = {0};
	const char *bytes;
	size_t len;

	if (mf_manifest_serialize(m, &e) < 0)
		return; /* only possible past the size limit */
	bytes = mf_manifest_bytes(m, &len);
	if (mf_manifest_parse(bytes, len, mf_manifest_media_type(m), &b, &e) < 0)
		abort();
	if (mf_manifest_kind(m) != mf_manifest_kind(b) ||
	    strcmp(mf_manifest_media_type(m), mf_manifest_media_type(b)) != 0 ||
	    mf_manifest_layer_count(m) != mf_manifest_layer_count(b) ||
	    mf_manifest_child_count(m) != mf_manifest_child_count(b))
		abort();
	if (mf_manifest_kind(m) == MF_KIND_IMAGE)
		check_same_descriptor(mf_manifest_config(m), mf_manifest_config(b));
	for (size_t i = 0; i < mf_manifest_layer_count(m); i++)
		check_same_descriptor(mf_manifest_layer(m, i), mf_manifest_layer(b, i));
	for (size_t i = 0; i < mf_manifest_child_count(m); i++)
		check_same_descriptor(mf_manifest_child(m, i), mf_manifest_child(b, i));
	mf_manifest_free(b);
}

static void exercise(struct mf_manifest *m)
{
	struct mf_descriptor layer = {.media_type = MT_OCI_LAYER_GZIP, .digest = DIGEST, .size = 7};
	struct mf_manifest *sel = NULL;
	struct err e = {0};
	size_t n, pos[MF_MAX_CHILDREN];

	for (size_t i = 0; i < mf_manifest_child_count(m); i++)
		free(mf_platform_string(&mf_manifest_child(m, i)->platform));
	(void)mf_manifest_annotation(m, ANN_BASE_NAME);
	if (mf_manifest_kind(m) == MF_KIND_INDEX) {
		n = mf_manifest_child_count(m);
		for (size_t i = 0; i < n; i++)
			pos[i] = n - 1 - i;
		if (mf_index_select(m, pos, n, &sel, &e) < 0)
			abort();
		if (mf_manifest_child_count(sel) != n)
			abort();
		mf_manifest_free(sel);
		if (n > 0 && (mf_index_replace_child(m, 0, DIGEST, 1, &e) < 0 ||
			      mf_index_remove_child(m, n - 1, &e) < 0))
			abort();
	} else {
		if (mf_manifest_layer_count(m) < MF_MAX_LAYERS &&
		    mf_manifest_append_layer(m, &layer, &e) < 0)
			abort();
		if (mf_manifest_remove_layer(m, 0, &e) < 0 && mf_manifest_layer_count(m) > 0)
			abort();
		if (mf_manifest_set_config(m, DIGEST, 3, &e) < 0)
			abort();
	}
	(void)mf_manifest_set_annotation(m, ANN_BASE_DIGEST, DIGEST, &e);
	check_round_trip(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
		struct mf_manifest *m = NULL;
		struct err e = {0};
		const char *bytes;
		size_t len;

		if (mf_manifest_parse(data, size, content_types[i], &m, &e) < 0) {
			if (m || e.cls != ERR_INPUT || !e.msg[0])
				abort();
			continue;
		}
		bytes = mf_manifest_bytes(m, &len);
		if (len != size || memcmp(bytes, data, size) != 0)
			abort();
		check_round_trip(m);
		exercise(m);
		mf_manifest_free(m);
	}
	return 0;
}
