-- 022_draws.sql -- every random choice recorded so anyone can recompute
-- it (R-SUP-7, S0 四(二) 公开、公平、公正): the pool it chose from (sorted
-- ids), a seed from PostgreSQL's strong random source (pgcrypto's
-- gen_random_bytes: pg_strong_random, i.e. OpenSSL's RAND_bytes) and the
-- rule that maps the two to the chosen ones (draw_pick, sql/fn/
-- 15_draw.sql; the same rule in C: shared/mt_draw.c, used by `mtcertctl
-- draw verify` and `mtcertctl audit verify`).
--
-- purpose says what the draw was for; the row it chose for refers back
-- to it (assignments.draw_id for a push, and the audits, quarterly
-- reviews and objection panels of issue 12 the same way), so a verifier
-- checks both that the rule gives `chosen` and that what was done used
-- `chosen`.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE TABLE draws (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purpose     text NOT NULL CHECK (purpose IN ('push', 'objection',
                    'audit', 'review_experts', 'review_cases')),
    region      text NOT NULL REFERENCES regions(code),
    application_id bigint REFERENCES applications(id),
    stage       smallint CHECK (stage BETWEEN 1 AND 9),
    rule        text NOT NULL CHECK (rule IN ('sha256-ctr-u32-fy/1')),
    seed        bytea NOT NULL CHECK (length(seed) = 32),
    pool        bigint[] NOT NULL CHECK (cardinality(pool) >= 1),
    k           integer NOT NULL CHECK (k >= 1),
    chosen      bigint[] NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    CHECK (k <= cardinality(pool)),
    CHECK (cardinality(chosen) = k),
    CHECK (purpose NOT IN ('push', 'objection') OR application_id IS NOT NULL)
);
CREATE INDEX draws_application ON draws(application_id, id)
    WHERE application_id IS NOT NULL;

-- Which draw chose the expert of each push (NULL for pushes made before
-- this migration: those were ORDER BY gen_random_uuid(), not
-- recomputable).
ALTER TABLE assignments ADD COLUMN draw_id bigint REFERENCES draws(id);
