/* policy_build.h - `inlay policy build`: turn what sensors reported into a
 * policy (docs/POLICY.md, DESIGN.md section 5).
 *
 * Input is the sensor's event stream, JSON Lines, possibly mixed with the
 * application's own output (a container's whole stderr): every line that is
 * an inlay event is used, anything else is counted and skipped. Two kinds of
 * event give rules:
 *  - "sensor profile" events (learn mode): output_fields.profile is an object
 *    of a policy's shape; its lists are merged as they are;
 *  - individual events (any mode), by output_fields["evt.type"]:
 *      execve, execveat          -> exec.allow  (proc.exepath, and the applet
 *                                                from proc.applet or argv[0]
 *                                                in proc.exe)
 *      listen, bind              -> net.listen  (fd.l4proto, fd.sport or fd.name)
 *      connect, sendto, sendmsg  -> net.connect (fd.sip and fd.sport, or fd.name)
 *      open, openat, openat2, creat -> files.write (fd.name's directory)
 *    Verdicts (events with output_fields["sensor.action"]: "policy
 *    violation", "drift detected") are skipped: what was let through has its
 *    own activity event, and what was denied or killed must not widen the
 *    policy.
 * Everything is merged as sets (sorted, deduplicated, rules covered by
 * broader ones removed) and "drift" is "block" unless a base policy says
 * otherwise. The result is validated with rw_policy_parse.
 */
#ifndef INLAY_RW_POLICY_BUILD_H
#define INLAY_RW_POLICY_BUILD_H

#include <stddef.h>

#include "../manifest/err.h"

#define RW_BUILD_MAX_LINE (1u << 20) /* bytes of one input line */
#define RW_BUILD_MAX_LINES 1000000   /* lines over all inputs */

struct rw_policy_builder;

/* What the builder saw, for the summary on stderr. */
struct rw_build_stats {
	size_t lines;	   /* lines read (all inputs) */
	size_t not_json;   /* lines holding no JSON object: skipped */
	size_t too_long;   /* lines over RW_BUILD_MAX_LINE: skipped */
	size_t other_json; /* JSON objects that are not inlay events: skipped */
	size_t profiles;   /* "sensor profile" events merged */
	size_t events;	   /* individual events that gave a rule */
	size_t unused;	   /* inlay events that say nothing a policy holds */
	size_t denied;	   /* verdicts on denied or killed actions: skipped */
	size_t dropped;	   /* the most observations a profile says it dropped */
};

/* An empty builder; free it with rw_policy_builder_free (accepts NULL). */
int rw_policy_builder_new(struct rw_policy_builder **ret, struct err *e);
void rw_policy_builder_free(struct rw_policy_builder *b);

/* Merge a policy the result must include (--base): `json` is a validated
 * policy (rw_policy_load's output). Its drift, when it has one, is kept. */
int rw_policy_builder_add_base(struct rw_policy_builder *b, const char *json, struct err *e);

/* Use one line of input (len bytes, no newline needed). Lines that are not
 * inlay events are counted, not errors; a "sensor profile" event whose
 * profile is malformed is an error (ERR_INPUT). */
int rw_policy_builder_add_line(struct rw_policy_builder *b, const char *line, size_t len,
			       struct err *e);

/* Read every line from fd until EOF (the caller opens and closes it). `name`
 * is used in messages ("events.jsonl line 12: ..."). Lines over
 * RW_BUILD_MAX_LINE are skipped and counted; more than RW_BUILD_MAX_LINES in
 * all is an error. */
int rw_policy_builder_read(struct rw_policy_builder *b, int fd, const char *name, struct err *e);

/* Counters so far. Valid until the builder is freed. */
const struct rw_build_stats *rw_policy_builder_stats(const struct rw_policy_builder *b);

/* The merged policy as indented JSON text (caller frees), validated with
 * rw_policy_parse. Every list is present, possibly empty (empty allows
 * nothing, which is what was learned). ERR_INPUT when nothing at all was
 * learned, or a list would exceed RW_POLICY_MAX_RULES. */
int rw_policy_builder_finish(struct rw_policy_builder *b, char **ret_json, struct err *e);

/* The exec rule that matches exactly the program `exe` run as `applet`
 * (argv[0], may be NULL), as the sensor's learn mode writes it: the path
 * without "//" and "/./", special characters escaped, "[applet]" when
 * argv[0]'s base name differs from exe's. NULL when no rule can say it. */
char *rw_policy_exec_rule(const char *exe, const char *applet);

/* The files.write rule learned from a write to `path`: its directory
 * ("/tmp/x" -> "/tmp/"), or the path itself for a file directly in "/".
 * NULL when the path is not absolute, is "/" or goes through "..". */
char *rw_policy_write_rule(const char *path);

/* The net.connect rule for address `addr` (IPv4, or IPv6 with or without
 * brackets; IPv4-mapped IPv6 becomes IPv4) and port 1-65535. NULL when
 * either is not valid. */
char *rw_policy_connect_rule(const char *addr, long port);

#endif
