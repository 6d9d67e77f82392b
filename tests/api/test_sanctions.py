"""Sanctions and the expert pool (issue 12 item 6 and item 8's expert
pool; R-SUP-4, S2 五, R-CER-4): POST/GET /agency/sanctions against a
person (stop benefits, recover funds), a physician (prescription rights
suspended 6 months or 5 years, S2 五(二)), an expert (disqualified) and a
hospital (certification suspended or cancelled, S2 五(三)); each has its
effect in the same transaction and ends on its date (`mtcertctl
sanctions run`, the dispatcher's job).  POST /agency/experts/{id}/suspend.

Each test has a region of its own (new_region) and an agency account of
it, so its people, experts and hospitals are its own."""
import datetime
import json
import random

from conftest import person_row_id
from conftest import (api, assert_error, bearer, complete, ctl, draft,
                      insured_login, live_assignment, login, new_expert,
                      new_person, new_region, sql, today, unique,
                      wait_for, wait_sms)

CARDIO = ["心血管"]
FORM = {"diagnosis": "冠状动脉粥样硬化性心脏病",
        "basis": "冠脉造影示前降支狭窄75%，符合认定标准",
        "examinations": "冠脉造影、心电图、心脏彩超",
        "physician_title": "副高", "conclusion": "approve"}


def agency_of(region):
    """A signed-in agency account of region (its token)."""
    user = unique("ag")
    ctl("user", "add", "--role", "agency", "--login", user,
        "--password", "agency-pass-1", "--region", region)
    return login(user, "agency-pass-1")["token"]


def hospital_staff(code):
    user = unique("hs")
    ctl("user", "add", "--role", "hospital", "--login", user,
        "--password", "hospital-pass-1", "--institution", code)
    return login(user, "hospital-pass-1")["token"]


def sanction(tok, **body):
    return api("POST", "/agency/sanctions", headers=bearer(tok), json=body)


def recorded(tok, **body):
    r = sanction(tok, **body)
    assert r.status_code == 201, r.text
    return r.json()


