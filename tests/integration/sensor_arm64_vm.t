#!/bin/bash
# sensor_arm64_vm.t - the arm64 sensor's real capture path (ptrace+seccomp:
# sensor-blob/arch.c's NT_PRSTATUS registers and its NT_ARM_SYSTEM_CALL
# syscall skip) on a real aarch64 kernel. qemu-user has no ptrace, so this
# boots Debian 12's arm64 kernel under qemu-system-aarch64 (TCG, no KVM, no
# network device) with an initramfs holding the arm64 busybox-static and the
# arm64 sensor, runs every scenario in that one boot and checks the events on
# the host:
#
#   - "sensor started" says ptrace+seccomp on aarch64, nothing is degraded;
#   - monitor: execs (busybox applets through /bin/sh), writes, a listening
#     socket and a loopback connection give their events (command lines,
#     paths, local->peer), read-only opens give none;
#   - drift: a busybox copied to /tmp runs and is reported in monitor mode,
#     is denied (126) in enforce mode;
#   - enforce: an exec policy (allowed applets run, another is denied: 126),
#     files.write and net rules (the call fails with EACCES: the syscall skip);
#   - learn: the profile; signals, stops and exit statuses of traced processes.
#
# Where the sensor runs: the scenarios start it as a child of the VM's init
# shell (a subreaper, as when an outer init such as tini starts it); one as
# PID 1 of a pid namespace (unshare); the last stage execs it as the VM's own
# PID 1, whose exit status the kernel's "Attempted to kill init" panic shows.
#
# Results: each scenario leaves its events, stdout, stderr and status in /out
# inside the VM; init prints /out as a base64 tar.gz between markers on the
# serial console, and the host unpacks it (gzip's CRC guards the transfer).
# The PID-1 stage writes its events to the console itself.
#
# Inputs (make deps installs the tools and downloads the .debs; a missing one
# is a failure, not a skip):
#   SENSOR_ARM64  the arm64 sensor (default build/sensor/sensor-arm64)
#   build/debs/linux-image-*-cloud-arm64_*_arm64.deb, busybox-static_*_arm64.deb
#   qemu-system-aarch64 (qemu-system-arm), cpio
# Cached in build/vm: the kernel Image, and the initramfs (rebuilt when the
# sensor, busybox or the init script below change).
. "$(dirname "$0")/lib.sh"

SENSOR_ARM64=${SENSOR_ARM64:-build/sensor/sensor-arm64}
case $SENSOR_ARM64 in /*) ;; *) SENSOR_ARM64=$(pwd)/$SENSOR_ARM64 ;; esac
VM_DIR=$ROOT/build/vm
VM_TIMEOUT=${VM_TIMEOUT:-240}

require_tools qemu-system-aarch64 cpio gzip base64 jq timeout dpkg-deb sha256sum
[ -x "$SENSOR_ARM64" ] || bail_out "no arm64 sensor at $SENSOR_ARM64 (make build/sensor/sensor-arm64)"
kdeb=$(ls "$DEBS_DIR"/linux-image-*-cloud-arm64_*_arm64.deb 2>/dev/null | sort -V | tail -n 1)
[ -n "$kdeb" ] || bail_out "no arm64 kernel .deb in $DEBS_DIR (run 'make deps')"
bbdeb=$(ls "$DEBS_DIR"/busybox-static_*_arm64.deb 2>/dev/null | head -n 1)
[ -n "$bbdeb" ] || bail_out "no busybox-static arm64 .deb in $DEBS_DIR (run 'make deps')"

plan 73

# --- the kernel: /boot/vmlinuz-* of the .deb, as an uncompressed Image --------

mkdir -p "$VM_DIR" || bail_out "cannot create $VM_DIR"
kname=$(basename "$kdeb" .deb)
kimage=$VM_DIR/Image-$kname
if [ ! -s "$kimage" ]; then
	rm -rf "$T/kernel" && mkdir -p "$T/kernel"
	dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$T/kernel" --wildcards './boot/vmlinuz-*' ||
		bail_out "cannot extract the kernel from $kdeb"
	vmlinuz=$(ls "$T"/kernel/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$vmlinuz" ] || bail_out "no /boot/vmlinuz-* in $kdeb"
	# Debian ships a plain Image today; older packages had it gzip'd, which
	# qemu's -kernel does not unpack for arm64.
	if gzip -t "$vmlinuz" 2>/dev/null; then
		gzip -dc "$vmlinuz" >"$kimage.tmp.$$"
	else
		cp "$vmlinuz" "$kimage.tmp.$$"
	fi || bail_out "cannot write $kimage"
	echo "${vmlinuz##*/vmlinuz-}" >"$kimage.release"
	mv "$kimage.tmp.$$" "$kimage"
	for f in "$VM_DIR"/Image-*; do # an older kernel's
		[ "$f" = "$kimage" ] || [ "$f" = "$kimage.release" ] || rm -f "$f"
	done
