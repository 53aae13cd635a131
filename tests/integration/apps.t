#!/bin/bash
# apps.t - real software from Debian's packages under the sensor (issue 12):
# nginx (master and workers, SIGHUP reload, SIGQUIT graceful stop), Python's
# http.server (SIGTERM) and PostgreSQL (initdb on the first start as user
# postgres, queries, SIGINT fast shutdown), each run with runc as its image
# says, instrumented and plain, on the host's loopback. Each must serve, stop
# with the same exit status as the plain image under the signal its image
# uses, leave no zombie, and give events that make sense.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runc.sh"
require_inlay
require_tools runc umoci skopeo jq curl debootstrap

fixtures_build apps
"$INLAY" keygen -o "$T/k" >/dev/null 2>&1 || bail_out "keygen"
for app in nginx postgres python; do
	"$INLAY" instrument --quiet "$(app_ref "$app")" "oci:$T/inst:$app" >"$T/inst.out" 2>&1 ||
		bail_out "instrument $app: $(cat "$T/inst.out")"
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
# bundle KIND APP DIR: unpack the plain or instrumented image of APP.
bundle() {
	local ref
	if [ "$1" = plain ]; then ref=$(app_ref "$2"); else ref=oci:$T/inst:$2; fi
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
# zombies ID: the container's processes in state Z. (runc ps passes its
# arguments to ps: without -e, ps -o lists only the caller's own processes.)
zombies() {
	runc ps "$1" -e -o pid,stat,comm 2>/dev/null | awk 'NR > 1 && $2 ~ /^Z/' | wc -l
}

# --- nginx ------------------------------------------------------------------
nginx_run() { # KIND: start, serve, reload, stop; sets NGINX_<KIND>_STATUS
	local kind=$1 dir=$T/nginx-$1 port cid before after i
	port=$(free_port)
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

# --- python -m http.server ----------------------------------------------------
python_run() { # KIND
	local kind=$1 dir=$T/python-$1 port cid i
	port=$(free_port)
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

# --- PostgreSQL ---------------------------------------------------------------
pg_run() { # KIND
	local kind=$1 dir=$T/pg-$1 port cid i ready=1
	port=$(free_port)
	bundle "$kind" postgres "$dir"
	edit_bundle "$dir" --arg p "PGPORT=$port" '.process.env += [$p]'
	start_bundle "$dir" cid || bail_out "postgres $kind did not start"
	for ((i = 0; i < 200; i++)); do
		runc exec "$cid" pg_isready -q -h 127.0.0.1 -p "$port" >/dev/null 2>&1 && ready=0 && break
		sleep 0.1
	done
	is "$ready" 0 "postgres $kind: initdb on the first start, then pg_isready"
	run runc exec "$cid" psql -X -q -A -t -h 127.0.0.1 -p "$port" -U postgres \
		-c "create table t (n int); insert into t select generate_series(1, 1000); select sum(n) from t"
	is "$stdout" 500500 "postgres $kind answers a query that writes a table"
	is "$(zombies "$cid")" 0 "postgres $kind: no zombie"
	runc kill "$cid" INT
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
done_testing
