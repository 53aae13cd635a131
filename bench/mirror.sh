#!/bin/bash
# mirror.sh BUILD_DIR - `inlay serve` against Debian's docker-registry
# (issue 10), side by side on loopback:
#
#   1. warm manifest GET throughput: wrk (MIRROR_CONNS connections, default
#      32) for MIRROR_SECS seconds on the mirror's cached manifest by tag,
#      and on docker-registry serving the same tag; ratio inlay / registry;
#   2. warm blob throughput: the same for a 16 MiB blob (MB/s);
#   3. the mirror's peak RSS (VmHWM) after 1 and 2;
#   4. first pull of a 200 MiB image: skopeo copy through a fresh mirror
#      (instrumenting) and through docker-registry's own proxy mode
#      (proxy.remoteurl) over the same upstream; ratio inlay / proxy, and
#      the mirror's time to the manifest for the 200 MiB and a 1 MiB image;
#      then the same pull through a mirror whose store is a registry (a new
#      repository each run), which takes the blobs from its spool once the
#      client's download is over and then completes the result in the store.
#
# Runs alternate (MIRROR_RUNS per side, default 5); medians and ranges.
# wrk, the servers and skopeo share this machine's CPUs: the ratios are what
# one 2-vCPU host gives, not a server's capacity. Markdown on stdout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
RUNS=${MIRROR_RUNS:-5}
SECS=${MIRROR_SECS:-5}
CONNS=${MIRROR_CONNS:-32}
LIB_NO_TAP=1
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export INLAY=$BUILD/inlay
. "$BENCH_DIR/lib.sh"
require_tools wrk skopeo umoci jq curl docker-registry openssl
ACCEPT="Accept: application/vnd.oci.image.manifest.v1+json"

say "building the images (200 MiB, 16 MiB, 1 MiB)"
build_image "$T/img" one inlay-mirror-one 200 >&2 || bail_out "building the 200 MiB image"
build_image "$T/img" mid inlay-mirror-mid 16 >&2 || bail_out "building the 16 MiB image"
build_image "$T/img" small inlay-mirror-small >&2 || bail_out "building the small image"
fresh_registry UP
for n in one mid small; do
	"${SKOPEO[@]}" copy -q --preserve-digests --dest-tls-verify=false "oci:$T/img:$n" \
		"docker://$UP/$n:1" >&2 || bail_out "push $n"
done
rm -rf "$T/img"

# wrk_rate URL HEADER: requests/s and transfer bytes/s of one wrk run.
wrk_run() {
	wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s -H "$2" "$1" >"$T/wrk.out" 2>&1
	# A server answering errors fast is no result.
	if grep -q -e "Non-2xx" -e "Socket errors" "$T/wrk.out"; then
		say "wrk on $1: $(grep -e Non-2xx -e 'Socket errors' "$T/wrk.out")"
		touch "$T/wrk.failed"
	fi
	awk '
		/^Requests\/sec:/ { r = $2 }
		/^Transfer\/sec:/ { t = $2; u = t; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", t)
			m = (u == "GB") ? 1024 : (u == "MB") ? 1 : (u == "KB") ? 1 / 1024 : 1 / 1048576
			t = t * m }
		END { printf "%s %s\n", r, t }' "$T/wrk.out"
}

start_mirror MIR --upstream "up=http://$UP" --store "oci:$T/store" --access-log /dev/null >&2
# Warm: the tag resolved and cached, the blob in the store.
curl -s -o /dev/null -H "$ACCEPT" "http://$MIR/v2/mid/manifests/1"
MID_BLOB=$(curl -s -H "$ACCEPT" "http://$UP/v2/mid/manifests/1" | jq -r '.layers[-1].digest')
curl -s -o /dev/null "http://$MIR/v2/mid/blobs/$MID_BLOB"
# The store takes a blob from the spool once its download is over.
for ((i = 0; i < 100; i++)); do
	[ -e "$T/store/blobs/sha256/${MID_BLOB#sha256:}" ] && break
	sleep 0.1
