-- 15_draw.sql -- the one rule of every random choice (R-SUP-7): push an
-- expert, an objection panel, an audit sample, a quarterly review's
-- reviewers and cases.  Recorded in draws (022_draws.sql) with its pool
-- and seed so that anyone can recompute it; the same rule in C is
-- shared/mt_draw.c (`mtcertctl draw verify`, `audit verify`).
--
-- The rule 'sha256-ctr-u32-fy/1':
--   stream   the seed (32 bytes) expanded in counter mode: block b is
--            SHA-256(seed || b as 8 bytes big-endian), b = 0, 1, ...;
--            u32 number i of the stream is bytes 4(i mod 8) .. +3 of
--            block i div 8, big-endian;
--   uniform  a number below m (1 <= m <= 2^32) is the next u32 u of the
--            stream with u < 2^32 - (2^32 mod m) (the others are skipped:
--            no modulo bias), taken mod m;
--   choose   k of the pool of n sorted ids by a partial Fisher-Yates
--            shuffle: for j = 0 .. k-1, r = j + uniform(n - j), swap
--            positions j and r; the chosen are positions 0 .. k-1, in
--            that order (for a panel, seat 1 first).

-- A new seed: 32 bytes from the strong random source.
CREATE OR REPLACE FUNCTION draw_seed() RETURNS bytea
LANGUAGE sql VOLATILE AS $$
    SELECT gen_random_bytes(32)
$$;

-- The positions (0-based) the rule chooses: k of n for seed.
CREATE OR REPLACE FUNCTION draw_pick(seed bytea, n integer, k integer)
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    pos integer[];
    blk bytea;
    b bigint := -1;
    i bigint := 0;
    j integer;
    m bigint;
    lim bigint;
    u bigint;
    r integer;
    t integer;
BEGIN
    IF n < 1 OR k < 0 OR k > n OR length(seed) <> 32 THEN
        RAISE EXCEPTION 'draw_pick: bad arguments n=%, k=%', n, k;
    END IF;
    pos := ARRAY(SELECT generate_series(0, n - 1));
    FOR j IN 0 .. k - 1 LOOP
        m := n - j;
        lim := 4294967296 - (4294967296 % m);
        LOOP
            IF i / 8 <> b THEN
                b := i / 8;
                blk := sha256(seed || int8send(b));
            END IF;
            u := (get_byte(blk, (i % 8)::int * 4)::bigint << 24)
               | (get_byte(blk, (i % 8)::int * 4 + 1) << 16)
               | (get_byte(blk, (i % 8)::int * 4 + 2) << 8)
               | get_byte(blk, (i % 8)::int * 4 + 3);
            i := i + 1;
            EXIT WHEN u < lim;
        END LOOP;
        r := j + (u % m)::integer;
        t := pos[j + 1];
        pos[j + 1] := pos[r + 1];
        pos[r + 1] := t;
    END LOOP;
    RETURN pos[1:k];
END $$;

-- The rule's name, as draws.rule records it.
CREATE OR REPLACE FUNCTION draw_rule() RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'sha256-ctr-u32-fy/1' $$;

