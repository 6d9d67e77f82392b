-- 001_init.sql -- the records of DESIGN.md for the whole system.
-- Applied once by `mtcertctl migrate` inside a transaction; never edited
-- after it lands: change the schema with a new numbered migration.
-- Constraints live here, not only in C: states are CHECKed, every
-- reference is a foreign key, "one live X" rules are partial unique indexes.
-- Numbered migrations hold tables, indexes and data only: every function,
-- view and trigger has its one live definition in sql/fn/ (see there).

-- Regions (统筹区) by their 6-digit administrative division code.
CREATE TABLE regions (
    code        text PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    province    text NOT NULL CHECK (length(province) BETWEEN 1 AND 32)
);

-- Every number of REQUIREMENTS.md is a policy key with a type, a range and
-- a default; policies hold each region's value. No rule reads a constant.
CREATE TABLE policy_keys (
    key         text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
    type        text NOT NULL CHECK (type IN ('int', 'bool', 'enum')),
    min_value   bigint,
    max_value   bigint,
    choices     text[],
    default_value text NOT NULL,
    requirement text NOT NULL,       -- the R-... id it implements
    description text NOT NULL,
    CHECK (type <> 'enum' OR choices IS NOT NULL),
    CHECK (type <> 'int' OR (min_value IS NOT NULL AND max_value IS NOT NULL
                             AND min_value <= max_value))
);

CREATE TABLE policies (
    region      text NOT NULL REFERENCES regions(code),
    key         text NOT NULL REFERENCES policy_keys(key),
    value       text NOT NULL CHECK (length(value) BETWEEN 1 AND 64),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT 'system',
    PRIMARY KEY (region, key)
);

-- Expert-pool categories (专家库类别, R-CER-1).
CREATE TABLE specialties (
    name        text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 16)
);

-- Kinds of material an applicant attaches (R-APP-3, R-APP-4).
CREATE TABLE material_kinds (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 64)
);

-- The disease catalog (R-SUP-5). review_mode: single = instant disease, one
-- expert, final (R-CER-5); double = initial + re-review; onsite / panel =
-- hospital modes (R-CER-8, R-CER-10).
CREATE TABLE diseases (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9]{1,15}$'),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    category    text NOT NULL CHECK (category IN ('special', 'chronic')),
    specialty   text NOT NULL REFERENCES specialties(name),
    review_mode text NOT NULL CHECK (review_mode IN
                    ('single', 'double', 'onsite', 'panel')),
    quota       boolean NOT NULL,     -- 定额 (S2)
    validity_months integer NOT NULL CHECK (validity_months BETWEEN 1 AND 120),
    sort_order  integer NOT NULL,
    source      text NOT NULL,        -- seed document and row it comes from
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What each disease needs. max_age_days: the material must be issued within
-- that many days (NULL: the region's material_max_age_days policy).
-- required = false marks a material needed only under the stated condition.
CREATE TABLE disease_materials (
    disease     text NOT NULL REFERENCES diseases(code) ON DELETE CASCADE,
    kind        text NOT NULL REFERENCES material_kinds(code),
    required    boolean NOT NULL DEFAULT true,
    max_age_days integer CHECK (max_age_days BETWEEN 1 AND 3650),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 256),
    sort_order  integer NOT NULL,
    PRIMARY KEY (disease, kind)
);

-- Which diseases a region's catalog holds; review_mode overrides the
-- disease's own mode for that region when set.
CREATE TABLE region_diseases (
    region      text NOT NULL REFERENCES regions(code),
    disease     text NOT NULL REFERENCES diseases(code) ON DELETE CASCADE,
    review_mode text CHECK (review_mode IN ('single', 'double', 'onsite', 'panel')),
    PRIMARY KEY (region, disease)
);

-- Medical institutions (定点医疗机构). level 1..3; score: last year's
-- assessment (R-CER-9). designated: a designated hospital where benefits
-- can be used; certifying: may certify (R-CER-8).
CREATE TABLE institutions (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z][0-9A-Z]{5,19}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    region      text NOT NULL REFERENCES regions(code),
    level       smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
    ownership   text NOT NULL CHECK (ownership IN ('public', 'private')),
    score       numeric(5,2) CHECK (score BETWEEN 0 AND 100),
    designated  boolean NOT NULL DEFAULT true,
    certifying  boolean NOT NULL DEFAULT false,
    certification_status text NOT NULL DEFAULT 'active'
                CHECK (certification_status IN ('active', 'suspended', 'revoked')),
    source      text NOT NULL
);
CREATE INDEX institutions_region ON institutions(region, code);

