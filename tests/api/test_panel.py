"""Hospital panels and the public notice (issue 11 item 5; R-CER-10,
S2 二(二)): quota diseases of a region in panel mode wait at their
certifying hospital, whose panel decides; an approval is on public notice
for publicity_working_days working days, an objection holds the case for
the agency, a clean notice ends in a qualification from the 1st of next
month (quota_benefit_start = next_month).

Each test has a region of its own (new_region, province 14) with the quota
diseases in panel mode, so its hospitals, experts and policies are its own.
"""
import datetime

from conftest import (api, assert_error, bearer, complete,
                      ctl, draft, insured_login, login, loopback_address, new_expert,
                      new_person, new_region, policy, sql, today, unique)

HOSPITAL_PASSWORD = "hospital-pass-1"
CARDIO = ["心血管"]


def panel_region():
    """A region of province 14 whose quota diseases are certified by a
    hospital panel, quota benefits from the 1st of next month (S2), and a
    staff login for each of its hospitals."""
    reg = new_region(province="14")
    sql("UPDATE region_diseases SET review_mode = 'panel' WHERE region = '%s'"
        " AND disease IN (SELECT code FROM diseases WHERE quota)", reg["region"])
    sql("INSERT INTO policies (region, key, value) VALUES"
        " ('%s', 'quota_benefit_start', 'next_month') ON CONFLICT (region, key)"
        " DO UPDATE SET value = EXCLUDED.value", reg["region"])
    reg["staff"] = []
    for h in reg["hospitals"]:
        user = unique("hs")
        ctl("user", "add", "--role", "hospital", "--login", user,
            "--password", HOSPITAL_PASSWORD, "--institution", h)
        reg["staff"].append(bearer(login(user, HOSPITAL_PASSWORD)["token"]))
    return reg


def experts(reg, n=3, title="副高", hospital=0):
    adm = login("admin")["token"]
    return [new_expert(adm, reg["hospitals"][hospital], CARDIO, title)
            for _ in range(n)]


def submitted(reg, disease="D013", name="王大明"):
    """A person of reg with a complete, submitted application designating
    hospital A."""
    p = new_person(region=reg["region"], name=name)
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok, disease=disease,
                              institution=reg["hospitals"][0]))
    r = api("POST", "/applications/%s/submit" % app["id"],
            headers=bearer(tok), json={"promise": True})
    assert r.status_code == 200, r.text
    return p, tok, app


def decide(reg, app, members, conclusion="approve", staff=0, **extra):
    body = {"application_id": app["id"], "conclusion": conclusion,
            "members": members}
    body.update(extra)
    return api("POST", "/hospital/panel-decisions",
               headers=reg["staff"][staff], json=body)


def opinions(exs, *ops):
    return [{"expert_id": e["id"], "opinion": o} for e, o in zip(exs, ops)]


def events(app_id):
    return [r[0] for r in sql("SELECT type FROM events WHERE application_id = %s"
                              " ORDER BY id", app_id)]


def test_panel_case_waits_at_the_hospital_and_is_listed():
    """R-CER-10: a quota disease in panel mode is not pushed to experts;
    it waits in its certifying hospital's panel queue (ID masked)."""
    reg = panel_region()
    p, tok, app = submitted(reg)
    row = sql("SELECT status, review_mode, certifying_institution, push_stage"
              " FROM applications WHERE id = %s", app["id"])[0]
    assert row == ["submitted", "panel", reg["hospitals"][0], ""]
    r = api("GET", "/hospital/panel-cases", headers=reg["staff"][0],
            params={"state": "waiting"})
    assert r.status_code == 200, r.text
    item = [x for x in r.json()["items"] if x["application_id"] == app["id"]][0]
    assert item["person"]["name"] == "王大明"
    assert item["person"]["id_number"] != p["id_number"]
    assert "*" in item["person"]["id_number"]
    assert item["disease"]["code"] == "D013"
    assert item["publicity"] is None and item["conclusion"] is None
    # Another hospital of the region does not see it.
    r = api("GET", "/hospital/panel-cases", headers=reg["staff"][1])
    assert app["id"] not in [x["application_id"] for x in r.json()["items"]]
    r = api("GET", "/hospital/panel-cases", headers=reg["staff"][0],
            params={"state": "later"})
    assert_error(r, 400, "field_invalid", "state")


