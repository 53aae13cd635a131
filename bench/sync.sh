#!/bin/bash
# sync.sh BUILD_DIR - a no-op `inlay sync` of a 100-tag repository (issue
# 13): one image under 100 tags in a source repository on a loopback
# docker-registry, synced with --key into a second registry. One warm-up run
# instruments, signs and pushes them all; the timed runs (SYNC_RUNS, default
# 5, --jobs 8) find every result at its destination and write nothing.
# Reports the median and range of wall time and the registry requests per tag
# (both registries' access logs, over every timed run). Goals: under 5 s and
# at most 3 requests per tag. Markdown on stdout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
RUNS=${SYNC_RUNS:-5}
[[ $RUNS =~ ^[1-9][0-9]{0,3}$ ]] || {
	echo "bench: SYNC_RUNS must be a positive integer, not '$RUNS'" >&2
	exit 2
}
TAGS=100
JOBS=8
LIB_NO_TAP=1
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export INLAY=$BUILD/inlay
. "$BENCH_DIR/lib.sh"
require_inlay
require_tools skopeo jq curl docker-registry

fresh_registry SRC
fresh_registry DST
"${SKOPEO[@]}" copy -q --preserve-digests --dest-tls-verify=false "$(fixture_ref single)" \
	"docker://$SRC/app:1" >&2 || bail_out "push the fixture"
# The other 99 tags: the same manifest PUT under each (no blob moves).
curl -sf -D "$T/h" -o "$T/m" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://$SRC/v2/app/manifests/1" || bail_out "GET app:1"
CT=$(sed -n 's/^content-type: *//Ip' "$T/h" | tr -d '\r')
for ((t = 2; t <= TAGS; t++)); do
	curl -sf -X PUT -H "Content-Type: $CT" --data-binary @"$T/m" -o /dev/null \
		"http://$SRC/v2/app/manifests/$t" || bail_out "tag app:$t"
done
[ "$(curl -sf "http://$SRC/v2/app/tags/list" | jq '.tags | length')" -eq "$TAGS" ] ||
	bail_out "the source repository does not hold $TAGS tags"
"$INLAY" keygen -o "$T/k" >/dev/null 2>&1 || bail_out keygen

say "warm-up: instrument, sign and push $TAGS tags"
t0=${EPOCHREALTIME/./}
"$INLAY" sync --quiet --key "$T/k.key" --jobs "$JOBS" --json "$SRC/app" "$DST/app" >"$T/warm.json" ||
	bail_out "warm-up sync failed: $(jq -c .summary "$T/warm.json" 2>/dev/null)"
t1=${EPOCHREALTIME/./}
WARM=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }')
[ "$(jq '.summary.instrumented' "$T/warm.json")" -eq "$TAGS" ] ||
	bail_out "the warm-up did not instrument $TAGS tags: $(jq -c .summary "$T/warm.json")"

# access_lines LOG FROM: the access-log lines of LOG after line FROM.
access_lines() {
	tail -n +$(($2 + 1)) "$1" | grep -E '^[0-9.]+ - [^ ]+ \[[^]]*\] "[A-Z]+ /'
}

time_run() { # seconds of one no-op sync; checks that nothing was written
	local t0 t1 d0
	d0=$(wc -l <"$DST_LOG")
	t0=${EPOCHREALTIME/./}
	"$INLAY" sync --quiet --key "$T/k.key" --jobs "$JOBS" --json "$SRC/app" "$DST/app" \
		>"$T/run.json" || bail_out "a timed sync failed: $(jq -c .summary "$T/run.json" 2>/dev/null)"
	t1=${EPOCHREALTIME/./}
	[ "$(jq '.summary.unchanged' "$T/run.json")" -eq "$TAGS" ] ||
		bail_out "a timed run was no no-op: $(jq -c .summary "$T/run.json")"
	sleep 0.2 # the registry logs a request after answering it
	[ "$(access_lines "$DST_LOG" "$d0" | grep -cE '"(PUT|POST|PATCH|DELETE) ')" -eq 0 ] ||
		bail_out "a timed run wrote to the destination"
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }'
}

declare -a secs=()
S0=$(wc -l <"$SRC_LOG")
D0=$(wc -l <"$DST_LOG")
for ((i = 1; i <= RUNS; i++)); do
	say "run $i of $RUNS"
	secs+=("$(time_run)")
done
NS=$(access_lines "$SRC_LOG" "$S0" | wc -l)
ND=$(access_lines "$DST_LOG" "$D0" | wc -l)
PER_TAG=$(awk -v s="$NS" -v d="$ND" -v r="$RUNS" -v t="$TAGS" 'BEGIN { printf "%.2f", (s + d) / (r * t) }')
# What the requests were, by kind, per run.
kinds() {
	(access_lines "$SRC_LOG" "$S0" | sed 's/^/source /'; access_lines "$DST_LOG" "$D0" | sed 's/^/destination /') |
		sed -E 's/^([a-z]+) .*"([A-Z]+) ([^ ?]*)[^ ]* HTTP.*/\1 \2 \3/
			s#/(manifests|blobs)/sha256:[0-9a-f]+$#/\1/@DIGEST#
			s#/manifests/[^/:@]+$#/manifests/TAG#
			s#^([a-z]+ [A-Z]+) /v2/.+/(manifests|blobs|tags)/#\1 /v2/R/\2/#' |
		sort | uniq -c | sort -rn |
		awk -v r="$RUNS" '{ n = $1; $1 = ""; printf "%.1f x%s\n", n / r, $0 }'
}

range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
MED=$(median "${secs[@]}")
verdict() { awk -v o="$1" -v l="$2" 'BEGIN { print (o + 0 <= l + 0) ? "met" : "**not met**" }'; }
md "### inlay sync: $TAGS tags of one repository, all already instrumented and signed"
md ""
md "\`SYNC_RUNS=$RUNS bash bench/sync.sh build\`, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(load_avg)"
md ""
md "| run | median s | range s | goal |"
md "|---|---|---|---|"
md "| warm-up (instrument, sign, push $TAGS tags) | $WARM | | |"
md "| no-op, \`--jobs $JOBS --key\` | $MED | $(range "${secs[@]}") | < 5 s: $(verdict "$MED" 5) |"
md "| registry requests per tag, no-op | $PER_TAG ($NS source + $ND destination over $RUNS runs) | | <= 3: $(verdict "$PER_TAG" 3) |"
md ""
md "Requests of one no-op run, by kind (mean over the runs): \`count x registry METHOD path\`"
md ""
while IFS= read -r line; do md "- $line"; done < <(kinds)
