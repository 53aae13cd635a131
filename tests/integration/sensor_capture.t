#!/bin/bash
# sensor_capture.t - the sensor's capture engine, run for real: an image
# instrumented by inlay, unpacked by umoci, run by runc (DESIGN.md section 5).
#
#   - a workload that executes programs, writes a file, listens and connects
#     produces the matching events (command lines, paths, addresses), and
#     read-only opens produce none;
#   - drift: a binary dropped at runtime runs and is reported in monitor mode,
#     is denied (exit 126) and reported in enforce mode;
#   - enforce: exec (multi-call applets), file-write, listen and connect rules;
#   - learn: "sensor profile" events, at exit and every learn_interval;
#   - traced processes keep their signals, stops and exit statuses;
#   - fallbacks: a container seccomp profile denying ptrace leaves seccomp user
#     notification; denying seccomp too leaves nothing: fail open runs the app
#     unwatched, fail closed refuses it;
#   - the rate limit and its count of dropped events;
#   - arm64: the sensor under qemu-user (no ptrace there) falls back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runc.sh"
require_inlay
require_tools skopeo umoci runc jq
[ "$(id -u)" -eq 0 ] || bail_out "runs as root (umoci unpack, runc)"

start_registry open
fixtures_build single
push_fixture single "$REG/app:1" || bail_out "cannot push the fixture"
run "$INLAY" instrument --quiet "$REG/app:1"
[ "$status" -eq 0 ] || bail_out "inlay instrument: $stderr"
B=$T/bundle
unpack_image "docker://$REG/app:1-inlay" "$B" || bail_out "cannot unpack the instrumented image"
cp "$B/config.json" "$T/config.orig.json"

# --- helpers -------------------------------------------------------------------

# reset_bundle: the unpacked config, no sensor.json override.
reset_bundle() {
	cp "$T/config.orig.json" "$B/config.json"
	sensor_config '{"version":1}'
}
# sensor_config JSON: /.inlay/sensor.json inside the bundle (as instrument
# writes it: a read-only file).
sensor_config() {
	chmod 0644 "$B/rootfs/.inlay/sensor.json" 2>/dev/null
	printf '%s\n' "$1" >"$B/rootfs/.inlay/sensor.json"
	chmod 0444 "$B/rootfs/.inlay/sensor.json"
}
mode() { bundle_config "$B" ".process.env += [\"INLAY_MODE=$1\"]"; }
# app SCRIPT: run /bin/sh -c SCRIPT under the sensor; events in $EV.
app() {
	bundle_args "$B" /.inlay/sensor -- /bin/sh -c "$1"
	run_bundle "$B"
	EV=$T/events.$RANDOM
	sensor_events "$RUN_ERR" >"$EV"
}
# count JQ-FILTER: how many events match
count() { jq -c "select($1)" "$EV" | wc -l | tr -d ' '; }
# field JQ-FILTER FIELD: FIELD of the first event matching
field() { jq -r "select($1) | .output_fields[\"$2\"]" "$EV" | head -n 1; }
rule() { printf '.rule == "%s"' "$1"; }
show_events() { diag "$(jq -c '[.rule, .output_fields."fd.name" // .output_fields."sensor.program" // .output_fields."proc.cmdline"]' "$EV" 2>&1 | head -n 40)"; }
# seccomp JSON-ARRAY-OF-NAMES: a container profile failing those syscalls with EPERM
seccomp_deny() {
	bundle_config "$B" ".linux.seccomp = {\"defaultAction\":\"SCMP_ACT_ALLOW\",
		\"architectures\":[\"SCMP_ARCH_X86_64\"],
		\"syscalls\":[{\"names\":$1,\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}"
}

# --- a workload, monitor mode ----------------------------------------------------

