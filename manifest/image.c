/* image.c - see image.h.
 *
 * A manifest keeps three things: the bytes it was parsed from (what is pushed
 * and digested), the jansson document (so a rewrite keeps every field inlay
 * does not know), and the validated descriptors decoded from that document.
 * Every change is made on a copy of the document, which is decoded and
 * validated again before it replaces the old one: a failed change leaves the
 * manifest exactly as it was.
 */
#include "image.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "mediatype.h"

#define MAX_JSON_SIZE ((int64_t)1 << 53) /* largest integer a JSON reader keeps exact */
#define MEDIA_TYPE_MAX 255
#define PATH_MAX_LEN 64 /* "manifest manifests[999].platform" and the like */
#define PLATFORM_STR_MAX 128

/* Everything decoded from a document; replaced as a whole on every change. */
struct mf_parsed {
	enum mf_kind kind;
	char *media_type;
	struct mf_descriptor config; /* image manifests only */
	struct mf_descriptor *layers;
	size_t n_layers;
	struct mf_descriptor *children;
	size_t n_children;
	struct mf_annotation *annotations;
	size_t n_annotations;
};

struct mf_manifest {
	struct mf_parsed p;
	json_t *root;
	char *bytes; /* NUL-terminated, len bytes before the NUL */
	size_t len;
};

static int nomem(struct err *e, const char *what)
{
	return err_set(e, ERR_OPERATIONAL, "%s: out of memory", what);
}

static void annotations_free(struct mf_annotation *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].key);
		free(a[i].value);
	}
	free(a);
}

static void descriptor_clear(struct mf_descriptor *d)
{
	free(d->media_type);
	free(d->digest);
	mf_platform_clear(&d->platform);
	annotations_free(d->annotations, d->n_annotations);
	memset(d, 0, sizeof(*d));
}

static void descriptors_free(struct mf_descriptor *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		descriptor_clear(&d[i]);
	free(d);
}

static void parsed_clear(struct mf_parsed *p)
{
	free(p->media_type);
	descriptor_clear(&p->config);
	descriptors_free(p->layers, p->n_layers);
	descriptors_free(p->children, p->n_children);
	annotations_free(p->annotations, p->n_annotations);
	memset(p, 0, sizeof(*p));
}

/* RFC 6838 restricted-name: the characters a media type may use. Media types
 * end up in Content-Type headers, so anything else (CR, LF, spaces) is refused. */
static bool media_type_part_valid(const char *s, size_t n)
{
	if (n == 0 || n > 127)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || !strchr("!#$&^_.+-", c)))
			return false;
	}
	return true;
}

static bool media_type_valid(const char *s)
{
	const char *slash = strchr(s, '/');

	return slash && strlen(s) <= MEDIA_TYPE_MAX &&
	       media_type_part_valid(s, (size_t)(slash - s)) &&
	       media_type_part_valid(slash + 1, strlen(slash + 1));
}

/* --- decoding ----------------------------------------------------------- */

static int get_string(json_t *obj, const char *key, bool required, const char *path,
		      const char **ret, struct err *e)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		if (required)
			return err_set(e, ERR_INPUT, "%s.%s: missing", path, key);
		*ret = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return err_set(e, ERR_INPUT, "%s.%s: not a string", path, key);
	*ret = json_string_value(v);
	return 0;
}

static int check_string_array(json_t *obj, const char *key, const char *path, struct err *e)
{
	json_t *v = json_object_get(obj, key), *item;
	size_t i;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return err_set(e, ERR_INPUT, "%s.%s: not an array", path, key);
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item))
			return err_set(e, ERR_INPUT, "%s.%s[%zu]: not a string", path, key, i);
	}
	return 0;
}

