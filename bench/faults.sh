#!/bin/bash
# faults.sh BUILD_DIR - the reliability matrix of issue 14, for inlay and
# skopeo side by side: a copy across two loopback docker-registries (SRC, DST)
# with tests/integration/faultproxy.py in front of one of them, injecting one
# fault type into 20% of the requests. The image: the amd64 busybox fixture
# plus FAULTS_LAYERS (default 5) layers of FAULTS_LAYER_MIB (default 20) MiB
# of incompressible data, about 100 MB, pushed to SRC/app:1 with skopeo
# --preserve-digests.
#
# For each fault type (FAULTS_TYPES, default: 500 502 503 429 reset truncate
# short flip length stall redirect) and side (FAULTS_SIDES, default: source
# destination) one proxy (--fault TYPE --rate 0.2 --seed S --stall 30) takes
# FAULTS_RUNS (default 20) runs of each of three tools, their order rotating:
#
#   inlay copy --quiet --stall-timeout 5 SRC/app:1 DST/REPO:1
#       ok: exit 0 and DST's tag names the source's digest
#   inlay instrument --quiet --stall-timeout 5 SRC/app:1 DST/REPO:1
#       ok: exit 0, DST's tag names the digest inlay printed, and skopeo copies
#       that manifest from DST (directly, not through the proxy) into an OCI
#       layout, which verifies every blob's digest
#   skopeo copy --retry-times 3 docker://SRC/app:1 docker://DST/REPO:1
#       ok: as inlay copy
#
# Every run goes into a new repository, so that no blob is there before, and
# is cut at 300 s. skopeo runs in a mount namespace of its own with an empty
# directory over /var/lib/containers/cache (its blob-info cache), so it
# cannot mount blobs it saw in an earlier run instead of uploading them (see
# "Fresh destinations" in docs/BENCHMARKS.md); DST is started afresh for each
# fault type and side. The report counts the faults the proxy injected (its
# log's fault=TYPE lines) and the ranged GETs (range=bytes=) per tool.
#
# Then the "always" rows: one run of each tool with --rate 1 for 503 on the
# source, flip on 'GET /v2/app/blobs/' of the source, and reset on 'PUT ' of
# the destination: exit status (inlay: 1, 3, 1), no destination tag, time.
#
# Goal: inlay copy and inlay instrument succeed in at least 19 of 20 runs
# (95%) at 20% faults, for every fault type, on either side. Markdown on
# stdout, progress on stderr. Exits 0 when the measurements ran (goals not met
# are results), 1 when the harness itself broke. Runtime at the defaults: an
# hour or more (1320 runs; skopeo waits out every 30 s stall).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

BUILD_ARG=${1:-build}
BUILD=$BUILD_ARG
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
ALL_TYPES="500 502 503 429 reset truncate short flip length stall redirect"
RUNS=${FAULTS_RUNS:-20}
LAYERS=${FAULTS_LAYERS:-5}
LAYER_MIB=${FAULTS_LAYER_MIB:-20}
TYPES=${FAULTS_TYPES:-$ALL_TYPES}
SIDES=${FAULTS_SIDES:-source destination}
RATE=0.2
STALL=30
LIMIT=300
for _v in RUNS LAYERS LAYER_MIB; do
	[[ ${!_v} =~ ^[1-9][0-9]{0,3}$ ]] || {
		echo "bench: FAULTS_$_v must be a positive integer, not '${!_v}'" >&2
		exit 2
	}
done
for _f in $TYPES; do
	[[ " $ALL_TYPES " == *" $_f "* ]] || {
		echo "bench: unknown fault type '$_f' in FAULTS_TYPES (known: $ALL_TYPES)" >&2
		exit 2
	}
done
for _s in $SIDES; do
	case $_s in source | destination) ;; *)
		echo "bench: FAULTS_SIDES takes source and destination, not '$_s'" >&2
		exit 2
		;;
	esac
done
[ -n "${TYPES// /}" ] && [ -n "${SIDES// /}" ] || {
	echo "bench: FAULTS_TYPES and FAULTS_SIDES must not be empty" >&2
	exit 2
}
# The command as given, with the settings that changed it.
COMMAND="bash bench/faults.sh $BUILD_ARG"
for _v in FAULTS_SIDES FAULTS_TYPES FAULTS_LAYER_MIB FAULTS_LAYERS FAULTS_RUNS; do
	[ -n "${!_v+x}" ] || continue
	if [[ ${!_v} =~ ^[A-Za-z0-9._/-]+$ ]]; then
		COMMAND="$_v=${!_v} $COMMAND"
	else
		COMMAND="$_v=\"${!_v}\" $COMMAND"
	fi
