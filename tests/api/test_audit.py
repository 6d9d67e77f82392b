"""Audit samples (issue 12 item 3; R-SUP-1, S0 五(二) 按不低于 10% 的比例
抽审, S3 第二十条 不低于 10% 的比例随机抽检): the agency draws a sample
of the region's approved qualifications of a period -- those certified
by hospitals included -- of at least the region's audit_min_rate_percent
and never fewer than one, recorded as a draw (R-SUP-7) that `mtcertctl
audit verify` recomputes; a failed item ends the qualification
(audit_failed: SMS, timeline)."""
import uuid

from conftest import id_hmac, identity_of, seed_of_another_choice
from conftest import (api, assert_error, bearer, ctl, insured_login,
                      login, new_person, new_region, policy, sms_lines, sql,
                      stack, submitted_application, today, unique,
                      wait_for, wait_sms)
from test_onsite import certify, form, hospital_files, staff


def agency_of(region):
    user = unique("ag")
    ctl("user", "add", "--role", "agency", "--login", user,
        "--password", "agency-pass-1", "--region", region)
    return login(user, "agency-pass-1")["token"]


def qualifications(reg, n):
    """n active qualifications approved today in region reg (one person,
    n diseases: the population of a test); their ids, sorted."""
    p = new_person(region=reg["region"])
    rows = sql("INSERT INTO qualifications (person_id, disease, region,"
               " designated_institution, valid_from, valid_to)"
               " SELECT p.id, d.code, '%s', '%s', cn_today(),"
               " cn_today() + 365 FROM persons p,"
               " (SELECT code FROM diseases ORDER BY code LIMIT %d) d"
               " WHERE p.id_number_hmac = '%s' RETURNING id", reg["region"],
               reg["hospitals"][0], n, id_hmac(p["id_number"]))
    return sorted(int(r[0]) for r in rows)


def draw(tok, rate=10, frm=None, to=None, **kw):
    body = {"from": str(frm or today()), "to": str(to or today()),
            "rate": rate}
    return api("POST", "/agency/audits", headers=dict(bearer(tok),
               **kw.pop("headers", {})), json=dict(body, **kw))


def verify(audit_id):
    return ctl("audit", "verify", str(audit_id), check=False)


def approved_application(reg):
    """A person's application approved by the experts' route
    (conclude_application): (insured token, application, qualification)."""
    tok, app = submitted_application(reg)
    sql("SELECT conclude_application(%s, true, NULL, NULL)", app["id"])
    qid = int(sql("SELECT id FROM qualifications WHERE application_id = %s",
                  app["id"])[0][0])
    return tok, app, qid


def test_sample_is_the_rate_of_the_population_and_never_none():
    """R-SUP-1: 10 % of 25 is 3 (rounded up), 15 % is 4, one
    qualification gives a sample of one; the population is recorded as
    the draw's pool (sorted ids) and every item is a chosen one."""
    reg = new_region()
    tok = agency_of(reg["region"])
    ids = qualifications(reg, 25)
    r = draw(tok, 10)
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["population"], a["sample_size"], a["rate"]) == (25, 3, 10)
    assert a["draw"]["pool"] == ids
    assert a["draw"]["rule"] == "sha256-ctr-u32-fy/1"
    assert len(a["draw"]["seed"]) == 64
    assert [i["qualification_id"] for i in a["items"]] == a["draw"]["chosen"]
    assert all(i["result"] == "pending" for i in a["items"])
    assert a["counts"] == {"pass": 0, "fail": 0, "pending": 3}
    assert a["state"] == "open"
    item = a["items"][0]
    assert item["person"]["name"] == "测*人"            # masked
    assert "*" in item["person"]["id_number"]
    assert item["certified_by"] == "other"              # no application
    assert item["approved_on"] == str(today())
    assert item["hospital"]["code"] == reg["hospitals"][0]
    r = draw(tok, 15)
    assert r.status_code == 201, r.text
    assert r.json()["sample_size"] == 4
    # N = 1 at 10 %: one.
    one = new_region()
    qualifications(one, 1)
    r = draw(agency_of(one["region"]), 10)
    assert r.status_code == 201, r.text
    assert (r.json()["population"], r.json()["sample_size"]) == (1, 1)
    assert verify(r.json()["id"]).returncode == 0


