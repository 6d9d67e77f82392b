"""The benefit after the decision, the person's and the hospital's side
(issue 10 items 1, 3, 4, 5): the qualifications list, the notification
letter, a change of designated hospital, voluntary exit.  R-BEN-1,
R-BEN-2, R-BEN-3, R-BEN-5.  Each test has a region of its own (three
hospitals A, B, C, no experts), and a qualification is granted the way
the review engine grants it (conclude_application)."""
import concurrent.futures
import datetime

from conftest import id_hmac, person_row_id
from conftest import (api, assert_error, bearer, complete, ctl, draft,
                      id_number, insured_login, login, new_person,
                      new_region, policy, sms_lines, sql, stack, today,
                      unique, wait_for)

PSYCH = "D006"      # 重性精神疾病: specialty 精神, the guardian signs


def granted(reg, disease="D013", who=None, hospital_index=0):
    """A person of reg (or who: (person, token) signed in) with an
    approved application for disease at the region's hospital
    hospital_index: (person, token, qualification id)."""
    if who is None:
        p = new_person(region=reg["region"])
        tok = insured_login(p)["token"]
    else:
        p, tok = who
    app = complete(tok, draft(tok, disease=disease,
                              institution=reg["hospitals"][hospital_index]))
    r = api("POST", "/applications/%s/submit" % app["id"],
            headers=bearer(tok), json={"promise": True})
    assert r.status_code == 200, r.text
    sql("SELECT conclude_application(%s, true, NULL, NULL)", app["id"])
    q = sql("SELECT id FROM qualifications WHERE application_id = %s",
            app["id"])[0][0]
    return p, tok, int(q)


