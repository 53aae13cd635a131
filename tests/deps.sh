#!/bin/sh
# deps.sh - install every Debian package that building and testing inlay
# needs; does nothing when they are all present. Run as root (make deps).
set -eu

PACKAGES="
build-essential pkg-config clang
libarchive-dev libssl-dev libjansson-dev libzstd-dev libcurl4-openssl-dev zlib1g-dev
libcmocka-dev libmicrohttpd-dev libyaml-dev
musl-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross musl-dev:arm64
docker-registry skopeo umoci runc busybox-static qemu-user-static
openssl apache2-utils python3 jq curl ca-certificates time iproute2 procps
qemu-system-arm cpio debootstrap
podman containerd wrk
python3-botocore python3-yaml python3-prometheus-client
"

# The arm64 sensor is linked against Debian's arm64 musl (musl-dev:arm64), and
# the arm64 fixture images are built from its arm64 busybox-static .deb: both
# need the arm64 architecture known to dpkg.
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: the arm64 dpkg architecture is missing; run 'make deps' as root" >&2
		exit 1
	fi
	dpkg --add-architecture arm64
	apt-get update -q
fi

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages:$missing; run 'make deps' as root" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi

# kubectl reads rewritten Kubernetes specs back (kubectl kustomize, offline):
# Debian's kubernetes-client, unless a kubectl is installed already.
if ! command -v kubectl >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: kubectl is missing; run 'make deps' as root" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends kubernetes-client
fi

# The busybox-static .debs and the arm64 kernel are only downloaded (never
# installed), kept in build/debs.
debs=build/debs
mkdir -p "$debs"
if ! ls "$debs"/busybox-static_*_arm64.deb >/dev/null 2>&1; then
	(cd "$debs" && apt-get download -q busybox-static:arm64)
fi
if ! ls "$debs"/busybox-static_*_amd64.deb >/dev/null 2>&1; then
	(cd "$debs" && apt-get download -q busybox-static:amd64)
fi
# The arm64 kernel that tests/integration/sensor_arm64_vm.t boots under
# qemu-system-aarch64: Debian's cloud flavour (21 MB; the generic arm64
# package is 60 MB), whichever version linux-image-cloud-arm64 points to now.
kernel_deb() {
	kpkg=$(apt-cache depends linux-image-cloud-arm64:arm64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n 1)
	[ -n "$kpkg" ] && (cd "$debs" && apt-get download -q "$kpkg:arm64")
}
if ! ls "$debs"/linux-image-*-cloud-arm64_*_arm64.deb >/dev/null 2>&1; then
	# Stale package lists name a version the mirror no longer has: update once.
	if ! kernel_deb; then
		apt-get update -q
		if ! kernel_deb; then
			echo "deps: cannot download the kernel linux-image-cloud-arm64:arm64 depends on" >&2
			exit 1
		fi
	fi
fi
echo "deps: all present"
