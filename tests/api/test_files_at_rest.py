"""Uploaded files encrypted at rest, their keys rotated, plain files of
before sealed in place, and files shredded when their retention ends
(issue 15 items 1, 5, 6; shared/mt_files.h, shared/mt_keys.h,
sql/fn/96_files.sql, docs/keys.md)."""
import datetime
import hashlib
import os
import socket
import struct
import subprocess
import threading
import time
import urllib.parse

import requests


from conftest import (API, HANG, PDF, PNG, URL, VAR, api, assert_error,
                      bearer, ctl, draft, held, insured_login, new_person,
                      policy, sql, upload, wait_for, workers)

FILES = os.path.join(VAR, "files")
KEYS = os.path.join(VAR, "keys", "files")


def stored_path(name):
    return os.path.join(FILES, name[:2], name[2:4], name)


def every_stored_byte():
    """Each file under files_dir: (path, content)."""
    for d, _, names in os.walk(FILES):
        for n in names:
            with open(os.path.join(d, n), "rb") as f:
                yield os.path.join(d, n), f.read()


def material_row(mid):
    return sql("SELECT blob, key_id, encode(file_key, 'hex'), shredded_at"
               " FROM materials WHERE id = %s", mid)[0]


def download(tok, mid):
    return api("GET", "/materials/%s" % mid, headers=bearer(tok))


def age_key(kid):
    """Master key kid made an hour ago (past keys retire's grace)."""
    path = os.path.join(KEYS, "master-%d.key" % kid)
    t = os.stat(path).st_mtime - 3600
    os.utime(path, (t, t))


def while_downloading(files, *command):
    """Run mtcertctl command while a thread downloads each (token,
    material, bytes) of files in a loop: (its output, the downloads that
    were not 200 with those bytes, how many downloads there were)."""
    stop, bad, count = threading.Event(), [], [0]

    def loop():
        while not stop.is_set():
            for tok, mid, data in files:
                r = download(tok, mid)
                if r.status_code != 200 or r.content != data:
                    bad.append((mid, r.status_code))
                count[0] += 1

    t = threading.Thread(target=loop)
    t.start()
    try:
        out = ctl(*command).stdout
    finally:
        stop.set()
        t.join()
    return out, bad, count[0]


def new_upload(data, kind="inpatient_record", region="411200"):
    """A fresh person's draft with one material of data: (token, app, mid)."""
    tok = insured_login(new_person(region=region))["token"]
    app = draft(tok)
    r = upload(tok, app["id"], kind, data=data)
    assert r.status_code == 201, r.text
    return tok, app, r.json()["id"]


def test_a_copy_of_the_store_reveals_nothing_and_downloads_are_identical():
    """Known bytes and a PDF with a known string: neither is anywhere in
    files_dir, nor the file's SHA-256 as a name; each download is
    byte-identical; the key is in the row only wrapped (72 bytes)."""
    marker = b"MTCERT-SECRET-" + os.urandom(8).hex().encode()
    data = PNG + marker + os.urandom(300000) + marker
    pdf = PDF.replace(b"endobj\n", b"(" + marker + b" Pathology) endobj\n", 1)
    tok, app, mid = new_upload(data)
    r = upload(tok, app["id"], "lab_report", data=pdf, filename="r.pdf",
               ctype="application/pdf")
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    for path, content in every_stored_byte():
        assert marker not in content, path
        assert data[:4096] not in content and pdf[:64] not in content, path
    sha = hashlib.sha256(data).hexdigest()
    assert not os.path.exists(stored_path(sha))
    blob, kid, key, _ = material_row(mid)
    assert os.path.exists(stored_path(blob)) and len(key) == 144 and kid
    assert download(tok, mid).content == data
    r = download(tok, pid)
    assert r.status_code == 200 and r.content == pdf
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Length"] == str(len(pdf))
    # A range of an encrypted file, from the stream (nginx).
    r = api("GET", "/materials/%s" % mid,
            headers=dict(bearer(tok), Range="bytes=%d-%d" % (
                len(PNG), len(PNG) + len(marker) - 1)))
    assert r.status_code == 206 and r.content == marker


def leave_after(tok, mid, n):
    """Ask for material mid over a socket whose receive buffer is 64 KiB
    (set before it connects, so the kernel holds little of the file),
    read the status line and n bytes or more, then go with a reset
    (SO_LINGER 0: nginx sees the reader gone at once).  The status line."""
    u = urllib.parse.urlsplit(URL)
    with socket.socket() as c:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        c.settimeout(HANG)
        c.connect((u.hostname, u.port))
        c.sendall(("GET /api/v1/materials/%s HTTP/1.1\r\nHost: %s\r\n"
                   "Authorization: Bearer %s\r\nConnection: close\r\n"
                   "\r\n" % (mid, u.netloc, tok)).encode())
        got = b""
        while b"\r\n" not in got or len(got) < n:
            b = c.recv(65536)
            assert b, got[:1000]
            got += b
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    return got.split(b"\r\n", 1)[0]


