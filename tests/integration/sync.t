#!/bin/bash
# sync.t - `inlay sync` of a whole registry into another one (issue 13),
# against real docker-registry servers: a catalog of 3 repositories and 30
# tags (single-arch OCI, zstd and Docker schema2 images, arm64, multi-arch
# indexes, an s390x-only image and a windows-only index that must be kept as
# they are), synced with --key and --json; the results verify, skopeo copies
# them, and each is the digest `inlay instrument` gives the same source. A
# second run writes nothing (counted in the destination's access log) and
# its requests per tag are measured; a moved source tag is redone alone;
# --dry-run writes nothing; --tags/--exclude; a broken image fails alone
# (exit 1); --delete removes only inlay's own results whose source tag is
# gone; tag lists and catalogs longer than a page are followed through their
# Link headers; bad arguments exit 2.
. "$(dirname "$0")/lib.sh"
require_inlay
require_tools skopeo umoci jq curl

T0=$(now_ms)
start_registry open SRC
start_registry open DST
start_registry open SCR # scratch: `inlay instrument` results to compare with
fixtures_build single arm64 zstd multi
"$INLAY" keygen -o "$T/k" >/dev/null 2>&1 || bail_out "inlay keygen failed"
K=$T/k.key
PUB=$T/k.pub

# --- extra fixtures, cached beside the others --------------------------------
# One OCI layout $FIXTURES_DIR/sync made from `single` by umoci (config
# changes only, the same layers), refs:
#   va vb vc vd ve  `single` with a label io.inlay.test.variant=X: images
#                   whose digests nothing else shares
#   s390x           `single` claiming linux/s390x (no sensor for it)
#   windows         an OCI index whose only entry is windows/amd64
SYNC_FIXTURE_VERSION=1

_sync_fixture_build() { # OUT
	local out=$1 v m size hex
	mkdir -p "$out" && cp -a "$(fixture single)/." "$out/" && rm -f "$out/.complete" || return 1
	for v in a b c d e; do
		umoci config --image "$out:single" --tag "v$v" --no-history \
			--config.label "io.inlay.test.variant=$v" || return 1
	done
	umoci config --image "$out:single" --tag s390x --no-history --architecture s390x || return 1
	umoci config --image "$out:single" --tag win-image --no-history --os windows || return 1
	m=$(layout_digest "$out" win-image) || return 1
	size=$(stat -c %s "$(layout_blob "$out" "$m")") || return 1
	jq -n --arg d "$m" --argjson s "$size" '{schemaVersion: 2,
		mediaType: "application/vnd.oci.image.index.v1+json",
		manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
			digest: $d, size: $s,
			platform: {architecture: "amd64", os: "windows", "os.version": "10.0.20348.2322"}}]}' \
		>"$out/windows.json" || return 1
	hex=$(sha256sum <"$out/windows.json" | cut -d' ' -f1)
	size=$(stat -c %s "$out/windows.json")
	mv "$out/windows.json" "$out/blobs/sha256/$hex" || return 1
	jq --arg d "sha256:$hex" --argjson s "$size" '.manifests += [{
		mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
		annotations: {"org.opencontainers.image.ref.name": "windows"}}]' \
		"$out/index.json" >"$out/index.json.new" && mv "$out/index.json.new" "$out/index.json" || return 1
	umoci gc --layout "$out" || return 1
	chmod -R a+rX "$out"
}

sync_fixtures() {
	local dir=$FIXTURES_DIR/sync stamp t0
	stamp="sync-v$SYNC_FIXTURE_VERSION $(fixture_digest single)" || return 1
	if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$stamp" ]; then return 0; fi
	t0=$(now_ms)
	(
		flock -w 600 9 || exit 1
		if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$stamp" ]; then exit 0; fi
		tmp=$(mktemp -d "$FIXTURES_DIR/.tmp-sync.XXXXXX") || exit 1
		if ! _sync_fixture_build "$tmp/layout" >"$tmp/build.log" 2>&1; then
			tail -n 20 "$tmp/build.log" >&2
			rm -rf "$tmp"
			exit 1
		fi
		echo "$stamp" >"$tmp/layout/.complete"
		[ -e "$dir" ] && mv "$dir" "$tmp/old"
		mv "$tmp/layout" "$dir" && rm -rf "$tmp"
	) 9>"$FIXTURES_DIR/.lock" || return 1
	diag "built the sync fixtures in $(secs_since "$t0") s"
}
sync_fixtures 2>"$T/sf.err" || bail_out "building the sync fixtures: $(cat "$T/sf.err")"
SF=$FIXTURES_DIR/sync

