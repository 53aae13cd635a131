/* layout.c - the OCI image layout transport: "oci:PATH[:TAG]" (see layout.h,
 * transport.h).
 *
 * On disk (OCI image-layout 1.0): PATH/oci-layout, PATH/index.json (an OCI
 * index whose descriptors are named by the org.opencontainers.image.ref.name
 * annotation: the tags), PATH/blobs/<alg>/<hex>.
 *
 * Every file that becomes visible is first written under a temporary name in
 * its final directory, fsync'd, then renamed (or linked) into place: readers
 * (inlay, skopeo, umoci) never see half a blob or half an index, and an upload
 * that fails or does not match its digest leaves nothing under the digest.
 * index.json is read-modified-written under an exclusive flock on the layout
 * directory, so concurrent inlay processes do not lose each other's tags.
 * Blob operations share no mutable state and may run on several threads.
 */
#include "layout.h"
#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../layers/hash.h"
#include "../manifest/digest.h"
#include "../manifest/mediatype.h"

#define CHUNK_BYTES (256u * 1024)   /* blob read and write unit */
#define OCI_LAYOUT_MAX (64u * 1024) /* the oci-layout file is a one-line object */
#define MEDIA_TYPE_MAX 255	    /* RFC 6838: 127 + '/' + 127 */
#define TMP_PREFIX ".inlay-tmp-"    /* our temporary files; never a valid blob name */
#define LAYOUT_VERSION "1.0.0"

struct rg_transport {
	char *dir; /* the layout directory, without trailing '/' (except "/") */
};

/* ---- files ---- */

static int join_path(char out[PATH_MAX], const struct rg_transport *t, const char *rest,
		     struct err *e)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", t->dir, rest);

	if (n < 0 || n >= PATH_MAX)
		return err_set(e, ERR_INPUT, "oci:%.200s: path too long", t->dir);
	return 0;
}

/* PATH/blobs/<alg>/<hex> of a digest, into path; its directory into dir when
 * dir is not NULL. The digest is validated first: a valid digest holds only
 * [a-z0-9:], so the path cannot leave the layout. */
static int blob_path(const struct rg_transport *t, const char *digest, char path[PATH_MAX],
		     char dir[PATH_MAX], struct err *e)
{
	char alg[8];
	const char *hex;
	int n;

	if (!digest)
		return err_set(e, ERR_INPUT, "oci:%.200s: no blob digest given", t->dir);
	if (mf_digest_check(digest, "blob digest", e) < 0)
		return err_prefix(e, "oci:%.200s", t->dir);
	mf_digest_algorithm(digest, alg);
	hex = mf_digest_hex(digest);
	/* The path safety of the whole layout rests on this; check it here
	 * too rather than trust a validator in another module. */
	if (strspn(hex, "0123456789abcdef") != strlen(hex) ||
	    strspn(alg, "sha0123456789") != strlen(alg))
		return err_set(e, ERR_INPUT, "oci:%.200s: '%.80s' is not a valid digest", t->dir,
			       digest);
	n = snprintf(path, PATH_MAX, "%s/blobs/%s/%s", t->dir, alg, hex);
	if (n < 0 || n >= PATH_MAX)
		return err_set(e, ERR_INPUT, "oci:%.200s: path too long", t->dir);
	if (dir)
		snprintf(dir, PATH_MAX, "%s/blobs/%s", t->dir, alg);
	return 0;
}

static int write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Make a rename or link in dir durable. */
static int fsync_dir(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_sys(e, ERR_OPERATIONAL, "cannot open directory %.300s", dir);
	if (fsync(fd) < 0 && errno != EINVAL) {
		err_sys(e, ERR_OPERATIONAL, "cannot sync directory %.300s", dir);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* mkdir -p with mode for every directory created. */
static int mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path), i;

	if (len >= sizeof(tmp))
		return err_set(e, ERR_INPUT, "path too long: %.200s...", path);
	memcpy(tmp, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		if (tmp[i - 1] == '/')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return err_sys(e, ERR_OPERATIONAL, "cannot create directory %.300s", tmp);
		tmp[i] = path[i];
	}
	return 0;
}

