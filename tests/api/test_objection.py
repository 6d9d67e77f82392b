"""Objections to a rejection and hospitals' appeals (issue 12 item 1;
R-CER-12; S3 第九条: within 10 days of the result the applicant may ask
for a re-decision; S2 二(二)/三: 3 experts re-review each case a hospital
appeals).  A panel of objection_panel_size experts drawn in one recorded
draw (R-SUP-7), never one who decided it; the majority is final.  Each
test has a region of its own, so its expert pool is exactly the experts
it adds."""
from conftest import app_phone
from conftest import (api, assert_error, bearer, ctl, login, new_expert,
                      new_region, redis, sms_lines, sql,
                      submitted_application, unique, wait_for, live_assignment)
from test_review import accept, by_id, decide    # playing the experts

ONCO = ["肿瘤"]              # D001 (malignant tumour): single review


def object_to(tok, app_id, reason="我的病情符合认定标准，补充了新的病理报告"):
    return api("POST", "/applications/%s/objection" % app_id,
               headers=bearer(tok), json={"reason": reason})


def seats(app_id, n):
    """The live seats of the application's panel (stages 4 ...), once n
    are there, in stage order."""
    found = []

    def look():
        found[:] = sql("SELECT id, expert_id, stage, draw_id FROM assignments"
                       " WHERE application_id = %s AND stage >= 4 AND state"
                       " IN ('pushed', 'accepted') ORDER BY stage", app_id)
        return len(found) >= n
    assert wait_for(look), "no panel of %d for %s" % (n, app_id)
    return [{"id": int(i), "expert": int(e), "stage": int(s),
             "draw": int(d) if d else None} for i, e, s, d in found]


def rejected(n_experts=4):
    """A region with n ONCO experts and a D001 (single review)
    application rejected by the first expert drawn, X."""
    admin = login("admin")["token"]
    reg = new_region()
    ex = [new_expert(admin, reg["hospitals"][1 + i % 2], ONCO)
          for i in range(n_experts)]
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    x = by_id(ex, a["expert"])
    assert accept(x, a["id"]).status_code == 200
    assert decide(x, a["id"], "reject", "病理报告不足以确诊").status_code == 200
    return reg, ex, tok, app, x


def panel_decides(ex, app_id, verdicts):
    for s, v in zip(seats(app_id, len(verdicts)), verdicts):
        e = by_id(ex, s["expert"])
        t = [t for t in api("GET", "/expert/tasks", headers=bearer(
            e["token"])).json()["items"] if t["id"] == s["id"]]
        assert t and t[0]["stage"] == s["stage"]      # in the task list
        assert accept(e, s["id"]).status_code == 200
        r = decide(e, s["id"], v, "复核意见")
        assert r.status_code == 200, r.text


def test_an_objection_reverses_a_rejection_through_three_new_experts():
    """R-CER-12, S3 第九条 (the issue's done-when): rejected by X, the
    applicant objects within the window; three seats are drawn in one
    draw, none of them X; two approve, one rejects: approved with the
    qualification, the SMS, the timeline; the objection is upheld."""
    reg, ex, tok, app, x = rejected(4)
    r = object_to(tok, app["id"])
    assert r.status_code == 201, r.text
    o = r.json()
    assert (o["application_id"], o["state"], o["kind"], o["panel_size"]) == (
        app["id"], "open", "applicant", 3)
    assert o["deadline"] == sql("SELECT add_working_days(cn_today(), 20)")[0][0]
    assert api("GET", "/applications/%s" % app["id"], headers=bearer(
        tok)).json()["status"] == "in_review"
    s = seats(app["id"], 3)
    assert [t["stage"] for t in s] == [4, 5, 6]
    assert x["id"] not in [t["expert"] for t in s]    # never who decided it
    assert len({t["expert"] for t in s}) == 3
    assert len({t["draw"] for t in s}) == 1           # ONE draw
    assert sql("SELECT purpose, k, pool FROM draws WHERE id = %s",
               s[0]["draw"]) == [["objection", "3", "{%s}" % ",".join(
                   str(e["id"]) for e in sorted(ex, key=lambda e: e["id"])
                   if e["id"] != x["id"])]]
    panel_decides(ex, app["id"], ["approve", "reject", "approve"])
    body = api("GET", "/applications/%s" % app["id"], headers=bearer(tok)).json()
    assert body["status"] == "approved"
    assert sql("SELECT status FROM qualifications WHERE application_id = %s",
               app["id"]) == [["active"]]
    assert sql("SELECT state FROM objections WHERE application_id = %s",
               app["id"]) == [["upheld"]]
    texts = [t["text"] for t in body["timeline"]]
    assert any(t.startswith("已申请复核，将由3名") for t in texts), texts
    assert sum("复核专家（第" in t for t in texts) == 3
    assert any("复核结论：予以认定（3名专家中2名同意认定）" in t for t in texts)
    assert texts[-1].startswith("认定通过") or any(
        t.startswith("认定通过") for t in texts)
    # Never an expert's name to the applicant.
    assert all(e["login"] not in t for e in ex for t in texts)
    phone = app_phone(app["id"])
    assert wait_for(lambda: any("复核申请已受理" in m["text"]
                                for m in sms_lines(phone)))
    assert wait_for(lambda: any("已通过" in m["text"] for m in sms_lines(phone)))


