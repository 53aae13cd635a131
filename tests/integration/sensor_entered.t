#!/bin/bash
# sensor_entered.t - processes that enter a running container from outside
# (`runc exec`, what `docker exec`, `kubectl exec` and ECS Exec do): they are
# not the application's descendants, so the sensor (PID 1) finds them by
# their parent outside the namespace (sensor-blob/entered.h) and reports each
# one, its children too, as "process entered container". Enforce judges them
# as execs - exec policy and drift - after the fact: what the policy forbids
# is killed. The application's own processes are never reported as entered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runc.sh"
require_inlay
require_tools skopeo umoci runc jq
[ "$(id -u)" -eq 0 ] || bail_out "runs as root (umoci unpack, runc)"

fixtures_build single
run "$INLAY" instrument --quiet "$(fixture_ref single)" "oci:$T/inst:app"
[ "$status" -eq 0 ] || bail_out "inlay instrument: $stderr"
B=$T/bundle
unpack_image "oci:$T/inst:app" "$B" || bail_out "cannot unpack the instrumented image"
cp "$B/config.json" "$T/config.orig.json"

# start MODE POLICY-JSON APP-SCRIPT: the container in the background, the
# sensor in MODE with that policy (or none: {}), running sh -c APP-SCRIPT.
start() {
	cp "$T/config.orig.json" "$B/config.json"
	chmod 0644 "$B/rootfs/.inlay/sensor.json"
	printf '{"version":1,"mode":"%s"%s}\n' "$1" "${2:+,\"policy\":$2}" >"$B/rootfs/.inlay/sensor.json"
	bundle_args "$B" /.inlay/sensor -- /bin/sh -c "$3"
	start_bundle "$B" CID || bail_out "the container did not start"
	sleep 0.3 # the sensor's first scan
}
# stop: end the container (the app waits on a sleep), events in $EV.
stop() {
	runc kill "$CID" TERM
	wait_bundle "$CID"
	EV=$T/events.$RANDOM
	sensor_events "$RUN_ERR" >"$EV"
}
entered() { jq -c 'select(.rule == "process entered container")' "$EV"; }
count() { jq -c "select($1)" "$EV" | wc -l | tr -d ' '; }

# --- monitor: reported, allowed, children too -----------------------------------
start monitor '' 'sleep 1 & sleep 1 & wait; sleep 30'
run runc exec "$CID" /bin/sh -c 'sleep 0.5; echo from-outside'
is "$status:$stdout" "0:from-outside" "monitor: runc exec runs"
stop
is "$(entered | jq -r '.output_fields["sensor.program"]' | sort | tr '\n' ' ')" \
	"/bin/busybox[sh] /bin/busybox[sleep] " \
	"the exec'd shell and its child are reported as entered, once each"
is "$(entered | jq -r '.output_fields["sensor.action"]' | sort -u)" allowed "... allowed in monitor mode"
is "$(entered | jq -r .priority | sort -u)" Notice "... at priority Notice"
like "$(entered | jq -r 'select(.output_fields["sensor.program"] == "/bin/busybox[sh]") | .output_fields["proc.cmdline"]')" \
	"sh -c sleep 0.5; echo from-outside" "... with the command line"
is "$(entered | jq -r 'select(.output_fields["sensor.program"] == "/bin/busybox[sh]") | .output_fields["proc.ppid"]')" 0 \
	"... and the parent outside the namespace (ppid 0)"
is "$(count '.rule == "process executed" and (.output_fields["proc.cmdline"] | test("from-outside")))')" 0 \
	"an entered process is no 'process executed' of the application's"
is "$(count '.rule == "process executed" and .output_fields["proc.cmdline"] == "sleep 1"')" 2 \
	"the application's own children are seen as always"
is "$(count '.rule == "process entered container" and .output_fields["proc.cmdline"] == "sleep 1"')" 0 \
	"... and never as entered"

# --- enforce with a policy: what it does not allow is killed -----------------------
POLICY='{"exec":{"allow":["/bin/busybox[sh]","/bin/busybox[sleep]"]}}'
start enforce "$POLICY" 'sleep 30'
run runc exec "$CID" /bin/sh -c 'sleep 0.5; echo allowed-ran'
is "$status:$stdout" "0:allowed-ran" "enforce: an exec'd program the policy allows runs"
run runc exec "$CID" /bin/seq 1 999999999
is "$status:$(printf '%s' "$stdout" | wc -c | awk '{print ($1 < 100000000)}')" "137:1" \
	"enforce: an exec'd program the policy does not allow (a long seq) is killed (137) before it ends"
# An allowed shell that then execs a forbidden program: the same process,
# the same busybox file, another argv[0] (busybox runs "/bin/busybox").
run runc exec "$CID" /bin/sh -c 'sleep 0.2; exec /bin/busybox seq 1 999999999 >/dev/null'
is "$status" 137 "... and so is an allowed shell's exec of one (sh -> /bin/busybox, the same file)"
stop
for program in '/bin/busybox[seq]' /bin/busybox; do
	F=".rule == \"process entered container\" and .output_fields[\"sensor.program\"] == \"$program\""
	is "$(jq -r "select($F) | .output_fields[\"sensor.action\"]" "$EV")" killed "... $program reported as entered, killed"
done
is "$(jq -r 'select(.rule == "policy violation") | .output_fields["sensor.program"] + " " + .output_fields["sensor.action"]' "$EV" | sort | tr '\n' ' ')" \
	"/bin/busybox killed /bin/busybox[seq] killed " "... and as policy violations, killed"

# --- enforce without a policy: drift is killed ---------------------------------------
start enforce '' 'cp /bin/busybox /tmp/sleep; sleep 30'
run runc exec "$CID" /tmp/sleep 5
is "$status" 137 "enforce: a program dropped at runtime, exec'd from outside, is killed"
run runc exec "$CID" /bin/sleep 0.3
is "$status" 0 "... while a program of the image runs (no policy: everything of the image is allowed)"
stop
is "$(jq -r 'select(.rule == "drift detected") | .output_fields["sensor.program"] + " " + .output_fields["sensor.action"]' "$EV")" \
	"/tmp/sleep killed" "... reported as drift, killed"

# --- learn: entered processes are not learned ------------------------------------------
start learn '' 'sleep 30'
run runc exec "$CID" /bin/seq 1 3000000
stop
is "$(count '.rule == "process entered container" and .output_fields["sensor.program"] == "/bin/busybox[seq]"')" 1 \
	"learn: an entered process is reported"
P=$(jq -c 'select(.rule == "sensor profile") | .output_fields.profile.exec.allow' "$EV")
is "$P" '["/bin/busybox[sh]","/bin/busybox[sleep]"]' "... and not learned: the profile has only the application's programs"
done_testing
