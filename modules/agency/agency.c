/*
 * agency.c -- module `agency`: supervision by the insurance agency.
 *
 *   GET  /agency/policy?region=   the region's policy values with their
 *                                 type, range and requirement id
 *   PUT  /agency/policy           {key, value, region?}: change one value
 *   GET  /agency/experts          the region's expert pool (R-CER-1, R-CER-4)
 *   POST /agency/experts          add an expert
 *   POST /agency/experts/{id}/reinstate
 *   POST /agency/experts/{id}/suspend   {reason}: out of the pool
 *   GET  /agency/applications?status=&overdue=&confirmation=&q=
 *        &objection=              the region's applications, open and
 *                                 decided, status "unassigned" for those
 *                                 waiting for an eligible expert,
 *                                 confirmation=pending the 待确认 queue,
 *                                 q a number, ID number or phone,
 *                                 objection=open 有未结复核申请
 *   /agency/qualifications, .../terminate, /agency/region,
 *   /agency/exports/qualifications: the benefit's side (qualifications.c)
 *   GET  /agency/institutions, GET|PUT /agency/institutions/{code}/diseases:
 *                                 certification authorization (institutions.c)
 *   GET  /agency/applications/{id}, POST /agency/applications/{id}/confirm:
 *                                 one application's trail and archive, the
 *                                 confirmation of a hospital's result
 *                                 (confirm.c)
 *   GET  /agency/reports/quarterly?quarter=   which hospitals sent their
 *                                 quarterly table, which are late (reports.c)
 *   POST|GET /agency/reviews, GET /agency/reviews/{id}: the quarterly
 *                                 review, 双随机一公开 (reviews.c)
 *   GET|POST /agency/sanctions    sanctions with their effect (sanctions.c)
 *   GET  /agency/stats/experts?month=, /agency/stats/turnaround?from=&to=:
 *                                 statistics (stats.c)
 *   GET /agency/diseases, PUT /agency/diseases/{code}, GET|PUT
 *                                 /agency/calendar/{year}: the region's
 *                                 catalog and the working-day calendar
 *                                 (catalog.c)
 *   GET  /agency/objections?status=   the region's objections
 *                                 (objections.c, R-CER-12)
 *   POST|GET /agency/audits, GET /agency/audits/{id},
 *   POST /agency/audits/{id}/items/{item}/result: audit samples and their
 *                                 results (audits.c, R-SUP-1)
 *
 * Agency staff see their own region only (another region is a 404);
 * admins name any region.  The statements and their parameters and
 * columns live in agency_db.c (typed functions, agency_db.h); the
 * handlers here check scope and input and never touch libpq.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agency.h"
#include "agency_db.h"
#include "mt_auth.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_redis.h"
#include "mt_valid.h"
#include "settlements.h"

/* See agency.h. */
int
agency_region_scope_or_reply(struct mt_req *req, const char **region)
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

/* See agency.h. */
int
agency_one_region_or_reply(struct mt_req *req, const char **region)
{
	if (agency_region_scope_or_reply(req, region) < 0)
		return -1;
	if (*region == NULL)
		return mt_reply_err(req, MT_E_FIELD_REQUIRED, "region",
		    "统筹区代码");
	return 0;
}

/*
 * GET /agency/experts?region=&status=&limit=&cursor=: the pool of the
 * caller's region (an admin's choice, else every region), by id (limit
 * 1-200, default 200).  200 with a page of experts;
 * 404 region_not_found (an agency naming another region); 503.
 */
static int
h_experts(struct mt_req *req)
{
	const char *region, *limit = mt_req_param(req, "limit");

	if (agency_region_scope_or_reply(req, &region) < 0)
		return -1;
	return agency_db_reply_experts(req, region,
	    mt_req_param(req, "status"), mt_req_param(req, "cursor"),
	    limit != NULL ? atoi(limit) : 200);
}

