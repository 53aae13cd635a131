/* distribution.c - the OCI distribution (registry HTTP API v2) transport:
 * setup, authentication round trips, error messages, manifests and blob
 * reads. Uploads and mounts are in upload.c.
 *
 * One transport serves one repository and is used by several threads at
 * once: each request takes its own libcurl handle (http.c), the choice of
 * scheme and the first ping happen once under setup_lock, and the auth state
 * has its own locks (auth.c).
 */
#include "distribution.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../manifest/mediatype.h"

#define SUMMARY_MAX 240 /* registry error text quoted in a message */
#define MEDIA_TYPE_MAX 255
#define REFERENCE_MAX 200

/* ---- validation ---- */

bool dist_path_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 255 || s[0] == '/' || s[n - 1] == '/' || s[0] == '.' || strstr(s, "//") ||
	    strstr(s, "..") || strstr(s, "/."))
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-' || s[i] == '/'))
			return false;
	return true;
}

bool dist_digest_ok(const char *s)
{
	size_t hex, i;

	if (strncmp(s, "sha256:", 7) == 0)
		hex = 64;
	else if (strncmp(s, "sha512:", 7) == 0)
		hex = 128;
	else
		return false;
	for (i = 0; i < hex; i++)
		if (!((s[7 + i] >= '0' && s[7 + i] <= '9') || (s[7 + i] >= 'a' && s[7 + i] <= 'f')))
			return false;
	return s[7 + hex] == '\0';
}

/* A tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}) or a digest. */
static bool reference_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (dist_digest_ok(s))
		return true;
	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* "repo:tag" or "repo@digest", for messages. */
static void subject_of(struct rg_transport *t, const char *reference, char *out, size_t n)
{
	snprintf(out, n, "%s%c%.*s", t->repo, dist_digest_ok(reference) ? '@' : ':', REFERENCE_MAX,
		 reference);
}

/* ---- small helpers ---- */

int dist_scopes_init(struct rg_transport *t, enum dist_access access, const char *also,
		     struct dist_scopes *sc, struct err *e)
{
	memset(sc, 0, sizeof(*sc));
	if (asprintf(&sc->owned[0], "repository:%s:%s", t->path,
		     access == DIST_PUSH     ? "pull,push"
		     : access == DIST_DELETE ? "delete"
					     : "pull") < 0) {
		sc->owned[0] = NULL;
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	sc->s[sc->n++] = sc->owned[0];
	if (also) {
		if (asprintf(&sc->owned[1], "repository:%s:pull", also) < 0) {
			sc->owned[1] = NULL;
			dist_scopes_free(sc);
			return err_set(e, ERR_OPERATIONAL, "out of memory");
		}
		sc->s[sc->n++] = sc->owned[1];
	}
	return 0;
}

void dist_scopes_free(struct dist_scopes *sc)
{
	free(sc->owned[0]);
	free(sc->owned[1]);
	memset(sc, 0, sizeof(*sc));
}

char *dist_url(struct rg_transport *t, const char *suffix)
{
	char *u;

	if (asprintf(&u, "%s/v2/%s%s", t->base, t->path, suffix) < 0)
		return NULL;
	return u;
}

static void sanitize(const char *s, size_t n, char *out, size_t outn)
{
	size_t i, o = 0;

	for (i = 0; i < n && s[i] && o + 1 < outn; i++)
		out[o++] = ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) ? s[i] : ' ';
	out[o] = '\0';
}

/* "CODE: message" from a Distribution error body (JSON {"errors":[...]}), or
 * a line of plain text; "" when there is nothing useful. Registry text is
 * hostile: control characters are replaced and the length bounded. */
