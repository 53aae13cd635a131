#!/bin/bash
# serve.t - `inlay serve`, the instrumenting mirror, pulled through by real
# clients (skopeo, curl) in front of a real upstream (docker-registry):
# instrumented results that run under runc, determinism across pulls and
# replicas, coalesced first pulls, by-digest rules, indexes and platforms,
# tag TTL, upstream failures, tampered blobs, client auth, hostile requests,
# signatures and graceful shutdown.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runc.sh"
require_inlay
require_tools skopeo umoci runc jq curl htpasswd
[ "$(id -u)" -eq 0 ] || bail_out "runs as root (umoci unpack, runc)"

start_registry open UP
fixtures_build single multi arm64
push_fixture single "$UP/app:1"
push_fixture multi "$UP/multi:1"
SRC_DIGEST=$(fixture_digest single)
STORE=$T/store
start_mirror MIR --upstream "up=http://$UP" --store "oci:$STORE"

# c URL [CURL ARGS]: curl quietly, status code on stdout.
code() {
	local url=$1
	shift
	curl -s --noproxy '*' --max-time 20 -o "$T/body" -D "$T/headers" -w '%{http_code}' "$@" "$url"
}
header() { # NAME: a header of the last code() answer
	tr -d '\r' <"$T/headers" | sed -n "s/^$1: //Ip" | tail -n 1
}
metric() { # PREFIX NAME: a counter of a mirror's /metrics
	local url_var=${1}_URL
	curl -s "${!url_var}/metrics" | awk -v n="inlay_mirror_$2" '$1 == n {print $2}'
}

# --- skopeo pulls the instrumented image; it runs under runc --------------
run sk copy "docker://$MIR/app:1" "oci:$T/pulled:1"
is "$status" 0 "skopeo copy through the mirror succeeds (every digest verified)"
run sk inspect --config "oci:$T/pulled:1"
CFG=$stdout
is "$(jq -r '.config.Labels["io.inlay.source"]' <<<"$CFG")" "$SRC_DIGEST" \
	"the result names the upstream image as its source"
is "$(jq -c '.config.Entrypoint' <<<"$CFG")" '["/.inlay/sensor","--"]' "the entrypoint starts the sensor"
SENSOR_LAYER=$(jq -r '.config.Labels["io.inlay.sensor.digest"]' <<<"$CFG")
run sk inspect --raw "oci:$T/pulled:1"
is "$(jq -r '.layers[-1].digest' <<<"$stdout")" "$SENSOR_LAYER" "the last layer is the sensor layer"
MIR_DIGEST=$(skopeo_digest "docker://$MIR/app:1")

# The same deterministic function as `inlay instrument`.
run "$INLAY" instrument --quiet "$UP/app@$SRC_DIGEST" "oci:$T/cli:1"
is "$status" 0 "inlay instrument of the same upstream digest succeeds"
is "$(layout_digest "$T/cli" 1)" "$MIR_DIGEST" "the mirror's result is byte for byte what inlay instrument makes"

B=$T/bundle
if unpack_image "oci:$T/pulled:1" "$B"; then
	pass "umoci unpacks the result"
	run_bundle "$B"
	is "$status" 0 "runc runs it: exit status unchanged"
	like "$stdout" "hello from inlay test fixture single" "the app's output is unchanged"
	like "$(sensor_events "$RUN_ERR" | head -n 1)" '"rule":"sensor started"' "the sensor ran as PID 1"
else
	fail "umoci unpacks the result"
fi

# --- determinism, replicas, coalescing ------------------------------------
is "$(skopeo_digest "docker://$MIR/app:1")" "$MIR_DIGEST" "a second pull gives the same digest"
start_mirror MIR2 --upstream "up=http://$UP" --store "oci:$STORE"
is "$(skopeo_digest "docker://$MIR2/app:1")" "$MIR_DIGEST" "a second replica over the same store gives the same digest"
# The manifest from one replica, every blob from the other.
code "http://$MIR/v2/app/manifests/1" -H "Accept: application/vnd.oci.image.manifest.v1+json" >/dev/null
cp "$T/body" "$T/m.json"
bad=0
for d in $(jq -r '.config.digest, .layers[].digest' "$T/m.json"); do
	c=$(code "http://$MIR2/v2/app/blobs/$d")
	[ "$c" = 200 ] && [ "$(sha256_file "$T/body")" = "$d" ] || bad=$((bad + 1))
done
is "$bad" 0 "every blob of the manifest from replica 1 comes from replica 2, verified"

