-- 12_access_log.sql -- who read which personal record (security model,
-- access_log in 001_init.sql): the one writer for reads that name many
-- persons at once.  How files in sql/fn/ are applied: see 10_util.sql.

-- One access_log row per (persons[i], objs[i]) read by user reader:
-- object type otype ('qualification', 'application', ...), action act
-- ('read', 'export').  Returns how many rows it wrote.  Call it in the
-- statement that reads, so the log and the answer see the same rows.
CREATE OR REPLACE FUNCTION log_reads(reader bigint, otype text, act text,
    persons bigint[], objs bigint[]) RETURNS integer
LANGUAGE sql AS $$
    WITH l AS (
        INSERT INTO access_log (user_id, person_id, object_type, object_id,
                                action)
        SELECT reader, u.p, otype, u.o, act
        FROM unnest(persons, objs) u(p, o)
        RETURNING 1)
    SELECT count(*)::int FROM l
$$;
