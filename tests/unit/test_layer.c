/* test_layer.c - the deterministic layer builder and the hostile-input reader.
 *
 * Round trips in the manner of libarchive's own tests: write to memory, read
 * back (with libarchive directly and with ly_layer_list), compare. Digests are
 * checked against hashes and decompressions computed here independently
 * (OpenSSL, zlib, libzstd), not through the code under test.
 * LY_TEST_FILTER=pattern runs only the matching tests (cmocka's filter). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#include "../../layers/layer.h"
#include "../../manifest/mediatype.h"

#define MAX_BYTES (16u * 1024 * 1024)

static const enum ly_compression all_compressions[] = {LY_COMPRESS_NONE, LY_COMPRESS_GZIP,
						       LY_COMPRESS_ZSTD};

/* A stand-in sensor: not all zeros, so compression has work to do, and
 * longer than one tar block so data padding is exercised. */
static unsigned char sensor_bin[70001];
static const char sensor_json[] = "{\"version\":1,\"mode\":\"monitor\",\"fail\":\"open\"}\n";

static void fill_sensor(void)
{
	uint32_t x = 12345;
	size_t i;

	for (i = 0; i < sizeof(sensor_bin); i++) {
		x = x * 1103515245u + 12345u;
		/* every 4th byte random, the rest structured */
		sensor_bin[i] = (i % 4 == 0) ? (unsigned char)(x >> 24) : (unsigned char)(i / 97);
	}
}

static void sha256_hex(const void *data, size_t n, char out[LY_DIGEST_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	int pos;

	assert_int_equal(EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL), 1);
	pos = snprintf(out, LY_DIGEST_MAX, "sha256:");
	for (i = 0; i < mdlen; i++)
		pos += snprintf(out + pos, (size_t)(LY_DIGEST_MAX - pos), "%02x", md[i]);
}

/* Independent decompression into a malloc'd buffer. */
static unsigned char *decompress(enum ly_compression c, const unsigned char *data, size_t n,
				 size_t *ret_len)
{
	size_t cap = 4u * 1024 * 1024, len = 0;
	unsigned char *out = malloc(cap);

	assert_non_null(out);
	if (c == LY_COMPRESS_NONE) {
		assert_true(n <= cap);
		memcpy(out, data, n);
		len = n;
	} else if (c == LY_COMPRESS_GZIP) {
		z_stream zs = {0};

		assert_int_equal(inflateInit2(&zs, 16 + 15), Z_OK); /* gzip wrapper */
		zs.next_in = (Bytef *)(uintptr_t)data;
		zs.avail_in = (uInt)n;
		zs.next_out = out;
		zs.avail_out = (uInt)cap;
		assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
		assert_int_equal(zs.avail_in, 0); /* one member, nothing after it */
		len = zs.total_out;
		inflateEnd(&zs);
	} else {
		ZSTD_DCtx *dc = ZSTD_createDCtx();
		ZSTD_inBuffer in = {data, n, 0};
		ZSTD_outBuffer ob = {out, cap, 0};
		size_t left;

		assert_non_null(dc);
		left = ZSTD_decompressStream(dc, &ob, &in);
		assert_false(ZSTD_isError(left));
		assert_int_equal(left, 0); /* frame complete (checksum verified) */
		assert_int_equal(in.pos, n);
		len = ob.pos;
		ZSTD_freeDCtx(dc);
	}
	*ret_len = len;
	return out;
}

enum order { ORDER_JSON_BIN_DIR, ORDER_DIR_BIN_JSON, ORDER_BIN_DIR_JSON, ORDER_NO_DIR };

static void build_sensor_layer(enum ly_compression c, enum order order, struct ly_layer *ret)
{
	struct ly_layer_builder *b = NULL;
	struct err e = {0};

	assert_int_equal(ly_layer_builder_new(MAX_BYTES, &b, &e), 0);
	switch (order) {
	case ORDER_JSON_BIN_DIR:
		assert_int_equal(ly_layer_add_file(b, ".inlay/sensor.json", 0444, sensor_json,
						   strlen(sensor_json), &e),
				 0);
		assert_int_equal(
		    ly_layer_add_file(b, ".inlay/sensor", 0555, sensor_bin, sizeof(sensor_bin), &e),
		    0);
		assert_int_equal(ly_layer_add_dir(b, ".inlay/", 0755, &e), 0);
		break;
	case ORDER_DIR_BIN_JSON:
		assert_int_equal(ly_layer_add_dir(b, ".inlay", 0755, &e), 0);
		assert_int_equal(
		    ly_layer_add_file(b, ".inlay/sensor", 0555, sensor_bin, sizeof(sensor_bin), &e),
		    0);
		assert_int_equal(ly_layer_add_file(b, ".inlay/sensor.json", 0444, sensor_json,
						   strlen(sensor_json), &e),
				 0);
		break;
	case ORDER_BIN_DIR_JSON:
		assert_int_equal(
		    ly_layer_add_file(b, ".inlay/sensor", 0555, sensor_bin, sizeof(sensor_bin), &e),
		    0);
		assert_int_equal(ly_layer_add_dir(b, ".inlay/", 0755, &e), 0);
		assert_int_equal(ly_layer_add_file(b, ".inlay/sensor.json", 0444, sensor_json,
						   strlen(sensor_json), &e),
				 0);
		break;
	case ORDER_NO_DIR: /* the parent is added by finish, 0755 */
		assert_int_equal(ly_layer_add_file(b, ".inlay/sensor.json", 0444, sensor_json,
						   strlen(sensor_json), &e),
				 0);
		assert_int_equal(
		    ly_layer_add_file(b, ".inlay/sensor", 0555, sensor_bin, sizeof(sensor_bin), &e),
		    0);
		break;
	}
	if (ly_layer_finish(b, c, ret, &e) < 0)
		fail_msg("finish %s: %s", ly_compression_name(c), e.msg);
	ly_layer_builder_free(b);
}

/* ---- names, media types, detection ---- */

static void test_compression_names(void **state)
{
	struct err e = {0};
	enum ly_compression c = LY_COMPRESS_AUTO;
	size_t i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(
		    ly_compression_parse(ly_compression_name(all_compressions[i]), &c, &e), 0);
		assert_int_equal(c, all_compressions[i]);
	}
	c = LY_COMPRESS_AUTO;
	assert_int_equal(ly_compression_parse("bzip2", &c, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "bzip2"));
	assert_int_equal(c, LY_COMPRESS_AUTO); /* untouched on failure */
	assert_int_equal(ly_compression_parse("GZIP", &c, &e), -1);
	assert_int_equal(ly_compression_parse("", &c, &e), -1);
	assert_string_equal(ly_compression_name(LY_COMPRESS_AUTO), "auto");
	assert_string_equal(ly_compression_name((enum ly_compression)42), "unknown");
}

