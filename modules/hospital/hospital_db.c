/*
 * hospital_db.c -- the hospital module's statements and the typed
 * functions over them (see hospital_db.h).  Each statement's parameters
 * are filled by name, its columns read by name.  Every rule and change is
 * one SQL function (sql/fn/65_authorization.sql, 70_hospital.sql,
 * 72_panel.sql, 76_reports.sql).
 */
#include <stdio.h>
#include <string.h>

#include "hospital_db.h"
#include "mt_db.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"

/* $n of the statements below: panel.c. */
enum { CASES_INST, CASES_STATE, CASES_CURSOR, CASES_LIMIT, CASES__N };
enum { CASE_INST, CASE_APP, CASE_USER, CASE__N };
enum { EXPERTS_INST, EXPERTS_APP, EXPERTS__N };
enum { DECIDE_APP, DECIDE_USER, DECIDE_INST, DECIDE_MEMBERS, DECIDE_CONCL,
	DECIDE_OPINION, DECIDE_REASON, DECIDE__N };
enum { PUB_REGION, PUB_INST, PUB_CURSOR, PUB_LIMIT, PUB__N };
enum { OBJ_ID, OBJ_REASON, OBJ_CONTACT, OBJ_ADDR, OBJ__N };
/* reports.c (a NULL quarter: the last ended one). */
enum { QTR_INST, QTR_QUARTER, QTR__N };
enum { QCSV_INST, QCSV_QUARTER, QCSV_READER, QCSV__N };
enum { QSUB_INST, QSUB_QUARTER, QSUB_WHO, QSUB__N };

/* onsite.c: $n of its statements. */
enum { CERTIFY_APP, CERTIFY_USER, CERTIFY_INST, CERTIFY_FORM,
	CERTIFY__N };
enum { CERTS_INST, CERTS_STATE, CERTS_CURSOR, CERTS_LIMIT, CERTS__N };
enum { CERT_INST, CERT_APP, CERT_USER, CERT__N };

/* onsite.c: an on-site application of hospital $1 (filed by it, or
 * certified by it), of alias a. */
#define ONSITE_OF \
	"a.review_mode = 'onsite'" \
	" AND (a.certifying_institution = $1 OR a.filing_institution = $1)"

