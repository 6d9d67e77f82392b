"""The tamper-evident audit trail and the person's view of who read their
file (issue 15 items 3 and 4).

access_log and events rows are links of hash chains, one per table,
region and local day (sql/042_audit_chain.sql, sql/fn/13_audit_chain.sql):
`mtcertctl audit-trail verify` recomputes them and names the first broken
link of each broken chain.  Old access_log days are archived to a file,
never silently lost, and deleted only once the file is written and read
back.  GET /applications/{id}/reads lists each read of the person's
application and materials: when, the role, the hospital or agency -- an
expert as a role alone (blind review)."""
import datetime
import json
import os
import tempfile

import shutil
import signal
import subprocess

from conftest import (CTL, VAR, api, assert_error, bearer, ctl, draft,
                      insured_login, login, new_person, new_region,
                      person_row_id, sql, stack, upload, wait_for,
                      workers)


def log_rows(n, user_login, person_id, obj, oid, action="read",
             at="now()"):
    """n access_log rows written in one statement, as a service read
    writes them (the trigger chains them; one connection, so one shard:
    one chain); their ids in chain order."""
    return sorted(int(r[0]) for r in sql(
        "INSERT INTO access_log (at, user_id, person_id, object_type,"
        " object_id, action) SELECT %s, u.id, %s, '%s', %s, '%s'"
        " FROM users u CROSS JOIN generate_series(1, %s)"
        " WHERE u.login = '%s' RETURNING id", at, person_id, obj, oid,
        action, n, user_login))


def log_row(user_login, person_id, obj, oid, action="read", at="now()"):
    """One access_log row (log_rows); its id."""
    return log_rows(1, user_login, person_id, obj, oid, action, at)[0]


def person_in(region):
    p = new_person(region=region["region"])
    p["id"] = int(person_row_id(p["id_number"]))
    return p


def old_and_recent_rows(months):
    """A new region's person read twice `months` ago (one chain) and once
    5 months ago (within any retention): (region code, the two old rows'
    ids, the recent row's id)."""
    region = new_region()
    p = person_in(region)
    old = log_rows(2, "agency-sanmenxia", p["id"], "person", p["id"],
                   at="now() - interval '%d months'" % months)
    new = log_row("agency-sanmenxia", p["id"], "person", p["id"],
                  at="now() - interval '5 months'")
    return region["region"], old, new


def forget_region(code):
    """Remove a test region's chains whole (rows and heads), so a broken
    one does not stay behind for the whole-database verify."""
    sql("DELETE FROM access_log WHERE chain_region = '%s'", code)
    sql("DELETE FROM audit_chain_heads WHERE region = '%s'"
        " AND tbl = 'access_log'", code)


def verify(*args):
    return ctl("audit-trail", "verify", *args, check=False)