push_fixture single "$UP/burst:1"
pids=()
for i in $(seq 20); do
	curl -s -o "$T/burst-body.$i" -w '%{http_code}\n' \
		-H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$MIR/v2/burst/manifests/1" >"$T/burst.$i.code" &
	pids+=($!)
done
wait "${pids[@]}"
is "$(cat "$T"/burst.*.code | sort -u | tr '\n' ' ')" "200 " "20 concurrent first pulls all get 200"
is "$(sha256sum "$T"/burst-body.* | cut -d' ' -f1 | sort -u | wc -l)" 1 "and all the same manifest" ||
	diag "$(sha256sum "$T"/burst-body.*)"
before=$(metric MIR instrumentations_total)
# app:1 and burst:1 were instrumented by MIR; multi not yet.
is "$before" 2 "the 20 concurrent first pulls instrumented once (2 tags instrumented in all)"

# --- indexes and platforms -------------------------------------------------
run sk copy --all "docker://$MIR/multi:1" "oci:$T/multi:1"
is "$status" 0 "skopeo copy --all of an index through the mirror"
run sk inspect --raw "oci:$T/multi:1"
IDX=$stdout
is "$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(",")' <<<"$IDX")" \
	"linux/amd64,linux/arm64" "the index has amd64 and arm64, the attestation dropped"
run sk copy --override-arch arm64 "docker://$MIR/multi:1" "oci:$T/arm:1"
is "$status" 0 "a linux/arm64 pull of the index"
run sk inspect --config "oci:$T/arm:1"
is "$(jq -r .architecture <<<"$stdout")" arm64 "gets the arm64 image"
ARM_LAYER=$(jq -r '.config.Labels["io.inlay.sensor.digest"]' <<<"$stdout")
isnt "$ARM_LAYER" "$SENSOR_LAYER" "with its own sensor layer"
mkdir -p "$T/armx"
tar -xzf "$(layout_blob "$T/arm" "$ARM_LAYER")" -C "$T/armx" .inlay/sensor 2>/dev/null
like "$(od -An -tx1 -j18 -N2 "$T/armx/.inlay/sensor" | tr -d ' ')" '^b700$' "whose sensor is an aarch64 binary (e_machine 183)"

# --- by digest -------------------------------------------------------------
c=$(code "http://$MIR/v2/app/manifests/$SRC_DIGEST" -H "Accept: application/vnd.oci.image.manifest.v1+json")
is "$c" 200 "an upstream digest is passed through"
is "$(sha256_file "$T/body")" "$SRC_DIGEST" "unchanged"
start_mirror STRICT --upstream "up=http://$UP" --store "oci:$STORE" --require-instrumented
c=$(code "http://$STRICT/v2/app/manifests/$SRC_DIGEST")
is "$c" 403 "--require-instrumented refuses an upstream digest" || diag "$(cat "$T/body")"
is "$(jq -r '.errors[0].code' "$T/body")" DENIED "with a DENIED error"
c=$(code "http://$STRICT/v2/app/manifests/$MIR_DIGEST")
is "$c" 200 "and still serves a result by digest"

# --- HEAD, Range, headers --------------------------------------------------
c=$(code "http://$MIR/v2/app/manifests/1" -I -H "Accept: application/vnd.oci.image.manifest.v1+json")
is "$c" 200 "HEAD of a manifest by tag"
is "$(header Docker-Content-Digest)" "$MIR_DIGEST" "carries the result's digest"
is "$(header Content-Type)" "application/vnd.oci.image.manifest.v1+json" "and its media type"
BASE=$(jq -r '.layers[0].digest' "$T/m.json")
BASE_SIZE=$(jq -r '.layers[0].size' "$T/m.json")
c=$(code "http://$MIR/v2/app/blobs/$BASE" -H "Range: bytes=10-19")
is "$c" 206 "a Range request on a stored blob gets 206"
is "$(stat -c %s "$T/body")" 10 "with the 10 bytes asked for"
is "$(header Content-Range)" "bytes 10-19/$BASE_SIZE" "and their Content-Range"
c=$(code "http://$MIR/v2/app/blobs/$BASE" -H "Range: bytes=$BASE_SIZE-")
is "$c" 416 "a range past the end gets 416"
c=$(code "http://$MIR/v2/app/referrers/$MIR_DIGEST")
is "$c" 200 "the referrers API answers"
is "$(jq -r '.manifests | length' "$T/body")" 0 "with an empty index"

