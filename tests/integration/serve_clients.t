#!/bin/bash
# serve_clients.t - real clients pulling through `inlay serve` as they are
# configured in production: podman with a registries.conf mirror,
# containerd's ctr with a hosts.toml mirror (containerd started here in a
# temporary root), and Debian's docker-registry as a pull-through cache
# (proxy.remoteurl) in front of the mirror. Each must get the instrumented
# digest the mirror computes. Also: a 200 MB image's first pull answers its
# manifest about as fast as a 1 MB image's.
. "$(dirname "$0")/lib.sh"
require_inlay
require_tools skopeo jq curl podman containerd ctr docker-registry umoci openssl
[ "$(id -u)" -eq 0 ] || bail_out "runs as root (containerd, podman storage)"

start_registry open UP
fixtures_build single multi big200
push_fixture single "$UP/app:1"
push_fixture multi "$UP/multi:1"
# The upstream named by its host, as containerd's ?ns= names it.
start_mirror MIR --upstream "$UP=http://$UP" --store "oci:$T/store"
WANT=$(skopeo_digest "docker://$MIR/app:1")
WANT_MULTI=$(skopeo_digest "docker://$MIR/multi:1")
like "$WANT" '^sha256:' "the mirror serves app:1"

# --- podman, registries.conf mirror -----------------------------------------
cat >"$T/registries.conf" <<EOF
[[registry]]
location = "$UP"
insecure = true
[[registry.mirror]]
location = "$MIR"
insecure = true
EOF
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$T/policy.json"
pm() {
	CONTAINERS_REGISTRIES_CONF=$T/registries.conf podman --root "$T/podman/root" \
		--runroot "$T/podman/run" --storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file "$@"
}
run pm pull --signature-policy "$T/policy.json" "$UP/app:1"
is "$status" 0 "podman pulls $UP/app:1 through its registries.conf mirror"
run pm image inspect --format '{{.Digest}}' "$UP/app:1"
is "$stdout" "$WANT" "and gets the instrumented digest"
run pm image inspect --format '{{index .Labels "io.inlay.sensor.version"}}' "$UP/app:1"
like "$stdout" '^[0-9]+\.[0-9]+\.[0-9]+$' "with the sensor's labels"
like "$(cat "$MIR_LOG")" '"route":"manifest","status":200' "the pull went through the mirror"

# --- containerd's ctr, hosts.toml mirror --------------------------------------
C=$T/containerd
mkdir -p "$C/root" "$C/state" "$C/certs.d/$UP"
cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$C/containerd.sock"
[ttrpc]
  address = "$C/containerd.sock.ttrpc"
[debug]
  address = "$C/debug.sock"
[metrics]
  address = ""
EOF
cat >"$C/certs.d/$UP/hosts.toml" <<EOF
server = "http://$UP"

[host."http://$MIR"]
  capabilities = ["pull", "resolve"]
EOF
setsid containerd --config "$C/config.toml" >"$C/log" 2>&1 </dev/null &
CPID=$!
_track_pid "$CPID" "$C/log"
for ((i = 0; i < 100; i++)); do
	ctr --address "$C/containerd.sock" version >/dev/null 2>&1 && break
	sleep 0.1
done
c() { ctr --address "$C/containerd.sock" --namespace inlay-test "$@"; }
run c image pull --hosts-dir "$C/certs.d" "$UP/app:1"
is "$status" 0 "ctr pulls $UP/app:1 through its hosts.toml mirror"
run c image ls -q
run c image ls
like "$stdout" "$UP/app:1 +[^ ]+ +$WANT" "and gets the instrumented digest"
like "$(cat "$MIR_LOG")" "\"route\":\"manifest\"" "through the mirror (ns= names the upstream)"
ARM_LAYER=$(sk inspect --override-arch arm64 --config "docker://$MIR/multi:1" |
	jq -r '.config.Labels["io.inlay.sensor.digest"]')
like "$ARM_LAYER" '^sha256:' "the mirror's arm64 image names its sensor layer"
run c image pull --hosts-dir "$C/certs.d" --platform linux/arm64 "$UP/multi:1"
is "$status" 0 "ctr pulls the index for linux/arm64"
run c image ls
like "$stdout" "$UP/multi:1 +[^ ]+ +$WANT_MULTI" "with the instrumented index's digest"
run c content ls
like "$stdout" "${ARM_LAYER#sha256:}" "and the arm64 sensor layer in its content store"
stop_pid "$CPID"
_untrack_pid "$CPID"