def test_rate_below_the_regions_minimum_is_refused_with_the_minimum():
    """R-SUP-1 (S0 五(二), S3 第二十条): the floor is the region's
    audit_min_rate_percent; below it 422 naming it, nothing drawn."""
    reg = new_region()
    tok = agency_of(reg["region"])
    qualifications(reg, 3)
    r = draw(tok, 9)
    assert_error(r, 422, "audit_rate_too_low", "rate")
    assert "10%" in r.json()["error"]["message"]
    with policy(reg["region"], "audit_min_rate_percent", "20"):
        r = draw(tok, 15)
        assert_error(r, 422, "audit_rate_too_low", "rate")
        assert "20%" in r.json()["error"]["message"]
        assert sql("SELECT count(*) FROM audits WHERE region = '%s'",
                   reg["region"]) == [["0"]]
        assert draw(tok, 20).status_code == 201


def test_empty_population_and_bad_input():
    """Nothing approved in the period: 422 audit_population_empty; bad
    dates and rates are 400 with the field, never 500."""
    reg = new_region()
    tok = agency_of(reg["region"])
    r = draw(tok, 10)
    assert_error(r, 422, "audit_population_empty", "from")
    assert str(today()) in r.json()["error"]["message"]
    qualifications(reg, 2)
    d = today()
    assert_error(draw(tok, 10, frm=d, to=d.replace(year=d.year - 1)), 400,
                 "field_invalid", "to")
    assert_error(draw(tok, 10, to=d.replace(year=d.year + 1)), 400,
                 "field_invalid", "to")
    assert_error(draw(tok, 10, frm="2026-13-01"), 400, "field_invalid",
                 "from")
    for bad in (0, 101, "x", -5, 10.5):
        assert_error(draw(tok, bad), 400, "field_invalid", "rate")
    r = api("POST", "/agency/audits", headers=bearer(tok),
            json={"from": str(d), "to": str(d)})
    assert_error(r, 400, "field_required", "rate")
    assert_error(draw(tok, 10, extra=1), 400, "unknown_field")
    assert sql("SELECT count(*) FROM audits WHERE region = '%s'",
               reg["region"]) == [["0"]]


def test_population_includes_hospital_certified_qualifications():
    """The issue: the sample is of every approved qualification
    'including those certified by hospitals' (S4: 西宁 certifies on
    site); the report says who certified each."""
    hosp = staff("hospital-qhph")
    p = new_person("630100", "陈秀兰")
    app = hospital_files(hosp, p, "D013", "H63010200143")
    r = certify(hosp, form(app["id"]))
    assert r.status_code == 201, r.text
    qid = r.json()["qualification"]["id"]
    r = draw(agency_of("630100"), 100)
    assert r.status_code == 201, r.text
    a = r.json()
    assert qid in a["draw"]["pool"]
    item = next(i for i in a["items"] if i["qualification_id"] == qid)
    assert item["certified_by"] == "hospital_onsite"
    assert item["certifying_institution"]["code"] == "H63010200143"
    assert item["person"]["name"] == "陈*兰"
    assert verify(a["id"]).returncode == 0


def test_a_failed_item_ends_the_qualification_sms_and_timeline():
    """R-SUP-1 and the issue's done-when: fail (with its note) ends the
    qualification through end_qualification -- audit_failed, status
    revoked, an SMS, the application's timeline -- and the person's own
    list shows it ended; a decided item is 409; pass is an event too."""
    reg = new_region()
    ag = agency_of(reg["region"])
    tok1, app1, q1 = approved_application(reg)
    tok2, app2, q2 = approved_application(reg)
    r = draw(ag, 100)
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["population"] == 2 and a["sample_size"] == 2
    items = {i["qualification_id"]: i for i in a["items"]}
    assert items[q1]["certified_by"] == "expert_review"
    path = "/agency/audits/%s/items/%s/result"
    fail = path % (a["id"], items[q1]["id"])
    assert_error(api("POST", fail, headers=bearer(ag),
                     json={"result": "fail"}), 400, "field_required", "note")
    assert_error(api("POST", fail, headers=bearer(ag),
                     json={"result": "maybe"}), 400, "field_invalid",
                 "result")
    phone = identity_of(sql("SELECT person_id FROM qualifications"
                            " WHERE id = %s", q1)[0][0])[1]
    before = len(sms_lines(phone))
    r = api("POST", fail, headers=bearer(ag),
            json={"result": "fail", "note": "病历与认定标准不符"})
    assert r.status_code == 200, r.text
    it = r.json()
    assert it["result"] == "fail" and it["note"] == "病历与认定标准不符"
    assert it["qualification_status"] == "revoked"
    assert it["decided_at"] is not None
    assert sql("SELECT status, end_reason FROM qualifications WHERE id = %s",
               q1) == [["revoked", "audit_failed"]]
    texts = [m["text"] for m in wait_sms(phone, before + 1)]
    assert any("抽审未通过" in t for t in texts), texts
    mine = api("GET", "/qualifications", headers=bearer(tok1)).json()
    q = next(x for x in mine["items"] if x["id"] == q1)
    assert q["status"] == "revoked" and q["end_reason"] == "audit_failed"
    v = api("GET", "/applications/%s" % app1["id"],
            headers=bearer(tok1)).json()
    t = [e for e in v["timeline"] if e["type"] == "audit_failed"]
    assert len(t) == 1 and "不通过" in t[0]["text"]
    assert "病历与认定标准不符" in t[0]["text"]
    login_name = sql("SELECT login FROM users WHERE id = %s",
                     a["drawn_by"]["id"])[0][0]
    assert all(login_name not in e["text"] for e in v["timeline"])
    assert any(e["type"] == "qualification_ended" for e in v["timeline"])
    # Decided once.
    r = api("POST", fail, headers=bearer(ag), json={"result": "pass"})
    assert_error(r, 409, "audit_item_decided")
    assert "不通过" in r.json()["error"]["message"]
    # Pass: an event, the qualification stays.
    r = api("POST", path % (a["id"], items[q2]["id"]), headers=bearer(ag),
            json={"result": "pass"})
    assert r.status_code == 200, r.text
    assert sql("SELECT status FROM qualifications WHERE id = %s",
               q2) == [["active"]]
    assert sql("SELECT count(*) FROM events WHERE application_id = %s"
               " AND type = 'audit_passed'", app2["id"]) == [["1"]]
    rep = api("GET", "/agency/audits/%s" % a["id"], headers=bearer(ag)).json()
    assert rep["counts"] == {"pass": 1, "fail": 1, "pending": 0}
    assert rep["state"] == "closed"
    # The population is what it was at the draw: the fail does not
    # change it, verify still matches.
    assert verify(a["id"]).returncode == 0


