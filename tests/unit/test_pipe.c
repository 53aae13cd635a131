/* test_pipe.c - the bounded pipe that carries a blob from a download to an
 * upload: bytes arrive intact and in order through a pipe much smaller than
 * the stream, a failure on either side reaches the other, and the last byte
 * is held back until the writer vouches for the stream. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../registry/pipe.h"

#define STREAM_BYTES (3u * 1024 * 1024 + 17)

struct writer {
	struct rg_pipe *pipe;
	unsigned char *data;
	size_t len;
	int rc;
	bool fail_at_end;
};

static void *write_all(void *arg)
{
	struct writer *w = arg;
	size_t pos = 0, step = 1;

	while (pos < w->len) {
		size_t n = step < w->len - pos ? step : w->len - pos;

		if (rg_pipe_write(w->pipe, w->data + pos, n) < 0) {
			w->rc = -1;
			return NULL;
		}
		pos += n;
		step = step * 3 % 70001 + 1; /* uneven chunk sizes */
	}
	if (w->fail_at_end)
		rg_pipe_fail(w->pipe);
	else
		rg_pipe_close(w->pipe);
	return NULL;
}

static unsigned char *pattern(size_t n)
{
	unsigned char *p = malloc(n);
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	return p;
}

static void stream_arrives_intact_through_small_pipe(void **state)
{
	struct writer w = {0};
	unsigned char *got = malloc(STREAM_BYTES + 1);
	size_t total = 0;
	pthread_t t;
	ssize_t n;

	(void)state;
	w.pipe = rg_pipe_new(4096);
	w.data = pattern(STREAM_BYTES);
	w.len = STREAM_BYTES;
	assert_int_equal(pthread_create(&t, NULL, write_all, &w), 0);
	while ((n = rg_pipe_read(w.pipe, got + total, 5000)) > 0) {
		assert_true(total + (size_t)n <= STREAM_BYTES);
		total += (size_t)n;
	}
	pthread_join(t, NULL);
	assert_int_equal(n, 0);
	assert_int_equal(w.rc, 0);
	assert_int_equal(total, STREAM_BYTES);
	assert_memory_equal(got, w.data, STREAM_BYTES);
	rg_pipe_free(w.pipe);
	free(w.data);
	free(got);
}

static void writer_failure_reaches_reader_before_the_end(void **state)
{
	struct writer w = {0};
	unsigned char buf[8192];
	size_t total = 0;
	pthread_t t;
	ssize_t n;

	(void)state;
	w.pipe = rg_pipe_new(4096);
	w.data = pattern(100000);
	w.len = 100000;
	w.fail_at_end = true; /* as when the digest does not match */
	assert_int_equal(pthread_create(&t, NULL, write_all, &w), 0);
	while ((n = rg_pipe_read(w.pipe, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	pthread_join(t, NULL);
	assert_int_equal(n, -1);
	/* The reader never got the whole stream, so it could not commit it. */
	assert_true(total < 100000);
	rg_pipe_free(w.pipe);
	free(w.data);
}

static void reader_failure_stops_writer(void **state)
{
	struct writer w = {0};
	pthread_t t;

	(void)state;
	w.pipe = rg_pipe_new(1024);
	w.data = pattern(1 << 20);
	w.len = 1 << 20;
	assert_int_equal(pthread_create(&t, NULL, write_all, &w), 0);
	rg_pipe_fail(w.pipe); /* the upload broke */
	pthread_join(t, NULL);
	assert_int_equal(w.rc, -1);
	rg_pipe_free(w.pipe);
	free(w.data);
}

static void last_byte_waits_for_close(void **state)
{
	struct rg_pipe *p = rg_pipe_new(64);
	char buf[64];

	(void)state;
	assert_int_equal(rg_pipe_write(p, "0123456789", 10), 0);
	assert_int_equal(rg_pipe_read(p, buf, sizeof(buf)), 9);
	assert_memory_equal(buf, "012345678", 9);
	rg_pipe_close(p);
	assert_int_equal(rg_pipe_read(p, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], '9');
	assert_int_equal(rg_pipe_read(p, buf, sizeof(buf)), 0);
	rg_pipe_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stream_arrives_intact_through_small_pipe),
		cmocka_unit_test(writer_failure_reaches_reader_before_the_end),
		cmocka_unit_test(reader_failure_stops_writer),
		cmocka_unit_test(last_byte_waits_for_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
