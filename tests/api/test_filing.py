"""Who files an application (issue 11 item 6): a family member for a
relative (R-APP-9, S2 承诺书), agency staff at the counter (R-APP-1,
channel counter), hospital staff only for diseases their hospital may
certify where hospitals certify (R-APP-7, R-CER-9, S1)."""

import pytest

from conftest import id_hmac, person_row_id
from conftest import (api, assert_error, bearer, complete, draft,
                      insured_login, login, new_person, required_kinds, sql,
                      upload, wait_sms)

AGENCY_PW = "mtcert-agency-2026"
HOSPITAL_PW = "mtcert-hospital-2026"


def get(token, app_id):
    return api("GET", "/applications/%s" % app_id, headers=bearer(token))


def submit(token, app_id):
    return api("POST", "/applications/%s/submit" % app_id,
               headers=bearer(token), json={"promise": True})


def form(disease="D013", institution="H41120000001", phone="13900000000",
         **extra):
    body = {"disease_code": disease, "phone": phone,
            "medical_record_no": "MR-F-1",
            "designated_institution": institution}
    body.update(extra)
    return body


def relative(person, relation="子女", promise=True):
    return {"id_number": person["id_number"], "name": person["name"],
            "relation": relation, "promise": promise}


def outsider_then_withdraw(other, token, app_id):
    """Another scope reads and withdraws app_id: 404 both; then token's
    caller withdraws it."""
    assert_error(get(other, app_id), 404, "application_not_found")
    assert_error(api("POST", "/applications/%s/withdraw" % app_id,
                     headers=bearer(other)), 404, "application_not_found")
    r = api("POST", "/applications/%s/withdraw" % app_id,
            headers=bearer(token))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"


def person_id(p):
    return person_row_id(p["id_number"])


def user_of(p):
    return sql("SELECT u.id FROM users u JOIN persons p ON p.id = u.person_id"
               " WHERE p.id_number_hmac = '%s'", id_hmac(p["id_number"]))[0][0]


# --- family filing (R-APP-9, S2 承诺书) ------------------------------------

def test_son_files_for_his_mother_and_both_follow_it():
    """R-APP-9: the son signs in as himself and files for his mother; the
    application is hers, he is its agent (his own name, ID number and
    phone), both follow it, nobody else sees it."""
    mother = new_person(name="王秀英")
    son = new_person(name="李强")
    tok = insured_login(son)["token"]
    r = api("POST", "/applications", headers=bearer(tok),
            json=form(phone=son["phone"], relative=relative(mother)))
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["applicant"]["name"] == "王秀英"
    assert app["agent"]["name"] == "李强"
    assert app["agent"]["relation"] == "子女"
    assert app["agent"]["phone"] == son["phone"]
    assert app["agent"]["id_number"] != son["id_number"]     # masked
    assert app["timeline"][0]["type"] == "filed_by_agent"
    assert app["timeline"][0]["text"] == "家属李强（子女）已代为填报申请"
    row = sql("SELECT person_id, agent_person_id, channel FROM applications"
              " WHERE id = %s", app["id"])[0]
    assert row == [person_id(mother), person_id(son), "mini_program"]
    # His list shows it, marked as filed for a relative, with her name.
    items = api("GET", "/applications", headers=bearer(tok)).json()["items"]
    assert [(a["id"], a["filed_for"], a["applicant"]["name"])
            for a in items] == [(app["id"], True, "王秀英")]
    # He edits it, uploads and submits; the SMS goes to the phone he gave.
    r = api("PATCH", "/applications/%s" % app["id"], headers=bearer(tok),
            json={"medical_record_no": "MR-F-2"})
    assert r.status_code == 200 and r.json()["medical_record_no"] == "MR-F-2"
    assert r.json()["agent"]["name"] == "李强"
    complete(tok, app)
    r = submit(tok, app["id"])
    assert r.status_code == 200, r.text
    assert any(m["template"] == "application_submitted"
               for m in wait_sms(son["phone"], 2))
    # His reads of her record are logged; she sees it as her own.
    assert get(tok, app["id"]).status_code == 200
    assert sql("SELECT count(*) FROM access_log WHERE user_id = %s"
               " AND person_id = %s AND object_type = 'application'",
               user_of(son), person_id(mother))[0][0] != "0"
    mt = insured_login(mother)["token"]
    items = api("GET", "/applications", headers=bearer(mt)).json()["items"]
    assert [(a["id"], a["filed_for"]) for a in items] == [(app["id"], False)]
    assert get(mt, app["id"]).json()["status"] in ("submitted", "in_review")
    # Another person: 404 to read, to withdraw; the son withdraws it.
    outsider_then_withdraw(insured_login(new_person())["token"], tok,
                           app["id"])


