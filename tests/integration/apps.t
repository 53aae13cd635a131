#!/bin/bash
# apps.t - real software from Debian's packages under the sensor (issue 12):
# nginx (master and workers, SIGHUP reload, SIGQUIT graceful stop), Python's
# http.server (SIGTERM) and PostgreSQL (initdb on the first start as user
# postgres, queries, SIGINT fast shutdown), each run with runc as its image
# says, instrumented and plain, on the host's loopback. Each must serve, stop
# with the same exit status as the plain image under the signal its image
# uses, leave no zombie, and give events that make sense. Then the cycle
# users follow: the same workload in learn mode, `inlay policy build` from
# its output, `inlay instrument --mode enforce --policy` with it, and the
# workload again - no violation - while a program the service never ran,
# started in the container with `runc exec`, is killed and reported.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runc.sh"
require_inlay
require_tools runc umoci skopeo jq curl debootstrap

fixtures_build apps
# instrument_app KIND APP [OPTIONS...]: the image of APP instrumented with
# OPTIONS, as oci:$T/KIND:APP.
instrument_app() {
	"$INLAY" instrument --quiet "${@:3}" "$(app_ref "$2")" "oci:$T/$1:$2" >"$T/inst.out" 2>&1 ||
		bail_out "instrument $2 (${*:3}): $(cat "$T/inst.out")"
}
for app in nginx postgres python; do
	instrument_app inst "$app"
	instrument_app learn "$app" --mode learn
done

# Docker's default capabilities (umoci's bundle has fewer: nginx chowns its
# temporary directories, postgres's initdb sets modes) and the host's network,
# so the test reaches the service on loopback.
CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW",
  "CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT",
  "CAP_KILL","CAP_AUDIT_WRITE"]'
# edit_bundle DIR JQ-ARGS...: edit DIR's config.json with jq.
edit_bundle() {
	jq "${@:2}" <"$1/config.json" >"$1/config.json.new" && mv "$1/config.json.new" "$1/config.json"
}
# bundle KIND APP DIR: unpack the plain image of APP, or the one
# instrument_app made as KIND (inst, learn, enforce).
bundle() {
	local ref
	if [ "$1" = plain ]; then ref=$(app_ref "$2"); else ref=oci:$T/$1:$2; fi
	unpack_image "$ref" "$3" || bail_out "unpack $1 $2"
	edit_bundle "$3" --argjson c "$CAPS" '.process.capabilities = {bounding: $c, effective: $c,
		permitted: $c} | .linux.namespaces |= map(select(.type != "network"))'
}
# wait_http URL: until it answers 200 (10 s at most).
wait_http() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(_http_code "$1")" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}
# intruder KIND ID: in enforce mode, a program the service never ran (coreutils'
# sleep), started in the container from outside, must be killed.
intruder() {
	[ "$1" = enforce ] || return 0
	run runc exec "$2" /usr/bin/sleep 5
	INTRUDER_STATUS=$status
}
# learned APP LOG: the policy `inlay policy build` makes of a learn run's
# output, and the enforce image instrumented with it.
learned() {
	"$INLAY" policy build --quiet "$2" >"$T/$1.policy.json" 2>"$T/policy.err" ||
		bail_out "inlay policy build $1: $(cat "$T/policy.err")"
	diag "$1's learned policy: $(jq -c . "$T/$1.policy.json")"
	instrument_app enforce "$1" --mode enforce --policy "$T/$1.policy.json"
}
# enforced APP LOG: the enforce run gave no violation, and killed the intruder.
enforced() {
	local ev=$T/$1.enforce.events
	sensor_events "$2" >"$ev"
	is "$(jq -r 'select(.rule == "policy violation" or .rule == "drift detected") | .output_fields["sensor.program"] // .output_fields["fd.name"]' "$ev" |
		grep -vx /usr/bin/sleep | sort -u | tr '\n' ' ')" "" \
		"$1 enforce: the learned policy lets the workload run with no violation"
	is "$INTRUDER_STATUS" 137 "$1 enforce: runc exec of a program it never ran is killed (137)"
	is "$(jq -r 'select(.rule == "process entered container") | .output_fields["sensor.program"] + " " + .output_fields["sensor.action"]' "$ev")" \
		"/usr/bin/sleep killed" "$1 enforce: ... and reported as entered, killed"
	is "$(jq -r 'select(.rule == "policy violation") | .output_fields["sensor.program"] + " " + .output_fields["sensor.action"]' "$ev")" \
		"/usr/bin/sleep killed" "$1 enforce: ... and as a policy violation"
}

