"""Module catalog: diseases, institutions, health (issue 2, R-APP-4,
R-CER-5, R-CER-8, R-SUP-5)."""
import gzip

from conftest import api, assert_error, policy, sql, wait_for

INSTANT = {"D001", "D002", "D004", "D006"}   # R-CER-5, S3 第八条

# S4: the 27 Xining certifying hospitals and their institution codes.
XINING = {
    "H63010200143": "青海省人民医院", "H63010400797": "青海大学附属医院",
    "H63010300156": "青海红十字医院", "H63010300150": "青海省心脑血管病专科医院",
    "H63010300673": "青海省中医院", "H63010200152": "青海省妇女儿童医院",
    "H63010200053": "青海省精神卫生防治院",
    "H63010300054": "青海省传染病专科医院（青海省第四人民医院）",
    "H63010200026": "青海省第五人民医院", "H63010400631": "青海省交通医院",
    "H63010300017": "西宁市第一人民医院", "H63010500021": "西宁市第二人民医院",
    "H63010500170": "西宁市第三人民医院",
    "H63010200031": "中国人民解放军联勤保障部队第九四一医院",
    "H63010300002": "青海仁济医院", "H63010200768": "青海省康乐医院",
    "H63010400119": "西宁市中医院", "H63010500670": "西宁市城北区中医院",
    "H63010200018": "东关大街社区卫生服务中心（西宁市回族医院）",
    "H63010600912": "西宁市湟中区第一人民医院",
    "H63012200552": "西宁市湟中区第二人民医院", "H63010600889": "西宁市湟中区中医院",
    "H63012100662": "大通回族土族自治县人民医院",
    "H63012100114": "大通回族土族自治县第二人民医院",
    "H63012100651": "大通回族土族自治县中医院",
    "H63012300646": "湟源县人民医院", "H63012300749": "湟源县中医院",
}


