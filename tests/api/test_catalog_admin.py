"""The agency's catalog and the working-day calendar (issue 12 item 7;
R-SUP-5 the agency keeps the region's catalog, R-CER-6 deadlines in
working days over the State Council's holiday schedule).

GET /agency/diseases, PUT /agency/diseases/{code}, GET|PUT
/agency/calendar/{year}; the rules: sql/fn/94_catalog_admin.sql."""
import datetime

from conftest import (api, assert_error, bearer, draft, insured_login, login,
                      new_expert, new_person, new_region, sql, submitted_application,
                      today, unique, wait_for)

AGENCY_PASSWORD = "mtcert-agency-2026"


def region_agency(region):
    """An agency account of region (the demo agency's password hash)."""
    user = unique("ag")
    sql("INSERT INTO users (login, role, password_hash, region)"
        " SELECT '%s', 'agency', password_hash, '%s' FROM users"
        " WHERE login = 'agency-sanmenxia'", user, region)
    return login(user, AGENCY_PASSWORD)["token"]


def put_disease(tok, code, **body):
    return api("PUT", "/agency/diseases/%s" % code, headers=bearer(tok),
               json=body)


def public(region, code):
    """The public catalog's entry of code for region, and the ETag."""
    r = api("GET", "/diseases", params={"region": region})
    assert r.status_code == 200, r.text
    items = {d["code"]: d for d in r.json()["items"]}
    return items.get(code), r.headers["ETag"]


def test_override_visible_for_that_region_only():
    """R-SUP-5: the agency changes validity and materials of D013 for its
    region; GET /diseases?region= shows it there (a new ETag), another
    region and the national row are unchanged, a new draft asks for the
    region's list, the change is logged with before and after."""
    a, b = new_region(), new_region()
    tok = region_agency(a["region"])
    before, etag = public(a["region"], "D013")
    assert before["validity_months"] == 24
    r = put_disease(tok, "D013", validity_months=36, materials=[
        {"kind": "diagnosis_record", "note": "二级以上医院的确诊病历"},
        {"kind": "lab_report", "required": False, "max_age_days": 90}])
    assert r.status_code == 200, r.text
    e = r.json()
    assert (e["validity_months"], e["national"]["validity_months"]) == (36, 24)
    assert e["overrides"] == {"review_mode": False, "validity_months": True,
                              "materials": True}
    assert [m["kind"] for m in e["materials"]] == ["diagnosis_record",
                                                   "lab_report"]

    def changed():
        d, tag = public(a["region"], "D013")
        return d["validity_months"] == 36 and tag != etag
    assert wait_for(changed), "the public catalog did not follow"
    d, _ = public(a["region"], "D013")
    assert [(m["kind"], m["required"], m["max_age_days"])
            for m in d["required_materials"]] == [
        ("diagnosis_record", True, None), ("lab_report", False, 90)]
    other, _ = public(b["region"], "D013")
    assert other == before
    assert sql("SELECT validity_months FROM diseases WHERE code = 'D013'") \
        == [["24"]]
    # A draft of the region asks for the region's required list.
    p = new_person(region=a["region"])
    app = draft(insured_login(p)["token"], disease="D013",
                institution=a["hospitals"][0])
    assert [m["kind"] for m in app["missing_materials"]] == [
        "diagnosis_record"]
    log = sql("SELECT u.role, c.before->>'validity_months',"
              " c.after->>'validity_months' FROM catalog_changes c"
              " JOIN users u ON u.id = c.user_id WHERE c.region = '%s'",
              a["region"])
    assert log == [["agency", "24", "36"]]
    # reset: back to the national entry.
    r = put_disease(tok, "D013", reset=True)
    assert r.status_code == 200, r.text
    assert r.json()["validity_months"] == 24
    assert r.json()["materials"] == r.json()["national"]["materials"]


