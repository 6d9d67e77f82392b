"""Metrics (issue 13 item 6, docs/metrics.md): every module pool and the
dispatcher in Prometheus' text format, and nginx's stub_status, on a
local-only server of their own; the public server has none of it.  The
counters move by exactly the requests made, by the route table's pattern
(never the path with its ids), add up across a pool's workers and survive
their restart.  promtool's own check of every output is tests/run.sh's
(after the whole suite's traffic); here only where it is installed."""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import (HANG, URL, api, bearer, client, held, login,
                      new_region, sql, stack, wait_for, workers)
from test_review import ONCO, region_with_experts, submitted_application

METRICS = "http://127.0.0.1:%s" % (
    os.environ.get("MTCERT_METRICS_PORT") or int(URL.rsplit(":", 1)[1]) + 7)
MODULES = ("catalog", "auth", "agency", "apply", "review", "benefit",
           "hospital")
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"')


def get(path, source="127.0.0.1"):
    with client(source) as s:
        return s.get(METRICS + path, timeout=HANG)


def scrape(name):
    """{(metric, frozenset(labels)): value} of /metrics/<name>."""
    r = get("/metrics/" + name)
    assert r.status_code == 200, (name, r.status_code, r.text)
    assert r.headers["Content-Type"].startswith(
        "text/plain; version=0.0.4"), r.headers
    out = {}
    for line in r.text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        key = (m.group(1), frozenset(LABEL.findall(m.group(2) or "")))
        assert key not in out, ("duplicate series", line)
        out[key] = float(m.group(3))
    return out


def scrape_or_none(name):
    """scrape(name), or None while the pool cannot answer (its workers
    being restarted): for wait_for's predicates."""
    if get("/metrics/" + name).status_code != 200:
        return None
    return scrape(name)


def value(samples, metric, **labels):
    """The sample's value; 0 when the series is absent (a counter that
    has counted nothing yet is not written)."""
    return samples.get((metric, frozenset(labels.items())), 0.0)


def requests_of(samples, module, route, method, status):
    return value(samples, "mtcert_http_requests_total", module=module,
                 route=route, method=method, status=str(status))


def test_requests_counted_exactly_by_route_pattern_and_status():
    admin = login("admin")["token"]
    cat0, auth0, ag0 = scrape("catalog"), scrape("auth"), scrape("agency")
    for _ in range(3):
        assert api("GET", "/health").status_code == 200
        assert api("GET", "/me", headers=bearer(admin)).status_code == 200
    # A route's own 404: counted under its pattern, never the path's id.
    assert api("GET", "/agency/applications/987654321",
               headers=bearer(admin)).status_code == 404
    # No route: counted as "unmatched", by a fixed set of methods (a
    # method of the client's own invention is "other", not a series).
    assert api("GET", "/agency/no-such-thing").status_code == 404
    assert api("BREW", "/agency/no-such-thing").status_code == 404
    cat, auth, ag = scrape("catalog"), scrape("auth"), scrape("agency")
    assert (requests_of(cat, "catalog", "/health", "GET", 200) -
            requests_of(cat0, "catalog", "/health", "GET", 200)) == 3
    assert (requests_of(auth, "auth", "/me", "GET", 200) -
            requests_of(auth0, "auth", "/me", "GET", 200)) == 3
    assert (requests_of(ag, "agency", "/agency/applications/{id}", "GET",
                        404) -
            requests_of(ag0, "agency", "/agency/applications/{id}", "GET",
                        404)) == 1
    for method in ("GET", "other"):
        assert (requests_of(ag, "agency", "unmatched", method, 404) -
                requests_of(ag0, "agency", "unmatched", method, 404)) == 1
    assert not any("987654321" in v for _, labels in ag for _, v in labels)
    assert not any(v == "BREW" for _, labels in ag for _, v in labels)
    # The latency histogram of /me moved by the same 3, cumulative.
    h = "mtcert_http_request_duration_seconds"
    me = dict(module="auth", route="/me", method="GET")
    assert value(auth, h + "_count", **me) - value(auth0, h + "_count",
                                                   **me) == 3
    buckets = sorted((float(dict(labels)["le"]), v) for (name, labels), v
                     in auth.items() if name == h + "_bucket"
                     and dict(labels).get("route") == "/me")
    assert buckets[-1] == (float("inf"), value(auth, h + "_count", **me))
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
    assert value(auth, h + "_sum", **me) > value(auth0, h + "_sum", **me)