fi
krelease=$(cat "$kimage.release" 2>/dev/null)
[ -n "$krelease" ] || bail_out "$kimage.release is missing: remove $kimage to extract it again"

# --- the initramfs --------------------------------------------------------------

# /init, run by the kernel as PID 1 (busybox sh). Everything that happens in
# the VM is here; the checks below read what it leaves in /out.
cat >"$T/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /out
/bin/busybox mount -t devtmpfs dev /dev
# The initramfs has no /dev/console node: stdio is opened here.
exec </dev/console >/dev/console 2>&1
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t tmpfs tmp /tmp
/bin/busybox --install -s /bin
export PATH=/bin HOME=/
hostname arm64-vm
ip link set lo up
echo "@@BOOTED $(cut -d' ' -f1 /proc/uptime)"

mkdir -p /etc/inlay
cfg() { printf '%s\n' "$2" >"/etc/inlay/$1.json"; }
cfg monitor '{"version":1}'
cfg enforce '{"version":1,"mode":"enforce"}'
cfg learn '{"version":1,"mode":"learn"}'
cfg exec '{"version":1,"mode":"enforce","policy":{"exec":{"allow":["/bin/busybox[sh]","/bin/busybox[cat]"]}}}'
cfg files '{"version":1,"mode":"enforce","policy":{"files":{"write":["/tmp/"]}}}'
cfg net '{"version":1,"mode":"enforce","policy":{"net":{"listen":["tcp:8080"],"connect":["127.0.0.1:8080"]}}}'
echo 'inlay arm64 vm fixture' >/etc/motd

# sc NAME CONFIG SCRIPT: /bin/sh -c SCRIPT under the sensor (a child of this
# shell); events, stdout, stderr and the status in /out/NAME.{ev,out,err,rc}.
# A sensor that hangs is killed after 20 s (status 137; EXITKILL takes its
# tracees along), so one broken scenario does not cost the others.
sc() {
	INLAY_OUTPUT=file:/out/$1.ev timeout -s KILL 20 \
		/.inlay/sensor --config "/etc/inlay/$2.json" -- /bin/sh -c "$3" \
		>"/out/$1.out" 2>"/out/$1.err" </dev/null
	echo $? >"/out/$1.rc"
}
# Used inside scenarios: wait (at most 10 s) until something listens on port $1.
WAITPORT='waitport() { i=0; until netstat -ltn | grep -q ":$1 "; do [ $i -lt 100 ] || return 1; i=$((i + 1)); sleep 0.1; done; }'

t0=$(cut -d' ' -f1 /proc/uptime)
/.inlay/sensor --version >/out/version.out 2>&1
uname -m >/out/uname.out

sc monitor monitor "$WAITPORT"'
cat /etc/passwd >/dev/null
wc -l /etc/motd >/dev/null
read -r line </etc/motd
echo data >/tmp/out.txt
cd /tmp && echo rel >rel.txt
nc -l -p 8080 >/tmp/nc.got &
waitport 8080
echo hello-over-loopback | nc 127.0.0.1 8080
wait
cat /tmp/nc.got
nc 127.0.0.1 8082 </dev/null; echo "refused=$?"
exit 7'

