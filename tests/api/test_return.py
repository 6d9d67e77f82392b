"""The returned state and the region's own target (issue 12 items 1 and
8): R-APP-8 / S3 第七条 (申请材料不齐全的，一次性告知需补齐的材料) -- an
expert holding an accepted task returns the application once for named
missing materials; the applicant adds them and resubmits by resubmit_by
(return_resubmit_days, 10) or the application is withdrawn; S0 二(三)
(三门峡: 5-8 个工作日) against S3 第八条 (20 个工作日) for the expected
date.  Each test has a region of its own where it plays experts."""
import datetime

from conftest import (api, assert_error, bearer, ctl, insured_login, redis,
                      live_assignment, new_person, sql, submitted_application,
                      today, upload, complete, draft, wait_for)
from test_review import ONCO, accept, decide, region_with_experts


def ret(expert, aid, missing, opinion="缺少近三个月的病理报告原件扫描件"):
    body = {"decision": "return", "opinion": opinion}
    if missing is not None:
        body["missing"] = missing
    return api("POST", "/expert/tasks/%s/decision" % aid,
               headers=bearer(expert["token"]), json=body)


def view(tok, app_id):
    r = api("GET", "/applications/%s" % app_id, headers=bearer(tok))
    assert r.status_code == 200, r.text
    return r.json()


def working_days(n):
    return sql("SELECT add_working_days(cn_today(), %d)", n)[0][0]


def expert_of(experts, aid):
    uid = int(sql("SELECT expert_id FROM assignments WHERE id = %s", aid)[0][0])
    return next(e for e in experts if e["id"] == uid)


def returned_app():
    """A submitted application (D001) of a region of its own, returned by
    the expert who accepted it for pathology_report."""
    admin, reg, ex = region_with_experts(ONCO, n=2)
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    e = expert_of(ex, a["id"])
    assert accept(e, a["id"]).status_code == 200
    r = ret(e, a["id"], ["pathology_report"])
    assert r.status_code == 200, r.text
    return {"tok": tok, "app": app, "assignment": a, "expert": e,
            "experts": ex, "region": reg, "answer": r.json()}


def test_return_resubmit_push_again_decide():
    """R-APP-8 / S3 第七条: returned with the kinds, the note and the last
    day (today + 10); the applicant sees them, adds the material,
    resubmits; the same stage is pushed again through a new recorded draw
    (a fresh expert first) and decided."""
    # The clock stops while returned: the old promise is replaced.
    admin, reg, ex = region_with_experts(ONCO, n=2)
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    sql("UPDATE applications SET expected_decision_date = '2000-01-03'"
        " WHERE id = %s", app["id"])
    e = expert_of(ex, a["id"])
    assert accept(e, a["id"]).status_code == 200
    note = "病理报告只有首页，缺少诊断结论页，请补充完整的病理报告"
    r = ret(e, a["id"], ["pathology_report"], note)
    assert r.status_code == 200, r.text
    last_day = (today() + datetime.timedelta(days=10)).isoformat()
    assert r.json()["state"] == "returned"
    assert r.json()["resubmit_by"] == last_day
    assert r.json()["final"] is False
    # The stage's lease is dropped: the resubmission's push takes it.
    assert redis("EXISTS", "lease:{%s}:%s:1" % (reg["region"], app["id"])) == "0"
    v = view(tok, app["id"])
    assert v["status"] == "returned"
    assert v["returned"]["kinds"] == [
        {"code": "pathology_report",
         "name": "病理报告（穿刺、术后病检、切检、活检）"}]
    assert v["returned"]["note"] == note
    assert v["returned"]["resubmit_by"] == last_day
    assert v["expected_decision_date"] is None
    assert "pathology_report" in [m["kind"] for m in v["missing_materials"]]
    ev = v["timeline"][-1]
    assert ev["type"] == "returned"
    assert "病理报告" in ev["text"] and last_day in ev["text"]
    sms = sql("SELECT body FROM sms_outbox WHERE template ="
              " 'application_returned' AND body LIKE '%%编号%s）%%'", app["id"])
    assert len(sms) == 1 and "病理报告" in sms[0][0], sms
    assert last_day.replace("-", "")[:4] + "年" in sms[0][0]
    # The assignment ended as a return, not a verdict; the expert's done list.
    assert sql("SELECT state, decision IS NULL, opinion FROM assignments"
               " WHERE id = %s", a["id"]) == [["returned", "t", note]]
    done = api("GET", "/expert/tasks", headers=bearer(e["token"]),
               params={"state": "decided"}).json()["items"]
    assert [t["decision"] for t in done if t["id"] == a["id"]] == ["return"]

    # The missing-materials check as on the first submit: not yet added.
    r = api("POST", "/applications/%s/submit" % app["id"], headers=bearer(tok),
            json={"promise": True})
    err = assert_error(r, 422, "materials_missing")
    assert [m["kind"] for m in r.json()["error"]["details"]
            ["missing_materials"]] == ["pathology_report"]
    assert upload(tok, app["id"], "pathology_report").status_code == 201
    assert view(tok, app["id"])["missing_materials"] == []
    r = api("POST", "/applications/%s/submit" % app["id"], headers=bearer(tok),
            json={"promise": True})
    assert r.status_code == 200, r.text
    # Recomputed from the resubmission (D001: instant, 1 working day).
    assert r.json()["expected_decision_date"] == working_days(1)
    b = live_assignment(app["id"], stage=1)
    assert b["id"] != a["id"]
    # A fresh expert first: the returning one held it already.
    assert b["expert"] != e["id"]
    v = view(tok, app["id"])
    types = [t["type"] for t in v["timeline"]]
    assert "resubmitted" in types[types.index("returned"):]
    assert v["returned"] is None
    assert ctl("draw", "verify", str(app["id"])).returncode == 0
    e2 = expert_of(ex, b["id"])
    assert accept(e2, b["id"]).status_code == 200
    assert decide(e2, b["id"], "approve").status_code == 200
    assert view(tok, app["id"])["status"] == "approved"


