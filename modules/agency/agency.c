/*
 * agency.c -- module `agency`: supervision by the insurance agency.
 *
 *   GET /agency/policy?region=   the region's policy values with their
 *                                type, range and requirement id
 *
 * Agency staff see their own region only (another region is a 404);
 * admins name any region.
 * XXX: the rest of the agency API (queues, sampling, statistics, catalog
 * and policy changes) comes with the issues that need it.
 */
#include <string.h>

#include "mt_http.h"
#include "mt_valid.h"

enum stmt {
	STMT_POLICY,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_POLICY] =
	    "SELECT json_build_object('region', r.code, 'name', r.name,"
	    " 'policies', coalesce((SELECT json_agg(json_build_object("
	    "   'key', k.key, 'value', coalesce(p.value, k.default_value),"
	    "   'type', k.type, 'min', k.min_value, 'max', k.max_value,"
	    "   'choices', k.choices, 'default', k.default_value,"
	    "   'requirement', k.requirement, 'description', k.description,"
	    "   'updated_at', p.updated_at) ORDER BY k.key)"
	    "  FROM policy_keys k LEFT JOIN policies p"
	    "   ON p.key = k.key AND p.region = r.code), '[]'::json))::text"
	    " FROM regions r WHERE r.code = $1",
};

static int
h_policy(struct mt_req *req)
{
	const char *region = mt_req_param(req, "region");
	const char *p[1];
	PGresult *res;

	if (req->session->role == MT_ROLE_AGENCY) {
		if (region != NULL && strcmp(region, req->session->region) != 0)
			return mt_reply_error(req, 404, "region_not_found",
			    "该统筹区不存在或不在您的管辖范围", "region");
		region = req->session->region;
	} else if (region == NULL)
		return mt_reply_error(req, 400, "field_required",
		    "缺少必填项：统筹区代码", "region");
	p[0] = region;
	res = mt_db_query_or_reply(req, STMT_POLICY, 1, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mt_reply_error(req, 404, "region_not_found",
		    "该统筹区不存在", "region");
	}
	mt_req_header(req, "Cache-Control: no-store");
	mt_reply_raw(req, 200, "application/json; charset=utf-8",
	    PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return 0;
}

static const struct mt_field f_policy[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

static const struct mt_route routes[] = {
	{ "GET", "/agency/policy", h_policy, MT_ROLE_AGENCY | MT_ROLE_ADMIN,
	  0, f_policy, 0 },
};

const struct mt_module mt_module = {
	.name = "agency",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = stmts,
	.nstmts = STMT__MAX,
};