def test_a_slow_reader_gets_every_byte_and_a_reader_who_leaves_frees_the_worker():
    """An 8 MB file, far more than nginx buffers (1 MiB, never spooled
    to disk): the apply worker writes it in FastCGI records of up to
    64 KiB (shared/mt_http.c, mt_reply_body) and blocks in its write
    while the reader is slow.  A slow reader gets the file byte for byte.
    Readers who leave after 100 KB, twice as many as apply has workers,
    each leaving a worker blocked in the middle of its file: nginx drops
    the FastCGI connection, that worker's write fails, the request is
    dropped, and the worker serves the next one -- every leaver gets its
    200, then as many whole downloads at once as there are workers, every
    byte right, and the same workers as before (none ended or restarted).
    A worker that kept trying its failed write fails this: once every
    worker is held, the next leaver gets no 200 but nginx's 503 (checked
    with EPIPE put into writev_all's retry)."""
    data = PNG + os.urandom(8 * 1024 * 1024)
    tok, _, mid = new_upload(data)
    before = workers("apply")
    assert before
    # Slow: 64 KiB, then a pause, to the end.
    with requests.get(API + "/materials/%s" % mid, headers=bearer(tok),
                      stream=True, timeout=HANG) as r:
        assert r.status_code == 200
        got = bytearray()
        for piece in r.iter_content(65536):
            got += piece
            time.sleep(0.002)
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    for _ in range(2 * len(before)):
        assert leave_after(tok, mid, 100000) == b"HTTP/1.1 200 OK"
    results = []

    def whole():
        r = download(tok, mid)
        results.append((r.status_code, r.content == data))

    ts = [threading.Thread(target=whole) for _ in before]
    for t in ts:
        t.start()
    for t in ts:
        t.join(HANG)
    assert results == [(200, True)] * len(before)
    assert workers("apply") == before       # none ended or restarted


def nginx_body_files():
    """The files nginx's processes hold open under nginx/tmp/body: each
    link's target, "(deleted)" when it has no name any more."""
    body, held = os.path.join(VAR, "nginx", "tmp", "body"), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open("/proc/%s/comm" % pid).read().strip() != "nginx":
                continue
            fds = "/proc/%s/fd" % pid
            for fd in os.listdir(fds):
                target = os.readlink(os.path.join(fds, fd))
                if target.startswith(body):
                    held.append(target)
        except OSError:
            continue
    return held


def test_an_upload_nginx_spools_has_no_name_on_disk():
    """An upload above client_body_buffer_size (256 KiB) is spooled by
    nginx to nginx/tmp/body in plain form before the worker sees it:
    while it is being received, that file is already unlinked (nginx
    unlinks its temporary body files once opened), so no copy of var/
    holds the bytes by name; once the upload is stored, nginx holds no
    such file at all.  (The bytes did pass through the disk's blocks:
    docs/keys.md, "Where plain bytes pass".)"""
    tok = insured_login(new_person())["token"]
    app = draft(tok)
    marker = b"MTCERT-SPOOLED-" + os.urandom(8).hex().encode()
    data = PNG + marker + os.urandom(700000)
    req = requests.Request(
        "POST", "%s/api/v1/applications/%s/materials" % (URL, app["id"]),
        headers=bearer(tok), files={"file": ("s.png", data, "image/png")},
        data={"kind": "inpatient_record", "issuer": "测试医院",
              "issued_on": (datetime.date.today() -
                            datetime.timedelta(days=10)).isoformat()},
    ).prepare()
    u = urllib.parse.urlsplit(URL)
    head = "POST %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n" % (
        req.path_url, u.netloc) + "".join(
        "%s: %s\r\n" % kv for kv in req.headers.items()) + "\r\n"
    sock = socket.create_connection((u.hostname, u.port), timeout=HANG)
    try:
        sock.sendall(head.encode() + req.body[:600000])
        assert wait_for(nginx_body_files)       # a hang bound only
        held = nginx_body_files()
        assert held and all(t.endswith("(deleted)") for t in held), held
        for d, _, names in os.walk(VAR):
            for n in names:
                path = os.path.join(d, n)
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as f:
                        assert marker not in f.read(), path
        sock.sendall(req.body[600000:])
        reply = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    finally:
        sock.close()
    assert reply.startswith(b"HTTP/1.1 201"), reply[:200]
    assert nginx_body_files() == []


