#!/bin/bash
# apps.sh BUILD_DIR - the sensor's overhead on real work (issue 12's
# applications, issue 4's question): the `apps` fixture's Debian nginx,
# PostgreSQL and Python, each run with runc from the plain image and from the
# image `inlay instrument` made of it (monitor mode, the default), runs
# alternating (plain, instrumented, plain, ...). bench/sensor.sh measures
# synthetic system-call patterns; this measures what a user of these images
# would see:
#
#   nginx       requests/s of `wrk -t1 -c32 -d10s` fetching a 4 KiB static
#               file from nginx started by the image's own command (listen
#               edited to 127.0.0.1:PORT, as tests/integration/apps.t does),
#               after a 2 s warm-up wrk. Goal: instrumented/plain >= 0.97.
#   pgbench     TPS of `pgbench -c4 -T15` (after `pgbench -i`) against a
#               postgres started by the image's entrypoint (initdb on the
#               first start). pgbench runs inside the container with
#               `runc exec` as user postgres: a runc exec'd process is no
#               child of PID 1, so under the sensor only the server side
#               (postmaster and its backends) is traced; the client is not.
#               Goal: instrumented/plain >= 0.95.
#   initdb      seconds of `initdb -D /tmp/pgdata-bench --auth=trust
#               --username=postgres` as the postgres image's process (user
#               postgres): thousands of file creations, and the postgres
#               processes initdb starts. Goal: instrumented/plain <= 1.3.
#   compileall  seconds of `python3 -m compileall -q -j 1` of a fresh copy of
#               /usr/lib/python3.11 (copied on the host before the run, not
#               timed, without its __pycache__ directories, so that every
#               .pyc is written). -j 1 on purpose: compileall then compiles in
#               its own process, one CPU's worth of work, so the figure is
#               what tracing costs the application and not how two cores are
#               shared between a process pool, the sensor and whatever else
#               runs on the machine (-j 0 starts os.cpu_count() workers, here
#               2, which leave the sensor no free CPU and make the ratio a
#               measure of contention). Goal: instrumented/plain <= 1.3.
#
# The two timed workloads (initdb, compileall) are the container's process:
# bash -c 'a=$EPOCHREALTIME; WORK; b=$EPOCHREALTIME' plain, the same under
# /.inlay/sensor -- instrumented, so container creation and the sensor's own
# start are not counted. Each runs once per side as a warm-up first.
#
# Every run is checked, and a run that fails a check fails its measurement
# (shown as failed, the script exits 1; no number is made up): nginx served
# the file (200s in its access log, wrk without non-2xx or socket errors),
# pgbench printed a tps and no failed transaction, initdb succeeded,
# compileall exited 0 and wrote a .pyc for every .py, and on the
# instrumented side the sensor reported "sensor started" as PID 1. A goal
# not met is a result, not a failure. The sensor's events of the last
# instrumented run of each measurement are counted in the report (what was
# written, and what the rate limit dropped), as a hint of where the time goes.
#
# Environment: APPS_RUNS (runs per side, default 5), APPS_ONLY (a subset of
# "nginx pgbench initdb compileall", default all). About 7 minutes on 2
# cores with the defaults (set-up, unpacking six 450 MB bundles, is about a
# minute of it). Root, runc and wrk needed. The traffic is loopback only
# (host network namespace, 127.0.0.1), but building the `apps` fixture, when
# build/fixtures has none, runs debootstrap against the Debian mirror
# (tests/integration/fixtures.sh); it is cached from then on. Every
# container is removed at the end. Markdown report on stdout, progress on
# stderr; exit status 1 when a measurement failed, 2 on bad usage.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
INLAY=$BUILD/inlay
RUNS=${APPS_RUNS:-5}
ONLY=${APPS_ONLY:-nginx pgbench initdb compileall}
ALL_MEASUREMENTS="nginx pgbench initdb compileall"
[[ $RUNS =~ ^[1-9][0-9]{0,2}$ ]] || {
	echo "bench: APPS_RUNS must be a positive integer (at most 999), not '$RUNS'" >&2
	exit 2
}
for _m in $ONLY; do
	case " $ALL_MEASUREMENTS " in *" $_m "*) ;; *)
		echo "bench: unknown measurement '$_m' in APPS_ONLY ($ALL_MEASUREMENTS)" >&2
		exit 2
		;;
	esac
