"""Module agency, the benefit's side (issue 10): the region's
qualifications (R-BEN-1), the agency ending one (R-BEN-5), the region's
contact every page's footer shows (GET/PUT /agency/region, GET /me)."""
import pytest

from conftest import person_row_id
from conftest import (api, assert_error, assert_pages, bearer, ctl,
                      insured_login, login, new_person, new_region, sms_lines,
                      sql, submitted_application, today, unique, wait_for)


def agency_of(region):
    """A signed-in agency account of region (its token)."""
    user = unique("ag")
    ctl("user", "add", "--role", "agency", "--login", user,
        "--password", "agency-pass-1", "--region", region)
    return login(user, "agency-pass-1")["token"]


def qualification(reg, disease="D013", hospital=0, began_days_ago=30,
                  person=None):
    """An active qualification of a (new) person of region reg, begun
    began_days_ago; (person, id)."""
    p = person or new_person(region=reg["region"])
    pid = person_row_id(p["id_number"])
    qid = sql("INSERT INTO qualifications (person_id, disease, region,"
              " designated_institution, valid_from, valid_to)"
              " VALUES (%s, '%s', '%s', '%s', cn_today() - %d,"
              " cn_today() + 300) RETURNING id", pid, disease, reg["region"],
              reg["hospitals"][hospital], began_days_ago)[0][0]
    return p, int(qid)


def terminate(tok, qid, **body):
    return api("POST", "/agency/qualifications/%s/terminate" % qid,
               headers=bearer(tok), json=body)


def test_list_is_the_regions_own_newest_first_masked():
    """R-BEN-1: the agency sees its region's qualifications (disease,
    hospital, validity, status), newest first, ID numbers masked; another
    region's agency sees none of them and may not name the region."""
    reg = new_region()
    tok = agency_of(reg["region"])
    made = [qualification(reg, hospital=i % 2) for i in range(3)]
    ids = [q for _, q in reversed(made)]
    r = api("GET", "/agency/qualifications", headers=bearer(tok))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [x["id"] for x in items] == ids
    for (p, _), x in zip(reversed(made), items):
        assert x["status"] == "active" and x["region"] == reg["region"]
        assert x["disease"]["code"] == "D013" and x["disease"]["name"]
        assert x["days_left"] > 0 and x["valid_from"] and x["valid_to"]
        assert x["holder"]["id_number"] != p["id_number"]
        assert p["id_number"] not in r.text and p["phone"] not in r.text
    assert_pages("/agency/qualifications", tok, ids)
    # Filters: hospital, disease, status.
    r = api("GET", "/agency/qualifications", headers=bearer(tok),
            params={"institution": reg["hospitals"][1]})
    assert [x["id"] for x in r.json()["items"]] == [made[1][1]]
    r = api("GET", "/agency/qualifications", headers=bearer(tok),
            params={"disease": "D001"})
    assert r.json()["items"] == []
    r = api("GET", "/agency/qualifications", headers=bearer(tok),
            params={"status": "revoked"})
    assert r.json()["items"] == []
    # Another region: none of these, and naming this one is a 404.
    other = agency_of(new_region()["region"])
    r = api("GET", "/agency/qualifications", headers=bearer(other))
    assert r.status_code == 200 and r.json()["items"] == []
    assert_error(api("GET", "/agency/qualifications", headers=bearer(other),
                     params={"region": reg["region"]}),
                 404, "region_not_found", "region")
    # An admin names the region.
    admin = login("admin")["token"]
    r = api("GET", "/agency/qualifications", headers=bearer(admin),
            params={"region": reg["region"]})
    assert [x["id"] for x in r.json()["items"]] == ids
    # The insured person may not list the region's.
    assert api("GET", "/agency/qualifications", headers=bearer(
        login_insured(made[0][0]))).status_code == 403


def login_insured(p):
    return insured_login(p)["token"]


def test_list_refuses_bad_filters():
    tok = agency_of(new_region()["region"])
    for params, field in (({"status": "cancelled"}, "status"),
                          ({"disease": "d013;"}, "disease"),
                          ({"institution": "<x>"}, "institution"),
                          ({"limit": "0"}, "limit"),
                          ({"cursor": "abc"}, "cursor")):
        assert_error(api("GET", "/agency/qualifications", headers=bearer(tok),
                         params=params), 400, "field_invalid", field)