/* Open a new temporary file in dir; its name is left in tmp. */
static int open_temp(const char *dir, char tmp[PATH_MAX], struct err *e)
{
	int fd, n = snprintf(tmp, PATH_MAX, "%s/" TMP_PREFIX "XXXXXX", dir);

	if (n < 0 || n >= PATH_MAX)
		return err_set(e, ERR_INPUT, "path too long: %.200s...", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_OPERATIONAL, "cannot create a file in %.300s", dir);
	/* Layout files are for every reader, like skopeo's and umoci's. */
	if (fchmod(fd, 0644) < 0) {
		err_sys(e, ERR_OPERATIONAL, "cannot set the mode of %.300s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

/* Write data to dir/name durably. With replace, an existing file is replaced
 * atomically (rename); without, an existing file is kept as it is (link
 * fails with EEXIST), so a file someone else just created is never
 * clobbered. */
static int publish_file(const char *dir, const char *name, const void *data, size_t len,
			bool replace, struct err *e)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	int fd, n, rc = -1;

	n = snprintf(final, sizeof(final), "%s/%s", dir, name);
	if (n < 0 || n >= PATH_MAX)
		return err_set(e, ERR_INPUT, "path too long: %.200s...", dir);
	fd = open_temp(dir, tmp, e);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		err_sys(e, ERR_OPERATIONAL, "cannot write %.300s", final);
		goto out;
	}
	if (replace) {
		if (rename(tmp, final) < 0) {
			err_sys(e, ERR_OPERATIONAL, "cannot rename %.200s to %.200s", tmp, final);
			goto out;
		}
		tmp[0] = '\0'; /* the name is gone; another writer may reuse it */
	} else if (link(tmp, final) < 0 && errno != EEXIST) {
		/* Some file systems have no hard links: take the small race of
		 * a check then rename instead. */
		if (access(final, F_OK) == 0) {
			/* someone else created it: keep theirs */
		} else if (rename(tmp, final) < 0) {
			err_sys(e, ERR_OPERATIONAL, "cannot create %.300s", final);
			goto out;
		} else {
			tmp[0] = '\0';
		}
	}
	if (fsync_dir(dir, e) < 0)
		goto out;
	rc = 0;
out:
	close(fd);
	if (tmp[0])
		unlink(tmp);
	return rc;
}

/* Read a whole regular file into out, at most max bytes (and within out's
 * own limit). On failure e->sys_errno tells ENOENT apart. `what` names the
 * file in messages. */
static int read_file(const char *path, const char *what, size_t max, struct buf *out, struct err *e)
{
	char chunk[16384];
	struct stat st;
	int fd, rc = -1;

	if (out->max < max)
		max = out->max;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_OPERATIONAL, "cannot open %s", what);
	if (fstat(fd, &st) < 0) {
		err_sys(e, ERR_OPERATIONAL, "cannot stat %s", what);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, ERR_INPUT, "%s is not a regular file", what);
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		err_set(e, ERR_INPUT, "%s is %jd bytes, more than the %zu inlay accepts", what,
			(intmax_t)st.st_size, max);
		goto out;
	}
	buf_reset(out);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_sys(e, ERR_OPERATIONAL, "cannot read %s", what);
			goto out;
		}
		if (n == 0)
			break;
		/* The file may grow after fstat: the limit still holds. */
		if (out->len + (size_t)n > max || buf_append(out, chunk, (size_t)n) < 0) {
			err_set(e, ERR_INPUT, "%s grew past the %zu bytes inlay accepts", what,
				max);
			goto out;
		}
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static bool is_missing(const struct err *e)
{
	return e->sys_errno == ENOENT || e->sys_errno == ENOTDIR;
}

/* ---- oci-layout ---- */

/* Validate an existing PATH/oci-layout. A missing one means "no image here":
 * ERR_OPERATIONAL with http_status 404, as a registry would answer. */
static int layout_check(const struct rg_transport *t, struct err *e)
{
	char path[PATH_MAX], what[PATH_MAX + 16];
	json_error_t je;
	json_t *root = NULL, *v;
	struct buf b;
	int rc = -1;

	buf_init(&b, OCI_LAYOUT_MAX);
	if (join_path(path, t, "oci-layout", e) < 0)
		goto out;
	snprintf(what, sizeof(what), "oci:%.200s/oci-layout", t->dir);
	if (read_file(path, what, OCI_LAYOUT_MAX, &b, e) < 0) {
		if (is_missing(e)) {
			err_set(e, ERR_OPERATIONAL,
				"oci:%.200s: not an OCI image layout (no oci-layout file)", t->dir);
			e->http_status = 404;
		}
		goto out;
	}
	root = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		err_set(e, ERR_INPUT, "%s: not valid JSON (line %d: %s)", what, je.line, je.text);
		goto out;
	}
	v = json_object_get(root, "imageLayoutVersion");
	if (!json_is_object(root) || !json_is_string(v)) {
		err_set(e, ERR_INPUT, "%s: no imageLayoutVersion: not an OCI image layout", what);
		goto out;
	}
	/* Minor versions add fields a 1.0 reader may ignore. */
	if (strncmp(json_string_value(v), "1.", 2) != 0) {
		err_set(e, ERR_INPUT,
			"%s: imageLayoutVersion '%.40s' is not supported (inlay reads 1.x)", what,
			json_string_value(v));
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	buf_free(&b);
	return rc;
}

