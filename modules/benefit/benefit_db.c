/*
 * benefit_db.c -- the benefit module's statements and the typed
 * functions over them (see benefit_db.h).  Each statement's parameters
 * are filled by name (the enum above the table lists its $1..$n), its
 * columns read by name.  Every rule and change is one SQL function of
 * sql/fn/50_benefit.sql.
 */
#include <stdlib.h>
#include <string.h>

#include "benefit_db.h"
#include "mt_db.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_identity.h"
#include "mt_log.h"

/* $n of the statements below. */
enum { LIST_WHOSE, LIST_STATUS, LIST_CURSOR, LIST_LIMIT, LIST__N };
enum { LETTER_PERSON, LETTER__N };
enum { CHANGE_ID, CHANGE_TO, CHANGE_USER, CHANGE_PERSON, CHANGE__N };
enum { LEAVE_ID, LEAVE_USER, LEAVE_PERSON, LEAVE_GNAME, LEAVE_GID,
	LEAVE__N };

const char *const benefit_db_stmts[BENEFIT_STMT__MAX] = {
	/* Items of a page (mt_reply_items: the JSON, then the cursor), the
	 * person's own (index qualifications_person) ... */
	[BENEFIT_STMT_LIST_OWN] =
	    "SELECT qualification_json(x.id)::text AS item, x.id AS cursor"
	    " FROM qualifications x WHERE x.person_id = $1::bigint"
	    " AND ($2::text IS NULL OR x.status = $2)"
	    " AND ($3::bigint IS NULL OR x.id < $3::bigint)"
	    " ORDER BY x.id DESC LIMIT $4::int",
	/* ... or those designated to a hospital (index
	 * qualifications_institution). */
	[BENEFIT_STMT_LIST_HOSPITAL] =
	    "SELECT qualification_json(x.id)::text AS item, x.id AS cursor"
	    " FROM qualifications x WHERE x.designated_institution = $1"
	    " AND ($2::text IS NULL OR x.status = $2)"
	    " AND ($3::bigint IS NULL OR x.id < $3::bigint)"
	    " ORDER BY x.id DESC LIMIT $4::int",
	[BENEFIT_STMT_LETTER] =
	    "SELECT qualification_letter_json($1::bigint)::text AS letter",
	[BENEFIT_STMT_CHANGE] =
	    "SELECT change_designated_institution($1::bigint, $2, $3::bigint,"
	    " $4::bigint)::text AS result",
	[BENEFIT_STMT_LEAVE] =
	    "SELECT leave_qualification($1::bigint, $2::bigint, $3::bigint,"
	    " $4, $5)::text AS result",
};

/* See benefit_db.h. */
int
benefit_db_reply_list(struct mt_req *req, const struct benefit_list_query *q)
{
	const char *p[LIST__N] = {
		[LIST_WHOSE] = q->person != NULL ? q->person : q->institution,
		[LIST_STATUS] = q->status,
		[LIST_CURSOR] = q->cursor,
	};

	return mt_db_reply_page(req, q->person != NULL ?
	    BENEFIT_STMT_LIST_OWN : BENEFIT_STMT_LIST_HOSPITAL, LIST__N, p,
	    LIST_LIMIT, q->limit);
}

/* See benefit_db.h. */
int
benefit_db_reply_letter(struct mt_req *req, const char *person)
{
	const char *p[LETTER__N] = { [LETTER_PERSON] = person };
	const char *json;
	PGresult *res;
	int rc;

	if ((res = mt_db_query_or_reply(req, BENEFIT_STMT_LETTER, LETTER__N,
	    p)) == NULL)
		return -1;
	if ((json = mt_db_text(res, 0, "letter")) != NULL)
		rc = mt_reply_raw(req, 200, "application/json; charset=utf-8",
		    json, strlen(json));
	else {
		/* A session's person is a row of persons (foreign key). */
		mt_log_error("rid=%s benefit: no letter for person %s",
		    req->request_id, person);
		rc = mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	PQclear(res);
	return rc;
}

/* See benefit_db.h. */
int
benefit_db_change_institution(struct mt_req *req, const struct benefit_act *a,
    const char *institution, json_object **ok)
{
	const char *p[CHANGE__N] = {
		[CHANGE_ID] = a->id,
		[CHANGE_TO] = institution,
		[CHANGE_USER] = a->user,
		[CHANGE_PERSON] = a->person,
	};

	return mt_db_outcome_or_reply(req, BENEFIT_STMT_CHANGE, CHANGE__N, p,
	    "result", ok);
}

/* See benefit_db.h. */
int
benefit_db_leave(struct mt_req *req, const struct benefit_act *a,
    const char *guardian_name, const char *guardian_id_number,
    json_object **ok)
{
	const char *p[LEAVE__N] = {
		[LEAVE_ID] = a->id,
		[LEAVE_USER] = a->user,
		[LEAVE_PERSON] = a->person,
		[LEAVE_GNAME] = guardian_name,
	};
	char *gid;
	int rc;

	/* Kept sealed (044_identity_rest.sql). */
	if (mt_identity_seal_or_reply(req, MT_IDENTITY_ID_NUMBER,
	    guardian_id_number, &gid) < 0)
		return -1;
	p[LEAVE_GID] = gid;
	rc = mt_db_outcome_or_reply(req, BENEFIT_STMT_LEAVE, LEAVE__N, p,
	    "result", ok);
	free(gid);
	return rc;
}
