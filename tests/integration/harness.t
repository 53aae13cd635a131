#!/bin/bash
# harness.t - the integration harness itself, checked with skopeo, umoci,
# runc and curl only (no inlay): TAP helpers fail when they should, the three
# registry variants start and serve pushes and pulls, the token server issues
# tokens the registry accepts, fixtures are valid images that run, the
# corrupt-blob helper breaks a digest, and cleanup stops every server.
. "$(dirname "$0")/lib.sh"
require_tools skopeo umoci runc jq curl openssl htpasswd docker-registry flock dpkg-deb
[ "$(id -u)" -eq 0 ] || bail_out "the integration tests run as root (umoci unpack, runc)"

plan 78

# --- TAP helpers: a failing check must report "not ok" and fail the file ----
cat >"$T/selftest.t" <<EOF
. "$LIB_DIR/lib.sh"
plan 6
is a a "is equal"
is a b "is different"
like "hello world" "wor" "like"
ok "true passes" true
not_ok "false fails" false
run sh -c 'echo out; echo err >&2; exit 7'
is "\$status:\$stdout:\$stderr" "7:out:err" "run captures"
done_testing
EOF
run bash "$T/selftest.t"
is "$status" 1 "a .t with a failing check exits 1"
like "$stdout" '^not ok 2 - is different$' "the failing check is reported as not ok"
is "$(grep -c '^ok ' "$RUN_OUT")" 5 "the passing checks are reported as ok"
like "$stdout" '^1\.\.6$' "the plan is printed"

cat >"$T/early.t" <<EOF
. "$LIB_DIR/lib.sh"
plan 2
pass one
exit 0
EOF
run bash "$T/early.t"
isnt "$status" 0 "a .t that ends without done_testing fails"

# --- fixtures -----------------------------------------------------------------
t0=$(now_ms)
fixtures_build single arm64 zstd multi
pass "fixtures single arm64 zstd multi built or cached ($(secs_since "$t0") s)"

S=$(fixture single)
SM=$(layout_blob "$S" "$(fixture_digest single)")
is "$(jq -r '.layers | length' "$SM")" 3 "single has three layers"
SC=$(layout_blob "$S" "$(jq -r .config.digest "$SM")")
is "$(jq -r '.os + "/" + .architecture' "$SC")" linux/amd64 "single's config says linux/amd64"
is "$(jq -r '.config.Cmd | join(" ")' "$SC")" /usr/local/bin/hello "single's Cmd is the hello script"
ok "skopeo reads the single layout" sk inspect --raw "$(fixture_ref single)"

ok "umoci unpacks single" umoci unpack --image "$S:single" "$T/b-single"
run chroot "$T/b-single/rootfs" /bin/busybox echo fixture-ok
is "$stdout" fixture-ok "busybox from the unpacked amd64 rootfs runs (chroot)"
run chroot "$T/b-single/rootfs" /usr/local/bin/hello
is "$stdout" "hello from inlay test fixture single linux/amd64" "the Cmd runs in the rootfs"
jq '.process.terminal = false' "$T/b-single/config.json" >"$T/cfg" &&
	mv "$T/cfg" "$T/b-single/config.json"
run timeout 30 runc run --bundle "$T/b-single" "inlay-harness-$$"
is "$stdout" "hello from inlay test fixture single linux/amd64" "runc runs the unpacked bundle"
runc delete -f "inlay-harness-$$" >/dev/null 2>&1

A=$(fixture arm64)
AM=$(layout_blob "$A" "$(fixture_digest arm64)")
AC=$(layout_blob "$A" "$(jq -r .config.digest "$AM")")
is "$(jq -r '.os + "/" + .architecture' "$AC")" linux/arm64 "arm64's config says linux/arm64"
ok "umoci unpacks arm64" umoci unpack --image "$A:arm64" "$T/b-arm64"
# e_machine at offset 18 of the ELF header: 0xb7 0x00 is AArch64.
is "$(od -An -j18 -N2 -tx1 "$T/b-arm64/rootfs/bin/busybox" | tr -d ' ')" b700 \
	"arm64's busybox is an AArch64 binary"
