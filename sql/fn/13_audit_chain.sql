-- 13_audit_chain.sql -- the hash chain of access_log and events (issue 15;
-- the columns and audit_chain_heads: sql/042_audit_chain.sql).
--
-- One chain per (table, region, local day, shard): the region is the
-- person's (access_log) or the application's (events), '' for a read
-- that names no person.  Why that key: a writer holds its chain's head
-- row locked until it commits, so the writers of one chain go one commit
-- at a time.  Per region, writers of different regions never wait for
-- each other; per day, a chain is closed once its day is past, so it can
-- be archived whole (the head row stays) and a verify of recent days
-- reads recent rows only; per shard (the writer's backend pid mod
-- audit_chain_shards()), the workers of one region do not queue behind
-- each other either: a worker's connection serves one request at a time,
-- so its shard is contended only when two connections' pids collide.
-- Measured (tests/bench/run.sh, BENCH_QUICK, 2 loaded cores, the
-- agency's logged GET /applications/{id}, one region, against the same
-- read with the trigger off, same run): one chain per region and day
-- 306 / 1281 req/s; 16 shards 918 / 1740 (8 workers' pids collide);
-- 4096 shards (a collision is rare; the heads of a day are at most the
-- connections that wrote, per region) 1002 / 1638: what is left is the
-- work per row (the head's UPDATE, a SHA-256, the region's lookup).

-- How many chains a region's day is spread over (see above).
CREATE OR REPLACE FUNCTION audit_chain_shards() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 4096 $$;

-- This connection's shard.
CREATE OR REPLACE FUNCTION audit_chain_shard() RETURNS smallint
LANGUAGE sql STABLE AS $$
    SELECT (pg_backend_pid() % audit_chain_shards())::smallint
$$;

-- The first prev_hash of chain (t, r, d, sh).  The day spelled
-- YYYY-MM-DD whatever the session's DateStyle (d::text was ISO's
-- spelling only under the ISO DateStyle every connection of the service
-- uses: a chain begun under another was named broken by verify).
CREATE OR REPLACE FUNCTION audit_genesis(t text, r text, d date, sh smallint)
RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT digest('mtcert audit chain ' || t || ' ' || r || ' '
                  || to_char(d, 'YYYY-MM-DD') || ' ' || sh::text, 'sha256')
$$;

