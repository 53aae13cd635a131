/* event.h - the sensor's event stream: one JSON object per line, in the shape
 * Falco writes with json_output (DESIGN.md section 5), so Falco tooling
 * (falcosidekick, SIEM parsers) reads it unchanged:
 *
 *   {"time":"2024-05-01T12:00:00.123456789Z","rule":"sensor started",
 *    "priority":"Informational","output":"12:00:00.123456789: Informational ...",
 *    "source":"inlay","tags":["inlay","sensor"],"hostname":"...",
 *    "output_fields":{"evt.type":"sensor","proc.pid":1,...}}
 *
 * An event is built in a fixed buffer (struct sn_event, no allocation) and
 * written with a single write(), so lines from the sensor and the application
 * sharing a pipe or an O_APPEND file never interleave mid-line (pipes
 * guarantee this up to PIPE_BUF). Every string is escaped and made valid
 * UTF-8 (bad bytes become U+FFFD); a value too long for the line is cut at a
 * character boundary and ends in "...", so a line is always valid JSON.
 */
#ifndef INLAY_SENSOR_EVENT_H
#define INLAY_SENSOR_EVENT_H

#include <stddef.h>

#include "config.h"
#include "sn_err.h"

#define SN_EVENT_MAX 16384	/* bytes in one line, newline included */
#define SN_EVENT_VALUE_MAX 4096 /* escaped bytes of one string value */

enum sn_priority {
	SN_PRI_EMERGENCY,
	SN_PRI_ALERT,
	SN_PRI_CRITICAL,
	SN_PRI_ERROR,
	SN_PRI_WARNING,
	SN_PRI_NOTICE,
	SN_PRI_INFORMATIONAL,
	SN_PRI_DEBUG,
};

/* Where events go. */
struct sn_output {
	int fd;	   /* -1 when closed */
	int owned; /* 1 when the sensor opened fd (file:PATH) and must close it */
};

/* Open the destination named by `spec`:
 *  - stderr: the sensor's fd 2, shared with the application, never closed;
 *  - file:PATH: opened O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC (mode 0644 before
 *    umask), so the application never inherits it;
 *  - fd:N: the application's own descriptor, checked to be open for writing and
 *    used as is (its flags, CLOEXEC included, are left alone).
 * *ret is set only on success. */
int sn_output_open(struct sn_output *ret, const struct sn_output_spec *spec, struct sn_err *e);

/* Close an output the sensor owns; leaves stderr and fd:N open. Accepts NULL. */
void sn_output_close(struct sn_output *out);

struct sn_event {
	char buf[SN_EVENT_MAX];
	size_t len;
	int fields; /* members written into output_fields so far */
};

/* Start an event: time, rule, priority, output, source, tags (a NULL-terminated
 * array, may be NULL) and hostname. The output message is printf-formatted
 * and gets Falco's "HH:MM:SS.nnnnnnnnn: Priority " prefix. Then add fields
 * with sn_event_str/sn_event_int and finish with sn_event_emit. */
void sn_event_begin(struct sn_event *ev, const char *rule, enum sn_priority pri,
		    const char *const *tags, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Add "key":"value" to output_fields. A NULL value is written as null. */
void sn_event_str(struct sn_event *ev, const char *key, const char *value);

/* Add "key":value (a JSON number) to output_fields. */
void sn_event_int(struct sn_event *ev, const char *key, long long value);

/* Add "key":JSON to output_fields, where `json` (len bytes) is a complete JSON
 * value the caller built and escaped itself (strings with sn_json_quote); it
 * is copied as is, unchecked. Unlike a string field, a raw value is never cut
 * (that would break its syntax): when it does not fit in what is left of the
 * line, nothing is added and -1 is returned. 0 when added. Used for the
 * learned profile (profile.c), an object inside output_fields. */
int sn_event_raw(struct sn_event *ev, const char *key, const char *json, size_t len);

/* Close the event and write it as one line. A full non-blocking descriptor is
 * waited on for at most a second; after that, or on any other failure, the
 * event is dropped and e says why. The application is never blocked or
 * signalled because of the sensor's output (EPIPE is reported, not fatal). */
int sn_event_emit(struct sn_event *ev, const struct sn_output *out, struct sn_err *e);

/* Falco's name for a priority ("Informational", ...). */
const char *sn_priority_name(enum sn_priority p);

/* Append `s` (len bytes, any bytes) to buf as a quoted JSON string of at most
 * `max` bytes including the quotes; returns the bytes written. Cut strings end
 * in "...". Needs max >= 8. Exposed for tests. */
size_t sn_json_quote(char *buf, size_t max, const char *s, size_t len);

#endif
