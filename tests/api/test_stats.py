"""Statistics (issue 12 item 5; R-SUP-3, S0 四(二) 按月统计专家工作量,
S0 二(三) 5-8 个工作日, S3 第八条 20 个工作日): the statistics of a
scripted month equal hand-counted figures.

The month is October 2026 in a region of its own.  The calendar holds
国庆节 (1, 2, 5, 6, 7 October holidays; Saturday 10 October an adjusted
work day) and 中秋节 (25 September holiday, Sunday 20 September a work
day).  Medians and p90 are percentile_cont (linear interpolation between
the nearest ranks, sql/fn/90_stats.sql), rounded to 2 decimals; every
figure below is counted by hand in the comments.
"""

import pytest

from conftest import person_row_id
from conftest import (api, assert_error, bearer, login, new_person,
                      new_region, sql, today, unique)

MONTH = "2026-10"


def cn(ts):
    """A China-time timestamp literal."""
    return "'%s+08'::timestamptz" % ts


def agency_user(region):
    """An agency account of region (the demo agency's password)."""
    user = unique("ag")
    sql("INSERT INTO users (login, role, password_hash, region)"
        " SELECT '%s', 'agency', password_hash, '%s' FROM users"
        " WHERE login = 'agency-sanmenxia'", user, region)
    return login(user, "mtcert-agency-2026")["token"]


def expert(region, hospital, name):
    """An expert of hospital, by SQL (never drawn: nothing is pushed)."""
    uid = sql("INSERT INTO users (login, role, password_hash, institution,"
              " region, display_name) SELECT '%s', 'expert', password_hash,"
              " '%s', '%s', '%s' FROM users WHERE login = 'admin'"
              " RETURNING id", unique("ex"), hospital, region, name)[0][0]
    sql("INSERT INTO experts (user_id, title) VALUES (%s, '副高')", uid)
    return int(uid)


def application(region, person, disease, channel, mode, status, submitted,
                decided=None):
    """An application row as the engine leaves it, times in China time."""
    pid = person_row_id(person["id_number"])
    return int(sql(
        "INSERT INTO applications (person_id, disease, region, channel,"
        " status, review_mode, phone, medical_record_no,"
        " designated_institution, filed_by, promised_at, submitted_at,"
        " decided_at) VALUES (%s, '%s', '%s', '%s', '%s', '%s', '%s', 'MR1',"
        " '%s', (SELECT id FROM users WHERE login = 'admin'), %s, %s, %s)"
        " RETURNING id", pid, disease, region["region"], channel, status,
        mode, person["phone"], region["hospitals"][0], cn(submitted),
        cn(submitted), cn(decided) if decided else "NULL")[0][0])


def assignment(app, expert_id, hospital, state, pushed, accepted=None,
               ended=None):
    decision = "'approve'" if state == "decided" else "NULL"
    sql("INSERT INTO assignments (application_id, stage, expert_id, state,"
        " pool_size, pushed_at, accept_deadline, accepted_at, ended_at,"
        " decision, hospital) VALUES (%s, 1, %s, '%s', 3, %s,"
        " %s + interval '1 day', %s, %s, %s, '%s')", app, expert_id, state,
        cn(pushed), cn(pushed), cn(accepted) if accepted else "NULL",
        cn(ended) if ended else "NULL", decision, hospital)


