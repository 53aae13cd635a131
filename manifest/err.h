/* err.h - the one error object every inlay module fills.
 *
 * A failure is recorded where it happens (err_set), wrapped with context on the
 * way up (err_prefix), and printed only by main. The class doubles as the
 * process exit status (DESIGN.md section 7), so a deep parser that rejects
 * input decides that the user sees exit 2 without main having to guess.
 *
 * Functions taking a `struct err *` return 0 on success and a negative value
 * on failure; the error is filled only on failure. Shared by manifest/,
 * layers/, registry/ and rewriter/ (not by the sensor, which shares nothing).
 */
#ifndef INLAY_ERR_H
#define INLAY_ERR_H

#include <stddef.h>

enum err_class {
	ERR_OK = 0,
	ERR_OPERATIONAL = 1, /* network, registry, I/O, missing image */
	ERR_INPUT = 2,       /* bad usage, malformed reference or file */
	ERR_VERIFY = 3,      /* digest, signature or policy check failed */
};

#define ERR_MSG_MAX 512

struct err {
	int cls;         /* enum err_class */
	int sys_errno;   /* errno at the failure, 0 when not a system error */
	int http_status; /* HTTP status of the failing request, 0 when none */
	char msg[ERR_MSG_MAX];
};

/* Reset to "no error". Accepts NULL. */
void err_clear(struct err *e);

/* Record a failure of class `cls`. Always returns -1 so callers can write
 * `return err_set(e, ERR_INPUT, "...")`. Accepts e == NULL (the message is
 * dropped). */
int err_set(struct err *e, int cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set, then appends ": strerror(errno)" and stores errno. */
int err_sys(struct err *e, int cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend "context: " to the message, keeping class and codes. Returns -1.
 * The message is truncated, never overflowed, when it grows past ERR_MSG_MAX. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The class to use as exit status: ERR_OPERATIONAL when e was never set. */
int err_exit_status(const struct err *e);

#endif
