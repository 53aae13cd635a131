/* test_sn_seccomp.c - the capture engine's seccomp filter (sensor-blob/
 * seccomp.h): what stops and what does not, decided by running the built
 * program through a classic-BPF interpreter over every syscall number, and
 * checked once against the real kernel in a child process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../sensor-blob/arch.h"
#include "../../sensor-blob/decode.h"
#include "../../sensor-blob/seccomp.h"

#define ERRNO(e) (SN_SECCOMP_RET_ERRNO | (e))

/* The subset of classic BPF the filter uses; anything else fails the test. */
static uint32_t run(const struct sn_sock_filter *prog, int len, const struct sn_seccomp_data *d)
{
	uint32_t a = 0;
	int pc = 0;

	while (pc >= 0 && pc < len) {
		const struct sn_sock_filter *f = &prog[pc];

		switch (f->code) {
		case 0x20: /* BPF_LD | BPF_W | BPF_ABS */
			assert_true(f->k % 4 == 0 && f->k + 4 <= sizeof(*d));
			memcpy(&a, (const char *)d + f->k, 4);
			pc++;
			break;
		case 0x05: /* BPF_JMP | BPF_JA */
			pc += 1 + (int)f->k;
			break;
		case 0x15: /* JEQ K */
			pc += 1 + (a == f->k ? f->jt : f->jf);
			break;
		case 0x35: /* JGE K */
			pc += 1 + (a >= f->k ? f->jt : f->jf);
			break;
		case 0x45: /* JSET K */
			pc += 1 + ((a & f->k) ? f->jt : f->jf);
			break;
		case 0x06: /* BPF_RET | BPF_K */
			return f->k;
		default:
			fail_msg("unexpected BPF opcode %#x at %d", f->code, pc);
		}
	}
	fail_msg("ran off the program at %d", pc);
	return 0;
}

/* Indexed by enum sn_filter_mode: TRACE, NOTIFY, HYBRID. */
#define MODES 3
static struct sn_sock_filter progs[MODES][SN_FILTER_MAX];
static int lens[MODES];
#define trace_prog progs[SN_FILTER_TRACE]
#define trace_len lens[SN_FILTER_TRACE]
#define notify_prog progs[SN_FILTER_NOTIFY]
#define notify_len lens[SN_FILTER_NOTIFY]

static int setup(void **state)
{
	int m;

	(void)state;
	for (m = 0; m < MODES; m++) {
		lens[m] = sn_filter_build((enum sn_filter_mode)m, progs[m], SN_FILTER_MAX);
		if (lens[m] <= 0)
			return -1;
	}
	return 0;
}

/* The verdict of the filter of mode m. */
static uint32_t verdict(int m, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a4)
{
	struct sn_seccomp_data d;

	memset(&d, 0, sizeof(d));
	d.nr = (int32_t)nr;
	d.arch = SN_AUDIT_ARCH;
	d.args[0] = a0;
	d.args[1] = a1;
	d.args[2] = a2;
	d.args[4] = a4;
	return run(progs[m], lens[m], &d);
}

/* What a watched call returns: file opens and execs go to the listener in
 * the hybrid filter, everything else to the tracer. */
#define STOP(m) ((m) == SN_FILTER_NOTIFY ? SN_SECCOMP_RET_USER_NOTIF : SN_SECCOMP_RET_TRACE)
#define LISTENER_STOP(m) ((m) == SN_FILTER_TRACE ? SN_SECCOMP_RET_TRACE : SN_SECCOMP_RET_USER_NOTIF)
#define ALLOW SN_SECCOMP_RET_ALLOW

static void test_build(void **state)
{
	struct sn_sock_filter tiny[8];

	(void)state;
	assert_true(trace_len > 20 && trace_len <= SN_FILTER_MAX);
	/* Too little room is an error, never a cut program. */
	assert_int_equal(sn_filter_build(SN_FILTER_TRACE, tiny, 8), -1);
}

static void test_always_stop(void **state)
{
	static const long always[] = {
	    SYS_connect,	SYS_bind,  SYS_listen,	SYS_sendmsg, SYS_ptrace, SYS_memfd_create,
	    SYS_io_uring_setup, SYS_mount, SYS_umount2, SYS_unshare, SYS_setns,
	};
	/* The hybrid filter's listener takes these. */
	static const long always_listener[] = {
	    SYS_execve,
	    SYS_execveat,
	    SYS_openat2,
#ifdef SYS_creat
	    SYS_creat,
#endif
	};
	size_t i;
	int n;

	(void)state;
	for (n = 0; n < MODES; n++) {
		for (i = 0; i < sizeof(always) / sizeof(always[0]); i++)
			assert_int_equal(verdict(n, always[i], 0, 0, 0, 0), STOP(n));
		for (i = 0; i < sizeof(always_listener) / sizeof(always_listener[0]); i++)
			assert_int_equal(verdict(n, always_listener[i], 0, 0, 0, 0),
					 LISTENER_STOP(n));
	}
}

