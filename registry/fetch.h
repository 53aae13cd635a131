/* fetch.h - one blob downloaded into a bounded pipe on its own thread
 * (internal to registry/). What passes is hashed and counted; more bytes than
 * the blob's size stop the download; the pipe is closed only when the digest
 * and the size match, and failed otherwise, so whoever reads the pipe (an
 * upload in transfer.c, a consumer in stream.c) never sees the end of a blob
 * that was not verified (pipe.h). Either side failing the pipe stops the
 * other. A download that breaks off resumes where it stopped
 * (rg_fetch_resuming). */
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

/* Downloads that fail part-way resume from the byte reached (a ranged GET,
 * the hash going on where it stopped) at most this many times. */
#define RG_FETCH_RESUMES 8

/* Stream digest (size bytes, 0 when not known) through ops/t to sink,
 * resuming after a transport failure that moved bytes: each resume asks
 * for the bytes from the first one sink has not had, so sink sees every
 * byte once, in order. A failure of sink itself, one that moved nothing
 * (the HTTP layer retried it already), and any other class of error than
 * ERR_OPERATIONAL end it. A failure once size bytes came is success: the
 * caller's digest check decides. */
int rg_fetch_resuming(const struct rg_transport_ops *ops, struct rg_transport *t,
		      const char *digest, uint64_t size, rg_sink_fn sink, void *ctx,
		      struct err *e);

/* Start downloading f->digest into a new pipe of `capacity` bytes. 0, or -1
 * with e filled and nothing to join or free. */
int rg_fetch_start(struct rg_fetch *f, size_t capacity, struct err *e);

/* Wait for the download's end (fail f->pipe first to stop it early). */
void rg_fetch_join(struct rg_fetch *f);

/* After the join: the pipe and the hash. */
void rg_fetch_free(struct rg_fetch *f);

#endif