def mine(tok, **params):
    r = api("GET", "/qualifications", headers=bearer(tok), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def change(tok, qid, institution, headers=None):
    return api("POST", "/qualifications/%s/designated-institution" % qid,
               headers=dict(bearer(tok), **(headers or {})),
               json={"institution": institution})


def terminate(tok, qid, **body):
    body.setdefault("promise", True)
    return api("POST", "/qualifications/%s/terminate" % qid,
               headers=bearer(tok), json=body)


def timeline(tok, qid):
    app = sql("SELECT application_id FROM qualifications WHERE id = %s",
              qid)[0][0]
    return [e["text"] for e in api("GET", "/applications/%s" % app,
                                   headers=bearer(tok)).json()["timeline"]]


def hospital_user(institution):
    user = unique("hosp")
    ctl("user", "add", "--role", "hospital", "--login", user,
        "--password", "hospital-pass-1", "--institution", institution)
    return login(user, "hospital-pass-1")["token"]


def test_own_list_shows_the_qualification_masked_r_ben_1():
    """R-BEN-1: the benefit starts on the decision day, or on the 1st of
    next month for a quota disease where the region says so; the person
    sees each qualification with its hospital, validity and status."""
    reg = new_region()
    with policy(reg["region"], "quota_benefit_start", "next_month"):
        p, tok, quota = granted(reg, disease="D013")        # quota
        _, _, plain = granted(reg, disease="D001", who=(p, tok))  # not quota
    items = mine(tok)["items"]
    assert [q["id"] for q in items] == [plain, quota]       # newest first
    by = {q["id"]: q for q in items}
    t = today()
    first_next = (t.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    assert by[quota]["valid_from"] == first_next.isoformat()
    assert by[plain]["valid_from"] == t.isoformat()
    q = by[plain]
    assert q["status"] == "active" and q["end_reason"] is None
    assert q["disease"]["code"] == "D001" and q["disease"]["name"]
    assert q["designated_institution"] == {"code": reg["hospitals"][0],
                                           "name": "测试医院1"}
    assert q["holder"]["name"] == p["name"]
    assert q["holder"]["id_number"] == (p["id_number"][:4] + "*" * 10 +
                                        p["id_number"][-4:])
    assert p["id_number"] not in str(items)
    assert q["changes_left"] == 2 and q["days_left"] > 700


def test_list_is_scoped_filtered_and_paged():
    reg = new_region()
    p, tok, q1 = granted(reg, disease="D013")
    _, other_tok, other = granted(reg, disease="D013")
    pid = person_row_id(p["id_number"])
    # Two more of the person's, one ended (lists show every status).
    more = [int(sql("INSERT INTO qualifications (person_id, disease, region,"
                    " designated_institution, valid_from, valid_to)"
                    " VALUES (%s, '%s', '%s', '%s', cn_today(),"
                    " cn_today() + 700) RETURNING id", pid, d, reg["region"],
                    reg["hospitals"][1])[0][0]) for d in ("D001", "D003")]
    sql("SELECT end_qualification(%s, 'cured', cn_today(), NULL, 'agency',"
        " '复查已治愈')", more[0])
    ids = [more[1], more[0], q1]
    assert [q["id"] for q in mine(tok)["items"]] == ids
    # Another person's qualification is not listed, nor ours to them.
    assert other not in ids
    assert [q["id"] for q in mine(other_tok)["items"]] == [other]
    first = mine(tok, limit=2)
    assert [q["id"] for q in first["items"]] == ids[:2]
    rest = mine(tok, limit=2, cursor=first["next_cursor"])
    assert [q["id"] for q in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None
    ended = mine(tok, status="terminated")["items"]
    assert [q["id"] for q in ended] == [more[0]]
    assert ended[0]["end_reason"] == "cured"
    assert ended[0]["end_reason_text"] == "已治愈"
    assert ended[0]["ended_on"] == today().isoformat() and ended[0]["days_left"] is None
    # A hospital sees those designated to it, of every person.
    hosp_a = hospital_user(reg["hospitals"][0])
    assert [q["id"] for q in mine(hosp_a)["items"]] == [other, q1]
    hosp_b = hospital_user(reg["hospitals"][1])
    assert [q["id"] for q in mine(hosp_b, status="active")["items"]] == \
        [more[1]]
    assert "*" in mine(hosp_a)["items"][0]["holder"]["id_number"]
    assert_error(api("GET", "/qualifications", headers=bearer(tok),
                     params={"status": "cancelled"}),
                 400, "field_invalid", "status")
    assert_error(api("GET", "/qualifications"), 401, "unauthenticated")
    agency = login("agency-xining")["token"]
    assert_error(api("GET", "/qualifications", headers=bearer(agency)),
                 403, "forbidden")


def test_letter_lists_active_qualifications_and_rules_r_ben_2():
    """R-BEN-2: one letter per person with every disease held today, its
    hospital and validity, and the region's rules in plain words -- with
    the region's own numbers and its agency's contact."""
    reg = new_region()
    r = reg["region"]
    sql("UPDATE regions SET agency_name = '测试市医疗保障事务中心',"
        " hotline = '0398-12345', agency_address = '测试市和平路 1 号'"
        " WHERE code = '%s'", r)
    p, tok, q1 = granted(reg, disease="D013")
    _, _, q2 = granted(reg, disease="D001", who=(p, tok))
    assert terminate(tok, q2).status_code == 200
    with policy(r, "designated_change_limit", "3"), \
            policy(r, "renewal_min_settlement_months", "5"), \
            policy(r, "renewal_lookback_months", "10"):
        resp = api("GET", "/qualifications/letter", headers=bearer(tok))
    assert resp.status_code == 200, resp.text
    assert resp.headers["Cache-Control"] == "no-store"
    letter = resp.json()
    assert letter["person"]["name"] == p["name"]
    assert letter["person"]["id_number"].count("*") == 10
    assert letter["region"] == {"code": r, "name": "测试" + r,
                                "agency_name": "测试市医疗保障事务中心",
                                "hotline": "0398-12345",
                                "agency_address": "测试市和平路 1 号"}
    assert letter["issued_on"] == today().isoformat()
    assert [q["id"] for q in letter["qualifications"]] == [q1]
    q = letter["qualifications"][0]
    assert q["designated_institution"]["name"] == "测试医院1"
    assert q["valid_from"] and q["valid_to"]
    rules = {x["title"]: x["text"] for x in letter["rules"]}
    assert set(rules) == {"怎样使用待遇", "待遇到期怎么办", "想换定点医院怎么办",
                          "有问题找谁"}
    assert "定点医院" in rules["怎样使用待遇"]
    assert "前的 10 个月里" in rules["待遇到期怎么办"]
    assert "有 5 个月以上" in rules["待遇到期怎么办"]
    assert "最多换 3 次" in rules["想换定点医院怎么办"]
    assert "0398-12345" in rules["有问题找谁"]
    assert "测试市和平路 1 号" in rules["有问题找谁"]
    # The region's default: 2 changes a year; no contact set: the words.
    reg2 = new_region()
    _, tok2, _ = granted(reg2)
    rules2 = {x["title"]: x["text"] for x in api(
        "GET", "/qualifications/letter",
        headers=bearer(tok2)).json()["rules"]}
    assert "最多换 2 次" in rules2["想换定点医院怎么办"]
    assert rules2["有问题找谁"].startswith("当地医保经办机构")
    hosp = hospital_user(reg["hospitals"][0])
    assert_error(api("GET", "/qualifications/letter", headers=bearer(hosp)),
                 403, "forbidden")


def test_change_hospital_twice_then_refused_r_ben_3():
    """R-BEN-3: changed online at most designated_change_limit (2) times a
    calendar year; the history is kept, the person told by SMS, the
    timeline says so."""
    reg = new_region()
    a, b, c = reg["hospitals"]
    p, tok, qid = granted(reg)
    r = change(tok, qid, b)
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["designated_institution"] == {"code": b, "name": "测试医院2"}
    assert q["changes_left"] == 1
    assert mine(tok)["items"][0]["designated_institution"]["code"] == b
    assert wait_for(lambda: any(
        m["template"] == "institution_changed" and "测试医院2" in m["text"]
        and "还可变更1次" in m["text"] for m in sms_lines(p["phone"])))
    assert "定点医院已变更为：测试医院2" in timeline(tok, qid)
    assert change(tok, qid, a).json()["changes_left"] == 0
    err = assert_error(change(tok, qid, c), 422, "change_limit_reached")
    assert "2 次" in err["message"]
    assert sql("SELECT from_institution, to_institution FROM hospital_changes"
               " WHERE qualification_id = %s ORDER BY id", qid) == \
        [[a, b], [b, a]]
    # A higher limit lets a third through (a policy value, not C).
    with policy(reg["region"], "designated_change_limit", "3"):
        assert change(tok, qid, c).status_code == 200


def test_change_refusals():
    reg = new_region()
    a, b, c = reg["hospitals"]
    _, tok, qid = granted(reg)
    assert_error(change(tok, qid, a), 422, "institution_unchanged",
                 "institution")
    assert_error(change(tok, qid, "H999999999"), 422,
                 "institution_not_found", "institution")
    # Another region's hospital.
    assert_error(change(tok, qid, "H41120000001"), 422,
                 "institution_not_designated", "institution")
    assert_error(change(tok, qid, "not a code"), 400, "field_invalid",
                 "institution")
    assert_error(api("POST", "/qualifications/%s/designated-institution"
                     % qid, headers=bearer(tok), json={}),
                 400, "field_required", "institution")
    assert_error(api("POST", "/qualifications/%s/designated-institution"
                     % qid, headers=bearer(tok),
                     json={"institution": b, "reason": "x"}),
                 400, "unknown_field")
    assert_error(change(tok, "abc", b), 400, "field_invalid", "id")
    # Another person's qualification is a 404, like none at all.
    _, other, _ = granted(reg)
    assert_error(change(other, qid, b), 404, "qualification_not_found")
    assert_error(change(tok, 999999999, b), 404, "qualification_not_found")
    hosp = hospital_user(a)
    assert_error(change(hosp, qid, b), 403, "forbidden")
    assert sql("SELECT count(*) FROM hospital_changes"
               " WHERE qualification_id = %s", qid) == [["0"]]
    # Ended: 409.
    assert terminate(tok, qid).status_code == 200
    assert_error(change(tok, qid, b), 409, "qualification_not_active")


def test_hospital_for_the_disease_is_one_rule_r_ben_3():
    """A hospital whose scope leaves the disease out is refused alike by the
    catalog's list a person picks from, by submit, and by a change
    (institution_may_serve)."""
    reg = new_region()
    a, b, c = reg["hospitals"]
    # c is limited to another disease (institution_scopes, S1's
    # psychiatric-only hospitals the other way round).
    sql("INSERT INTO institution_scopes VALUES ('%s', 'D013')", c)
    listed = api("GET", "/institutions", params={
        "region": reg["region"], "disease": PSYCH}).json()["items"]
    assert [i["code"] for i in listed] == [a, b]
    _, tok, qid = granted(reg, disease=PSYCH)
    assert_error(change(tok, qid, c), 422, "institution_not_designated",
                 "institution")
    assert change(tok, qid, b).status_code == 200
    p = new_person(region=reg["region"])
    ptok = insured_login(p)["token"]
    r = api("POST", "/applications", headers=bearer(ptok), json={
        "disease_code": PSYCH, "phone": p["phone"], "medical_record_no": "M1",
        "designated_institution": c})
    assert_error(r, 422, "institution_not_designated",
                 "designated_institution")


def test_concurrent_changes_cannot_exceed_the_limit_r_ben_3():
    """8 changes at once on a qualification with limit 2: exactly 2 are
    made (the row lock counts them one after the other)."""
    reg = new_region()
    a, b, c = reg["hospitals"]
    _, tok, qid = granted(reg)
    targets = [b, c] * 4
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda h: change(tok, qid, h), targets))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 200] + [422] * 6, [r.text for r in answers]
    for r in answers:
        if r.status_code == 422:
            assert r.json()["error"]["code"] in ("change_limit_reached",
                                                 "institution_unchanged")
    assert sql("SELECT count(*) FROM hospital_changes"
               " WHERE qualification_id = %s", qid) == [["2"]]
    assert mine(tok)["items"][0]["changes_left"] == 0


