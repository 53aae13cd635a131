/* http.c - see http.h. */
#include "http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#ifndef INLAY_VERSION
#define INLAY_VERSION "dev"
#endif

#define POOL_MAX 8		  /* easy handles kept for reuse */
#define DISCARD_MAX (1024 * 1024) /* bytes of a redirect body we read through */
#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 16000
#define CONNECT_TIMEOUT_S 30L

struct rg_http {
	struct rg_options opt;
	int max_attempts;
	pthread_mutex_t lock; /* guards pool */
	CURL *pool[POOL_MAX];
	int npool;
};

/* Per-hop state shared with the libcurl callbacks. */
struct call {
	const struct rg_http_req *req;
	struct rg_http_resp *resp;
	long status;	    /* of the response being received */
	size_t mem_off;	    /* memory body: next byte to send */
	int64_t sent;	    /* source body: bytes handed to libcurl */
	size_t discarded;   /* redirect body bytes read through */
	bool err_body_full; /* stopped reading an error body at its limit */
	bool header_too_long;
	bool oom;
	int64_t range_start; /* a 206's Content-Range start, -1 when none */
	int64_t skipped;     /* a 200 to a ranged GET: leading bytes dropped */
};

int rg_http_new(const struct rg_options *opt, struct rg_http **ret_http, struct err *e)
{
	struct rg_http *h = calloc(1, sizeof(*h));

	if (!h)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	h->opt = *opt;
	h->max_attempts = opt->max_attempts >= 1 ? opt->max_attempts : RG_HTTP_DEFAULT_ATTEMPTS;
	if (pthread_mutex_init(&h->lock, NULL) != 0) {
		free(h);
		return err_set(e, ERR_OPERATIONAL, "cannot create a mutex");
	}
	*ret_http = h;
	return 0;
}

void rg_http_free(struct rg_http *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < h->npool; i++)
		curl_easy_cleanup(h->pool[i]);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static CURL *pool_get(struct rg_http *h)
{
	CURL *c = NULL;

	pthread_mutex_lock(&h->lock);
	if (h->npool > 0)
		c = h->pool[--h->npool];
	pthread_mutex_unlock(&h->lock);
	return c ? c : curl_easy_init();
}

static void pool_put(struct rg_http *h, CURL *c)
{
	if (!c)
		return;
	/* reset forgets options (no stale body callbacks or headers survive)
	 * but keeps the connection cache and TLS sessions. */
	curl_easy_reset(c);
	pthread_mutex_lock(&h->lock);
	if (h->npool < POOL_MAX) {
		h->pool[h->npool++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&h->lock);
	if (c)
		curl_easy_cleanup(c);
}

static void resp_clear_headers(struct rg_http_resp *r)
{
	free(r->location);
	free(r->content_type);
	free(r->digest);
	free(r->www_authenticate);
	free(r->retry_after);
	free(r->range);
	free(r->link);
	r->location = r->content_type = r->digest = NULL;
	r->www_authenticate = r->retry_after = r->range = r->link = NULL;
	r->content_length = -1;
}

void rg_http_resp_clear(struct rg_http_resp *r)
{
	if (!r)
		return;
	resp_clear_headers(r);
	free(r->url);
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
}

/* ---- URL helpers ---- */

static bool url_text_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++) {
		unsigned char ch = (unsigned char)s[n];

		if (n >= max || ch <= 0x20 || ch >= 0x7f)
			return false;
	}
	return n > 0;
}

static bool scheme_is_http(CURLU *u)
{
	char *scheme = NULL;
	bool ok;

	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		return false;
	ok = strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0;
	curl_free(scheme);
	return ok;
}

