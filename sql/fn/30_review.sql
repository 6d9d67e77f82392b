-- 30_review.sql -- the review engine (R-CER-1 ... R-CER-7): the expert
-- draw, pushes, expiry, refusal, decisions by stage, the resulting
-- qualification and the dispatcher's batches.  Only mtcert-dispatcher
-- pushes and expires; PostgreSQL decides every race with a conditional
-- update.  How files in sql/fn/ are applied: see 10_util.sql.
-- Lock order, in every function here and in withdraw_application: an
-- assignment, then its expert (the miss count), then the application
-- (then its objection: sql/fn/80_objection.sql);
-- push_assignment locks only the application (it creates its assignment),
-- expire_batch goes in expert order.  One order: no deadlock.

-- Title order for the pool rule (R-CER-1: intermediate or higher).
CREATE OR REPLACE FUNCTION title_rank(t text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE t WHEN '初级' THEN 1 WHEN '中级' THEN 2 WHEN '副高' THEN 3
                  WHEN '正高' THEN 4 END
$$;

-- The experts who may review application app at its push_stage
-- (R-CER-1 ... R-CER-3): active (never a disqualified one), title at
-- least the region's expert_min_title, the disease's specialty, not of
-- the applicant's designated hospital, and never one who decided it at
-- any stage (the re-review is another expert's), nor one who refused
-- it (a refusal is an explicit no, e.g. a conflict of interest: asked
-- again and again, one application nobody takes would cost a whole
-- specialty pool its qualification through miss_limit).  Each comes
-- with:
--   outside: 1 for an expert of another region of the province (only
--     when the region's province_pool_fallback policy allows it: the
--     province is the first 2 digits of the region code), else 0;
--   held: how many times this expert already held it (missed or
--     cancelled): the draw takes the least held first, so everybody is
--     asked once before anybody is asked again -- a new round among
--     those who let it expire, rather than an application that waits for
--     good once each expert has missed it; when nobody is left, it waits
--     (push_assignment: unassigned, tell_waiting, the agency's stuck);
--   preference: 1 for an expert of a hospital that already held it (from
--     stage 2 on another hospital when the pool allows), else 0.
-- The return type changed (issue 9): the old one is dropped first.
DROP FUNCTION IF EXISTS draw_expert(bigint);
DROP FUNCTION IF EXISTS eligible_experts(bigint);
CREATE OR REPLACE FUNCTION eligible_experts(app bigint)
RETURNS TABLE (expert_id bigint, hospital text, outside integer,
               held integer, preference integer)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a applications%ROWTYPE;
    spec text;
    min_rank integer;
    province boolean;
BEGIN
    SELECT * INTO a FROM applications WHERE id = app;
    SELECT specialty INTO spec FROM diseases WHERE code = a.disease;
    min_rank := title_rank(policy_value(a.region, 'expert_min_title'));
    province := policy_value(a.region, 'province_pool_fallback') = 'true';
    RETURN QUERY
    WITH h AS MATERIALIZED (SELECT x.expert_id, x.hospital, x.state
                            FROM assignments x WHERE x.application_id = app)
    SELECT e.user_id, u.institution,
           CASE WHEN i.region = a.region THEN 0 ELSE 1 END,
           (SELECT count(*)::int FROM h WHERE h.expert_id = e.user_id),
           CASE WHEN EXISTS (SELECT 1 FROM h
                             WHERE h.hospital = u.institution) THEN 1 ELSE 0 END
    FROM expert_specialties s
    JOIN experts e ON e.user_id = s.expert_id
    JOIN users u ON u.id = e.user_id AND NOT u.disabled
    JOIN institutions i ON i.code = u.institution
    WHERE s.specialty = spec
      AND (i.region = a.region
           OR (province AND left(i.region, 2) = left(a.region, 2)))
      AND e.status = 'active'
      AND title_rank(e.title) >= min_rank
      AND u.institution <> a.designated_institution
      AND NOT EXISTS (SELECT 1 FROM h WHERE h.expert_id = e.user_id
                      AND h.state IN ('decided', 'accepted', 'pushed',
                                      'refused'));
END $$;

-- The draw: one expert uniformly at random among the first eligible ones
-- in (outside, held, preference) order -- the region's own pool before
-- the province's, then by round, then another hospital -- with the size
-- of the pool drawn from, the round (held + 1), whether the expert is of
-- another region, and the draw recorded (record_draw, 15_draw.sql: the
-- pool's sorted ids and the seed, so `mtcertctl draw verify` recomputes
-- the choice).  NULL when nobody is eligible (and nothing recorded).
CREATE OR REPLACE FUNCTION draw_expert(app bigint, OUT expert_id bigint,
    OUT hospital text, OUT pool integer, OUT round integer,
    OUT outside boolean, OUT draw_id bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    a applications%ROWTYPE;
    ids bigint[];
    hospitals text[];
    o integer;
    h integer;
    d draws%ROWTYPE;
    i integer;
BEGIN
    SELECT * INTO a FROM applications WHERE id = app;
    -- One pass over the eligible: the first group, sorted by id (the
    -- pool as recorded), with each one's hospital.
    WITH e AS MATERIALIZED (SELECT * FROM eligible_experts(app)),
         f AS (SELECT e.outside, e.held, e.preference FROM e
               ORDER BY 1, 2, 3 LIMIT 1)
    SELECT array_agg(e.expert_id ORDER BY e.expert_id),
           array_agg(e.hospital ORDER BY e.expert_id),
           min(f.outside), min(f.held)
    INTO ids, hospitals, o, h
    FROM e JOIN f USING (outside, held, preference);
    IF ids IS NULL THEN
        RETURN;
    END IF;
    d := record_draw('push', a.region, ids, 1, app, a.push_stage);
    i := array_position(ids, d.chosen[1]);
    expert_id := ids[i];
    hospital := hospitals[i];
    pool := cardinality(ids);
    round := h + 1;
    outside := o = 1;
    draw_id := d.id;
END $$;

-- An application waiting for an expert (a the row, unassigned_since
-- set): once it has waited the region's unassigned_notice_hours, the
-- applicant is told by SMS, once per application (the dispatcher retries
-- waiting applications on its tick, so this runs without a timer of its
-- own).  The agency's queue marks it stuck from then on.
CREATE OR REPLACE FUNCTION tell_waiting(a applications) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF a.unassigned_notice_at IS NOT NULL OR a.unassigned_since >
       now() - make_interval(hours => policy_value(a.region,
                                     'unassigned_notice_hours')::int) THEN
        RETURN;
    END IF;
    UPDATE applications SET unassigned_notice_at = now() WHERE id = a.id;
    INSERT INTO sms_outbox (to_phone, template, body)
    SELECT a.phone, 'application_waiting', format(
        '【门诊慢特病】您的“%s”认定申请（编号%s）暂无可分配的认定专家，医保经办机构正在安排，请耐心等待，也可登录查看进度。',
        d.name, a.id)
    FROM diseases d WHERE d.code = a.disease;
    INSERT INTO events (application_id, type, actor_role, data)
    VALUES (a.id, 'waiting_notice', 'system',
            jsonb_build_object('stage', a.push_stage));
END $$;

-- Push application app to a drawn expert, if it needs one (push_stage).
-- One transaction: the assignment (pushed, deadline = now + the region's
-- accept_window_seconds), the event with the pool size, the SMS to the
-- expert, the progress view patched.  The partial unique index
-- assignments_one_live makes a second live assignment for the same stage
-- impossible, whoever calls.
-- Returns {"assignment","expert","region","deadline_ms","stage"}, or
-- {"unassigned": true}, or NULL when there was nothing to do.
CREATE OR REPLACE FUNCTION push_assignment(app bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    d record;
    asg assignments%ROWTYPE;
    phone text;
    dname text;
    asg_json jsonb;
    ev bigint;
BEGIN
    SELECT * INTO a FROM applications WHERE id = app FOR UPDATE SKIP LOCKED;
    IF NOT FOUND OR a.push_stage IS NULL THEN
        RETURN NULL;
    END IF;
    IF a.status NOT IN ('submitted', 'in_review') THEN
        -- Withdrawn or decided meanwhile: nothing to push, ever.
        UPDATE applications SET push_stage = NULL, unassigned_since = NULL
        WHERE id = app;
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM assignments x WHERE x.application_id = app
               AND x.stage = a.push_stage AND x.state IN ('pushed', 'accepted')) THEN
        -- An objection's next empty seat, else nothing (80_objection.sql).
        UPDATE applications SET push_stage = objection_next_seat(app)
        WHERE id = app;
        RETURN NULL;
    END IF;
    -- An objection's panel: its one draw for every seat (80_objection.sql).
    asg_json := objection_push_panel(a);
    IF asg_json IS NOT NULL THEN
        RETURN asg_json;
    END IF;
    SELECT * INTO d FROM draw_expert(app);
    IF d.expert_id IS NULL THEN
        IF a.unassigned_since IS NULL THEN
            UPDATE applications SET unassigned_since = now() WHERE id = app;
            INSERT INTO events (application_id, type, actor_role, data)
            VALUES (app, 'unassigned', 'system',
                    jsonb_build_object('stage', a.push_stage))
            RETURNING id INTO ev;
            PERFORM patch_application_view(app, ev);
        ELSE
            PERFORM tell_waiting(a);
        END IF;
        RETURN jsonb_build_object('unassigned', true);
    END IF;
    INSERT INTO assignments (application_id, stage, expert_id, hospital,
                             pool_size, draw_id, accept_deadline)
    VALUES (app, a.push_stage, d.expert_id, d.hospital, d.pool, d.draw_id,
            now() + make_interval(secs => policy_value(a.region,
                'accept_window_seconds')::int))
    RETURNING * INTO asg;
    UPDATE applications SET status = 'in_review',
        stage = least(a.push_stage, objection_first_stage()),
        -- An objection's next empty seat, else none (80_objection.sql).
        push_stage = objection_next_seat(app), unassigned_since = NULL,
        updated_at = now()
    WHERE id = app;
    SELECT name INTO dname FROM diseases WHERE code = a.disease;
    SELECT ex.phone INTO phone FROM experts ex WHERE ex.user_id = d.expert_id;
    IF phone IS NOT NULL THEN
        INSERT INTO sms_outbox (to_phone, template, body)
        VALUES (phone, 'task_pushed', format(
            '【门诊慢特病】您有一件“%s”认定任务（任务号%s），请在%s前登录系统受理。',
            dname, asg.id, to_char(asg.accept_deadline AT TIME ZONE
            'Asia/Shanghai', 'MM月DD日HH24:MI')));
    END IF;
    INSERT INTO events (application_id, type, actor_role, data)
    VALUES (app, 'pushed', 'system', jsonb_build_object('stage', asg.stage,
            'assignment', asg.id, 'pool_size', d.pool, 'round', d.round,
            'province', d.outside, 'draw', d.draw_id))
    RETURNING id INTO ev;
    -- The view's status, dates and timeline set, not the whole view built
    -- again (sql/fn/20_applications.sql: patch_application_view).
    PERFORM patch_application_view(app, ev);
    RETURN jsonb_build_object('assignment', asg.id, 'expert', asg.expert_id,
        'region', a.region, 'stage', asg.stage,
        'deadline_ms', (extract(epoch FROM asg.accept_deadline) * 1000)::bigint);
END $$;

-- A refusal or an expiry (R-CER-3, R-CER-4): one more consecutive miss;
-- at the region's miss_limit the expert leaves the pool and the hospital
-- is told.  Returns true when the expert was disqualified now.
CREATE OR REPLACE FUNCTION count_miss(expert bigint, region text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    misses integer;
    inst text;
    cphone text;
    lim integer := policy_value(region, 'miss_limit')::int;
BEGIN
    UPDATE experts SET consecutive_misses = consecutive_misses + 1
    WHERE user_id = expert AND status = 'active'
    RETURNING consecutive_misses INTO misses;
    IF misses IS NULL OR misses < lim THEN
        RETURN false;
    END IF;
    UPDATE experts SET status = 'disqualified', status_changed_at = now()
    WHERE user_id = expert;
    SELECT u.institution, i.contact_phone INTO inst, cphone FROM users u
    JOIN institutions i ON i.code = u.institution WHERE u.id = expert;
    INSERT INTO notifications (institution, kind, body)
    VALUES (inst, 'expert_disqualified', format(
        '贵院认定专家（编号%s）连续%s次未受理或拒绝受理认定任务，已取消其认定专家资格。',
        expert, lim));
    IF cphone IS NOT NULL THEN
        INSERT INTO sms_outbox (to_phone, template, body)
        VALUES (cphone, 'expert_disqualified', format(
            '【门诊慢特病】贵院认定专家（编号%s）连续%s次未受理或拒绝受理，已取消其认定专家资格。',
            expert, lim));
    END IF;
    RETURN true;
END $$;

-- Expire assignment asg if it is still pushed and past its deadline
-- (idempotent: anything else is left alone).  Returns
-- {"expired":true,"application":..} or {"expired":false,"deadline_ms":..}
-- when not yet due, or NULL when already settled.
CREATE OR REPLACE FUNCTION expire_assignment(asg bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x assignments%ROWTYPE;
    r text;
BEGIN
    UPDATE assignments SET state = 'expired', ended_at = now()
    WHERE id = asg AND state = 'pushed' AND accept_deadline <= now()
    RETURNING * INTO x;
    IF NOT FOUND THEN
        SELECT * INTO x FROM assignments WHERE id = asg;
        IF FOUND AND x.state = 'pushed' THEN
            RETURN jsonb_build_object('expired', false, 'deadline_ms',
                (extract(epoch FROM x.accept_deadline) * 1000)::bigint);
        END IF;
        RETURN NULL;
    END IF;
    SELECT region INTO r FROM applications WHERE id = x.application_id;
    PERFORM count_miss(x.expert_id, r);
    UPDATE applications SET push_stage = x.stage WHERE id = x.application_id;
    INSERT INTO events (application_id, type, actor_role, data)
    VALUES (x.application_id, 'expired', 'system',
            jsonb_build_object('stage', x.stage, 'assignment', x.id));
    RETURN jsonb_build_object('expired', true, 'application', x.application_id,
                              'region', r, 'stage', x.stage);
END $$;

-- Why a task operation found nothing to change, as the refusal the API
-- answers (a row of shared/mt_error.c): task_not_found (not this
-- expert's), task_already_accepted, task_already_decided,
-- task_not_accepted (still pushed: a decision before accepting), or
-- task_unavailable (refused, expired, cancelled or past its deadline).
-- It replaced task_error, which returned internal tokens for C to map.
DROP FUNCTION IF EXISTS task_error(bigint, bigint);
CREATE OR REPLACE FUNCTION task_refusal(asg bigint, expert bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT CASE
        WHEN x.state = 'accepted'
            THEN jsonb_build_object('error', 'task_already_accepted')
        WHEN x.state = 'decided'
            THEN jsonb_build_object('error', 'task_already_decided')
        WHEN x.state = 'pushed' AND x.accept_deadline > now()
            THEN jsonb_build_object('error', 'task_not_accepted')
        ELSE jsonb_build_object('error', 'task_unavailable') END
        FROM assignments x WHERE x.id = asg AND x.expert_id = expert),
        jsonb_build_object('error', 'task_not_found', 'field', 'aid'))
$$;

-- The expert accepts (R-CER-3): only while pushed, theirs and before the
-- deadline; the conditional update decides the race with expiry.
CREATE OR REPLACE FUNCTION accept_assignment(asg bigint, expert bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x assignments%ROWTYPE;
    r text;
BEGIN
    UPDATE assignments SET state = 'accepted', accepted_at = now()
    WHERE id = asg AND expert_id = expert AND state = 'pushed'
      AND accept_deadline > now()
    RETURNING * INTO x;
    IF NOT FOUND THEN
        RETURN task_refusal(asg, expert);
    END IF;
    UPDATE experts SET consecutive_misses = 0 WHERE user_id = expert;
    SELECT region INTO r FROM applications WHERE id = x.application_id;
    INSERT INTO events (application_id, type, actor_user, actor_role, data)
    VALUES (x.application_id, 'accepted', expert, 'expert',
            jsonb_build_object('stage', x.stage, 'assignment', x.id));
    RETURN jsonb_build_object('assignment', x.id, 'application',
        x.application_id, 'stage', x.stage, 'region', r);
END $$;

-- The expert refuses (R-CER-3): counted as a miss; the stage needs
-- another expert.
CREATE OR REPLACE FUNCTION refuse_assignment(asg bigint, expert bigint, why text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x assignments%ROWTYPE;
    r text;
    gone boolean;
BEGIN
    UPDATE assignments SET state = 'refused', ended_at = now(),
        refuse_reason = why
    WHERE id = asg AND expert_id = expert AND state = 'pushed'
      AND accept_deadline > now()
    RETURNING * INTO x;
    IF NOT FOUND THEN
        RETURN task_refusal(asg, expert);
    END IF;
    SELECT region INTO r FROM applications WHERE id = x.application_id;
    gone := count_miss(expert, r);
    UPDATE applications SET push_stage = x.stage WHERE id = x.application_id;
    INSERT INTO events (application_id, type, actor_user, actor_role, data)
    VALUES (x.application_id, 'refused', expert, 'expert',
            jsonb_build_object('stage', x.stage, 'assignment', x.id));
    RETURN jsonb_build_object('assignment', x.id, 'application',
        x.application_id, 'region', r, 'disqualified', gone);
END $$;

-- The first day of benefits for an approval decided on day d (R-BEN-1,
-- R-CER-10): the decision day, or the 1st of next month where the
-- region's policy says so (quota diseases have their own policy).
CREATE OR REPLACE FUNCTION benefit_start(app bigint, d date) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a applications%ROWTYPE;
    q boolean;
    rule text;
BEGIN
    SELECT * INTO a FROM applications WHERE id = app;
    SELECT quota INTO q FROM diseases WHERE code = a.disease;
    rule := policy_value(a.region, CASE WHEN q THEN 'quota_benefit_start'
                                   ELSE 'benefit_start' END);
    IF rule = 'next_month' THEN
        RETURN (date_trunc('month', d) + interval '1 month')::date;
    END IF;
    RETURN d;
END $$;

-- The final outcome (R-CER-5, R-CER-7, R-CER-11): approved with a
-- qualification, or rejected with the reason; the SMS either way.
CREATE OR REPLACE FUNCTION conclude_application(app bigint, approve boolean,
    p_code text, p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    dis diseases%ROWTYPE;
    vfrom date;
BEGIN
    SELECT * INTO a FROM applications WHERE id = app;
    SELECT * INTO dis FROM diseases WHERE code = a.disease;
    IF approve THEN
        vfrom := benefit_start(app, cn_today());
        UPDATE applications SET status = 'approved', decided_at = now(),
            push_stage = NULL, updated_at = now() WHERE id = app;
        INSERT INTO qualifications (person_id, disease, region, application_id,
            designated_institution, valid_from, valid_to)
        VALUES (a.person_id, a.disease, a.region, app,
            a.designated_institution, vfrom,
            (vfrom + make_interval(months =>
                disease_validity_months(a.region, a.disease)))::date - 1)
        -- Already holding one (granted meanwhile another way): kept.
        ON CONFLICT (person_id, disease) WHERE status = 'active' DO NOTHING;
        INSERT INTO sms_outbox (to_phone, template, body)
        VALUES (a.phone, 'application_approved', format(
            '【门诊慢特病】您的“%s”认定申请（编号%s）已通过，自%s起享受门诊慢特病待遇。',
            dis.name, app, vfrom));
        INSERT INTO events (application_id, type, actor_role, data)
        VALUES (app, 'approved', 'system',
                jsonb_build_object('valid_from', vfrom));
    ELSE
        UPDATE applications SET status = 'rejected', decided_at = now(),
            push_stage = NULL, decision_reason_code = p_code,
            decision_reason = p_reason, updated_at = now() WHERE id = app;
        INSERT INTO sms_outbox (to_phone, template, body)
        VALUES (a.phone, 'application_rejected', format(
            '【门诊慢特病】您的“%s”认定申请（编号%s）未通过：%s。如有异议，可在规定期限内申请复核。',
            dis.name, app, left(p_reason, 60)));
        INSERT INTO events (application_id, type, actor_role, data)
        VALUES (app, 'rejected', 'system', jsonb_build_object('reason', p_reason,
                'reason_code', p_code));
    END IF;
END $$;

-- The expert decides after accepting (R-CER-5).  single: final.  double:
-- stage 1 then a re-review at stage 2 by another expert; if they
-- disagree, a third expert decides at stage 3.
CREATE OR REPLACE FUNCTION decide_assignment(asg bigint, expert bigint, verdict text,
    note text, p_code text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x assignments%ROWTYPE;
    a applications%ROWTYPE;
    first_verdict text;
    final boolean;
BEGIN
    UPDATE assignments SET state = 'decided', ended_at = now(),
        decision = verdict, opinion = note, reason_code = p_code
    WHERE id = asg AND expert_id = expert AND state = 'accepted'
    RETURNING * INTO x;
    IF NOT FOUND THEN
        RETURN task_refusal(asg, expert);
    END IF;
    SELECT * INTO a FROM applications WHERE id = x.application_id FOR UPDATE;
    IF x.stage >= objection_first_stage() THEN
        -- An objection panel's seat: the majority (80_objection.sql).
        RETURN objection_seat_decided(x, a);
    END IF;
    IF a.review_mode = 'single' OR x.stage >= 3 THEN
        final := true;
    ELSIF x.stage = 1 THEN
        final := false;
    ELSE
        SELECT decision INTO first_verdict FROM assignments
        WHERE application_id = a.id AND stage = 1 AND state = 'decided';
        final := first_verdict = verdict;
    END IF;
    IF final THEN
        PERFORM conclude_application(a.id, verdict = 'approve', p_code,
            coalesce(nullif(note, ''), '不符合认定标准'));
    ELSE
        UPDATE applications SET push_stage = x.stage + 1, updated_at = now()
        WHERE id = a.id;
        INSERT INTO events (application_id, type, actor_user, actor_role, data)
        VALUES (a.id, 'stage_done', expert, 'expert',
                jsonb_build_object('stage', x.stage));
    END IF;
    RETURN jsonb_build_object('assignment', x.id, 'application', a.id,
        'final', final, 'region', a.region);
END $$;

-- A submission asks for the first push (stage 1).
CREATE OR REPLACE FUNCTION mark_first_push() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Experts only: onsite and panel applications wait for their hospital
    -- (certifying_institution, sql/fn/70_hospital.sql and 72_panel.sql).
    IF NEW.status = 'submitted' AND OLD.status IS DISTINCT FROM 'submitted'
       AND NEW.review_mode IN ('single', 'double') THEN
        -- Resubmitted after a return (82_return.sql): the stage that
        -- returned it is pushed again.
        NEW.push_stage := CASE WHEN OLD.status = 'returned'
                               THEN greatest(OLD.stage, 1) ELSE 1 END;
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS applications_first_push ON applications;
CREATE TRIGGER applications_first_push BEFORE UPDATE OF status ON applications
    FOR EACH ROW EXECUTE FUNCTION mark_first_push();

-- The dispatcher's batches, both in one transaction (so each
-- application's stored progress view is built once, at the commit:
-- events_refresh_view; the experts' row locks, their miss counts, are
-- held to it): expire_batch() expires each claimed assignment that is due (in expert
-- order, so concurrent batches of several dispatchers never deadlock) and
-- returns one element per id: {"id","settled":true,"application"?} once
-- nothing is left to do for it, {"id","deadline_ms"} when not due yet.
-- push_batch() then pushes the applications again (push_assignment; a
-- crash in between leaves push_stage set, and they are pushed anyway).
CREATE OR REPLACE FUNCTION expire_batch(ids bigint[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    i bigint;
    r jsonb;
    out jsonb := '[]';
BEGIN
    FOR i IN SELECT x.id FROM assignments x WHERE x.id = ANY(ids)
             ORDER BY x.expert_id, x.id LOOP
        r := expire_assignment(i);
        IF r IS NULL THEN
            out := out || jsonb_build_object('id', i, 'settled', true);
        ELSIF NOT (r->>'expired')::boolean THEN
            out := out || jsonb_build_object('id', i,
                                             'deadline_ms', r->'deadline_ms');
        ELSE
            out := out || jsonb_build_object('id', i, 'settled', true,
                                             'application', r->'application');
        END IF;
    END LOOP;
    -- Ids that no longer exist are settled too.
    out := out || coalesce((SELECT jsonb_agg(jsonb_build_object('id', u,
               'settled', true)) FROM unnest(ids) u
               WHERE NOT EXISTS (SELECT 1 FROM assignments WHERE id = u)), '[]');
    RETURN out;
END $$;

CREATE OR REPLACE FUNCTION push_batch(apps bigint[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    a bigint;
    p jsonb;
    out jsonb := '[]';
BEGIN
    FOREACH a IN ARRAY apps LOOP
        p := push_assignment(a);
        IF p ? 'assignment' THEN
            out := out || (p || jsonb_build_object('application', a));
        END IF;
    END LOOP;
    RETURN out;
END $$;