def left(tok):
    """changes_left of each of the person's qualifications, by id."""
    return {q["id"]: q["changes_left"] for q in mine(tok)["items"]}


def test_change_limit_is_per_qualification_by_default_r_ben_3():
    """R-BEN-3 (the issue: designated_change_scope qualification, the
    default): each of a person's qualifications has its own 2 changes a
    year; using up one's leaves the other's whole."""
    reg = new_region()
    a, b, c = reg["hospitals"]
    p, tok, q1 = granted(reg, disease="D013")
    _, _, q2 = granted(reg, disease="D001", who=(p, tok))
    assert sql("SELECT default_value FROM policy_keys"
               " WHERE key = 'designated_change_scope'") == [["qualification"]]
    # (A test region copies 三门峡's policies, which say person.)
    with policy(reg["region"], "designated_change_scope", "qualification"):
        assert change(tok, q1, b).status_code == 200
        assert change(tok, q1, a).status_code == 200
        assert_error(change(tok, q1, c), 422, "change_limit_reached")
        assert left(tok) == {q1: 0, q2: 2}
        r = change(tok, q2, b)
        assert r.status_code == 200 and r.json()["changes_left"] == 1, r.text
        rules = {x["title"]: x["text"] for x in api(
            "GET", "/qualifications/letter",
            headers=bearer(tok)).json()["rules"]}
        assert "每种病每年" in rules["想换定点医院怎么办"]


