"""The contract of docs/openapi.yaml as the API tests read it: the file
(SPEC), an answer checked against a schema of it (conforms), the schema
an operation's answer has (answer_schema), and the operation a request
was (operation_of).  conftest's client() checks every answer of the
suite with check_answer; test_openapi checks the file against the route
tables."""
import datetime
import json
import os
import re

import jsonschema
import yaml

ROOT = os.environ.get("MTCERT_ROOT", os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..")))
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
# Each schema is itself JSON Schema (checked once: the metaschema does
# not look into "components"); a validator each, built on first use (the
# suite checks every answer with them).
for _schema in _ROOT["components"]["schemas"].values():
    jsonschema.Draft7Validator.check_schema(_schema)
_VALIDATORS = {}
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
    key = json.dumps(schema, sort_keys=True)
    if key not in _VALIDATORS:
        _VALIDATORS[key] = jsonschema.Draft7Validator(
            dict(_ROOT, **_json_schema(schema)), format_checker=_FORMATS)
    error = jsonschema.exceptions.best_match(
        _VALIDATORS[key].iter_errors(body))
    if error is not None:
        raise error


def _response(path, method, status):
    """The response object the file declares for an operation's status
    (a components/responses one followed), or None if it declares none."""
    res = SPEC["paths"][path][method]["responses"].get(str(status))
    if res is not None and "$ref" in res:
        res = SPEC["components"]["responses"][res["$ref"].rsplit("/", 1)[1]]
    return res


def _json_schema_of(res):
    return res.get("content", {}).get("application/json", {}).get("schema")


def answer_schema(path, method="get", status="200"):
    """The JSON schema docs/openapi.yaml gives the answer of an operation
    (path as written there, "/applications/{id}"), or None when that
    answer is not JSON."""
    return _json_schema_of(_response(path, method, status))


# Each path of the file as a pattern, the literal ones first:
# /qualifications/letter is not /qualifications/{id}.
_PATHS = sorted(((re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+",
                                         re.escape(p)) + "$"), p)
                 for p in SPEC["paths"]), key=lambda t: (t[1].count("{"), t[1]))


def operation_of(method, path):
    """The path of the file ("/applications/{id}") that a request's path
    under /api/v1 ("/applications/12") is an operation of, or None."""
    for pattern, template in _PATHS:
        if pattern.match(path) and method.lower() in SPEC["paths"][template]:
            return template
    return None


def check_answer(method, path, status, content_type, body):
    """What is wrong with an answer against the contract, or None: an
    operation the file does not have, a status it does not declare for
    it, a media type it does not declare for that status (an HTML error
    page of nginx where JSON is declared), or a JSON body that is not what
    it declares.  A HEAD is its GET without the body.  A path the file
    does not have may answer 404 or 405 (the tests of unknown routes ask
    for those)."""
    if method == "HEAD":
        method, body = "GET", None
    template = operation_of(method, path)
    if template is None:
        if status in (404, 405):
            return None
        return "%s %s: no such operation in the contract" % (method, path)
    res = _response(template, method.lower(), status)
    if res is None:
        return "%s %s: %d is not a status the contract declares" % (
            method, template, status)
    content = res.get("content", {})
    media = content_type.split(";", 1)[0].strip()
    if content and media not in content:
        return "%s %s %d: %s, where the contract declares %s" % (
            method, template, status, media or "no Content-Type",
            ", ".join(sorted(content)))
    schema = _json_schema_of(res)
    if schema is None or media != "application/json" or body is None:
        return None
    try:
        conforms(json.loads(body), schema)
    except ValueError as e:
        return "%s %s %d: not JSON (%s)" % (method, template, status, e)
    except jsonschema.ValidationError as e:
        return "%s %s %d: at %s: %s" % (
            method, template, status,
            "/".join(str(p) for p in e.absolute_path) or "the top",
            e.message)
    return None
