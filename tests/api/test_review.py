"""The review engine (issue 4): expert pool, random push, 24-hour leases
and timers, decisions by stage, qualifications.  R-CER-1 ... R-CER-7,
R-SUP-7.  Each test has a region of its own, so its expert pool is
exactly the experts it adds."""
import concurrent.futures
import os
import signal
import subprocess
import time

from conftest import app_phone
from conftest import (HANG, ROOT, VAR, api, assert_error, assert_pages, bearer,
                      live_assignment, login, new_expert, new_region, redis, sms_lines, sql,
                      submitted_application, wait_for)

WAITING = "暂无可分配的认定专家"

CARDIO = ["心血管"]          # D013 (coronary heart disease): double review
ONCO = ["肿瘤"]              # D001 (malignant tumour): single review


def task(expert, app_id, state=None):
    items = api("GET", "/expert/tasks", headers=bearer(expert["token"]),
                params={"state": state} if state else None).json()["items"]
    return [t for t in items if t["application_id"] == app_id]


def accept(expert, aid):
    return api("POST", "/expert/tasks/%s/accept" % aid,
               headers=bearer(expert["token"]))


def decide(expert, aid, verdict, opinion="符合认定标准"):
    return api("POST", "/expert/tasks/%s/decision" % aid,
               headers=bearer(expert["token"]),
               json={"decision": verdict, "opinion": opinion})


def by_id(experts, uid):
    return next(e for e in experts if e["id"] == uid)


def region_with_experts(specialties, n=2, window=86400):
    """A region of its own with n experts of specialties, at its hospitals
    B and C in turn (never A, the applicants' designated hospital)."""
    admin = login("admin")["token"]
    reg = new_region(window=window)
    return admin, reg, [new_expert(admin, reg["hospitals"][1 + i % 2],
                                   specialties) for i in range(n)]


def pushes(app_id):
    """Every assignment of the application, first push first."""
    return [{"id": int(i), "expert": int(e)} for i, e in sql(
        "SELECT id, expert_id FROM assignments WHERE application_id = %s"
        " ORDER BY id", app_id)]


def never_disqualify(reg):
    """No miss limit in reg: where a test lets assignments expire on
    purpose, a slow machine piles up expiries until every expert is
    disqualified and nothing is pushed again (miss_limit is the subject
    of its own tests)."""
    sql("UPDATE policies SET value = '1000000' WHERE region = '%s'"
        " AND key = 'miss_limit'", reg["region"])


def status(tok, app_id):
    return api("GET", "/applications/%s" % app_id, headers=bearer(tok)).json()


def test_single_mode_push_accept_approve():
    admin, reg, ex = region_with_experts(ONCO)
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    assert a["stage"] == 1 and a["state"] == "pushed" and a["pool"] == 2
    e = by_id(ex, a["expert"])
    t = task(e, app["id"])[0]
    # Blind: sex, age band, region; never name, ID number or phone.
    assert set(t["application"]) == {"sex", "age_band", "region"}
    assert all(m["id"] is None for m in t["materials"])   # list only
    assert accept(e, a["id"]).status_code == 200
    assert_error(accept(e, a["id"]), 409, "task_already_accepted")
    r = decide(e, a["id"], "approve")
    assert r.status_code == 200 and r.json()["final"] is True
    assert_error(decide(e, a["id"], "approve"), 409, "task_already_decided")
    body = status(tok, app["id"])
    assert body["status"] == "approved"
    texts = [x["text"] for x in body["timeline"]]
    assert "已推送给认定专家" in texts and "专家已受理" in texts
    assert texts[-1].startswith("认定通过")
    assert all(e["login"] not in x for x in texts)
    q = sql("SELECT disease, valid_from = cn_today(), valid_to, status"
            " FROM qualifications WHERE application_id = %s", app["id"])
    assert q and q[0][0] == "D001" and q[0][1] == "t" and q[0][3] == "active"
    phone = app_phone(app["id"])
    assert wait_for(lambda: any("已通过" in m["text"] for m in sms_lines(phone)))


def test_double_mode_two_experts_agree():
    admin, reg, ex = region_with_experts(CARDIO)
    tok, app = submitted_application(reg, disease="D013")
    first = live_assignment(app["id"], stage=1)
    e1 = by_id(ex, first["expert"])
    accept(e1, first["id"])
    assert decide(e1, first["id"], "approve").json()["final"] is False
    second = live_assignment(app["id"], stage=2)
    assert second["expert"] != first["expert"]        # a different expert
    e2 = by_id(ex, second["expert"])
    t = task(e2, app["id"])[0]
    assert t["stage"] == 2 and t["decision"] is None  # not the first opinion
    accept(e2, second["id"])
    assert decide(e2, second["id"], "approve").json()["final"] is True
    body = status(tok, app["id"])
    assert body["status"] == "approved"
    # The progress view carries the qualification (R-BEN-1, R-BEN-2): the
    # portal shows it without another request.
    q = body["qualification"]
    row = sql("SELECT id, valid_from, valid_to FROM qualifications"
              " WHERE application_id = %s", app["id"])[0]
    assert q["id"] == int(row[0]) and q["status"] == "active"
    assert (q["valid_from"], q["valid_to"]) == (row[1], row[2])
    assert q["designated_institution"]["code"] == reg["hospitals"][0]
    assert body["decision_reason"] is None