reset_bundle
app 'cat /etc/fixture >/dev/null
head -c 4 /etc/passwd >/dev/null
echo data >/tmp/out.txt
cd /tmp && echo rel >rel.txt && echo self >/proc/self/cwd/self.txt
busybox nc -l -p 8080 >/dev/null &
sleep 0.3
echo hello | busybox nc 127.0.0.1 8080
wait
exit 7'
is "$status" 7 "monitor: the workload's exit status is unchanged under capture"
# (jq -s: jq 1.6's -e looks at the last input only)
ok "every event line is JSON with source inlay and Falco's fields" \
	jq -s -e 'map(select(.rule != "sensor started" and .rule != "application exited")) |
		length > 5 and all(.source == "inlay" and
		(.output_fields | has("evt.type") and has("proc.pid") and has("proc.ppid") and
		has("proc.exe") and has("proc.cmdline") and has("proc.cwd") and has("user.uid")))' "$EV"
is "$(field "$(rule "sensor started")" sensor.mechanism)|$(field "$(rule "sensor started")" sensor.listener)" \
	"ptrace+seccomp|opens,execs" "'sensor started' names the mechanism (ptrace+seccomp, opens and execs on the listener)"
like "$(field "$(rule "sensor started")" sensor.kernel)|$(field "$(rule "sensor started")" sensor.capabilities)" \
	'^[0-9]+\.[0-9]+.*\|0x[0-9a-f]{16}$' "... the kernel and the effective capabilities"
is "$(count "$(rule "sensor degraded")")" 0 "no 'sensor degraded' with ptrace+seccomp"

F='.rule == "process executed" and .output_fields."proc.cmdline" == "cat /etc/fixture"'
is "$(count "$F")" 1 "'process executed' for cat, with its command line"
is "$(field "$F" sensor.program)|$(field "$F" proc.exepath)|$(field "$F" evt.type)" \
	"/bin/busybox[cat]|/bin/busybox|execve" \
	"... the program as invoked: busybox's /proc/self/exe plus argv[0]'s applet"
is "$(field "$F" proc.ppid)" "$(field '.rule == "process executed" and (.output_fields."proc.cmdline" | startswith("sh -c"))' proc.pid)" \
	"... its parent is the shell"
is "$(count '.rule == "process executed" and .output_fields."proc.cmdline" == "busybox nc 127.0.0.1 8080"')" 1 \
	"'process executed' for the nc client"

F='.rule == "file opened for writing" and .output_fields."fd.name" == "/tmp/out.txt"'
is "$(count "$F")" 1 "'file opened for writing' for /tmp/out.txt"
like "$(field "$F" evt.arg.flags)" "O_WRONLY.*O_CREAT" "... with its flags"
is "$(count '.rule == "file opened for writing" and .output_fields."fd.name" == "/tmp/rel.txt"')" 1 \
	"a relative path is resolved against the process's cwd"
is "$(count '.rule == "file opened for writing" and .output_fields."fd.name" == "/tmp/self.txt"')" 1 \
	"/proc/self/cwd/... is resolved in the process's own context"
is "$(count '.rule == "file opened for writing" and (.output_fields."fd.name" | test("passwd|fixture|/dev/null"))')" 0 \
	"read-only opens (and /dev/null) produce no file event"
is "$(count "$(rule "file opened for writing")")" 3 "exactly three file events" || show_events

F='.rule == "listening socket"'
is "$(field "$F" fd.sport)|$(field "$F" fd.l4proto)|$(field "$F" proc.cmdline)" \
	"8080|tcp|busybox nc -l -p 8080" "'listening socket' for nc -l, with its port"
F='.rule == "outbound connection" and .output_fields."evt.type" == "connect"'
like "$(field "$F" fd.name)" '^127\.0\.0\.1:[0-9]+->127\.0\.0\.1:8080$' \
	"'outbound connection' names local->peer"
is "$(field "$F" evt.res)" 0 "... and the result of the connect"

# --- drift ---------------------------------------------------------------------

