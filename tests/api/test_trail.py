"""The agency's trail of an application (R-SUP-7, S0 四(二) 公开、公平、
公正; issue 12 items 2 and 8): every draw with its pool and seed, every
assignment's life and every event, in time order, with the materials, the
reads logged in access_log; and the agency's list of every application of
its region, open and decided, searchable by number."""
from conftest import identity_of
from conftest import api, assert_error, bearer, login, new_expert, \
    new_region, sql, submitted_application, live_assignment, unique, ctl
from test_review import accept, decide, never_disqualify, refuse

CARDIO = ["心血管"]          # D013: double review (two experts agree)


def agency_of(region):
    user = unique("ag")
    ctl("user", "add", "--role", "agency", "--login", user,
        "--password", "agency-pass-1", "--region", region)
    uid = int(sql("SELECT id FROM users WHERE login = '%s'", user)[0][0])
    return login(user, "agency-pass-1")["token"], uid


def by_id(experts, uid):
    return next(e for e in experts if e["id"] == uid)


def reviewed_with_refusal_and_expiry():
    """A double-mode application: stage 1 refused, then missed (expired
    as the dispatcher would), then accepted and approved; stage 2
    accepted and approved.  Returns (region, experts, application, the
    assignments in push order)."""
    admin = login("admin")["token"]
    reg = new_region()
    never_disqualify(reg)
    ex = [new_expert(admin, reg["hospitals"][1 + i % 2], CARDIO)
          for i in range(3)]
    _, app = submitted_application(reg, disease="D013")
    r = live_assignment(app["id"], stage=1)
    refuse(by_id(ex, r["expert"]), r["id"])
    m = live_assignment(app["id"], stage=1)
    sql("UPDATE assignments SET accept_deadline = now() WHERE id = %s",
        m["id"])
    sql("SELECT expire_assignment(%s)", m["id"])
    pushes = []
    for stage in (1, 2):
        a = live_assignment(app["id"], stage=stage)
        while a["id"] == m["id"]:
            a = live_assignment(app["id"], stage=stage)
        e = by_id(ex, a["expert"])
        assert accept(e, a["id"]).status_code == 200
        assert decide(e, a["id"], "approve", "病史资料齐全").status_code \
            == 200
        pushes.append(a)
    return reg, ex, app, [r, m] + pushes


def test_trail_shows_every_draw_and_state_in_order():
    """R-SUP-7, S0 四(二): the trail of a double-mode application with a
    refusal and an expiry: each draw with its pool size, its pool (each
    expert with name and hospital), its seed and chosen; each
    assignment's pushed / refused with the reason / expired / accepted /
    decided with the verdict and opinion, with times; the application's
    own events; all in time order; the draw's numbers those of the
    record, which `mtcertctl draw verify` recomputes."""
    reg, ex, app, asg = reviewed_with_refusal_and_expiry()
    tok, _ = agency_of(reg["region"])
    r = api("GET", "/agency/applications/%s" % app["id"], headers=bearer(tok))
    assert r.status_code == 200, r.text
    body = r.json()
    trail = body["trail"]
    ats = [t["at"] for t in trail]
    assert ats == sorted(ats)               # ISO times of one zone
    draws = [t for t in trail if t["kind"] == "draw"]
    rows = sql("SELECT id, encode(seed, 'hex'), pool, chosen, stage"
               " FROM draws WHERE application_id = %s ORDER BY id", app["id"])
    assert len(draws) == len(rows) >= 4
    for t, (did, seed, pool, chosen, stage) in zip(draws, rows):
        d = t["data"]
        assert d["draw"] == int(did) and d["seed"] == seed
        assert d["rule"] == "sha256-ctr-u32-fy/1" and t["stage"] == int(stage)
        assert "{%s}" % ",".join(str(x["id"]) for x in d["pool"]) == pool
        assert d["pool_size"] == len(d["pool"]) and d["k"] == 1
        assert "{%s}" % d["chosen"][0]["id"] == chosen
        assert all(x["name"] and x["hospital"]["name"] for x in d["pool"])
        assert ("从 %d 名候选专家中随机抽取 1 名" % d["pool_size"]) in t["text"]
    # The first draw had all three experts; each later one leaves out
    # who refused (never drawn again for it).
    assert draws[0]["data"]["pool_size"] == 3
    assert all(asg[0]["expert"] not in [x["id"] for x in t["data"]["pool"]]
               for t in draws[1:])
    kinds = [(t["kind"], t["data"].get("assignment")) for t in trail
             if t["kind"] in ("pushed", "accepted", "refused", "expired",
                              "decided")]
    refused, missed, first, second = (a["id"] for a in asg)
    assert kinds == [
        ("pushed", refused), ("refused", refused),
        ("pushed", missed), ("expired", missed),
        ("pushed", first), ("accepted", first), ("decided", first),
        ("pushed", second), ("accepted", second), ("decided", second)]
    step = {(t["kind"], t["data"].get("assignment")): t for t in trail}
    ref = step[("refused", refused)]
    assert ref["data"]["reason"] in ref["text"] and ref["stage"] == 1
    assert ref["actor"]["role"] == "expert"
    assert ref["actor"]["id"] == asg[0]["expert"]
    assert ref["actor"]["institution"]["code"] in reg["hospitals"]
    assert "超时未受理" in step[("expired", missed)]["text"]
    dec = step[("decided", second)]
    assert dec["data"] == {"assignment": second, "decision": "approve",
                           "opinion": "病史资料齐全", "pool_size":
                           dec["data"]["pool_size"], "draw":
                           dec["data"]["draw"]}
    assert "予以认定" in dec["text"] and dec["stage"] == 2
    # A draw comes just before the push it made.
    for i, t in enumerate(trail):
        if t["kind"] == "pushed":
            assert trail[i - 1]["kind"] == "draw"
            assert trail[i - 1]["data"]["draw"] == t["data"]["draw"]
    # The application's own events: submitted first, approved last.
    events = [t["kind"] for t in trail if t["actor"]["role"] != "expert"
              and t["kind"] != "draw"]
    assert "submitted" in events and events[-1] == "approved"
    assert trail[-1]["text"].startswith("认定通过")
    # The per-push summary stays beside it.
    assert [x["id"] for x in body["assignments"]] == [a["id"] for a in asg]
    cp = ctl("draw", "verify", str(app["id"]), check=False)
    assert cp.returncode == 0 and "0 mismatch" in cp.stdout, cp.stdout


