"""POST /agency/settlements and `mtcertctl settlements import` (R-BEN-4,
issue 10 item 6): monthly settlement records, the renewal rule's
evidence, as CSV or JSON lines; every row checked, bad rows reported by
line with nothing imported; the same file again changes nothing, a
corrected amount updates.  Both go through shared/mt_settle.c."""
import json
import os
import random
import subprocess
import time

from conftest import id_hmac, id_numbers_held
from conftest import (CTL, VAR, api, assert_error, bearer, ctl, id_number,
                      insured_login, login, new_person, sql, stack, unique,
                      wait_for)

AGENCY = "agency-sanmenxia"       # region 411200
CSV = {"Content-Type": "text/csv"}
NDJSON = {"Content-Type": "application/x-ndjson"}


def post(body, ctype=CSV, token=None, **headers):
    tok = token or login(AGENCY)["token"]
    h = dict(bearer(tok), **ctype)
    h.update(headers)
    return api("POST", "/agency/settlements", data=body.encode(), headers=h)


def csv(*rows, header="id_number,disease,month,amount"):
    return "\n".join([header] + [",".join(r) for r in rows]) + "\n"


def stored(person):
    return sql("SELECT s.disease, to_char(s.month, 'YYYY-MM'), s.amount_cents"
               " FROM settlements s JOIN persons p ON p.id = s.person_id"
               " WHERE p.id_number_hmac = '%s' ORDER BY 1, 2",
               id_hmac(person["id_number"]))


def test_csv_import_then_same_file_unchanged_then_corrected_updates():
    """R-BEN-4: rows land in yuan to the cent; importing the same file
    again reports every row unchanged and changes nothing; a corrected
    amount is an update."""
    p = new_person()
    body = csv((p["id_number"], "D013", "2026-01", "12.30"),
               (p["id_number"], "D013", "2026-02", "5"),
               (p["id_number"], "D001", "2026-02", "0.07"))
    r = post(body)
    assert r.status_code == 200, r.text
    assert r.json() == {"rows": 3, "inserted": 3, "updated": 0, "unchanged": 0}
    assert stored(p) == [["D001", "2026-02", "7"], ["D013", "2026-01", "1230"],
                         ["D013", "2026-02", "500"]]
    r = post(body)
    assert r.json() == {"rows": 3, "inserted": 0, "updated": 0, "unchanged": 3}
    r = post(body.replace("12.30", "12.40"))
    assert r.json() == {"rows": 3, "inserted": 0, "updated": 1, "unchanged": 2}
    assert stored(p)[1] == ["D013", "2026-01", "1240"]


def test_json_lines_with_a_bom_free_crlf_file_and_blank_lines():
    """R-BEN-4: JSON lines, amount a number or a string; CRLF line ends
    and blank lines are fine."""
    p = new_person()
    lines = [json.dumps({"id_number": p["id_number"], "disease": "D013",
                         "month": "2025-0%d" % m, "amount": a})
             for m, a in ((3, 99.5), (4, "100"), (5, 0))]
    r = post("\r\n".join(lines) + "\r\n\r\n", NDJSON)
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 3
    assert [x[2] for x in stored(p)] == ["9950", "10000", "0"]


