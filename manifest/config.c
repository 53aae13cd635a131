/* config.c - see config.h.
 *
 * Like image.c, every change is made on a copy of the document, which is
 * validated again (and the argv caches rebuilt from it) before it replaces
 * the old one: a failed change leaves the configuration as it was.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "image.h"
#include "mediatype.h"

#define WHERE "image config"

/* What the getters hand out, pointing into the document's strings. */
struct cfg_cache {
	const char **entrypoint; /* NULL-terminated; NULL when absent or null */
	const char **cmd;
};

struct mf_config {
	json_t *root;
	struct cfg_cache c;
};

static int nomem(struct err *e, const char *what)
{
	return err_set(e, ERR_OPERATIONAL, "%s: out of memory", what);
}

static void cache_clear(struct cfg_cache *c)
{
	free(c->entrypoint);
	free(c->cmd);
	c->entrypoint = c->cmd = NULL;
}

/* The "config" object, or NULL when absent or null. */
static json_t *container_config(json_t *root)
{
	json_t *c = json_object_get(root, "config");

	return json_is_object(c) ? c : NULL;
}

static json_t *labels_object(json_t *root)
{
	json_t *l = json_object_get(container_config(root), "Labels");

	return json_is_object(l) ? l : NULL;
}

static json_t *diff_ids_array(json_t *root)
{
	return json_object_get(json_object_get(root, "rootfs"), "diff_ids");
}

static int check_string(json_t *obj, const char *key, bool required, const char *path,
			struct err *e)
{
	json_t *v = json_object_get(obj, key);

	if (!v && required)
		return err_set(e, ERR_INPUT, WHERE " %s%s: missing", path, key);
	if (v && !json_is_string(v))
		return err_set(e, ERR_INPUT, WHERE " %s%s: not a string", path, key);
	return 0;
}

/* Check config.<key> is absent, null or an array of strings, and build the
 * NULL-terminated argv view of it. */
static int decode_argv(json_t *cc, const char *key, const char ***ret, struct err *e)
{
	json_t *v = json_object_get(cc, key), *item;
	const char **argv;
	size_t i;

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return err_set(e, ERR_INPUT, WHERE " config.%s: not an array of strings or null",
			       key);
	argv = calloc(json_array_size(v) + 1, sizeof(*argv));
	if (!argv)
		return nomem(e, WHERE);
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item)) {
			free(argv);
			return err_set(e, ERR_INPUT, WHERE " config.%s[%zu]: not a string", key, i);
		}
		argv[i] = json_string_value(item);
	}
	*ret = argv;
	return 0;
}

static int validate_container_config(json_t *root, struct cfg_cache *c, struct err *e)
{
	json_t *cc = json_object_get(root, "config"), *labels, *v;
	const char *key;

	if (!cc || json_is_null(cc))
		return 0;
	if (!json_is_object(cc))
		return err_set(e, ERR_INPUT, WHERE " config: not an object or null");
	if (decode_argv(cc, "Entrypoint", &c->entrypoint, e) < 0 ||
	    decode_argv(cc, "Cmd", &c->cmd, e) < 0)
		return -1;
	labels = json_object_get(cc, "Labels");
	if (!labels || json_is_null(labels))
		return 0;
	if (!json_is_object(labels))
		return err_set(e, ERR_INPUT, WHERE " config.Labels: not an object or null");
	json_object_foreach(labels, key, v)
	{
		if (!json_is_string(v))
			return err_set(e, ERR_INPUT,
				       WHERE " config.Labels[\"%.100s\"]: not a string", key);
	}
	return 0;
}

