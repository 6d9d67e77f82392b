"""The dispatcher at its throughput (issue 13 item 2): a burst of
assignments falling due at once with two dispatchers racing over it, the
timer sets rebuilt only when Redis lost them, and coalesced wake-ups.
Only invariants are asserted, never speed: each bound is a hang bound."""
import os
import subprocess
import time

from conftest import (HANG, ROOT, VAR, held, login, new_region,
                      redis, sql, submitted_application, wait_for,
                      live_assignment)
from test_objection import object_to, rejected, seats
from test_review import ONCO, never_disqualify, region_with_experts, \
    second_dispatcher
from test_metrics import dispatcher_value

BURST = 500


def make_due(reg, n, seconds=2):
    """n in-review applications of reg, each with a pushed assignment that
    falls due `seconds` from now (as the bench makes them: by SQL).
    Returns the assignments' ids."""
    code = reg["region"]
    sql("INSERT INTO persons (id_number, name, sex, birth_date, phone,"
        " insurance, region) SELECT '%s19' || lpad(g::text, 10, '0'), '突发',"
        " 'M', '1960-01-01', '138' || lpad(g::text, 8, '0'), 'resident', '%s'"
        " FROM generate_series(1, %d) g", code, code, n)
    return [int(r[0]) for r in sql(
        "WITH ex AS (SELECT array_agg(e.user_id ORDER BY e.user_id) a"
        "            FROM experts e JOIN users u ON u.id = e.user_id"
        "            JOIN institutions i ON i.code = u.institution"
        "            WHERE i.region = '%s'),"
        " p AS (SELECT id, row_number() OVER (ORDER BY id) rn FROM persons"
        "       WHERE region = '%s' AND name = '突发'),"
        " a AS (INSERT INTO applications (person_id, disease, region, channel,"
        "         review_mode, status, stage, phone, medical_record_no,"
        "         designated_institution, filed_by, promised_at, submitted_at)"
        "       SELECT id, 'D001', '%s', 'web', 'single', 'in_review', 1,"
        "              '13800000000', 'B', '%s',"
        "              (SELECT id FROM users WHERE login = 'admin'), now(),"
        "              now() FROM p RETURNING id, person_id)"
        # Each expert chosen by a recorded draw, as the engine does, so
        # `mtcertctl draw verify --all` (test_zz_draws_all) still holds.
        " INSERT INTO assignments (application_id, stage, expert_id, hospital,"
        "                          pool_size, pushed_at, accept_deadline,"
        "                          draw_id)"
        " SELECT a.id, 1, (d).chosen[1], '%s', cardinality(ex.a), now(),"
        "        now() + interval '%d seconds', (d).id"
        " FROM a, ex, LATERAL (SELECT record_draw('push', '%s', ex.a, 1,"
        "                                         a.id, 1) AS d) r"
        " RETURNING id",
        code, code, code, reg["hospitals"][0], reg["hospitals"][1], seconds,
        code)]


def test_a_burst_with_two_dispatchers_expires_each_once():
    """BURST assignments due at once, two dispatchers claiming them (and
    the overdue sweep racing the timers): each is expired exactly once,
    each application is pushed again, and no stage ever has two live
    assignments."""
    admin, reg, ex = region_with_experts(ONCO, n=6)
    never_disqualify(reg)
    burst_under_two_dispatchers(reg)
    assert_no_stage_twice_live(reg)


def burst_under_two_dispatchers(reg):
    """BURST assignments of reg made due at once and armed from
    PostgreSQL, a second dispatcher beside the stack's: returns them once
    each is expired and its application pushed again, each expired once."""
    extra = second_dispatcher()
    try:
        asgs = make_due(reg, BURST)
        assert len(asgs) == BURST
        redis("DEL", "dispatcher:rebuilt")      # arm them from PostgreSQL
        assert wait_for(lambda: expired_and_pushed_again(asgs),
                        timeout=HANG * 5)
    finally:
        extra.terminate()
        extra.wait(10)
    assert_each_expired_once(asgs)
    return asgs