static int decode_annotations(json_t *obj, const char *path, struct mf_annotation **ret,
			      size_t *ret_n, struct err *e)
{
	json_t *a = json_object_get(obj, "annotations"), *v;
	struct mf_annotation *list = NULL;
	const char *key;
	size_t n = 0;
	int r = -1;

	if (!a) {
		*ret = NULL;
		*ret_n = 0;
		return 0;
	}
	if (!json_is_object(a))
		return err_set(e, ERR_INPUT, "%s.annotations: not an object", path);
	if (json_object_size(a) > 0) {
		list = calloc(json_object_size(a), sizeof(*list));
		if (!list)
			return nomem(e, path);
	}
	json_object_foreach(a, key, v)
	{
		if (!json_is_string(v)) {
			err_set(e, ERR_INPUT, "%s.annotations[\"%.100s\"]: not a string", path,
				key);
			goto out;
		}
		list[n].key = strdup(key);
		list[n].value = strdup(json_string_value(v));
		n++;
		if (!list[n - 1].key || !list[n - 1].value) {
			nomem(e, path);
			goto out;
		}
	}
	*ret = list;
	*ret_n = n;
	list = NULL; /* transferred */
	n = 0;
	r = 0;
out:
	annotations_free(list, n);
	return r;
}

static int decode_platform(json_t *obj, const char *path, struct mf_platform *p, struct err *e)
{
	json_t *pl = json_object_get(obj, "platform");
	const char *os, *arch, *variant, *osv;
	char sub[PATH_MAX_LEN + 16];

	if (!pl)
		return 0;
	snprintf(sub, sizeof(sub), "%s.platform", path);
	if (!json_is_object(pl))
		return err_set(e, ERR_INPUT, "%s: not an object", sub);
	if (get_string(pl, "os", true, sub, &os, e) < 0 ||
	    get_string(pl, "architecture", true, sub, &arch, e) < 0 ||
	    get_string(pl, "variant", false, sub, &variant, e) < 0 ||
	    get_string(pl, "os.version", false, sub, &osv, e) < 0 ||
	    check_string_array(pl, "os.features", sub, e) < 0 ||
	    check_string_array(pl, "features", sub, e) < 0)
		return -1;
	p->os = strdup(os);
	p->architecture = strdup(arch);
	p->variant = variant ? strdup(variant) : NULL;
	if (!p->os || !p->architecture || (variant && !p->variant))
		return nomem(e, sub);
	return 0;
}

/* Decode one descriptor at `path` into d (cleared by the caller on failure). */
static int decode_descriptor(json_t *obj, const char *path, struct mf_descriptor *d, struct err *e)
{
	const char *mt, *digest, *s;
	json_t *size;
	json_int_t n;

	if (!json_is_object(obj))
		return err_set(e, ERR_INPUT, "%s: not an object", path);
	if (get_string(obj, "mediaType", true, path, &mt, e) < 0)
		return -1;
	if (!media_type_valid(mt))
		return err_set(e, ERR_INPUT, "%s.mediaType: \"%.100s\" is not a valid media type",
			       path, mt);
	if (get_string(obj, "digest", true, path, &digest, e) < 0)
		return -1;
	if (!mf_digest_valid(digest)) {
		char what[PATH_MAX_LEN + 16];

		snprintf(what, sizeof(what), "%s.digest", path);
		return mf_digest_check(digest, what, e);
	}
	size = json_object_get(obj, "size");
	if (!size)
		return err_set(e, ERR_INPUT, "%s.size: missing", path);
	if (!json_is_integer(size))
		return err_set(e, ERR_INPUT, "%s.size: not an integer", path);
	n = json_integer_value(size);
	if (n < 0 || n > MAX_JSON_SIZE)
		return err_set(e, ERR_INPUT, "%s.size: %lld is out of range (0 to 2^53)", path,
			       (long long)n);
	if (check_string_array(obj, "urls", path, e) < 0 ||
	    get_string(obj, "data", false, path, &s, e) < 0 ||
	    get_string(obj, "artifactType", false, path, &s, e) < 0)
		return -1;
	if (s && !media_type_valid(s))
		return err_set(e, ERR_INPUT,
			       "%s.artifactType: \"%.100s\" is not a valid media type", path, s);
	d->media_type = strdup(mt);
	d->digest = strdup(digest);
	d->size = (int64_t)n;
	if (!d->media_type || !d->digest)
		return nomem(e, path);
	if (decode_platform(obj, path, &d->platform, e) < 0)
		return -1;
	return decode_annotations(obj, path, &d->annotations, &d->n_annotations, e);
}

