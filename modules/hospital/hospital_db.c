/*
 * hospital_db.c -- the hospital module's statements and the typed
 * functions over them (see hospital_db.h).  Each statement's parameters
 * are filled by name, its columns read by name.  Every rule and change is
 * one SQL function (sql/fn/65_authorization.sql, 70_hospital.sql,
 * 72_panel.sql, 76_reports.sql).
 */
#include <stdio.h>
#include <string.h>

#include "mt_db.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"

#include "hospital_db.h"

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
	    "  'id_number', mask_id(p.id_number)),"
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
	/* panel.c */
	/* reports.c */
	[HOSPITAL_STMT_NOW] = "SELECT now()",
};

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
