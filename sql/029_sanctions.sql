-- 029_sanctions.sql -- sanctions that take effect and end on their date
-- (R-SUP-4, S2 五; issue 12 item 6).  001_init made the bare record; a
-- sanction now names its region, whom it is against, how (one kind per
-- subject type), how long, the amount to recover, and whether it still
-- holds.  The effect and its end: sql/fn/92_sanctions.sql.
--
--   subject_type  subject (text)            kinds
--   person        persons.id                stop_benefit, recover_funds
--   physician     the physician's name, of  suspend_prescription
--                 `institution` (license_no
--                 the 执业证号 when known)
--   expert        experts.user_id           disqualify_expert
--   institution   institutions.code         suspend_certification,
--                                           revoke_certification
--
-- valid_to is the last day a sanction holds (NULL: for good); the job
-- ends it the day after (state 'ended', ended_at).
ALTER TABLE sanctions DROP CONSTRAINT sanctions_subject_type_check;
ALTER TABLE sanctions DROP CONSTRAINT sanctions_kind_check;
ALTER TABLE sanctions
    ADD COLUMN region text NOT NULL REFERENCES regions(code),
    ADD COLUMN institution text REFERENCES institutions(code),
    ADD COLUMN license_no text CHECK (license_no ~ '^[0-9A-Za-z]{1,30}$'),
    ADD COLUMN amount_cents bigint CHECK (amount_cents > 0),
    ADD COLUMN state text NOT NULL DEFAULT 'active'
        CHECK (state IN ('active', 'ended')),
    ADD COLUMN ended_at timestamptz,
    ADD CONSTRAINT sanctions_subject_type_check CHECK (subject_type IN
        ('person', 'physician', 'expert', 'institution')),
    ADD CONSTRAINT sanctions_kind_check CHECK (kind IN ('stop_benefit',
        'recover_funds', 'suspend_prescription', 'disqualify_expert',
        'suspend_certification', 'revoke_certification')),
    ADD CONSTRAINT sanctions_kind_of_subject CHECK (CASE subject_type
        WHEN 'person' THEN kind IN ('stop_benefit', 'recover_funds')
        WHEN 'physician' THEN kind = 'suspend_prescription'
            AND institution IS NOT NULL AND valid_to IS NOT NULL
        WHEN 'expert' THEN kind = 'disqualify_expert'
        ELSE kind IN ('suspend_certification', 'revoke_certification') END),
    ADD CONSTRAINT sanctions_amount CHECK ((kind = 'recover_funds')
        = (amount_cents IS NOT NULL)),
    ADD CONSTRAINT sanctions_dates CHECK (valid_to IS NULL
        OR valid_to >= valid_from),
    ADD CONSTRAINT sanctions_ended CHECK ((state = 'ended')
        = (ended_at IS NOT NULL));
-- The region's list, newest first; what the job must end; whether a
-- subject is still under one (the physician's check, the restore).
CREATE INDEX sanctions_region ON sanctions(region, id);
CREATE INDEX sanctions_due ON sanctions(valid_to) WHERE state = 'active';
CREATE INDEX sanctions_subject ON sanctions(subject_type, subject)
    WHERE state = 'active';

-- Why an expert is suspended or disqualified (POST /agency/experts/{id}/
-- suspend, a sanction), cleared on reinstatement (R-CER-4).
ALTER TABLE experts ADD COLUMN status_reason text
    CHECK (length(status_reason) <= 500);