static void test_media_types(void **state)
{
	static const struct {
		const char *mt;
		enum ly_compression c;
	} cases[] = {
	    {MT_OCI_LAYER_GZIP, LY_COMPRESS_GZIP},	 {MT_OCI_LAYER_ZSTD, LY_COMPRESS_ZSTD},
	    {MT_OCI_LAYER_TAR, LY_COMPRESS_NONE},	 {MT_DOCKER_LAYER_GZIP, LY_COMPRESS_GZIP},
	    {MT_DOCKER_LAYER_FOREIGN, LY_COMPRESS_GZIP},
	};
	struct err e = {0};
	enum ly_compression c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = LY_COMPRESS_AUTO;
		assert_int_equal(ly_compression_from_media_type(cases[i].mt, &c, &e), 0);
		assert_int_equal(c, cases[i].c);
	}
	assert_int_equal(ly_compression_from_media_type(MT_OCI_CONFIG, &c, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_int_equal(ly_compression_from_media_type(MT_OCI_LAYER_GZIP "x", &c, &e), -1);

	assert_string_equal(ly_media_type_for(LY_COMPRESS_GZIP, false), MT_OCI_LAYER_GZIP);
	assert_string_equal(ly_media_type_for(LY_COMPRESS_ZSTD, false), MT_OCI_LAYER_ZSTD);
	assert_string_equal(ly_media_type_for(LY_COMPRESS_NONE, false), MT_OCI_LAYER_TAR);
	assert_string_equal(ly_media_type_for(LY_COMPRESS_GZIP, true), MT_DOCKER_LAYER_GZIP);
	assert_null(ly_media_type_for(LY_COMPRESS_ZSTD, true));
	assert_null(ly_media_type_for(LY_COMPRESS_NONE, true));
	assert_null(ly_media_type_for(LY_COMPRESS_AUTO, false));
	/* media type -> compression -> media type is the identity */
	for (i = 0; i < 4; i++) {
		assert_int_equal(ly_compression_from_media_type(cases[i].mt, &c, &e), 0);
		assert_string_equal(ly_media_type_for(c, i == 3), cases[i].mt);
	}
}

static void test_detect(void **state)
{
	static const unsigned char gz[] = {0x1f, 0x8b, 8, 0};
	static const unsigned char zs[] = {0x28, 0xb5, 0x2f, 0xfd, 0};
	static const unsigned char tar[] = "etc/passwd";

	assert_int_equal(ly_detect_compression(gz, sizeof(gz)), LY_COMPRESS_GZIP);
	assert_int_equal(ly_detect_compression(gz, 2), LY_COMPRESS_GZIP);
	assert_int_equal(ly_detect_compression(gz, 1), LY_COMPRESS_NONE);
	assert_int_equal(ly_detect_compression(zs, sizeof(zs)), LY_COMPRESS_ZSTD);
	assert_int_equal(ly_detect_compression(zs, 3), LY_COMPRESS_NONE);
	assert_int_equal(ly_detect_compression(tar, sizeof(tar)), LY_COMPRESS_NONE);
	assert_int_equal(ly_detect_compression(NULL, 0), LY_COMPRESS_NONE);
}

/* ---- reproducibility ---- */

static void test_same_input_same_bytes(void **state)
{
	struct ly_layer a, b;
	size_t i;

	for (i = 0; i < 3; i++) {
		build_sensor_layer(all_compressions[i], ORDER_JSON_BIN_DIR, &a);
		build_sensor_layer(all_compressions[i], ORDER_JSON_BIN_DIR, &b);
		assert_int_equal(a.compression, all_compressions[i]);
		assert_int_equal(a.size, b.size);
		assert_memory_equal(a.data, b.data, a.size);
		assert_string_equal(a.digest, b.digest);
		assert_string_equal(a.diff_id, b.diff_id);
		ly_layer_release(&a);
		ly_layer_release(&b);
	}
}

static void test_insertion_order_irrelevant(void **state)
{
	static const enum order orders[] = {ORDER_DIR_BIN_JSON, ORDER_BIN_DIR_JSON, ORDER_NO_DIR};
	struct ly_layer ref, other;
	size_t i, j;

	for (i = 0; i < 3; i++) {
		build_sensor_layer(all_compressions[i], ORDER_JSON_BIN_DIR, &ref);
		for (j = 0; j < sizeof(orders) / sizeof(orders[0]); j++) {
			build_sensor_layer(all_compressions[i], orders[j], &other);
			assert_int_equal(ref.size, other.size);
			assert_memory_equal(ref.data, other.data, ref.size);
			assert_string_equal(ref.digest, other.digest);
			ly_layer_release(&other);
		}
		ly_layer_release(&ref);
	}
}

/* The same builder finished twice, and with each compression in turn: the
 * diff_id is the same for all three (same tar). */
static void test_finish_repeatable(void **state)
{
	struct ly_layer_builder *b = NULL;
	struct ly_layer l[3], again;
	struct err e = {0};
	size_t i;

	assert_int_equal(ly_layer_builder_new(MAX_BYTES, &b, &e), 0);
	assert_int_equal(ly_layer_add_file(b, "a/b/c", 0644, "xyz", 3, &e), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(ly_layer_finish(b, all_compressions[i], &l[i], &e), 0);
	assert_string_equal(l[0].diff_id, l[1].diff_id);
	assert_string_equal(l[0].diff_id, l[2].diff_id);
	assert_string_equal(l[0].digest, l[0].diff_id); /* none: the tar is the blob */
	assert_string_not_equal(l[1].digest, l[1].diff_id);
	assert_string_not_equal(l[1].digest, l[2].digest);
	assert_int_equal(ly_layer_finish(b, LY_COMPRESS_GZIP, &again, &e), 0);
	assert_int_equal(again.size, l[1].size);
	assert_memory_equal(again.data, l[1].data, again.size);
	ly_layer_release(&again);
	for (i = 0; i < 3; i++)
		ly_layer_release(&l[i]);
	ly_layer_builder_free(b);
}

/* Pinned digests: the promise is "same input, same bytes on every machine".
 * If this fails after a zlib, libzstd or libarchive upgrade, every sensor
 * layer digest inlay produces changes: decide that deliberately (and
 * update layer.h's note), do not just refresh the numbers. */
static void test_pinned_digests(void **state)
{
	static const char *const want[3] = {
	    "sha256:0887126a62f2536c72f3d3d2659c1871b25e44aed6b30ddd0bd058e7acf2446f",
	    "sha256:f63d9075197d0626d885dd82a3edefb49051413890453b0f3b37042b624af963",
	    "sha256:f1b7ac875da8490ec43b9f2def300d2ad3a503363993f12528f18c8eaed10538",
	};
	struct ly_layer l;
	size_t i;

	for (i = 0; i < 3; i++) {
		build_sensor_layer(all_compressions[i], ORDER_JSON_BIN_DIR, &l);
		if (strcmp(l.digest, want[i]) != 0)
			fail_msg("%s layer digest %s, pinned %s (see the comment above)",
				 ly_compression_name(all_compressions[i]), l.digest, want[i]);
		assert_string_equal(l.diff_id, want[0]);
		ly_layer_release(&l);
	}
}

/* ---- what the bytes are ---- */

static void test_digest_and_diff_id(void **state)
{
	char want[LY_DIGEST_MAX];
	struct ly_layer l;
	unsigned char *tar;
	size_t i, tar_len;

	for (i = 0; i < 3; i++) {
		build_sensor_layer(all_compressions[i], ORDER_JSON_BIN_DIR, &l);
		sha256_hex(l.data, l.size, want);
		assert_string_equal(l.digest, want);
		tar = decompress(all_compressions[i], l.data, l.size, &tar_len);
		assert_int_equal(tar_len, l.tar_size);
		sha256_hex(tar, tar_len, want);
		assert_string_equal(l.diff_id, want);
		/* ustar: 3 headers, data padded to blocks, two end blocks, and
		 * no padding to a 10 KiB record */
		assert_int_equal(tar_len,
				 512 * 3 + (sizeof(sensor_bin) + 511) / 512 * 512 + 512 + 1024);
		free(tar);
		ly_layer_release(&l);
	}
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_gzip_header(void **state)
{
	struct ly_layer l;
	unsigned char *tar;
	size_t tar_len;

	build_sensor_layer(LY_COMPRESS_GZIP, ORDER_JSON_BIN_DIR, &l);
	assert_true(l.size > 18);
	assert_int_equal(l.data[0], 0x1f);
	assert_int_equal(l.data[1], 0x8b);
	assert_int_equal(l.data[2], 8);	       /* deflate */
	assert_int_equal(l.data[3], 0);	       /* FLG: no FNAME, FCOMMENT, FEXTRA, FHCRC */
	assert_int_equal(le32(l.data + 4), 0); /* MTIME */
	assert_int_equal(l.data[8], 2);	       /* XFL: level 9 */
	assert_int_equal(l.data[9], 255);      /* OS: unknown */
	tar = decompress(LY_COMPRESS_GZIP, l.data, l.size, &tar_len);
	assert_int_equal(le32(l.data + l.size - 4), (uint32_t)tar_len);
	assert_int_equal(le32(l.data + l.size - 8), (uint32_t)crc32(0, tar, (uInt)tar_len));
	free(tar);
	ly_layer_release(&l);
}

static void test_zstd_frame(void **state)
{
	struct ly_layer l;
	unsigned char fhd;

	build_sensor_layer(LY_COMPRESS_ZSTD, ORDER_JSON_BIN_DIR, &l);
	assert_int_equal(ly_detect_compression(l.data, l.size), LY_COMPRESS_ZSTD);
	fhd = l.data[4];		 /* frame header descriptor */
	assert_true(fhd & 0x04);	 /* content checksum */
	assert_int_equal(fhd & 0x03, 0); /* no dictionary */
	/* exactly one frame */
	assert_int_equal(ZSTD_findFrameCompressedSize(l.data, l.size), l.size);
	ly_layer_release(&l);
}

/* Read with libarchive itself (every filter and format it knows), not with
 * the reader under test. */
static void check_with_libarchive(const struct ly_layer *l)
{
	static const char *const paths[] = {".inlay/", ".inlay/sensor", ".inlay/sensor.json"};
	static const unsigned modes[] = {0755, 0555, 0444};
	static const unsigned types[] = {AE_IFDIR, AE_IFREG, AE_IFREG};
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	unsigned char *content;
	size_t i;

	assert_non_null(a);
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	assert_int_equal(archive_read_open_memory(a, l->data, l->size), ARCHIVE_OK);
	for (i = 0; i < 3; i++) {
		assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_OK);
		assert_string_equal(archive_entry_pathname(ae), paths[i]);
		assert_int_equal(archive_entry_filetype(ae), types[i]);
		assert_int_equal(archive_entry_perm(ae), modes[i]);
		assert_int_equal(archive_entry_uid(ae), 0);
		assert_int_equal(archive_entry_gid(ae), 0);
		assert_true(archive_entry_uname(ae) == NULL || !*archive_entry_uname(ae));
		assert_true(archive_entry_gname(ae) == NULL || !*archive_entry_gname(ae));
		assert_int_equal(archive_entry_mtime(ae), 0);
		assert_int_equal(archive_entry_mtime_nsec(ae), 0);
		assert_false(archive_entry_atime_is_set(ae));
		assert_false(archive_entry_ctime_is_set(ae));
		assert_false(archive_entry_birthtime_is_set(ae));
		assert_null(archive_entry_hardlink(ae));
		assert_null(archive_entry_symlink(ae));
		assert_int_equal(archive_entry_rdev(ae), 0);
		if (i == 0) {
			assert_int_equal(archive_entry_size(ae), 0);
			continue;
		}
		const void *want = i == 1 ? (const void *)sensor_bin : (const void *)sensor_json;
		size_t want_len = i == 1 ? sizeof(sensor_bin) : strlen(sensor_json);

		assert_int_equal(archive_entry_size(ae), want_len);
		content = malloc(want_len + 1);
		assert_non_null(content);
		assert_int_equal(archive_read_data(a, content, want_len + 1), want_len);
		assert_memory_equal(content, want, want_len);
		free(content);
	}
	assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_EOF);
	/* plain ustar, nothing pax or GNU */
	assert_int_equal(archive_format(a), ARCHIVE_FORMAT_TAR_USTAR);
	archive_read_free(a);
}

static void test_read_back_libarchive(void **state)
{
	struct ly_layer l;
	size_t i;

	for (i = 0; i < 3; i++) {
		build_sensor_layer(all_compressions[i], ORDER_BIN_DIR_JSON, &l);
		check_with_libarchive(&l);
		ly_layer_release(&l);
	}
}

/* ---- the reader ---- */

struct seen {
	size_t n;
	char path[8][64];
	struct ly_entry e[8];
	int content_ok[8];
	int stop_after; /* return 1 after this many entries; 0: never */
};

static int collect(void *arg, const struct ly_entry *ent, struct err *e)
{
	struct seen *s = arg;
	size_t i = s->n;

	if (i >= 8)
		return err_set(e, ERR_INPUT, "test: too many entries");
	snprintf(s->path[i], sizeof(s->path[i]), "%s", ent->path);
	s->e[i] = *ent;
	s->e[i].path = s->path[i];
	s->content_ok[i] = -1; /* not given */
	if (ent->content) {
		if (strcmp(ent->path, ".inlay/sensor") == 0)
			s->content_ok[i] =
			    ent->size == (int64_t)sizeof(sensor_bin) &&
			    memcmp(ent->content, sensor_bin, sizeof(sensor_bin)) == 0;
		else if (strcmp(ent->path, ".inlay/sensor.json") == 0)
			s->content_ok[i] =
			    ent->size == (int64_t)strlen(sensor_json) &&
			    memcmp(ent->content, sensor_json, strlen(sensor_json)) == 0;
		else
			s->content_ok[i] = 1;
	}
	s->e[i].content = NULL;
	s->e[i].uname = s->e[i].gname = s->e[i].linkname = NULL;
	s->n++;
	if (s->stop_after && s->n >= (size_t)s->stop_after)
		return 1;
	return 0;
}

static void test_reader_lists_layer(void **state)
{
	static const enum ly_compression claims[] = {LY_COMPRESS_AUTO, LY_COMPRESS_NONE};
	struct ly_layer l;
	struct err e = {0};
	size_t i, k;

	for (i = 0; i < 3; i++) {
		build_sensor_layer(all_compressions[i], ORDER_JSON_BIN_DIR, &l);
		for (k = 0; k < 2; k++) {
			struct seen s = {0};
			enum ly_compression claim =
			    claims[k] == LY_COMPRESS_NONE ? all_compressions[i] : claims[k];

			if (ly_layer_list(l.data, l.size, claim, NULL, collect, &s, &e) < 0)
				fail_msg("list %s: %s", ly_compression_name(l.compression), e.msg);
			assert_int_equal(s.n, 3);
			assert_string_equal(s.path[0], ".inlay/");
			assert_string_equal(s.path[1], ".inlay/sensor");
			assert_string_equal(s.path[2], ".inlay/sensor.json");
			assert_int_equal(s.e[0].type, LY_ENTRY_DIR);
			assert_int_equal(s.e[1].type, LY_ENTRY_FILE);
			assert_int_equal(s.e[2].type, LY_ENTRY_FILE);
			assert_int_equal(s.e[0].mode, 0755);
			assert_int_equal(s.e[1].mode, 0555);
			assert_int_equal(s.e[2].mode, 0444);
			for (size_t j = 0; j < 3; j++) {
				assert_int_equal(s.e[j].uid, 0);
				assert_int_equal(s.e[j].gid, 0);
				assert_int_equal(s.e[j].mtime, 0);
				assert_false(s.e[j].atime_set);
				assert_false(s.e[j].ctime_set);
			}
			assert_int_equal(s.content_ok[1], 1);
			assert_int_equal(s.content_ok[2], 1);
		}
		ly_layer_release(&l);
	}
}

static void test_reader_claim_mismatch(void **state)
{
	struct ly_layer gz, zs, none;
	struct err e = {0};
	struct seen s = {0};

	build_sensor_layer(LY_COMPRESS_GZIP, ORDER_JSON_BIN_DIR, &gz);
	build_sensor_layer(LY_COMPRESS_ZSTD, ORDER_JSON_BIN_DIR, &zs);
	build_sensor_layer(LY_COMPRESS_NONE, ORDER_JSON_BIN_DIR, &none);
	assert_int_equal(ly_layer_list(gz.data, gz.size, LY_COMPRESS_ZSTD, NULL, collect, &s, &e),
			 -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "zstd"));
	assert_int_equal(ly_layer_list(zs.data, zs.size, LY_COMPRESS_NONE, NULL, collect, &s, &e),
			 -1);
	assert_int_equal(
	    ly_layer_list(none.data, none.size, LY_COMPRESS_GZIP, NULL, collect, &s, &e), -1);
	assert_int_equal(s.n, 0);
	ly_layer_release(&gz);
	ly_layer_release(&zs);
	ly_layer_release(&none);
}

