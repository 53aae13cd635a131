#!/bin/bash
# admission.t - `inlay serve --admission`, the Kubernetes admission webhooks,
# over HTTPS as the API server calls them (curl with the webhook's CA),
# against a real registry: the mutating patch applied by kubectl (the same
# JSON patch library as the API server) equals what `inlay rewrite` writes;
# platforms from nodeSelector; dryRun pushes nothing; the validating answer is
# what `rewrite --check` decides; UPDATE judges only what it changes; a slow
# registry gets a denial within the timeout while the work goes on, and
# concurrent requests for one image instrument it once; hostile bodies and
# client auth.
. "$(dirname "$0")/lib.sh"
require_inlay
require_tools skopeo jq curl kubectl htpasswd base64
PYTHON=${PYTHON:-python3}

start_registry open
fixtures_build single multi
push_fixture single "$REG/app:1"
push_fixture single "$REG/slow:1"
push_fixture multi "$REG/multi:1"
SRC_DIGEST=$(fixture_digest single)
"$INLAY" keygen -o "$T/k" >/dev/null 2>&1 || bail_out "keygen"
"$INLAY" keygen -o "$T/other" >/dev/null 2>&1 || bail_out "keygen"
K=$T/k.key

# The digests the webhook must pin, made independently by `inlay instrument`.
expect() { instrumented_digest "$K" "$2" "$REG/expect:$1" "${@:3}"; } # NAME SRC [ARGS]
APP=$(expect app "$REG/app:1")
MULTI_ARM64=$(expect multi-arm64 "$REG/multi:1" --platform linux/arm64)
like "$APP$MULTI_ARM64" '^(sha256:[0-9a-f]{64}){2}$' "two expected digests"

_mk_tls "$T/tls" || bail_out "openssl: $(cat "$T/tls/openssl.log")"
TLS_ARGS=(--tls-cert "$T/tls/server.crt" --tls-key "$T/tls/server.key")
start_mirror HOOK --admission --key "$K" "${TLS_ARGS[@]}"
like "$(cat "$HOOK_LOG")" "admission webhooks on /admission/mutate" "a webhook-only server starts (no upstream, no store)"

# review FILE OPERATION OBJECT [OLD] [DRYRUN]: an AdmissionReview v1 request.
review() {
	local uid
	uid=$(cat /proc/sys/kernel/random/uuid)
	jq -n --arg uid "$uid" --arg op "$2" --argjson obj "$3" --argjson old "${4:-null}" \
		--argjson dry "${5:-false}" \
		'{apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
		  request: {uid: $uid, kind: {group: "", version: "v1", kind: $obj.kind},
			    resource: {group: "", version: "v1", resource: "pods"},
			    operation: $op, userInfo: {username: "test"}, object: $obj,
			    oldObject: $old, dryRun: $dry}}' >"$1"
}
# post PATH FILE [URL] [CURL ARGS]: POST it; the status code on stdout, the
# body in $RESP (default $T/resp).
post() {
	local path=$1 file=$2 url=${3:-$HOOK_URL}
	shift 3 2>/dev/null || shift $#
	curl -s --noproxy '*' --max-time 30 --cacert "$T/tls/ca.crt" -o "${RESP:-$T/resp}" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "@$file" "$@" "$url$path"
}
patch_of() { jq -r '.response.patch // empty' "$T/resp" | base64 -d; }

POD='{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
  "spec": {"initContainers": [{"name": "init", "image": "'$REG'/app:1"}],
	   "containers": [{"name": "app", "image": "'$REG'/app:1",
			   "command": ["sh", "-c", "echo hi"], "args": ["x"]}]}}'

# --- mutate -----------------------------------------------------------------
review "$T/pod.json" CREATE "$POD"
c=$(post /admission/mutate "$T/pod.json")
is "$c" 200 "mutate answers 200"
is "$(jq -r .apiVersion "$T/resp")/$(jq -r .kind "$T/resp")" "admission.k8s.io/v1/AdmissionReview" \
	"with an AdmissionReview v1"