done
# shellcheck disable=SC2086 # one space between names, for wanted()
ONLY=$(printf '%s ' $ONLY)
[ -n "${ONLY//[[:space:]]/}" ] || {
	echo "bench: APPS_ONLY names no measurement ($ALL_MEASUREMENTS)" >&2
	exit 2
}
COMMAND="${APPS_RUNS:+APPS_RUNS=$APPS_RUNS }${APPS_ONLY:+APPS_ONLY=\"$APPS_ONLY\" }bash $0${1:+ $1}"
LIB_NO_TAP=1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/runc.sh"
require_inlay
require_tools skopeo umoci runc jq curl wrk
T0=$(now_ms)

say() {
	printf 'bench: %s\n' "$*" >&2
}

# wanted NAME: APPS_ONLY selects measurement NAME.
wanted() {
	case " $ONLY " in *" $1 "*) return 0 ;; esac
	return 1
}

# ---------------------------------------------------------------------------
# Bundles

# Docker's default capabilities (umoci's bundle has fewer: nginx chowns its
# temporary directories, postgres's initdb sets modes), as apps.t gives them.
CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW",
  "CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT",
  "CAP_KILL","CAP_AUDIT_WRITE"]'

# edit_bundle DIR JQ-ARGS...: edit DIR's config.json with jq.
edit_bundle() {
	jq "${@:2}" <"$1/config.json" >"$1/config.json.new" && mv "$1/config.json.new" "$1/config.json"
}

# prepare SIDE APP: unpack the plain or instrumented image of APP into
# $T/SIDE-APP with Docker's capabilities and the host's network (so the
# service is reached on loopback); its own process.args are kept in
# $T/SIDE-APP.args.
prepare() {
	local side=$1 app=$2 dir=$T/$1-$2 ref
	if [ "$side" = plain ]; then ref=$(app_ref "$app") || return 1; else ref=oci:$T/inst:$app; fi
	unpack_image "$ref" "$dir" || return 1
	edit_bundle "$dir" --argjson c "$CAPS" '.process.capabilities = {bounding: $c, effective: $c,
		permitted: $c} | .linux.namespaces |= map(select(.type != "network"))' || return 1
	jq -c '.process.args' "$dir/config.json" >"$T/$side-$app.args"
}

# set_args DIR SIDE JSON|default: the image's own args, or the JSON array
# (under /.inlay/sensor -- on the instrumented side).
set_args() {
	local dir=$1 side=$2 args=$3
	if [ "$args" = default ]; then
		args=$(cat "$dir.args")
	elif [ "$side" = inst ]; then
		args=$(jq -c '["/.inlay/sensor", "--"] + .' <<<"$args")
	fi
	edit_bundle "$dir" --argjson a "$args" '.process.args = $a'
}

# set_env DIR NAME VALUE: NAME=VALUE in the process's environment.
set_env() {
	edit_bundle "$1" --arg n "$2" --arg v "$2=$3" \
		'.process.env = ([.process.env[] | select(startswith($n + "=") | not)] + [$v])'
}

# stop_ct ID SIGNAL: signal the container and wait for its end (15 s, then
# SIGKILL); sets status, stdout, stderr, RUN_OUT, RUN_ERR as wait_bundle.
stop_ct() {
	local id=$1 pid i
	pid=$(cat "$T/$id.pid")
	runc kill "$id" "$2" >/dev/null 2>&1
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && runc kill "$id" KILL >/dev/null 2>&1
	wait_bundle "$id"
}

# sensor_ok FILE: the sensor reported its start as PID 1 in FILE (a
# container's stderr); otherwise ERR says what was missing.
sensor_ok() {
	local pid
	pid=$(sensor_events "$1" 2>/dev/null | jq -r 'select(.rule == "sensor started") | .output_fields["proc.pid"]' |
		head -n 1)
	[ "$pid" = 1 ] && return 0
	ERR="no \"sensor started\" event of PID 1 on the instrumented side (proc.pid '${pid:-none}'; $(sensor_events "$1" | wc -l) events): $(grep -v '^{"time"' "$1" | tail -c 200 | tr '\n' ' ')"
	return 1
}