def test_panel_hospital_reads_the_case_with_its_materials():
    """R-CER-10: the panel reviews the materials before deciding.  A person
    files online and designates the panel's hospital (filing_institution
    empty, so GET /applications/{id} is not the hospital's):
    GET /hospital/panel-cases/{id} gives the panel's hospital the case and
    its materials, each downloadable; another hospital gets 404; the read
    is logged in access_log."""
    reg = panel_region()
    p, tok, app = submitted(reg)
    assert sql("SELECT filing_institution IS NULL FROM applications"
               " WHERE id = %s", app["id"]) == [["t"]]
    assert_error(api("GET", "/applications/%s" % app["id"],
                     headers=reg["staff"][0]), 404, "application_not_found")
    r = api("GET", "/hospital/panel-cases/%s" % app["id"],
            headers=reg["staff"][0])
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    case = r.json()
    assert case["application_id"] == app["id"]
    assert case["person"]["name"] == "王大明"
    assert case["person"]["id_number"] != p["id_number"]
    assert case["disease"]["code"] == "D013"
    assert case["status"] == "submitted" and case["conclusion"] is None
    stored = sql("SELECT id, kind FROM materials WHERE application_id = %s"
                 " AND deleted_at IS NULL ORDER BY id", app["id"])
    assert stored
    assert [(m["id"], m["kind"]) for m in case["materials"]] == \
        [(int(i), k) for i, k in stored]
    for m in case["materials"]:
        assert set(m) == {"id", "kind", "name", "media_type", "size"}
        assert m["name"] and m["size"] > 0
    f = api("GET", "/materials/%s" % case["materials"][0]["id"],
            headers=reg["staff"][0])
    assert f.status_code == 200 and f.content
    assert sql("SELECT u.institution, l.person_id = a.person_id"
               " FROM access_log l JOIN users u ON u.id = l.user_id"
               " JOIN applications a ON a.id = l.object_id"
               " WHERE l.object_type = 'application' AND l.action = 'read'"
               " AND l.object_id = %s AND u.role = 'hospital'",
               app["id"]) == [[reg["hospitals"][0], "t"]]
    # Another hospital of the region: not found, nothing logged.
    assert_error(api("GET", "/hospital/panel-cases/%s" % app["id"],
                     headers=reg["staff"][1]), 404, "application_not_found",
                 "id")
    assert sql("SELECT count(*) FROM access_log l JOIN users u"
               " ON u.id = l.user_id WHERE l.object_id = %s"
               " AND l.object_type = 'application' AND u.role = 'hospital'",
               app["id"]) == [["1"]]
    assert_error(api("GET", "/hospital/panel-cases/x",
                     headers=reg["staff"][0]), 400, "field_invalid", "id")


def test_panel_experts_are_the_hospitals_own_at_the_minimum_title():
    """S2 二(二): 专家组成员需具备副高及以上资质 -- panel_min_title."""
    reg = panel_region()
    ok = experts(reg, 2, "副高") + experts(reg, 1, "正高")
    low = experts(reg, 1, "中级")[0]
    other = experts(reg, 1, "正高", hospital=1)[0]
    r = api("GET", "/hospital/panel-experts", headers=reg["staff"][0])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["min_title"] == "副高" and body["min_size"] == 3
    ids = [x["id"] for x in body["items"]]
    assert sorted(ids) == sorted(e["id"] for e in ok)
    assert low["id"] not in ids and other["id"] not in ids
    assert body["items"][0]["title"] == "正高"
    assert body["items"][0]["specialties"] == CARDIO