def test_a_majority_reject_is_final_and_a_second_objection_is_refused():
    """R-CER-12, S3 第九条: two of three reject: rejected again, the
    objection dismissed, the SMS says the result is final; a second
    objection is 422 objection_already_filed (复核结果为最终结果)."""
    reg, ex, tok, app, x = rejected(4)
    assert object_to(tok, app["id"]).status_code == 201
    panel_decides(ex, app["id"], ["reject", "approve", "reject"])
    assert sql("SELECT a.status, o.state FROM applications a JOIN objections o"
               " ON o.application_id = a.id WHERE a.id = %s",
               app["id"]) == [["rejected", "dismissed"]]
    assert not sql("SELECT 1 FROM qualifications WHERE application_id = %s",
                   app["id"])
    phone = app_phone(app["id"])
    assert wait_for(lambda: any("复核结果为最终结果" in m["text"]
                                for m in sms_lines(phone)))
    assert not any("如有异议" in m["text"] and "复核" not in m["text"][:30]
                   for m in sms_lines(phone)[-1:])
    r = object_to(tok, app["id"])
    assert_error(r, 422, "objection_already_filed")
    assert "最终结果" in r.json()["error"]["message"]


def test_withdrawing_during_the_objection_keeps_the_first_decision():
    """R-CER-12: withdrawn while the panel re-decides, the objection is
    withdrawn, the seats' tasks cancelled (the experts told), the first
    decision stands (rejected, its decision day kept), the person told by
    SMS; a second objection is 422 (the result is final); a seat's
    decision after it is refused."""
    reg, ex, tok, app, x = rejected(4)
    decided = sql("SELECT decided_at FROM applications WHERE id = %s",
                  app["id"])
    assert object_to(tok, app["id"]).status_code == 201
    s = seats(app["id"], 1)[0]
    e = by_id(ex, s["expert"])
    assert accept(e, s["id"]).status_code == 200
    r = api("POST", "/applications/%s/withdraw" % app["id"],
            headers=bearer(tok))
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["status"] == "rejected"
    assert v["objection"]["filed"]["state"] == "withdrawn"
    assert any("已撤回复核申请" in t["text"] for t in v["timeline"]), v
    assert sql("SELECT a.status, o.state, a.decided_at FROM applications a"
               " JOIN objections o ON o.application_id = a.id"
               " WHERE a.id = %s", app["id"]) == \
        [["rejected", "withdrawn", decided[0][0]]]
    assert sql("SELECT count(*) FROM assignments WHERE application_id = %s"
               " AND stage >= 4 AND state IN ('pushed', 'accepted')",
               app["id"]) == [["0"]]
    assert decide(e, s["id"], "approve", "复核意见").status_code in (404, 409)
    phone = app_phone(app["id"])
    assert wait_for(lambda: any("复核申请已撤回" in m["text"]
                                for m in sms_lines(phone)))
    assert_error(object_to(tok, app["id"]), 422, "objection_already_filed")
    # Withdrawn again: nothing left to withdraw.
    assert_error(api("POST", "/applications/%s/withdraw" % app["id"],
                     headers=bearer(tok)), 409,
                 "application_not_withdrawable")


def test_late_not_yours_and_not_rejected():
    """R-CER-12, S3 第九条 (收到认定结果之日起10日内): 11 days after the
    decision is 422 objection_window_closed naming the 10 days; another
    person's application is 404; an application still in review is 409
    application_not_rejected; a reason over 1000 characters is 400."""
    reg, ex, tok, app, x = rejected(4)
    other_tok, other = submitted_application(reg, disease="D013")
    assert_error(object_to(other_tok, app["id"]), 404, "application_not_found")
    assert_error(object_to(other_tok, other["id"]), 409,
                 "application_not_rejected")
    assert_error(object_to(tok, app["id"], "理" * 1001), 400, "field_invalid")
    sql("UPDATE applications SET decided_at = now() - interval '11 days'"
        " WHERE id = %s", app["id"])
    r = object_to(tok, app["id"])
    assert_error(r, 422, "objection_window_closed")
    assert "10 日内" in r.json()["error"]["message"]
    sql("UPDATE applications SET decided_at = now() - interval '9 days'"
        " WHERE id = %s", app["id"])
    assert object_to(tok, app["id"]).status_code == 201


