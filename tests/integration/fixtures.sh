# fixtures.sh - test images built from Debian's busybox-static, sourced by lib.sh.
#
# Built once and cached as OCI image layouts under $FIXTURES_DIR
# (build/fixtures), each with one ref named after the fixture:
#
#   single  linux/amd64 image, three layers: busybox + applet links,
#           /etc/{fixture,passwd,group}, /usr/local/bin/hello (the Cmd)
#   arm64   the same for linux/arm64 (busybox from the arm64 .deb)
#   zstd    `single` with zstd-compressed layers (skopeo)
#   multi   an OCI index: single (linux/amd64), arm64 (linux/arm64/v8) and a
#           buildx-style attestation manifest (unknown/unknown, in-toto layer),
#           with index annotations
#   docker  (registry only, see push_fixture) `single` as Docker schema2
#   big200  `single` with a fourth layer of 200 MB of incompressible bytes
#           (/big.bin), for first pulls whose latency must not grow with size
#   apps    real software from Debian's packages (debootstrap --variant=minbase
#           of bookworm with nginx-light, postgresql and python3; about 150 MB):
#           one layer, three refs with the official images' entrypoints:
#           nginx (nginx -g 'daemon off;', StopSignal SIGQUIT), postgres
#           (docker-entrypoint.sh postgres as user postgres: initdb on the
#           first start; StopSignal SIGINT), python (python3). Use app_ref.
#
# Use:  fixtures_build single multi        # at the top of a .t: builds, times
#       L=$(fixture single)                # the layout path (read-only!)
#       fixture_ref single                 # oci:PATH:single
#       fixture_digest single              # its manifest digest
#       push_fixture single "$REG/app:1"   # into a test registry
#
# The cache is shared by every test and guarded by flock; a fixture is built
# in a temporary directory and renamed into place, so a reader never sees half
# of one. A stamp (recipe version, .deb names, digests of what it was built
# from) decides when it must be rebuilt. Never write into a fixture layout:
# copy it first (cp -a).

FIXTURE_VERSION=1
FIXTURE_APPLETS="sh ash echo cat sleep true false ls wc env id ps grep sed head tail mkdir rm
cp mv touch chmod ln pwd uname date printf test [ kill hostname expr sort uniq tr cut tee find
xargs stat readlink dirname basename yes seq od sha256sum"
declare -gA _FIXTURE_READY=() # fixtures known good in this shell
APPS_PACKAGES="nginx-light,postgresql,python3"
FIXTURE_DESCRIPTION="inlay test fixture: busybox for linux/amd64 and linux/arm64"

# _fixture_deb ARCH: the busybox-static .deb for ARCH in $DEBS_DIR.
_fixture_deb() {
	local f
	for f in "$DEBS_DIR"/busybox-static_*_"$1".deb; do
		[ -f "$f" ] && {
			echo "$f"
			return 0
		}
	done
	echo "no busybox-static .deb for $1 in $DEBS_DIR: run 'make deps'" >&2
	return 1
}

# layout_digest PATH [REFNAME]: the manifest digest REFNAME (default: the
# only or first entry) points at in the OCI layout PATH.
layout_digest() {
	local path=$1 ref=${2:-}
	if [ -n "$ref" ]; then
		jq -er --arg r "$ref" \
			'[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r)][0].digest' \
			"$path/index.json"
	else
		jq -er '.manifests[0].digest' "$path/index.json"
	fi
}

# layout_blob PATH DIGEST: the file holding a blob of an OCI layout.
layout_blob() {
	echo "$1/blobs/sha256/${2#sha256:}"
}

_fixture_stamp() {
	local name=$1
	case $name in
	single) echo "v$FIXTURE_VERSION $(basename "$(_fixture_deb amd64)")" ;;
	arm64) echo "v$FIXTURE_VERSION $(basename "$(_fixture_deb arm64)")" ;;
	zstd | big200) echo "v$FIXTURE_VERSION $(fixture_digest single)" ;;
	multi) echo "v$FIXTURE_VERSION $(fixture_digest single) $(fixture_digest arm64)" ;;
	apps) echo "v$FIXTURE_VERSION bookworm $APPS_PACKAGES" ;;
	*) return 1 ;;
	esac
}

_fixture_ok() {
	local stamp
	stamp=$(_fixture_stamp "$1") || return 1
	[ -f "$FIXTURES_DIR/$1/.complete" ] && [ "$(cat "$FIXTURES_DIR/$1/.complete")" = "$stamp" ]
}

