/* mirror.c - see mirror.h. */
#include "mirror.h"

#include <errno.h>
#include <fcntl.h>
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

#define TAG_BUCKETS 4096
#define TAG_ENTRIES_MAX 8192
#define TAG_CACHE_BYTES (32u * 1024 * 1024) /* manifests kept in all entries */
#define ENDPOINTS_MAX 1024
#define KEY_MAX (MR_UPSTREAM_NAME_MAX + MR_NAME_MAX + MR_REFERENCE_MAX + 8)
#define MR_TAGS_MAX 100000
#define UPSTREAM_TAG_PAGE 1000
#define UPSTREAM_TAG_PAGES 200
#define COMPLETED_SLOTS 1024 /* results known complete in a registry store */

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

/* An upstream repository endpoint, kept open so its connections and
 * tokens are reused. */
struct upstream_ep {
	char *key; /* "UPSTREAM/REPOSITORY" */
	struct rg_endpoint *ep;
};

/* One upstream blob on its way into the store, spooled to an unlinked file
 * as it passes, so that every client asking for it meanwhile reads the one
 * download at its own pace: the download never waits for a slow client,
 * and twenty first pulls fetch it once. The spool gets the blob's last
 * bytes only after they matched the digest (rg_blob_tee), so no reader
 * gets a tampered blob whole. */
enum flight_state { FLIGHT_RUNNING, FLIGHT_DONE, FLIGHT_FAILED };

struct blob_flight {
	struct blob_flight *next;
	struct mr_mirror *m;
	char digest[MF_DIGEST_MAX];
	struct rg_endpoint *upstream; /* from the endpoint cache, which outlives it */
	int64_t size;
	int fd;                /* the spool */
	uint64_t written;      /* bytes in the spool; under m->lock */
	enum flight_state state;
	bool spool_broken;     /* a write to the spool failed: readers fail */
	unsigned refs;         /* the filling thread and each reader */
	pthread_cond_t more;   /* written, state or spool_broken changed */
	char why[ERR_MSG_MAX]; /* FLIGHT_FAILED: the download's error */
};

/* A result a registry store holds as blobs only (see "completing results"
 * below), being completed by a thread of its own. */
struct completion {
	struct completion *next;
	struct mr_mirror *m;
	struct mr_target target;
	char digest[MF_DIGEST_MAX];
};

struct mr_mirror {
	const struct mr_config *cfg;
	struct rg_options upstream_opts[MR_MAX_UPSTREAMS];
	struct rg_options store_opts;
	struct rg_endpoint *store;
	void (*warn)(const char *msg);

	pthread_mutex_t lock; /* the tag table, the endpoints */
	pthread_cond_t changed; /* a busy entry became free */
	struct tag_entry *buckets[TAG_BUCKETS];
	size_t n_entries;
	size_t cached_bytes; /* of the entries' results */
	struct upstream_ep eps[ENDPOINTS_MAX];
	size_t n_eps;
	struct blob_flight *flights; /* blobs being fetched into the store */
	struct completion *completions; /* results being completed in a registry store */
	unsigned fills;              /* threads of flights and completions still running */
	bool quiescing;              /* stopping: no new completions */
	/* Digests this process made or found complete in a registry store,
	 * by hash; a slot overwritten costs one more check, never a wrong
	 * answer. */
	char completed[COMPLETED_SLOTS][MF_DIGEST_MAX];

	pthread_mutex_t sign_lock; /* signature images are read-modify-write */
	struct mr_stats stats;
};

#define COUNT(m, field, n) __atomic_add_fetch(&(m)->stats.field, (n), __ATOMIC_RELAXED)

static time_t now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void warnf(struct mr_mirror *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct mr_mirror *m, const char *fmt, ...)
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

/* The endpoint for t's repository, kept for later requests while there is
 * room (*ret_owned false), else a fresh one for the caller to free. */
static int upstream_endpoint(struct mr_mirror *m, const struct mr_target *t,
			     struct rg_endpoint **ret, bool *ret_owned, struct err *e)
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

