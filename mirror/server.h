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
 * last byte. */
#ifndef INLAY_MR_SERVER_H
#define INLAY_MR_SERVER_H

#include <stdio.h>

#include "../manifest/err.h"
#include "config.h"
#include "mirror.h"

struct mr_server; /* opaque */

/* Start listening on cfg->listen and serving m. The access log goes to
 * log (one JSON object a line). cfg, m and log must outlive the server. */
int mr_server_start(const struct mr_config *cfg, struct mr_mirror *m, FILE *log,
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