# checked SIDE [EVENTS-FILE]: a run's verdict: fails when ERR is set or,
# instrumented, when the sensor was not PID 1; else EVENTS summarises
# EVENTS-FILE (default: the run's stderr).
checked() {
	[ -z "$ERR" ] || return 1
	[ "$1" = inst ] || return 0
	sensor_ok "$RUN_ERR" || return 1
	EVENTS=$(events_summary "${2:-$RUN_ERR}")
}

# events_summary FILE: the sensor's events in FILE counted by rule, and
# what the rate limit dropped.
events_summary() {
	sensor_events "$1" 2>/dev/null | jq -rs '
		(map(select(.rule == "events dropped") | .output_fields["sensor.dropped"] | tonumber) | add // 0) as $d |
		(map(select(.rule != "events dropped")) | group_by(.rule) |
			map("\(length) \(.[0].rule)") | join(", ")) as $r |
		"\($r); \($d) more dropped by the rate limit"'
}

# elapsed FILE: from the line "inlay-bench elapsed A B status S" of FILE,
# VAL = B - A in seconds (bash's $EPOCHREALTIME, microseconds) and
# WSTATUS = S; both empty when there is no such line.
elapsed() {
	local line
	VAL='' WSTATUS=''
	line=$(grep '^inlay-bench elapsed ' "$1" | tail -n 1)
	[ -n "$line" ] || return 1
	WSTATUS=$(awk '{print $6}' <<<"$line")
	VAL=$(awk '{printf "%.3f\n", $4 - $3}' <<<"$line")
}

# The timing wrapper of a workload run as the container's process.
timed() {
	printf 'a=$EPOCHREALTIME; %s; s=$?; b=$EPOCHREALTIME; echo "inlay-bench elapsed $a $b status $s"' "$1"
}

# ---------------------------------------------------------------------------
# The measurements: MEAS_one SIDE runs once, sets VAL (the figure) and
# EVENTS (instrumented side), or ERR and returns 1.

STATIC_BYTES=4096
nginx_one() {
	local side=$1 dir=$T/$1-nginx port cid i code url total ok200 bad ws
	port=$(free_port)
	url=http://127.0.0.1:$port/static.txt
	sed "s/listen 80 default_server;/listen 127.0.0.1:$port default_server;/;
		s/listen \[::\]:80 default_server;//" "$T/nginx-site.orig" >"$dir/rootfs/etc/nginx/sites-available/default"
	: >"$dir/rootfs/var/log/nginx/access.log"
	: >"$dir/rootfs/var/log/nginx/error.log"
	set_args "$dir" "$side" default
	sync
	start_bundle "$dir" cid 2>/dev/null || {
		ERR="nginx did not start: $(tail -c 300 "$T/$cid.err" | tr '\n' ' ')"
		return 1
	}
	code=000
	for ((i = 0; i < 100; i++)); do
		code=$(_http_code "$url")
		[ "$code" = 200 ] && break
		sleep 0.1
	done
	if [ "$code" != 200 ] || [ "$(curl -s --noproxy '*' --max-time 2 "$url" | sha256sum | cut -d' ' -f1)" != "$STATIC_SHA" ]; then
		stop_ct "$cid" KILL
		ERR="nginx did not serve $url (HTTP $code): $(tail -c 300 "$RUN_ERR" | tr '\n' ' ')"
		return 1
	fi
	wrk -t1 -c32 -d2s "$url" >"$T/wrk-warm.out" 2>&1
	wrk -t1 -c32 -d10s "$url" >"$T/wrk.out" 2>&1
	ws=$?
	stop_ct "$cid" QUIT
	VAL=$(awk '/^Requests\/sec:/ {print $2}' "$T/wrk.out")
	total=$(awk '/ requests in / {print $1}' "$T/wrk.out")
	ok200=$(awk '$9 == 200' "$dir/rootfs/var/log/nginx/access.log" | wc -l)
	bad=$(awk '$9 != 200' "$dir/rootfs/var/log/nginx/access.log" | wc -l)
	if [ "$ws" -ne 0 ] || [ -z "$VAL" ] || [ -z "$total" ] || [ "$total" -eq 0 ]; then
		ERR="wrk failed (status $ws): $(tr '\n' ' ' <"$T/wrk.out" | head -c 300)"
	elif grep -Eq 'Non-2xx|Socket errors' "$T/wrk.out" "$T/wrk-warm.out"; then
		ERR="wrk saw errors: $(grep -Eh 'Non-2xx|Socket errors' "$T/wrk-warm.out" "$T/wrk.out" | tr '\n' ' ')"
	elif [ "$bad" -ne 0 ] || [ "$ok200" -lt "$total" ]; then
		ERR="nginx's access log has $ok200 responses 200 and $bad others for wrk's $total requests"
	elif [ "$status" -ne 0 ]; then
		ERR="nginx ended with status $status on SIGQUIT: $(tail -c 300 "$RUN_ERR" | tr '\n' ' ')"
	else
		ERR=
	fi
	checked "$side" || return 1
	say "nginx $side: $VAL requests/s ($total requests in 10 s)"
}

pgbench_one() {
	local side=$1 dir=$T/$1-postgres port cid i ready=1 user off
	port=$(free_port)
	# A fresh data directory: the entrypoint runs initdb on every start.
	find "$dir/rootfs/var/lib/postgresql/data" -mindepth 1 -delete
	set_args "$dir" "$side" default
	set_env "$dir" PGPORT "$port"
	user=$PG_UID:$PG_GID
	sync
	start_bundle "$dir" cid 2>/dev/null || {
		ERR="postgres did not start: $(tail -c 300 "$T/$cid.err" | tr '\n' ' ')"
		return 1
	}
	for ((i = 0; i < 300; i++)); do
		runc exec --user "$user" "$cid" pg_isready -q -h 127.0.0.1 -p "$port" >/dev/null 2>&1 && ready=0 && break
		sleep 0.1
	done
	if [ "$ready" -ne 0 ]; then
		stop_ct "$cid" KILL
		ERR="postgres not ready after 30 s: $(tail -c 300 "$RUN_ERR" | tr '\n' ' ')"
		return 1
	fi
	if ! timeout 120 runc exec --user "$user" "$cid" pgbench -i -q -h 127.0.0.1 -p "$port" -U postgres postgres \
		>"$T/pgbench-i.out" 2>&1 </dev/null; then
		stop_ct "$cid" KILL
		ERR="pgbench -i failed: $(tail -c 300 "$T/pgbench-i.out" | tr '\n' ' ')"
		return 1
	fi
	# The sensor's events from here on are the measured run's (and the
	# shutdown's), not initdb's or pgbench -i's.
	off=$(stat -c %s "$T/$cid.err")
	timeout 60 runc exec --user "$user" "$cid" pgbench -c4 -T15 -h 127.0.0.1 -p "$port" -U postgres postgres \
		>"$T/pgbench.out" 2>&1 </dev/null
	i=$?
	stop_ct "$cid" INT
	VAL=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$T/pgbench.out")
	if [ "$i" -ne 0 ] || [ -z "$VAL" ]; then
		ERR="pgbench failed (status $i): $(tail -c 300 "$T/pgbench.out" | tr '\n' ' ')"
	elif ! grep -q '^number of failed transactions: 0 ' "$T/pgbench.out"; then
		ERR="pgbench had failed transactions: $(grep '^number of failed' "$T/pgbench.out")"
	elif [ "$status" -ne 0 ]; then
		ERR="postgres ended with status $status on SIGINT: $(tail -c 300 "$RUN_ERR" | tr '\n' ' ')"
	else
		ERR=
	fi
	tail -c +$((off + 1)) "$RUN_ERR" >"$T/pgbench-window.err"
	checked "$side" "$T/pgbench-window.err" || return 1
	say "pgbench $side: $VAL tps ($(sed -n 's/^number of transactions actually processed: //p' "$T/pgbench.out") transactions)"
}

initdb_one() {
	local side=$1 dir=$T/$1-postgres
	rm -rf "$dir/rootfs/tmp/pgdata-bench"
	set_args "$dir" "$side" "$(jq -cn --arg w "$(timed 'initdb -D /tmp/pgdata-bench --auth=trust --username=postgres')" \
		'["bash", "-c", $w]')"
	sync
	run_bundle "$dir"
	elapsed "$RUN_OUT"
	if [ "$status" -ne 0 ] || [ -z "$VAL" ]; then
		ERR="the container failed (status $status): $(tail -c 300 "$RUN_ERR" | tr '\n' ' ')"
	elif [ "$WSTATUS" != 0 ]; then
		ERR="initdb exited $WSTATUS: $(tail -c 300 "$RUN_ERR" | tr '\n' ' ')"
	elif ! grep -q '^Success\.' "$RUN_OUT" || [ ! -s "$dir/rootfs/tmp/pgdata-bench/PG_VERSION" ]; then
		ERR="initdb did not report success or wrote no PG_VERSION: $(tail -c 300 "$RUN_OUT" | tr '\n' ' ')"
	else
		ERR=
	fi
	checked "$side" || return 1
	say "initdb $side: $VAL s"
}

compileall_one() {
	local side=$1 dir=$T/$1-python npy npyc
	# The copy, outside the timed run and outside the sensor's view.
	rm -rf "$dir/rootfs/tmp/stdlib"
	cp -a "$dir/rootfs/usr/lib/python3.11" "$dir/rootfs/tmp/stdlib" &&
		find "$dir/rootfs/tmp/stdlib" -depth -type d -name __pycache__ -exec rm -rf {} + || {
		ERR="cannot copy the standard library"
		return 1
	}
	npy=$(find "$dir/rootfs/tmp/stdlib" -name '*.py' | wc -l)
	set_args "$dir" "$side" "$(jq -cn --arg w "$(timed 'python3 -m compileall -q -j 1 /tmp/stdlib')" '["bash", "-c", $w]')"
	sync
	run_bundle "$dir"
	elapsed "$RUN_OUT"
	npyc=$(find "$dir/rootfs/tmp/stdlib" -name '*.pyc' | wc -l)
	if [ "$status" -ne 0 ] || [ -z "$VAL" ]; then
		ERR="the container failed (status $status): $(tail -c 300 "$RUN_ERR" | tr '\n' ' ')"
	elif [ "$WSTATUS" != 0 ]; then
		ERR="compileall exited $WSTATUS: $(tail -c 300 "$RUN_OUT" | tr '\n' ' ')"
	elif [ "$npyc" -lt "$npy" ] || [ "$npyc" -le 500 ]; then
		ERR="compileall wrote $npyc .pyc files for $npy .py files"
	else
		ERR=
	fi
	checked "$side" || return 1
	PYC_COUNT=$npyc
	say "compileall $side: $VAL s ($npyc .pyc for $npy .py)"
}

# ---------------------------------------------------------------------------
# Statistics (awk: bash has no floating point)

# median X...: the median; the mean of the middle two for an even count.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m }'
}