DROP='cp /bin/busybox /tmp/echo && /tmp/echo dropped-binary-ran; echo "status=$?"'
sc drift monitor "$DROP"
sc drift_enforce enforce "$DROP"

sc exec exec 'cat /etc/motd; wc -l /etc/motd; echo "wc=$?"'

sc files files 'echo a >/tmp/ok.txt; echo "tmp=$?"
echo b >/etc/evil.txt; echo "etc=$?"
touch /etc/evil2.txt; echo "touch=$?"
ls /etc/evil.txt /etc/evil2.txt 2>&1 | grep -c "No such file"'

sc net net "$WAITPORT"'
nc -l -p 9090 </dev/null; echo "listen9090=$?"
nc -l -p 8080 >/dev/null &
waitport 8080
echo x | nc 127.0.0.1 8081; echo "connect8081=$?"
echo x | nc 127.0.0.1 8080; echo "connect8080=$?"
wait'

sc learn learn 'cat /etc/motd >/dev/null; echo x >/tmp/learned.txt'

sc signals monitor 'st() { sed -n "s/^State:\t\(.\).*/\1/p" /proc/$1/status; }
waitst() { i=0; while [ $i -lt 100 ]; do case $(st $1) in $2) return 0 ;; esac; i=$((i + 1)); sleep 0.1; done; }
sleep 20 & p=$!
kill -STOP $p; waitst $p "[tT]"; s1=$(st $p)
kill -CONT $p; waitst $p "[SR]"; s2=$(st $p)
kill -TERM $p; wait $p; echo "stop=$s1 cont=$s2 term=$?"
trap "echo got-usr1" USR1; kill -USR1 $$
sh -c "kill -KILL \$\$"; echo "killed=$?"'

sc kill9 monitor 'kill -KILL $$'
sc term monitor 'kill -TERM $$'

# PID 1 of a pid namespace (its own /proc, so the sensor's /proc/PID reads match).
INLAY_OUTPUT=file:/out/pidns.ev timeout -s KILL 20 unshare -p -f -m --mount-proc \
	/.inlay/sensor --config /etc/inlay/monitor.json -- /bin/sh -c 'echo "pid=$$"; kill -KILL $$' \
	>/out/pidns.out 2>/out/pidns.err </dev/null
echo $? >/out/pidns.rc

echo "$t0 $(cut -d' ' -f1 /proc/uptime)" >/out/uptime.out
echo "@@OUT-BEGIN"
tar -C /out -cf - . | gzip -c | base64
echo "@@OUT-END"

# Last: the sensor as the VM's PID 1, its default config, events on the
# console. Its exit ends init: the kernel panics with the status, the VM ends.
printf '%s\n' '{"version":1,"output":"stderr"}' >/.inlay/sensor.json
echo "@@PID1"
exec /.inlay/sensor -- /bin/sh -c 'cat /etc/motd; exit 7'
INIT

stage=$T/stage
mkdir -p "$stage/bin" "$stage/etc" "$stage/.inlay" || bail_out "cannot create $stage"
dpkg-deb --fsys-tarfile "$bbdeb" | tar -x -C "$T" ./bin/busybox ||
	bail_out "cannot extract busybox from $bbdeb"
cp "$T/bin/busybox" "$stage/bin/busybox" && cp "$SENSOR_ARM64" "$stage/.inlay/sensor" &&
	cp "$T/init" "$stage/init" && chmod 0755 "$stage/init" "$stage/bin/busybox" "$stage/.inlay/sensor" ||
	bail_out "cannot fill $stage"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"

