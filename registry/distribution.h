/* distribution.h - internals shared by distribution.c and upload.c, the
 * OCI distribution (registry HTTP API v2) transport. Not a public face: the
 * rest of inlay reaches this transport through transport.h.
 */
#ifndef INLAY_RG_DISTRIBUTION_H
#define INLAY_RG_DISTRIBUTION_H

#include <pthread.h>
#include <stdbool.h>

#include "auth.h"
#include "http.h"
#include "transport.h"

struct rg_transport {
	char *host;	/* wire host[:port] */
	char *path;	/* repository path */
	char *auth_key; /* credentials key */
	char *registry; /* registry as shown in messages ("docker.io", "localhost:5000") */
	char *repo;	/* "registry/path", for messages */
	bool loopback;
	struct rg_options opt;
	struct rg_http *http;
	struct rg_auth *auth;
	pthread_mutex_t setup_lock; /* guards ready and base while they are decided */
	bool ready;		    /* base chosen and the registry pinged */
	char *base;		    /* "https://host" or "http://host"; fixed once ready */
};

/* The scopes a request needs (Bearer). */
struct dist_scopes {
	const char *s[2];
	size_t n;
	char *owned[2];
};

enum dist_access { DIST_PULL, DIST_PUSH, DIST_DELETE };

/* Scopes for access to t's repository, plus pull on `also` when not NULL
 * (the source of a mount). Free with dist_scopes_free. */
int dist_scopes_init(struct rg_transport *t, enum dist_access access, const char *also,
		     struct dist_scopes *sc, struct err *e);
void dist_scopes_free(struct dist_scopes *sc);

/* Choose http or https and learn the registry's challenge (GET /v2/), once. */
int dist_ready(struct rg_transport *t, struct err *e);

/* t->base + "/v2/" + t->path + suffix ("/blobs/uploads/"); malloc'd. */
char *dist_url(struct rg_transport *t, const char *suffix);

/* Perform req with the Authorization scopes call for (only to the
 * registry's own origin), renewing the challenge and retrying once on a 401
 * when the body can still be sent. Same returns as rg_http_do. */
int dist_do(struct rg_transport *t, struct rg_http_req *req, const struct dist_scopes *sc,
	    struct rg_http_resp *resp, struct err *e);

/* Fill e for an unexpected response: names subject (the repository, tag or
 * digest), the status and the registry's own error summary from errb (may
 * be NULL), and says what to do. not_found describes a 404 ("manifest
 * unknown (the image or tag does not exist)"); NULL for a generic text.
 * Sets e->http_status. Returns -1. */
int dist_status_error(struct rg_transport *t, const char *subject, const struct rg_http_resp *resp,
		      const struct buf *errb, const char *not_found, struct err *e);

/* True for a repository path as the Docker grammar allows it. */
bool dist_path_ok(const char *s);

/* True for "sha256:<64 hex>" / "sha512:<128 hex>". */
bool dist_digest_ok(const char *s);

/* upload.c */
int dist_blob_upload(struct rg_transport *t, const char *digest, int64_t size, rg_source_fn source,
		     void *ctx, struct err *e);
int dist_blob_mount(struct rg_transport *t, const char *digest, const char *from_path,
		    struct err *e);

#endif
