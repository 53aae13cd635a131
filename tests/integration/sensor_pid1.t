#!/bin/bash
# sensor_pid1.t - black-box tests of the in-container sensor's PID-1 duties
# (DESIGN.md section 5): exit statuses, 126/127, signal forwarding, zombie
# reaping (as a subreaper and as PID 1 of a pid namespace), PATH lookup, and
# that stdio, environment, cwd, user, signal state and descriptors reach the
# application untouched; plus the config file and the event stream.
#
# Runs the built binary directly, outside containers:
#   SENSOR        amd64 sensor (default build/sensor/sensor-amd64)
#   SENSOR_ARM64  arm64 sensor, run under qemu-aarch64-static with the arm64
#                 busybox from build/debs (default: next to SENSOR)
# PID-1 tests need root and unshare(1); arm64 tests need qemu-aarch64-static
# and the busybox-static arm64 .deb. What is missing is skipped, not failed.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
SENSOR=${SENSOR:-$root/build/sensor/sensor-amd64}
SENSOR_ARM64=${SENSOR_ARM64:-$(dirname "$SENSOR")/sensor-arm64}
case $SENSOR in /*) ;; *) SENSOR=$(pwd)/$SENSOR ;; esac
case $SENSOR_ARM64 in /*) ;; *) SENSOR_ARM64=$(pwd)/$SENSOR_ARM64 ;; esac

if [ ! -x "$SENSOR" ]; then
	echo "Bail out! no sensor at $SENSOR (make build/sensor/sensor-amd64)"
	exit 1
fi
command -v jq >/dev/null || { echo "Bail out! jq is needed"; exit 1; }

# the pids of $1's children, space-separated, no trailing blank
children() { local c; c=$(cat "/proc/$1/task/$1/children" 2>/dev/null); echo $c; }
# kill_tree PID EXCEPT: SIGKILL every descendant of PID but the subtree EXCEPT
kill_tree() {
	local c
	for c in $(children "$1"); do
		[ "$c" = "$2" ] && continue
		kill_tree "$c" "$2"
		kill -KILL "$c" 2>/dev/null
	done
}
# A broken sensor must fail tests, not hang the suite (a child left with its
# signals blocked waits forever): past the deadline, everything this script
# started is killed, again every second, so each remaining test fails fast.
watchdog() {
	sleep "$1"
	echo "# watchdog: still running after $1 s, killing what this script started"
	while kill -0 $$ 2>/dev/null; do
		kill_tree $$ "$BASHPID"
		sleep 1
	done
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sensor_pid1.XXXXXX")
bgpids=()
watchdog "${SENSOR_TEST_DEADLINE:-240}" &
wdog=$!
disown "$wdog"
cleanup() {
	local p
	kill_tree "$wdog" none
	kill -KILL "$wdog" 2>/dev/null
	for p in "${bgpids[@]}"; do kill_tree "$p" none; kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

plan=88
echo "1..$plan"
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); echo "not ok $n - $1"; shift; local l; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# is GOT WANT DESC
is() {
	if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "got:  '$1'" "want: '$2'"; fi
}
# ok_if DESC CMD... : passes when CMD succeeds
ok_if() {
	local d=$1
	shift
	if "$@"; then pass "$d"; else fail "$d" "failed: $*"; fi
}
# jq_ok FILTER FILE: FILE parses and FILTER is true for every value
jq_ok() { jq -e "$1" "$2" >/dev/null 2>&1; }
# wait_for CMD... : poll up to 10 s
wait_for() {
	local i
	for i in $(seq 1 200); do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
has_children() { [ -n "$(children "$1")" ]; }
# state of a pid: R, S, Z, ...; empty when gone
pstate() { sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null; }

# A config that sends events to a file, so stderr carries only the app's text
# and a /.inlay/sensor.json on the test machine cannot change the results.
ev=$tmp/events.log
printf '{"version":1,"output":"file:%s"}\n' "$ev" >"$tmp/sensor.json"
SN=("$SENSOR" --config "$tmp/sensor.json")

# --- basics -----------------------------------------------------------------
is "$("$SENSOR" --version)" "inlay-sensor 0.1.0" "--version prints the version"

for code in 0 1 3; do
	"${SN[@]}" -- sh -c "exit $code" >/dev/null 2>&1
	is "$?" "$code" "exit status $code is passed through"
done

"${SN[@]}" -- /bin/true
is "$?" 0 "an absolute path runs"

printf '#!/bin/sh\nexit 0\n' >"$tmp/noexec"
chmod 0644 "$tmp/noexec"
"${SN[@]}" -- "$tmp/noexec" 2>"$tmp/err"
is "$?" 126 "a non-executable file gives 126"
ok_if "126 says 'inlay-sensor: cannot execute ...'" \
	grep -q "^inlay-sensor: cannot execute '$tmp/noexec': Permission denied" "$tmp/err"

"${SN[@]}" -- "$tmp" 2>/dev/null
is "$?" 126 "a directory gives 126"

printf 'not a program\n' >"$tmp/garbage"
chmod 0755 "$tmp/garbage"
"${SN[@]}" -- "$tmp/garbage" 2>/dev/null
is "$?" 126 "ENOEXEC gives 126 (no /bin/sh fallback)"

"${SN[@]}" -- inlay-no-such-command-xyz 2>"$tmp/err"
is "$?" 127 "a command not in PATH gives 127"
ok_if "127 says 'inlay-sensor: cannot execute ...'" \
	grep -q "^inlay-sensor: cannot execute 'inlay-no-such-command-xyz': " "$tmp/err"

"${SN[@]}" -- "$tmp/missing/file" 2>/dev/null
is "$?" 127 "a missing path gives 127"

printf '#!/nonexistent/interpreter\n' >"$tmp/badinterp"
chmod 0755 "$tmp/badinterp"
"${SN[@]}" -- "$tmp/badinterp" 2>"$tmp/err"
is "$?" 127 "a missing #! interpreter gives 127"
ok_if "... and the message says the interpreter is missing" grep -q "interpreter" "$tmp/err"

"$SENSOR" --config "$tmp/sensor.json" 2>/dev/null
is "$?" 125 "no command is a usage error (125)"

# --- PATH lookup ------------------------------------------------------------
mkdir -p "$tmp/bin1" "$tmp/bin2" "$tmp/bin3"
printf '#!/bin/sh\necho bin2 "$@"\n' >"$tmp/bin2/inlaytool"
chmod 0755 "$tmp/bin2/inlaytool"
printf '#!/bin/sh\necho bin1\n' >"$tmp/bin1/inlaytool"
chmod 0644 "$tmp/bin1/inlaytool" # EACCES here: the search must go on
is "$(PATH=$tmp/bin3:$tmp/bin1:$tmp/bin2 "${SN[@]}" -- inlaytool a b)" "bin2 a b" \
	"PATH lookup skips missing and non-executable entries"
PATH=$tmp/bin1 "${SN[@]}" -- inlaytool 2>/dev/null
is "$?" 126 "only a non-executable match in PATH gives 126"
is "$(cd "$tmp/bin2" && PATH=:/usr/bin:/bin "${SN[@]}" -- inlaytool)" "bin2" \
	"an empty PATH entry is the current directory"
is "$(env -u PATH "${SN[@]}" -- sh -c 'echo ok')" "ok" "unset PATH uses the default search path"

# --- stdio, env, cwd, user, signal state, descriptors -------------------------
out=$("${SN[@]}" -- sh -c 'echo to-stdout; echo to-stderr >&2' 2>"$tmp/err")
is "$out" "to-stdout" "stdout passes through"
is "$(cat "$tmp/err")" "to-stderr" "stderr passes through (events go elsewhere)"
is "$(echo from-stdin | "${SN[@]}" -- cat)" "from-stdin" "stdin passes through"

want=$(env -i A=1 'B=x y' C= /usr/bin/env)
got=$(env -i A=1 'B=x y' C= "${SN[@]}" -- /usr/bin/env)
is "$got" "$want" "the environment is exactly the sensor's"

is "$(cd "$tmp/bin3" && "${SN[@]}" -- /bin/pwd -P)" "$(cd "$tmp/bin3" && /bin/pwd -P)" \
	"the working directory is unchanged"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 0755 "$tmp"
	chmod 0644 "$tmp/sensor.json"
	is "$(setpriv --reuid 65534 --regid 65534 --clear-groups "$SENSOR" -- sh -c 'id -u; id -g' 2>/dev/null | tr '\n' ' ')" \
		"65534 65534 " "the user and group are unchanged"
else
	is "$("${SN[@]}" -- id -u)" "$(id -u)" "the user is unchanged"
fi

# Started from a non-interactive shell's background job, the sensor inherits
# SIGINT/SIGQUIT ignored; the application must still start with a clean state.
"${SN[@]}" -- grep -E '^Sig(Blk|Ign):' /proc/self/status >"$tmp/sig" &
wait $!
is "$(tr -s '\t' ' ' <"$tmp/sig" | tr '\n' ' ')" "SigBlk: 0000000000000000 SigIgn: 0000000000000000 " \
	"the application starts with no blocked and no ignored signals"

want=$(ls /proc/self/fd | sort | tr '\n' ' ')
got=$("${SN[@]}" -- ls /proc/self/fd | sort | tr '\n' ' ')
is "$got" "$want" "no descriptor of the sensor (config, event file, signalfd) leaks"

# --- signals (sensor not PID 1: subreaper) ------------------------------------
"${SN[@]}" -- sleep 60 &
p=$!
bgpids+=("$p")
wait_for has_children "$p"
kill -TERM "$p"
wait "$p"
is "$?" 143 "SIGTERM to the sensor kills a plain child: 143"

"${SN[@]}" -- sleep 60 &
p=$!
bgpids+=("$p")
wait_for has_children "$p"
kill -KILL "$(children "$p")"
wait "$p"
is "$?" 137 "a child killed by SIGKILL gives 137"

rm -f "$tmp/ready"
"${SN[@]}" -- sh -c "trap 'kill \$! 2>/dev/null; exit 42' TERM; touch $tmp/ready; sleep 60 & wait" &
p=$!
bgpids+=("$p")
wait_for test -e "$tmp/ready"
kill -TERM "$p"
wait "$p"
is "$?" 42 "a forwarded SIGTERM the child traps gives the child's status (42)"

# Every catchable signal but SIGCHLD is forwarded, job-control ones included.
sigs="HUP INT QUIT USR1 USR2 PIPE ALRM CONT URG WINCH TSTP TTIN TTOU 40"
rm -f "$tmp/ready" "$tmp/siglog"
script="for s in $sigs; do trap \"echo \$s >>$tmp/siglog\" \$s; done
trap 'kill \$! 2>/dev/null; exit 42' TERM
touch $tmp/ready
while :; do sleep 1 & wait \$!; done"
"${SN[@]}" -- sh -c "$script" &
p=$!
bgpids+=("$p")
wait_for test -e "$tmp/ready"
for s in $sigs; do
	kill -s "$s" "$p" 2>/dev/null || kill "-$s" "$p"
	if wait_for grep -qx "$s" "$tmp/siglog"; then pass "SIG$s is forwarded"; else fail "SIG$s is forwarded"; fi
done
kill -TERM "$p"
wait "$p"
is "$?" 42 "the child still exits with its own status after all that"

# Orphans re-parent to the sensor (subreaper) and are reaped when they exit.
rm -f "$tmp/ready"
"${SN[@]}" -- sh -c "for i in 1 2 3; do (sleep 1 &); done; touch $tmp/ready; sleep 3" &
p=$!
bgpids+=("$p")
wait_for test -e "$tmp/ready"
orphans=0
for c in $(children "$p"); do
	[ "$(cat "/proc/$c/comm" 2>/dev/null)" = sleep ] && orphans=$((orphans + 1))
done
is "$orphans" 3 "orphaned grandchildren are re-parented to the sensor"
sleep 1.6
zombies=0
for c in $(children "$p"); do [ "$(pstate "$c")" = Z ] && zombies=$((zombies + 1)); done
is "$zombies:$(children "$p" | wc -w)" "0:1" "exited orphans are reaped while the app still runs"
wait "$p"
is "$?" 0 "... and the app's status is still returned"

start=$(date +%s)
"${SN[@]}" -- sh -c 'sleep 30 >/dev/null 2>&1 & exit 5' >/dev/null 2>&1
is "$?:$(($(date +%s) - start < 10))" "5:1" "the sensor exits with the app, not with its orphans"

# The sensor's own SIGPIPE (writing an event into a pipe nobody reads) is its
# business: it must not be forwarded to the application.
rm -f "$tmp/siglog"
exec {dead}> >(:)
sleep 0.3
INLAY_OUTPUT=fd:3 "${SN[@]}" -- sh -c "trap 'echo PIPE >>$tmp/siglog' PIPE; sleep 0.5" 3>&$dead 2>/dev/null
st=$?
exec {dead}>&-
is "$st:$(cat "$tmp/siglog" 2>/dev/null)" "0:" "SIGPIPE from the sensor's own event write is not forwarded"

# --- under a terminal (script(1) gives one) -------------------------------------
if command -v script >/dev/null; then
	# The app gets its own process group and the terminal's foreground, so a
	# Ctrl-C reaches it once (not once from the tty and once forwarded), and
	# the terminal is handed back to the caller's group when it ends.
	rm -f "$tmp/ready" "$tmp/intlog"
	cat >"$tmp/tty.sh" <<-EOF
		"$SENSOR" --config "$tmp/sensor.json" -- sh -c 'trap "echo INT >>$tmp/intlog" INT; touch $tmp/ready
			echo app \$(ps -o pgid=,tpgid= -p \$\$)
			i=0; while [ \$i -lt 20 ]; do sleep 0.1; i=\$((i + 1)); done'
		echo shell \$(ps -o pgid=,tpgid= -p \$\$)
	EOF
	out=$( (wait_for test -e "$tmp/ready"; sleep 0.2; printf '\003'; sleep 3) |
		timeout 30 script -qec "sh $tmp/tty.sh" /dev/null | tr -d '\r')
	app=$(sed -n 's/.*app \([0-9]*\) \([0-9]*\).*/\1 \2/p' <<<"$out")
	shell=$(sed -n 's/.*shell \([0-9]*\) \([0-9]*\)$/\1 \2/p' <<<"$out")
	set -- $app $shell
	is "$#:${1:-}:$((${1:-0} == ${2:-1})):$((${3:-0} == ${4:-1})):$((${1:-0} != ${3:-0}))" \
		"4:${1:-}:1:1:1" "under a terminal the app runs in the foreground and the terminal comes back"
	is "$(cat "$tmp/intlog" 2>/dev/null | tr '\n' ' ')" "INT " "Ctrl-C on the terminal reaches the app, once"
