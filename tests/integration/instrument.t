#!/bin/bash
# instrument.t - what `inlay instrument` writes, read back with skopeo and
# umoci: the sensor layer and config rewrite of DESIGN.md section 4, media
# types kept, indexes rebuilt per platform, reproducible digests, in-place
# instrumentation without reading base layers, cross-registry and OCI layout
# use, --inventory checked against umoci's own unpacking, and the refusals.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/runc.sh"
require_inlay
require_tools skopeo umoci runc jq script
[ "$(id -u)" -eq 0 ] || bail_out "runs as root (umoci unpack, runc)"

start_registry open
start_registry open REG2
fixtures_build single zstd multi
push_fixture single "$REG/app:1"
push_fixture docker "$REG/docker:1"
push_fixture zstd "$REG/zstd:1"
push_fixture multi "$REG/multi:1"
SRC_DIGEST=$(skopeo_digest "docker://$REG/app:1")

cfg() { sk inspect --config --raw "docker://$1"; }
man() { sk inspect --raw "docker://$1"; }
# layer_file REF DIGEST FILE: extract FILE from a layer blob of REF.
layer_file() {
	local d=$T/blob-$RANDOM
	curl -sf "http://${1%%/*}/v2/$(echo "${1#*/}" | sed 's/[:@].*//')/blobs/$2" -o "$d" &&
		tar -xOf "$d" "$3"
}

# --- in place, same registry --------------------------------------------------
: >"$T/empty"
log_before=$(wc -l <"$REG_LOG")
run "$INLAY" instrument --quiet --json "$REG/app:1"
is "$status" 0 "instrument in place succeeds"
R=$(jq -r .digest "$RUN_OUT")
is "$(jq -r .result "$RUN_OUT")" "$REG/app@$R" "--json reports the result as REPO@DIGEST"
is "$(jq -r '.platforms[0].platform' "$RUN_OUT")" linux/amd64 "--json names the platform"
is "$(jq -r '.transfer.bytes_downloaded' "$RUN_OUT")" 0 "--json: no base layer bytes downloaded"
is "$(skopeo_digest "docker://$REG/app:1-inlay")" "$R" "DST defaults to SRC:<tag>-inlay and holds the result"
is "$(skopeo_digest "docker://$REG/app:1")" "$SRC_DIGEST" "the source tag is unchanged"
base_layers=$(man "$REG/app:1" | jq -r '.layers[].digest')
gets=0
for l in $base_layers; do
	n=$(tail -n +"$((log_before + 1))" "$REG_LOG" | grep -c "\"GET /v2/app/blobs/$l")
	gets=$((gets + n))
done
is "$gets" 0 "the registry's access log shows no GET of a base layer during an in-place instrument"

M=$(man "$REG/app:1-inlay")
C=$(cfg "$REG/app:1-inlay")
SC=$(cfg "$REG/app:1")
is "$(jq '.layers | length' <<<"$M")" 4 "one layer is appended"
is "$(jq -r '.layers[:3] | map(.digest) | join(" ")' <<<"$M")" "$(echo $base_layers)" "base layers are kept in order"
is "$(jq -r '.layers[3].mediaType' <<<"$M")" application/vnd.oci.image.layer.v1.tar+gzip \
	"the sensor layer of a gzip OCI base is OCI gzip"
SL=$(jq -r '.layers[3].digest' <<<"$M")
is "$(jq -r '.config.Labels["io.inlay.sensor.digest"]' <<<"$C")" "$SL" "label io.inlay.sensor.digest names the layer"
is "$(jq -r '.config.Labels["io.inlay.sensor.version"]' <<<"$C")" "$("$INLAY" version | head -n1 | cut -d' ' -f2)" \
	"label io.inlay.sensor.version is inlay's"
is "$(jq -r '.config.Labels["io.inlay.source"]' <<<"$C")" "$SRC_DIGEST" "label io.inlay.source is the source digest"
is "$(jq -c '.config.Labels["io.inlay.original.entrypoint"]' <<<"$C")" '"null"' \
	"label io.inlay.original.entrypoint records that there was none"
is "$(jq -c '.config.Entrypoint' <<<"$C")" '["/.inlay/sensor","--"]' "no Entrypoint + Cmd: Entrypoint becomes the sensor"
is "$(jq -c '.config.Cmd' <<<"$C")" "$(jq -c '.config.Cmd' <<<"$SC")" "Cmd is unchanged"
is "$(jq -c '.config | del(.Entrypoint, .Labels)' <<<"$C")" "$(jq -c '.config | del(.Entrypoint, .Labels)' <<<"$SC")" \
	"Env, WorkingDir, User and the rest of the config are untouched"
is "$(jq -r '.created' <<<"$C")" "$(jq -r '.created' <<<"$SC")" "created stays the source's"
is "$(jq -r '.history[-1].created_by' <<<"$C")" "inlay instrument $("$INLAY" version | head -n1 | cut -d' ' -f2)" \
	"a history entry is appended"
is "$(jq '.rootfs.diff_ids | length' <<<"$C")" 4 "rootfs.diff_ids is extended"
is "$(jq -r '.annotations["org.opencontainers.image.base.digest"]' <<<"$M")" "$SRC_DIGEST" \
	"OCI manifest annotation base.digest"
is "$(jq -r '.annotations["org.opencontainers.image.base.name"]' <<<"$M")" "$REG/app:1" \
	"OCI manifest annotation base.name"

# the layer itself
curl -sf "http://$REG/v2/app/blobs/$SL" -o "$T/sensor-layer.tgz"
is "$(sha256_file "$T/sensor-layer.tgz")" "$SL" "the sensor layer blob matches its digest"
run tar -tvzf "$T/sensor-layer.tgz" --numeric-owner
is "$(awk '{print $1, $2, $6}' "$RUN_OUT" | tr '\n' ';')" \
	"drwxr-xr-x 0/0 .inlay/;-r-xr-xr-x 0/0 .inlay/sensor;-r--r--r-- 0/0 .inlay/sensor.json;" \
	"the layer holds .inlay/ 0755, sensor 0555, sensor.json 0444, owned by 0/0, sorted"
is "$(awk '{print $4, $5}' "$RUN_OUT" | sort -u)" "1970-01-01 00:00" "every entry has mtime 0"
is "$(od -An -j4 -N4 -tx1 "$T/sensor-layer.tgz" | tr -d ' ')" 00000000 "gzip header has no mtime"
tar -xzOf "$T/sensor-layer.tgz" .inlay/sensor >"$T/sensor-amd64"
is "$(od -An -j18 -N2 -tx1 "$T/sensor-amd64" | tr -d ' ')" 3e00 "the sensor is an x86-64 ELF"
is "$(sha256_file "$T/sensor-amd64")" "$("$INLAY" version | awk '/linux\/amd64/ {print $4}')" \
	"the sensor is the embedded amd64 sensor inlay version reports"
is "$(tar -xzOf "$T/sensor-layer.tgz" .inlay/sensor.json | jq -c .)" \
	'{"fail":"open","mode":"monitor","output":"stderr","version":1}' "sensor.json holds the default configuration"

# --- reproducible ------------------------------------------------------------
run "$INLAY" instrument --quiet "$REG/app:1" "$REG/app:again"
is "${stdout##*@}" "$R" "instrumenting the same source twice gives the same digest"
run "$INLAY" instrument --quiet "$REG/app:1-inlay" "$REG/app:re"
is "$status" 0 "re-instrumenting an instrumented image works"
M2=$(man "$REG/app:re")
C2=$(cfg "$REG/app:re")
is "$(jq '.layers | length' <<<"$M2")" 4 "re-instrumenting leaves one sensor layer"
is "$(jq -c '.config.Entrypoint' <<<"$C2")" '["/.inlay/sensor","--"]' "  and the entrypoint wrapped once"
is "${stdout##*@}" "$R" "  and the result equals instrumenting the original"

# --- entrypoint kept after the sensor ------------------------------------------
V=$T/variants
cp -a "$(fixture single)" "$V"
umoci config --image "$V:single" --tag ep --config.entrypoint /bin/echo --config.entrypoint hi \
	--config.cmd there >/dev/null 2>&1
umoci config --image "$V:single" --tag win --os windows >/dev/null 2>&1
sk copy -q "oci:$V:ep" "docker://$REG/ep:1" >/dev/null 2>&1
sk copy -q "oci:$V:win" "docker://$REG/win:1" >/dev/null 2>&1
run "$INLAY" instrument --quiet "$REG/ep:1"
C=$(cfg "$REG/ep:1-inlay")
is "$(jq -c '[.config.Entrypoint, .config.Cmd]' <<<"$C")" '[["/.inlay/sensor","--","/bin/echo","hi"],["there"]]' \
	"Entrypoint E becomes sensor + E, Cmd unchanged"
is "$(jq -r '.config.Labels["io.inlay.original.entrypoint"]' <<<"$C")" '["/bin/echo","hi"]' \
	"  and the original entrypoint is recorded as JSON"
run "$INLAY" instrument --quiet "$REG/win:1"
is "$status" 2 "a Windows image is refused with exit 2"
like "$stderr" "Windows" "  with a message that says so"

# --- media types and compression ---------------------------------------------
run "$INLAY" instrument --quiet "$REG/docker:1"
is "$status" 0 "a Docker schema2 image is instrumented"
M=$(man "$REG/docker:1-inlay")
is "$(jq -r .mediaType <<<"$M")" application/vnd.docker.distribution.manifest.v2+json "  and stays Docker schema2"
is "$(jq -r '.layers[-1].mediaType' <<<"$M")" application/vnd.docker.image.rootfs.diff.tar.gzip \
	"  with a Docker gzip sensor layer"
is "$(jq -r '.annotations // "none"' <<<"$M")" none "  and no annotations (schema2 has none)"
run "$INLAY" instrument --quiet --compression zstd "$REG/docker:1" "$REG/docker:z"
is "$status" 2 "--compression zstd on a Docker schema2 image is refused (exit 2)"
run "$INLAY" instrument --quiet "$REG/zstd:1"
is "$(man "$REG/zstd:1-inlay" | jq -r '.layers[-1].mediaType')" application/vnd.oci.image.layer.v1.tar+zstd \
	"a zstd base gets a zstd sensor layer"
run "$INLAY" instrument --quiet --compression none "$REG/app:1" "$REG/app:none"
is "$(man "$REG/app:none" | jq -r '.layers[-1].mediaType')" application/vnd.oci.image.layer.v1.tar \
	"--compression none gives an uncompressed layer"

# --- mode and policy are baked into sensor.json --------------------------------
cat >"$T/sensor-policy.json" <<'P'
{"net": {"listen": ["tcp:8080"]}, "exec": {"allow": ["/bin/busybox[cat]"], "drift": "block"}}
P
run "$INLAY" instrument --quiet --mode enforce --policy "$T/sensor-policy.json" "$REG/app:1" "$REG/app:enf"
is "$status" 0 "--mode enforce --policy FILE"
L=$(man "$REG/app:enf" | jq -r '.layers[-1].digest')
is "$(layer_file "$REG/app" "$L" .inlay/sensor.json | jq -c '[.mode, .policy.net.listen[0], .policy.exec.drift]')" \
	'["enforce","tcp:8080","block"]' "  are in the layer's sensor.json"
echo '{"net": {"listen": ["tcp:99999"]}}' >"$T/bad-policy.json"
run "$INLAY" instrument --quiet --policy "$T/bad-policy.json" "$REG/app:1" "$REG/app:bad"
is "$status" 2 "an invalid policy is refused with exit 2"
like "$stderr" "net.listen\[0\]" "  naming the bad rule"

# --- index -----------------------------------------------------------------------
run "$INLAY" instrument --quiet --json "$REG/multi:1"
is "$status" 0 "a multi-platform index is instrumented"
is "$(jq -r '[.platforms[] | select(.instrumented) | .platform] | join(" ")' "$RUN_OUT")" \
	"linux/amd64 linux/arm64" "  both linux/amd64 and linux/arm64 are instrumented"
is "$(jq -r .dropped_attestations "$RUN_OUT")" 1 "  the attestation child is dropped"
I=$(man "$REG/multi:1-inlay")
SI=$(man "$REG/multi:1")
is "$(jq -r '[.manifests[] | .platform.os + "/" + .platform.architecture] | join(" ")' <<<"$I")" \
	"linux/amd64 linux/arm64" "  the index holds exactly the two platforms"
is "$(jq -c .annotations <<<"$I")" "$(jq -c .annotations <<<"$SI")" "  the index annotations are kept"
for arch in amd64:3e00 arm64:b700; do
	a=${arch%%:*}
	d=$(jq -r --arg a "$a" '.manifests[] | select(.platform.architecture == $a) | .digest' <<<"$I")
	l=$(man "$REG/multi@$d" | jq -r '.layers[-1].digest')
	layer_file "$REG/multi" "$l" .inlay/sensor >"$T/s-$a"
	is "$(od -An -j18 -N2 -tx1 "$T/s-$a" | tr -d ' ')" "${arch#*:}" "  the $a child carries the $a sensor"
done
ok "skopeo copies the instrumented index (every digest verified)" \
	sk copy -q --all "docker://$REG/multi:1-inlay" "oci:$T/multi-out:x"
run "$INLAY" instrument --quiet --platform linux/arm64 "$REG/multi:1" "$REG/multi:arm"
is "$(man "$REG/multi:arm" | jq -r '[.manifests[].platform.architecture] | join(" ")')" arm64 \
	"--platform selects the platforms to instrument"

# --- across registries, and OCI layouts ----------------------------------------
run "$INLAY" instrument --quiet --json "$REG/app:1" "$REG2/app:inst"
is "$status" 0 "instrument across registries"
is "$(jq -r .digest "$RUN_OUT")" "$R" "  gives the same digest as in place"
like "$(jq -r .transfer.bytes_downloaded "$RUN_OUT")" '^[1-9][0-9]*$' "  and streams the base layers"
if unpack_image "docker://$REG2/app:inst" "$T/b-cross"; then
	run_bundle "$T/b-cross"
	is "$status:$stdout" "0:hello from inlay test fixture single linux/amd64" "  and the result runs"
else
	fail "  and the result runs"
fi
run "$INLAY" instrument --quiet "$(fixture_ref single)" "oci:$T/layout-out:inst"
is "$status" 0 "instrument from an OCI layout to an OCI layout (air-gapped)"
# The manifests differ only in base.name (it names the source); the configs
# and layers are the same.
is "$(sk inspect --raw "oci:$T/layout-out:inst" | jq -c '[.config.digest, [.layers[].digest]]')" \
	"$(man "$REG/app:1-inlay" | jq -c '[.config.digest, [.layers[].digest]]')" \
	"  gives the same config and layers as through a registry"
ok "  umoci unpacks the result" umoci unpack --image "$T/layout-out:inst" "$T/b-layout"

# --- --inventory -----------------------------------------------------------------
# The inventory must be what a runtime's filesystem holds: umoci unpacks the
# base (applying whiteouts itself) and find lists its executables.
# expected_inventory LAYOUT TAG: the file as it should be, on stdout.
expected_inventory() {
	local lay=$T/inv-layout-$RANDOM b=$T/inv-bundle-$RANDOM
	cp -a "$1" "$lay" && umoci unpack --image "$lay:$2" "$b" >/dev/null 2>&1 || return 1
	echo "inlay-inventory 1"
	# names holding a newline cannot be listed
	(cd "$b/rootfs" && find . -type f -perm /111 -print0 |
		while IFS= read -r -d '' f; do
			case $f in *$'\n'*) continue ;; esac
			printf '%s\n' "${f#.}"
		done | LC_ALL=C sort)
}
# last_layer REPO REF: the last layer's digest of the image manifest REPO@REF / REPO:REF.
last_layer() { man "$1$2" | jq -r '.layers[-1].digest'; }
# fetch_layer REPO DIGEST FILE
fetch_layer() { curl -sf "http://${1%%/*}/v2/${1#*/}/blobs/$2" -o "$3"; }

