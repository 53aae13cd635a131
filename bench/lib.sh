# bench/lib.sh - what inlay's benchmarks share: the images, fresh registries,
# one measured run, statistics and the Markdown report. Sourced by run.sh after
# it has set INLAY; not a program of its own.
#
# A benchmark is a function bench_NAME (in copy.sh, instrument.sh) that runs
# inlay and a peer tool on the same images, alternately, and prints one
# Markdown section through md(). It records every run with sample():
#
#	sample KEY warm|run CMD [ARGS...]   # one run, timed, into the series KEY
#	series_row LABEL KEY                # a table row: samples, median, CPU, RSS
#	goal "DESCRIPTION" OBSERVED le|ge LIMIT   # a goal row, also in the summary
#
# Times are wall-clock seconds of the whole process, measured here (so start-up
# and exit count, as they do for a user); CPU and peak RSS come from
# /usr/bin/time -v. Progress goes to stderr, the report to stdout and to
# $BENCH_RESULTS.
#
# Built on the integration test harness (tests/integration/lib.sh): its $T,
# start_registry, fixtures, skopeo policy and EXIT cleanup.

LIB_NO_TAP=1
. "$BENCH_DIR/../tests/integration/lib.sh"

BENCH_RUNS=${BENCH_RUNS:-11}
BENCH_RESULTS=${BENCH_RESULTS:-}
# Image sizes in MiB; the defaults are the issue's: 5 x 40 MiB and 1 x 200 MiB.
BENCH_LAYER_MIB=${BENCH_LAYER_MIB:-40}
BENCH_LAYERS=${BENCH_LAYERS:-5}
BENCH_ONE_MIB=${BENCH_ONE_MIB:-200}
for _v in BENCH_RUNS BENCH_LAYER_MIB BENCH_LAYERS BENCH_ONE_MIB; do
	[[ ${!_v} =~ ^[1-9][0-9]{0,4}$ ]] || {
		echo "bench: $_v must be a positive integer, not '${!_v}'" >&2
		exit 2
	}
done
BIG_MIB=$((BENCH_LAYERS * BENCH_LAYER_MIB))
SENSOR_AMD64=${SENSOR_AMD64:-$ROOT/build/sensor/sensor-amd64}

# skopeo as sk() runs it, as an array /usr/bin/time can execute: every
# registry here is an open plain-HTTP one on loopback.
SKOPEO=(skopeo --policy "$_SK_POLICY")
SK_COPY=("${SKOPEO[@]}" copy -q --src-tls-verify=false --dest-tls-verify=false)

declare -gA S_SECS=() S_CPU=() S_RSS=() S_WARM=() S_FAIL=() S_ERR=() S_JSON=()
declare -ga GOALS=()
BENCH_FAILED=0

# ---------------------------------------------------------------------------
# Output

# say MSG...: progress on stderr.
say() {
	printf 'bench: %s\n' "$*" >&2
}

# md LINE...: lines of the report (stdout and $BENCH_RESULTS).
md() {
	if [ -n "$BENCH_RESULTS" ]; then
		printf '%s\n' "$@" | tee -a "$BENCH_RESULTS"
	else
		printf '%s\n' "$@"
	fi
}

# load_avg: the 1, 5 and 15 minute load averages, "a b c".
load_avg() {
	cut -d' ' -f1-3 /proc/loadavg
}

# ---------------------------------------------------------------------------
# Statistics (awk: bash has no floating point)

# median X...: the median ("-" for none); the mean of the middle two for an
# even count.
median() {
	[ $# -gt 0 ] || {
		echo -
		return 0
	}
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f\n", m }'
}

# max X...: the largest ("-" for none).
max() {
	[ $# -gt 0 ] || {
		echo -
		return 0
	}
	printf '%s\n' "$@" | sort -g | tail -n 1
}

# ratio A B: A / B with two decimals ("-" when either is missing or B is 0).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}

# mib KB: kilobytes as MiB with one decimal.
mib() {
	awk -v k="$1" 'BEGIN { if (k == "-") print "-"; else printf "%.1f\n", k / 1024 }'
}

