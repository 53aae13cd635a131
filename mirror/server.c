/* server.c - see server.h. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../manifest/buf.h"
#include "../manifest/mediatype.h"
#include "../manifest/ref.h"
#include "../registry/pipe.h"
#include "htpasswd.h"
#include "route.h"

#define API_VERSION_HEADER "Docker-Distribution-API-Version"
#define API_VERSION "registry/2.0"
#define STREAM_PIPE_BYTES (1u << 20)
#define STREAM_BLOCK_BYTES (64u * 1024)
#define THREAD_STACK_BYTES (1u << 20)
#define TLS_FILE_MAX (1u << 20)
/* enum mr_route_kind, then the POST endpoints, and one for paths that did
 * not parse */
#define KIND_POST 7
#define N_KINDS 9
#define N_BUCKETS 12

static const char *const kind_names[N_KINDS] = {"base",    "manifest", "blob",
						"tags",    "referrers", "healthz",
						"metrics", "post",      "invalid"};
static const double latency_bounds[N_BUCKETS - 1] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
						     0.5,   1,    2.5,   5,    10};

struct mr_server {
	const struct mr_config *cfg;
	struct mr_mirror *mirror;
	struct mr_htpasswd *users; /* NULL: no client auth */
	const struct mr_post_route *posts;
	size_t n_posts;
	FILE *log;
	pthread_mutex_t stats_lock;
	struct MHD_Daemon *daemon;
	char *tls_cert, *tls_key;
	unsigned port;

	/* Counters: requests by route kind and status class (2xx..5xx), the
	 * latency histogram, what is in flight. */
	uint64_t requests[N_KINDS][4];
	uint64_t latency_buckets[N_BUCKETS];
	uint64_t latency_count;
	double latency_sum; /* the histogram is under stats_lock */
	int inflight;       /* requests between first call and completion */
	int streams;        /* upstream blob streams still storing */
};

/* One request, from its first call to its completion. */
struct request {
	struct mr_server *s;
	struct timespec t0;
	int kind; /* enum mr_route_kind, or N_KINDS - 1 */
	unsigned status;
	uint64_t size;
	const char *how;
	char user[MR_USER_MAX];
	char digest[MF_DIGEST_MAX];
	const struct mr_post_route *post; /* a POST to it, its body in body */
	struct buf body;
};

/* An upstream blob being streamed to one client while the store keeps it;
 * freed by whichever of the response and the storing thread ends last. */
struct blob_stream {
	struct mr_server *s;
	struct mr_blob blob;
	char digest[MF_DIGEST_MAX];
	struct rg_pipe *pipe;
	bool started;
	int refs;
};

static void add(uint64_t *counter, uint64_t n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

static uint64_t load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* ---- responses ---- */

static enum MHD_Result queue(struct MHD_Connection *c, struct request *rq, unsigned status,
			     struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO; /* out of memory: MHD closes the connection */
	if (rq->kind != MR_ROUTE_HEALTHZ && rq->kind != MR_ROUTE_METRICS)
		MHD_add_response_header(r, API_VERSION_HEADER, API_VERSION);
	rq->status = status;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static struct MHD_Response *text_response(const char *text, const char *content_type)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);

	if (r)
		MHD_add_response_header(r, "Content-Type", content_type);
	return r;
}

/* A distribution error body. The message is ours (never an upstream's
 * headers or a credential): e->msg as built by registry/ and mirror/. */
static enum MHD_Result error_reply(struct MHD_Connection *c, struct request *rq, unsigned status,
				   const char *code, const char *message)
{
	struct MHD_Response *r;
	json_t *o;
	char *text;

	/* json_pack refuses a message that is not UTF-8: then the generic one */
	o = json_pack("{s:[{s:s, s:s, s:n}]}", "errors", "code", code, "message",
		      message ? message : "request failed", "detail");
	if (!o)
		o = json_pack("{s:[{s:s, s:s, s:n}]}", "errors", "code", code, "message",
			      "request failed", "detail");
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	r = text_response(text ? text : "{\"errors\":[]}", "application/json");
	free(text);
	if (r && status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"inlay\"");
	return queue(c, rq, status, r);
}

