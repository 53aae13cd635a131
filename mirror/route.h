/* route.h - what a request to the mirror asks for, from its path alone.
 *
 * The read side of the OCI distribution API:
 *   /v2/                                  the API's base (version check)
 *   /v2/NAME/manifests/REFERENCE          a tag or a digest
 *   /v2/NAME/blobs/DIGEST
 *   /v2/NAME/tags/list
 *   /v2/NAME/referrers/DIGEST
 * and the server's own /healthz and /metrics. NAME is checked against the
 * distribution grammar, REFERENCE against the tag and digest grammars, so
 * nothing malformed goes further (to an upstream, or to a file name).
 *
 * Which upstream a NAME goes to: the `ns` query parameter containerd sends
 * (?ns=docker.io) when it names an upstream; else NAME's first component
 * when it names one (/v2/dockerhub/library/nginx/...); else the default
 * upstream. Docker Hub's one-component names gain "library/". Pure: no
 * network, no files. */
#ifndef INLAY_MR_ROUTE_H
#define INLAY_MR_ROUTE_H

#include "../manifest/digest.h"
#include "../manifest/err.h"
#include "config.h"

#define MR_NAME_MAX 256
#define MR_REFERENCE_MAX 136 /* sha512 digests */

enum mr_route_kind {
	MR_ROUTE_BASE,
	MR_ROUTE_MANIFEST,
	MR_ROUTE_BLOB,
	MR_ROUTE_TAGS,
	MR_ROUTE_REFERRERS,
	MR_ROUTE_HEALTHZ,
	MR_ROUTE_METRICS,
};

struct mr_route {
	enum mr_route_kind kind;
	char name[MR_NAME_MAX];           /* as the client named it */
	char reference[MR_REFERENCE_MAX]; /* tag or digest; "" when none */
	bool by_digest;
	/* On failure: the distribution error code ("NAME_INVALID", ...);
	 * e->http_status holds the status to answer with. */
	const char *error_code;
};

/* Parse a request path (without its query). */
int mr_route_parse(const char *path, struct mr_route *ret, struct err *e);

/* Where a request for NAME goes. */
struct mr_target {
	const struct mr_upstream *upstream;
	char repository[MR_NAME_MAX + 16]; /* the upstream's name for it */
};

/* Pick the upstream for `name`, given the request's `ns` (NULL when
 * absent). ERR_INPUT, http_status 404, when none fits. */
int mr_route_target(const struct mr_config *c, const char *name, const char *ns,
		    struct mr_target *ret, struct err *e);

#endif
