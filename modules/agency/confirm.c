/*
 * confirm.c -- one application's whole record for the agency and the
 * confirmation of a hospital's result (R-CER-11, R-SUP-6, S4 三).
 *
 *   GET  /agency/applications/{id}          the progress view plus every
 *                                            expert draw, the certification
 *                                            form, the panel, the notice
 *                                            and its objections
 *   POST /agency/applications/{id}/confirm  {decision, reason}
 *
 * The agency of the person's region and the agency of the certifying
 * hospital's region (cross-region, R-CER-13) may open the record; only
 * the person's region's agency decides, since the qualification is
 * that region's.  The rules live in sql/fn/74_confirm.sql.
 */
#include "mt_error.h"
#include "mt_http.h"
#include "mt_valid.h"

#include "agency.h"
#include "agency_db.h"

static int
valid_decision(const char *s)
{
	static const char *const d[] = { "confirm", "overturn", NULL };

	return mt_valid_one_of(s, d);
}

const struct mt_field f_application[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "申请编号" },
	{ NULL },
};

const struct mt_field f_confirm[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "申请编号" },
	{ "decision", MT_IN_BODY, MT_F_STRING, valid_decision, 1, 8,
	  "确认结果（confirm 确认、overturn 不予确认）" },
	{ "reason", MT_IN_BODY, MT_F_STRING, mt_valid_note, 0, 1000,
	  "理由（不予确认时必填）" },
	{ NULL },
};

/*
 * The region whose agency the caller is (NULL for an admin).  The
 * routes take no region field: an admin sees every region.
 */
static const char *
caller_region(const struct mt_req *req)
{
	return req->session->role == MT_ROLE_AGENCY ? req->session->region :
	    NULL;
}

/*
 * GET /agency/applications/{id}: the whole record (the archive).  200
 * with it (no-store), the read logged in access_log; 404
 * application_not_found (none, or neither the person's nor the
 * certifying hospital's region is the agency's); 503.
 */
int
h_application(struct mt_req *req)
{
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_application(req, mt_req_param(req, "id"),
	    caller_region(req), req->session->user_id);
}

/*
 * POST /agency/applications/{id}/confirm: confirm or overturn the
 * hospital's result.  200 with the record; 400 field_required (overturn
 * without a reason) or invalid fields; 404 application_not_found (none,
 * or the person is of another region); 409 not_awaiting_confirmation,
 * overturn_not_allowed (a rejection); 503.
 */
int
h_confirm(struct mt_req *req)
{
	struct agency_confirm c;

	c.id = mt_req_param(req, "id");
	c.region = caller_region(req);
	c.decision = mt_req_param(req, "decision");
	c.reason = mt_req_param(req, "reason");
	c.actor = req->session->user_id;
	c.role = mt_role_name(req->session->role);
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_confirm(req, &c);
}