-- Certification authorization per disease (R-CER-8, S1, S4).
CREATE TABLE institution_diseases (
    institution text NOT NULL REFERENCES institutions(code) ON DELETE CASCADE,
    disease     text NOT NULL REFERENCES diseases(code) ON DELETE CASCADE,
    PRIMARY KEY (institution, disease)
);
CREATE INDEX institution_diseases_disease ON institution_diseases(disease);

-- The insured registry (参保人).
CREATE TABLE persons (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id_number   text NOT NULL UNIQUE CHECK (id_number ~ '^[0-9]{17}[0-9X]$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    sex         text NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date  date NOT NULL,
    phone       text NOT NULL CHECK (phone ~ '^1[3-9][0-9]{9}$'),
    insurance   text NOT NULL CHECK (insurance IN ('employee', 'resident')),
    region      text NOT NULL REFERENCES regions(code),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_phone ON persons(phone);

-- Accounts. Insured users have no password (SMS login); staff have an
-- Argon2id hash. Scope: person (insured), institution (hospital, expert),
-- region (agency).
CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login       text NOT NULL UNIQUE CHECK (login ~ '^[A-Za-z0-9_.@-]{3,64}$'),
    role        text NOT NULL CHECK (role IN
                    ('insured', 'hospital', 'expert', 'agency', 'admin')),
    password_hash text,
    person_id   bigint REFERENCES persons(id),
    institution text REFERENCES institutions(code),
    region      text REFERENCES regions(code),
    display_name text NOT NULL DEFAULT '' CHECK (length(display_name) <= 64),
    failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until timestamptz,
    disabled    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (role = 'insured' OR password_hash IS NOT NULL),
    CHECK (role <> 'insured' OR person_id IS NOT NULL),
    CHECK (role NOT IN ('hospital', 'expert') OR institution IS NOT NULL),
    CHECK (role <> 'agency' OR region IS NOT NULL)
);
CREATE UNIQUE INDEX users_one_insured_per_person ON users(person_id)
    WHERE role = 'insured';

-- Certification experts (R-CER-1, R-CER-4).
CREATE TABLE experts (
    user_id     bigint PRIMARY KEY REFERENCES users(id),
    title       text NOT NULL CHECK (title IN ('初级', '中级', '副高', '正高')),
    status      text NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'disqualified', 'suspended')),
    consecutive_misses integer NOT NULL DEFAULT 0 CHECK (consecutive_misses >= 0),
    status_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE expert_specialties (
    expert_id   bigint NOT NULL REFERENCES experts(user_id) ON DELETE CASCADE,
    specialty   text NOT NULL REFERENCES specialties(name),
    PRIMARY KEY (expert_id, specialty)
);
CREATE INDEX expert_specialties_specialty ON expert_specialties(specialty);

-- Applications (R-APP-*). stage: the review stage currently open
-- (1 initial, 2 re-review, 3 tie-break or objection panel).
CREATE TABLE applications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES persons(id),
    disease     text NOT NULL REFERENCES diseases(code),
    region      text NOT NULL REFERENCES regions(code),
    channel     text NOT NULL CHECK (channel IN
                    ('mini_program', 'web', 'hospital', 'counter')),
    status      text NOT NULL DEFAULT 'draft' CHECK (status IN
                    ('draft', 'submitted', 'returned', 'in_review',
                     'approved', 'rejected', 'withdrawn')),
    review_mode text NOT NULL CHECK (review_mode IN
                    ('single', 'double', 'onsite', 'panel')),
    stage       smallint NOT NULL DEFAULT 0 CHECK (stage BETWEEN 0 AND 9),
    phone       text NOT NULL CHECK (phone ~ '^1[3-9][0-9]{9}$'),
    medical_record_no text NOT NULL CHECK (length(medical_record_no) BETWEEN 1 AND 64),
    designated_institution text NOT NULL REFERENCES institutions(code),
    filing_institution text REFERENCES institutions(code),
    filed_by    bigint NOT NULL REFERENCES users(id),
    agent_name  text CHECK (length(agent_name) BETWEEN 1 AND 64),
    agent_id_number text CHECK (agent_id_number ~ '^[0-9]{17}[0-9X]$'),
    agent_relation text CHECK (length(agent_relation) BETWEEN 1 AND 32),
    agent_phone text CHECK (agent_phone ~ '^1[3-9][0-9]{9}$'),
    precheck    jsonb,
    objection_of bigint REFERENCES applications(id),
    promised_at timestamptz,
    submitted_at timestamptz,
    decided_at  timestamptz,
    decision_reason_code text,
    decision_reason text CHECK (length(decision_reason) <= 1000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((agent_name IS NULL) = (agent_id_number IS NULL)),
    CHECK (status = 'draft' OR status = 'withdrawn' OR promised_at IS NOT NULL),
    CHECK (status NOT IN ('approved', 'rejected') OR decided_at IS NOT NULL)
);
-- At most one open application per person and disease.
CREATE UNIQUE INDEX applications_one_open ON applications(person_id, disease)
    WHERE status IN ('draft', 'submitted', 'returned', 'in_review');
