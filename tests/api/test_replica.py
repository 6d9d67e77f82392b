"""PostgreSQL streaming replication (issue 14 item 2, docs/scale.md).

The catalog pool reads from the replica and falls back to the primary
when the replica stops; then the primary is stopped as by a crash
(pg_ctl stop -m immediate) while applications are being submitted
through nginx, the replica is promoted (stack.sh pg-promote), and shown:
every submission that answered 2xx is in the promoted database, the
service answers again (a hang bound only), requests in flight got 503 and
never 500, and the dispatcher pushes on the new primary.  The time to
recover and the requests that failed are written to $MTCERT_VAR/replica.txt
(figures for docs/scale.md, never asserted).

Runs only on a stack started with MTCERT_PG_REPLICA=1: tests/replica.sh
starts one of its own (REPLICA_THREADS sets the submitting clients)."""
import os
import subprocess
import threading
import time

import pytest

import conftest
from conftest import (HANG, VAR, api, assert_error, bearer, insured_login,
                      live_assignment, new_person, new_region, stack,
                      stack_config, submitted_application, wait_for)
from test_review import ONCO, never_disqualify, region_with_experts


REPLICATED = "pg_read_conninfo" in stack_config()
pytestmark = pytest.mark.skipif(
    not REPLICATED, reason="stack without a replica (tests/replica.sh)")
PRIMARY = int(conftest.PG_PORT)
REPLICA = PRIMARY + 1
THREADS = int(os.environ.get("REPLICA_THREADS", "3"))


def psql(port, query):
    """One statement as postgres on the node at port; rows as lists of
    strings, or None when the node does not answer."""
    cp = subprocess.run(
        ["psql", "-h", os.path.join(VAR, "run", "pg"), "-p", str(port),
         "-U", "postgres", "-d", "mtcert", "-qAtX", "-F", "\t",
         "-c", query], capture_output=True, text=True, timeout=HANG,
        env=dict(os.environ, PGCONNECT_TIMEOUT="2"))
    if cp.returncode != 0:
        return None
    return [line.split("\t") for line in cp.stdout.splitlines() if line]


def service_backends(port):
    rows = psql(port, "SELECT count(*) FROM pg_stat_activity"
                " WHERE usename = 'mtcert' AND backend_type = 'client backend'")
    return int(rows[0][0]) if rows else 0


def catalog_answers():
    """/institutions of a page no other request asked (nginx keeps a
    catalog answer to the end of its second): its status."""
    return api("GET", "/institutions",
               params={"limit": 1 + int(time.time() * 1000) % 90}).status_code


class Recorder:
    """Every HTTP answer the helpers of conftest get, as (start, end,
    method, path, status); submits that answered 2xx by application id."""

    def __init__(self):
        self.log, self.accepted, self.lock = [], {}, threading.Lock()
        self.real = conftest.api

    def __call__(self, method, path, **kw):
        start = time.monotonic()
        try:
            r = self.real(method, path, **kw)
        except Exception:
            self.add(start, method, path, 0)
            raise
        self.add(start, method, path, r.status_code)
        if path.endswith("/submit") and 200 <= r.status_code < 300:
            with self.lock:
                self.accepted[int(path.split("/")[2])] = time.monotonic()
        return r

    def add(self, start, method, path, code):
        with self.lock:
            self.log.append((start, time.monotonic(), method, path, code))


def submit_loop(reg, halt, done):
    """Submit applications of reg until halt; each one that got through
    every step goes to done.  A step refused by the outage (an assertion
    of the helpers, or the test's own SQL with the primary gone) is a
    draft left behind: nothing was accepted."""
    while not halt.is_set():
        try:
            done.append(submitted_application(reg, disease="D001"))
        except Exception:   # noqa: BLE001 -- the recorder has the status
            time.sleep(0.05)


def read_loop(halt, done):
    """Read the first submitter's own application over and over (the
    apply pool reads it from the primary): HTTP only, so the outage shows
    in its answers rather than in the helpers' own SQL."""
    while not halt.is_set():
        if done:
            tok, app = done[0]
            conftest.api("GET", "/applications/%s" % app["id"],
                         headers=bearer(tok))
        time.sleep(0.01)


def test_catalog_reads_the_replica_and_falls_back_to_the_primary():
    assert psql(REPLICA, "SELECT pg_is_in_recovery()") == [["t"]]
    assert catalog_answers() == 200
    assert service_backends(REPLICA) >= 1
    # Replicated: the replica replays what the primary wrote.
    lsn = psql(PRIMARY, "SELECT pg_current_wal_lsn()")[0][0]
    assert wait_for(lambda: psql(
        REPLICA, "SELECT pg_last_wal_replay_lsn() >= '%s'" % lsn)
        == [["t"]], HANG)
    # The replica stops: reads go on from the primary (a 503 at most for
    # a worker whose connection broke), never a 500; then it comes back.
    stack("pg-replica-stop")
    try:
        codes = []

        def back():
            codes.append(catalog_answers())
            return codes[-1] == 200 and service_backends(REPLICA) == 0
        assert wait_for(back, HANG)
        assert set(codes) <= {200, 503}, codes
        assert all(catalog_answers() == 200 for _ in range(8))
    finally:
        stack("pg-replica-start")
    assert psql(REPLICA, "SELECT pg_is_in_recovery()") == [["t"]]


