/*
 * institutions.c -- which hospital may certify which disease (issue 11;
 * R-CER-8, R-CER-9, R-SUP-4, S1 二(四), S2 五(三)):
 *
 *   GET /agency/institutions?region=&certifying=&limit=&cursor=
 *                                  the region's hospitals with their rule
 *                                  inputs and how many diseases each may
 *                                  certify
 *   GET /agency/institutions/{code}/diseases
 *                                  every disease of the catalog with the
 *                                  hospital's authorization and what the
 *                                  rules allow
 *   PUT /agency/institutions/{code}/diseases
 *                                  {diseases: [{code, status}],
 *                                  certification_status?, reason?}: the
 *                                  listed entries become the hospital's
 *                                  authorizations, all or nothing
 *
 * The rules and the writing are one SQL function each
 * (sql/fn/65_authorization.sql: authorization_rule, set_authorizations);
 * agency staff act on their own region's hospitals only (another's is a
 * 404 institution_unknown), admins on any.
 */
#include <stdlib.h>
#include <string.h>

#include "agency.h"
#include "agency_db.h"
#include "mt_auth.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_valid.h"

/*
 * GET /agency/institutions?region=&certifying=&limit=&cursor=: the
 * hospitals of the caller's region (an admin's choice, else all) by code
 * (limit 1-200, default 50).  200 with a page; 404 region_not_found (an
 * agency naming another region); 503.
 */
int
h_institutions(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	struct agency_inst_query q;

	if (agency_region_scope_or_reply(req, &q.region) < 0)
		return -1;
	q.certifying = mt_req_param(req, "certifying");
	q.cursor = mt_req_param(req, "cursor");
	q.limit = limit != NULL ? atoi(limit) : 50;
	return agency_db_reply_institutions(req, &q);
}

/*
 * GET /agency/institutions/{code}/diseases: the hospital and one item per
 * disease of its region's catalog (status, rule, allowed, refusal).  200
 * (no-store); 404 institution_unknown (none, or another region's); 503.
 */
int
h_authorizations(struct mt_req *req)
{
	const char *region;

	/* No region field on this route: an admin's scope is NULL. */
	if (agency_region_scope_or_reply(req, &region) < 0)
		return -1;
	return agency_db_reply_authorizations(req, mt_req_param(req, "code"),
	    region);
}

/* 1 when two entries of the list a name the same disease. */
static int
has_duplicate(json_object *a)
{
	size_t i, j, n = json_object_array_length(a);
	json_object *x, *y;

	for (i = 0; i < n; i++) {
		json_object_object_get_ex(json_object_array_get_idx(a, i),
		    "code", &x);
		for (j = i + 1; j < n; j++) {
			json_object_object_get_ex(json_object_array_get_idx(a,
			    j), "code", &y);
			if (strcmp(json_object_get_string(x),
			    json_object_get_string(y)) == 0)
				return 1;
		}
	}
	return 0;
}

/*
 * PUT /agency/institutions/{code}/diseases {diseases, certification_status?,
 * reason?}: the listed entries are the hospital's authorizations
 * afterwards (unlisted ones revoked), each active one admitted by the
 * region's rules (R-CER-9), every change logged; certification_status
 * suspends or cancels the hospital (R-SUP-4).  200 with the GET body; 400
 * field_invalid (a malformed or repeated entry) or field_required (no
 * reason for a suspension or revocation); 404 institution_unknown; 422
 * authorization_rule_failed (the disease and the rule; nothing changed);
 * 503.
 */
int
h_authorize(struct mt_req *req)
{
	struct agency_authz_set a;

	if (agency_region_scope_or_reply(req, &a.region) < 0)
		return -1;
	if (has_duplicate(mt_req_array(req, "diseases")))
		return mt_reply_err(req, MT_E_FIELD_INVALID, "diseases",
		    "授权病种", "：同一病种只能出现一次");
	a.code = mt_req_param(req, "code");
	a.diseases = mt_req_param(req, "diseases");
	a.status = mt_req_param(req, "certification_status");
	a.reason = mt_req_param(req, "reason");
	a.actor = req->session->user_id;
	return agency_db_set_authorizations(req, &a);
}

/*
 * One entry of PUT's diseases, as JSON text: exactly {"code": a disease
 * code, "status": "active" | "suspended"}.
 */
static int
valid_authz_entry(const char *s)
{
	static const char *const st[] = { "active", "suspended", NULL };
	json_object *o = json_tokener_parse(s), *code, *status;
	int ok;

	ok = o != NULL && json_object_is_type(o, json_type_object) &&
	    json_object_object_length(o) == 2 &&
	    json_object_object_get_ex(o, "code", &code) &&
	    json_object_object_get_ex(o, "status", &status) &&
	    json_object_is_type(code, json_type_string) &&
	    json_object_is_type(status, json_type_string) &&
	    json_object_get_string_len(code) <= 16 &&
	    mt_valid_disease_code(json_object_get_string(code)) &&
	    mt_valid_one_of(json_object_get_string(status), st);
	json_object_put(o);
	return ok;
}

static int
valid_cert_status(const char *s)
{
	static const char *const st[] = { "active", "suspended", "revoked",
	    NULL };

	return mt_valid_one_of(s, st);
}

const struct mt_field f_institutions[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "certifying", MT_IN_QUERY, MT_F_BOOL, NULL, 0, 5, "是否认定机构" },
	MT_F_PAGE_LIMIT,
	MT_F_CODE_CURSOR,
	{ NULL },
};

const struct mt_field f_authorizations[] = {
	{ "code", MT_IN_PATH, MT_F_STRING, mt_valid_institution_code, 1, 20,
	  "医疗机构编码" },
	{ NULL },
};

const struct mt_field f_authorize[] = {
	{ "code", MT_IN_PATH, MT_F_STRING, mt_valid_institution_code, 1, 20,
	  "医疗机构编码" },
	{ "diseases", MT_IN_BODY, MT_F_OBJECTS, valid_authz_entry, 1, 100,
	  "授权病种（每项为病种编码 code 和状态 status：active 或 "
	  "suspended）" },
	{ "certification_status", MT_IN_BODY, MT_F_STRING, valid_cert_status,
	  0, 16, "认定资格状态（active、suspended、revoked）" },
	{ "reason", MT_IN_BODY, MT_F_STRING, mt_valid_line, 0, 500,
	  "暂停或取消的原因" },
	{ NULL },
};