# --- signatures --------------------------------------------------------------
run "$INLAY" keygen -o "$T/key"
start_mirror SIGNED --upstream "up=http://$UP" --store "oci:$T/store-signed" --key "$T/key.key"
run "$INLAY" verify --key "$T/key.pub" "$SIGNED/app:1"
is "$status" 0 "inlay verify --key against a mirror that signs succeeds"
diag "$(head -c 600 "$RUN_ERR")"
run "$INLAY" verify --key "$T/key.pub" "$MIR/app:1"
is "$status" 3 "and fails (exit 3) against one that does not"

# --- tag TTL: an upstream tag that moved -------------------------------------
start_mirror TTL --upstream "up=http://$UP" --store "oci:$STORE" --tag-ttl 4
push_fixture single "$UP/moving:1"
first=$(skopeo_digest "docker://$TTL/moving:1")
t_first=$(now_ms)
umoci_dir=$T/moved
cp -a "$(fixture single)" "$umoci_dir"
umoci config --image "$umoci_dir:single" --config.cmd /bin/echo --config.cmd moved >/dev/null 2>&1
sk copy -q "oci:$umoci_dir:single" "docker://$UP/moving:1" >/dev/null 2>&1
MOVED_SRC=$(layout_digest "$umoci_dir" single)
is "$(skopeo_digest "docker://$TTL/moving:1")" "$first" "within the TTL the old result is served"
sleep "$(awk -v t="$(secs_since "$t_first")" 'BEGIN { s = 4.2 - t; print (s > 0 ? s : 0) }')"
second=$(skopeo_digest "docker://$TTL/moving:1")
isnt "$second" "$first" "after the TTL the moved tag gives a new result"
run sk inspect --config "docker://$TTL/moving:1"
is "$(jq -r '.config.Labels["io.inlay.source"]' <<<"$stdout")" "$MOVED_SRC" "instrumented from the new upstream image"

# --- a tampered upstream blob ----------------------------------------------
push_fixture single "$UP/tamper:1"
start_mirror FRESH --upstream "up=http://$UP" --store "oci:$T/store-fresh"
code "http://$FRESH/v2/tamper/manifests/1" -H "Accept: application/vnd.oci.image.manifest.v1+json" >/dev/null
T_BASE=$(jq -r '.layers[0].digest' "$T/body")
T_SIZE=$(jq -r '.layers[0].size' "$T/body")
corrupt_blob "$T_BASE" UP
# Four clients at once (they may share one upstream download): each one's
# transfer ends in error short of the whole blob.
pids=()
for i in 1 2 3 4; do
	(curl -s --max-time 20 -o "$T/tampered.$i" "http://$FRESH/v2/tamper/blobs/$T_BASE"
		echo $? >"$T/tampered.$i.rc") &
	pids+=($!)
done
wait "${pids[@]}"
is "$(cat "$T"/tampered.?.rc | grep -cvx 0)" 4 "a blob whose upstream bytes are corrupt ends each of 4 concurrent clients' transfers in error"
most=$(stat -c %s "$T"/tampered.? 2>/dev/null | sort -n | tail -n 1)
ok "no client gets the whole blob (at most ${most:-0} of $T_SIZE bytes)" [ "${most:-0}" -lt "$T_SIZE" ]
ok "and it is not kept in the store" [ ! -e "$T/store-fresh/blobs/sha256/${T_BASE#sha256:}" ]
run sk copy "docker://$FRESH/tamper:1" "oci:$T/tampered-pull:1"
isnt "$status" 0 "skopeo's pull of the image with the corrupt blob fails"

# --- client auth ---------------------------------------------------------------
AUTH_PASS=pw-$RANDOM-Secret-$RANDOM
htpasswd -Bbn alice "$AUTH_PASS" >"$T/htpasswd" 2>/dev/null
start_mirror AUTH --upstream "up=http://$UP" --store "oci:$STORE" --htpasswd "$T/htpasswd"
c=$(code "http://$AUTH/v2/")
is "$c" 401 "without credentials: 401"
like "$(header WWW-Authenticate)" '^Basic realm=' "with a Basic challenge"
c=$(code "http://$AUTH/v2/app/manifests/1" -u "alice:wrong")
is "$c" 401 "wrong credentials: 401"
is "$(jq -r '.errors[0].code' "$T/body")" UNAUTHORIZED "with an UNAUTHORIZED error body"
c=$(code "http://$AUTH/v2/app/manifests/1" -u "alice:$AUTH_PASS" -H "Accept: application/vnd.oci.image.manifest.v1+json")
is "$c" 200 "right credentials: 200"
run sk copy --src-creds "alice:$AUTH_PASS" "docker://$AUTH/app:1" "oci:$T/auth-pull:1"
is "$status" 0 "skopeo pulls with credentials"
b64=$(printf 'alice:%s' "$AUTH_PASS" | base64 -w0)
ok "no credential in the access log" bash -c "! grep -q -e '$AUTH_PASS' -e '$b64' -e 'Authorization' '$AUTH_LOG'"
like "$(grep '"route":"manifest","status":200' "$AUTH_LOG" | head -n 1)" '"user":"alice"' "the log names the user"
# Its lines are JSON objects: requests (route, status), and warnings.
ok "every log line is one JSON object, a request with its route and status or a warning (jq)" bash -c \
	"grep '^{' '$AUTH_LOG' | jq -e -s 'length > 5 and all(.[]; type == \"object\" and ((has(\"route\") and (.status | type == \"number\")) or .level == \"warning\"))' >/dev/null"

