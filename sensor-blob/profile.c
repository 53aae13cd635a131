/* profile.c - the learn-mode profile of policy.h (sn_profile_*): sets of
 * what ran, listened, connected and wrote, kept in the exact form of policy
 * rules, so the emitted profile is a policy that allows what was observed
 * (docs/POLICY.md, "Learning"). The rules' grammar and matching are in
 * policy.c. */
#include "policy.h"
#include "policy_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RULE_LEN SN_POLICY_MAX_RULE_LEN
#define PATH_BUF SN_PATH_BUF
#define PROFILE_MAX 1024 /* distinct entries the profile keeps per kind */
/* A profile entry longer than this once JSON-escaped is dropped: one entry
 * must always fit in one event next to the event's own fields. */
#define PROFILE_ENTRY_QUOTED_MAX 8192
/* Bytes of "profile" JSON in one event; the rest of SN_EVENT_MAX (16 KiB)
 * holds time, rule, output, tags, hostname (at most 64 bytes, escaped at
 * most 6x) and the profile.* counters with room to spare. */
#define PROFILE_PART_MAX 12288

enum { PK_EXEC, PK_LISTEN, PK_CONNECT, PK_WRITE, PK_COUNT };

/* A sorted set of distinct strings. */
struct str_set {
	char **v;
	size_t n, cap;
};

struct sn_profile {
	struct str_set set[PK_COUNT];
	size_t dropped; /* observations not recorded */
};

struct sn_profile *sn_profile_new(void)
{
	return calloc(1, sizeof(struct sn_profile));
}

void sn_profile_free(struct sn_profile *pr)
{
	size_t k, i;

	if (!pr)
		return;
	for (k = 0; k < PK_COUNT; k++) {
		for (i = 0; i < pr->set[k].n; i++)
			free(pr->set[k].v[i]);
		free(pr->set[k].v);
	}
	free(pr);
}

/* Bytes of s as a JSON string, quotes included (s is valid UTF-8). */
static size_t quoted_len(const char *s)
{
	size_t n = 2;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\' || c == '\n' || c == '\t' || c == '\r' || c == '\b' ||
		    c == '\f')
			n += 2;
		else if (c < 0x20)
			n += 6;
		else
			n += 1;
	}
	return n;
}

static int valid_utf8(const char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		size_t k = 1;

		if ((unsigned char)s[i] >= 0x80) {
			k = sn_utf8_seq_len((const unsigned char *)s + i, n - i);
			if (!k)
				return 0;
		}
		i += k;
	}
	return 1;
}

/* Add a copy of `s` to set k unless present. An entry a policy cannot hold
 * (a JSON string cannot carry bytes that are not UTF-8) or that would not
 * fit in an event, and anything past PROFILE_MAX entries, is dropped and
 * counted. */
