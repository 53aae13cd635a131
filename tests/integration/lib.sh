# lib.sh - shared harness of inlay's integration tests; source it from a .t:
#
#	. "$(dirname "$0")/lib.sh"
#	plan 3
#	start_registry open            # REG=127.0.0.1:PORT, REG_DIR, REG_LOG ...
#	push_fixture single "$REG/app:1"
#	run "$INLAY" copy "$REG/app:1" "$REG/copy:1"
#	is "$status" 0 "copy exits 0"
#	...
#	done_testing
#
# Everything runs on loopback against real servers: Debian's docker-registry
# (Distribution 2.8), the test token server beside this file, skopeo and umoci.
# Each test gets a temporary directory $T; an EXIT trap stops every server the
# test started and removes $T (INLAY_KEEP_TMP=1 keeps it for a post-mortem).
#
# The functions, by section (each is documented where it is defined):
#   TAP       plan N, pass/fail/skip DESC, ok DESC CMD..., not_ok DESC CMD...,
#             is/isnt GOT WANT DESC, like/like_i/unlike GOT ERE DESC, diag,
#             note (stderr), bail_out, skip_all, done_testing
#   commands  run CMD... ($status $stdout $stderr, exact bytes in $RUN_OUT
#             $RUN_ERR), run_in INPUT CMD..., sha256_file, now_ms, secs_since,
#             require_inlay, require_tools
#   servers   start_registry open|basic|bearer [PREFIX] [--anonymous-pull],
#             start_mirror PREFIX ARGS..., stop_registry, start_token_server, free_port, stop_pid,
#             registry_blob_path, corrupt_blob, corrupt_manifest,
#             inlay_auth_flags, write_docker_config
#   skopeo    sk SUBCOMMAND ... (adds TLS and credential flags for the test
#             registries), skopeo_digest REF, skopeo_raw REF
#   fixtures  (fixtures.sh) fixtures_build, fixture, fixture_ref,
#             fixture_digest, push_fixture, layout_digest, layout_blob
#
# A script that is not a TAP test (tests/demo.sh) sets LIB_NO_TAP=1 before
# sourcing, so ending without done_testing is no failure.
#
# Bash only. The caller's shell gets `set -u -o pipefail`, never `set -e`: a
# failing check must report `not ok` and go on.

set -u
set -o pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LIB_DIR/../.." && pwd)
INLAY=${INLAY:-$ROOT/build/inlay}
FIXTURES_DIR=${INLAY_FIXTURES:-$ROOT/build/fixtures}
DEBS_DIR=${INLAY_DEBS:-$ROOT/build/debs}
export INLAY
# Debian's python3 (tests/deps.sh): a version manager's shim in PATH can take
# most of a second to start, and the helpers start python often.
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3

# ---------------------------------------------------------------------------
# TAP

_TAP_RUN=0
_TAP_FAILED=0
_TAP_PLAN=
_TAP_DONE=0

# plan N: announce the number of tests (prints "1..N").
plan() {
	_TAP_PLAN=$1
	echo "1..$1"
}

# diag MSG...: diagnostics as "# " lines (one per line of MSG).
diag() {
	local line
	printf '%s\n' "$*" | while IFS= read -r line; do printf '# %s\n' "$line"; done
}

# note MSG...: like diag but on stderr, for functions whose stdout is a result.
note() {
	local line
	printf '%s\n' "$*" | while IFS= read -r line; do printf '# %s\n' "$line" >&2; done
}

# pass DESC / fail DESC: one test result.
pass() {
	_TAP_RUN=$((_TAP_RUN + 1))
	echo "ok $_TAP_RUN - $*"
}

fail() {
	_TAP_RUN=$((_TAP_RUN + 1))
	_TAP_FAILED=$((_TAP_FAILED + 1))
	echo "not ok $_TAP_RUN - $*"
	# Where it failed, for a reader of the log.
	local i
	for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
		case ${FUNCNAME[$i]} in pass | fail | ok | is | isnt | like | unlike | like_i | _*) ;; *)
			diag "  at ${BASH_SOURCE[$i]##*/} line ${BASH_LINENO[$((i - 1))]}"
			break
			;;
		esac
	done
}