# _fixture_ensure NAME: build NAME (and what it is made from) unless cached.
# Messages on stderr; returns non-zero on failure.
_fixture_ensure() {
	local name=$1 dep
	case $name in
	single | arm64 | apps) ;;
	zstd | big200) _fixture_ensure single || return 1 ;;
	multi) for dep in single arm64; do _fixture_ensure "$dep" || return 1; done ;;
	*)
		echo "unknown fixture '$name' (single, arm64, zstd, multi, big200, apps)" >&2
		return 1
		;;
	esac
	[ -n "${_FIXTURE_READY[$name]:-}" ] && return 0
	if _fixture_ok "$name"; then
		_FIXTURE_READY[$name]=1
		return 0
	fi
	mkdir -p "$FIXTURES_DIR" || return 1
	local t0
	t0=$(now_ms)
	(
		flock -w 600 9 || {
			echo "timed out waiting for the fixture lock $FIXTURES_DIR/.lock" >&2
			exit 1
		}
		_fixture_ok "$name" && exit 0 # built by someone else meanwhile
		tmp=$(mktemp -d "$FIXTURES_DIR/.tmp-$name.XXXXXX") || exit 1
		if ! "_fixture_build_$name" "$tmp/layout" "$tmp" >"$tmp/build.log" 2>&1; then
			echo "building fixture $name failed:" >&2
			tail -n 30 "$tmp/build.log" >&2
			rm -rf "$tmp"
			exit 1
		fi
		_fixture_stamp "$name" >"$tmp/layout/.complete"
		if [ -e "$FIXTURES_DIR/$name" ]; then
			mv "$FIXTURES_DIR/$name" "$tmp/old"
		fi
		mv "$tmp/layout" "$FIXTURES_DIR/$name" && rm -rf "$tmp"
		echo "# built fixture $name in $(secs_since "$t0") s" >&2
	) 9>"$FIXTURES_DIR/.lock" || return 1
	_FIXTURE_READY[$name]=1
}

# fixtures_build NAME...: make sure the fixtures exist (building them when
# needed); bails out on failure. Prints how long it took.
fixtures_build() {
	local n t0
	t0=$(now_ms)
	for n in "$@"; do
		_fixture_ensure "$n" 2>"$T/.fixture.err" || bail_out "fixture $n: $(cat "$T/.fixture.err")"
		[ -s "$T/.fixture.err" ] && diag "$(sed 's/^# //' "$T/.fixture.err")"
	done
	diag "fixtures $* ready in $(secs_since "$t0") s ($FIXTURES_DIR)"
}

# fixture NAME: the path of fixture NAME's OCI layout (building it if needed).
fixture() {
	_fixture_ensure "$1" || return 1
	echo "$FIXTURES_DIR/$1"
}

# fixture_ref NAME: "oci:PATH:NAME", the skopeo/inlay reference of a fixture.
fixture_ref() {
	local path
	path=$(fixture "$1") || return 1
	echo "oci:$path:$1"
}

# fixture_digest NAME: the manifest (or index) digest of fixture NAME.
fixture_digest() {
	local path
	path=$(fixture "$1") || return 1
	layout_digest "$path" "$1"
}

# app_ref NAME: "oci:PATH:NAME" for nginx, postgres or python of `apps`.
app_ref() {
	local path
	path=$(fixture apps) || return 1
	echo "oci:$path:$1"
}

# push_fixture NAME [REGISTRY/]REPO:TAG: put a fixture into a registry with
# skopeo, digests preserved. NAME "docker" is `single` converted to Docker
# schema2 (which has no OCI layout form skopeo can keep).
push_fixture() {
	local name=$1 dst=$2
	case $dst in docker://*) ;; *) dst=docker://$dst ;; esac
	case $name in
	docker) sk copy -q --format v2s2 "$(fixture_ref single)" "$dst" ;;
	multi) sk copy -q --all --preserve-digests "$(fixture_ref multi)" "$dst" ;;
	*) sk copy -q --preserve-digests "$(fixture_ref "$name")" "$dst" ;;
	esac >"$T/.push.out" 2>&1 || bail_out "push_fixture $name $dst: $(cat "$T/.push.out")"
}

# --- recipes: _fixture_build_NAME OUT_LAYOUT WORKDIR, output to a log. Every
# step ends in "|| return 1": set -e would be ignored here, since the callers
# test the status.