def test_double_mode_disagreement_goes_to_a_third_expert():
    admin, reg, ex = region_with_experts(CARDIO, n=3)
    tok, app = submitted_application(reg, disease="D013")
    seen = []
    for stage, verdict in ((1, "approve"), (2, "reject"), (3, "reject")):
        a = live_assignment(app["id"], stage=stage)
        assert a["expert"] not in seen
        seen.append(a["expert"])
        e = by_id(ex, a["expert"])
        assert accept(e, a["id"]).status_code == 200
        r = decide(e, a["id"], verdict, "材料不足以确诊")
        assert r.json()["final"] is (stage == 3)
    body = status(tok, app["id"])
    assert body["status"] == "rejected"
    assert body["timeline"][-1]["text"] == "不予认定：材料不足以确诊"
    assert body["decision_reason"] == "材料不足以确诊"      # R-CER-11
    assert body["qualification"] is None
    assert not sql("SELECT 1 FROM qualifications WHERE application_id = %s",
                   app["id"])


def test_refuse_reassigns_to_a_different_expert():
    admin, reg, ex = region_with_experts(ONCO)
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    e = by_id(ex, a["expert"])
    r = api("POST", "/expert/tasks/%s/refuse" % a["id"], headers=bearer(e["token"]),
            json={"reason": "本人回避"})
    assert r.status_code == 200
    b = live_assignment(app["id"])
    assert b["id"] != a["id"] and b["expert"] != a["expert"]
    assert sql("SELECT consecutive_misses FROM experts WHERE user_id = %s",
               a["expert"]) == [["1"]]
    # The refused task is gone for its expert.
    assert_error(accept(e, a["id"]), 409, "task_unavailable")
    assert_error(api("POST", "/expert/tasks/%s/refuse" % a["id"],
                     headers=bearer(e["token"]), json={}), 400,
                 "field_required", "reason")


def test_silence_past_the_window_reassigns_and_counts_a_miss():
    admin, reg, ex = region_with_experts(ONCO, window=2)
    tok, app = submitted_application(reg, disease="D001")
    # The first two pushes, whether or not the second has expired too by
    # the time we look (a slow machine).
    assert wait_for(lambda: len(pushes(app["id"])) >= 2)
    a, b = pushes(app["id"])[:2]
    assert b["expert"] != a["expert"]
    assert sql("SELECT state FROM assignments WHERE id = %s", a["id"]) == [["expired"]]
    assert sql("SELECT consecutive_misses FROM experts WHERE user_id = %s",
               a["expert"]) == [["1"]]
    assert_error(accept(by_id(ex, a["expert"]), a["id"]), 409, "task_unavailable")
    texts = [x["text"] for x in status(tok, app["id"])["timeline"]]
    assert "专家未按时受理，正在重新分配" in texts


def test_three_misses_disqualify_and_notify_the_hospital():
    admin = login("admin")["token"]
    reg = new_region()
    lazy = new_expert(admin, reg["hospitals"][1], ONCO)
    for n in range(3):
        tok, app = submitted_application(reg, disease="D001")
        a = live_assignment(app["id"])
        assert a["expert"] == lazy["id"]                # the only expert
        api("POST", "/expert/tasks/%s/refuse" % a["id"],
            headers=bearer(lazy["token"]), json={"reason": "忙"})
    row = sql("SELECT status, consecutive_misses FROM experts WHERE user_id = %s",
              lazy["id"])
    assert row == [["disqualified", "3"]]
    assert sql("SELECT kind FROM notifications WHERE institution = '%s'",
               reg["hospitals"][1]) == [["expert_disqualified"]]
    # Never drawn again: the last application waits, visible to the agency.
    assert wait_for(lambda: sql("SELECT unassigned_since IS NOT NULL FROM"
                                " applications WHERE id = %s", app["id"])
                    == [["t"]])
    queue = api("GET", "/agency/applications", headers=bearer(admin),
                params={"region": reg["region"], "status": "unassigned"}).json()
    assert app["id"] in [i["id"] for i in queue["items"]]
    experts = api("GET", "/agency/experts", headers=bearer(admin),
                  params={"region": reg["region"]}).json()["items"]
    assert [(e["status"], e["consecutive_misses"]) for e in experts] == \
        [("disqualified", 3)]
    r = api("POST", "/agency/experts/%s/reinstate" % lazy["id"],
            headers=bearer(admin))
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert r.json()["consecutive_misses"] == 0
    # Back in the pool, but it refused the waiting application: never
    # drawn for that one again (a refusal is an explicit no); a new expert
    # is, in the first round.
    fresh = new_expert(admin, reg["hospitals"][2], ONCO)
    b = live_assignment(app["id"])
    assert b["expert"] == fresh["id"] and b["id"] != a["id"]
    assert pushed_round(b["id"]) == 1
    assert sql("SELECT count(*) FROM assignments WHERE application_id = %s"
               " AND expert_id = %s", app["id"], lazy["id"]) == [["1"]]
    # A new expert comes before anyone's second round.
    tok, later = submitted_application(reg, disease="D001")
    c = live_assignment(later["id"])
    assert c["expert"] in (lazy["id"], fresh["id"])
    api("POST", "/expert/tasks/%s/refuse" % c["id"],
        headers=bearer(by_id([lazy, fresh], c["expert"])["token"]),
        json={"reason": "忙"})
    d = live_assignment(later["id"])
    assert d["expert"] != c["expert"] and d["id"] != c["id"]


