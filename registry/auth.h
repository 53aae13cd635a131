/* auth.h - registry authentication: challenges, Basic, Bearer tokens.
 *
 * A registry says how it wants to be authenticated in the WWW-Authenticate
 * header of a 401 (RFC 7235): "Basic realm=..." (send user:password with every
 * request) or "Bearer realm=URL,service=S,scope=S" (get a token from the
 * realm for the scopes a request needs, send it as "Bearer TOKEN"). This
 * module parses challenges (a pure function, fuzzed), fetches and caches
 * tokens, and hands out the Authorization value a request should carry.
 *
 * Token request: GET realm?service=S&scope=A&scope=B, with Basic credentials
 * when there are some (anonymous otherwise, as for public images). With an
 * identity token (a refresh token from `docker login`), the OAuth2 form
 * instead: POST realm grant_type=refresh_token&refresh_token=T&service=S&
 * scope=A B&client_id=inlay, as docker does. Credentials are sent to a plain
 * http realm only when it is on loopback or the run has --plain-http or
 * --insecure. Tokens are cached per scope set until expires_in (default
 * and minimum 60 s) minus a margin.
 *
 * Thread safety: a struct rg_auth is used by every thread transferring blobs
 * of one repository; a mutex guards the challenge, the credentials and the
 * cache, and only one token request runs at a time (the others wait and then
 * find the token in the cache).
 */
#ifndef INLAY_RG_AUTH_H
#define INLAY_RG_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "../manifest/err.h"
#include "creds.h"
#include "http.h"
#include "registry.h"

enum rg_auth_scheme {
	RG_AUTH_NONE = 0, /* no challenge, or none we can answer */
	RG_AUTH_BASIC = 1,
	RG_AUTH_BEARER = 2,
};

#define RG_CHALLENGE_HEADER_MAX 8192 /* longer headers are refused */
#define RG_CHALLENGE_VALUE_MAX 2048  /* longest realm, service or scope */
#define RG_TOKEN_MAX (64 * 1024)     /* longest token accepted */
#define RG_TOKEN_DEFAULT_TTL 60	     /* seconds, when expires_in is absent */

struct rg_challenge {
	int scheme; /* enum rg_auth_scheme: the challenge we will answer */
	char realm[RG_CHALLENGE_VALUE_MAX];
	char service[RG_CHALLENGE_VALUE_MAX];
	char scope[RG_CHALLENGE_VALUE_MAX];
	char error[128]; /* Bearer error= ("insufficient_scope"), or "" */
	char other[32];	 /* the first scheme we cannot answer, for messages, or "" */
};

/* Parse a WWW-Authenticate value: one or more challenges separated by
 * commas ("Bearer realm=\"x\",service=\"y\", Basic realm=\"z\""); schemes
 * and parameter names are case-insensitive, values tokens or quoted strings
 * with backslash escapes. Bearer is preferred over Basic; other schemes are
 * skipped (their name lands in `other`) and leave scheme RG_AUTH_NONE when
 * nothing else is offered. Returns 0, or -1 (ERR_INPUT) when the header is
 * malformed, longer than RG_CHALLENGE_HEADER_MAX, repeats a parameter, or has
 * a value longer than RG_CHALLENGE_VALUE_MAX. *ret is written only on
 * success. */
int rg_challenge_parse(const char *header, struct rg_challenge *ret, struct err *e);

/* Parse a token endpoint answer: JSON with "token" (or "access_token") and
 * optional "expires_in" (seconds; default and minimum RG_TOKEN_DEFAULT_TTL,
 * at most a day). The token must be printable ASCII without spaces, at most
 * RG_TOKEN_MAX. *ret_token is malloc'd (free it wiped). */
int rg_token_response_parse(const char *body, size_t len, char **ret_token, long *ret_expires_in,
			    struct err *e);

/* "Basic base64(user:password)" for c (which must have a password);
 * malloc'd, wipe it before freeing. */
int rg_basic_header(const struct rg_creds *c, char **ret_header, struct err *e);

struct rg_auth; /* opaque */

/* Authentication state for the registry with credentials key auth_key
 * (repository path, for namespaced auth-file entries). display names the
 * registry in messages. http, opt and the strings are borrowed (opt is
 * copied, its strings must outlive a). Credentials are looked up lazily, at
 * the first challenge. */
int rg_auth_new(struct rg_http *http, const char *auth_key, const char *path, const char *display,
		const struct rg_options *opt, struct rg_auth **ret_auth, struct err *e);

/* Wipes cached tokens and credentials. Accepts NULL. */
void rg_auth_free(struct rg_auth *a);

/* Remember what the registry asked for (a zeroed challenge means "nothing").
 * Cached tokens stay valid. */
void rg_auth_set_challenge(struct rg_auth *a, const struct rg_challenge *ch);

/* The Authorization value a request needing scopes[0..n) (Bearer; ignored for
 * Basic) should carry: *ret_header is malloc'd ("Basic ..." / "Bearer ..."),
 * or NULL for an anonymous request (no challenge yet, or no credentials for
 * a Basic challenge). May look up credentials and fetch a token. Wipe and
 * free the result. */
int rg_auth_header(struct rg_auth *a, const char *const *scopes, size_t n, char **ret_header,
		   struct err *e);

/* Forget the cached token for scopes[0..n) (after a 401 with it). */
void rg_auth_invalidate(struct rg_auth *a, const char *const *scopes, size_t n);

/* True once credentials were looked up and found. */
bool rg_auth_has_creds(struct rg_auth *a);

/* The scheme of the current challenge. */
int rg_auth_scheme(struct rg_auth *a);

#endif
