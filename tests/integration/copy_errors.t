#!/bin/bash
# copy_errors.t - `inlay copy` fails the way the contract says: exit 1 for
# operational failures (wrong credentials, a missing image or tag, an
# unreachable registry, a certificate from an unknown CA), 2 for bad usage and
# malformed references, 3 when bytes do not match their digest. Errors name
# the reference, never print a password, and a failed copy leaves no tag at the
# destination.
. "$(dirname "$0")/lib.sh"
require_tools skopeo jq
require_inlay

plan 62

fixtures_build single multi
D_SINGLE=$(fixture_digest single)
SM=$(layout_blob "$(fixture single)" "$D_SINGLE")
LAYER0=$(jq -r '.layers[0].digest' "$SM")

start_registry open     # REG: sources
start_registry open DST # DST: destination of the failing copies
start_registry basic B
start_registry bearer C
push_fixture single "$REG/src/single:1"
push_fixture multi "$REG/src/multi:1"
push_fixture single "$B/src/single:1"
push_fixture single "$C/src/single:1"

# secret_free DESC WORD...: none of WORDs is in the last run's stdout/stderr.
secret_free() {
	local desc=$1 w found=
	shift
	for w in "$@"; do
		if grep -qF -- "$w" "$RUN_OUT" "$RUN_ERR"; then found="$found $w"; fi
	done
	is "$found" "" "$desc"
}

# --- wrong credentials ---------------------------------------------------------
WRONG=Wrong-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')-Pass
run "$INLAY" copy --ca-file "$B_CA" --creds "$B_USER:$WRONG" "$B/src/single:1" "oci:$T/w1:x"
is "$status" 1 "wrong password (Basic): exit 1"
like_i "$stderr" 'auth|unauthori[sz]ed|credential|denied|401' "...the message is about authentication"
like "$stderr" "$B/src/single" "...and names the reference"
secret_free "...and shows no password" "$WRONG" "$B_PASS"
is "$stdout" "" "...and prints no result"

run "$INLAY" copy --creds "$C_USER:$WRONG" "$C/src/single:1" "oci:$T/w2:x"
is "$status" 1 "wrong password (token server): exit 1"
like_i "$stderr" 'auth|unauthori[sz]ed|credential|denied|401' "...the message is about authentication"
secret_free "...and shows no password" "$WRONG" "$C_PASS"

run "$INLAY" copy --creds "$C_USER:$WRONG" "$REG/src/single:1" "$C/dst/single:1"
is "$status" 1 "pushing with a wrong password: exit 1"
run sk inspect --raw "docker://$C/dst/single:1"
isnt "$status" 0 "...and nothing was tagged"

write_docker_config "$T/wrong.json" "$B" "$B_USER" "$WRONG"
run "$INLAY" copy --ca-file "$B_CA" --authfile "$T/wrong.json" "$B/src/single:1" "oci:$T/w3:x"
is "$status" 1 "wrong password from an auth file: exit 1"
secret_free "...and shows no password" "$WRONG" "$(base64 -w0 <<<"$B_USER:$WRONG" | cut -c1-16)"

# --- missing image or tag ---------------------------------------------------------
run "$INLAY" copy "$REG/nope/missing:1" "$DST/x:1"
is "$status" 1 "a repository that does not exist: exit 1"
like "$stderr" "$REG/nope/missing" "...the message names the reference"
run "$INLAY" copy "$REG/src/single:no-such-tag" "$DST/x:1"
is "$status" 1 "a tag that does not exist: exit 1"
like "$stderr" "no-such-tag" "...the message names the tag"
run "$INLAY" copy "$REG/src/single@sha256:$(printf '0%.0s' {1..64})" "$DST/x:1"
is "$status" 1 "a digest that does not exist: exit 1"
run "$INLAY" copy "oci:$T/no-such-layout:x" "$DST/x:1"
is "$status" 1 "a layout that does not exist: exit 1"
run "$INLAY" copy "$(fixture_ref single | sed 's/:single$/:other/')" "$DST/x:1"
is "$status" 1 "a ref that is not in the layout: exit 1"
run "$INLAY" copy --platform linux/s390x "$REG/src/multi:1" "$DST/x:1"
isnt "$status" 0 "a platform the index does not have fails"
like "$stderr" 's390x' "...and says which platform"
run sk inspect --raw "docker://$DST/x:1"
isnt "$status" 0 "none of these left a tag at the destination"

# --- malformed references and bad usage: exit 2 --------------------------------------
for ref in 'UPPER/Case:tag' 'a:b:c:d' "$REG/repo@sha256:1234" "$REG/repo:bad tag" \
	"$REG//double" '' 'oci:'; do
	run "$INLAY" copy "$ref" "$DST/x:1"
	is "$status" 2 "malformed source '$ref': exit 2"
done
run "$INLAY" copy "$REG/src/single:1" 'Bad/Destination:1'
is "$status" 2 "malformed destination: exit 2"
like "$stderr" 'Bad/Destination' "...the message names it"

