-- 027_quarterly_review.sql -- the quarterly review (复核, R-SUP-2, S2 三
-- 市医保中心每季度第一个月按照"双随机，一公开"原则从门诊慢特病专家库中
-- 抽取临床专家开展……复核工作): per region and quarter, the reviewers
-- drawn from the region's active experts (draws purpose
-- 'review_experts') and the cases drawn from the quarter's decided
-- applications (purpose 'review_cases'), each case given to one
-- reviewer, and the reviewer's result.  The rules are in
-- sql/fn/88_quarterly_review.sql.

-- One review per region and quarter (a second draw is refused: 409).
CREATE TABLE quarterly_reviews (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region      text NOT NULL REFERENCES regions(code),
    quarter     text NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    rate_percent integer NOT NULL CHECK (rate_percent BETWEEN 1 AND 100),
    -- How many decided applications the quarter had (the cases' pool).
    population  integer NOT NULL CHECK (population >= 0),
    reviewer_draw_id bigint NOT NULL REFERENCES draws(id),
    -- NULL: the quarter decided nothing, so no case was drawn.
    case_draw_id bigint REFERENCES draws(id),
    -- NULL: drawn by the dispatcher's job on the scheduled day.
    drawn_by    bigint REFERENCES users(id),
    drawn_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region, quarter),
    CHECK ((case_draw_id IS NULL) = (population = 0))
);

-- The reviewers in draw order (seat 1 = the first chosen).
CREATE TABLE quarterly_review_reviewers (
    review_id   bigint NOT NULL REFERENCES quarterly_reviews(id),
    seat        integer NOT NULL CHECK (seat >= 1),
    expert_id   bigint NOT NULL REFERENCES experts(user_id),
    PRIMARY KEY (review_id, seat),
    UNIQUE (review_id, expert_id)
);

-- The cases in draw order (seq 1 = the first chosen), each with its
-- reviewer (NULL: every reviewer had decided it) and result.
CREATE TABLE quarterly_review_cases (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    review_id   bigint NOT NULL REFERENCES quarterly_reviews(id),
    seq         integer NOT NULL CHECK (seq >= 1),
    application_id bigint NOT NULL REFERENCES applications(id),
    expert_id   bigint REFERENCES experts(user_id),
    result      text CHECK (result IN ('agree', 'disagree')),
    note        text CHECK (length(note) <= 2000),
    reviewed_at timestamptz,
    UNIQUE (review_id, seq),
    UNIQUE (review_id, application_id),
    CHECK ((result IS NULL) = (reviewed_at IS NULL)),
    CHECK (result IS DISTINCT FROM 'disagree' OR length(note) > 0)
);
CREATE INDEX quarterly_review_cases_expert
    ON quarterly_review_cases(expert_id, id) WHERE expert_id IS NOT NULL;
CREATE INDEX quarterly_review_cases_application
    ON quarterly_review_cases(application_id);
