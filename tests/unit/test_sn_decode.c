/* test_sn_decode.c - the capture engine's decoding (sensor-blob/decode.h):
 * path normalization and resolution against a process's cwd and /proc/self,
 * socket address formatting, open flags, and bounded reads of a process's
 * memory (this test process plays the tracee: process_vm_readv on itself). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../sensor-blob/decode.h"

static void test_path_clean(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"/", "/"},
	    {"//", "/"},
	    {"/a/b", "/a/b"},
	    {"/a//b/", "/a/b"},
	    {"/a/./b/.", "/a/b"},
	    {"/a/b/../c", "/a/c"},
	    {"/a/b/../../..", "/"},
	    {"/../etc/passwd", "/etc/passwd"},
	    {"/tmp/../etc/shadow", "/etc/shadow"},
	    {"/a/.../b", "/a/.../b"},
	    {"/a/..b/c", "/a/..b/c"},
	};
	char out[PATH_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(sn_path_clean(cases[i].in, out, sizeof(out)), 0);
		assert_string_equal(out, cases[i].out);
	}
	assert_int_equal(sn_path_clean("relative/x", out, sizeof(out)), -EINVAL);
	assert_int_equal(sn_path_clean("/abcdef/ghi", out, 8), -ENAMETOOLONG);
	assert_int_equal(sn_path_clean("/abc", out, 5), 0);
	assert_string_equal(out, "/abc");
	assert_int_equal(sn_path_clean("/abcd", out, 5), -ENAMETOOLONG);
}

static void test_path_join(void **state)
{
	char out[PATH_MAX];

	(void)state;
	assert_int_equal(sn_path_join("/work/dir", "file", out, sizeof(out)), 0);
	assert_string_equal(out, "/work/dir/file");
	assert_int_equal(sn_path_join("/work/dir", "../x/./y", out, sizeof(out)), 0);
	assert_string_equal(out, "/work/x/y");
	assert_int_equal(sn_path_join("/", "a", out, sizeof(out)), 0);
	assert_string_equal(out, "/a");
	/* An absolute rel ignores the base. */
	assert_int_equal(sn_path_join("/work", "/etc/x", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/x");
	assert_int_equal(sn_path_join("/work", "..", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
}

static void test_path_proc_self(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(sn_path_proc_self(42, "/proc/self/exe", out, sizeof(out)), 0);
	assert_string_equal(out, "/proc/42/exe");
	assert_int_equal(sn_path_proc_self(42, "/proc/self", out, sizeof(out)), 0);
	assert_string_equal(out, "/proc/42");
	assert_int_equal(sn_path_proc_self(7, "/proc/thread-self/fd/1", out, sizeof(out)), 0);
	assert_string_equal(out, "/proc/7/fd/1");
	/* Only the whole component: /proc/selfish is somebody's file. */
	assert_int_equal(sn_path_proc_self(42, "/proc/selfish", out, sizeof(out)), 0);
	assert_string_equal(out, "/proc/selfish");
	assert_int_equal(sn_path_proc_self(42, "/etc/passwd", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc/passwd");
	assert_int_equal(sn_path_proc_self(123456, "/proc/self/fd/1", out, 12), -ENAMETOOLONG);
}

/* Resolution in a process's own context: this process, its cwd moved to a
 * temporary directory, a dirfd open on another. */
static void test_path_at(void **state)
{
	char tmpl[] = "/tmp/test_sn_decode.XXXXXX", old[PATH_MAX], display[PATH_MAX],
	     access[PATH_MAX + 64], want[PATH_MAX + 64], real[PATH_MAX];
	pid_t me = getpid();
	int dfd;

	(void)state;
	assert_non_null(getcwd(old, sizeof(old)));
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, real));
	assert_int_equal(chdir(real), 0);

	assert_int_equal(sn_path_at(me, SN_AT_FDCWD, "sub/../f.txt", display, sizeof(display),
				    access, sizeof(access)),
			 0);
	snprintf(want, sizeof(want), "%s/f.txt", real);
	assert_string_equal(display, want);
	snprintf(want, sizeof(want), "/proc/%d/cwd/sub/../f.txt", (int)me);
	assert_string_equal(access, want);

	/* /proc/self is the caller's, in both forms. */
	assert_int_equal(sn_path_at(me, SN_AT_FDCWD, "/proc/./self/exe", display, sizeof(display),
				    access, sizeof(access)),
			 0);
	snprintf(want, sizeof(want), "/proc/%d/exe", (int)me);
	assert_string_equal(display, want);
	assert_string_equal(access, want);

	/* An absolute path keeps its spelling for access (symlinks decide
	 * where "..", leads), and is normalized for display. */
	assert_int_equal(sn_path_at(me, SN_AT_FDCWD, "/tmp//x/../y", display, sizeof(display),
				    access, sizeof(access)),
			 0);
	assert_string_equal(display, "/tmp/y");
	assert_string_equal(access, "/tmp//x/../y");

	dfd = open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(
	    sn_path_at(me, dfd, "hostname", display, sizeof(display), access, sizeof(access)), 0);
	assert_string_equal(display, "/etc/hostname");
	snprintf(want, sizeof(want), "/proc/%d/fd/%d/hostname", (int)me, dfd);
	assert_string_equal(access, want);
	/* AT_EMPTY_PATH: the descriptor itself. */
	assert_int_equal(sn_path_at(me, dfd, "", display, sizeof(display), NULL, 0), 0);
	assert_string_equal(display, "/etc");
	close(dfd);
	assert_int_equal(sn_path_at(me, 987654, "x", display, sizeof(display), NULL, 0), -ENOENT);

	assert_int_equal(chdir(old), 0);
	assert_int_equal(rmdir(real), 0);
}

static void test_basename(void **state)
{
	(void)state;
	assert_string_equal(sn_basename("/bin/busybox"), "busybox");
	assert_string_equal(sn_basename("cat"), "cat");
	assert_string_equal(sn_basename(""), "");
	assert_string_equal(sn_basename("/"), "/");
	assert_string_equal(sn_basename("a/b/"), "a/b/");
}

static void fmt(const void *sa, socklen_t len, const char *want)
{
	char out[SN_ADDR_MAX + 8];
	size_t n = sn_sockaddr_format(sa, len, out, sizeof(out));

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void test_sockaddr(void **state)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_un un;
	char small[8];

	(void)state;
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_port = htons(5432);
	inet_pton(AF_INET, "10.1.2.3", &in.sin_addr);
	fmt(&in, sizeof(in), "10.1.2.3:5432");
	assert_int_equal(sn_sockaddr_port((struct sockaddr *)&in, sizeof(in)), 5432);
	/* Shorter than the family's structure: not trusted. */
	fmt(&in, sizeof(in) - 1, "family 2");
	assert_int_equal(sn_sockaddr_port((struct sockaddr *)&in, sizeof(in) - 1), -1);

	memset(&in6, 0, sizeof(in6));
	in6.sin6_family = AF_INET6;
	in6.sin6_port = htons(443);
	inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
	fmt(&in6, sizeof(in6), "[2001:db8::1]:443");
	assert_int_equal(sn_sockaddr_port((struct sockaddr *)&in6, sizeof(in6)), 443);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
	fmt(&in6, sizeof(in6), "[::ffff:127.0.0.1]:443");

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	strcpy(un.sun_path, "/run/app.sock");
	fmt(&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1),
	    "/run/app.sock");
	/* Without its NUL, as the kernel allows. */
	fmt(&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 4), "/run");
	/* Abstract: NULs are part of the name, shown as '@'. */
	memset(un.sun_path, 0, sizeof(un.sun_path));
	memcpy(un.sun_path, "\0abs\0x", 6);
	fmt(&un, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 6), "@abs@x");
	fmt(&un, (socklen_t)sizeof(sa_family_t), "unix:unnamed");
	assert_int_equal(sn_sockaddr_port((struct sockaddr *)&un, sizeof(un)), -1);

	fmt(&un, 1, "unknown");
	un.sun_family = AF_NETLINK;
	fmt(&un, sizeof(un), "family 16");

	/* Cut, never overflowed. */
	assert_int_equal(
	    sn_sockaddr_format((struct sockaddr *)&in, sizeof(in), small, sizeof(small)), 7);
	assert_string_equal(small, "10.1.2.");
}

