-- 018_publicity_key.sql -- the key of the keyed hash that records where
-- an objection to a public notice came from (publicity_objections.source,
-- R-CER-10): the caller's address is never stored, only
-- sha256(key || address), so abuse from one address can be seen without
-- keeping the address.  One row, made once per database.
CREATE TABLE publicity_source_key (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    key         text NOT NULL
);
INSERT INTO publicity_source_key (key)
VALUES (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