-- A pool as the rule takes it and draws.pool records it: the ids sorted,
-- each once.
CREATE OR REPLACE FUNCTION draw_pool(ids bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT ARRAY(SELECT DISTINCT x FROM unnest(ids) x ORDER BY x)
$$;

-- The ids the rule chooses, in draw order: k of pool (draw_pool's) for
-- seed.
CREATE OR REPLACE FUNCTION draw_chosen(seed bytea, pool bigint[], k integer)
RETURNS bigint[]
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT ARRAY(SELECT pool[p + 1]
                 FROM unnest(draw_pick(seed, cardinality(pool), k))
                      WITH ORDINALITY AS t(p, o) ORDER BY o)
$$;

-- Draw k of the ids of pool (any order, no duplicates: sorted here) with
-- a fresh seed and record it.  Returns the draw's row: its id and
-- chosen (in draw order).  The caller stores the id on what it made
-- of the choice (assignments.draw_id, ...).  A push's draws, a batch at
-- a time, are recorded by one INSERT of the same rule (draw_experts,
-- 30_review.sql: draw_pool, draw_seed, draw_chosen, draw_rule).
CREATE OR REPLACE FUNCTION record_draw(p_purpose text, p_region text,
    p_pool bigint[], p_k integer, p_application bigint DEFAULT NULL,
    p_stage integer DEFAULT NULL) RETURNS draws
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    sorted bigint[] := draw_pool(p_pool);
    s bytea := draw_seed();
    d draws%ROWTYPE;
BEGIN
    INSERT INTO draws (purpose, region, application_id, stage, rule, seed,
                       pool, k, chosen)
    VALUES (p_purpose, p_region, p_application, p_stage, draw_rule(), s,
            sorted, p_k, draw_chosen(s, sorted, p_k))
    RETURNING * INTO d;
    RETURN d;
END $$;

-- What was done with draw d's choice, in draw order, as recorded where it
-- was used: for a push, the expert of the assignment that refers to it
-- ('{}' when none does: a push draws and inserts its assignment in one
-- transaction, so a push draw nothing used means a deleted assignment).
-- A verifier compares it with `chosen` (NULL: this purpose records its
-- use elsewhere).  Each purpose of issue 12 adds
-- its branch here: one place says where every draw was used.
CREATE OR REPLACE FUNCTION draw_used(d draws) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT CASE d.purpose
        WHEN 'push' THEN ARRAY(SELECT x.expert_id FROM assignments x
                               WHERE x.draw_id = d.id ORDER BY x.id)
        -- An objection panel (80_objection.sql): the experts of the seats
        -- it pushed, in seat (stage) order -- seat n is chosen[n].
        WHEN 'objection' THEN ARRAY(SELECT x.expert_id FROM assignments x
                                    WHERE x.draw_id = d.id ORDER BY x.stage)
        -- An audit's sample (86_audit.sql): the items' qualifications
        -- in seat order.
        WHEN 'audit' THEN ARRAY(SELECT i.qualification_id
                                FROM audits x JOIN audit_items i
                                ON i.audit_id = x.id
                                WHERE x.draw_id = d.id ORDER BY i.seat)
        -- The quarterly review (88_quarterly_review.sql): its reviewers
        -- by seat, its cases by number.
        WHEN 'review_experts' THEN ARRAY(
            SELECT r.expert_id FROM quarterly_review_reviewers r
            JOIN quarterly_reviews q ON q.id = r.review_id
            WHERE q.reviewer_draw_id = d.id ORDER BY r.seat)
        WHEN 'review_cases' THEN ARRAY(
            SELECT c.application_id FROM quarterly_review_cases c
            JOIN quarterly_reviews q ON q.id = c.review_id
            WHERE q.case_draw_id = d.id ORDER BY c.seq)
    END
$$;

-- The draws of application app for `mtcertctl draw verify` (the columns
-- mtcertctl's verify_draws reads), plus one row per push of it that
-- refers to no draw although it was made after draws were recorded
-- (purpose 'unrecorded', the assignment's id in `used`): an erased
-- draw_id must not make a push unverifiable unseen.
CREATE OR REPLACE FUNCTION draws_of_application(app bigint)
RETURNS TABLE (id bigint, purpose text, stage smallint, rule text,
               seed text, pool text, k integer, chosen text, used text)
LANGUAGE sql STABLE AS $$
    SELECT d.id, d.purpose, d.stage, d.rule, encode(d.seed, 'hex'),
           d.pool::text, d.k, d.chosen::text, draw_used(d)::text
    FROM draws d WHERE d.application_id = app
    UNION ALL
    SELECT NULL, 'unrecorded', x.stage, NULL, NULL, NULL, NULL, NULL,
           x.id::text
    FROM assignments x
    WHERE x.application_id = app AND x.draw_id IS NULL
      AND x.pushed_at >= (SELECT applied_at FROM schema_migrations
                          WHERE version = '022')
    ORDER BY 1 NULLS LAST
$$;
