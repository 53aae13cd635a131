#!/bin/bash
# serve_sync.t - `inlay serve --sync-interval`: the (YAML) configuration's "sync"
# section run by the mirror at start and then on its schedule, against real
# registries: the first run instruments, a moved source tag is redone on a
# later run without a restart, what changed is logged, and SIGTERM stops the
# mirror with its scheduler.
. "$(dirname "$0")/lib.sh"
require_inlay
require_tools skopeo jq curl

start_registry open SRC
start_registry open DST
fixtures_build single zstd
push_fixture single "$SRC/team/app:1"
"$INLAY" keygen -o "$T/k" >/dev/null 2>&1 || bail_out "keygen"

# The configuration in YAML (the same keys as the JSON form).
cat >"$T/serve.yaml" <<YAML
# the mirror, and what it syncs ahead of time
store: oci:$T/store
upstreams:
  src: {url: "http://$SRC"}
key: $T/k.key
sync:
  jobs: 2
  repositories:
    - from: $SRC/team/app
      to: $DST/mirror/app
YAML
start_mirror M --config "$T/serve.yaml" --sync-interval 1s

# wait_digest REF WANT: until REF's digest is WANT (or 15 s); prints it.
digest_of() { skopeo inspect --tls-verify=false --raw "docker://$1" 2>/dev/null | sha256sum | sed 's/ .*//;s/^/sha256:/'; }
wait_change() { # REF NOT: until REF names something other than NOT
	local i d
	for ((i = 0; i < 150; i++)); do
		d=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$1" 2>/dev/null) || d=
		if [ -n "$d" ] && [ "$d" != "$2" ]; then echo "$d"; return 0; fi
		sleep 0.1
	done
	echo "$d"
}

first=$(wait_change "$DST/mirror/app:1" none)
like "$first" '^sha256:[0-9a-f]{64}$' "the first scheduled run instruments the tag"
run "$INLAY" verify --key "$T/k.pub" "$DST/mirror/app:1"
is "$status" 0 "the result verifies with the config's key"
# The same result as a one-shot sync of the same source (deterministic).
run "$INLAY" sync --json --dry-run --key "$T/k.key" "$SRC/team/app" "$DST/mirror/app"
is "$(jq -r '.tags[0].status' <<<"$stdout")" unchanged "a one-shot sync finds nothing to do"
like "$(cat "$M_LOG")" '"sync":"instrumented"' "the run is logged"

# The source tag moves: a later run, no restart, redoes it.
push_fixture zstd "$SRC/team/app:1"
second=$(wait_change "$DST/mirror/app:1" "$first")
isnt "$second" "$first" "after the source tag moved, a scheduled run redoes it"
run "$INLAY" verify --key "$T/k.pub" "$DST/mirror/app:1"
is "$status" 0 "and the new result verifies"

# --sync-interval without a sync section is refused.
echo '{"store": "oci:'"$T"'/s2", "upstreams": {"src": {"url": "http://'"$SRC"'"}}}' >"$T/bare.json"
run "$INLAY" serve --config "$T/bare.json" --listen 127.0.0.1:0 --sync-interval 1m
is "$status" 2 "--sync-interval without a sync section: exit 2"
like "$stderr" 'sync' "saying what is missing"
run "$INLAY" serve --config "$T/serve.yaml" --listen 127.0.0.1:0 --sync-interval 5x
is "$status" 2 "a bad duration: exit 2"

# Runs keep coming: one with nothing to do says so.
for ((i = 0; i < 50; i++)); do
	grep -q '"message":"sync: 0 instrumented, 1 unchanged' "$M_LOG" && break
	sleep 0.1
done
kill -TERM "$M_PID"
for ((i = 0; i < 100; i++)); do kill -0 "$M_PID" 2>/dev/null || break; sleep 0.1; done
run kill -0 "$M_PID"
isnt "$status" 0 "SIGTERM stops the mirror and its scheduler"
_untrack_pid "$M_PID"
like "$(cat "$M_LOG")" '"level":"info","message":"sync: 0 instrumented, 1 unchanged' "a run with nothing to do says so"
done_testing
