/*
 * hospital_db.h -- the hospital module's typed database functions: the
 * handlers call these and never see a statement, a parameter position or
 * a column (as benefit_db.h).
 *
 * Convention (_or_reply): each returns 0, or answers the request itself
 * -- 503 database down, 500 a bug, or the engine's refusal (a row of
 * shared/mt_error.c) -- and returns -1.
 */
#ifndef HOSPITAL_DB_H
#define HOSPITAL_DB_H

struct mt_req;

/* The statements, prepared per connection (struct mt_module.stmts),
 * by handler file. */
enum hospital_stmt {
	/* onsite.c */
	/* panel.c */
	/* reports.c */
	HOSPITAL_STMT_QUARTERLY,
	HOSPITAL_STMT_QUARTERLY_CSV,
	HOSPITAL_STMT_QUARTERLY_SUBMIT,
	HOSPITAL_STMT_NOW,
	HOSPITAL_STMT__MAX
};
extern const char *const hospital_db_stmts[HOSPITAL_STMT__MAX];

/* reports.c: the quarterly certification table (sql/fn/76_reports.sql).
 * quarter is YYYYQn (checked) or NULL: the last quarter that has ended. */

/* 200 with the table of hospital inst for quarter as JSON; 404
 * institution_unknown (no such hospital). */
int     hospital_db_reply_quarterly(struct mt_req *req, const char *inst,
            const char *quarter);
/* 200 with the same table as CSV (text/csv, UTF-8 with BOM), an
 * attachment named quarterly-<inst>-<quarter>.csv, each row logged in
 * access_log as exported by user reader. */
int     hospital_db_reply_quarterly_csv(struct mt_req *req,
            const char *inst, const char *quarter, long long reader);
/* Send the table (submit_quarterly_report) as user who: 201 with {quarter,
 * row_count, sha256, submitted_at}; 422 quarter_not_ended, 409
 * report_already_submitted. */
int     hospital_db_submit_quarterly(struct mt_req *req, const char *inst,
            const char *quarter, long long who);

#endif