def test_materials_may_be_added_while_the_objection_is_open():
    """R-CER-12: new materials go with the objection (same upload rules);
    deleting an old one stays refused."""
    from conftest import upload
    reg, ex, tok, app, x = rejected(4)
    assert object_to(tok, app["id"]).status_code == 201
    kind = sql("SELECT kind FROM disease_materials WHERE disease = 'D001'"
               " AND required ORDER BY sort_order LIMIT 1")[0][0]
    r = upload(tok, app["id"], kind)
    assert r.status_code == 201, r.text
    old = sql("SELECT min(id) FROM materials WHERE application_id = %s",
              app["id"])[0][0]
    assert_error(api("DELETE", "/applications/%s/materials/%s" % (
        app["id"], old), headers=bearer(tok)), 409, "application_not_editable")


def test_a_seat_expiry_repushes_only_that_seat():
    """R-CER-12 with R-CER-3: a seat that expires is pushed again alone,
    by an ordinary push draw, never to another seat's expert and never a
    second live assignment for a seat."""
    reg, ex, tok, app, x = rejected(5)
    assert object_to(tok, app["id"]).status_code == 201
    s = seats(app["id"], 3)
    sql("UPDATE assignments SET accept_deadline = now() WHERE id = %s",
        s[1]["id"])
    sql("SELECT expire_assignment(%s)", s[1]["id"])
    redis("LPUSH", "wake", "test")
    again = []

    def repushed():
        again[:] = sql("SELECT expert_id, draw_id FROM assignments"
                       " WHERE application_id = %s AND stage = 5"
                       " AND state = 'pushed'", app["id"])
        return bool(again)
    assert wait_for(repushed)
    assert len(again) == 1
    e, d = int(again[0][0]), int(again[0][1])
    assert e not in (s[0]["expert"], s[2]["expert"], x["id"])
    assert sql("SELECT purpose, stage FROM draws WHERE id = %s", d) == [
        ["push", "5"]]
    assert sql("SELECT stage, count(*) FROM assignments WHERE application_id"
               " = %s AND state IN ('pushed', 'accepted') GROUP BY stage"
               " ORDER BY stage", app["id"]) == [["4", "1"], ["5", "1"],
                                                 ["6", "1"]]
    # The panel's draw still verifies: its seats 1 and 3 and the expired
    # seat 2 are what it chose.
    assert ctl("draw", "verify", str(app["id"]), check=False).returncode == 0


def test_fewer_eligible_than_seats_draws_who_there_is():
    """R-CER-12: with two eligible experts for three seats the one draw
    takes both; the third seat waits as unassigned (暂无可分配) and is
    filled by an ordinary push when an expert joins."""
    reg, ex, tok, app, x = rejected(3)
    assert object_to(tok, app["id"]).status_code == 201
    s = seats(app["id"], 2)
    assert sql("SELECT k FROM draws WHERE id = %s", s[0]["draw"]) == [["2"]]
    assert wait_for(lambda: sql("SELECT push_stage, unassigned_since IS NOT"
                                " NULL FROM applications WHERE id = %s",
                                app["id"]) == [["6", "t"]])
    ex.append(new_expert(login("admin")["token"], reg["hospitals"][2], ONCO))
    redis("LPUSH", "wake", "test")
    s = seats(app["id"], 3)
    assert s[2]["expert"] == ex[-1]["id"]


def test_a_hospital_appeal_uses_appeal_panel_experts():
    """S2 二(二)/三 (每个病种重新组织 3 名专家二次复核), R-CER-12: staff of
    the hospital that filed the application appeal its rejection; the
    panel has appeal_panel_experts seats (2 here, the applicant's
    objection_panel_size staying 3); another hospital's staff get 404."""
    reg, ex, tok, app, x = rejected(4)
    sql("UPDATE policies SET value = '2' WHERE region = '%s'"
        " AND key = 'appeal_panel_experts'", reg["region"])
    sql("UPDATE applications SET filing_institution = '%s' WHERE id = %s",
        reg["hospitals"][0], app["id"])
    staff = []
    for h in (reg["hospitals"][0], reg["hospitals"][1]):
        user = unique("hs")
        ctl("user", "add", "--role", "hospital", "--login", user,
            "--password", "hospital-pass-1", "--institution", h)
        staff.append(login(user, "hospital-pass-1")["token"])
    assert_error(object_to(staff[1], app["id"]), 404, "application_not_found")
    r = object_to(staff[0], app["id"], "本院申请二次复核")
    assert r.status_code == 201, r.text
    assert (r.json()["kind"], r.json()["panel_size"]) == ("hospital", 2)
    s = seats(app["id"], 2)
    assert [t["stage"] for t in s] == [4, 5]
    panel_decides(ex, app["id"], ["approve", "approve"])
    assert sql("SELECT status FROM applications WHERE id = %s",
               app["id"]) == [["approved"]]
    assert sql("SELECT kind, state, filed_by IS NOT NULL FROM objections"
               " WHERE application_id = %s", app["id"]) == [
                   ["hospital", "upheld", "t"]]