static void error_summary(const struct buf *b, char *out, size_t n)
{
	json_t *root, *errs, *first;
	const char *code = NULL, *msg = NULL;
	char tmp[SUMMARY_MAX];
	size_t count = 0;

	out[0] = '\0';
	if (!b || !b->data || b->len == 0)
		return;
	root = json_loadb(b->data, b->len, 0, NULL);
	if (root) {
		errs = json_object_get(root, "errors");
		first = json_array_get(errs, 0);
		count = json_array_size(errs);
		if (json_is_string(json_object_get(first, "code")))
			code = json_string_value(json_object_get(first, "code"));
		if (json_is_string(json_object_get(first, "message")))
			msg = json_string_value(json_object_get(first, "message"));
		if (code || msg) {
			snprintf(tmp, sizeof(tmp), "%s%s%s%s", code ? code : "",
				 code && msg ? ": " : "", msg ? msg : "",
				 count > 1 ? " (and more)" : "");
			sanitize(tmp, sizeof(tmp), out, n);
		}
		json_decref(root);
		return;
	}
	/* Plain text (a proxy's answer); an HTML page says nothing useful. */
	if (b->data[0] != '<')
		sanitize(b->data, strcspn(b->data, "\r\n"), out, n < 121 ? n : 121);
}

int dist_status_error(struct rg_transport *t, const char *subject, const struct rg_http_resp *resp,
		      const struct buf *errb, const char *not_found, struct err *e)
{
	char sum[SUMMARY_MAX], status[SUMMARY_MAX + 16];
	long s = resp->status;

	error_summary(errb, sum, sizeof(sum));
	/* "401 UNAUTHORIZED: authentication required", or "HTTP 401" */
	snprintf(status, sizeof(status), "%s%ld%s%s", sum[0] ? "" : "HTTP ", s, sum[0] ? " " : "",
		 sum);
	if ((s == 401 || s == 403) && resp->url && t->base &&
	    !rg_url_same_origin(resp->url, t->base)) {
		char where[256];

		/* A redirect target (blob storage) said no: not our credentials,
		 * which never go there; usually an expired signed URL. */
		rg_url_for_message(resp->url, where, sizeof(where));
		err_set(e, ERR_OPERATIONAL,
			"%s: the storage %s redirected to (%s) refused access: %s; try again",
			subject, t->registry, where, status);
	} else if (s == 401 || s == 403) {
		char other[40] = "";
		struct rg_challenge ch;

		if (resp->www_authenticate &&
		    rg_challenge_parse(resp->www_authenticate, &ch, NULL) == 0 &&
		    ch.scheme == RG_AUTH_NONE && ch.other[0])
			snprintf(other, sizeof(other), "%s", ch.other);
		if (other[0])
			err_set(e, ERR_OPERATIONAL,
				"%s: %s requires the '%s' authentication scheme, which inlay does "
				"not support (%s)",
				subject, t->registry, other, status);
		else if (rg_auth_has_creds(t->auth))
			err_set(e, ERR_OPERATIONAL,
				"%s: authentication failed for %s (check --creds or your auth "
				"file, and that the account may %s this repository): %s",
				subject, t->registry, s == 403 ? "access" : "use", status);
		else
			err_set(
			    e, ERR_OPERATIONAL,
			    "%s: %s requires authentication and no credentials were found for it "
			    "(give --creds USER:PASSWORD or log in so that an auth file has "
			    "them): %s",
			    subject, t->registry, status);
	} else if (s == 404) {
		err_set(e, ERR_OPERATIONAL, "%s: %s%s%s", subject,
			not_found ? not_found : "not found", sum[0] ? ": " : "", sum);
	} else if (s == 429) {
		err_set(e, ERR_OPERATIONAL,
			"%s: %s is rate limiting requests (%s); try again later", subject,
			t->registry, status);
	} else if (s >= 500) {
		err_set(e, ERR_OPERATIONAL,
			"%s: %s failed (%s); try again later or check the registry", subject,
			t->registry, status);
	} else if (s == 400) {
		err_set(e, ERR_OPERATIONAL, "%s: %s rejected the request: %s", subject, t->registry,
			status);
	} else if (s == 405) {
		err_set(e, ERR_OPERATIONAL,
			"%s: %s does not allow this operation (%s); is it read-only or a "
			"pull-through cache?",
			subject, t->registry, status);
	} else {
		err_set(e, ERR_OPERATIONAL, "%s: unexpected answer from %s: %s", subject,
			t->registry, status);
	}
	if (e)
		e->http_status = (int)s;
	return -1;
}

