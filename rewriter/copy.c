/* copy.c - see copy.h. */
#include "copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../layers/hash.h"
#include "../manifest/digest.h"

#define MAX_NESTING 3 /* index -> index -> manifest is the deepest seen in practice */

int rw_image_blobs(const struct mf_manifest *m, const struct mf_descriptor ***ret_descs,
		   size_t *ret_n, struct err *e)
{
	size_t n = mf_manifest_layer_count(m), i;
	const struct mf_descriptor **descs;

	descs = calloc(n + 1, sizeof(*descs));
	if (!descs)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	for (i = 0; i < n; i++)
		descs[i] = mf_manifest_layer(m, i);
	descs[n] = mf_manifest_config(m);
	*ret_descs = descs;
	*ret_n = n + 1;
	return 0;
}

/* Everything needed to copy one index: the child manifests, read up front so
 * all their blobs can move in one parallel transfer. */
struct children {
	struct rg_manifest_blob *blobs;
	struct mf_manifest **parsed;
	size_t n;
};

static void children_free(struct children *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		rg_manifest_blob_clear(&c->blobs[i]);
		mf_manifest_free(c->parsed[i]);
	}
	free(c->blobs);
	free(c->parsed);
}

static int copy_manifest_tree(struct rg_endpoint *src, struct rg_endpoint *dst,
			      const struct rg_manifest_blob *mb, const struct mf_manifest *m,
			      int depth, int jobs, struct rg_stats *stats, struct err *e);

