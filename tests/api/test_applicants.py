"""The applicant's path (issue 3): SMS sign-in, drafts, materials,
submission rules, progress, hospital-assisted filing, scoping.
R-APP-1 ... R-APP-9, R-CER-6, R-CER-7."""
import concurrent.futures
import datetime
import hashlib
import os
import time

from conftest import id_hmac, person_row_id, phone_hmac
from conftest import (JPEG, PDF, PNG, VAR, api, assert_error, bearer, client,
                      stack,
                      policy,
                      complete, ctl, draft, insured_login, login, new_person,
                      redis, request_code, required_kinds, sms_lines, sql,
                      unique,
                      upload, wait_for, wait_sms)

TODAY = datetime.date.today()


def get(token, app_id):
    r = api("GET", "/applications/%s" % app_id, headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def submit(token, app_id, **kw):
    return api("POST", "/applications/%s/submit" % app_id,
               headers=dict(bearer(token), **kw.pop("headers", {})),
               json=kw.pop("json", {"promise": True}))


# --- sign-in (R-APP-1, API.md /auth) --------------------------------------

def test_sms_code_login_and_logout():
    p = new_person()
    body = insured_login(p)
    assert body["user"]["role"] == "insured"
    me = api("GET", "/me", headers=bearer(body["token"])).json()
    assert me["role"] == "insured" and me["scope"]["region"] == "411200"
    assert api("POST", "/auth/logout",
               headers=bearer(body["token"])).status_code == 204
    assert_error(api("GET", "/applications", headers=bearer(body["token"])),
                 401, "unauthenticated")


def test_sms_code_single_use():
    p = new_person()
    code = request_code(p["phone"])
    form = {"phone": p["phone"], "code": code, "id_number": p["id_number"],
            "name": p["name"]}
    assert api("POST", "/auth/login", json=form).status_code == 200
    assert_error(api("POST", "/auth/login", json=form), 401, "login_failed")


def test_sms_code_expires():
    p = new_person()
    code = request_code(p["phone"])
    redis("PEXPIRE", "smscode:" + phone_hmac(p["phone"]), "1")
    time.sleep(0.05)
    assert_error(api("POST", "/auth/login", json={
        "phone": p["phone"], "code": code, "id_number": p["id_number"],
        "name": p["name"]}), 401, "login_failed")


def test_sixth_wrong_try_kills_the_code():
    p = new_person()
    code = request_code(p["phone"])
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    form = {"phone": p["phone"], "id_number": p["id_number"], "name": p["name"]}
    for _ in range(5):
        assert_error(api("POST", "/auth/login", json=dict(form, code=wrong)),
                     401, "login_failed")
    # The five tries are spent: even the right code no longer works.
    assert_error(api("POST", "/auth/login", json=dict(form, code=code)),
                 401, "login_failed")


def test_four_wrong_tries_then_right_code_works():
    p = new_person()
    code = request_code(p["phone"])
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    form = {"phone": p["phone"], "id_number": p["id_number"], "name": p["name"]}
    for _ in range(4):
        api("POST", "/auth/login", json=dict(form, code=wrong))
    assert api("POST", "/auth/login", json=dict(form, code=code)).status_code == 200


def test_registry_mismatch_gets_the_same_answer():
    p = new_person()
    code = request_code(p["phone"])
    e1 = assert_error(api("POST", "/auth/login", json={
        "phone": p["phone"], "code": code, "id_number": p["id_number"],
        "name": "别人"}), 401, "login_failed")
    code = None
    e2 = assert_error(api("POST", "/auth/login", json={
        "phone": p["phone"], "code": "000000", "id_number": p["id_number"],
        "name": p["name"]}), 401, "login_failed")
    assert e1 == e2


def test_sms_code_once_a_minute_same_for_unknown_phone():
    p = new_person()
    assert api("POST", "/auth/sms-code", json={"phone": p["phone"]}).status_code == 204
    r = api("POST", "/auth/sms-code", json={"phone": p["phone"]})
    assert_error(r, 429, "sms_too_frequent", "phone")
    assert 0 < int(r.headers["Retry-After"]) <= 60
    ghost = "13700%06d" % (os.getpid() % 1000000)
    assert api("POST", "/auth/sms-code", json={"phone": ghost}).status_code == 204
    assert_error(api("POST", "/auth/sms-code", json={"phone": ghost}), 429,
                 "sms_too_frequent", "phone")
    # The 204 comes after any queueing is done: nothing queued for a phone
    # nobody holds, whatever the dispatcher's speed.
    assert sql("SELECT count(*) FROM sms_outbox WHERE to_phone = '%s'",
               ghost) == [["0"]]
    wait_sms(p["phone"], 1)


def test_sms_and_login_bad_input():
    assert_error(api("POST", "/auth/sms-code", json={"phone": "12345"}), 400,
                 "field_invalid", "phone")
    assert_error(api("POST", "/auth/sms-code", json={}), 400,
                 "field_required", "phone")
    base = {"phone": "13900000001", "code": "123456",
            "id_number": "411200195803120139", "name": "张建国"}
    for field, bad in (("code", "12345"), ("code", "abcdef"),
                       ("id_number", "411200195803120130"),
                       ("name", ""), ("phone", "1390000000")):
        assert_error(api("POST", "/auth/login", json=dict(base, **{field: bad})),
                     400, "field_invalid" if bad else "field_invalid", field)


# --- the whole path (R-APP-2, 4, 5, 8, 9; R-CER-6, 7) ---------------------

def test_whole_path_for_an_applicant():
    p = new_person()
    tok = insured_login(p)["token"]
    app = draft(tok, disease="D001", institution="H41120000001")
    assert app["status"] == "draft" and app["channel"] == "mini_program"
    assert app["review_mode"] == "single"            # instant disease
    # Everything the disease needs, at once (R-APP-4).
    assert set(required_kinds(app)) == {"diagnosis_record", "pathology_report"}
    r = upload(tok, app["id"], "diagnosis_record", data=PDF,
               filename="诊断.pdf", ctype="application/pdf")
    assert r.status_code == 201, r.text
    assert r.json()["media_type"] == "application/pdf"
    assert required_kinds(get(tok, app["id"])) == ["pathology_report"]
    r = upload(tok, app["id"], "pathology_report", data=JPEG,
               filename="bl.jpg", ctype="image/jpeg")
    assert r.status_code == 201
    assert get(tok, app["id"])["missing_materials"] == []
    sms_before = len(sms_lines("13900000000"))
    r = submit(tok, app["id"], headers={"Idempotency-Key": unique("k")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "submitted"
    assert body["expected_decision_date"] > TODAY.isoformat()
    full = get(tok, app["id"])
    texts = [e["text"] for e in full["timeline"]]
    assert texts[0] == "已创建申请草稿"
    assert texts.count("已上传材料：确诊病历") == 1
    assert "已提交申请，等待分配认定专家" in texts
    assert full["expected_decision_date"] == body["expected_decision_date"]
    # The SMS goes out on its own (R-CER-7).
    msgs = wait_sms("13900000000", sms_before + 1)
    assert "已提交" in msgs[-1]["text"] and str(app["id"]) in msgs[-1]["text"]
    # Submitted: no more edits.
    assert_error(api("PATCH", "/applications/%s" % app["id"], headers=bearer(tok),
                     json={"medical_record_no": "X"}), 409,
                 "application_not_editable")
    assert_error(upload(tok, app["id"], "diagnosis_record"), 409,
                 "application_not_editable")
    assert_error(submit(tok, app["id"]), 409, "application_not_submittable")


def test_expected_decision_date_counts_working_days():
    """R-CER-6: 20 working days for a double-review disease, counted over
    the calendar (weekends and holidays skipped).  In 济宁 (S3 第八条):
    三门峡's online applications have their own 8 (test_return.py)."""
    p = new_person(region="370800")
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok, disease="D005",
                              institution="H37080000001"))
    body = submit(tok, app["id"]).json()
    want = sql("SELECT add_working_days(cn_today(), 20)")[0][0]
    assert body["expected_decision_date"] == want
    # Counting skips weekends: 20 working days are at least 26 days.
    assert (datetime.date.fromisoformat(want) - TODAY).days >= 26


def test_cookie_session_is_web_channel_and_needs_csrf():
    p = new_person()
    s = client()
    body = insured_login(p, session=s)
    form = {"disease_code": "D013", "phone": p["phone"],
            "medical_record_no": "MR-web", "designated_institution": "H41120000001"}
    assert_error(s.post(api.__globals__["API"] + "/applications", json=form),
                 403, "csrf_failed")
    r = s.post(api.__globals__["API"] + "/applications", json=form,
               headers={"X-CSRF-Token": body["csrf_token"]})
    assert r.status_code == 201 and r.json()["channel"] == "web"


def test_agent_is_recorded_and_masked():
    p = new_person()
    tok = insured_login(p)["token"]
    agent = {"name": "李代办", "id_number": "140100197107210154",
             "relation": "子女", "phone": "13700000001"}
    app = draft(tok, agent=agent)
    assert app["agent"]["name"] == "李代办"
    assert app["agent"]["id_number"] == "1401**********0154"
    assert app["agent"]["relation"] == "子女"
    # The agent's phone: whole in the applicant's own read, masked in the
    # agency's archive (ApplicationDetail and AgencyApplicationDetail in
    # docs/openapi.yaml, which conftest's client checks each answer with).
    own = api("GET", "/applications/%s" % app["id"], headers=bearer(tok))
    assert own.status_code == 200
    assert own.json()["agent"]["phone"] == "13700000001"
    archive = api("GET", "/agency/applications/%s" % app["id"],
                  headers=bearer(login("admin")["token"]))
    assert archive.status_code == 200, archive.text
    assert archive.json()["agent"]["phone"] == "137****0001"
    partial = {"name": "李代办", "relation": "子女"}
    r = api("POST", "/applications", headers=bearer(tok), json={
        "disease_code": "D033", "phone": p["phone"], "medical_record_no": "M",
        "designated_institution": "H41120000001", "agent": partial})
    assert_error(r, 400, "field_required", "agent.id_number")
    r = api("PATCH", "/applications/%s" % app["id"], headers=bearer(tok),
            json={"agent": None, "phone": "13700000002"})
    assert r.status_code == 200 and r.json()["agent"] is None
    assert r.json()["phone"] == "13700000002"


def test_draft_bad_inputs_name_the_field():
    p = new_person()
    tok = insured_login(p)["token"]
    base = {"disease_code": "D013", "phone": "13900000000",
            "medical_record_no": "M1", "designated_institution": "H41120000001"}
    for field, bad, code in (("disease_code", "x1", "field_invalid"),
                             ("phone", "12345", "field_invalid"),
                             ("medical_record_no", "", "field_invalid"),
                             ("medical_record_no", "a" * 65, "field_invalid"),
                             ("designated_institution", "bad code",
                              "field_invalid")):
        assert_error(api("POST", "/applications", headers=bearer(tok),
                         json=dict(base, **{field: bad})), 400, code, field)
    body = dict(base)
    del body["phone"]
    assert_error(api("POST", "/applications", headers=bearer(tok), json=body),
                 400, "field_required", "phone")
    assert_error(api("POST", "/applications", headers=bearer(tok),
                     json=dict(base, disease_code="D999")),
                 422, "disease_not_in_catalog", "disease_code")
    assert_error(api("POST", "/applications", headers=bearer(tok),
                     json=dict(base, designated_institution="H99999999999")),
                 422, "institution_not_found", "designated_institution")
    # Staff cannot create a draft as if they were the person.
    # Agency staff file at the counter (R-APP-1, test_filing.py): for a
    # person they name.
    staff = login("agency-sanmenxia")["token"]
    assert_error(api("POST", "/applications", headers=bearer(staff), json=base),
                 400, "field_required", "id_number")


def test_one_open_application_per_disease_and_withdraw():
    p = new_person()
    tok = insured_login(p)["token"]
    app = draft(tok, disease="D015")
    assert_error(api("POST", "/applications", headers=bearer(tok), json={
        "disease_code": "D015", "phone": p["phone"], "medical_record_no": "M",
        "designated_institution": "H41120000001"}), 409, "application_exists",
        "disease_code")
    r = api("POST", "/applications/%s/withdraw" % app["id"], headers=bearer(tok))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert r.json()["timeline"][-1]["text"] == "已撤回申请"
    assert_error(api("POST", "/applications/%s/withdraw" % app["id"],
                     headers=bearer(tok)), 409, "application_not_withdrawable")
    draft(tok, disease="D015")      # a new one may start


def test_list_masks_and_paginates():
    p = new_person()
    tok = insured_login(p)["token"]
    ids = [draft(tok, disease=d)["id"] for d in ("D020", "D021", "D022")]
    r = api("GET", "/applications", headers=bearer(tok), params={"limit": 2})
    body = r.json()
    assert [i["id"] for i in body["items"]] == ids[::-1][:2]
    item = body["items"][0]
    assert item["phone"] == "139****0000"
    assert item["applicant"]["id_number"] == p["id_number"][:4] + "*" * 10 + p["id_number"][-4:]
    r2 = api("GET", "/applications", headers=bearer(tok),
             params={"limit": 2, "cursor": body["next_cursor"]})
    assert [i["id"] for i in r2.json()["items"]] == [ids[0]]
    assert r2.json()["next_cursor"] is None
    assert_error(api("GET", "/applications", headers=bearer(tok),
                     params={"status": "lost"}), 400, "field_invalid", "status")


# --- materials (R-APP-3, DESIGN uploaded files) ---------------------------

def test_upload_refuses_by_content_not_name():
    p = new_person()
    tok = insured_login(p)["token"]
    app = draft(tok)
    html = b"<!doctype html><html><script>alert(1)</script></html>"
    assert_error(upload(tok, app["id"], "inpatient_record", data=html,
                        filename="x.png", ctype="image/png"),
                 415, "file_type_not_allowed", "file")
    assert_error(upload(tok, app["id"], "inpatient_record", data=b""),
                 400, "file_empty", "file")
    # A PDF cut off before its end (an interrupted export): the expert's
    # viewer could not show it, so it is refused now, beside the file.
    assert_error(upload(tok, app["id"], "inpatient_record", data=PDF[:-30],
                        filename="cut.pdf", ctype="application/pdf"),
                 400, "file_damaged", "file")
    assert_error(upload(tok, app["id"], "inpatient_record",
                        data=b"%PDF-1.4\n%%EOF\n", filename="bad.pdf",
                        ctype="application/pdf"),
                 400, "file_damaged", "file")
    assert not sql("SELECT 1 FROM materials WHERE application_id = %s", app["id"])
    assert_error(upload(tok, app["id"], "pathology_report"), 422,
                 "material_kind_not_needed", "kind")
    assert_error(upload(tok, app["id"], "inpatient_record",
                        issued_on="2026-02-30"), 400, "field_invalid",
                 "issued_on")
    assert_error(upload(tok, app["id"], "inpatient_record", issuer="a" * 129),
                 400, "field_invalid", "issuer")
    assert upload(tok, app["id"], "inpatient_record",
                  issuer="医" * 128).status_code == 201
    tomorrow = (TODAY + datetime.timedelta(days=2)).isoformat()
    assert_error(upload(tok, app["id"], "inpatient_record", issued_on=tomorrow),
                 400, "field_invalid", "issued_on")
    r = api("POST", "/applications/%s/materials" % app["id"],
            headers=bearer(tok), json={"kind": "x"})
    assert_error(r, 415, "unsupported_media_type")
    mats = get(tok, app["id"])["materials"]
    assert [m["issuer"] for m in mats] == ["医" * 128]
    api("DELETE", "/applications/%s/materials/%s" % (app["id"], mats[0]["id"]),
        headers=bearer(tok))
    r = api("POST", "/applications/%s/materials" % app["id"],
            headers=dict(bearer(tok), **{
                "Content-Type": "multipart/form-data; boundary=zzz"}),
            data=b"--zzz\r\nbroken")
    assert_error(r, 400, "malformed_multipart")
    assert get(tok, app["id"])["materials"] == []


def test_material_dated_13_months_ago_is_refused():
    p = new_person()
    tok = insured_login(p)["token"]
    app = draft(tok)
    old = (TODAY - datetime.timedelta(days=396)).isoformat()
    err = assert_error(upload(tok, app["id"], "inpatient_record",
                              issued_on=old), 422, "material_too_old",
                       "issued_on")
    assert "365" in err["message"]
    ok = (TODAY - datetime.timedelta(days=364)).isoformat()
    assert upload(tok, app["id"], "inpatient_record",
                  issued_on=ok).status_code == 201


def test_file_one_byte_over_the_limit_is_413():
    p = new_person(region="370800")
    tok = insured_login(p)["token"]
    with policy("370800", "material_max_bytes", "4096"):
        app = draft(tok, institution="H37080000001")
        at_limit = PNG + b"\x00" * (4096 - len(PNG))
        assert upload(tok, app["id"], "inpatient_record",
                      data=at_limit).status_code == 201
        assert_error(upload(tok, app["id"], "lab_report", data=at_limit + b"\x00"),
                     413, "file_too_large", "file")


def test_application_total_size_limit():
    p = new_person(region="370800")
    tok = insured_login(p)["token"]
    with policy("370800", "application_max_bytes", "2048"):
        app = draft(tok, institution="H37080000001")
        half = PNG + b"\x00" * (1500 - len(PNG))
        assert upload(tok, app["id"], "inpatient_record", data=half).status_code == 201
        assert_error(upload(tok, app["id"], "lab_report", data=half),
                     413, "application_files_too_large", "file")


def test_file_download_stored_whole_and_logged():
    p = new_person()
    tok = insured_login(p)["token"]
    app = draft(tok)
    data = PNG + os.urandom(200000)
    mid = upload(tok, app["id"], "inpatient_record", data=data).json()["id"]
    r = api("GET", "/materials/%s" % mid, headers=bearer(tok))
    assert r.status_code == 200 and r.content == data
    assert r.headers["Content-Type"] == "image/png"
    assert r.headers["Content-Disposition"] == 'inline; filename="material-%s.png"' % mid
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Accel-Redirect" not in r.headers
    # Only the portal itself may frame a file (the expert's inline PDF);
    # nothing in it may load anything; never cached.
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp and "default-src 'none'" in csp
    assert "script-src" not in csp
    assert r.headers["Cache-Control"] == "private, no-store"
    rows = sql("SELECT action FROM access_log WHERE object_type = 'material'"
               " AND object_id = %s", mid)
    assert rows == [["download"]]
    # Nothing on disk is named after the content or holds it (issue 15:
    # sealed under a random name; test_files_at_rest.py has the rest),
    # and no path of nginx reaches the store.
    sha = sql("SELECT sha256 FROM materials WHERE id = %s", mid)[0][0]
    assert not os.path.exists(os.path.join(VAR, "files", sha[:2], sha[2:4],
                                           sha))
    r = api("GET", "/../_files/%s/%s/%s" % (sha[:2], sha[2:4], sha))
    assert r.status_code == 404


def test_delete_material_then_missing_again():
    p = new_person()
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok))
    assert app["missing_materials"] == []
    mid = app["materials"][0]["id"]
    kind = app["materials"][0]["kind"]
    r = api("DELETE", "/applications/%s/materials/%s" % (app["id"], mid),
            headers=bearer(tok))
    assert r.status_code == 204
    assert required_kinds(get(tok, app["id"])) == [kind]
    assert_error(api("DELETE", "/applications/%s/materials/%s" % (app["id"], mid),
                     headers=bearer(tok)), 404, "material_not_found", "mid")
    assert_error(api("GET", "/materials/%s" % mid, headers=bearer(tok)), 404,
                 "material_not_found")


