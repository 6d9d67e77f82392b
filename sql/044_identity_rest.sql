-- 044_identity_rest.sql -- the ID numbers and phones left plain by 043
-- sealed the same way (issue 15 item 2, second round;
-- shared/mt_identity.h): an application's contact phone and its agent's
-- ID number and phone, a guardian's ID number, an expert's phone, a
-- hospital's contact phone.  Each keeps
--   <col>_enc     the value sealed under the data key, the identity
--                 column's name ("id_number", "phone") as associated
--                 data, so a phone's seal copies into sms_outbox's
--                 to_phone_enc as it is and the dispatcher opens it;
--   <col>_masked  what lists show, made in C (mt_identity_mask), where a
--                 list or view shows the value.
-- None of them is looked up by value, so none has an HMAC (the duplicate
-- checks and filing by ID number look in persons).  The guardian's ID
-- number and the hospital's contact phone are shown nowhere: no mask.
-- The plain columns stay nullable for the rows written before:
-- `mtcertctl identity encrypt` seals them in batches with the service
-- running, then nulls them (the *_identity_plain indexes find them).
ALTER TABLE applications
    ADD COLUMN phone_enc text,
    ADD COLUMN phone_masked text,
    ADD COLUMN agent_id_number_enc text,
    ADD COLUMN agent_id_number_masked text,
    ADD COLUMN agent_phone_enc text,
    ADD COLUMN agent_phone_masked text,
    ALTER COLUMN phone DROP NOT NULL,
    DROP CONSTRAINT applications_check,
    ADD CONSTRAINT applications_phone_kept
        CHECK (phone IS NOT NULL OR phone_enc IS NOT NULL),
    ADD CONSTRAINT applications_agent_whole
        CHECK ((agent_name IS NULL) = (agent_id_number IS NULL AND
                                       agent_id_number_enc IS NULL)),
    ADD CONSTRAINT applications_sealed_whole
        CHECK ((phone_enc IS NULL) = (phone_masked IS NULL) AND
               (agent_id_number_enc IS NULL) =
                   (agent_id_number_masked IS NULL) AND
               (agent_phone_enc IS NULL) = (agent_phone_masked IS NULL));
CREATE INDEX applications_identity_plain ON applications(id)
    WHERE phone IS NOT NULL OR agent_id_number IS NOT NULL
       OR agent_phone IS NOT NULL;

ALTER TABLE qualifications
    ADD COLUMN guardian_id_number_enc text;
CREATE INDEX qualifications_identity_plain ON qualifications(id)
    WHERE guardian_id_number IS NOT NULL;

ALTER TABLE experts
    ADD COLUMN phone_enc text,
    ADD COLUMN phone_masked text,
    ADD CONSTRAINT experts_phone_whole
        CHECK ((phone_enc IS NULL) = (phone_masked IS NULL));
CREATE INDEX experts_identity_plain ON experts(user_id)
    WHERE phone IS NOT NULL;

ALTER TABLE institutions
    ADD COLUMN contact_phone_enc text;
CREATE INDEX institutions_identity_plain ON institutions(code)
    WHERE contact_phone IS NOT NULL;
