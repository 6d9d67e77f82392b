"""The national feed (R-BEN-7, S3 第十条): GET /agency/exports/qualifications
gives every change to a qualification (new, hospital change, renewal,
end) after a cursor, in commit order, missing none when transactions
commit out of order -- which a cursor on the change's id would."""
import os
import random
import subprocess
import threading
import time

from conftest import id_hmac
from conftest import (HANG, PG_PORT, VAR, api, assert_error, bearer, login,
                      new_person, new_region, sql)
from test_agency_benefit import agency_of, qualification, terminate


def feed(tok, since=None, **params):
    if since is not None:
        params["since"] = since
    r = api("GET", "/agency/exports/qualifications", headers=bearer(tok),
            params=params)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()


def drain(tok, since, limit=None):
    """Every item after since, page by page; (items, the last cursor)."""
    items = []
    while True:
        page = feed(tok, since, **({"limit": limit} if limit else {}))
        items += page["items"]
        if page["next_since"] == since:
            return items, since
        since = page["next_since"]


def psql_args():
    return ["psql", "-h", os.path.join(VAR, "run", "pg"), "-p", PG_PORT,
            "-U", "mtcert", "-d", "mtcert", "-qAtX", "-v", "ON_ERROR_STOP=1"]


class Session:
    """One psql connection fed line by line, so a test holds a
    transaction open across other writers' commits."""

    def __init__(self):
        self.p = subprocess.Popen(psql_args(), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.n = 0

    def run(self, statement):
        """Run statement; the rows it printed."""
        self.n += 1
        mark = "--done %d--" % self.n
        self.p.stdin.write("%s\n\\echo %s\n" % (statement, mark))
        self.p.stdin.flush()
        out = []
        while True:
            line = self.p.stdout.readline()
            assert line, "psql ended"
            if line.rstrip("\n") == mark:
                return out
            out.append(line.rstrip("\n"))

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=HANG)


def test_every_kind_of_change_in_order_masked_and_logged():
    """R-BEN-7: a new qualification, a hospital change, a renewal and the
    end each appear once, in that order, each with the qualification as
    it was then (ID number masked); a poll with the last cursor is empty;
    each export is in access_log; another region's agency sees none."""
    reg = new_region()
    tok = agency_of(reg["region"])
    start = feed(tok)["next_since"]
    p, qid = qualification(reg)
    sql("UPDATE qualifications SET designated_institution = '%s'"
        " WHERE id = %s", reg["hospitals"][1], qid)
    sql("UPDATE qualifications SET valid_to = valid_to + 365,"
        " renewed_count = renewed_count + 1 WHERE id = %s", qid)
    sql("UPDATE qualifications SET updated_at = now() WHERE id = %s", qid)
    assert terminate(tok, qid, reason="cured", note="治愈").status_code == 200
    items, last = drain(tok, start)
    assert [x["kind"] for x in items] == ["new", "institution_changed",
                                          "renewed", "ended"]
    assert [x["seq"] for x in items] == sorted(x["seq"] for x in items)
    assert all(x["qualification"]["id"] == qid for x in items)
    snaps = [x["qualification"] for x in items]
    assert [s["designated_institution"]["code"] for s in snaps] == [
        reg["hospitals"][0], reg["hospitals"][1], reg["hospitals"][1],
        reg["hospitals"][1]]
    assert snaps[1]["renewed_count"] == 0 and snaps[2]["renewed_count"] == 1
    assert [s["status"] for s in snaps] == ["active"] * 3 + ["terminated"]
    assert snaps[3]["end_reason"] == "cured"
    assert p["id_number"] not in str(items)
    assert feed(tok, last) == {"items": [], "next_since": last}
    assert sql("SELECT count(*) FROM access_log WHERE object_type ="
               " 'qualification' AND object_id = %s AND action = 'export'",
               qid) == [["4"]]
    # Another region's agency: nothing of these, and no peeking.
    other = agency_of(new_region()["region"])
    assert all(x["qualification"]["region"] != reg["region"]
               for x in drain(other, start)[0])
    assert_error(api("GET", "/agency/exports/qualifications",
                     headers=bearer(other), params={"region": reg["region"]}),
                 404, "region_not_found", "region")
    # An admin reads every region's, or one.
    admin = login("admin")["token"]
    got = drain(admin, start, limit=2)[0]
    assert [x["seq"] for x in items] == [
        x["seq"] for x in got if x["qualification"]["id"] == qid]


