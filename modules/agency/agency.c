/*
 * agency.c -- module `agency`: supervision by the insurance agency.
 *
 *   GET  /agency/policy?region=   the region's policy values with their
 *                                 type, range and requirement id
 *   PUT  /agency/policy           {key, value, region?}: change one value
 *   GET  /agency/experts          the region's expert pool (R-CER-1, R-CER-4)
 *   POST /agency/experts          add an expert
 *   POST /agency/experts/{id}/reinstate
 *   GET  /agency/applications?status=&overdue=   the region's queue,
 *                                 status "unassigned" for those waiting for
 *                                 an eligible expert
 *
 * Agency staff see their own region only (another region is a 404);
 * admins name any region.
 * XXX: sampling, statistics, catalog and policy changes come with the
 * issues that need them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mt_auth.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_policy.h"
#include "mt_redis.h"
#include "mt_valid.h"

enum stmt {
	STMT_POLICY,
	STMT_EXPERTS,
	STMT_EXPERT_ADD,
	STMT_EXPERT_GET,
	STMT_REINSTATE,
	STMT_QUEUE,
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
	[STMT_EXPERTS] =
	    "SELECT expert_json(e.user_id)::text FROM experts e"
	    " JOIN users u ON u.id = e.user_id"
	    " JOIN institutions i ON i.code = u.institution"
	    " WHERE ($1::text IS NULL OR i.region = $1)"
	    " AND ($2::text IS NULL OR e.status = $2)"
	    " ORDER BY e.user_id LIMIT 500",
	[STMT_EXPERT_ADD] =
	    "SELECT create_expert($1, $2, $3, $4, $5::text[], $6, $7)::text",
	[STMT_EXPERT_GET] =
	    "SELECT expert_json(e.user_id)::text FROM experts e"
	    " JOIN users u ON u.id = e.user_id"
	    " JOIN institutions i ON i.code = u.institution"
	    " WHERE e.user_id = $1 AND ($2::text IS NULL OR i.region = $2)",
	/* Back in the pool with a clean count (R-CER-4). */
	[STMT_REINSTATE] =
	    "UPDATE experts e SET status = 'active', consecutive_misses = 0,"
	    " status_changed_at = now() FROM users u, institutions i"
	    " WHERE e.user_id = $1 AND u.id = e.user_id"
	    " AND i.code = u.institution AND ($2::text IS NULL OR i.region = $2)"
	    " RETURNING e.user_id",
	[STMT_QUEUE] =
	    "SELECT json_build_object('id', a.id, 'status', CASE WHEN"
	    "  a.unassigned_since IS NOT NULL THEN 'unassigned' ELSE a.status END,"
	    " 'stage', a.stage, 'disease', json_build_object('code', d.code,"
	    "  'name', d.name),"
	    " 'applicant', json_build_object('name', p.name,"
	    "  'id_number', mask_id(p.id_number)),"
	    " 'submitted_at', a.submitted_at,"
	    " 'expected_decision_date', a.expected_decision_date,"
	    " 'overdue', a.expected_decision_date < cn_today(),"
	    " 'unassigned_since', a.unassigned_since,"
	    /* Waiting longer than the region's unassigned_notice_hours (the
	     * applicant has been told by SMS): the agency must act. */
	    " 'stuck', coalesce(a.unassigned_since <= now() - make_interval("
	    "  hours => policy_value(a.region, 'unassigned_notice_hours')::int)"
	    "  AND a.status IN ('submitted', 'in_review'), false))::text, a.id"
	    " FROM applications a JOIN persons p ON p.id = a.person_id"
	    " JOIN diseases d ON d.code = a.disease"
	    " WHERE ($1::text IS NULL OR a.region = $1)"
	    " AND CASE coalesce($2, 'open')"
	    "  WHEN 'open' THEN a.status IN ('submitted', 'in_review')"
	    "  WHEN 'unassigned' THEN a.unassigned_since IS NOT NULL"
	    "   AND a.status IN ('submitted', 'in_review')"
	    "  ELSE a.status = $2 END"
	    " AND (NOT $3::boolean OR (a.status IN ('submitted', 'in_review')"
	    "  AND a.expected_decision_date < cn_today()))"
	    " AND ($4::bigint IS NULL OR a.id < $4::bigint)"
	    " ORDER BY a.id DESC LIMIT $5::int",
};

