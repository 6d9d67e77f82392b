/*
 * reviews.c -- the quarterly review published (双随机一公开: 一公开, R-SUP-2,
 * S2 三), no sign-in:
 *
 *   GET /reviews/public?region=&quarter=   cases drawn, reviewed, agree,
 *                          disagree, pending, reviewers: counts only, no
 *                          person and no expert named
 *
 * The counts are sql/fn/88_quarterly_review.sql quarterly_review_public.
 */
#include "catalog_db.h"
#include "reviews.h"
#include "mt_valid.h"

const struct mt_field f_reviews_public[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 1, 6,
	  "统筹区代码" },
	{ "quarter", MT_IN_QUERY, MT_F_STRING, mt_valid_quarter, 0, 6,
	  "季度（如 2026Q3）" },
	{ NULL },
};

/*
 * GET /reviews/public?region=&quarter=: the counts of the region's
 * review of quarter (default: the newest drawn), public for 5 minutes.
 * 200; 400 field_required (no region) or field_invalid; 404
 * region_not_found or review_not_found; 503.
 */
int
h_reviews_public(struct mt_req *req)
{
	return catalog_db_reply_reviews_public(req,
	    mt_req_param(req, "region"), mt_req_param(req, "quarter"));
}
