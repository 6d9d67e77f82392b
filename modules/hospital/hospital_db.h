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

#include <json-c/json.h>

struct mt_req;

/* The statements, prepared per connection (struct mt_module.stmts),
 * by handler file. */
enum hospital_stmt {
	/* onsite.c */
	HOSPITAL_STMT_CERTIFY,
	HOSPITAL_STMT_CERTIFICATIONS,
	HOSPITAL_STMT_CERTIFICATION,
	/* panel.c */
	HOSPITAL_STMT_PANEL_CASES,
	HOSPITAL_STMT_PANEL_CASE,
	HOSPITAL_STMT_PANEL_EXPERTS,
	HOSPITAL_STMT_PANEL_DECIDE,
	HOSPITAL_STMT_PUBLICITY,
	HOSPITAL_STMT_PUBLICITY_OBJECT,
	/* reports.c */
	HOSPITAL_STMT_QUARTERLY,
	HOSPITAL_STMT_QUARTERLY_CSV,
	HOSPITAL_STMT_QUARTERLY_SUBMIT,
	HOSPITAL_STMT_NOW,
	HOSPITAL_STMT__MAX
};
extern const char *const hospital_db_stmts[HOSPITAL_STMT__MAX];

/* onsite.c */

/* The caller: hospital staff user (id as text) of institution. */
struct hospital_staff {
	char             user[24];
	const char      *institution;
};

/* The certification form (S4 认定表) as sent, every member validated by
 * the host; reason NULL when absent. */
struct hospital_form {
	const char      *application_id;
	const char      *diagnosis;
	const char      *basis;
	const char      *examinations;
	const char      *physician_name;
	const char      *physician_title;
	const char      *conclusion;
	const char      *reason;
};

/* Certify on site (sql/fn/70_hospital.sql: certify_onsite): 0 with the
 * Certification into *ok (caller puts), or its refusal answered -- 403
 * institution_not_authorized; 404 application_not_found; 409
 * not_awaiting_certification; 422 materials_missing, material_too_old,
 * already_qualified, yearly_limit_reached, institution_not_designated. */
int     hospital_db_certify(struct mt_req *req,
            const struct hospital_staff *st, const struct hospital_form *f,
            json_object **ok);
/* 200 with a page of the hospital's on-site certifications: state
 * "waiting" (to certify), "done" (certified) or NULL (both), newest
 * first. */
int     hospital_db_reply_certifications(struct mt_req *req,
            const struct hospital_staff *st, const char *state,
            const char *cursor, int limit);
/* The Certification of application id in the hospital's archive, the
 * read logged in access_log: 1 with it into *ok (caller puts), 0 when it
 * is not the hospital's, -1 after answering 503/500. */
int     hospital_db_certification(struct mt_req *req,
            const struct hospital_staff *st, const char *id,
            json_object **ok);

/* panel.c */

/* A page of a list: whose (an institution or region), what, from where. */
struct hospital_panel_query {
	const char      *institution;    /* the caller's hospital, or the
	                                    ?institution= of the public list */
	const char      *region;         /* public list: NULL or a region */
	const char      *state;          /* NULL: any */
	const char      *cursor;         /* NULL: first page (ids below it) */
	int              limit;
};

/* A panel's decision (POST /hospital/panel-decisions). */
struct hospital_panel_decision {
	const char      *application;    /* the application id */
	const char      *user;           /* the caller's user id */
	const char      *institution;    /* the caller's hospital */
	const char      *members;        /* JSON array text */
	const char      *conclusion;     /* approve | reject */
	const char      *opinion;        /* NULL or text */
	const char      *reason;         /* NULL or text */
};

/* 200 with a page of the hospital's panel cases (panel_case_json). */
int     hospital_db_reply_panel_cases(struct mt_req *req,
            const struct hospital_panel_query *q);
/* The panel case application id of the caller's hospital (certified by
 * st's institution in panel mode, submitted at least) with its materials
 * (panel_case_detail_json), the read logged in access_log: 1 with it into
 * *ok (caller puts), 0 when it is no panel case of the hospital, -1 after
 * answering 503/500. */
int     hospital_db_panel_case(struct mt_req *req,
            const struct hospital_staff *st, const char *id,
            json_object **ok);
/* 200 with who may sit on the hospital's panel (panel_experts_json): for
 * application (NULL: none) when given, 404 application_not_found when it
 * is not a panel case of the hospital. */
int     hospital_db_reply_panel_experts(struct mt_req *req,
            const char *institution, const char *application);
/* Record a panel's decision (panel_decide): 0 with the outcome into *ok
 * (caller puts), or its refusal answered -- 403
 * institution_not_authorized, 404 application_not_found, 409
 * not_awaiting_certification, 422 panel_member_invalid,
 * panel_too_small. */
int     hospital_db_panel_decide(struct mt_req *req,
            const struct hospital_panel_decision *d, json_object **ok);
/* 200 with a page of the open public notices (publicity_item_json). */
int     hospital_db_reply_publicity(struct mt_req *req,
            const struct hospital_panel_query *q);
/* File an objection to notice id from address addr (object_publicity):
 * 0 with {id, received_at} into *ok (caller puts), or its refusal
 * answered -- 404 publicity_not_found, 409 publicity_closed. */
int     hospital_db_object(struct mt_req *req, const char *id,
            const char *reason, const char *contact, const char *addr,
            json_object **ok);
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
