#!/bin/bash
# copy_auth.t - `inlay copy` with credentials: Basic auth over TLS with a CA
# of our own (--ca-file), credentials from --creds, --creds-stdin, --authfile,
# REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, DOCKER_CONFIG and
# ~/.docker/config.json (and which one wins), Bearer tokens from a token
# server for push, pull and cross-repository mounts, and copies between the two
# kinds of registry. No password may show up in inlay's output.
. "$(dirname "$0")/lib.sh"
require_tools skopeo jq
require_inlay

plan 57

fixtures_build single multi
D_SINGLE=$(fixture_digest single)
D_MULTI=$(fixture_digest multi)

start_registry basic B  # TLS + htpasswd
start_registry bearer C # token server
start_registry open     # a plain source for the bearer registry
push_fixture single "$B/src/single:1"
push_fixture multi "$B/src/multi:1"
push_fixture single "$REG/src/single:1"

# no_secret DESC: neither password appears in the last run's stdout or stderr.
no_secret() {
	unlike "$(cat "$RUN_OUT" "$RUN_ERR")" "$B_PASS|$C_PASS" "$1: no password in the output"
}

# --- Basic auth over TLS ------------------------------------------------------
run "$INLAY" copy --ca-file "$B_CA" --creds "$B_USER:$B_PASS" "$B/src/single:1" "$B/dst/single:1"
is "$status:$stdout" "0:$B/dst/single@$D_SINGLE" "--ca-file and --creds: copy within the TLS registry"
is "$(skopeo_digest "docker://$B/dst/single:1")" "$D_SINGLE" "skopeo reads the copy"
ok "skopeo pulls it, verifying every blob" sk copy -q "docker://$B/dst/single:1" "oci:$T/v1:v"
no_secret "--creds"

run "$INLAY" copy --ca-file "$B_CA" --creds "$B_USER:$B_PASS" \
	"localhost:$B_PORT/src/single:1" "oci:$T/by-name:x"
is "$status:$(layout_digest "$T/by-name" x)" "0:$D_SINGLE" \
	"the registry is reached by the name localhost too (certificate SAN)"

run "$INLAY" copy --ca-file "$B_CA" "$B/src/single:1" "oci:$T/anon:x"
is "$status" 1 "(without credentials the TLS registry refuses: exit 1)"

run_in "$B_USER:$B_PASS" "$INLAY" copy --ca-file "$B_CA" --creds-stdin \
	"$B/src/single:1" "$B/stdin/single:1"
is "$status:$stdout" "0:$B/stdin/single@$D_SINGLE" "--creds-stdin reads USER:PASS from stdin"
no_secret "--creds-stdin"

# --- credentials from files ---------------------------------------------------------
write_docker_config "$T/auth.json" "$B" "$B_USER" "$B_PASS"
write_docker_config "$T/wrong.json" "$B" "$B_USER" "not-the-password"
ok "(skopeo accepts the same auth file)" sk inspect --raw --authfile "$T/auth.json" "docker://$B/src/single:1"

run "$INLAY" copy --ca-file "$B_CA" --authfile "$T/auth.json" "$B/src/single:1" "$B/af/single:1"
is "$status:$stdout" "0:$B/af/single@$D_SINGLE" "--authfile with a base64 auth entry"
no_secret "--authfile"

run env REGISTRY_AUTH_FILE="$T/auth.json" "$INLAY" copy --ca-file "$B_CA" \
	"$B/src/single:1" "$B/raf/single:1"
is "$status:$stdout" "0:$B/raf/single@$D_SINGLE" "REGISTRY_AUTH_FILE"

mkdir -p "$T/dockercfg"
cp "$T/auth.json" "$T/dockercfg/config.json"
run env DOCKER_CONFIG="$T/dockercfg" "$INLAY" copy --ca-file "$B_CA" \
	"$B/src/single:1" "$B/dc/single:1"
is "$status:$stdout" "0:$B/dc/single@$D_SINGLE" "DOCKER_CONFIG/config.json"

mkdir -p "$XDG_RUNTIME_DIR/containers"
cp "$T/auth.json" "$XDG_RUNTIME_DIR/containers/auth.json"
run "$INLAY" copy --ca-file "$B_CA" "$B/src/single:1" "$B/xdg/single:1"
is "$status:$stdout" "0:$B/xdg/single@$D_SINGLE" "\$XDG_RUNTIME_DIR/containers/auth.json"
rm -f "$XDG_RUNTIME_DIR/containers/auth.json"

mkdir -p "$HOME/.docker"
cp "$T/auth.json" "$HOME/.docker/config.json"
run "$INLAY" copy --ca-file "$B_CA" "$B/src/single:1" "$B/home/single:1"
is "$status:$stdout" "0:$B/home/single@$D_SINGLE" "~/.docker/config.json"
rm -f "$HOME/.docker/config.json"