class AuditDir:
    """A throwaway audit_dir (anchor files, archive/) and a copy of the
    stack's config naming it, so a test's anchors and archives, and the
    lines it edits, never reach the stack's own $MTCERT_VAR/audit (whose
    whole-database verify the other tests run).  run(...) is mtcertctl
    with that config."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="audit-")
        os.makedirs(os.path.join(self.dir, "archive"))
        self.conf = os.path.join(self.dir, "mtcert.conf")
        with open(os.path.join(VAR, "mtcert.conf"), encoding="utf-8") as f:
            conf = f.read()
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(conf + "audit_dir = %s\n" % self.dir)

    def run(self, *args):
        return subprocess.run([CTL, "--config", self.conf, *args],
                              capture_output=True, text=True, timeout=60)

    def daily(self):
        cp = self.run("audit-trail", "daily")
        assert cp.returncode == 0, cp.stdout + cp.stderr
        return json.loads(cp.stdout)

    def verify(self, *args):
        return self.run("audit-trail", "verify", *args)

    def anchors(self):
        """Every anchor line, parsed, in file order."""
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.startswith("anchor-"):
                with open(os.path.join(self.dir, name),
                          encoding="utf-8") as f:
                    out += [json.loads(x) for x in f]
        return out

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def recompute_chain(code):
    """What someone who can write the database can do after editing a
    row: relink every later row of region code's access_log chain and
    update its head, so the chain alone verifies again."""
    sql("DO $x$ DECLARE r record; prev bytea; BEGIN"
        " FOR r IN SELECT id, chain_seq FROM access_log"
        "  WHERE chain_region = '%s' ORDER BY chain_seq LOOP"
        "  IF r.chain_seq = 1 THEN"
        "   SELECT prev_hash INTO prev FROM access_log WHERE id = r.id;"
        "  END IF;"
        "  UPDATE access_log x SET prev_hash = prev,"
        "   hash = audit_row_hash(to_jsonb(x), prev) WHERE x.id = r.id"
        "   RETURNING x.hash INTO prev;"
        " END LOOP;"
        " UPDATE audit_chain_heads SET hash = prev"
        "  WHERE tbl = 'access_log' AND region = '%s'; END $x$", code, code)


def test_rows_are_chained_and_verify_holds():
    """Rows the service writes carry their link (seq from 1, prev_hash
    the previous row's hash); the whole database verifies."""
    region = new_region()
    p = person_in(region)
    ids = log_rows(3, "agency-sanmenxia", p["id"], "person", p["id"])
    rows = sql("SELECT id, chain_seq, encode(prev_hash, 'hex'),"
               " encode(hash, 'hex') FROM access_log WHERE chain_region = '%s'"
               " ORDER BY chain_seq", region["region"])
    assert [int(r[0]) for r in rows] == ids
    assert [int(r[1]) for r in rows] == [1, 2, 3]
    assert rows[1][2] == rows[0][3] and rows[2][2] == rows[1][3]
    cp = verify()
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert ", 0 broken" in cp.stdout
    forget_region(region["region"])


def test_a_transactions_links_share_its_heads():
    """One transaction writes two regions' chains (issue 13, fourth
    round: a head locked and read once per transaction and chain, written
    once per statement past its fourth row): a statement that switches
    chains row by row, one of 9 rows, three one-row statements, and a
    savepoint rolled back.  After every statement each head is the last
    row of its chain; after the commit every row is linked without a gap,
    the rolled-back rows are gone from the chain, the whole database
    verifies, and a row deleted from the middle of a many-row statement
    is named."""
    ra, rb = new_region(), new_region()
    pa, pb = person_in(ra), person_in(rb)
    ins = ("INSERT INTO access_log (user_id, person_id, object_type,"
           " object_id, action) SELECT u.id, %s, 'person', g, 'read'"
           " FROM users u CROSS JOIN generate_series(1, %d) g"
           " WHERE u.login = 'agency-sanmenxia';")
    current = ("DO $x$ BEGIN IF EXISTS (SELECT 1 FROM audit_chain_heads h"
               " WHERE h.tbl = 'access_log' AND h.region IN ('%s', '%s')"
               " AND h.seq IS DISTINCT FROM (SELECT max(l.chain_seq)"
               " FROM access_log l WHERE l.chain_region = h.region"
               " AND l.chain_day = h.day AND l.chain_shard = h.shard))"
               " THEN RAISE EXCEPTION 'a head is behind its chain';"
               " END IF; END $x$;" % (ra["region"], rb["region"]))
    switching = ins % ("CASE WHEN mod(g / 6, 2) = 0 THEN %d ELSE %d END"
                       % (pa["id"], pb["id"]), 30)
    sql("BEGIN; " + switching + current
        + ins % (pa["id"], 9) + current
        + (ins % (pb["id"], 1) + current) * 3
        + "SAVEPOINT s; " + ins % (pa["id"], 7) + current
        + "ROLLBACK TO SAVEPOINT s; " + current
        + ins % (pa["id"], 6) + current + "COMMIT")
    # g in 1..30, six rows a chain in turn (past the fourth, so a head is
    # behind when the next chain's row comes): g / 6 even for 1-5, 12-17,
    # 24-29 (pa), odd for 6-11, 18-23, 30 (pb).
    for region, n in ((ra, 17 + 9 + 6), (rb, 13 + 3)):
        rows = sql("SELECT chain_seq FROM access_log"
                   " WHERE chain_region = '%s' ORDER BY chain_seq",
                   region["region"])
        assert [int(r[0]) for r in rows] == list(range(1, n + 1))
        head = sql("SELECT seq FROM audit_chain_heads WHERE tbl ="
                   " 'access_log' AND region = '%s'", region["region"])
        assert head == [[str(n)]]
    cp = verify()
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert ", 0 broken" in cp.stdout
    gone = sql("DELETE FROM access_log WHERE chain_region = '%s'"
               " AND chain_seq = 24 RETURNING id", ra["region"])[0][0]
    cp = verify("--region", ra["region"])
    assert cp.returncode == 3, cp.stdout + cp.stderr
    assert "row missing before it (seq)" in cp.stdout
    assert "expected 24, found 25" in cp.stdout, (gone, cp.stdout)
    forget_region(ra["region"])
    forget_region(rb["region"])


def test_a_chain_begun_under_another_datestyle_verifies():
    """A chain's first link (audit_genesis) spells its day the same
    whatever the writer's DateStyle, so a chain begun in a session with
    another one verifies in verify's own."""
    region = new_region()
    p = person_in(region)
    sql("BEGIN; SET LOCAL datestyle = 'SQL, DMY';"
        " INSERT INTO access_log (user_id, person_id, object_type,"
        " object_id, action) SELECT u.id, %s, 'person', g, 'read'"
        " FROM users u CROSS JOIN generate_series(1, 6) g"
        " WHERE u.login = 'agency-sanmenxia'; COMMIT", p["id"])
    cp = verify("--region", region["region"])
    assert cp.returncode == 0, cp.stdout + cp.stderr
    forget_region(region["region"])


def test_an_edited_row_and_a_deleted_row_are_each_named():
    """One row edited in one chain, one deleted in another (two regions):
    verify exits 3 and names each -- table, region, the row's id, what
    broke, expected and found; the end of a chain cut off is named too;
    --region narrows the check to one region."""
    ra, rb = new_region(), new_region()
    pa, pb = person_in(ra), person_in(rb)
    a = log_rows(3, "agency-sanmenxia", pa["id"], "person", pa["id"])
    b = log_rows(4, "agency-sanmenxia", pb["id"], "person", pb["id"])
    try:
        assert verify("--region", ra["region"]).returncode == 0
        sql("UPDATE access_log SET action = 'export' WHERE id = %s", a[1])
        sql("DELETE FROM access_log WHERE id = %s", b[1])
        cp = verify()
        assert cp.returncode == 3, cp.stdout + cp.stderr
        out = cp.stdout
        assert ("access_log region '%s'" % ra["region"]) in out
        assert ("id %s: row edited" % a[1]) in out
        assert ("access_log region '%s'" % rb["region"]) in out
        assert ("id %s: row missing before it (seq): expected 2, found 3"
                % b[2]) in out
        # One region alone: only its break.
        cp = verify("--region", ra["region"])
        assert cp.returncode == 3 and rb["region"] not in cp.stdout
        # The last row deleted: the chain ends short of its head.
        sql("UPDATE access_log SET action = 'read' WHERE id = %s", a[1])
        assert verify("--region", ra["region"]).returncode == 0
        sql("DELETE FROM access_log WHERE id = %s", a[2])
        cp = verify("--region", ra["region"])
        assert cp.returncode == 3
        assert "rows missing at the end (head seq): expected 3, found 2" \
            in cp.stdout
    finally:
        forget_region(ra["region"])
        forget_region(rb["region"])
    assert verify().returncode == 0


def test_an_edited_event_is_named():
    """events are chained as access_log: an event's data edited is named
    by its id."""
    region = new_region()
    p = new_person(region=region["region"])
    tok = insured_login(p)["token"]
    app = draft(tok, institution=region["hospitals"][0])
    ev = sql("SELECT id, chain_seq FROM events WHERE application_id = %s",
             app["id"])
    assert ev and ev[0][1] == "1"
    before = sql("SELECT data::text FROM events WHERE id = %s", ev[0][0])
    sql("UPDATE events SET data = '{\"x\": 1}' WHERE id = %s", ev[0][0])
    try:
        cp = verify("--region", region["region"])
        assert cp.returncode == 3
        assert "events region '%s'" % region["region"] in cp.stdout
        assert "id %s: row edited" % ev[0][0] in cp.stdout
    finally:
        sql("UPDATE events SET data = '%s' WHERE id = %s",
            before[0][0].replace("'", "''"), ev[0][0])
    assert verify("--region", region["region"]).returncode == 0


def test_old_days_are_archived_to_a_file_then_deleted():
    """Rows older than the region's audit_retention_months (at least 6):
    archive writes their chain (head, then rows) to the file and only
    then deletes them; the head stays, marked with the file's SHA-256;
    verify still passes; a day within the retention is kept."""
    code, old, new = old_and_recent_rows(8)
    assert ctl("policy", "set", code, "audit_retention_months", "5",
               check=False).returncode == 2
    before = (datetime.date.today() -
              datetime.timedelta(days=60)).isoformat()
    out = os.path.join(tempfile.mkdtemp(), "trail.jsonl")
    try:
        cp = ctl("audit-trail", "archive", "--before", before, "--out", out)
        assert json.loads(cp.stdout)["rows"] >= 2
        lines = [json.loads(x) for x in open(out, encoding="utf-8")]
        heads = [x["chain"] for x in lines if "chain" in x]
        mine = [h for h in heads if h["region"] == code]
        assert len(mine) == 1 and mine[0]["seq"] == 2
        rows = [x for x in lines if x.get("chain_region") == code]
        assert [x["id"] for x in rows] == old
        assert rows[1]["hash"] == mine[0]["hash"]
        assert sql("SELECT id FROM access_log WHERE chain_region = '%s'",
                   code) == [[str(new)]]
        h = sql("SELECT archived_at IS NOT NULL, archive_sha256 IS NOT NULL"
                " FROM audit_chain_heads WHERE region = '%s' AND day = '%s'",
                code, rows[0]["chain_day"])
        assert h == [["t", "t"]]
        cp = verify("--region", code)
        assert cp.returncode == 0, cp.stdout
        # Run again: nothing left to archive of that day.
        cp = ctl("audit-trail", "archive", "--before", before, "--out",
                 out + ".2")
        assert json.loads(cp.stdout)["chains"] == 0
    finally:
        forget_region(code)


def test_archive_refuses_a_broken_chain():
    """A broken old chain is not archived (exit 1): its rows stay for the
    inquiry, nothing is deleted."""
    region = new_region()
    code = region["region"]
    p = person_in(region)
    ids = log_rows(2, "agency-sanmenxia", p["id"], "person", p["id"],
                   at="now() - interval '9 months'")
    sql("UPDATE access_log SET object_id = 1 WHERE id = %s", ids[0])
    out = os.path.join(tempfile.mkdtemp(), "trail.jsonl")
    try:
        cp = ctl("audit-trail", "archive", "--before",
                 datetime.date.today().isoformat(), "--out", out,
                 check=False)
        assert cp.returncode == 1 and "broken" in cp.stderr
        assert len(sql("SELECT id FROM access_log WHERE chain_region = '%s'",
                       code)) == 2
    finally:
        forget_region(code)


def test_the_person_sees_who_read_their_file():
    """The agency's read, a hospital's, an expert's download and the
    person's own download are listed newest first with role and
    institution; the expert as a role alone; paged; another person's
    application is 404; staff cannot call it (403)."""
    p = new_person()
    pid = int(person_row_id(p["id_number"]))
    tok = insured_login(p)["token"]
    app = draft(tok)
    mid = upload(tok, app["id"], "inpatient_record").json()["id"]
    assert api("GET", "/materials/%s" % mid,
               headers=bearer(tok)).status_code == 200
    agency = login("agency-sanmenxia")["token"]
    assert api("GET", "/applications/%s" % app["id"],
               headers=bearer(agency)).status_code == 200
    log_row("hospital-smx", pid, "certification", app["id"])
    expert = sql("SELECT login FROM users WHERE role = 'expert'"
                 " ORDER BY id LIMIT 1")[0][0]
    log_row(expert, pid, "material", mid, "download")
    # Not this application's: another object of the person.
    log_row("agency-sanmenxia", pid, "qualification", 999999)
    r = api("GET", "/applications/%s/reads" % app["id"], headers=bearer(tok))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(x["role"], x["object_type"], x["action"]) for x in items] == [
        ("expert", "material", "download"),
        ("hospital", "certification", "read"),
        ("agency", "application", "read"),
        ("insured", "material", "download")]
    ex, ho, ag, me = items
    assert ex["institution"] is None and "name" not in ex
    assert expert not in r.text
    assert ho["institution"]["code"] == "H41120000001"
    assert ho["institution"]["name"]
    assert ag["institution"] == {"region": "411200",
                                 "name": ag["institution"]["name"]}
    assert me["self"] is True and ag["self"] is False
    assert all(x["at"] for x in items)
    # Paged.
    r1 = api("GET", "/applications/%s/reads?limit=3" % app["id"],
             headers=bearer(tok)).json()
    assert len(r1["items"]) == 3 and r1["next_cursor"]
    r2 = api("GET", "/applications/%s/reads?limit=3&cursor=%s" % (
        app["id"], r1["next_cursor"]), headers=bearer(tok)).json()
    assert [x["id"] for x in r2["items"]] == [me["id"]]
    assert r2["next_cursor"] is None
    # Someone else's application; a staff caller.
    other = insured_login(new_person())["token"]
    assert_error(api("GET", "/applications/%s/reads" % app["id"],
                     headers=bearer(other)), 404, "application_not_found")
    r = api("GET", "/applications/%s/reads" % app["id"],
            headers=bearer(agency))
    assert r.status_code == 403