-- The hash of a row (to_jsonb of it) after prev: sha256(prev || its
-- canonical text).  Canonical: every non-null column but hash and
-- prev_hash, as jsonb text (keys sorted, one spelling), `at` as epoch
-- seconds (jsonb would print a timestamptz in the session's time zone).
-- A nullable column added later leaves old rows' hashes as they were.
-- PL/pgSQL, whose plan the session keeps (issue 13, third round): as a
-- SQL function it is not inlined (the text -> timestamptz cast is not
-- immutable), so the trigger, called once per transaction, planned its
-- body again at every row: 155 us of self time a call, as much as the
-- rest of the trigger (track_functions, 440 calls in 220 submits and
-- their pushes).
CREATE OR REPLACE FUNCTION audit_row_hash(rowj jsonb, prev bytea)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN digest(prev || convert_to(jsonb_strip_nulls(jsonb_set(
        rowj - 'hash' - 'prev_hash', '{at}',
        to_jsonb(extract(epoch FROM (rowj->>'at')::timestamptz))))::text,
        'UTF8'), 'sha256');
END $$;

-- The head of chain (t, r, d, sh), created at its first row, locked to
-- this transaction's end: concurrent writers append one after the other
-- and never fork the chain; a rolled-back writer rolls its head back
-- too.  Raises when the chain is archived.
CREATE OR REPLACE FUNCTION audit_chain_head(t text, r text, d date,
                                            sh smallint)
RETURNS audit_chain_heads
LANGUAGE plpgsql AS $$
DECLARE
    h audit_chain_heads;
BEGIN
    SELECT * INTO h FROM audit_chain_heads
    WHERE tbl = t AND day = d AND region = r AND shard = sh FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_chain_heads (tbl, region, day, shard, seq, hash)
        VALUES (t, r, d, sh, 0, audit_genesis(t, r, d, sh))
        ON CONFLICT DO NOTHING;
        SELECT * INTO h FROM audit_chain_heads
        WHERE tbl = t AND day = d AND region = r AND shard = sh FOR UPDATE;
    END IF;
    IF h.archived_at IS NOT NULL THEN
        RAISE EXCEPTION 'audit chain % % % % is archived', t, r, d, sh;
    END IF;
    RETURN h;
END $$;

-- The links a transaction makes (issue 13, fourth round).  The head of a chain
-- is locked and read once per transaction and chain, at its first row, and then
-- held to the commit; the last link made is kept in the transaction-local
-- setting mtcert.audit_link: its hash (64 hex), seq (20 digits), how many rows
-- in a row were linked from it (one digit, up to 4), and its chain (tbl, day as
-- days since 2000-01-01, shard, region), each after a space.  The next row of
-- that chain in the transaction is linked from it without reading the head
-- again.  The head is written at every row for the first four rows linked from
-- the setting (a transaction of a few one-row statements, as a submit, writes
-- it as before and never needs a flush); from the fifth on (an INSERT ...
-- SELECT of many rows, as the dispatcher's batches and log_reads are) the head
-- is written once: mtcert.audit_dirty marks it behind, and audit_chain_write()
-- brings it up to date when the statement ends (the AFTER STATEMENT trigger,
-- which fires only then) or before a row of another chain reads its own head.
-- A statement never ends with a head behind, so verify, the anchors and the
-- next transaction read current heads. Settings set locally follow
-- subtransactions: a savepoint rolled back rolls the setting back with its rows
-- and head writes.
-- Measured (PostgreSQL CPU per transaction, one backend, pgbench, the
-- old trigger interleaved in the same run, 2 loaded cores): an INSERT
-- ... SELECT of 750 access_log rows 37-44 ms against 73-82 ms (the
-- same rows unchained 12-13 ms: 36 against 87 us a link); one row a
-- transaction 276-333 against 260-286 us and three one-row statements
-- in a transaction 663-696 against 653-763 us, the same within the
-- noise.

-- Write the head mtcert.audit_link says is behind (mtcert.audit_dirty):
-- its seq and hash, anchored_at back to NULL; then it is current.
CREATE OR REPLACE FUNCTION audit_chain_write() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c text := current_setting('mtcert.audit_link', true);
    f text[] := regexp_match(substr(c, 89), '^(\S+) (\S+) (\S+) (.*)$');
BEGIN
    UPDATE audit_chain_heads SET seq = substr(c, 66, 20)::bigint,
        hash = decode(substr(c, 1, 64), 'hex'), anchored_at = NULL
    WHERE tbl = f[1] AND day = date '2000-01-01' + f[2]::integer
      AND shard = f[3]::smallint
      AND region = f[4] AND seq < substr(c, 66, 20)::bigint;
    PERFORM set_config('mtcert.audit_link', overlay(c placing '0' from 87),
                       true);
    PERFORM set_config('mtcert.audit_dirty', '', true);
END $$;

-- Before a function that writes chains' heads itself (audit_backfill,
-- audit_archive_commit): the head left behind written, and the link
-- kept in mtcert.audit_link forgotten, so that a row inserted after it
-- in the same transaction reads its head again.
CREATE OR REPLACE FUNCTION audit_chain_forget() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('mtcert.audit_dirty', true) = 'yes' THEN
        PERFORM audit_chain_write();
    END IF;
    PERFORM set_config('mtcert.audit_link', '', true);
END $$;

-- The one place a link is made: BEFORE INSERT on access_log and events.
CREATE OR REPLACE FUNCTION audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    h audit_chain_heads;
    k text;
    c text := current_setting('mtcert.audit_link', true);
    n integer := 0;
BEGIN
    IF TG_TABLE_NAME = 'access_log' THEN
        NEW.chain_region := coalesce((SELECT region FROM persons
                                      WHERE id = NEW.person_id), '');
    ELSE
        NEW.chain_region := (SELECT region FROM applications
                             WHERE id = NEW.application_id);
    END IF;
    NEW.chain_day := (NEW.at AT TIME ZONE 'Asia/Shanghai')::date;
    NEW.chain_shard := audit_chain_shard();
    -- The day as days since 2000-01-01: no DateStyle in the setting.
    k := TG_TABLE_NAME || ' ' || (NEW.chain_day - date '2000-01-01') || ' '
         || NEW.chain_shard || ' ' || NEW.chain_region;
    IF substr(c, 89) = k THEN
        NEW.chain_seq := substr(c, 66, 20)::bigint + 1;
        NEW.prev_hash := decode(substr(c, 1, 64), 'hex');
        n := substr(c, 87, 1)::integer + 1;
    ELSE
        IF current_setting('mtcert.audit_dirty', true) = 'yes' THEN
            PERFORM audit_chain_write();
        END IF;
        h := audit_chain_head(TG_TABLE_NAME, NEW.chain_region,
                              NEW.chain_day, NEW.chain_shard);
        NEW.chain_seq := h.seq + 1;
        NEW.prev_hash := h.hash;
    END IF;
    NEW.hash := audit_row_hash(to_jsonb(NEW), NEW.prev_hash);
    PERFORM set_config('mtcert.audit_link', encode(NEW.hash, 'hex') || ' '
        || lpad(NEW.chain_seq::text, 20, '0') || ' ' || least(n, 4) || ' '
        || k, true);
    IF n < 4 THEN
        -- anchored_at back to NULL: a row added to a chain already
        -- anchored (a day past, written late) gets its new head
        -- anchored too.
        UPDATE audit_chain_heads SET seq = NEW.chain_seq, hash = NEW.hash,
            anchored_at = NULL
        WHERE tbl = TG_TABLE_NAME AND day = NEW.chain_day
          AND region = NEW.chain_region AND shard = NEW.chain_shard;
    ELSIF n = 4 THEN
        PERFORM set_config('mtcert.audit_dirty', 'yes', true);
    END IF;
    RETURN NEW;
END $$;

-- AFTER each INSERT statement that left a head behind (its WHEN: no
-- call at all after the others).
CREATE OR REPLACE FUNCTION audit_chain_flush() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM audit_chain_write();
    RETURN NULL;
END $$;

-- The row trigger and its flush go together (a test that writes rows
-- with audit_chain disabled leaves nothing behind for the flush).
DROP TRIGGER IF EXISTS access_log_chain ON access_log;
CREATE TRIGGER access_log_chain BEFORE INSERT ON access_log
    FOR EACH ROW EXECUTE FUNCTION audit_chain();
DROP TRIGGER IF EXISTS access_log_chain_flush ON access_log;
CREATE TRIGGER access_log_chain_flush AFTER INSERT ON access_log
    FOR EACH STATEMENT
    WHEN (current_setting('mtcert.audit_dirty', true) = 'yes')
    EXECUTE FUNCTION audit_chain_flush();
DROP TRIGGER IF EXISTS events_chain ON events;
CREATE TRIGGER events_chain BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION audit_chain();
DROP TRIGGER IF EXISTS events_chain_flush ON events;
CREATE TRIGGER events_chain_flush AFTER INSERT ON events
    FOR EACH STATEMENT
    WHEN (current_setting('mtcert.audit_dirty', true) = 'yes')
    EXECUTE FUNCTION audit_chain_flush();

-- Rows written before the chain (042): linked in id order, as the
-- trigger would have, in shard 0; at most n of them (access_log's
-- first, then events'), found by the partial indexes *_unchained (045).
-- Returns how many were linked: 0 when none is left.  `mtcertctl
-- migrate` calls it after the functions, one transaction per batch, so
-- a database with millions of old rows is linked with the service
-- running (its heads locked one batch at a time, not for the whole
-- back-fill).
CREATE OR REPLACE FUNCTION audit_backfill(n integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    t text;
    r record;
    h audit_chain_heads;
    d date;
    link bytea;
    done integer := 0;
BEGIN
    PERFORM audit_chain_forget();
    FOREACH t IN ARRAY ARRAY['access_log', 'events'] LOOP
        FOR r IN EXECUTE format(
            'SELECT x.id, x.at, to_jsonb(x) AS j, %s AS region FROM %I x'
            ' WHERE x.hash IS NULL ORDER BY x.id LIMIT %s', CASE t
            WHEN 'access_log' THEN '(SELECT coalesce((SELECT region FROM'
                ' persons WHERE id = x.person_id), ''''))'
            ELSE '(SELECT region FROM applications'
                ' WHERE id = x.application_id)' END, t, n - done)
        LOOP
            d := (r.at AT TIME ZONE 'Asia/Shanghai')::date;
            h := audit_chain_head(t, r.region, d, 0::smallint);
            r.j := r.j || jsonb_build_object('chain_region', r.region,
                'chain_day', d, 'chain_shard', 0, 'chain_seq', h.seq + 1);
            link := audit_row_hash(r.j, h.hash);
            EXECUTE format('UPDATE %I SET chain_region = $1, chain_day = $2,'
                ' chain_shard = 0, chain_seq = $3, prev_hash = $4, hash = $5'
                ' WHERE id = $6', t)
            USING r.region, d, h.seq + 1, h.hash, link, r.id;
            UPDATE audit_chain_heads
            SET seq = h.seq + 1, hash = link, anchored_at = NULL
            WHERE tbl = t AND region = r.region AND day = d AND shard = 0;
            done := done + 1;
        END LOOP;
    END LOOP;
    RETURN done;
END $$;

-- The links of table t's chains that do not hold, from day d_from to day
-- d_to (NULL: no bound) and of region p_region (NULL: every one), at most the first
-- per chain, in chain order (day, region, shard): what broke, the row's
-- id (NULL when the rows at a chain's end are missing), what was
-- expected and what was found.  A row edited: its hash no longer matches
-- its content; deleted: the next row's seq skips (or its prev_hash is
-- not the last row's hash); the last ones deleted: the chain ends short
-- of its head; a chain archived (archived_at) is checked no further.
-- Empty: intact.
DROP FUNCTION IF EXISTS audit_chain_breaks(text, text, date);
CREATE OR REPLACE FUNCTION audit_chain_breaks(t text, p_region text,
                                              d_from date, d_to date)
RETURNS TABLE (tbl text, region text, day date, shard smallint, id bigint,
               what text, expected text, found text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
    WITH x AS (
        SELECT x.id, x.chain_region AS region, x.chain_day AS day,
               x.chain_shard AS shard, x.chain_seq AS seq, x.prev_hash,
               x.hash, audit_row_hash(to_jsonb(x), x.prev_hash) AS recomputed,
               lag(x.chain_seq) OVER w AS last_seq,
               lag(x.hash) OVER w AS last_hash
        FROM %I x
        WHERE ($1::text IS NULL OR x.chain_region = $1)
          AND ($2::date IS NULL OR x.chain_day >= $2)
          AND ($3::date IS NULL OR x.chain_day <= $3)
        WINDOW w AS (PARTITION BY x.chain_day, x.chain_region, x.chain_shard
                     ORDER BY x.chain_seq)),
    bad AS (
        SELECT x.region, x.day, x.shard, x.seq, x.id, 'row edited' AS what,
               encode(x.recomputed, 'hex') AS expected,
               encode(x.hash, 'hex') AS found
        FROM x WHERE x.hash IS DISTINCT FROM x.recomputed
        UNION ALL
        SELECT x.region, x.day, x.shard, x.seq, x.id,
               'row missing before it (seq)',
               (coalesce(x.last_seq, 0) + 1)::text, x.seq::text
        FROM x WHERE x.seq IS DISTINCT FROM coalesce(x.last_seq, 0) + 1
        UNION ALL
        SELECT x.region, x.day, x.shard, x.seq, x.id,
               'link broken (prev_hash)',
               encode(coalesce(x.last_hash,
                   audit_genesis(%L, x.region, x.day, x.shard)), 'hex'),
               encode(x.prev_hash, 'hex')
        FROM x WHERE x.prev_hash IS DISTINCT FROM coalesce(x.last_hash,
                   audit_genesis(%L, x.region, x.day, x.shard))
        UNION ALL
        SELECT h.region, h.day, h.shard, h.seq + 1, NULL::bigint,
               'rows missing at the end (head seq)', h.seq::text,
               coalesce(max(x.seq), 0)::text
        FROM audit_chain_heads h
        LEFT JOIN x ON x.region = h.region AND x.day = h.day
                   AND x.shard = h.shard
        WHERE h.tbl = %L AND h.archived_at IS NULL
          AND ($1::text IS NULL OR h.region = $1)
          AND ($2::date IS NULL OR h.day >= $2)
          AND ($3::date IS NULL OR h.day <= $3)
        GROUP BY h.region, h.day, h.shard, h.seq, h.hash
        HAVING h.seq <> coalesce(max(x.seq), 0)
            OR h.hash IS DISTINCT FROM (array_agg(x.hash
                   ORDER BY x.seq DESC))[1] AND h.seq > 0)
    SELECT DISTINCT ON (b.day, b.region, b.shard) %L::text, b.region, b.day,
           b.shard, b.id, b.what, b.expected, b.found
    FROM bad b ORDER BY b.day, b.region, b.shard, b.seq
    $q$, t, t, t, t, t) USING p_region, d_from, d_to;
END $$;

-- Retention (audit_retention_months, at least 6: 等保三级): access_log's
-- closed chains older than that may be archived, never events' (an
-- application's timeline, rebuilt from its events, lives as long as the
-- application).  The chains of access_log before day `before` and past
-- their region's retention, not yet archived, in chain order.
DROP FUNCTION IF EXISTS audit_archivable(date);
CREATE OR REPLACE FUNCTION audit_archivable(before date)
RETURNS TABLE (region text, day date, shard smallint)
LANGUAGE sql STABLE AS $$
    SELECT h.region, h.day, h.shard FROM audit_chain_heads h
    WHERE h.tbl = 'access_log' AND h.archived_at IS NULL
      AND h.day < before
      -- The least retention (the policy's minimum, 6): a range of the
      -- partial index audit_chain_heads_unarchived (045), so the daily
      -- job reads the days just past, not every head of the retention.
      AND h.day < cn_today() - interval '6 months'
      AND h.day < cn_today() - make_interval(months =>
              policy_value(h.region, 'audit_retention_months')::int)
    ORDER BY h.day, h.region, h.shard
$$;

-- The archive text of access_log chain (r, d, sh): a line with its head
-- {"chain": {tbl, region, day, shard, seq, hash}}, then each row as JSON
-- (its hashes as hex) in chain order, one a line.  What
-- `mtcertctl audit-trail archive` writes; audit_archive_commit checks
-- the file against it.
DROP FUNCTION IF EXISTS audit_archive_text(text, date);
CREATE OR REPLACE FUNCTION audit_archive_text(r text, d date, sh smallint)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('chain', jsonb_build_object(
               'tbl', h.tbl, 'region', h.region, 'day', h.day,
               'shard', h.shard, 'seq', h.seq,
               'hash', encode(h.hash, 'hex')))::text
           || E'\n' || coalesce((SELECT string_agg((to_jsonb(l)
               || jsonb_build_object('hash', encode(l.hash, 'hex'),
                      'prev_hash', encode(l.prev_hash, 'hex')))::text
               || E'\n', '' ORDER BY l.chain_seq)
           FROM access_log l WHERE l.chain_region = r AND l.chain_day = d
             AND l.chain_shard = sh), '')
    FROM audit_chain_heads h
    WHERE h.tbl = 'access_log' AND h.region = r AND h.day = d
      AND h.shard = sh
$$;

-- Archive chain (r, d, sh) of access_log once its file is written: under
-- the head's lock, the chain must be intact and its archive text hash to
-- sha (hex SHA-256 of the bytes read back from the file named name);
-- then its rows are deleted and the head kept, marked archived with the
-- file's hash and name.  Returns the rows deleted; raises (nothing
-- deleted) when the chain is broken, archived or not as in the file.
DROP FUNCTION IF EXISTS audit_archive_commit(text, date, text, text);
CREATE OR REPLACE FUNCTION audit_archive_commit(r text, d date, sh smallint,
                                                sha text, name text)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM audit_chain_forget();
    PERFORM audit_chain_head('access_log', r, d, sh);
    IF EXISTS (SELECT 1 FROM audit_chain_breaks('access_log', r, d, d) b
               WHERE b.shard = sh) THEN
        RAISE EXCEPTION 'audit chain % % % is broken: verify it', r, d, sh;
    END IF;
    IF encode(digest(convert_to(audit_archive_text(r, d, sh), 'UTF8'),
                     'sha256'), 'hex') <> sha THEN
        RAISE EXCEPTION 'audit chain % % % differs from its archive', r, d,
            sh;
    END IF;
    DELETE FROM access_log
    WHERE chain_region = r AND chain_day = d AND chain_shard = sh;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE audit_chain_heads
    SET archived_at = now(), archive_sha256 = sha, archive_name = name
    WHERE tbl = 'access_log' AND region = r AND day = d AND shard = sh;
    RETURN n;
END $$;

-- Anchoring outside the database (045; the file: shared/mt_audit.c).
-- Take up to n heads of chains whose China day is past by an hour (a
-- writer that began before midnight may still commit into the day
-- before), not anchored as they are now: each marked anchored and
-- returned with its hash as hex and the time, in chain order.  Called
-- in the job's transaction, which writes them to the anchor file before
-- it commits: a crash in between leaves them unmarked, to be written
-- again (an anchor line twice is harmless: each is checked).  SKIP
-- LOCKED: a head a late writer holds is taken next time.
CREATE OR REPLACE FUNCTION audit_anchor_take(n integer)
RETURNS TABLE (tbl text, region text, day date, shard smallint,
               seq bigint, hash text, at text)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT h.tbl, h.day, h.region, h.shard FROM audit_chain_heads h
        WHERE h.anchored_at IS NULL
          AND h.day < ((now() - interval '1 hour')
                       AT TIME ZONE 'Asia/Shanghai')::date
        ORDER BY h.day, h.tbl, h.region, h.shard
        LIMIT n FOR UPDATE SKIP LOCKED),
    u AS (
        UPDATE audit_chain_heads h SET anchored_at = now() FROM due
        WHERE h.tbl = due.tbl AND h.day = due.day
          AND h.region = due.region AND h.shard = due.shard
        RETURNING h.tbl, h.region, h.day, h.shard, h.seq, h.hash)
    SELECT u.tbl, u.region, u.day, u.shard, u.seq, encode(u.hash, 'hex'),
           to_char(now() AT TIME ZONE 'Asia/Shanghai',
                   'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
    FROM u ORDER BY u.day, u.tbl, u.region, u.shard
$$;

-- The anchor lines (jsonb array of {"n": line number, "l": the line's
-- JSON {tbl, region, day, shard, seq, hash, ...}}) of region p_region
-- (NULL: every one) that the database no longer matches: the chain gone
-- (its head deleted), rows gone since (the head's seq behind the
-- anchor's), the head's hash not the anchored one (a chain recomputed
-- and its head updated after an edit), or, when rows were added since
-- (a late write), the row at the anchored seq gone or not hashing as
-- anchored.  A chain archived after rows were added since its anchor
-- is checked by its head no further (XXX: its archive file holds the
-- row).  Empty: every anchored head holds.
CREATE OR REPLACE FUNCTION audit_anchor_breaks(lines jsonb, p_region text)
RETURNS TABLE (n bigint, tbl text, region text, day date, shard smallint,
               what text, expected text, found text)
LANGUAGE sql STABLE AS $$
    WITH a AS (
        SELECT e.n, e.x->'l'->>'tbl' AS tbl, e.x->'l'->>'region' AS region,
               (e.x->'l'->>'day')::date AS day,
               (e.x->'l'->>'shard')::smallint AS shard,
               (e.x->'l'->>'seq')::bigint AS seq, e.x->'l'->>'hash' AS hash
        FROM jsonb_array_elements(lines) AS e0(x),
             LATERAL (SELECT (e0.x->>'n')::bigint AS n, e0.x AS x) e
        WHERE p_region IS NULL OR e.x->'l'->>'region' = p_region),
    c AS (
        SELECT a.*, h.seq AS head_seq, encode(h.hash, 'hex') AS head_hash,
               h.archived_at,
               encode(CASE a.tbl WHEN 'access_log' THEN
                   (SELECT l.hash FROM access_log l
                    WHERE l.chain_day = a.day AND l.chain_region = a.region
                      AND l.chain_shard = a.shard AND l.chain_seq = a.seq)
               ELSE (SELECT v.hash FROM events v
                     WHERE v.chain_day = a.day AND v.chain_region = a.region
                       AND v.chain_shard = a.shard AND v.chain_seq = a.seq)
               END, 'hex') AS row_hash
        FROM a LEFT JOIN audit_chain_heads h
          ON h.tbl = a.tbl AND h.day = a.day AND h.region = a.region
         AND h.shard = a.shard),
    w AS (
        SELECT c.*, CASE
            WHEN c.head_seq IS NULL THEN 'chain gone (head deleted)'
            WHEN c.head_seq < c.seq THEN 'rows gone since anchored (head seq)'
            WHEN c.head_seq = c.seq AND c.head_hash <> c.hash
                THEN 'head differs from its anchor'
            WHEN c.head_seq = c.seq OR c.archived_at IS NOT NULL THEN NULL
            WHEN c.row_hash IS NULL THEN 'anchored row gone'
            WHEN c.row_hash <> c.hash THEN 'row differs from its anchor'
            END AS what
        FROM c)
    SELECT w.n, w.tbl, w.region, w.day, w.shard, w.what,
           CASE WHEN w.what LIKE 'rows gone%' OR w.what LIKE 'chain gone%'
                THEN w.seq::text ELSE w.hash END,
           CASE WHEN w.what LIKE 'rows gone%' THEN w.head_seq::text
                WHEN w.what LIKE 'chain gone%' THEN '-'
                WHEN w.what LIKE 'head%' THEN w.head_hash
                ELSE coalesce(w.row_hash, '-') END
    FROM w WHERE w.what IS NOT NULL ORDER BY w.n
$$;