# Which source wins: --creds, then --authfile, then REGISTRY_AUTH_FILE, ...
run "$INLAY" copy --ca-file "$B_CA" --authfile "$T/wrong.json" "$B/src/single:1" "oci:$T/w1:x"
is "$status" 1 "(a wrong password in the auth file is refused: exit 1)"
no_secret "wrong auth file"
run "$INLAY" copy --ca-file "$B_CA" --creds "$B_USER:$B_PASS" --authfile "$T/wrong.json" \
	"$B/src/single:1" "oci:$T/w2:x"
is "$status" 0 "--creds wins over --authfile"
run env REGISTRY_AUTH_FILE="$T/wrong.json" "$INLAY" copy --ca-file "$B_CA" \
	--authfile "$T/auth.json" "$B/src/single:1" "oci:$T/w3:x"
is "$status" 0 "--authfile wins over REGISTRY_AUTH_FILE"
mkdir -p "$T/dockercfg-wrong"
cp "$T/wrong.json" "$T/dockercfg-wrong/config.json"
run env REGISTRY_AUTH_FILE="$T/auth.json" DOCKER_CONFIG="$T/dockercfg-wrong" "$INLAY" copy \
	--ca-file "$B_CA" "$B/src/single:1" "oci:$T/w4:x"
is "$status" 0 "REGISTRY_AUTH_FILE wins over DOCKER_CONFIG"

# An auth file with an entry for another registry only: no credentials for B.
write_docker_config "$T/other.json" "127.0.0.1:1" "$B_USER" "$B_PASS"
run "$INLAY" copy --ca-file "$B_CA" --authfile "$T/other.json" "$B/src/single:1" "oci:$T/w5:x"
is "$status" 1 "credentials for another host are not used"

# --- Bearer tokens ------------------------------------------------------------------
run "$INLAY" copy --creds "$C_USER:$C_PASS" "$REG/src/single:1" "$C/app/single:1"
is "$status:$stdout" "0:$C/app/single@$D_SINGLE" "push into the token registry"
is "$(skopeo_digest "docker://$C/app/single:1")" "$D_SINGLE" "skopeo reads it back"
ok "skopeo pulls it, verifying every blob" sk copy -q "docker://$C/app/single:1" "oci:$T/v2:v"
like "$(cat "$C_TOKEN_LOG")" \
	"user=$C_USER service=inlay-test scope=\[[^]]*repository:app/single:[a-z,]*push[^]]*\] granted=\[[^]]*push[^]]*\] status=200" \
	"the token server granted inlay a push token for app/single"
no_secret "bearer push"

tok_lines=$(wc -l <"$C_TOKEN_LOG")
run "$INLAY" copy --creds "$C_USER:$C_PASS" "$C/app/single:1" "oci:$T/from-bearer:x"
is "$status:$stdout" "0:oci:$T/from-bearer@$D_SINGLE" "pull from the token registry"
new_tok=$(tail -n +"$((tok_lines + 1))" "$C_TOKEN_LOG")
like "$new_tok" "user=$C_USER service=inlay-test scope=\[[^]]*repository:app/single:pull" \
	"...with a pull token"
unlike "$new_tok" "repository:app/single:[a-z,]*push" "...and no push scope asked for a pull"

run "$INLAY" copy --creds "$C_USER:$C_PASS" "$C/app/single:1" "oci:$T/from-bearer2:x"
is "$status" 0 "pull again"

# Mount within the token registry: push scope on the target plus pull on the source.
tok_lines=$(wc -l <"$C_TOKEN_LOG")
reg_lines=$(wc -l <"$C_LOG")
run "$INLAY" copy --creds "$C_USER:$C_PASS" "$C/app/single:1" "$C/app/mounted:1"
is "$status:$stdout" "0:$C/app/mounted@$D_SINGLE" "copy within the token registry"
new_tok=$(tail -n +"$((tok_lines + 1))" "$C_TOKEN_LOG")
like "$new_tok" "scope=\[[^]]*repository:app/mounted:[a-z,]*push" "a push token for the target"
like "$new_tok" "granted=\[[^]]*repository:app/single:[a-z,]*pull" "pull access to the mount source"
like "$(tail -n +"$((reg_lines + 1))" "$C_LOG")" \
	'"POST /v2/app/mounted/blobs/uploads/\?[^"]*mount=sha256[^"]*" 201' \
	"blobs were mounted (201), not uploaded"
is "$(skopeo_digest "docker://$C/app/mounted:1")" "$D_SINGLE" "skopeo reads the mounted copy"

run "$INLAY" copy --creds "$C_USER:$C_PASS" "$REG/src/single:1" "$C/app/pushed-twice:1"
run "$INLAY" copy --creds "$C_USER:$C_PASS" "$REG/src/single:1" "$C/app/pushed-twice:1"
is "$status:$stdout" "0:$C/app/pushed-twice@$D_SINGLE" "pushing the same image twice works"

run "$INLAY" copy --creds "$C_USER:$C_PASS" "$C/app/single:1" "oci:$T/nocreds-check:x"
is "$status" 0 "(sanity: with --creds the pull works)"
run "$INLAY" copy "$C/app/single:1" "oci:$T/nocreds:x"
is "$status" 1 "(without credentials the token server refuses: exit 1)"

