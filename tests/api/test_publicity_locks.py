"""Lock order of the public notice (R-CER-10): every path that touches an
application and its notice locks the application first, then the notice
-- the withdrawal (withdraw_application, then the trigger
withdraw_publicity), the objection (object_publicity), the publicity job
(run_publicity) and the agency's confirmation.  Before, the objection and
the job locked the notice first: against a withdrawal of the same case,
a deadlock (one of them a 500).

The races run many times and assert what must hold whoever wins (no 500,
one consistent end state); the lock-order tests hold the application's
row from a session of their own, as a withdrawal does, and wait for
states, never for time."""
import concurrent.futures
import os
import subprocess
import threading

from conftest import (PG_PORT, VAR, api, bearer, ctl, sql, unique, wait_for)
from test_panel import decide, experts, opinions, panel_region, submitted

ROUNDS = 12
PG_LOG = os.path.join(VAR, "log", "postgresql.log")


def log_size():
    try:
        return os.path.getsize(PG_LOG)
    except OSError:
        return None


def deadlocks_since(offset):
    """The postgresql log's "deadlock detected" lines after offset ([]
    when the log cannot be read); not the word alone, which the logged
    text of a migration's SQL comments holds too."""
    if offset is None:
        return []
    with open(PG_LOG, "rb") as f:
        f.seek(offset)
        return [line for line in f.read().decode("utf-8", "replace")
                .splitlines() if "deadlock detected" in line]


def on_notice(reg, exs, n):
    """n applications of reg approved by the panel, each on open notice:
    [(insured token, application, notice)]."""
    cases = []
    for _ in range(n):
        _, tok, app = submitted(reg)
        r = decide(reg, app, opinions(exs, *["approve"] * 3))
        assert r.status_code == 201, r.text
        cases.append((tok, app, r.json()["publicity"]))
    return cases


def race(*calls):
    """Run calls at once (a barrier before each); their results."""
    gate = threading.Barrier(len(calls))

    def run(call):
        gate.wait()
        return call()
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(run, c) for c in calls]]


def withdraw(tok, app):
    return lambda: api("POST", "/applications/%s/withdraw" % app["id"],
                       headers=bearer(tok))


def object_to(pub):
    return lambda: api("POST", "/hospital/publicity/%s/objection" % pub["id"],
                       json={"reason": "此人并未患病"})


def state(app, pub):
    return (sql("SELECT status, coalesce(confirmation, '-') FROM applications"
                " WHERE id = %s", app["id"])[0],
            sql("SELECT state FROM publicity WHERE id = %s", pub["id"])[0][0],
            sql("SELECT count(*) FROM publicity_objections"
                " WHERE publicity_id = %s", pub["id"])[0][0],
            sql("SELECT count(*) FROM qualifications WHERE application_id"
                " = %s", app["id"])[0][0])


def test_withdrawal_races_objection():
    """The person withdraws while someone objects, many times: no 500;
    either the withdrawal came first (notice withdrawn, the objection 409
    publicity_closed, none kept) or the objection (notice objected, one
    objection kept, then withdrawn with nothing left to confirm)."""
    start = log_size()
    reg = panel_region()
    exs = experts(reg, 3)
    for tok, app, pub in on_notice(reg, exs, ROUNDS):
        w, o = race(withdraw(tok, app), object_to(pub))
        assert w.status_code == 200, w.text
        assert o.status_code in (201, 409), o.text
        if o.status_code == 201:
            assert state(app, pub) == (["withdrawn", "-"], "objected", "1",
                                       "0")
        else:
            assert o.json()["error"]["code"] == "publicity_closed"
            assert state(app, pub) == (["withdrawn", "-"], "withdrawn", "0",
                                       "0")
    assert deadlocks_since(start) == []


