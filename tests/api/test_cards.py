"""The e-card (R-BEN-2): the holder's card with its Ed25519-signed token,
the QR code that carries it, verification online (GET /cards/verify, the
record's current state: R-BEN-3 hospital change, R-BEN-5 exit) and
offline (GET /cards/keys, `mtcertctl card verify` with the keys file
alone), key rotation, and the rate limit of the public check."""
import base64
import concurrent.futures
import json
import os
import shutil
import subprocess
import tempfile

from conftest import id_hmac
from conftest import (API, CTL, HANG, VAR, api, assert_error, bearer, client,
                      ctl, insured_login, login, new_person, new_region, sql,
                      stack, submitted_application, wait_for)


def chinese(s):
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


def qualification(region=None, valid_from="cn_today()",
                  valid_to="cn_today() + 364", name="王小明"):
    """A person with an active qualification in a region of its own (as
    the review engine writes one), signed in."""
    reg = region or new_region()
    p = new_person(region=reg["region"], name=name)
    qid = sql("INSERT INTO qualifications (person_id, disease, region,"
              " designated_institution, valid_from, valid_to)"
              " SELECT id, 'D013', '%s', '%s', %s, %s FROM persons"
              " WHERE id_number_hmac = '%s' RETURNING id", reg["region"],
              reg["hospitals"][0], valid_from, valid_to,
              id_hmac(p["id_number"]))[0][0]
    tok = insured_login(p)["token"]
    return {"id": int(qid), "token": tok, "person": p, "region": reg}


def card(q):
    r = api("GET", "/qualifications/%d/card" % q["id"],
            headers=bearer(q["token"]))
    assert r.status_code == 200, r.text
    return r.json()


def verify(token, source=None):
    r = api("GET", "/cards/verify", source=source, params={"token": token})
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()


def current_kid():
    keys = api("GET", "/cards/keys").json()["keys"]
    return [k["key_id"] for k in keys if k["current"]]


def b64(s):
    return base64.urlsafe_b64encode(s).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def test_card_is_the_holders_own_with_a_signed_token():
    """R-BEN-2: name, masked ID number, disease, designated hospital,
    validity, and a token signed by the current key that verifies."""
    q = qualification()
    c = card(q)
    assert c["id"] == q["id"] and c["status"] == "active"
    assert c["holder"]["name"] == "王小明"
    assert c["holder"]["id_number"] == (q["person"]["id_number"][:4] + "*" * 10
                                        + q["person"]["id_number"][-4:])
    assert c["disease"]["code"] == "D013" and chinese(c["disease"]["name"])
    assert c["designated_institution"]["code"] == q["region"]["hospitals"][0]
    assert c["valid_from"] and c["valid_to"] and c["days_left"] == 365
    assert c["token"].startswith("MC1.%s." % c["key_id"])
    assert [c["key_id"]] == current_kid()
    assert c["qr_svg"] == "/api/v1/qualifications/%d/card/qr.svg" % q["id"]
    # What travels in the QR code is masked: the first character only.
    payload = json.loads(unb64(c["token"].split(".")[2]))
    assert payload["n"] == "王**" and q["person"]["id_number"] not in \
        c["token"] and "*" in payload["i"]
    v = verify(c["token"])
    assert v["valid"] is True and v["genuine"] is True and "reason" not in v
    assert v["key_id"] == c["key_id"]
    assert v["card"]["holder"] == {"name": "王**",
                                   "id_number": c["holder"]["id_number"]}
    assert v["card"]["disease"]["code"] == "D013"
    assert v["card"]["designated_institution"] == c["designated_institution"]
    assert (v["card"]["valid_from"], v["card"]["valid_to"]) == \
        (c["valid_from"], c["valid_to"])
    assert v["current"]["status"] == "active"
    assert v["current"]["designated_institution"] == c["designated_institution"]


