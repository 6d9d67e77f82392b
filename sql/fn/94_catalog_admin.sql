-- 94_catalog_admin.sql -- the agency's catalog and the working-day
-- calendar (issue 12 item 7; R-SUP-5, R-CER-6; tables in
-- sql/030_catalog_admin.sql; the handlers: modules/agency/catalog.c).

-- The region's list of materials, where its own replaces the disease's.
DROP TRIGGER IF EXISTS region_disease_materials_version
    ON region_disease_materials;
CREATE TRIGGER region_disease_materials_version
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON region_disease_materials
    FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version();

-- The materials disease dis needs in region reg: the region's own list
-- when it has one, else the disease's (reg NULL: the disease's).  The one
-- reading for the public catalog, the checklist and the submit check.
CREATE OR REPLACE FUNCTION region_materials(reg text, dis text)
RETURNS TABLE (kind text, required boolean, max_age_days integer,
    note text, sort_order integer)
LANGUAGE sql STABLE AS $$
    SELECT r.kind, r.required, r.max_age_days, r.note, r.sort_order
    FROM region_disease_materials r
    WHERE r.region = reg AND r.disease = dis
    UNION ALL
    SELECT m.kind, m.required, m.max_age_days, m.note, m.sort_order
    FROM disease_materials m
    WHERE m.disease = dis
      AND NOT EXISTS (SELECT 1 FROM region_disease_materials r
                      WHERE r.region = reg AND r.disease = dis)
$$;

-- How many months a qualification for dis in region reg lasts: the
-- region's override, else the disease's.
CREATE OR REPLACE FUNCTION disease_validity_months(reg text, dis text)
RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT rd.validity_months FROM region_diseases rd
                     WHERE rd.region = reg AND rd.disease = dis),
                    d.validity_months)
    FROM diseases d WHERE d.code = dis
$$;

-- How many hospitals may certify dis for a person of reg today
-- (certification_refusal: the one check before a hospital certifies).
CREATE OR REPLACE FUNCTION certifying_hospitals(reg text, dis text)
RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT count(*)::int FROM institutions i
    WHERE (i.region = reg OR (i.province_wide
                              AND left(i.region, 2) = left(reg, 2)))
      AND certification_refusal(i.code, dis, reg) IS NULL
$$;

-- A list of materials as the API shows it, in order.
CREATE OR REPLACE FUNCTION catalog_materials_json(reg text, dis text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('kind', m.kind,
        'name', k.name, 'required', m.required,
        'max_age_days', m.max_age_days, 'note', m.note)
        ORDER BY m.sort_order, m.kind), '[]')
    FROM region_materials(reg, dis) m
    JOIN material_kinds k ON k.code = m.kind
$$;