void rg_url_for_message(const char *url, char *out, size_t n)
{
	const char *start = url, *auth_end, *p = strstr(url, "://");
	size_t len;

	if (n == 0)
		return;
	/* Drop userinfo ("user:pass@") and the query: neither belongs in a
	 * message. */
	if (p) {
		size_t hostlen = strcspn(p + 3, "/?#");

		auth_end = memchr(p + 3, '@', hostlen);
		if (auth_end) {
			snprintf(out, n, "%.*s", (int)(p + 3 - url), url);
			len = strlen(out);
			start = auth_end + 1;
			snprintf(out + len, n - len, "%.*s", (int)strcspn(start, "?#"), start);
			return;
		}
	}
	snprintf(out, n, "%.*s", (int)strcspn(start, "?#"), start);
}

int rg_url_resolve(const char *base, const char *location, char **ret_url, struct err *e)
{
	char shown[256], *s = NULL, *out;
	CURLU *u;
	int rc = -1;

	rg_url_for_message(location, shown, sizeof(shown));
	if (!url_text_ok(location, RG_HTTP_HEADER_MAX))
		return err_set(e, ERR_OPERATIONAL,
			       "the registry sent an invalid Location header ('%.100s')", shown);
	u = curl_url();
	if (!u)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, location, 0) != CURLUE_OK || !scheme_is_http(u) ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK) {
		err_set(e, ERR_OPERATIONAL,
			"the registry sent a Location that is not an http(s) URL ('%.100s')",
			shown);
		goto out;
	}
	out = strdup(s);
	if (!out) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	*ret_url = out;
	rc = 0;
out:
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
}

int rg_url_add_query(const char *url, const char *key, const char *value, char **ret_url,
		     struct err *e)
{
	char *pair = NULL, *s = NULL, *out;
	CURLU *u = curl_url();
	size_t n;
	int rc = -1;

	if (!u)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	n = strlen(key) + strlen(value) + 2;
	pair = malloc(n);
	if (!pair) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	snprintf(pair, n, "%s=%s", key, value);
	/* With APPENDQUERY, URLENCODE leaves the first '=' alone and encodes
	 * the rest; libcurl adds '&' or '?' as needed. */
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, pair, CURLU_APPENDQUERY | CURLU_URLENCODE) !=
		CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK) {
		char shown[256];

		rg_url_for_message(url, shown, sizeof(shown));
		err_set(e, ERR_OPERATIONAL, "cannot add a query to URL %s", shown);
		goto out;
	}
	out = strdup(s);
	if (!out) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	*ret_url = out;
	rc = 0;
out:
	free(pair);
	curl_free(s);
	curl_url_cleanup(u);
	return rc;
}

struct origin {
	char *scheme, *host, *port;
};

static void origin_free(struct origin *o)
{
	curl_free(o->scheme);
	curl_free(o->host);
	curl_free(o->port);
}

static int origin_get(const char *url, struct origin *o)
{
	CURLU *u = curl_url();
	int rc = -1;

	memset(o, 0, sizeof(*o));
	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &o->scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &o->host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		rc = 0;
	curl_url_cleanup(u);
	if (rc < 0)
		origin_free(o);
	return rc;
}

bool rg_url_same_origin(const char *a, const char *b)
{
	struct origin oa, ob;
	bool same;

	if (origin_get(a, &oa) < 0)
		return false;
	if (origin_get(b, &ob) < 0) {
		origin_free(&oa);
		return false;
	}
	same = strcasecmp(oa.scheme, ob.scheme) == 0 && strcasecmp(oa.host, ob.host) == 0 &&
	       strcmp(oa.port, ob.port) == 0;
	origin_free(&oa);
	origin_free(&ob);
	return same;
}

static bool url_is_https(const char *url)
{
	return strncasecmp(url, "https://", 8) == 0;
}

bool rg_url_is_loopback(const char *url)
{
	struct origin o;
	struct in_addr a4;
	struct in6_addr a6;
	bool lo = false;

	if (origin_get(url, &o) < 0)
		return false;
	if (strcasecmp(o.host, "localhost") == 0) {
		lo = true;
	} else if (inet_pton(AF_INET, o.host, &a4) == 1) {
		lo = (ntohl(a4.s_addr) >> 24) == 127;
	} else if (o.host[0] == '[') {
		char h[64];
		size_t n = strcspn(o.host + 1, "]%");

		if (n < sizeof(h)) {
			memcpy(h, o.host + 1, n);
			h[n] = '\0';
			lo = inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
		}
	}
	origin_free(&o);
	return lo;
}

