/* sn_err.h - the sensor's own error object and its only printing helpers.
 *
 * The sensor shares no code with the rest of inlay (DESIGN.md section 1), so it
 * carries a small twin of manifest/err.h: a failure is recorded where it
 * happens (sn_err_set/sn_err_sys), wrapped with context on the way up
 * (sn_err_prefix) and printed only by main.c through sn_msg().
 *
 * Functions taking a `struct sn_err *` return 0 on success and a negative value
 * on failure; the error is filled only on failure.
 */
#ifndef INLAY_SENSOR_SN_ERR_H
#define INLAY_SENSOR_SN_ERR_H

#include <stddef.h>

#define SN_ERR_MSG_MAX 512

/* Every diagnostic the sensor prints starts with this, so it can be told apart
 * from the application's own stderr. */
#define SN_PROG "inlay-sensor"

struct sn_err {
	int sys_errno; /* errno at the failure, 0 when not a system error */
	char msg[SN_ERR_MSG_MAX];
};

/* Reset to "no error". Accepts NULL. */
void sn_err_clear(struct sn_err *e);

/* Record a failure. Always returns -1 so callers can write
 * `return sn_err_set(e, "...")`. Accepts e == NULL (the message is dropped). */
int sn_err_set(struct sn_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like sn_err_set, then appends ": strerror(errno)" and stores errno. */
int sn_err_sys(struct sn_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepend "context: " to the message, keeping the errno. Returns -1. The
 * message is truncated, never overflowed. */
int sn_err_prefix(struct sn_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* snprintf for text that may be cut on purpose (messages, event values):
 * always NUL-terminates when n > 0, returns the bytes stored. Exists so that
 * deliberate truncation does not trip -Wformat-truncation. */
size_t sn_fmt(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Print "inlay-sensor: MESSAGE\n" to stderr with one write(), so a diagnostic
 * is never interleaved with the application's output mid-line. stdio is not
 * used: the sensor never buffers on the application's descriptors. */
void sn_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
