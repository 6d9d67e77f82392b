-- 003_review.sql -- the review engine (issue 4, R-CER-1 ... R-CER-7,
-- R-SUP-7): the expert draw, pushes, expiry, refusal, decisions by stage
-- and the resulting qualification.
--
-- The engine lives in sql/fn/30_review.sql, one definition of each
-- function (this file holds its tables): draw_expert() is the only draw,
-- push_assignment() the only push, and only mtcert-dispatcher calls it
-- (the modules mark an application as needing a push and wake the
-- dispatcher through Redis).  PostgreSQL decides every race with a
-- conditional update; Redis only holds leases and timers that the
-- dispatcher can rebuild from here at any time.

-- The stage that still needs an expert (NULL: none).  unassigned_since:
-- when the last draw found nobody eligible (the agency's queue).
ALTER TABLE applications ADD COLUMN push_stage smallint
    CHECK (push_stage BETWEEN 1 AND 9);
ALTER TABLE applications ADD COLUMN unassigned_since timestamptz;
CREATE INDEX applications_push ON applications(id) WHERE push_stage IS NOT NULL;

-- Who to tell at a hospital (R-CER-4: the expert's hospital is notified).
ALTER TABLE institutions ADD COLUMN contact_phone text
    CHECK (contact_phone ~ '^1[3-9][0-9]{9}$');
CREATE TABLE notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    institution text NOT NULL REFERENCES institutions(code),
    kind        text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,39}$'),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
CREATE INDEX notifications_institution ON notifications(institution, id);

CREATE INDEX assignments_application ON assignments(application_id, stage);
ALTER TABLE assignments ADD COLUMN hospital text REFERENCES institutions(code);

ALTER TABLE experts ADD COLUMN phone text CHECK (phone ~ '^1[3-9][0-9]{9}$');

-- The progress view is rebuilt once per application and transaction, at
-- commit: a batch that writes several events for one application (an
-- expiry and the next push) pays for one rebuild, not one per event.
ALTER TABLE application_views ADD COLUMN built_xid xid8;
