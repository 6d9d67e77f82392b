/*
 * review.c -- module `review`: the certification expert's tasks
 * (R-CER-2 ... R-CER-5).
 *
 *   GET  /expert/tasks?state=pushed|accepted|decided
 *   POST /expert/tasks/{aid}/accept
 *   POST /expert/tasks/{aid}/refuse     {reason}
 *   POST /expert/tasks/{aid}/decision   {decision, opinion, reason_code?}
 *
 * The engine is sql/fn/30_review.sql: PostgreSQL's conditional updates
 * decide every race (an accept at the deadline against the dispatcher's
 * expiry: exactly one wins).  Redis follows after the commit: the timer
 * member goes, the lease changes, and the dispatcher is woken to push the
 * next expert or stage.  The applicant is shown blind: sex, age band and
 * region, never name, ID number or phone; a second-stage expert never
 * sees the first opinion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"
#include "mt_redis.h"
#include "mt_util.h"
#include "mt_valid.h"

enum stmt {
	STMT_TASKS,
	STMT_ACCEPT,
	STMT_REFUSE,
	STMT_DECIDE,
	STMT_REASON,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_TASKS] =
	    "SELECT json_build_object('id', x.id,"
	    " 'application_id', x.application_id,"
	    " 'state', CASE WHEN x.state = 'pushed' THEN 'pushed'"
	    "  WHEN x.state = 'accepted' THEN 'accepted' ELSE 'decided' END,"
	    " 'stage', x.stage, 'review_mode', a.review_mode,"
	    " 'accept_deadline', x.accept_deadline,"
	    " 'disease', json_build_object('code', d.code, 'name', d.name,"
	    "  'specialty', d.specialty),"
	    " 'application', json_build_object('sex', p.sex,"
	    "  'age_band', (extract(year FROM age(p.birth_date))::int / 10 * 10)"
	    "   || '-' || (extract(year FROM age(p.birth_date))::int / 10 * 10 + 9),"
	    "  'region', a.region),"
	    " 'materials', (SELECT coalesce(json_agg(json_build_object("
	    "   'id', CASE WHEN x.state IN ('accepted', 'decided') THEN m.id END,"
	    "   'kind', m.kind, 'name', mk.name, 'issued_on', m.issued_on,"
	    "   'media_type', m.media_type) ORDER BY m.id), '[]')"
	    "  FROM materials m JOIN material_kinds mk ON mk.code = m.kind"
	    "  WHERE m.application_id = a.id AND m.deleted_at IS NULL),"
	    " 'decision', x.decision)::text"
	    " FROM assignments x JOIN applications a ON a.id = x.application_id"
	    " JOIN persons p ON p.id = a.person_id"
	    " JOIN diseases d ON d.code = a.disease"
	    " WHERE x.expert_id = $1"
	    " AND CASE coalesce($2, 'open')"
	    "  WHEN 'open' THEN (x.state = 'pushed' AND x.accept_deadline > now())"
	    "   OR x.state = 'accepted'"
	    "  WHEN 'pushed' THEN x.state = 'pushed' AND x.accept_deadline > now()"
	    "  WHEN 'accepted' THEN x.state = 'accepted'"
	    "  ELSE x.state = 'decided' END"
	    " ORDER BY x.id DESC LIMIT 200",
	[STMT_ACCEPT] = "SELECT accept_assignment($1, $2)::text",
	[STMT_REFUSE] = "SELECT refuse_assignment($1, $2, $3)::text",
	[STMT_DECIDE] = "SELECT decide_assignment($1, $2, $3, $4, $5)::text",
	/* The codes GET /rejection-reasons serves (sql/ref). */
	[STMT_REASON] =
	    "SELECT 1 FROM rejection_reasons WHERE code = $1 AND active",
};

static const char *
member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	    json_object_get_string(v) : "";
}

/* Redis after a commit is best effort (the dispatcher rebuilds it from
 * PostgreSQL): a failure here never fails the request. */
