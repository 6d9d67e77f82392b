-- 74_confirm.sql -- the agency confirms a hospital's result (R-CER-11,
-- S3 第七条(三), S4 三) and opens the application's whole record: the
-- progress view, every expert draw, the certification form, the panel
-- and the public notice with its objections (R-SUP-6).  How files in
-- sql/fn/ are applied: see 10_util.sql.

-- Whether the agency of region r (NULL: an admin) may open application
-- app: the agency of the person's region, and the agency of the region
-- of the hospital that certified it (cross-region, R-CER-13, S4 三).
CREATE OR REPLACE FUNCTION agency_may_open(app bigint, r text)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM applications a
        LEFT JOIN institutions ci ON ci.code = a.certifying_institution
        WHERE a.id = app
          AND (r IS NULL OR a.region = r OR ci.region = r))
$$;

-- The hospital's conclusion on app (approve | reject), from its
-- certification form or its panel; NULL while it has none.
CREATE OR REPLACE FUNCTION hospital_conclusion(app bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT c.conclusion FROM certifications c
         WHERE c.application_id = app),
        (SELECT p.conclusion FROM panel_decisions p
         WHERE p.application_id = app))
$$;

-- The archive of application app as the agency sees it (GET
-- /agency/applications/{id}): the progress view plus "assignments" (every
-- push with its pool size and outcome), "trail" (application_trail,
-- 73_trail.sql: draws, assignments and events in time order),
-- "certification" (the S4 认定表)
-- | null, "panel" with each member's opinion | null, "publicity" with
-- its objections | null, the confirmation with who/when/why.  Unscoped:
-- callers check agency_may_open first.
CREATE OR REPLACE FUNCTION agency_application_json(app bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT application_view(a.id)::jsonb || jsonb_build_object(
        'person_region', jsonb_build_object('code', r.code, 'name', r.name),
        'trail', application_trail(a.id),
        'assignments', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'id', x.id, 'stage', x.stage, 'expert_id', x.expert_id,
            'expert_name', coalesce(nullif(u.display_name, ''), u.login),
            'pool_size', x.pool_size, 'state', x.state,
            'pushed_at', x.pushed_at, 'accept_deadline', x.accept_deadline,
            'accepted_at', x.accepted_at, 'ended_at', x.ended_at,
            'decision', x.decision, 'opinion', x.opinion,
            'refuse_reason', x.refuse_reason) ORDER BY x.id), '[]')
            FROM assignments x JOIN users u ON u.id = x.expert_id
            WHERE x.application_id = a.id),
        'certification', (SELECT jsonb_build_object(
            'institution', jsonb_build_object('code', i.code, 'name', i.name),
            'diagnosis', c.diagnosis, 'basis', c.basis,
            'examinations', c.examinations,
            'physician_name', c.physician_name,
            'physician_title', c.physician_title,
            'conclusion', c.conclusion, 'reason', c.reason,
            'certified_at', c.certified_at)
            FROM certifications c JOIN institutions i ON i.code = c.institution
            WHERE c.application_id = a.id),
        'panel', (SELECT jsonb_build_object(
            'institution', jsonb_build_object('code', i.code, 'name', i.name),
            'conclusion', pd.conclusion, 'opinion', pd.opinion,
            'reason', pd.reason, 'decided_at', pd.decided_at,
            'members', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'expert_id', m.expert_id,
                'name', coalesce(nullif(mu.display_name, ''), mu.login),
                'title', e.title,
                'opinion', m.opinion, 'note', m.note)
                ORDER BY m.expert_id), '[]')
                FROM panel_members m JOIN experts e ON e.user_id = m.expert_id
                JOIN users mu ON mu.id = m.expert_id
                WHERE m.application_id = pd.application_id))
            FROM panel_decisions pd JOIN institutions i
            ON i.code = pd.institution WHERE pd.application_id = a.id),
        'publicity', (SELECT jsonb_build_object('id', pb.id,
            'starts_on', pb.starts_on, 'ends_on', pb.ends_on,
            'state', pb.state, 'closed_at', pb.closed_at,
            'objections', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'reason', o.reason, 'filed_at', o.filed_at)
                ORDER BY o.id), '[]')
                FROM publicity_objections o WHERE o.publicity_id = pb.id))
            FROM publicity pb WHERE pb.application_id = a.id),
        'hospital_conclusion', hospital_conclusion(a.id),
        'confirmation', a.confirmation,
        'confirmed_at', a.confirmed_at,
        'confirmation_reason', a.confirmation_reason)
    FROM applications a JOIN regions r ON r.code = a.region
    WHERE a.id = app