DROP='cp /bin/busybox /tmp/echo && /tmp/echo dropped-binary-ran; echo "status=$?"'
reset_bundle
app "$DROP"
like "$stdout" "dropped-binary-ran" "monitor: a binary dropped at runtime runs"
F='.rule == "drift detected"'
is "$(field "$F" sensor.program)|$(field "$F" sensor.action)|$(jq -r "select($F) | .priority" "$EV" | head -n 1)|$(field "$F" sensor.drift)" \
	"/tmp/echo|allowed|Critical|changed" "... and is reported as drift (Critical, allowed, changed)"
is "$(count '.rule == "drift detected" and .output_fields."sensor.program" != "/tmp/echo"')" 0 \
	"programs of the image are no drift"

reset_bundle
mode enforce
app "$DROP"
like "$stdout" "status=126" "enforce: the dropped binary is denied, the shell reports 126"
unlike "$stdout" "dropped-binary-ran" "... it did not run"
like "$stderr" "/tmp/echo: Permission denied" "... the shell says Permission denied"
is "$(field '.rule == "drift detected"' sensor.action)" "denied" "... and the drift is reported as denied"

# exec.drift "alert" keeps enforce from blocking drift.
reset_bundle
mode enforce
sensor_config '{"version":1,"policy":{"exec":{"drift":"alert"}}}'
app "$DROP"
like "$stdout" "dropped-binary-ran" "enforce with exec.drift alert: the dropped binary runs"
is "$(field '.rule == "drift detected"' sensor.action)" "allowed" "... reported, allowed"

# --- drift by inventory ------------------------------------------------------------
# A program mounted into the container (a volume) is older than the sensor's
# start, so file times cannot tell it from the image's own; the inventory
# instrument --inventory writes (here made by hand the same way: the image's
# executable regular files, sorted bytewise) can.
mkdir -p "$T/vol"
cp "$B/rootfs/bin/busybox" "$T/vol/echo"
inventory() {
	{
		echo "inlay-inventory 1"
		(cd "$B/rootfs" && find . -path ./.inlay -prune -o -type f -perm /111 -print) |
			sed 's|^\.||' | LC_ALL=C sort
	} >"$B/rootfs/.inlay/inventory"
	chmod 0444 "$B/rootfs/.inlay/inventory"
}
with_volume() {
	bundle_config "$B" ".mounts += [{\"destination\":\"/opt/vol\",\"type\":\"bind\",
		\"source\":\"$T/vol\",\"options\":[\"rbind\",\"ro\"]}]"
}
VOL='/opt/vol/echo volume-tool-ran; echo "status=$?"; cat /etc/fixture >/dev/null'
inventory
reset_bundle
with_volume
app "$VOL"
like "$stdout" "volume-tool-ran" "no inventory: a program on a volume runs ..."
is "$(count "$(rule "drift detected")")" 0 "... and its file times alone show no drift"
is "$(field "$(rule "sensor started")" sensor.inventory)" "none" "... 'sensor started' says: no inventory"

reset_bundle
with_volume
sensor_config '{"version":1,"inventory":"/.inlay/inventory"}'
app "$VOL"
like "$stdout" "volume-tool-ran" "inventory, monitor: the program on the volume runs ..."
F='.rule == "drift detected"'
is "$(field "$F" sensor.program)|$(field "$F" sensor.action)|$(field "$F" sensor.drift)" \
	"/opt/vol/echo|allowed|not in inventory" "... and is drift: it is not in the image's inventory"
like "$(jq -r "select($F) | .output" "$EV")" "/opt/vol/echo is not in the image's inventory" \
	"... which its message says"
is "$(count '.rule == "drift detected" and .output_fields."sensor.program" != "/opt/vol/echo"')" 0 \
	"... the image's own programs (sh, cat) are not" || show_events
is "$(field "$(rule "sensor started")" sensor.inventory)" \
	"$(($(wc -l <"$B/rootfs/.inlay/inventory") - 1)) programs" "'sensor started' counts the inventory"