static int decode_descriptor_array(json_t *root, const char *key, size_t max,
				   struct mf_descriptor **ret, size_t *ret_n, struct err *e)
{
	json_t *arr = json_object_get(root, key), *item;
	struct mf_descriptor *list = NULL;
	char path[PATH_MAX_LEN];
	size_t i, n = 0;
	int r = -1;

	if (!arr)
		return err_set(e, ERR_INPUT, "manifest %s: missing", key);
	if (!json_is_array(arr))
		return err_set(e, ERR_INPUT, "manifest %s: not an array", key);
	if (json_array_size(arr) > max)
		return err_set(e, ERR_INPUT, "manifest %s: %zu entries, more than the %zu allowed",
			       key, json_array_size(arr), max);
	if (json_array_size(arr) > 0) {
		list = calloc(json_array_size(arr), sizeof(*list));
		if (!list)
			return nomem(e, "manifest");
	}
	json_array_foreach(arr, i, item)
	{
		snprintf(path, sizeof(path), "manifest %s[%zu]", key, i);
		n = i + 1;
		if (decode_descriptor(item, path, &list[i], e) < 0)
			goto out;
	}
	*ret = list;
	*ret_n = n;
	list = NULL; /* transferred */
	n = 0;
	r = 0;
out:
	descriptors_free(list, n);
	return r;
}

static const char *const known_types[] = {MT_OCI_MANIFEST, MT_OCI_INDEX, MT_DOCKER_MANIFEST,
					  MT_DOCKER_LIST};

static const char *known_type(const char *s)
{
	for (size_t i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++)
		if (strcmp(s, known_types[i]) == 0)
			return known_types[i];
	return NULL;
}

static enum mf_kind kind_of(const char *mt)
{
	return strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0 ? MF_KIND_INDEX
										: MF_KIND_IMAGE;
}

static const char *kind_name(enum mf_kind k)
{
	return k == MF_KIND_INDEX ? "an index" : "an image manifest";
}

/* The manifest media type named by a Content-Type header, or NULL when the
 * header is absent or generic (application/json, octet-stream, ...): then the
 * document alone decides. Parameters (";charset=utf-8") and case are ignored. */
static const char *content_type_manifest(const char *ct)
{
	char norm[MEDIA_TYPE_MAX + 1];
	size_t n = 0;

	if (!ct)
		return NULL;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	while (ct[n] && ct[n] != ';' && ct[n] != ' ' && ct[n] != '\t' && n < MEDIA_TYPE_MAX) {
		char c = ct[n];

		norm[n] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		n++;
	}
	norm[n] = '\0';
	return known_type(norm);
}

