/*
 * sanctions.c -- sanctions that take effect and end on their date
 * (issue 12 item 6; R-SUP-4, S2 五):
 *
 *   POST /agency/sanctions         {subject_type, subject, kind, reason,
 *                                  valid_from?, valid_to?, months?,
 *                                  severe?, amount?, institution?,
 *                                  license_no?, region?}: recorded with
 *                                  its effect, in one transaction
 *   GET  /agency/sanctions?subject_type=&state=&limit=&cursor=
 *                                  the region's sanctions, newest first
 *
 * What each kind does and how it ends: sql/fn/92_sanctions.sql
 * (record_sanction, run_sanctions).  Agency staff act in their own
 * region (another region's subject is a 404), admins name one.
 */
#include <stdlib.h>
#include <string.h>

#include "agency.h"
#include "agency_db.h"
#include "mt_auth.h"
#include "mt_http.h"
#include "mt_identity.h"
#include "mt_valid.h"

/*
 * The body fields of the route that were given, as a JSON object of
 * strings (the form record_sanction reads with ->>), a person's ID
 * number as its lookup HMAC "subject_hmac" instead (never the number:
 * shared/mt_identity.h; none for a subject longer than any).  NULL
 * after answering 503 (no keys); else the caller puts it.
 */
static json_object *
sanction_form(struct mt_req *req)
{
	json_object *f = json_object_new_object();
	const char *v, *type = mt_req_param(req, "subject_type");
	const struct mt_field *x;
	char h[MT_IDENTITY_HMAC_LEN + 1];

	for (x = req->route->fields; x->name != NULL; x++) {
		if (x->src != MT_IN_BODY || strcmp(x->name, "region") == 0 ||
		    (v = mt_req_param(req, x->name)) == NULL)
			continue;
		if (strcmp(x->name, "subject") == 0 && type != NULL &&
		    strcmp(type, "person") == 0) {
			/* Longer than any ID number: nobody's (404), not
			 * a key missing (503). */
			if (strlen(v) > MT_IDENTITY_VALUE_MAX)
				continue;
			if (mt_identity_hmac_or_reply(req,
			    MT_IDENTITY_ID_NUMBER, v, h) < 0) {
				json_object_put(f);
				return NULL;
			}
			json_object_object_add(f, "subject_hmac",
			    json_object_new_string(h));
			continue;
		}
		json_object_object_add(f, x->name, json_object_new_string(v));
	}
	return f;
}

/*
 * POST /agency/sanctions: record a sanction of the caller's region and
 * its effect (record_sanction).  201 with the sanction; 400
 * field_required / field_invalid (also an amount for another kind than
 * recover_funds, a last day for a kind without one); 404 region_not_found
 * or sanction_subject_not_found (none, or of another region); 422
 * sanction_kind_invalid (the kind is not one of the subject type's) or
 * date_out_of_range; 503.
 */
int
h_sanction_add(struct mt_req *req)
{
	struct agency_sanction_new s;
	json_object *form;
	int rc;

	if (agency_one_region_or_reply(req, &s.region) < 0)
		return -1;
	if ((form = sanction_form(req)) == NULL)
		return -1;
	s.form = json_object_to_json_string_ext(form, JSON_C_TO_STRING_PLAIN);
	s.actor = req->session->user_id;
	s.role = mt_role_name(req->session->role);
	rc = agency_db_record_sanction(req, &s);
	json_object_put(form);
	return rc;
}

/*
 * GET /agency/sanctions?region=&subject_type=&state=&limit=&cursor=: the
 * sanctions of the caller's region (an admin's choice, else all), newest
 * first (limit 1-200, default 50).  200 with a page; 404
 * region_not_found; 503.
 */
int
h_sanctions(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	struct agency_sanction_query q;

	if (agency_region_scope_or_reply(req, &q.region) < 0)
		return -1;
	q.subject_type = mt_req_param(req, "subject_type");
	q.state = mt_req_param(req, "state");
	q.cursor = mt_req_param(req, "cursor");
	q.limit = limit != NULL ? atoi(limit) : 50;
	mt_req_header(req, "Cache-Control: no-store");
	return agency_db_reply_sanctions(req, &q);
}

static int
valid_subject_type(const char *s)
{
	static const char *const st[] = { "person", "physician", "expert",
	    "institution", NULL };

	return mt_valid_one_of(s, st);
}

static int
valid_kind(const char *s)
{
	static const char *const k[] = { "stop_benefit", "recover_funds",
	    "suspend_prescription", "disqualify_expert",
	    "suspend_certification", "revoke_certification", NULL };

	return mt_valid_one_of(s, k);
}

static int
valid_state(const char *s)
{
	static const char *const st[] = { "active", "ended", NULL };

	return mt_valid_one_of(s, st);
}

/* Yuan with at most two decimals, above zero, below 10^9. */
static int
valid_amount(const char *s)
{
	static const char digits[] = "0123456789";
	size_t n = strspn(s, digits), d;

	if (n < 1 || n > 9)
		return 0;
	if (s[n] == '.') {
		d = strspn(s + n + 1, digits);
		if (d < 1 || d > 2 || s[n + 1 + d] != '\0')
			return 0;
	} else if (s[n] != '\0')
		return 0;
	return strtod(s, NULL) > 0;
}

/* 1 to 120 months (a physician's suspension is 6 or 60, S2 五(二)). */
static int
valid_months(const char *s)
{
	return mt_valid_uint(s) && atoi(s) >= 1 && atoi(s) <= 120;
}

/* A 执业证号: letters and digits. */
static int
valid_license(const char *s)
{
	return strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz") == strlen(s);
}

const struct mt_field f_sanction_add[] = {
	{ "region", MT_IN_BODY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "subject_type", MT_IN_BODY, MT_F_STRING, valid_subject_type, 1, 16,
	  "处理对象类别（person 参保人、physician 医师、expert 专家、"
	  "institution 医疗机构）" },
	{ "subject", MT_IN_BODY, MT_F_STRING, mt_valid_line, 1, 64,
	  "处理对象（参保人身份证号、专家编号、医疗机构编码或医师姓名）" },
	{ "kind", MT_IN_BODY, MT_F_STRING, valid_kind, 1, 24, "处理方式" },
	{ "reason", MT_IN_BODY, MT_F_STRING, mt_valid_note, 1, 2000,
	  "处理原因" },
	{ "valid_from", MT_IN_BODY, MT_F_STRING, mt_valid_date, 0, 10,
	  "开始日期" },
	{ "valid_to", MT_IN_BODY, MT_F_STRING, mt_valid_date, 0, 10,
	  "结束日期" },
	{ "months", MT_IN_BODY, MT_F_INT, valid_months, 0, 3,
	  "期限（1–120 个月）" },
	{ "severe", MT_IN_BODY, MT_F_BOOL, NULL, 0, 5, "是否情节严重" },
	{ "amount", MT_IN_BODY, MT_F_STRING, valid_amount, 0, 12,
	  "追回金额（元，最多两位小数）" },
	{ "institution", MT_IN_BODY, MT_F_STRING, mt_valid_institution_code,
	  0, 20, "医师所在医院" },
	{ "license_no", MT_IN_BODY, MT_F_STRING, valid_license, 0, 30,
	  "医师执业证号" },
	{ NULL },
};

const struct mt_field f_sanctions[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "subject_type", MT_IN_QUERY, MT_F_STRING, valid_subject_type, 0, 16,
	  "处理对象类别" },
	{ "state", MT_IN_QUERY, MT_F_STRING, valid_state, 0, 8,
	  "状态（active 执行中、ended 已结束）" },
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
	{ NULL },
};