def test_every_module_and_the_dispatcher_answer_on_the_local_server():
    for name in MODULES:
        s = scrape(name)
        assert value(s, "mtcert_worker_restarts_total", module=name) >= 0
        assert ("mtcert_db_errors_total",
                frozenset({("module", name), ("kind", "lost")})) in s
    assert wait_for(lambda: get("/metrics/dispatcher").status_code == 200)
    # The gauges come from the dispatcher's first gauge query, which may
    # follow its first file by a few seconds on a loaded machine.
    assert wait_for(lambda: ("mtcert_dispatcher_timers_due", frozenset())
                    in scrape("dispatcher"))
    d = scrape("dispatcher")
    for g in ("timers_due", "lag_seconds", "outbox_unsent",
              "outbox_oldest_seconds", "waiting_applications",
              "unassigned_applications", "heartbeat_timestamp_seconds"):
        assert value(d, "mtcert_dispatcher_" + g) >= 0, g
        assert ("mtcert_dispatcher_" + g, frozenset()) in d, g
    r = get("/stub_status")
    assert r.status_code == 200 and "Active connections:" in r.text


def test_public_server_answers_404_and_other_addresses_403():
    for path in ("/metrics/catalog", "/metrics/dispatcher", "/stub_status",
                 "/metrics"):
        r = client().get(URL + path, timeout=HANG)
        assert r.status_code == 404, (path, r.status_code)
    # A header cannot pass for nginx's FastCGI parameter.
    r = api("GET", "/diseases/D001", headers={"MTCERT-METRICS": "1"})
    assert r.status_code == 200 and r.json()["code"] == "D001"
    # Loopback only, and 127.0.0.1 only even there.
    for path in ("/metrics/catalog", "/metrics/dispatcher", "/stub_status"):
        assert get(path, source="127.0.0.2").status_code == 403, path


def test_counts_add_up_across_workers_and_survive_their_restart():
    admin = login("admin")["token"]
    before = scrape("auth")
    # More requests than workers: more than one worker counts.
    for _ in range(6):
        assert api("GET", "/me", headers=bearer(admin)).status_code == 200
    old = workers("auth")
    assert len(old) == 2
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    restarts = value(before, "mtcert_worker_restarts_total", module="auth")
    assert wait_for(lambda: value(scrape_or_none("auth") or {},
                                  "mtcert_worker_restarts_total",
                                  module="auth") == restarts + 2)
    assert wait_for(lambda: len(workers("auth")) == 2 and
                    not set(workers("auth")) & set(old))
    after = scrape("auth")
    assert (requests_of(after, "auth", "/me", "GET", 200) -
            requests_of(before, "auth", "/me", "GET", 200)) == 6


def test_redis_and_database_errors_are_counted():
    admin = login("admin")["token"]
    before = scrape("auth")
    stack("redis-stop")
    try:
        assert api("GET", "/me", headers=bearer(admin)).status_code == 503
    finally:
        stack("redis-start")
    after = scrape("auth")
    assert (value(after, "mtcert_redis_errors_total", module="auth",
                  kind="connect") >
            value(before, "mtcert_redis_errors_total", module="auth",
                  kind="connect"))
    assert (requests_of(after, "auth", "/me", "GET", 503) -
            requests_of(before, "auth", "/me", "GET", 503)) == 1
    assert wait_for(lambda: api("GET", "/health").status_code == 200)

    def db_errors():
        s = scrape("catalog")
        return sum(value(s, "mtcert_db_errors_total", module="catalog",
                         kind=k) for k in ("connect", "lost", "query"))
    n = db_errors()
    stack("pg-stop")
    try:
        assert api("GET", "/institutions").status_code == 503
    finally:
        stack("pg-start")
    assert db_errors() > n
    assert wait_for(lambda: api("GET", "/health").status_code == 200)


def dispatcher_value(name):
    return value(scrape("dispatcher"), "mtcert_dispatcher_" + name)