def expired_and_pushed_again(asgs):
    """True when every assignment of asgs is expired and its application
    has a later one."""
    return sql("SELECT count(*) FROM assignments x WHERE x.id IN (%s)"
               " AND x.state = 'expired' AND EXISTS (SELECT 1 FROM"
               " assignments n WHERE n.application_id ="
               " x.application_id AND n.id > x.id)",
               ",".join(map(str, asgs))) == [[str(len(asgs))]]


def assert_each_expired_once(asgs):
    """One 'expired' event for each assignment of asgs, never two."""
    events = sql("SELECT data->>'assignment', count(*) FROM events"
                 " WHERE type = 'expired' AND (data->>'assignment')::bigint"
                 " IN (%s) GROUP BY 1", ",".join(map(str, asgs)))
    assert len(events) == len(asgs)
    assert {n for _, n in events} == {"1"}, events


def assert_no_stage_twice_live(reg):
    """No application of reg has two live assignments for one stage."""
    double = sql("SELECT x.application_id, x.stage FROM assignments x"
                 " JOIN applications a ON a.id = x.application_id"
                 " WHERE a.region = '%s' AND x.state IN ('pushed', 'accepted')"
                 " GROUP BY 1, 2 HAVING count(*) > 1", reg["region"])
    assert double == []


def timer(reg, asg):
    return redis("ZSCORE", "timers:{%s}" % reg["region"], str(asg))


def redis_run_id():
    """This run of Redis (INFO server's run_id): what the marker
    dispatcher:rebuilt names once the timer sets are complete."""
    return [line.split(":", 1)[1] for line in redis("INFO", "server")
            .splitlines() if line.startswith("run_id:")][0].strip()


def test_a_flush_and_a_restart_of_redis_rebuild_the_timers():
    """Redis flushed: the marker and the timer sets come back from
    PostgreSQL.  A marker naming another run of Redis (what a restart
    leaves: its run_id changes) is a rebuild too: a timer missing since
    is back."""
    admin, reg, ex = region_with_experts(ONCO, n=1)
    tok, app = submitted_application(reg, disease="D001")
    asg = live_assignment(app["id"])["id"]
    assert wait_for(lambda: timer(reg, asg) != "")
    run_id = redis_run_id()
    redis("FLUSHALL")
    assert wait_for(lambda: timer(reg, asg) != "")
    assert wait_for(lambda: redis("GET", "dispatcher:rebuilt") == run_id)

    redis("ZREM", "timers:{%s}" % reg["region"], str(asg))
    redis("SET", "dispatcher:rebuilt", "0" * 40)
    assert wait_for(lambda: timer(reg, asg) != "")
    assert wait_for(lambda: redis("GET", "dispatcher:rebuilt") == run_id)


def test_a_rebuild_of_more_than_a_page_arms_every_timer():
    """The rebuild reads the pushed assignments a page (2,000) at a time
    (issue 13: read whole, 100,000 of them left the dispatcher's RSS
    16 MB higher): with 4,500 pushed in a region whose timer set is gone,
    every one is back in it, at its deadline, after a rebuild -- the last
    page's too -- and the marker is set only then."""
    admin, reg, ex = region_with_experts(ONCO, n=2)
    asgs = make_due(reg, 4500, seconds=86400)
    key = "timers:{%s}" % reg["region"]
    try:
        redis("DEL", key)
        redis("DEL", "dispatcher:rebuilt")
        assert wait_for(lambda: int(redis("ZCARD", key)) == len(asgs),
                        timeout=HANG * 2)
        assert wait_for(lambda: redis("GET", "dispatcher:rebuilt")
                        == redis_run_id())
        deadlines = dict(sql(
            "SELECT id, (extract(epoch FROM accept_deadline) * 1000)::bigint"
            " FROM assignments WHERE id IN (%s)", ",".join(map(str, asgs))))
        for asg in (asgs[0], asgs[1999], asgs[2000], asgs[-1]):
            assert int(float(timer(reg, asg))) == int(deadlines[str(asg)])
    finally:
        # Not left live for the tests after this one (a day's deadline).
        sql("UPDATE assignments SET state = 'cancelled', ended_at = now()"
            " WHERE id IN (%s)", ",".join(map(str, asgs)))
        redis("DEL", key)


