"""The seed cities that certify in hospitals, end to end over the API
(issue 11 "done when"): 禄丰 (S1, on-site 确认备案), 太原 (S2, hospital panel
with the public notice), 西宁 (S4, 医疗鉴定 with the archive, cross-region
within Qinghai).  Each flow uses the reference data a `make run` loads:
the region's review modes, hospitals, authorizations and demo accounts.
"""
import datetime

from conftest import (api, assert_error, bearer, ctl, insured_login, login,
                      new_person, sql, today, upload, wait_sms)

STAFF = "mtcert-hospital-2026"
AGENCY = "mtcert-agency-2026"


def staff(user):
    return login(user, STAFF if user.startswith("hospital") else AGENCY)["token"]


def hospital_file(tok, person, disease, institution):
    """Hospital staff file for person (ID number and name checked against
    the registry); the answer as it came."""
    return api("POST", "/hospital/applications", headers=bearer(tok), json={
        "id_number": person["id_number"], "name": person["name"],
        "disease_code": disease, "phone": person["phone"],
        "medical_record_no": "MR-%s" % person["id_number"][-6:],
        "designated_institution": institution})


def images(tok, app):
    """Upload every material the disease needs (the images of S4 二)."""
    for m in app["missing_materials"]:
        r = upload(tok, app["id"], m["kind"])
        assert r.status_code == 201, r.text


def certify(tok, app_id, conclusion="approve", **extra):
    body = {"application_id": app_id, "diagnosis": "原发性高血压3级（极高危）",
            "basis": "多次测量血压≥180/110mmHg，合并靶器官损害",
            "examinations": "动态血压、心脏超声、肾功能", "physician_name": "李明",
            "physician_title": "副高", "conclusion": conclusion}
    if conclusion == "reject":
        body["reason"] = "检查结果不符合认定标准"
    body.update(extra)
    return api("POST", "/hospital/certifications", headers=bearer(tok),
               json=body)


def onsite(user, person, disease, institution):
    """File, upload the images, certify: the Certification."""
    tok = staff(user)
    r = hospital_file(tok, person, disease, institution)
    assert r.status_code == 201, r.text
    images(tok, r.json())
    r = certify(tok, r.json()["id"])
    assert r.status_code == 201, r.text
    return r.json()


def own_qualifications(person):
    tok = insured_login(person)["token"]
    return api("GET", "/qualifications", headers=bearer(tok)).json()["items"]


# ------------------------------------------------------------------ 禄丰 (S1)

def test_lufeng_hospital_confirms_on_the_spot_r_cer_8():
    """S1 现场确认备案: 禄丰市人民医院 (level-2 public) confirms a chronic
    disease on the spot; the benefit starts that day (S1 三(一)2 即时享受)."""
    p = new_person(region="532300", name="李秀珍")
    cert = onsite("hospital-lfrm", p, "D015", "H53230000001")
    assert cert["status"] == "approved"
    assert cert["qualification"]["valid_from"] == today().isoformat()
    assert cert["confirmation"] == "pending"
    q = own_qualifications(p)
    assert [x["status"] for x in q] == ["active"]
    assert q[0]["disease"]["code"] == "D015"
    assert any(m["template"] == "application_approved"
               for m in wait_sms(p["phone"], 1))


def test_lufeng_level2_hospital_cannot_certify_a_special_disease_r_cer_9():
    """S1 二(四): special diseases at level-3 public hospitals only --
    禄丰市人民医院 (level 2) is refused 403 with the reason; 楚雄州人民医院
    (level 3) certifies it."""
    p = new_person(region="532300")
    tok = staff("hospital-lfrm")
    r = hospital_file(tok, p, "D001", "H53230000001")
    if r.status_code == 201:
        images(tok, r.json())
        r = certify(tok, r.json()["id"])
    err = assert_error(r, 403, "institution_not_authorized")
    assert "认定授权" in err["message"] or "授权" in err["message"]
    cert = onsite("hospital-cxz", p, "D001", "H53230000007")
    assert cert["status"] == "approved"


def test_lufeng_psychiatric_hospital_certifies_psychiatric_only_s1():
    """S1: 禄丰康宁医院 限精神病及重性精神病病种 -- it certifies 重性精神疾病
    (D006), cannot file or certify 癫痫 (D031), and nobody can designate it
    for 高血压 (D015)."""
    p = new_person(region="532300")
    tok = staff("hospital-kangning")
    # 癫痫 at a hospital that serves it: 康宁 itself may not certify it.
    err = assert_error(hospital_file(tok, p, "D031", "H53230000001"), 403,
                       "institution_not_authorized")
    assert "授权" in err["message"] or "限于" in err["message"]
    # ... nor be the designated hospital for it.
    assert_error(hospital_file(tok, p, "D031", "H53230000005"), 422,
                 "institution_not_designated", "designated_institution")
    cert = onsite("hospital-kangning", p, "D006", "H53230000005")
    assert cert["status"] == "approved"
    q = new_person(region="532300")
    qtok = insured_login(q)["token"]
    r = api("POST", "/applications", headers=bearer(qtok), json={
        "disease_code": "D015", "phone": q["phone"],
        "medical_record_no": "M1", "designated_institution": "H53230000005"})
    assert_error(r, 422, "institution_not_designated", "designated_institution")
    listed = api("GET", "/institutions", params={
        "region": "532300", "disease": "D015"}).json()["items"]
    assert "H53230000005" not in [i["code"] for i in listed]


