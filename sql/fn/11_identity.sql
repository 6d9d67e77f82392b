-- 11_identity.sql -- which data key sealed each ID number and phone
-- (issue 15; shared/mt_identity.h, docs/keys.md "Identity keys").
--
-- A sealed value is "<n>:" then base64 for data key n >= 2, base64 alone
-- for key 1 (data.key, every value sealed before rotation existed);
-- base64 has no ':'.  The workers and mtcertctl seal and open (the keys
-- never reach PostgreSQL); SQL only reads the number: `identity rotate
-- data` re-seals the values not on the current key, `identity retire
-- data N` counts those still on N.

-- The data key number of a sealed value (NULL for NULL).
CREATE OR REPLACE FUNCTION identity_key(enc text) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN enc ~ '^[0-9]{1,9}:' THEN split_part(enc, ':', 1)::int
                ELSE 1 END $$;

-- Every sealed value, one row each: the column (table.column), the row's
-- key as text, the data key that sealed it.  The one list of the sealed
-- columns SQL keeps (mtcertctl's identity_sealed[] is the C one; a test
-- holds them together).
CREATE OR REPLACE VIEW identity_sealed AS
    SELECT 'persons.id_number_enc' AS col, id::text AS row_key,
           identity_key(id_number_enc) AS key_id
      FROM persons WHERE id_number_enc IS NOT NULL
    UNION ALL
    SELECT 'persons.phone_enc', id::text, identity_key(phone_enc)
      FROM persons WHERE phone_enc IS NOT NULL
    UNION ALL
    SELECT 'applications.phone_enc', id::text, identity_key(phone_enc)
      FROM applications WHERE phone_enc IS NOT NULL
    UNION ALL
    SELECT 'applications.agent_id_number_enc', id::text,
           identity_key(agent_id_number_enc)
      FROM applications WHERE agent_id_number_enc IS NOT NULL
    UNION ALL
    SELECT 'applications.agent_phone_enc', id::text,
           identity_key(agent_phone_enc)
      FROM applications WHERE agent_phone_enc IS NOT NULL
    UNION ALL
    SELECT 'qualifications.guardian_id_number_enc', id::text,
           identity_key(guardian_id_number_enc)
      FROM qualifications WHERE guardian_id_number_enc IS NOT NULL
    UNION ALL
    SELECT 'experts.phone_enc', user_id::text, identity_key(phone_enc)
      FROM experts WHERE phone_enc IS NOT NULL
    UNION ALL
    SELECT 'institutions.contact_phone_enc', code,
           identity_key(contact_phone_enc)
      FROM institutions WHERE contact_phone_enc IS NOT NULL
    UNION ALL
    SELECT 'sms_outbox.to_phone_enc', id::text, identity_key(to_phone_enc)
      FROM sms_outbox WHERE to_phone_enc IS NOT NULL;
