"""Module agency, the confirmation of hospitals' results (issue 11 item 4):
the 待确认 queue, the archive of one application (R-SUP-6, S4 三) and
POST /agency/applications/{id}/confirm (R-CER-11, S3 第七条(三), S4 三).

The hospital's side (on-site certification, panels, the notice) is built
by other endpoints; these tests arrange a hospital's result with SQL, as
those endpoints leave it (the form or the panel, the state, confirmation
pending), and assert what the agency and the person see."""
import pytest

from conftest import identity_of
from conftest import (api, assert_error, bearer, ctl, live_assignment, login,
                      new_expert, new_region, sms_lines, sql,
                      submitted_application, today, unique, wait_sms)


def agency_of(region):
    """A signed-in agency account of region (its token)."""
    user = unique("ag")
    ctl("user", "add", "--role", "agency", "--login", user,
        "--password", "agency-pass-1", "--region", region)
    return login(user, "agency-pass-1")["token"]


def hospital_user(institution):
    user = unique("hs")
    ctl("user", "add", "--role", "hospital", "--login", user,
        "--password", "hospital-pass-1", "--institution", institution)
    return int(sql("SELECT id FROM users WHERE login = '%s'", user)[0][0])


def onsite_region():
    """A region of its own whose D013 is certified on site (S1, S4)."""
    reg = new_region()
    sql("UPDATE region_diseases SET review_mode = 'onsite'"
        " WHERE region = '%s' AND disease = 'D013'", reg["region"])
    return reg


def certified(reg, approve=True, hospital=0, settle=True):
    """A submitted application of a new person of reg, certified on site
    by its hospital as the certification endpoint leaves it: the form,
    the event, confirmation pending and (settle) the outcome through
    conclude_application.  (insured token, application)."""
    tok, app = submitted_application(reg, hospital_index=hospital)
    inst = reg["hospitals"][hospital]
    assert sql("SELECT certifying_institution FROM applications"
               " WHERE id = %s", app["id"]) == [[inst]]
    by = hospital_user(inst)
    sql("INSERT INTO certifications (application_id, institution, diagnosis,"
        " basis, examinations, physician_name, physician_title, conclusion,"
        " reason, certified_by) VALUES (%s, '%s', '冠状动脉粥样硬化性心脏病',"
        " '冠脉造影示前降支狭窄 75%%', '心电图、冠脉造影', '李医生', '副高',"
        " '%s', %s, %s)", app["id"], inst, "approve" if approve else "reject",
        "NULL" if approve else "'血压未达标准'", by)
    sql("INSERT INTO events (application_id, type, actor_user, actor_role,"
        " data) SELECT %s, 'certified_onsite', %s, 'hospital',"
        " jsonb_build_object('conclusion', '%s', 'institution_name', name)"
        " FROM institutions WHERE code = '%s'", app["id"], by,
        "approve" if approve else "reject", inst)
    sql("UPDATE applications SET confirmation = 'pending' WHERE id = %s",
        app["id"])
    if settle:
        sql("SELECT conclude_application(%s, %s, NULL, %s)", app["id"],
            "true" if approve else "false",
            "NULL" if approve else "'血压未达标准'")
    return tok, app


def confirm(tok, app_id, **body):
    return api("POST", "/agency/applications/%s/confirm" % app_id,
               headers=bearer(tok), json=body)


def detail(tok, app_id):
    return api("GET", "/agency/applications/%s" % app_id,
               headers=bearer(tok))


def qualification_of(app_id):
    return sql("SELECT id, status, end_reason FROM qualifications"
               " WHERE application_id = %s", app_id)


def test_pending_results_wait_in_the_agencys_queue():
    """R-CER-11: results produced by hospitals wait in the agency's queue
    as 待确认, with the hospital and its conclusion; another region's
    agency does not see them; confirmed ones leave the queue."""
    reg = onsite_region()
    _, yes = certified(reg)
    _, no = certified(reg, approve=False)
    ag = agency_of(reg["region"])
    r = api("GET", "/agency/applications", headers=bearer(ag),
            params={"confirmation": "pending"})
    assert r.status_code == 200, r.text
    items = {x["id"]: x for x in r.json()["items"]}
    assert set(items) == {yes["id"], no["id"]}
    assert items[yes["id"]]["status"] == "approved"
    assert items[yes["id"]]["conclusion"] == "approve"
    assert items[no["id"]]["conclusion"] == "reject"
    assert items[yes["id"]]["confirmation"] == "pending"
    assert items[yes["id"]]["certifying_institution"] == {
        "code": reg["hospitals"][0], "name": "测试医院1"}
    assert "*" in items[yes["id"]]["applicant"]["id_number"]
    other = agency_of(onsite_region()["region"])
    r = api("GET", "/agency/applications", headers=bearer(other),
            params={"confirmation": "pending"})
    assert r.status_code == 200 and r.json()["items"] == [], r.text
    assert confirm(ag, yes["id"], decision="confirm").status_code == 200
    r = api("GET", "/agency/applications", headers=bearer(ag),
            params={"confirmation": "pending"})
    assert [x["id"] for x in r.json()["items"]] == [no["id"]]


