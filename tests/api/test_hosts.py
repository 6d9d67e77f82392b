"""Several hosts behind one nginx (issue 14 item 3, docs/scale.md): host
B -- every module pool of the second set and its dispatcher -- is killed
(SIGKILL, by the PIDs stack.sh recorded and their children) under a stream
of reads and submits, while a burst of assignments falls due.  Shown: only
requests in flight on B fail (each client 5xx is a request nginx had sent
to a B socket, never a 500), everything else is answered by host A; every
submit that answered 200 is in the database with its live assignment;
each due assignment is expired once with dispatchers on A and B, one of
them killed mid-burst, and no stage has two live assignments; host B,
started again, takes requests again.  The figures (requests lost in
flight, requests nginx passed on to A, time until every answer came from
A, time until B served again) go to $MTCERT_VAR/hosts.txt, never asserted.

Runs only on a stack started with MTCERT_HOSTS=2: tests/hosts.sh starts
one of its own (HOSTS_DUE sets the burst's size)."""
import os
import re
import signal
import threading
import time

import pytest
import requests

import conftest
from conftest import (HANG, VAR, bearer, live_assignment, sql, stack,
                      submitted_application, wait_for, workers)
from test_dispatcher import (assert_each_expired_once,
                             assert_no_stage_twice_live,
                             expired_and_pushed_again, make_due)
from test_review import ONCO, never_disqualify, region_with_experts

PIDS = os.path.join(VAR, "pids") if VAR else ""
pytestmark = pytest.mark.skipif(
    not PIDS or not os.path.exists(os.path.join(PIDS, "catalog-2.pid")),
    reason="stack without a second host (tests/hosts.sh)")
DUE = int(os.environ.get("HOSTS_DUE", "300"))
FREEZE = 1.0                    # seconds host B hangs before it dies
B = "-2.sock"                   # host B's sockets: run/fcgi/NAME-2.sock
LINE = re.compile(r'"(\S+) (\S+)" (\d+) .* rid=(\w+) up=(.*) us=(.*) ua=(.*)$')


class Load:
    """Every request the test's helpers make (conftest.api, wrapped) is
    kept as (start, end, method, path, status, request id); threads read
    (an application, /me, the catalog signed in: past nginx's cache) and
    submit applications until stop().  A refused request is retried after
    50 ms, as a client would."""

    def __init__(self, reg, tok, app):
        self.reg, self.tok, self.app = reg, tok, app
        self.log, self.apps = [], []
        self.halt = threading.Event()
        self.real = conftest.api
        self.threads = [threading.Thread(target=self.reads),
                        threading.Thread(target=self.reads),
                        threading.Thread(target=self.submits)]

    def api(self, method, path, **kw):
        start = time.monotonic()
        try:
            r = self.real(method, path, **kw)
        except requests.RequestException:
            self.log.append((start, time.monotonic(), method, path, 0, ""))
            raise
        self.log.append((start, time.monotonic(), method, path,
                         r.status_code, r.headers.get("X-Request-Id", "")))
        if r.status_code >= 500:
            time.sleep(0.05)
        return r

    def reads(self):
        h = bearer(self.tok)
        while not self.halt.is_set():
            self.api("GET", "/applications/%s" % self.app["id"], headers=h)
            self.api("GET", "/me", headers=h)
            self.api("GET", "/diseases/D001", headers=h)

    def submits(self):
        while not self.halt.is_set():
            try:
                self.apps.append(submitted_application(self.reg,
                                                       disease="D001")[1])
            except (AssertionError, KeyError, ValueError):
                pass            # a step refused: a draft, nothing accepted

    def start(self):
        conftest.api = self.api
        for t in self.threads:
            t.start()

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join(HANG)
        conftest.api = self.real


def access_log():
    """nginx's access log by request id: (method, uri, status, us, ua,
    up): us, ua and up list each try, "A, B"."""
    out = {}
    with open(os.path.join(VAR, "log", "nginx-access.log"),
              encoding="utf-8") as f:
        for line in f:
            m = LINE.search(line)
            if m:
                out[m.group(4)] = (m.group(1), m.group(2), int(m.group(3)),
                                   m.group(6), m.group(7), m.group(5))
    return out


def sent(v):
    """The access-log entry v's first try reached a worker or a socket's
    queue (it waited for an answer), rather than being refused at once."""
    return v[5].split(", ")[0] not in ("0.000", "-")