reset_bundle
with_volume
mode enforce
sensor_config '{"version":1,"inventory":"/.inlay/inventory"}'
app "$VOL"
like "$stdout" "status=126" "inventory, enforce: the program on the volume is denied (126)"
unlike "$stdout" "volume-tool-ran" "... it did not run"
is "$(field '.rule == "drift detected"' sensor.action)" "denied" "... the drift is reported as denied"

# A damaged inventory: fail open warns and drifts by file times; fail closed refuses.
chmod 0644 "$B/rootfs/.inlay/inventory"
printf 'inlay-inventory 1\n/bin/sh\n/bin/busybox\n' >"$B/rootfs/.inlay/inventory"
reset_bundle
sensor_config '{"version":1,"inventory":"/.inlay/inventory"}'
app 'echo ran-anyway'
like "$stdout" "ran-anyway" "a damaged inventory, fail open: the app runs ..."
like "$stderr" "warning: inventory /.inlay/inventory: line 3 is out of order.*drift by file times only" \
	"... with a warning naming the file, the line and the fallback"
reset_bundle
sensor_config '{"version":1,"fail":"closed","inventory":"/.inlay/inventory"}'
app 'echo ran-anyway'
is "$status" 125 "... fail closed: the sensor refuses (125)"
unlike "$stdout" "ran-anyway" "... and the app did not start"
rm -f "$B/rootfs/.inlay/inventory"

# End to end: the inventory instrument --inventory writes, as the sensor reads it.
run "$INLAY" instrument --quiet --inventory --tag-suffix -inv "$REG/app:1"
[ "$status" -eq 0 ] || bail_out "inlay instrument --inventory: $stderr"
BI=$T/bundle-inv
unpack_image "docker://$REG/app:1-inv" "$BI" || bail_out "cannot unpack the --inventory image"
bundle_config "$BI" ".mounts += [{\"destination\":\"/opt/vol\",\"type\":\"bind\",
	\"source\":\"$T/vol\",\"options\":[\"rbind\",\"ro\"]}]"
bundle_args "$BI" /.inlay/sensor -- /bin/sh -c "$VOL"
run_bundle "$BI"
EV=$T/events.inv
sensor_events "$RUN_ERR" >"$EV"
like "$stdout" "volume-tool-ran" "instrument --inventory, monitor: the program on the volume runs ..."
is "$(field '.rule == "drift detected"' sensor.program)" "/opt/vol/echo" \
	"... and is drift by the inventory inlay wrote"
is "$(count '.rule == "drift detected"')" 1 "... the image's own programs are not"
like "$(field "$(rule "sensor started")" sensor.inventory)" '^[1-9][0-9]* programs$' \
	"... 'sensor started' counts the inventory"

# --- enforce: exec policy --------------------------------------------------------

reset_bundle
mode enforce
sensor_config '{"version":1,"policy":{"exec":{"allow":["/bin/busybox[sh]","/bin/busybox[cat]"]}}}'
app 'cat /etc/fixture; wc -l /etc/fixture; echo "wc=$?"'
like "$stdout" "inlay test fixture" "enforce: an allowed applet (cat) runs"
like "$stdout" "wc=126" "... another applet of the same binary (wc) is denied: 126"
F='.rule == "policy violation"'
is "$(field "$F" sensor.program)|$(field "$F" sensor.rule)|$(field "$F" sensor.action)" \
	"/bin/busybox[wc]|exec|denied" "... reported as a policy violation, denied"
is "$(count '.rule == "process executed" and .output_fields."sensor.program" == "/bin/busybox[wc]"')" 0 \
	"... and never reported as executed"

reset_bundle
sensor_config '{"version":1,"policy":{"exec":{"allow":["/bin/busybox[sh]","/bin/busybox[cat]"]}}}'
app 'wc -l /etc/fixture; echo "wc=$?"'
like "$stdout" "wc=0" "monitor: a program outside the policy still runs"
is "$(field '.rule == "policy violation"' sensor.program)|$(field '.rule == "policy violation"' sensor.action)" \
	"/bin/busybox[wc]|allowed" "... reported as a violation, allowed"

