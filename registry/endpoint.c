/* endpoint.c - one place images are read from or written to, whichever the
 * transport; the digest checks every reader relies on live here, once. */
#include "registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../layers/hash.h"
#include "../manifest/digest.h"
#include "../manifest/mediatype.h"
#include "../manifest/ref.h"
#include "fetch.h"
#include "transport.h"

#define LAYOUT_PREFIX "oci:"

/* Small blobs (configs) read from a registry, by digest: the same config
 * is asked for by every tag of an image and by a plan and its run, and a
 * digest's bytes never change. Least recently used out. */
#define CACHE_ENTRIES 16
#define CACHE_BLOB_MAX (256 * 1024)
struct blob_cache {
	pthread_mutex_t lock;
	struct {
		char digest[MF_DIGEST_MAX];
		char *data;
		size_t len;
		unsigned long used;
	} slot[CACHE_ENTRIES];
	unsigned long clock;
};

struct rg_endpoint {
	const struct rg_options *opt; /* borrowed */
	const struct rg_transport_ops *ops;
	struct rg_transport *transport;
	bool layout;
	char *display;    /* as given */
	char *repository; /* "host/path" or "oci:PATH" */
	char *host;       /* registry domain, NULL for layouts */
	char *path;       /* repository path, or layout directory */
	char *tag;        /* NULL when none given */
	char *digest;     /* NULL when none given */
	char *reference;  /* digest, else tag, else "latest" */
	bool borrowed;    /* transport and cache are another endpoint's (rg_endpoint_at) */
	struct blob_cache *cache; /* registries only */
};

static void cache_free(struct blob_cache *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CACHE_ENTRIES; i++)
		free(c->slot[i].data);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Copy a cached blob into out: 1, or 0 when not cached (or too big for out). */
static int cache_get(struct blob_cache *c, const char *digest, struct buf *out)
{
	size_t i;
	int found = 0;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CACHE_ENTRIES && !found; i++)
		if (c->slot[i].data && strcmp(c->slot[i].digest, digest) == 0 &&
		    buf_append(out, c->slot[i].data, c->slot[i].len) == 0) {
			c->slot[i].used = ++c->clock;
			found = 1;
		}
	pthread_mutex_unlock(&c->lock);
	return found;
}

static void cache_put(struct blob_cache *c, const char *digest, const void *data, size_t len)
{
	size_t i, victim = 0;
	char *copy;

	if (!c || len > CACHE_BLOB_MAX || !(copy = malloc(len ? len : 1)))
		return;
	memcpy(copy, data, len);
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CACHE_ENTRIES; i++)
		if (!c->slot[i].data || c->slot[i].used < c->slot[victim].used)
			victim = i;
	for (i = 0; i < CACHE_ENTRIES; i++)
		if (c->slot[i].data && strcmp(c->slot[i].digest, digest) == 0)
			victim = i; /* another thread was quicker: same bytes */
	free(c->slot[victim].data);
	c->slot[victim].data = copy;
	c->slot[victim].len = len;
	c->slot[victim].used = ++c->clock;
	snprintf(c->slot[victim].digest, MF_DIGEST_MAX, "%s", digest);
	pthread_mutex_unlock(&c->lock);
}

void rg_options_init(struct rg_options *o)
{
	memset(o, 0, sizeof(*o));
	o->jobs = 4;
	o->max_attempts = 5;
	o->stall_timeout = 60;
}

int rg_global_init(struct err *e)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(e, ERR_OPERATIONAL, "cannot initialise libcurl");
	return 0;
}

void rg_global_cleanup(void)
{
	curl_global_cleanup();
}

void rg_endpoint_free(struct rg_endpoint *ep)
{
	if (!ep)
		return;
	if (ep->ops && ep->transport && !ep->borrowed)
		ep->ops->free(ep->transport);
	if (!ep->borrowed)
		cache_free(ep->cache);
	free(ep->display);
	free(ep->repository);
	free(ep->host);
	free(ep->path);
	free(ep->tag);
	free(ep->digest);
	free(ep->reference);
	free(ep);
}

