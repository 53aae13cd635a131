/* decode.h - what a stopped system call means: the caller's memory, its
 * paths, its socket addresses, and the state of the process making it.
 *
 * Everything read here comes from the application and is treated as
 * hostile: every read is bounded by the caller's buffer, strings that do not
 * end within it are reported as cut, addresses are length-checked before use.
 *
 * Memory is read with process_vm_readv (one system call for a whole buffer);
 * where that is refused (a seccomp profile, an old kernel) a tracer falls
 * back to PTRACE_PEEKDATA and anyone else to /proc/PID/mem.
 *
 * Paths are resolved in the caller's context, not the sensor's: a relative
 * path against its cwd (/proc/PID/cwd) or its dirfd (/proc/PID/fd/N), and
 * /proc/self, /proc/thread-self against its pid. Two forms come out: the
 * display path (absolute, normalized lexically: what the application named)
 * and an access path the sensor itself can open or stat to reach the same
 * file (through /proc/PID/cwd, /proc/PID/fd/N).
 */
#ifndef INLAY_SENSOR_DECODE_H
#define INLAY_SENSOR_DECODE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>

/* System calls newer than the libc headers the sensor may be built with.
 * Numbers from 424 on are the same on every architecture. */
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* A system call stopped in the caller: from ptrace registers or a seccomp
 * notification. */
struct sn_syscall {
	pid_t pid; /* thread id of the caller, in the sensor's pid namespace */
	long nr;
	uint64_t args[6];
	int traced;   /* 1 when the caller is in a ptrace stop (PEEKDATA works) */
	int followed; /* 1 when the caller is a tracee: its exec event will follow */
};

/* --- memory ---------------------------------------------------------------- */

/* Read exactly len bytes at addr in pid. 0, or -errno (EFAULT for a bad
 * address). */
int sn_mem_read(pid_t pid, int traced, uint64_t addr, void *buf, size_t len);

/* Read the NUL-terminated string at addr into buf (size > 0). Returns its
 * length; when it does not end within size - 1 bytes, buf holds the first
 * size - 1 and the return is -ENAMETOOLONG. Other failures -errno, with buf
 * "". Never reads past the end of the page holding the terminator. */
long sn_mem_string(pid_t pid, int traced, uint64_t addr, char *buf, size_t size);

/* --- paths ------------------------------------------------------------------- */

#define SN_AT_FDCWD (-100)

/* Normalize absolute path `in` lexically: no "//", "/./" or "/../" left (".."
 * at the root stays at the root), no trailing '/' except for "/" itself.
 * 0, or -ENAMETOOLONG / -EINVAL (not absolute). out may not overlap in. */
int sn_path_clean(const char *in, char *out, size_t size);

/* `rel` taken relative to directory `base` (absolute), normalized; an
 * absolute rel ignores base. 0 or -errno. */
int sn_path_join(const char *base, const char *rel, char *out, size_t size);

/* Rewrite /proc/self and /proc/thread-self at the start of absolute path
 * `path` to /proc/PID, as the caller (pid) means them. 0 or -ENAMETOOLONG. */
int sn_path_proc_self(pid_t pid, const char *path, char *out, size_t size);

/* Resolve `path` as the caller pid means it, relative to dirfd (SN_AT_FDCWD
 * for its cwd). display: absolute and normalized; access: reaches the same
 * file from the sensor. Either may be NULL. 0 or -errno (the cwd or dirfd
 * could not be read: the process is gone or dirfd is not open). */
int sn_path_at(pid_t pid, int dirfd, const char *path, char *display, size_t dsize, char *access,
	       size_t asize);

/* Base name of a path: what follows its last '/', or the whole path when
 * nothing does ("" stays "", "a/b/" stays "a/b/"). */
const char *sn_basename(const char *path);