def test_a_recomputed_chain_is_caught_by_its_anchor():
    """The daily job anchors the head of each chain whose day is past to
    the month's anchor file (outside the database; each line carrying
    the hash of the line before it).  A row edited and the chain
    recomputed in SQL, its head updated, passes the chain check alone --
    but not its anchor: verify exits 3 and names the chain."""
    region = new_region()
    code = region["region"]
    p = person_in(region)
    ids = log_rows(3, "agency-sanmenxia", p["id"], "person", p["id"],
                   at="now() - interval '3 days'")
    audit = AuditDir()
    try:
        assert audit.daily()["anchored"] >= 1
        mine = [a for a in audit.anchors() if a["region"] == code]
        head = sql("SELECT seq, encode(hash, 'hex'), anchored_at IS NOT NULL"
                   " FROM audit_chain_heads WHERE region = '%s'", code)
        assert [(a["tbl"], a["seq"], a["hash"]) for a in mine] == \
            [("access_log", 3, head[0][1])] and head[0][2] == "t"
        assert audit.verify("--region", code).returncode == 0
        # Anchored once: a second run writes nothing of this chain.
        audit.daily()
        assert len([a for a in audit.anchors() if a["region"] == code]) == 1
        sql("UPDATE access_log SET action = 'export' WHERE id = %s", ids[1])
        recompute_chain(code)
        # The chain alone holds again (the stack's verify, no anchor of
        # this chain there) ...
        cp = verify("--region", code)
        assert cp.returncode == 0, cp.stdout
        # ... its anchor does not.
        cp = audit.verify("--region", code)
        assert cp.returncode == 3, cp.stdout + cp.stderr
        assert ("access_log region '%s'" % code) in cp.stdout
        assert "head differs from its anchor: expected %s" % head[0][1] \
            in cp.stdout
        # The head deleted with its rows: named too.
        forget_region(code)
        cp = audit.verify("--region", code)
        assert cp.returncode == 3 and "chain gone (head deleted)" in cp.stdout
    finally:
        forget_region(code)
        audit.close()


