"""mtcertctl: migrate, load-reference, person, user and policy commands
(issue 2 item 5).  Exit 0 on success, 2 with a clear message on bad input."""
import json
import os
import re
import shutil
import subprocess
import time

from test_filing import form, relative
from conftest import CTL, PG_PORT, VAR, ROOT, api, assert_error, bearer, ctl, draft, \
    insured_login, login, new_person, sql, unique


def check_digit(body17):
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * x for c, x in zip(body17, w)) % 11]


def test_migrate_is_idempotent():
    out = ctl("migrate").stdout
    assert "0 applied" in out


def test_migrate_twice_is_a_no_op():
    """Numbered migrations once each; the function files of sql/fn/ only
    when their checksum changed (B3)."""
    ctl("migrate")
    out = ctl("migrate").stdout
    assert "migrations: 0 applied" in out, out
    assert "functions: 0 applied" in out, out
    assert "applied" not in out.replace("0 applied", ""), out


def _has_marker(marker):
    return sql("SELECT position('%s' IN prosrc) > 0 FROM pg_proc"
               " WHERE proname = 'create_expert_id'", marker) == [["t"]]


def test_changed_function_file_is_reapplied(tmp_path):
    """A copy of sql/ whose fn/40_experts.sql changes one function: migrate
    applies that file alone, once; back on the original it is applied
    again (its checksum changed back)."""
    copy = tmp_path / "sql"
    shutil.copytree(os.path.join(ROOT, "sql"), copy)
    fn = copy / "fn" / "40_experts.sql"
    marker = "changed by test_ctl"
    text = fn.read_text()
    assert "WHERE u.login = p_login\n$$" in text
    fn.write_text(text.replace("WHERE u.login = p_login\n$$",
                               "WHERE u.login = p_login -- %s\n$$" % marker))
    conf = tmp_path / "mtcert.conf"
    with open(os.path.join(VAR, "mtcert.conf")) as f:
        conf.write_text(re.sub(r"(?m)^sql_dir = .*$", "sql_dir = %s" % copy,
                               f.read()))

    def migrate(*config):
        cp = subprocess.run([CTL, *config, "migrate"], capture_output=True,
                            text=True, timeout=60)
        assert cp.returncode == 0, (cp.stdout, cp.stderr)
        return cp.stdout

    try:
        out = migrate("--config", str(conf))
        assert "applied fn/40_experts.sql" in out, out
        assert "functions: 1 applied" in out, out
        assert _has_marker(marker)
        assert "functions: 0 applied" in migrate("--config", str(conf))
    finally:
        out = ctl("migrate").stdout
    assert "applied fn/40_experts.sql" in out, out
    assert "functions: 1 applied" in out, out
    assert not _has_marker(marker)


def _copied_sql(tmp_path):
    """A copy of sql/ and a config naming it."""
    copy = tmp_path / "sql"
    shutil.copytree(os.path.join(ROOT, "sql"), copy)
    conf = tmp_path / "mtcert.conf"
    with open(os.path.join(VAR, "mtcert.conf")) as f:
        conf.write_text(re.sub(r"(?m)^sql_dir = .*$", "sql_dir = %s" % copy,
                               f.read()))
    return copy, conf


def _migrate_with(conf):
    return subprocess.run([CTL, "--config", str(conf), "migrate"],
                          capture_output=True, text=True, timeout=60)


def test_failing_function_file_is_named_and_nothing_kept(tmp_path):
    """A file of sql/fn/ that fails: exit non-zero, the message names the
    file, no checksum is recorded (not even of a file before it that
    applied cleanly), and nothing is said applied: the transaction was
    rolled back."""
    copy, conf = _copied_sql(tmp_path)
    util = copy / "fn" / "10_util.sql"
    util.write_text(util.read_text() + "\n-- changed by test_ctl\n")
    review = copy / "fn" / "30_review.sql"
    review.write_text(review.read_text() +
                      "\nSELECT no_such_function_r3_test();\n")
    before = sql("SELECT name, sha256 FROM schema_repeatables ORDER BY 1")
    try:
        cp = _migrate_with(conf)
        assert cp.returncode != 0, (cp.stdout, cp.stderr)
        assert "fn/30_review.sql" in cp.stderr, cp.stderr
        assert "no_such_function_r3_test" in cp.stderr, cp.stderr
        assert "applied fn/" not in cp.stdout, cp.stdout
        assert sql("SELECT name, sha256 FROM schema_repeatables"
                   " ORDER BY 1") == before
    finally:
        out = ctl("migrate").stdout
    assert "functions: 0 applied" in out, out