$$;

-- The agency confirms or overturns a hospital's result (POST
-- /agency/applications/{id}/confirm), in one call and one transaction.
-- Only the agency of the person's region (r; NULL: an admin) decides:
-- the qualification is that region's (R-CER-13); the agency of the
-- hospital's region may read the archive but not decide.
--   approved: confirm -> confirmed; overturn -> the result is void (S4
--     三): rejected with the reason, the qualification ended 'overturned'
--     (end_qualification: status revoked, SMS).
--   rejected: confirm -> confirmed; overturn -> overturn_not_allowed (the
--     person's remedy is the objection procedure).
--   still in review (benefit_waits_confirmation, or a notice objected
--     to): confirm -> conclude_application(approve), an objected notice
--     ended; overturn -> conclude_application(reject), notice withdrawn.
-- Returns {"ok": agency_application_json} or {"error", "field"?}.
CREATE OR REPLACE FUNCTION confirm_application(app bigint, r text,
    p_decision text, p_reason text, actor bigint, p_role text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    q qualifications%ROWTYPE;
    overturn boolean := p_decision = 'overturn';
    why text := nullif(btrim(p_reason), '');
BEGIN
    SELECT * INTO a FROM applications WHERE id = app FOR UPDATE;
    IF NOT FOUND OR (r IS NOT NULL AND a.region <> r) THEN
        RETURN jsonb_build_object('error', 'application_not_found',
            'field', 'id');
    END IF;
    -- Pending, and a result still standing: a withdrawn application
    -- (or a draft, returned) has none to confirm.
    IF a.confirmation IS DISTINCT FROM 'pending'
       OR a.status NOT IN ('submitted', 'in_review', 'approved', 'rejected') THEN
        RETURN jsonb_build_object('error', 'not_awaiting_confirmation');
    END IF;
    IF overturn AND why IS NULL THEN
        RETURN jsonb_build_object('error', 'field_required',
            'field', 'reason', 'args', jsonb_build_array('不予确认的理由'));
    END IF;
    IF overturn AND a.status = 'rejected' THEN
        RETURN jsonb_build_object('error', 'overturn_not_allowed');
    END IF;
    UPDATE applications SET confirmation = CASE WHEN overturn
            THEN 'overturned' ELSE 'confirmed' END,
        confirmed_by = actor, confirmed_at = now(),
        confirmation_reason = why, updated_at = now()
    WHERE id = app;
    INSERT INTO events (application_id, type, actor_user, actor_role, data)
    VALUES (app, CASE WHEN overturn THEN 'overturned' ELSE 'confirmed' END,
        actor, p_role, CASE WHEN overturn
            THEN jsonb_build_object('reason', why) ELSE '{}' END);
    IF a.status = 'approved' AND overturn THEN
        UPDATE applications SET status = 'rejected', decision_reason = why,
            decision_reason_code = NULL, updated_at = now() WHERE id = app;
        SELECT * INTO q FROM qualifications WHERE application_id = app
            AND status = 'active' ORDER BY id DESC LIMIT 1;
        IF FOUND THEN
            -- One that has not begun (the 1st of next month) ends on its
            -- first day, as the agency's own end does: it never starts.
            PERFORM end_qualification(q.id, 'overturned',
                greatest(cn_today(), q.valid_from), actor, p_role, why);
        END IF;
    ELSIF a.status IN ('submitted', 'in_review') THEN
        UPDATE publicity SET state = CASE WHEN overturn THEN 'withdrawn'
                ELSE 'ended' END, closed_at = now()
        WHERE application_id = app AND state IN ('open', 'objected');
        PERFORM conclude_application(app, NOT overturn, NULL,
            coalesce(why, '不符合认定标准'));
    END IF;
    RETURN jsonb_build_object('ok', agency_application_json(app));
END $$;