# --- submission rules (R-APP-4, 6, 8, 9; R-BEN) ---------------------------

def test_materials_missing_lists_everything_at_once():
    p = new_person()
    tok = insured_login(p)["token"]
    app = draft(tok, disease="D003")            # haemophilia: two kinds
    err = assert_error(submit(tok, app["id"]), 422, "materials_missing")
    missing = [m["kind"] for m in err["details"]["missing_materials"]]
    assert missing == required_kinds(app) and len(missing) == 2


def test_promise_is_required():
    p = new_person()
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok))
    assert_error(submit(tok, app["id"], json={"promise": False}), 422,
                 "promise_required", "promise")
    assert_error(submit(tok, app["id"], json={}), 400, "field_required",
                 "promise")
    assert_error(submit(tok, app["id"], json={"promise": "yes"}), 400,
                 "field_invalid", "promise")


def test_institution_not_designated_in_the_region():
    """Told when the draft is created (issue 9 A6), before anything is
    uploaded, with the same code as at submit; still checked at submit."""
    p = new_person()
    tok = insured_login(p)["token"]
    body = {"disease_code": "D013", "phone": p["phone"],
            "medical_record_no": "M1",
            "designated_institution": "H63010200143"}       # Xining
    assert_error(api("POST", "/applications", headers=bearer(tok), json=body),
                 422, "institution_not_designated", "designated_institution")
    assert api("GET", "/applications", headers=bearer(tok)).json()["items"] \
        == []
    # Nor can a draft be changed to it (the same answer, nothing written).
    app = draft(tok)
    assert_error(api("PATCH", "/applications/%s" % app["id"],
                     headers=bearer(tok), json={
                         "designated_institution": "H63010200143",
                         "medical_record_no": "M2"}),
                 422, "institution_not_designated", "designated_institution")
    after = api("GET", "/applications/%s" % app["id"],
                headers=bearer(tok)).json()
    assert after["designated_institution"]["code"] == "H41120000001"
    assert after["medical_record_no"] == app["medical_record_no"]
    # A draft made before the hospital left the list is refused at submit.
    app = complete(tok, app)
    sql("UPDATE institutions SET designated = false WHERE code = '%s'",
        "H41120000001")
    try:
        assert_error(submit(tok, app["id"]), 422,
                     "institution_not_designated", "designated_institution")
    finally:
        sql("UPDATE institutions SET designated = true WHERE code = '%s'",
            "H41120000001")


