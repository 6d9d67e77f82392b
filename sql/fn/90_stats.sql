-- 90_stats.sql -- the statistics of issue 12 (R-SUP-3, S0 四(二) 按月统计
-- 专家工作量; S0 二(三) 5-8 个工作日; S3 第八条 20 个工作日):
--
--   expert_stats_json(region, month)        GET /agency/stats/experts
--   turnaround_stats_json(region, from, to) GET /agency/stats/turnaround
--   public_stats_json(region, month)        GET /stats/public
--
-- Definitions, the same in all three:
--   - a month is a month of China days (Asia/Shanghai), 'YYYY-MM';
--   - median and p90 are percentile_cont (linear interpolation between
--     the two nearest ranks: the median of 1, 2, 3, 10 is 2.5, its p90
--     7.9), rounded to 2 decimals; null when there is nothing to count;
--   - hours are elapsed hours (pushed_at -> accepted_at to accept,
--     accepted_at -> ended_at of a decided assignment to decide);
--   - working days to decision are working_days_between(the China day of
--     submitted_at, the China day of decided_at) over the calendar
--     (10_util.sql): a day decided is 0, Friday -> Monday is 1;
--   - an application's target (R-CER-6) is decision_target_days
--     (10_util.sql), the one rule the expected decision date uses too:
--     instant diseases instant_decision_working_days, online channels the
--     region's own online_target_working_days where it has one (0: none),
--     else decision_working_days.

-- The first China day of month m ('YYYY-MM'), or a refusal when m is
-- after this month (a month nobody can have figures for yet).
CREATE OR REPLACE FUNCTION stats_month_refusal(m text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN (m || '-01')::date > date_trunc('month', cn_today())
        THEN jsonb_build_object('error', 'date_out_of_range',
            'field', 'month', 'args', jsonb_build_array('月份',
                '不能晚于本月 ' || to_char(cn_today(), 'YYYY-MM'))) END
$$;

-- A region's code and name, or NULL.
CREATE OR REPLACE FUNCTION stats_region(reg text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('code', code, 'name', name)
    FROM regions WHERE code = reg
$$;

-- x rounded to 2 decimals (a JSON number), NULL stays NULL.
CREATE OR REPLACE FUNCTION stats_round(x double precision) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT round(x::numeric, 2)
$$;

-- Each expert's workload in month m (NULL: this month) over the
-- assignments pushed in it of region reg's applications (NULL: every
-- region) -- the region whose work it is (R-SUP-3), whichever region's
-- hospital the expert comes from (an expert of another region drawn for
-- a panel counts here, under their own hospital); per expert, per
-- hospital and in total.
-- {"ok": {region, month, from, to, percentile, experts[], hospitals[],
-- total}} or a refusal (region_not_found, date_out_of_range).
CREATE OR REPLACE FUNCTION expert_stats_json(reg text, m text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    mon text := coalesce(m, to_char(cn_today(), 'YYYY-MM'));
    lo timestamptz;
    hi timestamptz;
    refusal jsonb := stats_month_refusal(mon);
    r jsonb;
BEGIN
    IF refusal IS NOT NULL THEN
        RETURN refusal;
    END IF;
    IF reg IS NOT NULL AND stats_region(reg) IS NULL THEN
        RETURN jsonb_build_object('error', 'region_not_found',
                                  'field', 'region');
    END IF;
    lo := ((mon || '-01')::date)::timestamp AT TIME ZONE 'Asia/Shanghai';
    hi := (((mon || '-01')::date + interval '1 month')::date)::timestamp
          AT TIME ZONE 'Asia/Shanghai';
    WITH a AS (
        SELECT x.expert_id, u.institution AS hosp, x.state, x.accepted_at,
               extract(epoch FROM x.accepted_at - x.pushed_at) / 3600
                   AS acc_h,
               CASE WHEN x.state = 'decided' THEN
                   extract(epoch FROM x.ended_at - x.accepted_at) / 3600
               END AS dec_h
        FROM assignments x
        JOIN users u ON u.id = x.expert_id
        JOIN applications ap ON ap.id = x.application_id
        WHERE x.pushed_at >= lo AND x.pushed_at < hi
          AND (reg IS NULL OR ap.region = reg)),
    g AS (
        SELECT expert_id, hosp, grouping(expert_id) AS ge,
               grouping(hosp) AS gh,
               count(DISTINCT expert_id) AS experts,
               jsonb_build_object(
                   'pushed', count(*),
                   'accepted', count(accepted_at),
                   'refused', count(*) FILTER (WHERE state = 'refused'),
                   'expired', count(*) FILTER (WHERE state = 'expired'),
                   'decided', count(*) FILTER (WHERE state = 'decided'),
                   'accept_hours', jsonb_build_object(
                       'median', stats_round(percentile_cont(0.5)
                           WITHIN GROUP (ORDER BY acc_h)),
                       'p90', stats_round(percentile_cont(0.9)
                           WITHIN GROUP (ORDER BY acc_h))),
                   'decide_hours', jsonb_build_object(
                       'median', stats_round(percentile_cont(0.5)
                           WITHIN GROUP (ORDER BY dec_h)),
                       'p90', stats_round(percentile_cont(0.9)
                           WITHIN GROUP (ORDER BY dec_h)))) AS f
        FROM a GROUP BY GROUPING SETS ((expert_id, hosp), (hosp), ()))
    SELECT jsonb_build_object(
        'region', stats_region(reg), 'month', mon,
        'from', lo, 'to', hi, 'percentile', 'percentile_cont',
        'experts', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'id', g.expert_id,
                'name', coalesce(nullif(u.display_name, ''), u.login),
                'hospital', jsonb_build_object('code', i.code,
                                               'name', i.name)) || g.f
                ORDER BY i.code, g.expert_id)
            FROM g JOIN users u ON u.id = g.expert_id
            JOIN institutions i ON i.code = g.hosp
            WHERE g.ge = 0), '[]'::jsonb),
        'hospitals', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'hospital', jsonb_build_object('code', i.code,
                                               'name', i.name),
                'experts', g.experts) || g.f ORDER BY i.code)
            FROM g JOIN institutions i ON i.code = g.hosp
            WHERE g.ge = 1 AND g.gh = 0), '[]'::jsonb),
        -- The grouping set () gives a row even over no assignment.
        'total', (SELECT jsonb_build_object('experts', g.experts) || g.f
                  FROM g WHERE g.gh = 1))
    INTO r;
    RETURN jsonb_build_object('ok', r);
