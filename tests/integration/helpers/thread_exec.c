/* thread_exec.c - a test workload: a thread other than the main one calls
 * execv(argv[1], argv + 1), so the new program takes over the process under
 * the main thread's pid while the exec was asked for under the thread's own
 * id. Prints "thread_exec=-1 errno=E (text)" and exits 126 if it fails.
 * Built static by the tests that run it in containers. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char **program;

static void *run(void *arg)
{
	(void)arg;
	execv(program[0], program);
	printf("thread_exec=-1 errno=%d (%s)\n", errno, strerror(errno));
	fflush(stdout);
	_exit(126);
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc < 2) {
		fprintf(stderr, "usage: thread_exec PROGRAM [ARG...]\n");
		return 2;
	}
	program = argv + 1;
	if (pthread_create(&t, NULL, run, NULL) != 0)
		return 1;
	for (;;)
		pause(); /* the exec ends this thread too */
}
