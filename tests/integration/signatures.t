#!/bin/bash
# signatures.t - signing and verification (DESIGN.md section 6) against a real
# registry: `inlay keygen`, `instrument --key`, `sign`, `verify`. Every
# signature inlay makes is also checked with the openssl command line, not
# only with inlay's own code; and verify must refuse another key, an unsigned
# image, a signature copied from another image, a tampered payload and a
# swapped sensor layer, each with exit 3 and its reason.
. "$(dirname "$0")/lib.sh"
require_inlay
require_tools skopeo jq openssl curl base64 setsid

start_registry open
fixtures_build single multi
push_fixture single "$REG/app:1"
push_fixture multi "$REG/multi:1"
cd "$T" || bail_out "cannot enter $T"
unset INLAY_KEY_PASSWORD

OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
ACCEPT="$OCI_MANIFEST, application/vnd.oci.image.index.v1+json"

# get_manifest REPO REF: the manifest bytes, as the registry stores them.
get_manifest() {
	curl -sf -H "Accept: $ACCEPT" "http://$REG/v2/$1/manifests/$2"
}

# get_blob REPO DIGEST FILE
get_blob() {
	curl -sf "http://$REG/v2/$1/blobs/$2" -o "$3"
}

# push_blob REPO FILE: a monolithic upload (POST, then PUT with the digest).
push_blob() {
	local loc sep
	loc=$(curl -sf -X POST -D - -o /dev/null "http://$REG/v2/$1/blobs/uploads/" |
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	case $loc in http*) ;; *) loc="http://$REG$loc" ;; esac
	sep='?'
	case $loc in *\?*) sep='&' ;; esac
	curl -sf -X PUT -H "Content-Type: application/octet-stream" --data-binary @"$2" \
		"$loc${sep}digest=$(sha256_file "$2")" -o /dev/null
}

# push_manifest REPO REF FILE: store an OCI image manifest.
push_manifest() {
	curl -sf -X PUT -H "Content-Type: $OCI_MANIFEST" --data-binary @"$3" \
		"http://$REG/v2/$1/manifests/$2" -o /dev/null
}

# sig_parts REPO DIGEST PREFIX: the signature image of DIGEST taken apart with
# curl, jq and base64 alone: PREFIX.manifest, PREFIX.payload (the signed
# bytes), PREFIX.sig (the raw signature).
sig_parts() {
	get_manifest "$1" "sha256-${2#sha256:}.sig" >"$3.manifest" &&
		get_blob "$1" "$(jq -r '.layers[0].digest' "$3.manifest")" "$3.payload" &&
		jq -r '.layers[0].annotations["dev.cosignproject.cosign/signature"]' "$3.manifest" |
		base64 -d >"$3.sig"
}

# config_of REPO REF FILE: the image config of REF.
config_of() {
	get_blob "$1" "$(get_manifest "$1" "$2" | jq -r .config.digest)" "$3"
}

# check_reason JSONFILE SUBJECT CHECK: the reason a check of subject #SUBJECT
# in a verify --json report gave ("null" when it passed).
check_reason() {
	jq -r --argjson i "$2" --arg c "$3" '.manifests[$i].checks[] | select(.check == $c) | .reason' "$1"
}

# --- keygen ------------------------------------------------------------------
run "$INLAY" keygen -o ed
is "$status" 0 "keygen makes an Ed25519 key pair by default"
ED_SIGNER=$(sed -n 's/^signer: *//p' "$RUN_OUT")
is "$(stat -c %a ed.key)" 600 "the private key file has mode 0600"
is "$(stat -c %a ed.pub)" 644 "the public key file has mode 0644"
is "$(head -n 1 ed.key)" "-----BEGIN PRIVATE KEY-----" "the private key is PKCS#8 PEM"
is "$(head -n 1 ed.pub)" "-----BEGIN PUBLIC KEY-----" "the public key is SubjectPublicKeyInfo PEM"
like "$(openssl pkey -in ed.key -noout -text 2>&1)" "ED25519 Private-Key" "openssl reads it as an Ed25519 key"
is "$ED_SIGNER" "sha256:$(openssl pkey -pubin -in ed.pub -outform DER | sha256sum | cut -d' ' -f1)" \
	"keygen's signer is sha256 of the public key DER, as openssl computes it"
