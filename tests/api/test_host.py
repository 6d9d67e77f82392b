"""The FastCGI host's checks before any handler runs, its error envelope,
its close behaviour and its log (issue 2 item 3)."""
import concurrent.futures
import glob
import json
import os
import random
import re
import signal
import time
import uuid

import requests

from conftest import (API, HANG, PNG, ROOT, URL, VAR, api, assert_error, bearer, checked,
                      client, draft, insured_login, login, new_person, stack, upload,
                      wait_for)
from contract import SPEC
from test_openapi import documented


def test_unknown_path_404_envelope():
    assert_error(api("GET", "/nothing-here"), 404, "not_found")
    # Inside a module's prefix but not a route of it: the host's 404.
    assert_error(api("GET", "/diseases/D001/extra"), 404, "not_found")
    assert_error(api("GET", "/agency/none"), 404, "not_found")


def test_method_not_allowed_405_with_allow():
    r = api("DELETE", "/diseases/D001")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET"
    r = api("GET", "/auth/password-login")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "POST"


def test_head_is_get_without_body():
    with checked() as s:
        r = s.head(API + "/diseases/D001")
    assert r.status_code == 200 and r.content == b""


def test_body_too_large_413_host_and_nginx():
    # The login route allows 4 KiB: the host answers 413.
    r = api("POST", "/auth/password-login", data=b"{" + b" " * 5000 + b"}",
            headers={"Content-Type": "application/json"})
    assert_error(r, 413, "body_too_large")
    # Past nginx's 64 KiB default: nginx answers, in the same envelope.
    r = api("POST", "/auth/password-login", data=b"x" * 70000,
            headers={"Content-Type": "application/json"})
    assert_error(r, 413, "body_too_large")


def test_wrong_media_type_415():
    r = api("POST", "/auth/password-login", data="login=a&password=b",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415, "unsupported_media_type")


def test_malformed_json_400():
    for body in (b"{", b'{"login": "admin",}', b"[1,2]", b'"str"',
                 b'{"login":"admin"} trailing', b"{'login': 'x'}", b"nul"):
        r = api("POST", "/auth/password-login", data=body,
                headers={"Content-Type": "application/json"})
        assert_error(r, 400, "malformed_json")


def test_invalid_utf8_400():
    r = api("POST", "/auth/password-login",
            data=b'{"login":"\xff\xfe","password":"x"}',
            headers={"Content-Type": "application/json; charset=utf-8"})
    assert_error(r, 400, "invalid_utf8")


def test_field_errors_name_the_field():
    assert_error(api("POST", "/auth/password-login", json={"password": "x"}),
                 400, "field_required", "login")
    assert_error(api("POST", "/auth/password-login", json={"login": "admin"}),
                 400, "field_required", "password")
    assert_error(api("POST", "/auth/password-login",
                     json={"login": 12, "password": "x"}),
                 400, "field_invalid", "login")
    assert_error(api("POST", "/auth/password-login",
                     json={"login": "a b", "password": "x"}),
                 400, "field_invalid", "login")
    assert_error(api("POST", "/auth/password-login",
                     json={"login": "admin", "password": "x" * 129}),
                 400, "field_invalid", "password")


def test_401_without_or_with_bogus_session():
    assert_error(api("GET", "/me"), 401, "unauthenticated")
    assert_error(api("GET", "/me", headers=bearer("0" * 64)), 401,
                 "unauthenticated")
    assert_error(api("GET", "/me", headers=bearer("not-a-token")), 401,
                 "unauthenticated")
    assert_error(api("GET", "/me", cookies={"mtcert_session": "z" * 64}), 401,
                 "unauthenticated")


def test_403_wrong_role():
    tok = login("expert-onc-1")["token"]
    assert_error(api("GET", "/agency/policy", headers=bearer(tok)), 403,
                 "forbidden")


