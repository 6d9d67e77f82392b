"""Shared fixtures for the API tests.

The tests talk HTTP to nginx of a throwaway stack started by tests/run.sh
(MTCERT_URL, MTCERT_VAR, MTCERT_ROOT).  Nothing is mocked: PostgreSQL,
Redis, nginx and the mtcert-host worker pools are the real ones.
"""
import contextlib
import datetime
import json
import os
import random
import re
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests

from contract import ROOT, check_answer

URL = os.environ.get("MTCERT_URL", "http://127.0.0.1:8080")
# Seconds before a wait or a request counts as hung.  Never a speed
# target: the tests run on loaded 2-core machines too, so they assert what
# must hold however slow (an outcome, a count), and bound only a hang.
HANG = 60
VAR = os.environ.get("MTCERT_VAR", "")
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


class _ContractAdapter(requests.adapters.HTTPAdapter):
    """Each answer not streamed checked against the contract (_contract);
    a request given no timeout gets HANG's (a hang fails its test, never
    stalls the run)."""

    def send(self, request, timeout=None, **kw):
        r = super().send(request, timeout=HANG if timeout is None
                         else timeout, **kw)
        if not kw.get("stream"):
            _contract(request, r)
        return r


class _SourceAdapter(_ContractAdapter):
    """Connects from a chosen loopback address (127.x.y.z)."""

    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*a, **kw)


def _contract(request, r):
    """Every answer of the API under /api/v1 that a client() or checked()
    session or api() gets, unless streamed, against docs/openapi.yaml
    (contract.check_answer): the request that got an answer the contract
    does not describe fails (in a thread of a load test, the thread's
    own handling decides)."""
    path = urllib.parse.urlsplit(request.url).path
    if not path.startswith("/api/v1/"):
        return
    wrong = check_answer(request.method, path[len("/api/v1"):], r.status_code,
                         r.headers.get("Content-Type", ""), r.content)
    assert wrong is None, "the contract (docs/openapi.yaml): %s; %d %s" % (
        wrong, r.status_code, r.text[:300])


def loopback_address():
    """A random loopback address (127.x.y.z) to connect from: nginx sees
    it as the client's address (REMOTE_ADDR)."""
    return "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255),
                             random.randint(1, 254))


def client(source=None):
    """A session from its own loopback address: nginx rate-limits sign-in
    per client address, so tests that are not about the limit each come
    from a fresh address, and the rate-limit test from a fixed one."""
    if source is None:
        source = loopback_address()
    s = requests.Session()
    s.mount("http://", _SourceAdapter(source))
    return s


def checked():
    """A session whose answers are checked as client()'s are, connecting
    from the system's choice of address, over HTTP or HTTPS: for a test of
    another nginx (a trusted proxy's, the TLS port) or of the connecting
    address itself, with any URL."""
    s, adapter = requests.Session(), _ContractAdapter()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def api(method, path, source=None, **kw):
    kw.setdefault("timeout", HANG)
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


@contextlib.contextmanager
def policy(region, key, value):
    """The region's policy key set to value (through mtcertctl) for the
    with-block, then back to what it was."""
    before = re.search(r"^%s=(.*)$" % key, ctl("policy", "get", region).stdout,
                       re.M).group(1)
    ctl("policy", "set", region, key, value)
    try:
        yield
    finally:
        ctl("policy", "set", region, key, before)


@contextlib.contextmanager
def held(statement):
    """statement (a lock: LOCK TABLE ..., SELECT ... FOR UPDATE) run in a
    transaction of its own session, held for the with-block: entered once
    that session holds it (sleeping after it), left after it is cancelled
    and gone.  For a test that must see the service while something is
    held up, whatever the machine's speed."""
    name = unique("mtcert-hold-")
    psql = subprocess.Popen(
        ["psql", "-h", os.path.join(VAR, "run", "pg"), "-p", PG_PORT,
         "-U", "mtcert", "-d", "mtcert", "-qAtX", "-c",
         "BEGIN; %s; SELECT pg_sleep(%d)" % (statement, 3 * HANG)],
        env=dict(os.environ, PGAPPNAME=name),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name"
            " = '%s' AND wait_event = 'PgSleep'", name) == [["1"]])
        yield
    finally:
        sql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = '%s'", name)
        psql.wait(timeout=HANG)


