/* http.h - one HTTP request over libcurl, the way registry/ needs it.
 *
 * A request is a method, a URL, extra headers, an optional Authorization and
 * an optional body (from memory, or pulled from a source callback); the
 * response body goes to a bounded buf or is pushed to a sink callback, and a
 * few response headers are captured. On top of libcurl this adds:
 *
 *  - redirects followed here, not by libcurl (at most RG_HTTP_MAX_REDIRECTS),
 *    each Location resolved against the URL that answered, and the
 *    Authorization header sent only to the origin (scheme, host, port) of the
 *    request's first URL: blob storage on another host never sees it;
 *  - retries with exponential backoff and jitter on connection errors and on
 *    408, 429, 500, 502, 503, 504, honouring Retry-After (capped at
 *    RG_HTTP_RETRY_AFTER_MAX seconds), for requests whose body can be sent
 *    again (none or in memory) or whose source was not read from yet, and
 *    only until the first byte reached a sink;
 *  - the libcurl error buffer copied into the error message; URLs in messages
 *    lose their query (it may hold upload state or signatures).
 *
 * TLS: system CAs; --ca-file sets CURLOPT_CAINFO, which *replaces* the default
 * bundle (so the file must hold every CA needed for that run); --insecure
 * turns peer and host verification off.
 *
 * Thread safety: one struct rg_http may be used by several threads at once.
 * Each call takes its own libcurl easy handle from a small mutex-protected
 * pool (handles are never shared between threads while in use; kept handles
 * keep their connections warm). curl_global_init must have been called by
 * main before the first request.
 */
#ifndef INLAY_RG_HTTP_H
#define INLAY_RG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../manifest/buf.h"
#include "../manifest/err.h"
#include "registry.h"
#include "transport.h"

#define RG_HTTP_MAX_REDIRECTS 5
#define RG_HTTP_RETRY_AFTER_MAX 60 /* seconds */
#define RG_HTTP_HEADER_MAX 8192	   /* longest response header value kept */
#define RG_HTTP_DEFAULT_ATTEMPTS 5

struct rg_http; /* opaque: TLS options, attempts, handle pool */

/* A client for one command run. opt is copied; its strings are borrowed and
 * must outlive the client. */
int rg_http_new(const struct rg_options *opt, struct rg_http **ret_http, struct err *e);

/* Accepts NULL. No request may be running. */
void rg_http_free(struct rg_http *h);

struct rg_http_req {
	const char *method; /* "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE" */
	const char *url;    /* absolute http(s) URL */
	/* Full header value ("Bearer ..." or "Basic ..."), or NULL. Sent only to
	 * the origin of url; secret: never copied into messages. */
	const char *authorization;
	const char *const *headers; /* NULL-terminated "Name: value" list, or NULL */

	/* Body, at most one of: memory (body, body_len; body may be NULL with
	 * body_len 0 to send an empty body) when has_body is set, or a source
	 * pulled as libcurl sends (source_size bytes, -1 for chunked). A source
	 * that returns -1, ends before source_size or offers more than
	 * source_size aborts the request: the server never receives a complete
	 * body. Requests with a source are retried only while the source was
	 * not read from, and never redirected. */
	bool has_body;
	const void *body;
	size_t body_len;
	rg_source_fn source;
	void *source_ctx;
	int64_t source_size;

	/* Where a 2xx response body goes: into out (whose max bounds it), else
	 * to sink (which may return -1 to abort), else nowhere. */
	struct buf *out;
	rg_sink_fn sink;
	void *sink_ctx;
	/* Where a non-2xx body goes (bounded by its max; the rest is dropped),
	 * or NULL. */
	struct buf *err_body;

	bool follow_redirects;
	bool no_retry; /* one attempt only (used to probe https on loopback) */
	/* GET from this byte on ("Range: bytes=N-"; 0: the whole body). The
	 * sink sees the body from byte N whatever the server does: a 206 must
	 * start there (else the request fails, range_mismatch), a 200 that
	 * ignored the Range has its first N bytes dropped. */
	int64_t range_from;
};

/* What came back. Filled by rg_http_do in every case (curl_code and the
 * flags also on failure); release with rg_http_resp_clear. */
struct rg_http_resp {
	long status;	/* final HTTP status, 0 when none was received */
	int curl_code;	/* CURLcode of the last attempt (0 = CURLE_OK) */
	char *url;	/* the URL that gave the final response */
	char *location; /* captured response headers, or NULL */
	char *content_type;
	char *digest;		/* Docker-Content-Digest */
	char *www_authenticate; /* every WWW-Authenticate header joined by ", " */
	char *retry_after;
	char *range;
	char *link; /* Link (pagination) */
	int64_t content_length;	   /* -1 when absent */
	bool body_started;	   /* the source was asked for bytes */
	bool delivered;		   /* bytes reached the sink */
	bool too_large;		   /* the body did not fit in req->out */
	bool sink_aborted;	   /* the sink returned -1 */
	bool source_aborted;	   /* the source returned -1 */
	bool source_size_mismatch; /* the source gave fewer or more bytes than announced */
	bool range_mismatch;	   /* a 206 that does not start at req->range_from */
};

void rg_http_resp_clear(struct rg_http_resp *r);

/* Perform the request (with redirects and retries). Returns 0 when an HTTP
 * response was received, whatever its status; -1 when none was (connection,
 * TLS, timeout, a body over its limit, a sink or source abort), with e
 * saying what failed. resp is always filled. */
int rg_http_do(struct rg_http *h, const struct rg_http_req *req, struct rg_http_resp *resp,
	       struct err *e);

/* Resolve location (absolute or relative) against base. The result must be
 * an http or https URL. *ret_url is malloc'd. ERR_OPERATIONAL with a message
 * naming the bad Location otherwise. */
int rg_url_resolve(const char *base, const char *location, char **ret_url, struct err *e);

/* url with "key=value" appended to its query ('?' or '&' as needed), value
 * percent-encoded. *ret_url is malloc'd. */
int rg_url_add_query(const char *url, const char *key, const char *value, char **ret_url,
		     struct err *e);

/* True when a and b have the same scheme, host (case-insensitive) and port
 * (default ports made explicit). False when either does not parse. */
bool rg_url_same_origin(const char *a, const char *b);

/* True when url's host is a loopback name or address (localhost,
 * 127.0.0.0/8, ::1). */
bool rg_url_is_loopback(const char *url);

/* url without its query and fragment, for messages, into out (truncated). */
void rg_url_for_message(const char *url, char *out, size_t n);

/* Seconds to wait from a Retry-After value (delta-seconds or HTTP-date),
 * capped at RG_HTTP_RETRY_AFTER_MAX; -1 when unparsable. now is the current
 * wall-clock time (for dates). */
long rg_retry_after_seconds(const char *value, long long now);

#endif
