"""The contract: docs/openapi.yaml and the route tables of modules/ agree
(API.md: the project keeps the full OpenAPI file and its tests check the
server against it)."""
import datetime
import glob
import os
import re

import jsonschema
import pytest
import yaml

from conftest import ROOT, api, bearer, login

SPEC = yaml.safe_load(open(os.path.join(ROOT, "docs", "openapi.yaml"),
                           encoding="utf-8"))


def _json_schema(node):
    """An OpenAPI 3.0 schema object as JSON Schema: `nullable: true` is a
    type that also admits null, `example` goes; the rest is the same.
    Only schema objects are changed, never the names of `properties`."""
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in ("nullable", "example"):
            continue
        if k == "properties":
            v = {name: _json_schema(p) for name, p in v.items()}
        elif k in ("items", "additionalProperties", "not"):
            v = _json_schema(v)
        elif k in ("allOf", "anyOf", "oneOf"):
            v = [_json_schema(p) for p in v]
        out[k] = v
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


_ROOT = {"components": {"schemas": {
    name: _json_schema(s) for name, s in SPEC["components"]["schemas"].items()}}}
# Draft 7's format checker, and RFC 3339's date-time, which Debian's
# jsonschema checks only with a package Debian does not have
# (rfc3339-validator): without it any string would pass as a date-time.
_FORMATS = jsonschema.FormatChecker(
    jsonschema.Draft7Validator.FORMAT_CHECKER.checkers)
_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
                        r"(Z|[+-]\d\d:\d\d)")


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value):
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def conforms(body, schema):
    """Assert that a decoded JSON answer is what components/schemas/<schema>
    of docs/openapi.yaml says (types, required and enumerated fields,
    patterns, dates and date-times), with jsonschema's own message.
    schema is a component's name, or a schema object of the file (an
    operation's answer written in place)."""
    if isinstance(schema, str):
        schema = {"$ref": "#/components/schemas/" + schema}
    jsonschema.validate(body, dict(_ROOT, **_json_schema(schema)),
                        cls=jsonschema.Draft7Validator,
                        format_checker=_FORMATS)


def answer_schema(path, method="get", status="200"):
    """The JSON schema docs/openapi.yaml gives the answer of an operation
    (path as written there, "/applications/{id}"), or None when that
    answer is not JSON."""
    content = SPEC["paths"][path][method]["responses"][status].get(
        "content", {})
    return content.get("application/json", {}).get("schema")


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
