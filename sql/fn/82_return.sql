-- 82_return.sql -- the returned state (R-APP-8, S3 第七条 申请材料不齐全的，
-- 一次性告知需补齐的材料; tables: sql/024_return.sql).
--
-- An expert holding an accepted task returns the application once, naming
-- every missing kind at once (一次性告知) and what exactly is missing.
-- The applicant adds them and submits again by resubmit_by
-- (submit_application, 20_applications.sql: the same checks as the first
-- time, plus returned_missing below); the same stage is then pushed again
-- with a new draw (mark_first_push, 30_review.sql).  The returning expert
-- is not barred from that draw but comes last: eligible_experts puts the
-- experts who already held the application after those who did not, so
-- they are drawn again only when nobody fresh is eligible (a region with
-- one expert of the specialty still finishes).  Past resubmit_by the
-- application is withdrawn (run_returns): S3 accepts only a complete
-- application (齐全的，予以受理), so an incomplete one was never accepted and
-- is not rejected on its merits -- no rejection on record, no objection
-- window, and the person may apply again.

-- The kinds a return asked for that have no material uploaded since the
-- return, in the order the expert named them, as missing_materials'
-- elements ({kind, name, note}); '[]' unless the application is returned.
CREATE OR REPLACE FUNCTION returned_missing(app bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('kind', k.kind,
               'name', mk.name, 'note', a.return_note) ORDER BY k.n), '[]')
    FROM applications a
    CROSS JOIN unnest(a.returned_kinds) WITH ORDINALITY AS k(kind, n)
    JOIN material_kinds mk ON mk.code = k.kind
    WHERE a.id = app AND a.status = 'returned'
      AND NOT EXISTS (SELECT 1 FROM materials m WHERE m.application_id = a.id
                      AND m.kind = k.kind AND m.deleted_at IS NULL
                      AND m.created_at >= a.returned_at)
$$;

-- The kinds of a return as [{code, name}] in the expert's order.
CREATE OR REPLACE FUNCTION returned_kinds_json(kinds text[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('code', k.kind,
               'name', mk.name) ORDER BY k.n), '[]')
    FROM unnest(kinds) WITH ORDINALITY AS k(kind, n)
    JOIN material_kinds mk ON mk.code = k.kind
$$;

-- The progress view's "returned": {kinds, note, resubmit_by} while the
-- application is returned, NULL otherwise.
CREATE OR REPLACE FUNCTION returned_view(a applications) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN a.status = 'returned' THEN json_build_object(
        'kinds', returned_kinds_json(a.returned_kinds),
        'note', a.return_note, 'resubmit_by', a.resubmit_by,
        'returned_at', a.returned_at) END
$$;