is "$(jq -r .response.uid "$T/resp")" "$(jq -r .request.uid "$T/pod.json")" "the request's uid"
is "$(jq -r .response.allowed "$T/resp")" true "allowed"
is "$(jq -r .response.patchType "$T/resp")" JSONPatch "with a JSONPatch"
patch_of >"$T/patch.json"
is "$(jq -c 'sort_by(.path)' "$T/patch.json")" \
	"$(jq -nc --arg a "$REG/app@$APP" '[
	  {op: "replace", path: "/spec/containers/0/command", value: ["/.inlay/sensor", "--", "sh", "-c", "echo hi"]},
	  {op: "replace", path: "/spec/containers/0/image", value: $a},
	  {op: "replace", path: "/spec/initContainers/0/image", value: $a}] | sort_by(.path)')" \
	"the patch pins both images to the instrumented digest and puts the sensor before the command"

# kubectl applies the patch as the API server would; the result is what
# `inlay rewrite` makes of the same object.
jq .request.object "$T/pod.json" >"$T/pod.obj.json"
run kubectl patch --local -f "$T/pod.obj.json" --type json --patch-file "$T/patch.json" -o json
is "$status" 0 "kubectl applies the patch"
echo "$stdout" >"$T/patched.json"
run "$INLAY" rewrite --quiet --key "$K" "$T/pod.obj.json" -o "$T/rewritten.json"
is "$status" 0 "inlay rewrite of the same object"
is "$(jq -S . "$T/patched.json")" "$(jq -S . "$T/rewritten.json")" "patched object == rewritten file"
is "$(jq -c .spec.containers[0].args "$T/patched.json")" '["x"]' "args untouched"

# An override that already starts the sensor, an empty one: images only.
review "$T/has.json" CREATE "$(jq '.spec.containers[0].command = ["/.inlay/sensor", "--", "sh"] |
	.spec.initContainers[0].command = []' <<<"$POD")"
post /admission/mutate "$T/has.json" >/dev/null
is "$(patch_of | jq -r '[.[].path] | sort | join(" ")')" \
	"/spec/containers/0/image /spec/initContainers/0/image" "overrides with the sensor, or empty, stay"

# A Deployment whose pods run on arm64: the arm64-only result.
DEPLOY='{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "arm"},
  "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
	   "spec": {"nodeSelector": {"kubernetes.io/arch": "arm64"},
		    "containers": [{"name": "m", "image": "'$REG'/multi:1"}]}}}}'
review "$T/deploy.json" CREATE "$DEPLOY"
post /admission/mutate "$T/deploy.json" >/dev/null
is "$(patch_of | jq -c .)" \
	"$(jq -nc --arg v "$REG/multi@$MULTI_ARM64" '[{op: "replace", path: "/spec/template/spec/containers/0/image", value: $v}]')" \
	"a Deployment on arm64 nodes gets the arm64 result"

# Kinds without containers, DELETE: allowed, nothing patched.
review "$T/svc.json" CREATE '{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}}'
post /admission/mutate "$T/svc.json" >/dev/null
is "$(jq -c '.response | [.allowed, .patch]' "$T/resp")" '[true,null]' "a Service passes untouched"
review "$T/del.json" DELETE null "$POD"
post /admission/mutate "$T/del.json" >/dev/null
is "$(jq -c '.response | [.allowed, .patch]' "$T/resp")" '[true,null]' "a DELETE passes untouched"

# A request as the API reference shows one (every field of AdmissionRequest:
# requestKind, userInfo with extra, options): the same patch.
sed "s|@REGISTRY@|$REG|g" "$(dirname "$0")/../data/admission/review-pod-create.json" >"$T/ref.json"
c=$(post /admission/mutate "$T/ref.json")
is "$c/$(jq -r '.response | "\(.uid) \(.allowed)"' "$T/resp")" "200/705ab4f5-6393-11e8-b7cc-42010a800002 true" \
	"the API reference's AdmissionReview is answered, its uid echoed"
is "$(patch_of | jq -c 'sort_by(.path)')" \
	"$(jq -nc --arg a "$REG/app@$APP" '[
	  {op: "replace", path: "/spec/containers/0/image", value: $a},
	  {op: "replace", path: "/spec/containers/1/command", value: ["/.inlay/sensor", "--", "/bin/sh", "-c", "exec tail -f /dev/null"]},
	  {op: "replace", path: "/spec/containers/1/image", value: $a}] | sort_by(.path)')" \
	"its patch pins both containers and puts the sensor before the sidecar's command"

