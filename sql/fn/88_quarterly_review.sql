-- 88_quarterly_review.sql -- the quarterly review (复核, R-SUP-2, S2 三
-- 按照"双随机，一公开"原则从门诊慢特病专家库中抽取临床专家开展……复核
-- 工作): who draws it and when, the two draws (15_draw.sql record_draw:
-- 'review_experts' and 'review_cases'), which reviewer gets which case,
-- the reviewers' results, and the counts published for each region and
-- quarter.  Tables: sql/027_quarterly_review.sql.
--
-- Rules:
--   when     a region with quarterly_review_day D > 0 is due for the
--            last ended quarter from day D of the quarter after it on
--            (S2 三: 4-10 日……抽取确定各临床专业专家); the agency may
--            draw an ended quarter at any time (POST /agency/reviews);
--            once per region and quarter;
--   who      quarterly_review_reviewers of the region's active experts
--            (experts of its hospitals, users not disabled), fewer when
--            the pool is smaller;
--   cases    quarterly_review_rate_percent of the quarter's decided
--            applications (approved and rejected, every channel and
--            review mode, decided_at in the quarter, China's days),
--            rounded up, at least one;
--   assign   case number i (draw order, from 1) goes to the reviewer of
--            seat ((i - 1) mod R) + 1, or, when that reviewer decided
--            the application (a decided push or a hospital panel seat),
--            to the next seat in draw order that did not (wrapping);
--            when every reviewer decided it, to nobody (the agency sees
--            it unassigned).  review_reviewer_for() is that rule, used
--            both to assign and by `mtcertctl review verify`.
--   result   the reviewer agrees or disagrees (a note is then
--            required), once.  A disagreement changes no decision: the
--            agency sees it (GET /agency/reviews/{id}) and may open the
--            application's archive and end a qualification through
--            POST /agency/qualifications/{id}/terminate, as for any
--            other finding.

-- Did expert e decide application app (so may not review it)?
CREATE OR REPLACE FUNCTION review_decided_by(app bigint, e bigint)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM assignments x
                   WHERE x.application_id = app AND x.expert_id = e
                     AND x.state = 'decided')
        OR EXISTS (SELECT 1 FROM panel_members m
                   WHERE m.application_id = app AND m.expert_id = e)
$$;

-- The reviewer case number i (from 1) of review rv goes to: see
-- "assign" above.  NULL when every reviewer decided the application.
CREATE OR REPLACE FUNCTION review_reviewer_for(rv bigint, i integer,
    app bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    WITH r AS (SELECT seat, expert_id, count(*) OVER () AS n
               FROM quarterly_review_reviewers WHERE review_id = rv)
    SELECT expert_id FROM r
    WHERE NOT review_decided_by(app, expert_id)
    ORDER BY (seat - 1 - (i - 1) % n + n) % n
    LIMIT 1
$$;

-- The region's active experts: the reviewers' pool.
CREATE OR REPLACE FUNCTION review_expert_pool(reg text) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT e.user_id FROM experts e
                 JOIN users u ON u.id = e.user_id AND NOT u.disabled
                 JOIN institutions i ON i.code = u.institution
                 WHERE i.region = reg AND e.status = 'active'
                 ORDER BY e.user_id)
$$;

-- The applications of region reg decided in quarter q: the cases' pool.
CREATE OR REPLACE FUNCTION review_case_pool(reg text, q text)
RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT a.id FROM applications a
                 WHERE a.region = reg AND a.status IN ('approved', 'rejected')
                   AND a.decided_at >= quarter_first_day(q)::timestamp
                                       AT TIME ZONE 'Asia/Shanghai'
                   AND a.decided_at < (quarter_last_day(q) + 1)::timestamp
                                      AT TIME ZONE 'Asia/Shanghai'
                 ORDER BY a.id)
$$;

