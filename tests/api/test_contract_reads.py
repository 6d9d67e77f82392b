"""The answers themselves against the contract: every read a person makes
on an application's way from submit to a qualification (the insured
person, the expert, the agency, the hospital), checked against the schema
docs/openapi.yaml gives its 200 -- with the lists holding that
application, so their items are checked too, not only an empty page.
Mobile clients are generated from that file (API.md): a field the server
leaves out, a type or an enumeration it breaks, is their crash.
R-APP-1, R-CER-1, R-CER-6, R-CER-8, R-CER-10, R-CER-11, R-BEN-1."""
import jsonschema
import pytest

from conftest import (api, bearer, id_number, live_assignment, login,
                      new_person, new_region, sql, submitted_application)
from test_onsite import certify, form, hospital_files, staff
from contract import SPEC, answer_schema, conforms
from test_panel import decide as panel_decide
from test_panel import experts, opinions, panel_region, submitted
from test_return import returned_app
from test_review import ONCO, accept, by_id, decide, region_with_experts


def read(who, path, params=None):
    """GET path as who (a token, a header dict, or None for the public):
    200, its body decoded.  conftest's client checks every answer against
    the contract (contract.check_answer), so a read that answers what the
    contract does not say fails here."""
    headers = bearer(who) if isinstance(who, str) else who
    r = api("GET", path, headers=headers, params=params)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def sweep(token, region="411200"):
    """Every documented GET without a path parameter, as token's holder
    (with region where the read asks for one: an admin's agency reads,
    the public reviews): each that answers 200 with JSON is checked.
    Returns their paths."""
    seen = []
    for path, item in sorted(SPEC["paths"].items()):
        op = item.get("get")
        if op is None or "{" in path or answer_schema(path) is None:
            continue
        r = api("GET", path, headers=bearer(token))
        if r.status_code == 400 and r.json()["error"].get("field") == "region":
            r = api("GET", path, headers=bearer(token),
                    params={"region": region})
        assert r.status_code < 500, (path, r.status_code, r.text)
        if r.status_code == 200 and r.headers["Content-Type"].startswith(
                "application/json"):
            seen.append(path)
    return seen


def test_an_application_from_submit_to_qualification_reads_as_documented():
    admin, reg, ex = region_with_experts(ONCO, n=1)
    tok, app = submitted_application(reg, disease="D001")
    aid = app["id"]
    path = "/applications/%s" % aid

    # The insured person, submitted.
    listed = read(tok, "/applications")["items"]
    assert [a["id"] for a in listed] == [aid]
    own = read(tok, path)
    assert own["status"] in ("submitted", "in_review")
    read(tok, "/me")

    # The expert it was pushed to, before and after accepting.
    a = live_assignment(aid)
    e = by_id(ex, a["expert"])
    tasks = read(e["token"], "/expert/tasks")["items"]
    assert [t["application_id"] for t in tasks] == [aid]
    assert accept(e, a["id"]).status_code == 200
    assert read(e["token"], "/expert/tasks", params={"state": "accepted"}
                )["items"][0]["application_id"] == aid
    r = decide(e, a["id"], "approve")
    assert r.status_code == 200 and r.json()["final"] is True
    read(e["token"], "/expert/reviews")

    # The insured person, approved: the decision, who read the file, the
    # qualification and its card.
    assert read(tok, path)["status"] == "approved"
    read(tok, path + "/reads")
    quals = read(tok, "/qualifications")["items"]
    assert [q["disease"]["code"] for q in quals] == ["D001"]
    read(tok, "/qualifications/%s/card" % quals[0]["id"])
    read(tok, "/qualifications/letter")

    # The agency (admin: every region) finds both.
    found = read(admin, "/agency/applications",
                 params={"region": reg["region"], "status": "any"})["items"]
    assert aid in [x["id"] for x in found]
    archive = read(admin, "/agency/applications/%s" % aid)
    # Each reader's phone as its schema pins it (DESIGN.md: masked where
    # staff browse the archive): the applicant's own read whole, the
    # agency's archive masked -- and each schema refuses the other form.
    phone = own["phone"]
    assert len(phone) == 11 and phone.isdigit()
    assert archive["phone"] == phone[:3] + "****" + phone[-4:]
    with pytest.raises(jsonschema.ValidationError):
        conforms(dict(own, phone=archive["phone"]), "ApplicationDetail")
    with pytest.raises(jsonschema.ValidationError):
        conforms(dict(archive, phone=phone), "AgencyApplicationDetail")
    agency_quals = read(admin, "/agency/qualifications",
                        params={"region": reg["region"]})["items"]
    assert [q["id"] for q in agency_quals] == [quals[0]["id"]]
    read(admin, "/agency/policy", params={"region": reg["region"]})
    read(admin, "/agency/institutions/%s/diseases" % reg["hospitals"][0])
    read(admin, "/agency/calendar/2026")

    # Public reads.
    read(None, "/diseases/D001")
    read(None, "/diseases")