def ctl(*args, check=True, timeout=HANG):
    """Run mtcertctl against the test stack's config (a hang bound of
    timeout seconds: a job whose work grows with the database, as a key
    rotation's, passes a larger one)."""
    cp = subprocess.run([CTL, "--config", os.path.join(VAR, "mtcert.conf"),
                         *args], capture_output=True, text=True,
                        timeout=timeout)
    if check:
        assert cp.returncode == 0, (cp.returncode, cp.stdout, cp.stderr)
    return cp


def stack(*args):
    subprocess.run([os.path.join(ROOT, "shared", "stack.sh"), *args],
                   check=True, timeout=120, capture_output=True)


def stack_config():
    """The stack's generated mtcert.conf as a dict of its keys and values
    ({} when no stack directory is named)."""
    out = {}
    if not VAR:
        return out
    with open(os.path.join(VAR, "mtcert.conf"), encoding="utf-8") as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
    return out


def redis(*args):
    """One redis-cli command on the stack's own Redis (its unix socket);
    the reply as text."""
    sock = os.path.join(VAR, "run", "redis", "redis.sock")
    return subprocess.run(["redis-cli", "-s", sock, *args], capture_output=True,
                          text=True, timeout=HANG, check=True).stdout.strip()


def workers(module):
    """PIDs of the module's workers (children of its mtcert-host), sorted:
    equal before and after a fault means no worker was restarted."""
    master = int(open(os.path.join(VAR, "pids", module + ".pid")).read())
    kids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % pid).read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            kids.append(int(pid))
    return sorted(kids)


def login(user, password=None):
    r = api("POST", "/auth/password-login",
            json={"login": user, "password": password or DEMO_PASSWORD[user]})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token):
    return {"Authorization": "Bearer " + token}


def wait_for(pred, timeout=HANG, step=0.05):
    """True once pred() is; False if it is not after timeout seconds (a
    hang bound: it returns as soon as pred holds)."""
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


PG_PORT = os.environ.get("MTCERT_PG_PORT", "5433")


def sql(query, *args):
    """Run one SQL statement on the stack's database; rows as lists of
    strings.  Tests use it to arrange what has no API yet (a qualification)
    and to check what the API must have written (events, access_log)."""
    cp = subprocess.run(
        ["psql", "-h", os.path.join(VAR, "run", "pg"), "-p", PG_PORT,
         "-U", "mtcert", "-d", "mtcert", "-qAtX", "-F", "\t",
         "-v", "ON_ERROR_STOP=1", "-c", query % tuple(args)],
        capture_output=True, text=True, timeout=HANG)
    assert cp.returncode == 0, cp.stderr
    return [line.split("\t") for line in cp.stdout.splitlines() if line]


def seed_of_another_choice(draw_id):
    """A seed (hex) for the recorded draw draw_id with which the rule
    (draw_chosen) chooses otherwise from the same pool: the first of
    sha256(seed || i), i = 1, 2, ...  A fixed other seed chooses the same
    by chance (1 in 4 for 1 of 4, 1 in 120 for 5 of 5 in some order), and
    a test altering the seed must make the verifier recompute, not agree
    by luck."""
    rows = sql("SELECT encode(s, 'hex') FROM draws d, LATERAL"
               " (SELECT i, sha256(d.seed || int4send(i)) AS s"
               "  FROM generate_series(1, 100) i) t"
               " WHERE d.id = %s AND draw_chosen(s, d.pool, d.k)"
               " <> d.chosen ORDER BY i LIMIT 1", draw_id)
    assert rows, "draw %s: every derived seed chooses the same" % draw_id
    return rows[0][0]


def today():
    """The service's today (cn_today(), China time) as a date."""
    return datetime.date.fromisoformat(sql("SELECT cn_today()")[0][0])


def id_number(region, birth="19600101", seq=None):
    """A GB 11643 ID number with a correct check digit."""
    seq = seq if seq is not None else random.randint(100, 999)
    body = "%s%s%03d" % (region, birth, seq)
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * x for c, x in zip(body, w)) % 11]


def id_hmac(number):
    """The lookup HMAC the database keeps of an ID number
    (persons.id_number_hmac; shared/mt_identity.h): tests find a person
    by it, as the service does."""
    return ctl("identity", "hmac", "id_number", number).stdout.strip()


