#!/bin/bash
# faults.t - `inlay copy` across registries with faultproxy.py (issue 14)
# between inlay and a real docker-registry: on the source side (downloads)
# and on the destination side (uploads), every fault type at 20% of the
# requests - 5 copies each must succeed with the exact source digest - and
# at 100%: a clear failure naming the registry, and no destination tag. A
# download cut off mid-body resumes with Range from where it stopped; a
# stalled one times out (--stall-timeout) and resumes; flipped or short
# bodies are never pushed on (exit 3 when they always are).
. "$(dirname "$0")/lib.sh"
require_inlay
require_tools skopeo umoci jq curl

start_registry open SRC
start_registry open DST
fixtures_build single
# The image: the fixture and 5 layers of 2 MiB of random bytes.
L=$T/img
cp -a "$(fixture single)/." "$L/" || bail_out "copy the fixture"
umoci tag --image "$L:single" app >/dev/null || bail_out "umoci tag"
for i in 1 2 3 4 5; do
	head -c $((2 * 1048576)) /dev/urandom >"$T/layer.bin"
	umoci insert --image "$L:app" "$T/layer.bin" "/data/$i.bin" >/dev/null 2>&1 || bail_out "umoci insert"
done
sk copy -q --preserve-digests "oci:$L:app" "docker://$SRC/app:1" >"$T/push.log" 2>&1 ||
	bail_out "push: $(cat "$T/push.log")"
WANT=$(layout_digest "$L" app)
NLAYERS=$(jq '.layers | length' "$(layout_blob "$L" "$WANT")")
diag "image: $NLAYERS layers, $WANT"

ACCEPT='application/vnd.oci.image.manifest.v1+json'
# dst_digest REPO:TAG: the digest the destination's tag names, or "absent".
dst_digest() {
	local code
	code=$(curl -s -o "$T/dd.m" -w '%{http_code}' -H "Accept: $ACCEPT" \
		"http://$DST/v2/${1%:*}/manifests/${1##*:}")
	[ "$code" = 200 ] && sha256_file "$T/dd.m" || echo absent
}
# copy SRC-HOST DST-HOST REPO: inlay copy SRC-HOST/app:1 DST-HOST/REPO:1,
# bounded in time; sets status, stdout, stderr (run). A repository of its
# own each time: the destination has none of the blobs, all of them move.
copy() {
	run timeout 120 "$INLAY" copy --quiet --stall-timeout 2 "$1/app:1" "$2/$3:1"
}
# matrix SIDE FAULT: RUNS copies with FAULT at 20% of SIDE's requests.
RUNS=3
matrix() {
	local side=$1 fault=$2 r good=0 seed fails=
	seed=$(cksum <<<"$side$fault" | cut -d' ' -f1)
	if [ "$side" = source ]; then
		start_faultproxy FP "$SRC" --fault "$fault" --rate 0.2 --seed "$seed" --stall 30
	else
		start_faultproxy FP "$DST" --fault "$fault" --rate 0.2 --seed "$seed" --stall 30
	fi
	for ((r = 1; r <= RUNS; r++)); do
		if [ "$side" = source ]; then copy "$FP" "$DST" "m$fault-s$r"; else copy "$SRC" "$FP" "m$fault-d$r"; fi
		if [ "$status" = 0 ] && [ "$(dst_digest "m$fault-${side:0:1}$r:1")" = "$WANT" ]; then
			good=$((good + 1))
		else
			fails="$fails [$status: $(tail -n 2 "$RUN_ERR" | tr '\n' ' ')]"
		fi
	done
	is "$good" "$RUNS" "$fault at 20% of the $side's requests: $RUNS of $RUNS copies succeed, at the source's digest$fails"
	FAULTED=$(grep -c "fault=$fault" "$FP_LOG")
	stop_faultproxy FP
}

# --- every fault at 20% ----------------------------------------------------------
# (bench/faults.sh runs the full matrix: 20 runs a fault, a 100 MB image.)
for fault in 503 429 reset truncate short flip length; do
	t0=$(now_ms)
	matrix source "$fault"
	ok "... and the proxy injected $fault (${FAULTED}x; $(secs_since "$t0") s)" test "$FAULTED" -gt 0
