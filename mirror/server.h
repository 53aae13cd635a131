/* server.h - the mirror's HTTP side (libmicrohttpd): the read side of the
 * distribution API over mirror.h, /healthz, /metrics, client auth, TLS,
 * limits and one JSON access-log line per request.
 *
 * One thread per connection, at most cfg->connections at once: a request
 * that waits for an upstream or an instrumentation blocks only its own
 * connection. Every request is bounded: request line and headers by
 * cfg->header_bytes (larger ones get 431), no request body is accepted
 * (the mirror is read-only: 405), a connection idle for cfg->idle_seconds
 * is closed. Errors are distribution error bodies
 * ({"errors":[{"code","message","detail"}]}) with their status; a blob
 * whose upstream bytes fail their digest ends the connection before its
 * last byte.
 *
 * Beside the read-only API, the caller may add POST endpoints (the
 * admission webhooks, wired in by cmd_serve.c so that mirror/ does not
 * depend on what answers them). */
#ifndef INLAY_MR_SERVER_H
#define INLAY_MR_SERVER_H

#include <stdio.h>

#include "../manifest/err.h"
#include "config.h"
#include "mirror.h"

struct mr_server; /* opaque */

/* A POST endpoint: the server reads the body, at most max_body bytes (413
 * for a longer one, refused before it is read when its Content-Length says
 * so), checks client auth as for the API, then calls answer in the
 * connection's thread. answer returns the HTTP status and sets *reply to
 * its JSON body (malloc'd, freed by the server; NULL for none). */
struct mr_post_route {
	const char *path; /* exact: "/admission/mutate" */
	size_t max_body;
	unsigned (*answer)(void *ctx, const char *body, size_t len, char **reply);
	void *ctx;
};

/* Start listening on cfg->listen and serving m, and posts[0..n_posts).
 * The access log goes to log (one JSON object a line). cfg, m, posts and
 * log must outlive the server. */
int mr_server_start(const struct mr_config *cfg, struct mr_mirror *m,
		    const struct mr_post_route *posts, size_t n_posts, FILE *log,
		    struct mr_server **ret, struct err *e);

/* The port listened on (useful with port 0). */
unsigned mr_server_port(const struct mr_server *s);

/* Graceful stop: accept no new connections, let the requests in flight
 * (and blobs still being stored) finish for up to cfg->shutdown_seconds,
 * then close everything. Returns the number of blobs still being stored
 * past that time: then s is not freed, and the mirror must not be either
 * (the process is about to exit). Accepts NULL. */
int mr_server_stop(struct mr_server *s);

#endif