# A script is judged by its own name, though its interpreter is what runs;
# also when a thread other than the main one execs it (the exec then happens
# under the main thread's pid, and what was judged must follow it there).
mkdir -p "$B/rootfs/usr/local"
musl-gcc -static -O2 -pthread -o "$B/rootfs/usr/local/thread_exec" \
	"$ROOT/tests/integration/helpers/thread_exec.c" ||
	bail_out "cannot build the thread_exec workload (musl-gcc)"
printf '#!/bin/busybox sh\necho "script ran: $0"\n' >"$B/rootfs/usr/local/script.sh"
chmod 0755 "$B/rootfs/usr/local/script.sh"
reset_bundle
mode enforce
sensor_config '{"version":1,"policy":{"exec":{"allow":["/bin/busybox[sh]","/usr/local/thread_exec","/usr/local/script.sh"]}}}'
app '/usr/local/script.sh; /usr/local/thread_exec /usr/local/script.sh; echo "status=$?"'
like "$stdout" "^script ran: /usr/local/script.sh" "enforce: an allowed script runs, its interpreter not allowed by itself"
is "$stdout" "$(printf 'script ran: /usr/local/script.sh\nscript ran: /usr/local/script.sh\nstatus=0')" \
	"... and when a thread other than the main one execs it"
is "$(count '.rule == "policy violation"')" 0 "... with no violation"
is "$(count '.rule == "process executed" and .output_fields."sensor.program" == "/usr/local/script.sh"')" 2 \
	"... both reported as the script executed"
reset_bundle
mode enforce
sensor_config '{"version":1,"policy":{"exec":{"allow":["/bin/busybox[sh]","/usr/local/thread_exec"]}}}'
app '/usr/local/thread_exec /usr/local/script.sh; echo "status=$?"'
is "$stdout" "$(printf 'thread_exec=-1 errno=13 (Permission denied)\nstatus=126')" \
	"... a script outside the policy is denied to the thread (EACCES)"

# --- enforce: file writes ---------------------------------------------------------

reset_bundle
mode enforce
sensor_config '{"version":1,"policy":{"files":{"write":["/tmp/"]}}}'
app 'echo a >/tmp/ok.txt; echo "tmp=$?"
echo b >/etc/evil.txt; echo "etc=$?"
ln -s /etc/escape.txt /tmp/link && echo c >/tmp/link; echo "link=$?"
ls /etc/evil.txt /etc/escape.txt 2>&1 | grep -c "No such file"'
like "$stdout" "tmp=0" "enforce: a write the policy allows works"
like "$stdout" "etc=1" "... a write outside it fails"
like "$stdout" "link=1" "... so does one through a symlink leading outside"
like "$stdout" "2$" "... and neither file was created"
is "$(count '.rule == "policy violation" and .output_fields."sensor.rule" == "files.write" and .output_fields."sensor.action" == "denied"')" 2 \
	"... both reported as denied violations"
is "$(field '.rule == "policy violation" and (.output_fields."fd.name" | test("escape"))' fd.name)" "/etc/escape.txt" \
	"... naming the file really reached"

# --- enforce: network --------------------------------------------------------------

reset_bundle
mode enforce
sensor_config '{"version":1,"policy":{"net":{"listen":["tcp:8080"],"connect":["127.0.0.1:8080"]}}}'
app 'busybox nc -l -p 9090 </dev/null; echo "listen9090=$?"
busybox nc -l -p 8080 >/dev/null & sleep 0.3
echo x | busybox nc 127.0.0.1 8081; echo "connect8081=$?"
echo x | busybox nc 127.0.0.1 8080; echo "connect8080=$?"
wait'
like "$stdout" "listen9090=1" "enforce: listening on a port outside net.listen fails"
like "$stdout" "connect8081=1" "... connecting outside net.connect fails"
like "$stdout" "connect8080=0" "... the allowed port listens and is reached"
is "$(count '.rule == "policy violation" and .output_fields."sensor.rule" == "net.listen" and .output_fields."sensor.action" == "denied"')" 1 \
	"... the listen is a denied violation"
