/* mediatype.h - every media type, annotation and label name inlay speaks.
 * One place, so no string literal is repeated across modules. */
#ifndef INLAY_MEDIATYPE_H
#define INLAY_MEDIATYPE_H

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

#define MT_COSIGN_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"

/* The Accept header for manifest reads: every manifest kind we understand. */
#define MT_ACCEPT_MANIFESTS                                                          \
	MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " MT_DOCKER_MANIFEST

/* OCI annotations */
#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_BASE_DIGEST "org.opencontainers.image.base.digest"
#define ANN_BASE_NAME "org.opencontainers.image.base.name"
#define ANN_DOCKER_REFERENCE_TYPE "vnd.docker.reference.type"
#define ANN_COSIGN_SIGNATURE "dev.cosignproject.cosign/signature"

/* Labels inlay writes into the image config */
#define LABEL_SENSOR_VERSION "io.inlay.sensor.version"
#define LABEL_SENSOR_DIGEST "io.inlay.sensor.digest"
#define LABEL_SENSOR_SIGNATURE "io.inlay.sensor.signature"
#define LABEL_SENSOR_SIGNER "io.inlay.sensor.signer"
#define LABEL_ORIGINAL_ENTRYPOINT "io.inlay.original.entrypoint"
#define LABEL_SOURCE "io.inlay.source"

/* Size limits for untrusted documents (DESIGN.md section 3) */
#define LIMIT_MANIFEST_BYTES (4u * 1024 * 1024)
#define LIMIT_CONFIG_BYTES (4u * 1024 * 1024)
#define LIMIT_TOKEN_BYTES (1u * 1024 * 1024)
#define LIMIT_ERROR_BODY_BYTES (1u * 1024 * 1024)

#endif
