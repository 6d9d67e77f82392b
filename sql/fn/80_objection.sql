-- 80_objection.sql -- objections to a rejection and hospitals' appeals
-- (R-CER-12; S3 第九条: within objection_window_days of the result, a
-- re-decision by experts who did not decide it; S2 二(二)/三: a hospital's
-- appeal re-reviewed by appeal_panel_experts experts).  The panel's
-- seats are ordinary assignments at stages 4 .. 3 + panel_size, so the
-- review engine (30_review.sql) pushes, expires and re-pushes them like
-- any stage; it calls in here at two places only: push_assignment for
-- the panel's one draw (objection_push_panel) and for the next empty
-- seat (objection_next_seat), decide_assignment for a seat's decision
-- (objection_seat_decided).  Lock order as in 30_review.sql's header:
-- an assignment, its expert, the application, then its objection.
-- How files in sql/fn/ are applied: see 10_util.sql.

-- The first seat's stage (seat n is stage 3 + n).
CREATE OR REPLACE FUNCTION objection_first_stage() RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$ SELECT 4::smallint $$;

-- Objection o as the API answers it (POST /applications/{id}/objection).
CREATE OR REPLACE FUNCTION objection_json(o objections) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', o.id, 'application_id', o.application_id,
        'kind', o.kind, 'state', o.state, 'reason', o.reason,
        'filed_at', o.filed_at, 'panel_size', o.panel_size,
        'deadline', o.deadline, 'decided_at', o.decided_at)
$$;

-- The last day an objection to application a's decision may be filed:
-- objection_window_days calendar days after the decision's China day
-- (S3 第九条 10日内).  The one rule: objection_view shows it,
-- objection_refusal enforces it.
CREATE OR REPLACE FUNCTION objection_last_day(a applications) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT (a.decided_at AT TIME ZONE 'Asia/Shanghai')::date
           + policy_value(a.region, 'objection_window_days')::int
$$;

-- The objection part of application a's progress view
-- (application_view): {last_day, filed} -- the last day an objection may
-- be filed (none once filed) and the objection filed -- for a rejected
-- application or one with an objection, else NULL.  A day, not a
-- yes/no: the view is stored and rebuilt on events, the day passes
-- without one.
-- (PL/pgSQL, whose plan is kept: as a SQL function it was planned at
-- every build of a view, issue 13.)
CREATE OR REPLACE FUNCTION objection_view(a applications) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT CASE WHEN o.id IS NOT NULL OR a.status = 'rejected' THEN
        jsonb_build_object('last_day', CASE WHEN o.id IS NULL THEN
            objection_last_day(a) END,
            'filed', CASE WHEN o.id IS NOT NULL THEN objection_json(o) END)
    END
    FROM (SELECT 1) one
    LEFT JOIN objections o ON o.application_id = a.id);
END $$;

-- Whether application app's objection is open (its panel re-decides).
CREATE OR REPLACE FUNCTION objection_open(app bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM objections
                    WHERE application_id = app AND state = 'open')
$$;

-- Application a's open objection withdrawn (withdraw_application, whose
-- caller may withdraw a: the person, their agent or the hospital that
-- appealed; a is 'rejected' again, its seats' assignments cancelled
-- there): the objection 'withdrawn' (decided_at the day of it) and the
-- applicant told by SMS that the first decision stands.  The result of
-- an objection is final, a withdrawn one too: no second objection.
CREATE OR REPLACE FUNCTION withdraw_objection(a applications)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE objections SET state = 'withdrawn', decided_at = now()
    WHERE application_id = a.id AND state = 'open';
    INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
    SELECT plain_until_sealed(a.phone, a.phone_enc), a.phone_enc, 'objection_withdrawn', format(
        '【门诊慢特病】您的“%s”认定申请（编号%s）的复核申请已撤回，维持原认定结论（不予认定）。',
        d.name, a.id)
    FROM diseases d WHERE d.code = a.disease;
END $$;

-- Why application a may not get an objection now, as a refusal, or NULL
-- when it may: one objection per application, and the result of an
-- objection is final (422 objection_already_filed); only a rejection is
-- objected to (409 application_not_rejected); within the region's
-- objection_window_days calendar days of the decision, China's days
-- (422 objection_window_closed, naming the days).
CREATE OR REPLACE FUNCTION objection_refusal(a applications) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM objections o WHERE o.application_id = a.id)
            THEN jsonb_build_object('error', 'objection_already_filed')
        WHEN a.status <> 'rejected'
            THEN jsonb_build_object('error', 'application_not_rejected')
        WHEN objection_last_day(a) < cn_today()
            THEN jsonb_build_object('error', 'objection_window_closed',
                'args', jsonb_build_array(
                    policy_value(a.region, 'objection_window_days')))
        WHEN EXISTS (SELECT 1 FROM applications b
                     WHERE b.person_id = a.person_id
                       AND b.disease = a.disease AND b.id <> a.id
                       AND b.status IN ('draft', 'submitted', 'returned',
                                        'in_review'))
            -- A new application of the same disease is open: the two
            -- cannot both be open (applications_one_open).
            THEN jsonb_build_object('error', 'application_exists')
    END