def test_family_filing_refusals():
    """R-APP-9: the promise is required, the relative must be in the
    registry with that name, and is not the caller; the relative's four
    fields come together."""
    me = new_person(name="张伟")
    mother = new_person(name="赵兰")
    tok = insured_login(me)["token"]

    def create(**body):
        return api("POST", "/applications", headers=bearer(tok),
                   json=form(**body))
    r = create(relative=relative(mother, promise=False))
    assert_error(r, 422, "promise_required", "relative.promise")
    assert "承诺" in r.json()["error"]["message"]
    wrong = dict(relative(mother), name="赵芳")
    r = create(relative=wrong)
    assert_error(r, 422, "person_not_found", "relative.id_number")
    assert "参保登记" in r.json()["error"]["message"]
    r = create(relative=relative(me))
    assert_error(r, 422, "agent_is_self", "relative.id_number")
    assert "本人" in r.json()["error"]["message"]
    partial = relative(mother)
    del partial["relation"]
    assert_error(create(relative=partial), 400, "field_required",
                 "relative.relation")
    assert_error(create(relative=relative(mother, relation="邻居")), 400,
                 "field_invalid", "relative.relation")
    agent = {"name": "张伟", "id_number": me["id_number"],
             "relation": "子女", "phone": me["phone"]}
    assert_error(create(relative=relative(mother), agent=agent), 400,
                 "field_invalid", "agent")
    # A person's own form takes no applicant: that is for the counter.
    assert_error(create(id_number=mother["id_number"], name="赵兰"), 400,
                 "field_invalid", "id_number")
    assert sql("SELECT count(*) FROM applications WHERE person_id = %s",
               person_id(mother))[0][0] == "0"


def test_relative_of_another_region_files_in_her_region():
    """R-APP-9: the application is the relative's: her region's catalog,
    hospitals and rules (a son in 三门峡 files for his mother in 济宁)."""
    mother = new_person(region="370800", name="孙梅")
    son = new_person(name="孙涛")
    tok = insured_login(son)["token"]
    r = api("POST", "/applications", headers=bearer(tok),
            json=form(relative=relative(mother, relation="子女")))
    err = assert_error(r, 422, "institution_not_designated",
                       "designated_institution")
    # The refusal names her region, from the registry (the portal then
    # offers that region's catalog and hospitals); nothing is left.
    assert err["details"] == {"region": {"code": "370800", "name": sql(
        "SELECT name FROM regions WHERE code = '370800'")[0][0]}}
    assert sql("SELECT count(*) FROM applications WHERE person_id = %s",
               person_id(mother)) == [["0"]]
    r = api("POST", "/applications", headers=bearer(tok),
            json=form(institution="H37080000001",
                      relative=relative(mother)))
    assert r.status_code == 201, r.text
    assert r.json()["region"] == "370800"


# --- counter filing (R-APP-1) ---------------------------------------------

