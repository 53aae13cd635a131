/* floor.c - the least a ptrace + seccomp tracer can cost, for comparison
 * with the sensor (docs/BENCHMARKS.md): runs ARGV under a tracer that does
 * nothing but what capture cannot do without - a seccomp filter stopping
 * execve for the tracer, fork/vfork/clone/exec events, signal re-injection -
 * and reads no register, no memory, no /proc file, writes no event.
 *
 *   cc -O2 -o build/floor bench/floor.c
 *   build/floor busybox sh -c 'i=0; while [ $i -lt 1000 ]; do /bin/busybox true; i=$((i+1)); done'
 *
 * Prints the wall time and the number of stops on stderr; exits with the
 * command's status. x86_64 and aarch64 (no foreign-architecture check: the
 * tool is not a sandbox). */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void child(char **argv)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};

	/* Stopped until the parent has seized it: a RET_TRACE filter must
	 * never run without its tracer. */
	raise(SIGSTOP);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
		perror("floor: seccomp");
		_exit(125);
	}
	execvp(argv[0], argv);
	perror("floor: exec");
	_exit(127);
}

int main(int argc, char **argv)
{
	double start = now();
	long stops = 0;
	int status = 0;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: floor COMMAND [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0)
		return 125;
	if (pid == 0)
		child(argv + 1);
	waitpid(pid, NULL, WUNTRACED);
	if (ptrace(PTRACE_SEIZE, pid, NULL,
		   (void *)(PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK |
			    PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC)) < 0) {
		perror("floor: ptrace");
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
	fprintf(stderr, "floor: %.3f s, %ld stops\n", now() - start, stops);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
