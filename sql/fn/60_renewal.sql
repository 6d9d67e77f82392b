-- 60_renewal.sql -- settlements and renewal (R-BEN-4, S0 三(一)): the
-- set-based half of a settlement import (shared/mt_settle.c parses and
-- stages the rows), and the renewal job the dispatcher runs every few
-- seconds and `mtcertctl renewals run` on demand.  How files in sql/fn/
-- are applied: see 10_util.sql.

-- One batch of an import's rows into the transaction's staging table
-- (created on the first batch, dropped at commit or rollback).  Rows the
-- parser refused come as p_bad [{"line","field","message"}] and are kept
-- as errors beside the good ones, so that every error is reported in one
-- list by line.  Months are 'YYYY-MM' (checked by the parser).  p_ids
-- are the ID numbers' lookup HMACs (persons.id_number_hmac: the C
-- computes them, shared/mt_identity.h), never the numbers.
CREATE OR REPLACE FUNCTION settlement_stage(p_lines int[], p_ids text[],
    p_diseases text[], p_months text[], p_cents bigint[], p_bad jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('pg_temp.settlement_import') IS NULL THEN
        CREATE TEMP TABLE settlement_import (line int NOT NULL,
            id_number_hmac text, disease text, month date,
            amount_cents bigint,
            bad_field text, bad_message text) ON COMMIT DROP;
    END IF;
    INSERT INTO settlement_import (line, id_number_hmac, disease, month,
        amount_cents)
    SELECT l, i, d, (m || '-01')::date, c
    FROM unnest(p_lines, p_ids, p_diseases, p_months, p_cents) u(l, i, d, m, c);
    INSERT INTO settlement_import (line, bad_field, bad_message)
    SELECT (e->>'line')::int, e->>'field', e->>'message'
    FROM jsonb_array_elements(coalesce(p_bad, '[]')) e;
END $$;

-- The staged rows' errors, by line: the parser's, then what only the
-- database knows -- the person is not insured in region, the disease is
-- not in the region's catalog, the month is after this month, the same
-- person, disease and month came on an earlier line.  (PL/pgSQL: a
-- LANGUAGE sql body is checked at creation, before the staging table of
-- any transaction exists.)
CREATE OR REPLACE FUNCTION settlement_errors(p_region text)
RETURNS TABLE (line int, field text, message text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT s.line, s.bad_field, s.bad_message FROM settlement_import s
    WHERE s.bad_field IS NOT NULL
    UNION ALL
    SELECT s.line, 'id_number', '该身份证号不是本统筹区的参保人'
    FROM settlement_import s WHERE s.bad_field IS NULL AND NOT EXISTS
        (SELECT 1 FROM persons p WHERE p.id_number_hmac = s.id_number_hmac
         AND p.region = p_region)
    UNION ALL
    SELECT s.line, 'disease', '该病种不在本统筹区的门诊慢特病目录中'
    FROM settlement_import s WHERE s.bad_field IS NULL AND NOT EXISTS
        (SELECT 1 FROM region_diseases r WHERE r.region = p_region
         AND r.disease = s.disease)
    UNION ALL
    SELECT s.line, 'month', '结算月份不能晚于本月'
    FROM settlement_import s WHERE s.bad_field IS NULL
      AND s.month > date_trunc('month', cn_today())::date
    UNION ALL
    SELECT d.line, 'month', format('与第 %s 行重复（同一参保人、病种和月份）',
        d.first)
    FROM (SELECT s.line, min(s.line) OVER (PARTITION BY s.id_number_hmac,
            s.disease, s.month) AS first
          FROM settlement_import s WHERE s.bad_field IS NULL) d
    WHERE d.line <> d.first;
END $$;

-- Check the staged rows and, when every one is good, merge them into
-- settlements of region's persons: a new (person, disease, month) is
-- inserted, a changed amount updated, an equal one left alone, so the
-- same file again changes nothing.  Returns {"ok": {rows, inserted,
-- updated, unchanged}}, or {"error": "settlements_invalid", "details":
-- {"errors": the first p_max by line, "count": all of them}} with nothing
-- merged.  Runs in the caller's transaction (the staging table's).
CREATE OR REPLACE FUNCTION settlement_merge(p_region text, p_max int)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    n_err int;
    errs jsonb;
    n_rows int;
    ins int;
    upd int;
BEGIN
    IF to_regclass('pg_temp.settlement_import') IS NULL THEN
        RETURN jsonb_build_object('ok', jsonb_build_object('rows', 0,
            'inserted', 0, 'updated', 0, 'unchanged', 0));
    END IF;
    SELECT count(*), coalesce(jsonb_agg(jsonb_build_object('line', e.line,
            'field', e.field, 'message', e.message) ORDER BY e.line, e.field)
            FILTER (WHERE e.k <= p_max), '[]')
    INTO n_err, errs
    FROM (SELECT x.*, row_number() OVER (ORDER BY x.line, x.field) AS k
          FROM settlement_errors(p_region) x) e;
    IF n_err > 0 THEN
        RETURN jsonb_build_object('error', 'settlements_invalid',
            'args', jsonb_build_array(n_err::text),
            'details', jsonb_build_object('errors', errs, 'count', n_err));
    END IF;
    SELECT count(*) INTO n_rows FROM settlement_import;
    WITH up AS (
        INSERT INTO settlements AS t (person_id, disease, month, amount_cents)
        SELECT p.id, s.disease, s.month, s.amount_cents
        FROM settlement_import s
        JOIN persons p ON p.id_number_hmac = s.id_number_hmac
        ON CONFLICT (person_id, disease, month) DO UPDATE
            SET amount_cents = EXCLUDED.amount_cents
            WHERE t.amount_cents <> EXCLUDED.amount_cents
        RETURNING (xmax = 0) AS inserted)
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
    INTO ins, upd FROM up;
    RETURN jsonb_build_object('ok', jsonb_build_object('rows', n_rows,
        'inserted', ins, 'updated', upd, 'unchanged', n_rows - ins - upd));
END $$;

-- The distinct months with a settlement of the disease (a positive
-- amount: a zero row is a correction, not a month of treatment) among
-- the region's renewal_lookback_months complete calendar months before
-- the month of p_end, the period's last day: for an end on 2026-06-30
-- and 12 months, 2025-06 .. 2026-05 (S0 三(一) 终止日期前12个月内).  The
-- end month itself does not count: the job decides on the day after the
-- end, before that month's settlement file can have been imported
-- (monthly files come after the month closes), so counting it would
-- leave only 11 months in practice.  Every month counted is closed.
CREATE OR REPLACE FUNCTION renewal_months(p_person bigint, p_disease text,
    p_region text, p_end date) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT count(DISTINCT s.month)::int FROM settlements s
    WHERE s.person_id = p_person AND s.disease = p_disease
      AND s.amount_cents > 0
      AND s.month < date_trunc('month', p_end)::date
      AND s.month >= (date_trunc('month', p_end) - make_interval(months =>
            policy_value(p_region, 'renewal_lookback_months')::int))::date
$$;

-- The last day of the period after one that ended on p_end: the same
-- number of months again (2025-03-01 .. 2026-02-28 is followed by
-- 2026-03-01 .. 2027-02-28).
CREATE OR REPLACE FUNCTION renewal_next_end(p_end date, p_months int)
RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT ((p_end + 1) + make_interval(months => p_months))::date - 1
$$;

-- The holder's SMS: qualification_sms (50_benefit.sql), which this file
-- once had a copy of.
DROP FUNCTION IF EXISTS renewal_sms(qualifications, text, text);

-- Tell the holder of active qualification x, once per period and
-- renewal_notice_days before its end, whether it will renew and how to
-- keep it (R-BEN-4); the event renewal_notice.  x is locked by the caller.
CREATE OR REPLACE FUNCTION renewal_notice(x qualifications) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    need int := policy_value(x.region, 'renewal_min_settlement_months')::int;
    back int := policy_value(x.region, 'renewal_lookback_months')::int;
    have int := renewal_months(x.person_id, x.disease, x.region, x.valid_to);
    per int;
    dname text;
BEGIN
    SELECT d.name, disease_validity_months(x.region, d.code) INTO dname, per
    FROM diseases d WHERE d.code = x.disease;
    PERFORM qualification_sms(x, 'renewal_notice', CASE WHEN have >= need THEN format(
        '【门诊慢特病】您的“%s”门诊慢特病待遇将于%s到期。到期当月之前的%s个月内您已有%s个月正常结算，符合接续条件，到期后将自动接续%s个月，无需办理。',
        dname, x.valid_to, back, have, per) ELSE format(
        '【门诊慢特病】您的“%s”门诊慢特病待遇将于%s到期。到期当月之前的%s个月内需有不少于%s个月正常结算方可自动接续，您目前有%s个月，如到期时仍不足，待遇将终止。请按时在定点医院就医结算；待遇终止后可重新申请认定。',
        dname, x.valid_to, back, need, have) END);
    IF x.application_id IS NOT NULL THEN
        INSERT INTO events (application_id, type, actor_role, data)
        VALUES (x.application_id, 'renewal_notice', 'system',
            jsonb_build_object('qualification', x.id,
                'renews', have >= need, 'valid_to', x.valid_to,
                'months', have, 'needed', need));
    END IF;
    UPDATE qualifications SET renewal_noticed_on = cn_today(),
        updated_at = now() WHERE id = x.id;
END $$;

-- Active qualification x has ended (valid_to before today): renew it
-- period by period while the rule holds for each period's end (catching
-- up after downtime), one event renewed per period and one SMS for the
-- outcome; when a period's end fails the rule, end it as expired from
-- the day after that end (end_qualification).  x is locked by the caller.
-- Returns 'renewed' or 'expired'.
CREATE OR REPLACE FUNCTION renewal_end(x qualifications) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    need int := policy_value(x.region, 'renewal_min_settlement_months')::int;
    ends date := x.valid_to;
    nxt date;
    n int := 0;
    per int;
    dname text;
