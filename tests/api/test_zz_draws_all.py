"""Every draw of the whole test suite verifies (R-SUP-7, S0 四(二); issue
12's done-when: `mtcertctl draw verify` matches on every application of
the test suite).  Named to run last: by then every other test file has
pushed, refused, expired, withdrawn and decided, and the ones that alter
a record on purpose (test_draws.py) have put it back.  A test that draws
outside a push (test_review.py's chi-square) deletes the draws nothing
used; one that made a draw nobody used, or an assignment without its
draw, fails here -- fix the test, never the verifier."""
import re

from conftest import ctl, live_assignment, login, new_expert, new_region, \
    sql, submitted_application


def test_every_draw_of_the_suite_verifies():
    # At least one push of its own, so the run is never vacuous (this
    # file alone on a fresh stack).
    admin = login("admin")["token"]
    reg = new_region()
    new_expert(admin, reg["hospitals"][1], ["肿瘤"])
    _, app = submitted_application(reg, disease="D001")
    live_assignment(app["id"])
    cp = ctl("draw", "verify", "--all", check=False)
    bad = [line for line in cp.stdout.splitlines() if "MISMATCH" in line]
    assert cp.returncode == 0, "\n".join(bad[:20]) or cp.stdout[-2000:]
    m = re.search(r"^all: (\d+) applications, 0 with a mismatch$",
                  cp.stdout, re.M)
    assert m, cp.stdout[-2000:]
    n = int(sql("SELECT count(DISTINCT application_id) FROM draws")[0][0])
    assert int(m.group(1)) >= 1 and int(m.group(1)) <= n
    assert "application %s: 1 draws, 1 match, 0 mismatch" % app["id"] \
        in cp.stdout