static void test_reader_limits(void **state)
{
	struct ly_read_limits lim = ly_read_limits_default;
	struct ly_layer l;
	struct err e = {0};

	build_sensor_layer(LY_COMPRESS_GZIP, ORDER_JSON_BIN_DIR, &l);
	{
		struct seen s = {0};

		lim.max_entries = 2;
		assert_int_equal(
		    ly_layer_list(l.data, l.size, LY_COMPRESS_AUTO, &lim, collect, &s, &e), -1);
		assert_int_equal(e.cls, ERR_INPUT);
		assert_non_null(strstr(e.msg, "more than 2 entries"));
		assert_int_equal(s.n, 2);
	}
	{
		struct seen s = {0};

		lim = ly_read_limits_default;
		lim.max_entry_bytes = sizeof(sensor_bin) - 1;
		assert_int_equal(
		    ly_layer_list(l.data, l.size, LY_COMPRESS_AUTO, &lim, collect, &s, &e), -1);
		assert_non_null(strstr(e.msg, ".inlay/sensor"));
		assert_int_equal(s.n, 1);
	}
	{
		struct seen s = {0};

		lim = ly_read_limits_default;
		lim.max_total_bytes = 60000;
		assert_int_equal(
		    ly_layer_list(l.data, l.size, LY_COMPRESS_AUTO, &lim, collect, &s, &e), -1);
		assert_non_null(strstr(e.msg, "larger than"));
	}
	{
		struct seen s = {0};

		/* content only for files up to the limit */
		lim = ly_read_limits_default;
		lim.max_content_bytes = 1000;
		assert_int_equal(
		    ly_layer_list(l.data, l.size, LY_COMPRESS_AUTO, &lim, collect, &s, &e), 0);
		assert_int_equal(s.n, 3);
		assert_int_equal(s.content_ok[1], -1);
		assert_int_equal(s.content_ok[2], 1);
	}
	ly_layer_release(&l);
}

