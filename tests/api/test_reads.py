"""Signed-in reads and the public catalog's cache (issue 13 items 3, 4).

Each worker keeps a session it read from Redis for half a second
(shared/mt_auth.c), so a logout must still hold in every worker within a
second.  nginx keeps the public catalog reads until the end of the second
their data was checked in (nginx/mtcert.conf.in, modules/catalog), so an
agency's edit must show within a second, a signed-in answer is never kept
and never answered from the cache, and an error is never kept.

A cached answer is recognised by its X-Request-Id: the module writes the
id of the request it served, so an answer nginx kept repeats the id of
the request that filled the cache; every other answer has its own."""
import email.utils
import time

from conftest import (HANG, api, bearer, draft, insured_login, new_person,
                      new_region, wait_for, workers)
from test_catalog_admin import region_agency


def date_of(r):
    """The response's Date header as a POSIX second."""
    return email.utils.parsedate_to_datetime(r.headers["Date"]).timestamp()


def test_logout_holds_in_every_worker_within_a_second():
    """A token read through every apply worker (many more reads than
    workers, so each worker has it cached), then logged out: one second
    after the logout answered, every read with it is 401 in every worker,
    and /me too."""
    tok = insured_login(new_person())["token"]
    app = draft(tok)
    reads = 8 * len(workers("apply"))
    for _ in range(reads):
        r = api("GET", "/applications/%s" % app["id"], headers=bearer(tok))
        assert r.status_code == 200, r.text
    r = api("POST", "/auth/logout", headers=bearer(tok))
    assert r.status_code == 204, r.text
    time.sleep(1.0)
    codes = [api("GET", "/applications/%s" % app["id"],
                 headers=bearer(tok)).status_code for _ in range(reads)]
    assert codes == [401] * reads
    assert api("GET", "/me", headers=bearer(tok)).status_code == 401


def test_session_still_works_while_cached():
    """The cache never answers for another token: two people read their
    own applications alternately, each sees only their own (404 for the
    other's)."""
    a, b = (insured_login(new_person())["token"] for _ in range(2))
    app_a, app_b = draft(a), draft(b)
    for _ in range(10):
        assert api("GET", "/applications/%s" % app_a["id"],
                   headers=bearer(a)).status_code == 200
        assert api("GET", "/applications/%s" % app_b["id"],
                   headers=bearer(a)).status_code == 404
        assert api("GET", "/applications/%s" % app_b["id"],
                   headers=bearer(b)).status_code == 200


def catalog_region():
    """A new region: the public catalog knows it at once (a worker that
    lacks it checks its copy again before a 404,
    test_a_new_region_is_read_at_once_through_every_worker)."""
    return new_region()["region"]


def test_a_new_region_is_read_at_once_through_every_worker():
    """Each catalog worker checks its copy once a second; a region made
    just after a worker's check was 404 region_not_found on that worker
    until the next second (the ASan CI run saw it).  Now a miss checks
    again: every worker, each just checked, reads the new region."""
    for _ in range(3):
        # Past nginx's cache (x differs), so every worker checks now.
        for i in range(40):
            assert api("GET", "/diseases", params={
                "region": "411200", "x": i}).status_code == 200
        region = new_region()["region"]
        for i in range(40):
            r = api("GET", "/institutions", params={"region": region,
                                                    "x": i})
            assert r.status_code == 200, r.text
            assert r.json()["items"], r.text


def cached_twice(path, **params):
    """Read path until two answers carry the same X-Request-Id (the
    second from nginx's cache); True once they do (a hang bound)."""
    seen = set()

    def again():
        r = api("GET", path, params=params)
        assert r.status_code == 200, r.text
        rid = r.headers["X-Request-Id"]
        if rid in seen:
            return True
        seen.add(rid)
        return False
    return wait_for(again, timeout=HANG, step=0.01)


def test_every_public_read_named_cached_is_cached():
    """Each public read nginx/mtcert.conf.in's cache location names is
    answered from the cache (an exact-match location of the same URI
    would win over that regex location and bypass the cache)."""
    for path in ("/diseases", "/diseases/D001", "/institutions",
                 "/rejection-reasons", "/cards/keys"):
        assert cached_twice(path), path


def test_catalog_cached_and_never_a_second_behind_an_edit():
    """The public catalog of a region is answered from nginx's cache; the
    agency changes a disease's validity; every read that still shows the
    old value is dated at most one second after the edit's answer (Date
    headers, nginx's clock: not the test's own speed), and the new value
    shows (polled with a hang bound)."""
    region = catalog_region()
    tok = region_agency(region)
    assert cached_twice("/diseases", region=region)
    assert cached_twice("/diseases/D013", region=region)
    r = api("PUT", "/agency/diseases/D013", headers=bearer(tok),
            json={"validity_months": 36})
    assert r.status_code == 200, r.text
    edited = date_of(r)
    stale = []

    def validity(path):
        r = api("GET", path, params={"region": region})
        assert r.status_code == 200, r.text
        d = r.json()
        if "items" in d:
            d = {e["code"]: e for e in d["items"]}["D013"]
        if d["validity_months"] != 36:
            stale.append((path, date_of(r)))
        return d["validity_months"]

    # The one disease, then the whole list (its key last read long
    # before the edit: still never more than a second behind).
    for path in ("/diseases/D013", "/diseases"):
        assert wait_for(lambda: validity(path) == 36, timeout=HANG,
                        step=0.01)
    assert all(d - edited <= 1 for _, d in stale), (edited, stale)


def test_signed_in_answers_never_kept_nor_served_from_cache():
    """With a Bearer token or the session cookie, a catalog read goes to
    the module every time (a new X-Request-Id each), a signed-in answer
    never fills the cache (the next anonymous read has its own id), and
    a cached anonymous answer never goes to a signed-in caller."""
    region = catalog_region()
    person = new_person()
    tok = insured_login(person)["token"]
    path = "/diseases/D001"
    signed = api("GET", path, params={"region": region}, headers=bearer(tok))
    assert signed.status_code == 200, signed.text
    anon = api("GET", path, params={"region": region})
    assert anon.headers["X-Request-Id"] != signed.headers["X-Request-Id"]
    assert cached_twice(path, region=region)
    kept = api("GET", path, params={"region": region}).headers["X-Request-Id"]
    ids = set()
    for h in (bearer(tok), {"Cookie": "mtcert_session=" + tok}):
        for _ in range(5):
            r = api("GET", path, params={"region": region}, headers=h)
            assert r.status_code == 200, r.text
            ids.add(r.headers["X-Request-Id"])
    assert len(ids) == 10 and kept not in ids


def test_errors_not_kept():
    """An unknown disease and an unknown region are answered by the
    module every time (their own X-Request-Id), never from the cache."""
    for path, params in (("/diseases/D999", {}),
                         ("/diseases", {"region": "999999"})):
        rs = [api("GET", path, params=params) for _ in range(5)]
        assert {r.status_code for r in rs} == {404}
        assert len({r.headers["X-Request-Id"] for r in rs}) == 5