static enum MHD_Result err_reply(struct MHD_Connection *c, struct request *rq, const char *code,
				 const struct err *e)
{
	unsigned status = e->http_status >= 400 && e->http_status <= 599 ? (unsigned)e->http_status
									  : 500;

	return error_reply(c, rq, status, code ? code : "UNKNOWN", e->msg);
}

static void set_digest_headers(struct MHD_Response *r, const char *digest)
{
	char etag[MF_DIGEST_MAX + 2];

	snprintf(etag, sizeof(etag), "\"%s\"", digest);
	MHD_add_response_header(r, "Docker-Content-Digest", digest);
	MHD_add_response_header(r, "ETag", etag);
}

/* ---- /metrics ---- */

static enum MHD_Result metrics_reply(struct MHD_Connection *c, struct request *rq)
{
	struct mr_server *s = rq->s;
	struct mr_stats st;
	struct buf b;
	uint64_t cumulative = 0;
	enum MHD_Result ret;
	int k, i;

	memset(&st, 0, sizeof(st));
	if (s->mirror)
		mr_mirror_stats(s->mirror, &st);
	buf_init(&b, 1u << 20);
	buf_puts(&b, "# HELP inlay_mirror_requests_total Requests answered, by route and status "
		     "class.\n# TYPE inlay_mirror_requests_total counter\n");
	for (k = 0; k < N_KINDS; k++)
		for (i = 0; i < 4; i++)
			buf_printf(&b, "inlay_mirror_requests_total{route=\"%s\",code=\"%dxx\"} %" PRIu64 "\n",
				   kind_names[k], i + 2, load(&s->requests[k][i]));
	buf_puts(&b, "# HELP inlay_mirror_request_duration_seconds Time from the request to its "
		     "last byte.\n# TYPE inlay_mirror_request_duration_seconds histogram\n");
	pthread_mutex_lock(&s->stats_lock);
	for (i = 0; i < N_BUCKETS; i++) {
		cumulative += s->latency_buckets[i];
		if (i < N_BUCKETS - 1)
			buf_printf(&b, "inlay_mirror_request_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
				   latency_bounds[i], cumulative);
		else
			buf_printf(&b, "inlay_mirror_request_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
				   cumulative);
	}
	buf_printf(&b, "inlay_mirror_request_duration_seconds_sum %.6f\n", s->latency_sum);
	buf_printf(&b, "inlay_mirror_request_duration_seconds_count %" PRIu64 "\n", s->latency_count);
	pthread_mutex_unlock(&s->stats_lock);
	buf_printf(&b, "# HELP inlay_mirror_requests_in_flight Requests being answered.\n"
		       "# TYPE inlay_mirror_requests_in_flight gauge\n"
		       "inlay_mirror_requests_in_flight %d\n",
		   __atomic_load_n(&s->inflight, __ATOMIC_RELAXED));
#define COUNTER(name, help, value)                                                         \
	buf_printf(&b, "# HELP inlay_mirror_" name " " help "\n# TYPE inlay_mirror_" name        \
		       " counter\ninlay_mirror_" name " %" PRIu64 "\n",                           \
		   (uint64_t)(value))
	COUNTER("instrumentations_total", "Images instrumented (first pulls of a tag's digest).",
		st.instrumentations);
	COUNTER("instrument_failures_total", "Instrumentations that failed.", st.instrument_failures);
	COUNTER("kept_unchanged_total", "Images served as the upstream has them (no sensor for "
					"their platform).",
		st.kept_unchanged);
	COUNTER("tag_cache_hits_total", "Tags answered from the cache, within their TTL.",
		st.tag_cache_hits);
	COUNTER("tag_lookups_total", "Tags read from the upstream.", st.tag_lookups);
	COUNTER("coalesced_total", "Requests that waited for the same tag's resolution.",
		st.coalesced);
	COUNTER("store_manifest_hits_total", "Manifests served from the store by digest.",
		st.store_manifest_hits);
	COUNTER("store_blob_hits_total", "Blobs served from the store.", st.store_blob_hits);
	COUNTER("upstream_blob_streams_total", "Blobs streamed from the upstream and stored.",
		st.upstream_blob_streams);
	COUNTER("results_completed_total",
		"Results completed in a registry store: every blob brought in, then the manifest put.",
		st.results_completed);
	COUNTER("completion_failures_total",
		"Completions of such results that stopped short (the next pull of them retries).",
		st.completion_failures);
	COUNTER("store_failures_total",
		"Blobs downloaded whole and verified that the store did not take (the next read "
		"downloads them again).",
		st.store_failures);
	COUNTER("coalesced_blob_readers_total",
		"Blob requests that read another request's upstream stream.",
		st.coalesced_blob_readers);
	COUNTER("upstream_blob_failures_total", "Blob streams that failed (not stored).",
		st.upstream_blob_failures);
	COUNTER("upstream_errors_total", "Failed upstream requests.", st.upstream_errors);
	COUNTER("upstream_bytes_total", "Bytes read from upstreams.", st.bytes_from_upstream);
#undef COUNTER
	ret = queue(c, rq, 200,
		    text_response(b.data ? b.data : "", "text/plain; version=0.0.4; charset=utf-8"));
	buf_free(&b);
	return ret;
}