const char *const hospital_db_stmts[HOSPITAL_STMT__MAX] = {
	/* onsite.c */
	[HOSPITAL_STMT_CERTIFY] =
	    "SELECT certify_onsite($1::bigint, $2::bigint, $3, $4::jsonb)::text"
	    " AS result",
	/* Waiting: not certified yet, submitted to the hospital or its own
	 * draft; done: certified here (index applications_certifying). */
	[HOSPITAL_STMT_CERTIFICATIONS] =
	    "SELECT json_build_object('application_id', a.id,"
	    " 'person', json_build_object('name', p.name,"
	    "  'id_number', shown_id(p.id_number_masked, p.id_number)),"
	    " 'disease', json_build_object('code', d.code, 'name', d.name),"
	    " 'status', a.status, 'submitted_at', a.submitted_at,"
	    " 'certified_at', c.certified_at,"
	    " 'conclusion', c.conclusion)::text AS item, a.id AS cursor"
	    " FROM applications a JOIN persons p ON p.id = a.person_id"
	    " JOIN diseases d ON d.code = a.disease"
	    " LEFT JOIN certifications c ON c.application_id = a.id"
	    " WHERE " ONSITE_OF
	    " AND (($2::text IS DISTINCT FROM 'done' AND c.application_id IS NULL"
	    "   AND ((a.status = 'submitted' AND a.certifying_institution = $1)"
	    "    OR (a.status IN ('draft', 'returned')"
	    "     AND a.filing_institution = $1)))"
	    "  OR ($2::text IS DISTINCT FROM 'waiting' AND c.institution = $1))"
	    " AND ($3::bigint IS NULL OR a.id < $3::bigint)"
	    " ORDER BY a.id DESC LIMIT $4::int",
	/* The archive (R-SUP-6): every read of a person's record is
	 * logged. */
	[HOSPITAL_STMT_CERTIFICATION] =
	    "WITH a AS (SELECT a.id, a.person_id FROM applications a"
	    "  WHERE a.id = $2::bigint AND " ONSITE_OF "),"
	    " l AS (INSERT INTO access_log (user_id, person_id, object_type,"
	    "  object_id, action) SELECT $3::bigint, a.person_id,"
	    "  'certification', a.id, 'read' FROM a)"
	    " SELECT certification_json(a.id)::text AS certification FROM a",
	/* panel.c: the hospital's panel cases, newest first (index
	 * applications_certifying) ... */
	[HOSPITAL_STMT_PANEL_CASES] =
	    "SELECT panel_case_json(a.id)::text AS item, a.id AS cursor"
	    " FROM applications a WHERE a.certifying_institution = $1"
	    " AND a.review_mode = 'panel' AND a.status <> 'draft'"
	    " AND CASE $2::text"
	    "  WHEN 'waiting' THEN a.status = 'submitted'"
	    "  WHEN 'publicity' THEN EXISTS (SELECT 1 FROM publicity pb"
	    "   WHERE pb.application_id = a.id AND pb.state = 'open')"
	    "  WHEN 'done' THEN a.status <> 'submitted' AND NOT EXISTS"
	    "   (SELECT 1 FROM publicity pb WHERE pb.application_id = a.id"
	    "   AND pb.state = 'open')"
	    "  ELSE true END"
	    " AND ($3::bigint IS NULL OR a.id < $3::bigint)"
	    " ORDER BY a.id DESC LIMIT $4::int",
	/* ... one of them with its materials, the read logged (as the
	 * archive's, HOSPITAL_STMT_CERTIFICATION) ... */
	[HOSPITAL_STMT_PANEL_CASE] =
	    "WITH a AS (SELECT a.id, a.person_id FROM applications a"
	    "  WHERE a.id = $2::bigint AND a.certifying_institution = $1"
	    "  AND a.review_mode = 'panel' AND a.status <> 'draft'),"
	    " l AS (INSERT INTO access_log (user_id, person_id, object_type,"
	    "  object_id, action) SELECT $3::bigint, a.person_id,"
	    "  'application', a.id, 'read' FROM a)"
	    " SELECT panel_case_detail_json(a.id)::text AS item FROM a",
	[HOSPITAL_STMT_PANEL_EXPERTS] =
	    "SELECT panel_experts_json($1, $2::bigint)::text AS body",
	[HOSPITAL_STMT_PANEL_DECIDE] =
	    "SELECT panel_decide($1::bigint, $2::bigint, $3, $4::jsonb, $5,"
	    " $6, $7)::text AS result",
	/* ... the open public notices, newest first (index
	 * publicity_region) ... */
	[HOSPITAL_STMT_PUBLICITY] =
	    "SELECT publicity_item_json(pb.id)::text AS item, pb.id AS cursor"
	    " FROM publicity pb WHERE pb.state = 'open'"
	    " AND ($1::text IS NULL OR pb.region = $1)"
	    " AND ($2::text IS NULL OR pb.institution = $2)"
	    " AND ($3::bigint IS NULL OR pb.id < $3::bigint)"
	    " ORDER BY pb.id DESC LIMIT $4::int",
	[HOSPITAL_STMT_PUBLICITY_OBJECT] =
	    "SELECT object_publicity($1::bigint, $2, $3, $4)::text AS result",
	/* reports.c */
	[HOSPITAL_STMT_QUARTERLY] =
	    "SELECT quarterly_report_json($1,"
	    " coalesce($2, quarter_before(cn_today())))::text AS result",
	[HOSPITAL_STMT_QUARTERLY_CSV] =
	    "SELECT quarterly_export($1, x.q, $3::bigint) AS csv,"
	    " x.q AS quarter FROM (SELECT coalesce($2,"
	    " quarter_before(cn_today())) AS q) x",
	[HOSPITAL_STMT_QUARTERLY_SUBMIT] =
	    "SELECT submit_quarterly_report($1, $2, $3::bigint)::text AS result",
	[HOSPITAL_STMT_NOW] = "SELECT now()",
};

/* See hospital_db.h. */
int
hospital_db_reply_panel_cases(struct mt_req *req,
    const struct hospital_panel_query *q)
{
	const char *p[CASES__N] = {
		[CASES_INST] = q->institution,
		[CASES_STATE] = q->state,
		[CASES_CURSOR] = q->cursor,
	};

	return mt_db_reply_page(req, HOSPITAL_STMT_PANEL_CASES, CASES__N, p,
	    CASES_LIMIT, q->limit);
}

