/* resolve.c - resolve each distinct image once, in parallel. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../manifest/config.h"
#include "../manifest/digest.h"
#include "../manifest/mediatype.h"
#include "../manifest/ref.h"
#include "../rewriter/signature.h"
#include "../rewriter/verify.h"
#include "resolve.h"

#define MAX_IMAGES 100000

struct dp_resolver {
	const struct dp_resolve_options *o;
	struct dp_resolved *v;
	size_t n, cap;
	size_t next;               /* the next image a worker takes */
	pthread_mutex_t lock;      /* next */
	pthread_mutex_t sign_lock; /* signature images are read-modify-write */
};

int dp_resolver_new(const struct dp_resolve_options *o, struct dp_resolver **ret, struct err *e)
{
	struct dp_resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	r->o = o;
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->sign_lock, NULL);
	*ret = r;
	return 0;
}

void dp_resolver_free(struct dp_resolver *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->v[i].image);
	free(r->v);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->sign_lock);
	free(r);
}

const struct dp_resolved *dp_resolver_get(const struct dp_resolver *r, const char *image,
					  const char *arch)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->v[i].image, image) == 0 && strcmp(r->v[i].arch, arch) == 0)
			return &r->v[i];
	return NULL;
}

int dp_resolver_add(struct dp_resolver *r, const char *image, const char *arch, struct err *e)
{
	struct dp_resolved *d;

	/* Linear: specs name tens of images, a big chart a few hundred. */
	if (dp_resolver_get(r, image, arch))
		return 0;
	if (r->n >= MAX_IMAGES)
		return err_set(e, ERR_INPUT, "more than %d distinct images", MAX_IMAGES);
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct dp_resolved *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return err_set(e, ERR_OPERATIONAL, "out of memory");
		r->v = v;
		r->cap = cap;
	}
	d = &r->v[r->n];
	memset(d, 0, sizeof(*d));
	d->image = strdup(image);
	if (!d->image)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	snprintf(d->arch, sizeof(d->arch), "%s", arch);
	r->n++;
	return 0;
}

/* The repository results of src go to: src's own, or its --registry-map
 * target (the longest SRC that matches wins). */
static int destination_repository(const struct dp_resolve_options *o, const char *repo,
				  char *out, size_t size, struct err *e)
{
	const struct dp_registry_map *best = NULL;
	size_t i, n;

	for (i = 0; i < o->n_maps; i++) {
		n = strlen(o->maps[i].from);
		if (strncmp(repo, o->maps[i].from, n) == 0 && (repo[n] == '\0' || repo[n] == '/') &&
		    (!best || n > strlen(best->from)))
			best = &o->maps[i];
	}
	if (!best)
		n = (size_t)snprintf(out, size, "%s", repo);
	else
		n = (size_t)snprintf(out, size, "%s%s", best->to, repo + strlen(best->from));
	if (n >= size)
		return err_set(e, ERR_INPUT, "%s: the destination repository is too long", repo);
	return 0;
}

/* The tag a result is stored under, so registries keep it: the source's
 * tag (or its digest's hex) with the suffix, and the architecture when the
 * spec asked for one (its result differs from the whole index's). */
static int result_tag(const struct dp_resolve_options *o, const struct rg_endpoint *src,
		      const char *arch, char *out, size_t size, struct err *e)
{
	const char *tag = rg_endpoint_tag(src), *digest = rg_endpoint_digest(src);
	char base[160];

	if (tag)
		snprintf(base, sizeof(base), "%s", tag);
	else if (digest)
		snprintf(base, sizeof(base), "sha256-%.64s", strchr(digest, ':') + 1);
	else
		snprintf(base, sizeof(base), "latest");
	snprintf(out, size, "%.100s%s%s%s", base, o->tag_suffix, arch[0] ? "-" : "", arch);
	if (!mf_tag_valid(out))
		return err_set(e, ERR_INPUT,
			       "'%.200s' is not a valid tag for the result (at most 128 of "
			       "A-Za-z0-9_.-); give a shorter --tag-suffix",
			       out);
	return 0;
}

/* Rewrite: plan the result without writing; when the destination has it
 * (and its signatures), that is all; otherwise instrument and sign. */