if command -v qemu-aarch64-static >/dev/null; then
	run qemu-aarch64-static "$T/b-arm64/rootfs/bin/busybox" echo arm-ok
	is "$stdout" arm-ok "arm64 busybox runs under qemu-aarch64-static"
else
	skip "arm64 busybox runs under qemu" "qemu-aarch64-static not installed"
fi

Z=$(fixture zstd)
ZM=$(layout_blob "$Z" "$(fixture_digest zstd)")
is "$(jq -r '[.layers[].mediaType] | unique | join(",")' "$ZM")" \
	application/vnd.oci.image.layer.v1.tar+zstd "zstd has zstd layers only"
is "$(jq -r .config.digest "$ZM")" "$(jq -r .config.digest "$SM")" "zstd keeps single's config"
ok "skopeo copies zstd to another layout (verifies digests)" \
	sk copy -q "$(fixture_ref zstd)" "oci:$T/zstd-copy:z"
# (umoci 0.4.7 cannot unpack zstd layers, so it cannot be a check here.)

M=$(fixture multi)
MI=$(layout_blob "$M" "$(fixture_digest multi)")
is "$(sha256_file "$MI")" "$(fixture_digest multi)" "multi's index blob matches its digest"
is "$(jq -r '.mediaType' "$MI")" application/vnd.oci.image.index.v1+json "multi is an OCI index"
is "$(jq -r '[.manifests[] | .platform | .os + "/" + .architecture] | join(" ")' "$MI")" \
	"linux/amd64 linux/arm64 unknown/unknown" "multi has amd64, arm64 and an attestation"
is "$(jq -r '.manifests[0].digest' "$MI")" "$(fixture_digest single)" \
	"multi's amd64 child is the single image"
is "$(jq -r '.manifests[1].digest' "$MI")" "$(fixture_digest arm64)" \
	"multi's arm64 child is the arm64 image"
is "$(jq -r '.manifests[2].annotations["vnd.docker.reference.digest"]' "$MI")" \
	"$(fixture_digest single)" "the attestation refers to the amd64 manifest"
ATT=$(layout_blob "$M" "$(jq -r '.manifests[2].digest' "$MI")")
is "$(jq -r '.layers[0].mediaType' "$ATT")" application/vnd.in-toto+json \
	"the attestation's layer is in-toto JSON"
like "$(jq -r '.annotations["org.opencontainers.image.description"]' "$MI")" 'inlay test fixture' \
	"multi has an index annotation"
ok "skopeo copies all of multi to another layout" \
	sk copy -q --all --preserve-digests "$(fixture_ref multi)" "oci:$T/multi-copy:m"
is "$(layout_digest "$T/multi-copy" m)" "$(fixture_digest multi)" "...with the same index digest"

# --- open registry ------------------------------------------------------------
t0=$(now_ms)
start_registry open
pass "open registry started ($(secs_since "$t0") s)"
is "$(_http_code "$REG_URL/v2/")" 200 "open registry answers GET /v2/ with 200"
push_fixture single "$REG/single:1"
is "$(skopeo_digest "docker://$REG/single:1")" "$(fixture_digest single)" \
	"skopeo pushes single to the open registry, digest kept"
ok "skopeo pulls it back into a layout" sk copy -q "docker://$REG/single:1" "oci:$T/pulled:p"
is "$(layout_digest "$T/pulled" p)" "$(fixture_digest single)" "...with the same digest"
like "$(cat "$REG_LOG")" '"PUT /v2/single/manifests/1 HTTP/1.1" 201' \
	"the registry log has the access log"

push_fixture multi "$REG/multi:1"
is "$(skopeo_digest "docker://$REG/multi:1")" "$(fixture_digest multi)" \
	"skopeo pushes the whole multi index, digest kept"
is "$(skopeo_raw "docker://$REG/multi:1" | jq '.manifests | length')" 3 \
	"the pushed index has three children"
ATT_D=$(jq -r '.manifests[2].digest' "$MI")
is "$(skopeo_digest "docker://$REG/multi@$ATT_D")" "$ATT_D" \
	"the attestation manifest is in the registry"

