#!/bin/bash
# sync_config.t - `inlay sync --config`: the serve configuration's "sync"
# section and rules, against a real registry: a catalog prefix into OCI
# layouts (a layout per repository), a passthrough rule copies byte for
# byte, a rule's mode reaches the sensor's configuration, per-repository tag
# filters, and a layout destination's second run writes nothing.
. "$(dirname "$0")/lib.sh"
require_inlay
require_tools skopeo jq umoci

start_registry open SRC
fixtures_build single multi
push_fixture single "$SRC/team/api:1"
push_fixture single "$SRC/team/api:2-rc"
push_fixture multi "$SRC/team/web:1"
push_fixture single "$SRC/vendor/tool:1"
push_fixture single "$SRC/other/x:1"
SINGLE=$(fixture_digest single)

cat >"$T/sync.yaml" <<YAML
mode: monitor
rules:
  - {match: "$SRC/vendor/**", action: passthrough}
  - {match: "$SRC/team/api", mode: enforce}
sync:
  jobs: 3
  repositories:
    - {from: "$SRC/team/", to: "oci:$T/out/team", exclude: "-rc\$"}
    - {from: "$SRC/vendor/tool", to: "oci:$T/out/tool"}
YAML
run "$INLAY" sync --config "$T/sync.yaml" --json
is "$status" 0 "sync --config exits 0"
echo "$stdout" >"$T/first.json"
is "$(jq -r '[.tags[] | .destination + " " + .status] | sort | join(", ")' "$T/first.json")" \
	"oci:$T/out/team/api:1 instrumented, oci:$T/out/team/web:1 instrumented, oci:$T/out/tool:1 kept" \
	"the team prefix's repositories into layouts, the -rc tag excluded, the vendor tool passed through, other/ untouched"
is "$(jq -r '.tags[] | select(.destination | endswith("tool:1")) | .digest' "$T/first.json")" "$SINGLE" \
	"the passthrough result is the source digest"
not_ok "a repository outside the prefix is not synced" test -e "$T/out/other"

# The rule's mode is in the sensor's configuration of team/api.
run umoci unpack --rootless --image "$T/out/team/api:1" "$T/api-bundle"
is "$status" 0 "umoci unpacks the api result"
is "$(jq -r .mode "$T/api-bundle/rootfs/.inlay/sensor.json")" enforce "team/api runs in enforce mode (its rule)"
sk copy -q --override-arch amd64 "oci:$T/out/team/web:1" "oci:$T/web-amd64:1" >/dev/null 2>&1
run umoci unpack --rootless --image "$T/web-amd64:1" "$T/web-bundle"
is "$(jq -r .mode "$T/web-bundle/rootfs/.inlay/sensor.json")" monitor "team/web in the default mode"
run skopeo inspect --raw "oci:$T/out/team/web:1"
is "$(jq -r '.manifests | length' <<<"$stdout")" 2 "the web index keeps its two platforms"

# Nothing changed: a second run writes nothing to the layouts.
find "$T/out" -type f -newer "$T/first.json" >"$T/newer.before"
sleep 1
touch "$T/mark"
run "$INLAY" sync --config "$T/sync.yaml" --json
is "$status" 0 "second run exits 0"
is "$(jq -r '[.tags[].status] | unique | join(",")' <<<"$stdout")" unchanged "every tag unchanged"
is "$(find "$T/out" -type f -newer "$T/mark" | wc -l)" 0 "and no file of the layouts was written"

# A bad configuration is refused before anything is done.
printf 'sync:\n  repositories:\n    - {from: "%s/team/api:1", to: "oci:%s/x"}\n' "$SRC" "$T" >"$T/bad.yaml"
run "$INLAY" sync --config "$T/bad.yaml"
is "$status" 2 "a source with a tag in the config: exit 2"
like "$stderr" "without a tag" "saying why"
not_ok "and nothing was written" test -e "$T/x"
done_testing
