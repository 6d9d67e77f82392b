/*
 * hospital_db.c -- the hospital module's statements and the typed
 * functions over them (see hospital_db.h).  Each statement's parameters
 * are filled by name, its columns read by name.  Every rule and change is
 * one SQL function (sql/fn/65_authorization.sql, 70_hospital.sql,
 * 72_panel.sql, 76_reports.sql).
 */
#include "hospital_db.h"

const char *const hospital_db_stmts[HOSPITAL_STMT__MAX] = {
	/* onsite.c */
	/* panel.c */
	/* reports.c */
	[HOSPITAL_STMT_NOW] = "SELECT now()",
};