is "$(field '.rule == "policy violation" and .output_fields."sensor.rule" == "net.connect"' fd.name)" "127.0.0.1:8081" \
	"... the connect is one too, naming the destination"

# sendmmsg: each message's destination is judged; one denied fails the call.
mkdir -p "$B/rootfs/usr/local"
musl-gcc -static -O2 -o "$B/rootfs/usr/local/sendmmsg" "$ROOT/tests/integration/helpers/sendmmsg.c" ||
	bail_out "cannot build the sendmmsg workload (musl-gcc)"
reset_bundle
app '/usr/local/sendmmsg 127.0.0.1:5353 127.0.0.2:5354'
like "$stdout" "sendmmsg=4" "monitor: sendmmsg to two destinations sends its four datagrams ..."
F='.rule == "outbound connection" and .output_fields."evt.type" == "sendmmsg"'
is "$(jq -r "select($F) | .output_fields.\"fd.rip\"" "$EV" | sort | tr '\n' ' ')" \
	"127.0.0.1:5353 127.0.0.2:5354 " "... and each destination is reported once"
reset_bundle
mode enforce
sensor_config '{"version":1,"policy":{"net":{"connect":["127.0.0.1:5353"]}}}'
app '/usr/local/sendmmsg 127.0.0.1:5353; /usr/local/sendmmsg 127.0.0.1:5353 127.0.0.2:5354'
like "$stdout" "^sendmmsg=2" "enforce: sendmmsg to an allowed destination runs ..."
like "$stdout" "sendmmsg=-1 errno=13 " "... with one destination outside net.connect it fails (EACCES)"
is "$(field '.rule == "policy violation" and .output_fields."evt.type" == "sendmmsg"' fd.name)" \
	"127.0.0.2:5354" "... reported as a violation naming the destination"

# io_uring: its operations bypass seccomp; reported in monitor mode, refused
# under enforcement.
musl-gcc -static -O2 -o "$B/rootfs/usr/local/io_uring" "$ROOT/tests/integration/helpers/io_uring.c" ||
	bail_out "cannot build the io_uring workload (musl-gcc)"
reset_bundle
app '/usr/local/io_uring'
like "$stdout" "io_uring=ok" "monitor: io_uring_setup runs ..."
is "$(count '.rule == "io_uring set up"')" 1 "... and is reported"
reset_bundle
mode enforce
app '/usr/local/io_uring'
like "$stdout" "io_uring=-1 errno=13 " "enforce: io_uring_setup fails with EACCES ..."
is "$(field '.rule == "policy violation" and .output_fields."evt.type" == "io_uring_setup"' sensor.action)" \
	"denied" "... reported as a denied violation"

# --- learn ------------------------------------------------------------------------