/* Copy the children of index m (blobs, then their manifests by digest). */
static int copy_children_at(struct rg_endpoint *src, struct rg_endpoint *dst,
			 const struct mf_manifest *m, const size_t *positions, size_t n, int depth,
			 int jobs, struct rg_stats *stats, struct err *e)
{
	struct children c = {0};
	const struct mf_descriptor **descs = NULL;
	size_t n_descs = 0, i, j;
	int rc = -1;

	c.blobs = calloc(n ? n : 1, sizeof(*c.blobs));
	c.parsed = calloc(n ? n : 1, sizeof(*c.parsed));
	if (!c.blobs || !c.parsed) {
		err_set(e, ERR_OPERATIONAL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct mf_descriptor *d = mf_manifest_child(m, positions[i]);

		if (rg_manifest_get(src, d->digest, &c.blobs[i], e) < 0)
			goto out;
		c.n = i + 1;
		if (mf_manifest_parse(c.blobs[i].data, c.blobs[i].len,
				      c.blobs[i].media_type ? c.blobs[i].media_type : d->media_type,
				      &c.parsed[i], e) < 0) {
			err_prefix(e, "%s@%s", rg_endpoint_repository(src), d->digest);
			goto out;
		}
	}
	/* One transfer for the blobs of every image child: the jobs overlap
	 * across platforms, and shared blobs are sent once (HEAD finds them). */
	for (i = 0; i < n; i++) {
		const struct mf_descriptor **more;
		size_t n_more;

		if (mf_manifest_kind(c.parsed[i]) != MF_KIND_IMAGE)
			continue;
		if (rw_image_blobs(c.parsed[i], &more, &n_more, e) < 0)
			goto out;
		const struct mf_descriptor **grown = realloc(descs, (n_descs + n_more) * sizeof(*descs));
		if (!grown) {
			free(more);
			err_set(e, ERR_OPERATIONAL, "out of memory");
			goto out;
		}
		descs = grown;
		for (j = 0; j < n_more; j++) {
			size_t k;
			bool seen = false;

			for (k = 0; k < n_descs && !seen; k++)
				seen = strcmp(descs[k]->digest, more[j]->digest) == 0;
			if (!seen)
				descs[n_descs++] = more[j];
		}
		free(more);
	}
	if (rg_blobs_transfer(src, dst, (const struct mf_descriptor *const *)descs, n_descs, jobs,
			      stats, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (mf_manifest_kind(c.parsed[i]) == MF_KIND_INDEX) {
			if (copy_manifest_tree(src, dst, &c.blobs[i], c.parsed[i], depth + 1, jobs,
					       stats, e) < 0)
				goto out;
			continue;
		}
		if (rg_manifest_put(dst, c.blobs[i].digest, c.blobs[i].data, c.blobs[i].len,
				    mf_manifest_media_type(c.parsed[i]), e) < 0)
			goto out;
	}
	rc = 0;
out:
	free(descs);
	children_free(&c);
	return rc;
}

int rw_copy_children(struct rg_endpoint *src, struct rg_endpoint *dst,
		     const struct mf_manifest *index, const size_t *positions, size_t n, int jobs,
		     struct rg_stats *stats, struct err *e)
{
	return copy_children_at(src, dst, index, positions, n, 0, jobs, stats, e);
}

/* Copy a manifest's content (not the manifest itself, except nested
 * indexes, which are stored by digest). */
static int copy_manifest_tree(struct rg_endpoint *src, struct rg_endpoint *dst,
			      const struct rg_manifest_blob *mb, const struct mf_manifest *m,
			      int depth, int jobs, struct rg_stats *stats, struct err *e)
{
	const struct mf_descriptor **descs = NULL;
	size_t n, i, *all = NULL;
	int rc = -1;

	if (depth > MAX_NESTING)
		return err_set(e, ERR_INPUT, "%s: indexes nested more than %d deep; refusing",
			       rg_endpoint_repository(src), MAX_NESTING);
	if (mf_manifest_kind(m) == MF_KIND_IMAGE) {
		if (rw_image_blobs(m, &descs, &n, e) < 0)
			return -1;
		rc = rg_blobs_transfer(src, dst, (const struct mf_descriptor *const *)descs, n, jobs,
				       stats, e);
		free(descs);
		return rc;
	}
	n = mf_manifest_child_count(m);
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	for (i = 0; i < n; i++)
		all[i] = i;
	rc = copy_children_at(src, dst, m, all, n, depth, jobs, stats, e);
	free(all);
	if (rc == 0 && depth > 0)
		rc = rg_manifest_put(dst, mb->digest, mb->data, mb->len, mf_manifest_media_type(m), e);
	return rc;
}

/* Where the result goes: dst's tag, or its digest when it names one (which
 * must then be the result's own). */
static int store_result(struct rg_endpoint *dst, const char *digest, const void *data, size_t len,
			const char *media_type, struct err *e)
{
	const char *want = rg_endpoint_digest(dst);

	if (want && strcmp(want, digest) != 0)
		return err_set(e, ERR_INPUT,
			       "%s: the destination names digest %s but the result is %s; name a tag "
			       "instead",
			       rg_endpoint_display(dst), want, digest);
	return rg_manifest_put(dst, want ? want : rg_endpoint_reference(dst), data, len, media_type,
			       e);
}

static int platform_list(const struct mf_platform *platforms, size_t n, char *out, size_t size)
{
	size_t i, pos = 0;

	out[0] = '\0';
	for (i = 0; i < n && pos < size; i++) {
		char *s = mf_platform_string(&platforms[i]);

		pos += (size_t)snprintf(out + pos, size - pos, "%s%s", i ? ", " : "", s ? s : "?");
		free(s);
	}
	return 0;
}

/* An index with --platform: copy the matching children only. */
static int copy_selected(struct rg_endpoint *src, struct rg_endpoint *dst,
			 const struct mf_manifest *index, const struct mf_platform *platforms,
			 size_t n_platforms, int jobs, struct rg_stats *stats, char ret_digest[MF_DIGEST_MAX],
			 struct err *e)
{
	size_t n = mf_manifest_child_count(index), *picked, n_picked = 0, i, k;
	struct mf_manifest *sub = NULL;
	char digest[LY_DIGEST_MAX];
	const char *bytes;
	size_t len;
	int rc = -1;

	picked = calloc(n ? n : 1, sizeof(*picked));
	if (!picked)
		return err_set(e, ERR_OPERATIONAL, "out of memory");
	for (i = 0; i < n; i++) {
		const struct mf_descriptor *d = mf_manifest_child(index, i);

		for (k = 0; k < n_platforms; k++) {
			if (mf_platform_matches(&d->platform, &platforms[k])) {
				picked[n_picked++] = i;
				break;
			}
		}
	}
	if (n_picked == 0) {
		char want[256];

		platform_list(platforms, n_platforms, want, sizeof(want));
		err_set(e, ERR_INPUT, "%s: the index has no image for %s (see 'inlay inspect --json')",
			rg_endpoint_display(src), want);
		goto out;
	}
	if (rw_copy_children(src, dst, index, picked, n_picked, jobs, stats, e) < 0)
		goto out;
	if (n_picked == 1) {
		/* One platform: the result is that child, under dst's tag. */
		struct rg_manifest_blob child = {0};
		const struct mf_descriptor *d = mf_manifest_child(index, picked[0]);

		if (rg_manifest_get(dst, d->digest, &child, e) < 0)
			goto out;
		rc = store_result(dst, child.digest, child.data, child.len, d->media_type, e);
		if (rc == 0)
			snprintf(ret_digest, MF_DIGEST_MAX, "%s", child.digest);
		rg_manifest_blob_clear(&child);
		goto out;
	}
	if (mf_index_select(index, picked, n_picked, &sub, e) < 0)
		goto out;
	bytes = mf_manifest_bytes(sub, &len);
	ly_sha256_digest(bytes, len, digest);
	if (store_result(dst, digest, bytes, len, mf_manifest_media_type(sub), e) < 0)
		goto out;
	snprintf(ret_digest, MF_DIGEST_MAX, "%s", digest);
	rc = 0;
out:
	mf_manifest_free(sub);
	free(picked);
	return rc;
}

int rw_copy_image(struct rg_endpoint *src, struct rg_endpoint *dst,
		  const struct mf_platform *platforms, size_t n_platforms, int jobs,
		  struct rg_stats *stats, char ret_digest[MF_DIGEST_MAX], struct err *e)
{
	struct rg_manifest_blob mb = {0};
	struct mf_manifest *m = NULL;
	int rc = -1;

	if (rg_manifest_get(src, NULL, &mb, e) < 0)
		goto out;
	if (mf_manifest_parse(mb.data, mb.len, mb.media_type, &m, e) < 0) {
		err_prefix(e, "%s", rg_endpoint_display(src));
		goto out;
	}
	if (mf_manifest_kind(m) == MF_KIND_INDEX && n_platforms > 0) {
		rc = copy_selected(src, dst, m, platforms, n_platforms, jobs, stats, ret_digest, e);
		goto out;
	}
	if (copy_manifest_tree(src, dst, &mb, m, 0, jobs, stats, e) < 0)
		goto out;
	if (store_result(dst, mb.digest, mb.data, mb.len, mf_manifest_media_type(m), e) < 0)
		goto out;
	snprintf(ret_digest, MF_DIGEST_MAX, "%s", mb.digest);
	rc = 0;
out:
	mf_manifest_free(m);
	rg_manifest_blob_clear(&mb);
	return rc;
}