/* The region the caller may see: an agency's own, an admin's choice
 * (NULL: all).  Returns 0, or -1 after answering 404. */
static int
region_scope_or_reply(struct mt_req *req, const char **region)
{
	const char *asked = mt_req_param(req, "region");

	if (req->session->role != MT_ROLE_AGENCY) {
		*region = asked;
		return 0;
	}
	if (asked != NULL && strcmp(asked, req->session->region) != 0)
		return mt_reply_err(req, MT_E_REGION_NOT_FOUND, "region");
	*region = req->session->region;
	return 0;
}

/* Exactly one region: an agency's own, the one an admin names (an admin
 * must name one).  Returns 0, or -1 after answering 404 or 400. */
static int
one_region_or_reply(struct mt_req *req, const char **region)
{
	if (region_scope_or_reply(req, region) < 0)
		return -1;
	if (*region == NULL)
		return mt_reply_err(req, MT_E_FIELD_REQUIRED, "region",
		    "统筹区代码");
	return 0;
}

/*
 * GET /agency/experts?region=&status=: the pool of the caller's region
 * (an admin's choice, else every region).  200 with a page of experts;
 * 404 region_not_found (an agency naming another region); 503.
 */
static int
h_experts(struct mt_req *req)
{
	const char *p[2];
	PGresult *res;

	if (region_scope_or_reply(req, &p[0]) < 0)
		return -1;
	p[1] = mt_req_param(req, "status");
	if ((res = mt_db_query_or_reply(req, STMT_EXPERTS, 2, p)) == NULL)
		return -1;
	return mt_reply_items(req, res, 500);
}

/* Wake the dispatcher: the pool changed, retry whoever waits. */
static void
wake_pool(void)
{
	redisReply *r = mt_redis_cmd("LPUSH wake pool");

	if (r != NULL)
		freeReplyObject(r);
}

/*
 * Answer status with expert uid as the agency sees it.  Returns 0, or -1
 * after answering 503, or 404 when the expert is gone meanwhile.
 */
