/*
 * submit.c -- submitting an application with the promise (R-APP-4 ...
 * R-APP-6): every rule and the change are one SQL call
 * (submit_application), whose refusals are rows of the error table.
 */
#include <string.h>

#include "mt_error.h"
#include "mt_http.h"
#include "mt_redis.h"

#include "apply.h"

/*
 * POST /applications/{id}/submit: {"promise": true}.  200 with {id,
 * status, submitted_at, expected_decision_date}; 404
 * application_not_found; 409 application_not_submittable; 422
 * promise_required, materials_missing, material_too_old,
 * institution_not_designated, already_qualified, yearly_limit_reached;
 * 503; 500.
 */
int
h_submit(struct mt_req *req)
{
	struct apply_scope sc;
	json_object *ok = NULL;

	if (strcmp(mt_req_param(req, "promise"), "true") != 0)
		return mt_reply_err(req, MT_E_PROMISE_REQUIRED, "promise");
	apply_scope_of(req, &sc);
	if (apply_db_submit(req, &sc, mt_req_param(req, "id"), &ok) < 0)
		return -1;
	/* Committed: wake the dispatcher to push it to an expert (it also
	 * finds it on its own if Redis is down). */
	mt_redis_do("LPUSH wake submit");
	return mt_reply_json(req, 200, ok);
}