def test_change_limit_per_person_where_the_region_says_so_r_ben_3():
    """R-BEN-3, S0 三(二) "每人每个自然年度内变更最多不超过2次": with
    designated_change_scope person (三门峡's seed value), the 2 changes
    are the person's across all their qualifications; changes_left of
    every one follows, and the letter says so."""
    assert sql("SELECT value FROM policies WHERE region = '411200'"
               " AND key = 'designated_change_scope'") == [["person"]]
    reg = new_region()
    a, b, c = reg["hospitals"]
    p, tok, q1 = granted(reg, disease="D013")
    _, _, q2 = granted(reg, disease="D001", who=(p, tok))
    with policy(reg["region"], "designated_change_scope", "person"):
        r = change(tok, q1, b)
        assert r.status_code == 200 and r.json()["changes_left"] == 1
        assert left(tok) == {q1: 1, q2: 1}
        r = change(tok, q2, c)
        assert r.status_code == 200 and r.json()["changes_left"] == 0
        assert left(tok) == {q1: 0, q2: 0}
        err = assert_error(change(tok, q1, a), 422, "change_limit_reached")
        assert "2 次" in err["message"]
        assert wait_for(lambda: any(
            m["template"] == "institution_changed" and "还可变更0次"
            in m["text"] for m in sms_lines(p["phone"])))
        rules = {x["title"]: x["text"] for x in api(
            "GET", "/qualifications/letter",
            headers=bearer(tok)).json()["rules"]}
        assert "每人每年" in rules["想换定点医院怎么办"]
        assert "几种病合在一起算" in rules["想换定点医院怎么办"]
        # Another person of the region has their own two.
        _, tok3, q3 = granted(reg)
        assert left(tok3) == {q3: 2}
    # Per qualification, each has its own count again.
    with policy(reg["region"], "designated_change_scope", "qualification"):
        assert left(tok) == {q1: 1, q2: 1}


