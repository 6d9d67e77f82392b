/*
 * benefit_db.h -- the benefit module's typed database functions: the
 * handlers call these and never see a statement, a parameter position or
 * a column (as review_db.h).
 *
 * Convention (_or_reply): each returns 0, or answers the request itself
 * -- 503 database down, 500 a bug, or the engine's refusal (a row of
 * shared/mt_error.c) -- and returns -1.
 */
#ifndef BENEFIT_DB_H
#define BENEFIT_DB_H

#include <json-c/json.h>

struct mt_req;

/* The statements, prepared per connection (struct mt_module.stmts). */
enum benefit_stmt {
	BENEFIT_STMT_LIST_OWN,
	BENEFIT_STMT_LIST_HOSPITAL,
	BENEFIT_STMT_LETTER,
	BENEFIT_STMT_CHANGE,
	BENEFIT_STMT_LEAVE,
	BENEFIT_STMT__MAX
};
extern const char *const benefit_db_stmts[BENEFIT_STMT__MAX];

/* Whose qualifications a list shows: exactly one of person (the insured
 * caller's own) and institution (a hospital's: designated to it). */
struct benefit_list_query {
	const char      *person;         /* NULL or the person's id */
	const char      *institution;    /* NULL or the institution code */
	const char      *status;         /* NULL: any */
	const char      *cursor;         /* NULL: first page (ids below it) */
	int              limit;
};

/* A change the caller asks for, by the caller (user, person). */
struct benefit_act {
	const char      *id;             /* the qualification */
	const char      *user;           /* the caller's user id */
	const char      *person;         /* the caller's person id */
};

/* 200 with a page of qualifications (qualification_json), newest
 * first. */
int     benefit_db_reply_list(struct mt_req *req,
            const struct benefit_list_query *q);
/* 200 with the letter of person (qualification_letter_json). */
int     benefit_db_reply_letter(struct mt_req *req, const char *person);
/* Change the designated hospital to institution (R-BEN-3,
 * change_designated_institution): 0 with the qualification into *ok
 * (caller puts), or its refusal answered -- 404 qualification_not_found,
 * 409 qualification_not_active, 422 change_limit_reached,
 * institution_not_found, institution_unchanged,
 * institution_not_designated. */
int     benefit_db_change_institution(struct mt_req *req,
            const struct benefit_act *a, const char *institution,
            json_object **ok);
/* End the qualification on the person's own wish (R-BEN-5,
 * leave_qualification), with the guardian (NULLs: none; the ID number
 * is kept sealed): 0 with the qualification into *ok (caller puts), or
 * its refusal answered -- 404 qualification_not_found, 409
 * qualification_not_active, 422 guardian_required, 503 (no keys). */
int     benefit_db_leave(struct mt_req *req, const struct benefit_act *a,
            const char *guardian_name, const char *guardian_id_number,
            json_object **ok);

#endif
