#!/bin/bash
# bench/instrument.sh - the instrument benchmarks.
#
#   inplace   `inlay instrument` in the image's own repository: the 200 MiB
#             image against the 1 MiB one (time must not follow image size)
#   pipeline  against what users script today: skopeo to an OCI layout,
#             umoci insert + umoci config, skopeo back
#   cross     instrument from one registry into another, against skopeo copy
#             of the same image between the same registries
#
# Sourced by run.sh, which sets up the registries and images; run directly
# (`sh bench/instrument.sh [BUILD]`) it runs these three through run.sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	exec bash "$(dirname "$0")/run.sh" "${1:-build}" inplace pipeline cross
fi

# transfer_of KEY[:warm]: "uploaded N bytes, M blobs present" of an inlay
# --json report.
transfer_of() {
	json_field "$1" '"uploaded \(.transfer.bytes_uploaded) bytes, \(.transfer.blobs_present) blobs already present, \(.transfer.blobs_streamed) streamed, \(.transfer.blobs_mounted) mounted"'
}

bench_inplace() {
	local i kind img order
	md "" "### 3. Instrument in place: $BIG_MIB MiB image against 1 MiB image" "" \
		"\`inlay instrument REG/IMG:1 REG/IMG:run-N\`: the result goes to the source's own" \
		"repository, so the base layers stay where they are and only the sensor layer, the new" \
		"config and the manifest are written. The time should not depend on the image's size." \
		"The warm-up run is the first instrumentation in the repository; the later ones find" \
		"the (reproducible) sensor layer and config already there and write only the manifest." \
		"Load average before: $(load_avg)." ""
	for ((i = 0; i <= BENCH_RUNS; i++)); do
		kind=run
		[ "$i" -gt 0 ] || kind=warm
		if ((i % 2)); then order=(big small); else order=(small big); fi
		for img in "${order[@]}"; do
			sample "inplace-$img" "$kind" "$INLAY" instrument --quiet --json \
				"$REG/$img:1" "$REG/$img:run-$i"
		done
		# For reference: the same without the HTTPS probe of a loopback
		# registry (--plain-http), to show what that probe costs.
		for img in "${order[@]}"; do
			sample "inplace-$img-plain" "$kind" "$INLAY" instrument --quiet --json \
				--plain-http "$REG/$img:1" "$REG/$img:plain-$i"
		done
	done
	series_header
	series_row "big: inlay instrument" inplace-big
	series_row "small: inlay instrument" inplace-small
	series_row "(reference) big: inlay instrument --plain-http" inplace-big-plain
	series_row "(reference) small: inlay instrument --plain-http" inplace-small-plain
	series_errors inplace-big inplace-small inplace-big-plain inplace-small-plain
	md "" "inlay's --json reports, big: warm-up $(transfer_of inplace-big:warm);" \
		"last run $(transfer_of inplace-big), inlay-measured $(json_field inplace-big '.seconds * 1000 | round / 1000') s." \
		"Small: last run $(transfer_of inplace-small), inlay-measured $(json_field inplace-small '.seconds * 1000 | round / 1000') s."
	goal_header
	goal "instrument in place: big/small median time <= 1.5" \
		"$(ratio "$(med inplace-big)" "$(med inplace-small)")" le 1.5
	md "| (reference, no goal) big/small with --plain-http | $(ratio "$(med inplace-big-plain)" "$(med inplace-small-plain)") | - |"
}

# pipeline_once N KIND: the script users write today, on REG/big:1, each step
# measured; the run's total is the sum of the steps.
pipeline_once() {
	local n=$1 kind=$2 dir=$T/pipeline step secs=0 cpu=0 rss=0
	rm -rf "$dir"
	for step in pull insert config push; do
		case $step in
		pull) measure_retry "${SK_COPY[@]}" "docker://$REG/big:1" "oci:$dir:x" ;;
		insert) measure_retry umoci insert --image "$dir:x" "$SENSOR_AMD64" /.inlay/sensor ;;
		config)
			measure_retry umoci config --image "$dir:x" --config.entrypoint /.inlay/sensor \
				--config.entrypoint=--
			;;
		push) measure_retry "${SK_COPY[@]}" "oci:$dir:x" "docker://$REG/big:scripted-$n" ;;
		esac
		record "pipeline-$step" "$kind" || {
			record_fail pipeline-total
			rm -rf "$dir"
			return 1
		}
		secs=$(awk -v a="$secs" -v b="$M_SECS" 'BEGIN { printf "%.3f", a + b }')
		cpu=$(awk -v a="$cpu" -v b="$M_CPU" 'BEGIN { printf "%.2f", a + b }')
		[ "$M_RSS" -le "$rss" ] || rss=$M_RSS
	done
	rm -rf "$dir"
	add_sample pipeline-total "$kind" "$secs" "$cpu" "$rss"
}

