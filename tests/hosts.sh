#!/usr/bin/env bash
# tests/hosts.sh -- the several-hosts test (issue 14 item 3, docs/scale.md)
# on a throwaway stack of its own: own directory, own ports
# (MTCERT_HOSTS_PORT, default 18280: nginx there, its metrics on + 7;
# PostgreSQL's socket named by MTCERT_HOSTS_PG_PORT, default 15633),
# started with MTCERT_HOSTS=2 (every module pool twice, small pools: two
# cores; a dispatcher each) and stopped (by the PIDs stack.sh recorded)
# however the run ends.  tests/api/test_hosts.py kills host B under load;
# its figures are printed at the end.  HOSTS_QUICK=1 (make test): a
# smaller burst of assignments falling due.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

export MTCERT_VAR
MTCERT_VAR=$(mktemp -d /tmp/mtcert-hosts.XXXXXX)
chmod 711 "$MTCERT_VAR"
export MTCERT_PORT=${MTCERT_HOSTS_PORT:-18280}
export MTCERT_PG_PORT=${MTCERT_HOSTS_PG_PORT:-15633}
export MTCERT_URL="http://127.0.0.1:$MTCERT_PORT"
export MTCERT_PG_DEADLINE_MS=3000 MTCERT_ROOT=$ROOT
export MTCERT_BUILD=${MTCERT_BUILD:-$ROOT/build}
export MTCERT_HOSTS=2
export MTCERT_MODULES=${MTCERT_MODULES:-"catalog:2 auth:2 agency:1 apply:2 review:1 benefit:1 hospital:1"}
[ "${HOSTS_QUICK:-0}" = 1 ] && export HOSTS_DUE=${HOSTS_DUE:-200}

cleanup() {
	shared/stack.sh stop >/dev/null 2>&1
	rm -rf "$MTCERT_VAR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

shared/stack.sh start >/dev/null || { echo "hosts stack did not start"; exit 1; }
# Bounded: the test's own waits are hang bounds; this is the last one.
timeout 900 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	${HOSTS_JUNIT:+--junitxml="$HOSTS_JUNIT"} tests/api/test_hosts.py
status=$?
cat "$MTCERT_VAR/hosts.txt" 2>/dev/null
if grep -l "ERROR: AddressSanitizer\|runtime error:" "$MTCERT_VAR"/log/* \
    2>/dev/null; then
	echo "hosts: sanitizer reports in the logs above"
	status=1
fi
exit $status