@pytest.mark.parametrize("reason,status", [
    ("cured", "terminated"), ("death", "terminated"), ("other", "terminated"),
    ("violation", "revoked"), ("audit_failed", "revoked"),
    ("expired", "expired")])
def test_agency_ends_a_qualification_by_reason(reason, status):
    """R-BEN-5: the agency ends a qualification with a reason and a note;
    the status follows the reason (revoked for a violation or a failed
    audit, expired when the period ran out, terminated otherwise), the
    benefit ends today, the person gets an SMS saying why."""
    reg = new_region()
    tok = agency_of(reg["region"])
    p, qid = qualification(reg)
    r = terminate(tok, qid, reason=reason, note="经办核查：%s" % reason)
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["id"] == qid and q["status"] == status
    assert q["end_reason"] == reason and q["ended_on"] == today().isoformat()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in q["end_reason_text"])
    assert q["end_note"] == "经办核查：%s" % reason
    assert q["days_left"] is None and q["changes_left"] is None
    assert wait_for(lambda: any(
        "终止" in m["text"] and q["end_reason_text"] in m["text"]
        for m in sms_lines(p["phone"])))
    r = api("GET", "/agency/qualifications", headers=bearer(tok),
            params={"status": status})
    assert [x["id"] for x in r.json()["items"]] == [qid]
    # Once ended it cannot end again.
    assert_error(terminate(tok, qid, reason="other", note="再次"), 409,
                 "qualification_not_active")


def test_end_date_may_be_earlier_but_not_future_nor_before_start():
    """R-BEN-5: a death reported late ends the benefit on the day it
    happened; a day in the future or before the benefit began is a 422
    date_out_of_range whose message names the bound (not "格式不正确":
    the date is well formed)."""
    reg = new_region()
    tok = agency_of(reg["region"])
    _, qid = qualification(reg, began_days_ago=30)
    tomorrow = sql("SELECT cn_today() + 1")[0][0]
    err = assert_error(terminate(tok, qid, reason="death", note="家属告知",
                                 ended_on=tomorrow),
                       422, "date_out_of_range", "ended_on")
    assert "不能晚于今天（%s）" % today() in err["message"]
    assert "格式不正确" not in err["message"]
    start = sql("SELECT valid_from FROM qualifications WHERE id = %s",
                qid)[0][0]
    err = assert_error(terminate(tok, qid, reason="death", note="家属告知",
                                 ended_on="2000-01-01"),
                       422, "date_out_of_range", "ended_on")
    assert "不能早于待遇开始日期 %s" % start in err["message"]
    assert "格式不正确" not in err["message"]
    assert sql("SELECT status FROM qualifications WHERE id = %s",
               qid) == [["active"]]
    day = sql("SELECT cn_today() - 10")[0][0]
    r = terminate(tok, qid, reason="death", note="家属告知", ended_on=day)
    assert r.status_code == 200, r.text
    assert r.json()["ended_on"] == day and r.json()["status"] == "terminated"


def test_a_benefit_not_yet_begun_ends_on_its_first_day():
    """R-BEN-5, R-BEN-1: a qualification that begins after today (a quota
    disease from the 1st of next month) can be ended: ended_on defaults
    to valid_from and may only be valid_from -- the benefit never starts.
    Today (before it began) and the day after are refused, naming the
    one date allowed."""
    reg = new_region()
    tok = agency_of(reg["region"])
    _, qid = qualification(reg, began_days_ago=-5)
    start = sql("SELECT valid_from FROM qualifications WHERE id = %s",
                qid)[0][0]
    after = sql("SELECT valid_from + 1 FROM qualifications WHERE id = %s",
                qid)[0][0]
    for day in (today().isoformat(), after):
        err = assert_error(terminate(tok, qid, reason="violation",
                                     note="冒名申报", ended_on=day),
                           422, "date_out_of_range", "ended_on")
        assert "只能是待遇开始日期 %s" % start in err["message"], err
    r = terminate(tok, qid, reason="violation", note="冒名申报")
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["ended_on"] == start and q["status"] == "revoked"
    assert q["valid_from"] == start and q["days_left"] is None
    # Naming the day itself works too (another one).
    _, qid = qualification(reg, began_days_ago=-5)
    r = terminate(tok, qid, reason="other", note="参保关系转出",
                  ended_on=start)
    assert r.status_code == 200, r.text
    assert r.json()["ended_on"] == start