# record_fail KEY: count a failure in KEY whose cause another series holds.
record_fail() {
	S_FAIL[$1]=$((${S_FAIL[$1]:-0} + 1))
	BENCH_FAILED=1
}

bench_pipeline() {
	local i kind order tool
	md "" "### 4. Against the scripted pipeline (skopeo + umoci + skopeo)" "" \
		"On the $BIG_MIB MiB image (big), same registry. The script: \`skopeo copy docker://REG/big:1 oci:DIR:x\`;" \
		"\`umoci insert --image DIR:x sensor-amd64 /.inlay/sensor\`;" \
		"\`umoci config --image DIR:x --config.entrypoint /.inlay/sensor --config.entrypoint=--\`;" \
		"\`skopeo copy oci:DIR:x docker://REG/big:scripted-N\` (DIR new every run; the push finds" \
		"the base layers in the repository and skips them). Against" \
		"\`inlay instrument REG/big:1 REG/big:inlay-N\`." \
		"Load average before: $(load_avg)." ""
	if [ ! -f "$SENSOR_AMD64" ]; then
		md "Skipped: no sensor binary at $SENSOR_AMD64 (build it with \`make sensors\`)."
		return 0
	fi
	for ((i = 0; i <= BENCH_RUNS; i++)); do
		kind=run
		[ "$i" -gt 0 ] || kind=warm
		if ((i % 2)); then order=(inlay script); else order=(script inlay); fi
		for tool in "${order[@]}"; do
			case $tool in
			script) pipeline_once "$i" "$kind" ;;
			inlay)
				sample pipeline-inlay "$kind" "$INLAY" instrument --quiet --json \
					"$REG/big:1" "$REG/big:inlay-$i"
				;;
			esac
		done
		# For reference: without the HTTPS probe of a loopback registry.
		sample pipeline-inlay-plain "$kind" "$INLAY" instrument --quiet --json \
			--plain-http "$REG/big:1" "$REG/big:inlay-plain-$i"
	done
	series_header
	series_row "scripted pipeline, total" pipeline-total
	series_row "&nbsp;&nbsp;1. skopeo copy to OCI layout" pipeline-pull
	series_row "&nbsp;&nbsp;2. umoci insert" pipeline-insert
	series_row "&nbsp;&nbsp;3. umoci config" pipeline-config
	series_row "&nbsp;&nbsp;4. skopeo copy to registry" pipeline-push
	series_row "inlay instrument" pipeline-inlay
	series_row "(reference) inlay instrument --plain-http" pipeline-inlay-plain
	series_errors pipeline-pull pipeline-insert pipeline-config pipeline-push pipeline-inlay \
		pipeline-inlay-plain
	md "" "The pipeline's RSS column is the largest of its four processes; its median time is" \
		"the median of the per-run sums, not the sum of the step medians."
	goal_header
	goal "scripted pipeline / inlay instrument median time >= 10" \
		"$(ratio "$(med pipeline-total)" "$(med pipeline-inlay)")" ge 10
	md "| (reference, no goal) scripted pipeline / inlay instrument --plain-http | $(ratio "$(med pipeline-total)" "$(med pipeline-inlay-plain)") | - |"
}

bench_cross() {
	local i kind order tool
	md "" "### 5. Instrument across registries" "" \
		"\`inlay instrument REG/big:1 DST/big:inst\` against \`skopeo copy docker://REG/big:1" \
		"docker://DST/big:1\`, DST a registry started empty for every run: inlay moves the same" \
		"$BIG_MIB MiB as skopeo plus the sensor layer." \
		"Load average before: $(load_avg)." ""
	for ((i = 0; i <= BENCH_RUNS; i++)); do
		kind=run
		[ "$i" -gt 0 ] || kind=warm
		if ((i % 2)); then order=(inlay skopeo); else order=(skopeo inlay); fi
		for tool in "${order[@]}"; do
			fresh_registry DST
			case $tool in
			inlay)
				sample cross-inlay "$kind" "$INLAY" instrument --quiet --json \
					"$REG/big:1" "$DST/big:inst"
				;;
			skopeo)
				sample cross-skopeo "$kind" "${SK_COPY[@]}" "docker://$REG/big:1" \
					"docker://$DST/big:1"
				;;
			esac
			drop_registry DST
		done
	done
	series_header
	series_row "inlay instrument" cross-inlay
	series_row "skopeo copy" cross-skopeo
	series_errors cross-inlay cross-skopeo
	md "" "inlay's --json report, last run: $(transfer_of cross-inlay), inlay-measured $(json_field cross-inlay '.seconds * 100 | round / 100') s."
	goal_header
	goal "instrument across registries: inlay instrument / skopeo copy median time <= 1.00" \
		"$(ratio "$(med cross-inlay)" "$(med cross-skopeo)")" le 1.00
}
