"""The agency's list of objections (R-CER-12, S3 第九条; issue 12's
leftover): GET /agency/objections scoped to the caller's region (an
admin names one), newest first, by state, the person masked, each row
naming its application for the trail; and the application list's filter
?objection=open (有未结复核申请)."""
from conftest import identity_of
from conftest import (api, assert_error, bearer, login, new_region, sql,
                      submitted_application)
from test_audit import agency_of
from test_objection import object_to


def rejected_app(reg):
    """An application of reg rejected (conclude_application, as a review
    leaves it, without driving an expert): (insured token, id)."""
    tok, app = submitted_application(reg, disease="D001")
    sql("SELECT conclude_application(%s, false, NULL, '病理报告不足以确诊')",
        app["id"])
    return tok, app["id"]


def objected(reg):
    """Three objections of reg: open, withdrawn, decided (dismissed, set
    as the panel leaves it); their application ids in that order."""
    ids = []
    for _ in range(3):
        tok, app_id = rejected_app(reg)
        r = object_to(tok, app_id)
        assert r.status_code == 201, r.text
        ids.append((tok, app_id))
    tok, wid = ids[1]
    r = api("POST", "/applications/%s/withdraw" % wid, headers=bearer(tok))
    assert r.status_code == 200, r.text
    did = ids[2][1]
    sql("UPDATE assignments SET state = 'cancelled', ended_at = now()"
        " WHERE application_id = %s AND state IN ('pushed', 'accepted')", did)
    sql("UPDATE applications SET status = 'rejected', decided_at = now()"
        " WHERE id = %s", did)
    sql("UPDATE objections SET state = 'dismissed', decided_at = now()"
        " WHERE application_id = %s", did)
    return [i for _, i in ids]


def listed(tok, query=""):
    r = api("GET", "/agency/objections" + query, headers=bearer(tok))
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()


def test_the_regions_objections_by_state_newest_first_masked():
    """R-CER-12: every objection of the region, newest first; open,
    decided, withdrawn each alone; the person masked; each row names its
    application, whose trail the agency opens."""
    reg = new_region()
    tok = agency_of(reg["region"])
    open_id, withdrawn_id, decided_id = objected(reg)
    body = listed(tok)
    assert [o["application_id"] for o in body["items"]] == [
        decided_id, withdrawn_id, open_id]
    assert body["next_cursor"] is None
    by_app = {o["application_id"]: o for o in body["items"]}
    assert [by_app[i]["state"] for i in (open_id, withdrawn_id,
                                         decided_id)] == [
        "open", "withdrawn", "dismissed"]
    o = by_app[open_id]
    assert o["kind"] == "applicant" and o["panel_size"] == 3
    assert o["overdue"] is False and o["seats_decided"] == 0
    a = o["application"]
    assert a["id"] == open_id and a["region"] == reg["region"]
    assert a["status"] == "in_review" and a["disease"]["code"] == "D001"
    name, pid = sql("SELECT p.name, p.id FROM applications a JOIN"
                    " persons p ON p.id = a.person_id WHERE a.id = %s",
                    open_id)[0]
    idn = identity_of(pid)[0]
    assert a["applicant"]["name"] != name and "*" in a["applicant"]["name"]
    assert a["applicant"]["id_number"] != idn
    assert "*" in a["applicant"]["id_number"]
    for status, want in (("open", [open_id]), ("withdrawn", [withdrawn_id]),
                         ("decided", [decided_id]),
                         ("any", [decided_id, withdrawn_id, open_id])):
        got = listed(tok, "?status=" + status)["items"]
        assert [x["application_id"] for x in got] == want, status
    # The row's link: the application's trail, open to this agency.
    r = api("GET", "/agency/applications/%s" % open_id, headers=bearer(tok))
    assert r.status_code == 200, r.text
    # Paged like the other lists.
    page = listed(tok, "?limit=2")
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = listed(tok, "?limit=2&cursor=" + page["next_cursor"])
    assert [x["application_id"] for x in rest["items"]] == [open_id]
    assert rest["next_cursor"] is None


def test_scope_agency_own_region_admin_names_one():
    """An agency sees its own region only (another named: 404, another's
    objections never listed); an admin must name a region (400
    field_required without one); other roles 403, no session 401; a bad
    state 400 field_invalid."""
    reg, other = new_region(), new_region()
    open_id = objected(reg)[0]
    mine, theirs = agency_of(reg["region"]), agency_of(other["region"])
    assert listed(theirs)["items"] == []
    assert_error(api("GET", "/agency/objections?region=" + reg["region"],
                     headers=bearer(theirs)), 404, "region_not_found",
                 "region")
    admin = login("admin")["token"]
    assert_error(api("GET", "/agency/objections", headers=bearer(admin)),
                 400, "field_required", "region")
    got = listed(admin, "?status=open&region=" + reg["region"])["items"]
    assert [x["application_id"] for x in got] == [open_id]
    assert listed(admin, "?region=" + other["region"])["items"] == []
    assert_error(api("GET", "/agency/objections?status=upheld",
                     headers=bearer(mine)), 400, "field_invalid", "status")
    assert_error(api("GET", "/agency/objections?limit=0",
                     headers=bearer(mine)), 400, "field_invalid", "limit")
    expert = login("expert-sm-1", "mtcert-expert-2026")["token"]
    assert api("GET", "/agency/objections",
               headers=bearer(expert)).status_code == 403
    assert api("GET", "/agency/objections").status_code == 401


def test_application_list_filter_has_an_open_objection():
    """有未结复核申请: ?objection=open lists the applications whose
    objection is open, whatever their status unless one is named; the
    expected date of each is the objection's deadline."""
    reg = new_region()
    tok = agency_of(reg["region"])
    open_id, withdrawn_id, decided_id = objected(reg)
    rejected_app(reg)                          # no objection: never listed

    def ids(query):
        r = api("GET", "/agency/applications?" + query, headers=bearer(tok))
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]
    assert ids("objection=open") == [open_id]
    assert ids("objection=withdrawn") == [withdrawn_id]
    assert ids("objection=decided") == [decided_id]
    assert ids("objection=any") == [decided_id, withdrawn_id, open_id]
    assert ids("objection=open&status=decided") == []
    assert ids("objection=withdrawn&status=rejected") == [withdrawn_id]
    r = api("GET", "/agency/applications?objection=open",
            headers=bearer(tok)).json()["items"][0]
    assert r["expected_decision_date"] == sql(
        "SELECT deadline FROM objections WHERE application_id = %s",
        open_id)[0][0]
    assert_error(api("GET", "/agency/applications?objection=yes",
                     headers=bearer(tok)), 400, "field_invalid", "objection")