/* See hospital_db.h. */
int
hospital_db_panel_case(struct mt_req *req, const struct hospital_staff *st,
    const char *id, json_object **ok)
{
	const char *p[CASE__N] = {
		[CASE_INST] = st->institution,
		[CASE_APP] = id,
		[CASE_USER] = st->user,
	};
	const char *text;
	PGresult *res;

	*ok = NULL;
	if ((res = mt_db_query_or_reply(req, HOSPITAL_STMT_PANEL_CASE,
	    CASE__N, p)) == NULL)
		return -1;
	if ((text = mt_db_text(res, 0, "item")) != NULL)
		*ok = json_tokener_parse(text);
	PQclear(res);
	return *ok != NULL;
}

/* See hospital_db.h. */
int
hospital_db_reply_panel_experts(struct mt_req *req, const char *institution,
    const char *application)
{
	const char *p[EXPERTS__N] = { [EXPERTS_INST] = institution,
	    [EXPERTS_APP] = application };
	const char *json;
	PGresult *res;
	int rc;

	if ((res = mt_db_query_or_reply(req, HOSPITAL_STMT_PANEL_EXPERTS,
	    EXPERTS__N, p)) == NULL)
		return -1;
	if ((json = mt_db_text(res, 0, "body")) != NULL)
		rc = mt_reply_raw(req, 200, "application/json; charset=utf-8",
		    json, strlen(json));
	else if (application != NULL)	/* Not a panel case of ours. */
		rc = mt_reply_err(req, MT_E_APPLICATION_NOT_FOUND,
		    "application_id");
	else {
		/* A hospital session's institution is a row (foreign key). */
		mt_log_error("rid=%s hospital: no institution %s",
		    req->request_id, institution);
		rc = mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	PQclear(res);
	return rc;
}

/* See hospital_db.h. */
int
hospital_db_panel_decide(struct mt_req *req,
    const struct hospital_panel_decision *d, json_object **ok)
{
	const char *p[DECIDE__N] = {
		[DECIDE_APP] = d->application,
		[DECIDE_USER] = d->user,
		[DECIDE_INST] = d->institution,
		[DECIDE_MEMBERS] = d->members,
		[DECIDE_CONCL] = d->conclusion,
		[DECIDE_OPINION] = d->opinion,
		[DECIDE_REASON] = d->reason,
	};

	return mt_db_outcome_or_reply(req, HOSPITAL_STMT_PANEL_DECIDE,
	    DECIDE__N, p, "result", ok);
}

/* See hospital_db.h. */
int
hospital_db_reply_publicity(struct mt_req *req,
    const struct hospital_panel_query *q)
{
	const char *p[PUB__N] = {
		[PUB_REGION] = q->region,
		[PUB_INST] = q->institution,
		[PUB_CURSOR] = q->cursor,
	};

	return mt_db_reply_page(req, HOSPITAL_STMT_PUBLICITY, PUB__N, p,
	    PUB_LIMIT, q->limit);
}

/* See hospital_db.h. */
int
hospital_db_object(struct mt_req *req, const char *id, const char *reason,
    const char *contact, const char *addr, json_object **ok)
{
	const char *p[OBJ__N] = {
		[OBJ_ID] = id,
		[OBJ_REASON] = reason,
		[OBJ_CONTACT] = contact,
		[OBJ_ADDR] = addr,
	};

	return mt_db_outcome_or_reply(req, HOSPITAL_STMT_PUBLICITY_OBJECT,
	    OBJ__N, p, "result", ok);
}

/* reports.c */

/* See hospital_db.h. */
int
hospital_db_reply_quarterly(struct mt_req *req, const char *inst,
    const char *quarter)
{
	const char *p[QTR__N] = {
		[QTR_INST] = inst,
		[QTR_QUARTER] = quarter,
	};
	json_object *ok;

	if (mt_db_outcome_or_reply(req, HOSPITAL_STMT_QUARTERLY, QTR__N, p,
	    "result", &ok) < 0)
		return -1;
	return mt_reply_json(req, 200, ok);
}

/* See hospital_db.h. */
int
hospital_db_reply_quarterly_csv(struct mt_req *req, const char *inst,
    const char *quarter, long long reader)
{
	char who[24];
	const char *p[QCSV__N] = {
		[QCSV_INST] = inst,
		[QCSV_QUARTER] = quarter,
		[QCSV_READER] = who,
	};
	const char *csv;
	PGresult *res;
	int rc;

	snprintf(who, sizeof(who), "%lld", reader);
	if ((res = mt_db_query_or_reply(req, HOSPITAL_STMT_QUARTERLY_CSV,
	    QCSV__N, p)) == NULL)
		return -1;
	if ((csv = mt_db_text(res, 0, "csv")) != NULL) {
		/* ASCII: the hospital's code and the quarter (both checked),
		 * never a person's or a hospital's name. */
		mt_req_header(req, "Content-Disposition: attachment; "
		    "filename=\"quarterly-%s-%s.csv\"", inst,
		    mt_db_text(res, 0, "quarter"));
		rc = mt_reply_raw(req, 200, "text/csv; charset=utf-8", csv,
		    strlen(csv));
	} else {
		mt_log_error("rid=%s hospital: quarterly_export gave no csv",
		    req->request_id);
		rc = mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	PQclear(res);
	return rc;
}

/* See hospital_db.h. */
int
hospital_db_submit_quarterly(struct mt_req *req, const char *inst,
    const char *quarter, long long who)
{
	char by[24];
	const char *p[QSUB__N] = {
		[QSUB_INST] = inst,
		[QSUB_QUARTER] = quarter,
		[QSUB_WHO] = by,
	};
	json_object *ok;

	snprintf(by, sizeof(by), "%lld", who);
	if (mt_db_outcome_or_reply(req, HOSPITAL_STMT_QUARTERLY_SUBMIT,
	    QSUB__N, p, "result", &ok) < 0)
		return -1;
	return mt_reply_json(req, 201, ok);
}

/* onsite.c */

/* Add member name = v to o when v is not NULL. */
static void
form_put(json_object *o, const char *name, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, name, json_object_new_string(v));
}

/* See hospital_db.h. */
int
hospital_db_certify(struct mt_req *req, const struct hospital_staff *st,
    const struct hospital_form *f, json_object **ok)
{
	json_object *form = json_object_new_object();
	const char *p[CERTIFY__N] = {
		[CERTIFY_APP] = f->application_id,
		[CERTIFY_USER] = st->user,
		[CERTIFY_INST] = st->institution,
	};
	int rc;

	form_put(form, "diagnosis", f->diagnosis);
	form_put(form, "basis", f->basis);
	form_put(form, "examinations", f->examinations);
	form_put(form, "physician_name", f->physician_name);
	form_put(form, "physician_title", f->physician_title);
	form_put(form, "conclusion", f->conclusion);
	form_put(form, "reason", f->reason);
	p[CERTIFY_FORM] = json_object_to_json_string_ext(form,
	    JSON_C_TO_STRING_PLAIN);
	rc = mt_db_outcome_or_reply(req, HOSPITAL_STMT_CERTIFY, CERTIFY__N, p,
	    "result", ok);
	json_object_put(form);
	return rc;
}

/* See hospital_db.h. */
int
hospital_db_reply_certifications(struct mt_req *req,
    const struct hospital_staff *st, const char *state, const char *cursor,
    int limit)
{
	const char *p[CERTS__N] = {
		[CERTS_INST] = st->institution,
		[CERTS_STATE] = state,
		[CERTS_CURSOR] = cursor,
	};

	return mt_db_reply_page(req, HOSPITAL_STMT_CERTIFICATIONS, CERTS__N,
	    p, CERTS_LIMIT, limit);
}

/* See hospital_db.h. */
int
hospital_db_certification(struct mt_req *req, const struct hospital_staff *st,
    const char *id, json_object **ok)
{
	const char *p[CERT__N] = {
		[CERT_INST] = st->institution,
		[CERT_APP] = id,
		[CERT_USER] = st->user,
	};
	const char *text;
	PGresult *res;

	*ok = NULL;
	if ((res = mt_db_query_or_reply(req, HOSPITAL_STMT_CERTIFICATION,
	    CERT__N, p)) == NULL)
		return -1;
	if ((text = mt_db_text(res, 0, "certification")) != NULL)
		*ok = json_tokener_parse(text);
	PQclear(res);
	return *ok != NULL;
}
