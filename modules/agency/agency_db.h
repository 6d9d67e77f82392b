/*
 * agency_db.h -- the agency module's typed database functions (STYLE.md,
 * kcgi-framework's db.c): the statements, their parameters and their
 * columns live in agency_db.c only; the handlers (agency.c) call these
 * and never see a PGresult.
 *
 * Convention (_or_reply): each function returns 0 (or what it says) or
 * answers the request itself -- 503 database down, 500 a bug, 404 when
 * the row is not there or not in scope, an SQL function's refusal through
 * the error table (mt_reply_refusal) -- and returns -1.
 */
#ifndef AGENCY_DB_H
#define AGENCY_DB_H

#include <json-c/json.h>

struct mt_req;

/* The prepared statements (agency_db_stmts, wired into mt_module). */
enum stmt {
	STMT_POLICY,
	STMT_EXPERTS,
	STMT_EXPERT_ADD,
	STMT_EXPERT_GET,
	STMT_REINSTATE,
	STMT_QUEUE,
	/* Benefits, the region's contact, the national feed
	 * (qualifications.c). */
	STMT_QUALIFICATIONS,
	STMT_QUALIFICATION_END,
	STMT_REGION,
	STMT_REGION_SET,
	STMT_FEED,
	/* Certification authorization (institutions.c). */
	STMT_INSTITUTIONS,
	STMT_AUTHORIZATIONS,
	STMT_AUTHORIZE,
	/* One application's archive, the confirmation (confirm.c). */
	STMT_APPLICATION,
	STMT_CONFIRM,
	/* The quarterly tables sent and late (reports.c). */
	STMT_QUARTERLY_STATUS,
	/* The quarterly review (reviews.c). */
	STMT_REVIEW_DRAW,
	STMT_REVIEWS,
	STMT_REVIEW,
	/* Audit samples (audits.c, issue 12). */
	STMT_AUDIT_NEW,
	STMT_AUDITS,
	STMT_AUDIT,
	STMT_AUDIT_RESULT,
	/* The agency's catalog and the calendar (catalog.c). */
	STMT_CATALOG,
	STMT_CATALOG_SET,
	STMT_CALENDAR,
	STMT_CALENDAR_SET,
	/* Sanctions and the expert pool (sanctions.c, agency.c; issue 12
	 * item 6). */
	STMT_SUSPEND,
	STMT_SANCTION_ADD,
	STMT_SANCTIONS,
	/* Statistics (stats.c, sql/fn/90_stats.sql). */
	STMT_STATS_EXPERTS,
	STMT_STATS_TURNAROUND,
	/* The objections (objections.c, sql/fn/80_objection.sql). */
	STMT_OBJECTIONS,
	STMT__MAX
};

extern const char *const agency_db_stmts[STMT__MAX];

/* A new expert as POST /agency/experts gives it (fields checked). */
struct agency_expert_new {
	const char      *login;
	const char      *password_hash;  /* Argon2id, mt_auth_hash_password */
	const char      *institution;
	const char      *title;
	json_object     *specialties;    /* array of names (borrowed) */
	const char      *phone;          /* NULL: none */
	const char      *region;         /* NULL: any (an admin) */
};

/* A page of the region's queue (GET /agency/applications). */
struct agency_queue_query {
	const char      *region;         /* NULL: every region (an admin) */
	const char      *status;         /* NULL: open (any with confirmation) */
	const char      *confirmation;   /* NULL: any; pending, ... */
	const char      *search;         /* NULL: all; else an application
					  * number, ID number or phone, exact
					  * (status any unless named) */
	const char      *objection;      /* NULL: any; else applications
					  * with an objection in that state
					  * (status any unless named) */
	int              overdue;
	const char      *cursor;         /* NULL: first page */
	int              limit;
};

/* 200 with a page of the experts of region (NULL: all) in status
 * (NULL: any): at most limit, ids above cursor (NULL: from the first),
 * next_cursor set when more follow. */
int     agency_db_reply_experts(struct mt_req *req, const char *region,
            const char *status, const char *cursor, int limit);
/* Make the expert (create_expert, R-CER-1); its user id into *id.  Its
 * refusals: 409 login_taken, 422 institution_not_found, ... */
