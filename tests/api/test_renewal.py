"""The renewal job (R-BEN-4, S0 三(一), issue 10 item 6): a qualification
reaching its end renews for another period when the person has
settlements in at least renewal_min_settlement_months (6) distinct months
of the renewal_lookback_months (12) complete calendar months before the
month of its last day (the end month's file cannot be in yet when the job
decides, the day after), else it expires; an SMS renewal_notice_days (30) before the end
says which.  The job is sql/fn/60_renewal.sql's run_renewals, run by the
dispatcher every few seconds and by `mtcertctl renewals run`.

Settlements go in through POST /agency/settlements (the agency of
三门峡, 411200); a qualification is arranged with SQL (the approval path
is test_review's subject) after its settlements, so the dispatcher never
sees it before its evidence."""
import datetime
import json
import os
import subprocess

from conftest import id_hmac, identity_of
from conftest import (CTL, VAR, api, bearer, ctl, login, new_person, new_region,
                      sms_lines, sql, submitted_application, today,
                      wait_for)

AGENCY = "agency-sanmenxia"
HOSPITAL = "H41120000001"


def add_months(d, n):
    """The first of the month n months from d's month."""
    m = d.year * 12 + d.month - 1 + n
    return datetime.date(m // 12, m % 12 + 1, 1)


def month_end(d):
    return add_months(d, 1) - datetime.timedelta(days=1)


def next_end(end, months=24):
    """The period after one ending on end (renewal_next_end)."""
    start = end + datetime.timedelta(days=1)
    m = start.year * 12 + start.month - 1 + months
    day = start.day
    while True:
        try:
            nxt = datetime.date(m // 12, m % 12 + 1, day)
            break
        except ValueError:
            day -= 1
    return nxt - datetime.timedelta(days=1)


def settle(person, months, disease="D013", amount="88.50"):
    """Import one settlement per month (dates) for person, as the agency."""
    if not months:
        return
    tok = login(AGENCY)["token"]
    body = "id_number,disease,month,amount\n" + "".join(
        "%s,%s,%s,%s\n" % (person["id_number"], disease, m.strftime("%Y-%m"),
                           amount) for m in months)
    r = api("POST", "/agency/settlements", data=body.encode(),
            headers=dict(bearer(tok), **{"Content-Type": "text/csv"}))
    assert r.status_code == 200, r.text


def qualify(person, valid_to, valid_from=None, disease="D013"):
    """An active qualification of person ending on valid_to; its id."""
    valid_from = valid_from or valid_to - datetime.timedelta(days=700)
    return int(sql(
        "INSERT INTO qualifications (person_id, disease, region,"
        " designated_institution, valid_from, valid_to)"
        " SELECT id, '%s', region, '%s', '%s', '%s' FROM persons"
        " WHERE id_number_hmac = '%s' RETURNING id", disease, HOSPITAL,
        valid_from, valid_to, id_hmac(person["id_number"]))[0][0])


def state(q):
    r = sql("SELECT status, valid_to, renewed_count, end_reason, ended_on,"
            " renewal_noticed_on FROM qualifications WHERE id = %s", q)[0]
    return {"status": r[0], "valid_to": r[1], "renewed_count": int(r[2]),
            "end_reason": r[3] or None, "ended_on": r[4] or None,
            "noticed_on": r[5] or None}


def run_job():
    out = ctl("renewals", "run").stdout
    return json.loads(out)


def texts(person, template):
    return [m["text"] for m in sms_lines(person["phone"])
            if m["template"] == template]


def wait_texts(person, template, n):
    assert wait_for(lambda: len(texts(person, template)) >= n), \
        sms_lines(person["phone"])
    return texts(person, template)


def test_six_settlement_months_renew_and_running_again_changes_nothing():
    """R-BEN-4 (the issue's "done when"): 6 months renew for another
    validity period (24 months for D013), renewed_count 1, one SMS; a
    second run changes nothing."""
    p = new_person()
    end = today() - datetime.timedelta(days=1)
    settle(p, [add_months(end, -k) for k in range(1, 7)])
    q = qualify(p, end)
    run_job()
    s = state(q)
    assert s["status"] == "active" and s["renewed_count"] == 1
    assert s["valid_to"] == next_end(end).isoformat()
    assert s["noticed_on"] is None or s["noticed_on"] == today().isoformat()
    sms = wait_texts(p, "renewed", 1)
    assert "已自动接续" in sms[0] and s["valid_to"] in sms[0]
    run_job()
    assert state(q) == s
    assert len(texts(p, "renewed")) == 1


def test_five_settlement_months_expire_the_day_after_the_end():
    """R-BEN-4: 5 months are not enough: expired (reason expired) from the
    day after the last day, with the exit SMS (R-BEN-5's one way out)."""
    p = new_person()
    end = today() - datetime.timedelta(days=1)
    settle(p, [add_months(end, -k) for k in range(1, 6)])
    q = qualify(p, end)
    run_job()
    s = state(q)
    assert s["status"] == "expired" and s["end_reason"] == "expired"
    assert s["ended_on"] == (end + datetime.timedelta(days=1)).isoformat()
    assert s["renewed_count"] == 0 and s["valid_to"] == end.isoformat()
    sms = wait_texts(p, "qualification_ended", 1)
    assert "待遇期满未接续" in sms[0]
    run_job()
    assert state(q) == s


def test_lookback_is_the_12_closed_months_before_the_end_month():
    """R-BEN-4 boundaries: for a period ending on the last day of month M,
    the months counted are M-12 .. M-1, every one closed (and its file
    imported) when the job decides on the 1st of M+1.  A settlement in
    M-12 counts; one in M-13 does not, nor one in M itself (whose file
    comes after the decision), nor a zero amount.  Six months that
    include M-1, the last closed one, renew."""
    end = month_end(add_months(today(), -1))            # last day of M
    inside = [add_months(end, -k) for k in range(1, 6)]  # M-1 .. M-5
    people = {n: new_person() for n in ("m12", "m13", "end", "zero", "six")}
    settle(people["m12"], inside + [add_months(end, -12)])
    settle(people["m13"], inside + [add_months(end, -13)])
    settle(people["end"], inside + [add_months(end, 0)])
    settle(people["zero"], inside)
    settle(people["zero"], [add_months(end, -6)], amount="0")
    settle(people["six"], inside + [add_months(end, -6)])
    qs = {n: qualify(p, end) for n, p in people.items()}
    run_job()
    got = {n: state(q)["status"] for n, q in qs.items()}
    assert got == {"m12": "active", "m13": "expired", "end": "expired",
                   "zero": "expired", "six": "active"}, got
    # The notice counts the same months: M-12 .. M-1 of its end.
    p = new_person()
    soon = today() + datetime.timedelta(days=10)
    settle(p, [add_months(soon, -k) for k in range(1, 6)] +
           [add_months(soon, -12), add_months(soon, -13)])
    qualify(p, soon)
    run_job()
    sms = wait_texts(p, "renewal_notice", 1)[0]
    assert "到期当月之前的12个月内您已有6个月正常结算" in sms, sms


def test_notice_before_the_end_says_which_and_is_sent_once():
    """R-BEN-4: renewal_notice_days (30) before the end one SMS says
    whether it will renew; a second run sends nothing; a period ending
    later than the window gets none yet."""
    renews, lapses, later = new_person(), new_person(), new_person()
    end = today() + datetime.timedelta(days=10)
    settle(renews, [add_months(end, -k) for k in range(1, 7)])
    settle(lapses, [add_months(end, -1), add_months(end, -2)])
    qr, ql = qualify(renews, end), qualify(lapses, end)
    ql2 = qualify(later, today() + datetime.timedelta(days=45))
    run_job()
    run_job()
    yes = wait_texts(renews, "renewal_notice", 1)
    no = wait_texts(lapses, "renewal_notice", 1)
    assert "将自动接续" in yes[0] and end.isoformat() in yes[0]
    assert "不少于6个月" in no[0] and "目前有2个月" in no[0]
    assert "待遇将终止" in no[0]
    run_job()
    assert len(texts(renews, "renewal_notice")) == 1
    assert len(texts(lapses, "renewal_notice")) == 1
    assert state(qr)["noticed_on"] == today().isoformat()
    assert state(qr)["status"] == state(ql)["status"] == "active"
    assert state(ql2)["noticed_on"] is None
    assert texts(later, "renewal_notice") == []


def test_notice_days_is_the_regions_policy():
    """R-BEN-4: renewal_notice_days is a policy value per region."""
    reg = new_region()
    p = new_person(region=reg["region"])
    sql("UPDATE policies SET value = '60' WHERE region = '%s'"
        " AND key = 'renewal_notice_days'", reg["region"])
    sql("INSERT INTO qualifications (person_id, disease, region,"
        " designated_institution, valid_from, valid_to)"
        " SELECT id, 'D013', region, '%s', '%s', '%s' FROM persons"
        " WHERE id_number_hmac = '%s'", reg["hospitals"][0],
        today() - datetime.timedelta(days=600),
        today() + datetime.timedelta(days=45), id_hmac(p["id_number"]))
    run_job()
    assert "将于" in wait_texts(p, "renewal_notice", 1)[0]


def test_catch_up_after_downtime_renews_period_by_period():
    """R-BEN-4 after downtime: a qualification whose end lies years back
    renews once per period while each period's own 12 months hold 6
    settlement months, and expires the day after the first period that
    fails -- the same outcome as had the job run every day."""
    first_end = month_end(add_months(today(), -60))     # 5 years back
    second_end = next_end(first_end)
    third_end = next_end(second_end)
    p = new_person()
    settle(p, [add_months(first_end, -k) for k in range(1, 7)] +
           [add_months(second_end, -k) for k in range(1, 7)] +
           [add_months(third_end, -k) for k in range(1, 4)])
    q = qualify(p, first_end)
    always = new_person()
    end = first_end
    months = []
    while end < today():
        months += [add_months(end, -k) for k in range(1, 7)]
        end = next_end(end)
    settle(always, sorted(set(months)))
    qa = qualify(always, first_end)
    run_job()
    s = state(q)
    assert s["status"] == "expired" and s["renewed_count"] == 2
    assert s["valid_to"] == third_end.isoformat()
    assert s["ended_on"] == (third_end + datetime.timedelta(days=1)).isoformat()
    a = state(qa)
    assert a["status"] == "active" and a["valid_to"] == end.isoformat()
    assert a["renewed_count"] >= 2
    assert len(wait_texts(always, "renewed", 1)) == 1   # one SMS, not one a period


def test_two_jobs_at_once_never_renew_twice():
    """R-BEN-4: batches lock their rows FOR UPDATE SKIP LOCKED, so two
    runs at once (two dispatchers, or one and mtcertctl) renew each
    qualification exactly once."""
    end = today() - datetime.timedelta(days=1)
    qs = []
    for _ in range(8):
        p = new_person()
        settle(p, [add_months(end, -k) for k in range(1, 7)])
        qs.append(qualify(p, end))
    procs = [subprocess.Popen([CTL, "--config", os.path.join(VAR, "mtcert.conf"),
                               "renewals", "run"],
                              stdout=subprocess.PIPE) for _ in range(3)]
    for pr in procs:
        pr.communicate(timeout=60)
        assert pr.returncode == 0
    for q in qs:
        s = state(q)
        assert (s["status"], s["renewed_count"]) == ("active", 1)
        assert s["valid_to"] == next_end(end).isoformat()


def test_the_dispatcher_runs_the_job_by_itself():
    """R-BEN-4: nobody runs mtcertctl: the dispatcher renews a due
    qualification and expires another on its own (bounded by HANG)."""
    end = today() - datetime.timedelta(days=1)
    good, bad = new_person(), new_person()
    settle(good, [add_months(end, -k) for k in range(1, 7)])
    qg, qb = qualify(good, end), qualify(bad, end)
    assert wait_for(lambda: state(qg)["renewed_count"] == 1
                    and state(qb)["status"] == "expired", step=0.5)
    assert wait_texts(good, "renewed", 1)


def test_the_timeline_shows_the_notice_and_the_renewal():
    """R-BEN-4: the applicant's own timeline (GET /applications/{id})
    tells the notice and the renewal in plain words."""
    reg = new_region()
    tok, app = submitted_application(reg)
    sql("SELECT conclude_application(%s, true, NULL, NULL)", app["id"])
    q, pid = sql("SELECT q.id, q.person_id FROM qualifications q"
                 " WHERE q.application_id = %s", app["id"])[0]
    id_no = identity_of(pid)[0]
    end = today() + datetime.timedelta(days=5)
    rows = [(id_no, add_months(end, -k)) for k in range(1, 7)]
    sql("INSERT INTO settlements SELECT %s, 'D013', m::date, 100"
        " FROM unnest(ARRAY[%s]) m", pid,
        ",".join("'%s'" % m for _, m in rows))
    sql("UPDATE qualifications SET valid_from = '%s'::date - 700,"
        " valid_to = '%s' WHERE id = %s", end, end, q)
    run_job()
    sql("UPDATE qualifications SET valid_to = '%s' WHERE id = %s",
        today() - datetime.timedelta(days=1), q)
    sql("INSERT INTO settlements VALUES (%s, 'D013', '%s', 100)"
        " ON CONFLICT DO NOTHING", pid, add_months(today(), -7))
    run_job()
    body = api("GET", "/applications/%s" % app["id"], headers=bearer(tok)).json()
    lines = [t["text"] for t in body["timeline"]]
    assert any(t.startswith("已短信告知：待遇将于") and "自动接续" in t
               for t in lines), lines
    assert any(t.startswith("待遇已接续至 ") for t in lines), lines
    assert state(q)["status"] == "active"
