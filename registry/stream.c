/* stream.c - read one blob as a stream, verified, with bounded memory
 * (rg_blob_stream in registry.h).
 *
 * The shape of transfer.c's streams with our caller in the upload's place:
 * a thread fetches the blob into a bounded pipe, hashing what passes, and
 * closes the pipe only when the bytes match the digest and the size; until
 * then the pipe keeps its last byte back (pipe.h), so the consumer can
 * never see the end of a blob that was not verified. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../layers/hash.h"
#include "pipe.h"
#include "registry.h"
#include "transport.h"

#define STREAM_PIPE_CAPACITY (1u << 20)
#define DRAIN_CHUNK (64u * 1024)

struct blob_stream {
	struct rg_pipe *pipe;
	const struct rg_transport_ops *ops;
	struct rg_transport *t;
	const char *repository; /* for messages */
	const char *digest;
	uint64_t size;
	struct ly_hash *hash;
	uint64_t received; /* written by the download thread; read after join */
	struct err err;	   /* the download's failure */
	int rc;
	bool read_failed; /* a read saw the pipe broken: by the download */
};

static int download_sink(void *ctx, const void *data, size_t n)
{
	struct blob_stream *s = ctx;

	if (n > s->size - s->received) {
		err_set(&s->err, ERR_VERIFY,
			"%s@%s: the registry sent more than the %llu bytes the manifest gives for "
			"this blob; it is corrupt or was replaced",
			s->repository, s->digest, (unsigned long long)s->size);
		return -1;
	}
	s->received += n;
	ly_hash_update(s->hash, data, n);
	if (rg_pipe_write(s->pipe, data, n) < 0) {
		/* The reader gave up; its error is the one that counts. */
		err_set(&s->err, ERR_OPERATIONAL, "%s@%s: the download was stopped", s->repository,
			s->digest);
		return -1;
	}
	return 0;
}

static void *download(void *arg)
{
	struct blob_stream *s = arg;
	char got[LY_DIGEST_MAX];

	s->rc = s->ops->blob_fetch(s->t, s->digest, download_sink, s, &s->err);
	if (s->rc == 0) {
		ly_hash_final(s->hash, got);
		if (strcmp(got, s->digest) != 0 || s->received != s->size)
			s->rc =
			    err_set(&s->err, ERR_VERIFY,
				    "%s@%s: the blob's bytes do not match its digest (got %s, "
				    "%llu of %llu bytes); the source is corrupt",
				    s->repository, s->digest, got, (unsigned long long)s->received,
				    (unsigned long long)s->size);
	}
	if (s->rc == 0)
		rg_pipe_close(s->pipe);
	else
		rg_pipe_fail(s->pipe);
	return NULL;
}

/* The rg_read_fn handed to the consumer. The download's own error is only
 * known after the join; rg_blob_stream puts it in place then. */
static ssize_t pipe_read(void *src, void *buf, size_t n, struct err *e)
{
	struct blob_stream *s = src;
	ssize_t got;

	if (n == 0)
		return err_set(e, ERR_OPERATIONAL, "%s@%s: read of 0 bytes", s->repository,
			       s->digest);
	got = rg_pipe_read(s->pipe, buf, n);
	if (got < 0) {
		s->read_failed = true;
		return err_set(e, ERR_OPERATIONAL, "%s@%s: the download failed", s->repository,
			       s->digest);
	}
	return got;
}

int rg_blob_stream(struct rg_endpoint *ep, const char *digest, int64_t size, rg_consume_fn consume,
		   void *arg, struct rg_stats *stats, struct err *e)
{
	struct blob_stream s = {0};
	struct err cerr = {0};
	pthread_t thread;
	char *drain = NULL;
	ssize_t n;
	int crc;

	if (size < 0)
		return err_set(e, ERR_INPUT, "%s@%s: negative blob size %lld",
			       rg_endpoint_repository(ep), digest, (long long)size);
	s.ops = rg_endpoint_ops(ep, &s.t);
	s.repository = rg_endpoint_repository(ep);
	s.digest = digest;
	s.size = (uint64_t)size;
	if (ly_hash_new_for(digest, &s.hash, e) < 0)
		return err_prefix(e, "%s", s.repository);
	s.pipe = rg_pipe_new(STREAM_PIPE_CAPACITY);
	if (!s.pipe) {
		ly_hash_free(s.hash);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	if (pthread_create(&thread, NULL, download, &s) != 0) {
		rg_pipe_free(s.pipe);
		ly_hash_free(s.hash);
		return err_set(e, ERR_OPERATIONAL, "cannot start a download thread");
	}

	crc = consume(arg, pipe_read, &s, &cerr);
	if (crc == 0 || (cerr.cls == ERR_INPUT && !s.read_failed)) {
		/* Read to the verified end, whatever consume left: a
		 * success must never rest on an unchecked blob, and bytes
		 * consume found bad are a corrupt blob (ERR_VERIFY) unless
		 * the blob is what its digest says. */
		drain = malloc(DRAIN_CHUNK);
		if (!drain) {
			if (crc == 0)
				crc = err_set(&cerr, ERR_OPERATIONAL, "out of memory");
		} else {
			struct err derr = {0};

			while ((n = pipe_read(&s, drain, DRAIN_CHUNK, &derr)) > 0)
				;
			if (n < 0 && crc == 0) {
				cerr = derr;
				crc = -1;
			}
		}
	}
	if (crc < 0)
		rg_pipe_fail(s.pipe); /* stop the download, if it still runs */
	pthread_join(thread, NULL);

	if (stats)
		stats->bytes_downloaded += s.received;
	free(drain);
	rg_pipe_free(s.pipe);
	ly_hash_free(s.hash);
	/* Until consume returned (and while draining) only the download can
	 * break the pipe, so a read that saw it broken names the download's
	 * failure as the cause; otherwise a failed consume is its own (the
	 * download, if it failed, was stopped by it). */
	if (s.read_failed || (crc == 0 && s.rc < 0)) {
		*e = s.err;
		return -1;
	}
	if (crc < 0) {
		*e = cerr;
		return -1;
	}
	return 0;
}
