/* progress.h - one line on stderr that says how far a long read or transfer
 * has come: "LABEL N/M  X.X/Y.Y MB", redrawn at most every 100 ms and once
 * per finished item. Drawn only when stderr is a terminal and the endpoint's
 * options do not ask for quiet; otherwise every call is a no-op. Safe to
 * call from several threads. */
#ifndef INLAY_REGISTRY_PROGRESS_H
#define INLAY_REGISTRY_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "registry.h"

struct rg_progress {
	pthread_mutex_t lock;
	bool enabled;
	const char *label; /* "blobs", "inventory: layers" */
	uint64_t bytes_total, bytes_done;
	size_t items_total, items_done;
	struct timespec last_draw;
};

/* Begin: `items` items of `bytes` bytes in all, the line labelled `label`
 * (a string that outlives the display); ep's options decide quiet. */
void rg_progress_start(struct rg_progress *pg, const struct rg_endpoint *ep, const char *label,
		       size_t items, uint64_t bytes);

/* n more bytes moved. */
void rg_progress_bytes(struct rg_progress *pg, size_t n);

/* One item finished; `unsent` of its bytes were never counted (it was
 * already there, or read past the display). */
void rg_progress_item_done(struct rg_progress *pg, uint64_t unsent);

/* End the line (a newline after the last draw). */
void rg_progress_end(struct rg_progress *pg);

#endif
