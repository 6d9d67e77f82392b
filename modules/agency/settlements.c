/*
 * settlements.c -- POST /agency/settlements: the agency imports its
 * region's monthly settlement records (R-BEN-4), the renewal job's
 * evidence.  The body is the file itself, CSV (text/csv) or JSON lines
 * (application/x-ndjson), up to SETTLEMENTS_MAX_BODY (settlements.h);
 * parsing, checking and the all-or-nothing load are shared/mt_settle*.c,
 * the code `mtcertctl settlements import` runs too.
 */
#include "mt_error.h"
#include "mt_http.h"
#include "mt_settle.h"
#include "settlements.h"

/*
 * POST /agency/settlements: import the body into the caller's region.
 * 200 {rows, inserted, updated, unchanged} (the same file again: every
 * row unchanged); 415 unsupported_media_type (neither CSV nor JSON
 * lines); 422 settlements_invalid with details.errors [{line, field,
 * message}] (the first 100 by line) and details.count, nothing imported;
 * 503 database down.  (401/403/413 and Idempotency-Key: the host.)
 */
int
h_settlements(struct mt_req *req)
{
	enum mt_settle_format f;
	struct mt_settle_result r;
	json_object *refusal, *o;
	enum mt_settle_rc rc;

	if (mt_settle_format(mt_req_env(req, "CONTENT_TYPE"), &f) < 0)
		return mt_reply_err(req, MT_E_UNSUPPORTED_MEDIA_TYPE, NULL,
		    "text/csv 或 application/x-ndjson");
	rc = mt_settle_import(req->db, req->session->region, f,
	    req->body != NULL ? req->body : "", req->body_len, &r, &refusal);
	if (rc == MT_SETTLE_DOWN)
		return mt_reply_unavailable(req, "数据库");
	if (rc == MT_SETTLE_INVALID) {
		mt_reply_refusal(req, refusal);
		json_object_put(refusal);
		return -1;
	}
	o = json_object_new_object();
	json_object_object_add(o, "rows", json_object_new_int64(r.rows));
	json_object_object_add(o, "inserted",
	    json_object_new_int64(r.inserted));
	json_object_object_add(o, "updated", json_object_new_int64(r.updated));
	json_object_object_add(o, "unchanged",
	    json_object_new_int64(r.unchanged));
	return mt_reply_json(req, 200, o);
}