static void
redis_done(redisReply *r)
{
	if (r != NULL)
		freeReplyObject(r);
}

/*
 * Run one engine function for the caller's task; on an engine refusal
 * (sql/fn/30_review.sql task_refusal: a row of the error table) answer
 * it (404/409) and return NULL.  The result is the parsed JSON (the
 * caller puts it).
 */
static json_object *
engine_or_reply(struct mt_req *req, int stmt, int n, const char *const *p)
{
	json_object *r;
	PGresult *res;

	res = mt_db_query_or_reply(req, stmt, n, p);
	if (res == NULL)
		return NULL;
	r = json_tokener_parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (*member(r, "error") == '\0')
		return r;
	mt_reply_refusal(req, r);
	json_object_put(r);
	return NULL;
}

/*
 * GET /expert/tasks?state=: the caller's tasks, newest first, at most
 * 200, blind (R-CER-2).  200; 400 unknown state; 401/403 not an expert
 * (host); 503 database down.
 */
static int
h_tasks(struct mt_req *req)
{
	const char *p[2];
	char me[24];
	PGresult *res;

	snprintf(me, sizeof(me), "%lld", req->session->user_id);
	p[0] = me;
	p[1] = mt_req_param(req, "state");
	res = mt_db_query_or_reply(req, STMT_TASKS, 2, p);
	if (res == NULL)
		return -1;
	return mt_reply_items(req, res, 200);
}

/*
 * POST /expert/tasks/{aid}/accept (R-CER-3).  200; 404 not the caller's
 * task (task_not_found); 409 already accepted, already decided, or
 * gone: refused, expired, cancelled or past its deadline
 * (task_unavailable); 401/403 not an expert (host); 503 database down.
 */
static int
h_accept(struct mt_req *req)
{
	const char *aid = mt_req_param(req, "aid"), *p[2];
	json_object *r;
	char me[24];

	snprintf(me, sizeof(me), "%lld", req->session->user_id);
	p[0] = aid;
	p[1] = me;
	if ((r = engine_or_reply(req, STMT_ACCEPT, 2, p)) == NULL)
		return -1;
	/* The timer goes; the lease is held now, without expiry. */
	redis_done(mt_redis_cmd("ZREM timers:{%s} %s", member(r, "region"),
	    aid));
	redis_done(mt_redis_cmd("SET lease:{%s}:%s:%s %s:%s",
	    member(r, "region"), member(r, "application"), member(r, "stage"),
	    aid, me));
	json_object_object_add(r, "state", json_object_new_string("accepted"));
	return mt_reply_json(req, 200, r);
}

/*
 * POST /expert/tasks/{aid}/refuse {reason} (R-CER-3): counted as a miss.
 * 200; 400 reason missing or invalid; 404 not the caller's task; 409
 * already accepted, already decided or gone; 401/403 not an expert
 * (host); 503 database down.
 */
static int
h_refuse(struct mt_req *req)
{
	const char *aid = mt_req_param(req, "aid"), *p[3];
	json_object *r;
	char me[24];

	snprintf(me, sizeof(me), "%lld", req->session->user_id);
	p[0] = aid;
	p[1] = me;
	p[2] = mt_req_param(req, "reason");
	if ((r = engine_or_reply(req, STMT_REFUSE, 3, p)) == NULL)
		return -1;
	redis_done(mt_redis_cmd("ZREM timers:{%s} %s", member(r, "region"),
	    aid));
	redis_done(mt_redis_cmd("LPUSH wake refuse"));
	json_object_object_add(r, "state", json_object_new_string("refused"));
	return mt_reply_json(req, 200, r);
}

/*
 * 0 when code is NULL or an active rejection reason (R-CER-11); else -1
 * after answering 422 reason_code_not_found, or 503 when the database is
 * down.  The foreign keys on the code columns are only the backstop.
 */
static int
reason_known_or_reply(struct mt_req *req, const char *code)
{
	PGresult *res;
	int found;

	if (code == NULL)
		return 0;
	res = mt_db_query_or_reply(req, STMT_REASON, 1, &code);
	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	PQclear(res);
	if (found)
		return 0;
	return mt_reply_err(req, MT_E_REASON_CODE_NOT_FOUND, "reason_code");
}