/* ---- setup: scheme and ping ---- */

/* libcurl failures that mean "https spoken to a plain HTTP server". */
static bool looks_like_plain_http(int code)
{
	return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_RECV_ERROR ||
	       code == CURLE_SEND_ERROR || code == CURLE_GOT_NOTHING;
}

static int ping(struct rg_transport *t, const char *base, bool probe, struct rg_http_resp *resp,
		struct err *e)
{
	struct rg_http_req req = {0};
	char *url;
	int r;

	if (asprintf(&url, "%s/v2/", base) < 0)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	req.method = "GET";
	req.url = url;
	req.follow_redirects = true;
	req.no_retry = probe;
	r = rg_http_do(t->http, &req, resp, e);
	free(url);
	return r;
}

int dist_ready(struct rg_transport *t, struct err *e)
{
	struct rg_http_resp resp = {0};
	struct rg_challenge ch;
	char *https = NULL, *http = NULL, *base = NULL;
	int r, rc = -1;

	pthread_mutex_lock(&t->setup_lock);
	if (t->ready) {
		pthread_mutex_unlock(&t->setup_lock);
		return 0;
	}
	if (asprintf(&https, "https://%s", t->host) < 0 ||
	    asprintf(&http, "http://%s", t->host) < 0) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (t->opt.plain_http) {
		base = http;
		r = ping(t, base, false, &resp, e);
	} else if (t->loopback && ping(t, http, true, &resp, NULL) == 0 &&
		   (resp.status == 200 || resp.status == 401)) {
		/* A local registry that answers GET /v2/ over plain HTTP as a
		 * registry is used over HTTP, as Docker does. Asking HTTP first
		 * spares the common case the TLS handshake and the load of the
		 * system CA store (about 40 ms a process); only this anonymous
		 * probe ever goes in the clear, and only to loopback. */
		base = http;
		r = 0;
	} else if (t->loopback) {
		struct err https_err;

		/* Docker's rule for local registries: https when it answers,
		 * plain http when the server does not speak TLS. The first
		 * probe has no retries (a TLS failure is not worth retrying);
		 * a refused connection (a registry still starting) gets them. */
		rg_http_resp_clear(&resp);
		base = https;
		err_clear(&https_err);
		r = ping(t, base, true, &resp, &https_err);
		if (r < 0 && !looks_like_plain_http(resp.curl_code)) {
			rg_http_resp_clear(&resp);
			r = ping(t, base, false, &resp, &https_err);
		}
		if (r < 0 && looks_like_plain_http(resp.curl_code)) {
			rg_http_resp_clear(&resp);
			base = http;
			r = ping(t, base, false, &resp, e);
			if (r < 0 && e) {
				char http_msg[ERR_MSG_MAX];

				memcpy(http_msg, e->msg, sizeof(http_msg));
				err_set(
				    e, ERR_OPERATIONAL,
				    "cannot reach registry %s over https (%.200s) nor over http "
				    "(%.200s)",
				    t->registry, https_err.msg, http_msg);
			}
		} else if (r < 0 && e) {
			*e = https_err;
		}
	} else {
		base = https;
		r = ping(t, base, false, &resp, e);
	}
	if (r < 0) {
		if (resp.curl_code == CURLE_PEER_FAILED_VERIFICATION)
			err_prefix(e,
				   "%s: the TLS certificate is not trusted (use --ca-file FILE "
				   "with the registry's CA, or --insecure)",
				   t->registry);
		else if (base == https && resp.curl_code == CURLE_SSL_CONNECT_ERROR)
			err_prefix(e,
				   "%s: the TLS handshake failed (if the registry speaks plain "
				   "HTTP, use --plain-http)",
				   t->registry);
		else if (!(t->loopback && base == http))
			err_prefix(e, "cannot reach registry %s", t->registry);
		goto out;
	}
	if (resp.status == 400 && base == http) {
		/* Go's TLS servers answer plain HTTP this way. */
		err_set(e, ERR_OPERATIONAL,
			"%s answered GET /v2/ over plain HTTP with 400 Bad Request; it probably "
			"speaks https (drop --plain-http)",
			t->registry);
		if (e)
			e->http_status = 400;
		goto out;
	}
	memset(&ch, 0, sizeof(ch));
	if (resp.status == 401) {
		if (!resp.www_authenticate) {
			err_set(e, ERR_OPERATIONAL,
				"%s answered 401 without saying how to authenticate "
				"(no WWW-Authenticate header)",
				t->registry);
			goto out;
		}
		if (rg_challenge_parse(resp.www_authenticate, &ch, e) < 0) {
			err_prefix(e, "%s", t->registry);
			goto out;
		}
	} else if (resp.status >= 500 || resp.status == 429) {
		dist_status_error(t, t->registry, &resp, NULL, NULL, e);
		goto out;
	}
	/* Any other answer (200, or a 404 from an odd front end) means no
	 * authentication until a request says otherwise. */
	rg_auth_set_challenge(t->auth, &ch);
	t->base = base == http ? http : https;
	if (base == http)
		http = NULL; /* transferred */
	else
		https = NULL; /* transferred */
	t->ready = true;
	rc = 0;
out:
	pthread_mutex_unlock(&t->setup_lock);
	rg_http_resp_clear(&resp);
	free(https);
	free(http);
	return rc;
}