run "$INLAY" copy
is "$status" 2 "copy without arguments: exit 2"
isnt "$stderr" "" "...with a message on stderr"
run "$INLAY" copy "$REG/src/single:1"
is "$status" 2 "copy with one argument: exit 2"
run "$INLAY" copy "$REG/src/single:1" "$DST/a:1" "$DST/b:1"
is "$status" 2 "copy with three arguments: exit 2"
run "$INLAY" copy --no-such-option "$REG/src/single:1" "$DST/a:1"
is "$status" 2 "an unknown option: exit 2"
like "$stderr" 'no-such-option' "...named in the message"
run "$INLAY" copy --jobs many "$REG/src/single:1" "$DST/a:1"
is "$status" 2 "--jobs with a non-number: exit 2"
run "$INLAY" copy --jobs 0 "$REG/src/single:1" "$DST/a:1"
is "$status" 2 "--jobs 0: exit 2"
run "$INLAY" no-such-command
is "$status" 2 "an unknown command: exit 2"
run sk inspect --raw "docker://$DST/a:1"
isnt "$status" 0 "bad usage pushed nothing"

# --- unreachable registry --------------------------------------------------------------
DEAD=127.0.0.1:$(free_port)
t0=$(now_ms)
run timeout 120 "$INLAY" copy "$DEAD/repo:1" "$DST/x:1"
is "$status" 1 "nothing listening on the port: exit 1"
like "$stderr" "$DEAD" "...the message names the registry"
diag "gave up on the unreachable registry after $(secs_since "$t0") s"
run timeout 120 "$INLAY" copy "$REG/src/single:1" "$DEAD/repo:1"
is "$status" 1 "an unreachable destination: exit 1"

# --- TLS from an unknown CA ---------------------------------------------------------------
run "$INLAY" copy --creds "$B_USER:$B_PASS" "$B/src/single:1" "oci:$T/tls:x"
is "$status" 1 "a TLS registry whose CA is unknown: exit 1"
like_i "$stderr" 'certificate|x509|tls|ssl' "...the message is about the certificate"
like_i "$stderr" 'ca-file|insecure' "...and says what to do (--ca-file)"
secret_free "...and shows no password" "$B_PASS"
run "$INLAY" copy --ca-file "$(fixture single)/oci-layout" --creds "$B_USER:$B_PASS" \
	"$B/src/single:1" "oci:$T/tls2:x"
isnt "$status" 0 "a --ca-file that holds no certificate fails"
run "$INLAY" copy --insecure --creds "$B_USER:$B_PASS" "$B/src/single:1" "oci:$T/tls3:x"
is "$status:$stdout" "0:oci:$T/tls3@$D_SINGLE" "(--insecure skips verification when asked)"

# --- a blob that does not match its digest: exit 3 -----------------------------------------
push_fixture single "$REG/corrupt/single:1"
corrupt_blob "$LAYER0"
run sk copy -q "docker://$REG/corrupt/single:1" "oci:$T/sk-corrupt:x"
isnt "$status" 0 "(skopeo refuses the corrupted image too)"
run "$INLAY" copy "$REG/corrupt/single:1" "$DST/corrupt:1"
is "$status" 3 "a corrupted layer in the source: exit 3"
like_i "$stderr" 'digest|verif|mismatch' "...the message says the digest does not match"
like "$stderr" "$LAYER0|$REG/corrupt/single" "...and names the blob or the image"
is "$stdout" "" "...and prints no result"
run sk inspect --raw "docker://$DST/corrupt:1"
isnt "$status" 0 "...and the destination has no tag"
run "$INLAY" copy "$REG/corrupt/single:1" "oci:$T/corrupt-layout:x"
is "$status" 3 "the same into a layout: exit 3"
run layout_digest "$T/corrupt-layout" x
isnt "$status" 0 "...and the layout has no such ref"
# Within one registry the blob would be mounted, not read: the copy may
# succeed, but must never report success with a wrong digest.
run "$INLAY" copy "$REG/corrupt/single:1" "$REG/corrupt/mounted:1"
if [ "$status" -eq 0 ]; then
	is "$stdout" "$REG/corrupt/mounted@$D_SINGLE" "a mount-only copy keeps the manifest digest"
else
	is "$status" 3 "a copy that reads the corrupted blob fails with 3"
fi

# A manifest whose bytes do not match the digest the registry names.
push_fixture single "$REG/badmanifest/single:1"
corrupt_manifest "$D_SINGLE"
run "$INLAY" copy "$REG/badmanifest/single:1" "$DST/badmanifest:1"
is "$status" 3 "a manifest that does not match its digest: exit 3"
run sk inspect --raw "docker://$DST/badmanifest:1"
isnt "$status" 0 "...and the destination has no tag"
run "$INLAY" copy "$REG/badmanifest/single@$D_SINGLE" "oci:$T/badmanifest:x"
is "$status" 3 "...also when asked for by digest"

done_testing
