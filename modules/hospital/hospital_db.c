/*
 * hospital_db.c -- the hospital module's statements and the typed
 * functions over them (see hospital_db.h).  Each statement's parameters
 * are filled by name, its columns read by name.  Every rule and change is
 * one SQL function (sql/fn/65_authorization.sql, 70_hospital.sql,
 * 72_panel.sql, 76_reports.sql).
 */
#include <stdio.h>
#include <string.h>

#include "hospital_db.h"
#include "mt_db.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"

/* $n of the reports.c statements (a NULL quarter: the last ended one). */
enum { QTR_INST, QTR_QUARTER, QTR__N };
enum { QCSV_INST, QCSV_QUARTER, QCSV_READER, QCSV__N };
enum { QSUB_INST, QSUB_QUARTER, QSUB_WHO, QSUB__N };

const char *const hospital_db_stmts[HOSPITAL_STMT__MAX] = {
	/* onsite.c */
	/* panel.c */
	/* reports.c */
	[HOSPITAL_STMT_QUARTERLY] =
	    "SELECT quarterly_report_json($1,"
	    " coalesce($2, quarter_before(cn_today())))::text AS result",
	[HOSPITAL_STMT_QUARTERLY_CSV] =
	    "SELECT quarterly_export($1, x.q, $3::bigint) AS csv,"
	    " x.q AS quarter FROM (SELECT coalesce($2,"
	    " quarter_before(cn_today())) AS q) x",
	[HOSPITAL_STMT_QUARTERLY_SUBMIT] =
	    "SELECT submit_quarterly_report($1, $2, $3::bigint)::text AS result",
	[HOSPITAL_STMT_NOW] = "SELECT now()",
};

/* reports.c */

/* See hospital_db.h. */
int
hospital_db_reply_quarterly(struct mt_req *req, const char *inst,
    const char *quarter)
{
	const char *p[QTR__N] = {
		[QTR_INST] = inst,
		[QTR_QUARTER] = quarter,
	};
	json_object *ok;

	if (mt_db_outcome_or_reply(req, HOSPITAL_STMT_QUARTERLY, QTR__N, p,
	    "result", &ok) < 0)
		return -1;
	return mt_reply_json(req, 200, ok);
}

/* See hospital_db.h. */
int
hospital_db_reply_quarterly_csv(struct mt_req *req, const char *inst,
    const char *quarter, long long reader)
{
	char who[24];
	const char *p[QCSV__N] = {
		[QCSV_INST] = inst,
		[QCSV_QUARTER] = quarter,
		[QCSV_READER] = who,
	};
	const char *csv;
	PGresult *res;
	int rc;

	snprintf(who, sizeof(who), "%lld", reader);
	if ((res = mt_db_query_or_reply(req, HOSPITAL_STMT_QUARTERLY_CSV,
	    QCSV__N, p)) == NULL)
		return -1;
	if ((csv = mt_db_text(res, 0, "csv")) != NULL) {
		/* ASCII: the hospital's code and the quarter (both checked),
		 * never a person's or a hospital's name. */
		mt_req_header(req, "Content-Disposition: attachment; "
		    "filename=\"quarterly-%s-%s.csv\"", inst,
		    mt_db_text(res, 0, "quarter"));
		rc = mt_reply_raw(req, 200, "text/csv; charset=utf-8", csv,
		    strlen(csv));
	} else {
		mt_log_error("rid=%s hospital: quarterly_export gave no csv",
		    req->request_id);
		rc = mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	PQclear(res);
	return rc;
}

/* See hospital_db.h. */
int
hospital_db_submit_quarterly(struct mt_req *req, const char *inst,
    const char *quarter, long long who)
{
	char by[24];
	const char *p[QSUB__N] = {
		[QSUB_INST] = inst,
		[QSUB_QUARTER] = quarter,
		[QSUB_WHO] = by,
	};
	json_object *ok;

	snprintf(by, sizeof(by), "%lld", who);
	if (mt_db_outcome_or_reply(req, HOSPITAL_STMT_QUARTERLY_SUBMIT,
	    QSUB__N, p, "result", &ok) < 0)
		return -1;
	return mt_reply_json(req, 201, ok);
}
