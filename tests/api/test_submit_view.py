"""The progress view of a submit and its push, each built once (issue 13
item 1): submit_application patches the draft's stored view with what a
submit changes (third round; built whole, with the missing list it
checked, when the stored view is missing or behind its events), the push
patches the members it changes (patch_application_views).  After each step the stored view must equal
application_view() computed anew, and GET /applications/{id} serve it,
for an instant (single review) and a double review application and a
hospital's filing, and for a push that finds no expert."""
import json

from conftest import (api, bearer, complete, draft, insured_login, login,
                      new_expert, new_person, new_region, sql, upload,
                      wait_for)

ONCO = ["肿瘤"]        # D001: single review (instant)
CARDIO = ["心血管"]    # D013: double review


def stored_view(app_id):
    """The stored view (text) and whether it equals a fresh build."""
    rows = sql("SELECT v.view::jsonb = application_view(v.application_id)"
               "::jsonb, v.view, application_view(v.application_id)"
               " FROM application_views v WHERE v.application_id = %s", app_id)
    assert rows, "no stored view of %s" % app_id
    return rows[0]


def assert_view_fresh(app_id, token):
    """The stored view equals a fresh build, and GET serves it (read
    between two equal reads of it: the dispatcher may push meanwhile),
    but for the contact phone, stored masked and served in full
    (044_identity_rest.sql)."""
    same, stored, fresh = stored_view(app_id)
    assert same == "t", (stored, fresh)
    seen = []

    def served():
        before = stored_view(app_id)
        r = api("GET", "/applications/%s" % app_id, headers=bearer(token))
        assert r.status_code == 200, r.text
        after = stored_view(app_id)
        seen[:] = [r.json(), after]
        got, kept = r.json(), json.loads(after[1])
        phone, masked = got.pop("phone"), kept.pop("phone")
        return before == after and got == kept and \
            masked == phone[:3] + "****" + phone[-4:]
    assert wait_for(served), seen
    return json.loads(stored)


def submit(token, app_id):
    r = api("POST", "/applications/%s/submit" % app_id,
            headers=bearer(token), json={"promise": True})
    assert r.status_code == 200, r.text
    return r.json()


def pushed(app_id):
    """Wait for the push's event (pushed, or unassigned without an
    expert) and return its type and id."""
    found = []

    def look():
        found[:] = sql("SELECT type, id FROM events WHERE application_id = %s"
                       " AND type IN ('pushed', 'unassigned')", app_id)
        return bool(found)
    assert wait_for(look), "no push of %s" % app_id
    return found[0][0], found[0][1]


def submit_and_push(token, app, expect):
    """Submit app, check the view, wait for the push, check it again:
    the push's event is the view's last and the view was patched (jsonb's
    text, "id": first) rather than built a second time."""
    ok = submit(token, app["id"])
    # Before the push, or after it: either way the view is fresh.
    view = assert_view_fresh(app["id"], token)
    assert view["missing_materials"] == []
    assert view["submitted_at"] is not None
    kind, ev = pushed(app["id"])
    assert kind == expect
    view = assert_view_fresh(app["id"], token)
    assert view["timeline"][-1]["type"] == expect
    assert sql("SELECT built_event, view LIKE '{\"id\": %%'"
               " FROM application_views WHERE application_id = %s",
               app["id"]) == [[ev, "t"]]
    return ok, view


def region_app(specialties, disease, experts=1):
    admin = login("admin")["token"]
    reg = new_region()
    for i in range(experts):
        new_expert(admin, reg["hospitals"][1 + i % 2], specialties)
    p = new_person(region=reg["region"])
    tok = insured_login(p)["token"]
    return tok, complete(tok, draft(tok, disease=disease,
                                    institution=reg["hospitals"][0]))


def test_instant_application_view_after_submit_and_push():
    tok, app = region_app(ONCO, "D001")
    ok, view = submit_and_push(tok, app, "pushed")
    assert view["review_mode"] == "single" and view["status"] == "in_review"
    assert view["expected_decision_date"] == ok["expected_decision_date"]
    assert view["waiting_for_expert"] is None


def test_double_review_application_view_after_submit_and_push():
    tok, app = region_app(CARDIO, "D013", experts=2)
    ok, view = submit_and_push(tok, app, "pushed")
    assert view["review_mode"] == "double" and view["status"] == "in_review"
    assert view["expected_decision_date"] == ok["expected_decision_date"]


def test_view_when_nobody_can_be_pushed():
    """No expert of the specialty: the push's 'unassigned' patches the
    view too (waiting, no date)."""
    tok, app = region_app(ONCO, "D001", experts=0)
    _, view = submit_and_push(tok, app, "unassigned")
    assert view["status"] == "submitted"
    assert view["expected_decision_date"] is None
    assert view["waiting_for_expert"]["text"]