static int decode(json_t *root, const char *content_type, struct mf_parsed *p, struct err *e)
{
	json_t *v;
	const char *doc_mt, *ct_mt, *s;
	bool has_manifests, has_config;
	enum mf_kind shape;
	struct mf_descriptor subject = {0};
	int r = -1;

	memset(p, 0, sizeof(*p));
	if (!json_is_object(root))
		return err_set(e, ERR_INPUT, "manifest: not a JSON object");
	v = json_object_get(root, "schemaVersion");
	if (!v)
		return err_set(e, ERR_INPUT, "manifest schemaVersion: missing");
	if (!json_is_integer(v))
		return err_set(e, ERR_INPUT, "manifest schemaVersion: not an integer");
	if (json_integer_value(v) != 2)
		return err_set(e, ERR_INPUT,
			       "manifest schemaVersion: %lld is not supported; inlay reads schema "
			       "version 2 (OCI, Docker schema2) - re-push the image with a current "
			       "client",
			       (long long)json_integer_value(v));
	if (get_string(root, "mediaType", false, "manifest", &doc_mt, e) < 0)
		return -1;
	if (doc_mt && !known_type(doc_mt))
		return err_set(e, ERR_INPUT,
			       "manifest mediaType: \"%.100s\" is not supported (inlay reads OCI "
			       "image manifests and indexes, Docker schema2 manifests and lists)",
			       doc_mt);

	has_manifests = json_object_get(root, "manifests") != NULL;
	has_config = json_object_get(root, "config") != NULL;
	if (has_manifests && has_config)
		return err_set(e, ERR_INPUT,
			       "manifest: has both \"manifests\" (index) and \"config\" (image "
			       "manifest); cannot tell what it is");
	if (!has_manifests && !has_config)
		return err_set(e, ERR_INPUT,
			       "manifest: has neither \"manifests\" (index) nor \"config\" (image "
			       "manifest)");
	shape = has_manifests ? MF_KIND_INDEX : MF_KIND_IMAGE;
	ct_mt = content_type_manifest(content_type);
	if (doc_mt && kind_of(doc_mt) != shape)
		return err_set(e, ERR_INPUT, "manifest mediaType: \"%s\" but the document is %s",
			       doc_mt, kind_name(shape));
	if (doc_mt && ct_mt && strcmp(doc_mt, ct_mt) != 0)
		return err_set(e, ERR_INPUT,
			       "manifest mediaType: \"%s\" disagrees with the Content-Type \"%s\" "
			       "it was served with",
			       doc_mt, ct_mt);
	if (!doc_mt && ct_mt && kind_of(ct_mt) != shape)
		return err_set(e, ERR_INPUT,
			       "manifest: served as \"%s\" but the document is %s (and has no "
			       "mediaType)",
			       ct_mt, kind_name(shape));
	if (!doc_mt && !ct_mt)
		ct_mt = shape == MF_KIND_INDEX ? MT_OCI_INDEX : MT_OCI_MANIFEST;
	p->kind = shape;
	p->media_type = strdup(doc_mt ? doc_mt : ct_mt);
	if (!p->media_type)
		return nomem(e, "manifest");

	if (get_string(root, "artifactType", false, "manifest", &s, e) < 0)
		goto out;
	if (s && !media_type_valid(s)) {
		err_set(e, ERR_INPUT, "manifest artifactType: \"%.100s\" is not a valid media type",
			s);
		goto out;
	}
	v = json_object_get(root, "subject");
	if (v && decode_descriptor(v, "manifest subject", &subject, e) < 0)
		goto out;
	if (shape == MF_KIND_IMAGE) {
		if (decode_descriptor(json_object_get(root, "config"), "manifest config",
				      &p->config, e) < 0 ||
		    decode_descriptor_array(root, "layers", MF_MAX_LAYERS, &p->layers, &p->n_layers,
					    e) < 0)
			goto out;
	} else if (decode_descriptor_array(root, "manifests", MF_MAX_CHILDREN, &p->children,
					   &p->n_children, e) < 0) {
		goto out;
	}
	if (decode_annotations(root, "manifest", &p->annotations, &p->n_annotations, e) < 0)
		goto out;
	r = 0;
out:
	descriptor_clear(&subject);
	if (r < 0)
		parsed_clear(p);
	return r;
}

/* --- public: parsing and reading --------------------------------------- */

int mf_manifest_parse(const void *data, size_t len, const char *content_type,
		      struct mf_manifest **ret_manifest, struct err *e)
{
	struct mf_manifest *m = NULL;
	json_error_t jerr;
	int r = -1;

	if (len > LIMIT_MANIFEST_BYTES)
		return err_set(e, ERR_INPUT, "manifest: %zu bytes, more than the %u allowed", len,
			       LIMIT_MANIFEST_BYTES);
	if (!data || len == 0)
		return err_set(e, ERR_INPUT, "manifest: empty document");
	m = calloc(1, sizeof(*m));
	if (!m)
		return nomem(e, "manifest");
	m->root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!m->root) {
		err_set(e, ERR_INPUT, "manifest: invalid JSON at line %d column %d: %s", jerr.line,
			jerr.column, jerr.text);
		goto out;
	}
	if (decode(m->root, content_type, &m->p, e) < 0)
		goto out;
	m->bytes = malloc(len + 1);
	if (!m->bytes) {
		nomem(e, "manifest");
		goto out;
	}
	memcpy(m->bytes, data, len);
	m->bytes[len] = '\0';
	m->len = len;
	*ret_manifest = m;
	m = NULL; /* transferred */
	r = 0;