int     agency_db_create_expert(struct mt_req *req,
            const struct agency_expert_new *e, long long *id);
/* Answer status with expert id as the agency sees it; 404
 * expert_not_found.  Callers have checked the region already. */
int     agency_db_reply_expert(struct mt_req *req, int status, long long id);
/* Put expert id of region (NULL: any) back in the pool with a clean
 * count (R-CER-4); 404 expert_not_found, 409 expert_sanctioned (an
 * active sanction holds the expert out until its date). */
int     agency_db_reinstate(struct mt_req *req, long long id,
            const char *region);
/* 200 with a page of the queue. */
int     agency_db_reply_queue(struct mt_req *req,
            const struct agency_queue_query *q);
/* 200 with the policy values of region; 404 region_not_found. */
int     agency_db_reply_policy(struct mt_req *req, const char *region);
/* Set key of region to value through set_policy (mt_policy_set), noted
 * as changed by `by`; 404 region_not_found, 422 policy_key_unknown or
 * policy_value_invalid. */
int     agency_db_set_policy(struct mt_req *req, const char *region,
            const char *key, const char *value, const char *by);

/* A page of the region's qualifications (GET /agency/qualifications). */
struct agency_qual_query {
	const char      *region;         /* NULL: every region (an admin) */
	const char      *status;         /* NULL: any */
	const char      *disease;        /* NULL: any */
	const char      *institution;    /* NULL: any */
	const char      *cursor;         /* NULL: first page */
	int              limit;
};

/* The agency ends a qualification (POST .../terminate, R-BEN-5). */
struct agency_qual_end {
	const char      *id;             /* the qualification */
	const char      *region;         /* NULL: any (an admin) */
	const char      *reason;         /* cured, violation, ... (checked) */
	const char      *note;
	const char      *ended_on;       /* NULL: today (or valid_from) */
	long long        actor;          /* the user */
	const char      *role;           /* "agency" or "admin" */
};

/* The region's contact for the portal's footer. */
struct agency_region_contact {
	const char      *region;
	const char      *agency_name;
	const char      *hotline;
	const char      *agency_address;
};

/* 200 with a page of qualifications (qualification_json), newest first. */
int     agency_db_reply_qualifications(struct mt_req *req,
            const struct agency_qual_query *q);
/* End the qualification through end_qualification and answer 200 with
 * it; 404 qualification_not_found (none, or of another region), 422
 * date_out_of_range (ended_on after today or before valid_from; only
 * valid_from when that is after today), 409 qualification_not_active. */
int     agency_db_reply_end(struct mt_req *req,
            const struct agency_qual_end *e);
/* 200 with {code, name, agency_name, hotline, agency_address} of region;
 * 404 region_not_found. */
int     agency_db_reply_region(struct mt_req *req, const char *region);
/* Replace the region's contact; 404 region_not_found. */
int     agency_db_set_region(struct mt_req *req,
            const struct agency_region_contact *c);
/* 200 with a page of the national feed (qualification_feed: numbers
 * what has committed first) of region (NULL: all) after seq since
 * (NULL: from the start), at most limit rows, each logged as exported
 * by reader. */
int     agency_db_reply_feed(struct mt_req *req, const char *region,
            const char *since, int limit, long long reader);

/* A page of hospitals (GET /agency/institutions). */
struct agency_inst_query {
	const char      *region;         /* NULL: every region (an admin) */
	const char      *certifying;     /* "true", "false" or NULL: any */
	const char      *cursor;         /* a code; NULL: first page */
	int              limit;
};

/* The agency sets a hospital's authorizations (PUT .../diseases). */
struct agency_authz_set {
	const char      *code;           /* the hospital */
	const char      *region;         /* NULL: any (an admin) */
	const char      *diseases;       /* JSON [{code, status}], checked */
	const char      *status;         /* certification_status; NULL: kept */
	const char      *reason;         /* NULL: none given */
	long long        actor;          /* the user */
};

/* 200 with a page of hospitals (institution_authz_json) by code. */
int     agency_db_reply_institutions(struct mt_req *req,
            const struct agency_inst_query *q);
/* 200 with the hospital's authorization per disease of its region's
 * catalog (authorizations_json); 404 institution_unknown (none, or of
 * another region than region, NULL: any). */