@pytest.fixture(scope="module")
def month():
    """The scripted October of a fresh region (and a second region whose
    expert the first region's agency must not see)."""
    reg = new_region()
    other = new_region()
    person = new_person(region=reg["region"], name="王测明")
    h1, h2 = reg["hospitals"][0], reg["hospitals"][1]
    a = lambda *x: application(reg, person, *x)  # noqa: E731
    apps = {
        # Wed 30 Sep -> Fri 9 Oct: 1, 2, 5-7 holidays, 3-4 weekend; 8, 9
        # worked: 2 working days; web (online target 8): within.
        "A1": a("D013", "web", "double", "approved",
                "2026-09-30 10:00", "2026-10-09 15:00"),
        # Fri 9 -> Mon 12 Oct: Sat 10 adjusted work day, Mon 12: 2.
        "A2": a("D013", "web", "double", "rejected",
                "2026-10-09 09:00", "2026-10-12 11:00"),
        # Tue 1 Sep -> Tue 13 Oct: September 2-30 is 21 working days (20
        # weekdays less 25 Sep, plus Sun 20 Sep), October 8, 9, 10, 12,
        # 13 is 5: 26; counter (target 20): late.
        "A3": a("D013", "counter", "double", "approved",
                "2026-09-01 09:00", "2026-10-13 10:00"),
        # Instant disease (single): Thu 15 -> Fri 16: 1, target 1: within.
        "A4": a("D001", "mini_program", "single", "approved",
                "2026-10-15 20:00", "2026-10-16 09:00"),
        # Decided the day it came: 0, target 1.
        "A5": a("D001", "hospital", "single", "rejected",
                "2026-10-20 09:00", "2026-10-20 17:00"),
        # Saturday 31 Oct 23:30 China time (15:30 UTC): October, 0 days.
        "A6": a("D013", "web", "double", "approved",
                "2026-10-31 23:30", "2026-10-31 23:50"),
        # Decided 1 Nov 00:30 China time (31 Oct UTC): November's.
        "A7": a("D001", "web", "single", "approved",
                "2026-10-30 10:00", "2026-11-01 00:30"),
        # Submitted in October, withdrawn: submitted, never decided.
        "A8": a("D013", "web", "double", "withdrawn", "2026-10-28 10:00"),
    }
    e1 = expert(reg["region"], h1, "专家甲")
    e2 = expert(reg["region"], h1, "专家乙")
    e3 = expert(reg["region"], h2, "专家丙")
    e4 = expert(other["region"], other["hospitals"][0], "专家丁")
    x = apps["A1"]
    # E1: accept 2 h, 6 h; decide 4 h, 18 h; one refused, one expired,
    # one cancelled pushed at 23:59 on 31 Oct China time.
    assignment(x, e1, h1, "decided", "2026-10-09 09:00", "2026-10-09 11:00",
               "2026-10-09 15:00")
    assignment(x, e1, h1, "decided", "2026-10-12 08:00", "2026-10-12 14:00",
               "2026-10-13 08:00")
    assignment(x, e1, h1, "refused", "2026-10-15 10:00", None,
               "2026-10-15 12:00")
    assignment(x, e1, h1, "expired", "2026-10-20 10:00", None,
               "2026-10-21 10:00")
    assignment(x, e1, h1, "cancelled", "2026-10-31 23:59", None,
               "2026-11-01 08:00")
    # E2: pushed 00:10 on 1 Oct China time (30 Sep UTC): October; accept
    # 1 h, decide 24 h; then accepted in 10 h, not decided yet.
    assignment(x, e2, h1, "decided", "2026-10-01 00:10", "2026-10-01 01:10",
               "2026-10-02 01:10")
    assignment(x, e2, h1, "accepted", "2026-10-10 09:00", "2026-10-10 19:00")
    # E3: accept 3 h, decide 1.5 h; one pushed on 30 Sep 23:30 China time
    # (September's, not counted).
    assignment(x, e3, h2, "decided", "2026-10-05 10:00", "2026-10-05 13:00",
               "2026-10-05 14:30")
    assignment(x, e3, h2, "expired", "2026-09-30 23:30", None,
               "2026-10-01 23:30")
    # E4, another region's, on an application of its own region.
    o = application(other, new_person(region=other["region"]), "D013",
                    "web", "double", "approved", "2026-10-05 09:00",
                    "2026-10-06 12:00")
    assignment(o, e4, other["hospitals"][0], "decided", "2026-10-06 10:00",
               "2026-10-06 11:00", "2026-10-06 12:00")
    return {"region": reg, "other": other, "person": person, "apps": apps,
            "experts": (e1, e2, e3, e4), "token": agency_user(reg["region"])}


def figures(pushed, accepted, refused, expired, decided, acc, dec):
    return {"pushed": pushed, "accepted": accepted, "refused": refused,
            "expired": expired, "decided": decided,
            "accept_hours": {"median": acc[0], "p90": acc[1]},
            "decide_hours": {"median": dec[0], "p90": dec[1]}}