def test_a_backlog_of_waiting_applications_never_starves_a_later_one():
    """The dispatcher retries every waiting application, page by page: 150
    applications waiting in a region where nobody is eligible (more than
    one page of 100, all older) must not keep a later application of
    another region from the expert who just joined its pool."""
    admin = login("admin")["token"]
    empty = new_region()
    admin_id = sql("SELECT id FROM users WHERE login = 'admin'")[0][0]
    sql("WITH p AS (INSERT INTO persons (id_number, name, sex, birth_date,"
        " phone, insurance, region) SELECT '%s' || lpad(g::text, 11, '0') || 'X',"
        " '候补' || g, 'F', '1950-01-01', '13' || lpad(g::text, 9, '0'),"
        " 'resident', '%s' FROM generate_series(1, 150) g RETURNING id, phone)"
        " INSERT INTO applications (person_id, disease, region, channel, status,"
        " review_mode, phone, medical_record_no, designated_institution,"
        " filed_by, promised_at, submitted_at, push_stage, unassigned_since)"
        " SELECT p.id, 'D001', '%s', 'web', 'submitted', 'single', p.phone,"
        " 'MR-backlog', '%s', %s, now(), now(), 1, now() FROM p",
        empty["region"], empty["region"], empty["region"],
        empty["hospitals"][0], admin_id)
    try:
        reg = new_region()
        tok, app = submitted_application(reg, disease="D001")
        assert wait_for(lambda: sql("SELECT unassigned_since IS NOT NULL FROM"
                                    " applications WHERE id = %s",
                                    app["id"]) == [["t"]])
        fresh = new_expert(admin, reg["hospitals"][1], ONCO)
        assert live_assignment(app["id"])["expert"] == fresh["id"]
    finally:
        # The backlog would slow every later retry round: gone.
        sql("UPDATE applications SET status = 'withdrawn', push_stage = NULL,"
            " unassigned_since = NULL WHERE region = '%s'", empty["region"])


def test_timers_of_every_region_are_claimed_however_many_regions():
    """The dispatcher claims due timers region by region: with more than
    256 regions (China has over 300), the last region's assignment still
    expires at its deadline through its timer, not 10 s later through the
    overdue sweep."""
    sql("INSERT INTO regions SELECT '00' || lpad(g::text, 4, '0'), '虚设' || g,"
        " '测试省' FROM generate_series(1, 300) g ON CONFLICT DO NOTHING")
    try:
        # A '8xxxxx' region: after all 300 above.
        admin, reg, ex = region_with_experts(ONCO, window=2)
        time.sleep(2.5)                  # the dispatcher sees the region
        tok, app = submitted_application(reg, disease="D001")
        assert wait_for(lambda: pushes(app["id"]))
        a = pushes(app["id"])[0]
        deadline = float(sql("SELECT extract(epoch FROM accept_deadline)"
                             " FROM assignments WHERE id = %s", a["id"])[0][0])
        assert wait_for(lambda: sql("SELECT state FROM assignments WHERE"
                                    " id = %s", a["id"]) == [["expired"]])
        ended = float(sql("SELECT extract(epoch FROM ended_at) FROM assignments"
                          " WHERE id = %s", a["id"])[0][0])
        # Well before the sweep's 10 s grace: the timer did it.
        assert ended - deadline < 8, ended - deadline
        assert wait_for(lambda: len(pushes(app["id"])) >= 2)
        assert pushes(app["id"])[1]["expert"] != a["expert"]
    finally:
        sql("DELETE FROM regions WHERE code ~ '^00[0-9]{4}$'"
            " AND name LIKE '虚设%%'")


def test_accept_resets_the_miss_count():
    admin = login("admin")["token"]
    reg = new_region()
    e = new_expert(admin, reg["hospitals"][1], ONCO)
    for _ in range(2):
        tok, app = submitted_application(reg, disease="D001")
        a = live_assignment(app["id"])
        api("POST", "/expert/tasks/%s/refuse" % a["id"],
            headers=bearer(e["token"]), json={"reason": "忙"})
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    assert accept(e, a["id"]).status_code == 200
    assert sql("SELECT status, consecutive_misses FROM experts WHERE user_id = %s",
               e["id"]) == [["active", "0"]]


def test_expert_reads_materials_only_after_accepting():
    admin = login("admin")["token"]
    reg = new_region()
    e = new_expert(admin, reg["hospitals"][1], ONCO)
    other = new_expert(admin, reg["hospitals"][2], ["精神"])
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    mid = app["materials"][0]["id"]
    assert_error(api("GET", "/materials/%s" % mid, headers=bearer(e["token"])),
                 404, "material_not_found")
    accept(e, a["id"])
    assert api("GET", "/materials/%s" % mid,
               headers=bearer(e["token"])).status_code == 200
    ids = [m["id"] for m in task(e, app["id"])[0]["materials"]]
    assert mid in ids
    assert_error(api("GET", "/materials/%s" % mid,
                     headers=bearer(other["token"])), 404, "material_not_found")
    assert_error(accept(other, a["id"]), 404, "task_not_found")
    assert_error(decide(e, 999999999, "approve"), 404, "task_not_found")


def test_decision_needs_accept_and_valid_input():
    admin = login("admin")["token"]
    reg = new_region()
    e = new_expert(admin, reg["hospitals"][1], ONCO)
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    assert_error(decide(e, a["id"], "approve"), 409, "task_not_accepted")
    accept(e, a["id"])
    assert_error(decide(e, a["id"], "maybe"), 400, "field_invalid", "decision")
    assert_error(decide(e, a["id"], "reject", ""), 400, "field_required", "opinion")
    assert_error(api("GET", "/expert/tasks", headers=bearer(e["token"]),
                     params={"state": "lost"}), 400, "field_invalid", "state")
    assert_error(api("GET", "/expert/tasks", headers=bearer(tok)), 403, "forbidden")