def test_already_qualified():
    p = new_person()
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok, disease="D013"))
    pid = person_row_id(p["id_number"])
    sql("INSERT INTO qualifications (person_id, disease, region,"
        " designated_institution, valid_from, valid_to) VALUES"
        " (%s, 'D013', '411200', 'H41120000001', cn_today(), cn_today() + 700)",
        pid)
    assert_error(submit(tok, app["id"]), 422, "already_qualified")
    # A new draft is refused at once (issue 9 A6).
    assert api("POST", "/applications/%s/withdraw" % app["id"],
               headers=bearer(tok)).status_code == 200
    assert_error(api("POST", "/applications", headers=bearer(tok), json={
        "disease_code": "D013", "phone": p["phone"], "medical_record_no": "Q",
        "designated_institution": "H41120000001"}), 422, "already_qualified")


def test_stale_material_at_submission():
    p = new_person()
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok))
    # A material that was in date at upload but is not any more.
    sql("UPDATE materials SET issued_on = cn_today() - 400"
        " WHERE id = %s", app["materials"][0]["id"])
    err = assert_error(submit(tok, app["id"]), 422, "material_too_old")
    assert [m["id"] for m in err["details"]["stale_materials"]] == \
        [app["materials"][0]["id"]]


def use_up_submissions(tok, disease, n):
    for _ in range(n):
        app = complete(tok, draft(tok, disease=disease))
        assert submit(tok, app["id"]).status_code == 200
        assert api("POST", "/applications/%s/withdraw" % app["id"],
                   headers=bearer(tok)).status_code == 200