# skip DESC REASON: a test not run, counted as passed ("ok N - DESC # SKIP REASON").
skip() {
	_TAP_RUN=$((_TAP_RUN + 1))
	echo "ok $_TAP_RUN - $1 # SKIP ${2:-}"
}

# ok DESC CMD [ARGS...]: passes when CMD exits 0; its output is shown on failure.
ok() {
	local desc=$1
	shift
	local out=$T/ok.out
	"$@" >"$out" 2>&1 </dev/null
	local rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$desc"
		return 0
	fi
	fail "$desc"
	diag "  command: $(_quote "$@")"
	diag "  exit status $rc, output:"
	diag "$(head -c 3000 "$out" | sed 's/^/    /')"
	return 1
}

# not_ok DESC CMD [ARGS...]: passes when CMD exits non-zero.
not_ok() {
	local desc=$1
	shift
	local out=$T/ok.out
	"$@" >"$out" 2>&1 </dev/null
	local rc=$?
	if [ "$rc" -ne 0 ]; then
		pass "$desc"
		return 0
	fi
	fail "$desc"
	diag "  command succeeded but should have failed: $(_quote "$@")"
	diag "$(head -c 2000 "$out" | sed 's/^/    /')"
	return 1
}

# is GOT EXPECTED DESC: string equality.
is() {
	if [ "$1" = "$2" ]; then
		pass "$3"
		return 0
	fi
	fail "$3"
	diag "  got:      '$(_short "$1")'"
	diag "  expected: '$(_short "$2")'"
	_diag_last_run
	return 1
}

# isnt GOT UNEXPECTED DESC
isnt() {
	if [ "$1" != "$2" ]; then
		pass "$3"
		return 0
	fi
	fail "$3"
	diag "  got '$(_short "$1")', which it should not be"
	_diag_last_run
	return 1
}

# like GOT ERE DESC: GOT (possibly several lines) matches the extended regex.
like() {
	if grep -Eq -- "$2" <<<"$1"; then
		pass "$3"
		return 0
	fi
	fail "$3"
	diag "  '$(_short "$1")'"
	diag "  does not match /$2/"
	_diag_last_run
	return 1
}

# like_i GOT ERE DESC: like, ignoring case.
like_i() {
	if grep -Eiq -- "$2" <<<"$1"; then
		pass "$3"
		return 0
	fi
	fail "$3"
	diag "  '$(_short "$1")'"
	diag "  does not match /$2/i"
	_diag_last_run
	return 1
}

# unlike GOT ERE DESC: GOT does not match.
unlike() {
	if ! grep -Eq -- "$2" <<<"$1"; then
		pass "$3"
		return 0
	fi
	fail "$3"
	diag "  '$(_short "$1")'"
	diag "  matches /$2/ but should not"
	return 1
}

# bail_out MSG: stop the whole test file (TAP "Bail out!"); cleanup still runs.
bail_out() {
	echo "Bail out! $*"
	_TAP_DONE=1
	exit 1
}

# skip_all REASON: the file runs no test ("1..0 # SKIP REASON").
skip_all() {
	echo "1..0 # SKIP $*"
	_TAP_DONE=1
	exit 0
}

# done_testing: last line of every .t. Prints the plan when none was given,
# and sets the exit status: 0 only when every planned test ran and passed.
done_testing() {
	_TAP_DONE=1
	if [ -z "$_TAP_PLAN" ]; then
		echo "1..$_TAP_RUN"
	elif [ "$_TAP_PLAN" -ne "$_TAP_RUN" ]; then
		diag "planned $_TAP_PLAN tests but ran $_TAP_RUN"
		exit 1
	fi
	if [ "$_TAP_FAILED" -ne 0 ]; then
		diag "failed $_TAP_FAILED of $_TAP_RUN tests"
		exit 1
	fi
	exit 0
}

_short() {
	local s=$1
	if [ "${#s}" -gt 600 ]; then s="${s:0:600}...(${#1} chars)"; fi
	printf '%s' "$s"
}

_quote() {
	local a out=
	for a in "$@"; do out="$out $(printf '%q' "$a")"; done
	printf '%s' "${out# }"
}

# ---------------------------------------------------------------------------
# Running commands