int     agency_db_reply_authorizations(struct mt_req *req, const char *code,
            const char *region);
/* Set them through set_authorizations (sql/fn/65_authorization.sql, all
 * or nothing) and answer 200 with the result; its refusals: 404
 * institution_unknown, 422 authorization_rule_failed, 400
 * field_required (reason). */
int     agency_db_set_authorizations(struct mt_req *req,
            const struct agency_authz_set *a);

/* The agency decides on a hospital's result (POST .../confirm). */
struct agency_confirm {
	const char      *id;             /* the application */
	const char      *region;         /* NULL: any (an admin) */
	const char      *decision;       /* confirm | overturn (checked) */
	const char      *reason;         /* NULL: none (required to overturn) */
	long long        actor;          /* the user */
	const char      *role;           /* "agency" or "admin" */
};

/* 200 with application id's archive (agency_application_json) if the
 * agency of region (NULL: an admin) may open it -- the person's region
 * or the certifying hospital's -- the read logged in access_log for
 * reader; 404 application_not_found otherwise. */
int     agency_db_reply_application(struct mt_req *req, const char *id,
            const char *region, long long reader);
/* Confirm or overturn through confirm_application and answer 200 with
 * the archive; 404 application_not_found (none, or of another region),
 * 409 not_awaiting_confirmation or overturn_not_allowed, 400
 * field_required (an overturn without a reason). */
int     agency_db_reply_confirm(struct mt_req *req,
            const struct agency_confirm *c);
/* 200 with the quarterly tables of region's hospitals for quarter
 * (YYYYQn, NULL: the last ended): {region, quarter, from, to, due_on,
 * ended, items[{institution, state, submitted_at, row_count,
 * submitted_late}]}; 404 region_not_found. */
int     agency_db_reply_quarterly_status(struct mt_req *req,
            const char *region, const char *quarter);

/* The quarterly review (sql/fn/88_quarterly_review.sql). */
/* Draw region's review of quarter for user actor and answer 201 with it
 * (quarterly_review_json); 404 region_not_found, 409
 * review_already_drawn, 422 review_quarter_open or review_no_experts. */
int     agency_db_draw_review(struct mt_req *req, const char *region,
            const char *quarter, long long actor);
/* 200 with {items[{id, region, quarter, drawn_at, drawn_by, counts}],
 * schedule} of region (NULL: every region, no schedule). */
int     agency_db_reply_reviews(struct mt_req *req, const char *region);
/* 200 with review id if it is region's (NULL: any); 404
 * review_not_found. */
int     agency_db_reply_review(struct mt_req *req, const char *id,
            const char *region);


/* An audit to draw (POST /agency/audits, fields checked). */
struct agency_audit_new {
	const char      *region;         /* the agency's, or the admin's */
	const char      *from;           /* YYYY-MM-DD */
	const char      *to;
	const char      *rate;           /* whole percent, 1-100 */
	long long        actor;          /* the user */
};

/* An item's result (POST /agency/audits/{id}/items/{item}/result). */
struct agency_audit_result {
	const char      *audit;
	const char      *item;
	const char      *region;         /* NULL: any (an admin) */
	const char      *result;         /* pass | fail (checked) */
	const char      *note;           /* NULL: none (required to fail) */
	long long        actor;
	const char      *role;           /* "agency" or "admin" */
};

/* Draw it through create_audit and answer 201 with the report; its
 * refusals: 400 field_invalid, 422 audit_rate_too_low,
 * audit_population_empty. */
int     agency_db_reply_audit_new(struct mt_req *req,
            const struct agency_audit_new *a);
/* 200 with a page of the audits of region (NULL: all), newest first,
 * ids below cursor (NULL: from the newest). */
int     agency_db_reply_audits(struct mt_req *req, const char *region,
            const char *cursor, int limit);
/* 200 with audit id's report if it is of region (NULL: any), the read
 * of each sampled person written to access_log for user reader; 404
 * audit_not_found otherwise. */
int     agency_db_reply_audit(struct mt_req *req, const char *id,
            const char *region, long long reader);
/* Record the result through record_audit_result and answer 200 with the
 * item; its refusals: 404 audit_item_not_found, 409 audit_item_decided,
 * 400 field_required. */