BEGIN
    SELECT d.name, disease_validity_months(x.region, d.code) INTO dname, per
    FROM diseases d WHERE d.code = x.disease;
    WHILE ends < cn_today()
        AND renewal_months(x.person_id, x.disease, x.region, ends) >= need
    LOOP
        nxt := renewal_next_end(ends, per);
        IF x.application_id IS NOT NULL THEN
            INSERT INTO events (application_id, type, actor_role, data)
            VALUES (x.application_id, 'renewed', 'system',
                jsonb_build_object('qualification', x.id,
                    'valid_from', ends + 1, 'valid_to', nxt));
        END IF;
        ends := nxt;
        n := n + 1;
    END LOOP;
    IF n > 0 THEN
        UPDATE qualifications SET valid_to = ends,
            renewed_count = renewed_count + n, renewal_noticed_on = NULL,
            updated_at = now()
        WHERE id = x.id;
        IF ends >= cn_today() THEN
            PERFORM qualification_sms(x, 'renewed', format(
                '【门诊慢特病】您的“%s”门诊慢特病待遇已自动接续，有效期至%s。',
                dname, ends));
            RETURN 'renewed';
        END IF;
    END IF;
    PERFORM end_qualification(x.id, 'expired', ends + 1, NULL, 'system',
        NULL);
    RETURN 'expired';
