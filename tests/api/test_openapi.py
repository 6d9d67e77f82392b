"""The contract: docs/openapi.yaml and the route tables of modules/ agree
(API.md: the project keeps the full OpenAPI file and its tests check the
server against it)."""
import glob
import os
import re

import jsonschema
import pytest

from conftest import ROOT, api, bearer, login
from contract import SPEC, check_answer, conforms, operation_of


def test_conforms_refuses_what_the_schema_does_not():
    """conforms can fail: a missing required field, a wrong type, a value
    outside its pattern, a date-time that is not RFC 3339 (Debian's
    jsonschema alone lets any string pass), null where none is allowed."""
    good = {"quarter": "2026Q3", "row_count": 3, "sha256": "ab" * 32,
            "submitted_at": "2026-10-12T09:30:00.5+08:00"}
    conforms(good, "QuarterlySubmitted")
    for bad in ({k: v for k, v in good.items() if k != "sha256"},
                dict(good, row_count="3"), dict(good, quarter="2026Q5"),
                dict(good, submitted_at="2026-10-12 09:30:00+08:00"),
                dict(good, submitted_at="2026-13-12T09:30:00Z"),
                dict(good, row_count=None)):
        with pytest.raises(jsonschema.ValidationError):
            conforms(bad, "QuarterlySubmitted")
    # nullable: null is a value there.
    conforms({"institution": {"code": "H63010200143", "name": "x"}, "quarter": "2026Q3",
              "from": "2026-07-01", "to": "2026-09-30", "due_on": "2026-10-20",
              "ended": True, "submitted": None, "items": []}, "QuarterlyReport")


def test_every_answer_of_the_suite_is_checked_and_can_fail():
    """conftest's client() checks every answer with check_answer: it names
    a body that is not what the operation's status declares, a status the
    operation does not declare, a media type it does not declare (an HTML
    page where JSON is), a path the contract does not have, and passes a
    real answer and its HEAD."""
    r = api("GET", "/diseases/D001")
    assert check_answer("GET", "/diseases/D001", 200,
                        r.headers["Content-Type"], r.content) is None
    wrong = check_answer("GET", "/diseases/D001", 200, "application/json",
                         b'{"code": "D001"}')
    assert wrong.startswith("GET /diseases/{code} 200: at the top: ") and "name" in wrong
    assert check_answer("GET", "/diseases/D001", 418, "application/json",
                        b"{}") == ("GET /diseases/{code}: 418 is not a"
                                   " status the contract declares")
    assert check_answer("GET", "/diseases/D001", 200, "text/html",
                        b"<html></html>") == (
        "GET /diseases/{code} 200: text/html, where the contract declares"
        " application/json")
    assert check_answer("HEAD", "/diseases/D001", 200,
                        r.headers["Content-Type"], b"") is None
    assert "no such operation" in check_answer(
        "PATCH", "/diseases/D001", 200, "application/json", b"{}")
    assert check_answer("GET", "/nothing-here", 404, "application/json",
                        b"{}") is None
    assert operation_of("GET", "/qualifications/letter") == \
        "/qualifications/letter"
    assert operation_of("GET", "/qualifications/7/card") == \
        "/qualifications/{id}/card"


ROUTE = re.compile(r'\{\s*"(GET|POST|PUT|PATCH|DELETE)",\s*"(/[^"]*)"')


def routes():
    found = set()
    for src in glob.glob(os.path.join(ROOT, "modules", "*", "*.c")):
        text = open(src, encoding="utf-8").read()
        if "struct mt_route routes[]" not in text:
            continue
        table = text[text.index("struct mt_route routes[]"):]
        table = table[:table.index("};")]
        found |= {(m.lower(), p) for m, p in ROUTE.findall(table)}
    return found


def documented(status=None):
    ops = set()
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete") and (
                    status is None or op.get("x-mtcert-status") == status):
                ops.add((method, path))
    return ops


def test_every_route_is_documented_as_implemented():
    r = routes()
    assert len(r) >= 8
    assert r == documented("implemented"), (r ^ documented("implemented"))


def test_api_md_outline_is_covered():
    for method, path in [("get", "/health"), ("get", "/diseases/{code}"),
                         ("post", "/applications/{id}/submit"),
                         ("post", "/expert/tasks/{aid}/accept"),
                         ("post", "/agency/audits")]:
        assert (method, path) in documented(), (method, path)


def test_documented_paths_answer():
    tok = login("admin")["token"]
    for method, path in sorted(documented("implemented")):
        url = path.replace("{code}", "D001")
        params = {"region": "411200"} if path == "/agency/policy" else None
        r = api(method.upper(), url, headers=bearer(login("admin")["token"])
                if path == "/auth/logout" else bearer(tok), params=params,
                json={"login": "admin", "password": "mtcert-admin-2026"}
                if method == "post" else None)
        assert r.status_code != 404, (method, path, r.text)
        assert r.status_code < 500, (method, path, r.text)
        declared = SPEC["paths"][path][method]["responses"]
        assert str(r.status_code) in declared, (method, path, r.status_code)