def test_concurrent_changes_per_person_cannot_exceed_the_limit_r_ben_3():
    """R-BEN-3 per person: 12 changes at once spread over a person's
    three qualifications, limit 2 a person: exactly 2 are made (the
    person's row lock orders them across qualifications)."""
    reg = new_region()
    a, b, c = reg["hospitals"]
    p, tok, q1 = granted(reg, disease="D013")
    _, _, q2 = granted(reg, disease="D001", who=(p, tok))
    _, _, q3 = granted(reg, disease="D002", who=(p, tok))
    jobs = [(q, h) for q in (q1, q2, q3) for h in (b, c)] * 2
    with policy(reg["region"], "designated_change_scope", "person"):
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda j: change(tok, *j), jobs))
        codes = sorted(r.status_code for r in answers)
        assert codes == [200, 200] + [422] * 10, [r.text for r in answers]
        for r in answers:
            if r.status_code == 422:
                assert r.json()["error"]["code"] in (
                    "change_limit_reached", "institution_unchanged")
        assert sql("SELECT count(*) FROM hospital_changes h"
                   " JOIN qualifications q ON q.id = h.qualification_id"
                   " JOIN persons s ON s.id = q.person_id"
                   " WHERE s.id_number_hmac = '%s'",
                   id_hmac(p["id_number"])) == [["2"]]
        assert set(left(tok).values()) == {0}


def test_retried_change_is_not_counted_twice_r_ben_3():
    reg = new_region()
    a, b, c = reg["hospitals"]
    _, tok, qid = granted(reg)
    key = {"Idempotency-Key": unique("k")}
    first = change(tok, qid, b, headers=key)
    again = change(tok, qid, b, headers=key)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert sql("SELECT count(*) FROM hospital_changes"
               " WHERE qualification_id = %s", qid) == [["1"]]
    assert mine(tok)["items"][0]["changes_left"] == 1
    assert_error(change(tok, qid, c, headers=key), 422,
                 "idempotency_key_reused")