/* ---- manifests ---- */

static enum MHD_Result manifest_reply(struct MHD_Connection *c, struct request *rq,
				      const struct mr_route *route, const char *ns)
{
	struct mr_manifest mf = {0};
	struct MHD_Response *r;
	const char *code = NULL;
	struct err e;

	err_clear(&e);
	if (mr_mirror_manifest(rq->s->mirror, route->name, ns, route->reference, &mf, &code, &e) < 0)
		return err_reply(c, rq, code, &e);
	r = MHD_create_response_from_buffer_with_free_callback(mf.len, mf.data, free);
	if (!r) {
		mr_manifest_clear(&mf);
		return MHD_NO;
	}
	mf.data = NULL; /* transferred */
	MHD_add_response_header(r, "Content-Type", mf.media_type);
	set_digest_headers(r, mf.digest);
	rq->how = mf.how;
	rq->size = mf.len;
	snprintf(rq->digest, sizeof(rq->digest), "%s", mf.digest);
	mr_manifest_clear(&mf);
	return queue(c, rq, 200, r);
}

/* ---- blobs ---- */

/* "bytes=FIRST-LAST", "bytes=FIRST-" or "bytes=-SUFFIX", one range only.
 * 1 with the range, 0 when there is no usable Range (whole blob), -1 when
 * it cannot be satisfied. */
static int parse_range(const char *h, int64_t size, int64_t *ret_first, int64_t *ret_last)
{
	unsigned long long a = 0, b = 0;
	const char *p;
	char *end;

	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	p = h + 6;
	if (*p == '-') {
		errno = 0;
		b = strtoull(p + 1, &end, 10);
		if (errno || end == p + 1 || *end || b == 0)
			return -1;
		if ((int64_t)b > size)
			b = (unsigned long long)size;
		*ret_first = size - (int64_t)b;
		*ret_last = size - 1;
		return size > 0 ? 1 : -1;
	}
	errno = 0;
	a = strtoull(p, &end, 10);
	if (errno || end == p || *end != '-')
		return 0;
	p = end + 1;
	if (*p) {
		b = strtoull(p, &end, 10);
		if (errno || *end || b < a)
			return 0;
	} else {
		b = (unsigned long long)size - 1;
	}
	if ((int64_t)a >= size)
		return -1;
	if ((int64_t)b >= size)
		b = (unsigned long long)size - 1;
	*ret_first = (int64_t)a;
	*ret_last = (int64_t)b;
	return 1;
}

