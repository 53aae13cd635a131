/* creds.h - where registry credentials come from (DESIGN.md section 2).
 *
 * The chain, first match wins:
 *   1. rg_options.creds "USER:PASS" (--creds, or --creds-stdin via the CLI);
 *   2. rg_options.authfile (--authfile; it must exist);
 *   3. $REGISTRY_AUTH_FILE;
 *   4. $XDG_RUNTIME_DIR/containers/auth.json;
 *   5. $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
 * Files 3-5 are skipped when absent. Within one file (docker config.json and
 * containers auth.json share the format), for the registry asked about:
 *   a. credHelpers[registry]: run docker-credential-NAME get;
 *   b. auths[registry] with "auth" (base64 "user:pass"), "username" and
 *      "password", and/or "identitytoken";
 *   c. credsStore: run docker-credential-NAME get (a store that is not
 *      installed, or has nothing for the registry, means "no match").
 * Registry keys match exactly first, most specific first for namespaced keys
 * ("quay.io/org/repo", "quay.io/org", "quay.io"), then in the forms docker
 * writes: with an http(s):// prefix and a "/", "/v1/" or "/v2/" suffix;
 * docker.io, index.docker.io and registry-1.docker.io are the same registry.
 *
 * An identity token is an OAuth2 refresh token: auth.c exchanges it at the
 * token endpoint with POST grant_type=refresh_token, as docker does.
 *
 * Secrets: every buffer that held a secret is wiped (explicit_bzero) before
 * it is freed, including the strings inside parsed JSON documents. Error
 * messages name files, keys and helpers, never a secret.
 */
#ifndef INLAY_RG_CREDS_H
#define INLAY_RG_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include "../manifest/err.h"
#include "registry.h"

#define RG_AUTHFILE_MAX (1024 * 1024) /* auth files larger than this are refused */
#define RG_HELPER_OUTPUT_MAX (64 * 1024)
#define RG_HELPER_TIMEOUT_MS 30000

struct rg_creds {
	char *username;	      /* never NULL ("" with only an identity token) */
	char *password;	      /* NULL when only an identity token is known */
	char *identity_token; /* OAuth2 refresh token, or NULL */
};

/* Wipe and free. Accepts NULL. */
void rg_creds_free(struct rg_creds *c);

/* Parse "USER:PASS" (split at the first ':'; USER must not be empty).
 * ERR_INPUT, without echoing s, when malformed. */
int rg_creds_from_userpass(const char *s, struct rg_creds **ret_creds, struct err *e);

/* The registry part of an auth-file key or an auth key, normalised: scheme
 * and a trailing "/", "/v1/", "/v2/" removed, host lowercased, Docker Hub
 * aliases turned into "docker.io". Keys with a namespace path keep it
 * ("quay.io/org"). Result truncated to n. */
void rg_registry_key_normalize(const char *key, char *out, size_t n);

/* What one auth file says about a registry. */
struct rg_authfile_hit {
	struct rg_creds *creds; /* from auths, or NULL */
	char *helper;		/* NAME of docker-credential-NAME to ask, or NULL */
	bool helper_is_store;	/* helper came from credsStore (optional) */
};

/* Wipe and free the members; accepts NULL. */
void rg_authfile_hit_clear(struct rg_authfile_hit *h);

/* Look auth_key (and the repository path, for namespaced keys; may be NULL)
 * up in the auth file held in data[0..len). origin names the file in
 * messages. Returns 1 and fills *ret when the file has something for the
 * registry, 0 when it has nothing, -1 (ERR_INPUT, naming origin) when the
 * file is malformed. Pure: runs no helper. */
int rg_authfile_lookup_buf(const char *data, size_t len, const char *origin, const char *auth_key,
			   const char *path, struct rg_authfile_hit *ret, struct err *e);

/* The same for a file: reads at most RG_AUTHFILE_MAX bytes. An absent file
 * is 0 unless must_exist (then ERR_INPUT). */
int rg_authfile_lookup(const char *file, bool must_exist, const char *auth_key, const char *path,
		       struct rg_authfile_hit *ret, struct err *e);

/* Run "docker-credential-NAME get" (found on PATH, no shell) with server on
 * stdin; its JSON answer {"Username","Secret"} becomes *ret_creds ("<token>"
 * as Username means Secret is an identity token). Output bounded to
 * RG_HELPER_OUTPUT_MAX, run time to RG_HELPER_TIMEOUT_MS. Returns 1 with
 * creds, 0 when the helper has none for server, -1 on failure (sys_errno
 * ENOENT when the helper is not installed). */
int rg_cred_helper_get(const char *name, const char *server, struct rg_creds **ret_creds,
		       struct err *e);

/* Walk the chain above for the registry with credentials key auth_key
 * (mf_ref_auth_key) and repository path (may be NULL). *ret_creds is NULL
 * when nothing matched (anonymous). */
int rg_creds_lookup(const char *auth_key, const char *path, const struct rg_options *opt,
		    struct rg_creds **ret_creds, struct err *e);

#endif