/* "oci:PATH[:TAG]" or "oci:PATH@DIGEST". As in skopeo, PATH holds no ':'. */
static int layout_parse(struct rg_endpoint *ep, const char *spec, struct err *e)
{
	const char *at = strchr(spec, '@');
	const char *colon = strchr(spec, ':');
	size_t pathlen;

	if (at) {
		if (mf_digest_check(at + 1, "digest", e) < 0)
			return err_prefix(e, "oci:%.200s", spec);
		pathlen = (size_t)(at - spec);
		ep->digest = strdup(at + 1);
	} else if (colon) {
		if (!mf_tag_valid(colon + 1))
			return err_set(e, ERR_INPUT,
				       "oci:%.200s: '%.130s' is not a valid tag (letters, digits, '_', '.', "
				       "'-'; at most 128)",
				       spec, colon + 1);
		pathlen = (size_t)(colon - spec);
		ep->tag = strdup(colon + 1);
	} else {
		pathlen = strlen(spec);
	}
	if (pathlen == 0)
		return err_set(e, ERR_INPUT, "oci:%.200s: the layout directory is missing (oci:PATH[:TAG])",
			       spec);
	ep->path = strndup(spec, pathlen);
	if (!ep->path)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (asprintf(&ep->repository, LAYOUT_PREFIX "%s", ep->path) < 0) {
		ep->repository = NULL;
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	return 0;
}

int rg_endpoint_open(const char *ref, const struct rg_options *opt, struct rg_endpoint **ret_ep,
		     struct err *e)
{
	struct rg_endpoint *ep;
	struct mf_ref *r = NULL;
	int rc = -1;

	ep = calloc(1, sizeof(*ep));
	if (!ep || !(ep->display = strdup(ref))) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	ep->opt = opt;
	if (strncmp(ref, LAYOUT_PREFIX, strlen(LAYOUT_PREFIX)) == 0) {
		ep->layout = true;
		if (layout_parse(ep, ref + strlen(LAYOUT_PREFIX), e) < 0)
			goto out;
		if (rg_layout_open(ep->path, opt, &ep->transport, &ep->ops, e) < 0)
			goto out;
	} else {
		if (mf_ref_parse(ref, &r, e) < 0)
			goto out;
		ep->host = strdup(r->domain);
		ep->path = strdup(r->path);
		ep->repository = mf_ref_repository(r);
		if (r->tag)
			ep->tag = strdup(r->tag);
		if (r->digest)
			ep->digest = strdup(r->digest);
		if (!ep->host || !ep->path || !ep->repository) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
		if (!(ep->cache = calloc(1, sizeof(*ep->cache)))) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
		pthread_mutex_init(&ep->cache->lock, NULL);
		if (rg_distribution_open(mf_ref_api_host(r), r->path, mf_ref_auth_key(r),
					 mf_ref_is_loopback(r), opt, &ep->transport, &ep->ops, e) < 0) {
			err_prefix(e, "%s", ep->repository);
			goto out;
		}
	}
	ep->reference = strdup(ep->digest ? ep->digest : ep->tag ? ep->tag : "latest");
	if (!ep->reference) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	*ret_ep = ep;
	ep = NULL; /* transferred */
	rc = 0;
out:
	mf_ref_free(r);
	rg_endpoint_free(ep);
	return rc;
}

bool rg_endpoint_is_layout(const struct rg_endpoint *ep)
{
	return ep->layout;
}

const char *rg_endpoint_reference(const struct rg_endpoint *ep)
{
	return ep->reference;
}

const char *rg_endpoint_tag(const struct rg_endpoint *ep)
{
	return ep->tag;
}

const char *rg_endpoint_digest(const struct rg_endpoint *ep)
{
	return ep->digest;
}

const char *rg_endpoint_repository(const struct rg_endpoint *ep)
{
	return ep->repository;
}

const char *rg_endpoint_display(const struct rg_endpoint *ep)
{
	return ep->display;
}

bool rg_endpoint_can_mount(const struct rg_endpoint *dst, const struct rg_endpoint *src)
{
	return !dst->layout && !src->layout && dst->ops->blob_mount &&
	       strcmp(dst->host, src->host) == 0 && strcmp(dst->path, src->path) != 0;
}

bool rg_endpoint_same_repository(const struct rg_endpoint *a, const struct rg_endpoint *b)
{
	if (a->layout != b->layout)
		return false;
	if (a->layout)
		return strcmp(a->path, b->path) == 0;
	return strcmp(a->host, b->host) == 0 && strcmp(a->path, b->path) == 0;
}

void rg_manifest_blob_clear(struct rg_manifest_blob *mb)
{
	if (!mb)
		return;
	free(mb->data);
	free(mb->media_type);
	memset(mb, 0, sizeof(*mb));
}

/* Reads whose bytes do not match their digest are tried this many times in
 * all: a proxy or a flaky link may have altered them; a corrupt store fails
 * every time. */
#define VERIFY_ATTEMPTS 5
/* Uploads from memory, tried this many times in all. */
#define UPLOAD_ATTEMPTS 5

static int manifest_get_once(struct rg_endpoint *ep, const char *reference,
			     struct rg_manifest_blob *ret, struct err *e);

int rg_manifest_get(struct rg_endpoint *ep, const char *reference, struct rg_manifest_blob *ret,
		    struct err *e)
{
	int attempt, rc;

	for (attempt = 1;; attempt++) {
		rc = manifest_get_once(ep, reference, ret, e);
		if (rc == 0 || e->cls != ERR_VERIFY || attempt >= VERIFY_ATTEMPTS)
			break;
	}
	if (rc < 0 && e->cls == ERR_VERIFY && attempt > 1)
		err_prefix(e, "after %d attempts", attempt);
	return rc;
}

static int manifest_get_once(struct rg_endpoint *ep, const char *reference,
			     struct rg_manifest_blob *ret, struct err *e)
{
	char computed[LY_DIGEST_MAX];
	char *media_type = NULL, *claimed = NULL;
	struct buf body;
	int rc = -1;

	if (!reference)
		reference = ep->reference;
	buf_init(&body, LIMIT_MANIFEST_BYTES);
	if (ep->ops->manifest_get(ep->transport, reference, &body, &media_type, &claimed, e) < 0)
		goto out;
	/* A manifest is trusted only when its bytes hash to the digest asked
	 * for, or, when asked by tag, to the digest the registry vouches for. */
	ly_sha256_digest(body.data ? body.data : "", body.len, computed);
	if (mf_digest_valid(reference)) {
		if (!ly_digest_matches(reference, body.data ? body.data : "", body.len)) {
			err_set(e, ERR_VERIFY,
				"%s@%s: the manifest received does not match its digest (got %s); the "
				"registry's storage is corrupt or something altered the response",
				ep->repository, reference, computed);
			goto out;
		}
	} else if (claimed && mf_digest_valid(claimed) &&
		   !ly_digest_matches(claimed, body.data ? body.data : "", body.len)) {
		err_set(e, ERR_VERIFY,
			"%s:%s: the manifest received does not match the digest the registry "
			"announced (%s, got %s)",
			ep->repository, reference, claimed, computed);
		goto out;
	}
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->digest, sizeof(ret->digest), "%s",
		 mf_digest_valid(reference) ? reference : computed);
	ret->data = buf_detach(&body, &ret->len);
	if (!ret->data) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	ret->media_type = media_type;
	media_type = NULL; /* transferred */
	rc = 0;
out:
	buf_free(&body);
	free(media_type);
	free(claimed);
	return rc;
}