def test_counter_files_uploads_submits_and_withdraws():
    """R-APP-1: 窗口 staff file for a person of their region (channel
    counter, event filed_at_counter), upload, submit and withdraw; the
    person sees it; another region's agency does not."""
    p = new_person(name="周大爷")
    ag = login("agency-sanmenxia", AGENCY_PW)["token"]
    r = api("POST", "/applications", headers=bearer(ag),
            json=form(id_number=p["id_number"], name="周大爷",
                      phone=p["phone"]))
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["channel"] == "counter"
    assert app["applicant"]["name"] == "周大爷"
    assert app["timeline"][0]["type"] == "filed_at_counter"
    assert "窗口" in app["timeline"][0]["text"]
    app = complete(ag, app)
    assert app["missing_materials"] == []
    r = submit(ag, app["id"])
    assert r.status_code == 200, r.text
    tok = insured_login(p)["token"]
    assert [a["id"] for a in api("GET", "/applications",
            headers=bearer(tok)).json()["items"]] == [app["id"]]
    outsider_then_withdraw(login("agency-xining", AGENCY_PW)["token"], ag,
                           app["id"])


def test_counter_changes_only_what_it_filed():
    """R-APP-1: the counter files for a person; it does not change a
    person's own filing (mini program or web): PATCH, upload, delete a
    material, submit and withdraw are 404 application_not_found for the
    agency there, though it still reads it; on a counter filing all
    work."""
    p = new_person(name="郑大妈")
    tok = insured_login(p)["token"]
    ag = login("agency-sanmenxia", AGENCY_PW)["token"]
    for channel, disease in (("mini_program", "D013"), ("web", "D015")):
        app = draft(tok, disease=disease, phone=p["phone"])
        if channel == "web":
            sql("UPDATE applications SET channel = 'web' WHERE id = %s",
                app["id"])
        assert get(ag, app["id"]).status_code == 200
        r = upload(tok, app["id"], required_kinds(app)[0])
        assert r.status_code == 201, r.text
        mid = r.json()["id"]
        path = "/applications/%s" % app["id"]
        assert_error(api("PATCH", path, headers=bearer(ag),
                         json={"phone": "13900000009"}),
                     404, "application_not_found")
        assert_error(upload(ag, app["id"], required_kinds(app)[0]), 404,
                     "application_not_found")
        assert_error(api("DELETE", path + "/materials/%s" % mid,
                         headers=bearer(ag)), 404, "application_not_found")
        app = complete(tok, app)
        assert_error(submit(ag, app["id"]), 404, "application_not_found")
        assert submit(tok, app["id"]).status_code == 200
        assert_error(api("POST", path + "/withdraw", headers=bearer(ag)),
                     404, "application_not_found")
        assert get(ag, app["id"]).json()["status"] != "withdrawn"
    # At the counter the same calls work.
    r = api("POST", "/applications", headers=bearer(ag),
            json=form(id_number=p["id_number"], name="郑大妈",
                      phone=p["phone"], disease="D001"))
    assert r.status_code == 201, r.text
    app = r.json()
    path = "/applications/%s" % app["id"]
    r = api("PATCH", path, headers=bearer(ag), json={"phone": "13900000009"})
    assert r.status_code == 200, r.text
    r = upload(ag, app["id"], required_kinds(app)[0])
    assert r.status_code == 201, r.text
    r = api("DELETE", path + "/materials/%s" % r.json()["id"],
            headers=bearer(ag))
    assert r.status_code == 204, r.text
    app = complete(ag, get(ag, app["id"]).json())
    assert submit(ag, app["id"]).status_code == 200
    r = api("POST", path + "/withdraw", headers=bearer(ag))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"


def test_counter_refusals():
    """R-APP-1: the counter serves its own region: a person of another
    region is not found (nothing revealed); the applicant is required."""
    ag = login("agency-sanmenxia", AGENCY_PW)["token"]
    far = new_person(region="532300", name="远方人")
    r = api("POST", "/applications", headers=bearer(ag),
            json=form(id_number=far["id_number"], name="远方人"))
    assert_error(r, 422, "person_not_found", "id_number")
    assert "参保登记" in r.json()["error"]["message"]
    assert_error(api("POST", "/applications", headers=bearer(ag),
                     json=form()), 400, "field_required", "id_number")
    p = new_person(name="吴婶")
    assert_error(api("POST", "/applications", headers=bearer(ag),
                     json=form(relative=relative(p))), 400, "field_invalid",
                 "relative")
    assert_error(api("POST", "/applications", headers=bearer(ag),
                     json=form(id_number=p["id_number"], name="吴叔")),
                 422, "person_not_found", "id_number")
    # Hospital staff file at /hospital/applications.
    hosp = login("hospital-smx", HOSPITAL_PW)["token"]
    assert_error(api("POST", "/applications", headers=bearer(hosp),
                     json=form()), 403, "forbidden")


