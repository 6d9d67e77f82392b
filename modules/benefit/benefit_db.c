/*
 * benefit_db.c -- the benefit module's statements and the typed
 * functions over them (see benefit_db.h).
 */
#include "mt_db.h"
#include "benefit_db.h"

const char *const benefit_db_stmts[BENEFIT_STMT__MAX] = {
	[BENEFIT_STMT_NONE] = "SELECT 1",
};
