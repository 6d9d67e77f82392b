"""Module agency: the region's policy values (every number of
REQUIREMENTS.md is a per-region policy)."""
from conftest import (api, assert_error, assert_pages, bearer, login,
                      new_expert, new_region, sql, unique)

EXPECTED_DEFAULTS = {
    "accept_window_seconds": "86400",      # R-CER-3
    "miss_limit": "3",                     # R-CER-4
    "yearly_application_limit": "3",       # R-APP-6
    "material_max_age_days": "365",        # R-APP-3
    "objection_window_days": "10",         # R-CER-12
    "designated_change_limit": "2",        # R-BEN-3
    "audit_min_rate_percent": "10",        # R-SUP-1
    "decision_working_days": "20",         # R-CER-6
    "publicity_working_days": "5",         # R-CER-10
}


def policies(body):
    return {p["key"]: p for p in body["policies"]}


def test_agency_sees_own_region():
    tok = login("agency-sanmenxia")["token"]
    r = api("GET", "/agency/policy", headers=bearer(tok))
    assert r.status_code == 200
    body = r.json()
    assert body["region"] == "411200" and body["name"] == "三门峡市"
    got = policies(body)
    for k, v in EXPECTED_DEFAULTS.items():
        assert got[k]["value"] == v, k
        assert got[k]["requirement"]
    assert got["expert_min_title"]["type"] == "enum"
    assert "中级" in got["expert_min_title"]["choices"]


def test_taiyuan_quota_benefit_starts_next_month():
    tok = login("admin")["token"]
    r = api("GET", "/agency/policy", params={"region": "140100"},
            headers=bearer(tok))
    assert policies(r.json())["quota_benefit_start"]["value"] == "next_month"


def test_other_region_is_404_for_agency():
    tok = login("agency-sanmenxia")["token"]
    assert_error(api("GET", "/agency/policy", params={"region": "630100"},
                     headers=bearer(tok)), 404, "region_not_found", "region")


def test_admin_names_the_region():
    tok = login("admin")["token"]
    assert_error(api("GET", "/agency/policy", headers=bearer(tok)), 400,
                 "field_required", "region")
    assert_error(api("GET", "/agency/policy", params={"region": "123456"},
                     headers=bearer(tok)), 404, "region_not_found", "region")
    r = api("GET", "/agency/policy", params={"region": "630100"},
            headers=bearer(tok))
    assert r.status_code == 200 and r.json()["region"] == "630100"


def test_times_carry_the_china_offset():
    tok = login("admin")["token"]
    body = api("GET", "/agency/policy", params={"region": "411200"},
               headers=bearer(tok)).json()
    stamps = [p["updated_at"] for p in body["policies"] if p["updated_at"]]
    assert stamps and all(t.endswith("+08:00") for t in stamps), stamps[:3]


def test_put_policy_changes_a_value_checked_against_its_range():
    """Every number is a per-region policy, changeable by the agency
    (issue 4: accept_window_seconds, miss_limit)."""
    tok = login("agency-xining")["token"]
    r = api("PUT", "/agency/policy", headers=bearer(tok),
            json={"key": "accept_window_seconds", "value": "7200"})
    assert r.status_code == 200
    assert policies(r.json())["accept_window_seconds"]["value"] == "7200"
    try:
        for body, code, field in (
                ({"key": "accept_window_seconds", "value": "0"},
                 "policy_value_invalid", "value"),
                ({"key": "miss_limit", "value": "three"},
                 "policy_value_invalid", "value"),
                ({"key": "expert_min_title", "value": "教授"},
                 "policy_value_invalid", "value"),
                ({"key": "no_such_key", "value": "1"},
                 "policy_key_unknown", "key")):
            assert_error(api("PUT", "/agency/policy", headers=bearer(tok),
                             json=body), 422, code, field)
        assert_error(api("PUT", "/agency/policy", headers=bearer(tok),
                         json={"key": "miss_limit", "value": "3",
                               "region": "411200"}),
                     404, "region_not_found", "region")
        # Another region keeps its value.
        admin = login("admin")["token"]
        other = api("GET", "/agency/policy", params={"region": "411200"},
                    headers=bearer(admin)).json()
        assert policies(other)["accept_window_seconds"]["value"] == "86400"
    finally:
        api("PUT", "/agency/policy", headers=bearer(tok),
            json={"key": "accept_window_seconds", "value": "86400"})


def test_expert_gone_before_it_is_shown_is_404_not_a_crash():
    """A8: the expert read after an add found no row (here a test trigger
    removes the expert again when the add commits) and the worker read
    row 0 of nothing: 502.  Now 404 expert_not_found."""
    login_ = unique("a8ghost")
    sql("CREATE FUNCTION a8_drop_expert() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN IF (SELECT login FROM users WHERE id = NEW.user_id)"
        " LIKE 'a8ghost%%' THEN"
        " DELETE FROM expert_specialties WHERE expert_id = NEW.user_id;"
        " DELETE FROM experts WHERE user_id = NEW.user_id; END IF;"
        " RETURN NULL; END $$")
    sql("CREATE CONSTRAINT TRIGGER a8_drop_expert AFTER INSERT ON experts"
        " DEFERRABLE INITIALLY DEFERRED"
        " FOR EACH ROW EXECUTE FUNCTION a8_drop_expert()")
    try:
        r = api("POST", "/agency/experts", headers=bearer(login("admin")["token"]),
                json={"login": login_, "password": "expert-pass-1",
                      "institution": "H63010200143", "title": "副高",
                      "specialties": ["肿瘤"]})
        assert_error(r, 404, "expert_not_found")
    finally:
        sql("DROP TRIGGER a8_drop_expert ON experts")
        sql("DROP FUNCTION a8_drop_expert()")


def test_expert_list_pages_with_a_cursor():
    """More experts than a page: the page is cut with a next_cursor that
    leads to the rest (by id), never silently."""
    admin = login("admin")["token"]
    reg = new_region()
    ids = sorted(new_expert(admin, reg["hospitals"][i % 3], ["肿瘤"])["id"]
                 for i in range(3))

    assert_pages("/agency/experts", admin, ids, region=reg["region"])
    assert_error(api("GET", "/agency/experts", headers=bearer(admin),
                     params={"region": reg["region"], "limit": 201}),
                 400, "field_invalid", "limit")
