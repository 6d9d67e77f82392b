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
	HOSPITAL_STMT_NOW,
	HOSPITAL_STMT__MAX
};
extern const char *const hospital_db_stmts[HOSPITAL_STMT__MAX];

#endif
