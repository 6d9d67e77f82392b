/*
 * drafts.c -- an application from its draft to its withdrawal: create
 * (for whoever files it: filing.c, hospital.c), list, read, change and
 * withdraw (R-APP-1, R-APP-2, R-APP-9; API.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_error.h"
#include "mt_http.h"
#include "mt_redis.h"

#include "apply.h"

/*
 * The agent fields (R-APP-9) into a: all four or none, as the field
 * table (MT_REQ_GROUP) has checked.  Returns 1 given, 0 absent.
 */
static int
agent_of(const struct mt_req *req, struct apply_agent *a)
{
	a->name = mt_req_param(req, "agent.name");
	a->id_number = mt_req_param(req, "agent.id_number");
	a->relation = mt_req_param(req, "agent.relation");
	a->phone = mt_req_param(req, "agent.phone");
	return a->name != NULL;
}

/*
 * Check the disease (in region's catalog; writes its review mode, 16)
 * and the institution (known), each when given.  0, or -1 after
 * answering 422, 503 or 500.
 */
static int
check_choice_or_reply(struct mt_req *req, const char *disease,
    const char *region, const char *inst, char *mode)
{
	int rc;

	if (disease != NULL) {
		if ((rc = apply_db_disease(req, disease, region, mode)) < 0)
			return -1;
		if (rc == 0)
			return mt_reply_err(req, MT_E_DISEASE_NOT_IN_CATALOG,
			    "disease_code");
	}
	if (inst != NULL) {
		if ((rc = apply_db_institution(req, inst)) < 0)
			return -1;
		if (rc == 0)
			return mt_reply_err(req, MT_E_INSTITUTION_NOT_FOUND,
			    "designated_institution");
	}
	return 0;
}

/* See apply.h. */
int
apply_create(struct mt_req *req, struct apply_draft *d)
{
	struct apply_scope sc;
	char mode[16], id[24];

	apply_scope_of(req, &sc);
	d->disease = mt_req_param(req, "disease_code");
	d->phone = mt_req_param(req, "phone");
	d->record_no = mt_req_param(req, "medical_record_no");
	d->institution = mt_req_param(req, "designated_institution");
	if (d->agent.name == NULL)  /* else set by the caller (R-APP-9) */
		agent_of(req, &d->agent);
	if (check_choice_or_reply(req, d->disease, d->region, d->institution,
	    mode) < 0)
		return -1;
	d->review_mode = mode;
	if (apply_db_create(req, &sc, d, id) < 0)
		return -1;
	mt_req_header(req, "Location: " MT_API_PREFIX "/applications/%s", id);
	return apply_reply_view(req, &sc, id, 201);
}

/*
 * GET /applications/{id}: the progress view in the caller's scope.  200;
 * 404 application_not_found; 503; 500.
 */
int
h_get(struct mt_req *req)
{
	struct apply_scope sc;

	apply_scope_of(req, &sc);
	return apply_reply_view(req, &sc, mt_req_param(req, "id"), 200);
}

/*
 * GET /applications: the caller's applications, newest first, a page of
 * limit after cursor.  200; 503; 500.
 */
int
h_list(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit");
	struct apply_scope sc;

	apply_scope_of(req, &sc);
	return apply_db_reply_list(req, &sc, mt_req_param(req, "cursor"),
	    mt_req_param(req, "status"), limit != NULL ? atoi(limit) : 20);
}

/* The patch the request asks for into pt; "agent": null removes the
 * agent. */
static void
patch_of(const struct mt_req *req, struct apply_patch *pt)
{
	json_object *jv;

	pt->phone = mt_req_param(req, "phone");
	pt->record_no = mt_req_param(req, "medical_record_no");
	pt->institution = mt_req_param(req, "designated_institution");
	pt->set_agent = agent_of(req, &pt->agent);
	if (!pt->set_agent && req->json != NULL &&
	    json_object_object_get_ex(req->json, "agent", &jv) &&
	    json_object_is_type(jv, json_type_null))
		pt->set_agent = 1;
}

/*
 * PATCH /applications/{id}: change a draft or returned application; a new
 * hospital is checked as submit would (issue 9 A6).  200 with the
 * application; 404 application_not_found; 409 application_not_editable;
 * 422 institution_not_found, institution_not_designated; 503; 500.
 */
int
h_patch(struct mt_req *req)
{
	const char *id = mt_req_param(req, "id");
	struct apply_patch pt = { 0 };
	struct apply_scope sc;
	char mode[16];
	int rc;

	apply_scope_of(req, &sc);
	if (apply_editable_or_reply(req, &sc, id, 0) < 0)
		return -1;
	patch_of(req, &pt);
	if (check_choice_or_reply(req, NULL, NULL, pt.institution, mode) < 0)
		return -1;
	if ((rc = apply_db_patch(req, &sc, id, &pt)) <= 0)
		return rc == 0 ? apply_not_editable(req) : -1;
	return apply_reply_view(req, &sc, id, 200);
}

/*
 * After a withdrawal committed: drop the Redis timer and lease of each
 * assignment it cancelled (w: withdraw_application's result).  Best
 * effort: a timer left behind finds its assignment cancelled and does
 * nothing, and the dispatcher's rebuild arms only pushed assignments.
 */
static void
drop_cancelled(json_object *w)
{
	json_object *list, *x, *v;
	const char *region, *app;
	size_t i;

	if (!json_object_object_get_ex(w, "cancelled", &list) ||
	    !json_object_object_get_ex(w, "region", &v))
		return;
	region = json_object_get_string(v);
	app = json_object_object_get_ex(w, "id", &v) ?
	    json_object_get_string(v) : "";
	for (i = 0; i < json_object_array_length(list); i++) {
		x = json_object_array_get_idx(list, i);
		mt_redis_do("ZREM timers:{%s} %s", region,
		    json_object_get_string(json_object_object_get(x,
		    "assignment")));
		mt_redis_do("DEL lease:{%s}:%s:%s", region, app,
		    json_object_get_string(json_object_object_get(x,
		    "stage")));
	}
}

/*
 * POST /applications/{id}/withdraw: before a decision (API.md), also
 * while an expert holds it (withdraw_application cancels the live
 * assignment).  200 with the application; 404 application_not_found; 409
 * application_not_withdrawable once decided or withdrawn; 503; 500.
 */
int
h_withdraw(struct mt_req *req)
{
	const char *id = mt_req_param(req, "id");
	struct apply_scope sc;
	char status[16];
	json_object *w;
	int rc;

	apply_scope_of(req, &sc);
	if ((rc = apply_db_status(req, &sc, id, status)) <= 0)
		return rc == 0 ? apply_not_found(req) : -1;
	if ((rc = apply_db_withdraw(req, &sc, id, &w)) <= 0)
		return rc == 0 ? mt_reply_err(req,
		    MT_E_APPLICATION_NOT_WITHDRAWABLE, NULL) : -1;
	drop_cancelled(w);
	json_object_put(w);
	return apply_reply_view(req, &sc, id, 200);
}