t0=$(now_ms)
run "$INLAY" instrument --quiet --json --inventory "$REG/app:1" "$REG/app:inv"
is "$status" 0 "--inventory instruments the image"
RI=$(jq -r .digest "$RUN_OUT")
cp "$RUN_OUT" "$T/inv-report.json"
fetch_layer "$REG/app" "$(last_layer "$REG/app" :inv)" "$T/inv-layer.tgz"
run tar -tvzf "$T/inv-layer.tgz" --numeric-owner
is "$(awk '{print $1, $2, $6}' "$RUN_OUT" | tr '\n' ';')" \
	"drwxr-xr-x 0/0 .inlay/;-r--r--r-- 0/0 .inlay/inventory;-r-xr-xr-x 0/0 .inlay/sensor;-r--r--r-- 0/0 .inlay/sensor.json;" \
	"  the layer adds .inlay/inventory 0444, owned by 0/0, in sorted order"
tar -xzOf "$T/inv-layer.tgz" .inlay/inventory >"$T/inv-app"
is "$(head -n 1 "$T/inv-app")" "inlay-inventory 1" "  the inventory starts with its header"
expected_inventory "$(fixture single)" single >"$T/inv-app-want"
is "$(cat "$T/inv-app")" "$(cat "$T/inv-app-want")" "  and lists exactly the base's executables (as umoci unpacks it)"
is "$(tail -c 1 "$T/inv-app" | od -An -tx1 | tr -d ' ')" 0a "  every line ends in a newline"
is "$(tar -xzOf "$T/inv-layer.tgz" .inlay/sensor.json | jq -r .inventory)" /.inlay/inventory \
	"  sensor.json names it"