def test_second_return_refused_after_resubmit():
    """The resubmitted application's new expert gets 409
    return_already_used, and the task stays theirs to decide."""
    admin, reg, ex = region_with_experts(ONCO, n=2)
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    e = expert_of(ex, a["id"])
    assert accept(e, a["id"]).status_code == 200
    assert ret(e, a["id"], ["imaging_report", "imaging_report"]).status_code == 200
    # Each kind once.
    assert view(tok, app["id"])["returned"]["kinds"] == [
        {"code": "imaging_report", "name": "影像学检查结果"}]
    assert upload(tok, app["id"], "imaging_report").status_code == 201
    assert api("POST", "/applications/%s/submit" % app["id"],
               headers=bearer(tok), json={"promise": True}).status_code == 200
    b = live_assignment(app["id"], stage=1)
    e2 = expert_of(ex, b["id"])
    assert accept(e2, b["id"]).status_code == 200
    err = assert_error(ret(e2, b["id"], ["lab_report"]), 409,
                       "return_already_used")
    assert "一次" in err["message"]
    assert view(tok, app["id"])["status"] == "in_review"
    assert decide(e2, b["id"], "reject", "不符合认定标准").status_code == 200
    assert view(tok, app["id"])["status"] == "rejected"


def test_return_bad_input():
    """400 without kinds or without the opinion, a malformed kind or more
    than 10; 422 a kind that is not the disease's; 409 before accepting;
    missing only with a return."""
    admin, reg, ex = region_with_experts(ONCO, n=1)
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    e = ex[0]
    assert_error(ret(e, a["id"], ["pathology_report"]), 409,
                 "task_not_accepted")
    assert accept(e, a["id"]).status_code == 200
    assert_error(ret(e, a["id"], None), 400, "field_required", "missing")
    assert_error(ret(e, a["id"], []), 400, "field_required", "missing")
    assert_error(ret(e, a["id"], ["pathology_report"], ""), 400,
                 "field_required", "opinion")
    assert_error(ret(e, a["id"], ["Bad-Kind"]), 400, "field_invalid", "missing")
    assert_error(ret(e, a["id"], ["lab_report"] * 11), 400, "field_invalid",
                 "missing")
    assert_error(ret(e, a["id"], ["no_such_kind"]), 422,
                 "material_kind_not_needed", "missing")
    # A real kind, but not one this disease asks for (D001).
    assert_error(ret(e, a["id"], ["psychiatric_inpatient_record"]), 422,
                 "material_kind_not_needed", "missing")
    r = api("POST", "/expert/tasks/%s/decision" % a["id"],
            headers=bearer(e["token"]),
            json={"decision": "approve", "opinion": "符合",
                  "missing": ["lab_report"]})
    assert_error(r, 400, "field_invalid", "missing")
    r = api("POST", "/expert/tasks/%s/decision" % a["id"],
            headers=bearer(e["token"]),
            json={"decision": "return", "opinion": "缺少化验",
                  "missing": ["lab_report"], "reason_code": "criteria_not_met"})
    assert_error(r, 400, "field_invalid", "reason_code")
    # Nothing of the above changed anything.
    assert view(tok, app["id"])["status"] == "in_review"
    assert sql("SELECT state FROM assignments WHERE id = %s", a["id"]) == [
        ["accepted"]]