/* Entries a directory may hold while a layout is being created in it (by us,
 * or by another writer racing us: its oci-layout may appear at any time). */
static bool layout_entry(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strcmp(name, "blobs") == 0 ||
	       strcmp(name, "index.json") == 0 || strcmp(name, "oci-layout") == 0 ||
	       strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0;
}

/* Refuse to turn a directory holding unrelated files into a layout: a typo in
 * oci:PATH must not scatter blobs through someone's home directory. */
static int check_empty(const struct rg_transport *t, struct err *e)
{
	struct dirent *de;
	DIR *d = opendir(t->dir);
	int rc = 0;

	if (!d)
		return err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot read the directory", t->dir);
	while ((de = readdir(d)) != NULL) {
		if (layout_entry(de->d_name))
			continue;
		rc = err_set(
		    e, ERR_INPUT,
		    "oci:%.200s: the directory holds other files ('%.60s') and no oci-layout "
		    "file, so it is not an OCI image layout; name a new or empty directory",
		    t->dir, de->d_name);
		break;
	}
	closedir(d);
	return rc;
}

/* Create what a write needs and is missing: the directory, oci-layout,
 * blobs/<alg>/ and an empty index.json. Safe against concurrent creators. */
static int layout_ensure(const struct rg_transport *t, const char *alg, struct err *e)
{
	static const char layout_json[] = "{\"imageLayoutVersion\":\"" LAYOUT_VERSION "\"}";
	static const char empty_index[] =
	    "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[]}";
	char path[PATH_MAX];
	struct stat st;

	if (mkdir_p(t->dir, 0755, e) < 0)
		return err_prefix(e, "oci:%.200s", t->dir);
	if (join_path(path, t, "oci-layout", e) < 0)
		return -1;
	if (stat(path, &st) == 0) {
		if (layout_check(t, e) < 0)
			return -1;
	} else {
		if (errno != ENOENT)
			return err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot stat oci-layout",
				       t->dir);
		if (check_empty(t, e) < 0)
			return -1;
		if (publish_file(t->dir, "oci-layout", layout_json, strlen(layout_json), false, e) <
		    0)
			return err_prefix(e, "oci:%.200s", t->dir);
	}
	snprintf(path, sizeof(path), "%s/blobs/%s", t->dir, alg);
	if (mkdir_p(path, 0755, e) < 0)
		return err_prefix(e, "oci:%.200s", t->dir);
	if (join_path(path, t, "index.json", e) < 0)
		return -1;
	if (access(path, F_OK) < 0 &&
	    publish_file(t->dir, "index.json", empty_index, strlen(empty_index), false, e) < 0)
		return err_prefix(e, "oci:%.200s", t->dir);
	return 0;
}

/* ---- index.json ---- */

