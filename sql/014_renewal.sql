-- 014_renewal.sql -- the renewal job (R-BEN-4, S0 三(一)) and the
-- settlement records it reads.  Functions: sql/fn/60_renewal.sql.

-- The day the renewal notice of the current period went out (once per
-- period: NULL again when the period is renewed).
ALTER TABLE qualifications ADD COLUMN renewal_noticed_on date;

-- The notice step's scan: only the active qualifications not yet told
-- about this period, by region (each has its own renewal_notice_days)
-- and end date, so a run with nothing due reads no row (the end step
-- uses qualifications_active_end of 010).  Measured with 200,000 active
-- qualifications and one region's window twice another's: an index on
-- valid_to alone read the 8,400 rows between the two windows on every
-- run (85 ms); this one reads none.
CREATE INDEX qualifications_notice_due ON qualifications(region, valid_to)
    WHERE status = 'active' AND renewal_noticed_on IS NULL;