int rg_manifest_put(struct rg_endpoint *ep, const char *reference, const void *data, size_t len,
		    const char *media_type, struct err *e)
{
	if (mf_digest_valid(reference) && !ly_digest_matches(reference, data, len))
		return err_set(e, ERR_INPUT, "%s: refusing to push a manifest under digest %s it does not have",
			       ep->repository, reference);
	return ep->ops->manifest_put(ep->transport, reference, data, len, media_type, e);
}

int rg_blob_exists(struct rg_endpoint *ep, const char *digest, struct err *e)
{
	return ep->ops->blob_exists(ep->transport, digest, NULL, e);
}

int rg_blob_open(struct rg_endpoint *ep, const char *digest, int *ret_fd, int64_t *ret_size,
		 struct err *e)
{
	if (!ep->ops->blob_open)
		return err_set(e, ERR_OPERATIONAL, "%s: blobs in a registry are not files",
			       ep->repository);
	return ep->ops->blob_open(ep->transport, digest, ret_fd, ret_size, e);
}

void rg_tag_page_clear(struct rg_tag_page *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		free(p->tags[i]);
	free(p->tags);
	memset(p, 0, sizeof(*p));
}

static bool repository_valid(const char *name)
{
	return mf_repo_path_valid(name, strlen(name));
}