int rg_layout_check_tag(const char *tag, struct err *e)
{
	static const char first[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
	static const char rest[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	size_t len = tag ? strlen(tag) : 0;

	if (len == 0 || len > RG_LAYOUT_TAG_MAX || !strchr(first, tag[0]) ||
	    strspn(tag, rest) != len)
		return err_set(e, ERR_INPUT,
			       "'%.130s' is not a valid tag (letters, digits, '_', '.', '-', not "
			       "starting with '.' or '-'; at most %d)",
			       tag ? tag : "", RG_LAYOUT_TAG_MAX);
	return 0;
}

static int check_descriptor(json_t *d, size_t i, const char *what, struct err *e)
{
	json_t *mt = json_object_get(d, "mediaType"), *dg = json_object_get(d, "digest");
	json_t *size = json_object_get(d, "size"), *ann = json_object_get(d, "annotations");
	const char *key;
	json_t *v;

	if (!json_is_object(d))
		return err_set(e, ERR_INPUT, "%s: manifests[%zu] is not an object", what, i);
	if (!json_is_string(mt) || json_string_length(mt) == 0 ||
	    json_string_length(mt) > MEDIA_TYPE_MAX)
		return err_set(e, ERR_INPUT, "%s: manifests[%zu].mediaType is missing or invalid",
			       what, i);
	if (!json_is_string(dg) || !mf_digest_valid(json_string_value(dg)))
		return err_set(e, ERR_INPUT,
			       "%s: manifests[%zu].digest is missing or not a valid digest", what,
			       i);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return err_set(e, ERR_INPUT,
			       "%s: manifests[%zu].size is missing or not a non-negative integer",
			       what, i);
	if (!ann)
		return 0;
	if (!json_is_object(ann))
		return err_set(e, ERR_INPUT, "%s: manifests[%zu].annotations is not an object",
			       what, i);
	json_object_foreach(ann, key, v)
	{
		if (!json_is_string(v))
			return err_set(e, ERR_INPUT,
				       "%s: manifests[%zu].annotations[\"%.80s\"] is not a string",
				       what, i, key);
	}
	return 0;
}

int rg_layout_index_parse(const void *data, size_t len, const char *what, json_t **ret_index,
			  struct err *e)
{
	json_t *root = NULL, *v, *ms;
	json_error_t je;
	size_t i;
	int rc = -1;

	if (len > RG_LAYOUT_INDEX_MAX)
		return err_set(e, ERR_INPUT, "%s: %zu bytes, more than the %u inlay accepts", what,
			       len, RG_LAYOUT_INDEX_MAX);
	root = json_loadb(len ? data : "", len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		err_set(e, ERR_INPUT, "%s: not valid JSON (line %d, column %d: %s)", what, je.line,
			je.column, je.text);
		goto out;
	}
	if (!json_is_object(root)) {
		err_set(e, ERR_INPUT, "%s: not a JSON object", what);
		goto out;
	}
	v = json_object_get(root, "schemaVersion");
	if (!json_is_integer(v) || json_integer_value(v) != 2) {
		err_set(e, ERR_INPUT, "%s: schemaVersion must be 2", what);
		goto out;
	}
	v = json_object_get(root, "mediaType");
	if (v && (!json_is_string(v) || strcmp(json_string_value(v), MT_OCI_INDEX) != 0)) {
		err_set(e, ERR_INPUT, "%s: mediaType must be %s", what, MT_OCI_INDEX);
		goto out;
	}
	ms = json_object_get(root, "manifests");
	if (!json_is_array(ms)) {
		err_set(e, ERR_INPUT, "%s: \"manifests\" is missing or not an array", what);
		goto out;
	}
	for (i = 0; i < json_array_size(ms); i++)
		if (check_descriptor(json_array_get(ms, i), i, what, e) < 0)
			goto out;
	*ret_index = root;
	root = NULL; /* transferred */
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* The ref.name of a descriptor, or NULL. */
static const char *descriptor_tag(json_t *d)
{
	return json_string_value(json_object_get(json_object_get(d, "annotations"), ANN_REF_NAME));
}

static const char *descriptor_digest(json_t *d)
{
	return json_string_value(json_object_get(d, "digest"));
}

int rg_layout_index_find(json_t *index, const char *tag, json_t **ret_desc, struct err *e)
{
	json_t *ms = json_object_get(index, "manifests"), *d, *found = NULL;
	const char *name, *a, *b;
	size_t i;

	json_array_foreach(ms, i, d)
	{
		name = descriptor_tag(d);
		if (!name || strcmp(name, tag) != 0)
			continue;
		if (!found) {
			found = d;
			continue;
		}
		a = descriptor_digest(found);
		b = descriptor_digest(d);
		if (!a || !b || strcmp(a, b) != 0)
			return err_set(e, ERR_INPUT,
				       "tag '%.130s' names several different manifests (%.80s and "
				       "%.80s)",
				       tag, a ? a : "?", b ? b : "?");
	}
	if (!found)
		return 0;
	*ret_desc = found;
	return 1;
}

int rg_layout_index_set_tag(json_t *index, const char *tag, const char *media_type,
			    const char *digest, int64_t size, struct err *e)
{
	json_t *ms = json_object_get(index, "manifests"), *desc, *d, *ann;
	const char *name;
	size_t i = 0, at = (size_t)-1;

	if (!json_is_array(ms))
		return err_set(e, ERR_INPUT, "index.json has no \"manifests\" array");
	desc = json_pack("{s:s, s:s, s:I, s:{s:s}}", "mediaType", media_type, "digest", digest,
			 "size", (json_int_t)size, "annotations", ANN_REF_NAME, tag);
	if (!desc)
		return err_set(e, ERR_OPERATIONAL, "out of memory building index.json");
	while (i < json_array_size(ms)) {
		d = json_array_get(ms, i);
		name = descriptor_tag(d);
		if (!name || strcmp(name, tag) != 0) {
			i++;
			continue;
		}
		if (at == (size_t)-1)
			at = i;
		ann = json_object_get(d, "annotations");
		/* A descriptor only there for the tag goes; one that says
		 * more keeps what it says. */
		if (json_object_size(ann) > 1) {
			json_object_del(ann, ANN_REF_NAME);
			i++;
		} else {
			json_array_remove(ms, i);
		}
	}
	if ((at == (size_t)-1 ? json_array_append_new(ms, desc)
			      : json_array_insert_new(ms, at, desc)) < 0)
		return err_set(e, ERR_OPERATIONAL, "out of memory building index.json");
	return 0;
}

/* Load PATH/index.json into *ret_index, or NULL when there is none. */
static int index_load(const struct rg_transport *t, json_t **ret_index, struct err *e)
{
	char path[PATH_MAX], what[PATH_MAX + 16];
	json_t *index = NULL;
	struct buf b;
	int rc = -1;

	buf_init(&b, RG_LAYOUT_INDEX_MAX);
	if (join_path(path, t, "index.json", e) < 0)
		goto out;
	snprintf(what, sizeof(what), "oci:%.200s/index.json", t->dir);
	if (read_file(path, what, RG_LAYOUT_INDEX_MAX, &b, e) < 0) {
		if (!is_missing(e))
			goto out;
	} else if (rg_layout_index_parse(b.data ? b.data : "", b.len, what, &index, e) < 0) {
		goto out;
	}
	*ret_index = index;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

static int index_store(const struct rg_transport *t, json_t *index, struct err *e)
{
	char *text = json_dumps(index, JSON_COMPACT);
	int rc = -1;

	if (!text)
		return err_set(e, ERR_OPERATIONAL, "out of memory writing index.json");
	/* What we write must be what we would read back. */
	if (strlen(text) > RG_LAYOUT_INDEX_MAX) {
		err_set(e, ERR_INPUT, "oci:%.200s/index.json would grow past %u bytes", t->dir,
			RG_LAYOUT_INDEX_MAX);
		goto out;
	}
	if (publish_file(t->dir, "index.json", text, strlen(text), true, e) < 0) {
		err_prefix(e, "oci:%.200s", t->dir);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

/* Change index.json (NULL when there is none yet) with change(), under
 * the layout's lock, and store it. The lock is on the directory itself:
 * every writer has it, and no lock file is left among the layout's files. */
static int index_update(const struct rg_transport *t,
			int (*change)(const struct rg_transport *t, json_t **index, void *arg,
				      struct err *e),
			void *arg, struct err *e)
{
	json_t *index = NULL;
	int fd, rc = -1;

	fd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot open the layout", t->dir);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot lock the layout", t->dir);
			goto out;
		}
	}
	if (index_load(t, &index, e) < 0 || change(t, &index, arg, e) < 0 ||
	    index_store(t, index, e) < 0)
		goto out;
	rc = 0;
out:
	json_decref(index);
	close(fd); /* releases the lock */
	return rc;
}

struct tag_change {
	const char *tag, *media_type, *digest;
	int64_t size;
};

static int set_tag(const struct rg_transport *t, json_t **index, void *arg, struct err *e)
{
	const struct tag_change *c = arg;

	if (!*index) {
		*index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
				   "manifests");
		if (!*index)
			return err_set(e, ERR_OPERATIONAL, "out of memory building index.json");
	}
	if (rg_layout_index_set_tag(*index, c->tag, c->media_type, c->digest, c->size, e) < 0)
		return err_prefix(e, "oci:%.200s", t->dir);
	return 0;
}

/* Name (media_type, digest, size) `tag` in index.json. */
static int index_tag(const struct rg_transport *t, const char *tag, const char *media_type,
		     const char *digest, int64_t size, struct err *e)
{
	struct tag_change c = {tag, media_type, digest, size};

	return index_update(t, set_tag, &c, e);
}

/* Drop every top-level entry naming the digest (arg); none is 404. */
static int drop_digest(const struct rg_transport *t, json_t **index, void *arg, struct err *e)
{
	json_t *ms = json_object_get(*index, "manifests");
	size_t i = 0, dropped = 0;

	while (i < json_array_size(ms)) {
		const char *dg = descriptor_digest(json_array_get(ms, i));

		if (dg && strcmp(dg, arg) == 0) {
			json_array_remove(ms, i);
			dropped++;
		} else {
			i++;
		}
	}
	if (dropped == 0) {
		err_set(e, ERR_OPERATIONAL, "oci:%.200s: no manifest %s in index.json", t->dir,
			(const char *)arg);
		e->http_status = 404;
		return -1;
	}
	return 0;
}

/* The descriptor of digest among index's top-level manifests, or NULL. */
static json_t *index_find_digest(json_t *index, const char *digest)
{
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(index, "manifests"), i, d)
	{
		const char *dg = descriptor_digest(d);

		if (dg && strcmp(dg, digest) == 0)
			return d;
	}
	return NULL;
}

/* For "no such tag": the tags there are, to say what could be meant. */
static void list_tags(json_t *index, char *out, size_t n)
{
	size_t i, len = 0, count = 0;
	json_t *d;

	out[0] = '\0';
	json_array_foreach(json_object_get(index, "manifests"), i, d)
	{
		const char *name = descriptor_tag(d);
		int w;

		if (!name)
			continue;
		if (count == 8) {
			snprintf(out + len, n - len, ", ...");
			return;
		}
		w = snprintf(out + len, n - len, "%s%.60s", count ? ", " : "", name);
		if (w < 0 || (size_t)w >= n - len)
			return;
		len += (size_t)w;
		count++;
	}
	if (count == 0)
		snprintf(out, n, "none");
}

/* ---- transport operations ---- */

static int layout_manifest_get(struct rg_transport *t, const char *reference, struct buf *out,
			       char **ret_media_type, char **ret_digest, struct err *e)
{
	char path[PATH_MAX], what[PATH_MAX + 16], tags[400];
	char *media_type = NULL, *digest = NULL;
	json_t *index = NULL, *desc = NULL, *doc = NULL;
	const char *dg, *mt;
	bool by_tag = !reference || !strchr(reference, ':');
	int rc = -1, found;

	if (!reference) {
		err_set(e, ERR_INPUT, "oci:%.200s: no tag or digest given", t->dir);
		goto out;
	}
	if (layout_check(t, e) < 0 || index_load(t, &index, e) < 0)
		goto out;
	if (!by_tag) {
		if (blob_path(t, reference, path, NULL, e) < 0)
			goto out;
		dg = reference;
		desc = index ? index_find_digest(index, reference) : NULL;
	} else {
		if (rg_layout_check_tag(reference, e) < 0) {
			err_prefix(e, "oci:%.200s", t->dir);
			goto out;
		}
		found = index ? rg_layout_index_find(index, reference, &desc, e) : 0;
		if (found < 0) {
			err_prefix(e, "oci:%.200s/index.json", t->dir);
			goto out;
		}
		if (found == 0) {
			list_tags(index, tags, sizeof(tags));
			err_set(e, ERR_OPERATIONAL, "oci:%.200s: no image tagged '%s' (tags: %s)",
				t->dir, reference, index ? tags : "none, index.json is missing");
			e->http_status = 404;
			goto out;
		}
		dg = descriptor_digest(desc);
		if (blob_path(t, dg, path, NULL, e) < 0)
			goto out;
	}
	snprintf(what, sizeof(what), "oci:%.200s: manifest %s", t->dir, dg);
	if (read_file(path, what, out->max, out, e) < 0) {
		if (is_missing(e)) {
			if (by_tag) {
				/* A tag naming a missing blob: the layout is
				 * broken, which is not "no such image". */
				err_set(e, ERR_OPERATIONAL,
					"oci:%.200s: tag '%s' names %s, whose blob is missing",
					t->dir, reference, dg);
			} else {
				err_set(e, ERR_OPERATIONAL, "oci:%.200s: no manifest %s", t->dir,
					dg);
				e->http_status = 404;
			}
		}
		goto out;
	}
	mt = desc ? json_string_value(json_object_get(desc, "mediaType")) : NULL;
	if (!mt) {
		/* Not named in index.json (a child of an index): the blob
		 * says what it is. */
		doc = json_loadb(out->data ? out->data : "", out->len, 0, NULL);
		if (!json_is_object(doc)) {
			err_set(e, ERR_INPUT,
				"oci:%.200s: blob %s is not a manifest (not a JSON object)", t->dir,
				dg);
			goto out;
		}
		mt = json_string_value(json_object_get(doc, "mediaType"));
	}
	if ((mt && !(media_type = strdup(mt))) || !(digest = strdup(dg))) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	*ret_media_type = media_type;
	media_type = NULL; /* transferred */
	*ret_digest = digest;
	digest = NULL; /* transferred */
	rc = 0;
out:
	json_decref(doc);
	json_decref(index);
	free(media_type);
	free(digest);
	return rc;
}

/* Write size bytes (-1: unknown) from source to blobs/<alg>/<hex>, verified
 * against digest before they become visible. */
static int layout_blob_upload(struct rg_transport *t, const char *digest, int64_t size,
			      rg_source_fn source, void *ctx, struct err *e)
{
	char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX], got[LY_DIGEST_MAX], alg[8];
	struct ly_hash *h = NULL;
	char *chunk = NULL;
	uint64_t total = 0;
	int fd = -1, rc = -1;

	if (blob_path(t, digest, path, dir, e) < 0)
		return -1;
	if (size < -1)
		return err_set(e, ERR_INPUT, "oci:%.200s: blob %s: invalid size %jd", t->dir,
			       digest, (intmax_t)size);
	mf_digest_algorithm(digest, alg);
	if (layout_ensure(t, alg, e) < 0)
		return -1;
	if (ly_hash_new_for(digest, &h, e) < 0)
		return -1;
	chunk = malloc(CHUNK_BYTES);
	if (!chunk) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	fd = open_temp(dir, tmp, e);
	if (fd < 0) {
		err_prefix(e, "oci:%.200s: blob %s", t->dir, digest);
		goto out;
	}
	for (;;) {
		ssize_t n = source(ctx, chunk, CHUNK_BYTES);

		if (n < 0 || n > (ssize_t)CHUNK_BYTES) {
			err_set(e, ERR_OPERATIONAL, "oci:%.200s: upload of blob %s was aborted",
				t->dir, digest);
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (size >= 0 && total > (uint64_t)size) {
			err_set(
			    e, ERR_VERIFY,
			    "oci:%.200s: blob %s: more bytes than the %jd announced; nothing was "
			    "stored",
			    t->dir, digest, (intmax_t)size);
			goto out;
		}
		ly_hash_update(h, chunk, (size_t)n);
		if (write_all(fd, chunk, (size_t)n) < 0) {
			err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot write blob %s", t->dir,
				digest);
			goto out;
		}
	}
	if (size >= 0 && total != (uint64_t)size) {
		err_set(
		    e, ERR_VERIFY,
		    "oci:%.200s: blob %s: %ju bytes received, %jd announced; nothing was stored",
		    t->dir, digest, (uintmax_t)total, (intmax_t)size);
		goto out;
	}
	ly_hash_final(h, got);
	if (strcmp(got, digest) != 0) {
		err_set(e, ERR_VERIFY,
			"oci:%.200s: blob content does not match digest %s (got %s); nothing was "
			"stored",
			t->dir, digest, got);
		goto out;
	}
	if (fsync(fd) < 0) {
		err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot write blob %s", t->dir, digest);
		goto out;
	}
	/* Replacing an existing blob is harmless: same name, same bytes. */
	if (rename(tmp, path) < 0) {
		err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot store blob %s", t->dir, digest);
		goto out;
	}
	tmp[0] = '\0';
	if (fsync_dir(dir, e) < 0) {
		err_prefix(e, "oci:%.200s", t->dir);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
		if (tmp[0])
			unlink(tmp);
	}
	free(chunk);
	ly_hash_free(h);
	return rc;
}