is "$(jq -r '.platforms[0].inventory.entries' "$T/inv-report.json")" "$(($(wc -l <"$T/inv-app") - 1))" \
	"  --json gives its entry count"
base_bytes=$(man "$REG/app:1" | jq '[.layers[].size] | add')
is "$(jq -r '.platforms[0].inventory.bytes_downloaded' "$T/inv-report.json")" "$base_bytes" \
	"  and the bytes read for it: every base layer, once"
is "$(jq -r '.transfer.bytes_downloaded' "$T/inv-report.json")" "$base_bytes" \
	"  counted in the transfer's bytes downloaded"
run "$INLAY" instrument --quiet --inventory "$REG/app:1" "$REG/app:inv2"
is "${stdout##*@}" "$RI" "  the same source with --inventory twice gives the same digest"
run "$INLAY" instrument --quiet --inventory "$REG/app:inv" "$REG/app:inv-re"
is "${stdout##*@}" "$RI" "  re-instrumenting its result with --inventory gives the same digest"
run "$INLAY" instrument --quiet --inventory "$REG/app:1-inlay" "$REG/app:inv-re2"
is "${stdout##*@}" "$RI" "  and so does re-instrumenting an image instrumented without it"
run "$INLAY" instrument --quiet "$REG/app:inv" "$REG/app:noinv"
is "${stdout##*@}" "$R" "  instrumenting it again without --inventory gives the plain result"

