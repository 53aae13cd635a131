/* copy.h - copy an image or an index between two endpoints, byte-exactly.
 *
 * Push order (DESIGN.md section 3): every blob (layers, then configs), then
 * child manifests by digest, then the index, and the tag last, so a tag never
 * names anything incomplete. */
#ifndef INLAY_RW_COPY_H
#define INLAY_RW_COPY_H

#include "../manifest/image.h"
#include "../registry/registry.h"

/* Copy what src names to dst. With no platforms an index is copied whole.
 * With platforms, only the matching children: one platform gives that
 * child's manifest itself (its digest kept), several a new index holding
 * just those. The result is stored under dst's tag, or, when dst names a
 * digest, only by digest (which must be the result's). *ret_digest gets the
 * digest of what was stored. */
int rw_copy_image(struct rg_endpoint *src, struct rg_endpoint *dst,
		  const struct mf_platform *platforms, size_t n_platforms, int jobs,
		  struct rg_stats *stats, char ret_digest[MF_DIGEST_MAX], struct err *e);

/* Copy the children of an index at the given positions: their blobs, then
 * their manifests by digest (not the index itself). */
int rw_copy_children(struct rg_endpoint *src, struct rg_endpoint *dst,
		     const struct mf_manifest *index, const size_t *positions, size_t n, int jobs,
		     struct rg_stats *stats, struct err *e);

/* The blobs of one image manifest, for rg_blobs_transfer: layers first, then
 * the config. *ret_descs is malloc'd; its pointers point into m. */
int rw_image_blobs(const struct mf_manifest *m, const struct mf_descriptor ***ret_descs,
		   size_t *ret_n, struct err *e);

#endif