def test_approved_applicant_gets_a_card_that_verifies():
    """R-BEN-1, R-BEN-2 end to end: an application approved by the review
    engine (conclude_application, as the last expert's decision calls it)
    gives a qualification whose card the applicant opens and a hospital
    verifies."""
    reg = new_region()
    tok, app = submitted_application(reg, disease="D013")
    sql("SELECT conclude_application(%s, true, NULL, NULL)", app["id"])
    qid = int(sql("SELECT id FROM qualifications WHERE application_id = %s",
                  app["id"])[0][0])
    r = api("GET", "/qualifications/%d/card" % qid, headers=bearer(tok))
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["application_id"] == app["id"] and c["status"] == "active"
    assert c["designated_institution"]["code"] == reg["hospitals"][0]
    v = verify(c["token"])
    assert v["valid"] is True and v["card"]["disease"]["code"] == "D013"
    assert v["current"]["valid_to"] == c["valid_to"]


def test_card_of_someone_else_is_404():
    """R-BEN-2: only the holder sees a card; another person's qualification
    is as absent as one that does not exist."""
    q = qualification()
    other = qualification()
    for qid in (other["id"], 999999999):
        for path in ("/qualifications/%d/card", "/qualifications/%d/card/qr.svg"):
            assert_error(api("GET", path % qid, headers=bearer(q["token"])),
                         404, "qualification_not_found", "id")
    assert_error(api("GET", "/qualifications/%d/card" % q["id"]), 401,
                 "unauthenticated")
    staff = login("hospital-qhph")["token"]
    assert_error(api("GET", "/qualifications/%d/card" % q["id"],
                     headers=bearer(staff)), 403, "forbidden")
    assert_error(api("GET", "/qualifications/abc/card",
                     headers=bearer(q["token"])), 400, "field_invalid", "id")


def qr_text(svg):
    """What a barcode reader (zbarimg, after rsvg-convert) reads in svg."""
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "qr.svg"), "w").write(svg)
        subprocess.run(["rsvg-convert", "-w", "900", "-b", "white", "-o",
                        os.path.join(d, "qr.png"), os.path.join(d, "qr.svg")],
                       check=True, timeout=HANG)
        out = subprocess.run(["zbarimg", "--raw", "-q",
                              os.path.join(d, "qr.png")],
                             capture_output=True, text=True, timeout=HANG)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def shortened(name):
    """A name as a card carries it: at most 24 characters, the first 23
    and "…" when longer (mt_card_shorten)."""
    return name if len(name) <= 24 else name[:23] + "…"


def test_qr_svg_carries_the_token():
    """R-BEN-2: the QR code (libqrencode, SVG) read back by a barcode
    reader (zbarimg, after rsvg-convert) is exactly the card's token."""
    q = qualification()
    token = card(q)["token"]
    r = api("GET", "/qualifications/%d/card/qr.svg" % q["id"],
            headers=bearer(q["token"]))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "image/svg+xml"
    assert r.headers["Cache-Control"].startswith("private")
    svg = r.text
    assert svg.count("<path") == 1 and 'shape-rendering="crispEdges"' in svg
    assert 'viewBox="0 0 ' in svg and "width=" not in svg.split("<rect")[0]
    assert qr_text(svg) == token


def test_a_card_of_every_disease_verifies():
    """R-BEN-2: a card of every disease of the reference data (D001..D045,
    D006 重性精神疾病 a 52-character name among them) verifies genuine and
    valid; a long name travels shortened at a character boundary (never
    cut inside one, which made such cards malformed), the full one is the
    record's (current)."""
    reg = new_region()
    p = new_person(region=reg["region"], name="王小明")
    rows = sql("INSERT INTO qualifications (person_id, disease, region,"
               " designated_institution, valid_from, valid_to)"
               " SELECT p.id, d.code, '%s', '%s', cn_today(), cn_today() + 364"
               " FROM persons p, diseases d WHERE p.id_number_hmac = '%s'"
               " AND d.code ~ '^D[0-9]{3}$' RETURNING id, disease",
               reg["region"], reg["hospitals"][0], id_hmac(p["id_number"]))
    assert len(rows) >= 45
    tok = insured_login(p)["token"]
    for qid, code in rows:
        c = card({"id": int(qid), "token": tok})
        name = c["disease"]["name"]
        v = verify(c["token"])
        assert v["genuine"] is True and v["valid"] is True, (code, v)
        assert v["card"]["disease"] == {"code": code,
                                        "name": shortened(name)}, code
        assert v["current"]["disease"] == {"code": code, "name": name}
    long = [r[1] for r in rows if r[1] == "D006"]
    assert long, "D006 is in the reference data"


