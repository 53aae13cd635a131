/* transport.h - what each kind of endpoint implements (internal to registry/).
 *
 * endpoint.c owns struct rg_endpoint and dispatches to one of these tables:
 * distribution.c (an OCI distribution registry over HTTP) or layout.c (an OCI
 * image layout directory). Transports move raw bytes; verification against
 * digests happens once, above them, in endpoint.c and transfer.c.
 */
#ifndef INLAY_RG_TRANSPORT_H
#define INLAY_RG_TRANSPORT_H

#include <stdint.h>
#include <sys/types.h>

#include "registry.h"

/* Consumer of streamed bytes: return 0, or -1 to abort the transfer. */
typedef int (*rg_sink_fn)(void *ctx, const void *data, size_t n);

/* Producer of bytes to upload: return the count written into data (> 0),
 * 0 at the end, or -1 to abort: an aborted upload must leave nothing
 * committed under the digest. */
typedef ssize_t (*rg_source_fn)(void *ctx, void *data, size_t n);

struct rg_transport; /* each transport's own state */

struct rg_transport_ops {
	/* Read a manifest into out (whose limit bounds it); *ret_media_type
	 * (malloc'd) is the Content-Type, or NULL when unknown; *ret_digest
	 * (malloc'd) the digest the server claims (Docker-Content-Digest), or
	 * NULL. Not verified here. */
	int (*manifest_get)(struct rg_transport *t, const char *reference, struct buf *out,
			    char **ret_media_type, char **ret_digest, struct err *e);
	int (*manifest_put)(struct rg_transport *t, const char *reference, const void *data,
			    size_t len, const char *media_type, struct err *e);
	/* 1 present, 0 absent, -1 error; *ret_size (when not NULL) gets the
	 * size the transport reports, -1 when it reports none. */
	int (*blob_exists)(struct rg_transport *t, const char *digest, int64_t *ret_size,
			   struct err *e);
	/* Stream the blob's bytes from byte offset on to sink (a download
	 * resumed after a failure: a ranged GET); not verified here. */
	int (*blob_fetch)(struct rg_transport *t, const char *digest, uint64_t offset,
			  rg_sink_fn sink, void *ctx, struct err *e);
	/* Upload size bytes (size -1 when unknown) pulled from source and
	 * commit them under digest. */
	int (*blob_upload)(struct rg_transport *t, const char *digest, int64_t size,
			   rg_source_fn source, void *ctx, struct err *e);
	/* Mount digest from repository from_path of the same registry:
	 * 1 mounted, 0 not mounted (caller falls back to a copy), -1 error.
	 * NULL for transports that cannot mount. */
	int (*blob_mount)(struct rg_transport *t, const char *digest, const char *from_path,
			  struct err *e);
	/* Open the blob's file for reading: 1 with *ret_fd and *ret_size, 0
	 * when absent (e says so, http_status 404), -1 on error. NULL for
	 * transports without files. */
	int (*blob_open)(struct rg_transport *t, const char *digest, int *ret_fd,
			 int64_t *ret_size, struct err *e);
	/* One page of the repository's tags (GET /tags/list?n=&last=): the
	 * raw JSON body into out; *ret_more true when the registry linked a
	 * next page. NULL for transports without one. */
	int (*tags_list)(struct rg_transport *t, int n, const char *last, struct buf *out,
			 bool *ret_more, struct err *e);
	/* Remove the manifest digest, and with it every tag naming it. NULL
	 * for transports that cannot. */
	int (*manifest_delete)(struct rg_transport *t, const char *digest, struct err *e);
	/* One page of the registry's repositories (GET /v2/_catalog?n=&last=),
	 * as tags_list. NULL for transports without one. */
	int (*catalog)(struct rg_transport *t, int n, const char *last, struct buf *out,
		       bool *ret_more, struct err *e);
	void (*free)(struct rg_transport *t);
};

/* Open a registry transport for repository `path` on `host` (the wire host,
 * "registry-1.docker.io" for Docker Hub). auth_key is the credentials key
 * (mf_ref_auth_key). loopback enables the plain-HTTP fallback. */
int rg_distribution_open(const char *host, const char *path, const char *auth_key,
			 bool loopback, const struct rg_options *opt, struct rg_transport **ret,
			 const struct rg_transport_ops **ret_ops, struct err *e);

/* Open an OCI image layout transport rooted at dir (created on first write). */
int rg_layout_open(const char *dir, const struct rg_options *opt, struct rg_transport **ret,
		   const struct rg_transport_ops **ret_ops, struct err *e);

/* endpoint.c, for transfer.c: the transport behind an endpoint, and the
 * repository path (or layout directory) it names. */
const struct rg_transport_ops *rg_endpoint_ops(struct rg_endpoint *ep, struct rg_transport **ret_t);
const char *rg_endpoint_path(const struct rg_endpoint *ep);
const struct rg_options *rg_endpoint_options(const struct rg_endpoint *ep);
#endif
