/* transfer.c - make blobs present at a destination, several at a time.
 *
 * For each blob, cheapest first: already there (HEAD) -> nothing; same
 * registry -> cross-repository mount; otherwise a stream: one thread
 * downloads into a bounded pipe while the worker uploads from it, so memory
 * stays at the pipe's capacity whatever the blob's size. The download side
 * hashes the bytes as they pass and closes the pipe only when they match the
 * digest; until then the upload cannot finish (pipe.h), so a corrupt blob is
 * never committed. A failed stream is retried whole, since neither side can
 * rewind the other. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "fetch.h"
#include "registry.h"
#include "transport.h"

#define PIPE_CAPACITY (1u << 20) /* per blob in flight */
#define BLOB_ATTEMPTS 5

static ssize_t stream_source(void *ctx, void *data, size_t n)
{
	return rg_pipe_read(ctx, data, n);
}

/* Stream one blob from src to dst: a download thread (fetch.h) feeding the
 * upload on this thread. */
static int stream_blob(struct rg_endpoint *src, struct rg_endpoint *dst,
		       const struct mf_descriptor *d, struct rg_progress *pg, struct err *e)
{
	struct rg_fetch f = {0};
	struct rg_transport *dt;
	const struct rg_transport_ops *dops = rg_endpoint_ops(dst, &dt);
	int rc;

	f.ops = rg_endpoint_ops(src, &f.t);
	f.repository = rg_endpoint_repository(src);
	f.digest = d->digest;
	f.size = (uint64_t)d->size;
	f.progress = pg;
	f.after_mismatch = "nothing was committed";
	if (rg_fetch_start(&f, PIPE_CAPACITY, e) < 0)
		return -1;
	rc = dops->blob_upload(dt, d->digest, d->size, stream_source, f.pipe, e);
	if (rc < 0)
		rg_pipe_fail(f.pipe); /* stop the download too */
	rg_fetch_join(&f);
	/* The download's failure is the cause when both failed: the upload
	 * only saw its pipe break. */
	if (f.rc < 0) {
		*e = f.err;
		rc = -1;
	} else if (rc < 0) {
		err_prefix(e, "upload %s to %s", d->digest, rg_endpoint_repository(dst));
	}
	rg_fetch_free(&f);
	return rc;
}

/* rg_blob_tee's upload source: what the upload pulls is also handed to
 * the sink, until the sink first refuses (its reader went away: the store
 * still gets the blob). */
struct tee_source {
	struct rg_pipe *pipe;
	rg_chunk_fn sink;
	void *sink_ctx;
	bool sink_gone;
};

static ssize_t tee_source_read(void *ctx, void *data, size_t n)
{
	struct tee_source *s = ctx;
	ssize_t got = rg_pipe_read(s->pipe, data, n);

	if (got > 0 && !s->sink_gone && s->sink(s->sink_ctx, data, (size_t)got) < 0)
		s->sink_gone = true;
	return got;
}

int rg_blob_tee(struct rg_endpoint *src, struct rg_endpoint *dst, const char *digest, int64_t size,
		rg_chunk_fn sink, void *sink_ctx, struct rg_stats *stats, struct err *e)
{
	struct rg_fetch f = {0};
	struct tee_source ts = {0};
	struct rg_transport *dt;
	const struct rg_transport_ops *dops = rg_endpoint_ops(dst, &dt);
	int rc;

	if (size < 0)
		return err_set(e, ERR_INPUT, "%s@%s: negative blob size %lld",
			       rg_endpoint_repository(src), digest, (long long)size);
	f.ops = rg_endpoint_ops(src, &f.t);
	f.repository = rg_endpoint_repository(src);
	f.digest = digest;
	f.size = (uint64_t)size;
	f.after_mismatch = "nothing was stored and the reader got less than the whole blob";
	if (rg_fetch_start(&f, PIPE_CAPACITY, e) < 0)
		return -1;
	ts.pipe = f.pipe;
	ts.sink = sink;
	ts.sink_ctx = sink_ctx;
	rc = dops->blob_upload(dt, digest, size, tee_source_read, &ts, e);
	if (rc < 0)
		rg_pipe_fail(f.pipe);
	rg_fetch_join(&f);
	if (stats)
		stats->bytes_downloaded += f.received;
	if (f.rc < 0) {
		*e = f.err;
		rc = -1;
	} else if (rc < 0) {
		err_prefix(e, "store %s in %s", digest, rg_endpoint_repository(dst));
	}
	rg_fetch_free(&f);
	return rc;
}

/* What the workers share. */
struct transfer {
	pthread_mutex_t lock;
	struct rg_endpoint *src, *dst;
	const struct mf_descriptor *const *descs;
	size_t n, next;
	bool failed;
	struct err first_err;
	struct rg_stats stats;
	struct rg_progress progress;
};

static void count(struct transfer *tr, unsigned *counter, uint64_t bytes)
{
	pthread_mutex_lock(&tr->lock);
	(*counter)++;
	tr->stats.bytes_downloaded += bytes;
	tr->stats.bytes_uploaded += bytes;
	pthread_mutex_unlock(&tr->lock);
}