def test_withdrawal_races_the_publicity_job():
    """The person withdraws while the job ends the notice (its last day
    past), many times: no 500; either the withdrawal came first (notice
    withdrawn, no qualification) or the job (notice ended, approved, the
    withdrawal 409 application_not_withdrawable)."""
    start = log_size()
    reg = panel_region()
    exs = experts(reg, 3)
    for tok, app, pub in on_notice(reg, exs, ROUNDS):
        sql("UPDATE publicity SET starts_on = cn_today() - 9,"
            " ends_on = cn_today() - 1 WHERE id = %s", pub["id"])
        w, job = race(withdraw(tok, app),
                      lambda: ctl("publicity", "run", check=False))
        assert job.returncode == 0, (job.stdout, job.stderr)
        assert w.status_code in (200, 409), w.text
        if w.status_code == 200:
            assert state(app, pub) == (["withdrawn", "-"], "withdrawn", "0",
                                       "0")
        else:
            assert w.json()["error"]["code"] == "application_not_withdrawable"
            assert state(app, pub) == (["approved", "pending"], "ended", "0",
                                       "1")
    assert deadlocks_since(start) == []


class Session:
    """A psql session of its own fed line by line (a transaction held
    open across steps), named so pg_stat_activity finds it."""

    def __init__(self):
        self.name = unique("locks")
        env = dict(os.environ, PGAPPNAME=self.name)
        self.p = subprocess.Popen(
            ["psql", "-h", os.path.join(VAR, "run", "pg"), "-p", PG_PORT,
             "-U", "mtcert", "-d", "mtcert", "-qAtX",
             "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env)

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def idle_in_transaction(self):
        return sql("SELECT count(*) FROM pg_stat_activity WHERE"
                   " application_name = '%s' AND state = 'idle in"
                   " transaction'", self.name) == [["1"]]

    def finish(self):
        out, err = self.p.communicate(timeout=60)
        return self.p.returncode, err


def waiting_on_a_lock(fragment):
    """A backend running a statement containing fragment waits for a
    lock."""
    return sql("SELECT count(*) FROM pg_stat_activity WHERE"
               " wait_event_type = 'Lock' AND query LIKE '%%%s%%'",
               fragment) != [["0"]]


def test_objection_waits_for_the_application_holding_no_notice():
    """As a withdrawal does: a transaction locks the application, then
    its notice.  An objection arriving in between waits for the
    application without holding the notice, so the transaction goes on
    (before: a deadlock), then the objection is taken."""
    reg = panel_region()
    exs = experts(reg, 3)
    [(tok, app, pub)] = on_notice(reg, exs, 1)
    s = Session()
    s.send("BEGIN;")
    s.send("UPDATE applications SET updated_at = now() WHERE id = %s;"
           % app["id"])
    assert wait_for(s.idle_in_transaction)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        o = pool.submit(object_to(pub))
        assert wait_for(lambda: waiting_on_a_lock("object_publicity"))
        s.send("UPDATE publicity SET closed_at = closed_at WHERE id = %s;"
               % pub["id"])
        s.send("COMMIT;")
        rc, err = s.finish()
        assert rc == 0, err
        r = o.result()
    assert r.status_code == 201, r.text
    assert state(app, pub) == (["in_review", "pending"], "objected", "1",
                               "0")


def test_publicity_job_skips_a_case_whose_application_is_busy():
    """The job meets a notice whose application a withdrawal holds: it
    leaves that case for its next run instead of locking the notice and
    waiting (before: a deadlock when the withdrawal reached the notice);
    the next run ends it."""
    reg = panel_region()
    exs = experts(reg, 3)
    [(tok, app, pub)] = on_notice(reg, exs, 1)
    sql("UPDATE publicity SET starts_on = cn_today() - 9,"
        " ends_on = cn_today() - 1 WHERE id = %s", pub["id"])
    s = Session()
    s.send("BEGIN;")
    s.send("UPDATE applications SET updated_at = now() WHERE id = %s;"
           % app["id"])
    assert wait_for(s.idle_in_transaction)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        job = pool.submit(ctl, "publicity", "run", check=False)
        assert wait_for(lambda: job.done()
                        or waiting_on_a_lock("run_publicity"))
        s.send("UPDATE publicity SET closed_at = closed_at WHERE id = %s;"
               % pub["id"])
        s.send("COMMIT;")
        rc, err = s.finish()
        assert rc == 0, err
        cp = job.result()
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    ctl("publicity", "run")
    assert state(app, pub) == (["approved", "pending"], "ended", "0", "1")
