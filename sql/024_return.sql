-- 024_return.sql -- the returned state (R-APP-8, S3 第七条 申请材料不齐全的，
-- 一次性告知需补齐的材料): an expert holding an accepted task returns the
-- application once for named missing materials instead of deciding it;
-- the applicant adds them and resubmits by resubmit_by, or the
-- application lapses (withdrawn).  Functions: sql/fn/82_return.sql.
--
-- returned_at stays set after the resubmission: it is what makes the
-- return once per application.  expected_decision_date is cleared while
-- returned (the clock stops) and computed again at the resubmission.
ALTER TABLE applications
    ADD COLUMN returned_at timestamptz,
    ADD COLUMN returned_kinds text[]
        CHECK (cardinality(returned_kinds) BETWEEN 1 AND 10),
    ADD COLUMN return_note text
        CHECK (length(return_note) BETWEEN 1 AND 2000),
    ADD COLUMN resubmit_by date,
    ADD CONSTRAINT applications_returned_what CHECK ((returned_at IS NULL)
        = (returned_kinds IS NULL) AND (returned_at IS NULL)
        = (return_note IS NULL) AND (returned_at IS NULL)
        = (resubmit_by IS NULL)),
    ADD CONSTRAINT applications_returned_when
        CHECK (status <> 'returned' OR returned_at IS NOT NULL);
-- The lapse job's scan (run_returns): the returned past their last day.
CREATE INDEX applications_returned_due ON applications(resubmit_by, id)
    WHERE status = 'returned';

-- A return ends the expert's assignment in its own state: it is not a
-- decision (decision stays NULL, so "decided" keeps meaning a verdict for
-- the stage logic and the statistics), and says what is missing (the
-- opinion, required).
ALTER TABLE assignments DROP CONSTRAINT assignments_state_check;
ALTER TABLE assignments ADD CONSTRAINT assignments_state_check
    CHECK (state IN ('pushed', 'accepted', 'refused', 'expired', 'decided',
                     'cancelled', 'returned'));
ALTER TABLE assignments ADD CONSTRAINT assignments_returned_what
    CHECK (state <> 'returned'
           OR (decision IS NULL AND length(opinion) >= 1));

-- online_target_working_days is a region's own online target (S0 二(三)
-- 5-8 个工作日, 三门峡 only); 0 means none (decision_working_days
-- applies).  Rows the reference data wrote with the old default 8 for
-- regions whose seed states no such target become 0 (an agency's own
-- value is kept).
UPDATE policies SET value = '0', updated_at = now()
WHERE key = 'online_target_working_days' AND updated_by = 'reference'
  AND value = '8' AND region <> '411200';
