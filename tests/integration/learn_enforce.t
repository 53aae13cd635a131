#!/bin/bash
# learn_enforce.t - the workflow users follow, end to end with real images:
# instrument in learn mode, run the workload under runc, build a policy from
# the container's output with `inlay policy build`, instrument again in enforce
# mode with that policy, and run again: the same workload runs unchanged with
# no violation and no warning, while a program the profile never saw (another
# busybox applet) and a write outside the learned directories are denied.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runc.sh"
require_inlay
require_tools skopeo umoci runc jq
[ "$(id -u)" -eq 0 ] || bail_out "runs as root (umoci unpack, runc)"

start_registry open
fixtures_build single
push_fixture single "$REG/app:1"

# The workload: runs a few programs, reads, writes one file.
WORKLOAD='cat /etc/fixture >/dev/null; ls / >/dev/null; mkdir -p /tmp/work; echo hi >/tmp/work/out.txt; echo done'

run "$INLAY" instrument --quiet --mode learn "$REG/app:1" "$REG/app:learn"
is "$status" 0 "instrument --mode learn"
unpack_image "docker://$REG/app:learn" "$T/learn" || bail_out "cannot unpack the learn image"
bundle_args "$T/learn" /.inlay/sensor -- /bin/sh -c "$WORKLOAD"
run_bundle "$T/learn"
is "$status:$stdout" "0:done" "learn mode: the workload runs"
cp "$RUN_ERR" "$T/learn.log"
is "$(sensor_events "$T/learn.log" | jq -c 'select(.rule == "sensor profile")' | wc -l | tr -d ' ')" 1 \
	"learn mode: the sensor emits its profile at exit"

run "$INLAY" policy build "$T/learn.log"
is "$status" 0 "inlay policy build reads the container's output"
cp "$RUN_OUT" "$T/learned-policy.json"
diag "learned policy: $(jq -c . "$T/learned-policy.json")"
like "$(jq -r '.exec.allow | join(" ")' "$T/learned-policy.json")" "busybox\[cat\]" "  the policy allows cat"
unlike "$(jq -r '.exec.allow | join(" ")' "$T/learned-policy.json")" "busybox\[wc\]|busybox( |$)" \
	"  and neither wc nor every applet"
is "$(jq -r '.exec.drift' "$T/learned-policy.json")" block "  and blocks drift"
ok "  and inlay policy check accepts it" "$INLAY" policy check "$T/learned-policy.json"

run "$INLAY" instrument --quiet --mode enforce --policy "$T/learned-policy.json" "$REG/app:1" "$REG/app:enforce"
is "$status" 0 "instrument --mode enforce --policy (the learned one)"
unpack_image "docker://$REG/app:enforce" "$T/enf" || bail_out "cannot unpack the enforce image"

bundle_args "$T/enf" /.inlay/sensor -- /bin/sh -c "$WORKLOAD"
run_bundle "$T/enf"
is "$status:$stdout" "0:done" "enforce: the same workload runs unchanged"
sensor_events "$RUN_ERR" >"$T/enf.events"
is "$(jq -c 'select(.rule == "policy violation" or .rule == "drift detected")' "$T/enf.events" | wc -l | tr -d ' ')" 0 \
	"  with no violation"
is "$(jq -r 'select(.priority != "Informational" and .priority != "Notice") | .rule' "$T/enf.events" | sort -u | tr '\n' ' ')" "" \
	"  and no warning"

bundle_args "$T/enf" /.inlay/sensor -- /bin/sh -c 'wc -l /etc/passwd; echo "wc exit $?"'
run_bundle "$T/enf"
like "$stdout" "wc exit 126" "enforce: an applet the profile never saw (wc) is denied: the shell reports 126"
sensor_events "$RUN_ERR" >"$T/wc.events"
like "$(jq -r 'select(.rule == "policy violation") | .output_fields["sensor.action"]' "$T/wc.events" | sort -u)" \
	"denied" "  and the sensor reports the violation as denied"

bundle_args "$T/enf" /.inlay/sensor -- /bin/sh -c 'echo x >/etc/elsewhere 2>/dev/null; echo "write exit $?"'
run_bundle "$T/enf"
like "$stdout" "write exit [1-9]" "enforce: a write outside the learned directories fails"

done_testing
