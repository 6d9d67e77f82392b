"""The quarterly review, 双随机一公开 (R-SUP-2, S2 三 市医保中心每季度第一
个月……从门诊慢特病专家库中抽取临床专家开展……复核工作; issue 12 item 4):
reviewers drawn from the region's active experts and cases drawn from the
quarter's decided applications, both through record_draw and recomputable
(`mtcertctl review verify`); each case to one reviewer, never one who
decided it; the reviewer sees the case blind and gives a result once; the
counts are published with no personal data."""
import pytest

from conftest import app_phone, identity_of
from conftest import (api, assert_error, bearer, ctl, login, new_expert,
                      new_region, policy, seed_of_another_choice, sql,
                      submitted_application, wait_for)
from test_agency_benefit import agency_of

ONCO = ["肿瘤"]              # D001: single review by one 肿瘤 expert


def last_quarter():
    (q, first, last), = sql("SELECT quarter_before(cn_today()),"
                            " quarter_first_day(quarter_before(cn_today())),"
                            " quarter_last_day(quarter_before(cn_today()))")
    return q, first, last


def decided(app_id, status, on):
    """Move an application's decision into a quarter (the test's clock):
    status approved or rejected, decided on day `on`."""
    sql("UPDATE applications SET status = '%s', decided_at ="
        " ('%s'::date + time '10:00') AT TIME ZONE 'Asia/Shanghai'"
        " WHERE id = %s", status, on, app_id)


def region_with_quarter(n_apps=4, n_experts=3):
    """A region of its own: n_experts 肿瘤 experts (hospitals B, C), one
    application decided by one of them through the review engine, n_apps
    more decided (arranged) in the last quarter, one decided in the
    quarter before it and one still open.  Its schedule is off (day 0),
    so only the test draws."""
    admin = login("admin")["token"]
    reg = new_region()
    experts = [new_expert(admin, reg["hospitals"][1 + i % 2], ONCO)
               for i in range(n_experts)]
    q, first, last = last_quarter()
    # One decided by an expert for real: accept and approve its push.
    tok, app = submitted_application(reg, disease="D001")
    aid, decider = None, None

    def pushed():
        nonlocal aid, decider
        rows = sql("SELECT id, expert_id FROM assignments WHERE"
                   " application_id = %s AND state = 'pushed'", app["id"])
        if rows:
            aid, decider = int(rows[0][0]), int(rows[0][1])
        return bool(rows)
    assert wait_for(pushed)
    ex = next(e for e in experts if e["id"] == decider)
    assert api("POST", "/expert/tasks/%s/accept" % aid,
               headers=bearer(ex["token"])).status_code == 200
    r = api("POST", "/expert/tasks/%s/decision" % aid,
            headers=bearer(ex["token"]),
            json={"decision": "approve", "opinion": "符合认定标准"})
    assert r.status_code == 200, r.text
    decided(app["id"], "approved", first)
    # The others wait for a 心血管 expert the region has none of.
    apps = [submitted_application(reg)[1]["id"] for _ in range(n_apps + 2)]
    for i, a in enumerate(apps[:n_apps]):
        decided(a, "approved" if i % 2 else "rejected", first)
    sql("UPDATE applications SET status = 'rejected', decided_at ="
        " ('%s'::date - 1 + time '12:00') AT TIME ZONE 'Asia/Shanghai'"
        " WHERE id = %s", first, apps[n_apps])          # quarter before
    return {"reg": reg, "region": reg["region"], "experts": experts,
            "quarter": q, "first": first, "last": last,
            "decider": decider, "by_expert": app["id"],
            "in_quarter": sorted([app["id"]] + apps[:n_apps]),
            "outside": apps[n_apps:], "agency": agency_of(reg["region"])}


@pytest.fixture(scope="module")
def drawn():
    """Every expert a reviewer and every case drawn (rate 100 %), drawn
    by the agency through the API."""
    w = region_with_quarter()
    reg = w["region"]
    sql("UPDATE policies SET value = '100' WHERE region = '%s'"
        " AND key = 'quarterly_review_rate_percent'", reg)
    r = api("POST", "/agency/reviews", headers=bearer(w["agency"]),
            json={"quarter": w["quarter"]})
    assert r.status_code == 201, r.text
    w["review"] = r.json()
    return w


