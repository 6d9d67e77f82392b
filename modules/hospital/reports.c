/*
 * reports.c -- the hospital's quarterly certification table (R-SUP-2,
 * S4 西宁转发文 四(二): within quarterly_report_working_days working days
 * after each quarter the hospital sends the agency the table of what it
 * certified):
 *
 *   GET  /hospital/reports/quarterly?quarter=&format=json|csv
 *                          every certification of the caller's hospital
 *                          in the quarter (on-site and panel), in time
 *                          order, ID numbers masked; csv: the download
 *                          (each row logged in access_log as an export)
 *   POST /hospital/reports/quarterly {quarter}
 *                          send it: its row count and the SHA-256 of the
 *                          CSV, once per quarter, after the quarter
 *
 * The rows, the CSV and the checks are sql/fn/76_reports.sql; the
 * hospital is the session's, so another hospital's table cannot be asked
 * for at all.
 */
#include <string.h>

#include "mt_http.h"
#include "mt_valid.h"

#include "hospital.h"

static int
valid_format(const char *s)
{
	static const char *const formats[] = { "json", "csv", NULL };

	return mt_valid_one_of(s, formats);
}

const struct mt_field f_quarterly[] = {
	{ "quarter", MT_IN_QUERY, MT_F_STRING, mt_valid_quarter, 0, 6,
	  "季度（如 2026Q3）" },
	{ "format", MT_IN_QUERY, MT_F_STRING, valid_format, 0, 4,
	  "格式（json 或 csv）" },
	{ NULL },
};

const struct mt_field f_quarterly_submit[] = {
	{ "quarter", MT_IN_BODY, MT_F_STRING, mt_valid_quarter, 1, 6,
	  "季度（如 2026Q3）" },
	{ NULL },
};

/*
 * GET /hospital/reports/quarterly?quarter=&format=: the table of the
 * caller's hospital for the quarter (default: the last one that has
 * ended; one not ended yet gives what is certified so far, a future one
 * an empty table).  format=csv answers the CSV as an attachment
 * (quarterly-<hospital>-<quarter>.csv) and logs each row's person in
 * access_log.  200 (no-store); 400 field_invalid (quarter, format); 404
 * institution_unknown; 503.
 */
int
h_quarterly(struct mt_req *req)
{
	const char *quarter = mt_req_param(req, "quarter");
	const char *format = mt_req_param(req, "format");
	const char *inst = req->session->institution;

	mt_req_header(req, "Cache-Control: no-store");
	if (format == NULL || strcmp(format, "csv") != 0)
		return hospital_db_reply_quarterly(req, inst, quarter);
	return hospital_db_reply_quarterly_csv(req, inst, quarter,
	    req->session->user_id);
}

/*
 * POST /hospital/reports/quarterly {quarter}: the caller's hospital sends
 * its table of the quarter to the agency (the row count and the SHA-256
 * of the CSV a download gives).  201 with {quarter, row_count, sha256,
 * submitted_at}; 400 field_required or field_invalid (quarter); 409
 * report_already_submitted (with when); 422 quarter_not_ended; 503.
 */
int
h_quarterly_submit(struct mt_req *req)
{
	return hospital_db_submit_quarterly(req, req->session->institution,
	    mt_req_param(req, "quarter"), req->session->user_id);
}
