/* cmd_inspect.c - `inlay inspect REF`: the manifest exactly as stored, its
 * config, or a summary. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../manifest/buf.h"
#include "../manifest/config.h"
#include "../manifest/mediatype.h"
#include "cli.h"

enum { OPT_CONFIG = OPT_COMMAND_BASE, OPT_RAW };

const char rw_inspect_usage[] =
	"Usage: inlay inspect REF [--raw | --config | --json] [--platform OS/ARCH] [options]\n"
	"\n"
	"Print the manifest REF names exactly as the registry stores it (so the sha256\n"
	"of the output is its digest). REF is a registry reference or oci:PATH[:TAG].\n"
	"\n"
	"  --raw                 the manifest bytes (the default)\n"
	"  --config              the image's config blob instead\n"
	"  --json                a summary: digest, media type, platforms, layers and sizes\n"
	"  --platform OS/ARCH    for an index, look at this platform's image\n" RW_TRANSPORT_USAGE;

static json_t *descriptor_json(const struct mf_descriptor *d)
{
	json_t *o = json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest,
			      "size", (json_int_t)d->size);
	char *platform = mf_platform_string(&d->platform);

	if (o && platform)
		json_object_set_new(o, "platform", json_string(platform));
	free(platform);
	if (o && d->n_annotations) {
		json_t *ann = json_object();
		size_t i;

		for (i = 0; i < d->n_annotations; i++)
			json_object_set_new(ann, d->annotations[i].key,
					    json_string(d->annotations[i].value));
		json_object_set_new(o, "annotations", ann);
	}
	return o;
}

/* The summary of --json. For an image it reads the config to tell the
 * platform, as an index would. */
static int print_summary(struct rg_endpoint *ep, const struct rg_manifest_blob *mb,
			 const struct mf_manifest *m, struct err *e)
{
	json_t *o, *arr;
	size_t i;
	int rc = -1;

	o = json_pack("{s:s, s:s, s:s, s:I}", "reference", rg_endpoint_display(ep), "digest",
		      mb->digest, "mediaType", mf_manifest_media_type(m), "size", (json_int_t)mb->len);
	if (!o)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	if (mf_manifest_kind(m) == MF_KIND_INDEX) {
		arr = json_array();
		for (i = 0; i < mf_manifest_child_count(m); i++)
			json_array_append_new(arr, descriptor_json(mf_manifest_child(m, i)));
		json_object_set_new(o, "manifests", arr);
	} else {
		const struct mf_descriptor *cd = mf_manifest_config(m);
		struct mf_config *cfg = NULL;
		struct buf cb;
		uint64_t total = 0;

		buf_init(&cb, LIMIT_CONFIG_BYTES);
		if (rg_blob_get(ep, cd->digest, &cb, e) < 0 ||
		    mf_config_parse(cb.data, cb.len, &cfg, e) < 0) {
			buf_free(&cb);
			goto out;
		}
		buf_free(&cb);
		json_object_set_new(o, "config", descriptor_json(cd));
		json_object_set_new(o, "os", json_string(mf_config_os(cfg)));
		json_object_set_new(o, "architecture", json_string(mf_config_architecture(cfg)));
		if (mf_config_variant(cfg))
			json_object_set_new(o, "variant", json_string(mf_config_variant(cfg)));
		mf_config_free(cfg);
		arr = json_array();
		for (i = 0; i < mf_manifest_layer_count(m); i++) {
			json_array_append_new(arr, descriptor_json(mf_manifest_layer(m, i)));
			total += (uint64_t)mf_manifest_layer(m, i)->size;
		}
		json_object_set_new(o, "layers", arr);
		json_object_set_new(o, "layersSize", json_integer((json_int_t)total));
	}
	rc = rw_print_json(o, e);
	o = NULL; /* transferred */
out:
	json_decref(o);
	return rc;
}

/* For an index and --platform, descend to the matching child. */
static int pick_platform(struct rg_endpoint *ep, struct rg_manifest_blob *mb,
			 struct mf_manifest **m, const struct mf_platform *want, struct err *e)
{
	size_t i;

