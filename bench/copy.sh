#!/bin/bash
# bench/copy.sh - the copy benchmarks: `inlay copy` against `skopeo copy`.
#
#   copy   between two registries: the 200 MiB images (5 layers, and 1 layer),
#          each run into a registry started empty for it; time and peak RSS
#   mount  within one registry, to another repository: inlay mounts every
#          blob (no bytes move), checked on its --json transfer counters
#
# Sourced by run.sh, which sets up the registries and images; run directly
# (`sh bench/copy.sh [BUILD]`) it runs these two through run.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	exec bash "$(dirname "$0")/run.sh" "${1:-build}" copy mount
fi

# copy_check_inlay IMG: after an inlay copy, the digest it reports must be the
# source's and every blob must have been streamed (none found present).
# Returns non-zero, with a note, when not.
copy_check_inlay() {
	local img=$1 d=IMG_DIGEST_$1 l=IMG_LAYERS_$1
	local got streamed
	got=$(jq -r .digest "$T/m.out" 2>/dev/null)
	streamed=$(jq -r .transfer.blobs_streamed "$T/m.out" 2>/dev/null)
	if [ "$got" != "${!d}" ] || [ "$streamed" != $((${!l} + 1)) ]; then
		say "inlay copy of $img: digest $got (want ${!d}), blobs_streamed $streamed (want $((${!l} + 1)))"
		COPY_MISMATCH="$COPY_MISMATCH $img"
		return 1
	fi
}

# skopeo_check IMG: skopeo's --digestfile must name the source's digest.
skopeo_check() {
	local d=IMG_DIGEST_$1
	if [ "$(cat "$T/sk.digest" 2>/dev/null)" != "${!d}" ]; then
		say "skopeo copy of $1: digest $(cat "$T/sk.digest" 2>/dev/null) (want ${!d})"
		COPY_MISMATCH="$COPY_MISMATCH skopeo-$1"
	fi
}

bench_copy() {
	local img i kind tool order
	COPY_MISMATCH=
	md "" "### 1. Copy between two registries" "" \
		"\`inlay copy REG/IMG:1 DST/IMG:1\` against \`skopeo copy docker://REG/IMG:1 docker://DST/IMG:1\`." \
		"Every run copies into a registry started empty for it (so nothing is there, and skopeo's" \
		"blob-info cache cannot mount from an earlier run's repository); the tools alternate." \
		"Load average before: $(load_avg)." ""
	for img in big one; do
		for ((i = 0; i <= BENCH_RUNS; i++)); do
			kind=run
			[ "$i" -gt 0 ] || kind=warm
			if ((i % 2)); then order=(inlay skopeo); else order=(skopeo inlay); fi
			for tool in "${order[@]}"; do
				fresh_registry DST
				case $tool in
				inlay)
					sample "copy-$img-inlay" "$kind" "$INLAY" copy --quiet --json \
						"$REG/$img:1" "$DST/$img:1" && copy_check_inlay "$img"
					;;
				skopeo)
					rm -f "$T/sk.digest"
					sample "copy-$img-skopeo" "$kind" "${SK_COPY[@]}" \
						--digestfile "$T/sk.digest" "docker://$REG/$img:1" \
						"docker://$DST/$img:1" && skopeo_check "$img"
					;;
				esac
				drop_registry DST
			done
		done
	done
	series_header
	series_row "big: inlay copy" copy-big-inlay
	series_row "big: skopeo copy" copy-big-skopeo
	series_row "one: inlay copy" copy-one-inlay
	series_row "one: skopeo copy" copy-one-skopeo
	series_errors copy-big-inlay copy-big-skopeo copy-one-inlay copy-one-skopeo
	local s
	s=$(json_field copy-big-inlay '"bytes_uploaded \(.transfer.bytes_uploaded), blobs_streamed \(.transfer.blobs_streamed), inlay-measured seconds \(.seconds * 100 | round / 100)"')
	md "" "inlay's --json report of its last big run: $s."
	[ -z "$COPY_MISMATCH" ] ||
		md "" "**Digest or transfer mismatch in:$COPY_MISMATCH** (see the progress output)."
	goal_header
	goal "copy big: inlay/skopeo median time <= 1.00" \
		"$(ratio "$(med copy-big-inlay)" "$(med copy-big-skopeo)")" le 1.00
	goal "copy one: inlay/skopeo median time <= 1.00" \
		"$(ratio "$(med copy-one-inlay)" "$(med copy-one-skopeo)")" le 1.00
	# shellcheck disable=SC2086 # lists of numbers
	goal "copy big: inlay peak RSS < 64 MiB" "$(mib "$(max ${S_RSS[copy-big-inlay]:-})")" le 64
	# shellcheck disable=SC2086
	goal "copy one (single ${BENCH_ONE_MIB} MiB layer): inlay peak RSS < 64 MiB" \
		"$(mib "$(max ${S_RSS[copy-one-inlay]:-})")" le 64
}

