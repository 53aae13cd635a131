/* policy.c - see policy.h; the format and its meaning are in docs/POLICY.md.
 *
 * The grammar of every rule is shared with rewriter/policy.c (jansson side):
 * a document one accepts the other must accept, so both are written from the
 * same description and tested on the same tables. The sensor links nothing
 * but libc, so addresses are parsed here rather than with inet_pton (musl's
 * and glibc's differ in corner cases; this parser follows glibc's, which
 * rewriter/policy.c uses).
 *
 * Matching happens at every captured syscall, so the policy is compiled once
 * into plain arrays: exec rules as fnmatch patterns, addresses as 128-bit
 * prefixes (IPv4 as ::ffff:a.b.c.d, so one rule matches a destination
 * whichever socket family reaches it), written paths as normalised prefixes.
 */
#include "policy.h"
#include "policy_internal.h"

#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RULES SN_POLICY_MAX_RULES
#define MAX_RULE_LEN SN_POLICY_MAX_RULE_LEN
#define PATH_BUF SN_PATH_BUF

struct exec_rule {
	char *path;   /* fnmatch pattern, escapes kept */
	char *applet; /* fnmatch pattern for the invoked name; NULL: any name */
};

struct listen_rule {
	int udp; /* 0: tcp */
	int any_port;
	unsigned port;
};

struct net_rule {
	int any_addr;
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	unsigned bits;	  /* prefix length within the 128 bits */
	int any_port;
	unsigned port;
};

struct sn_policy {
	int has_exec, has_listen, has_connect, has_write; /* the list is present */
	struct exec_rule *exec;
	size_t n_exec;
	enum sn_drift drift;
	struct listen_rule *listen;
	size_t n_listen;
	struct net_rule *connect;
	size_t n_connect;
	char **write; /* normalised (see normalize_path) */
	size_t n_write;
};

/* ------------------------------------------------------------------------ */
/* Paths */

/* Copy the absolute path `in` to out (n bytes) without empty and "."
 * components ("//", "/./", a trailing "/."), which never change what a path
 * names, symlinks or not. A trailing '/' (or "/.") is kept as one '/'.
 * ".." is kept: only the kernel knows where it leads once symlinks are
 * involved. Returns 1 when the result has a ".." component, 0 when not, -1
 * when `in` is not absolute or the result does not fit. */
static int normalize_path(const char *in, char *out, size_t n)
{
	size_t o = 1, i = 0;
	int dotdot = 0, trailing = 0;

	if (!in || in[0] != '/' || n < 2)
		return -1;
	out[0] = '/';
	while (in[i]) {
		size_t start, len;

		while (in[i] == '/')
			i++;
		start = i;
		while (in[i] && in[i] != '/')
			i++;
		len = i - start;
		if (len == 0 || (len == 1 && in[start] == '.')) {
			/* "x/" or "x/." at the end: a directory named with a
			 * trailing slash. */
			trailing = 1;
			continue;
		}
		trailing = 0;
		if (len == 2 && in[start] == '.' && in[start + 1] == '.')
			dotdot = 1;
		if (o > 1) {
			if (o + 1 >= n)
				return -1;
			out[o++] = '/';
		}
		if (o + len >= n)
			return -1;
		memcpy(out + o, in + start, len);
		o += len;
	}
	if (trailing && o > 1) {
		if (o + 1 >= n)
			return -1;
		out[o++] = '/';
	}
	out[o] = '\0';
	return dotdot;
}

const char *sn_path_normalize(const char *in, char *stack, char **heap, int *dotdot)
{
	size_t n;
	int r;

	*heap = NULL;
	if (!in)
		return NULL;
	r = normalize_path(in, stack, PATH_BUF);
	if (r >= 0) {
		*dotdot = r;
		return stack;
	}
	n = strlen(in);
	if (in[0] != '/' || n < PATH_BUF - 1)
		return NULL;
	*heap = malloc(n + 2);
	if (!*heap)
		return NULL;
	r = normalize_path(in, *heap, n + 2);
	if (r < 0) {
		free(*heap);
		*heap = NULL;
		return NULL;
	}
	*dotdot = r;
	return *heap;
}

const char *sn_invoked_name(const char *applet, const char *exe_base)
{
	const char *slash;

	if (!applet || !applet[0])
		return NULL;
	slash = strrchr(applet, '/');
	if (slash)
		applet = slash + 1;
	if (!applet[0] || strcmp(applet, exe_base) == 0)
		return NULL;
	return applet;
}