def test_yearly_limit_reached():
    """R-APP-6, told when the draft is created (issue 9 A6) and still
    enforced at submit."""
    p = new_person()
    tok = insured_login(p)["token"]
    use_up_submissions(tok, "D017", 2)
    # A draft made under the limit is refused at submit once it is reached.
    app = complete(tok, draft(tok, disease="D017"))
    with policy("411200", "yearly_application_limit", "2"):
        err = assert_error(submit(tok, app["id"]), 422, "yearly_limit_reached")
        assert "2" in err["message"]
    assert submit(tok, app["id"]).status_code == 200
    assert api("POST", "/applications/%s/withdraw" % app["id"],
               headers=bearer(tok)).status_code == 200
    # The fourth is refused before anything is uploaded.
    body = {"disease_code": "D017", "phone": p["phone"],
            "medical_record_no": "Y", "designated_institution": "H41120000001"}
    err = assert_error(api("POST", "/applications", headers=bearer(tok),
                           json=body), 422, "yearly_limit_reached")
    assert "3" in err["message"]
    # The same when a hospital files for the person.
    hosp = login("hospital-qhph")["token"]
    assert_error(api("POST", "/hospital/applications", headers=bearer(hosp),
                     json=dict(body, id_number=p["id_number"],
                               name=p["name"])), 422, "yearly_limit_reached")
    # Another disease is counted on its own.
    other = complete(tok, draft(tok, disease="D018"))
    assert submit(tok, other["id"]).status_code == 200


