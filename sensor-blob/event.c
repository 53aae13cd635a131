/* event.c - see event.h. */
#include "event.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

/* Room always kept free for the closing "}}\n" of an event. */
#define EVENT_TAIL 4

int sn_output_open(struct sn_output *ret, const struct sn_output_spec *spec, struct sn_err *e)
{
	int fd, fl;

	switch (spec->kind) {
	case SN_OUTPUT_STDERR:
		ret->fd = STDERR_FILENO;
		ret->owned = 0;
		return 0;
	case SN_OUTPUT_FILE:
		/* O_NONBLOCK so a FIFO without a reader fails (ENXIO) instead of
		 * hanging the sensor before the application starts. */
		fd = open(spec->path,
			  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
		if (fd < 0)
			return sn_err_sys(e, "cannot open event output file %s", spec->path);
		ret->fd = fd;
		ret->owned = 1;
		return 0;
	case SN_OUTPUT_FD:
		fl = fcntl(spec->fd, F_GETFL);
		if (fl < 0)
			return sn_err_sys(e, "event output fd:%d is not an open descriptor",
					  spec->fd);
		if ((fl & O_ACCMODE) == O_RDONLY)
			return sn_err_set(e, "event output fd:%d is not open for writing",
					  spec->fd);
		ret->fd = spec->fd;
		ret->owned = 0;
		return 0;
	}
	return sn_err_set(e, "unknown event output kind");
}

void sn_output_close(struct sn_output *out)
{
	if (!out)
		return;
	if (out->owned && out->fd >= 0)
		close(out->fd);
	out->fd = -1;
	out->owned = 0;
}

const char *sn_priority_name(enum sn_priority p)
{
	static const char *const names[] = {
	    "Emergency", "Alert",  "Critical",	    "Error",
	    "Warning",	 "Notice", "Informational", "Debug",
	};

	if ((unsigned)p < sizeof(names) / sizeof(names[0]))
		return names[p];
	return "Informational";
}

/* The escaped form of the character at s[0] into rep (at least 6 bytes);
 * returns its length and sets *used to the input bytes it stands for. */
static size_t escape_one(const char *s, size_t avail, char *rep, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = (unsigned char)s[0];
	size_t k;

	*used = 1;
	if (c >= 0x80) {
		k = sn_utf8_seq_len((const unsigned char *)s, avail);
		if (!k) {
			memcpy(rep, "\\ufffd", 6);
			return 6;
		}
		memcpy(rep, s, k);
		*used = k;
		return k;
	}
	if (c == '"' || c == '\\') {
		rep[0] = '\\';
		rep[1] = (char)c;
		return 2;
	}
	if (c >= 0x20) {
		rep[0] = (char)c;
		return 1;
	}
	rep[0] = '\\';
	switch (c) {
	case '\n':
		rep[1] = 'n';
		return 2;
	case '\t':
		rep[1] = 't';
		return 2;
	case '\r':
		rep[1] = 'r';
		return 2;
	case '\b':
		rep[1] = 'b';
		return 2;
	case '\f':
		rep[1] = 'f';
		return 2;
	}
	memcpy(rep, "\\u00", 4);
	rep[4] = hex[c >> 4];
	rep[5] = hex[c & 15];
	return 6;
}

/* How many bytes from s stand for themselves in JSON: printable ASCII but
 * the quote and the backslash (almost all of a path or a command line). */
static size_t plain_run(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
			break;
	}
	return i;
}

/* Every event quotes its command line and paths twice (the output line and
 * its field), on the application's path: runs of plain bytes are copied at
 * once rather than escaped one by one. */
