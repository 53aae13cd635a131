/* upload.c - blob uploads and cross-repository mounts of the distribution
 * transport (see distribution.h).
 *
 * An upload is a session: POST /v2/<name>/blobs/uploads/ answers 202 with a
 * Location, the bytes go to that Location, and the final PUT ?digest=
 * commits them. A known size is sent in one PUT; an unknown size as one
 * chunked PATCH then an empty PUT. Whatever goes wrong after the session was
 * opened, it is DELETEd, so a failed or aborted upload leaves nothing behind;
 * and since the source is checked before its last byte leaves (http.c), the
 * registry never holds a complete body that the source refused.
 */
#include "distribution.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../manifest/mediatype.h"

static const char *const octet_headers[] = {"Content-Type: application/octet-stream", NULL};

/* Best effort: an abandoned session is garbage-collected by the registry
 * anyway, so failures here are ignored. */
static void delete_session(struct rg_transport *t, const char *location,
			   const struct dist_scopes *sc)
{
	struct rg_http_req req = {0};
	struct rg_http_resp resp = {0};
	struct err ignored;

	req.method = "DELETE";
	req.url = location;
	dist_do(t, &req, sc, &resp, &ignored);
	rg_http_resp_clear(&resp);
}

/* POST uploads/ (with query, may be NULL: "mount=...&from=..."); on 202
 * *ret_location is the session URL. Returns the HTTP status (> 0), or -1
 * when no answer came. */
static long open_session(struct rg_transport *t, const char *mount_digest, const char *from,
			 const struct dist_scopes *sc, struct buf *errb, char **ret_location,
			 struct rg_http_resp *resp, struct err *e)
{
	struct rg_http_req req = {0};
	char *url = NULL, *tmp = NULL;
	long status = -1;

	url = dist_url(t, "/blobs/uploads/");
	if (!url)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (mount_digest) {
		if (rg_url_add_query(url, "mount", mount_digest, &tmp, e) < 0)
			goto out;
		free(url);
		url = tmp;
		if (rg_url_add_query(url, "from", from, &tmp, e) < 0) {
			tmp = NULL;
			goto out;
		}
		free(url);
		url = tmp;
	}
	tmp = NULL;
	req.method = "POST";
	req.url = url;
	req.has_body = true; /* empty: Content-Length: 0 */
	req.err_body = errb;
	req.follow_redirects = true;
	if (dist_do(t, &req, sc, resp, e) < 0)
		goto out;
	status = resp->status;
	if (status == 202) {
		if (!resp->location) {
			err_set(e, ERR_OPERATIONAL,
				"%s: the registry opened an upload without saying where to send it "
				"(no Location header)",
				t->repo);
			status = -1;
			goto out;
		}
		if (rg_url_resolve(resp->url ? resp->url : url, resp->location, ret_location, e) <
		    0) {
			err_prefix(e, "%s: upload session", t->repo);
			status = -1;
			goto out;
		}
	}
out:
	free(url);
	free(tmp);
	return status;
}

/* The session's next URL from a 202's Location, or keep the current one. */
static int next_location(const struct rg_http_resp *resp, char **loc, struct err *e)
{
	char *n;

	if (!resp->location)
		return 0;
	if (rg_url_resolve(resp->url ? resp->url : *loc, resp->location, &n, e) < 0)
		return -1;
	free(*loc);
	*loc = n;
	return 0;
}

static int send_error(const char *subject, const struct rg_http_resp *resp, int64_t size,
		      struct err *e)
{
	if (resp->source_aborted)
		return err_set(e, ERR_OPERATIONAL,
			       "%s aborted: its data source failed; nothing was committed",
			       subject);
	if (resp->source_size_mismatch)
		return err_set(e, ERR_OPERATIONAL,
			       "%s aborted: the data was not %lld bytes long as announced; nothing "
			       "was committed",
			       subject, (long long)size);
	return err_prefix(e, "%s", subject);
}

