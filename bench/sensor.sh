#!/bin/bash
# sensor.sh BUILD_DIR - the sensor's overhead (issue 4): the same workload in
# the same runc bundle of an instrumented image, run plain (/bin/sh -c W) and
# under the sensor in monitor mode (/.inlay/sensor -- /bin/sh -c W), runs
# alternating. The time is taken inside the container from /proc/uptime
# (10 ms steps; each workload runs for seconds), so container creation and
# the sensor's own start are not counted: only what tracing costs the app.
# Also the sensor binaries' sizes and the sensor's peak RSS (VmHWM of PID 1).
#
# A third side, "floor", runs the workload under bench/floor.c (built here,
# static, copied into the bundle): a tracer of the sensor's hybrid shape that
# answers every stop at once and does nothing else. floor/plain is what any
# capture bound by issue 4's filter contract costs on this machine; the
# sensor's own work is the distance from the floor to the sensor.
#
# Environment: SENSOR_RUNS (runs per side, default 7); SENSOR_CPUS, a cpuset
# ("1", "0-1") the container is confined to, plain and sensor alike: "1" is a
# one-vCPU task, where the application and the sensor share one CPU and no
# wake-up crosses CPUs (default: every CPU). Loopback only; cleans up.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
INLAY=$BUILD/inlay
RUNS=${SENSOR_RUNS:-7}
CPUS=${SENSOR_CPUS:-}
LIB_NO_TAP=1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/runc.sh"
require_tools skopeo umoci runc jq

# name | goal (instrumented/plain at most) | workload
# The tmpfs row is not one of issue 4's goals as written: it shows the same
# per-create cost against a faster base (the container's /dev/shm), where
# the ratio is at its worst.
WORKLOADS=(
	"syscall-heavy I/O: dd bs=1, 1,000,000 reads and writes|1.05|dd if=/dev/zero of=/dev/null bs=1 count=1000000 2>/dev/null"
	"file creation: 20,000 open(O_CREAT, O_TRUNC) by shell redirection|1.3|i=0; while [ \$i -lt 20000 ]; do : >/tmp/f\$i; i=\$((i+1)); done"
	"file creation on tmpfs (/dev/shm): the same 20,000 creates without a disk's cost per file (worst case)|1.3|i=0; while [ \$i -lt 20000 ]; do : >/dev/shm/f\$i; i=\$((i+1)); done"
	"process launch: 1,000 fork+exec of /bin/busybox true|1.5|i=0; while [ \$i -lt 1000 ]; do /bin/busybox true; i=\$((i+1)); done"
)

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# one_run WORKLOAD sensor|floor|plain: prints "CENTISECONDS HWM_KB"
one_run() {
	local w=$1 how=$2 timed
	timed="read a _ </proc/uptime; $w; read b _ </proc/uptime; echo \"elapsed \$a \$b\"; grep VmHWM /proc/1/status"
	# The last run's 20,000 files, removed and written back now rather
	# than during this run's loop.
	rm -f "$B"/rootfs/tmp/f* 2>/dev/null
	sync
	case $how in
	sensor) bundle_args "$B" /.inlay/sensor -- /bin/sh -c "$timed" ;;
	floor) bundle_args "$B" /.bench-floor /bin/sh -c "$timed" ;;
	*) bundle_args "$B" /bin/sh -c "$timed" ;;
	esac
	run_bundle "$B"
	[ "$status" -eq 0 ] || { echo "bench: run failed ($how): $stderr" >&2; return 1; }
	awk '/^elapsed/ {split($2, a, "."); split($3, b, "."); print (b[1] * 100 + b[2]) - (a[1] * 100 + a[2])}' "$RUN_OUT" | tr '\n' ' '
	awk '/^VmHWM/ {print $2}' "$RUN_OUT"
}

start_registry open >&2
fixtures_build single >&2
push_fixture single "$REG/app:1"
"$INLAY" instrument --quiet "$REG/app:1" >/dev/null || { echo "bench: instrument failed" >&2; exit 1; }
B=$T/bundle
unpack_image "docker://$REG/app:1-inlay" "$B" || exit 1
cc -O2 -static -pthread -o "$B/rootfs/.bench-floor" "$ROOT/bench/floor.c" ||
	{ echo "bench: cannot build bench/floor.c" >&2; exit 1; }
[ -z "$CPUS" ] || bundle_config "$B" ".linux.resources.cpu.cpus = \"$CPUS\""

echo "## Sensor overhead (monitor mode, inside runc)"
echo
echo "| | |"
echo "|---|---|"
echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
echo "| command | \`${CPUS:+SENSOR_CPUS=$CPUS }sh bench/sensor.sh $1\` ($RUNS runs per side, alternating) |"
echo "| CPUs | ${CPUS:-all $(nproc)} (the container's cpuset) |"
echo "| machine | $(nproc) cores, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg) |"
echo "| sensor | $(jq -r '.process.args | join(" ")' "$B/config.json" | cut -c1-40)...; mechanism $(bundle_args "$B" /.inlay/sensor -- /bin/true; run_bundle "$B"; sensor_events "$RUN_ERR" | jq -r 'select(.rule == "sensor started") | .output_fields["sensor.mechanism"]') |"
echo "| sensor sizes | amd64 $(stat -c %s "$ROOT/build/sensor/sensor-amd64") bytes, arm64 $(stat -c %s "$ROOT/build/sensor/sensor-arm64") bytes (goal < 300 KB) |"
echo
echo "| workload | plain, centiseconds | floor, centiseconds | sensor, centiseconds | median plain | median floor | median sensor | floor / plain | sensor / plain | goal | result | sensor peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for entry in "${WORKLOADS[@]}"; do
	name=${entry%%|*}
	rest=${entry#*|}
	goal=${rest%%|*}
	w=${rest#*|}
	plain=() floor=() sensor=() hwm=0
	one_run "$w" plain >/dev/null && one_run "$w" sensor >/dev/null # warm-up
	for ((i = 0; i < RUNS; i++)); do
		r=$(one_run "$w" plain) || exit 1
		plain+=("${r%% *}")
		r=$(one_run "$w" floor) || exit 1
		floor+=("${r%% *}")
		r=$(one_run "$w" sensor) || exit 1
		sensor+=("${r%% *}")
		h=${r##* }
		[ "${h:-0}" -gt "$hwm" ] && hwm=$h
	done
	mp=$(printf '%s\n' "${plain[@]}" | median)
	mf=$(printf '%s\n' "${floor[@]}" | median)
	ms=$(printf '%s\n' "${sensor[@]}" | median)
	fratio=$(awk -v f="$mf" -v p="$mp" 'BEGIN {printf "%.2f", f / p}')
	ratio=$(awk -v s="$ms" -v p="$mp" 'BEGIN {printf "%.2f", s / p}')
	met=$(awk -v r="$ratio" -v g="$goal" 'BEGIN {print (r <= g) ? "met" : "**not met**"}')
	echo "| $name | ${plain[*]} | ${floor[*]} | ${sensor[*]} | $mp | $mf | $ms | $fratio | $ratio | <= $goal | $met | $((hwm / 1024)).$(((hwm % 1024) * 10 / 1024)) MiB |"
done
echo
echo "Load at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