def test_onsite_needs_a_hospital_and_submitted_keep_their_mode():
    """R-SUP-5, R-CER-8: onsite or panel only when a hospital may certify
    the disease for the region (certification_refusal); an application
    already submitted keeps the mode it was submitted under."""
    a = new_region()
    tok = region_agency(a["region"])
    _, app = submitted_application(a)
    sql("UPDATE institution_diseases SET status = 'suspended'"
        " WHERE disease = 'D013' AND institution LIKE 'H%s%%'", a["region"])
    r = put_disease(tok, "D013", review_mode="onsite")
    err = assert_error(r, 422, "review_mode_no_hospital", "review_mode")
    assert "现场认定" in err["message"]
    assert sql("SELECT review_mode IS NULL FROM region_diseases"
               " WHERE region = '%s' AND disease = 'D013'", a["region"]) \
        == [["t"]]
    sql("UPDATE institution_diseases SET status = 'active'"
        " WHERE disease = 'D013' AND institution = '%s'", a["hospitals"][1])
    r = put_disease(tok, "D013", review_mode="onsite")
    assert r.status_code == 200, r.text
    assert r.json()["review_mode"] == "onsite"
    assert r.json()["certifying_hospitals"] == 1
    assert wait_for(lambda: public(a["region"], "D013")[0]["review_mode"]
                    == "onsite")
    assert sql("SELECT review_mode FROM applications WHERE id = %s",
               app["id"]) == [["double"]]
    r = put_disease(tok, "D013", review_mode="national")
    assert r.status_code == 200 and r.json()["review_mode"] == "double"


def test_out_of_catalog_and_back():
    """R-SUP-5: in_catalog false takes a disease out of the region's
    catalog (the public list no longer has it), true puts it back."""
    a = new_region()
    tok = region_agency(a["region"])
    r = put_disease(tok, "D013", in_catalog=False, validity_months=12)
    assert_error(r, 400, "field_invalid", "in_catalog")
    r = put_disease(tok, "D013", in_catalog=False)
    assert r.status_code == 200 and r.json()["in_catalog"] is False
    assert wait_for(lambda: public(a["region"], "D013")[0] is None)
    r = api("GET", "/agency/diseases", headers=bearer(tok))
    assert r.status_code == 200, r.text
    listed = {i["code"]: i for i in r.json()["items"]}
    assert listed["D013"]["in_catalog"] is False
    r = put_disease(tok, "D013", in_catalog=True)
    assert r.status_code == 200 and r.json()["in_catalog"] is True
    assert wait_for(lambda: public(a["region"], "D013")[0] is not None)


def test_catalog_bad_input():
    """R-SUP-5: bad input is refused in Chinese and changes nothing."""
    a = new_region()
    tok = region_agency(a["region"])
    assert_error(put_disease(tok, "D013", validity_months=121), 400,
                 "field_invalid", "validity_months")
    assert_error(put_disease(tok, "D013", review_mode="sometimes"), 400,
                 "field_invalid", "review_mode")
    assert_error(put_disease(tok, "D013", materials=[{"kind": "no_such"}]),
                 422, "material_kind_unknown", "materials")
    assert_error(put_disease(tok, "D013", materials=[
        {"kind": "lab_report"}, {"kind": "lab_report"}]), 400,
        "field_invalid", "materials")
    assert_error(put_disease(tok, "D013", materials=[
        {"kind": "lab_report", "colour": "red"}]), 400, "field_invalid",
        "materials")
    assert_error(put_disease(tok, "Z999", validity_months=12), 404,
                 "disease_not_found")
    assert_error(put_disease(tok, "D013", validity_months=12,
                             region="411200"), 404, "region_not_found")
    assert sql("SELECT count(*) FROM catalog_changes WHERE region = '%s'",
               a["region"]) == [["0"]]
    ins = insured_login(new_person(region=a["region"]))["token"]
    assert_error(put_disease(ins, "D013", validity_months=12), 403,
                 "forbidden")
    assert_error(api("GET", "/agency/diseases", headers=bearer(ins)), 403,
                 "forbidden")


def calendar(tok, year):
    r = api("GET", "/agency/calendar/%d" % year, headers=bearer(tok))
    assert r.status_code == 200, r.text
    return r.json()


def put_calendar(tok, year, days):
    return api("PUT", "/agency/calendar/%d" % year, headers=bearer(tok),
               json={"days": days})


def is_working(day):
    return sql("SELECT is_working_day('%s')", day) == [["t"]]


