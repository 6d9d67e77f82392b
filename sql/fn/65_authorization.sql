-- 65_authorization.sql -- which hospital may certify which disease for
-- whom (R-CER-8, R-CER-9, R-CER-13): the rule an authorization must pass
-- when the agency grants it, and the check every hospital certification
-- makes (on-site, panel, submission to a hospital).  How files in sql/fn/
-- are applied: see 10_util.sql.

-- The diseases a limited hospital serves and certifies, in words, or
-- NULL for a hospital without limits (institution_scopes).
CREATE OR REPLACE FUNCTION institution_scope_text(inst text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(d.name, '、' ORDER BY d.sort_order)
    FROM institution_scopes s JOIN diseases d ON d.code = s.disease
    WHERE s.institution = inst
$$;

-- The refusal of authorization_rule: the rule's text in words (the
-- error table's authorization_rule_failed, shared/mt_error.c).
CREATE OR REPLACE FUNCTION rule_refusal(why text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('error', 'authorization_rule_failed',
        'args', jsonb_build_array(why))
$$;

-- May the agency authorize hospital inst to certify disease dis (R-CER-9,
-- S1 二(四))?  The region's policy numbers decide:
--   public hospitals: chronic diseases from chronic_cert_min_level
--     (level 2), special ones from special_cert_min_level (level 3);
--   private hospitals: from private_cert_min_level (level 2) with last
--     year's score at least private_cert_min_score (85), both categories
--     (S1: 可开展门诊特慢病病种确认备案工作);
-- and always: a certifying hospital, the disease in its region's catalog
-- and within its scope (institution_scopes).
-- Returns {"rule": "public_chronic" | "public_special" | "private_scored"}
-- or the refusal {"error": "authorization_rule_failed", "args": [text]}
-- whose text names the rule (shared/mt_error.c).
CREATE OR REPLACE FUNCTION authorization_rule(inst text, dis text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    i institutions%ROWTYPE;
    d diseases%ROWTYPE;
    lvl integer;
    score_min integer;
    scope text;
BEGIN
    SELECT * INTO i FROM institutions WHERE code = inst;
    SELECT * INTO d FROM diseases WHERE code = dis;
    IF i.code IS NULL OR d.code IS NULL THEN
        RETURN rule_refusal('医疗机构或病种不存在');
    END IF;
    IF NOT i.certifying THEN
        RETURN rule_refusal('该医疗机构不是门诊慢特病认定机构');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM region_diseases rd
                   WHERE rd.region = i.region AND rd.disease = dis) THEN
        RETURN rule_refusal('该病种不在本统筹区病种目录内');
    END IF;
    scope := institution_scope_text(inst);
    IF scope IS NOT NULL AND NOT EXISTS (SELECT 1 FROM institution_scopes s
            WHERE s.institution = inst AND s.disease = dis) THEN
        RETURN rule_refusal('该医疗机构限于' || scope);
    END IF;
    IF i.ownership = 'private' THEN
        lvl := policy_value(i.region, 'private_cert_min_level')::int;
        score_min := policy_value(i.region, 'private_cert_min_score')::int;
        IF i.level < lvl THEN
            RETURN rule_refusal(format(
                    '民营医疗机构须为%s级及以上（本院为%s级）', lvl, i.level));
        END IF;
        IF coalesce(i.score, 0) < score_min THEN
            RETURN rule_refusal(format(
                    '民营医疗机构上年度考核成绩须达到%s分（本院%s）', score_min,
                    coalesce(i.score::text || '分', '无考核成绩')));
        END IF;
        RETURN jsonb_build_object('rule', 'private_scored');
    END IF;
    IF d.category = 'special' THEN
        lvl := policy_value(i.region, 'special_cert_min_level')::int;
        IF i.level < lvl THEN
            RETURN rule_refusal(format(
                    '特殊病须由%s级及以上公立医疗机构认定（本院为%s级）', lvl, i.level));
        END IF;
        RETURN jsonb_build_object('rule', 'public_special');
    END IF;
    lvl := policy_value(i.region, 'chronic_cert_min_level')::int;
    IF i.level < lvl THEN
        RETURN rule_refusal(format(
                '慢性病须由%s级及以上公立医疗机构认定（本院为%s级）', lvl, i.level));
    END IF;
    RETURN jsonb_build_object('rule', 'public_chronic');
END $$;

-- May hospital inst certify disease dis now, for a person insured in
-- region preg (R-CER-8, R-CER-13)?  The hospital's certification status,
-- its authorization for the disease, and the person's region: its own,
-- or any region of its province when the province authorizes it
-- (province_wide).  NULL when it may; else the refusal
-- {"error": "institution_not_authorized", "args": [text]} (403, the
-- reason in words).  The one check of on-site certification, panel
-- decisions, hospital filing and submission to a hospital.
CREATE OR REPLACE FUNCTION certification_refusal(inst text, dis text,
    preg text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    i institutions%ROWTYPE;
    st text;
    why text;
BEGIN
    SELECT * INTO i FROM institutions WHERE code = inst;
    IF i.code IS NULL OR NOT i.certifying THEN
        why := '该医院不是门诊慢特病认定机构';
    ELSIF i.certification_status = 'suspended' THEN
        why := '该医院的认定资格已被暂停';
    ELSIF i.certification_status = 'revoked' THEN
        why := '该医院的认定资格已被取消';
    ELSE
        SELECT x.status INTO st FROM institution_diseases x
        WHERE x.institution = inst AND x.disease = dis;
        IF st IS NULL OR st = 'revoked' THEN
            why := '该医院未获得该病种的认定授权';
        ELSIF st = 'suspended' THEN
            why := '该医院对该病种的认定授权已被暂停';
        ELSIF i.region <> preg AND left(i.region, 2) <> left(preg, 2) THEN
            why := '参保人不属于本省，不能在该医院认定';
        ELSIF i.region <> preg AND NOT i.province_wide THEN
            why := '该医院不是省级认定机构，不能为其他统筹区的参保人认定';
        END IF;
    END IF;
    IF why IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN jsonb_build_object('error', 'institution_not_authorized',
        'args', jsonb_build_array(why));
END $$;

-- A hospital as the agency's authorization pages show it (GET
-- /agency/institutions, the head of GET .../diseases): its rule inputs
-- (level, ownership, score), the province's authorization, the
-- certification status, its scope (disease codes, or NULL: every disease
-- of the region's catalog) and how many active authorizations it holds.
CREATE OR REPLACE FUNCTION institution_authz_json(inst text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('code', i.code, 'name', i.name,
        'region', i.region, 'level', i.level, 'ownership', i.ownership,
        'score', i.score, 'province_wide', i.province_wide,
        'certifying', i.certifying,
        'certification_status', i.certification_status,
        'scope', (SELECT jsonb_agg(s.disease ORDER BY s.disease)
                  FROM institution_scopes s WHERE s.institution = i.code),
        'authorized', (SELECT count(*) FROM institution_diseases x
                       WHERE x.institution = i.code AND x.status = 'active'))
    FROM institutions i WHERE i.code = inst
$$;

-- Every disease of the hospital's region's catalog with the hospital's
-- authorization for it (status "none" without one), the rule it holds or
-- would be granted under, and whether the rules of R-CER-9 allow it now
-- (refusal: the rule's words when not).  NULL for an unknown hospital.
CREATE OR REPLACE FUNCTION authorizations_json(inst text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('institution', institution_authz_json(i.code),
        'items', coalesce((SELECT jsonb_agg(jsonb_build_object(
            'disease', jsonb_build_object('code', d.code, 'name', d.name,
                'category', d.category, 'quota', d.quota),
            'status', coalesce(x.status, 'none'),
            'rule', coalesce(x.rule, r.j->>'rule'),
            'allowed', r.j ? 'rule',
            'refusal', r.j->'args'->>0,
            'changed_at', x.changed_at,
            'reason', x.reason) ORDER BY d.sort_order, d.code)
          FROM region_diseases rd
          JOIN diseases d ON d.code = rd.disease
          LEFT JOIN institution_diseases x
            ON x.institution = i.code AND x.disease = d.code
          CROSS JOIN LATERAL (SELECT authorization_rule(i.code, d.code) AS j) r
          WHERE rd.region = i.region), '[]'::jsonb))
    FROM institutions i WHERE i.code = inst
$$;

-- The refusal of one listed entry of set_authorizations, or NULL: an
-- active one must pass authorization_rule (R-CER-9), a suspended one be
-- in the region's catalog.  The text names the disease and the rule.
CREATE OR REPLACE FUNCTION authorization_entry_refusal(inst text, reg text,
    dis text, st text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r jsonb;
    dname text;
BEGIN
    SELECT d.name INTO dname FROM region_diseases rd
      JOIN diseases d ON d.code = rd.disease
     WHERE rd.region = reg AND rd.disease = dis;
    IF dname IS NULL THEN
        RETURN jsonb_build_object('error', 'authorization_rule_failed',
            'field', 'diseases', 'args', jsonb_build_array(
                dis || '：该病种不在本统筹区病种目录内'));
    END IF;
    IF st <> 'active' THEN
        RETURN NULL;
    END IF;
    r := authorization_rule(inst, dis);
    IF r ? 'rule' THEN
        RETURN NULL;
    END IF;
    RETURN jsonb_build_object('error', 'authorization_rule_failed',
        'field', 'diseases', 'args', jsonb_build_array(
            dname || '（' || dis || '）：' || (r->'args'->>0)));
END $$;

-- PUT /agency/institutions/{code}/diseases (R-CER-8, R-CER-9, R-SUP-4,
-- S2 五(三)): the entries of items ([{code, status: active|suspended}],
-- codes distinct, checked by the caller) ARE the hospital's
-- authorizations afterwards -- existing ones not listed become revoked --
-- and new_status (NULL: unchanged) its certification status.  All or
-- nothing: one active entry the rules refuse and nothing changes.  A
-- reason is required when anything becomes suspended or revoked.  Each
-- change is logged in authorization_log (disease NULL: the hospital's
-- status).  scope: the agency's region (NULL: an admin, any).
-- Returns {"ok": authorizations_json} or a refusal: institution_unknown,
-- authorization_rule_failed (field diseases), field_required (reason).
CREATE OR REPLACE FUNCTION set_authorizations(inst text, scope text,
    items jsonb, new_status text, why text, actor bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    i institutions%ROWTYPE;
    e record;
    refusal jsonb;
BEGIN
    SELECT * INTO i FROM institutions WHERE code = inst
       AND (scope IS NULL OR region = scope) FOR UPDATE;
    IF i.code IS NULL THEN
        RETURN jsonb_build_object('error', 'institution_unknown',
            'field', 'code');
    END IF;
    -- A hospital suspended or revoked by a sanction still in force is
    -- not made active by hand: the job restores it when the sanction
    -- ends (92_sanctions.sql run_sanctions, R-SUP-4).
    IF new_status = 'active' AND i.certification_status <> 'active'
       AND EXISTS (SELECT 1 FROM sanctions
                    WHERE subject_type = 'institution' AND subject = inst
                      AND state = 'active') THEN
        RETURN jsonb_build_object('error', 'institution_sanctioned',
            'field', 'certification_status');
    END IF;
    -- The wanted state of every disease touched: listed, or held now.
    CREATE TEMP TABLE IF NOT EXISTS authz_wanted (disease text, status text,
        old text) ON COMMIT DROP;
    TRUNCATE authz_wanted;
    INSERT INTO authz_wanted
    SELECT coalesce(w.code, x.disease), coalesce(w.status, 'revoked'),
           x.status
      FROM (SELECT t->>'code' AS code, t->>'status' AS status
              FROM jsonb_array_elements(items) t) w
      FULL JOIN (SELECT * FROM institution_diseases
                 WHERE institution = inst) x ON x.disease = w.code;
    FOR e IN SELECT disease, status FROM authz_wanted
             WHERE status <> 'revoked' ORDER BY disease LOOP
        refusal := authorization_entry_refusal(inst, i.region, e.disease,
                                               e.status);
        IF refusal IS NOT NULL THEN
            RETURN refusal;
        END IF;
    END LOOP;
    IF why IS NULL AND (EXISTS (SELECT 1 FROM authz_wanted
            WHERE status <> 'active' AND old IS DISTINCT FROM status)
        OR (new_status IS DISTINCT FROM i.certification_status
            AND new_status IN ('suspended', 'revoked'))) THEN
        RETURN jsonb_build_object('error', 'field_required',
            'field', 'reason', 'args', jsonb_build_array('暂停或取消的原因'));
    END IF;
    RETURN set_authorizations_write(i, actor, new_status, why);
END $$;

-- The writing half of set_authorizations (its checks passed): the rows
-- of authz_wanted that change, each logged, then the hospital's status.
CREATE OR REPLACE FUNCTION set_authorizations_write(i institutions,
    actor bigint, new_status text, why text) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    -- Active ones keep their rule current (a policy may have changed).
    UPDATE institution_diseases x
       SET rule = authorization_rule(i.code, x.disease)->>'rule'
      FROM authz_wanted w
     WHERE x.institution = i.code AND x.disease = w.disease
       AND w.status = 'active' AND w.old = 'active';
    INSERT INTO authorization_log (institution, disease, status, reason,
                                   changed_by)
    SELECT i.code, w.disease, w.status, why, actor FROM authz_wanted w
     WHERE w.old IS DISTINCT FROM w.status ORDER BY w.disease;
    INSERT INTO institution_diseases AS x (institution, disease, status,
        rule, granted_by, changed_at, reason)
    SELECT i.code, w.disease, w.status,
           authorization_rule(i.code, w.disease)->>'rule', actor, now(), why
      FROM authz_wanted w WHERE w.old IS DISTINCT FROM w.status
    ON CONFLICT (institution, disease) DO UPDATE
       SET status = EXCLUDED.status,
           rule = coalesce(EXCLUDED.rule, x.rule),
           granted_by = EXCLUDED.granted_by, changed_at = now(),
           reason = EXCLUDED.reason;
    IF new_status IS NOT NULL
       AND new_status <> i.certification_status THEN
        UPDATE institutions SET certification_status = new_status
         WHERE code = i.code;
        INSERT INTO authorization_log (institution, disease, status, reason,
                                       changed_by)
        VALUES (i.code, NULL, new_status, why, actor);
    END IF;
    RETURN jsonb_build_object('ok', authorizations_json(i.code));
END $$;