struct memory_source {
	const char *data;
	size_t len, pos;
};

static ssize_t memory_read(void *ctx, void *data, size_t n)
{
	struct memory_source *m = ctx;

	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(data, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int layout_manifest_put(struct rg_transport *t, const char *reference, const void *data,
			       size_t len, const char *media_type, struct err *e)
{
	char digest[LY_DIGEST_MAX];
	struct memory_source m = {data, len, 0};
	bool by_digest;

	if (!reference || !data)
		return err_set(e, ERR_INPUT, "oci:%.200s: no manifest or reference given", t->dir);
	if (len > LIMIT_MANIFEST_BYTES)
		return err_set(e, ERR_INPUT,
			       "oci:%.200s: manifest of %zu bytes, more than the %u allowed",
			       t->dir, len, LIMIT_MANIFEST_BYTES);
	by_digest = strchr(reference, ':') != NULL;
	if (by_digest) {
		/* The upload checks the bytes against this digest. */
		if (mf_digest_check(reference, "manifest digest", e) < 0)
			return err_prefix(e, "oci:%.200s", t->dir);
		snprintf(digest, sizeof(digest), "%s", reference);
	} else {
		if (rg_layout_check_tag(reference, e) < 0)
			return err_prefix(e, "oci:%.200s", t->dir);
		if (!media_type || !*media_type || strlen(media_type) > MEDIA_TYPE_MAX)
			return err_set(e, ERR_INPUT,
				       "oci:%.200s:%s: the manifest has no media type", t->dir,
				       reference);
		ly_sha256_digest(data, len, digest);
	}
	if (layout_blob_upload(t, digest, (int64_t)len, memory_read, &m, e) < 0)
		return -1;
	if (by_digest)
		return 0;
	return index_tag(t, reference, media_type, digest, (int64_t)len, e);
}

static int layout_blob_exists(struct rg_transport *t, const char *digest, int64_t *ret_size,
			      struct err *e)
{
	char path[PATH_MAX];
	struct stat st;

	if (blob_path(t, digest, path, NULL, e) < 0)
		return -1;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot stat blob %s", t->dir,
			       digest);
	}
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INPUT, "oci:%.200s: blob %s is not a regular file", t->dir,
			       digest);
	if (ret_size)
		*ret_size = (int64_t)st.st_size;
	return 1;
}

