/* sync.c - see sync.h. */
#include "sync.h"

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../manifest/config.h"
#include "../manifest/mediatype.h"
#include "../manifest/ref.h"
#include "../rewriter/copy.h"
#include "../rewriter/instrument.h"
#include "../rewriter/signature.h"

#define PAGE 100       /* tags (or repositories) listed and worked on at once */
#define MAX_JOBS 64
#define REF_MAX 1200
#define DEFAULT_IN_PLACE_SUFFIX "-inlay"

struct run {
	const struct mr_sync_options *o;
	struct mr_sync_counts counts;
	pthread_mutex_t lock;      /* counts and report calls */
	pthread_mutex_t sign_lock; /* one signer of a digest's signature tag at a time */
};

/* One source repository and where it goes. */
struct repo {
	struct run *run;
	struct rg_endpoint *src, *dst;
	const struct mr_rule *rule;
	const char *suffix;
	regex_t tags, exclude;
	bool has_tags, has_exclude;
	bool in_place;
	/* --delete: digests the destination's remaining tags name */
	char (*keep)[MF_DIGEST_MAX];
	size_t n_keep, cap_keep;
	pthread_mutex_t keep_lock;
};

static void report(struct run *run, const char *source, const char *destination,
		   const char *status, const char *digest, const char *source_digest,
		   const char *error)
{
	struct mr_sync_item it = {source,	     destination ? destination : "", status,
				  digest ? digest : "", source_digest ? source_digest : "",
				  error};
	struct mr_sync_counts *c = &run->counts;
	size_t n = strlen(source);

	/* The item names the tag: the message need not say it again. */
	if (error && strncmp(error, source, n) == 0 && error[n] == ':' && error[n + 1] == ' ')
		it.error = error + n + 2;
	pthread_mutex_lock(&run->lock);
	if (strcmp(status, "failed") == 0)
		c->failed++;
	else if (strcmp(status, "unchanged") == 0)
		c->unchanged++;
	else if (strstr(status, "instrument"))
		c->instrumented++;
	else if (strstr(status, "keep") || strcmp(status, "kept") == 0)
		c->kept++;
	else if (strstr(status, "delete"))
		c->deleted++;
	if (run->o->report)
		run->o->report(run->o->ctx, &it);
	pthread_mutex_unlock(&run->lock);
}