# fmt FORMAT X: X printed with the printf FORMAT.
fmt() {
	awk -v f="$1" -v x="$2" 'BEGIN { printf f "\n", x }'
}

# summary FORMAT X...: "median (min-max)".
summary() {
	local f=$1
	shift
	printf '%s (%s-%s)' "$(fmt "$f" "$(median "$@")")" \
		"$(fmt "$f" "$(printf '%s\n' "$@" | sort -g | head -n 1)")" \
		"$(fmt "$f" "$(printf '%s\n' "$@" | sort -g | tail -n 1)")"
}

# ---------------------------------------------------------------------------
# Set-up

declare -A VALS=() FAILED=() EVS=()
PYC_COUNT=
fixtures_build apps >&2
need_apps=()
wanted nginx && need_apps+=(nginx)
{ wanted pgbench || wanted initdb; } && need_apps+=(postgres)
wanted compileall && need_apps+=(python)
for app in "${need_apps[@]}"; do
	"$INLAY" instrument --quiet "$(app_ref "$app")" "oci:$T/inst:$app" >"$T/inst.out" 2>&1 || {
		echo "bench: instrument $app failed: $(cat "$T/inst.out")" >&2
		exit 1
	}
	for side in plain inst; do
		say "unpacking the $side $app image"
		prepare "$side" "$app" || {
			echo "bench: cannot unpack the $side $app image" >&2
			exit 1
		}
	done
