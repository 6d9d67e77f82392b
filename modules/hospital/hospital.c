/*
 * hospital.c -- module `hospital`: hospitals certify (R-CER-8 ...
 * R-CER-13, R-SUP-2, R-SUP-6; S1, S2, S4).  This file wires it: the route
 * table.  The handlers live by concern:
 *
 *   onsite.c   GET  /hospital/certifications        the hospital's queue
 *                                                   (waiting) and archive
 *              POST /hospital/certifications        on-site certification
 *                                                   (onsite mode)
 *              GET  /hospital/certifications/{id}   one, with the form and
 *                                                   the images
 *   panel.c    GET  /hospital/panel-cases           the panel's queue
 *              GET  /hospital/panel-cases/{id}      one, with its materials
 *              GET  /hospital/panel-experts         who may sit on it
 *              POST /hospital/panel-decisions       panel decision (panel
 *                                                   mode) -> public notice
 *              GET  /hospital/publicity             public, no sign-in
 *              POST /hospital/publicity/{id}/objection  anyone (nginx
 *                                                   rate-limits it)
 *   reports.c  GET  /hospital/reports/quarterly     the quarterly table
 *              POST /hospital/reports/quarterly     send it to the agency
 *   hospital_db.c  every statement, behind typed functions
 *
 * /hospital/applications (hospital-assisted filing) stays with `apply`
 * (nginx: the longer prefix wins).  Every rule and change is one SQL
 * function (sql/fn/65_authorization.sql, 70_hospital.sql, 72_panel.sql,
 * 76_reports.sql); an application of another hospital is a 404.
 */
#include "mt_http.h"
#include "mt_util.h"

#include "hospital.h"

#define STAFF MT_ROLE_HOSPITAL

static const struct mt_route routes[] = {
	{ "GET", "/hospital/certifications", h_certifications, STAFF, 0,
	  f_certifications, 0 },
	{ "POST", "/hospital/certifications", h_certify, STAFF, 0,
	  f_certify, MT_R_IDEMPOTENT },
	{ "GET", "/hospital/certifications/{id}", h_certification,
	  STAFF, 0, f_certification, 0 },
	{ "GET", "/hospital/panel-cases", h_panel_cases, STAFF, 0,
	  f_panel_cases, 0 },
	{ "GET", "/hospital/panel-cases/{id}", h_panel_case, STAFF, 0,
	  f_panel_case, 0 },
	{ "GET", "/hospital/panel-experts", h_panel_experts, STAFF, 0,
	  f_panel_experts, 0 },
	{ "POST", "/hospital/panel-decisions", h_panel_decide, STAFF, 0,
	  f_panel_decide, MT_R_IDEMPOTENT },
	{ "GET", "/hospital/publicity", h_publicity, MT_ROLE_PUBLIC, 0,
	  f_publicity, 0 },
	{ "POST", "/hospital/publicity/{id}/objection", h_publicity_object,
	  MT_ROLE_PUBLIC, 0, f_publicity_object, 0 },
	{ "GET", "/hospital/reports/quarterly", h_quarterly, STAFF, 0,
	  f_quarterly, 0 },
	{ "POST", "/hospital/reports/quarterly", h_quarterly_submit, STAFF,
	  0, f_quarterly_submit, 0 },
};

const struct mt_module mt_module = {
	.name = "hospital",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = hospital_db_stmts,
	.nstmts = HOSPITAL_STMT__MAX,
};