/* cosign's sha256-<hex>.sig, .att and .sbom tags: artifacts, not images. */
static bool artifact_tag(const char *tag)
{
	size_t i;

	if (strncmp(tag, "sha256-", 7) != 0 || strlen(tag) < 7 + 64 + 4)
		return false;
	for (i = 7; i < 7 + 64; i++)
		if (!strchr("0123456789abcdef", tag[i]))
			return false;
	return strcmp(tag + 71, ".sig") == 0 || strcmp(tag + 71, ".att") == 0 ||
	       strcmp(tag + 71, ".sbom") == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return k > 0 && n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A source tag this repository syncs. */
static bool wanted(const struct repo *r, const char *tag)
{
	if (artifact_tag(tag) || (r->in_place && ends_with(tag, r->suffix)))
		return false;
	if (r->has_tags && regexec(&r->tags, tag, 0, NULL, 0) != 0)
		return false;
	return !(r->has_exclude && regexec(&r->exclude, tag, 0, NULL, 0) == 0);
}

/* The digest ep's tag names now: 1 with it, 0 when there is no such tag. */
static int tag_digest(struct rg_endpoint *ep, char out[MF_DIGEST_MAX], struct err *e)
{
	struct rg_manifest_blob mb = {0};

	if (rg_manifest_get(ep, NULL, &mb, e) < 0) {
		if (e->http_status != 404)
			return -1;
		err_clear(e);
		out[0] = '\0';
		return 0;
	}
	snprintf(out, MF_DIGEST_MAX, "%s", mb.digest);
	rg_manifest_blob_clear(&mb);
	return 1;
}

static bool any_instrumented(const struct rw_instrument_result *res)
{
	size_t i;

	for (i = 0; i < res->n_platforms; i++)
		if (res->platforms[i].instrumented)
			return true;
	return false;
}

/* A passthrough rule, or an image without a platform the sensor runs on:
 * the destination tag gets the source's manifest, byte for byte. */
static int sync_copy(struct repo *r, struct rg_endpoint *src, struct rg_endpoint *dst,
		     struct err *e)
{
	const struct mr_sync_options *o = r->run->o;
	char want[MF_DIGEST_MAX], have[MF_DIGEST_MAX];

	if (tag_digest(src, want, e) <= 0)
		return e->msg[0] ? -1 : err_set(e, ERR_OPERATIONAL, "the tag is gone");
	if (tag_digest(dst, have, e) < 0)
		return -1;
	if (strcmp(want, have) == 0) {
		report(r->run, rg_endpoint_display(src), rg_endpoint_display(dst), "unchanged", have,
		       want, NULL);
		return 0;
	}
	if (!o->dry_run && rw_copy_image(src, dst, NULL, 0, 2, NULL, have, e) < 0)
		return -1;
	report(r->run, rg_endpoint_display(src), rg_endpoint_display(dst),
	       o->dry_run ? "would-keep" : "kept", want, want, NULL);
	return 0;
}

/* Name the result stored by digest with dst's tag. */
static int tag_result(struct rg_endpoint *dst, const struct rw_instrument_result *res,
		      struct err *e)
{
	struct rg_manifest_blob mb = {0};
	int rc = -1;

	if (rg_manifest_get(dst, res->result_digest, &mb, e) == 0 &&
	    rg_manifest_put(dst, rg_endpoint_tag(dst), mb.data, mb.len, res->result_media_type,
			    e) == 0)
		rc = 0;
	rg_manifest_blob_clear(&mb);
	return rc;
}

static int sync_instrument(struct repo *r, struct rg_endpoint *src, struct rg_endpoint *dst,
			   struct rw_instrument_result *res, struct err *e)
{
	const struct mr_sync_options *o = r->run->o;
	struct rw_instrument_options io = {0};
	char have[MF_DIGEST_MAX];
	bool sensor;
	int same, rc;

	mr_config_instrument_options(o->cfg, r->rule, &io);
	io.jobs = 2;
	io.dry_run = true;
	if (rw_instrument(src, dst, &io, res, NULL, e) < 0) {
		struct err why = {0};
		bool runs;

		/* An image no sensor runs on (Windows, s390x) is kept as it is. */
		if (e->cls != ERR_INPUT || rw_has_sensor_platform(src, &runs, &why) < 0 || runs)
			return -1;
		err_clear(e);
		return sync_copy(r, src, dst, e);
	}
	sensor = any_instrumented(res);
	if (!sensor) /* an index of such images: byte for byte, not re-encoded */
		return sync_copy(r, src, dst, e);
	if ((same = tag_digest(dst, have, e)) < 0)
		return -1;
	/* The tag names the planned result: sync tags only after signing
	 * (below), and the digest covers the signed sensor layer, so its
	 * signatures are there. */
	same = same && strcmp(have, res->result_digest) == 0;
	if (same) {
		report(r->run, rg_endpoint_display(src), rg_endpoint_display(dst), "unchanged", have,
		       res->source_digest, NULL);
		return 0;
	}
	if (!o->dry_run) {
		io.dry_run = false;
		io.untagged = true;
		if (rw_instrument(src, dst, &io, res, o->warn, e) < 0)
			return -1;
		if (io.signer) {
			pthread_mutex_lock(&r->run->sign_lock);
			rc = rw_sign_instrumented(dst, io.signer, res, e);
			pthread_mutex_unlock(&r->run->sign_lock);
			if (rc < 0)
				return err_prefix(e, "sign %s", res->result_digest);
		}
		if (tag_result(dst, res, e) < 0)
			return -1;
	}
	report(r->run, rg_endpoint_display(src), rg_endpoint_display(dst),
	       o->dry_run ? "would-instrument" : "instrumented", res->result_digest,
	       res->source_digest, NULL);
	return 0;
}

static void sync_tag(struct repo *r, const char *tag)
{
	struct rg_endpoint *src = NULL, *dst = NULL;
	struct rw_instrument_result *res = NULL;
	char dst_tag[256], shown[REF_MAX];
	struct err e = {0};
	int rc = -1;

	if (r->run->o->stop && *r->run->o->stop)
		return;
	snprintf(shown, sizeof(shown), "%s:%s", rg_endpoint_repository(r->src), tag);
	if ((size_t)snprintf(dst_tag, sizeof(dst_tag), "%s%s", tag, r->suffix) >= sizeof(dst_tag) ||
	    !mf_tag_valid(dst_tag)) {
		err_set(&e, ERR_INPUT, "'%.100s%.100s' is not a valid destination tag (at most 128 of "
				       "A-Za-z0-9_.-); give a shorter --tag-suffix",
			tag, r->suffix);
		goto out;
	}
	if (rg_endpoint_at(r->src, tag, &src, &e) < 0 || rg_endpoint_at(r->dst, dst_tag, &dst, &e) < 0)
		goto out;
	if (r->rule->action == MR_PASSTHROUGH) {
		rc = sync_copy(r, src, dst, &e);
	} else if (!(res = calloc(1, sizeof(*res)))) {
		err_set(&e, ERR_OPERATIONAL, "out of memory");
	} else {
		rc = sync_instrument(r, src, dst, res, &e);
	}
out:
	if (rc < 0)
		report(r->run, shown, dst ? rg_endpoint_display(dst) : NULL, "failed", NULL, NULL,
		       e.msg);
	free(res);
	rg_endpoint_free(src);
	rg_endpoint_free(dst);
}

/* --- work on one page of names, o->cfg->sync.jobs at a time ------------ */

struct page_work {
	void *ctx;
	void (*fn)(void *ctx, size_t i, const char *name);
	char **names;
	size_t n, next;
	pthread_mutex_t lock;
};

static void *page_worker(void *arg)
{
	struct page_work *w = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&w->lock);
		i = w->next < w->n ? w->next++ : w->n;
		pthread_mutex_unlock(&w->lock);
		if (i == w->n)
			return NULL;
		w->fn(w->ctx, i, w->names[i]);
	}
}