# Named by the hash of its contents: a changed sensor, busybox or init is a
# new initramfs. Other runs' ones are removed once unused for 10 minutes
# (a run may still be about to boot one: its mtime is refreshed on use).
key=$(cd "$stage" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
initrd=$VM_DIR/initrd-$key.cpio.gz
if [ -s "$initrd" ]; then
	touch "$initrd"
else
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) \
		>"$initrd.tmp.$$" || bail_out "cannot build the initramfs"
	mv "$initrd.tmp.$$" "$initrd"
fi
find "$VM_DIR" -maxdepth 1 -name 'initrd-*' ! -name "${initrd##*/}" -mmin +10 -delete 2>/dev/null

# --- boot --------------------------------------------------------------------------

console=$T/console.log
start=$(now_ms)
timeout -k 5 "$VM_TIMEOUT" qemu-system-aarch64 -M virt -cpu cortex-a57 -smp 2 -m 512 \
	-nographic -monitor none -serial "file:$console" -nic none -no-reboot \
	-kernel "$kimage" -initrd "$initrd" \
	-append "console=ttyAMA0 panic=-1 loglevel=1" </dev/null >"$T/qemu.out" 2>&1
qstatus=$?
vm_secs=$(secs_since "$start")
diag "VM ($krelease, sensor $(stat -c %s "$SENSOR_ARM64") bytes) ran $vm_secs s, qemu status $qstatus"
tr -d '\r' <"$console" >"$T/console.txt" 2>/dev/null

show_console() {
	diag "qemu: $(head -c 1000 "$T/qemu.out")"
	diag "console (last 60 lines):"
	diag "$(tail -n 60 "$T/console.txt" 2>/dev/null | cut -c1-300)"
}
# A VM that timed out may still have printed the scenarios' results (only
# the PID-1 stage hung): those are checked, the PID-1 checks fail.
timed_out=0
if [ "$qstatus" -eq 124 ] || [ "$qstatus" -eq 137 ]; then
	timed_out=1
	diag "the VM did not finish within $VM_TIMEOUT s"
	show_console
fi
O=$T/out
mkdir -p "$O"
sed -n '/^@@OUT-BEGIN$/,/^@@OUT-END$/p' "$T/console.txt" | grep -E '^[A-Za-z0-9+/=]+$' |
	base64 -d 2>/dev/null | tar -xzm -C "$O" 2>"$T/untar.err"
if [ ! -f "$O/uptime.out" ]; then
	[ "$timed_out" -eq 1 ] || show_console
	bail_out "no results from the VM (untar: $(head -c 300 "$T/untar.err"))"
fi
is "$(cat "$T/untar.err")|$timed_out" "|0" "the VM finished and its results crossed the console intact"
read -r t0 t1 <"$O/uptime.out"
diag "in the VM: booted in $t0 s, scenarios took $(awk "BEGIN {print $t1 - $t0}") s"

# --- helpers ---------------------------------------------------------------------------

# use NAME: the scenario whose results the helpers below read
use() {
	EV=$O/$1.ev
	status=$(cat "$O/$1.rc" 2>/dev/null)
	stdout=$(cat "$O/$1.out" 2>/dev/null)
	stderr=$(cat "$O/$1.err" 2>/dev/null)
	# for lib.sh's diagnostics of a failed check
	# shellcheck disable=SC2034
	RUN_CMD="scenario $1 in the VM" RUN_OUT=$O/$1.out RUN_ERR=$O/$1.err
	[ -f "$EV" ] || : >"$EV"
}
count() { jq -c "select($1)" "$EV" 2>/dev/null | wc -l | tr -d ' '; }
field() { jq -r "select($1) | .output_fields[\"$2\"]" "$EV" 2>/dev/null | head -n 1; }
rule() { printf '.rule == "%s"' "$1"; }
show_events() { diag "$(jq -c '[.rule, .output_fields."fd.name" // .output_fields."sensor.program" // .output_fields."proc.cmdline"]' "$EV" 2>&1 | head -n 40)"; }

# --- basics -----------------------------------------------------------------------------