def test_queue_refuses_an_unknown_confirmation():
    ag = agency_of(onsite_region()["region"])
    r = api("GET", "/agency/applications", headers=bearer(ag),
            params={"confirmation": "maybe"})
    assert_error(r, 400, "field_invalid", "confirmation")


def test_archive_shows_the_form_and_is_logged():
    """R-SUP-6, S4 三: the certification form stays in the archive; the
    agency opens it (the person masked) and the read is logged in
    access_log as a certification."""
    reg = onsite_region()
    _, app = certified(reg)
    ag = agency_of(reg["region"])
    r = detail(ag, app["id"])
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["id"] == app["id"] and body["status"] == "approved"
    assert body["confirmation"] == "pending"
    assert body["confirmed_at"] is None
    assert "*" in body["applicant"]["id_number"]
    form = body["certification"]
    assert form["diagnosis"] == "冠状动脉粥样硬化性心脏病"
    assert form["physician_title"] == "副高"
    assert form["conclusion"] == "approve"
    assert form["institution"]["code"] == reg["hospitals"][0]
    assert body["panel"] is None and body["publicity"] is None
    assert body["assignments"] == []
    assert len(body["materials"]) >= 1
    assert any("现场认定" in x["text"] for x in body["timeline"])
    uid = sql("SELECT id FROM users WHERE region = '%s' AND role = 'agency'",
              reg["region"])[0][0]
    assert sql("SELECT object_type, action FROM access_log WHERE user_id = %s"
               " AND object_id = %s", uid, app["id"]) == [
                   ["certification", "read"]]


def test_archive_is_open_to_the_hospitals_region_not_others():
    """S4 三, R-CER-13: a hospital the province authorizes certifies a
    person of another region: the agency of the person's region and of
    the hospital's region may open the record, another region's agency
    gets 404; only the person's region's agency confirms."""
    home = onsite_region()
    there = new_region()
    sql("UPDATE institutions SET province_wide = true WHERE code = '%s'",
        there["hospitals"][0])
    try:
        province_wide_case(home, there)
    finally:
        # A province-wide test hospital would show up in every later test
        # region of the same two-digit province (new_region).
        sql("UPDATE institutions SET province_wide = false WHERE code = '%s'",
            there["hospitals"][0])


def province_wide_case(home, there):
    _, app = certified(home)
    # As if the province-wide hospital of the other region certified it.
    sql("UPDATE applications SET certifying_institution = '%s' WHERE id = %s",
        there["hospitals"][0], app["id"])
    assert detail(agency_of(home["region"]), app["id"]).status_code == 200
    ag_there = agency_of(there["region"])
    assert detail(ag_there, app["id"]).status_code == 200
    r = detail(agency_of(onsite_region()["region"]), app["id"])
    assert_error(r, 404, "application_not_found")
    r = confirm(ag_there, app["id"], decision="confirm")
    assert_error(r, 404, "application_not_found", "id")
    assert sql("SELECT confirmation FROM applications WHERE id = %s",
               app["id"]) == [["pending"]]


def test_archive_of_an_expert_review_shows_every_draw():
    """API.md: the whole trail of an expert-reviewed application -- every
    draw with its pool, the refusal, the decision."""
    reg = new_region()
    admin = login("admin")["token"]
    experts = [new_expert(admin, h, ["心血管"]) for h in reg["hospitals"][1:]]
    _, app = submitted_application(reg)
    first = live_assignment(app["id"])
    tok = next(e["token"] for e in experts if e["id"] == first["expert"])
    r = api("POST", "/expert/tasks/%s/refuse" % first["id"],
            headers=bearer(tok), json={"reason": "本周出差"})
    assert r.status_code == 200, r.text
    second = live_assignment(app["id"])
    assert second["id"] != first["id"]
    body = detail(agency_of(reg["region"]), app["id"]).json()
    trail = body["assignments"]
    assert [t["id"] for t in trail][:2] == [first["id"], second["id"]]
    assert trail[0]["state"] == "refused"
    assert trail[0]["refuse_reason"] == "本周出差"
    assert trail[0]["pool_size"] >= 1 and trail[0]["stage"] == 1
    assert body["certification"] is None and body["confirmation"] is None
    uid = sql("SELECT id FROM users WHERE region = '%s' AND role = 'agency'",
              reg["region"])[0][0]
    assert sql("SELECT object_type FROM access_log WHERE user_id = %s"
               " AND object_id = %s", uid, app["id"]) == [["application"]]


