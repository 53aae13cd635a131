/* err.c - see err.h. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->cls = ERR_OK;
	e->sys_errno = 0;
	e->http_status = 0;
	e->msg[0] = '\0';
}

static void err_vset(struct err *e, int cls, const char *fmt, va_list ap)
{
	e->cls = cls;
	e->sys_errno = 0;
	e->http_status = 0;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

int err_set(struct err *e, int cls, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	err_vset(e, cls, fmt, ap);
	va_end(ap);
	return -1;
}

int err_sys(struct err *e, int cls, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!e)
		return -1;
	va_start(ap, fmt);
	err_vset(e, cls, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	if (n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(saved));
	e->sys_errno = saved;
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char head[ERR_MSG_MAX], old[ERR_MSG_MAX];
	size_t hl, room;
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	/* head, ": ", old - each cut to what still fits */
	hl = strnlen(head, sizeof(e->msg) - 3);
	memcpy(e->msg, head, hl);
	memcpy(e->msg + hl, ": ", 2);
	room = sizeof(e->msg) - hl - 3;
	hl += 2;
	memcpy(e->msg + hl, old, strnlen(old, room));
	e->msg[hl + strnlen(old, room)] = '\0';
	if (e->cls == ERR_OK)
		e->cls = ERR_OPERATIONAL;
	return -1;
}

int err_exit_status(const struct err *e)
{
	if (!e || e->cls == ERR_OK)
		return ERR_OPERATIONAL;
	return e->cls;
}