def test_cross_region_panel_uses_the_applications_region():
    """R-CER-13: a province-wide hospital's panel for a person of another
    region of the province follows that region's panel_min_title, both in
    the experts list for the case and when the panel decides; without a
    case the list is the hospital's region's."""
    home, far = panel_region(), panel_region()
    inst = home["hospitals"][0]
    # Province-wide only for this test: it would serve every region of
    # province 14 (Taiyuan's lists included) for the tests after it.
    sql("UPDATE institutions SET province_wide = true WHERE code = '%s'", inst)
    try:
        cross_region_panel(home, far, inst)
    finally:
        sql("UPDATE institutions SET province_wide = false WHERE code = '%s'",
            inst)


def cross_region_panel(home, far, inst):
    deputy = experts(home, 3, "副高")
    chief = experts(home, 3, "正高")
    p = new_person(region=far["region"], name="李二明")
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok, disease="D013", institution=inst))
    r = api("POST", "/applications/%s/submit" % app["id"],
            headers=bearer(tok), json={"promise": True})
    assert r.status_code == 200, r.text
    assert sql("SELECT region, certifying_institution, review_mode FROM"
               " applications WHERE id = %s", app["id"]) == [
                   [far["region"], inst, "panel"]]
    with policy(far["region"], "panel_min_title", "正高"):
        r = api("GET", "/hospital/panel-experts", headers=home["staff"][0])
        assert r.status_code == 200, r.text
        assert r.json()["min_title"] == "副高"
        assert sorted(x["id"] for x in r.json()["items"]) == sorted(
            e["id"] for e in deputy + chief)
        r = api("GET", "/hospital/panel-experts", headers=home["staff"][0],
                params={"application_id": app["id"]})
        assert r.status_code == 200, r.text
        assert r.json()["min_title"] == "正高"
        assert sorted(x["id"] for x in r.json()["items"]) == sorted(
            e["id"] for e in chief)
        # The panel is checked against the same region's rule.
        err = assert_error(decide(home, app, opinions(deputy, *["approve"] * 3)),
                           422, "panel_member_invalid", "members")
        assert "正高" in err["message"]
        r = decide(home, app, opinions(chief, *["approve"] * 3))
        assert r.status_code == 201, r.text
    # Another hospital's case, or none at all, is not found.
    for staff in (home["staff"][1], far["staff"][0]):
        r = api("GET", "/hospital/panel-experts", headers=staff,
                params={"application_id": app["id"]})
        assert_error(r, 404, "application_not_found", "application_id")


def test_panel_approval_goes_on_public_notice_for_five_working_days():
    """R-CER-10, S2 二(二): approve -> 院内公示 5 个工作日, status in_review,
    the notice public with the name masked (王*明), no ID number."""
    reg = panel_region()
    exs = experts(reg, 3)
    p, tok, app = submitted(reg)
    r = decide(reg, app, opinions(exs, "approve", "approve", "reject"),
               opinion="符合冠心病认定标准")
    assert r.status_code == 201, r.text
    out = r.json()
    t = today()
    assert out["application_id"] == app["id"]
    assert out["conclusion"] == "approve" and out["status"] == "in_review"
    pub = out["publicity"]
    assert pub["state"] == "open" and pub["starts_on"] == t.isoformat()
    expect = sql("SELECT add_working_days('%s', CASE WHEN is_working_day('%s')"
                 " THEN 4 ELSE 5 END)", t, t)[0][0]
    assert pub["ends_on"] == expect
    assert events(app["id"])[-2:] == ["panel_decided", "publicity_started"]
    assert sql("SELECT count(*) FROM panel_members WHERE application_id = %s",
               app["id"]) == [["3"]]
    # The person sees it on the application's progress.
    view = api("GET", "/applications/%s" % app["id"], headers=bearer(tok)).json()
    assert view["publicity"]["id"] == pub["id"]
    # The public page: no sign-in, name masked, no ID number.
    r = api("GET", "/hospital/publicity", params={"region": reg["region"]})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [x["id"] for x in items] == [pub["id"]]
    assert items[0]["name"] == "王*明"
    assert p["id_number"] not in r.text and "王大明" not in r.text
    assert items[0]["institution"]["code"] == reg["hospitals"][0]
    assert items[0]["region"]["code"] == reg["region"]
    assert items[0]["ends_on"] == expect
    # Decided already: a second decision is refused.
    r = decide(reg, app, opinions(exs, "approve", "approve", "approve"))
    assert_error(r, 409, "not_awaiting_certification")
    r = api("GET", "/hospital/panel-cases", headers=reg["staff"][0],
            params={"state": "publicity"})
    assert [x["application_id"] for x in r.json()["items"]] == [app["id"]]