static void profile_add(struct sn_profile *pr, int k, const char *s)
{
	struct str_set *set = &pr->set[k];
	size_t lo = 0, hi = set->n;
	char *copy;

	if (strlen(s) > MAX_RULE_LEN || !valid_utf8(s) ||
	    quoted_len(s) > PROFILE_ENTRY_QUOTED_MAX) {
		pr->dropped++;
		return;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(set->v[mid], s);

		if (c == 0)
			return;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (set->n >= PROFILE_MAX) {
		pr->dropped++;
		return;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		char **v = realloc(set->v, cap * sizeof(*v));

		if (!v) {
			pr->dropped++;
			return;
		}
		set->v = v;
		set->cap = cap;
	}
	copy = strdup(s);
	if (!copy) {
		pr->dropped++;
		return;
	}
	memmove(set->v + lo + 1, set->v + lo, (set->n - lo) * sizeof(*set->v));
	set->v[lo] = copy;
	set->n++;
}

/* Append s to out (at o, size n) with the exec rule's special characters
 * escaped. Returns the new offset, or n when it does not fit. */
static size_t escape_glob(char *out, size_t o, size_t n, const char *s)
{
	for (; *s; s++) {
		int special = strchr("\\*?[]", *s) != NULL;

		if (o + (size_t)special + 1 >= n)
			return n;
		if (special)
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o] = '\0';
	return o;
}

void sn_profile_exec(struct sn_profile *pr, const char *exe, const char *applet)
{
	/* Every byte may double when escaped, plus "[" "]". */
	char stack[PATH_BUF], *heap, rule[2 * MAX_RULE_LEN + 4];
	const char *path, *name, *base;
	size_t o;
	int dotdot;

	if (!pr)
		return;
	path = sn_path_normalize(exe, stack, &heap, &dotdot);
	(void)dotdot; /* ".." is kept: the rule then matches the same text */
	if (!path || strlen(path) < 2 || path[strlen(path) - 1] == '/') {
		pr->dropped++;
		free(heap);
		return;
	}
	base = strrchr(path, '/') + 1;
	name = sn_invoked_name(applet, base);
	o = escape_glob(rule, 0, sizeof(rule), path);
	if (o < sizeof(rule) && name) {
		rule[o++] = '[';
		o = escape_glob(rule, o, sizeof(rule) - 1, name);
		if (o < sizeof(rule) - 1) {
			rule[o++] = ']';
			rule[o] = '\0';
		}
	}
	free(heap);
	if (o >= sizeof(rule) - 1) {
		pr->dropped++;
		return;
	}
	profile_add(pr, PK_EXEC, rule);
}

void sn_profile_listen(struct sn_profile *pr, const char *proto, unsigned port)
{
	char rule[16];

	if (!pr || port == 0) /* ephemeral: always allowed, nothing to learn */
		return;
	if (!proto || (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) || port > 65535) {
		pr->dropped++;
		return;
	}
	snprintf(rule, sizeof(rule), "%s:%u", proto, port);
	profile_add(pr, PK_LISTEN, rule);
}

/* RFC 5952 text of an IPv6 address: lower case, the longest run of two or
 * more zero groups (the first of equal runs) as "::". Written here rather
 * than with inet_ntop so every sensor build prints the same text. */
static void format_ipv6(const uint8_t a[16], char *out, size_t n)
{
	unsigned g[8];
	int i, best = -1, best_len = 0, run = -1, run_len = 0;
	size_t o = 0;

	for (i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (i = 0; i < 8; i++) {
		if (g[i] == 0) {
			if (run < 0) {
				run = i;
				run_len = 0;
			}
			if (++run_len > best_len) {
				best = run;
				best_len = run_len;
			}
		} else {
			run = -1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			o += sn_fmt(out + o, n - o, "::");
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			o += sn_fmt(out + o, n - o, ":");
		o += sn_fmt(out + o, n - o, "%x", g[i]);
	}
}

void sn_profile_connect(struct sn_profile *pr, const struct sockaddr *sa, socklen_t len)
{
	static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint8_t addr[16];
	char rule[80], text[48];
	unsigned port;

	if (!pr || sn_sockaddr_destination(sa, len, addr, &port) <= 0 || port == 0)
		return; /* not an IP destination, or one that cannot be reached */
	if (memcmp(addr, v4_mapped, 12) == 0) {
		/* An IPv4 destination, whichever family reached it. */
		snprintf(rule, sizeof(rule), "%u.%u.%u.%u:%u", addr[12], addr[13], addr[14],
			 addr[15], port);
	} else {
		format_ipv6(addr, text, sizeof(text));
		snprintf(rule, sizeof(rule), "[%s]:%u", text, port);
	}
	profile_add(pr, PK_CONNECT, rule);
}

void sn_profile_write(struct sn_profile *pr, const char *path)
{
	char stack[PATH_BUF], *heap;
	const char *norm;
	char *slash;
	int dotdot = 0;

	if (!pr)
		return;
	norm = sn_path_normalize(path, stack, &heap, &dotdot);
	/* A path through ".." cannot be generalised to a rule (rules have no
	 * ".."); only a "/" rule allows it. */
	if (!norm || dotdot || strcmp(norm, "/") == 0) {
		pr->dropped++;
		free(heap);
		return;
	}
	/* Generalise to the directory: /tmp/x1 -> /tmp/. A file directly in /
	 * keeps its own name: "/" would allow every write. */
	slash = strrchr(norm, '/');
	if (slash[1] == '\0' && slash != norm) {
		/* Already a directory: "/tmp/x/" stays. */
	} else if (slash != norm) {
		slash[1] = '\0';
	}
	profile_add(pr, PK_WRITE, norm);
	free(heap);
}

/* ------------------------------------------------------------------------ */
/* Emitting the profile */

/* Where one event's share of the profile starts and ends: entries
 * [from[k], to[k]) of each kind. */
struct part {
	size_t from[PK_COUNT], to[PK_COUNT];
};

static const char *const part_open[PK_COUNT] = {
    "{\"exec\":{\"allow\":[",
    "]},\"net\":{\"listen\":[",
    "],\"connect\":[",
    "]},\"files\":{\"write\":[",
};
static const char part_close[] = "]}}";

static size_t part_skeleton(void)
{
	size_t n = sizeof(part_close) - 1;
	int k;

	for (k = 0; k < PK_COUNT; k++)
		n += strlen(part_open[k]);
	return n;
}

/* Split the profile into parts of at most PROFILE_PART_MAX bytes of JSON, in
 * order. With parts == NULL only counts them. Every entry fits in an empty
 * part (PROFILE_ENTRY_QUOTED_MAX), so this always ends. */
static size_t plan_parts(const struct sn_profile *pr, struct part *parts)
{
	size_t count = 1, used = part_skeleton(), i;
	struct part cur;
	int k;

	/* Each kind's range starts at entry 0 unless a split moved it. */
	memset(&cur, 0, sizeof(cur));
	for (k = 0; k < PK_COUNT; k++) {
		for (i = 0; i < pr->set[k].n; i++) {
			size_t cost = quoted_len(pr->set[k].v[i]) + 1;

			if (used + cost > PROFILE_PART_MAX) {
				if (parts)
					parts[count - 1] = cur;
				count++;
				used = part_skeleton();
				memset(&cur, 0, sizeof(cur));
				/* Lists of kinds before k are done: empty here. */
				cur.from[k] = i;
			}
			used += cost;
			cur.to[k] = i + 1;
		}
	}
	if (parts)
		parts[count - 1] = cur;
	return count;
}

static size_t render_part(const struct sn_profile *pr, const struct part *pt, char *out, size_t n)
{
	size_t o = 0, i;
	int k;

	for (k = 0; k < PK_COUNT; k++) {
		size_t len = strlen(part_open[k]);

		memcpy(out + o, part_open[k], len);
		o += len;
		for (i = pt->from[k]; i < pt->to[k]; i++) {
			const char *s = pr->set[k].v[i];

			if (i > pt->from[k])
				out[o++] = ',';
			o += sn_json_quote(out + o, n - o, s, strlen(s));
		}
	}
	memcpy(out + o, part_close, sizeof(part_close) - 1);
	o += sizeof(part_close) - 1;
	return o;
}

int sn_profile_emit(const struct sn_profile *pr, const struct sn_output *out, struct sn_err *e)
{
	static const char *const tags[] = {"inlay", "sensor", "profile", NULL};
	/* Static: 28 KiB off the stack of PID 1; the sensor is single-threaded. */
	static struct sn_event ev;
	static char json[PROFILE_PART_MAX + 64];
	struct part *parts;
	size_t nparts, i;
	int r = 0;

	if (!pr)
		return sn_err_set(e, "no profile");
	/* An event line stays within SN_EVENT_MAX (log drivers such as
	 * Docker's split longer lines): a large profile goes out as several
	 * "sensor profile" events, each a valid profile; their union is the
	 * whole, which is how `inlay policy build` merges them anyway. */
	nparts = plan_parts(pr, NULL);
	parts = calloc(nparts, sizeof(*parts));
	if (!parts) {
		errno = ENOMEM;
		return sn_err_sys(e, "cannot emit the profile");
	}
	plan_parts(pr, parts);
	for (i = 0; i < nparts; i++) {
		struct sn_err pe;
		size_t len = render_part(pr, &parts[i], json, sizeof(json));

		sn_event_begin(&ev, "sensor profile", SN_PRI_INFORMATIONAL, tags,
			       "Sensor profile (exec=%zu listen=%zu connect=%zu write=%zu "
			       "dropped=%zu part=%zu/%zu)",
			       pr->set[PK_EXEC].n, pr->set[PK_LISTEN].n, pr->set[PK_CONNECT].n,
			       pr->set[PK_WRITE].n, pr->dropped, i + 1, nparts);
		sn_event_str(&ev, "evt.type", "sensor");
		sn_event_int(&ev, "proc.pid", getpid());
		sn_event_int(&ev, "profile.part", (long long)(i + 1));
		sn_event_int(&ev, "profile.parts", (long long)nparts);
		sn_event_int(&ev, "profile.dropped", (long long)pr->dropped);
		if (sn_event_raw(&ev, "profile", json, len) < 0) {
			r = sn_err_set(e,
				       "profile part %zu of %zu (%zu bytes) does not fit in an "
				       "event",
				       i + 1, nparts, len);
			continue;
		}
		/* Go on after a failed write: later parts may still get out. */
		if (sn_event_emit(&ev, out, &pe) < 0) {
			if (r == 0 && e)
				*e = pe;
			r = -1;
		}
	}
	free(parts);
	return r;
}
