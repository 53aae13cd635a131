/* mirror.h - what the instrumenting mirror answers, independent of HTTP
 * (DESIGN.md section 9). server.c turns requests into these calls.
 *
 * A manifest by tag: the upstream tag is read (at most once per tag_ttl),
 * the instrumented result computed from the upstream manifest and config
 * with rw_instrument (the same deterministic function as `inlay
 * instrument`, so every replica computes the same digest), its small
 * objects (sensor layer, configs, manifests, signatures) stored, and only
 * then the manifest handed out. Concurrent first requests for one tag wait
 * for one instrumentation. Base layers are not copied first: a blob the
 * store lacks is streamed from the upstream to the client, verified, and
 * kept in the store as it passes (rg_blob_tee).
 *
 * A manifest by digest is served from the store (results, children kept
 * unchanged, signatures); any other digest is the upstream's, passed
 * through unchanged, or refused with require_instrumented.
 *
 * Thread-safe: every call may run on many threads at once. Replicas share
 * nothing but the store: whatever one process knows (the tag cache) another
 * recomputes to the same result. */
#ifndef INLAY_MR_MIRROR_H
#define INLAY_MR_MIRROR_H

#include <stdbool.h>
#include <stdint.h>

#include "../manifest/err.h"
#include "../registry/registry.h"
#include "config.h"
#include "route.h"

struct mr_mirror; /* opaque */

/* Counters for /metrics, read with mr_mirror_stats. */
struct mr_stats {
	uint64_t instrumentations;      /* results computed (first pulls) */
	uint64_t instrument_failures;
	uint64_t kept_unchanged;        /* images served as upstream has them */
	uint64_t tag_cache_hits;        /* tags answered without the upstream */
	uint64_t tag_lookups;           /* tags read from the upstream */
	uint64_t coalesced;             /* requests that waited for another's work */
	uint64_t store_manifest_hits;
	uint64_t store_blob_hits;
	uint64_t upstream_blob_streams; /* blobs streamed from the upstream */
	uint64_t coalesced_blob_readers; /* clients that read another's stream */
	uint64_t upstream_blob_failures;
	uint64_t upstream_errors;       /* any failed upstream request */
	uint64_t bytes_from_upstream;
	uint64_t results_completed;     /* registry store: manifests put after their blobs */
	uint64_t completion_failures;   /* ... and completions that stopped short */
	uint64_t store_failures;        /* blobs downloaded whole but not stored */
};

/* Warnings go to `warn` (a line of text), which may be NULL. cfg must
 * outlive the mirror; ropt is copied (its strings borrowed). */
int mr_mirror_new(const struct mr_config *cfg, const struct rg_options *ropt,
		  void (*warn)(const char *msg), struct mr_mirror **ret, struct err *e);
void mr_mirror_free(struct mr_mirror *m);

void mr_mirror_stats(struct mr_mirror *m, struct mr_stats *ret);

/* A manifest to hand out. `how` says where it came from, for the access
 * log: "cache", "store", "instrumented", "upstream", "kept". */
struct mr_manifest {
	char *data;
	size_t len;
	char *media_type;
	char digest[MF_DIGEST_MAX];
	const char *how;
};
void mr_manifest_clear(struct mr_manifest *mf);

/* The manifest `reference` of `name` (route.h) for a client that said
 * `ns` (or NULL). Errors carry the HTTP status to answer in
 * e->http_status, and *ret_code the distribution error code. */
int mr_mirror_manifest(struct mr_mirror *m, const char *name, const char *ns,
		       const char *reference, struct mr_manifest *ret, const char **ret_code,
		       struct err *e);

/* One page of the upstream's tags of `name` (n <= 0: the upstream's page
 * size), after `last` (NULL: from the start): the mirror serves every tag
 * the upstream has, each instrumented on its first pull. */
int mr_mirror_tags(struct mr_mirror *m, const char *name, const char *ns, int n, const char *last,
		   struct rg_tag_page *ret, const char **ret_code, struct err *e);

/* A blob to hand out: from the store's file (fd >= 0: a layout store), or
 * to be streamed with mr_mirror_blob_stream from the store (a registry
 * store that has it) or from the upstream. */
struct mr_blob {
	int fd;
	int64_t size;
	struct rg_endpoint *upstream; /* when fd < 0 */
	bool owned;                   /* upstream is ours to free */
	bool from_store;              /* upstream is the store (a registry) */
};

int mr_mirror_blob(struct mr_mirror *m, const char *name, const char *ns, const char *digest,
		   struct mr_blob *ret, const char **ret_code, struct err *e);

/* Stream b's bytes to sink: from a registry store, verified; from the
 * upstream while storing them (see rg_blob_tee). Either way sink sees the
 * last byte only after the blob matched its digest; a blob that does not
 * match is never stored. Concurrent streams of one upstream blob share one
 * download, spooled to an unlinked file under $TMPDIR (default /var/tmp),
 * each client reading it at its own pace. */
int mr_mirror_blob_stream(struct mr_mirror *m, const struct mr_blob *b, const char *digest,
			  rg_chunk_fn sink, void *sink_ctx, struct err *e);

/* Upstream blobs still being fetched into the store (their clients may be
 * gone), and results being completed in a registry store: a server
 * shutting down waits for them; mr_mirror_free does. */
unsigned mr_mirror_busy(struct mr_mirror *m);

/* Stopping: no completion starts, and those running stop after the blob
 * they are on (their results stay pending, completed on a later read). */
void mr_mirror_quiesce(struct mr_mirror *m);

/* Closes the file or frees the endpoint. Accepts a zeroed b (fd -1). */
void mr_blob_release(struct mr_blob *b);

#endif
