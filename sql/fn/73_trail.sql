-- 73_trail.sql -- the agency's trail of one application (R-SUP-7, S0
-- 四(二) 公开、公平、公正; issue 12 item 2): every recorded draw with its
-- seed and pool, every assignment's life, and every other event of the
-- application, merged in time order.  Read by agency_application_json
-- (74_confirm.sql, hence 73: LANGUAGE sql bodies are checked when
-- created, callees first).  How files in sql/fn/ are applied: see
-- 10_util.sql.

-- Who did a step: {role, id?, name?, institution?{code, name}}.  Staff
-- and experts by their display name (the agency may see who); an insured
-- person's name masked (王*明): the person heads the page already.
CREATE OR REPLACE FUNCTION trail_actor(p_role text, uid bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object('role', coalesce(p_role,
        u.role, 'system'), 'id', u.id,
        'name', CASE WHEN u.role = 'insured' THEN mask_name(p.name)
            ELSE coalesce(nullif(u.display_name, ''), u.login) END,
        'institution', (SELECT jsonb_build_object('code', i.code,
            'name', i.name) FROM institutions i
            WHERE i.code = u.institution)))
    FROM (SELECT 1) one
    LEFT JOIN users u ON u.id = uid
    LEFT JOIN persons p ON p.id = u.person_id
$$;

-- An expert as a draw lists it: {id, name, hospital{code, name}}.
CREATE OR REPLACE FUNCTION trail_expert(uid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', uid,
        'name', coalesce(nullif(u.display_name, ''), u.login),
        'hospital', (SELECT jsonb_build_object('code', i.code,
            'name', i.name) FROM institutions i
            WHERE i.code = u.institution))
    FROM (SELECT 1) one LEFT JOIN users u ON u.id = uid
$$;

-- The draws of application app as trail entries: what an auditor needs
-- to recompute each one by hand (docs/draws.md): rule, seed (hex), the
-- sorted pool with each expert, k and the chosen in draw order.
CREATE OR REPLACE FUNCTION trail_draws(app bigint)
RETURNS TABLE (at timestamptz, rank integer, id bigint, entry jsonb)
LANGUAGE sql STABLE AS $$
    SELECT d.at, 0, d.id, jsonb_build_object('at', d.at, 'kind', 'draw',
        'stage', d.stage, 'actor', jsonb_build_object('role', 'system'),
        'text', '从 ' || cardinality(d.pool) || ' 名候选专家中随机抽取 '
            || d.k || ' 名：' || (SELECT string_agg(
                (trail_expert(c)->>'name') || coalesce('（'
                || (trail_expert(c)->'hospital'->>'name') || '）', ''),
                '、' ORDER BY o) FROM unnest(d.chosen)
                WITH ORDINALITY AS t(c, o)),
        'data', jsonb_build_object('draw', d.id, 'purpose', d.purpose,
            'rule', d.rule, 'seed', encode(d.seed, 'hex'), 'k', d.k,
            'pool_size', cardinality(d.pool),
            'pool', (SELECT jsonb_agg(trail_expert(e) ORDER BY o)
                FROM unnest(d.pool) WITH ORDINALITY AS t(e, o)),
            'chosen', (SELECT jsonb_agg(trail_expert(c) ORDER BY o)
                FROM unnest(d.chosen) WITH ORDINALITY AS t(c, o))))
    FROM draws d WHERE d.application_id = app
$$;

-- The life of each assignment of app: pushed, accepted, and how it
-- ended (refused with the reason, expired = a miss, cancelled, decided
-- with the verdict and opinion), each at its own time.
CREATE OR REPLACE FUNCTION trail_assignments(app bigint)
RETURNS TABLE (at timestamptz, rank integer, id bigint, entry jsonb)
LANGUAGE sql STABLE AS $$
    SELECT s.at, 1, x.id, jsonb_build_object('at', s.at, 'kind', s.kind,
        'stage', x.stage, 'actor', trail_actor('expert', x.expert_id),
        'text', s.text, 'data', jsonb_strip_nulls(jsonb_build_object(
            'assignment', x.id, 'draw', x.draw_id,
            'pool_size', x.pool_size,
            'accept_deadline', CASE WHEN s.kind = 'pushed'
                THEN x.accept_deadline END,
            'reason', CASE WHEN s.kind = 'refused' THEN x.refuse_reason END,
            'decision', CASE WHEN s.kind = 'decided' THEN x.decision END,
            'opinion', CASE WHEN s.kind = 'decided' THEN x.opinion END)))
    FROM assignments x
    CROSS JOIN LATERAL (VALUES
        (x.pushed_at, 'pushed', '推送给专家，受理时限至 '
            || to_char(x.accept_deadline AT TIME ZONE 'Asia/Shanghai',
                       'YYYY-MM-DD HH24:MI')),
        (x.accepted_at, 'accepted', '专家已受理'),
        (x.ended_at, x.state, CASE x.state
            WHEN 'refused' THEN '专家拒绝受理：'
                || coalesce(x.refuse_reason, '未说明原因')
            WHEN 'expired' THEN '专家超时未受理（计为一次未受理）'
            WHEN 'cancelled' THEN '任务已取消'
            WHEN 'decided' THEN '专家意见：' || CASE x.decision
                WHEN 'approve' THEN '予以认定' ELSE '不予认定' END
                || coalesce('。' || nullif(x.opinion, ''), '')
            ELSE '' END)) AS s(at, kind, text)
    WHERE x.application_id = app AND s.at IS NOT NULL
      AND s.kind IN ('pushed', 'accepted', 'refused', 'expired',
                     'cancelled', 'decided')
$$;

-- The trail of application app: its draws, its assignments' lives and
-- its other events (the steps of the applicant, the hospital, the
-- agency; the events an assignment's row already tells are left out),
-- one list of {at, kind, stage?, actor, text, data} in time order (a
-- draw before the push it made, a push before the events of its
-- transaction).
CREATE OR REPLACE FUNCTION application_trail(app bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(t.entry ORDER BY t.at, t.rank, t.id), '[]')
    FROM (SELECT * FROM trail_draws(app)
          UNION ALL SELECT * FROM trail_assignments(app)
          UNION ALL
          SELECT e.at, 2, e.id, jsonb_build_object('at', e.at,
              'kind', e.type, 'stage', (e.data->>'stage')::int,
              'actor', trail_actor(e.actor_role, e.actor_user),
              'text', event_text(e.type, e.data), 'data', e.data)
          FROM events e WHERE e.application_id = app
            AND e.type NOT IN ('pushed', 'accepted', 'refused',
                               'expired')) t
$$;
