/* route.c - see route.h. */
#include "route.h"

#include <stdio.h>
#include <string.h>

#include "../manifest/ref.h"

static int route_error(struct mr_route *r, struct err *e, int status, const char *code,
		       const char *fmt, const char *arg)
{
	r->error_code = code;
	err_set(e, ERR_INPUT, fmt, arg);
	e->http_status = status;
	return -1;
}

/* The last "/manifests/", "/blobs/", ... of the path: a repository name can
 * itself contain such a component ("/v2/a/blobs/b/blobs/DIGEST"). */
static const char *last_action(const char *rest, const char **ret_action, size_t *ret_len)
{
	static const char *const actions[] = {"/manifests/", "/blobs/", "/tags/", "/referrers/",
					      NULL};
	const char *best = NULL, *p;
	size_t i;

	for (i = 0; actions[i]; i++) {
		const char *found = NULL;

		for (p = rest; (p = strstr(p, actions[i])) != NULL; p++)
			found = p;
		if (found && (!best || found > best)) {
			best = found;
			*ret_action = actions[i];
			*ret_len = strlen(actions[i]);
		}
	}
	return best;
}

int mr_route_parse(const char *path, struct mr_route *ret, struct err *e)
{
	struct mr_route r = {0};
	const char *rest, *act, *action = NULL, *arg;
	size_t alen = 0, nlen;

	if (strcmp(path, "/healthz") == 0) {
		r.kind = MR_ROUTE_HEALTHZ;
		*ret = r;
		return 0;
	}
	if (strcmp(path, "/metrics") == 0) {
		r.kind = MR_ROUTE_METRICS;
		*ret = r;
		return 0;
	}
	if (strcmp(path, "/v2") == 0 || strcmp(path, "/v2/") == 0) {
		r.kind = MR_ROUTE_BASE;
		*ret = r;
		return 0;
	}
	if (strncmp(path, "/v2/", 4) != 0)
		return route_error(ret, e, 404, "NOT_FOUND", "no such endpoint: %.100s", path);
	rest = path + 4;
	act = last_action(rest, &action, &alen);
	if (!act)
		return route_error(ret, e, 404, "NOT_FOUND", "no such endpoint: %.100s", path);
	nlen = (size_t)(act - rest);
	if (nlen == 0 || nlen >= sizeof(r.name) || !mf_repo_path_valid(rest, nlen))
		return route_error(ret, e, 400, "NAME_INVALID",
				   "invalid repository name in %.200s (lowercase letters and digits "
				   "in '/'-separated components)",
				   path);
	memcpy(r.name, rest, nlen);
	r.name[nlen] = '\0';
	arg = act + alen;
	if (strcmp(action, "/tags/") == 0) {
		if (strcmp(arg, "list") != 0)
			return route_error(ret, e, 404, "NOT_FOUND", "no such endpoint: %.100s", path);
		r.kind = MR_ROUTE_TAGS;
		*ret = r;
		return 0;
	}
	if (strlen(arg) >= sizeof(r.reference))
		return route_error(ret, e, 400, "DIGEST_INVALID",
				   "reference too long in %.200s", path);
	snprintf(r.reference, sizeof(r.reference), "%s", arg);
	r.by_digest = mf_digest_valid(arg);
	if (strcmp(action, "/manifests/") == 0) {
		r.kind = MR_ROUTE_MANIFEST;
		if (!r.by_digest && !mf_tag_valid(arg))
			return route_error(ret, e, 400, strchr(arg, ':') ? "DIGEST_INVALID" : "TAG_INVALID",
					   "invalid tag or digest in %.200s", path);
	} else {
		r.kind = strcmp(action, "/blobs/") == 0 ? MR_ROUTE_BLOB : MR_ROUTE_REFERRERS;
		if (!r.by_digest)
			return route_error(ret, e, 400, "DIGEST_INVALID",
					   "invalid digest in %.200s (expected sha256:<64 hex>)", path);
	}
	*ret = r;
	return 0;
}

static int target_set(struct mr_target *t, const struct mr_upstream *u, const char *repo,
		      struct err *e)
{
	bool official = u->docker_hub && !strchr(repo, '/');

	if (!*repo) {
		err_set(e, ERR_INPUT, "upstream %s: the repository name is missing", u->name);
		e->http_status = 404;
		return -1;
	}
	t->upstream = u;
	snprintf(t->repository, sizeof(t->repository), "%s%s", official ? "library/" : "", repo);
	return 0;
}

int mr_route_target(const struct mr_config *c, const char *name, const char *ns,
		    struct mr_target *ret, struct err *e)
{
	const struct mr_upstream *u;
	const char *slash = strchr(name, '/');
	char first[MR_UPSTREAM_NAME_MAX + 1];

	if (ns && (u = mr_config_upstream(c, ns)))
		return target_set(ret, u, name, e);
	if (slash && (size_t)(slash - name) <= MR_UPSTREAM_NAME_MAX) {
		memcpy(first, name, (size_t)(slash - name));
		first[slash - name] = '\0';
		if ((u = mr_config_upstream(c, first)))
			return target_set(ret, u, slash + 1, e);
	}
	if (c->default_upstream && (u = mr_config_upstream(c, c->default_upstream)))
		return target_set(ret, u, name, e);
	err_set(e, ERR_INPUT,
		"no upstream for '%.200s': name one with ?ns= or as the first path component", name);
	e->http_status = 404;
	return -1;
}