CREATE INDEX applications_person ON applications(person_id, id);
CREATE INDEX applications_region_status ON applications(region, status, id);

-- Uploaded materials, stored content-addressed by SHA-256 (DESIGN: files).
CREATE TABLE materials (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES applications(id),
    kind        text NOT NULL REFERENCES material_kinds(code),
    issued_on   date NOT NULL,
    issuer      text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 128),
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes  bigint NOT NULL CHECK (size_bytes > 0),
    media_type  text NOT NULL CHECK (media_type IN
                    ('image/jpeg', 'image/png', 'application/pdf')),
    uploaded_by bigint NOT NULL REFERENCES users(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX materials_application ON materials(application_id)
    WHERE deleted_at IS NULL;

-- Expert assignments: one per push (R-CER-2, R-CER-3).
CREATE TABLE assignments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES applications(id),
    stage       smallint NOT NULL CHECK (stage BETWEEN 1 AND 9),
    expert_id   bigint NOT NULL REFERENCES experts(user_id),
    state       text NOT NULL DEFAULT 'pushed' CHECK (state IN
                    ('pushed', 'accepted', 'refused', 'expired', 'decided',
                     'cancelled')),
    pool_size   integer NOT NULL CHECK (pool_size >= 1),
    pushed_at   timestamptz NOT NULL DEFAULT now(),
    accept_deadline timestamptz NOT NULL,
    accepted_at timestamptz,
    ended_at    timestamptz,
    decision    text CHECK (decision IN ('approve', 'reject')),
    opinion     text CHECK (length(opinion) <= 2000),
    reason_code text CHECK (length(reason_code) <= 64),
    refuse_reason text CHECK (length(refuse_reason) <= 500),
    CHECK (accept_deadline > pushed_at),
    CHECK (state <> 'decided' OR decision IS NOT NULL)
);
-- One live assignment per (application, stage).
CREATE UNIQUE INDEX assignments_one_live ON assignments(application_id, stage)
    WHERE state IN ('pushed', 'accepted');
CREATE INDEX assignments_expert ON assignments(expert_id, state);
CREATE INDEX assignments_pushed_deadline ON assignments(accept_deadline)
    WHERE state = 'pushed';

-- The timeline and audit trail of every application (R-SUP-7).
CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES applications(id),
    at          timestamptz NOT NULL DEFAULT now(),
    type        text NOT NULL CHECK (type ~ '^[a-z][a-z_]{0,39}$'),
    actor_user  bigint REFERENCES users(id),
    actor_role  text CHECK (actor_role IN
                    ('insured', 'hospital', 'expert', 'agency', 'admin', 'system')),
    data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_application ON events(application_id, id);

-- Benefit qualifications (R-BEN-*).
CREATE TABLE qualifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id   bigint NOT NULL REFERENCES persons(id),
    disease     text NOT NULL REFERENCES diseases(code),
    region      text NOT NULL REFERENCES regions(code),
    application_id bigint REFERENCES applications(id),
    designated_institution text NOT NULL REFERENCES institutions(code),
    valid_from  date NOT NULL,
    valid_to    date NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN
                    ('active', 'terminated', 'expired', 'cancelled')),
    end_reason  text CHECK (end_reason IN ('cured', 'voluntary', 'violation',
                    'death', 'expired', 'audit_failed', 'other')),
    ended_at    timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to >= valid_from),
    CHECK ((status = 'active') = (end_reason IS NULL))
);
CREATE UNIQUE INDEX qualifications_one_active ON qualifications(person_id, disease)
    WHERE status = 'active';

