"""The shape new modules copy (issue 9 B2, B7; STYLE.md): handlers reach
PostgreSQL only through their module's typed database file (<module>_db.c,
kcgi-framework's db.c), every handler says the statuses it answers, and no
function in modules/ or shared/ runs over 60 lines."""
import glob
import os
import re

import pytest

from conftest import ROOT

C_FILES = sorted(glob.glob(os.path.join(ROOT, "modules", "*", "*.c")) +
                 glob.glob(os.path.join(ROOT, "shared", "*.c")))
HANDLER_FILES = [f for f in glob.glob(os.path.join(ROOT, "modules", "*",
                                                   "*.c"))
                 if not f.endswith("_db.c")
                 and os.path.basename(os.path.dirname(f))
                 in ("agency", "apply", "auth", "benefit", "catalog",
                     "review")]
FUNC = re.compile(r"^(?:static\s+)?[a-zA-Z_][\w \*]*\n([a-z_]\w*)\(([^;{]*?)\)\n\{",
                  re.M)


def ids(p):
    return os.path.relpath(p, ROOT)


def functions(text):
    """(name, first line, length in lines, comment above) of each function
    defined at the left margin in STYLE.md's layout."""
    for m in FUNC.finditer(text):
        start = text.count("\n", 0, m.start(1))
        end = text.index("\n}\n", m.end()) + 2
        length = text.count("\n", m.start(1), end)
        before = text[:m.start()].rstrip()
        comment = before[before.rfind("/*"):] if before.endswith("*/") else ""
        yield m.group(1), start + 1, length, comment


@pytest.mark.parametrize("src", HANDLER_FILES, ids=ids)
def test_handlers_never_touch_libpq(src):
    text = open(src, encoding="utf-8").read()
    for bad in ("libpq-fe.h", "PGresult", "PQgetvalue", "PQntuples",
                "PQclear", "mt_db_query_or_reply", '"mt_db.h"'):
        assert bad not in text, (ids(src), bad)


@pytest.mark.parametrize("src", HANDLER_FILES, ids=ids)
def test_every_handler_says_its_statuses(src):
    text = open(src, encoding="utf-8").read()
    found = 0
    for name, line, _, comment in functions(text):
        if not name.startswith("h_"):
            continue
        found += 1
        assert re.search(r"\b[2-5]\d\d\b", comment), (
            "%s:%d %s has no comment with its statuses" % (ids(src), line,
                                                          name))
    assert found or not re.search(r"\bh_\w+\(struct mt_req", text), src


@pytest.mark.parametrize("src", C_FILES, ids=ids)
def test_no_function_over_60_lines(src):
    text = open(src, encoding="utf-8").read()
    long = ["%s:%d %s (%d lines)" % (ids(src), line, name, n)
            for name, line, n, _ in functions(text) if n > 60]
    assert not long, long
