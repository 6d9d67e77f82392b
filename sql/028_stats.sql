-- 028_stats.sql -- indexes for the statistics of issue 12 (R-SUP-3,
-- sql/fn/90_stats.sql): a month of a region's decisions and submissions
-- (the public figures, the turnaround) and a month of pushes (the
-- experts' workload) are range scans instead of reading every row.
CREATE INDEX applications_region_decided ON applications(region, decided_at)
    WHERE decided_at IS NOT NULL;
CREATE INDEX applications_region_submitted
    ON applications(region, submitted_at) WHERE submitted_at IS NOT NULL;
CREATE INDEX assignments_pushed_at ON assignments(pushed_at);