def test_confirm_an_approval():
    """R-CER-11: confirm keeps the result: confirmation confirmed, the
    event on the person's timeline, the qualification untouched."""
    reg = onsite_region()
    tok, app = certified(reg)
    ag = agency_of(reg["region"])
    r = confirm(ag, app["id"], decision="confirm")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["confirmation"] == "confirmed" and body["confirmed_at"]
    assert body["status"] == "approved"
    assert qualification_of(app["id"])[0][1] == "active"
    mine = api("GET", "/applications/%s" % app["id"], headers=bearer(tok))
    texts = [x["text"] for x in mine.json()["timeline"]]
    assert "医保经办机构已确认认定结果" in texts
    assert mine.json()["confirmation"] == "confirmed"
    r = confirm(ag, app["id"], decision="confirm")
    assert_error(r, 409, "not_awaiting_confirmation")


def test_overturn_voids_the_approval_and_revokes_the_qualification():
    """S4 三: an overturned result is void: the application is rejected
    with the reason, the qualification revoked (end reason overturned),
    an SMS to the person, the event on the record."""
    reg = onsite_region()
    tok, app = certified(reg)
    phone = identity_of(sql("SELECT person_id FROM applications"
                            " WHERE id = %s", app["id"])[0][0])[1]
    before = len(sms_lines(phone))
    ag = agency_of(reg["region"])
    r = confirm(ag, app["id"], decision="overturn",
                reason="检查报告与病历不符")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "rejected"
    assert body["confirmation"] == "overturned"
    assert body["confirmation_reason"] == "检查报告与病历不符"
    assert body["qualification"]["status"] == "revoked"
    q = qualification_of(app["id"])
    assert q[0][1:] == ["revoked", "overturned"]
    quals = api("GET", "/qualifications", headers=bearer(tok)).json()
    mine = next(x for x in quals["items"] if x["id"] == int(q[0][0]))
    assert mine["status"] == "revoked"
    assert mine["end_reason_text"] == "认定结果经医保经办机构审核未予确认"
    msgs = wait_sms(phone, before + 1)
    assert any("终止" in m["text"] and "未予确认" in m["text"]
               for m in msgs[before:]), msgs
    view = api("GET", "/applications/%s" % app["id"],
               headers=bearer(tok)).json()
    assert view["status"] == "rejected"
    assert view["decision_reason"] == "检查报告与病历不符"
    texts = [x["text"] for x in view["timeline"]]
    assert "医保经办机构未予确认，认定结果无效：检查报告与病历不符" in texts
    assert any(t.startswith("待遇已于 %s 终止" % today()) for t in texts)
    assert_error(confirm(ag, app["id"], decision="confirm"), 409,
                 "not_awaiting_confirmation")


def test_overturn_needs_a_reason():
    reg = onsite_region()
    _, app = certified(reg)
    ag = agency_of(reg["region"])
    r = confirm(ag, app["id"], decision="overturn")
    assert_error(r, 400, "field_required", "reason")
    r = confirm(ag, app["id"], decision="overturn", reason="  ")
    assert r.status_code == 400, r.text
    assert qualification_of(app["id"])[0][1] == "active"


def test_a_rejection_is_confirmed_not_overturned():
    """R-CER-11: a hospital's rejection is confirmed; overturning it is
    409 (the person's remedy is the objection procedure)."""
    reg = onsite_region()
    _, app = certified(reg, approve=False)
    ag = agency_of(reg["region"])
    r = confirm(ag, app["id"], decision="overturn", reason="应予认定")
    err = assert_error(r, 409, "overturn_not_allowed")
    assert "复核" in err["message"]
    r = confirm(ag, app["id"], decision="confirm")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"
    assert r.json()["confirmation"] == "confirmed"