def test_cookie_session_needs_csrf_on_state_change():
    s = client()
    r = s.post(API + "/auth/password-login",
               json={"login": "agency-xining", "password": "mtcert-agency-2026"})
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    assert s.get(API + "/me").status_code == 200      # GET: cookie is enough
    assert_error(s.post(API + "/auth/logout"), 403, "csrf_failed")
    assert_error(s.post(API + "/auth/logout", headers={"X-CSRF-Token": "x" * 64}),
                 403, "csrf_failed")
    assert s.post(API + "/auth/logout",
                  headers={"X-CSRF-Token": csrf}).status_code == 204
    # The other auth worker may keep the session half a second (issue 13).
    time.sleep(1.0)
    assert_error(s.get(API + "/me"), 401, "unauthenticated")


def test_large_post_body_arrives_whole():
    """The host closes at once after reading the whole body (FCGX_Detach);
    a 60 KiB JSON body must still be parsed whole: a cut body would be
    malformed JSON."""
    tok = login("agency-sanmenxia")["token"]
    pad = "数" * 20000                    # 60,000 bytes of UTF-8
    r = api("POST", "/auth/logout", headers=bearer(tok),
            data=json.dumps({"pad": pad}, ensure_ascii=False).encode())
    # No Content-Type: 415 proves the host looked; then the real thing.
    assert_error(r, 415, "unsupported_media_type")
    body = json.dumps({"pad": pad, "end": True}, ensure_ascii=False).encode()
    assert len(body) > 60000
    r = api("POST", "/auth/logout", data=body,
            headers=dict(bearer(tok), **{"Content-Type": "application/json"}))
    # Parsed whole (a cut body is malformed_json), then its first member
    # named as one the route does not take (issue 9 A9).
    assert_error(r, 400, "unknown_field", "pad")


def test_responses_never_cut_under_concurrency():
    whole = api("GET", "/diseases").content
    assert len(whole) > 20000

    def fetch(i):
        # Half plain (Content-Length must match), half gzip (chunked).
        enc = "identity" if i % 2 else "gzip"
        with checked() as s:
            r = s.get(API + "/diseases", headers={"Accept-Encoding": enc})
        cl = r.headers.get("Content-Length")
        return (r.status_code, r.content == whole,
                cl == str(len(whole)) if enc == "identity" else True)

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        results = list(ex.map(fetch, range(400)))
    assert set(results) == {(200, True, True)}


def test_one_log_line_per_request_without_personal_data():
    secret = "Secret-Pass-937"
    r = api("POST", "/auth/password-login",
            json={"login": "nobody-logged", "password": secret})
    rid = r.headers["X-Request-Id"]
    log = open(os.path.join(VAR, "log", "auth.log"), encoding="utf-8").read()
    lines = [l for l in log.splitlines() if "rid=" + rid in l]
    assert len(lines) == 1, lines
    assert re.search(r"POST /auth/password-login status=401 ms=[0-9.]+$", lines[0])
    assert secret not in log and "nobody-logged" not in log


def test_login_rate_limited_per_address_429():
    """nginx's limit_req zone for sign-in: a burst from one address gets
    429 in the envelope with Retry-After, another address is unaffected.
    (An empty body fails fast in the host: only nginx can say 429.)"""
    src = "127.9.%d.9" % (os.getpid() % 250)
    codes = [api("POST", "/auth/password-login", source=src,
                 json={}).status_code for _ in range(12)]
    assert codes.count(400) >= 1 and codes[-1] == 429, codes
    r = api("POST", "/auth/password-login", source=src, json={})
    assert_error(r, 429, "rate_limited")
    assert r.headers["Retry-After"] == "60"
    assert api("POST", "/auth/password-login", json={}).status_code == 400


