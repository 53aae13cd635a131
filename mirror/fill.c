/* fill.c - blobs on their way into the store: one upstream download per
 * blob however many clients read it (struct blob_flight), and results in a
 * registry store completed in the background (struct completion). See
 * mirror_internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../manifest/image.h"
#include "../rewriter/copy.h"
#include "mirror.h"
#include "mirror_internal.h"

struct chunks {
	rg_chunk_fn sink;
	void *ctx;
};

/* rg_blob_stream's consumer: every chunk read to the sink. */
static int to_chunks(void *arg, rg_read_fn read, void *src, struct err *e)
{
	struct chunks *c = arg;
	char buf[64 * 1024];
	ssize_t n;

	while ((n = read(src, buf, sizeof(buf), e)) > 0)
		if (c->sink(c->ctx, buf, (size_t)n) < 0)
			return err_set(e, ERR_OPERATIONAL, "the client went away");
	return n < 0 ? -1 : 0;
}

/* One read of an upstream blob counted, and its failure logged. */
static int count_download(struct mr_mirror *m, const char *digest, const struct rg_stats *st,
			  int rc, const struct err *e)
{
	COUNT(m, upstream_blob_streams, 1);
	COUNT(m, bytes_from_upstream, st->bytes_downloaded);
	if (rc < 0) {
		COUNT(m, upstream_blob_failures, 1);
		COUNT(m, upstream_errors, 1);
		mr_warnf(m, "blob %s: %s", digest, e->msg);
	}
	return rc;
}

/* The upstream's blob to sink while the store keeps it: a reader with no
 * spool to share (see blob_flight). */
static int tee_upstream(struct mr_mirror *m, struct rg_endpoint *upstream, const char *digest,
			int64_t size, rg_chunk_fn sink, void *ctx, struct err *e)
{
	struct rg_stats st = {0};
	int rc = rg_blob_tee(upstream, m->store, digest, size, sink, ctx, &st, e);

	return count_download(m, digest, &st, rc, e);
}

/* ---- coalesced upstream blobs (struct blob_flight) ---- */

static const char *spool_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/var/tmp";
}

/* Under m->lock. */
static void flight_unref(struct blob_flight *f)
{
	if (--f->refs > 0)
		return;
	close(f->fd);
	pthread_cond_destroy(&f->more);
	free(f);
}

/* rg_blob_stream's consumer for a flight: the download into the spool,
 * its readers woken as it grows. The last byte comes only once the whole
 * blob matched its digest (rg_blob_stream), so a reader that has `size`
 * bytes has the verified blob. */
static int fill_spool(void *arg, rg_read_fn read, void *src, struct err *e)
{
	struct blob_flight *f = arg;
	struct mr_mirror *m = f->m;
	char buf[64 * 1024];
	uint64_t off = 0; /* f->written, which only this thread changes */
	ssize_t n, w;

	while ((n = read(src, buf, sizeof(buf), e)) > 0) {
		for (ssize_t done = 0; done < n; done += w) {
			w = pwrite(f->fd, buf + done, (size_t)(n - done), (off_t)(off + done));
			if (w < 0 && errno == EINTR) {
				w = 0;
			} else if (w <= 0) {
				pthread_mutex_lock(&m->lock);
				f->spool_broken = true;
				pthread_cond_broadcast(&f->more);
				pthread_mutex_unlock(&m->lock);
				return err_set(e, ERR_OPERATIONAL,
					       "blob %s: writing its spool in %s failed: %s",
					       f->digest, spool_dir(),
					       w < 0 ? strerror(errno) : "no space");
			}
		}
		off += (uint64_t)n;
		pthread_mutex_lock(&m->lock);
		f->written = off;
		pthread_cond_broadcast(&f->more);
		pthread_mutex_unlock(&m->lock);
	}
	return n < 0 ? -1 : 0;
}

/* A flight's thread: the upstream's blob into the spool, its readers
 * answered as it arrives; then, the download over and verified, the spool
 * into the store. The client never waits on the store (a registry's upload
 * can be slower than the upstream), and the flight stays in m->flights
 * until the store has the blob, so no second download starts meanwhile. */
