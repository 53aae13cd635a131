/* test_inventory.c - the executables of an image's merged filesystem
 * (rewriter/inventory.c): the OCI changeset rules (whiteouts, opaque
 * directories, replacement, hard links, symlinked directories), the file
 * format to the byte, the limits, and the whole path from an OCI layout
 * through rg_blob_stream and the streaming layer reader, including a blob
 * whose bytes do not match its digest.
 *
 * Most cases feed ly_entry records straight into the merge, so the rules
 * are tested without a tar in between; one case goes through a real tar. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../layers/hash.h"
#include "../../manifest/mediatype.h"
#include "../../rewriter/inventory.h"

/* One entry as a test writes it: type 'f' file, 'd' directory, 'l'
 * symlink, 'h' hard link, 'o' other (a fifo). */
struct ent {
	const char *path;
	char type;
	unsigned mode;
	const char *link;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct ly_entry to_entry(const struct ent *t)
{
	struct ly_entry le = {0};

	le.path = t->path;
	le.mode = t->mode;
	le.uname = le.gname = "";
	le.linkname = t->link;
	switch (t->type) {
	case 'f':
		le.type = LY_ENTRY_FILE;
		break;
	case 'd':
		le.type = LY_ENTRY_DIR;
		break;
	case 'l':
		le.type = LY_ENTRY_SYMLINK;
		break;
	case 'h':
		le.type = LY_ENTRY_HARDLINK;
		break;
	default:
		le.type = LY_ENTRY_OTHER;
		break;
	}
	return le;
}

/* Apply one layer; every entry must be accepted. */
static void layer(struct rw_inventory *inv, const struct ent *ents, size_t n)
{
	struct err e = {0};
	size_t i;

	rw_inventory_next_layer(inv);
	for (i = 0; i < n; i++) {
		struct ly_entry le = to_entry(&ents[i]);

		if (rw_inventory_apply(inv, &le, &e) < 0)
			fail_msg("entry '%s' refused: %s", ents[i].path, e.msg);
	}
}

/* Apply one layer whose last entry must be refused with ERR_INPUT and a
 * message holding `why`. */
static void layer_refused(struct rw_inventory *inv, const struct ent *ents, size_t n,
			  const char *why)
{
	struct err e = {0};
	size_t i;

	rw_inventory_next_layer(inv);
	for (i = 0; i + 1 < n; i++) {
		struct ly_entry le = to_entry(&ents[i]);

		if (rw_inventory_apply(inv, &le, &e) < 0)
			fail_msg("entry '%s' refused: %s", ents[i].path, e.msg);
	}
	{
		struct ly_entry le = to_entry(&ents[n - 1]);

		if (rw_inventory_apply(inv, &le, &e) == 0)
			fail_msg("entry '%s' was accepted", ents[n - 1].path);
	}
	assert_int_equal(e.cls, ERR_INPUT);
	if (!strstr(e.msg, why))
		fail_msg("message '%s' lacks '%s'", e.msg, why);
	/* the message names the entry (its start: long paths are cut) */
	{
		char start[101];

		snprintf(start, sizeof(start), "%s", ents[n - 1].path);
		if (!strstr(e.msg, start))
			fail_msg("message '%s' does not name '%s'", e.msg, start);
	}
}

static struct rw_inventory *new_inv(void)
{
	struct rw_inventory *inv = NULL;
	struct err e = {0};