def test_one_write_of_two_kinds_is_two_rows_of_one_state():
    """One UPDATE that changes the hospital and renews: two rows, in the
    trigger's order (institution_changed, renewed), each with the state
    after the whole write."""
    reg = new_region()
    tok = agency_of(reg["region"])
    start = feed(tok)["next_since"]
    _, qid = qualification(reg)
    sql("UPDATE qualifications SET designated_institution = '%s',"
        " valid_to = valid_to + 365, renewed_count = renewed_count + 1"
        " WHERE id = %s", reg["hospitals"][1], qid)
    items = [x for x in drain(tok, start)[0]
             if x["qualification"]["id"] == qid]
    assert [x["kind"] for x in items] == ["new", "institution_changed",
                                          "renewed"]
    assert items[1]["qualification"] == items[2]["qualification"]
    assert items[1]["qualification"]["renewed_count"] == 1
    assert items[1]["qualification"]["designated_institution"]["code"] == \
        reg["hospitals"][1]


def test_feed_refuses_bad_cursors():
    tok = agency_of(new_region()["region"])
    for params, field in (({"since": "-1"}, "since"), ({"since": "x"}, "since"),
                          ({"limit": "0"}, "limit"),
                          ({"limit": "1001"}, "limit")):
        assert_error(api("GET", "/agency/exports/qualifications",
                         headers=bearer(tok), params=params),
                     400, "field_invalid", field)
    insured = api("GET", "/agency/exports/qualifications")
    assert insured.status_code == 401


def test_a_long_transaction_that_commits_late_is_not_missed():
    """R-BEN-7, the interleaving itself: A writes and stays open, B writes
    after A and commits, the consumer polls (B only), A commits, the
    consumer polls again: A's change is there -- though its id is below
    B's, so a consumer keeping the highest id seen would never ask for
    it again."""
    reg = new_region()
    tok = agency_of(reg["region"])
    since = feed(tok)["next_since"]
    pa = new_person(region=reg["region"])
    a = Session()
    try:
        a.run("BEGIN;")
        qa = qualification_in(a, reg, pa)
        ida = int(a.run("SELECT max(id) FROM qualification_changes"
                        " WHERE qualification_id = %s;" % qa)[0])
        _, qb = qualification(reg)
        idb = int(sql("SELECT id FROM qualification_changes"
                      " WHERE qualification_id = %s", qb)[0][0])
        assert ida < idb            # A's change was written first
        first = feed(tok, since)
        assert [x["qualification"]["id"] for x in first["items"]] == [qb]
        # A naive consumer now holds "id > idb": A's row (ida) is behind it.
        a.run("COMMIT;")
    finally:
        a.close()
    second = feed(tok, first["next_since"])
    assert [x["qualification"]["id"] for x in second["items"]] == [qa]
    assert second["items"][0]["seq"] > first["items"][0]["seq"]
    assert sql("SELECT count(*) FROM qualification_changes WHERE id > %s"
               " AND qualification_id = %s", idb, qa) == [["0"]]


def qualification_in(session, reg, person):
    """Insert a qualification of person in session's open transaction."""
    return int(session.run(
        "INSERT INTO qualifications (person_id, disease, region,"
        " designated_institution, valid_from, valid_to)"
        " SELECT id, 'D013', '%s', '%s', cn_today(), cn_today() + 300"
        " FROM persons WHERE id_number_hmac = '%s' RETURNING id;"
        % (reg["region"], reg["hospitals"][0],
           id_hmac(person["id_number"])))[0])


