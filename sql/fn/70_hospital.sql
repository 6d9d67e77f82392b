-- 70_hospital.sql -- on-site certification (onsite mode; R-CER-8, S1
-- 现场确认备案, S4 医疗鉴定) and its electronic archive (R-SUP-6, S4 三):
-- the hospital fills the certification form (S4 认定表) for an
-- application it filed or that waits for it, and the outcome follows in
-- the same transaction.  How files in sql/fn/ are applied: see
-- 10_util.sql.

-- The materials of application app as the hospital's pages show them
-- (CertificationMaterial in docs/openapi.yaml): [{id, kind, name,
-- media_type, size}] in upload order, each read through GET
-- /materials/{id}; the certification's archive and the panel's case
-- (72_panel.sql) share it.  No scoping (callers scope).
CREATE OR REPLACE FUNCTION application_materials_json(app bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
        'id', m.id, 'kind', m.kind, 'name', mk.name,
        'media_type', m.media_type, 'size', m.size_bytes)
        ORDER BY m.id), '[]')
    FROM materials m JOIN material_kinds mk ON mk.code = m.kind
    WHERE m.application_id = app AND m.deleted_at IS NULL
$$;

-- One certification as the API shows it (Certification in
-- docs/openapi.yaml): the application, the hospital that certifies, the
-- person (ID number masked), the disease, the person's region, the form
-- (NULL while it waits), the images (the application's materials, read
-- through GET /materials/{id}), the agency's confirmation and the
-- qualification it made.  No scoping (callers scope).
CREATE OR REPLACE FUNCTION certification_json(app bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('application_id', a.id, 'status', a.status,
        'institution', jsonb_build_object('code', i.code, 'name', i.name),
        'person', jsonb_build_object('name', p.name,
            'id_number', shown_id(p.id_number_masked, p.id_number)),
        'disease', jsonb_build_object('code', d.code, 'name', d.name),
        'region', jsonb_build_object('code', r.code, 'name', r.name),
        'form', CASE WHEN c.application_id IS NOT NULL THEN
            jsonb_build_object('diagnosis', c.diagnosis, 'basis', c.basis,
                'examinations', c.examinations,
                'physician_name', c.physician_name,
                'physician_title', c.physician_title,
                'conclusion', c.conclusion, 'reason', c.reason) END,
        'certified_at', c.certified_at,
        'materials', application_materials_json(a.id),
        'confirmation', a.confirmation,
        'qualification', (SELECT jsonb_build_object('id', q.id,
            'status', q.status, 'valid_from', q.valid_from,
            'valid_to', q.valid_to)
            FROM qualifications q WHERE q.application_id = a.id
            ORDER BY q.id DESC LIMIT 1))
    FROM applications a
    JOIN persons p ON p.id = a.person_id
    JOIN diseases d ON d.code = a.disease
    JOIN regions r ON r.code = a.region
    LEFT JOIN certifications c ON c.application_id = a.id
    JOIN institutions i ON i.code = coalesce(c.institution,
        a.certifying_institution, a.filing_institution)
    WHERE a.id = app
$$;

-- Certify on site (POST /hospital/certifications) in one call and one
-- transaction, by hospital staff actor of hospital inst with the form f
-- {diagnosis, basis, examinations, physician_name, physician_title,
-- conclusion: approve|reject, reason}:
--   - the application: an onsite one filed by inst (draft or returned:
--     submitted here, the promise taken at the hospital, with every rule
--     of submit_application) or submitted with certifying_institution =
--     inst, not yet certified; another hospital's is 404
--     application_not_found, any other 409 not_awaiting_certification;
--   - certification_refusal(inst, disease, person's region) first: 403
--     institution_not_authorized with the reason (R-CER-8, R-CER-13);
--     then 422 physician_suspended when the form's physician may not
--     prescribe (a sanction, S2 五(二));
--   - the form row (S4 认定表), event certified_onsite, the agency's
--     confirmation pending (R-CER-11, event awaiting_confirmation);
--   - approve: conclude_application (the qualification from
--     benefit_start, of the person's region, SMS), unless the region's
--     benefit_waits_confirmation holds: then the application stays
--     in_review and the agency's confirmation concludes it; reject:
--     conclude_application with the reason.
-- Returns {"ok": certification_json} or a refusal for mt_reply_refusal.
CREATE OR REPLACE FUNCTION certify_onsite(app bigint, actor bigint,
    inst text, f jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    refusal jsonb;
    approve boolean := f->>'conclusion' = 'approve';
    -- A blank reason is none (the handler refuses one already).
    why text := nullif(btrim(f->>'reason'), '');
BEGIN
    SELECT x.* INTO a FROM applications x JOIN persons p ON p.id = x.person_id
    WHERE x.id = app
      AND (x.filing_institution = inst OR x.certifying_institution = inst)
    FOR UPDATE OF x, p;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('error', 'application_not_found',
                                  'field', 'application_id');
    END IF;
    IF a.review_mode <> 'onsite'
       OR EXISTS (SELECT 1 FROM certifications c WHERE c.application_id = app)
       OR NOT (a.status = 'submitted' AND a.certifying_institution = inst
               OR a.status IN ('draft', 'returned')
                  AND a.filing_institution = inst) THEN
        RETURN jsonb_build_object('error', 'not_awaiting_certification');
    END IF;
    IF NOT approve AND why IS NULL THEN
        RETURN jsonb_build_object('error', 'field_required',
            'field', 'reason', 'args', jsonb_build_array('不予认定的理由'));
    END IF;
    refusal := coalesce(certification_refusal(inst, a.disease, a.region),
        -- A physician whose prescription rights are suspended (S2 五(二),
        -- sql/fn/92_sanctions.sql) does not sign a form.
        sanction_physician_refusal(inst, f->>'physician_name'));
    IF refusal IS NOT NULL THEN
        RETURN refusal;
    END IF;
    IF a.status <> 'submitted' THEN
        refusal := submit_application(app, actor, 'hospital', NULL, inst, NULL);
        IF refusal ? 'error' THEN
            RETURN refusal;
        END IF;
    END IF;
    INSERT INTO certifications (application_id, institution, diagnosis, basis,
        examinations, physician_name, physician_title, conclusion, reason,
        certified_by)
    VALUES (app, inst, f->>'diagnosis', f->>'basis', f->>'examinations',
        f->>'physician_name', f->>'physician_title', f->>'conclusion',
        why, actor);
    INSERT INTO events (application_id, type, actor_user, actor_role, data)
    VALUES (app, 'certified_onsite', actor, 'hospital', jsonb_build_object(
            'conclusion', f->>'conclusion', 'institution_name',
            (SELECT name FROM institutions WHERE code = inst)));
    -- sql/fn/72_panel.sql, one definition for the hospitals' results.
    PERFORM await_confirmation(app);
    IF NOT approve THEN
        PERFORM conclude_application(app, false, NULL, why);
    ELSIF policy_value(a.region, 'benefit_waits_confirmation')::boolean THEN
        -- Benefits wait for the agency (R-CER-11): its confirmation
        -- concludes the application (the qualification is made then).
        UPDATE applications SET status = 'in_review', updated_at = now()
        WHERE id = app;
    ELSE
        PERFORM conclude_application(app, true, NULL, NULL);
    END IF;
    RETURN jsonb_build_object('ok', certification_json(app));
END $$;