is "$(cat "$O/uname.out")" "aarch64" "the VM is aarch64"
is "$(cat "$O/version.out")" "inlay-sensor 0.1.0" "arm64: --version"

# --- monitor: a workload ------------------------------------------------------------------

use monitor
is "$status" 7 "monitor: the workload's exit status (7) is unchanged under capture"
like "$stdout" "^hello-over-loopback$" "... and the data crossed the loopback connection"
like "$stdout" "^refused=1$" "... a connection to a closed port is refused"
ok "every event line is JSON with source inlay and Falco's fields" \
	jq -s -e 'map(select(.rule != "sensor started" and .rule != "application exited")) |
		length > 5 and all(.source == "inlay" and .hostname == "arm64-vm" and
		(.output_fields | has("evt.type") and has("proc.pid") and has("proc.ppid") and
		has("proc.exe") and has("proc.cmdline") and has("proc.cwd") and has("user.uid")))' "$EV"
S=$(rule "sensor started")
is "$(field "$S" sensor.mechanism)|$(field "$S" sensor.arch)|$(field "$S" sensor.listener)" \
	"ptrace+seccomp|aarch64|opens,execs" \
	"'sensor started': mechanism ptrace+seccomp on aarch64 (the real capture path, opens and execs on the listener)"
is "$(field "$S" sensor.kernel)|$(field "$S" sensor.reaper)" "$krelease|subreaper" \
	"... on the Debian kernel booted, as a subreaper"
is "$(count "$(rule "sensor degraded")")" 0 "... and no 'sensor degraded'"

F='.rule == "process executed" and .output_fields."proc.cmdline" == "cat /etc/passwd"'
is "$(count "$F")" 1 "'process executed' for cat, with its command line"
is "$(field "$F" sensor.program)|$(field "$F" proc.exepath)|$(field "$F" evt.type)" \
	"/bin/busybox[cat]|/bin/busybox|execve" "... the program: /bin/busybox plus the applet cat"
is "$(field "$F" proc.ppid)" "$(field '.rule == "process executed" and (.output_fields."proc.cmdline" | startswith("sh -c"))' proc.pid)" \
	"... its parent is the shell"
is "$(count '.rule == "process executed" and .output_fields."proc.cmdline" == "wc -l /etc/motd"')" 1 \
	"'process executed' for wc"
is "$(count '.rule == "process executed" and .output_fields."proc.cmdline" == "nc 127.0.0.1 8080"')" 1 \
	"'process executed' for the nc client"

F='.rule == "file opened for writing" and .output_fields."fd.name" == "/tmp/out.txt"'
is "$(count "$F")" 1 "'file opened for writing' for /tmp/out.txt"
like "$(field "$F" evt.arg.flags)|$(field "$F" evt.type)" "O_WRONLY.*O_CREAT.*\|openat$" \
	"... with its flags, from openat"
is "$(count '.rule == "file opened for writing" and .output_fields."fd.name" == "/tmp/rel.txt"')" 1 \
	"a relative path is resolved against the process's cwd"
is "$(count '.rule == "file opened for writing" and (.output_fields."fd.name" | test("passwd|motd|/dev/null"))')" 0 \
	"read-only opens (cat, wc, the shell's <) and /dev/null produce no file event"
is "$(count "$(rule "file opened for writing")")" 3 "exactly three file events (out.txt, rel.txt, nc.got)" ||
	show_events

F='.rule == "listening socket"'
is "$(field "$F" fd.sport)|$(field "$F" fd.l4proto)|$(field "$F" proc.cmdline)" \
	"8080|tcp|nc -l -p 8080" "'listening socket' for nc -l, with its port"
F='.rule == "outbound connection" and .output_fields."evt.type" == "connect"'
is "$(count "$F")" 2 "two 'outbound connection' events"
F="$F"' and .output_fields."fd.rip" == "127.0.0.1:8080"'
like "$(field "$F" fd.name)" '^127\.0\.0\.1:[0-9]+->127\.0\.0\.1:8080$' "... naming local->peer"
is "$(field "$F" evt.res)|$(field "$F" proc.cmdline)" "0|nc 127.0.0.1 8080" \
	"... with the connect's result (x0 at the syscall-exit stop) and the client"
