/* ref.h - image references: [docker://][HOST[:PORT]/]NAME[:TAG][@DIGEST].
 *
 * Follows the Docker grammar (distribution/reference): the first component is
 * a host when it contains '.' or ':' or is "localhost"; otherwise the host is
 * docker.io and one-component names gain "library/". NAME components are
 * lowercase [a-z0-9]+ joined by '.', '_', '__' or '-'+; a tag is
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; the whole name is at most 255 chars.
 * Pure parsing: no network.
 */
#ifndef INLAY_REF_H
#define INLAY_REF_H

#include <stdbool.h>

#include "err.h"

struct mf_ref {
	char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
	char *path;   /* repository path: "library/busybox", "team/app" */
	char *tag;    /* NULL when none was given */
	char *digest; /* NULL when none was given; validated */
};

/* Parse s. On success *ret_ref is a new reference (free with mf_ref_free).
 * With neither tag nor digest the tag stays NULL: callers use
 * mf_ref_reference() which defaults to "latest". Errors are ERR_INPUT and say
 * which part of s is wrong. */
int mf_ref_parse(const char *s, struct mf_ref **ret_ref, struct err *e);

void mf_ref_free(struct mf_ref *r);

/* A deep copy, or NULL on ENOMEM. */
struct mf_ref *mf_ref_dup(const struct mf_ref *r);

/* The host to talk to: "registry-1.docker.io" for docker.io, else domain. */
const char *mf_ref_api_host(const struct mf_ref *r);

/* The key under which credentials for this registry are stored in
 * auth.json / config.json: "https://index.docker.io/v1/" for docker.io,
 * else the domain. */
const char *mf_ref_auth_key(const struct mf_ref *r);

/* What to ask the registry for: the digest when present, else the tag, else
 * "latest". Never NULL. */
const char *mf_ref_reference(const struct mf_ref *r);

/* "domain/path" - the repository, as printed in results. Caller frees. */
char *mf_ref_repository(const struct mf_ref *r);

/* Full normalized form "domain/path[:tag][@digest]". Caller frees. */
char *mf_ref_string(const struct mf_ref *r);

/* True when domain names a loopback host: localhost, 127.0.0.0/8, ::1
 * (with or without a port). */
bool mf_ref_is_loopback(const struct mf_ref *r);

/* A repository path without a host ("library/busybox"): components as in
 * NAME, joined by '/', at most 255 characters. */
bool mf_repo_path_valid(const char *path, size_t n);

/* Tag syntax check, for tags that come from elsewhere (--tag-suffix). */
bool mf_tag_valid(const char *tag);

#endif