key_before=$(sha256sum <ed.key)
run "$INLAY" keygen -o ed
is "$status" 2 "keygen refuses to overwrite an existing key pair (exit 2)"
like "$stderr" "ed.key already exists" "and says which file is in the way"
is "$(sha256sum <ed.key)" "$key_before" "the existing private key is unchanged"
: >half.pub
run "$INLAY" keygen -o half
is "$status" 2 "keygen refuses when only PREFIX.pub exists"
ok "and writes no private key then" test ! -e half.key

run "$INLAY" keygen --type ecdsa-p256 -o ec
is "$status" 0 "keygen --type ecdsa-p256"
like "$(openssl pkey -in ec.key -noout -text 2>&1)" "prime256v1" "openssl reads it as an EC P-256 key"

run env INLAY_KEY_PASSWORD=s3cret-pass "$INLAY" keygen --encrypt -o encgen
is "$status" 0 "keygen --encrypt takes its passphrase from INLAY_KEY_PASSWORD"
is "$(head -n 1 encgen.key)" "-----BEGIN ENCRYPTED PRIVATE KEY-----" "and writes encrypted PKCS#8"
ok "openssl decrypts it with that passphrase" openssl pkey -in encgen.key -passin pass:s3cret-pass -noout

# Keys made by openssl: an encrypted Ed25519 key and a plain P-256 key.
openssl genpkey -algorithm ed25519 -aes256 -pass pass:x -out enc.key 2>/dev/null &&
	openssl pkey -in enc.key -passin pass:x -pubout -out enc.pub && chmod 600 enc.key ||
	bail_out "openssl genpkey (ed25519, encrypted) failed"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ossl-ec.key 2>/dev/null &&
	openssl pkey -in ossl-ec.key -pubout -out ossl-ec.pub && chmod 600 ossl-ec.key ||
	bail_out "openssl genpkey (P-256) failed"