	assert_int_equal(rw_inventory_new(NULL, &inv, &e), 0);
	return inv;
}

/* The inventory must be exactly RW_INVENTORY_HEADER + want. */
static void expect(struct rw_inventory *inv, const char *want)
{
	struct rw_inventory_text t = {0};
	struct err e = {0};
	size_t hl = strlen(RW_INVENTORY_HEADER);

	if (rw_inventory_serialize(inv, &t, &e) < 0)
		fail_msg("serialize: %s", e.msg);
	assert_true(t.len >= hl);
	assert_memory_equal(t.data, RW_INVENTORY_HEADER, hl);
	if (t.len - hl != strlen(want) || memcmp(t.data + hl, want, t.len - hl) != 0)
		fail_msg("inventory is\n%.*s\nwanted\n%s", (int)(t.len - hl), t.data + hl, want);
	rw_inventory_text_clear(&t);
}

/* ---- format ---- */

static void test_exact_bytes_sorted(void **state)
{
	/* Byte order: "/a\x01" < "/a-c" < "/a/b" (0x01 < '-' 0x2d < '/'
	 * 0x2f), "/A" < "/a", "/usr/bin/l" < "/usr/bin/l\x01" (a prefix
	 * first, which a "\n"-terminated comparison would get wrong), UTF-8
	 * (0xc3) after ASCII; tar spellings "./x", "x", "x//y" all name the
	 * same paths. */
	static const struct ent l1[] = {
	    {"./", 'd', 0755, NULL},
	    {"./usr/", 'd', 0755, NULL},
	    {"./usr/bin/", 'd', 0755, NULL},
	    {"./usr/bin/ls", 'f', 0755, NULL},
	    {"usr/bin//cat", 'f', 0700, NULL},	   /* owner only: still exec */
	    {"usr/./bin/readme", 'f', 0644, NULL}, /* not exec */
	    {"a/b", 'f', 0001, NULL},		   /* other only: still exec */
	    {"a-c", 'f', 0010, NULL},		   /* group only */
	    {"A", 'f', 0755, NULL},
	    {"a\x01", 'f', 0755, NULL},
	    {"usr/bin/l\x01", 'f', 0755, NULL},
	    {"usr/bin/l", 'f', 0755, NULL},
	    {"\xc3\xa9t\xc3\xa9", 'f', 0755, NULL},
	    {"z", 'f', 04644, NULL}, /* setuid but no x bit: not exec */
	    {"fifo", 'o', 0777, NULL},
	    {"sh", 'l', 0777, "usr/bin/ls"}, /* symlinks are never listed */
	};
	struct rw_inventory *inv = new_inv();
	struct rw_inventory_text t = {0};
	struct err e = {0};

	layer(inv, l1, N(l1));
	expect(inv, "/A\n/a\x01\n/a-c\n/a/b\n/usr/bin/cat\n/usr/bin/l\n/usr/bin/l\x01\n"
		    "/usr/bin/ls\n/\xc3\xa9t\xc3\xa9\n");
	assert_int_equal(rw_inventory_serialize(inv, &t, &e), 0);
	assert_int_equal(t.entries, 9);
	assert_int_equal(t.left_out, 0);
	assert_int_equal(t.len,
			 strlen(RW_INVENTORY_HEADER "/A\n/a\x01\n/a-c\n/a/b\n/usr/bin/cat\n"
						    "/usr/bin/l\n/usr/bin/l\x01\n/usr/bin/ls\n"
						    "/\xc3\xa9t\xc3\xa9\n"));
	rw_inventory_text_clear(&t);
	rw_inventory_free(inv);
}

static void test_empty_image(void **state)
{
	struct rw_inventory *inv = new_inv();

	expect(inv, "");
	layer(inv, NULL, 0);
	expect(inv, "");
	rw_inventory_free(inv);
}

static void test_newline_left_out(void **state)
{
	static const struct ent l1[] = {
	    {"bin/ok", 'f', 0755, NULL},
	    {"bin/new\nline", 'f', 0755, NULL},
	    {"odd\ndir/", 'd', 0755, NULL},
	    {"odd\ndir/inner", 'f', 0755, NULL}, /* the newline is in a directory */
	    {"odd\ndir/data", 'f', 0644, NULL},	 /* not exec: not counted */
	};
	struct rw_inventory *inv = new_inv();
	struct rw_inventory_text t = {0};
	struct err e = {0};

	layer(inv, l1, N(l1));
	assert_int_equal(rw_inventory_serialize(inv, &t, &e), 0);
	assert_int_equal(t.entries, 1);
	assert_int_equal(t.left_out, 2);
	assert_int_equal(t.len, strlen(RW_INVENTORY_HEADER "/bin/ok\n"));
	assert_memory_equal(t.data, RW_INVENTORY_HEADER "/bin/ok\n", t.len);
	rw_inventory_text_clear(&t);
	rw_inventory_free(inv);
}

static void test_inlay_dir_not_listed(void **state)
{
	static const struct ent l1[] = {
	    {".inlay/", 'd', 0755, NULL},
	    {".inlay/sensor", 'f', 0555, NULL},
	    {".inlay/sub/tool", 'f', 0755, NULL},
	    {".inlayx/tool", 'f', 0755, NULL}, /* only /.inlay itself is inlay's */
	    {"opt/.inlay/tool", 'f', 0755, NULL},
	};
	static const struct ent l2[] = {{".inlay", 'f', 0755, NULL}};
	struct rw_inventory *inv = new_inv();

	layer(inv, l1, N(l1));
	expect(inv, "/.inlayx/tool\n/opt/.inlay/tool\n");
	layer(inv, l2, N(l2)); /* a file there is replaced by inlay's layer too */
	expect(inv, "/.inlayx/tool\n/opt/.inlay/tool\n");
	rw_inventory_free(inv);
}

/* ---- whiteouts ---- */

static const struct ent base[] = {
    {"bin/", 'd', 0755, NULL},	    {"bin/a", 'f', 0755, NULL},	    {"bin/b", 'f', 0755, NULL},
    {"bin/sub/c", 'f', 0755, NULL}, {"opt/x/y/z", 'f', 0755, NULL}, {"opt/x/w", 'f', 0755, NULL},
    {"opt/keep", 'f', 0755, NULL},
};

static void test_whiteout_file(void **state)
{
	static const struct ent l2[] = {{"bin/.wh.a", 'f', 0644, NULL}};
	struct rw_inventory *inv = new_inv();

	layer(inv, base, N(base));
	layer(inv, l2, N(l2));
	expect(inv, "/bin/b\n/bin/sub/c\n/opt/keep\n/opt/x/w\n/opt/x/y/z\n");
	rw_inventory_free(inv);
}

static void test_whiteout_tree(void **state)
{
	static const struct ent l2[] = {{"./opt/.wh.x", 'f', 0, NULL}};
	struct rw_inventory *inv = new_inv();

	layer(inv, base, N(base));
	layer(inv, l2, N(l2));
	expect(inv, "/bin/a\n/bin/b\n/bin/sub/c\n/opt/keep\n");
	rw_inventory_free(inv);
}

static void test_whiteout_only_lower_layers(void **state)
{
	/* A whiteout hides lower layers only, wherever it is in its tar:
	 * what its own layer adds stays (image-spec: "Files that are
	 * present in the same layer as a whiteout file can only be hidden
	 * by whiteout files in subsequent layers"). */
	static const struct ent l2[] = {
	    {"bin/new", 'f', 0755, NULL},
	    {"bin/.wh.new", 'f', 0, NULL},
	    {"bin/.wh.b", 'f', 0, NULL},
	    {"bin/b", 'f', 0755, NULL}, /* recreated after its whiteout */
	    {"opt/x/v", 'f', 0755, NULL},
	    {"opt/.wh.x", 'f', 0, NULL}, /* lower x goes, this layer's x/v stays */
	};
	static const struct ent l3[] = {{"bin/.wh.new", 'f', 0, NULL}};
	struct rw_inventory *inv = new_inv();

	layer(inv, base, N(base));
	layer(inv, l2, N(l2));
	expect(inv, "/bin/a\n/bin/b\n/bin/new\n/bin/sub/c\n/opt/keep\n/opt/x/v\n");
	layer(inv, l3, N(l3)); /* a later layer can */
	expect(inv, "/bin/a\n/bin/b\n/bin/sub/c\n/opt/keep\n/opt/x/v\n");
	rw_inventory_free(inv);
}

static void test_opaque(void **state)
{
	/* The opaque marker comes after a new sibling here and before one
	 * there: "applied first, regardless of the ordering". */
	static const struct ent l2[] = {
	    {"bin/", 'd', 0755, NULL},		{"bin/new1", 'f', 0755, NULL},
	    {"bin/.wh..wh..opq", 'f', 0, NULL}, {"bin/new2", 'f', 0755, NULL},
	    {"bin/sub/d", 'f', 0755, NULL}, /* sub recreated by this layer */
	};
	struct rw_inventory *inv = new_inv();

	layer(inv, base, N(base));
	layer(inv, l2, N(l2));
	expect(inv, "/bin/new1\n/bin/new2\n/bin/sub/d\n/opt/keep\n/opt/x/w\n/opt/x/y/z\n");
	rw_inventory_free(inv);
}

static void test_opaque_root_and_missing(void **state)
{
	static const struct ent l2[] = {
	    {"nowhere/.wh.thing", 'f', 0, NULL},    /* nothing to remove */
	    {"nowhere/.wh..wh..opq", 'f', 0, NULL}, /* nor here */
	    {"./.wh..wh..opq", 'f', 0, NULL},	    /* the whole root */
	    {"usr/bin/only", 'f', 0755, NULL},
	};
	struct rw_inventory *inv = new_inv();

	layer(inv, base, N(base));
	layer(inv, l2, N(l2));
	expect(inv, "/usr/bin/only\n");
	rw_inventory_free(inv);
}

static void test_whiteouts_never_listed(void **state)
{
	static const struct ent l1[] = {
	    {"bin/.wh.ghost", 'f', 0755, NULL},
	    {"bin/.wh..wh..opq", 'f', 0755, NULL},
	    {".wh..wh.plnk/", 'd', 0700, NULL}, /* aufs bookkeeping */
	    {".wh..wh.plnk/123.456", 'f', 0755, NULL},
	    {"bin/.wh.", 'f', 0755, NULL},
	    {"bin/.wh..", 'f', 0755, NULL},
	    {"bin/.wh...", 'f', 0755, NULL},
	    {"bin/.whx", 'f', 0755, NULL}, /* not a whiteout */
	};
	struct rw_inventory *inv = new_inv();

	layer(inv, l1, N(l1));
	expect(inv, "/bin/.whx\n");
	rw_inventory_free(inv);
}

/* ---- replacement ---- */

static void test_replacements(void **state)
{
	static const struct ent l1[] = {
	    {"f2dir", 'f', 0755, NULL},	    {"f2link", 'f', 0755, NULL},
	    {"f2plain", 'f', 0755, NULL},   {"f2fifo", 'f', 0755, NULL},
	    {"dir2file/", 'd', 0755, NULL}, {"dir2file/inner", 'f', 0755, NULL},
	    {"dir2x/", 'd', 0755, NULL},    {"dir2x/deep/inner", 'f', 0755, NULL},
	    {"merge/", 'd', 0755, NULL},    {"merge/kept", 'f', 0755, NULL},
	    {"plain2x", 'f', 0644, NULL},   {"link2dir", 'l', 0777, "merge"},
	};
	static const struct ent l2[] = {
	    {"f2dir/", 'd', 0755, NULL},
	    {"f2dir/inside", 'f', 0755, NULL},
	    {"f2link", 'l', 0777, "f2plain"},
	    {"f2plain", 'f', 0644, NULL},
	    {"f2fifo", 'o', 0755, NULL},
	    {"dir2file", 'f', 0644, NULL},  /* the directory and all in it go */
	    {"dir2x", 'f', 0755, NULL},	    /* ... replaced by an executable */
	    {"merge/", 'd', 0700, NULL},    /* a directory over one: merged */
	    {"plain2x", 'f', 0755, NULL},   /* became executable */
	    {"link2dir/", 'd', 0755, NULL}, /* a symlink replaced by a directory */
	    {"link2dir/new", 'f', 0755, NULL},
	};
	struct rw_inventory *inv = new_inv();

	layer(inv, l1, N(l1));
	expect(inv, "/dir2file/inner\n/dir2x/deep/inner\n/f2dir\n/f2fifo\n/f2link\n/f2plain\n"
		    "/merge/kept\n");
	layer(inv, l2, N(l2));
	expect(inv, "/dir2x\n/f2dir/inside\n/link2dir/new\n/merge/kept\n/plain2x\n");
	rw_inventory_free(inv);
}

static void test_duplicate_in_layer_last_wins(void **state)
{
	static const struct ent l1[] = {
	    {"x", 'f', 0755, NULL},
	    {"x", 'f', 0644, NULL},
	    {"y", 'f', 0644, NULL},
	    {"./y", 'f', 0755, NULL},
	};
	struct rw_inventory *inv = new_inv();

	layer(inv, l1, N(l1));
	expect(inv, "/y\n");
	rw_inventory_free(inv);
}

/* ---- hard links ---- */

static void test_hardlinks(void **state)
{
	/* A tar hard link carries its own mode field, which extraction
	 * ignores: the link is the target's inode, mode and all. */
	static const struct ent l1[] = {
	    {"bin/busybox", 'f', 0755, NULL},
	    {"bin/ls", 'h', 0644, "bin/busybox"},
	    {"./bin/cat", 'h', 0, "./bin/busybox"},
	    {"etc/conf", 'f', 0644, NULL},
	    {"etc/conf2", 'h', 0755, "etc/conf"},
	    {"lib/libx.so", 'f', 0755, NULL},
	    {"lib/alias", 'l', 0777, "libx.so"},
	    {"lib/hardalias", 'h', 0, "lib/alias"}, /* to a symlink: a symlink */
	};
	static const struct ent l2[] = {
	    {"bin/.wh.busybox", 'f', 0, NULL},
	    {"bin/ls", 'f', 0644, NULL}, /* replacing one link leaves the others */
	};
	struct rw_inventory *inv = new_inv();

	layer(inv, l1, N(l1));
	expect(inv, "/bin/busybox\n/bin/cat\n/bin/ls\n/lib/libx.so\n");
	/* the links stay when their target goes: each is its own path */
	layer(inv, l2, N(l2));
	expect(inv, "/bin/cat\n/lib/libx.so\n");
	rw_inventory_free(inv);
}

static void test_hardlink_to_lower_layer(void **state)
{
	static const struct ent l2[] = {{"usr/local/bin/a2", 'h', 0, "bin/a"}};
	struct rw_inventory *inv = new_inv();

	layer(inv, base, N(base));
	layer(inv, l2, N(l2));
	expect(inv, "/bin/a\n/bin/b\n/bin/sub/c\n/opt/keep\n/opt/x/w\n/opt/x/y/z\n"
		    "/usr/local/bin/a2\n");
	rw_inventory_free(inv);
}

static void test_hardlink_refusals(void **state)
{
	static const struct ent missing[] = {{"x", 'h', 0755, "not/there"}};
	static const struct ent to_dir[] = {{"d/", 'd', 0755, NULL}, {"x", 'h', 0755, "d"}};
	static const struct ent self[] = {{"d/f", 'f', 0755, NULL}, {"d", 'h', 0755, "d/f"}};
	static const struct ent to_root[] = {{"x", 'h', 0755, "./"}};
	struct rw_inventory *inv;

	inv = new_inv();
	layer_refused(inv, missing, N(missing), "not/there");
	rw_inventory_free(inv);
	inv = new_inv();
	layer_refused(inv, to_dir, N(to_dir), "directory");
	rw_inventory_free(inv);
	inv = new_inv();
	layer_refused(inv, self, N(self), "removes");
	rw_inventory_free(inv);
	inv = new_inv();
	layer_refused(inv, to_root, N(to_root), "root");
	rw_inventory_free(inv);
}

/* ---- symlinked directories ---- */

static void test_symlinked_parents(void **state)
{
	/* merged /usr: /bin -> usr/bin; a later layer writing "bin/tool"
	 * puts it in /usr/bin, where the sensor's realpath finds it. */
	static const struct ent l1[] = {
	    {"usr/bin/", 'd', 0755, NULL},	  {"bin", 'l', 0777, "usr/bin"},
	    {"sbin", 'l', 0777, "/usr/sbin"}, /* absolute, and dangling for now */
	    {"usr/lib64", 'l', 0777, "../lib"},	  {"lib/", 'd', 0755, NULL},
	    {"opt/up", 'l', 0777, "../../../.."}, /* ".." stops at the root */
	};
	static const struct ent l2[] = {
	    {"bin/tool", 'f', 0755, NULL},
	    {"sbin/init", 'f', 0755, NULL}, /* makes /usr/sbin on the way */
	    {"usr/lib64/ld.so", 'f', 0755, NULL},
	    {"opt/up/usr/bin/up", 'f', 0755, NULL},
	    {"bin/.wh.gone", 'f', 0, NULL},
	};
	static const struct ent l3[] = {
	    {"bin/.wh.tool", 'f', 0, NULL}, /* whiteouts follow symlinks too */
	};
	struct rw_inventory *inv = new_inv();

	layer(inv, l1, N(l1));
	layer(inv, l2, N(l2));
	expect(inv, "/lib/ld.so\n/usr/bin/tool\n/usr/bin/up\n/usr/sbin/init\n");
	layer(inv, l3, N(l3));
	expect(inv, "/lib/ld.so\n/usr/bin/up\n/usr/sbin/init\n");
	rw_inventory_free(inv);
}

static void test_path_refusals(void **state)
{
	static const struct ent loop[] = {
	    {"a", 'l', 0777, "b"}, {"b", 'l', 0777, "a"}, {"a/x", 'f', 0755, NULL}};
	static const struct ent through_file[] = {{"f", 'f', 0644, NULL}, {"f/x", 'f', 0755, NULL}};
	static const struct ent dotdot[] = {{"a/../x", 'f', 0755, NULL}};
	static const struct ent absolute[] = {{"/etc/x", 'f', 0755, NULL}};
	char longname[300], longpath[4200];
	struct ent toolong[1], deep[1];
	struct rw_inventory *inv;
	size_t i;

	inv = new_inv();
	layer_refused(inv, loop, N(loop), "symbolic links");
	rw_inventory_free(inv);
	inv = new_inv();
	layer_refused(inv, through_file, N(through_file), "not a directory");
	rw_inventory_free(inv);
	inv = new_inv();
	layer_refused(inv, dotdot, N(dotdot), "..");
	rw_inventory_free(inv);
	inv = new_inv();
	layer_refused(inv, absolute, N(absolute), "absolute");
	rw_inventory_free(inv);

	memset(longname, 'n', 256);
	longname[256] = '\0';
	toolong[0] = (struct ent){longname, 'f', 0755, NULL};
	inv = new_inv();
	layer_refused(inv, toolong, 1, "256 bytes");
	rw_inventory_free(inv);

	for (i = 0; i + 2 < sizeof(longpath) - 1; i += 2) {
		longpath[i] = 'd';
		longpath[i + 1] = '/';
	}
	longpath[i] = 'x';
	longpath[i + 1] = '\0';
	deep[0] = (struct ent){longpath, 'f', 0755, NULL};
	inv = new_inv();
	layer_refused(inv, deep, 1, "longer than");
	rw_inventory_free(inv);
}

static void test_apply_before_layer(void **state)
{
	struct rw_inventory *inv = new_inv();
	struct ent t = {"x", 'f', 0755, NULL};
	struct ly_entry le = to_entry(&t);
	struct err e = {0};

	assert_int_equal(rw_inventory_apply(inv, &le, &e), -1);
	assert_int_equal(e.cls, ERR_OPERATIONAL);
	rw_inventory_free(inv);
	rw_inventory_free(NULL);
	rw_inventory_text_clear(NULL);
}

/* ---- limits ---- */

static void test_limits(void **state)
{
	static const struct ent l1[] = {
	    {"a", 'f', 0755, NULL},
	    {"bb", 'f', 0755, NULL},
	    {"ccc", 'f', 0755, NULL},
	    {"link", 'l', 0777, "a"},
	};
	struct rw_inventory_limits lim = rw_inventory_limits_default;
	struct rw_inventory *inv = NULL;
	struct rw_inventory_text t = {0};
	struct err e = {0};

	/* entries: 3 executables, 2 allowed */
	lim.max_entries = 2;
	assert_int_equal(rw_inventory_new(&lim, &inv, &e), 0);
	layer(inv, l1, N(l1));
	assert_int_equal(rw_inventory_serialize(inv, &t, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "more than 2 executables"));
	assert_non_null(strstr(e.msg, "without --inventory"));
	assert_null(t.data);
	rw_inventory_free(inv);

	/* exactly at the limits is fine: "/a\n/bb\n/ccc\n" is 12 bytes */
	lim.max_entries = 3;
	lim.max_bytes = 12;
	assert_int_equal(rw_inventory_new(&lim, &inv, &e), 0);
	layer(inv, l1, N(l1));
	assert_int_equal(rw_inventory_serialize(inv, &t, &e), 0);
	assert_int_equal(t.entries, 3);
	rw_inventory_text_clear(&t);
	rw_inventory_free(inv);

	/* bytes: one over */
	lim.max_bytes = 11;
	assert_int_equal(rw_inventory_new(&lim, &inv, &e), 0);
	layer(inv, l1, N(l1));
	assert_int_equal(rw_inventory_serialize(inv, &t, &e), -1);
	assert_int_equal(e.cls, ERR_INPUT);
	assert_non_null(strstr(e.msg, "more than 11 bytes"));
	assert_non_null(strstr(e.msg, "without --inventory"));
	rw_inventory_free(inv);

	/* nodes: the tree holds at most max_nodes paths, directories too */
	lim = rw_inventory_limits_default;
	lim.max_nodes = 4;
	assert_int_equal(rw_inventory_new(&lim, &inv, &e), 0);
	layer(inv, l1, N(l1));
	{
		static const struct ent more[] = {{"d/e", 'f', 0755, NULL}};

		layer_refused(inv, more, 1, "more than 4 paths");
	}
	rw_inventory_free(inv);

	/* removed paths free their place */
	assert_int_equal(rw_inventory_new(&lim, &inv, &e), 0);
	layer(inv, l1, N(l1));
	{
		static const struct ent l2[] = {{".wh.a", 'f', 0, NULL}, {".wh.bb", 'f', 0, NULL}};
		static const struct ent l3[] = {{"d/e", 'f', 0755, NULL}};

		layer(inv, l2, N(l2));
		layer(inv, l3, N(l3));
	}
	expect(inv, "/ccc\n/d/e\n");
	rw_inventory_free(inv);
}

/* Many paths: the hash table grows, removals find their nodes, the order
 * stays exact. */
static void test_many(void **state)
{
	struct rw_inventory *inv = new_inv();
	struct rw_inventory_text t = {0};
	struct err e = {0};
	char path[64];
	unsigned i;

	rw_inventory_next_layer(inv);
	for (i = 0; i < 20000; i++) {
		struct ent te = {path, 'f', (i % 3) ? 0755 : 0644, NULL};
		struct ly_entry le;

		snprintf(path, sizeof(path), "d%u/f%u", i % 97, i);
		le = to_entry(&te);
		assert_int_equal(rw_inventory_apply(inv, &le, &e), 0);
	}
	rw_inventory_next_layer(inv);
	for (i = 0; i < 97; i += 2) {
		struct ent te = {path, 'f', 0, NULL};
		struct ly_entry le;

		snprintf(path, sizeof(path), ".wh.d%u", i);
		le = to_entry(&te);
		assert_int_equal(rw_inventory_apply(inv, &le, &e), 0);
	}
	assert_int_equal(rw_inventory_serialize(inv, &t, &e), 0);
	{
		size_t want = 0, lines = 0;
		const char *p = t.data + strlen(RW_INVENTORY_HEADER), *prev = NULL, *nl;
		size_t prevlen = 0;

		for (i = 0; i < 20000; i++)
			if (i % 3 && (i % 97) % 2)
				want++;
		assert_int_equal(t.entries, want);
		while (p < t.data + t.len) {
			nl = memchr(p, '\n', (size_t)(t.data + t.len - p));
			assert_non_null(nl);
			if (prev) {
				size_t l = (size_t)(nl - p), m = l < prevlen ? l : prevlen;
				int c = memcmp(prev, p, m);

				assert_true(c < 0 || (c == 0 && prevlen < l));
			}
			prev = p;
			prevlen = (size_t)(nl - p);
			lines++;
			p = nl + 1;
		}
		assert_int_equal(lines, want);
	}
	rw_inventory_text_clear(&t);
	rw_inventory_free(inv);
}

/* ---- through a real tar ---- */

struct raw {
	const char *path;
	unsigned type; /* AE_IFREG, AE_IFDIR, AE_IFLNK */
	unsigned mode;
	const char *link; /* symlink target, or hardlink target for AE_IFREG */
};

static unsigned char *make_tar(const struct raw *ents, size_t n, size_t *ret_len)
{
	size_t cap = 1 << 20, used = 0, i;
	unsigned char *mem = malloc(cap);
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();

	assert_non_null(mem);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, mem, cap, &used), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		bool data = ents[i].type == AE_IFREG && !ents[i].link;

		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, ents[i].path);
		archive_entry_set_filetype(ae, ents[i].type);
		archive_entry_set_perm(ae, ents[i].mode);
		if (ents[i].type == AE_IFLNK)
			archive_entry_set_symlink(ae, ents[i].link);
		else if (ents[i].link)
			archive_entry_set_hardlink(ae, ents[i].link);
		archive_entry_set_size(ae, data ? 3 : 0);
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (data)
			assert_int_equal(archive_write_data(a, "abc", 3), 3);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	*ret_len = used;
	return mem;
}

