"""Module auth: staff sign-in, sessions, lockout (DESIGN security model)."""
import hashlib
import time

from conftest import (API, api, assert_error, bearer, client, ctl,
                      insured_login, login, new_person, policy, redis,
                      unique)


def test_login_me_logout_bearer():
    body = login("hospital-qhph")
    assert len(body["token"]) == 64 and len(body["csrf_token"]) == 64
    assert body["user"]["role"] == "hospital"
    me = api("GET", "/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["role"] == "hospital"
    assert me.json()["scope"]["institution"] == "H63010200143"
    assert me.json()["scope"]["institution_name"] == "青海省人民医院"
    assert me.headers["Cache-Control"] == "no-store"
    r = api("POST", "/auth/logout", headers=bearer(body["token"]))
    assert r.status_code == 204
    assert_error(api("GET", "/me", headers=bearer(body["token"])), 401,
                 "unauthenticated")


def test_me_gives_a_cookie_session_its_csrf_token_back():
    """The portal keeps the CSRF token in memory only; after a reload it
    reads it from /me.  A bearer session (no CSRF needed) gets none."""
    with client() as s:
        r = s.post(API + "/auth/password-login", timeout=10,
                   json={"login": "admin", "password": "mtcert-admin-2026"})
        csrf = r.json()["csrf_token"]
        me = s.get(API + "/me", timeout=10)
        assert me.status_code == 200 and me.json()["csrf_token"] == csrf
        # ... and it is the one the API checks.
        r = s.post(API + "/auth/logout", timeout=10,
                   headers={"X-CSRF-Token": me.json()["csrf_token"]})
        assert r.status_code == 204
        assert s.get(API + "/me", timeout=10).status_code == 401
    body = login("admin")
    me = api("GET", "/me", headers=bearer(body["token"])).json()
    assert "csrf_token" not in me
    # The idle seconds left, as the sign-in said (the portal warns before).
    assert me["expires_in"] == body["expires_in"] > 0


def test_me_names_the_insured_person():
    p = new_person(name="孙桂芝")
    tok = insured_login(p)["token"]
    me = api("GET", "/me", headers=bearer(tok)).json()
    assert me["role"] == "insured" and me["user"]["display_name"] == "孙桂芝"


def test_cookie_attributes():
    r = api("POST", "/auth/password-login",
            json={"login": "admin", "password": "mtcert-admin-2026"})
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("mtcert_session=" + r.json()["token"])
    for attr in ("HttpOnly", "SameSite=Strict", "Path=/"):
        assert attr in cookie


def test_each_login_gets_a_new_token():
    a = login("admin")["token"]
    b = login("admin")["token"]
    assert a != b
    assert api("GET", "/me", headers=bearer(a)).status_code == 200


def test_wrong_password_and_unknown_login_look_the_same():
    user = unique("same")
    ctl("user", "add", "--role", "agency", "--login", user,
        "--password", "right-password-0", "--region", "411200")
    r1 = api("POST", "/auth/password-login",
             json={"login": user, "password": "wrong-password"})
    r2 = api("POST", "/auth/password-login",
             json={"login": unique("nobody"), "password": "wrong-password"})
    e1 = assert_error(r1, 401, "login_failed")
    e2 = assert_error(r2, 401, "login_failed")
    assert e1 == e2


def test_lockout_after_five_failures():
    user = unique("lock")
    ctl("user", "add", "--role", "agency", "--login", user,
        "--password", "right-password-1", "--region", "411200")
    for _ in range(5):
        assert_error(api("POST", "/auth/password-login",
                         json={"login": user, "password": "wrong"}),
                     401, "login_failed")
    # Locked now: even the right password is refused for 15 minutes.
    r = api("POST", "/auth/password-login",
            json={"login": user, "password": "right-password-1"})
    err = assert_error(r, 429, "account_locked")
    assert 890 <= int(r.headers["Retry-After"]) <= 900
    assert "15分钟" in err["message"]


def test_lock_runs_out_and_the_count_starts_afresh():
    user = unique("relock")
    ctl("user", "add", "--role", "agency", "--login", user,
        "--password", "right-password-4", "--region", "532300")
    with policy("532300", "login_lockout_seconds", "1"):
        for _ in range(5):
            api("POST", "/auth/password-login",
                json={"login": user, "password": "wrong"})
        assert_error(api("POST", "/auth/password-login",
                         json={"login": user, "password": "right-password-4"}),
                     429, "account_locked")
        time.sleep(1.2)
        # One more wrong password after the lock ran out is failure 1 of 5,
        # not an instant new lock.
        assert_error(api("POST", "/auth/password-login",
                         json={"login": user, "password": "wrong"}),
                     401, "login_failed")
        login(user, "right-password-4")


def test_success_resets_failure_count():
    user = unique("reset")
    ctl("user", "add", "--role", "agency", "--login", user,
        "--password", "right-password-2", "--region", "411200")
    for _ in range(4):
        api("POST", "/auth/password-login", json={"login": user, "password": "no"})
    login(user, "right-password-2")
    for _ in range(4):
        api("POST", "/auth/password-login", json={"login": user, "password": "no"})
    login(user, "right-password-2")


def test_session_expires_when_idle():
    """Sessions are stored hashed and die after session_idle_seconds
    (policy, 1800 s by default) without use; each use slides the window."""
    tok = login("agency-xining")["token"]
    key = "sess:" + hashlib.sha256(tok.encode()).hexdigest()
    assert redis("EXISTS", "sess:" + tok) == "0"      # never stored in clear
    assert 1790 <= int(redis("TTL", key)) <= 1800
    redis("EXPIRE", key, "100")
    assert api("GET", "/me", headers=bearer(tok)).status_code == 200
    assert int(redis("TTL", key)) > 1700              # slid back
    redis("PEXPIRE", key, "300")                       # idle time runs out
    time.sleep(0.6)
    assert_error(api("GET", "/me", headers=bearer(tok)), 401, "unauthenticated")


def test_no_session_is_401_before_body_checks():
    """A caller without a session learns nothing about the body."""
    assert_error(api("POST", "/auth/logout", data=b"{broken",
                     headers={"Content-Type": "application/json"}),
                 401, "unauthenticated")
    assert_error(api("POST", "/auth/logout", data=b"a=b",
                     headers={"Content-Type": "text/plain"}),
                 401, "unauthenticated")


def test_unknown_login_locks_like_a_known_one():
    """Neither the answer nor the lock tells which logins exist."""
    known, unknown = unique("known"), unique("ghost")
    ctl("user", "add", "--role", "agency", "--login", known,
        "--password", "right-password-5", "--region", "411200")
    answers = {}
    for user in (known, unknown):
        seq = [api("POST", "/auth/password-login",
                   json={"login": user, "password": "wrong"})
               for _ in range(6)]
        answers[user] = [(r.status_code, r.json()["error"]["code"],
                          r.json()["error"]["message"]) for r in seq]
    assert answers[known] == answers[unknown]
    assert answers[known][-1][:2] == (429, "account_locked")
