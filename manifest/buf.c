/* buf.c - see buf.h. */
#include "buf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Make room for `extra` more bytes plus the terminating NUL. */
static int buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > b->max - b->len) {
		errno = E2BIG;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return -1;
	if (buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *ret_len)
{
	char *p = b->data;

	if (!p) {
		p = strdup("");
		if (!p)
			return NULL;
	}
	if (ret_len)
		*ret_len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

int buf_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct err *e)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "re");
	const char *name = is_stdin ? "standard input" : path;
	struct buf b;
	char chunk[8192];
	size_t n;
	int rc = -1;

	if (!f)
		return err_sys(e, ERR_INPUT, "cannot open %.200s", path);
	buf_init(&b, max);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			if (errno == E2BIG)
				err_set(e, ERR_INPUT, "%.200s is larger than %zu bytes", name, max);
			else
				err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
	if (ferror(f)) {
		err_sys(e, ERR_INPUT, "cannot read %.200s", name);
		goto out;
	}
	*ret = buf_detach(&b, ret_len);
	rc = *ret ? 0 : err_set(e, ERR_OPERATIONAL, "out of memory");
out:
	if (!is_stdin)
		fclose(f);
	buf_free(&b);
	return rc;
}
