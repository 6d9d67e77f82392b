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
# workers are warmed first: a rate); 10 cold loads of each portal page,
# not 15.
if [ -z "${BENCH_QUICK:-}" ]; then
	export BENCH_P99_ROUNDS=${BENCH_P99_ROUNDS:-3}
	export BENCH_SWEEP_SECONDS=${BENCH_SWEEP_SECONDS:-3}
	export BENCH_RUNS=${BENCH_RUNS:-10}
fi
# minutes SECONDS: as minutes with one decimal.
minutes() { awk -v s="$1" 'BEGIN { printf "%.1f", s / 60 }'; }
T0=$(date +%s)
status=0
took=()
# The year runs beside the portal's cold loads (issue 13 item 7: 1.8 of
# the 18.7 minutes of the first whole run): neither has a target of
# speed (the year reports its simulated calendar, the portal each page
# against a plain page loaded in the same rounds).  The portal runs at
# nice 19: the year's experts are threads with a one-second accept
# window (one simulated day), and beside a portal at the same priority
# (Chromium takes both cores in bursts) they answered late: 1,481 of
# 2,964 decided and 1,483 waited for an expert, against 2,541 and 423
# alone.  Its output is held and printed after the portal's.
YEAR_OUT=$(mktemp /tmp/mtcert-bench-year.XXXXXX)
trap 'rm -f "$BENCH_SUMMARY" "$YEAR_OUT"' EXIT
for part in run dispatcher portal; do
	echo "== bench: $part"
	t=$(date +%s)
	if [ "$part" = portal ]; then
		ty=$t
		# Its own ports (year.sh's), also when BENCH_PORT sets them.
		BENCH_PORT=${BENCH_PORT:+$((BENCH_PORT + 100))} \
		BENCH_PG_PORT=${BENCH_PG_PORT:+$((BENCH_PG_PORT + 100))} \
			tests/bench/year.sh >"$YEAR_OUT" 2>&1 &
		year_pid=$!
	fi
	nice=()
	[ "$part" = portal ] && nice=(nice -n 19)
	"${nice[@]}" tests/bench/$part.sh || { echo "bench: $part.sh failed"; status=1; }
	took+=("$part $(minutes $(( $(date +%s) - t )))")
	echo "== bench: $part took ${took[-1]#* } min"
done
echo "== bench: year (beside the portal)"
wait "$year_pid" || { echo "bench: year.sh failed"; status=1; }
cat "$YEAR_OUT"
took+=("year $(minutes $(( $(date +%s) - ty ))) (beside the portal)")
echo "== bench: year took ${took[-1]#* }"
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
