-- 043_identity.sql -- ID numbers and phones of the registry protected at
-- rest (issue 15 item 2; shared/mt_identity.h).  Each becomes three
-- columns, all written by C (the workers and mtcertctl hold the keys,
-- PostgreSQL never does):
--   <col>_hmac    HMAC-SHA256 under the lookup key: exact lookups
--                 (sign-in, duplicate checks, filing by ID number);
--   <col>_enc     the value sealed under the data key (the SMS sender and
--                 the filing of a relative open it);
--   <col>_masked  what lists show (4112**********1234, 138****5678).
-- The plain columns stay nullable for the migration of existing rows:
-- `mtcertctl identity encrypt` fills the new columns in batches with the
-- service running, then nulls the plain ones (persons_identity_plain
-- finds what is left).
ALTER TABLE persons
    ADD COLUMN id_number_hmac text UNIQUE
        CHECK (id_number_hmac ~ '^[0-9a-f]{64}$'),
    ADD COLUMN id_number_enc text,
    ADD COLUMN id_number_masked text,
    ADD COLUMN phone_hmac text CHECK (phone_hmac ~ '^[0-9a-f]{64}$'),
    ADD COLUMN phone_enc text,
    ADD COLUMN phone_masked text,
    ALTER COLUMN id_number DROP NOT NULL,
    ALTER COLUMN phone DROP NOT NULL,
    ADD CONSTRAINT persons_id_number_kept
        CHECK (id_number IS NOT NULL OR id_number_hmac IS NOT NULL),
    ADD CONSTRAINT persons_phone_kept
        CHECK (phone IS NOT NULL OR phone_hmac IS NOT NULL),
    ADD CONSTRAINT persons_id_number_whole
        CHECK ((id_number_hmac IS NULL) = (id_number_enc IS NULL) AND
               (id_number_hmac IS NULL) = (id_number_masked IS NULL)),
    ADD CONSTRAINT persons_phone_whole
        CHECK ((phone_hmac IS NULL) = (phone_enc IS NULL) AND
               (phone_hmac IS NULL) = (phone_masked IS NULL));
CREATE INDEX persons_phone_hmac ON persons(phone_hmac);
CREATE INDEX persons_identity_plain ON persons(id)
    WHERE id_number IS NOT NULL OR phone IS NOT NULL;

-- An SMS to a person of the registry carries the sealed phone; the
-- dispatcher opens it just before sending.
ALTER TABLE sms_outbox
    ADD COLUMN to_phone_enc text,
    ALTER COLUMN to_phone DROP NOT NULL,
    ADD CONSTRAINT sms_outbox_one_phone
        CHECK ((to_phone IS NULL) <> (to_phone_enc IS NULL));
CREATE INDEX sms_outbox_plain ON sms_outbox(id) WHERE to_phone IS NOT NULL;
