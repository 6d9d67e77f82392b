"""The hospitals' quarterly certification table (issue 11 item 3; R-SUP-2,
R-SUP-6; S4 西宁转发文 四(二): 每季度结束后10个工作日内送交): the hospital
reads its table of a quarter (JSON, and the CSV it downloads), sends it
once the quarter has ended, and the agency sees who sent it and who is
late.  Each test has a region of its own (three certifying hospitals A, B,
C); certifications are arranged with SQL (the on-site and panel endpoints
are built elsewhere), in a past quarter, at chosen China times."""
import csv
import datetime
import hashlib
import io

from conftest import id_hmac, person_row_id
from conftest import (api, assert_error, bearer, ctl, insured_login, login,
                      new_person, new_region, policy, sql, today, unique)

QUARTER = "2025Q2"          # 2025-04-01 .. 2025-06-30, long ended
PATH = "/hospital/reports/quarterly"


def staff(role, **scope):
    """A new staff account of role (hospital: institution=, agency:
    region=), signed in: its token and user id."""
    user = unique(role[:3])
    args = ["user", "add", "--role", role, "--login", user,
            "--password", "staff-pass-1"]
    for k, v in scope.items():
        args += ["--" + k, v]
    ctl(*args)
    uid = int(sql("SELECT id FROM users WHERE login = '%s'", user)[0][0])
    return login(user, "staff-pass-1")["token"], uid


def decided(reg, hospital, by, name="测试人"):
    """A person of reg and an approved application of theirs certified
    by hospital (the row a certification or panel points at)."""
    p = new_person(region=reg["region"], name=name)
    pid = person_row_id(p["id_number"])
    app = sql("INSERT INTO applications (person_id, disease, region, channel,"
              " status, review_mode, phone, medical_record_no,"
              " designated_institution, filing_institution, filed_by,"
              " certifying_institution, promised_at, submitted_at,"
              " decided_at) VALUES (%s, 'D013', '%s', 'hospital', 'approved',"
              " 'onsite', '%s', 'MR1', '%s', '%s', %s, '%s', now(), now(),"
              " now()) RETURNING id", pid, reg["region"], p["phone"],
              hospital, hospital, by, hospital)[0][0]
    return int(app), p


def certified(reg, hospital, by, at, name="测试人", conclusion="approve",
              physician="李医生"):
    """An on-site certification by hospital at China time at."""
    app, p = decided(reg, hospital, by, name)
    sql("INSERT INTO certifications (application_id, institution, diagnosis,"
        " basis, examinations, physician_name, physician_title, conclusion,"
        " reason, certified_by, certified_at) VALUES (%s, '%s', '高血压',"
        " '病史', '血压测量', $$%s$$, '副高', '%s', %s, %s,"
        " '%s'::timestamp AT TIME ZONE 'Asia/Shanghai')", app, hospital,
        physician, conclusion,
        "NULL" if conclusion == "approve" else "'不符合标准'", by, at)
    return app, p


def panel_decided(reg, hospital, by, at, experts):
    """A panel decision of hospital at China time at, members experts
    (user ids)."""
    app, p = decided(reg, hospital, by)
    sql("UPDATE applications SET review_mode = 'panel' WHERE id = %s", app)
    sql("INSERT INTO panel_decisions (application_id, institution,"
        " conclusion, decided_by, decided_at) VALUES (%s, '%s', 'approve', %s,"
        " '%s'::timestamp AT TIME ZONE 'Asia/Shanghai')", app, hospital, by,
        at)
    for e in experts:
        sql("INSERT INTO panel_members VALUES (%s, %s, 'approve', NULL)",
            app, e)
    return app, p


def expert_of(hospital, name):
    """An expert of hospital with display name name: the user id."""
    user = unique("pex")
    ctl("expert", "add", "--login", user, "--password", "expert-pass-1",
        "--institution", hospital, "--title", "副高", "--specialties", "心血管")
    sql("UPDATE users SET display_name = '%s' WHERE login = '%s'", name, user)
    return int(sql("SELECT id FROM users WHERE login = '%s'", user)[0][0])