/* Wake the dispatcher: the pool changed, retry whoever waits. */
static void
wake_pool(void)
{
	mt_redis_do("LPUSH wake pool");
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
	char hash[crypto_pwhash_STRBYTES];
	struct agency_expert_new e;
	long long id;

	/* No region field on this route: an admin's scope is NULL. */
	if (agency_region_scope_or_reply(req, &e.region) < 0)
		return -1;
	if (mt_auth_hash_password(mt_req_param(req, "password"), hash,
	    sizeof(hash)) != 0)
		return mt_reply_unavailable(req, "密码服务");
	e.login = mt_req_param(req, "login");
	e.password_hash = hash;
	e.institution = mt_req_param(req, "institution");
	e.title = mt_req_param(req, "title");
	e.specialties = mt_req_array(req, "specialties");
	e.phone = mt_req_param(req, "phone");
	if (agency_db_create_expert(req, &e, &id) < 0)
		return -1;
	wake_pool();
	return agency_db_reply_expert(req, 201, id);
}

/*
 * POST /agency/experts/{id}/reinstate: back in the pool with a clean
 * count (R-CER-4).  200 with the expert; 404 expert_not_found (or not
 * in the agency's region) or region_not_found; 409 expert_sanctioned
 * (a sanction holds the expert out until its date, R-SUP-4); 503.
 */
static int
h_reinstate(struct mt_req *req)
{
	long long id = atoll(mt_req_param(req, "id"));
	const char *region;

	/* No region field on this route: an admin's scope is NULL. */
	if (agency_region_scope_or_reply(req, &region) < 0)
		return -1;
	if (agency_db_reinstate(req, id, region) < 0)
		return -1;
	wake_pool();
	/* Read after the update: a function in RETURNING sees the old row. */
	return agency_db_reply_expert(req, 200, id);
}

/*
 * POST /agency/experts/{id}/suspend {reason}: out of the pool until
 * reinstated (R-CER-4); a disqualified expert stays disqualified, the
 * reason kept.  200 with the expert; 404 expert_not_found (or not in the
 * agency's region) or region_not_found; 503.
 */
static int
h_suspend(struct mt_req *req)
{
	long long id = atoll(mt_req_param(req, "id"));
	const char *region;

	/* No region field on this route: an admin's scope is NULL. */
	if (agency_region_scope_or_reply(req, &region) < 0)
		return -1;
	if (agency_db_suspend(req, id, region, mt_req_param(req, "reason")) < 0)
		return -1;
	return agency_db_reply_expert(req, 200, id);
}

/*
 * GET /agency/applications?region=&status=&overdue=&confirmation=&q=
 * &objection=&limit=&cursor=: the region's applications, newest first:
 * the open ones by default, status=decided|any|...; confirmation=pending
 * is the 待确认 queue of hospitals' results (R-CER-11), q an application
 * number, ID number or phone (exact) and objection=open|decided|
 * withdrawn|any those with such an objection, each in any status unless
 * one is named.  200 with a page; 400 field_invalid; 404
 * region_not_found; 503.
 */
static int
h_queue(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	const char *overdue = mt_req_param(req, "overdue");
	struct agency_queue_query q;

	if (agency_region_scope_or_reply(req, &q.region) < 0)
		return -1;
	q.status = mt_req_param(req, "status");
	q.confirmation = mt_req_param(req, "confirmation");
	q.search = mt_req_param(req, "q");
	q.objection = mt_req_param(req, "objection");
	q.overdue = overdue != NULL && (strcmp(overdue, "true") == 0 ||
	    strcmp(overdue, "1") == 0);
	q.cursor = mt_req_param(req, "cursor");
	q.limit = limit != NULL ? atoi(limit) : 50;
	return agency_db_reply_queue(req, &q);
}

/*
 * GET /agency/policy?region=: the region's policy values with their
 * type, range and requirement.  200 (no-store); 400 field_required (an
 * admin names no region); 404 region_not_found; 503.
 */
static int
h_policy(struct mt_req *req)
{
	const char *region;

	if (agency_one_region_or_reply(req, &region) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_policy(req, region);
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
	char by[40];

	if (agency_one_region_or_reply(req, &region) < 0)
		return -1;
	snprintf(by, sizeof(by), "user:%lld", req->session->user_id);
	if (agency_db_set_policy(req, region, mt_req_param(req, "key"),
	    mt_req_param(req, "value"), by) < 0)
		return -1;
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
	    "decided", "any", NULL };

	return mt_valid_one_of(s, st);
}

