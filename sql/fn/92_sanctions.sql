-- 92_sanctions.sql -- sanctions that take effect and end on their date
-- (R-SUP-4, S2 五; issue 12 item 6).  The table: sql/029_sanctions.sql.
--
-- record_sanction writes the sanction and its effect in one transaction:
--   person      stop_benefit: every active qualification of the person in
--               the region ends (end_qualification, reason 'violation');
--               recover_funds: the amount recorded, an SMS to the person
--   physician   suspend_prescription for prescription_suspend_months (6),
--               or _severe_months (60) when severe (S2 五(二)): the
--               hospital's on-site certification form naming the
--               physician is refused (sanction_physician_refusal)
--   expert      disqualify_expert: experts.status 'suspended' until
--               valid_to, 'disqualified' for good: eligible_experts draws
--               active experts only (never drawn)
--   institution suspend_certification / revoke_certification:
--               institutions.certification_status, so certification_refusal
--               refuses the hospital (S2 五(三))
-- run_sanctions ends those past their last day and undoes what is
-- temporary (a suspended expert or hospital active again, unless another
-- active sanction still holds); revocations and stopped benefits stay.

-- What a kind does, in the agency's words.
CREATE OR REPLACE FUNCTION sanction_kind_text(k text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE k
        WHEN 'stop_benefit' THEN '停止享受门诊慢特病待遇'
        WHEN 'recover_funds' THEN '追回医保基金'
        WHEN 'suspend_prescription' THEN '暂停医保处方权'
        WHEN 'disqualify_expert' THEN '取消评审专家资格'
        WHEN 'suspend_certification' THEN '暂停认定资格'
        WHEN 'revoke_certification' THEN '取消认定资格' END
$$;

-- One sanction as the agency sees it: the subject named (a person's ID
-- number masked), the kind in words, the dates, the amount in yuan with
-- two decimals, the state.
CREATE OR REPLACE FUNCTION sanction_json(s sanctions) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'region', s.region,
        'subject_type', s.subject_type,
        'subject', CASE s.subject_type
            WHEN 'person' THEN (SELECT jsonb_build_object('id', p.id,
                'name', p.name,
                'id_number', shown_id(p.id_number_masked, p.id_number))
                FROM persons p WHERE p.id = s.subject::bigint)
            WHEN 'expert' THEN (SELECT jsonb_build_object('id', e.user_id,
                'login', u.login, 'title', e.title, 'status', e.status)
                FROM experts e JOIN users u ON u.id = e.user_id
                WHERE e.user_id = s.subject::bigint)
            WHEN 'institution' THEN (SELECT jsonb_build_object('code',
                i.code, 'name', i.name, 'certification_status',
                i.certification_status)
                FROM institutions i WHERE i.code = s.subject)
            ELSE jsonb_build_object('name', s.subject, 'license_no',
                s.license_no) END,
        'institution', (SELECT jsonb_build_object('code', i.code,
            'name', i.name) FROM institutions i WHERE i.code = s.institution),
        'kind', s.kind, 'kind_text', sanction_kind_text(s.kind),
        'reason', s.reason, 'valid_from', s.valid_from,
        'valid_to', s.valid_to,
        'amount', round(s.amount_cents / 100.0, 2),
        'state', s.state, 'ended_at', s.ended_at,
        'recorded_by', s.recorded_by, 'recorded_at', s.recorded_at)
$$;

-- The refusal of a sanction's form f for region reg, or NULL:
-- the kind must be one of its subject type's, the amount given for a
-- recovery only, the dates within range.  The subject: sanction_subject.
CREATE OR REPLACE FUNCTION sanction_form_refusal(f jsonb, v_from date,
    v_to date) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    st text := f->>'subject_type';
    k text := f->>'kind';
BEGIN
    IF NOT (st = 'person' AND k IN ('stop_benefit', 'recover_funds')
            OR st = 'physician' AND k = 'suspend_prescription'
            OR st = 'expert' AND k = 'disqualify_expert'
            OR st = 'institution' AND k IN ('suspend_certification',
                                            'revoke_certification')) THEN
        RETURN jsonb_build_object('error', 'sanction_kind_invalid',
            'field', 'kind', 'args', jsonb_build_array(
                sanction_kind_text(k)));
    END IF;
    IF (k = 'recover_funds') <> (f ? 'amount') THEN
        RETURN CASE WHEN k = 'recover_funds' THEN jsonb_build_object(
            'error', 'field_required', 'field', 'amount',
            'args', jsonb_build_array('追回金额（元）'))
        ELSE jsonb_build_object('error', 'field_invalid', 'field', 'amount',
            'args', jsonb_build_array('追回金额', '：只有追回医保基金时填写'))
        END;
    END IF;
    IF st = 'physician' AND NOT f ? 'institution' THEN
        RETURN jsonb_build_object('error', 'field_required',
            'field', 'institution', 'args', jsonb_build_array('医师所在医院'));
    END IF;
    IF v_from > cn_today() THEN
        RETURN jsonb_build_object('error', 'date_out_of_range',
            'field', 'valid_from', 'args', jsonb_build_array('开始日期',
            '不能晚于今天（' || cn_today() || '）'));
    END IF;
    IF v_to IS NOT NULL AND k IN ('stop_benefit', 'recover_funds',
                                  'revoke_certification') THEN
        RETURN jsonb_build_object('error', 'field_invalid',
            'field', 'valid_to', 'args', jsonb_build_array('结束日期',
            '：' || sanction_kind_text(k) || '没有期限'));
    END IF;
    IF v_to < greatest(v_from, cn_today()) THEN
        RETURN jsonb_build_object('error', 'date_out_of_range',
            'field', 'valid_to', 'args', jsonb_build_array('结束日期',
            '不能早于开始日期和今天（' || greatest(v_from, cn_today())
            || '）'));
    END IF;
    RETURN NULL;
