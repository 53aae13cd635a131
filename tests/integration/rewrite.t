#!/bin/bash
# rewrite.t - `inlay rewrite` on realistic specs against a real registry:
# golden files for Kubernetes (a helm-style stream with anchors, comments,
# odd quoting, a CronJob pinned to arm64, a List), Cloud Run, ECS (register
# input and describe output), ACI and a kubectl JSON List; the outputs read
# back by real models (botocore's ECS API model, python3-yaml, kubectl
# kustomize); a rewritten Deployment run under runc with the pod's own
# command; --check as a gate; and bad input that writes nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runc.sh"
require_inlay
require_tools skopeo umoci runc jq kubectl /usr/bin/python3
[ "$(id -u)" -eq 0 ] || bail_out "runs as root (umoci unpack, runc)"
/usr/bin/python3 -c 'import yaml, botocore' 2>/dev/null ||
	bail_out "Debian's python3-yaml and python3-botocore are needed: run 'make deps'"

DATA=$(cd "$(dirname "$0")/../data/rewrite" && pwd)
start_registry open
start_registry open REG2
fixtures_build single multi
push_fixture single "$REG/app:1"
push_fixture multi "$REG/multi:1"
"$INLAY" keygen -o "$T/k" >/dev/null 2>&1 || bail_out "keygen"
"$INLAY" keygen -o "$T/other" >/dev/null 2>&1 || bail_out "keygen"
K=$T/k.key

# The digests a rewrite must pin, computed independently by `inlay
# instrument` (deterministic: same source, options and key, same digest).
expect() { instrumented_digest "$K" "$2" "$REG/expect:$1" "${@:3}"; } # NAME SRC [ARGS]
APP=$(expect app "$REG/app:1")
MULTI=$(expect multi "$REG/multi:1")
MULTI_ARM64=$(expect multi-arm64 "$REG/multi:1" --platform linux/arm64)
MULTI_AMD64=$(expect multi-amd64 "$REG/multi:1" --platform linux/amd64)
like "$APP$MULTI$MULTI_ARM64$MULTI_AMD64" '^(sha256:[0-9a-f]{64}){4}$' "four expected digests"
isnt "$MULTI_ARM64" "$MULTI" "the arm64-only result differs from the whole index's"

# fill FILE: the test's registry and the expected digests in a data file.
fill() {
	sed -e "s|@REG@|$REG|g" -e "s|@APP@|$APP|g" -e "s|@MULTI_ARM64@|$MULTI_ARM64|g" \
		-e "s|@MULTI_AMD64@|$MULTI_AMD64|g" -e "s|@MULTI@|$MULTI|g" "$1"
}