def test_verify_matches_and_names_an_altered_record():
    """`mtcertctl audit verify ID` (R-SUP-1, R-SUP-7): match, then three
    alterations, each restored -- another qualification on an item,
    another seed, a qualification's approval date moved out of the
    period -- each a named mismatch, exit 3."""
    reg = new_region()
    tok = agency_of(reg["region"])
    ids = qualifications(reg, 12)
    a = draw(tok, 10).json()
    assert a["sample_size"] == 2
    cp = verify(a["id"])
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "12 in the pool" in cp.stdout and "match" in cp.stdout
    assert "population re-derived from the qualifications: match" in cp.stdout
    item = a["items"][0]
    other = next(i for i in ids if i not in a["draw"]["chosen"])
    sql("UPDATE audit_items SET qualification_id = %s WHERE id = %s",
        other, item["id"])
    try:
        cp = verify(a["id"])
        assert cp.returncode == 3, cp.stdout
        assert "what was done differs from the choice" in cp.stdout
    finally:
        sql("UPDATE audit_items SET qualification_id = %s WHERE id = %s",
            item["qualification_id"], item["id"])
    seed = a["draw"]["seed"]
    sql("UPDATE draws SET seed = decode('%s', 'hex') WHERE id = %s",
        seed_of_another_choice(a["draw"]["id"]), a["draw"]["id"])
    try:
        cp = verify(a["id"])
        assert cp.returncode == 3, cp.stdout
        assert "another choice" in cp.stdout
    finally:
        sql("UPDATE draws SET seed = decode('%s', 'hex') WHERE id = %s",
            seed, a["draw"]["id"])
    sql("UPDATE qualifications SET created_at = created_at - interval"
        " '400 days' WHERE id = %s", ids[0])
    try:
        cp = verify(a["id"])
        assert cp.returncode == 3, cp.stdout
        assert "population MISMATCH" in cp.stdout
        assert "recorded 12, now 11" in cp.stdout
    finally:
        sql("UPDATE qualifications SET created_at = created_at + interval"
            " '400 days' WHERE id = %s", ids[0])
    assert verify(a["id"]).returncode == 0
    # Every audit of the suite so far (the done-when).
    cp = ctl("audit", "verify", "--all", check=False)
    assert cp.returncode == 0, cp.stdout
    assert ", 0 with a mismatch" in cp.stdout
    cp = ctl("audit", "verify", "999999999999", check=False)
    assert cp.returncode == 2 and "no audit" in cp.stderr