-- The expert returns an accepted task (POST /expert/tasks/{aid}/decision
-- {decision: "return", missing, opinion}).  kinds: 1-10 material kind
-- codes (the caller checked their form), each one the disease's in the
-- application's region (region_materials, 94_catalog_admin.sql: what the
-- applicant can upload for it there); note: what
-- exactly is missing.  Lock order of 30_review.sql: the assignment, then
-- the application.  Returns {"assignment","application","stage",
-- "region","final":false,"resubmit_by"} or a refusal: task_refusal's (404/409),
-- return_already_used (409, once per application), return_not_in_objection
-- (409, a seat of an objection's panel: the panel decides on what the
-- objection brought, and a return would leave its other seats live on a
-- returned application and the objection open on a lapsed one),
-- material_kind_not_needed (422, field missing, args [kind]).
CREATE OR REPLACE FUNCTION return_assignment(asg bigint, expert bigint,
    kinds text[], note text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x assignments%ROWTYPE;
    a applications%ROWTYPE;
    bad text;
    dname text;
    names text;
BEGIN
    SELECT * INTO x FROM assignments WHERE id = asg AND expert_id = expert
        AND state = 'accepted' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN task_refusal(asg, expert);
    END IF;
    SELECT * INTO a FROM applications WHERE id = x.application_id FOR UPDATE;
    IF x.stage >= objection_first_stage() THEN
        RETURN jsonb_build_object('error', 'return_not_in_objection');
    END IF;
    IF a.returned_at IS NOT NULL THEN
        RETURN jsonb_build_object('error', 'return_already_used');
    END IF;
    SELECT k INTO bad FROM unnest(kinds) k
    WHERE NOT EXISTS (SELECT 1 FROM region_materials(a.region, a.disease) rm
                      WHERE rm.kind = k)
    LIMIT 1;
    IF bad IS NOT NULL THEN
        RETURN jsonb_build_object('error', 'material_kind_not_needed',
            'field', 'missing', 'args', jsonb_build_array(bad));
    END IF;
    -- Each kind once, in the expert's order.
    SELECT array_agg(k ORDER BY n) INTO kinds FROM (SELECT k, min(n) AS n
        FROM unnest(kinds) WITH ORDINALITY AS u(k, n) GROUP BY k) s;
    UPDATE assignments SET state = 'returned', ended_at = now(),
        opinion = note WHERE id = asg;
    UPDATE applications SET status = 'returned', returned_at = now(),
        returned_kinds = kinds, return_note = note, push_stage = NULL,
        resubmit_by = cn_today()
            + policy_value(region, 'return_resubmit_days')::int,
        expected_decision_date = NULL, updated_at = now()
    WHERE id = a.id RETURNING * INTO a;
    SELECT name INTO dname FROM diseases WHERE code = a.disease;
    SELECT string_agg(e->>'name', '、') INTO names
    FROM jsonb_array_elements(returned_kinds_json(kinds)) e;
    INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
    VALUES (plain_until_sealed(a.phone, a.phone_enc), a.phone_enc, 'application_returned', format(
        '【门诊慢特病】您的“%s”认定申请（编号%s）材料不全，请于%s前补充：%s，并重新提交；逾期未提交的，申请将被撤回。',
        dname, a.id, to_char(a.resubmit_by, 'YYYY年MM月DD日'), names));
    INSERT INTO events (application_id, type, actor_user, actor_role, data)
    VALUES (a.id, 'returned', expert, 'expert', jsonb_build_object(
        'stage', x.stage, 'assignment', x.id,
        'kinds', returned_kinds_json(kinds), 'resubmit_by', a.resubmit_by));
    RETURN jsonb_build_object('assignment', x.id, 'application', a.id,
        'stage', x.stage, 'final', false, 'region', a.region,
        'resubmit_by', a.resubmit_by);
END $$;

-- The lapse job (dispatcher, and `mtcertctl returns run`): up to p_batch
-- returned applications past their resubmit_by are withdrawn, with the
-- event return_lapsed and an SMS.  Several dispatchers share the work
-- (SKIP LOCKED) and the status condition makes a second run a no-op.
-- Returns how many lapsed.
CREATE OR REPLACE FUNCTION run_returns(p_batch int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    dname text;
    n int := 0;
BEGIN
    FOR a IN SELECT x.* FROM applications x
        WHERE x.status = 'returned' AND x.resubmit_by < cn_today()
        ORDER BY x.resubmit_by, x.id LIMIT p_batch FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE applications SET status = 'withdrawn', updated_at = now()
        WHERE id = a.id;
        SELECT name INTO dname FROM diseases WHERE code = a.disease;
        INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
        VALUES (plain_until_sealed(a.phone, a.phone_enc), a.phone_enc, 'application_return_lapsed', format(
            '【门诊慢特病】您的“%s”认定申请（编号%s）未在%s前补齐材料，申请已撤回；如需认定，请重新申请。',
            dname, a.id, to_char(a.resubmit_by, 'YYYY年MM月DD日')));
        INSERT INTO events (application_id, type, actor_role, data)
        VALUES (a.id, 'return_lapsed', 'system',
                jsonb_build_object('resubmit_by', a.resubmit_by));
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