def test_expert_workload_of_a_scripted_month(month):
    """R-SUP-3, S0 四(二): per expert and per hospital, hand-counted."""
    r = api("GET", "/agency/stats/experts?month=" + MONTH,
            headers=bearer(month["token"]))
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["month"] == MONTH and body["percentile"] == "percentile_cont"
    e1, e2, e3, e4 = month["experts"]
    h1, h2 = month["region"]["hospitals"][:2]
    by_id = {x["id"]: x for x in body["experts"]}
    assert set(by_id) == {e1, e2, e3}          # not E4, another region's
    # E1: pushed a-d and the 31 Oct 23:59 one; accept [2, 6]: median 4,
    # p90 2 + 0.9 * 4 = 5.6; decide [4, 18]: 11, 4 + 0.9 * 14 = 16.6.
    want = {
        e1: figures(5, 2, 1, 1, 2, (4.0, 5.6), (11.0, 16.6)),
        # accept [1, 10]: 5.5, 1 + 0.9 * 9 = 9.1; decide [24].
        e2: figures(2, 2, 0, 0, 1, (5.5, 9.1), (24.0, 24.0)),
        e3: figures(1, 1, 0, 0, 1, (3.0, 3.0), (1.5, 1.5)),
    }
    for eid, w in want.items():
        got = {k: by_id[eid][k] for k in w}
        assert got == w, (eid, got)
    assert by_id[e1]["name"] == "专家甲"
    assert by_id[e1]["hospital"]["code"] == h1
    hosp = {x["hospital"]["code"]: x for x in body["hospitals"]}
    assert set(hosp) == {h1, h2}
    # H1 = E1 + E2: accept [1, 2, 6, 10]: (2 + 6) / 2 = 4, p90 at rank
    # 2.7: 6 + 0.7 * 4 = 8.8; decide [4, 18, 24]: 18, 18 + 0.8 * 6 = 22.8.
    w = figures(7, 4, 1, 1, 3, (4.0, 8.8), (18.0, 22.8))
    assert {k: hosp[h1][k] for k in w} == w and hosp[h1]["experts"] == 2
    w = figures(1, 1, 0, 0, 1, (3.0, 3.0), (1.5, 1.5))
    assert {k: hosp[h2][k] for k in w} == w and hosp[h2]["experts"] == 1
    # All: accept [1, 2, 3, 6, 10]: 3, rank 3.6: 6 + 0.6 * 4 = 8.4;
    # decide [1.5, 4, 18, 24]: 11, rank 2.7: 18 + 0.7 * 6 = 22.2.
    w = figures(8, 5, 1, 1, 4, (3.0, 8.4), (11.0, 22.2))
    assert {k: body["total"][k] for k in w} == w
    assert body["total"]["experts"] == 3


def test_expert_workload_scope(month, admin):
    """An agency sees its own region (another is a 404); an admin names
    one or sees all (R-SUP-3)."""
    other = month["other"]["region"]
    r = api("GET", "/agency/stats/experts?month=%s&region=%s"
            % (MONTH, other), headers=bearer(month["token"]))
    assert_error(r, 404, "region_not_found", "region")
    r = api("GET", "/agency/stats/experts?month=%s&region=%s"
            % (MONTH, month["region"]["region"]),
            headers=bearer(admin["token"]))
    assert r.status_code == 200
    assert r.json()["total"]["pushed"] == 8
    r = api("GET", "/agency/stats/experts?month=" + MONTH,
            headers=bearer(admin["token"]))
    ids = {x["id"] for x in r.json()["experts"]}
    assert set(month["experts"]) <= ids
    r = api("GET", "/agency/stats/experts?month=" + MONTH,
            headers=bearer(login("expert-sm-1", "mtcert-expert-2026")["token"]))
    assert r.status_code == 403
    assert api("GET", "/agency/stats/experts").status_code == 401



