/*
 * benefit.c -- module `benefit`: the qualification after the decision
 * (R-BEN-1 ... R-BEN-7).
 *
 *   GET  /qualifications                          own (insured), designated
 *                                                 to the caller's hospital
 *   GET  /qualifications/letter                   the notification letter
 *   GET  /qualifications/{id}/card                the e-card (card.c)
 *   GET  /qualifications/{id}/card/qr.svg         its QR code (card.c)
 *   POST /qualifications/{id}/designated-institution  {institution}
 *   POST /qualifications/{id}/terminate           voluntary exit {promise}
 *
 * Every rule and change is one SQL call (sql/fn/50_benefit.sql).
 */
#include "mt_error.h"
#include "mt_http.h"
#include "mt_util.h"

#include "benefit.h"

/* GET /qualifications: 501 until built. */
int
h_list(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* GET /qualifications/letter: 501 until built. */
int
h_letter(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* POST /qualifications/{id}/designated-institution: 501 until built. */
int
h_change_institution(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

/* POST /qualifications/{id}/terminate: 501 until built. */
int
h_terminate(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_NOT_IMPLEMENTED, NULL);
}

static const struct mt_field f_id[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "待遇资格编号" },
	{ NULL },
};

#define HOLDER MT_ROLE_INSURED

static const struct mt_route routes[] = {
	{ "GET", "/qualifications", h_list,
	  MT_ROLE_INSURED | MT_ROLE_HOSPITAL, 0, NULL, 0 },
	{ "GET", "/qualifications/letter", h_letter, HOLDER, 0, NULL, 0 },
	{ "GET", "/qualifications/{id}/card", h_card, HOLDER, 0, f_id, 0 },
	{ "GET", "/qualifications/{id}/card/qr.svg", h_card_qr, HOLDER, 0,
	  f_id, 0 },
	{ "POST", "/qualifications/{id}/designated-institution",
	  h_change_institution, HOLDER, 0, f_id, 0 },
	{ "POST", "/qualifications/{id}/terminate", h_terminate, HOLDER, 0,
	  f_id, 0 },
};

const struct mt_module mt_module = {
	.name = "benefit",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = benefit_db_stmts,
	.nstmts = BENEFIT_STMT__MAX,
};
