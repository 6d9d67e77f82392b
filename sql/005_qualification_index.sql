-- mtcert schema, part 5: the progress view (004) looks up an
-- application's qualification on every rebuild, that is on every event
-- (submit, push, accept ...).  Without an index that lookup reads the
-- whole qualifications table, which grows with every approval.
CREATE INDEX qualifications_application ON qualifications(application_id);