static void run_page(unsigned jobs, void *ctx, void (*fn)(void *, size_t, const char *),
		     char **names, size_t n)
{
	struct page_work w = {ctx, fn, names, n, 0, PTHREAD_MUTEX_INITIALIZER};
	pthread_t t[MAX_JOBS];
	size_t i, started = 0;

	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	for (i = 0; i < jobs && i < n; i++)
		if (pthread_create(&t[i], NULL, page_worker, &w) == 0)
			started++;
	if (started == 0)
		page_worker(&w); /* no threads to be had: here */
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&w.lock);
}

static void tag_fn(void *ctx, size_t i, const char *tag)
{
	(void)i;
	sync_tag(ctx, tag);
}

/* --- --delete ---------------------------------------------------------- */

static int keep_add(struct repo *r, const char *digest)
{
	void *p;

	pthread_mutex_lock(&r->keep_lock);
	if (r->n_keep == r->cap_keep) {
		p = realloc(r->keep, (r->cap_keep * 2 + 16) * sizeof(*r->keep));
		if (!p) {
			pthread_mutex_unlock(&r->keep_lock);
			return -1;
		}
		r->keep = p;
		r->cap_keep = r->cap_keep * 2 + 16;
	}
	snprintf(r->keep[r->n_keep++], MF_DIGEST_MAX, "%s", digest);
	pthread_mutex_unlock(&r->keep_lock);
	return 0;
}

static bool kept(const struct repo *r, const char *digest)
{
	size_t i;

	for (i = 0; i < r->n_keep; i++)
		if (strcmp(r->keep[i], digest) == 0)
			return true;
	return false;
}

/* 1 when the image or index ep names at digest was written by inlay: an
 * image config (of the image, or of one of the index's first children)
 * carries io.inlay.source. */
static int written_by_inlay(struct rg_endpoint *ep, const char *digest, int depth,
			    struct err *e)
{
	struct rg_manifest_blob mb = {0};
	struct mf_manifest *m = NULL;
	struct mf_config *cfg = NULL;
	struct buf b;
	size_t i;
	int rc = -1;

