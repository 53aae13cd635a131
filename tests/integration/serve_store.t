#!/bin/bash
# serve_store.t - `inlay serve --store REGISTRY/REPOSITORY`: the mirror's
# store is a real registry (docker-registry) that stateless replicas share.
# skopeo pulls the instrumented image through one replica; the store holds
# the result by digest and, once the replica has completed it, every blob
# of it; a second replica serves the manifest by digest and every blob from
# the store without asking the upstream; a client mixing the two gets a
# verified image. A 200 MB image's first pull answers its manifest as fast
# as a 1 MB one's, before its base layers are in the store, and the other
# replica serves that result by digest at once; the store then gets the
# layers and the manifest. With the upstream gone the results are still
# served by digest.
. "$(dirname "$0")/lib.sh"
require_inlay
require_tools skopeo jq curl

start_registry open UP
start_registry open ST
fixtures_build single multi big200
push_fixture single "$UP/app:1"
SRC_DIGEST=$(fixture_digest single)
ACCEPT='application/vnd.oci.image.manifest.v1+json'

metric() { # PREFIX NAME: a counter of a mirror's /metrics
	local url_var=${1}_URL
	curl -s "${!url_var}/metrics" | awk -v n="inlay_mirror_$2" '$1 == n {print $2}'
}
# wait_metric PREFIX NAME MIN: wait (up to 120 s) until a counter reaches MIN.
wait_metric() {
	local i
	for i in $(seq 1200); do
		[ "$(metric "$1" "$2")" -ge "$3" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# revision DIGEST: whether the store registry has DIGEST as a manifest of
# inlay-store (Distribution also answers a manifest GET from a plain blob).
revision() { [ -f "$T/registry-ST/storage/docker/registry/v2/repositories/inlay-store/_manifests/revisions/sha256/${1#sha256:}/link" ]; }
# store_code PATH: the store registry's status for GET /v2/inlay-store/PATH.
store_code() { curl -s -o /dev/null -w '%{http_code}' -H "Accept: $ACCEPT" "http://$ST/v2/inlay-store/$1"; }

run "$INLAY" serve --upstream "up=http://$UP" --store "$ST/inlay-store:latest" --listen 127.0.0.1:0
is "$status" 2 "a store with a tag is refused (exit 2)"
like "$stderr" "without a tag or digest" "... saying the store is a repository"

start_mirror A --upstream "up=http://$UP" --store "$ST/inlay-store"
start_mirror B --upstream "up=http://$UP" --store "$ST/inlay-store"

run sk copy "docker://$A/app:1" "oci:$T/a:1"
is "$status" 0 "skopeo pulls through replica A (every digest verified)"
run sk inspect --config "oci:$T/a:1"
is "$(jq -r '.config.Labels["io.inlay.source"]' <<<"$stdout")" "$SRC_DIGEST" "the result is the instrumented upstream image"
RESULT=$(layout_digest "$T/a" 1)
run "$INLAY" instrument --quiet "$UP/app@$SRC_DIGEST" "oci:$T/cli:1"
is "$(layout_digest "$T/cli" 1)" "$RESULT" "... byte for byte what inlay instrument makes"

ok "A completes the result in the store (its blobs there, then the manifest)" \
	wait_metric A results_completed_total 1
is "$(store_code "manifests/$RESULT")" 200 "the store registry holds the result by digest"
ok "... put as a manifest, not only a blob" revision "$RESULT"
jq -r '.layers[].digest, .config.digest' "$(layout_blob "$T/a" "$RESULT")" >"$T/blobs"
missing=
while read -r d; do
	[ "$(store_code "blobs/$d")" = 200 ] || missing="$missing $d"
done <"$T/blobs"
is "$missing" "" "... and every blob of it: sensor layer and config stored, base layers kept as they passed"
is "$(curl -s "http://$ST/v2/inlay-store/tags/list" | jq -r '(.tags // []) | map(select(test("^sha256-") | not)) | length')" 0 \
	"the store names nothing by tag (results by digest only)"

# --- replica B: the store is all it needs ------------------------------------------
streams_before=$(metric B upstream_blob_streams_total)
run sk copy "docker://$B/app@$RESULT" "oci:$T/b:1"
is "$status" 0 "replica B serves the result by digest"
is "$(layout_digest "$T/b" 1)" "$RESULT" "... the same digest"
is "$(metric B upstream_blob_streams_total)" "$streams_before" "... and every blob from the store, none from the upstream"
ok "... its store blob hits counted" test "$(metric B store_blob_hits_total)" -ge "$(wc -l <"$T/blobs")"

# The manifest from A by tag, every blob from B.
curl -s -H "Accept: $ACCEPT" "http://$A/v2/app/manifests/1" -o "$T/m.json"
is "$(sha256_file "$T/m.json")" "$RESULT" "A answers the tag with the result"
bad=
for d in $(jq -r '.layers[].digest, .config.digest' "$T/m.json"); do
	curl -s "http://$B/v2/app/blobs/$d" -o "$T/blob"
	[ "sha256:$(sha256sum <"$T/blob" | cut -d' ' -f1)" = "$d" ] || bad="$bad $d"
done
is "$bad" "" "a client taking the manifest from A and the blobs from B gets every blob intact"
code=$(curl -s -o /dev/null -w '%{http_code}' -r 10-19 "http://$B/v2/app/blobs/$(jq -r '.layers[0].digest' "$T/m.json")")
like "$code" '^20[06]$' "a ranged blob GET from the store answers ($code)"

# --- a 200 MB image: its manifest first, the store completed after ---------------
push_fixture big200 "$UP/big:1"
push_fixture single "$UP/small:1"
completed=$(metric A results_completed_total)
small_ms=$(ttm "http://$A/v2/small/manifests/1")
big_ms=$(ttm "http://$A/v2/big/manifests/1")
diag "time to the manifest, first pull, registry store: 1 MB image $small_ms ms, 200 MB image $big_ms ms"
ok "the 200 MB image's manifest ($big_ms ms) comes within 2x + 100 ms of the 1 MB one's ($small_ms ms)" \
	[ "$big_ms" -le $((2 * small_ms + 100)) ]
curl -s -H "Accept: $ACCEPT" "http://$A/v2/big/manifests/1" -o "$T/big-a.json"
BIG_RESULT=$(sha256_file "$T/big-a.json")
revision "$BIG_RESULT" && r=yes || r=no
diag "the store has it as a manifest just after: $r (no while A completes it)"
curl -s -H "Accept: $ACCEPT" "http://$B/v2/big/manifests/$BIG_RESULT" -o "$T/big-b.json"
is "$(sha256_file "$T/big-b.json")" "$BIG_RESULT" "replica B serves that result by digest at once, complete in the store or not"
run sk copy "docker://$B/big@$BIG_RESULT" "oci:$T/big:1"
is "$status" 0 "skopeo pulls it whole through B, every blob verified"
# Two results were pulled since `completed` was read: the 1 MB one and this.
ok "A completes both in the store" wait_metric A results_completed_total $((completed + 2))
ok "the store then holds the 200 MB result as a manifest" revision "$BIG_RESULT"
missing=
for d in $(jq -r '.layers[].digest, .config.digest' "$T/big-a.json"); do
	[ "$(store_code "blobs/$d")" = 200 ] || missing="$missing $d"
done
is "$missing" "" "... and every blob of it, the 200 MB layer too"
is "$(metric A completion_failures_total)" 0 "no completion stopped short"

# --- an index: children completed before it --------------------------------------
push_fixture multi "$UP/multi:1"
completed=$(metric A results_completed_total)
run sk copy --all "docker://$A/multi:1" "oci:$T/multi:1"
is "$status" 0 "skopeo pulls the multi-arch index through A, every child"
INDEX=$(layout_digest "$T/multi" 1)
ok "A completes the index in the store" wait_metric A results_completed_total $((completed + 1))
bad=
for d in "$INDEX" $(jq -r '.manifests[].digest' "$(layout_blob "$T/multi" "$INDEX")"); do
	revision "$d" || bad="$bad $d"
done
is "$bad" "" "the store holds the index and both instrumented children as manifests"
is "$(jq -r '.manifests | length' "$(layout_blob "$T/multi" "$INDEX")")" 2 "... (amd64 and arm64, the attestation dropped)"

# --- the upstream gone: results still served by digest ----------------------------
stop_registry UP
run sk copy "docker://$B/app@$RESULT" "oci:$T/c:1"
is "$status" 0 "with the upstream down, B still serves the result by digest from the store"
run sk copy "docker://$A/app:2" "oci:$T/d:1"
isnt "$status" 0 "an unknown tag with the upstream down fails"
done_testing