def test_an_edited_anchor_line_is_caught():
    """An anchor line edited (its hash made to match a recomputed chain)
    no longer matches the database, and the line after it no longer
    carries its hash: verify names both, with the file and the line."""
    ra, rb = new_region(), new_region()
    pa, pb = person_in(ra), person_in(rb)
    log_rows(2, "agency-sanmenxia", pa["id"], "person", pa["id"],
             at="now() - interval '2 days'")
    log_rows(2, "agency-sanmenxia", pb["id"], "person", pb["id"],
             at="now() - interval '2 days'")
    audit = AuditDir()
    try:
        assert audit.daily()["anchored"] >= 2
        assert audit.verify().returncode == 0
        name = [x for x in os.listdir(audit.dir) if x.startswith("anchor-")]
        assert len(name) == 1
        path = os.path.join(audit.dir, name[0])
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        assert len(lines) >= 2
        n = 0
        line = json.loads(lines[n])
        forged = ("0" if line["hash"][0] != "0" else "1") + line["hash"][1:]
        lines[n] = lines[n].replace(line["hash"], forged)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        cp = audit.verify()
        assert cp.returncode == 3, cp.stdout + cp.stderr
        assert ("BROKEN anchor %s line %d: access_log region '%s'"
                % (name[0], n + 1, line["region"])) in cp.stdout
        assert "head differs from its anchor: expected %s" % forged \
            in cp.stdout
        assert ("BROKEN anchor %s line %d: not the line after the one"
                " before it (prev)" % (name[0], n + 2)) in cp.stdout
    finally:
        forget_region(ra["region"])
        forget_region(rb["region"])
        audit.close()


