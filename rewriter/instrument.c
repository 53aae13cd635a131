/* instrument.c - see instrument.h. One image at a time: read its config,
 * undo an earlier instrumentation, append the sensor layer, wrap the
 * entrypoint, then push blobs, config and manifest in that order. An index
 * is rebuilt from its instrumented children. */
#include "instrument.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../layers/hash.h"
#include "../manifest/config.h"
#include "../manifest/mediatype.h"
#include "copy.h"
#include "inventory.h"
#include "sensors.h"
#include "signature.h"

#define SENSOR_LAYER_MAX (64u * 1024 * 1024)
#define N_ARCH 2

static const char *const sensor_prefix[] = {RW_SENSOR_PATH, "--", NULL};

struct pipeline {
	struct rg_endpoint *src, *dst;
	const struct rw_instrument_options *opt;
	struct rw_instrument_result *res;
	void (*warn)(const char *msg);
	char *sensor_json;
	size_t sensor_json_len;
	/* Sensor layers built so far, per architecture and compression: an
	 * index of many images builds each at most once. */
	struct ly_layer layers[N_ARCH][3];
	bool built[N_ARCH][3];
};

static int arch_index(const char *arch)
{
	if (strcmp(arch, "amd64") == 0)
		return 0;
	if (strcmp(arch, "arm64") == 0)
		return 1;
	return -1;
}