size_t sn_json_quote(char *buf, size_t max, const char *s, size_t len)
{
	char rep[8];
	size_t i, run, used, r, total = 0, o = 0, budget;

	if (max < 8)
		return 0;
	/* Whole string when it fits, otherwise as much as fits before "...".
	 * No escape is longer than 6 bytes: a short string surely fits. */
	if (len <= (max - 2) / 6) {
		budget = max - 2;
	} else {
		for (i = 0; i < len; i += used) {
			run = plain_run(s + i, len - i);
			if (run) {
				total += run;
				used = run;
			} else {
				total += escape_one(s + i, len - i, rep, &used);
			}
		}
		budget = total + 2 <= max ? total : max - 5;
	}
	buf[o++] = '"';
	for (i = 0; i < len; i += used) {
		run = plain_run(s + i, len - i);
		if (run) {
			/* Plain bytes are one byte each: as many as fit. */
			used = run <= budget - (o - 1) ? run : budget - (o - 1);
			memcpy(buf + o, s + i, used);
			o += used;
			if (used < run) {
				i += used;
				break;
			}
			continue;
		}
		r = escape_one(s + i, len - i, rep, &used);
		if (o - 1 + r > budget)
			break;
		memcpy(buf + o, rep, r);
		o += r;
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	return o;
}

/* Append raw bytes; silently refuses what would eat into the tail reserve
 * (callers size what they append, so this only guards against mistakes). */
static int put(struct sn_event *ev, const char *s, size_t n)
{
	if (n > sizeof(ev->buf) - EVENT_TAIL - ev->len)
		return -1;
	memcpy(ev->buf + ev->len, s, n);
	ev->len += n;
	return 0;
}

static size_t room(const struct sn_event *ev)
{
	return sizeof(ev->buf) - EVENT_TAIL - ev->len;
}

/* Append a quoted string capped at `cap` bytes and at the room left. */
static int put_quoted(struct sn_event *ev, const char *s, size_t cap)
{
	size_t max = room(ev) < cap ? room(ev) : cap;

	if (max < 8)
		return -1;
	ev->len += sn_json_quote(ev->buf + ev->len, max, s, strlen(s));
	return 0;
}

/* `"key":` for output_fields, with the separating comma. Room for the key and
 * at least a short value is checked first, so a field is never half written. */
static int put_key(struct sn_event *ev, const char *key, size_t value_room)
{
	size_t klen = strlen(key);

	if (room(ev) < klen + 4 + value_room)
		return -1;
	if (ev->fields++)
		put(ev, ",", 1);
	put_quoted(ev, key, klen + 2 + 8);
	put(ev, ":", 1);
	return 0;
}

/* The container's host name, read once: every event carries it, and a
 * uname() per event is a system call on the tracer's hot path. A name the
 * app changes later (it would need CAP_SYS_ADMIN) is not followed. NULL when
 * uname fails. */
static const char *event_hostname(void)
{
	static struct utsname un;
	static int state; /* 0 unread, 1 read, -1 failed */

	if (state == 0)
		state = uname(&un) == 0 ? 1 : -1;
	return state == 1 ? un.nodename : NULL;
}

void sn_event_begin(struct sn_event *ev, const char *rule, enum sn_priority pri,
		    const char *const *tags, const char *fmt, ...)
{
	char stamp[64], msg[2048];
	struct timespec ts;
	const char *host;
	struct tm tm;
	va_list ap;
	size_t n;
	int r;

	ev->len = 0;
	ev->fields = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);

	r = snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (long)ts.tv_nsec);
	put(ev, "{\"time\":\"", 9);
	put(ev, stamp, (size_t)r);
	put(ev, "\",\"rule\":", 9);
	put_quoted(ev, rule, 256);
	put(ev, ",\"priority\":\"", 13);
	put(ev, sn_priority_name(pri), strlen(sn_priority_name(pri)));

	/* Falco's output line starts "time-of-day: Priority ". */
	r = snprintf(msg, sizeof(msg), "%.18s: %s ", stamp + 11, sn_priority_name(pri));
	n = r > 0 ? (size_t)r : 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	put(ev, "\",\"output\":", 11);
	put_quoted(ev, msg, SN_EVENT_VALUE_MAX);

	put(ev, ",\"source\":\"inlay\",\"tags\":[", 26);
	for (n = 0; tags && tags[n]; n++) {
		if (n)
			put(ev, ",", 1);
		put_quoted(ev, tags[n], 128);
	}
	put(ev, "]", 1);
	host = event_hostname();
	if (host) {
		put(ev, ",\"hostname\":", 12);
		put_quoted(ev, host, 256);
	}
	put(ev, ",\"output_fields\":{", 18);
}

void sn_event_str(struct sn_event *ev, const char *key, const char *value)
{
	if (!value) {
		if (put_key(ev, key, 4) == 0)
			put(ev, "null", 4);
		return;
	}
	if (put_key(ev, key, 8) == 0)
		put_quoted(ev, value, SN_EVENT_VALUE_MAX);
}

void sn_event_int(struct sn_event *ev, const char *key, long long value)
{
	char num[32];
	int r = snprintf(num, sizeof(num), "%lld", value);

	if (put_key(ev, key, (size_t)r) == 0)
		put(ev, num, (size_t)r);
}

int sn_event_raw(struct sn_event *ev, const char *key, const char *json, size_t len)
{
	/* put_key reserves room for the whole value, so put() cannot fail half
	 * way and leave a key without its value. */
	if (put_key(ev, key, len) < 0)
		return -1;
	return put(ev, json, len);
}

int sn_event_emit(struct sn_event *ev, const struct sn_output *out, struct sn_err *e)
{
	size_t off = 0;
	int waits = 0;

	/* The tail reserve guarantees this fits. */
	memcpy(ev->buf + ev->len, "}}\n", 3);
	ev->len += 3;
	if (!out || out->fd < 0)
		return sn_err_set(e, "event output is closed");
	while (off < ev->len) {
		ssize_t w = write(out->fd, ev->buf + off, ev->len - off);

		if (w >= 0) {
			/* A short write (a signal, a full pipe): finish the line
			 * rather than leave half a JSON object behind. */
			off += (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd p = {.fd = out->fd, .events = POLLOUT};

			/* Bounded: a reader that never drains must not stall the
			 * sensor (and with it signal forwarding) for long. */
			if (waits++ < 3 && poll(&p, 1, 1000) > 0)
				continue;
			errno = EAGAIN;
		}
		return sn_err_sys(e, "cannot write event to fd %d", out->fd);
	}
	return 0;
}