done
[ -e "$T/store/blobs/sha256/${MID_BLOB#sha256:}" ] || bail_out "the 16 MiB blob did not reach the store"

declare -a m_inlay=() m_reg=() b_inlay=() b_reg=()
for ((i = 1; i <= RUNS; i++)); do
	say "throughput run $i of $RUNS"
	read -r r _ < <(wrk_run "http://$MIR/v2/mid/manifests/1" "$ACCEPT")
	m_inlay+=("$r")
	read -r r _ < <(wrk_run "http://$UP/v2/mid/manifests/1" "$ACCEPT")
	m_reg+=("$r")
	read -r _ t < <(wrk_run "http://$MIR/v2/mid/blobs/$MID_BLOB" "Accept: */*")
	b_inlay+=("$t")
	read -r _ t < <(wrk_run "http://$UP/v2/mid/blobs/$MID_BLOB" "Accept: */*")
	b_reg+=("$t")
done
RSS_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$MIR_PID/status")
# What it answers is what it should: the manifest and the blob, verified.
curl -s -H "$ACCEPT" "http://$MIR/v2/mid/manifests/1" -o "$T/m.json"
[ "$(jq -r '.layers[-1].digest' "$T/m.json")" != "$MID_BLOB" ] || bail_out "the mirror served the plain manifest"
curl -s "http://$MIR/v2/mid/blobs/$MID_BLOB" -o "$T/b.bin"
[ "sha256:$(sha256sum <"$T/b.bin" | cut -d' ' -f1)" = "$MID_BLOB" ] || bail_out "blob bytes differ"

range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }

