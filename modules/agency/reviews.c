/*
 * reviews.c -- the quarterly review (复核, R-SUP-2, S2 三 "双随机，一
 * 公开"): reviewers and cases drawn at random, both recorded in draws.
 *
 *   POST /agency/reviews {quarter, region?}   draw an ended quarter now
 *                          (the dispatcher draws it on the region's
 *                          quarterly_review_day anyway)
 *   GET  /agency/reviews?region=              the region's reviews with
 *                          their counts and the schedule
 *   GET  /agency/reviews/{id}                 one review: reviewers by
 *                          name, every case with its reviewer and result
 *
 * A disagreement changes no decision: the agency sees it here and may
 * open the application (GET /agency/applications/{id}) and end its
 * qualification (POST /agency/qualifications/{id}/terminate).  The
 * rules are sql/fn/88_quarterly_review.sql.
 */
#include "agency.h"
#include "agency_db.h"
#include "mt_http.h"
#include "mt_valid.h"

const struct mt_field f_review_draw[] = {
	{ "quarter", MT_IN_BODY, MT_F_STRING, mt_valid_quarter, 1, 6,
	  "季度（如 2026Q3）" },
	{ "region", MT_IN_BODY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

const struct mt_field f_reviews[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

const struct mt_field f_review[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "复核编号" },
	{ NULL },
};

/*
 * POST /agency/reviews {quarter, region?}: draw the reviewers and the
 * cases of the caller's region (an admin names one) for an ended
 * quarter.  201 with the review; 400 field_required (an admin names no
 * region) or field_invalid; 404 region_not_found; 409
 * review_already_drawn; 422 review_quarter_open, review_no_experts; 503.
 */
int
h_review_draw(struct mt_req *req)
{
	const char *region;

	if (agency_one_region_or_reply(req, &region) < 0)
		return -1;
	return agency_db_draw_review(req, region,
	    mt_req_param(req, "quarter"), req->session->user_id);
}

/*
 * GET /agency/reviews?region=: the reviews of the caller's region (an
 * admin: the one named, else every region), newest first, with counts.
 * 200 (no-store); 400 field_invalid; 404 region_not_found; 503.
 */
int
h_reviews(struct mt_req *req)
{
	const char *region;

	if (agency_region_scope_or_reply(req, &region) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_reviews(req, region);
}

/*
 * GET /agency/reviews/{id}: one review with its reviewers (named) and
 * cases.  200 (no-store); 404 review_not_found (none, or another
 * region's); 503.
 */
int
h_review(struct mt_req *req)
{
	const char *region = req->session->role == MT_ROLE_AGENCY ?
	    req->session->region : NULL;

	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_review(req, mt_req_param(req, "id"), region);
}