/*
 * POST /expert/tasks/{aid}/decision (R-CER-5).  200; 400 reject without
 * opinion, or a field that fails its check; 422 unknown reason_code; 404
 * not the caller's task; 409 not accepted, already decided or gone;
 * 401/403 not an expert (host); 503 database down.
 */
static int
h_decision(struct mt_req *req)
{
	const char *aid = mt_req_param(req, "aid"), *p[5];
	const char *verdict = mt_req_param(req, "decision");
	json_object *r;
	char me[24];

	if (strcmp(verdict, "reject") == 0 &&
	    (mt_req_param(req, "opinion") == NULL ||
	    *mt_req_param(req, "opinion") == '\0'))
		return mt_reply_err(req, MT_E_FIELD_REQUIRED, "opinion",
		    "认定意见（不予认定须写明理由）");
	if (reason_known_or_reply(req, mt_req_param(req, "reason_code")) < 0)
		return -1;
	snprintf(me, sizeof(me), "%lld", req->session->user_id);
	p[0] = aid;
	p[1] = me;
	p[2] = verdict;
	p[3] = mt_req_param(req, "opinion") != NULL ?
	    mt_req_param(req, "opinion") : "";
	p[4] = mt_req_param(req, "reason_code");
	if ((r = engine_or_reply(req, STMT_DECIDE, 5, p)) == NULL)
		return -1;
	if (!json_object_get_boolean(json_object_object_get(r, "final")))
		redis_done(mt_redis_cmd("LPUSH wake stage"));
	json_object_object_add(r, "state", json_object_new_string("decided"));
	return mt_reply_json(req, 200, r);
}

static int
valid_state(const char *s)
{
	static const char *const st[] = { "pushed", "accepted", "decided",
	    NULL };

	return mt_valid_one_of(s, st);
}

static int
valid_verdict(const char *s)
{
	static const char *const v[] = { "approve", "reject", NULL };

	return mt_valid_one_of(s, v);
}

static int
valid_text(const char *s)
{
	return strpbrk(s, "\r") == NULL;
}

#define F_AID { "aid", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "任务编号" }

static const struct mt_field f_tasks[] = {
	{ "state", MT_IN_QUERY, MT_F_STRING, valid_state, 0, 16, "任务状态" },
	{ NULL },
};
static const struct mt_field f_aid[] = { F_AID, { NULL } };
static const struct mt_field f_refuse[] = {
	F_AID,
	{ "reason", MT_IN_BODY, MT_F_STRING, valid_text, 1, 500,
	  "拒绝受理的理由" },
	{ NULL },
};
static const struct mt_field f_decision[] = {
	F_AID,
	{ "decision", MT_IN_BODY, MT_F_STRING, valid_verdict, 1, 8,
	  "认定结论（approve 或 reject）" },
	{ "opinion", MT_IN_BODY, MT_F_STRING, valid_text, 0, 2000,
	  "认定意见" },
	{ "reason_code", MT_IN_BODY, MT_F_STRING, mt_valid_code, 0, 64,
	  "不予认定原因代码" },
	{ NULL },
};

static const struct mt_route routes[] = {
	{ "GET", "/expert/tasks", h_tasks, MT_ROLE_EXPERT, 0, f_tasks, 0 },
	{ "POST", "/expert/tasks/{aid}/accept", h_accept, MT_ROLE_EXPERT, 0,
	  f_aid, 0 },
	{ "POST", "/expert/tasks/{aid}/refuse", h_refuse, MT_ROLE_EXPERT, 0,
	  f_refuse, 0 },
	{ "POST", "/expert/tasks/{aid}/decision", h_decision, MT_ROLE_EXPERT,
	  0, f_decision, 0 },
};

const struct mt_module mt_module = {
	.name = "review",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = stmts,
	.nstmts = STMT__MAX,
};