def test_trail_materials_and_the_reads_are_logged():
    """R-SUP-6, R-SUP-7: the agency opens the record and a file of it;
    both reads are in access_log (the record 'read', the file
    'download'); the applicant's name in the trail is masked."""
    admin = login("admin")["token"]
    reg = new_region()
    new_expert(admin, reg["hospitals"][1], CARDIO)
    _, app = submitted_application(reg, disease="D013")
    tok, uid = agency_of(reg["region"])
    body = api("GET", "/agency/applications/%s" % app["id"],
               headers=bearer(tok)).json()
    assert body["materials"], body
    mid = body["materials"][0]["id"]
    f = api("GET", "/materials/%s" % mid, headers=bearer(tok))
    assert f.status_code == 200 and len(f.content) > 0
    name = sql("SELECT p.name FROM persons p JOIN applications a"
               " ON a.person_id = p.id WHERE a.id = %s", app["id"])[0][0]
    sub = next(t for t in body["trail"] if t["kind"] == "submitted")
    assert sub["actor"]["role"] == "insured"
    assert sub["actor"].get("name") != name
    log = sql("SELECT object_type, object_id, action FROM access_log"
              " WHERE user_id = %s ORDER BY id", uid)
    assert log == [["application", str(app["id"]), "read"],
                   ["material", str(mid), "download"]]


def test_another_regions_application_is_not_found():
    """The agency sees its own region only: another region's record (and
    its file) is a 404, and nothing is logged."""
    reg = new_region()
    _, app = submitted_application(reg, disease="D013")
    tok, uid = agency_of(new_region()["region"])
    r = api("GET", "/agency/applications/%s" % app["id"], headers=bearer(tok))
    assert_error(r, 404, "application_not_found", "id")
    assert r.json()["error"]["message"]
    mid = sql("SELECT id FROM materials WHERE application_id = %s LIMIT 1",
              app["id"])[0][0]
    assert api("GET", "/materials/%s" % mid,
               headers=bearer(tok)).status_code == 404
    assert sql("SELECT count(*) FROM access_log WHERE user_id = %s",
               uid) == [["0"]]


def test_the_list_finds_a_decided_application_by_number():
    """Issue 12 item 8: the agency's list covers every status: the open
    ones by default, status=decided / any; q finds an application by its
    number (exact), by the person's whole ID number or phone; IDs and
    phones masked; a bad q is a 400 in Chinese."""
    reg = new_region()
    tok, _ = agency_of(reg["region"])
    _, app = submitted_application(reg, disease="D013")
    _, other = submitted_application(reg, disease="D013")
    sql("SELECT conclude_application(%s, false, NULL, '资料不全')", app["id"])
    path = "/agency/applications"
    got = api("GET", path, headers=bearer(tok)).json()["items"]
    assert [i["id"] for i in got] == [other["id"]]          # open only
    got = api("GET", path, headers=bearer(tok),
              params={"status": "decided"}).json()["items"]
    assert [(i["id"], i["status"]) for i in got] == [(app["id"], "rejected")]
    got = api("GET", path, headers=bearer(tok),
              params={"status": "any"}).json()["items"]
    assert [i["id"] for i in got] == [other["id"], app["id"]]
    got = api("GET", path, headers=bearer(tok),
              params={"q": str(app["id"])}).json()["items"]
    assert [i["id"] for i in got] == [app["id"]]
    assert "*" in got[0]["applicant"]["id_number"]
    idn, phone = identity_of(sql("SELECT person_id FROM applications"
                                 " WHERE id = %s", app["id"])[0][0])
    for q in (idn, phone):
        got = api("GET", path, headers=bearer(tok),
                  params={"q": q}).json()["items"]
        assert [i["id"] for i in got] == [app["id"]]
        assert idn not in str(got) and phone not in str(got)
    # Another region's number finds nothing.
    tok2, _ = agency_of(new_region()["region"])
    assert api("GET", path, headers=bearer(tok2),
               params={"q": str(app["id"])}).json()["items"] == []
    for bad in ("12a", "1" * 19, "王"):
        r = api("GET", path, headers=bearer(tok), params={"q": bad})
        assert_error(r, 400, "field_invalid", "q")
        assert "申请编号" in r.json()["error"]["message"]