static enum MHD_Result file_blob_reply(struct MHD_Connection *c, struct request *rq,
				       const char *digest, struct mr_blob *b)
{
	const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
	struct MHD_Response *r;
	int64_t first = 0, last = b->size - 1;
	unsigned status = 200;
	char cr[96];
	int fd = b->fd;
	int pr = parse_range(range, b->size, &first, &last);

	if (pr < 0) {
		mr_blob_release(b);
		r = text_response("", "text/plain");
		snprintf(cr, sizeof(cr), "bytes */%" PRId64, b->size);
		if (r)
			MHD_add_response_header(r, "Content-Range", cr);
		return queue(c, rq, MHD_HTTP_RANGE_NOT_SATISFIABLE, r);
	}
	if (pr == 1)
		status = MHD_HTTP_PARTIAL_CONTENT;
	/* MHD owns (and closes) the descriptor from here. */
	r = MHD_create_response_from_fd_at_offset64((uint64_t)(last - first + 1), fd,
						    (uint64_t)first);
	if (!r) {
		mr_blob_release(b);
		return MHD_NO;
	}
	b->fd = -1;
	MHD_add_response_header(r, "Content-Type", "application/octet-stream");
	MHD_add_response_header(r, "Accept-Ranges", "bytes");
	set_digest_headers(r, digest);
	if (pr == 1) {
		snprintf(cr, sizeof(cr), "bytes %" PRId64 "-%" PRId64 "/%" PRId64, first, last,
			 b->size);
		MHD_add_response_header(r, "Content-Range", cr);
	}
	rq->how = "store";
	rq->size = (uint64_t)(last - first + 1);
	return queue(c, rq, status, r);
}

