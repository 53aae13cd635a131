#!/bin/bash
# inspect.t - `inlay inspect` prints a manifest exactly as stored (its sha256
# is the digest), the config blob exactly as stored with --config, and a JSON
# summary with --json, for OCI and Docker images, zstd images, indexes and OCI
# layouts; it fails with 1 on a missing tag, 2 on a malformed reference and 3
# on bytes that do not match their digest. skopeo is the reference reader.
. "$(dirname "$0")/lib.sh"
require_tools skopeo jq
require_inlay

plan 45

fixtures_build single zstd multi
D_SINGLE=$(fixture_digest single)
D_ZSTD=$(fixture_digest zstd)
D_MULTI=$(fixture_digest multi)
MI=$(layout_blob "$(fixture multi)" "$D_MULTI")
D_ARM=$(jq -r '.manifests[1].digest' "$MI")

start_registry open
push_fixture single "$REG/single:1"
push_fixture docker "$REG/docker:1"
push_fixture zstd "$REG/zstd:1"
push_fixture multi "$REG/multi:1"
D_DOCKER=$(skopeo_digest "docker://$REG/docker:1")

# --- the manifest, byte for byte --------------------------------------------
sk inspect --raw "docker://$REG/single:1" >"$T/single.sk"
run "$INLAY" inspect "$REG/single:1"
is "$status" 0 "inspect exits 0"
is "$(sha256_file "$RUN_OUT")" "$D_SINGLE" "the output's sha256 is the image digest"
ok "the output is exactly skopeo's --raw" cmp "$RUN_OUT" "$T/single.sk"
run "$INLAY" inspect --raw "$REG/single:1"
is "$status:$(sha256_file "$RUN_OUT")" "0:$D_SINGLE" "--raw prints the same bytes"
run "$INLAY" inspect "docker://$REG/single@$D_SINGLE"
is "$status:$(sha256_file "$RUN_OUT")" "0:$D_SINGLE" "by digest, with docker://"

run "$INLAY" inspect "$REG/docker:1"
is "$status:$(sha256_file "$RUN_OUT")" "0:$D_DOCKER" "a Docker schema2 manifest, byte for byte"
is "$(jq -r .mediaType "$RUN_OUT")" application/vnd.docker.distribution.manifest.v2+json \
	"...still schema2"

run "$INLAY" inspect "$REG/multi:1"
is "$status:$(sha256_file "$RUN_OUT")" "0:$D_MULTI" "an index, byte for byte"
run "$INLAY" inspect "$REG/multi@$D_ARM"
is "$status:$(sha256_file "$RUN_OUT")" "0:$D_ARM" "a child of the index, by digest"

run "$INLAY" inspect "$(fixture_ref single)"
is "$status:$(sha256_file "$RUN_OUT")" "0:$D_SINGLE" "an image in an OCI layout"
run "$INLAY" inspect "$(fixture_ref multi)"
is "$status:$(sha256_file "$RUN_OUT")" "0:$D_MULTI" "an index in an OCI layout"

# --- --config ----------------------------------------------------------------------
sk inspect --config --raw "docker://$REG/single:1" >"$T/config.sk"
CFG_DIGEST=$(jq -r .config.digest "$T/single.sk")
run "$INLAY" inspect --config "$REG/single:1"
is "$status" 0 "--config exits 0"
ok "--config prints exactly skopeo's --config --raw" cmp "$RUN_OUT" "$T/config.sk"
is "$(sha256_file "$RUN_OUT")" "$CFG_DIGEST" "...whose sha256 is the config digest"
is "$(jq -r '.os + "/" + .architecture' "$RUN_OUT")" linux/amd64 "...and it is the image config"
run "$INLAY" inspect --config "$REG/docker:1"
is "$status:$(sha256_file "$RUN_OUT")" \
	"0:$(skopeo_raw "docker://$REG/docker:1" | jq -r .config.digest)" "--config of a schema2 image"
run "$INLAY" inspect --config "$(fixture_ref single)"
is "$status:$(sha256_file "$RUN_OUT")" "0:$CFG_DIGEST" "--config from an OCI layout"
run "$INLAY" inspect --config "$REG/multi@$D_ARM"
is "$(jq -r .architecture "$RUN_OUT")" arm64 "--config of the arm64 child says arm64"

