-- 013_feed.sql -- the national feed (R-BEN-7, S3 第十条, issue 10 §7):
-- every change to a qualification as a row, in the order the changes
-- committed.  The trigger that writes the rows and the sequencer that
-- numbers them live in sql/fn/55_feed.sql.
--
-- A row is inserted with seq NULL by the writer's own transaction.  The
-- sequencer numbers committed rows later, one run at a time (an advisory
-- lock), so a row that becomes visible after a consumer read up to seq N
-- always gets a seq above N: a slow transaction that commits after a
-- faster one is never skipped, which a cursor on id or time would do.
CREATE TABLE qualification_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq         bigint UNIQUE,
    qualification_id bigint NOT NULL REFERENCES qualifications(id),
    region      text NOT NULL REFERENCES regions(code),
    kind        text NOT NULL CHECK (kind IN ('new', 'institution_changed',
                    'renewed', 'ended')),
    at          timestamptz NOT NULL DEFAULT now(),
    snapshot    jsonb NOT NULL
);
-- What the sequencer has left to number.
CREATE INDEX qualification_changes_unsequenced ON qualification_changes(id)
    WHERE seq IS NULL;
-- A region's feed after a cursor.
CREATE INDEX qualification_changes_region ON qualification_changes(region, seq)
    WHERE seq IS NOT NULL;
