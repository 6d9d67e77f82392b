"""The year simulation of `make bench` (issue 12 item 9,
tests/bench/year.py) computes its figures right: a short run (a simulated
week and a half, one day a second) against this stack in a region of its
own, then every figure recomputed here independently from the database
and the calendar table -- working days counted in Python from the
calendar's exceptions and the weekday rule, not with the SQL helper the
driver uses.  Asserts what holds whatever the machine's speed: nothing
submitted is lost, every decided application's working days, the median
and p90, the waits, every draw verified (R-SUP-7)."""
import datetime
import json
import math
import os
import statistics
import subprocess
import sys

from conftest import API, CTL, PG_PORT, ROOT, VAR, new_region, sql

YEAR_START = datetime.date(2026, 1, 1)


def working(day, exceptions):
    kind = exceptions.get(day)
    if kind is not None:
        return kind == "workday"
    return day.weekday() < 5


def test_a_short_simulated_year_reports_what_the_records_say(tmp_path):
    reg = new_region()
    out = tmp_path / "year.json"
    cp = subprocess.run(
        [sys.executable if sys.executable.startswith("/usr/bin/") else
         "/usr/bin/python3", os.path.join(ROOT, "tests", "bench", "year.py"),
         "--config", os.path.join(VAR, "mtcert.conf"), "--api", API,
         "--ctl", CTL, "--psql", "host=%s port=%s dbname=mtcert user=mtcert"
         % (os.path.join(VAR, "run", "pg"), PG_PORT),
         "--region", reg["region"], "--days", "8", "--tail-days", "12",
         "--apps", "500", "--experts", "10", "--json", str(out)],
        capture_output=True, text=True, timeout=600)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    r = json.loads(out.read_text())
    assert r["applications"] > 0
    # Nothing planned is lost: every application was submitted (none left
    # a draft) and the statuses add up.
    assert r["submitted"] == r["applications"], r
    ids = [a["id"] for a in r["per_application"]]
    assert sum(r["status"].values()) == r["submitted"]
    assert r["status"].get("draft", 0) == 0
    decided_db = int(sql(
        "SELECT count(*) FROM applications a JOIN institutions i"
        " ON i.code = a.designated_institution WHERE i.region = '%s'"
        " AND a.decided_at IS NOT NULL", reg["region"])[0][0])
    assert r["decided"] == decided_db == len(ids)
    # Working days, recounted here: the days d with submitted < d <=
    # decided that are working days by the calendar table.
    exc = {datetime.date.fromisoformat(d): k for d, k in sql(
        "SELECT day, kind FROM calendar")}
    t0 = r["t0"]
    counted = []
    for a in r["per_application"]:
        sub, dec = [float(x) for x in sql(
            "SELECT extract(epoch FROM submitted_at),"
            " extract(epoch FROM decided_at) FROM applications"
            " WHERE id = %s", a["id"])[0]]
        sd = YEAR_START + datetime.timedelta(int((sub - t0) / 1.0))
        dd = YEAR_START + datetime.timedelta(int((dec - t0) / 1.0))
        assert (str(sd), str(dd)) == (a["submitted"], a["decided"]), a
        n = sum(1 for k in range(1, (dd - sd).days + 1)
                if working(sd + datetime.timedelta(k), exc))
        assert a["working_days"] == n, (a, n)
        counted.append(n)
    counted.sort()
    if counted:
        assert r["working_days_median"] == statistics.median(counted)
        assert r["working_days_p90"] == counted[
            max(0, math.ceil(0.9 * len(counted)) - 1)]
    waited = int(sql("SELECT count(DISTINCT application_id) FROM events e"
                     " JOIN applications a ON a.id = e.application_id"
                     " JOIN institutions i ON i.code = a.designated_institution"
                     " WHERE i.region = '%s' AND e.type = 'unassigned'",
                     reg["region"])[0][0])
    assert r["waited_for_an_expert"] == waited
    # Every draw of the run recomputed by mtcertctl (R-SUP-7).
    assert r["draw_verify_exit"] == 0, r["draw_verify"]
    assert "0 with a mismatch" in r["draw_verify"]
    assert r["draws_verified"] >= r["pushes"] >= len(ids)
    assert 0 <= r["expected_dates_held"] <= r["expected_dates"] <= len(ids)
    assert "year: decided %d of %d submitted" % (r["decided"], r["submitted"]) \
        in cp.stdout