def id_numbers_held(numbers):
    """The ones of numbers some person already holds (sealed or plain):
    their HMACs from one mtcertctl run, not one run each."""
    numbers = list(numbers)
    if not numbers:
        return set()
    macs = dict(zip(ctl("identity", "hmac", "id_number",
                        *numbers).stdout.split(), numbers))
    assert len(macs) == len(numbers), "one HMAC a number"
    held = {macs[r[0]] for r in sql(
        "SELECT id_number_hmac FROM persons WHERE id_number_hmac IN (%s)" %
        ",".join("'%s'" % m for m in macs))}
    held |= {r[0] for r in sql(
        "SELECT id_number FROM persons WHERE id_number IN (%s)" %
        ",".join("'%s'" % n for n in numbers))}
    return held


def phone_hmac(phone):
    """The lookup HMAC of a phone (persons.phone_hmac)."""
    return ctl("identity", "hmac", "phone", phone).stdout.strip()


def person_row_id(number):
    """persons.id of the person of this ID number."""
    return sql("SELECT id FROM persons WHERE id_number_hmac = '%s'",
               id_hmac(number))[0][0]


def app_phone(app_id):
    """The contact phone of application app_id, opened by mtcertctl
    (044_identity_rest.sql keeps it sealed; a row a test writes plain by
    SQL keeps it plain)."""
    plain, enc = sql("SELECT coalesce(phone, ''), coalesce(phone_enc, '')"
                     " FROM applications WHERE id = %s", app_id)[0]
    return plain or ctl("identity", "open", "phone", enc).stdout.strip()


def identity_of(person_id):
    """(ID number, phone) of persons.id, opened by mtcertctl (the
    database holds them sealed)."""
    return tuple(ctl("identity", "show", str(person_id)).stdout.split())


def new_person(region="411200", name="测试人"):
    """A fresh insured person in the registry (own phone: SMS limits are
    per phone)."""
    while True:
        person = {"id_number": id_number(region, "19%02d0%d1%d" % (
                      random.randint(40, 89), random.randint(1, 9),
                      random.randint(0, 9))),
                  "phone": "139%08d" % random.randint(0, 99999999),
                  "name": name, "region": region}
        if not sql("SELECT 1 FROM persons WHERE id_number_hmac = '%s'"
                   " OR phone_hmac = '%s'", id_hmac(person["id_number"]),
                   phone_hmac(person["phone"])):
            break
    ctl("person", "add", "--id-number", person["id_number"], "--name", name,
        "--phone", person["phone"], "--region", region,
        "--insurance", "resident")
    return person


def sms_lines(phone):
    path = os.path.join(VAR, "sms.log")
    out = []
    for line in open(path, encoding="utf-8").read().splitlines():
        msg = json.loads(line)
        if msg["to"] == phone:
            out.append(msg)
    return out


def wait_sms(phone, count, timeout=HANG):
    """The phone's messages once at least count have been sent."""
    assert wait_for(lambda: len(sms_lines(phone)) >= count, timeout), \
        sms_lines(phone)
    return sms_lines(phone)


def request_code(phone):
    """Ask for an SMS code and read it from the development SMS log (other
    messages to the phone, sent meanwhile, are skipped)."""
    def codes():
        return [m for m in sms_lines(phone) if m["template"] == "login_code"]
    before = len(codes())
    r = api("POST", "/auth/sms-code", json={"phone": phone})
    assert r.status_code == 204, r.text
    assert wait_for(lambda: len(codes()) > before), sms_lines(phone)
    return re.search(r"验证码为(\d{6})", codes()[-1]["text"]).group(1)


def insured_login(person, session=None):
    code = request_code(person["phone"])
    body = {"phone": person["phone"], "code": code,
            "id_number": person["id_number"], "name": person["name"]}
    if session is not None:
        r = session.post(API + "/auth/login", json=body)
    else:
        r = api("POST", "/auth/login", json=body)
    assert r.status_code == 200, r.text
    return r.json()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\x02" * 64
PDF = (b"%PDF-1.4\n" + b"1 0 obj << >> endobj\n" * 4 +
       b"xref\n0 1\n0000000000 65535 f \ntrailer << /Size 1 >>\n"
       b"startxref\n89\n%%EOF\n")


def upload(token, app_id, kind, data=PNG, issued_on=None, issuer="测试医院",
           filename="scan.png", ctype="image/png", headers=None):
    issued_on = issued_on or (datetime.date.today() -
                              datetime.timedelta(days=10)).isoformat()
    h = dict(bearer(token), **(headers or {}))
    return api("POST", "/applications/%s/materials" % app_id, headers=h,
               files={"file": (filename, data, ctype)},
               data={"kind": kind, "issued_on": issued_on, "issuer": issuer})