def test_the_daily_job_archives_days_past_retention():
    """The daily job (the dispatcher's, here run by mtcertctl audit-trail
    daily: one code path) archives access_log days older than the
    region's audit_retention_months as the command does: the file under
    audit_dir/archive holds the chain's head and every row, the rows are
    deleted, the head stays marked with the file's name and SHA-256, and
    verify (chains and anchors) still passes; a day within the retention
    stays."""
    code, old, new = old_and_recent_rows(7)
    audit = AuditDir()
    try:
        r = audit.daily()
        assert r["chains"] >= 1 and r["rows"] >= 2, r
        assert any(a["region"] == code for a in audit.anchors())
        h = sql("SELECT archive_name, archive_sha256 FROM audit_chain_heads"
                " WHERE region = '%s' AND archived_at IS NOT NULL", code)
        assert len(h) == 1
        name, sha = h[0]
        assert os.path.dirname(name) == os.path.join(audit.dir, "archive")
        with open(name, encoding="utf-8") as f:
            lines = [json.loads(x) for x in f]
        heads = [x["chain"] for x in lines if "chain" in x]
        assert [x["seq"] for x in heads if x["region"] == code] == [2]
        assert [x["id"] for x in lines
                if x.get("chain_region") == code] == old
        assert sql("SELECT id FROM access_log WHERE chain_region = '%s'",
                   code) == [[str(new)]]
        assert len(sha) == 64
        cp = audit.verify("--region", code)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert audit.daily()["chains"] == 0
    finally:
        forget_region(code)
        audit.close()


