"""Issue 15 item 2, rotation of the identity data key (docs/keys.md,
"Identity keys"; shared/mt_identity.h, sql/fn/11_identity.sql).

Data keys are numbered (data.key is 1, data-<n>.key the later ones), each
sealed value names its key ("<n>:" before the base64; none for key 1),
`mtcertctl identity rotate data` makes key n+1 and re-seals every sealed
column in batches with the service running, `identity reseal` takes what
a rotation left (values written during it), `identity retire data N`
refuses while anything uses N.  The lookup key does not rotate yet (its
plan is in docs/keys.md): `identity rotate lookup` is refused.

These tests rotate the stack's key, so they run after test_identity.py
(name order) and leave every value sealed under a key that exists."""

import json
import os
import re
import threading

from conftest import (HANG, VAR, api, app_phone, assert_error, bearer, ctl,
                      id_hmac, identity_of, insured_login, login, new_person,
                      person_row_id, sql)
from test_identity import file_by_hospital, pg_dump

KEYS = os.path.join(VAR, "keys", "identity")
AGENCY = "agency-xining"        # region 630100, as file_by_hospital's


def key_file(n):
    return os.path.join(KEYS, "data.key" if n == 1 else "data-%d.key" % n)


def current_key():
    """The highest data key number in the directory."""
    names = os.listdir(KEYS)
    return max([1] * ("data.key" in names) + [
        int(m.group(1)) for m in map(re.compile(r"data-(\d+)\.key$").match,
                                     names) if m])


def age_key(n):
    """Data key n made an hour ago (past retire's grace)."""
    t = os.stat(key_file(n)).st_mtime - 3600
    os.utime(key_file(n), (t, t))


def keys_in_use():
    """{data key: how many sealed values use it} (identity_sealed)."""
    return {int(k): int(n) for k, n in sql(
        "SELECT key_id, count(*) FROM identity_sealed GROUP BY 1")}


def rotate(*extra):
    # It re-seals every sealed row of the database, which the suite has
    # grown by then: in batches of one row, with two busy loops and a CI
    # run beside it, over 60 s (a hang bound, not a speed: HANG * 5).
    out = json.loads(ctl("identity", "rotate", "data", *extra,
                         timeout=HANG * 5).stdout)
    assert out["key"] == current_key(), out
    return out


def test_rotation_while_sign_ins_and_searches_go_on():
    """Rotations (batches of one row) while one thread signs persons in
    (an SMS code each: the dispatcher opens its sealed phone, whichever
    key sealed it) and another has the agency search by ID number: no
    request fails, every code arrives.  Then `identity reseal` takes what
    was written during the rotations, nothing is left on an old key, and
    one more rotation opens every sealed value (it exits 1 naming the
    first that does not).  Each person still opens to itself, is found
    by ID number and phone, signs in; a pg_dump holds none of their ID
    numbers or phones, nor a key's bytes."""
    people = [new_person(region="630100") for _ in range(4)]
    contacts = ["139%08d" % i for i in range(len(people))]
    apps = [file_by_hospital(p, contact=c) for p, c in zip(people, contacts)]
    late = new_person(region="630100")      # signs in after the rotations
    agency = login(AGENCY)["token"]
    before = current_key()
    errors, stop, signed = [], threading.Event(), []

    def sign_ins():
        try:
            for p in people:
                signed.append(insured_login(p)["token"])
        except AssertionError as e:             # noqa: PERF203
            errors.append(("sign-in", str(e)[:200]))

    def searches():
        while not stop.is_set():
            for p, app in zip(people, apps):
                r = api("GET", "/agency/applications",
                        headers=bearer(agency),
                        params={"q": p["id_number"], "status": "any"})
                if r.status_code != 200 or [i["id"] for i in
                                            r.json()["items"]] != [app["id"]]:
                    errors.append(("search", r.status_code, r.text[:200]))
    threads = [threading.Thread(target=sign_ins),
               threading.Thread(target=searches)]
    for t in threads:
        t.start()
    rotations = 0
    try:
        while rotations < 2 or (threads[0].is_alive() and rotations < 8):
            rotate("--batch", "1")
            rotations += 1
    finally:
        threads[0].join()
        stop.set()
        threads[1].join()
    assert errors == [] and len(signed) == len(people), errors
    assert current_key() == before + rotations

    out = json.loads(ctl("identity", "reseal").stdout)
    assert out["key"] == current_key()
    assert set(keys_in_use()) == {current_key()}, keys_in_use()
    total = sum(keys_in_use().values())
    out = rotate()
    assert out["resealed"] == total and set(keys_in_use()) == {out["key"]}

    for p, app, c in zip(people, apps, contacts):
        assert identity_of(person_row_id(p["id_number"])) == (
            p["id_number"], p["phone"])
        assert app_phone(app["id"]) == c
        for q in (p["id_number"], p["phone"]):
            got = api("GET", "/agency/applications", headers=bearer(agency),
                      params={"q": q, "status": "any"}).json()["items"]
            assert [i["id"] for i in got] == [app["id"]]
    assert insured_login(late)["token"]
    dump = pg_dump()
    for p in people + [late]:
        for secret in (p["id_number"], p["phone"]):
            assert secret not in dump, secret
    for n in range(1, current_key() + 1):
        if os.path.exists(key_file(n)):
            assert open(key_file(n), "rb").read().hex() not in dump


