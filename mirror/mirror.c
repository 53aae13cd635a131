/* mirror.c - see mirror.h. */
#include "mirror.h"
#include "mirror_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../manifest/buf.h"
#include "../manifest/digest.h"
#include "../manifest/image.h"
#include "../manifest/mediatype.h"
#include "../rewriter/instrument.h"
#include "../rewriter/signature.h"

#define TAG_ENTRIES_MAX 8192
#define TAG_CACHE_BYTES (32u * 1024 * 1024) /* manifests kept in all entries */
#define KEY_MAX (MR_UPSTREAM_NAME_MAX + MR_NAME_MAX + MR_REFERENCE_MAX + 8)
#define MR_TAGS_MAX 100000
#define UPSTREAM_TAG_PAGE 1000
#define UPSTREAM_TAG_PAGES 200

/* What one tag, as one client name spells it, resolved to. */
struct tag_entry {
	struct tag_entry *next; /* bucket chain */
	char *key;              /* "NS|NAME:TAG" */
	bool busy;              /* a thread is resolving it; others wait */
	bool valid;             /* the fields below hold a result */
	time_t resolved;        /* monotonic seconds of the last upstream read */
	char upstream_digest[MF_DIGEST_MAX];
	struct mr_manifest result; /* bytes kept: manifests are small */
};

static time_t now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void mr_warnf(struct mr_mirror *m, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX + 256];
	va_list ap;

	if (!m->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	m->warn(msg);
}

void mr_manifest_clear(struct mr_manifest *mf)
{
	if (!mf)
		return;
	free(mf->data);
	free(mf->media_type);
	memset(mf, 0, sizeof(*mf));
}

static int manifest_copy(const struct mr_manifest *src, struct mr_manifest *dst, struct err *e)
{
	memset(dst, 0, sizeof(*dst));
	dst->data = malloc(src->len ? src->len : 1);
	dst->media_type = strdup(src->media_type);
	if (!dst->data || !dst->media_type) {
		mr_manifest_clear(dst);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	memcpy(dst->data, src->data, src->len);
	dst->len = src->len;
	snprintf(dst->digest, sizeof(dst->digest), "%s", src->digest);
	dst->how = src->how;
	return 0;
}

int mr_mirror_new(const struct mr_config *cfg, const struct rg_options *ropt,
		  void (*warn)(const char *msg), struct mr_mirror **ret, struct err *e)
{
	struct mr_mirror *m = calloc(1, sizeof(*m));
	size_t i;

	if (!m)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	m->cfg = cfg;
	m->warn = warn;
	for (i = 0; i < cfg->n_upstreams; i++) {
		m->upstream_opts[i] = *ropt;
		m->upstream_opts[i].quiet = true;
		if (cfg->upstreams[i].plain_http)
			m->upstream_opts[i].plain_http = true;
	}
	rg_options_init(&m->store_opts);
	m->store_opts.quiet = true;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->sign_lock, NULL);
	pthread_cond_init(&m->changed, NULL);
	if (rg_endpoint_open(cfg->store, &m->store_opts, &m->store, e) < 0) {
		err_prefix(e, "store");
		mr_mirror_free(m);
		return -1;
	}
	*ret = m;
	return 0;
}

void mr_mirror_free(struct mr_mirror *m)
{
	size_t i;

	if (!m)
		return;
	/* Filling threads use the store and the endpoints: bounded by the
	 * transfer timeouts, they are waited for. */
	pthread_mutex_lock(&m->lock);
	while (m->fills > 0)
		pthread_cond_wait(&m->changed, &m->lock);
	pthread_mutex_unlock(&m->lock);
	for (i = 0; i < TAG_BUCKETS; i++) {
		struct tag_entry *t = m->buckets[i], *next;

		for (; t; t = next) {
			next = t->next;
			free(t->key);
			mr_manifest_clear(&t->result);
			free(t);
		}
	}
	for (i = 0; i < m->n_eps; i++) {
		free(m->eps[i].key);
		rg_endpoint_free(m->eps[i].ep);
	}
	rg_endpoint_free(m->store);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->sign_lock);
	pthread_cond_destroy(&m->changed);
	free(m);
}