/* A gzip layer holding one executable of n pseudo-random bytes (which
 * gzip cannot shrink): larger than the stream's pipe when n is. */
static unsigned char *make_big_tar(size_t n, size_t *ret_len)
{
	size_t cap = n + (1 << 20), used = 0, i;
	unsigned char *mem = malloc(cap), *data = malloc(n);
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	uint32_t x = 2463534242u;

	assert_non_null(mem);
	assert_non_null(data);
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (unsigned char)x;
	}
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, mem, cap, &used), ARCHIVE_OK);
	archive_entry_set_pathname(ae, "big/blob");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0755);
	archive_entry_set_size(ae, (la_int64_t)n);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, data, n), (la_ssize_t)n);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	free(data);
	*ret_len = used;
	return mem;
}

static const struct raw tar1[] = {
    {"./", AE_IFDIR, 0755, NULL},
    {"./bin/", AE_IFDIR, 0755, NULL},
    {"./bin/busybox", AE_IFREG, 0755, NULL},
    {"./bin/sh", AE_IFLNK, 0777, "busybox"},
    {"./bin/ls", AE_IFREG, 0644, "./bin/busybox"}, /* a hard link */
    {"./etc/passwd", AE_IFREG, 0644, NULL},
    {"./usr/local/bin/hello", AE_IFREG, 0755, NULL},
    {"./usr/local/bin/gone", AE_IFREG, 0755, NULL},
};
static const struct raw tar2[] = {
    {"usr/local/bin/.wh.gone", AE_IFREG, 0644, NULL},
    {"opt/app/run", AE_IFREG, 0750, NULL},
    {"bin/busybox", AE_IFREG, 0644, NULL}, /* no longer executable */
};
static const char tar_want[] = RW_INVENTORY_HEADER "/bin/ls\n/opt/app/run\n/usr/local/bin/hello\n";