def test_scoped_to_the_region_and_idempotent():
    """Another region's agency: the audit is a 404 and not in its list;
    an admin sees it.  A retried POST with the same Idempotency-Key is
    the same audit, drawn once."""
    reg = new_region()
    tok = agency_of(reg["region"])
    qualifications(reg, 4)
    key = {"Idempotency-Key": "audit-" + uuid.uuid4().hex}
    r1 = draw(tok, 50, headers=key)
    r2 = draw(tok, 50, headers=key)
    assert r1.status_code == r2.status_code == 201, r2.text
    assert r1.json()["id"] == r2.json()["id"]
    assert sql("SELECT count(*) FROM audits WHERE region = '%s'",
               reg["region"]) == [["1"]]
    a = r1.json()
    mine = api("GET", "/agency/audits", headers=bearer(tok)).json()
    assert [x["id"] for x in mine["items"]] == [a["id"]]
    assert "items" not in mine["items"][0]
    other = agency_of(new_region()["region"])
    assert_error(api("GET", "/agency/audits/%s" % a["id"],
                     headers=bearer(other)), 404, "audit_not_found")
    assert_error(api("POST", "/agency/audits/%s/items/%s/result" % (
        a["id"], a["items"][0]["id"]), headers=bearer(other),
        json={"result": "pass"}), 404, "audit_item_not_found")
    assert a["id"] not in [x["id"] for x in api(
        "GET", "/agency/audits", headers=bearer(other)).json()["items"]]
    assert_error(api("GET", "/agency/audits", headers=bearer(other),
                     params={"region": reg["region"]}), 404,
                 "region_not_found")
    # An item of another audit under this one's path: not found.
    assert_error(api("POST", "/agency/audits/%s/items/%s/result" % (
        a["id"] + 1000000, a["items"][0]["id"]), headers=bearer(tok),
        json={"result": "pass"}), 404, "audit_item_not_found")
    adm = login("admin")["token"]
    assert api("GET", "/agency/audits/%s" % a["id"],
               headers=bearer(adm)).status_code == 200
    # An insured person is not the agency.
    p = new_person(region=reg["region"])
    ins = insured_login(p)["token"]
    assert api("GET", "/agency/audits", headers=bearer(ins)).status_code \
        == 403


def test_database_down_is_503_then_recovers():
    """The database down: drawing, listing and recording answer 503 in
    the envelope (never 500, never a hang), then work again."""
    reg = new_region()
    tok = agency_of(reg["region"])
    qualifications(reg, 2)
    a = draw(tok, 50).json()
    d = today()                 # asked of the database: before it stops
    stack("pg-stop")
    try:
        assert_error(draw(tok, 50, frm=d, to=d), 503, "service_unavailable")
        assert_error(api("GET", "/agency/audits", headers=bearer(tok)), 503,
                     "service_unavailable")
        assert_error(api("POST", "/agency/audits/%s/items/%s/result" % (
            a["id"], a["items"][0]["id"]), headers=bearer(tok),
            json={"result": "pass"}), 503, "service_unavailable")
    finally:
        stack("pg-start")
    assert wait_for(lambda: api("GET", "/agency/audits/%s" % a["id"],
                                headers=bearer(tok)).status_code == 200)
    assert draw(tok, 50).status_code == 201


def test_reading_a_report_is_written_to_access_log():
    """Security model: the report names its sampled persons (masked), so
    each GET /agency/audits/{id} -- and the draw, whose answer is the
    report -- writes one access_log row (read, qualification) per item
    for the reader, as other reads of a person's data; another region's
    report is 404 and logs nothing."""
    reg = new_region()
    tok = agency_of(reg["region"])
    qualifications(reg, 12)
    uid = sql("SELECT id FROM users WHERE role = 'agency'"
              " AND region = '%s'", reg["region"])[0][0]   # the only one

    def logged():
        return sql("SELECT l.object_id, l.person_id FROM access_log l"
                   " WHERE l.user_id = %s AND l.object_type ="
                   " 'qualification' AND l.action = 'read'"
                   " ORDER BY l.id", uid)
    assert logged() == []
    # The draw's answer is the report, persons and all: a read too.
    a = draw(tok, 20).json()                       # 3 of 12
    want = [[str(i["qualification_id"]), sql(
        "SELECT person_id FROM qualifications WHERE id = %s",
        i["qualification_id"])[0][0]] for i in a["items"]]
    assert logged() == want and len(want) == 3
    r = api("GET", "/agency/audits/%s" % a["id"], headers=bearer(tok))
    assert r.status_code == 200, r.text
    assert r.json()["items"] == a["items"]
    assert logged() == want + want
    api("GET", "/agency/audits/%s" % a["id"], headers=bearer(tok))
    assert logged() == want * 3                    # every read
    other = agency_of(new_region()["region"])
    r = api("GET", "/agency/audits/%s" % a["id"], headers=bearer(other))
    assert_error(r, 404, "audit_not_found", "id")
    # The list is masked and not logged, as the other lists.
    assert api("GET", "/agency/audits", headers=bearer(tok)
               ).status_code == 200
    assert len(logged()) == 9