static int layout_blob_open(struct rg_transport *t, const char *digest, int *ret_fd,
			    int64_t *ret_size, struct err *e)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	if (blob_path(t, digest, path, NULL, e) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot open blob %s",
				       t->dir, digest);
		err_set(e, ERR_OPERATIONAL, "oci:%.200s: no blob %s", t->dir, digest);
		e->http_status = 404;
		return 0;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, ERR_INPUT, "oci:%.200s: blob %s is not a regular file", t->dir,
			       digest);
	}
	*ret_fd = fd;
	*ret_size = (int64_t)st.st_size;
	return 1;
}

static int layout_blob_fetch(struct rg_transport *t, const char *digest, uint64_t offset,
			     rg_sink_fn sink, void *ctx, struct err *e)
{
	char *chunk = NULL;
	int64_t size;
	int fd = -1, rc = -1, r;

	r = layout_blob_open(t, digest, &fd, &size, e);
	if (r <= 0)
		return -1;
	if (offset && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot seek in blob %s", t->dir, digest);
		close(fd);
		return -1;
	}
	chunk = malloc(CHUNK_BYTES);
	if (!chunk) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, CHUNK_BYTES);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_sys(e, ERR_OPERATIONAL, "oci:%.200s: cannot read blob %s", t->dir,
				digest);
			goto out;
		}
		if (n == 0)
			break;
		if (sink(ctx, chunk, (size_t)n) < 0) {
			err_set(e, ERR_OPERATIONAL, "oci:%.200s: reading blob %s was aborted",
				t->dir, digest);
			goto out;
		}
	}
	rc = 0;
