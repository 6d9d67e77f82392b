/*
 * reports.c -- which hospitals sent their quarterly certification table
 * (R-SUP-2, S4 西宁转发文 四(二): within quarterly_report_working_days
 * working days after each quarter):
 *
 *   GET  /agency/reports/quarterly?quarter=&region=
 *                          each certifying hospital of the region:
 *                          submitted, late (not sent, due_on passed) or
 *                          pending, with when and how many rows
 *
 * The hospitals send it with POST /hospital/reports/quarterly
 * (modules/hospital/reports.c); the states are sql/fn/76_reports.sql.
 */
#include "agency.h"
#include "agency_db.h"
#include "mt_http.h"
#include "mt_valid.h"

const struct mt_field f_quarterly_status[] = {
	{ "quarter", MT_IN_QUERY, MT_F_STRING, mt_valid_quarter, 0, 6,
	  "季度（如 2026Q3）" },
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

/*
 * GET /agency/reports/quarterly?quarter=&region=: the quarter's tables
 * (default: the last quarter that has ended) of the caller's region (an
 * admin names one), late ones first.  200 (no-store); 400 field_required
 * (an admin names no region) or field_invalid; 404 region_not_found; 503.
 */
int
h_quarterly_status(struct mt_req *req)
{
	const char *region;

	if (agency_one_region_or_reply(req, &region) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_quarterly_status(req, region,
	    mt_req_param(req, "quarter"));
}
