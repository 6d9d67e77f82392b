"""Redis Cluster readiness (issue 14 item 4, docs/scale.md): the Redis
traffic of the main paths -- staff and insured sign-in, an SMS code, a
submit, the push with its lease and timer, an expert's accept, the
dispatcher's turns -- recorded with MONITOR, and each unit of work (a
command, a MULTI...EXEC, a script with the calls it made) checked to stay
within one Cluster slot, as CLUSTER KEYSLOT computes it.  Keys without a
hash tag are listed by pattern: the known ones (docs/scale.md says why
they are left so) are allowed, a new one fails."""
import os
import re
import subprocess
import time

from conftest import HANG, VAR, api, bearer, live_assignment, redis, \
    submitted_application
from test_review import ONCO, accept, region_with_experts

# Keys that carry no region hash tag today (docs/scale.md, "Redis Cluster
# readiness"): per-person or global keys, each used alone in its command.
UNTAGGED = {"sess:*", "smscode:*", "smsrate:*", "smsday:*", "loginfail:*",
            "loginpair:*", "wake", "dispatcher:rebuilt",
            "dispatcher:rebuilding", "health:probe"}


def crc16(data):
    """CRC16-XMODEM, Redis Cluster's key hash."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def keyslot(key):
    """CLUSTER KEYSLOT of key (bytes): its hash tag's when it has one."""
    i = key.find(b"{")
    if i >= 0:
        j = key.find(b"}", i + 1)
        if j > i + 1:
            key = key[i + 1:j]
    return crc16(key) % 16384


def test_keyslot_is_redis_cluster_s():
    # The examples of the Redis Cluster specification.
    assert keyslot(b"123456789") == 0x31C3
    assert keyslot(b"{user1000}.following") == keyslot(b"{user1000}.x")
    assert keyslot(b"foo{}{bar}") == keyslot(b"foo{}{bar}") != keyslot(b"bar")


ARG = re.compile(rb'"((?:[^"\\]|\\.)*)"')


def unescape(a):
    return re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  a).replace(b'\\"', b'"').replace(b"\\\\", b"\\")


def units(lines):
    """MONITOR's lines as units of work: (source, [argv, ...]); a MULTI
    ... EXEC is one unit (mt_redis_tx sends it as one pipeline, so Redis
    queues and runs it without another client in between), a script's
    own calls ("lua") join its EVAL."""
    out, tx = [], None
    for line in lines:
        m = re.match(rb"[\d.]+ \[\d+ ([^\]]*)\] (.*)", line)
        if not m:
            continue
        argv = [unescape(a) for a in ARG.findall(m.group(2))]
        name = argv[0].upper()
        if m.group(1) == b"lua" and out:
            out[-1][1].append(argv)
        elif name == b"MULTI":
            tx = []
        elif name == b"EXEC" and tx is not None:
            out.append(("tx", tx))
            tx = None
        elif tx is not None:
            tx.append(argv)
        else:
            out.append(("cmd", [argv]))
    return out


def keys_of(argv):
    """The keys of one command, as Redis itself finds them (COMMAND
    GETKEYS); none for commands without keys."""
    if argv[0].upper() in (b"INFO", b"PING", b"COMMAND", b"MONITOR",
                           b"CONFIG", b"CLIENT"):
        return []
    sock = os.path.join(VAR, "run", "redis", "redis.sock")
    cp = subprocess.run(["redis-cli", "-s", sock, "COMMAND", "GETKEYS",
                         *[a.decode("utf-8", "replace") for a in argv]],
                        capture_output=True, timeout=HANG)
    if cp.returncode != 0 or cp.stdout.startswith(b"ERR"):
        return []
    return [k for k in cp.stdout.split(b"\n") if k]


def pattern(key):
    """The key with its variable parts (after the first ':') as '*'."""
    k = key.decode("utf-8", "replace")
    return k if ":" not in k or k in ("dispatcher:rebuilt",
                                      "dispatcher:rebuilding",
                                      "health:probe") \
        else k.split(":", 1)[0] + ":*"


def test_a_transaction_across_two_slots_is_seen():
    lines = [b'1.0 [0 unix:/s] "MULTI"', b'1.1 [0 unix:/s] "SET" "a{x}" "1"',
             b'1.2 [0 unix:/s] "SET" "b{y}" "1"', b'1.3 [0 unix:/s] "EXEC"',
             b'1.4 [0 unix:/s] "EVAL" "s" "1" "c{x}"',
             b'1.5 [0 lua] "GET" "d{y}"']
    work = units(lines)
    assert [k for k, _ in work] == ["tx", "cmd"]
    for _, cmds in work:
        keys = [k for argv in cmds for k in keys_of(argv)]
        assert len({keyslot(k) for k in keys}) == 2, keys


def test_each_unit_of_redis_work_stays_in_one_slot():
    sock = os.path.join(VAR, "run", "redis", "redis.sock")
    out = os.path.join(VAR, "monitor.txt")
    with open(out, "wb") as f:
        mon = subprocess.Popen(["redis-cli", "-s", sock, "MONITOR"],
                               stdout=f, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.2)
        admin, reg, ex = region_with_experts(ONCO, n=2)
        tok, app = submitted_application(reg, disease="D001")
        asg = live_assignment(app["id"])
        expert = [e for e in ex if e["id"] == asg["expert"]] or ex
        accept(expert[0], asg["id"])
        api("POST", "/auth/logout", headers=bearer(tok))
        redis("PING")
        time.sleep(1.5)                 # a few dispatcher turns
    finally:
        mon.terminate()
        mon.wait(10)
    with open(out, "rb") as f:
        work = units(f.read().split(b"\n"))
    assert len(work) > 20, "MONITOR recorded too little"
    spans, untagged, seen = [], set(), set()
    for kind, cmds in work:
        keys = set()
        for argv in cmds:
            sig = tuple(argv[:1] + [a for a in argv[1:] if b"{" in a or
                                    not a.isdigit()][:3])
            if sig in seen and kind == "cmd":
                continue
            seen.add(sig)
            keys.update(keys_of(argv))
        if len({keyslot(k) for k in keys}) > 1:
            spans.append((kind, [c[0] for c in cmds], sorted(keys)))
        untagged.update(pattern(k) for k in keys if b"{" not in k)
    assert spans == [], spans
    assert untagged <= UNTAGGED, sorted(untagged - UNTAGGED)
    with open(os.path.join(VAR, "cluster-keys.txt"), "w") as f:
        f.write("units %d (transactions %d, scripts %d); untagged key"
                " patterns: %s\n" % (
                    len(work), sum(1 for k, _ in work if k == "tx"),
                    sum(1 for _, c in work if c[0][0].upper() == b"EVAL"),
                    " ".join(sorted(untagged))))