/* ---- requests ---- */

int dist_do(struct rg_transport *t, struct rg_http_req *req, const struct dist_scopes *sc,
	    struct rg_http_resp *resp, struct err *e)
{
	int attempt, r;

	for (attempt = 0;; attempt++) {
		struct rg_challenge ch;
		char *authz = NULL;

		if (rg_url_same_origin(req->url, t->base) &&
		    rg_auth_header(t->auth, sc->s, sc->n, &authz, e) < 0)
			return -1;
		req->authorization = authz;
		r = rg_http_do(t->http, req, resp, e);
		req->authorization = NULL;
		if (authz) {
			explicit_bzero(authz, strlen(authz));
			free(authz);
		}
		/* DELETE (of an upload session) needs a "delete" grant that
		 * token services rarely give: its 401 says nothing about the
		 * token, so it must not throw the cached one away. */
		if (r < 0 || resp->status != 401 || attempt > 0 ||
		    (req->source && resp->body_started) || strcmp(req->method, "DELETE") == 0)
			return r;
		/* The registry wants (other) credentials for this request: the
		 * token expired, or /v2/ was open but this repository is not. */
		if (resp->www_authenticate &&
		    rg_challenge_parse(resp->www_authenticate, &ch, NULL) == 0 &&
		    ch.scheme != RG_AUTH_NONE)
			rg_auth_set_challenge(t->auth, &ch);
		else if (rg_auth_scheme(t->auth) == RG_AUTH_NONE)
			return 0;
		rg_auth_invalidate(t->auth, sc->s, sc->n);
		rg_http_resp_clear(resp);
	}
}

/* The media type without parameters, if it is a sane header value. */
static char *media_type_of(const char *ct)
{
	size_t n, i;

	if (!ct)
		return NULL;
	n = strcspn(ct, "; \t");
	if (n == 0 || n > MEDIA_TYPE_MAX)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)ct[i] <= 0x20 || (unsigned char)ct[i] >= 0x7f)
			return NULL;
	return strndup(ct, n);
}