def quarter_table(reg):
    """Hospital A's quarter: two on-site certifications (one refused, one
    of a person whose name holds a comma and a quote), a panel decision,
    and rows that must not appear: just before and just after the quarter
    in China time, and hospital B's in the quarter."""
    a, b = reg["hospitals"][0], reg["hospitals"][1]
    tok_a, uid_a = staff("hospital", institution=a)
    tok_b, uid_b = staff("hospital", institution=b)
    e1, e2 = expert_of(a, "张主任"), expert_of(a, "王主任")
    first, p1 = certified(reg, a, uid_a, "2025-04-01 00:10")
    odd, p2 = certified(reg, a, uid_a, "2025-05-10 09:30", conclusion="reject",
                        physician="=HYPERLINK(\"x\")")
    sql("UPDATE persons SET name = $$王,\"小\"明$$ WHERE id_number_hmac = '%s'",
        id_hmac(p2["id_number"]))
    panel, _ = panel_decided(reg, a, uid_a, "2025-06-30 23:50", [e1, e2])
    before, _ = certified(reg, a, uid_a, "2025-03-31 23:50")
    after, _ = certified(reg, a, uid_a, "2025-07-01 00:05")
    other, _ = certified(reg, b, uid_b, "2025-05-01 10:00")
    return {"a": (tok_a, uid_a), "b": (tok_b, uid_b), "rows": [first, odd, panel],
            "not": [before, after, other], "people": (p1, p2)}


def test_table_json_rows_of_the_quarter_masked_in_time_order():
    """R-SUP-2 / S4: the hospital's table holds every certification it made
    in the quarter (on-site and panel, China days), oldest first, ID
    numbers masked, due 10 working days after the quarter."""
    reg = new_region()
    t = quarter_table(reg)
    r = api("GET", PATH, headers=bearer(t["a"][0]), params={"quarter": QUARTER})
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["institution"]["code"] == reg["hospitals"][0]
    assert (body["quarter"], body["from"], body["to"]) == (
        QUARTER, "2025-04-01", "2025-06-30")
    assert body["due_on"] == sql(
        "SELECT add_working_days('2025-06-30', 10)")[0][0]
    assert body["ended"] is True and body["submitted"] is None
    items = body["items"]
    assert [i["application_id"] for i in items] == t["rows"]
    assert [i["mode"] for i in items] == ["onsite", "onsite", "panel"]
    assert [i["conclusion"] for i in items] == ["approve", "reject", "approve"]
    assert items[1]["name"] == "王,\"小\"明"
    assert items[2]["physician_name"] == "张主任、王主任"
    p1 = t["people"][0]["id_number"]
    assert items[0]["id_number"] == p1[:4] + "*" * 10 + p1[-4:]
    assert items[0]["insurance"] == "resident"
    assert items[0]["disease"]["code"] == "D013" and items[0]["disease"]["name"]
    assert items[0]["physician_name"] == "李医生"
    assert not set(t["not"]) & {i["application_id"] for i in items}


def test_csv_is_the_same_table_with_bom_quoting_and_logged_export():
    """R-SUP-6 / S4: the download is the same rows as CSV -- UTF-8 with a
    BOM, Chinese headers, RFC 4180 quoting of a name with a comma and a
    quote, a formula-like text defused, an attachment -- and each row's
    person is logged in access_log as exported; the JSON list is not."""
    reg = new_region()
    t = quarter_table(reg)
    tok, uid = t["a"]
    count = "SELECT count(*) FROM access_log WHERE user_id = %s"
    api("GET", PATH, headers=bearer(tok), params={"quarter": QUARTER})
    assert sql(count, uid) == [["0"]]
    js = api("GET", PATH, headers=bearer(tok),
             params={"quarter": QUARTER}).json()
    r = api("GET", PATH, headers=bearer(tok),
            params={"quarter": QUARTER, "format": "csv"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Content-Disposition"] == (
        'attachment; filename="quarterly-%s-%s.csv"' % (reg["hospitals"][0],
                                                         QUARTER))
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in r.content
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"),
                                       newline="")))
    assert rows[0] == ["申请编号", "认定时间", "姓名", "身份证号", "险种",
                       "病种编码", "病种名称", "认定方式", "认定结论", "认定医师"]
    assert len(rows) == 1 + len(js["items"])
    for row, item in zip(rows[1:], js["items"]):
        assert int(row[0]) == item["application_id"]
        assert row[2] == item["name"] and row[3] == item["id_number"]
        assert row[5] == item["disease"]["code"]
    assert rows[1][1] == "2025-04-01 00:10"
    assert rows[2][2] == "王,\"小\"明"
    assert rows[2][7:9] == ["现场认定", "不通过"]
    assert rows[2][9] == "'=HYPERLINK(\"x\")"      # not run as a formula
    assert rows[3][7:] == ["专家组评审", "通过", "张主任、王主任"]
    assert rows[1][4] == "城乡居民医保"
    logged = sql("SELECT object_id, action, person_id IS NOT NULL"
                 " FROM access_log WHERE user_id = %s AND object_type ="
                 " 'certification' ORDER BY object_id", uid)
    assert logged == [[str(a), "export", "t"] for a in sorted(t["rows"])]


