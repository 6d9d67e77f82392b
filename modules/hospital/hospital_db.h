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
	/* reports.c */
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

#endif