static int transfer_one(struct transfer *tr, const struct mf_descriptor *d, struct err *e)
{
	struct rg_transport *dt;
	const struct rg_transport_ops *dops = rg_endpoint_ops(tr->dst, &dt);
	int attempt, present, mounted;

	/* The source's own repository holds every blob its manifests name:
	 * a registry does not accept a manifest otherwise. */
	if (rg_endpoint_same_repository(tr->dst, tr->src)) {
		count(tr, &tr->stats.blobs_present, 0);
		rg_progress_item_done(&tr->progress, (uint64_t)d->size);
		return 0;
	}
	present = dops->blob_exists(dt, d->digest, NULL, e);
	if (present < 0)
		return err_prefix(e, "check %s at %s", d->digest, rg_endpoint_repository(tr->dst));
	if (present) {
		count(tr, &tr->stats.blobs_present, 0);
		rg_progress_item_done(&tr->progress, (uint64_t)d->size);
		return 0;
	}
	if (rg_endpoint_can_mount(tr->dst, tr->src)) {
		struct err ignored;

		/* Any failure to mount just means the bytes must move. */
		mounted = dops->blob_mount(dt, d->digest, rg_endpoint_path(tr->src), &ignored);
		if (mounted == 1) {
			count(tr, &tr->stats.blobs_mounted, 0);
			rg_progress_item_done(&tr->progress, (uint64_t)d->size);
			return 0;
		}
	}
	/* Bytes that did not match the digest are tried again too: what
	 * altered them may have been the way, not the source's storage. The
	 * upload of a failed attempt never commits (pipe.h). */
	for (attempt = 1;; attempt++) {
		struct err ignored;

		/* An upload whose answer was lost may have landed all the same. */
		if (attempt > 1 && dops->blob_exists(dt, d->digest, NULL, &ignored) == 1)
			break;
		if (stream_blob(tr->src, tr->dst, d, &tr->progress, e) == 0)
			break;
		if ((e->cls != ERR_OPERATIONAL && e->cls != ERR_VERIFY) || attempt >= BLOB_ATTEMPTS)
			return attempt > 1 ? err_prefix(e, "after %d attempts", attempt) : -1;
		usleep(250000u << attempt);
	}
	count(tr, &tr->stats.blobs_streamed, (uint64_t)d->size);
	rg_progress_item_done(&tr->progress, 0);
	return 0;
}

static void *transfer_worker(void *arg)
{
	struct transfer *tr = arg;

	for (;;) {
		const struct mf_descriptor *d;
		struct err e;

		pthread_mutex_lock(&tr->lock);
		if (tr->failed || tr->next >= tr->n) {
			pthread_mutex_unlock(&tr->lock);
			return NULL;
		}
		d = tr->descs[tr->next++];
		pthread_mutex_unlock(&tr->lock);

		err_clear(&e);
		if (transfer_one(tr, d, &e) < 0) {
			pthread_mutex_lock(&tr->lock);
			if (!tr->failed) {
				tr->failed = true;
				tr->first_err = e;
			}
			pthread_mutex_unlock(&tr->lock);
			return NULL;
		}
	}
}

int rg_blobs_transfer(struct rg_endpoint *src, struct rg_endpoint *dst,
		      const struct mf_descriptor *const *descs, size_t n, int jobs,
		      struct rg_stats *stats, struct err *e)
{
	struct transfer tr = {0};
	pthread_t threads[64];
	int started = 0, i;
	size_t k;

	uint64_t bytes = 0;

	pthread_mutex_init(&tr.lock, NULL);
	tr.src = src;
	tr.dst = dst;
	tr.descs = descs;
	tr.n = n;
	for (k = 0; k < n; k++)
		bytes += (uint64_t)descs[k]->size;
	rg_progress_start(&tr.progress, dst, "blobs", n, bytes);

	if (jobs < 1)
		jobs = 1;
	if (jobs > (int)(sizeof(threads) / sizeof(threads[0])))
		jobs = (int)(sizeof(threads) / sizeof(threads[0]));
	if ((size_t)jobs > n)
		jobs = (int)n;
	for (i = 0; i < jobs; i++) {
		if (pthread_create(&threads[i], NULL, transfer_worker, &tr) != 0)
			break;
		started++;
	}
	if (started == 0 && n > 0)
		transfer_worker(&tr); /* no threads to be had: do it here */
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	rg_progress_end(&tr.progress);

	if (stats) {
		stats->bytes_downloaded += tr.stats.bytes_downloaded;
		stats->bytes_uploaded += tr.stats.bytes_uploaded;
		stats->blobs_present += tr.stats.blobs_present;
		stats->blobs_mounted += tr.stats.blobs_mounted;
		stats->blobs_streamed += tr.stats.blobs_streamed;
	}
	pthread_mutex_destroy(&tr.lock);
	if (tr.failed) {
		*e = tr.first_err;
		return -1;
	}
	return 0;
}