def test_one_dispatcher_rebuilds_at_a_time():
    """Two dispatchers, the marker gone: one rebuilds (dispatcher:rebuilding
    is its), the other finds the marker current again after it and does
    not rebuild the same timers a second time.  (Both rebuilding at once
    ran batches between their pages against each other: issue 13.)  The
    wait after the marker is back only gives the second its chance: were
    it to rebuild, there would be two lines; on a slow machine it may not
    have looked yet, and there is one either way."""
    admin, reg, ex = region_with_experts(ONCO, n=2)
    asgs = make_due(reg, 50, seconds=86400)
    logs = [os.path.join(VAR, "log", "dispatcher.log"),
            os.path.join(VAR, "log", "dispatcher-test-2.log")]
    sizes = [os.path.getsize(logs[0]), 0]
    with open(logs[1], "w") as err:
        extra = subprocess.Popen(
            ["setpriv", "--reuid=mtcert", "--regid=mtcert", "--init-groups",
             "--", os.path.join(os.environ.get("MTCERT_BUILD", os.path.join(
                 ROOT, "build")), "bin", "mtcert-dispatcher"), "--config",
             os.path.join(VAR, "mtcert.conf")],
            stdout=subprocess.DEVNULL, stderr=err)
    try:
        # The second is up (its first turn rebuilt or found the marker).
        assert wait_for(lambda: "started" in open(logs[1]).read()
                        or "rebuilt" in open(logs[1]).read())
        time.sleep(2)
        sizes[1] = os.path.getsize(logs[1])
        redis("DEL", "dispatcher:rebuilt")
        assert wait_for(lambda: redis("GET", "dispatcher:rebuilt")
                        == redis_run_id())
        time.sleep(3)
        rebuilt = []
        for log, at in zip(logs, sizes):
            with open(log, errors="replace") as f:
                f.seek(at)
                rebuilt += [line for line in f if " rebuilt " in line]
        assert len(rebuilt) == 1, rebuilt
        assert redis("EXISTS", "dispatcher:rebuilding") == "0"
    finally:
        extra.terminate()
        extra.wait(10)
        sql("UPDATE assignments SET state = 'cancelled', ended_at = now()"
            " WHERE id IN (%s)", ",".join(map(str, asgs)))


# The rebuild page's statement (LIVE_TIMERS in dispatcher.c), as
# pg_stat_activity shows it.
REBUILD_PAGE = "x.accept_deadline >= $1::timestamptz"


def dispatcher_backends():
    """The backends of the dispatchers' connections (application_name
    mtcert-dispatcher): their PIDs."""
    return [p for p, in sql("SELECT pid FROM pg_stat_activity"
                            " WHERE application_name = 'mtcert-dispatcher'")]


def waiting_on(backends):
    """The statements of those backends that wait on a lock (the test's
    own, held: nothing else takes one that blocks a read)."""
    return [q for q, in sql("SELECT query FROM pg_stat_activity WHERE"
                            " pid = ANY('{%s}'::int[]) AND"
                            " pg_blocking_pids(pid) <> '{}'",
                            ",".join(backends))]


