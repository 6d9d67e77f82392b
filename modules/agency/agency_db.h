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
 * count (R-CER-4); 404 expert_not_found. */
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

#endif