def test_parallel_submits_at_the_limit_exactly_one_wins():
    """Two submissions of the last allowed application at once: the
    person's row lock makes exactly one of them count (R-APP-6)."""
    for _ in range(3):
        p = new_person()
        tok = insured_login(p)["token"]
        use_up_submissions(tok, "D026", 2)
        app = complete(tok, draft(tok, disease="D026"))
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            codes = sorted(ex.map(lambda _: submit(tok, app["id"]).status_code,
                                  range(2)))
        assert codes == [200, 409], codes
        n = sql("SELECT count(*) FROM applications a JOIN persons p"
                " ON p.id = a.person_id WHERE p.id_number_hmac = '%s'"
                " AND a.submitted_at IS NOT NULL", id_hmac(p["id_number"]))[0][0]
        assert n == "3"
        assert len([e for e in get(tok, app["id"])["timeline"]
                    if e["type"] == "submitted"]) == 1


# --- idempotency (API.md) -------------------------------------------------

def test_same_idempotency_key_twice_one_application():
    p = new_person()
    tok = insured_login(p)["token"]
    key = unique("idem-")
    body = {"disease_code": "D029", "phone": p["phone"],
            "medical_record_no": "MR-idem", "designated_institution": "H41120000001"}
    h = dict(bearer(tok), **{"Idempotency-Key": key})
    r1 = api("POST", "/applications", headers=h, json=body)
    r2 = api("POST", "/applications", headers=h, json=body)
    assert r1.status_code == 201 and r2.status_code == 201
    assert r1.json() == r2.json()
    assert r2.headers.get("Idempotent-Replayed") == "true"
    mine = api("GET", "/applications", headers=bearer(tok)).json()["items"]
    assert [a["id"] for a in mine] == [r1.json()["id"]]
    assert_error(api("POST", "/applications", headers=h,
                     json=dict(body, medical_record_no="other")),
                 422, "idempotency_key_reused", "Idempotency-Key")
    assert_error(api("POST", "/applications",
                     headers=dict(bearer(tok), **{"Idempotency-Key": "bad key!"}),
                     json=body), 400, "field_invalid", "Idempotency-Key")


