/* seccomp.h - the sensor's seccomp filter and the user-notification fallback.
 *
 * The filter decides, in the kernel, which system calls the sensor sees at
 * all, so that ordinary work never leaves the kernel: reads, writes,
 * read-only opens and everything else return SECCOMP_RET_ALLOW (and the
 * kernel's per-filter action cache makes them free: the result does not
 * depend on the arguments). The calls that matter stop, with the action
 * chosen at build time:
 *   - SECCOMP_RET_TRACE for the ptrace tracer (trace.h), or
 *   - SECCOMP_RET_USER_NOTIF when ptrace is unavailable: the sensor receives
 *     each call on a listener descriptor and lets it continue or fails it;
 *   - both (the hybrid filter, with ptrace): file opens and executions, the
 *     frequent stops, go to the listener, whose round trip costs about half
 *     a ptrace stop's; everything else stops for the tracer, which still
 *     sees each exec happen (PTRACE_EVENT_EXEC).
 *
 * What stops (arguments tested in the filter where the kernel passes them):
 *   execve, execveat, connect, bind, listen, sendmsg, creat, openat2,
 *   memfd_create, ptrace, io_uring_setup, mount, umount2, unshare, setns:
 *     always;
 *   open (args[1]), openat (args[2]): flags & (O_WRONLY|O_RDWR|O_CREAT|
 *     O_TRUNC|O_APPEND);
 *   chmod, fchmod (args[1]), fchmodat, fchmodat2 (args[2]): mode & 0111;
 *   sendto: a destination address (args[4] != NULL).
 * Trace and hybrid modes only, so that no descendant escapes the tracer:
 *   clone with CLONE_UNTRACED stops (the tracer clears the flag);
 *   clone3 fails with ENOSYS (its flags are in memory, out of the filter's
 *     reach; libcs then fall back to clone, as under Docker's default
 *     profile).
 * Denied outright: system calls of another architecture (i386 int 0x80 on
 * x86_64, AArch32 on aarch64) and x32 calls, which would otherwise bypass the
 * filter's numbering: they fail with EPERM.
 *
 * The kernel's seccomp ABI is declared here rather than taken from
 * <linux/seccomp.h>: musl-gcc builds the sensor without kernel headers.
 */
#ifndef INLAY_SENSOR_SECCOMP_H
#define INLAY_SENSOR_SECCOMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sn_err.h"

/* --- kernel ABI (linux/filter.h, linux/seccomp.h) ------------------------ */

struct sn_sock_filter {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};

struct sn_sock_fprog {
	unsigned short len;
	struct sn_sock_filter *filter;
};

struct sn_seccomp_data {
	int32_t nr;
	uint32_t arch;
	uint64_t instruction_pointer;
	uint64_t args[6];
};

struct sn_seccomp_notif {
	uint64_t id;
	uint32_t pid;
	uint32_t flags;
	struct sn_seccomp_data data;
};

struct sn_seccomp_notif_resp {
	uint64_t id;
	int64_t val;
	int32_t error;
	uint32_t flags;
};

#define SN_SECCOMP_RET_ERRNO 0x00050000U
#define SN_SECCOMP_RET_USER_NOTIF 0x7fc00000U
#define SN_SECCOMP_RET_TRACE 0x7ff00000U
#define SN_SECCOMP_RET_ALLOW 0x7fff0000U

/* --- the filter ------------------------------------------------------------ */

enum sn_filter_mode {
	SN_FILTER_TRACE,  /* stops are SECCOMP_RET_TRACE */
	SN_FILTER_NOTIFY, /* stops are SECCOMP_RET_USER_NOTIF */
	SN_FILTER_HYBRID, /* TRACE, but file opens and execs are USER_NOTIF */
};

#define SN_FILTER_MAX 160 /* instructions; the filter needs about 80 */

/* Write the filter for `mode` into prog (room for max instructions) and
 * return its length, or -1 when it does not fit. Pure: no allocation, no
 * system call, so it may run between fork and exec. */
int sn_filter_build(enum sn_filter_mode mode, struct sn_sock_filter *prog, size_t max);

/* Install the filter on the calling thread (and so on everything it will
 * start). The caller has set PR_SET_NO_NEW_PRIVS or holds CAP_SYS_ADMIN.
 * SN_FILTER_NOTIFY and SN_FILTER_HYBRID also create the listener and
 * return it in *ret_fd (close-on-exec). Async-signal-safe. 0, or -errno. */
int sn_filter_install(enum sn_filter_mode mode, int *ret_fd);

/* Whether the calling thread's effective capabilities include
 * CAP_SYS_ADMIN (which lets it install a filter without no_new_privs).
 * Async-signal-safe. */
int sn_have_cap_sys_admin(void);

/* The effective capability set of the calling process (for "sensor
 * started"); 0 when it cannot be read. */
uint64_t sn_effective_caps(void);

/* --- user notification ------------------------------------------------------ */

/* A listener and buffers of the sizes the running kernel uses (they may be
 * larger than the structures above). */
struct sn_notify {
	int fd;
	void *req;  /* struct sn_seccomp_notif, then kernel extensions */
	void *resp; /* struct sn_seccomp_notif_resp, then extensions */
	size_t req_size, resp_size;
};

/* Take over listener `fd` (closed by sn_notify_close, also on failure). */
int sn_notify_open(struct sn_notify *n, int fd, struct sn_err *e);

/* Receive one notification into *ret. 0; -ENOENT when the caller went away
 * before it could be received (nothing to answer); other -errno. */
int sn_notify_recv(struct sn_notify *n, struct sn_seccomp_notif *ret);

/* Answer `id`: err 0 lets the call run as made (SECCOMP_USER_NOTIF_FLAG_
 * CONTINUE, kernel 5.5), otherwise it fails in the caller with errno err
 * (e.g. EACCES). 0, or -errno (ENOENT: the caller is gone). */
int sn_notify_reply(struct sn_notify *n, uint64_t id, int err);

/* Close the listener and free the buffers. Accepts NULL. */
void sn_notify_close(struct sn_notify *n);

#endif