def test_portal_static_files_revalidate_and_forbid_inline_scripts():
    """The portal (web/) is served by nginx with the security headers,
    revalidated on every load (a fixed file reaches browsers at once)."""
    r = requests.get(URL + "/", timeout=HANG)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert '<html lang="zh-CN">' in r.text
    assert r.headers["Cache-Control"] == "no-cache"
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["X-Frame-Options"] == "DENY"
    js = requests.get(URL + "/js/app.js", timeout=HANG)
    assert js.status_code == 200
    assert js.headers["Content-Type"].startswith("application/javascript")
    again = requests.get(URL + "/js/app.js", timeout=HANG,
                         headers={"If-None-Match": js.headers["ETag"]})
    assert again.status_code == 304


def error_log_size():
    return os.path.getsize(os.path.join(VAR, "log", "nginx-error.log"))


def error_log_since(offset):
    with open(os.path.join(VAR, "log", "nginx-error.log"),
              encoding="utf-8", errors="replace") as f:
        f.seek(offset)
        return f.read()


def test_planned_operations_answer_501_without_retry_after():
    """Every operation the contract marks planned answers 501
    not_implemented, no Retry-After, no [crit] line in nginx's log (issue
    9 A7; before: 503 with Retry-After: 5 and a [crit] per call for the
    benefit and hospital paths, 404/405 from the running modules)."""
    planned = sorted(documented("planned"))
    assert documented("implemented"), "the contract was not read"
    if not planned:
        # Issue 12 built the last planned operation: then nginx must
        # answer 501 for nothing either (a leftover location would hide a
        # built operation behind 501).
        with open(os.path.join(ROOT, "nginx", "mtcert.conf.in")) as f:
            live = [line for line in f if "not-implemented.conf" in line
                    and not line.lstrip().startswith("#")]
        assert live == [], live
        return
    since = error_log_size()
    tok = login("admin")["token"]
    for method, path in planned:
        url = re.sub(r"\{[^}]+\}", "1", path)
        r = api(method.upper(), url, headers=bearer(tok))
        assert_error(r, 501, "not_implemented")
        assert "Retry-After" not in r.headers, (method, path)
        assert r.headers.get("X-Frame-Options") == "DENY", (method, path)
        assert SPEC["paths"][path][method]["responses"]["501"], (method, path)
    # The implemented neighbours still reach their modules.
    assert api("POST", "/hospital/applications", json={}).status_code == 401
    assert api("GET", "/agency/applications").status_code == 401
    assert "[crit]" not in error_log_since(since)


