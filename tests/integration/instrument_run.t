#!/bin/bash
# instrument_run.t - instrumented images run for real: pushed to a real
# registry, instrumented by inlay, read back by skopeo (which verifies every
# digest), unpacked by umoci and run by runc. The app's output and exit code
# must be what they were without inlay, for every shape of entrypoint, and
# the sensor must be a correct PID 1 (signals, zombies, exit codes).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runc.sh"
require_inlay
require_tools skopeo umoci runc jq
[ "$(id -u)" -eq 0 ] || bail_out "runs as root (umoci unpack, runc)"

start_registry open
fixtures_build single

# --- variants of the fixture, made with umoci ------------------------------
V=$T/variants
cp -a "$(fixture single)" "$V"
uc() { umoci config --image "$V:single" "$@" >>"$T/umoci.log" 2>&1; }
uc --tag cmdonly
uc --tag epcmd --config.entrypoint /bin/echo --config.cmd from-cmd
uc --tag shell --config.cmd /bin/sh --config.cmd -c --config.cmd 'echo shell $((6*7))'
uc --tag user --config.user 1000:1000 --config.workingdir /tmp --config.env FOO=bar \
	--config.cmd /bin/sh --config.cmd -c --config.cmd 'echo "$(id -u):$(id -g) $(pwd) $FOO"'
uc --tag nothing --clear=config.cmd --clear=config.entrypoint
# scratch: nothing but one static binary
S=$T/scratch
umoci init --layout "$S" >>"$T/umoci.log" 2>&1
umoci new --image "$S:s" >>"$T/umoci.log" 2>&1
mkdir -p "$T/scratch-root"
# named busybox: it picks the applet from argv[0] otherwise
dpkg-deb --fsys-tarfile "$(ls "$DEBS_DIR"/busybox-static_*_amd64.deb)" |
	tar -xO ./bin/busybox >"$T/scratch-root/busybox"
chmod 0755 "$T/scratch-root/busybox"
umoci insert --image "$S:s" "$T/scratch-root/busybox" /busybox >>"$T/umoci.log" 2>&1
umoci config --image "$S:s" --os linux --architecture amd64 --config.cmd /busybox \
	--config.cmd echo --config.cmd scratch-ok >>"$T/umoci.log" 2>&1

for t in cmdonly epcmd shell user nothing; do
	sk copy -q "oci:$V:$t" "docker://$REG/app:$t" >>"$T/push.log" 2>&1 || bail_out "push $t: $(cat "$T/push.log")"
done
sk copy -q "oci:$S:s" "docker://$REG/scratch:1" >>"$T/push.log" 2>&1 || bail_out "push scratch: $(cat "$T/push.log")"

# instrument_and_run NAME SRC EXPECTED-STDOUT: instrument SRC in place (DST
# defaults to SRC:TAG-inlay), read it back, run it.
instrument_and_run() {
	local name=$1 src=$2 want=$3 b=$T/bundle-$1
	run "$INLAY" instrument --quiet "$src"
	if [ "$status" -ne 0 ]; then
		fail "$name: inlay instrument $src (exit $status: $stderr)"
		fail "$name: skopeo copies the result, verifying digests"
		fail "$name: runc runs it"
		return
	fi
	like "$stdout" "^$REG/[a-z]+@sha256:[0-9a-f]{64}$" "$name: instrument prints REPO@DIGEST"
	if unpack_image "docker://$src-inlay" "$b"; then
		pass "$name: skopeo copies the result (digests verified) and umoci unpacks it"
	else
		fail "$name: skopeo copies the result (digests verified) and umoci unpacks it"
		return
	fi
	run_bundle "$b"
	is "$status:$stdout" "0:$want" "$name: runc runs the app through the sensor, same output and exit"
}

instrument_and_run "Cmd only" "$REG/app:cmdonly" "hello from inlay test fixture single linux/amd64"
instrument_and_run "Entrypoint + Cmd" "$REG/app:epcmd" "from-cmd"
instrument_and_run "shell form" "$REG/app:shell" "shell 42"
instrument_and_run "User, WorkingDir, Env" "$REG/app:user" "1000:1000 /tmp bar"
instrument_and_run "scratch + static binary" "$REG/scratch:1" "scratch-ok"

B=$T/bundle-Cmd\ only
is "$(jq -c '.process.args' "$B/config.json")" \
	'["/.inlay/sensor","--","/usr/local/bin/hello"]' "the sensor is what the runtime starts"
run_bundle "$B"
like "$(sensor_events "$RUN_ERR" | head -n 1)" '"rule":"sensor started"' \
	"the sensor reports that it started (stderr, JSON)"
