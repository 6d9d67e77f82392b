"""On-site certification and its archive (issue 11 items 2 and 3, the
hospital's half): R-CER-8 (hospitals certify on site), R-CER-11 (the
agency confirms after), R-CER-13 (cross-region, S4 一), R-SUP-6 (the
archive, S4 三), S1 现场确认备案, S4 医疗鉴定 and its 认定表."""
import random

from conftest import (api, assert_error, bearer, complete, insured_login,
                      login, new_person, policy, sql, today, upload,
                      wait_sms)

PW = "mtcert-hospital-2026"


def staff(login_name):
    return login(login_name, PW)["token"]


def hospital_files(tok, person, disease, designated):
    """The hospital files for the person (POST /hospital/applications)
    and uploads every required material: the draft it certifies."""
    r = api("POST", "/hospital/applications", headers=bearer(tok), json={
        "id_number": person["id_number"], "name": person["name"],
        "disease_code": disease, "phone": person["phone"],
        "medical_record_no": "OS-%d" % random.randint(1, 10**6),
        "designated_institution": designated})
    assert r.status_code == 201, r.text
    return complete(tok, r.json())


def form(app_id, conclusion="approve", **kw):
    body = {"application_id": app_id,
            "diagnosis": "冠状动脉粥样硬化性心脏病",
            "basis": "冠脉造影示前降支狭窄75%，符合认定标准",
            "examinations": "冠脉造影、心电图、心脏彩超",
            "physician_name": "李明", "physician_title": "副高",
            "conclusion": conclusion}
    body.update(kw)
    return body


def certify(tok, body, **kw):
    return api("POST", "/hospital/certifications", headers=bearer(tok),
               json=body, **kw)


def test_xining_hospital_certifies_on_site_and_qualification_starts_today():
    """R-CER-8, S4 二 (医疗鉴定 → 认定表 → 影像资料上传 → 享受待遇): 青海省
    人民医院 certifies a Xining person on site; the qualification starts
    the same day (benefit_start), the person gets the SMS, the result
    waits for the agency's confirmation (R-CER-11), and the form and the
    images stay in the archive."""
    hosp = staff("hospital-qhph")
    p = new_person("630100", "陈玉梅")
    app = hospital_files(hosp, p, "D013", "H63010200143")
    assert app["status"] == "draft" and app["review_mode"] == "onsite"
    r = certify(hosp, form(app["id"]))
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["application_id"] == app["id"]
    assert c["status"] == "approved"
    assert c["institution"] == {"code": "H63010200143", "name": "青海省人民医院"}
    assert c["person"]["name"] == "陈玉梅"
    assert c["person"]["id_number"] != p["id_number"]
    assert "*" in c["person"]["id_number"]
    assert c["region"]["code"] == "630100"
    assert c["disease"]["code"] == "D013"
    assert c["form"]["physician_title"] == "副高"
    assert c["form"]["conclusion"] == "approve" and c["form"]["reason"] is None
    assert c["confirmation"] == "pending"
    q = c["qualification"]
    assert q["status"] == "active"
    assert q["valid_from"] == today().isoformat()
    assert len(c["materials"]) == len(app["materials"]) > 0
    assert {"id", "kind", "name", "media_type", "size"} <= set(c["materials"][0])
    # The person's SMS says from which day.
    texts = [m["text"] for m in wait_sms(p["phone"], 1)]
    assert any("已通过" in t and q["valid_from"] in t for t in texts), texts
    # The timeline names the hospital and the agency's confirmation.
    tok = insured_login(p)["token"]
    v = api("GET", "/applications/%s" % app["id"], headers=bearer(tok)).json()
    types = [e["type"] for e in v["timeline"]]
    assert "certified_onsite" in types and "awaiting_confirmation" in types
    assert "approved" in types
    assert any("青海省人民医院" in e["text"] for e in v["timeline"]
               if e["type"] == "certified_onsite")
    assert v["confirmation"] == "pending"
    assert v["certifying_institution"]["code"] == "H63010200143"
    # The images are readable by the hospital (GET /materials/{id}).
    m = c["materials"][0]["id"]
    assert api("GET", "/materials/%s" % m,
               headers=bearer(hosp)).status_code == 200
    # Certified once: a second form is 409.
    assert_error(certify(hosp, form(app["id"])), 409,
                 "not_awaiting_certification")


def test_reject_needs_a_reason_and_tells_the_person():
    """S4 认定表 结论: a rejection states the reason (400 without it), the
    application is rejected with it and the person gets the SMS."""
    hosp = staff("hospital-qhph")
    p = new_person("630100", "马德明")
    app = hospital_files(hosp, p, "D015", "H63010200143")
    err = assert_error(certify(hosp, form(app["id"], "reject")), 400,
                       "field_required", "reason")
    assert "理由" in err["message"]
    r = certify(hosp, form(app["id"], "reject", reason="血压记录不足，未达3级"))
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["status"] == "rejected" and c["qualification"] is None
    assert c["form"]["reason"] == "血压记录不足，未达3级"
    assert c["confirmation"] == "pending"
    texts = [m["text"] for m in wait_sms(p["phone"], 1)]
    assert any("未通过" in t and "血压记录不足" in t for t in texts), texts