long rg_retry_after_seconds(const char *value, long long now)
{
	long long secs;
	char *end;
	time_t when;

	while (*value == ' ' || *value == '\t')
		value++;
	if (*value >= '0' && *value <= '9') {
		errno = 0;
		secs = strtoll(value, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (errno != 0 || *end != '\0')
			return -1;
	} else {
		when = curl_getdate(value, NULL);
		if (when == (time_t)-1)
			return -1;
		secs = (long long)when - now;
		if (secs < 0)
			secs = 0;
	}
	return secs > RG_HTTP_RETRY_AFTER_MAX ? RG_HTTP_RETRY_AFTER_MAX : (long)secs;
}

/* ---- libcurl callbacks ---- */

static int keep_header(char **slot, const char *v, size_t n, bool join)
{
	char *p;
	size_t old = (join && *slot) ? strlen(*slot) : 0;

	if (old) {
		if (old + 2 + n > RG_HTTP_HEADER_MAX)
			return -1;
		p = realloc(*slot, old + 2 + n + 1);
		if (!p)
			return -1;
		memcpy(p + old, ", ", 2);
		memcpy(p + old + 2, v, n);
		p[old + 2 + n] = '\0';
		*slot = p;
		return 0;
	}
	p = strndup(v, n);
	if (!p)
		return -1;
	free(*slot);
	*slot = p;
	return 0;
}

static size_t header_cb(char *p, size_t size, size_t nitems, void *ud)
{
	struct call *cl = ud;
	struct rg_http_resp *r = cl->resp;
	size_t len = size * nitems, total = len, nlen, vlen;
	const char *colon, *v;
	char **slot = NULL;
	bool join = false;

	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue, for one): forget what
		 * the previous one said. */
		const char *s = memchr(p, ' ', len);
		long st = 0;
		int i;

		for (i = 0; s && i < 3 && (size_t)(s + 1 + i - p) < len; i++) {
			char d = s[1 + i];

			if (d < '0' || d > '9')
				break;
			st = st * 10 + (d - '0');
		}
		cl->status = i == 3 ? st : 0;
		cl->range_start = -1;
		resp_clear_headers(r);
		return total;
	}
	colon = memchr(p, ':', len);
	if (!colon)
		return total;
	nlen = (size_t)(colon - p);
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;

#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(p, name, nlen) == 0)
	if (IS("Location"))
		slot = &r->location;
	else if (IS("Content-Type"))
		slot = &r->content_type;
	else if (IS("Docker-Content-Digest"))
		slot = &r->digest;
	else if (IS("WWW-Authenticate"))
		slot = &r->www_authenticate, join = true;
	else if (IS("Retry-After"))
		slot = &r->retry_after;
	else if (IS("Range"))
		slot = &r->range;
	else if (IS("Link"))
		slot = &r->link;
	else if (IS("Content-Range")) {
		/* "bytes START-END/TOTAL": only START matters here. */
		char num[24], *end;
		size_t i = 6, k = 0;
		long long n;

		if (vlen < 7 || strncasecmp(v, "bytes ", 6) != 0)
			return total;
		while (i < vlen && k < sizeof(num) - 1 && v[i] >= '0' && v[i] <= '9')
			num[k++] = v[i++];
		num[k] = '\0';
		errno = 0;
		n = strtoll(num, &end, 10);
		if (k && errno == 0 && i < vlen && v[i] == '-')
			cl->range_start = n;
		return total;
	} else if (IS("Content-Length")) {
		char num[24], *end;
		long long n;

		if (vlen == 0 || vlen >= sizeof(num))
			return total;
		memcpy(num, v, vlen);
		num[vlen] = '\0';
		errno = 0;
		n = strtoll(num, &end, 10);
		if (errno == 0 && *end == '\0' && n >= 0)
			r->content_length = n;
		return total;
	}