# zombies ID: the container's processes in state Z. (runc ps passes its
# arguments to ps: without -e, ps -o lists only the caller's own processes.)
zombies() {
	runc ps "$1" -e -o pid,stat,comm 2>/dev/null | awk 'NR > 1 && $2 ~ /^Z/' | wc -l
}

# --- nginx ------------------------------------------------------------------
# Each service keeps its port across runs, as in production: the learned
# policy names it.
NGINX_PORT=$(free_port)
nginx_run() { # KIND: start, serve, reload, stop; sets NGINX_<KIND>_STATUS
	local kind=$1 dir=$T/nginx-$1 port=$NGINX_PORT cid before after i
	bundle "$kind" nginx "$dir"
	sed -i "s/listen 80 default_server;/listen 127.0.0.1:$port default_server;/;
		s/listen \[::\]:80 default_server;//" "$dir/rootfs/etc/nginx/sites-available/default"
	echo "static file $kind" >"$dir/rootfs/var/www/html/static.txt"
	start_bundle "$dir" cid || bail_out "nginx $kind did not start"
	wait_http "http://127.0.0.1:$port/static.txt"
	is "$(curl -s "http://127.0.0.1:$port/static.txt")" "static file $kind" "nginx $kind serves a static file"
	before=$(runc ps "$cid" -e -o pid,comm | awk '$2 == "nginx" {print $1}' | sort | tr '\n' ' ')
	runc kill "$cid" HUP
	# The reload starts new workers and retires the old ones.
	for ((i = 0; i < 50; i++)); do
		after=$(runc ps "$cid" -e -o pid,comm | awk '$2 == "nginx" {print $1}' | sort | tr '\n' ' ')
		[ "$after" != "$before" ] && [ "$(zombies "$cid")" = 0 ] && break
		sleep 0.1
	done
	isnt "$after" "$before" "nginx $kind reloads on SIGHUP (new workers)"
	is "$(curl -s "http://127.0.0.1:$port/static.txt")" "static file $kind" "and serves after the reload"
	is "$(zombies "$cid")" 0 "nginx $kind: no zombie after the reload"
	intruder "$kind" "$cid"
	runc kill "$cid" QUIT
	wait_bundle "$cid"
	printf -v "NGINX_${kind^^}_STATUS" '%s' "$status"
	NGINX_ERR=$RUN_ERR
}
nginx_run plain
nginx_run inst
is "$NGINX_INST_STATUS" "$NGINX_PLAIN_STATUS" "SIGQUIT stops nginx with the plain image's status ($NGINX_PLAIN_STATUS)"
is "$(sensor_events "$NGINX_ERR" | jq -r 'select(.rule == "sensor started") | .output_fields["proc.pid"]')" 1 \
	"the sensor is PID 1"
like "$(sensor_events "$NGINX_ERR" | jq -r 'select(.rule == "listening socket") | .output')" "127.0.0.1" \
	"the listening socket is reported"
is "$(sensor_events "$NGINX_ERR" | jq -r 'select(.rule == "application exited") | .output_fields["evt.arg.status"]')" 0 \
	"the master's clean exit is reported"
unlike "$(sensor_events "$NGINX_ERR" | jq -r .rule | sort -u | tr '\n' ' ')" "violation|drift" "no violation in monitor mode"
nginx_run learn
learned nginx "$NGINX_ERR"
like "$(jq -r '.net.listen | join(" ")' "$T/nginx.policy.json")" "^tcp:[0-9]+$" "nginx: the policy has its port"
nginx_run enforce
is "$NGINX_ENFORCE_STATUS" "$NGINX_PLAIN_STATUS" "nginx enforce: SIGQUIT stops it with the plain image's status"
enforced nginx "$NGINX_ERR"

