-- 036_objection_withdrawn.sql -- an objection may be withdrawn (R-CER-12):
-- the person (or the hospital that appealed) withdraws while the panel
-- re-decides; the re-decision stops and the first decision stands (the
-- application is 'rejected' again, with its first decided_at).  Its
-- result being final, no second objection follows (one per application).
-- The function: sql/fn/80_objection.sql withdraw_objection, called by
-- withdraw_application (sql/fn/20_applications.sql).
ALTER TABLE objections DROP CONSTRAINT objections_state_check;
ALTER TABLE objections ADD CONSTRAINT objections_state_check
    CHECK (state IN ('open', 'upheld', 'dismissed', 'withdrawn'));