_fixture_build_image() { # out work arch refname
	local out=$1 work=$2 arch=$3 ref=$4 deb a
	deb=$(_fixture_deb "$arch") || return 1
	dpkg-deb -x "$deb" "$work/deb" || return 1
	umoci init --layout "$out" || return 1
	umoci new --image "$out:$ref" || return 1
	umoci unpack --image "$out:$ref" "$work/bundle" || return 1
	local r=$work/bundle/rootfs
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root" "$r/proc" "$r/sys" "$r/dev" || return 1
	chmod 1777 "$r/tmp" && chmod 0700 "$r/root" || return 1
	install -m 0755 "$work/deb/bin/busybox" "$r/bin/busybox" || return 1
	for a in $FIXTURE_APPLETS; do ln -s busybox "$r/bin/$a" || return 1; done
	umoci repack --refresh-bundle --image "$out:$ref" \
		--history.created_by "busybox-static $(basename "$deb") and applet links" \
		"$work/bundle" || return 1

	printf 'inlay test fixture %s linux/%s\n' "$ref" "$arch" >"$r/etc/fixture" || return 1
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$r/etc/passwd" || return 1
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$r/etc/group" || return 1
	umoci repack --refresh-bundle --image "$out:$ref" \
		--history.created_by "identity files" "$work/bundle" || return 1

	mkdir -p "$r/usr/local/bin" || return 1
	printf '%s\n' '#!/bin/sh' 'echo "hello from $(cat /etc/fixture)" "$@"' \
		>"$r/usr/local/bin/hello" || return 1
	chmod 0755 "$r/usr/local/bin/hello" || return 1
	umoci repack --refresh-bundle --image "$out:$ref" \
		--history.created_by "hello script" "$work/bundle" || return 1

	umoci config --image "$out:$ref" --architecture "$arch" --os linux \
		--config.cmd /usr/local/bin/hello \
		--config.env PATH=/usr/local/bin:/usr/bin:/bin --config.workingdir / \
		--config.label "org.opencontainers.image.title=inlay-fixture-$ref" \
		--history.created_by "config" || return 1
	umoci gc --layout "$out" || return 1
	# umoci writes blobs 0600; readers other than root should not be refused.
	chmod -R a+rX "$out"
}

_fixture_build_single() {
	_fixture_build_image "$1" "$2" amd64 single
}

_fixture_build_arm64() {
	_fixture_build_image "$1" "$2" arm64 arm64
}

_fixture_build_zstd() {
	local out=$1 src m
	src=$(fixture_ref single) || return 1
	skopeo --policy "$_SK_POLICY" copy -q --dest-compress-format zstd "$src" "oci:$out:zstd" ||
		return 1
	m=$(layout_blob "$out" "$(layout_digest "$out" zstd)") || return 1
	# skopeo must really have recompressed: every layer zstd.
	jq -e '[.layers[].mediaType] | length == 3 and
		all(. == "application/vnd.oci.image.layer.v1.tar+zstd")' "$m" || return 1
	chmod -R a+rX "$out"
}

_fixture_build_big200() {
	local out=$1 work=$2
	cp -a "$(fixture single)" "$out" || return 1
	rm -f "$out/.complete"
	# AES-CTR of zeros: incompressible, and the same bytes on every build.
	openssl enc -aes-128-ctr -pass pass:inlay-serve-big -nosalt -pbkdf2 </dev/zero 2>/dev/null |
		head -c $((200 * 1048576)) >"$work/big.bin"
	[ "$(stat -c %s "$work/big.bin")" = $((200 * 1048576)) ] || return 1
	umoci insert --image "$out:single" --tag big200 --history.created 1970-01-01T00:00:00Z \
		"$work/big.bin" /big.bin || return 1
	rm -f "$work/big.bin"
	umoci gc --layout "$out" || return 1
	chmod -R a+rX "$out"
}

_fixture_build_multi() {
	local single arm64
	single=$(fixture single) && arm64=$(fixture arm64) || return 1
	"$PYTHON" - "$single" "$arm64" "$1" "$FIXTURE_DESCRIPTION" <<'EOF' || return 1
import hashlib, json, os, shutil, sys

single, arm64, out, description = sys.argv[1:5]
blobs = os.path.join(out, "blobs", "sha256")
os.makedirs(blobs)

def put(data):
    hexd = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, hexd), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + hexd, "size": len(data)}

def child(layout, ref):
    with open(os.path.join(layout, "index.json")) as f:
        idx = json.load(f)
    d = [m for m in idx["manifests"]
         if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]
    src = os.path.join(layout, "blobs", "sha256")
    for name in os.listdir(src):
        if not os.path.exists(os.path.join(blobs, name)):
            shutil.copyfile(os.path.join(src, name), os.path.join(blobs, name))
    return d

amd = child(single, "single")
arm = child(arm64, "arm64")

