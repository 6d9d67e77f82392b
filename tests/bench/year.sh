#!/usr/bin/env bash
# tests/bench/year.sh -- a year of one region in ten minutes (issue 12
# item 9), run by `make bench` after the other benchmarks, on its own
# throwaway stack: tests/bench/year.py plays Sanmenxia's (411200) year of
# applications and experts against the real service with one simulated
# day = BENCH_YEAR_DAY_SECONDS real seconds (1: 365 days + the tail in
# about 7 minutes) and reports the working days to decision, the
# applications that waited for an expert, every draw verified and the
# expected dates that held.  BENCH_YEAR_DAYS / BENCH_YEAR_APPS shorten or
# thin it; BENCH_YEAR=0 skips it.  The JSON report is left in
# ${BENCH_OUT:-/tmp}/year.json.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
[ "${BENCH_YEAR:-1}" = 0 ] && { echo "year: skipped (BENCH_YEAR=0)"; exit 0; }
. tests/bench/stack.sh
export MTCERT_MODULES="catalog:1 auth:2 agency:1 apply:2 review:2 benefit:1 hospital:1"
bench_stack year 28380 25733
# BENCH_QUICK=1 (development): 60 days, 500 applications.
QUICK=${BENCH_QUICK:+1}
DAYS=${BENCH_YEAR_DAYS:-${QUICK:+60}}; DAYS=${DAYS:-365}
APPS=${BENCH_YEAR_APPS:-${QUICK:+500}}; APPS=${APPS:-3000}
OUT=${BENCH_OUT:-/tmp}
# Sanmenxia's population (2020 census: 2.03 million) and the seeds' "a
# few thousand applications a year": 3,000 (BENCH_YEAR_APPS).
timeout $(( $DAYS * ${BENCH_YEAR_DAY_SECONDS:-1} + 600 )) \
/usr/bin/python3 tests/bench/year.py --config "$V/mtcert.conf" \
	--api "http://127.0.0.1:$MTCERT_PORT/api/v1" \
	--ctl build/bin/mtcertctl --psql "$PGC" --region 411200 \
	--days "$DAYS" --apps "$APPS" \
	--day-seconds "${BENCH_YEAR_DAY_SECONDS:-1}" --json "$OUT/year.json"