def test_a_rebuild_asked_for_again_while_it_runs_runs_again():
    """The marker removed while a rebuild reads its pages (a DEL asking for
    a rebuild, a FLUSHALL): that rebuild is not taken as complete, another
    follows, and only then does the marker name this run of Redis.  (Issue
    13, sixth round: a rebuild begun at a dispatcher's start took a DEL
    made during its pages as done; its pages were past the rows written
    meanwhile, whose timers were never armed, and the overdue sweep alone
    expired them: 58 re-pushes/s.)  The rebuild is held at its first page
    by a lock on assignments, so the DEL falls inside it on any machine.
    A dispatcher may reach another statement on assignments first (its
    metrics' gauges, the sweep): once every dispatcher waits on the lock
    and none at the rebuild page, the lock is let go, that rebuild ends,
    and the test takes the lock again.  So does an attempt in which a
    statement waited past the stack's client deadline (pg_deadline_ms,
    3 s: "did not answer", and the connection is made again): its
    rebuild was cut short by the deadline, not by the DEL."""
    admin, reg, ex = region_with_experts(ONCO, n=1)
    asgs = make_due(reg, 3, seconds=86400)     # rows for its pages
    log = os.path.join(VAR, "log", "dispatcher.log")

    def since(at):
        with open(log, errors="replace") as f:
            f.seek(at)
            return f.readlines()

    def cut(at):        # a statement waited past the client deadline
        return any("did not answer" in line or "connection lost" in line
                   for line in since(at))
    try:
        for _ in range(20):
            assert wait_for(lambda: redis("GET", "dispatcher:rebuilt")
                            == redis_run_id(), timeout=HANG * 2)
            assert wait_for(dispatcher_backends)
            backends = dispatcher_backends()
            at = os.path.getsize(log)
            with held("LOCK TABLE assignments IN ACCESS EXCLUSIVE MODE"):
                redis("DEL", "dispatcher:rebuilt")
                waits = []

                def settled():
                    waits[:] = waiting_on(backends)
                    return any(REBUILD_PAGE in q for q in waits) or len(
                        waits) >= len(backends) or cut(at)
                assert wait_for(settled)
                # A rebuild has begun and waits at its first page.
                caught = any(REBUILD_PAGE in q for q in waits)
                if caught:
                    redis("DEL", "dispatcher:rebuilt")     # again
            assert wait_for(lambda: redis("GET", "dispatcher:rebuilt")
                            == redis_run_id(), timeout=HANG * 2)
            if cut(at):
                caught = False
            if caught:
                break
        assert caught, "every attempt was held before the rebuild page"
        # Two rebuilds: the one asked for again, and another after it
        # (the code before this round took the first as complete).
        lines = [line for line in since(at) if " rebuil" in line]
        assert any("rebuilding again" in line for line in lines), lines
        assert sum(" rebuilt " in line for line in lines) >= 2, lines
        # The marker came back from a whole rebuild after the one cut
        # short: each of the rows is in its timer set.
        for asg in asgs:
            assert timer(reg, asg) != ""
    finally:
        sql("UPDATE assignments SET state = 'cancelled', ended_at = now()"
            " WHERE id IN (%s)", ",".join(map(str, asgs)))


def test_queued_wake_ups_are_taken_at_once_and_the_pool_one_counts():
    """Many wake-ups queued at once (the dispatcher takes the queue whole:
    one turn for all of them) lose nothing: a "pool" wake-up anywhere in
    the queue still retries the applications that wait for an expert,
    and a submit after them is pushed.  (That the queue empties is not
    asserted: a dispatcher kept busy looks without waiting for one.)
    The retry every 10 s would push the waiting one even if the "pool"
    wake-up were lost, so the wake-up itself is seen in its counter
    (mtcert_dispatcher_pool_wakes_total): it fails when the wake-up is
    lost, and it needs no dispatcher of its own with another clock."""
    admin = login("admin")["token"]
    reg = new_region()
    tok, waiting = submitted_application(reg, disease="D001")   # nobody
    assert wait_for(lambda: sql("SELECT unassigned_since IS NOT NULL FROM"
                                " applications WHERE id = %s", waiting["id"])
                    == [["t"]])
    # An expert appears without the agency's wake-up (straight in SQL) ...
    sql("WITH u AS (INSERT INTO users (login, role, password_hash,"
        " institution, region) VALUES ('wake-%s', 'expert', 'x', '%s', '%s')"
        " RETURNING id), e AS (INSERT INTO experts (user_id, title)"
        " SELECT id, '副高' FROM u RETURNING user_id)"
        " INSERT INTO expert_specialties SELECT user_id, '肿瘤' FROM e",
        reg["region"], reg["hospitals"][1], reg["region"])
    # ... and, once earlier wake-ups are taken, the queue holds many,
    # "pool" among them.
    assert wait_for(lambda: redis("LLEN", "wake") == "0")
    before = dispatcher_value("pool_wakes_total")
    redis("LPUSH", "wake", *(["submit"] * 200 + ["pool"] + ["stage"] * 200))
    assert wait_for(lambda: dispatcher_value("pool_wakes_total") > before)
    assert live_assignment(waiting["id"])
    tok, fresh = submitted_application(reg, disease="D001")
    assert live_assignment(fresh["id"])