END $$;

-- Up to p_batch notices (renewal_notice), region by region, each region
-- with its own renewal_notice_days: an index range of
-- qualifications_notice_due per region, so the qualifications not yet
-- in their window are never read.  Returns how many were sent.
CREATE OR REPLACE FUNCTION renewal_notices(p_batch int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    x qualifications%ROWTYPE;
    n int := 0;
BEGIN
    FOR r IN SELECT g.code,
            policy_value(g.code, 'renewal_notice_days')::int AS days
        FROM regions g ORDER BY g.code
    LOOP
        FOR x IN SELECT * FROM qualifications q
            WHERE q.region = r.code AND q.status = 'active'
              AND q.renewal_noticed_on IS NULL
              AND q.valid_to >= cn_today()
              AND q.valid_to <= cn_today() + r.days
            ORDER BY q.valid_to, q.id LIMIT p_batch - n
            FOR UPDATE SKIP LOCKED
        LOOP
            PERFORM renewal_notice(x);
            n := n + 1;
        END LOOP;
        EXIT WHEN n >= p_batch;
    END LOOP;
    RETURN n;
END $$;

-- One batch of the renewal job (R-BEN-4): up to p_batch ended
-- qualifications renewed or expired, then up to p_batch notices sent,
-- each row locked FOR UPDATE SKIP LOCKED so two dispatchers never do the
-- same one; its own transaction (the caller's statement).  Idempotent:
-- an ended one is no longer active, a renewed one ends later, a noticed
-- one is marked.  Cheap when nothing is due: one probe of
-- qualifications_active_end and one of qualifications_notice_due per
-- region.  Returns {"renewed","expired","noticed"}: call again while any
-- is > 0.
CREATE OR REPLACE FUNCTION run_renewals(p_batch int) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x qualifications%ROWTYPE;
    renewed int := 0;
    expired int := 0;
BEGIN
    FOR x IN SELECT * FROM qualifications q
        WHERE q.status = 'active' AND q.valid_to < cn_today()
        ORDER BY q.valid_to, q.id LIMIT p_batch FOR UPDATE SKIP LOCKED
    LOOP
        IF renewal_end(x) = 'renewed' THEN
            renewed := renewed + 1;
        ELSE
            expired := expired + 1;
        END IF;
    END LOOP;
    RETURN jsonb_build_object('renewed', renewed, 'expired', expired,
        'noticed', renewal_notices(p_batch));
END $$;