out:
	free(chunk);
	close(fd);
	return rc;
}

static int layout_manifest_delete(struct rg_transport *t, const char *digest, struct err *e)
{
	if (layout_check(t, e) < 0)
		return -1;
	return index_update(t, drop_digest, (void *)digest, e);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The tags of index.json as a registry lists them: {"tags": [...]},
 * sorted, n after last. */
static int layout_tags_list(struct rg_transport *t, int n, const char *last, struct buf *out,
			    bool *ret_more, struct err *e)
{
	json_t *index = NULL, *doc = NULL, *d, *tags = json_array();
	const char **names = NULL;
	size_t i, k = 0, count = 0;
	char *text = NULL;
	int rc = -1;

	if (!tags || layout_check(t, e) < 0 || index_load(t, &index, e) < 0)
		goto out;
	names = calloc(json_array_size(json_object_get(index, "manifests")) + 1, sizeof(*names));
	if (!names) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	json_array_foreach(json_object_get(index, "manifests"), i, d)
		if (descriptor_tag(d))
			names[k++] = descriptor_tag(d);
	qsort(names, k, sizeof(*names), by_string);
	*ret_more = false;
	for (i = 0; i < k; i++) {
		if ((last && strcmp(names[i], last) <= 0) || (i > 0 && strcmp(names[i], names[i - 1]) == 0))
			continue;
		if (n > 0 && count == (size_t)n) {
			*ret_more = true;
			break;
		}
		json_array_append_new(tags, json_string(names[i]));
		count++;
	}
	doc = json_pack("{s:O}", "tags", tags);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (!text || buf_append(out, text, strlen(text)) < 0) {
		err_set(e, ERR_OPERATIONAL, "oci:%.200s: the tag list does not fit in memory",
			t->dir);
		goto out;
	}
	rc = 0;
out:
	free(text);
	free(names);
	json_decref(doc);
	json_decref(tags);
	json_decref(index);
	return rc;
}

static void layout_free(struct rg_transport *t)
{
	if (!t)
		return;
	free(t->dir);
	free(t);
}

static const struct rg_transport_ops layout_ops = {
    .manifest_get = layout_manifest_get,
    .manifest_put = layout_manifest_put,
    .blob_exists = layout_blob_exists,
    .blob_fetch = layout_blob_fetch,
    .blob_upload = layout_blob_upload,
    .blob_mount = NULL, /* a layout has no other repositories to mount from */
    .blob_open = layout_blob_open,
    .tags_list = layout_tags_list,
    .manifest_delete = layout_manifest_delete,
    .catalog = NULL, /* a layout is one repository */
    .free = layout_free,
};

int rg_layout_open(const char *dir, const struct rg_options *opt, struct rg_transport **ret,
		   const struct rg_transport_ops **ret_ops, struct err *e)
{
	struct rg_transport *t;
	size_t len;

	(void)opt; /* nothing in the options concerns a directory */
	if (!dir || !*dir)
		return err_set(e, ERR_INPUT,
			       "oci: the layout directory is missing (oci:PATH[:TAG])");
	len = strlen(dir);
	/* Room for "/blobs/sha512/<128 hex>" and a temporary name. */
	if (len > PATH_MAX - 200)
		return err_set(e, ERR_INPUT, "oci:%.200s...: path too long", dir);
	t = calloc(1, sizeof(*t));
	if (!t || !(t->dir = strdup(dir))) {
		free(t);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	while (len > 1 && t->dir[len - 1] == '/')
		t->dir[--len] = '\0';
	*ret = t;
	*ret_ops = &layout_ops;
	return 0;
}