static void test_open_flags(void **state)
{
	char out[160];

	(void)state;
	sn_open_flags_format(O_WRONLY | O_CREAT | O_TRUNC, out, sizeof(out));
	assert_string_equal(out, "O_WRONLY|O_CREAT|O_TRUNC");
	sn_open_flags_format(O_RDWR | O_APPEND | O_CLOEXEC, out, sizeof(out));
	assert_string_equal(out, "O_RDWR|O_APPEND|O_CLOEXEC");
	sn_open_flags_format(O_RDONLY, out, sizeof(out));
	assert_string_equal(out, "O_RDONLY");
	sn_open_flags_format(O_RDWR | O_TMPFILE, out, sizeof(out));
	assert_string_equal(out, "O_RDWR|O_TMPFILE");
	sn_open_flags_format(O_WRONLY | O_CREAT, out, 12);
	assert_string_equal(out, "O_WRONLY");
}

/* A string that ends right before an unreadable page is read without
 * touching that page; one that runs into it is an error; one longer than
 * the buffer is cut and says so. */
static void test_mem_string(void **state)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map, buf[64];
	pid_t me = getpid();
	uint64_t tail;

	(void)state;
	map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	memcpy(map + page - 6, "hello", 6);
	tail = (uint64_t)(uintptr_t)(map + page - 6);
	assert_int_equal(sn_mem_string(me, 0, tail, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");

	memcpy(map + page - 3, "abc", 3); /* no NUL before the hole */
	assert_int_equal(
	    sn_mem_string(me, 0, (uint64_t)(uintptr_t)(map + page - 3), buf, sizeof(buf)), -EFAULT);
	assert_string_equal(buf, "");

	memset(map, 'x', 100);
	map[100] = '\0';
	assert_int_equal(sn_mem_string(me, 0, (uint64_t)(uintptr_t)map, buf, sizeof(buf)),
			 -ENAMETOOLONG);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);

	assert_int_equal(sn_mem_string(me, 0, 0, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(sn_mem_read(me, 0, (uint64_t)(uintptr_t)(map + page), buf, 4), -EFAULT);
	assert_int_equal(sn_mem_read(me, 0, (uint64_t)(uintptr_t)map, buf, 4), 0);
	assert_memory_equal(buf, "xxxx", 4);
	munmap(map, (size_t)page * 2);
}

static void test_cmdline(void **state)
{
	const char *argv[] = {"/bin/busybox", "cat", "/etc/x y", NULL};
	char out[64], a0[32], small[12];
	pid_t me = getpid();

	(void)state;
	/* From an argv array in memory (an execve about to happen). */
	assert_int_equal(
	    sn_mem_cmdline(me, 0, (uint64_t)(uintptr_t)argv, out, sizeof(out), a0, sizeof(a0)), 0);
	assert_string_equal(out, "busybox cat /etc/x y");
	assert_string_equal(a0, "/bin/busybox");
	assert_int_equal(
	    sn_mem_cmdline(me, 0, (uint64_t)(uintptr_t)argv, small, sizeof(small), NULL, 0), 0);
	assert_string_equal(small, "busybox cat");

	/* From /proc: this test's own command line starts with its name. */
	assert_int_equal(sn_proc_cmdline(me, out, sizeof(out), a0, sizeof(a0)), 0);
	assert_non_null(strstr(out, "test_sn_decode"));
	assert_true(out[0] != '/'); /* argv[0]'s base name, not its path */
}

static void test_proc_status(void **state)
{
	struct sn_procinfo pi;

	(void)state;
	assert_int_equal(sn_proc_status(getpid(), &pi), 0);
	assert_int_equal(pi.tgid, getpid());
	assert_int_equal(pi.ppid, getppid());
	assert_int_equal(pi.uid, getuid());
	assert_true(sn_proc_status(987654321, &pi) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_clean),	   cmocka_unit_test(test_path_join),
	    cmocka_unit_test(test_path_proc_self), cmocka_unit_test(test_path_at),
	    cmocka_unit_test(test_basename),	   cmocka_unit_test(test_sockaddr),
	    cmocka_unit_test(test_open_flags),	   cmocka_unit_test(test_mem_string),
	    cmocka_unit_test(test_cmdline),	   cmocka_unit_test(test_proc_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