int dist_blob_upload(struct rg_transport *t, const char *digest, int64_t size, rg_source_fn source,
		     void *ctx, struct err *e)
{
	struct rg_http_req req = {0};
	struct rg_http_resp resp = {0};
	struct dist_scopes sc = {0};
	char subject[512], *loc = NULL, *put_url = NULL;
	struct buf errb;
	long status;
	int rc = -1;

	if (!dist_digest_ok(digest))
		return err_set(e, ERR_INPUT, "%s: '%.100s' is not a digest", t->repo, digest);
	if (size < -1)
		return err_set(e, ERR_INPUT, "%s: invalid blob size %lld", t->repo,
			       (long long)size);
	buf_init(&errb, LIMIT_ERROR_BODY_BYTES);
	snprintf(subject, sizeof(subject), "%s@%s", t->repo, digest);
	if (dist_ready(t, e) < 0 || dist_scopes_init(t, DIST_PUSH, NULL, &sc, e) < 0)
		goto out;

	status = open_session(t, NULL, NULL, &sc, &errb, &loc, &resp, e);
	if (status < 0) {
		err_prefix(e, "%s: start upload", subject);
		goto out;
	}
	if (status != 202) {
		strncat(subject, ": start upload", sizeof(subject) - strlen(subject) - 1);
		dist_status_error(t, subject, &resp, &errb, "repository unknown", e);
		goto out;
	}
	strncat(subject, ": upload", sizeof(subject) - strlen(subject) - 1);
	rg_http_resp_clear(&resp);

	if (size < 0) {
		/* Unknown size: stream it all in one chunked PATCH. */
		req.method = "PATCH";
		req.url = loc;
		req.headers = octet_headers;
		req.source = source;
		req.source_ctx = ctx;
		req.source_size = -1;
		req.err_body = &errb;
		if (dist_do(t, &req, &sc, &resp, e) < 0) {
			send_error(subject, &resp, size, e);
			goto abandon;
		}
		if (resp.status != 202 && resp.status != 204) {
			dist_status_error(t, subject, &resp, &errb, "upload session unknown", e);
			goto abandon;
		}
		if (next_location(&resp, &loc, e) < 0)
			goto abandon;
		rg_http_resp_clear(&resp);
		memset(&req, 0, sizeof(req));
		req.has_body = true; /* the commit itself carries no bytes */
	} else {
		req.source = source;
		req.source_ctx = ctx;
		req.source_size = size;
	}
	if (rg_url_add_query(loc, "digest", digest, &put_url, e) < 0)
		goto abandon;
	req.method = "PUT";
	req.url = put_url;
	req.headers = octet_headers;
	req.err_body = &errb;
	if (dist_do(t, &req, &sc, &resp, e) < 0) {
		send_error(subject, &resp, size, e);
		goto abandon;
	}
	/* 201 Created is the specified answer; any 2xx means committed. */
	if (resp.status < 200 || resp.status > 299) {
		dist_status_error(t, subject, &resp, &errb, "upload session unknown", e);
		goto abandon;
	}
	rc = 0;
	goto out;
abandon:
	delete_session(t, loc, &sc);
out:
	free(loc);
	free(put_url);
	dist_scopes_free(&sc);
	rg_http_resp_clear(&resp);
	buf_free(&errb);
	return rc;
}

int dist_blob_mount(struct rg_transport *t, const char *digest, const char *from_path,
		    struct err *e)
{
	struct rg_http_resp resp = {0};
	struct dist_scopes sc = {0};
	char *loc = NULL;
	struct buf errb;
	long status;
	int rc = 0;

	/* Every failure here only means the bytes must be copied: 0, and the
	 * caller falls back to an upload (which reports real problems). */
	if (!dist_digest_ok(digest) || !dist_path_ok(from_path) || strcmp(from_path, t->path) == 0)
		return 0;
	buf_init(&errb, 64 * 1024);
	if (dist_ready(t, e) < 0 || dist_scopes_init(t, DIST_PUSH, from_path, &sc, e) < 0)
		goto out;
	status = open_session(t, digest, from_path, &sc, &errb, &loc, &resp, e);
	if (status == 201)
		rc = 1;
	else if (status == 202 && loc)
		delete_session(t, loc, &sc); /* not mounted: an upload was opened instead */
out:
	free(loc);
	dist_scopes_free(&sc);
	rg_http_resp_clear(&resp);
	buf_free(&errb);
	return rc;
}
