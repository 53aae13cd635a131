#!/bin/sh
# run-tests.sh BUILD SUITE... - run the unit (cmocka, TAP output) and
# integration (TAP scripts) suites, print each file's result and end with the
# line "N passed, N failed". A file that dies early, or whose plan does not
# match what it ran, counts as one more failure. Exit status 1 on any failure.
#
# TESTS=pattern limits the run to files whose name contains pattern.
set -u
build=$1
shift
passed=0
failed=0
logdir=$build/test-logs
mkdir -p "$logdir"

run_one() { # name, command...
	name=$1
	shift
	log=$logdir/$(echo "$name" | tr '/' '_').log
	start=$(date +%s)
	"$@" >"$log" 2>&1
	status=$?
	secs=$(($(date +%s) - start))
	ok=$(grep -c '^ok ' "$log")
	nok=$(grep -c '^not ok ' "$log")
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
	extra=0
	if [ "$status" -ne 0 ] && [ "$nok" -eq 0 ]; then extra=1; fi
	if [ -n "$plan" ] && [ "$plan" -ne $((ok + nok)) ]; then extra=1; fi
	if [ -z "$plan" ] && [ $((ok + nok)) -eq 0 ]; then extra=1; fi
	passed=$((passed + ok))
	failed=$((failed + nok + extra))
	if [ $((nok + extra)) -eq 0 ]; then
		printf '%-50s ok   %3d tests %4ds\n' "$name" "$ok" "$secs"
	else
		printf '%-50s FAIL %3d ok, %d failed (exit %d) %4ds - see %s\n' "$name" "$ok" \
			"$((nok + extra))" "$status" "$secs" "$log"
		grep -E '^(not ok|#)' "$log" | head -n 40 | sed 's/^/    /'
	fi
}

for suite in "$@"; do
	case $suite in
	unit)
		for t in "$build"/tests/unit/test_*; do
			[ -x "$t" ] || continue
			case $t in *"${TESTS:-}"*) ;; *) continue ;; esac
			CMOCKA_MESSAGE_OUTPUT=TAP run_one "unit/$(basename "$t")" "$t"
		done
		;;
	integration)
		for t in tests/integration/*.t; do
			[ -f "$t" ] || continue
			case $t in *"${TESTS:-}"*) ;; *) continue ;; esac
			INLAY="$(pwd)/$build/inlay" run_one "integration/$(basename "$t")" bash "$t"
		done
		;;
	esac
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
