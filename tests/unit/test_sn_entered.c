/* test_sn_entered.c - telling processes that entered the container from
 * outside (sensor-blob/entered.h) from the application's, over a directory
 * laid out like /proc: PID/stat with the kernel's format (including a comm
 * holding spaces and parentheses) and PID/exe. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../sensor-blob/entered.h"

static char root[64];

struct seen {
	pid_t pids[64];
	int n;
};

static void on_entered(void *ctx, pid_t pid)
{
	struct seen *s = ctx;

	assert_true(s->n < 64);
	s->pids[s->n++] = pid;
}

/* A process: ROOT/PID/stat naming ppid, ROOT/PID/exe a file of prog. */
static void add_proc(int pid, const char *comm, int ppid, const char *prog)
{
	char path[256], link[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d", root, pid);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%d/stat", root, pid);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "%d (%s) S %d %d %d 0 -1 4194560 0 0 0 0\n", pid, comm, ppid, pid, pid);
	fclose(f);
	snprintf(path, sizeof(path), "%s/prog-%s", root, prog);
	if (access(path, F_OK) != 0) {
		assert_non_null(f = fopen(path, "w"));
		fclose(f);
	}
	snprintf(link, sizeof(link), "%s/%d/exe", root, pid);
	unlink(link);
	assert_int_equal(symlink(path, link), 0);
}

static void exec_proc(int pid, const char *prog)
{
	char path[256], link[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/prog-%s", root, prog);
	if (access(path, F_OK) != 0) {
		assert_non_null(f = fopen(path, "w"));
		fclose(f);
	}
	snprintf(link, sizeof(link), "%s/%d/exe", root, pid);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink(path, link), 0);
}

static void del_proc(int pid)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%d/stat", root, pid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%d/exe", root, pid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%d", root, pid);
	assert_int_equal(rmdir(path), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/sn-entered-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_classify(void **state)
{
	struct sn_entered *s;
	struct seen seen = {0};
	char path[128];
	FILE *f;

	(void)state;
	add_proc(1, "sensor", 0, "sensor");	   /* the sensor: never reported */
	add_proc(7, "nginx", 1, "nginx");	   /* the application */
	add_proc(8, "nginx: worker) (x", 7, "nginx"); /* its worker, an odd comm */
	add_proc(20, "sh", 0, "sh");		   /* runc exec: the parent is outside */
	add_proc(12, "cat", 20, "cat");		   /* its child, a lower PID */
	add_proc(21, "sleep", 12, "sleep");	   /* and a grandchild */
	/* Not processes: ignored. */
	snprintf(path, sizeof(path), "%s/self", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/uptime", root);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);

	assert_non_null(s = sn_entered_new(root));
	assert_int_equal(sn_entered_scan(s, 1, on_entered, &seen), 3);
	assert_int_equal(seen.n, 3);
	{
		int got[3] = {0}, i;

		for (i = 0; i < 3; i++) {
			got[0] |= seen.pids[i] == 20;
			got[1] |= seen.pids[i] == 12;
			got[2] |= seen.pids[i] == 21;
		}
		assert_true(got[0] && got[1] && got[2]);
	}

	/* Known processes are not reported again. */
	seen.n = 0;
	assert_int_equal(sn_entered_scan(s, 1, on_entered, &seen), 3);
	assert_int_equal(seen.n, 0);

	/* An exec in an entered process is reported; one in the application's is not. */
	exec_proc(12, "vi");
	exec_proc(8, "other");
	seen.n = 0;
	assert_int_equal(sn_entered_scan(s, 1, on_entered, &seen), 3);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.pids[0], 12);

	/* Gone processes are forgotten: the same PID, now the application's
	 * child, is not entered. */
	del_proc(21);
	seen.n = 0;
	assert_int_equal(sn_entered_scan(s, 1, on_entered, &seen), 2);
	add_proc(21, "worker", 7, "nginx");
	assert_int_equal(sn_entered_scan(s, 1, on_entered, &seen), 2);
	assert_int_equal(seen.n, 0);

	/* A new entered process later is reported. */
	add_proc(30, "bash", 0, "bash");
	assert_int_equal(sn_entered_scan(s, 1, on_entered, &seen), 3);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.pids[0], 30);
	sn_entered_free(s);
}

/* The sensor as another PID than 1 (its children name it as parent):
 * its own PID is never reported, and PID 1 never is either. */
static void test_self_and_unreadable(void **state)
{
	struct sn_entered *s;
	struct seen seen = {0};
	char path[128];
	FILE *f;

	(void)state;
	add_proc(1, "init", 0, "init");
	add_proc(5, "sensor", 0, "sensor");
	add_proc(6, "app", 5, "app");
	/* A stat the scan cannot parse: skipped, not fatal. */
	snprintf(path, sizeof(path), "%s/9", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/9/stat", root);
	assert_non_null(f = fopen(path, "w"));
	fputs("9 no parenthesis", f);
	fclose(f);
	assert_non_null(s = sn_entered_new(root));
	assert_int_equal(sn_entered_scan(s, 5, on_entered, &seen), 0);
	assert_int_equal(seen.n, 0);
	sn_entered_free(s);

	assert_non_null(s = sn_entered_new("/nonexistent/proc"));
	assert_int_equal(sn_entered_scan(s, 1, on_entered, &seen), -1);
	sn_entered_free(s);
	sn_entered_free(NULL);
}

static void test_parse_stat(void **state)
{
	static const struct {
		const char *text;
		int rc;
		int ppid;
		char state;
	} cases[] = {
	    {"42 (nginx) S 7 42 42 0 -1 4194560", 0, 7, 'S'},
	    {"42 (a) b) R 0 1 1\n", 0, 0, 'R'},
	    /* A comm that fakes the rest of the line: the last ')' wins. */
	    {"9 (x) S 1 9 9) Z 20 9 9", 0, 20, 'Z'},
	    {"9 (multi\nline) S 3", 0, 3, 'S'},
	    {"9 (sh) S 12", 0, 12, 'S'},
	    {"9 (sh) S ", -1, 0, 0},
	    {"9 (sh) S -1 9", -1, 0, 0},
	    {"9 (sh) S 99999999999 9", -1, 0, 0},
	    {"9 (sh) S 7x 9", -1, 0, 0},
	    {"9 (sh)S 7", -1, 0, 0},
	    {"9 sh S 7", -1, 0, 0},
	    {"", -1, 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid_t ppid = -5;
		char st = 0;

		assert_int_equal(sn_entered_parse_stat(cases[i].text, strlen(cases[i].text), &ppid, &st),
				 cases[i].rc);
		if (cases[i].rc == 0) {
			assert_int_equal(ppid, cases[i].ppid);
			assert_int_equal(st, cases[i].state);
		} else {
			assert_int_equal(ppid, -5); /* untouched on failure */
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_stat),
	    cmocka_unit_test_setup_teardown(test_classify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_self_and_unreadable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
