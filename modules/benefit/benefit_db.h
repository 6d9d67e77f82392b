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
	BENEFIT_STMT_NONE,
	BENEFIT_STMT__MAX
};
extern const char *const benefit_db_stmts[BENEFIT_STMT__MAX];

#endif