# run CMD [ARGS...]: run CMD with stdin from /dev/null; sets
#   status  its exit status
#   stdout  its standard output (trailing newlines stripped, as $(...) does)
#   stderr  its standard error
#   RUN_OUT, RUN_ERR  files holding the exact bytes of both
#   RUN_CMD the command, quoted, for diagnostics
# Never fails itself.
run() {
	RUN_OUT=$T/run.out
	RUN_ERR=$T/run.err
	RUN_CMD=$(_quote "$@")
	"$@" >"$RUN_OUT" 2>"$RUN_ERR" </dev/null
	status=$?
	stdout=$(cat "$RUN_OUT")
	stderr=$(cat "$RUN_ERR")
	return 0
}

# run_in INPUT CMD [ARGS...]: run with INPUT (plus a newline) on stdin.
run_in() {
	local input=$1
	shift
	RUN_OUT=$T/run.out
	RUN_ERR=$T/run.err
	RUN_CMD=$(_quote "$@")
	printf '%s\n' "$input" | "$@" >"$RUN_OUT" 2>"$RUN_ERR"
	status=$?
	stdout=$(cat "$RUN_OUT")
	stderr=$(cat "$RUN_ERR")
	return 0
}

_diag_last_run() {
	[ -n "${RUN_CMD:-}" ] || return 0
	diag "  last run: $RUN_CMD"
	diag "  exit status ${status:-?}; stdout:"
	diag "$(head -c 1500 "$RUN_OUT" 2>/dev/null | sed 's/^/    /')"
	diag "  stderr:"
	diag "$(head -c 1500 "$RUN_ERR" 2>/dev/null | sed 's/^/    /')"
}

# sha256_file FILE: "sha256:<hex>" of FILE's bytes.
sha256_file() {
	echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"
}

# now_ms: milliseconds since the epoch, for timing.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# secs_since MS: seconds elapsed since now_ms returned MS, as "1.234".
secs_since() {
	local d=$(($(now_ms) - $1))
	printf '%d.%03d' $((d / 1000)) $((d % 1000))
}

# ttm URL: the time to a manifest's last byte, in ms (a first pull's latency).
ttm() {
	local t0
	t0=$(now_ms)
	curl -s -o /dev/null -H "Accept: application/vnd.oci.image.manifest.v1+json" "$1"
	echo $(($(now_ms) - t0))
}

# require_inlay: bail out unless $INLAY is an executable file.
require_inlay() {
	[ -x "$INLAY" ] || bail_out "inlay binary not found at $INLAY: build it with 'make' first"
}

# require_tools TOOL...: bail out naming the missing tools (see 'make deps').
require_tools() {
	local t missing=
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done
	[ -z "$missing" ] || bail_out "missing tools:$missing (run 'make deps' as root)"
}

# ---------------------------------------------------------------------------
# The per-test sandbox: temp dir, isolated environment, cleanup.

T=$(mktemp -d "${TMPDIR:-/tmp}/inlay-it.XXXXXX") || {
	echo "Bail out! cannot create a temporary directory"
	exit 1
}
_PIDS_FILE=$T/.pids
: >"$_PIDS_FILE"

# Nothing leaves the machine: no proxy may take loopback traffic elsewhere.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY ftp_proxy FTP_PROXY
export no_proxy=127.0.0.1,localhost,::1 NO_PROXY=127.0.0.1,localhost,::1
# Credentials come only from what a test writes: the user's own docker or
# podman logins must neither leak into nor change a test.
mkdir -p "$T/home" "$T/run"
chmod 0700 "$T/run"
export HOME=$T/home XDG_RUNTIME_DIR=$T/run
unset REGISTRY_AUTH_FILE DOCKER_CONFIG XDG_CONFIG_HOME CONTAINERS_REGISTRIES_CONF
export LC_ALL=C

# _track_pid PID [LOG]: stop PID (and its process group) when the test ends;
# if it died before, say so with the end of LOG.
# $_PIDS_FILE holds one PID a line, $_PIDS_FILE.logs "PID LOG" lines.
_track_pid() {
	echo "$1" >>"$_PIDS_FILE"
	echo "$1 ${2:-}" >>"$_PIDS_FILE.logs"
}