$$;

-- POST /applications/{id}/objection by user usr of role rl (person,
-- inst: the caller's scope): the applicant -- the insured person or the
-- family agent who filed -- or staff of the hospital that filed it (an
-- appeal, kind 'hospital').  Another's application is not found.  The
-- application returns to in_review, expected by the objection's
-- deadline, with its first seat to push (the
-- dispatcher draws the panel: objection_push_panel); the event
-- objection_filed and the SMS to the applicant.  {"ok": objection} or a
-- refusal (objection_refusal).
CREATE OR REPLACE FUNCTION file_objection(app bigint, usr bigint, rl text,
    person bigint, inst text, why text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    o objections%ROWTYPE;
    refusal jsonb;
    size integer;
BEGIN
    SELECT * INTO a FROM applications WHERE id = app FOR UPDATE;
    -- coalesce: agent_person_id and filing_institution are often NULL.
    IF NOT FOUND OR NOT coalesce((rl = 'insured'
                          AND person IN (a.person_id, a.agent_person_id))
                         OR (rl = 'hospital' AND a.filing_institution = inst),
                         false)
    THEN
        RETURN jsonb_build_object('error', 'application_not_found',
                                  'field', 'id');
    END IF;
    refusal := objection_refusal(a);
    IF refusal IS NOT NULL THEN
        RETURN refusal;
    END IF;
    -- Seats are stages 4 .. 9: at most 6 whatever the policy says.
    size := least(6, policy_value(a.region, CASE rl WHEN 'hospital'
        THEN 'appeal_panel_experts' ELSE 'objection_panel_size' END)::int);
    INSERT INTO objections (application_id, reason, kind, filed_by,
                            panel_size, deadline)
    VALUES (app, why, CASE rl WHEN 'hospital' THEN 'hospital'
                      ELSE 'applicant' END, usr, size,
            add_working_days(cn_today(), policy_value(a.region,
                'recertification_working_days')::int))
    RETURNING * INTO o;
    -- The re-decision's target is the objection's deadline: the progress
    -- view (expected_date_shown), the agency's overdue queue and the
    -- stored view's patches all read expected_decision_date, so it holds
    -- the deadline while the objection is open (the first promise stays
    -- in the 'submitted' event; recompute_expected_dates leaves it).
    UPDATE applications SET status = 'in_review',
        stage = objection_first_stage(), push_stage = objection_first_stage(),
        unassigned_since = NULL, expected_decision_date = o.deadline,
        updated_at = now()
    WHERE id = app;
    INSERT INTO events (application_id, type, actor_user, actor_role, data)
    VALUES (app, 'objection_filed', usr, rl, jsonb_build_object(
            'objection', o.id, 'kind', o.kind, 'panel_size', size,
            'deadline', o.deadline));
    INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
    SELECT plain_until_sealed(a.phone, a.phone_enc), a.phone_enc, 'objection_filed', format(
        '【门诊慢特病】您的“%s”认定申请（编号%s）的复核申请已受理，将由%s名未参与原认定的专家重新认定，预计%s前作出复核结论。',
        d.name, app, size, o.deadline)
    FROM diseases d WHERE d.code = a.disease;
    RETURN jsonb_build_object('ok', objection_json(o));
END $$;

-- The seat of application app to push next: the first of its open
-- objection's seats without a live or decided assignment, or NULL (no
-- open objection, or every seat taken).  push_assignment keeps
-- push_stage at it, so the seats are filled one after another.
CREATE OR REPLACE FUNCTION objection_next_seat(app bigint) RETURNS smallint
LANGUAGE sql STABLE AS $$
    SELECT min(s)::smallint
    FROM objections o,
         generate_series(objection_first_stage(),
                         objection_first_stage() + o.panel_size - 1) s
    WHERE o.application_id = app AND o.state = 'open'
      AND NOT EXISTS (SELECT 1 FROM assignments x
                      WHERE x.application_id = app AND x.stage = s
                        AND x.state IN ('pushed', 'accepted', 'decided'))
$$;

-- The panel of application a's open objection, in ONE draw (record_draw
-- purpose 'objection', k seats, R-SUP-7): called by push_set
-- (which holds a's row lock) before its ordinary draw.  The pool is
-- eligible_experts (never one who decided, held, accepted or refused it:
-- "never one who decided it before"), the region's own when it has
-- enough for every seat, else all eligible.  With fewer eligible than
-- seats the draw takes everyone there is and the seats left wait as
-- unassigned, filled later by ordinary push draws (as any push that
-- finds nobody).  Every seat drawn is pushed here in the same
-- transaction (stage 3 + its place in the draw); the dispatcher arms
-- every seat's timer after the push (push_one: the application's pushed
-- assignments).  Returns the first seat's
-- push as push_assignment answers it, or NULL when there is no panel to
-- draw (no open objection, drawn already, or nobody eligible: the caller
-- goes on with its ordinary draw, which waits).
CREATE OR REPLACE FUNCTION objection_push_panel(a applications)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o objections%ROWTYPE;
    pool bigint[];
    d draws%ROWTYPE;
    x assignments%ROWTYPE;
    first assignments%ROWTYPE;
    dname text;
    i integer;