def test_holiday_pushes_the_expected_date():
    """R-CER-6: a holiday put in before an open application's expected
    decision date moves it one working day later, in the same request;
    taking it out moves it back.  The change is logged with the user and
    region.  The applicant's progress view (stored, rebuilt on events:
    a recompute writes none) shows the moved date too."""
    a = new_region()
    # An expert: the view shows the date only while nobody waits for one.
    new_expert(login("admin")["token"], a["hospitals"][1], ["心血管"])
    own, app = submitted_application(a)
    tok = login("agency-sanmenxia", AGENCY_PASSWORD)["token"]

    def expected():
        d = datetime.date.fromisoformat(sql(
            "SELECT expected_decision_date FROM applications WHERE id = %s",
            app["id"])[0][0])
        r = api("GET", "/applications/%s" % app["id"], headers=bearer(own))
        assert r.status_code == 200, r.text
        assert r.json()["expected_decision_date"] == d.isoformat()
        return d
    was = expected()
    day = today() + datetime.timedelta(days=1)
    while not (day.weekday() < 5 and is_working(day)):
        day += datetime.timedelta(days=1)
    assert day < was
    kept = calendar(tok, day.year)["days"]
    added = kept + [{"day": day.isoformat(), "kind": "holiday",
                     "note": "测试假日"}]
    try:
        r = put_calendar(tok, day.year, added)
        assert r.status_code == 200, r.text
        assert {"day": day.isoformat(), "kind": "holiday",
                "note": "测试假日"} in r.json()["days"]
        now = expected()
        assert now > was
        assert sql("SELECT count(*) FROM generate_series('%s'::date + 1,"
                   " '%s'::date, '1 day') g WHERE is_working_day(g::date)",
                   was, now) == [["1"]]
        log = sql("SELECT u.login, c.role, c.region, c.recomputed >= 1"
                  " FROM calendar_changes c JOIN users u ON u.id = c.user_id"
                  " ORDER BY c.id DESC LIMIT 1")
        assert log == [["agency-sanmenxia", "agency", "411200", "t"]]
        assert calendar(tok, day.year)["changes"][0]["region"] == "411200"
    finally:
        r = put_calendar(tok, day.year, kept)
        assert r.status_code == 200, r.text
    assert expected() == was


def test_calendar_refusals():
    """R-CER-6: days of another year 422, a weekday 'workday' or a weekend
    'holiday' 422 with the reason, bad shapes 400, not agency 403; the
    calendar is unchanged."""
    tok = login("agency-sanmenxia", AGENCY_PASSWORD)["token"]
    y = today().year
    before = calendar(tok, y)["days"]
    err = assert_error(put_calendar(tok, y, before + [
        {"day": "%d-01-05" % (y + 1), "kind": "holiday"}]), 422,
        "calendar_day_outside_year", "days")
    assert str(y) in err["message"]
    monday = datetime.date(y, 3, 1)
    while monday.weekday() != 0 or not is_working(monday):
        monday += datetime.timedelta(days=1)
    saturday = monday + datetime.timedelta(days=5)
    while is_working(saturday):
        saturday += datetime.timedelta(days=7)
    err = assert_error(put_calendar(tok, y, [
        {"day": monday.isoformat(), "kind": "workday"}]), 422,
        "calendar_day_pointless", "days")
    assert "本来就是工作日" in err["message"]
    assert_error(put_calendar(tok, y, [
        {"day": saturday.isoformat(), "kind": "holiday"}]), 422,
        "calendar_day_pointless", "days")
    assert_error(put_calendar(tok, y, [
        {"day": monday.isoformat(), "kind": "holiday"},
        {"day": monday.isoformat(), "kind": "holiday"}]), 400,
        "field_invalid", "days")
    assert_error(put_calendar(tok, y, [
        {"day": monday.isoformat(), "kind": "vacation"}]), 400,
        "field_invalid", "days")
    assert_error(put_calendar(tok, 1999, []), 400, "field_invalid", "year")
    ins = insured_login(new_person())["token"]
    assert_error(put_calendar(ins, y, []), 403, "forbidden")
    assert calendar(tok, y)["days"] == before