static void size_text(size_t bytes, char *out, size_t n)
{
	if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
		snprintf(out, n, "%zu MiB", bytes / (1024 * 1024));
	else
		snprintf(out, n, "%zu bytes", bytes);
}

static int manifest_get(struct rg_transport *t, const char *reference, struct buf *out,
			char **ret_media_type, char **ret_digest, struct err *e)
{
	static const char *const headers[] = {"Accept: " MT_ACCEPT_MANIFESTS, NULL};
	struct rg_http_req req = {0};
	struct rg_http_resp resp = {0};
	struct dist_scopes sc = {0};
	char subject[512], suffix[REFERENCE_MAX + 16], limit[32], *url = NULL;
	char *mt = NULL, *dg = NULL;
	struct buf errb;
	int rc = -1;

	buf_init(&errb, LIMIT_ERROR_BODY_BYTES);
	if (!reference_ok(reference))
		return err_set(e, ERR_INPUT, "%s: '%.100s' is neither a tag nor a digest", t->repo,
			       reference);
	subject_of(t, reference, subject, sizeof(subject));
	if (dist_ready(t, e) < 0 || dist_scopes_init(t, DIST_PULL, NULL, &sc, e) < 0)
		goto out;
	snprintf(suffix, sizeof(suffix), "/manifests/%s", reference);
	url = dist_url(t, suffix);
	if (!url) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	req.method = "GET";
	req.url = url;
	req.headers = headers;
	req.out = out;
	req.err_body = &errb;
	req.follow_redirects = true;
	if (dist_do(t, &req, &sc, &resp, e) < 0) {
		if (resp.too_large) {
			size_text(out->max, limit, sizeof(limit));
			err_set(e, ERR_INPUT, "%s: manifest larger than %s; inlay refuses it",
				subject, limit);
		} else {
			err_prefix(e, "%s: read manifest", subject);
		}
		goto out;
	}
	if (resp.status != 200) {
		dist_status_error(t, subject, &resp, &errb,
				  "manifest unknown (the image or tag does not exist)", e);
		goto out;
	}
	mt = media_type_of(resp.content_type);
	if (resp.digest && dist_digest_ok(resp.digest)) {
		dg = strdup(resp.digest);
		if (!dg) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
	}
	*ret_media_type = mt;
	*ret_digest = dg;
	mt = dg = NULL; /* transferred */
	rc = 0;
out:
	free(mt);
	free(dg);
	free(url);
	dist_scopes_free(&sc);
	rg_http_resp_clear(&resp);
	buf_free(&errb);
	return rc;
}

static int manifest_put(struct rg_transport *t, const char *reference, const void *data, size_t len,
			const char *media_type, struct err *e)
{
	struct rg_http_req req = {0};
	struct rg_http_resp resp = {0};
	struct dist_scopes sc = {0};
	char subject[512], suffix[REFERENCE_MAX + 16], ctype[MEDIA_TYPE_MAX + 16], *url = NULL;
	const char *headers[2] = {ctype, NULL};
	struct buf errb;
	char *mt;
	int rc = -1;

	if (!reference_ok(reference))
		return err_set(e, ERR_INPUT, "%s: '%.100s' is neither a tag nor a digest", t->repo,
			       reference);
	mt = media_type_of(media_type);
	if (!mt || strlen(mt) != strlen(media_type))
		return err_set(e, ERR_INPUT, "%s: invalid manifest media type", t->repo);
	snprintf(ctype, sizeof(ctype), "Content-Type: %s", mt);
	free(mt);
	buf_init(&errb, LIMIT_ERROR_BODY_BYTES);
	subject_of(t, reference, subject, sizeof(subject));
	if (dist_ready(t, e) < 0 || dist_scopes_init(t, DIST_PUSH, NULL, &sc, e) < 0)
		goto out;
	snprintf(suffix, sizeof(suffix), "/manifests/%s", reference);
	url = dist_url(t, suffix);
	if (!url) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	req.method = "PUT";
	req.url = url;
	req.headers = headers;
	req.has_body = true;
	req.body = data;
	req.body_len = len;
	req.err_body = &errb;
	req.follow_redirects = true; /* 307/308 keep the method and body */
	if (dist_do(t, &req, &sc, &resp, e) < 0) {
		err_prefix(e, "%s: push manifest", subject);
		goto out;
	}
	/* 201 Created is the specified answer; any 2xx means it is stored. */
	if (resp.status < 200 || resp.status > 299) {
		strncat(subject, ": push manifest", sizeof(subject) - strlen(subject) - 1);
		dist_status_error(t, subject, &resp, &errb,
				  "the registry does not know this repository or an image part", e);
		goto out;
	}
	rc = 0;
out:
	free(url);
	dist_scopes_free(&sc);
	rg_http_resp_clear(&resp);
	buf_free(&errb);
	return rc;
}