def stored_names():
    return {n for _, _, names in os.walk(FILES) for n in names}


def test_an_upload_whose_row_is_in_doubt_keeps_its_file():
    """PostgreSQL does not answer the upload's insert within the deadline
    (the table held locked): 503, and the sealed file stays, since the
    row may have committed all the same (an answer lost); without its
    row it is noise, its key was only in that insert.  The same upload
    once the lock is gone: 201, downloaded identical."""
    tok = insured_login(new_person())["token"]
    app = draft(tok)
    data = PNG + os.urandom(4000)
    before = stored_names()
    with held("LOCK TABLE materials IN EXCLUSIVE MODE"):
        r = upload(tok, app["id"], "inpatient_record", data=data)
        assert_error(r, 503, "service_unavailable")
        kept = stored_names() - before
        assert len(kept) == 1 and not {n for n in kept
                                       if n.startswith(".tmp")}, kept
    assert os.path.exists(stored_path(kept.pop()))
    r = upload(tok, app["id"], "inpatient_record", data=data)
    assert r.status_code == 201, r.text
    assert download(tok, r.json()["id"]).content == data


def test_master_key_lives_outside_database_and_store():
    keys = os.listdir(KEYS)
    assert keys and all(k.startswith("master-") for k in keys)
    for k in keys:
        st = os.stat(os.path.join(KEYS, k))
        assert st.st_mode & 0o777 == 0o400
    assert oct(os.stat(KEYS).st_mode & 0o777) == "0o700"
    assert not os.path.commonpath([KEYS, FILES]) == FILES


def test_a_wrong_key_or_an_altered_file_fails_loudly():
    """A wrapped key moved to another row does not open its file (503
    material_file_unreadable, logged); an altered first chunk is the same
    envelope; an altered later chunk drops the connection: the client
    never gets a complete-looking 200."""
    big = PNG + os.urandom(200000)
    tok, app, mid = new_upload(big)
    tok2, app2, mid2 = new_upload(PNG + os.urandom(1000))
    blob, kid, key, _ = material_row(mid)
    blob2, kid2, key2, _ = material_row(mid2)
    sql("UPDATE materials SET file_key = decode('%s', 'hex') WHERE id = %s",
        key, mid2)
    try:
        r = download(tok2, mid2)
        assert_error(r, 503, "material_file_unreadable", "mid")
    finally:
        sql("UPDATE materials SET file_key = decode('%s', 'hex') WHERE id = %s",
            key2, mid2)
    assert download(tok2, mid2).status_code == 200
    log = os.path.join(VAR, "log", "apply.log")
    assert "material %s: its file cannot be read" % mid2 in open(
        log, encoding="utf-8", errors="replace").read()

    path = stored_path(blob)
    with open(path, "rb") as f:
        orig = f.read()
    try:
        # A byte of the third chunk (past the first 64 KiB + header).
        bad = bytearray(orig)
        bad[4 + 24 + 2 * (65536 + 17) + 100] ^= 1
        with open(path, "wb") as f:
            f.write(bad)
        # Headers were sent: the connection is dropped short of its
        # Content-Length, which curl reports as a failed transfer (18).
        cp = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-H",
                             "Authorization: Bearer " + tok,
                             "%s/api/v1/materials/%s" % (URL, mid)],
                            capture_output=True, text=True, timeout=60)
        assert cp.returncode == 18, (cp.returncode, cp.stderr)
        # The first chunk altered: the envelope, before any byte.
        bad = bytearray(orig)
        bad[40] ^= 1
        with open(path, "wb") as f:
            f.write(bad)
        assert_error(download(tok, mid), 503, "material_file_unreadable")
    finally:
        with open(path, "wb") as f:
            f.write(orig)
    assert download(tok, mid).content == big


def test_a_missing_file_with_its_key_is_unreadable_not_shredded():
    """A sealed file gone from the store while its row keeps its key (a
    lost disk, a bad restore) is 503 material_file_unreadable, logged:
    410 is only for a row the retention job made keyless (a download
    racing the job finds the file gone, reads the row again and says
    410)."""
    tok, app, mid = new_upload(PNG + os.urandom(2000))
    path = stored_path(material_row(mid)[0])
    with open(path, "rb") as f:
        orig = f.read()
    os.unlink(path)
    try:
        assert_error(download(tok, mid), 503, "material_file_unreadable",
                     "mid")
    finally:
        with open(path, "wb") as f:
            f.write(orig)
    assert download(tok, mid).status_code == 200