def all_institutions(**params):
    items, cursor = [], None
    # Other tests add hospitals (hundreds in a full run): the bound only
    # stops a cursor that never ends.
    for _ in range(5000):
        q = dict(params, limit=7)
        if cursor:
            q["cursor"] = cursor
        r = api("GET", "/institutions", params=q)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def test_health_ok():
    r = api("GET", "/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "postgres": "ok", "redis": "ok"}
    assert len(r.headers["X-Request-Id"]) == 32


def test_lists_the_45_taiyuan_diseases():
    r = api("GET", "/diseases")
    assert r.status_code == 200
    items = r.json()["items"]
    assert len(items) == 45
    assert [d["code"] for d in items] == ["D%03d" % i for i in range(1, 46)]
    names = {d["name"] for d in items}
    assert "恶性肿瘤门诊治疗" in names and "克山病" in names
    for d in items:
        assert d["category"] in ("special", "chronic")
        assert d["specialty"]
        assert d["review_mode"] == ("single" if d["code"] in INSTANT else "double")
        assert d["instant"] == (d["code"] in INSTANT)
        assert any(m["required"] for m in d["required_materials"]), d["code"]
        for m in d["required_materials"]:
            assert m["kind"] and m["name"]


def test_malignant_tumour_needs_diagnosis_and_pathology():
    r = api("GET", "/diseases/D001")
    assert r.status_code == 200
    d = r.json()
    assert d["name"] == "恶性肿瘤门诊治疗"
    assert d["specialty"] == "肿瘤"
    required = {m["kind"] for m in d["required_materials"] if m["required"]}
    assert {"diagnosis_record", "pathology_report"} <= required


def test_tuberculosis_imaging_within_three_months():
    d = api("GET", "/diseases/D005").json()
    imaging = [m for m in d["required_materials"] if m["kind"] == "imaging_report"]
    assert imaging and imaging[0]["max_age_days"] == 90


def test_region_catalog_and_unknown_region():
    r = api("GET", "/diseases", params={"region": "630100"})
    assert r.status_code == 200
    assert r.json()["region"] == "630100"
    assert len(r.json()["items"]) == 45
    assert_error(api("GET", "/diseases", params={"region": "999999"}),
                 404, "region_not_found", "region")
    assert_error(api("GET", "/diseases", params={"region": "41120"}),
                 400, "field_invalid", "region")
    assert_error(api("GET", "/diseases", params={"region": "4112000"}),
                 400, "field_invalid", "region")


def test_disease_etag_and_304():
    r = api("GET", "/diseases/D033")
    assert r.status_code == 200
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    r2 = api("GET", "/diseases/D033", headers={"If-None-Match": etag})
    assert r2.status_code == 304
    assert r2.content == b""
    r3 = api("GET", "/diseases/D033", headers={"If-None-Match": '"other"'})
    assert r3.status_code == 200 and r3.json()["code"] == "D033"
    # A region's view of the same disease is its own resource.
    r4 = api("GET", "/diseases/D033", params={"region": "140100"})
    assert r4.status_code == 200


def test_rejection_reasons_are_served_with_etag():
    """B5, R-CER-11: the reasons an expert may give for a rejection are
    reference data served by the catalog, active ones only, in order,
    cacheable like the diseases; a change shows without a restart."""
    r = api("GET", "/rejection-reasons")
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "public, max-age=60"
    items = r.json()["items"]
    assert [[i["code"], i["name"]] for i in items] == sql(
        "SELECT code, name_zh FROM rejection_reasons WHERE active"
        " ORDER BY sort, code")
    assert "materials_insufficient" in [i["code"] for i in items]
    assert all(set(i) == {"code", "name"} for i in items)
    r2 = api("GET", "/rejection-reasons",
             headers={"If-None-Match": r.headers["ETag"]})
    assert r2.status_code == 304 and r2.content == b""
    sql("INSERT INTO rejection_reasons (code, name_zh, sort)"
        " VALUES ('catalog_test_reason', '测试原因', 95)")
    try:
        def codes():
            return [i["code"] for i in
                    api("GET", "/rejection-reasons").json()["items"]]
        assert wait_for(lambda: codes()[-1] == "catalog_test_reason", 30)
        sql("UPDATE rejection_reasons SET active = false"
            " WHERE code = 'catalog_test_reason'")
        assert wait_for(lambda: "catalog_test_reason" not in codes(), 30)
    finally:
        sql("DELETE FROM rejection_reasons WHERE code = 'catalog_test_reason'")


def test_disease_not_found_and_bad_code():
    assert_error(api("GET", "/diseases/D999"), 404, "disease_not_found", "code")
    assert_error(api("GET", "/diseases/d001"), 400, "field_invalid", "code")
    assert_error(api("GET", "/diseases/%E4%B8%AD"), 400, "field_invalid", "code")
    assert_error(api("GET", "/diseases/" + "A" * 40), 400, "field_invalid", "code")


def test_catalog_gzip():
    r = api("GET", "/diseases", headers={"Accept-Encoding": "gzip"}, stream=True)
    assert r.headers.get("Content-Encoding") == "gzip"
    raw = r.raw.read()
    assert len(gzip.decompress(raw)) > 5 * len(raw) / 2


def test_xining_27_hospitals_with_exact_codes():
    items = all_institutions(region="630100")
    assert {i["code"]: i["name"] for i in items} == XINING
    assert all(i["certifying"] for i in items)


def test_lufeng_six_two_psychiatric_only():
    """S1's six hospitals (two limited to psychiatric diseases) and the
    prefecture's level-3 hospital that certifies special diseases."""
    items = all_institutions(region="532300")
    assert len(items) == 7
    psych = [i for i in items if i["certifying_diseases"] == ["D006"]]
    assert {i["name"] for i in psych} == {"禄丰康宁医院", "禄丰阳光医院"}
    # Filtering by a non-psychiatric disease leaves the five others.
    d33 = all_institutions(region="532300", disease="D033")
    assert len(d33) == 5 and not {i["name"] for i in d33} & {
        "禄丰康宁医院", "禄丰阳光医院"}


def test_institution_filters_and_pagination():
    every = all_institutions()
    codes = [i["code"] for i in every]
    assert codes == sorted(codes) and len(codes) == len(set(codes))
    cert = all_institutions(certifying="true")
    assert all(i["certifying"] for i in cert)
    assert_error(api("GET", "/institutions", params={"limit": "0"}),
                 400, "field_invalid", "limit")
    assert_error(api("GET", "/institutions", params={"limit": "abc"}),
                 400, "field_invalid", "limit")
    assert_error(api("GET", "/institutions", params={"certifying": "maybe"}),
                 400, "field_invalid", "certifying")
    assert_error(api("GET", "/institutions", params={"cursor": "'; drop"}),
                 400, "field_invalid", "cursor")
    assert_error(api("GET", "/institutions", params={"region": "999999"}),
                 404, "region_not_found", "region")


def test_new_region_without_catalog_is_an_empty_list():
    """A region is known once it exists, even before its catalog is set."""
    sql("INSERT INTO regions VALUES ('710100', '测试市', '测试省')")
    try:
        # Each worker rechecks its cache once a second, and the two reads
        # may meet different workers: wait for both, however slow.
        def listed(path):
            r = api("GET", path, params={"region": "710100"})
            return r.status_code == 200 and r.json()["items"] == []
        assert wait_for(lambda: listed("/diseases") and
                        listed("/institutions"))
    finally:
        sql("DELETE FROM regions WHERE code = '710100'")


def test_certified_by_per_region_review_mode_r_cer_10():
    """Who certifies a disease, shown with it when a person chooses it
    (issue 11 item 6, S2): 太原's quota diseases by the hospital's panel
    with the notice of the region's publicity_working_days, its
    non-quota ones by experts online; 禄丰 on the spot (S1)."""
    def items(region):
        r = api("GET", "/diseases", params={"region": region})
        assert r.status_code == 200, r.text
        return {d["code"]: d for d in r.json()["items"]}
    ty = items("140100")
    assert ty["D007"]["quota"] and ty["D007"]["certified_by"] == {
        "mode": "panel", "text": "由认定医院专家组评审，通过后院内公示5个工作日"}
    assert not ty["D001"]["quota"]
    assert ty["D001"]["certified_by"]["mode"] == "single"
    assert ty["D001"]["certified_by"]["text"] == "由认定专家网上认定"
    assert items("532300")["D015"]["certified_by"] == {
        "mode": "onsite", "text": "到认定医院现场认定"}
    one = api("GET", "/diseases/D007", params={"region": "140100"}).json()
    assert one["certified_by"]["mode"] == "panel"
    # The notice's days are the region's policy: the text follows it.
    with policy("140100", "publicity_working_days", "7"):
        assert wait_for(lambda: items("140100")["D007"]["certified_by"][
            "text"].endswith("公示7个工作日"))
    assert wait_for(lambda: items("140100")["D007"]["certified_by"][
        "text"].endswith("公示5个工作日"))


def test_hospital_choice_fits_the_disease_s1():
    """The hospitals a person may choose for a disease (R-CER-8, S1): 禄丰
    康宁医院 (psychiatric only) is listed for 重性精神疾病 (D006) and not for
    高血压 (D015); with certifying=true only those that may certify it now
    (a level-2 hospital does not certify a special disease in 禄丰)."""
    def codes(**params):
        return [i["code"] for i in all_institutions(**params)]
    assert "H53230000005" in codes(region="532300", disease="D006")
    assert "H53230000005" not in codes(region="532300", disease="D015")
    assert "H53230000001" in codes(region="532300", disease="D015")
    assert codes(region="532300", disease="D001", certifying="true") == [
        "H53230000007"]
    assert "H53230000001" in codes(region="532300", disease="D013",
                                   certifying="true")


def test_province_wide_hospitals_serve_the_province_r_cer_13():
    """S4 一: a hospital the province authorizes (青海省人民医院) may be
    designated by, and certify, a person of 海东 (630200); a municipal
    西宁 hospital may not.  So the catalog's region filter lists the
    province-wide hospitals of the region's province."""
    listed = {i["code"]: i for i in all_institutions(region="630200")}
    assert "H63010200143" in listed and "H63020000001" in listed
    assert listed["H63010200143"]["province_wide"] is True
    assert "H63010300017" not in listed            # 西宁市第一人民医院
    cert = [i["code"] for i in all_institutions(
        region="630200", disease="D001", certifying="true")]
    assert "H63010200143" in cert and "H63020000001" in cert
    assert "H63010300017" not in cert
    # Its own region's list is unchanged: 27 西宁 hospitals.
    assert len(all_institutions(region="630100")) == 27
