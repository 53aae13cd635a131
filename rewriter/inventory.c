/* inventory.c - see inventory.h. The merged filesystem is a tree of nodes
 * (name, type, exec bit, symlink target, the layer that made it); children
 * are found through one hash table keyed by (parent, name). Nothing
 * recurses: trees come from hostile tars, so walks use parent pointers. */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../manifest/mediatype.h"
#include "../registry/progress.h"

const struct rw_inventory_limits rw_inventory_limits_default = {
    .max_nodes = RW_INVENTORY_MAX_NODES,
    .max_entries = RW_INVENTORY_MAX_ENTRIES,
    .max_bytes = RW_INVENTORY_MAX_BYTES,
};

#define WHITEOUT ".wh."
#define WHITEOUT_LEN 4
#define WHITEOUT_META ".wh..wh."
#define OPAQUE ".wh..wh..opq"
#define INLAY_DIR ".inlay"
#define MIN_BUCKETS 1024u
#define ATTEMPTS 3

enum node_type { NODE_DIR, NODE_FILE, NODE_SYMLINK, NODE_OTHER };

struct node {
	struct node *parent, *child, *next, *prev; /* first child; siblings */
	struct node *hnext;			   /* hash chain */
	char *link;				   /* symlink target, else NULL */
	uint32_t layer;				   /* the layer that made it */
	uint16_t pathlen;			   /* bytes of "/.../name" */
	uint8_t namelen;
	unsigned type : 2;    /* enum node_type */
	unsigned exec : 1;    /* a file with any of 0111 */
	unsigned newline : 1; /* its path holds '\n' */
	char name[];	      /* namelen bytes and a NUL */
};

struct rw_inventory {
	struct rw_inventory_limits lim;
	struct node *root;
	struct node **buckets;
	size_t nbuckets; /* a power of two */
	size_t nnodes;	 /* excluding the root */
	uint64_t key[2];
	uint32_t layer;
	/* scratch for path walks: the rest of a path after a symlink is
	 * rewritten from one into the other */
	char walk[2][RW_INVENTORY_PATH_MAX];
};

/* ---- SipHash-1-3 (Aumasson & Bernstein), for the child table ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = ROTL(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = ROTL(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = ROTL(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = ROTL(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = ROTL(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = ROTL(v2, 32);                                                                 \
	} while (0)

static uint64_t siphash13(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, left = len & 7;
	const unsigned char *end = in + (len - left);

	for (; in != end; in += 8) {
		m = 0;
		for (i = 0; i < 8; i++)
			m |= (uint64_t)in[i] << (8 * i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < left; i++)
		b |= (uint64_t)in[i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The bucket of a child of dir named name. The directory's address is
 * folded into the key: each directory gets its own keyed function, still
 * unknown to whoever wrote the tar (a freed directory's address can come
 * back, but only once all its children are gone). */
static size_t bucket(const struct rw_inventory *inv, const struct node *dir, const char *name,
		     size_t len, size_t nbuckets)
{
	return (size_t)siphash13(inv->key[0] ^ (uint64_t)(uintptr_t)dir, inv->key[1],
				 (const unsigned char *)name, len) &
	       (nbuckets - 1);
}

/* ---- the tree ---- */

static struct node *lookup(const struct rw_inventory *inv, const struct node *dir, const char *name,
			   size_t len)
{
	struct node *n;

	for (n = inv->buckets[bucket(inv, dir, name, len, inv->nbuckets)]; n; n = n->hnext)
		if (n->parent == dir && n->namelen == len && memcmp(n->name, name, len) == 0)
			return n;
	return NULL;
}

static void grow(struct rw_inventory *inv)
{
	size_t nb = inv->nbuckets * 2, i;
	struct node **b, *n, *next;
	size_t k;

	b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (i = 0; i < inv->nbuckets; i++)
		for (n = inv->buckets[i]; n; n = next) {
			next = n->hnext;
			k = bucket(inv, n->parent, n->name, n->namelen, nb);
			n->hnext = b[k];
			b[k] = n;
		}
	free(inv->buckets);
	inv->buckets = b;
	inv->nbuckets = nb;
}