-- One disease as region reg's catalog has it, for the agency: what
-- applies in the region, the national entry and which parts are the
-- region's own.
CREATE OR REPLACE FUNCTION catalog_entry_json(reg text, dis text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('code', d.code, 'name', d.name,
        'category', d.category, 'specialty', d.specialty, 'quota', d.quota,
        'in_catalog', rd.disease IS NOT NULL,
        'review_mode', coalesce(rd.review_mode, d.review_mode),
        'validity_months', coalesce(rd.validity_months, d.validity_months),
        'materials', catalog_materials_json(reg, d.code),
        'national', jsonb_build_object('review_mode', d.review_mode,
            'validity_months', d.validity_months,
            'materials', catalog_materials_json(NULL, d.code)),
        'overrides', jsonb_build_object(
            'review_mode', rd.review_mode IS NOT NULL,
            'validity_months', rd.validity_months IS NOT NULL,
            'materials', EXISTS (SELECT 1 FROM region_disease_materials x
                WHERE x.region = reg AND x.disease = d.code)),
        'certifying_hospitals', certifying_hospitals(reg, d.code),
        'changed_at', (SELECT max(c.at) FROM catalog_changes c
                       WHERE c.region = reg AND c.disease = d.code))
    FROM diseases d
    LEFT JOIN region_diseases rd ON rd.region = reg AND rd.disease = d.code
    WHERE d.code = dis
$$;

-- GET /agency/diseases: every disease, the region's catalog first, and
-- every kind of material (the editor's choices); NULL when the region
-- does not exist.
CREATE OR REPLACE FUNCTION agency_catalog_json(reg text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('region', r.code, 'name', r.name,
        'in_catalog', (SELECT count(*) FROM region_diseases rd
                       WHERE rd.region = r.code),
        'items', coalesce((SELECT jsonb_agg(catalog_entry_json(r.code,
                 d.code) ORDER BY (rd.disease IS NULL), d.sort_order, d.code)
            FROM diseases d LEFT JOIN region_diseases rd
             ON rd.region = r.code AND rd.disease = d.code), '[]'),
        'kinds', (SELECT jsonb_agg(jsonb_build_object('kind', k.code,
                  'name', k.name) ORDER BY k.code) FROM material_kinds k))
    FROM regions r WHERE r.code = reg
$$;

-- A refusal of set_catalog_entry.
CREATE OR REPLACE FUNCTION catalog_refusal(code text, field text,
    VARIADIC args text[] DEFAULT '{}') RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('error', code, 'field', field,
        'args', to_jsonb(args))
$$;

-- The first reason the materials list m (JSON [{kind, required?,
-- max_age_days?, note?}], checked for shape in C) cannot be stored, or
-- NULL.
CREATE OR REPLACE FUNCTION catalog_materials_refusal(m jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN (SELECT count(DISTINCT e->>'kind') <> count(*)
              FROM jsonb_array_elements(m) e)
        THEN catalog_refusal('field_invalid', 'materials', '材料清单',
                             '：同一种材料只能出现一次')
        ELSE (SELECT catalog_refusal('material_kind_unknown', 'materials',
                                     e->>'kind')
              FROM jsonb_array_elements(m) e
              WHERE NOT EXISTS (SELECT 1 FROM material_kinds k
                                WHERE k.code = e->>'kind')
              LIMIT 1) END
$$;

-- Store the region's materials for dis: m (NULL: leave them, []: back to
-- the disease's list).
CREATE OR REPLACE FUNCTION catalog_set_materials(reg text, dis text,
    m jsonb) RETURNS void
LANGUAGE sql AS $$
    DELETE FROM region_disease_materials
    WHERE m IS NOT NULL AND region = reg AND disease = dis;
    INSERT INTO region_disease_materials (region, disease, kind, required,
        max_age_days, note, sort_order)
    SELECT reg, dis, e.v->>'kind', coalesce((e.v->>'required')::boolean, true),
        (e.v->>'max_age_days')::int, coalesce(e.v->>'note', ''), e.n
    FROM jsonb_array_elements(coalesce(m, '[]')) WITH ORDINALITY e(v, n);
$$;

-- PUT /agency/diseases/{code} (R-SUP-5): region reg's overrides of dis
-- from body {review_mode?, validity_months?, materials?, in_catalog?,
-- reset?}, checked in C for shape.  review_mode "national" and
-- validity_months 0 drop an override, materials [] the region's list;
-- reset drops all three; in_catalog false takes the disease out of the
-- region's catalog (its overrides with it), true puts it in.  Onsite and
-- panel need a hospital that may certify dis for the region.  Applications
-- already submitted keep the mode they were submitted under
-- (applications.review_mode).  The change is logged in catalog_changes.
-- Returns {"ok": the entry} or a refusal.
CREATE OR REPLACE FUNCTION set_catalog_entry(reg text, dis text, body jsonb,
    actor bigint, p_role text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    before jsonb;
    after jsonb;
    why jsonb;
    mode text := body->>'review_mode';
    listed boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM diseases WHERE code = dis) THEN
        RETURN catalog_refusal('disease_not_found', 'code');
    END IF;
    PERFORM 1 FROM regions WHERE code = reg FOR UPDATE;
    IF NOT FOUND THEN
        RETURN catalog_refusal('region_not_found', 'region');
    END IF;
    before := catalog_entry_json(reg, dis);
    listed := coalesce((body->>'in_catalog')::boolean,
                       (before->>'in_catalog')::boolean);
    IF NOT listed THEN
        IF body ?| ARRAY['review_mode', 'validity_months', 'materials'] THEN
            RETURN catalog_refusal('field_invalid', 'in_catalog',
                '是否列入目录', '：移出目录时不能同时修改认定方式、有效期或材料');
        END IF;
        DELETE FROM region_diseases WHERE region = reg AND disease = dis;
    ELSE
        why := catalog_materials_refusal(body->'materials');
        IF why IS NOT NULL THEN
            RETURN why;
        END IF;
        INSERT INTO region_diseases (region, disease) VALUES (reg, dis)
        ON CONFLICT DO NOTHING;
        IF coalesce((body->>'reset')::boolean, false) THEN
            UPDATE region_diseases SET review_mode = NULL,
                validity_months = NULL WHERE region = reg AND disease = dis;
            DELETE FROM region_disease_materials
            WHERE region = reg AND disease = dis;
        END IF;
        UPDATE region_diseases SET
            review_mode = CASE WHEN mode IS NULL THEN review_mode
                WHEN mode = 'national' THEN NULL ELSE mode END,
            validity_months = CASE WHEN NOT body ? 'validity_months'
                THEN validity_months
                ELSE nullif((body->>'validity_months')::int, 0) END
        WHERE region = reg AND disease = dis;
        PERFORM catalog_set_materials(reg, dis, body->'materials');
        after := catalog_entry_json(reg, dis);
        IF mode IN ('onsite', 'panel')
           AND (after->>'certifying_hospitals')::int = 0 THEN
            RAISE EXCEPTION USING ERRCODE = 'MT001';
        END IF;
    END IF;
    after := catalog_entry_json(reg, dis);
    INSERT INTO catalog_changes (user_id, role, region, disease, before, after)
    VALUES (actor, p_role, reg, dis,
            CASE WHEN (before->>'in_catalog')::boolean THEN before END,
            CASE WHEN (after->>'in_catalog')::boolean THEN after END);
    RETURN jsonb_build_object('ok', after);
EXCEPTION WHEN SQLSTATE 'MT001' THEN
    -- Everything above undone (the block's subtransaction).
    RETURN catalog_refusal('review_mode_no_hospital', 'review_mode',
        CASE after->>'review_mode' WHEN 'onsite' THEN '现场认定'
        ELSE '专家组评审' END);
END $$;

-- GET /agency/calendar/{year}: the year's exceptions and its last
-- changes (who, for which region, when).
CREATE OR REPLACE FUNCTION calendar_year_json(y integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('year', y,
        'days', coalesce((SELECT jsonb_agg(jsonb_build_object('day', c.day,
            'kind', c.kind, 'note', c.note) ORDER BY c.day)
            FROM calendar c WHERE extract(year FROM c.day) = y), '[]'),
        'working_days', (SELECT count(*) FROM generate_series(
            make_date(y, 1, 1), make_date(y, 12, 31), interval '1 day') g
            WHERE is_working_day(g::date)),
        'changes', coalesce((SELECT jsonb_agg(jsonb_build_object(
            'at', x.at, 'user', u.login, 'role', x.role,
            'region', x.region, 'recomputed', x.recomputed) ORDER BY x.id DESC)
            FROM (SELECT * FROM calendar_changes cc WHERE cc.year = y
                  ORDER BY cc.id DESC LIMIT 10) x
            JOIN users u ON u.id = x.user_id), '[]'))
$$;

-- The first entry of days (JSON [{day, kind, note?}], shape checked in C)
-- that year y cannot hold, as a refusal, or NULL: a day of another year,
-- a day twice, a weekend "workday" or a weekday "holiday" only.
CREATE OR REPLACE FUNCTION calendar_refusal(y integer, days jsonb)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN extract(year FROM d) <> y
        THEN catalog_refusal('calendar_day_outside_year', 'days', d::text,
                             y::text)
        WHEN dup THEN catalog_refusal('field_invalid', 'days', '日期',
                             '：' || d || ' 出现了两次')
        WHEN (e->>'kind' = 'workday') = (extract(isodow FROM d) < 6)
        THEN catalog_refusal('calendar_day_pointless', 'days', d::text,
            CASE WHEN e->>'kind' = 'workday' THEN '本来就是工作日（周一至周五）'
                 ELSE '本来就是休息日（周六、周日）' END) END
    FROM (SELECT e, (e->>'day')::date AS d, n,
                 count(*) OVER (PARTITION BY e->>'day') > 1 AS dup
          FROM jsonb_array_elements(days) WITH ORDINALITY x(e, n)) s
    WHERE extract(year FROM d) <> y OR dup
       OR (e->>'kind' = 'workday') = (extract(isodow FROM d) < 6)
    ORDER BY n LIMIT 1
$$;

-- Every stored date counted in working days that follows the calendar:
-- the expected decision date of each open application, counted again
-- from the day it was last submitted (or resubmitted) as submit_application
-- counts it, and the stored progress view of each one changed rebuilt
-- (application_views is rebuilt on events, and a recompute writes none:
-- the applicant would see the old date).  Public notices keep their
-- published ends_on, quarterly due dates are computed when read
-- (quarterly_due_on).  Returns how many changed.
CREATE OR REPLACE FUNCTION recompute_expected_dates() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
BEGIN
    WITH n AS (
        SELECT a.id, add_working_days(
            (coalesce((SELECT max(e.at) FROM events e
                       WHERE e.application_id = a.id
                         AND e.type IN ('submitted', 'resubmitted')),
                      a.submitted_at) AT TIME ZONE 'Asia/Shanghai')::date,
            decision_target_days(a.region, a.review_mode, a.channel)) AS d
        FROM applications a
        WHERE a.status IN ('submitted', 'in_review')
          AND a.expected_decision_date IS NOT NULL
          -- An open objection's date is its deadline, fixed when filed
          -- (file_objection, 80_objection.sql).
          AND NOT objection_open(a.id)),
    u AS (UPDATE applications a SET expected_decision_date = n.d
          FROM n WHERE a.id = n.id AND a.expected_decision_date <> n.d
          RETURNING a.id)
    SELECT array_agg(u.id) INTO changed FROM u;
    -- The stored progress views show the moved date (a recompute writes
    -- no event, the views' usual rebuild).  Only that member is set, as
    -- application_view shows it (expected_date_shown, the one rule:
    -- NULL while nobody can be assigned): a whole application_view per
    -- application held the request past its 3 s deadline at load 8 with
    -- 150 open applications.
    UPDATE application_views v SET view = jsonb_set(v.view::jsonb,
        '{expected_decision_date}', coalesce(to_jsonb(expected_date_shown(
            a.status, a.unassigned_since, a.expected_decision_date)),
            'null'))::text
    FROM applications a
    WHERE a.id = v.application_id AND a.id = ANY (changed);
    RETURN coalesce(cardinality(changed), 0);
END $$;

-- PUT /agency/calendar/{year} (R-CER-6): the year's exceptions become
-- days, the expected dates are recomputed, the change is logged with the
-- user, role and region; one transaction, one change at a time (the
-- table's lock).  Returns {"ok": the year} or a refusal.
CREATE OR REPLACE FUNCTION set_calendar_year(y integer, days jsonb,
    actor bigint, p_role text, reg text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    why jsonb := calendar_refusal(y, days);
    before jsonb;
    n integer;
BEGIN
    IF why IS NOT NULL THEN
        RETURN why;
    END IF;
    LOCK TABLE calendar IN SHARE ROW EXCLUSIVE MODE;
    before := calendar_year_json(y)->'days';
    DELETE FROM calendar WHERE extract(year FROM day) = y;
    INSERT INTO calendar (day, kind, note)
    SELECT (e->>'day')::date, e->>'kind', coalesce(e->>'note', '')
    FROM jsonb_array_elements(days) e;
    n := recompute_expected_dates();
    INSERT INTO calendar_changes (user_id, role, region, year, before, after,
        recomputed)
    VALUES (actor, p_role, reg, y, before, calendar_year_json(y)->'days', n);
    RETURN jsonb_build_object('ok', calendar_year_json(y));
END $$;
