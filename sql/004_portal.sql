-- mtcert schema, part 4: what the web portal needs of the progress view
-- (issue 5).  An approved application shows its benefit qualification:
-- disease, designated hospital, valid from-to (R-BEN-1, R-BEN-2), and
-- a rejected one its reason (R-CER-11), so the portal and
-- the mobile app read one document.

CREATE OR REPLACE FUNCTION application_view(app bigint) RETURNS text
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
        'decision_reason', CASE WHEN a.status = 'rejected'
            THEN a.decision_reason END,
        'qualification', (SELECT json_build_object('id', q.id,
            'status', q.status, 'valid_from', q.valid_from,
            'valid_to', q.valid_to,
            'designated_institution', json_build_object('code', qi.code,
                'name', qi.name))
            FROM qualifications q
            JOIN institutions qi ON qi.code = q.designated_institution
            WHERE q.application_id = a.id ORDER BY q.id DESC LIMIT 1),
        'timeline', (SELECT coalesce(json_agg(json_build_object(
            'at', e.at, 'type', e.type, 'text', event_text(e.type, e.data))
            ORDER BY e.id), '[]') FROM events e
            WHERE e.application_id = a.id))::text
    FROM applications a JOIN persons p ON p.id = a.person_id
    JOIN diseases d ON d.code = a.disease
    JOIN institutions i ON i.code = a.designated_institution
    WHERE a.id = app);
END $$;

-- Views built before this file: rebuilt once with the new fields.
UPDATE application_views SET view = application_view(application_id);