/* A new child of dir (which has none by that name). link is copied. */
static int add_node(struct rw_inventory *inv, struct node *dir, const char *name, size_t len,
		    enum node_type type, bool exec, const char *link, struct node **ret,
		    struct err *e)
{
	size_t pathlen = (size_t)dir->pathlen + 1 + len;
	struct node *n;

	if (len == 0 || len > RW_INVENTORY_NAME_MAX)
		return err_set(e, ERR_INPUT, "a path component is %zu bytes (at most %d)", len,
			       RW_INVENTORY_NAME_MAX);
	if (pathlen >= RW_INVENTORY_PATH_MAX)
		return err_set(e, ERR_INPUT, "a path in the image is longer than %d bytes",
			       RW_INVENTORY_PATH_MAX - 1);
	if (inv->nnodes >= inv->lim.max_nodes)
		return err_set(e, ERR_INPUT,
			       "the image's filesystem holds more than %zu paths (the inventory's "
			       "limit); instrument without --inventory",
			       inv->lim.max_nodes);
	n = calloc(1, sizeof(*n) + len + 1);
	if (!n)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (link && !(n->link = strdup(link))) {
		free(n);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	memcpy(n->name, name, len);
	n->namelen = (uint8_t)len;
	n->pathlen = (uint16_t)pathlen;
	n->type = type;
	n->exec = type == NODE_FILE && exec;
	n->newline = dir->newline || memchr(name, '\n', len) != NULL;
	n->layer = inv->layer;
	n->parent = dir;
	n->next = dir->child;
	if (dir->child)
		dir->child->prev = n;
	dir->child = n;
	{
		size_t k = bucket(inv, dir, name, len, inv->nbuckets);

		n->hnext = inv->buckets[k];
		inv->buckets[k] = n;
	}
	if (++inv->nnodes > inv->nbuckets)
		grow(inv);
	*ret = n;
	return 0;
}

/* Take a node without children out of the tree and free it. */
static void drop_leaf(struct rw_inventory *inv, struct node *n)
{
	struct node **pp =
	    &inv->buckets[bucket(inv, n->parent, n->name, n->namelen, inv->nbuckets)];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	if (n->prev)
		n->prev->next = n->next;
	else
		n->parent->child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	inv->nnodes--;
	free(n->link);
	free(n);
}

/* Post-order walk of top's subtree (children before their directory),
 * without recursion. below: drop every node under `top` made before layer
 * `below` that has no children left (so a directory stays only for what a
 * later layer put into it), and top too when with_top; below == UINT32_MAX
 * drops everything. The root is never dropped. */
static void prune(struct rw_inventory *inv, struct node *top, uint32_t below, bool with_top)
{
	struct node *n = top, *next;

	while (n->child)
		n = n->child;
	for (;;) {
		if (n == top) {
			if (with_top && n != inv->root && !n->child && n->layer < below)
				drop_leaf(inv, n);
			return;
		}
		if (n->next) {
			next = n->next;
			while (next->child)
				next = next->child;
		} else {
			next = n->parent;
		}
		if (!n->child && n->layer < below)
			drop_leaf(inv, n);
		n = next;
	}
}

static void remove_subtree(struct rw_inventory *inv, struct node *top)
{
	prune(inv, top, UINT32_MAX, true);
}

/* ---- paths ---- */

/* "/a/b/name" of n into out (n->pathlen + 1 bytes), NUL-terminated. */
static void node_path(const struct node *n, char *out)
{
	size_t pos = n->pathlen;

	out[pos] = '\0';
	for (; n->parent; n = n->parent) {
		pos -= n->namelen;
		memcpy(out + pos, n->name, n->namelen);
		out[--pos] = '/';
	}
}

static bool is_dotdot(const char *s, size_t n)
{
	return n == 2 && s[0] == '.' && s[1] == '.';
}

/* Follow path (relative, '/'-separated; "." and empty components skipped,
 * ".." going up but never above the root) from the root through
 * directories and symlinks, every component of it. With create, missing
 * directories are made (in the current layer) and a non-directory on the
 * way is an error; without, either gives *ret_dir = NULL. */
static int walk(struct rw_inventory *inv, const char *path, size_t len, bool create,
		struct node **ret_dir, struct err *e)
{
	struct node *dir = inv->root, *n;
	const char *p = path, *slash, *comp;
	size_t left = len, cl, tl;
	int hops = 0, buf = 0;

