"""Behind a proxy or load balancer (docs/operations.md, "Rate limits
behind a proxy").

Two more nginx of the stack (shared/stack.sh nginx-extra), each with its
own limit zones: one trusting 127.0.0.1 as a proxy
(MTCERT_TRUSTED_PROXIES), one trusting nobody.  Behind the trusted proxy
two clients named by X-Forwarded-For have a limit each; without it the
header is anyone's to write, so it is ignored and both share the
connecting address's limit.  X-Forwarded-Proto: https is believed from the
trusted proxy only (the session cookie then Secure).
"""
import pytest

from conftest import DEMO_PASSWORD, checked
from test_tls import extra_nginx, stop_nginx

A, B = "203.0.113.10", "203.0.113.20"    # documentation addresses


@pytest.fixture(scope="module")
def nginxes():
    trusted = extra_nginx("proxy", MTCERT_TRUSTED_PROXIES="127.0.0.1",
                          MTCERT_TLS_PORT="")
    try:
        plain = extra_nginx("noproxy", MTCERT_TRUSTED_PROXIES="",
                            MTCERT_TLS_PORT="")
    except Exception:
        stop_nginx("proxy")
        raise
    yield ("http://127.0.0.1:%d/api/v1" % trusted,
           "http://127.0.0.1:%d/api/v1" % plain)
    stop_nginx("proxy")
    stop_nginx("noproxy")


def sms(base, client):
    """One SMS-code request said to be from client (an empty body: the
    module refuses it, 400; nginx's limit, zone sms, counts it first)."""
    with checked() as s:
        return s.post(base + "/auth/sms-code", json={},
                      headers={"X-Forwarded-For": client}).status_code


def until_limited(base, client):
    """Requests from client until nginx answers 429; how many passed."""
    for n in range(50):
        if sms(base, client) == 429:
            return n
    raise AssertionError("never limited")


def test_trusted_proxy_two_clients_two_limits(nginxes):
    trusted = nginxes[0]
    passed = until_limited(trusted, A)
    assert passed >= 1
    assert sms(trusted, A) == 429
    # B is another client: its own limit, untouched by A's.
    assert sms(trusted, B) != 429


def test_untrusted_forwarded_for_is_ignored(nginxes):
    plain = nginxes[1]
    until_limited(plain, A)
    # The header would let anyone pick a fresh address per request: it is
    # ignored, B is the same connecting address, already limited.
    assert sms(plain, B) == 429


def sign_in(base, proto):
    with checked() as s:
        r = s.post(base + "/auth/password-login",
                   headers={"X-Forwarded-Proto": proto},
                   json={"login": "admin", "password": DEMO_PASSWORD["admin"]})
    assert r.status_code == 200, r.text
    return r


def test_forwarded_proto_believed_from_the_trusted_proxy_only(nginxes):
    r = sign_in(nginxes[0], "https")
    assert "; Secure" in r.headers["Set-Cookie"]
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
    r = sign_in(nginxes[0], "http")
    assert "Secure" not in r.headers["Set-Cookie"]
    r = sign_in(nginxes[1], "https")
    assert "Secure" not in r.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in r.headers