# --- python -m http.server ----------------------------------------------------
PY_PORT=$(free_port)
python_run() { # KIND
	local kind=$1 dir=$T/python-$1 port=$PY_PORT cid i
	bundle "$kind" python "$dir"
	mkdir -p "$dir/rootfs/srv" && echo "python $kind" >"$dir/rootfs/srv/index.txt"
	if [ "$kind" = plain ]; then
		bundle_args "$dir" python3 -m http.server "$port" --bind 127.0.0.1 --directory /srv
	else
		bundle_args "$dir" /.inlay/sensor -- python3 -m http.server "$port" --bind 127.0.0.1 --directory /srv
	fi
	start_bundle "$dir" cid || bail_out "python $kind did not start"
	wait_http "http://127.0.0.1:$port/index.txt"
	is "$(curl -s "http://127.0.0.1:$port/index.txt")" "python $kind" "python $kind serves"
	intruder "$kind" "$cid"
	runc kill "$cid" TERM
	# As `docker stop`: the stop signal, a grace period, then SIGKILL.
	PY_IGNORED=0
	for ((i = 0; i < 30; i++)); do
		runc state "$cid" 2>/dev/null | grep -q '"status": "running"' || break
		sleep 0.1
	done
	if runc state "$cid" 2>/dev/null | grep -q '"status": "running"'; then
		PY_IGNORED=1
		runc kill "$cid" KILL
	fi
	wait_bundle "$cid"
	printf -v "PY_${kind^^}_STATUS" '%s' "$status"
	printf -v "PY_${kind^^}_IGNORED" '%s' "$PY_IGNORED"
	PY_ERR=$RUN_ERR
}
python_run plain
python_run inst
# Python installs no SIGTERM handler, and the kernel does not deliver a
# signal whose action is the default to a namespace's init: as PID 1 of the
# plain image, python ignores `docker stop`'s SIGTERM and dies only of the
# SIGKILL after the grace period. Under the sensor, python is not PID 1; the
# sensor forwards SIGTERM and python dies of it: 143, what `docker run
# --init` (tini) gives.
is "$PY_PLAIN_IGNORED:$PY_PLAIN_STATUS" "1:137" "plain: python as PID 1 ignores SIGTERM, SIGKILL ends it (137)"
is "$PY_INST_IGNORED:$PY_INST_STATUS" "0:143" "instrumented: SIGTERM stops python within the grace period (143, as tini)"
like "$(sensor_events "$PY_ERR" | jq -r 'select(.rule == "application exited") | .output')" "sig=15|signal=15|status=143|SIGTERM" \
	"the sensor reports python's end by SIGTERM"
python_run learn
learned python "$PY_ERR"
python_run enforce
is "$PY_ENFORCE_STATUS" 143 "python enforce: SIGTERM stops it (143)"
enforced python "$PY_ERR"

