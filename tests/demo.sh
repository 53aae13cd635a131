#!/bin/bash
# demo.sh BUILD_DIR - show what inlay does, step by step, against a registry
# started here on loopback (make demo). Nothing leaves the machine and
# everything it starts or writes is removed at the end.
#
# Push a busybox image into a local registry, inspect it, copy it (blobs are
# mounted, digests kept), instrument it in place, check the result with
# skopeo, and run the instrumented image with runc: the app's output, its
# exit code, and the sensor's events; then a binary dropped at run time, in
# monitor mode (reported) and enforce mode (denied).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
INLAY=$BUILD/inlay
LIB_NO_TAP=1
. "$(cd "$(dirname "$0")" && pwd)/integration/lib.sh"

bold=
plain=
if [ -t 1 ]; then
	bold=$(printf '\033[1m')
	plain=$(printf '\033[0m')
fi
n=0

# step TEXT: a numbered heading.
step() {
	n=$((n + 1))
	printf '\n%s== %d. %s%s\n' "$bold" "$n" "$*" "$plain"
}

# show CMD...: print the command, run it, indent its output; stop on failure.
show() {
	printf '$ %s\n' "$(_quote "$@" | sed "s|$T|\$TMP|g")"
	"$@" >"$T/demo.out" 2>&1
	local rc=$?
	sed -e "s|$T|\$TMP|g" -e 's/^/    /' "$T/demo.out" | head -n 60
	if [ "$rc" -ne 0 ]; then
		printf '\ndemo: that step failed (exit status %d); stopping.\n' "$rc" >&2
		exit 1
	fi
}

say() {
	printf '%s\n' "$*" | fold -s -w 96
}

if [ ! -x "$INLAY" ]; then
	echo "demo: no inlay binary at $INLAY; build it with 'make' first" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run it as root (umoci unpack and runc need it)" >&2
	exit 1
fi
require_tools skopeo umoci runc jq docker-registry

say "inlay demo: everything runs on 127.0.0.1, in $T, removed at the end."

step "Build the test image from Debian's busybox-static (cached in build/fixtures)"
t0=$(now_ms)
fixtures_build single
say "A linux/amd64 OCI image with three layers: busybox, a few /etc files, and" \
	"/usr/local/bin/hello (its command). Ready in $(secs_since "$t0") s."

step "Start a private registry (Debian's docker-registry, Distribution 2.8)"
start_registry open
say "Registry at http://$REG (storage in \$TMP, access log in \$TMP/.../registry.log)."

SRC=$REG/demo/busybox:1.0
DST=$REG/demo/busybox-copy:1.0
step "Push the image with skopeo, as any CI job would"
show skopeo --policy "$_SK_POLICY" copy -q --dest-tls-verify=false --preserve-digests \
	"$(fixture_ref single)" "docker://$SRC"
DIGEST=$(skopeo_digest "docker://$SRC")
say "The registry now holds $SRC = $DIGEST"

step "Look at it with inlay inspect"
show "$INLAY" inspect --json "$SRC"
say "The manifest bytes as stored hash to the digest:"
"$INLAY" inspect "$SRC" >"$T/manifest.json" 2>"$T/err" || {
	cat "$T/err" >&2
	exit 1
}
printf '    sha256 of `inlay inspect %s` = %s\n' "$SRC" "$(sha256_file "$T/manifest.json")"

step "Copy it to another repository with inlay copy"
show "$INLAY" copy "$SRC" "$DST"
say "Same registry, so the layers were mounted into the new repository, not downloaded:"
grep -E '"(POST|PUT) /v2/demo/busybox-copy/' "$REG_LOG" | sed 's/^.*"\(.*\)" \([0-9]*\) .*/    \1 -> \2/' |
	sed 's/_state=[^&" ]*/_state=.../' | head -n 10

step "Check the copy with skopeo (it verifies every digest)"
show skopeo --policy "$_SK_POLICY" copy -q --src-tls-verify=false "docker://$DST" "oci:$T/check:copy"
COPY_DIGEST=$(skopeo_digest "docker://$DST")
if [ "$COPY_DIGEST" = "$DIGEST" ]; then
	say "Digest kept: $COPY_DIGEST"
else
	say "DIGEST CHANGED: $DIGEST -> $COPY_DIGEST"
	exit 1
fi