/* ------------------------------------------------------------------------ */
/* Rule grammar (the same as rewriter/policy.c) */

/* "*" or 1..65535 in at most 5 digits. */
static const char *parse_port(const char *s, int *ret_any, unsigned *ret_port)
{
	size_t n = strlen(s), i;
	unsigned v = 0;

	if (strcmp(s, "*") == 0) {
		*ret_any = 1;
		*ret_port = 0;
		return NULL;
	}
	if (n == 0 || n > 5)
		return "the port must be 1-65535 or *";
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return "the port must be 1-65535 or *";
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return "the port must be 1-65535 or *";
	*ret_any = 0;
	*ret_port = v;
	return NULL;
}

/* Dotted quad, exactly as glibc's inet_pton(AF_INET): four decimal parts of
 * at most 255, no leading zeros, nothing else. s has n bytes. */
static int parse_ipv4(const char *s, size_t n, uint8_t out[4])
{
	size_t i;
	unsigned v = 0;
	int octets = 0, digits = 0;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9') {
			if (digits && v == 0)
				return -1; /* leading zero */
			v = v * 10 + (unsigned)(c - '0');
			if (v > 255)
				return -1;
			if (!digits++ && ++octets > 4)
				return -1;
		} else if (c == '.' && digits) {
			if (octets == 4)
				return -1;
			out[octets - 1] = (uint8_t)v;
			v = 0;
			digits = 0;
		} else {
			return -1;
		}
	}
	if (octets < 4 || !digits)
		return -1;
	out[3] = (uint8_t)v;
	return 0;
}

/* IPv6 text (RFC 4291 section 2.2), exactly as glibc's inet_pton(AF_INET6):
 * up to 8 groups of 1-4 hex digits, one "::", an optional dotted quad at the
 * end, no zone. s has n bytes. */
static int parse_ipv6(const char *s, size_t n, uint8_t out[16])
{
	uint8_t tmp[16] = {0};
	size_t i = 0, tp = 0, colonp = 16, curtok, xdigits = 0;
	unsigned val = 0;
	int have_colonp = 0;

	if (n == 0)
		return -1;
	if (s[0] == ':') {
		if (n < 2 || s[1] != ':')
			return -1;
		i = 1;
	}
	curtok = i;
	while (i < n) {
		char c = s[i++];
		int d = sn_hex_value(c);

		if (d >= 0) {
			if (xdigits == 4)
				return -1;
			val = val << 4 | (unsigned)d;
			xdigits++;
			continue;
		}
		if (c == ':') {
			curtok = i;
			if (xdigits == 0) {
				if (have_colonp)
					return -1;
				have_colonp = 1;
				colonp = tp;
				continue;
			}
			if (i == n)
				return -1; /* a trailing single ':' */
			if (tp + 2 > 16)
				return -1;
			tmp[tp++] = (uint8_t)(val >> 8);
			tmp[tp++] = (uint8_t)val;
			xdigits = 0;
			val = 0;
			continue;
		}
		if (c == '.' && tp + 4 <= 16 && parse_ipv4(s + curtok, n - curtok, tmp + tp) == 0) {
			tp += 4;
			xdigits = 0;
			i = n;
			break;
		}
		return -1;
	}
	if (xdigits) {
		if (tp + 2 > 16)
			return -1;
		tmp[tp++] = (uint8_t)(val >> 8);
		tmp[tp++] = (uint8_t)val;
	}
	if (have_colonp) {
		size_t moved = tp - colonp;

		if (tp == 16)
			return -1; /* "::" standing for no group at all */
		memmove(tmp + 16 - moved, tmp + colonp, moved);
		memset(tmp + colonp, 0, 16 - moved - colonp);
		tp = 16;
	}
	if (tp != 16)
		return -1;
	memcpy(out, tmp, 16);
	return 0;
}

/* An IPv4 address in the 128-bit space: ::ffff:a.b.c.d. */
static void map_ipv4(const uint8_t v4[4], uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

/* "1-3 digits, at most max". */
static int parse_bits(const char *s, size_t n, unsigned max, unsigned *ret)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 3)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*ret = v;
	return 0;
}

/* ADDRESS[/BITS]:PORT where ADDRESS is "*", a dotted quad, or an IPv6
 * address in brackets ("[fd00::/8]:443"); PORT as parse_port. */
