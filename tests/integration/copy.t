#!/bin/bash
# copy.t - `inlay copy` between open registries and OCI layouts keeps every
# digest: single OCI images, Docker schema2, zstd layers, whole indexes with an
# attestation, one platform of an index, round trips through a layout, and
# mounts within one registry. Each result is read back by skopeo (which
# verifies every digest) and, for layouts, unpacked by umoci; where skopeo can
# make the same copy it does, to show the expectation is reachable.
. "$(dirname "$0")/lib.sh"
require_tools skopeo umoci jq
require_inlay

plan 71

fixtures_build single zstd multi
D_SINGLE=$(fixture_digest single)
D_ZSTD=$(fixture_digest zstd)
D_MULTI=$(fixture_digest multi)
MI=$(layout_blob "$(fixture multi)" "$D_MULTI")
D_AMD=$(jq -r '.manifests[0].digest' "$MI")
D_ARM=$(jq -r '.manifests[1].digest' "$MI")
D_ATT=$(jq -r '.manifests[2].digest' "$MI")
SM=$(layout_blob "$(fixture single)" "$D_SINGLE")

start_registry open     # the source: REG
start_registry open DST # the destination: another registry, so blobs are streamed
push_fixture single "$REG/src/single:1"
push_fixture docker "$REG/src/docker:1"
push_fixture zstd "$REG/src/zstd:1"
push_fixture multi "$REG/src/multi:1"
D_DOCKER=$(skopeo_digest "docker://$REG/src/docker:1")

# check_copy DESC DST-REF EXPECTED-DIGEST: the result as skopeo sees it.
check_copy() {
	local desc=$1 ref=$2 want=$3
	is "$(skopeo_digest "docker://$ref")" "$want" "$desc: skopeo reads the same digest"
}

# --- one OCI image ----------------------------------------------------------
run "$INLAY" copy "$REG/src/single:1" "$DST/single:1"
is "$status" 0 "copy single registry -> registry exits 0"
is "$stdout" "$DST/single@$D_SINGLE" "it prints DST-REPOSITORY@DIGEST with the source digest"
check_copy "single" "$DST/single:1" "$D_SINGLE"
ok "skopeo pulls the copy, verifying every blob" \
	sk copy -q "docker://$DST/single:1" "oci:$T/verify-single:v"
ok "skopeo makes the same copy with the same digest (reference)" \
	sk copy -q --preserve-digests "docker://$REG/src/single:1" "docker://$DST/sk-single:1"
check_copy "skopeo's copy" "$DST/sk-single:1" "$D_SINGLE"

# Copying again sends nothing: every blob is already there (HEAD).
uploads_before=$(grep -c 'POST /v2/single/blobs/uploads/' "$DST_LOG")
run "$INLAY" copy "$REG/src/single:1" "$DST/single:1"
is "$status:$stdout" "0:$DST/single@$D_SINGLE" "copying again succeeds with the same result"
is "$(grep -c 'POST /v2/single/blobs/uploads/' "$DST_LOG")" "$uploads_before" \
	"...and uploads no blob a second time"

run "$INLAY" copy "docker://$REG/src/single:1" "docker://$DST/prefixed:1"
is "$status" 0 "docker:// prefixes are accepted"
check_copy "docker:// prefixed" "$DST/prefixed:1" "$D_SINGLE"

run "$INLAY" copy "$REG/src/single@$D_SINGLE" "$DST/bydigest:1"
is "$status:$stdout" "0:$DST/bydigest@$D_SINGLE" "a source named by digest is copied"

run "$INLAY" copy --quiet "$REG/src/single:1" "$DST/quiet:1"
is "$status:$stdout" "0:$DST/quiet@$D_SINGLE" "--quiet still prints the result"
is "$stderr" "" "--quiet prints nothing on stderr"

run "$INLAY" copy --json "$REG/src/single:1" "$DST/json:1"
is "$status" 0 "--json copy exits 0"
ok "--json prints one valid JSON document" jq -e . "$RUN_OUT"
is "$(jq -r --arg d "$D_SINGLE" '[.. | strings | select(contains($d))] | length > 0' "$RUN_OUT")" \
	true "the JSON report names the digest"

run "$INLAY" copy --jobs 1 "$REG/src/single:1" "$DST/jobs1:1"
is "$status:$stdout" "0:$DST/jobs1@$D_SINGLE" "--jobs 1 gives the same result"

# --- Docker schema2 -----------------------------------------------------------
is "$(skopeo_raw "docker://$REG/src/docker:1" | jq -r .mediaType)" \
	application/vnd.docker.distribution.manifest.v2+json "(the docker source is schema2)"