# --- /metrics, read by Prometheus's own Python parser -------------------------
curl -s "http://$MIR/metrics" >"$T/metrics.txt"
run "$PYTHON" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
lat = fams["inlay_mirror_request_duration_seconds"]
count = [s.value for s in lat.samples if s.name.endswith("_count")][0]
inf = [s.value for s in lat.samples if s.labels.get("le") == "+Inf"][0]
print(len(fams), fams["inlay_mirror_instrumentations"].type, lat.type,
      int(fams["inlay_mirror_instrumentations"].samples[0].value), count == inf and count > 0)
' "$T/metrics.txt"
is "$status" 0 "/metrics parses as Prometheus text ($stderr)"
like "$stdout" '^[0-9]+ counter histogram [0-9]+ True$' "with counters and a latency histogram whose +Inf bucket is its count ($stdout)"

# --- TLS --------------------------------------------------------------------
_mk_tls "$T/tls" || bail_out "openssl: $(cat "$T/tls/openssl.log")"
start_mirror TLS --upstream "up=http://$UP" --store "oci:$STORE" \
	--tls-cert "$T/tls/server.crt" --tls-key "$T/tls/server.key"
c=$(code "https://$TLS/v2/app/manifests/1" --cacert "$T/tls/ca.crt" -H "Accept: application/vnd.oci.image.manifest.v1+json")
is "$c" 200 "over HTTPS with the server's CA"
is "$(sha256_file "$T/body")" "$MIR_DIGEST" "the same result"
c=$(code "http://$TLS/v2/")
isnt "$c" 200 "plain HTTP to the TLS port gets no answer"
run "$INLAY" copy --quiet --ca-file "$T/tls/ca.crt" "$TLS/app:1" "oci:$T/tls-copy:1"
is "$status" 0 "inlay copy from the HTTPS mirror with --ca-file"

# --- a configuration file: rules ----------------------------------------------
cat >"$T/serve.json" <<EOF
{"store": "oci:$STORE",
 "upstreams": {"up": {"url": "http://$UP"}},
 "mode": "learn",
 "rules": [{"match": "up/vendor/**", "action": "passthrough"},
           {"match": "up/prod/*", "mode": "enforce"}]}
EOF
sk copy -q "docker://$UP/app:1" "docker://$UP/vendor/tool:1" >/dev/null 2>&1
sk copy -q "docker://$UP/app:1" "docker://$UP/prod/api:1" >/dev/null 2>&1
sk copy -q "docker://$UP/app:1" "docker://$UP/dev/api:1" >/dev/null 2>&1
start_mirror CONF --config "$T/serve.json"
is "$(skopeo_digest "docker://$CONF/vendor/tool:1")" "$SRC_DIGEST" "a passthrough rule serves the upstream image unchanged"
sensor_mode() { # the mode in the sensor.json of REF's sensor layer
	local l=$T/mode-$RANDOM
	sk copy -q "docker://$1" "oci:$l:x" >/dev/null 2>&1 || return 1
	tar -xzOf "$(layout_blob "$l" "$(jq -r '.layers[-1].digest' "$(layout_blob "$l" "$(layout_digest "$l" x)")")")" \
		.inlay/sensor.json | jq -r .mode
}
is "$(sensor_mode "$CONF/prod/api:1")" enforce "a rule's mode reaches the sensor"
is "$(sensor_mode "$CONF/dev/api:1")" learn "repositories no rule names get the top-level mode"
echo '{"upstreams": {"up": {"url": "http://x"}}, "nope": 1}' >"$T/bad.json"
run "$INLAY" serve --config "$T/bad.json" --store "oci:$T/s"
is "$status" 2 "an unknown key in the configuration: exit 2"
like "$stderr" 'bad.json: unknown key "nope"' "naming the file and the key"