# --- helpers ------------------------------------------------------------------
ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'

# put_layout REF REGISTRY/REPO:TAG: a ref of the sync layout into a registry.
put_layout() {
	sk copy -q --all --preserve-digests "oci:$SF:$1" "docker://$2" >"$T/put.out" 2>&1 ||
		bail_out "skopeo copy $1 $2: $(cat "$T/put.out")"
}

# retag HOST REPO FROM TO...: PUT the manifest of FROM under more tags (the
# registry API, as `crane tag` does; no blob moves).
retag() {
	local host=$1 repo=$2 from=$3 ct t
	shift 3
	curl -sf -D "$T/retag.h" -o "$T/retag.m" -H "Accept: $ACCEPT" \
		"http://$host/v2/$repo/manifests/$from" || bail_out "retag: GET $repo:$from"
	ct=$(sed -n 's/^content-type: *//Ip' "$T/retag.h" | tr -d '\r')
	for t in "$@"; do
		curl -sf -X PUT -H "Content-Type: $ct" --data-binary @"$T/retag.m" \
			"http://$host/v2/$repo/manifests/$t" -o /dev/null || bail_out "retag: PUT $repo:$t"
	done
}

# manifest HOST REPO REF: the manifest bytes; digest_at HOST REPO REF: their digest.
manifest() { curl -sf -H "Accept: $ACCEPT" "http://$1/v2/$2/manifests/$3"; }
digest_at() {
	manifest "$@" >"$T/dg.m" || return 1
	sha256_file "$T/dg.m"
}
# code_at HOST REPO REF: the HTTP status of GET manifest.
code_at() { curl -s -o /dev/null -w '%{http_code}' -H "Accept: $ACCEPT" "http://$1/v2/$2/manifests/$3"; }
# config_at HOST REPO REF: the image config of an image manifest.
config_at() {
	local c
	c=$(manifest "$@" | jq -r .config.digest) || return 1
	curl -sfL "http://$1/v2/$2/blobs/$c"
}

# drop_tag PREFIX REPO TAG: remove one tag from a registry's storage (what
# Distribution 3's DELETE by tag does; 2.8 deletes only by digest, which
# would take every tag of the manifest with it).
drop_tag() {
	local dir_var=${1}_DIR
	local d=${!dir_var}/docker/registry/v2/repositories/$2/_manifests/tags/$3
	[ -d "$d" ] || bail_out "drop_tag: no tag $2:$3 in $1"
	rm -rf "$d"
}

# mark PREFIX...: remember where the access logs end; requests PREFIX
# [METHOD-ERE]: the access-log lines since the mark (methods matching).
mark() {
	local p v
	for p in "$@"; do
		v=${p}_LOG
		declare -g "MARK_$p=$(wc -l <"${!v}")"
	done
}
requests() {
	local v=${1}_LOG m=MARK_$1
	tail -n +$((${!m} + 1)) "${!v}" | grep -E "^[0-9.]+ - [^ ]+ \[[^]]*\] \"(${2:-[A-Z]+}) /"
}
count_requests() { requests "$@" | wc -l; }

# sync_json ARGS...: run sync --json, the report in $T/NAME.json (NAME=$1).
sync_json() {
	local name=$1
	shift
	run "$INLAY" sync --json "$@"
	printf '%s\n' "$stdout" >"$T/$name.json"
}
# statuses FILE: "status count" pairs, sorted, joined by ", ".
statuses() { jq -r '[.tags | group_by(.status)[] | "\(.[0].status) \(length)"] | join(", ")' "$1"; }
# entry FILE DST-REF FIELD: a field of the report entry with that destination.
entry() { jq -r --arg d "$2" --arg f "$3" '[.tags[] | select(.destination == $d)][0][$f] // empty' "$1"; }