done
SENSOR_BIN=$T/inst-${need_apps[0]}/rootfs/.inlay/sensor
SENSOR_DESC="$(stat -c %s "$SENSOR_BIN") bytes, sha256 $(sha256sum "$SENSOR_BIN" | cut -c1-16)..., mode $(jq -r .mode "$T/inst-${need_apps[0]}/rootfs/.inlay/sensor.json")"
if wanted nginx; then
	cp "$T/plain-nginx/rootfs/etc/nginx/sites-available/default" "$T/nginx-site.orig"
	for side in plain inst; do
		yes 'inlay bench: a static file for nginx to serve, 4 KiB of text.' | head -c "$STATIC_BYTES" \
			>"$T/$side-nginx/rootfs/var/www/html/static.txt"
	done
	STATIC_SHA=$(sha256sum <"$T/plain-nginx/rootfs/var/www/html/static.txt" | cut -d' ' -f1)
fi
if wanted pgbench || wanted initdb; then
	PG_UID=$(awk -F: '$1 == "postgres" {print $3}' "$T/plain-postgres/rootfs/etc/passwd")
	PG_GID=$(awk -F: '$1 == "postgres" {print $4}' "$T/plain-postgres/rootfs/etc/passwd")
	[ -n "$PG_UID" ] && [ -n "$PG_GID" ] || {
		echo "bench: no user postgres in the postgres image" >&2
		exit 1
	}
