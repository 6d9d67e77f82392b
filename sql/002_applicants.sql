-- 002_applicants.sql -- what the applicant path needs (issue 3):
-- working-day arithmetic over the calendar (R-CER-6), SMS retries, the
-- progress view of each application, and the submission rules.

-- The date n working days after start (start itself not counted): one
-- query over a window long enough for any run of holidays.
-- (PL/pgSQL, not SQL: PL/pgSQL caches its plans, a non-inlined SQL
-- function is planned again at every call.)
CREATE FUNCTION add_working_days(start date, n integer) RETURNS date
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF n < 0 OR n > 3650 THEN
        RAISE EXCEPTION 'add_working_days: n out of range: %', n;
    END IF;
    IF n = 0 THEN
        RETURN start;
    END IF;
    RETURN (SELECT d FROM (
        SELECT g::date AS d, row_number() OVER (ORDER BY g) AS k
        FROM generate_series(start + 1, start + n * 2 + 30, interval '1 day') g
        LEFT JOIN calendar c ON c.day = g::date
        WHERE coalesce(c.kind = 'workday', extract(isodow FROM g) < 6)) w
        WHERE k = n);
END $$;

-- A region's policy value, or the key's default.
CREATE FUNCTION policy_value(r text, k text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce((SELECT value FROM policies WHERE region = r AND key = k),
                    (SELECT default_value FROM policy_keys WHERE key = k));
END $$;

-- A message that could not be sent waits before its next try, longer
-- each time (at most 5 minutes), and is never given up: nothing is lost.
-- (No NOTIFY on insert: PostgreSQL serialises the commits of notifying
-- transactions on one lock, which cost submissions their group commit;
-- the dispatcher polls the partial index instead.)
ALTER TABLE sms_outbox ADD COLUMN next_attempt_at timestamptz NOT NULL
    DEFAULT now();
DROP INDEX sms_outbox_unsent;
CREATE INDEX sms_outbox_unsent ON sms_outbox(next_attempt_at, id)
    WHERE sent_at IS NULL;

-- The yearly-limit count (R-APP-6) reads submissions per person, disease
-- and year.
CREATE INDEX applications_person_disease_submitted
    ON applications(person_id, disease, submitted_at);
CREATE INDEX applications_filing ON applications(filing_institution, id)
    WHERE filing_institution IS NOT NULL;
CREATE INDEX materials_sha ON materials(sha256);

-- Idempotency rows in progress carry status 0 until the answer is known.
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_status
    CHECK (status = 0 OR status BETWEEN 200 AND 599);

-- The timeline text a person reads for each event type (plain Chinese,
-- never naming an expert).  Later migrations extend it with
-- CREATE OR REPLACE for their own event types.
CREATE FUNCTION event_text(t text, d jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE t
        WHEN 'created' THEN '已创建申请草稿'
        WHEN 'filed_by_hospital' THEN '医院已代为填报申请'
        WHEN 'prechecked' THEN '医院已完成申报预检'
        WHEN 'updated' THEN '已修改申请信息'
        WHEN 'material_added' THEN '已上传材料：' || coalesce(d->>'kind_name', '')
        WHEN 'material_removed' THEN '已删除材料：' || coalesce(d->>'kind_name', '')
        WHEN 'submitted' THEN '已提交申请，等待分配认定专家'
        WHEN 'resubmitted' THEN '已补充材料并重新提交申请'
        WHEN 'withdrawn' THEN '已撤回申请'
        ELSE '申请状态已更新'
    END
$$;

-- Today in China (deadlines and years are counted in local days).
CREATE FUNCTION cn_today() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date
$$;

-- The required kinds of an application's disease still without a
-- material, with their names, in the disease's order.
CREATE FUNCTION missing_materials(app bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('kind', dm.kind,
               'name', mk.name, 'note', dm.note) ORDER BY dm.sort_order), '[]')
    FROM applications a
    JOIN disease_materials dm ON dm.disease = a.disease AND dm.required
    JOIN material_kinds mk ON mk.code = dm.kind
    WHERE a.id = app
      AND NOT EXISTS (SELECT 1 FROM materials m WHERE m.application_id = a.id
                      AND m.kind = dm.kind AND m.deleted_at IS NULL));
END $$;

