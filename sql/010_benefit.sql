-- 010_benefit.sql -- the benefit after the decision (issue 10, R-BEN-*).
-- Statuses are those of API.md: active, terminated (cured, voluntary,
-- death, other), expired (the period ended without renewal), revoked
-- (violation, audit_failed); the one mapping from reason to status is
-- qualification_end_status() in sql/fn/50_benefit.sql.
ALTER TABLE qualifications DROP CONSTRAINT qualifications_status_check;
UPDATE qualifications SET status = 'revoked' WHERE status = 'cancelled';
ALTER TABLE qualifications ADD CONSTRAINT qualifications_status_check
    CHECK (status IN ('active', 'terminated', 'expired', 'revoked'));

-- The day the benefit ends (the last day covered is ended_on - 1), who
-- ended it, the note, and for a voluntary exit of a psychiatric disease
-- the guardian who signed the promise (R-BEN-5, S3 第十九条).
ALTER TABLE qualifications
    ADD COLUMN ended_on date,
    ADD COLUMN ended_by bigint REFERENCES users(id),
    ADD COLUMN end_note text CHECK (length(end_note) <= 1000),
    ADD COLUMN guardian_name text CHECK (length(guardian_name) BETWEEN 1 AND 64),
    ADD COLUMN guardian_id_number text
        CHECK (guardian_id_number ~ '^[0-9]{17}[0-9X]$'),
    ADD COLUMN renewed_count integer NOT NULL DEFAULT 0
        CHECK (renewed_count >= 0),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
UPDATE qualifications SET ended_on = coalesce((ended_at AT TIME ZONE
    'Asia/Shanghai')::date, valid_to + 1) WHERE status <> 'active';
ALTER TABLE qualifications ADD CONSTRAINT qualifications_ended_on
    CHECK ((status = 'active') = (ended_on IS NULL));

CREATE INDEX qualifications_person ON qualifications(person_id, id);
CREATE INDEX qualifications_region ON qualifications(region, status, id);
CREATE INDEX qualifications_institution
    ON qualifications(designated_institution, status, id);
CREATE INDEX qualifications_active_end ON qualifications(valid_to)
    WHERE status = 'active';

-- R-BEN-3 counts changes per qualification and calendar year.
CREATE INDEX hospital_changes_qualification
    ON hospital_changes(qualification_id, changed_at);

-- The agency's contact shown in every page's footer (issue 10 §8),
-- edited by the agency.
ALTER TABLE regions
    ADD COLUMN hotline text CHECK (hotline ~ '^[0-9][0-9-]{4,19}$'),
    ADD COLUMN agency_name text CHECK (length(agency_name) BETWEEN 1 AND 64),
    ADD COLUMN agency_address text
        CHECK (length(agency_address) BETWEEN 1 AND 128);