step "Instrument it: append the sensor layer and make the sensor the entrypoint"
show "$INLAY" instrument --json "$SRC"
INST=$SRC-inlay
say "No base layer was downloaded: only the manifest and config were read, the new layer"
say "and config were uploaded. The instrumented config:"
skopeo --policy "$_SK_POLICY" inspect --config --raw --tls-verify=false "docker://$INST" |
	jq '{Entrypoint: .config.Entrypoint, Cmd: .config.Cmd, Labels: .config.Labels}' | sed 's/^/    /'

step "Pull the instrumented image with skopeo (every digest verified) and unpack it with umoci"
show skopeo --policy "$_SK_POLICY" copy -q --src-tls-verify=false "docker://$INST" "oci:$T/layout:demo"
show umoci unpack --image "$T/layout:demo" "$T/bundle"
jq '.process.terminal = false' "$T/bundle/config.json" >"$T/config.json" &&
	mv "$T/config.json" "$T/bundle/config.json"
say "The runtime starts: $(jq -c .process.args "$T/bundle/config.json")"

step "Run it with runc: the app runs under the sensor (PID 1), which reports what it sees"
runc run --bundle "$T/bundle" "inlay-demo-$$" >"$T/run.out" 2>"$T/run.err" </dev/null
rc=$?
runc delete -f "inlay-demo-$$" >/dev/null 2>&1
say "The app's output (stdout):"
sed 's/^/    /' "$T/run.out"
say "The sensor's events (stderr, one JSON line each, Falco-compatible):"
grep '^{' "$T/run.err" | jq -c '{rule, priority, output}' | sed 's/^/    /'
say "Exit status: $rc (the app's own)."

step "Drift: a binary dropped at run time, in monitor mode and in enforce mode"
DRIFT='cp /bin/busybox /tmp/echo && /tmp/echo "the dropped binary ran"; echo "exit status $?"'
say "The app copies busybox to /tmp and runs the copy. Monitor mode lets it run and reports it:"
jq --arg s "$DRIFT" '.process.args = ["/.inlay/sensor", "--", "/bin/sh", "-c", $s]' \
	"$T/bundle/config.json" >"$T/config.json" && mv "$T/config.json" "$T/bundle/config.json"
runc run --bundle "$T/bundle" "inlay-demo-$$" >"$T/run.out" 2>"$T/run.err" </dev/null
runc delete -f "inlay-demo-$$" >/dev/null 2>&1
sed 's/^/    /' "$T/run.out"
grep '^{' "$T/run.err" | jq -c 'select(.rule == "drift detected") | {rule, priority, output}' | sed 's/^/    /'
say "The same with INLAY_MODE=enforce (one run's override): the exec is denied, the shell gets 126:"
jq '.process.env += ["INLAY_MODE=enforce"]' "$T/bundle/config.json" >"$T/config.json" &&
	mv "$T/config.json" "$T/bundle/config.json"
runc run --bundle "$T/bundle" "inlay-demo-$$" >"$T/run.out" 2>"$T/run.err" </dev/null
runc delete -f "inlay-demo-$$" >/dev/null 2>&1
sed 's/^/    /' "$T/run.out"
grep '^{' "$T/run.err" | jq -c 'select(.rule == "drift detected" or .rule == "policy violation") | {rule, priority, output}' | sed 's/^/    /'

step "Serve it: a mirror that instruments whatever is pulled through it"
start_mirror MIR --upstream "local=http://$REG" --store "oci:$T/mirror-store"
say "inlay serve listens on $MIR, in front of the registry at $REG."
say "skopeo pulls the plain image's name through it and gets the instrumented image:"
show skopeo --policy "$_SK_POLICY" copy -q --src-tls-verify=false "docker://$MIR/${SRC#*/}" "oci:$T/mirror:demo"
MIR_DIGEST=$(skopeo_digest "docker://$MIR/${SRC#*/}")
say "Mirror result $MIR_DIGEST, built from $DIGEST;"
say "its entrypoint: $(skopeo --policy "$_SK_POLICY" inspect --config --raw --tls-verify=false "docker://$MIR/${SRC#*/}" | jq -c .config.Entrypoint)"
say "The mirror's access log (base layers streamed from upstream, kept in the store once downloaded):"
grep '^{"time"' "$MIR_LOG" | jq -c 'select(.route) | {route, status, source, bytes}' | sed 's/^/    /' | head -n 12
say "Its metrics: $(curl -s "http://$MIR/metrics" | grep -E '^inlay_mirror_(instrumentations|upstream_blob_streams)_total' | tr '\n' ' ')"

step "Done"
say "Stopping the registry and removing \$TMP."