def test_changed_util_file_rebuilds_stored_views(tmp_path):
    """A change to mask_id (fn/10_util.sql) reaches the stored progress
    views: any applied file of sql/fn/ rebuilds them, once, not only a
    change to fn/20_applications.sql.  (The agent's ID number of a family
    filing is masked there by mask_id while its row is not sealed yet, as
    here: written plain the way rows of before 044_identity_rest.sql are;
    sealed ones carry their mask, made in C: shared/mt_identity.h.)"""
    son = new_person()
    token = insured_login(son)["token"]
    r = api("POST", "/applications", headers=bearer(token),
            json=form(phone=son["phone"], relative=relative(new_person())))
    assert r.status_code == 201, r.text
    app = r.json()
    sql("UPDATE applications SET agent_id_number = '%s',"
        " agent_id_number_enc = NULL, agent_id_number_masked = NULL"
        " WHERE id = %s", son["id_number"], app["id"])
    sql("SELECT store_application_view(%s, NULL)", app["id"])

    def stored_id_number():
        view = json.loads(sql("SELECT view FROM application_views"
                              " WHERE application_id = %s", app["id"])[0][0])
        return view["agent"]["id_number"]

    assert "*" in stored_id_number()
    copy, conf = _copied_sql(tmp_path)
    util = copy / "fn" / "10_util.sql"
    text = util.read_text()
    old = "ELSE left(s, 4) || repeat('*', length(s) - 8) || right(s, 4) END"
    assert old in text
    util.write_text(text.replace(
        old, "ELSE left(s, 4) || repeat('#', length(s) - 8) || right(s, 4) END"))
    try:
        cp = _migrate_with(conf)
        assert cp.returncode == 0, (cp.stdout, cp.stderr)
        assert "applied fn/10_util.sql" in cp.stdout, cp.stdout
        assert "functions: 1 applied" in cp.stdout, cp.stdout
        assert "#" in stored_id_number()
        assert "*" not in stored_id_number()
    finally:
        out = ctl("migrate").stdout
    assert "applied fn/10_util.sql" in out, out
    assert "*" in stored_id_number() and "#" not in stored_id_number()


def test_interrupted_rebuild_is_finished_by_the_next_migrate():
    """The stored views are rebuilt after the files of sql/fn/ committed,
    batch by batch; a migrate stopped between the two leaves the mark
    '(stored views)' in schema_repeatables, and the next migrate, with no
    file changed, finishes the rebuild and clears the mark."""
    token = insured_login(new_person())["token"]
    app = draft(token)
    sql("UPDATE application_views SET view = '{\"stale\": true}'"
        " WHERE application_id = %s", app["id"])
    sql("INSERT INTO schema_repeatables (name, sha256)"
        " VALUES ('(stored views)', 'stale')")
    out = ctl("migrate").stdout
    assert "functions: 0 applied" in out, out
    view = json.loads(sql("SELECT view FROM application_views"
                          " WHERE application_id = %s", app["id"])[0][0])
    assert view.get("id") == app["id"] and "stale" not in view, view
    assert sql("SELECT count(*) FROM schema_repeatables"
               " WHERE name = '(stored views)'") == [["0"]]


