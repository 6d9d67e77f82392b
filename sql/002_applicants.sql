-- 002_applicants.sql -- what the applicant path needs (issue 3): SMS
-- retries, the indexes of the submission rules and the table of progress
-- views.  Its functions (working days, the progress view, the submission
-- rules) live in sql/fn/10_util.sql and sql/fn/20_applications.sql.

-- A message that could not be sent waits before its next try, longer
-- each time (at most 5 minutes), and is never given up: nothing is lost.
-- (No NOTIFY on insert: PostgreSQL serialises the commits of notifying
-- transactions on one lock, which cost submissions their group commit;
-- the dispatcher polls the partial index instead.)
ALTER TABLE sms_outbox ADD COLUMN next_attempt_at timestamptz NOT NULL
    DEFAULT now();
DROP INDEX sms_outbox_unsent;
CREATE INDEX sms_outbox_unsent ON sms_outbox(next_attempt_at, id)
    WHERE sent_at IS NULL;

-- The yearly-limit count (R-APP-6) reads submissions per person, disease
-- and year.
CREATE INDEX applications_person_disease_submitted
    ON applications(person_id, disease, submitted_at);
CREATE INDEX applications_filing ON applications(filing_institution, id)
    WHERE filing_institution IS NOT NULL;
CREATE INDEX materials_sha ON materials(sha256);

-- Idempotency rows in progress carry status 0 until the answer is known.
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_status
    CHECK (status = 0 OR status BETWEEN 200 AND 599);

-- The expected decision date, counted at submission (R-CER-6).
ALTER TABLE applications ADD COLUMN expected_decision_date date;

-- Views live apart from applications: a status change then rewrites a
-- narrow row, and a view rewrite is a HOT update of a table whose only
-- index is its key.  toast_tuple_target keeps views of a few KiB inline
-- and uncompressed, so a read is one page and no decompression.
CREATE TABLE application_views (
    application_id bigint PRIMARY KEY REFERENCES applications(id),
    view        text NOT NULL
) WITH (fillfactor = 50, toast_tuple_target = 8160);
