/*
 * audits.c -- audit samples (R-SUP-1, S0 五(二) 不低于 10% 的比例抽审,
 * S3 第二十条 随机抽检):
 *
 *   POST /agency/audits                  {from, to, rate}: draw a sample
 *                                        of the region's approved
 *                                        qualifications of the period
 *   GET  /agency/audits                  the region's audits, newest first
 *   GET  /agency/audits/{id}             the report: period, rate, sizes,
 *                                        the draw, every item
 *   POST /agency/audits/{id}/items/{item}/result
 *                                        {result, note}: pass, or fail
 *                                        (the qualification ends,
 *                                        audit_failed)
 *
 * The sample is a recorded draw (record_draw, purpose audit): `mtcertctl
 * audit verify ID` recomputes it.  Agency staff act on their own region
 * (another region's audit is a 404); an admin names the region when
 * drawing.  The rules live in sql/fn/86_audit.sql.
 */
#include <stdlib.h>
#include <string.h>

#include "agency.h"
#include "agency_db.h"
#include "mt_auth.h"
#include "mt_http.h"
#include "mt_valid.h"

/* A whole percentage, 1-100 (the floor is the region's policy). */
static int
valid_rate(const char *s)
{
	return mt_valid_uint(s) && strlen(s) <= 3 && atoi(s) >= 1 &&
	    atoi(s) <= 100;
}

static int
valid_result(const char *s)
{
	static const char *const r[] = { "pass", "fail", NULL };

	return mt_valid_one_of(s, r);
}

const struct mt_field f_audit_new[] = {
	{ "region", MT_IN_BODY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "from", MT_IN_BODY, MT_F_STRING, mt_valid_date, 1, 10,
	  "开始日期（YYYY-MM-DD）" },
	{ "to", MT_IN_BODY, MT_F_STRING, mt_valid_date, 1, 10,
	  "结束日期（YYYY-MM-DD）" },
	{ "rate", MT_IN_BODY, MT_F_INT, valid_rate, 1, 3,
	  "抽查比例（1–100 的整数，单位 %）" },
	{ NULL },
};

const struct mt_field f_audits[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
	{ NULL },
};

const struct mt_field f_audit[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "抽查批次编号" },
	{ NULL },
};

const struct mt_field f_audit_result[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "抽查批次编号" },
	{ "item", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "抽查样本编号" },
	{ "result", MT_IN_BODY, MT_F_STRING, valid_result, 1, 4,
	  "抽查结果（pass 通过、fail 不通过）" },
	{ "note", MT_IN_BODY, MT_F_STRING, mt_valid_note, 0, 1000,
	  "说明（不通过时必填）" },
	{ NULL },
};

/*
 * POST /agency/audits {from, to, rate, region?}: draw the sample
 * (create_audit).  201 with the report; 400 field_required,
 * field_invalid (bad dates, to before from or after today); 404
 * region_not_found; 422 audit_rate_too_low (names the region's minimum),
 * audit_population_empty; 503.
 */
int
h_audit_new(struct mt_req *req)
{
	struct agency_audit_new a;

	if (agency_one_region_or_reply(req, &a.region) < 0)
		return -1;
	a.from = mt_req_param(req, "from");
	a.to = mt_req_param(req, "to");
	a.rate = mt_req_param(req, "rate");
	a.actor = req->session->user_id;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_audit_new(req, &a);
}

/*
 * GET /agency/audits?region=&limit=&cursor=: the region's audits (an
 * admin's choice, else all), newest first, without their items (limit
 * 1-200, default 50).  200 with a page; 404 region_not_found; 503.
 */
int
h_audits(struct mt_req *req)
{
	const char *region, *limit = mt_req_param(req, "limit");

	if (agency_region_scope_or_reply(req, &region) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_audits(req, region, mt_req_param(req, "cursor"),
	    limit != NULL ? atoi(limit) : 50);
}

/*
 * GET /agency/audits/{id}: the report, each sampled person's read written
 * to access_log.  200 (no-store); 404 audit_not_found (none, or another
 * region's); 503.
 */
int
h_audit(struct mt_req *req)
{
	const char *region;

	/* No region field on this route: an admin's scope is NULL. */
	if (agency_region_scope_or_reply(req, &region) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_audit(req, mt_req_param(req, "id"), region,
	    req->session->user_id);
}

/*
 * POST /agency/audits/{id}/items/{item}/result {result, note}: record
 * it (record_audit_result); a fail ends the qualification (audit_failed:
 * SMS, events).  200 with the item; 400 field_required (a fail without a
 * note) or invalid fields; 404 audit_item_not_found (none in that audit,
 * or another region's); 409 audit_item_decided; 503.
 */
int
h_audit_result(struct mt_req *req)
{
	struct agency_audit_result r;

	/* No region field on this route: an admin's scope is NULL. */
	if (agency_region_scope_or_reply(req, &r.region) < 0)
		return -1;
	r.audit = mt_req_param(req, "id");
	r.item = mt_req_param(req, "item");
	r.result = mt_req_param(req, "result");
	r.note = mt_req_param(req, "note");
	r.actor = req->session->user_id;
	r.role = mt_role_name(req->session->role);
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_audit_result(req, &r);
}