# On a terminal the inventory's reads show how far they have come, as the
# transfer does (script(1) gives the command a pseudo-terminal).
nl=$(man "$REG/app:1" | jq '.layers | length')
run script -qec "$(printf '%q ' "$INLAY" instrument --inventory "$REG/app:1" "$REG2/app:tty")" /dev/null
is "$status" 0 "--inventory to another registry, on a terminal"
like "$stdout" "inventory: layers $nl/$nl  [0-9]+\.[0-9]/[0-9]+\.[0-9] MB" \
	"  a progress line counts the layers read for the inventory"
like "$stdout" "blobs $nl/$nl  " "  and one the layers transferred"
run "$INLAY" instrument --inventory "$REG/app:1" "$REG2/app:notty"
unlike "$stderr" "inventory: layers|blobs [0-9]" "  neither when stderr is not a terminal"
run script -qec "$(printf '%q ' "$INLAY" instrument --quiet --inventory "$REG/app:1" "$REG2/app:quiet")" /dev/null
unlike "$stdout" "inventory: layers|blobs [0-9]" "  nor with --quiet"

# A second layer with a whiteout, a new executable and a hard link to it:
# umoci repack writes the whiteout for the removed file.
W=$T/wh
cp -a "$(fixture single)" "$W"
umoci unpack --image "$W:single" "$T/wh-bundle" >/dev/null 2>&1
rm "$T/wh-bundle/rootfs/usr/local/bin/hello"
mkdir -p "$T/wh-bundle/rootfs/opt/app"
printf '#!/bin/sh\necho added\n' >"$T/wh-bundle/rootfs/opt/app/run"
chmod 0755 "$T/wh-bundle/rootfs/opt/app/run"
ln "$T/wh-bundle/rootfs/opt/app/run" "$T/wh-bundle/rootfs/opt/app/run-link"
printf 'data\n' >"$T/wh-bundle/rootfs/opt/app/data"
install -m 0755 /dev/null "$T/wh-bundle/rootfs/opt/app/odd"$'\n'"name"
umoci repack --image "$W:wh" "$T/wh-bundle" >/dev/null 2>&1
wl=$(jq -r '.layers[-1].digest' "$(layout_blob "$W" "$(layout_digest "$W" wh)")")
like "$(tar -tzf "$(layout_blob "$W" "$wl")")" '(^|/)usr/local/bin/\.wh\.hello$' \
	"  (the layered fixture's top layer holds a whiteout)"
