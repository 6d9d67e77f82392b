"""Certification authorization (issue 11 item 1): which hospital may
certify which disease, by the region's rules (R-CER-8, R-CER-9, S1 二(四),
S4 一), suspended or cancelled by the agency (R-SUP-4, S2 五(三)).

GET /agency/institutions, GET|PUT /agency/institutions/{code}/diseases;
the rules are authorization_rule() and certification_refusal()
(sql/fn/65_authorization.sql)."""
from conftest import (api, assert_error, bearer, complete, draft,
                      insured_login, login, new_person, new_region, sql)

AGENCY_PASSWORD = "mtcert-agency-2026"
KANGNING = "H53230000005"      # 禄丰康宁医院: private, level 2, D006 only
LFRM = "H53230000001"          # 禄丰市人民医院: public, level 2
JIAOTONG = "H63010400631"      # 青海省交通医院: public, level 2 (西宁)


def agency(user):
    return login(user, AGENCY_PASSWORD)["token"]


def diseases(tok, code):
    r = api("GET", "/agency/institutions/%s/diseases" % code,
            headers=bearer(tok))
    assert r.status_code == 200, r.text
    body = r.json()
    return body, {i["disease"]["code"]: i for i in body["items"]}


def put(tok, code, entries, **extra):
    return api("PUT", "/agency/institutions/%s/diseases" % code,
               headers=bearer(tok), json=dict(extra, diseases=[
                   {"code": c, "status": s} for c, s in entries]))


def held(code):
    """The hospital's authorization rows, {disease: status}."""
    return dict(sql("SELECT disease, status FROM institution_diseases"
                    " WHERE institution = '%s'", code))


def log_rows(code):
    return sql("SELECT coalesce(disease, '-'), status, coalesce(reason, '-')"
               " FROM authorization_log WHERE institution = '%s' ORDER BY id",
               code)