static void test_open_flags(void **state)
{
	static const uint64_t writes[] = {O_WRONLY, O_RDWR,   O_CREAT,
					  O_TRUNC,  O_APPEND, O_RDWR | O_TMPFILE};
	size_t i;
	int n;

	(void)state;
	for (n = 0; n < MODES; n++) {
		assert_int_equal(verdict(n, SYS_openat, 0, 0, O_RDONLY, 0), ALLOW);
		assert_int_equal(
		    verdict(n, SYS_openat, 0, 0, O_RDONLY | O_CLOEXEC | O_DIRECTORY, 0), ALLOW);
		/* Only the low word counts: open flags are an int. */
		assert_int_equal(verdict(n, SYS_openat, 0, 0, 0xffffffff00000000ULL, 0), ALLOW);
		for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
			assert_int_equal(verdict(n, SYS_openat, 0, 0, writes[i] | O_CLOEXEC, 0),
					 LISTENER_STOP(n));
		/* openat's flags are args[2], not args[1]. */
		assert_int_equal(verdict(n, SYS_openat, 0, O_WRONLY, O_RDONLY, 0), ALLOW);
#ifdef SYS_open
		assert_int_equal(verdict(n, SYS_open, 0, O_RDONLY, O_WRONLY, 0), ALLOW);
		assert_int_equal(verdict(n, SYS_open, 0, O_WRONLY | O_CREAT, 0, 0),
				 LISTENER_STOP(n));
#endif
	}
}

static void test_chmod_and_sendto(void **state)
{
	int n;

	(void)state;
	for (n = 0; n < MODES; n++) {
		assert_int_equal(verdict(n, SYS_fchmodat, 0, 0, 0644, 0), ALLOW);
		assert_int_equal(verdict(n, SYS_fchmodat, 0, 0, 0755, 0), STOP(n));
		assert_int_equal(verdict(n, SYS_fchmodat, 0, 0, 0001, 0), STOP(n));
		assert_int_equal(verdict(n, SYS_fchmodat2, 0, 0, 0700, 0), STOP(n));
		assert_int_equal(verdict(n, SYS_fchmod, 0, 0600, 0, 0), ALLOW);
		assert_int_equal(verdict(n, SYS_fchmod, 0, 0610, 0, 0), STOP(n));
#ifdef SYS_chmod
		assert_int_equal(verdict(n, SYS_chmod, 0, 0640, 0, 0), ALLOW);
		assert_int_equal(verdict(n, SYS_chmod, 0, 04755, 0, 0), STOP(n));
#endif
		/* sendto stops only with a destination, whichever word holds it. */
		assert_int_equal(verdict(n, SYS_sendto, 3, 0, 0, 0), ALLOW);
		assert_int_equal(verdict(n, SYS_sendto, 3, 0, 0, 0x7ffc1000), STOP(n));
		assert_int_equal(verdict(n, SYS_sendto, 3, 0, 0, 0x100000000ULL), STOP(n));
	}
}

static void test_clone(void **state)
{
	(void)state;
	/* Trace and hybrid modes: CLONE_UNTRACED would escape the tracer;
	 * clone3 hides its flags from the filter. */
	for (int m = SN_FILTER_TRACE; m <= SN_FILTER_HYBRID; m += SN_FILTER_HYBRID) {
		assert_int_equal(verdict(m, SYS_clone, 0x01200011, 0, 0, 0), ALLOW);
		assert_int_equal(verdict(m, SYS_clone, 0x01200011 | 0x00800000, 0, 0, 0),
				 SN_SECCOMP_RET_TRACE);
		assert_int_equal(verdict(m, SYS_clone3, 0, 0, 0, 0), ERRNO(ENOSYS));
		/* The message headers are in memory: every sendmmsg stops. */
		assert_int_equal(verdict(m, SYS_sendmmsg, 3, 0, 1, 0), SN_SECCOMP_RET_TRACE);
	}
	/* Notification mode follows no process: both run. */
	assert_int_equal(verdict(1, SYS_clone, 0x00800000, 0, 0, 0), ALLOW);
	assert_int_equal(verdict(1, SYS_clone3, 0, 0, 0, 0), ALLOW);
	/* ... and the sensor's own hand-over of the listener uses sendmmsg. */
	assert_int_equal(verdict(1, SYS_sendmmsg, 3, 0, 1, 0), ALLOW);
}

/* Every number not in the list is allowed, whatever its arguments: reads,
 * writes and the rest never leave the kernel. */