def test_agency_draws_reviewers_from_the_pool_and_cases_from_the_quarter(
        drawn):
    """R-SUP-2 / S2 三: reviewers are the region's active experts, cases
    the quarter's decided applications only (approved and rejected), each
    draw recorded and its id on the review."""
    rv = drawn["review"]
    assert rv["quarter"] == drawn["quarter"] and rv["drawn_by"] == "agency"
    ids = sorted(e["id"] for e in drawn["experts"])
    (rpool, rk, rchosen), = sql("SELECT pool, k, chosen FROM draws"
                                " WHERE id = %s AND purpose ="
                                " 'review_experts'", rv["reviewer_draw_id"])
    assert rpool == "{%s}" % ",".join(map(str, ids)) and rk == "3"
    assert [x["expert_id"] for x in rv["reviewers"]] == \
        [int(x) for x in rchosen.strip("{}").split(",")]
    (cpool, ck, cchosen), = sql("SELECT pool, k, chosen FROM draws"
                                " WHERE id = %s AND purpose = 'review_cases'",
                                rv["case_draw_id"])
    assert cpool == "{%s}" % ",".join(map(str, drawn["in_quarter"]))
    assert ck == str(len(drawn["in_quarter"]))
    assert [c["application_id"] for c in rv["cases"]] == \
        [int(x) for x in cchosen.strip("{}").split(",")]
    assert not set(drawn["outside"]) & {c["application_id"]
                                        for c in rv["cases"]}
    assert {c["decision"] for c in rv["cases"]} == {"approved", "rejected"}
    assert rv["counts"] == {"population": 5, "cases_drawn": 5,
                            "reviewed": 0, "agree": 0, "disagree": 0,
                            "pending": 5, "reviewers": 3}
    # The agency sees its reviewers by name.
    assert all(x["name"] for x in rv["reviewers"])


def test_round_robin_in_draw_order_never_the_expert_who_decided(drawn):
    """Case i to seat ((i-1) mod 3)+1 in draw order, skipping a reviewer
    who decided the case (issue 12 item 4)."""
    rv = drawn["review"]
    seats = [x["expert_id"] for x in rv["reviewers"]]
    for c in rv["cases"]:
        want = seats[(c["seq"] - 1) % 3]
        if c["application_id"] == drawn["by_expert"]:
            assert c["reviewer"]["expert_id"] != drawn["decider"]
            if want == drawn["decider"]:
                want = seats[c["seq"] % 3]
        assert c["reviewer"]["expert_id"] == want, (c, seats)


def test_verify_matches_and_names_an_altered_record(drawn):
    """`mtcertctl review verify ID` recomputes both draws from their
    records and each case's reviewer; an altered record is a mismatch
    (exit 3)."""
    rid = str(drawn["review"]["id"])
    cp = ctl("review", "verify", rid, check=False)
    assert cp.returncode == 0, cp.stdout
    assert "2 draws, 2 match, 0 mismatch" in cp.stdout, cp.stdout
    (cid, expert), = sql("SELECT id, expert_id FROM quarterly_review_cases"
                         " WHERE review_id = %s AND seq = 1", rid)
    other = next(e["id"] for e in drawn["experts"] if str(e["id"]) != expert)
    sql("UPDATE quarterly_review_cases SET expert_id = %s WHERE id = %s",
        other, cid)
    try:
        cp = ctl("review", "verify", rid, check=False)
        assert cp.returncode == 3 and "MISMATCH" in cp.stdout, cp.stdout
    finally:
        sql("UPDATE quarterly_review_cases SET expert_id = %s WHERE id = %s",
            expert, cid)
    (did, seed), = sql("SELECT case_draw_id, encode(d.seed, 'hex') FROM"
                       " quarterly_reviews q JOIN draws d"
                       " ON d.id = q.case_draw_id WHERE q.id = %s", rid)
    other = seed_of_another_choice(did)
    sql("UPDATE draws SET seed = decode('%s', 'hex') WHERE id = %s",
        other, did)
    try:
        cp = ctl("review", "verify", rid, check=False)
        assert cp.returncode == 3, cp.stdout
        assert "the seed and the pool give another choice" in cp.stdout
    finally:
        sql("UPDATE draws SET seed = decode('%s', 'hex') WHERE id = %s",
            seed, did)
    assert ctl("review", "verify", rid, check=False).returncode == 0


def test_twice_is_409_and_an_open_quarter_422(drawn):
    """One review per region and quarter; a quarter not yet ended cannot
    be drawn (R-SUP-2)."""
    tok = drawn["agency"]
    assert_error(api("POST", "/agency/reviews", headers=bearer(tok),
                     json={"quarter": drawn["quarter"]}),
                 409, "review_already_drawn", "quarter")
    (cur,), = sql("SELECT to_char(cn_today(), 'YYYY\"Q\"Q')")
    assert_error(api("POST", "/agency/reviews", headers=bearer(tok),
                     json={"quarter": cur}), 422, "review_quarter_open",
                 "quarter")
    assert_error(api("POST", "/agency/reviews", headers=bearer(tok),
                     json={"quarter": "2026Q5"}), 400, "field_invalid",
                 "quarter")


