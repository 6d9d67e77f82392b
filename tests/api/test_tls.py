"""TLS with HTTP/2 (nginx/tls.conf.example, docs/operations.md "TLS").

A second nginx of the stack (shared/stack.sh nginx-extra) serves the same
module pools over HTTPS on a spare port, with the self-signed certificate
stack.sh makes with openssl, and plain HTTP on another: HTTP/2 is
negotiated, HSTS comes over TLS only, and the session cookie is Secure
over TLS only.
"""
import os
import socket
import subprocess

import pytest

from conftest import DEMO_PASSWORD, HANG, ROOT, VAR, checked

STACK = os.path.join(ROOT, "shared", "stack.sh")
# The stack's self-signed certificate (for localhost and 127.0.0.1): the
# client checks it, as a browser would a real one.
CERT = os.path.join(VAR, "tls", "cert.pem")


def spare_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def extra_nginx(name, **env):
    """Start nginx-extra NAME with env; its plain port."""
    port = spare_port()
    subprocess.run([STACK, "nginx-extra", name, str(port)], check=True,
                   timeout=HANG, capture_output=True,
                   env=dict(os.environ, **env))
    return port


def stop_nginx(name):
    subprocess.run([STACK, "nginx-extra-stop", name], check=True,
                   timeout=HANG, capture_output=True)


@pytest.fixture(scope="module")
def tls():
    tls_port = spare_port()
    port = extra_nginx("tls", MTCERT_TLS_PORT=str(tls_port),
                       MTCERT_TRUSTED_PROXIES="")
    yield ("https://127.0.0.1:%d/api/v1" % tls_port,
           "http://127.0.0.1:%d/api/v1" % port)
    stop_nginx("tls")


def sign_in(base):
    with checked() as s:
        return s.post(base + "/auth/password-login", verify=CERT,
                      json={"login": "admin",
                            "password": DEMO_PASSWORD["admin"]})


def test_https_negotiates_http2_with_hsts(tls):
    cp = subprocess.run(
        ["curl", "-sk", "--http2", "-D", "-", "-o", "/dev/null",
         "-w", "version=%{http_version}", tls[0] + "/health"],
        capture_output=True, text=True, timeout=HANG, check=True)
    assert "version=2" in cp.stdout, cp.stdout
    head = cp.stdout.lower()
    assert "strict-transport-security: max-age=31536000" in head


def test_only_tls_1_2_and_up():
    # The example config itself: nothing older than TLS 1.2.
    with open(os.path.join(ROOT, "nginx", "tls.conf.example")) as f:
        lines = [l.split("#")[0].split() for l in f]
    proto = next(l for l in lines if l and l[0] == "ssl_protocols")
    assert proto[1:] == ["TLSv1.2", "TLSv1.3;"]


def handshake(url, version):
    """openssl s_client's account of a handshake at exactly version, the
    client willing to use any cipher (SECLEVEL=0): what refuses is the
    server."""
    hostport = url.split("/")[2]
    return subprocess.run(
        ["openssl", "s_client", "-connect", hostport, version,
         "-cipher", "DEFAULT@SECLEVEL=0"], input="", capture_output=True,
        text=True, timeout=HANG).stdout + "\n"


def test_tls_1_1_is_refused_1_2_accepted(tls):
    out = handshake(tls[0], "-tls1_1")
    assert "Cipher is (NONE)" in out
    out = handshake(tls[0], "-tls1_2")
    assert "Cipher is ECDHE-" in out, out


def test_session_cookie_secure_over_tls_only(tls):
    r = sign_in(tls[0])
    assert r.status_code == 200, r.text
    assert "; Secure" in r.headers["Set-Cookie"]
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
    r = sign_in(tls[1])
    assert r.status_code == 200, r.text
    assert "Secure" not in r.headers["Set-Cookie"]
    # Plain HTTP (local use) sends no HSTS: it would be ignored anyway,
    # and would lie about the connection.
    assert "Strict-Transport-Security" not in r.headers


def test_plain_port_unchanged_and_untrusted_forwarded_proto_ignored(tls):
    with checked() as s:
        r = s.post(tls[1] + "/auth/password-login",
                   headers={"X-Forwarded-Proto": "https"},
                   json={"login": "admin", "password": DEMO_PASSWORD["admin"]})
    assert r.status_code == 200, r.text
    # No trusted proxy here: the header is anyone's, so ignored.
    assert "Secure" not in r.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in r.headers
