#!/bin/bash
# policy.t - `inlay policy check` and `inlay policy build` as a user runs
# them (docs/POLICY.md): check accepts valid policies and names the bad field
# of invalid ones with exit status 2; build turns a container's output -
# sensor profile events, individual events and the application's own lines
# mixed together - into the expected policy, from files or stdin, skipping
# and counting what is not an event.
#
# Last, learn -> build -> enforce end to end with the real sensor binary
# (build/sensor/sensor-amd64, run directly as sensor_pid1.t does, not in a
# container): skipped when the sensor, busybox or a capture mechanism is
# missing. The same under runc, with instrumented images, is learn_enforce.t.
. "$(dirname "$0")/lib.sh"
require_inlay
require_tools jq

plan 46

# --- check -------------------------------------------------------------------
cat >"$T/good.json" <<'EOF'
{"exec": {"allow": ["/usr/bin/python3", "/bin/busybox[cat]", "/opt/app/bin/*"],
          "drift": "block"},
 "net": {"listen": ["tcp:8080"], "connect": ["10.0.0.0/8:5432", "[fd00::/8]:443", "*:53"]},
 "files": {"write": ["/tmp/", "/var/log/app/"]}}
EOF
run "$INLAY" policy check "$T/good.json"
is "$status" 0 "check: a valid policy exits 0"
is "$stdout" "$T/good.json: valid policy (3 exec rules, drift block, 1 listen rule, 3 connect rules, 2 write rules)" \
	"check: says what the policy holds"

echo '{"net":{"listen":["tcp:80"]}}' >"$T/partial.json"
run "$INLAY" policy check "$T/partial.json"
is "$stdout" "$T/partial.json: valid policy (exec unrestricted, drift default, 1 listen rule, connect unrestricted, write unrestricted)" \
	"check: absent lists are shown as unrestricted"

run "$INLAY" policy check --json "$T/good.json"
is "$status" 0 "check --json exits 0"
is "$(jq -c . "$RUN_OUT")" \
	"{\"file\":\"$T/good.json\",\"valid\":true,\"exec_rules\":3,\"drift\":\"block\",\"listen_rules\":1,\"connect_rules\":3,\"write_rules\":2}" \
	"check --json: a machine-readable report"

run_in '{"files":{"write":["/tmp/"]}}' "$INLAY" policy check -
is "$status" 0 "check -: reads standard input"

echo '{"net":{"connect":["10.0.0.0/8:5432","fd00::1:443"]}}' >"$T/bad-connect.json"
run "$INLAY" policy check "$T/bad-connect.json"
is "$status" 2 "check: an invalid rule exits 2"
like "$stderr" "net\.connect\[1\]: 'fd00::1:443' is not ADDRESS" "check: the error names the field"
is "$stdout" "" "check: nothing on stdout for an invalid policy"

echo '{"exec":{"allow":["/bin/busybox[cat"]}}' >"$T/bad-exec.json"
run "$INLAY" policy check "$T/bad-exec.json"
is "$status" 2 "check: an unterminated [applet] exits 2"
like "$stderr" "exec\.allow\[0\]" "check: names exec.allow[0]"

echo '{"exec":{"alow":[]}}' >"$T/typo.json"
run "$INLAY" policy check "$T/typo.json"
like "$status:${stderr//$'\n'/ }" "^2:.*unknown key 'alow'" "check: a misspelt key is an error, not ignored"

printf '{"exec": {' >"$T/truncated.json"
run "$INLAY" policy check "$T/truncated.json"
like "$status:${stderr//$'\n'/ }" "^2:.*not valid JSON at line 1" "check: invalid JSON exits 2 with the position"

run "$INLAY" policy check "$T/missing.json"
like "$status:${stderr//$'\n'/ }" "^2:.*missing\.json" "check: a missing file exits 2 naming it"

run "$INLAY" policy check
is "$status" 2 "check without FILE is a usage error"

run "$INLAY" policy
like "$status:${stderr//$'\n'/ }" "^2:.*check or build" "policy without a subcommand is a usage error"

run "$INLAY" policy frob
is "$status" 2 "an unknown subcommand is a usage error"

run "$INLAY" help policy
like "$status:$stdout" "^0:Usage: inlay policy check" "inlay help policy prints the usage"