/* The file a write to `access` really reaches, symlinks resolved, into out:
 * the file's real path; for a file that does not exist yet, its directory's
 * real path plus its name; a dangling symlink is followed (as open(O_CREAT)
 * follows it to create its target), 40 links at most. `display` when
 * nothing resolves. */
void sn_path_write_target(const char *access, const char *display, char *out, size_t n);

/* Whether file `script` starts with "#!" naming an interpreter that is the
 * file st describes (the kernel runs the interpreter for a script, so that
 * is what /proc/PID/exe shows after the exec). */
struct stat;
int sn_script_runs_as(const char *script, const struct stat *st);

/* --- sockets and flags ------------------------------------------------------- */

#define SN_ADDR_MAX 128 /* longest socket address the sensor reads */

/* Format a socket address: "1.2.3.4:80", "[2001:db8::1]:443", "/run/x.sock",
 * "@abstract", "unix:unnamed", or "family N". len is what the caller passed
 * (checked against each family's size). Returns the length written. */
size_t sn_sockaddr_format(const struct sockaddr *sa, socklen_t len, char *out, size_t size);

/* The port of an AF_INET/AF_INET6 address, -1 for other families or a short
 * address. */
int sn_sockaddr_port(const struct sockaddr *sa, socklen_t len);

/* "O_WRONLY|O_CREAT|O_TRUNC" style text for open flags. */
void sn_open_flags_format(uint64_t flags, char *out, size_t size);

/* A copy of descriptor fd of process pid (a thread's id will do), close-on-
 * exec (pidfd_getfd, Linux 5.6: the same permission as ptrace). The new
 * descriptor, or -errno. */
int sn_fd_copy(pid_t pid, int fd);

/* A socket of the caller, seen from the sensor: type (SOCK_STREAM ...),
 * family and its bound local address. Obtained by copying the descriptor
 * (pidfd_getfd, Linux 5.6); fails where that is refused. */
struct sn_sockinfo {
	int type;
	int family;
	struct sockaddr_storage local;
	socklen_t local_len;
};

/* Fill *ret for descriptor fd of pid. When ret_dup is not NULL the copied
 * descriptor is handed over (close-on-exec) instead of closed, to read the
 * local address again later. 0 or -errno. */
int sn_sock_info(pid_t pid, int fd, struct sn_sockinfo *ret, int *ret_dup);

/* Re-read the local address of a descriptor from sn_sock_info. */
int sn_sock_local(int dupfd, struct sn_sockinfo *info);

/* Fallback when descriptors cannot be copied: the local TCP port of
 * socket fd of pid, from /proc/PID/net/tcp{,6} matched by inode. The port,
 * or -errno. */
int sn_proc_net_port(pid_t pid, int fd);

/* The name of a system call the filter stops ("openat", ...), "syscall"
 * for others. */
const char *sn_syscall_name(long nr);

/* --- processes ----------------------------------------------------------------- */

struct sn_procinfo {
	pid_t tgid; /* the process (Falco's proc.pid) */
	pid_t ppid;
	uid_t uid; /* real uid (Falco's user.uid) */
};

/* From /proc/PID/status. 0 or -errno. */
int sn_proc_status(pid_t pid, struct sn_procinfo *ret);

/* The target of /proc/PID/<what> ("cwd", "exe", "fd/3", ...). Returns its
 * length, or -errno; out is "" on failure. */
long sn_proc_link(pid_t pid, const char *what, char *out, size_t size);

/* /proc/PID/cmdline as Falco's proc.cmdline: the base name of argv[0], then
 * the arguments separated by spaces (cut to fit). argv0 (may be NULL) gets
 * argv[0] itself. 0 or -errno. */
int sn_proc_cmdline(pid_t pid, char *out, size_t size, char *argv0, size_t a0size);

/* The same from an argv array in the caller's memory (at an execve that has
 * not happened yet). At most 256 arguments are read. */
int sn_mem_cmdline(pid_t pid, int traced, uint64_t argv, char *out, size_t size, char *argv0,
		   size_t a0size);

#endif