def test_draw_verify_matches_an_objection_and_names_an_altered_seat():
    """R-SUP-7 with R-CER-12: `mtcertctl draw verify APPLICATION` matches
    the push draw and the panel's draw; another expert on a seat is a
    mismatch (exit 3), restored it matches again."""
    reg, ex, tok, app, x = rejected(5)
    assert object_to(tok, app["id"]).status_code == 201
    s = seats(app["id"], 3)
    cp = ctl("draw", "verify", str(app["id"]), check=False)
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert "(objection, stage 4)" in cp.stdout and "match" in cp.stdout
    assert "2 draws, 2 match, 0 mismatch" in cp.stdout, cp.stdout
    spare = next(e["id"] for e in ex if e["id"] not in
                 [t["expert"] for t in s] + [x["id"]])
    sql("UPDATE assignments SET expert_id = %s WHERE id = %s", spare,
        s[1]["id"])
    try:
        cp = ctl("draw", "verify", str(app["id"]), check=False)
        assert cp.returncode == 3, (cp.stdout, cp.stderr)
        assert "mismatch" in cp.stdout
    finally:
        sql("UPDATE assignments SET expert_id = %s WHERE id = %s",
            s[1]["expert"], s[1]["id"])
    assert ctl("draw", "verify", str(app["id"]), check=False).returncode == 0


def test_a_panel_seat_cannot_return_the_application():
    """An objection's seat decides on what the objection brought (its
    materials were added with it): a return there would leave the other
    seats live on a returned application and, past resubmit_by, an open
    objection on a withdrawn one.  409 return_not_in_objection; the seat
    stays the expert's to decide."""
    reg, ex, tok, app, x = rejected(4)
    assert object_to(tok, app["id"]).status_code == 201
    s = seats(app["id"], 3)[0]
    e = by_id(ex, s["expert"])
    assert accept(e, s["id"]).status_code == 200
    r = api("POST", "/expert/tasks/%s/decision" % s["id"],
            headers=bearer(e["token"]),
            json={"decision": "return", "opinion": "缺少病理报告",
                  "missing": ["pathology_report"]})
    assert_error(r, 409, "return_not_in_objection")
    assert sql("SELECT a.status, o.state, x.state FROM applications a"
               " JOIN objections o ON o.application_id = a.id"
               " JOIN assignments x ON x.id = %s WHERE a.id = %s",
               s["id"], app["id"]) == [["in_review", "open", "accepted"]]


def test_during_the_objection_the_expected_date_is_its_deadline():
    """R-CER-12 (issue 12's leftover): while the panel re-decides, the
    progress view's expected date is the objection's deadline, not the
    first promise; the stored view equals a fresh build and GET serves it
    after the filing and after the panel's pushes (patched); withdrawn,
    no date is expected."""
    from test_submit_view import assert_view_fresh
    reg, ex, tok, app, x = rejected(4)
    first = sql("SELECT expected_decision_date FROM applications"
                " WHERE id = %s", app["id"])[0][0]
    r = object_to(tok, app["id"])
    assert r.status_code == 201, r.text
    deadline = r.json()["deadline"]
    assert first != deadline                       # the date moves
    v = assert_view_fresh(app["id"], tok)
    assert v["expected_decision_date"] == deadline
    assert v["objection"]["filed"]["deadline"] == deadline
    seats(app["id"], 3)                            # the pushes patch it
    v = assert_view_fresh(app["id"], tok)
    assert v["status"] == "in_review"
    assert v["expected_decision_date"] == deadline
    # A calendar recompute leaves the deadline (fixed when filed).
    assert sql("SELECT recompute_expected_dates() >= 0")
    assert assert_view_fresh(app["id"], tok)[
        "expected_decision_date"] == deadline
    # The agency's queue reads the same date.
    ag = api("GET", "/agency/applications?q=%s&region=%s" % (
        app["id"], reg["region"]), headers=bearer(login("admin")["token"]))
    assert ag.json()["items"][0]["expected_decision_date"] == deadline
    r = api("POST", "/applications/%s/withdraw" % app["id"],
            headers=bearer(tok))
    assert r.status_code == 200, r.text
    assert r.json()["expected_decision_date"] is None
    assert assert_view_fresh(app["id"], tok)["expected_decision_date"] is None