def writer(reg, qid, rounds, log, errors):
    """Change qualification qid's hospital rounds times, each in its own
    transaction that stays open a random short while; log (qid, hospital,
    started, committed) with wall-clock bounds around each transaction."""
    try:
        for i in range(rounds):
            hosp = reg["hospitals"][(i + 1) % 3]
            script = ("BEGIN; UPDATE qualifications SET"
                      " designated_institution = '%s' WHERE id = %s;"
                      " SELECT pg_sleep(%.3f); COMMIT;"
                      % (hosp, qid, random.uniform(0, 0.25)))
            started = time.monotonic()
            cp = subprocess.run(psql_args() + ["-c", script],
                                capture_output=True, text=True,
                                timeout=HANG)
            done = time.monotonic()
            assert cp.returncode == 0, cp.stderr
            log.append((qid, hosp, started, done))
    except BaseException as e:      # reported by the test thread
        errors.append(e)


def test_concurrent_writers_and_a_polling_consumer_miss_nothing():
    """R-BEN-7 under load: six writers change qualifications in
    transactions held open for random times, committing out of order,
    while a consumer polls in small pages.  At the end the consumer has
    every change exactly once, and a change whose transaction committed
    before another's began comes first."""
    reg = new_region()
    tok = agency_of(reg["region"])
    since = feed(tok)["next_since"]
    quals = [qualification(reg)[1] for _ in range(6)]
    got, polls = [], []
    created, since = drain(tok, since)      # their 'new' rows
    assert len(created) == len(quals)
    log, errors = [], []
    threads = [threading.Thread(target=writer,
                                args=(reg, q, 5, log, errors))
               for q in quals]
    for t in threads:
        t.start()
    cursor = since
    while any(t.is_alive() for t in threads):
        page = feed(tok, cursor, limit=3)
        got += page["items"]
        polls.append([x["seq"] for x in page["items"]])
        cursor = page["next_since"]
        time.sleep(0.02)
    for t in threads:
        t.join(HANG)
    assert not errors, errors
    rest, _ = drain(tok, cursor, limit=3)
    got += rest
    seqs = [x["seq"] for x in got]
    assert len(seqs) == len(set(seqs)) == len(log) == 30
    assert seqs == sorted(seqs)
    # Per qualification: the hospitals in the order its writer set them.
    for q in quals:
        mine = [x for x in got if x["qualification"]["id"] == q]
        assert all(x["kind"] == "institution_changed" for x in mine)
        assert [x["qualification"]["designated_institution"]["code"]
                for x in mine] == [h for (qq, h, _, _) in log if qq == q]
    # Across writers: commit order.  The k-th change of q in the feed is
    # the k-th transaction of q's writer.
    seq_of = {}
    for q in quals:
        mine = [x["seq"] for x in got if x["qualification"]["id"] == q]
        for k, entry in enumerate(e for e in log if e[0] == q):
            seq_of[(q, k)] = mine[k]
    order = {}
    for q in quals:
        for k, e in enumerate(e for e in log if e[0] == q):
            order[(q, k)] = e
    for a, ea in order.items():
        for b, eb in order.items():
            if ea[3] < eb[2]:       # A committed before B began
                assert seq_of[a] < seq_of[b], (a, b)
    # What a cursor on the change id would have missed in this run: rows
    # delivered after a poll had already delivered a higher id.
    ids = dict((int(s), int(i)) for s, i in sql(
        "SELECT seq, id FROM qualification_changes WHERE region = '%s'"
        " AND seq IS NOT NULL", reg["region"]))
    high, late = 0, 0
    for poll in polls:
        late += sum(1 for s in poll if ids[s] < high)
        high = max([high] + [ids[s] for s in poll])
    print("feed: %d changes, %d polls, %d a cursor on id would have missed"
          % (len(seqs), len(polls), late))