def test_terminate_refuses_bad_input():
    """The agency's reasons only (voluntary is the person's own exit), a
    note, a real date; each refusal names its field in Chinese."""
    reg = new_region()
    tok = agency_of(reg["region"])
    _, qid = qualification(reg)
    assert_error(terminate(tok, qid, reason="voluntary", note="x"), 400,
                 "field_invalid", "reason")
    assert_error(terminate(tok, qid, reason="cured"), 400, "field_required",
                 "note")
    assert_error(terminate(tok, qid, reason="cured", note="  "), 400,
                 "field_invalid", "note")
    assert_error(terminate(tok, qid, note="x"), 400, "field_required",
                 "reason")
    assert_error(terminate(tok, qid, reason="cured", note="x",
                           ended_on="2025-02-30"), 400, "field_invalid",
                 "ended_on")
    assert_error(terminate(tok, qid, reason="cured", note="x", why="?"), 400,
                 "unknown_field")
    assert_error(terminate(tok, "x1", reason="cured", note="x"), 400,
                 "field_invalid", "id")
    assert_error(terminate(tok, 9 * 10 ** 15, reason="cured", note="x"), 404,
                 "qualification_not_found")
    assert sql("SELECT status FROM qualifications WHERE id = %s",
               qid) == [["active"]]


def test_another_regions_qualification_is_not_found():
    """Scope: an agency cannot end (or learn of) another region's
    qualification; an admin can end any."""
    reg = new_region()
    _, qid = qualification(reg)
    other = agency_of(new_region()["region"])
    assert_error(terminate(other, qid, reason="violation", note="x"), 404,
                 "qualification_not_found", "id")
    assert sql("SELECT status FROM qualifications WHERE id = %s",
               qid) == [["active"]]
    admin = login("admin")["token"]
    r = terminate(admin, qid, reason="other", note="管理员处理")
    assert r.status_code == 200 and r.json()["status"] == "terminated"
    assert sql("SELECT ended_by IS NOT NULL FROM qualifications"
               " WHERE id = %s", qid) == [["t"]]


def test_end_shows_on_the_applicants_timeline():
    """R-BEN-5: the exit is an event of the application the
    qualification came from: the person reads it on the timeline."""
    reg = new_region()
    tok, app = submitted_application(reg)
    sql("SELECT conclude_application(%s, true, NULL, NULL)", app["id"])
    qid = sql("SELECT id FROM qualifications WHERE application_id = %s",
              app["id"])[0][0]
    r = terminate(agency_of(reg["region"]), qid, reason="cured",
                  note="复查已治愈")
    assert r.status_code == 200, r.text
    body = api("GET", "/applications/%s" % app["id"],
               headers=bearer(tok)).json()
    texts = [x["text"] for x in body["timeline"]]
    assert any(t.startswith("待遇已于 %s" % today()) for t in texts), texts
    assert sql("SELECT actor_role, data->>'reason' FROM events"
               " WHERE application_id = %s AND type = 'qualification_ended'",
               app["id"]) == [["agency", "cured"]]


def contact(tok):
    r = api("GET", "/me", headers=bearer(tok))
    assert r.status_code == 200, r.text
    return r.json()["region"]


def test_region_contact_edited_by_the_agency_shows_in_every_footer():
    """Issue 10 §8: the agency sets its name, hotline and address; GET /me
    gives them to the region's insured, hospital staff and agency, so
    every page's footer shows a number to call."""
    reg = new_region()
    code = reg["region"]
    tok = agency_of(code)
    r = api("GET", "/agency/region", headers=bearer(tok))
    assert r.status_code == 200, r.text
    assert r.json() == {"code": code, "name": "测试%s" % code,
                        "agency_name": None, "hotline": None,
                        "agency_address": None}
    new = {"agency_name": "测试市医疗保障服务中心", "hotline": "0398-1234567",
           "agency_address": "测试市崤山路 1 号政务服务中心二楼"}
    r = api("PUT", "/agency/region", headers=bearer(tok), json=new)
    assert r.status_code == 200, r.text
    assert r.json() == dict(new, code=code, name="测试%s" % code)
    hosp = unique("hs")
    ctl("user", "add", "--role", "hospital", "--login", hosp, "--password",
        "hospital-pass-1", "--institution", reg["hospitals"][0])
    person = new_person(region=code)
    for t in (tok, login(hosp, "hospital-pass-1")["token"],
              login_insured(person)):
        assert contact(t) == dict(new, code=code, name="测试%s" % code)
    # Another region's people see their own.
    assert contact(login_insured(new_person()))["code"] == "411200"