def test_an_expert_sees_only_their_cases_blind_and_reads_materials(drawn):
    """The reviewer's list holds their cases only, without the person's
    name, ID number or phone; the case's materials open for the reviewer
    (logged in access_log) and for nobody else."""
    rv = drawn["review"]
    for e in drawn["experts"]:
        r = api("GET", "/expert/reviews", headers=bearer(e["token"]))
        assert r.status_code == 200, r.text
        mine = {c["id"] for c in rv["cases"]
                if c["reviewer"]["expert_id"] == e["id"]}
        assert {c["id"] for c in r.json()["items"]} == mine
        for c in r.json()["items"]:
            (name, pid), = sql(
                "SELECT p.name, p.id FROM applications a"
                " JOIN persons p ON p.id = a.person_id WHERE a.id = %s",
                c["application_id"])
            phone = app_phone(c["application_id"])
            idn = identity_of(pid)[0]
            for secret in (name, idn, phone):
                assert secret not in r.text
            assert set(c["application"]) == {"sex", "age_band", "region"}
    c = rv["cases"][0]
    me = next(e for e in drawn["experts"]
              if e["id"] == c["reviewer"]["expert_id"])
    other = next(e for e in drawn["experts"] if e is not me and not any(
        x["application_id"] == c["application_id"]
        and x["reviewer"]["expert_id"] == e["id"] for x in rv["cases"])
        and e["id"] != drawn["decider"])
    item = next(x for x in api("GET", "/expert/reviews",
                               headers=bearer(me["token"])).json()["items"]
                if x["id"] == c["id"])
    mid = item["materials"][0]["id"]
    r = api("GET", "/materials/%s" % mid, headers=bearer(me["token"]))
    assert r.status_code == 200, r.text
    assert sql("SELECT count(*) FROM access_log WHERE user_id = %s AND"
               " object_type = 'material' AND object_id = %s",
               me["id"], mid) == [["1"]]
    assert_error(api("GET", "/materials/%s" % mid,
                     headers=bearer(other["token"])), 404,
                 "material_not_found")


def test_a_result_once_and_a_disagreement_needs_a_note(drawn):
    """agree | disagree, once (409); disagree without a note is 400; a
    case not the caller's is 404.  A disagreement changes no decision."""
    rv = drawn["review"]
    # Two cases of two reviewers: the skip of the decider can give one
    # reviewer two neighbouring cases (seat 1's case moved to seat 2).
    c0 = rv["cases"][0]
    c1 = next(c for c in rv["cases"][1:]
              if c["reviewer"]["expert_id"] != c0["reviewer"]["expert_id"])
    e0 = next(e for e in drawn["experts"]
              if e["id"] == c0["reviewer"]["expert_id"])
    e1 = next(e for e in drawn["experts"]
              if e["id"] == c1["reviewer"]["expert_id"])
    url = "/expert/reviews/%s/result"
    assert_error(api("POST", url % c1["id"], headers=bearer(e0["token"]),
                     json={"result": "agree"}), 404, "review_case_not_found")
    assert_error(api("POST", url % c0["id"], headers=bearer(e0["token"]),
                     json={"result": "disagree"}), 400, "field_required",
                 "note")
    assert_error(api("POST", url % c0["id"], headers=bearer(e0["token"]),
                     json={"result": "maybe"}), 400, "field_invalid",
                 "result")
    r = api("POST", url % c0["id"], headers=bearer(e0["token"]),
            json={"result": "disagree", "note": "病历不足以支持诊断"})
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "disagree"
    assert_error(api("POST", url % c0["id"], headers=bearer(e0["token"]),
                     json={"result": "agree"}), 409, "review_result_given")
    r = api("POST", url % c1["id"], headers=bearer(e1["token"]),
            json={"result": "agree"})
    assert r.status_code == 200, r.text
    # The decision stands; the agency sees the disagreement and its note.
    (st,), = sql("SELECT status FROM applications WHERE id = %s",
                 c0["application_id"])
    assert st == c0["decision"]
    r = api("GET", "/agency/reviews/%s" % rv["id"],
            headers=bearer(drawn["agency"]))
    assert r.status_code == 200, r.text
    got = {c["id"]: c for c in r.json()["cases"]}
    assert got[c0["id"]]["result"] == "disagree"
    assert got[c0["id"]]["note"] == "病历不足以支持诊断"
    assert r.json()["counts"]["disagree"] == 1
    # The public counts equal the results; no names, no numbers.
    r = api("GET", "/reviews/public",
            params={"region": drawn["region"], "quarter": drawn["quarter"]})
    assert r.status_code == 200, r.text
    assert "public" in r.headers["Cache-Control"]
    assert r.json()["counts"] == {"population": 5, "cases_drawn": 5,
                                  "reviewed": 2, "agree": 1, "disagree": 1,
                                  "pending": 3, "reviewers": 3}
    for e in drawn["experts"]:
        assert e["login"] not in r.text
    assert "病历不足" not in r.text