static int validate_rootfs(json_t *root, struct err *e)
{
	json_t *rootfs = json_object_get(root, "rootfs"), *ids, *v;
	char what[64];
	size_t i;

	if (!rootfs)
		return err_set(e, ERR_INPUT, WHERE " rootfs: missing");
	if (!json_is_object(rootfs))
		return err_set(e, ERR_INPUT, WHERE " rootfs: not an object");
	v = json_object_get(rootfs, "type");
	if (!json_is_string(v) || strcmp(json_string_value(v), "layers") != 0)
		return err_set(e, ERR_INPUT, WHERE " rootfs.type: not \"layers\"");
	ids = json_object_get(rootfs, "diff_ids");
	if (!ids)
		return err_set(e, ERR_INPUT, WHERE " rootfs.diff_ids: missing");
	if (!json_is_array(ids))
		return err_set(e, ERR_INPUT, WHERE " rootfs.diff_ids: not an array");
	if (json_array_size(ids) > MF_MAX_LAYERS)
		return err_set(e, ERR_INPUT,
			       WHERE " rootfs.diff_ids: %zu entries, more than the %d "
				     "allowed",
			       json_array_size(ids), MF_MAX_LAYERS);
	json_array_foreach(ids, i, v)
	{
		snprintf(what, sizeof(what), WHERE " rootfs.diff_ids[%zu]", i);
		if (!json_is_string(v))
			return err_set(e, ERR_INPUT, "%s: not a string", what);
		if (mf_digest_check(json_string_value(v), what, e) < 0)
			return -1;
	}
	return 0;
}

static int validate_history(json_t *root, struct err *e)
{
	json_t *h = json_object_get(root, "history"), *entry, *v;
	char path[48];
	size_t i;

	if (!h || json_is_null(h))
		return 0;
	if (!json_is_array(h))
		return err_set(e, ERR_INPUT, WHERE " history: not an array or null");
	json_array_foreach(h, i, entry)
	{
		if (!json_is_object(entry))
			return err_set(e, ERR_INPUT, WHERE " history[%zu]: not an object", i);
		snprintf(path, sizeof(path), "history[%zu].", i);
		if (check_string(entry, "created_by", false, path, e) < 0)
			return -1;
		v = json_object_get(entry, "empty_layer");
		if (v && !json_is_boolean(v))
			return err_set(e, ERR_INPUT,
				       WHERE " history[%zu].empty_layer: not a boolean", i);
	}
	return 0;
}

/* Validate a whole document and build its caches into *c (cleared on failure). */
static int validate(json_t *root, struct cfg_cache *c, struct err *e)
{
	json_t *v;

	memset(c, 0, sizeof(*c));
	if (!json_is_object(root))
		return err_set(e, ERR_INPUT, WHERE ": not a JSON object");
	if (check_string(root, "architecture", true, "", e) < 0 ||
	    check_string(root, "os", true, "", e) < 0 ||
	    check_string(root, "variant", false, "", e) < 0 ||
	    check_string(root, "created", false, "", e) < 0 ||
	    check_string(root, "os.version", false, "", e) < 0)
		return -1;
	if (!*json_string_value(json_object_get(root, "architecture")) ||
	    !*json_string_value(json_object_get(root, "os")))
		return err_set(e, ERR_INPUT, WHERE ": empty architecture or os");
	v = json_object_get(root, "os.features");
	if (v && !json_is_array(v))
		return err_set(e, ERR_INPUT, WHERE " os.features: not an array");
	if (validate_container_config(root, c, e) < 0 || validate_rootfs(root, e) < 0 ||
	    validate_history(root, e) < 0) {
		cache_clear(c);
		return -1;
	}
	return 0;
}

int mf_config_parse(const void *data, size_t len, struct mf_config **ret_cfg, struct err *e)
{
	struct mf_config *cfg = NULL;
	json_error_t jerr;
	int r = -1;

	if (len > LIMIT_CONFIG_BYTES)
		return err_set(e, ERR_INPUT, WHERE ": %zu bytes, more than the %u allowed", len,
			       LIMIT_CONFIG_BYTES);
	if (!data || len == 0)
		return err_set(e, ERR_INPUT, WHERE ": empty document");
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return nomem(e, WHERE);
	cfg->root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!cfg->root) {
		err_set(e, ERR_INPUT, WHERE ": invalid JSON at line %d column %d: %s", jerr.line,
			jerr.column, jerr.text);
		goto out;
	}
	if (validate(cfg->root, &cfg->c, e) < 0)
		goto out;
	*ret_cfg = cfg;
	cfg = NULL; /* transferred */
	r = 0;
