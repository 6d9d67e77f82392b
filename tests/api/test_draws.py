"""Every draw is auditable (R-SUP-7, issue 12 item 2): each push records
its pool (sorted expert ids), a seed from the strong random source and the
rule; `mtcertctl draw verify` recomputes the choice from the record alone
and says match, or mismatch when the record or what was done with it was
altered."""
from conftest import ctl, live_assignment, login, new_expert, new_region, \
    seed_of_another_choice, sql, submitted_application

ONCO = ["肿瘤"]              # D001: single review


def pushed_region_app(n=4):
    admin = login("admin")["token"]
    reg = new_region()
    experts = [new_expert(admin, reg["hospitals"][1 + i % 2], ONCO)
               for i in range(n)]
    tok, app = submitted_application(reg, disease="D001")
    live_assignment(app["id"])
    return reg, experts, app


def verify(app_id):
    return ctl("draw", "verify", str(app_id), check=False)


def test_a_push_records_its_pool_seed_and_rule_and_verifies():
    reg, experts, app = pushed_region_app()
    (draw_id, pool, k, rule, seed_len, chosen, expert, pool_size), = sql(
        "SELECT d.id, d.pool, d.k, d.rule, length(d.seed), d.chosen,"
        " x.expert_id, x.pool_size FROM assignments x"
        " JOIN draws d ON d.id = x.draw_id WHERE x.application_id = %s",
        app["id"])
    ids = sorted(e["id"] for e in experts)
    # The pool: every eligible expert (all four, two hospitals, none the
    # designated one), sorted; the choice is the assignment's expert.
    assert pool == "{%s}" % ",".join(map(str, ids)), (pool, ids)
    assert (k, rule, seed_len, pool_size) == ("1", "sha256-ctr-u32-fy/1",
                                              "32", "4")
    assert chosen == "{%s}" % expert
    cp = verify(app["id"])
    assert cp.returncode == 0, (cp.stdout, cp.stderr)
    assert "draw %s (push, stage 1): 4 in the pool, chose {%s}: match" % (
        draw_id, expert) in cp.stdout, cp.stdout
    assert "1 draws, 1 match, 0 mismatch" in cp.stdout
    # The pushed event names its draw: the timeline links to the record.
    assert sql("SELECT data->>'draw' FROM events WHERE application_id = %s"
               " AND type = 'pushed'", app["id"]) == [[draw_id]]


def test_an_altered_record_is_a_mismatch():
    """Three alterations, each restored: another expert on the
    assignment, another seed, a pool without the chosen one's rival.
    Each is named, exit 3."""
    reg, experts, app = pushed_region_app()
    (aid, draw_id, expert, seed, pool), = sql(
        "SELECT x.id, d.id, x.expert_id, encode(d.seed, 'hex'), d.pool"
        " FROM assignments x JOIN draws d ON d.id = x.draw_id"
        " WHERE x.application_id = %s", app["id"])
    other = next(e["id"] for e in experts if str(e["id"]) != expert)
    try:
        sql("UPDATE assignments SET expert_id = %s WHERE id = %s", other, aid)
        cp = verify(app["id"])
        assert cp.returncode == 3, cp.stdout
        assert "MISMATCH: what was done differs from the choice" in cp.stdout
    finally:
        sql("UPDATE assignments SET expert_id = %s WHERE id = %s", expert, aid)
    assert verify(app["id"]).returncode == 0
    # Another seed with which the rule chooses another of the 4: the
    # verifier must recompute, not trust.
    sql("UPDATE draws SET seed = decode('%s', 'hex') WHERE id = %s",
        seed_of_another_choice(draw_id), draw_id)
    try:
        cp = verify(app["id"])
        assert cp.returncode == 3, cp.stdout
        assert "the seed and the pool give another choice" in cp.stdout
    finally:
        sql("UPDATE draws SET seed = decode('%s', 'hex') WHERE id = %s",
            seed, draw_id)
    assert verify(app["id"]).returncode == 0
    # An erased link: the push refers to no draw.
    sql("UPDATE assignments SET draw_id = NULL WHERE id = %s", aid)
    try:
        cp = verify(app["id"])
        assert cp.returncode == 3, cp.stdout
        assert "assignment %s refers to no draw" % aid in cp.stdout
    finally:
        sql("UPDATE assignments SET draw_id = %s WHERE id = %s", draw_id, aid)
    cp = verify(app["id"])
    assert cp.returncode == 0, cp.stdout


def test_verify_refuses_a_bad_argument():
    cp = ctl("draw", "verify", "12x", check=False)
    assert cp.returncode == 2 and "application's number" in cp.stderr
    cp = ctl("draw", "verify", check=False)
    assert cp.returncode == 2 and "usage" in cp.stderr
