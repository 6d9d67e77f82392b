/*
 * panel.c -- hospital panels and the public notice (R-CER-10, S2 二(二)).
 *
 *   GET  /hospital/panel-cases?state=waiting|publicity|done
 *                                       the panel's queue (staff)
 *   GET  /hospital/panel-cases/{id}     one case with its materials (staff)
 *   GET  /hospital/panel-experts        who may sit on the panel (staff)
 *   POST /hospital/panel-decisions      the panel decides (staff)
 *   GET  /hospital/publicity            the open notices (public)
 *   POST /hospital/publicity/{id}/objection  an objection (public; nginx
 *                                       rate-limits it, zone objection)
 *
 * Every rule and change is one SQL function of sql/fn/72_panel.sql behind
 * hospital_db.h; another hospital's application is a 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_error.h"
#include "mt_http.h"
#include "mt_valid.h"

#include "hospital.h"

#define NOTE_MAX 1000

static int
valid_case_state(const char *s)
{
	static const char *const set[] = { "waiting", "publicity", "done",
		NULL };

	return mt_valid_one_of(s, set);
}

static int
valid_conclusion(const char *s)
{
	static const char *const set[] = { "approve", "reject", NULL };

	return mt_valid_one_of(s, set);
}

const struct mt_field f_panel_cases[] = {
	{ "state", MT_IN_QUERY, MT_F_STRING, valid_case_state, 0, 16,
	  "状态（waiting、publicity、done）" },
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
	{ NULL },
};

const struct mt_field f_panel_case[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "申请编号" },
	{ NULL },
};

const struct mt_field f_panel_experts[] = {
	{ "application_id", MT_IN_QUERY, MT_F_INT, NULL, 0, 18, "申请编号" },
	{ NULL },
};

const struct mt_field f_panel_decide[] = {
	{ "application_id", MT_IN_BODY, MT_F_INT, NULL, 1, 18, "申请编号" },
	{ "members", MT_IN_BODY, MT_F_OBJECTS, NULL, 1, 15, "专家组成员" },
	{ "conclusion", MT_IN_BODY, MT_F_STRING, valid_conclusion, 1, 8,
	  "专家组结论（approve、reject）" },
	{ "opinion", MT_IN_BODY, MT_F_STRING, NULL, 0, 2000, "专家组意见" },
	{ "reason", MT_IN_BODY, MT_F_STRING, mt_valid_note, 0, 1000,
	  "不予认定的理由" },
	{ NULL },
};

const struct mt_field f_publicity[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区" },
	{ "institution", MT_IN_QUERY, MT_F_STRING, mt_valid_institution_code,
	  0, 20, "医疗机构" },
	MT_F_PAGE_LIMIT,
	MT_F_PAGE_CURSOR,
	{ NULL },
};

const struct mt_field f_publicity_object[] = {
	{ "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "公示编号" },
	{ "reason", MT_IN_BODY, MT_F_STRING, mt_valid_line, 1, 1000,
	  "异议理由" },
	{ "contact", MT_IN_BODY, MT_F_STRING, mt_valid_line, 0, 64,
	  "联系方式" },
	{ NULL },
};

/*
 * GET /hospital/panel-cases?state=&limit=&cursor=: the panel-mode
 * applications the caller's hospital certifies, newest first: waiting
 * (for the panel), publicity (on notice), done (decided, notice over).
 * 200 with a page (ID numbers masked); 503.
 */
int
h_panel_cases(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	struct hospital_panel_query q = {0};

	q.institution = req->session->institution;
	q.state = mt_req_param(req, "state");
	q.cursor = mt_req_param(req, "cursor");
	q.limit = limit != NULL ? atoi(limit) : 50;
	return hospital_db_reply_panel_cases(req, &q);
}

/*
 * GET /hospital/panel-cases/{id}: one panel case of the caller's hospital
 * (the queue's item) with the application's materials [{id, kind, name,
 * media_type, size}], read through GET /materials/{id}: what the panel
 * reviews before deciding, whoever filed the application.  The read is
 * logged in access_log.  200 (no-store); 404 application_not_found
 * (another hospital's, not panel mode, a draft); 503.
 */
int
h_panel_case(struct mt_req *req)
{
	struct hospital_staff st;
	json_object *ok;
	int rc;

	hospital_staff_of(req, &st);
	rc = hospital_db_panel_case(req, &st, mt_req_param(req, "id"), &ok);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return mt_reply_err(req, MT_E_APPLICATION_NOT_FOUND, "id");
	mt_req_header(req, "Cache-Control: no-store");
	return mt_reply_json(req, 200, ok);
}