static void test_everything_else_allowed(void **state)
{
	static const long watched[] = {
	    SYS_execve,	  SYS_execveat,	 SYS_connect,	   SYS_bind,	SYS_listen,
	    SYS_sendto,	  SYS_sendmsg,	 SYS_openat,	   SYS_openat2, SYS_fchmod,
	    SYS_fchmodat, SYS_fchmodat2, SYS_memfd_create, SYS_ptrace,	SYS_io_uring_setup,
	    SYS_mount,	  SYS_umount2,	 SYS_unshare,	   SYS_setns,	SYS_clone,
	    SYS_clone3,	  SYS_sendmmsg,
#ifdef SYS_open
	    SYS_open,
#endif
#ifdef SYS_creat
	    SYS_creat,
#endif
#ifdef SYS_chmod
	    SYS_chmod,
#endif
	};
	long nr;
	size_t i;
	int n, stopped = 0;

	(void)state;
	for (n = 0; n < MODES; n++) {
		for (nr = 0; nr < 600; nr++) {
			int is_watched = 0;

			for (i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
				is_watched |= watched[i] == nr;
			if (is_watched) {
				stopped++;
				continue;
			}
			if (verdict(n, nr, ~0ULL, ~0ULL, ~0ULL, ~0ULL) != ALLOW)
				fail_msg("syscall %ld is not allowed (mode %d)", nr, n);
		}
	}
	assert_int_equal(stopped, MODES * (int)(sizeof(watched) / sizeof(watched[0])));
	assert_int_equal(verdict(0, SYS_read, 0, 0, 0, 0), ALLOW);
	assert_int_equal(verdict(0, SYS_write, 0, 0, 0, 0), ALLOW);
}

static void test_foreign_arch(void **state)
{
	struct sn_seccomp_data d;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.nr = SYS_read;
	d.arch = 0x40000003U; /* AUDIT_ARCH_I386 */
	assert_int_equal(run(trace_prog, trace_len, &d), ERRNO(EPERM));
	d.arch = 0x40000028U; /* AUDIT_ARCH_ARM */
	assert_int_equal(run(notify_prog, notify_len, &d), ERRNO(EPERM));
#if defined(__x86_64__)
	/* x32: bit 30 on a native-arch call. */
	d.arch = SN_AUDIT_ARCH;
	d.nr = 0x40000000 | SYS_read;
	assert_int_equal(run(trace_prog, trace_len, &d), ERRNO(EPERM));
	d.nr = 0x40000000 | SYS_execve;
	assert_int_equal(run(notify_prog, notify_len, &d), ERRNO(EPERM));
#endif
}

/* The kernel accepts the program and applies it: in a child, with no
 * tracer, a watched call under RET_TRACE fails with ENOSYS while the rest
 * works. */
static void test_kernel(void **state)
{
	int status, fd = -1;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int r, ok;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(10);
		r = sn_filter_install(SN_FILTER_TRACE, NULL);
		if (r < 0)
			_exit(r == -EINVAL ? 11 : 12);
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ok = fd >= 0 && read(fd, &r, 1) == 0;
		errno = 0;
		if (open("/dev/null", O_WRONLY | O_CLOEXEC) >= 0 || errno != ENOSYS)
			ok = 0;
		_exit(ok ? 0 : 13);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(10);
		if (sn_filter_install(SN_FILTER_NOTIFY, &fd) < 0 || fd < 0)
			_exit(11);
		_exit(fcntl(fd, F_GETFD) & FD_CLOEXEC ? 0 : 12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The hybrid filter in a real kernel: a file open waits for the listener
 * (which this process answers: the open then runs), while a traced call
 * with no tracer fails with ENOSYS. */
static void test_kernel_hybrid(void **state)
{
	struct sn_seccomp_notif n;
	struct sn_notify listener;
	struct sn_err e;
	int status, sv[2], fd = -1;
	char path[] = "/tmp/test_sn_seccomp.XXXXXX";
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(path));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char file[64];
		int ok = 1;

		close(sv[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    sn_filter_install(SN_FILTER_HYBRID, &fd) < 0 || fd < 0)
			_exit(10);
		/* Its number, for the parent's pidfd_getfd. */
		if (write(sv[1], &fd, sizeof(fd)) != sizeof(fd))
			_exit(11);
		snprintf(file, sizeof(file), "%s/created", path);
		if (open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0)
			ok = 0;
		errno = 0;
		if (socket(AF_INET, SOCK_STREAM, 0) < 0)
			ok = 0; /* socket is not watched */
		if (listen(0, 1) == 0 || errno != ENOSYS)
			ok = 0; /* listen is traced: no tracer, ENOSYS */
		_exit(ok ? 0 : 12);
	}
	close(sv[1]);
	assert_int_equal(read(sv[0], &fd, sizeof(fd)), sizeof(fd));
	{
		int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

		assert_true(pidfd >= 0);
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		close(pidfd);
	}
	assert_true(fd >= 0);
	assert_int_equal(sn_notify_open(&listener, fd, &e), 0);
	assert_int_equal(sn_notify_recv(&listener, &n), 0);
	assert_int_equal(n.data.nr, SYS_openat);
	assert_int_equal(n.pid, pid);
	assert_int_equal(sn_notify_reply(&listener, n.id, 0), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	sn_notify_close(&listener);
	close(sv[0]);
	{
		char file[64];

		snprintf(file, sizeof(file), "%s/created", path);
		assert_int_equal(unlink(file), 0);
	}
	rmdir(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),	  cmocka_unit_test(test_always_stop),
	    cmocka_unit_test(test_open_flags),	  cmocka_unit_test(test_chmod_and_sendto),
	    cmocka_unit_test(test_clone),	  cmocka_unit_test(test_everything_else_allowed),
	    cmocka_unit_test(test_foreign_arch),  cmocka_unit_test(test_kernel),
	    cmocka_unit_test(test_kernel_hybrid),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