def test_dispatcher_counts_pushes_expiries_and_waiting_applications():
    before = {k: dispatcher_value(k) for k in (
        "pushes_total", "expiries_total", "repushes_total",
        "sms_sent_total")}
    # Two experts, a 2 s window: pushed, expired, pushed to the other.
    _, reg, _ = region_with_experts(ONCO, window=2)
    sql("UPDATE policies SET value = '1000000' WHERE region = '%s'"
        " AND key = 'miss_limit'", reg["region"])
    submitted_application(reg, disease="D001")
    for k in before:
        assert wait_for(lambda: dispatcher_value(k) > before[k]), k
    # Nobody eligible in a region without experts: waiting, unassigned.
    empty = new_region()
    try:
        submitted_application(empty, disease="D001")
        assert wait_for(lambda: dispatcher_value(
            "unassigned_applications") >= 1)
        assert (dispatcher_value("waiting_applications") >=
                dispatcher_value("unassigned_applications") >= 1)
    finally:
        for r in (reg, empty):
            sql("UPDATE applications SET status = 'withdrawn',"
                " push_stage = NULL, unassigned_since = NULL"
                " WHERE region = '%s'", r["region"])


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="promtool (Debian's prometheus) not installed")
def test_one_slow_gauge_read_does_not_stall_the_gauges():
    """The gauges' query runs at most 1/50 of the time, by the wall time
    it took: one read held up 2 s (sms_outbox locked, as a loaded
    machine can hold it up) once put the next read 100 s away, past any
    bound.  Now the next is at most 10 s away: a new unassigned
    application shows in the gauge within the hang bound."""
    def waiting(like):
        return int(sql("SELECT count(*) FROM pg_stat_activity WHERE"
                       " wait_event_type = 'Lock' AND query LIKE '%s'",
                       like)[0][0])

    # The lock holds up whichever of the dispatcher's steps reads
    # sms_outbox first: the gauges' read when it lands between two
    # turns and they are due, else a push or the SMS step.  So it is
    # taken again until it is the gauges' read that waits (a turn runs
    # every second or so: a few tries on any machine).
    for _ in range(30):
        with held("LOCK TABLE sms_outbox IN ACCESS EXCLUSIVE MODE"):
            assert wait_for(lambda: waiting("%") >= 1)
            if waiting("%AS unsent%") == 1:
                time.sleep(2)           # the read held up: 2 s or more
                break
        time.sleep(1.5)                 # the gauges due again
    else:
        pytest.fail("the gauges' read never was the one held up")
    before = dispatcher_value("unassigned_applications")
    empty = new_region()
    try:
        submitted_application(empty, disease="D001")
        assert wait_for(lambda: dispatcher_value(
            "unassigned_applications") >= before + 1)
    finally:
        sql("UPDATE applications SET status = 'withdrawn', push_stage ="
            " NULL, unassigned_since = NULL WHERE region = '%s'",
            empty["region"])


def test_promtool_accepts_every_output():
    for name in MODULES + ("dispatcher",):
        cp = subprocess.run(["promtool", "check", "metrics"],
                            input=get("/metrics/" + name).text,
                            capture_output=True, text=True, timeout=HANG)
        assert cp.returncode == 0, (name, cp.stdout, cp.stderr)


def test_dispatcher_counts_survive_its_child_and_a_clean_stop_removes_them():
    from test_restart import master_pid
    before = scrape("dispatcher")
    [child] = workers("dispatcher")
    os.kill(child, signal.SIGKILL)
    restarts = value(before, "mtcert_worker_restarts_total",
                     module="dispatcher")
    assert wait_for(lambda: value(scrape("dispatcher"),
                                  "mtcert_worker_restarts_total",
                                  module="dispatcher") == restarts + 1)
    # The new child goes on from the old one's counts.
    assert wait_for(lambda: workers("dispatcher") not in ([], [child]))
    after = scrape("dispatcher")
    for name, _ in before:
        if name.startswith("mtcert_dispatcher_") and name.endswith("_total"):
            assert value(after, name) >= value(before, name), name
    # Stopped cleanly, it leaves no file to pass for a live one (404:
    # the target is down); started again, it is back.
    master = master_pid("dispatcher")
    os.kill(master, signal.SIGTERM)
    assert wait_for(lambda: not os.path.exists("/proc/%d" % master))
    assert get("/metrics/dispatcher").status_code == 404
    stack("dispatcher-start")
    assert wait_for(lambda: get("/metrics/dispatcher").status_code == 200)