out:
	mf_manifest_free(m);
	return r;
}

void mf_manifest_free(struct mf_manifest *m)
{
	if (!m)
		return;
	parsed_clear(&m->p);
	json_decref(m->root);
	free(m->bytes);
	free(m);
}

enum mf_kind mf_manifest_kind(const struct mf_manifest *m)
{
	return m->p.kind;
}

const char *mf_manifest_media_type(const struct mf_manifest *m)
{
	return m->p.media_type;
}

const char *mf_manifest_bytes(const struct mf_manifest *m, size_t *ret_len)
{
	if (ret_len)
		*ret_len = m->len;
	return m->bytes;
}

const struct mf_descriptor *mf_manifest_config(const struct mf_manifest *m)
{
	return m->p.kind == MF_KIND_IMAGE ? &m->p.config : NULL;
}

size_t mf_manifest_layer_count(const struct mf_manifest *m)
{
	return m->p.n_layers;
}

const struct mf_descriptor *mf_manifest_layer(const struct mf_manifest *m, size_t i)
{
	return i < m->p.n_layers ? &m->p.layers[i] : NULL;
}

size_t mf_manifest_child_count(const struct mf_manifest *m)
{
	return m->p.n_children;
}

const struct mf_descriptor *mf_manifest_child(const struct mf_manifest *m, size_t i)
{
	return i < m->p.n_children ? &m->p.children[i] : NULL;
}

static const char *annotation_find(const struct mf_annotation *a, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i].key, key) == 0)
			return a[i].value;
	return NULL;
}

const char *mf_manifest_annotation(const struct mf_manifest *m, const char *key)
{
	return annotation_find(m->p.annotations, m->p.n_annotations, key);
}

const char *mf_descriptor_annotation(const struct mf_descriptor *d, const char *key)
{
	return annotation_find(d->annotations, d->n_annotations, key);
}

/* --- platforms ---------------------------------------------------------- */

char *mf_platform_string(const struct mf_platform *p)
{
	char *s;

	if (!p || !p->os || !p->architecture)
		return NULL;
	if (asprintf(&s, "%s/%s%s%s", p->os, p->architecture, p->variant ? "/" : "",
		     p->variant ? p->variant : "") < 0)
		return NULL;
	return s;
}

