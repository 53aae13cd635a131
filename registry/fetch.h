/* fetch.h - one blob downloaded into a bounded pipe on its own thread
 * (internal to registry/). What passes is hashed and counted; more bytes than
 * the blob's size stop the download; the pipe is closed only when the digest
 * and the size match, and failed otherwise, so whoever reads the pipe (an
 * upload in transfer.c, a consumer in stream.c) never sees the end of a blob
 * that was not verified (pipe.h). Either side failing the pipe stops the
 * other. */
#ifndef INLAY_RG_FETCH_H
#define INLAY_RG_FETCH_H

#include <pthread.h>
#include <stdint.h>

#include "pipe.h"
#include "progress.h"
#include "transport.h"

struct ly_hash;

struct rg_fetch {
	/* The caller's, before rg_fetch_start. */
	const struct rg_transport_ops *ops;
	struct rg_transport *t;
	const char *repository; /* for messages */
	const char *digest;
	uint64_t size;
	struct rg_progress *progress; /* NULL: none */
	const char *after_mismatch;   /* appended to the mismatch message, or NULL */
	/* rg_fetch_start's. */
	struct rg_pipe *pipe;
	struct ly_hash *hash;
	pthread_t thread;
	/* The download thread's; read them after rg_fetch_join. */
	uint64_t received;
	struct err err;
	int rc;
};

/* Start downloading f->digest into a new pipe of `capacity` bytes. 0, or -1
 * with e filled and nothing to join or free. */
int rg_fetch_start(struct rg_fetch *f, size_t capacity, struct err *e);

/* Wait for the download's end (fail f->pipe first to stop it early). */
void rg_fetch_join(struct rg_fetch *f);

/* After the join: the pipe and the hash. */
void rg_fetch_free(struct rg_fetch *f);

#endif
