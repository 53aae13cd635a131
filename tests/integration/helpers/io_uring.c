/* io_uring.c - a test workload: sets up an io_uring (4 entries) with the
 * raw system call and prints "io_uring=ok" or "io_uring=-1 errno=E (text)". */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif

int main(void)
{
	/* struct io_uring_params is 120 bytes; the kernel fills it in. */
	unsigned char params[120];
	long fd;

	memset(params, 0, sizeof(params));
	fd = syscall(SYS_io_uring_setup, 4, params);
	if (fd < 0)
		printf("io_uring=-1 errno=%d (%s)\n", errno, strerror(errno));
	else
		printf("io_uring=ok\n");
	return 0;
}