BEGIN
    SELECT * INTO o FROM objections
    WHERE application_id = a.id AND state = 'open' AND draw_id IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT CASE WHEN count(*) FILTER (WHERE e.outside = 0) >= o.panel_size
                THEN array_agg(e.expert_id) FILTER (WHERE e.outside = 0)
                ELSE array_agg(e.expert_id) END
    INTO pool FROM eligible_experts(a.id) e;
    IF pool IS NULL THEN
        RETURN NULL;
    END IF;
    d := record_draw('objection', a.region, pool,
                     least(o.panel_size, cardinality(pool)), a.id,
                     objection_first_stage());
    UPDATE objections SET draw_id = d.id WHERE id = o.id;
    SELECT name INTO dname FROM diseases WHERE code = a.disease;
    FOR i IN 1 .. d.k LOOP
        INSERT INTO assignments (application_id, stage, expert_id, hospital,
                                 pool_size, draw_id, accept_deadline)
        SELECT a.id, objection_first_stage() + i - 1, u.id, u.institution,
               cardinality(d.pool), d.id,
               now() + make_interval(secs => policy_value(a.region,
                   'accept_window_seconds')::int)
        FROM users u WHERE u.id = d.chosen[i]
        RETURNING * INTO x;
        IF i = 1 THEN
            first := x;
        END IF;
        INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
        SELECT plain_until_sealed(ex.phone, ex.phone_enc), ex.phone_enc, 'task_pushed', format(
            '【门诊慢特病】您有一件“%s”复核任务（任务号%s），请在%s前登录系统受理。',
            dname, x.id, to_char(x.accept_deadline AT TIME ZONE
            'Asia/Shanghai', 'MM月DD日HH24:MI'))
        FROM experts ex WHERE ex.user_id = x.expert_id
          AND coalesce(ex.phone_enc, ex.phone) IS NOT NULL;
        INSERT INTO events (application_id, type, actor_role, data)
        VALUES (a.id, 'pushed', 'system', jsonb_build_object('stage', x.stage,
                'assignment', x.id, 'pool_size', cardinality(d.pool),
                'round', 1, 'province', false, 'draw', d.id,
                'seat', i, 'objection', o.id));
    END LOOP;
    UPDATE applications SET status = 'in_review',
        stage = objection_first_stage(), push_stage = objection_next_seat(a.id),
        unassigned_since = CASE WHEN objection_next_seat(a.id) IS NULL
                                THEN NULL ELSE now() END,
        updated_at = now()
    WHERE id = a.id;
    IF d.k < o.panel_size THEN
        INSERT INTO events (application_id, type, actor_role, data)
        VALUES (a.id, 'unassigned', 'system',
                jsonb_build_object('stage', objection_next_seat(a.id)));
    END IF;
    RETURN jsonb_build_object('assignment', first.id, 'expert',
        first.expert_id, 'region', a.region, 'stage', first.stage,
        'deadline_ms',
        (extract(epoch FROM first.accept_deadline) * 1000)::bigint);
END $$;

-- Seat assignment x of application a (locked by the caller,
-- decide_assignment) was decided: the event objection_seat_decided; once
-- every seat has decided, the majority decides (approve when more than
-- half the seats approve): conclude_application approves with the
-- qualification or rejects for good (the rejection's reason and code
-- from the first rejecting seat), the objection is upheld or dismissed,
-- the event objection_decided; the applicant's SMS is
-- conclude_application's, except that a dismissal's says the result is
-- final (conclude_application's rejection offers an objection: replaced
-- before it leaves, in this transaction).  Returns decide_assignment's
-- answer.
CREATE OR REPLACE FUNCTION objection_seat_decided(x assignments,
    a applications) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    o objections%ROWTYPE;
    n integer;
    yes integer;
    r assignments%ROWTYPE;
    up boolean;
    dname text;
