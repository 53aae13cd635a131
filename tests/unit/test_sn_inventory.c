/* test_sn_inventory.c - the sensor's inventory of the image's programs
 * (sensor-blob/inventory.h): what is refused at load, lookups by bisection
 * against a linear scan over generated inventories, and the file path. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../sensor-blob/inventory.h"

#define HDR SN_INVENTORY_HEADER

static struct sn_inventory *load(const char *text)
{
	struct sn_inventory *inv = NULL;
	struct sn_err e;

	if (sn_inventory_from_memory(text, strlen(text), &inv, &e) < 0)
		return NULL;
	return inv;
}

static void test_refused(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {"", "line 1"},
	    {"inlay-inventory 2\n/bin/sh\n", "line 1"},
	    {"inlay-inventory 1", "line 1"},
	    {HDR "/bin/sh", "newline"},
	    {HDR "bin/sh\n", "line 2 is not an absolute path"},
	    {HDR "/bin/sh\n\n", "line 3 is not an absolute path"},
	    {HDR "/bin/sh\n/bin/sh\n", "line 3 is out of order"},
	    {HDR "/bin/sh\n/bin/ls\n", "line 3 is out of order"},
	    {HDR "/bin/sh/x\n/bin/sh\n", "line 3 is out of order"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sn_inventory *inv = NULL;
		struct sn_err e;

		assert_int_equal(
		    sn_inventory_from_memory(cases[i].text, strlen(cases[i].text), &inv, &e), -1);
		assert_null(inv);
		if (!strstr(e.msg, cases[i].why))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, e.msg, cases[i].why);
	}
	{
		static const char nul[] = HDR "/bin/s\0h\n";
		struct sn_inventory *inv = NULL;
		struct sn_err e;

		assert_int_equal(sn_inventory_from_memory(nul, sizeof(nul) - 1, &inv, &e), -1);
		assert_non_null(strstr(e.msg, "NUL"));
	}
}

static void test_lookup(void **state)
{
	/* Prefixes and near misses on both sides of every entry. */
	struct sn_inventory *inv = load(HDR "/bin/busybox\n/bin/sh\n/usr/bin/a\n/usr/bin/a b\n"
					    "/usr/bin/ab\n/usr/bin/b\n/\xc3\xa9t\xc3\xa9\n");
	static const char *const yes[] = {"/bin/busybox",      "/bin/sh",     "/usr/bin/a",
					  "/usr/bin/a b",      "/usr/bin/ab", "/usr/bin/b",
					  "/\xc3\xa9t\xc3\xa9"};
	static const char *const no[] = {
	    "/",	  "/bin",     "/bin/",		"/bin/busybo", "/bin/busyboxx",
	    "/bin/s",	  "/bin/shh", "/usr/bin/",	"/usr/bin/a ", "/usr/bin/aa",
	    "/usr/bin/c", "/zzz",     "/\xc3\xa9t\xc3", "/a",	       "",
	    "/usr/bin/b/"};
	size_t i;

	(void)state;
	assert_non_null(inv);
	assert_int_equal(sn_inventory_count(inv), 7);
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!sn_inventory_has(inv, yes[i]))
			fail_msg("\"%s\" is listed but not found", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (sn_inventory_has(inv, no[i]))
			fail_msg("\"%s\" is not listed but found", no[i]);
	sn_inventory_free(inv);

	inv = load(HDR);
	assert_non_null(inv);
	assert_int_equal(sn_inventory_count(inv), 0);
	assert_false(sn_inventory_has(inv, "/bin/sh"));
	sn_inventory_free(inv);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Bisection against the truth over many sizes: every listed path is found,
 * and a path with one byte changed is found exactly when it is listed. */
static void test_lookup_generated(void **state)
{
	enum { MAX = 300 };
	static char names[MAX][24];
	const char *sorted[MAX];
	size_t n, i, j;

	(void)state;
	srand(7);
	for (n = 1; n <= MAX; n += 37) {
		size_t len = sizeof(HDR), k = 0;
		char *text;
		struct sn_inventory *inv;

		for (i = 0; i < n; i++) {
			/* Lengths vary so prefixes of each other occur. */
			int l = 1 + rand() % 6;

			names[i][0] = '/';
			for (j = 1; j <= (size_t)l; j++)
				names[i][j] = (char)('a' + rand() % 3);
			names[i][j] = '\0';
			sorted[i] = names[i];
		}
		qsort(sorted, n, sizeof(sorted[0]), cmp_str);
		for (i = 0; i < n; i++)
			len += strlen(sorted[i]) + 1;
		text = malloc(len);
		assert_non_null(text);
		k = (size_t)sprintf(text, "%s", HDR);
		for (i = 0; i < n; i++) {
			if (i && strcmp(sorted[i], sorted[i - 1]) == 0)
				continue;
			k += (size_t)sprintf(text + k, "%s\n", sorted[i]);
		}
		inv = NULL;
		{
			struct sn_err e;

			if (sn_inventory_from_memory(text, k, &inv, &e) < 0)
				fail_msg("n=%zu: %s", n, e.msg);
		}
		for (i = 0; i < n; i++) {
			char probe[24];

			assert_true(sn_inventory_has(inv, sorted[i]));
			for (j = 1; sorted[i][j]; j++) {
				int listed = 0;
				size_t m;

				memcpy(probe, sorted[i], sizeof(probe));
				probe[j] = (char)(probe[j] == 'c' ? 'a' : probe[j] + 1);
				for (m = 0; m < n; m++)
					listed |= strcmp(sorted[m], probe) == 0;
				assert_int_equal(sn_inventory_has(inv, probe), listed);
			}
		}
		sn_inventory_free(inv);
		free(text);
	}
}

static void test_open_file(void **state)
{
	char dir[] = "/tmp/test_sn_inventory.XXXXXX", path[64];
	struct sn_inventory *inv = NULL;
	struct sn_err e;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/inventory", dir);
	assert_int_equal(sn_inventory_open(path, &inv, &e), -1);
	assert_non_null(strstr(e.msg, path));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(HDR "/bin/busybox\n/usr/local/bin/app\n", f);
	fclose(f);
	assert_int_equal(sn_inventory_open(path, &inv, &e), 0);
	assert_true(sn_inventory_has(inv, "/usr/local/bin/app"));
	assert_false(sn_inventory_has(inv, "/tmp/app"));
	sn_inventory_free(inv);
	/* A damaged file is refused with its path and line. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(HDR "/usr/local/bin/app\n/bin/busybox\n", f);
	fclose(f);
	inv = NULL;
	assert_int_equal(sn_inventory_open(path, &inv, &e), -1);
	assert_non_null(strstr(e.msg, "line 3"));
	assert_non_null(strstr(e.msg, path));
	assert_int_equal(sn_inventory_open(dir, &inv, &e), -1);
	unlink(path);
	rmdir(dir);
	sn_inventory_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_lookup_generated),
	    cmocka_unit_test(test_open_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
