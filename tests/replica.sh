#!/usr/bin/env bash
# tests/replica.sh -- the PostgreSQL replication and failover test (issue
# 14 item 2, docs/scale.md) on a throwaway stack of its own: own
# directory, own ports (MTCERT_REPLICA_PORT, default 18380: nginx there;
# PostgreSQL's sockets named by MTCERT_REPLICA_PG_PORT, default 15543, and
# + 1 for the replica), started with MTCERT_PG_REPLICA=1 and stopped (by
# the PIDs stack.sh and pg_ctl recorded) however the run ends.
# tests/api/test_replica.py stops the primary mid-submissions and promotes
# the replica; its figures (time to recover, requests failed) are printed
# at the end.  REPLICA_QUICK=1 (make test): fewer submitting clients.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

export MTCERT_VAR
MTCERT_VAR=$(mktemp -d /tmp/mtcert-replica.XXXXXX)
chmod 711 "$MTCERT_VAR"
export MTCERT_PORT=${MTCERT_REPLICA_PORT:-18380}
export MTCERT_PG_PORT=${MTCERT_REPLICA_PG_PORT:-15543}
export MTCERT_URL="http://127.0.0.1:$MTCERT_PORT"
export MTCERT_PG_DEADLINE_MS=3000 MTCERT_ROOT=$ROOT
export MTCERT_BUILD=${MTCERT_BUILD:-$ROOT/build}
export MTCERT_PG_REPLICA=1
[ "${REPLICA_QUICK:-0}" = 1 ] && export REPLICA_THREADS=${REPLICA_THREADS:-2}

cleanup() {
	shared/stack.sh stop >/dev/null 2>&1
	rm -rf "$MTCERT_VAR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

shared/stack.sh start >/dev/null || { echo "replica stack did not start"; exit 1; }
# Bounded: the test's own waits are hang bounds; this is the last one.
timeout 600 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	${REPLICA_JUNIT:+--junitxml="$REPLICA_JUNIT"} tests/api/test_replica.py
status=$?
cat "$MTCERT_VAR/replica.txt" 2>/dev/null
if grep -l "ERROR: AddressSanitizer\|runtime error:" "$MTCERT_VAR"/log/* \
    2>/dev/null; then
	echo "replica: sanitizer reports in the logs above"
	status=1
fi
# What the dispatcher saw: the outage and its end.
grep -h "postgres down\|postgres back" "$MTCERT_VAR/log/dispatcher.log" 2>/dev/null
exit $status