# --- docker-registry as a pull-through cache of the mirror -----------------------
port=$(free_port)
mkdir -p "$T/cache"
cat >"$T/cache/config.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $T/cache/storage
http:
  addr: 127.0.0.1:$port
  secret: inlay-test-cache
proxy:
  remoteurl: http://$MIR
EOF
setsid docker-registry serve "$T/cache/config.yml" >"$T/cache/log" 2>&1 </dev/null &
CACHE_PID=$!
_track_pid "$CACHE_PID" "$T/cache/log"
for ((i = 0; i < 100; i++)); do
	[ "$(_http_code "http://127.0.0.1:$port/v2/")" = 200 ] && break
	sleep 0.1
done
CACHE=127.0.0.1:$port
_REG_BY_HOST[$CACHE]=MIR
run sk copy "docker://$CACHE/app:1" "oci:$T/cached:1"
is "$status" 0 "skopeo pulls from docker-registry's pull-through cache of the mirror"
is "$(layout_digest "$T/cached" 1)" "$WANT" "and gets the instrumented image"
run sk inspect --config "oci:$T/cached:1"
is "$(jq -r '.config.Entrypoint[0]' <<<"$stdout")" /.inlay/sensor "whose entrypoint starts the sensor"

# --- first pull of a 200 MB image: the manifest comes as fast as a 1 MB one's --------
push_fixture big200 "$UP/big:1"
sk copy -q "oci:$(fixture single):single" "docker://$UP/small:1" >/dev/null 2>&1
small_ms=$(ttm "http://$MIR/v2/small/manifests/1")
big_ms=$(ttm "http://$MIR/v2/big/manifests/1")
diag "time to the manifest, first pull: 1 MB image $small_ms ms, 200 MB image $big_ms ms"
ok "the 200 MB image's manifest ($big_ms ms) comes within 2x + 100 ms of the 1 MB one's ($small_ms ms)" \
	[ "$big_ms" -le $((2 * small_ms + 100)) ]
# Concurrent first reads of the 200 MB layer share one upstream download,
# and a slow client (1 MB/s, started first) holds none of the others back.
metric() { curl -s "http://$MIR/metrics" | awk -v n="inlay_mirror_$1" '$1 == n {print $2}'; }
curl -s -H "Accept: application/vnd.oci.image.manifest.v1+json" "http://$MIR/v2/big/manifests/1" >"$T/big-m.json"
BIG=$(jq -r '.layers[-2].digest' "$T/big-m.json")
streams0=$(metric upstream_blob_streams_total)
readers0=$(metric coalesced_blob_readers_total)
hits0=$(metric store_blob_hits_total)
curl -s --limit-rate 1M -o /dev/null "http://$MIR/v2/big/blobs/$BIG" &
slow=$!
sleep 0.3
pids=()
for i in 1 2 3 4 5 6 7; do
	(curl -s -f "http://$MIR/v2/big/blobs/$BIG" | sha256sum | cut -d' ' -f1 >"$T/co.$i") &
	pids+=($!)
done
t0=$(now_ms)
wait "${pids[@]}"
co_ms=$(($(now_ms) - t0))
is "$(cat "$T"/co.* | sort -u | tr -d '\n')" "${BIG#sha256:}" "7 concurrent first reads of the 200 MB layer each get it whole, verified"
ok "they finish (in $co_ms ms) while a 1 MB/s client that started first still reads" kill -0 "$slow"
kill "$slow" 2>/dev/null
wait "$slow" 2>/dev/null
is "$(($(metric upstream_blob_streams_total) - streams0))" 1 "the 8 reads made one upstream download"
# A client whose request comes after the download finished (a slow start
# under load) reads the store instead: either way, not the upstream.
readers=$(($(metric coalesced_blob_readers_total) - readers0))
hits=$(($(metric store_blob_hits_total) - hits0))
ok "the other 7 read the first one's download ($readers) or, once it was stored, the store ($hits); $readers >= 1" \
	[ $((readers + hits)) -eq 7 -a "$readers" -ge 1 ]
run sk copy "docker://$MIR/big:1" "oci:$T/big-pulled:1"
is "$status" 0 "the 200 MB image then pulls whole, every blob verified by skopeo"
SIZE=$(du -sm "$T/big-pulled" | cut -f1)
ok "all 200 MB arrived ($SIZE MB)" [ "$SIZE" -ge 200 ]

done_testing