int     agency_db_reply_audit_result(struct mt_req *req,
            const struct agency_audit_result *r);


/* The agency changes its region's entry of a disease (PUT
 * /agency/diseases/{code}). */
struct agency_catalog_set {
	const char      *code;           /* the disease */
	const char      *region;         /* the region (never NULL) */
	const char      *body;           /* the checked JSON body */
	long long        actor;          /* the user */
	const char      *role;           /* "agency" or "admin" */
};

/* A year's calendar exceptions replaced (PUT /agency/calendar/{year}). */
struct agency_calendar_set {
	const char      *year;           /* 2000-2100 (checked) */
	const char      *days;           /* JSON [{day, kind, note?}] */
	long long        actor;          /* the user */
	const char      *role;           /* "agency" or "admin" */
	const char      *region;         /* the agency's; NULL: an admin */
};

/* 200 with region's catalog (agency_catalog_json); 404
 * region_not_found. */
int     agency_db_reply_catalog(struct mt_req *req, const char *region);
/* Change it through set_catalog_entry and answer 200 with the entry;
 * its refusals: 404 disease_not_found, region_not_found, 400
 * field_invalid, 422 material_kind_unknown, review_mode_no_hospital. */
int     agency_db_set_catalog(struct mt_req *req,
            const struct agency_catalog_set *c);
/* 200 with the year's exceptions (calendar_year_json). */
int     agency_db_reply_calendar(struct mt_req *req, const char *year);
/* Replace them through set_calendar_year and answer 200 with the year;
 * its refusals: 400 field_invalid, 422 calendar_day_outside_year,
 * calendar_day_pointless. */
int     agency_db_set_calendar(struct mt_req *req,
            const struct agency_calendar_set *c);


/* Sanctions and the expert pool (issue 12 item 6, R-SUP-4, R-CER-4). */

/* A sanction as POST /agency/sanctions gives it (fields checked). */
struct agency_sanction_new {
	const char      *region;         /* the one it belongs to */
	const char      *form;           /* JSON of the body's strings */
	long long        actor;          /* the user */
	const char      *role;           /* "agency" or "admin" */
};

/* A page of sanctions (GET /agency/sanctions). */
struct agency_sanction_query {
	const char      *region;         /* NULL: every region (an admin) */
	const char      *subject_type;   /* NULL: any */
	const char      *state;          /* NULL: any */
	const char      *cursor;         /* NULL: first page */
	int              limit;
};

/* Take expert id of region (NULL: any) out of the pool for reason
 * (R-CER-4); 404 expert_not_found. */
int     agency_db_suspend(struct mt_req *req, long long id,
            const char *region, const char *reason);
/* Record the sanction with its effect (record_sanction) and answer 201
 * with it; its refusals: 404 sanction_subject_not_found, 422
 * sanction_kind_invalid or date_out_of_range, 400 field_required or
 * field_invalid. */
int     agency_db_record_sanction(struct mt_req *req,
            const struct agency_sanction_new *s);
/* 200 with a page of sanctions (sanction_json), newest first. */
int     agency_db_reply_sanctions(struct mt_req *req,
            const struct agency_sanction_query *q);

/* 200 with expert_stats_json: the workload of month (YYYY-MM, NULL:
 * this one) of region's experts (NULL: all); 404 region_not_found, 422
 * date_out_of_range (a future month). */
int     agency_db_reply_stats_experts(struct mt_req *req,
            const char *region, const char *month);
/* 200 with turnaround_stats_json: region's decisions of [from, to]
 * (dates, NULL: this month up to today); 404 region_not_found, 422
 * date_out_of_range. */
int     agency_db_reply_stats_turnaround(struct mt_req *req,
            const char *region, const char *from, const char *to);

/* A page of the objections (GET /agency/objections). */
struct agency_objection_query {
	const char      *region;         /* NULL: every region */
	const char      *status;         /* NULL: any; open, decided,
					  * withdrawn */
	const char      *cursor;         /* NULL: first page */
	int              limit;
};

/* 200 with a page of q's objections, newest first (ids below cursor). */
int     agency_db_reply_objections(struct mt_req *req,
            const struct agency_objection_query *q);

#endif