def test_every_seat_of_an_objection_panel_has_its_timer():
    """A panel is pushed whole (one push, every seat): each seat's timer
    is armed with it, not left to a rebuild (there is none while Redis
    is healthy)."""
    reg, ex, tok, app, x = rejected(5)
    assert object_to(tok, app["id"]).status_code == 201
    for s in seats(app["id"], 3):
        assert wait_for(lambda: timer(reg, s["id"]) != ""), s


def test_a_batch_counting_a_miss_holds_up_no_push_to_that_expert():
    """R-CER-4 in a batch (count_misses, sql/fn/30_review.sql): while a
    batch that counted expert E's miss is still open, a push drawing E
    elsewhere -- another dispatcher's first push, another region's
    province pool -- is not held up: the batch locks E's row as its
    UPDATE of the miss count does (FOR NO KEY UPDATE), never FOR UPDATE,
    which also blocks the new assignment's reference to E until the batch
    commits (and with a push holding E's application, a deadlock)."""
    from test_feed import Session
    admin, reg, ex = region_with_experts(ONCO, n=2)
    asg = make_due(reg, 1, seconds=3600)[0]
    app, expert, hospital = sql(
        "SELECT application_id, expert_id, hospital FROM assignments"
        " WHERE id = %s", asg)[0]
    batch = Session()
    try:
        batch.run("BEGIN;")
        batch.run("SELECT count_misses(ARRAY[%s]::bigint[]);" % asg)
        assert batch.run("SELECT consecutive_misses FROM experts"
                         " WHERE user_id = %s;" % expert) == ["1"]
        # Another push to the same expert, while the batch is open (rolled
        # back: only whether it waits matters).  Held up, it would wait
        # until the batch ends: any timeout tells, however slow the
        # machine.
        sql("BEGIN; SET LOCAL lock_timeout = '10s';"
            " INSERT INTO assignments (application_id, stage, expert_id,"
            " hospital, pool_size, accept_deadline) VALUES (%s, 2, %s, '%s',"
            " 1, now() + interval '1 hour'); ROLLBACK",
            app, expert, hospital)
    finally:
        batch.run("ROLLBACK;")
        batch.close()


def test_two_dispatchers_count_each_miss_once():
    """R-CER-4 with two dispatchers (count_misses, last in repush_batch:
    no expert row is held across a whole batch): BURST assignments of
    two experts fall due at once and both dispatchers expire them, their
    batches sharing both experts.  Each expert's consecutive_misses ends
    at exactly the number of their assignments that expired: no miss
    counted twice, none lost."""
    admin, reg, ex = region_with_experts(ONCO, n=2)
    never_disqualify(reg)
    burst_under_two_dispatchers(reg)
    counts = sql("SELECT e.user_id, e.consecutive_misses, (SELECT count(*)"
                 " FROM assignments x JOIN applications a ON a.id ="
                 " x.application_id WHERE x.expert_id = e.user_id AND"
                 " x.state = 'expired' AND a.region = '%s')"
                 " FROM experts e JOIN users u ON u.id = e.user_id"
                 " JOIN institutions i ON i.code = u.institution"
                 " WHERE i.region = '%s'", reg["region"], reg["region"])
    assert len(counts) == 2
    assert sum(int(n) for _, _, n in counts) == BURST
    for expert, misses, expired in counts:
        assert misses == expired, (expert, misses, expired)