static int blob_exists(struct rg_transport *t, const char *digest, int64_t *ret_size,
		       struct err *e)
{
	struct rg_http_req req = {0};
	struct rg_http_resp resp = {0};
	struct dist_scopes sc = {0};
	char subject[512], suffix[160], *url = NULL;
	int rc = -1;

	if (!dist_digest_ok(digest))
		return err_set(e, ERR_INPUT, "%s: '%.100s' is not a digest", t->repo, digest);
	snprintf(subject, sizeof(subject), "%s@%s", t->repo, digest);
	if (dist_ready(t, e) < 0 || dist_scopes_init(t, DIST_PULL, NULL, &sc, e) < 0)
		goto out;
	snprintf(suffix, sizeof(suffix), "/blobs/%s", digest);
	url = dist_url(t, suffix);
	if (!url) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	req.method = "HEAD";
	req.url = url;
	req.follow_redirects = true;
	if (dist_do(t, &req, &sc, &resp, e) < 0) {
		err_prefix(e, "%s: check blob", subject);
		goto out;
	}
	if (resp.status == 200) {
		rc = 1;
		if (ret_size)
			*ret_size = resp.content_length;
	} else if (resp.status == 404)
		rc = 0;
	else
		dist_status_error(t, subject, &resp, NULL, NULL, e);
out:
	free(url);
	dist_scopes_free(&sc);
	rg_http_resp_clear(&resp);
	return rc;
}

static int blob_fetch(struct rg_transport *t, const char *digest, uint64_t offset,
		      rg_sink_fn sink, void *ctx, struct err *e)
{
	struct rg_http_req req = {0};
	struct rg_http_resp resp = {0};
	struct dist_scopes sc = {0};
	char subject[512], suffix[160], *url = NULL;
	struct buf errb;
	int rc = -1;

	if (!dist_digest_ok(digest))
		return err_set(e, ERR_INPUT, "%s: '%.100s' is not a digest", t->repo, digest);
	buf_init(&errb, LIMIT_ERROR_BODY_BYTES);
	if (offset)
		snprintf(subject, sizeof(subject), "%s@%s (from byte %llu)", t->repo, digest,
			 (unsigned long long)offset);
	else
		snprintf(subject, sizeof(subject), "%s@%s", t->repo, digest);
	if (dist_ready(t, e) < 0 || dist_scopes_init(t, DIST_PULL, NULL, &sc, e) < 0)
		goto out;
	snprintf(suffix, sizeof(suffix), "/blobs/%s", digest);
	url = dist_url(t, suffix);
	if (!url) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	/* Blobs are often redirected to storage on another host; http.c
	 * follows and keeps the Authorization header at home. */
	req.method = "GET";
	req.url = url;
	req.sink = sink;
	req.sink_ctx = ctx;
	req.err_body = &errb;
	req.follow_redirects = true;
	req.range_from = (int64_t)offset;
	if (dist_do(t, &req, &sc, &resp, e) < 0) {
		err_prefix(e, "%s: download blob", subject);
		goto out;
	}
	if (resp.status != 200 && !(offset && resp.status == 206)) {
		dist_status_error(t, subject, &resp, &errb,
				  "blob unknown (the registry does not have it)", e);
		goto out;
	}
	rc = 0;
out:
	free(url);
	dist_scopes_free(&sc);
	rg_http_resp_clear(&resp);
	buf_free(&errb);
	return rc;
}

