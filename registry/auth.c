/* auth.c - see auth.h. */
#include "auth.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../manifest/mediatype.h"

#define TOKEN_CACHE_MAX 16
#define TOKEN_TTL_MAX 86400 /* seconds */
#define TOKEN_MARGIN_S 10   /* renew this long before expiry */
#define MAX_SCOPES 4

/* ---- WWW-Authenticate ---- */

struct lexer {
	const char *s;
	size_t pos, len;
};

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_token68_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("-._~+/", c) != NULL);
}

static char peek(const struct lexer *l)
{
	return l->pos < l->len ? l->s[l->pos] : '\0';
}

static void skip_ows(struct lexer *l)
{
	while (peek(l) == ' ' || peek(l) == '\t')
		l->pos++;
}

static size_t read_token(struct lexer *l)
{
	size_t start = l->pos;

	while (l->pos < l->len && is_tchar(l->s[l->pos]))
		l->pos++;
	return l->pos - start;
}

/* A quoted-string (at '"') into out (n bytes, NUL-terminated). Returns 0, -1
 * when malformed, -2 when longer than out. */
static int read_quoted(struct lexer *l, char *out, size_t n)
{
	size_t o = 0;
	char c;

	l->pos++; /* '"' */
	for (;;) {
		if (l->pos >= l->len)
			return -1;
		c = l->s[l->pos++];
		if (c == '"')
			break;
		if (c == '\\') {
			if (l->pos >= l->len)
				return -1;
			c = l->s[l->pos++];
		}
		if (((unsigned char)c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
		if (o + 1 >= n)
			return -2;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

static int scheme_of(const char *name, size_t n)
{
	if (n == 5 && strncasecmp(name, "Basic", 5) == 0)
		return RG_AUTH_BASIC;
	if (n == 6 && strncasecmp(name, "Bearer", 6) == 0)
		return RG_AUTH_BEARER;
	return RG_AUTH_NONE;
}

/* The challenge being read, and what was already seen of it. */
struct reading {
	struct rg_challenge ch;
	unsigned seen; /* bit per known parameter */
};

static int store_param(struct reading *rd, const char *name, size_t nlen, const char *value,
		       struct err *e)
{
	static const char *const names[] = {"realm", "service", "scope", "error"};
	char *dst[] = {rd->ch.realm, rd->ch.service, rd->ch.scope, rd->ch.error};
	size_t cap[] = {sizeof(rd->ch.realm), sizeof(rd->ch.service), sizeof(rd->ch.scope),
			sizeof(rd->ch.error)};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strlen(names[i]) != nlen || strncasecmp(name, names[i], nlen) != 0)
			continue;
		if (rd->seen & (1u << i))
			return err_set(
			    e, ERR_INPUT,
			    "malformed WWW-Authenticate header: parameter '%s' given twice",
			    names[i]);
		rd->seen |= 1u << i;
		if (strlen(value) >= cap[i])
			return err_set(
			    e, ERR_INPUT,
			    "malformed WWW-Authenticate header: %s longer than %zu bytes", names[i],
			    cap[i] - 1);
		strcpy(dst[i], value);
		return 0;
	}
	return 0; /* a parameter we do not use */
}

/* Is the text at l a parameter ("name =")? Does not move l. */
static bool at_param(const struct lexer *l)
{
	struct lexer t = *l;

	if (read_token(&t) == 0)
		return false;
	skip_ows(&t);
	if (peek(&t) != '=')
		return false;
	t.pos++;
	/* "name=" then '=', ',' or the end is a token68 ending in padding. */
	skip_ows(&t);
	return peek(&t) != '=' && peek(&t) != ',' && peek(&t) != '\0';
}

/* Keep the better of best and rd (Bearer > Basic > none); a lower or equal
 * rank keeps the first seen. */
static void choose(struct rg_challenge *best, const struct reading *rd)
{
	char other[sizeof(best->other)];

	if (rd->ch.scheme <= best->scheme)
		return;
	memcpy(other, best->other, sizeof(other)); /* kept whichever challenge wins */
	*best = rd->ch;
	memcpy(best->other, other, sizeof(other));
}

int rg_challenge_parse(const char *header, struct rg_challenge *ret, struct err *e)
{
	struct rg_challenge *best = NULL;
	struct reading *rd = NULL;
	char *value = NULL;
	struct lexer l;
	int rc = -1, r;

	l.s = header;
	l.pos = 0;
	l.len = strnlen(header, RG_CHALLENGE_HEADER_MAX + 1);
	if (l.len > RG_CHALLENGE_HEADER_MAX)
		return err_set(e, ERR_INPUT, "WWW-Authenticate header longer than %d bytes",
			       RG_CHALLENGE_HEADER_MAX);
	best = calloc(1, sizeof(*best));
	rd = calloc(1, sizeof(*rd));
	value = malloc(RG_CHALLENGE_VALUE_MAX + 1);
	if (!best || !rd || !value) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}

	for (;;) {
		size_t start, n;
		bool first = true;

		/* Empty list elements are allowed: ", ,Bearer". */
		while (peek(&l) == ' ' || peek(&l) == '\t' || peek(&l) == ',')
			l.pos++;
		if (l.pos >= l.len)
			break;
		start = l.pos;
		n = read_token(&l);
		if (n == 0)
			goto malformed;
		memset(rd, 0, sizeof(*rd));
		rd->ch.scheme = scheme_of(header + start, n);
		if (rd->ch.scheme == RG_AUTH_NONE && best->other[0] == '\0')
			snprintf(best->other, sizeof(best->other), "%.*s",
				 (int)(n < sizeof(best->other) ? n : sizeof(best->other) - 1),
				 header + start);
		if (l.pos < l.len && peek(&l) != ' ' && peek(&l) != '\t' && peek(&l) != ',')
			goto malformed; /* "Bearer=..." or junk glued to the scheme */

		/* Parameters (or one token68) until the next challenge. */
		for (;;) {
			size_t name, nlen;

			skip_ows(&l);
			if (l.pos >= l.len)
				break;
			if (peek(&l) == ',') {
				struct lexer t;

				while (peek(&l) == ',' || peek(&l) == ' ' || peek(&l) == '\t')
					l.pos++;
				t = l;
				if (l.pos >= l.len || !at_param(&t))
					break; /* end, or the next challenge's scheme */
			} else if (!first) {
				goto malformed;
			} else if (!at_param(&l)) {
				/* token68: meaningless for Basic and Bearer; skipped
				 * for the schemes we do not answer */
				if (rd->ch.scheme != RG_AUTH_NONE)
					goto malformed;
				while (is_token68_char(peek(&l)))
					l.pos++;
				while (peek(&l) == '=')
					l.pos++;
				skip_ows(&l);
				if (l.pos < l.len && peek(&l) != ',')
					goto malformed;
				first = false;
				continue;
			}
			first = false;
			name = l.pos;
			nlen = read_token(&l);
			skip_ows(&l);
			l.pos++; /* '=' (at_param checked) */
			skip_ows(&l);
			if (peek(&l) == '"') {
				r = read_quoted(&l, value, RG_CHALLENGE_VALUE_MAX + 1);
				if (r == -2) {
					err_set(
					    e, ERR_INPUT,
					    "malformed WWW-Authenticate header: a value is longer "
					    "than %d bytes",
					    RG_CHALLENGE_VALUE_MAX - 1);
					goto out;
				}
				if (r < 0)
					goto malformed;
			} else {
				size_t vs = l.pos, vn = read_token(&l);

				if (vn == 0)
					goto malformed;
				if (vn > RG_CHALLENGE_VALUE_MAX) {
					err_set(
					    e, ERR_INPUT,
					    "malformed WWW-Authenticate header: a value is longer "
					    "than %d bytes",
					    RG_CHALLENGE_VALUE_MAX - 1);
					goto out;
				}
				memcpy(value, header + vs, vn);
				value[vn] = '\0';
			}
			if (store_param(rd, header + name, nlen, value, e) < 0)
				goto out;
			skip_ows(&l);
			if (l.pos < l.len && peek(&l) != ',')
				goto malformed;
		}
		choose(best, rd);
	}
	*ret = *best;
	rc = 0;
	goto out;
malformed:
	err_set(e, ERR_INPUT, "malformed WWW-Authenticate header (near byte %zu)", l.pos);
out:
	free(best);
	free(rd);
	free(value);
	return rc;
}

/* ---- tokens ---- */

static bool token_ok(const char *t, size_t n)
{
	size_t i;

	if (n == 0 || n > RG_TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return false;
	return true;
}

static void json_wipe_strings(json_t *root)
{
	const char *k;
	json_t *v;

	/* The token strings are jansson's heap copies: wipe before freeing. */
	json_object_foreach(root, k, v) if (json_is_string(v))
	    explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

int rg_token_response_parse(const char *body, size_t len, char **ret_token, long *ret_expires_in,
			    struct err *e)
{
	json_t *root, *t, *x;
	json_error_t je;
	long ttl = RG_TOKEN_DEFAULT_TTL;
	char *tok;
	int rc = -1;

	root = json_loadb(body, len, 0, &je);
	if (!root)
		return err_set(e, ERR_OPERATIONAL, "the token service's answer is not JSON");
	if (!json_is_object(root)) {
		err_set(e, ERR_OPERATIONAL, "the token service's answer is not a JSON object");
		goto out;
	}
	t = json_object_get(root, "token");
	if (!json_is_string(t) || json_string_length(t) == 0)
		t = json_object_get(root, "access_token");
	if (!json_is_string(t) || json_string_length(t) == 0) {
		err_set(e, ERR_OPERATIONAL, "the token service's answer has no token");
		goto out;
	}
	if (!token_ok(json_string_value(t), json_string_length(t))) {
		err_set(e, ERR_OPERATIONAL,
			"the token service sent an unusable token (empty, too long, or not "
			"printable ASCII)");
		goto out;
	}
	x = json_object_get(root, "expires_in");
	if (json_is_number(x)) {
		double d = json_number_value(x);

		if (d > TOKEN_TTL_MAX)
			ttl = TOKEN_TTL_MAX;
		else if (d > RG_TOKEN_DEFAULT_TTL)
			ttl = (long)d;
	}
	tok = strdup(json_string_value(t));
	if (!tok) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	*ret_token = tok;
	*ret_expires_in = ttl;
	rc = 0;
out:
	json_wipe_strings(root);
	json_decref(root);
	return rc;
}

int rg_basic_header(const struct rg_creds *c, char **ret_header, struct err *e)
{
	size_t ul = strlen(c->username), pl = c->password ? strlen(c->password) : 0;
	size_t raw_len = ul + 1 + pl, out_len;
	char *raw, *out;

	if (!c->password)
		return err_set(e, ERR_OPERATIONAL, "no password for Basic authentication");
	if (raw_len > 64 * 1024)
		return err_set(e, ERR_INPUT, "credentials longer than 64 KiB");
	raw = malloc(raw_len + 1);
	out_len = sizeof("Basic ") - 1 + 4 * ((raw_len + 2) / 3) + 1;
	out = malloc(out_len);
	if (!raw || !out) {
		free(raw);
		free(out);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	memcpy(raw, c->username, ul);
	raw[ul] = ':';
	memcpy(raw + ul + 1, c->password, pl);
	memcpy(out, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)out + 6, (unsigned char *)raw, (int)raw_len);
	explicit_bzero(raw, raw_len);
	free(raw);
	*ret_header = out;
	return 0;
}

/* ---- per-registry state ---- */

struct token_entry {
	char *key;
	char *token;
	long long expires_ms; /* CLOCK_MONOTONIC */
};

struct rg_auth {
	struct rg_http *http;
	char *auth_key, *path, *display;
	struct rg_options opt;
	pthread_mutex_t lock;	    /* guards everything below */
	pthread_mutex_t fetch_lock; /* one credentials lookup / token fetch at a time */
	struct rg_challenge ch;
	bool creds_loaded;
	struct rg_creds *creds;
	struct token_entry cache[TOKEN_CACHE_MAX];
	int ncache;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wipe_str(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int rg_auth_new(struct rg_http *http, const char *auth_key, const char *path, const char *display,
		const struct rg_options *opt, struct rg_auth **ret_auth, struct err *e)
{
	struct rg_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	a->http = http;
	a->opt = *opt;
	a->auth_key = strdup(auth_key);
	a->path = strdup(path ? path : "");
	a->display = strdup(display);
	if (!a->auth_key || !a->path || !a->display) {
		free(a->auth_key);
		free(a->path);
		free(a->display);
		free(a);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->fetch_lock, NULL);
	*ret_auth = a;
	return 0;
}

void rg_auth_free(struct rg_auth *a)
{
	int i;

	if (!a)
		return;
	for (i = 0; i < a->ncache; i++) {
		free(a->cache[i].key);
		wipe_str(a->cache[i].token);
	}
	rg_creds_free(a->creds);
	pthread_mutex_destroy(&a->lock);
	pthread_mutex_destroy(&a->fetch_lock);
	free(a->auth_key);
	free(a->path);
	free(a->display);
	free(a);
}

void rg_auth_set_challenge(struct rg_auth *a, const struct rg_challenge *ch)
{
	pthread_mutex_lock(&a->lock);
	a->ch = *ch;
	pthread_mutex_unlock(&a->lock);
}

bool rg_auth_has_creds(struct rg_auth *a)
{
	bool r;

	pthread_mutex_lock(&a->lock);
	r = a->creds != NULL;
	pthread_mutex_unlock(&a->lock);
	return r;
}

int rg_auth_scheme(struct rg_auth *a)
{
	int s;

	pthread_mutex_lock(&a->lock);
	s = a->ch.scheme;
	pthread_mutex_unlock(&a->lock);
	return s;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* realm \n service \n sorted scopes joined by ' ': the cache key and, minus
 * the first two lines, the scope list of a refresh-token request. */
static char *cache_key(const struct rg_challenge *ch, const char *const *scopes, size_t n)
{
	const char *sorted[MAX_SCOPES];
	struct buf b;
	size_t i;

	if (n > MAX_SCOPES)
		return NULL;
	memcpy(sorted, scopes, n * sizeof(*scopes));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	buf_init(&b, 3 * RG_CHALLENGE_VALUE_MAX + 2048);
	if (buf_printf(&b, "%s\n%s\n", ch->realm, ch->service) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (buf_printf(&b, "%s%s", i ? " " : "", sorted[i]) < 0)
			goto fail;
	return buf_detach(&b, NULL);
fail:
	buf_free(&b);
	return NULL;
}

/* A copy of the cached token for key, or NULL. Called with a->lock held. */
static char *cache_find(struct rg_auth *a, const char *key)
{
	long long now = mono_ms();
	int i;

	for (i = 0; i < a->ncache; i++)
		if (strcmp(a->cache[i].key, key) == 0 && a->cache[i].expires_ms > now)
			return strdup(a->cache[i].token);
	return NULL;
}

static void cache_drop(struct rg_auth *a, int i)
{
	free(a->cache[i].key);
	wipe_str(a->cache[i].token);
	a->cache[i] = a->cache[--a->ncache];
}

/* Takes key and token. Called with a->lock held. */
static void cache_store(struct rg_auth *a, char *key, char *token, long ttl)
{
	long long now = mono_ms();
	int i, oldest = 0;

	for (i = a->ncache - 1; i >= 0; i--)
		if (strcmp(a->cache[i].key, key) == 0 || a->cache[i].expires_ms <= now)
			cache_drop(a, i);
	if (a->ncache == TOKEN_CACHE_MAX) {
		for (i = 1; i < a->ncache; i++)
			if (a->cache[i].expires_ms < a->cache[oldest].expires_ms)
				oldest = i;
		cache_drop(a, oldest);
	}
	a->cache[a->ncache].key = key;
	a->cache[a->ncache].token = token;
	a->cache[a->ncache].expires_ms = now + (ttl - TOKEN_MARGIN_S) * 1000LL;
	a->ncache++;
}

void rg_auth_invalidate(struct rg_auth *a, const char *const *scopes, size_t n)
{
	char *key;
	int i;

	pthread_mutex_lock(&a->lock);
	key = cache_key(&a->ch, scopes, n);
	for (i = a->ncache - 1; key && i >= 0; i--)
		if (strcmp(a->cache[i].key, key) == 0)
			cache_drop(a, i);
	pthread_mutex_unlock(&a->lock);
	free(key);
}

/* Credentials, looked up once. Called with fetch_lock held. */
static int load_creds(struct rg_auth *a, struct err *e)
{
	struct rg_creds *c = NULL;
	bool loaded;

	pthread_mutex_lock(&a->lock);
	loaded = a->creds_loaded;
	pthread_mutex_unlock(&a->lock);
	if (loaded)
		return 0;
	if (rg_creds_lookup(a->auth_key, a->path, &a->opt, &c, e) < 0)
		return -1;
	pthread_mutex_lock(&a->lock);
	a->creds = c;
	a->creds_loaded = true;
	pthread_mutex_unlock(&a->lock);
	return 0;
}

static char *form_escape(const char *s)
{
	return curl_easy_escape(NULL, s, 0);
}

/* The OAuth2 refresh-token form body. */
static char *refresh_form(const struct rg_challenge *ch, const char *const *scopes, size_t n,
			  const char *token)
{
	char *svc = NULL, *tok = NULL, *sc = NULL, *out = NULL;
	struct buf scope, body;
	size_t i;

	buf_init(&scope, 4096);
	buf_init(&body, RG_TOKEN_MAX + 16384);
	for (i = 0; i < n; i++)
		if (buf_printf(&scope, "%s%s", i ? " " : "", scopes[i]) < 0)
			goto out;
	svc = form_escape(ch->service);
	tok = form_escape(token);
	sc = form_escape(scope.data ? scope.data : "");
	if (!svc || !tok || !sc)
		goto out;
	if (buf_printf(&body,
		       "grant_type=refresh_token&client_id=inlay&service=%s&scope=%s&"
		       "refresh_token=%s",
		       svc, sc, tok) < 0)
		goto out;
	out = buf_detach(&body, NULL);
out:
	if (tok) {
		explicit_bzero(tok, strlen(tok));
		curl_free(tok);
	}
	curl_free(svc);
	curl_free(sc);
	buf_free(&scope);
	if (body.data)
		explicit_bzero(body.data, body.len);
	buf_free(&body);
	return out;
}

/* A short "CODE: message" of an OAuth/registry error body, or "". */
static void token_error_summary(const struct buf *b, char *out, size_t n)
{
	json_t *root = b->data ? json_loadb(b->data, b->len, 0, NULL) : NULL;
	const char *s = NULL;
	size_t i, o = 0;

	out[0] = '\0';
	if (!root)
		return;
	if (json_is_string(json_object_get(root, "error_description")))
		s = json_string_value(json_object_get(root, "error_description"));
	else if (json_is_string(json_object_get(root, "error")))
		s = json_string_value(json_object_get(root, "error"));
	else if (json_is_string(json_object_get(root, "details")))
		s = json_string_value(json_object_get(root, "details"));
	for (i = 0; s && s[i] && o + 1 < n && o < 200; i++)
		out[o++] = ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f) ? s[i] : '?';
	out[o] = '\0';
	json_decref(root);
}

static int fetch_token(struct rg_auth *a, const struct rg_challenge *ch, const char *const *scopes,
		       size_t n, char **ret_token, long *ret_ttl, struct err *e)
{
	char *url = NULL, *next = NULL, *authz = NULL, *form = NULL, shown[256], why[256];
	const char *form_headers[] = {"Content-Type: application/x-www-form-urlencoded",
				      "Accept: application/json", NULL};
	const char *get_headers[] = {"Accept: application/json", NULL};
	struct rg_http_req req = {0};
	struct rg_http_resp resp = {0};
	struct rg_creds *c = a->creds;
	struct buf body, errb;
	bool send_creds;
	size_t i;
	int rc = -1;

	buf_init(&body, LIMIT_TOKEN_BYTES);
	buf_init(&errb, 64 * 1024);
	if (ch->realm[0] == '\0') {
		err_set(e, ERR_OPERATIONAL,
			"%s asked for a Bearer token but named no token service (realm)",
			a->display);
		goto out;
	}
	if (rg_url_resolve(ch->realm, ch->realm, &url, e) < 0) {
		err_prefix(e, "%s: token service", a->display);
		goto out;
	}
	rg_url_for_message(url, shown, sizeof(shown));
	send_creds = c && (c->identity_token || c->password);
	if (send_creds && strncasecmp(url, "https://", 8) != 0 && !rg_url_is_loopback(url) &&
	    !a->opt.plain_http && !a->opt.insecure) {
		err_set(e, ERR_OPERATIONAL,
			"%s: the token service %s is plain http; refusing to send credentials "
			"over it (use --plain-http or --insecure to allow it)",
			a->display, shown);
		goto out;
	}
	req.url = url;
	req.out = &body;
	req.err_body = &errb;
	req.follow_redirects = true;
	if (c && c->identity_token) {
		form = refresh_form(ch, scopes, n, c->identity_token);
		if (!form) {
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
		req.method = "POST";
		req.headers = form_headers;
		req.has_body = true;
		req.body = form;
		req.body_len = strlen(form);
	} else {
		if (ch->service[0]) {
			if (rg_url_add_query(url, "service", ch->service, &next, e) < 0)
				goto out;
			free(url);
			url = next;
			next = NULL;
		}
		for (i = 0; i < n; i++) {
			if (rg_url_add_query(url, "scope", scopes[i], &next, e) < 0)
				goto out;
			free(url);
			url = next;
			next = NULL;
		}
		req.url = url;
		req.method = "GET";
		req.headers = get_headers;
		if (c && c->password && rg_basic_header(c, &authz, e) < 0)
			goto out;
		req.authorization = authz;
	}
	if (rg_http_do(a->http, &req, &resp, e) < 0) {
		err_prefix(e, "%s: token service", a->display);
		goto out;
	}
	if (resp.status == 200) {
		if (rg_token_response_parse(body.data ? body.data : "", body.len, ret_token,
					    ret_ttl, e) < 0) {
			err_prefix(e, "%s: token service %s", a->display, shown);
			goto out;
		}
		rc = 0;
		goto out;
	}
	token_error_summary(&errb, why, sizeof(why));
	if (resp.status == 401 || resp.status == 403)
		err_set(e, ERR_OPERATIONAL,
			"authentication failed for %s: the token service %s answered %ld%s%s (%s)",
			a->display, shown, resp.status, why[0] ? ": " : "", why,
			send_creds ? "check --creds or your auth file"
				   : "this registry needs credentials: give --creds USER:PASSWORD "
				     "or log in to write an auth file");
	else
		err_set(
		    e, ERR_OPERATIONAL,
		    "%s: the token service %s answered HTTP %ld%s%s; try again later or check the "
		    "registry's authentication setup",
		    a->display, shown, resp.status, why[0] ? ": " : "", why);
	if (e)
		e->http_status = (int)resp.status;
out:
	rg_http_resp_clear(&resp);
	wipe_str(authz);
	wipe_str(form);
	free(url);
	free(next);
	if (body.data)
		explicit_bzero(body.data, body.len);
	buf_free(&body);
	buf_free(&errb);
	return rc;
}

int rg_auth_header(struct rg_auth *a, const char *const *scopes, size_t n, char **ret_header,
		   struct err *e)
{
	struct rg_challenge *ch = NULL;
	char *key = NULL, *token = NULL, *hdr = NULL;
	long ttl = 0;
	size_t hl;
	int rc = -1;

	if (n > MAX_SCOPES)
		return err_set(e, ERR_OPERATIONAL, "internal error: too many scopes");
	ch = malloc(sizeof(*ch));
	if (!ch)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	pthread_mutex_lock(&a->lock);
	*ch = a->ch;
	pthread_mutex_unlock(&a->lock);
	if (ch->scheme == RG_AUTH_NONE) {
		*ret_header = NULL;
		rc = 0;
		goto out;
	}
	key = cache_key(ch, scopes, n);
	if (!key) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	if (ch->scheme == RG_AUTH_BEARER) {
		pthread_mutex_lock(&a->lock);
		token = cache_find(a, key);
		pthread_mutex_unlock(&a->lock);
	}
	if (!token) {
		pthread_mutex_lock(&a->fetch_lock);
		if (load_creds(a, e) < 0) {
			pthread_mutex_unlock(&a->fetch_lock);
			goto out;
		}
		if (ch->scheme == RG_AUTH_BASIC) {
			pthread_mutex_unlock(&a->fetch_lock);
			/* creds never change once loaded: no lock needed to read */
			if (a->creds && a->creds->password &&
			    rg_basic_header(a->creds, &hdr, e) < 0)
				goto out;
			*ret_header = hdr;
			rc = 0;
			goto out;
		}
		/* Another thread may have fetched it while we waited. */
		pthread_mutex_lock(&a->lock);
		token = cache_find(a, key);
		pthread_mutex_unlock(&a->lock);
		if (!token) {
			char *copy;

			if (fetch_token(a, ch, scopes, n, &token, &ttl, e) < 0) {
				pthread_mutex_unlock(&a->fetch_lock);
				goto out;
			}
			copy = strdup(token);
			pthread_mutex_lock(&a->lock);
			if (copy) {
				cache_store(a, key, copy, ttl);
				key = NULL; /* transferred */
			}
			pthread_mutex_unlock(&a->lock);
		}
		pthread_mutex_unlock(&a->fetch_lock);
	}
	if (!token) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	hl = strlen(token) + sizeof("Bearer ");
	hdr = malloc(hl);
	if (!hdr) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	snprintf(hdr, hl, "Bearer %s", token);
	*ret_header = hdr;
	rc = 0;
out:
	free(ch);
	free(key);
	wipe_str(token);
	return rc;
}