static int
reply_expert(struct mt_req *req, int status, const char *uid)
{
	const char *p[2] = { uid, NULL };
	PGresult *res;

	if ((res = mt_db_query_or_reply(req, STMT_EXPERT_GET, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mt_reply_err(req, MT_E_EXPERT_NOT_FOUND, "id");
	}
	mt_reply_raw(req, status, "application/json; charset=utf-8",
	    PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return 0;
}

/*
 * POST /agency/experts: a new expert (R-CER-1), then the dispatcher is
 * woken.  201 with the expert; 404 region_not_found; 409 login_taken;
 * 422 institution_not_found, institution_not_certifying,
 * title_below_minimum or specialty_unknown (create_expert's refusals);
 * 503 database or password service down.
 */
static int
h_expert_add(struct mt_req *req)
{
	const char *p[7], *region;
	char hash[crypto_pwhash_STRBYTES], uid[24];
	struct mt_buf arr = {0};
	json_object *spec, *r, *v;
	PGresult *res;
	size_t i, n;

	if (region_scope_or_reply(req, &region) < 0)
		return -1;
	/* A PostgreSQL text[] literal of the names (valid_specialty: none
	 * holds a character the literal would have to quote). */
	spec = mt_req_array(req, "specialties");
	n = json_object_array_length(spec);
	mt_buf_puts(&arr, "{");
	for (i = 0; i < n; i++)
		mt_buf_printf(&arr, "%s\"%s\"", i ? "," : "",
		    json_object_get_string(json_object_array_get_idx(spec, i)));
	mt_buf_puts(&arr, "}");
	if (mt_auth_hash_password(mt_req_param(req, "password"), hash,
	    sizeof(hash)) != 0) {
		mt_buf_free(&arr);
		return mt_reply_unavailable(req, "密码服务");
	}
	p[0] = mt_req_param(req, "login");
	p[1] = hash;
	p[2] = mt_req_param(req, "institution");
	p[3] = mt_req_param(req, "title");
	p[4] = arr.data;
	p[5] = mt_req_param(req, "phone");
	p[6] = req->session->role == MT_ROLE_AGENCY ? region : NULL;
	res = mt_db_query_or_reply(req, STMT_EXPERT_ADD, 7, p);
	mt_buf_free(&arr);
	if (res == NULL)
		return -1;
	r = json_tokener_parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (json_object_object_get_ex(r, "error", &v)) {
		mt_reply_refusal(req, r);
		json_object_put(r);
		return -1;
	}
	snprintf(uid, sizeof(uid), "%s",
	    json_object_get_string(json_object_object_get(r, "id")));
	json_object_put(r);
	wake_pool();
	return reply_expert(req, 201, uid);
}

/*
 * POST /agency/experts/{id}/reinstate: back in the pool with a clean
 * count (R-CER-4).  200 with the expert; 404 expert_not_found (or not
 * in the agency's region) or region_not_found; 503.
 */
static int
h_reinstate(struct mt_req *req)
{
	const char *p[2];
	PGresult *res;

	p[0] = mt_req_param(req, "id");
	if (region_scope_or_reply(req, &p[1]) < 0)
		return -1;
	if (req->session->role != MT_ROLE_AGENCY)
		p[1] = NULL;
	if ((res = mt_db_query_or_reply(req, STMT_REINSTATE, 2, p)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mt_reply_err(req, MT_E_EXPERT_NOT_FOUND, "id");
	}
	PQclear(res);
	wake_pool();
	/* Read after the update: a function in RETURNING sees the old row. */
	return reply_expert(req, 200, p[0]);
}

/*
 * GET /agency/applications?region=&status=&overdue=&limit=&cursor=: the
 * region's queue, newest first.  200 with a page; 404 region_not_found;
 * 503.
 */
static int
h_queue(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit"), *overdue, *p[5];
	char lims[16];
	PGresult *res;
	int lim = limit != NULL ? atoi(limit) : 50;

	if (region_scope_or_reply(req, &p[0]) < 0)
		return -1;
	overdue = mt_req_param(req, "overdue");
	p[1] = mt_req_param(req, "status");
	p[2] = overdue != NULL && (strcmp(overdue, "true") == 0 ||
	    strcmp(overdue, "1") == 0) ? "true" : "false";
	p[3] = mt_req_param(req, "cursor");
	snprintf(lims, sizeof(lims), "%d", lim + 1);
	p[4] = lims;
	if ((res = mt_db_query_or_reply(req, STMT_QUEUE, 5, p)) == NULL)
		return -1;
	return mt_reply_items(req, res, lim);
}

/*
 * GET /agency/policy?region=: the region's policy values with their
 * type, range and requirement.  200 (no-store); 400 field_required (an
 * admin names no region); 404 region_not_found; 503.
 */
static int
h_policy(struct mt_req *req)
{
	const char *region, *p[1];
	PGresult *res;

	if (one_region_or_reply(req, &region) < 0)
		return -1;
	p[0] = region;
	res = mt_db_query_or_reply(req, STMT_POLICY, 1, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mt_reply_err(req, MT_E_REGION_NOT_FOUND, "region");
	}
	mt_req_header(req, "Cache-Control: no-store");
	mt_reply_raw(req, 200, "application/json; charset=utf-8",
	    PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return 0;
}

/*
 * PUT /agency/policy: change one value through set_policy (the function
 * `mtcertctl policy set` calls).  200 with the region's policies; 400
 * field_required (an admin names no region); 404 region_not_found; 422
 * policy_key_unknown or policy_value_invalid; 503 database down.
 */
static int
h_policy_set(struct mt_req *req)
{
	const char *region;
	json_object *why;
	int rc;
	char by[40];

	if (one_region_or_reply(req, &region) < 0)
		return -1;
	snprintf(by, sizeof(by), "user:%lld", req->session->user_id);
	switch (mt_policy_set(req->db, region, mt_req_param(req, "key"),
	    mt_req_param(req, "value"), by, &why)) {
	case MT_POLICY_SET_OK:
		break;
	case MT_POLICY_SET_NO_REGION:
		return mt_reply_err(req, MT_E_REGION_NOT_FOUND, "region");
	case MT_POLICY_SET_REFUSED:
		rc = mt_reply_refusal(req, why);
		json_object_put(why);
		return rc;
	default:
		return mt_reply_unavailable(req, "数据库");
	}
	/* The pool rules may have changed: let waiting ones be drawn again. */
	wake_pool();
	return h_policy(req);
}

static int
valid_policy_value(const char *s)
{
	return *s != '\0' && strpbrk(s, "\r\n\t") == NULL;
}

static const struct mt_field f_policy_set[] = {
	{ "region", MT_IN_BODY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "key", MT_IN_BODY, MT_F_STRING, mt_valid_code, 1, 63,
	  "政策参数名" },
	{ "value", MT_IN_BODY, MT_F_STRING, valid_policy_value, 1, 64,
	  "政策参数值" },
	{ NULL },
};

static const struct mt_field f_policy[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

/* Professional titles (R-CER-1), lowest first. */
static int
valid_title(const char *s)
{
	static const char *const titles[] = { "初级", "中级", "副高", "正高",
	    NULL };

	return mt_valid_one_of(s, titles);
}

static int
valid_expert_status(const char *s)
{
	static const char *const st[] = { "active", "disqualified",
	    "suspended", NULL };

	return mt_valid_one_of(s, st);
}

static int
valid_queue_status(const char *s)
{
	static const char *const st[] = { "open", "unassigned", "submitted",
	    "in_review", "approved", "rejected", "withdrawn", "returned",
	    NULL };

	return mt_valid_one_of(s, st);
}

/* A specialty name that goes into a text[] literal unquoted. */
static int
valid_specialty(const char *s)
{
	return mt_valid_name(s) && strpbrk(s, "{},\"\\ ") == NULL;
}

static int
valid_password(const char *s)
{
	return strlen(s) >= 8;
}

static const struct mt_field f_experts[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "status", MT_IN_QUERY, MT_F_STRING, valid_expert_status, 0, 16,
	  "专家状态" },
	{ NULL },
};

static const struct mt_field f_expert_add[] = {
	{ "login", MT_IN_BODY, MT_F_STRING, mt_valid_login, 1, 64, "账号" },
	{ "password", MT_IN_BODY, MT_F_STRING, valid_password, 1, 128,
	  "初始密码（至少 8 位）" },
	{ "institution", MT_IN_BODY, MT_F_STRING, mt_valid_institution_code, 1,
	  20, "所在医疗机构" },
	{ "title", MT_IN_BODY, MT_F_STRING, valid_title, 1, 4,
	  "职称（初级、中级、副高、正高）" },
	{ "phone", MT_IN_BODY, MT_F_STRING, mt_valid_phone, 0, 11,
	  "手机号码" },
	{ "specialties", MT_IN_BODY, MT_F_ARRAY, valid_specialty, 1, 16,
	  "专家的专业类别（1–16 个）" },
	{ NULL },
};

static const struct mt_field f_reinstate[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "专家编号" },
	{ NULL },
};

static const struct mt_field f_queue[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "status", MT_IN_QUERY, MT_F_STRING, valid_queue_status, 0, 16,
	  "申请状态" },
	{ "overdue", MT_IN_QUERY, MT_F_BOOL, NULL, 0, 5, "是否超期" },
	{ "limit", MT_IN_QUERY, MT_F_INT, mt_valid_page_limit, 0, 3,
	  "每页条数（1–200）" },
	{ "cursor", MT_IN_QUERY, MT_F_INT, NULL, 0, 18, "分页游标" },
	{ NULL },
};

#define AGENCY (MT_ROLE_AGENCY | MT_ROLE_ADMIN)

static const struct mt_route routes[] = {
	{ "GET", "/agency/policy", h_policy, AGENCY, 0, f_policy, 0 },
	{ "PUT", "/agency/policy", h_policy_set, AGENCY, 0, f_policy_set, 0 },
	{ "GET", "/agency/experts", h_experts, AGENCY, 0, f_experts, 0 },
	{ "POST", "/agency/experts", h_expert_add, AGENCY, 0, f_expert_add,
	  MT_R_IDEMPOTENT },
	{ "POST", "/agency/experts/{id}/reinstate", h_reinstate, AGENCY, 0,
	  f_reinstate, 0 },
	{ "GET", "/agency/applications", h_queue, AGENCY, 0, f_queue, 0 },
};

const struct mt_module mt_module = {
	.name = "agency",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = stmts,
	.nstmts = STMT__MAX,
};
