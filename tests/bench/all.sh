#!/usr/bin/env bash
# tests/bench/all.sh -- `make bench`, one command: the HTTP benchmarks
# (run.sh), the dispatcher (dispatcher.sh), the portal's cold loads
# (portal.sh) and the simulated year (year.sh; BENCH_YEAR=0 skips it),
# each on its own throwaway stack.  Every target line says PASS, NOT MET
# or SKIPPED beside its value and the same-run baseline; all of them are
# printed again at the end, with each part's minutes and the whole run's
# (target: under 15 minutes on the 2-core machine, its own PASS / NOT MET
# line; BENCH_QUICK=1 shortens every part for development).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export BENCH_SUMMARY
BENCH_SUMMARY=$(mktemp /tmp/mtcert-bench-summary.XXXXXX)
trap 'rm -f "$BENCH_SUMMARY"' EXIT
# Shortened because over-measured (issue 13 item 7: under 15 minutes):
# the dispatcher's scaling bursts (1, 2 and 4 dispatchers, each printed
# against the single one) measure a rate, so 10,000 each rather than
# dispatcher.sh's own 20,000 -- 5 s of work at the 2,000/s target.  At the
# 94 re-pushes/s of issue 14's first full run (load 12) the three 20,000
# would have taken 10.6 minutes, 10,000 each 5.3.  The 100,000 burst, the
# steady lag and the year are the targets themselves and keep their size.
[ -n "${BENCH_QUICK:-}" ] || export BENCH_SCALE_DUE=${BENCH_SCALE_DUE:-10000}
# Shortened too (issue 13 item 7; the second whole run took 15.7
# minutes): the catalog's p99 and its floor the median of 3 alternated
# rounds, not 5; the worker-count sweeps 3 s a count, not 5 (each count's
# workers are warmed first: a rate); 7 cold loads of each portal page,
# not 15 (10 until `make bench` took 15.0 minutes on a machine whose
# insert baseline was 3,729 req/s; the p90 of 10 loads was already the
# slowest, as of 7).
if [ -z "${BENCH_QUICK:-}" ]; then
	export BENCH_P99_ROUNDS=${BENCH_P99_ROUNDS:-3}
	export BENCH_SWEEP_SECONDS=${BENCH_SWEEP_SECONDS:-3}
	export BENCH_RUNS=${BENCH_RUNS:-7}
fi
# minutes SECONDS: as minutes with one decimal.
minutes() { awk -v s="$1" 'BEGIN { printf "%.1f", s / 60 }'; }
T0=$(date +%s)
status=0
took=()
# The year runs alone, after the portal (issue 13, this round: beside the
# portal's cold loads it saved 1.8 minutes, but the year's experts are
# threads with a one-second accept window, one simulated day, and
# answered late beside Chromium: 1,481 of 2,964 decided and 1,483 waited
# for an expert, and 1,836 and 1,128 with the portal at nice 19, against
# 2,541 and 423 alone).
for part in run dispatcher portal year; do
	echo "== bench: $part"
	t=$(date +%s)
	tests/bench/$part.sh || { echo "bench: $part.sh failed"; status=1; }
	took+=("$part $(minutes $(( $(date +%s) - t )))")
	echo "== bench: $part took ${took[-1]#* } min"
done
MIN=$(minutes $(( $(date +%s) - T0 )))
echo
echo "== bench: every target (${BENCH_QUICK:+BENCH_QUICK=1, }$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) now)"
cat "$BENCH_SUMMARY"
. tests/bench/stack.sh
echo "make bench took $MIN min: $(IFS=,; echo "${took[*]/%/ min}" | sed 's/,/, /g')"
if [ -n "${BENCH_QUICK:-}" ] || [ -n "${BENCH_ONLY:-}" ]; then
	target "make bench < 15 min" "-" "<" 15 "$MIN min, a shortened run"
else
	target "make bench < 15 min" "$MIN" "<" 15 "min, the whole run on $(nproc) cores"
fi
exit $status