out:
	mf_config_free(cfg);
	return r;
}

void mf_config_free(struct mf_config *cfg)
{
	if (!cfg)
		return;
	cache_clear(&cfg->c);
	json_decref(cfg->root);
	free(cfg);
}

const char *mf_config_os(const struct mf_config *cfg)
{
	return json_string_value(json_object_get(cfg->root, "os"));
}

const char *mf_config_architecture(const struct mf_config *cfg)
{
	return json_string_value(json_object_get(cfg->root, "architecture"));
}

const char *mf_config_variant(const struct mf_config *cfg)
{
	return json_string_value(json_object_get(cfg->root, "variant"));
}

const char *const *mf_config_entrypoint(const struct mf_config *cfg)
{
	return cfg->c.entrypoint;
}

const char *const *mf_config_cmd(const struct mf_config *cfg)
{
	return cfg->c.cmd;
}

const char *mf_config_label(const struct mf_config *cfg, const char *key)
{
	return json_string_value(json_object_get(labels_object(cfg->root), key));
}

size_t mf_config_diff_id_count(const struct mf_config *cfg)
{
	return json_array_size(diff_ids_array(cfg->root));
}

const char *mf_config_diff_id(const struct mf_config *cfg, size_t i)
{
	return json_string_value(json_array_get(diff_ids_array(cfg->root), i));
}

/* --- changes ------------------------------------------------------------ */

/* Make `doc` (a changed copy of cfg->root, consumed) the configuration once
 * it validates; on failure cfg is unchanged. */
static int commit(struct mf_config *cfg, json_t *doc, const char *op, struct err *e)
{
	struct cfg_cache c;

	if (validate(doc, &c, e) < 0) {
		json_decref(doc);
		return err_prefix(e, "%s", op);
	}
	cache_clear(&cfg->c);
	cfg->c = c;
	json_decref(cfg->root);
	cfg->root = doc;
	return 0;
}

static json_t *copy_doc(const struct mf_config *cfg, const char *op, struct err *e)
{
	json_t *doc = json_deep_copy(cfg->root);

	if (!doc)
		nomem(e, op);
	return doc;
}

/* parent[key] as an object, created (or put in place of null) when missing. */
static json_t *ensure_object(json_t *parent, const char *key)
{
	json_t *o = json_object_get(parent, key);

	if (json_is_object(o))
		return o;
	o = json_object();
	if (json_object_set_new(parent, key, o) < 0)
		return NULL;
	return o;
}