def hospital_files(login_name, region, institution, name):
    p = new_person(region=region, name=name)
    hosp = login(login_name, "mtcert-hospital-2026")["token"]
    r = api("POST", "/hospital/applications", headers=bearer(hosp), json={
        "id_number": p["id_number"], "name": p["name"], "disease_code": "D013",
        "phone": p["phone"], "medical_record_no": "HV-1",
        "designated_institution": institution})
    assert r.status_code == 201, r.text
    return p, hosp, complete(hosp, r.json())


def test_hospital_filing_view_after_submit_and_push():
    """A hospital files for a person in 三门峡 (experts decide there, as
    in make bench): the view the hospital and the person read is the
    fresh one, after the submit and after the push."""
    p, hosp, app = hospital_files("hospital-smx", "411200", "H41120000001",
                                  "陈视图")
    assert app["channel"] == "hospital" and app["review_mode"] == "double"
    ok = submit(hosp, app["id"])
    view = assert_view_fresh(app["id"], hosp)
    assert view["missing_materials"] == [] and view["precheck"] is not None
    kind, ev = pushed(app["id"])
    view = assert_view_fresh(app["id"], hosp)
    assert view["timeline"][-1]["type"] == kind
    assert sql("SELECT built_event FROM application_views"
               " WHERE application_id = %s", app["id"]) == [[ev]]
    assert ok["status"] == "submitted"
    assert_view_fresh(app["id"], insured_login(p)["token"])


def test_hospital_certifies_on_site_view_after_submit():
    """Where the hospital certifies (西宁, on site): nothing is pushed,
    the view after the submit names the certifying hospital."""
    _, hosp, app = hospital_files("hospital-qhph", "630100", "H63010200143",
                                  "韩视图")
    submit(hosp, app["id"])
    view = assert_view_fresh(app["id"], hosp)
    assert view["review_mode"] == "onsite" and view["status"] == "submitted"
    assert view["certifying_institution"]["code"] == "H63010200143"
    # Nothing is pushed: the view is the submit's patch (jsonb's text,
    # "id" first) holding the submit's event, not a build.
    assert patched_by_submit(app["id"], "submitted")


def patched_by_submit(app_id, kind):
    """Whether the stored view holds the submit's event (kind: submitted
    or resubmitted) as patched in (jsonb's text; a whole build is json's,
    '{"id" : '), the push's patch, if any, after it."""
    ev = sql("SELECT max(id) FROM events WHERE application_id = %s"
             " AND type = %s", app_id, "'%s'" % kind)[0][0]
    got = sql("SELECT built_event >= %s, view LIKE '{\"id\": %%'"
              " FROM application_views WHERE application_id = %s",
              ev, app_id)
    return got == [["t", "t"]]


def test_view_built_whole_when_the_stored_one_is_behind():
    """A draft whose stored view is missing, or behind its events (the
    patch would keep what it no longer is): submit builds it whole, the
    same as a fresh build."""
    tok, app = region_app(ONCO, "D001", experts=0)
    sql("DELETE FROM application_views WHERE application_id = %s", app["id"])
    submit(tok, app["id"])
    assert_view_fresh(app["id"], tok)
    tok, app = region_app(ONCO, "D001", experts=0)
    sql("UPDATE application_views SET built_event = built_event - 1,"
        " view = replace(view, '\"draft\"', '\"stale\"')"
        " WHERE application_id = %s", app["id"])
    submit(tok, app["id"])
    view = assert_view_fresh(app["id"], tok)
    assert view["status"] == "submitted"


def test_resubmission_view_patched():
    """A returned application resubmitted: the patch clears 'returned'
    and the returned kinds from the missing list, as a build would."""
    from test_return import returned_app
    r = returned_app()
    tok, app_id = r["tok"], r["app"]["id"]
    assert upload(tok, app_id, "pathology_report").status_code == 201
    submit(tok, app_id)
    view = assert_view_fresh(app_id, tok)
    assert view["returned"] is None and view["missing_materials"] == []
    assert patched_by_submit(app_id, "resubmitted")


def test_a_large_view_is_stored_whole_and_served():
    """A view past 2 KB (materials and their timeline lines) is kept in
    its row uncompressed (sql/002_applicants.sql: toast_tuple_target), so
    the progress read sends it as stored: in one backend, 100,000 reads
    of a 3.7 KB view took 17-18 us each compressed with pglz, 13-14 with
    lz4, 6.6-7 whole in the row (issue 13, third round).  GET serves it
    as a fresh build."""
    tok = insured_login(new_person())["token"]
    app = draft(tok)
    for _ in range(6):
        r = upload(tok, app["id"], "lab_report")
        assert r.status_code == 201, r.text
    size, stored, compression = sql(
        "SELECT octet_length(view), pg_column_size(view),"
        " coalesce(pg_column_compression(view), 'none')"
        " FROM application_views WHERE application_id = %s", app["id"])[0]
    assert int(size) > 2100, size                  # past the default threshold
    assert compression == "none" and int(stored) >= int(size), (
        size, stored, compression)
    assert_view_fresh(app["id"], tok)
