/* registry.h - the face of registry/: where images are read and written.
 *
 * An endpoint is one repository in an OCI distribution registry
 * ("[docker://]host/name[:tag][@digest]") or one OCI image layout directory
 * ("oci:PATH[:TAG]"). Both offer the same operations, so the copy and
 * instrument pipelines never care which they talk to.
 *
 * Every manifest and blob read is verified against its digest before the
 * bytes are handed on; a blob is streamed, never held whole in memory.
 */
#ifndef INLAY_REGISTRY_H
#define INLAY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../manifest/buf.h"
#include "../manifest/digest.h"
#include "../manifest/err.h"
#include "../manifest/image.h"

/* Options shared by every endpoint of one command run. Strings are borrowed
 * and must outlive the endpoints. */
struct rg_options {
	const char *ca_file;  /* --ca-file: CAs trusted besides the system's */
	bool insecure;        /* --insecure: skip TLS verification */
	bool plain_http;      /* --plain-http: always HTTP */
	const char *creds;    /* --creds USER:PASS, or NULL */
	const char *authfile; /* --authfile, or NULL */
	int jobs;             /* parallel blob transfers (>= 1) */
	bool quiet;           /* no progress bars */
	int max_attempts;     /* tries per request, >= 1 (default 5) */
	int stall_timeout;    /* seconds a transfer may move no byte (default 60) */
};

/* Default values for every field. */
void rg_options_init(struct rg_options *o);

/* Once per process, before any endpoint is used and before threads start
 * (initialises libcurl). */
int rg_global_init(struct err *e);
void rg_global_cleanup(void);

struct rg_endpoint; /* opaque */

/* Open an endpoint from a reference string. Nothing is contacted yet.
 * ERR_INPUT when the reference is malformed. */
int rg_endpoint_open(const char *ref, const struct rg_options *opt, struct rg_endpoint **ret_ep,
		     struct err *e);

/* Accepts NULL. */
void rg_endpoint_free(struct rg_endpoint *ep);

/* True for an OCI layout endpoint. */
bool rg_endpoint_is_layout(const struct rg_endpoint *ep);

/* What the reference asks for: its digest, else its tag, else "latest". */
const char *rg_endpoint_reference(const struct rg_endpoint *ep);

/* The tag given in the reference, or NULL. */
const char *rg_endpoint_tag(const struct rg_endpoint *ep);

/* The digest given in the reference, or NULL. */
const char *rg_endpoint_digest(const struct rg_endpoint *ep);

/* The repository as shown to users: "localhost:5000/app" or "oci:/path".
 * Results are printed as "<repository>@sha256:...". */
const char *rg_endpoint_repository(const struct rg_endpoint *ep);

/* The reference as given (without credentials; for messages). */
const char *rg_endpoint_display(const struct rg_endpoint *ep);

/* True when blobs can be mounted from src into dst without moving bytes:
 * both are repositories on the same registry host. */
bool rg_endpoint_can_mount(const struct rg_endpoint *dst, const struct rg_endpoint *src);

/* True when a and b name the same repository of the same registry, or the
 * same layout directory. */
bool rg_endpoint_same_repository(const struct rg_endpoint *a, const struct rg_endpoint *b);

/* A manifest as read: the exact bytes, their media type and verified digest. */
struct rg_manifest_blob {
	char *data;
	size_t len;
	char *media_type;
	char digest[MF_DIGEST_MAX];
};
void rg_manifest_blob_clear(struct rg_manifest_blob *mb);

/* Read the manifest named by `reference` (tag or digest; NULL means the
 * endpoint's own reference). Bounded to LIMIT_MANIFEST_BYTES. When reference
 * is a digest the bytes must hash to it; when it is a tag and the registry
 * sends Docker-Content-Digest, they must hash to that. ERR_OPERATIONAL with
 * http_status 404 when it does not exist. */
int rg_manifest_get(struct rg_endpoint *ep, const char *reference, struct rg_manifest_blob *ret,
		    struct err *e);

/* Store a manifest under `reference` (a tag or its own digest). For a
 * layout, a tag also names it in index.json. */
int rg_manifest_put(struct rg_endpoint *ep, const char *reference, const void *data, size_t len,
		    const char *media_type, struct err *e);

/* 1 when the blob is present, 0 when not, -1 on error. */
int rg_blob_exists(struct rg_endpoint *ep, const char *digest, struct err *e);

/* As rg_blob_exists, and *ret_size gets the blob's size when present (a
 * registry that answers without Content-Length is an error). */
int rg_blob_size(struct rg_endpoint *ep, const char *digest, int64_t *ret_size, struct err *e);

/* For an OCI layout endpoint: open the blob's file (its bytes were
 * verified when it was stored) for reading, so a server can hand it out
 * with sendfile. 1 with *ret_fd (the caller closes it) and *ret_size; 0
 * when absent; -1 on error, and for a registry endpoint. */
int rg_blob_open(struct rg_endpoint *ep, const char *digest, int *ret_fd, int64_t *ret_size,
		 struct err *e);

/* Read a small blob (a config) whole into out, whose limit bounds it; the
 * bytes are verified against digest. A registry endpoint (and those made
 * from it by rg_endpoint_at) keeps the last few small blobs it read, so a
 * config asked for again costs no request. */
int rg_blob_get(struct rg_endpoint *ep, const char *digest, struct buf *out, struct err *e);

/* Store a blob held in memory (a config, the sensor layer), unless present.
 * The digest is checked before anything is sent. Returns 1 when it was
 * uploaded, 0 when it was already there, -1 on error. */