sk copy -q "oci:$W:wh" "docker://$REG/wh:1" >/dev/null 2>&1
run "$INLAY" instrument --inventory "$REG/wh:1"
is "$status" 0 "--inventory on an image with a whiteout layer"
like "$stderr" "1 executables with a newline in their name are left out of the inventory" \
	"  warns of the executable whose name holds a newline"
fetch_layer "$REG/wh" "$(last_layer "$REG/wh" :1-inlay)" "$T/wh-layer.tgz"
tar -xzOf "$T/wh-layer.tgz" .inlay/inventory >"$T/inv-wh"
expected_inventory "$W" wh >"$T/inv-wh-want"
is "$(cat "$T/inv-wh")" "$(cat "$T/inv-wh-want")" "  lists what the merged layers hold (as umoci unpacks it)"
is "$(grep -c -x -e /usr/local/bin/hello -e /opt/app/run -e /opt/app/run-link "$T/inv-wh")" 2 \
	"  without the whited-out file, with the new one and its hard link"

run "$INLAY" instrument --quiet --json --inventory "$REG/multi:1" "$REG/multi:inv"
is "$status" 0 "--inventory on an index"
is "$(jq -r '[.platforms[] | select(.inventory.entries > 0) | .platform] | join(" ")' "$RUN_OUT")" \
	"linux/amd64 linux/arm64" "  gives every instrumented platform an inventory"
