/*
 * onsite.c -- on-site certification (R-CER-8, S1 现场确认备案, S4 医疗鉴定)
 * and its archive (R-SUP-6, S4 三): the hospital's queue, the form that
 * certifies (sql/fn/70_hospital.sql: certify_onsite) and one record with
 * its images.  A hospital sees only its own on-site applications; any
 * other is a 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_error.h"
#include "mt_http.h"
#include "mt_valid.h"

#include "hospital.h"

/* See hospital.h. */
void
hospital_staff_of(const struct mt_req *req, struct hospital_staff *st)
{
	snprintf(st->user, sizeof(st->user), "%lld", req->session->user_id);
	st->institution = req->session->institution;
}

/*
 * GET /hospital/certifications?state=waiting|done&limit=&cursor=: the
 * hospital's on-site applications waiting for its certification (filed
 * by it, or submitted to it) and those it certified, newest first; no
 * state: both.  200 with a page (ID numbers masked); 503.
 */
int
h_certifications(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	struct hospital_staff st;

	hospital_staff_of(req, &st);
	return hospital_db_reply_certifications(req, &st,
	    mt_req_param(req, "state"), mt_req_param(req, "cursor"),
	    limit != NULL ? atoi(limit) : 50);
}

/*
 * POST /hospital/certifications {application_id, diagnosis, basis,
 * examinations, physician_name, physician_title, conclusion, reason}:
 * certify on site (R-CER-8); a draft the hospital filed is submitted
 * first (every rule of submit, the promise taken at the hospital).
 * approve: the qualification from benefit_start, SMS; reject: the
 * reason, SMS; either way the agency confirms after (R-CER-11).  Honours
 * Idempotency-Key.  201 with the Certification; 400 field_required
 * (reject without a reason), field_invalid (a reason blank or with
 * control characters); 403 institution_not_authorized (the reason); 404
 * application_not_found; 409 not_awaiting_certification; 422
 * materials_missing, material_too_old, already_qualified,
 * yearly_limit_reached, institution_not_designated; 503.
 */
int
h_certify(struct mt_req *req)
{
	struct hospital_form f = {
		.application_id = mt_req_param(req, "application_id"),
		.diagnosis = mt_req_param(req, "diagnosis"),
		.basis = mt_req_param(req, "basis"),
		.examinations = mt_req_param(req, "examinations"),
		.physician_name = mt_req_param(req, "physician_name"),
		.physician_title = mt_req_param(req, "physician_title"),
		.conclusion = mt_req_param(req, "conclusion"),
		.reason = mt_req_param(req, "reason"),
	};
	struct hospital_staff st;
	json_object *ok;

	/* A reason given is some text (mt_valid_note, the field table). */
	if (strcmp(f.conclusion, "reject") == 0 && f.reason == NULL)
		return mt_reply_err(req, MT_E_FIELD_REQUIRED, "reason",
		    "不予认定的理由");
	hospital_staff_of(req, &st);
	if (hospital_db_certify(req, &st, &f, &ok) < 0)
		return -1;
	return mt_reply_json(req, 201, ok);
}

/*
 * GET /hospital/certifications/{id}: one on-site application of the
 * hospital with its form (null while it waits) and images, from the
 * electronic archive (R-SUP-6); the read is logged in access_log.  200
 * (no-store); 404 certification_not_found; 503.
 */
int
h_certification(struct mt_req *req)
{
	struct hospital_staff st;
	json_object *ok;
	int rc;

	hospital_staff_of(req, &st);
	rc = hospital_db_certification(req, &st, mt_req_param(req, "id"), &ok);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return mt_reply_err(req, MT_E_CERTIFICATION_NOT_FOUND, "id");
	mt_req_header(req, "Cache-Control: no-store");
	return mt_reply_json(req, 200, ok);
}

static int
valid_state(const char *s)
{
	static const char *const st[] = { "waiting", "done", NULL };

	return mt_valid_one_of(s, st);
}

static int
valid_conclusion(const char *s)
{
	static const char *const v[] = { "approve", "reject", NULL };

	return mt_valid_one_of(s, v);
}

/* Professional titles of the certifying physician (S4 认定表). */
static int
valid_title(const char *s)
{
	static const char *const t[] = { "初级", "中级", "副高", "正高",
	    NULL };

	return mt_valid_one_of(s, t);
}

const struct mt_field f_certifications[] = {
	{ "state", MT_IN_QUERY, MT_F_STRING, valid_state, 0, 8,
	  "认定状态（waiting 待认定、done 已认定）" },
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
	{ NULL },
};

const struct mt_field f_certify[] = {
	{ "application_id", MT_IN_BODY, MT_F_INT, NULL, 1, 18, "申请编号" },
	{ "diagnosis", MT_IN_BODY, MT_F_STRING, NULL, 1, 500, "诊断" },
	{ "basis", MT_IN_BODY, MT_F_STRING, NULL, 1, 2000, "认定依据" },
	{ "examinations", MT_IN_BODY, MT_F_STRING, NULL, 1, 2000,
	  "检查检验结果" },
	{ "physician_name", MT_IN_BODY, MT_F_STRING, mt_valid_name, 1, 32,
	  "认定医师姓名" },
	{ "physician_title", MT_IN_BODY, MT_F_STRING, valid_title, 1, 4,
	  "认定医师职称（初级、中级、副高、正高）" },
	{ "conclusion", MT_IN_BODY, MT_F_STRING, valid_conclusion, 1, 8,
	  "认定结论（approve 或 reject）" },
	{ "reason", MT_IN_BODY, MT_F_STRING, mt_valid_note, 0, 1000,
	  "不予认定的理由" },
	{ NULL },
};

const struct mt_field f_certification[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "申请编号" },
	{ NULL },
};
