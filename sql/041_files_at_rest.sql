-- 041_files_at_rest.sql -- uploaded files encrypted at rest and deleted
-- when their purpose ends (issue 15; shared/mt_files.h, docs/keys.md).
--
-- A material's file is sealed under a random name (blob) with a key of
-- its own, kept here only wrapped by master key key_id, which lives
-- outside the database (files_keys_dir).  Rows of before this migration
-- have no blob: their file is still plain under its sha256 until
-- `mtcertctl files encrypt` seals it.  Shredded (retention over,
-- sql/fn/96_files.sql): the wrapped key is gone, the file unlinked, the
-- row and its events kept.
ALTER TABLE materials
    ADD COLUMN blob text CHECK (blob ~ '^[0-9a-f]{32}$'),
    ADD COLUMN key_id integer CHECK (key_id > 0),
    ADD COLUMN file_key bytea CHECK (octet_length(file_key) = 72),
    ADD COLUMN shredded_at timestamptz,
    ADD CONSTRAINT materials_key_whole
        CHECK ((key_id IS NULL) = (file_key IS NULL)),
    ADD CONSTRAINT materials_key_of_blob
        CHECK (file_key IS NULL OR blob IS NOT NULL),
    ADD CONSTRAINT materials_shredded_keyless
        CHECK (shredded_at IS NULL OR file_key IS NULL);
CREATE UNIQUE INDEX materials_blob ON materials(blob);
-- Key rotation re-wraps by master key (mtcertctl keys rotate / retire).
CREATE INDEX materials_key ON materials(key_id, id) WHERE key_id IS NOT NULL;
-- What `mtcertctl files encrypt` has left to seal.
CREATE INDEX materials_plain ON materials(id)
    WHERE blob IS NULL AND shredded_at IS NULL;