# --- clone3 -------------------------------------------------------------------
# The filter fails clone3 with ENOSYS (a traced clone3 child could escape the
# tracer's fork events): bookworm's glibc 2.36, which nginx, postgres and
# python here share, falls back to clone for threads and posix_spawn.
CLONE3='import ctypes, os, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(435, None, 0)  # clone3(NULL, 0): EINVAL when the kernel sees it
print("clone3", r, os.strerror(ctypes.get_errno()))
out = []
ts = [threading.Thread(target=lambda i=i: out.append(i)) for i in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
print("threads", len(out))
print("spawn", subprocess.run(["/usr/bin/true"]).returncode, os.posix_spawn("/usr/bin/true", ["true"], {}) > 0)'
bundle inst python "$T/clone3"
bundle_args "$T/clone3" /.inlay/sensor -- python3 -c "$CLONE3"
run_bundle "$T/clone3"
is "$status" 0 "python's clone3 probe runs under the sensor"
like "$stdout" "clone3 -1 Function not implemented" "clone3 fails with ENOSYS under the sensor"
like "$stdout" "threads 16" "16 threads start and join (glibc falls back to clone)"
like "$stdout" "spawn 0 True" "subprocess and posix_spawn start programs"
is "$(sensor_events "$RUN_ERR" | jq -r 'select(.rule == "process executed") | .output_fields["proc.exepath"]' | grep -c '^/usr/bin/true$')" 2 \
	"... whose execs the sensor sees"
bundle plain python "$T/clone3-plain"
bundle_args "$T/clone3-plain" python3 -c "$CLONE3"
run_bundle "$T/clone3-plain"
like "$stdout" "clone3 -1 Invalid argument" "plain: the kernel has clone3 (EINVAL for a null argument), so the fallback is the sensor's doing"

# --- PostgreSQL ---------------------------------------------------------------
# The client runs in a container of its own (the plain image, the host's
# network), as an application would: the server's sensor sees only the
# server.
unpack_image "$(app_ref postgres)" "$T/pg-client" || bail_out "unpack the postgres client"
edit_bundle "$T/pg-client" '.linux.namespaces |= map(select(.type != "network"))'
# pg_client ARG...: run a client program; sets status, stdout, stderr.
pg_client() {
	bundle_args "$T/pg-client" "$@"
	run_bundle "$T/pg-client"
}
PG_PORT=$(free_port)
pg_run() { # KIND
	local kind=$1 dir=$T/pg-$1 port=$PG_PORT cid i ready=1
	bundle "$kind" postgres "$dir"
	edit_bundle "$dir" --arg p "PGPORT=$port" '.process.env += [$p]'
	start_bundle "$dir" cid || bail_out "postgres $kind did not start"
	for ((i = 0; i < 100; i++)); do
		pg_client pg_isready -q -h 127.0.0.1 -p "$port"
		[ "$status" = 0 ] && ready=0 && break
		sleep 0.1
	done
	is "$ready" 0 "postgres $kind: initdb on the first start, then pg_isready"
	pg_client psql -X -q -A -t -h 127.0.0.1 -p "$port" -U postgres \
		-c "create table t (n int); insert into t select generate_series(1, 1000); select sum(n) from t"
	is "$stdout" 500500 "postgres $kind answers a query that writes a table"
	pg_client psql -X -q -A -t -h 127.0.0.1 -p "$port" -U postgres -c "checkpoint; select count(*) from t"
	is "$stdout" 1000 "postgres $kind: a checkpoint, and the table is there"
	is "$(zombies "$cid")" 0 "postgres $kind: no zombie"
	intruder "$kind" "$cid"
	runc kill "$cid" "${PG_STOP:-INT}"
	wait_bundle "$cid"
	printf -v "PG_${kind^^}_STATUS" '%s' "$status"
	PG_ERR=$RUN_ERR
}
pg_run plain
pg_run inst
is "$PG_INST_STATUS" "$PG_PLAIN_STATUS" "SIGINT (fast shutdown) stops postgres with the plain image's status ($PG_PLAIN_STATUS)"
ok "initdb's and the server's file writes are reported" \
	test "$(sensor_events "$PG_ERR" | jq -r 'select(.rule == "file opened for writing") | .output_fields["fd.name"]' |
		grep -c '^/var/lib/postgresql/data/')" -gt 10
like "$(sensor_events "$PG_ERR" | jq -r 'select(.rule == "process executed") | .output_fields["proc.exepath"]' | sort -u | tr '\n' ' ')" \
	"initdb.*postgres" "the entrypoint's execs (initdb, postgres) are reported"
pg_run learn
learned postgres "$PG_ERR"
like "$(jq -r '.files.write | join(" ")' "$T/postgres.policy.json")" "/var/lib/postgresql/data/" \
	"postgres: the policy lets it write its data directory"
# Smart shutdown this time (SIGTERM: the clients are gone already).
PG_STOP=TERM pg_run enforce
is "$PG_ENFORCE_STATUS" "$PG_PLAIN_STATUS" "postgres enforce: SIGTERM (smart shutdown) stops it with status $PG_PLAIN_STATUS"
enforced postgres "$PG_ERR"
done_testing