END $$;

-- Applications of region reg decided (approved or rejected) on China
-- days d_from..d_to (NULL: this month up to today), by disease, channel
-- and review mode and in total, each against its target.  At most
-- 366 days.  {"ok": {...}} or a refusal (region_not_found,
-- date_out_of_range).
CREATE OR REPLACE FUNCTION turnaround_stats_json(reg text, d_from date,
                                                 d_to date)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t date := coalesce(d_to, cn_today());
    f date := coalesce(d_from, date_trunc('month', t)::date);
    r jsonb;
BEGIN
    IF stats_region(reg) IS NULL THEN
        RETURN jsonb_build_object('error', 'region_not_found',
                                  'field', 'region');
    END IF;
    IF f > t OR t - f > 365 THEN
        RETURN jsonb_build_object('error', 'date_out_of_range',
            'field', 'from', 'args', jsonb_build_array('统计区间',
                '开始日期不能晚于结束日期，且最长 366 天'));
    END IF;
    WITH a AS (
        SELECT x.disease, x.channel, x.review_mode, x.status,
               working_days_between(
                   (x.submitted_at AT TIME ZONE 'Asia/Shanghai')::date,
                   (x.decided_at AT TIME ZONE 'Asia/Shanghai')::date) AS wd,
               decision_target_days(reg, x.review_mode, x.channel)
                   AS target
        FROM applications x
        WHERE x.region = reg AND x.status IN ('approved', 'rejected')
          AND x.decided_at >= f::timestamp AT TIME ZONE 'Asia/Shanghai'
          AND x.decided_at < (t + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
          AND x.submitted_at IS NOT NULL),
    g AS (
        SELECT disease, channel, review_mode, grouping(disease) AS gd,
               grouping(channel) AS gc, grouping(review_mode) AS gm,
               jsonb_build_object(
                   'count', count(*),
                   'approved', count(*) FILTER (WHERE status = 'approved'),
                   'approved_percent', round(100.0 * count(*) FILTER
                       (WHERE status = 'approved') / nullif(count(*), 0), 1),
                   'working_days', jsonb_build_object(
                       'median', stats_round(percentile_cont(0.5)
                           WITHIN GROUP (ORDER BY wd)),
                       'p90', stats_round(percentile_cont(0.9)
                           WITHIN GROUP (ORDER BY wd))),
                   'targets', coalesce(to_jsonb(array_agg(DISTINCT target)),
                                      '[]'::jsonb),
                   'within_target', count(*) FILTER (WHERE wd <= target),
                   'within_target_percent', round(100.0 * count(*) FILTER
                       (WHERE wd <= target) / nullif(count(*), 0), 1)) AS fig
        FROM a GROUP BY GROUPING SETS ((disease), (channel),
                                        (review_mode), ()))
    SELECT jsonb_build_object(
        'region', stats_region(reg), 'from', f, 'to', t,
        'percentile', 'percentile_cont',
        'targets', jsonb_build_object(
            'instant', policy_value(reg, 'instant_decision_working_days')::int,
            'online', policy_value(reg, 'online_target_working_days')::int,
            'other', policy_value(reg, 'decision_working_days')::int),
        'by_disease', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'disease', jsonb_build_object('code', d.code,
                                              'name', d.name)) || g.fig
                ORDER BY d.sort_order)
            FROM g JOIN diseases d ON d.code = g.disease
            WHERE g.gd = 0), '[]'::jsonb),
        'by_channel', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'channel', g.channel) || g.fig ORDER BY g.channel)
            FROM g WHERE g.gc = 0), '[]'::jsonb),
        'by_review_mode', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'review_mode', g.review_mode) || g.fig
                ORDER BY g.review_mode)
            FROM g WHERE g.gm = 0), '[]'::jsonb),
        -- The grouping set () gives a row even over no application.
        'total', (SELECT g.fig FROM g
                  WHERE g.gd = 1 AND g.gc = 1 AND g.gm = 1))
    INTO r;
    RETURN jsonb_build_object('ok', r);
