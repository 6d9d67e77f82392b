-- 72_panel.sql -- hospital panels and the public notice (R-CER-10,
-- S2 二(二)): quota diseases of a region in panel mode wait at their
-- certifying hospital, whose panel of experts decides; an approval is
-- posted publicly for publicity_working_days working days, then (no
-- objection) the qualification is made from the 1st of the next month;
-- an objection holds the case for the agency (R-CER-11).  How files in
-- sql/fn/ are applied: see 10_util.sql.

-- A name for public pages (API.md: 王*明): first and last character kept,
-- the middle masked; two characters keep the first (王*).
CREATE OR REPLACE FUNCTION mask_name(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL
                WHEN length(s) <= 1 THEN '*'
                WHEN length(s) = 2 THEN left(s, 1) || '*'
                ELSE left(s, 1) || repeat('*', length(s) - 2) || right(s, 1) END
$$;

-- Is day d a working day (the calendar table, else Monday to Friday; the
-- same reading as add_working_days)?
CREATE OR REPLACE FUNCTION is_working_day(d date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT c.kind = 'workday' FROM calendar c WHERE c.day = d),
                    extract(isodow FROM d) < 6)
$$;

-- The last day of a notice posted on day d: it lasts n working days, d
-- itself the first when d is a working day, else the next working day
-- the first (a notice posted on a Saturday starts counting on Monday).
CREATE OR REPLACE FUNCTION publicity_ends_on(d date, n integer) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT add_working_days(d, n - CASE WHEN is_working_day(d) THEN 1 ELSE 0 END)
$$;

-- The notice of application app as the API shows it, or NULL.
CREATE OR REPLACE FUNCTION publicity_json(app bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', pb.id, 'starts_on', pb.starts_on,
        'ends_on', pb.ends_on, 'state', pb.state)
    FROM publicity pb WHERE pb.application_id = app
$$;

