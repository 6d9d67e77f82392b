-- 20_applications.sql -- the applicant path: timeline texts, the
-- submission rules, the progress view and submit (R-APP-*, R-CER-6).
-- How files in sql/fn/ are applied: see 10_util.sql.

-- The names of a return's kinds ({"kinds": [{name}...]}), joined with 、
-- for its timeline line.  Apart from event_text so that event_text has
-- no subquery: PostgreSQL then inlines it into the progress view's query
-- (a SQL function that is not inlined is planned again at every call of
-- that query: measured 2-3 ms of a 3.6 ms application_view).
CREATE OR REPLACE FUNCTION returned_kinds_text(d jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(k->>'name', '、') FROM jsonb_array_elements(d->'kinds') k
$$;

-- An event's line on the timeline (no subquery: see returned_kinds_text).
CREATE OR REPLACE FUNCTION event_text(t text, d jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE t
        WHEN 'created' THEN '已创建申请草稿'
        WHEN 'filed_by_hospital' THEN '医院已代为填报申请'
        WHEN 'prechecked' THEN '医院已完成申报预检'
        WHEN 'updated' THEN '已修改申请信息'
        WHEN 'material_added' THEN '已上传材料：' || coalesce(d->>'kind_name', '')
        WHEN 'material_removed' THEN '已删除材料：' || coalesce(d->>'kind_name', '')
        WHEN 'submitted' THEN CASE d->>'mode'
            WHEN 'onsite' THEN '已提交申请，等待认定医院现场认定'
            WHEN 'panel' THEN '已提交申请，等待认定医院专家组评审'
            ELSE '已提交申请，等待分配认定专家' END
        WHEN 'resubmitted' THEN '已补充材料并重新提交申请'
        WHEN 'filed_by_agent' THEN '家属' || coalesce(d->>'agent_name', '')
            || '（' || coalesce(d->>'relation', '') || '）已代为填报申请'
        WHEN 'filed_at_counter' THEN '医保经办机构窗口已代为填报申请'
        -- Hospitals certify (issue 11, sql/fn/65..76).
        WHEN 'certified_onsite' THEN CASE d->>'conclusion'
            WHEN 'approve' THEN coalesce(d->>'institution_name', '认定医院')
                || '已现场认定：符合认定标准'
            ELSE coalesce(d->>'institution_name', '认定医院')
                || '已现场认定：不符合认定标准' END
        WHEN 'panel_decided' THEN CASE d->>'conclusion'
            WHEN 'approve' THEN coalesce(d->>'institution_name', '认定医院')
                || '专家组评审通过，即将公示'
            ELSE coalesce(d->>'institution_name', '认定医院')
                || '专家组评审未通过' END
        WHEN 'publicity_started' THEN '认定结果公示中（' || coalesce(d->>'starts_on', '')
            || ' 至 ' || coalesce(d->>'ends_on', '') || '）'
        WHEN 'publicity_objection' THEN '公示期间收到异议，已转医保经办机构核实'
        WHEN 'publicity_ended' THEN '公示期满无异议'
        WHEN 'awaiting_confirmation' THEN '认定结果已报医保经办机构确认'
        WHEN 'confirmed' THEN '医保经办机构已确认认定结果'
        WHEN 'overturned' THEN '医保经办机构未予确认，认定结果无效：'
            || coalesce(d->>'reason', '')
        WHEN 'withdrawn' THEN '已撤回申请'
        WHEN 'pushed' THEN CASE d->>'stage' WHEN '1' THEN '已推送给认定专家'
                               WHEN '2' THEN '已推送给复审专家'
                               ELSE '已推送给另一位专家复核' END
            || CASE WHEN d->>'province' = 'true'
                    THEN '（本省其他统筹区专家库）' ELSE '' END
            || CASE WHEN (d->>'round')::int > 1
                    THEN '（第' || (d->>'round') || '轮分配）' ELSE '' END
        WHEN 'unassigned' THEN '暂无可分配的认定专家，将尽快安排'
        WHEN 'waiting_notice' THEN '已短信告知：暂无可分配的认定专家，医保经办机构正在安排'
        WHEN 'accepted' THEN '专家已受理'
        WHEN 'refused' THEN '专家未能受理，正在重新分配'
        WHEN 'expired' THEN '专家未按时受理，正在重新分配'
        WHEN 'stage_done' THEN CASE d->>'stage' WHEN '1' THEN '初审已完成，等待复审'
                                   ELSE '复审意见不一致，等待另一位专家复核' END
        WHEN 'approved' THEN '认定通过，待遇自 ' || coalesce(d->>'valid_from', '')
                             || ' 起享受'
        WHEN 'rejected' THEN '不予认定：' || coalesce(d->>'reason', '')
        -- After the decision: the qualification's life (sql/fn/50_benefit.sql).
        WHEN 'institution_changed' THEN '定点医院已变更为：' || coalesce(d->>'to_name', '')
        WHEN 'renewal_notice' THEN CASE d->>'renews' WHEN 'true'
            THEN '已短信告知：待遇将于 ' || coalesce(d->>'valid_to', '') || ' 到期后自动接续'
            ELSE '已短信告知：待遇将于 ' || coalesce(d->>'valid_to', '') || ' 到期，届时不再接续' END
        WHEN 'renewed' THEN '待遇已接续至 ' || coalesce(d->>'valid_to', '')
        WHEN 'qualification_ended' THEN '待遇已于 ' || coalesce(d->>'ended_on', '')
            || ' 终止：' || coalesce(d->>'reason_text', '')
        -- Objections and hospitals' appeals (sql/fn/80_objection.sql).
        WHEN 'objection_filed' THEN CASE d->>'kind' WHEN 'hospital'
            THEN '医院已申请复核' ELSE '已申请复核' END
            || '，将由' || coalesce(d->>'panel_size', '3')
            || '名未参与原认定的专家重新认定，预计 '
            || coalesce(d->>'deadline', '') || ' 前作出复核结论'
        WHEN 'objection_seat_decided' THEN '复核专家（第'
            || coalesce(d->>'seat', '') || '位）已作出意见'
        WHEN 'objection_decided' THEN CASE d->>'upheld' WHEN 'true'
            THEN '复核结论：予以认定' ELSE '复核结论：维持不予认定' END
            || '（' || coalesce(d->>'seats', '') || '名专家中'
            || coalesce(d->>'approve', '') || '名同意认定），复核结果为最终结果'
        -- Audits (R-SUP-1, 86_audit.sql).
        WHEN 'audit_passed' THEN '医保经办机构抽查审核：通过'
        WHEN 'audit_failed' THEN '医保经办机构抽查审核：不通过'
            || coalesce('（' || (d->>'note') || '）', '')
        -- The returned state (issue 12, sql/fn/82_return.sql).
        WHEN 'returned' THEN '材料不全，已退回补充：'
            || coalesce(returned_kinds_text(d), '') || '；请于 '
            || coalesce(d->>'resubmit_by', '')
            || ' 前补齐后重新提交'
        WHEN 'return_lapsed' THEN '未在 ' || coalesce(d->>'resubmit_by', '')
            || ' 前补齐材料，申请已撤回'
        -- An objection withdrawn (80_objection.sql withdraw_objection).
        WHEN 'objection_withdrawn' THEN '已撤回复核申请，维持原认定结论（不予认定）'
        ELSE '申请状态已更新'
    END
$$;

-- The required kinds of an application's disease still without a
-- material, with their names, in the disease's order.  (Its query by
-- SELECT INTO, whose plan PL/pgSQL keeps; returned_missing, a SQL
-- function planned at each call, only for a returned application:
-- measured 1.1 ms a call before, with the query itself 0.09 ms.)
CREATE OR REPLACE FUNCTION missing_materials(a applications) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    missing jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'kind', dm.kind, 'name', mk.name, 'note', dm.note)
               ORDER BY dm.sort_order), '[]')
    INTO missing
    FROM region_materials(a.region, a.disease) dm
    JOIN material_kinds mk ON mk.code = dm.kind
    WHERE dm.required
      AND NOT EXISTS (SELECT 1 FROM materials m
                      WHERE m.application_id = a.id AND m.kind = dm.kind
                        AND m.deleted_at IS NULL);
    -- Returned (R-APP-8): the kinds the expert named, until added anew.
    IF a.status = 'returned' THEN
        missing := missing || returned_missing(a.id);
    END IF;
    RETURN missing;
