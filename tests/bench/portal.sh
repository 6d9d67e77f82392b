#!/usr/bin/env bash
# tests/bench/portal.sh -- `make bench`, the portal part: cold loads of
# the portal in Debian's Chromium against a minimal page served by the
# same nginx in the same run (tests/bench/portal.mjs says what is timed).
# Runs on its own throwaway stack; stops everything it started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export MTCERT_ROOT=$ROOT MTCERT_BUILD=$ROOT/build
. tests/bench/stack.sh
bench_stack pbench 28280 25633
export MTCERT_URL="http://127.0.0.1:$MTCERT_PORT"
# BENCH_QUICK=1 (development): 5 cold loads of each page, not 15 (the 96
# loads of a whole run took 4.9 minutes at load 10-17, issue 14).
[ -n "${BENCH_QUICK:-}" ] && export BENCH_RUNS=${BENCH_RUNS:-5}
node tests/bench/portal.mjs