static int rewrite_one(struct dp_resolver *r, struct dp_resolved *d, struct err *e)
{
	const struct dp_resolve_options *o = r->o;
	struct rw_instrument_options io = *o->instrument;
	struct rw_instrument_result *res = calloc(1, sizeof(*res));
	struct rg_endpoint *src = NULL, *dst = NULL;
	struct mf_platform pl = {0};
	char repo[400], tag[160], *dst_ref = NULL;
	int rc = -1, have;

	if (!res)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (rg_endpoint_open(d->image, o->transport, &src, e) < 0)
		goto out;
	if (d->arch[0]) {
		pl.os = "linux";
		pl.architecture = d->arch;
		io.platforms = &pl;
		io.n_platforms = 1;
	}
	if (destination_repository(o, rg_endpoint_repository(src), repo, sizeof(repo), e) < 0 ||
	    result_tag(o, src, d->arch, tag, sizeof(tag), e) < 0)
		goto out;
	if (asprintf(&dst_ref, "%s:%s", repo, tag) < 0) {
		dst_ref = NULL;
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (rg_endpoint_open(dst_ref, o->transport, &dst, e) < 0)
		goto out;
	io.dry_run = true;
	if (rw_instrument(src, dst, &io, res, NULL, e) < 0)
		goto out;
	have = rw_manifest_present(dst, res->result_digest, e);
	if (have > 0 && io.signer) {
		pthread_mutex_lock(&r->sign_lock);
		have = rw_instrumented_signed(dst, res, e);
		pthread_mutex_unlock(&r->sign_lock);
	}
	if (have < 0)
		goto out;
	if (!have && !o->plan_only) {
		io.dry_run = false;
		if (rw_instrument(src, dst, &io, res, o->warn, e) < 0)
			goto out;
		if (io.signer) {
			pthread_mutex_lock(&r->sign_lock);
			rc = rw_sign_instrumented(dst, io.signer, res, e);
			pthread_mutex_unlock(&r->sign_lock);
			if (rc < 0)
				goto out;
		}
		d->pushed = true;
	}
	snprintf(d->result, sizeof(d->result), "%s@%s", rg_endpoint_repository(dst),
		 res->result_digest);
	rc = 0;
out:
	free(dst_ref);
	free(res);
	rg_endpoint_free(src);
	rg_endpoint_free(dst);
	return rc;
}

/* --check: pinned by digest, then every verify check holds with the key. */
static int check_one(struct dp_resolver *r, struct dp_resolved *d, struct err *e)
{
	const struct dp_resolve_options *o = r->o;
	struct rw_verify_options vo = {0};
	struct rw_verify_report *rep = NULL;
	struct rg_endpoint *ep = NULL;
	struct err why = {0};
	size_t i, k;
	int rc = -1;

	if (rg_endpoint_open(d->image, o->transport, &ep, e) < 0)
		return -1;
	if (!rg_endpoint_digest(ep)) {
		snprintf(d->finding, sizeof(d->finding),
			 "not pinned: the image names no digest (rewrite it with 'inlay rewrite')");
		rc = 0;
		goto out;
	}
	vo.key = o->instrument->signer;
	vo.key_path = o->key_path;
	if (rw_verify(ep, &vo, &rep, e) < 0)
		goto out;
	if (rw_verify_failed(rep, ep, &why) < 0)
		snprintf(d->finding, sizeof(d->finding), "%s", why.msg);
	/* Not instrumented says more than the missing signature that follows
	 * from it: lead with it. */
	for (i = 0; i < rep->n; i++)
		for (k = 0; k < rep->subjects[i].n; k++)
			if (!rep->subjects[i].checks[k].ok &&
			    strcmp(rep->subjects[i].checks[k].name, "instrumented") == 0) {
				snprintf(d->finding, sizeof(d->finding), "%s (%s): %s", rep->subjects[i].digest,
					 rep->subjects[i].what, rep->subjects[i].checks[k].detail);
				rc = 0;
				goto out;
			}
	rc = 0;
out:
	rw_verify_report_free(rep);
	rg_endpoint_free(ep);
	return rc;
}

static void *worker(void *arg)
{
	struct dp_resolver *r = arg;

	for (;;) {
		struct dp_resolved *d;

		pthread_mutex_lock(&r->lock);
		d = r->next < r->n ? &r->v[r->next++] : NULL;
		pthread_mutex_unlock(&r->lock);
		if (!d)
			return NULL;
		if ((r->o->check ? check_one(r, d, &d->err) : rewrite_one(r, d, &d->err)) < 0)
			d->failed = err_exit_status(&d->err);
	}
}

void dp_resolver_run(struct dp_resolver *r)
{
	pthread_t threads[64];
	size_t i, n = r->o->jobs < 1 ? 1 : (size_t)r->o->jobs;
	size_t started = 0;

	if (n > 64)
		n = 64;
	if (n > r->n)
		n = r->n;
	r->next = 0;
	for (i = 0; i < n; i++) {
		if (pthread_create(&threads[i], NULL, worker, r) != 0)
			break;
		started++;
	}
	if (started == 0 && r->n > 0)
		worker(r); /* no threads to be had: do it here */
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}