def test_migrate_crossed_by_a_service_transaction_tries_again(tmp_path):
    """A service transaction holds the newest view's row lock while the
    migrator rebuilds the views, then takes the oldest view's lock: a
    deadlock (the CI run once died on it, the rebuild being one statement
    over every view).  The migrator waited first, so its deadlock check
    runs first and it is the victim (had this session been, the test
    would pass without proving anything, never fail falsely): it must
    roll back, wait and try again, exit 0, and leave every view
    rebuilt."""
    copy, conf = _copied_sql(tmp_path)
    util = copy / "fn" / "10_util.sql"
    util.write_text(util.read_text() + "\n-- crossed migrate\n")
    for _ in range(2):
        draft(insured_login(new_person())["token"])
    first, last = sql("SELECT min(application_id), max(application_id)"
                      " FROM application_views")[0]
    holder = subprocess.Popen(
        ["psql", "-h", os.path.join(VAR, "run", "pg"), "-p", PG_PORT,
         "-U", "mtcert", "-d", "mtcert", "-qAtX", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    migrator = None
    try:
        holder.stdin.write(
            "BEGIN;\n"
            "UPDATE application_views SET view = view"
            " WHERE application_id = %s;\n"
            "SELECT 'locked';\n" % last)
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "locked"
        migrator = subprocess.Popen(
            [CTL, "--config", str(conf), "migrate"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Wait (bounded against a hang) until the migrator waits for the
        # row this session holds.
        for _ in range(1200):
            if sql("SELECT count(*) FROM pg_stat_activity"
                   " WHERE wait_event_type = 'Lock'"
                   " AND query LIKE '%%rebuild_application_views%%'"
                   ) != [["0"]] or migrator.poll() is not None:
                break
            time.sleep(0.05)
        holder.stdin.write(
            "UPDATE application_views SET view = view"
            " WHERE application_id = %s;\nCOMMIT;\n" % first)
        holder.stdin.close()
        out, err = migrator.communicate(timeout=180)
        assert migrator.returncode == 0, (out, err)
        assert "applied fn/10_util.sql" in out, out
    finally:
        if migrator is not None and migrator.poll() is None:
            migrator.kill()
        holder.wait(timeout=60)
        back = ctl("migrate").stdout
    assert "applied fn/10_util.sql" in back, back
    assert sql("SELECT count(*) FROM schema_repeatables"
               " WHERE name = '(stored views)'") == [["0"]]


def test_load_reference_is_idempotent():
    before = api("GET", "/institutions", params={"limit": 200}).json()["items"]
    ctl("load-reference")
    after = api("GET", "/institutions", params={"limit": 200}).json()["items"]
    assert len(after) == len(before)
    assert len(api("GET", "/diseases").json()["items"]) == 45


def test_person_add_refuses_bad_checksum():
    body = "41120019800101" + "123"
    good = body + check_digit(body)
    bad = body + ("0" if check_digit(body) != "0" else "1")
    cp = ctl("person", "add", "--id-number", bad, "--name", "测试",
             "--phone", "13900000001", "--region", "411200",
             "--insurance", "employee", check=False)
    assert cp.returncode == 2 and "GB 11643" in cp.stderr
    cp = ctl("person", "add", "--id-number", good, "--name", "测试",
             "--phone", "13900000001", "--region", "411200",
             "--insurance", "employee")
    assert "person id" in cp.stdout


def test_person_add_bad_inputs_exit_2():
    body = "41120019800101" + "124"
    good = body + check_digit(body)
    base = ["person", "add", "--id-number", good, "--name", "测试",
            "--phone", "13900000002", "--region", "411200",
            "--insurance", "employee"]
    for i, bad in ((7, "1234"), (9, "41120"), (11, "retired"), (5, "")):
        args = list(base)
        args[i] = bad
        cp = ctl(*args, check=False)
        assert cp.returncode == 2, (args, cp.stderr)
        assert cp.stderr.startswith("mtcertctl: ")
    args = list(base)
    args[9] = "999999"
    cp = ctl(*args, check=False)
    assert cp.returncode == 2 and "unknown region" in cp.stderr


def test_user_add_and_login():
    user = unique("ctl")
    ctl("user", "add", "--role", "hospital", "--login", user,
        "--password", "hospital-pass-1", "--institution", "H63010300017")
    me = api("GET", "/me", headers=bearer(login(user, "hospital-pass-1")["token"]))
    assert me.json()["scope"]["institution"] == "H63010300017"
    assert me.json()["scope"]["region"] == "630100"


def test_user_add_bad_inputs_exit_2():
    cases = [
        ["--role", "boss", "--login", unique("u"), "--password", "longenough"],
        ["--role", "agency", "--login", "x", "--password", "longenough",
         "--region", "411200"],
        ["--role", "agency", "--login", unique("u"), "--password", "short",
         "--region", "411200"],
        ["--role", "agency", "--login", unique("u"), "--password", "longenough"],
        ["--role", "hospital", "--login", unique("u"), "--password", "longenough"],
        ["--role", "hospital", "--login", unique("u"), "--password", "longenough",
         "--institution", "H99999999999"],
        ["--role", "insured", "--login", unique("u"),
         "--id-number", "411200195803120130"],
    ]
    for args in cases:
        cp = ctl("user", "add", *args, check=False)
        assert cp.returncode == 2, (args, cp.returncode, cp.stderr)
        assert cp.stderr.startswith("mtcertctl: "), cp.stderr


def test_policy_set_validates_and_is_visible():
    for key, value in (("accept_window_seconds", "0"),
                       ("accept_window_seconds", "ten"),
                       ("material_public_only", "yes"),
                       ("expert_min_title", "教授"),
                       ("no_such_key", "1")):
        cp = ctl("policy", "set", "532300", key, value, check=False)
        assert cp.returncode == 2, (key, value, cp.stderr)
    cp = ctl("policy", "set", "999999", "miss_limit", "3", check=False)
    assert cp.returncode == 2 and "unknown region" in cp.stderr
    ctl("policy", "set", "532300", "accept_window_seconds", "600")
    try:
        assert "accept_window_seconds=600" in ctl("policy", "get", "532300").stdout
        tok = login("admin")["token"]
        body = api("GET", "/agency/policy", params={"region": "532300"},
                   headers=bearer(tok)).json()
        got = {p["key"]: p["value"] for p in body["policies"]}
        assert got["accept_window_seconds"] == "600"
        # Another region keeps its own value.
        assert "accept_window_seconds=86400" in ctl("policy", "get",
                                                    "630100").stdout
    finally:
        ctl("policy", "set", "532300", "accept_window_seconds", "86400")


def test_policy_set_is_the_api_rule():
    """B4: `mtcertctl policy set` and PUT /agency/policy are one rule (the
    SQL function set_policy): the same values are refused with the same
    Chinese message, and a change says who made it.  The old command had
    its own check, which took "+5" and " 5" (strtoll) and stored them."""
    tok = login("admin")["token"]
    ctl("policy", "set", "532300", "miss_limit", "3")
    for key, value in (("miss_limit", "+5"), ("miss_limit", " 5"),
                       ("miss_limit", "99"), ("expert_min_title", "教授"),
                       ("no_such_key", "1")):
        err = assert_error(api("PUT", "/agency/policy", headers=bearer(tok),
                               json={"region": "532300", "key": key,
                                     "value": value}),
                           422, "policy_key_unknown" if key == "no_such_key"
                           else "policy_value_invalid")
        cp = ctl("policy", "set", "532300", key, value, check=False)
        assert cp.returncode == 2, (key, value, cp.stdout, cp.stderr)
        assert err["message"] in cp.stderr, (err, cp.stderr)
    assert "miss_limit=3\n" in ctl("policy", "get", "532300").stdout
    assert sql("SELECT updated_by FROM policies WHERE region = '532300'"
               " AND key = 'miss_limit'") == [["mtcertctl"]]


def test_usage_errors_exit_2():
    for args in (["frobnicate"], ["policy", "get"], ["person", "add", "--bogus", "1"]):
        assert ctl(*args, check=False).returncode == 2


def test_password_from_standard_input():
    import subprocess, os
    from conftest import CTL, VAR
    user = unique("stdin")
    cp = subprocess.run([CTL, "--config", os.path.join(VAR, "mtcert.conf"),
                         "user", "add", "--role", "agency", "--login", user,
                         "--password", "-", "--region", "411200"],
                        input="from-stdin-pass-1\n", capture_output=True,
                        text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    login(user, "from-stdin-pass-1")