def listed(tok, **params):
    r = api("GET", "/agency/sanctions", headers=bearer(tok), params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def qualification(reg, person, disease="D013"):
    """An active qualification of person in region reg (its id)."""
    pid = person_row_id(person["id_number"])
    return int(sql("INSERT INTO qualifications (person_id, disease, region,"
                   " designated_institution, valid_from, valid_to)"
                   " VALUES (%s, '%s', '%s', '%s', cn_today() - 30,"
                   " cn_today() + 300) RETURNING id", pid, disease,
                   reg["region"], reg["hospitals"][0])[0][0])


def end_yesterday(sid):
    """The sanction's last day moved back to yesterday, then the job
    (`mtcertctl sanctions run`; the dispatcher's own run may come first:
    then ctl finds nothing left)."""
    sql("UPDATE sanctions SET valid_from = least(valid_from, cn_today() - 2),"
        " valid_to = cn_today() - 1 WHERE id = %s", sid)
    out = json.loads(ctl("sanctions", "run").stdout)
    assert out["ended"] >= 0, out
    assert state(sid) == ["ended", "t"]


def state(sid):
    return sql("SELECT state, ended_at IS NOT NULL FROM sanctions"
               " WHERE id = %s", sid)[0]


def onsite_draft(reg, hosp_tok, hospital):
    """A person of reg and the on-site draft hospital files for D013."""
    sql("UPDATE region_diseases SET review_mode = 'onsite' WHERE region ="
        " '%s' AND disease = 'D013'", reg["region"])
    p = new_person(region=reg["region"], name="赵德胜")
    r = api("POST", "/hospital/applications", headers=bearer(hosp_tok), json={
        "id_number": p["id_number"], "name": p["name"],
        "disease_code": "D013", "phone": p["phone"],
        "medical_record_no": "SA-%d" % random.randint(1, 10**6),
        "designated_institution": hospital})
    assert r.status_code == 201, r.text
    return complete(hosp_tok, r.json())


def certify(tok, app_id, physician="李明"):
    return api("POST", "/hospital/certifications", headers=bearer(tok),
               json=dict(FORM, application_id=app_id,
                         physician_name=physician))


def test_stop_benefit_ends_the_qualifications_r_sup_4():
    """R-SUP-4, S2 五(一): 停止享受待遇 -- every active qualification of the
    person in the region ends with reason 'violation' in the same
    transaction, the person gets the SMS, the sanction is listed with the
    ID number masked; it is permanent (not undone by the job)."""
    reg = new_region()
    tok = agency_of(reg["region"])
    p = new_person(region=reg["region"], name="钱有财")
    q1, q2 = qualification(reg, p, "D013"), qualification(reg, p, "D015")
    s = recorded(tok, subject_type="person", subject=p["id_number"],
                 kind="stop_benefit", reason="冒用他人身份认定")
    assert s["kind"] == "stop_benefit" and s["kind_text"] == "停止享受门诊慢特病待遇"
    assert s["state"] == "active" and s["valid_to"] is None
    assert s["subject"]["name"] == "钱有财"
    assert s["subject"]["id_number"] != p["id_number"]
    assert "*" in s["subject"]["id_number"]
    assert sql("SELECT status, end_reason FROM qualifications WHERE id IN"
               " (%s, %s)", q1, q2) == [["revoked", "violation"]] * 2
    texts = [m["text"] for m in wait_sms(p["phone"], 2)]
    assert sum("终止" in t for t in texts) == 2, texts
    assert [x["id"] for x in listed(tok)] == [s["id"]]
    assert listed(tok, subject_type="expert") == []


def test_recover_funds_records_the_amount_and_tells_the_person():
    """R-SUP-4 (S2 五(一) 追回医保基金): the amount in yuan with two
    decimals is recorded and shown; the person is told by SMS; the
    qualification stays; an amount is required for it and refused for
    another kind."""
    reg = new_region()
    tok = agency_of(reg["region"])
    p = new_person(region=reg["region"])
    q = qualification(reg, p)
    s = recorded(tok, subject_type="person", subject=p["id_number"],
                 kind="recover_funds", amount="1280.5",
                 reason="虚开检查单据骗取基金")
    assert s["amount"] == 1280.50
    assert sql("SELECT amount_cents FROM sanctions WHERE id = %s",
               s["id"]) == [["128050"]]
    msg = wait_sms(p["phone"], 1)[-1]
    assert msg["template"] == "sanction_recover" and "1280.50元" in msg["text"]
    assert sql("SELECT status FROM qualifications WHERE id = %s", q) == \
        [["active"]]
    err = assert_error(sanction(tok, subject_type="person",
                                subject=p["id_number"], kind="recover_funds",
                                reason="x"), 400, "field_required", "amount")
    assert "追回金额" in err["message"]
    assert_error(sanction(tok, subject_type="person", subject=p["id_number"],
                          kind="stop_benefit", amount="10", reason="x"),
                 400, "field_invalid", "amount")
    for bad in ("0", "-5", "1.234", "12a", "1e3", "1.", 12.5):
        assert_error(sanction(tok, subject_type="person",
                              subject=p["id_number"], kind="recover_funds",
                              amount=bad, reason="x"), 400, "field_invalid",
                     "amount")


def test_physician_suspended_six_months_cannot_sign_a_form_s2_5_2():
    """S2 五(二): a physician's prescription rights are suspended for
    prescription_suspend_months (6) -- 5 years (60) when severe; the
    hospital's on-site form naming the physician is refused (422
    physician_suspended, the name and the last day said), another
    physician of the hospital certifies; after the last day the job ends
    it and the physician signs again."""
    reg = new_region()
    tok = agency_of(reg["region"])
    a, b, _ = reg["hospitals"]
    s = recorded(tok, subject_type="physician", subject="李明",
                 institution=a, license_no="110420000123",
                 kind="suspend_prescription", reason="违规出具认定意见")
    t = today()
    six = datetime.date(t.year + (t.month + 5) // 12, (t.month + 5) % 12 + 1,
                        1)
    assert s["valid_from"] == t.isoformat()
    last = datetime.date.fromisoformat(s["valid_to"])
    assert 181 <= (last - t).days + 1 <= 184 and last < six + \
        datetime.timedelta(days=t.day), s
    assert s["subject"] == {"name": "李明", "license_no": "110420000123"}
    assert s["institution"]["code"] == a
    severe = recorded(tok, subject_type="physician", subject="王强",
                      institution=a, kind="suspend_prescription",
                      severe=True, reason="情节严重")
    years = datetime.date.fromisoformat(severe["valid_to"]) - t
    assert 1820 <= years.days <= 1828, severe
    hosp = hospital_staff(a)
    app = onsite_draft(reg, hosp, a)
    err = assert_error(certify(hosp, app["id"]), 422, "physician_suspended",
                       "physician_name")
    assert "李明" in err["message"] and s["valid_to"] in err["message"]
    # The same name at another hospital is another physician.
    other = onsite_draft(reg, hospital_staff(b), b)
    assert certify(hospital_staff(b), other["id"]).status_code == 201
    end_yesterday(s["id"])
    assert state(s["id"]) == ["ended", "t"]
    r = certify(hosp, app["id"])
    assert r.status_code == 201, r.text


def test_sanctioned_expert_is_never_drawn_and_back_after_the_date():
    """R-SUP-4 / R-SUP-7: a disqualified expert (until a date) is
    'suspended' and not in the next draw's recorded pool; when the date
    has passed the job makes the expert active again with a clean count;
    one disqualified for good stays 'disqualified'."""
    reg = new_region()
    tok = agency_of(reg["region"])
    adm = login("admin")["token"]
    e1 = new_expert(adm, reg["hospitals"][1], CARDIO)
    phone = "137%08d" % random.randint(0, 99999999)
    sql("UPDATE experts SET phone = '%s' WHERE user_id = %s", phone, e1["id"])
    e2 = new_expert(adm, reg["hospitals"][2], CARDIO)
    e3 = new_expert(adm, reg["hospitals"][2], CARDIO)
    until = (today() + datetime.timedelta(days=30)).isoformat()
    s = recorded(tok, subject_type="expert", subject=str(e1["id"]),
                 kind="disqualify_expert", valid_to=until,
                 reason="评审中收受好处")
    assert s["subject"]["status"] == "suspended"
    forever = recorded(tok, subject_type="expert", subject=str(e3["id"]),
                       kind="disqualify_expert", reason="伪造评审意见")
    assert forever["subject"]["status"] == "disqualified"
    pool = api("GET", "/agency/experts", headers=bearer(tok)).json()["items"]
    got = {x["id"]: x for x in pool}
    assert got[e1["id"]]["status"] == "suspended"
    assert got[e1["id"]]["status_reason"] == "评审中收受好处"
    p = new_person(region=reg["region"])
    ptok = insured_login(p)["token"]
    app = complete(ptok, draft(ptok, institution=reg["hospitals"][0]))
    assert api("POST", "/applications/%s/submit" % app["id"],
               headers=bearer(ptok),
               json={"promise": True}).status_code == 200
    live = live_assignment(app["id"])
    assert live["expert"] == e2["id"]
    pool_ids = sql("SELECT pool FROM draws WHERE application_id = %s"
                   " ORDER BY id LIMIT 1", app["id"])[0][0]
    assert pool_ids == "{%d}" % e2["id"], pool_ids
    sql("UPDATE experts SET consecutive_misses = 1 WHERE user_id = %s",
        e1["id"])
    end_yesterday(s["id"])
    assert sql("SELECT status, consecutive_misses, status_reason IS NULL"
               " FROM experts WHERE user_id = %s", e1["id"]) == \
        [["active", "0", "t"]]
    # Disqualified for good: the job leaves it.
    assert sql("SELECT status FROM experts WHERE user_id = %s",
               e3["id"]) == [["disqualified"]]
    texts = [m["template"] for m in wait_sms(phone, 2)]
    assert texts == ["sanction_expert", "sanction_ended"], texts
    assert listed(tok, state="ended")[0]["id"] == s["id"]


def test_suspended_hospital_cannot_certify_until_the_date():
    """Issue 12's done-when, S2 五(三): a hospital whose certification is
    suspended cannot certify -- on site and in a panel 403
    institution_not_authorized, a submission naming it 422
    designated_not_certifying; the job restores it after the last day,
    unless another sanction still holds; a revocation is never undone."""
    reg = new_region()
    tok = agency_of(reg["region"])
    a, b, c = reg["hospitals"]
    hosp = hospital_staff(a)
    # A panel case submitted to A before the sanction (D015 in panel
    # mode), an on-site draft of A for D013.
    sql("UPDATE region_diseases SET review_mode = 'panel' WHERE region ="
        " '%s' AND disease = 'D015'", reg["region"])
    q = new_person(region=reg["region"])
    qtok = insured_login(q)["token"]
    case = complete(qtok, draft(qtok, disease="D015", institution=a))
    r = api("POST", "/applications/%s/submit" % case["id"],
            headers=bearer(qtok), json={"promise": True})
    assert r.status_code == 200, r.text
    app = onsite_draft(reg, hosp, a)
    until = (today() + datetime.timedelta(days=90)).isoformat()
    s = recorded(tok, subject_type="institution", subject=a,
                 kind="suspend_certification", valid_to=until,
                 reason="违规办理认定")
    assert s["subject"]["certification_status"] == "suspended"
    err = assert_error(certify(hosp, app["id"]), 403,
                       "institution_not_authorized")
    assert "暂停" in err["message"]
    err = assert_error(api("POST", "/hospital/panel-decisions",
                           headers=bearer(hosp), json={
                               "application_id": case["id"],
                               "conclusion": "approve",
                               "members": [{"expert_id": 1,
                                            "opinion": "approve"}]}),
                       403, "institution_not_authorized")
    assert "暂停" in err["message"]
    assert sql("SELECT status, reason FROM authorization_log WHERE"
               " institution = '%s' AND disease IS NULL", a) == \
        [["suspended", "违规处理第 %d 号：违规办理认定" % s["id"]]]
    # Not made active again by hand while the sanction holds (409, nothing
    # changed): only its end restores the hospital.
    held = sql("SELECT disease, status FROM institution_diseases"
               " WHERE institution = '%s' ORDER BY disease", a)
    err = assert_error(api("PUT", "/agency/institutions/%s/diseases" % a,
                           headers=bearer(tok), json={
                               "certification_status": "active",
                               "diseases": [{"code": d, "status": st}
                                            for d, st in held]}),
                       409, "institution_sanctioned", "certification_status")
    assert "期满" in err["message"]
    assert sql("SELECT certification_status FROM institutions WHERE code ="
               " '%s'", a) == [["suspended"]]
    # Submission to it (an on-site disease designating it).
    p = new_person(region=reg["region"])
    ptok = insured_login(p)["token"]
    r = api("POST", "/applications", headers=bearer(ptok), json={
        "disease_code": "D013", "phone": p["phone"],
        "medical_record_no": "MR-9", "designated_institution": a})
    assert_error(r, 422, "designated_not_certifying")
    # Two suspensions: the first ending leaves the second holding.
    s2 = recorded(tok, subject_type="institution", subject=a,
                  kind="suspend_certification", valid_to=until,
                  reason="第二次违规")
    end_yesterday(s["id"])
    assert sql("SELECT certification_status FROM institutions WHERE code ="
               " '%s'", a) == [["suspended"]]
    end_yesterday(s2["id"])
    assert sql("SELECT certification_status FROM institutions WHERE code ="
               " '%s'", a) == [["active"]]
    r = certify(hosp, app["id"])
    assert r.status_code == 201, r.text
    # Revoked for good: no last day allowed, nothing to undo.
    assert_error(sanction(tok, subject_type="institution", subject=b,
                          kind="revoke_certification", valid_to=until,
                          reason="x"), 400, "field_invalid", "valid_to")
    rv = recorded(tok, subject_type="institution", subject=b,
                  kind="revoke_certification", reason="严重违规")
    assert rv["subject"]["certification_status"] == "revoked"
    json.loads(ctl("sanctions", "run").stdout)
    assert sql("SELECT certification_status FROM institutions WHERE code ="
               " '%s'", b) == [["revoked"]]


def test_expert_pool_suspend_and_reinstate_r_cer_4():
    """R-CER-4: the agency suspends an expert with a reason (out of the
    pool), reinstates (active, clean count); another region's expert is
    404; a reason is required."""
    reg = new_region()
    tok = agency_of(reg["region"])
    adm = login("admin")["token"]
    e = new_expert(adm, reg["hospitals"][0], CARDIO)
    path = "/agency/experts/%d/" % e["id"]
    assert_error(api("POST", path + "suspend", headers=bearer(tok), json={}),
                 400, "field_required", "reason")
    r = api("POST", path + "suspend", headers=bearer(tok),
            json={"reason": "连续多次不受理任务"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "suspended"
    assert r.json()["status_reason"] == "连续多次不受理任务"
    r = api("POST", path + "reinstate", headers=bearer(tok))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active" and r.json()["status_reason"] is None
    other = agency_of(new_region()["region"])
    assert_error(api("POST", path + "suspend", headers=bearer(other),
                     json={"reason": "x"}), 404, "expert_not_found")


def test_another_regions_subject_is_not_found():
    """Scope: a person, expert, hospital or physician's hospital of
    another region is a 404 sanction_subject_not_found; nothing is
    recorded; the list shows the region's own only."""
    home, far = new_region(), new_region()
    tok = agency_of(home["region"])
    adm = login("admin")["token"]
    p = new_person(region=far["region"])
    e = new_expert(adm, far["hospitals"][0], CARDIO)
    for body in ({"subject_type": "person", "subject": p["id_number"],
                  "kind": "stop_benefit"},
                 {"subject_type": "expert", "subject": str(e["id"]),
                  "kind": "disqualify_expert"},
                 {"subject_type": "expert", "subject": "abc",
                  "kind": "disqualify_expert"},
                 {"subject_type": "institution",
                  "subject": far["hospitals"][0],
                  "kind": "suspend_certification"},
                 {"subject_type": "physician", "subject": "李明",
                  "institution": far["hospitals"][0],
                  "kind": "suspend_prescription"}):
        err = assert_error(sanction(tok, reason="越权", **body), 404,
                           "sanction_subject_not_found")
        assert "统筹区" in err["message"]
    assert listed(tok) == []
    assert sql("SELECT count(*) FROM sanctions WHERE region = '%s'",
               far["region"]) == [["0"]]
    recorded(agency_of(far["region"]), subject_type="person",
             subject=p["id_number"], kind="recover_funds", amount="10",
             reason="本区")
    assert listed(tok) == []


def test_a_person_subject_too_long_to_be_an_id_number_is_not_found():
    """A person's subject longer than any ID number (the field takes 64)
    is nobody: 404 sanction_subject_not_found, not a 503 for the lookup
    HMAC the identity keys refuse to make of it."""
    tok = agency_of(new_region()["region"])
    assert_error(sanction(tok, subject_type="person", subject="1" * 40,
                          kind="stop_benefit", reason="过长"),
                 404, "sanction_subject_not_found")


def test_bad_input_is_a_4xx_in_chinese():
    """Bad input: 400 with the field named, 422 for a kind that does not
    fit the subject or dates out of range -- never a 500; the role is
    checked."""
    reg = new_region()
    tok = agency_of(reg["region"])
    p = new_person(region=reg["region"])
    base = {"subject_type": "person", "subject": p["id_number"],
            "kind": "stop_benefit", "reason": "违规"}
    for field, value, status in (
            ("subject_type", "dog", 400), ("kind", "fine", 400),
            ("reason", "", 400), ("valid_from", "2026-13-01", 400),
            ("months", 0, 400), ("months", 121, 400), ("months", "6", 400),
            ("severe", "yes", 400), ("license_no", "证-1", 400),
            ("institution", "bad code", 400), ("extra", 1, 400)):
        body = dict(base, **{field: value})
        r = sanction(tok, **body)
        assert r.status_code == status, (field, value, r.text)
        assert r.json()["error"]["message"]
    for field in ("subject_type", "subject", "kind", "reason"):
        body = dict(base)
        del body[field]
        assert_error(sanction(tok, **body), 400, "field_required", field)
    err = assert_error(sanction(tok, **dict(base, kind="suspend_prescription")),
                       422, "sanction_kind_invalid", "kind")
    assert "暂停医保处方权" in err["message"]
    tomorrow = (today() + datetime.timedelta(days=1)).isoformat()
    yesterday = (today() - datetime.timedelta(days=1)).isoformat()
    assert_error(sanction(tok, **dict(base, valid_from=tomorrow)), 422,
                 "date_out_of_range", "valid_from")
    assert_error(sanction(tok, subject_type="expert", subject="1",
                          kind="disqualify_expert", valid_to=yesterday,
                          reason="x"), 422, "date_out_of_range", "valid_to")
    assert_error(sanction(tok, subject_type="physician", subject="李明",
                          kind="suspend_prescription", reason="x"),
                 400, "field_required", "institution")
    for params in ({"state": "open"}, {"subject_type": "x"},
                   {"limit": "0"}, {"cursor": "x"}):
        r = api("GET", "/agency/sanctions", headers=bearer(tok),
                params=params)
        assert r.status_code == 400, (params, r.text)
    ptok = insured_login(p)["token"]
    assert sanction(ptok, **base).status_code == 403
    assert api("GET", "/agency/sanctions",
               headers=bearer(ptok)).status_code == 403
    assert sql("SELECT count(*) FROM sanctions WHERE region = '%s'",
               reg["region"]) == [["0"]]


def test_the_dispatcher_ends_sanctions_on_its_own():
    """The dispatcher's job (every 15 s, at start too) ends a sanction past
    its last day without mtcertctl: the hospital is active again."""
    reg = new_region()
    tok = agency_of(reg["region"])
    h = reg["hospitals"][2]
    s = recorded(tok, subject_type="institution", subject=h,
                 kind="suspend_certification", months=3, reason="限期整改")
    assert s["valid_to"] > today().isoformat()
    sql("UPDATE sanctions SET valid_from = cn_today() - 100,"
        " valid_to = cn_today() - 1 WHERE id = %s", s["id"])
    assert wait_for(lambda: state(s["id"])[0] == "ended"), state(s["id"])
    assert sql("SELECT certification_status FROM institutions WHERE code ="
               " '%s'", h) == [["active"]]


def test_a_sanctioned_expert_is_not_reinstated_before_the_date():
    """R-SUP-4: a disqualification takes effect until its date (or for
    good); the expert pool's reinstate cannot lift it early (409
    expert_sanctioned, the expert stays out of the pool); once the job
    ended the sanction, reinstate works again."""
    reg = new_region()
    tok = agency_of(reg["region"])
    adm = login("admin")["token"]
    e = new_expert(adm, reg["hospitals"][0], CARDIO)
    until = (today() + datetime.timedelta(days=30)).isoformat()
    s = recorded(tok, subject_type="expert", subject=str(e["id"]),
                 kind="disqualify_expert", valid_to=until, reason="收受好处")
    path = "/agency/experts/%d/reinstate" % e["id"]
    for who in (tok, adm):
        assert_error(api("POST", path, headers=bearer(who)), 409,
                     "expert_sanctioned")
    assert sql("SELECT status FROM experts WHERE user_id = %s",
               e["id"]) == [["suspended"]]
    end_yesterday(s["id"])
    r = api("POST", path, headers=bearer(tok))
    assert r.status_code == 200, r.text
    assert_error(api("POST", "/agency/experts/999999999/reinstate",
                     headers=bearer(tok)), 404, "expert_not_found")
