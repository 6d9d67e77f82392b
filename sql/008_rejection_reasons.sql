-- mtcert schema, part 8: the reasons an expert may give for a rejection
-- (R-CER-11) are reference data.  Until now any snake_case code was
-- taken and only the portal's script knew the list; now the list lives
-- in rejection_reasons (loaded from sql/ref/070_rejection_reasons.sql),
-- the catalog serves it (GET /rejection-reasons), the decision handler
-- refuses an unknown code (422 reason_code_not_found) and both columns
-- that keep a decision's code reference it, the FK being the backstop.
--
-- active = false retires a code: it stays valid for the decisions that
-- carry it, but is neither served nor accepted for a new decision.

CREATE TABLE rejection_reasons (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,64}$'),
    name_zh     text NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 64),
    sort        integer NOT NULL DEFAULT 0,
    active      boolean NOT NULL DEFAULT true
);

-- Codes already recorded by earlier decisions (free codes were allowed)
-- are kept, retired, so the foreign keys below hold; the reference file
-- activates and names those of its list.
INSERT INTO rejection_reasons (code, name_zh, sort, active)
SELECT DISTINCT c, '原因代码 ' || c, 1000, false
FROM (SELECT reason_code AS c FROM assignments
      UNION SELECT decision_reason_code FROM applications) x
WHERE c IS NOT NULL;

ALTER TABLE assignments ADD CONSTRAINT assignments_reason_code_fkey
    FOREIGN KEY (reason_code) REFERENCES rejection_reasons(code);
ALTER TABLE applications ADD CONSTRAINT applications_reason_code_fkey
    FOREIGN KEY (decision_reason_code) REFERENCES rejection_reasons(code);

-- Served from the catalog's cache: its version trigger is made with the
-- other catalog tables' in sql/fn/10_util.sql.