F='.rule == "outbound connection" and .output_fields."fd.rip" == "127.0.0.1:8082"'
is "$(field "$F" evt.res)" "-111" "the refused connect is reported with -ECONNREFUSED"
F=$(rule "application exited")
is "$(field "$F" evt.arg.status)|$(jq -r .rule "$EV" | sed -n '1p;$p' | tr '\n' ,)" \
	"7|sensor started,application exited," "'application exited' with 7 ends the stream"

# --- drift -----------------------------------------------------------------------------------

use drift
like "$stdout" "dropped-binary-ran" "monitor: a binary dropped at runtime runs"
F=$(rule "drift detected")
is "$(field "$F" sensor.program)|$(field "$F" sensor.action)|$(jq -r "select($F) | .priority" "$EV" | head -n 1)" \
	"/tmp/echo|allowed|Critical" "... and is reported as drift (Critical, allowed)"
is "$(count '.rule == "drift detected" and .output_fields."sensor.program" != "/tmp/echo"')" 0 \
	"programs of the initramfs are no drift"

use drift_enforce
like "$stdout" "status=126" "enforce: the dropped binary is denied, the shell reports 126"
unlike "$stdout" "dropped-binary-ran" "... it did not run"
like "$stderr" "/tmp/echo: Permission denied" "... the shell says Permission denied (EACCES)"
is "$(field "$(rule "drift detected")" sensor.action)" "denied" "... the drift is reported as denied"

# --- enforce: exec policy ---------------------------------------------------------------------

use exec
like "$stdout" "inlay arm64 vm fixture" "enforce: an allowed applet (cat) runs"
like "$stdout" "wc=126" "... another applet of the same binary (wc) is denied: 126"
like "$stderr" "wc: Permission denied" "... the shell says Permission denied"
F='.rule == "policy violation"'
is "$(field "$F" sensor.program)|$(field "$F" sensor.rule)|$(field "$F" sensor.action)" \
	"/bin/busybox[wc]|exec|denied" "... reported as a policy violation, denied"
is "$(count '.rule == "process executed" and .output_fields."sensor.program" == "/bin/busybox[wc]"')" 0 \
	"... and never reported as executed"
is "$(count '.rule == "process executed" and .output_fields."sensor.program" == "/bin/busybox[cat]"')" 1 \
	"... while cat is"
is "$status" 0 "... and the script goes on to its end (status 0)"

# --- enforce: file writes: the skipped openat fails with EACCES ------------------------------

use files
like "$stdout" "tmp=0" "enforce: a write the policy allows works"
like "$stdout" "etc=1" "... a write outside it fails"
like "$stderr" "can't create /etc/evil.txt: Permission denied" "... with EACCES (the skipped call's result)"
like "$stdout" "touch=1" "... so does touch's"
like "$stderr" "touch: /etc/evil2.txt: Permission denied" "... with EACCES too"
like "$stdout" "2$" "... and neither file was created"
is "$(count '.rule == "policy violation" and .output_fields."sensor.rule" == "files.write" and .output_fields."sensor.action" == "denied"')" 2 \
	"... both reported as denied violations"
is "$(jq -r 'select(.rule == "policy violation") | .output_fields."fd.name"' "$EV" | sort | tr '\n' ' ')" \
	"/etc/evil.txt /etc/evil2.txt " "... naming the files"
is "$(count '.rule == "file opened for writing" and .output_fields."fd.name" == "/tmp/ok.txt"')" 1 \
	"... and the allowed write is reported as usual"

# --- enforce: network ---------------------------------------------------------------------------