def running(pid):
    """The process exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_host(h, freeze):
    """Every process of host h -- each pool's master and workers, its
    dispatcher's master and child (pids/*-h.pid and their children) --
    stopped (SIGSTOP) for `freeze` seconds, then killed (SIGKILL), masters
    first so none is restarted: a machine that hangs, then dies.  What
    nginx sent it meanwhile is in flight when it dies (taken by no worker,
    or half done).  Returns the names killed."""
    names = sorted(f[:-4] for f in os.listdir(PIDS)
                   if f.endswith("-%d.pid" % h))
    masters = [int(open(os.path.join(PIDS, n + ".pid")).read())
               for n in names]
    kids = [k for n in names for k in workers(n)]
    for pid in masters + kids:
        os.kill(pid, signal.SIGSTOP)
    time.sleep(freeze)
    for pid in masters + kids:
        os.kill(pid, signal.SIGKILL)

    assert wait_for(lambda: not any(running(p) for p in masters + kids),
                    HANG)
    return names


def served_by_b(since):
    """True once one of the requests `since` (request ids) was answered by
    a host B socket (nginx flushes its log within a second)."""
    return any(v[2] < 500 and v[4].split(", ")[-1].endswith(B)
               for rid, v in access_log().items() if rid in since)


def test_killing_host_b_costs_only_its_requests_in_flight():
    admin, reg, _ = region_with_experts(ONCO, n=6)
    never_disqualify(reg)
    tok, app = submitted_application(reg, disease="D001")
    load = Load(reg, tok, app)
    load.start()
    try:
        time.sleep(2)
        asgs = make_due(reg, DUE, seconds=2)
        conftest.redis("DEL", "dispatcher:rebuilt")
        # Mid-burst: the first expiry is in, then host B dies.
        assert wait_for(lambda: sql(
            "SELECT count(*) FROM events WHERE type = 'expired' AND"
            " (data->>'assignment')::bigint IN (%s)" %
            ",".join(map(str, asgs))) != [["0"]], HANG)
        before = sql("SELECT count(*) FROM events WHERE type = 'expired'"
                     " AND (data->>'assignment')::bigint IN (%s)" %
                     ",".join(map(str, asgs)))[0][0]
        killed = time.monotonic()
        names = kill_host(2, FREEZE)
        time.sleep(4)
        restarted = time.monotonic()
        stack("modules-start")
        stack("dispatcher-start")
        seen = len(load.log)
        assert wait_for(lambda: served_by_b(
            {r[5] for r in load.log[seen:]}), HANG)
        back = time.monotonic()
    finally:
        load.stop()
    time.sleep(1.5)             # nginx's access log: flushed every second
    log = access_log()

    # Only requests in flight on B failed: each client 5xx is a request
    # nginx had sent to a B socket (its last try), a POST or PATCH nginx
    # must not pass on; never a 500.  Everything else was answered.
    failed = [r for r in load.log if r[4] >= 500 or r[4] == 0]
    assert not [r for r in load.log if r[4] in (0, 500)], failed
    for r in failed:
        method, _, status, us, ua, _ = log[r[5]]
        assert ua.split(", ")[-1].endswith(B) and us.endswith("502") \
            and method in ("POST", "PATCH"), (r, log[r[5]])
    # Every submit that answered 200 is in the database, with its expert.
    for a in load.apps:
        assert sql("SELECT status FROM applications WHERE id = %s",
                   a["id"]) == [["in_review"]]
        assert live_assignment(a["id"])
    # Dispatchers on A and B, B's killed mid-burst: each due assignment
    # expired once and pushed again, never two live for one stage.
    assert wait_for(lambda: expired_and_pushed_again(asgs), HANG * 5)
    assert_each_expired_once(asgs)
    assert_no_stage_twice_live(reg)

    # Figures for the note (not asserted).
    window = [r for r in load.log if r[1] >= killed and r[0] <= restarted]
    touched = [(r, log[r[5]]) for r in window if r[5] in log
               and B in log[r[5]][4]]
    passed_on = [v for r, v in touched if not v[4].endswith(B)]
    on_b = [r[1] for r, v in touched if v[4].endswith(B)]
    with open(os.path.join(VAR, "hosts.txt"), "a") as f:
        f.write("hosts: host B (%s) hung %.1f s then killed, mid-burst"
                " (%s of %d due expired before); %d requests from the hang"
                " to B's restart (%.1f s): %d failed in flight on B (%s);"
                " %d passed on by nginx from B to A (%d sent to B and not"
                " answered: %s; %d refused connects); every answer from A"
                " %.2f s after the hang began; B served again %.2f s after"
                " its restart; submits %d ok\n" % (
                    " ".join(names), FREEZE, before, len(asgs),
                    len(window), restarted - killed, len(failed),
                    ", ".join("%s %s" % (r[2], re.sub(r"\d+", "{id}", r[3]))
                              for r in failed) or "none",
                    len(passed_on),
                    sum(1 for v in passed_on if sent(v)),
                    " ".join(sorted({v[0] for v in passed_on
                                     if sent(v)})) or "-",
                    sum(1 for v in passed_on if not sent(v)),
                    max(on_b, default=killed) - killed, back - restarted,
                    len(load.apps)))
