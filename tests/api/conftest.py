"""Shared fixtures for the API tests.

The tests talk HTTP to nginx of a throwaway stack started by tests/run.sh
(MTCERT_URL, MTCERT_VAR, MTCERT_ROOT).  Nothing is mocked: PostgreSQL,
Redis, nginx and the mtcert-host worker pools are the real ones.
"""
import os
import random
import subprocess
import time
import uuid

import pytest
import requests

URL = os.environ.get("MTCERT_URL", "http://127.0.0.1:8080")
VAR = os.environ.get("MTCERT_VAR", "")
ROOT = os.environ.get("MTCERT_ROOT", os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..")))
API = URL + "/api/v1"
CTL = os.path.join(os.environ.get("MTCERT_BUILD", os.path.join(ROOT, "build")),
                   "bin", "mtcertctl")

DEMO_PASSWORD = {
    "admin": "mtcert-admin-2026",
    "agency-sanmenxia": "mtcert-agency-2026",
    "agency-xining": "mtcert-agency-2026",
    "hospital-qhph": "mtcert-hospital-2026",
    "expert-onc-1": "mtcert-expert-2026",
}


class _SourceAdapter(requests.adapters.HTTPAdapter):
    """Connects from a chosen loopback address (127.x.y.z)."""

    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*a, **kw)


def client(source=None):
    """A session from its own loopback address: nginx rate-limits sign-in
    per client address, so tests that are not about the limit each come
    from a fresh address, and the rate-limit test from a fixed one."""
    if source is None:
        source = "127.%d.%d.%d" % (random.randint(1, 254),
                                   random.randint(0, 255),
                                   random.randint(1, 254))
    s = requests.Session()
    s.mount("http://", _SourceAdapter(source))
    return s


def api(method, path, source=None, **kw):
    kw.setdefault("timeout", 10)
    with client(source) as s:
        return s.request(method, API + path, **kw)


def assert_error(r, status, code, field=None):
    """The error envelope with a Chinese message a person can read."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    err = r.json()["error"]
    assert err["code"] == code, err
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"]), err
    if field is not None:
        assert err.get("field") == field, err
    return err


def ctl(*args, check=True):
    """Run mtcertctl against the test stack's config."""
    cp = subprocess.run([CTL, "--config", os.path.join(VAR, "mtcert.conf"),
                         *args], capture_output=True, text=True, timeout=60)
    if check:
        assert cp.returncode == 0, (cp.returncode, cp.stdout, cp.stderr)
    return cp


def stack(*args):
    subprocess.run([os.path.join(ROOT, "shared", "stack.sh"), *args],
                   check=True, timeout=120, capture_output=True)


def login(user, password=None):
    r = api("POST", "/auth/password-login",
            json={"login": user, "password": password or DEMO_PASSWORD[user]})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token):
    return {"Authorization": "Bearer " + token}


def wait_for(pred, timeout=10.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def unique(prefix):
    return prefix + uuid.uuid4().hex[:10]


@pytest.fixture
def admin():
    return login("admin")
