-- 045_audit_anchor.sql -- the audit chains' heads anchored outside the
-- database (issue 15 item 3, second round).
--
-- Whoever can write the database can edit a row, recompute every later
-- link and update audit_chain_heads: the chain alone holds.  So the
-- dispatcher's daily job (shared/mt_audit.c) appends the head of every
-- chain whose day is past to an append-only file under audit_dir, a
-- chain of lines itself, and `mtcertctl audit-trail verify` checks each
-- anchored head against the database.  anchored_at: when the head as it
-- is was written there (NULL: not yet, or a row was added since, which
-- the trigger audit_chain() marks by setting it back to NULL).
ALTER TABLE audit_chain_heads ADD COLUMN anchored_at timestamptz;
-- What the job looks for: few rows (the days not anchored yet).
CREATE INDEX audit_chain_heads_unanchored ON audit_chain_heads(day)
    WHERE anchored_at IS NULL;

-- The rows written before the chain (042), which audit_backfill links a
-- batch at a time (`mtcertctl migrate`): found without reading the
-- tables, and empty once they are linked (every row since has a hash).
-- XXX: building them reads each table once, under this migration's
-- lock, as 042's unique indexes did.
CREATE INDEX access_log_unchained ON access_log(id) WHERE hash IS NULL;
CREATE INDEX events_unchained ON events(id) WHERE hash IS NULL;

-- What the daily job archives (audit_archivable): the access_log heads
-- not archived yet, by day; those archived, kept for good, never read.
CREATE INDEX audit_chain_heads_unarchived ON audit_chain_heads(day)
    WHERE tbl = 'access_log' AND archived_at IS NULL;
