/* policy.h - what the sensor allows, and what it learns (DESIGN.md section 5).
 *
 * The policy is the "policy" object of /.inlay/sensor.json:
 *   {"exec":  {"allow": ["/usr/bin/python3", "/bin/busybox[cat]", "/opt/app/bin/app-*"],
 *              "drift": "alert" | "block"},
 *    "net":   {"listen": ["tcp:8080", "udp:53", "tcp:*"],
 *              "connect": ["10.0.0.0/8:5432", "192.168.1.10:443", "[fd00::/8]:443", "*:53"]},
 *    "files": {"write": ["/tmp/", "/var/log/app/"]}}
 * An absent section (or an absent list) restricts nothing. The capture code
 * (trace.c) asks the sn_policy_* questions at each stop; the answer is only
 * acted on in enforce mode, and reported as a violation in every mode.
 *
 * The profile is what learn mode accumulates from the same stops; it is
 * emitted as a "sensor profile" event whose output_fields carry a "profile"
 * object of the same shape as a policy, so `inlay policy build` can merge
 * profiles into a policy.
 */
#ifndef SN_POLICY_H
#define SN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "event.h"
#include "json.h"
#include "sn_err.h"

enum sn_drift { SN_DRIFT_DEFAULT = 0, SN_DRIFT_ALERT, SN_DRIFT_BLOCK };

struct sn_policy;

/* Build a policy from the parsed "policy" object (NULL: a policy that allows
 * everything). The node is only read during the call. ERR on a malformed
 * rule, naming it. */
int sn_policy_new(const struct sn_json *node, struct sn_policy **ret, struct sn_err *e);
void sn_policy_free(struct sn_policy *p);

/* A program as invoked: exe is the absolute path of the executed file (the
 * execve path made absolute, or the resolved binary for /proc/self/exe and
 * symlinks), applet is argv[0]'s base name when the binary is a multi-call
 * binary run under another name (NULL otherwise). "/bin/busybox[cat]" allows
 * exe /bin/busybox with applet "cat" only; "/bin/busybox" allows it under
 * any name; '*' and '?' glob within one path component. No exec section:
 * everything is allowed. */
bool sn_policy_exec_allowed(const struct sn_policy *p, const char *exe, const char *applet);

/* proto is "tcp" or "udp". No net.listen list: allowed. */
bool sn_policy_listen_allowed(const struct sn_policy *p, const char *proto, unsigned port);

/* An outbound destination (AF_INET or AF_INET6; AF_UNIX is always allowed).
 * No net.connect list: allowed. */
bool sn_policy_connect_allowed(const struct sn_policy *p, const struct sockaddr *sa,
			       socklen_t len);

/* An absolute path opened for writing. No files.write list: allowed. */
bool sn_policy_write_allowed(const struct sn_policy *p, const char *path);

/* The exec.drift setting (SN_DRIFT_DEFAULT when absent: block in enforce
 * mode, alert otherwise - the caller decides). */
enum sn_drift sn_policy_drift(const struct sn_policy *p);

struct sn_profile;

struct sn_profile *sn_profile_new(void);
void sn_profile_free(struct sn_profile *pr);

/* Record what ran, listened, connected and wrote. Bounded: past a fixed
 * number of entries per kind the profile stops growing and counts what it
 * dropped. */
void sn_profile_exec(struct sn_profile *pr, const char *exe, const char *applet);
void sn_profile_listen(struct sn_profile *pr, const char *proto, unsigned port);
void sn_profile_connect(struct sn_profile *pr, const struct sockaddr *sa, socklen_t len);
void sn_profile_write(struct sn_profile *pr, const char *path);

/* Emit the profile as one "sensor profile" event (written paths generalised
 * to their directories, e.g. /tmp/x1 and /tmp/x2 -> "/tmp/"). */
int sn_profile_emit(const struct sn_profile *pr, const struct sn_output *out, struct sn_err *e);

#endif