def test_a_card_of_a_long_named_hospital_verifies_and_scans():
    """R-BEN-2: a hospital with a 128-character name (the longest the
    catalog allows, a four-byte character among them) and D006: the card
    verifies genuine and valid online and offline, carries both names
    shortened, the online check gives them whole, and its QR code still
    reads back (zbarimg) as the token."""
    q = qualification()
    hosp = q["region"]["hospitals"][0]
    name = ("青海省西宁市城东区东关大街社区卫生服务中心𠀀" * 6)[:127] + "院"
    assert len(name) == 128
    sql("UPDATE institutions SET name = '%s' WHERE code = '%s'", name, hosp)
    sql("UPDATE qualifications SET disease = 'D006' WHERE id = %d", q["id"])
    c = card(q)
    assert c["designated_institution"]["name"] == name
    payload = json.loads(unb64(c["token"].split(".")[2]))
    assert payload["hn"] == shortened(name) and payload["hn"].endswith("…")
    assert payload["dn"] == shortened(c["disease"]["name"])
    v = verify(c["token"])
    assert v["genuine"] is True and v["valid"] is True, v
    assert v["card"]["designated_institution"]["name"] == shortened(name)
    assert v["current"]["designated_institution"]["name"] == name
    assert v["current"]["disease"]["name"] == c["disease"]["name"]
    with tempfile.TemporaryDirectory() as d:
        keys = os.path.join(d, "keys.json")
        with open(keys, "w") as f:
            f.write(api("GET", "/cards/keys").text)
        off = subprocess.run([CTL, "card", "verify", c["token"], "--keys",
                              keys], capture_output=True, text=True,
                             timeout=HANG)
    assert off.returncode == 0 and "genuine: yes" in off.stdout, off.stdout
    assert shortened(name) in off.stdout
    r = api("GET", "/qualifications/%d/card/qr.svg" % q["id"],
            headers=bearer(q["token"]))
    assert r.status_code == 200, r.text
    assert qr_text(r.text) == card(q)["token"]


def test_broken_tokens_are_invalid_never_5xx():
    """R-BEN-2: forged, truncated, altered, random, huge, empty and
    non-ASCII tokens: 200, valid false, the reason in words."""
    q = qualification()
    token = card(q)["token"]
    ver, kid, payload, sig = token.split(".")
    body = json.loads(unb64(payload))
    forged = dict(body, hn="另一家医院", h="H000000000")
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    cases = {
        "forged": (".".join([ver, kid, b64(json.dumps(forged).encode()), sig]),
                   "bad_signature"),
        "altered signature": (".".join([ver, kid, payload, flipped]),
                              "bad_signature"),
        "truncated": (token[:-5], "malformed"),
        "truncated payload": (".".join([ver, kid, payload[:-4], sig]),
                              "bad_signature"),
        "unknown key": (".".join([ver, "0" * 12, payload, sig]), "unknown_key"),
        "random": (b64(os.urandom(300)), "malformed"),
        "huge": ("MC1." + "A" * 6000, "malformed"),
        "empty": ("", "malformed"),
        "non-ASCII": ("MC1.凭证.伪造.签名", "malformed"),
        "other version": ("MC2" + token[3:], "malformed"),
        "extra part": (token + ".x", "malformed"),
    }
    for name, (t, reason) in cases.items():
        v = verify(t)
        assert v["valid"] is False and v["genuine"] is False, (name, v)
        assert v["reason"] == reason, (name, v)
        assert chinese(v["reason_text"]), (name, v)
        assert "card" not in v and "current" not in v, (name, v)
    # No token at all is the empty one.
    r = api("GET", "/cards/verify")
    assert r.status_code == 200 and r.json()["reason"] == "malformed"
    # A byte that is not UTF-8 is refused before anything (400, envelope).
    r = api("GET", "/cards/verify?token=%ff%fe")
    assert_error(r, 400, "field_invalid", "token")