# secs X: seconds with two decimals.
secs() {
	awk -v s="$1" 'BEGIN { if (s == "-") print "-"; else printf "%.2f\n", s }'
}

# ---------------------------------------------------------------------------
# One measured run

# measure CMD [ARGS...]: run CMD under /usr/bin/time -v, stdin from
# /dev/null, output in $T/m.out and $T/m.err. Sets M_STATUS, M_SECS (wall
# clock, "1.234"), M_CPU (user + system seconds) and M_RSS (peak RSS, KiB).
measure() {
	local t0 t1
	t0=${EPOCHREALTIME/./}
	/usr/bin/time -v -o "$T/m.time" "$@" >"$T/m.out" 2>"$T/m.err" </dev/null
	M_STATUS=$?
	t1=${EPOCHREALTIME/./}
	M_SECS=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }')
	M_RSS=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$T/m.time")
	M_CPU=$(awk -F': ' '/^[[:space:]]*(User|System) time \(seconds\)/ { s += $2 }
		END { printf "%.2f\n", s }' "$T/m.time")
	[ -n "$M_RSS" ] || M_RSS=0
}

# record KEY warm|run: file the last measurement under KEY. A failed run is
# counted, its first error kept for the report, and the whole benchmark exits
# non-zero at the end.
record() {
	local key=$1 kind=$2
	if [ "$M_STATUS" -ne 0 ]; then
		S_FAIL[$key]=$((${S_FAIL[$key]:-0} + 1))
		BENCH_FAILED=1
		if [ -z "${S_ERR[$key]:-}" ]; then
			S_ERR[$key]="exit status $M_STATUS: $(tr '\n' ' ' <"$T/m.err" | head -c 400)"
		fi
		say "$key: FAILED (${S_ERR[$key]})"
		return 1
	fi
	if [ "$kind" = warm ]; then
		S_WARM[$key]=$M_SECS
	else
		S_SECS[$key]="${S_SECS[$key]:-} $M_SECS"
		S_CPU[$key]="${S_CPU[$key]:-} $M_CPU"
		S_RSS[$key]="${S_RSS[$key]:-} $M_RSS"
	fi
	say "$key ($kind): ${M_SECS} s, cpu ${M_CPU} s, rss $(mib "$M_RSS") MiB"
	return 0
}

# measure_retry CMD [ARGS...]: measure, and when CMD failed because a
# registry died under it, restart the registry and measure again (once).
measure_retry() {
	measure "$@"
	if [ "$M_STATUS" -ne 0 ] && restart_dead_registries; then
		say "running it again: $*"
		measure "$@"
	fi
}

# sample KEY warm|run CMD [ARGS...]: measure and record one run. For inlay
# with --json, its report is kept in S_JSON[KEY] (the last run) or
# S_JSON[KEY:warm] (the warm-up).
sample() {
	local key=$1 kind=$2
	shift 2
	measure_retry "$@"
	record "$key" "$kind" || return 1
	if head -c 1 "$T/m.out" | grep -q '{'; then
		if [ "$kind" = warm ]; then S_JSON[$key:warm]=$(cat "$T/m.out"); else S_JSON[$key]=$(cat "$T/m.out"); fi
	fi
	return 0
}

# add_sample KEY warm|run SECS CPU RSS: record a run measured in parts (the
# scripted pipeline: the sum of its steps, the largest RSS).
add_sample() {
	M_STATUS=0 M_SECS=$3 M_CPU=$4 M_RSS=$5
	record "$1" "$2"
}

# json_field KEY JQ: a field of the last --json report of series KEY.
json_field() {
	jq -r "$2" <<<"${S_JSON[$1]:-null}" 2>/dev/null
}

# med KEY: the median wall time of series KEY.
med() {
	# shellcheck disable=SC2086 # word splitting wanted: a list of numbers
	median ${S_SECS[$1]:-}
}