# --- the source: 3 repositories, 30 tags -------------------------------------
t0=$(now_ms)
push_fixture single "$SRC/team/app:1.0"
retag "$SRC" team/app 1.0 1.1 1.2 1.3 1.10 latest
push_fixture zstd "$SRC/team/app:1.4-zstd"
push_fixture docker "$SRC/team/app:1.5-docker"
retag "$SRC" team/app 1.5-docker 1.6-docker
push_fixture arm64 "$SRC/team/app:1.7-arm64"
put_layout va "$SRC/team/app:1.8"
put_layout vb "$SRC/team/app:1.9"
push_fixture multi "$SRC/team/web:1"
retag "$SRC" team/web 1 2 3 4 5 6 7 8 edge stable
put_layout s390x "$SRC/vendor/tools:s390x-1"
retag "$SRC" vendor/tools s390x-1 s390x-2
put_layout windows "$SRC/vendor/tools:win"
push_fixture single "$SRC/vendor/tools:1"
retag "$SRC" vendor/tools 1 2 3
put_layout vc "$SRC/vendor/tools:4"
push_fixture zstd "$SRC/vendor/tools:5"
n=0
for r in team/app team/web vendor/tools; do
	n=$((n + $(curl -sf "http://$SRC/v2/$r/tags/list" | jq '.tags | length')))
done
[ "$n" -eq 30 ] || bail_out "the source should hold 30 tags, it holds $n"
diag "source: 3 repositories, 30 tags in $(secs_since "$t0") s"
SINGLE=$(fixture_digest single)
MULTI=$(fixture_digest multi)
S390X=$(layout_digest "$SF" s390x)
WINDOWS=$(layout_digest "$SF" windows)
ARM64=$(fixture_digest arm64)

# --- 1. the whole registry, signed, as JSON -------------------------------------
t0=$(now_ms)
sync_json first --key "$K" --jobs 4 "$SRC" "$DST"
FIRST_SECS=$(secs_since "$t0")
diag "first sync of 30 tags: $FIRST_SECS s"
F=$T/first.json
is "$status" 0 "a catalog sync exits 0"
is "$(jq '.tags | length' "$F" 2>/dev/null)" 30 "the report has 30 entries"
is "$(statuses "$F")" "instrumented 27, kept 3" "27 instrumented, 3 kept"
is "$(jq -cS .summary "$F")" '{"deleted":0,"failed":0,"instrumented":27,"kept":3,"unchanged":0}' \
	"the summary counts them"
is "$(jq -r .dry_run "$F")" false '"dry_run": false'
is "$(jq -r '[.tags[] | select(.status == "kept") | .source] | sort | join(" ")' "$F")" \
	"$SRC/vendor/tools:s390x-1 $SRC/vendor/tools:s390x-2 $SRC/vendor/tools:win" \
	"the s390x-only image and the windows-only index are the kept ones"
# Every source repository R went to DST/R, every tag to the same tag.
is "$(jq -r '[.tags[] | select(.destination != (.source | sub("^[^/]+/"; "'"$DST"'/")))] | length' "$F")" 0 \
	"every source REG/R:TAG goes to DST/R:TAG"
