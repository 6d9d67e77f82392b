/*
 * review_db.c -- the review module's statements and the typed functions
 * over them (see review_db.h).  Parameters are filled by name through a
 * per-statement enum; the engine's result column is read by its name
 * ("result"); the task list goes to mt_reply_items, whose column 0 is
 * each item's JSON ("task") and column 1 its cursor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_db.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"
#include "review_db.h"

const char *const review_db_stmts[REVIEW_STMT__MAX] = {
	[REVIEW_STMT_TASKS] =
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
	    "   'id', CASE WHEN x.state IN ('accepted', 'decided', 'returned')"
	    "    THEN m.id END,"
	    "   'kind', m.kind, 'name', mk.name, 'issued_on', m.issued_on,"
	    "   'media_type', m.media_type) ORDER BY m.id), '[]')"
	    "  FROM materials m JOIN material_kinds mk ON mk.code = m.kind"
	    "  WHERE m.application_id = a.id AND m.deleted_at IS NULL),"
	    " 'decision', CASE WHEN x.state = 'returned' THEN 'return'"
	    "  ELSE x.decision END)::text AS task, x.id AS next_cursor"
	    " FROM assignments x JOIN applications a ON a.id = x.application_id"
	    " JOIN persons p ON p.id = a.person_id"
	    " JOIN diseases d ON d.code = a.disease"
	    " WHERE x.expert_id = $1"
	    " AND CASE coalesce($2, 'open')"
	    "  WHEN 'open' THEN (x.state = 'pushed' AND x.accept_deadline > now())"
	    "   OR x.state = 'accepted'"
	    "  WHEN 'pushed' THEN x.state = 'pushed' AND x.accept_deadline > now()"
	    "  WHEN 'accepted' THEN x.state = 'accepted'"
	    "  ELSE x.state IN ('decided', 'returned') END"
	    " AND ($3::bigint IS NULL OR x.id < $3::bigint)"
	    " ORDER BY x.id DESC LIMIT $4::int",
	[REVIEW_STMT_ACCEPT] = "SELECT accept_assignment($1, $2)::text AS result",
	[REVIEW_STMT_REFUSE] = "SELECT refuse_assignment($1, $2, $3)::text AS result",
	[REVIEW_STMT_DECIDE] = "SELECT decide_assignment($1, $2, $3, $4, $5)::text AS result",
	/* The codes GET /rejection-reasons serves (sql/ref). */
	[REVIEW_STMT_REASON] =
	    "SELECT 1 FROM rejection_reasons WHERE code = $1 AND active",
	/* The returned state (issue 12): the kinds as a JSON array. */
	[REVIEW_STMT_RETURN] =
	    "SELECT return_assignment($1, $2, ARRAY(SELECT"
	    " jsonb_array_elements_text($3::jsonb)), $4)::text AS result",
	/* The quarterly review (sql/fn/88_quarterly_review.sql). */
	[REVIEW_STMT_CASES] =
	    "SELECT expert_reviews_json($1::bigint, $2)::text AS result",
	[REVIEW_STMT_RESULT] =
	    "SELECT give_review_result($1::bigint, $2::bigint, $3, $4)::text"
	    " AS result",
};

/* The parameters of each statement, by name. */
enum { TASKS_EXPERT, TASKS_STATE, TASKS_CURSOR, TASKS_LIMIT, TASKS__N };
enum { ACCEPT_AID, ACCEPT_EXPERT, ACCEPT__N };
enum { REFUSE_AID, REFUSE_EXPERT, REFUSE_REASON, REFUSE__N };
enum { DECIDE_AID, DECIDE_EXPERT, DECIDE_VERDICT, DECIDE_OPINION,
	DECIDE_REASON_CODE, DECIDE__N };
enum { REASON_CODE, REASON__N };
enum { RETURN_AID, RETURN_EXPERT, RETURN_MISSING, RETURN_OPINION,
	RETURN__N };
enum { CASES_EXPERT, CASES_STATE, CASES__N };
enum { RESULT_ID, RESULT_EXPERT, RESULT_RESULT, RESULT_NOTE, RESULT__N };

/* See review_db.h. */
int
review_db_reply_tasks(struct mt_req *req, long long expert, const char *state,
    const char *cursor, int limit)
{
	char me[24];
	const char *p[TASKS__N];

	snprintf(me, sizeof(me), "%lld", expert);
	p[TASKS_EXPERT] = me;
	p[TASKS_STATE] = state;
	p[TASKS_CURSOR] = cursor;
	return mt_db_reply_page(req, REVIEW_STMT_TASKS, TASKS__N, p,
	    TASKS_LIMIT, limit);
}

/*
 * Run one engine function; its one row's "result" column is a JSON
 * object: the outcome, or a refusal {"error": code, ...} answered here.
 * 0 with *out, or -1 after replying.
 */
