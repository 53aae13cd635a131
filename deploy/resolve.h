/* resolve.h - from the image a spec names to the instrumented, signed image
 * it should run, pinned by digest (DESIGN.md section 11); and the check of
 * an image that is already pinned.
 *
 * Each distinct (image, architecture) is resolved once, however many
 * containers name it, and distinct ones in parallel (--jobs). One image's
 * failure is recorded with it and does not stop the others. */
#ifndef INLAY_DP_RESOLVE_H
#define INLAY_DP_RESOLVE_H

#include <stdbool.h>

#include "../manifest/err.h"
#include "../registry/registry.h"
#include "../rewriter/instrument.h"

/* --registry-map SRC=DST: a result whose source repository is SRC, or
 * under SRC/, goes to DST (plus the rest of the path). */
struct dp_registry_map {
	const char *from, *to;
};

struct dp_resolve_options {
	const struct rg_options *transport;
	/* mode, policy, inventory, compression, signer (also signs the
	 * results' manifests); platforms, dry_run and lazy_store are set per
	 * image */
	const struct rw_instrument_options *instrument;
	const char *key_path;      /* for messages */
	const char *tag_suffix;    /* results are tagged <tag><suffix>[-<arch>] */
	const struct dp_registry_map *maps;
	size_t n_maps;
	int jobs;                  /* images resolved at once */
	bool check;                /* verify only (--check), never push */
	/* Rewrite without writing: each result is the reference a run would
	 * write, pushed or not (an admission request with dryRun) */
	bool plan_only;
	void (*warn)(const char *msg);
};

struct dp_resolved {
	char *image;   /* as the spec names it */
	char arch[16]; /* the platform asked for, or "" */
	/* rewrite: the reference to write; "" on failure */
	char result[512];
	bool pushed;   /* instrumented (or signed) now; false: found present */
	/* --check: the first reason the image is not acceptable, or "" */
	char finding[ERR_MSG_MAX];
	int failed;    /* 0, or the error class when it could not be resolved */
	struct err err;
};

struct dp_resolver;

int dp_resolver_new(const struct dp_resolve_options *o, struct dp_resolver **ret, struct err *e);
void dp_resolver_free(struct dp_resolver *r);

/* Ask for image on arch ("" for all); a repeat is free. */
int dp_resolver_add(struct dp_resolver *r, const char *image, const char *arch, struct err *e);

/* Resolve (or check) everything added, o->jobs at a time (in this thread
 * when no thread can be started). Each image's outcome, failure included,
 * is in its dp_resolved. */
void dp_resolver_run(struct dp_resolver *r);

/* The outcome for an image added before, or NULL. */
const struct dp_resolved *dp_resolver_get(const struct dp_resolver *r, const char *image,
					  const char *arch);

#endif