def test_lapse_withdraws_after_the_day_never_before():
    """Past resubmit_by without resubmission the application is
    withdrawn (S3: an incomplete application is not accepted, so it is
    not rejected on its merits) with event return_lapsed and an SMS; on
    its last day it stays returned; a second run changes nothing."""
    x = returned_app()
    app_id = x["app"]["id"]
    sql("UPDATE applications SET resubmit_by = cn_today() WHERE id = %s",
        app_id)
    ctl("returns", "run")
    assert view(x["tok"], app_id)["status"] == "returned"
    sql("UPDATE applications SET resubmit_by = cn_today() - 1 WHERE id = %s",
        app_id)
    out = ctl("returns", "run").stdout
    assert '"lapsed"' in out
    v = view(x["tok"], app_id)
    assert v["status"] == "withdrawn"
    assert [t["type"] for t in v["timeline"]].count("return_lapsed") == 1
    assert "撤回" in v["timeline"][-1]["text"]
    assert sql("SELECT count(*) FROM sms_outbox WHERE template ="
               " 'application_return_lapsed' AND body LIKE '%%编号%s）%%'",
               app_id) == [["1"]]
    ctl("returns", "run")
    assert sql("SELECT count(*) FROM events WHERE application_id = %s"
               " AND type = 'return_lapsed'", app_id) == [["1"]]
    # Withdrawn, not rejected: the person may apply again at once.
    p_tok = x["tok"]
    d = draft(p_tok, disease="D001", institution=x["region"]["hospitals"][0])
    assert d["status"] == "draft"


def test_lapse_by_the_dispatcher():
    """The dispatcher runs the lapse job on its own clock."""
    x = returned_app()
    sql("UPDATE applications SET resubmit_by = cn_today() - 1 WHERE id = %s",
        x["app"]["id"])
    assert wait_for(lambda: view(x["tok"], x["app"]["id"])["status"]
                    == "withdrawn")


def submit_in(region, disease, hospital):
    p = new_person(region=region)
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok, disease=disease, institution=hospital))
    r = api("POST", "/applications/%s/submit" % app["id"], headers=bearer(tok),
            json={"promise": True})
    assert r.status_code == 200, r.text
    return tok, r.json()


def test_expected_date_is_the_regions_own_target():
    """Issue 12 item 8: an online application in 三门峡 (S0 二(三) 5-8
    个工作日: online_target_working_days 8) is promised 8 working days;
    in 济宁 (S3 第八条: 20 个工作日, no online target of its own) 20."""
    tok, r = submit_in("411200", "D013", "H41120000001")
    assert r["expected_decision_date"] == working_days(8)
    assert view(tok, r["id"])["expected_decision_date"] == working_days(8)
    tok, r = submit_in("370800", "D005", "H37080000001")
    assert r["expected_decision_date"] == working_days(20)
    # Instant diseases keep their own limit (S3 第八条: 1 working day).
    tok, r = submit_in("411200", "D001", "H41120000001")
    assert r["expected_decision_date"] == working_days(1)


def test_return_names_the_kinds_of_the_regions_own_list():
    """R-SUP-5 / R-APP-8: where the agency replaced a disease's material
    list for its region, an expert returns for the region's kinds (what
    the applicant can upload there), not the national list's."""
    admin, reg, ex = region_with_experts(ONCO, n=2)
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    e = expert_of(ex, a["id"])
    assert accept(e, a["id"]).status_code == 200
    sql("INSERT INTO region_disease_materials (region, disease, kind,"
        " required, sort_order) VALUES ('%s', 'D001',"
        " 'outpatient_records_2y', true, 1)", reg["region"])
    # pathology_report is the national list's, not this region's.
    assert_error(ret(e, a["id"], ["pathology_report"]), 422,
                 "material_kind_not_needed", "missing")
    r = ret(e, a["id"], ["outpatient_records_2y"])
    assert r.status_code == 200, r.text
    assert [k["code"] for k in view(tok, app["id"])["returned"]["kinds"]] \
        == ["outpatient_records_2y"]