def test_reason_is_some_text():
    """A reason that is empty, only spaces or carries control characters
    is a 400 naming reason, on a rejection and on an approval (no 500
    from the table's check); nothing is certified."""
    hosp = staff("hospital-qhph")
    p = new_person("630100", "马德亮")
    app = hospital_files(hosp, p, "D015", "H63010200143")
    for reason in ("", "   ", " \n ", "理由\x01"):
        r = certify(hosp, form(app["id"], "reject", reason=reason))
        assert r.status_code == 400, (reason, r.text)
        assert r.json()["error"]["code"] in ("field_required",
                                             "field_invalid"), r.text
        assert r.json()["error"]["field"] == "reason", r.text
    r = certify(hosp, form(app["id"], reason=""))
    assert r.status_code != 500, r.text
    assert_error(r, 400, "field_invalid", "reason")
    assert sql("SELECT count(*) FROM certifications WHERE application_id"
               " = %s", app["id"]) == [["0"]]
    r = certify(hosp, form(app["id"], "reject", reason=" 血压记录不足 "))
    assert r.status_code == 201, r.text
    assert r.json()["form"]["reason"] == "血压记录不足"


def test_unauthorized_disease_is_refused_with_the_reason():
    """R-CER-8, S1 二(四): 禄丰市人民医院 (level 2) is not authorized for the
    special disease 恶性肿瘤; 康宁医院 is limited to 重性精神疾病, so 癫痫 and
    高血压 are refused (403 with the reason in Chinese), at filing and at
    certification; nothing is recorded."""
    lf = staff("hospital-lfrm")
    kn = staff("hospital-kangning")
    for tok, disease, ok_disease, inst in (
            (lf, "D001", "D013", "H53230000001"),
            (kn, "D031", "D006", "H53230000001"),
            (kn, "D015", "D006", "H53230000001")):
        p = new_person("532300", "杨丽华")
        r = api("POST", "/hospital/applications", headers=bearer(tok), json={
            "id_number": p["id_number"], "name": p["name"],
            "disease_code": disease, "phone": p["phone"],
            "medical_record_no": "OS-1", "designated_institution": inst})
        err = assert_error(r, 403, "institution_not_authorized")
        assert "授权" in err["message"]
        # A draft of an authorized disease whose disease is changed behind
        # the API's back (as an authorization revoked meanwhile would):
        # the certification checks again.
        app = hospital_files(tok, p, ok_disease, inst)
        sql("UPDATE applications SET disease = '%s' WHERE id = %s",
            disease, app["id"])
        err = assert_error(certify(tok, form(app["id"])), 403,
                           "institution_not_authorized")
        assert "未获得该病种的认定授权" in err["message"]
        assert sql("SELECT count(*) FROM certifications"
                   " WHERE application_id = %s", app["id"]) == [["0"]]
        assert sql("SELECT status FROM applications WHERE id = %s",
                   app["id"]) == [["draft"]]


def test_suspended_authorization_is_refused():
    """R-SUP-4 via certification_refusal: a suspended authorization
    certifies nothing until restored."""
    hd = staff("hospital-hdyy")
    p = new_person("630200", "祁永福")
    app = hospital_files(hd, p, "D044", "H63020000001")
    sql("UPDATE institution_diseases SET status = 'suspended'"
        " WHERE institution = 'H63020000001' AND disease = 'D044'")
    try:
        err = assert_error(certify(hd, form(app["id"])), 403,
                           "institution_not_authorized")
        assert "暂停" in err["message"]
    finally:
        sql("UPDATE institution_diseases SET status = 'active'"
            " WHERE institution = 'H63020000001' AND disease = 'D044'")
    assert certify(hd, form(app["id"])).status_code == 201


def test_province_wide_hospital_certifies_a_person_of_another_region():
    """R-CER-13, S4 一: 青海省人民医院 (省属, province-wide) certifies a
    person insured in 海东 (630200); the qualification belongs to 630200,
    whose agency sees it."""
    hosp = staff("hospital-qhph")
    p = new_person("630200", "祁永福")
    app = hospital_files(hosp, p, "D013", "H63010200143")
    r = certify(hosp, form(app["id"]))
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["region"]["code"] == "630200"
    q = c["qualification"]
    assert sql("SELECT region FROM qualifications WHERE id = %s",
               q["id"]) == [["630200"]]
    hd = login("agency-haidong", "mtcert-agency-2026")["token"]
    ids = []
    path = "/agency/qualifications?limit=200"
    while path:
        page = api("GET", path, headers=bearer(hd)).json()
        ids += [x["id"] for x in page["items"]]
        path = page["next_cursor"] and \
            "/agency/qualifications?limit=200&cursor=%s" % page["next_cursor"]
        if q["id"] in ids:
            break
    assert q["id"] in ids