BEGIN
    SELECT * INTO o FROM objections
    WHERE application_id = a.id AND state = 'open' FOR UPDATE;
    IF NOT FOUND THEN
        -- No open objection (a broken invariant: seats are made only
        -- for one): the decision stands, nothing is concluded.
        RETURN jsonb_build_object('assignment', x.id, 'application', a.id,
            'final', false, 'region', a.region);
    END IF;
    INSERT INTO events (application_id, type, actor_role, data)
    VALUES (a.id, 'objection_seat_decided', 'expert', jsonb_build_object(
            'stage', x.stage, 'seat', x.stage - objection_first_stage() + 1,
            'objection', o.id));
    SELECT count(*), count(*) FILTER (WHERE decision = 'approve')
    INTO n, yes FROM assignments
    WHERE application_id = a.id AND state = 'decided'
      AND stage BETWEEN objection_first_stage()
                    AND objection_first_stage() + o.panel_size - 1;
    IF n < o.panel_size THEN
        RETURN jsonb_build_object('assignment', x.id, 'application', a.id,
            'final', false, 'region', a.region);
    END IF;
    up := yes * 2 > o.panel_size;
    SELECT * INTO r FROM assignments
    WHERE application_id = a.id AND state = 'decided'
      AND decision <> 'approve' AND stage >= objection_first_stage()
    ORDER BY stage LIMIT 1;
    PERFORM conclude_application(a.id, up, r.reason_code,
        coalesce(nullif(r.opinion, ''), '不符合认定标准'));
    UPDATE objections SET state = CASE WHEN up THEN 'upheld'
                                  ELSE 'dismissed' END, decided_at = now()
    WHERE id = o.id;
    INSERT INTO events (application_id, type, actor_role, data)
    VALUES (a.id, 'objection_decided', 'system', jsonb_build_object(
            'objection', o.id, 'upheld', up, 'approve', yes,
            'seats', o.panel_size));
    SELECT name INTO dname FROM diseases WHERE code = a.disease;
    UPDATE sms_outbox SET template = 'objection_dismissed', body = format(
        '【门诊慢特病】您的“%s”认定申请（编号%s）复核结论：维持不予认定（%s名专家中%s名同意认定）。复核结果为最终结果。',
        dname, a.id, o.panel_size, yes)
    WHERE NOT up AND created_at = now()
      -- The rejection's SMS copied the application's phone (sealed or not).
      AND coalesce(to_phone_enc, to_phone) = coalesce(a.phone_enc, a.phone)
      AND sent_at IS NULL AND template = 'application_rejected';
    RETURN jsonb_build_object('assignment', x.id, 'application', a.id,
        'final', true, 'region', a.region);
END $$;

-- Whether objection o is in the state the agency's filter names: open,
-- decided (upheld or dismissed: the panel's result), withdrawn, any.
-- The one rule: the objection list and the application list's filter
-- use it.
CREATE OR REPLACE FUNCTION objection_in_state(o objections, st text)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE st WHEN 'any' THEN true
                   WHEN 'decided' THEN o.state IN ('upheld', 'dismissed')
                   ELSE o.state = st END
$$;

-- One row of the agency's list of objections (GET /agency/objections):
-- the objection (objection_json), how many of its seats have decided,
-- whether it is past its deadline while open, and its application --
-- number, status, region, disease, the person masked as in the other
-- lists (the list is not logged; the trail it links to is).
CREATE OR REPLACE FUNCTION agency_objection_json(o objections)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT objection_json(o) || jsonb_build_object(
        'seats_decided', (SELECT count(*) FROM assignments x
            WHERE x.application_id = o.application_id
              AND x.stage >= objection_first_stage()
              AND x.state = 'decided'),
        'overdue', o.state = 'open' AND o.deadline < cn_today(),
        'application', jsonb_build_object('id', a.id, 'status', a.status,
            'region', a.region,
            'disease', jsonb_build_object('code', d.code, 'name', d.name),
            'applicant', jsonb_build_object('name', mask_name(p.name),
                'id_number', shown_id(p.id_number_masked, p.id_number)),
            'decided_at', a.decided_at))
    FROM applications a JOIN persons p ON p.id = a.person_id
    JOIN diseases d ON d.code = a.disease
    WHERE a.id = o.application_id
$$;