static void warnf(struct pipeline *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(struct pipeline *p, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	if (!p->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->warn(msg);
}

int rw_sensor_config(const struct rw_instrument_options *opt, char **ret_json, size_t *ret_len,
		     struct err *e)
{
	json_t *o, *policy = NULL;
	json_error_t je;
	char *text;

	o = json_pack("{s:i, s:s, s:s, s:s}", "version", 1, "mode", opt->mode ? opt->mode : "monitor",
		      "fail", "open", "output", "stderr");
	if (!o)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (opt->inventory &&
	    json_object_set_new(o, "inventory", json_string(RW_INVENTORY_PATH)) < 0) {
		json_decref(o);
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	}
	if (opt->policy_json) {
		policy = json_loads(opt->policy_json, JSON_REJECT_DUPLICATES, &je);
		if (!policy) {
			json_decref(o);
			return err_set(e, ERR_INPUT, "policy: %s", je.text);
		}
		json_object_set_new(o, "policy", policy);
	}
	/* Sorted keys: the layer's bytes must not depend on how the policy
	 * file happened to order them. */
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	*ret_json = text;
	*ret_len = strlen(text);
	return 0;
}

static int sensor_binary(struct pipeline *p, int arch, const unsigned char **ret_data,
			 size_t *ret_len, struct err *e)
{
	const unsigned char *ext = arch == 0 ? p->opt->sensor_amd64 : p->opt->sensor_arm64;
	size_t ext_len = arch == 0 ? p->opt->sensor_amd64_len : p->opt->sensor_arm64_len;
	const struct rw_sensor *s;

	if (ext) {
		*ret_data = ext;
		*ret_len = ext_len;
		return 0;
	}
	s = rw_sensor_embedded(arch == 0 ? "amd64" : "arm64");
	if (!s || s->len == 0)
		return err_set(e, ERR_OPERATIONAL, "this inlay was built without a sensor for %s",
			       arch == 0 ? "amd64" : "arm64");
	*ret_data = s->data;
	*ret_len = s->len;
	return 0;
}

/* Build a sensor layer: .inlay/, the sensor, sensor.json and, when inv is
 * not NULL, the inventory (tar path: RW_INVENTORY_PATH without its '/'; the
 * builder sorts, so .inlay/inventory comes before .inlay/sensor). */
static int build_sensor_layer(struct pipeline *p, int arch, enum ly_compression c,
			      const struct rw_inventory_text *inv, struct ly_layer *ret,
			      struct err *e)
{
	struct ly_layer_builder *b = NULL;
	const unsigned char *bin = NULL;
	size_t bin_len = 0;
	int rc = -1;

	if (sensor_binary(p, arch, &bin, &bin_len, e) < 0)
		return -1;
	if (ly_layer_builder_new(SENSOR_LAYER_MAX + (inv ? inv->len : 0), &b, e) < 0)
		return -1;
	if (ly_layer_add_dir(b, ".inlay/", 0755, e) < 0 ||
	    (inv &&
	     ly_layer_add_file(b, &RW_INVENTORY_PATH[1], 0444, inv->data, inv->len, e) < 0) ||
	    ly_layer_add_file(b, ".inlay/sensor", 0555, bin, bin_len, e) < 0 ||
	    ly_layer_add_file(b, ".inlay/sensor.json", 0444, p->sensor_json, p->sensor_json_len,
			      e) < 0 ||
	    ly_layer_finish(b, c, ret, e) < 0) {
		err_prefix(e, "build the sensor layer");
		goto out;
	}
	rc = 0;
out:
	ly_layer_builder_free(b);
	return rc;
}

/* The sensor layer for an architecture and compression, built once. */
static int sensor_layer(struct pipeline *p, int arch, enum ly_compression c,
			const struct ly_layer **ret, struct err *e)
{
	if (!p->built[arch][c]) {
		if (build_sensor_layer(p, arch, c, NULL, &p->layers[arch][c], e) < 0)
			return -1;
		p->built[arch][c] = true;
	}
	*ret = &p->layers[arch][c];
	return 0;
}

/* With --inventory: list the image's executables (its layers as they are
 * after strip_previous) and build this image's own sensor layer with them
 * into *own. */
static int inventory_layer(struct pipeline *p, const struct mf_manifest *m, int arch,
			   enum ly_compression c, struct rw_platform_result *pr,
			   struct ly_layer *own, struct err *e)
{
	struct rw_inventory_text inv = {0};
	struct rg_stats st = {0};
	int rc;

	rc = rw_inventory_of_image(p->src, m, &inv, &st, e);
	p->res->stats.bytes_downloaded += st.bytes_downloaded;
	pr->inventory_bytes_downloaded = st.bytes_downloaded;
	if (rc < 0)
		return -1;
	if (inv.left_out > 0)
		warnf(p,
		      "%s: %zu executables with a newline in their name are left out of the "
		      "inventory; running them will count as drift",
		      pr->platform, inv.left_out);
	rc = build_sensor_layer(p, arch, c, &inv, own, e);
	if (rc == 0) {
		pr->inventory = true;
		pr->inventory_entries = inv.entries;
		pr->inventory_left_out = inv.left_out;
	}
	rw_inventory_text_clear(&inv);
	return rc;
}

/* The compression of the new layer: as asked, else zstd when the base
 * already uses zstd (its runtimes read zstd), else gzip. */
static int pick_compression(const struct pipeline *p, const struct mf_manifest *m, bool docker,
			    enum ly_compression *ret, struct err *e)
{
	enum ly_compression c = p->opt->compression;
	size_t i;

	if (c == LY_COMPRESS_AUTO) {
		c = LY_COMPRESS_GZIP;
		for (i = 0; i < mf_manifest_layer_count(m); i++)
			if (strcmp(mf_manifest_layer(m, i)->media_type, MT_OCI_LAYER_ZSTD) == 0)
				c = LY_COMPRESS_ZSTD;
	}
	if (docker && c != LY_COMPRESS_GZIP)
		return err_set(e, ERR_INPUT,
			       "--compression %s needs an OCI manifest, and this is a Docker schema2 "
			       "image (use gzip, or convert it to OCI first)",
			       ly_compression_name(c));
	*ret = c;
	return 0;
}

/* When the image was instrumented before, take its sensor layer out and
 * restore what it wrapped, so the result equals instrumenting the original.
 * *ret_source gets the original's digest (malloc'd) or stays NULL. */
static int strip_previous(struct mf_manifest *m, struct mf_config *cfg, char **ret_source,
			  struct err *e)
{
	const char *layer_digest = mf_config_label(cfg, LABEL_SENSOR_DIGEST);
	const char *source = mf_config_label(cfg, LABEL_SOURCE);
	size_t i, n = mf_manifest_layer_count(m);

	*ret_source = NULL;
	if (!mf_config_label(cfg, LABEL_SENSOR_VERSION))
		return 0;
	if (!layer_digest)
		return err_set(e, ERR_INPUT, "the image carries %s but not %s; refusing to guess which "
					     "layer is the old sensor",
			       LABEL_SENSOR_VERSION, LABEL_SENSOR_DIGEST);
	for (i = 0; i < n; i++)
		if (strcmp(mf_manifest_layer(m, i)->digest, layer_digest) == 0)
			break;
	if (i == n)
		return err_set(e, ERR_INPUT, "the image's sensor layer %s (label %s) is not among its "
					     "layers; refusing to re-instrument it",
			       layer_digest, LABEL_SENSOR_DIGEST);
	if (source && !(*ret_source = strdup(source)))
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (mf_manifest_remove_layer(m, i, e) < 0 || mf_config_remove_diff_id(cfg, i, e) < 0 ||
	    mf_config_remove_history_layer(cfg, i, e) < 0 || mf_config_unwrap_entrypoint(cfg, e) < 0)
		return -1;
	/* Labels are re-added below in the order a first instrumentation
	 * writes them, so the config comes out byte-identical. */
	if (mf_config_remove_label(cfg, LABEL_SENSOR_VERSION, e) < 0 ||
	    mf_config_remove_label(cfg, LABEL_SENSOR_DIGEST, e) < 0 ||
	    mf_config_remove_label(cfg, LABEL_SENSOR_SIGNATURE, e) < 0 ||
	    mf_config_remove_label(cfg, LABEL_SENSOR_SIGNER, e) < 0 ||
	    mf_config_remove_label(cfg, LABEL_SOURCE, e) < 0)
		return -1;
	return 0;
}

static int check_platform(const struct mf_config *cfg, int *ret_arch, struct err *e)
{
	const char *os = mf_config_os(cfg), *arch = mf_config_architecture(cfg);

	if (strcmp(os, "windows") == 0)
		return err_set(e, ERR_INPUT, "this is a Windows image; inlay's sensor runs on Linux only");
	if (strcmp(os, "linux") != 0)
		return err_set(e, ERR_INPUT, "the image's os is '%.40s'; inlay's sensor runs on Linux only",
			       os);
	*ret_arch = arch_index(arch);
	if (*ret_arch < 0)
		return err_set(e, ERR_INPUT,
			       "no sensor for linux/%.40s (inlay has linux/amd64 and linux/arm64)", arch);
	return 0;
}

/* A result's manifest into the store by its digest. A registry refuses a
 * manifest whose blobs it lacks, so a lazy store that is one gets the
 * bytes as a blob of the same digest, for its filler to put as a manifest
 * once the blobs are there (options.lazy_store). */
static int put_result_manifest(struct pipeline *p, const char *digest, const void *data,
			       size_t len, const char *media_type, struct err *e)
{
	if (p->opt->lazy_store && !rg_endpoint_is_layout(p->dst))
		return rg_blob_put(p->dst, digest, data, len, e) < 0 ? -1 : 0;
	return rg_manifest_put(p->dst, digest, data, len, media_type, e);
}

/* Instrument one image manifest; the result is stored by digest at dst
 * unless top_level (the caller then stores it under the tag). */
static int instrument_image(struct pipeline *p, const struct rg_manifest_blob *mb,
			    const char *media_type_hint, bool top_level,
			    struct rw_platform_result *pr, struct mf_manifest **ret_manifest,
			    struct err *e)
{
	struct mf_manifest *m = NULL;
	struct mf_config *cfg = NULL;
	const struct ly_layer *layer;
	const struct mf_descriptor **descs = NULL;
	struct mf_descriptor sensor_desc = {0};
	struct ly_layer own_layer = {0}; /* with --inventory: this image's own */
	struct buf cb;
	char *cfg_bytes = NULL, *source = NULL, *repo_ref = NULL;
	char cfg_digest[LY_DIGEST_MAX], created_by[64];
	enum ly_compression comp = LY_COMPRESS_GZIP;
	size_t cfg_len, n_descs;
	const char *mt;
	bool docker;
	int arch, rc = -1, put;

	buf_init(&cb, LIMIT_CONFIG_BYTES);
	if (mf_manifest_parse(mb->data, mb->len, mb->media_type ? mb->media_type : media_type_hint,
			      &m, e) < 0)
		goto out;
	if (mf_manifest_kind(m) != MF_KIND_IMAGE) {
		err_set(e, ERR_INPUT, "expected an image manifest, found an index");
		goto out;
	}
	mt = mf_manifest_media_type(m);
	docker = strcmp(mt, MT_DOCKER_MANIFEST) == 0;
	if (rg_blob_get(p->src, mf_manifest_config(m)->digest, &cb, e) < 0 ||
	    mf_config_parse(cb.data, cb.len, &cfg, e) < 0)
		goto out;
	if (check_platform(cfg, &arch, e) < 0)
		goto out;
	snprintf(pr->platform, sizeof(pr->platform), "%s/%s", mf_config_os(cfg),
		 mf_config_architecture(cfg));
	snprintf(pr->source_digest, sizeof(pr->source_digest), "%s", mb->digest);
	if (strip_previous(m, cfg, &source, e) < 0)
		goto out;
	if (pick_compression(p, m, docker, &comp, e) < 0)
		goto out;
	if (p->opt->inventory) {
		/* Before anything is pushed: a failure leaves dst as it was. */
		if (inventory_layer(p, m, arch, comp, pr, &own_layer, e) < 0)
			goto out;
		layer = &own_layer;
	} else if (sensor_layer(p, arch, comp, &layer, e) < 0) {
		goto out;
	}

	/* The config: entrypoint, labels, history, diff_ids. */
	snprintf(created_by, sizeof(created_by), "inlay instrument %s", INLAY_VERSION);
	if (mf_config_wrap_entrypoint(cfg, sensor_prefix, e) < 0 ||
	    mf_config_set_label(cfg, LABEL_SENSOR_VERSION, INLAY_VERSION, e) < 0 ||
	    mf_config_set_label(cfg, LABEL_SENSOR_DIGEST, layer->digest, e) < 0 ||
	    rw_sensor_labels_sign(p->opt->signer, cfg, layer->digest, e) < 0 ||
	    mf_config_set_label(cfg, LABEL_SOURCE, source ? source : mb->digest, e) < 0 ||
	    mf_config_append_diff_id(cfg, layer->diff_id, e) < 0 ||
	    mf_config_append_history(cfg, created_by, e) < 0 ||
	    mf_config_serialize(cfg, &cfg_bytes, &cfg_len, e) < 0)
		goto out;
	ly_sha256_digest(cfg_bytes, cfg_len, cfg_digest);

	/* The manifest: the new layer last, the new config, and for OCI the
	 * base image it was made from (kept from a previous instrumentation). */
	sensor_desc.media_type = (char *)ly_media_type_for(comp, docker);
	sensor_desc.digest = (char *)layer->digest;
	sensor_desc.size = (int64_t)layer->size;
	if (mf_manifest_append_layer(m, &sensor_desc, e) < 0 ||
	    mf_manifest_set_config(m, cfg_digest, (int64_t)cfg_len, e) < 0)
		goto out;
	if (!docker && !source) {
		repo_ref = strdup(rg_endpoint_display(p->src));
		if (!repo_ref || mf_manifest_set_annotation(m, ANN_BASE_DIGEST, mb->digest, e) < 0 ||
		    mf_manifest_set_annotation(m, ANN_BASE_NAME, repo_ref, e) < 0)
			goto out;
	}
	if (mf_manifest_serialize(m, e) < 0)
		goto out;

	/* Push: base layers (every layer but the sensor's, which is last; the
	 * old config is left behind: nothing refers to it), the sensor layer,
	 * the config, then the manifest. */
	if (p->opt->dry_run) {
		size_t len;
		const char *bytes = mf_manifest_bytes(m, &len);

		ly_sha256_digest(bytes, len, pr->result_digest);
		goto done;
	}
	if (rw_image_blobs(m, &descs, &n_descs, e) < 0)
		goto out;
	if (!p->opt->lazy_store &&
	    rg_blobs_transfer(p->src, p->dst, descs, mf_manifest_layer_count(m) - 1, p->opt->jobs,
			      &p->res->stats, e) < 0)
		goto out;
	put = rg_blob_put(p->dst, layer->digest, layer->data, layer->size, e);
	if (put < 0)
		goto out;
	if (put)
		p->res->stats.bytes_uploaded += layer->size;
	put = rg_blob_put(p->dst, cfg_digest, cfg_bytes, cfg_len, e);
	if (put < 0)
		goto out;
	if (put)
		p->res->stats.bytes_uploaded += cfg_len;
	{
		size_t len;
		const char *bytes = mf_manifest_bytes(m, &len);

		ly_sha256_digest(bytes, len, pr->result_digest);
		/* Not `mt`: changing m freed the string it pointed to. */
		if (!top_level && put_result_manifest(p, pr->result_digest, bytes, len,
						      mf_manifest_media_type(m), e) < 0)
			goto out;
	}
done:
	snprintf(pr->sensor_layer_digest, sizeof(pr->sensor_layer_digest), "%s", layer->digest);
	pr->sensor_layer_size = layer->size;
	pr->instrumented = true;
	*ret_manifest = m;
	m = NULL; /* transferred */
	rc = 0;
out:
	ly_layer_release(&own_layer);
	buf_free(&cb);
	free(descs);
	free(cfg_bytes);
	free(source);
	free(repo_ref);
	mf_config_free(cfg);
	mf_manifest_free(m);
	return rc;
}

static bool is_attestation(const struct mf_descriptor *d)
{
	return mf_descriptor_annotation(d, ANN_DOCKER_REFERENCE_TYPE) ||
	       (d->platform.os && strcmp(d->platform.os, "unknown") == 0 && d->platform.architecture &&
		strcmp(d->platform.architecture, "unknown") == 0);
}

static bool selected(const struct pipeline *p, const struct mf_platform *pl)
{
	size_t k;

	if (p->opt->n_platforms == 0)
		return true;
	for (k = 0; k < p->opt->n_platforms; k++)
		if (mf_platform_matches(pl, &p->opt->platforms[k]))
			return true;
	return false;
}

/* A child kept unchanged, in a lazy store: its manifest only. */
static int copy_manifest_only(struct pipeline *p, const struct mf_descriptor *d, struct err *e)
{
	struct rg_manifest_blob mb = {0};
	int rc;

	if (rg_manifest_get(p->src, d->digest, &mb, e) < 0)
		return -1;
	rc = put_result_manifest(p, d->digest, mb.data, mb.len,
				 mb.media_type ? mb.media_type : d->media_type, e);
	rg_manifest_blob_clear(&mb);
	return rc;
}

static int instrument_index(struct pipeline *p, const struct rg_manifest_blob *mb,
			    struct mf_manifest **ret_index, struct err *e)
{
	struct mf_manifest *idx = NULL;
	size_t n, i;
	int rc = -1;
	bool *drop = NULL;

	if (mf_manifest_parse(mb->data, mb->len, mb->media_type, &idx, e) < 0)
		goto out;
	n = mf_manifest_child_count(idx);
	drop = calloc(n ? n : 1, sizeof(*drop));
	if (!drop) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct mf_descriptor *d = mf_manifest_child(idx, i);
		const struct mf_platform *pl = &d->platform;
		struct rw_platform_result *pr;
		struct rg_manifest_blob child = {0};
		struct mf_manifest *out_child = NULL;
		char *name;
		int r;

		if (is_attestation(d)) {
			/* It attests the old digests, which the result no longer has. */
			drop[i] = true;
			p->res->dropped_attestations++;
			continue;
		}
		if (!selected(p, pl)) {
			drop[i] = true;
			continue;
		}
		if (p->res->n_platforms >= RW_MAX_PLATFORMS) {
			err_set(e, ERR_INPUT, "the index has more than %d platforms", RW_MAX_PLATFORMS);
			goto out;
		}
		pr = &p->res->platforms[p->res->n_platforms++];
		name = mf_platform_string(pl);
		snprintf(pr->platform, sizeof(pr->platform), "%s", name ? name : "unknown");
		free(name);
		snprintf(pr->source_digest, sizeof(pr->source_digest), "%s", d->digest);
		if (!pl->os || strcmp(pl->os, "linux") != 0 || !pl->architecture ||
		    arch_index(pl->architecture) < 0) {
			if (p->opt->strict_platforms) {
				err_set(e, ERR_INPUT,
					"the index has %s, for which inlay has no sensor "
					"(--strict-platforms); select platforms with --platform",
					pr->platform);
				goto out;
			}
			warnf(p, "keeping %s unchanged: inlay has no sensor for it", pr->platform);
			if (!p->opt->dry_run &&
			    (p->opt->lazy_store ? copy_manifest_only(p, d, e)
						: rw_copy_children(p->src, p->dst, idx, &i, 1, p->opt->jobs,
								   &p->res->stats, e)) < 0)
				goto out;
			snprintf(pr->result_digest, sizeof(pr->result_digest), "%s", d->digest);
			continue;
		}
		if (rg_manifest_get(p->src, d->digest, &child, e) < 0)
			goto out;
		r = instrument_image(p, &child, d->media_type, false, pr, &out_child, e);
		rg_manifest_blob_clear(&child);
		if (r < 0) {
			err_prefix(e, "%s (%s)", pr->platform, d->digest);
			goto out;
		}
		{
			size_t len;

			mf_manifest_bytes(out_child, &len);
			r = mf_index_replace_child(idx, i, pr->result_digest, (int64_t)len, e);
		}
		mf_manifest_free(out_child);
		if (r < 0)
			goto out;
	}
	for (i = n; i-- > 0;)
		if (drop[i] && mf_index_remove_child(idx, i, e) < 0)
			goto out;
	if (p->res->n_platforms == 0) {
		err_set(e, ERR_INPUT, "nothing to instrument: the index has no image for the platforms asked for");
		goto out;
	}
	if (mf_manifest_serialize(idx, e) < 0)
		goto out;
	*ret_index = idx;
	idx = NULL; /* transferred */
	rc = 0;
out:
	free(drop);
	mf_manifest_free(idx);
	return rc;
}

int rw_instrument(struct rg_endpoint *src, struct rg_endpoint *dst,
		  const struct rw_instrument_options *opt, struct rw_instrument_result *ret,
		  void (*warn)(const char *msg), struct err *e)
{
	struct pipeline p = {0};
	struct rg_manifest_blob mb = {0};
	struct mf_manifest *top = NULL, *result = NULL;
	const char *bytes;
	size_t len;
	int a, c, rc = -1;

	memset(ret, 0, sizeof(*ret));
	p.src = src;
	p.dst = dst;
	p.opt = opt;
	p.res = ret;
	p.warn = warn;
	if (rw_sensor_config(opt, &p.sensor_json, &p.sensor_json_len, e) < 0)
		goto out;
	if (rg_manifest_get(src, NULL, &mb, e) < 0)
		goto out;
	snprintf(ret->source_digest, sizeof(ret->source_digest), "%s", mb.digest);
	if (mf_manifest_parse(mb.data, mb.len, mb.media_type, &top, e) < 0) {
		err_prefix(e, "%s", rg_endpoint_display(src));
		goto out;
	}
	if (mf_manifest_kind(top) == MF_KIND_INDEX) {
		if (instrument_index(&p, &mb, &result, e) < 0)
			goto out;
	} else {
		struct rw_platform_result *pr = &ret->platforms[ret->n_platforms++];

		if (instrument_image(&p, &mb, NULL, true, pr, &result, e) < 0)
			goto out;
		if (opt->n_platforms) {
			struct mf_platform have;
			size_t k;
			bool ok = false;

			if (mf_platform_parse(pr->platform, &have, e) < 0)
				goto out;
			for (k = 0; k < opt->n_platforms && !ok; k++)
				ok = mf_platform_matches(&have, &opt->platforms[k]);
			mf_platform_clear(&have);
			if (!ok) {
				err_set(e, ERR_INPUT, "the image is %s, not a platform asked for with --platform",
					pr->platform);
				goto out;
			}
		}
	}
	bytes = mf_manifest_bytes(result, &len);
	ly_sha256_digest(bytes, len, ret->result_digest);
	snprintf(ret->result_media_type, sizeof(ret->result_media_type), "%s",
		 mf_manifest_media_type(result));
	if (rg_endpoint_digest(dst) && !opt->lazy_store) {
		err_set(e, ERR_INPUT, "%s: the destination must name a tag, not a digest",
			rg_endpoint_display(dst));
		goto out;
	}
	if (!opt->dry_run &&
	    (opt->lazy_store || opt->untagged
		     ? put_result_manifest(&p, ret->result_digest, bytes, len,
					   mf_manifest_media_type(result), e)
		     : rg_manifest_put(dst, rg_endpoint_reference(dst), bytes, len,
				       mf_manifest_media_type(result), e)) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0 && e->msg[0] && !strstr(e->msg, rg_endpoint_display(src)))
		err_prefix(e, "%s", rg_endpoint_display(src));
	for (a = 0; a < N_ARCH; a++)
		for (c = 0; c < 3; c++)
			ly_layer_release(&p.layers[a][c]);
	free(p.sensor_json);
	mf_manifest_free(top);
	mf_manifest_free(result);
	rg_manifest_blob_clear(&mb);
	return rc;
}

int rw_has_sensor_platform(struct rg_endpoint *src, bool *ret, struct err *e)
{
	struct rg_manifest_blob mb = {0};
	struct mf_manifest *m = NULL;
	struct mf_config *cfg = NULL;
	struct buf b;
	size_t i;
	int rc = -1;

	*ret = false;
	buf_init(&b, LIMIT_CONFIG_BYTES);
	if (rg_manifest_get(src, NULL, &mb, e) < 0 ||
	    mf_manifest_parse(mb.data, mb.len, mb.media_type, &m, e) < 0)
		goto out;
	if (mf_manifest_kind(m) == MF_KIND_INDEX) {
		for (i = 0; i < mf_manifest_child_count(m) && !*ret; i++) {
			const struct mf_platform *pl = &mf_manifest_child(m, i)->platform;

			*ret = pl->os && pl->architecture && strcmp(pl->os, "linux") == 0 &&
			       arch_index(pl->architecture) >= 0;
		}
	} else if (mf_manifest_config(m)) {
		if (rg_blob_get(src, mf_manifest_config(m)->digest, &b, e) < 0 ||
		    mf_config_parse(b.data, b.len, &cfg, e) < 0)
			goto out;
		*ret = strcmp(mf_config_os(cfg), "linux") == 0 &&
		       arch_index(mf_config_architecture(cfg)) >= 0;
	}
	rc = 0;
out:
	mf_config_free(cfg);
	mf_manifest_free(m);
	rg_manifest_blob_clear(&mb);
	buf_free(&b);
	return rc;
}