/* 1 found in the store, 0 not there, -1 error. */
static int store_read(struct mr_mirror *m, const char *reference, struct mr_manifest *ret,
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

static void complete_later(struct mr_mirror *m, const struct mr_target *t, const char *digest);

/* store_read, counted. A result read from a registry store is completed
 * unless known complete: it may be pending (a completion failed, another
 * replica made it), and Distribution serves a manifest that is only a blob
 * as a manifest (it looks in _layers too), so being found says nothing. */
static int store_manifest(struct mr_mirror *m, const struct mr_target *t, const char *reference,
			  struct mr_manifest *ret, struct err *e)
{
	int found = store_read(m, reference, ret, e);

	if (found == 1) {
		COUNT(m, store_manifest_hits, 1);
		if (!rg_endpoint_is_layout(m->store) && mf_digest_valid(reference))
			complete_later(m, t, ret->digest);
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

static unsigned long hash_key(const char *s)
{
	unsigned long h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % TAG_BUCKETS;
}

/* Under m->lock: the entry for key, made when missing (NULL on ENOMEM).
 * When the table is full the oldest idle entry goes. */
static struct tag_entry *entry_get(struct mr_mirror *m, const char *key)
{
	unsigned long b = hash_key(key);
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
	 * thread (complete_later) since it refuses a manifest whose blobs it
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

	if (upstream_endpoint(m, t, &ep, &owned, e) < 0) {
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
		warnf(m, "%s:%s kept unchanged: %s", name, tag, e->msg);
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
		if (upstream_endpoint(m, &t, &ep, &owned, e) < 0) {
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
	if (upstream_endpoint(m, &t, &ep, &owned, e) < 0) {
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
	if (upstream_endpoint(m, &t, &b.upstream, &b.owned, e) < 0) {
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

struct chunks {
	rg_chunk_fn sink;
	void *ctx;
};

/* rg_blob_stream's consumer: every chunk read to the sink. */
static int to_chunks(void *arg, rg_read_fn read, void *src, struct err *e)
{
	struct chunks *c = arg;
	char buf[64 * 1024];
	ssize_t n;

	while ((n = read(src, buf, sizeof(buf), e)) > 0)
		if (c->sink(c->ctx, buf, (size_t)n) < 0)
			return err_set(e, ERR_OPERATIONAL, "the client went away");
	return n < 0 ? -1 : 0;
}

/* The upstream's blob to sink while the store keeps it, counted. */
static int tee_upstream(struct mr_mirror *m, struct rg_endpoint *upstream, const char *digest,
			int64_t size, rg_chunk_fn sink, void *ctx, struct err *e)
{
	struct rg_stats st = {0};
	int rc;

	COUNT(m, upstream_blob_streams, 1);
	rc = rg_blob_tee(upstream, m->store, digest, size, sink, ctx, &st, e);
	COUNT(m, bytes_from_upstream, st.bytes_downloaded);
	if (rc < 0) {
		COUNT(m, upstream_blob_failures, 1);
		COUNT(m, upstream_errors, 1);
		warnf(m, "blob %s: %s", digest, e->msg);
	}
	return rc;
}

/* ---- coalesced upstream blobs (struct blob_flight) ---- */

static const char *spool_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/var/tmp";
}

/* Under m->lock. */
static void flight_unref(struct blob_flight *f)
{
	if (--f->refs > 0)
		return;
	close(f->fd);
	pthread_cond_destroy(&f->more);
	free(f);
}

/* rg_blob_tee's sink for a flight: into the spool, never refusing (a
 * reader going away is the reader's business; the store gets the blob). */
static int spool_sink(void *ctx, const void *data, size_t n)
{
	struct blob_flight *f = ctx;
	struct mr_mirror *m = f->m;
	const char *p = data;
	uint64_t off = f->written; /* only this thread changes it */
	size_t left = n;
	bool broken = f->spool_broken;

	if (!broken && off + n > (uint64_t)f->size)
		broken = true; /* more than announced: the tee fails it too */
	while (!broken && left > 0) {
		ssize_t w = pwrite(f->fd, p, left, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			broken = true;
			break;
		}
		p += w;
		off += (uint64_t)w;
		left -= (size_t)w;
	}
	pthread_mutex_lock(&m->lock);
	if (broken)
		f->spool_broken = true;
	else
		f->written = off;
	pthread_cond_broadcast(&f->more);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static void *fill_thread(void *arg)
{
	struct blob_flight *f = arg, **pp;
	struct mr_mirror *m = f->m;
	struct err e;
	int rc;

	err_clear(&e);
	rc = tee_upstream(m, f->upstream, f->digest, f->size, spool_sink, f, &e);
	pthread_mutex_lock(&m->lock);
	f->state = rc == 0 ? FLIGHT_DONE : FLIGHT_FAILED;
	snprintf(f->why, sizeof(f->why), "%s", e.msg);
	for (pp = &m->flights; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next; /* the store has it now, or a new request tries again */
			break;
		}
	pthread_cond_broadcast(&f->more);
	flight_unref(f);
	m->fills--;
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* Under m->lock: the flight of digest, joined, or a new one started with
 * this caller as its first reader. NULL when none can be had (no spool
 * file, no thread): the caller streams on its own. A client joining is
 * counted; a completion is not. */
static struct blob_flight *flight_join(struct mr_mirror *m, const struct mr_blob *b,
				       const char *digest, bool client)
{
	struct blob_flight *f;
	pthread_attr_t attr;
	pthread_t thread;
	int ok;

	for (f = m->flights; f; f = f->next)
		if (strcmp(f->digest, digest) == 0) {
			f->refs++;
			if (client)
				COUNT(m, coalesced_blob_readers, 1);
			return f;
		}
	if (!(f = calloc(1, sizeof(*f))))
		return NULL;
	f->fd = open(spool_dir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		free(f);
		return NULL;
	}
	f->m = m;
	snprintf(f->digest, sizeof(f->digest), "%s", digest);
	f->upstream = b->upstream;
	f->size = b->size;
	f->refs = 2;
	pthread_cond_init(&f->more, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ok = pthread_create(&thread, &attr, fill_thread, f) == 0;
	pthread_attr_destroy(&attr);
	if (!ok) {
		f->refs = 1;
		flight_unref(f);
		return NULL;
	}
	m->fills++;
	f->next = m->flights;
	m->flights = f;
	return f;
}

/* One reader of a flight: the spool's bytes to sink as they arrive. */
static int flight_read(struct mr_mirror *m, struct blob_flight *f, rg_chunk_fn sink, void *ctx,
		       struct err *e)
{
	char buf[64 * 1024];
	uint64_t off = 0, avail;
	enum flight_state state;
	bool broken;
	ssize_t n;
	int rc;

	for (;;) {
		pthread_mutex_lock(&m->lock);
		while (f->written == off && f->state == FLIGHT_RUNNING && !f->spool_broken)
			pthread_cond_wait(&f->more, &m->lock);
		avail = f->written - off;
		state = f->state;
		broken = f->spool_broken;
		pthread_mutex_unlock(&m->lock);
		if (broken) {
			rc = err_set(e, ERR_OPERATIONAL,
				     "blob %s: writing the spool its readers share failed (is %s "
				     "full?)",
				     f->digest, spool_dir());
			break;
		}
		if (avail == 0) {
			if (state == FLIGHT_DONE && off == (uint64_t)f->size)
				rc = 0;
			else
				rc = err_set(e, ERR_OPERATIONAL, "%s", f->why);
			break;
		}
		n = pread(f->fd, buf, avail < sizeof(buf) ? (size_t)avail : sizeof(buf),
			  (off_t)off);
		if (n <= 0) {
			rc = err_set(e, ERR_OPERATIONAL, "blob %s: reading its spool failed",
				     f->digest);
			break;
		}
		if (sink(ctx, buf, (size_t)n) < 0) {
			rc = err_set(e, ERR_OPERATIONAL, "the client went away");
			break;
		}
		off += (uint64_t)n;
	}
	pthread_mutex_lock(&m->lock);
	flight_unref(f);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* A flight's end, for one that does not read it: 0 when the store has the
 * blob. */
static int flight_wait(struct mr_mirror *m, struct blob_flight *f, struct err *e)
{
	int rc;

	pthread_mutex_lock(&m->lock);
	while (f->state == FLIGHT_RUNNING)
		pthread_cond_wait(&f->more, &m->lock);
	rc = f->state == FLIGHT_DONE ? 0 : err_set(e, ERR_OPERATIONAL, "%s", f->why);
	flight_unref(f);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---- completing results in a registry store (struct completion) ----
 *
 * A registry refuses a manifest whose blobs it lacks, and a first pull
 * must not wait for the base layers: they stream to the client from the
 * upstream as it asks for them (DESIGN.md section 9). So instrument()
 * leaves each result manifest in a registry store as a blob of the same
 * bytes (rw_instrument's lazy_store), served from there by digest by any
 * replica, and a thread then brings the base blobs into the store (joining
 * the shared download when clients are reading one, so each comes down
 * once) and puts the manifests, children before their index. A completion
 * that stops short (the upstream failing, the mirror stopping) leaves the
 * result pending; the next read of it starts another. */

static int discard(void *ctx, const void *data, size_t n)
{
	(void)ctx;
	(void)data;
	(void)n;
	return 0;
}

/* One blob of a result into the store, unless there. */
static int complete_blob(struct mr_mirror *m, struct rg_endpoint *upstream, bool owned,
			 const struct mf_descriptor *d, struct err *e)
{
	struct mr_blob b = {.fd = -1, .upstream = upstream, .owned = owned, .size = d->size};
	struct blob_flight *f = NULL;
	int64_t size;
	int r = rg_blob_size(m->store, d->digest, &size, e);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (!owned) {
		pthread_mutex_lock(&m->lock);
		f = flight_join(m, &b, d->digest, false);
		pthread_mutex_unlock(&m->lock);
	}
	if (f)
		return flight_wait(m, f, e);
	return tee_upstream(m, upstream, d->digest, d->size, discard, NULL, e);
}

/* Under m->lock: the slot of digest in m->completed. */
static char *completed_slot(struct mr_mirror *m, const char *digest)
{
	unsigned long h = 5381;
	const char *p;

	for (p = digest; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return m->completed[h % COMPLETED_SLOTS];
}

static bool known_complete(struct mr_mirror *m, const char *digest)
{
	return strcmp(completed_slot(m, digest), digest) == 0;
}

static void mark_complete(struct mr_mirror *m, const char *digest)
{
	pthread_mutex_lock(&m->lock);
	snprintf(completed_slot(m, digest), MF_DIGEST_MAX, "%s", digest);
	pthread_mutex_unlock(&m->lock);
}

/* The manifest `digest` made whole in the store: its blobs (an index: its
 * children, completed first), then the manifest itself (again, when it
 * was there: a put of the same bytes changes nothing). */
static int complete_manifest(struct mr_mirror *m, struct rg_endpoint *upstream, bool owned,
			     const char *digest, bool child, struct err *e)
{
	struct mr_manifest mf = {0};
	struct mf_manifest *parsed = NULL;
	const struct mf_descriptor *d;
	size_t i;
	int rc = -1, found;

	if (child) {
		pthread_mutex_lock(&m->lock);
		found = known_complete(m, digest);
		pthread_mutex_unlock(&m->lock);
		if (found)
			return 0; /* a child two indexes share */
	}
	found = store_read(m, digest, &mf, e);
	if (found <= 0) {
		if (found == 0)
			err_set(e, ERR_OPERATIONAL, "the store has no manifest or blob %s", digest);
		return -1;
	}
	if (mf_manifest_parse(mf.data, mf.len, mf.media_type, &parsed, e) < 0)
		goto out;
	if (mf_manifest_kind(parsed) == MF_KIND_INDEX && child) {
		err_set(e, ERR_INPUT, "%s: an index within an index is not a result of inlay's",
			digest);
		goto out;
	}
	for (i = 0; i < mf_manifest_child_count(parsed); i++)
		if (complete_manifest(m, upstream, owned, mf_manifest_child(parsed, i)->digest, true,
				      e) < 0)
			goto out;
	for (i = 0; mf_manifest_kind(parsed) != MF_KIND_INDEX; i++) {
		d = i == 0 ? mf_manifest_config(parsed) : mf_manifest_layer(parsed, i - 1);
		if (!d || i > mf_manifest_layer_count(parsed))
			break;
		if (__atomic_load_n(&m->quiescing, __ATOMIC_RELAXED)) {
			err_set(e, ERR_OPERATIONAL, "the mirror is stopping");
			goto out;
		}
		if (complete_blob(m, upstream, owned, d, e) < 0)
			goto out;
	}
	if (rg_manifest_put(m->store, digest, mf.data, mf.len, mf.media_type, e) < 0)
		goto out;
	mark_complete(m, digest);
	if (!child)
		COUNT(m, results_completed, 1);
	rc = 0;
out:
	mf_manifest_free(parsed);
	mr_manifest_clear(&mf);
	return rc;
}

static void *complete_thread(void *arg)
{
	struct completion *c = arg, **pp;
	struct mr_mirror *m = c->m;
	struct rg_endpoint *upstream = NULL;
	bool owned = false;
	struct err e;

	err_clear(&e);
	if (upstream_endpoint(m, &c->target, &upstream, &owned, &e) < 0 ||
	    complete_manifest(m, upstream, owned, c->digest, false, &e) < 0) {
		COUNT(m, completion_failures, 1);
		warnf(m, "completing %s in the store: %s", c->digest, e.msg);
	}
	if (owned)
		rg_endpoint_free(upstream);
	pthread_mutex_lock(&m->lock);
	for (pp = &m->completions; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	m->fills--;
	pthread_cond_broadcast(&m->changed);
	pthread_mutex_unlock(&m->lock);
	free(c);
	return NULL;
}

/* Start completing result `digest` of target t, unless it is under way. */
static void complete_later(struct mr_mirror *m, const struct mr_target *t, const char *digest)
{
	struct completion *c;
	pthread_attr_t attr;
	pthread_t thread;
	bool ok;

	pthread_mutex_lock(&m->lock);
	for (c = m->completions; c; c = c->next)
		if (strcmp(c->digest, digest) == 0)
			break;
	if (c || known_complete(m, digest) || __atomic_load_n(&m->quiescing, __ATOMIC_RELAXED) || !(c = calloc(1, sizeof(*c)))) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	c->m = m;
	c->target = *t;
	snprintf(c->digest, sizeof(c->digest), "%s", digest);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ok = pthread_create(&thread, &attr, complete_thread, c) == 0;
	pthread_attr_destroy(&attr);
	if (ok) {
		c->next = m->completions;
		m->completions = c;
		m->fills++;
	} else {
		free(c); /* the next read of it tries again */
	}
	pthread_mutex_unlock(&m->lock);
}

void mr_mirror_quiesce(struct mr_mirror *m)
{
	if (m)
		__atomic_store_n(&m->quiescing, true, __ATOMIC_RELAXED);
}

unsigned mr_mirror_busy(struct mr_mirror *m)
{
	unsigned n;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	n = m->fills;
	pthread_mutex_unlock(&m->lock);
	return n;
}

int mr_mirror_blob_stream(struct mr_mirror *m, const struct mr_blob *b, const char *digest,
			  rg_chunk_fn sink, void *sink_ctx, struct err *e)
{
	struct blob_flight *f = NULL;
	int rc;

	if (b->from_store) {
		struct chunks c = {sink, sink_ctx};

		rc = rg_blob_stream(m->store, digest, b->size, to_chunks, &c, NULL, e);
		if (rc < 0)
			warnf(m, "blob %s from the store: %s", digest, e->msg);
		return rc;
	}
	/* An endpoint of the request's own (the cache was full) cannot
	 * outlive it: such a stream is not shared. */
	if (!b->owned) {
		pthread_mutex_lock(&m->lock);
		f = flight_join(m, b, digest, true);
		pthread_mutex_unlock(&m->lock);
	}
	if (f)
		return flight_read(m, f, sink, sink_ctx, e);
	return tee_upstream(m, b->upstream, digest, b->size, sink, sink_ctx, e);
}
