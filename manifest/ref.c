/* ref.c - see ref.h.
 *
 * The grammar is distribution/reference's (regexp.go) and the normalisation
 * its ParseNormalizedNamed (normalize.go), written as a hand parser so every
 * failure can say which part of the reference is wrong:
 *
 *   reference := [ "docker://" ] name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] component ( "/" component )*
 *   domain    := ( dnsname | "[" [0-9A-Fa-f:]+ "]" ) [ ":" [0-9]+ ]
 *   dnsname   := label ( "." label )*, label := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
 *   component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag       := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *
 * The first path element is a domain when the name has a '/' and the element
 * is "localhost", contains '.' or ':', or contains an uppercase letter
 * (repository paths are lowercase, so it cannot be one). Deliberate
 * differences from distribution: a first element that looks like a host but
 * is not a valid one ("foo_bar.com/x") is an error instead of silently
 * becoming a docker.io path, only sha256/sha512 digests are accepted (inlay
 * must verify them), and ports above 65535 are rejected.
 */
#include "ref.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "digest.h"

#define REF_DEFAULT_DOMAIN "docker.io"
#define REF_LEGACY_DOMAIN "index.docker.io"
#define REF_DOCKER_API_HOST "registry-1.docker.io"
#define REF_DOCKER_AUTH_KEY "https://index.docker.io/v1/"
#define REF_OFFICIAL_PREFIX "library/"
#define REF_DEFAULT_TAG "latest"
#define REF_TRANSPORT_PREFIX "docker://"
#define REF_NAME_MAX 255
#define REF_TAG_MAX 128
#define REF_SHOW_MAX 200 /* bytes of hostile input quoted in an error message */

/* A printable, bounded copy of untrusted text for error messages. */
struct shown {
	char s[REF_SHOW_MAX + 4];
};

