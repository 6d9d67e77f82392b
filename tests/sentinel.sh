#!/usr/bin/env bash
# tests/sentinel.sh -- the Redis Sentinel failover test (issue 14 item 1,
# docs/scale.md) on a throwaway stack of its own: own directory, own
# ports (MTCERT_SENTINEL_PORT, default 18180: nginx there, Redis and the
# sentinels on + 20 .. + 24; PostgreSQL's socket named by
# MTCERT_SENTINEL_PG_PORT, default 15533), started with
# MTCERT_REDIS_SENTINEL=1 and stopped (by the PIDs stack.sh recorded)
# however the run ends.  tests/api/test_sentinel.py kills the Redis master
# under load; its figures (time to recover, requests failed in flight)
# are printed at the end.  SENTINEL_QUICK=1 (make test): a smaller batch
# of assignments falling due.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

export MTCERT_VAR
MTCERT_VAR=$(mktemp -d /tmp/mtcert-sentinel.XXXXXX)
chmod 711 "$MTCERT_VAR"
export MTCERT_PORT=${MTCERT_SENTINEL_PORT:-18180}
export MTCERT_PG_PORT=${MTCERT_SENTINEL_PG_PORT:-15533}
export MTCERT_URL="http://127.0.0.1:$MTCERT_PORT"
export MTCERT_PG_DEADLINE_MS=3000 MTCERT_ROOT=$ROOT
export MTCERT_BUILD=${MTCERT_BUILD:-$ROOT/build}
export MTCERT_REDIS_SENTINEL=1
[ "${SENTINEL_QUICK:-0}" = 1 ] && export SENTINEL_DUE=${SENTINEL_DUE:-50}

cleanup() {
	shared/stack.sh stop >/dev/null 2>&1
	rm -rf "$MTCERT_VAR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

shared/stack.sh start >/dev/null || { echo "sentinel stack did not start"; exit 1; }
# Bounded: the test's own waits are hang bounds; this is the last one.
timeout 900 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	${SENTINEL_JUNIT:+--junitxml="$SENTINEL_JUNIT"} tests/api/test_sentinel.py
status=$?
cat "$MTCERT_VAR/sentinel.txt" 2>/dev/null
# With MTCERT_BUILD=build-asan: a sanitizer report in any log fails it.
if grep -l "ERROR: AddressSanitizer\|runtime error:" "$MTCERT_VAR"/log/* \
    2>/dev/null; then
	echo "sentinel: sanitizer reports in the logs above"
	status=1
fi
# What the dispatcher did: the masters it followed, the timers it rebuilt.
grep -h "redis master\|rebuilt" "$MTCERT_VAR/log/dispatcher.log" 2>/dev/null
exit $status