static void *fill_thread(void *arg)
{
	struct blob_flight *f = arg, **pp;
	struct mr_mirror *m = f->m;
	struct rg_stats st = {0};
	struct err e;
	int rc;

	err_clear(&e);
	rc = rg_blob_stream(f->upstream, f->digest, f->size, fill_spool, f, &st, &e);
	count_download(m, f->digest, &st, rc, &e);
	pthread_mutex_lock(&m->lock);
	f->verified = rc == 0;
	pthread_cond_broadcast(&f->more);
	pthread_mutex_unlock(&m->lock);
	if (rc == 0 && rg_blob_put_fd(m->store, f->digest, f->size, f->fd, &e) < 0) {
		rc = -1;
		COUNT(m, store_failures, 1);
		mr_warnf(m, "blob %s into the store: %s", f->digest, e.msg);
	}
	pthread_mutex_lock(&m->lock);
	f->state = rc == 0 ? FLIGHT_DONE : FLIGHT_FAILED;
	snprintf(f->why, sizeof(f->why), "%s", e.msg);
	for (pp = &m->flights; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next; /* the store has it now, or a new request tries again */
			break;
		}
	pthread_cond_broadcast(&f->more);
	flight_unref(f);
	m->fills--;
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* A thread nobody joins (the mirror counts it in m->fills instead). */
static bool start_detached(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t thread;
	bool ok;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ok = pthread_create(&thread, &attr, fn, arg) == 0;
	pthread_attr_destroy(&attr);
	return ok;
}

/* Under m->lock: the flight of digest, joined, or NULL. */
static struct blob_flight *flight_find(struct mr_mirror *m, const char *digest, bool client)
{
	struct blob_flight *f;

	for (f = m->flights; f; f = f->next)
		if (strcmp(f->digest, digest) == 0) {
			f->refs++;
			if (client)
				COUNT(m, coalesced_blob_readers, 1);
			return f;
		}
	return NULL;
}

/* Under m->lock: the flight of digest, joined, or a new one started with
 * this caller as its first reader. NULL when none can be had (no spool
 * file, no thread): the caller streams on its own. A client joining is
 * counted; a completion is not. */
static struct blob_flight *flight_join(struct mr_mirror *m, const struct mr_blob *b,
				       const char *digest, bool client)
{
	struct blob_flight *f;

	if ((f = flight_find(m, digest, client)))
		return f;
	if (!(f = calloc(1, sizeof(*f))))
		return NULL;
	f->fd = open(spool_dir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		free(f);
		return NULL;
	}
	f->m = m;
	snprintf(f->digest, sizeof(f->digest), "%s", digest);
	f->upstream = b->upstream;
	f->size = b->size;
	f->refs = 2;
	pthread_cond_init(&f->more, NULL);
	if (!start_detached(fill_thread, f)) {
		f->refs = 1;
		flight_unref(f);
		return NULL;
	}
	m->fills++;
	f->next = m->flights;
	m->flights = f;
	return f;
}

/* One reader of a flight: the spool's bytes to sink as they arrive. */
static int flight_read(struct mr_mirror *m, struct blob_flight *f, rg_chunk_fn sink, void *ctx,
		       struct err *e)
{
	char buf[64 * 1024];
	uint64_t off = 0, avail;
	bool verified, broken;
	ssize_t n;
	int rc;

	for (;;) {
		pthread_mutex_lock(&m->lock);
		while (f->written == off && f->state == FLIGHT_RUNNING && !f->verified &&
		       !f->spool_broken)
			pthread_cond_wait(&f->more, &m->lock);
		avail = f->written - off;
		verified = f->verified;
		broken = f->spool_broken;
		pthread_mutex_unlock(&m->lock);
		if (broken) {
			rc = err_set(e, ERR_OPERATIONAL,
				     "blob %s: writing the spool its readers share failed (is %s "
				     "full?)",
				     f->digest, spool_dir());
			break;
		}
		if (avail == 0) {
			/* Whether the store then takes it is not this reader's
			 * business: it has the whole verified blob. */
			if (verified && off == (uint64_t)f->size)
				rc = 0;
			else
				rc = err_set(e, ERR_OPERATIONAL, "%s", f->why);
			break;
		}
		n = pread(f->fd, buf, avail < sizeof(buf) ? (size_t)avail : sizeof(buf),
			  (off_t)off);
		if (n <= 0) {
			rc = err_set(e, ERR_OPERATIONAL, "blob %s: reading its spool failed",
				     f->digest);
			break;
		}
		if (sink(ctx, buf, (size_t)n) < 0) {
			rc = err_set(e, ERR_OPERATIONAL, "the client went away");
			break;
		}
		off += (uint64_t)n;
	}
	pthread_mutex_lock(&m->lock);
	flight_unref(f);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* A flight's end, for one that does not read it: 0 when the store has the
 * blob. */
static int flight_wait(struct mr_mirror *m, struct blob_flight *f, struct err *e)
{
	int rc;

	pthread_mutex_lock(&m->lock);
	while (f->state == FLIGHT_RUNNING)
		pthread_cond_wait(&f->more, &m->lock);
	rc = f->state == FLIGHT_DONE ? 0 : err_set(e, ERR_OPERATIONAL, "%s", f->why);
	flight_unref(f);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---- completing results in a registry store (struct completion) ----
 *
 * A registry refuses a manifest whose blobs it lacks, and a first pull
 * must not wait for the base layers: they stream to the client from the
 * upstream as it asks for them (DESIGN.md section 9). So instrument()
 * leaves each result manifest in a registry store as a blob of the same
 * bytes (rw_instrument's lazy_store), served from there by digest by any
 * replica, and a thread then brings the base blobs into the store (joining
 * the shared download when clients are reading one, so each comes down
 * once) and puts the manifests, children before their index. A completion
 * that stops short (the upstream failing, the mirror stopping) leaves the
 * result pending; the next read of it starts another. */

static int discard(void *ctx, const void *data, size_t n)
{
	(void)ctx;
	(void)data;
	(void)n;
	return 0;
}

/* One blob of a result into the store, unless there. */
static int complete_blob(struct mr_mirror *m, struct rg_endpoint *upstream, bool owned,
			 const struct mf_descriptor *d, struct err *e)
{
	struct mr_blob b = {.fd = -1, .upstream = upstream, .owned = owned, .size = d->size};
	struct blob_flight *f = NULL;
	int64_t size;
	int r = rg_blob_size(m->store, d->digest, &size, e);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (!owned) {
		pthread_mutex_lock(&m->lock);
		f = flight_join(m, &b, d->digest, false);
		pthread_mutex_unlock(&m->lock);
	}
	if (f)
		return flight_wait(m, f, e);
	return tee_upstream(m, upstream, d->digest, d->size, discard, NULL, e);
}

/* Under m->lock: the slot of digest in m->completed. */
static char *completed_slot(struct mr_mirror *m, const char *digest)
{
	return m->completed[mr_hash(digest) % COMPLETED_SLOTS];
}

static bool known_complete(struct mr_mirror *m, const char *digest)
{
	return strcmp(completed_slot(m, digest), digest) == 0;
}

static void mark_complete(struct mr_mirror *m, const char *digest)
{
	pthread_mutex_lock(&m->lock);
	snprintf(completed_slot(m, digest), MF_DIGEST_MAX, "%s", digest);
	pthread_mutex_unlock(&m->lock);
}

/* The manifest `digest` made whole in the store: its blobs (an index: its
 * children, completed first), then the manifest itself (again, when it
 * was there: a put of the same bytes changes nothing). */
static int complete_manifest(struct mr_mirror *m, struct rg_endpoint *upstream, bool owned,
			     const char *digest, bool child, struct err *e)
{
	struct mr_manifest mf = {0};
	struct mf_manifest *parsed = NULL;
	const struct mf_descriptor **blobs = NULL;
	size_t i, n_blobs = 0;
	int rc = -1, found;

	if (child) {
		pthread_mutex_lock(&m->lock);
		found = known_complete(m, digest);
		pthread_mutex_unlock(&m->lock);
		if (found)
			return 0; /* a child two indexes share */
	}
	found = mr_store_read(m, digest, &mf, e);
	if (found <= 0) {
		if (found == 0)
			err_set(e, ERR_OPERATIONAL, "the store has no manifest or blob %s", digest);
		return -1;
	}
	if (mf_manifest_parse(mf.data, mf.len, mf.media_type, &parsed, e) < 0)
		goto out;
	if (mf_manifest_kind(parsed) == MF_KIND_INDEX && child) {
		err_set(e, ERR_INPUT, "%s: an index within an index is not a result of inlay's",
			digest);
		goto out;
	}
	for (i = 0; i < mf_manifest_child_count(parsed); i++)
		if (complete_manifest(m, upstream, owned, mf_manifest_child(parsed, i)->digest, true,
				      e) < 0)
			goto out;
	if (mf_manifest_kind(parsed) != MF_KIND_INDEX &&
	    rw_image_blobs(parsed, &blobs, &n_blobs, e) < 0)
		goto out;
	for (i = 0; i < n_blobs; i++) {
		if (__atomic_load_n(&m->quiescing, __ATOMIC_RELAXED)) {
			err_set(e, ERR_OPERATIONAL, "the mirror is stopping");
			goto out;
		}
		if (complete_blob(m, upstream, owned, blobs[i], e) < 0)
			goto out;
	}
	if (rg_manifest_put(m->store, digest, mf.data, mf.len, mf.media_type, e) < 0)
		goto out;
	mark_complete(m, digest);
	if (!child)
		COUNT(m, results_completed, 1);
	rc = 0;
out:
	free(blobs);
	mf_manifest_free(parsed);
	mr_manifest_clear(&mf);
	return rc;
}

static void *complete_thread(void *arg)
{
	struct completion *c = arg, **pp;
	struct mr_mirror *m = c->m;
	struct rg_endpoint *upstream = NULL;
	bool owned = false;
	struct err e;

	err_clear(&e);
	if (mr_upstream_endpoint(m, &c->target, &upstream, &owned, &e) < 0 ||
	    complete_manifest(m, upstream, owned, c->digest, false, &e) < 0) {
		COUNT(m, completion_failures, 1);
		mr_warnf(m, "completing %s in the store: %s", c->digest, e.msg);
	}
	if (owned)
		rg_endpoint_free(upstream);
	pthread_mutex_lock(&m->lock);
	for (pp = &m->completions; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	m->fills--;
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	free(c);
	return NULL;
}

/* Start completing result `digest` of target t, unless it is under way. */
void mr_complete_later(struct mr_mirror *m, const struct mr_target *t, const char *digest)
{
	struct completion *c;

	pthread_mutex_lock(&m->lock);
	for (c = m->completions; c; c = c->next)
		if (strcmp(c->digest, digest) == 0)
			break;
	if (c || known_complete(m, digest) || __atomic_load_n(&m->quiescing, __ATOMIC_RELAXED) ||
	    !(c = calloc(1, sizeof(*c)))) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	c->m = m;
	c->target = *t;
	snprintf(c->digest, sizeof(c->digest), "%s", digest);
	if (start_detached(complete_thread, c)) {
		c->next = m->completions;
		m->completions = c;
		m->fills++;
	} else {
		free(c); /* the next read of it tries again */
	}
	pthread_mutex_unlock(&m->lock);
}

void mr_mirror_quiesce(struct mr_mirror *m)
{
	if (m)
		__atomic_store_n(&m->quiescing, true, __ATOMIC_RELAXED);
}

unsigned mr_mirror_busy(struct mr_mirror *m)
{
	unsigned n;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	n = m->fills;
	pthread_mutex_unlock(&m->lock);
	return n;
}

static int stream_store(struct mr_mirror *m, const char *digest, int64_t size, rg_chunk_fn sink,
			void *sink_ctx, struct err *e)
{
	struct chunks c = {sink, sink_ctx};
	int rc = rg_blob_stream(m->store, digest, size, to_chunks, &c, NULL, e);

	if (rc < 0)
		mr_warnf(m, "blob %s from the store: %s", digest, e->msg);
	return rc;
}

int mr_mirror_blob_stream(struct mr_mirror *m, const struct mr_blob *b, const char *digest,
			  rg_chunk_fn sink, void *sink_ctx, struct err *e)
{
	struct blob_flight *f = NULL;
	struct err ignored;
	int64_t size;

	if (b->from_store)
		return stream_store(m, digest, b->size, sink, sink_ctx, e);
	/* An endpoint of the request's own (the cache was full) cannot
	 * outlive it: such a stream is not shared. */
	if (!b->owned) {
		pthread_mutex_lock(&m->lock);
		f = flight_find(m, digest, true);
		pthread_mutex_unlock(&m->lock);
		/* The lookup (mr_mirror_blob) and this stream may be seconds
		 * apart (a client that waited for a connection): a download
		 * that ended meanwhile has stored the blob. A flight leaves the
		 * list only once the store has it, so no second download
		 * starts for a blob being fetched. */
		if (!f && rg_blob_size(m->store, digest, &size, &ignored) == 1 && size == b->size) {
			COUNT(m, store_blob_hits, 1);
			return stream_store(m, digest, b->size, sink, sink_ctx, e);
		}
		if (!f) {
			pthread_mutex_lock(&m->lock);
			f = flight_join(m, b, digest, true);
			pthread_mutex_unlock(&m->lock);
		}
	}
	if (f)
		return flight_read(m, f, sink, sink_ctx, e);
	return tee_upstream(m, b->upstream, digest, b->size, sink, sink_ctx, e);
}