END $$;

-- The rules take the application's row, which every caller has (issue
-- 13: the id forms read it again, one statement more per rule).
DROP FUNCTION IF EXISTS missing_materials(bigint);
DROP FUNCTION IF EXISTS stale_materials(bigint);
DROP FUNCTION IF EXISTS submission_refusal(bigint);

-- Materials of an application older than their limit today (R-APP-3).
CREATE OR REPLACE FUNCTION stale_materials(a applications) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    max_age integer := policy_value(a.region, 'material_max_age_days')::int;
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('id', m.id,
               'kind', m.kind, 'name', mk.name, 'issued_on', m.issued_on,
               'max_age_days', coalesce(dm.max_age_days, max_age))
               ORDER BY m.id), '[]')
    FROM materials m
    JOIN material_kinds mk ON mk.code = m.kind
    LEFT JOIN region_materials(a.region, a.disease) dm ON dm.kind = m.kind
    WHERE m.application_id = a.id AND m.deleted_at IS NULL
      AND m.issued_on < cn_today() - coalesce(dm.max_age_days, max_age));
END $$;


-- May inst be the designated hospital (定点医院) of a person with disease
-- dis in region reg (NULL: any region)?  A designated hospital whose
-- scope holds the disease (institution_scopes: a hospital limited to some
-- diseases, S1's psychiatric-only hospitals, is nobody's hospital for
-- hypertension; no rows = every disease), of the person's region, or of
-- the province when the province authorizes it (province_wide, R-CER-13),
-- and the disease in the region's catalog.  Certifying is another
-- question (certification_refusal, sql/fn/65_authorization.sql).  The one rule for filing and submitting
-- (submission_refusal), for changing hospital later (R-BEN-3,
-- change_designated_institution) and for the catalog's
-- GET /institutions?disease= (catalog_db.c), so the list a person picks
-- from, submit and change agree.  PL/pgSQL, whose plan is kept: as a SQL
-- function (not inlined, a subquery) it was planned at every call.
CREATE OR REPLACE FUNCTION institution_may_serve(inst text, dis text,
    reg text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM institutions i
        WHERE i.code = inst AND i.designated
          AND (NOT EXISTS (SELECT 1 FROM institution_scopes s
                           WHERE s.institution = i.code)
               OR EXISTS (SELECT 1 FROM institution_scopes s
                          WHERE s.institution = i.code AND s.disease = dis))
          AND (reg IS NULL
               OR (EXISTS (SELECT 1 FROM region_diseases rd
                           WHERE rd.region = reg AND rd.disease = dis)
                   AND (i.region = reg
                        OR (i.province_wide
                            AND left(i.region, 2) = left(reg, 2))))));