void mr_mirror_stats(struct mr_mirror *m, struct mr_stats *ret)
{
	uint64_t *dst = (uint64_t *)ret, *src = (uint64_t *)&m->stats;
	size_t i;

	for (i = 0; i < sizeof(*ret) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- upstream endpoints ---- */

static const struct rg_options *upstream_options(struct mr_mirror *m, const struct mr_upstream *u)
{
	return &m->upstream_opts[u - m->cfg->upstreams];
}

/* "HOST/REPOSITORY[SUFFIX]" as inlay references spell it: Docker Hub's
 * wire host is spelled docker.io, so its credentials and names apply. */
static void upstream_ref(const struct mr_target *t, const char *suffix, char *out, size_t n)
{
	snprintf(out, n, "%s/%s%s", t->upstream->docker_hub ? "docker.io" : t->upstream->host,
		 t->repository, suffix ? suffix : "");
}

int mr_upstream_endpoint(struct mr_mirror *m, const struct mr_target *t, struct rg_endpoint **ret,
			 bool *ret_owned, struct err *e)
{
	char key[KEY_MAX], ref[KEY_MAX + 16];
	struct rg_endpoint *ep = NULL;
	size_t i;

	snprintf(key, sizeof(key), "%s/%s", t->upstream->name, t->repository);
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n_eps; i++)
		if (strcmp(m->eps[i].key, key) == 0) {
			*ret = m->eps[i].ep;
			*ret_owned = false;
			pthread_mutex_unlock(&m->lock);
			return 0;
		}
	pthread_mutex_unlock(&m->lock);
	upstream_ref(t, NULL, ref, sizeof(ref));
	if (rg_endpoint_open(ref, upstream_options(m, t->upstream), &ep, e) < 0)
		return -1;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->n_eps; i++)
		if (strcmp(m->eps[i].key, key) == 0)
			break;
	if (i < m->n_eps) { /* another thread was quicker */
		rg_endpoint_free(ep);
		*ret = m->eps[i].ep;
		*ret_owned = false;
	} else if (m->n_eps < ENDPOINTS_MAX && (m->eps[m->n_eps].key = strdup(key))) {
		m->eps[m->n_eps++].ep = ep;
		*ret = ep;
		*ret_owned = false;
	} else {
		*ret = ep;
		*ret_owned = true;
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* The status and code for an upstream failure: a missing image is the
 * client's 404; anything else is the mirror's upstream failing (503), never
 * an answer made up from a partial response. */
static int upstream_failure(struct mr_mirror *m, const char *missing_code, const char **ret_code,
			    struct err *e)
{
	COUNT(m, upstream_errors, 1);
	if (e->http_status == 404) {
		*ret_code = missing_code;
		return -1;
	}
	err_prefix(e, "upstream");
	*ret_code = e->cls == ERR_VERIFY ? "UNKNOWN" : "UNAVAILABLE";
	e->http_status = e->cls == ERR_VERIFY ? 502 : 503;
	return -1;
}

/* ---- manifests ---- */

static int from_blob(struct rg_manifest_blob *mb, const char *hint, const char *how,
		     struct mr_manifest *ret, struct err *e)
{
	struct mf_manifest *parsed = NULL;
	const char *mt;

	/* The store holds layers and configs beside manifests: a digest
	 * asked for as a manifest must parse as one. */
	if (mf_manifest_parse(mb->data, mb->len, mb->media_type ? mb->media_type : hint, &parsed,
			      e) < 0)
		return -1;
	mt = mf_manifest_media_type(parsed);
	memset(ret, 0, sizeof(*ret));
	ret->media_type = strdup(mt);
	mf_manifest_free(parsed);
	if (!ret->media_type)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	ret->data = mb->data;
	ret->len = mb->len;
	mb->data = NULL; /* transferred */
	snprintf(ret->digest, sizeof(ret->digest), "%s", mb->digest);
	ret->how = how;
	return 0;
}

/* A result a registry store holds only as a blob of the manifest's bytes
 * (not completed yet): 1 found, with ret->how "pending"; 0 not there. */
static int store_pending(struct mr_mirror *m, const char *digest, struct mr_manifest *ret,
			 struct err *e)
{
	struct rg_manifest_blob mb = {0};
	struct buf b;
	struct err ignored;
	int64_t size;
	int r, rc;

	r = rg_blob_size(m->store, digest, &size, e);
	if (r <= 0 || size > (int64_t)LIMIT_MANIFEST_BYTES)
		return r < 0 ? -1 : 0; /* a layer is not a manifest */
	buf_init(&b, LIMIT_MANIFEST_BYTES);
	if (rg_blob_get(m->store, digest, &b, e) < 0) {
		buf_free(&b);
		return -1;
	}
	mb.data = b.data;
	mb.len = b.len;
	snprintf(mb.digest, sizeof(mb.digest), "%s", digest);
	rc = from_blob(&mb, NULL, "pending", ret, &ignored);
	rg_manifest_blob_clear(&mb);
	return rc < 0 ? 0 : 1; /* a config is not a manifest either */
}

int mr_store_read(struct mr_mirror *m, const char *reference, struct mr_manifest *ret,
		  struct err *e)
{
	struct rg_manifest_blob mb = {0};
	struct err ignored;
	int rc;

	if (rg_manifest_get(m->store, reference, &mb, e) < 0) {
		if (e->http_status != 404)
			return -1;
		err_clear(e);
		if (rg_endpoint_is_layout(m->store) || !mf_digest_valid(reference))
			return 0;
		return store_pending(m, reference, ret, e);
	}
	rc = from_blob(&mb, NULL, "store", ret, &ignored);
	rg_manifest_blob_clear(&mb);
	if (rc < 0)
		return 0; /* a blob that is not a manifest: not one of ours */
	return 1;
}

/* store_read, counted. A result read from a registry store is completed
 * unless known complete: it may be pending (a completion failed, another
 * replica made it), and Distribution serves a manifest that is only a blob
 * as a manifest (it looks in _layers too), so being found says nothing. */
static int store_manifest(struct mr_mirror *m, const struct mr_target *t, const char *reference,
			  struct mr_manifest *ret, struct err *e)
{
	int found = mr_store_read(m, reference, ret, e);

	if (found == 1) {
		COUNT(m, store_manifest_hits, 1);
		if (!rg_endpoint_is_layout(m->store) && mf_digest_valid(reference))
			mr_complete_later(m, t, ret->digest);
	}
	return found;
}

static bool signature_tag(const char *reference)
{
	size_t n = strlen(reference), i;

	if (n != 7 + 64 + 4 || strncmp(reference, "sha256-", 7) != 0 ||
	    strcmp(reference + n - 4, ".sig") != 0)
		return false;
	for (i = 7; i < 7 + 64; i++)
		if (!((reference[i] >= '0' && reference[i] <= '9') ||
		      (reference[i] >= 'a' && reference[i] <= 'f')))
			return false;
	return true;
}

unsigned long mr_hash(const char *s)
{
	unsigned long h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* Under m->lock: the entry for key, made when missing (NULL on ENOMEM).
 * When the table is full the oldest idle entry goes. */
static struct tag_entry *entry_get(struct mr_mirror *m, const char *key)
{
	unsigned long b = mr_hash(key) % TAG_BUCKETS;
	struct tag_entry *t;

	for (t = m->buckets[b]; t; t = t->next)
		if (strcmp(t->key, key) == 0)
			return t;
	if (m->n_entries >= TAG_ENTRIES_MAX) {
		struct tag_entry **oldest = NULL, **pp;
		size_t i;

		for (i = 0; i < TAG_BUCKETS; i++)
			for (pp = &m->buckets[i]; *pp; pp = &(*pp)->next)
				if (!(*pp)->busy && (!oldest || (*pp)->resolved < (*oldest)->resolved))
					oldest = pp;
		if (oldest) {
			struct tag_entry *gone = *oldest;

			*oldest = gone->next;
			m->cached_bytes -= gone->result.len;
			free(gone->key);
			mr_manifest_clear(&gone->result);
			free(gone);
			m->n_entries--;
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->key = strdup(key))) {
		free(t);
		return NULL;
	}
	t->next = m->buckets[b];
	m->buckets[b] = t;
	m->n_entries++;
	return t;
}

/* Instrument upstream digest `digest` of t into the store (small objects
 * only) and sign it as PUBLIC_HOST/NAME; *ret gets the result. */
static int instrument(struct mr_mirror *m, const struct mr_target *t, const char *name,
		      const struct mr_rule *rule, const char *digest, struct mr_manifest *ret,
		      struct err *e)
{
	struct rw_instrument_options io = {0};
	struct rw_instrument_result *res = NULL;
	struct rg_endpoint *src = NULL;
	char ref[KEY_MAX + MF_DIGEST_MAX], identity[512];
	const struct ly_key *key;
	int rc = -1, found;

	upstream_ref(t, "@", ref, sizeof(ref));
	strncat(ref, digest, sizeof(ref) - strlen(ref) - 1);
	res = calloc(1, sizeof(*res));
	if (!res)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (rg_endpoint_open(ref, upstream_options(m, t->upstream), &src, e) < 0)
		goto out;
	mr_config_instrument_options(m->cfg, rule, &io);
	key = io.signer;
	io.jobs = 4;
	/* The store takes the result before its base layers: they are kept
	 * as they pass to clients, and a registry store is completed by a
	 * thread (mr_complete_later) since it refuses a manifest whose blobs it
	 * lacks. */
	io.lazy_store = true;
	io.untagged = true; /* the store is content-addressed */
	if (rw_instrument(src, m->store, &io, res, m->warn, e) < 0)
		goto out;
	COUNT(m, bytes_from_upstream, res->stats.bytes_downloaded);
	if (key) {
		snprintf(identity, sizeof(identity), "%s/%s", m->cfg->public_host, name);
		pthread_mutex_lock(&m->sign_lock);
		rc = rw_sign_instrumented_as(m->store, identity, key, res, e);
		pthread_mutex_unlock(&m->sign_lock);
		if (rc < 0) {
			err_prefix(e, "sign %s", res->result_digest);
			goto out;
		}
		rc = -1;
	}
	found = store_manifest(m, t, res->result_digest, ret, e);
	if (found <= 0) {
		if (found == 0)
			err_set(e, ERR_OPERATIONAL, "the store lost %s just after it was written",
				res->result_digest);
		goto out;
	}
	ret->how = "instrumented";
	rc = 0;
out:
	rg_endpoint_free(src);
	free(res);
	return rc;
}

/* Resolve a tag: read it upstream, then reuse the entry's result when the
 * upstream digest did not move, else compute the result. */
static int resolve_tag(struct mr_mirror *m, const struct mr_target *t, const char *name,
		       const char *tag, struct tag_entry *entry_snapshot, struct mr_manifest *ret,
		       char ret_upstream_digest[MF_DIGEST_MAX], const char **ret_code,
		       struct err *e)
{
	const struct mr_rule *rule = mr_config_rule(m->cfg, t->upstream->name, t->repository);
	struct rg_manifest_blob up = {0};
	struct rg_endpoint *ep;
	bool owned = false;
	int rc = -1;

	if (mr_upstream_endpoint(m, t, &ep, &owned, e) < 0) {
		*ret_code = "UNKNOWN";
		e->http_status = 500;
		return -1;
	}
	COUNT(m, tag_lookups, 1);
	if (rg_manifest_get(ep, tag, &up, e) < 0) {
		upstream_failure(m, "MANIFEST_UNKNOWN", ret_code, e);
		goto out;
	}
	snprintf(ret_upstream_digest, MF_DIGEST_MAX, "%s", up.digest);
	if (entry_snapshot && strcmp(entry_snapshot->upstream_digest, up.digest) == 0) {
		rc = manifest_copy(&entry_snapshot->result, ret, e);
		if (rc == 0)
			ret->how = "cache";
		goto out;
	}
	if (rule->action == MR_PASSTHROUGH) {
		rc = from_blob(&up, NULL, "upstream", ret, e);
		if (rc < 0) {
			*ret_code = "MANIFEST_INVALID";
			e->http_status = 502;
		}
		goto out;
	}
	if (instrument(m, t, name, rule, up.digest, ret, e) == 0) {
		COUNT(m, instrumentations, 1);
		rc = 0;
		goto out;
	}
	COUNT(m, instrument_failures, 1);
	if (e->cls == ERR_INPUT && e->http_status == 0) {
		/* An image inlay has no sensor for (Windows, s390x, ...): the
		 * mirror is not the place to break it, unless told to. */
		if (m->cfg->require_instrumented) {
			err_prefix(e, "%s:%s cannot be instrumented (--require-instrumented)", name, tag);
			*ret_code = "DENIED";
			e->http_status = 403;
			goto out;
		}
		mr_warnf(m, "%s:%s kept unchanged: %s", name, tag, e->msg);
		err_clear(e);
		COUNT(m, kept_unchanged, 1);
		rc = from_blob(&up, NULL, "kept", ret, e);
		if (rc < 0) {
			*ret_code = "MANIFEST_INVALID";
			e->http_status = 502;
		}
		goto out;
	}
	if (e->http_status == 404 || e->cls != ERR_INPUT) {
		upstream_failure(m, "BLOB_UNKNOWN", ret_code, e);
		if (e->http_status == 404) {
			/* The tag exists but names something missing. */
			e->http_status = 502;
			*ret_code = "UNKNOWN";
		}
	}
out:
	rg_manifest_blob_clear(&up);
	if (owned)
		rg_endpoint_free(ep);
	return rc;
}

static int manifest_by_tag(struct mr_mirror *m, const struct mr_target *t, const char *name,
			   const char *ns, const char *tag, struct mr_manifest *ret,
			   const char **ret_code, struct err *e)
{
	char key[KEY_MAX];
	struct tag_entry *entry, snapshot = {0};
	char upstream_digest[MF_DIGEST_MAX] = "";
	bool waited = false, have_snapshot = false;
	int rc;

	snprintf(key, sizeof(key), "%s|%s:%s", ns ? ns : "", name, tag);
	pthread_mutex_lock(&m->lock);
	for (;;) {
		entry = entry_get(m, key);
		if (!entry) {
			pthread_mutex_unlock(&m->lock);
			*ret_code = "UNKNOWN";
			e->http_status = 500;
			return err_set(e, ERR_OPERATIONAL, "out of memory");
		}
		if (!entry->busy)
			break;
		waited = true;
		pthread_cond_wait(&m->changed, &m->lock);
	}
	if (waited)
		COUNT(m, coalesced, 1);
	if (entry->valid && now_seconds() - entry->resolved < m->cfg->tag_ttl) {
		rc = manifest_copy(&entry->result, ret, e);
		pthread_mutex_unlock(&m->lock);
		if (rc == 0) {
			ret->how = "cache";
			COUNT(m, tag_cache_hits, 1);
		}
		return rc;
	}
	entry->busy = true;
	if (entry->valid) {
		/* Read outside the lock: nobody changes a busy entry. */
		snapshot = *entry;
		have_snapshot = true;
	}
	pthread_mutex_unlock(&m->lock);

	rc = resolve_tag(m, t, name, tag, have_snapshot ? &snapshot : NULL, ret, upstream_digest,
			 ret_code, e);

	pthread_mutex_lock(&m->lock);
	m->cached_bytes -= entry->result.len;
	mr_manifest_clear(&entry->result);
	entry->valid = false;
	if (rc == 0 && m->cached_bytes + ret->len <= TAG_CACHE_BYTES) {
		struct mr_manifest copy;

		/* Past the bound the tag is read upstream each time: correct,
		 * only slower. */
		if (manifest_copy(ret, &copy, e) == 0) {
			entry->result = copy;
			m->cached_bytes += copy.len;
			snprintf(entry->upstream_digest, sizeof(entry->upstream_digest), "%s",
				 upstream_digest);
			entry->valid = true;
			entry->resolved = now_seconds();
		}
		err_clear(e);
	}
	entry->busy = false;
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int mr_mirror_manifest(struct mr_mirror *m, const char *name, const char *ns,
		       const char *reference, struct mr_manifest *ret, const char **ret_code,
		       struct err *e)
{
	struct mr_target t;
	struct rg_manifest_blob up = {0};
	struct rg_endpoint *ep;
	bool owned = false;
	int found, rc = -1;

	*ret_code = "UNKNOWN";
	if (mr_route_target(m->cfg, name, ns, &t, e) < 0) {
		*ret_code = "NAME_UNKNOWN";
		return -1;
	}
	if (mf_digest_valid(reference) || signature_tag(reference)) {
		/* Ours first: results, kept children, signatures. */
		found = store_manifest(m, &t, reference, ret, e);
		if (found != 0) {
			if (found < 0)
				e->http_status = 500;
			return found < 0 ? -1 : 0;
		}
		if (m->cfg->require_instrumented && !signature_tag(reference)) {
			err_set(e, ERR_INPUT,
				"%s@%s is not an instrumented image of this mirror, and it serves no "
				"others (--require-instrumented); pull by tag",
				name, reference);
			*ret_code = "DENIED";
			e->http_status = 403;
			return -1;
		}
		if (mr_upstream_endpoint(m, &t, &ep, &owned, e) < 0) {
			e->http_status = 500;
			return -1;
		}
		if (rg_manifest_get(ep, reference, &up, e) < 0) {
			upstream_failure(m, "MANIFEST_UNKNOWN", ret_code, e);
		} else if (from_blob(&up, NULL, "upstream", ret, e) < 0) {
			*ret_code = "MANIFEST_INVALID";
			e->http_status = 502;
		} else {
			rc = 0;
		}
		rg_manifest_blob_clear(&up);
		if (owned)
			rg_endpoint_free(ep);
		return rc;
	}
	return manifest_by_tag(m, &t, name, ns, reference, ret, ret_code, e);
}

static int tag_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every tag of ep, sorted, following the upstream's own pages (Debian's
 * Distribution 2.8 has none; others do), bounded. */
static int all_tags(struct rg_endpoint *ep, struct rg_tag_page *ret, struct err *e)
{
	struct rg_tag_page all = {0}, page = {0};
	size_t pages = 0, i;
	char *after = NULL;
	char **grown;
	int rc = -1;

	do {
		if (rg_tags_list(ep, UPSTREAM_TAG_PAGE, after, &page, e) < 0)
			goto out;
		if (all.n + page.n > MR_TAGS_MAX || ++pages > UPSTREAM_TAG_PAGES) {
			err_set(e, ERR_INPUT, "%s has more than %d tags; the mirror lists no more",
				rg_endpoint_repository(ep), MR_TAGS_MAX);
			goto out;
		}
		grown = realloc(all.tags, (all.n + page.n + 1) * sizeof(*grown));
		if (!grown) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
		all.tags = grown;
		for (i = 0; i < page.n; i++) {
			all.tags[all.n++] = page.tags[i];
			page.tags[i] = NULL; /* transferred */
		}
		free(after);
		after = page.more ? strdup(all.tags[all.n - 1]) : NULL;
		if (page.more && !after) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
		page.n = 0;
		rg_tag_page_clear(&page);
	} while (after);
	if (all.n)
		qsort(all.tags, all.n, sizeof(*all.tags), tag_cmp);
	*ret = all;
	memset(&all, 0, sizeof(all)); /* transferred */
	rc = 0;
out:
	free(after);
	rg_tag_page_clear(&page);
	rg_tag_page_clear(&all);
	return rc;
}

int mr_mirror_tags(struct mr_mirror *m, const char *name, const char *ns, int n, const char *last,
		   struct rg_tag_page *ret, const char **ret_code, struct err *e)
{
	struct mr_target t;
	struct rg_tag_page all = {0};
	struct rg_endpoint *ep;
	bool owned = false;
	size_t start = 0, i, k;
	int rc;

	*ret_code = "UNKNOWN";
	if (mr_route_target(m->cfg, name, ns, &t, e) < 0) {
		*ret_code = "NAME_UNKNOWN";
		return -1;
	}
	if (mr_upstream_endpoint(m, &t, &ep, &owned, e) < 0) {
		e->http_status = 500;
		return -1;
	}
	rc = all_tags(ep, &all, e);
	if (rc == 0) {
		/* The page the client asked for, in lexical order (the
		 * distribution spec's), whatever the upstream's order. */
		while (last && start < all.n && strcmp(all.tags[start], last) <= 0)
			start++;
		k = n > 0 && (size_t)n < all.n - start ? (size_t)n : all.n - start;
		for (i = 0; i < all.n; i++)
			if (i < start || i >= start + k) {
				free(all.tags[i]);
				all.tags[i] = NULL;
			}
		memmove(all.tags, all.tags + start, k * sizeof(*all.tags));
		all.more = start + k < all.n;
		all.n = k;
		*ret = all;
	} else {
		if (e->cls == ERR_INPUT && !e->http_status) {
			*ret_code = "UNKNOWN";
			e->http_status = 502;
		} else {
			upstream_failure(m, "NAME_UNKNOWN", ret_code, e);
		}
	}
	if (owned)
		rg_endpoint_free(ep);
	return rc;
}

/* ---- blobs ---- */

void mr_blob_release(struct mr_blob *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	if (b->owned)
		rg_endpoint_free(b->upstream);
	b->fd = -1;
	b->upstream = NULL;
	b->owned = false;
}

int mr_mirror_blob(struct mr_mirror *m, const char *name, const char *ns, const char *digest,
		   struct mr_blob *ret, const char **ret_code, struct err *e)
{
	struct mr_target t;
	struct mr_blob b = {.fd = -1};
	int r;

	*ret_code = "UNKNOWN";
	if (mr_route_target(m->cfg, name, ns, &t, e) < 0) {
		*ret_code = "NAME_UNKNOWN";
		return -1;
	}
	if (rg_endpoint_is_layout(m->store)) {
		r = rg_blob_open(m->store, digest, &b.fd, &b.size, e);
	} else {
		/* A registry store: streamed from it when it has the blob. */
		r = rg_blob_size(m->store, digest, &b.size, e);
		if (r == 1) {
			b.upstream = m->store;
			b.from_store = true;
		}
	}
	if (r < 0) {
		e->http_status = 500;
		return -1;
	}
	if (r == 1) {
		COUNT(m, store_blob_hits, 1);
		*ret = b;
		return 0;
	}
	err_clear(e);
	if (mr_upstream_endpoint(m, &t, &b.upstream, &b.owned, e) < 0) {
		e->http_status = 500;
		return -1;
	}
	r = rg_blob_size(b.upstream, digest, &b.size, e);
	if (r <= 0) {
		if (r == 0) {
			err_set(e, ERR_OPERATIONAL, "%s: blob %s is unknown here and upstream", name,
				digest);
			e->http_status = 404;
			*ret_code = "BLOB_UNKNOWN";
		} else {
			upstream_failure(m, "BLOB_UNKNOWN", ret_code, e);
		}
		mr_blob_release(&b);
		return -1;
	}
	*ret = b;
	return 0;
}