def test_lufeng_agency_overturns_and_the_qualification_is_cancelled_r_cer_11():
    """S4 三 / S3 第七条(三): the agency overturns a hospital's approval:
    the result is void, the qualification revoked, the person told."""
    p = new_person(region="532300")
    cert = onsite("hospital-lfrm", p, "D013", "H53230000001")
    tok = staff("agency-lufeng")
    queue = api("GET", "/agency/applications", headers=bearer(tok),
                params={"confirmation": "pending"}).json()["items"]
    assert cert["application_id"] in [a["id"] for a in queue]
    r = api("POST", "/agency/applications/%s/confirm" % cert["application_id"],
            headers=bearer(tok), json={"decision": "overturn",
                                       "reason": "认定依据不足，检查报告不完整"})
    assert r.status_code == 200, r.text
    assert r.json()["confirmation"] == "overturned"
    q = own_qualifications(p)
    assert q[0]["status"] == "revoked"
    assert q[0]["end_reason"] == "overturned"
    assert any(m["template"] == "qualification_ended"
               for m in wait_sms(p["phone"], 2))
    again = api("POST", "/agency/applications/%s/confirm"
                % cert["application_id"], headers=bearer(tok),
                json={"decision": "confirm"})
    assert_error(again, 409, "not_awaiting_confirmation")


# ------------------------------------------------------------------ 太原 (S2)

def panel_case(person):
    """A quota disease filed online in 太原, at 山西省人民医院: submitted,
    waiting for the hospital's panel (no expert is pushed)."""
    tok = insured_login(person)["token"]
    r = api("POST", "/applications", headers=bearer(tok), json={
        "disease_code": "D015", "phone": person["phone"],
        "medical_record_no": "TY-1", "designated_institution": "H14010000001"})
    assert r.status_code == 201, r.text
    app = r.json()
    images(tok, app)
    r = api("POST", "/applications/%s/submit" % app["id"],
            headers=bearer(tok), json={"promise": True})
    assert r.status_code == 200, r.text
    return tok, app["id"]


def test_taiyuan_panel_approval_is_posted_then_benefits_start_next_month_r_cer_10():
    """S2 二(二): the hospital panel (≥ 3 members at 副高 or above) approves;
    the approval is on public notice for 5 working days with the name
    masked; after a clean notice the qualification starts on the 1st of
    next month."""
    p = new_person(region="140100", name="王桂花")
    ptok, app_id = panel_case(p)
    assert sql("SELECT count(*) FROM assignments WHERE application_id = %s",
               app_id) == [["0"]]
    tok = staff("hospital-sxph")
    experts = api("GET", "/hospital/panel-experts",
                  headers=bearer(tok)).json()
    assert experts["min_size"] == 3 and experts["min_title"] == "副高"
    members = [{"expert_id": e["id"], "opinion": "approve"}
               for e in experts["items"][:3]]
    r = api("POST", "/hospital/panel-decisions", headers=bearer(tok), json={
        "application_id": app_id, "members": members[:2],
        "conclusion": "approve"})
    assert_error(r, 422, "panel_too_small")
    r = api("POST", "/hospital/panel-decisions", headers=bearer(tok), json={
        "application_id": app_id, "members": members,
        "conclusion": "approve", "opinion": "符合定额病种准入标准"})
    assert r.status_code == 201, r.text
    pub = r.json()["publicity"]
    assert pub["state"] == "open"
    working = sql("SELECT count(*) FROM generate_series('%s'::date, '%s'::date,"
                  " '1 day') d WHERE is_working_day(d::date)",
                  pub["starts_on"], pub["ends_on"]) if sql(
        "SELECT 1 FROM pg_proc WHERE proname = 'is_working_day'") else None
    if working is not None:
        assert working == [["5"]], (pub, working)
    listed = api("GET", "/hospital/publicity",
                 params={"region": "140100"}).json()["items"]
    mine = [x for x in listed if x["id"] == pub["id"]]
    assert mine and mine[0]["name"] == "王*花"
    assert p["id_number"] not in str(listed)
    # Not ended before its last day.
    ctl("publicity", "run")
    assert sql("SELECT state FROM publicity WHERE id = %s", pub["id"]) == [["open"]]
    # The notice period passes (moved back), the dispatcher's job ends it.
    sql("UPDATE publicity SET starts_on = starts_on - 30,"
        " ends_on = cn_today() - 1 WHERE id = %s", pub["id"])
    ctl("publicity", "run")
    view = api("GET", "/applications/%s" % app_id, headers=bearer(ptok)).json()
    assert view["status"] == "approved"
    first = (datetime.date.fromisoformat(today().isoformat()).replace(day=1)
             + datetime.timedelta(days=32)).replace(day=1).isoformat()
    assert view["qualification"]["valid_from"] == first


