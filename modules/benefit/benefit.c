/*
 * benefit.c -- module `benefit`: the qualification after the decision
 * (R-BEN-1 ... R-BEN-7).
 *
 *   GET  /qualifications?status=&limit=&cursor=   own (insured), or those
 *                                                 designated to the
 *                                                 caller's hospital
 *   GET  /qualifications/letter                   the notification letter
 *   GET  /qualifications/{id}/card                the e-card (card.c)
 *   GET  /qualifications/{id}/card/qr.svg         its QR code (card.c)
 *   POST /qualifications/{id}/designated-institution  {institution}
 *   POST /qualifications/{id}/terminate           voluntary exit {promise}
 *
 * Every rule and change is one SQL call (sql/fn/50_benefit.sql) behind
 * the typed functions of benefit_db.h; a qualification not the caller's
 * is a 404 like one that does not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_error.h"
#include "mt_http.h"
#include "mt_util.h"
#include "mt_valid.h"

#include "benefit.h"

/*
 * GET /qualifications?status=&limit=&cursor=: an insured person's own
 * qualifications, every status; hospital staff's, those designated to
 * their hospital.  Newest first (limit 1-200, default 50).  200 with a
 * page of qualifications (ID numbers masked); 503.
 */
int
h_list(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	struct benefit_list_query q = {0};
	char person[24];

	if (req->session->role == MT_ROLE_INSURED) {
		snprintf(person, sizeof(person), "%lld",
		    req->session->person_id);
		q.person = person;
	} else
		q.institution = req->session->institution;
	q.status = mt_req_param(req, "status");
	q.cursor = mt_req_param(req, "cursor");
	q.limit = limit != NULL ? atoi(limit) : 50;
	return benefit_db_reply_list(req, &q);
}

/*
 * GET /qualifications/letter: the person's notification letter (R-BEN-2):
 * the person, the region's agency, every active qualification and the
 * region's rules in plain words.  200 (no-store); 503.
 */
int
h_letter(struct mt_req *req)
{
	char person[24];

	snprintf(person, sizeof(person), "%lld", req->session->person_id);
	mt_req_header(req, "Cache-Control: no-store");
	return benefit_db_reply_letter(req, person);
}

/* The caller of a change to qualification {id}: ids as text in *ids,
 * pointed to by *a. */
struct act_ids {
	char    user[24], person[24];
};

static void
act_of(struct mt_req *req, struct act_ids *ids, struct benefit_act *a)
{
	snprintf(ids->user, sizeof(ids->user), "%lld", req->session->user_id);
	snprintf(ids->person, sizeof(ids->person), "%lld",
	    req->session->person_id);
	a->id = mt_req_param(req, "id");
	a->user = ids->user;
	a->person = ids->person;
}

/*
 * POST /qualifications/{id}/designated-institution {institution}: change
 * the designated hospital (R-BEN-3), at most designated_change_limit
 * times a calendar year; honours Idempotency-Key, so a retry is not
 * counted twice.  200 with the qualification (changes_left updated); 404
 * qualification_not_found; 409 qualification_not_active; 422
 * change_limit_reached, institution_not_found, institution_unchanged,
 * institution_not_designated; 503.
 */
int
h_change_institution(struct mt_req *req)
{
	struct benefit_act a;
	struct act_ids ids;
	json_object *ok;

	act_of(req, &ids, &a);
	if (benefit_db_change_institution(req, &a,
	    mt_req_param(req, "institution"), &ok) < 0)
		return -1;
	return mt_reply_json(req, 200, ok);
}

/*
 * POST /qualifications/{id}/terminate {promise, guardian_name?,
 * guardian_id_number?}: the person leaves the benefit from today
 * (R-BEN-5); for a psychiatric disease the guardian signs.  200 with the
 * qualification (status terminated); 404 qualification_not_found; 409
 * qualification_not_active (ended already); 422 promise_required,
 * guardian_required; 503.
 */
int
h_terminate(struct mt_req *req)
{
	struct benefit_act a;
	struct act_ids ids;
	json_object *ok;

	if (strcmp(mt_req_param(req, "promise"), "true") != 0)
		return mt_reply_err(req, MT_E_PROMISE_REQUIRED, "promise");
	act_of(req, &ids, &a);
	if (benefit_db_leave(req, &a, mt_req_param(req, "guardian_name"),
	    mt_req_param(req, "guardian_id_number"), &ok) < 0)
		return -1;
	return mt_reply_json(req, 200, ok);
}

static const struct mt_field f_list[] = {
	{ "status", MT_IN_QUERY, MT_F_STRING, mt_valid_qualification_status,
	  0, 16, "待遇状态（active、terminated、expired、revoked）" },
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
	{ NULL },
};

static const struct mt_field f_id[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "待遇资格编号" },
	{ NULL },
};

static const struct mt_field f_change[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "待遇资格编号" },
	{ "institution", MT_IN_BODY, MT_F_STRING, mt_valid_institution_code, 1,
	  20, "新的定点医院" },
	{ NULL },
};

static const struct mt_field f_terminate[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "待遇资格编号" },
	{ "promise", MT_IN_BODY, MT_F_BOOL, NULL, 1, 5, "退出承诺" },
	{ "guardian_name", MT_IN_BODY, MT_F_STRING, mt_valid_name, 0, 64,
	  "监护人姓名" },
	{ "guardian_id_number", MT_IN_BODY, MT_F_STRING, mt_valid_id_number,
	  0, 18, "监护人身份证号码" },
	{ NULL },
};

#define HOLDER MT_ROLE_INSURED

static const struct mt_route routes[] = {
	{ "GET", "/qualifications", h_list,
	  MT_ROLE_INSURED | MT_ROLE_HOSPITAL, 0, f_list, 0 },
	{ "GET", "/qualifications/letter", h_letter, HOLDER, 0, NULL, 0 },
	{ "GET", "/qualifications/{id}/card", h_card, HOLDER, 0, f_id, 0 },
	{ "GET", "/qualifications/{id}/card/qr.svg", h_card_qr, HOLDER, 0,
	  f_id, 0 },
	{ "POST", "/qualifications/{id}/designated-institution",
	  h_change_institution, HOLDER, 0, f_change, MT_R_IDEMPOTENT },
	{ "POST", "/qualifications/{id}/terminate", h_terminate, HOLDER, 0,
	  f_terminate, 0 },
};

const struct mt_module mt_module = {
	.name = "benefit",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = benefit_db_stmts,
	.nstmts = BENEFIT_STMT__MAX,
};