def test_losing_the_replica_holds_writes_until_the_runbook_step():
    """An unplanned loss of the synchronous replica: writes wait for it
    and answer 503 at the deadline (never 500), reads go on; the
    runbook's step (docs/scale.md) lets writes go on without it."""
    reg = new_region()
    tok = insured_login(new_person(region=reg["region"]))["token"]
    body = {"disease_code": "D001", "phone": "13900000000",
            "medical_record_no": "MR-1", "designated_institution":
            reg["hospitals"][0]}
    subprocess.run(["runuser", "-u", "postgres", "--",
                    "/usr/lib/postgresql/15/bin/pg_ctl", "-D",
                    os.path.join(VAR, "pg-replica"), "-m", "immediate",
                    "-w", "stop"], check=True, capture_output=True,
                   timeout=60)
    try:
        r = api("POST", "/applications", headers=bearer(tok), json=body)
        assert_error(r, 503, "service_unavailable")
        assert wait_for(lambda: catalog_answers() == 200, HANG)
        psql(PRIMARY, "ALTER SYSTEM SET synchronous_standby_names = ''")
        psql(PRIMARY, "SELECT pg_reload_conf()")
        body["disease_code"] = "D013"
        assert wait_for(lambda: api("POST", "/applications",
                                    headers=bearer(tok),
                                    json=body).status_code == 201, HANG)
        # The 503'd draft: committed on the primary before its wait for
        # the replica was cancelled, or not (a figure, not asserted).
        kept = psql(PRIMARY, "SELECT count(*) FROM applications a JOIN"
                    " persons p ON p.id = a.person_id WHERE a.disease ="
                    " 'D001' AND p.region = '%s'" % reg["region"])[0][0]
        with open(os.path.join(VAR, "replica.txt"), "a") as f:
            f.write("replica lost: a write answered 503 after %.2f s;"
                    " its draft kept on the primary: %s\n"
                    % (r.elapsed.total_seconds(), kept))
    finally:
        stack("pg-replica-start")
    assert psql(PRIMARY, "SHOW synchronous_standby_names") == [
        ["mtcert_replica"]]
    assert psql(REPLICA, "SELECT pg_is_in_recovery()") == [["t"]]


def test_stopping_the_primary_mid_submissions_loses_nothing():
    admin, reg, _ = region_with_experts(ONCO, n=6)
    never_disqualify(reg)
    rec = Recorder()
    conftest.api = rec
    halt, done = threading.Event(), []
    threads = [threading.Thread(target=submit_loop, args=(reg, halt, done))
               for _ in range(THREADS)]
    threads.append(threading.Thread(target=read_loop, args=(halt, done)))
    try:
        for t in threads:
            t.start()
        assert wait_for(lambda: len(rec.accepted) >= THREADS, HANG)
        stopped = time.monotonic()
        subprocess.run(["runuser", "-u", "postgres", "--",
                        "/usr/lib/postgresql/15/bin/pg_ctl", "-D",
                        os.path.join(VAR, "pg"), "-m", "immediate", "-w",
                        "stop"], check=True, capture_output=True, timeout=60)
        # The operator's step (docs/scale.md): promote the replica.
        stack("pg-promote")
        promoted = time.monotonic()
        conftest.PG_PORT = str(REPLICA)   # the tests' own SQL follows

        def submitted_after_stop():
            return any(t > promoted for t in list(rec.accepted.values()))
        assert wait_for(submitted_after_stop, HANG)
        time.sleep(2)
    finally:
        halt.set()
        for t in threads:
            t.join(HANG)
        conftest.api = rec.real
    recovered = min(t for t in rec.accepted.values() if t > stopped)

    # Every submission that answered 2xx is submitted in the promoted
    # database (the primary waited for the replica at each commit).
    assert psql(REPLICA, "SELECT pg_is_in_recovery()") == [["f"]]
    ids = sorted(rec.accepted)
    rows = psql(REPLICA, "SELECT id FROM applications WHERE id IN (%s)"
                " AND submitted_at IS NOT NULL" % ",".join(map(str, ids)))
    assert sorted(int(r[0]) for r in rows) == ids
    # What failed in the outage was a 503, never a 500 or a hang (the
    # recorder's 0: no answer at all).
    failed = [c for s, e, m, p, c in rec.log if c >= 500 or c == 0]
    assert set(failed) <= {503}, failed
    # The old primary is never started again beside the new one.
    cp = subprocess.run([os.path.join(conftest.ROOT, "shared", "stack.sh"),
                         "start"], capture_output=True, text=True,
                        timeout=120)
    assert cp.returncode != 0 and "promoted" in cp.stderr, cp.stderr
    assert psql(PRIMARY, "SELECT 1") is None
    # The service answers, and the dispatcher pushes on the new primary.
    assert wait_for(lambda: api("GET", "/health").status_code == 200, HANG)
    assert catalog_answers() == 200
    for app_id in ids[-THREADS:]:
        assert live_assignment(app_id)

    in_flight = sum(1 for s, e, m, p, c in rec.log
                    if s < stopped <= e and not 200 <= c < 300)
    window = [c for s, e, m, p, c in rec.log if e >= stopped
              and s <= recovered]
    with open(os.path.join(VAR, "replica.txt"), "a") as f:
        f.write("postgres failover (port %d -> %d): promoted %.2f s after"
                " the stop; submits back %.2f s after it; %d of %d requests"
                " in the window failed (all 503), %d of them in flight at the"
                " stop; %d submissions accepted, all %d in the promoted"
                " database\n" % (PRIMARY, REPLICA, promoted - stopped,
                                 recovered - stopped,
                                 sum(1 for c in window if not 200 <= c < 300),
                                 len(window), in_flight, len(ids), len(rows)))
