/* json.c - see json.h. Recursive descent over a bounded input with a bounded
 * depth; all memory comes from one arena freed at once. */
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A hostile 1 MiB file of "[0,0,0,..." would otherwise cost ~50 MB of nodes;
 * real policies stay far below this. */
#define SN_JSON_MAX_NODES 100000
#define ARENA_BLOCK (64 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	max_align_t data[]; /* aligned storage */
};

struct sn_json_doc {
	struct arena_block *blocks;
	struct sn_json *root;
};

struct parser {
	const char *s;
	size_t len, pos;
	size_t nodes;
	struct sn_json_doc *doc;
	struct sn_err *e;
};

static void *arena_alloc(struct sn_json_doc *doc, size_t n)
{
	struct arena_block *b = doc->blocks;
	size_t align = sizeof(max_align_t);
	void *p;

	n = (n + align - 1) / align * align;
	if (!b || b->size - b->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->size = size;
		b->used = 0;
		b->next = doc->blocks;
		doc->blocks = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

/* Fill the error with the position `pos` as "line L column C" (1-based,
 * columns in bytes). */
static int fail_at(struct parser *p, size_t pos, const char *what, const char *detail)
{
	size_t line = 1, col = 1, i;

	for (i = 0; i < pos && i < p->len; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	return sn_err_set(p->e, "invalid JSON at line %zu column %zu: %s%.100s", line, col, what,
			  detail);
}

static int fail(struct parser *p, const char *what)
{
	return fail_at(p, p->pos, what, "");
}

static int fail_nomem(struct parser *p)
{
	errno = ENOMEM;
	return sn_err_sys(p->e, "cannot parse JSON");
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static struct sn_json *new_node(struct parser *p, enum sn_json_type t)
{
	struct sn_json *n;

	if (p->nodes >= SN_JSON_MAX_NODES) {
		fail(p, "too many values (the limit is "
			"100000"
			")");
		return NULL;
	}
	n = arena_alloc(p->doc, sizeof(*n));
	if (!n) {
		fail_nomem(p);
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->type = t;
	n->src_off = p->pos;
	p->nodes++;
	return n;
}

int sn_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read the 4 hex digits of a \u escape at p->pos. */
static int read_hex4(struct parser *p, unsigned *ret)
{
	unsigned v = 0;
	int i;

	if (p->len - p->pos < 4)
		return fail(p, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		int h = sn_hex_value(p->s[p->pos + (size_t)i]);

		if (h < 0)
			return fail(p, "\\u must be followed by 4 hex digits");
		v = v << 4 | (unsigned)h;
	}
	p->pos += 4;
	*ret = v;
	return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* RFC 3629: overlong forms, surrogates and code points above U+10FFFF are
 * malformed. */
size_t sn_utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned c = s[0];
	size_t n, i;
	unsigned min, cp;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Parse a string starting at the opening quote; the decoded bytes are stored
 * NUL-terminated in the arena. */
static int parse_string(struct parser *p, const char **ret_str, size_t *ret_len)
{
	size_t start = ++p->pos, end, n = 0;
	char *out;

	/* Find the closing quote first so the output can be sized once: decoded
	 * text is never longer than its source. */
	for (end = start; end < p->len && p->s[end] != '"'; end++)
		if (p->s[end] == '\\')
			end++;
	if (end >= p->len)
		return fail(p, "unterminated string");
	out = arena_alloc(p->doc, end - start + 1);
	if (!out)
		return fail_nomem(p);

	while (p->pos < end) {
		unsigned char c = (unsigned char)p->s[p->pos];

		if (c < 0x20)
			return fail(p, "control character in string (escape it)");
		if (c >= 0x80) {
			size_t k =
			    sn_utf8_seq_len((const unsigned char *)p->s + p->pos, end - p->pos);

			if (!k)
				return fail(p, "invalid UTF-8 in string");
			memcpy(out + n, p->s + p->pos, k);
			n += k;
			p->pos += k;
			continue;
		}
		if (c != '\\') {
			out[n++] = (char)c;
			p->pos++;
			continue;
		}
		p->pos++; /* the backslash; end > pos holds, the scan above skipped it */
		c = (unsigned char)p->s[p->pos++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			out[n++] = (char)c;
			break;
		case 'b':
			out[n++] = '\b';
			break;
		case 'f':
			out[n++] = '\f';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'u': {
			unsigned cp, lo;

			if (read_hex4(p, &cp) < 0)
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(p, "lone low surrogate in \\u escape");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - p->pos < 6 || p->s[p->pos] != '\\' ||
				    p->s[p->pos + 1] != 'u')
					return fail(p, "high surrogate not followed by a low one");
				p->pos += 2;
				if (read_hex4(p, &lo) < 0)
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail(p, "high surrogate not followed by a low one");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			/* \uXXXX is 6 source bytes and decodes to at most 3; a pair is
			 * 12 bytes for 4: the output never outruns the input. */
			n += put_utf8(out + n, cp);
			break;
		}
		default:
			p->pos--;
			return fail(p, "unknown escape in string");
		}
	}
	if (p->pos != end)
		return fail(p, "truncated escape at end of string");
	p->pos = end + 1;
	out[n] = '\0';
	*ret_str = out;
	*ret_len = n;
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct parser *p, struct sn_json *n)
{
	size_t start = p->pos;
	int neg = 0, is_int = 1, overflow = 0;
	unsigned long long acc = 0;
	char *lit;

	if (p->pos < p->len && p->s[p->pos] == '-') {
		neg = 1;
		p->pos++;
	}
	if (p->pos >= p->len || !is_digit(p->s[p->pos]))
		return fail(p, "a number needs a digit");
	if (p->s[p->pos] == '0') {
		p->pos++;
		if (p->pos < p->len && is_digit(p->s[p->pos]))
			return fail(p, "leading zero in number");
	} else {
		while (p->pos < p->len && is_digit(p->s[p->pos])) {
			unsigned d = (unsigned)(p->s[p->pos] - '0');

			if (acc > (ULLONG_MAX - d) / 10)
				overflow = 1;
			else
				acc = acc * 10 + d;
			p->pos++;
		}
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		is_int = 0;
		p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return fail(p, "a fraction needs a digit");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		is_int = 0;
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return fail(p, "an exponent needs a digit");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (is_int && !overflow) {
		if (!neg && acc <= (unsigned long long)LLONG_MAX) {
			n->num = (long long)acc;
			n->is_int = 1;
		} else if (neg && acc <= (unsigned long long)LLONG_MAX + 1) {
			n->num =
			    acc == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)acc;
			n->is_int = 1;
		}
	}
	lit = arena_alloc(p->doc, p->pos - start + 1);
	if (!lit)
		return fail_nomem(p);
	memcpy(lit, p->s + start, p->pos - start);
	lit[p->pos - start] = '\0';
	n->str = lit;
	n->len = p->pos - start;
	return 0;
}

static int literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail(p, "unexpected character (expected a value)");
	p->pos += n;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct sn_json *x = *(const struct sn_json *const *)a;
	const struct sn_json *y = *(const struct sn_json *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int r = memcmp(x->key, y->key, n);

	if (r)
		return r;
	return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Duplicate keys are refused: two parsers that keep different duplicates would
 * read two different policies from one file. Sorting keeps this O(n log n). */
static int check_duplicates(struct parser *p, struct sn_json *obj)
{
	const struct sn_json **v, *m;
	size_t i = 0;
	int r = 0;

	if (obj->count < 2)
		return 0;
	v = malloc(obj->count * sizeof(*v));
	if (!v)
		return fail_nomem(p);
	for (m = obj->child; m; m = m->next)
		v[i++] = m;
	qsort(v, obj->count, sizeof(*v), key_cmp);
	for (i = 1; i < obj->count; i++) {
		if (key_cmp(&v[i - 1], &v[i]) == 0) {
			/* Report the later of the two, where a reader would look. */
			m = v[i - 1]->src_off > v[i]->src_off ? v[i - 1] : v[i];
			r = fail_at(p, m->src_off, "duplicate key ", m->key);
			break;
		}
	}
	free(v);
	return r;
}

static int parse_value(struct parser *p, int depth, struct sn_json **ret);

static int parse_container(struct parser *p, int depth, struct sn_json *n)
{
	int is_obj = n->type == SN_JSON_OBJECT;
	char close = is_obj ? '}' : ']';
	struct sn_json *last = NULL;

	if (depth >= SN_JSON_DEPTH)
		return fail(p, "nesting too deep (the limit is 64)");
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		size_t key_len = 0;
		struct sn_json *v;

		if (is_obj) {
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, "expected a string key");
			if (parse_string(p, &key, &key_len) < 0)
				return -1;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail(p, "expected ':' after key");
			p->pos++;
		}
		if (parse_value(p, depth + 1, &v) < 0)
			return -1;
		v->key = key;
		v->key_len = key_len;
		if (last)
			last->next = v;
		else
			n->child = v;
		last = v;
		n->count++;
		skip_ws(p);
		if (p->pos >= p->len)
			return fail(p, is_obj ? "unterminated object" : "unterminated array");
		if (p->s[p->pos] == close) {
			p->pos++;
			break;
		}
		if (p->s[p->pos] != ',')
			return fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
		p->pos++;
	}
	return is_obj ? check_duplicates(p, n) : 0;
}

static int parse_value(struct parser *p, int depth, struct sn_json **ret)
{
	struct sn_json *n;
	int r;

	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "unexpected end of input (expected a value)");
	switch (p->s[p->pos]) {
	case '{':
		n = new_node(p, SN_JSON_OBJECT);
		r = n ? parse_container(p, depth, n) : -1;
		break;
	case '[':
		n = new_node(p, SN_JSON_ARRAY);
		r = n ? parse_container(p, depth, n) : -1;
		break;
	case '"':
		n = new_node(p, SN_JSON_STRING);
		r = n ? parse_string(p, &n->str, &n->len) : -1;
		break;
	case 't':
		n = new_node(p, SN_JSON_TRUE);
		r = n ? literal(p, "true") : -1;
		break;
	case 'f':
		n = new_node(p, SN_JSON_FALSE);
		r = n ? literal(p, "false") : -1;
		break;
	case 'n':
		n = new_node(p, SN_JSON_NULL);
		r = n ? literal(p, "null") : -1;
		break;
	default:
		if (p->s[p->pos] != '-' && !is_digit(p->s[p->pos]))
			return fail(p, "unexpected character (expected a value)");
		n = new_node(p, SN_JSON_NUMBER);
		r = n ? parse_number(p, n) : -1;
		break;
	}
	if (r < 0)
		return -1;
	n->src_len = p->pos - n->src_off;
	*ret = n;
	return 0;
}

int sn_json_parse(const char *text, size_t len, struct sn_json_doc **ret_doc, struct sn_err *e)
{
	struct parser p = {.s = text, .len = len, .e = e};
	struct sn_json_doc *doc;
	struct sn_json *root;

	if (memchr(text, '\0', len)) {
		p.pos = (size_t)((const char *)memchr(text, '\0', len) - text);
		return fail(&p, "NUL byte in input");
	}
	doc = calloc(1, sizeof(*doc));
	if (!doc)
		return fail_nomem(&p);
	p.doc = doc;
	if (parse_value(&p, 0, &root) < 0)
		goto fail;
	skip_ws(&p);
	if (p.pos != p.len) {
		fail(&p, "trailing characters after the value");
		goto fail;
	}
	doc->root = root;
	*ret_doc = doc;
	return 0;
fail:
	sn_json_free(doc);
	return -1;
}

const struct sn_json *sn_json_root(const struct sn_json_doc *doc)
{
	return doc->root;
}

void sn_json_free(struct sn_json_doc *doc)
{
	struct arena_block *b, *next;

	if (!doc)
		return;
	for (b = doc->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(doc);
}

const struct sn_json *sn_json_get(const struct sn_json *obj, const char *key)
{
	size_t n = strlen(key);
	const struct sn_json *m;

	if (!obj || obj->type != SN_JSON_OBJECT)
		return NULL;
	for (m = obj->child; m; m = m->next)
		if (m->key_len == n && memcmp(m->key, key, n) == 0)
			return m;
	return NULL;
}

const char *sn_json_cstr(const struct sn_json *v)
{
	if (!v || v->type != SN_JSON_STRING || strlen(v->str) != v->len)
		return NULL;
	return v->str;
}

const char *sn_json_type_name(enum sn_json_type t)
{
	switch (t) {
	case SN_JSON_NULL:
		return "null";
	case SN_JSON_FALSE:
	case SN_JSON_TRUE:
		return "boolean";
	case SN_JSON_NUMBER:
		return "number";
	case SN_JSON_STRING:
		return "string";
	case SN_JSON_ARRAY:
		return "array";
	case SN_JSON_OBJECT:
		return "object";
	}
	return "value";
}