def test_reason_code_comes_from_the_reference_list():
    """B5, R-CER-11: a rejection's reason code is one of the list GET
    /rejection-reasons serves; an unknown or retired code is refused
    beside the field (422), nothing decided, and a database write that
    bypasses the API meets the foreign keys."""
    admin, reg, ex = region_with_experts(ONCO, n=1)
    e = ex[0]
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    assert accept(e, a["id"]).status_code == 200

    def reject(code):
        return api("POST", "/expert/tasks/%s/decision" % a["id"],
                   headers=bearer(e["token"]),
                   json={"decision": "reject", "opinion": "材料不足以确诊",
                         "reason_code": code})

    assert_error(reject("no_such_reason"), 422, "reason_code_not_found",
                 "reason_code")
    assert_error(reject("Bad-Code"), 400, "field_invalid", "reason_code")
    sql("INSERT INTO rejection_reasons (code, name_zh, sort, active)"
        " VALUES ('retired_for_test', '测试：已停用', 999, false)"
        " ON CONFLICT (code) DO NOTHING")
    assert_error(reject("retired_for_test"), 422, "reason_code_not_found",
                 "reason_code")
    assert sql("SELECT state FROM assignments WHERE id = %s",
               a["id"]) == [["accepted"]]
    listed = [r["code"] for r in
              api("GET", "/rejection-reasons").json()["items"]]
    assert "materials_insufficient" in listed
    r = reject("materials_insufficient")
    assert r.status_code == 200 and r.json()["final"] is True, r.text
    assert sql("SELECT status, decision_reason_code FROM applications"
               " WHERE id = %s", app["id"]) == \
        [["rejected", "materials_insufficient"]]
    # The schema's backstop: both columns reference the list.
    for table, column in (("assignments", "reason_code"),
                          ("applications", "decision_reason_code")):
        key = a["id"] if table == "assignments" else app["id"]
        sql("DO $$ BEGIN UPDATE %s SET %s = 'no_such_reason' WHERE id = %s;"
            " RAISE EXCEPTION 'no foreign key on %s.%s';"
            " EXCEPTION WHEN foreign_key_violation THEN NULL; END $$",
            table, column, key, table, column)


def test_expert_pool_rules():
    admin = login("admin")["token"]
    reg = new_region()
    base = {"login": "x-" + reg["region"], "password": "expert-pass-1",
            "institution": reg["hospitals"][1], "title": "初级",
            "specialties": ONCO}
    assert_error(api("POST", "/agency/experts", headers=bearer(admin), json=base),
                 422, "title_below_minimum", "title")
    assert_error(api("POST", "/agency/experts", headers=bearer(admin),
                     json=dict(base, title="中级", specialties=["天文"])),
                 422, "specialty_unknown", "specialties")
    assert_error(api("POST", "/agency/experts", headers=bearer(admin),
                     json=dict(base, title="中级", institution="H99999999999")),
                 422, "institution_not_found", "institution")
    assert_error(api("POST", "/agency/experts", headers=bearer(admin),
                     json=dict(base, title="中级", specialties=[])),
                 400, "field_required", "specialties")
    sql("UPDATE institutions SET certifying = false WHERE code = '%s'",
        reg["hospitals"][2])
    assert_error(api("POST", "/agency/experts", headers=bearer(admin),
                     json=dict(base, title="中级",
                               institution=reg["hospitals"][2])),
                 422, "institution_not_certifying", "institution")
    smx = login("agency-sanmenxia")["token"]     # another region's agency
    assert_error(api("POST", "/agency/experts", headers=bearer(smx),
                     json=dict(base, title="中级")), 422,
                 "institution_not_found", "institution")
    assert api("POST", "/agency/experts", headers=bearer(admin),
               json=dict(base, title="中级")).status_code == 201
    assert_error(api("POST", "/agency/experts", headers=bearer(admin),
                     json=dict(base, title="中级")), 409, "login_taken", "login")


def test_the_draw_is_uniform():
    """Chi-square over 2,500 draws from a pool of 5 (df 4: 18.47 is the
    0.1 % critical value)."""
    admin = login("admin")["token"]
    reg = new_region()
    # One hospital: "another hospital first" does not narrow the pool.
    ex = [new_expert(admin, reg["hospitals"][1], ONCO) for i in range(5)]
    tok, app = submitted_application(reg, disease="D001")
    live_assignment(app["id"])
    # Draw for a second stage of the same application: the pushed expert
    # is excluded, four remain.
    # Ten statements of 250: one of 2,500 took 20-47 s on 2 cores shared
    # with a browser suite, past sql()'s 30 s bound against a hang.
    rows = [r for _ in range(10) for r in sql(
        "SELECT (draw_expert(%s)).expert_id FROM generate_series(1, 250)",
        app["id"])]
    counts = {}
    for (uid,) in rows:
        counts[uid] = counts.get(uid, 0) + 1
    # Those draws were recorded and nothing used them: `draw verify`
    # would rightly call them a mismatch.  They were the test's, not a
    # push's.
    sql("DELETE FROM draws d WHERE d.application_id = %s AND NOT EXISTS"
        " (SELECT 1 FROM assignments x WHERE x.draw_id = d.id)", app["id"])
    assert len(counts) == 4
    expected = 2500 / 4
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 16.27, (chi2, counts)     # df 3, p = 0.001