	for (i = 0; i < mf_manifest_child_count(*m); i++) {
		const struct mf_descriptor *d = mf_manifest_child(*m, i);
		struct rg_manifest_blob child = {0};
		struct mf_manifest *cm = NULL;

		if (!mf_platform_matches(&d->platform, want))
			continue;
		if (rg_manifest_get(ep, d->digest, &child, e) < 0)
			return -1;
		if (mf_manifest_parse(child.data, child.len,
				      child.media_type ? child.media_type : d->media_type, &cm,
				      e) < 0) {
			rg_manifest_blob_clear(&child);
			return err_prefix(e, "%s@%s", rg_endpoint_repository(ep), d->digest);
		}
		rg_manifest_blob_clear(mb);
		*mb = child;
		mf_manifest_free(*m);
		*m = cm;
		return 0;
	}
	{
		char *s = mf_platform_string(want);

		err_set(e, ERR_INPUT, "%s: the index has no image for %s", rg_endpoint_display(ep),
			s ? s : "that platform");
		free(s);
	}
	return -1;
}

int cmd_inspect(int argc, char **argv, struct err *e)
{
	static const struct option longopts[] = {RW_TRANSPORT_OPTIONS,
						 {"config", no_argument, NULL, OPT_CONFIG},
						 {"raw", no_argument, NULL, OPT_RAW},
						 {NULL, 0, NULL, 0}};
	struct rg_manifest_blob mb = {0};
	struct rg_endpoint *ep = NULL;
	struct mf_manifest *m = NULL;
	struct rw_common c;
	bool want_config = false, want_raw = false;
	struct buf cb;
	int opt, rc = -1;

	buf_init(&cb, LIMIT_CONFIG_BYTES);
	rw_common_init(&c);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = rw_common_option(&c, opt, optarg, e);

		if (r < 0)
			goto out;
		if (r == 1)
			continue;
		if (opt == OPT_CONFIG)
			want_config = true;
		else if (opt == OPT_RAW)
			want_raw = true;
		else {
			rw_bad_option(e, "inspect", argv);
			goto out;
		}
	}
	if (c.help) {
		fputs(rw_inspect_usage, stdout);
		rc = 0;
		goto out;
	}
	if (argc - optind != 1) {
		rw_usage_error(e, "inspect", "takes one reference, got %d", argc - optind);
		goto out;
	}
	if ((int)want_config + (int)want_raw + (int)c.json > 1) {
		rw_usage_error(e, "inspect", "--raw, --config and --json exclude each other");
		goto out;
	}
	if (c.n_platforms > 1) {
		rw_usage_error(e, "inspect", "give at most one --platform");
		goto out;
	}
	if (rg_endpoint_open(argv[optind], &c.src, &ep, e) < 0)
		goto out;
	if (rg_manifest_get(ep, NULL, &mb, e) < 0)
		goto out;
	if (mf_manifest_parse(mb.data, mb.len, mb.media_type, &m, e) < 0) {
		err_prefix(e, "%s", rg_endpoint_display(ep));
		goto out;
	}
	if (c.n_platforms == 1 && mf_manifest_kind(m) == MF_KIND_INDEX &&
	    pick_platform(ep, &mb, &m, &c.platforms[0], e) < 0)
		goto out;
	if (c.json) {
		rc = print_summary(ep, &mb, m, e);
		goto out;
	}
	if (want_config) {
		if (mf_manifest_kind(m) != MF_KIND_IMAGE) {
			err_set(e, ERR_INPUT, "%s is an index, which has no config; choose an image with --platform OS/ARCH",
				rg_endpoint_display(ep));
			goto out;
		}
		if (rg_blob_get(ep, mf_manifest_config(m)->digest, &cb, e) < 0)
			goto out;
		rc = fwrite(cb.data, 1, cb.len, stdout) == cb.len ? 0 : -1;
	} else {
		rc = fwrite(mb.data, 1, mb.len, stdout) == mb.len ? 0 : -1;
	}
	if (rc < 0)
		err_sys(e, ERR_OPERATIONAL, "write to stdout");
out:
	buf_free(&cb);
	mf_manifest_free(m);
	rg_manifest_blob_clear(&mb);
	rg_endpoint_free(ep);
	rw_common_free(&c);
	return rc;
}