def test_bad_rows_are_listed_by_line_and_nothing_is_imported():
    """R-BEN-4: each bad row is named by its line, field and a Chinese
    message; the good rows of the same file are not imported either."""
    p = new_person()
    other = new_person(region="630100")           # insured in Xining
    bad_id = p["id_number"][:-1] + ("0" if p["id_number"][-1] != "0" else "1")
    body = csv((p["id_number"], "D013", "2026-01", "1.00"),        # 2 good
               (bad_id, "D013", "2026-01", "1"),                   # 3 checksum
               (p["id_number"], "d13", "2026-01", "1"),            # 4 code
               (p["id_number"], "D013", "2026-13", "1"),           # 5 month
               (p["id_number"], "D013", "2099-01", "1"),           # 6 future
               (p["id_number"], "D013", "2026-02", "-1"),          # 7 negative
               (p["id_number"], "D013", "2026-03", "1.234"),       # 8 3 decimals
               (other["id_number"], "D013", "2026-01", "1"),       # 9 region
               (p["id_number"], "Z999", "2026-01", "1"),           # 10 catalog
               (p["id_number"], "D013", "2026-01", "2"),           # 11 repeated
               (p["id_number"], "D013", "2026-04"))                # 12 3 columns
    r = post(body)
    err = assert_error(r, 422, "settlements_invalid")
    assert "10" in err["message"] and "全部未导入" in err["message"]
    got = [(e["line"], e["field"]) for e in err["details"]["errors"]]
    assert got == [(3, "id_number"), (4, "disease"), (5, "month"),
                   (6, "month"), (7, "amount"), (8, "amount"),
                   (9, "id_number"), (10, "disease"), (11, "month"),
                   (12, "line")]
    assert err["details"]["count"] == 10
    msgs = {e["line"]: e["message"] for e in err["details"]["errors"]}
    assert "校验位" in msgs[3] and "晚于本月" in msgs[6]
    assert "本统筹区" in msgs[9] and "与第 2 行重复" in msgs[11]
    assert stored(p) == [] and stored(other) == []


def test_more_than_100_errors_lists_the_first_100_with_the_count():
    """R-BEN-4: the first 100 errors by line, and how many there are."""
    body = csv(*[("110101196001011234", "D013", "2026-01", "x")] * 150)
    err = assert_error(post(body), 422, "settlements_invalid")
    errs = err["details"]["errors"]
    assert len(errs) == 100 and err["details"]["count"] == 150
    assert errs[0]["line"] == 2 and errs[-1]["line"] == 101


def test_csv_without_its_header_is_refused_at_line_1():
    p = new_person()
    err = assert_error(post(csv((p["id_number"], "D013", "2026-01", "1"),
                                header="身份证,病种,月份,金额")),
                       422, "settlements_invalid")
    assert err["details"]["errors"][0]["line"] == 1
    assert err["details"]["errors"][0]["field"] == "header"
    assert stored(p) == []


def test_json_lines_of_the_wrong_shape_are_refused_by_line():
    p = new_person()
    good = {"id_number": p["id_number"], "disease": "D013",
            "month": "2026-01", "amount": 1}
    lines = [json.dumps(good), "not json", json.dumps([1]),
             json.dumps(dict(good, extra=1)),
             json.dumps(dict(good, disease=13)),
             json.dumps({k: v for k, v in good.items() if k != "month"})]
    err = assert_error(post("\n".join(lines), NDJSON), 422,
                       "settlements_invalid")
    assert [(e["line"], e["field"]) for e in err["details"]["errors"]] == [
        (2, "line"), (3, "line"), (4, "line"), (5, "disease"), (6, "line")]


def test_other_media_types_and_callers_are_refused():
    """Only CSV or JSON lines (415); only the agency (403); a person is
    never another region's (R-BEN-4 scope)."""
    p = new_person()
    body = csv((p["id_number"], "D013", "2026-01", "1"))
    assert_error(post(body, {"Content-Type": "application/json"}), 415,
                 "unsupported_media_type")
    assert_error(post(body, {"Content-Type": "text/plain"}), 415,
                 "unsupported_media_type")
    tok = insured_login(p)["token"]
    assert_error(post(body, token=tok), 403, "forbidden")
    assert_error(post(body, token=login("hospital-qhph")["token"]), 403,
                 "forbidden")
    # Xining's agency: this person is not insured there.
    err = assert_error(post(body, token=login("agency-xining")["token"]), 422,
                       "settlements_invalid")
    assert err["details"]["errors"][0]["field"] == "id_number"
    assert stored(p) == []


def test_idempotency_key_replays_the_answer():
    p = new_person()
    body = csv((p["id_number"], "D013", "2026-01", "1"))
    key = unique("settle-")
    first = post(body, **{"Idempotency-Key": key})
    again = post(body, **{"Idempotency-Key": key})
    assert first.json()["inserted"] == 1
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert_error(post(body.replace(",1\n", ",2\n"),
                      **{"Idempotency-Key": key}),
                 422, "idempotency_key_reused")