# series_row LABEL KEY: "| LABEL | warm-up | samples | median | CPU | RSS |".
series_row() {
	local label=$1 key=$2 s list='' fails=''
	for s in ${S_SECS[$key]:-}; do list="$list $(secs "$s")"; done
	[ -n "$list" ] || list=" none"
	[ -z "${S_FAIL[$key]:-}" ] || fails=" (**${S_FAIL[$key]} failed**)"
	# shellcheck disable=SC2086
	md "| $label | $(secs "${S_WARM[$key]:--}") |${list}${fails} | **$(secs "$(med "$key")")** | $(secs "$(median ${S_CPU[$key]:-})") | $(mib "$(median ${S_RSS[$key]:-})") / $(mib "$(max ${S_RSS[$key]:-})") |"
}

# series_header: the header of a series_row table.
series_header() {
	md "| run | warm-up (s) | samples (s) | median (s) | CPU median (s) | peak RSS median / max (MiB) |" \
		"|---|---|---|---|---|---|"
}

# series_errors KEY...: the first error of each series that had failures.
series_errors() {
	local k
	for k in "$@"; do
		[ -z "${S_ERR[$k]:-}" ] || md "" "Failure in \`$k\`: ${S_ERR[$k]}"
	done
}

# goal DESCRIPTION OBSERVED le|ge LIMIT: a goal row "| goal | observed |
# met |" for the current benchmark; remembered for the summary.
goal() {
	local desc=$1 obs=$2 op=$3 limit=$4 verdict
	verdict=$(awk -v o="$obs" -v op="$op" -v l="$limit" 'BEGIN {
		if (o == "-" || o == "") { print "no data"; exit }
		ok = (op == "le") ? (o + 0 <= l + 0) : (o + 0 >= l + 0)
		print ok ? "met" : "**not met**" }')
	md "| $desc | $obs | $verdict |"
	GOALS+=("| $desc | $obs | $verdict |")
}

goal_header() {
	md "" "| goal | observed | result |" "|---|---|---|"
}

# ---------------------------------------------------------------------------
# Registries

declare -gA BENCH_REGS=() # registries in use: checked, and restarted, after a failed run
BENCH_RESTARTS=0

# fresh_registry PREFIX: an empty open registry named PREFIX (see
# start_registry); its chatter goes to stderr, not into the report.
fresh_registry() {
	# start_registry greps its log before the server has created it; a log
	# that exists already keeps "No such file" noise out of the output.
	mkdir -p "$T/registry-$1" && : >>"$T/registry-$1/registry.log"
	start_registry open "$1" >&2
	BENCH_REGS[$1]=1
}

# drop_registry PREFIX: stop PREFIX's registry and delete its storage, so a
# run that copied 200 MiB into it leaves nothing behind.
drop_registry() {
	local dir_var=${1}_DIR log_var=${1}_LOG
	unset "BENCH_REGS[$1]"
	stop_registry "$1"
	rm -rf "${!dir_var}"
	: >"${!log_var}"
}

# restart_dead_registries: restart, on the same port and storage, every
# registry in use whose process is gone, so the arguments of a failed run
# are still right for a second try. Other people's tests share this machine
# and a registry has been seen killed from outside. Returns 0 when one was
# restarted.
restart_dead_registries() {
	local p pid_var log pid i code restarted=1
	for p in "${!BENCH_REGS[@]}"; do
		pid_var=${p}_PID
		kill -0 "${!pid_var}" 2>/dev/null && continue
		log=$T/registry-$p/registry.log
		say "registry $p (pid ${!pid_var}) is gone; restarting it on ${!p}. End of its log:"
		tail -n 3 "$log" | cut -c1-300 >&2
		_untrack_pid "${!pid_var}"
		setsid docker-registry serve "$T/registry-$p/config.yml" >>"$log" 2>&1 </dev/null &
		pid=$!
		_track_pid "$pid" "$log"
		code=000
		for ((i = 0; i < 100; i++)); do
			code=$(_http_code "http://${!p}/v2/")
			[ "$code" != 200 ] || break
			sleep 0.1
		done
		[ "$code" = 200 ] || bail_out "could not restart registry $p on ${!p}"
		declare -gx "$pid_var=$pid"
		BENCH_RESTARTS=$((BENCH_RESTARTS + 1))
		restarted=0
	done
	return "$restarted"
}