# First pulls: a fresh mirror and a fresh docker-registry proxy each run.
start_proxy() { # PREFIX: docker-registry with proxy.remoteurl = the upstream
	local d=$T/proxy-$1 port pid i
	port=$(free_port)
	mkdir -p "$d"
	printf '%s\n' "version: 0.1" "log:" "  level: error" "storage:" "  filesystem:" \
		"    rootdirectory: $d/storage" "http:" "  addr: 127.0.0.1:$port" \
		"  secret: bench-proxy" "proxy:" "  remoteurl: http://$UP" >"$d/config.yml"
	setsid docker-registry serve "$d/config.yml" >"$d/log" 2>&1 </dev/null &
	pid=$!
	_track_pid "$pid" "$d/log"
	for ((i = 0; i < 100; i++)); do
		[ "$(_http_code "http://127.0.0.1:$port/v2/")" = 200 ] && break
		sleep 0.1
	done
	declare -g "$1=127.0.0.1:$port" "${1}_PID=$pid" "${1}_DIR=$d"
}
pull_secs() { # REF: seconds of a skopeo copy of REF to a fresh layout
	local t0 t1
	rm -rf "$T/pulled"
	t0=${EPOCHREALTIME/./}
	"${SKOPEO[@]}" copy -q --src-tls-verify=false "docker://$1" "oci:$T/pulled:x" >&2 || return 1
	t1=${EPOCHREALTIME/./}
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }'
}
ttm_secs() { # URL: seconds to a manifest
	curl -s -o /dev/null -w '%{time_total}\n' -H "$ACCEPT" "$1"
}
declare -a p_inlay=() p_reg=() p_proxy=() ttm_big=() ttm_small=() ttm_reg=()
fresh_registry STORE # the registry store: a fresh repository each run, so every pull is a first
for ((i = 1; i <= RUNS; i++)); do
	say "first-pull run $i of $RUNS"
	start_mirror "F$i" --upstream "up=http://$UP" --store "oci:$T/fstore-$i" --access-log /dev/null >&2
	v=F$i
	ttm_small+=("$(ttm_secs "http://${!v}/v2/small/manifests/1")")
	ttm_big+=("$(ttm_secs "http://${!v}/v2/one/manifests/1")")
	pid_var=F${i}_PID
	stop_pid "${!pid_var}"
	_untrack_pid "${!pid_var}"
	rm -rf "$T/fstore-$i"
	start_mirror "G$i" --upstream "up=http://$UP" --store "oci:$T/gstore-$i" --access-log /dev/null >&2
	v=G$i
	p_inlay+=("$(pull_secs "${!v}/one:1")") || bail_out "pull through the mirror failed"
	pid_var=G${i}_PID
	stop_pid "${!pid_var}"
	_untrack_pid "${!pid_var}"
	rm -rf "$T/gstore-$i"
	start_mirror "H$i" --upstream "up=http://$UP" --store "$STORE/inlay-store-$i" --access-log /dev/null >&2
	v=H$i
	ttm_reg+=("$(ttm_secs "http://${!v}/v2/one/manifests/1")")
	p_reg+=("$(pull_secs "${!v}/one:1")") || bail_out "pull through the mirror with a registry store failed"
	pid_var=H${i}_PID
	stop_pid "${!pid_var}"
	_untrack_pid "${!pid_var}"
	start_proxy "P$i"
	v=P$i
	p_proxy+=("$(pull_secs "${!v}/one:1")") || bail_out "pull through the proxy failed"
	pid_var=P${i}_PID dir_var=P${i}_DIR
	stop_pid "${!pid_var}"
	_untrack_pid "${!pid_var}"
	rm -rf "${!dir_var}"
done

mi=$(median "${m_inlay[@]}") mr=$(median "${m_reg[@]}")
bi=$(median "${b_inlay[@]}") br=$(median "${b_reg[@]}")
pi=$(median "${p_inlay[@]}") pp=$(median "${p_proxy[@]}") pr=$(median "${p_reg[@]}")
md "## inlay serve against docker-registry" "" \
	"Machine: $(nproc) CPUs, $(uname -r); wrk -t2 -c$CONNS -d${SECS}s --timeout 10s; $RUNS alternating runs per side; medians, ranges in brackets." "" \
	"| measurement | inlay serve | docker-registry | ratio |" "|---|---|---|---|" \
	"| warm manifest GET, requests/s | $mi [$(range "${m_inlay[@]}")] | $mr [$(range "${m_reg[@]}")] | $(ratio "$mi" "$mr") |" \
	"| warm 16 MiB blob GET, MB/s | $bi [$(range "${b_inlay[@]}")] | $br [$(range "${b_reg[@]}")] | $(ratio "$bi" "$br") |" \
	"| first pull of the 200 MiB image, s (mirror instrumenting / registry proxy) | $pi [$(range "${p_inlay[@]}")] | $pp [$(range "${p_proxy[@]}")] | $(ratio "$pi" "$pp") |" \
	"| the same, the mirror's store a registry (first pull, then the store completed in the background) | $pr [$(range "${p_reg[@]}")] | $pp | $(ratio "$pr" "$pp") |" \
	"| time to the manifest, first pull, 200 MiB image, s | $(median "${ttm_big[@]}") [$(range "${ttm_big[@]}")] | | |" \
	"| the same, registry store, s | $(median "${ttm_reg[@]}") [$(range "${ttm_reg[@]}")] | | |" \
	"| time to the manifest, first pull, 1 MiB image, s | $(median "${ttm_small[@]}") [$(range "${ttm_small[@]}")] | | |" \
	"| mirror peak RSS after the throughput runs | $(mib "$RSS_KB") MiB | | |"
goal_header
goal "warm manifest throughput, inlay / docker-registry" "$(ratio "$mi" "$mr")" ge 0.8
goal "warm blob throughput, inlay / docker-registry" "$(ratio "$bi" "$br")" ge 0.9
goal "peak RSS under that load, MiB" "$(mib "$RSS_KB")" le 64
goal "first pull 200 MiB, instrumenting mirror / registry proxy" "$(ratio "$pi" "$pp")" le 1.2
goal "the same with a registry store" "$(ratio "$pr" "$pp")" le 1.2
[ ! -e "$T/wrk.failed" ] || BENCH_FAILED=1
exit "$BENCH_FAILED"