static const char *parse_connect(const char *r, struct net_rule *ret)
{
	const char *colon = strrchr(r, ':'), *a, *slash;
	size_t n, alen;
	uint8_t v4[4];
	int v6;

	memset(ret, 0, sizeof(*ret));
	if (!colon)
		return "it needs a :PORT";
	if (parse_port(colon + 1, &ret->any_port, &ret->port))
		return "the port must be 1-65535 or *";
	n = (size_t)(colon - r);
	if (n == 0 || n > 127)
		return "the address is empty or too long";
	if (n == 1 && r[0] == '*') {
		ret->any_addr = 1;
		return NULL;
	}
	a = r;
	v6 = r[0] == '[';
	if (v6) {
		if (n < 3 || r[n - 1] != ']')
			return "an IPv6 address goes in brackets: [fd00::/8]:443";
		a = r + 1;
		n -= 2;
	}
	slash = memchr(a, '/', n);
	alen = slash ? (size_t)(slash - a) : n;
	if (slash && parse_bits(slash + 1, n - alen - 1, v6 ? 128 : 32, &ret->bits) < 0)
		return v6 ? "the prefix length must be 0-128" : "the prefix length must be 0-32";
	if (v6) {
		if (parse_ipv6(a, alen, ret->addr) < 0)
			return "not an IPv6 address";
		if (!slash)
			ret->bits = 128;
		return NULL;
	}
	if (parse_ipv4(a, alen, v4) < 0)
		return "not an IPv4 address (IPv6 goes in brackets)";
	map_ipv4(v4, ret->addr);
	ret->bits = slash ? ret->bits + 96 : 128;
	return NULL;
}

/* "tcp:8080", "udp:53", "tcp:*". */
static const char *parse_listen(const char *r, struct listen_rule *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (strncmp(r, "tcp:", 4) == 0)
		ret->udp = 0;
	else if (strncmp(r, "udp:", 4) == 0)
		ret->udp = 1;
	else
		return "it must start with tcp: or udp:";
	return parse_port(r + 4, &ret->any_port, &ret->port);
}

/* Check an exec rule and find where its path ends: /PATH or /PATH[APPLET].
 * '\' escapes the next character (not '/'); unescaped '[' and ']' only frame
 * the applet, at the very end; the path has no empty or "." component and
 * does not end in '/'; the applet is not empty and has no '/'. On success
 * *ret_path_len is the length of the path part and *ret_applet the start of
 * the applet pattern (NULL when none; its length is then rlen - path - 2). */
static const char *split_exec(const char *r, size_t *ret_path_len, const char **ret_applet)
{
	size_t n = strlen(r), i, comp = 1, j;

	if (r[0] != '/')
		return "it must be an absolute path";
	for (i = 1; i < n; i++) {
		char c = r[i];

		if (c == '\\') {
			if (i + 1 >= n)
				return "it ends in a lone backslash";
			if (r[i + 1] == '/')
				return "'/' cannot be escaped";
			i++;
			continue;
		}
		if (c == ']')
			return "']' outside an [applet] (write \\] for the character)";
		if (c == '[')
			break;
		if (c == '/') {
			if (i == comp)
				return "empty path component (//)";
			if (i == comp + 1 && r[comp] == '.')
				return "'.' path component";
			comp = i + 1;
		}
	}
	if (i == comp)
		return i == 1 ? "no program path" : "it ends in '/'";
	if (i == comp + 1 && r[comp] == '.')
		return "'.' path component";
	*ret_path_len = i;
	if (i == n) {
		*ret_applet = NULL;
		return NULL;
	}
	for (j = i + 1; j < n; j++) {
		char c = r[j];

		if (c == '\\') {
			if (j + 1 >= n)
				return "unterminated [applet]";
			if (r[j + 1] == '/')
				return "'/' cannot be escaped";
			j++;
			continue;
		}
		if (c == '/')
			return "an applet name has no '/'";
		if (c == '[')
			return "'[' inside an [applet] (write \\[ for the character)";
		if (c == ']')
			break;
	}
	if (j >= n)
		return "unterminated [applet]";
	if (j != n - 1)
		return "text after the [applet]";
	if (j == i + 1)
		return "empty [applet]";
	*ret_applet = r + i + 1;
	return NULL;
}

/* Absolute, and no ".." component: a prefix must not mean more than it
 * says. */