# --- build -------------------------------------------------------------------
# What a container in learn mode printed: the application's own lines, sensor
# lifecycle events, individual events, and the learned profile in two parts
# (the second part as the sensor writes it, byte for byte).
ev() { # ev EVT_TYPE 'MORE OUTPUT FIELDS'
	printf '{"time":"2024-05-01T12:00:00.000000000Z","rule":"r","priority":"Notice","output":"o","source":"inlay","tags":["inlay"],"output_fields":{"evt.type":"%s",%s}}\n' "$1" "$2"
}
{
	echo 'Starting app on :8080'
	ev sensor '"proc.pid":1,"sensor.mode":"learn"'
	echo '{"level":"info","msg":"an app log line that is JSON"}'
	ev execve '"proc.exe":"wc","proc.exepath":"/bin/busybox"'
	ev execve '"proc.exe":"/usr/local/bin/missing","evt.res":"ENOENT"'
	ev listen '"fd.l4proto":"tcp","fd.sport":9090'
	ev connect '"fd.name":"172.17.0.2:40000->[2001:db8::7]:443"'
	ev openat '"fd.name":"/var/cache/app/x.bin"'
	ev openat '"fd.name":"/tmp/sub/deeper/f"'
	ev execve '"proc.exe":"/tmp/dropper","sensor.action":"denied"'
	ev execve '"proc.exe":"x","proc.exepath":"/tmp/x","sensor.action":"killed"'
	echo 'Traceback (most recent call last): {not json'
	echo '{"time":"t","rule":"sensor profile","priority":"Informational","output":"o","source":"inlay","tags":["inlay","sensor","profile"],"output_fields":{"evt.type":"sensor","profile.part":1,"profile.parts":2,"profile.dropped":0,"profile":{"exec":{"allow":["/usr/bin/python3"]},"net":{"listen":[],"connect":[]},"files":{"write":[]}}}}'
	echo '{"time":"2026-11-28T19:47:51.125616472Z","rule":"sensor profile","priority":"Informational","output":"19:47:51.125616472: Informational Sensor profile (exec=2 listen=1 connect=2 write=2 dropped=0 part=1/1)","source":"inlay","tags":["inlay","sensor","profile"],"hostname":"vm","output_fields":{"evt.type":"sensor","proc.pid":3897,"profile.part":2,"profile.parts":2,"profile.dropped":0,"profile":{"exec":{"allow":["/bin/busybox[cat]","/usr/bin/python3"]},"net":{"listen":["tcp:8080"],"connect":["10.0.0.5:5432","[fd00::1]:443"]},"files":{"write":["/tmp/","/var/log/app/"]}}}}'
	printf 'a last line without a newline'
} >"$T/container.log"

cat >"$T/expected.json" <<'EOF'
{
  "exec": {
    "allow": [
      "/bin/busybox[cat]",
      "/bin/busybox[wc]",
      "/usr/bin/python3"
    ],
    "drift": "block"
  },
  "net": {
    "listen": [
      "tcp:8080",
      "tcp:9090"
    ],
    "connect": [
      "10.0.0.5:5432",
      "[2001:db8::7]:443",
      "[fd00::1]:443"
    ]
  },
  "files": {
    "write": [
      "/tmp/",
      "/var/cache/app/",
      "/var/log/app/"
    ]
  }
}
EOF

run "$INLAY" policy build "$T/container.log"
is "$status" 0 "build: exits 0"
ok "build: the expected policy, merged, sorted and generalised" cmp "$RUN_OUT" "$T/expected.json"
like "$stderr" "15 lines read: 2 sensor profiles and 5 events used" "build: counts what it used"
like "$stderr" "3 non-JSON lines skipped" "build: skips and counts lines that are not JSON"
like "$stderr" "1 other JSON line skipped" "build: skips JSON that is not an inlay event"
like "$stderr" "2 denied actions skipped" "build: never learns what enforce mode denied or killed"
cp "$RUN_OUT" "$T/built.json"

run "$INLAY" policy check "$T/built.json"
is "$status" 0 "build: the result passes check"

run_in "$(cat "$T/container.log")" "$INLAY" policy build
ok "build: reads standard input when given no file" cmp "$RUN_OUT" "$T/expected.json"
run_in "$(cat "$T/container.log")" "$INLAY" policy build -
ok "build -: reads standard input" cmp "$RUN_OUT" "$T/expected.json"

# Several inputs merge; lines bigger than 1 MiB are skipped, not fatal.
ev bind '"fd.l4proto":"udp","fd.sport":53' >"$T/more.log"
head -c 1100000 /dev/zero | tr '\0' 'x' >>"$T/more.log"
echo >>"$T/more.log"
run "$INLAY" policy build --quiet "$T/container.log" "$T/more.log"
is "$status" 0 "build: several files"
is "$(jq -c .net.listen "$RUN_OUT")" '["tcp:8080","tcp:9090","udp:53"]' "build: merges them"
is "$stderr" "" "build --quiet: no summary"
run "$INLAY" policy build "$T/more.log"
like "$stderr" "1 line over 1048576 bytes skipped" "build: counts lines over 1 MiB"

# --base: its rules are kept, its drift too; covered rules collapse.
cat >"$T/base.json" <<'EOF'
{"exec": {"allow": ["/bin/busybox", "/opt/app/bin/*"], "drift": "alert"},
 "net": {"connect": ["*:53"]}, "files": {"write": ["/var/"]}}
EOF
run "$INLAY" policy build --quiet --base "$T/base.json" "$T/container.log"
is "$status" 0 "build --base exits 0"
is "$(jq -c . "$RUN_OUT")" \
	'{"exec":{"allow":["/bin/busybox","/opt/app/bin/*","/usr/bin/python3"],"drift":"alert"},"net":{"listen":["tcp:8080","tcp:9090"],"connect":["*:53","10.0.0.5:5432","[2001:db8::7]:443","[fd00::1]:443"]},"files":{"write":["/tmp/","/var/"]}}' \
	"build --base: base rules kept, narrower ones absorbed, drift from the base"

