-- 10_util.sql -- shared pieces: local days, working days, policy values
-- and their one setter, masks, the catalog version.
--
-- sql/fn/ holds the one live definition of every function, view and
-- trigger (Flyway's repeatable migrations).  `mtcertctl migrate` applies
-- the numbered migrations sql/NNN_*.sql first (tables, indexes, data
-- only), then each file here whose SHA-256 differs from the one recorded
-- in schema_repeatables, in name order, all in one transaction.  So:
--   - change a function by editing it here, never in a new migration;
--   - every statement must be re-runnable: CREATE OR REPLACE FUNCTION /
--     VIEW, DROP TRIGGER IF EXISTS + CREATE TRIGGER;
--   - changing a function's arguments or result type: DROP FUNCTION IF
--     EXISTS the old signature just above the new definition;
--   - a file may use what an earlier file defines (LANGUAGE sql bodies
--     are checked when created, so their callees come first);
--   - a migration that needs a function while migrating (a backfill)
--     cannot call one from here, which does not exist yet on a fresh
--     database: backfill in the function file itself (see the end of
--     20_applications.sql) or inline the expression.

-- The catalog version (001) goes up with every change to the public
-- catalog.
CREATE OR REPLACE FUNCTION bump_catalog_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1;
    RETURN NULL;
END $$;

-- Its triggers: one per catalog table, the same for each.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['diseases', 'disease_materials',
                             'region_diseases', 'material_kinds', 'regions',
                             'rejection_reasons',
                             -- certified_by's notice days (catalog.c)
                             'policies']
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_version', t);
        EXECUTE format('CREATE TRIGGER %I'
            ' AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I'
            ' FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()',
            t || '_version', t);
    END LOOP;
END $$;

-- Today in China (deadlines and years are counted in local days).
CREATE OR REPLACE FUNCTION cn_today() RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date
$$;

-- The date n working days after start (start itself not counted): one
-- query over a window long enough for any run of holidays.
-- (PL/pgSQL, not SQL: PL/pgSQL caches its plans, a non-inlined SQL
-- function is planned again at every call.)
CREATE OR REPLACE FUNCTION add_working_days(start date, n integer) RETURNS date
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

-- The working days after a up to and including b (a itself not
-- counted; 0 when b <= a): the inverse of add_working_days, so
-- working_days_between(a, add_working_days(a, n)) = n.  Statistics count
-- submitted -> decided with it (sql/fn/90_stats.sql), once per decided
-- application: weekdays by arithmetic plus the calendar's exceptions in
-- the range (one index range scan), in PL/pgSQL so the plan is cached.
CREATE OR REPLACE FUNCTION working_days_between(a date, b date)
RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    n integer := greatest(b - a, 0);
    wd integer := (n / 7) * 5;      -- whole weeks: 5 weekdays each
BEGIN
    -- The days after the whole weeks (at most 6), one by one.
    FOR i IN 1 .. n % 7 LOOP
        IF extract(isodow FROM a + (n / 7) * 7 + i) < 6 THEN
            wd := wd + 1;
        END IF;
    END LOOP;
    -- The calendar's exceptions in (a, b]: an adjusted working weekend
    -- day counts, a weekday holiday does not.
    RETURN wd + coalesce((SELECT sum(CASE WHEN c.kind = 'workday' THEN 1
                                          ELSE -1 END)::int
                          FROM calendar c
                          WHERE c.day > a AND c.day <= b
                            AND (c.kind = 'workday') =
                                (extract(isodow FROM c.day) >= 6)), 0);
END $$;

-- A region's policy value, or the key's default.
CREATE OR REPLACE FUNCTION policy_value(r text, k text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce((SELECT value FROM policies WHERE region = r AND key = k),
                    (SELECT default_value FROM policy_keys WHERE key = k));
END $$;

-- The working days an application of region reg with this review mode
-- and channel is promised (R-CER-6; the expected decision date at submit,
-- the statistics' target, the dates recomputed after a calendar change):
-- an instant disease (review mode single, R-CER-5)
-- instant_decision_working_days; an online one (mini_program, web) the
-- region's own online_target_working_days where it has one (S0 二(三):
-- 三门峡 8; 0 = none); else decision_working_days.
CREATE OR REPLACE FUNCTION decision_target_days(reg text, mode text,
                                                channel text)
RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN mode = 'single'
            THEN policy_value(reg, 'instant_decision_working_days')::int
        WHEN channel IN ('mini_program', 'web')
             AND policy_value(reg, 'online_target_working_days')::int > 0
            THEN policy_value(reg, 'online_target_working_days')::int
        ELSE policy_value(reg, 'decision_working_days')::int END
$$;

-- Change one policy value of a region (PUT /agency/policy, and the same
-- checks as `mtcertctl policy set`): the key must exist and the value
-- fit its type and range.  Returns NULL, or a refusal {"error", "field",
-- "args": [key, the values it may take]} whose text is the error table's
-- row (shared/mt_error.c): no message is written here.
CREATE OR REPLACE FUNCTION set_policy(p_region text, p_key text, p_value text,
    p_by text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    k policy_keys%ROWTYPE;
    v bigint;
    bad jsonb;
BEGIN
    SELECT * INTO k FROM policy_keys WHERE key = p_key;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'policy_key_unknown', 'field', 'key');
    END IF;
    bad := jsonb_build_object('error', 'policy_value_invalid', 'field', 'value',
        'args', jsonb_build_array(p_key, CASE k.type
            WHEN 'int' THEN format('%s–%s', k.min_value, k.max_value)
            WHEN 'bool' THEN 'true、false'
            ELSE array_to_string(k.choices, '、') END));
    IF k.type = 'int' THEN
        IF p_value !~ '^-?[0-9]{1,18}$' THEN
            RETURN bad;
        END IF;
        v := p_value::bigint;
        IF v < k.min_value OR v > k.max_value THEN
            RETURN bad;
        END IF;
    ELSIF k.type = 'bool' AND p_value NOT IN ('true', 'false') THEN
        RETURN bad;
    ELSIF k.type = 'enum' AND NOT (p_value = ANY(k.choices)) THEN
        RETURN bad;
    END IF;
    INSERT INTO policies (region, key, value, updated_by)
    VALUES (p_region, p_key, p_value, p_by)
    ON CONFLICT (region, key) DO UPDATE SET value = EXCLUDED.value,
        updated_at = now(), updated_by = EXCLUDED.updated_by;
    RETURN NULL;
END $$;

-- Masks for lists (API.md): 4112**********1234 and 138****5678.  The
-- sealed columns carry their mask (<col>_masked, made in C by
-- mt_identity_mask, the same rule); these serve rows written before
-- 043/044 until `mtcertctl identity encrypt` seals them.
CREATE OR REPLACE FUNCTION mask_id(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL
                WHEN length(s) <= 8 THEN repeat('*', length(s))
                ELSE left(s, 4) || repeat('*', length(s) - 8) || right(s, 4) END
$$;
CREATE OR REPLACE FUNCTION mask_phone(s text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN s IS NULL THEN NULL
                WHEN length(s) <= 7 THEN repeat('*', length(s))
                ELSE left(s, 3) || repeat('*', length(s) - 7) || right(s, 4) END
$$;
-- An ID number or phone as an answer or a stored view shows it: the
-- mask kept beside its sealed column (masked), else the mask of the
-- plain column of a row not sealed yet.  Every such answer reads it
-- here, not a coalesce of its own (inlined: a plain expression).
CREATE OR REPLACE FUNCTION shown_id(masked text, plain text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(masked, mask_id(plain)) $$;
CREATE OR REPLACE FUNCTION shown_phone(masked text, plain text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(masked, mask_phone(plain)) $$;

-- An identity column's plain value while its row is not sealed yet
-- (043/044: `mtcertctl identity encrypt` seals, then nulls the plain
-- column; --keep-plain leaves both).  An SMS copies
-- (plain_until_sealed(x.phone, x.phone_enc), x.phone_enc) into
-- sms_outbox (to_phone, to_phone_enc): exactly one of them.
CREATE OR REPLACE FUNCTION plain_until_sealed(plain text, enc text)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN enc IS NULL THEN plain END
$$;