done

LIB_NO_TAP=1
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export INLAY=$BUILD/inlay
. "$BENCH_DIR/lib.sh"
require_inlay
require_tools skopeo umoci jq curl openssl docker-registry timeout sha256sum
START=$(date -u '+%Y-%m-%d %H:%M UTC')
T0=$(now_ms)
LOAD0=$(load_avg)
# Measure one binary from start to end, even if it is rebuilt meanwhile.
INLAY_BUILT="$INLAY, sha256 $(sha256sum "$INLAY" | cut -c1-16)..., built $(date -u -r "$INLAY" '+%Y-%m-%d %H:%M UTC')"
cp "$INLAY" "$T/inlay" || bail_out "cannot copy $INLAY to $T"
INLAY=$T/inlay
ACCEPT='application/vnd.oci.image.manifest.v1+json'
ACCEPT_ANY="$ACCEPT, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"
mkdir -p "$T/failures" "$T/skc"

# ---------------------------------------------------------------------------
# skopeo without its blob-info cache

# How skopeo is kept from its cache: a private mount namespace with an empty
# directory over the cache (root: /var/lib/containers/cache); the cache under
# $HOME otherwise ($HOME is $T/home here, deleted before each run); deleting
# the system cache file only as a last resort, and saying so.
SK_CACHE_DIR=/var/lib/containers/cache
SK_ISOLATION=
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$SK_CACHE_DIR" "$T/skc/probe" 2>/dev/null
	if unshare -m --propagation private sh -c \
		'mount --bind "$1" "$2" && touch "$2/.probe" && [ -e "$1/.probe" ]' \
		sh "$T/skc/probe" "$SK_CACHE_DIR" >/dev/null 2>&1; then
		SK_ISOLATION=namespace
	else
		SK_ISOLATION=delete-system
	fi
else
	SK_CACHE_DIR=$HOME/.local/share/containers/cache
	SK_ISOLATION=delete-home
fi
SK_RUN=0
# sk_nocache: sets SK_PFX, the command prefix that runs skopeo (SKOPEO) with
# an empty blob-info cache, and SK_DIR, a directory to remove after the run.
sk_nocache() {
	SK_DIR=
	case $SK_ISOLATION in
	namespace)
		SK_RUN=$((SK_RUN + 1))
		SK_DIR=$T/skc/$SK_RUN
		mkdir -p "$SK_DIR" || bail_out "cannot create $SK_DIR"
		SK_PFX=(unshare -m --propagation private sh -c 'mount --bind "$1" "$2" || exit 125; shift 2; exec "$@"'
			sh "$SK_DIR" "$SK_CACHE_DIR" "${SKOPEO[@]}")
		;;
	*)
		rm -f "$SK_CACHE_DIR"/blob-info-cache-v1.*
		SK_PFX=("${SKOPEO[@]}")
		;;
	esac
}
# skopeo_nocache ARGS...: skopeo ARGS with an empty blob-info cache, cut at
# LIMIT seconds.
skopeo_nocache() {
	local rc
	sk_nocache
	timeout "$LIMIT" "${SK_PFX[@]}" "$@" </dev/null
	rc=$?
	[ -z "$SK_DIR" ] || rm -rf "$SK_DIR"
	return "$rc"
}
case $SK_ISOLATION in
namespace) SK_NOTE="each skopeo run in a mount namespace of its own with an empty directory over $SK_CACHE_DIR (its blob-info cache)" ;;
delete-home) SK_NOTE="skopeo's blob-info cache ($SK_CACHE_DIR) deleted before each skopeo run" ;;
*) SK_NOTE="no mount namespace could be made: the system's skopeo blob-info cache ($SK_CACHE_DIR/blob-info-cache-v1.*) deleted before each skopeo run" ;;
esac
say "skopeo cache isolation: $SK_ISOLATION"

# ---------------------------------------------------------------------------
# The proxy

# ---------------------------------------------------------------------------
# Setup