static json_t *argv_json(const char *const *argv)
{
	json_t *a;

	if (!argv)
		return json_null();
	a = json_array();
	for (size_t i = 0; a && argv[i]; i++) {
		if (json_array_append_new(a, json_string(argv[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int mf_config_set_entrypoint(struct mf_config *cfg, const char *const *argv, struct err *e)
{
	static const char op[] = "set entrypoint";
	json_t *doc = copy_doc(cfg, op, e), *cc;

	if (!doc)
		return -1;
	cc = ensure_object(doc, "config");
	if (!cc || json_object_set_new(cc, "Entrypoint", argv_json(argv)) < 0) {
		json_decref(doc);
		return err_set(e, ERR_INPUT, "%s: out of memory or an argument that is not UTF-8",
			       op);
	}
	return commit(cfg, doc, op, e);
}

int mf_config_set_label(struct mf_config *cfg, const char *key, const char *value, struct err *e)
{
	static const char op[] = "set label";
	json_t *doc, *labels = NULL, *cc;

	if (!key || !*key || !value)
		return err_set(e, ERR_INPUT, "%s: empty key or no value", op);
	doc = copy_doc(cfg, op, e);
	if (!doc)
		return -1;
	cc = ensure_object(doc, "config");
	if (cc)
		labels = ensure_object(cc, "Labels");
	if (!labels || json_object_set_new(labels, key, json_string(value)) < 0) {
		json_decref(doc);
		return err_set(e, ERR_INPUT,
			       "%s %.100s: out of memory or a key or value that is not UTF-8", op,
			       key);
	}
	return commit(cfg, doc, op, e);
}

int mf_config_remove_label(struct mf_config *cfg, const char *key, struct err *e)
{
	json_t *doc;

	if (!key || !mf_config_label(cfg, key))
		return 0;
	doc = copy_doc(cfg, "remove label", e);
	if (!doc)
		return -1;
	json_object_del(labels_object(doc), key);
	return commit(cfg, doc, "remove label", e);
}

int mf_config_append_diff_id(struct mf_config *cfg, const char *digest, struct err *e)
{
	static const char op[] = "append diff_id";
	json_t *doc;

	if (mf_digest_check(digest, "append diff_id", e) < 0)
		return -1;
	if (mf_config_diff_id_count(cfg) >= MF_MAX_LAYERS)
		return err_set(e, ERR_INPUT, "%s: the image already has %d layers", op,
			       MF_MAX_LAYERS);
	doc = copy_doc(cfg, op, e);
	if (!doc)
		return -1;
	if (json_array_append_new(diff_ids_array(doc), json_string(digest)) < 0) {
		json_decref(doc);
		return nomem(e, op);
	}
	return commit(cfg, doc, op, e);
}

int mf_config_remove_diff_id(struct mf_config *cfg, size_t i, struct err *e)
{
	static const char op[] = "remove diff_id";
	json_t *doc;

	if (i >= mf_config_diff_id_count(cfg))
		return err_set(e, ERR_INPUT, "%s %zu: the image has %zu layers", op, i,
			       mf_config_diff_id_count(cfg));
	doc = copy_doc(cfg, op, e);
	if (!doc)
		return -1;
	json_array_remove(diff_ids_array(doc), i);
	return commit(cfg, doc, op, e);
}

int mf_config_append_history(struct mf_config *cfg, const char *created_by, struct err *e)
{
	static const char op[] = "append history";
	json_t *doc, *h, *entry, *created;
	int bad = 0;

	if (!created_by)
		return err_set(e, ERR_INPUT, "%s: no created_by", op);
	doc = copy_doc(cfg, op, e);
	if (!doc)
		return -1;
	h = json_object_get(doc, "history");
	if (!json_is_array(h)) {
		h = json_array();
		bad |= json_object_set_new(doc, "history", h);
	}
	entry = json_object();
	created = json_object_get(doc, "created");
	if (created)
		bad |= json_object_set_new(entry, "created", json_deep_copy(created));
	bad |= json_object_set_new(entry, "created_by", json_string(created_by));
	bad |= json_object_set_new(entry, "empty_layer", json_false());
	bad |= json_array_append_new(h, entry);
	if (bad) {
		json_decref(doc);
		return err_set(e, ERR_INPUT, "%s: out of memory or created_by is not UTF-8", op);
	}
	return commit(cfg, doc, op, e);
}

int mf_config_remove_history_layer(struct mf_config *cfg, size_t layer, struct err *e)
{
	json_t *h = json_object_get(cfg->root, "history"), *entry, *doc;
	size_t i, seen = 0;

	json_array_foreach(h, i, entry)
	{
		if (json_is_true(json_object_get(entry, "empty_layer")))
			continue;
		if (seen++ < layer)
			continue;
		doc = copy_doc(cfg, "remove history entry", e);
		if (!doc)
			return -1;
		json_array_remove(json_object_get(doc, "history"), i);
		if (commit(cfg, doc, "remove history entry", e) < 0)
			return -1;
		return 1;
	}
	return 0;
}

int mf_config_serialize(const struct mf_config *cfg, char **ret_bytes, size_t *ret_len,
			struct err *e)
{
	char *s = json_dumps(cfg->root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t n;

	if (!s)
		return nomem(e, "serialise " WHERE);
	n = strlen(s);
	if (n > LIMIT_CONFIG_BYTES) {
		free(s);
		return err_set(e, ERR_INPUT,
			       "serialise " WHERE ": %zu bytes, more than the %u allowed", n,
			       LIMIT_CONFIG_BYTES);
	}
	*ret_bytes = s;
	if (ret_len)
		*ret_len = n;
	return 0;
}

/* --- entrypoint rewrite (DESIGN.md section 4) -------------------------- */

int mf_config_wrap_entrypoint(struct mf_config *cfg, const char *const *prefix, struct err *e)
{
	static const char op[] = "wrap entrypoint";
	const char *const *ep = cfg->c.entrypoint, *const *cmd = cfg->c.cmd;
	json_t *doc = NULL, *cc, *labels, *orig, *argv = NULL;
	char *orig_text = NULL;
	int r = -1;

	if (!prefix || !prefix[0])
		return err_set(e, ERR_INPUT, "%s: empty prefix", op);
	if (mf_config_label(cfg, LABEL_ORIGINAL_ENTRYPOINT))
		return err_set(e, ERR_INPUT,
			       "%s: the image is already instrumented (it has the label %s); "
			       "restore its entrypoint first",
			       op, LABEL_ORIGINAL_ENTRYPOINT);
	if (!(ep && ep[0]) && !(cmd && cmd[0]))
		return err_set(
		    e, ERR_INPUT,
		    "the image has nothing to run (no Entrypoint and no Cmd); give it one "
		    "with ENTRYPOINT or CMD in its Dockerfile and rebuild it");
	argv = argv_json(prefix);
	if (!argv)
		goto bad_text;
	/* E non-empty: P + E; otherwise (no or empty E, Cmd present): P. Cmd stays. */
	for (size_t i = 0; ep && ep[i]; i++)
		if (json_array_append_new(argv, json_string(ep[i])) < 0)
			goto bad_text;
	orig = json_object_get(container_config(cfg->root), "Entrypoint");
	orig_text = json_is_array(orig) ? json_dumps(orig, JSON_COMPACT) : strdup("null");
	if (!orig_text) {
		nomem(e, op);
		goto out;
	}
	doc = copy_doc(cfg, op, e);
	if (!doc)
		goto out;
	cc = ensure_object(doc, "config");
	if (!cc || json_object_set(cc, "Entrypoint", argv) < 0 ||
	    !(labels = ensure_object(cc, "Labels")) ||
	    json_object_set_new(labels, LABEL_ORIGINAL_ENTRYPOINT, json_string(orig_text)) < 0) {
		nomem(e, op);
		goto out;
	}
	r = commit(cfg, doc, op, e);
	doc = NULL; /* consumed by commit */
	goto out;
bad_text:
	err_set(e, ERR_INPUT, "%s: out of memory or a prefix argument that is not UTF-8", op);
out:
	json_decref(doc);
	json_decref(argv);
	free(orig_text);
	return r;
}

int mf_config_unwrap_entrypoint(struct mf_config *cfg, struct err *e)
{
	static const char op[] = "restore original entrypoint";
	const char *label = mf_config_label(cfg, LABEL_ORIGINAL_ENTRYPOINT);
	json_t *orig = NULL, *doc = NULL, *item;
	json_error_t jerr;
	size_t i;
	int r = -1;

	if (!label)
		return err_set(e, ERR_INPUT,
			       "%s: the image has no %s label (was it instrumented by "
			       "inlay?)",
			       op, LABEL_ORIGINAL_ENTRYPOINT);
	orig = json_loads(label, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!orig || !(json_is_null(orig) || json_is_array(orig)))
		goto bad;
	json_array_foreach(orig, i, item)
	{
		if (!json_is_string(item))
			goto bad;
	}
	doc = copy_doc(cfg, op, e);
	if (!doc)
		goto out;
	/* The label exists, so config is an object holding Labels. */
	if (json_object_set(container_config(doc), "Entrypoint", orig) < 0 ||
	    json_object_del(labels_object(doc), LABEL_ORIGINAL_ENTRYPOINT) < 0) {
		nomem(e, op);
		goto out;
	}
	r = commit(cfg, doc, op, e);
	doc = NULL; /* consumed by commit */
	goto out;
bad:
	err_set(e, ERR_INPUT, "%s: the label %s is not a JSON array of strings or null: %.100s", op,
		LABEL_ORIGINAL_ENTRYPOINT, label);
out:
	json_decref(doc);
	json_decref(orig);
	return r;
}