echo '{"net":{"listen":["tcp:0"]}}' >"$T/bad-base.json"
run "$INLAY" policy build --base "$T/bad-base.json" "$T/container.log"
like "$status:${stderr//$'\n'/ }" "^2:.*--base.*net\.listen\[0\]" "build: an invalid --base exits 2 naming the field"

# Errors.
printf 'hello\n{"a":1}\n' >"$T/noise.log"
run "$INLAY" policy build "$T/noise.log"
like "$status:${stderr//$'\n'/ }" "^2:.*no sensor profile and no event" "build: nothing to learn from exits 2"
is "$stdout" "" "build: no policy printed then"

{
	ev execve '"proc.exe":"/bin/sh"'
	echo '{"rule":"sensor profile","source":"inlay","output_fields":{"profile":{"exec":{"allow":["sh"]}}}}'
} >"$T/damaged.log"
run "$INLAY" policy build "$T/damaged.log"
like "$status:${stderr//$'\n'/ }" "^2:.*damaged\.log line 2: sensor profile: exec\.allow\[0\]" \
	"build: a damaged profile exits 2 naming the line and field"

run "$INLAY" policy build "$T/nonexistent.log"
like "$status:${stderr//$'\n'/ }" "^2:.*nonexistent\.log" "build: a missing events file exits 2"

run "$INLAY" policy build --frob
is "$status" 2 "build: an unknown option is a usage error"

# --- end to end: learn -> build -> enforce with the real sensor ---------------
E2E_TESTS=7
SENSOR=${SENSOR:-$ROOT/build/sensor/sensor-amd64}
BB=$(command -v busybox 2>/dev/null)
[ -n "$BB" ] && BB=$(readlink -f "$BB")
e2e_skip() {
	local i
	for ((i = 0; i < E2E_TESTS; i++)); do skip "end to end: learn, build, enforce" "$1"; done
}
sensor_run() { # sensor_run CONFIG SCRIPT: the sensor supervising busybox sh -c SCRIPT
	timeout 60 "$SENSOR" --config "$1" -- "$T/bin/sh" -c "PATH=$T/bin; $2"
}
if [ "$(uname -m)" != x86_64 ] || [ ! -x "$SENSOR" ]; then
	e2e_skip "no amd64 sensor at $SENSOR"
elif [ -z "$BB" ]; then
	e2e_skip "no busybox"
else
	# Applets through symlinks, as in a busybox image: exe is busybox,
	# argv[0] the applet.
	mkdir -p "$T/bin" "$T/work"
	for a in sh cat wc; do ln -sf "$BB" "$T/bin/$a"; done
	WORKLOAD="cat /etc/hostname >/dev/null; echo hi > $T/work/out.txt"
	echo "{\"version\":1,\"mode\":\"learn\",\"output\":\"file:$T/learn.log\"}" >"$T/learn.json"
	sensor_run "$T/learn.json" "$WORKLOAD"
	learn_status=$?
	mech=$(jq -r 'select(.rule == "sensor started") | .output_fields["sensor.mechanism"]' \
		"$T/learn.log" 2>/dev/null | head -n 1)
	if [ "$learn_status" -ne 0 ] || [ -z "$mech" ] || [ "$mech" = none ]; then
		e2e_skip "the sensor captures nothing here (status $learn_status, mechanism '${mech:-?}')"
	else
		pass "end to end: the workload runs in learn mode ($mech)"
		run "$INLAY" policy build --quiet "$T/learn.log"
		is "$status" 0 "end to end: a policy is built from the learn run's output"
		is "$(jq -c '[.exec.allow, .files.write, .exec.drift]' "$RUN_OUT")" \
			"[[\"$BB[cat]\",\"$BB[sh]\"],[\"$T/work/\"],\"block\"]" \
			"end to end: it allows the applets and the directory the workload used"
		echo "{\"version\":1,\"mode\":\"enforce\",\"output\":\"file:$T/enforce.log\",\"policy\":$(jq -c . "$RUN_OUT")}" \
			>"$T/enforce.json"
		sensor_run "$T/enforce.json" "$WORKLOAD"
		is "$?" 0 "end to end: the same workload runs under enforce"
		sensor_run "$T/enforce.json" "wc -l /etc/passwd" >/dev/null 2>&1
		is "$?" 126 "end to end: another applet of the same binary is denied (cat never allows wc)"
		sensor_run "$T/enforce.json" "echo x > $T/elsewhere.txt" 2>/dev/null
		isnt "$?" 0 "end to end: a write outside the learned directory fails"
		is "$(jq -r 'select(.rule == "policy violation" and .output_fields["sensor.action"] == "denied")
			| .output_fields["sensor.rule"]' "$T/enforce.log" | sort -u | tr '\n' ' ')" \
			"exec files.write " "end to end: both denials are reported as policy violations"
	fi
fi

done_testing