/* The agency's confirmation of a hospital's result (R-CER-11). */
static int
valid_confirmation(const char *s)
{
	static const char *const st[] = { "pending", "confirmed",
	    "overturned", NULL };

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
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
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

static const struct mt_field f_suspend[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "专家编号" },
	{ "reason", MT_IN_BODY, MT_F_STRING, mt_valid_note, 1, 500,
	  "暂停原因" },
	{ NULL },
};

/* What the queue's q may be: an application number (1-18 digits), an
 * ID number (17 digits and a digit or X) or a phone (11 digits). */
static int
valid_search(const char *s)
{
	size_t n = strlen(s), d = strspn(s, "0123456789");

	return n >= 1 && n <= 18 && (d == n || (n == 18 && d == 17 &&
	    s[17] == 'X'));
}

static const struct mt_field f_queue[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "status", MT_IN_QUERY, MT_F_STRING, valid_queue_status, 0, 16,
	  "申请状态" },
	{ "overdue", MT_IN_QUERY, MT_F_BOOL, NULL, 0, 5, "是否超期" },
	{ "confirmation", MT_IN_QUERY, MT_F_STRING, valid_confirmation, 0, 16,
	  "确认状态（pending 待确认、confirmed、overturned）" },
	{ "q", MT_IN_QUERY, MT_F_STRING, valid_search, 0, 18,
	  "申请编号、身份证号码或手机号码" },
	{ "objection", MT_IN_QUERY, MT_F_STRING, agency_valid_objection_state,
	  0, 9, "复核申请状态（open 有未结复核申请）" },
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
	{ NULL },
};

/* Benefits, the region's contact and the feed (qualifications.c). */
/* A hotline as regions.hotline's CHECK has it: a digit, then 4-19
 * digits or hyphens ("0971-12345", "12393"). */
static int
valid_hotline(const char *s)
{
	size_t n = strlen(s);

	return n >= 5 && n <= 20 && s[0] >= '0' && s[0] <= '9' &&
	    strspn(s, "0123456789-") == n;
}

static int
valid_feed_limit(const char *s)
{
	return mt_valid_uint(s) && atoi(s) >= 1 && atoi(s) <= 1000;
}

static const struct mt_field f_qualifications[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "status", MT_IN_QUERY, MT_F_STRING, mt_valid_qualification_status,
	  0, 16, "待遇状态" },
	{ "disease", MT_IN_QUERY, MT_F_STRING, mt_valid_disease_code, 0, 16,
	  "病种编码" },
	{ "institution", MT_IN_QUERY, MT_F_STRING, mt_valid_institution_code,
	  0, 20, "定点医疗机构" },
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
	{ NULL },
};

static const struct mt_field f_qualification_end[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "待遇资格编号" },
	{ "reason", MT_IN_BODY, MT_F_STRING, mt_valid_end_reason, 1, 16,
	  "终止原因（治愈、违规、死亡、期满、抽审未通过、其他）" },
	{ "note", MT_IN_BODY, MT_F_STRING, mt_valid_note, 1, 1000,
	  "终止说明" },
	{ "ended_on", MT_IN_BODY, MT_F_STRING, mt_valid_date, 0, 10,
	  "终止日期" },
	{ NULL },
};

