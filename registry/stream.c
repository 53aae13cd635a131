/* stream.c - read one blob as a stream, verified, with bounded memory
 * (rg_blob_stream in registry.h).
 *
 * transfer.c's streams with our caller in the upload's place: a download
 * thread (fetch.h) fills a bounded pipe and closes it only when the bytes
 * match the digest and the size; until then the pipe keeps its last byte
 * back (pipe.h), so the consumer can never see the end of a blob that was
 * not verified. */
#include <stdbool.h>
#include <stdlib.h>

#include "fetch.h"
#include "registry.h"

#define STREAM_PIPE_CAPACITY (1u << 20)
#define DRAIN_CHUNK (64u * 1024)

struct blob_stream {
	struct rg_fetch fetch;
	bool read_failed; /* a read saw the pipe broken: by the download */
};

/* The rg_read_fn handed to the consumer. The download's own error is only
 * known after the join; rg_blob_stream puts it in place then. */
static ssize_t pipe_read(void *src, void *buf, size_t n, struct err *e)
{
	struct blob_stream *s = src;
	ssize_t got;

	if (n == 0)
		return err_set(e, ERR_OPERATIONAL, "%s@%s: read of 0 bytes", s->fetch.repository,
			       s->fetch.digest);
	got = rg_pipe_read(s->fetch.pipe, buf, n);
	if (got < 0) {
		s->read_failed = true;
		return err_set(e, ERR_OPERATIONAL, "%s@%s: the download failed",
			       s->fetch.repository, s->fetch.digest);
	}
	return got;
}

int rg_blob_stream(struct rg_endpoint *ep, const char *digest, int64_t size, rg_consume_fn consume,
		   void *arg, struct rg_stats *stats, struct err *e)
{
	struct blob_stream s = {0};
	struct rg_fetch *f = &s.fetch;
	struct err cerr = {0};
	char *drain = NULL;
	ssize_t n;
	int crc;

	if (size < 0)
		return err_set(e, ERR_INPUT, "%s@%s: negative blob size %lld",
			       rg_endpoint_repository(ep), digest, (long long)size);
	f->ops = rg_endpoint_ops(ep, &f->t);
	f->repository = rg_endpoint_repository(ep);
	f->digest = digest;
	f->size = (uint64_t)size;
	if (rg_fetch_start(f, STREAM_PIPE_CAPACITY, e) < 0)
		return -1;

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
		rg_pipe_fail(f->pipe); /* stop the download, if it still runs */
	rg_fetch_join(f);

	if (stats)
		stats->bytes_downloaded += f->received;
	free(drain);
	rg_fetch_free(f);
	/* Until consume returned (and while draining) only the download can
	 * break the pipe, so a read that saw it broken names the download's
	 * failure as the cause; otherwise a failed consume is its own (the
	 * download, if it failed, was stopped by it). */
	if (s.read_failed || (crc == 0 && f->rc < 0)) {
		*e = f->err;
		return -1;
	}
	if (crc < 0) {
		*e = cerr;
		return -1;
	}
	return 0;
}