def test_expert_workload_counts_under_the_applications_region(admin):
    """R-SUP-3: an expert's work counts in the region of the application
    reviewed, not of the expert's hospital: an expert of region A who
    reviews an application of region B is in B's figures (under the
    expert's own hospital) and not in A's."""
    a, b = new_region(), new_region()
    ea = expert(a["region"], a["hospitals"][0], "专家戊")
    app = application(b, new_person(region=b["region"], name="赵测明"),
                      "D013", "web", "double", "approved",
                      "2026-10-12 09:00", "2026-10-14 10:00")
    assignment(app, ea, a["hospitals"][0], "decided", "2026-10-12 10:00",
               "2026-10-12 12:00", "2026-10-13 12:00")

    def stats(region):
        r = api("GET", "/agency/stats/experts?month=%s&region=%s"
                % (MONTH, region["region"]), headers=bearer(admin["token"]))
        assert r.status_code == 200, r.text
        return r.json()
    got = stats(b)
    assert [x["id"] for x in got["experts"]] == [ea]
    assert got["experts"][0]["hospital"]["code"] == a["hospitals"][0]
    w = figures(1, 1, 0, 0, 1, (2.0, 2.0), (24.0, 24.0))
    assert {k: got["total"][k] for k in w} == w
    assert [h["hospital"]["code"] for h in got["hospitals"]] == [
        a["hospitals"][0]]
    got = stats(a)
    assert got["experts"] == [] and got["total"]["pushed"] == 0
    # The agency of B sees it too, the agency of A does not.
    r = api("GET", "/agency/stats/experts?month=" + MONTH,
            headers=bearer(agency_user(b["region"])))
    assert [x["id"] for x in r.json()["experts"]] == [ea]


