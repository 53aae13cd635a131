#!/bin/bash
# run.sh BUILD_DIR [BENCHMARK...] - inlay's benchmarks against skopeo and umoci
# (make bench runs `sh bench/run.sh build`). Not tests: they run inlay and the
# peer tools side by side on the same images, in one run, and report ratios
# against the goals in docs/BENCHMARKS.md.
#
#   copy      1. copy between two registries (200 MiB: 5 layers, and 1 layer)
#   mount     2. copy within one registry (blobs mounted)
#   inplace   3. instrument in place, 200 MiB image against 1 MiB image
#   pipeline  4. instrument against skopeo + umoci + skopeo
#   cross     5. instrument across registries against skopeo copy
#
# Default: all five, about 5 minutes on 2 cores. Everything runs on
# loopback, in a temporary directory removed at the end, against registries
# started here. Prints a Markdown section on stdout (progress on stderr) and
# writes it to BUILD_DIR/bench-results.md too.
#
# Environment: BENCH_RUNS (runs per series after one warm-up, default 11),
# BENCH_LAYERS, BENCH_LAYER_MIB, BENCH_ONE_MIB (image shape, default 5 x 40
# and 1 x 200), BENCH_RESULTS (report file), TMPDIR.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${1:-build}
[ $# -eq 0 ] || shift
BENCH_COMMAND="sh bench/run.sh $BUILD${*:+ $*}"
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
export INLAY=$BUILD/inlay
BENCH_RESULTS=${BENCH_RESULTS-$BUILD/bench-results.md}

. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/copy.sh"
. "$BENCH_DIR/instrument.sh"

bench_main "$@"