static void test_through_tar(void **state)
{
	struct rw_inventory *inv = new_inv();
	struct rw_inventory_text t = {0};
	struct err e = {0};
	unsigned char *b1, *b2;
	size_t n1, n2;

	b1 = make_tar(tar1, N(tar1), &n1);
	b2 = make_tar(tar2, N(tar2), &n2);
	rw_inventory_next_layer(inv);
	if (ly_layer_list(b1, n1, LY_COMPRESS_GZIP, NULL, rw_inventory_entry_fn, inv, &e) < 0)
		fail_msg("layer 1: %s", e.msg);
	rw_inventory_next_layer(inv);
	if (ly_layer_list(b2, n2, LY_COMPRESS_GZIP, NULL, rw_inventory_entry_fn, inv, &e) < 0)
		fail_msg("layer 2: %s", e.msg);
	assert_int_equal(rw_inventory_serialize(inv, &t, &e), 0);
	assert_int_equal(t.len, strlen(tar_want));
	assert_memory_equal(t.data, tar_want, t.len);
	rw_inventory_text_clear(&t);
	rw_inventory_free(inv);
	free(b1);
	free(b2);
}

/* ---- from an OCI layout, streamed and verified ---- */

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Store a blob; returns its digest in out. */
static void put_blob(const char *dir, const void *data, size_t n, char out[LY_DIGEST_MAX])
{
	char path[512];

	ly_sha256_digest(data, n, out);
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, out + 7);
	write_file(path, data, n);
}

