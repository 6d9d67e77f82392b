"""Issue 15 item 2: ID numbers and phones of the registry protected in
PostgreSQL (shared/mt_identity.h, sql/043_identity.sql).  persons keeps
each sealed (<col>_enc), as its lookup HMAC (<col>_hmac) and masked
(<col>_masked); sms_outbox keeps a person's phone sealed.  The keys live
in $MTCERT_VAR/keys/identity, outside the database.

sql/044_identity_rest.sql seals the rest the same way: an application's
contact phone and its agent's ID number and phone, a guardian's ID
number, experts' and hospitals' phones; Redis keys SMS codes by the
phone's HMAC (test_a_whole_run_leaves_no_id_number_or_phone_behind)."""

import os
import random
import re
import signal
import stat
import subprocess

from conftest import (CTL, HANG, PG_PORT, VAR, api, assert_error, bearer,
                      complete, ctl, draft, held, id_hmac, id_number,
                      identity_of, insured_login, live_assignment, login,
                      new_person, new_region, phone_hmac, redis, sms_lines,
                      sql, unique, wait_for, wait_sms, workers)
from test_benefit import PSYCH, granted, terminate
from test_review import ONCO, accept, decide

PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump"
HOSPITAL = "hospital-qhph"          # 青海省人民医院, region 630100
INSTITUTION = "H63010200143"