# ---------------------------------------------------------------------------
# Images

# gen_data SEED MIB FILE: MIB MiB of incompressible bytes, the same for the
# same SEED on every machine (AES-128-CTR keystream of a fixed passphrase).
gen_data() {
	local n=$(($2 * 1048576))
	# openssl dies of SIGPIPE when head has enough: that is success here.
	{ openssl enc -aes-128-ctr -pass "pass:$1" -nosalt -pbkdf2 </dev/zero 2>/dev/null || :; } |
		head -c "$n" >"$3" || return 1
	[ "$(stat -c %s "$3")" -eq "$n" ] && touch -d @0 "$3"
}

# build_image LAYOUT NAME SEED MIB...: the amd64 busybox fixture plus one
# layer per MIB, each a file /bench/NAME-I.bin of MIB MiB from SEED-I, under
# the ref NAME of the OCI layout LAYOUT.
build_image() {
	local layout=$1 name=$2 seed=$3 i=0 mib src
	shift 3
	src=$(fixture single) || return 1
	mkdir -p "$layout" || return 1
	if [ ! -e "$layout/index.json" ]; then
		cp -a "$src/." "$layout/" || return 1
	fi
	umoci tag --image "$layout:single" "$name" || return 1
	for mib in "$@"; do
		i=$((i + 1))
		gen_data "$seed-$i" "$mib" "$T/layer.bin" || return 1
		umoci insert --image "$layout:$name" --history.created 1970-01-01T00:00:00Z \
			--history.created_by "bench data $name-$i ($mib MiB, seed $seed-$i)" \
			"$T/layer.bin" "/bench/$name-$i.bin" >&2 || return 1
		rm -f "$T/layer.bin"
	done
}

# image_layers LAYOUT NAME: the number of layers of NAME.
image_layers() {
	jq '.layers | length' "$(layout_blob "$1" "$(layout_digest "$1" "$2")")"
}

# image_bytes LAYOUT NAME: the size of NAME's config plus layers, in bytes.
image_bytes() {
	jq '[.config.size, .layers[].size] | add' "$(layout_blob "$1" "$(layout_digest "$1" "$2")")"
}

# ---------------------------------------------------------------------------
# Setup and main

# bench_setup: start the source registry REG (and REG2, for same-registry
# comparisons), build the images and push them as REG/big:1, REG/one:1 and
# REG/small:1. Sets IMG_LAYERS_*, IMG_BYTES_*, IMG_DIGEST_*.
bench_setup() {
	local t0 name layout=$T/images
	t0=$(now_ms)
	fresh_registry REG
	local sizes=() i
	for ((i = 0; i < BENCH_LAYERS; i++)); do sizes+=("$BENCH_LAYER_MIB"); done
	say "building images (${BENCH_LAYERS} x ${BENCH_LAYER_MIB} MiB, 1 x ${BENCH_ONE_MIB} MiB, small)"
	build_image "$layout" big inlay-bench-big "${sizes[@]}" ||
		bail_out "building the big image failed"
	build_image "$layout" one inlay-bench-one "$BENCH_ONE_MIB" ||
		bail_out "building the one-layer image failed"
	build_image "$layout" small inlay-bench-small || bail_out "building the small image failed"
	for name in big one small; do
		"${SKOPEO[@]}" copy -q --preserve-digests --dest-tls-verify=false \
			"oci:$layout:$name" "docker://$REG/$name:1" >"$T/push.log" 2>&1 ||
			bail_out "pushing $name: $(cat "$T/push.log")"
		declare -g "IMG_LAYERS_$name=$(image_layers "$layout" "$name")"
		declare -g "IMG_BYTES_$name=$(image_bytes "$layout" "$name")"
		declare -g "IMG_DIGEST_$name=$(layout_digest "$layout" "$name")"
	done
	# The pushes are all the layout was for.
	rm -rf "$layout"
	[ "$IMG_LAYERS_big" -ge $((BENCH_LAYERS + 3)) ] ||
		bail_out "the big image has $IMG_LAYERS_big layers, expected $((BENCH_LAYERS + 3))"
	say "images ready in $(secs_since "$t0") s"
}