/* One page of names, {"KEY": [...]}, from a listing operation; each name
 * checked by valid(). */
static int list_page(struct rg_endpoint *ep, const char *key, const char *what,
		     int (*list)(struct rg_transport *, int, const char *, struct buf *, bool *,
				 struct err *),
		     bool (*valid)(const char *), int n, const char *last, struct rg_tag_page *ret,
		     struct err *e)
{
	struct rg_tag_page page = {0};
	struct buf body;
	json_error_t je;
	json_t *doc = NULL, *names, *v;
	bool more = false;
	size_t i;
	int rc = -1;

	buf_init(&body, LIMIT_MANIFEST_BYTES);
	if (list(ep->transport, n, last, &body, &more, e) < 0)
		goto out;
	doc = json_loadb(body.data ? body.data : "", body.len, JSON_REJECT_DUPLICATES, &je);
	names = json_object_get(doc, key);
	if (!json_is_object(doc) || !(json_is_array(names) || json_is_null(names))) {
		err_set(e, ERR_INPUT, "%s: the %s is not {\"%s\": [...]}", ep->repository, what, key);
		goto out;
	}
	page.tags = calloc(json_array_size(names) + 1, sizeof(*page.tags));
	if (!page.tags) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	json_array_foreach(names, i, v)
	{
		const char *name = json_string_value(v);

		if (!name || !valid(name)) {
			err_set(e, ERR_INPUT, "%s: the %s holds an invalid name '%.100s'",
				ep->repository, what, name ? name : "(not a string)");
			goto out;
		}
		if (!(page.tags[page.n] = strdup(name))) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
		page.n++;
	}
	page.more = more && page.n > 0;
	*ret = page;
	memset(&page, 0, sizeof(page)); /* transferred */
	rc = 0;
out:
	rg_tag_page_clear(&page);
	json_decref(doc);
	buf_free(&body);
	return rc;
}

int rg_tags_list(struct rg_endpoint *ep, int n, const char *last, struct rg_tag_page *ret,
		 struct err *e)
{
	if (!ep->ops->tags_list)
		return err_set(e, ERR_INPUT, "%s: cannot list tags here", ep->repository);
	return list_page(ep, "tags", "tag list", ep->ops->tags_list, mf_tag_valid, n, last, ret, e);
}

int rg_catalog_list(struct rg_endpoint *ep, int n, const char *last, struct rg_tag_page *ret,
		    struct err *e)
{
	if (!ep->ops->catalog)
		return err_set(e, ERR_INPUT,
			       "%s: repositories are listed from registries only (an OCI layout "
			       "is one repository)",
			       ep->repository);
	return list_page(ep, "repositories", "catalog", ep->ops->catalog, repository_valid, n,
			 last, ret, e);
}

int rg_manifest_delete(struct rg_endpoint *ep, const char *digest, struct err *e)
{
	if (mf_digest_check(digest, "digest", e) < 0)
		return err_prefix(e, "%s", ep->repository);
	if (!ep->ops->manifest_delete)
		return err_set(e, ERR_INPUT, "%s: cannot delete manifests here", ep->repository);
	return ep->ops->manifest_delete(ep->transport, digest, e);
}

int rg_endpoint_at(struct rg_endpoint *ep, const char *reference, struct rg_endpoint **ret,
		   struct err *e)
{
	struct rg_endpoint *n = calloc(1, sizeof(*n));
	bool digest = strchr(reference, ':') != NULL;

