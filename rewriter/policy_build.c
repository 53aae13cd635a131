/* policy_build.c - see policy_build.h. */
#include "policy_build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../manifest/buf.h"
#include "policy.h"

/* Distinct rules kept per list while merging: the result may hold at most
 * RW_POLICY_MAX_RULES after covered rules are removed; this bounds memory
 * before that (16384 rules of at most 4 KiB). */
#define MERGE_MAX 16384
#define READ_CHUNK 65536

/* A sorted set of distinct strings. */
struct str_set {
	char **v;
	size_t n, cap;
};

static const char *const list_names[] = {
    [RW_POLICY_EXEC] = "exec.allow",
    [RW_POLICY_LISTEN] = "net.listen",
    [RW_POLICY_CONNECT] = "net.connect",
    [RW_POLICY_WRITE] = "files.write",
};

struct rw_policy_builder {
	struct str_set lists[4]; /* by enum rw_policy_list */
	char *drift;		 /* from the base, NULL: "block" */
	struct rw_build_stats st;
};

/* ------------------------------------------------------------------------ */
/* Sets */

static size_t set_find(const struct str_set *s, const char *x, bool *found)
{
	size_t lo = 0, hi = s->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->v[mid], x);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool set_has(const struct str_set *s, const char *x)
{
	bool found;

	set_find(s, x, &found);
	return found;
}

/* Add a copy of x (already validated) unless present. */
static int set_add(struct str_set *s, const char *x, const char *list, struct err *e)
{
	bool found;
	size_t at = set_find(s, x, &found);
	char *copy;

	if (found)
		return 0;
	if (s->n >= MERGE_MAX)
		return err_set(e, ERR_INPUT,
			       "more than %d distinct %s rules; a policy holds at most %d per list",
			       MERGE_MAX, list, RW_POLICY_MAX_RULES);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return err_set(e, ERR_OPERATIONAL, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	copy = strdup(x);
	if (!copy)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
	s->v[at] = copy;
	s->n++;
	return 0;
}

static void set_free(struct str_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

/* ------------------------------------------------------------------------ */
/* Rules from observations (the same forms as the sensor's learn mode) */

/* The absolute path without empty and "." components (they never change
 * what a path names); a trailing '/' kept as one. Sets *dotdot when a ".."
 * component remains. NULL when not absolute or out of memory. */
static char *normalize_path(const char *in, bool *dotdot)
{
	size_t n, o = 1, i = 0;
	bool trailing = false;
	char *out;

	*dotdot = false;
	if (!in || in[0] != '/')
		return NULL;
	n = strlen(in);
	out = malloc(n + 2);
	if (!out)
		return NULL;
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
			trailing = true;
			continue;
		}
		trailing = false;
		if (len == 2 && in[start] == '.' && in[start + 1] == '.')
			*dotdot = true;
		if (o > 1)
			out[o++] = '/';
		memcpy(out + o, in + start, len);
		o += len;
	}
	if (trailing && o > 1)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

/* Append s with the exec rule's special characters escaped. */
static int escape_glob(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (strchr("\\*?[]", *s) && buf_append(b, "\\", 1) < 0)
			return -1;
		if (buf_append(b, s, 1) < 0)
			return -1;
	}
	return 0;
}

char *rw_policy_exec_rule(const char *exe, const char *applet)
{
	const char *base, *name = NULL;
	struct buf b;
	bool dotdot;
	char *path = normalize_path(exe, &dotdot), *rule = NULL;

	/* ".." is kept: the rule then matches the same text the sensor sees. */
	if (!path || strcmp(path, "/") == 0 || path[strlen(path) - 1] == '/')
		goto out;
	base = strrchr(path, '/') + 1;
	if (applet && applet[0]) {
		name = strrchr(applet, '/') ? strrchr(applet, '/') + 1 : applet;
		if (!name[0] || strcmp(name, base) == 0)
			name = NULL;
	}
	buf_init(&b, RW_POLICY_MAX_RULE_LEN);
	if (escape_glob(&b, path) < 0 ||
	    (name && (buf_append(&b, "[", 1) < 0 || escape_glob(&b, name) < 0 ||
		      buf_append(&b, "]", 1) < 0))) {
		buf_free(&b);
		goto out;
	}
	rule = buf_detach(&b, NULL);
	if (rule && !rw_policy_rule_valid(RW_POLICY_EXEC, rule)) {
		free(rule);
		rule = NULL;
	}
out:
	free(path);
	return rule;
}