	buf_init(&b, LIMIT_CONFIG_BYTES);
	if (rg_manifest_get(ep, digest, &mb, e) < 0 ||
	    mf_manifest_parse(mb.data, mb.len, mb.media_type, &m, e) < 0)
		goto out;
	if (mf_manifest_child_count(m) > 0) {
		rc = 0;
		for (i = 0; depth == 0 && i < mf_manifest_child_count(m) && i < 8 && rc == 0; i++)
			rc = written_by_inlay(ep, mf_manifest_child(m, i)->digest, 1, e);
		goto out;
	}
	if (!mf_manifest_config(m)) {
		rc = 0;
		goto out;
	}
	if (rg_blob_get(ep, mf_manifest_config(m)->digest, &b, e) < 0 ||
	    mf_config_parse(b.data, b.len, &cfg, e) < 0)
		goto out;
	rc = mf_config_label(cfg, LABEL_SOURCE) != NULL;
out:
	mf_config_free(cfg);
	mf_manifest_free(m);
	rg_manifest_blob_clear(&mb);
	buf_free(&b);
	return rc;
}

struct doomed {
	char tag[256];
	char digest[MF_DIGEST_MAX];
};

struct delete_page {
	struct repo *r;
	struct doomed *doomed; /* one slot per name of the page */
};

/* One destination tag: its digest is kept unless its source tag is gone
 * and inlay wrote it (then it is doomed). */