def test_benefits_waiting_for_confirmation_start_when_confirmed():
    """benefit_waits_confirmation: a hospital's approval still in review
    becomes a qualification only when the agency confirms (from the
    day of the confirmation, benefit_start)."""
    reg = onsite_region()
    tok, app = certified(reg, settle=False)
    sql("UPDATE applications SET status = 'in_review' WHERE id = %s",
        app["id"])
    ag = agency_of(reg["region"])
    assert qualification_of(app["id"]) == []
    r = confirm(ag, app["id"], decision="confirm")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "approved"
    assert body["qualification"]["valid_from"] == str(today())
    assert qualification_of(app["id"])[0][1] == "active"


def test_an_objected_notice_is_decided_by_the_agency():
    """R-CER-10, S2 二(二): a notice with an objection holds the case for
    the agency: overturn rejects it (notice withdrawn, SMS), confirm
    approves it (notice ended); the objections are in the archive."""
    reg = new_region()
    sql("UPDATE region_diseases SET review_mode = 'panel'"
        " WHERE region = '%s' AND disease = 'D013'", reg["region"])
    ag = agency_of(reg["region"])
    member = new_expert(login("admin")["token"], reg["hospitals"][0],
                        ["心血管"])
    outcomes = {}
    for decision in ("overturn", "confirm"):
        tok, app = submitted_application(reg)
        by = hospital_user(reg["hospitals"][0])
        sql("INSERT INTO panel_decisions (application_id, institution,"
            " conclusion, opinion, decided_by) VALUES (%s, '%s', 'approve',"
            " '符合定额病种认定标准', %s)", app["id"], reg["hospitals"][0], by)
        sql("INSERT INTO panel_members VALUES (%s, %s, 'approve', '同意')",
            app["id"], member["id"])
        pid = sql("INSERT INTO publicity (application_id, institution, region,"
                  " starts_on, ends_on, state, closed_at) VALUES (%s, '%s',"
                  " '%s', cn_today(), add_working_days(cn_today(), 4),"
                  " 'objected', now()) RETURNING id", app["id"],
                  reg["hospitals"][0], reg["region"])[0][0]
        sql("INSERT INTO publicity_objections (publicity_id, reason)"
            " VALUES (%s, '此人并未患病')", pid)
        sql("UPDATE applications SET status = 'in_review',"
            " confirmation = 'pending' WHERE id = %s", app["id"])
        body = detail(ag, app["id"]).json()
        assert body["panel"]["conclusion"] == "approve"
        assert body["panel"]["members"] == [{
            "expert_id": member["id"], "name": member["login"],
            "title": "副高", "opinion": "approve", "note": "同意"}]
        assert body["publicity"]["state"] == "objected"
        assert [o["reason"] for o in body["publicity"]["objections"]] == [
            "此人并未患病"]
        r = confirm(ag, app["id"], decision=decision,
                    reason="经核实异议成立" if decision == "overturn" else None)
        assert r.status_code == 200, r.text
        outcomes[decision] = r.json()
    no, yes = outcomes["overturn"], outcomes["confirm"]
    assert no["status"] == "rejected" and no["qualification"] is None
    assert no["publicity"]["state"] == "withdrawn"
    assert no["decision_reason"] == "经核实异议成立"
    assert yes["status"] == "approved" and yes["qualification"]
    assert yes["publicity"]["state"] == "ended"


def test_only_pending_results_are_decided():
    """Nothing to confirm: an expert-reviewed application and a missing
    one."""
    reg = new_region()
    _, app = submitted_application(reg)
    ag = agency_of(reg["region"])
    assert_error(confirm(ag, app["id"], decision="confirm"), 409,
                 "not_awaiting_confirmation")
    assert_error(confirm(ag, 999999999, decision="confirm"), 404,
                 "application_not_found")
    assert_error(detail(ag, 999999999), 404, "application_not_found")


@pytest.mark.parametrize("body,field", [
    ({}, "decision"),
    ({"decision": "maybe"}, "decision"),
    ({"decision": "overturn", "reason": "x" * 1001}, "reason"),
    ({"decision": "overturn", "reason": "a\x01b"}, "reason"),
])
def test_confirm_refuses_bad_input(body, field):
    reg = onsite_region()
    ag = agency_of(reg["region"])
    r = confirm(ag, 1, **body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field


def test_others_may_not_confirm():
    """Only agency staff (and admins): an insured person is 403."""
    reg = onsite_region()
    tok, app = certified(reg)
    r = confirm(tok, app["id"], decision="confirm")
    assert r.status_code == 403, r.text
    assert detail(tok, app["id"]).status_code == 403