char *rw_policy_write_rule(const char *path)
{
	bool dotdot;
	char *norm = normalize_path(path, &dotdot), *slash;

	if (!norm || dotdot || strcmp(norm, "/") == 0) {
		free(norm);
		return NULL;
	}
	/* Generalise to the directory, as the sensor does; a file directly in
	 * "/" keeps its name ("/" would allow every write). */
	slash = strrchr(norm, '/');
	if (slash != norm && slash[1] != '\0')
		slash[1] = '\0';
	if (strlen(norm) > RW_POLICY_MAX_RULE_LEN || !rw_policy_rule_valid(RW_POLICY_WRITE, norm)) {
		free(norm);
		return NULL;
	}
	return norm;
}

char *rw_policy_connect_rule(const char *addr, long port)
{
	static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN], plain[INET6_ADDRSTRLEN + 2], *rule = NULL;
	size_t n;

	if (!addr || port < 1 || port > 65535)
		return NULL;
	n = strlen(addr);
	if (n >= sizeof(plain))
		return NULL;
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		memcpy(plain, addr + 1, n - 2);
		plain[n - 2] = '\0';
	} else {
		memcpy(plain, addr, n + 1);
	}
	if (inet_pton(AF_INET, plain, a) == 1) {
		inet_ntop(AF_INET, a, text, sizeof(text));
		if (asprintf(&rule, "%s:%ld", text, port) < 0)
			rule = NULL;
		return rule;
	}
	if (inet_pton(AF_INET6, plain, a) != 1)
		return NULL;
	if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0) {
		inet_ntop(AF_INET, a + 12, text, sizeof(text));
		if (asprintf(&rule, "%s:%ld", text, port) < 0)
			rule = NULL;
		return rule;
	}
	/* glibc's inet_ntop writes RFC 5952 text, as the sensor does. */
	inet_ntop(AF_INET6, a, text, sizeof(text));
	if (asprintf(&rule, "[%s]:%ld", text, port) < 0)
		rule = NULL;
	return rule;
}

/* ------------------------------------------------------------------------ */
/* The builder */

int rw_policy_builder_new(struct rw_policy_builder **ret, struct err *e)
{
	struct rw_policy_builder *b = calloc(1, sizeof(*b));

	if (!b)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	*ret = b;
	return 0;
}

void rw_policy_builder_free(struct rw_policy_builder *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < 4; i++)
		set_free(&b->lists[i]);
	free(b->drift);
	free(b);
}

const struct rw_build_stats *rw_policy_builder_stats(const struct rw_policy_builder *b)
{
	return &b->st;
}

/* Merge the lists of a validated policy-shaped object. */
static int merge_policy_object(struct rw_policy_builder *b, json_t *o, struct err *e)
{
	static const char *const where[4][2] = {
	    [RW_POLICY_EXEC] = {"exec", "allow"},
	    [RW_POLICY_LISTEN] = {"net", "listen"},
	    [RW_POLICY_CONNECT] = {"net", "connect"},
	    [RW_POLICY_WRITE] = {"files", "write"},
	};
	size_t k, i;
	json_t *v;

	for (k = 0; k < 4; k++) {
		json_t *arr = json_object_get(json_object_get(o, where[k][0]), where[k][1]);

		json_array_foreach(arr, i, v)
		{
			if (set_add(&b->lists[k], json_string_value(v), list_names[k], e) < 0)
				return -1;
		}
	}
	return 0;
}

