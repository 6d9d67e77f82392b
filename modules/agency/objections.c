/*
 * objections.c -- the agency's list of objections (R-CER-12, S3 第九条;
 * issue 12's leftover):
 *
 *   GET /agency/objections?region=&status=&limit=&cursor=
 *                  the region's objections and hospitals' appeals,
 *                  newest first: open (the panel re-decides), decided
 *                  (upheld or dismissed) or withdrawn; each with its
 *                  application (person masked) for the link to its trail
 *
 * The application list's filter ?objection= (agency.c) uses the same
 * states (objection_in_state, sql/fn/80_objection.sql).
 */
#include <stdlib.h>

#include "agency.h"
#include "agency_db.h"
#include "mt_http.h"
#include "mt_valid.h"

/* See agency.h. */
int
agency_valid_objection_state(const char *s)
{
	static const char *const st[] = { "open", "decided", "withdrawn",
	    "any", NULL };

	return mt_valid_one_of(s, st);
}

const struct mt_field f_objections[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "status", MT_IN_QUERY, MT_F_STRING, agency_valid_objection_state, 0,
	  9, "复核状态（open 复核中、decided 已作出复核结论、withdrawn 已撤回、"
	  "any 全部）" },
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
	{ NULL },
};

/*
 * GET /agency/objections?region=&status=&limit=&cursor=: one region's
 * objections (an agency's own, the one an admin names), newest first,
 * in any state unless one is named (limit 1-200, default 50).  Masked and
 * not logged, as the other lists.  200 with a page (no-store, as every
 * page); 400
 * field_invalid, or field_required (an admin names no region); 404
 * region_not_found (an agency naming another region); 503.
 */
int
h_objections(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	struct agency_objection_query q;

	if (agency_one_region_or_reply(req, &q.region) < 0)
		return -1;
	q.status = mt_req_param(req, "status");
	q.cursor = mt_req_param(req, "cursor");
	q.limit = limit != NULL ? atoi(limit) : 50;
	return agency_db_reply_objections(req, &q);
}
