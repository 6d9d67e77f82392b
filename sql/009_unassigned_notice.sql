-- 009_unassigned_notice.sql -- applications that wait for an expert
-- (issue 9, A4).  When the applicant was told by SMS that nobody could
-- be assigned yet (once per application, after the region's
-- unassigned_notice_hours).  The rounds and the province pool are rules
-- of the draw: sql/fn/30_review.sql.
ALTER TABLE applications ADD COLUMN unassigned_notice_at timestamptz;
