"""Log rotation: every process lets go of its renamed log and writes the
new one (docs/operations.md, "Log rotation").

A module's log is renamed as logrotate(8) does, `shared/stack.sh
logreopen` signals (SIGUSR1 to the module masters, which pass it to their
workers, and to the dispatcher's master, which passes it to its child;
USR1 to nginx; `pg_ctl logrotate`); then every request's line is in the
new file and the old one did not grow after the signal.
"""
import os
import uuid

from conftest import (HANG, VAR, api, login, new_expert, new_region,
                      redis, sql, stack, submitted_application, wait_for,
                      workers)

LOG = os.path.join(VAR, "log")


def rotate(*names):
    """Rename each log as logrotate(8) does, then logreopen; the renamed
    paths and their sizes right after the signal."""
    old = {}
    for n in names:
        path = os.path.join(LOG, n)
        os.rename(path, path + ".test")
        old[n] = path + ".test"
    stack("logreopen")
    return {n: (p, os.path.getsize(p)) for n, p in old.items()}


def text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def test_module_workers_write_the_new_file_after_logreopen():
    before = workers("catalog")
    old = rotate("catalog.log")["catalog.log"]
    # Enough requests that every worker of the pool serves some.
    rids = [api("GET", "/diseases").headers["X-Request-Id"]
            for _ in range(40)]
    new = os.path.join(LOG, "catalog.log")
    assert wait_for(lambda: all(r in text(new) for r in rids))
    assert "log reopened" in text(new)
    # Nothing written to the old file after the signal.
    assert os.path.getsize(old[0]) == old[1]
    assert not any(r in text(old[0]) for r in rids)
    # SIGUSR1 reopened the logs; it killed no worker.
    assert workers("catalog") == before


def test_dispatcher_child_writes_the_new_file():
    admin = login("admin")["token"]
    reg = new_region()
    for h in reg["hospitals"][1:]:
        new_expert(admin, h, ["肿瘤"])
    old = rotate("dispatcher.log")["dispatcher.log"]
    _, app = submitted_application(reg, disease="D001")
    new = os.path.join(LOG, "dispatcher.log")
    line = "application=%s " % app["id"]
    # The push is the child's line; "log reopened" the master's.
    assert wait_for(lambda: line in text(new), timeout=HANG)
    assert "log reopened" in text(new)
    assert line not in text(old[0])
    assert os.path.getsize(old[0]) == old[1]


def test_nginx_postgresql_and_redis_logs_are_reopened():
    old = rotate("nginx-access.log", "postgresql.log", "redis.log")
    rid = api("GET", "/health").headers["X-Request-Id"]
    marker = "logrotate-" + uuid.uuid4().hex
    sql("DO $$ BEGIN RAISE WARNING '%s'; END $$", marker)
    redis("BGREWRITEAOF")
    access = os.path.join(LOG, "nginx-access.log")
    pg = os.path.join(LOG, "postgresql.log")
    rl = os.path.join(LOG, "redis.log")
    # nginx flushes its access log buffer every second.
    assert wait_for(lambda: rid in text(access))
    assert wait_for(lambda: marker in text(pg))
    assert wait_for(lambda: "rewrit" in text(rl).lower())
    assert rid not in text(old["nginx-access.log"][0])
    assert marker not in text(old["postgresql.log"][0])
    # Let the rewrite finish before the next test asks Redis anything.
    assert wait_for(lambda: redis("INFO", "persistence").find(
        "aof_rewrite_in_progress:0") >= 0)
