-- 96_files.sql -- deletion of uploaded files when their purpose ends
-- (issue 15 item 5, PIPL art. 47; the columns: sql/041_files_at_rest.sql).
--
-- A material's file is due when its application was finally decided
-- (approved or rejected) material_retention_days ago (policy, region of
-- the application; 15 years by default, R-SUP-6 keeps the archive until
-- then) and no qualification of the person for that disease is active
-- or ended less than that long ago, and, for a rejection, an objection
-- can no longer be filed (objection_last_day, sql/fn/80_objection.sql:
-- a short retention must not shred what an objection panel would read;
-- an open objection puts the application back in review, so it is not
-- due either); a material the person removed from
-- a draft (deleted_at) is due at once: it was never part of a decision.
-- Shredding destroys the wrapped key (crypto-shredding: without it the
-- sealed file is noise, whatever copy of it exists), marks the row and
-- records an event; the caller (shared/mt_store.c) then unlinks the
-- files this returns.  The row, its events and access_log stay.

-- The materials due now, at most p_limit, locked (SKIP LOCKED: two
-- dispatchers never shred one twice); each shredded and recorded.
-- Returns each one's file to unlink: blob (sealed), or sha256 when it
-- was plain and no other live row shares that content.
CREATE OR REPLACE FUNCTION shred_due_materials(p_limit int)
RETURNS TABLE (blob text, plain text)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT m.id
        FROM materials m JOIN applications a ON a.id = m.application_id
        WHERE m.shredded_at IS NULL
          AND (m.deleted_at IS NOT NULL
               OR (a.status IN ('approved', 'rejected')
                   AND a.decided_at <= now() - make_interval(days =>
                       policy_value(a.region, 'material_retention_days')::int)
                   AND (a.status = 'approved'
                        OR objection_last_day(a) < cn_today())
                   AND NOT EXISTS (
                       SELECT 1 FROM qualifications q
                       WHERE q.person_id = a.person_id
                         AND q.disease = a.disease
                         AND (q.status = 'active'
                              OR q.ended_on > cn_today() -
                                 policy_value(a.region,
                                   'material_retention_days')::int))))
        ORDER BY m.id
        LIMIT p_limit
        FOR UPDATE OF m SKIP LOCKED),
    s AS (
        UPDATE materials m
        SET file_key = NULL, key_id = NULL, shredded_at = now()
        FROM due WHERE m.id = due.id
        RETURNING m.id, m.application_id, m.kind, m.blob, m.sha256,
                  m.deleted_at),
    e AS (
        INSERT INTO events (application_id, type, actor_role, data)
        SELECT s.application_id, 'material_shredded', 'system',
               jsonb_build_object('material_id', s.id, 'kind', s.kind,
                                  'reason', CASE WHEN s.deleted_at IS NULL
                                  THEN 'retention_ended' ELSE 'removed' END)
        FROM s)
    SELECT s.blob,
           CASE WHEN s.blob IS NULL AND NOT EXISTS (
                    SELECT 1 FROM materials o
                    WHERE o.sha256 = s.sha256 AND o.id <> s.id
                      AND o.blob IS NULL AND o.shredded_at IS NULL)
                THEN s.sha256 END
    FROM s
$$;