def test_each_value_names_its_key_and_old_keys_still_open():
    """A value sealed before a rotation (no prefix: key 1's format, or
    "<n>:") still opens once the rotation has made a newer key, by the
    key it names; a new seal names the newest key."""
    p = new_person(region="630100")
    pid = person_row_id(p["id_number"])
    old = sql("SELECT phone_enc FROM persons WHERE id = %s", pid)[0][0]
    kold = current_key()
    assert (":" in old) == (kold > 1)
    rotate()
    new = sql("SELECT phone_enc FROM persons WHERE id = %s", pid)[0][0]
    assert new.startswith("%d:" % current_key()) and new != old
    for v in (old, new):
        assert ctl("identity", "open", "phone", v).stdout.strip() == \
            p["phone"]
    # A new person is sealed under the newest key by the worker.
    q = new_person(region="630100")
    enc = sql("SELECT id_number_enc FROM persons WHERE id_number_hmac ="
              " '%s'", id_hmac(q["id_number"]))[0][0]
    assert enc.startswith("%d:" % current_key()), enc


def test_retire_refuses_early_and_while_used_then_removes_the_key():
    """identity retire data: refuses the current key, any key while the
    current one is younger than the grace, and a key some value still
    uses (put back by SQL here: a worker's write during a rotation);
    `identity reseal` takes that value, then retire removes the file and
    every value still opens.  Key 1 (data.key) retires like any other."""
    p = new_person(region="630100")
    pid = person_row_id(p["id_number"])
    old = sql("SELECT phone_enc FROM persons WHERE id = %s", pid)[0][0]
    kold = current_key()
    knew = rotate()["key"]
    cp = ctl("identity", "retire", "data", str(knew), check=False)
    assert cp.returncode == 2 and "current key" in cp.stderr
    cp = ctl("identity", "retire", "data", str(kold), check=False)
    assert cp.returncode == 2 and "younger than" in cp.stderr
    age_key(knew)
    sql("UPDATE persons SET phone_enc = '%s' WHERE id = %s", old, pid)
    cp = ctl("identity", "retire", "data", str(kold), check=False)
    assert cp.returncode == 2 and "still sealed" in cp.stderr, cp.stderr
    assert json.loads(ctl("identity", "reseal").stdout)["resealed"] == 1
    # Every older key goes, key 1 (data.key) too.
    for n in range(1, knew):
        if os.path.exists(key_file(n)):
            out = json.loads(ctl("identity", "retire", "data",
                                 str(n)).stdout)
            assert out == {"key": knew, "retired": n}
            assert not os.path.exists(key_file(n))
    assert not os.path.exists(key_file(1))
    cp = ctl("identity", "retire", "data", "1", check=False)
    assert cp.returncode == 2 and "no data key" in cp.stderr
    assert identity_of(pid) == (p["id_number"], p["phone"])
    assert insured_login(p)["token"]
    for bad in (("retire", "data", "x"), ("retire", "data", "0"),
                ("rotate", "lookup"), ("rotate",), ("rotate", "data", "-b"),
                ("reseal", "--batch", "0")):
        assert ctl("identity", *bad, check=False).returncode == 2, bad


def test_a_missing_or_wrong_key_is_a_503_never_garbage():
    """An application whose sealed contact phone names a data key the
    workers do not have, or opens under the wrong key (its prefix cut to
    another key's number), is a 503 service_unavailable to its owner,
    never a wrong phone; mtcertctl refuses to open it (1); reseal stops
    at the missing key's value, naming it (exit 1)."""
    p = new_person(region="630100")
    app = file_by_hospital(p, contact="13912345678")
    tok = insured_login(p)["token"]
    assert api("GET", "/applications/%s" % app["id"],
               headers=bearer(tok)).status_code == 200
    good = sql("SELECT phone_enc FROM applications WHERE id = %s",
               app["id"])[0][0]
    body = good.split(":", 1)[-1]
    rotate()                            # so that key 1 is not current
    try:
        for bad in ("%d:%s" % (current_key() + 7, body),      # missing key
                    "%d:%s" % (current_key(), body)):         # wrong key
            sql("UPDATE applications SET phone_enc = '%s' WHERE id = %s",
                bad, app["id"])
            r = api("GET", "/applications/%s" % app["id"],
                    headers=bearer(tok))
            assert_error(r, 503, "service_unavailable")
            assert "13912345678" not in r.text
            assert ctl("identity", "open", "phone", bad,
                       check=False).returncode == 1
            if bad.startswith("%d:" % current_key()):
                continue            # on the current key: reseal leaves it
            cp = ctl("identity", "reseal", check=False)
            assert cp.returncode == 1 and "applications.phone_enc" in \
                cp.stderr and "row %s " % app["id"] in cp.stderr, \
                cp.stderr
    finally:
        sql("UPDATE applications SET phone_enc = '%s' WHERE id = %s",
            good, app["id"])
    ctl("identity", "reseal")
    assert api("GET", "/applications/%s" % app["id"],
               headers=bearer(tok)).status_code == 200
    assert set(keys_in_use()) == {current_key()}


def test_the_sealed_columns_are_listed_once_in_sql_and_in_c():
    """Every *_enc column of the database is in the identity_sealed view
    (what retire counts) and in mtcertctl's identity_sealed[] (what
    rotate re-seals)."""
    cols = sql("SELECT table_name, column_name FROM information_schema"
               ".columns WHERE table_schema = 'public' AND column_name"
               " LIKE '%%\\_enc' AND table_name IN (SELECT table_name"
               " FROM information_schema.tables WHERE table_type ="
               " 'BASE TABLE')")
    assert len(cols) == 9, cols
    view = sql("SELECT replace(pg_get_viewdef('identity_sealed'), E'\\n',"
               " ' ')")[0][0]
    src = open(os.path.join(os.path.dirname(__file__), "..", "..",
                            "modules", "ctl", "mtcertctl.c")).read()
    for t, c in cols:
        assert "'%s.%s'" % (t, c) in view, (t, c)
        assert '"%s.%s" }' % (t, c) in src, (t, c)