def test_a_returned_application_reads_as_documented():
    """S0 二(三): an expert's return, as the expert, the person and the
    agency read it (the task's decision `return`, the push `returned`)."""
    got = returned_app()
    aid, e = got["app"]["id"], got["expert"]
    tasks = read(e["token"], "/expert/tasks", params={"state": "decided"})
    assert [t["decision"] for t in tasks["items"]
            if t["application_id"] == aid] == ["return"]
    assert read(got["tok"], "/applications/%s" % aid)["status"] == "returned"
    archive = read(login("admin")["token"], "/agency/applications/%s" % aid)
    assert "returned" in [x["state"] for x in archive["assignments"]]


def test_a_panel_case_its_notice_and_an_objection_read_as_documented():
    reg = panel_region()
    exs = experts(reg, 3)
    _, tok, app = submitted(reg)
    aid, hosp = app["id"], reg["staff"][0]
    waiting = read(hosp, "/hospital/panel-cases", params={"state": "waiting"})
    assert [x["application_id"] for x in waiting["items"]] == [aid]
    read(hosp, "/hospital/panel-cases/%s" % aid)
    read(hosp, "/hospital/panel-experts")
    r = panel_decide(reg, app, opinions(exs, "approve", "approve", "reject"),
                     opinion="符合冠心病认定标准")
    assert r.status_code == 201, r.text
    pub = r.json()["publicity"]
    notices = read(None, "/hospital/publicity", params={"region": reg["region"]})
    assert [x["id"] for x in notices["items"]] == [pub["id"]]
    assert read(tok, "/applications/%s" % aid)["publicity"]["id"] == pub["id"]
    r = api("POST", "/hospital/publicity/%s/objection" % pub["id"],
            json={"reason": "据我所知此人并无冠心病", "contact": "13800000000"})
    assert r.status_code == 201, r.text
    admin = login("admin")["token"]
    archive = read(admin, "/agency/applications/%s" % aid)
    assert archive["panel"] is not None
    assert len(archive["publicity"]["objections"]) == 1
    pending = read(admin, "/agency/applications",
                   params={"region": reg["region"], "confirmation": "pending"})
    assert aid in [x["id"] for x in pending["items"]]


def test_an_on_site_certification_reads_as_documented():
    hosp = staff("hospital-qhph")
    p = new_person("630100", "陈玉梅")
    app = hospital_files(hosp, p, "D013", "H63010200143")
    r = certify(hosp, form(app["id"]))
    assert r.status_code == 201, r.text
    cid = r.json()["application_id"]
    listed = read(hosp, "/hospital/certifications")["items"]
    assert cid in [c["application_id"] for c in listed]
    read(hosp, "/hospital/certifications/%s" % cid)
    read(hosp, "/applications/%s" % app["id"])
    archive = read(login("agency-xining")["token"],
                   "/agency/applications/%s" % app["id"])
    assert archive["certification"] is not None


def test_a_person_not_sealed_yet_is_listed_with_the_mask_of_the_number():
    """Rows written before the sealed identity columns (043/044) keep the
    plain number until `mtcertctl identity encrypt` seals them, and no
    mask is stored yet: every list masks the plain number (as the phones
    already were), never null.  The agency's list of qualifications
    answered null there."""
    reg = new_region()
    number = id_number(reg["region"])
    pid = sql("INSERT INTO persons (id_number, name, sex, birth_date, phone,"
              " insurance, region) VALUES ('%s', '未封存', 'F', '1950-01-01',"
              " '13700000001', 'resident', '%s') RETURNING id", number,
              reg["region"])[0][0]
    sql("INSERT INTO qualifications (person_id, disease, region,"
        " designated_institution, valid_from, valid_to) VALUES (%s, 'D013',"
        " '%s', '%s', cn_today(), cn_today() + 364)", pid, reg["region"],
        reg["hospitals"][0])
    items = read(login("admin")["token"], "/agency/qualifications",
                 params={"region": reg["region"]})["items"]
    assert [q["holder"]["id_number"] for q in items] == [
        number[:4] + "*" * 10 + number[-4:]]


def test_every_plain_read_of_every_role_is_as_documented():
    """Each role's whole menu of reads without a path parameter: what
    answers 200 is what the contract says (what a role may not read is
    the subject of test_authz)."""
    tok, _ = submitted_application(region_with_experts(ONCO, n=1)[1])
    seen = {}
    for who in ("admin", "agency-sanmenxia", "hospital-qhph", "expert-onc-1"):
        seen[who] = sweep(login(who)["token"])
    seen["insured"] = sweep(tok)
    # Each role reads its own menu: a role answered 200 nowhere would mean
    # the sweep checked nothing of it.
    assert "/agency/applications" in seen["agency-sanmenxia"]
    assert "/hospital/certifications" in seen["hospital-qhph"]
    assert "/expert/tasks" in seen["expert-onc-1"]
    assert {"/applications", "/me", "/qualifications"} <= set(seen["insured"])
    assert {"/agency/policy", "/agency/stats/turnaround", "/agency/diseases"
            } <= set(seen["admin"]), seen["admin"]