# A buildx-style SBOM attestation for the amd64 image.
statement = {
    "_type": "https://in-toto.io/Statement/v0.1",
    "predicateType": "https://spdx.dev/Document",
    "subject": [{"name": "pkg:docker/inlay-fixture@multi?platform=linux%2Famd64",
                 "digest": {"sha256": amd["digest"].split(":", 1)[1]}}],
    "predicate": {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
                  "name": "inlay-fixture", "dataLicense": "CC0-1.0",
                  "packages": [{"name": "busybox", "SPDXID": "SPDXRef-busybox",
                                "versionInfo": "1.35.0"}]},
}
layer = put(json.dumps(statement, indent=2, sort_keys=True).encode() + b"\n")
config = put(json.dumps({
    "architecture": "unknown", "os": "unknown", "config": {},
    "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
}, sort_keys=True).encode())
att_manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **config),
    "layers": [dict(mediaType="application/vnd.in-toto+json", **layer,
                    annotations={"in-toto.io/predicate-type": "https://spdx.dev/Document"})],
}
att = put(json.dumps(att_manifest, indent=2).encode())

index = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {"mediaType": amd["mediaType"], "digest": amd["digest"], "size": amd["size"],
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": arm["mediaType"], "digest": arm["digest"], "size": arm["size"],
         "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
        dict(mediaType="application/vnd.oci.image.manifest.v1+json", **att,
             platform={"architecture": "unknown", "os": "unknown"},
             annotations={"vnd.docker.reference.type": "attestation-manifest",
                          "vnd.docker.reference.digest": amd["digest"]}),
    ],
    "annotations": {"org.opencontainers.image.description": description,
                    "org.opencontainers.image.title": "inlay-fixture-multi"},
}
idx = put(json.dumps(index, indent=2).encode())

with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [dict(
        mediaType="application/vnd.oci.image.index.v1+json", **idx,
        annotations={"org.opencontainers.image.ref.name": "multi"})]}, f)
EOF
	chmod -R a+rX "$1"
}

# The Debian mirror this machine installs from (debootstrap's source).
_debian_mirror() {
	local u
	u=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$u" ] || u=$(sed -n 's/^deb \(http[^ ]*\) bookworm main.*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
	echo "${u:-http://deb.debian.org/debian}"
}

_fixture_build_apps() {
	local out=$1 work=$2 r=$2/rootfs
	debootstrap --variant=minbase --include="$APPS_PACKAGES" bookworm "$r" "$(_debian_mirror)" ||
		return 1
	rm -rf "$r"/usr/share/doc "$r"/usr/share/man "$r"/usr/share/info "$r"/usr/share/locale \
		"$r"/var/cache/apt/* "$r"/var/lib/apt/lists/* "$r"/var/log/*.log || return 1
	# As the official postgres image: a data directory owned by postgres, and
	# an entrypoint that initialises it on the first start.
	mkdir -p "$r/var/lib/postgresql/data" "$r/var/run/postgresql" || return 1
	chroot "$r" chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql || return 1
	chmod 0700 "$r/var/lib/postgresql/data" || return 1
	cat >"$r/usr/local/bin/docker-entrypoint.sh" <<'SH' || return 1
#!/bin/sh
set -e
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	initdb --username=postgres --auth=trust -D "$PGDATA" >/dev/null
fi
exec "$@"
SH
	chmod 0755 "$r/usr/local/bin/docker-entrypoint.sh" || return 1
	umoci init --layout "$out" || return 1
	umoci new --image "$out:base" || return 1
	umoci unpack --image "$out:base" "$work/bundle" || return 1
	cp -a "$r/." "$work/bundle/rootfs/" || return 1
	umoci repack --image "$out:base" --history.created_by \
		"debootstrap --variant=minbase --include=$APPS_PACKAGES bookworm" "$work/bundle" || return 1
	local path=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	umoci config --image "$out:base" --tag nginx --os linux --architecture amd64 \
		--config.env "$path" --config.cmd nginx --config.cmd -g --config.cmd 'daemon off;' \
		--config.stopsignal SIGQUIT --config.exposedports 80/tcp || return 1
	umoci config --image "$out:base" --tag postgres --os linux --architecture amd64 \
		--config.env "$path:/usr/lib/postgresql/15/bin" \
		--config.env PGDATA=/var/lib/postgresql/data --config.user postgres \
		--config.entrypoint docker-entrypoint.sh --config.cmd postgres \
		--config.stopsignal SIGINT --config.exposedports 5432/tcp || return 1
	umoci config --image "$out:base" --tag python --os linux --architecture amd64 \
		--config.env "$path" --config.cmd python3 || return 1
	umoci rm --image "$out:base" && umoci gc --layout "$out" || return 1
	chmod -R a+rX "$out"
}