def test_rotation_rewraps_every_key_while_downloads_go_on():
    """keys rotate: a new master key, every file key re-wrapped (files
    untouched), downloads byte-identical throughout; keys retire refuses
    the current key, any key while the current one is younger than the
    grace (MT_KEYS_RETIRE_GRACE) and one still in use, then removes the
    old one."""
    files = [new_upload(PNG + os.urandom(n)) for n in (10, 70000, 150000)]
    wanted = {}
    for tok, _, mid in files:
        wanted[mid] = download(tok, mid).content
    before = {mid: material_row(mid) for _, _, mid in files}
    stat_before = {mid: os.stat(stored_path(before[mid][0])).st_mtime_ns
                   for mid in before}
    out, bad, count = while_downloading(
        [(tok, mid, wanted[mid]) for tok, _, mid in files], "keys", "rotate")
    assert bad == [] and count > 0
    new = int(out.split('"key": ')[1].split(",")[0])
    assert os.path.exists(os.path.join(KEYS, "master-%d.key" % new))
    assert sql("SELECT count(*) FROM materials WHERE key_id <> %s", new) == [["0"]]
    for tok, _, mid in files:
        blob, kid, key, _ = material_row(mid)
        assert blob == before[mid][0] and int(kid) == new
        assert key != before[mid][2]
        assert os.stat(stored_path(blob)).st_mtime_ns == stat_before[mid]
        assert download(tok, mid).content == wanted[mid]
    # The current key cannot go; nor the old one while the current key
    # is younger than the grace (an upload that read the old key as
    # current may not have committed its row yet); nor one still
    # wrapping a file key.
    assert ctl("keys", "retire", str(new), check=False).returncode == 2
    old = int(before[files[0][2]][1])
    cp = ctl("keys", "retire", str(old), check=False)
    assert cp.returncode == 2 and "younger than" in cp.stderr
    age_key(new)
    mid = files[0][2]
    sql("UPDATE materials SET key_id = %s, file_key = decode('%s', 'hex')"
        " WHERE id = %s", old, before[mid][2], mid)
    cp = ctl("keys", "retire", str(old), check=False)
    assert cp.returncode == 2 and "still wrapped" in cp.stderr
    assert download(files[0][0], mid).content == wanted[mid]
    newest = int(ctl("keys", "rotate").stdout.split('"key": ')[1]
                 .split(",")[0])
    age_key(newest)
    ctl("keys", "retire", str(old))
    ctl("keys", "retire", str(new))
    assert not os.path.exists(os.path.join(KEYS, "master-%d.key" % old))
    for tok, _, mid in files:
        assert download(tok, mid).content == wanted[mid]


def test_plain_files_of_before_are_sealed_in_place_while_served():
    """A material stored plain (before issue 15: content-addressed, no
    key) is served as it is; files encrypt seals it in batches with the
    service running: the plain file goes, the row gets its blob and key,
    every download meanwhile identical."""
    tok, app, _ = new_upload(PNG)
    plain = {}
    for i in range(3):
        data = PNG + b"PLAIN-OF-BEFORE-%d-" % i + os.urandom(90000)
        sha = hashlib.sha256(data).hexdigest()
        # As the workers stored it: their user's, group www-data.
        top = os.stat(FILES)
        for d in (os.path.join(FILES, sha[:2]),
                  os.path.join(FILES, sha[:2], sha[2:4])):
            if not os.path.isdir(d):
                os.mkdir(d, 0o2750)
                os.chown(d, top.st_uid, top.st_gid)
        with open(stored_path(sha), "wb") as f:
            f.write(data)
        os.chown(stored_path(sha), top.st_uid, top.st_gid)
        os.chmod(stored_path(sha), 0o640)
        mid = sql("INSERT INTO materials (application_id, kind, issued_on,"
                  " issuer, sha256, size_bytes, media_type, uploaded_by)"
                  " SELECT %s, 'lab_report', current_date - 5, '测试医院',"
                  " '%s', %s, 'image/png', uploaded_by FROM materials"
                  " WHERE application_id = %s LIMIT 1 RETURNING id",
                  app["id"], sha, len(data), app["id"])[0][0]
        plain[mid] = (sha, data)
    for mid, (sha, data) in plain.items():
        assert material_row(mid)[0] == ""
        assert download(tok, mid).content == data
    out, bad, count = while_downloading(
        [(tok, mid, data) for mid, (_, data) in plain.items()],
        "files", "encrypt")
    assert bad == [] and count > 0
    assert int(out.split(": ")[1].rstrip("}\n")) >= 3
    for mid, (sha, data) in plain.items():
        blob, kid, key, _ = material_row(mid)
        assert blob and kid and key
        assert not os.path.exists(stored_path(sha))
        assert download(tok, mid).content == data
    for path, content in every_stored_byte():
        assert b"PLAIN-OF-BEFORE-" not in content, path
    assert ctl("files", "encrypt").stdout.strip() == '{"sealed": 0}'