-- One item of GET /hospital/panel-cases (ID number masked).
CREATE OR REPLACE FUNCTION panel_case_json(app bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('application_id', a.id,
        'person', jsonb_build_object('name', p.name, 'id_number',
                                     shown_id(p.id_number_masked, p.id_number)),
        'disease', jsonb_build_object('code', d.code, 'name', d.name),
        'status', a.status, 'submitted_at', a.submitted_at,
        'publicity', publicity_json(a.id),
        'conclusion', pd.conclusion)
    FROM applications a JOIN persons p ON p.id = a.person_id
    JOIN diseases d ON d.code = a.disease
    LEFT JOIN panel_decisions pd ON pd.application_id = a.id
    WHERE a.id = app
$$;

-- One case of GET /hospital/panel-cases/{id}: the queue's item and the
-- application's materials (application_materials_json, 70_hospital.sql),
-- which the panel reviews before deciding.  No scoping (callers scope).
CREATE OR REPLACE FUNCTION panel_case_detail_json(app bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT panel_case_json(app)
        || jsonb_build_object('materials', application_materials_json(app))
$$;

-- One item of the public GET /hospital/publicity: the name masked, no ID
-- number.
-- (PL/pgSQL, not SQL: called once per row of the public list, whose
-- plan PL/pgSQL caches; a non-inlined SQL function is planned at every
-- call -- measured 327 req/s for a page of 20, see tests/bench/run.sh.)
CREATE OR REPLACE FUNCTION publicity_item_json(pid bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT jsonb_build_object('id', pb.id, 'name', mask_name(p.name),
        'disease', jsonb_build_object('code', d.code, 'name', d.name),
        'institution', jsonb_build_object('code', i.code, 'name', i.name),
        'region', jsonb_build_object('code', r.code, 'name', r.name),
        'starts_on', pb.starts_on, 'ends_on', pb.ends_on)
    FROM publicity pb JOIN applications a ON a.id = pb.application_id
    JOIN persons p ON p.id = a.person_id
    JOIN diseases d ON d.code = a.disease
    JOIN institutions i ON i.code = pb.institution
    JOIN regions r ON r.code = pb.region
    WHERE pb.id = pid);
END $$;

-- The experts of hospital inst who may sit on its panel: active, account
-- enabled, title at least panel_min_title.  The region whose
-- panel_min_title and panel_min_size apply is the one panel_decide
-- checks the members against: the application's (app, a panel case of
-- inst; a province-wide hospital's case of another region has that
-- region's rules, R-CER-13); without an application, the hospital's own
-- region.  NULL when app is not a panel case of inst.
DROP FUNCTION IF EXISTS panel_experts_json(text);
CREATE OR REPLACE FUNCTION panel_experts_json(inst text, app bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'min_title', policy_value(k.region, 'panel_min_title'),
        'min_size', policy_value(k.region, 'panel_min_size')::int,
        'items', coalesce((SELECT jsonb_agg(jsonb_build_object('id', e.user_id,
                'name', coalesce(nullif(u.display_name, ''), u.login),
                'title', e.title,
                'specialties', coalesce((SELECT jsonb_agg(s.specialty
                    ORDER BY s.specialty) FROM expert_specialties s
                    WHERE s.expert_id = e.user_id), '[]'))
                ORDER BY title_rank(e.title) DESC, e.user_id)
            FROM experts e JOIN users u ON u.id = e.user_id
            WHERE u.institution = inst AND e.status = 'active'
              AND NOT u.disabled
              AND title_rank(e.title) >= title_rank(policy_value(k.region,
                                                    'panel_min_title'))),
            '[]'))
    FROM (SELECT i.region FROM institutions i
          WHERE i.code = inst AND app IS NULL
          UNION ALL
          SELECT a.region FROM applications a
          WHERE a.id = app AND a.certifying_institution = inst
            AND a.review_mode = 'panel') k
$$;

-- Why expert ex may not sit on hospital inst's panel (region reg's
-- minimum title), in words, or NULL when ex may.
CREATE OR REPLACE FUNCTION panel_member_refusal(inst text, reg text, ex bigint)
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN e.user_id IS NULL OR u.institution IS DISTINCT FROM inst
            THEN format('编号 %s 不是本院的认定专家', ex)
        WHEN e.status <> 'active' OR u.disabled
            THEN format('%s（编号 %s）目前不能参加评审',
                        coalesce(nullif(u.display_name, ''), u.login), ex)
        WHEN title_rank(e.title) < title_rank(policy_value(reg, 'panel_min_title'))
            THEN format('%s（编号 %s）职称为%s，须为%s及以上',
                        coalesce(nullif(u.display_name, ''), u.login),
                        ex, e.title, policy_value(reg, 'panel_min_title'))
        END
    FROM (SELECT ex AS id) k LEFT JOIN experts e ON e.user_id = k.id
    LEFT JOIN users u ON u.id = e.user_id
$$;

-- The refusal of a panel's members and conclusion, or NULL: each member
-- an allowed expert of the hospital, none twice (422 panel_member_invalid
-- naming who and why), at least panel_min_size (422 panel_too_small),
-- and the conclusion the majority's (S2 二(二): 专家组集体评审): an
-- approval needs more approve opinions than reject ones, a rejection
-- must not go against such a majority (a tie is no approval).
CREATE OR REPLACE FUNCTION panel_refusal(inst text, reg text, members jsonb,
    p_conclusion text) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    m jsonb;
    why text;
    seen bigint[] := '{}';
    yes int := 0;
    no int := 0;
    ex bigint;
BEGIN
    FOR m IN SELECT * FROM jsonb_array_elements(members) LOOP
        ex := (m->>'expert_id')::bigint;
        why := CASE WHEN ex = ANY(seen)
                    THEN format('编号 %s 重复', ex)
                    ELSE panel_member_refusal(inst, reg, ex) END;
        IF why IS NOT NULL THEN
            RETURN jsonb_build_object('error', 'panel_member_invalid',
                'field', 'members', 'args', jsonb_build_array(why));
        END IF;
        seen := seen || ex;
        IF m->>'opinion' = 'approve' THEN
            yes := yes + 1;
        ELSE
            no := no + 1;
        END IF;
    END LOOP;
    IF yes + no < policy_value(reg, 'panel_min_size')::int THEN
        RETURN jsonb_build_object('error', 'panel_too_small',
            'field', 'members',
            'args', jsonb_build_array(policy_value(reg, 'panel_min_size')));
    END IF;
    IF (p_conclusion = 'approve') <> (yes > no) THEN
        RETURN jsonb_build_object('error', 'panel_member_invalid',
            'field', 'conclusion', 'args', jsonb_build_array(format(
                '结论须与多数成员意见一致（同意 %s 人，不同意 %s 人）', yes, no)));
    END IF;
    RETURN NULL;
END $$;

-- The result of a hospital's certification goes to the agency for
-- confirmation (R-CER-11): confirmation pending and the event.
CREATE OR REPLACE FUNCTION await_confirmation(app bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE applications SET confirmation = 'pending', updated_at = now()
    WHERE id = app;
    INSERT INTO events (application_id, type, actor_role)
    VALUES (app, 'awaiting_confirmation', 'system');
END $$;

-- POST /hospital/panel-decisions: the panel of hospital inst decides
-- application app (R-CER-10, S2 二(二)).  Checks, in this order: an
-- application certified by inst in panel mode (else 404
-- application_not_found: another hospital's is not seen), waiting for it
-- (409 not_awaiting_certification), the hospital may certify it
-- (certification_refusal: 403 institution_not_authorized), the members
-- and conclusion (panel_refusal).  Records the decision and each
-- member's opinion (event panel_decided); approve: the public notice from
-- today (publicity_ends_on) and status in_review (event
-- publicity_started); reject: conclude_application with the reason, the
-- agency to confirm.  Returns {"ok": {application_id, conclusion,
-- status, publicity}} or a refusal.
CREATE OR REPLACE FUNCTION panel_decide(app bigint, actor bigint, inst text,
    members jsonb, p_conclusion text, p_opinion text, p_reason text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    reg text;
    refusal jsonb;
    iname text;
    t date := cn_today();
    ends date;
    -- A blank reason is none (the handler refuses one already).
    why text := nullif(btrim(p_reason), '');
BEGIN
    SELECT x.* INTO a FROM applications x
    WHERE x.id = app AND x.certifying_institution = inst
      AND x.review_mode = 'panel' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'application_not_found',
                                  'field', 'application_id');
    END IF;
    IF a.status <> 'submitted'
       OR EXISTS (SELECT 1 FROM panel_decisions WHERE application_id = app) THEN
        RETURN jsonb_build_object('error', 'not_awaiting_certification');
    END IF;
    IF p_conclusion = 'reject' AND why IS NULL THEN
        RETURN jsonb_build_object('error', 'field_required',
            'field', 'reason', 'args', jsonb_build_array('不予认定的理由'));
    END IF;
    SELECT p.region INTO reg FROM persons p WHERE p.id = a.person_id;
    refusal := coalesce(certification_refusal(inst, a.disease, reg),
                        panel_refusal(inst, a.region, members, p_conclusion));
    IF refusal IS NOT NULL THEN
        RETURN refusal;
    END IF;
    SELECT name INTO iname FROM institutions WHERE code = inst;
    INSERT INTO panel_decisions (application_id, institution, conclusion,
        opinion, reason, decided_by)
    VALUES (app, inst, p_conclusion, p_opinion, why, actor);
    INSERT INTO panel_members (application_id, expert_id, opinion, note)
    SELECT app, (m->>'expert_id')::bigint, m->>'opinion', m->>'note'
    FROM jsonb_array_elements(members) m;
    INSERT INTO events (application_id, type, actor_user, actor_role, data)
    VALUES (app, 'panel_decided', actor, 'hospital', jsonb_build_object(
        'conclusion', p_conclusion, 'institution_name', iname));
    IF p_conclusion = 'approve' THEN
        ends := publicity_ends_on(t,
            policy_value(a.region, 'publicity_working_days')::int);
        INSERT INTO publicity (application_id, institution, region,
            starts_on, ends_on)
        VALUES (app, inst, a.region, t, ends);
        UPDATE applications SET status = 'in_review', updated_at = now()
        WHERE id = app;
        INSERT INTO events (application_id, type, actor_role, data)
        VALUES (app, 'publicity_started', 'system', jsonb_build_object(
            'starts_on', t, 'ends_on', ends));
    ELSE
        PERFORM conclude_application(app, false, NULL, why);
        PERFORM await_confirmation(app);
    END IF;
    RETURN jsonb_build_object('ok', jsonb_build_object('application_id', app,
        'conclusion', p_conclusion,
        'status', (SELECT status FROM applications WHERE id = app),
        'publicity', publicity_json(app)));
END $$;

-- POST /hospital/publicity/{id}/objection, by anyone (R-CER-10): an open
-- notice is closed as objected, the objection kept (source: the keyed
-- hash of the caller's address, never the address), and the case waits
-- for the agency (confirmation pending).  Returns {"ok": {id,
-- received_at}}, or 404 publicity_not_found, 409 publicity_closed.
-- Lock order, the same on every path that touches a notice (withdrawal
-- and its trigger withdraw_publicity, run_publicity, panel_decide,
-- confirm_application): the application first, then the notice; the
-- other way round, an objection racing a withdrawal was a deadlock.
CREATE OR REPLACE FUNCTION object_publicity(pid bigint, p_reason text,
    p_contact text, p_addr text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    pb publicity%ROWTYPE;
    o publicity_objections%ROWTYPE;
BEGIN
    -- A notice's application never changes: read unlocked, lock it,
    -- then the notice.
    PERFORM 1 FROM applications a
    WHERE a.id = (SELECT x.application_id FROM publicity x WHERE x.id = pid)
    FOR UPDATE;
    SELECT * INTO pb FROM publicity WHERE id = pid FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'publicity_not_found', 'field', 'id');
    END IF;
    IF pb.state <> 'open' THEN
        RETURN jsonb_build_object('error', 'publicity_closed');
    END IF;
    UPDATE publicity SET state = 'objected', closed_at = now() WHERE id = pid;
    INSERT INTO publicity_objections (publicity_id, reason, contact, source)
    VALUES (pid, p_reason, p_contact, encode(sha256(convert_to(
        (SELECT key FROM publicity_source_key) || coalesce(p_addr, '-'),
        'UTF8')), 'hex'))
    RETURNING * INTO o;
    INSERT INTO events (application_id, type, actor_role)
    VALUES (pb.application_id, 'publicity_objection', 'system');
    PERFORM await_confirmation(pb.application_id);
    RETURN jsonb_build_object('ok', jsonb_build_object('id', o.id,
        'received_at', o.filed_at));
END $$;

-- The publicity job (the dispatcher's step, `mtcertctl publicity run`):
-- up to p_batch open notices whose last day (ends_on) is before today
-- (Asia/Shanghai) are ended: event publicity_ended, then the approval
-- (conclude_application: the qualification from benefit_start, the 1st of
-- next month where quota_benefit_start = next_month) and the agency's
-- confirmation pending -- or, where benefit_waits_confirmation, the case
-- stays in_review until the agency confirms.  Rows locked FOR UPDATE SKIP
-- LOCKED: several dispatchers never end one twice, and an ended notice
-- is no longer open (idempotent).  The application locked first, then
-- the notice (the order of object_publicity; FOR UPDATE OF locks in the
-- order named): a case a withdrawal holds is skipped, left for the next
-- run, never waited for.  Returns how many it ended: call again while
-- > 0.
CREATE OR REPLACE FUNCTION run_publicity(p_batch int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    pb publicity%ROWTYPE;
    n int := 0;
BEGIN
    FOR pb IN SELECT x.* FROM publicity x
        JOIN applications a ON a.id = x.application_id
        WHERE x.state = 'open' AND x.ends_on < cn_today()
        ORDER BY x.ends_on, x.id LIMIT p_batch FOR UPDATE OF a, x SKIP LOCKED
    LOOP
        UPDATE publicity SET state = 'ended', closed_at = now()
        WHERE id = pb.id;
        INSERT INTO events (application_id, type, actor_role)
        VALUES (pb.application_id, 'publicity_ended', 'system');
        IF (SELECT status FROM applications WHERE id = pb.application_id)
           = 'in_review'
           AND NOT policy_value(pb.region, 'benefit_waits_confirmation')::boolean
        THEN
            PERFORM conclude_application(pb.application_id, true, NULL, NULL);
        END IF;
        PERFORM await_confirmation(pb.application_id);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- A notice whose application is withdrawn meanwhile is withdrawn too
-- (off the public page).  The application's row is locked already (the
-- UPDATE that fired this), then the notice: the lock order of
-- object_publicity.
CREATE OR REPLACE FUNCTION withdraw_publicity() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE publicity SET state = 'withdrawn', closed_at = now()
    WHERE application_id = NEW.id AND state = 'open';
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS applications_withdraw_publicity ON applications;
CREATE TRIGGER applications_withdraw_publicity AFTER UPDATE OF status
    ON applications FOR EACH ROW WHEN (NEW.status = 'withdrawn')
    EXECUTE FUNCTION withdraw_publicity();