def test_no_query_string_in_any_log():
    """Personal data a careless client puts in a URL stays out of every
    log: nginx's 413 and 429 and a body buffered to a file logged the
    whole request line, query included (issue 9 A12)."""
    secret = "411200" + uuid.uuid4().hex[:12]
    query = "?id_number=" + secret
    r = api("POST", "/auth/password-login" + query, data=b"x" * 70000,
            headers={"Content-Type": "application/json"})
    assert_error(r, 413, "body_too_large")
    src = "127.8.%d.%d" % (os.getpid() % 250, random.randint(1, 250))
    codes = [api("POST", "/auth/password-login" + query, source=src,
                 json={}).status_code for _ in range(12)]
    assert codes[-1] == 429, codes
    # Past nginx's in-memory body buffer: written to a temporary file.
    r = api("POST", "/applications/1/materials" + query, data=b"x" * 300000,
            headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 401, r.text
    # The access log is flushed in order: once this request is in it, so
    # are the ones above.
    rid = api("GET", "/diseases/D001" + query).headers["X-Request-Id"]
    access = os.path.join(VAR, "log", "nginx-access.log")
    assert wait_for(lambda: "rid=" + rid in open(access).read(), 30)
    for path in glob.glob(os.path.join(VAR, "log", "*")):
        with open(path, encoding="utf-8", errors="replace") as f:
            assert secret not in f.read(), path


def test_stored_file_has_request_id_and_416_is_the_envelope():
    """A material's file (decrypted and streamed by apply since issue 15)
    carries the request's X-Request-Id; a Range past its end is 416 in the error envelope, not
    nginx's HTML page, with Content-Range (issue 9 A14)."""
    tok = insured_login(new_person())["token"]
    app = draft(tok)
    mid = upload(tok, app["id"], "inpatient_record").json()["id"]
    r = api("GET", "/materials/%s" % mid, headers=bearer(tok))
    assert r.status_code == 200 and r.content == PNG
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-Id"]), r.headers
    r = api("GET", "/materials/%s" % mid,
            headers=dict(bearer(tok), Range="bytes=1000000-"))
    assert_error(r, 416, "range_not_satisfiable")
    assert r.headers["Content-Range"] == "bytes */%d" % len(PNG)
    assert r.headers["X-Request-Id"] and "private" in r.headers["Cache-Control"]
    # A portal file too (not gzipped: nginx ignores Range on gzip).
    r = requests.get(URL + "/index.html", timeout=HANG, headers={
        "Range": "bytes=999999-", "Accept-Encoding": "identity"})
    assert_error(r, 416, "range_not_satisfiable")
    assert r.headers["X-Frame-Options"] == "DENY"


def test_nginx_503_for_a_stopped_pool_is_never_cached():
    """/health's 503 from nginx (the catalog pool is not running) says
    Cache-Control: no-store like the module's own 503 (issue 9 A14)."""
    pidfile = os.path.join(VAR, "pids", "catalog.pid")
    sock = os.path.join(VAR, "run", "fcgi", "catalog.sock")
    os.kill(int(open(pidfile).read()), signal.SIGTERM)
    try:
        assert wait_for(lambda: not os.path.exists(sock), 30)
        r = api("GET", "/health")
        assert_error(r, 503, "service_unavailable")
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Retry-After"] == "5"
    finally:
        stack("modules-start")
    assert wait_for(lambda: api("GET", "/health").status_code == 200, 30)


def test_contract_declares_405_413_415_the_host_answers():
    """The host answers 405 on any path for a method it does not list,
    and 413/415 on every route with a body: the contract says so on each
    implemented operation (issue 9 A14: PUT /agency/policy answered 413
    and 415 undeclared; 405 was declared nowhere)."""
    tok = login("admin")["token"]
    for ctype, data, status in (
            ("application/json", b"{" + b" " * 70000 + b"}", 413),
            ("application/x-www-form-urlencoded", b"a=b", 415)):
        r = api("PUT", "/agency/policy", params={"region": "411200"},
                data=data, headers=dict(bearer(tok), **{"Content-Type": ctype}))
        assert r.status_code == status, r.text
    for method, path in documented("implemented"):
        op = SPEC["paths"][path][method]
        assert "405" in op["responses"], (method, path)
        if "requestBody" in op:
            assert {"413", "415"} <= set(op["responses"]), (method, path)


def test_group_field_of_the_wrong_type_is_400_naming_it():
    """A group field ("agent") sent as a string, number or array is refused
    400 field_invalid naming it, on create and on patch, instead of being
    skipped with its data lost; null still means absent."""
    p = new_person()
    tok = insured_login(p)["token"]
    base = {"disease_code": "D013", "phone": p["phone"],
            "medical_record_no": "G1", "designated_institution": "H41120000001"}
    for bad in ("张三", 5, ["张三"], True):
        err = assert_error(api("POST", "/applications", headers=bearer(tok),
                               json=dict(base, agent=bad)),
                           400, "field_invalid", "agent")
        assert "agent" in err["message"]
    assert api("GET", "/applications", headers=bearer(tok)).json()["items"] \
        == []
    agent = {"name": "李代办", "id_number": "140100197107210154",
             "relation": "子女", "phone": "13900000001"}
    app = draft(tok, agent=agent)
    assert_error(api("PATCH", "/applications/%s" % app["id"],
                     headers=bearer(tok), json={"agent": "张三"}),
                 400, "field_invalid", "agent")
    r = api("GET", "/applications/%s" % app["id"], headers=bearer(tok))
    assert r.json()["agent"]["name"] == "李代办"