def test_city_hospital_cannot_certify_another_region_nor_province():
    """R-CER-13: 西宁市城北区中医院 is not province-wide: a 海东 person is
    refused with the reason; a person of another province is refused by
    any hospital."""
    other = "hosp-cb-%d" % random.randint(1, 10**9)
    from conftest import ctl
    ctl("user", "add", "--role", "hospital", "--login", other,
        "--password", "hospital-pass-2", "--institution", "H63010500670")
    cb = login(other, "hospital-pass-2")["token"]
    p = new_person("630200", "祁永福")
    # Filed by the province hospital for its own designation, then the
    # city hospital tries: not its application (404).
    qh = staff("hospital-qhph")
    app = hospital_files(qh, p, "D013", "H63010200143")
    assert_error(certify(cb, form(app["id"])), 404, "application_not_found",
                 "application_id")
    # A 海东 person's application certified by the city hospital itself
    # (arranged: filed by it) is refused with the reason.
    p2 = new_person("630200", "祁永福")
    app2 = hospital_files(qh, p2, "D013", "H63010200143")
    sql("UPDATE applications SET filing_institution = 'H63010500670'"
        " WHERE id = %s", app2["id"])
    err = assert_error(certify(cb, form(app2["id"])), 403,
                       "institution_not_authorized")
    assert "不是省级认定机构" in err["message"]
    # Another province (西宁 hospital, 禄丰 person): refused.
    p3 = new_person("532300", "杨丽华")
    lf = staff("hospital-lfrm")
    app3 = hospital_files(lf, p3, "D013", "H53230000001")
    sql("UPDATE applications SET filing_institution = 'H63010200143'"
        " WHERE id = %s", app3["id"])
    err = assert_error(certify(qh, form(app3["id"])), 403,
                       "institution_not_authorized")
    assert "不属于本省" in err["message"]


def test_online_application_waits_for_its_hospital_then_is_certified():
    """R-CER-8 and mark_first_push: an onsite application the person
    submitted online waits for the designated hospital (listed as waiting,
    never pushed to experts); the hospital certifies it; the list moves it
    to done.  Another hospital sees none of it (404)."""
    hosp = staff("hospital-qhph")
    p = new_person("630100", "韩志军")
    tok = insured_login(p)["token"]
    r = api("POST", "/applications", headers=bearer(tok), json={
        "disease_code": "D013", "phone": p["phone"],
        "medical_record_no": "MR-1", "designated_institution": "H63010200143"})
    assert r.status_code == 201, r.text
    app = complete(tok, r.json())
    r = api("POST", "/applications/%s/submit" % app["id"],
            headers=bearer(tok), json={"promise": True})
    assert r.status_code == 200, r.text
    waiting = api("GET", "/hospital/certifications?state=waiting&limit=200",
                  headers=bearer(hosp)).json()["items"]
    mine = [x for x in waiting if x["application_id"] == app["id"]]
    assert len(mine) == 1 and mine[0]["status"] == "submitted"
    assert mine[0]["certified_at"] is None and mine[0]["conclusion"] is None
    assert "*" in mine[0]["person"]["id_number"]
    assert sql("SELECT count(*) FROM assignments WHERE application_id = %s",
               app["id"]) == [["0"]]
    # The person cannot add to it any more; the hospital may add its own
    # images to it, then certify.
    assert_error(upload(tok, app["id"], app["materials"][0]["kind"]), 409,
                 "application_not_editable")
    r = upload(hosp, app["id"], app["materials"][0]["kind"])
    assert r.status_code == 201, r.text
    r = certify(hosp, form(app["id"]))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "approved"
    assert len(r.json()["materials"]) == len(app["materials"]) + 1
    done = api("GET", "/hospital/certifications?state=done&limit=200",
               headers=bearer(hosp)).json()["items"]
    assert [x["conclusion"] for x in done
            if x["application_id"] == app["id"]] == ["approve"]
    waiting = api("GET", "/hospital/certifications?state=waiting&limit=200",
                  headers=bearer(hosp)).json()["items"]
    assert app["id"] not in [x["application_id"] for x in waiting]
    # Only the certifying hospital adds images, and only while it waits:
    # the person is 409 (decided), the certifying hospital now 404 (the
    # application was never in its filing scope), another hospital 404.
    assert_error(upload(tok, app["id"], app["materials"][0]["kind"]), 409,
                 "application_not_editable")
    assert_error(upload(hosp, app["id"], app["materials"][0]["kind"]), 404,
                 "application_not_found")
    hd = staff("hospital-hdyy")
    assert_error(upload(hd, app["id"], app["materials"][0]["kind"]), 404,
                 "application_not_found")
    assert_error(api("GET", "/hospital/certifications/%s" % app["id"],
                     headers=bearer(hd)), 404, "certification_not_found")
    assert_error(certify(hd, form(app["id"])), 404, "application_not_found")


