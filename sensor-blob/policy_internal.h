/* policy_internal.h - what policy.c (the rules) shares with profile.c (the
 * learn-mode profile), so that a learned rule is read back exactly as it was
 * observed. Not for the capture code: it uses policy.h. */
#ifndef INLAY_SENSOR_POLICY_INTERNAL_H
#define INLAY_SENSOR_POLICY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SN_POLICY_MAX_RULES 4096    /* per list, as rewriter/policy.h */
#define SN_POLICY_MAX_RULE_LEN 4096 /* bytes of one rule, as rewriter/policy.h */
#define SN_PATH_BUF 4097	    /* stack buffer for sn_path_normalize */

/* The absolute path `in` without empty and "." components ("//", "/./", a
 * trailing "/."), which never change what a path names, symlinks or not; a
 * trailing '/' is kept as one. ".." is kept (only the kernel knows where it
 * leads) and reported in *dotdot. Written into `stack` (SN_PATH_BUF bytes)
 * or, for a longer path, into a heap copy returned in *heap, which the
 * caller frees (NULL when unused). Returns the normalised path, or NULL when
 * `in` is NULL, not absolute, or memory ran out. */
const char *sn_path_normalize(const char *in, char *stack, char **heap, int *dotdot);

/* The name an exec rule's [applet] is matched against, from argv[0] (may be
 * NULL) and the executed binary's base name: argv[0]'s base name when it
 * differs from the binary's; NULL when it is the binary's own name or empty
 * (matching then uses exe_base, so "/bin/busybox[busybox]" means "run as
 * busybox"). Points into `applet`. */
const char *sn_invoked_name(const char *applet, const char *exe_base);

/* The destination of `sa` as a 128-bit address (IPv4 as ::ffff:a.b.c.d) and
 * a port. Returns 1 for AF_INET and AF_INET6, 0 for any other family (not
 * network egress), -1 when sa is NULL or too short to say (the kernel
 * refuses such a call anyway). */
int sn_sockaddr_destination(const struct sockaddr *sa, socklen_t len, uint8_t addr[16],
			    unsigned *ret_port);

#endif