static bool platform_part_valid(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int mf_platform_parse(const char *s, struct mf_platform *ret, struct err *e)
{
	const char *part[3], *start, *c;
	size_t len[3], n = 0;
	struct mf_platform p = {0};

	if (!s || strlen(s) > PLATFORM_STR_MAX)
		return err_set(e, ERR_INPUT, "invalid platform: want OS/ARCH[/VARIANT]");
	for (start = c = s;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		if (n == 3)
			return err_set(
			    e, ERR_INPUT,
			    "invalid platform \"%s\": want OS/ARCH[/VARIANT], for example "
			    "linux/amd64 or linux/arm/v7",
			    s);
		part[n] = start;
		len[n] = (size_t)(c - start);
		if (!platform_part_valid(part[n], len[n]))
			return err_set(
			    e, ERR_INPUT,
			    "invalid platform \"%s\": want OS/ARCH[/VARIANT] with non-empty "
			    "parts of letters, digits, '.', '_', '-'",
			    s);
		n++;
		if (*c == '\0')
			break;
		start = c + 1;
	}
	if (n < 2)
		return err_set(e, ERR_INPUT,
			       "invalid platform \"%s\": want OS/ARCH[/VARIANT], for example "
			       "linux/amd64",
			       s);
	p.os = strndup(part[0], len[0]);
	p.architecture = strndup(part[1], len[1]);
	p.variant = n == 3 ? strndup(part[2], len[2]) : NULL;
	if (!p.os || !p.architecture || (n == 3 && !p.variant)) {
		mf_platform_clear(&p);
		return nomem(e, "platform");
	}
	*ret = p;
	return 0;
}

void mf_platform_clear(struct mf_platform *p)
{
	if (!p)
		return;
	free(p->os);
	free(p->architecture);
	free(p->variant);
	p->os = p->architecture = p->variant = NULL;
}

/* The variant to compare: arm64 without a variant means v8, as containerd
 * normalises it, so --platform linux/arm64/v8 finds a plain linux/arm64. */
static const char *effective_variant(const struct mf_platform *p)
{
	if (!p->variant && strcmp(p->architecture, "arm64") == 0)
		return "v8";
	return p->variant;
}

bool mf_platform_matches(const struct mf_platform *have, const struct mf_platform *want)
{
	const char *hv, *wv;

	if (!have || !want || !have->os || !have->architecture || !want->os || !want->architecture)
		return false;
	if (strcmp(have->os, want->os) != 0 || strcmp(have->architecture, want->architecture) != 0)
		return false;
	if (!want->variant)
		return true;
	hv = effective_variant(have);
	wv = effective_variant(want);
	return hv && strcmp(hv, wv) == 0;
}

/* --- rewriting ---------------------------------------------------------- */

static char *dump(json_t *root)
{
	return json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

/* Make `doc` (a changed copy of m->root, consumed) the manifest's document
 * once it decodes; on failure m is unchanged. */
static int commit(struct mf_manifest *m, json_t *doc, struct err *e)
{
	struct mf_parsed np;

	if (decode(doc, m->p.media_type, &np, e) < 0) {
		json_decref(doc);
		return err_prefix(e, "modified manifest");
	}
	parsed_clear(&m->p);
	m->p = np;
	json_decref(m->root);
	m->root = doc;
	return 0;
}

static int check_kind(const struct mf_manifest *m, enum mf_kind want, const char *op, struct err *e)
{
	if (m->p.kind != want)
		return err_set(e, ERR_INPUT, "%s: the manifest is %s, not %s", op,
			       kind_name(m->p.kind), kind_name(want));
	return 0;
}

static int check_size(int64_t size, const char *op, struct err *e)
{
	if (size < 0 || size > MAX_JSON_SIZE)
		return err_set(e, ERR_INPUT, "%s: size %lld is out of range (0 to 2^53)", op,
			       (long long)size);
	return 0;
}

/* A JSON descriptor for d, fields in the order the OCI specification lists them. */
static json_t *descriptor_json(const struct mf_descriptor *d, struct err *e)
{
	json_t *o = NULL, *pl, *ann;
	int bad = 0;

	if (!d->media_type || !media_type_valid(d->media_type)) {
		err_set(e, ERR_INPUT, "layer descriptor: invalid media type \"%.100s\"",
			d->media_type ? d->media_type : "");
		return NULL;
	}
	if (mf_digest_check(d->digest, "layer descriptor digest", e) < 0 ||
	    check_size(d->size, "layer descriptor", e) < 0)
		return NULL;
	o = json_object();
	if (!o)
		goto nomem;
	bad |= json_object_set_new(o, "mediaType", json_string(d->media_type));
	bad |= json_object_set_new(o, "digest", json_string(d->digest));
	bad |= json_object_set_new(o, "size", json_integer(d->size));
	if (d->platform.os && d->platform.architecture) {
		pl = json_object();
		bad |= json_object_set_new(o, "platform", pl);
		bad |= !pl;
		if (pl) {
			bad |= json_object_set_new(pl, "architecture",
						   json_string(d->platform.architecture));
			bad |= json_object_set_new(pl, "os", json_string(d->platform.os));
			if (d->platform.variant)
				bad |= json_object_set_new(pl, "variant",
							   json_string(d->platform.variant));
		}
	}
	if (d->n_annotations > 0) {
		ann = json_object();
		bad |= json_object_set_new(o, "annotations", ann);
		bad |= !ann;
		for (size_t i = 0; ann && i < d->n_annotations; i++) {
			if (!d->annotations[i].key || !d->annotations[i].value) {
				json_decref(o);
				err_set(e, ERR_INPUT, "layer descriptor: annotation %zu is empty",
					i);
				return NULL;
			}
			bad |= json_object_set_new(ann, d->annotations[i].key,
						   json_string(d->annotations[i].value));
		}
	}
	if (bad) {
		json_decref(o);
		goto nomem;
	}
	return o;
nomem:
	err_set(e, ERR_INPUT, "layer descriptor: out of memory or text that is not UTF-8");
	return NULL;
}

/* A deep copy of m->root and its member array `key`, for a change to be committed. */
static json_t *copy_with_array(const struct mf_manifest *m, const char *key, json_t **ret_arr,
			       struct err *e)
{
	json_t *doc = json_deep_copy(m->root);

	if (!doc) {
		nomem(e, "manifest");
		return NULL;
	}
	*ret_arr = json_object_get(doc, key);
	return doc;
}

int mf_manifest_append_layer(struct mf_manifest *m, const struct mf_descriptor *layer,
			     struct err *e)
{
	json_t *doc, *layers, *d;

	if (check_kind(m, MF_KIND_IMAGE, "append layer", e) < 0)
		return -1;
	if (m->p.n_layers >= MF_MAX_LAYERS)
		return err_set(e, ERR_INPUT, "append layer: the manifest already has %d layers",
			       MF_MAX_LAYERS);
	d = descriptor_json(layer, e);
	if (!d)
		return err_prefix(e, "append layer");
	doc = copy_with_array(m, "layers", &layers, e);
	if (!doc) {
		json_decref(d);
		return -1;
	}
	if (json_array_append_new(layers, d) < 0) { /* d is released either way */
		json_decref(doc);
		return nomem(e, "append layer");
	}
	return commit(m, doc, e);
}

int mf_manifest_remove_layer(struct mf_manifest *m, size_t i, struct err *e)
{
	json_t *doc, *layers;

	if (check_kind(m, MF_KIND_IMAGE, "remove layer", e) < 0)
		return -1;
	if (i >= m->p.n_layers)
		return err_set(e, ERR_INPUT, "remove layer %zu: the manifest has %zu layers", i,
			       m->p.n_layers);
	doc = copy_with_array(m, "layers", &layers, e);
	if (!doc)
		return -1;
	if (json_array_remove(layers, i) < 0) {
		json_decref(doc);
		return nomem(e, "remove layer");
	}
	return commit(m, doc, e);
}

/* Set "digest" and "size" of the descriptor object d, keeping its other fields. */
static int set_digest_size(json_t *d, const char *digest, int64_t size)
{
	if (json_object_set_new(d, "digest", json_string(digest)) < 0 ||
	    json_object_set_new(d, "size", json_integer(size)) < 0)
		return -1;
	return 0;
}

int mf_manifest_set_config(struct mf_manifest *m, const char *digest, int64_t size, struct err *e)
{
	json_t *doc;

	if (check_kind(m, MF_KIND_IMAGE, "set config", e) < 0 ||
	    mf_digest_check(digest, "set config: digest", e) < 0 ||
	    check_size(size, "set config", e) < 0)
		return -1;
	doc = json_deep_copy(m->root);
	if (!doc || set_digest_size(json_object_get(doc, "config"), digest, size) < 0) {
		json_decref(doc);
		return nomem(e, "set config");
	}
	return commit(m, doc, e);
}

int mf_manifest_set_annotation(struct mf_manifest *m, const char *key, const char *value,
			       struct err *e)
{
	json_t *doc, *ann;
	int r;

	if (strcmp(m->p.media_type, MT_DOCKER_MANIFEST) == 0 ||
	    strcmp(m->p.media_type, MT_DOCKER_LIST) == 0)
		return err_set(e, ERR_INPUT,
			       "set annotation %.100s: Docker schema2 manifests and lists have no "
			       "annotations",
			       key ? key : "");
	if (!key || !*key)
		return err_set(e, ERR_INPUT, "set annotation: empty key");
	doc = json_deep_copy(m->root);
	if (!doc)
		return nomem(e, "set annotation");
	ann = json_object_get(doc, "annotations");
	if (!value) {
		if (ann)
			json_object_del(ann, key);
		return commit(m, doc, e);
	}
	if (!ann) {
		ann = json_object();
		if (json_object_set_new(doc, "annotations", ann) < 0)
			ann = NULL;
	}
	r = ann ? json_object_set_new(ann, key, json_string(value)) : -1;
	if (r < 0) {
		json_decref(doc);
		return err_set(e, ERR_INPUT,
			       "set annotation %.100s: out of memory or text that is not UTF-8",
			       key);
	}
	return commit(m, doc, e);
}

int mf_manifest_serialize(struct mf_manifest *m, struct err *e)
{
	char *s = dump(m->root);
	size_t n;

	if (!s)
		return nomem(e, "serialise manifest");
	n = strlen(s);
	if (n > LIMIT_MANIFEST_BYTES) {
		free(s);
		return err_set(e, ERR_INPUT,
			       "serialise manifest: %zu bytes, more than the %u a registry is "
			       "asked to accept",
			       n, LIMIT_MANIFEST_BYTES);
	}
	free(m->bytes);
	m->bytes = s;
	m->len = n;
	return 0;
}

int mf_index_replace_child(struct mf_manifest *idx, size_t i, const char *digest, int64_t size,
			   struct err *e)
{
	json_t *doc, *children;

	if (check_kind(idx, MF_KIND_INDEX, "replace index child", e) < 0 ||
	    mf_digest_check(digest, "replace index child: digest", e) < 0 ||
	    check_size(size, "replace index child", e) < 0)
		return -1;
	if (i >= idx->p.n_children)
		return err_set(e, ERR_INPUT, "replace index child %zu: the index has %zu children",
			       i, idx->p.n_children);
	doc = copy_with_array(idx, "manifests", &children, e);
	if (!doc)
		return -1;
	if (set_digest_size(json_array_get(children, i), digest, size) < 0) {
		json_decref(doc);
		return nomem(e, "replace index child");
	}
	return commit(idx, doc, e);
}

int mf_index_remove_child(struct mf_manifest *idx, size_t i, struct err *e)
{
	json_t *doc, *children;

	if (check_kind(idx, MF_KIND_INDEX, "remove index child", e) < 0)
		return -1;
	if (i >= idx->p.n_children)
		return err_set(e, ERR_INPUT, "remove index child %zu: the index has %zu children",
			       i, idx->p.n_children);
	doc = copy_with_array(idx, "manifests", &children, e);
	if (!doc)
		return -1;
	if (json_array_remove(children, i) < 0) {
		json_decref(doc);
		return nomem(e, "remove index child");
	}
	return commit(idx, doc, e);
}

int mf_index_select(const struct mf_manifest *like, const size_t *positions, size_t n,
		    struct mf_manifest **ret_index, struct err *e)
{
	json_t *doc = NULL, *src, *sel = NULL;
	char *s = NULL;
	int r = -1;

	if (check_kind(like, MF_KIND_INDEX, "select index children", e) < 0)
		return -1;
	if (n > MF_MAX_CHILDREN)
		return err_set(e, ERR_INPUT, "select index children: %zu positions", n);
	for (size_t i = 0; i < n; i++)
		if (positions[i] >= like->p.n_children)
			return err_set(
			    e, ERR_INPUT,
			    "select index children: position %zu is past the %zu children",
			    positions[i], like->p.n_children);
	doc = json_deep_copy(like->root);
	sel = json_array();
	if (!doc || !sel)
		goto nomem;
	src = json_object_get(doc, "manifests");
	/* The children are moved over as they are, unknown fields included. */
	for (size_t i = 0; i < n; i++)
		if (json_array_append(sel, json_array_get(src, positions[i])) < 0)
			goto nomem;
	if (json_object_set(doc, "manifests", sel) < 0)
		goto nomem;
	s = dump(doc);
	if (!s)
		goto nomem;
	r = mf_manifest_parse(s, strlen(s), like->p.media_type, ret_index, e);
	if (r < 0)
		err_prefix(e, "select index children");
	goto out;
nomem:
	nomem(e, "select index children");
out:
	free(s);
	json_decref(sel);
	json_decref(doc);
	return r;
}