static int
engine(struct mt_req *req, int stmt, int n, const char *const *p,
    json_object **out)
{
	json_object *r = NULL, *v;
	PGresult *res;
	int col;

	*out = NULL;
	if ((res = mt_db_query_or_reply(req, stmt, n, p)) == NULL)
		return -1;
	col = PQfnumber(res, "result");
	if (PQntuples(res) == 1 && col >= 0)
		r = json_tokener_parse(PQgetvalue(res, 0, col));
	PQclear(res);
	if (r == NULL) {
		mt_log("error", "%s: review statement %d gave no result",
		    req->request_id, stmt);
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	if (json_object_object_get_ex(r, "error", &v)) {
		mt_reply_refusal(req, r);
		json_object_put(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* See review_db.h. */
int
review_db_accept(struct mt_req *req, const struct review_task *t,
    json_object **out)
{
	char me[24];
	const char *p[ACCEPT__N];

	snprintf(me, sizeof(me), "%lld", t->expert);
	p[ACCEPT_AID] = t->aid;
	p[ACCEPT_EXPERT] = me;
	return engine(req, REVIEW_STMT_ACCEPT, ACCEPT__N, p, out);
}

/* See review_db.h. */
int
review_db_refuse(struct mt_req *req, const struct review_task *t,
    const char *reason, json_object **out)
{
	char me[24];
	const char *p[REFUSE__N];

	snprintf(me, sizeof(me), "%lld", t->expert);
	p[REFUSE_AID] = t->aid;
	p[REFUSE_EXPERT] = me;
	p[REFUSE_REASON] = reason;
	return engine(req, REVIEW_STMT_REFUSE, REFUSE__N, p, out);
}

/* See review_db.h. */
int
review_db_decide(struct mt_req *req, const struct review_task *t,
    const struct review_decision *d, json_object **out)
{
	char me[24];
	const char *p[DECIDE__N];

	snprintf(me, sizeof(me), "%lld", t->expert);
	p[DECIDE_AID] = t->aid;
	p[DECIDE_EXPERT] = me;
	p[DECIDE_VERDICT] = d->verdict;
	p[DECIDE_OPINION] = d->opinion != NULL ? d->opinion : "";
	p[DECIDE_REASON_CODE] = d->reason_code;
	return engine(req, REVIEW_STMT_DECIDE, DECIDE__N, p, out);
}

/*
 * See review_db.h.  The codes are those GET /rejection-reasons serves;
 * the foreign keys on the code columns are only the backstop.
 */
int
review_db_reason_known(struct mt_req *req, const char *code)
{
	const char *p[REASON__N];
	int found;

	p[REASON_CODE] = code;
	/* code is the key: at most one row. */
	found = mt_db_affected_or_reply(req, REVIEW_STMT_REASON, REASON__N, p);
	if (found < 0)
		return -1;
	if (found)
		return 0;
	return mt_reply_err(req, MT_E_REASON_CODE_NOT_FOUND, "reason_code");
}

/* See review_db.h. */
int
review_db_return(struct mt_req *req, const struct review_task *t,
    const char *missing, const char *opinion, json_object **out)
{
	char me[24];
	const char *p[RETURN__N];

	snprintf(me, sizeof(me), "%lld", t->expert);
	p[RETURN_AID] = t->aid;
	p[RETURN_EXPERT] = me;
	p[RETURN_MISSING] = missing;
	p[RETURN_OPINION] = opinion;
	return engine(req, REVIEW_STMT_RETURN, RETURN__N, p, out);
}

/* Run an engine statement of the quarterly review and answer 200 with
 * its {"ok": value}; -1 after answering the refusal, 503 or 500. */
static int
review_outcome(struct mt_req *req, int stmt, int n, const char *const *p)
{
	json_object *ok;

	if (mt_db_outcome_or_reply(req, stmt, n, p, "result", &ok) < 0)
		return -1;
	return mt_reply_json(req, 200, ok);
}

/* See review_db.h. */
int
review_db_reply_cases(struct mt_req *req, long long expert, const char *state)
{
	char me[24];
	const char *p[CASES__N];

	snprintf(me, sizeof(me), "%lld", expert);
	p[CASES_EXPERT] = me;
	p[CASES_STATE] = state;
	return review_outcome(req, REVIEW_STMT_CASES, CASES__N, p);
}

/* See review_db.h. */
int
review_db_give_result(struct mt_req *req, const char *id, long long expert,
    const char *result, const char *note)
{
	char me[24];
	const char *p[RESULT__N];

	snprintf(me, sizeof(me), "%lld", expert);
	p[RESULT_ID] = id;
	p[RESULT_EXPERT] = me;
	p[RESULT_RESULT] = result;
	p[RESULT_NOTE] = note;
	return review_outcome(req, REVIEW_STMT_RESULT, RESULT__N, p);
}