static void stream_unref(struct blob_stream *bs)
{
	if (__atomic_sub_fetch(&bs->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	mr_blob_release(&bs->blob);
	rg_pipe_free(bs->pipe);
	free(bs);
}

static int pipe_sink(void *ctx, const void *data, size_t n)
{
	return rg_pipe_write(ctx, data, n);
}

static void *stream_thread(void *arg)
{
	struct blob_stream *bs = arg;
	struct err e;

	err_clear(&e);
	if (mr_mirror_blob_stream(bs->s->mirror, &bs->blob, bs->digest, pipe_sink, bs->pipe, &e) == 0)
		rg_pipe_close(bs->pipe); /* verified and stored: the last byte may go */
	else
		rg_pipe_fail(bs->pipe); /* the client's connection ends short */
	__atomic_sub_fetch(&bs->s->streams, 1, __ATOMIC_RELAXED);
	stream_unref(bs);
	return NULL;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct blob_stream *bs = cls;
	pthread_attr_t attr;
	pthread_t t;
	ssize_t n;

	(void)pos;
	if (!bs->started) {
		/* Started by the first read, so a HEAD never downloads. */
		bs->started = true;
		__atomic_add_fetch(&bs->refs, 1, __ATOMIC_ACQ_REL);
		__atomic_add_fetch(&bs->s->streams, 1, __ATOMIC_RELAXED);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, stream_thread, bs) != 0) {
			pthread_attr_destroy(&attr);
			__atomic_sub_fetch(&bs->s->streams, 1, __ATOMIC_RELAXED);
			__atomic_sub_fetch(&bs->refs, 1, __ATOMIC_ACQ_REL);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		pthread_attr_destroy(&attr);
	}
	n = rg_pipe_read(bs->pipe, buf, max);
	if (n > 0)
		return n;
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_done(void *cls)
{
	struct blob_stream *bs = cls;

	/* The client is gone or done: the storing thread, if it runs, stops
	 * feeding it and still stores the blob. */
	rg_pipe_fail(bs->pipe);
	stream_unref(bs);
}

static enum MHD_Result stream_blob_reply(struct MHD_Connection *c, struct request *rq,
					 const char *digest, struct mr_blob *b)
{
	struct blob_stream *bs = calloc(1, sizeof(*bs));
	struct MHD_Response *r;

	if (!bs || !(bs->pipe = rg_pipe_new(STREAM_PIPE_BYTES))) {
		free(bs);
		mr_blob_release(b);
		return MHD_NO;
	}
	bs->s = rq->s;
	bs->blob = *b;
	b->upstream = NULL;
	b->owned = false; /* transferred */
	snprintf(bs->digest, sizeof(bs->digest), "%s", digest);
	bs->refs = 1;
	r = MHD_create_response_from_callback((uint64_t)bs->blob.size, STREAM_BLOCK_BYTES,
					      stream_read, bs, stream_done);
	if (!r) {
		stream_unref(bs);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/octet-stream");
	set_digest_headers(r, digest);
	rq->how = "upstream";
	rq->size = (uint64_t)bs->blob.size;
	return queue(c, rq, 200, r);
}

static enum MHD_Result blob_reply(struct MHD_Connection *c, struct request *rq,
				  const struct mr_route *route, const char *ns)
{
	struct mr_blob b = {.fd = -1};
	const char *code = NULL;
	struct err e;

	err_clear(&e);
	snprintf(rq->digest, sizeof(rq->digest), "%s", route->reference);
	if (mr_mirror_blob(rq->s->mirror, route->name, ns, route->reference, &b, &code, &e) < 0)
		return err_reply(c, rq, code, &e);
	if (b.fd >= 0)
		return file_blob_reply(c, rq, route->reference, &b);
	return stream_blob_reply(c, rq, route->reference, &b);
}

/* GET /v2/NAME/tags/list?n=&last=: the upstream's page, under the
 * client's name, with a Link to the next page in the client's terms. */
static enum MHD_Result tags_reply(struct MHD_Connection *c, struct request *rq,
				  const struct mr_route *route, const char *ns)
{
	const char *n_arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "n");
	const char *last = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "last");
	struct rg_tag_page page = {0};
	struct MHD_Response *r;
	const char *code = NULL;
	json_t *o, *tags;
	char *text, *end, link[MR_NAME_MAX + 2 * 140 + 64];
	long n = 0;
	size_t i;
	struct err e;

	err_clear(&e);
	if (n_arg) {
		errno = 0;
		n = strtol(n_arg, &end, 10);
		if (errno || end == n_arg || *end || n < 1 || n > 10000)
			return error_reply(c, rq, MHD_HTTP_BAD_REQUEST, "PAGINATION_NUMBER_INVALID",
					   "n must be a number from 1 to 10000");
	}
	if (last && !mf_tag_valid(last))
		return error_reply(c, rq, MHD_HTTP_BAD_REQUEST, "TAG_INVALID", "last is not a tag");
	if (mr_mirror_tags(rq->s->mirror, route->name, ns, (int)n, last, &page, &code, &e) < 0)
		return err_reply(c, rq, code, &e);
	tags = json_array();
	for (i = 0; tags && i < page.n; i++)
		json_array_append_new(tags, json_string(page.tags[i]));
	o = tags ? json_pack("{s:s, s:o}", "name", route->name, "tags", tags) : NULL;
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	r = text ? text_response(text, "application/json") : NULL;
	free(text);
	if (r && page.more) {
		snprintf(link, sizeof(link), "</v2/%s/tags/list?n=%zu&last=%s%s%s>; rel=\"next\"",
			 route->name, n > 0 ? (size_t)n : page.n, page.tags[page.n - 1],
			 ns ? "&ns=" : "", ns && mr_config_upstream(rq->s->cfg, ns) ? ns : "");
		MHD_add_response_header(r, "Link", link);
	}
	rg_tag_page_clear(&page);
	return queue(c, rq, 200, r);
}

/* ---- dispatch ---- */

static bool authorized(struct MHD_Connection *c, struct request *rq)
{
	const char *auth;

	if (!rq->s->users)
		return true;
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	return mr_htpasswd_check(rq->s->users, auth, rq->user);
}

static enum MHD_Result dispatch(struct MHD_Connection *c, struct request *rq, const char *url)
{
	struct mr_route route;
	const char *ns = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ns");
	struct err e;

	err_clear(&e);
	if (mr_route_parse(url, &route, &e) < 0) {
		rq->kind = N_KINDS - 1;
		return err_reply(c, rq, route.error_code, &e);
	}
	rq->kind = (int)route.kind;
	if (route.kind == MR_ROUTE_HEALTHZ)
		return queue(c, rq, 200, text_response("ok\n", "text/plain"));
	if (route.kind == MR_ROUTE_METRICS)
		return metrics_reply(c, rq);
	if (!authorized(c, rq))
		return error_reply(c, rq, MHD_HTTP_UNAUTHORIZED, "UNAUTHORIZED",
				   "authentication required");
	if (!rq->s->mirror)
		return error_reply(c, rq, MHD_HTTP_NOT_FOUND, "UNSUPPORTED",
				   "this server mirrors no registry: it serves the admission webhooks only");
	switch (route.kind) {
	case MR_ROUTE_BASE:
		return queue(c, rq, 200, text_response("{}", "application/json"));
	case MR_ROUTE_MANIFEST:
		return manifest_reply(c, rq, &route, ns);
	case MR_ROUTE_BLOB:
		return blob_reply(c, rq, &route, ns);
	case MR_ROUTE_REFERRERS:
		/* Results carry their signatures by tag (cosign's scheme), and
		 * nothing names them as a subject: the list is empty. */
		return queue(c, rq, 200,
			     text_response("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX
					   "\",\"manifests\":[]}",
					   MT_OCI_INDEX));
	case MR_ROUTE_TAGS:
		return tags_reply(c, rq, &route, ns);
	default:
		return error_reply(c, rq, MHD_HTTP_NOT_FOUND, "NOT_FOUND", "no such endpoint");
	}
}

/* A POST: find its endpoint and refuse a body too large to read. */
static enum MHD_Result post_start(struct MHD_Connection *c, struct request *rq, const char *url)
{
	const char *length =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	size_t i;

	for (i = 0; i < rq->s->n_posts; i++)
		if (strcmp(url, rq->s->posts[i].path) == 0)
			rq->post = &rq->s->posts[i];
	if (!rq->post)
		return error_reply(c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, "UNSUPPORTED",
				   "this mirror is read-only: GET and HEAD only");
	rq->kind = KIND_POST;
	if (!authorized(c, rq))
		return error_reply(c, rq, MHD_HTTP_UNAUTHORIZED, "UNAUTHORIZED",
				   "authentication required");
	if (length && strtoull(length, NULL, 10) > rq->post->max_body)
		return error_reply(c, rq, MHD_HTTP_CONTENT_TOO_LARGE, "SIZE_INVALID",
				   "the request body is too large");
	buf_init(&rq->body, rq->post->max_body);
	return MHD_YES;
}

/* The whole body is in (the client was authorized before it was read):
 * answer it. */
static enum MHD_Result post_reply(struct MHD_Connection *c, struct request *rq)
{
	char *reply = NULL;
	unsigned status;
	struct MHD_Response *r;

	status = rq->post->answer(rq->post->ctx, rq->body.data ? rq->body.data : "", rq->body.len,
				  &reply);
	buf_free(&rq->body);
	rq->size = reply ? strlen(reply) : 0;
	r = MHD_create_response_from_buffer_with_free_callback(rq->size, reply, free);
	if (!r) {
		free(reply);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	return queue(c, rq, status, r);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct mr_server *s = cls;
	struct request *rq = *req_cls;

	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		rq->s = s;
		rq->kind = N_KINDS - 1;
		clock_gettime(CLOCK_MONOTONIC, &rq->t0);
		__atomic_add_fetch(&s->inflight, 1, __ATOMIC_RELAXED);
		*req_cls = rq;
		if (strcmp(method, "POST") == 0)
			return post_start(c, rq, url);
		/* Refused before any body is read: nothing else accepts one
		 * (MHD closes the connection after the answer). */
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
			return error_reply(c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, "UNSUPPORTED",
					   "this mirror is read-only: GET and HEAD only");
		return MHD_YES;
	}
	if (rq->status) {
		*upload_data_size = 0; /* a refused body still arriving: dropped */
		return MHD_YES;
	}
	if (rq->post && *upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (buf_append(&rq->body, upload_data, n) < 0) {
			buf_free(&rq->body);
			return error_reply(c, rq, MHD_HTTP_CONTENT_TOO_LARGE, "SIZE_INVALID",
					   "the request body is too large");
		}
		return MHD_YES;
	}
	if (rq->post)
		return post_reply(c, rq);
	return dispatch(c, rq, url);
}

/* "2026-12-06T04:21:43Z", now. */
static void utc_now(char when[32])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Write o as one line of the log; steals o (NULL: nothing). */
static void log_json(struct mr_server *s, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (!text)
		return;
	/* One stdio call: its lock keeps lines whole, whoever else writes
	 * to the same stream (the command's warnings). */
	fprintf(s->log, "%s\n", text);
	fflush(s->log);
	free(text);
}

static void log_request(struct mr_server *s, struct MHD_Connection *c, struct request *rq,
			double seconds, enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char addr[INET6_ADDRSTRLEN + 8] = "";
	char when[32];
	json_t *o;

	if (ci && ci->client_addr)
		getnameinfo(ci->client_addr,
			    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								   : sizeof(struct sockaddr_in),
			    addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
	utc_now(when);
	o = json_pack("{s:s, s:s, s:s, s:i, s:I, s:f, s:b}", "time", when, "remote", addr, "route",
		      kind_names[rq->kind], "status", (int)rq->status, "bytes", (json_int_t)rq->size,
		      "seconds", seconds, "complete", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	if (!o)
		return;
	if (rq->how)
		json_object_set_new(o, "source", json_string(rq->how));
	if (rq->user[0])
		json_object_set_new(o, "user", json_string(rq->user));
	if (rq->digest[0])
		json_object_set_new(o, "digest", json_string(rq->digest));
	if (rq->post)
		json_object_set_new(o, "path", json_string(rq->post->path));
	log_json(s, o);
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct mr_server *s = cls;
	struct request *rq = *req_cls;
	struct timespec t1;
	double seconds;
	int i, cls_index;

	if (!rq)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	seconds = (double)(t1.tv_sec - rq->t0.tv_sec) + (double)(t1.tv_nsec - rq->t0.tv_nsec) / 1e9;
	cls_index = rq->status >= 200 && rq->status < 600 ? (int)(rq->status / 100) - 2 : 3;
	add(&s->requests[rq->kind][cls_index], 1);
	pthread_mutex_lock(&s->stats_lock);
	for (i = 0; i < N_BUCKETS - 1 && seconds > latency_bounds[i]; i++)
		;
	s->latency_buckets[i]++;
	s->latency_count++;
	s->latency_sum += seconds;
	pthread_mutex_unlock(&s->stats_lock);
	log_request(s, c, rq, seconds, toe);
	__atomic_sub_fetch(&s->inflight, 1, __ATOMIC_RELAXED);
	buf_free(&rq->body);
	free(rq);
	*req_cls = NULL;
}

/* libmicrohttpd's own messages (a TLS hello on the plain port, a request
 * it could not parse) as JSON lines in the same log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct mr_server *s = cls;
	char msg[512], when[32];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] >= 0x7f)
			msg[i] = '?';
	utc_now(when);
	log_json(s, json_pack("{s:s, s:s, s:s}", "time", when, "level", "warning", "message", msg));
}

/* ---- start and stop ---- */

static int parse_listen(const char *listen, struct sockaddr_storage *ret, struct err *e)
{
	char host[256];
	const char *colon, *port;
	struct addrinfo hints = {0}, *ai = NULL;
	size_t n;
	int r;

	if (listen[0] == '[') {
		colon = strstr(listen, "]:");
		if (!colon)
			return err_set(e, ERR_INPUT, "listen address '%.100s': expected [IPV6]:PORT",
				       listen);
		n = (size_t)(colon - listen - 1);
		port = colon + 2;
		if (n >= sizeof(host))
			return err_set(e, ERR_INPUT, "listen address '%.100s' is too long", listen);
		memcpy(host, listen + 1, n);
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return err_set(e, ERR_INPUT, "listen address '%.100s': expected HOST:PORT",
				       listen);
		n = (size_t)(colon - listen);
		port = colon + 1;
		if (n >= sizeof(host))
			return err_set(e, ERR_INPUT, "listen address '%.100s' is too long", listen);
		memcpy(host, listen, n);
	}
	host[n] = '\0';
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	r = getaddrinfo(n ? host : NULL, port, &hints, &ai);
	if (r != 0)
		return err_set(e, ERR_INPUT, "listen address '%.100s': %s", listen, gai_strerror(r));
	memset(ret, 0, sizeof(*ret));
	memcpy(ret, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}


int mr_server_start(const struct mr_config *cfg, struct mr_mirror *m,
		    const struct mr_post_route *posts, size_t n_posts, FILE *log,
		    struct mr_server **ret, struct err *e)
{
	struct mr_server *s = calloc(1, sizeof(*s));
	struct sockaddr_storage addr;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *di;

	if (!s)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	s->cfg = cfg;
	s->mirror = m;
	s->posts = posts;
	s->n_posts = n_posts;
	s->log = log;
	pthread_mutex_init(&s->stats_lock, NULL);
	if (parse_listen(cfg->listen, &addr, e) < 0)
		goto fail;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg->htpasswd && mr_htpasswd_load(cfg->htpasswd, &s->users, e) < 0)
		goto fail;
	if (cfg->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			err_set(e, ERR_OPERATIONAL, "this libmicrohttpd was built without TLS");
			goto fail;
		}
		size_t len;

		if (buf_read_file(cfg->tls_cert, TLS_FILE_MAX, &s->tls_cert, &len, e) < 0 ||
		    buf_read_file(cfg->tls_key, TLS_FILE_MAX, &s->tls_key, &len, e) < 0) {
			err_prefix(e, "TLS");
			goto fail;
		}
		flags |= MHD_USE_TLS;
	}
	if (s->tls_cert)
		s->daemon = MHD_start_daemon(
		    flags, 0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		    MHD_OPTION_CONNECTION_LIMIT, cfg->connections, MHD_OPTION_CONNECTION_TIMEOUT,
		    cfg->idle_seconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->header_bytes,
		    MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_BYTES,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
		    MHD_OPTION_HTTPS_MEM_CERT,
		    s->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, s->tls_key, MHD_OPTION_END);
	else
		s->daemon = MHD_start_daemon(
		    flags, 0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		    MHD_OPTION_CONNECTION_LIMIT, cfg->connections, MHD_OPTION_CONNECTION_TIMEOUT,
		    cfg->idle_seconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->header_bytes,
		    MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_BYTES,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, s,
		    MHD_OPTION_END);
	if (!s->daemon) {
		err_sys(e, ERR_OPERATIONAL,
			"cannot listen on %.100s (in use, not an address of this machine, or a bad "
			"TLS certificate or key)",
			cfg->listen);
		goto fail;
	}
	di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	*ret = s;
	return 0;
fail:
	(void)mr_server_stop(s);
	return -1;
}

unsigned mr_server_port(const struct mr_server *s)
{
	return s->port;
}

int mr_server_stop(struct mr_server *s)
{
	struct timespec t0, t;
	MHD_socket fd;
	int left;

	if (!s)
		return 0;
	if (s->daemon) {
		fd = MHD_quiesce_daemon(s->daemon);
		mr_mirror_quiesce(s->mirror);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((__atomic_load_n(&s->inflight, __ATOMIC_RELAXED) == 0 &&
			     __atomic_load_n(&s->streams, __ATOMIC_RELAXED) == 0 &&
			     mr_mirror_busy(s->mirror) == 0) ||
			    t.tv_sec - t0.tv_sec >= (time_t)s->cfg->shutdown_seconds)
				break;
			usleep(20000);
		}
		MHD_stop_daemon(s->daemon);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
		/* Streams still storing hold the mirror: give them the rest
		 * of the time, then leave them to the process's exit. */
		while (__atomic_load_n(&s->streams, __ATOMIC_RELAXED) > 0 ||
		       mr_mirror_busy(s->mirror) > 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if (t.tv_sec - t0.tv_sec >= (time_t)s->cfg->shutdown_seconds)
				break;
			usleep(20000);
		}
	}
	left = __atomic_load_n(&s->streams, __ATOMIC_RELAXED) + (int)mr_mirror_busy(s->mirror);
	if (left > 0)
		return left; /* they still use s: left to the process's exit */
	mr_htpasswd_free(s->users);
	free(s->tls_cert);
	free(s->tls_key);
	pthread_mutex_destroy(&s->stats_lock);
	free(s);
	return 0;
}