def test_another_hospital_never_sees_the_rows():
    """Scope: hospital B's table of the same quarter holds only its own
    certification, as JSON and as CSV."""
    reg = new_region()
    t = quarter_table(reg)
    tok_b = t["b"][0]
    r = api("GET", PATH, headers=bearer(tok_b), params={"quarter": QUARTER})
    assert [i["application_id"] for i in r.json()["items"]] == [t["not"][2]]
    r = api("GET", PATH, headers=bearer(tok_b),
            params={"quarter": QUARTER, "format": "csv"})
    text = r.content.decode("utf-8-sig")
    for a in t["rows"]:
        assert "\r\n%d," % a not in text
    assert "\r\n%d," % t["not"][2] in text


def test_submit_once_after_the_quarter_with_the_csv_digest():
    """R-SUP-2: the hospital sends its table once the quarter has ended:
    201 with the row count and the SHA-256 of the CSV it downloads; a
    second time 409 report_already_submitted naming when; a quarter not
    ended (this one, a future one) 422 quarter_not_ended, whose GET is the
    table so far (a future one: empty)."""
    reg = new_region()
    t = quarter_table(reg)
    tok = t["a"][0]
    r = api("POST", PATH, headers=bearer(tok), json={"quarter": QUARTER})
    assert r.status_code == 201, r.text
    sent = r.json()
    assert sent["quarter"] == QUARTER and sent["row_count"] == 3
    download = api("GET", PATH, headers=bearer(tok),
                   params={"quarter": QUARTER, "format": "csv"}).content
    assert sent["sha256"] == hashlib.sha256(download).hexdigest()
    again = api("POST", PATH, headers=bearer(tok), json={"quarter": QUARTER})
    err = assert_error(again, 409, "report_already_submitted", "quarter")
    assert sent["submitted_at"][:10] in err["message"]
    js = api("GET", PATH, headers=bearer(tok), params={"quarter": QUARTER})
    assert js.json()["submitted"] == {"at": sent["submitted_at"],
                                      "row_count": 3, "sha256": sent["sha256"]}
    d = today()
    now_q = "%dQ%d" % (d.year, (d.month - 1) // 3 + 1)
    future = "%dQ1" % (d.year + 1)
    for q in (now_q, future):
        r = api("POST", PATH, headers=bearer(tok), json={"quarter": q})
        err = assert_error(r, 422, "quarter_not_ended", "quarter")
        assert q in err["message"]
    r = api("GET", PATH, headers=bearer(tok), params={"quarter": future})
    assert r.status_code == 200 and r.json()["items"] == []
    assert r.json()["ended"] is False
    # An empty quarter is sent too: zero rows, the digest of the headers.
    empty = "2024Q1"
    r = api("POST", PATH, headers=bearer(tok), json={"quarter": empty})
    assert r.status_code == 201 and r.json()["row_count"] == 0
    download = api("GET", PATH, headers=bearer(tok),
                   params={"quarter": empty, "format": "csv"}).content
    assert r.json()["sha256"] == hashlib.sha256(download).hexdigest()


def quarter_of(d):
    return "%dQ%d" % (d.year, (d.month - 1) // 3 + 1)


def test_agency_sees_submitted_late_and_pending():
    """R-SUP-2 / S4: the agency of the hospitals' region sees each
    certifying hospital's table: submitted (when, how many rows), late
    (not sent and today after due_on), pending (not due yet); late ones
    first.  due_on follows the region's quarterly_report_working_days."""
    reg = new_region()
    t = quarter_table(reg)
    a, b, c = reg["hospitals"]
    tok_ag, _ = staff("agency", region=reg["region"])
    assert api("POST", PATH, headers=bearer(t["a"][0]),
               json={"quarter": QUARTER}).status_code == 201
    r = api("GET", "/agency/reports/quarterly", headers=bearer(tok_ag),
            params={"quarter": QUARTER})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["quarter"] == QUARTER and body["region"]["code"] == reg["region"]
    states = {i["institution"]["code"]: i for i in body["items"]}
    assert set(states) == {a, b, c}
    assert states[a]["state"] == "submitted" and states[a]["row_count"] == 3
    assert states[a]["submitted_at"] and states[a]["submitted_late"] is True
    assert states[b]["state"] == states[c]["state"] == "late"
    assert states[b]["submitted_at"] is None
    assert [i["state"] for i in body["items"]] == ["late", "late", "submitted"]
    # The current quarter has not ended: nobody is late yet.
    now_q = quarter_of(today())
    r = api("GET", "/agency/reports/quarterly", headers=bearer(tok_ag),
            params={"quarter": now_q})
    assert {i["state"] for i in r.json()["items"]} == {"pending"}
    assert r.json()["ended"] is False
    # The last ended quarter (the default): late exactly when today is
    # after due_on, which moves with the region's policy.
    d = today()
    last = quarter_of(datetime.date(d.year, (d.month - 1) // 3 * 3 + 1, 1)
                      - datetime.timedelta(days=1))
    for days in ("1", "30"):
        with policy(reg["region"], "quarterly_report_working_days", days):
            r = api("GET", "/agency/reports/quarterly", headers=bearer(tok_ag))
            body = r.json()
            due = sql("SELECT add_working_days(quarter_last_day('%s'), %s)",
                      last, days)[0][0]
            assert (body["quarter"], body["due_on"]) == (last, due)
            want = "late" if d > datetime.date.fromisoformat(due) else "pending"
            assert {i["state"] for i in body["items"]} == {want}


def test_agency_of_another_region_sees_nothing():
    """Scope: another region's agency never lists these hospitals, and
    naming this region is 404; an admin names a region (400 without)."""
    reg = new_region()
    other = new_region()
    tok_other, _ = staff("agency", region=other["region"])
    r = api("GET", "/agency/reports/quarterly", headers=bearer(tok_other),
            params={"quarter": QUARTER})
    assert r.status_code == 200
    codes = {i["institution"]["code"] for i in r.json()["items"]}
    assert codes == set(other["hospitals"])
    assert not codes & set(reg["hospitals"])
    r = api("GET", "/agency/reports/quarterly", headers=bearer(tok_other),
            params={"quarter": QUARTER, "region": reg["region"]})
    assert_error(r, 404, "region_not_found", "region")
    adm = login("admin")["token"]
    r = api("GET", "/agency/reports/quarterly", headers=bearer(adm),
            params={"quarter": QUARTER})
    assert_error(r, 400, "field_required", "region")
    r = api("GET", "/agency/reports/quarterly", headers=bearer(adm),
            params={"quarter": QUARTER, "region": reg["region"]})
    assert {i["institution"]["code"] for i in r.json()["items"]} == set(
        reg["hospitals"])
    r = api("GET", "/agency/reports/quarterly", headers=bearer(adm),
            params={"quarter": QUARTER, "region": "999999"})
    assert_error(r, 404, "region_not_found", "region")


def test_bad_input_and_roles():
    """Bad input is a 400 naming the field in Chinese; only hospital staff
    read or send a hospital's table, only agency staff the overview."""
    reg = new_region()
    tok, _ = staff("hospital", institution=reg["hospitals"][0])
    for q in ("2026Q5", "2026q3", "26Q3", "2026-Q3", "2026Q3x"):
        r = api("GET", PATH, headers=bearer(tok), params={"quarter": q})
        assert_error(r, 400, "field_invalid", "quarter")
        r = api("POST", PATH, headers=bearer(tok), json={"quarter": q})
        assert_error(r, 400, "field_invalid", "quarter")
    r = api("GET", PATH, headers=bearer(tok), params={"format": "xlsx"})
    assert_error(r, 400, "field_invalid", "format")
    assert_error(api("POST", PATH, headers=bearer(tok), json={}), 400,
                 "field_required", "quarter")
    assert_error(api("POST", PATH, headers=bearer(tok),
                     json={"quarter": QUARTER, "rows": 3}), 400,
                 "unknown_field")
    tok_ag, _ = staff("agency", region=reg["region"])
    r = api("GET", "/agency/reports/quarterly", headers=bearer(tok_ag),
            params={"quarter": "2025Q0"})
    assert_error(r, 400, "field_invalid", "quarter")
    assert_error(api("GET", PATH, headers=bearer(tok_ag)), 403, "forbidden")
    assert_error(api("GET", "/agency/reports/quarterly", headers=bearer(tok)),
                 403, "forbidden")
    person = new_person(region=reg["region"])
    ins = insured_login(person)["token"]
    assert_error(api("GET", PATH, headers=bearer(ins)), 403, "forbidden")
    assert_error(api("GET", PATH), 401, "unauthenticated")
    assert_error(api("POST", PATH, json={"quarter": QUARTER}), 401,
                 "unauthenticated")
