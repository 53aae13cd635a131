/* fetch.c - see fetch.h. */
#include "fetch.h"

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "../layers/hash.h"

struct counting {
	rg_sink_fn sink;
	void *ctx;
	uint64_t got;
	bool sink_failed;
};

static int count_sink(void *ctx, const void *data, size_t n)
{
	struct counting *c = ctx;

	if (c->sink(c->ctx, data, n) < 0) {
		c->sink_failed = true;
		return -1;
	}
	c->got += n;
	return 0;
}

int rg_fetch_resuming(const struct rg_transport_ops *ops, struct rg_transport *t,
		      const char *digest, uint64_t size, rg_sink_fn sink, void *ctx,
		      struct err *e)
{
	struct counting c = {.sink = sink, .ctx = ctx};
	int resumes;

	for (resumes = 0;; resumes++) {
		uint64_t before = c.got;

		if (ops->blob_fetch(t, digest, c.got, count_sink, &c, e) == 0)
			return 0;
		if (c.sink_failed || e->cls != ERR_OPERATIONAL)
			return -1;
		/* Every byte came, and then the connection failed (a wrong
		 * Content-Length, a reset at the end): nothing to resume; the
		 * digest decides. Unknown size: a resume that got nothing
		 * (416, or a server without ranges) ends it the same way. */
		if ((size && c.got >= size) || (!size && resumes > 0 && c.got == before)) {
			err_clear(e);
			return 0;
		}
		if (c.got == before || resumes >= RG_FETCH_RESUMES)
			return -1;
		/* A moment for the connection's trouble to pass. */
		usleep(100000u * (unsigned)(resumes + 1));
		err_clear(e);
	}
}

static int sink(void *ctx, const void *data, size_t n)
{
	struct rg_fetch *f = ctx;

	if (n > f->size - f->received) {
		err_set(&f->err, ERR_VERIFY,
			"%s@%s: the registry sent more than the %llu bytes the manifest gives for "
			"this blob; it is corrupt or was replaced",
			f->repository, f->digest, (unsigned long long)f->size);
		return -1;
	}
	f->received += n;
	ly_hash_update(f->hash, data, n);
	if (f->progress)
		rg_progress_bytes(f->progress, n);
	/* A failed write: the reader gave up, and its error is the one that
	 * counts (the transport reports the stop). */
	return rg_pipe_write(f->pipe, data, n);
}

static void *download(void *arg)
{
	struct rg_fetch *f = arg;
	char got[LY_DIGEST_MAX];

	f->rc = rg_fetch_resuming(f->ops, f->t, f->digest, f->size, sink, f, &f->err);
	if (f->rc == 0) {
		ly_hash_final(f->hash, got);
		if (strcmp(got, f->digest) != 0 || f->received != f->size)
			f->rc =
			    err_set(&f->err, ERR_VERIFY,
				    "%s@%s: the blob's bytes do not match its digest (got %s, "
				    "%llu of %llu bytes); the source is corrupt%s%s",
				    f->repository, f->digest, got, (unsigned long long)f->received,
				    (unsigned long long)f->size, f->after_mismatch ? ", " : "",
				    f->after_mismatch ? f->after_mismatch : "");
	}
	if (f->rc == 0)
		rg_pipe_close(f->pipe);
	else
		rg_pipe_fail(f->pipe);
	return NULL;
}

int rg_fetch_start(struct rg_fetch *f, size_t capacity, struct err *e)
{
	if (ly_hash_new_for(f->digest, &f->hash, e) < 0)
		return err_prefix(e, "%s", f->repository);
	f->pipe = rg_pipe_new(capacity);
	if (!f->pipe) {
		ly_hash_free(f->hash);
		f->hash = NULL;
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	if (pthread_create(&f->thread, NULL, download, f) != 0) {
		rg_fetch_free(f);
		return err_set(e, ERR_OPERATIONAL, "cannot start a download thread");
	}
	return 0;
}

void rg_fetch_join(struct rg_fetch *f)
{
	pthread_join(f->thread, NULL);
}

void rg_fetch_free(struct rg_fetch *f)
{
	rg_pipe_free(f->pipe);
	ly_hash_free(f->hash);
	f->pipe = NULL;
	f->hash = NULL;
}