static int fail_on_second(void *arg, const struct ly_entry *ent, struct err *e)
{
	int *n = arg;

	if (++*n == 2)
		return err_set(e, ERR_VERIFY, "test refuses %s", ent->path);
	return 0;
}

static void test_reader_callback_control(void **state)
{
	struct ly_layer l;
	struct err e = {0};
	struct seen s = {0};
	int n = 0;

	build_sensor_layer(LY_COMPRESS_ZSTD, ORDER_JSON_BIN_DIR, &l);
	s.stop_after = 1;
	assert_int_equal(ly_layer_list(l.data, l.size, LY_COMPRESS_AUTO, NULL, collect, &s, &e), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(
	    ly_layer_list(l.data, l.size, LY_COMPRESS_AUTO, NULL, fail_on_second, &n, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	assert_string_equal(e.msg, "test refuses .inlay/sensor");
	ly_layer_release(&l);
}

/* Every prefix of a layer is an error, never a crash and never a success. */
static void test_reader_truncated(void **state)
{
	struct ly_layer l;
	struct err e;
	size_t i, cut;

	for (i = 0; i < 3; i++) {
		build_sensor_layer(all_compressions[i], ORDER_JSON_BIN_DIR, &l);
		/* Every cut in the first header and in the last 1100 bytes (the
		 * end blocks, the gzip or zstd trailer), every block boundary,
		 * and a sample in between (each call costs a decompressor set
		 * up, which is slow under ASan). */
		for (cut = 0; cut < l.size; cut++) {
			if (cut > 600 && l.size - cut > 1100 && cut % 512 != 0 && cut % 61 != 0)
				continue;
			struct seen s = {0};

			/* a copy of exactly cut bytes, so ASan sees any overread */
			unsigned char *p = malloc(cut ? cut : 1);

			assert_non_null(p);
			memcpy(p, l.data, cut);
			err_clear(&e);
			if (ly_layer_list(p, cut, all_compressions[i], NULL, collect, &s, &e) == 0)
				fail_msg("%s layer cut at %zu of %zu bytes was accepted",
					 ly_compression_name(all_compressions[i]), cut, l.size);
			assert_true(e.msg[0] != '\0');
			free(p);
		}
		ly_layer_release(&l);
	}
}

/* A tar made with libarchive directly, as a hostile image could. */
struct raw_entry {
	const char *path;
	unsigned type;
	const char *link; /* hardlink target for AE_IFREG, symlink target for AE_IFLNK */
};

static unsigned char *raw_tar(const struct raw_entry *ents, size_t n, size_t *ret_len)
{
	size_t cap = 65536, used = 0, i;
	unsigned char *mem = malloc(cap);
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();

	assert_non_null(mem);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, mem, cap, &used), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, ents[i].path);
		archive_entry_set_filetype(ae, ents[i].type);
		archive_entry_set_perm(ae, 0644);
		if (ents[i].type == AE_IFLNK)
			archive_entry_set_symlink(ae, ents[i].link);
		else if (ents[i].link)
			archive_entry_set_hardlink(ae, ents[i].link);
		archive_entry_set_size(ae, ents[i].type == AE_IFREG && !ents[i].link ? 2 : 0);
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (ents[i].type == AE_IFREG && !ents[i].link)
			assert_int_equal(archive_write_data(a, "hi", 2), 2);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	*ret_len = used;
	return mem;
}

static void test_reader_rejects_escapes(void **state)
{
	static const struct {
		struct raw_entry ent;
		const char *why;
	} bad[] = {
	    {{"../evil", AE_IFREG, NULL}, "'..'"},
	    {{"a/../../evil", AE_IFREG, NULL}, "'..'"},
	    {{"a/..", AE_IFDIR, NULL}, "'..'"},
	    {{"/etc/passwd", AE_IFREG, NULL}, "absolute"},
	    {{"/", AE_IFDIR, NULL}, "absolute"},
	    {{"ok", AE_IFREG, "../outside"}, "'..'"},
	    {{"ok", AE_IFREG, "/etc/shadow"}, "absolute"},
	};
	static const struct raw_entry good[] = {
	    {"a..b/..c/d..", AE_IFREG, NULL},	  /* dots, but no ".." component */
	    {"bin/sh", AE_IFLNK, "/bin/busybox"}, /* absolute symlinks are normal */
	    {"bin/up", AE_IFLNK, "../x"},
	    {"link", AE_IFREG, "a..b/..c/d.."},
	};
	struct raw_entry ents[2];
	unsigned char *tar;
	struct err e;
	size_t i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s = {0};

		ents[0] = (struct raw_entry){"fine", AE_IFREG, NULL};
		ents[1] = bad[i].ent;
		tar = raw_tar(ents, 2, &len);
		err_clear(&e);
		assert_int_equal(ly_layer_list(tar, len, LY_COMPRESS_NONE, NULL, collect, &s, &e),
				 -1);
		assert_int_equal(e.cls, ERR_INPUT);
		if (!strstr(e.msg, bad[i].why))
			fail_msg("'%s': message '%s' lacks %s", bad[i].ent.path, e.msg, bad[i].why);
		assert_int_equal(s.n, 1); /* the bad entry never reached the callback */
		free(tar);
	}
	{
		struct seen s = {0};

		tar = raw_tar(good, sizeof(good) / sizeof(good[0]), &len);
		if (ly_layer_list(tar, len, LY_COMPRESS_AUTO, NULL, collect, &s, &e) < 0)
			fail_msg("good tar refused: %s", e.msg);
		assert_int_equal(s.n, 4);
		assert_int_equal(s.e[1].type, LY_ENTRY_SYMLINK);
		assert_int_equal(s.e[3].type, LY_ENTRY_HARDLINK);
		free(tar);
	}
}