def test_terminated_card_verifies_as_ended():
    """R-BEN-5: once the benefit ends (end_qualification, the one way any
    exit happens), its card says so, with the current status."""
    q = qualification()
    token = card(q)["token"]
    r = sql("SELECT end_qualification(%d, 'cured', cn_today(), NULL, 'agency',"
            " '复查已治愈')::text", q["id"])
    assert "ok" in json.loads(r[0][0])
    v = verify(token)
    assert v["genuine"] is True and v["valid"] is False
    assert v["reason"] == "ended" and chinese(v["reason_text"])
    assert v["current"]["status"] == "terminated"
    assert v["current"]["end_reason_text"] == "已治愈"
    assert v["current"]["ended_on"]
    # The holder still sees the card of the ended benefit, marked so.
    assert card(q)["status"] == "terminated"


def test_changed_hospital_supersedes_the_card():
    """R-BEN-3: a card issued before a change of designated hospital no
    longer holds; a new card (the new hospital) does."""
    q = qualification()
    old = card(q)["token"]
    new_hosp = q["region"]["hospitals"][1]
    sql("UPDATE qualifications SET designated_institution = '%s'"
        " WHERE id = %d", new_hosp, q["id"])
    v = verify(old)
    assert v["genuine"] is True and v["valid"] is False
    assert v["reason"] == "superseded" and chinese(v["reason_text"])
    assert v["card"]["designated_institution"]["code"] == q["region"]["hospitals"][0]
    assert v["current"]["designated_institution"]["code"] == new_hosp
    fresh = verify(card(q)["token"])
    assert fresh["valid"] is True


def test_card_before_its_start_is_not_yet_valid():
    """R-BEN-2: validity counts from valid_from."""
    q = qualification(valid_from="cn_today() + 10", valid_to="cn_today() + 400")
    v = verify(card(q)["token"])
    assert v["genuine"] is True and v["valid"] is False
    assert v["reason"] == "not_yet_valid"


def test_card_of_a_removed_record_is_not_found():
    """A genuine card whose qualification the database does not hold (a
    record restored from an older backup, say): not_found."""
    q = qualification()
    c = card(q)
    # The national feed (qualification_changes) refers to every
    # qualification; a record missing from a restored backup has none.
    sql("DELETE FROM qualification_changes WHERE qualification_id = %d;"
        " DELETE FROM qualifications WHERE id = %d", q["id"], q["id"])
    v = verify(c["token"])
    assert v["genuine"] is True and v["valid"] is False
    assert v["reason"] == "not_found" and "current" not in v


