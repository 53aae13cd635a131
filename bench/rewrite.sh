#!/bin/bash
# rewrite.sh BUILD_DIR - `inlay rewrite` of a 200-container Kubernetes
# stream whose images are already instrumented (issue 11): 50 distinct
# tags, each named by 4 containers in 50 Deployments, on a loopback
# docker-registry. One warm-up run instruments and pushes them all; the
# timed runs (REWRITE_RUNS, default 5) find every result at its destination
# and only look it up. Reports the median and range of wall time with
# --jobs 1 and --jobs 8, and the registry requests per distinct image (from
# the registry's access log). Goal: under 2 s with --jobs 8. Markdown on
# stdout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
RUNS=${REWRITE_RUNS:-5}
TAGS=50
LIB_NO_TAP=1
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export INLAY=$BUILD/inlay
. "$BENCH_DIR/lib.sh"
require_tools skopeo jq docker-registry

fresh_registry REG
"${SKOPEO[@]}" copy -q --preserve-digests --dest-tls-verify=false "$(fixture_ref single)" \
	"docker://$REG/app:1" >&2 || bail_out "push the fixture"
for ((t = 2; t <= TAGS; t++)); do
	"${SKOPEO[@]}" copy -q --src-tls-verify=false --dest-tls-verify=false \
		"docker://$REG/app:1" "docker://$REG/app:$t" >&2 || bail_out "tag app:$t"
done
"$INLAY" keygen -o "$T/k" >/dev/null 2>&1 || bail_out keygen
for ((d = 1; d <= TAGS; d++)); do
	printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d%d}\nspec:\n  template:\n    spec:\n      containers:\n' "$d"
	for ((c = 1; c <= 4; c++)); do
		printf '      - name: c%d\n        image: %s/app:%d\n        command: ["/bin/sh", "-c", "true"]\n' \
			"$c" "$REG" $(((d * 4 + c) % TAGS + 1))
	done
done >"$T/spec.yaml"
[ "$(grep -c 'image:' "$T/spec.yaml")" -eq 200 ] || bail_out "the spec has no 200 containers"

say "warm-up: instrument and push $TAGS images"
"$INLAY" rewrite --quiet --key "$T/k.key" --jobs 8 "$T/spec.yaml" -o "$T/warm.yaml" ||
	bail_out "warm-up rewrite failed"

time_run() { # JOBS: seconds of one rewrite; checks that nothing was pushed
	local t0 t1
	t0=${EPOCHREALTIME/./}
	"$INLAY" rewrite --quiet --key "$T/k.key" --jobs "$1" --json "$T/spec.yaml" -o "$T/out.yaml" \
		>"$T/report.json" || bail_out "rewrite --jobs $1 failed"
	t1=${EPOCHREALTIME/./}
	[ "$(jq '[.containers[] | select(.pushed)] | length' "$T/report.json")" = 0 ] ||
		bail_out "a timed run pushed something"
	cmp -s "$T/out.yaml" "$T/warm.yaml" || bail_out "a timed run wrote another result"
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }'
}
declare -a j1=() j8=()
: >"$REG_LOG"
for ((i = 1; i <= RUNS; i++)); do
	say "run $i of $RUNS"
	[ "$i" -eq 1 ] && : >"$REG_LOG"
	j8+=("$(time_run 8)")
	[ "$i" -eq 1 ] && REQS=$(grep -c '"http.request.method"\|request.method=' "$REG_LOG")
	j1+=("$(time_run 1)")
done
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
M8=$(median "${j8[@]}")
md "### inlay rewrite: 200 containers, $TAGS distinct images, all already instrumented"
md ""
md "\`REWRITE_RUNS=$RUNS bash bench/rewrite.sh build\`, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(load_avg)"
md ""
md "| run | median s | range s | goal |"
md "|---|---|---|---|"
md "| \`--jobs 8\` | $M8 | $(range "${j8[@]}") | < 2 s: $(awk -v m="$M8" 'BEGIN { print (m < 2) ? "met" : "not met" }') |"
md "| \`--jobs 1\` | $(median "${j1[@]}") | $(range "${j1[@]}") | |"
md "| registry requests, one \`--jobs 8\` run | $REQS ($(awk -v r="$REQS" -v t=$TAGS 'BEGIN { printf "%.1f", r / t }') per distinct image) | | |"