# --- dryRun: the digest a run would make, nothing pushed ----------------------
push_fixture single "$REG/dry:1"
DRY_WANT=$(expect dry "$REG/dry:1") # the source's name is in the result (io.inlay.source)
review "$T/dry.json" CREATE "$(jq --arg i "$REG/dry:1" '.spec.containers[0].image = $i | del(.spec.initContainers)' <<<"$POD")" null true
post /admission/mutate "$T/dry.json" >/dev/null
is "$(jq -r .response.allowed "$T/resp")" true "a dry run is allowed"
DRY=$(patch_of | jq -r '.[] | select(.path == "/spec/containers/0/image") | .value')
is "$DRY" "$REG/dry@$DRY_WANT" "and names the digest a run makes"
run skopeo inspect --tls-verify=false --raw "docker://$REG/dry:1-inlay"
isnt "$status" 0 "nothing was pushed for the dry run"

# --- validate -----------------------------------------------------------------
review "$T/good.json" CREATE "$(cat "$T/patched.json")"
c=$(post /admission/validate "$T/good.json")
is "$c" 200 "validate answers 200"
is "$(jq -r .response.allowed "$T/resp")" true "the patched pod is allowed"
is "$(jq -r '.response.patch // "none"' "$T/resp")" none "validate patches nothing"
run "$INLAY" rewrite --check --key "$T/k.pub" "$T/patched.json"
is "$status" 0 "rewrite --check agrees"

post /admission/validate "$T/pod.json" >/dev/null
is "$(jq -r .response.allowed "$T/resp")" false "the original pod is denied"
is "$(jq -r .response.status.code "$T/resp")" 403 "with 403"
MSG=$(jq -r .response.status.message "$T/resp")
like "$MSG" "containers\\[0\\] \\(app\\).*not pinned" "naming the container and what is wrong"
like "$MSG" "command overrides the entrypoint without the sensor" "and the override that bypasses the sensor"
like "$MSG" "initContainers\\[0\\] \\(init\\)" "and the init container"
run "$INLAY" rewrite --check --key "$T/k.pub" "$T/pod.obj.json"
is "$status" 3 "rewrite --check agrees"

review "$T/plain.json" CREATE "$(jq --arg i "$REG/app@$SRC_DIGEST" '.spec.containers[0].image = $i |
	.spec.containers[0].command = ["/.inlay/sensor", "--", "sh"] | del(.spec.initContainers)' <<<"$POD")"
post /admission/validate "$T/plain.json" >/dev/null
like "$(jq -r .response.status.message "$T/resp")" "not instrumented|no sensor" "a pinned image without the sensor is denied"

start_mirror OTHER --admission --key "$K" --admission-key "$T/other.pub" "${TLS_ARGS[@]}"
post /admission/validate "$T/good.json" "$OTHER_URL" >/dev/null
is "$(jq -r .response.allowed "$T/resp")" false "signed, but not by the --admission-key: denied"
like "$(jq -r .response.status.message "$T/resp")" "signature" "because of the signature"

# --- UPDATE: only what changes is judged ----------------------------------------
review "$T/upd.json" UPDATE "$(jq '.metadata.labels = {"x": "y"}' <<<"$POD")" "$POD"
post /admission/mutate "$T/upd.json" >/dev/null
is "$(jq -c '.response | [.allowed, .patch]' "$T/resp")" '[true,null]' \
	"a label change on an old pod: nothing patched (its command cannot change)"
post /admission/validate "$T/upd.json" >/dev/null
is "$(jq -r .response.allowed "$T/resp")" true "and validate lets it be"
review "$T/upd2.json" UPDATE "$(jq --arg i "$REG/app:1" '.spec.containers[0].image = $i' "$T/patched.json")" "$(cat "$T/patched.json")"
post /admission/mutate "$T/upd2.json" >/dev/null
is "$(patch_of | jq -c '[.[].path]')" '["/spec/containers/0/image"]' "a changed image is pinned again, the command left as it is"
post /admission/validate "$T/upd2.json" >/dev/null
like "$(jq -r .response.status.message "$T/resp")" "containers\\[0\\] \\(app\\).*not pinned" "validate judges the changed image"

# --- slow registry: an answer within the timeout; the work goes on ------------
: >"$T/proxy.log"
setsid "$PYTHON" "$LIB_DIR/faultproxy.py" --upstream "$REG" --port-file "$T/proxy.port" \
	--log "$T/proxy.log" --delay 0.25 >"$T/proxy.err" 2>&1 </dev/null &