def test_archive_record_is_logged():
    """R-SUP-6, S4 三: the record (form and images) opens from the archive
    and every read writes access_log (object_type certification)."""
    hosp = staff("hospital-qhph")
    p = new_person("630100", "陈玉梅")
    app = hospital_files(hosp, p, "D013", "H63010200143")
    assert certify(hosp, form(app["id"])).status_code == 201
    before = int(sql("SELECT count(*) FROM access_log WHERE object_type ="
                     " 'certification' AND object_id = %s", app["id"])[0][0])
    r = api("GET", "/hospital/certifications/%s" % app["id"],
            headers=bearer(hosp))
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["form"]["diagnosis"] == "冠状动脉粥样硬化性心脏病"
    assert c["certified_at"] and c["materials"]
    assert r.headers["Cache-Control"] == "no-store"
    after = sql("SELECT count(*), max(action), max(person_id::text) FROM"
                " access_log WHERE object_type = 'certification'"
                " AND object_id = %s", app["id"])[0]
    assert int(after[0]) == before + 1 and after[1] == "read"
    assert_error(api("GET", "/hospital/certifications/99999999999",
                     headers=bearer(hosp)), 404, "certification_not_found")


def test_benefit_waits_for_the_agency_where_the_policy_says_so():
    """R-CER-11 (benefit_waits_confirmation): where the region makes
    benefits wait, an approval leaves the application in review without a
    qualification until the agency confirms."""
    hosp = staff("hospital-qhph")
    p = new_person("630100", "马德明")
    app = hospital_files(hosp, p, "D013", "H63010200143")
    with policy("630100", "benefit_waits_confirmation", "true"):
        r = certify(hosp, form(app["id"]))
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["status"] == "in_review" and c["qualification"] is None
    assert c["confirmation"] == "pending" and c["form"]["conclusion"] == "approve"


def test_draft_is_submitted_with_the_rules_of_submit():
    """The certification submits a hospital's draft with every rule of
    submit: missing materials are 422 with the list, nothing recorded."""
    hosp = staff("hospital-qhph")
    p = new_person("630100", "韩志军")
    r = api("POST", "/hospital/applications", headers=bearer(hosp), json={
        "id_number": p["id_number"], "name": p["name"], "disease_code": "D013",
        "phone": p["phone"], "medical_record_no": "OS-x",
        "designated_institution": "H63010200143"})
    app = r.json()
    err = assert_error(certify(hosp, form(app["id"])), 422,
                       "materials_missing")
    assert err["details"]["missing_materials"]
    assert sql("SELECT status FROM applications WHERE id = %s",
               app["id"]) == [["draft"]]


def test_idempotency_key_replays_the_certification():
    """A retried POST with the same Idempotency-Key gets the same 201, not
    a 409, and records one certification."""
    hosp = staff("hospital-qhph")
    p = new_person("630100", "陈玉梅")
    app = hospital_files(hosp, p, "D013", "H63010200143")
    h = dict(bearer(hosp), **{"Idempotency-Key": "onsite-%d" % app["id"]})
    a = api("POST", "/hospital/certifications", headers=h, json=form(app["id"]))
    b = api("POST", "/hospital/certifications", headers=h, json=form(app["id"]))
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    assert a.json() == b.json()
    assert sql("SELECT count(*) FROM certifications WHERE application_id = %s",
               app["id"]) == [["1"]]


def test_bad_input_is_a_400_in_chinese():
    """Hostile input: a wrong title, conclusion, state or a missing field
    is 400 naming the field; no 500."""
    hosp = staff("hospital-qhph")
    assert_error(certify(hosp, form(1, physician_title="主任")), 400,
                 "field_invalid", "physician_title")
    assert_error(certify(hosp, form(1, conclusion="maybe")), 400,
                 "field_invalid", "conclusion")
    body = form(1)
    del body["diagnosis"]
    assert_error(certify(hosp, body), 400, "field_required", "diagnosis")
    assert_error(certify(hosp, form("x")), 400, "field_invalid",
                 "application_id")
    assert_error(api("GET", "/hospital/certifications?state=all",
                     headers=bearer(hosp)), 400, "field_invalid", "state")
    tok = insured_login(new_person("630100"))["token"]
    assert_error(certify(tok, form(1)), 403, "forbidden")