-- Draw region reg's review of quarter q now, for user actor (NULL: the
-- dispatcher's job).  {"ok": review} (quarterly_review_json), or a
-- refusal: region_not_found (404), review_quarter_open (422: the
-- quarter has not ended), review_already_drawn (409), review_no_experts
-- (422: nobody active in the pool).
CREATE OR REPLACE FUNCTION draw_quarterly_review(reg text, q text,
    actor bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    experts bigint[];
    cases bigint[];
    rate integer;
    dr draws;
    dc draws;
    rv bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM regions WHERE code = reg) THEN
        RETURN jsonb_build_object('error', 'region_not_found',
                                  'field', 'region');
    END IF;
    IF quarter_last_day(q) >= cn_today() THEN
        RETURN jsonb_build_object('error', 'review_quarter_open',
                                  'args', jsonb_build_array(q),
                                  'field', 'quarter');
    END IF;
    -- Two draws of one quarter at once: the second waits, then sees it.
    PERFORM pg_advisory_xact_lock(hashtext('quarterly_review'),
                                  hashtext(reg || q));
    IF EXISTS (SELECT 1 FROM quarterly_reviews
               WHERE region = reg AND quarter = q) THEN
        RETURN jsonb_build_object('error', 'review_already_drawn',
                                  'args', jsonb_build_array(q),
                                  'field', 'quarter');
    END IF;
    experts := review_expert_pool(reg);
    IF cardinality(experts) = 0 THEN
        RETURN jsonb_build_object('error', 'review_no_experts');
    END IF;
    rate := policy_value(reg, 'quarterly_review_rate_percent')::int;
    dr := record_draw('review_experts', reg, experts,
        least(policy_value(reg, 'quarterly_review_reviewers')::int,
              cardinality(experts)));
    cases := review_case_pool(reg, q);
    IF cardinality(cases) > 0 THEN
        dc := record_draw('review_cases', reg, cases,
            greatest(1, ceil(cardinality(cases) * rate / 100.0)::int));
    END IF;
    INSERT INTO quarterly_reviews (region, quarter, rate_percent,
        population, reviewer_draw_id, case_draw_id, drawn_by)
    VALUES (reg, q, rate, cardinality(cases), dr.id, dc.id, actor)
    RETURNING id INTO rv;
    INSERT INTO quarterly_review_reviewers (review_id, seat, expert_id)
    SELECT rv, o, e FROM unnest(dr.chosen) WITH ORDINALITY AS t(e, o);
    INSERT INTO quarterly_review_cases (review_id, seq, application_id,
                                        expert_id)
    SELECT rv, o, app, review_reviewer_for(rv, o::int, app)
    FROM unnest(coalesce(dc.chosen, '{}')) WITH ORDINALITY AS t(app, o);
    RETURN jsonb_build_object('ok', quarterly_review_json(rv));
END $$;

-- The counts of review rv that are published (no personal data).
CREATE OR REPLACE FUNCTION quarterly_review_counts(rv bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'population', q.population,
        'cases_drawn', count(c.id),
        'reviewed', count(c.result),
        'agree', count(*) FILTER (WHERE c.result = 'agree'),
        'disagree', count(*) FILTER (WHERE c.result = 'disagree'),
        'pending', count(c.id) - count(c.result),
        'reviewers', (SELECT count(*) FROM quarterly_review_reviewers r
                      WHERE r.review_id = rv))
    FROM quarterly_reviews q
    LEFT JOIN quarterly_review_cases c ON c.review_id = q.id
    WHERE q.id = rv
    GROUP BY q.id
$$;

-- One review as the agency sees it: the draws, the reviewers by name,
-- every case with its decision, reviewer and result, the counts.
CREATE OR REPLACE FUNCTION quarterly_review_json(rv bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', q.id, 'region', q.region, 'quarter', q.quarter,
        'from', quarter_first_day(q.quarter),
        'to', quarter_last_day(q.quarter),
        'drawn_at', q.drawn_at,
        'drawn_by', CASE WHEN q.drawn_by IS NULL THEN 'schedule'
                         ELSE 'agency' END,
        'rate_percent', q.rate_percent,
        'reviewer_draw_id', q.reviewer_draw_id,
        'case_draw_id', q.case_draw_id,
        'counts', quarterly_review_counts(q.id),
        'reviewers', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'seat', r.seat, 'expert_id', r.expert_id,
                'name', coalesce(nullif(u.display_name, ''), u.login),
                'institution', u.institution) ORDER BY r.seat)
            FROM quarterly_review_reviewers r JOIN users u ON u.id = r.expert_id
            WHERE r.review_id = q.id), '[]'),
        'cases', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'id', c.id, 'seq', c.seq, 'application_id', c.application_id,
                'disease', jsonb_build_object('code', d.code, 'name', d.name),
                'review_mode', a.review_mode, 'channel', a.channel,
                'decision', a.status, 'decided_at', a.decided_at,
                'reviewer', CASE WHEN c.expert_id IS NOT NULL THEN
                    jsonb_build_object('expert_id', c.expert_id,
                        'name', coalesce(nullif(u.display_name, ''), u.login))
                    END,
                'result', c.result, 'note', c.note,
                'reviewed_at', c.reviewed_at) ORDER BY c.seq)
            FROM quarterly_review_cases c
            JOIN applications a ON a.id = c.application_id
            JOIN diseases d ON d.code = a.disease
            LEFT JOIN users u ON u.id = c.expert_id
            WHERE c.review_id = q.id), '[]'))
    FROM quarterly_reviews q WHERE q.id = rv
$$;