run "$INLAY" copy "$REG/src/docker:1" "$DST/docker:1"
is "$status:$stdout" "0:$DST/docker@$D_DOCKER" "Docker schema2 copy keeps the digest"
is "$(skopeo_raw "docker://$DST/docker:1" | jq -r .mediaType)" \
	application/vnd.docker.distribution.manifest.v2+json "...and stays schema2"
check_copy "docker" "$DST/docker:1" "$D_DOCKER"
ok "skopeo pulls the docker copy, verifying every blob" \
	sk copy -q "docker://$DST/docker:1" "dir:$T/verify-docker"
ok "skopeo copies the same docker image with the same digest (reference)" \
	sk copy -q --preserve-digests "docker://$REG/src/docker:1" "docker://$DST/sk-docker:1"

# --- zstd layers ------------------------------------------------------------------
run "$INLAY" copy "$REG/src/zstd:1" "$DST/zstd:1"
is "$status:$stdout" "0:$DST/zstd@$D_ZSTD" "zstd image copy keeps the digest"
is "$(skopeo_raw "docker://$DST/zstd:1" | jq -r '[.layers[].mediaType] | unique | join(",")')" \
	application/vnd.oci.image.layer.v1.tar+zstd "...and its zstd layers"
ok "skopeo pulls the zstd copy, verifying every blob" \
	sk copy -q "docker://$DST/zstd:1" "oci:$T/verify-zstd:z"
ok "skopeo copies the same zstd image with the same digest (reference)" \
	sk copy -q --preserve-digests "docker://$REG/src/zstd:1" "docker://$DST/sk-zstd:1"

# --- a whole index --------------------------------------------------------------
run "$INLAY" copy "$REG/src/multi:1" "$DST/multi:1"
is "$status:$stdout" "0:$DST/multi@$D_MULTI" "index copy keeps the index digest"
check_copy "multi" "$DST/multi:1" "$D_MULTI"
is "$(skopeo_raw "docker://$DST/multi:1" | jq '.manifests | length')" 3 "all three children listed"
for d in "$D_AMD" "$D_ARM" "$D_ATT"; do
	is "$(skopeo_digest "docker://$DST/multi@$d")" "$d" "child $d is in the destination"
done
is "$(skopeo_raw "docker://$DST/multi@$D_ATT" | jq -r '.layers[0].mediaType')" \
	application/vnd.in-toto+json "the attestation child came along with its in-toto layer"
like "$(skopeo_raw "docker://$DST/multi:1" | jq -r '.annotations["org.opencontainers.image.description"]')" \
	'inlay test fixture' "the index annotation is kept"
ok "skopeo pulls every child of the copy, verifying every blob" \
	sk copy -q --all "docker://$DST/multi:1" "oci:$T/verify-multi:m"
ok "skopeo copies the same index with the same digest (reference)" \
	sk copy -q --all --preserve-digests "docker://$REG/src/multi:1" "docker://$DST/sk-multi:1"

# --- one platform of an index -----------------------------------------------------
run "$INLAY" copy --platform linux/arm64 "$REG/src/multi:1" "$DST/arm:1"
is "$status:$stdout" "0:$DST/arm@$D_ARM" "--platform linux/arm64 copies the arm64 child, digest kept"
check_copy "arm64 child" "$DST/arm:1" "$D_ARM"
# (umoci writes OCI manifests without the optional mediaType field)
is "$(skopeo_raw "docker://$DST/arm:1" | jq -r 'if .manifests then "index" else .config.mediaType end')" \
	application/vnd.oci.image.config.v1+json "the tag points at an image manifest, not the index"
run sk inspect --raw "docker://$DST/arm@$D_AMD"
isnt "$status" 0 "the amd64 child was not copied"
ok "skopeo pulls the arm64 copy, verifying every blob" \
	sk copy -q "docker://$DST/arm:1" "oci:$T/verify-arm:a"
ok "skopeo picks the same child for arm64 (reference)" \
	sk copy -q --override-os linux --override-arch arm64 --preserve-digests \
	"docker://$REG/src/multi:1" "docker://$DST/sk-arm:1"
check_copy "skopeo's arm64 pick" "$DST/sk-arm:1" "$D_ARM"

run "$INLAY" copy --platform linux/amd64 "$REG/src/multi:1" "$DST/amd:1"
is "$status:$stdout" "0:$DST/amd@$D_AMD" "--platform linux/amd64 copies the amd64 child"

# --- registry -> OCI layout -> registry ---------------------------------------------
L=$T/layout
run "$INLAY" copy "$REG/src/single:1" "oci:$L:single"
is "$status:$stdout" "0:oci:$L@$D_SINGLE" "registry -> layout prints oci:PATH@DIGEST"
is "$(layout_digest "$L" single)" "$D_SINGLE" "the layout's index.json tags the same digest"
is "$(sha256_file <(sk inspect --raw "oci:$L:single"))" "$D_SINGLE" \
	"skopeo inspect --raw reads the layout"
