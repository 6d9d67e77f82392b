-- 015_hospital.sql -- hospitals certify (issue 11): the authorization per
-- disease and its rules (R-CER-8, R-CER-9), the on-site certification
-- form and its archive (R-CER-8, R-SUP-6, S4), hospital panels and the
-- public notice (R-CER-10, S2), the agency's confirmation (R-CER-11),
-- the quarterly certification table (R-SUP-2, S4), cross-region
-- certification (R-CER-13) and filing by a family member (R-APP-9).

-- A designated hospital limited to some diseases (S1: 禄丰康宁医院、禄丰
-- 阳光医院 限精神病及重性精神病病种): with rows here it serves and
-- certifies only these; without, every disease of its region's catalog.
-- institution_may_serve() (sql/fn/20_applications.sql) and the
-- authorization rules (sql/fn/65_authorization.sql) read it.
CREATE TABLE institution_scopes (
    institution text NOT NULL REFERENCES institutions(code) ON DELETE CASCADE,
    disease     text NOT NULL REFERENCES diseases(code) ON DELETE CASCADE,
    PRIMARY KEY (institution, disease)
);

-- A hospital the province authorizes (省级认定机构, R-CER-13, S1 四,
-- S4 一): it may certify, and be the designated hospital of, a person
-- insured in any region of its province (the first two digits of the
-- region code).
ALTER TABLE institutions
    ADD COLUMN province_wide boolean NOT NULL DEFAULT false;

-- institution_diseases becomes the certification authorization proper:
-- which diseases a hospital may certify (R-CER-8), active, suspended or
-- revoked by the agency (R-SUP-4), under which rule of R-CER-9 it was
-- admitted (authorization_rule() in sql/fn/65_authorization.sql).
-- Serving as a designated hospital no longer depends on it (scopes above).
ALTER TABLE institution_diseases
    ADD COLUMN status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'suspended', 'revoked')),
    ADD COLUMN rule text CHECK (rule IN
        ('public_chronic', 'public_special', 'private_scored', 'reference')),
    ADD COLUMN granted_by bigint REFERENCES users(id),
    ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN reason text CHECK (length(reason) <= 500);

-- Every change of an authorization, for supervision (R-SUP-4, R-SUP-7).
CREATE TABLE authorization_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    institution text NOT NULL REFERENCES institutions(code),
    disease     text REFERENCES diseases(code),   -- NULL: the whole hospital
    status      text NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    reason      text CHECK (length(reason) <= 500),
    changed_by  bigint REFERENCES users(id),
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX authorization_log_institution ON authorization_log(institution, id);