-- GET /agency/reviews: the reviews of region reg (NULL: every region),
-- newest quarter first, each with its counts.
CREATE OR REPLACE FUNCTION quarterly_reviews_json(reg text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('ok', jsonb_build_object('items',
        coalesce(jsonb_agg(jsonb_build_object(
            'id', q.id, 'region', q.region, 'quarter', q.quarter,
            'drawn_at', q.drawn_at,
            'drawn_by', CASE WHEN q.drawn_by IS NULL THEN 'schedule'
                             ELSE 'agency' END,
            'counts', quarterly_review_counts(q.id))
            ORDER BY q.quarter DESC, q.region), '[]'),
        'schedule', (SELECT jsonb_build_object(
            'day', policy_value(reg, 'quarterly_review_day')::int,
            'reviewers', policy_value(reg, 'quarterly_review_reviewers')::int,
            'rate_percent',
                policy_value(reg, 'quarterly_review_rate_percent')::int)
            WHERE reg IS NOT NULL)))
    FROM quarterly_reviews q WHERE reg IS NULL OR q.region = reg
$$;

-- GET /agency/reviews/{id}: {"ok": review} if it is region reg's (NULL:
-- any), else review_not_found.
CREATE OR REPLACE FUNCTION quarterly_review_of(rv bigint, reg text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT jsonb_build_object('ok', quarterly_review_json(id))
                     FROM quarterly_reviews
                     WHERE id = rv AND (reg IS NULL OR region = reg)),
                    jsonb_build_object('error', 'review_not_found'))
$$;

-- One case as its reviewer sees it: blind (sex, age band, region; never
-- name, ID number or phone), the decision under review and the
-- materials (their ids: GET /materials/{id} admits the reviewer).
CREATE OR REPLACE FUNCTION review_case_json(cid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', c.id, 'quarter', q.quarter, 'seq', c.seq,
        'application_id', a.id, 'review_mode', a.review_mode,
        'disease', jsonb_build_object('code', d.code, 'name', d.name,
                                      'specialty', d.specialty),
        'application', jsonb_build_object('sex', p.sex,
            'age_band', (extract(year FROM age(p.birth_date))::int / 10 * 10)
                || '-' || (extract(year FROM age(p.birth_date))::int / 10 * 10 + 9),
            'region', a.region),
        'decision', a.status, 'decided_at', a.decided_at,
        'decision_reason_code', a.decision_reason_code,
        'materials', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'id', m.id, 'kind', m.kind, 'name', mk.name,
                'issued_on', m.issued_on, 'media_type', m.media_type)
                ORDER BY m.id), '[]')
            FROM materials m JOIN material_kinds mk ON mk.code = m.kind
            WHERE m.application_id = a.id AND m.deleted_at IS NULL),
        'result', c.result, 'note', c.note, 'reviewed_at', c.reviewed_at)
    FROM quarterly_review_cases c
    JOIN quarterly_reviews q ON q.id = c.review_id
    JOIN applications a ON a.id = c.application_id
    JOIN persons p ON p.id = a.person_id
    JOIN diseases d ON d.code = a.disease
    WHERE c.id = cid
$$;

-- GET /expert/reviews?state=pending|done: the caller's cases, pending
-- first then newest, at most 200.
CREATE OR REPLACE FUNCTION expert_reviews_json(e bigint, st text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('ok', jsonb_build_object('items',
        coalesce(jsonb_agg(review_case_json(x.id)
                           ORDER BY x.result IS NOT NULL, x.id DESC), '[]')))
    FROM (SELECT c.id, c.result FROM quarterly_review_cases c
          WHERE c.expert_id = e
            AND (st IS NULL OR (st = 'pending') = (c.result IS NULL))
          ORDER BY c.result IS NOT NULL, c.id DESC LIMIT 200) x
$$;

-- May expert e read application app's materials as its reviewer?  (The
-- one permission check of GET /materials/{id} calls this.)
CREATE OR REPLACE FUNCTION reviewer_may_open(app bigint, e bigint)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM quarterly_review_cases c
                   WHERE c.application_id = app AND c.expert_id = e)
$$;

