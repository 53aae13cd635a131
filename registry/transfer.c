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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../layers/hash.h"
#include "pipe.h"
#include "progress.h"
#include "registry.h"
#include "transport.h"

#define PIPE_CAPACITY (1u << 20) /* per blob in flight */
#define BLOB_ATTEMPTS 3

/* One download feeding one upload. */
struct stream {
	struct rg_pipe *pipe;
	const struct rg_transport_ops *src_ops;
	struct rg_transport *src;
	const char *src_name;
	const struct mf_descriptor *desc;
	struct ly_hash *hash;
	uint64_t received;
	struct rg_progress *progress;
	struct err err;
	int rc;
};

static int stream_sink(void *ctx, const void *data, size_t n)
{
	struct stream *s = ctx;

	if (s->received + n > (uint64_t)s->desc->size) {
		err_set(
		    &s->err, ERR_VERIFY,
		    "%s@%s: the registry sent more than the %lld bytes the manifest gives for this "
		    "blob; it is corrupt or was replaced",
		    s->src_name, s->desc->digest, (long long)s->desc->size);
		return -1;
	}
	s->received += n;
	ly_hash_update(s->hash, data, n);
	rg_progress_bytes(s->progress, n);
	return rg_pipe_write(s->pipe, data, n);
}

static void *stream_download(void *arg)
{
	struct stream *s = arg;
	char got[LY_DIGEST_MAX];

	s->rc = s->src_ops->blob_fetch(s->src, s->desc->digest, stream_sink, s, &s->err);
	if (s->rc == 0) {
		ly_hash_final(s->hash, got);
		if (strcmp(got, s->desc->digest) != 0 || s->received != (uint64_t)s->desc->size) {
			s->rc = err_set(
			    &s->err, ERR_VERIFY,
			    "%s@%s: the blob's bytes do not match its digest (got %s, %llu "
			    "bytes); the source is corrupt, nothing was committed",
			    s->src_name, s->desc->digest, got, (unsigned long long)s->received);
		}
	}
	if (s->rc == 0)
		rg_pipe_close(s->pipe);
	else
		rg_pipe_fail(s->pipe);
	return NULL;
}

static ssize_t stream_source(void *ctx, void *data, size_t n)
{
	return rg_pipe_read(ctx, data, n);
}

/* Stream one blob from src to dst. */
static int stream_blob(struct rg_endpoint *src, struct rg_endpoint *dst,
		       const struct mf_descriptor *d, struct rg_progress *pg, struct err *e)
{
	struct stream s = {0};
	struct rg_transport *dt;
	const struct rg_transport_ops *dops = rg_endpoint_ops(dst, &dt);
	pthread_t downloader;
	int rc;

	s.src_ops = rg_endpoint_ops(src, &s.src);
	s.src_name = rg_endpoint_repository(src);
	s.desc = d;
	s.progress = pg;
	if (ly_hash_new_for(d->digest, &s.hash, e) < 0)
		return -1;
	s.pipe = rg_pipe_new(PIPE_CAPACITY);
	if (!s.pipe) {
		ly_hash_free(s.hash);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	if (pthread_create(&downloader, NULL, stream_download, &s) != 0) {
		rg_pipe_free(s.pipe);
		ly_hash_free(s.hash);
		return err_set(e, ERR_OPERATIONAL, "cannot start a download thread");
	}
	rc = dops->blob_upload(dt, d->digest, d->size, stream_source, s.pipe, e);
	if (rc < 0)
		rg_pipe_fail(s.pipe); /* stop the download too */
	pthread_join(downloader, NULL);
	/* The download's failure is the cause when both failed: the upload
	 * only saw its pipe break. */
	if (s.rc < 0) {
		*e = s.err;
		rc = -1;
	} else if (rc < 0) {
		err_prefix(e, "upload %s to %s", d->digest, rg_endpoint_repository(dst));
	}
	rg_pipe_free(s.pipe);
	ly_hash_free(s.hash);
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
	present = dops->blob_exists(dt, d->digest, e);
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
	for (attempt = 1;; attempt++) {
		if (stream_blob(tr->src, tr->dst, d, &tr->progress, e) == 0)
			break;
		if (e->cls != ERR_OPERATIONAL || attempt >= BLOB_ATTEMPTS)
			return -1;
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