static void test_reader_garbage(void **state)
{
	static const unsigned char gz_garbage[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255, 1, 2, 3};
	static const unsigned char zst_garbage[] = {0x28, 0xb5, 0x2f, 0xfd, 9, 9, 9, 9, 9};
	unsigned char block[1536];
	struct err e;
	struct seen s = {0};

	memset(block, 'x', sizeof(block));
	assert_int_equal(
	    ly_layer_list(gz_garbage, sizeof(gz_garbage), LY_COMPRESS_AUTO, NULL, collect, &s, &e),
	    -1);
	assert_int_equal(ly_layer_list(zst_garbage, sizeof(zst_garbage), LY_COMPRESS_AUTO, NULL,
				       collect, &s, &e),
			 -1);
	assert_int_equal(
	    ly_layer_list(block, sizeof(block), LY_COMPRESS_AUTO, NULL, collect, &s, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_int_equal(ly_layer_list(block, 0, LY_COMPRESS_AUTO, NULL, collect, &s, &e), -1);
	assert_int_equal(s.n, 0);
}

/* ---- the builder's rules ---- */

static void test_builder_rejects(void **state)
{
	static const char *const bad_paths[] = {
	    "",	      "/abs", "a//b", "./a",	     "a/./b",	  "..", "a/..",
	    "a/../b", "a/b/", "\x7f", "caf\xc3\xa9", "tab\there", "//",
	};
	static const char data[600] = {0};
	struct ly_layer_builder *b = NULL;
	struct ly_layer l = {.size = 4242};
	struct err e;
	size_t i;

	assert_int_equal(ly_layer_builder_new(MAX_BYTES, &b, &e), 0);
	for (i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		err_clear(&e);
		if (ly_layer_add_file(b, bad_paths[i], 0644, "x", 1, &e) == 0)
			fail_msg("path '%s' accepted", bad_paths[i]);
		assert_int_equal(e.cls, ERR_INPUT);
	}
	assert_int_equal(ly_layer_add_dir(b, "/", 0755, &e), -1);
	assert_int_equal(ly_layer_add_dir(b, "a//", 0755, &e), -1);
	assert_int_equal(ly_layer_add_file(b, "f", 010644, "x", 1, &e), -1);
	assert_non_null(strstr(e.msg, "mode"));
	assert_int_equal(ly_layer_add_file(b, "f", 0644, NULL, 5, &e), -1);
	/* duplicates, whatever their kind or spelling */
	assert_int_equal(ly_layer_add_dir(b, "d", 0755, &e), 0);
	assert_int_equal(ly_layer_add_dir(b, "d/", 0700, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	assert_int_equal(ly_layer_add_file(b, "d", 0644, "x", 1, &e), -1);
	/* a file used as a directory is found at finish */
	assert_int_equal(ly_layer_add_file(b, "f", 0644, "x", 1, &e), 0);
	assert_int_equal(ly_layer_add_file(b, "f/g", 0644, "x", 1, &e), 0);
	assert_int_equal(ly_layer_finish(b, LY_COMPRESS_GZIP, &l, &e), -1);
	assert_non_null(strstr(e.msg, "is a file"));
	assert_int_equal(l.size, 4242); /* untouched on failure */
	assert_int_equal(ly_layer_finish(b, LY_COMPRESS_AUTO, &l, &e), -1);
	ly_layer_builder_free(b);

	/* a name ustar cannot split (one 120-byte component) fails with
	 * libarchive's reason, and one it can is written in full */
	{
		char longest[256];

		memset(longest, 'n', 120);
		longest[120] = '\0';
		assert_int_equal(ly_layer_builder_new(MAX_BYTES, &b, &e), 0);
		assert_int_equal(ly_layer_add_file(b, longest, 0644, "x", 1, &e), 0);
		assert_int_equal(ly_layer_finish(b, LY_COMPRESS_NONE, &l, &e), -1);
		assert_non_null(strstr(e.msg, "libarchive"));
		ly_layer_builder_free(b);

		/* 60/60/99: the file's name goes into ustar's prefix (121) and
		 * name (99) fields, each parent fits by itself */
		memset(longest, 'd', 221);
		longest[60] = '/';
		longest[121] = '/';
		memset(longest + 122, 'f', 99);
		longest[221] = '\0';
		assert_int_equal(ly_layer_builder_new(MAX_BYTES, &b, &e), 0);
		assert_int_equal(ly_layer_add_file(b, longest, 0644, "x", 1, &e), 0);
		if (ly_layer_finish(b, LY_COMPRESS_NONE, &l, &e) < 0)
			fail_msg("221-byte path: %s", e.msg);
		{
			struct seen s = {0};

			assert_int_equal(
			    ly_layer_list(l.data, l.size, LY_COMPRESS_NONE, NULL, collect, &s, &e),
			    0);
			assert_int_equal(s.n, 3); /* the parents, then the file */
			assert_int_equal(s.e[2].type, LY_ENTRY_FILE);
			assert_int_equal(s.e[2].size, 1);
		}
		ly_layer_release(&l);
		l.size = 4242;
		ly_layer_builder_free(b);
	}

	/* size bound: data alone, then the tar around it */
	assert_int_equal(ly_layer_builder_new(1000, &b, &e), 0);
	assert_int_equal(ly_layer_add_file(b, "big", 0644, data, 600, &e), 0);
	assert_int_equal(ly_layer_add_file(b, "big2", 0644, data, 401, &e), -1);
	assert_non_null(strstr(e.msg, "exceed 1000"));
	assert_int_equal(ly_layer_finish(b, LY_COMPRESS_NONE, &l, &e), -1);
	assert_non_null(strstr(e.msg, "exceed 1000"));
	assert_int_equal(l.size, 4242);
	ly_layer_builder_free(b);
	ly_layer_builder_free(NULL);
	ly_layer_release(NULL);
}

/* Parents are added once, 0755, and an explicit one keeps its mode. */
static void test_builder_parents(void **state)
{
	static const char *const want[] = {"a/", "a/b/", "a/b/c/", "a/b/c/f", "a/b/g", "a/x", "z"};
	static const unsigned want_mode[] = {0755, 0700, 0755, 0600, 0644, 0644, 0644};
	struct ly_layer_builder *b = NULL;
	struct ly_layer l;
	struct err e = {0};
	struct seen s = {0};
	size_t i;

	assert_int_equal(ly_layer_builder_new(MAX_BYTES, &b, &e), 0);
	assert_int_equal(ly_layer_add_file(b, "z", 0644, "z", 1, &e), 0);
	assert_int_equal(ly_layer_add_file(b, "a/b/c/f", 0600, "f", 1, &e), 0);
	assert_int_equal(ly_layer_add_file(b, "a/x", 0644, "", 0, &e), 0);
	assert_int_equal(ly_layer_add_file(b, "a/b/g", 0644, "g", 1, &e), 0);
	assert_int_equal(ly_layer_add_dir(b, "a/b", 0700, &e), 0);
	assert_int_equal(ly_layer_finish(b, LY_COMPRESS_NONE, &l, &e), 0);
	assert_int_equal(ly_layer_list(l.data, l.size, LY_COMPRESS_NONE, NULL, collect, &s, &e), 0);
	assert_int_equal(s.n, 7);
	for (i = 0; i < 7; i++) {
		assert_string_equal(s.path[i], want[i]);
		assert_int_equal(s.e[i].mode, want_mode[i]);
	}
	assert_int_equal(s.content_ok[5], 1); /* empty file: content given, size 0 */
	assert_int_equal(s.e[5].size, 0);
	ly_layer_release(&l);
	ly_layer_builder_free(b);
}

static void test_empty_layer(void **state)
{
	static const unsigned char zero[1024];
	struct ly_layer_builder *b = NULL;
	struct ly_layer l;
	struct err e = {0};
	struct seen s = {0};

	assert_int_equal(ly_layer_builder_new(MAX_BYTES, &b, &e), 0);
	assert_int_equal(ly_layer_finish(b, LY_COMPRESS_NONE, &l, &e), 0);
	assert_int_equal(l.size, 1024);
	assert_memory_equal(l.data, zero, 1024);
	assert_int_equal(ly_layer_list(l.data, l.size, LY_COMPRESS_NONE, NULL, collect, &s, &e), 0);
	assert_int_equal(s.n, 0);
	ly_layer_release(&l);
	assert_null(l.data);
	ly_layer_builder_free(b);
}

/* ---- the streaming reader ---- */

/* A source over a buffer: at most `chunk` bytes a call; with fail set, it
 * fails (ERR_VERIFY, as a digest check would) once `fail_at` bytes went
 * out. */
struct mem_source {
	const unsigned char *data;
	size_t len, pos, chunk, fail_at;
	bool fail, oversize;
	unsigned calls_after_end;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n, struct err *e)
{
	struct mem_source *m = ctx;
	size_t k = m->len - m->pos;

	assert_true(n > 0);
	if (m->fail && m->pos >= m->fail_at)
		return err_set(e, ERR_VERIFY, "test source broke at %zu", m->pos);
	if (m->pos == m->len)
		m->calls_after_end++;
	if (k > n)
		k = n;
	if (k > m->chunk)
		k = m->chunk;
	if (m->fail && m->pos + k > m->fail_at)
		k = m->fail_at - m->pos;
	memcpy(buf, m->data + m->pos, k);
	m->pos += k;
	if (m->oversize && k > 0)
		return (ssize_t)n + 1; /* a broken source */
	return (ssize_t)k;
}

static void assert_same_listing(const struct seen *a, const struct seen *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_string_equal(a->path[i], b->path[i]);
		assert_int_equal(a->e[i].type, b->e[i].type);
		assert_int_equal(a->e[i].mode, b->e[i].mode);
		assert_int_equal(a->e[i].uid, b->e[i].uid);
		assert_int_equal(a->e[i].gid, b->e[i].gid);
		assert_int_equal(a->e[i].mtime, b->e[i].mtime);
		assert_int_equal(a->e[i].size, b->e[i].size);
		assert_int_equal(a->e[i].atime_set, b->e[i].atime_set);
		assert_int_equal(a->e[i].ctime_set, b->e[i].ctime_set);
		assert_int_equal(a->content_ok[i], b->content_ok[i]);
	}
}

/* The same entries, fields and contents as the in-memory reader, for every
 * compression, whatever the size of the pieces the source hands out. */
static void test_stream_same_as_memory(void **state)
{
	static const size_t chunks[] = {1, 3, 511, 512, 4096, 1 << 20};
	static const struct raw_entry links[] = {
	    {"bin/", AE_IFDIR, NULL},
	    {"bin/sh", AE_IFLNK, "/bin/busybox"},
	    {"bin/busybox", AE_IFREG, NULL},
	    {"bin/ls", AE_IFREG, "bin/busybox"},
	};
	struct ly_layer l;
	struct err e = {0};
	size_t i, k, len;

	for (i = 0; i < 4; i++) {
		struct seen mem = {0};
		unsigned char *tar = NULL;
		const unsigned char *data;
		size_t size;

		if (i < 3) {
			build_sensor_layer(all_compressions[i], ORDER_JSON_BIN_DIR, &l);
			data = l.data;
			size = l.size;
		} else {
			tar = raw_tar(links, sizeof(links) / sizeof(links[0]), &len);
			data = tar;
			size = len;
		}
		if (ly_layer_list(data, size, LY_COMPRESS_AUTO, NULL, collect, &mem, &e) < 0)
			fail_msg("memory: %s", e.msg);
		assert_true(mem.n >= 3);
		for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			struct mem_source src = {.data = data, .len = size, .chunk = chunks[k]};
			struct seen st = {0};
			enum ly_compression claim =
			    i < 3 ? all_compressions[i] : LY_COMPRESS_NONE;

			if (ly_layer_list_stream(mem_read, &src, k % 2 ? claim : LY_COMPRESS_AUTO,
						 NULL, collect, &st, &e) < 0)
				fail_msg("stream, %zu-byte pieces: %s", chunks[k], e.msg);
			assert_same_listing(&mem, &st);
			/* never asked again after it said "the end" */
			assert_true(src.calls_after_end <= 1);
		}
		if (i < 3)
			ly_layer_release(&l);
		free(tar);
	}
}

/* The checks are the ones the in-memory reader makes: limits, claims,
 * escapes, an empty stream. */
static void test_stream_checks(void **state)
{
	struct ly_read_limits lim = ly_read_limits_default;
	struct ly_layer l;
	struct err e = {0};
	struct raw_entry bad[2] = {{"fine", AE_IFREG, NULL}, {"../evil", AE_IFREG, NULL}};
	unsigned char *tar;
	size_t len;

	build_sensor_layer(LY_COMPRESS_GZIP, ORDER_JSON_BIN_DIR, &l);
	{
		struct mem_source src = {.data = l.data, .len = l.size, .chunk = 100};
		struct seen s = {0};

		lim.max_entries = 2;
		assert_int_equal(
		    ly_layer_list_stream(mem_read, &src, LY_COMPRESS_AUTO, &lim, collect, &s, &e),
		    -1);
		assert_int_equal(e.cls, ERR_INPUT);
		assert_non_null(strstr(e.msg, "more than 2 entries"));
	}
	{
		struct mem_source src = {.data = l.data, .len = l.size, .chunk = 100};
		struct seen s = {0};

		assert_int_equal(
		    ly_layer_list_stream(mem_read, &src, LY_COMPRESS_ZSTD, NULL, collect, &s, &e),
		    -1);
		assert_int_equal(e.cls, ERR_INPUT);
		assert_non_null(strstr(e.msg, "said to be zstd"));
		assert_int_equal(s.n, 0);
	}
	{
		struct mem_source src = {.data = l.data, .len = 0, .chunk = 100};
		struct seen s = {0};

		assert_int_equal(
		    ly_layer_list_stream(mem_read, &src, LY_COMPRESS_AUTO, NULL, collect, &s, &e),
		    -1);
		assert_non_null(strstr(e.msg, "empty"));
	}
	{
		struct mem_source src = {.data = l.data, .len = l.size, .chunk = 100, .oversize = true};
		struct seen s = {0};

		assert_int_equal(
		    ly_layer_list_stream(mem_read, &src, LY_COMPRESS_AUTO, NULL, collect, &s, &e),
		    -1);
		assert_non_null(strstr(e.msg, "more bytes than asked"));
	}
	ly_layer_release(&l);
	tar = raw_tar(bad, 2, &len);
	{
		struct mem_source src = {.data = tar, .len = len, .chunk = 7};
		struct seen s = {0};

		assert_int_equal(
		    ly_layer_list_stream(mem_read, &src, LY_COMPRESS_NONE, NULL, collect, &s, &e),
		    -1);
		assert_non_null(strstr(e.msg, "'..'"));
		assert_int_equal(s.n, 1);
	}
	free(tar);
}

/* A stream that ends early is an error, never a success. */
static void test_stream_truncated(void **state)
{
	struct ly_layer l;
	struct err e;
	size_t i, cut;

	for (i = 0; i < 3; i++) {
		build_sensor_layer(all_compressions[i], ORDER_JSON_BIN_DIR, &l);
		for (cut = 0; cut < l.size; cut++) {
			if (cut > 40 && l.size - cut > 40 && cut % 1024 != 0 && cut % 997 != 0)
				continue;
			struct mem_source src = {.data = l.data, .len = cut, .chunk = 1000};
			struct seen s = {0};

			err_clear(&e);
			if (ly_layer_list_stream(mem_read, &src, all_compressions[i], NULL, collect,
						 &s, &e) == 0)
				fail_msg("%s stream cut at %zu of %zu bytes was accepted",
					 ly_compression_name(all_compressions[i]), cut, l.size);
			assert_true(e.msg[0] != '\0');
		}
		ly_layer_release(&l);
	}
}

/* end_blocks_optional: a tar that stops after an entry's data, padded or
 * not (umoci insert writes them), or after its first zero block, lists
 * whole; a cut inside a header (the first end block reads as one) or an
 * entry's data is still an error. */
static void test_stream_end_blocks_optional(void **state)
{
	struct ly_read_limits lim = ly_read_limits_default;
	struct ly_layer l;
	struct err e;
	size_t cut, k;
	const size_t js = strlen(sensor_json);
	/* Where each entry's data ends and its padding: .inlay/ (a header),
	 * .inlay/sensor (a header and 70001 bytes in 137 blocks),
	 * .inlay/sensor.json (a header and one block); then the end blocks. */
	const size_t data_end[] = {512, 1024 + sizeof(sensor_bin), 1024 + 137 * 512 + 512 + js};
	const size_t padded[] = {512, 1024 + 137 * 512, 1024 + 137 * 512 + 1024};

	build_sensor_layer(LY_COMPRESS_NONE, ORDER_JSON_BIN_DIR, &l);
	assert_int_equal(l.size, padded[2] + 1024);
	lim.end_blocks_optional = true;
	for (cut = 1; cut <= l.size; cut++) {
		struct mem_source src = {.data = l.data, .len = cut, .chunk = 4096};
		struct seen s = {0};
		size_t entries = 0;
		int r;

		for (k = 0; k < 3; k++)
			if (cut >= data_end[k] && cut <= padded[k])
				entries = k + 1;
		if (cut >= padded[2] + 512)
			entries = 3; /* a zero block, then the second one cut */
		if (!entries && cut % 512 != 0 && cut % 101 != 0 && l.size - cut > 600)
			continue;
		err_clear(&e);
		r = ly_layer_list_stream(mem_read, &src, LY_COMPRESS_NONE, &lim, collect, &s, &e);
		if (entries && r < 0)
			fail_msg("cut at %zu, after an entry's data, refused: %s", cut, e.msg);
		if (!entries && r == 0)
			fail_msg("cut at %zu, inside a header or data, accepted", cut);
		if (entries)
			assert_int_equal(s.n, entries);
	}
	/* Go's tar writer, not closed (umoci insert): the last entry's data
	 * without its padding. Accepted once all of the data is there. */
	{
		static const struct raw_entry one[] = {{"only", AE_IFREG, NULL}};
		unsigned char *tar;
		size_t len;

		tar = raw_tar(one, 1, &len); /* a header, "hi" padded, the end */
		for (cut = 512; cut <= 512 + 2; cut++) {
			struct mem_source src = {.data = tar, .len = cut, .chunk = 4096};
			struct seen s = {0};

			err_clear(&e);
			if (ly_layer_list_stream(mem_read, &src, LY_COMPRESS_NONE, &lim, collect, &s,
						 &e) == 0) {
				if (cut != 512 + 2)
					fail_msg("cut at %zu, inside the data, accepted", cut);
				assert_int_equal(s.n, 1);
			} else if (cut == 512 + 2) {
				fail_msg("data without its padding refused: %s", e.msg);
			}
			src = (struct mem_source){.data = tar, .len = cut, .chunk = 4096};
			assert_int_equal(ly_layer_list_stream(mem_read, &src, LY_COMPRESS_NONE, NULL,
							      collect, &s, &e),
					 -1);
		}
		free(tar);
	}
	/* and without the option the same end is refused, as in memory */
	{
		struct mem_source src = {.data = l.data, .len = padded[2], .chunk = 4096};
		struct seen s = {0};

		assert_int_equal(ly_layer_list_stream(mem_read, &src, LY_COMPRESS_NONE, NULL, collect,
						      &s, &e),
				 -1);
		assert_non_null(strstr(e.msg, "two zero blocks"));
		assert_int_equal(ly_layer_list(l.data, padded[2], LY_COMPRESS_NONE, NULL, collect, &s,
					       &e),
				 -1);
	}
	ly_layer_release(&l);
}

/* A failing source (a download that broke, a digest that did not match)
 * is reported as the source said, wherever the listing was. */
static void test_stream_source_error(void **state)
{
	struct ly_layer l;
	struct err e;
	char want[64];
	size_t i, k;

	for (i = 0; i < 3; i++) {
		build_sensor_layer(all_compressions[i], ORDER_JSON_BIN_DIR, &l);
		const size_t at[] = {0, 2, 100, 600, l.size / 2, l.size - 1};

		for (k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
			struct mem_source src = {
			    .data = l.data, .len = l.size, .chunk = 300, .fail_at = at[k], .fail = true};
			struct seen s = {0};

			err_clear(&e);
			assert_int_equal(ly_layer_list_stream(mem_read, &src, LY_COMPRESS_AUTO, NULL,
							      collect, &s, &e),
					 -1);
			snprintf(want, sizeof(want), "test source broke at %zu", at[k]);
			assert_int_equal(e.cls, ERR_VERIFY);
			assert_string_equal(e.msg, want);
		}
		ly_layer_release(&l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_compression_names),
	    cmocka_unit_test(test_media_types),
	    cmocka_unit_test(test_detect),
	    cmocka_unit_test(test_same_input_same_bytes),
	    cmocka_unit_test(test_insertion_order_irrelevant),
	    cmocka_unit_test(test_finish_repeatable),
	    cmocka_unit_test(test_pinned_digests),
	    cmocka_unit_test(test_digest_and_diff_id),
	    cmocka_unit_test(test_gzip_header),
	    cmocka_unit_test(test_zstd_frame),
	    cmocka_unit_test(test_read_back_libarchive),
	    cmocka_unit_test(test_reader_lists_layer),
	    cmocka_unit_test(test_reader_claim_mismatch),
	    cmocka_unit_test(test_reader_limits),
	    cmocka_unit_test(test_reader_callback_control),
	    cmocka_unit_test(test_reader_truncated),
	    cmocka_unit_test(test_reader_rejects_escapes),
	    cmocka_unit_test(test_reader_garbage),
	    cmocka_unit_test(test_builder_rejects),
	    cmocka_unit_test(test_builder_parents),
	    cmocka_unit_test(test_empty_layer),
	    cmocka_unit_test(test_stream_same_as_memory),
	    cmocka_unit_test(test_stream_checks),
	    cmocka_unit_test(test_stream_truncated),
	    cmocka_unit_test(test_stream_end_blocks_optional),
	    cmocka_unit_test(test_stream_source_error),
	};

	fill_sensor();
	if (getenv("LY_TEST_FILTER"))
		cmocka_set_test_filter(getenv("LY_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