def test_accept_racing_the_expiry_exactly_one_wins():
    """Accepts sent around the deadline: the assignment ends accepted or
    expired, never both, and is re-pushed only when it expired."""
    admin, reg, ex = region_with_experts(ONCO, window=1)
    for trial in range(8):
        # Each expired trial counts misses for both experts (the 1 s window
        # also runs out on the re-push): start every trial with a clean
        # pool, so the race is what is tested, not the miss limit.
        sql("UPDATE experts SET consecutive_misses = 0, status = 'active'"
            " WHERE user_id IN (%s, %s)", ex[0]["id"], ex[1]["id"])
        tok, app = submitted_application(reg, disease="D001")
        assert wait_for(lambda: pushes(app["id"]))
        a = pushes(app["id"])[0]        # live or, on a slow box, not
        e = by_id(ex, a["expert"])
        deadline = float(sql("SELECT extract(epoch FROM accept_deadline)"
                             " FROM assignments WHERE id = %s", a["id"])[0][0])
        time.sleep(max(0, deadline - time.time() - 0.05 + (trial % 4) * 0.03))
        code = accept(e, a["id"]).status_code
        state = sql("SELECT state FROM assignments WHERE id = %s", a["id"])[0][0]
        if code == 200:
            assert state == "accepted"
            time.sleep(0.5)
            assert sql("SELECT count(*) FROM assignments WHERE application_id"
                       " = %s", app["id"]) == [["1"]]
        else:
            assert code == 409
            assert wait_for(lambda: sql("SELECT state FROM assignments WHERE"
                                        " id = %s", a["id"]) == [["expired"]])


def dispatcher_pids():
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                exe = os.readlink("/proc/%s/exe" % pid)
            except OSError:
                continue
            if exe.endswith("mtcert-dispatcher") and VAR in open(
                    "/proc/%s/cmdline" % pid).read():
                out.append(int(pid))
    return out