ok "skopeo copies the layout on, verifying every blob" \
	sk copy -q "oci:$L:single" "oci:$T/verify-layout:x"
ok "umoci unpacks the layout" umoci unpack --image "$L:single" "$T/bundle"
run chroot "$T/bundle/rootfs" /usr/local/bin/hello
is "$stdout" "hello from inlay test fixture single linux/amd64" "the unpacked image runs"
run "$INLAY" copy "oci:$L:single" "$DST/roundtrip:1"
is "$status:$stdout" "0:$DST/roundtrip@$D_SINGLE" "layout -> registry keeps the digest"
check_copy "round trip" "$DST/roundtrip:1" "$D_SINGLE"

ML=$T/multi-layout
run "$INLAY" copy "$REG/src/multi:1" "oci:$ML:multi"
is "$status:$stdout" "0:oci:$ML@$D_MULTI" "an index into a layout keeps its digest"
ok "skopeo copies every child out of that layout, verifying every blob" \
	sk copy -q --all "oci:$ML:multi" "oci:$T/verify-mlayout:m"
run "$INLAY" copy "oci:$ML:multi" "$DST/mroundtrip:1"
is "$status:$stdout" "0:$DST/mroundtrip@$D_MULTI" "...and back into a registry"
is "$(skopeo_digest "docker://$DST/mroundtrip@$D_ATT")" "$D_ATT" "...with the attestation child"

run "$INLAY" copy "$(fixture_ref single)" "$DST/fromumoci:1"
is "$status:$stdout" "0:$DST/fromumoci@$D_SINGLE" "a layout written by umoci is a source too"

run "$INLAY" copy "oci:$L:single" "oci:$T/layout2:copied"
is "$status:$stdout" "0:oci:$T/layout2@$D_SINGLE" "layout -> layout keeps the digest"
ok "skopeo reads the second layout" sk copy -q "oci:$T/layout2:copied" "oci:$T/verify-l2:x"

# Two tags in one layout: the second copy adds a ref, the first stays.
run "$INLAY" copy "$REG/src/zstd:1" "oci:$L:zstd"
is "$status" 0 "a second image goes into the same layout"
is "$(layout_digest "$L" single):$(layout_digest "$L" zstd)" "$D_SINGLE:$D_ZSTD" \
	"the layout keeps both refs"

run "$INLAY" copy "$REG/src/docker:1" "oci:$T/docker-layout:d"
is "$status:$stdout" "0:oci:$T/docker-layout@$D_DOCKER" "a schema2 image into a layout keeps its digest"
run "$INLAY" copy "oci:$T/docker-layout:d" "$DST/docker-rt:1"
is "$status:$stdout" "0:$DST/docker-rt@$D_DOCKER" "...and comes back unchanged"

# --- within one registry: blobs are mounted, never downloaded ----------------------
LAYERS=$(jq -r '.layers[].digest' "$SM")
start_line=$(wc -l <"$REG_LOG")
run "$INLAY" copy "$REG/src/single:1" "$REG/mounted/single:1"
is "$status:$stdout" "0:$REG/mounted/single@$D_SINGLE" "copy to another repository of the same registry"
check_copy "mounted copy" "$REG/mounted/single:1" "$D_SINGLE"
new_log=$(tail -n +"$((start_line + 1))" "$REG_LOG")
got_blob=0
for l in $LAYERS; do
	if grep -q "\"GET /v2/src/single/blobs/$l " <<<"$new_log"; then got_blob=1; fi
done
is "$got_blob" 0 "no layer was downloaded for it (access log)"
like "$new_log" '"POST /v2/mounted/single/blobs/uploads/\?[^"]*mount=sha256[^"]*" 201' \
	"blobs were mounted across repositories (201)"
ok "skopeo pulls the mounted copy, verifying every blob" \
	sk copy -q "docker://$REG/mounted/single:1" "oci:$T/verify-mounted:m"

start_line=$(wc -l <"$REG_LOG")
run "$INLAY" copy "$REG/src/multi:1" "$REG/mounted/multi:1"
is "$status:$stdout" "0:$REG/mounted/multi@$D_MULTI" "an index within the same registry"
new_log=$(tail -n +"$((start_line + 1))" "$REG_LOG")
unlike "$new_log" '"GET /v2/src/multi/blobs/sha256:[0-9a-f]+ HTTP[^"]*" 200 [0-9]{6,}' \
	"no large blob was downloaded for it"

done_testing
