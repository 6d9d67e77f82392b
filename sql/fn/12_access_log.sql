-- 12_access_log.sql -- who read which personal record (security model,
-- access_log in 001_init.sql): the one writer for reads that name many
-- persons at once.  How files in sql/fn/ are applied: see 10_util.sql.
-- Each row is linked into its hash chain by the trigger audit_chain()
-- (13_audit_chain.sql), whoever inserts it.

-- One access_log row per (persons[i], objs[i]) read by user reader:
-- object type otype ('qualification', 'application', ...), action act
-- ('read', 'export').  Returns how many rows it wrote.  Call it in the
-- statement that reads, so the log and the answer see the same rows.
-- Before writing, it locks the heads of every chain the rows go to
-- (one per region of the persons, today, this connection's shard) in region order: two writers
-- that each name persons of several regions then wait for each other
-- instead of each holding one head the other needs (a deadlock).
CREATE OR REPLACE FUNCTION log_reads(reader bigint, otype text, act text,
    persons bigint[], objs bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    d date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
    sh smallint := audit_chain_shard();
BEGIN
    INSERT INTO audit_chain_heads (tbl, region, day, shard, seq, hash)
    SELECT DISTINCT 'access_log', coalesce(p.region, ''), d, sh, 0,
           audit_genesis('access_log', coalesce(p.region, ''), d, sh)
    FROM unnest(persons) u(id) LEFT JOIN persons p ON p.id = u.id
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM audit_chain_heads h
    WHERE h.tbl = 'access_log' AND h.day = d AND h.shard = sh
      AND h.region IN (SELECT coalesce(p.region, '')
                       FROM unnest(persons) u(id)
                       LEFT JOIN persons p ON p.id = u.id)
    ORDER BY h.region FOR UPDATE;
    INSERT INTO access_log (user_id, person_id, object_type, object_id,
                            action)
    SELECT reader, u.p, otype, u.o, act
    FROM unnest(persons, objs) u(p, o);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