def second_dispatcher():
    build = os.environ.get("MTCERT_BUILD", os.path.join(ROOT, "build"))
    return subprocess.Popen(
        ["setpriv", "--reuid=mtcert", "--regid=mtcert", "--init-groups", "--",
         os.path.join(build, "bin", "mtcert-dispatcher"), "--config",
         os.path.join(VAR, "mtcert.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def assert_each_stage_pushed_once(app_ids):
    for app_id in app_ids:
        rows = sql("SELECT stage, count(*) FILTER (WHERE state IN ('pushed',"
                   " 'accepted')) FROM assignments WHERE application_id = %s"
                   " GROUP BY stage", app_id)
        assert all(int(n) <= 1 for _, n in rows), (app_id, rows)


def test_two_dispatchers_no_double_push():
    admin, reg, ex = region_with_experts(ONCO, n=3, window=2)
    never_disqualify(reg)
    extra = second_dispatcher()
    try:
        apps = [submitted_application(reg, disease="D001")[1]["id"]
                for _ in range(6)]
        for app_id in apps:     # each expires and is pushed again
            assert wait_for(lambda: len(sql(
                "SELECT 1 FROM assignments WHERE application_id = %s",
                app_id)) >= 2), app_id
            rows = sql("SELECT state FROM assignments WHERE application_id = %s"
                       " ORDER BY id", app_id)
            assert [r[0] for r in rows].count("pushed") <= 1, rows
        assert_each_stage_pushed_once(apps)
    finally:
        extra.terminate()
        extra.wait(10)


def test_redis_flush_and_dispatcher_kill_lose_nothing():
    """FLUSHALL with pushed assignments outstanding, and the dispatcher
    killed with SIGKILL: every assignment still expires and is re-pushed,
    none twice.  Asserted per assignment: on a slow machine the re-pushed
    3 s assignment may legitimately expire too."""
    admin, reg, ex = region_with_experts(ONCO, n=3, window=3)
    never_disqualify(reg)
    apps = [submitted_application(reg, disease="D001")[1]["id"] for _ in range(4)]
    for a in apps:
        assert wait_for(lambda: pushes(a)), a
    first = {a: pushes(a)[0]["id"] for a in apps}
    redis("FLUSHALL")
    for pid in dispatcher_pids():
        os.kill(pid, signal.SIGKILL)
    subprocess.run([os.path.join(ROOT, "shared", "stack.sh"), "dispatcher-start"],
                   check=True, capture_output=True, timeout=HANG)
    for a, asg in first.items():
        assert wait_for(lambda: sql("SELECT state FROM assignments WHERE id = %s",
                                    asg) == [["expired"]]), a
        assert wait_for(lambda: len(pushes(a)) >= 2), a    # pushed again
    assert_each_stage_pushed_once(apps)
    for a, asg in first.items():
        expired = dict(sql("SELECT data->>'assignment', count(*) FROM events"
                           " WHERE application_id = %s AND type = 'expired'"
                           " GROUP BY 1", a))
        assert expired.get(str(asg)) == "1", (a, asg, expired)
        assert set(expired.values()) == {"1"}, (a, expired)


def test_withdrawn_before_the_push_is_never_pushed():
    admin = login("admin")["token"]
    reg = new_region()
    tok, app = submitted_application(reg, disease="D001")   # nobody eligible
    assert wait_for(lambda: sql("SELECT unassigned_since IS NOT NULL FROM"
                                " applications WHERE id = %s", app["id"])
                    == [["t"]])
    r = api("POST", "/applications/%s/withdraw" % app["id"], headers=bearer(tok))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    new_expert(admin, reg["hospitals"][1], ONCO)            # pool changes
    # Asserted once the dispatcher has pushed a later application of the
    # region (a pass after the pool changed), not after a sleep.
    _, later = submitted_application(reg, disease="D001")
    live_assignment(later["id"])
    assert sql("SELECT count(*) FROM assignments WHERE application_id = %s",
               app["id"]) == [["0"]]
    assert sql("SELECT push_stage IS NULL FROM applications WHERE id = %s",
               app["id"]) == [["t"]]


def withdraw(tok, app_id):
    return api("POST", "/applications/%s/withdraw" % app_id,
               headers=bearer(tok))


def pushed_application():
    """A region of two oncology experts and a single-review application
    pushed to one of them: (region, applicant token, application, its
    assignment, the expert holding it)."""
    admin, reg, ex = region_with_experts(ONCO)
    tok, app = submitted_application(reg, disease="D001")
    a = live_assignment(app["id"])
    return reg, tok, app, a, by_id(ex, a["expert"])


def test_withdraw_while_pushed_cancels_the_task():
    """A5: withdraw works until a decision (API.md), not only until the
    push: the live assignment is cancelled, its task gone (accept: 409),
    its Redis timer dropped, no miss counted, the expert told; nothing is
    pushed again."""
    reg, tok, app, a, e = pushed_application()
    sql("UPDATE experts SET phone = '13700001234' WHERE user_id = %s", e["id"])
    assert task(e, app["id"])
    assert wait_for(lambda: redis("ZSCORE", "timers:{%s}" % reg["region"],
                                  str(a["id"])) != "", 10)
    r = withdraw(tok, app["id"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withdrawn"
    assert r.json()["timeline"][-1]["text"] == "已撤回申请"
    assert sql("SELECT state FROM assignments WHERE id = %s", a["id"]) == \
        [["cancelled"]]
    assert task(e, app["id"]) == []
    assert_error(accept(e, a["id"]), 409, "task_unavailable")
    assert sql("SELECT consecutive_misses FROM experts WHERE user_id = %s",
               e["id"]) == [["0"]]
    assert redis("ZSCORE", "timers:{%s}" % reg["region"], str(a["id"])) == ""
    assert wait_for(lambda: any("已取消" in m["text"] and str(a["id"]) in
                                m["text"] for m in sms_lines("13700001234")), 10)
    # Nothing pushed again: asserted once the dispatcher has made a pass
    # after the withdraw (an application of the region submitted later
    # has been pushed), not after a sleep a slow machine outlasts.
    _, later = submitted_application(reg, disease="D001")
    live_assignment(later["id"])
    assert sql("SELECT count(*) FROM assignments WHERE application_id = %s",
               app["id"]) == [["1"]]
    assert sql("SELECT push_stage IS NULL FROM applications WHERE id = %s",
               app["id"]) == [["t"]]
    assert_error(withdraw(tok, app["id"]), 409, "application_not_withdrawable")


def test_withdraw_after_accept_cancels_the_review():
    """A5: also while the expert holds it (accepted): the decision then
    answers 409, nothing is concluded, the lease is dropped."""
    reg, tok, app, a, e = pushed_application()
    assert accept(e, a["id"]).status_code == 200
    lease = "lease:{%s}:%s:1" % (reg["region"], app["id"])
    assert redis("EXISTS", lease) == "1"
    r = withdraw(tok, app["id"])
    assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text
    assert redis("EXISTS", lease) == "0"
    assert_error(decide(e, a["id"], "approve"), 409, "task_unavailable")
    assert task(e, app["id"], "accepted") == []
    assert sql("SELECT status, decided_at IS NULL FROM applications"
               " WHERE id = %s", app["id"]) == [["withdrawn", "t"]]
    assert not sql("SELECT 1 FROM qualifications WHERE application_id = %s",
                   app["id"])


def test_withdraw_racing_a_decision_is_no_deadlock():
    """A withdraw racing the expert's decision, made deterministic: a
    session does what decide_assignment does first (locks the accepted
    assignment), the withdraw arrives through the API and waits, then the
    session runs decide_assignment.  With two lock orders (withdraw: the
    application, then the assignment; decide: the other way round) that
    was "deadlock detected" and a 503; with one, the decision wins, the
    withdraw answers 409 and the application is approved."""
    reg, tok, app, a, e = pushed_application()
    assert accept(e, a["id"]).status_code == 200
    session = subprocess.Popen(
        ["psql", "-h", os.path.join(VAR, "run", "pg"), "-p",
         os.environ.get("MTCERT_PG_PORT", "5433"), "-U", "mtcert", "-d",
         "mtcert", "-qAtX", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        session.stdin.write("BEGIN;\nUPDATE assignments SET ended_at ="
                            " ended_at WHERE id = %d;\nSELECT 'locked';\n"
                            % a["id"])
        session.stdin.flush()
        assert session.stdout.readline().strip() == "locked"
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            w = pool.submit(withdraw, tok, app["id"])
            assert wait_for(lambda: sql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type"
                " = 'Lock' AND query LIKE '%%withdraw_application%%'"
                " AND pid <> pg_backend_pid()") == [["1"]])
            session.stdin.write("SELECT decide_assignment(%d, %d, 'approve',"
                                " '符合认定标准', NULL);\nCOMMIT;\n"
                                % (a["id"], e["id"]))
            out, err = session.communicate(timeout=60)
            r = w.result(timeout=60)
    finally:
        if session.poll() is None:
            session.kill()
    assert "deadlock" not in err and session.returncode == 0, err
    assert_error(r, 409, "application_not_withdrawable")
    assert status(tok, app["id"])["status"] == "approved"
    assert sql("SELECT state FROM assignments WHERE id = %s", a["id"]) == \
        [["decided"]]


def test_no_withdraw_after_the_decision():
    reg, tok, app, a, e = pushed_application()
    assert accept(e, a["id"]).status_code == 200
    assert decide(e, a["id"], "approve").status_code == 200
    assert_error(withdraw(tok, app["id"]), 409, "application_not_withdrawable")
    assert status(tok, app["id"])["status"] == "approved"


def refuse(expert, aid):
    r = api("POST", "/expert/tasks/%s/refuse" % aid,
            headers=bearer(expert["token"]), json={"reason": "忙"})
    assert r.status_code == 200, r.text


def pushed_round(aid):
    return int(sql("SELECT data->>'round' FROM events WHERE type = 'pushed'"
                   " AND (data->>'assignment')::bigint = %s", aid)[0][0])


def waiting(app_id):
    return wait_for(lambda: sql("SELECT unassigned_since IS NOT NULL FROM"
                                " applications WHERE id = %s", app_id)
                    == [["t"]], 15)


def test_new_rounds_never_go_to_the_first_stage_decider():
    """A4: the re-review never goes to the expert who decided stage 1;
    the only other one refused it, which is an explicit no: it is not
    asked again (a new round would cost it its qualification through
    miss_limit), the application waits, and the applicant is told so
    instead of "专家认定中" and a date."""
    admin, reg, ex = region_with_experts(CARDIO)      # D013: double review
    tok, app = submitted_application(reg, disease="D013")
    a = live_assignment(app["id"], stage=1)
    first = by_id(ex, a["expert"])
    other = next(e for e in ex if e["id"] != first["id"])
    assert accept(first, a["id"]).status_code == 200
    assert decide(first, a["id"], "approve").status_code == 200
    b = live_assignment(app["id"], stage=2)
    assert b["expert"] == other["id"] and pushed_round(b["id"]) == 1
    refuse(other, b["id"])
    assert waiting(app["id"])
    assert sql("SELECT status, consecutive_misses FROM experts"
               " WHERE user_id = %s", other["id"]) == [["active", "1"]]
    assert sql("SELECT expert_id FROM assignments WHERE application_id = %s"
               " AND stage = 2", app["id"]) == [[str(other["id"])]]
    body = status(tok, app["id"])
    assert body["status"] == "in_review"
    assert body["expected_decision_date"] is None     # no false date
    assert body["waiting_for_expert"]["text"].startswith(WAITING)
    mine = api("GET", "/applications", headers=bearer(tok)).json()["items"]
    assert [i["waiting_for_expert"] is not None for i in mine] == [True]


def test_refusers_are_never_asked_again_who_missed_it_is():
    """A refusal is an explicit no (a conflict of interest, say): an
    expert who refused an application is never drawn for it again, so one
    application nobody takes costs nobody the qualification; an expert who
    only let it expire gets a new round; once nobody is left it waits and
    the agency sees it stuck."""
    admin, reg, ex = region_with_experts(ONCO, n=3)   # D001: single review
    tok, app = submitted_application(reg, disease="D001")
    r1 = live_assignment(app["id"])
    refuse(by_id(ex, r1["expert"]), r1["id"])
    r2 = live_assignment(app["id"])
    assert r2["expert"] != r1["expert"]
    refuse(by_id(ex, r2["expert"]), r2["id"])
    m = live_assignment(app["id"])
    assert m["expert"] not in (r1["expert"], r2["expert"])
    # Missed: past its deadline, expired as the dispatcher would.
    sql("UPDATE assignments SET accept_deadline = now() WHERE id = %s", m["id"])
    sql("SELECT expire_assignment(%s)", m["id"])
    again = live_assignment(app["id"])
    assert again["id"] != m["id"] and again["expert"] == m["expert"]
    assert pushed_round(again["id"]) == 2
    refuse(by_id(ex, m["expert"]), again["id"])
    assert waiting(app["id"])
    assert sql("SELECT count(*) FROM experts WHERE user_id IN (%s)"
               " AND status = 'active'", ", ".join(str(e["id"]) for e in ex)) \
        == [["3"]]
    assert dict(sql("SELECT expert_id, count(*) FROM assignments"
                    " WHERE application_id = %s GROUP BY 1", app["id"])) \
        == {str(r1["expert"]): "1", str(r2["expert"]): "1",
            str(m["expert"]): "2"}
    sql("UPDATE applications SET unassigned_since = now() - interval '25 hours'"
        " WHERE id = %s", app["id"])                 # default: 24 hours
    q = api("GET", "/agency/applications", headers=bearer(admin),
            params={"region": reg["region"], "status": "unassigned"})
    assert [i["stuck"] for i in q.json()["items"] if i["id"] == app["id"]] \
        == [True]


def test_waiting_applicant_gets_one_sms_and_the_agency_sees_it_stuck():
    """A4: nobody eligible at all: after the region's unassigned_notice_hours
    the applicant is told by SMS, once; the agency's queue marks it
    stuck."""
    admin = login("admin")["token"]
    reg = new_region()
    tok, app = submitted_application(reg, disease="D001")   # nobody eligible
    assert waiting(app["id"])

    def queued():
        q = api("GET", "/agency/applications", headers=bearer(admin),
                params={"region": reg["region"], "status": "unassigned"})
        return [i for i in q.json()["items"] if i["id"] == app["id"]]
    assert [i["stuck"] for i in queued()] == [False]
    assert status(tok, app["id"])["expected_decision_date"] is None
    sql("UPDATE applications SET unassigned_since = now() - interval '25 hours'"
        " WHERE id = %s", app["id"])                 # default: 24 hours
    assert [i["stuck"] for i in queued()] == [True]
    assert wait_for(lambda: sql("SELECT unassigned_notice_at IS NOT NULL FROM"
                                " applications WHERE id = %s", app["id"])
                    == [["t"]], 60)
    sql("SELECT push_assignment(%s)", app["id"])      # retried again: no
    sql("SELECT push_assignment(%s)", app["id"])      # second message
    # (Counted by the application: test applications share one phone.)
    mine = "编号%s）" % app["id"]
    assert sql("SELECT count(*) FROM sms_outbox WHERE template ="
               " 'application_waiting' AND position('%s' IN body) > 0",
               mine) == [["1"]]
    phone = app_phone(app["id"])
    assert wait_for(lambda: any(WAITING in m["text"] and mine in m["text"]
                                for m in sms_lines(phone)), 10)
    texts = [x["text"] for x in status(tok, app["id"])["timeline"]]
    assert "已短信告知：%s，医保经办机构正在安排" % WAITING in texts


def fresh_province():
    """A 2-digit province prefix no region has yet."""
    used = {r[0] for r in sql("SELECT DISTINCT left(code, 2) FROM regions")}
    return next(p for p in map(str, range(99, 9, -1)) if p not in used)


def test_province_pool_only_by_policy_and_own_region_first():
    """A4: a region with nobody eligible may draw from the other regions
    of its province (first 2 digits of the code), only when its policy
    province_pool_fallback says so (off by default); never another
    province; its own pool first."""
    admin = login("admin")["token"]
    prov = fresh_province()
    home, near = new_region(province=prov), new_region(province=prov)
    new_expert(admin, new_region()["hospitals"][1], ONCO)   # other province
    neighbour = new_expert(admin, near["hospitals"][1], ONCO)
    tok, app = submitted_application(home, disease="D001")
    assert waiting(app["id"])                       # off by default
    r = api("PUT", "/agency/policy", headers=bearer(admin),
            json={"region": home["region"], "key": "province_pool_fallback",
                  "value": "true"})
    assert r.status_code == 200, r.text
    a = live_assignment(app["id"])
    assert a["expert"] == neighbour["id"]
    texts = [x["text"] for x in status(tok, app["id"])["timeline"]]
    assert "已推送给认定专家（本省其他统筹区专家库）" in texts
    own = new_expert(admin, home["hospitals"][1], ONCO)
    tok, later = submitted_application(home, disease="D001")
    assert live_assignment(later["id"])["expert"] == own["id"]


def test_expiry_and_repush_go_on_while_redis_is_down():
    """Redis only mirrors PostgreSQL: with Redis stopped, an assignment
    past its deadline is still expired (the dispatcher's sweep from
    PostgreSQL) and pushed to the next expert; the timers come back when
    Redis does."""
    admin = login("admin")["token"]
    reg = new_region(window=2)
    for i in range(2):
        new_expert(admin, reg["hospitals"][1 + i], ONCO)
    tok, app = submitted_application(reg, disease="D001")
    assert wait_for(lambda: pushes(app["id"]))
    a = pushes(app["id"])[0]
    stack = os.path.join(ROOT, "shared", "stack.sh")
    subprocess.run([stack, "redis-stop"], check=True, capture_output=True,
                   timeout=60)
    try:
        assert wait_for(lambda: sql("SELECT state FROM assignments WHERE id = %s",
                                    a["id"]) == [["expired"]])
        assert wait_for(lambda: len(pushes(app["id"])) >= 2)
        b = pushes(app["id"])[1]
        assert b["expert"] != a["expert"]
    finally:
        subprocess.run([stack, "redis-start"], check=True, capture_output=True,
                       timeout=60)
    # Back: the dispatcher rebuilt its timer sets (marker key) and the
    # application keeps moving through the timers again.

    def rebuilt():      # set, and not "pending:": a rebuild ran to its end
        marker = redis("GET", "dispatcher:rebuilt")
        return marker != "" and not marker.startswith("pending:")
    assert wait_for(rebuilt)
    assert wait_for(lambda: sql("SELECT state FROM assignments WHERE id = %s",
                                b["id"]) == [["expired"]])


def test_task_list_pages_with_a_cursor():
    """More tasks than a page: the page is cut with a next_cursor that
    leads to the rest (newest first), never silently."""
    admin, reg, (e,) = region_with_experts(ONCO, n=1)
    aids = sorted(live_assignment(submitted_application(
        reg, disease="D001")[1]["id"])["id"] for _ in range(3))[::-1]

    assert_pages("/expert/tasks", e["token"], aids)
    assert_error(api("GET", "/expert/tasks", headers=bearer(e["token"]),
                     params={"limit": 0}), 400, "field_invalid", "limit")
