/* instrument.h - the instrument pipeline: read an image or index, append the
 * sensor layer to every Linux amd64/arm64 image, rewrite configs, manifests
 * and the index, and push the result (DESIGN.md section 4).
 *
 * The source is never modified. Base layers are never read when source and
 * destination share a registry: they are found present or mounted; across
 * registries they stream with bounded memory (registry/transfer.c). The
 * exception is --inventory (options.inventory), which streams every layer
 * of every instrumented image once more to list its executables
 * (inventory.h). */
#ifndef INLAY_RW_INSTRUMENT_H
#define INLAY_RW_INSTRUMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../layers/layer.h"
#include "../layers/sign.h"
#include "../manifest/image.h"
#include "../registry/registry.h"

#define RW_SENSOR_PATH "/.inlay/sensor"
#define RW_MAX_PLATFORMS 64

struct rw_instrument_options {
	const struct mf_platform *platforms; /* --platform: only these; NULL for all */
	size_t n_platforms;
	bool strict_platforms;               /* refuse platforms without a sensor */
	enum ly_compression compression;     /* LY_COMPRESS_AUTO follows the base */
	const char *mode;                    /* "monitor", "learn" or "enforce" */
	const char *policy_json;             /* validated policy object, or NULL */
	/* --sensor: external binaries per architecture, NULL for the embedded */
	const unsigned char *sensor_amd64, *sensor_arm64;
	size_t sensor_amd64_len, sensor_arm64_len;
	int jobs;
	const struct ly_key *signer;         /* --key: sign the sensor layer; NULL: unsigned */
	/* --inventory: read every layer of each image and add the list of its
	 * executables to its sensor layer (RW_INVENTORY_PATH, inventory.h),
	 * named in sensor.json as "inventory" */
	bool inventory;
	/* For a store that fills itself on demand (the mirror, DESIGN.md
	 * section 9): base layers and the blobs of children kept unchanged
	 * are not transferred, only the sensor layer, configs and manifests
	 * are stored; and the result is stored by its digest only, with no
	 * tag. The store then lacks blobs its manifests name: only a reader
	 * that fetches them from the source on demand may serve it. A
	 * registry refuses such manifests: one gets each manifest as a blob
	 * of the same bytes and digest instead, for the caller to put as a
	 * manifest once its blobs are there (mirror/fill.c). */
	bool lazy_store;
	/* Store everything, but the result by its digest only, not under dst's
	 * tag: the caller signs it and then tags it, so that a tag never names
	 * a result whose signatures are not there yet (sync). */
	bool untagged;
	/* Compute the result and its digest, write nothing: what a run would
	 * make, to compare with what a destination already holds (rewrite,
	 * sync). Reads the source as a run does. The digest is the one a run
	 * makes when signing is deterministic (Ed25519; ECDSA signatures, and
	 * so labels and digests, differ on each run). */
	bool dry_run;
};

/* What happened to one image (one platform). */
struct rw_platform_result {
	char platform[64];      /* "linux/amd64" */
	char source_digest[MF_DIGEST_MAX];
	char result_digest[MF_DIGEST_MAX]; /* equal to source_digest when kept unchanged */
	char sensor_layer_digest[MF_DIGEST_MAX]; /* "" when kept unchanged */
	size_t sensor_layer_size;
	bool instrumented;
	/* with --inventory: paths listed, executables left out (a "\n" in
	 * their path), and the bytes downloaded to read the layers */
	bool inventory;
	size_t inventory_entries;
	size_t inventory_left_out;
	uint64_t inventory_bytes_downloaded;
};

struct rw_instrument_result {
	char source_digest[MF_DIGEST_MAX];
	char result_digest[MF_DIGEST_MAX];
	char result_media_type[128]; /* the result manifest's */
	struct rw_platform_result platforms[RW_MAX_PLATFORMS];
	size_t n_platforms;
	size_t dropped_attestations;
	struct rg_stats stats;
};

/* Instrument what src names and store it at dst (under dst's tag). Warnings
 * (platforms kept unchanged) go to `warn` when it is not NULL. */
int rw_instrument(struct rg_endpoint *src, struct rg_endpoint *dst,
		  const struct rw_instrument_options *opt, struct rw_instrument_result *ret,
		  void (*warn)(const char *msg), struct err *e);

/* *ret: whether what src names has an image the sensor runs on (a Linux
 * amd64 or arm64 image, or an index with one). A Windows or s390x-only
 * image or index has none: rw_instrument refuses such an image, and
 * leaves such an index's children as they are. */
int rw_has_sensor_platform(struct rg_endpoint *src, bool *ret, struct err *e);

/* The sensor configuration /.inlay/sensor.json for these options: compact
 * JSON with a fixed key order, so the layer stays reproducible; with
 * opt->inventory it names the inventory ("inventory": RW_INVENTORY_PATH),
 * without it has no such key. Caller frees. */
int rw_sensor_config(const struct rw_instrument_options *opt, char **ret_json, size_t *ret_len,
		     struct err *e);

#endif