def test_mtcertctl_imports_through_the_same_code(tmp_path):
    """R-BEN-4: `mtcertctl settlements import` gives the API's counts and
    refuses the API's bad rows with their lines (exit 2)."""
    p = new_person()
    f = tmp_path / "s.csv"
    f.write_text(csv((p["id_number"], "D013", "2026-01", "3.5")))
    out = ctl("settlements", "import", str(f), "--region", "411200")
    assert json.loads(out.stdout) == {"rows": 1, "inserted": 1, "updated": 0,
                                      "unchanged": 0}
    again = ctl("settlements", "import", str(f), "--region", "411200")
    assert json.loads(again.stdout)["unchanged"] == 1
    j = tmp_path / "s.ndjson"
    j.write_text(json.dumps({"id_number": p["id_number"], "disease": "D013",
                             "month": "2099-01", "amount": "1"}) + "\n")
    bad = ctl("settlements", "import", str(j), "--region", "411200",
              check=False)
    assert bad.returncode == 2
    assert "settlements_invalid" in bad.stderr
    assert "line 1: month: 结算月份不能晚于本月" in bad.stderr
    assert stored(p) == [["D013", "2026-01", "350"]]


def test_mtcertctl_names_a_file_it_cannot_read(tmp_path):
    """R-BEN-4: `mtcertctl settlements import` of a missing file exits 2
    naming the path as given, before any database work."""
    missing = tmp_path / "none" / "s.csv"
    bad = ctl("settlements", "import", str(missing), "--region", "411200",
              check=False)
    assert bad.returncode == 2, (bad.stdout, bad.stderr)
    assert "cannot read %s:" % missing in bad.stderr
    assert bad.stdout == ""