def test_region_contact_refuses_bad_input_and_other_regions():
    reg = new_region()
    tok = agency_of(reg["region"])
    good = {"agency_name": "测试中心", "hotline": "12393",
            "agency_address": "测试路 1 号"}
    for field, bad in (("hotline", "call me"), ("hotline", "-12345"),
                       ("hotline", "1234"), ("agency_name", "a\u0007b"),
                       ("agency_name", "中" * 65),
                       ("agency_address", "路\n2 号"),
                       ("agency_address", "址" * 129)):
        assert_error(api("PUT", "/agency/region", headers=bearer(tok),
                         json=dict(good, **{field: bad})),
                     400, "field_invalid", field)
    for field in good:
        body = dict(good)
        del body[field]
        assert_error(api("PUT", "/agency/region", headers=bearer(tok),
                         json=body), 400, "field_required", field)
    other = agency_of(new_region()["region"])
    assert_error(api("PUT", "/agency/region", headers=bearer(other),
                     json=dict(good, region=reg["region"])),
                 404, "region_not_found", "region")
    assert sql("SELECT agency_name IS NULL FROM regions WHERE code = '%s'",
               reg["region"]) == [["t"]]
    admin = login("admin")["token"]
    assert_error(api("GET", "/agency/region", headers=bearer(admin)), 400,
                 "field_required", "region")
    r = api("PUT", "/agency/region", headers=bearer(admin),
            json=dict(good, region=reg["region"]))
    assert r.status_code == 200 and r.json()["hotline"] == "12393"


def test_region_contact_takes_the_documented_lengths():
    """Issue 10 §8: the agency's name up to 64 characters and its address
    up to 128 (the OpenAPI schema's), not a person's name's 32; one more
    is refused, the field named."""
    reg = new_region()
    tok = agency_of(reg["region"])
    body = {"agency_name": "医" * 64, "hotline": "0398-1234567",
            "agency_address": "河南省三门峡市湖滨区崤山路" + "号" * 115}
    assert len(body["agency_address"]) == 128
    r = api("PUT", "/agency/region", headers=bearer(tok), json=body)
    assert r.status_code == 200, r.text
    assert r.json()["agency_name"] == body["agency_name"]
    assert r.json()["agency_address"] == body["agency_address"]
    r = api("PUT", "/agency/region", headers=bearer(tok),
            json=dict(body, agency_address="三门峡市湖滨区崤山路 12 号" * 2))
    assert r.status_code == 200, r.text       # 33 characters: fine now
    for field, n in (("agency_name", 65), ("agency_address", 129)):
        err = assert_error(api("PUT", "/agency/region", headers=bearer(tok),
                               json=dict(body, **{field: "医" * n})),
                           400, "field_invalid", field)
        assert "经办机构" in err["message"]


def test_seed_regions_name_their_agency_and_a_reload_keeps_edits():
    """The seed documents name each region's agency (their letterhead);
    they give no hotline or address, so sql/ref sets none.  Reloading the
    reference data never overwrites what an agency set."""
    rows = sql("SELECT code, agency_name FROM regions WHERE code IN"
               " ('411200', '532300', '140100', '370800', '630100')"
               " ORDER BY code")
    assert dict(rows) == {"140100": "太原市医疗保险管理服务中心",
                          "370800": "济宁市医疗保险事业中心",
                          "411200": "三门峡市医疗保障服务中心",
                          "532300": "禄丰市医疗保障局",
                          "630100": "西宁市医疗保障局"}
    admin = login("admin")["token"]
    before = api("GET", "/agency/region", headers=bearer(admin),
                 params={"region": "370800"}).json()
    mine = {"agency_name": "济宁市医疗保障事业中心（测试）",
            "hotline": "0537-12345", "agency_address": "济宁市测试路 2 号",
            "region": "370800"}
    try:
        assert api("PUT", "/agency/region", headers=bearer(admin),
                   json=mine).status_code == 200
        ctl("load-reference")
        after = api("GET", "/agency/region", headers=bearer(admin),
                    params={"region": "370800"}).json()
        assert after["agency_name"] == mine["agency_name"]
        assert after["hotline"] == "0537-12345"
    finally:
        sql("UPDATE regions SET agency_name = '%s', hotline = NULL,"
            " agency_address = NULL WHERE code = '370800'",
            before["agency_name"])
