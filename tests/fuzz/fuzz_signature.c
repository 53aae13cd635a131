/* fuzz_signature.c - the parsers of what a registry serves as a signature:
 * the simple-signing payload, the signature-image manifest and the base64
 * signature annotation. The first byte picks the parser. Properties: never
 * crash; a payload that parses, rebuilt by inlay, parses to the same digest
 * and reference; a signature manifest that parses can have a signature
 * appended, and the result parses with one more entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../layers/sign.h"
#include "../../rewriter/signature.h"

#define SOME_DIGEST "sha256:34a69a4580422a12b92bb2716796ff3be346fbfa9bec9aeef71c003f6db66def"

static void payload(const uint8_t *data, size_t size)
{
	struct rw_payload p = {0}, q = {0};
	char *again = NULL;
	size_t len;
	struct err e;

	if (rw_payload_parse(data, size, &p, &e) < 0)
		return;
	if (rw_payload_build(p.docker_reference, p.digest, &again, &len, &e) < 0 ||
	    rw_payload_parse(again, len, &q, &e) < 0 || strcmp(p.digest, q.digest) != 0 ||
	    strcmp(p.docker_reference, q.docker_reference) != 0)
		abort();
	free(again);
	rw_payload_clear(&p);
	rw_payload_clear(&q);
}

static void sig_manifest(const uint8_t *data, size_t size)
{
	struct rw_sig_manifest *m = NULL, *again = NULL;
	struct rw_sig_image img = {0};
	size_t i, n;
	struct err e;

	if (rw_sig_manifest_parse(data, size, &m, &e) < 0)
		return;
	n = rw_sig_manifest_count(m);
	for (i = 0; i < n; i++)
		if (!mf_digest_valid(rw_sig_manifest_entry(m, i)->digest))
			abort();
	if (rw_sig_image_build(m, SOME_DIGEST, 42, "c2ln", &img, &e) == 0) {
		if (rw_sig_manifest_parse(img.manifest, img.manifest_len, &again, &e) < 0 ||
		    rw_sig_manifest_count(again) != n + 1)
			abort();
		rw_sig_manifest_free(again);
		rw_sig_image_clear(&img);
	} else if (n < RW_SIG_LAYERS_MAX) {
		abort();
	}
	rw_sig_manifest_free(m);
}

static void base64(const uint8_t *data, size_t size)
{
	unsigned char *out = NULL;
	char *text = NULL;
	size_t n;
	struct err e;

	if (ly_base64_decode((const char *)data, size, 4096, &out, &n, &e) < 0)
		return;
	/* Canonical: decoding and encoding again gives the same text. */
	if (ly_base64_encode(out, n, &text, &e) < 0 || strlen(text) != size ||
	    memcmp(text, data, size) != 0)
		abort();
	free(out);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		payload(data + 1, size - 1);
		break;
	case 1:
		sig_manifest(data + 1, size - 1);
		break;
	default:
		base64(data + 1, size - 1);
		break;
	}
	return 0;
}