/* One page of a listing (tags, catalog) at url: the raw body into out;
 * *ret_more when the registry links a next page. */
static int list_get(struct rg_transport *t, char *url, const struct dist_scopes *sc, int n,
		    const char *last, const char *subject, const char *unknown, struct buf *out,
		    bool *ret_more, struct err *e)
{
	static const char *const headers[] = {"Accept: application/json", NULL};
	struct rg_http_req req = {0};
	struct rg_http_resp resp = {0};
	char num[16], *u2 = NULL;
	struct buf errb;
	int rc = -1;

	buf_init(&errb, LIMIT_ERROR_BODY_BYTES);
	if (n > 0) {
		snprintf(num, sizeof(num), "%d", n);
		if (rg_url_add_query(url, "n", num, &u2, e) < 0)
			goto out;
		free(url);
		url = u2;
		u2 = NULL;
	}
	if (last) {
		if (rg_url_add_query(url, "last", last, &u2, e) < 0)
			goto out;
		free(url);
		url = u2;
		u2 = NULL;
	}
	req.method = "GET";
	req.url = url;
	req.headers = headers;
	req.out = out;
	req.err_body = &errb;
	req.follow_redirects = true;
	if (dist_do(t, &req, sc, &resp, e) < 0) {
		err_prefix(e, "%s", subject);
		goto out;
	}
	if (resp.status != 200) {
		dist_status_error(t, subject, &resp, &errb, unknown, e);
		goto out;
	}
	*ret_more = resp.link && strstr(resp.link, "rel=\"next\"");
	rc = 0;
out:
	free(url);
	free(u2);
	rg_http_resp_clear(&resp);
	buf_free(&errb);
	return rc;
}

static int tags_list(struct rg_transport *t, int n, const char *last, struct buf *out,
		     bool *ret_more, struct err *e)
{
	struct dist_scopes sc = {0};
	char subject[512], *url;
	int rc = -1;

	snprintf(subject, sizeof(subject), "%s: list tags", t->repo);
	if (dist_ready(t, e) < 0 || dist_scopes_init(t, DIST_PULL, NULL, &sc, e) < 0)
		return -1;
	if (!(url = dist_url(t, "/tags/list")))
		err_set(e, ERR_OPERATIONAL, "out of memory");
	else
		rc = list_get(t, url, &sc, n, last, subject, "repository unknown", out, ret_more, e);
	dist_scopes_free(&sc);
	return rc;
}

static int catalog(struct rg_transport *t, int n, const char *last, struct buf *out,
		   bool *ret_more, struct err *e)
{
	struct dist_scopes sc = {.s = {"registry:catalog:*"}, .n = 1};
	char subject[512], *url;

	snprintf(subject, sizeof(subject), "%s: list repositories", t->registry);
	if (dist_ready(t, e) < 0)
		return -1;
	if (asprintf(&url, "%s/v2/_catalog", t->base) < 0)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	return list_get(t, url, &sc, n, last, subject,
			"the registry does not list its repositories (no _catalog)", out, ret_more, e);
}