# --- between the two kinds --------------------------------------------------------
jq -n --arg b "$B" --arg c "$C" \
	--arg ba "$(printf '%s:%s' "$B_USER" "$B_PASS" | base64 -w0)" \
	--arg ca "$(printf '%s:%s' "$C_USER" "$C_PASS" | base64 -w0)" \
	'{auths: {($b): {auth: $ba}, ($c): {auth: $ca}}}' >"$T/both.json"
ok "(skopeo copies basic -> bearer with the same auth file)" \
	sk copy -q --all --preserve-digests --authfile "$T/both.json" \
	"docker://$B/src/multi:1" "docker://$C/sk/multi:1"

run "$INLAY" copy --ca-file "$B_CA" --authfile "$T/both.json" "$B/src/multi:1" "$C/frombasic/multi:1"
is "$status:$stdout" "0:$C/frombasic/multi@$D_MULTI" "index from the basic to the bearer registry"
ok "skopeo pulls every child, verifying every blob" \
	sk copy -q --all "docker://$C/frombasic/multi:1" "oci:$T/v3:v"
no_secret "basic -> bearer"

run "$INLAY" copy --ca-file "$B_CA" --authfile "$T/both.json" "$B/src/single:1" "$C/frombasic/single:1"
is "$status:$stdout" "0:$C/frombasic/single@$D_SINGLE" "image from the basic to the bearer registry"

run "$INLAY" copy --ca-file "$B_CA" --authfile "$T/both.json" "$C/app/single:1" "$B/frombearer/single:1"
is "$status:$stdout" "0:$B/frombearer/single@$D_SINGLE" "image from the bearer to the basic registry"
is "$(skopeo_digest "docker://$B/frombearer/single:1")" "$D_SINGLE" "skopeo reads it"

run "$INLAY" copy --ca-file "$B_CA" --authfile "$T/both.json" --platform linux/arm64 \
	"$B/src/multi:1" "$C/frombasic/arm:1"
is "$status:$stdout" "0:$C/frombasic/arm@$(jq -r '.manifests[1].digest' \
	"$(layout_blob "$(fixture multi)" "$D_MULTI")")" "--platform across the two"

# --- inspect with credentials ---------------------------------------------------------
run "$INLAY" inspect --ca-file "$B_CA" --creds "$B_USER:$B_PASS" "$B/src/single:1"
is "$status:$(sha256_file "$RUN_OUT")" "0:$D_SINGLE" "inspect over TLS with Basic auth"
run "$INLAY" inspect --creds "$C_USER:$C_PASS" "$C/app/single:1"
is "$status:$(sha256_file "$RUN_OUT")" "0:$D_SINGLE" "inspect with a bearer token"
no_secret "inspect"
run "$INLAY" inspect --ca-file "$B_CA" --authfile "$T/both.json" "$B/src/multi:1"
is "$status:$(sha256_file "$RUN_OUT")" "0:$D_MULTI" "inspect with an auth file"

# --- the registries saw who they should -------------------------------------------
unlike "$(cat "$B_LOG" "$C_LOG")" "$B_PASS|$C_PASS" "no password in the registries' logs"
like "$(cat "$B_LOG")" "\"PUT /v2/dst/single/manifests/1 HTTP/[0-9.]+\" 201" \
	"(the TLS registry logged inlay's push)"

# --- --ca-file adds to the system's CAs ---------------------------------------------
# A private mount namespace puts B's CA in the place of the system's store
# (libcurl's default bundle and directory, /etc/ssl/certs): B stands for a
# public registry, B2 (another CA) for one behind a corporate CA.
start_registry basic B2
mkdir -p "$T/system-certs" && cp "$B_CA" "$T/system-certs/ca-certificates.crt"
# system_trusts_B CMD...: run CMD with only B's CA in the system store.
system_trusts_B() {
	unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs && exec "$@"' "$T/system-certs" "$@"
}
run system_trusts_B "$INLAY" inspect --raw --creds "$B_USER:$B_PASS" "$B/src/single:1"
is "$status" 0 "(the namespace's system store trusts B: no --ca-file needed)"
run system_trusts_B "$INLAY" copy --src-creds "$B_USER:$B_PASS" --dest-creds "$B2_USER:$B2_PASS" \
	"$B/src/single:1" "$B2/dst/single:1"
is "$status" 1 "(and not B2: without --ca-file the copy fails)"
like "$stderr" "$B2.*[Cc]ertificate" "(... on B2's certificate)"
run system_trusts_B "$INLAY" copy --ca-file "$B2_CA" --src-creds "$B_USER:$B_PASS" \
	--dest-creds "$B2_USER:$B2_PASS" "$B/src/single:1" "$B2/dst/single:1"
is "$status:$stdout" "0:$B2/dst/single@$D_SINGLE" \
	"--ca-file adds to the system's CAs: a source the system trusts and a destination the file's CA signed, in one copy"
run "$INLAY" copy --ca-file /nonexistent.pem --creds "$B_USER:$B_PASS" "$B/src/single:1" "$B/dst/single:2"
is "$status" 1 "a --ca-file that cannot be read fails the TLS connection (exit 1)"

done_testing
