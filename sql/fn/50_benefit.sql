-- 50_benefit.sql -- the benefit after the decision (R-BEN-*): the one
-- JSON shape of a qualification every list and the card use, and the one
-- way a qualification ends.  How files in sql/fn/ are applied: see
-- 10_util.sql.

-- The status a qualification ends in, by exit reason (R-BEN-5, S3 第十九条):
-- expired when the period ran out without renewal, revoked when it was
-- taken away (a violation, a failed audit, a hospital's result the agency
-- overturned, R-CER-11), terminated otherwise.
CREATE OR REPLACE FUNCTION qualification_end_status(reason text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE reason
        WHEN 'expired' THEN 'expired'
        WHEN 'violation' THEN 'revoked'
        WHEN 'audit_failed' THEN 'revoked'
        WHEN 'overturned' THEN 'revoked'
        WHEN 'cured' THEN 'terminated'
        WHEN 'voluntary' THEN 'terminated'
        WHEN 'death' THEN 'terminated'
        WHEN 'other' THEN 'terminated'
    END
$$;

-- The exit reason in plain words (SMS, timeline, card, portal).
CREATE OR REPLACE FUNCTION qualification_reason_text(reason text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE reason
        WHEN 'cured' THEN '已治愈'
        WHEN 'voluntary' THEN '本人申请退出'
        WHEN 'violation' THEN '违规享受待遇'
        WHEN 'death' THEN '参保人死亡'
        WHEN 'expired' THEN '待遇期满未接续'
        WHEN 'audit_failed' THEN '抽审未通过'
        WHEN 'overturned' THEN '认定结果经医保经办机构审核未予确认'
        WHEN 'other' THEN '其他原因'
    END
$$;

-- Designated-hospital changes in the current calendar year (R-BEN-3)
-- and how many the region's policy still allows for qualification q:
-- designated_change_limit less the changes of q itself, or, when the
-- region's designated_change_scope is 'person' (三门峡 S0 三(二) 每人每个
-- 自然年度), less the changes of all the person's qualifications.
CREATE OR REPLACE FUNCTION qualification_changes_left(q bigint, r text)
RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    since date := date_trunc('year', cn_today())::date;
    n integer;
BEGIN
    IF policy_value(r, 'designated_change_scope') = 'person' THEN
        SELECT count(*)::int INTO n FROM qualifications x
        JOIN qualifications y ON y.person_id = x.person_id
        JOIN hospital_changes h ON h.qualification_id = y.id
        WHERE x.id = q
          AND (h.changed_at AT TIME ZONE 'Asia/Shanghai')::date >= since;
    ELSE
        SELECT count(*)::int INTO n FROM hospital_changes h
        WHERE h.qualification_id = q
          AND (h.changed_at AT TIME ZONE 'Asia/Shanghai')::date >= since;
    END IF;
    RETURN greatest(0,
        policy_value(r, 'designated_change_limit')::int - n);
END $$;

-- One qualification as every reader sees it (own list, agency list,
-- hospital list, card, letter).  The ID number is masked; callers scope.
-- days_left counts today: 1 on the last day, NULL once ended.
CREATE OR REPLACE FUNCTION qualification_json(q bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', x.id, 'status', x.status,
        'region', x.region, 'application_id', x.application_id,
        'holder', jsonb_build_object('name', p.name,
            'id_number', shown_id(p.id_number_masked, p.id_number)),
        'disease', jsonb_build_object('code', d.code, 'name', d.name,
            'category', d.category),
        'designated_institution', jsonb_build_object('code', i.code,
            'name', i.name),
        'valid_from', x.valid_from, 'valid_to', x.valid_to,
        'days_left', CASE WHEN x.status = 'active'
            THEN greatest(0, x.valid_to - cn_today() + 1) END,
        'changes_left', CASE WHEN x.status = 'active'
            THEN qualification_changes_left(x.id, x.region) END,
        'renewed_count', x.renewed_count,
        'end_reason', x.end_reason,
        'end_reason_text', qualification_reason_text(x.end_reason),
        'ended_on', x.ended_on, 'end_note', x.end_note)
    FROM qualifications x JOIN persons p ON p.id = x.person_id
    JOIN diseases d ON d.code = x.disease
    JOIN institutions i ON i.code = x.designated_institution
    WHERE x.id = q
$$;

-- An SMS to the holder of qualification x (the phone of the registry,
-- sealed: the dispatcher opens it; plain while the person's row is not
-- sealed yet, plain_until_sealed):
-- the hospital change, the end, the renewal's notice and outcome.
CREATE OR REPLACE FUNCTION qualification_sms(x qualifications,
    p_template text, p_body text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
    SELECT plain_until_sealed(p.phone, p.phone_enc), p.phone_enc,
        p_template, p_body FROM persons p
    WHERE p.id = x.person_id
$$;

-- End an active qualification from day p_on (R-BEN-5): the one way any
-- exit happens -- voluntary, the agency's, an audit's, expiry.  Locks the
-- row, sets status by reason, writes the application's event (so the
-- progress view and timeline follow) and the SMS, in the caller's
-- transaction.  Unscoped: callers check the caller's scope first.
-- Returns {"ok": qualification_json} or {"error": "qualification_not_found"
-- | "qualification_not_active"}.  g_id: the guardian's ID number sealed
-- (044; C seals it, mt_identity_seal), kept in guardian_id_number_enc.
CREATE OR REPLACE FUNCTION end_qualification(q bigint, p_reason text,
    p_on date, actor bigint, p_role text, note text,
    g_name text DEFAULT NULL, g_id text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x qualifications%ROWTYPE;
    dname text;
BEGIN
    SELECT * INTO x FROM qualifications WHERE id = q FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'qualification_not_found');
    END IF;
    IF x.status <> 'active' THEN
        RETURN jsonb_build_object('error', 'qualification_not_active');
    END IF;
    UPDATE qualifications SET status = qualification_end_status(p_reason),
        end_reason = p_reason, ended_on = p_on, ended_at = now(),
        ended_by = actor, end_note = nullif(note, ''),
        guardian_name = g_name, guardian_id_number_enc = g_id,
        updated_at = now()
    WHERE id = q;
    SELECT d.name INTO dname FROM diseases d WHERE d.code = x.disease;
    PERFORM qualification_sms(x, 'qualification_ended', format(
        '【门诊慢特病】您的“%s”门诊慢特病待遇自%s起终止（%s）。如有疑问请联系当地医保经办机构。',
        dname, p_on, qualification_reason_text(p_reason)));
    IF x.application_id IS NOT NULL THEN
        INSERT INTO events (application_id, type, actor_user, actor_role, data)
        VALUES (x.application_id, 'qualification_ended', actor, p_role,
            jsonb_build_object('qualification', q, 'reason', p_reason,
                'reason_text', qualification_reason_text(p_reason),
                'ended_on', p_on));
    END IF;
    RETURN jsonb_build_object('ok', qualification_json(q));
END $$;

-- The agency a region's people turn to, for every page's footer and the
-- letter: {"code","name","agency_name","hotline","agency_address"}
-- (the last three NULL until the agency sets them).  NULL for no region.
CREATE OR REPLACE FUNCTION region_contact_json(r text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('code', g.code, 'name', g.name,
        'agency_name', g.agency_name, 'hotline', g.hotline,
        'agency_address', g.agency_address)
    FROM regions g WHERE g.code = r
$$;

-- The region's rules of the benefit in plain words (R-BEN-2, S0 三, S1
-- 附件: 告知书), for the letter: how to use it, how it renews, how to
-- change hospital, whom to ask.  Every number is the region's policy
-- value (designated_change_limit, renewal_lookback_months,
-- renewal_min_settlement_months), so the letter says what the service
-- does; designated_change_scope says per disease or per person.
-- [{"title","text"}...]
CREATE OR REPLACE FUNCTION benefit_rules_json(r text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim integer := policy_value(r, 'designated_change_limit')::int;
    per_person boolean :=
        policy_value(r, 'designated_change_scope') = 'person';
    back integer := policy_value(r, 'renewal_lookback_months')::int;
    need integer := policy_value(r, 'renewal_min_settlement_months')::int;
    g regions%ROWTYPE;
BEGIN
    SELECT * INTO g FROM regions WHERE code = r;
    RETURN jsonb_build_array(
        jsonb_build_object('title', '怎样使用待遇', 'text',
            '请到上面写明的定点医院看门诊。看病时带上社会保障卡（或打开医保电子凭证），'
            || '告诉医生您有门诊慢特病待遇，费用按门诊慢特病待遇报销。'
            || '到其他医院看这个病，不能按门诊慢特病待遇报销。'),
        jsonb_build_object('title', '待遇到期怎么办', 'text', format(
            '到期那个月之前的 %s 个月里（不算到期那个月），只要有 %s 个月以上'
            || '在医院看过这个病并用医保结算，'
            || '到期后待遇自动延续，不用再申请；不够 %s 个月的，到期后待遇停止，'
            || '以后需要时可以重新申请认定。到期前我们会发短信告诉您是哪一种情况。',
            back, need, need)),
        jsonb_build_object('title', '想换定点医院怎么办', 'text',
            CASE WHEN lim > 0 THEN format(
            '可以在网上自己换：登录后打开“我的待遇”，点“变更定点医院”。'
            || '%s（1月1日到12月31日）最多换 %s 次%s，换好后马上生效，'
            || '我们会发短信告诉您。',
            CASE WHEN per_person THEN '每人每年' ELSE '每种病每年' END, lim,
            CASE WHEN per_person THEN '（几种病合在一起算）' ELSE '' END)
            ELSE '本地不能在网上变更定点医院，需要变更时请到医保经办机构窗口办理。'
            END),
        jsonb_build_object('title', '有问题找谁', 'text',
            coalesce(g.agency_name, '当地医保经办机构')
            || coalesce('，电话 ' || g.hotline, '')
            || coalesce('，地址：' || g.agency_address, '')
            || '。不想再享受待遇时，也可以在“我的待遇”里申请退出。'));
END $$;

-- The notification letter of a person (门诊慢特病待遇告知书, R-BEN-2, S0
-- 附件, S1 附件): who, the region and its agency, the day it is issued,
-- every qualification the person holds today (active), oldest first,
-- and the region's rules.  Unscoped: the caller is the person.  NULL for
-- no such person.
CREATE OR REPLACE FUNCTION qualification_letter_json(pid bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'person', jsonb_build_object('name', p.name,
            'id_number', shown_id(p.id_number_masked, p.id_number)),
        'region', region_contact_json(p.region),
        'issued_on', cn_today(),
        'qualifications', coalesce((SELECT jsonb_agg(qualification_json(x.id)
            ORDER BY x.id) FROM qualifications x
            WHERE x.person_id = p.id AND x.status = 'active'), '[]'),
        'rules', benefit_rules_json(p.region))
    FROM persons p WHERE p.id = pid
$$;

-- Lock qualification q of person s_person for a change the person asks
-- for (the row lock orders concurrent changes of one qualification).
-- NULL when it is there, the person's and active; else the refusal:
-- qualification_not_found (not there or another person's: the same 404)
-- or qualification_not_active.
CREATE OR REPLACE FUNCTION lock_own_active_qualification(q bigint,
    s_person bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    st text;
BEGIN
    SELECT status INTO st FROM qualifications
    WHERE id = q AND person_id = s_person FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'qualification_not_found',
                                  'field', 'id');
    END IF;
    IF st <> 'active' THEN
        RETURN jsonb_build_object('error', 'qualification_not_active');
    END IF;
    RETURN NULL;
END $$;

-- Change the designated hospital of qualification q of person s_person
-- to p_to (R-BEN-3, S0 三(二)): at most designated_change_limit changes a
-- calendar year per qualification, or per person when the region's
-- designated_change_scope is 'person', counted under the qualification's
-- row lock and, per person, the person's row lock too, so concurrent
-- changes (of one qualification, or of two of one person) wait for each
-- other and cannot exceed it.  Always qualification, then person: no
-- deadlock.  The hospital must be one the person may choose for the disease
-- (institution_may_serve).  Keeps the history (hospital_changes), queues
-- the SMS and writes the application's event (institution_changed).
-- Returns {"ok": qualification_json} or a refusal: qualification_not_found
-- (not there or not the person's), qualification_not_active,
-- change_limit_reached (args: the limit), institution_not_found,
-- institution_unchanged, institution_not_designated.
CREATE OR REPLACE FUNCTION change_designated_institution(q bigint,
    p_to text, actor bigint, s_person bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x qualifications%ROWTYPE;
    to_name text;
    dname text;
    left_now integer;
    refusal jsonb;
BEGIN
    refusal := lock_own_active_qualification(q, s_person);
    IF refusal IS NOT NULL THEN
        RETURN refusal;
    END IF;
    SELECT * INTO x FROM qualifications WHERE id = q;
    -- Per person, changes of the person's other qualifications count:
    -- they take the same person lock.  NO KEY UPDATE: conflicts with
    -- itself, not with the key-share locks of foreign-key checks.
    IF policy_value(x.region, 'designated_change_scope') = 'person' THEN
        PERFORM 1 FROM persons WHERE id = x.person_id FOR NO KEY UPDATE;
    END IF;
    -- Counted after the locks: a change that committed meanwhile is seen
    -- (read committed: each statement takes a new snapshot).
    left_now := qualification_changes_left(q, x.region);
    IF left_now <= 0 THEN
        RETURN jsonb_build_object('error', 'change_limit_reached',
            'args', jsonb_build_array(
                policy_value(x.region, 'designated_change_limit')));
    END IF;
    SELECT name INTO to_name FROM institutions WHERE code = p_to;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'institution_not_found',
                                  'field', 'institution');
    END IF;
    IF p_to = x.designated_institution THEN
        RETURN jsonb_build_object('error', 'institution_unchanged',
                                  'field', 'institution');
    END IF;
    IF NOT institution_may_serve(p_to, x.disease, x.region) THEN
        RETURN jsonb_build_object('error', 'institution_not_designated',
                                  'field', 'institution');
    END IF;
    INSERT INTO hospital_changes (qualification_id, from_institution,
        to_institution, changed_by)
    VALUES (q, x.designated_institution, p_to, actor);
    UPDATE qualifications SET designated_institution = p_to,
        updated_at = now() WHERE id = q;
    SELECT d.name INTO dname FROM diseases d WHERE d.code = x.disease;
    PERFORM qualification_sms(x, 'institution_changed', format(
        '【门诊慢特病】您的“%s”门诊慢特病定点医院已变更为%s，即日起请到该院就医。本年度还可变更%s次。',
        dname, to_name, left_now - 1));
    IF x.application_id IS NOT NULL THEN
        INSERT INTO events (application_id, type, actor_user, actor_role,
            data)
        VALUES (x.application_id, 'institution_changed', actor, 'insured',
            jsonb_build_object('qualification', q,
                'from', x.designated_institution, 'to', p_to,
                'to_name', to_name));
    END IF;
    RETURN jsonb_build_object('ok', qualification_json(q));
END $$;

-- Voluntary exit of qualification q by its person s_person (R-BEN-5, S3
-- 第十九条): from today, with the promise (checked by the caller); for a
-- psychiatric disease (specialty 精神) the guardian signs, so g_name and
-- g_id (sealed) are required and kept.  Ends through end_qualification
-- (SMS, event).  Returns {"ok": qualification_json} or a refusal:
-- qualification_not_found (not there or not the person's),
-- qualification_not_active, guardian_required.
CREATE OR REPLACE FUNCTION leave_qualification(q bigint, actor bigint,
    s_person bigint, g_name text, g_id text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    refusal jsonb := lock_own_active_qualification(q, s_person);
    spec text;
BEGIN
    IF refusal IS NOT NULL THEN
        RETURN refusal;
    END IF;
    SELECT d.specialty INTO spec FROM qualifications x
    JOIN diseases d ON d.code = x.disease WHERE x.id = q;
    IF spec = '精神' AND (g_name IS NULL OR g_id IS NULL) THEN
        RETURN jsonb_build_object('error', 'guardian_required',
            'field', CASE WHEN g_name IS NULL THEN 'guardian_name'
                          ELSE 'guardian_id_number' END);
    END IF;
    -- Ends today; a benefit that has not begun yet (a quota disease
    -- starting on the 1st of next month) ends on its first day, so it
    -- never begins (as the agency's terminate does).
    RETURN end_qualification(q, 'voluntary', (SELECT greatest(cn_today(),
        x.valid_from) FROM qualifications x WHERE x.id = q), actor,
        'insured', NULL, g_name, g_id);
END $$;