# image_desc NAME: "big: 8 layers, 209.7 MB".
image_desc() {
	local l=IMG_LAYERS_$1 b=IMG_BYTES_$1
	printf '%s: %s layers, %s MB (%s bytes)' "$1" "${!l}" \
		"$(awk -v b="${!b}" 'BEGIN { printf "%.1f", b / 1e6 }')" "${!b}"
}

# machine_section: what the numbers were measured on.
machine_section() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	md "| | |" "|---|---|" \
		"| date | $(date -u '+%Y-%m-%d %H:%M UTC') |" \
		"| command | \`$BENCH_COMMAND\` |" \
		"| CPU | $(nproc) cores, ${cpu:-unknown} |" \
		"| memory | $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |" \
		"| kernel | $(uname -sr) |" \
		"| inlay | $("$INLAY" version 2>&1 | head -n 1): $INLAY_BUILT |" \
		"| skopeo | $(skopeo --version 2>&1 | head -n 1) |" \
		"| umoci | $(umoci --version 2>&1 | head -n 1) |" \
		"| registry | $(docker-registry --version 2>&1 | head -n 1) |" \
		"| runs | $BENCH_RUNS per series after one warm-up run, tools alternating |" \
		"| load average at start | $(load_avg) |"
}

# bench_main [NAME...]: set up, run the named benchmarks (default all, in
# order), print the summary.
bench_main() {
	local names=("$@") n t0
	[ ${#names[@]} -gt 0 ] || names=(copy mount inplace pipeline cross)
	for n in "${names[@]}"; do
		declare -F "bench_$n" >/dev/null || {
			echo "bench: unknown benchmark '$n' (copy mount inplace pipeline cross)" >&2
			exit 2
		}
	done
	require_inlay
	# Measure one binary from start to end, even if it is rebuilt meanwhile.
	INLAY_BUILT="$INLAY, sha256 $(sha256sum "$INLAY" | cut -c1-16)..., built $(date -u -r "$INLAY" '+%Y-%m-%d %H:%M UTC')"
	if git -C "$ROOT" rev-parse --short HEAD >/dev/null 2>&1; then
		INLAY_BUILT="$INLAY_BUILT; tree at $(git -C "$ROOT" rev-parse --short HEAD)"
		[ -z "$(GIT_OPTIONAL_LOCKS=0 git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] ||
			INLAY_BUILT="$INLAY_BUILT plus uncommitted changes"
	fi
	cp "$INLAY" "$T/inlay" || bail_out "cannot copy $INLAY to $T"
	INLAY=$T/inlay
	require_tools skopeo umoci jq openssl docker-registry curl
	[ -x /usr/bin/time ] || bail_out "/usr/bin/time is missing (Debian package 'time')"
	t0=$(now_ms)
	[ -z "$BENCH_RESULTS" ] || : >"$BENCH_RESULTS"
	md "## Results" ""
	machine_section
	bench_setup
	md "" "Images, pushed to one registry with skopeo:" "" \
		"- $(image_desc big): the busybox fixture plus ${BENCH_LAYERS} layers of ${BENCH_LAYER_MIB} MiB of incompressible data" \
		"- $(image_desc one): the busybox fixture plus one layer of ${BENCH_ONE_MIB} MiB" \
		"- $(image_desc small): the busybox fixture alone"
	for n in "${names[@]}"; do
		say "== $n (load $(load_avg))"
		"bench_$n"
	done
	md "" "### Summary" "" "| goal | observed | result |" "|---|---|---|" "${GOALS[@]}" "" \
		"Load average at the end: $(load_avg). Whole run: $(secs_since "$t0") s."
	[ "$BENCH_RESTARTS" -eq 0 ] ||
		md "" "A registry died during the run and was restarted $BENCH_RESTARTS time(s) (see the progress output); the run it broke was measured again."
	[ -z "$BENCH_RESULTS" ] || say "report written to $BENCH_RESULTS"
	return "$BENCH_FAILED"
}