# _untrack_pid PID: a server stopped on purpose (see stop_registry).
_untrack_pid() {
	sed -i "/^$1\$/d" "$_PIDS_FILE"
}

# stop_pid PID: TERM its process group (servers run under setsid), wait up to
# 5 s for it to go, then KILL. Bash reaps its own children as they exit, so
# polling with kill -0 sees the exit.
stop_pid() {
	local pid=$1 i
	# Never a signal to "-1" (every process) or "-0" (our own group).
	[[ $pid =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] || return 0
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

_cleanup() {
	local rc=$?
	trap - EXIT
	local pid log
	if [ -f "$_PIDS_FILE" ]; then
		while read -r pid; do
			[ -n "$pid" ] || continue
			log=$(sed -n "s/^$pid //p" "$_PIDS_FILE.logs" 2>/dev/null | tail -n 1)
			if ! kill -0 "$pid" 2>/dev/null; then
				# A server that went away mid-test explains later failures.
				echo "# server $pid ended before the test did; the end of its log ($log):"
				[ -n "$log" ] && tail -n 15 "$log" 2>/dev/null | sed 's/^/#   /'
				rc=1
				continue
			fi
			stop_pid "$pid"
		done <"$_PIDS_FILE"
	fi
	if [ "$_TAP_DONE" -eq 0 ] && [ "$rc" -eq 0 ] && [ -z "${LIB_NO_TAP:-}" ]; then
		# The script ended without done_testing: say so, and fail.
		echo "# test script ended early (no done_testing)"
		rc=1
	fi
	if [ "${INLAY_KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port: a TCP port on 127.0.0.1 that was free a moment ago. Callers
# retry on EADDRINUSE, since another process may take it meanwhile.
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# _http_code URL [CURL ARGS...]: the HTTP status of GET URL, 000 when none.
_http_code() {
	local url=$1
	shift
	curl -s --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null ||
		true
}

# ---------------------------------------------------------------------------
# Servers

declare -gA _REG_BY_HOST=()

# _mk_tls DIR: a CA (DIR/ca.crt, ca.key) and a server certificate for
# IP:127.0.0.1 and DNS:localhost signed by it (DIR/server.crt, server.key).
# Also DIR/certs.d/ca.crt: skopeo's --cert-dir takes a directory of *.crt.
_mk_tls() {
	local d=$1
	mkdir -p "$d/certs.d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj "/CN=inlay test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$d/openssl.log" &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" \
			2>>"$d/openssl.log" &&
		printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
			"basicConstraints=critical,CA:FALSE" \
			"keyUsage=critical,digitalSignature,keyEncipherment" \
			"extendedKeyUsage=serverAuth" >"$d/server.ext" &&
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -extfile "$d/server.ext" -out "$d/server.crt" \
			2>>"$d/openssl.log" &&
		cp "$d/ca.crt" "$d/certs.d/ca.crt"
}

# _random_word: 12 random hex digits.
_random_word() {
	od -An -N6 -tx1 /dev/urandom | tr -d ' \n'
}

# start_token_server PREFIX SERVICE ISSUER USER PASS [--anonymous-pull]:
# starts token_server.py (it picks its own port) and exports
#   PREFIX_TOKEN_PORT, PREFIX_TOKEN_REALM (http://127.0.0.1:PORT/token),
#   PREFIX_TOKEN_LOG (one line per request: path, user, scopes, never the
#   password), PREFIX_TOKEN_CERT (the signing certificate for rootcertbundle).
start_token_server() {
	local p=$1 service=$2 issuer=$3 user=$4 pass=$5
	shift 5
	local d=$T/token-$p i
	mkdir -p "$d"
	# RS256: the registry (libtrust) verifies PKCS#1 v1.5 signatures with the
	# key of the x5c certificate, which must chain to the rootcertbundle: a
	# self-signed certificate that is itself the bundle does.
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/signer.key" -out "$d/signer.crt" \
		-days 2 -subj "/CN=inlay test token signer" 2>"$d/openssl.log" ||
		bail_out "openssl could not make the token signing key: $(cat "$d/openssl.log")"
	: >"$d/requests.log"
	setsid "$PYTHON" "$LIB_DIR/token_server.py" --port-file "$d/port" \
		--key "$d/signer.key" --cert "$d/signer.crt" --issuer "$issuer" \
		--service "$service" --user "$user" --password "$pass" --log "$d/requests.log" \
		"$@" >"$d/server.log" 2>&1 </dev/null &
	local pid=$!
	_track_pid "$pid" "$d/server.log"
	for ((i = 0; i < 100; i++)); do
		[ -s "$d/port" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$d/port" ] || bail_out "token server did not start: $(tail -n 20 "$d/server.log")"
	local port
	port=$(cat "$d/port")
	declare -gx "${p}_TOKEN_PORT=$port"
	declare -gx "${p}_TOKEN_REALM=http://127.0.0.1:$port/token"
	declare -gx "${p}_TOKEN_LOG=$d/requests.log"
	declare -gx "${p}_TOKEN_CERT=$d/signer.crt"
	declare -gx "${p}_TOKEN_PID=$pid"
}

# start_registry MODE [PREFIX] [--anonymous-pull]: start Debian's
# docker-registry (Distribution 2.8) on a free 127.0.0.1 port with empty
# storage in $T. MODE:
#   open    plain HTTP, no auth
#   basic   HTTPS with a CA made here, htpasswd (bcrypt) Basic auth
#   bearer  plain HTTP, token auth through token_server.py
#           (--anonymous-pull lets anonymous clients pull)
# Exports, with PREFIX (default REG):
#   PREFIX        127.0.0.1:PORT          PREFIX_PORT, PREFIX_MODE
#   PREFIX_URL    http[s]://127.0.0.1:PORT
#   PREFIX_DIR    storage root (blobs under docker/registry/v2/blobs)
#   PREFIX_LOG    the registry's stdout+stderr, with the access log
#   PREFIX_PID
#   basic:  PREFIX_CA (CA certificate), PREFIX_CERT_DIR (for skopeo --cert-dir),
#           PREFIX_USER, PREFIX_PASS
#   bearer: PREFIX_USER, PREFIX_PASS, PREFIX_TOKEN_LOG, PREFIX_TOKEN_REALM, ...
# Call it directly, not in $(...): the exports must reach the test's shell.
start_registry() {
	local mode=$1 p=${2:-REG}
	shift $(($# >= 2 ? 2 : 1))
	case $mode in open | basic | bearer) ;; *) bail_out "start_registry: unknown mode '$mode'" ;; esac
	require_tools docker-registry curl openssl python3
	local t0
	t0=$(now_ms)
	local d=$T/registry-$p
	mkdir -p "$d/storage"
	local scheme=http user='' pass='' auth_yaml='' tls_yaml='' curl_tls=()

	case $mode in
	basic)
		user=alice-$(_random_word | head -c 4)
		pass=pw-$(_random_word)-Secret
		_mk_tls "$d/tls" || bail_out "openssl could not make the test CA: $(cat "$d/tls/openssl.log")"
		htpasswd -Bbn "$user" "$pass" >"$d/htpasswd" 2>/dev/null ||
			bail_out "htpasswd failed (apache2-utils)"
		scheme=https
		curl_tls=(--cacert "$d/tls/ca.crt")
		tls_yaml="  tls:
    certificate: $d/tls/server.crt
    key: $d/tls/server.key"
		auth_yaml="auth:
  htpasswd:
    realm: inlay-test
    path: $d/htpasswd"
		;;
	bearer)
		user=bob-$(_random_word | head -c 4)
		pass=pw-$(_random_word)-Secret
		start_token_server "$p" inlay-test inlay-test-issuer "$user" "$pass" "$@"
		local realm_var=${p}_TOKEN_REALM cert_var=${p}_TOKEN_CERT
		auth_yaml="auth:
  token:
    realm: ${!realm_var}
    service: inlay-test
    issuer: inlay-test-issuer
    rootcertbundle: ${!cert_var}"
		;;
	esac

	local attempt port pid code='' log=$d/registry.log i
	for ((attempt = 1; attempt <= 5; attempt++)); do
		port=$(free_port)
		cat >"$d/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $d/storage
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: inlay-test-$(_random_word)
  headers:
    X-Content-Type-Options: [nosniff]
$tls_yaml
$auth_yaml
health:
  storagedriver:
    enabled: false
EOF
		# The access log goes to stdout, everything else to stderr: keep both.
		setsid docker-registry serve "$d/config.yml" >"$log" 2>&1 </dev/null &
		pid=$!
		_track_pid "$pid" "$log"
		# First its own word that it listens (so a server that took the port
		# meanwhile is not mistaken for it), then an answer to GET /v2/.
		code=000
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			if grep -q "listening on 127.0.0.1:$port" "$log"; then
				code=$(_http_code "$scheme://127.0.0.1:$port/v2/" "${curl_tls[@]}")
				case $code in 200 | 401) break ;; esac
			fi
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null || code=000
		case $code in 200 | 401) break ;; esac
		stop_pid "$pid"
		_untrack_pid "$pid"
		if grep -q 'address already in use' "$log"; then
			continue
		fi
		bail_out "docker-registry ($mode) did not answer on 127.0.0.1:$port within 10 s:" \
			"$(tail -n 20 "$log")"
	done
	case $code in 200 | 401) ;; *) bail_out "docker-registry: no free port after 5 tries" ;; esac
	# Open registries answer 200 to GET /v2/, authenticating ones 401.
	if [ "$mode" = open ] && [ "$code" != 200 ]; then bail_out "open registry answered $code"; fi
	if [ "$mode" != open ] && [ "$code" != 401 ]; then bail_out "$mode registry answered $code"; fi

	declare -gx "$p=127.0.0.1:$port"
	declare -gx "${p}_PORT=$port"
	declare -gx "${p}_MODE=$mode"
	declare -gx "${p}_URL=$scheme://127.0.0.1:$port"
	declare -gx "${p}_DIR=$d/storage"
	declare -gx "${p}_LOG=$log"
	declare -gx "${p}_PID=$pid"
	if [ "$mode" != open ]; then
		declare -gx "${p}_USER=$user"
		declare -gx "${p}_PASS=$pass"
	fi
	if [ "$mode" = basic ]; then
		declare -gx "${p}_CA=$d/tls/ca.crt"
		declare -gx "${p}_CERT_DIR=$d/tls/certs.d"
	fi
	_REG_BY_HOST["127.0.0.1:$port"]=$p
	_REG_BY_HOST["localhost:$port"]=$p
	diag "started $mode registry $p at 127.0.0.1:$port in $(secs_since "$t0") s"
}