# --- instrument --key, verify -------------------------------------------------
run "$INLAY" instrument --quiet --key ed.key "$REG/app:1" "$REG/app:ed"
is "$status" 0 "instrument --key (Ed25519) succeeds"
ED=${stdout##*@}
run "$INLAY" verify "$REG/app:ed" --key ed.pub
is "$status" 0 "verify accepts it"
like "$stdout" "verified: 1 manifest, 5 checks" "verify reports every check"
run "$INLAY" verify "$REG/app:ed" --key ed.pub --json
is "$status" 0 "verify --json exits 0 too"
is "$(jq -r .verified "$RUN_OUT")" true "the JSON report says verified"
is "$(jq -r '[.manifests[0].checks[].check] | join(",")' "$RUN_OUT")" \
	"signature,instrumented,sensor-layer,sensor-signature,entrypoint" "and lists each check"
is "$(jq -r .digest "$RUN_OUT")" "$ED" "for the image's digest"

# The cosign signature, taken apart and checked with openssl alone.
sig_parts app "$ED" ed || bail_out "cannot fetch the signature of $ED"
is "$(jq -r .layers[0].mediaType ed.manifest)" application/vnd.dev.cosign.simplesigning.v1+json \
	"the signature layer is a cosign simple-signing payload"
is "$(jq -r .config.mediaType ed.manifest)" application/vnd.oci.image.config.v1+json \
	"the signature image's config is an OCI config, as cosign writes it"
get_blob app "$(jq -r .config.digest ed.manifest)" ed.sigconfig
is "$(jq -r '.rootfs.diff_ids[0]' ed.sigconfig)" "$(sha256_file ed.payload)" \
	"its config lists the payload's digest as the layer's diff_id"
is "$(jq -r '.critical.image["docker-manifest-digest"]' ed.payload)" "$ED" "the payload names the image digest"
is "$(jq -r '.critical.identity["docker-reference"]' ed.payload)" "$REG/app" "and the repository"
is "$(jq -r '.critical.type' ed.payload)" "cosign container image signature" "with cosign's type"
run openssl pkeyutl -verify -pubin -inkey ed.pub -rawin -in ed.payload -sigfile ed.sig
is "$status" 0 "openssl pkeyutl -verify -rawin: the Ed25519 signature verifies over the exact payload bytes"
like "$stdout" "Signature Verified Successfully" "openssl says so"
run openssl pkeyutl -verify -pubin -inkey ec.pub -rawin -in ed.payload -sigfile ed.sig
isnt "$status" 0 "openssl refuses it with another key"

# The sensor layer's label signature, over the ASCII digest.
config_of app "$ED" ed.config
SL=$(jq -r '.config.Labels["io.inlay.sensor.digest"]' ed.config)
is "$SL" "$(get_manifest app "$ED" | jq -r '.layers[-1].digest')" "the signed sensor layer is the last layer"
printf '%s' "$SL" >ed.layerdigest
jq -r '.config.Labels["io.inlay.sensor.signature"]' ed.config | base64 -d >ed.labelsig
run openssl pkeyutl -verify -pubin -inkey ed.pub -rawin -in ed.layerdigest -sigfile ed.labelsig
is "$status" 0 "openssl: the label io.inlay.sensor.signature verifies over the layer digest text"
is "$(jq -r '.config.Labels["io.inlay.sensor.signer"]' ed.config)" "$ED_SIGNER" \
	"io.inlay.sensor.signer is sha256 of the public key DER"

# Reproducible with Ed25519: the same source, key and sensor give the same digest.
run "$INLAY" instrument --quiet --key ed.key "$REG/app:1" "$REG/app:ed-again"
is "${stdout##*@}" "$ED" "instrumenting the same source twice with an Ed25519 key gives the same digest"
is "$(get_manifest app "sha256-${ED#sha256:}.sig" | jq '.layers | length')" 1 \
	"and signing it again adds no second signature"

# ECDSA P-256, checked with openssl dgst.
run "$INLAY" instrument --quiet --key ec.key "$REG/app:1" "$REG/app:ec"
is "$status" 0 "instrument --key (ECDSA P-256) succeeds"
EC=${stdout##*@}
run "$INLAY" verify "$REG/app:ec" --key ec.pub
is "$status" 0 "verify accepts the ECDSA-signed image"
sig_parts app "$EC" ec || bail_out "cannot fetch the signature of $EC"
run openssl dgst -sha256 -verify ec.pub -signature ec.sig ec.payload
is "$status" 0 "openssl dgst -sha256 -verify: the ECDSA signature verifies over the payload"
like "$stdout" "Verified OK" "openssl says so"
config_of app "$EC" ec.config
printf '%s' "$(jq -r '.config.Labels["io.inlay.sensor.digest"]' ec.config)" >ec.layerdigest
jq -r '.config.Labels["io.inlay.sensor.signature"]' ec.config | base64 -d >ec.labelsig
run openssl dgst -sha256 -verify ec.pub -signature ec.labelsig ec.layerdigest
is "$status" 0 "openssl: the ECDSA label signature verifies over the layer digest text"

# Keys made by openssl; an encrypted one with INLAY_KEY_PASSWORD.
run "$INLAY" instrument --quiet --key ossl-ec.key "$REG/app:1" "$REG/app:ossl"
is "$status" 0 "a P-256 key made by openssl genpkey works"
run "$INLAY" verify "$REG/app:ossl" --key ossl-ec.pub
is "$status" 0 "and verifies with its openssl-made public key"
run env INLAY_KEY_PASSWORD=x "$INLAY" instrument --quiet --key enc.key "$REG/app:1" "$REG/app:enc"
is "$status" 0 "an encrypted openssl key works with INLAY_KEY_PASSWORD"
run "$INLAY" verify "$REG/app:enc" --key enc.pub
is "$status" 0 "and what it signed verifies"
run env INLAY_KEY_PASSWORD=wrong "$INLAY" instrument --quiet --key enc.key "$REG/app:1" "$REG/app:x"
is "$status" 2 "a wrong passphrase is refused (exit 2)"
like "$stderr" "wrong passphrase" "saying so"
run setsid -w "$INLAY" instrument --quiet --key enc.key "$REG/app:1" "$REG/app:x"
is "$status" 2 "an encrypted key with no passphrase and no terminal is refused"
like "$stderr" "INLAY_KEY_PASSWORD" "and the message says how to give one"

# Private keys are private.
cp ed.key loose.key
chmod 644 loose.key
run "$INLAY" instrument --quiet --key loose.key "$REG/app:1" "$REG/app:x"
is "$status" 2 "instrument refuses a private key readable by others (exit 2)"
like "$stderr" "loose.key has mode 0644" "naming the file and its mode"
chmod 640 loose.key
run "$INLAY" sign "$REG/app:1" --key loose.key
is "$status" 2 "sign refuses a private key readable by its group"
ok "nothing was tagged by the refused runs" test "$(curl -s -o /dev/null -w '%{http_code}' \
	-H "Accept: $ACCEPT" "http://$REG/v2/app/manifests/x")" = 404

# --- an index ---------------------------------------------------------------
run "$INLAY" instrument --quiet --key ed.key "$REG/multi:1"
is "$status" 0 "instrument --key an index"
MI=${stdout##*@}
run "$INLAY" verify "$REG/multi:1-inlay" --key ed.pub --json
is "$status" 0 "verify accepts the index and each platform"
is "$(jq -r '[.manifests[].platform] | join(",")' "$RUN_OUT")" "index,linux/amd64,linux/arm64/v8" \
	"the report covers the index and both images (not the dropped attestation)"
is "$(jq '[.manifests[].checks[]] | length' "$RUN_OUT")" 11 "1 check for the index, 5 per image"
CHILD=$(get_manifest multi "$MI" | jq -r '.manifests[1].digest')
sig_parts multi "$CHILD" child || bail_out "no signature for the index child $CHILD"
run openssl pkeyutl -verify -pubin -inkey ed.pub -rawin -in child.payload -sigfile child.sig
is "$status" 0 "openssl: the signature of an index child verifies"
is "$(jq -r '.critical.image["docker-manifest-digest"]' child.payload)" "$CHILD" "and names that child"
sig_parts multi "$MI" index || bail_out "no signature for the index $MI"
run openssl pkeyutl -verify -pubin -inkey ed.pub -rawin -in index.payload -sigfile index.sig
is "$status" 0 "openssl: the index's own signature verifies"
run "$INLAY" verify "$REG/multi:1-inlay" --key ed.pub --platform linux/amd64 --json
is "$(jq -r '[.manifests[].platform] | join(",")' "$RUN_OUT")" "index,linux/amd64" "verify --platform checks only that image"

# --- refusals ----------------------------------------------------------------
# Another key.
run "$INLAY" verify "$REG/app:ed" --key ec.pub --json
is "$status" 3 "verify with another key fails with exit 3"
is "$(check_reason "$RUN_OUT" 0 signature)" bad-signature "the cosign signature does not verify with it"
is "$(check_reason "$RUN_OUT" 0 sensor-signature)" wrong-key "and the sensor layer names another signer"
like "$stderr" "none of the 1 signature\\(s\\) in sha256-.*\\.sig verifies with the key ec.pub" "the message says no signature verifies with that key"

# An unsigned image.
run "$INLAY" instrument --quiet "$REG/app:1" "$REG/app:plain"
PLAIN=${stdout##*@}
run "$INLAY" verify "$REG/app:plain" --key ed.pub --json
is "$status" 3 "verify refuses an image instrumented without a key (exit 3)"
is "$(check_reason "$RUN_OUT" 0 signature)" no-signature "reason: no signature"
is "$(check_reason "$RUN_OUT" 0 sensor-signature)" unsigned-sensor-layer "and no sensor layer signature"
like "$stderr" "no signature: the repository has no tag sha256-${PLAIN#sha256:}.sig" "the message names the missing tag"
run "$INLAY" verify "$REG/app:1" --key ed.pub --json
is "$status" 3 "verify refuses an image that is not instrumented at all"
is "$(check_reason "$RUN_OUT" 0 instrumented)" not-instrumented "reason: not instrumented"

# A signature copied from another image.
ok "copy app:ed's signature tag onto app:plain's" sk copy -q --preserve-digests \
	"docker://$REG/app:sha256-${ED#sha256:}.sig" "docker://$REG/app:sha256-${PLAIN#sha256:}.sig"
run "$INLAY" verify "$REG/app:plain" --key ed.pub --json
is "$status" 3 "verify refuses a signature copied from another image"
is "$(check_reason "$RUN_OUT" 0 signature)" digest-mismatch "reason: digest mismatch"
like "$stderr" "digest mismatch: a signature verifies, but its payload names $ED" "the message names the digest signed"

# A tampered payload: same signature, payload changed, pushed with a fresh
# manifest under the signature tag.
run "$INLAY" instrument --quiet --key ed.key "$REG/app:1" "$REG/tamper:1"
is "${stdout##*@}" "$ED" "the same image instrumented into another repository"
sig_parts tamper "$ED" t || bail_out "no signature in tamper"
sed 's/"creator":"inlay /"creator":"evil! /' t.payload >t.payload2
isnt "$(sha256_file t.payload2)" "$(sha256_file t.payload)" "the tampered payload differs"
jq -c -j --arg d "$(sha256_file t.payload2)" '.rootfs.diff_ids = [$d]' \
	<(get_blob tamper "$(jq -r .config.digest t.manifest)" /dev/stdout) >t.config2
push_blob tamper t.payload2 && push_blob tamper t.config2 || bail_out "push of the tampered blobs failed"
jq -c -j --arg p "$(sha256_file t.payload2)" --argjson ps "$(stat -c %s t.payload2)" \
	--arg c "$(sha256_file t.config2)" --argjson cs "$(stat -c %s t.config2)" \
	'.layers[0].digest = $p | .layers[0].size = $ps | .config.digest = $c | .config.size = $cs' \
	t.manifest >t.manifest2
push_manifest tamper "sha256-${ED#sha256:}.sig" t.manifest2 || bail_out "push of the tampered signature failed"
run openssl pkeyutl -verify -pubin -inkey ed.pub -rawin -in t.payload2 -sigfile t.sig
isnt "$status" 0 "openssl too refuses the signature over the tampered payload"
run "$INLAY" verify "$REG/tamper:1" --key ed.pub --json
is "$status" 3 "verify refuses a tampered payload"
is "$(check_reason "$RUN_OUT" 0 signature)" bad-signature "reason: the signature does not verify"
like "$stderr" "the payload was altered" "the message says the payload may have been altered"

# A swapped sensor layer: the image is signed (cosign) by the right key, but
# its config's signed sensor layer is not the layer the image carries.
cp "$ROOT/build/sensor/sensor-amd64" alt-sensor && printf 'other build' >>alt-sensor
run "$INLAY" instrument --quiet --key ed.key --sensor alt-sensor "$REG/app:1" "$REG/swap:alt"
is "$status" 0 "an image instrumented with another sensor binary"
get_manifest swap alt >alt.manifest
ALT_LAYER=$(jq -r '.layers[-1].digest' alt.manifest)
isnt "$ALT_LAYER" "$SL" "has another sensor layer"
# (a) alt's layers with ed's config, whose label names ed's sensor layer
push_blob swap ed.config || bail_out "push of the config failed"
jq -c -j --arg c "$(sha256_file ed.config)" --argjson cs "$(stat -c %s ed.config)" \
	'.config.digest = $c | .config.size = $cs' alt.manifest >frank.manifest
push_manifest swap frank frank.manifest || bail_out "push of the transplanted manifest failed"
run "$INLAY" sign "$REG/swap:frank" --key ed.key
is "$status" 0 "inlay sign signs the transplanted image"
run "$INLAY" verify "$REG/swap:frank" --key ed.pub --json
is "$status" 3 "verify refuses an image whose config names another sensor layer"
is "$(check_reason "$RUN_OUT" 0 signature)" null "(its cosign signature is fine)"
is "$(check_reason "$RUN_OUT" 0 sensor-layer)" layer-mismatch "reason: layer mismatch"
like "$stderr" "layer mismatch: the config names the sensor layer $SL, but the image's last layer is $ALT_LAYER" \
	"the message names both layers"
# (b) the label rewritten to name the new layer: the signature over it fails
jq -c -j --arg l "$ALT_LAYER" '.config.Labels["io.inlay.sensor.digest"] = $l' ed.config >forged.config
push_blob swap forged.config || bail_out "push of the forged config failed"
jq -c -j --arg c "$(sha256_file forged.config)" --argjson cs "$(stat -c %s forged.config)" \
	'.config.digest = $c | .config.size = $cs' alt.manifest >forged.manifest
push_manifest swap forged forged.manifest || bail_out "push of the forged manifest failed"
run "$INLAY" sign "$REG/swap:forged" --key ed.key
run "$INLAY" verify "$REG/swap:forged" --key ed.pub --json
is "$status" 3 "verify refuses a relabelled sensor layer"
is "$(check_reason "$RUN_OUT" 0 sensor-layer)" null "(the label does name the last layer)"
is "$(check_reason "$RUN_OUT" 0 sensor-signature)" bad-signature "reason: the layer signature does not verify"

# --- inlay sign, and re-instrumenting with a key -------------------------------
run "$INLAY" instrument --quiet "$REG/app:1" "$REG/later:1"
LATER=${stdout##*@}
run "$INLAY" sign "$REG/later:1" --key ed.key
is "$status" 0 "inlay sign signs an image instrumented without a key"
like "$stdout" "$REG/later@$LATER image signature $REG/later:sha256-${LATER#sha256:}.sig" \
	"and prints the signature tag"
run "$INLAY" sign "$REG/later:1" --key ed.key
like "$stdout" "already signed with this key" "signing again changes nothing"
run "$INLAY" sign "$REG/later:1" --key ec.key
is "$(get_manifest later "sha256-${LATER#sha256:}.sig" | jq '.layers | length')" 2 \
	"a signature by another key is added beside the first"
run "$INLAY" verify "$REG/later:1" --key ec.pub --json
is "$(check_reason "$RUN_OUT" 0 signature)" null "and each key finds its own"
run "$INLAY" verify "$REG/later:1" --key ed.pub --json
is "$status" 3 "verify still fails: the sensor layer itself is unsigned"
is "$(check_reason "$RUN_OUT" 0 signature)" null "the cosign signature check passes"
is "$(check_reason "$RUN_OUT" 0 sensor-signature)" unsigned-sensor-layer "only the sensor layer signature is missing"
run "$INLAY" instrument --quiet --key ed.key "$REG/later:1" "$REG/later:2"
is "${stdout##*@}" "$ED" "instrumenting it again with --key gives the image a signed sensor layer"
run "$INLAY" verify "$REG/later:2" --key ed.pub
is "$status" 0 "which verifies"

# Copied with its signatures to another repository: the payload names the old one.
ok "copy app:ed to another repository" sk copy -q --preserve-digests \
	"docker://$REG/app:ed" "docker://$REG/copied:1"
ok "with its signature" sk copy -q --preserve-digests \
	"docker://$REG/app:sha256-${ED#sha256:}.sig" "docker://$REG/copied:sha256-${ED#sha256:}.sig"
run "$INLAY" verify "$REG/copied:1" --key ed.pub --json
is "$status" 3 "verify refuses a signature that names another repository"
is "$(check_reason "$RUN_OUT" 0 signature)" reference-mismatch "reason: reference mismatch"
run "$INLAY" verify "$REG/copied:1" --key ed.pub --identity "$REG/app"
is "$status" 0 "--identity names the repository the signature was made for"

# No private key bytes anywhere: registry storage, or what inlay printed.
body_ed=$(sed -n 2p ed.key)
body_ec=$(sed -n 2p ec.key)
ok "no private key bytes in the registry's storage" bash -c \
	"! grep -rqF -e '$body_ed' -e '$body_ec' '$REG_DIR'"
ok "nor in inlay's output" bash -c "! grep -qF -e '$body_ed' -e '$body_ec' '$RUN_OUT' '$RUN_ERR'"

done_testing
