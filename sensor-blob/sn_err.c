/* sn_err.c - see sn_err.h. */
#include "sn_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void sn_err_clear(struct sn_err *e)
{
	if (!e)
		return;
	e->sys_errno = 0;
	e->msg[0] = '\0';
}

int sn_err_set(struct sn_err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->sys_errno = 0;
	return -1;
}

int sn_err_sys(struct sn_err *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(saved));
	e->sys_errno = saved;
	return -1;
}

int sn_err_prefix(struct sn_err *e, const char *fmt, ...)
{
	char head[SN_ERR_MSG_MAX], old[SN_ERR_MSG_MAX];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	sn_fmt(e->msg, sizeof(e->msg), "%s: %s", head, old);
	return -1;
}

size_t sn_fmt(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (!n)
		return 0;
	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (r < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)r < n ? (size_t)r : n - 1;
}

void sn_msg(const char *fmt, ...)
{
	char line[SN_ERR_MSG_MAX + 64];
	size_t n = sizeof(SN_PROG ": ") - 1;
	va_list ap;
	int r;

	memcpy(line, SN_PROG ": ", n);
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	n += (size_t)r < sizeof(line) - n - 1 ? (size_t)r : sizeof(line) - n - 2;
	line[n++] = '\n';
	/* Best effort: a closed or full stderr must not stop the sensor. */
	while (write(STDERR_FILENO, line, n) < 0 && errno == EINTR)
		;
}
