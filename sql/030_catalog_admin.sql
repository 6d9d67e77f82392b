-- 030_catalog_admin.sql -- the agency's catalog and the working-day
-- calendar (issue 12 item 7; R-SUP-5, R-CER-6).  The functions that read
-- and write these: sql/fn/94_catalog_admin.sql.
--
-- A region overrides the national (or provincial) entry of a disease for
-- its own catalog only: review_mode (already here), validity_months and
-- the list of materials.  NULL / no rows: the disease's own.
ALTER TABLE region_diseases ADD COLUMN IF NOT EXISTS validity_months integer
    CHECK (validity_months BETWEEN 1 AND 120);

-- The region's list of materials for a disease.  When a region has rows
-- for a disease they are its whole list (disease_materials then does not
-- apply there); the columns mean what they mean in disease_materials.
CREATE TABLE region_disease_materials (
    region      text NOT NULL,
    disease     text NOT NULL,
    kind        text NOT NULL REFERENCES material_kinds(code),
    required    boolean NOT NULL DEFAULT true,
    max_age_days integer CHECK (max_age_days BETWEEN 1 AND 3650),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 256),
    sort_order  integer NOT NULL,
    PRIMARY KEY (region, disease, kind),
    FOREIGN KEY (region, disease) REFERENCES region_diseases(region, disease)
        ON DELETE CASCADE
);

-- Every change to a region's catalog entry: who, when, the entry before
-- and after (NULL: not in the region's catalog).
CREATE TABLE catalog_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     bigint NOT NULL REFERENCES users(id),
    role        text NOT NULL CHECK (role IN ('agency', 'admin')),
    region      text NOT NULL REFERENCES regions(code),
    disease     text NOT NULL REFERENCES diseases(code),
    before      jsonb,
    after       jsonb
);
CREATE INDEX catalog_changes_region ON catalog_changes(region, disease, id);

-- Every replacement of a year's calendar exceptions: the calendar is
-- national (the State Council's schedule), so the change names the user,
-- the role and the region the user acts for (NULL: an admin), the year's
-- exceptions before and after and how many stored dates were recomputed.
CREATE TABLE calendar_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     bigint NOT NULL REFERENCES users(id),
    role        text NOT NULL CHECK (role IN ('agency', 'admin')),
    region      text REFERENCES regions(code),
    year        integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    before      jsonb NOT NULL,
    after       jsonb NOT NULL,
    recomputed  integer NOT NULL DEFAULT 0
);
CREATE INDEX calendar_changes_year ON calendar_changes(year, id);