ok "every sensor line is valid JSON" sh -c "grep '^{' '$RUN_ERR' | jq -e . >/dev/null"

# --- refusals ---------------------------------------------------------------
run "$INLAY" instrument "$REG/app:nothing"
is "$status" 2 "an image with neither Entrypoint nor Cmd is refused with exit 2"
like "$stderr" "nothing to run" "  and the message says why"
not_ok "  and nothing is pushed" sk inspect --raw "docker://$REG/app:nothing-inlay"
run "$INLAY" instrument "$REG/app:does-not-exist"
is "$status" 1 "a source that does not exist is exit 1"

# --- PID 1: exit codes ------------------------------------------------------
B=$T/bundle-Cmd\ only
exit_case() { # DESC WANT ARGS...
	local desc=$1 want=$2
	shift 2
	bundle_args "$B" /.inlay/sensor -- "$@"
	run_bundle "$B"
	is "$status" "$want" "PID 1: $desc gives exit $want"
}
exit_case "success" 0 /bin/true
exit_case "exit 1" 1 /bin/sh -c 'exit 1'
exit_case "killed by SIGKILL" 137 /bin/sh -c 'kill -KILL $$'
exit_case "killed by SIGTERM" 143 /bin/sh -c 'kill -TERM $$'
exit_case "a file that is not executable" 126 /etc/fixture
exit_case "a command that does not exist" 127 /no/such/program
exit_case "PATH lookup of a missing name" 127 no-such-program-anywhere
bundle_args "$B" /.inlay/sensor -- sh -c 'echo via-path'
run_bundle "$B"
is "$status:$stdout" "0:via-path" "PID 1: a bare name is found on PATH"

# --- PID 1: signals ---------------------------------------------------------
bundle_args "$B" /.inlay/sensor -- /bin/sleep 300
if start_bundle "$B" CID; then
	sleep 0.3
	runc kill "$CID" TERM
	wait_bundle "$CID"
	is "$status" 143 "SIGTERM to the container reaches the app; its death comes back as 143"
else
	fail "SIGTERM to the container reaches the app"
fi
bundle_args "$B" /.inlay/sensor -- /bin/sh -c 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.1; done'
if start_bundle "$B" CID; then
	for _ in $(seq 50); do grep -q ready "$T/$CID.out" && break; sleep 0.1; done
	runc kill "$CID" TERM
	wait_bundle "$CID"
	is "$status:$stdout" "42:ready
got-term" "a trapped SIGTERM runs the app's handler and its exit code comes back"
else
	fail "a trapped SIGTERM runs the app's handler"
fi
bundle_args "$B" /.inlay/sensor -- /bin/sh -c 'trap "echo got-usr1" USR1; echo ready; i=0; while [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done'
if start_bundle "$B" CID; then
	for _ in $(seq 50); do grep -q ready "$T/$CID.out" && break; sleep 0.1; done
	runc kill "$CID" USR1
	wait_bundle "$CID"
	like "$stdout" "got-usr1" "SIGUSR1 is forwarded too"
else
	fail "SIGUSR1 is forwarded too"
fi

# --- PID 1: zombies ---------------------------------------------------------
# Grandchildren that outlive their parent are re-parented to PID 1 (the
# sensor); when they exit, only PID 1 can reap them.
bundle_args "$B" /.inlay/sensor -- /bin/sh -c '
for i in 1 2 3 4 5; do sh -c "sleep 0.1 & exit 0"; done
sleep 1
grep -l ") Z " /proc/[0-9]*/stat | wc -l'
run_bundle "$B"
is "$status:$stdout" "0:0" "orphaned zombies are reaped by the sensor"
bundle_args "$B" /.inlay/sensor -- /bin/sh -c 'cat /proc/1/cmdline | tr "\0" " "'
run_bundle "$B"
like "$stdout" "^/.inlay/sensor -- " "the sensor is PID 1 in the container"

# --- stdio, environment, cwd, user pass through -----------------------------
B=$T/bundle-User,\ WorkingDir,\ Env
bundle_args "$B" /.inlay/sensor -- /bin/sh -c 'echo out; echo err >&2; echo "$(id -u) $(pwd) $FOO $PATH"; ls -l /proc/self/fd/0 | sed "s/.*-> //"'
run_bundle "$B"
like "$stdout" "^out" "stdout passes through"
like "$stderr" "^err$" "stderr passes through"
like "$stdout" "1000 /tmp bar /usr/local/bin:/usr/bin:/bin" "uid, cwd and environment are the image's"

done_testing