/*
 * GET /hospital/panel-experts: the active experts of the caller's
 * hospital at the region's panel_min_title or above, with min_title and
 * min_size (panel_min_size).  200; 503.
 */
int
h_panel_experts(struct mt_req *req)
{
	return hospital_db_reply_panel_experts(req,
	    req->session->institution, mt_req_param(req, "application_id"));
}

/* 1 when member m is {expert_id: integer > 0, opinion: approve|reject,
 * note?: string of at most NOTE_MAX characters} and nothing else. */
static int
member_ok(json_object *m)
{
	json_object *v;
	const char *s;
	int n = 0;

	json_object_object_foreach(m, key, val) {
		(void)val;
		if (strcmp(key, "expert_id") != 0 &&
		    strcmp(key, "opinion") != 0 && strcmp(key, "note") != 0)
			return 0;
	}
	if (!json_object_object_get_ex(m, "expert_id", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) <= 0)
		return 0;
	if (!json_object_object_get_ex(m, "opinion", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !valid_conclusion(json_object_get_string(v)))
		return 0;
	if (!json_object_object_get_ex(m, "note", &v) ||
	    json_object_is_type(v, json_type_null))
		return 1;
	if (!json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	n = json_object_get_string_len(v);
	return (size_t)n == strlen(s) && mt_valid_utf8(s, (size_t)n) &&
	    mt_utf8_chars(s) <= NOTE_MAX;
}

/*
 * POST /hospital/panel-decisions {application_id, members: [{expert_id,
 * opinion, note?}], conclusion, opinion?, reason?}: the panel of the
 * caller's hospital decides a quota disease (R-CER-10, S2 二(二)); an
 * approval goes on public notice for publicity_working_days working
 * days, a rejection (reason required) ends the application and waits for
 * the agency's confirmation.  Honours Idempotency-Key.  201 {application_id,
 * conclusion, status, publicity}; 400 field_invalid (a member, a reason
 * blank or with control characters), field_required (reason to reject); 403 institution_not_authorized; 404
 * application_not_found; 409 not_awaiting_certification; 422
 * panel_member_invalid, panel_too_small; 503.
 */
int
h_panel_decide(struct mt_req *req)
{
	struct hospital_panel_decision d = {0};
	json_object *members = mt_req_array(req, "members"), *ok;
	char user[24];
	size_t i;

	for (i = 0; i < json_object_array_length(members); i++)
		if (!member_ok(json_object_array_get_idx(members, i)))
			return mt_reply_err(req, MT_E_FIELD_INVALID, "members",
			    "专家组成员");
	d.conclusion = mt_req_param(req, "conclusion");
	d.reason = mt_req_param(req, "reason");
	if (strcmp(d.conclusion, "reject") == 0 && d.reason == NULL)
		return mt_reply_err(req, MT_E_FIELD_REQUIRED, "reason",
		    "不予认定的理由");
	snprintf(user, sizeof(user), "%lld", req->session->user_id);
	d.application = mt_req_param(req, "application_id");
	d.user = user;
	d.institution = req->session->institution;
	d.members = mt_req_param(req, "members");
	d.opinion = mt_req_param(req, "opinion");
	if (hospital_db_panel_decide(req, &d, &ok) < 0)
		return -1;
	return mt_reply_json(req, 201, ok);
}

/*
 * GET /hospital/publicity?region=&institution=&limit=&cursor= (public,
 * no sign-in): the open notices of panel approvals, newest first; names
 * masked (王*明), no ID number.  200 with a page; 503.
 */
int
h_publicity(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	struct hospital_panel_query q = {0};

	q.region = mt_req_param(req, "region");
	q.institution = mt_req_param(req, "institution");
	q.cursor = mt_req_param(req, "cursor");
	q.limit = limit != NULL ? atoi(limit) : 50;
	return hospital_db_reply_publicity(req, &q);
}

/*
 * POST /hospital/publicity/{id}/objection {reason, contact?} (public):
 * an objection to an open notice; the notice closes and the case waits
 * for the agency.  The caller's address is kept only as a keyed hash.
 * 201 {id, received_at}; 404 publicity_not_found; 409 publicity_closed;
 * 429 (nginx); 503.
 */
int
h_publicity_object(struct mt_req *req)
{
	json_object *ok;

	if (hospital_db_object(req, mt_req_param(req, "id"),
	    mt_req_param(req, "reason"), mt_req_param(req, "contact"),
	    mt_req_env(req, "REMOTE_ADDR"), &ok) < 0)
		return -1;
	return mt_reply_json(req, 201, ok);
}