def test_another_region_is_404(drawn):
    """Scope: another region's agency cannot open the review, nor draw or
    list it; the public page of a region without a review is 404."""
    other = new_region()
    tok = agency_of(other["region"])
    assert_error(api("GET", "/agency/reviews/%s" % drawn["review"]["id"],
                     headers=bearer(tok)), 404, "review_not_found")
    r = api("GET", "/agency/reviews", headers=bearer(tok))
    assert r.status_code == 200 and r.json()["items"] == []
    assert_error(api("GET", "/agency/reviews", headers=bearer(tok),
                     params={"region": drawn["region"]}), 404,
                 "region_not_found")
    assert_error(api("GET", "/reviews/public",
                     params={"region": other["region"]}), 404,
                 "review_not_found")
    assert_error(api("GET", "/reviews/public", params={"region": "999999"}),
                 404, "region_not_found")
    r = api("GET", "/agency/reviews", headers=bearer(drawn["agency"]))
    assert [x["id"] for x in r.json()["items"]] == [drawn["review"]["id"]]
    assert r.json()["schedule"] == {"day": 0, "reviewers": 3,
                                    "rate_percent": 100}


def test_the_job_draws_on_the_scheduled_day_and_not_before():
    """S2 三 4-10 日……抽取确定各临床专业专家: with quarterly_review_day D
    the region is due from day D of the quarter after on, not the day
    before (the clock moved by date); then the dispatcher's job draws it
    by itself (drawn_by schedule), at least one case at 10 % of 3."""
    w = region_with_quarter(n_apps=2, n_experts=2)
    reg = w["region"]
    (pq, plast), = sql("SELECT quarter_before('%s'::date),"
                       " quarter_last_day(quarter_before('%s'::date))",
                       w["first"], w["first"])

    def due(day):
        return [r for r in sql("SELECT region, quarter FROM"
                               " quarterly_reviews_due('%s'::date + %d)",
                               plast, day) if r[0] == reg]
    assert due(30) == []                          # day 0: no review here
    with policy(reg, "quarterly_review_day", "5"):
        assert due(4) == []                       # the day before
        assert due(5) == [[reg, pq]]              # the day itself
        assert due(20) == [[reg, pq]]

        def job_drew():
            ctl("reviews", "run")
            return sql("SELECT id, drawn_by IS NULL, population FROM"
                       " quarterly_reviews WHERE region = '%s' AND"
                       " quarter = '%s'", reg, w["quarter"])
        assert wait_for(job_drew, step=0.5)
        (rid, by_job, population), = job_drew()
        assert by_job == "t" and population == "3"
        assert sql("SELECT count(*) FROM quarterly_review_cases WHERE"
                   " review_id = %s", rid) == [["1"]]
        assert sql("SELECT count(*) FROM quarterly_review_reviewers WHERE"
                   " review_id = %s", rid) == [["2"]]   # pool of 2 < 3
        assert ctl("review", "verify", rid, check=False).returncode == 0
        # Drawn: no longer due today; the job draws it once.
        assert [r for r in sql("SELECT region FROM quarterly_reviews_due("
                               "cn_today())") if r[0] == reg] == []


def test_the_pool_is_the_active_experts_only():
    """A suspended expert is never drawn as a reviewer; a region with
    nobody active cannot be drawn (422)."""
    w = region_with_quarter(n_apps=1, n_experts=2)
    e0, e1 = w["experts"]
    sql("UPDATE experts SET status = 'suspended' WHERE user_id = %s",
        e0["id"])
    r = api("POST", "/agency/reviews", headers=bearer(w["agency"]),
            json={"quarter": w["quarter"]})
    assert r.status_code == 201, r.text
    assert [x["expert_id"] for x in r.json()["reviewers"]] == [e1["id"]]
    empty = new_region()
    assert_error(api("POST", "/agency/reviews",
                     headers=bearer(agency_of(empty["region"])),
                     json={"quarter": w["quarter"]}), 422,
                 "review_no_experts")