# --- golden files -----------------------------------------------------------
for spec in stream.yaml cloudrun.yaml ecs-register.json ecs-describe.json aci.yaml list.json; do
	base=${spec%.*}
	ext=${spec##*.}
	fill "$DATA/$spec" >"$T/$spec"
	fill "$DATA/$base.expected.$ext" >"$T/$base.want.$ext"
	run "$INLAY" rewrite --quiet --key "$K" "$T/$spec" -o "$T/$base.out.$ext"
	is "$status" 0 "rewrite $spec"
	run cmp "$T/$base.want.$ext" "$T/$base.out.$ext"
	is "$status" 0 "$spec: the output is the golden file byte for byte"
	[ "$status" -eq 0 ] || diag "$(diff "$T/$base.want.$ext" "$T/$base.out.$ext" | head -20)"
	# Only image and override lines differ from the input (a folded image
	# scalar's value sits on a line of its own).
	other=$(diff "$T/$spec" "$T/$base.out.$ext" | grep '^[<>]' |
		grep -vE "image|command|entryPoint|/\\.inlay/sensor|^> +(- )?\"?--\"?,?\$|^< +$REG/app:1\$" | head -3)
	is "$other" "" "$spec: the diff touches only image and entrypoint lines"
done
cp "$T/stream.yaml" "$T/stream.stdin"
run sh -c "'$INLAY' rewrite --quiet --key '$K' - <'$T/stream.stdin'"
is "$stdout" "$(cat "$T/stream.out.yaml")" "the same from standard input to standard output"

# Every pinned result is there, signed, and verifies.
for d in "$REG/app@$APP" "$REG/multi@$MULTI" "$REG/multi@$MULTI_ARM64" "$REG/multi@$MULTI_AMD64"; do
	run "$INLAY" verify --quiet --key "$T/k.pub" "$d"
	is "$status" 0 "inlay verify $d"
done
run skopeo inspect --tls-verify=false --raw "docker://$REG/multi@$MULTI_ARM64"
is "$(echo "$stdout" | jq -r '[.manifests[] | .platform.architecture] | join(",")')" "arm64" \
	"the CronJob's arm64 result holds the arm64 image only"

# --- read back by real models -----------------------------------------------
cat >"$T/ecs_validate.py" <<'EOF'
import json, sys
import botocore.session
from botocore.validate import validate_parameters
shape = botocore.session.get_session().get_service_model("ecs") \
    .operation_model("RegisterTaskDefinition").input_shape
doc = json.load(open(sys.argv[1]))
if "taskDefinition" in doc:  # describe output: drop what only AWS sets
    doc = {k: v for k, v in doc["taskDefinition"].items() if k not in (
        "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
        "registeredAt", "registeredBy", "deregisteredAt")}
validate_parameters(doc, shape)
print(doc["containerDefinitions"][0]["image"], doc["containerDefinitions"][0]["entryPoint"][0])
EOF
run /usr/bin/python3 "$T/ecs_validate.py" "$T/ecs-register.out.json"
is "$status:$stdout" "0:$REG/multi@$MULTI_ARM64 /.inlay/sensor" \
	"the rewritten register-task-definition input validates against botocore's ECS model"
run /usr/bin/python3 "$T/ecs_validate.py" "$T/ecs-describe.out.json"
is "$status" 0 "the rewritten describe-task-definition output validates too"
echo '{"family": "x", "containerDefinitions": [{"name": "a", "image": 7}]}' >"$T/bad-ecs.json"
run /usr/bin/python3 "$T/ecs_validate.py" "$T/bad-ecs.json"
isnt "$status" 0 "(the validator does refuse a wrong task definition)"

run /usr/bin/python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
c = docs[0]["spec"]["template"]["spec"]["containers"]
print(len(docs), c[0]["image"], " ".join(c[1]["command"]))' "$T/stream.out.yaml"
is "$status:$stdout" "0:4 $REG/app@$APP /.inlay/sensor -- /bin/sh -c" \
	"python3-yaml reads the rewritten stream: 4 documents, pinned image, sensor first"
mkdir -p "$T/kz"
cp "$T/stream.out.yaml" "$T/cloudrun.out.yaml" "$T/list.out.json" "$T/kz/"
printf 'resources:\n- stream.out.yaml\n- cloudrun.out.yaml\n- list.out.json\n' >"$T/kz/kustomization.yaml"
run kubectl kustomize "$T/kz"
is "$status" 0 "kubectl kustomize accepts the rewritten Kubernetes and Cloud Run specs"
like "$stdout" "image: $REG/multi@$MULTI_AMD64" "kubectl reads the StatefulSet's amd64 image"

# --- a second run changes nothing and pushes nothing ------------------------
run "$INLAY" rewrite --quiet --key "$K" --json "$T/stream.out.yaml" -o "$T/stream.again.yaml"
is "$status" 0 "rewrite its own output"
is "$(jq '[.containers[] | select(.pushed)] | length' <<<"$stdout")" 0 \
	"the second run pushes nothing (the results are found at their destination)"
run cmp "$T/stream.out.yaml" "$T/stream.again.yaml"
is "$status" 0 "rewriting the output again gives the same bytes"
run "$INLAY" rewrite --quiet --key "$K" --json "$T/stream.yaml" -o "$T/stream.third.yaml"
is "$(jq -r '[.containers[] | .pushed] | any' <<<"$stdout"):$(jq '.containers | length' <<<"$stdout")" \
	"false:8" "from the tags again: 8 containers resolved, nothing pushed"

# --- the pod's own command runs under the sensor (runc) ---------------------
mapfile -t L < <(/usr/bin/python3 -c '
import sys, yaml
c = list(yaml.safe_load_all(open(sys.argv[1])))[0]["spec"]["template"]["spec"]["containers"][0]
print("\n".join([c["image"]] + c["command"] + c.get("args", [])))' "$T/stream.out.yaml")
IMG=${L[0]}
ARGV=("${L[@]:1}")
is "$IMG" "$REG/app@$APP" "the runnable Deployment's image"
unpack_image "docker://$IMG" "$T/bundle" || bail_out "unpack $IMG"
bundle_args "$T/bundle" "${ARGV[@]}"
run_bundle "$T/bundle"
is "$status:$stdout" "7:hi" "the rewritten pod's command runs: output hi, exit 7"
bundle_args "$T/bundle" "${ARGV[@]:0:2}" /bin/sh -c 'tr "\0" " " </proc/1/cmdline'
run_bundle "$T/bundle"
like "$stdout" "^/.inlay/sensor -- /bin/sh" "with the rewritten override the sensor is PID 1"
bundle_args "$T/bundle" /bin/sh -c 'tr "\0" " " </proc/1/cmdline; exit 7'
run_bundle "$T/bundle"
is "$status:$stdout" "7:/bin/sh -c tr \"\\0\" \" \" </proc/1/cmdline; exit 7 " \
	"with the original override the sensor would not have run (PID 1 is the shell)"

# --- --registry-map ---------------------------------------------------------
fill "$DATA/cloudrun.yaml" >"$T/map.yaml"
run "$INLAY" rewrite --quiet --key "$K" --registry-map "$REG=$REG2/mirror" "$T/map.yaml"
like "$stdout" "image: $REG2/mirror/app@$APP" "--registry-map sends the result to another registry"
run skopeo inspect --tls-verify=false "docker://$REG2/mirror/app@$APP"
is "$status" 0 "and it is there"
run skopeo inspect --tls-verify=false --raw "docker://$REG2/mirror/app:1-inlay"
is "$status" 0 "tagged <tag>-inlay, so the registry keeps it"

# --- --check ----------------------------------------------------------------
run "$INLAY" rewrite --check --key "$T/k.pub" "$T/stream.out.yaml" "$T/ecs-register.out.json" "$T/aci.out.yaml"
is "$status" 0 "--check accepts the rewrite's own output"
run "$INLAY" rewrite --check --key "$T/k.pub" "$T/stream.yaml"
is "$status" 3 "--check refuses unpinned images: exit 3"
is "$(grep -c 'not pinned' <<<"$stdout")" 8 "one line per container (8)"
like "$stdout" "stream.yaml: document 3 \\(CronJob nightly\\): spec.jobTemplate.spec.template.spec.initContainers\\[0\\] \\(prep\\): $REG/multi:1: not pinned" \
	"a line names the file, document, container and image"
PLAIN=$(skopeo_digest "docker://$REG/app:1")
sed "s|$REG/app@$APP|$REG/app@$PLAIN|" "$T/cloudrun.out.yaml" >"$T/uninstrumented.yaml"
run "$INLAY" rewrite --check --key "$T/k.pub" "$T/uninstrumented.yaml"
is "$status" 3 "--check refuses an uninstrumented digest"
like "$stdout" "not instrumented" "saying it is not instrumented"
"$INLAY" instrument --quiet --key "$T/other.key" "$REG/app:1" "$REG/otherkey:1" >"$T/other.ref" 2>/dev/null
sed "s|$REG/app@$APP|$(cat "$T/other.ref")|" "$T/cloudrun.out.yaml" >"$T/otherkey.yaml"
run "$INLAY" rewrite --check --key "$T/k.pub" "$T/otherkey.yaml"
is "$status" 3 "--check refuses an image signed by another key"
like "$stdout" "bad signature|wrong key" "saying the key is wrong"
sed 's|- /.inlay/sensor||; s|^        - --$||' "$T/cloudrun.out.yaml" | grep -v '^$' >"$T/bypass.yaml"
run "$INLAY" rewrite --check --key "$T/k.pub" "$T/bypass.yaml"
is "$status:$(grep -c . <<<"$stdout")" "3:1" "--check refuses an override that bypasses the sensor"
like "$stdout" "command overrides the entrypoint without the sensor" "and says so"
run "$INLAY" rewrite --check --key "$T/k.pub" --json "$T/stream.yaml"
is "$status:$(jq '[.containers[] | select(.finding | startswith("not pinned"))] | length' <<<"$stdout")" "3:8" \
	"--check --json on unpinned images: exit 3, stdout one JSON report with 8 findings"
run "$INLAY" rewrite --check --key "$T/k.pub" --json "$T/stream.out.yaml"
is "$(jq -r '[.containers[] | .finding == "" and (.entrypoint_override == false or .entrypoint_starts_sensor)] | all' <<<"$stdout")" \
	true "--check --json: every container clean, with the fields a script reads"

# --- bad input: a clear error, and nothing written --------------------------
printf 'apiVersion: v1\nkind: Pod\nspec: {containers: [\n' >"$T/broken.yaml"
run "$INLAY" rewrite --quiet "$T/broken.yaml" -o "$T/broken.out"
is "$status" 2 "malformed YAML: exit 2"
like "$stderr" "broken.yaml: line [0-9]+" "naming the file and the line"
not_ok "no output file" test -e "$T/broken.out"
printf '{"family": "x", "containerDefinitions": [{"name": "a", "image": "a"},]}\n' >"$T/broken.json"
run "$INLAY" rewrite --quiet "$T/broken.json"
is "$status" 2 "malformed JSON: exit 2"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: %s, command: "echo"}\n' \
	"$REG/app:1" >"$T/badtype.yaml"
run "$INLAY" rewrite --quiet "$T/badtype.yaml"
is "$status" 2 "a command that is no list: exit 2"
like "$stderr" "Pod p.*containers\\[0\\] \\(c\\).*command must be a list" "naming the document, container and field"
run "$INLAY" rewrite --quiet "$DATA/../../../README.md"
is "$status" 2 "a file that is no spec: exit 2"
fill "$DATA/cloudrun.yaml" | sed "s|$REG/app:1|$REG/nosuch:1|" >"$T/missing.yaml"
cp "$T/missing.yaml" "$T/missing.orig"
run "$INLAY" rewrite --quiet --in-place "$T/missing.yaml"
is "$status" 1 "an image that does not exist: exit 1"
like "$stderr" "missing.yaml: document 1 \\(Service hello\\): spec.template.spec.containers\\[0\\]: image $REG/nosuch:1: " \
	"naming the file, document, container and image"
run cmp "$T/missing.yaml" "$T/missing.orig"
is "$status" 0 "--in-place leaves the file as it was"
is "$(ls -a "$T" | grep -c 'inlay-')" 0 "and no temporary file behind"
fill "$DATA/cloudrun.yaml" | sed "s|$REG/app:1|127.0.0.1:$(free_port)/app:1|" >"$T/down.yaml"
run "$INLAY" rewrite --quiet "$T/down.yaml" -o "$T/down.out"
is "$status" 1 "a registry that is down: exit 1"
not_ok "no output file" test -e "$T/down.out"
run "$INLAY" rewrite --quiet --check "$T/stream.yaml"
is "$status" 2 "--check without --key: usage error"

# --in-place on a good file rewrites it and keeps its mode.
fill "$DATA/aci.yaml" >"$T/inplace.yaml"
chmod 0640 "$T/inplace.yaml"
run "$INLAY" rewrite --quiet --key "$K" --in-place "$T/inplace.yaml"
is "$status:$(stat -c %a "$T/inplace.yaml")" "0:640" "--in-place rewrites the file, mode kept"
run cmp "$T/inplace.yaml" "$T/aci.want.yaml"
is "$status" 0 "with the golden content"

done_testing
