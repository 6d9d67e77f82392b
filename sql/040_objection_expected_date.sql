-- 040_objection_expected_date.sql -- while an objection is open the
-- application is expected by the objection's deadline (file_objection
-- sets it from now on, sql/fn/80_objection.sql): the objections open
-- before it get the same.  `mtcertctl migrate` rebuilds the stored
-- progress views after the function files, so they show it.
UPDATE applications a SET expected_decision_date = o.deadline,
    updated_at = now()
FROM objections o
WHERE o.application_id = a.id AND o.state = 'open'
  AND o.deadline IS NOT NULL
  AND a.expected_decision_date IS DISTINCT FROM o.deadline;