I=$(man "$REG/multi:inv")
for a in amd64:single arm64:arm64; do
	arch=${a%%:*} fx=${a#*:}
	d=$(jq -r --arg a "$arch" '.manifests[] | select(.platform.architecture == $a) | .digest' <<<"$I")
	fetch_layer "$REG/multi" "$(last_layer "$REG/multi" "@$d")" "$T/multi-$arch.tgz"
	tar -xzOf "$T/multi-$arch.tgz" .inlay/inventory >"$T/inv-multi-$arch"
	expected_inventory "$(fixture "$fx")" "$fx" >"$T/inv-multi-$arch-want"
	is "$(cat "$T/inv-multi-$arch")" "$(cat "$T/inv-multi-$arch-want")" \
		"  the $arch child's own layer lists its own image's executables"
done
tar -xzOf "$T/multi-arm64.tgz" .inlay/sensor >"$T/multi-arm64-sensor"
is "$(od -An -j18 -N2 -tx1 "$T/multi-arm64-sensor" | tr -d ' '):$(grep -c -x /bin/busybox "$T/inv-multi-arm64")" \
	"b700:1" "  next to the arm64 sensor, listing the arm64 busybox"
diag "--inventory tests took $(secs_since "$t0") s"

# --- refusals ---------------------------------------------------------------------
run "$INLAY" instrument --quiet "$REG/nope:1"
is "$status" 1 "a source that does not exist is exit 1"
run "$INLAY" instrument --quiet --mode paranoid "$REG/app:1"
is "$status" 2 "an unknown --mode is bad usage (exit 2)"
run "$INLAY" instrument --quiet --strict-platforms --platform linux/s390x "$REG/multi:1"
isnt "$status" 0 "--platform that matches nothing is refused"

# Last, as it spoils a blob REG2 holds: a base layer that does not match its
# digest stops --inventory with exit 3 (a verification failure), and
# nothing is pushed.
corrupt_blob "$(man "$REG2/app:inst" | jq -r '.layers[0].digest')" REG2
run "$INLAY" instrument --quiet --inventory "$REG2/app:inst" "$REG2/app:corrupt"
is "$status" 3 "--inventory over a corrupt base layer fails with exit 3"
like "$stderr" "do not match its digest" "  saying why"
ok "  and pushes nothing" test -z "$(sk inspect --raw "docker://$REG2/app:corrupt" 2>/dev/null)"

done_testing