else
	skip "terminal foreground" "needs script(1)"
	skip "Ctrl-C once" "needs script(1)"
fi

# --- events -------------------------------------------------------------------
rm -f "$ev"
"${SN[@]}" -- sh -c 'exit 3'
ok_if "events are one valid JSON object per line" jq_ok . "$ev"
# Between the two, capture reports what the app did (sensor_capture.t).
is "$(jq -r .rule "$ev" | sed -n '1p;$p' | tr '\n' ,)" "sensor started,application exited," \
	"the first event is 'sensor started', the last 'application exited'"
started=$(sed -n 1p "$ev")
is "$(jq -r '[.rule, .priority, .source, (.tags|join(",")), .output_fields."evt.type",
	(.output_fields."sensor.mechanism" | test("^(ptrace\\+seccomp|ptrace|seccomp-notify|none)$")),
	.output_fields."sensor.mode", (.output_fields."proc.pid"|type)] | join("|")' <<<"$started")" \
	"sensor started|Informational|inlay|inlay,sensor|sensor|true|monitor|number" \
	"'sensor started' has Falco's shape and the sensor's fields"
ok_if "time is RFC 3339 UTC with nanoseconds" jq_ok \
	'.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$")' \
	<(echo "$started")
is "$(jq -r 'select(.rule == "application exited") | [.rule, .output_fields."proc.cmdline", .output_fields."evt.arg.status"] | join("|")' "$ev")" \
	"application exited|sh -c exit 3|3" "'application exited' carries cmdline and status"