def pg_dump():
    """The whole database as pg_dump writes it (plain SQL, data too)."""
    cp = subprocess.run([PG_DUMP, "-h", os.path.join(VAR, "run", "pg"),
                         "-p", PG_PORT, "-U", "mtcert", "-d", "mtcert"],
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout


def hospital_files(person, contact):
    """A hospital files for person by ID number and name: the response."""
    hosp = login(HOSPITAL)["token"]
    return api("POST", "/hospital/applications", headers=bearer(hosp), json={
        "id_number": person["id_number"], "name": person["name"],
        "disease_code": "D013", "phone": contact,
        "medical_record_no": unique("ID"),
        "designated_institution": INSTITUTION})


def file_by_hospital(person, contact):
    """hospital_files, which must answer 201: the application."""
    r = hospital_files(person, contact)
    assert r.status_code == 201, r.text
    return r.json()


def plain_persons(n, region="630100"):
    """n persons written the way rows from before 043_identity.sql are:
    plain ID number and phone, no sealed columns.  Born 1990-1999 with a
    sequence of their own (new_person's are born 1940-1989)."""
    people = []
    while len(people) < n:
        birth = "199%d0%d1%d" % (random.randint(0, 9), random.randint(1, 9),
                                 random.randint(0, 9))
        p = {"id_number": id_number(region, birth),
             "phone": "136%08d" % random.randint(0, 99999999),
             "name": "旧行", "region": region}
        if p["id_number"] in [q["id_number"] for q in people] or sql(
                "SELECT 1 FROM persons WHERE id_number = '%s'"
                " OR id_number_hmac = '%s'", p["id_number"],
                id_hmac(p["id_number"])):
            continue
        people.append(p)
    sql("INSERT INTO persons (id_number, name, sex, birth_date, phone,"
        " insurance, region) VALUES %s" % ",".join(
            "('%s', '%s', 'M', '1990-01-01', '%s', 'resident', '%s')" % (
                p["id_number"], p["name"], p["phone"], p["region"])
            for p in people))
    return people


def test_a_copy_of_the_database_reveals_no_id_number_or_phone():
    """Sign-in (phone + ID number), a hospital's filing by ID number and
    the sign-in SMS all work, and pg_dump of the whole database holds
    none of those persons' ID numbers or phones; the masks lists show are
    stored as the SQL masks would make them."""
    a = new_person(region="630100", name="甲测试")
    b = new_person(region="630100", name="乙测试")
    session = insured_login(a)                    # SMS code to a's phone
    assert session["token"]
    assert [m["to"] for m in wait_sms(a["phone"], 1)] == [a["phone"]]
    app = file_by_hospital(b, contact="13900000000")
    assert app["applicant"]["name"] == "乙测试"
    assert "*" in app["applicant"]["id_number"]
    # The SMS row of a's code holds the phone sealed, never plain.
    assert sql("SELECT count(*) FROM sms_outbox WHERE to_phone = '%s'",
               a["phone"]) == [["0"]]
    for p in (a, b):
        row = sql("SELECT id_number, phone, id_number_masked, phone_masked,"
                  " mask_id('%s'), mask_phone('%s') FROM persons"
                  " WHERE id_number_hmac = '%s' AND phone_hmac = '%s'",
                  p["id_number"], p["phone"], id_hmac(p["id_number"]),
                  phone_hmac(p["phone"]))
        assert len(row) == 1, row
        plain_id, plain_phone, id_mask, phone_mask, sql_id, sql_phone = row[0]
        assert (plain_id, plain_phone) == ("", "")
        assert (id_mask, phone_mask) == (sql_id, sql_phone)
    dump = pg_dump()
    assert "CREATE TABLE public.persons" in dump
    for p in (a, b):
        for secret in (p["id_number"], p["phone"]):
            assert secret not in dump, secret
    # Nor the demo persons' (sealed by load-reference).
    for secret in ("411200195803120139", "13800000001"):
        assert secret not in dump, secret


def test_plain_rows_are_sealed_in_batches_while_the_service_runs():
    """Rows from before the migration (plain columns) are sealed by
    `mtcertctl identity encrypt` a batch per transaction while requests
    go on; --keep-plain first fills the new columns and leaves the plain
    ones (for workers still reading them), the next run nulls them.
    Before sealing, a plain row's person cannot sign in nor be filed for
    (lookups are by HMAC only); after, both work.  (`person add` seals
    what is left plain first: the persons made here come before.)"""
    sealed = new_person(region="630100")
    agency = login("agency-xining")["token"]
    people = plain_persons(23)
    first = people[0]
    hosp = login(HOSPITAL)["token"]
    r = api("POST", "/hospital/applications", headers=bearer(hosp), json={
        "id_number": first["id_number"], "name": first["name"],
        "disease_code": "D013", "phone": "13900000000",
        "medical_record_no": unique("ID"),
        "designated_institution": INSTITUTION})
    assert_error(r, 422, "person_not_found", "id_number")

    out = ctl("identity", "encrypt", "--batch", "5", "--keep-plain").stdout
    assert re.fullmatch(r"sealed \d+\n", out), out
    ids = ",".join("'%s'" % p["id_number"] for p in people)
    assert sql("SELECT count(*) FROM persons WHERE id_number IN (%s)"
               " AND id_number_hmac IS NOT NULL AND phone_hmac IS NOT NULL",
               ids) == [[str(len(people))]]

    # The sealing run, held up mid-way (the last plain person's row
    # locked, its batch waits): meanwhile the agency's search by phone
    # is answered; then the run goes on to the end.
    last_id = people[-1]["id_number"]
    with held("SELECT 1 FROM persons WHERE id_number = '%s' FOR UPDATE"
              % last_id):
        run = subprocess.Popen(
            [CTL, "--config", os.path.join(VAR, "mtcert.conf"), "identity",
             "encrypt", "--batch", "5"], stdout=subprocess.PIPE, text=True)
        assert wait_for(lambda: sql(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type"
            " = 'Lock' AND query LIKE '%%FOR NO KEY UPDATE%%'") == [["1"]])
        for _ in range(3):
            r = api("GET", "/agency/applications", headers=bearer(agency),
                    params={"q": sealed["phone"], "status": "any"})
            assert r.status_code == 200, r.text
        assert run.poll() is None       # still held up: the search was
    out, _ = run.communicate(timeout=HANG)
    assert run.returncode == 0
    assert int(out.split()[1]) >= len(people), out
    assert sql("SELECT count(*) FROM persons WHERE id_number IS NOT NULL"
               " OR phone IS NOT NULL") == [["0"]]
    assert ctl("identity", "encrypt").stdout == "sealed 0\n"

    # Sealed: filed for by ID number, signs in, opens back to itself.
    app = file_by_hospital(first, contact="13900000000")
    assert app["applicant"]["id_number"] == (first["id_number"][:4] + "*" *
                                             10 + first["id_number"][-4:])
    last = people[-1]
    assert insured_login(last)["token"]
    assert sms_lines(last["phone"])
    pid = sql("SELECT id FROM persons WHERE id_number_hmac = '%s'",
              id_hmac(last["id_number"]))[0][0]
    assert identity_of(pid) == (last["id_number"], last["phone"])


def test_keys_live_outside_the_database_read_only_to_the_workers():
    """The two keys (the current data key and the lookup key): 32 bytes
    each, mode 0400, in a 0700 directory of the
    workers' user under $MTCERT_VAR (never in the checkout), named by
    mtcert.conf; neither key's bytes are in the database."""
    d = os.path.join(VAR, "keys", "identity")
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    conf = open(os.path.join(VAR, "mtcert.conf")).read()
    assert "identity_keys_dir = %s\n" % d in conf
    dump = pg_dump()
    # The current data key: data.key, or data-<n>.key once rotated
    # (test_identity_rotation.py).
    data = max((n for n in os.listdir(d) if re.fullmatch(
        r"data(-\d+)?\.key", n)), key=lambda n: int(
            re.sub(r"\D", "", n) or 1))
    for name in (data, "lookup.key"):
        path = os.path.join(d, name)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o400
        key = open(path, "rb").read()
        assert len(key) == 32
        assert key.hex() not in dump
    # Two keys, not one: the HMAC is not a function of the data key.
    a, b = (open(os.path.join(d, n), "rb").read()
            for n in (data, "lookup.key"))
    assert a != b


def test_identity_commands_refuse_bad_input():
    """identity show of no person is bad input (2); a bad option, an
    identity kind that is neither id_number nor phone too; hmac takes
    many values."""
    assert ctl("identity", "show", "999999999999", check=False).returncode \
        == 2
    assert ctl("identity", "show", "x1", check=False).returncode == 2
    assert ctl("identity", "encrypt", "--batch", "0",
               check=False).returncode == 2
    assert ctl("identity", "encrypt", "--fast", check=False).returncode == 2
    assert ctl("identity", "hmac", "email", "a@b.cn",
               check=False).returncode == 2
    assert ctl("identity", "open", "phone", "x", "y",
               check=False).returncode == 2
    # Many values at once: a line each, as one value's run prints it.
    numbers = ["411200195803120139", "41120019580312001x"]
    assert ctl("identity", "hmac", "id_number", *numbers).stdout.split() \
        == [id_hmac(numbers[0]), id_hmac("41120019580312001X")]


def fresh_phone():
    """A phone no person, application or SMS of this stack has used."""
    while True:
        phone = "135%08d" % random.randint(0, 99999999)
        if not sms_lines(phone) and not sql(
                "SELECT 1 FROM persons WHERE phone_hmac = '%s'",
                phone_hmac(phone)):
            return phone


def redis_dump():
    """Every key of the stack's Redis and its RDB snapshot, as text."""
    path = os.path.join(VAR, "identity-test.rdb")
    sock = os.path.join(VAR, "run", "redis", "redis.sock")
    subprocess.run(["redis-cli", "-s", sock, "--rdb", path],
                   capture_output=True, timeout=60, check=True)
    try:
        rdb = open(path, "rb").read().decode("latin-1")
    finally:
        os.unlink(path)
    return redis("--scan") + "\n" + rdb


def test_a_whole_run_leaves_no_id_number_or_phone_behind():
    """Issue 15's "done when" for ID numbers and phones: an applicant
    signs in, drafts with an agent (ID number and phone), edits the agent
    (the full ID number again), submits; an expert with a phone accepts
    and approves; a psychiatric qualification ends with its guardian's ID
    number; a hospital files for a person by ID number and its duplicate
    is refused.  Each SMS still reaches its phone, the applicant's view
    shows the full phones as before, lists their masks; then neither
    pg_dump of the whole database nor Redis (keys and RDB snapshot)
    holds any of the run's ID numbers or phones."""
    admin = login("admin")["token"]
    reg = new_region()
    expert_phone = fresh_phone()
    user = unique("ex")
    r = api("POST", "/agency/experts", headers=bearer(admin), json={
        "login": user, "password": "expert-pass-1",
        "institution": reg["hospitals"][1], "title": "副高",
        "specialties": ONCO, "phone": expert_phone})
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == expert_phone[:3] + "****" + expert_phone[-4:]
    expert = {"id": r.json()["id"],
              "token": login(user, "expert-pass-1")["token"]}

    p = new_person(region=reg["region"], name="丙测试")
    tok = insured_login(p)["token"]           # the SMS code, by HMAC key
    contact = fresh_phone()
    agent = {"name": "丁代办", "relation": "子女", "phone": fresh_phone(),
             "id_number": id_number(reg["region"], "19650303")}
    app = draft(tok, institution=reg["hospitals"][0], phone=contact,
                agent=agent, disease="D001")
    # The applicant's view as before: full phones, the agent's ID masked.
    assert app["phone"] == contact
    assert app["agent"]["phone"] == agent["phone"]
    assert app["agent"]["id_number"] == (agent["id_number"][:4] + "*" * 10 +
                                         agent["id_number"][-4:])
    # Editing the agent: the full ID number again (web/js/applicant.js).
    agent2 = dict(agent, id_number=id_number(reg["region"], "19660404"),
                  phone=fresh_phone())
    r = api("PATCH", "/applications/%s" % app["id"], headers=bearer(tok),
            json={"agent": agent2, "phone": contact})
    assert r.status_code == 200, r.text
    assert r.json()["agent"]["phone"] == agent2["phone"]
    assert r.json()["agent"]["id_number"].endswith(agent2["id_number"][-4:])
    listed = api("GET", "/applications", headers=bearer(tok)).json()
    mine = [a for a in listed["items"] if a["id"] == app["id"]]
    assert mine[0]["phone"] == contact[:3] + "****" + contact[-4:]
    app = complete(tok, api("GET", "/applications/%s" % app["id"],
                            headers=bearer(tok)).json())
    r = api("POST", "/applications/%s/submit" % app["id"],
            headers=bearer(tok), json={"promise": True})
    assert r.status_code == 200, r.text
    wait_sms(contact, 1)                      # 已提交, to the contact phone

    # The expert (the region's only one; D001 is single mode), told by
    # SMS, approves; the approval's SMS reaches the contact phone.
    a = live_assignment(app["id"])
    assert a["expert"] == expert["id"]
    assert wait_for(lambda: any(str(a["id"]) in m["text"]
                                for m in sms_lines(expert_phone)))
    assert accept(expert, a["id"]).status_code == 200
    assert decide(expert, a["id"], "approve").status_code == 200
    assert wait_for(lambda: any("已通过" in m["text"]
                                for m in sms_lines(contact)))

    # A guardian's ID number, kept when a psychiatric benefit ends.
    _, gtok, qid = granted(reg, disease=PSYCH)
    guardian = id_number(reg["region"], "19700707")
    r = terminate(gtok, qid, guardian_name="戊监护",
                  guardian_id_number=guardian)
    assert r.status_code == 200, r.text

    # A hospital files for a person by ID number; the duplicate is refused.
    b = new_person(region="630100", name="己测试")
    b_contact = fresh_phone()
    file_by_hospital(b, contact=b_contact)
    assert_error(hospital_files(b, b_contact), 409, "application_exists")

    secrets = {p["id_number"], p["phone"], contact, agent["id_number"],
               agent["phone"], agent2["id_number"], agent2["phone"],
               expert_phone, guardian, b["id_number"], b["phone"],
               b_contact}
    dump, cache = pg_dump(), redis_dump()
    assert "CREATE TABLE public.applications" in dump
    for secret in secrets:
        assert secret not in dump, secret
        assert secret not in cache, secret
    # What is there opens back under the keys.
    row = sql("SELECT agent_phone_enc, agent_id_number_enc FROM"
              " applications WHERE id = %s", app["id"])[0]
    assert ctl("identity", "open", "phone", row[0]).stdout.strip() == \
        agent2["phone"]
    assert ctl("identity", "open", "id_number", row[1]).stdout.strip() == \
        agent2["id_number"]


def test_plain_rows_of_044_are_sealed_by_identity_encrypt():
    """Rows written before 044 (plain contact and agent phones, agent and
    guardian ID numbers, expert and hospital phones) are sealed by
    `mtcertctl identity encrypt` (--keep-plain first leaves the plain
    columns); the progress view then shows the same full phones, opened,
    and SMS keep reaching them."""
    p = new_person(region="411200")
    tok = insured_login(p)["token"]
    contact, agent_phone = fresh_phone(), fresh_phone()
    agent_id = id_number("411200", "19650505")
    app = draft(tok, phone=contact)
    sql("UPDATE applications SET phone = '%s', phone_enc = NULL,"
        " phone_masked = NULL, agent_name = '庚代办', agent_relation = '子女',"
        " agent_id_number = '%s', agent_phone = '%s' WHERE id = %s",
        contact, agent_id, agent_phone, app["id"])
    inst = sql("SELECT code FROM institutions WHERE contact_phone IS NULL"
               " AND contact_phone_enc IS NULL LIMIT 1")[0][0]
    inst_phone = fresh_phone()
    sql("UPDATE institutions SET contact_phone = '%s' WHERE code = '%s'",
        inst_phone, inst)
    sql("SELECT store_application_view(%s, NULL)", app["id"])
    before = api("GET", "/applications/%s" % app["id"],
                 headers=bearer(tok)).json()
    assert before["phone"] == contact
    assert before["agent"]["phone"] == agent_phone

    ctl("identity", "encrypt", "--batch", "3", "--keep-plain")
    row = sql("SELECT phone, phone_enc IS NOT NULL, agent_id_number"
              " FROM applications WHERE id = %s", app["id"])[0]
    assert row == [contact, "t", agent_id]
    ctl("identity", "encrypt", "--batch", "3")
    for table, cols in (("applications", "phone, agent_id_number,"
                         " agent_phone"), ("qualifications",
                                           "guardian_id_number"),
                        ("experts", "phone"),
                        ("institutions", "contact_phone")):
        assert sql("SELECT count(*) FROM %s WHERE coalesce(%s) IS NOT NULL",
                   table, cols) == [["0"]], table
    enc = sql("SELECT contact_phone_enc FROM institutions WHERE code = '%s'",
              inst)[0][0]
    assert ctl("identity", "open", "phone", enc).stdout.strip() == inst_phone
    sql("SELECT store_application_view(%s, NULL)", app["id"])
    after = api("GET", "/applications/%s" % app["id"],
                headers=bearer(tok)).json()
    assert after["phone"] == contact
    assert after["agent"]["phone"] == agent_phone
    assert after["agent"]["id_number"] == before["agent"]["id_number"]
    sql("UPDATE institutions SET contact_phone_enc = NULL WHERE code = '%s'",
        inst)


def test_view_phones_with_the_same_mask_are_each_put_back():
    """The full phones go into the stored, masked view by their masks
    (apply_identity.c); a contact and an agent phone of the same mask
    (139****0000 both) take the slower way, parsing the view, and each
    still comes back as itself."""
    p = new_person()
    tok = insured_login(p)["token"]
    agent = {"name": "辛代办", "relation": "配偶", "phone": "13911110000",
             "id_number": id_number("411200", "19640404")}
    app = draft(tok, agent=agent)                 # contact 13900000000
    for body in (app, api("GET", "/applications/%s" % app["id"],
                          headers=bearer(tok)).json()):
        assert body["phone"] == "13900000000"
        assert body["agent"]["phone"] == "13911110000"


def test_view_phones_put_back_whatever_the_stored_views_key_order():
    """The stored view is printed by json_build_object (the contact's
    phone before the agent) until a push's patch prints it again as jsonb
    (the agent first).  The same phone for contact and agent is spliced
    in twice (apply_identity.c, no parse); two phones of one mask are
    parsed; either way, in either order, each comes back as itself."""
    for agent_phone in ("13900000000", "13911110000"):
        tok = insured_login(new_person())["token"]
        agent = {"name": "壬代办", "relation": "配偶", "phone": agent_phone,
                 "id_number": id_number("411200", "19640404")}
        app = draft(tok, agent=agent)             # contact 13900000000
        for jsonb in (False, True):
            if jsonb:
                sql("UPDATE application_views SET view = view::jsonb::text"
                    " WHERE application_id = %s", app["id"])
            body = api("GET", "/applications/%s" % app["id"],
                       headers=bearer(tok)).json()
            assert body["phone"] == "13900000000"
            assert body["agent"]["phone"] == agent_phone


def test_an_sms_to_a_person_not_sealed_yet_carries_the_plain_phone():
    """A qualification's SMS (qualification_sms: its end, the renewal's
    notice, the dispatcher's jobs) to a person whose row is still plain
    (before `identity encrypt`) is queued with the plain phone, as the
    application's SMS are (plain_until_sealed), not refused by
    sms_outbox_one_phone; the next encrypt seals it."""
    p = plain_persons(1)[0]
    pid = sql("SELECT id FROM persons WHERE id_number = '%s'",
              p["id_number"])[0][0]
    sql("SELECT qualification_sms(jsonb_populate_record(NULL::qualifications,"
        " jsonb_build_object('person_id', %s)), 'test_plain', 'x')", pid)
    assert sql("SELECT to_phone, to_phone_enc IS NULL FROM sms_outbox"
               " WHERE template = 'test_plain' ORDER BY id DESC LIMIT 1") == [
                   [p["phone"], "t"]]
    ctl("identity", "encrypt")
    assert sql("SELECT count(*) FROM sms_outbox WHERE to_phone = '%s'",
               p["phone"]) == [["0"]]


def test_an_sms_whose_phone_does_not_open_holds_up_no_other():
    """A queued SMS whose sealed phone does not open (here an ID number's
    seal, made for the other column) is failed alone, to be retried, and
    logged; the message queued with it in the same batch is still sent
    at once rather than waiting behind it for ever."""
    p = new_person()
    bad_enc = sql("SELECT id_number_enc FROM persons WHERE id_number_hmac"
                  " = '%s'", id_hmac(p["id_number"]))[0][0]
    good = fresh_phone()
    bad = sql("WITH b AS (INSERT INTO sms_outbox (to_phone_enc, template,"
              " body) VALUES ('%s', 'test_unopenable', 'x') RETURNING id),"
              " g AS (INSERT INTO sms_outbox (to_phone, template, body)"
              " VALUES ('%s', 'test_beside', 'y') RETURNING id)"
              " SELECT b.id FROM b, g", bad_enc, good)[0][0]
    try:
        assert [m["template"] for m in wait_sms(good, 1)] == ["test_beside"]
        assert wait_for(lambda: sql(
            "SELECT sent_at IS NULL, last_error IS NOT NULL, attempts > 0"
            " FROM sms_outbox WHERE id = %s", bad) == [["t", "t", "t"]])
    finally:
        sql("DELETE FROM sms_outbox WHERE id = %s", bad)


def test_identity_keys_unreadable_are_503_then_back_without_restart():
    """The auth workers start without readable identity keys (the files
    moved away): asking for an SMS code, which names the phone by its
    HMAC, is 503 service_unavailable, never a 500 nor a code keyed by
    nothing; the keys back, the next request is served by the same
    workers (the keys are read when first needed, again after a miss)."""
    p = new_person()
    d = os.path.join(VAR, "keys", "identity")
    names = os.listdir(d)       # every data key (rotated or not), lookup.key
    before = workers("auth")
    for n in names:
        os.rename(os.path.join(d, n), os.path.join(d, n + ".away"))
    try:
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: len(workers("auth")) == len(before) and
                        not set(workers("auth")) & set(before))
        fresh = workers("auth")
        for _ in range(2 * len(fresh)):
            assert_error(api("POST", "/auth/sms-code",
                             json={"phone": p["phone"]}),
                         503, "service_unavailable")
    finally:
        for n in names:
            os.rename(os.path.join(d, n + ".away"), os.path.join(d, n))
    assert insured_login(p)["token"]
    # The workers that answered 503 serve on, none restarted (a worker
    # the master was still starting when `fresh` was read may join them).
    assert set(fresh) <= set(workers("auth"))