def test_mtcertctl_says_why_the_database_refused_an_import(tmp_path):
    """R-BEN-4: when PostgreSQL refuses the import (here: a config whose
    connections are read-only) `mtcertctl settlements import` exits 1,
    its last line the step that failed after the SQLSTATE logged, and
    imports nothing."""
    p = new_person()
    f = tmp_path / "s.csv"
    f.write_text(csv((p["id_number"], "D013", "2026-01", "3.5")))
    with open(os.path.join(VAR, "mtcert.conf")) as c:
        conf = c.read()
    assert "options='-c " in conf
    ro = tmp_path / "ro.conf"
    ro.write_text(conf.replace(
        "options='-c ", "options='-c default_transaction_read_only=on -c "))
    bad = subprocess.run([CTL, "--config", str(ro), "settlements", "import",
                          str(f), "--region", "411200"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1, (bad.stdout, bad.stderr)
    assert "sqlstate=25006" in bad.stderr      # read_only_sql_transaction
    assert bad.stderr.endswith("mtcertctl: settlements import failed\n"), \
        bad.stderr
    assert bad.stdout == ""
    assert stored(p) == []


def test_a_nul_byte_is_a_line_error_in_the_api_and_in_mtcertctl(tmp_path):
    """R-BEN-4: a file with a NUL byte is not cut at it.  The API and
    `mtcertctl settlements import` (which read it with strlen before)
    both refuse the line that holds it, name the line, import nothing --
    neither the lines before it nor those after; a NUL at a field's end
    (where a C string would just stop) included."""
    p = new_person()
    good = (p["id_number"], "D013", "2026-01", "3.5")
    after = (p["id_number"], "D013", "2026-03", "4")
    for nul in (",D013\0,2026-02,1", ",D013,2026-02\0,1", ",\0"):
        body = csv(good, (p["id_number"] + nul,), after)
        err = assert_error(post(body), 422, "settlements_invalid")
        assert err["details"]["errors"] == [
            {"line": 3, "field": "line", "message": "本行含有 NUL 字节，不是文本"}
        ], err
        f = tmp_path / "nul.csv"
        f.write_bytes(body.encode())
        bad = ctl("settlements", "import", str(f), "--region", "411200",
                  check=False)
        assert bad.returncode == 2, (bad.stdout, bad.stderr)
        assert "settlements_invalid" in bad.stderr
        assert "line 3: line: 本行含有 NUL 字节" in bad.stderr
        assert stored(p) == []
    # Without the NUL the same file imports all three lines.
    f.write_bytes(csv(good, (p["id_number"], "D013", "2026-02", "1"),
                      after).encode())
    out = ctl("settlements", "import", str(f), "--region", "411200")
    assert json.loads(out.stdout)["inserted"] == 3


def test_fifty_thousand_rows_in_one_file():
    """R-BEN-4 at scale: 50,000 rows (1,000 persons x 50 months) in one
    request, then the same file again (all unchanged).  The times are
    printed (pytest -s), never asserted: the machine may be loaded."""
    ids = []
    while len(ids) < 1000:
        # Born in the 1990s: new_person's are born 1940-1989.  This
        # test's own persons of an earlier run on the same database (the
        # ASan pass after the normal one) are sealed: a plain row with
        # one of their numbers would stop every later seal (the HMAC is
        # unique), so numbers anyone holds are drawn again.
        batch = set()
        while len(batch) < 1000 - len(ids):
            i = id_number("411200", "19%02d0%d1%d" % (
                random.randint(90, 99), random.randint(1, 9),
                random.randint(0, 9)), random.randint(100, 999))
            if i not in ids:
                batch.add(i)
        ids += sorted(batch - id_numbers_held(batch))
    sql("INSERT INTO persons (id_number, name, sex, birth_date, phone,"
        " insurance, region) SELECT i, '批量', 'M', '1960-01-01',"
        " '139' || lpad(n::text, 8, '0'), 'resident', '411200'"
        " FROM unnest(ARRAY[%s]) WITH ORDINALITY u(i, n)"
        " ON CONFLICT (id_number) DO NOTHING",
        ",".join("'%s'" % i for i in ids))
    # Written plain, as rows from before 043_identity.sql: sealed in
    # batches (the import finds persons by their ID numbers' HMACs).
    assert ctl("identity", "encrypt", "--batch", "300").stdout.startswith(
        "sealed ")
    months = ["%d-%02d" % (2021 + k // 12, k % 12 + 1) for k in range(50)]
    body = csv(*[(i, "D013", m, "%d.%02d" % (random.randint(0, 999),
                                             random.randint(0, 99)))
                 for i in ids for m in months])
    t0 = time.monotonic()
    r = post(body)
    t1 = time.monotonic()
    assert r.status_code == 200, r.text[:500]
    assert r.json()["rows"] == 50000
    assert r.json()["inserted"] + r.json()["updated"] + \
        r.json()["unchanged"] == 50000
    again = post(body)
    t2 = time.monotonic()
    assert again.json()["unchanged"] == 50000
    print("\nsettlements: 50000 rows (%.1f MiB) first %.2f s (%.0f rows/s),"
          " again %.2f s (%.0f rows/s)" % (len(body) / 1048576, t1 - t0,
                                           50000 / (t1 - t0), t2 - t1,
                                           50000 / (t2 - t1)))
    with open(os.path.join(VAR, "settlements-50k.txt"), "w") as f:
        f.write("%.2f %.2f\n" % (t1 - t0, t2 - t1))


def test_database_down_is_503_and_a_retry_imports_once():
    """R-BEN-4: with PostgreSQL down the import answers 503 (never 500 or
    a hang) and imports nothing; the same request afterwards does."""
    p = new_person()
    body = csv((p["id_number"], "D013", "2026-01", "1"))
    tok = login(AGENCY)["token"]
    stack("pg-stop")
    try:
        assert_error(post(body, token=tok), 503, "service_unavailable")
    finally:
        stack("pg-start")
    assert wait_for(lambda: api("GET", "/health").status_code == 200)
    assert wait_for(lambda: post(body, token=tok).status_code == 200)
    assert stored(p) == [["D013", "2026-01", "100"]]
