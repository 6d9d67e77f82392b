/*
 * objection.c -- objections to a rejection and hospitals' appeals
 * (R-CER-12; S3 第九条; S2 二(二)/三): the applicant (or the hospital that
 * filed the application) asks for a re-decision within the region's
 * objection_window_days; a panel of experts drawn at random in one
 * recorded draw re-decides it and the majority is final.  Every rule and
 * the change are one SQL call (sql/fn/80_objection.sql: file_objection);
 * the dispatcher draws and pushes the panel (push_assignment), so this
 * file only files and wakes it.
 */
#include "mt_http.h"
#include "mt_redis.h"

#include "apply.h"

/*
 * POST /applications/{id}/objection {reason}: by the insured applicant
 * (or the family agent who filed) or by staff of the filing hospital (an
 * appeal).  201 with the objection {id, application_id, kind, state,
 * reason, filed_at, panel_size, deadline, decided_at}; 400 reason
 * missing or too long; 404 application_not_found (not the caller's); 409
 * application_not_rejected, application_exists (a new application of the
 * disease is open); 422 objection_window_closed, objection_already_filed
 * (the objection's result is final); 503; 500.
 */
int
h_objection(struct mt_req *req)
{
	struct apply_scope sc;
	json_object *ok = NULL;

	apply_scope_of(req, &sc);
	if (apply_db_objection(req, &sc, mt_req_param(req, "id"),
	    mt_req_param(req, "reason"), &ok) < 0)
		return -1;
	/* Committed: wake the dispatcher to draw the panel (it also finds
	 * it on its own if Redis is down). */
	mt_redis_do("LPUSH wake objection");
	return mt_reply_json(req, 201, ok);
}