static const char *check_write(const char *r)
{
	const char *p = r;

	if (r[0] != '/')
		return "it must be an absolute path";
	while ((p = strstr(p, "..")) != NULL) {
		if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
			return "'..' path component";
		p += 2;
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Building a policy */

/* s with control characters shown as '?', cut at 100 bytes, for messages. */
static const char *shown(const char *s, size_t len, char out[104])
{
	size_t i;

	for (i = 0; i < len && i < 100; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
	if (len > 100)
		memcpy(out + i, "...", 4);
	return out;
}

static int only_keys(const struct sn_json *o, const char *const *allowed, const char *where,
		     struct sn_err *e)
{
	const struct sn_json *m;
	char k[104];
	size_t i;

	for (m = o->child; m; m = m->next) {
		int ok = 0;

		for (i = 0; allowed[i] && !ok; i++)
			ok = m->key_len == strlen(allowed[i]) &&
			     memcmp(m->key, allowed[i], m->key_len) == 0;
		if (!ok)
			return sn_err_set(e, "%s: unknown key '%s'", where,
					  shown(m->key, m->key_len, k));
	}
	return 0;
}

/* The object `name` of root (NULL when absent), checked for its keys. */
static int section(const struct sn_json *root, const char *name, const char *const *keys,
		   const struct sn_json **ret, struct sn_err *e)
{
	const struct sn_json *v = sn_json_get(root, name);

	*ret = NULL;
	if (!v)
		return 0;
	if (v->type != SN_JSON_OBJECT)
		return sn_err_set(e, "%s: expected an object, not %s", name,
				  sn_json_type_name(v->type));
	if (only_keys(v, keys, name, e) < 0)
		return -1;
	*ret = v;
	return 0;
}

enum list_kind { LIST_EXEC, LIST_LISTEN, LIST_CONNECT, LIST_WRITE };

static const char *const shapes[] = {
    [LIST_EXEC] = "an absolute program path (optionally PATH[applet])",
    [LIST_LISTEN] = "PROTO:PORT (tcp:8080)",
    [LIST_CONNECT] = "ADDRESS[/BITS]:PORT (10.0.0.0/8:5432)",
    [LIST_WRITE] = "an absolute path prefix (/var/log/app/)",
};

/* Compile one rule into slot i of its list. Returns NULL or why it is not
 * valid; *oom is set on allocation failure. */
static const char *add_rule(struct sn_policy *p, enum list_kind kind, size_t i, const char *r,
			    int *oom)
{
	const char *why, *applet;
	size_t plen;

	switch (kind) {
	case LIST_EXEC:
		why = split_exec(r, &plen, &applet);
		if (why)
			return why;
		p->exec[i].path = strndup(r, plen);
		p->exec[i].applet = applet ? strndup(applet, strlen(applet) - 1) : NULL;
		if (!p->exec[i].path || (applet && !p->exec[i].applet))
			*oom = 1;
		return NULL;
	case LIST_LISTEN:
		return parse_listen(r, &p->listen[i]);
	case LIST_CONNECT:
		return parse_connect(r, &p->connect[i]);
	case LIST_WRITE:
		why = check_write(r);
		if (why)
			return why;
		p->write[i] = malloc(strlen(r) + 2);
		if (!p->write[i]) {
			*oom = 1;
			return NULL;
		}
		/* Cannot fail: the rule is absolute and normalising never
		 * lengthens. */
		normalize_path(r, p->write[i], strlen(r) + 2);
		return NULL;
	}
	return "unknown list";
}

/* Read section.key (an array of rule strings) into the policy. */
static int read_list(struct sn_policy *p, const struct sn_json *sec, const char *sname,
		     const char *key, enum list_kind kind, struct sn_err *e)
{
	const struct sn_json *arr = sn_json_get(sec, key), *v;
	char shown_rule[104];
	size_t i, n;
	void *mem;

	if (!arr)
		return 0;
	if (arr->type != SN_JSON_ARRAY)
		return sn_err_set(e, "%s.%s: expected an array of strings, not %s", sname, key,
				  sn_json_type_name(arr->type));
	n = arr->count;
	if (n > MAX_RULES)
		return sn_err_set(e, "%s.%s: more than %d rules", sname, key, MAX_RULES);
	/* An empty list is present: it allows nothing. */
	switch (kind) {
	case LIST_EXEC:
		mem = p->exec = calloc(n ? n : 1, sizeof(*p->exec));
		p->has_exec = 1;
		break;
	case LIST_LISTEN:
		mem = p->listen = calloc(n ? n : 1, sizeof(*p->listen));
		p->has_listen = 1;
		break;
	case LIST_CONNECT:
		mem = p->connect = calloc(n ? n : 1, sizeof(*p->connect));
		p->has_connect = 1;
		break;
	default:
		mem = p->write = calloc(n ? n : 1, sizeof(*p->write));
		p->has_write = 1;
		break;
	}
	if (!mem) {
		errno = ENOMEM;
		return sn_err_sys(e, "%s.%s", sname, key);
	}
	for (i = 0, v = arr->child; v; v = v->next, i++) {
		const char *r = sn_json_cstr(v), *why;
		int oom = 0;

		if (!r)
			return sn_err_set(e, "%s.%s[%zu]: %s is not %s", sname, key, i,
					  v->type == SN_JSON_STRING ? "a string with a NUL byte"
								    : sn_json_type_name(v->type),
					  shapes[kind]);
		if (v->len > MAX_RULE_LEN)
			return sn_err_set(e, "%s.%s[%zu]: longer than %d bytes", sname, key, i,
					  MAX_RULE_LEN);
		why = add_rule(p, kind, i, r, &oom);
		/* Count what was filled so sn_policy_free releases it. */
		switch (kind) {
		case LIST_EXEC:
			p->n_exec = i + 1;
			break;
		case LIST_LISTEN:
			p->n_listen = i + 1;
			break;
		case LIST_CONNECT:
			p->n_connect = i + 1;
			break;
		case LIST_WRITE:
			p->n_write = i + 1;
			break;
		}
		if (oom) {
			errno = ENOMEM;
			return sn_err_sys(e, "%s.%s[%zu]", sname, key, i);
		}
		if (why)
			return sn_err_set(e, "%s.%s[%zu]: '%s' is not %s: %s", sname, key, i,
					  shown(r, v->len, shown_rule), shapes[kind], why);
	}
	return 0;
}

int sn_policy_new(const struct sn_json *node, struct sn_policy **ret, struct sn_err *e)
{
	static const char *const top_keys[] = {"exec", "net", "files", NULL};
	static const char *const exec_keys[] = {"allow", "drift", NULL};
	static const char *const net_keys[] = {"listen", "connect", NULL};
	static const char *const files_keys[] = {"write", NULL};
	const struct sn_json *exec, *net, *files, *drift;
	struct sn_policy *p;
	int r = -1;

	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return sn_err_sys(e, "policy");
	}
	if (!node) {
		*ret = p;
		return 0;
	}
	if (node->type != SN_JSON_OBJECT) {
		sn_err_set(e, "a policy is a JSON object with exec, net and files sections, not %s",
			   sn_json_type_name(node->type));
		goto out;
	}
	if (only_keys(node, top_keys, "policy", e) < 0 ||
	    section(node, "exec", exec_keys, &exec, e) < 0 ||
	    section(node, "net", net_keys, &net, e) < 0 ||
	    section(node, "files", files_keys, &files, e) < 0)
		goto out;
	if (exec) {
		if (read_list(p, exec, "exec", "allow", LIST_EXEC, e) < 0)
			goto out;
		drift = sn_json_get(exec, "drift");
		if (drift) {
			const char *d = sn_json_cstr(drift);

			if (d && strcmp(d, "alert") == 0) {
				p->drift = SN_DRIFT_ALERT;
			} else if (d && strcmp(d, "block") == 0) {
				p->drift = SN_DRIFT_BLOCK;
			} else {
				sn_err_set(e, "exec.drift: expected \"alert\" or \"block\"");
				goto out;
			}
		}
	}
	if (net && (read_list(p, net, "net", "listen", LIST_LISTEN, e) < 0 ||
		    read_list(p, net, "net", "connect", LIST_CONNECT, e) < 0))
		goto out;
	if (files && read_list(p, files, "files", "write", LIST_WRITE, e) < 0)
		goto out;
	*ret = p;
	p = NULL; /* transferred */
	r = 0;
out:
	sn_policy_free(p);
	return r;
}

void sn_policy_free(struct sn_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_exec; i++) {
		free(p->exec[i].path);
		free(p->exec[i].applet);
	}
	for (i = 0; i < p->n_write; i++)
		free(p->write[i]);
	free(p->exec);
	free(p->listen);
	free(p->connect);
	free(p->write);
	free(p);
}

/* ------------------------------------------------------------------------ */
/* Questions */

bool sn_policy_exec_allowed(const struct sn_policy *p, const char *exe, const char *applet)
{
	char stack[PATH_BUF], *heap;
	const char *path, *base, *name;
	bool allowed = false;
	size_t i;
	int dotdot;

	if (!p || !p->has_exec)
		return true;
	path = sn_path_normalize(exe, stack, &heap, &dotdot);
	if (!path)
		return false;
	base = strrchr(path, '/') + 1;
	name = sn_invoked_name(applet, base);
	for (i = 0; i < p->n_exec && !allowed; i++) {
		const struct exec_rule *r = &p->exec[i];

		if (fnmatch(r->path, path, FNM_PATHNAME) != 0)
			continue;
		allowed = !r->applet || fnmatch(r->applet, name ? name : base, FNM_PATHNAME) == 0;
	}
	free(heap);
	return allowed;
}

bool sn_policy_listen_allowed(const struct sn_policy *p, const char *proto, unsigned port)
{
	size_t i;
	int udp;

	if (!p || !p->has_listen)
		return true;
	/* Port 0 asks the kernel for an ephemeral port: what client sockets
	 * get, never a port a policy could name. */
	if (port == 0)
		return true;
	if (!proto || port > 65535)
		return false;
	if (strcmp(proto, "tcp") == 0)
		udp = 0;
	else if (strcmp(proto, "udp") == 0)
		udp = 1;
	else
		return false;
	for (i = 0; i < p->n_listen; i++)
		if (p->listen[i].udp == udp && (p->listen[i].any_port || p->listen[i].port == port))
			return true;
	return false;
}

int sn_sockaddr_destination(const struct sockaddr *sa, socklen_t len, uint8_t addr[16],
			    unsigned *ret_port)
{
	sa_family_t family;

	if (!sa || len < (socklen_t)sizeof(family))
		return -1;
	memcpy(&family, sa, sizeof(family));
	if (family == AF_INET) {
		struct sockaddr_in in;
		uint8_t v4[4];

		if (len < (socklen_t)sizeof(in))
			return -1;
		memcpy(&in, sa, sizeof(in));
		memcpy(v4, &in.sin_addr, 4);
		map_ipv4(v4, addr);
		*ret_port = ntohs(in.sin_port);
		return 1;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 in6;

		/* 24 bytes: the RFC 2133 layout without sin6_scope_id, which
		 * Linux still accepts. */
		if (len < 24)
			return -1;
		memset(&in6, 0, sizeof(in6));
		memcpy(&in6, sa, (size_t)len < sizeof(in6) ? (size_t)len : sizeof(in6));
		memcpy(addr, &in6.sin6_addr, 16);
		*ret_port = ntohs(in6.sin6_port);
		return 1;
	}
	return 0;
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, net, whole) != 0)
		return false;
	if (!rest)
		return true;
	return ((a[whole] ^ net[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool sn_policy_connect_allowed(const struct sn_policy *p, const struct sockaddr *sa, socklen_t len)
{
	uint8_t addr[16];
	unsigned port;
	size_t i;
	int r;

	if (!p || !p->has_connect)
		return true;
	r = sn_sockaddr_destination(sa, len, addr, &port);
	if (r <= 0)
		return r == 0;
	for (i = 0; i < p->n_connect; i++) {
		const struct net_rule *n = &p->connect[i];

		if ((n->any_port || n->port == port) &&
		    (n->any_addr || prefix_match(addr, n->addr, n->bits)))
			return true;
	}
	return false;
}

bool sn_policy_write_allowed(const struct sn_policy *p, const char *path)
{
	char stack[PATH_BUF], *heap;
	const char *norm;
	bool allowed = false;
	int dotdot = 0;
	size_t i;

	if (!p || !p->has_write)
		return true;
	norm = sn_path_normalize(path, stack, &heap, &dotdot);
	for (i = 0; i < p->n_write && !allowed; i++) {
		const char *r = p->write[i];
		size_t n = strlen(r);

		if (strcmp(r, "/") == 0) {
			allowed = true; /* everything, whatever the path says */
			break;
		}
		/* Where "a/../b" leads depends on symlinks only the kernel
		 * sees: no narrower prefix can vouch for it. */
		if (!norm || dotdot || strncmp(norm, r, n) != 0)
			continue;
		allowed = r[n - 1] == '/' || norm[n] == '\0' || norm[n] == '/';
	}
	free(heap);
	return allowed;
}

enum sn_drift sn_policy_drift(const struct sn_policy *p)
{
	return p ? p->drift : SN_DRIFT_DEFAULT;
}
