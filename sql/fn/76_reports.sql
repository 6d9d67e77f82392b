-- 76_reports.sql -- the hospitals' quarterly certification table (R-SUP-2,
-- S4 西宁转发文 四(二): 每季度结束后10个工作日内送交): what a hospital
-- certified in a quarter (on-site certifications and panel decisions),
-- the same rows as JSON and as the CSV it downloads and sends, and which
-- hospitals of a region have sent theirs.  How files in sql/fn/ are
-- applied: see 10_util.sql.

-- The first and the last day of quarter q ('2026Q3': 2026-07-01 and
-- 2026-09-30).  q is checked by the caller (mt_valid_quarter).
CREATE OR REPLACE FUNCTION quarter_first_day(q text) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT make_date(left(q, 4)::int, right(q, 1)::int * 3 - 2, 1)
$$;
CREATE OR REPLACE FUNCTION quarter_last_day(q text) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT (quarter_first_day(q) + interval '3 months')::date - 1
$$;

-- The last quarter that ended before day d (the one whose table is due).
CREATE OR REPLACE FUNCTION quarter_before(d date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(date_trunc('quarter', d::timestamp) - interval '1 day',
                   'YYYY"Q"Q')
$$;

-- The last day a hospital of region reg may send its table of quarter q:
-- quarterly_report_working_days working days after the quarter's end.
CREATE OR REPLACE FUNCTION quarterly_due_on(reg text, q text) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT add_working_days(quarter_last_day(q),
        policy_value(reg, 'quarterly_report_working_days')::int)
$$;

-- The certifications hospital inst made in quarter q (China's days), in
-- time order: its on-site certifications (certifications) and its
-- panels' decisions (panel_decisions, the members' names as the
-- physician).  ID numbers masked; person_id for the access log only.
CREATE OR REPLACE FUNCTION quarterly_rows(inst text, q text)
RETURNS TABLE (application_id bigint, person_id bigint,
    certified_at timestamptz, name text, id_number text, insurance text,
    disease_code text, disease_name text, mode text, conclusion text,
    physician_name text)
LANGUAGE sql STABLE AS $$
    WITH span AS (
        SELECT quarter_first_day(q)::timestamp AT TIME ZONE 'Asia/Shanghai'
                   AS t0,
               (quarter_last_day(q) + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
                   AS t1),
    done AS (
        SELECT c.application_id, c.certified_at AS at, 'onsite' AS mode,
               c.conclusion, c.physician_name
        FROM certifications c, span
        WHERE c.institution = inst
          AND c.certified_at >= span.t0 AND c.certified_at < span.t1
        UNION ALL
        SELECT p.application_id, p.decided_at, 'panel', p.conclusion,
               (SELECT string_agg(coalesce(nullif(u.display_name, ''),
                                           u.login), '、' ORDER BY u.id)
                FROM panel_members m JOIN users u ON u.id = m.expert_id
                WHERE m.application_id = p.application_id)
        FROM panel_decisions p, span
        WHERE p.institution = inst
          AND p.decided_at >= span.t0 AND p.decided_at < span.t1)
    SELECT d.application_id, a.person_id, d.at, pe.name,
           shown_id(pe.id_number_masked, pe.id_number),
           pe.insurance, di.code, di.name, d.mode, d.conclusion,
           d.physician_name
    FROM done d JOIN applications a ON a.id = d.application_id
    JOIN persons pe ON pe.id = a.person_id
    JOIN diseases di ON di.code = a.disease
    ORDER BY d.at, d.application_id
$$;

-- One CSV field (RFC 4180): quoted when it holds a comma, a quote or a
-- line break, quotes doubled.  A text a spreadsheet would run as a
-- formula (= + - @ first) gets a leading ' (OWASP's CSV injection
-- advice); NULL is empty.
CREATE OR REPLACE FUNCTION csv_field(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t IS NULL THEN ''
                WHEN t ~ '[",\r\n]' THEN '"' || replace(t, '"', '""') || '"'
                ELSE t END
    FROM (SELECT CASE WHEN s ~ '^[=+@\t\r-]' THEN '''' || s ELSE s END AS t) x
$$;

-- The table of hospital inst for quarter q as the CSV it downloads and
-- sends (UTF-8 with a byte order mark, so a spreadsheet reads the
-- Chinese; CRLF lines; Chinese headers and words).  The bytes are what
-- submit_quarterly_report's sha256 covers: change the layout and every
-- table sent before no longer matches its download.
CREATE OR REPLACE FUNCTION quarterly_csv(inst text, q text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT E'\uFEFF' || '申请编号,认定时间,姓名,身份证号,险种,病种编码,病种名称,'
        || '认定方式,认定结论,认定医师' || E'\r\n'
        || coalesce(string_agg(concat_ws(',', r.application_id,
               to_char(r.certified_at AT TIME ZONE 'Asia/Shanghai',
                       'YYYY-MM-DD HH24:MI'),
               csv_field(r.name), r.id_number,
               CASE r.insurance WHEN 'employee' THEN '职工医保'
                    ELSE '城乡居民医保' END,
               r.disease_code, csv_field(r.disease_name),
               CASE r.mode WHEN 'onsite' THEN '现场认定'
                    ELSE '专家组评审' END,
               CASE r.conclusion WHEN 'approve' THEN '通过'
                    ELSE '不通过' END,
               csv_field(r.physician_name)) || E'\r\n', ''
               ORDER BY r.certified_at, r.application_id), '')
    FROM quarterly_rows(inst, q) r
$$;

-- GET /hospital/reports/quarterly?format=csv: the CSV, and one access_log
-- row (action export) per certification in it, naming its person -- the
-- download leaves the service with every person's name (R-SUP-6; the
-- JSON view is a masked list, not logged, as the other lists).  One
-- statement: the log and the CSV see the same rows.
CREATE OR REPLACE FUNCTION quarterly_export(inst text, q text, reader bigint)
RETURNS text
LANGUAGE sql AS $$
    WITH logged AS (
        SELECT log_reads(reader, 'certification', 'export',
                         array_agg(r.person_id), array_agg(r.application_id))
        FROM quarterly_rows(inst, q) r)
    SELECT quarterly_csv(inst, q) FROM logged
$$;

-- GET /hospital/reports/quarterly: {"ok": the table of hospital inst for
-- quarter q} -- the hospital, the quarter's days, the day it is due, whether
-- the quarter has ended (only then it can be sent), what was sent, the
-- rows -- or the refusal institution_unknown (a session without one).
CREATE OR REPLACE FUNCTION quarterly_report_json(inst text, q text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT jsonb_build_object('ok', jsonb_build_object(
            'institution', jsonb_build_object('code', i.code, 'name', i.name),
            'quarter', q,
            'from', quarter_first_day(q), 'to', quarter_last_day(q),
            'due_on', quarterly_due_on(i.region, q),
            'ended', cn_today() > quarter_last_day(q),
            'submitted', (SELECT jsonb_build_object('at', s.submitted_at,
                              'row_count', s.row_count, 'sha256', s.sha256)
                          FROM quarterly_reports s
                          WHERE s.institution = i.code AND s.quarter = q),
            'items', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'application_id', r.application_id,
                'certified_at', r.certified_at,
                'name', r.name, 'id_number', r.id_number,
                'insurance', r.insurance,
                'disease', jsonb_build_object('code', r.disease_code,
                                              'name', r.disease_name),
                'mode', r.mode, 'conclusion', r.conclusion,
                'physician_name', r.physician_name)
                ORDER BY r.certified_at, r.application_id)
                FROM quarterly_rows(i.code, q) r), '[]'::jsonb)))
        FROM institutions i WHERE i.code = inst),
        jsonb_build_object('error', 'institution_unknown'))
$$;

-- POST /hospital/reports/quarterly: hospital inst sends its table of
-- quarter q (R-SUP-2): the row count and the SHA-256 of the CSV it
-- downloads, by whom, when.  {"ok": {quarter, row_count, sha256,
-- submitted_at}}, or the refusals quarter_not_ended (422, the quarter
-- has not ended in China's days) and report_already_submitted (409, with
-- when; once per hospital and quarter, also under a race).
CREATE OR REPLACE FUNCTION submit_quarterly_report(inst text, q text,
    who bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    s quarterly_reports%ROWTYPE;
    n integer;
    csv text;
BEGIN
    IF cn_today() <= quarter_last_day(q) THEN
        RETURN jsonb_build_object('error', 'quarter_not_ended',
            'field', 'quarter', 'args', jsonb_build_array(q));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM quarterly_reports r
                   WHERE r.institution = inst AND r.quarter = q) THEN
        -- One statement: the count and the CSV of the same rows.
        SELECT count(*), quarterly_csv(inst, q) INTO n, csv
        FROM quarterly_rows(inst, q);
        INSERT INTO quarterly_reports (institution, quarter, row_count,
                                       sha256, submitted_by)
        VALUES (inst, q, n, encode(sha256(convert_to(csv, 'UTF8')), 'hex'),
                who)
        ON CONFLICT DO NOTHING
        RETURNING * INTO s;
        IF FOUND THEN
            RETURN jsonb_build_object('ok', jsonb_build_object(
                'quarter', q, 'row_count', s.row_count, 'sha256', s.sha256,
                'submitted_at', s.submitted_at));
        END IF;
    END IF;
    SELECT * INTO s FROM quarterly_reports r
    WHERE r.institution = inst AND r.quarter = q;
    RETURN jsonb_build_object('error', 'report_already_submitted',
        'field', 'quarter', 'args', jsonb_build_array(
            to_char(s.submitted_at AT TIME ZONE 'Asia/Shanghai',
                    'YYYY-MM-DD HH24:MI')));
END $$;

-- GET /agency/reports/quarterly: {"ok": which hospitals of region reg sent
-- their table of quarter q} -- each certifying hospital of the region
-- (and any other that sent one): submitted, late (not sent and today is
-- after due_on) or pending; late ones first -- or region_not_found.
CREATE OR REPLACE FUNCTION quarterly_status_json(reg text, q text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT jsonb_build_object('ok', jsonb_build_object(
            'region', jsonb_build_object('code', g.code, 'name', g.name),
            'quarter', q,
            'from', quarter_first_day(q), 'to', quarter_last_day(q),
            'due_on', due.d,
            'ended', cn_today() > quarter_last_day(q),
            'items', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'institution', jsonb_build_object('code', x.code,
                                                  'name', x.name),
                'state', x.state, 'submitted_at', x.submitted_at,
                'row_count', x.row_count,
                'submitted_late', (x.submitted_at AT TIME ZONE
                                   'Asia/Shanghai')::date > due.d)
                ORDER BY x.state = 'submitted', x.state = 'pending', x.code)
                FROM (SELECT i.code, i.name, s.submitted_at, s.row_count,
                             CASE WHEN s.institution IS NOT NULL
                                  THEN 'submitted'
                                  WHEN cn_today() > due.d THEN 'late'
                                  ELSE 'pending' END AS state
                      FROM institutions i
                      LEFT JOIN quarterly_reports s
                        ON s.institution = i.code AND s.quarter = q
                      WHERE i.region = g.code
                        AND (i.certifying OR s.institution IS NOT NULL)) x),
                '[]'::jsonb)))
        FROM regions g
        CROSS JOIN LATERAL (SELECT quarterly_due_on(g.code, q) AS d) due
        WHERE g.code = reg),
        jsonb_build_object('error', 'region_not_found', 'field', 'region'))
$$;
