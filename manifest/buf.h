/* buf.h - a growable byte buffer with a hard size limit.
 *
 * Anything read from the network or a file lands in a buf whose limit was set
 * when it was initialised, so hostile input can never make it grow without
 * bound (the curl dynbuf idea). The data is always NUL-terminated, so a buf
 * holding text can be used as a C string; len does not count the NUL.
 *
 * Invariants: data is NULL or points to cap bytes; len < cap when data != NULL;
 * len <= max.
 */
#ifndef INLAY_BUF_H
#define INLAY_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* the most len may ever reach */
};

/* Start empty, allowing at most `max` bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Append n bytes. Returns 0, or -1 with errno E2BIG when the limit would be
 * passed (the buffer is unchanged) or ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t n);

/* Append a NUL-terminated string. Same returns as buf_append. */
int buf_puts(struct buf *b, const char *s);

/* Append formatted text. Same returns as buf_append. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Forget the contents, keep the memory and the limit. */
void buf_reset(struct buf *b);

/* Give the contents away: returns the NUL-terminated data (never NULL on
 * success: an empty buffer gives ""), stores its length in *ret_len when
 * ret_len is not NULL, and leaves b empty. Returns NULL on ENOMEM. */
char *buf_detach(struct buf *b, size_t *ret_len);

/* Free the memory. Accepts NULL and a never-used buffer. */
void buf_free(struct buf *b);

/* A whole file ("-": standard input), at most max bytes, NUL-terminated
 * (*ret_len without the NUL); caller frees. ERR_INPUT naming the file when
 * it cannot be opened or read, or is larger than max. */
int buf_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct err *e);

#endif
