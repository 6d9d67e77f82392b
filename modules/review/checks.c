/*
 * checks.c -- the quarterly review (复核, R-SUP-2, S2 三) as the drawn
 * reviewer sees it:
 *
 *   GET  /expert/reviews?state=pending|done   the caller's cases, blind
 *                          (sex, age band, region; never name, ID number
 *                          or phone), with the decision under review and
 *                          the materials (GET /materials/{id} admits the
 *                          case's reviewer, logged in access_log)
 *   POST /expert/reviews/{id}/result {result, note}   agree or disagree
 *                          (a note is required to disagree), once
 *
 * The agency draws the cases (modules/agency/reviews.c); the rules are
 * sql/fn/88_quarterly_review.sql.
 */
#include <string.h>

#include "checks.h"
#include "mt_error.h"
#include "mt_valid.h"
#include "review_db.h"

static int
valid_case_state(const char *s)
{
	static const char *const st[] = { "pending", "done", NULL };

	return mt_valid_one_of(s, st);
}

static int
valid_result(const char *s)
{
	static const char *const r[] = { "agree", "disagree", NULL };

	return mt_valid_one_of(s, r);
}

const struct mt_field f_review_cases[] = {
	{ "state", MT_IN_QUERY, MT_F_STRING, valid_case_state, 0, 8,
	  "复核状态（pending 待复核、done 已复核）" },
	{ NULL },
};

const struct mt_field f_review_result[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "复核病例编号" },
	{ "result", MT_IN_BODY, MT_F_STRING, valid_result, 1, 8,
	  "复核结论（agree 同意、disagree 不同意）" },
	{ "note", MT_IN_BODY, MT_F_STRING, mt_valid_note, 0, 2000,
	  "复核意见" },
	{ NULL },
};

/*
 * GET /expert/reviews?state=: the caller's review cases, pending first
 * (at most 200).  200 (no-store); 400 unknown state; 401/403 not an
 * expert (host); 503.
 */
int
h_review_cases(struct mt_req *req)
{
	mt_req_header(req, "Cache-Control: no-store");
	return review_db_reply_cases(req, req->session->user_id,
	    mt_req_param(req, "state"));
}

/*
 * POST /expert/reviews/{id}/result {result, note}: the caller's result
 * on one case.  200 with the case; 400 field_required (disagree without
 * a note) or field_invalid; 404 review_case_not_found (none, or not the
 * caller's); 409 review_result_given; 401/403 not an expert (host); 503.
 */
int
h_review_result(struct mt_req *req)
{
	const char *note = mt_req_param(req, "note");

	if (strcmp(mt_req_param(req, "result"), "disagree") == 0 &&
	    (note == NULL || *note == '\0'))
		return mt_reply_err(req, MT_E_FIELD_REQUIRED, "note",
		    "复核意见（不同意须写明理由）");
	return review_db_give_result(req, mt_req_param(req, "id"),
	    req->session->user_id, mt_req_param(req, "result"), note);
}
