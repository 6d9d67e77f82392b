-- 50_benefit.sql -- the benefit after the decision (R-BEN-*): the one
-- JSON shape of a qualification every list and the card use, and the one
-- way a qualification ends.  How files in sql/fn/ are applied: see
-- 10_util.sql.

-- The status a qualification ends in, by exit reason (R-BEN-5, S3 第十九条):
-- expired when the period ran out without renewal, revoked when it was
-- taken away (a violation, a failed audit), terminated otherwise.
CREATE OR REPLACE FUNCTION qualification_end_status(reason text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE reason
        WHEN 'expired' THEN 'expired'
        WHEN 'violation' THEN 'revoked'
        WHEN 'audit_failed' THEN 'revoked'
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
        WHEN 'other' THEN '其他原因'
    END
$$;

-- Designated-hospital changes of a qualification in the current calendar
-- year (R-BEN-3), and how many the region's policy still allows.
CREATE OR REPLACE FUNCTION qualification_changes_left(q bigint, r text)
RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT greatest(0, policy_value(r, 'designated_change_limit')::int
        - (SELECT count(*)::int FROM hospital_changes h
           WHERE h.qualification_id = q
             AND (h.changed_at AT TIME ZONE 'Asia/Shanghai')::date
                 >= date_trunc('year', cn_today())::date))
$$;

-- One qualification as every reader sees it (own list, agency list,
-- hospital list, card, letter).  The ID number is masked; callers scope.
-- days_left counts today: 1 on the last day, NULL once ended.
CREATE OR REPLACE FUNCTION qualification_json(q bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', x.id, 'status', x.status,
        'region', x.region, 'application_id', x.application_id,
        'holder', jsonb_build_object('name', p.name,
            'id_number', mask_id(p.id_number)),
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

-- End an active qualification from day p_on (R-BEN-5): the one way any
-- exit happens -- voluntary, the agency's, an audit's, expiry.  Locks the
-- row, sets status by reason, writes the application's event (so the
-- progress view and timeline follow) and the SMS, in the caller's
-- transaction.  Unscoped: callers check the caller's scope first.
-- Returns {"ok": qualification_json} or {"error": "qualification_not_found"
-- | "qualification_not_active"}.
CREATE OR REPLACE FUNCTION end_qualification(q bigint, p_reason text,
    p_on date, actor bigint, p_role text, note text,
    g_name text DEFAULT NULL, g_id text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x qualifications%ROWTYPE;
    dname text;
    phone text;
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
        guardian_name = g_name, guardian_id_number = g_id,
        updated_at = now()
    WHERE id = q;
    SELECT d.name INTO dname FROM diseases d WHERE d.code = x.disease;
    SELECT p.phone INTO phone FROM persons p WHERE p.id = x.person_id;
    INSERT INTO sms_outbox (to_phone, template, body)
    VALUES (phone, 'qualification_ended', format(
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