-- Designated-hospital changes (R-BEN-3: at most N per calendar year).
CREATE TABLE hospital_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    qualification_id bigint NOT NULL REFERENCES qualifications(id),
    from_institution text NOT NULL REFERENCES institutions(code),
    to_institution text NOT NULL REFERENCES institutions(code),
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  bigint NOT NULL REFERENCES users(id),
    CHECK (from_institution <> to_institution)
);

-- Objections / re-certification (R-CER-12).
CREATE TABLE objections (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id bigint NOT NULL REFERENCES applications(id),
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    filed_at    timestamptz NOT NULL DEFAULT now(),
    state       text NOT NULL DEFAULT 'open' CHECK (state IN
                    ('open', 'upheld', 'dismissed')),
    decided_at  timestamptz
);
CREATE UNIQUE INDEX objections_one_per_application ON objections(application_id);

-- Audit sampling (R-SUP-1).
CREATE TABLE audits (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region      text NOT NULL REFERENCES regions(code),
    from_date   date NOT NULL,
    to_date     date NOT NULL,
    rate_percent numeric(5,2) NOT NULL CHECK (rate_percent > 0 AND rate_percent <= 100),
    population  integer NOT NULL CHECK (population >= 0),
    drawn_by    bigint NOT NULL REFERENCES users(id),
    drawn_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (to_date >= from_date)
);
CREATE TABLE audit_items (
    audit_id    bigint NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
    application_id bigint NOT NULL REFERENCES applications(id),
    result      text NOT NULL DEFAULT 'pending'
                CHECK (result IN ('pending', 'pass', 'fail')),
    note        text CHECK (length(note) <= 1000),
    decided_by  bigint REFERENCES users(id),
    decided_at  timestamptz,
    PRIMARY KEY (audit_id, application_id)
);

-- Sanctions (R-SUP-4).
CREATE TABLE sanctions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_type text NOT NULL CHECK (subject_type IN
                    ('person', 'physician', 'institution')),
    subject     text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('stop_benefit', 'recover_funds',
                    'suspend_prescription', 'suspend_certification',
                    'revoke_certification')),
    valid_from  date NOT NULL,
    valid_to    date,
    reason      text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    recorded_by bigint NOT NULL REFERENCES users(id),
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Monthly settlement records (R-BEN-4 renewal rule).
CREATE TABLE settlements (
    person_id   bigint NOT NULL REFERENCES persons(id),
    disease     text NOT NULL REFERENCES diseases(code),
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
    PRIMARY KEY (person_id, disease, month)
);

-- Outgoing SMS (R-CER-7): written in the transaction that causes it.
CREATE TABLE sms_outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    to_phone    text NOT NULL CHECK (to_phone ~ '^1[3-9][0-9]{9}$'),
    template    text NOT NULL CHECK (template ~ '^[a-z][a-z_]{0,39}$'),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text
);
CREATE INDEX sms_outbox_unsent ON sms_outbox(id) WHERE sent_at IS NULL;

-- Working-day calendar (R-CER-6): only the exceptions are stored; a day not
-- listed is a work day from Monday to Friday.
CREATE TABLE calendar (
    day         date PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    note        text NOT NULL DEFAULT ''
);

-- Who read which personal record (security model).
CREATE TABLE access_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     bigint NOT NULL REFERENCES users(id),
    person_id   bigint REFERENCES persons(id),
    object_type text NOT NULL CHECK (object_type IN
                    ('application', 'material', 'person', 'qualification')),
    object_id   bigint NOT NULL,
    action      text NOT NULL CHECK (action IN ('read', 'download', 'export'))
);
CREATE INDEX access_log_person ON access_log(person_id, at);

-- Idempotency-Key replay store for creating POSTs (API.md).
CREATE TABLE idempotency_keys (
    user_id     bigint NOT NULL REFERENCES users(id),
    key         text NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
    request_hash text NOT NULL,
    status      smallint NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- A counter bumped by every change to the public catalog, so workers that
-- cache the catalog in memory know cheaply when to reload it (the
-- triggers that bump it: sql/fn/10_util.sql).
CREATE TABLE catalog_version (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    version     bigint NOT NULL
);
INSERT INTO catalog_version VALUES (true, 1);