# --- hospital filing where hospitals certify (R-APP-7, R-CER-9, S1) --------

def hospital_file(token, p, disease, institution):
    return api("POST", "/hospital/applications", headers=bearer(token),
               json=form(disease=disease, institution=institution,
                         id_number=p["id_number"], name=p["name"],
                         phone=p["phone"]))


def test_psychiatric_hospital_files_only_what_it_certifies():
    """R-APP-7 with R-CER-9 (S1 现场确认备案): in 禄丰, where hospitals
    certify on site, 康宁 (psychiatric, D006 only) cannot file 癫痫 D031
    (403 with the reason) nor be designated for 高血压 D015 (422); filing
    D006 works, with the pre-check and its own records attached."""
    p = new_person(region="532300", name="杨三")
    kn = login("hospital-kangning", HOSPITAL_PW)["token"]
    r = hospital_file(kn, p, "D031", "H53230000001")
    assert_error(r, 403, "institution_not_authorized")
    assert "认定" in r.json()["error"]["message"]
    r = hospital_file(kn, p, "D015", "H53230000005")
    assert_error(r, 422, "institution_not_designated",
                 "designated_institution")
    assert sql("SELECT count(*) FROM applications WHERE person_id = %s",
               person_id(p))[0][0] == "0"
    r = hospital_file(kn, p, "D006", "H53230000005")
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["precheck"]["refusal"] is None
    assert app["precheck"]["missing_materials"] == app["missing_materials"]
    # The hospital's own electronic records: a kind for any disease, the
    # hospital's only.
    r = upload(kn, app["id"], "hospital_record", issuer="康宁医院")
    assert r.status_code == 201, r.text
    assert r.json()["name"].startswith("医院电子病历")
    app = complete(kn, app)
    assert submit(kn, app["id"]).status_code == 200
    view = get(kn, app["id"]).json()
    assert view["certifying_institution"]["code"] == "H53230000005"
    tok = insured_login(p)["token"]
    other = api("POST", "/applications", headers=bearer(tok),
                json=form(disease="D015", institution="H53230000001"))
    assert other.status_code == 201, other.text
    assert_error(upload(tok, other.json()["id"], "hospital_record"), 422,
                 "material_kind_not_needed", "kind")


@pytest.mark.parametrize("disease,good,bad,code,word", [
    # R-CER-9, S1: 康宁 is limited to D006: not designated for 高血压.
    ("D015", "H53230000001", "H53230000005", "institution_not_designated",
     "定点"),
    # R-CER-8/9 (S1 现场确认备案): where hospitals certify on site, a
    # hospital that may serve but not certify the disease.
    ("D006", "H53230000005", "H53230000001", "designated_not_certifying",
     "认定"),
])
def test_person_cannot_choose_a_hospital_unfit_for_the_disease(
        disease, good, bad, code, word):
    """A person in 禄丰 cannot choose an unfit hospital, neither when
    creating nor by a change (the draft keeps its hospital)."""
    p = new_person(region="532300", name="马四")
    tok = insured_login(p)["token"]
    r = api("POST", "/applications", headers=bearer(tok),
            json=form(disease=disease, institution=bad))
    assert_error(r, 422, code, "designated_institution")
    assert word in r.json()["error"]["message"]
    r = api("POST", "/applications", headers=bearer(tok),
            json=form(disease=disease, institution=good))
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    r = api("PATCH", "/applications/%s" % app_id, headers=bearer(tok),
            json={"designated_institution": bad})
    assert_error(r, 422, code, "designated_institution")
    assert get(tok, app_id).json()["designated_institution"]["code"] == good
