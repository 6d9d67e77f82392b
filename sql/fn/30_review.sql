-- 30_review.sql -- the review engine (R-CER-1 ... R-CER-7): the expert
-- draw, pushes, expiry, refusal, decisions by stage, the resulting
-- qualification and the dispatcher's batches.  Only mtcert-dispatcher
-- pushes and expires; PostgreSQL decides every race with a conditional
-- update.  How files in sql/fn/ are applied: see 10_util.sql.
-- Lock order, in every function here and in withdraw_application: an
-- assignment, then its expert (the miss count), then the application
-- (then its objection: sql/fn/80_objection.sql);
-- push_set locks only applications, skipping those held (it creates
-- their assignments).  Expiries (expire_set) go set by set: the
-- assignments in expert order (skipping those held), then the
-- applications in id order, and the experts in id order last
-- (count_misses, at the end of repush_batch: their rows are the ones
-- two dispatchers share).  Between two batches one order: no deadlock.
-- A batch and a refusal or acceptance of another live seat of the same
-- objection panel by an expert of the batch take expert and
-- application in opposite orders: PostgreSQL's deadlock check ends one
-- (the batch's members come back after the claim's visibility, a
-- refusal is answered 503 and may be made again).

-- Title order for the pool rule (R-CER-1: intermediate or higher).
CREATE OR REPLACE FUNCTION title_rank(t text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE t WHEN '初级' THEN 1 WHEN '中级' THEN 2 WHEN '副高' THEN 3
                  WHEN '正高' THEN 4 END
$$;

-- The experts who may review application app at its push_stage
-- (R-CER-1 ... R-CER-3): active (never a disqualified one), title at
-- least the region's expert_min_title, the disease's specialty, not of
-- the applicant's designated hospital, and never one who decided it at
-- any stage (the re-review is another expert's), nor one who refused
-- it (a refusal is an explicit no, e.g. a conflict of interest: asked
-- again and again, one application nobody takes would cost a whole
-- specialty pool its qualification through miss_limit).  Each comes
-- with:
--   outside: 1 for an expert of another region of the province (only
--     when the region's province_pool_fallback policy allows it: the
--     province is the first 2 digits of the region code), else 0;
--   held: how many times this expert already held it (missed or
--     cancelled): the draw takes the least held first, so everybody is
--     asked once before anybody is asked again -- a new round among
--     those who let it expire, rather than an application that waits for
--     good once each expert has missed it; when nobody is left, it waits
--     (push_assignment: unassigned, tell_waiting, the agency's stuck);
--   preference: 1 for an expert of a hospital that already held it (from
--     stage 2 on another hospital when the pool allows), else 0.
-- draw_experts orders by one number made of these three: outside and
-- preference must stay 0 or 1 and held a count below 2^31.
-- The return type changed (issue 9): the old one is dropped first.
-- Set-wise since issue 13 (eligible_experts_set: one query for a whole
-- batch of applications, ~1.4 ms per application as one call each);
-- eligible_experts(app) is a call of it, so there is one definition.
DROP FUNCTION IF EXISTS draw_expert(bigint);
DROP FUNCTION IF EXISTS eligible_experts(bigint);
CREATE OR REPLACE FUNCTION eligible_experts_set(apps bigint[])
RETURNS TABLE (application bigint, expert_id bigint, hospital text,
               outside integer, held integer, preference integer)
LANGUAGE sql STABLE AS $$
    -- Each application with what its assignments say, as arrays: who
    -- held it (once per time), who may not be asked again (decided,
    -- accepted, pushed or refused it), the hospitals that held it.  No
    -- join per expert and application: a batch is ~100 x its pool.
    WITH a AS MATERIALIZED (
        SELECT x.id, x.region, x.designated_institution, d.specialty,
               coalesce(h.held_by, '{}') AS held_by,
               coalesce(h.barred, '{}') AS barred,
               coalesce(h.hospitals, '{}') AS hospitals
        FROM applications x JOIN diseases d ON d.code = x.disease
        LEFT JOIN LATERAL (
            SELECT array_agg(y.expert_id) AS held_by,
                   array_agg(y.expert_id) FILTER (WHERE y.state IN (
                       'decided', 'accepted', 'pushed', 'refused')) AS barred,
                   array_agg(DISTINCT y.hospital) AS hospitals
            FROM assignments y WHERE y.application_id = x.id) h ON true
        WHERE x.id = ANY(apps)),
    -- Each region's policies read once, not once per application.
    r AS MATERIALIZED (
        SELECT g.region,
               title_rank(policy_value(g.region, 'expert_min_title'))
                   AS min_rank,
               policy_value(g.region, 'province_pool_fallback') = 'true'
                   AS province
        FROM (SELECT DISTINCT a.region FROM a) g),
    -- The pool of each region and specialty, found once for the batch
    -- (a batch is mostly one region's, of few diseases).
    c AS MATERIALIZED (
        SELECT k.region, k.specialty, e.user_id, u.institution,
               CASE WHEN i.region = k.region THEN 0 ELSE 1 END AS outside
        FROM (SELECT DISTINCT a.region, a.specialty FROM a) k
        JOIN r ON r.region = k.region
        JOIN expert_specialties s ON s.specialty = k.specialty
        JOIN experts e ON e.user_id = s.expert_id
        JOIN users u ON u.id = e.user_id AND NOT u.disabled
        JOIN institutions i ON i.code = u.institution
        WHERE (i.region = k.region
               OR (r.province AND left(i.region, 2) = left(k.region, 2)))
          AND e.status = 'active'
          AND title_rank(e.title) >= r.min_rank)
    SELECT a.id, c.user_id, c.institution, c.outside,
           coalesce(cardinality(array_positions(a.held_by, c.user_id)), 0),
           CASE WHEN c.institution = ANY(a.hospitals) THEN 1 ELSE 0 END
    FROM a JOIN c ON c.region = a.region AND c.specialty = a.specialty
    WHERE c.institution <> a.designated_institution
      AND c.user_id <> ALL(a.barred)
$$;
CREATE OR REPLACE FUNCTION eligible_experts(app bigint)
RETURNS TABLE (expert_id bigint, hospital text, outside integer,
               held integer, preference integer)
LANGUAGE sql STABLE AS $$
    SELECT e.expert_id, e.hospital, e.outside, e.held, e.preference
    FROM eligible_experts_set(ARRAY[app]) e
$$;

-- The stage to push application app at: the one its caller gives
-- (stages[i] for apps[i], the first when app is there twice: push_set's
-- and draw_experts' stages), else its push_stage.  One expression,
-- inlined where it is used.
CREATE OR REPLACE FUNCTION push_stage_of(apps bigint[], stages smallint[],
                                         app bigint, push_stage smallint)
RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(stages[array_position(apps, app)], push_stage)
$$;

-- The draw, for each application of apps at its stage (stages below): one
-- expert uniformly at random among the first eligible ones in (outside,
-- held, preference) order -- the region's own pool before the province's,
-- then by round, then another hospital -- with the size of the pool drawn
-- from, the round (held + 1), whether the expert is of another region,
-- and the draw recorded (15_draw.sql: the pool's sorted ids and the seed,
-- so `mtcertctl draw verify` recomputes the choice).  One query for the
-- whole set (push_set's batch), its draws in one INSERT of record_draw's
-- row: one rule, one recorded draw per application.
-- No row for an application nobody is eligible for (nothing recorded).
-- Each row carries its application's stage, region and disease, as
-- read for the draw, so push_set joins no applications again (a join
-- planned as a hash of every application: 30,000 rows read a batch in a
-- burst, issue 13, eighth round); that return type is new, so the old
-- one is dropped first (and again for stages).
-- stages: the stage to draw for each application of apps, where it is
-- not its push_stage (push_set's caller gave it: repush_batch, whose
-- expired stages are never written to push_stage); NULL: push_stage.
DROP FUNCTION IF EXISTS draw_experts(bigint[]);
CREATE OR REPLACE FUNCTION draw_experts(apps bigint[],
                                        stages smallint[] DEFAULT NULL)
RETURNS TABLE (application bigint, expert_id bigint, hospital text,
               pool integer, round integer, outside boolean, draw_id bigint,
               push_stage smallint, region text, disease text)
LANGUAGE sql VOLATILE AS $$
    WITH w AS MATERIALIZED (SELECT x.id, x.region, x.disease,
                                   push_stage_of(apps, stages, x.id,
                                                 x.push_stage) AS push_stage
                            FROM applications x WHERE x.id = ANY(apps)),
    -- k: (outside, held, preference) as one number in the same order
    -- (what eligible_experts_set's header says they stay within).
    e AS MATERIALIZED (SELECT e.application AS app, e.expert_id,
                              e.outside, e.held,
                              (e.outside::bigint << 32)
                              | (e.held::bigint << 1) | e.preference AS k
                       FROM eligible_experts_set(apps) e),
    -- The first group of each: the group of its least k, one aggregate by
    -- (app, k), not a rank() over the batch's rows and two sorts of each
    -- pool (issue 13, eleventh round: tests/bench/dispatcher.sh).  The
    -- pool is recorded sorted (draw_pool); the chosen expert's hospital
    -- is read by its key below (eligible_experts_set's hospital is that
    -- column, in this statement's snapshot).
    p AS (SELECT DISTINCT ON (q.app) q.app, q.ids, q.outside AS o,
                 q.held AS h
          FROM (SELECT e.app, e.k, e.outside, e.held,
                       array_agg(e.expert_id) AS ids
                FROM e GROUP BY e.app, e.k, e.outside, e.held) q
          ORDER BY q.app, q.k),
    -- Each pool as the rule takes it, with its seed.
    s AS MATERIALIZED (SELECT p.*, w.region, w.push_stage, w.disease,
                              draw_pool(p.ids) AS pool, draw_seed() AS seed
                       FROM p JOIN w ON w.id = p.app),
    -- The batch's draws recorded in one INSERT, record_draw's row each
    -- (15_draw.sql; one call a row was a sixth of a re-push, issue 13).
    d AS (INSERT INTO draws (purpose, region, application_id, stage, rule,
                             seed, pool, k, chosen)
          SELECT 'push', s.region, s.app, s.push_stage, draw_rule(), s.seed,
                 s.pool, 1, draw_chosen(s.seed, s.pool, 1)
          FROM s ORDER BY s.app
          RETURNING id, application_id, chosen)
    SELECT s.app, d.chosen[1],
           (SELECT u.institution FROM users u WHERE u.id = d.chosen[1]),
           cardinality(s.ids), s.h + 1, s.o = 1, d.id, s.push_stage,
           s.region, s.disease
    FROM s JOIN d ON d.application_id = s.app
$$;

-- The draw for application app alone (draw_experts).  NULL when nobody
-- is eligible.
CREATE OR REPLACE FUNCTION draw_expert(app bigint, OUT expert_id bigint,
    OUT hospital text, OUT pool integer, OUT round integer,
    OUT outside boolean, OUT draw_id bigint)
LANGUAGE sql VOLATILE AS $$
    SELECT d.expert_id, d.hospital, d.pool, d.round, d.outside, d.draw_id
    FROM draw_experts(ARRAY[app]) d
$$;

-- An application waiting for an expert (a the row, unassigned_since
-- set): once it has waited the region's unassigned_notice_hours, the
-- applicant is told by SMS, once per application (the dispatcher retries
-- waiting applications on its tick, so this runs without a timer of its
-- own).  The agency's queue marks it stuck from then on.
CREATE OR REPLACE FUNCTION tell_waiting(a applications) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF a.unassigned_notice_at IS NOT NULL OR a.unassigned_since >
       now() - make_interval(hours => policy_value(a.region,
                                     'unassigned_notice_hours')::int) THEN
        RETURN;
    END IF;
    UPDATE applications SET unassigned_notice_at = now() WHERE id = a.id;
    INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
    SELECT plain_until_sealed(a.phone, a.phone_enc), a.phone_enc, 'application_waiting', format(
        '【门诊慢特病】您的“%s”认定申请（编号%s）暂无可分配的认定专家，医保经办机构正在安排，请耐心等待，也可登录查看进度。',
        d.name, a.id)
    FROM diseases d WHERE d.code = a.disease;
    INSERT INTO events (application_id, type, actor_role, data)
    VALUES (a.id, 'waiting_notice', 'system',
            jsonb_build_object('stage', a.push_stage));
END $$;

-- Push the applications of apps that need an expert (push_stage, or the
-- stage the caller gives: stages below), as a set (issue 13: one re-push
-- at a time was 357/s, PostgreSQL on CPU in 55 of 58 samples): one
-- statement draws for all of them -- the same rule as ever, the batch's
-- draws recorded in one INSERT, so `mtcertctl draw verify --all`
-- recomputes each -- and inserts their assignments (pushed, deadline =
-- now + the region's accept_window_seconds), the experts' SMS and the
-- events with the pool size; one UPDATE moves the applications on and one
-- patches their stored views.  The partial unique index
-- assignments_one_live makes a second live assignment for the same stage
-- impossible, whoever calls.  Applications another transaction holds are
-- skipped (SKIP LOCKED: their push_stage stays set, the next turn takes
-- them; never one given a stage, whose caller holds it); the rare ones go
-- one by one: an objection's panel (objection_push_panel, every seat in
-- one draw) and those nobody can take (unassigned, tell_waiting).
-- One row per application it did something for: pushed is
-- {"assignment","expert","region","deadline_ms","stage"} (a panel's:
-- its first seat), or {"unassigned": true}.  push_assignment and
-- push_batch below are its two callers, so there is one definition.
-- stages (repush_batch, through push_batch): for apps[i], the stage to
-- push instead of its push_stage -- the stage that expired in this
-- transaction, which expire_set no longer writes to push_stage (two
-- UPDATEs of one application in a transaction: the second one checked
-- every foreign key of the row again, its first version being this
-- transaction's; six lookups an application, issue 13, ninth round);
-- the first of an application's stages when it appears twice.  Only a
-- caller that holds apps locked gives stages: a row skipped here would
-- keep no push_stage.  What is left to push later (nobody eligible) is
-- written to push_stage below.  NULL: every push_stage as it is.
DROP FUNCTION IF EXISTS push_set(bigint[]);
CREATE OR REPLACE FUNCTION push_set(apps bigint[],
                                    stages smallint[] DEFAULT NULL)
RETURNS TABLE (application bigint, pushed jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    locked bigint[];
    plain bigint[];
    made bigint[];
    made_apps bigint[];
    a applications%ROWTYPE;
    r jsonb;
    st smallint;
BEGIN
    SELECT coalesce(array_agg(s.id), '{}') INTO locked FROM (
        SELECT x.id FROM applications x WHERE x.id = ANY(apps)
          AND push_stage_of(apps, stages, x.id, x.push_stage) IS NOT NULL
        ORDER BY x.id
        FOR UPDATE SKIP LOCKED) s;
    SELECT coalesce(array_agg(x.id), '{}') INTO plain FROM applications x
    WHERE x.id = ANY(locked) AND x.status IN ('submitted', 'in_review')
      AND NOT EXISTS (SELECT 1 FROM assignments y
                      WHERE y.application_id = x.id
                        AND y.stage = push_stage_of(apps, stages, x.id,
                                                    x.push_stage)
                        AND y.state IN ('pushed', 'accepted'));
    -- Withdrawn or decided meanwhile: nothing to push, ever.
    UPDATE applications x SET push_stage = NULL, unassigned_since = NULL
    WHERE x.id = ANY(locked) AND x.status NOT IN ('submitted', 'in_review');
    -- The stage has its live assignment: an objection's next empty seat,
    -- else nothing (80_objection.sql).
    UPDATE applications x SET push_stage = objection_next_seat(x.id)
    WHERE x.id = ANY(locked) AND x.status IN ('submitted', 'in_review')
      AND x.id <> ALL(plain);
    -- An objection's panel: its one draw for every seat (80_objection.sql).
    FOR a IN SELECT x.* FROM applications x JOIN objections o
             ON o.application_id = x.id AND o.state = 'open'
             AND o.draw_id IS NULL WHERE x.id = ANY(plain) ORDER BY x.id LOOP
        r := objection_push_panel(a);
        IF r IS NOT NULL THEN
            plain := array_remove(plain, a.id);
            application := a.id;
            pushed := r;
            RETURN NEXT;
        END IF;
    END LOOP;
    -- The draw of each (draw_experts, with its application's stage,
    -- region and disease), its assignment, SMS and event.
    WITH d AS MATERIALIZED (SELECT dx.* FROM draw_experts(plain, ARRAY(
            SELECT push_stage_of(apps, stages, p.id, NULL)
            FROM unnest(plain) WITH ORDINALITY p(id, o) ORDER BY p.o)) dx),
    x AS (INSERT INTO assignments (application_id, stage, expert_id,
                                   hospital, pool_size, draw_id,
                                   accept_deadline)
          SELECT d.application, d.push_stage, d.expert_id, d.hospital,
                 d.pool, d.draw_id,
                 now() + make_interval(secs => policy_value(d.region,
                     'accept_window_seconds')::int)
          FROM d ORDER BY d.application
          RETURNING *),
    s AS (INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
          SELECT plain_until_sealed(ex.phone, ex.phone_enc), ex.phone_enc, 'task_pushed', format(
              '【门诊慢特病】您有一件“%s”认定任务（任务号%s），请在%s前登录系统受理。',
              dz.name, x.id, to_char(x.accept_deadline AT TIME ZONE
              'Asia/Shanghai', 'MM月DD日HH24:MI'))
          FROM x JOIN d ON d.application = x.application_id
          JOIN diseases dz ON dz.code = d.disease
          JOIN experts ex ON ex.user_id = x.expert_id
          WHERE coalesce(ex.phone_enc, ex.phone) IS NOT NULL ORDER BY x.id),
    v AS (INSERT INTO events (application_id, type, actor_role, data)
          SELECT x.application_id, 'pushed', 'system', jsonb_build_object(
              'stage', x.stage, 'assignment', x.id, 'pool_size', x.pool_size,
              'round', d.round, 'province', d.outside, 'draw', d.draw_id)
          FROM x JOIN d ON d.application = x.application_id ORDER BY x.id)
    SELECT coalesce(array_agg(x.id), '{}'),
           coalesce(array_agg(x.application_id), '{}')
    INTO made, made_apps FROM x;
    -- The applications by the primary key, from made_apps (a join with
    -- assignments, planned while the tables were small, hashed every
    -- application each batch: issue 13, eighth round).
    UPDATE applications x SET status = 'in_review',
        stage = least(push_stage_of(apps, stages, x.id, x.push_stage),
                      objection_first_stage()),
        -- An objection's next empty seat, else none (80_objection.sql).
        push_stage = objection_next_seat(x.id), unassigned_since = NULL,
        updated_at = now()
    WHERE x.id = ANY(made_apps);
    -- Nobody eligible: the application waits, visibly.
    FOR a IN SELECT x.* FROM applications x WHERE x.id = ANY(plain)
             AND x.id <> ALL(made_apps) ORDER BY x.id LOOP
        -- A stage given by the caller waits in push_stage from here.
        st := push_stage_of(apps, stages, a.id, a.push_stage);
        IF a.push_stage IS DISTINCT FROM st THEN
            UPDATE applications SET push_stage = st WHERE id = a.id;
            a.push_stage := st;
        END IF;
        IF a.unassigned_since IS NULL THEN
            UPDATE applications SET unassigned_since = now() WHERE id = a.id;
            INSERT INTO events (application_id, type, actor_role, data)
            VALUES (a.id, 'unassigned', 'system',
                    jsonb_build_object('stage', a.push_stage));
        ELSE
            PERFORM tell_waiting(a);
        END IF;
        application := a.id;
        pushed := jsonb_build_object('unassigned', true);
        RETURN NEXT;
    END LOOP;
    -- The views' status, dates and timeline set, not each view built
    -- again (sql/fn/20_applications.sql: patch_application_views).
    PERFORM patch_application_views(plain);
    RETURN QUERY
    SELECT y.application_id, jsonb_build_object('assignment', y.id,
        'expert', y.expert_id, 'region', (SELECT x.region FROM applications x
                                          WHERE x.id = y.application_id),
        'stage', y.stage,
        'deadline_ms', (extract(epoch FROM y.accept_deadline) * 1000)::bigint)
    FROM assignments y WHERE y.id = ANY(made);
END $$;

-- Push application app to a drawn expert, if it needs one (push_stage):
-- push_set of it alone.  Returns what push_set says of it, or NULL when
-- there was nothing to do.
CREATE OR REPLACE FUNCTION push_assignment(app bigint) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT p.pushed FROM push_set(ARRAY[app]) p
$$;

-- A refusal or an expiry (R-CER-3, R-CER-4): n more consecutive misses
-- (a batch of expiries counts each expert's once, expire_set: one row
-- version per expert and batch, not one per miss); at the region's
-- miss_limit the expert leaves the pool and the hospital is told, and
-- misses past it are not counted (as one at a time would stop at it).
-- Returns true when the expert was disqualified now.
DROP FUNCTION IF EXISTS count_miss(bigint, text);
CREATE OR REPLACE FUNCTION count_miss(expert bigint, region text,
    n integer DEFAULT 1) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    misses integer;
    inst text;
    cphone text;                -- plain while not sealed (044)
    cphone_enc text;
    lim integer := policy_value(region, 'miss_limit')::int;
BEGIN
    UPDATE experts SET consecutive_misses = least(consecutive_misses + n,
        greatest(consecutive_misses + 1, lim))
    WHERE user_id = expert AND status = 'active'
    RETURNING consecutive_misses INTO misses;
    IF misses IS NULL OR misses < lim THEN
        RETURN false;
    END IF;
    UPDATE experts SET status = 'disqualified', status_changed_at = now()
    WHERE user_id = expert;
    SELECT u.institution,
        plain_until_sealed(i.contact_phone, i.contact_phone_enc),
        i.contact_phone_enc INTO inst, cphone, cphone_enc FROM users u
    JOIN institutions i ON i.code = u.institution WHERE u.id = expert;
    INSERT INTO notifications (institution, kind, body)
    VALUES (inst, 'expert_disqualified', format(
        '贵院认定专家（编号%s）连续%s次未受理或拒绝受理认定任务，已取消其认定专家资格。',
        expert, lim));
    IF coalesce(cphone, cphone_enc) IS NOT NULL THEN
        INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
        VALUES (cphone, cphone_enc, 'expert_disqualified', format(
            '【门诊慢特病】贵院认定专家（编号%s）连续%s次未受理或拒绝受理，已取消其认定专家资格。',
            expert, lim));
    END IF;
    RETURN true;
END $$;

-- Each expert of the assignments asgs with how many of them are theirs
-- and the region of one (the least), for count_misses and
-- misses_reach_limit: the assignments and each one's application read
-- by their primary keys (a join planned while the tables were small
-- hashed every application, issue 13, eighth round).
CREATE OR REPLACE FUNCTION miss_counts(asgs bigint[])
RETURNS TABLE (expert_id bigint, region text, n integer)
LANGUAGE sql STABLE AS $$
    SELECT x.expert_id, min((SELECT a.region FROM applications a
                             WHERE a.id = x.application_id)),
           count(*)::int
    FROM assignments x WHERE x.id = ANY(asgs) GROUP BY x.expert_id
$$;

-- The misses of the expired assignments asgs counted (count_miss), each
-- expert's once, in expert id order (two batches sharing experts take
-- their rows in one order: no deadlock between them).  The UPDATE locks
-- each expert's row FOR NO KEY UPDATE to the commit: never FOR UPDATE,
-- which would also hold up every new assignment of those experts
-- elsewhere (its reference to experts takes FOR KEY SHARE,
-- test_dispatcher.py: ..._holds_up_no_push_to_that_expert).
-- repush_batch calls it last, just before its commit (issue 13: counted
-- first, two dispatchers queued on each other's experts for the whole
-- batch, 322 ms a batch), unless the batch disqualifies somebody
-- (misses_reach_limit): then first, so none of its draws takes them.
CREATE OR REPLACE FUNCTION count_misses(asgs bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count_miss(m.expert_id, m.region, m.n)
    FROM miss_counts(asgs) m ORDER BY m.expert_id;
END $$;

-- Whether counting the misses of the expired assignments asgs
-- (count_misses) would take some expert to the region's miss_limit, as
-- their rows read now (no lock).  A concurrent miss of the same expert
-- can still take them there at the count: the same race as a refusal
-- beside a push, one at a time.
CREATE OR REPLACE FUNCTION misses_reach_limit(asgs bigint[]) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(bool_or(e.consecutive_misses + m.n >=
                            policy_value(m.region, 'miss_limit')::int), false)
    FROM miss_counts(asgs) m
    JOIN experts e ON e.user_id = m.expert_id AND e.status = 'active'
$$;

-- Expire, of the assignments ids, those still pushed and past their
-- deadline (idempotent: anything else is left alone), as a set: their
-- rows locked in expert order, skipping those another transaction holds
-- (another dispatcher's batch, the sweep: they answer 'early' and come
-- back), then their applications locked in id order; one INSERT writes
-- the events.  The misses are the caller's to count (count_misses), and
-- the next push of each stage the caller's to ask for, in the same
-- transaction.
-- One row per id: state 'expired' (with its application, region and
-- stage), 'early' (still pushed, with its deadline_ms) or 'settled'
-- (anything else, or no such assignment).  expire_assignment and
-- repush_batch below are its two callers.
CREATE OR REPLACE FUNCTION expire_set(ids bigint[])
RETURNS TABLE (id bigint, state text, application bigint, region text,
               stage smallint, deadline_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
    locked bigint[];
    done bigint[];
    apps bigint[];
    stages smallint[];
BEGIN
    -- "x.state || ''": the partial index (accept_deadline, id) WHERE
    -- state = 'pushed' (046) does not match it, so the primary key is the
    -- only way in.  With "x.state = 'pushed'" a plan made while the table
    -- was small took that index: a bitmap of every pushed row, the
    -- batch's ids a filter, 30,000 rows read to lock a batch of 250 in a
    -- burst of 30,000 (issue 13, eighth round, auto_explain).  A row
    -- changed meanwhile is checked again as locked, as before.
    SELECT coalesce(array_agg(l.id), '{}') INTO locked FROM (
        SELECT x.id FROM assignments x WHERE x.id = ANY(ids)
          AND x.state || '' = 'pushed' ORDER BY x.expert_id, x.id
        FOR UPDATE OF x SKIP LOCKED) l;
    -- No state test here: the rows of locked are pushed and ours to the
    -- commit (with "state = 'pushed'" the partial index above was taken,
    -- 450 ms a batch in a burst of 40,000, issue 13, fifth round).  The
    -- expired rows' applications and stages are kept as arrays, so each
    -- statement below reads one table by its primary key: a join of
    -- assignments and applications planned while they were small hashed
    -- every application, each statement of each batch (issue 13, eighth
    -- round: 30,000 rows read a statement in a burst of 30,000).
    WITH x AS (UPDATE assignments x SET state = 'expired', ended_at = now()
               WHERE x.id = ANY(locked) AND x.accept_deadline <= now()
               RETURNING x.id, x.application_id, x.stage)
    SELECT coalesce(array_agg(x.id ORDER BY x.id), '{}'),
           coalesce(array_agg(x.application_id ORDER BY x.id), '{}'),
           coalesce(array_agg(x.stage ORDER BY x.id), '{}')
    INTO done, apps, stages FROM x;
    PERFORM 1 FROM applications a WHERE a.id = ANY(apps)
    ORDER BY a.id FOR UPDATE OF a;
    -- The stages are not written to push_stage here: each caller has
    -- them pushed (repush_batch in this transaction, through push_set's
    -- stages; expire_assignment writes push_stage for a later push).
    INSERT INTO events (application_id, type, actor_role, data)
    SELECT u.app, 'expired', 'system',
           jsonb_build_object('stage', u.stage, 'assignment', u.id)
    FROM unnest(done, apps, stages) u(id, app, stage) ORDER BY u.id;
    RETURN QUERY
    WITH x AS MATERIALIZED (
        SELECT x.id, x.state, x.application_id, x.stage, x.accept_deadline,
               (SELECT a.region FROM applications a
                WHERE a.id = x.application_id) AS region
        FROM assignments x WHERE x.id = ANY(ids))
    SELECT u.i, CASE WHEN u.i = ANY(done) THEN 'expired'
                     WHEN x.state = 'pushed' THEN 'early'
                     ELSE 'settled' END,
           x.application_id, x.region, x.stage,
           CASE WHEN x.state = 'pushed' THEN
               (extract(epoch FROM x.accept_deadline) * 1000)::bigint END
    FROM unnest(ids) u(i) LEFT JOIN x ON x.id = u.i;
END $$;

-- Expire assignment asg if it is still pushed and past its deadline:
-- expire_set of it alone, its miss counted (count_misses), its stage
-- written to push_stage for the dispatcher's next push.  Returns
-- {"expired":true,"application","region","stage"} or
-- {"expired":false,"deadline_ms":..} when not yet due, or NULL when
-- already settled.
CREATE OR REPLACE FUNCTION expire_assignment(asg bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
BEGIN
    SELECT CASE s.state
        WHEN 'expired' THEN jsonb_build_object('expired', true,
            'application', s.application, 'region', s.region,
            'stage', s.stage)
        WHEN 'early' THEN jsonb_build_object('expired', false,
            'deadline_ms', s.deadline_ms) END
    INTO r FROM expire_set(ARRAY[asg]) s;
    IF r ? 'application' THEN
        -- Its next push, by the dispatcher's next turn.
        UPDATE applications SET push_stage = (r->>'stage')::smallint
        WHERE id = (r->>'application')::bigint;
        PERFORM count_misses(ARRAY[asg]);
    END IF;
    RETURN r;
END $$;

-- Why a task operation found nothing to change, as the refusal the API
-- answers (a row of shared/mt_error.c): task_not_found (not this
-- expert's), task_already_accepted, task_already_decided,
-- task_not_accepted (still pushed: a decision before accepting), or
-- task_unavailable (refused, expired, cancelled or past its deadline).
-- It replaced task_error, which returned internal tokens for C to map.
DROP FUNCTION IF EXISTS task_error(bigint, bigint);
CREATE OR REPLACE FUNCTION task_refusal(asg bigint, expert bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT CASE
        WHEN x.state = 'accepted'
            THEN jsonb_build_object('error', 'task_already_accepted')
        WHEN x.state = 'decided'
            THEN jsonb_build_object('error', 'task_already_decided')
        WHEN x.state = 'pushed' AND x.accept_deadline > now()
            THEN jsonb_build_object('error', 'task_not_accepted')
        ELSE jsonb_build_object('error', 'task_unavailable') END
        FROM assignments x WHERE x.id = asg AND x.expert_id = expert),
        jsonb_build_object('error', 'task_not_found', 'field', 'aid'))
$$;

-- The expert accepts (R-CER-3): only while pushed, theirs and before the
-- deadline; the conditional update decides the race with expiry.
CREATE OR REPLACE FUNCTION accept_assignment(asg bigint, expert bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x assignments%ROWTYPE;
    r text;
BEGIN
    UPDATE assignments SET state = 'accepted', accepted_at = now()
    WHERE id = asg AND expert_id = expert AND state = 'pushed'
      AND accept_deadline > now()
    RETURNING * INTO x;
    IF NOT FOUND THEN
        RETURN task_refusal(asg, expert);
    END IF;
    UPDATE experts SET consecutive_misses = 0 WHERE user_id = expert;
    SELECT region INTO r FROM applications WHERE id = x.application_id;
    INSERT INTO events (application_id, type, actor_user, actor_role, data)
    VALUES (x.application_id, 'accepted', expert, 'expert',
            jsonb_build_object('stage', x.stage, 'assignment', x.id));
    RETURN jsonb_build_object('assignment', x.id, 'application',
        x.application_id, 'stage', x.stage, 'region', r);
END $$;

-- The expert refuses (R-CER-3): counted as a miss; the stage needs
-- another expert.
CREATE OR REPLACE FUNCTION refuse_assignment(asg bigint, expert bigint, why text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x assignments%ROWTYPE;
    r text;
    gone boolean;
BEGIN
    UPDATE assignments SET state = 'refused', ended_at = now(),
        refuse_reason = why
    WHERE id = asg AND expert_id = expert AND state = 'pushed'
      AND accept_deadline > now()
    RETURNING * INTO x;
    IF NOT FOUND THEN
        RETURN task_refusal(asg, expert);
    END IF;
    SELECT region INTO r FROM applications WHERE id = x.application_id;
    gone := count_miss(expert, r);
    UPDATE applications SET push_stage = x.stage WHERE id = x.application_id;
    INSERT INTO events (application_id, type, actor_user, actor_role, data)
    VALUES (x.application_id, 'refused', expert, 'expert',
            jsonb_build_object('stage', x.stage, 'assignment', x.id));
    RETURN jsonb_build_object('assignment', x.id, 'application',
        x.application_id, 'region', r, 'disqualified', gone);
END $$;

-- The first day of benefits for an approval decided on day d (R-BEN-1,
-- R-CER-10): the decision day, or the 1st of next month where the
-- region's policy says so (quota diseases have their own policy).
CREATE OR REPLACE FUNCTION benefit_start(app bigint, d date) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE
    a applications%ROWTYPE;
    q boolean;
    rule text;
BEGIN
    SELECT * INTO a FROM applications WHERE id = app;
    SELECT quota INTO q FROM diseases WHERE code = a.disease;
    rule := policy_value(a.region, CASE WHEN q THEN 'quota_benefit_start'
                                   ELSE 'benefit_start' END);
    IF rule = 'next_month' THEN
        RETURN (date_trunc('month', d) + interval '1 month')::date;
    END IF;
    RETURN d;
END $$;

-- The final outcome (R-CER-5, R-CER-7, R-CER-11): approved with a
-- qualification, or rejected with the reason; the SMS either way.
CREATE OR REPLACE FUNCTION conclude_application(app bigint, approve boolean,
    p_code text, p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a applications%ROWTYPE;
    dis diseases%ROWTYPE;
    vfrom date;
BEGIN
    SELECT * INTO a FROM applications WHERE id = app;
    SELECT * INTO dis FROM diseases WHERE code = a.disease;
    IF approve THEN
        vfrom := benefit_start(app, cn_today());
        UPDATE applications SET status = 'approved', decided_at = now(),
            push_stage = NULL, updated_at = now() WHERE id = app;
        INSERT INTO qualifications (person_id, disease, region, application_id,
            designated_institution, valid_from, valid_to)
        VALUES (a.person_id, a.disease, a.region, app,
            a.designated_institution, vfrom,
            (vfrom + make_interval(months =>
                disease_validity_months(a.region, a.disease)))::date - 1)
        -- Already holding one (granted meanwhile another way): kept.
        ON CONFLICT (person_id, disease) WHERE status = 'active' DO NOTHING;
        INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
        VALUES (plain_until_sealed(a.phone, a.phone_enc), a.phone_enc, 'application_approved', format(
            '【门诊慢特病】您的“%s”认定申请（编号%s）已通过，自%s起享受门诊慢特病待遇。',
            dis.name, app, vfrom));
        INSERT INTO events (application_id, type, actor_role, data)
        VALUES (app, 'approved', 'system',
                jsonb_build_object('valid_from', vfrom));
    ELSE
        UPDATE applications SET status = 'rejected', decided_at = now(),
            push_stage = NULL, decision_reason_code = p_code,
            decision_reason = p_reason, updated_at = now() WHERE id = app;
        INSERT INTO sms_outbox (to_phone, to_phone_enc, template, body)
        VALUES (plain_until_sealed(a.phone, a.phone_enc), a.phone_enc, 'application_rejected', format(
            '【门诊慢特病】您的“%s”认定申请（编号%s）未通过：%s。如有异议，可在规定期限内申请复核。',
            dis.name, app, left(p_reason, 60)));
        INSERT INTO events (application_id, type, actor_role, data)
        VALUES (app, 'rejected', 'system', jsonb_build_object('reason', p_reason,
                'reason_code', p_code));
    END IF;
END $$;

-- The expert decides after accepting (R-CER-5).  single: final.  double:
-- stage 1 then a re-review at stage 2 by another expert; if they
-- disagree, a third expert decides at stage 3.
CREATE OR REPLACE FUNCTION decide_assignment(asg bigint, expert bigint, verdict text,
    note text, p_code text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    x assignments%ROWTYPE;
    a applications%ROWTYPE;
    first_verdict text;
    final boolean;
BEGIN
    UPDATE assignments SET state = 'decided', ended_at = now(),
        decision = verdict, opinion = note, reason_code = p_code
    WHERE id = asg AND expert_id = expert AND state = 'accepted'
    RETURNING * INTO x;
    IF NOT FOUND THEN
        RETURN task_refusal(asg, expert);
    END IF;
    SELECT * INTO a FROM applications WHERE id = x.application_id FOR UPDATE;
    IF x.stage >= objection_first_stage() THEN
        -- An objection panel's seat: the majority (80_objection.sql).
        RETURN objection_seat_decided(x, a);
    END IF;
    IF a.review_mode = 'single' OR x.stage >= 3 THEN
        final := true;
    ELSIF x.stage = 1 THEN
        final := false;
    ELSE
        SELECT decision INTO first_verdict FROM assignments
        WHERE application_id = a.id AND stage = 1 AND state = 'decided';
        final := first_verdict = verdict;
    END IF;
    IF final THEN
        PERFORM conclude_application(a.id, verdict = 'approve', p_code,
            coalesce(nullif(note, ''), '不符合认定标准'));
    ELSE
        UPDATE applications SET push_stage = x.stage + 1, updated_at = now()
        WHERE id = a.id;
        INSERT INTO events (application_id, type, actor_user, actor_role, data)
        VALUES (a.id, 'stage_done', expert, 'expert',
                jsonb_build_object('stage', x.stage));
    END IF;
    RETURN jsonb_build_object('assignment', x.id, 'application', a.id,
        'final', final, 'region', a.region);
END $$;

-- A submission asks for the first push (stage 1).
CREATE OR REPLACE FUNCTION mark_first_push() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Experts only: onsite and panel applications wait for their hospital
    -- (certifying_institution, sql/fn/70_hospital.sql and 72_panel.sql).
    IF NEW.status = 'submitted' AND OLD.status IS DISTINCT FROM 'submitted'
       AND NEW.review_mode IN ('single', 'double') THEN
        -- Resubmitted after a return (82_return.sql): the stage that
        -- returned it is pushed again.
        NEW.push_stage := CASE WHEN OLD.status = 'returned'
                               THEN greatest(OLD.stage, 1) ELSE 1 END;
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS applications_first_push ON applications;
-- Its WHEN: no call for the other changes of status (a push's
-- 'in_review', 250 rows a re-push batch).
CREATE TRIGGER applications_first_push BEFORE UPDATE OF status ON applications
    FOR EACH ROW WHEN (NEW.status = 'submitted'
                       AND OLD.status IS DISTINCT FROM 'submitted')
    EXECUTE FUNCTION mark_first_push();

-- The dispatcher's batch of due timers, in one call and one transaction
-- (issue 13: one round trip per batch): expire_set expires each claimed
-- assignment that is due (skipping those another dispatcher holds),
-- push_batch pushes their stages again (so each application's stored
-- view is patched once, by push_set, for the expiry and the push
-- together), and count_misses counts the misses last, so the experts'
-- rows are held only from there to the commit: a region's batches share
-- its few experts, and counted first two dispatchers took turns
-- (0.74x of one; the figures: tests/bench/dispatcher.sh).  A batch that
-- disqualifies somebody (misses_reach_limit) counts first instead: an
-- expert it disqualifies is drawn by none of its pushes.
-- One transaction: a batch rolled back leaves its assignments pushed and
-- due, and they come back as any claim that failed.
-- Returns {"settled": [ids: nothing left to do], "early": [{"id",
-- "deadline_ms"}: not due yet, or held by another], "pushed":
-- [push_batch's elements], "expired": how many it expired}.
DROP FUNCTION IF EXISTS expire_batch(bigint[]);
CREATE OR REPLACE FUNCTION repush_batch(ids bigint[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    settled jsonb;
    early jsonb;
    pushed jsonb;
    apps bigint[];
    stages smallint[];
    done bigint[];
    first boolean;
BEGIN
    -- In assignment id order: an application two of whose stages expired
    -- at once (an objection's panel) is pushed at the stage of the lower
    -- id (push_set; push_set then finds the panel's next empty seat).
    SELECT coalesce(jsonb_agg(s.id) FILTER (WHERE s.state <> 'early'), '[]'),
           coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'deadline_ms',
               s.deadline_ms)) FILTER (WHERE s.state = 'early'), '[]'),
           array_agg(s.application ORDER BY s.id)
               FILTER (WHERE s.state = 'expired'),
           array_agg(s.stage ORDER BY s.id) FILTER (WHERE s.state = 'expired'),
           array_agg(s.id ORDER BY s.id) FILTER (WHERE s.state = 'expired')
    INTO settled, early, apps, stages, done FROM expire_set(ids) s;
    IF apps IS NULL THEN
        RETURN jsonb_build_object('settled', settled, 'early', early,
                                  'pushed', '[]'::jsonb, 'expired', 0);
    END IF;
    first := misses_reach_limit(done);
    IF first THEN
        PERFORM count_misses(done);
    END IF;
    pushed := push_batch(apps, stages);
    IF NOT first THEN
        PERFORM count_misses(done);
    END IF;
    RETURN jsonb_build_object('settled', settled, 'early', early,
                              'pushed', pushed,
                              'expired', cardinality(done));
END $$;

-- push_batch(apps, stages): every assignment push_set made, one element each
-- ({"assignment","expert","region","deadline_ms","stage","application"}),
-- so the dispatcher arms each one's lease and timer -- EVERY seat of an
-- objection's panel too (push_set names only the first: the others are
-- the application's pushed assignments made by this transaction, whose
-- pushed_at is its now()).  stages: as push_set takes them (repush_batch's
-- expired stages; NULL: each push_stage).
DROP FUNCTION IF EXISTS push_batch(bigint[]);
CREATE OR REPLACE FUNCTION push_batch(apps bigint[],
                                      stages smallint[] DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    done bigint[];
BEGIN
    -- Two statements: one query does not see what a function it calls
    -- inserted.
    SELECT coalesce(array_agg(p.application), '{}') INTO done
    FROM push_set(apps, stages) p WHERE p.pushed ? 'assignment';
    -- "y.state || ''" and each region by the primary key, as in
    -- expire_set: no plan of stale counts takes the partial index of
    -- pushed rows or hashes every application (issue 13, eighth round).
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object(
        'assignment', y.id, 'expert', y.expert_id,
        'region', (SELECT a.region FROM applications a
                   WHERE a.id = y.application_id),
        'stage', y.stage, 'application', y.application_id,
        'deadline_ms', (extract(epoch FROM y.accept_deadline) * 1000)::bigint)
        ORDER BY y.id), '[]')
    FROM assignments y WHERE y.application_id = ANY(done)
      AND y.state || '' = 'pushed' AND y.pushed_at = now());
END $$;