say "building the image (fixture + $LAYERS x $LAYER_MIB MiB)"
fresh_registry SRC
fresh_registry DST
sizes=()
for ((i = 0; i < LAYERS; i++)); do sizes+=("$LAYER_MIB"); done
build_image "$T/img" app inlay-faults "${sizes[@]}" >&2 || bail_out "building the image failed"
"${SKOPEO[@]}" copy -q --preserve-digests --dest-tls-verify=false "oci:$T/img:app" \
	"docker://$SRC/app:1" >"$T/push.log" 2>&1 || bail_out "push: $(cat "$T/push.log")"
WANT=$(layout_digest "$T/img" app) || bail_out "no digest for the image"
IMG_LAYERS=$(image_layers "$T/img" app)
IMG_BYTES=$(image_bytes "$T/img" app)
rm -rf "$T/img"
[[ $WANT =~ ^sha256:[0-9a-f]{64}$ ]] || bail_out "bad image digest '$WANT'"
[ "$IMG_LAYERS" -eq $((LAYERS + 3)) ] || bail_out "the image has $IMG_LAYERS layers, expected $((LAYERS + 3))"

# dst_digest REPO: the digest DST's tag REPO:1 names (fetched directly, not
# through a proxy), "absent" when there is none, "error-CODE" when DST
# answered something else.
dst_digest() {
	local code
	rm -f "$T/dd.m"
	code=$(curl -s --noproxy '*' --max-time 60 -o "$T/dd.m" -w '%{http_code}' -H "Accept: $ACCEPT_ANY" \
		"http://$DST/v2/$1/manifests/1")
	case $code in
	200) sha256_file "$T/dd.m" ;;
	404) echo absent ;;
	*) echo "error-$code" ;;
	esac
}
say "image ready: $IMG_LAYERS layers, $IMG_BYTES bytes, $WANT"

# ---------------------------------------------------------------------------
# One run

# err_tail FILE LINES CHARS: the last LINES non-empty lines of FILE on one
# line, upload-state tokens shortened, no backquotes or bars (Markdown), at
# most CHARS characters.
err_tail() {
	grep -v '^[[:space:]]*$' "$1" | tail -n "$2" | tr '\n' ' ' |
		sed -E 's/_state=[^&" ]*/_state=.../g; s/ +$//' | tr -d '`|' | cut -c1-"$3"
}

# check_servers: after a run, registries that died are restarted (a run they
# broke is run again, once); a proxy that died or a DST that does not answer
# is the harness breaking.
RESTARTS=0
REG_RESTARTED=0
check_servers() {
	REG_RESTARTED=0
	if restart_dead_registries; then
		RESTARTS=$((RESTARTS + 1))
		REG_RESTARTED=1
	fi
	if [ -n "${FP_PID:-}" ] && ! kill -0 "$FP_PID" 2>/dev/null; then
		bail_out "faultproxy died: $(tail -n 5 "$T/FP.err" 2>/dev/null)"
	fi
	[ "$(_http_code "http://$DST/v2/")" = 200 ] || bail_out "DST ($DST) does not answer GET /v2/"
	[ "$(_http_code "http://$SRC/v2/")" = 200 ] || bail_out "SRC ($SRC) does not answer GET /v2/"
}

# run_tool TOOL SRC-HOST DST-HOST REPO: one run of TOOL (copy, instrument or
# skopeo) from SRC-HOST/app:1 to DST-HOST/REPO:1. Sets R_STATUS, R_SECS, R_OK
# (1 or 0) and R_WHY (why it failed), R_ERR (a file with its stderr).
run_tool() {
	local tool=$1 src=$2 dst=$3 repo=$4 t0 t1 got printed
	R_ERR=$T/run.err
	t0=${EPOCHREALTIME/./}
	case $tool in
	copy)
		timeout "$LIMIT" "$INLAY" copy --quiet --stall-timeout 5 "$src/app:1" "$dst/$repo:1" \
			>"$T/run.out" 2>"$R_ERR" </dev/null
		;;
	instrument)
		timeout "$LIMIT" "$INLAY" instrument --quiet --stall-timeout 5 "$src/app:1" "$dst/$repo:1" \
			>"$T/run.out" 2>"$R_ERR" </dev/null
		;;
	skopeo)
		skopeo_nocache copy --retry-times 3 --src-tls-verify=false --dest-tls-verify=false \
			"docker://$src/app:1" "docker://$dst/$repo:1" >"$T/run.out" 2>"$R_ERR"
		;;
	esac
	R_STATUS=$?
	t1=${EPOCHREALTIME/./}
	R_SECS=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }')
	R_OK=0
	R_WHY=
	if [ "$R_STATUS" -ne 0 ]; then
		R_WHY="exit $R_STATUS"
		[ "$R_STATUS" -ne 124 ] || R_WHY="exit 124 (cut at $LIMIT s)"
		return 0
	fi
	got=$(dst_digest "$repo")
	if [ "$tool" != instrument ]; then
		if [ "$got" = "$WANT" ]; then R_OK=1; else R_WHY="exit 0, but the destination tag is $got, not $WANT"; fi
		return 0
	fi
	printed=$(tail -n 1 "$T/run.out")
	printed=${printed##*@}
	if ! [[ $printed =~ ^sha256:[0-9a-f]{64}$ ]]; then
		R_WHY="exit 0, but no digest on stdout: '$(head -c 200 "$T/run.out")'"
	elif [ "$got" != "$printed" ]; then
		R_WHY="exit 0, printed $printed, but the destination tag is $got"
	else
		rm -rf "$T/verify"
		if skopeo_nocache copy -q --src-tls-verify=false \
			"docker://$DST/$repo@$printed" "oci:$T/verify:v" >"$T/verify.log" 2>&1; then
			R_OK=1
		else
			R_WHY="exit 0, but skopeo cannot copy the result from the destination: $(tr '\n' ' ' <"$T/verify.log" | head -c 300)"
		fi
		rm -rf "$T/verify"
	fi
	return 0
}