def test_publicity_working_days_skip_weekend_and_holiday():
    """R-CER-10: the notice counts working days of the calendar table: a
    notice posted on a Friday before a holiday Monday lasts to the next
    Friday; one posted on a Saturday starts counting on Monday."""
    # 2031-01-03 is a Friday; make Monday 2031-01-06 a holiday.
    sql("INSERT INTO calendar (day, kind) VALUES ('2031-01-06', 'holiday')"
        " ON CONFLICT (day) DO UPDATE SET kind = 'holiday'")
    assert sql("SELECT publicity_ends_on('2031-01-03', 5)") == [["2031-01-10"]]
    # Saturday 2031-01-11: Mon 13 .. Fri 17.
    assert sql("SELECT publicity_ends_on('2031-01-11', 5)") == [["2031-01-17"]]
    # A working Saturday (调休) counts.
    sql("INSERT INTO calendar (day, kind) VALUES ('2031-01-18', 'workday')"
        " ON CONFLICT (day) DO UPDATE SET kind = 'workday'")
    assert sql("SELECT publicity_ends_on('2031-01-17', 3)") == [["2031-01-20"]]


def test_notice_ends_after_its_last_day_and_benefits_start_next_month():
    """R-CER-10, S2 二(二): 公示无异议，次月 1 日起享受待遇.  Not ended on its
    last day; ended the day after by `mtcertctl publicity run`, the
    qualification from the 1st of next month, the agency to confirm."""
    reg = panel_region()
    exs = experts(reg, 3)
    p, tok, app = submitted(reg)
    pub = decide(reg, app, opinions(exs, "approve", "approve", "approve")
                 ).json()["publicity"]
    t = today()
    # Its last day is today: still open after a run.
    sql("UPDATE publicity SET starts_on = '%s', ends_on = '%s' WHERE id = %s",
        t - datetime.timedelta(days=7), t, pub["id"])
    ctl("publicity", "run")
    assert sql("SELECT state FROM publicity WHERE id = %s", pub["id"]) == [["open"]]
    assert sql("SELECT count(*) FROM qualifications WHERE application_id = %s",
               app["id"]) == [["0"]]
    # Its last day was yesterday: ended.
    sql("UPDATE publicity SET ends_on = '%s' WHERE id = %s",
        t - datetime.timedelta(days=1), pub["id"])
    ctl("publicity", "run")
    assert sql("SELECT state FROM publicity WHERE id = %s", pub["id"]) == [["ended"]]
    row = sql("SELECT a.status, a.confirmation, q.valid_from, q.status"
              " FROM applications a JOIN qualifications q"
              " ON q.application_id = a.id WHERE a.id = %s", app["id"])[0]
    first = (t.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    assert row == ["approved", "pending", first.isoformat(), "active"]
    evs = events(app["id"])
    assert evs[-3:] == ["publicity_ended", "approved", "awaiting_confirmation"]
    # Off the public page; a second run changes nothing (idempotent).
    r = api("GET", "/hospital/publicity", params={"region": reg["region"]})
    assert r.json()["items"] == []
    assert ctl("publicity", "run").stdout.strip() == '{"ended": 0}'
    assert events(app["id"]) == evs
    r = api("GET", "/hospital/panel-cases", headers=reg["staff"][0],
            params={"state": "done"})
    assert [(x["application_id"], x["status"], x["conclusion"])
            for x in r.json()["items"]] == [(app["id"], "approved", "approve")]


def test_the_dispatcher_ends_notices_on_its_own():
    """R-CER-10: the dispatcher's publicity job ends a notice past its last
    day without anyone running it."""
    from conftest import wait_for
    reg = panel_region()
    exs = experts(reg, 3)
    _, _, app = submitted(reg)
    pub = decide(reg, app, opinions(exs, "approve", "approve", "reject")
                 ).json()["publicity"]
    sql("UPDATE publicity SET starts_on = ends_on - 9, ends_on = cn_today() - 1"
        " WHERE id = %s", pub["id"])
    assert wait_for(lambda: sql("SELECT state FROM publicity WHERE id = %s",
                                pub["id"]) == [["ended"]])
    assert sql("SELECT status FROM applications WHERE id = %s",
               app["id"]) == [["approved"]]


def test_benefit_waits_confirmation_keeps_the_case_in_review():
    """R-CER-11: where benefit_waits_confirmation, a clean notice leaves the
    case in_review for the agency, no qualification yet."""
    reg = panel_region()
    exs = experts(reg, 3)
    _, _, app = submitted(reg)
    pub = decide(reg, app, opinions(exs, "approve", "approve", "approve")
                 ).json()["publicity"]
    with policy(reg["region"], "benefit_waits_confirmation", "true"):
        sql("UPDATE publicity SET starts_on = ends_on - 9,"
            " ends_on = cn_today() - 1 WHERE id = %s", pub["id"])
        ctl("publicity", "run")
    assert sql("SELECT status, confirmation FROM applications WHERE id = %s",
               app["id"]) == [["in_review", "pending"]]
    assert sql("SELECT count(*) FROM qualifications WHERE application_id = %s",
               app["id"]) == [["0"]]


def test_panel_rejection_ends_the_application_with_the_reason():
    """S2 二(二) 不予认定: reject needs a reason; the application is
    rejected (SMS with the reason), no notice, the agency to confirm."""
    reg = panel_region()
    exs = experts(reg, 3)
    p, _, app = submitted(reg)
    r = decide(reg, app, opinions(exs, "reject", "reject", "approve"),
               conclusion="reject")
    assert_error(r, 400, "field_required", "reason")
    r = decide(reg, app, opinions(exs, "reject", "reject", "approve"),
               conclusion="reject", reason="心电图及造影结果不支持冠心病诊断")
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["status"] == "rejected" and out["publicity"] is None
    row = sql("SELECT status, decision_reason, confirmation FROM applications"
              " WHERE id = %s", app["id"])[0]
    assert row == ["rejected", "心电图及造影结果不支持冠心病诊断", "pending"]
    assert events(app["id"])[-3:] == ["panel_decided", "rejected",
                                      "awaiting_confirmation"]


def test_panel_members_are_checked():
    """R-CER-10, S2 二(二): members are experts of the certifying hospital
    at panel_min_title or above, distinct, at least panel_min_size, and
    the conclusion is the majority's (an approval needs more approve than
    reject opinions)."""
    reg = panel_region()
    exs = experts(reg, 3)
    low = experts(reg, 1, "中级")[0]
    other = experts(reg, 1, "正高", hospital=1)[0]
    _, _, app = submitted(reg)
    r = decide(reg, app, opinions(exs[:2] + [low], *["approve"] * 3))
    err = assert_error(r, 422, "panel_member_invalid", "members")
    assert "中级" in err["message"] and "副高" in err["message"]
    r = decide(reg, app, opinions(exs[:2] + [other], *["approve"] * 3))
    err = assert_error(r, 422, "panel_member_invalid", "members")
    assert "不是本院" in err["message"]
    r = decide(reg, app, opinions([exs[0], exs[1], exs[0]], *["approve"] * 3))
    err = assert_error(r, 422, "panel_member_invalid", "members")
    assert "重复" in err["message"]
    r = decide(reg, app, opinions(exs[:2], "approve", "approve"))
    err = assert_error(r, 422, "panel_too_small", "members")
    assert "3" in err["message"]
    r = decide(reg, app, opinions(exs, "approve", "reject", "reject"))
    err = assert_error(r, 422, "panel_member_invalid", "conclusion")
    assert "多数" in err["message"]
    r = decide(reg, app, opinions(exs, "approve", "approve", "reject"),
               conclusion="reject", reason="理由")
    assert_error(r, 422, "panel_member_invalid", "conclusion")
    # A smaller panel where the region's policy allows it.
    with policy(reg["region"], "panel_min_size", "2"):
        r = decide(reg, app, opinions(exs[:2], "approve", "approve"))
        assert r.status_code == 201, r.text
    # Bad shapes are 400.
    _, _, app2 = submitted(reg)
    for members in ([{"expert_id": exs[0]["id"]}],
                    [{"expert_id": "x", "opinion": "approve"}],
                    [{"expert_id": exs[0]["id"], "opinion": "maybe"}],
                    [{"expert_id": exs[0]["id"], "opinion": "approve",
                      "vote": 1}],
                    ["approve"]):
        r = decide(reg, app2, members)
        assert r.status_code == 400, (members, r.text)
        assert r.json()["error"]["field"] == "members"
    # No member at all is a panel too small (an empty list of objects is
    # a value, MT_F_OBJECTS), naming the region's minimum.
    err = assert_error(decide(reg, app2, []), 422, "panel_too_small",
                       "members")
    assert "3" in err["message"]


def test_panel_reason_is_some_text():
    """A reason that is empty, only spaces or carries control characters
    is a 400 naming reason, on a rejection (it would be none at all) and
    on an approval (no 500 from the table's check); a real one works and
    is stored trimmed."""
    reg = panel_region()
    exs = experts(reg, 3)
    _, _, app = submitted(reg)
    no = opinions(exs, *["reject"] * 3)
    for reason in ("", "   ", " \n ", "理由\x01"):
        r = decide(reg, app, no, conclusion="reject", reason=reason)
        assert r.status_code == 400, (reason, r.text)
        assert r.json()["error"]["code"] in ("field_required",
                                             "field_invalid"), r.text
        assert r.json()["error"]["field"] == "reason", r.text
    r = decide(reg, app, opinions(exs, *["approve"] * 3), reason="")
    assert r.status_code != 500, r.text
    assert_error(r, 400, "field_invalid", "reason")
    assert sql("SELECT count(*) FROM panel_decisions WHERE application_id"
               " = %s", app["id"]) == [["0"]]
    r = decide(reg, app, no, conclusion="reject", reason=" 病史不足 ")
    assert r.status_code == 201, r.text
    assert sql("SELECT reason FROM panel_decisions WHERE application_id"
               " = %s", app["id"]) == [["病史不足"]]


def test_panel_decision_scope_and_authorization():
    """Another hospital's application is a 404; a hospital whose
    authorization for the disease is suspended is refused (403,
    certification_refusal, R-CER-9); a person's application that is not
    in panel mode is a 404 too."""
    reg = panel_region()
    exs = experts(reg, 3)
    _, _, app = submitted(reg)
    r = decide(reg, app, opinions(exs, *["approve"] * 3), staff=1)
    assert_error(r, 404, "application_not_found", "application_id")
    r = decide(reg, {"id": 999999999}, opinions(exs, *["approve"] * 3))
    assert_error(r, 404, "application_not_found")
    sql("UPDATE institution_diseases SET status = 'suspended'"
        " WHERE institution = '%s' AND disease = 'D013'", reg["hospitals"][0])
    r = decide(reg, app, opinions(exs, *["approve"] * 3))
    err = assert_error(r, 403, "institution_not_authorized")
    assert "暂停" in err["message"]
    sql("UPDATE institution_diseases SET status = 'active'"
        " WHERE institution = '%s' AND disease = 'D013'", reg["hospitals"][0])
    # An insured person or an expert may not decide.
    r = api("POST", "/hospital/panel-decisions", headers=bearer(exs[0]["token"]),
            json={"application_id": app["id"], "conclusion": "approve",
                  "members": opinions(exs, *["approve"] * 3)})
    assert r.status_code == 403, r.text


def test_objection_holds_the_case_for_the_agency():
    """R-CER-10, R-CER-11: an objection during the notice closes it, keeps
    the reason (the address only as a keyed hash), and the case waits in
    the agency's 待确认 queue; the notice is off the public page, a second
    objection is 409, an unknown notice 404."""
    reg = panel_region()
    exs = experts(reg, 3)
    _, _, app = submitted(reg)
    pub = decide(reg, app, opinions(exs, *["approve"] * 3)).json()["publicity"]
    r = api("POST", "/hospital/publicity/%s/objection" % pub["id"],
            json={"reason": "据我所知此人并无冠心病", "contact": "13800000000"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["id"] and out["received_at"]
    row = sql("SELECT o.reason, o.contact, length(o.source), p.state,"
              " p.closed_at IS NOT NULL FROM publicity_objections o"
              " JOIN publicity p ON p.id = o.publicity_id WHERE o.id = %s",
              out["id"])[0]
    assert row == ["据我所知此人并无冠心病", "13800000000", "64", "objected", "t"]
    assert "127.0.0" not in sql("SELECT source FROM publicity_objections"
                                " WHERE id = %s", out["id"])[0][0]
    assert sql("SELECT status, confirmation FROM applications WHERE id = %s",
               app["id"]) == [["in_review", "pending"]]
    assert events(app["id"])[-2:] == ["publicity_objection",
                                      "awaiting_confirmation"]
    assert api("GET", "/hospital/publicity",
               params={"region": reg["region"]}).json()["items"] == []
    # The job leaves an objected notice alone.
    sql("UPDATE publicity SET ends_on = cn_today() - 1, starts_on ="
        " cn_today() - 9 WHERE id = %s", pub["id"])
    ctl("publicity", "run")
    assert sql("SELECT status FROM applications WHERE id = %s",
               app["id"]) == [["in_review"]]
    r = api("POST", "/hospital/publicity/%s/objection" % pub["id"],
            json={"reason": "再次异议"})
    assert_error(r, 409, "publicity_closed")
    r = api("POST", "/hospital/publicity/999999999/objection",
            json={"reason": "异议"})
    assert_error(r, 404, "publicity_not_found")
    r = api("POST", "/hospital/publicity/%s/objection" % pub["id"],
            json={"reason": "x" * 1001})
    assert_error(r, 400, "field_invalid", "reason")


def agency_of(region):
    """A signed-in agency account of region (its Authorization header)."""
    user = unique("ag")
    ctl("user", "add", "--role", "agency", "--login", user,
        "--password", "agency-pass-1", "--region", region)
    return bearer(login(user, "agency-pass-1")["token"])


def test_withdrawn_case_leaves_the_agencys_queue():
    """An objected notice holds the case for the agency; the person then
    withdraws: nothing is left to confirm -- confirmation cleared, off the
    待确认 queue, confirm and overturn 409 not_awaiting_confirmation."""
    reg = panel_region()
    ag = agency_of(reg["region"])
    exs = experts(reg, 3)
    _, tok, app = submitted(reg)
    pub = decide(reg, app, opinions(exs, *["approve"] * 3)).json()["publicity"]
    r = api("POST", "/hospital/publicity/%s/objection" % pub["id"],
            json={"reason": "此人并未患病"})
    assert r.status_code == 201, r.text
    queue = api("GET", "/agency/applications", headers=ag,
                params={"confirmation": "pending"}).json()["items"]
    assert app["id"] in [x["id"] for x in queue]
    r = api("POST", "/applications/%s/withdraw" % app["id"],
            headers=bearer(tok))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text
    assert sql("SELECT status, confirmation IS NULL FROM applications"
               " WHERE id = %s", app["id"]) == [["withdrawn", "t"]]
    queue = api("GET", "/agency/applications", headers=ag,
                params={"confirmation": "pending"}).json()["items"]
    assert app["id"] not in [x["id"] for x in queue]
    for body in ({"decision": "confirm"},
                 {"decision": "overturn", "reason": "异议成立"}):
        r = api("POST", "/agency/applications/%s/confirm" % app["id"],
                headers=ag, json=body)
        assert_error(r, 409, "not_awaiting_confirmation")
    # Even with the confirmation left pending (as before the fix, or by
    # hand), a withdrawn application is not confirmed.
    sql("UPDATE applications SET confirmation = 'pending' WHERE id = %s",
        app["id"])
    r = api("POST", "/agency/applications/%s/confirm" % app["id"],
            headers=ag, json={"decision": "confirm"})
    assert_error(r, 409, "not_awaiting_confirmation")
    assert sql("SELECT status FROM applications WHERE id = %s",
               app["id"]) == [["withdrawn"]]
    assert sql("SELECT count(*) FROM qualifications WHERE application_id"
               " = %s", app["id"]) == [["0"]]


def test_public_list_filters_and_pages():
    """GET /hospital/publicity (public): by region and hospital, newest
    first, paged; bad filters are 400."""
    reg = panel_region()
    exs = experts(reg, 3)
    ids = []
    for _ in range(3):
        _, _, app = submitted(reg, name="李四")
        ids.append(decide(reg, app, opinions(exs, *["approve"] * 3)
                          ).json()["publicity"]["id"])
    r = api("GET", "/hospital/publicity",
            params={"region": reg["region"], "limit": 2})
    body = r.json()
    assert [x["id"] for x in body["items"]] == ids[::-1][:2]
    assert body["items"][0]["name"] == "李*"
    rest = api("GET", "/hospital/publicity", params={
        "region": reg["region"], "limit": 2,
        "cursor": body["next_cursor"]}).json()
    assert [x["id"] for x in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
    r = api("GET", "/hospital/publicity",
            params={"institution": reg["hospitals"][1]})
    assert r.json()["items"] == []
    assert_error(api("GET", "/hospital/publicity", params={"region": "abc"}),
                 400, "field_invalid", "region")


def test_taiyuan_demo_panel_flow():
    """S2 二(二) with Taiyuan's reference data: D013 is panel-mode at 山西省
    人民医院, whose demo experts expert-ty-1..3 form the panel."""
    p = new_person(region="140100", name="赵建国")
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok, disease="D013", institution="H14010000001"))
    r = api("POST", "/applications/%s/submit" % app["id"], headers=bearer(tok),
            json={"promise": True})
    assert r.status_code == 200, r.text
    staff = bearer(login("hospital-sxph", "mtcert-hospital-2026")["token"])
    pool = api("GET", "/hospital/panel-experts", headers=staff).json()
    ids = [x["id"] for x in pool["items"]]
    assert len(ids) >= 3
    r = api("POST", "/hospital/panel-decisions", headers=staff, json={
        "application_id": app["id"], "conclusion": "approve",
        "members": [{"expert_id": i, "opinion": "approve"} for i in ids[:3]]})
    assert r.status_code == 201, r.text
    r = api("GET", "/hospital/publicity", params={"region": "140100"})
    assert r.json()["items"][0]["name"] == "赵*国"


def test_objection_is_rate_limited():
    """nginx limits objections per address (zone objection): after the
    burst, 429 in the error envelope with a Chinese message.  Last in this
    file: it spends the address's allowance."""
    seen, source = [], loopback_address()
    for _ in range(12):
        r = api("POST", "/hospital/publicity/999999999/objection",
                source=source, json={"reason": "异议"})
        seen.append(r.status_code)
        if r.status_code == 429:
            break
    assert seen[-1] == 429, seen
    assert set(seen[:-1]) <= {404}, seen
    assert_error(r, 429, "rate_limited")
