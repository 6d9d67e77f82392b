"""One error table (issue 9 B1): shared/mt_error.c holds every refusal's
status, code and Chinese text; the OpenAPI file, nginx's own answers, the
SQL functions' refusals and the C sources are held against it both ways."""
import glob
import json
import os
import re
import subprocess

import pytest

from conftest import CTL, HANG, ROOT, api, assert_error
from contract import SPEC


def table():
    out = subprocess.run([CTL, "errors"], capture_output=True, text=True,
                         timeout=HANG, check=True).stdout
    rows = json.loads(out)
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes)), "a code stands twice"
    return {r["code"]: r for r in rows}


TABLE = table()


def test_every_row_is_a_snake_case_code_with_a_chinese_text():
    for code, r in TABLE.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code
        assert 400 <= r["status"] <= 599, code
        assert re.search(r"[\u4e00-\u9fff]", r["message"]), code


def test_the_openapi_file_lists_exactly_the_table():
    enum = SPEC["components"]["schemas"]["ErrorDetail"]["properties"][
        "code"]["enum"]
    assert set(enum) == set(TABLE), (set(enum) ^ set(TABLE))


def examples(node):
    """Every error example under a response: (code, message)."""
    if isinstance(node, dict):
        err = node.get("error")
        if isinstance(err, dict) and "code" in err:
            yield err["code"], err.get("message")
        for v in node.values():
            yield from examples(v)
    elif isinstance(node, list):
        for v in node:
            yield from examples(v)


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node = SPEC["components"]["responses"].get(name, node)
        if "$ref" in node and node["$ref"].split("/")[-1] == name:
            break
    return node


def test_every_documented_error_has_the_status_of_its_row():
    seen = 0
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, resp in op["responses"].items():
                for code, _ in examples(resolve(resp)):
                    assert code in TABLE, (method, path, code)
                    assert str(TABLE[code]["status"]) == str(status), (
                        method, path, status, code)
                    seen += 1
    assert seen > 50


NGINX_ERR = re.compile(r"return (\d{3}) '(\{\"error\":\{[^']*\}\})'")


def test_nginx_answers_are_rows_with_the_same_status_and_text():
    found = 0
    for f in glob.glob(os.path.join(ROOT, "nginx", "*")):
        for status, body in NGINX_ERR.findall(open(f, encoding="utf-8").read()):
            err = json.loads(body)["error"]
            assert err["code"] in TABLE, (f, err["code"])
            assert TABLE[err["code"]]["status"] == int(status), (f, err)
            assert err["message"] == TABLE[err["code"]]["message"].replace(
                "%s", ""), (f, err)
            found += 1
    assert found >= 4


SQL_ERR = re.compile(r"'error',\s*'([a-z_]+)'")


def test_sql_refusals_are_rows():
    found = 0
    for f in glob.glob(os.path.join(ROOT, "sql", "fn", "*.sql")):
        for code in SQL_ERR.findall(open(f, encoding="utf-8").read()):
            assert code in TABLE, (f, code)
            found += 1
    assert found >= 5


SOURCES = sorted(glob.glob(os.path.join(ROOT, "modules", "*", "*.c")) +
                 glob.glob(os.path.join(ROOT, "shared", "*.c")))


@pytest.mark.parametrize("src", SOURCES,
                         ids=lambda p: os.path.relpath(p, ROOT))
def test_no_refusal_outside_the_table(src):
    """C answers refusals only through mt_reply_err / mt_reply_refusal:
    no status, code or text of its own (the envelope writer itself is a
    static function of mt_error.c)."""
    if os.path.basename(src) == "mt_error.c":
        return
    text = open(src, encoding="utf-8").read()
    assert not re.search(r"\bmt_reply_error(_details)?\(", text), src


def test_a_refusal_answers_with_its_row():
    r = api("GET", "/diseases", params={"region": "999999"})
    row = TABLE["region_not_found"]
    assert_error(r, row["status"], "region_not_found")
    assert r.json()["error"]["message"] == row["message"]