static void judge_fn(void *ctx, size_t at, const char *tag)
{
	struct delete_page *p = ctx;
	struct repo *r = p->r;
	struct rg_endpoint *dst = NULL, *src = NULL;
	char digest[MF_DIGEST_MAX], source_tag[256], shown[REF_MAX];
	struct doomed *slot = &p->doomed[at];
	struct err e = {0};
	size_t k = strlen(r->suffix);
	int have, mine = 0;

	snprintf(shown, sizeof(shown), "%s:%s", rg_endpoint_repository(r->dst), tag);
	if (rg_endpoint_at(r->dst, tag, &dst, &e) < 0 || (have = tag_digest(dst, digest, &e)) < 0)
		goto failed;
	if (have == 0)
		goto out; /* gone meanwhile */
	snprintf(source_tag, sizeof(source_tag), "%.*s", (int)(strlen(tag) - k), tag);
	if (artifact_tag(tag) || (k && !ends_with(tag, r->suffix)) || !mf_tag_valid(source_tag)) {
		if (keep_add(r, digest) < 0)
			err_set(&e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (rg_endpoint_at(r->src, source_tag, &src, &e) < 0 ||
	    (have = rw_manifest_present(src, NULL, &e)) < 0 ||
	    (!have && (mine = written_by_inlay(dst, digest, 0, &e)) < 0))
		goto failed;
	if (have || !mine) {
		if (keep_add(r, digest) < 0) {
			err_set(&e, ERR_OPERATIONAL, "out of memory");
			goto failed;
		}
		goto out;
	}
	snprintf(slot->tag, sizeof(slot->tag), "%s", tag);
	snprintf(slot->digest, sizeof(slot->digest), "%s", digest);
	goto out;
failed:
	report(r->run, shown, NULL, "failed", NULL, NULL, e.msg);
out:
	rg_endpoint_free(src);
	rg_endpoint_free(dst);
}

/* Delete destination tags whose source tag is gone, written by inlay, and
 * naming no digest another remaining tag names (a DELETE by digest removes
 * every tag of it), with their signatures. */
static void delete_gone(struct repo *r)
{
	const struct mr_sync_options *o = r->run->o;
	struct doomed *doomed = NULL;
	size_t n_doomed = 0, i;
	char *last = NULL;
	struct err e = {0};

	for (;;) {
		struct rg_tag_page page = {0};
		struct delete_page dp = {r, NULL};
		void *grown;

		if (rg_tags_list(r->dst, PAGE, last, &page, &e) < 0) {
			if (e.http_status != 404)
				report(r->run, rg_endpoint_repository(r->dst), NULL, "failed", NULL,
				       NULL, e.msg);
			break;
		}
		dp.doomed = calloc(page.n + 1, sizeof(*dp.doomed));
		if (!dp.doomed) {
			rg_tag_page_clear(&page);
			break;
		}
		run_page(o->cfg->sync.jobs, &dp, judge_fn, page.tags, page.n);
		for (i = 0; i < page.n; i++) {
			if (!dp.doomed[i].tag[0])
				continue;
			grown = realloc(doomed, (n_doomed + 1) * sizeof(*doomed));
			if (!grown)
				break;
			doomed = grown;
			doomed[n_doomed++] = dp.doomed[i];
		}
		free(dp.doomed);
		free(last);
		last = page.more ? strdup(page.tags[page.n - 1]) : NULL;
		rg_tag_page_clear(&page);
		if (!last)
			break;
	}
	free(last);
	for (i = 0; i < n_doomed; i++) {
		char shown[REF_MAX], sig[RW_SIGNATURE_TAG_MAX], sig_digest[MF_DIGEST_MAX];
		struct rg_endpoint *sig_ep = NULL;
		size_t k;
		bool again = false;

		for (k = 0; k < i; k++)
			again |= strcmp(doomed[k].digest, doomed[i].digest) == 0;
		snprintf(shown, sizeof(shown), "%s:%s", rg_endpoint_repository(r->dst), doomed[i].tag);
		if (kept(r, doomed[i].digest))
			continue; /* another tag still names it */
		err_clear(&e);
		if (!o->dry_run && !again) {
			if (rg_manifest_delete(r->dst, doomed[i].digest, &e) < 0) {
				report(r->run, shown, NULL, "failed", NULL, NULL, e.msg);
				continue;
			}
			/* Its signature, when it has one, goes with it. */
			if (rw_signature_tag(doomed[i].digest, sig, &e) == 0 &&
			    rg_endpoint_at(r->dst, sig, &sig_ep, &e) == 0 &&
			    tag_digest(sig_ep, sig_digest, &e) == 1)
				(void)rg_manifest_delete(r->dst, sig_digest, &e);
			rg_endpoint_free(sig_ep);
		}
		report(r->run, shown, shown, o->dry_run ? "would-delete" : "deleted",
		       doomed[i].digest, NULL, NULL);
	}
	free(doomed);
}

/* --- repositories ------------------------------------------------------ */

/* What rules call the source registry: the name of the upstream on that
 * host, else the host. */
static const char *rule_host(const struct mr_config *c, const char *host)
{
	size_t i;

	for (i = 0; i < c->n_upstreams; i++)
		if (strcmp(c->upstreams[i].host, host) == 0)
			return c->upstreams[i].name;
	return host;
}

static void sync_repository(struct run *run, const struct mr_sync_repo *sr, const char *from,
			    const char *to)
{
	const struct mr_sync_options *o = run->o;
	struct repo r = {0};
	struct mf_ref *ref = NULL;
	char *last = NULL;
	struct err e = {0};

	r.run = run;
	pthread_mutex_init(&r.keep_lock, NULL);
	if (rg_endpoint_open(from, o->src_transport, &r.src, &e) < 0 ||
	    rg_endpoint_open(to, o->dst_transport, &r.dst, &e) < 0)
		goto failed;
	r.in_place = rg_endpoint_same_repository(r.src, r.dst);
	r.suffix = o->cfg->sync.tag_suffix         ? o->cfg->sync.tag_suffix
		   : r.in_place ? DEFAULT_IN_PLACE_SUFFIX
				: "";
	if (r.in_place && !r.suffix[0]) {
		err_set(&e, ERR_INPUT, "%s: syncing a repository into itself needs a --tag-suffix",
			from);
		goto failed;
	}
	if (rg_endpoint_is_layout(r.src)) {
		r.rule = &o->cfg->defaults;
	} else {
		if (mf_ref_parse(from, &ref, &e) < 0)
			goto failed;
		r.rule = mr_config_rule(o->cfg, rule_host(o->cfg, ref->domain), ref->path);
	}
	r.has_tags = sr->tags && regcomp(&r.tags, sr->tags, REG_EXTENDED | REG_NOSUB) == 0;
	r.has_exclude =
	    sr->exclude && regcomp(&r.exclude, sr->exclude, REG_EXTENDED | REG_NOSUB) == 0;
	for (;;) {
		struct rg_tag_page page = {0};
		size_t i, k = 0;

		if (rg_tags_list(r.src, PAGE, last, &page, &e) < 0)
			goto failed;
		for (i = 0; i < page.n; i++) /* the wanted ones first, in order */
			if (wanted(&r, page.tags[i])) {
				char *t = page.tags[k];

				page.tags[k++] = page.tags[i];
				page.tags[i] = t;
			}
		run_page(o->cfg->sync.jobs, &r, tag_fn, page.tags, k);
		free(last);
		last = page.more ? strdup(page.tags[page.n - 1]) : NULL;
		rg_tag_page_clear(&page);
		if (!last || (o->stop && *o->stop))
			break;
	}
	if (o->cfg->sync.delete_gone && !(o->stop && *o->stop))
		delete_gone(&r);
	goto out;
failed:
	report(run, from, to, "failed", NULL, NULL, e.msg);
out:
	free(last);
	mf_ref_free(ref);
	if (r.has_tags)
		regfree(&r.tags);
	if (r.has_exclude)
		regfree(&r.exclude);
	free(r.keep);
	pthread_mutex_destroy(&r.keep_lock);
	rg_endpoint_free(r.src);
	rg_endpoint_free(r.dst);
}

/* "REG" or "REG/PREFIX/": every repository of the catalog under PREFIX,
 * each to TO/REST. */
static void sync_catalog(struct run *run, const struct mr_sync_repo *sr)
{
	const struct mr_sync_options *o = run->o;
	const char *slash = strchr(sr->from, '/');
	char host[256], prefix[512], probe[800], *last = NULL;
	struct rg_endpoint *ep = NULL;
	struct err e = {0};
	size_t i;

	snprintf(host, sizeof(host), "%.*s", slash ? (int)(slash - sr->from) : (int)strlen(sr->from),
		 sr->from);
	snprintf(prefix, sizeof(prefix), "%s", slash ? slash + 1 : "");
	if (prefix[0])
		prefix[strlen(prefix) - 1] = '\0'; /* the trailing '/' */
	/* The catalog is the registry's: any repository name opens it. */
	snprintf(probe, sizeof(probe), "%s/%s", host, prefix[0] ? prefix : "catalog");
	if (rg_endpoint_open(probe, o->src_transport, &ep, &e) < 0)
		goto failed;
	for (;;) {
		struct rg_tag_page page = {0};

		if (rg_catalog_list(ep, PAGE, last, &page, &e) < 0)
			goto failed;
		for (i = 0; i < page.n; i++) {
			const char *name = page.tags[i], *rest = name;
			char from[800], to[1200];

			if (prefix[0]) {
				size_t k = strlen(prefix);

				if (strncmp(name, prefix, k) != 0 || name[k] != '/')
					continue;
				rest = name + k + 1;
			}
			snprintf(from, sizeof(from), "%s/%s", host, name);
			snprintf(to, sizeof(to), "%s/%s", sr->to, rest);
			sync_repository(run, sr, from, to);
		}
		free(last);
		last = page.more ? strdup(page.tags[page.n - 1]) : NULL;
		rg_tag_page_clear(&page);
		if (!last)
			break;
	}
	goto out;
failed:
	report(run, sr->from, sr->to, "failed", NULL, NULL, e.msg);
out:
	free(last);
	rg_endpoint_free(ep);
}

static bool is_catalog(const char *from)
{
	size_t n = strlen(from);

	return strncmp(from, "oci:", 4) != 0 && (!strchr(from, '/') || from[n - 1] == '/');
}

int mr_sync_run(const struct mr_sync_options *o, struct mr_sync_counts *ret, struct err *e)
{
	struct run run = {0};
	size_t i;

	if (o->cfg->sync.n_repos == 0)
		return err_set(e, ERR_INPUT, "nothing to sync");
	run.o = o;
	pthread_mutex_init(&run.lock, NULL);
	pthread_mutex_init(&run.sign_lock, NULL);
	for (i = 0; i < o->cfg->sync.n_repos && !(o->stop && *o->stop); i++) {
		const struct mr_sync_repo *sr = &o->cfg->sync.repos[i];

		if (is_catalog(sr->from))
			sync_catalog(&run, sr);
		else
			sync_repository(&run, sr, sr->from, sr->to);
	}
	pthread_mutex_destroy(&run.lock);
	pthread_mutex_destroy(&run.sign_lock);
	*ret = run.counts;
	return 0;
}