int rg_blob_put(struct rg_endpoint *ep, const char *digest, const void *data, size_t len,
		struct err *e);

/* Store the blob held in fd's first size bytes (a spool file), unless
 * present: read with pread (fd's offset is left alone, and others may
 * read it meanwhile) and hashed as it goes, so an upload commits only
 * bytes that match digest (ERR_VERIFY otherwise). A failure of the way is
 * retried from the start. Returns 1 uploaded, 0 already there, -1. */
int rg_blob_put_fd(struct rg_endpoint *ep, const char *digest, int64_t size, int fd,
		   struct err *e);

/* One page of a repository's tags, checked: each a valid tag. */
struct rg_tag_page {
	char **tags;
	size_t n;
	bool more; /* the registry has a next page (continue after tags[n-1]) */
};
void rg_tag_page_clear(struct rg_tag_page *p);

/* List at most n tags (n <= 0: the registry's default page) after `last`
 * (NULL: from the start), in the registry's order (a layout's: sorted). */
int rg_tags_list(struct rg_endpoint *ep, int n, const char *last, struct rg_tag_page *ret,
		 struct err *e);

/* One page of the repositories of the registry ep is on (GET /v2/_catalog),
 * as rg_tags_list; each name checked against the repository grammar.
 * ep's own repository does not matter. Registries only. */
int rg_catalog_list(struct rg_endpoint *ep, int n, const char *last, struct rg_tag_page *ret,
		    struct err *e);

/* Delete the manifest `digest` and so every tag naming it (a registry
 * needs deletes enabled; a layout drops it from index.json, its blobs
 * stay). */
int rg_manifest_delete(struct rg_endpoint *ep, const char *digest, struct err *e);

/* A new endpoint for ep's repository at `reference` (a tag or a digest),
 * sharing ep's connections, tokens and registry probe: many references of
 * one repository cost one set-up. ep must outlive it. */
int rg_endpoint_at(struct rg_endpoint *ep, const char *reference, struct rg_endpoint **ret,
		   struct err *e);

/* Counters of one command run; updated by the transfer functions. */
struct rg_stats {
	uint64_t bytes_downloaded;
	uint64_t bytes_uploaded;
	unsigned blobs_present;  /* already at the destination: nothing sent */
	unsigned blobs_mounted;  /* cross-repository mount: nothing sent */
	unsigned blobs_streamed; /* read from the source and written */
};

/* A pull source over a blob being downloaded (see rg_blob_stream): copies
 * at most n bytes into buf and returns their count (> 0); returns 0 only at
 * the end of a blob whose every byte matched its digest and size, and -1
 * (e filled) when the download failed or the bytes did not match. */
typedef ssize_t (*rg_read_fn)(void *src, void *buf, size_t n, struct err *e);

/* What rg_blob_stream hands the blob to: pull bytes with read(src, ...) as
 * they are needed; return 0, or -1 after filling e. */
typedef int (*rg_consume_fn)(void *arg, rg_read_fn read, void *src, struct err *e);

/* Read the blob `digest` of `size` bytes (its descriptor's) from ep
 * without holding it in memory: a thread downloads into a bounded pipe
 * (1 MiB) while consume pulls from it on the caller's thread. The download
 * hashes what passes and refuses more than size bytes; the last byte
 * reaches consume only after the whole blob matched, so read returns 0
 * (the end) only for a verified blob. When consume returns 0 before the
 * end, the rest is read and dropped here so the check still happens: a
 * success means consume saw a prefix of the verified blob. When consume
 * fails the download is stopped, except after ERR_INPUT (bad bytes): then
 * the rest is read too, so that a blob corrupted on the way is reported as
 * such. Returns 0, or -1 with the download's error when it failed
 * (ERR_VERIFY for a digest or size mismatch; its failure is the cause of
 * whatever consume saw), else consume's. No retry:
 * bytes given to consume cannot be taken back, so a caller that wants one
 * starts again. stats (may be NULL) gets the bytes downloaded. */
int rg_blob_stream(struct rg_endpoint *ep, const char *digest, int64_t size, rg_consume_fn consume,
		   void *arg, struct rg_stats *stats, struct err *e);

/* Copy the blob `digest` of `size` bytes from src to dst as in
 * rg_blobs_transfer's stream (verified, never committed at dst unless it
 * matched), handing every chunk to sink as it passes: a server answering
 * a client from an upstream while it keeps the blob. The sink sees the
 * last byte only after the whole blob matched its digest and size, so a
 * reader fed by it never gets a whole corrupt blob. A sink that returns -1
 * is not called again and the blob is still stored. Returns 0, or -1 with
 * the download's error (ERR_VERIFY on a mismatch) or the store's; the
 * caller tells its reader. No retry. stats may be NULL. */
typedef int (*rg_chunk_fn)(void *ctx, const void *data, size_t n);
int rg_blob_tee(struct rg_endpoint *src, struct rg_endpoint *dst, const char *digest, int64_t size,
		rg_chunk_fn sink, void *sink_ctx, struct rg_stats *stats, struct err *e);

/* Make every blob of descs[0..n) present at dst, `jobs` at a time: skipped
 * when already there (HEAD), mounted when dst and src share a registry
 * (falling back to a copy on any failure), otherwise streamed from src to dst
 * with bounded memory and verified while it flows; a blob whose bytes do not
 * match its digest is never committed at dst. stats may be NULL. */
int rg_blobs_transfer(struct rg_endpoint *src, struct rg_endpoint *dst,
		      const struct mf_descriptor *const *descs, size_t n, int jobs,
		      struct rg_stats *stats, struct err *e);

#endif