def test_submit_replayed_with_the_same_key():
    p = new_person()
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok))
    key = {"Idempotency-Key": unique("s-")}
    r1 = submit(tok, app["id"], headers=key)
    r2 = submit(tok, app["id"], headers=key)
    assert r1.status_code == r2.status_code == 200
    assert r1.json() == r2.json()
    assert len(sms_lines(app["phone"])) >= 1


# --- scoping (DESIGN security model) --------------------------------------

def test_another_persons_application_and_file_are_404():
    a, b = new_person(), new_person()
    ta, tb = insured_login(a)["token"], insured_login(b)["token"]
    app = draft(ta)
    mid = upload(ta, app["id"], "inpatient_record").json()["id"]
    assert_error(api("GET", "/applications/%s" % app["id"], headers=bearer(tb)),
                 404, "application_not_found")
    assert_error(api("GET", "/materials/%s" % mid, headers=bearer(tb)), 404,
                 "material_not_found")
    assert_error(api("PATCH", "/applications/%s" % app["id"], headers=bearer(tb),
                     json={"phone": "13900000009"}), 404, "application_not_found")
    assert_error(upload(tb, app["id"], "lab_report"), 404, "application_not_found")
    assert_error(submit(tb, app["id"]), 404, "application_not_found")
    assert_error(api("POST", "/applications/%s/withdraw" % app["id"],
                     headers=bearer(tb)), 404, "application_not_found")
    assert_error(api("DELETE", "/applications/%s/materials/%s" % (app["id"], mid),
                     headers=bearer(tb)), 404, "application_not_found")
    assert all(i["id"] != app["id"] for i in
               api("GET", "/applications", headers=bearer(tb)).json()["items"])
    # Agency of another region: 404 too; of the region: allowed and logged.
    xining = login("agency-xining")["token"]
    assert_error(api("GET", "/materials/%s" % mid, headers=bearer(xining)), 404,
                 "material_not_found")
    smx = login("agency-sanmenxia")["token"]
    assert api("GET", "/applications/%s" % app["id"],
               headers=bearer(smx)).status_code == 200
    assert api("GET", "/materials/%s" % mid, headers=bearer(smx)).status_code == 200
    who = sql("SELECT u.login, l.object_type FROM access_log l JOIN users u"
              " ON u.id = l.user_id WHERE l.object_id IN (%s, %s)"
              " AND u.login = 'agency-sanmenxia' ORDER BY l.id", app["id"], mid)
    assert ["agency-sanmenxia", "application"] in who
    assert ["agency-sanmenxia", "material"] in who


def test_withdraw_in_sql_touches_only_the_callers_application():
    """Defence in depth: withdraw_application is given the caller's scope
    and, called alone with another person's (or another region's agency),
    changes nothing; with the owner's it withdraws."""
    a, b = new_person(), new_person()
    ta = insured_login(a)["token"]
    insured_login(b)                                 # b's user
    app = draft(ta)
    pb, ub = sql("SELECT p.id, u.id FROM persons p JOIN users u"
                 " ON u.person_id = p.id AND u.role = 'insured'"
                 " WHERE p.id_number_hmac = '%s'", id_hmac(b["id_number"]))[0]
    assert sql("SELECT withdraw_application(%s, %s, 'insured', %s, NULL,"
               " NULL) IS NULL", app["id"], ub, pb) == [["t"]]
    assert sql("SELECT withdraw_application(%s, %s, 'agency', NULL, NULL,"
               " '630100') IS NULL", app["id"], ub) == [["t"]]
    assert get(ta, app["id"])["status"] == "draft"
    pa = person_row_id(a["id_number"])
    assert sql("SELECT withdraw_application(%s, %s, 'insured', %s, NULL,"
               " NULL)->>'id'", app["id"], ub, pa) == [[str(app["id"])]]
    assert get(ta, app["id"])["status"] == "withdrawn"


