#!/usr/bin/env bash
# tests/bench/all.sh -- `make bench`, one command: the HTTP benchmarks
# (run.sh), the dispatcher (dispatcher.sh), the portal's cold loads
# (portal.sh) and the simulated year (year.sh; BENCH_YEAR=0 skips it),
# each on its own throwaway stack.  Every target line says PASS, NOT MET
# or SKIPPED beside its value and the same-run baseline; all of them are
# printed again at the end, with the whole run's time (target: under 15
# minutes on the 2-core machine; BENCH_QUICK=1 shortens every part for
# development).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export BENCH_SUMMARY
BENCH_SUMMARY=$(mktemp /tmp/mtcert-bench-summary.XXXXXX)
trap 'rm -f "$BENCH_SUMMARY"' EXIT
T0=$(date +%s)
status=0
for part in run dispatcher portal year; do
	echo "== bench: $part"
	tests/bench/$part.sh || { echo "bench: $part.sh failed"; status=1; }
done
MIN=$(awk -v s="$(( $(date +%s) - T0 ))" 'BEGIN { printf "%.1f", s / 60 }')
echo
echo "== bench: every target (${BENCH_QUICK:+BENCH_QUICK=1, }$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) now)"
cat "$BENCH_SUMMARY"
. tests/bench/stack.sh
if [ -n "${BENCH_QUICK:-}" ] || [ -n "${BENCH_ONLY:-}" ]; then
	target "make bench minutes" "-" "<" 15 "$MIN min, a shortened run"
else
	target "make bench minutes" "$MIN" "<" 15 "the whole run"
fi
exit $status