	if (!n)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (digest ? mf_digest_check(reference, "digest", e) < 0 : !mf_tag_valid(reference)) {
		free(n);
		if (!digest)
			err_set(e, ERR_INPUT, "'%.130s' is not a valid tag", reference);
		return err_prefix(e, "%s", ep->repository);
	}
	*n = *ep;
	n->borrowed = true;
	n->tag = n->digest = n->display = n->host = NULL;
	n->repository = strdup(ep->repository);
	n->path = strdup(ep->path);
	n->host = ep->host ? strdup(ep->host) : NULL;
	n->reference = strdup(reference);
	if (digest)
		n->digest = strdup(reference);
	else
		n->tag = strdup(reference);
	if (n->repository && asprintf(&n->display, "%s%s%s", n->repository, digest ? "@" : ":",
				      reference) < 0)
		n->display = NULL;
	if (!n->repository || !n->path || (ep->host && !n->host) || !n->reference ||
	    !(n->digest || n->tag) || !n->display) {
		rg_endpoint_free(n);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	*ret = n;
	return 0;
}

int rg_blob_size(struct rg_endpoint *ep, const char *digest, int64_t *ret_size, struct err *e)
{
	int64_t size = -1;
	int r = ep->ops->blob_exists(ep->transport, digest, &size, e);

	if (r == 1 && size < 0)
		return err_set(e, ERR_OPERATIONAL, "%s@%s: the registry gave no size for the blob",
			       ep->repository, digest);
	if (r == 1)
		*ret_size = size;
	return r;
}

static int sink_to_buf(void *ctx, const void *data, size_t n)
{
	return buf_append(ctx, data, n);
}

int rg_blob_get(struct rg_endpoint *ep, const char *digest, struct buf *out, struct err *e)
{
	int attempt;

	buf_reset(out);
	if (cache_get(ep->cache, digest, out))
		return 0;
	for (attempt = 1;; attempt++) {
		buf_reset(out);
		if (rg_fetch_resuming(ep->ops, ep->transport, digest, 0, sink_to_buf, out, e) <
		    0) {
			if (out->len >= out->max)
				err_set(e, ERR_INPUT,
					"%s@%s: blob larger than %zu bytes, which inlay refuses here",
					ep->repository, digest, out->max);
			return -1;
		}
		if (ly_digest_matches(digest, out->data ? out->data : "", out->len))
			break;
		if (attempt >= VERIFY_ATTEMPTS)
			return err_set(e, ERR_VERIFY,
				       "%s@%s: the blob received does not match its digest (%d times); "
				       "the registry's storage is corrupt or something alters the "
				       "responses",
				       ep->repository, digest, attempt);
	}
	cache_put(ep->cache, digest, out->data ? out->data : "", out->len);
	return 0;
}

/* An upload source that can start again: rewind() before each attempt.
 * err (may be NULL) is where the source says why it failed: such a
 * failure is not the way's, and no new attempt would cure it. */
struct rewindable {
	rg_source_fn read;
	void (*rewind)(void *ctx);
	void *ctx;
	struct err *err;
};

/* Upload a blob unless present, trying again from the start on a failure
 * of the way: the HTTP layer does not retry a request whose body was
 * sent. Each attempt is a new session, after asking whether the last one
 * landed all the same. 1 uploaded, 0 present, -1 error. */
static int put_source(struct rg_endpoint *ep, const char *digest, int64_t size,
		      const struct rewindable *src, struct err *e)
{
	int present, attempt;

	present = ep->ops->blob_exists(ep->transport, digest, NULL, e);
	if (present < 0)
		return -1;
	if (present)
		return 0;
	for (attempt = 1;; attempt++) {
		struct err ignored;

		src->rewind(src->ctx);
		if (ep->ops->blob_upload(ep->transport, digest, size, src->read, src->ctx, e) == 0)
			return 1;
		if (src->err && src->err->msg[0]) {
			*e = *src->err;
			return err_prefix(e, "store %s in %s", digest, ep->repository);
		}
		if (e->cls != ERR_OPERATIONAL || attempt >= UPLOAD_ATTEMPTS)
			return attempt > 1 ? err_prefix(e, "after %d attempts", attempt) : -1;
		usleep(100000u << attempt);
		if (ep->ops->blob_exists(ep->transport, digest, NULL, &ignored) == 1)
			return 1;
	}
}

struct memory_source {
	const char *data;
	size_t len, pos;
};

static ssize_t source_from_memory(void *ctx, void *data, size_t n)
{
	struct memory_source *m = ctx;
	size_t left = m->len - m->pos;

	if (n > left)
		n = left;
	memcpy(data, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static void rewind_memory(void *ctx)
{
	((struct memory_source *)ctx)->pos = 0;
}

int rg_blob_put(struct rg_endpoint *ep, const char *digest, const void *data, size_t len,
		struct err *e)
{
	struct memory_source m = {data, len, 0};
	struct rewindable src = {source_from_memory, rewind_memory, &m, NULL};

	if (!ly_digest_matches(digest, data, len))
		return err_set(e, ERR_INPUT, "%s: refusing to push a blob under digest %s it does not have",
			       ep->repository, digest);
	return put_source(ep, digest, (int64_t)len, &src, e);
}

/* A file's first size bytes, hashed as they are read: the read after the
 * last byte (the HTTP layer asks before it sends the last chunk, http.c)
 * fails unless they match the digest, so no upload of bytes that changed
 * in the file commits. */
struct file_source {
	int fd;
	uint64_t size, pos;
	const char *digest;
	struct ly_hash *hash;
	struct err err; /* why a read failed */
};

static ssize_t source_from_file(void *ctx, void *data, size_t n)
{
	struct file_source *f = ctx;
	char got[LY_DIGEST_MAX];
	ssize_t r;

	if (!f->hash) /* its creation failed: rewind_file said why */
		return -1;
	if (f->pos == f->size) {
		ly_hash_final(f->hash, got);
		ly_hash_free(f->hash);
		f->hash = NULL;
		if (strcmp(got, f->digest) == 0)
			return 0;
		err_set(&f->err, ERR_VERIFY, "the file holding blob %s now has %s", f->digest, got);
		return -1;
	}
	if (n > f->size - f->pos)
		n = (size_t)(f->size - f->pos);
	do
		r = pread(f->fd, data, n, (off_t)f->pos);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		err_set(&f->err, ERR_OPERATIONAL, "reading the file holding blob %s: %s", f->digest,
			r < 0 ? strerror(errno) : "it ends early");
		return -1;
	}
	ly_hash_update(f->hash, data, (size_t)r);
	f->pos += (uint64_t)r;
	return r;
}

static void rewind_file(void *ctx)
{
	struct file_source *f = ctx;

	f->pos = 0;
	ly_hash_free(f->hash);
	f->hash = NULL;
	ly_hash_new_for(f->digest, &f->hash, &f->err);
}

int rg_blob_put_fd(struct rg_endpoint *ep, const char *digest, int64_t size, int fd,
		   struct err *e)
{
	struct file_source f = {.fd = fd, .size = (uint64_t)size, .digest = digest};
	struct rewindable src = {source_from_file, rewind_file, &f, &f.err};
	int rc;

	if (size < 0)
		return err_set(e, ERR_INPUT, "%s@%s: negative blob size %lld", ep->repository,
			       digest, (long long)size);
	err_clear(&f.err);
	rc = put_source(ep, digest, size, &src, e);
	ly_hash_free(f.hash);
	return rc;
}

/* For transfer.c: the transport behind an endpoint. */
const struct rg_transport_ops *rg_endpoint_ops(struct rg_endpoint *ep, struct rg_transport **ret_t)
{
	*ret_t = ep->transport;
	return ep->ops;
}

const char *rg_endpoint_path(const struct rg_endpoint *ep)
{
	return ep->path;
}

const struct rg_options *rg_endpoint_options(const struct rg_endpoint *ep)
{
	return ep->opt;
}
