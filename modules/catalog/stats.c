/*
 * stats.c -- the public monthly figures (issue 12 item 5; R-SUP-3, S0
 * 四(二) 公开、公平、公正):
 *
 *   GET /stats/public?region=&month=
 *                  per region and month: applications submitted,
 *                  decided, approved, the approval rate, the median
 *                  working days to decision (the last 12 months when no
 *                  month is named)
 *
 * No sign-in.  Counts only, no name, ID number, phone, disease or
 * hospital, so no cell is too small to show (a count names nobody).
 * Public for 5 minutes: a figure changes with each decision, and five
 * minutes late is no harm to a monthly count, while a page opened by
 * many readers costs one query per reader per 5 minutes at most.  A
 * refusal carries no Cache-Control.  The figures are
 * sql/fn/90_stats.sql.
 */
#include "catalog_db.h"
#include "mt_valid.h"
#include "stats.h"

const struct mt_field f_stats_public[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "month", MT_IN_QUERY, MT_F_STRING, mt_valid_month, 0, 7,
	  "月份（如 2026-09）" },
	{ NULL },
};

/*
 * GET /stats/public?region=&month=: every region's (or the one named)
 * figures of month, or of the last 12 months.  200 (public, max-age=300);
 * 400 field_invalid; 404 region_not_found; 422 date_out_of_range (a
 * month after this one); 503.
 */
int
h_stats_public(struct mt_req *req)
{
	json_object *ok;

	if (catalog_db_stats_public(req, mt_req_param(req, "region"),
	    mt_req_param(req, "month"), &ok) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: public, max-age=300");
	return mt_reply_json(req, 200, ok);
}