def test_bad_ids_are_400_not_500():
    tok = insured_login(new_person())["token"]
    for path in ("/applications/abc", "/applications/-1",
                 "/applications/99999999999999999999", "/materials/1x"):
        r = api("GET", path, headers=bearer(tok))
        assert r.status_code == 400, (path, r.text)
    assert_error(api("GET", "/applications/999999999", headers=bearer(tok)), 404,
                 "application_not_found")


# --- hospital-assisted filing (R-APP-1, R-APP-7) --------------------------

def test_hospital_files_for_a_person_with_precheck():
    p = new_person(region="630100", name="陈测试")
    hosp = login("hospital-qhph")["token"]               # 青海省人民医院
    form = {"id_number": p["id_number"], "name": p["name"],
            "disease_code": "D013", "phone": p["phone"],
            "medical_record_no": "QH-001",
            "designated_institution": "H63010200143"}
    r = api("POST", "/hospital/applications", headers=bearer(hosp), json=form)
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["channel"] == "hospital"
    assert app["filing_institution"] == "H63010200143"
    assert [m["kind"] for m in app["precheck"]["missing_materials"]] == \
        required_kinds(app)
    assert app["precheck"]["refusal"] is None
    assert app["timeline"][0]["text"] == "医院已代为填报申请"
    # The hospital attaches its own records and submits.
    app = complete(hosp, app)
    r = submit(hosp, app["id"])
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    # The person sees it among their own.
    tok = insured_login(p)["token"]
    mine = api("GET", "/applications", headers=bearer(tok)).json()["items"]
    assert [a["id"] for a in mine] == [app["id"]]
    assert get(tok, app["id"])["status"] in ("submitted", "in_review")
    # Another hospital does not.
    other = unique("hosp")
    ctl("user", "add", "--role", "hospital", "--login", other,
        "--password", "hospital-pass-2", "--institution", "H63010300017")
    ot = login(other, "hospital-pass-2")["token"]
    assert_error(api("GET", "/applications/%s" % app["id"], headers=bearer(ot)),
                 404, "application_not_found")


def test_hospital_filing_refuses_unknown_person():
    hosp = login("hospital-qhph")["token"]
    r = api("POST", "/hospital/applications", headers=bearer(hosp), json={
        "id_number": "630100196704180127", "name": "不是她",
        "disease_code": "D013", "phone": "13800000006",
        "medical_record_no": "QH-2", "designated_institution": "H63010200143"})
    assert_error(r, 422, "person_not_found", "id_number")
    tok = insured_login(new_person())["token"]
    assert_error(api("POST", "/hospital/applications", headers=bearer(tok),
                     json={}), 403, "forbidden")


def test_progress_read_after_logout_or_expiry_is_401():
    """Once a session is gone, every apply worker answers 401 within a
    second, never the data, even those that served it a moment ago (each
    worker keeps a session it read for half a second, issue 13)."""
    p, q = new_person(), new_person()
    tok = insured_login(p)["token"]
    app = draft(tok)
    for _ in range(12):         # every apply worker has seen the session
        assert api("GET", "/applications/%s" % app["id"],
                   headers=bearer(tok)).status_code == 200
    assert api("POST", "/auth/logout", headers=bearer(tok)).status_code == 204
    time.sleep(1.0)
    for _ in range(12):
        r = api("GET", "/applications/%s" % app["id"], headers=bearer(tok))
        assert_error(r, 401, "unauthenticated")
        assert "applicant" not in r.text
    tok2 = insured_login(q)["token"]
    for _ in range(12):
        assert api("GET", "/applications", headers=bearer(tok2)).status_code == 200
    redis("DEL", "sess:" + hashlib.sha256(tok2.encode()).hexdigest())
    time.sleep(1.0)
    for _ in range(12):
        assert_error(api("GET", "/applications", headers=bearer(tok2)), 401,
                     "unauthenticated")


# --- answers that have no row (issue 9 A8) --------------------------------

def test_a_missing_view_row_is_an_envelope_not_a_dead_worker():
    """With the progress view not built (its trigger off), creating a
    draft reads no row of application_views: the worker answers 500 with
    the envelope instead of crashing on row 0 (nginx's 502)."""
    p = new_person()
    tok = insured_login(p)["token"]
    sql("ALTER TABLE events DISABLE TRIGGER events_refresh_view")
    try:
        r = api("POST", "/applications", headers=bearer(tok), json={
            "disease_code": "D013", "phone": p["phone"],
            "medical_record_no": "A8", "designated_institution":
            "H41120000001"})
    finally:
        sql("ALTER TABLE events ENABLE TRIGGER events_refresh_view")
    assert_error(r, 500, "internal_error")


# --- nothing a client sends is dropped unseen (issue 9 A9) ----------------