#undef IS
	if (!slot)
		return total;
	if (vlen > RG_HTTP_HEADER_MAX) {
		cl->header_too_long = true;
		return 0; /* aborts the transfer */
	}
	if (keep_header(slot, v, vlen, join) < 0) {
		if (join)
			cl->header_too_long = true;
		else
			cl->oom = true;
		return 0;
	}
	return total;
}

static size_t write_cb(char *p, size_t size, size_t nitems, void *ud)
{
	struct call *cl = ud;
	const struct rg_http_req *req = cl->req;
	size_t len = size * nitems;

	if (cl->status >= 200 && cl->status < 300) {
		if (req->range_from > 0 && cl->status == 206 && cl->range_start != req->range_from) {
			cl->resp->range_mismatch = true;
			return 0;
		}
		if (req->range_from > 0 && cl->status != 206 && cl->skipped < req->range_from) {
			/* The server ignored the Range and sends the whole body:
			 * drop what the caller has already. */
			size_t drop = len;

			if ((int64_t)drop > req->range_from - cl->skipped)
				drop = (size_t)(req->range_from - cl->skipped);
			cl->skipped += (int64_t)drop;
			p += drop;
			len -= drop;
			if (len == 0)
				return drop;
		}
		if (req->out) {
			if (buf_append(req->out, p, len) < 0) {
				if (errno == E2BIG)
					cl->resp->too_large = true;
				else
					cl->oom = true;
				return 0;
			}
		} else if (req->sink) {
			if (req->sink(req->sink_ctx, p, len) < 0) {
				cl->resp->sink_aborted = true;
				return 0;
			}
			if (len)
				cl->resp->delivered = true;
		}
		return size * nitems;
	}
	if (cl->status >= 400 && req->err_body) {
		size_t room = req->err_body->max - req->err_body->len;

		if (buf_append(req->err_body, p, len < room ? len : room) < 0 || len > room) {
			/* Enough to explain the error; stop reading. */
			cl->err_body_full = true;
			return 0;
		}
		return len;
	}
	cl->discarded += len;
	if (cl->discarded > DISCARD_MAX) {
		cl->err_body_full = true;
		return 0;
	}
	return len;
}

static size_t read_cb(char *p, size_t size, size_t nitems, void *ud)
{
	struct call *cl = ud;
	const struct rg_http_req *req = cl->req;
	size_t len = size * nitems, ask;
	ssize_t got;
	char probe;

	if (!req->source) {
		size_t left = req->body_len - cl->mem_off;

		if (len > left)
			len = left;
		if (len)
			memcpy(p, (const char *)req->body + cl->mem_off, len);
		cl->mem_off += len;
		return len;
	}
	cl->resp->body_started = true;
	if (req->source_size < 0) {
		got = req->source(req->source_ctx, p, len);
		if (got < 0 || (size_t)got > len) {
			cl->resp->source_aborted = true;
			return CURL_READFUNC_ABORT;
		}
		cl->sent += got;
		return (size_t)got;
	}
	if (cl->sent >= req->source_size)
		return 0;
	ask = len;
	if ((uint64_t)(req->source_size - cl->sent) < ask)
		ask = (size_t)(req->source_size - cl->sent);
	got = req->source(req->source_ctx, p, ask);
	if (got < 0 || (size_t)got > ask) {
		cl->resp->source_aborted = true;
		return CURL_READFUNC_ABORT;
	}
	if (got == 0) {
		cl->resp->source_size_mismatch = true; /* ended early */
		return CURL_READFUNC_ABORT;
	}
	cl->sent += got;
	if (cl->sent == req->source_size) {
		/* Before the last bytes leave, make sure the source really ends
		 * here (and let it refuse, say on a digest mismatch): once the
		 * server has the whole body it commits it. */
		ssize_t more = req->source(req->source_ctx, &probe, 1);

		if (more != 0) {
			if (more < 0)
				cl->resp->source_aborted = true;
			else
				cl->resp->source_size_mismatch = true;
			return CURL_READFUNC_ABORT;
		}
	}
	return (size_t)got;
}