static const struct mt_field f_region[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

static const struct mt_field f_region_set[] = {
	{ "region", MT_IN_BODY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "agency_name", MT_IN_BODY, MT_F_STRING, mt_valid_line, 1, 64,
	  "经办机构名称" },
	{ "hotline", MT_IN_BODY, MT_F_STRING, valid_hotline, 1, 20,
	  "咨询电话（数字和连字符，如 0971-1234567）" },
	{ "agency_address", MT_IN_BODY, MT_F_STRING, mt_valid_line, 1,
	  128, "经办机构地址" },
	{ NULL },
};

static const struct mt_field f_feed[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "since", MT_IN_QUERY, MT_F_INT, NULL, 0, 18, "上次读到的序号" },
	{ "limit", MT_IN_QUERY, MT_F_INT, valid_feed_limit, 0, 4,
	  "每次条数（1–1000）" },
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
	{ "GET", "/agency/qualifications", h_qualifications, AGENCY, 0,
	  f_qualifications, 0 },
	{ "POST", "/agency/qualifications/{id}/terminate",
	  h_qualification_end, AGENCY, 0, f_qualification_end, 0 },
	{ "GET", "/agency/region", h_region, AGENCY, 0, f_region, 0 },
	{ "PUT", "/agency/region", h_region_set, AGENCY, 0, f_region_set, 0 },
	{ "GET", "/agency/exports/qualifications", h_feed, AGENCY, 0, f_feed,
	  0 },
	{ "POST", "/agency/settlements", h_settlements, MT_ROLE_AGENCY,
	  SETTLEMENTS_MAX_BODY, NULL, MT_R_IDEMPOTENT | MT_R_RAW },
	/* Hospitals certify (issue 11): institutions.c, confirm.c,
	 * reports.c. */
	{ "GET", "/agency/institutions", h_institutions, AGENCY, 0,
	  f_institutions, 0 },
	{ "GET", "/agency/institutions/{code}/diseases", h_authorizations,
	  AGENCY, 0, f_authorizations, 0 },
	{ "PUT", "/agency/institutions/{code}/diseases", h_authorize,
	  AGENCY, 0, f_authorize, 0 },
	{ "GET", "/agency/applications/{id}", h_application, AGENCY, 0,
	  f_application, 0 },
	{ "POST", "/agency/applications/{id}/confirm", h_confirm, AGENCY, 0,
	  f_confirm, 0 },
	{ "GET", "/agency/reports/quarterly", h_quarterly_status, AGENCY, 0,
	  f_quarterly_status, 0 },
	/* The quarterly review, 双随机一公开 (issue 12 item 4): reviews.c. */
	{ "POST", "/agency/reviews", h_review_draw, AGENCY, 0, f_review_draw,
	  0 },
	{ "GET", "/agency/reviews", h_reviews, AGENCY, 0, f_reviews, 0 },
	{ "GET", "/agency/reviews/{id}", h_review, AGENCY, 0, f_review, 0 },
	/* Audit samples (issue 12, R-SUP-1): audits.c. */
	{ "POST", "/agency/audits", h_audit_new, AGENCY, 0, f_audit_new,
	  MT_R_IDEMPOTENT },
	{ "GET", "/agency/audits", h_audits, AGENCY, 0, f_audits, 0 },
	{ "GET", "/agency/audits/{id}", h_audit, AGENCY, 0, f_audit, 0 },
	{ "POST", "/agency/audits/{id}/items/{item}/result", h_audit_result,
	  AGENCY, 0, f_audit_result, 0 },
	/* The agency's catalog and the working-day calendar (issue 12
	 * item 7): catalog.c. */
	{ "GET", "/agency/diseases", h_catalog, AGENCY, 0, f_catalog, 0 },
	{ "PUT", "/agency/diseases/{code}", h_catalog_set, AGENCY, 0,
	  f_catalog_set, 0 },
	{ "GET", "/agency/calendar/{year}", h_calendar, AGENCY, 0,
	  f_calendar, 0 },
	{ "PUT", "/agency/calendar/{year}", h_calendar_set, AGENCY, 0,
	  f_calendar_set, 0 },
	/* Sanctions and the expert pool (issue 12 item 6, R-SUP-4,
	 * R-CER-4): sanctions.c, h_suspend above. */
	{ "POST", "/agency/experts/{id}/suspend", h_suspend, AGENCY, 0,
	  f_suspend, 0 },
	{ "POST", "/agency/sanctions", h_sanction_add, AGENCY, 0,
	  f_sanction_add, MT_R_IDEMPOTENT },
	{ "GET", "/agency/sanctions", h_sanctions, AGENCY, 0, f_sanctions, 0 },
	/* Statistics (issue 12, R-SUP-3): stats.c. */
	{ "GET", "/agency/stats/experts", h_stats_experts, AGENCY, 0,
	  f_stats_experts, 0 },
	{ "GET", "/agency/stats/turnaround", h_stats_turnaround, AGENCY, 0,
	  f_stats_turnaround, 0 },
	/* The list of objections (issue 12's leftover): objections.c. */
	{ "GET", "/agency/objections", h_objections, AGENCY, 0,
	  f_objections, 0 },
};

const struct mt_module mt_module = {
	.name = "agency",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = agency_db_stmts,
	.nstmts = STMT__MAX,
};