rm -f "$ev"
"${SN[@]}" -- sh -c "$(printf 'echo "quote\\" tab\t nl\n \001 \377"')" >/dev/null
ok_if "awkward bytes in the command line still give valid JSON" jq_ok . "$ev"

INLAY_OUTPUT=fd:3 "${SN[@]}" -- true 3>"$tmp/fd3.log"
is "$(jq -r .rule "$tmp/fd3.log" | sed -n '1p;$p' | tr '\n' ,)" "sensor started,application exited," \
	"INLAY_OUTPUT=fd:3 sends events to the application's fd 3"

# --- config ---------------------------------------------------------------------
cfg() { printf '%s\n' "$2" >"$tmp/$1.json"; }
run_cfg() { # name, command... ; events into $tmp/name.log, stderr into $tmp/err
	local name=$1
	shift
	rm -f "$tmp/$name.log" "$tmp/ran"
	INLAY_OUTPUT=file:$tmp/$name.log "$SENSOR" --config "$tmp/$name.json" -- "$@" 2>"$tmp/err"
}
mode_of() { jq -r 'select(.rule=="sensor started") | .output_fields."sensor.mode"' "$tmp/$1.log"; }

cfg learn '{"version":1,"mode":"learn","fail":"open","future_key":{"x":[1,2,null]},
 "policy":{"exec":{"allow":["/bin/sh","/bin/busybox[cat]"],"drift":"block"}}}'