is "$(jq -r '[.tags[] | select((.digest // "" | test("^sha256:[0-9a-f]{64}$") | not) or
	(.source_digest // "" | test("^sha256:[0-9a-f]{64}$") | not))] | length' "$F")" 0 \
	"every entry has a digest and a source digest"
is "$(entry "$F" "$DST/team/app:1.0" source_digest)" "$SINGLE" "source_digest is the source manifest's"
is "$(entry "$F" "$DST/team/web:1" source_digest)" "$MULTI" "an index's source_digest is the source index's"
is "$(entry "$F" "$DST/vendor/tools:s390x-1" digest)" "$S390X" "the s390x image is kept at its own digest"
is "$(digest_at "$DST" vendor/tools s390x-2)" "$S390X" "and the destination tag names that digest"
is "$(entry "$F" "$DST/vendor/tools:win" digest)" "$WINDOWS" "the windows-only index is kept at its digest"
is "$(digest_at "$DST" vendor/tools win)" "$WINDOWS" "and the destination has it"
# Each reported digest is what the destination tag names.
bad=
for d in $(jq -r '.tags[] | .destination' "$F"); do
	ref=${d#"$DST"/}
	got=$(digest_at "$DST" "${ref%:*}" "${ref##*:}") || got=missing
	[ "$got" = "$(entry "$F" "$d" digest)" ] || bad="$bad $d($got)"
done
is "$bad" "" "all 30 destination tags name the reported digests"

# A sample, one of each repository and kind, verifies and copies.
mkdir -p "$T/copies"
SAMPLE="team/app:1.0 team/app:1.4-zstd team/app:1.5-docker team/app:1.7-arm64 team/app:1.8 team/web:1 team/web:stable vendor/tools:1 vendor/tools:4"
for s in $SAMPLE; do
	run "$INLAY" verify --key "$PUB" "$DST/$s"
	is "$status" 0 "inlay verify --key accepts $s"
	ok "skopeo copy --all docker://DST/$s oci: succeeds" \
		sk copy -q --all "docker://$DST/$s" "oci:$T/copies/${s//[:\/]/_}:x"
done
# The Docker schema2 source stays schema2; the zstd one keeps zstd layers.
is "$(manifest "$DST" team/app 1.5-docker | jq -r .mediaType)" \
	application/vnd.docker.distribution.manifest.v2+json "the schema2 result is schema2"
is "$(manifest "$DST" team/app 1.4-zstd | jq -r '.layers[0].mediaType')" \
	application/vnd.oci.image.layer.v1.tar+zstd "the zstd result keeps zstd base layers"
is "$(config_at "$DST" team/app 1.7-arm64 | jq -r '.architecture + " " + .config.Entrypoint[0]')" \
	"arm64 /.inlay/sensor" "the arm64 image is instrumented"

# The multi results are indexes with amd64 and arm64 instrumented.
manifest "$DST" team/web 3 >"$T/web3.json"
is "$(jq -r .mediaType "$T/web3.json")" application/vnd.oci.image.index.v1+json "team/web:3 is an OCI index"
for arch in amd64 arm64; do
	child=$(jq -r --arg a "$arch" '[.manifests[] | select(.platform.architecture == $a and .platform.os == "linux")][0].digest // empty' "$T/web3.json")
	like "$child" '^sha256:' "team/web:3 has a linux/$arch image"
	want=$SINGLE
	[ "$arch" = arm64 ] && want=$ARM64
	isnt "$child" "$want" "its linux/$arch image is not the source's"
	config_at "$DST" team/web "$child" >"$T/web3-$arch.cfg"
	is "$(jq -r '.config.Entrypoint[0]' "$T/web3-$arch.cfg")" /.inlay/sensor "the linux/$arch image starts the sensor"
	is "$(jq -r '.config.Labels["io.inlay.source"] // empty' "$T/web3-$arch.cfg")" "$want" \
		"and its io.inlay.source label names the source image"
done

# Deterministic: what `inlay instrument --key` makes of the same source into
# a scratch registry is the very digest sync wrote.
for s in team/app:1.0 team/app:1.5-docker team/web:1 vendor/tools:4; do
	want=$(instrumented_digest "$K" "$SRC/$s" "$SCR/scratch/${s#*/}")
	is "$(entry "$F" "$DST/$s" digest)" "$want" "$s: the digest instrument gives the same source"
done

# --- 2. nothing changed: nothing written, few requests -------------------------
mark SRC DST
t0=$(now_ms)
run "$INLAY" sync --key "$K" --quiet "$SRC" "$DST"
NOOP_SECS=$(secs_since "$t0")
sleep 0.3 # the access log line is written after the response
is "$status" 0 "the second run exits 0"
is "$(grep -c . "$RUN_OUT")" 30 "--quiet still prints one line per tag"
is "$(grep -vc '^unchanged ' "$RUN_OUT")" 0 "every tag is unchanged"
want="unchanged $SRC/team/app:1.0 -> $DST/team/app:1.0@$(entry "$F" "$DST/team/app:1.0" digest)"
is "$(grep -F "$SRC/team/app:1.0 ->" "$RUN_OUT")" "$want" "the line is STATUS SRC -> DST@DIGEST"
like "$stderr" "sync: 30 tags: 0 instrumented, 30 unchanged, 0 kept, 0 failed \\([0-9.]+ s\\)" \
	"the summary line on stderr"
is "$(count_requests DST 'PUT|POST|PATCH|DELETE')" 0 "no PUT, POST, PATCH or DELETE reached the destination"
[ "$(count_requests DST 'PUT|POST|PATCH|DELETE')" -eq 0 ] ||
	diag "$(requests DST 'PUT|POST|PATCH|DELETE' | head -5)"
NS=$(count_requests SRC)
ND=$(count_requests DST)
PER_TAG=$(awk -v s="$NS" -v d="$ND" 'BEGIN { printf "%.2f", (s + d) / 30 }')
diag "no-op run: $NOOP_SECS s, $NS requests to the source + $ND to the destination = $PER_TAG per tag (goal 3)"
# What they were, by kind: METHOD /v2/R/manifests/TAG (or @DIGEST), ...
diag "$( (requests SRC | sed 's/^/src /'; requests DST | sed 's/^/dst /') |
	sed -E 's/^([a-z]+) .*"([A-Z]+) ([^ ?]*)[^ ]* HTTP.*/\1 \2 \3/
		s#/(manifests|blobs)/sha256:[0-9a-f]+$#/\1/@DIGEST#
		s#/manifests/[^/:@]+$#/manifests/TAG#
		s#^([a-z]+ [A-Z]+) /v2/.+/(manifests|blobs|tags)/#\1 /v2/R/\2/#' |
	sort | uniq -c | sort -rn | head -10)"
like "$PER_TAG" '^([0-5]\.[0-9]+|6\.00)$' "a no-op run makes at most 6 requests per tag ($PER_TAG)"

# --- 3. a moved source tag is redone alone -----------------------------------
put_layout vd "$SRC/team/app:1.1"
VD=$(layout_digest "$SF" vd)
sync_json moved --key "$K" "$SRC" "$DST"
M=$T/moved.json
is "$status" 0 "the run after a source tag moved exits 0"
is "$(statuses "$M")" "instrumented 1, unchanged 29" "one instrumented, 29 unchanged"
is "$(jq -r '.tags[] | select(.status == "instrumented") | .source' "$M")" "$SRC/team/app:1.1" \
	"the instrumented one is the moved tag"
is "$(entry "$M" "$DST/team/app:1.1" source_digest)" "$VD" "from the new source manifest"
isnt "$(entry "$M" "$DST/team/app:1.1" digest)" "$(entry "$F" "$DST/team/app:1.1" digest)" "to a new digest"
is "$(digest_at "$DST" team/app 1.1)" "$(entry "$M" "$DST/team/app:1.1" digest)" "which the destination tag now names"
run "$INLAY" verify --key "$PUB" "$DST/team/app:1.1"
is "$status" 0 "and it verifies"

# --- 4. --dry-run writes nothing ---------------------------------------------------
retag "$SRC" team/app 1.0 2.0 2.1 2.1-rc
retag "$SRC" vendor/tools s390x-1 s390x-3
mark DST
sync_json dry --key "$K" --dry-run "$SRC" "$DST"
D=$T/dry.json
sleep 0.3
is "$status" 0 "a dry run exits 0"
is "$(jq -r .dry_run "$D")" true '"dry_run": true'
is "$(statuses "$D")" "unchanged 30, would-instrument 3, would-keep 1" \
	"3 would-instrument (the new 2.x tags), 1 would-keep (s390x-3), 30 unchanged"
is "$(count_requests DST 'PUT|POST|PATCH|DELETE')" 0 "no write reached the destination"
is "$(code_at "$DST" team/app 2.0)" 404 "the destination still has no team/app:2.0"
is "$(code_at "$DST" vendor/tools s390x-3)" 404 "nor vendor/tools:s390x-3"
DRY_20=$(entry "$D" "$DST/team/app:2.0" digest)
run "$INLAY" sync --dry-run --key "$K" "$SRC/team/app" "$DST/team/app"
is "$status" 0 "a dry run of one repository (text) exits 0"
like "$stdout" "^would-instrument $SRC/team/app:2\\.0 -> $DST/team/app:2\\.0(@sha256:[0-9a-f]{64})?\$" \
	"prints would-instrument SRC -> DST"
is "$(grep -c '^unchanged ' "$RUN_OUT")" 12 "and the 12 other team/app tags unchanged"

# --- 5. --tags and --exclude ---------------------------------------------------------
# Unanchored POSIX EREs: 'x-3' matches inside s390x-3, 'rc' at the end of 2.1-rc.
sync_json filtered --key "$K" --tags '^2\.|x-3' --exclude 'rc' "$SRC" "$DST"
X=$T/filtered.json
is "$status" 0 "a filtered sync exits 0"
is "$(jq -r '[.tags[] | .source + " " + .status] | sort | join(", ")' "$X")" \
	"$SRC/team/app:2.0 instrumented, $SRC/team/app:2.1 instrumented, $SRC/vendor/tools:s390x-3 kept" \
	"only the tags the regexes select: 2.0 and 2.1 instrumented, s390x-3 kept"
is "$(code_at "$DST" team/app 2.1-rc)" 404 "the excluded 2.1-rc is not at the destination"
is "$(entry "$X" "$DST/team/app:2.0" digest)" "$DRY_20" "the dry run's planned digest is the one written"
is "$(digest_at "$DST" vendor/tools s390x-3)" "$S390X" "s390x-3 kept at the source digest"

# --- 6. a broken image fails alone -------------------------------------------------
put_layout ve "$SRC/team/app:broken"
VE_CONFIG=$(jq -r .config.digest "$(layout_blob "$SF" "$(layout_digest "$SF" ve)")")
rm -f "$(registry_blob_path "$VE_CONFIG" SRC)" || bail_out "cannot remove the config blob"
sync_json broken --key "$K" "$SRC" "$DST"
B=$T/broken.json
is "$status" 1 "a sync with a broken image exits 1"
is "$(statuses "$B")" "failed 1, instrumented 1, unchanged 33" \
	"the broken tag failed, the newly unfiltered 2.1-rc instrumented, 33 unchanged"
is "$(jq -r '.tags[] | select(.status == "failed") | .source' "$B")" "$SRC/team/app:broken" \
	"the failed one is team/app:broken"
like "$(entry "$B" "$DST/team/app:broken" error)" '.' "its entry has an error message"
is "$(entry "$B" "$DST/team/app:broken" digest)" "" "and no digest"
is "$(jq -c '.summary | {instrumented, unchanged, failed}' "$B")" '{"instrumented":1,"unchanged":33,"failed":1}' \
	"the summary counts the failure"
is "$(code_at "$DST" team/app 2.1-rc)" 200 "the rest completed: 2.1-rc is at the destination"
run "$INLAY" sync --key "$K" "$SRC/team/app" "$DST/team/app"
is "$status" 1 "text mode: exit 1 too"
like "$stdout" "^failed $SRC/team/app:broken: ." "a line 'failed SRC-REF: MESSAGE' naming the tag"
like "$stderr" "sync: 16 tags: 0 instrumented, 15 unchanged, 0 kept, 1 failed" "the summary line counts it"
diag "the failure: $(grep '^failed' "$RUN_OUT")"
drop_tag SRC team/app broken

# --- 7. --delete: only inlay's results whose source tag is gone ------------------
GONE=$(digest_at "$DST" team/app 1.8)
GONE_SIG="sha256-${GONE#sha256:}.sig"
is "$(code_at "$DST" team/app "$GONE_SIG")" 200 "team/app:1.8's result has its signature tag"
push_fixture single "$DST/team/app:foreign" # not written by inlay, no source tag
drop_tag SRC team/app 1.8
mark DST
sync_json delete --key "$K" --delete "$SRC" "$DST"
L=$T/delete.json
sleep 0.3
is "$status" 0 "sync --delete exits 0"
is "$(jq -r '[.tags[] | select(.status == "deleted") | .destination] | join(" ")' "$L")" "$DST/team/app:1.8" \
	"team/app:1.8, whose source tag is gone, is reported deleted (and nothing else)"
is "$(jq -r '.summary.deleted' "$L")" 1 "the summary counts one deletion"
is "$(jq -r '[.tags[] | select(.status != "deleted" and .status != "unchanged")] | length' "$L")" 0 \
	"every other tag unchanged"
is "$(code_at "$DST" team/app 1.8)" 404 "the destination tag is gone"
not_ok "skopeo inspect of it fails" sk inspect --raw "docker://$DST/team/app:1.8"
is "$(code_at "$DST" team/app "$GONE")" 404 "so is its manifest"
is "$(code_at "$DST" team/app "$GONE_SIG")" 404 "and its signature tag"
like "$(requests DST DELETE)" "DELETE /v2/team/app/manifests/$GONE " "deleted by digest on the registry"
is "$(digest_at "$DST" team/app foreign)" "$SINGLE" "a destination tag inlay did not write survives"
run "$INLAY" verify --key "$PUB" "$DST/team/app:1.0"
is "$status" 0 "the other results (and their signatures) are intact"
is "$(digest_at "$DST" vendor/tools s390x-1)" "$S390X" "kept tags are intact"

# --- 8. pages: a catalog and a tag list longer than a page ------------------------
# docker-registry 2.8 pages /v2/_catalog on request but never pages tag
# lists, which Distribution 3, Harbor, GHCR and ECR do. A proxy in front of
# it (faultproxy.py with two handlers more) pages both at 40 entries at most,
# whatever n the client asks, with Distribution's Link headers.
start_registry open PG
push_fixture single "$PG/fill/r000:filler"
R=$PG_DIR/docker/registry/v2/repositories
mkdir -p "$R/many" && cp -a "$R/fill/r000" "$R/many/app" &&
	mv "$R/many/app/_manifests/tags/filler" "$R/many/app/_manifests/tags/t001" || bail_out "many/app"
for ((i = 2; i <= 105; i++)); do cp -a "$R/many/app/_manifests/tags/t001" "$R/many/app/_manifests/tags/$(printf t%03d "$i")"; done
mkdir -p "$R/zz" && cp -a "$R/fill/r000" "$R/zz/last" && mv "$R/zz/last/_manifests/tags/filler" "$R/zz/last/_manifests/tags/only" ||
	bail_out "zz/last"
for ((i = 1; i <= 103; i++)); do cp -a "$R/fill/r000" "$R/fill/$(printf r%03d "$i")"; done
is "$(curl -sf "http://$PG/v2/_catalog?n=1000" | jq '.repositories | length')" 106 "the paging registry has 106 repositories"
is "$(curl -sf "http://$PG/v2/many/app/tags/list" | jq '.tags | length')" 105 "many/app has 105 tags"

cat >"$T/pager.py" <<'EOF'
import http.client, json, os, sys, urllib.parse
sys.path.insert(0, os.environ["LIB_DIR"])
import faultproxy

CAP = 40


class Pager(faultproxy.Proxy):
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/v2/_catalog":
            key, full = "repositories", "/v2/_catalog?n=1000"  # its maximum
        elif u.path.startswith("/v2/") and u.path.endswith("/tags/list"):
            key, full = "tags", u.path
        else:
            return self._forward()
        q = urllib.parse.parse_qs(u.query)
        conn = http.client.HTTPConnection(self.server.cfg.upstream, timeout=60)
        conn.request("GET", full, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        status = resp.status
        if status == 200:
            doc = json.loads(body)
            items = sorted(doc.get(key) or [])
            last = q.get("last", [None])[0]
            if last is not None:
                items = [i for i in items if i > last]
            n = min(int(q.get("n", [CAP])[0] or CAP), CAP)
            doc[key] = items[:n]
            body = json.dumps(doc).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(body)))
        if status == 200 and len(items) > n:
            nxt = urllib.parse.urlencode({"last": items[n - 1], "n": n})
            self.send_header("Link", '<%s?%s>; rel="next"' % (u.path, nxt))
        self.end_headers()
        self.wfile.write(body)
        with self.server.log_lock:
            self.server.log.write("GET %s %d\n" % (self.path, status))
            self.server.log.flush()