-- Applications certified in a hospital (review_mode onsite or panel):
-- the hospital that certifies (the filing hospital, else the designated
-- one); the agency's confirmation of a hospital's result (R-CER-11):
-- pending until confirmed or overturned; a family member who filed as the
-- agent (R-APP-9: the agent's own account, so the agent follows it).
ALTER TABLE applications
    ADD COLUMN certifying_institution text REFERENCES institutions(code),
    ADD COLUMN confirmation text
        CHECK (confirmation IN ('pending', 'confirmed', 'overturned')),
    ADD COLUMN confirmed_by bigint REFERENCES users(id),
    ADD COLUMN confirmed_at timestamptz,
    ADD COLUMN confirmation_reason text
        CHECK (length(confirmation_reason) BETWEEN 1 AND 1000),
    ADD COLUMN agent_person_id bigint REFERENCES persons(id),
    ADD CONSTRAINT applications_confirmed_when
        CHECK ((confirmation IN ('confirmed', 'overturned'))
               = (confirmed_at IS NOT NULL));
CREATE INDEX applications_confirmation_pending ON applications(region, id)
    WHERE confirmation = 'pending';
CREATE INDEX applications_certifying ON applications(certifying_institution, status, id)
    WHERE certifying_institution IS NOT NULL;
CREATE INDEX applications_agent ON applications(agent_person_id, id)
    WHERE agent_person_id IS NOT NULL;

-- The on-site certification form (S4 认定表, R-CER-8): one per
-- application, kept in the electronic archive with the application's
-- materials (the images, same file store) for good (R-SUP-6).
CREATE TABLE certifications (
    application_id bigint PRIMARY KEY REFERENCES applications(id),
    institution text NOT NULL REFERENCES institutions(code),
    diagnosis   text NOT NULL CHECK (length(diagnosis) BETWEEN 1 AND 500),
    basis       text NOT NULL CHECK (length(basis) BETWEEN 1 AND 2000),
    examinations text NOT NULL CHECK (length(examinations) BETWEEN 1 AND 2000),
    physician_name text NOT NULL CHECK (length(physician_name) BETWEEN 1 AND 64),
    physician_title text NOT NULL
        CHECK (physician_title IN ('初级', '中级', '副高', '正高')),
    conclusion  text NOT NULL CHECK (conclusion IN ('approve', 'reject')),
    reason      text CHECK (length(reason) BETWEEN 1 AND 1000),
    certified_by bigint NOT NULL REFERENCES users(id),
    certified_at timestamptz NOT NULL DEFAULT now(),
    CHECK (conclusion = 'approve' OR reason IS NOT NULL)
);
CREATE INDEX certifications_institution ON certifications(institution, certified_at);

-- A hospital panel's decision (S2 二(二), R-CER-10) and each member's
-- opinion; members are experts of the certifying hospital.
CREATE TABLE panel_decisions (
    application_id bigint PRIMARY KEY REFERENCES applications(id),
    institution text NOT NULL REFERENCES institutions(code),
    conclusion  text NOT NULL CHECK (conclusion IN ('approve', 'reject')),
    opinion     text CHECK (length(opinion) <= 2000),
    reason      text CHECK (length(reason) BETWEEN 1 AND 1000),
    decided_by  bigint NOT NULL REFERENCES users(id),
    decided_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (conclusion = 'approve' OR reason IS NOT NULL)
);
CREATE INDEX panel_decisions_institution ON panel_decisions(institution, decided_at);
CREATE TABLE panel_members (
    application_id bigint NOT NULL REFERENCES panel_decisions(application_id),
    expert_id   bigint NOT NULL REFERENCES experts(user_id),
    opinion     text NOT NULL CHECK (opinion IN ('approve', 'reject')),
    note        text CHECK (length(note) <= 1000),
    PRIMARY KEY (application_id, expert_id)
);

-- The public notice of a panel approval (公示, R-CER-10): from starts_on
-- through ends_on (the last working day of the notice, inclusive).
-- open -> ended (clean: the qualification is made) | objected (held for
-- the agency, who confirms or overturns) | withdrawn (the application
-- was withdrawn or overturned meanwhile).
CREATE TABLE publicity (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL UNIQUE REFERENCES applications(id),
    institution text NOT NULL REFERENCES institutions(code),
    region      text NOT NULL REFERENCES regions(code),
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    state       text NOT NULL DEFAULT 'open'
                CHECK (state IN ('open', 'objected', 'ended', 'withdrawn')),
    closed_at   timestamptz,
    CHECK (ends_on >= starts_on),
    CHECK ((state = 'open') = (closed_at IS NULL))
);
CREATE INDEX publicity_open ON publicity(ends_on) WHERE state = 'open';
CREATE INDEX publicity_region ON publicity(region, state, id);

-- An objection to a public notice, by anyone (no account): the reason and
-- an optional contact; source is a keyed hash of the caller's address (for
-- abuse review), never the address itself.
CREATE TABLE publicity_objections (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    publicity_id bigint NOT NULL REFERENCES publicity(id),
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    contact     text CHECK (length(contact) BETWEEN 1 AND 64),
    source      text CHECK (length(source) <= 64),
    filed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX publicity_objections_publicity ON publicity_objections(publicity_id);

-- A hospital's quarterly certification table, as sent (S4: within
-- quarterly_report_working_days working days after the quarter; R-SUP-2).
CREATE TABLE quarterly_reports (
    institution text NOT NULL REFERENCES institutions(code),
    quarter     text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    row_count   integer NOT NULL CHECK (row_count >= 0),
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    submitted_by bigint NOT NULL REFERENCES users(id),
    submitted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (institution, quarter)
);

-- An overturned hospital result voids the qualification (S4 三): a reason
-- of its own, status revoked (qualification_end_status).
ALTER TABLE qualifications DROP CONSTRAINT qualifications_end_reason_check;
ALTER TABLE qualifications ADD CONSTRAINT qualifications_end_reason_check
    CHECK (end_reason IN ('cured', 'voluntary', 'violation', 'death',
                          'expired', 'audit_failed', 'overturned', 'other'));

-- Archive reads are logged like every other read of a person's record.
ALTER TABLE access_log DROP CONSTRAINT access_log_object_type_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_object_type_check
    CHECK (object_type IN ('application', 'material', 'person',
                           'qualification', 'certification'));