static int manifest_delete(struct rg_transport *t, const char *digest, struct err *e)
{
	struct rg_http_req req = {0};
	struct rg_http_resp resp = {0};
	struct dist_scopes sc = {0};
	char subject[512], suffix[REFERENCE_MAX + 16], *url = NULL;
	struct buf errb;
	int rc = -1;

	buf_init(&errb, LIMIT_ERROR_BODY_BYTES);
	subject_of(t, digest, subject, sizeof(subject));
	strncat(subject, ": delete manifest", sizeof(subject) - strlen(subject) - 1);
	if (dist_ready(t, e) < 0 || dist_scopes_init(t, DIST_DELETE, NULL, &sc, e) < 0)
		goto out;
	snprintf(suffix, sizeof(suffix), "/manifests/%s", digest);
	if (!(url = dist_url(t, suffix))) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	req.method = "DELETE";
	req.url = url;
	req.err_body = &errb;
	if (dist_do(t, &req, &sc, &resp, e) < 0) {
		err_prefix(e, "%s", subject);
		goto out;
	}
	if (resp.status == 405) {
		err_set(e, ERR_OPERATIONAL,
			"%s: %s does not allow deletes (Distribution needs storage.delete.enabled: "
			"true)",
			subject, t->registry);
		e->http_status = 405;
		goto out;
	}
	if (resp.status < 200 || resp.status > 299) {
		dist_status_error(t, subject, &resp, &errb, "manifest unknown", e);
		goto out;
	}
	rc = 0;
out:
	free(url);
	dist_scopes_free(&sc);
	rg_http_resp_clear(&resp);
	buf_free(&errb);
	return rc;
}

static void dist_free(struct rg_transport *t)
{
	if (!t)
		return;
	rg_auth_free(t->auth);
	rg_http_free(t->http);
	pthread_mutex_destroy(&t->setup_lock);
	free(t->host);
	free(t->path);
	free(t->auth_key);
	free(t->registry);
	free(t->repo);
	free(t->base);
	free(t);
}

static const struct rg_transport_ops dist_ops = {
    .manifest_get = manifest_get,
    .manifest_put = manifest_put,
    .blob_exists = blob_exists,
    .blob_open = NULL, /* blobs are behind HTTP, not in files */
    .tags_list = tags_list,
    .manifest_delete = manifest_delete,
    .catalog = catalog,
    .blob_fetch = blob_fetch,
    .blob_upload = dist_blob_upload,
    .blob_mount = dist_blob_mount,
    .free = dist_free,
};

static bool host_ok(const char *h)
{
	size_t i, n = strlen(h);

	if (n == 0 || n > 255)
		return false;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_' ||
		      c == '%'))
			return false;
	}
	return true;
}

int rg_distribution_open(const char *host, const char *path, const char *auth_key, bool loopback,
			 const struct rg_options *opt, struct rg_transport **ret,
			 const struct rg_transport_ops **ret_ops, struct err *e)
{
	struct rg_transport *t;
	char norm[256];

	if (!host_ok(host))
		return err_set(e, ERR_INPUT, "invalid registry host '%.100s'", host);
	if (!dist_path_ok(path))
		return err_set(e, ERR_INPUT, "invalid repository name '%.100s'", path);
	t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	pthread_mutex_init(&t->setup_lock, NULL);
	t->opt = *opt;
	t->loopback = loopback;
	t->host = strdup(host);
	t->path = strdup(path);
	t->auth_key = strdup(auth_key ? auth_key : host);
	rg_registry_key_normalize(t->auth_key, norm, sizeof(norm));
	/* Docker Hub is "docker.io" to users, whatever the wire host. */
	t->registry = strdup(strcmp(norm, "docker.io") == 0 ? "docker.io" : host);
	if (!t->host || !t->path || !t->auth_key || !t->registry ||
	    asprintf(&t->repo, "%s/%s", t->registry, path) < 0) {
		t->repo = NULL;
		dist_free(t);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	if (rg_http_new(opt, &t->http, e) < 0 ||
	    rg_auth_new(t->http, t->auth_key, t->path, t->registry, opt, &t->auth, e) < 0) {
		dist_free(t);
		return -1;
	}
	*ret = t;
	*ret_ops = &dist_ops;
	return 0;
}