static const char *show(struct shown *out, const char *s, size_t n)
{
	size_t i, m = n > REF_SHOW_MAX ? REF_SHOW_MAX : n;

	for (i = 0; i < m; i++) {
		unsigned char c = (unsigned char)s[i];

		out->s[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (m < n) {
		memcpy(out->s + m, "...", 3);
		m += 3;
	}
	out->s[m] = '\0';
	return out->s;
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool has_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

static bool tag_valid_n(const char *t, size_t n)
{
	if (n == 0 || n > REF_TAG_MAX || !is_word(t[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(t[i]) && t[i] != '.' && t[i] != '-')
			return false;
	return true;
}

bool mf_tag_valid(const char *tag)
{
	return tag && tag_valid_n(tag, strlen(tag));
}

/* component := [a-z0-9]+ ( sep [a-z0-9]+ )*, sep := "." | "_" | "__" | "-"+ */
static bool component_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	while (i < n) {
		size_t run = 0;

		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.') {
			run = 1;
		} else if (s[i] == '_') {
			while (i + run < n && s[i + run] == '_')
				run++;
			if (run > 2)
				return false;
		} else if (s[i] == '-') {
			while (i + run < n && s[i + run] == '-')
				run++;
		} else {
			return false;
		}
		i += run;
		/* a separator is always followed by an alphanumeric */
		if (i >= n || !is_lower_alnum(s[i]))
			return false;
	}
	return true;
}

bool mf_repo_path_valid(const char *path, size_t n)
{
	size_t i, start = 0;

	if (n == 0 || n > REF_NAME_MAX)
		return false;
	for (i = 0; i <= n; i++) {
		if (i < n && path[i] != '/')
			continue;
		if (!component_valid(path + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

static bool dns_label_valid(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* domain := ( dnsname | "[" ipv6 "]" ) [ ":" port ]; on failure *why says what. */
static bool domain_valid(const char *s, size_t n, const char **why)
{
	size_t host_end, i;

	if (n == 0) {
		*why = "is empty";
		return false;
	}
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close || close == s + 1) {
			*why = "is not a valid [IPv6] literal";
			return false;
		}
		for (const char *p = s + 1; p < close; p++) {
			if (!is_hex(*p) && *p != ':') {
				*why = "is not a valid [IPv6] literal";
				return false;
			}
		}
		host_end = (size_t)(close - s) + 1;
	} else {
		size_t start = 0;

		host_end = 0;
		while (host_end < n && s[host_end] != ':')
			host_end++;
		for (i = 0; i <= host_end; i++) {
			if (i == host_end || s[i] == '.') {
				if (!dns_label_valid(s + start, i - start)) {
					*why = "is not a valid host name (letters, digits and '-', "
					       "labels separated by '.')";
					return false;
				}
				start = i + 1;
			}
		}
	}
	if (host_end == n)
		return true;
	if (s[host_end] != ':' || host_end + 1 == n || n - host_end - 1 > 5) {
		*why = "has an invalid port (want HOST:PORT with PORT 1-65535)";
		return false;
	}
	for (i = host_end + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why = "has an invalid port (want HOST:PORT with PORT 1-65535)";
			return false;
		}
	}
	if (atoi(s + host_end + 1) < 1 || atoi(s + host_end + 1) > 65535) {
		*why = "has an invalid port (want HOST:PORT with PORT 1-65535)";
		return false;
	}
	return true;
}

static char *strndup_or_null(const char *s, size_t n)
{
	return s ? strndup(s, n) : NULL;
}

void mf_ref_free(struct mf_ref *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	free(r);
}

/* Split "name" into domain and path the way splitDockerDomain does. */
static void split_domain(const char *name, size_t n, const char **dom, size_t *dom_len,
			 const char **path, size_t *path_len)
{
	const char *slash = memchr(name, '/', n);
	size_t first;

	*dom = REF_DEFAULT_DOMAIN;
	*dom_len = strlen(REF_DEFAULT_DOMAIN);
	*path = name;
	*path_len = n;
	if (!slash)
		return;
	first = (size_t)(slash - name);
	if ((first == strlen("localhost") && memcmp(name, "localhost", first) == 0) ||
	    memchr(name, '.', first) || memchr(name, ':', first) || has_upper(name, first)) {
		*dom = name;
		*dom_len = first;
		*path = slash + 1;
		*path_len = n - first - 1;
	}
	if (*dom_len == strlen(REF_LEGACY_DOMAIN) &&
	    memcmp(*dom, REF_LEGACY_DOMAIN, *dom_len) == 0) {
		*dom = REF_DEFAULT_DOMAIN;
		*dom_len = strlen(REF_DEFAULT_DOMAIN);
	}
}

static bool all_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int mf_ref_parse(const char *s, struct mf_ref **ret_ref, struct err *e)
{
	struct shown in, part;
	const char *at, *name, *tag = NULL, *digest = NULL, *dom, *path, *why = NULL;
	size_t len, name_len, tag_len = 0, dom_len, path_len, i, start;
	bool official;
	struct mf_ref *r = NULL;
	int ret = -1;

	if (!s)
		return err_set(e, ERR_INPUT, "invalid reference: none given");
	if (strncmp(s, REF_TRANSPORT_PREFIX, strlen(REF_TRANSPORT_PREFIX)) == 0)
		s += strlen(REF_TRANSPORT_PREFIX);
	len = strlen(s);
	show(&in, s, len);
	if (len == 0)
		return err_set(e, ERR_INPUT, "invalid reference \"%s\": empty name", in.s);
	if (len == 64 && all_lower_hex(s, len))
		return err_set(
		    e, ERR_INPUT,
		    "invalid reference \"%s\": a 64-character hex string is an image ID, "
		    "not a repository name (write NAME@sha256:HEX)",
		    in.s);

	/* Tags and names contain no '@', so the first one starts the digest. */
	at = strchr(s, '@');
	name_len = at ? (size_t)(at - s) : len;
	if (at) {
		digest = at + 1;
		if (mf_digest_check(digest, "digest", e) < 0)
			return err_prefix(e, "invalid reference \"%s\"", in.s);
	}
	/* A ':' after the last '/' separates the tag: a domain's ':' is always
	 * followed by a '/'. */
	name = s;
	for (i = name_len; i > 0; i--) {
		if (s[i - 1] == '/')
			break;
		if (s[i - 1] == ':') {
			tag = s + i;
			tag_len = name_len - i;
			name_len = i - 1;
			break;
		}
	}
	if (tag && !tag_valid_n(tag, tag_len))
		return err_set(e, ERR_INPUT,
			       "invalid reference \"%s\": tag \"%s\" is invalid (1-128 characters "
			       "from A-Z a-z 0-9 _ . -, not starting with '.' or '-')",
			       in.s, show(&part, tag, tag_len));
	if (name_len == 0)
		return err_set(e, ERR_INPUT, "invalid reference \"%s\": empty repository name",
			       in.s);

	split_domain(name, name_len, &dom, &dom_len, &path, &path_len);
	if (!domain_valid(dom, dom_len, &why))
		return err_set(e, ERR_INPUT, "invalid reference \"%s\": registry host \"%s\" %s",
			       in.s, show(&part, dom, dom_len), why);
	if (has_upper(path, path_len))
		return err_set(e, ERR_INPUT,
			       "invalid reference \"%s\": repository name \"%s\" must be lowercase",
			       in.s, show(&part, path, path_len));
	start = 0;
	for (i = 0; i <= path_len; i++) {
		if (i < path_len && path[i] != '/')
			continue;
		if (!component_valid(path + start, i - start))
			return err_set(e, ERR_INPUT,
				       "invalid reference \"%s\": repository path component \"%s\" "
				       "is invalid (lowercase letters and digits, separated by "
				       "'.', '_', '__' or '-')",
				       in.s, show(&part, path + start, i - start));
		start = i + 1;
	}
	/* "docker.io/busybox" means "docker.io/library/busybox", on Docker Hub only */
	official = dom_len == strlen(REF_DEFAULT_DOMAIN) &&
		   memcmp(dom, REF_DEFAULT_DOMAIN, dom_len) == 0 && !memchr(path, '/', path_len);
	if (dom_len + 1 + (official ? strlen(REF_OFFICIAL_PREFIX) : 0) + path_len > REF_NAME_MAX)
		return err_set(e, ERR_INPUT,
			       "invalid reference \"%s\": repository name is longer than %d "
			       "characters",
			       in.s, REF_NAME_MAX);

	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->domain = strndup(dom, dom_len);
	if (official) {
		if (asprintf(&r->path, "%s%.*s", REF_OFFICIAL_PREFIX, (int)path_len, path) < 0)
			r->path = NULL;
	} else {
		r->path = strndup(path, path_len);
	}
	r->tag = strndup_or_null(tag, tag_len);
	r->digest = digest ? strdup(digest) : NULL;
	if (!r->domain || !r->path || (tag && !r->tag) || (digest && !r->digest))
		goto nomem;
	*ret_ref = r;
	r = NULL; /* transferred */
	ret = 0;
	goto out;
nomem:
	err_set(e, ERR_OPERATIONAL, "parse reference \"%s\": out of memory", in.s);
out:
	mf_ref_free(r);
	return ret;
}

struct mf_ref *mf_ref_dup(const struct mf_ref *r)
{
	struct mf_ref *d;

	if (!r)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->domain = r->domain ? strdup(r->domain) : NULL;
	d->path = r->path ? strdup(r->path) : NULL;
	d->tag = r->tag ? strdup(r->tag) : NULL;
	d->digest = r->digest ? strdup(r->digest) : NULL;
	if ((r->domain && !d->domain) || (r->path && !d->path) || (r->tag && !d->tag) ||
	    (r->digest && !d->digest)) {
		mf_ref_free(d);
		return NULL;
	}
	return d;
}

static bool is_docker_hub(const struct mf_ref *r)
{
	return r->domain && strcmp(r->domain, REF_DEFAULT_DOMAIN) == 0;
}

const char *mf_ref_api_host(const struct mf_ref *r)
{
	return is_docker_hub(r) ? REF_DOCKER_API_HOST : r->domain;
}

const char *mf_ref_auth_key(const struct mf_ref *r)
{
	return is_docker_hub(r) ? REF_DOCKER_AUTH_KEY : r->domain;
}

const char *mf_ref_reference(const struct mf_ref *r)
{
	if (r->digest)
		return r->digest;
	if (r->tag)
		return r->tag;
	return REF_DEFAULT_TAG;
}

char *mf_ref_repository(const struct mf_ref *r)
{
	char *s;

	if (asprintf(&s, "%s/%s", r->domain, r->path) < 0)
		return NULL;
	return s;
}

char *mf_ref_string(const struct mf_ref *r)
{
	char *s;

	if (asprintf(&s, "%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "",
		     r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "") < 0)
		return NULL;
	return s;
}

bool mf_ref_is_loopback(const struct mf_ref *r)
{
	char host[256];
	const char *d, *end;
	size_t n;
	unsigned char addr[4];
	struct in6_addr addr6;

	if (!r || !r->domain)
		return false;
	d = r->domain;
	if (d[0] == '[') {
		end = strchr(d, ']');
		if (!end)
			return false;
		d++;
	} else {
		end = strchr(d, ':');
		if (!end)
			end = d + strlen(d);
	}
	n = (size_t)(end - d);
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, d, n);
	host[n] = '\0';
	if (r->domain[0] == '[')
		return inet_pton(AF_INET6, host, &addr6) == 1 && IN6_IS_ADDR_LOOPBACK(&addr6);
	if (strcasecmp(host, "localhost") == 0)
		return true;
	return inet_pton(AF_INET, host, addr) == 1 && addr[0] == 127;
}