-- POST /expert/reviews/{case}/result: expert e's result on case cid.
-- {"ok": case} or review_case_not_found (404: none, or not e's),
-- review_result_given (409: already given), field_required (note of a
-- disagreement).
CREATE OR REPLACE FUNCTION give_review_result(cid bigint, e bigint,
    res text, nt text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c quarterly_review_cases%ROWTYPE;
BEGIN
    SELECT * INTO c FROM quarterly_review_cases
    WHERE id = cid AND expert_id = e FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'review_case_not_found');
    END IF;
    IF c.result IS NOT NULL THEN
        RETURN jsonb_build_object('error', 'review_result_given');
    END IF;
    IF res = 'disagree' AND coalesce(btrim(nt), '') = '' THEN
        RETURN jsonb_build_object('error', 'field_required',
            'args', jsonb_build_array('复核意见（不同意须写明理由）'),
            'field', 'note');
    END IF;
    UPDATE quarterly_review_cases
    SET result = res, note = nullif(btrim(nt), ''), reviewed_at = now()
    WHERE id = cid;
    RETURN jsonb_build_object('ok', review_case_json(cid));
END $$;

-- GET /reviews/public?region=&quarter=: the published counts of region
-- reg's review of quarter q (NULL: the newest drawn).  No personal data,
-- no names.  region_not_found or review_not_found (404).
CREATE OR REPLACE FUNCTION quarterly_review_public(reg text, q text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM regions WHERE code = reg) THEN
            jsonb_build_object('error', 'region_not_found', 'field', 'region')
        ELSE coalesce((
            SELECT jsonb_build_object('ok', jsonb_build_object(
                'region', jsonb_build_object('code', g.code, 'name', g.name),
                'quarter', r.quarter,
                'from', quarter_first_day(r.quarter),
                'to', quarter_last_day(r.quarter),
                'drawn_on', (r.drawn_at AT TIME ZONE 'Asia/Shanghai')::date,
                'rate_percent', r.rate_percent,
                'counts', quarterly_review_counts(r.id),
                'quarters', (SELECT jsonb_agg(x.quarter ORDER BY x.quarter DESC)
                             FROM quarterly_reviews x WHERE x.region = reg)))
            FROM quarterly_reviews r JOIN regions g ON g.code = r.region
            WHERE r.region = reg AND (q IS NULL OR r.quarter = q)
            ORDER BY r.quarter DESC LIMIT 1),
            jsonb_build_object('error', 'review_not_found'))
    END
$$;

-- The (region, quarter) pairs due on day d: regions whose
-- quarterly_review_day D > 0 when d is on or after day D of the
-- quarter after the last ended one, that quarter not yet drawn.
CREATE OR REPLACE FUNCTION quarterly_reviews_due(d date)
RETURNS TABLE (region text, quarter text)
LANGUAGE sql STABLE AS $$
    SELECT g.code, quarter_before(d)
    FROM regions g
    CROSS JOIN LATERAL (SELECT policy_value(g.code, 'quarterly_review_day')::int
                        AS day) p
    WHERE p.day > 0
      AND d >= quarter_last_day(quarter_before(d)) + p.day
      AND NOT EXISTS (SELECT 1 FROM quarterly_reviews r
                      WHERE r.region = g.code
                        AND r.quarter = quarter_before(d))
    ORDER BY g.code
$$;

-- The dispatcher's job (and `mtcertctl reviews run`): draw every review
-- due today.  Returns how many were drawn; a region that cannot be drawn
-- (nobody in its pool) is tried again on the next run.
CREATE OR REPLACE FUNCTION run_quarterly_reviews(d date DEFAULT cn_today())
RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    due record;
    n integer := 0;
BEGIN
    FOR due IN SELECT * FROM quarterly_reviews_due(d) LOOP
        IF draw_quarterly_review(due.region, due.quarter, NULL) ? 'ok' THEN
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END $$;

-- `mtcertctl review verify ID`: the review's two draws in the columns
-- verify_draws reads (draws_of_application's), then one row per case
-- whose reviewer is not the one the "assign" rule gives (purpose
-- 'unrecorded' with the case in `used`): none when all is as drawn.
CREATE OR REPLACE FUNCTION draws_of_review(rv bigint)
RETURNS TABLE (id bigint, purpose text, stage smallint, rule text,
               seed text, pool text, k integer, chosen text, used text)
LANGUAGE sql STABLE AS $$
    SELECT d.id, d.purpose, d.stage, d.rule, encode(d.seed, 'hex'),
           d.pool::text, d.k, d.chosen::text, draw_used(d)::text
    FROM quarterly_reviews q JOIN draws d
      ON d.id IN (q.reviewer_draw_id, q.case_draw_id)
    WHERE q.id = rv
    UNION ALL
    SELECT NULL, 'unrecorded', NULL, NULL, NULL, NULL, NULL, NULL,
           'case ' || c.id || ' of seq ' || c.seq || ' has reviewer '
           || coalesce(c.expert_id::text, 'none') || ', the rule gives '
           || coalesce(review_reviewer_for(rv, c.seq, c.application_id)::text,
                       'none')
    FROM quarterly_review_cases c
    WHERE c.review_id = rv
      AND c.expert_id IS DISTINCT FROM
          review_reviewer_for(rv, c.seq, c.application_id)
    ORDER BY 1 NULLS LAST
$$;