# --- --json ------------------------------------------------------------------------------
run "$INLAY" inspect --json "$REG/single:1"
is "$status" 0 "--json exits 0"
ok "--json prints valid JSON" jq -e . "$RUN_OUT"
is "$(jq -r .digest "$RUN_OUT")" "$D_SINGLE" "...with the digest"
is "$(jq -r .mediaType "$RUN_OUT")" application/vnd.oci.image.manifest.v1+json \
	"...the media type (even though the manifest itself omits it)"
is "$(jq -r '.layers | length' "$RUN_OUT")" 3 "...three layers"
is "$(jq -c '[.layers[] | {digest, size, mediaType}]' "$RUN_OUT")" \
	"$(jq -c '[.layers[] | {digest, size, mediaType}]' "$T/single.sk")" \
	"...each with the manifest's digest, size and media type"

run "$INLAY" inspect --json "$REG/docker:1"
is "$(jq -r '.digest + " " + .mediaType' "$RUN_OUT")" \
	"$D_DOCKER application/vnd.docker.distribution.manifest.v2+json" "--json of a schema2 image"
is "$(jq -r '[.layers[].mediaType] | unique | join(",")' "$RUN_OUT")" \
	application/vnd.docker.image.rootfs.diff.tar.gzip "...with Docker layer media types"

run "$INLAY" inspect --json "$REG/zstd:1"
is "$(jq -r .digest "$RUN_OUT")" "$D_ZSTD" "--json of the zstd image"
is "$(jq -r '[.layers[].mediaType] | unique | join(",")' "$RUN_OUT")" \
	application/vnd.oci.image.layer.v1.tar+zstd "...lists zstd layers"

run "$INLAY" inspect --json "$REG/multi:1"
is "$status" 0 "--json of an index exits 0"
is "$(jq -r '.digest + " " + .mediaType' "$RUN_OUT")" \
	"$D_MULTI application/vnd.oci.image.index.v1+json" "...with its digest and media type"
is "$(jq -r '.manifests | length' "$RUN_OUT")" 3 "...and three manifests"
platforms=$(jq -r '[.. | objects | select(has("os") and has("architecture")) |
	.os + "/" + .architecture] | join(" ")' "$RUN_OUT" 2>/dev/null)
like "$platforms $(cat "$RUN_OUT")" 'linux/amd64' "...listing linux/amd64"
like "$platforms $(cat "$RUN_OUT")" 'linux/arm64' "...and linux/arm64"
like "$(jq -r '.manifests[].digest' "$RUN_OUT")" "$D_ARM" "...with the children's digests"

run "$INLAY" inspect --json "$(fixture_ref multi)"
is "$(jq -r .digest "$RUN_OUT")" "$D_MULTI" "--json of an index in a layout"

# --- failures -------------------------------------------------------------------------
run "$INLAY" inspect "$REG/single:no-such-tag"
is "$status" 1 "a missing tag: exit 1"
like "$stderr" 'no-such-tag' "...the message names the reference"
is "$stdout" "" "...and nothing is printed on stdout"
run "$INLAY" inspect "$REG/no/such/repo:1"
is "$status" 1 "a missing repository: exit 1"
run "$INLAY" inspect "$REG/single@sha256:$(printf 'f%.0s' {1..64})"
is "$status" 1 "a missing digest: exit 1"
run "$INLAY" inspect 'UPPER/Case:tag'
is "$status" 2 "a malformed reference: exit 2"
run "$INLAY" inspect
is "$status" 2 "no reference: exit 2"
run "$INLAY" inspect --no-such-option "$REG/single:1"
is "$status" 2 "an unknown option: exit 2"

push_fixture single "$REG/tampered:1"
corrupt_manifest "$D_SINGLE"
run "$INLAY" inspect "$REG/tampered:1"
is "$status" 3 "a manifest whose bytes do not match the registry's digest: exit 3"
is "$stdout" "" "...and the tampered bytes are not printed"

done_testing