run_cfg learn true
is "$?:$(mode_of learn):$(jq -r 'select(.rule=="sensor started") | .output_fields."sensor.policy"' "$tmp/learn.log")" \
	"0:learn:present" "the config's mode and policy are read, unknown keys ignored"
is "$(cat "$tmp/err")" "" "a valid config prints nothing"
rm -f "$tmp/learn.log"
# (the policy does not allow `true`: enforce denies it, which is beside the point here)
INLAY_MODE=enforce INLAY_OUTPUT=file:$tmp/learn.log "$SENSOR" --config "$tmp/learn.json" -- true 2>/dev/null
is "$(mode_of learn)" "enforce" "INLAY_MODE overrides the config"

cfg broken '{"mode": "monitor",'
run_cfg broken sh -c "touch $tmp/ran"
is "$?:$(test -e "$tmp/ran" && echo ran)" "0:ran" "a malformed config with fail open: the app runs"
ok_if "... with a warning naming the file" grep -q "warning: config $tmp/broken.json" "$tmp/err"

cfg closed '{"fail":"closed", "mode": "monitor",'
run_cfg closed sh -c "touch $tmp/ran"
is "$?:$(test -e "$tmp/ran" && echo ran)" "125:" "a malformed config with fail closed: refused (125)"
ok_if "... saying so" grep -q "refusing to start" "$tmp/err"