# The harness works, and what each tool takes without faults: directly, and
# through the proxy (no --fault) on either side.
[ "$(dst_digest nothing-here)" = absent ] || bail_out "DST does not answer 404 for a missing tag"
declare -A BASE=()
for how in direct source destination; do
	src=$SRC dst=$DST
	if [ "$how" != direct ]; then
		if [ "$how" = source ]; then start_faultproxy FP "$SRC"; src=$FP; else start_faultproxy FP "$DST"; dst=$FP; fi
	fi
	for tool in copy instrument skopeo; do
		run_tool "$tool" "$src" "$dst" "reference-$how-$tool"
		check_servers
		[ "$R_OK" = 1 ] || bail_out "$tool without faults ($how) failed: $R_WHY: $(tail -n 3 "$R_ERR")"
		BASE[$how:$tool]=$R_SECS
	done
	say "without faults, $how: copy $(secs "${BASE[$how:copy]}") s, instrument $(secs "${BASE[$how:instrument]}") s, skopeo $(secs "${BASE[$how:skopeo]}") s"
	if [ "$how" != direct ]; then
		stop_faultproxy FP
		FP_PID=
	fi
done
[ "$(grep -cE '"POST /v2/[^ ]*[?&]mount=' "$DST_LOG")" -eq 0 ] ||
	bail_out "a copy into an empty registry mounted blobs"
drop_registry DST

# ---------------------------------------------------------------------------
# The matrix

TOOLS=(copy instrument skopeo)
declare -A OK=() N=() SECS=() FAULTS=() RANGED=() FAILS=() MOUNTS=()
declare -a FAIL_LINES=()
MATRIX_RUNS=0

# log_lines FILE FROM TO: lines FROM+1 .. TO of FILE.
log_lines() {
	[ "$3" -gt "$2" ] || return 0
	sed -n "$(($2 + 1)),$3p" "$1"
}

# row FAULT SIDE: RUNS runs of each tool with FAULT at RATE of SIDE's requests.
row() {
	local fault=$1 side=$2 seed r k tool src dst repo key l0 l1 try tag=${2:0:3}
	seed=$(cksum <<<"$side$fault" | cut -d' ' -f1)
	fresh_registry DST
	if [ "$side" = source ]; then
		start_faultproxy FP "$SRC" --fault "$fault" --rate "$RATE" --seed "$seed" --stall "$STALL"
		src=$FP dst=$DST
	else
		start_faultproxy FP "$DST" --fault "$fault" --rate "$RATE" --seed "$seed" --stall "$STALL"
		src=$SRC dst=$FP
	fi
	for tool in "${TOOLS[@]}"; do
		key=$fault:$side:$tool
		OK[$key]=0 N[$key]=0 SECS[$key]='' FAULTS[$key]=0 RANGED[$key]=0 FAILS[$key]=''
	done
	for ((r = 1; r <= RUNS; r++)); do
		local progress=""
		for ((k = 0; k < 3; k++)); do
			tool=${TOOLS[$(((r - 1 + k) % 3))]}
			key=$fault:$side:$tool
			repo=$tool-$fault-$tag-$r
			for try in 1 2; do
				l0=$(wc -l <"$FP_LOG")
				run_tool "$tool" "$src" "$dst" "$repo"
				sleep 0.2 # the proxy logs a forwarded request after answering it
				l1=$(wc -l <"$FP_LOG")
				check_servers
				[ "$REG_RESTARTED" = 1 ] && [ "$try" = 1 ] || break
				say "a registry died during $tool run $r ($fault, $side): running it again"
				repo=$repo-again
			done
			N[$key]=$((${N[$key]} + 1))
			SECS[$key]="${SECS[$key]} $R_SECS"
			FAULTS[$key]=$((${FAULTS[$key]} + $(log_lines "$FP_LOG" "$l0" "$l1" | grep -c "fault=$fault")))
			RANGED[$key]=$((${RANGED[$key]} + $(log_lines "$FP_LOG" "$l0" "$l1" | grep -c 'range=bytes=')))
			if [ "$R_OK" = 1 ]; then
				OK[$key]=$((${OK[$key]} + 1))
				progress="$progress $tool ok $(secs "$R_SECS") s;"
			else
				progress="$progress $tool FAILED ($R_WHY) $(secs "$R_SECS") s;"
				local f=$T/failures/$tool-$fault-$side-$r.err
				cp "$R_ERR" "$f"
				FAILS[$key]="${FAILS[$key]} $r"
				FAIL_LINES+=("- $fault on the $side, $tool run $r ($(secs "$R_SECS") s): $R_WHY; stderr: \`$(err_tail "$f" 3 500)\`")
			fi
			MATRIX_RUNS=$((MATRIX_RUNS + 1))
		done
		say "$fault $side run $r/$RUNS:$progress (load $(cut -d' ' -f1 /proc/loadavg))"
	done
	# Blobs mounted into DST instead of uploaded (expected: none).
	sleep 0.2
	for tool in "${TOOLS[@]}"; do
		MOUNTS[$fault:$side:$tool]=$(grep -E '"(POST) /v2/'"$tool"'-[^ ]*[?&]mount=' "$DST_LOG" | grep -c .)
	done
	stop_faultproxy FP
	FP_PID=
	drop_registry DST
}

say "matrix: faults {$TYPES} x sides {$SIDES} x $RUNS runs x 3 tools, rate $RATE"
for fault in $TYPES; do
	for side in $SIDES; do
		t0=$(now_ms)
		say "== $fault on the $side (load $(load_avg))"
		row "$fault" "$side"
		say "== $fault on the $side done in $(secs_since "$t0") s"
	done
done

# ---------------------------------------------------------------------------
# A fault on every request

declare -a ALWAYS_ROWS=()
ALWAYS_OK=1
# always FAULT SIDE MATCH INLAY-STATUS: one run of each tool, FAULT on every
# request of SIDE matching MATCH.
always() {
	local fault=$1 side=$2 match=$3 want=$4 tool src dst repo got verdict n=0 desc
	if [ "$side" = source ]; then
		start_faultproxy FP "$SRC" --fault "$fault" --rate 1 ${match:+--match "$match"} --stall "$STALL"
		src=$FP dst=$DST
	else
		start_faultproxy FP "$DST" --fault "$fault" --rate 1 ${match:+--match "$match"} --stall "$STALL"
		src=$SRC dst=$FP
	fi
	desc="$fault, every request of the $side${match:+ matching \`$match\`}"
	for tool in "${TOOLS[@]}"; do
		n=$((n + 1))
		repo=always-$tool-$fault-${side:0:3}
		local l0 l1
		l0=$(wc -l <"$FP_LOG")
		run_tool "$tool" "$src" "$dst" "$repo"
		sleep 0.2
		l1=$(wc -l <"$FP_LOG")
		check_servers
		got=$(dst_digest "$repo")
		local injected
		injected=$(log_lines "$FP_LOG" "$l0" "$l1" | grep -c "fault=$fault")
		if [ "$tool" = skopeo ]; then
			if [ "$R_STATUS" -ne 0 ] && [ "$got" = absent ]; then verdict="fails, no tag"; else verdict="**exit $R_STATUS, tag $got**"; fi
			verdict="$verdict (no goal)"
		elif [ "$R_STATUS" = "$want" ] && [ "$got" = absent ]; then
			verdict=met
		else
			verdict="**not met**"
			ALWAYS_OK=0
		fi
		local tagcol=absent
		[ "$got" = absent ] || tagcol="**$got**"
		local msg
		msg=$(err_tail "$R_ERR" 1 300)
		ALWAYS_ROWS+=("| $desc | $tool | $R_STATUS$([ "$tool" = skopeo ] || echo " (expected $want)") | $tagcol | $(secs "$R_SECS") | $injected | $verdict | ${msg:-(nothing)} |")
		say "always $fault $side: $tool exit $R_STATUS, tag $got, $(secs "$R_SECS") s"
	done
	stop_faultproxy FP
	FP_PID=
}
say "== faults on every request"
fresh_registry DST
always 503 source '' 1
always flip source 'GET /v2/app/blobs/' 3
always reset destination 'PUT ' 1
drop_registry DST

# ---------------------------------------------------------------------------
# Report

NEED=$(((RUNS * 95 + 99) / 100))
# mcell KEY: "ok/runs" with the runs that failed in bold.
okcell() {
	local k=$1
	if [ "${OK[$k]}" -eq "${N[$k]}" ]; then echo "${OK[$k]}/${N[$k]}"; else echo "**${OK[$k]}/${N[$k]}**"; fi
}
medcell() {
	# shellcheck disable=SC2086 # a list of numbers
	secs "$(median ${SECS[$1]})"
}

md "## Reliability under injected faults: inlay and skopeo"
md ""
md "| | |" "|---|---|" \
	"| date | $START |" \
	"| command | \`$COMMAND\` |" \
	"| machine | $(nproc) CPUs, kernel $(uname -r), load average at start $LOAD0, at the end $(load_avg) |" \
	"| inlay | $("$INLAY" version 2>&1 | head -n 1): $INLAY_BUILT |" \
	"| skopeo | $(skopeo --version 2>&1 | head -n 1); $SK_NOTE |" \
	"| registry | $(docker-registry --version 2>&1 | head -n 1), on loopback; a fresh DST for each fault type and side |" \
	"| image | SRC/app:1, the amd64 busybox fixture plus $LAYERS layers of $LAYER_MIB MiB of incompressible data: $IMG_LAYERS layers, $(awk -v b="$IMG_BYTES" 'BEGIN { printf "%.1f MB", b / 1e6 }') ($IMG_BYTES bytes), $WANT |" \
	"| faults | \`faultproxy.py --fault TYPE --rate $RATE --seed S --stall $STALL\` in front of SRC (source) or DST (destination); S = cksum of SIDE+TYPE |" \
	"| runs | $RUNS per tool, fault type and side, tools in rotating order, each into a new repository, each cut at $LIMIT s; $MATRIX_RUNS runs in all, $(secs_since "$T0") s |"
md ""
md "Commands (SRC or DST is the proxy on the side with faults):" ""
md "- inlay copy: \`inlay copy --quiet --stall-timeout 5 SRC/app:1 DST/REPO:1\`; ok when it exits 0 and DST's tag names $WANT"
md "- inlay instrument: \`inlay instrument --quiet --stall-timeout 5 SRC/app:1 DST/REPO:1\`; ok when it exits 0, DST's tag names the digest it printed, and \`skopeo copy\` of that manifest from DST (directly) into an OCI layout succeeds (every blob verified)"
md "- skopeo: \`skopeo copy --retry-times 3 --src-tls-verify=false --dest-tls-verify=false docker://SRC/app:1 docker://DST/REPO:1\`; ok as inlay copy"
md ""
md "Without faults (one run each; s): directly, copy $(secs "${BASE[direct:copy]}"), instrument $(secs "${BASE[direct:instrument]}"), skopeo $(secs "${BASE[direct:skopeo]}"); through the proxy on the source, $(secs "${BASE[source:copy]}"), $(secs "${BASE[source:instrument]}"), $(secs "${BASE[source:skopeo]}"); on the destination, $(secs "${BASE[destination:copy]}"), $(secs "${BASE[destination:instrument]}"), $(secs "${BASE[destination:skopeo]}")."
md ""
md "Times are wall-clock seconds, the median of all runs of the cell (failed ones included). Faults: the proxy's fault=TYPE log lines during each tool's runs. Ranged GETs: requests with a Range header (a resumed download)."
md ""
md "| fault | side | faults injected: copy / instrument / skopeo | inlay copy ok | s | inlay instrument ok | s | skopeo ok | s | ranged GETs: copy / instrument / skopeo |"
md "|---|---|---|---|---|---|---|---|---|---|"
MOUNT_TOTAL=0
for fault in $TYPES; do
	for side in $SIDES; do
		c=$fault:$side:copy i=$fault:$side:instrument s=$fault:$side:skopeo
		md "| $fault | $side | $((FAULTS[$c] + FAULTS[$i] + FAULTS[$s])): ${FAULTS[$c]} / ${FAULTS[$i]} / ${FAULTS[$s]} | $(okcell "$c") | $(medcell "$c") | $(okcell "$i") | $(medcell "$i") | $(okcell "$s") | $(medcell "$s") | ${RANGED[$c]} / ${RANGED[$i]} / ${RANGED[$s]} |"
		MOUNT_TOTAL=$((MOUNT_TOTAL + MOUNTS[$c] + MOUNTS[$i] + MOUNTS[$s]))
	done
done
md ""
if [ "$MOUNT_TOTAL" -eq 0 ]; then
	md "No blob was mounted at the destination (no \`POST ...?mount=\` in DST's access logs): every run uploaded every blob."
else
	md "**Blobs were mounted at the destination instead of uploaded** ($MOUNT_TOTAL \`POST ...?mount=\` requests in DST's access logs):"
	for fault in $TYPES; do
		for side in $SIDES; do
			for tool in "${TOOLS[@]}"; do
				[ "${MOUNTS[$fault:$side:$tool]}" -eq 0 ] || md "- $fault $side $tool: ${MOUNTS[$fault:$side:$tool]}"
			done
		done
	done
fi

md "" "### Goal" "" "| goal | observed | result |" "|---|---|---|"
if [ "$RUNS" -eq 20 ]; then
	GOAL_TEXT="inlay copy and instrument succeed in at least 19 of 20 runs at 20% faults"
else
	GOAL_TEXT="inlay copy and instrument succeed in at least 95% of the runs ($NEED of $RUNS) at 20% faults"
fi
GOALS_MET=0 GOALS_ALL=0
for fault in $TYPES; do
	obs='' met=1
	for side in $SIDES; do
		c=$fault:$side:copy i=$fault:$side:instrument
		obs="$obs${obs:+; }$side: copy ${OK[$c]}/${N[$c]}, instrument ${OK[$i]}/${N[$i]}"
		[ "${OK[$c]}" -ge "$NEED" ] && [ "${OK[$i]}" -ge "$NEED" ] || met=0
	done
	GOALS_ALL=$((GOALS_ALL + 1))
	if [ "$met" = 1 ]; then v=met GOALS_MET=$((GOALS_MET + 1)); else v="**not met**"; fi
	md "| $fault: $GOAL_TEXT | $obs | $v |"
done
md "" "Goal met for $GOALS_MET of $GOALS_ALL fault types."

md "" "### A fault on every request" ""
md "One run of each tool, \`--rate 1\`. Goal: inlay (copy and instrument) exits with the expected status and leaves no destination tag."
md ""
md "| fault | tool | exit | destination tag | s | faults injected | result | last line of stderr |"
md "|---|---|---|---|---|---|---|---|"
md "${ALWAYS_ROWS[@]}"
md ""
if [ "$ALWAYS_OK" = 1 ]; then md "inlay: every expected exit status, no tag: met."; else md "inlay: **not met** (see the rows above)."; fi

if [ ${#FAIL_LINES[@]} -gt 0 ]; then
	md "" "### Failed runs" ""
	md "Each failed run of the matrix: exit status, time, and the end of its stderr."
	md ""
	md "${FAIL_LINES[@]}"
fi
[ "$RESTARTS" -eq 0 ] ||
	md "" "A registry died during the run and was restarted $RESTARTS time(s) (see the progress output); the run it broke was run again."
exit 0