END $$;

-- The public monthly figures (no sign-in, no personal data): for region
-- reg (NULL: every region) and month m (NULL: the last 12 months up to
-- this one, oldest first), the applications submitted, decided,
-- approved, the approval rate and the median working days to decision.
-- Counts only: a small count names nobody (no name, ID, phone, disease
-- or hospital is in a cell), so no cell is suppressed.
-- {"ok": {...}} or a refusal (region_not_found, date_out_of_range).
CREATE OR REPLACE FUNCTION public_stats_json(reg text, m text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    last date := coalesce((m || '-01')::date,
                          date_trunc('month', cn_today())::date);
    refusal jsonb;
BEGIN
    IF m IS NOT NULL THEN
        refusal := stats_month_refusal(m);
        IF refusal IS NOT NULL THEN
            RETURN refusal;
        END IF;
    END IF;
    IF reg IS NOT NULL AND stats_region(reg) IS NULL THEN
        RETURN jsonb_build_object('error', 'region_not_found',
                                  'field', 'region');
    END IF;
    RETURN jsonb_build_object('ok', jsonb_build_object(
        'months', (SELECT jsonb_agg(to_char(mo, 'YYYY-MM') ORDER BY mo)
                   FROM generate_series(last - CASE WHEN m IS NULL
                       THEN interval '11 months' ELSE interval '0' END,
                       last, interval '1 month') mo),
        'percentile', 'percentile_cont',
        'regions', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'code', g.code, 'name', g.name,
                'months', public_stats_months(g.code, last,
                                              CASE WHEN m IS NULL THEN 12
                                                   ELSE 1 END))
                ORDER BY g.code), '[]'::jsonb)
            FROM regions g WHERE reg IS NULL OR g.code = reg)));
END $$;

-- Region reg's figures for the n months up to and including the month
-- that starts on last, oldest first (public_stats_json).
CREATE OR REPLACE FUNCTION public_stats_months(reg text, last date,
                                               n integer)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_agg(jsonb_build_object('month', to_char(mo.d, 'YYYY-MM'))
                     || s.fig || d.fig ORDER BY mo.d)
    FROM (SELECT g::date AS d,
                 g::timestamp AT TIME ZONE 'Asia/Shanghai' AS lo,
                 (g + interval '1 month')::timestamp
                     AT TIME ZONE 'Asia/Shanghai' AS hi
          FROM generate_series(last - (n - 1) * interval '1 month', last,
                               interval '1 month') g) mo
    CROSS JOIN LATERAL (
        SELECT jsonb_build_object('submitted', count(*)) AS fig
        FROM applications x
        WHERE x.region = reg AND x.submitted_at >= mo.lo
          AND x.submitted_at < mo.hi) s
    CROSS JOIN LATERAL (
        SELECT jsonb_build_object(
            'decided', count(*),
            'approved', count(*) FILTER (WHERE x.status = 'approved'),
            'approval_rate', round(100.0 * count(*) FILTER
                (WHERE x.status = 'approved') / nullif(count(*), 0), 1),
            'median_working_days', stats_round(percentile_cont(0.5)
                WITHIN GROUP (ORDER BY working_days_between(
                    (x.submitted_at AT TIME ZONE 'Asia/Shanghai')::date,
                    (x.decided_at AT TIME ZONE 'Asia/Shanghai')::date))))
            AS fig
        FROM applications x
        WHERE x.region = reg AND x.status IN ('approved', 'rejected')
          AND x.decided_at >= mo.lo AND x.decided_at < mo.hi
          AND x.submitted_at IS NOT NULL) d
$$;
