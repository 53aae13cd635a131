/* mirror_internal.h - what mirror.c (the answers: tags, manifests, blob
 * lookups) shares with fill.c (blobs on their way into the store: the
 * shared upstream downloads and the completion of results in a registry
 * store). Not for the server: it uses mirror.h. */
#ifndef INLAY_MR_MIRROR_INTERNAL_H
#define INLAY_MR_MIRROR_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../manifest/digest.h"
#include "mirror.h"
#include "route.h"

#define TAG_BUCKETS 4096
#define ENDPOINTS_MAX 1024
#define COMPLETED_SLOTS 1024 /* results known complete in a registry store */

struct tag_entry;

/* An upstream repository endpoint, kept open so its connections and
 * tokens are reused. */
struct upstream_ep {
	char *key; /* "UPSTREAM/REPOSITORY" */
	struct rg_endpoint *ep;
};

/* One upstream blob on its way into the store, spooled to an unlinked file
 * as it passes, so that every client asking for it meanwhile reads the one
 * download at its own pace: the download never waits for a slow client,
 * and twenty first pulls fetch it once. The spool gets the blob's last
 * bytes only after they matched the digest (rg_blob_tee), so no reader
 * gets a tampered blob whole. */
enum flight_state { FLIGHT_RUNNING, FLIGHT_DONE, FLIGHT_FAILED };

struct blob_flight {
	struct blob_flight *next;
	struct mr_mirror *m;
	char digest[MF_DIGEST_MAX];
	struct rg_endpoint *upstream; /* from the endpoint cache, which outlives it */
	int64_t size;
	int fd;                /* the spool */
	uint64_t written;      /* bytes in the spool; under m->lock */
	enum flight_state state; /* FLIGHT_DONE: the store has the blob */
	bool verified;         /* the spool holds the whole blob, which matched */
	bool spool_broken;     /* a write to the spool failed: readers fail */
	unsigned refs;         /* the filling thread and each reader */
	pthread_cond_t more;   /* written, verified, state or spool_broken changed */
	char why[ERR_MSG_MAX]; /* FLIGHT_FAILED: the download's or the store's error */
};

/* A result a registry store holds as blobs only (see "completing results"
 * in fill.c), being completed by a thread of its own. */
struct completion {
	struct completion *next;
	struct mr_mirror *m;
	struct mr_target target;
	char digest[MF_DIGEST_MAX];
};

struct mr_mirror {
	const struct mr_config *cfg;
	struct rg_options upstream_opts[MR_MAX_UPSTREAMS];
	struct rg_options store_opts;
	struct rg_endpoint *store;
	void (*warn)(const char *msg);

	pthread_mutex_t lock; /* the tag table, the endpoints */
	pthread_cond_t changed; /* a busy entry became free */
	struct tag_entry *buckets[TAG_BUCKETS];
	size_t n_entries;
	size_t cached_bytes; /* of the entries' results */
	struct upstream_ep eps[ENDPOINTS_MAX];
	size_t n_eps;
	struct blob_flight *flights; /* blobs being fetched into the store */
	struct completion *completions; /* results being completed in a registry store */
	unsigned fills;              /* threads of flights and completions still running */
	bool quiescing;              /* stopping: no new completions */
	/* Digests this process made or found complete in a registry store,
	 * by hash; a slot overwritten costs one more check, never a wrong
	 * answer. */
	char completed[COMPLETED_SLOTS][MF_DIGEST_MAX];

	pthread_mutex_t sign_lock; /* signature images are read-modify-write */
	struct mr_stats stats;
};

#define COUNT(m, field, n) __atomic_add_fetch(&(m)->stats.field, (n), __ATOMIC_RELAXED)

/* A string's hash (djb2), for the tables' buckets and slots. */
unsigned long mr_hash(const char *s);

void mr_warnf(struct mr_mirror *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The upstream endpoint of t's repository, from the cache (*ret_owned
 * false) or, when the cache is full, one of the caller's to free. */
int mr_upstream_endpoint(struct mr_mirror *m, const struct mr_target *t,
			 struct rg_endpoint **ret, bool *ret_owned, struct err *e);

/* A manifest of the store by tag or digest: 1 found (ret->how "store", or
 * "pending" for a result a registry store holds as a blob only), 0 not
 * there, -1 error. */
int mr_store_read(struct mr_mirror *m, const char *reference, struct mr_manifest *ret,
		  struct err *e);

/* Start completing result `digest` of t in a registry store (fill.c),
 * unless it is under way or known complete. */
void mr_complete_later(struct mr_mirror *m, const struct mr_target *t, const char *digest);

#endif