def test_the_dispatcher_runs_the_daily_job():
    """The dispatcher runs the job itself (at its start, then hourly):
    its child killed, the new one anchors a past day's chain to the
    stack's audit_dir, and verify holds.  The chain is left in place
    (intact): its anchor is the stack's for good."""
    region = new_region()
    code = region["region"]
    p = person_in(region)
    log_rows(2, "agency-sanmenxia", p["id"], "person", p["id"],
             at="now() - interval '2 days'")
    # A child restarted by an earlier test may be a second away still.
    assert wait_for(lambda: workers("dispatcher"))
    for pid in workers("dispatcher"):
        os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: sql(
        "SELECT anchored_at IS NOT NULL FROM audit_chain_heads"
        " WHERE region = '%s'", code) == [["t"]])
    lines = []
    audit = os.path.join(VAR, "audit")
    for name in sorted(os.listdir(audit)):
        if name.startswith("anchor-"):
            with open(os.path.join(audit, name), encoding="utf-8") as f:
                lines += [json.loads(x) for x in f]
    assert [x["seq"] for x in lines if x["region"] == code] == [2]
    cp = verify("--region", code)
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_rows_written_before_the_chain_are_linked_by_migrate():
    """Rows without a link (written before migration 042: here with the
    trigger off for one transaction) are linked by `mtcertctl migrate`,
    a batch per transaction (audit_backfill), in id order in shard 0 of
    their day; verify then holds."""
    region = new_region()
    code = region["region"]
    p = person_in(region)
    rows = sql(
        "BEGIN; ALTER TABLE access_log DISABLE TRIGGER access_log_chain;"
        " INSERT INTO access_log (at, user_id, person_id, object_type,"
        " object_id, action) SELECT now() - interval '1 day' * g, u.id,"
        " %s, 'person', %s, 'read' FROM users u CROSS JOIN"
        " generate_series(1, 3) g WHERE u.login = 'agency-sanmenxia'"
        " RETURNING id, hash IS NULL;"
        " ALTER TABLE access_log ENABLE TRIGGER access_log_chain; COMMIT",
        p["id"], p["id"])
    try:
        assert len(rows) == 3 and all(r[1] == "t" for r in rows)
        out = ctl("migrate").stdout
        assert "rows of before it linked" in out
        linked = sql("SELECT chain_shard, chain_seq, hash IS NOT NULL"
                     " FROM access_log WHERE chain_region = '%s'"
                     " ORDER BY id", code)
        assert linked == [["0", "1", "t"]] * 3
        cp = verify("--region", code)
        assert cp.returncode == 0, cp.stdout + cp.stderr
        assert "rows of before it linked" not in ctl("migrate").stdout
    finally:
        forget_region(code)


def test_reads_with_the_database_down_are_503_then_back():
    """Who read my file with PostgreSQL stopped: 503 service_unavailable
    (the person's session lives in Redis, the page needs the database),
    then the same page once it is back."""
    p = new_person()
    tok = insured_login(p)["token"]
    app = draft(tok)
    path = "/applications/%s/reads" % app["id"]
    stack("pg-stop")
    try:
        assert_error(api("GET", path, headers=bearer(tok)), 503,
                     "service_unavailable")
    finally:
        stack("pg-start")
    assert wait_for(lambda: api("GET", path, headers=bearer(tok))
                    .status_code == 200)
    assert api("GET", path, headers=bearer(tok)).json()["items"] == []
