/*
 * review.c -- module `review`: the certification expert's tasks
 * (R-CER-2 ... R-CER-5).
 *
 *   GET  /expert/tasks?state=pushed|accepted|decided
 *   POST /expert/tasks/{aid}/accept
 *   POST /expert/tasks/{aid}/refuse     {reason}
 *   POST /expert/tasks/{aid}/decision   {decision, opinion, reason_code?}
 *                                       or {decision: "return", missing,
 *                                       opinion} (R-APP-8, issue 12)
 *   GET  /expert/reviews, POST /expert/reviews/{id}/result: the
 *        quarterly review's cases (checks.c)
 *
 * The engine is sql/fn/30_review.sql: PostgreSQL's conditional updates
 * decide every race (an accept at the deadline against the dispatcher's
 * expiry: exactly one wins).  Redis follows after the commit: the timer
 * member goes, the lease changes, and the dispatcher is woken to push the
 * next expert or stage.  The applicant is shown blind: sex, age band and
 * region, never name, ID number or phone; a second-stage expert never
 * sees the first opinion.
 */
#include <stdlib.h>
#include <string.h>

#include "mt_error.h"
#include "mt_http.h"
#include "mt_redis.h"
#include "mt_util.h"
#include "mt_valid.h"
#include "review_db.h"
#include "checks.h"

static const char *
member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	    json_object_get_string(v) : "";
}

/* Redis after a commit is best effort (the dispatcher rebuilds it from
 * PostgreSQL): mt_redis_do's failure never fails the request. */

/*
 * GET /expert/tasks?state=&limit=&cursor=: a page of the caller's
 * tasks, newest first (limit 1-200, default 200), blind (R-CER-2).  200; 400 unknown state; 401/403 not an expert
 * (host); 503 database down.
 */
static int
h_tasks(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");

	return review_db_reply_tasks(req, req->session->user_id,
	    mt_req_param(req, "state"), mt_req_param(req, "cursor"),
	    limit != NULL ? atoi(limit) : 200);
}

/* The caller's task named by the path. */
static struct review_task
task_of(struct mt_req *req)
{
	struct review_task t = {
		.aid = mt_req_param(req, "aid"),
		.expert = req->session->user_id,
	};

	return t;
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
	struct review_task t = task_of(req);
	json_object *r;

	if (review_db_accept(req, &t, &r) < 0)
		return -1;
	/* The timer goes; the lease is held now, without expiry. */
	mt_redis_do("ZREM timers:{%s} %s", member(r, "region"), t.aid);
	mt_redis_do("SET lease:{%s}:%s:%s %s:%lld",
	    member(r, "region"), member(r, "application"), member(r, "stage"),
	    t.aid, t.expert);
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
	struct review_task t = task_of(req);
	json_object *r;

	if (review_db_refuse(req, &t, mt_req_param(req, "reason"), &r) < 0)
		return -1;
	mt_redis_do("ZREM timers:{%s} %s", member(r, "region"), t.aid);
	mt_redis_do("LPUSH wake refuse");
	json_object_object_add(r, "state", json_object_new_string("refused"));
	return mt_reply_json(req, 200, r);
}

/*
 * The third verdict (R-APP-8, S3 第七条 一次性告知): return the task's
 * application once for the missing kinds named in "missing", with the
 * opinion saying what exactly is missing (sql/fn/82_return.sql).  200;
 * 400 missing or opinion absent, or a reason_code given; 422 a kind that
 * is not the disease's (material_kind_not_needed); 404 not the caller's
 * task; 409 not accepted, decided or gone, returned once already
 * (return_already_used), or a seat of an objection's panel
 * (return_not_in_objection); 503 database down.
 */
static int
decide_return(struct mt_req *req, const struct review_task *t,
    const struct review_decision *d)
{
	const char *missing = mt_req_param(req, "missing");
	json_object *r;

	if (missing == NULL)
		return mt_reply_err(req, MT_E_FIELD_REQUIRED, "missing",
		    "需补充的材料（退回补充须列出）");
	if (d->opinion == NULL || *d->opinion == '\0')
		return mt_reply_err(req, MT_E_FIELD_REQUIRED, "opinion",
		    "认定意见（退回补充须写明缺少什么）");
	if (d->reason_code != NULL)
		return mt_reply_err(req, MT_E_FIELD_INVALID, "reason_code",
		    "不予认定原因代码", "：退回补充材料时不填写");
	if (review_db_return(req, t, missing, d->opinion, &r) < 0)
		return -1;
	/* The stage's lease is free: the resubmission's push takes it. */
	mt_redis_do("DEL lease:{%s}:%s:%s", member(r, "region"),
	    member(r, "application"), member(r, "stage"));
	json_object_object_add(r, "state", json_object_new_string("returned"));
	return mt_reply_json(req, 200, r);
}

/*
 * POST /expert/tasks/{aid}/decision (R-CER-5).  200; 400 reject without
 * opinion, missing given without a return, or a field that fails its
 * check; 422 unknown reason_code; 404 not the caller's task; 409 not
 * accepted, already decided or gone; 401/403 not an expert (host); 503
 * database down.  decision "return": decide_return's statuses.
 */
static int
h_decision(struct mt_req *req)
{
	struct review_task t = task_of(req);
	struct review_decision d = {
		.verdict = mt_req_param(req, "decision"),
		.opinion = mt_req_param(req, "opinion"),
		.reason_code = mt_req_param(req, "reason_code"),
	};
	json_object *r;

	if (strcmp(d.verdict, "return") == 0)
		return decide_return(req, &t, &d);
	if (mt_req_param(req, "missing") != NULL)
		return mt_reply_err(req, MT_E_FIELD_INVALID, "missing",
		    "需补充的材料", "：只有退回补充材料时填写");
	if (strcmp(d.verdict, "reject") == 0 &&
	    (d.opinion == NULL || *d.opinion == '\0'))
		return mt_reply_err(req, MT_E_FIELD_REQUIRED, "opinion",
		    "认定意见（不予认定须写明理由）");
	if (d.reason_code != NULL &&
	    review_db_reason_known(req, d.reason_code) < 0)
		return -1;
	if (review_db_decide(req, &t, &d, &r) < 0)
		return -1;
	if (!json_object_get_boolean(json_object_object_get(r, "final")))
		mt_redis_do("LPUSH wake stage");
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
	static const char *const v[] = { "approve", "reject", "return",
	    NULL };

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
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
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
	  "认定结论（approve、reject 或 return）" },
	{ "opinion", MT_IN_BODY, MT_F_STRING, valid_text, 0, 2000,
	  "认定意见" },
	{ "reason_code", MT_IN_BODY, MT_F_STRING, mt_valid_code, 0, 64,
	  "不予认定原因代码" },
	/* A return's missing kinds (R-APP-8): 1-10 material kind codes. */
	{ "missing", MT_IN_BODY, MT_F_ARRAY, mt_valid_code, 0, 10,
	  "需补充的材料" },
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
	/* The quarterly review, 双随机一公开 (issue 12 item 4): checks.c. */
	{ "GET", "/expert/reviews", h_review_cases, MT_ROLE_EXPERT, 0,
	  f_review_cases, 0 },
	{ "POST", "/expert/reviews/{id}/result", h_review_result,
	  MT_ROLE_EXPERT, 0, f_review_result, 0 },
};

const struct mt_module mt_module = {
	.name = "review",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = review_db_stmts,
	.nstmts = REVIEW_STMT__MAX,
};
