/* sync.h - `inlay sync`: every tag of some repositories instrumented into
 * another registry (or the same one, or OCI layouts), incrementally
 * (DESIGN.md section 10).
 *
 * For each source tag the result a run would make is computed without
 * writing (the source's manifests and configs are read, the sensor layer
 * built) and compared with what the destination tag names: equal, and
 * signed when a key signs, is "unchanged" and nothing is written. The
 * repository's rule (mirror/config.h: mode, policy, key, inventory, or
 * passthrough) applies as in `inlay serve`; a rule matches
 * "NAME/REPOSITORY" where NAME is the configured upstream whose host is the
 * source registry, else that host.
 *
 * Memory is bounded by one page of tags (100) at a time whatever the size
 * of the repository, except with delete, which keeps the digests the
 * destination's tags name (one line each) until the repository is done. */
#ifndef INLAY_MR_SYNC_H
#define INLAY_MR_SYNC_H

#include <stdbool.h>

#include "../manifest/err.h"
#include "../registry/registry.h"
#include "config.h"

/* What became of one tag. Strings are valid during the report call. */
struct mr_sync_item {
	const char *source;      /* "REG/REPO:TAG" (a repository that cannot be listed: "REG/REPO") */
	const char *destination; /* "DST/REPO:TAG[SUFFIX]", or "" */
	/* "instrumented", "unchanged", "kept" (no platform with a sensor, or a
	 * passthrough rule: copied as is), "failed", "deleted"; with dry_run
	 * "would-instrument", "would-keep", "would-delete" */
	const char *status;
	const char *digest;        /* the destination's digest now (or planned), or "" */
	const char *source_digest; /* or "" */
	const char *error;         /* why it failed, or NULL */
};

struct mr_sync_counts {
	unsigned instrumented, unchanged, kept, failed, deleted;
};

struct mr_sync_options {
	const struct mr_config *cfg; /* rules, defaults, and cfg->sync: what to sync */
	const struct rg_options *src_transport, *dst_transport;
	bool dry_run;                /* decide, write nothing */
	/* each outcome, as it happens; calls are serialised */
	void (*report)(void *ctx, const struct mr_sync_item *item);
	void *ctx;
	void (*warn)(const char *msg);
	/* when not NULL and set (another thread: SIGTERM), the tags not yet
	 * begun are left for the next run */
	const volatile int *stop;
};

/* Sync everything cfg->sync names. One tag's or repository's failure is
 * reported and counted, and the rest goes on: the return is -1 only when
 * nothing could start (e filled). */
int mr_sync_run(const struct mr_sync_options *o, struct mr_sync_counts *ret, struct err *e);

#endif
