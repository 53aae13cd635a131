/* floor.c - the least a tracer bound by issue 4's filter contract can cost,
 * for comparison with the sensor (docs/BENCHMARKS.md, bench/sensor.sh).
 *
 * It has the sensor's hybrid shape and nothing else: a seccomp filter hands
 * execve/execveat and the opens with a write, create, truncate or append flag
 * to a user-notification listener; fork/vfork/clone/exec events stop for a
 * ptrace tracer, which re-injects signals. It reads no register, no memory,
 * no /proc file and writes no event: every notification is answered
 * "continue" at once, by a thread blocked in SECCOMP_IOCTL_NOTIF_RECV (the
 * cheapest answer there is), with Linux 6.6's synchronous wake-up where the
 * kernel has it.
 *
 *   cc -O2 -pthread -o build/floor bench/floor.c
 *   build/floor busybox sh -c 'i=0; while [ $i -lt 1000 ]; do /bin/busybox true; i=$((i+1)); done'
 *
 * Prints the wall time, the ptrace stops and the notifications on stderr;
 * exits with the command's status. x86_64 and aarch64, Linux 5.6 or later
 * (pidfd_getfd). No foreign-architecture check: it is not a sandbox. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)

static long notifications;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Jump to the notify return when the flags argument ARG has a write flag. */
#define OPEN_WITH_FLAGS(call, arg)                                                                 \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),                     \
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (call), 0, 3),                                     \
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[arg])),          \
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, WRITE_FLAGS, 0, 1),                               \
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF)

static void child(int report, char **argv)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 1, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	    OPEN_WITH_FLAGS(SYS_openat, 2),
#ifdef SYS_open
	    OPEN_WITH_FLAGS(SYS_open, 1),
#endif
	    /* openat2's flags are in memory, out of the filter's sight:
	     * every call stops. */
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
#ifdef SYS_creat
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_creat, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
#endif
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
	int listener;

	/* Stopped until the parent has seized it. */
	raise(SIGSTOP);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    (listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				     SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog)) < 0) {
		perror("floor: seccomp");
		_exit(125);
	}
	/* The parent takes the listener with pidfd_getfd once it knows its
	 * number; then the application must not keep a copy. */
	if (write(report, &listener, sizeof(listener)) != (ssize_t)sizeof(listener) ||
	    read(report, &(char){0}, 1) != 1)
		_exit(125);
	close(listener);
	close(report);
	execvp(argv[0], argv);
	perror("floor: exec");
	_exit(127);
}

/* The listener, copied out of the child once it reports its number; -1 on
 * failure. The child waits for the answer before it execs. */
static int take_listener(pid_t pid, int report)
{
	int remote = -1, pidfd, fd;
	__u64 flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;

	if (read(report, &remote, sizeof(remote)) != (ssize_t)sizeof(remote))
		return -1;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	fd = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, remote, 0);
	if (pidfd >= 0)
		close(pidfd);
	if (fd >= 0)
		ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags); /* before 6.6: refused */
	if (write(report, "", 1) != 1 && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

struct answerer {
	pid_t pid;
	int report;
};

/* The listener's thread: takes the listener, then answers every
 * notification "continue" until no process uses the filter any more. */
static void *answer(void *arg)
{
	const struct answerer *a = arg;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	int fd = take_listener(a->pid, a->report);

	if (fd < 0) {
		perror("floor: listener");
		kill(a->pid, SIGKILL);
		return NULL;
	}
	for (;;) {
		memset(&req, 0, sizeof(req));
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR)
				continue;
			return NULL; /* ENOENT */
		}
		__atomic_add_fetch(&notifications, 1, __ATOMIC_RELAXED);
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* ENOENT: the caller died */
	}
}

int main(int argc, char **argv)
{
	double start = now();
	long stops = 0;
	int status = 0, sv[2];
	struct answerer a;
	pthread_t thread;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: floor COMMAND [ARG...]\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 125;
	pid = fork();
	if (pid < 0)
		return 125;
	if (pid == 0) {
		close(sv[0]);
		child(sv[1], argv + 1);
	}
	close(sv[1]);
	waitpid(pid, NULL, WUNTRACED);
	if (ptrace(PTRACE_SEIZE, pid, NULL,
		   (void *)(PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
			    PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC)) < 0) {
		perror("floor: ptrace");
		kill(pid, SIGKILL);
		return 125;
	}
	a.pid = pid;
	a.report = sv[0];
	if (pthread_create(&thread, NULL, answer, &a) != 0) {
		kill(pid, SIGKILL);
		return 125;
	}
	kill(pid, SIGCONT);
	for (;;) {
		pid_t w = waitpid(-1, &status, __WALL);
		int sig;

		if (w < 0)
			break;
		if (w == pid && (WIFEXITED(status) || WIFSIGNALED(status)))
			break;
		if (!WIFSTOPPED(status))
			continue;
		stops++;
		sig = WSTOPSIG(status);
		/* Events (and a new child's first stop, PTRACE_EVENT_STOP)
		 * resume plainly; a signal-delivery stop delivers its signal. */
		if (status >> 16)
			sig = 0;
		ptrace(PTRACE_CONT, w, NULL, (void *)(long)sig);
	}
	fprintf(stderr, "floor: %.3f s, %ld stops, %ld notifications\n", now() - start, stops,
		__atomic_load_n(&notifications, __ATOMIC_RELAXED));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