END $$;

-- The subject's reference as sanctions.subject stores it, of region reg
-- only (another region's is not found): a person's id from the ID number
-- (by its lookup HMAC, which the C adds to f as subject_hmac),
-- an expert's user id, a hospital's code, a physician's name (of a
-- hospital of reg).  NULL when not found.
CREATE OR REPLACE FUNCTION sanction_subject(f jsonb, reg text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE f->>'subject_type'
        WHEN 'person' THEN (SELECT p.id::text FROM persons p
            WHERE p.id_number_hmac = f->>'subject_hmac' AND p.region = reg)
        WHEN 'expert' THEN (SELECT e.user_id::text FROM experts e
            JOIN users u ON u.id = e.user_id
            JOIN institutions i ON i.code = u.institution
            WHERE f->>'subject' ~ '^[0-9]{1,18}$'
              AND e.user_id = (f->>'subject')::bigint AND i.region = reg)
        WHEN 'institution' THEN (SELECT i.code FROM institutions i
            WHERE i.code = f->>'subject' AND i.region = reg)
        ELSE (SELECT f->>'subject' FROM institutions i
            WHERE i.code = f->>'institution' AND i.region = reg) END
$$;

-- The effect of a new sanction s, in the caller's transaction (see the
-- head of this file); actor and p_role: who recorded it.
CREATE OR REPLACE FUNCTION sanction_apply(s sanctions, actor bigint,
    p_role text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    q bigint;
BEGIN
    IF s.kind = 'stop_benefit' THEN
        FOR q IN SELECT x.id FROM qualifications x
                 WHERE x.person_id = s.subject::bigint
                   AND x.region = s.region AND x.status = 'active'
                 ORDER BY x.id LOOP
            PERFORM end_qualification(q, 'violation', s.valid_from, actor,
                p_role, format('违规处理第 %s 号：%s', s.id, s.reason));
        END LOOP;
    ELSIF s.kind = 'recover_funds' THEN
        INSERT INTO sms_outbox (to_phone_enc, template, body)
        SELECT p.phone_enc, 'sanction_recover', format(
            '【门诊慢特病】经核查，您需退回医保基金%s元（%s）。如有疑问请联系当地医保经办机构。',
            round(s.amount_cents / 100.0, 2), left(s.reason, 200))
        FROM persons p WHERE p.id = s.subject::bigint;
    ELSIF s.kind = 'disqualify_expert' THEN
        -- Never from disqualified (for good) back to suspended.
        UPDATE experts SET status = CASE WHEN s.valid_to IS NULL
                OR status = 'disqualified' THEN 'disqualified'
                ELSE 'suspended' END,
            status_changed_at = now(), status_reason = left(s.reason, 500)
        WHERE user_id = s.subject::bigint;
        INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
        SELECT plain_until_sealed(e.phone, e.phone_enc), e.phone_enc, 'sanction_expert', format(
            '【门诊慢特病】您的评审专家资格%s，期间不再向您推送认定任务。如有疑问请联系当地医保经办机构。',
            coalesce('暂停至' || s.valid_to, '已被取消'))
        FROM experts e WHERE e.user_id = s.subject::bigint
          AND coalesce(e.phone_enc, e.phone) IS NOT NULL;
    ELSIF s.kind IN ('suspend_certification', 'revoke_certification') THEN
        -- Never from revoked back to suspended.
        UPDATE institutions SET certification_status = CASE
                WHEN s.kind = 'revoke_certification'
                     OR certification_status = 'revoked' THEN 'revoked'
                ELSE 'suspended' END
        WHERE code = s.subject;
        INSERT INTO authorization_log (institution, disease, status, reason,
                                       changed_by)
        SELECT code, NULL, certification_status,
               left(format('违规处理第 %s 号：%s', s.id, s.reason), 500),
               actor
        FROM institutions WHERE code = s.subject;
    END IF;
END $$;

-- Record a sanction of region reg from the form f {subject_type, subject,
-- kind, reason, valid_from?, valid_to?, months?, severe?, amount? (yuan),
-- institution? and license_no? (a physician's)} by actor (role p_role),
-- with its effect, in one transaction.  A physician's suspension lasts
-- months, or prescription_suspend_months (severe:
-- prescription_suspend_severe_months) of the region, unless valid_to is
-- given.  Returns {"ok": sanction_json} or a refusal: 404
-- sanction_subject_not_found (none, or of another region), 422
-- sanction_kind_invalid, date_out_of_range, 400 field_required /
-- field_invalid.
CREATE OR REPLACE FUNCTION record_sanction(reg text, f jsonb, actor bigint,
    p_role text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_from date := coalesce((f->>'valid_from')::date, cn_today());
    v_to date := (f->>'valid_to')::date;
    months int := (f->>'months')::int;
    subj text;
    refusal jsonb;
    s sanctions%ROWTYPE;
BEGIN
    IF f->>'kind' = 'suspend_prescription' AND v_to IS NULL THEN
        months := coalesce(months, policy_value(reg, CASE
            WHEN (f->>'severe')::boolean
            THEN 'prescription_suspend_severe_months'
            ELSE 'prescription_suspend_months' END)::int);
    END IF;
    IF v_to IS NULL AND months IS NOT NULL THEN
        v_to := (v_from + make_interval(months => months))::date - 1;
    END IF;
    refusal := sanction_form_refusal(f, v_from, v_to);
    IF refusal IS NOT NULL THEN
        RETURN refusal;
    END IF;
    subj := sanction_subject(f, reg);
    IF subj IS NULL THEN
        RETURN jsonb_build_object('error', 'sanction_subject_not_found',
            'field', CASE WHEN f->>'subject_type' = 'physician'
                     THEN 'institution' ELSE 'subject' END);
    END IF;
    INSERT INTO sanctions (subject_type, subject, kind, valid_from, valid_to,
        reason, recorded_by, region, institution, license_no, amount_cents)
    VALUES (f->>'subject_type', subj, f->>'kind', v_from, v_to,
        f->>'reason', actor, reg, f->>'institution', f->>'license_no',
        round((f->>'amount')::numeric * 100)::bigint)
    RETURNING * INTO s;
    PERFORM sanction_apply(s, actor, p_role);
    RETURN jsonb_build_object('ok', sanction_json(s));
END $$;

-- The refusal of an on-site certification form naming physician p_name
-- of hospital inst whose prescription rights are suspended today (S2
-- 五(二)), or NULL: {"error": "physician_suspended", "args": [name,
-- last day]}.
CREATE OR REPLACE FUNCTION sanction_physician_refusal(inst text,
    p_name text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('error', 'physician_suspended',
        'field', 'physician_name',
        'args', jsonb_build_array(s.subject, max(s.valid_to)::text))
    FROM sanctions s
    WHERE s.subject_type = 'physician' AND s.state = 'active'
      AND s.subject = btrim(p_name) AND s.institution = inst
      AND s.valid_from <= cn_today() AND s.valid_to >= cn_today()
    GROUP BY s.subject
$$;

-- The sanctions job (the dispatcher's step, `mtcertctl sanctions run`):
-- up to p_batch active sanctions whose last day (valid_to) is before
-- today (Asia/Shanghai) end, and a temporary effect is undone unless
-- another active sanction of the subject still holds: a suspended expert
-- active again with a clean count (told by SMS), a suspended hospital's
-- certification active again (logged).  Dispatchers running at once share the work
-- (SKIP LOCKED).  Returns how many it ended: call again while > 0.
CREATE OR REPLACE FUNCTION run_sanctions(p_batch int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    s sanctions%ROWTYPE;
    n int := 0;
BEGIN
    FOR s IN SELECT * FROM sanctions
        WHERE state = 'active' AND valid_to < cn_today()
        ORDER BY valid_to, id LIMIT p_batch FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE sanctions SET state = 'ended', ended_at = now()
        WHERE id = s.id;
        n := n + 1;
        CONTINUE WHEN EXISTS (SELECT 1 FROM sanctions o
            WHERE o.state = 'active' AND o.id <> s.id
              AND o.subject_type = s.subject_type AND o.subject = s.subject
              AND o.kind IN ('disqualify_expert', 'suspend_certification',
                             'revoke_certification'));
        IF s.kind = 'disqualify_expert' THEN
            WITH r AS (UPDATE experts SET status = 'active',
                           consecutive_misses = 0, status_changed_at = now(),
                           status_reason = NULL
                       WHERE user_id = s.subject::bigint
                         AND status = 'suspended'
                       RETURNING phone, phone_enc)
            INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
            SELECT plain_until_sealed(phone, phone_enc), phone_enc,
                   'sanction_ended',
                   '【门诊慢特病】您的评审专家资格暂停期满，已恢复，将重新参与认定任务的随机推送。'
            FROM r WHERE coalesce(phone_enc, phone) IS NOT NULL;
        ELSIF s.kind = 'suspend_certification' THEN
            WITH r AS (UPDATE institutions SET certification_status = 'active'
                       WHERE code = s.subject
                         AND certification_status = 'suspended'
                       RETURNING code)
            INSERT INTO authorization_log (institution, disease, status,
                                           reason)
            SELECT code, NULL, 'active',
                   format('违规处理第 %s 号期满（%s）', s.id, s.valid_to)
            FROM r;
        END IF;
    END LOOP;
    RETURN n;
END $$;
