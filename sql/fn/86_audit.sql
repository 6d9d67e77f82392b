-- 86_audit.sql -- audit samples (R-SUP-1, S0 五(二) 不低于 10% 的比例
-- 抽审, S3 第二十条 随机抽检): the agency draws a sample of the region's
-- approved qualifications of a period, records each item's result, and a
-- failed item ends the qualification (end_qualification, audit_failed).
-- The sample is one recorded draw (record_draw, 15_draw.sql): anyone
-- recomputes it with `mtcertctl audit verify ID` from the recorded
-- population (the draw's pool) and seed.  Tables: 026_audit.sql.

-- How a qualification was certified: by the experts online
-- (expert_review), by a hospital on site (hospital_onsite: its
-- certification form) or by a hospital's panel (hospital_panel); other:
-- one carried over without an application.
CREATE OR REPLACE FUNCTION audit_certified_by(app bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN app IS NULL THEN 'other'
        WHEN EXISTS (SELECT 1 FROM certifications c
                     WHERE c.application_id = app) THEN 'hospital_onsite'
        WHEN EXISTS (SELECT 1 FROM panel_decisions p
                     WHERE p.application_id = app) THEN 'hospital_panel'
        ELSE 'expert_review' END
$$;

-- The population of an audit of region r over [p_from, p_to] drawn at
-- p_at: the qualifications of r approved (created, China date) in the
-- period -- whoever certified them, experts or hospitals -- that existed
-- and had not ended at p_at, sorted by id.  Re-derivable: a later end
-- (an audit's own fail included) does not change it; a date edited
-- later does (`audit verify` says so).
-- XXX: a qualification whose transaction began before the draw's and
-- committed after the draw's snapshot is in the re-derived population
-- but not in the pool: `audit verify` reports it (rare: an approval in
-- the very second of a draw whose period ends today).
CREATE OR REPLACE FUNCTION audit_population(r text, p_from date,
    p_to date, p_at timestamptz) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(q.id ORDER BY q.id), '{}')
    FROM qualifications q
    WHERE q.region = r
      AND (q.created_at AT TIME ZONE 'Asia/Shanghai')::date
          BETWEEN p_from AND p_to
      AND q.created_at <= p_at
      AND (q.ended_at IS NULL OR q.ended_at > p_at)
$$;

-- The sample of an audit at rate percent of a population of n: at
-- least rate %, never fewer than one (S0 五(二)).  The one rule:
-- create_audit draws it, audit_population_check verifies it.
CREATE OR REPLACE FUNCTION audit_sample_size(rate numeric, n integer)
RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT greatest(1, ceil(rate * n / 100)::int)
$$;

-- One item of an audit (see audit_json).
CREATE OR REPLACE FUNCTION audit_item_json(it bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', i.id, 'audit_id', i.audit_id,
        'seat', i.seat, 'qualification_id', q.id,
        'application_id', q.application_id,
        'person', jsonb_build_object('name', mask_name(p.name),
            'id_number', shown_id(p.id_number_masked, p.id_number)),
        'disease', jsonb_build_object('code', d.code, 'name', d.name),
        'hospital', jsonb_build_object('code', h.code, 'name', h.name),
        'approved_on', (q.created_at AT TIME ZONE 'Asia/Shanghai')::date,
        'valid_from', q.valid_from, 'valid_to', q.valid_to,
        'qualification_status', q.status,
        'certified_by', audit_certified_by(q.application_id),
        'certifying_institution', (SELECT jsonb_build_object('code',
            ci.code, 'name', ci.name) FROM applications ap
            JOIN institutions ci ON ci.code = ap.certifying_institution
            WHERE ap.id = q.application_id),
        'result', i.result, 'note', i.note,
        'decided_by', (SELECT jsonb_build_object('id', u.id,
            'login', u.login) FROM users u WHERE u.id = i.decided_by),
        'decided_at', i.decided_at)
    FROM audit_items i JOIN qualifications q ON q.id = i.qualification_id
    JOIN persons p ON p.id = q.person_id
    JOIN diseases d ON d.code = q.disease
    JOIN institutions h ON h.code = q.designated_institution
    WHERE i.id = it
$$;

-- One audit as the agency reads it: the period, the rate, the
-- population and sample sizes, the draw (rule, seed, pool, chosen), the
-- counts and, with items, every sampled qualification (person masked:
-- the report is printed and passed round), how it was certified, its
-- result, note, who decided and when.  NULL when there is no audit a.
CREATE OR REPLACE FUNCTION audit_json(a bigint, with_items boolean)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', x.id, 'region', x.region,
        'from', x.from_date, 'to', x.to_date,
        'rate', x.rate_percent::int, 'population', x.population,
        'sample_size', d.k, 'drawn_at', x.drawn_at,
        'drawn_by', jsonb_build_object('id', u.id, 'login', u.login),
        'state', CASE WHEN c.pending = 0 THEN 'closed' ELSE 'open' END,
        'counts', jsonb_build_object('pass', c.pass, 'fail', c.fail,
            'pending', c.pending))
        || CASE WHEN with_items THEN jsonb_build_object(
            'draw', jsonb_build_object('id', d.id, 'rule', d.rule,
                'seed', encode(d.seed, 'hex'), 'pool', to_jsonb(d.pool),
                'chosen', to_jsonb(d.chosen), 'at', d.at),
            'items', (SELECT coalesce(jsonb_agg(audit_item_json(i.id)
                ORDER BY i.seat), '[]') FROM audit_items i
                WHERE i.audit_id = x.id))
           ELSE '{}' END
    FROM audits x JOIN draws d ON d.id = x.draw_id
    JOIN users u ON u.id = x.drawn_by
    CROSS JOIN LATERAL (SELECT
        count(*) FILTER (WHERE i.result = 'pass') AS pass,
        count(*) FILTER (WHERE i.result = 'fail') AS fail,
        count(*) FILTER (WHERE i.result = 'pending') AS pending
        FROM audit_items i WHERE i.audit_id = x.id) c
    WHERE x.id = a
$$;

-- Audit a's report with its items as user reader gets it, each sampled
-- qualification's read written to access_log (log_reads, action read):
-- the report names its persons (masked) and leads to their records,
-- like any read of a person's data.  The one way a report leaves: GET
-- /agency/audits/{id} (audit_report_read) and the draw's answer
-- (create_audit), which is the same report.
CREATE OR REPLACE FUNCTION audit_report_logged(a bigint, reader bigint)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM log_reads(reader, 'qualification', 'read',
        array_agg(q.person_id ORDER BY i.seat),
        array_agg(q.id ORDER BY i.seat))
    FROM audit_items i JOIN qualifications q ON q.id = i.qualification_id
    WHERE i.audit_id = a;
    RETURN audit_json(a, true);
END $$;

-- GET /agency/audits/{id}: audit a's report if it is of region r (NULL:
-- any), as user reader reads it (audit_report_logged).  NULL when there
-- is no such audit (nothing is logged then).
CREATE OR REPLACE FUNCTION audit_report_read(a bigint, r text,
    reader bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audits x
                   WHERE x.id = a AND (r IS NULL OR x.region = r)) THEN
        RETURN NULL;
    END IF;
    RETURN audit_report_logged(a, reader);
