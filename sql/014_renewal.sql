-- 014_renewal.sql -- the renewal job (R-BEN-4, S0 三(一)) and the
-- settlement records it reads.  Functions: sql/fn/60_renewal.sql.

-- The day the renewal notice of the current period went out (once per
-- period: NULL again when the period is renewed).
ALTER TABLE qualifications ADD COLUMN renewal_noticed_on date;

-- The notice step's scan: only the active qualifications not yet told
-- about this period, by end date, so a run with nothing due reads no row
-- (the end step uses qualifications_active_end of 010).
CREATE INDEX qualifications_notice_due ON qualifications(valid_to)
    WHERE status = 'active' AND renewal_noticed_on IS NULL;