use net
like "$stdout" "listen9090=1" "enforce: listening on a port outside net.listen fails"
like "$stdout" "connect8081=1" "... connecting outside net.connect fails"
like "$stdout" "connect8080=0" "... the allowed port listens and is reached"
like "$stderr" "Permission denied" "... the failures are EACCES"
is "$(count '.rule == "policy violation" and .output_fields."sensor.rule" == "net.listen" and .output_fields."sensor.action" == "denied"')" 1 \
	"... the listen is a denied violation"
is "$(field '.rule == "policy violation" and .output_fields."sensor.rule" == "net.connect"' fd.name)|$(field '.rule == "policy violation" and .output_fields."sensor.rule" == "net.connect"' sensor.action)" \
	"127.0.0.1:8081|denied" "... the connect is one too, naming the destination"
is "$(field '.rule == "outbound connection" and .output_fields."evt.type" == "connect"' evt.res)" 0 \
	"... and the allowed connect is reported with result 0"

# --- learn -------------------------------------------------------------------------------------

use learn
F=$(rule "sensor profile")
is "$(count "$F")" 1 "learn: one 'sensor profile' event at exit"
ok "... holding what ran and what was written" jq -s -e "map(select($F) | .output_fields.profile) |
	any(((.exec.allow // []) | index(\"/bin/busybox[cat]\")) != null and
	((.files.write // []) | index(\"/tmp/\")) != null)" "$EV"

# --- signals, stops and exit statuses of traced processes --------------------------------------

use signals
like "$stdout" "^stop=[tT] cont=[SR] term=143$" \
	"a traced process stops on SIGSTOP, resumes on SIGCONT, dies of SIGTERM (143)"
like "$stdout" "got-usr1" "a signal the app sends itself reaches its handler"
like "$stdout" "killed=137" "a traced grandchild killed by SIGKILL gives 137 to its shell"
is "$status" 0 "... and the app ends normally"

use kill9
is "$status" 137 "the app killed by SIGKILL: the sensor exits 128+9"
F=$(rule "application exited")
is "$(field "$F" evt.arg.sig)|$(field "$F" evt.arg.status)" "9|137" "... 'application exited' says signal 9"
use term
is "$status" 143 "the app killed by SIGTERM: the sensor exits 128+15"

use pidns
is "$status:$stdout" "137:pid=2" "PID 1 of a pid namespace: the app (pid 2) killed by SIGKILL gives 137"
S=$(rule "sensor started")
is "$(field "$S" proc.pid)|$(field "$S" sensor.reaper)|$(field "$S" sensor.mechanism)" \
	"1|pid1|ptrace+seccomp" "... the sensor is pid 1 there, tracing with ptrace+seccomp"

# --- the sensor as the VM's PID 1 -------------------------------------------------------------------

sed -n '/^@@PID1$/,$p' "$T/console.txt" >"$T/pid1.txt"
grep '^{' "$T/pid1.txt" >"$O/pid1.ev"
EV=$O/pid1.ev
ok "PID 1: its events on the console are JSON" jq -s -e 'length >= 3 and all(.source == "inlay")' "$EV"
S=$(rule "sensor started")
is "$(field "$S" proc.pid)|$(field "$S" sensor.reaper)|$(field "$S" sensor.mechanism)|$(field "$S" sensor.config)" \
	"1|pid1|ptrace+seccomp|/.inlay/sensor.json" \
	"PID 1: the sensor is the VM's init, reads its default config, traces with ptrace+seccomp"
is "$(count '.rule == "process executed" and .output_fields."proc.cmdline" == "cat /etc/motd"')" 1 \
	"PID 1: captures the app's execs"
ok "PID 1: the app's output reaches the console" grep -qx 'inlay arm64 vm fixture' "$T/pid1.txt"
is "$(field "$(rule "application exited")" evt.arg.status)" 7 "PID 1: 'application exited' with 7"
like "$(grep -o 'Attempted to kill init! exitcode=0x[0-9a-f]*' "$T/pid1.txt")" "exitcode=0x00000700$" \
	"PID 1: the sensor exits 7 (the kernel's panic on init's exit says so)"

done_testing