static int seek_cb(void *ud, curl_off_t offset, int origin)
{
	struct call *cl = ud;

	if (cl->req->source || origin != SEEK_SET || offset < 0 ||
	    (uint64_t)offset > cl->req->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	cl->mem_off = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* ---- one request ---- */

static bool header_value_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

static void slist_wipe_free(struct curl_slist *l)
{
	struct curl_slist *i;

	for (i = l; i; i = i->next)
		if (strncasecmp(i->data, "Authorization:", 14) == 0)
			explicit_bzero(i->data, strlen(i->data));
	curl_slist_free_all(l);
}

static int set_method(CURL *c, const struct rg_http_req *req, struct call *cl)
{
	bool has_body = req->has_body || req->source;
	CURLcode r = CURLE_OK;

	if (strcmp(req->method, "HEAD") == 0)
		return curl_easy_setopt(c, CURLOPT_NOBODY, 1L) == CURLE_OK ? 0 : -1;
	if (!has_body) {
		if (strcmp(req->method, "GET") == 0)
			r = curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		else
			r = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
		return r == CURLE_OK ? 0 : -1;
	}
	/* Every body goes through the read callback: one code path for memory
	 * and streams, and libcurl sends Content-Length (or chunked when the
	 * size is unknown). */
	r |= curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	if (strcmp(req->method, "PUT") != 0)
		r |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	r |= curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	r |= curl_easy_setopt(c, CURLOPT_READDATA, cl);
	r |= curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
	r |= curl_easy_setopt(c, CURLOPT_SEEKDATA, cl);
	r |=
	    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
			     (curl_off_t)(req->source ? req->source_size : (int64_t)req->body_len));
	return r == CURLE_OK ? 0 : -1;
}

/* CURLOPT_SSL_CTX_FUNCTION: trust the certificates of the --ca-file too. */
static CURLcode add_ca_file(CURL *c, void *ssl_ctx, void *ca_file)
{
	(void)c;
	if (SSL_CTX_load_verify_locations(ssl_ctx, ca_file, NULL) != 1) {
		ERR_clear_error();
		return CURLE_SSL_CACERT_BADFILE;
	}
	return CURLE_OK;
}

/* Perform one request to url (one hop). Returns 0 when a response arrived. */
static int perform_hop(struct rg_http *h, CURL *c, const struct rg_http_req *req, const char *url,
		       bool send_auth, struct rg_http_resp *resp, struct err *e)
{
	char errbuf[CURL_ERROR_SIZE], shown[300], *auth_line = NULL;
	struct curl_slist *hl = NULL, *tmp;
	struct call cl = {.req = req, .resp = resp, .range_start = -1};
	char range_line[48];
	const char *const *hp;
	CURLcode r = CURLE_OK;
	long status = 0;
	int rc = -1;

	rg_url_for_message(url, shown, sizeof(shown));
	errbuf[0] = '\0';
	curl_easy_reset(c);
	resp_clear_headers(resp);
	resp->status = 0;

	for (hp = req->headers; hp && *hp; hp++) {
		if (!header_value_ok(*hp)) {
			err_set(e, ERR_OPERATIONAL, "%s %s: invalid request header", req->method,
				shown);
			goto out;
		}
		tmp = curl_slist_append(hl, *hp);
		if (!tmp)
			goto oom;
		hl = tmp;
	}
	if (req->range_from > 0) {
		snprintf(range_line, sizeof(range_line), "Range: bytes=%lld-",
			 (long long)req->range_from);
		tmp = curl_slist_append(hl, range_line);
		if (!tmp)
			goto oom;
		hl = tmp;
	}
	if (req->has_body && !req->source) {
		/* Small bodies in memory: no point waiting for 100 Continue. */
		tmp = curl_slist_append(hl, "Expect:");
		if (!tmp)
			goto oom;
		hl = tmp;
	}
	if (send_auth) {
		size_t n = strlen(req->authorization) + sizeof("Authorization: ");

		if (!header_value_ok(req->authorization)) {
			err_set(e, ERR_OPERATIONAL,
				"%s %s: invalid credentials (control characters)", req->method,
				shown);
			goto out;
		}
		auth_line = malloc(n);
		if (!auth_line)
			goto oom;
		snprintf(auth_line, n, "Authorization: %s", req->authorization);
		tmp = curl_slist_append(hl, auth_line);
		explicit_bzero(auth_line, n);
		free(auth_line);
		if (!tmp)
			goto oom;
		hl = tmp;
	}

	r |= curl_easy_setopt(c, CURLOPT_URL, url);
	r |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	r |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	r |= curl_easy_setopt(c, CURLOPT_USERAGENT, "inlay/" INLAY_VERSION);
	r |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	r |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	r |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	r |= curl_easy_setopt(c, CURLOPT_HEADERDATA, &cl);
	r |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	r |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &cl);
	r |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	r |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	/* Abort a transfer stalled this long. */
	r |= curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
			      (long)(h->opt.stall_timeout > 0 ? h->opt.stall_timeout : 60));
	r |= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	if (h->opt.ca_file) {
		/* Added to the system's CAs (a corporate CA must not cut the
		 * public registries off): the store libcurl built from its
		 * default bundle gets the file's certificates too. Not cached:
		 * the store is this connection's own to extend. */
		r |= curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, add_ca_file);
		r |= curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, (void *)h->opt.ca_file);
		r |= curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L);
	}
	if (h->opt.insecure) {
		r |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		r |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (hl)
		r |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (r != CURLE_OK || set_method(c, req, &cl) < 0) {
		err_set(e, ERR_OPERATIONAL, "%s %s: cannot set up the request (libcurl)",
			req->method, shown);
		goto out;
	}

	r = curl_easy_perform(c);
	resp->curl_code = (int)r;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status;
	if (r == CURLE_OK || (r == CURLE_WRITE_ERROR && cl.err_body_full && status > 0)) {
		rc = 0;
		goto out;
	}
	resp->status = 0;
	if (resp->too_large)
		err_set(e, ERR_OPERATIONAL, "%s %s: response larger than %zu bytes", req->method,
			shown, req->out ? req->out->max : (size_t)0);
	else if (resp->range_mismatch)
		err_set(e, ERR_OPERATIONAL,
			"%s %s: asked for the bytes from %lld on, the server sent a range from %lld",
			req->method, shown, (long long)req->range_from, (long long)cl.range_start);
	else if (resp->sink_aborted)
		err_set(e, ERR_OPERATIONAL, "%s %s: download stopped by its receiver", req->method,
			shown);
	else if (resp->source_aborted)
		err_set(e, ERR_OPERATIONAL, "%s %s: upload aborted: its data source failed",
			req->method, shown);
	else if (resp->source_size_mismatch)
		err_set(
		    e, ERR_OPERATIONAL,
		    "%s %s: upload aborted: the data did not have the announced size of %lld bytes",
		    req->method, shown, (long long)req->source_size);
	else if (cl.header_too_long)
		err_set(e, ERR_OPERATIONAL, "%s %s: response header longer than %d bytes",
			req->method, shown, RG_HTTP_HEADER_MAX);
	else if (cl.oom)
		err_set(e, ERR_OPERATIONAL, "%s %s: out of memory", req->method, shown);
	else
		err_set(e, ERR_OPERATIONAL, "%s %s: %s%s%s", req->method, shown,
			curl_easy_strerror(r), errbuf[0] ? ": " : "", errbuf);
	goto out;
oom:
	err_set(e, ERR_OPERATIONAL, "out of memory");
out:
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	slist_wipe_free(hl);
	return rc;
}