int rw_policy_builder_add_base(struct rw_policy_builder *b, const char *json, struct err *e)
{
	json_error_t je;
	json_t *o = json_loads(json, 0, &je), *drift;
	int r;

	if (!o)
		return err_set(e, ERR_INPUT, "base policy: %s", je.text);
	r = merge_policy_object(b, o, e);
	drift = json_object_get(json_object_get(o, "exec"), "drift");
	if (r == 0 && json_is_string(drift)) {
		free(b->drift);
		b->drift = strdup(json_string_value(drift));
		if (!b->drift)
			r = err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	json_decref(o);
	return r;
}

/* A "sensor profile" event: its profile must be a valid policy (it is one
 * by construction; anything else is a damaged or forged line). */
static int add_profile(struct rw_policy_builder *b, json_t *fields, struct err *e)
{
	json_t *profile = json_object_get(fields, "profile");
	json_t *dropped = json_object_get(fields, "profile.dropped");
	char *text, *canon = NULL;
	int r;

	if (!json_is_object(profile))
		return err_set(e, ERR_INPUT, "sensor profile event without a profile object");
	text = json_dumps(profile, JSON_COMPACT);
	if (!text)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	r = rw_policy_parse(text, strlen(text), &canon, e);
	free(text);
	free(canon);
	if (r < 0)
		return err_prefix(e, "sensor profile");
	if (merge_policy_object(b, profile, e) < 0)
		return -1;
	/* Every part of a profile repeats the count, and a sensor emits its
	 * growing profile again and again (learn_interval): the largest count
	 * is what is known to be missing. */
	if (json_is_integer(dropped) && json_integer_value(dropped) > 0 &&
	    (size_t)json_integer_value(dropped) > b->st.dropped)
		b->st.dropped = (size_t)json_integer_value(dropped);
	b->st.profiles++;
	return 0;
}

static const char *field_str(json_t *fields, const char *key)
{
	return json_string_value(json_object_get(fields, key));
}

/* A port field: a JSON integer or a string of digits. -1 when absent. */
static long field_port(json_t *fields, const char *key)
{
	json_t *v = json_object_get(fields, key);
	const char *s;

	if (json_is_integer(v))
		return (long)json_integer_value(v);
	s = json_string_value(v);
	if (s && s[0] && strlen(s) <= 5 && strspn(s, "0123456789") == strlen(s))
		return strtol(s, NULL, 10);
	return -1;
}

static bool type_is(const char *t, const char *const *names)
{
	for (; t && *names; names++)
		if (strcmp(t, *names) == 0)
			return true;
	return false;
}

/* The server side of Falco's fd.name ("cip:cport->sip:sport", or
 * "ip:port" for a listening socket) split at its last ':'. The address may
 * be an IPv6 one, bracketed or not. */
static bool split_fd_name(const char *name, char *addr, size_t n, long *port)
{
	const char *arrow, *colon;
	size_t len;

	if (!name)
		return false;
	arrow = strstr(name, "->");
	if (arrow)
		name = arrow + 2;
	colon = strrchr(name, ':');
	if (!colon || colon == name || !colon[1] || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return false;
	len = (size_t)(colon - name);
	if (len >= n)
		return false;
	memcpy(addr, name, len);
	addr[len] = '\0';
	*port = strtol(colon + 1, NULL, 10);
	return true;
}

/* The rule an individual event stands for, or NULL (and *list untouched)
 * when it stands for none. */
static char *event_rule(json_t *fields, enum rw_policy_list *list)
{
	static const char *const exec_types[] = {"execve", "execveat", NULL};
	static const char *const listen_types[] = {"listen", "bind", NULL};
	static const char *const connect_types[] = {"connect", "sendto", "sendmsg", NULL};
	static const char *const open_types[] = {"open", "openat", "openat2", "creat", NULL};
	const char *type = field_str(fields, "evt.type"), *res = field_str(fields, "evt.res");
	char addr[128], *rule = NULL;
	long port;

	if (type_is(type, exec_types)) {
		const char *exe = field_str(fields, "proc.exepath");
		const char *applet = field_str(fields, "proc.applet");

		/* A failed attempt (a shell trying each PATH entry) ran nothing. */
		if (res && strcmp(res, "SUCCESS") != 0)
			return NULL;
		/* Falco's proc.exe is argv[0]: the applet's name when it differs
		 * from the binary's, as the sensor judges it. */
		if (!applet && exe && exe[0] == '/')
			applet = field_str(fields, "proc.exe");
		if (!exe || exe[0] != '/')
			exe = field_str(fields, "proc.exe");
		rule = rw_policy_exec_rule(exe, applet);
		*list = RW_POLICY_EXEC;
	} else if (type_is(type, listen_types)) {
		const char *proto = field_str(fields, "fd.l4proto");

		if (!proto && strcmp(type, "listen") == 0)
			proto = "tcp"; /* listen(2) is for stream sockets */
		port = field_port(fields, "fd.sport");
		if (port < 0 &&
		    !split_fd_name(field_str(fields, "fd.name"), addr, sizeof(addr), &port))
			return NULL;
		/* Port 0 is an ephemeral port: always allowed, nothing to learn. */
		if (!proto || port < 1 || port > 65535 ||
		    (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0))
			return NULL;
		if (asprintf(&rule, "%s:%ld", proto, port) < 0)
			rule = NULL;
		*list = RW_POLICY_LISTEN;
	} else if (type_is(type, connect_types)) {
		const char *sip = field_str(fields, "fd.sip");

		port = field_port(fields, "fd.sport");
		if (sip && port >= 0)
			rule = rw_policy_connect_rule(sip, port);
		else if (split_fd_name(field_str(fields, "fd.name"), addr, sizeof(addr), &port))
			rule = rw_policy_connect_rule(addr, port);
		*list = RW_POLICY_CONNECT;
	} else if (type_is(type, open_types)) {
		json_t *w = json_object_get(fields, "evt.is_open_write");

		if (json_is_false(w))
			return NULL;
		rule = rw_policy_write_rule(field_str(fields, "fd.name"));
		*list = RW_POLICY_WRITE;
	}
	return rule;
}

/* Parse a line as a JSON object; a line with a prefix (a timestamp from a
 * log driver) is tried again from its first '{'. NULL when it holds none. */
static json_t *line_object(const char *line, size_t len)
{
	const char *brace;
	json_t *o;

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(o))
		return o;
	json_decref(o);
	brace = memchr(line, '{', len);
	if (!brace || brace == line)
		return NULL;
	o = json_loadb(brace, len - (size_t)(brace - line), JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(o))
		return o;
	json_decref(o);
	return NULL;
}

int rw_policy_builder_add_line(struct rw_policy_builder *b, const char *line, size_t len,
			       struct err *e)
{
	enum rw_policy_list list = RW_POLICY_EXEC;
	json_t *o, *fields;
	const char *source, *rule, *action;
	char *r;
	size_t i;
	int rc = 0;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
			break;
	if (i == len)
		return 0; /* blank */
	o = line_object(line, len);
	if (!o) {
		b->st.not_json++;
		return 0;
	}
	source = json_string_value(json_object_get(o, "source"));
	rule = json_string_value(json_object_get(o, "rule"));
	fields = json_object_get(o, "output_fields");
	if (!source || strcmp(source, "inlay") != 0 || !rule || !json_is_object(fields)) {
		b->st.other_json++;
		goto out;
	}
	if (strcmp(rule, "sensor profile") == 0) {
		rc = add_profile(b, fields, e);
		goto out;
	}
	/* A verdict ("policy violation", "drift detected") judges an action;
	 * what was let through also has its own activity event, which is the
	 * one used. What was denied or killed must never be learned. */
	action = field_str(fields, "sensor.action");
	if (action) {
		if (strcmp(action, "allowed") == 0)
			b->st.unused++;
		else
			b->st.denied++;
		goto out;
	}
	r = event_rule(fields, &list);
	if (!r) {
		b->st.unused++;
		goto out;
	}
	rc = set_add(&b->lists[list], r, list_names[list], e);
	free(r);
	if (rc == 0)
		b->st.events++;
out:
	json_decref(o);
	return rc;
}

int rw_policy_builder_read(struct rw_policy_builder *b, int fd, const char *name, struct err *e)
{
	char *chunk = malloc(READ_CHUNK);
	struct buf line;
	bool skipping = false; /* inside a line that is too long */
	size_t lineno = 0;
	int rc = -1;

	buf_init(&line, RW_BUILD_MAX_LINE);
	if (!chunk)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	for (;;) {
		ssize_t n = read(fd, chunk, READ_CHUNK);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_sys(e, ERR_OPERATIONAL, "read %s", name);
			goto out;
		}
		while (off < (size_t)n || (n == 0 && (line.len || skipping))) {
			char *nl = n ? memchr(chunk + off, '\n', (size_t)n - off) : NULL;
			size_t take = nl ? (size_t)(nl - (chunk + off)) : (size_t)n - off;
			bool end = nl || n == 0; /* a whole line, or the last one */

			if (!skipping && buf_append(&line, chunk + off, take) < 0) {
				if (errno != E2BIG) {
					err_set(e, ERR_OPERATIONAL, "out of memory");
					goto out;
				}
				skipping = true;
			}
			off += take + (nl ? 1 : 0);
			if (!end)
				break;
			if (++b->st.lines > RW_BUILD_MAX_LINES) {
				err_set(e, ERR_INPUT,
					"%s: more than %d lines in all; give only the sensor's "
					"events (grep '\"source\":\"inlay\"')",
					name, RW_BUILD_MAX_LINES);
				goto out;
			}
			lineno++;
			if (skipping)
				b->st.too_long++;
			else if (rw_policy_builder_add_line(b, line.data ? line.data : "", line.len,
							    e) < 0) {
				err_prefix(e, "%s line %zu", name, lineno);
				goto out;
			}
			skipping = false;
			buf_reset(&line);
			if (n == 0)
				break;
		}
		if (n == 0)
			break;
	}
	rc = 0;
out:
	buf_free(&line);
	free(chunk);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Finishing */

/* Whether rule i of a files.write set is covered by another of its rules:
 * "/tmp/" covers everything below /tmp, "/tmp" covers /tmp and below. Sets
 * are sorted, so each candidate prefix is one binary search. */
static bool write_covered(const struct str_set *s, const char *r)
{
	size_t n = strlen(r), i;
	char *pre = malloc(n + 1);
	bool hit = false;

	if (!pre)
		return false;
	for (i = 0; i < n && !hit; i++) {
		if (r[i] != '/')
			continue;
		/* "/a/" before "/a/b/": the prefix up to and with this '/'. */
		if (i + 1 < n) {
			memcpy(pre, r, i + 1);
			pre[i + 1] = '\0';
			hit = set_has(s, pre);
		}
		/* "/a" (no trailing slash) covers "/a/..." too. */
		if (!hit && i > 0) {
			memcpy(pre, r, i);
			pre[i] = '\0';
			hit = set_has(s, pre);
		}
	}
	free(pre);
	return hit;
}

/* The path part of an exec rule (up to its first unescaped '['), or NULL
 * when it has no [applet]. Caller frees. */
static char *exec_path_part(const char *r)
{
	size_t i;

	for (i = 0; r[i]; i++) {
		if (r[i] == '\\' && r[i + 1]) {
			i++;
			continue;
		}
		if (r[i] == '[')
			return strndup(r, i);
	}
	return NULL;
}

static bool connect_covered(const struct str_set *s, const char *r)
{
	const char *colon = strrchr(r, ':');
	char buf[160];
	int n;

	if (strcmp(r, "*:*") != 0 && set_has(s, "*:*"))
		return true;
	if (!colon || strlen(r) >= sizeof(buf) - 2)
		return false;
	n = (int)(colon - r);
	if (strcmp(colon, ":*") != 0) {
		snprintf(buf, sizeof(buf), "%.*s:*", n, r);
		if (set_has(s, buf))
			return true;
	}
	if (strncmp(r, "*:", 2) != 0) {
		snprintf(buf, sizeof(buf), "*%s", colon);
		if (set_has(s, buf))
			return true;
	}
	return false;
}

static bool covered(const struct str_set *s, enum rw_policy_list list, const char *r)
{
	char buf[16], *path;
	bool c = false;

	switch (list) {
	case RW_POLICY_EXEC:
		/* "/bin/busybox" allows every applet of it. */
		path = exec_path_part(r);
		c = path && set_has(s, path);
		free(path);
		return c;
	case RW_POLICY_LISTEN:
		snprintf(buf, sizeof(buf), "%.4s*", r);
		return strcmp(r, buf) != 0 && set_has(s, buf);
	case RW_POLICY_CONNECT:
		return connect_covered(s, r);
	case RW_POLICY_WRITE:
		return write_covered(s, r);
	}
	return false;
}

/* The list as a JSON array without the rules other rules cover. */
static json_t *list_array(const struct str_set *s, enum rw_policy_list list, struct err *e)
{
	json_t *arr = json_array();
	size_t i;

	if (!arr) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		return NULL;
	}
	for (i = 0; i < s->n; i++) {
		if (covered(s, list, s->v[i]))
			continue;
		if (json_array_append_new(arr, json_string(s->v[i])) < 0) {
			err_set(e, ERR_INPUT, "%s: '%.100s' is not UTF-8 text", list_names[list],
				s->v[i]);
			json_decref(arr);
			return NULL;
		}
	}
	if (json_array_size(arr) > RW_POLICY_MAX_RULES) {
		err_set(e, ERR_INPUT,
			"%zu distinct %s rules were learned, more than the %d a policy holds: "
			"generalise some by hand (globs, CIDR ranges, directories) in a --base "
			"policy",
			json_array_size(arr), list_names[list], RW_POLICY_MAX_RULES);
		json_decref(arr);
		return NULL;
	}
	return arr;
}

