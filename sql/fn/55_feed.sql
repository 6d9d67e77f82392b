-- 55_feed.sql -- the national feed (R-BEN-7, S3 第十条): every change to a
-- qualification, numbered in the order the changes committed, for GET
-- /agency/exports/qualifications.  The table: sql/013_feed.sql.  (The
-- region's agency contact, region_contact_json, is in 50_benefit.sql.)
--
-- Why not a cursor on qualification_changes.id (or a time): ids are
-- taken when a row is written, not when it commits.  Transaction A writes
-- row 7 and stays open; B writes row 8 and commits; a consumer reads up
-- to 8; A commits -- and row 7 is behind the consumer's cursor forever.
-- So the rows are written unnumbered (seq NULL) and numbered afterwards,
-- by qualification_feed_sequence(), only once committed (an uncommitted
-- row is invisible to it), one run at a time (an advisory lock), each run
-- above the highest number so far.  A row a consumer has not seen yet
-- therefore always gets a number above every one it has seen.

-- The change rows of one write of qualifications: 'new' for an insert; for
-- an update one row per kind of change it made (a hospital change, a
-- renewal, the end), each with the qualification as every reader sees it
-- then (qualification_json).  An update that changes none of these
-- (updated_at alone, say) writes nothing.
CREATE OR REPLACE FUNCTION qualification_change_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kinds text[] := '{}';
BEGIN
    IF TG_OP = 'INSERT' THEN
        kinds := ARRAY['new'];
    ELSE
        IF NEW.designated_institution <> OLD.designated_institution THEN
            kinds := kinds || 'institution_changed'::text;
        END IF;
        IF NEW.renewed_count > OLD.renewed_count
           OR NEW.valid_to > OLD.valid_to THEN
            kinds := kinds || 'renewed'::text;
        END IF;
        IF OLD.status = 'active' AND NEW.status <> 'active' THEN
            kinds := kinds || 'ended'::text;
        END IF;
    END IF;
    -- One snapshot for every row of this write: they show the same state.
    IF cardinality(kinds) > 0 THEN
        INSERT INTO qualification_changes (qualification_id, region, kind,
            snapshot)
        SELECT NEW.id, NEW.region, k, s
        FROM unnest(kinds) WITH ORDINALITY u(k, i),
             qualification_json(NEW.id) s
        ORDER BY u.i;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS qualifications_feed ON qualifications;
CREATE TRIGGER qualifications_feed AFTER INSERT OR UPDATE ON qualifications
    FOR EACH ROW EXECUTE FUNCTION qualification_change_rows();

-- Number the committed unnumbered rows, in id order, above the highest
-- number so far.  The transaction-level advisory lock (keyed by the
-- table's oid) makes runs follow one another: a run starts only after
-- the previous one committed, and its UPDATE (a later statement, so a
-- later snapshot) sees that run's numbers.  max + row_number rather than
-- nextval(): the numbers have no gaps and follow id order by
-- construction.  Callers: qualification_feed() (every export), and any
-- job that wants the feed numbered ahead of a read.  Returns the number
-- of rows numbered.
CREATE OR REPLACE FUNCTION qualification_feed_sequence() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM pg_advisory_xact_lock('qualification_changes'::regclass::oid::bigint);
    WITH top AS (SELECT coalesce(max(seq), 0) AS seq
                 FROM qualification_changes),
         todo AS (SELECT c.id, row_number() OVER (ORDER BY c.id) AS n
                  FROM qualification_changes c WHERE c.seq IS NULL)
    UPDATE qualification_changes c SET seq = top.seq + todo.n
    FROM top, todo WHERE c.id = todo.id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- One page of the feed for reader (a user id): number what has committed,
-- then the rows of p_region (NULL: every region) numbered above since, at
-- most lim, oldest first; each exported qualification is logged in
-- access_log (action 'export').  Must run in its own READ COMMITTED
-- statement (as the API calls it): the read is a later statement than
-- the numbering, so it sees every number given so far.  Returns
-- {"items": [{seq, kind, at, qualification}], "next_since": the last seq
-- given (as text), or since when there is nothing new}.
CREATE OR REPLACE FUNCTION qualification_feed(p_region text, since bigint,
    lim integer, reader bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    page jsonb;
    who bigint[];
    what bigint[];
BEGIN
    PERFORM qualification_feed_sequence();
    WITH r AS (SELECT c.seq, c.kind, c.at, c.snapshot, c.qualification_id,
                      q.person_id
               FROM qualification_changes c
               JOIN qualifications q ON q.id = c.qualification_id
               WHERE c.seq > since
                 AND (p_region IS NULL OR c.region = p_region)
               ORDER BY c.seq LIMIT lim)
    SELECT jsonb_build_object(
        'items', coalesce(jsonb_agg(jsonb_build_object('seq', r.seq,
            'kind', r.kind, 'at', r.at, 'qualification', r.snapshot)
            ORDER BY r.seq), '[]'::jsonb),
        'next_since', coalesce(max(r.seq), since)::text),
        array_agg(r.person_id), array_agg(r.qualification_id)
    INTO page, who, what FROM r;
    -- The rows of this page, logged in this transaction (log_reads).
    PERFORM log_reads(reader, 'qualification', 'export', who, what);
    RETURN page;
END $$;

-- Qualifications granted before the feed existed: one 'new' row each
-- (their state now), so the national system gets them all.  Re-runnable:
-- only those without any row yet.
INSERT INTO qualification_changes (qualification_id, region, kind, at,
    snapshot)
SELECT q.id, q.region, 'new', q.created_at, qualification_json(q.id)
FROM qualifications q
WHERE NOT EXISTS (SELECT 1 FROM qualification_changes c
                  WHERE c.qualification_id = q.id)
ORDER BY q.id;