def draft(token, disease="D013", institution="H41120000001", **extra):
    body = {"disease_code": disease, "phone": "13900000000",
            "medical_record_no": "MR-%d" % random.randint(1, 10**6),
            "designated_institution": institution}
    body.update(extra)
    r = api("POST", "/applications", headers=bearer(token), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def required_kinds(app):
    return [m["kind"] for m in app["missing_materials"]]


def complete(token, app):
    """Upload one file for every missing required material."""
    for kind in required_kinds(app):
        r = upload(token, app["id"], kind)
        assert r.status_code == 201, r.text
    return api("GET", "/applications/%s" % app["id"], headers=bearer(token)).json()


def assert_pages(path, token, ids, **params):
    """A list of three items in ids (in the list's order) pages in twos:
    the first page ends with a next_cursor that leads to the rest, the
    last has none, and without a limit the whole list comes at once."""
    def page(**p):
        r = api("GET", path, headers=bearer(token), params=dict(params, **p))
        assert r.status_code == 200, r.text
        return r.json()
    first = page(limit=2)
    assert [x["id"] for x in first["items"]] == ids[:2]
    assert first["next_cursor"] == str(ids[1])
    rest = page(limit=2, cursor=first["next_cursor"])
    assert [x["id"] for x in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None
    whole = page()
    assert [x["id"] for x in whole["items"]] == ids
    assert whole["next_cursor"] is None


def new_region(window=86400, province="8"):
    """A region of its own (catalog, policies, three certifying
    hospitals A, B, C), so a test controls its expert pool exactly.  Its
    code starts with province (the first 2 digits name the province)."""
    while True:
        code = province + "%0*d" % (6 - len(province),
                                    random.randint(0, 10 ** (6 - len(province)) - 1))
        if not sql("SELECT 1 FROM regions WHERE code = '%s'", code):
            break
    hosp = ["H%s%04d" % (code, i) for i in (1, 2, 3)]
    sql("INSERT INTO regions VALUES ('%s', '测试%s', '测试省')", code, code)
    sql("INSERT INTO region_diseases (region, disease) SELECT '%s', code"
        " FROM diseases", code)
    sql("INSERT INTO policies (region, key, value) SELECT '%s', key, value"
        " FROM policies WHERE region = '411200'", code)
    for h in hosp:
        sql("INSERT INTO institutions (code, name, region, level, ownership,"
            " certifying, source) VALUES ('%s', '测试医院%s', '%s', 3, 'public',"
            " true, 'test')", h, h[-1], code)
        sql("INSERT INTO institution_diseases SELECT '%s', code FROM diseases", h)
    sql("UPDATE policies SET value = '%s' WHERE region = '%s'"
        " AND key = 'accept_window_seconds'", window, code)
    return {"region": code, "hospitals": hosp}


def new_expert(admin_token, institution, specialties, title="副高"):
    user = unique("ex")
    r = api("POST", "/agency/experts", headers=bearer(admin_token), json={
        "login": user, "password": "expert-pass-1", "institution": institution,
        "title": title, "specialties": specialties})
    assert r.status_code == 201, r.text
    body = r.json()
    body["token"] = login(user, "expert-pass-1")["token"]
    return body


def submitted_application(region, disease="D013", hospital_index=0):
    """A person of region with a complete, submitted application whose
    designated hospital is the region's hospital A (index 0)."""
    p = new_person(region=region["region"])
    tok = insured_login(p)["token"]
    app = complete(tok, draft(tok, disease=disease,
                              institution=region["hospitals"][hospital_index]))
    r = api("POST", "/applications/%s/submit" % app["id"], headers=bearer(tok),
            json={"promise": True})
    assert r.status_code == 200, r.text
    return tok, app


def live_assignment(app_id, stage=None, timeout=HANG):
    """The pushed-or-accepted assignment of the application, once there."""
    found = []

    def look():
        rows = sql("SELECT id, expert_id, stage, state, pool_size FROM assignments"
                   " WHERE application_id = %s AND state IN ('pushed', 'accepted')"
                   " %s ORDER BY id DESC", app_id,
                   "" if stage is None else "AND stage = %d" % stage)
        found[:] = rows
        return bool(rows)
    assert wait_for(look, timeout), "no live assignment for %s" % app_id
    r = found[0]
    return {"id": int(r[0]), "expert": int(r[1]), "stage": int(r[2]),
            "state": r[3], "pool": int(r[4])}