def test_voluntary_exit_r_ben_5():
    """R-BEN-5: the person leaves with the promise, from today; SMS,
    timeline; a second time is a conflict."""
    reg = new_region()
    p, tok, qid = granted(reg)
    assert_error(terminate(tok, qid, promise=False), 422, "promise_required",
                 "promise")
    assert_error(api("POST", "/qualifications/%s/terminate" % qid,
                     headers=bearer(tok), json={}),
                 400, "field_required", "promise")
    _, other, _ = granted(reg)
    assert_error(terminate(other, qid), 404, "qualification_not_found")
    r = terminate(tok, qid)
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["status"] == "terminated" and q["end_reason"] == "voluntary"
    assert q["end_reason_text"] == "本人申请退出"
    assert q["ended_on"] == today().isoformat() and q["changes_left"] is None
    assert mine(tok)["items"][0]["status"] == "terminated"
    assert wait_for(lambda: any(
        m["template"] == "qualification_ended" and "本人申请退出" in m["text"]
        for m in sms_lines(p["phone"])))
    assert any(t.startswith("待遇已于 %s 终止" % today())
               for t in timeline(tok, qid))
    assert_error(terminate(tok, qid), 409, "qualification_not_active")
    assert api("GET", "/qualifications/letter",
               headers=bearer(tok)).json()["qualifications"] == []


def test_voluntary_exit_before_the_benefit_begins_r_ben_5():
    """R-BEN-5 with R-BEN-1: a benefit that starts later (a quota disease
    from the 1st of next month) left before then ends on its first day,
    never before it: it never begins."""
    reg = new_region()
    p, tok, qid = granted(reg)
    sql("UPDATE qualifications SET valid_from = cn_today() + 5,"
        " valid_to = cn_today() + 400 WHERE id = %s", qid)
    start = sql("SELECT valid_from FROM qualifications WHERE id = %s",
                qid)[0][0]
    r = terminate(tok, qid)
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["status"] == "terminated" and q["ended_on"] == start
    assert q["ended_on"] > today().isoformat()


def test_psychiatric_exit_needs_the_guardian_r_ben_5():
    """R-BEN-5 (S3 第十九条): for a psychiatric disease the guardian signs:
    name and a valid ID number, both kept."""
    reg = new_region()
    _, tok, qid = granted(reg, disease=PSYCH)
    assert_error(terminate(tok, qid), 422, "guardian_required",
                 "guardian_name")
    gid = id_number(reg["region"], "19700101")
    assert_error(terminate(tok, qid, guardian_name="王监护"), 422,
                 "guardian_required", "guardian_id_number")
    bad = gid[:-1] + ("0" if gid[-1] != "0" else "1")
    assert_error(terminate(tok, qid, guardian_name="王监护",
                           guardian_id_number=bad),
                 400, "field_invalid", "guardian_id_number")
    assert sql("SELECT status FROM qualifications WHERE id = %s", qid) == \
        [["active"]]
    r = terminate(tok, qid, guardian_name="王监护", guardian_id_number=gid)
    assert r.status_code == 200, r.text
    # The ID number kept sealed (044_identity_rest.sql), opened by the keys.
    row = sql("SELECT guardian_name, guardian_id_number,"
              " guardian_id_number_enc, end_reason"
              " FROM qualifications WHERE id = %s", qid)
    assert [row[0][0], row[0][1], row[0][3]] == ["王监护", "", "voluntary"]
    assert ctl("identity", "open", "id_number",
               row[0][2]).stdout.strip() == gid


def test_database_down_is_503_then_recovers():
    reg = new_region()
    _, tok, qid = granted(reg)
    stack("pg-stop")
    try:
        for r in (api("GET", "/qualifications", headers=bearer(tok)),
                  api("GET", "/qualifications/letter", headers=bearer(tok)),
                  change(tok, qid, reg["hospitals"][1]),
                  terminate(tok, qid)):
            assert_error(r, 503, "service_unavailable")
    finally:
        stack("pg-start")
    assert wait_for(lambda: api("GET", "/qualifications", headers=bearer(
        tok)).status_code == 200)
    assert sql("SELECT status, designated_institution FROM qualifications"
               " WHERE id = %s", qid) == [["active", reg["hospitals"][0]]]