static bool is_redirect(long s)
{
	return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

/* One attempt: the request and the redirects it leads to. */
static int perform_follow(struct rg_http *h, CURL *c, const struct rg_http_req *req,
			  struct rg_http_resp *resp, struct err *e)
{
	bool get_like = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	char *cur = strdup(req->url), *next = NULL, shown[300];
	int hops, rc = -1;

	if (!cur)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	for (hops = 0;; hops++) {
		bool send_auth = req->authorization && rg_url_same_origin(cur, req->url);

		if (perform_hop(h, c, req, cur, send_auth, resp, e) < 0)
			goto out;
		if (!req->follow_redirects || !is_redirect(resp->status) || !resp->location ||
		    req->source || (!get_like && resp->status != 307 && resp->status != 308))
			break;
		if (hops >= RG_HTTP_MAX_REDIRECTS) {
			rg_url_for_message(req->url, shown, sizeof(shown));
			err_set(e, ERR_OPERATIONAL, "%s %s: more than %d redirects", req->method,
				shown, RG_HTTP_MAX_REDIRECTS);
			resp->status = 0;
			goto out;
		}
		if (rg_url_resolve(cur, resp->location, &next, e) < 0) {
			resp->status = 0;
			goto out;
		}
		if (url_is_https(cur) && !url_is_https(next) && !h->opt.insecure) {
			rg_url_for_message(next, shown, sizeof(shown));
			err_set(e, ERR_OPERATIONAL,
				"%s: redirected from https to plain http (%s); refusing (use "
				"--insecure to allow it)",
				req->method, shown);
			resp->status = 0;
			goto out;
		}
		free(cur);
		cur = next;
		next = NULL;
		if (req->out)
			buf_reset(req->out);
		if (req->err_body)
			buf_reset(req->err_body);
	}
	rc = 0;
out:
	free(resp->url);
	resp->url = cur;
	free(next);
	return rc;
}

static bool retryable_curl(int code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static bool retryable_status(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/* Exponential backoff with "equal jitter": half fixed, half random, so
 * clients that failed together do not retry together. */
static long backoff_ms(int attempt)
{
	long d = BACKOFF_BASE_MS;
	unsigned int rnd = 0;
	int i;

	for (i = 1; i < attempt && d < BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > BACKOFF_CAP_MS)
		d = BACKOFF_CAP_MS;
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (unsigned int)time(NULL) * 2654435761u;
	return d / 2 + (long)(rnd % (unsigned long)(d / 2 + 1));
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int rg_http_do(struct rg_http *h, const struct rg_http_req *req, struct rg_http_resp *resp,
	       struct err *e)
{
	int attempt, max, rc = -1;
	CURL *c;

	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
	if (req->source && req->has_body)
		return err_set(e, ERR_OPERATIONAL, "internal error: request with two bodies");
	max = req->no_retry ? 1 : h->max_attempts;
	c = pool_get(h);
	if (!c)
		return err_set(e, ERR_OPERATIONAL, "cannot create a libcurl handle");
	for (attempt = 1;; attempt++) {
		long wait_ms;

		if (req->out)
			buf_reset(req->out);
		if (req->err_body)
			buf_reset(req->err_body);
		rc = perform_follow(h, c, req, resp, e);
		/* Bytes handed to a sink, or taken from a source, cannot be
		 * taken back: only a request that moved none is tried again. */
		if (attempt >= max || resp->delivered || (req->source && resp->body_started))
			break;
		if (rc < 0) {
			if (!retryable_curl(resp->curl_code) || resp->too_large ||
			    resp->sink_aborted)
				break;
			wait_ms = backoff_ms(attempt);
		} else if (retryable_status(resp->status)) {
			long ra = resp->retry_after ? rg_retry_after_seconds(resp->retry_after,
									     (long long)time(NULL))
						    : -1;

			wait_ms = ra >= 0 ? ra * 1000 : backoff_ms(attempt);
		} else {
			break;
		}
		sleep_ms(wait_ms);
	}
	pool_put(h, c);
	return rc;
}
