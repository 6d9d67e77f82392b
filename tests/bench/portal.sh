#!/usr/bin/env bash
# tests/bench/portal.sh -- `make bench`, the portal part: cold loads of
# the portal in Debian's Chromium against a minimal page served by the
# same nginx in the same run (tests/bench/portal.mjs says what is timed).
# Runs on its own throwaway stack; stops everything it started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export MTCERT_VAR MTCERT_ROOT=$ROOT MTCERT_BUILD=$ROOT/build
MTCERT_VAR=$(mktemp -d /tmp/mtcert-pbench.XXXXXX)
chmod 711 "$MTCERT_VAR"
export MTCERT_PORT=${BENCH_PORT:-28280} MTCERT_PG_PORT=${BENCH_PG_PORT:-25633}
export MTCERT_URL="http://127.0.0.1:$MTCERT_PORT"
cleanup() { shared/stack.sh stop >/dev/null 2>&1 || true; rm -rf "$MTCERT_VAR"; }
trap cleanup EXIT
shared/stack.sh start >/dev/null
node tests/bench/portal.mjs