END $$;

-- Draw an audit (POST /agency/audits): the population of region r over
-- [p_from, p_to], a sample of audit_sample_size(rate, N) by
-- record_draw('audit', ...), one pending item per chosen qualification
-- in draw order.  Returns {"ok": the report, as actor read it
-- (audit_report_logged)} or a refusal: field_invalid
-- (to before from, to after today), audit_rate_too_low (below the
-- region's audit_min_rate_percent, named), audit_population_empty.
CREATE OR REPLACE FUNCTION create_audit(r text, p_from date, p_to date,
    p_rate integer, actor bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    min_rate integer := policy_value(r, 'audit_min_rate_percent')::int;
    pop bigint[];
    d draws%ROWTYPE;
    a bigint;
BEGIN
    IF p_to < p_from THEN
        RETURN jsonb_build_object('error', 'field_invalid', 'field', 'to',
            'args', jsonb_build_array('结束日期', '：不能早于开始日期'));
    END IF;
    IF p_to > cn_today() THEN
        RETURN jsonb_build_object('error', 'field_invalid', 'field', 'to',
            'args', jsonb_build_array('结束日期',
                '：不能晚于今天（' || cn_today() || '）'));
    END IF;
    IF p_rate < min_rate THEN
        RETURN jsonb_build_object('error', 'audit_rate_too_low',
            'field', 'rate', 'args', jsonb_build_array(min_rate::text));
    END IF;
    pop := audit_population(r, p_from, p_to, now());
    IF cardinality(pop) = 0 THEN
        RETURN jsonb_build_object('error', 'audit_population_empty',
            'field', 'from', 'args', jsonb_build_array(p_from::text,
                p_to::text));
    END IF;
    d := record_draw('audit', r, pop,
        audit_sample_size(p_rate, cardinality(pop)));
    INSERT INTO audits (region, from_date, to_date, rate_percent,
                        population, drawn_by, drawn_at, draw_id)
    VALUES (r, p_from, p_to, p_rate, cardinality(pop), actor, d.at, d.id)
    RETURNING id INTO a;
    INSERT INTO audit_items (audit_id, application_id, qualification_id,
                             seat)
    SELECT a, q.application_id, c.id, c.seat
    FROM unnest(d.chosen) WITH ORDINALITY AS c(id, seat)
    JOIN qualifications q ON q.id = c.id;
    -- The answer is the report: its read logged as a GET's.
    RETURN jsonb_build_object('ok', audit_report_logged(a, actor));
END $$;

-- Record an item's result (POST /agency/audits/{id}/items/{item}/
-- result) for the agency of region r (NULL: an admin).  A fail ends the
-- qualification through end_qualification (reason audit_failed: status
-- revoked, SMS, event) from today (or its first day when it has not
-- begun); one already ended stays as it ended.  Both results are events
-- of the application's timeline (audit_passed, audit_failed with the
-- note; never the agency user's name).  Returns {"ok": audit_item_json}
-- or a refusal: audit_item_not_found (none, not of that audit, another
-- region's), audit_item_decided, field_required (a fail without a note).
CREATE OR REPLACE FUNCTION record_audit_result(p_audit bigint,
    p_item bigint, r text, p_result text, p_note text, actor bigint,
    p_role text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    i audit_items%ROWTYPE;
    q qualifications%ROWTYPE;
BEGIN
    SELECT it.* INTO i FROM audit_items it JOIN audits x ON x.id = it.audit_id
    WHERE it.id = p_item AND it.audit_id = p_audit
      AND (r IS NULL OR x.region = r)
    FOR UPDATE OF it;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'audit_item_not_found',
            'field', 'item');
    END IF;
    IF i.result <> 'pending' THEN
        RETURN jsonb_build_object('error', 'audit_item_decided',
            'args', jsonb_build_array(CASE i.result WHEN 'pass' THEN '通过'
                ELSE '不通过' END,
                to_char(i.decided_at AT TIME ZONE 'Asia/Shanghai',
                        'YYYY-MM-DD HH24:MI')));
    END IF;
    IF p_result = 'fail' AND coalesce(p_note, '') = '' THEN
        RETURN jsonb_build_object('error', 'field_required', 'field', 'note',
            'args', jsonb_build_array('不通过的原因说明'));
    END IF;
    UPDATE audit_items SET result = p_result, note = nullif(p_note, ''),
        decided_by = actor, decided_at = now()
    WHERE id = i.id;
    SELECT * INTO q FROM qualifications WHERE id = i.qualification_id;
    IF q.application_id IS NOT NULL THEN
        INSERT INTO events (application_id, type, actor_user, actor_role,
                            data)
        VALUES (q.application_id, 'audit_' || CASE p_result WHEN 'pass'
                THEN 'passed' ELSE 'failed' END, actor, p_role,
            jsonb_build_object('audit', i.audit_id, 'qualification', q.id,
                'note', CASE WHEN p_result = 'fail' THEN p_note END));
    END IF;
    IF p_result = 'fail' AND q.status = 'active' THEN
        PERFORM end_qualification(q.id, 'audit_failed',
            greatest(cn_today(), q.valid_from), actor, p_role, p_note);
    END IF;
    RETURN jsonb_build_object('ok', audit_item_json(i.id));
END $$;

-- The draw of audit a for `mtcertctl audit verify` (the columns of
-- draws_of_application, which mtcertctl's verify_draws reads); `used` is
-- draw_used's audit branch: the items' qualifications in seat order.
-- No row when the audit refers to no draw (verify says so).
CREATE OR REPLACE FUNCTION draws_of_audit(a bigint)
RETURNS TABLE (id bigint, purpose text, stage smallint, rule text,
               seed text, pool text, k integer, chosen text, used text)
LANGUAGE sql STABLE AS $$
    SELECT d.id, d.purpose, d.stage, d.rule, encode(d.seed, 'hex'),
           d.pool::text, d.k, d.chosen::text, draw_used(d)::text
    FROM audits x JOIN draws d ON d.id = x.draw_id
    WHERE x.id = a
$$;

-- Audit a's population re-derived from the qualifications table now
-- (audit_population at the draw's time) against the recorded one (the
-- draw's pool) and the audit's count: NULL when all three agree, else
-- what differs, for `mtcertctl audit verify` (a qualification's date or
-- region edited after the draw, a pool altered).  'no audit' when a is
-- not there, 'no draw' when it refers to none.
CREATE OR REPLACE FUNCTION audit_population_check(a bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    x audits%ROWTYPE;
    d draws%ROWTYPE;
    now_pop bigint[];
BEGIN
    SELECT * INTO x FROM audits WHERE id = a;
    IF NOT FOUND THEN
        RETURN 'no audit ' || a;
    END IF;
    SELECT * INTO d FROM draws WHERE id = x.draw_id;
    IF NOT FOUND THEN
        RETURN 'the audit refers to no draw';
    END IF;
    IF d.purpose <> 'audit' OR d.region <> x.region THEN
        RETURN 'the draw is not this region''s audit draw';
    END IF;
    now_pop := audit_population(x.region, x.from_date, x.to_date, d.at);
    IF now_pop IS DISTINCT FROM d.pool THEN
        RETURN format('the qualifications give another population: '
            'recorded %s, now %s (not recorded: %s; recorded, not now: %s)',
            cardinality(d.pool), cardinality(now_pop),
            ARRAY(SELECT unnest(now_pop) EXCEPT SELECT unnest(d.pool)
                  ORDER BY 1),
            ARRAY(SELECT unnest(d.pool) EXCEPT SELECT unnest(now_pop)
                  ORDER BY 1));
    END IF;
    IF d.k <> audit_sample_size(x.rate_percent, cardinality(d.pool)) THEN
        RETURN format('the sample is %s, the rate %s%% of %s gives %s', d.k,
            x.rate_percent::int, cardinality(d.pool),
            audit_sample_size(x.rate_percent, cardinality(d.pool)));
    END IF;
    IF x.population <> cardinality(d.pool) THEN
        RETURN format('the audit says %s in the population, the draw %s',
            x.population, cardinality(d.pool));
    END IF;
    RETURN NULL;
END $$;