push_fixture docker "$REG/docker:1"
is "$(skopeo_raw "docker://$REG/docker:1" | jq -r .mediaType)" \
	application/vnd.docker.distribution.manifest.v2+json "push_fixture docker gives Docker schema2"

push_fixture zstd "$REG/zstd:1"
is "$(skopeo_digest "docker://$REG/zstd:1")" "$(fixture_digest zstd)" \
	"the zstd image goes into the registry unchanged"

# --- corrupt_blob ---------------------------------------------------------------
LAYER=$(jq -r '.layers[0].digest' "$SM")
push_fixture single "$REG/victim:1"
BLOB=$(registry_blob_path "$LAYER")
size_before=$(stat -c %s "$BLOB")
corrupt_blob "$LAYER"
is "$(stat -c %s "$BLOB")" "$size_before" "corrupt_blob keeps the blob's size"
isnt "$(sha256_file "$BLOB")" "$LAYER" "corrupt_blob changes the blob's digest"
run sk copy -q "docker://$REG/victim:1" "oci:$T/victim:v"
isnt "$status" 0 "skopeo copy of the corrupted image fails"
like_i "$stderr" 'digest' "...because of a digest mismatch"

D_SINGLE=$(fixture_digest single)
corrupt_manifest "$D_SINGLE"
isnt "$(skopeo_digest "docker://$REG/victim:1")" "$D_SINGLE" \
	"corrupt_manifest: the registry serves other bytes under the tag"
is "$(curl -s --noproxy '*' -o /dev/null -D - \
	-H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REG_URL/v2/victim/manifests/1" |
	tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')" "$D_SINGLE" \
	"...still naming the old digest"
ok "...and the JSON is still valid" sh -c "skopeo --policy '$_SK_POLICY' inspect --raw \
	--tls-verify=false docker://$REG/victim:1 | jq -e .config"

# --- basic (TLS + htpasswd) registry ------------------------------------------
t0=$(now_ms)
start_registry basic B
pass "basic registry started ($(secs_since "$t0") s)"
like "$B_URL" '^https://127\.0\.0\.1:[0-9]+$' "basic registry speaks TLS"
is "$(_http_code "$B_URL/v2/" --cacert "$B_CA")" 401 "it asks for credentials"
is "$(_http_code "$B_URL/v2/" --cacert "$B_CA" -u "$B_USER:$B_PASS")" 200 \
	"it accepts the user and password"
is "$(_http_code "https://localhost:$B_PORT/v2/" --cacert "$B_CA" -u "$B_USER:$B_PASS")" 200 \
	"its certificate is valid for localhost too"
push_fixture single "$B/single:1"
is "$(skopeo_digest "docker://$B/single:1")" "$(fixture_digest single)" \
	"skopeo pushes and reads back through TLS and Basic auth"
run sk inspect --raw --no-creds "docker://$B/single:1"
isnt "$status" 0 "anonymous skopeo inspect is refused"
run sk inspect --raw --creds "$B_USER:wrong" "docker://$B/single:1"
like_i "$stderr" 'unauthorized|authentication' "a wrong password is refused"
run skopeo inspect --raw --creds "$B_USER:$B_PASS" "docker://$B/single:1"
like_i "$stderr" 'certificate|x509' "without the CA the certificate is not trusted"

# --- bearer (token) registry ----------------------------------------------------
t0=$(now_ms)
start_registry bearer C
pass "bearer registry started ($(secs_since "$t0") s)"
challenge=$(curl -s --noproxy '*' -D - -o /dev/null "$C_URL/v2/" | tr -d '\r' |
	sed -n 's/^[Ww]ww-[Aa]uthenticate: //p')
like "$challenge" "^Bearer realm=\"$C_TOKEN_REALM\",service=\"inlay-test\"" \
	"the registry challenges with the token server's realm"
ok "skopeo pushes through the token server" \
	sk copy -q --dest-creds "$C_USER:$C_PASS" "$(fixture_ref single)" "docker://$C/tok/app:1"