def test_a_batch_that_disqualifies_draws_nobody_it_disqualifies():
    """A batch whose misses take an expert to the region's miss_limit
    counts them before its draws (misses_reach_limit): the expert is
    disqualified in the batch and none of its pushes goes to them; a
    batch that does not reach it counts them after its draws, the same
    numbers.  And an assignment another transaction holds is skipped
    (SKIP LOCKED), answered early, not waited for."""
    admin, reg, ex = region_with_experts(ONCO, n=3)
    sql("UPDATE policies SET value = '2' WHERE region = '%s'"
        " AND key = 'miss_limit'", reg["region"])
    asgs = make_due(reg, 6, seconds=3600)
    # Two of one expert (6 drawn among 3: some expert has two); their
    # experts stay the drawn ones (test_zz_draws_all verifies each).
    first, two = sql("SELECT expert_id, array_agg(id ORDER BY id) FROM"
                     " assignments WHERE id IN (%s) GROUP BY expert_id"
                     " HAVING count(*) >= 2 ORDER BY expert_id LIMIT 1",
                     ",".join(map(str, asgs)))[0]
    pair = [int(i) for i in two.strip("{}").split(",")[:2]]
    rest = [a for a in asgs if a not in pair]
    # Not the dispatcher's: these have no timer, and the sweep waits 10 s
    # past a deadline, so this batch (the same psql call) expires them.
    out = sql("UPDATE assignments SET pushed_at = now() - interval '2 s',"
              " accept_deadline = now() - interval '1 s' WHERE id IN (%s, %s);"
              " SELECT repush_batch(ARRAY[%s, %s]::bigint[])",
              pair[0], pair[1], pair[0], pair[1])[0][0]
    assert '"expired": 2' in out, out
    assert sql("SELECT status, consecutive_misses FROM experts"
               " WHERE user_id = %s", first) == [["disqualified", "2"]]
    assert sql("SELECT count(*) FROM assignments x WHERE x.expert_id = %s"
               " AND x.state = 'pushed' AND x.application_id IN (SELECT"
               " application_id FROM assignments WHERE id IN (%s, %s))",
               first, pair[0], pair[1]) == [["0"]]
    assert sql("SELECT count(*) FROM assignments x WHERE x.state = 'pushed'"
               " AND x.application_id IN (SELECT application_id FROM"
               " assignments WHERE id IN (%s, %s))",
               pair[0], pair[1]) == [["2"]]
    # Below the limit: counted after the draws, the same count.
    other = sql("SELECT expert_id FROM assignments WHERE id = %s",
                rest[0])[0][0]
    before = int(sql("SELECT consecutive_misses FROM experts"
                     " WHERE user_id = %s", other)[0][0])
    sql("UPDATE assignments SET pushed_at = now() - interval '2 s',"
        " accept_deadline = now() - interval '1 s' WHERE id IN (%s, %s)",
        rest[0], rest[1])
    # rest[1] held by another transaction: skipped, answered early
    # (waited for, the lock_timeout would fail the call).
    with held("SELECT 1 FROM assignments WHERE id = %s FOR UPDATE"
              % rest[1]):
        out = sql("SET lock_timeout = '10s';"
                  " SELECT repush_batch(ARRAY[%s, %s]::bigint[])",
                  rest[0], rest[1])
    assert '"expired": 1' in out[0][0], out
    assert '"early": [{"id": %s' % rest[1] in out[0][0], out
    if other != first:
        assert sql("SELECT consecutive_misses FROM experts WHERE user_id ="
                   " %s", other) == [[str(before + 1)]]
