/* test_layout.c - the OCI image layout transport (registry/layout.c) against
 * a real directory: blobs and manifests written, read back and compared;
 * what must be refused is refused and leaves nothing behind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../layers/hash.h"
#include "../../manifest/mediatype.h"
#include "../../registry/layout.h"
#include "../../registry/registry.h"
#include "../../registry/transport.h"

struct fixture {
	char root[64]; /* mkdtemp directory, removed at teardown */
	char dir[128]; /* root/layout: does not exist before the first write */
	struct rg_transport *t;
	const struct rg_transport_ops *ops;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct err e;

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/inlay-test-layout-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/layout", f->root);
	if (rg_layout_open(f->dir, NULL, &f->t, &f->ops, &e) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->ops->free(f->t);
	nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- helpers ---- */

/* Hands out data in pieces of at most `step` bytes; -1 after abort_at. */
struct source {
	const char *data;
	size_t len, pos, step, abort_at;
};

static ssize_t source_read(void *ctx, void *data, size_t n)
{
	struct source *s = ctx;

	if (s->abort_at && s->pos >= s->abort_at)
		return -1;
	if (n > s->step)
		n = s->step;
	if (n > s->len - s->pos)
		n = s->len - s->pos;
	memcpy(data, s->data + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static int sink_buf(void *ctx, const void *data, size_t n)
{
	return buf_append(ctx, data, n);
}

static int upload(struct fixture *f, const char *digest, const void *data, size_t len, int64_t size,
		  struct err *e)
{
	struct source s = {data, len, 0, 7, 0};

	return f->ops->blob_upload(f->t, digest, size, source_read, &s, e);
}

/* Names in dir (not . or ..), or -1 when it cannot be read. */
static int count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static json_t *load_index(struct fixture *f)
{
	char path[256];
	json_t *j;

	snprintf(path, sizeof(path), "%s/index.json", f->dir);
	j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	return j;
}

/* The digest named `tag` in the on-disk index.json, or NULL; and how many
 * descriptors carry it. */
static const char *tag_digest(json_t *index, const char *tag, int *count)
{
	const char *found = NULL;
	json_t *d;
	size_t i;

	*count = 0;
	json_array_foreach(json_object_get(index, "manifests"), i, d)
	{
		const char *name = json_string_value(
		    json_object_get(json_object_get(d, "annotations"), ANN_REF_NAME));

		if (name && strcmp(name, tag) == 0) {
			found = json_string_value(json_object_get(d, "digest"));
			(*count)++;
		}
	}
	return found;
}

static void manifest_text(char *out, size_t n, const char *mt, int i)
{
	snprintf(
	    out, n,
	    "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"" MT_OCI_CONFIG
	    "\",\"digest\":\"sha256:%064d\",\"size\":%d},\"layers\":[]}",
	    mt, i, i);
}

static int put(struct fixture *f, const char *ref, const char *text, const char *mt, struct err *e)
{
	return f->ops->manifest_put(f->t, ref, text, strlen(text), mt, e);
}

static int get(struct fixture *f, const char *ref, struct buf *out, char **mt, char **dg,
	       struct err *e)
{
	*mt = NULL;
	*dg = NULL;
	buf_init(out, LIMIT_MANIFEST_BYTES);
	return f->ops->manifest_get(f->t, ref, out, mt, dg, e);
}

/* ---- blobs ---- */

static void test_blob_round_trip(void **state)
{
	struct fixture *f = *state;
	char digest[LY_DIGEST_MAX], path[512];
	static char data[600000]; /* more than one 256 KiB chunk */
	struct stat st;
	struct buf back;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 31 + (i >> 9));
	ly_sha256_digest(data, sizeof(data), digest);

	assert_int_equal(f->ops->blob_exists(f->t, digest, NULL, &e), 0);
	assert_int_equal(upload(f, digest, data, sizeof(data), (int64_t)sizeof(data), &e), 0);
	assert_int_equal(f->ops->blob_exists(f->t, digest, NULL, &e), 1);
	{
		int64_t size = -1;
		int fd = -1;

		assert_int_equal(f->ops->blob_exists(f->t, digest, &size, &e), 1);
		assert_int_equal(size, (int64_t)sizeof(data));
		size = -1;
		/* blob_open hands out the verified file itself (for sendfile) */
		assert_int_equal(f->ops->blob_open(f->t, digest, &fd, &size, &e), 1);
		assert_true(fd >= 0);
		assert_int_equal(size, (int64_t)sizeof(data));
		close(fd);
	}

	/* The layout was created by the write, as other tools expect it. */
	snprintf(path, sizeof(path), "%s/oci-layout", f->dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/index.json", f->dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->dir, digest + 7);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(st.st_size, sizeof(data));
	snprintf(path, sizeof(path), "%s/blobs/sha256", f->dir);
	assert_int_equal(count_entries(path), 1); /* no temporary file left */

	buf_init(&back, sizeof(data));
	assert_int_equal(f->ops->blob_fetch(f->t, digest, 0, sink_buf, &back, &e), 0);
	assert_int_equal(back.len, sizeof(data));
	assert_memory_equal(back.data, data, sizeof(data));
	/* A resumed read starts at its offset. */
	buf_reset(&back);
	assert_int_equal(f->ops->blob_fetch(f->t, digest, 5, sink_buf, &back, &e), 0);
	assert_int_equal(back.len, sizeof(data) - 5);
	assert_memory_equal(back.data, data + 5, sizeof(data) - 5);
	buf_free(&back);

	/* Uploading it again (size unknown) is harmless. */
	assert_int_equal(upload(f, digest, data, sizeof(data), -1, &e), 0);
	assert_int_equal(count_entries(path), 1);
}

static void test_blob_digest_mismatch(void **state)
{
	struct fixture *f = *state;
	char digest[LY_DIGEST_MAX], path[512];
	struct err e;

	ly_sha256_digest("other bytes", 11, digest);
	assert_int_equal(upload(f, digest, "some bytes", 10, 10, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	assert_non_null(strstr(e.msg, "does not match"));
	assert_int_equal(f->ops->blob_exists(f->t, digest, NULL, &e), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256", f->dir);
	assert_int_equal(count_entries(path), 0);
}

static void test_blob_size_mismatch_and_abort(void **state)
{
	struct fixture *f = *state;
	char digest[LY_DIGEST_MAX], path[512];
	struct source s = {"0123456789abcdef", 16, 0, 4, 8};
	struct err e;

	ly_sha256_digest("0123456789abcdef", 16, digest);
	/* Right bytes, wrong announced size, both ways. */
	assert_int_equal(upload(f, digest, "0123456789abcdef", 16, 15, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	assert_int_equal(upload(f, digest, "0123456789abcdef", 16, 17, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	/* The source gives up half way. */
	assert_int_equal(f->ops->blob_upload(f->t, digest, 16, source_read, &s, &e), -1);
	assert_int_not_equal(e.cls, ERR_OK);
	snprintf(path, sizeof(path), "%s/blobs/sha256", f->dir);
	assert_int_equal(count_entries(path), 0);
	assert_int_equal(f->ops->blob_exists(f->t, digest, NULL, &e), 0);
}

/* rg_blob_put_fd (the mirror's spool into its store): the file's first
 * `size` bytes stored under their digest, once; a file whose bytes no
 * longer match is refused as such and leaves nothing behind. */
static void test_blob_put_from_file(void **state)
{
	struct fixture *f = *state;
	char digest[LY_DIGEST_MAX], other[LY_DIGEST_MAX], ref[160], path[512];
	static char data[300000];
	struct rg_options opt;
	struct rg_endpoint *ep;
	struct buf back;
	struct err e;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + (i >> 11));
	ly_sha256_digest(data, sizeof(data), digest);
	snprintf(path, sizeof(path), "%s/spool", f->root);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
	assert_int_equal(write(fd, "trailing", 8), 8); /* past size: not part of it */
	rg_options_init(&opt);
	snprintf(ref, sizeof(ref), "oci:%s", f->dir);
	assert_int_equal(rg_endpoint_open(ref, &opt, &ep, &e), 0);

	assert_int_equal(rg_blob_put_fd(ep, digest, (int64_t)sizeof(data), fd, &e), 1);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)sizeof(data) + 8); /* offset untouched */
	buf_init(&back, sizeof(data));
	assert_int_equal(f->ops->blob_fetch(f->t, digest, 0, sink_buf, &back, &e), 0);
	assert_int_equal(back.len, sizeof(data));
	assert_memory_equal(back.data, data, sizeof(data));
	buf_free(&back);
	assert_int_equal(rg_blob_put_fd(ep, digest, (int64_t)sizeof(data), fd, &e), 0);

	/* The same file under another digest: its bytes are not that blob. */
	ly_sha256_digest("something else", 14, other);
	assert_int_equal(rg_blob_put_fd(ep, other, (int64_t)sizeof(data), fd, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	assert_non_null(strstr(e.msg, "now has"));
	assert_int_equal(f->ops->blob_exists(f->t, other, NULL, &e), 0);
	/* A file shorter than the size announced. */
	assert_int_equal(rg_blob_put_fd(ep, other, (int64_t)sizeof(data) + 100, fd, &e), -1);
	assert_int_equal(f->ops->blob_exists(f->t, other, NULL, &e), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256", f->dir);
	assert_int_equal(count_entries(path), 1); /* only the good one, no temporary file */
	rg_endpoint_free(ep);
	close(fd);
}

static void test_blob_missing(void **state)
{
	struct fixture *f = *state;
	char digest[LY_DIGEST_MAX];
	struct buf back;
	struct err e;

	ly_sha256_digest("x", 1, digest);
	buf_init(&back, 100);
	assert_int_equal(f->ops->blob_fetch(f->t, digest, 0, sink_buf, &back, &e), -1);
	assert_int_equal(e.cls, ERR_OPERATIONAL);
	assert_int_equal(e.http_status, 404);
	buf_free(&back);
}

static void test_bad_digests_refused(void **state)
{
	static const char *const bad[] = {
	    "sha256:../../../../etc/passwd",
	    "sha256:../blobs/sha256/0000000000000000000000000000000000000000000000000000000",
	    "../sha256:0000000000000000000000000000000000000000000000000000000000000000",
	    "sha256/../../x:0000000000000000000000000000000000000000000000000000000000000000",
	    "sha256:000000000000000000000000000000000000000000000000000000000000000/",
	    "md5:d41d8cd98f00b204e9800998ecf8427e",
	    "",
	};
	struct fixture *f = *state;
	struct buf out;
	char *mt, *dg;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.cls = ERR_OK;
		assert_int_equal(f->ops->blob_exists(f->t, bad[i], NULL, &e), -1);
		assert_int_equal(e.cls, ERR_INPUT);
		e.cls = ERR_OK;
		assert_int_equal(upload(f, bad[i], "x", 1, 1, &e), -1);
		assert_int_equal(e.cls, ERR_INPUT);
		buf_init(&out, 16);
		assert_int_equal(f->ops->blob_fetch(f->t, bad[i], 0, sink_buf, &out, &e), -1);
		assert_int_equal(e.cls, ERR_INPUT);
		buf_free(&out);
	}
	/* Nothing was created by any of them (the layout is made by writes). */
	assert_int_equal(access(f->dir, F_OK), -1);
	/* Through the manifest operations too, once the layout exists. */
	assert_int_equal(put(f, "t", "{}", MT_OCI_MANIFEST, &e), 0);
	assert_int_equal(get(f, "sha256:../../../../etc/passwd", &out, &mt, &dg, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	buf_free(&out);
	assert_int_equal(put(f, "sha256:../../x", "{}", MT_OCI_MANIFEST, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_int_equal(put(f, "../x", "{}", MT_OCI_MANIFEST, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
}

/* Eight threads upload the same blob and one each of their own. */
struct upload_job {
	struct fixture *f;
	int id, rc;
	struct err e;
};

static void *upload_thread(void *arg)
{
	struct upload_job *j = arg;
	char data[64 * 1024], digest[LY_DIGEST_MAX];
	int round;

	for (round = 0; round < 2; round++) {
		memset(data, round ? 'A' + j->id : 'z', sizeof(data));
		ly_sha256_digest(data, sizeof(data), digest);
		if (upload(j->f, digest, data, sizeof(data), (int64_t)sizeof(data), &j->e) < 0) {
			j->rc = -1;
			return NULL;
		}
	}
	j->rc = 0;
	return NULL;
}

static void test_blob_concurrent_threads(void **state)
{
	struct fixture *f = *state;
	struct upload_job jobs[8];
	pthread_t th[8];
	char path[512];
	int i;

	for (i = 0; i < 8; i++) {
		jobs[i] = (struct upload_job){.f = f, .id = i, .rc = -2};
		if (pthread_create(&th[i], NULL, upload_thread, &jobs[i]) != 0)
			fail_msg("pthread_create failed");
	}
	/* Join them all before any assertion can end the test. */
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 8; i++) {
		if (jobs[i].rc != 0)
			fail_msg("thread %d: %s", i, jobs[i].e.msg);
	}
	snprintf(path, sizeof(path), "%s/blobs/sha256", f->dir);
	assert_int_equal(count_entries(path), 9);
}

/* ---- manifests and tags ---- */

static void test_manifest_tag_and_digest(void **state)
{
	struct fixture *f = *state;
	char text[512], digest[LY_DIGEST_MAX];
	struct buf out;
	char *mt, *dg;
	struct err e;

	manifest_text(text, sizeof(text), MT_OCI_MANIFEST, 1);
	ly_sha256_digest(text, strlen(text), digest);
	assert_int_equal(put(f, "v1", text, MT_OCI_MANIFEST, &e), 0);

	assert_int_equal(get(f, "v1", &out, &mt, &dg, &e), 0);
	assert_int_equal(out.len, strlen(text));
	assert_memory_equal(out.data, text, out.len);
	assert_string_equal(mt, MT_OCI_MANIFEST);
	assert_string_equal(dg, digest);
	buf_free(&out);
	free(mt);
	free(dg);

	assert_int_equal(get(f, digest, &out, &mt, &dg, &e), 0);
	assert_memory_equal(out.data, text, out.len);
	assert_string_equal(mt, MT_OCI_MANIFEST);
	assert_string_equal(dg, digest);
	buf_free(&out);
	free(mt);
	free(dg);
}

static void test_manifest_child_by_digest(void **state)
{
	struct fixture *f = *state;
	char text[512], digest[LY_DIGEST_MAX], other[LY_DIGEST_MAX];
	struct buf out;
	char *mt, *dg;
	json_t *index;
	struct err e;

	/* A child of an index: stored as a blob only, never named. */
	manifest_text(text, sizeof(text), MT_DOCKER_MANIFEST, 2);
	ly_sha256_digest(text, strlen(text), digest);
	assert_int_equal(put(f, digest, text, MT_DOCKER_MANIFEST, &e), 0);
	index = load_index(f);
	assert_int_equal(json_array_size(json_object_get(index, "manifests")), 0);
	json_decref(index);
	/* Its media type then comes from the document itself. */
	assert_int_equal(get(f, digest, &out, &mt, &dg, &e), 0);
	assert_string_equal(mt, MT_DOCKER_MANIFEST);
	assert_string_equal(dg, digest);
	buf_free(&out);
	free(mt);
	free(dg);

	/* Bytes that are not their digest are refused. */
	ly_sha256_digest("x", 1, other);
	assert_int_equal(put(f, other, text, MT_DOCKER_MANIFEST, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);

	/* A blob that is not JSON is not a manifest. */
	ly_sha256_digest("\x01\x02", 2, other);
	assert_int_equal(upload(f, other, "\x01\x02", 2, 2, &e), 0);
	assert_int_equal(get(f, other, &out, &mt, &dg, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	buf_free(&out);
}

static void test_retag_moves_tag(void **state)
{
	struct fixture *f = *state;
	char t1[512], t2[512], d1[LY_DIGEST_MAX], d2[LY_DIGEST_MAX];
	struct buf out;
	char *mt, *dg;
	json_t *index;
	struct err e;
	int n;

	manifest_text(t1, sizeof(t1), MT_OCI_MANIFEST, 1);
	manifest_text(t2, sizeof(t2), MT_OCI_MANIFEST, 2);
	ly_sha256_digest(t1, strlen(t1), d1);
	ly_sha256_digest(t2, strlen(t2), d2);
	assert_int_equal(put(f, "latest", t1, MT_OCI_MANIFEST, &e), 0);
	assert_int_equal(put(f, "latest", t2, MT_OCI_MANIFEST, &e), 0);

	index = load_index(f);
	assert_string_equal(tag_digest(index, "latest", &n), d2);
	assert_int_equal(n, 1);
	assert_int_equal(json_array_size(json_object_get(index, "manifests")), 1);
	json_decref(index);

	assert_int_equal(get(f, "latest", &out, &mt, &dg, &e), 0);
	assert_string_equal(dg, d2);
	buf_free(&out);
	free(mt);
	free(dg);
	/* The old manifest is still there by digest. */
	assert_int_equal(get(f, d1, &out, &mt, &dg, &e), 0);
	assert_memory_equal(out.data, t1, strlen(t1));
	buf_free(&out);
	free(mt);
	free(dg);
}

static void test_second_tag_adds_entry(void **state)
{
	struct fixture *f = *state;
	char t1[512], t2[512], d1[LY_DIGEST_MAX], d2[LY_DIGEST_MAX];
	json_t *index;
	struct err e;
	int n;

	manifest_text(t1, sizeof(t1), MT_OCI_MANIFEST, 1);
	manifest_text(t2, sizeof(t2), MT_OCI_MANIFEST, 2);
	ly_sha256_digest(t1, strlen(t1), d1);
	ly_sha256_digest(t2, strlen(t2), d2);
	assert_int_equal(put(f, "a", t1, MT_OCI_MANIFEST, &e), 0);
	assert_int_equal(put(f, "b", t2, MT_OCI_MANIFEST, &e), 0);
	assert_int_equal(put(f, "c", t1, MT_OCI_MANIFEST, &e), 0);

	index = load_index(f);
	assert_int_equal(json_array_size(json_object_get(index, "manifests")), 3);
	assert_string_equal(tag_digest(index, "a", &n), d1);
	assert_string_equal(tag_digest(index, "b", &n), d2);
	assert_string_equal(tag_digest(index, "c", &n), d1);
	assert_string_equal(json_string_value(json_object_get(index, "mediaType")), MT_OCI_INDEX);
	assert_int_equal(json_integer_value(json_object_get(index, "schemaVersion")), 2);
	json_decref(index);
}

static void test_set_tag_keeps_other_annotations(void **state)
{
	static const char doc[] =
	    "{\"schemaVersion\":2,\"manifests\":["
	    "{\"mediaType\":\"m\",\"digest\":\"sha256:1111111111111111111111111111111111111111111"
	    "111111111111111111111\",\"size\":1,\"annotations\":{\"" ANN_REF_NAME "\":\"t\","
	    "\"x\":\"y\"}},"
	    "{\"mediaType\":\"m\",\"digest\":\"sha256:2222222222222222222222222222222222222222222"
	    "222222222222222222222\",\"size\":2,\"platform\":{\"os\":\"linux\"}}],"
	    "\"annotations\":{\"keep\":\"me\"}}";
	char d3[] = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
	json_t *index, *ms, *desc = NULL;
	struct err e;

	(void)state;
	assert_int_equal(rg_layout_index_parse(doc, strlen(doc), "t", &index, &e), 0);
	assert_int_equal(rg_layout_index_set_tag(index, "t", MT_OCI_MANIFEST, d3, 3, &e), 0);
	ms = json_object_get(index, "manifests");
	assert_int_equal(json_array_size(ms), 3);
	/* The new descriptor took the old one's place; the old one kept "x". */
	assert_string_equal(json_string_value(json_object_get(json_array_get(ms, 0), "digest")),
			    d3);
	assert_null(
	    json_object_get(json_object_get(json_array_get(ms, 1), "annotations"), ANN_REF_NAME));
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(ms, 1), "annotations"), "x")),
			    "y");
	assert_non_null(json_object_get(json_array_get(ms, 2), "platform"));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(index, "annotations"), "keep")),
	    "me");
	assert_int_equal(rg_layout_index_find(index, "t", &desc, &e), 1);
	assert_string_equal(json_string_value(json_object_get(desc, "digest")), d3);
	assert_int_equal(json_integer_value(json_object_get(desc, "size")), 3);
	assert_int_equal(rg_layout_index_find(index, "nope", &desc, &e), 0);
	json_decref(index);
}

static void test_missing_layout_is_404(void **state)
{
	struct fixture *f = *state;
	struct buf out;
	char *mt, *dg;
	struct err e;

	assert_int_equal(get(f, "latest", &out, &mt, &dg, &e), -1);
	assert_int_equal(e.cls, ERR_OPERATIONAL);
	assert_int_equal(e.http_status, 404);
	assert_non_null(strstr(e.msg, "not an OCI image layout"));
	assert_non_null(strstr(e.msg, f->dir));
	assert_null(mt);
	assert_null(dg);
	buf_free(&out);
	/* Reading creates nothing. */
	assert_int_equal(access(f->dir, F_OK), -1);
}

static void test_missing_tag_is_404(void **state)
{
	struct fixture *f = *state;
	struct buf out;
	char *mt, *dg;
	struct err e;

	assert_int_equal(put(f, "present", "{}", MT_OCI_MANIFEST, &e), 0);
	assert_int_equal(get(f, "absent", &out, &mt, &dg, &e), -1);
	assert_int_equal(e.cls, ERR_OPERATIONAL);
	assert_int_equal(e.http_status, 404);
	assert_non_null(strstr(e.msg, "present")); /* says which tags there are */
	buf_free(&out);
	assert_int_equal(
	    get(f, "sha256:0000000000000000000000000000000000000000000000000000000000000000", &out,
		&mt, &dg, &e),
	    -1);
	assert_int_equal(e.http_status, 404);
	buf_free(&out);
}

static void test_malformed_index_on_disk(void **state)
{
	struct fixture *f = *state;
	char path[512];
	struct buf out;
	char *mt, *dg;
	struct err e;

	assert_int_equal(put(f, "v", "{}", MT_OCI_MANIFEST, &e), 0);
	snprintf(path, sizeof(path), "%s/index.json", f->dir);
	write_text(path, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\"}");
	assert_int_equal(get(f, "v", &out, &mt, &dg, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "index.json"));
	buf_free(&out);
	/* A write does not paper over it either. */
	assert_int_equal(put(f, "w", "{}", MT_OCI_MANIFEST, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "index.json"));

	snprintf(path, sizeof(path), "%s/oci-layout", f->dir);
	write_text(path, "{\"imageLayoutVersion\":\"2.0.0\"}");
	assert_int_equal(get(f, "v", &out, &mt, &dg, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "oci-layout"));
	buf_free(&out);
}

static void test_index_parse_table(void **state)
{
	static const char dg[] =
	    "\"sha256:1111111111111111111111111111111111111111111111111111111111111111\"";
	static const struct {
		const char *doc;
		int ok;
	} cases[] = {
	    {"{\"schemaVersion\":2,\"manifests\":[]}", 1},
	    {"{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[]}", 1},
	    {"", 0},
	    {"[]", 0},
	    {"{\"schemaVersion\":1,\"manifests\":[]}", 0},
	    {"{\"schemaVersion\":\"2\",\"manifests\":[]}", 0},
	    {"{\"schemaVersion\":2}", 0},
	    {"{\"schemaVersion\":2,\"manifests\":{}}", 0},
	    {"{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\",\"manifests\":[]}", 0},
	    {"{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}", 0},
	    {"{\"schemaVersion\":2,\"manifests\":[1]}", 0},
	};
	static const char *const descs[] = {
	    /* %s is the digest; the first is valid */
	    "{\"mediaType\":\"m\",\"digest\":%s,\"size\":1,\"annotations\":{\"a\":\"b\"}}",
	    "{\"digest\":%s,\"size\":1}",
	    "{\"mediaType\":\"\",\"digest\":%s,\"size\":1}",
	    "{\"mediaType\":\"m\",\"digest\":%s,\"size\":-1}",
	    "{\"mediaType\":\"m\",\"digest\":%s,\"size\":1.5}",
	    "{\"mediaType\":\"m\",\"digest\":%s}",
	    "{\"mediaType\":\"m\",\"digest\":%s,\"size\":1,\"annotations\":[]}",
	    "{\"mediaType\":\"m\",\"digest\":%s,\"size\":1,\"annotations\":{\"a\":1}}",
	    "{\"mediaType\":\"m\",\"digest\":\"sha256:../x\",\"size\":1%.0s}",
	};
	char doc[1024], desc[512];
	json_t *index;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc =
		    rg_layout_index_parse(cases[i].doc, strlen(cases[i].doc), "case", &index, &e);

		assert_int_equal(rc, cases[i].ok ? 0 : -1);
		if (rc == 0)
			json_decref(index);
		else
			assert_int_equal(e.cls, ERR_INPUT);
	}
	for (i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
		int rc;

		snprintf(desc, sizeof(desc), descs[i], dg);
		snprintf(doc, sizeof(doc), "{\"schemaVersion\":2,\"manifests\":[%s]}", desc);
		rc = rg_layout_index_parse(doc, strlen(doc), "case", &index, &e);
		assert_int_equal(rc, i == 0 ? 0 : -1);
		if (rc == 0)
			json_decref(index);
		else
			assert_int_equal(e.cls, ERR_INPUT);
	}
}

static void test_ambiguous_tag(void **state)
{
	static const char doc[] =
	    "{\"schemaVersion\":2,\"manifests\":["
	    "{\"mediaType\":\"m\",\"digest\":\"sha256:1111111111111111111111111111111111111111111"
	    "111111111111111111111\",\"size\":1,\"annotations\":{\"" ANN_REF_NAME "\":\"t\"}},"
	    "{\"mediaType\":\"m\",\"digest\":\"sha256:2222222222222222222222222222222222222222222"
	    "222222222222222222222\",\"size\":2,\"annotations\":{\"" ANN_REF_NAME "\":\"t\"}}]}";
	struct fixture *f = *state;
	json_t *index, *desc = NULL;
	char path[512];
	struct buf out;
	char *mt, *dg;
	struct err e;

	assert_int_equal(rg_layout_index_parse(doc, strlen(doc), "t", &index, &e), 0);
	assert_int_equal(rg_layout_index_find(index, "t", &desc, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	json_decref(index);

	assert_int_equal(put(f, "x", "{}", MT_OCI_MANIFEST, &e), 0);
	snprintf(path, sizeof(path), "%s/index.json", f->dir);
	write_text(path, doc);
	assert_int_equal(get(f, "t", &out, &mt, &dg, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	buf_free(&out);
}

static void test_manifest_limit(void **state)
{
	struct fixture *f = *state;
	char text[512];
	struct buf out;
	char *mt = NULL, *dg = NULL;
	struct err e;

	manifest_text(text, sizeof(text), MT_OCI_MANIFEST, 1);
	assert_int_equal(put(f, "v", text, MT_OCI_MANIFEST, &e), 0);
	buf_init(&out, 100); /* smaller than the manifest */
	assert_int_equal(f->ops->manifest_get(f->t, "v", &out, &mt, &dg, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_null(mt);
	buf_free(&out);
}

static void test_refuses_foreign_directory(void **state)
{
	struct fixture *f = *state;
	char path[512];
	struct err e;

	assert_int_equal(mkdir(f->dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/notes.txt", f->dir);
	write_text(path, "mine");
	assert_int_equal(put(f, "v", "{}", MT_OCI_MANIFEST, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "notes.txt"));
	snprintf(path, sizeof(path), "%s/oci-layout", f->dir);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_bad_tags_refused(void **state)
{
	struct fixture *f = *state;
	struct err e;

	assert_int_equal(put(f, "", "{}", MT_OCI_MANIFEST, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_int_equal(put(f, "-x", "{}", MT_OCI_MANIFEST, &e), -1);
	assert_int_equal(put(f, "a/b", "{}", MT_OCI_MANIFEST, &e), -1);
	assert_int_equal(put(f, "v", "{}", NULL, &e), -1);
	assert_int_equal(rg_layout_check_tag("v1.2_3-x", &e), 0);
	assert_int_equal(rg_layout_check_tag("_x", &e), 0);
}

/* Two processes tag 15 manifests each in the same layout at the same time:
 * the index lock must keep all 30. */
static void test_concurrent_processes(void **state)
{
	struct fixture *f = *state;
	char text[512], tag[32];
	json_t *index;
	pid_t pid[2];
	struct err e;
	int p, i, status, n;

	for (p = 0; p < 2; p++) {
		pid[p] = fork();
		assert_true(pid[p] >= 0);
		if (pid[p] == 0) {
			for (i = 0; i < 15; i++) {
				manifest_text(text, sizeof(text), MT_OCI_MANIFEST, p * 100 + i);
				snprintf(tag, sizeof(tag), "p%d-%d", p, i);
				if (put(f, tag, text, MT_OCI_MANIFEST, &e) < 0) {
					fprintf(stderr, "# %s\n", e.msg);
					_exit(1);
				}
			}
			_exit(0);
		}
	}
	for (p = 0; p < 2; p++) {
		assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	index = load_index(f);
	assert_int_equal(json_array_size(json_object_get(index, "manifests")), 30);
	for (p = 0; p < 2; p++)
		for (i = 0; i < 15; i++) {
			snprintf(tag, sizeof(tag), "p%d-%d", p, i);
			assert_non_null(tag_digest(index, tag, &n));
			assert_int_equal(n, 1);
		}
	json_decref(index);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_blob_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blob_digest_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blob_size_mismatch_and_abort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blob_put_from_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blob_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_digests_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blob_concurrent_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest_tag_and_digest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest_child_by_digest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retag_moves_tag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_tag_adds_entry, setup, teardown),
	    cmocka_unit_test(test_set_tag_keeps_other_annotations),
	    cmocka_unit_test_setup_teardown(test_missing_layout_is_404, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_tag_is_404, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_index_on_disk, setup, teardown),
	    cmocka_unit_test(test_index_parse_table),
	    cmocka_unit_test_setup_teardown(test_ambiguous_tag, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_manifest_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_foreign_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_tags_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_processes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