int rw_policy_builder_finish(struct rw_policy_builder *b, char **ret_json, struct err *e)
{
	json_t *lists[4] = {NULL, NULL, NULL, NULL}, *doc = NULL;
	char *compact = NULL, *canon = NULL, *text;
	int rc = -1;
	size_t k;

	if (b->st.profiles == 0 && b->st.events == 0)
		return err_set(e, ERR_INPUT,
			       "no sensor profile and no event to learn from (%zu lines read: "
			       "%zu not JSON, %zu other JSON, %zu inlay events that give no rule)",
			       b->st.lines, b->st.not_json, b->st.other_json, b->st.unused);
	for (k = 0; k < 4; k++) {
		lists[k] = list_array(&b->lists[k], (enum rw_policy_list)k, e);
		if (!lists[k])
			goto out;
	}
	/* Keys in the order people write them (exec, net, files). */
	doc = json_pack("{s:{s:O, s:s}, s:{s:O, s:O}, s:{s:O}}", "exec", "allow",
			lists[RW_POLICY_EXEC], "drift", b->drift ? b->drift : "block", "net",
			"listen", lists[RW_POLICY_LISTEN], "connect", lists[RW_POLICY_CONNECT],
			"files", "write", lists[RW_POLICY_WRITE]);
	if (!doc) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	compact = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!compact) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	/* What inlay instrument --policy and the sensor will be given must
	 * pass the one validator. */
	if (rw_policy_parse(compact, strlen(compact), &canon, e) < 0) {
		err_prefix(e, "the merged policy is not valid");
		goto out;
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	*ret_json = text;
	rc = 0;
out:
	for (k = 0; k < 4; k++)
		json_decref(lists[k]);
	json_decref(doc);
	free(compact);
	free(canon);
	return rc;
}