done
for fault in 500 reset; do
	t0=$(now_ms)
	matrix destination "$fault"
	ok "... and the proxy injected $fault (${FAULTED}x; $(secs_since "$t0") s)" test "$FAULTED" -gt 0
done

# --- resuming: a cut-off download goes on from where it stopped -------------------------
start_faultproxy FP "$SRC" --fault reset --every 2 --match 'GET /v2/app/blobs/'
copy "$FP" "$DST" resumed
is "$status:$(dst_digest resumed:1)" "0:$WANT" "every second blob GET cut off mid-body: the copy succeeds"
RANGES=$(grep -c 'GET /v2/app/blobs/sha256:[0-9a-f]* 20[06] range=bytes=[1-9]' "$FP_LOG")
RESETS=$(grep -c 'fault=reset' "$FP_LOG")
ok "each cut-off download resumed with a Range from its offset ($RANGES ranged GETs for $RESETS resets)" \
	test "$RANGES" -ge "$RESETS" -a "$RESETS" -gt 0
is "$(grep 'range=bytes=' "$FP_LOG" | grep -vc ' 206 ')" 0 "the registry answered every ranged GET with 206"
stop_faultproxy FP
# A server without ranges answers a resumed GET with the whole blob (200):
# what came already is skipped, not hashed twice.
start_faultproxy FP "$SRC" --fault reset --every 2 --match 'GET /v2/app/blobs/' --no-range
copy "$FP" "$DST" resumed-norange
is "$status:$(dst_digest resumed-norange:1)" "0:$WANT" "resuming from a server that ignores Range (200, whole blob) succeeds"
ok "... after resets and re-asked GETs" test "$(grep -c 'range=bytes=[1-9].* 200 \|200 range=bytes=[1-9]' "$FP_LOG")" -gt 0
stop_faultproxy FP

start_faultproxy FP "$SRC" --fault stall --every 4 --match 'GET /v2/app/blobs/' --stall 60
t0=$(now_ms)
copy "$FP" "$DST" stalled
SECS=$(secs_since "$t0")
is "$status:$(dst_digest stalled:1)" "0:$WANT" "stalled downloads time out after --stall-timeout 2 and resume"
ok "... in bounded time ($SECS s, the stalls were 60 s)" awk -v s="$SECS" 'BEGIN { exit !(s < 40) }'
ok "... with ranged GETs" test "$(grep -c 'range=bytes=[1-9]' "$FP_LOG")" -gt 0
stop_faultproxy FP

# --- a fault on every request: a clear failure, no tag ------------------------------
always() { # SIDE FAULT MATCH WANT-STATUS WANT-MESSAGE
	local side=$1 fault=$2 tag=always-$2-$1 t0
	t0=$(now_ms)
	if [ "$side" = source ]; then
		start_faultproxy FP "$SRC" --fault "$fault" ${3:+--match "$3"} --stall 60
		copy "$FP" "$DST" "$tag"
	else
		start_faultproxy FP "$DST" --fault "$fault" ${3:+--match "$3"} --stall 60
		copy "$SRC" "$FP" "$tag"
	fi
	is "$status" "$4" "$fault on every request of the $side${3:+ matching $3}: exit $4"
	like "$stderr" "$5" "... the message says what failed"
	is "$(dst_digest "$tag:1")" absent "... and the destination has no tag ($(secs_since "$t0") s)"
	stop_faultproxy FP
}
always source 503 "" 1 "127\\.0\\.0\\.1:[0-9]+.*503"
always source redirect '' 1 "[Rr]edirect"
always source flip 'GET /v2/app/blobs/' 3 "app@sha256:[0-9a-f]+: the blob's bytes do not match its digest"
always source short 'GET /v2/app/blobs/' 3 "app@sha256:[0-9a-f]+: the blob's bytes do not match its digest"
always destination reset 'PUT ' 1 "upload|PUT"
done_testing