_track_pid $! "$T/proxy.err"
for ((i = 0; i < 100; i++)); do [ -s "$T/proxy.port" ] && break; sleep 0.05; done
SLOW=127.0.0.1:$(cat "$T/proxy.port")
SLOW_WANT=$(expect slow "$SLOW/slow:1")
start_mirror SLOWHOOK --admission --key "$K" --admission-timeout 1 "${TLS_ARGS[@]}"
SLOWPOD=$(jq --arg i "$SLOW/slow:1" '.spec.containers[0].image = $i | del(.spec.initContainers)' <<<"$POD")
for n in 1 2 3 4 5; do review "$T/slow$n.json" CREATE "$SLOWPOD"; done
t0=$(now_ms)
pids=()
for n in 1 2 3 4 5; do
	RESP=$T/slow$n.resp post /admission/mutate "$T/slow$n.json" "$SLOWHOOK_URL" >"$T/slow$n.code" &
	pids+=($!)
done
wait "${pids[@]}"
ms=$(($(now_ms) - t0))
ok "five concurrent requests answered within the 1 s timeout (${ms} ms)" test "$ms" -lt 2500
is "$(cat "$T"/slow?.code)" 200200200200200 "each of the five gets an answer"
is "$(jq -r .response.allowed "$T"/slow?.resp | sort -u | tr '\n' ' ')" "false " "an image still being instrumented is denied, to all five"
like "$(jq -r .response.status.message "$T/slow3.resp")" "still being instrumented.*retry" "saying the work goes on"
got=""
for ((i = 0; i < 60; i++)); do
	post /admission/mutate "$T/slow1.json" "$SLOWHOOK_URL" >/dev/null
	[ "$(jq -r .response.allowed "$T/resp")" = true ] && { got=$(patch_of | jq -r '.[0].value'); break; }
	sleep 0.5
done
is "$got" "$SLOW/slow@$SLOW_WANT" "a retry gets the result the work made meanwhile"
is "$(grep -c '^PUT /v2/slow/manifests/1-inlay ' "$T/proxy.log")" 1 \
	"the result was pushed once for all the requests"
before=$(wc -l <"$T/proxy.log")
post /admission/mutate "$T/slow2.json" "$SLOWHOOK_URL" >/dev/null
is "$(jq -r .response.allowed "$T/resp")" true "another pod of the same image"
is "$(wc -l <"$T/proxy.log")" "$before" "is answered from the cache, with no registry request"

# A registry that is down: denied with the image named, in time.
stop_registry
review "$T/down.json" CREATE "$(jq --arg i "$REG/gone:1" '.spec.containers[0].image = $i | del(.spec.initContainers)' <<<"$POD")"
post /admission/mutate "$T/down.json" >/dev/null
is "$(jq -r .response.allowed "$T/resp")" false "an image that cannot be resolved is denied"
like "$(jq -r .response.status.message "$T/resp")" "containers\\[0\\] \\(app\\): image $REG/gone:1" "naming container and image"

# --- hostile and wrong requests ------------------------------------------------------
printf '{"apiVersion":' >"$T/bad.json"
c=$(post /admission/mutate "$T/bad.json")
is "$c" 400 "malformed JSON: 400"
like "$(jq -r .error "$T/resp")" "not JSON" "saying so"
jq '.apiVersion = "admission.k8s.io/v1beta1"' "$T/pod.json" >"$T/beta.json"
c=$(post /admission/mutate "$T/beta.json")
is "$c" 400 "v1beta1: 400"
like "$(jq -r .error "$T/resp")" 'admissionReviewVersions' "telling what to configure"
jq 'del(.request.uid)' "$T/pod.json" >"$T/nouid.json"
is "$(post /admission/mutate "$T/nouid.json")" 400 "no uid: 400"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T/big.json"
is "$(post /admission/mutate "$T/big.json")" 413 "a body over 8 MiB: 413"
is "$(post /admission/nothing "$T/pod.json")" 405 "POST elsewhere: 405"
c=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/tls/ca.crt" "$HOOK_URL/v2/")
is "$c" 404 "a webhook-only server mirrors nothing"
like "$(grep '"route":"post"' "$HOOK_LOG" | head -n 1)" '"path":"/admission/mutate"' "the access log names the endpoint"

htpasswd -Bbc "$T/htpasswd" api secret-pass >/dev/null 2>&1
start_mirror AUTHHOOK --admission --key "$K" --htpasswd "$T/htpasswd" "${TLS_ARGS[@]}"
is "$(post /admission/mutate "$T/svc.json" "$AUTHHOOK_URL")" 401 "client auth: 401 without credentials"
is "$(post /admission/mutate "$T/svc.json" "$AUTHHOOK_URL" -u api:secret-pass)" 200 "200 with them"

done_testing