# instrumented_digest KEY SRC DST [INSTRUMENT ARGS...]: the digest `inlay
# instrument --key KEY` makes of SRC at DST, the one a rewrite or webhook of
# the same image must pin (deterministic: same source, options and key).
instrumented_digest() {
	local key=$1 src=$2 dst=$3
	shift 3
	"$INLAY" instrument --quiet --key "$key" "$src" "$dst" "$@" 2>"$T/instrumented.err" |
		sed 's/.*@//' || bail_out "instrument $src: $(cat "$T/instrumented.err")"
}

# start_mirror PREFIX [INLAY SERVE ARGS...]: start `inlay serve` on a free
# loopback port (plain HTTP unless the args say --tls-cert) and wait for its
# /healthz. Sets PREFIX=127.0.0.1:PORT, PREFIX_PORT, PREFIX_PID, PREFIX_LOG
# (its stderr: the access log and its messages), PREFIX_URL. The store and
# the upstreams come from the args.
start_mirror() {
	local p=$1
	shift
	local attempt port pid log=$T/mirror-$p.log code i scheme=http a
	for a in "$@"; do [ "$a" = --tls-cert ] && scheme=https; done
	for ((attempt = 1; attempt <= 5; attempt++)); do
		port=$(free_port)
		setsid "$INLAY" serve --listen "127.0.0.1:$port" "$@" >"$log" 2>&1 </dev/null &
		pid=$!
		_track_pid "$pid" "$log"
		code=000
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			code=$(_http_code "$scheme://127.0.0.1:$port/healthz" -k)
			[ "$code" = 200 ] && break
			sleep 0.05
		done
		[ "$code" = 200 ] && break
		stop_pid "$pid"
		_untrack_pid "$pid"
		grep -q 'cannot listen' "$log" && continue
		bail_out "inlay serve did not answer on 127.0.0.1:$port: $(tail -n 5 "$log")"
	done
	[ "$code" = 200 ] || bail_out "inlay serve: no free port after 5 tries"
	declare -gx "$p=127.0.0.1:$port"
	declare -gx "${p}_PORT=$port"
	declare -gx "${p}_PID=$pid"
	declare -gx "${p}_LOG=$log"
	declare -gx "${p}_URL=$scheme://127.0.0.1:$port"
	declare -gx "${p}_MODE=open"
	_REG_BY_HOST["127.0.0.1:$port"]=$p
}