cfg closed2 '{"fail":"closed","mode":"watch"}'
run_cfg closed2 sh -c "touch $tmp/ran"
is "$?:$(test -e "$tmp/ran" && echo ran)" "125:" "an invalid value with fail closed: refused"

cfg dup '{"mode":"learn","mode":"enforce"}'
run_cfg dup true
is "$?:$(mode_of dup)" "0:monitor" "duplicate keys are refused (fail open: defaults)"

cfg v2 '{"version":2}'
run_cfg v2 true
ok_if "an unknown config version is refused" grep -q "version 2 is not supported" "$tmp/err"

head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$tmp/big.json"
run_cfg big true
ok_if "a config over 1 MiB is refused" grep -q "more than" "$tmp/err"

INLAY_MODE=bogus "${SN[@]}" -- true 2>"$tmp/err"
is "$?" 0 "a bad INLAY_MODE with fail open: the app still runs"
ok_if "... with a warning naming the variable" grep -q "INLAY_MODE" "$tmp/err"

# --- as PID 1 of a pid namespace ------------------------------------------------
if [ "$(id -u)" = 0 ] && unshare --pid --fork --mount-proc true 2>/dev/null; then
	U=(unshare --pid --fork --mount-proc)
	for code in 0 3; do
		"${U[@]}" "${SN[@]}" -- sh -c "exit $code"
		is "$?" "$code" "PID 1: exit status $code"
	done
	"${U[@]}" "${SN[@]}" -- inlay-no-such-command-xyz 2>/dev/null
	is "$?" 127 "PID 1: missing command gives 127"

	rm -f "$ev"
	"${U[@]}" "${SN[@]}" -- true
	is "$(jq -r 'select(.rule=="sensor started") | "\(.output_fields."proc.pid") \(.output_fields."sensor.reaper")"' "$ev")" \
		"1 pid1" "PID 1: the sensor is pid 1 and says so"

	"${U[@]}" "${SN[@]}" -- sleep 60 &
	u=$!
	bgpids+=("$u")
	wait_for has_children "$u"
	p=$(children "$u")
	wait_for has_children "$p"
	kill -TERM "$p"
	wait "$u"
	is "$?" 143 "PID 1: SIGTERM from outside reaches the child (143)"

	rm -f "$tmp/ready"
	"${U[@]}" "${SN[@]}" -- sh -c "trap 'exit 42' TERM; touch $tmp/ready; sleep 60 & wait" &
	u=$!
	bgpids+=("$u")
	wait_for test -e "$tmp/ready"
	kill -TERM "$(children "$u")"
	wait "$u"
	is "$?" 42 "PID 1: a forwarded signal the child traps gives 42"

	"${U[@]}" "${SN[@]}" -- sh -c "trap 'exit 42' USR1; kill -USR1 1; sleep 10 & wait"
	is "$?" 42 "PID 1: a signal sent to pid 1 from inside is forwarded"

	"${U[@]}" "${SN[@]}" -- sleep 60 &
	u=$!
	bgpids+=("$u")
	wait_for has_children "$u"
	p=$(children "$u")
	wait_for has_children "$p"
	kill -KILL "$(children "$p")"
	wait "$u"
	is "$?" 137 "PID 1: a child killed by SIGKILL gives 137"

	out=$("${U[@]}" "${SN[@]}" -- sh -c '
		for i in 1 2 3; do (sleep 0.3 &); done
		sleep 0.1
		echo "orphans=$(awk "{sub(/.*\\) /, \"\"); if (\$2 == 1) n++} END {print n+0}" /proc/[0-9]*/stat 2>/dev/null)"
		sleep 1
		echo "zombies=$(awk "{sub(/.*\\) /, \"\"); if (\$1 == \"Z\") n++} END {print n+0}" /proc/[0-9]*/stat 2>/dev/null)"')
	# orphans counts pid 1's children: the app itself plus the three sleeps
	is "$(echo $out)" "orphans=4 zombies=0" "PID 1: orphans are adopted and reaped"

	start=$(date +%s)
	"${U[@]}" "${SN[@]}" -- sh -c 'sleep 30 & exit 7'
	is "$?:$(($(date +%s) - start < 10))" "7:1" "PID 1: exits with the app while orphans still run"

	# What is left of the app dies with the sensor, and never sees its
	# watched calls fail on the way (the listener closes before ptrace's
	# EXITKILL acts: the sensor kills first). A race: 15 tries.
	errs=
	for i in $(seq 15); do
		errs=$errs$("${U[@]}" "${SN[@]}" -- sh -c "(while :; do : >'$tmp/loop'; done) & sleep 0.1; exit 7" 2>&1 >/dev/null | grep -v '^{')
	done
	is "$errs" "" "PID 1: processes left behind die without a failed call (15 runs)"
else
	for d in "exit status 0" "exit status 3" "missing command 127" "pid 1 event" "SIGTERM 143" \
		"trap 42" "signal from inside" "SIGKILL 137" "zombies" "exits with the app"; do
		skip "PID 1: $d" "needs root and unshare --pid"
	done
fi

# --- arm64 under qemu -------------------------------------------------------------
deb=$(ls "$root"/build/debs/busybox-static_*_arm64.deb 2>/dev/null | head -n 1)
if [ -x "$SENSOR_ARM64" ] && command -v qemu-aarch64-static >/dev/null && [ -n "$deb" ] &&
	dpkg-deb -x "$deb" "$tmp/arm64" 2>/dev/null && [ -x "$tmp/arm64/bin/busybox" ]; then
	Q=(qemu-aarch64-static "$SENSOR_ARM64" --config "$tmp/sensor.json")
	# The emulated sensor's execve is the host kernel's: without a binfmt_misc
	# entry for aarch64 the arm64 busybox must be started through qemu too.
	BB=("$tmp/arm64/bin/busybox")
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || BB=(qemu-aarch64-static "${BB[@]}")
	is "$(qemu-aarch64-static "$SENSOR_ARM64" --version)" "inlay-sensor 0.1.0" "arm64: --version"
	# stderr: qemu-user refuses PR_SET_CHILD_SUBREAPER, the sensor warns
	"${Q[@]}" -- "${BB[@]}" true 2>/dev/null
	is "$?" 0 "arm64: exit 0"
	"${Q[@]}" -- "${BB[@]}" sh -c 'exit 3' 2>/dev/null
	is "$?" 3 "arm64: exit 3"
	"${Q[@]}" -- /nonexistent/prog 2>/dev/null
	is "$?" 127 "arm64: missing command gives 127"
else
	for d in "--version" "exit 0" "exit 3" "127"; do
		skip "arm64: $d" "needs $SENSOR_ARM64, qemu-aarch64-static and build/debs/busybox-static_*_arm64.deb"
	done
fi

# --- size -----------------------------------------------------------------------
size=$(stat -c %s "$SENSOR")
echo "# sensor-amd64: $size bytes"
[ -f "$SENSOR_ARM64" ] && echo "# sensor-arm64: $(stat -c %s "$SENSOR_ARM64") bytes"
ok_if "the amd64 sensor is under 300 KB ($size bytes)" test "$size" -lt 300000

[ "$n" -eq "$plan" ] || echo "# planned $plan tests, ran $n"