reset_bundle
mode learn
app 'cat /etc/fixture >/dev/null; echo x >/tmp/learned.txt'
F='.rule == "sensor profile"'
is "$(count "$F")" 1 "learn: one 'sensor profile' event at exit"
ok "... holding what ran and what was written" jq -s -e "map(select($F) | .output_fields.profile) |
	any(((.exec.allow // []) | index(\"/bin/busybox[cat]\")) != null and
	((.files.write // []) | length) > 0)" "$EV"
reset_bundle
mode learn
sensor_config '{"version":1,"learn_interval":1}'
app 'cat /etc/fixture >/dev/null; sleep 2.6'
ok "learn_interval 1: profiles every second and at exit (at least 3)" test "$(count "$F")" -ge 3

# --- signals, stops and exits of traced processes -----------------------------------

reset_bundle
app 'sleep 5 & p=$!; sleep 0.2
kill -STOP $p; sleep 0.2; s1=$(sed -n "s/^State:\t\(.\).*/\1/p" /proc/$p/status)
kill -CONT $p; sleep 0.2; s2=$(sed -n "s/^State:\t\(.\).*/\1/p" /proc/$p/status)
kill -TERM $p; wait $p; echo "$s1 $s2 $?"
trap "echo got-usr1" USR1; kill -USR1 $$; sh -c "kill -KILL \$\$"; echo "killed=$?"'
like "$stdout" "^[tT] S 143" "a traced process stops on SIGSTOP, resumes on SIGCONT, dies of SIGTERM (143)"
like "$stdout" "got-usr1" "a signal the app sends itself reaches its handler"
like "$stdout" "killed=137" "SIGKILL still gives 137"

# --- fallbacks ---------------------------------------------------------------------

# Without pidfd_getfd the listener cannot be taken from the child: no hybrid
# filter, every watched call stops for the tracer; capture and enforcement
# are the same.
reset_bundle
seccomp_deny '["pidfd_getfd"]'
mode enforce
sensor_config '{"version":1,"policy":{"exec":{"allow":["/bin/busybox[sh]","/bin/busybox[cat]"]},"files":{"write":["/tmp/"]}}}'
app 'echo data >/tmp/out.txt; cat /etc/fixture; wc -l /etc/fixture; echo "wc=$?"; echo x >/etc/nope; echo "nope=$?"'
is "$(field "$(rule "sensor started")" sensor.mechanism)|$(field "$(rule "sensor started")" sensor.listener)|$(count "$(rule "sensor degraded")")" \
	"ptrace+seccomp|none|0" "pidfd_getfd denied: ptrace+seccomp without the listener, nothing degraded"
like "$stdout" "inlay test fixture" "... an allowed program runs"
like "$stdout" "wc=126" "... another is denied (126)"
like "$stdout" "nope=1" "... a write outside files.write fails"
is "$(count '.rule == "file opened for writing" and .output_fields."fd.name" == "/tmp/out.txt"')" 1 \
	"... an allowed write is reported"

reset_bundle
seccomp_deny '["ptrace"]'
app 'echo data >/tmp/out.txt; cat /etc/fixture'
is "$status:$stdout" "0:inlay test fixture single linux/amd64" \
	"ptrace denied by the container's seccomp profile: the app still runs"
is "$(field "$(rule "sensor started")" sensor.mechanism)|$(field "$(rule "sensor started")" sensor.listener)" \
	"seccomp-notify|all" "... the sensor falls back to seccomp user notification"
like "$(field "$(rule "sensor degraded")" sensor.reason)" "ptrace: Operation not permitted" \
	"... and says why in 'sensor degraded'"
is "$(count '.rule == "file opened for writing" and .output_fields."fd.name" == "/tmp/out.txt"')" 1 \
	"... writes are still reported"
is "$(field '.rule == "process executed"' sensor.program)" "/bin/busybox[sh]" "... and executions"

reset_bundle
seccomp_deny '["ptrace"]'
mode enforce
app "$DROP"
like "$stdout" "status=126" "notification fallback, enforce: a dropped binary is still denied"

reset_bundle
seccomp_deny '["ptrace"]'
sensor_config '{"version":1,"fail":"closed"}'
app 'echo ran'
is "$status:$stdout" "0:ran" "fail closed with only ptrace denied: notification is a mechanism, the app runs"

reset_bundle
seccomp_deny '["ptrace","seccomp"]'
app 'echo ran'
is "$status:$stdout" "0:ran" "ptrace and seccomp denied, fail open: the app runs unmonitored"
is "$(field "$(rule "sensor degraded")" sensor.mechanism)|$(field "$(rule "sensor degraded")" sensor.action)" \
	"none|running the application unmonitored" "... 'sensor degraded' says so"

reset_bundle
seccomp_deny '["ptrace","seccomp"]'
sensor_config '{"version":1,"fail":"closed"}'
app 'echo ran'
is "$status" 125 "ptrace and seccomp denied, fail closed: the sensor refuses (125)"
unlike "$stdout" "ran" "... the app did not run"
like "$stderr" "inlay-sensor: no capture mechanism works \(ptrace: Operation not permitted; seccomp user notification: Operation not permitted\); refusing to start the application \(fail is closed\)" \
	"... and the message says why"
is "$(field "$(rule "sensor degraded")" sensor.action)" "refused to start the application" \
	"... in a 'sensor degraded' event too"

# --- rate limit -------------------------------------------------------------------

reset_bundle
app 'i=0; while [ $i -lt 1300 ]; do : >/tmp/f$i; i=$((i+1)); done; echo done'
like "$stdout" "done" "1300 file creations run"
n=$(count "$(rule "file opened for writing")")
d=$(jq -s '[.[] | select(.rule == "events dropped") | .output_fields."sensor.dropped"] | add // 0' "$EV")
ok "the rate limit caps the events ($n written) and counts the rest ($d dropped)" \
	test "$n" -lt 1300 -a "$((n + d))" -ge 1300

# An exec while the rate limit drops its event leaves the new program's name
# and command line to be read when an event first needs them: the next event
# of that process must name the new program, not the one before the exec.
reset_bundle
app 'i=0; while [ $i -lt 1300 ]; do : >/tmp/f$i; i=$((i+1)); done
exec /bin/busybox sh -c "sleep 0.3; : >/tmp/after-storm"'
F='.rule == "file opened for writing" and .output_fields."fd.name" == "/tmp/after-storm"'
# (A token that comes back in the instant before the exec makes it an
# ordinary one: about one run in a hundred; the checks hold either way.)
ok "an exec right after a storm of events that emptied the rate limit" \
	test "$(count "$(rule "events dropped")")" -ge 1
is "$(field "$F" proc.cmdline)" 'busybox sh -c sleep 0.3; : >/tmp/after-storm' \
	"... and the program's next event carries its own command line"
like "$(field "$F" proc.exepath)" '/busybox$' "... and its executable"

# --- arm64 under qemu-user: no ptrace, the fallback path --------------------------

SENSOR_ARM64=$ROOT/build/sensor/sensor-arm64
deb=$(ls "$DEBS_DIR"/busybox-static_*_arm64.deb 2>/dev/null | head -n 1)
if [ -x "$SENSOR_ARM64" ] && command -v qemu-aarch64-static >/dev/null && [ -n "$deb" ] &&
	dpkg-deb -x "$deb" "$T/arm64" 2>/dev/null; then
	BB=("$T/arm64/bin/busybox")
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || BB=(qemu-aarch64-static "${BB[@]}")
	printf '{"version":1,"output":"file:%s"}\n' "$T/arm.log" >"$T/arm.json"
	run qemu-aarch64-static "$SENSOR_ARM64" --config "$T/arm.json" -- "${BB[@]}" sh -c 'echo arm-ok; exit 4'
	is "$status:$stdout" "4:arm-ok" "arm64 (qemu-user): the app runs, its status comes back"
	EV=$T/arm.log
	is "$(field "$(rule "sensor started")" sensor.mechanism)|$(field "$(rule "sensor started")" sensor.arch)" \
		"none|aarch64" "arm64: without ptrace or seccomp the mechanism is none"
	like "$(field "$(rule "sensor degraded")" sensor.reason)" "no capture mechanism works" \
		"arm64: ... reported as 'sensor degraded'"
	printf '{"version":1,"fail":"closed","output":"file:%s"}\n' "$T/arm2.log" >"$T/arm.json"
	run qemu-aarch64-static "$SENSOR_ARM64" --config "$T/arm.json" -- "${BB[@]}" sh -c 'echo arm-ran'
	is "$status:$stdout" "125:" "arm64: fail closed refuses to start the app"
else
	for d in "app runs" "mechanism none" "degraded" "fail closed"; do
		skip "arm64: $d" "needs $SENSOR_ARM64, qemu-aarch64-static and the arm64 busybox .deb"
	done
fi

done_testing