-- Materials of an application older than their limit today (R-APP-3).
CREATE FUNCTION stale_materials(app bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r text;
    max_age integer;
BEGIN
    SELECT region INTO r FROM applications WHERE id = app;
    max_age := policy_value(r, 'material_max_age_days')::int;
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object('id', m.id,
               'kind', m.kind, 'name', mk.name, 'issued_on', m.issued_on,
               'max_age_days', coalesce(dm.max_age_days, max_age))
               ORDER BY m.id), '[]')
    FROM applications a
    JOIN materials m ON m.application_id = a.id AND m.deleted_at IS NULL
    JOIN material_kinds mk ON mk.code = m.kind
    LEFT JOIN disease_materials dm ON dm.disease = a.disease AND dm.kind = m.kind
    WHERE a.id = app
      AND m.issued_on < cn_today() - coalesce(dm.max_age_days, max_age));
END $$;

-- The rules a submission must pass besides materials (R-APP-6, R-BEN,
-- designated hospital).  Returns NULL when they pass, else
-- {"code","message"}.  The caller holds the person's row lock, so two
-- submissions of one person are counted one after the other.
CREATE FUNCTION submission_refusal(app bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a applications%ROWTYPE;
    used integer;
    lim integer;
BEGIN
    SELECT * INTO a FROM applications WHERE id = app;
    IF NOT EXISTS (SELECT 1 FROM institutions i WHERE i.code = a.designated_institution
                   AND i.region = a.region AND i.designated) THEN
        RETURN jsonb_build_object('code', 'institution_not_designated',
            'field', 'designated_institution',
            'message', '所选医院不是本统筹区的门诊慢特病定点医疗机构，请重新选择');
    END IF;
    IF EXISTS (SELECT 1 FROM qualifications q WHERE q.person_id = a.person_id
               AND q.disease = a.disease AND q.status = 'active') THEN
        RETURN jsonb_build_object('code', 'already_qualified',
            'message', '您已享受该病种的门诊慢特病待遇，无需重复申请');
    END IF;
    IF a.submitted_at IS NULL THEN
        lim := policy_value(a.region, 'yearly_application_limit')::int;
        SELECT count(*) INTO used FROM applications x
        WHERE x.person_id = a.person_id AND x.disease = a.disease
          AND x.id <> a.id AND x.submitted_at IS NOT NULL
          AND extract(year FROM x.submitted_at AT TIME ZONE 'Asia/Shanghai')
              = extract(year FROM cn_today());
        IF used >= lim THEN
            RETURN jsonb_build_object('code', 'yearly_limit_reached',
                'message', format('同一病种每个自然年度最多申请 %s 次，本年度已达上限', lim));
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- Masks for lists (API.md): 4112**********1234 and 138****5678.
CREATE FUNCTION mask_id(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL
                WHEN length(s) <= 8 THEN repeat('*', length(s))
                ELSE left(s, 4) || repeat('*', length(s) - 8) || right(s, 4) END
$$;
CREATE FUNCTION mask_phone(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL
                WHEN length(s) <= 7 THEN repeat('*', length(s))
                ELSE left(s, 3) || repeat('*', length(s) - 7) || right(s, 4) END
$$;

-- The progress view (GET /applications/{id}) of one application as JSON,
-- without scoping (callers scope).  Kept ready in application_views and
-- rebuilt whenever the application's timeline grows: every state change
-- writes an event (DESIGN), so the trigger below sees every change, in
-- the same transaction.  Reading progress is then one row fetch.
CREATE FUNCTION application_view(app bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    SELECT json_build_object('id', a.id, 'status', a.status,
        'channel', a.channel, 'review_mode', a.review_mode,
        'region', a.region,
        'disease', json_build_object('code', d.code, 'name', d.name),
        'applicant', json_build_object('name', p.name,
            'id_number', mask_id(p.id_number), 'sex', p.sex),
        'phone', a.phone, 'medical_record_no', a.medical_record_no,
        'designated_institution', json_build_object('code', i.code,
            'name', i.name),
        'filing_institution', a.filing_institution,
        'agent', CASE WHEN a.agent_name IS NULL THEN NULL ELSE
            json_build_object('name', a.agent_name,
            'id_number', mask_id(a.agent_id_number),
            'relation', a.agent_relation, 'phone', a.agent_phone) END,
        'precheck', a.precheck,
        'created_at', a.created_at, 'submitted_at', a.submitted_at,
        'decided_at', a.decided_at,
        'expected_decision_date', CASE WHEN a.status IN
            ('submitted', 'in_review') THEN a.expected_decision_date END,
        'missing_materials', missing_materials(a.id),
        'materials', (SELECT coalesce(json_agg(json_build_object(
            'id', m.id, 'kind', m.kind, 'name', mk.name,
            'issued_on', m.issued_on, 'issuer', m.issuer,
            'media_type', m.media_type, 'size', m.size_bytes,
            'uploaded_at', m.created_at) ORDER BY m.id), '[]')
            FROM materials m JOIN material_kinds mk ON mk.code = m.kind
            WHERE m.application_id = a.id AND m.deleted_at IS NULL),
        'timeline', (SELECT coalesce(json_agg(json_build_object(
            'at', e.at, 'type', e.type, 'text', event_text(e.type, e.data))
            ORDER BY e.id), '[]') FROM events e
            WHERE e.application_id = a.id))::text
    FROM applications a JOIN persons p ON p.id = a.person_id
    JOIN diseases d ON d.code = a.disease
    JOIN institutions i ON i.code = a.designated_institution
    WHERE a.id = app);
END $$;

-- The expected decision date, counted at submission (R-CER-6).
ALTER TABLE applications ADD COLUMN expected_decision_date date;

-- Views live apart from applications: a status change then rewrites a
-- narrow row, and a view rewrite is a HOT update of a table whose only
-- index is its key.  toast_tuple_target keeps views of a few KiB inline
-- and uncompressed, so a read is one page and no decompression.
CREATE TABLE application_views (
    application_id bigint PRIMARY KEY REFERENCES applications(id),
    view        text NOT NULL
) WITH (fillfactor = 50, toast_tuple_target = 8160);

CREATE FUNCTION refresh_application_view() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO application_views (application_id, view)
    VALUES (NEW.application_id, application_view(NEW.application_id))
    ON CONFLICT (application_id) DO UPDATE SET view = EXCLUDED.view;
    RETURN NULL;
END $$;
CREATE TRIGGER events_refresh_view AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION refresh_application_view();

-- Submit an application (POST /applications/{id}/submit) in one call and
-- one transaction: lock the application and its person (so one person's
-- submissions are counted one after the other, R-APP-6), check every
-- rule, then change the state, write the event and queue the SMS.
-- The caller's scope comes as (s_role, s_person, s_inst, s_region).
-- Returns {"ok": {...}} or {"error": code, ...}.
CREATE FUNCTION submit_application(app bigint, actor bigint, s_role text,
    s_person bigint, s_inst text, s_region text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    found_list jsonb;
    refusal jsonb;
    dname text;
BEGIN
    SELECT x.* INTO a FROM applications x JOIN persons p ON p.id = x.person_id
    WHERE x.id = app
      AND ((s_role = 'insured' AND x.person_id = s_person)
           OR (s_role = 'hospital' AND x.filing_institution = s_inst)
           OR (s_role = 'agency' AND x.region = s_region)
           OR s_role = 'admin')
    FOR UPDATE OF x, p;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'not_found');
    END IF;
    IF a.status NOT IN ('draft', 'returned') THEN
        RETURN jsonb_build_object('error', 'not_submittable', 'status', a.status);
    END IF;
    found_list := missing_materials(app);
    IF found_list <> '[]' THEN
        RETURN jsonb_build_object('error', 'materials_missing',
                                  'list', found_list);
    END IF;
    found_list := stale_materials(app);
    IF found_list <> '[]' THEN
        RETURN jsonb_build_object('error', 'material_too_old',
                                  'list', found_list);
    END IF;
    refusal := submission_refusal(app);
    IF refusal IS NOT NULL THEN
        RETURN jsonb_build_object('error', 'refused', 'refusal', refusal);
    END IF;
    UPDATE applications SET status = 'submitted', promised_at = now(),
        submitted_at = coalesce(submitted_at, now()), updated_at = now(),
        -- Counted from the day the application is complete (R-APP-8),
        -- so a resubmission after a return starts the count again.
        expected_decision_date = add_working_days(cn_today(),
            policy_value(region, CASE WHEN review_mode = 'single'
                THEN 'instant_decision_working_days'
                ELSE 'decision_working_days' END)::int)
    WHERE id = app RETURNING * INTO a;
    SELECT name INTO dname FROM diseases WHERE code = a.disease;
    INSERT INTO sms_outbox (to_phone, template, body)
    VALUES (a.phone, 'application_submitted',
            format('【门诊慢特病】您的“%s”认定申请（编号%s）已提交，结果将以短信通知。',
                   dname, a.id));
    -- The event last: its trigger rebuilds the view with all of the above.
    INSERT INTO events (application_id, type, actor_user, actor_role)
    VALUES (app, CASE WHEN a.promised_at <> a.submitted_at
                 THEN 'resubmitted' ELSE 'submitted' END, actor, s_role);
    RETURN jsonb_build_object('ok', jsonb_build_object(
        'id', a.id, 'status', a.status, 'submitted_at', a.submitted_at,
        'expected_decision_date', a.expected_decision_date));
END $$;