# stop_registry [PREFIX]: stop a registry on purpose (and its token server),
# e.g. to test what happens when it goes away. The variables stay set.
stop_registry() {
	local p=${1:-REG}
	local pid_var=${p}_PID tpid_var=${p}_TOKEN_PID
	stop_pid "${!pid_var}"
	_untrack_pid "${!pid_var}"
	if [ -n "${!tpid_var:-}" ]; then
		stop_pid "${!tpid_var}"
		_untrack_pid "${!tpid_var}"
	fi
}

# start_faultproxy NAME UPSTREAM [faultproxy.py OPTIONS...]: faultproxy.py
# in front of UPSTREAM (HOST:PORT); $NAME is its HOST:PORT, ${NAME}_LOG its
# log (one line per request), ${NAME}_PID its process.
start_faultproxy() {
	local name=$1 up=$2 pid i
	shift 2
	rm -f "$T/$name.port"
	: >"$T/$name.log"
	setsid "$PYTHON" "$LIB_DIR/faultproxy.py" --upstream "$up" --port-file "$T/$name.port" \
		--log "$T/$name.log" "$@" >"$T/$name.err" 2>&1 </dev/null &
	pid=$!
	_track_pid "$pid" "$T/$name.err"
	for ((i = 0; i < 200; i++)); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	[ -s "$T/$name.port" ] || bail_out "faultproxy $name did not start: $(cat "$T/$name.err")"
	declare -g "$name=127.0.0.1:$(cat "$T/$name.port")" "${name}_LOG=$T/$name.log" "${name}_PID=$pid"
}