static void test_of_image_from_layout(void **state)
{
	char dir[] = "/tmp/inlay-test-inventory-XXXXXX", path[512], ref[600];
	char d1[LY_DIGEST_MAX], d2[LY_DIGEST_MAX], dc[LY_DIGEST_MAX];
	static const char config[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{"
				     "\"type\":\"layers\",\"diff_ids\":[]}}";
	unsigned char *b1, *b2;
	size_t n1, n2;
	char *manifest = NULL;
	struct mf_manifest *m = NULL;
	struct rg_options opt;
	struct rg_endpoint *ep = NULL;
	struct rg_stats stats = {0};
	struct rw_inventory_text t = {0};
	struct err e = {0};
	int len;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/blobs", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/oci-layout", dir);
	write_file(path, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	b1 = make_tar(tar1, N(tar1), &n1);
	b2 = make_tar(tar2, N(tar2), &n2);
	put_blob(dir, b1, n1, d1);
	put_blob(dir, b2, n2, d2);
	put_blob(dir, config, strlen(config), dc);
	len = asprintf(&manifest,
		       "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
		       "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\","
		       "\"digest\":\"%s\",\"size\":%zu},{\"mediaType\":\"%s\",\"digest\":\"%s\","
		       "\"size\":%zu}]}",
		       MT_OCI_MANIFEST, MT_OCI_CONFIG, dc, strlen(config), MT_OCI_LAYER_GZIP, d1,
		       n1, MT_OCI_LAYER_GZIP, d2, n2);
	assert_true(len > 0);
	if (mf_manifest_parse(manifest, (size_t)len, MT_OCI_MANIFEST, &m, &e) < 0)
		fail_msg("manifest: %s", e.msg);
	rg_options_init(&opt);
	snprintf(ref, sizeof(ref), "oci:%s", dir);
	assert_int_equal(rg_endpoint_open(ref, &opt, &ep, &e), 0);

	if (rw_inventory_of_image(ep, m, &t, &stats, &e) < 0)
		fail_msg("inventory: %s", e.msg);
	assert_int_equal(t.len, strlen(tar_want));
	assert_memory_equal(t.data, tar_want, t.len);
	assert_int_equal(t.entries, 3);
	assert_int_equal(stats.bytes_downloaded, n1 + n2); /* every byte, once */
	rw_inventory_text_clear(&t);

	/* A layer whose bytes do not match its digest: refused as a
	 * verification failure, however well the tar reads. The flipped bit
	 * is in the last byte (of gzip's ISIZE): the tar lists fine, so
	 * only the digest check can catch it. */
	b2[n2 - 1] ^= 0x01;
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, d2 + 7);
	write_file(path, b2, n2);
	memset(&stats, 0, sizeof(stats));
	assert_int_equal(rw_inventory_of_image(ep, m, &t, &stats, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	assert_non_null(strstr(e.msg, d2));
	assert_null(t.data);

	/* Corrupted in the middle: the gzip stream breaks before the end,
	 * yet the cause reported is the digest, not the bad bytes. */
	b2[n2 - 1] ^= 0x01;
	b2[n2 / 2] ^= 0xff;
	b2[n2 / 2 + 1] ^= 0xff;
	write_file(path, b2, n2);
	assert_int_equal(rw_inventory_of_image(ep, m, &t, &stats, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	assert_non_null(strstr(e.msg, "do not match its digest"));
	b2[n2 / 2] ^= 0xff;
	b2[n2 / 2 + 1] ^= 0xff;

	/* A layer cut short (and so not matching either). */
	write_file(path, b2, n2 / 2);
	assert_int_equal(rw_inventory_of_image(ep, m, &t, &stats, &e), -1);
	assert_int_equal(e.cls, ERR_VERIFY);
	assert_null(t.data);

	/* A layer a runtime cannot apply: the entry's error, not a
	 * download's (the download is stopped, and that is no cause). */
	{
		static const struct raw badlink[] = {{"x", AE_IFREG, 0755, "missing/target"}};
		unsigned char *b3;
		size_t n3;

		b3 = make_tar(badlink, N(badlink), &n3);
		/* a one-layer image of it */
		mf_manifest_free(m);
		m = NULL;
		free(manifest);
		put_blob(dir, b3, n3, d2);
		len = asprintf(&manifest,
			       "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{"
			       "\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":"
			       "[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
			       MT_OCI_MANIFEST, MT_OCI_CONFIG, dc, strlen(config),
			       MT_OCI_LAYER_GZIP, d2, n3);
		assert_true(len > 0);
		assert_int_equal(mf_manifest_parse(manifest, (size_t)len, MT_OCI_MANIFEST, &m, &e),
				 0);
		assert_int_equal(rw_inventory_of_image(ep, m, &t, &stats, &e), -1);
		assert_int_equal(e.cls, ERR_INPUT);
		assert_non_null(strstr(e.msg, "missing/target"));
		assert_null(strstr(e.msg, "download"));
		free(b3);
	}
	/* A large layer (4 MiB, past the 1 MiB pipe) corrupted near its
	 * start: the reader fails on the bad bytes while the download is
	 * still running; the rest is read so that the cause, the digest,
	 * is what is reported. */
	{
		unsigned char *big;
		size_t nb;
		char db[LY_DIGEST_MAX];

		big = make_big_tar(4u << 20, &nb);
		mf_manifest_free(m);
		m = NULL;
		free(manifest);
		put_blob(dir, big, nb, db);
		len = asprintf(&manifest,
			       "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{"
			       "\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":"
			       "[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
			       MT_OCI_MANIFEST, MT_OCI_CONFIG, dc, strlen(config),
			       MT_OCI_LAYER_GZIP, db, nb);
		assert_true(len > 0);
		assert_int_equal(mf_manifest_parse(manifest, (size_t)len, MT_OCI_MANIFEST, &m, &e),
				 0);
		memset(&stats, 0, sizeof(stats));
		if (rw_inventory_of_image(ep, m, &t, &stats, &e) < 0)
			fail_msg("big layer: %s", e.msg);
		assert_int_equal(t.entries, 1);
		assert_int_equal(stats.bytes_downloaded, nb);
		rw_inventory_text_clear(&t);
		/* the gzip header is 10 bytes; the stored deflate blocks of
		 * random data begin right after */
		memset(big + 20, 0xff, 64);
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", dir, db + 7);
		write_file(path, big, nb);
		assert_int_equal(rw_inventory_of_image(ep, m, &t, &stats, &e), -1);
		assert_int_equal(e.cls, ERR_VERIFY);
		assert_non_null(strstr(e.msg, "do not match its digest"));
		free(big);
	}
	/* Bytes that are no layer, under their own digest: bad input. */
	{
		static const char junk[] = "this is not a tar, but it is what the digest says";

		mf_manifest_free(m);
		m = NULL;
		free(manifest);
		put_blob(dir, junk, strlen(junk), d2);
		len = asprintf(&manifest,
			       "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{"
			       "\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":"
			       "[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
			       MT_OCI_MANIFEST, MT_OCI_CONFIG, dc, strlen(config), MT_OCI_LAYER_TAR,
			       d2, strlen(junk));
		assert_true(len > 0);
		assert_int_equal(mf_manifest_parse(manifest, (size_t)len, MT_OCI_MANIFEST, &m, &e),
				 0);
		assert_int_equal(rw_inventory_of_image(ep, m, &t, &stats, &e), -1);
		assert_int_equal(e.cls, ERR_INPUT);
		assert_non_null(strstr(e.msg, d2));
	}

	rg_endpoint_free(ep);
	mf_manifest_free(m);
	free(manifest);
	free(b1);
	free(b2);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_bytes_sorted),
	    cmocka_unit_test(test_empty_image),
	    cmocka_unit_test(test_newline_left_out),
	    cmocka_unit_test(test_inlay_dir_not_listed),
	    cmocka_unit_test(test_whiteout_file),
	    cmocka_unit_test(test_whiteout_tree),
	    cmocka_unit_test(test_whiteout_only_lower_layers),
	    cmocka_unit_test(test_opaque),
	    cmocka_unit_test(test_opaque_root_and_missing),
	    cmocka_unit_test(test_whiteouts_never_listed),
	    cmocka_unit_test(test_replacements),
	    cmocka_unit_test(test_duplicate_in_layer_last_wins),
	    cmocka_unit_test(test_hardlinks),
	    cmocka_unit_test(test_hardlink_to_lower_layer),
	    cmocka_unit_test(test_hardlink_refusals),
	    cmocka_unit_test(test_symlinked_parents),
	    cmocka_unit_test(test_path_refusals),
	    cmocka_unit_test(test_apply_before_layer),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_through_tar),
	    cmocka_unit_test(test_of_image_from_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