END $$;

-- The rules a submission must pass besides materials (R-APP-6, R-BEN,
-- designated hospital).  Returns NULL when they pass, else a refusal
-- {"error": code, "field"?, "args"?} whose text is the error table's
-- (shared/mt_error.c; C answers it with mt_reply_refusal).  The caller holds the person's row lock, so two
-- submissions of one person are counted one after the other.
CREATE OR REPLACE FUNCTION submission_refusal(a applications) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    qualified boolean;
    used integer;
    lim integer;
    refusal jsonb;
BEGIN
    IF NOT institution_may_serve(a.designated_institution, a.disease,
                                 a.region) THEN
        RETURN jsonb_build_object('error', 'institution_not_designated',
            'field', 'designated_institution');
    END IF;
    -- Certified in a hospital (onsite, panel): the hospital that filed it,
    -- else the chosen designated hospital, must be authorized for the
    -- disease and the person (R-CER-8, R-CER-9, R-CER-13).
    IF a.review_mode IN ('onsite', 'panel') THEN
        refusal := certification_refusal(coalesce(a.filing_institution,
            a.designated_institution), a.disease, a.region);
        IF refusal IS NOT NULL THEN
            IF a.filing_institution IS NULL THEN
                RETURN jsonb_build_object('error', 'designated_not_certifying',
                    'field', 'designated_institution',
                    'args', refusal->'args');
            END IF;
            RETURN refusal;
        END IF;
    END IF;
    -- The person's qualification and this year's submissions of the
    -- disease in one query (a resubmission is not counted again).  The
    -- person's applications of the disease are read first, by
    -- applications_person_disease_submitted (OFFSET 0 keeps the
    -- submitted_at test outside): with the test
    -- inside, a plan made while few applications were submitted (a new
    -- database, the bench's fresh drafts) scanned the partial index
    -- applications_region_submitted whole, every submission of every
    -- region filtered row by row -- a submit's cost grew with the number
    -- submitted (issue 13, sixth round: 371 rows at the 3,000th submit).
    SELECT EXISTS (SELECT 1 FROM qualifications q
                   WHERE q.person_id = a.person_id AND q.disease = a.disease
                     AND q.status = 'active'),
           CASE WHEN a.submitted_at IS NULL THEN
               (SELECT count(*)
                FROM (SELECT x.submitted_at FROM applications x
                      WHERE x.person_id = a.person_id
                        AND x.disease = a.disease AND x.id <> a.id
                      OFFSET 0) x
                WHERE extract(year FROM x.submitted_at
                              AT TIME ZONE 'Asia/Shanghai')
                      = extract(year FROM cn_today())) END
    INTO qualified, used;
    IF qualified THEN
        RETURN jsonb_build_object('error', 'already_qualified');
    END IF;
    IF used IS NOT NULL THEN
        lim := policy_value(a.region, 'yearly_application_limit')::int;
        IF used >= lim THEN
            RETURN jsonb_build_object('error', 'yearly_limit_reached',
                'args', jsonb_build_array(lim::text));
        END IF;
    END IF;
    RETURN NULL;
END $$;


-- An open application that waits for an expert because nobody is
-- eligible (unassigned_since, set by push_assignment): when since, and
-- what the applicant reads instead of a status and a date that would not
-- be true.  NULL otherwise.  Used by the progress view and the list.
CREATE OR REPLACE FUNCTION waiting_for_expert(st text, since timestamptz)
RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN since IS NOT NULL AND st IN ('submitted', 'in_review')
        THEN json_build_object('since', since, 'text',
            '暂无可分配的认定专家，医保经办机构已收到提醒，正在安排；安排后将重新推送给专家认定')
        END
$$;

-- The expected decision date the progress view shows (date d of an
-- application in status st, waiting for an expert since `since`): none
-- while nobody can be assigned -- it would be a promise nobody is
-- working on (waiting_for_expert says so instead) -- nor once decided.
CREATE OR REPLACE FUNCTION expected_date_shown(st text, since timestamptz,
    d date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN st IN ('submitted', 'in_review') AND since IS NULL
                THEN d END
$$;

-- The progress view (GET /applications/{id}) of one application as JSON,
-- without scoping (callers scope).  Kept ready in application_views and
-- rebuilt whenever the application's timeline grows: every state change
-- writes an event (DESIGN), so the trigger below sees every change, in
-- the same transaction.  Reading progress is then one row fetch.
-- missing: missing_materials(app) when the caller has it already (submit
-- computed it for its check), NULL to compute it here.
CREATE OR REPLACE FUNCTION application_view(app bigint, missing jsonb)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    SELECT json_build_object('id', a.id, 'status', a.status,
        'channel', a.channel, 'review_mode', a.review_mode,
        'region', a.region,
        'disease', json_build_object('code', d.code, 'name', d.name),
        'applicant', json_build_object('name', p.name,
            'id_number', shown_id(p.id_number_masked, p.id_number),
            'sex', p.sex),
        -- Masked: the view is stored; apply_db_view puts the full
        -- contact and agent phones in, opened, as it answers.
        'phone', shown_phone(a.phone_masked, a.phone),
        'medical_record_no', a.medical_record_no,
        'designated_institution', json_build_object('code', i.code,
            'name', i.name),
        'filing_institution', a.filing_institution,
        -- Hospitals certify (issue 11): who certifies, the agency's
        -- confirmation, the public notice of a panel approval.
        'certifying_institution', (SELECT json_build_object('code', ci.code,
            'name', ci.name) FROM institutions ci
            WHERE ci.code = a.certifying_institution),
        'confirmation', a.confirmation,
        'publicity', (SELECT json_build_object('id', pb.id,
            'starts_on', pb.starts_on, 'ends_on', pb.ends_on,
            'state', pb.state) FROM publicity pb
            WHERE pb.application_id = a.id),
        'agent', CASE WHEN a.agent_name IS NULL THEN NULL ELSE
            json_build_object('name', a.agent_name,
            'id_number', shown_id(a.agent_id_number_masked,
                                  a.agent_id_number),
            'relation', a.agent_relation,
            'phone', shown_phone(a.agent_phone_masked, a.agent_phone)) END,
        'precheck', a.precheck,
        'created_at', a.created_at, 'submitted_at', a.submitted_at,
        'decided_at', a.decided_at,
        'expected_decision_date', expected_date_shown(a.status,
            a.unassigned_since, a.expected_decision_date),
        'waiting_for_expert', waiting_for_expert(a.status,
            a.unassigned_since),
        'returned', returned_view(a),
        'missing_materials', coalesce(missing, missing_materials(a)),
        'materials', (SELECT coalesce(json_agg(json_build_object(
            'id', m.id, 'kind', m.kind, 'name', mk.name,
            'issued_on', m.issued_on, 'issuer', m.issuer,
            'media_type', m.media_type, 'size', m.size_bytes,
            'uploaded_at', m.created_at) ORDER BY m.id), '[]')
            FROM materials m JOIN material_kinds mk ON mk.code = m.kind
            WHERE m.application_id = a.id AND m.deleted_at IS NULL),
        'decision_reason', CASE WHEN a.status = 'rejected'
            THEN a.decision_reason END,
        'qualification', (SELECT json_build_object('id', q.id,
            'status', q.status, 'valid_from', q.valid_from,
            'valid_to', q.valid_to,
            'designated_institution', json_build_object('code', qi.code,
                'name', qi.name))
            FROM qualifications q
            JOIN institutions qi ON qi.code = q.designated_institution
            WHERE q.application_id = a.id ORDER BY q.id DESC LIMIT 1),
        'objection', objection_view(a),     -- sql/fn/80_objection.sql
        'timeline', (SELECT coalesce(json_agg(json_build_object(
            'at', e.at, 'type', e.type, 'text', event_text(e.type, e.data))
            ORDER BY e.id), '[]') FROM events e
            WHERE e.application_id = a.id))::text
    FROM applications a JOIN persons p ON p.id = a.person_id
    JOIN diseases d ON d.code = a.disease
    JOIN institutions i ON i.code = a.designated_institution
    WHERE a.id = app);
END $$;

-- The progress view of one application, computed (inlined: no cost).
CREATE OR REPLACE FUNCTION application_view(app bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT application_view(app, NULL)
$$;

-- Build and store the progress view of app with every event written so
-- far (built_event, sql/031_view_built_event.sql), marked built in this
-- transaction; missing as application_view takes it.
CREATE OR REPLACE FUNCTION store_application_view(app bigint, missing jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO application_views (application_id, view, built_xid,
                                   built_event)
    VALUES (app, application_view(app, missing), pg_current_xact_id(),
            (SELECT max(e.id) FROM events e WHERE e.application_id = app))
    ON CONFLICT (application_id) DO UPDATE
        SET view = EXCLUDED.view, built_xid = EXCLUDED.built_xid,
            built_event = EXCLUDED.built_event;
END $$;

-- After the events of a push (sql/fn/30_review.sql: push_set) -- an
-- expiry, a push, "unassigned" -- which change nothing of a view but the
-- application's status, its expected date, its waiting for an expert and
-- the timeline: the stored views of apps with those members set and
-- every event since the view was built appended, one UPDATE for the
-- batch -- for each view all of whose missing events are of those kinds.
-- Else nothing: the trigger below builds the whole view at commit.  (A
-- push built the whole view again: 46 % of the database's PL/pgSQL time
-- per submit, issue 13.)  Formatting: as recompute_expected_dates
-- (94_catalog_admin.sql), jsonb's text.
DROP FUNCTION IF EXISTS patch_application_view(bigint, bigint);
CREATE OR REPLACE FUNCTION patch_application_views(apps bigint[])
RETURNS void
LANGUAGE sql AS $$
    -- Each view's new events by events_application, the view's own
    -- (as a join, a plan made while the table looked small hashed every
    -- event for each batch, issue 13).  No new event: push_only is NULL.
    WITH n AS (SELECT v.application_id, l.last, l.lines
               FROM application_views v CROSS JOIN LATERAL (
                   SELECT max(e.id) AS last,
                          jsonb_agg(jsonb_build_object('at', e.at,
                              'type', e.type,
                              'text', event_text(e.type, e.data))
                              ORDER BY e.id) AS lines,
                          bool_and(e.type IN ('expired', 'pushed',
                              'unassigned')) AS push_only
                   FROM events e WHERE e.application_id = v.application_id
                     AND e.id > v.built_event) l
               WHERE v.application_id = ANY(apps) AND l.push_only)
    UPDATE application_views v SET view = (v.view::jsonb || jsonb_build_object(
            'status', a.status,
            'expected_decision_date', expected_date_shown(a.status,
                a.unassigned_since, a.expected_decision_date),
            'waiting_for_expert', waiting_for_expert(a.status,
                a.unassigned_since),
            'timeline', (v.view::jsonb->'timeline') || n.lines))::text,
        built_xid = pg_current_xact_id(), built_event = n.last
    FROM n, applications a
    WHERE v.application_id = n.application_id AND a.id = n.application_id
$$;

-- The progress view is rebuilt once per application and transaction, at
-- commit: a batch that writes several events for one application (an
-- expiry and the next push) pays for one rebuild, not one per event; a
-- view built or patched in this transaction after the event is kept.
CREATE OR REPLACE FUNCTION refresh_application_view() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM application_views
               WHERE application_id = NEW.application_id
                 AND built_xid = pg_current_xact_id()
                 AND built_event >= NEW.id) THEN
        RETURN NULL;
    END IF;
    PERFORM store_application_view(NEW.application_id, NULL);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS events_refresh_view ON events;
CREATE CONSTRAINT TRIGGER events_refresh_view AFTER INSERT ON events
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION refresh_application_view();

-- Submit an application (POST /applications/{id}/submit) in one call and
-- one transaction: lock the application and its person (so one person's
-- submissions are counted one after the other, R-APP-6), check every
-- rule, then change the state, write the event and queue the SMS.
-- The caller's scope comes as (s_role, s_person, s_inst, s_region): an
-- insured person acts on their own and on those they filed for as the
-- family agent (R-APP-9, agent_person_id), hospital staff on what their
-- hospital filed, agency staff (the counter, R-APP-1) what was filed at
-- the counter (channel 'counter') in their region -- a person's own
-- filing from the mini program or the web is theirs to change.
-- Returns {"ok": {...}} or a refusal {"error": code, "field"?, "args"?,
-- "details"?} for mt_reply_refusal (codes and texts: shared/mt_error.c).
CREATE OR REPLACE FUNCTION submit_application(app bigint, actor bigint, s_role text,
    s_person bigint, s_inst text, s_region text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    missing jsonb;
    found_list jsonb;
    refusal jsonb;
    result jsonb;
    patched boolean;
BEGIN
    SELECT x.* INTO a FROM applications x JOIN persons p ON p.id = x.person_id
    WHERE x.id = app
      AND ((s_role = 'insured'
            AND s_person IN (x.person_id, x.agent_person_id))
           OR (s_role = 'hospital' AND x.filing_institution = s_inst)
           OR (s_role = 'agency' AND x.region = s_region
               AND x.channel = 'counter')
           OR s_role = 'admin')
    FOR UPDATE OF x, p;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'application_not_found',
                                  'field', 'id');
    END IF;
    IF a.status NOT IN ('draft', 'returned') THEN
        RETURN jsonb_build_object('error', 'application_not_submittable');
    END IF;
    missing := missing_materials(a);
    IF missing <> '[]' THEN
        RETURN jsonb_build_object('error', 'materials_missing',
            'details', jsonb_build_object('missing_materials', missing));
    END IF;
    found_list := stale_materials(a);
    IF found_list <> '[]' THEN
        RETURN jsonb_build_object('error', 'material_too_old',
            'details', jsonb_build_object('stale_materials', found_list));
    END IF;
    refusal := submission_refusal(a);
    IF refusal IS NOT NULL THEN
        RETURN refusal;
    END IF;
    -- The change, its SMS, its event and the stored view in one
    -- statement (each statement of a PL/pgSQL function pays its executor
    -- start-up: issue 13).
    WITH u AS (
        UPDATE applications SET status = 'submitted', promised_at = now(),
            submitted_at = coalesce(submitted_at, now()), updated_at = now(),
            certifying_institution = CASE
                WHEN review_mode IN ('onsite', 'panel')
                THEN coalesce(filing_institution, designated_institution) END,
            -- Counted from the day the application is complete (R-APP-8),
            -- so a resubmission after a return starts the count again.
            -- An online application in a region with its own online
            -- target (S0 二(三): 三门峡 8) is promised that target (issue
            -- 12).
            expected_decision_date = add_working_days(cn_today(),
                decision_target_days(region, review_mode, channel))
        WHERE id = app RETURNING *),
    s AS (
        INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
        SELECT plain_until_sealed(u.phone, u.phone_enc), u.phone_enc, 'application_submitted',
            format('【门诊慢特病】您的“%s”认定申请（编号%s）已提交，结果将以短信通知。',
                   d.name, u.id)
        FROM u JOIN diseases d ON d.code = u.disease),
    e AS (
        INSERT INTO events (application_id, type, actor_user, actor_role,
                            data)
        SELECT u.id, CASE WHEN u.promised_at <> u.submitted_at
                     THEN 'resubmitted' ELSE 'submitted' END, actor, s_role,
               jsonb_build_object('mode', u.review_mode)
        FROM u RETURNING id, at, type, data),
    -- The stored view patched with what a submit changes (issue 13, third
    -- round: the whole build was a fifth of the PL/pgSQL time per submit;
    -- one backend's CPU per submit went from 2.21 to 1.79 ms), if it
    -- holds every event written before this one: the draft's view, built
    -- at its last event (the materials' too), so every other member is
    -- as a build now would make it.  The missing list is the one checked
    -- above ([]); 'returned' is a returned application's only
    -- (returned_view).  Else (no view, or one behind) nothing here, and
    -- the whole view is built below.  jsonb's text, as
    -- patch_application_views writes it.
    v AS (
        UPDATE application_views v SET view = (v.view::jsonb
            || jsonb_build_object('status', u.status,
                'submitted_at', u.submitted_at,
                'certifying_institution', (SELECT jsonb_build_object(
                    'code', ci.code, 'name', ci.name) FROM institutions ci
                    WHERE ci.code = u.certifying_institution),
                'expected_decision_date', expected_date_shown(u.status,
                    u.unassigned_since, u.expected_decision_date),
                'waiting_for_expert', waiting_for_expert(u.status,
                    u.unassigned_since),
                'returned', NULL, 'missing_materials', missing,
                'timeline', (v.view::jsonb->'timeline')
                    || jsonb_build_array(jsonb_build_object('at', e.at,
                        'type', e.type, 'text', event_text(e.type, e.data))))
            )::text,
            built_xid = pg_current_xact_id(), built_event = e.id
        FROM u, e
        WHERE v.application_id = app
          AND v.built_event IS NOT DISTINCT FROM (SELECT max(x.id)
              FROM events x WHERE x.application_id = app)
        RETURNING 1)
    SELECT jsonb_build_object('id', u.id, 'status', u.status,
               'submitted_at', u.submitted_at,
               'expected_decision_date', u.expected_decision_date),
           EXISTS (SELECT 1 FROM v)
    INTO result, patched FROM u;
    -- The view built whole, with the missing list checked above (its
    -- trigger at commit finds it built: refresh_application_view).
    IF NOT patched THEN
        PERFORM store_application_view(app, missing);
    END IF;
    RETURN jsonb_build_object('ok', result);
END $$;

-- Withdraw an application (POST /applications/{id}/withdraw) before a
-- decision (API.md), also while an expert holds it: the live assignment
-- of any stage is cancelled (no miss is counted against the expert, whose
-- task disappears: accept and decide then answer 409), the expert is
-- told by SMS, nothing is pushed any more.  Only an application in the
-- caller's scope (s_role, s_person, s_inst, s_region, as
-- submit_application) is touched, whatever the caller checked before.
-- Lock order, the same in every function of 30_review.sql: the live
-- assignments first, then the application (accept, refuse, expire and
-- decide lock their assignment first; the other way round, a withdraw
-- racing a decision was a deadlock).  Returns {"id","region",
-- "cancelled":[{"assignment","stage"}]} for the caller to drop the Redis
-- timers and leases (harmless if left: an expiry finds the assignment no
-- longer pushed), or NULL when the application is decided or withdrawn
-- already, or not the caller's.
-- The arguments changed (the scope): the old one is dropped first.
DROP FUNCTION IF EXISTS withdraw_application(bigint, bigint, text);
CREATE OR REPLACE FUNCTION withdraw_application(app bigint, actor bigint,
    s_role text, s_person bigint, s_inst text, s_region text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    gone jsonb;
BEGIN
    PERFORM 1 FROM assignments x JOIN applications s
        ON s.id = x.application_id
    WHERE x.application_id = app AND x.state IN ('pushed', 'accepted')
      AND ((s_role = 'insured'
            AND s_person IN (s.person_id, s.agent_person_id))
           OR (s_role = 'hospital' AND s.filing_institution = s_inst)
           OR (s_role = 'agency' AND s.region = s_region
               AND s.channel = 'counter')
           OR s_role = 'admin')
    ORDER BY x.id FOR UPDATE OF x;
    -- A hospital's result waiting for the agency (an objected notice)
    -- waits no more: off the 待确认 queue (confirm_application answers
    -- 409 for a withdrawn application anyway).  Withdrawn while its
    -- objection is re-decided, the objection is withdrawn and the first
    -- decision stands: 'rejected' again (withdraw_objection).
    UPDATE applications x SET status = CASE WHEN x.status = 'in_review'
            AND objection_open(x.id) THEN 'rejected' ELSE 'withdrawn' END,
        push_stage = NULL,
        unassigned_since = NULL, updated_at = now(),
        confirmation = CASE WHEN x.confirmation = 'pending' THEN NULL
                            ELSE x.confirmation END
    WHERE x.id = app
      AND x.status IN ('draft', 'submitted', 'returned', 'in_review')
      AND ((s_role = 'insured'
            AND s_person IN (x.person_id, x.agent_person_id))
           OR (s_role = 'hospital' AND x.filing_institution = s_inst)
           OR (s_role = 'agency' AND x.region = s_region
               AND x.channel = 'counter')
           OR s_role = 'admin')
    RETURNING * INTO a;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    WITH x AS (UPDATE assignments SET state = 'cancelled', ended_at = now()
               WHERE application_id = app AND state IN ('pushed', 'accepted')
               RETURNING id, stage, expert_id),
         sms AS (INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
                 SELECT plain_until_sealed(e.phone, e.phone_enc), e.phone_enc, 'task_cancelled', format(
                     '【门诊慢特病】您的认定任务（任务号%s）因申请人撤回申请已取消，无需处理。',
                     x.id)
                 FROM x JOIN experts e ON e.user_id = x.expert_id
                 WHERE coalesce(e.phone_enc, e.phone) IS NOT NULL)
    SELECT coalesce(jsonb_agg(jsonb_build_object('assignment', x.id,
               'stage', x.stage) ORDER BY x.id), '[]')
    INTO gone FROM x;
    IF a.status = 'rejected' THEN
        PERFORM withdraw_objection(a);
    END IF;
    INSERT INTO events (application_id, type, actor_user, actor_role, data)
    VALUES (app, CASE a.status WHEN 'rejected' THEN 'objection_withdrawn'
                 ELSE 'withdrawn' END, actor, s_role,
            CASE WHEN gone = '[]' THEN '{}'
                 ELSE jsonb_build_object('cancelled', gone) END);
    RETURN jsonb_build_object('id', app, 'region', a.region,
                              'cancelled', gone);
END $$;

-- The stored progress views of the next n applications after id
-- `after`, in id order, rebuilt with the definitions of sql/fn/
-- (application_view, event_text, mask_id, mask_phone...).  mtcertctl
-- migrate calls it batch by batch, each batch its own short transaction,
-- after any file of sql/fn/ was applied, so a change to any of them
-- reaches the stored views without holding every view's row lock at
-- once against the running service.  Returns the last id rebuilt, NULL
-- when there was none after `after`.
DROP FUNCTION IF EXISTS rebuild_application_views();
CREATE OR REPLACE FUNCTION rebuild_application_views(after bigint, n int)
RETURNS bigint
LANGUAGE sql AS $$
    WITH batch AS (SELECT application_id FROM application_views
                   WHERE application_id > after
                   ORDER BY application_id LIMIT n
                   FOR UPDATE),
         r AS (UPDATE application_views v
               SET view = application_view(v.application_id)
               FROM batch b WHERE v.application_id = b.application_id
               RETURNING v.application_id)
    SELECT max(application_id) FROM r;
$$;