# registry_requests LOG REPO: "M mounts, U uploads" of blobs into REPO, from
# the registry's access log (a mount is a POST with mount= in its query, in
# either order with from=; an upload ends in a PUT of the upload session).
registry_requests() {
	local m u
	m=$(grep -ac "\"POST /v2/$2/blobs/uploads/?[^ \"]*mount=" "$1")
	u=$(grep -ac "\"PUT /v2/$2/blobs/uploads/" "$1")
	echo "$m mounts, $u uploads"
}

bench_mount() {
	local i kind tool order tag=m$$ bad=0 total=0 mounted up down want
	want=$((IMG_LAYERS_big + 1))
	md "" "### 2. Copy within one registry, to another repository" "" \
		"\`inlay copy REG/big:1 REG/NEW:1\` against \`skopeo copy\` of the same, a new repository" \
		"every run. inlay mounts every blob from the source repository; no bytes should move." \
		"Load average before: $(load_avg)." ""
	for ((i = 0; i <= BENCH_RUNS; i++)); do
		kind=run
		[ "$i" -gt 0 ] || kind=warm
		if ((i % 2)); then order=(inlay skopeo); else order=(skopeo inlay); fi
		for tool in "${order[@]}"; do
			case $tool in
			inlay)
				sample mount-inlay "$kind" "$INLAY" copy --quiet --json "$REG/big:1" \
					"$REG/$tag-inlay-$i:1" || continue
				total=$((total + 1))
				mounted=$(jq -r .transfer.blobs_mounted "$T/m.out")
				up=$(jq -r .transfer.bytes_uploaded "$T/m.out")
				down=$(jq -r .transfer.bytes_downloaded "$T/m.out")
				if [ "$mounted" != "$want" ] || [ "$up" != 0 ] || [ "$down" != 0 ]; then
					bad=$((bad + 1))
					say "inlay copy within REG: blobs_mounted $mounted (want $want), bytes_uploaded $up, bytes_downloaded $down"
				fi
				;;
			skopeo)
				sample mount-skopeo "$kind" "${SK_COPY[@]}" "docker://$REG/big:1" \
					"docker://$REG/$tag-skopeo-$i:1"
				;;
			esac
		done
		# For reference: without the HTTPS probe of a loopback registry.
		sample mount-inlay-plain "$kind" "$INLAY" copy --quiet --json --plain-http \
			"$REG/big:1" "$REG/$tag-plain-$i:1"
	done
	series_header
	series_row "inlay copy" mount-inlay
	series_row "skopeo copy" mount-skopeo
	series_row "(reference) inlay copy --plain-http" mount-inlay-plain
	series_errors mount-inlay mount-skopeo mount-inlay-plain
	md "" "inlay's --json transfer counters, last run: \`$(json_field mount-inlay '.transfer | tostring')\`;" \
		"runs where not every blob ($want) was mounted or bytes moved: $bad of $total." \
		"Registry access log, last run: inlay $(registry_requests "$REG_LOG" "$tag-inlay-$BENCH_RUNS");" \
		"skopeo $(registry_requests "$REG_LOG" "$tag-skopeo-$BENCH_RUNS")."
	goal_header
	goal "copy within a registry: runs that moved bytes or did not mount all $want blobs" \
		"$bad" le 0
	md "| (no goal) inlay/skopeo median time | $(ratio "$(med mount-inlay)" "$(med mount-skopeo)") | - |"
	md "| (reference, no goal) inlay --plain-http/skopeo median time | $(ratio "$(med mount-inlay-plain)" "$(med mount-skopeo)") | - |"
}