def decide(app_id, status, days_ago):
    sql("UPDATE applications SET status = '%s', promised_at ="
        " coalesce(promised_at, now()), decided_at = now() - interval '%s days'"
        " WHERE id = %s", status, days_ago, app_id)


def test_files_are_shredded_when_retention_ends_and_the_record_stays():
    """Retention (policy material_retention_days) counts from the final
    decision and the end of every qualification of the person for the
    disease: before, nothing; after, the key is destroyed, the file gone,
    a download 410 in Chinese, the row and an event recorded."""
    region = "411200"
    tok, app, mid = new_upload(PNG + os.urandom(5000), region=region)
    keep_tok, keep_app, keep_mid = new_upload(PNG + os.urandom(5000),
                                              region=region)
    blob = material_row(mid)[0]
    person = sql("SELECT person_id, disease FROM applications WHERE id = %s",
                 app["id"])[0]
    decide(app["id"], "approved", 3)
    decide(keep_app["id"], "rejected", 1)
    q = sql("INSERT INTO qualifications (person_id, disease, region,"
            " application_id, designated_institution, valid_from, valid_to)"
            " VALUES (%s, '%s', '%s', %s, 'H41120000001', current_date - 3,"
            " current_date + 300) RETURNING id",
            person[0], person[1], region, app["id"])[0][0]
    with policy(region, "material_retention_days", "2"):
        ctl("files", "shred")
        # The qualification is active: kept.  Decided a day ago: kept.
        assert material_row(mid)[3] == "" and os.path.exists(stored_path(blob))
        assert material_row(keep_mid)[3] == ""
        sql("UPDATE qualifications SET status = 'expired', end_reason ="
            " 'expired', ended_at = now() - interval '3 days', ended_on ="
            " current_date - 3 WHERE id = %s", q)
        out = ctl("files", "shred").stdout
        assert int(out.split(": ")[1].rstrip("}\n")) >= 1
    blob2, kid, key, shredded = material_row(mid)
    assert shredded and key == "" and kid == "" and blob2 == blob
    assert not os.path.exists(stored_path(blob))
    r = download(tok, mid)
    assert_error(r, 410, "material_file_shredded", "mid")
    assert "销毁" in r.json()["error"]["message"]
    # The record stays: the material in its application, the event.
    r = api("GET", "/applications/%s" % app["id"], headers=bearer(tok))
    assert r.status_code == 200
    assert mid in [m["id"] for m in r.json()["materials"]]
    ev = sql("SELECT data->>'reason' FROM events WHERE application_id = %s"
             " AND type = 'material_shredded' AND (data->>'material_id')::bigint"
             " = %s", app["id"], mid)
    assert ev == [["retention_ended"]]
    assert material_row(keep_mid)[3] == ""
    assert download(keep_tok, keep_mid).status_code == 200


def test_a_rejection_still_open_to_objection_keeps_its_files():
    """However short the retention, a rejected application's files stay
    while an objection to it can still be filed (objection_window_days
    after the decision): the objection panel reads them.  Once the window
    closed, they are shredded."""
    region = "411200"
    tok, app, mid = new_upload(PNG + os.urandom(3000), region=region)
    decide(app["id"], "rejected", 1)
    with policy(region, "material_retention_days", "0"), \
            policy(region, "objection_window_days", "10"):
        ctl("files", "shred")
        assert material_row(mid)[3] == ""
        assert download(tok, mid).status_code == 200
        decide(app["id"], "rejected", 12)
        ctl("files", "shred")
        assert material_row(mid)[3] != ""
    assert_error(download(tok, mid), 410, "material_file_shredded", "mid")


def test_a_removed_material_is_shredded_at_once():
    tok, app, mid = new_upload(PNG + os.urandom(100))
    blob = material_row(mid)[0]
    r = api("DELETE", "/applications/%s/materials/%s" % (app["id"], mid),
            headers=bearer(tok))
    assert r.status_code == 204
    ctl("files", "shred")
    assert material_row(mid)[3] != ""
    assert not os.path.exists(stored_path(blob))