def test_turnaround_of_a_scripted_month(month):
    """S0 二(三) (online 8), S3 第八条 (20; instant 1): decided in
    October, working days over the calendar, against each target."""
    r = api("GET", "/agency/stats/turnaround?from=2026-10-01&to=2026-10-31",
            headers=bearer(month["token"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["targets"] == {"online": 8, "other": 20, "instant": 1}
    # A1..A6 (A7 is November's): days 2, 2, 26, 1, 0, 0 -> sorted 0, 0,
    # 1, 2, 2, 26: median 1.5, p90 at rank 4.5: 2 + 0.5 * 24 = 14; 4
    # approved; within target all but A3 (26 > 20).
    t = body["total"]
    assert (t["count"], t["approved"], t["approved_percent"]) == (6, 4, 66.7)
    assert t["working_days"] == {"median": 1.5, "p90": 14.0}
    assert (t["within_target"], t["within_target_percent"]) == (5, 83.3)
    d = {x["disease"]["code"]: x for x in body["by_disease"]}
    # D013: A1, A2, A3, A6: 2, 2, 26, 0 -> 0, 2, 2, 26: median 2, p90 at
    # rank 2.7: 2 + 0.7 * 24 = 18.8.
    assert (d["D013"]["count"], d["D013"]["approved"]) == (4, 3)
    assert d["D013"]["working_days"] == {"median": 2.0, "p90": 18.8}
    assert d["D013"]["within_target"] == 3
    assert sorted(d["D013"]["targets"]) == [8, 20]
    # D001: A4, A5: 1, 0 -> median 0.5, p90 0.9; target 1 (instant).
    assert d["D001"]["working_days"] == {"median": 0.5, "p90": 0.9}
    assert (d["D001"]["within_target_percent"], d["D001"]["targets"]) == \
        (100.0, [1])
    c = {x["channel"]: x for x in body["by_channel"]}
    assert set(c) == {"web", "counter", "mini_program", "hospital"}
    assert (c["web"]["count"], c["web"]["approved_percent"]) == (3, 66.7)
    assert c["web"]["working_days"] == {"median": 2.0, "p90": 2.0}
    assert (c["counter"]["within_target"], c["counter"]["targets"]) == (0, [20])
    m = {x["review_mode"]: x for x in body["by_review_mode"]}
    assert (m["double"]["count"], m["single"]["count"]) == (4, 2)
    # November 1st (China) holds A7 only.
    r = api("GET", "/agency/stats/turnaround?from=2026-11-01&to=2026-11-01",
            headers=bearer(month["token"]))
    assert r.json()["total"]["count"] == 1


def test_public_figures_of_a_scripted_month(month):
    """The public page (S0 四(二) 公开): no sign-in, cacheable, the month's
    counts and no personal data."""
    reg = month["region"]["region"]
    r = api("GET", "/stats/public?region=%s&month=%s" % (reg, MONTH))
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "public, max-age=300"
    body = r.json()
    assert body["months"] == [MONTH]
    [region] = body["regions"]
    assert region["code"] == reg
    # Submitted in October (China): A2, A4, A5, A6, A7, A8; decided: A1
    # to A6 (median 1.5 as above), 4 approved.
    assert region["months"] == [{
        "month": MONTH, "submitted": 6, "decided": 6, "approved": 4,
        "approval_rate": 66.7, "median_working_days": 1.5}]
    p = month["person"]
    for secret in (p["name"], p["id_number"], p["phone"], "专家甲",
                   p["id_number"][-6:]):
        assert secret not in r.text
    # September: A1 and A3 submitted, nothing decided.
    r = api("GET", "/stats/public?region=%s&month=2026-09" % reg)
    assert r.json()["regions"][0]["months"][0] == {
        "month": "2026-09", "submitted": 2, "decided": 0, "approved": 0,
        "approval_rate": None, "median_working_days": None}


def test_public_figures_default_to_twelve_months(month):
    r = api("GET", "/stats/public?region=" + month["region"]["region"])
    assert r.status_code == 200
    months = r.json()["months"]
    assert len(months) == 12 and months[-1] == today().strftime("%Y-%m")
    assert [m["month"] for m in r.json()["regions"][0]["months"]] == months
    r = api("GET", "/stats/public?month=" + MONTH)
    codes = {x["code"] for x in r.json()["regions"]}
    assert {month["region"]["region"], month["other"]["region"]} <= codes


@pytest.mark.parametrize("path,status,code,field", [
    ("/stats/public?month=2026-13", 400, "field_invalid", "month"),
    ("/stats/public?month=2026-1", 400, "field_invalid", "month"),
    ("/stats/public?month=2199-01", 422, "date_out_of_range", "month"),
    ("/stats/public?region=12", 400, "field_invalid", "region"),
    ("/stats/public?region=999999", 404, "region_not_found", "region"),
])
def test_public_bad_params(path, status, code, field):
    r = api("GET", path)
    err = assert_error(r, status, code, field)
    assert "public" not in r.headers.get("Cache-Control", "")
    assert err


@pytest.mark.parametrize("path,status,code,field", [
    ("/agency/stats/experts?month=10-2026", 400, "field_invalid", "month"),
    ("/agency/stats/experts?month=2199-12", 422, "date_out_of_range",
     "month"),
    ("/agency/stats/turnaround?from=2026-02-30", 400, "field_invalid",
     "from"),
    ("/agency/stats/turnaround?from=2026-10-31&to=2026-10-01", 422,
     "date_out_of_range", "from"),
    ("/agency/stats/turnaround?from=2024-01-01&to=2026-10-01", 422,
     "date_out_of_range", "from"),
])
def test_agency_bad_params(month, path, status, code, field):
    assert_error(api("GET", path, headers=bearer(month["token"])), status,
                 code, field)


def test_turnaround_admin_names_a_region(admin):
    r = api("GET", "/agency/stats/turnaround", headers=bearer(admin["token"]))
    assert_error(r, 400, "field_required", "region")
    r = api("GET", "/agency/stats/turnaround?region=411200",
            headers=bearer(admin["token"]))
    assert r.status_code == 200 and r.json()["region"]["code"] == "411200"


def test_working_days_between_inverts_add_working_days():
    """The count statistics use (10_util.sql) agrees with the deadlines'
    add_working_days over the calendar (国庆节, 春节, adjusted weekends):
    n working days after any day of 2025-2026 are n again, and a day
    counted by hand from the calendar table gives the same figure."""
    bad = sql("SELECT d::date, n FROM generate_series('2025-01-01'::date,"
              " '2026-12-31', interval '1 day') d,"
              " generate_series(0, 25) n"
              " WHERE working_days_between(d::date,"
              "   add_working_days(d::date, n)) <> n LIMIT 5")
    assert bad == []
    bad = sql("SELECT a::date, b FROM generate_series('2026-09-01'::date,"
              " '2026-10-31', interval '3 days') a, generate_series(0, 40) b"
              " WHERE working_days_between(a::date, a::date + b) <>"
              " (SELECT count(*) FROM generate_series(a::date + 1, a::date + b,"
              "   interval '1 day') g LEFT JOIN calendar c ON c.day = g::date"
              "   WHERE coalesce(c.kind = 'workday', extract(isodow FROM g) < 6))"
              " LIMIT 5")
    assert bad == []
    assert sql("SELECT working_days_between('2026-10-09', '2026-10-01')") == \
        [["0"]]
