#!/bin/sh
# run.sh SECONDS JOBS TARGET... - run each libFuzzer target for SECONDS over
# its working corpus (build/fuzz/corpus/NAME, seeded from the committed
# tests/fuzz/corpus/NAME), JOBS at a time, and print one line per target with
# its executions and the corpus it reached. Exit status 1 if any target found
# a crash, a leak or a timeout (its log's tail is printed, the reproducer is
# left in build/fuzz/).
#
# The committed corpus is read, never written: a fuzzer writes what it finds
# into its first directory only, which is the working one under build/.
set -u
seconds=$1
jobs=$2
shift 2
status=0

report() { # name, exit status
	log=build/fuzz/$1.log
	if [ "$2" -ne 0 ]; then
		echo "== $1: FAILED (exit $2)"
		tail -n 40 "$log"
		return 1
	fi
	runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 executions in \2 s/p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*corp: \([0-9]*\).*/cov \1, corpus \2/p')
	echo "== $1: ${runs:-no summary}, ${cov:-?}, 0 crashes"
}

one() { # binary
	name=$(basename "$1")
	mkdir -p "build/fuzz/corpus/$name"
	seeds=
	[ -d "tests/fuzz/corpus/$name" ] && seeds=tests/fuzz/corpus/$name
	(cd build/fuzz && exec "../../$1" -max_total_time="$seconds" -max_len=65536 \
		-print_final_stats=1 "corpus/$name" ${seeds:+"../../$seeds"}) \
		>"build/fuzz/$name.log" 2>&1
	report "$name" $?
}

if [ "${1:-}" = --one ]; then
	one "$2" >"build/fuzz/$(basename "$2").summary"
	exit 0
fi
# xargs runs JOBS at a time; each writes its own summary, printed in order.
printf '%s\n' "$@" | xargs -r -P "$jobs" -n 1 sh "$0" "$seconds" "$jobs" --one
for bin in "$@"; do
	s=build/fuzz/$(basename "$bin").summary
	cat "$s"
	grep -q FAILED "$s" && status=1
done
exit $status
