#!/usr/bin/env bash
# tests/run.sh -- the whole suite (make test): unit tests, a bounded fuzz
# run of the input parsers, the OpenAPI file's lint (Redocly CLI, errors
# fail), then the API, fault and contract tests, promtool's checks of the
# metrics and of docs/alerts.yml, the restore drill, the Redis Sentinel
# failover (tests/sentinel.sh), the PostgreSQL failover (tests/replica.sh),
# a host killed of two (tests/hosts.sh), each on a stack of its own (make
# scale-test runs their long versions), and
# the portal's browser tests over HTTP through nginx against a throwaway
# stack (own directory, own ports), first with the normal build and then
# with the AddressSanitizer/UBSan build (browser tests: normal build
# only).  The stack is torn down at the
# end, also when a test fails or the run is interrupted.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=/usr/bin/python3

export MTCERT_VAR
MTCERT_VAR=$(mktemp -d /tmp/mtcert-test.XXXXXX)
chmod 711 "$MTCERT_VAR"
export MTCERT_PORT=${MTCERT_TEST_PORT:-18080}
export MTCERT_PG_PORT=${MTCERT_TEST_PG_PORT:-15433}
export MTCERT_URL="http://127.0.0.1:$MTCERT_PORT"
# A short deadline so the hung-database test is quick (default 15 s).
export MTCERT_PG_DEADLINE_MS=3000
export MTCERT_ROOT=$ROOT
REPORTS=$MTCERT_VAR/reports
mkdir -p "$REPORTS"

cleanup() {
	MTCERT_BUILD=$ROOT/build shared/stack.sh stop >/dev/null 2>&1
	rm -rf "$MTCERT_VAR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

status=0
echo "== unit tests"
tests/unit/run.sh build/tests/test_* | tee "$REPORTS/unit.txt" || status=1

echo "== fuzz (libFuzzer, bounded)"
FUZZ_SECONDS=${FUZZ_SECONDS:-15} tests/fuzz/run.sh || status=1

echo "== contract lint (Redocly CLI, docs/openapi.yaml; fails on errors)"
(cd tests/lint && REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	node_modules/.bin/redocly lint --config redocly.yaml --format=stylish \
	../../docs/openapi.yaml) || status=1

echo "== API tests (normal build)"
export MTCERT_BUILD=$ROOT/build
shared/stack.sh start || { echo "stack did not start"; exit 1; }
$PY -m pytest -q -p no:cacheprovider tests/api \
	--junitxml="$REPORTS/api.xml" || status=1

echo "== metrics (promtool of Debian's prometheus, after the API tests' traffic)"
# Every module's and the dispatcher's output as Prometheus reads it
# (docs/metrics.md), from nginx's local-only server; every module has
# counted requests by now.  Then the alerting rules and their own tests.
METRICS_URL="http://127.0.0.1:${MTCERT_METRICS_PORT:-$((MTCERT_PORT + 7))}"
for m in catalog auth agency apply review benefit hospital dispatcher; do
	out=$(curl -sf "$METRICS_URL/metrics/$m") &&
		promtool check metrics <<<"$out" &&
		{ [ "$m" = dispatcher ] || grep -q '^mtcert_http_requests_total{' <<<"$out"; } ||
		{ echo "metrics: /metrics/$m failed the check"; status=1; }
done
promtool check rules docs/alerts.yml || status=1
promtool test rules tests/metrics/alerts_test.yml || status=1

echo "== restore drill (a base backup and the archived WAL, restored into a new directory)"
tests/restore-drill.sh || status=1

echo "== Redis Sentinel failover (own stack and ports, quick: tests/sentinel.sh)"
SENTINEL_QUICK=1 SENTINEL_JUNIT="$REPORTS/sentinel.xml" tests/sentinel.sh ||
	status=1

echo "== PostgreSQL replica and failover (own stack and ports, quick: tests/replica.sh)"
REPLICA_QUICK=1 REPLICA_JUNIT="$REPORTS/replica.xml" tests/replica.sh ||
	status=1

echo "== several hosts: host B killed under load (own stack and ports, quick: tests/hosts.sh)"
HOSTS_QUICK=1 HOSTS_JUNIT="$REPORTS/hosts.xml" tests/hosts.sh || status=1

echo "== browser tests (Debian Chromium + playwright-core, normal build)"
# The portal in a real browser against the same stack; screenshots of
# each main page go to var/screenshots/ of the checkout (kept).
(cd tests/browser && node --test --test-concurrency=1 \
	--test-reporter=spec --test-reporter-destination=stdout \
	--test-reporter=junit --test-reporter-destination="$REPORTS/browser.xml" .) || status=1

echo "== API tests (SANITIZER=address,undefined build)"
shared/stack.sh modules-stop
export MTCERT_BUILD=$ROOT/build-asan
export ASAN_OPTIONS="log_path=$MTCERT_VAR/log/asan:detect_leaks=0:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$MTCERT_VAR/log/ubsan:print_stacktrace=1"
shared/stack.sh modules-start || { echo "asan modules did not start"; exit 1; }
$PY -m pytest -q -p no:cacheprovider tests/api \
	--junitxml="$REPORTS/asan.xml" || status=1
if ls "$MTCERT_VAR"/log/asan* "$MTCERT_VAR"/log/ubsan* >/dev/null 2>&1; then
	echo "sanitizer reports:"
	cat "$MTCERT_VAR"/log/asan* "$MTCERT_VAR"/log/ubsan* 2>/dev/null | head -100
	status=1
fi

# One closing line for the whole run.
$PY - "$REPORTS" <<'PYEOF'
import re, sys, glob, os
import xml.etree.ElementTree as ET
d = sys.argv[1]
passed = failed = skipped = 0
u = open(os.path.join(d, "unit.txt")).read()
m = re.findall(r"(\d+) passed, (\d+) failed", u)
if m:
    passed += int(m[-1][0]); failed += int(m[-1][1])
else:
    failed += 1
for x in glob.glob(os.path.join(d, "*.xml")):
    root = ET.parse(x).getroot()
    for s in root.iter("testsuite"):
        t, f, e, k = (int(s.get(a, 0)) for a in ("tests", "failures", "errors", "skipped"))
        passed += t - f - e - k; failed += f + e; skipped += k
    if root.find("testsuite") is None:     # node --test: bare testcases
        for c in root.iter("testcase"):
            if c.find("failure") is not None or c.find("error") is not None:
                failed += 1
            elif c.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PYEOF
exit $status
