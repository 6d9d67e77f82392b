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
        RETURN jsonb_build_object('error', 'authorization_rule_failed',
            'args', jsonb_build_array('医疗机构或病种不存在'));
    END IF;
    IF NOT i.certifying THEN
        RETURN jsonb_build_object('error', 'authorization_rule_failed',
            'args', jsonb_build_array('该医疗机构不是门诊慢特病认定机构'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM region_diseases rd
                   WHERE rd.region = i.region AND rd.disease = dis) THEN
        RETURN jsonb_build_object('error', 'authorization_rule_failed',
            'args', jsonb_build_array('该病种不在本统筹区病种目录内'));
    END IF;
    scope := institution_scope_text(inst);
    IF scope IS NOT NULL AND NOT EXISTS (SELECT 1 FROM institution_scopes s
            WHERE s.institution = inst AND s.disease = dis) THEN
        RETURN jsonb_build_object('error', 'authorization_rule_failed',
            'args', jsonb_build_array('该医疗机构限于' || scope));
    END IF;
    IF i.ownership = 'private' THEN
        lvl := policy_value(i.region, 'private_cert_min_level')::int;
        score_min := policy_value(i.region, 'private_cert_min_score')::int;
        IF i.level < lvl THEN
            RETURN jsonb_build_object('error', 'authorization_rule_failed',
                'args', jsonb_build_array(format(
                    '民营医疗机构须为%s级及以上（本院为%s级）', lvl, i.level)));
        END IF;
        IF coalesce(i.score, 0) < score_min THEN
            RETURN jsonb_build_object('error', 'authorization_rule_failed',
                'args', jsonb_build_array(format(
                    '民营医疗机构上年度考核成绩须达到%s分（本院%s）', score_min,
                    coalesce(i.score::text || '分', '无考核成绩'))));
        END IF;
        RETURN jsonb_build_object('rule', 'private_scored');
    END IF;
    IF d.category = 'special' THEN
        lvl := policy_value(i.region, 'special_cert_min_level')::int;
        IF i.level < lvl THEN
            RETURN jsonb_build_object('error', 'authorization_rule_failed',
                'args', jsonb_build_array(format(
                    '特殊病须由%s级及以上公立医疗机构认定（本院为%s级）', lvl, i.level)));
        END IF;
        RETURN jsonb_build_object('rule', 'public_special');
    END IF;
    lvl := policy_value(i.region, 'chronic_cert_min_level')::int;
    IF i.level < lvl THEN
        RETURN jsonb_build_object('error', 'authorization_rule_failed',
            'args', jsonb_build_array(format(
                '慢性病须由%s级及以上公立医疗机构认定（本院为%s级）', lvl, i.level)));
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
