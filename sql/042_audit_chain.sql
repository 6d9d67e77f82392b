-- 042_audit_chain.sql -- the tamper-evident audit trail (issue 15 item 3).
--
-- Each row of access_log and of events is a link of a hash chain: one
-- chain per table, region, local day (Asia/Shanghai) and shard (the
-- writer's connection, sql/fn/13_audit_chain.sql says why).  A row
-- carries its place (chain_region, chain_day, chain_shard, chain_seq
-- from 1 without gaps),
-- the hash of the link before it (prev_hash; the chain's genesis for
-- the first) and its own hash = sha256(prev_hash || canonical row).
-- Editing a row breaks its hash, deleting one leaves a gap in chain_seq,
-- deleting the last ones leaves the chain short of its head.  The chain
-- is computed in one place, the BEFORE INSERT trigger audit_chain()
-- (sql/fn/13_audit_chain.sql), which also back-fills the rows written
-- before this migration; `mtcertctl audit-trail verify` checks it.
ALTER TABLE access_log
    ADD COLUMN chain_region text,
    ADD COLUMN chain_day date,
    ADD COLUMN chain_shard smallint,
    ADD COLUMN chain_seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea;
ALTER TABLE events
    ADD COLUMN chain_region text,
    ADD COLUMN chain_day date,
    ADD COLUMN chain_shard smallint,
    ADD COLUMN chain_seq bigint,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN hash bytea;
CREATE UNIQUE INDEX access_log_chain
    ON access_log(chain_day, chain_region, chain_shard, chain_seq);
CREATE UNIQUE INDEX events_chain
    ON events(chain_day, chain_region, chain_shard, chain_seq);

-- The head of each chain: its last link's seq and hash, the row a writer
-- locks (FOR UPDATE, to its commit) so two writers never fork a chain.
-- Kept when the chain's rows are archived (archived_at, the archive
-- file's SHA-256 and name): a day archived is not a day deleted.
CREATE TABLE audit_chain_heads (
    tbl         text NOT NULL CHECK (tbl IN ('access_log', 'events')),
    region      text NOT NULL,
    day         date NOT NULL,
    shard       smallint NOT NULL,
    seq         bigint NOT NULL CHECK (seq >= 0),
    hash        bytea NOT NULL,
    archived_at timestamptz,
    archive_sha256 text,
    archive_name text,
    PRIMARY KEY (tbl, day, region, shard)
);