faultproxy.Proxy = Pager
sys.exit(faultproxy.main())
EOF
LIB_DIR=$LIB_DIR setsid "$PYTHON" "$T/pager.py" --upstream "$PG" --port-file "$T/pager.port" \
	--log "$T/pager.log" >"$T/pager.out" 2>&1 </dev/null &
PAGER_PID=$!
_track_pid "$PAGER_PID" "$T/pager.out"
for ((i = 0; i < 100; i++)); do [ -s "$T/pager.port" ] && break; sleep 0.05; done
[ -s "$T/pager.port" ] || bail_out "the paging proxy did not start: $(cat "$T/pager.out")"
PGP=127.0.0.1:$(cat "$T/pager.port")
curl -s -D "$T/pg.h" -o /dev/null "http://$PGP/v2/many/app/tags/list"
like "$(cat "$T/pg.h")" '^Link: </v2/many/app/tags/list\?last=t040&n=40>; rel="next"' "the proxy pages tag lists"

t0=$(now_ms)
sync_json pages --exclude '^filler$' --jobs 8 "$PGP" "$DST/pg"
P=$T/pages.json
PAGES_SECS=$(secs_since "$t0")
is "$status" 0 "a sync through the paging proxy exits 0"
is "$(statuses "$P")" "instrumented 106" "106 tags instrumented: many/app's 105 and zz/last:only"
is "$(jq -r '[.tags[] | select(.source | startswith("'"$PGP"'/many/app:")) | .source] | unique | length' "$P")" 105 \
	"all 105 tags of many/app, over three pages of its tag list"