	while (left > 0) {
		slash = memchr(p, '/', left);
		cl = slash ? (size_t)(slash - p) : left;
		comp = p;
		p += cl;
		left -= cl;
		if (left > 0) { /* the '/' */
			p++;
			left--;
		}
		if (cl == 0 || (cl == 1 && comp[0] == '.'))
			continue;
		if (is_dotdot(comp, cl)) {
			if (dir->parent)
				dir = dir->parent;
			continue;
		}
		if (cl > RW_INVENTORY_NAME_MAX) {
			if (!create) {
				*ret_dir = NULL;
				return 0;
			}
			return err_set(e, ERR_INPUT, "a path component is %zu bytes (at most %d)",
				       cl, RW_INVENTORY_NAME_MAX);
		}
		n = lookup(inv, dir, comp, cl);
		if (!n) {
			if (!create) {
				*ret_dir = NULL;
				return 0;
			}
			if (add_node(inv, dir, comp, cl, NODE_DIR, false, NULL, &n, e) < 0)
				return -1;
		}
		if (n->type == NODE_DIR) {
			dir = n;
			continue;
		}
		if (n->type != NODE_SYMLINK) {
			char where[RW_INVENTORY_PATH_MAX];

			if (!create) {
				*ret_dir = NULL;
				return 0;
			}
			node_path(n, where);
			return err_set(
			    e, ERR_INPUT,
			    "'%.200s' is not a directory, so nothing can be put below it "
			    "(no runtime can apply this entry)",
			    where);
		}
		if (++hops > RW_INVENTORY_MAX_SYMLINKS)
			return err_set(e, ERR_INPUT,
				       "more than %d symbolic links on the way (a loop?)",
				       RW_INVENTORY_MAX_SYMLINKS);
		/* Go on with the target followed by the rest, relative to the
		 * symlink's directory or, for an absolute target, the root. */
		tl = strlen(n->link);
		if (tl + 1 + left >= RW_INVENTORY_PATH_MAX)
			return err_set(e, ERR_INPUT,
				       "the path through symbolic links is longer than %d bytes",
				       RW_INVENTORY_PATH_MAX - 1);
		buf ^= 1;
		memcpy(inv->walk[buf], n->link, tl);
		inv->walk[buf][tl] = '/';
		memmove(inv->walk[buf] + tl + 1, p, left);
		p = inv->walk[buf];
		left += tl + 1;
		if (n->link[0] == '/')
			dir = inv->root;
	}
	*ret_dir = dir;
	return 0;
}

/* A tar path made plain: components joined by '/', without "." or empty
 * ones, into out (RW_INVENTORY_PATH_MAX bytes). *ret_last points at the
 * last component in out (at out[len] when there is none: the root). ".."
 * and absolute paths are refused; so is a component over NAME_MAX. */
static int normalize(const char *path, char *out, size_t *ret_len, size_t *ret_last, struct err *e)
{
	const char *p = path, *end;
	size_t len = 0, last = 0, cl;

	if (path[0] == '/')
		return err_set(e, ERR_INPUT, "the path is absolute");
	while (*p) {
		end = strchr(p, '/');
		cl = end ? (size_t)(end - p) : strlen(p);
		if (!(cl == 0 || (cl == 1 && p[0] == '.'))) {
			if (is_dotdot(p, cl))
				return err_set(e, ERR_INPUT, "the path has a '..' component");
			if (cl > RW_INVENTORY_NAME_MAX)
				return err_set(e, ERR_INPUT,
					       "a path component is %zu bytes (at most %d)", cl,
					       RW_INVENTORY_NAME_MAX);
			if (len + (len > 0) + cl >= RW_INVENTORY_PATH_MAX)
				return err_set(e, ERR_INPUT, "the path is longer than %d bytes",
					       RW_INVENTORY_PATH_MAX - 1);
			if (len > 0)
				out[len++] = '/';
			last = len;
			memcpy(out + len, p, cl);
			len += cl;
		}
		p += cl;
		if (*p == '/')
			p++;
	}
	out[len] = '\0';
	*ret_len = len;
	*ret_last = len == 0 ? 0 : last;
	return 0;
}

/* ---- applying entries ---- */

static bool starts_with(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return n >= pl && memcmp(s, prefix, pl) == 0;
}

/* A whiteout in dir (followed, never created): remove what it names from
 * lower layers. */
static int apply_whiteout(struct rw_inventory *inv, const char *dirpath, size_t dirlen,
			  const char *name, size_t len, struct err *e)
{
	struct node *dir, *n;

	if (walk(inv, dirpath, dirlen, false, &dir, e) < 0)
		return -1;
	if (!dir)
		return 0; /* nothing there to remove */
	if (len == strlen(OPAQUE) && memcmp(name, OPAQUE, len) == 0) {
		prune(inv, dir, inv->layer, false);
		return 0;
	}
	if (starts_with(name, len, WHITEOUT_META))
		return 0; /* aufs bookkeeping (.wh..wh.plnk, ...): no file */
	name += WHITEOUT_LEN;
	len -= WHITEOUT_LEN;
	if (len == 0 || (len == 1 && name[0] == '.') || is_dotdot(name, len))
		return 0; /* names nothing that can be removed */
	n = lookup(inv, dir, name, len);
	if (n)
		prune(inv, n, inv->layer, true);
	return 0;
}

/* What a hard link entry becomes: a copy of its target as it is now. */
struct link_target {
	const struct node *node;
	enum node_type type;
	bool exec;
	const char *link;
};

static int hardlink_target(struct rw_inventory *inv, const char *linkname, struct link_target *ret,
			   struct err *e)
{
	char norm[RW_INVENTORY_PATH_MAX];
	struct node *dir, *n = NULL;
	size_t len, last;