def test_unknown_json_field_is_400_naming_it():
    p = new_person()
    tok = insured_login(p)["token"]
    base = {"disease_code": "D013", "phone": p["phone"],
            "medical_record_no": "U1", "designated_institution": "H41120000001"}
    for extra, field in (({"phnoe": "13900000000"}, "phnoe"),
                         ({"agent": {"name": "李四", "id_number":
                                     "110105198001010016", "relation": "子女",
                                     "phone": "13900000001", "nmae": "x"}},
                          "agent.nmae"),
                         ({"agentx": None}, "agentx")):
        err = assert_error(api("POST", "/applications", headers=bearer(tok),
                               json=dict(base, **extra)),
                           400, "unknown_field", field)
        assert field in err["message"]
    assert api("GET", "/applications", headers=bearer(tok)).json()["items"] \
        == []
    # The same on a patch, and "agent": null still removes the agent.
    app = draft(tok)
    assert_error(api("PATCH", "/applications/%s" % app["id"],
                     headers=bearer(tok), json={"medical_record": "X"}),
                 400, "unknown_field", "medical_record")
    r = api("PATCH", "/applications/%s" % app["id"], headers=bearer(tok),
            json={"agent": None, "medical_record_no": "U2"})
    assert r.status_code == 200, r.text
    assert r.json()["medical_record_no"] == "U2"
    # And on a route with no body fields at all.
    assert_error(submit(tok, app["id"], json={"promise": True, "x": 1}),
                 400, "unknown_field", "x")


def test_upload_with_two_files_or_an_unknown_part_is_400():
    p = new_person()
    tok = insured_login(p)["token"]
    app = draft(tok)
    issued = (TODAY - datetime.timedelta(days=10)).isoformat()
    form = {"kind": "inpatient_record", "issued_on": issued, "issuer": "医院"}
    url = "/applications/%s/materials" % app["id"]
    r = api("POST", url, headers=bearer(tok), data=form,
            files=[("file", ("a.png", PNG, "image/png")),
                   ("file", ("b.pdf", PDF, "application/pdf"))])
    assert_error(r, 400, "duplicate_field", "file")
    r = api("POST", url, headers=bearer(tok),
            data=dict(form, remark="x"),
            files={"file": ("a.png", PNG, "image/png")})
    assert_error(r, 400, "unknown_field", "remark")
    r = api("POST", url, headers=bearer(tok),
            data=[("kind", "inpatient_record"), ("kind", "lab_report"),
                  ("issued_on", issued), ("issuer", "医院")],
            files={"file": ("a.png", PNG, "image/png")})
    assert_error(r, 400, "duplicate_field", "kind")
    assert get(tok, app["id"])["materials"] == []
    # A file input left empty by a browser is a missing file.
    r = api("POST", url, headers=bearer(tok), data=form,
            files={"file": ("", b"", "application/octet-stream")})
    assert_error(r, 400, "field_required", "file")
    r = api("POST", url, headers=bearer(tok), data=dict(form, issuer=""),
            files={"file": ("a.png", PNG, "image/png")})
    assert_error(r, 400, "field_required", "issuer")
    r = api("POST", url, headers=bearer(tok), data=form,
            files={"file": ("a.png", PNG, "image/png")})
    assert r.status_code == 201, r.text


def test_upload_leftovers_are_swept_when_workers_start():
    """A worker killed between writing an upload's temporary file and
    renaming it leaves a .tmp-* file; the next apply workers remove those
    older than an hour and leave a live writer's alone (issue 9 A9)."""
    p = new_person()
    tok = insured_login(p)["token"]
    data = PNG + os.urandom(16)
    r = upload(tok, draft(tok)["id"], "inpatient_record", data=data)
    assert r.status_code == 201
    # Stored sealed under its random name (issue 15, shared/mt_files.h).
    blob = sql("SELECT blob FROM materials WHERE id = %s", r.json()["id"])[0][0]
    leaf = os.path.join(VAR, "files", blob[:2], blob[2:4])   # the workers'
    old = os.path.join(leaf, ".tmp-" + unique("old"))
    new = os.path.join(leaf, ".tmp-" + unique("new"))
    for path in (old, new):
        open(path, "wb").write(b"half an upload")
    then = time.time() - 7200
    os.utime(old, (then, then))
    stack("modules-stop")
    stack("modules-start")
    try:
        assert wait_for(lambda: not os.path.exists(old), timeout=60)
        assert os.path.exists(new)
    finally:
        if os.path.exists(new):
            os.unlink(new)


def test_a_long_kind_name_is_kept_whole():
    """A material kind's name of 80 bytes in UTF-8 (D003's
    凝血因子活性测定等报告（FVIII/IX、VWFAg、APTT、抑制物筛查）) is uploaded
    and named whole on the timeline: a 64-byte buffer cut it inside a
    character and the upload answered 500 (R-APP-3)."""
    tok = insured_login(new_person())["token"]
    app = draft(tok, disease="D003")
    r = upload(tok, app["id"], "coagulation_report")
    assert r.status_code == 201, r.text
    name = "凝血因子活性测定等报告（FVIII/IX、VWFAg、APTT、抑制物筛查）"
    assert r.json()["name"] == name, r.json()
    view = api("GET", "/applications/%s" % app["id"],
               headers=bearer(tok)).json()
    assert any(e["text"] == "已上传材料：" + name for e in view["timeline"]), \
        view["timeline"]
