-- 40_experts.sql -- the expert pool as the agency manages it (R-CER-1).
-- How files in sql/fn/ are applied: see 10_util.sql.

-- A new expert (R-CER-1): an account of role expert at a certifying
-- hospital of the region, a title at least the region's minimum, and
-- the specialties (disease categories) they review.  Returns
-- {"id":..} or a refusal {"error": code, "field": .., "args": [..]}
-- (the text is the error table's row, shared/mt_error.c).  The phone
-- comes sealed with its mask (044; C seals: mt_identity_cols), or both
-- NULL.
DROP FUNCTION IF EXISTS create_expert(text, text, text, text, text[], text,
    text);
CREATE OR REPLACE FUNCTION create_expert(p_login text, p_hash text, p_inst text,
    p_title text, p_specialties text[], p_phone_enc text,
    p_phone_masked text, p_region text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    inst_region text;
    uid bigint;
BEGIN
    SELECT region INTO inst_region FROM institutions WHERE code = p_inst;
    IF inst_region IS NULL OR (p_region IS NOT NULL AND inst_region <> p_region) THEN
        RETURN jsonb_build_object('error', 'institution_not_found',
                                  'field', 'institution');
    END IF;
    -- Experts are physicians of certifying hospitals (R-CER-1).
    IF NOT (SELECT certifying FROM institutions WHERE code = p_inst) THEN
        RETURN jsonb_build_object('error', 'institution_not_certifying',
                                  'field', 'institution');
    END IF;
    IF title_rank(p_title) < title_rank(policy_value(inst_region,
                                                     'expert_min_title')) THEN
        RETURN jsonb_build_object('error', 'title_below_minimum',
            'field', 'title',
            'args', jsonb_build_array(policy_value(inst_region, 'expert_min_title')));
    END IF;
    IF cardinality(p_specialties) = 0 OR EXISTS (SELECT 1 FROM unnest(p_specialties) s
               WHERE s NOT IN (SELECT name FROM specialties)) THEN
        RETURN jsonb_build_object('error', 'specialty_unknown',
            'field', 'specialties',
            'args', jsonb_build_array(coalesce((SELECT s FROM unnest(p_specialties) s
                WHERE s NOT IN (SELECT name FROM specialties) LIMIT 1), '')));
    END IF;
    INSERT INTO users (login, role, password_hash, institution, region)
    VALUES (p_login, 'expert', p_hash, p_inst, inst_region)
    ON CONFLICT (login) DO NOTHING RETURNING id INTO uid;
    IF uid IS NULL THEN
        RETURN jsonb_build_object('error', 'login_taken', 'field', 'login');
    END IF;
    INSERT INTO experts (user_id, title, phone_enc, phone_masked)
    VALUES (uid, p_title, p_phone_enc, p_phone_masked);
    INSERT INTO expert_specialties (expert_id, specialty)
    SELECT DISTINCT uid, s FROM unnest(p_specialties) s;
    RETURN jsonb_build_object('id', uid);
END $$;

-- An expert as the agency sees them (phone masked).
CREATE OR REPLACE FUNCTION expert_json(uid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', e.user_id, 'login', u.login,
        'institution', jsonb_build_object('code', i.code, 'name', i.name),
        'region', i.region, 'title', e.title, 'status', e.status,
        'consecutive_misses', e.consecutive_misses,
        'phone', shown_phone(e.phone_masked, e.phone),
        'specialties', (SELECT coalesce(jsonb_agg(s.specialty ORDER BY s.specialty), '[]')
                        FROM expert_specialties s WHERE s.expert_id = e.user_id),
        'status_changed_at', e.status_changed_at,
        'status_reason', e.status_reason)
    FROM experts e JOIN users u ON u.id = e.user_id
    JOIN institutions i ON i.code = u.institution
    WHERE e.user_id = uid
$$;

CREATE OR REPLACE FUNCTION create_expert_id(p_login text) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT e.user_id FROM experts e JOIN users u ON u.id = e.user_id
    WHERE u.login = p_login
$$;
