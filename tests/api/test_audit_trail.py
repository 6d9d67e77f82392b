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

from conftest import (api, assert_error, bearer, ctl, draft, insured_login,
                      login, new_person, new_region, person_row_id, sql,
                      upload)


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


def forget_region(code):
    """Remove a test region's chains whole (rows and heads), so a broken
    one does not stay behind for the whole-database verify."""
    sql("DELETE FROM access_log WHERE chain_region = '%s'", code)
    sql("DELETE FROM audit_chain_heads WHERE region = '%s'"
        " AND tbl = 'access_log'", code)


def verify(*args):
    return ctl("audit-trail", "verify", *args, check=False)


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
    region = new_region()
    code = region["region"]
    p = person_in(region)
    old = log_rows(2, "agency-sanmenxia", p["id"], "person", p["id"],
                   at="now() - interval '8 months'")
    new = log_row("agency-sanmenxia", p["id"], "person", p["id"],
                  at="now() - interval '5 months'")
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