fi
say "set up in $(secs_since "$T0") s"

# ---------------------------------------------------------------------------
# The runs: a warm-up pair where a run is cheap, then RUNS x (plain, inst).

for m in $ALL_MEASUREMENTS; do
	wanted "$m" || continue
	say "== $m (load $(cut -d' ' -f1-3 /proc/loadavg))"
	case $m in initdb | compileall)
		for side in plain inst; do
			"${m}_one" "$side" >/dev/null 2>&1 || {
				FAILED[$m]="warm-up, $side: $ERR"
				say "$m: FAILED: ${FAILED[$m]}"
				break
			}
		done
		;;
	esac
	[ -z "${FAILED[$m]:-}" ] || continue
	for ((i = 1; i <= RUNS; i++)); do
		for side in plain inst; do
			VAL='' ERR='' EVENTS=''
			if "${m}_one" "$side"; then
				VALS[$m:$side]="${VALS[$m:$side]:-} $VAL"
				[ "$side" = plain ] || EVS[$m]=$EVENTS
			else
				FAILED[$m]="run $i, $side: $ERR"
				say "$m: FAILED: ${FAILED[$m]}"
				break 2
			fi
		done
	done
done

# ---------------------------------------------------------------------------
# The report

declare -A LABEL=(
	[nginx]="nginx requests/s: \`wrk -t1 -c32 -d10s\`, 4 KiB static file (higher is better)"
	[pgbench]="pgbench TPS: \`pgbench -c4 -T15\`, scale 1, client untraced (higher is better)"
	[initdb]="initdb seconds: \`initdb -D /tmp/pgdata-bench\` (lower is better)"
	[compileall]="compileall seconds: \`python3 -m compileall -q -j 1\` of the stdlib (lower is better)"
)
declare -A FORMAT=([nginx]="%.0f" [pgbench]="%.1f" [initdb]="%.2f" [compileall]="%.2f")
declare -A GOAL_OP=([nginx]=ge [pgbench]=ge [initdb]=le [compileall]=le)
declare -A GOAL=([nginx]=0.97 [pgbench]=0.95 [initdb]=1.3 [compileall]=1.3)
declare -A GOAL_DESC=(
	[nginx]="nginx requests/s, instrumented / plain"
	[pgbench]="pgbench TPS, instrumented / plain"
	[initdb]="initdb time, instrumented / plain"
	[compileall]="compileall time, instrumented / plain"
)