	if (normalize(linkname, norm, &len, &last, e) < 0)
		return err_prefix(e, "its target '%.200s'", linkname);
	if (len == 0)
		return err_set(e, ERR_INPUT, "it links to the root directory");
	/* As a runtime does: the target's directories are followed, its
	 * last component is not (a link to a symlink is a symlink). */
	if (walk(inv, norm, last > 0 ? last - 1 : 0, false, &dir, e) < 0)
		return err_prefix(e, "its target '%.200s'", linkname);
	if (dir)
		n = lookup(inv, dir, norm + last, len - last);
	if (!n)
		return err_set(e, ERR_INPUT,
			       "it links to '%.200s', which is not in the image at that point (a "
			       "runtime cannot apply this layer)",
			       linkname);
	if (n->type == NODE_DIR)
		return err_set(e, ERR_INPUT, "it links to the directory '%.200s'", linkname);
	ret->node = n;
	ret->type = (enum node_type)n->type;
	ret->exec = n->exec;
	ret->link = n->link;
	return 0;
}

static bool is_below_or_at(const struct node *n, const struct node *top)
{
	for (; n; n = n->parent)
		if (n == top)
			return true;
	return false;
}

static int apply(struct rw_inventory *inv, const struct ly_entry *ent, struct err *e)
{
	char path[RW_INVENTORY_PATH_MAX], name[RW_INVENTORY_NAME_MAX + 1];
	struct link_target target = {0};
	struct node *dir, *old, *n;
	enum node_type type;
	size_t len, last, nl, dirlen, i;
	char *link_copy = NULL;
	bool exec;
	int rc = -1;

	if (inv->layer == 0)
		return err_set(e, ERR_OPERATIONAL,
			       "internal error: an entry before the first layer");
	if (normalize(ent->path, path, &len, &last, e) < 0)
		return -1;
	if (len == 0)
		return 0; /* the root itself: "./" */
	nl = len - last;
	memcpy(name, path + last, nl);
	name[nl] = '\0';
	dirlen = last > 0 ? last - 1 : 0;
	/* Nothing can live below a whiteout name (they cannot exist). */
	for (i = 0; i < dirlen; i++)
		if ((i == 0 || path[i - 1] == '/') && starts_with(path + i, dirlen - i, WHITEOUT))
			return 0;
	if (starts_with(name, nl, WHITEOUT))
		return apply_whiteout(inv, path, dirlen, name, nl, e);

	switch (ent->type) {
	case LY_ENTRY_DIR:
		type = NODE_DIR;
		break;
	case LY_ENTRY_FILE:
		type = NODE_FILE;
		break;
	case LY_ENTRY_SYMLINK:
		type = NODE_SYMLINK;
		break;
	case LY_ENTRY_HARDLINK:
		if (!ent->linkname)
			return err_set(e, ERR_INPUT, "a hard link without a target");
		if (hardlink_target(inv, ent->linkname, &target, e) < 0)
			return -1;
		type = target.type;
		break;
	default:
		type = NODE_OTHER;
		break;
	}
	exec = ent->type == LY_ENTRY_HARDLINK ? target.exec : (ent->mode & 0111) != 0;
	if (type == NODE_SYMLINK) {
		const char *t = ent->type == LY_ENTRY_HARDLINK ? target.link : ent->linkname;

		if (!t)
			t = "";
		if (strlen(t) >= RW_INVENTORY_PATH_MAX)
			return err_set(e, ERR_INPUT, "the symlink's target is longer than %d bytes",
				       RW_INVENTORY_PATH_MAX - 1);
		/* Copied now: replacing `old` below may free the target. */
		link_copy = strdup(t);
		if (!link_copy)
			return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	if (walk(inv, path, dirlen, true, &dir, e) < 0)
		goto out;
	old = lookup(inv, dir, name, nl);
	if (old) {
		if (old->type == NODE_DIR && type == NODE_DIR) {
			old->layer = inv->layer; /* a directory over one: merged */
			rc = 0;
			goto out;
		}
		if (target.node && is_below_or_at(target.node, old)) {
			err_set(e, ERR_INPUT,
				"it links to '%.200s', which replacing the entry's path removes",
				ent->linkname);
			goto out;
		}
		remove_subtree(inv, old);
	}
	rc = add_node(inv, dir, name, nl, type, exec, link_copy, &n, e);
out:
	free(link_copy);
	return rc;
}

int rw_inventory_apply(struct rw_inventory *inv, const struct ly_entry *ent, struct err *e)
{
	if (apply(inv, ent, e) < 0)
		return err_prefix(e, "layer %u entry '%.200s'", inv->layer, ent->path);
	return 0;
}

int rw_inventory_entry_fn(void *arg, const struct ly_entry *ent, struct err *e)
{
	return rw_inventory_apply(arg, ent, e);
}

void rw_inventory_next_layer(struct rw_inventory *inv)
{
	inv->layer++;
}

/* ---- life cycle ---- */

static void random_key(uint64_t key[2])
{
	struct timespec ts;

	if (getrandom(key, 2 * sizeof(key[0]), GRND_NONBLOCK) == (ssize_t)(2 * sizeof(key[0])))
		return;
	/* No entropy yet (early boot): weaker, still not guessable from a tar. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)key;
	key[1] = (uint64_t)ts.tv_sec * 0xbf58476d1ce4e5b9ull ^ (uint64_t)getpid();
}

int rw_inventory_new(const struct rw_inventory_limits *limits, struct rw_inventory **ret_inv,
		     struct err *e)
{
	struct rw_inventory *inv = calloc(1, sizeof(*inv));

	if (!inv)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	inv->lim = limits ? *limits : rw_inventory_limits_default;
	inv->nbuckets = MIN_BUCKETS;
	inv->buckets = calloc(inv->nbuckets, sizeof(*inv->buckets));
	inv->root = calloc(1, sizeof(*inv->root) + 1);
	if (!inv->buckets || !inv->root) {
		rw_inventory_free(inv);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	inv->root->type = NODE_DIR;
	random_key(inv->key);
	*ret_inv = inv;
	return 0;
}

void rw_inventory_free(struct rw_inventory *inv)
{
	if (!inv)
		return;
	if (inv->root && inv->buckets)
		remove_subtree(inv, inv->root);
	free(inv->root);
	free(inv->buckets);
	free(inv);
}

/* ---- serialising ---- */

void rw_inventory_text_clear(struct rw_inventory_text *t)
{
	if (!t)
		return;
	free(t->data);
	memset(t, 0, sizeof(*t));
}

static int cmp_paths(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: byte order, as the format asks. */
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* /.inlay is inlay's own: its layer replaces whatever the image had there. */
static bool is_inlay(const struct rw_inventory *inv, const struct node *n)
{
	return n->parent == inv->root && n->namelen == strlen(INLAY_DIR) &&
	       memcmp(n->name, INLAY_DIR, n->namelen) == 0;
}

/* Pre-order walk of the listed part of the tree (all but /.inlay): the
 * node after n, or NULL at the end. */
static const struct node *next_listed(const struct rw_inventory *inv, const struct node *n)
{
	if (!is_inlay(inv, n) && n->child)
		return n->child;
	while (n != inv->root && !n->next)
		n = n->parent;
	return n == inv->root ? NULL : n->next;
}

static bool listed(const struct rw_inventory *inv, const struct node *n)
{
	return n->type == NODE_FILE && n->exec && !is_inlay(inv, n);
}

int rw_inventory_serialize(const struct rw_inventory *inv, struct rw_inventory_text *ret,
			   struct err *e)
{
	const size_t hl = strlen(RW_INVENTORY_HEADER);
	const struct node *n;
	size_t count = 0, left_out = 0, bytes = 0, i, pos;
	char *scratch = NULL, *out = NULL, **paths = NULL;
	int rc = -1;

	for (n = inv->root->child; n; n = next_listed(inv, n)) {
		if (!listed(inv, n))
			continue;
		if (n->newline) {
			left_out++;
			continue;
		}
		if (count >= inv->lim.max_entries)
			return err_set(
			    e, ERR_INPUT,
			    "the image has more than %zu executables; instrument without "
			    "--inventory",
			    inv->lim.max_entries);
		count++;
		bytes += (size_t)n->pathlen + 1;
		if (bytes > inv->lim.max_bytes)
			return err_set(e, ERR_INPUT,
				       "the paths of the image's executables take more than %zu "
				       "bytes; instrument without --inventory",
				       inv->lim.max_bytes);
	}
	/* Each path NUL-terminated in scratch for sorting, then copied out
	 * with "\n": a terminator that sorts below every byte of a name. */
	scratch = malloc(bytes ? bytes : 1);
	paths = malloc((count ? count : 1) * sizeof(*paths));
	out = malloc(hl + bytes);
	if (!scratch || !paths || !out) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	pos = 0;
	i = 0;
	for (n = inv->root->child; n; n = next_listed(inv, n)) {
		if (!listed(inv, n) || n->newline)
			continue;
		paths[i++] = scratch + pos;
		node_path(n, scratch + pos);
		pos += (size_t)n->pathlen + 1;
	}
	qsort(paths, count, sizeof(*paths), cmp_paths);
	memcpy(out, RW_INVENTORY_HEADER, hl);
	pos = hl;
	for (i = 0; i < count; i++) {
		size_t l = strlen(paths[i]);

		/* The tree has one node per path; equal neighbours would be
		 * a bug here, and a broken file for the sensor. */
		if (i > 0 && strcmp(paths[i - 1], paths[i]) >= 0) {
			err_set(e, ERR_OPERATIONAL, "internal error: '%.200s' listed twice",
				paths[i]);
			goto out;
		}
		memcpy(out + pos, paths[i], l);
		out[pos + l] = '\n';
		pos += l + 1;
	}
	ret->data = out;
	out = NULL; /* transferred */
	ret->len = pos;
	ret->entries = count;
	ret->left_out = left_out;
	rc = 0;
out:
	free(out);
	free(paths);
	free(scratch);
	return rc;
}

/* ---- from an image's layers ---- */

/* What one layer may hold. The limits are against decompression bombs:
 * the time spent is the uncompressed size. Real layers compress 2 to 10
 * times; 4 GiB plus 64 times the compressed size leaves room for sparse or
 * zero-filled files while a bomb costs at most a few dozen times the bytes
 * its server had to send (capped at 1 TiB). Entries: as many as the tree
 * may hold paths (a layer has few whiteouts on top). Contents are never
 * read. */
static void layer_limits(int64_t size, struct ly_read_limits *lim)
{
	uint64_t total = ((uint64_t)4 << 30) + (uint64_t)size * 64;

	if ((uint64_t)size > ((uint64_t)1 << 40) / 64 || total > ((uint64_t)1 << 40))
		total = (uint64_t)1 << 40;
	lim->max_entries = RW_INVENTORY_MAX_NODES;
	lim->max_entry_bytes = (int64_t)total;
	lim->max_total_bytes = total;
	lim->max_content_bytes = 0;
	/* umoci insert's layers end without them; the digest, checked by
	 * rg_blob_stream, is what says the layer is whole. */
	lim->end_blocks_optional = true;
}

struct layer_read {
	struct rw_inventory *inv;
	enum ly_compression compression;
	struct ly_read_limits lim;
	struct rg_progress *progress;
	rg_read_fn read; /* the stream's, counted on its way to the lister */
	void *src;
	uint64_t seen;
};

static ssize_t counted_read(void *arg, void *buf, size_t n, struct err *e)
{
	struct layer_read *lr = arg;
	ssize_t got = lr->read(lr->src, buf, n, e);

	if (got > 0) {
		lr->seen += (uint64_t)got;
		rg_progress_bytes(lr->progress, (size_t)got);
	}
	return got;
}

static int consume_layer(void *arg, rg_read_fn read, void *src, struct err *e)
{
	struct layer_read *lr = arg;

	lr->read = read;
	lr->src = src;
	return ly_layer_list_stream(counted_read, lr, lr->compression, &lr->lim,
				    rw_inventory_entry_fn, lr->inv, e);
}

static int of_image_once(struct rg_endpoint *src, const struct mf_manifest *m,
			 struct rw_inventory_text *ret, struct rg_stats *stats, struct err *e)
{
	struct rw_inventory *inv = NULL;
	struct rg_progress progress;
	size_t i, n = mf_manifest_layer_count(m);
	uint64_t bytes = 0;
	int rc = -1;

	if (rw_inventory_new(NULL, &inv, e) < 0)
		return -1;
	for (i = 0; i < n; i++)
		bytes += (uint64_t)mf_manifest_layer(m, i)->size;
	rg_progress_start(&progress, src, "inventory: layers", n, bytes);
	for (i = 0; i < n; i++) {
		const struct mf_descriptor *d = mf_manifest_layer(m, i);
		struct layer_read lr = {.inv = inv, .progress = &progress};

		if (ly_compression_from_media_type(d->media_type, &lr.compression, e) < 0) {
			err_prefix(e, "layer %zu (%s): instrument without --inventory", i + 1,
				   d->digest);
			goto out;
		}
		layer_limits(d->size, &lr.lim);
		rw_inventory_next_layer(inv);
		if (rg_blob_stream(src, d->digest, d->size, consume_layer, &lr, stats, e) < 0) {
			err_prefix(e, "inventory: layer %zu of %zu (%s)", i + 1, n, d->digest);
			goto out;
		}
		/* The lister may stop early; the stream reads the rest. */
		rg_progress_item_done(&progress, (uint64_t)d->size - lr.seen);
	}
	if (rw_inventory_serialize(inv, ret, e) < 0) {
		err_prefix(e, "inventory");
		goto out;
	}
	rc = 0;
out:
	rg_progress_end(&progress);
	rw_inventory_free(inv);
	return rc;
}

int rw_inventory_of_image(struct rg_endpoint *src, const struct mf_manifest *m,
			  struct rw_inventory_text *ret, struct rg_stats *stats, struct err *e)
{
	int attempt;

	for (attempt = 1;; attempt++) {
		err_clear(e);
		if (of_image_once(src, m, ret, stats, e) == 0)
			return 0;
		/* Only a broken transfer is worth another go: bad bytes, a
		 * missing blob or refused access stay what they are. */
		if (e->cls != ERR_OPERATIONAL || (e->http_status >= 400 && e->http_status < 500) ||
		    attempt >= ATTEMPTS)
			return -1;
		usleep(250000u << attempt);
	}
}
