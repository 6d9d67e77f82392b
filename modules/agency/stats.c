/*
 * stats.c -- the agency's statistics (issue 12 item 5; R-SUP-3, S0
 * 四(二) 按月统计专家工作量, S0 二(三), S3 第八条):
 *
 *   GET /agency/stats/experts?month=&region=
 *                  per expert and per hospital: pushed, accepted,
 *                  refused, expired, decided, median and p90 hours to
 *                  accept and to decide, over the month's pushes
 *   GET /agency/stats/turnaround?from=&to=&region=
 *                  applications decided in [from, to]: count, approved,
 *                  median and p90 working days to decision, share within
 *                  the region's target, by disease, channel, review mode
 *
 * The figures and their definitions (percentile_cont, China days, the
 * working-day calendar, which target) are sql/fn/90_stats.sql.
 */
#include "agency.h"
#include "agency_db.h"
#include "mt_http.h"
#include "mt_valid.h"

const struct mt_field f_stats_experts[] = {
	{ "month", MT_IN_QUERY, MT_F_STRING, mt_valid_month, 0, 7,
	  "月份（如 2026-09）" },
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

const struct mt_field f_stats_turnaround[] = {
	{ "from", MT_IN_QUERY, MT_F_STRING, mt_valid_date, 0, 10,
	  "开始日期" },
	{ "to", MT_IN_QUERY, MT_F_STRING, mt_valid_date, 0, 10,
	  "结束日期" },
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

/*
 * GET /agency/stats/experts?month=&region=: the month's (default this
 * one) workload of the experts of the caller's region (an admin: the
 * region named, else every region).  200 (no-store); 400 field_invalid
 * (month not YYYY-MM); 404 region_not_found; 422 date_out_of_range (a
 * month after this one); 503.
 */
int
h_stats_experts(struct mt_req *req)
{
	const char *region;

	if (agency_region_scope_or_reply(req, &region) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_stats_experts(req, region,
	    mt_req_param(req, "month"));
}

/*
 * GET /agency/stats/turnaround?from=&to=&region=: the caller's region's
 * (an admin names one) decisions of [from, to] (default: this month up
 * to today).  200 (no-store); 400 field_invalid (not a date) or
 * field_required (an admin names no region); 404 region_not_found; 422
 * date_out_of_range (from after to, or more than 366 days); 503.
 */
int
h_stats_turnaround(struct mt_req *req)
{
	const char *region;

	if (agency_one_region_or_reply(req, &region) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_stats_turnaround(req, region,
	    mt_req_param(req, "from"), mt_req_param(req, "to"));
}
