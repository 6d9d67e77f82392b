-- 026_audit.sql -- audit samples (R-SUP-1, S0 五(二) 抽查比例不低于
-- 10%, S3 第二十条): the sample of an audit is one recorded draw
-- (purpose 'audit', 022_draws.sql) whose pool is the population, the
-- region's approved qualifications of the period (sorted ids), and whose
-- chosen are the items, one per sampled qualification in draw order.
-- The functions live in sql/fn/86_audit.sql.
--
-- audits and audit_items come from 001_init.sql and were never filled
-- (no route made them): an item becomes a qualification of the sample
-- (its application may be NULL: a qualification carried over from the
-- old system has none), with its own id for the result's path.
ALTER TABLE audits
    ADD COLUMN draw_id bigint UNIQUE REFERENCES draws(id);

ALTER TABLE audit_items
    DROP CONSTRAINT audit_items_pkey,
    ALTER COLUMN application_id DROP NOT NULL,
    ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ADD COLUMN qualification_id bigint NOT NULL REFERENCES qualifications(id),
    -- 1-based position in the draw's chosen (its order).
    ADD COLUMN seat integer NOT NULL CHECK (seat >= 1),
    ADD CONSTRAINT audit_items_seat UNIQUE (audit_id, seat),
    ADD CONSTRAINT audit_items_once UNIQUE (audit_id, qualification_id),
    ADD CONSTRAINT audit_items_decided
        CHECK ((result = 'pending') = (decided_at IS NULL)
               AND (result = 'pending') = (decided_by IS NULL)),
    ADD CONSTRAINT audit_items_fail_note
        CHECK (result <> 'fail' OR length(note) >= 1);
CREATE INDEX audit_items_qualification ON audit_items(qualification_id);
CREATE INDEX audits_region ON audits(region, id);