def test_agency_lists_its_own_hospitals():
    """The agency sees its region's hospitals with what the rules read
    (level, ownership, score, scope) and how many diseases each may
    certify; another region's hospital is not found (R-CER-8)."""
    tok = agency("agency-lufeng")
    r = api("GET", "/agency/institutions", headers=bearer(tok))
    assert r.status_code == 200, r.text
    items = {i["code"]: i for i in r.json()["items"]}
    assert len(items) == 7 and all(i["region"] == "532300"
                                   for i in items.values())
    k = items[KANGNING]
    assert (k["name"], k["ownership"], k["level"], k["scope"],
            k["authorized"], k["certification_status"]) == (
        "禄丰康宁医院", "private", 2, ["D006"], 1, "active")
    assert items[LFRM]["scope"] is None and items[LFRM]["authorized"] > 30
    assert not items[LFRM]["province_wide"]
    page = api("GET", "/agency/institutions", headers=bearer(tok),
               params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"] == \
        page["items"][1]["code"]
    rest = api("GET", "/agency/institutions", headers=bearer(tok),
               params={"cursor": page["next_cursor"]}).json()
    assert [i["code"] for i in page["items"] + rest["items"]] == \
        sorted(items)
    assert_error(api("GET", "/agency/institutions/%s/diseases" % JIAOTONG,
                     headers=bearer(tok)), 404, "institution_unknown", "code")
    assert_error(put(tok, JIAOTONG, [("D013", "active")]), 404,
                 "institution_unknown", "code")
    assert_error(api("GET", "/agency/institutions", headers=bearer(tok),
                     params={"region": "630100"}), 404, "region_not_found")
    # An admin sees any region's.
    adm = login("admin")["token"]
    body, _ = diseases(adm, JIAOTONG)
    assert body["institution"]["province_wide"] is True


def test_special_disease_level_by_region_policy_r_cer_9():
    """R-CER-9 with each region's numbers: a level-2 public hospital may
    not certify a special disease where special_cert_min_level is 3 (禄丰,
    S1 二(四)), but may in 西宁 where it is 2 (S4 一); the refusal names
    the rule and the disease, and nothing changes."""
    lf = agency("agency-lufeng")
    _, items = diseases(lf, LFRM)
    assert items["D001"]["status"] == "none"
    assert not items["D001"]["allowed"]
    assert "特殊病须由3级及以上公立医疗机构认定（本院为2级）" in \
        items["D001"]["refusal"]
    assert items["D013"]["allowed"] and items["D013"]["rule"] == \
        "public_chronic" and items["D013"]["status"] == "active"
    before, logged = held(LFRM), log_rows(LFRM)
    active = [(c, "active") for c, i in items.items()
              if i["status"] == "active"]
    err = assert_error(put(lf, LFRM, active + [("D001", "active")]), 422,
                       "authorization_rule_failed", "diseases")
    assert "恶性肿瘤门诊治疗" in err["message"] and "3级" in err["message"]
    assert held(LFRM) == before and log_rows(LFRM) == logged
    # 西宁: the same level-2 public hospital holds a special disease.
    xn = agency("agency-xining")
    _, items = diseases(xn, JIAOTONG)
    assert items["D001"]["allowed"] and items["D001"]["rule"] == \
        "public_special" and items["D001"]["status"] == "active"


def test_policy_change_moves_the_rule_r_cer_9():
    """The rule follows the region's policy as the agency sets it with
    PUT /agency/policy: special_cert_min_level 3 refuses a level-2 public
    hospital, 2 admits it; the grant is logged with its rule."""
    reg = new_region()
    h = reg["hospitals"][0]
    sql("UPDATE institutions SET level = 2 WHERE code = '%s'", h)
    adm = login("admin")["token"]
    _, items = diseases(adm, h)
    assert not items["D002"]["allowed"] and "3级" in items["D002"]["refusal"]
    assert_error(put(adm, h, [("D002", "active")]), 422,
                 "authorization_rule_failed", "diseases")
    r = api("PUT", "/agency/policy", headers=bearer(adm), json={
        "region": reg["region"], "key": "special_cert_min_level",
        "value": "2"})
    assert r.status_code == 200, r.text
    _, items = diseases(adm, h)
    assert items["D002"]["allowed"] and items["D002"]["rule"] == \
        "public_special"
    r = put(adm, h, [("D002", "active"), ("D013", "active")],
            reason="按新的认定机构条件调整")
    assert r.status_code == 200, r.text
    got = {i["disease"]["code"]: i for i in r.json()["items"]}
    assert got["D002"]["status"] == "active" and got["D002"]["rule"] == \
        "public_special"
    assert r.json()["institution"]["authorized"] == 2
    # Every other disease of the fixture's grant is revoked, and logged.
    assert held(h)["D001"] == "revoked"
    assert sql("SELECT rule FROM institution_diseases WHERE institution ="
               " '%s' AND disease = 'D002'", h) == [["public_special"]]
    assert ["D001", "revoked", "按新的认定机构条件调整"] in log_rows(h)


def test_private_hospital_needs_the_score_r_cer_9():
    """S1 二(四): a private level-2 hospital certifies only with last
    year's score at least private_cert_min_score (85): 84 is refused
    naming the score, 85 passes under private_scored."""
    reg = new_region()
    h = reg["hospitals"][1]
    sql("UPDATE institutions SET level = 2, ownership = 'private',"
        " score = 84 WHERE code = '%s'", h)
    adm = login("admin")["token"]
    err = assert_error(put(adm, h, [("D013", "active")]), 422,
                       "authorization_rule_failed", "diseases")
    assert "85分" in err["message"] and "84" in err["message"]
    _, items = diseases(adm, h)
    assert not items["D013"]["allowed"] and "85分" in \
        items["D013"]["refusal"]
    sql("UPDATE institutions SET score = 85 WHERE code = '%s'", h)
    r = put(adm, h, [("D013", "active")], reason="考核达标")
    assert r.status_code == 200, r.text
    got = {i["disease"]["code"]: i for i in r.json()["items"]}
    assert got["D013"]["rule"] == "private_scored"
    assert got["D013"]["status"] == "active"


def test_psychiatric_hospital_only_its_scope_s1():
    """S1: 禄丰康宁医院 certifies psychiatric diseases only: 癫痫 (D031)
    and 高血压 (D015) are refused naming the scope, in the editor and on
    PUT; nothing changes."""
    tok = agency("agency-lufeng")
    _, items = diseases(tok, KANGNING)
    assert items["D006"]["status"] == "active" and \
        items["D006"]["rule"] == "private_scored"
    for code in ("D031", "D015"):
        assert not items[code]["allowed"]
        assert "该医疗机构限于重性精神疾病" in items[code]["refusal"]
    before = held(KANGNING)
    for code, name in (("D031", "癫痫"), ("D015", "高血压")):
        err = assert_error(put(tok, KANGNING, [("D006", "active"),
                                              (code, "active")]),
                           422, "authorization_rule_failed", "diseases")
        assert name in err["message"] and "限于重性精神疾病" in \
            err["message"]
    assert held(KANGNING) == before


def test_suspension_stops_certification_r_sup_4():
    """An agency's sanction (R-SUP-4, S2 五(三)) suspends a hospital's
    authorization for a disease or its whole certification, with a
    reason: a person choosing it for an on-site disease is told why, and
    the catalog no longer lists it as certifying."""
    reg = new_region()
    a, b, _ = reg["hospitals"]
    region = reg["region"]
    sql("UPDATE region_diseases SET review_mode = 'onsite' WHERE region ="
        " '%s' AND disease = 'D013'", region)
    adm = login("admin")["token"]
    assert_error(put(adm, a, [("D013", "suspended")]), 400,
                 "field_required", "reason")
    assert held(a)["D013"] == "active"
    r = put(adm, a, [("D013", "suspended"), ("D015", "active")],
            reason="违规办理认定，暂停三个月")
    assert r.status_code == 200, r.text
    got = {i["disease"]["code"]: i for i in r.json()["items"]}
    assert got["D013"]["status"] == "suspended"
    assert got["D013"]["reason"] == "违规办理认定，暂停三个月"
    assert got["D001"]["status"] == "revoked"
    assert ["D013", "suspended", "违规办理认定，暂停三个月"] in log_rows(a)
    refusal = sql("SELECT certification_refusal('%s', 'D013', '%s')",
                  a, region)[0][0]
    assert "已被暂停" in refusal
    # A person designating it for D013 is refused with the reason, when
    # filing already.
    p = new_person(region=region)
    tok = insured_login(p)["token"]
    err = assert_error(api("POST", "/applications", headers=bearer(tok),
                           json={"disease_code": "D013", "phone": p["phone"],
                                 "medical_record_no": "MR-1",
                                 "designated_institution": a}),
                       422, "designated_not_certifying",
                       "designated_institution")
    assert "已被暂停" in err["message"]
    # Designating b works (its authorization is active).
    assert complete(tok, draft(tok, disease="D013", institution=b))
    listed = api("GET", "/institutions", params={
        "region": region, "disease": "D013", "certifying": "true"}).json()
    assert a not in [i["code"] for i in listed["items"]]
    assert b in [i["code"] for i in listed["items"]]
    mine = api("GET", "/institutions", params={"region": region}).json()
    assert {i["code"]: i for i in mine["items"]}[a][
        "certifying_diseases"] == ["D015"]
    # The whole hospital: suspended, then cancelled, each logged.
    r = put(adm, b, [("D013", "active")], certification_status="revoked",
            reason="严重违规，取消认定资格")
    assert r.status_code == 200, r.text
    assert r.json()["institution"]["certification_status"] == "revoked"
    assert ["-", "revoked", "严重违规，取消认定资格"] in log_rows(b)
    assert "已被取消" in sql("SELECT certification_refusal('%s', 'D013',"
                            " '%s')", b, region)[0][0]


def test_bad_input_is_a_4xx():
    """Malformed lists, repeated or unknown diseases, a bad status: 4xx
    with the error envelope, never 500; roles are checked."""
    reg = new_region()
    h = reg["hospitals"][2]
    adm = login("admin")["token"]
    path = "/agency/institutions/%s/diseases" % h
    before = held(h)
    for body in ({}, {"diseases": "D013"}, {"diseases": ["D013"]},
                 {"diseases": [{"code": "D013"}]},
                 {"diseases": [{"code": "D013", "status": "revoked"}]},
                 {"diseases": [{"code": "D013", "status": "active",
                                "x": 1}]},
                 {"diseases": [{"code": "d-1", "status": "active"}]},
                 {"diseases": [{"code": "D013", "status": "active"},
                               {"code": "D013", "status": "suspended"}]}):
        r = api("PUT", path, headers=bearer(adm), json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["error"]["field"] == "diseases", r.text
    assert_error(api("PUT", path, headers=bearer(adm), json={
        "diseases": [], "certification_status": "closed"}), 400,
        "field_invalid", "certification_status")
    assert_error(api("PUT", path, headers=bearer(adm), json={
        "diseases": [], "oops": 1}), 400, "unknown_field")
    err = assert_error(put(adm, h, [("D999", "active")]), 422,
                       "authorization_rule_failed", "diseases")
    assert "目录" in err["message"]
    assert held(h) == before
    assert_error(api("GET", "/agency/institutions/H99999999999/diseases",
                     headers=bearer(adm)), 404, "institution_unknown")
    assert_error(api("GET", "/agency/institutions/x'y/diseases",
                     headers=bearer(adm)), 400, "field_invalid", "code")
    assert api("GET", path).status_code == 401
    hosp = login("hospital-qhph")["token"]
    assert api("GET", path, headers=bearer(hosp)).status_code == 403
    assert api("PUT", path, headers=bearer(hosp),
               json={"diseases": []}).status_code == 403