is "$(skopeo_digest --creds "$C_USER:$C_PASS" "docker://$C/tok/app:1")" "$(fixture_digest single)" \
	"...and pulls it back, digest kept"
like "$(cat "$C_TOKEN_LOG")" \
	"user=$C_USER service=inlay-test scope=\[repository:tok/app:pull,push\] granted=\[repository:tok/app:pull,push\] status=200" \
	"the token log shows the push scope granted"
unlike "$(cat "$C_TOKEN_LOG")" "$C_PASS" "the token log never holds the password"
run sk inspect --raw --creds "$C_USER:nope" "docker://$C/tok/app:1"
isnt "$status" 0 "a wrong password gets no token"
like "$(tail -n 1 "$C_TOKEN_LOG")" 'status=401 bad-credentials' "...and the token log says why"
run sk inspect --raw --no-creds "docker://$C/tok/app:1"
isnt "$status" 0 "anonymous clients get no token without --anonymous-pull"
tok=$(curl -s --noproxy '*' -u "$C_USER:$C_PASS" \
	"$C_TOKEN_REALM?service=inlay-test&scope=repository:a:pull&scope=repository:b:pull,push" |
	jq -r .token)
# base64url without padding -> base64
claims=$(echo "$tok" | cut -d. -f2 | tr '_-' '/+' | {
	b=$(cat)
	while [ $((${#b} % 4)) -ne 0 ]; do b="$b="; done
	echo "$b"
} | base64 -d)
is "$(echo "$claims" | jq -c '[.iss, .aud, .access]')" \
	"$(printf '%s' '["inlay-test-issuer","inlay-test",' \
		'[{"type":"repository","name":"a","actions":["pull"]},' \
		'{"type":"repository","name":"b","actions":["pull","push"]}]]')" \
	"a token grants every requested scope (several scope parameters)"
is "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -u "$C_USER:$C_PASS" \
	"$C_TOKEN_REALM?service=other&scope=repository:a:pull")" 400 \
	"the token server refuses another service"

start_registry bearer D --anonymous-pull
push_fixture single "$D/pub:1"
is "$(skopeo_digest --no-creds "docker://$D/pub:1")" "$(fixture_digest single)" \
	"with --anonymous-pull, anonymous clients can pull"
run sk copy -q --dest-no-creds "$(fixture_ref single)" "docker://$D/pub:2"
isnt "$status" 0 "...but not push"

# --- ports and cleanup ------------------------------------------------------------
# A port taken meanwhile: start_registry must retry on another one.
cat >"$T/busy.t" <<EOF
. "$LIB_DIR/lib.sh"
# free_port runs in \$(...): count its calls in a file.
free_port() {
	echo x >>"\$T/calls"
	if [ "\$(wc -l <"\$T/calls")" -eq 1 ]; then echo $REG_PORT; return; fi
	"\$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
start_registry open
echo "port=\$REG_PORT pid=\$REG_PID tmp=\$T"
done_testing
EOF
run bash "$T/busy.t"
is "$status" 0 "start_registry survives a port taken meanwhile"
sub_port=$(sed -n 's/.*port=\([0-9]*\).*/\1/p' "$RUN_OUT")
sub_pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$RUN_OUT")
sub_tmp=$(sed -n 's/.*tmp=\(.*\)$/\1/p' "$RUN_OUT")
isnt "$sub_port" "$REG_PORT" "...and picks another port"
ok "the test's registry is gone after the test" sh -c "! kill -0 $sub_pid 2>/dev/null"
ok "the test's temporary directory is gone" test ! -e "$sub_tmp"
is "$(_http_code "$REG_URL/v2/")" 200 "the registry whose port was taken still runs"

# A server that dies mid-test is reported, and fails the test file.
cat >"$T/dies.t" <<EOF
. "$LIB_DIR/lib.sh"
plan 1
start_registry open
kill -KILL \$REG_PID
for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 \$REG_PID 2>/dev/null || break; sleep 0.2; done
pass "all checks passed"
done_testing
EOF
run bash "$T/dies.t"
is "$status" 1 "a registry that died mid-test fails the file"
like "$stdout" "ended before the test did" "...and the log says so"

done_testing
