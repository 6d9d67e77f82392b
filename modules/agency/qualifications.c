/*
 * qualifications.c -- the agency's side of the benefit (issue 10):
 *
 *   GET  /agency/qualifications?region=&status=&disease=&institution=
 *                                  the region's qualifications, newest
 *                                  first, ID numbers masked (R-BEN-1)
 *   POST /agency/qualifications/{id}/terminate
 *                                  {reason, note, ended_on?}: the agency
 *                                  ends one (R-BEN-5)
 *   GET  /agency/region            the region's agency contact, shown in
 *   PUT  /agency/region            every page's footer (GET /me)
 *   GET  /agency/exports/qualifications?since=&limit=
 *                                  the national feed (R-BEN-7): every
 *                                  change after a cursor, in commit order
 *
 * Agency staff act on their own region only (another region's record is
 * a 404); admins name any region or none.  Statements: agency_db.c; the
 * feed's numbering: sql/fn/55_feed.sql.
 */
#include <stdlib.h>

#include "agency.h"
#include "agency_db.h"
#include "mt_auth.h"
#include "mt_http.h"

/*
 * GET /agency/qualifications?region=&status=&disease=&institution=
 * &limit=&cursor=: the region's qualifications (an admin's choice of
 * region, else all), newest first (limit 1-200, default 50).  200 with a
 * page of qualifications; 404 region_not_found (an agency naming
 * another region); 503.
 */
int
h_qualifications(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	struct agency_qual_query q;

	if (agency_region_scope_or_reply(req, &q.region) < 0)
		return -1;
	q.status = mt_req_param(req, "status");
	q.disease = mt_req_param(req, "disease");
	q.institution = mt_req_param(req, "institution");
	q.cursor = mt_req_param(req, "cursor");
	q.limit = limit != NULL ? atoi(limit) : 50;
	return agency_db_reply_qualifications(req, &q);
}

/*
 * POST /agency/qualifications/{id}/terminate {reason, note, ended_on?}:
 * end the benefit from ended_on (default today, or valid_from when the
 * benefit has not begun) through end_qualification -- status by reason,
 * SMS, the application's event (R-BEN-5).  200 with the qualification;
 * 400 field_invalid (ended_on not a date); 422 date_out_of_range
 * (ended_on after today or before the benefit began; before it began,
 * only valid_from); 404 qualification_not_found
 * (none, or another region's); 409 qualification_not_active; 503.
 */
int
h_qualification_end(struct mt_req *req)
{
	struct agency_qual_end e;

	/* No region field on this route: an admin's scope is NULL. */
	if (agency_region_scope_or_reply(req, &e.region) < 0)
		return -1;
	e.id = mt_req_param(req, "id");
	e.reason = mt_req_param(req, "reason");
	e.note = mt_req_param(req, "note");
	e.ended_on = mt_req_param(req, "ended_on");
	e.actor = req->session->user_id;
	e.role = mt_role_name(req->session->role);
	return agency_db_reply_end(req, &e);
}

/*
 * GET /agency/region?region=: the agency contact of the caller's region
 * (an admin names one).  200 (no-store); 400 field_required (an admin
 * names none); 404 region_not_found; 503.
 */
int
h_region(struct mt_req *req)
{
	const char *region;

	if (agency_one_region_or_reply(req, &region) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_region(req, region);
}

/*
 * PUT /agency/region {agency_name, hotline, agency_address, region?}:
 * replace the region's contact (all three members).  200 with it; 400
 * field_required or field_invalid; 404 region_not_found; 503.
 */
int
h_region_set(struct mt_req *req)
{
	struct agency_region_contact c;

	if (agency_one_region_or_reply(req, &c.region) < 0)
		return -1;
	c.agency_name = mt_req_param(req, "agency_name");
	c.hotline = mt_req_param(req, "hotline");
	c.agency_address = mt_req_param(req, "agency_address");
	if (agency_db_set_region(req, &c) < 0)
		return -1;
	return h_region(req);
}

/*
 * GET /agency/exports/qualifications?region=&since=&limit=: the national
 * feed (R-BEN-7) of the caller's region (an admin's choice, else all):
 * the changes numbered above since (default 0), oldest first, at most
 * limit (1-1000, default 500); each exported qualification is logged in
 * access_log.  200 with {items, next_since} (no-store); 404
 * region_not_found; 503.
 */
int
h_feed(struct mt_req *req)
{
	const char *region, *limit = mt_req_param(req, "limit");

	if (agency_region_scope_or_reply(req, &region) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_feed(req, region, mt_req_param(req, "since"),
	    limit != NULL ? atoi(limit) : 500, req->session->user_id);
}
