"""Redis that answers but refuses writes (issue 9 A1): out of memory under
`maxmemory` with `noeviction` (the same error path as an AOF that cannot
be written).  Sign-ins answer 503 with the envelope and /health says 503
while it lasts; once memory is back, sign-ins and the sessions made before
work again on the same workers: no connection is left inside a MULTI."""
import contextlib

from conftest import api, assert_error, bearer, login, redis, wait_for, workers


@contextlib.contextmanager
def redis_full():
    """Redis refusing every write (OOM) for the with-block, then its
    memory limit and policy back to what they were."""
    limit = redis("CONFIG", "GET", "maxmemory").split("\n")[1]
    evict = redis("CONFIG", "GET", "maxmemory-policy").split("\n")[1]
    redis("CONFIG", "SET", "maxmemory-policy", "noeviction")
    redis("CONFIG", "SET", "maxmemory", "1")
    try:
        yield
    finally:
        redis("CONFIG", "SET", "maxmemory", limit)
        redis("CONFIG", "SET", "maxmemory-policy", evict)


def test_redis_refusing_writes_503_then_sign_ins_and_sessions_recover():
    before = {m: workers(m) for m in ("auth", "catalog")}
    tok = login("admin")["token"]
    with redis_full():
        # Enough sign-ins that every auth worker meets the refusal.
        for _ in range(8):
            r = api("POST", "/auth/password-login",
                    json={"login": "admin",
                          "password": "mtcert-admin-2026"})
            assert_error(r, 503, "service_unavailable")
            assert "Retry-After" in r.headers
        r = api("GET", "/health")
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["redis"] == "down" and body["postgres"] == "ok", body
        assert body["error"]["code"] == "service_unavailable"
        # A session read may be refused (it slides the expiry, a write)
        # but the session is not lost: never 401.
        assert api("GET", "/me", headers=bearer(tok)).status_code in (200,
                                                                      503)
    assert wait_for(lambda: api("GET", "/health").status_code == 200, 30)
    # Every auth worker signs in again, and the old and new sessions work.
    for _ in range(8):
        new = login("admin")["token"]
        assert api("GET", "/me", headers=bearer(new)).status_code == 200
        assert api("GET", "/me", headers=bearer(tok)).status_code == 200
    assert {m: workers(m) for m in before} == before