# --- hostile requests ------------------------------------------------------------
c=$(code "http://$MIR/v2/UPPER/manifests/1")
is "$c" 400 "an invalid repository name: 400"
is "$(jq -r '.errors[0].code' "$T/body")" NAME_INVALID "NAME_INVALID"
c=$(code "http://$MIR/v2/app/blobs/sha256:zz")
is "$c" 400 "a malformed digest: 400 DIGEST_INVALID"
c=$(code "http://$MIR/v2/app/manifests/a:b:c")
is "$c" 400 "a malformed reference: 400"
c=$(code "http://$MIR/v2/app/manifests/nosuchtag")
is "$c" 404 "an unknown tag: 404"
is "$(jq -r '.errors[0].code' "$T/body")" MANIFEST_UNKNOWN "MANIFEST_UNKNOWN"
c=$(code "http://$MIR/v2/app/blobs/sha256:$(printf '%064d' 0)")
is "$c" 404 "an unknown blob: 404 BLOB_UNKNOWN"
c=$(code "http://$MIR/v2/app/manifests/1" -X PUT --data-binary '{}')
is "$c" 405 "a PUT: 405 (the mirror is read-only)"
c=$(code "http://$MIR/v2/app/manifests/1" -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)")
ok "an oversize header is refused ($c)" [ "$c" = 431 ] || [ "$c" = 413 ]
# A slow client: half a request line, then silence; others are served meanwhile.
exec 7<>"/dev/tcp/127.0.0.1/$MIR_PORT"
printf 'GET /v2/ HTTP/1.1\r\nHost: x\r\n' >&7
c=$(code "http://$MIR/v2/app/manifests/1" -H "Accept: application/vnd.oci.image.manifest.v1+json")
is "$c" 200 "a stalled client does not stop other requests"
exec 7>&-

# --- tag lists, with pagination -------------------------------------------
for t in a b c; do sk copy -q "docker://$UP/app:1" "docker://$UP/paged:$t" >/dev/null 2>&1; done
c=$(code "http://$MIR/v2/paged/tags/list?n=2")
is "$c" 200 "a tag list through the mirror"
is "$(jq -c '[.name, .tags]' "$T/body")" '["paged",["a","b"]]' "gives the upstream's first page under the client's name"
like "$(header Link)" '^</v2/paged/tags/list\?n=2&last=b>; rel="next"' "with a Link to the next page"
c=$(code "http://$MIR/v2/paged/tags/list?n=2&last=b")
is "$(jq -c .tags "$T/body")" '["c"]' "whose page holds the rest"
is "$(header Link)" "" "and no further link"
run sk list-tags "docker://$MIR/paged"
is "$(jq -c .Tags <<<"$stdout")" '["a","b","c"]' "skopeo list-tags through the mirror"
c=$(code "http://$MIR/v2/paged/tags/list?n=0")
is "$c" 400 "a bad page size: 400"

# --- upstream down ---------------------------------------------------------------
stop_registry UP
c=$(code "http://$MIR2/v2/app/manifests/2")
is "$c" 503 "upstream down: a tag gets 503"
is "$(jq -r '.errors[0].code' "$T/body")" UNAVAILABLE "with an UNAVAILABLE error body"
like "$(jq -r '.errors[0].message' "$T/body")" "$UP" "naming the upstream"
c=$(code "http://$MIR2/v2/app/manifests/$MIR_DIGEST")
is "$c" 200 "the last good result is still served by digest"
run sk copy "docker://$MIR2/app@$MIR_DIGEST" "oci:$T/down:1"
is "$status" 0 "and pulls whole from the store"

# --- graceful shutdown -------------------------------------------------------
BIG=$(jq -r '.layers[0].digest' "$T/m.json")
curl -s --limit-rate 400k -o "$T/slow" "http://$MIR/v2/app/blobs/$BIG" &
slow=$!
sleep 0.5
kill -TERM "$MIR_PID"
wait "$slow"
is "$?" 0 "SIGTERM lets a pull in flight finish"
is "$(sha256_file "$T/slow")" "$BIG" "with every byte"
for ((i = 0; i < 50; i++)); do kill -0 "$MIR_PID" 2>/dev/null || break; sleep 0.1; done
ok "then the mirror exits" bash -c "! kill -0 $MIR_PID 2>/dev/null"
_untrack_pid "$MIR_PID"
like "$(cat "$MIR_LOG")" "SIGTERM: finishing" "saying so"

done_testing
