# runc.sh - run images for real: unpack with umoci, run with runc. Sourced
# after lib.sh by the tests that run instrumented images.
#
#   unpack_image REF DIR            skopeo copy REF to a layout, umoci unpack to
#                                   bundle DIR (terminal off, so runc needs no tty)
#   bundle_args DIR ARG...          replace the process args of bundle DIR
#   run_bundle DIR                  runc run; sets status, stdout, stderr (run)
#   start_bundle DIR ID             runc run in the background; waits until the
#                                   container's process is up
#   wait_bundle ID                  wait for it; sets status, stdout, stderr
# Every container is deleted by the test's cleanup.

_RUNC_IDS=()

_runc_cleanup_ids() {
	local id
	for id in "${_RUNC_IDS[@]}"; do
		runc kill "$id" KILL >/dev/null 2>&1
		runc delete -f "$id" >/dev/null 2>&1
	done
}

_runc_new_id() {
	local id="inlay-it-$$-${#_RUNC_IDS[@]}-$RANDOM"
	_RUNC_IDS+=("$id")
	echo "$id"
}

# unpack_image REF DIR: REF is any skopeo reference (docker://, oci:).
unpack_image() {
	local ref=$1 dir=$2 lay
	lay=$T/unpack-layout-$RANDOM
	sk copy -q "$ref" "oci:$lay:img" >"$T/.unpack.log" 2>&1 || {
		note "skopeo copy $ref: $(cat "$T/.unpack.log")"
		return 1
	}
	umoci unpack --image "$lay:img" "$dir" >>"$T/.unpack.log" 2>&1 || {
		note "umoci unpack: $(cat "$T/.unpack.log")"
		return 1
	}
	jq '.process.terminal = false' "$dir/config.json" >"$dir/config.json.new" &&
		mv "$dir/config.json.new" "$dir/config.json"
}

# bundle_args DIR ARG...: set process.args.
bundle_args() {
	local dir=$1
	shift
	jq --args '.process.args = $ARGS.positional' -- "$@" <"$dir/config.json" >"$dir/config.json.new" &&
		mv "$dir/config.json.new" "$dir/config.json"
}

# bundle_config DIR JQ-FILTER: edit the bundle's config.json with jq.
bundle_config() {
	jq "$2" <"$1/config.json" >"$1/config.json.new" && mv "$1/config.json.new" "$1/config.json"
}

# run_bundle DIR: run the container to its end (at most 60 s).
run_bundle() {
	local id
	id=$(_runc_new_id)
	run timeout 60 runc run --bundle "$1" "$id"
	runc delete -f "$id" >/dev/null 2>&1
}

# start_bundle DIR ID-VAR: start in the background; the container id goes to
# the variable named ID-VAR. Waits (10 s at most) until runc reports it running.
start_bundle() {
	local dir=$1 id i
	id=$(_runc_new_id)
	printf -v "$2" '%s' "$id"
	timeout 120 runc run --bundle "$dir" "$id" </dev/null >"$T/$id.out" 2>"$T/$id.err" &
	echo $! >"$T/$id.pid"
	for ((i = 0; i < 100; i++)); do
		runc state "$id" 2>/dev/null | grep -q '"status": "running"' && return 0
		sleep 0.1
	done
	note "container $id did not start: $(cat "$T/$id.err")"
	return 1
}

# wait_bundle ID: wait for a container started by start_bundle.
wait_bundle() {
	local id=$1
	wait "$(cat "$T/$id.pid")"
	status=$?
	stdout=$(cat "$T/$id.out")
	stderr=$(cat "$T/$id.err")
	RUN_OUT=$T/$id.out
	RUN_ERR=$T/$id.err
	runc delete -f "$id" >/dev/null 2>&1
}

# sensor_events FILE: the sensor's JSON event lines from a captured stderr.
sensor_events() {
	grep '^{"time"' "$1"
}

# Containers go before lib.sh's cleanup removes their bundles: wrap it,
# keeping the exit status it reads from $?.
eval "$(declare -f _cleanup | sed '1s/^_cleanup/_lib_cleanup/')"
_cleanup() {
	local rc=$?
	_runc_cleanup_ids
	(exit "$rc")
	_lib_cleanup
}