# stop_faultproxy NAME
stop_faultproxy() {
	local pid_var=${1}_PID
	stop_pid "${!pid_var}"
	_untrack_pid "${!pid_var}"
}

# registry_blob_path DIGEST [PREFIX]: where the registry PREFIX stores a blob.
registry_blob_path() {
	local digest=$1 p=${2:-REG}
	local dir_var=${p}_DIR hex=${1#sha256:}
	echo "${!dir_var}/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

# corrupt_blob DIGEST [PREFIX]: overwrite bytes in the middle of a stored blob
# with different ones of the same length, so size checks still pass and only
# a digest check can notice.
corrupt_blob() {
	local path
	path=$(registry_blob_path "$@")
	[ -f "$path" ] || bail_out "corrupt_blob: no blob $1 at $path"
	"$PYTHON" - "$path" <<'EOF'
import sys
path = sys.argv[1]
with open(path, "r+b") as f:
    data = bytearray(f.read())
    n = min(16, len(data))
    start = max(0, len(data) // 2 - n // 2)
    for i in range(start, start + n):
        data[i] ^= 0xA5
    f.seek(0)
    f.write(data)
EOF
}

# corrupt_manifest DIGEST [PREFIX]: change one hex digit of the first
# "sha256:" digest inside a stored manifest. The JSON stays valid, so the
# registry still serves it (under its old digest); only a client that checks
# the bytes against the digest notices.
corrupt_manifest() {
	local path
	path=$(registry_blob_path "$@")
	[ -f "$path" ] || bail_out "corrupt_manifest: no blob $1 at $path"
	"$PYTHON" - "$path" <<'EOF'
import sys
path = sys.argv[1]
with open(path, "r+b") as f:
    data = bytearray(f.read())
    i = data.find(b'"sha256:')
    if i < 0:
        sys.exit("no digest inside " + path)
    i += len('"sha256:')
    data[i] = ord("0") if data[i] != ord("0") else ord("1")
    f.seek(0)
    f.write(data)
EOF
}

# inlay_auth_flags PREFIX: the inlay flags a registry needs (CA, credentials),
# one per line; use as  mapfile -t f < <(inlay_auth_flags REG).
inlay_auth_flags() {
	local p=$1
	local mode_var=${p}_MODE
	case ${!mode_var} in
	basic)
		local ca=${p}_CA u=${p}_USER pw=${p}_PASS
		printf '%s\n' --ca-file "${!ca}" --creds "${!u}:${!pw}"
		;;
	bearer)
		local u=${p}_USER pw=${p}_PASS
		printf '%s\n' --creds "${!u}:${!pw}"
		;;
	esac
}

# write_docker_config FILE HOST USER PASS: a docker config.json with a base64
# "auth" entry for HOST.
write_docker_config() {
	mkdir -p "$(dirname "$1")"
	local auth
	auth=$(printf '%s:%s' "$3" "$4" | base64 -w0)
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$2" "$auth" >"$1"
}

# ---------------------------------------------------------------------------
# skopeo

_SK_POLICY=$T/policy.json
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$_SK_POLICY"

# _sk_flags ARRAY ROLE REF ARGS...: append to ARRAY the TLS and credential
# flags ROLE ("src-", "dest-" or "") needs for REF, when REF is a docker://
# reference to a registry this test started; ARGS are the caller's own flags,
# whose credential choice wins.
_sk_flags() {
	local -n _arr=$1
	local role=$2 ref=$3
	shift 3
	case $ref in docker://*) ;; *) return 0 ;; esac
	local host=${ref#docker://}
	host=${host%%/*}
	local p=${_REG_BY_HOST[$host]:-}
	[ -n "$p" ] || return 0
	local mode_var=${p}_MODE
	local mode=${!mode_var}
	if [ "$mode" = basic ]; then
		local cd=${p}_CERT_DIR
		_arr+=("--${role}cert-dir" "${!cd}")
	else
		_arr+=("--${role}tls-verify=false")
	fi
	if [ "$mode" != open ]; then
		local a
		for a in "$@"; do
			case $a in
			--"${role}"creds | --"${role}"creds=* | --"${role}"no-creds) return 0 ;;
			--authfile | --authfile=* | --"${role}"authfile | --"${role}"authfile=*) return 0 ;;
			esac
		done
		local u=${p}_USER pw=${p}_PASS
		_arr+=("--${role}creds" "${!u}:${!pw}")
	fi
}

# sk SUBCOMMAND [FLAGS...] REF... : skopeo with the flags the test registries
# need added automatically (TLS off for plain-HTTP ones, the CA for the TLS
# one, credentials unless given). References come last: `sk copy [FLAGS] SRC
# DST`, `sk inspect [FLAGS] REF`.
sk() {
	local sub=$1
	shift
	local extra=()
	case $sub in
	copy)
		[ $# -ge 2 ] || bail_out "sk copy needs SRC and DST"
		_sk_flags extra src- "${@: -2:1}" "$@"
		_sk_flags extra dest- "${@: -1}" "$@"
		;;
	inspect | delete | list-tags)
		[ $# -ge 1 ] || bail_out "sk $sub needs a reference"
		_sk_flags extra "" "${@: -1}" "$@"
		;;
	esac
	skopeo --policy "$_SK_POLICY" "$sub" "${extra[@]}" "$@"
}

# skopeo_digest REF: sha256 of the manifest bytes `skopeo inspect --raw` shows
# for REF ("sha256:<hex>"); fails (prints nothing) when REF cannot be read.
skopeo_digest() {
	local f=$T/.skopeo_digest.$$
	sk inspect --raw "$@" >"$f" 2>"$f.err" || {
		note "skopeo inspect --raw $*: $(cat "$f.err")"
		rm -f "$f" "$f.err"
		return 1
	}
	sha256_file "$f"
	rm -f "$f" "$f.err"
}

# skopeo_raw REF: the manifest bytes (through stdout).
skopeo_raw() {
	sk inspect --raw "$@"
}

. "$LIB_DIR/fixtures.sh"