echo "## Sensor overhead on real applications (monitor mode, runc)"
echo
echo "| | |"
echo "|---|---|"
echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
echo "| command | \`$COMMAND\` (runs per side: $RUNS, alternating plain, instrumented) |"
echo "| machine | $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), kernel $(uname -r) |"
echo "| inlay | $INLAY, sha256 $(sha256sum "$INLAY" | cut -c1-16)..., built $(date -u -r "$INLAY" '+%Y-%m-%d %H:%M UTC') |"
echo "| sensor | /.inlay/sensor of the instrumented images: $SENSOR_DESC |"
echo "| images | the \`apps\` fixture (Debian bookworm: nginx-light, postgresql 15, python3.11), plain and \`inlay instrument\`ed |"
echo "| load average at the end | $(cut -d' ' -f1-3 /proc/loadavg) |"
echo
echo "| measurement | plain: median (range) | instrumented: median (range) | instrumented / plain | samples plain; instrumented |"
echo "|---|---|---|---|---|"
declare -A RATIO=()
for m in $ALL_MEASUREMENTS; do
	wanted "$m" || continue
	f=${FORMAT[$m]}
	if [ -n "${FAILED[$m]:-}" ]; then
		echo "| ${LABEL[$m]} | **failed** | **failed** | - | ${FAILED[$m]//|/\\|} |"
		continue
	fi
	# shellcheck disable=SC2086 # word splitting wanted: lists of numbers
	{
		mp=$(median ${VALS[$m:plain]})
		mi=$(median ${VALS[$m:inst]})
		RATIO[$m]=$(awk -v a="$mi" -v b="$mp" 'BEGIN { printf "%.2f\n", a / b }')
		sp=$(for v in ${VALS[$m:plain]}; do fmt "$f" "$v"; done | tr '\n' ' ')
		si=$(for v in ${VALS[$m:inst]}; do fmt "$f" "$v"; done | tr '\n' ' ')
		echo "| ${LABEL[$m]} | $(summary "$f" ${VALS[$m:plain]}) | $(summary "$f" ${VALS[$m:inst]}) | **${RATIO[$m]}** | ${sp% }; ${si% } |"
	}
done
echo
echo "| goal | observed | result |"
echo "|---|---|---|"
for m in $ALL_MEASUREMENTS; do
	wanted "$m" || continue
	op='>='
	[ "${GOAL_OP[$m]}" = le ] && op='<='
	if [ -n "${FAILED[$m]:-}" ]; then
		echo "| ${GOAL_DESC[$m]} $op ${GOAL[$m]} | - | **failed** |"
		continue
	fi
	verdict=$(awk -v o="${RATIO[$m]}" -v op="${GOAL_OP[$m]}" -v l="${GOAL[$m]}" 'BEGIN {
		ok = (op == "le") ? (o + 0 <= l + 0) : (o + 0 >= l + 0); print ok ? "met" : "**not met**" }')
	echo "| ${GOAL_DESC[$m]} $op ${GOAL[$m]} | ${RATIO[$m]} | $verdict |"
done
echo
echo "The sensor's events in the last instrumented run of each measurement (by rule; the rate limit writes at most 1,000 at once and 100/s of a class and counts the rest):"
echo
for m in $ALL_MEASUREMENTS; do
	wanted "$m" || continue
	echo "- $m: ${EVS[$m]:-none recorded}"
done
echo
echo "Notes:"
echo
wanted pgbench && echo "- pgbench runs inside the container with \`runc exec --user $PG_UID:$PG_GID\` (user postgres): a runc exec'd process is no child of the sensor, so only the server (postmaster, backends) is traced. Each run is a fresh container: the entrypoint's initdb, \`pgbench -i\`, then the measured \`pgbench -c4 -T15\` over TCP on 127.0.0.1; the events above are those from the start of the measured run to the container's end."
wanted nginx && echo "- nginx runs its image's command (\`nginx -g 'daemon off;'\`, worker_processes auto, access log on); wrk runs on the host, over loopback, a 2 s warm-up before each measured 10 s."
[ -n "$PYC_COUNT" ] && echo "- compileall: $PYC_COUNT .pyc files written per run (one per .py of this minbase stdlib), with -j 1: one process, so the figure is tracing's cost and not the sharing of $(nproc) CPUs between a worker pool and the sensor."
{ wanted initdb || wanted compileall; } && echo "- initdb and compileall are timed inside the container (bash's \$EPOCHREALTIME around the command), after one warm-up run per side; container creation is not counted."
echo
echo "Whole run: $(secs_since "$T0") s."
[ ${#FAILED[@]} -eq 0 ] || exit 1
exit 0