def test_taiyuan_objection_during_the_notice_holds_the_case_r_cer_10():
    """Anyone may object during the notice; the case waits for the agency,
    who overturns it: no qualification."""
    p = new_person(region="140100")
    _, app_id = panel_case(p)
    tok = staff("hospital-sxph")
    experts = api("GET", "/hospital/panel-experts", headers=bearer(tok)).json()
    r = api("POST", "/hospital/panel-decisions", headers=bearer(tok), json={
        "application_id": app_id, "conclusion": "approve",
        "members": [{"expert_id": e["id"], "opinion": "approve"}
                    for e in experts["items"][:3]]})
    assert r.status_code == 201, r.text
    pid = r.json()["publicity"]["id"]
    r = api("POST", "/hospital/publicity/%s/objection" % pid,
            json={"reason": "据了解申请人并无长期服药记录"})
    assert r.status_code == 201, r.text
    assert_error(api("POST", "/hospital/publicity/%s/objection" % pid,
                     json={"reason": "再次提出"}), 409, "publicity_closed")
    agency = staff("agency-taiyuan")
    r = api("POST", "/agency/applications/%s/confirm" % app_id,
            headers=bearer(agency),
            json={"decision": "overturn", "reason": "经核实异议属实"})
    assert r.status_code == 200, r.text
    assert sql("SELECT status FROM applications WHERE id = %s",
               app_id) == [["rejected"]]
    assert sql("SELECT count(*) FROM qualifications WHERE application_id = %s",
               app_id) == [["0"]]


def test_taiyuan_non_quota_disease_goes_to_experts_online_s2():
    """S2 二(一): the non-quota diseases stay online with experts -- a
    submission is pushed to an expert of 太原's pool (demo experts)."""
    p = new_person(region="140100")
    tok = insured_login(p)["token"]
    r = api("POST", "/applications", headers=bearer(tok), json={
        "disease_code": "D001", "phone": p["phone"],
        "medical_record_no": "TY-2", "designated_institution": "H14010000001"})
    assert r.status_code == 201, r.text
    images(tok, r.json())
    app_id = r.json()["id"]
    assert api("POST", "/applications/%s/submit" % app_id, headers=bearer(tok),
               json={"promise": True}).status_code == 200
    from conftest import live_assignment
    a = live_assignment(app_id)
    assert sql("SELECT u.institution FROM users u WHERE u.id = %s",
               a["expert"])[0][0] == "H14010000002"


# ------------------------------------------------------------------ 西宁 (S4)

def test_xining_hospital_certifies_with_the_archive_r_sup_6():
    """S4 二: 青海省人民医院 fills the 认定表 and uploads the images; the
    benefit starts at once; the agency opens the archive (form + images),
    and the read is logged."""
    p = new_person(region="630100", name="陈玉梅")
    cert = onsite("hospital-qhph", p, "D001", "H63010200143")
    assert cert["status"] == "approved"
    assert cert["form"]["physician_title"] == "副高"
    assert cert["materials"]
    agency = login("agency-xining")
    r = api("GET", "/agency/applications/%s" % cert["application_id"],
            headers=bearer(agency["token"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["certification"]["diagnosis"].startswith("原发性高血压")
    assert body["materials"]
    assert sql("SELECT count(*) FROM access_log WHERE user_id = %s"
               " AND object_id = %s", agency["user"]["id"],
               cert["application_id"])[0][0] != "0"
    r = api("POST", "/agency/applications/%s/confirm" % cert["application_id"],
            headers=bearer(agency["token"]), json={"decision": "confirm"})
    assert r.status_code == 200 and r.json()["confirmation"] == "confirmed"


def test_xining_provincial_hospital_certifies_a_haidong_person_r_cer_13():
    """S4 一: a hospital the province authorizes certifies a person insured
    in another region of Qinghai; the qualification is the person's
    region's, whose agency sees it."""
    p = new_person(region="630200", name="祁永福")
    cert = onsite("hospital-qhph", p, "D013", "H63010200143")
    assert cert["region"]["code"] == "630200"
    haidong = staff("agency-haidong")
    mine = api("GET", "/agency/qualifications", headers=bearer(haidong)).json()
    assert cert["qualification"]["id"] in [q["id"] for q in mine["items"]]
    xining = staff("agency-xining")
    theirs = api("GET", "/agency/qualifications", headers=bearer(xining)).json()
    assert cert["qualification"]["id"] not in [q["id"] for q in theirs["items"]]
    # The hospital's region's agency opens the archive and its images
    # (S4 三: 参保地与认定医疗机构所属地经办机构均可复核).
    r = api("GET", "/agency/applications/%s" % cert["application_id"],
            headers=bearer(xining))
    assert r.status_code == 200, r.text
    mid = cert["materials"][0]["id"]
    r = api("GET", "/materials/%s" % mid, headers=bearer(xining))
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG"), r.text
    # A third region's agency gets neither.
    lufeng = staff("agency-lufeng")
    assert_error(api("GET", "/materials/%s" % mid, headers=bearer(lufeng)),
                 404, "material_not_found")