is "$(entry "$P" "$DST/pg/zz/last:only" status)" instrumented "zz/last, on the catalog's third page, is synced"
is "$(curl -sf "http://$DST/v2/pg/many/app/tags/list" | jq '[.tags[] | select(startswith("t"))] | length')" 105 \
	"the destination has the 105 tags"
like "$(cat "$T/pager.log")" 'GET /v2/many/app/tags/list\?([^ ]*&)?last=t080' "the tag list's Link was followed to the third page"
like "$(cat "$T/pager.log")" 'GET /v2/_catalog\?([^ ]*&)?last=' "the catalog's Link was followed"
diag "paging run: $PAGES_SECS s; $(grep -c 'tags/list' "$T/pager.log") tag-list and $(grep -c '_catalog' "$T/pager.log") catalog requests through the proxy"

# --- 9. bad arguments ---------------------------------------------------------------
run "$INLAY" sync "$SRC/team/app"
is "$status" 2 "no DST: exit 2"
like_i "$stderr" 'dst|destination|usage|missing' "saying what is missing"
run "$INLAY" sync --tags '(' "$SRC/team/app" "$DST/team/app"
is "$status" 2 "a bad --tags regex: exit 2"
like_i "$stderr" 'tags|regex|regular|pattern' "saying which"
run "$INLAY" sync --exclude '[' "$SRC/team/app" "$DST/team/app"
is "$status" 2 "a bad --exclude regex: exit 2"
run "$INLAY" sync --frobnicate "$SRC/team/app" "$DST/team/app"
is "$status" 2 "an unknown flag: exit 2"
like "$stderr" 'frobnicate' "naming the flag"

diag "sync.t: first sync $FIRST_SECS s, no-op $NOOP_SECS s, pages $PAGES_SECS s, whole test $(secs_since "$T0") s"
done_testing