def test_keys_are_public_and_cacheable():
    """R-BEN-2 offline: the public keys, with ETag and five minutes of
    caching."""
    r = api("GET", "/cards/keys")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "public, max-age=300"
    keys = r.json()["keys"]
    assert sum(k["current"] for k in keys) == 1
    for k in keys:
        assert k["algorithm"] == "Ed25519" and len(unb64(k["public_key"])) == 32
        assert len(k["key_id"]) == 12 and k["created_at"].endswith("Z")
    again = api("GET", "/cards/keys",
                headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_offline_verification_with_the_keys_file_alone():
    """R-BEN-2 offline: `mtcertctl card verify` with only a copy of the
    public keys file, and with the stack's database stopped; a tampered
    token fails with its reason.  Online, a genuine card with the
    database down is 503 (the answer promises the current status)."""
    q = qualification()
    c = card(q)
    ver, kid, payload, sig = c["token"].split(".")
    tampered = ".".join([ver, kid, b64(json.dumps(dict(
        json.loads(unb64(payload)), t="2099-12-31")).encode()), sig])
    with tempfile.TemporaryDirectory() as d:
        keys = os.path.join(d, "keys.json")
        with open(keys, "w") as f:
            f.write(api("GET", "/cards/keys").text)
        stack("pg-stop")
        try:
            ok = subprocess.run([CTL, "card", "verify", c["token"], "--keys",
                                 keys], capture_output=True, text=True,
                                timeout=HANG, env={"PATH": os.environ["PATH"]})
            assert ok.returncode == 0, ok.stderr
            assert "genuine: yes" in ok.stdout
            assert c["disease"]["name"] in ok.stdout
            assert c["designated_institution"]["name"] in ok.stdout
            assert c["holder"]["id_number"] in ok.stdout
            bad = subprocess.run([CTL, "card", "verify", tampered, "--keys",
                                  keys], capture_output=True, text=True,
                                 timeout=HANG)
            assert bad.returncode == 1
            assert "bad_signature" in bad.stdout and chinese(bad.stdout)
            # The stack's own keys file, through its config: the same.
            assert ctl("card", "verify", c["token"]).returncode == 0
            assert ctl("card", "verify", "MC1.x", check=False).returncode == 1
            r = api("GET", "/cards/verify", params={"token": c["token"]})
            assert_error(r, 503, "service_unavailable")
            # A broken token needs no database to be refused.
            assert verify(tampered)["reason"] == "bad_signature"
        finally:
            stack("pg-start")
    assert wait_for(lambda: api("GET", "/health").status_code == 200)
    assert verify(c["token"])["valid"] is True


def test_offline_verify_refuses_a_mistyped_keys_file():
    """R-BEN-2 offline: a keys file whose members are of the wrong JSON
    type (a null algorithm crashed `mtcertctl card verify` with SIGSEGV)
    is refused: exit 2 and a message, never a crash."""
    q = qualification()
    token = card(q)["token"]
    good = api("GET", "/cards/keys").json()["keys"][0]
    files = [dict(good, algorithm=None), dict(good, algorithm=1),
             dict(good, key_id=None), dict(good, public_key=[]),
             dict(good, created_at={}), dict(good, current="true"),
             {"key_id": "a", "algorithm": None, "public_key": None,
              "created_at": None, "current": None}]
    with tempfile.TemporaryDirectory() as d:
        keys = os.path.join(d, "keys.json")
        for k in files + ["x", None]:
            with open(keys, "w") as f:
                json.dump({"keys": [k]}, f)
            r = subprocess.run([CTL, "card", "verify", token, "--keys", keys],
                               capture_output=True, text=True, timeout=HANG)
            assert r.returncode == 2, (k, r.returncode, r.stderr)
            assert "malformed keys file" in r.stderr, (k, r.stderr)
            assert "genuine" not in r.stdout


def test_rotation_keeps_old_cards_verifying():
    """R-BEN-2: `mtcertctl card rotate` makes a new current key; a card
    signed before still verifies, a new card carries the new key id."""
    q = qualification()
    before = card(q)
    new_kid = ctl("card", "rotate").stdout.strip()
    assert new_kid != before["key_id"] and len(new_kid) == 12

    def ids():
        return {k["key_id"]: k["current"]
                for k in api("GET", "/cards/keys").json()["keys"]}
    # /cards/keys is a public read from nginx's cache, up to a second old
    # (nginx/mtcert.conf.in): the new key is listed once that has passed.
    assert wait_for(lambda: new_kid in ids())
    listed = ids()
    assert listed[new_kid] is True and listed[before["key_id"]] is False
    after = card(q)
    assert after["key_id"] == new_kid
    assert after["token"].split(".")[1] == new_kid
    assert verify(before["token"])["valid"] is True
    assert verify(after["token"])["valid"] is True
    # Key files stay private; the directory holds no key of the repo.
    d = os.path.join(VAR, "keys", "card")
    assert oct(os.stat(os.path.join(d, new_kid + ".key")).st_mode & 0o777) \
        == "0o600"
    assert oct(os.stat(d).st_mode & 0o777) == "0o700"


def test_verify_is_rate_limited_with_the_envelope():
    """Public and rate-limited (20/s, burst 100 per address): a flood from
    one address meets 429 in the error envelope; another address is not
    affected."""
    source = "127.0.9.9"
    seen = []

    def one(_):
        with client(source) as s:
            return s.get(API + "/cards/verify", params={"token": "x"},
                         timeout=HANG)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        for _ in range(20):
            seen.extend(pool.map(one, range(100)))
            if any(r.status_code == 429 for r in seen):
                break
    limited = [r for r in seen if r.status_code == 429]
    assert limited, [r.status_code for r in seen][:20]
    assert_error(limited[0], 429, "rate_limited")
    assert {r.status_code for r in seen} <= {200, 429}
    assert verify("x")["reason"] == "malformed"     # another address
