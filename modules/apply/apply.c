/*
 * apply.c -- module `apply`: the applicant's path (R-APP-1 ... R-APP-9).
 *
 *   POST   /applications                        create a draft
 *   GET    /applications                        the caller's applications
 *   GET    /applications/{id}                   status, missing materials,
 *                                               materials, timeline, dates
 *   PATCH  /applications/{id}                   draft or returned only
 *   POST   /applications/{id}/materials         upload one file (multipart)
 *   DELETE /applications/{id}/materials/{mid}   draft or returned only
 *   GET    /materials/{mid}                     the file, via X-Accel-Redirect
 *   POST   /applications/{id}/submit            {promise: true}
 *   POST   /applications/{id}/withdraw          before a decision
 *   POST   /hospital/applications               hospital staff file for a
 *                                               person, with a pre-check
 *
 * Scope: every statement carries the caller's scope, so another person's
 * application or file is a 404: insured persons see their own, hospital
 * staff what their institution filed, agency staff their region, admins
 * all.  Every state change writes its event in the same statement or
 * transaction; every read of a file and every staff read of an application
 * writes access_log.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mt_files.h"
#include "mt_http.h"
#include "mt_config.h"
#include "mt_error.h"
#include "mt_log.h"
#include "mt_multipart.h"
#include "mt_redis.h"
#include "mt_util.h"
#include "mt_valid.h"

/*
 * The caller's scope as a condition on applications alias a, with the
 * role, person id, institution and region as parameters $2..$5.
 */
#define SCOPE \
	"(($2 = 'insured' AND a.person_id = $3::bigint)" \
	" OR ($2 = 'hospital' AND a.filing_institution = $4)" \
	" OR ($2 = 'agency' AND a.region = $5) OR $2 = 'admin')"

#define EDITABLE "('draft', 'returned')"

enum stmt {
	STMT_DISEASE,
	STMT_INSTITUTION,
	STMT_PERSON,
	STMT_PERSON_BY_NUMBER,
	STMT_CREATE,
	STMT_PRECHECK,
	STMT_REFUSAL,
	STMT_DETAIL,
	STMT_DETAIL_LOGGED,
	STMT_LIST,
	STMT_OWNED,
	STMT_PATCH,
	STMT_WITHDRAW,
	STMT_MATERIAL_RULES,
	STMT_MATERIAL_ADD,
	STMT_MATERIAL_DELETE,
	STMT_MATERIAL_FILE,
	STMT_SUBMIT,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_DISEASE] =
	    "SELECT coalesce(rd.review_mode, d.review_mode) FROM diseases d"
	    " JOIN region_diseases rd ON rd.disease = d.code AND rd.region = $2"
	    " WHERE d.code = $1",
	[STMT_INSTITUTION] = "SELECT 1 FROM institutions WHERE code = $1",
	[STMT_PERSON] = "SELECT id, region FROM persons WHERE id = $1",
	[STMT_PERSON_BY_NUMBER] =
	    "SELECT id, region FROM persons WHERE id_number = $1 AND name = $2",
	[STMT_CREATE] =
	    "WITH a AS (INSERT INTO applications (person_id, disease, region,"
	    "  channel, review_mode, phone, medical_record_no,"
	    "  designated_institution, filing_institution, filed_by,"
	    "  agent_name, agent_id_number, agent_relation, agent_phone)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
	    "  $14) RETURNING id),"
	    " e AS (INSERT INTO events (application_id, type, actor_user,"
	    "  actor_role) SELECT id, $15, $10, $16 FROM a)"
	    " SELECT id FROM a",
	/* R-APP-7: the rules run at filing; the event rebuilds the view. */
	[STMT_PRECHECK] =
	    "WITH u AS (UPDATE applications SET precheck = jsonb_build_object("
	    " 'missing_materials', missing_materials(id),"
	    " 'refusal', submission_refusal(id),"
	    " 'at', now()) WHERE id = $1 RETURNING id)"
	    " INSERT INTO events (application_id, type, actor_user, actor_role)"
	    " SELECT id, 'prechecked', $2, 'hospital' FROM u",
	/* sql/002: NULL, or the refusal submit would give. */
	[STMT_REFUSAL] = "SELECT submission_refusal($1::bigint)::text",
	/* The ready view (sql/002: application_view); staff reads are
	 * logged. */
	[STMT_DETAIL] =
	    "SELECT v.view FROM applications a JOIN application_views v"
	    " ON v.application_id = a.id WHERE a.id = $1 AND " SCOPE,
	[STMT_DETAIL_LOGGED] =
	    "WITH a AS (SELECT a.id, a.person_id, v.view FROM applications a"
	    "  JOIN application_views v ON v.application_id = a.id"
	    "  WHERE a.id = $1 AND " SCOPE "),"
	    " l AS (INSERT INTO access_log (user_id, person_id, object_type,"
	    "  object_id, action) SELECT $6, a.person_id, 'application', a.id,"
	    "  'read' FROM a)"
	    " SELECT view FROM a",
	[STMT_LIST] =
	    "SELECT json_build_object('id', a.id, 'status', a.status,"
	    " 'channel', a.channel,"
	    " 'disease', json_build_object('code', d.code, 'name', d.name),"
	    " 'applicant', json_build_object('name', p.name,"
	    "   'id_number', mask_id(p.id_number)),"
	    " 'phone', mask_phone(a.phone),"
	    " 'designated_institution', a.designated_institution,"
	    " 'created_at', a.created_at, 'submitted_at', a.submitted_at,"
	    " 'waiting_for_expert', waiting_for_expert(a.status,"
	    "  a.unassigned_since))::text, a.id"
	    " FROM applications a JOIN persons p ON p.id = a.person_id"
	    " JOIN diseases d ON d.code = a.disease"
	    " WHERE " SCOPE
	    " AND ($1::bigint IS NULL OR a.id < $1::bigint)"
	    " AND ($6::text IS NULL OR a.status = $6)"
	    " ORDER BY a.id DESC LIMIT $7::int",
	[STMT_OWNED] =
	    "SELECT a.status FROM applications a WHERE a.id = $1 AND " SCOPE,
	[STMT_PATCH] =
	    "WITH a AS (UPDATE applications SET"
	    " phone = coalesce($2, phone),"
	    " medical_record_no = coalesce($3, medical_record_no),"
	    " designated_institution = coalesce($4, designated_institution),"
	    " agent_name = CASE WHEN $5 THEN $6 ELSE agent_name END,"
	    " agent_id_number = CASE WHEN $5 THEN $7 ELSE agent_id_number END,"
	    " agent_relation = CASE WHEN $5 THEN $8 ELSE agent_relation END,"
	    " agent_phone = CASE WHEN $5 THEN $9 ELSE agent_phone END,"
	    " updated_at = now()"
	    " WHERE id = $1 AND status IN " EDITABLE " RETURNING id),"
	    " e AS (INSERT INTO events (application_id, type, actor_user,"
	    "  actor_role) SELECT id, 'updated', $10, $11 FROM a)"
	    " SELECT id FROM a",
	[STMT_WITHDRAW] = "SELECT withdraw_application($1, $2, $3)::text",
	[STMT_MATERIAL_RULES] =
	    "SELECT dm.kind IS NOT NULL, coalesce(mk.name, ''),"
	    " coalesce(dm.max_age_days,"
	    "  policy_value(a.region, 'material_max_age_days')::int),"
	    " policy_value(a.region, 'material_max_bytes')::bigint,"
	    " policy_value(a.region, 'application_max_bytes')::bigint,"
	    " (SELECT coalesce(sum(size_bytes), 0) FROM materials m"
	    "  WHERE m.application_id = a.id AND m.deleted_at IS NULL),"
	    " cn_today() - $3::date"
	    " FROM applications a"
	    " LEFT JOIN disease_materials dm ON dm.disease = a.disease"
	    "  AND dm.kind = $2"
	    " LEFT JOIN material_kinds mk ON mk.code = $2"
	    " WHERE a.id = $1",
	[STMT_MATERIAL_ADD] =
	    "WITH m AS (INSERT INTO materials (application_id, kind, issued_on,"
	    "  issuer, sha256, size_bytes, media_type, uploaded_by)"
	    "  SELECT $1, $2, $3::date, $4, $5, $6::bigint, $7, $8"
	    "  FROM applications WHERE id = $1 AND status IN " EDITABLE
	    "  RETURNING id, created_at),"
	    " e AS (INSERT INTO events (application_id, type, actor_user,"
	    "  actor_role, data) SELECT $1, 'material_added', $8, $9,"
	    "  jsonb_build_object('material_id', m.id, 'kind', $2::text,"
	    "  'kind_name', $10::text) FROM m)"
	    " SELECT json_build_object('id', id, 'kind', $2::text,"
	    " 'name', $10::text, 'issued_on', $3::date, 'issuer', $4::text,"
	    " 'media_type', $7::text, 'size', $6::bigint,"
	    " 'uploaded_at', created_at)::text FROM m",
	[STMT_MATERIAL_DELETE] =
	    "WITH m AS (UPDATE materials SET deleted_at = now()"
	    "  WHERE id = $2 AND application_id = $1 AND deleted_at IS NULL"
	    "  AND EXISTS (SELECT 1 FROM applications WHERE id = $1"
	    "   AND status IN " EDITABLE ") RETURNING id, kind),"
	    " e AS (INSERT INTO events (application_id, type, actor_user,"
	    "  actor_role, data) SELECT $1, 'material_removed', $3, $4,"
	    "  jsonb_build_object('material_id', m.id, 'kind', m.kind,"
	    "  'kind_name', k.name) FROM m JOIN material_kinds k"
	    "  ON k.code = m.kind)"
	    " SELECT id FROM m",
	[STMT_MATERIAL_FILE] =
	    "WITH f AS (SELECT m.id, m.sha256, m.media_type, a.person_id"
	    "  FROM materials m JOIN applications a ON a.id = m.application_id"
	    "  WHERE m.id = $1 AND m.deleted_at IS NULL AND (" SCOPE
	    /* An expert holding an accepted task of the application. */
	    "  OR ($2 = 'expert' AND EXISTS (SELECT 1 FROM assignments x"
	    "   WHERE x.application_id = a.id AND x.expert_id = $6::bigint"
	    "   AND x.state IN ('accepted', 'decided'))))),"
	    " l AS (INSERT INTO access_log (user_id, person_id, object_type,"
	    "  object_id, action) SELECT $6, person_id, 'material', id,"
	    "  'download' FROM f)"
	    " SELECT sha256, media_type FROM f",
	/* Every rule and the change in one call (sql/002:
	 * submit_application). */
	[STMT_SUBMIT] =
	    "SELECT submit_application($1, $2, $3, $4::bigint, $5, $6)::text",
};

/* The caller's scope as the parameters $2..$5 (and $6 the user id). */
struct scope {
	const char *role;
	char        person[24];
	const char *institution;
	const char *region;
	char        user[24];
};

static void
scope_of(const struct mt_req *req, struct scope *sc)
{
	const struct mt_session *s = req->session;

	sc->role = mt_role_name(s->role);
	snprintf(sc->person, sizeof(sc->person), "%lld", s->person_id);
	sc->institution = s->institution;
	sc->region = s->region;
	snprintf(sc->user, sizeof(sc->user), "%lld", s->user_id);
}

static int
not_found(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_APPLICATION_NOT_FOUND, "id");
}

/*
 * Status of application id within the caller's scope into status (16).
 * Returns 1 found, 0 after answering 404, -1 after answering 503/500.
 */
static int
owned_or_reply(struct mt_req *req, const struct scope *sc, const char *id,
    char *status)
{
	const char *p[5] = { id, sc->role, sc->person, sc->institution,
	    sc->region };
	PGresult *res = mt_db_query_or_reply(req, STMT_OWNED, 5, p);

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		not_found(req);
		return 0;
	}
	snprintf(status, 16, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 1;
}

static int
not_editable(struct mt_req *req)
{
	return mt_reply_err(req, MT_E_APPLICATION_NOT_EDITABLE, NULL);
}

/*
 * Reply with the JSON text of row 0, column 0 of res at status; clears
 * res.  Callers ask for a row that must exist (the view of an application
 * just read or written): a result without it is a broken invariant,
 * logged and answered 500 rather than read past its end.  Returns 0, or
 * -1 after answering 500.
 */
static int
reply_text(struct mt_req *req, int status, PGresult *res)
{
	if (PQntuples(res) < 1 || PQnfields(res) < 1 ||
	    PQgetisnull(res, 0, 0)) {
		PQclear(res);
		mt_log_error("rid=%s apply: no row to answer with",
		    req->request_id);
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	mt_reply_raw(req, status, "application/json; charset=utf-8",
	    PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return 0;
}

/*
 * The agent fields (R-APP-9) into a[0..3]: all four or none, as the
 * field table (MT_REQ_GROUP) has checked.  Returns 1 given, 0 absent.
 */
static int
agent_of(const struct mt_req *req, const char **a)
{
	a[0] = mt_req_param(req, "agent.name");
	a[1] = mt_req_param(req, "agent.id_number");
	a[2] = mt_req_param(req, "agent.relation");
	a[3] = mt_req_param(req, "agent.phone");
	return a[0] != NULL;
}

/*
 * Check the disease (in the person's region catalog) and the institution
 * (known).  Writes the review mode (16).  0, or -1 after answering.
 */
static int
check_choice_or_reply(struct mt_req *req, const char *disease,
    const char *region, const char *inst, char *mode)
{
	const char *p[2] = { disease, region };
	PGresult *res;

	if (disease != NULL) {
		res = mt_db_query_or_reply(req, STMT_DISEASE, 2, p);
		if (res == NULL)
			return -1;
		if (PQntuples(res) == 0) {
			PQclear(res);
			return mt_reply_err(req, MT_E_DISEASE_NOT_IN_CATALOG,
			    "disease_code");
		}
		snprintf(mode, 16, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (inst != NULL) {
		p[0] = inst;
		res = mt_db_query_or_reply(req, STMT_INSTITUTION, 1, p);
		if (res == NULL)
			return -1;
		if (PQntuples(res) == 0) {
			PQclear(res);
			return mt_reply_err(req, MT_E_INSTITUTION_NOT_FOUND,
			    "designated_institution");
		}
		PQclear(res);
	}
	return 0;
}

/*
 * The progress view of application id as the caller may see it (no row
 * when not theirs); a staff read is written to access_log.  Returns the
 * result, or NULL after answering 503/500.
 */
static PGresult *
detail(struct mt_req *req, const struct scope *sc, const char *id)
{
	const char *p[6] = { id, sc->role, sc->person, sc->institution,
	    sc->region, sc->user };
	int own = req->session->role == MT_ROLE_INSURED;

	return mt_db_query_or_reply(req, own ? STMT_DETAIL :
	    STMT_DETAIL_LOGGED, own ? 5 : 6, p);
}

/* The JSON member key of o as a string, or "". */
static const char *
member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	    json_object_get_string(v) : "";
}

/*
 * Insert the application of p[0..15] (STMT_CREATE's parameters) and its
 * first event; writes its id (24).  0, or -1 after answering 409 (one
 * open application per person and disease), 503 or 500.
 */
static int
insert_or_reply(struct mt_req *req, const char *const *p, char *id)
{
	PGresult *res;
	int dup;

	res = mt_db_exec(req->db, STMT_CREATE, 16, p);
	if (res == NULL)
		return mt_reply_unavailable(req, "数据库");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		dup = mt_db_state_is(res, "23505");
		if (!dup)
			mt_db_log_error(req->request_id, STMT_CREATE, res);
		PQclear(res);
		if (dup)
			return mt_reply_err(req, MT_E_APPLICATION_EXISTS,
			    "disease_code");
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	snprintf(id, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/*
 * The submission rules besides materials (submission_refusal: designated
 * hospital of the region, already qualified, R-APP-6's yearly limit), run
 * on the draft id just written, so a person learns before uploading
 * anything what submit would refuse, with the same code and message.
 * With only set, just that refusal counts.  0 when they pass, or -1
 * after answering 422, 503 or 500.
 */
static int
refusal_or_reply(struct mt_req *req, const char *id, const char *only)
{
	const char *p[1] = { id };
	json_object *r;
	PGresult *res;
	int rc = 0;

	res = mt_db_query_or_reply(req, STMT_REFUSAL, 1, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		r = json_tokener_parse(PQgetvalue(res, 0, 0));
		if (only == NULL || strcmp(member(r, "error"), only) == 0)
			rc = mt_reply_refusal(req, r);
		json_object_put(r);
	}
	PQclear(res);
	return rc;
}

/*
 * Create an application for person (id, region) through channel; hospital
 * filings also record the pre-check.  The draft, its rules and the
 * pre-check are one transaction: a refused draft leaves nothing behind.
 * Answers 201 with the application; 409, 422, 503 or 500 otherwise.
 */
static int
create(struct mt_req *req, const char *person, const char *region,
    const char *channel, const char *filing)
{
	const char *disease = mt_req_param(req, "disease_code");
	const char *inst = mt_req_param(req, "designated_institution");
	const char *agent[4] = { NULL }, *p[16];
	struct scope sc;
	char mode[16], id[24];
	PGresult *res;

	scope_of(req, &sc);
	agent_of(req, agent);
	if (check_choice_or_reply(req, disease, region, inst, mode) < 0)
		return -1;
	p[0] = person;
	p[1] = disease;
	p[2] = region;
	p[3] = channel;
	p[4] = mode;
	p[5] = mt_req_param(req, "phone");
	p[6] = mt_req_param(req, "medical_record_no");
	p[7] = inst;
	p[8] = filing;
	p[9] = sc.user;
	p[10] = agent[0];
	p[11] = agent[1];
	p[12] = agent[2];
	p[13] = agent[3];
	p[14] = filing != NULL ? "filed_by_hospital" : "created";
	p[15] = sc.role;
	if (mt_db_begin(req->db) != 0)
		return mt_reply_unavailable(req, "数据库");
	if (insert_or_reply(req, p, id) < 0 ||
	    refusal_or_reply(req, id, NULL) < 0) {
		mt_db_rollback(req->db);
		return -1;
	}
	if (filing != NULL) {
		p[0] = id;
		p[1] = sc.user;
		res = mt_db_query_or_reply(req, STMT_PRECHECK, 2, p);
		if (res == NULL) {
			mt_db_rollback(req->db);
			return -1;
		}
		PQclear(res);
	}
	if (mt_db_commit(req->db) != 0)
		return mt_reply_unavailable(req, "数据库");
	res = detail(req, &sc, id);
	if (res == NULL)
		return -1;
	mt_req_header(req, "Location: " MT_API_PREFIX "/applications/%s", id);
	return reply_text(req, 201, res);
}

static int
h_create(struct mt_req *req)
{
	const struct mt_session *s = req->session;
	char person[24];

	snprintf(person, sizeof(person), "%lld", s->person_id);
	return create(req, person, s->region,
	    s->via_cookie ? "web" : "mini_program", NULL);
}

static int
h_hospital_file(struct mt_req *req)
{
	const char *p[2] = { mt_req_param(req, "id_number"),
	    mt_req_param(req, "name") };
	char person[24], region[8];
	PGresult *res;

	res = mt_db_query_or_reply(req, STMT_PERSON_BY_NUMBER, 2, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mt_reply_err(req, MT_E_PERSON_NOT_FOUND, "id_number");
	}
	snprintf(person, sizeof(person), "%s", PQgetvalue(res, 0, 0));
	snprintf(region, sizeof(region), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return create(req, person, region, "hospital",
	    req->session->institution);
}

static int
h_get(struct mt_req *req)
{
	struct scope sc;
	PGresult *res;

	scope_of(req, &sc);
	res = detail(req, &sc, mt_req_param(req, "id"));
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return not_found(req);
	}
	mt_req_header(req, "Cache-Control: no-store");
	return reply_text(req, 200, res);
}

static int
h_list(struct mt_req *req)
{
	const char *limit = mt_req_param(req, "limit"), *p[7];
	struct scope sc;
	PGresult *res;
	char lims[16];
	int lim = limit != NULL ? atoi(limit) : 20;

	scope_of(req, &sc);
	snprintf(lims, sizeof(lims), "%d", lim + 1);
	p[0] = mt_req_param(req, "cursor");
	p[1] = sc.role;
	p[2] = sc.person;
	p[3] = sc.institution;
	p[4] = sc.region;
	p[5] = mt_req_param(req, "status");
	p[6] = lims;
	res = mt_db_query_or_reply(req, STMT_LIST, 7, p);
	if (res == NULL)
		return -1;
	return mt_reply_items(req, res, lim);
}

/*
 * Write the patch p[0..10] (STMT_PATCH's parameters) of application id;
 * a new hospital is checked as submit would (designated in the region)
 * in the same transaction, so the person hears of it now (issue 9 A6).
 * Returns 1 written, 0 not editable any more, -1 after answering 422,
 * 503 or 500.
 */
static int
patch_or_reply(struct mt_req *req, const char *id, const char *const *p,
    int new_inst)
{
	PGresult *res;
	int rc;

	if (new_inst && mt_db_begin(req->db) != 0)
		return mt_reply_unavailable(req, "数据库");
	res = mt_db_query_or_reply(req, STMT_PATCH, 11, p);
	rc = res != NULL ? PQntuples(res) : -1;
	PQclear(res);
	if (!new_inst)
		return rc;
	if (rc > 0 && refusal_or_reply(req, id,
	    "institution_not_designated") < 0)
		rc = -1;
	if (rc <= 0)
		mt_db_rollback(req->db);
	else if (mt_db_commit(req->db) != 0)
		return mt_reply_unavailable(req, "数据库");
	return rc;
}

static int
h_patch(struct mt_req *req)
{
	const char *id = mt_req_param(req, "id");
	const char *inst = mt_req_param(req, "designated_institution");
	const char *agent[4] = { NULL }, *p[11];
	json_object *jv;
	struct scope sc;
	char status[16], mode[16];
	int rc, agent_given;

	scope_of(req, &sc);
	if ((rc = owned_or_reply(req, &sc, id, status)) <= 0)
		return -1;
	if (strcmp(status, "draft") != 0 && strcmp(status, "returned") != 0)
		return not_editable(req);
	agent_given = agent_of(req, agent);
	if (check_choice_or_reply(req, NULL, NULL, inst, mode) < 0)
		return -1;
	/* "agent": null removes the agent. */
	if (!agent_given && req->json != NULL &&
	    json_object_object_get_ex(req->json, "agent", &jv) &&
	    json_object_is_type(jv, json_type_null))
		agent_given = 1;
	p[0] = id;
	p[1] = mt_req_param(req, "phone");
	p[2] = mt_req_param(req, "medical_record_no");
	p[3] = inst;
	p[4] = agent_given ? "true" : "false";
	p[5] = agent[0];
	p[6] = agent[1];
	p[7] = agent[2];
	p[8] = agent[3];
	p[9] = sc.user;
	p[10] = sc.role;
	if ((rc = patch_or_reply(req, id, p, inst != NULL)) <= 0)
		return rc == 0 ? not_editable(req) : -1;
	return h_get(req);
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
	redisReply *r;
	size_t i;

	if (!json_object_object_get_ex(w, "cancelled", &list) ||
	    !json_object_object_get_ex(w, "region", &v))
		return;
	region = json_object_get_string(v);
	app = json_object_object_get_ex(w, "id", &v) ?
	    json_object_get_string(v) : "";
	for (i = 0; i < json_object_array_length(list); i++) {
		x = json_object_array_get_idx(list, i);
		r = mt_redis_cmd("ZREM timers:{%s} %s", region,
		    json_object_get_string(json_object_object_get(x,
		    "assignment")));
		if (r != NULL)
			freeReplyObject(r);
		r = mt_redis_cmd("DEL lease:{%s}:%s:%s", region, app,
		    json_object_get_string(json_object_object_get(x,
		    "stage")));
		if (r != NULL)
			freeReplyObject(r);
	}
}

/*
 * POST /applications/{id}/withdraw: before a decision (API.md), also
 * while an expert holds it (withdraw_application cancels the live
 * assignment).  200 with the application; 404 not the caller's; 409
 * application_not_withdrawable once decided or withdrawn; 503 database.
 */
static int
h_withdraw(struct mt_req *req)
{
	const char *id = mt_req_param(req, "id"), *p[3];
	struct scope sc;
	char status[16];
	json_object *w;
	PGresult *res;
	int rc;

	scope_of(req, &sc);
	if ((rc = owned_or_reply(req, &sc, id, status)) <= 0)
		return -1;
	p[0] = id;
	p[1] = sc.user;
	p[2] = sc.role;
	res = mt_db_query_or_reply(req, STMT_WITHDRAW, 3, p);
	if (res == NULL)
		return -1;
	w = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) ?
	    json_tokener_parse(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	if (w == NULL)
		return mt_reply_err(req, MT_E_APPLICATION_NOT_WITHDRAWABLE,
		    NULL);
	drop_cancelled(w);
	json_object_put(w);
	return h_get(req);
}

/* A material kind: a snake_case code of at most 40, from a letter. */
static int
valid_kind(const char *s)
{
	return mt_valid_code(s) && strlen(s) <= 40 && s[0] >= 'a' &&
	    s[0] <= 'z';
}

/* An issuer: one line of text (length capped by the field table). */
static int
valid_issuer(const char *s)
{
	return strpbrk(s, "\r\n\t") == NULL;
}

/*
 * Check the file against the disease and the region's policy: the kind
 * is needed, the date within its limit, the size within both limits.
 * Writes the kind's name (64).  0, or -1 after answering 400/422/413,
 * 404 (the application is gone) or 503/500.
 */
static int
upload_rules_or_reply(struct mt_req *req, const char *id, const char *kind,
    const char *issued, size_t size, char *kind_name)
{
	const char *p[3] = { id, kind, issued };
	long long max_file, max_app, used, age, max_age;
	char msg[256];
	PGresult *res;

	res = mt_db_query_or_reply(req, STMT_MATERIAL_RULES, 3, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		/* The application went away since it was found. */
		PQclear(res);
		return not_found(req);
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return mt_reply_err(req, MT_E_MATERIAL_KIND_NOT_NEEDED, "kind");
	}
	snprintf(kind_name, 64, "%s", PQgetvalue(res, 0, 1));
	max_age = atoll(PQgetvalue(res, 0, 2));
	max_file = atoll(PQgetvalue(res, 0, 3));
	max_app = atoll(PQgetvalue(res, 0, 4));
	used = atoll(PQgetvalue(res, 0, 5));
	age = atoll(PQgetvalue(res, 0, 6));
	PQclear(res);
	if (age < 0)
		return mt_reply_err(req, MT_E_FIELD_INVALID, "issued_on",
		    "出具日期", "：不能晚于今天");
	if (age > max_age) {
		snprintf(msg, sizeof(msg), "（%lld 天）", max_age);
		return mt_reply_err(req, MT_E_MATERIAL_TOO_OLD, "issued_on",
		    msg);
	}
	if ((long long)size > max_file) {
		snprintf(msg, sizeof(msg), "%.1f", max_file / 1048576.0);
		return mt_reply_err(req, MT_E_FILE_TOO_LARGE, "file", msg);
	}
	if (used + (long long)size > max_app) {
		snprintf(msg, sizeof(msg), "%.1f", max_app / 1048576.0);
		return mt_reply_err(req, MT_E_APPLICATION_FILES_TOO_LARGE,
		    "file", msg);
	}
	return 0;
}

/* A ".tmp-*" file of the store older than this is a killed upload's
 * (a live one is written in well under a second: 12 MiB at most). */
#define SWEEP_AGE   3600
/* A worker sweeps at start, then again on an upload once this long has
 * passed since its last sweep. */
#define SWEEP_EVERY 600

/* Remove what killed uploads left in the file store (issue 9 A9). */
static void
sweep_files(void)
{
	static time_t last;
	time_t now = time(NULL);
	int n;

	if (last != 0 && now - last < SWEEP_EVERY)
		return;
	last = now;
	n = mt_files_sweep(mt_cfg.files_dir, SWEEP_AGE);
	if (n > 0)
		mt_log_info("file store: removed %d leftover temporary "
		    "file(s)", n);
	else if (n < 0)
		mt_log_warn("file store: cannot sweep %s: %s",
		    mt_cfg.files_dir, strerror(errno));
}

/* Per-worker start (mt_module.worker_init): sweep the store.  0. */
static int
apply_init(void)
{
	sweep_files();
	return 0;
}

/*
 * POST /applications/{id}/materials: one file and its kind, date and
 * issuer (checked by the field table, parts included).  201 with the
 * material; 404, 409 not editable, 400 empty or damaged, 415 type,
 * 422 kind or date, 413 size, 503.
 */
static int
h_upload(struct mt_req *req)
{
	const char *id = mt_req_param(req, "id"), *media, *p[10];
	const char *kind = mt_req_param(req, "kind");
	const char *issued = mt_req_param(req, "issued_on");
	const struct mt_part *file = mt_req_part(req, "file");
	char status[16], kind_name[64], sha[65], size[24];
	struct scope sc;
	PGresult *res;

	scope_of(req, &sc);
	if (owned_or_reply(req, &sc, id, status) <= 0)
		return -1;
	if (strcmp(status, "draft") != 0 && strcmp(status, "returned") != 0)
		return not_editable(req);
	if (file->len == 0)
		return mt_reply_err(req, MT_E_FILE_EMPTY, "file");
	if ((media = mt_files_sniff(file->data, file->len)) == NULL)
		return mt_reply_err(req, MT_E_FILE_TYPE_NOT_ALLOWED, "file");
	if (!mt_files_complete(media, file->data, file->len))
		return mt_reply_err(req, MT_E_FILE_DAMAGED, "file");
	if (upload_rules_or_reply(req, id, kind, issued, file->len,
	    kind_name) < 0)
		return -1;
	sweep_files();
	if (mt_files_store(mt_cfg.files_dir, file->data, file->len, sha) != 0) {
		mt_log_error("rid=%s file store: %s", req->request_id,
		    strerror(errno));
		return mt_reply_unavailable(req, "文件存储");
	}
	snprintf(size, sizeof(size), "%zu", file->len);
	p[0] = id;
	p[1] = kind;
	p[2] = issued;
	p[3] = mt_req_param(req, "issuer");
	p[4] = sha;
	p[5] = size;
	p[6] = media;
	p[7] = sc.user;
	p[8] = sc.role;
	p[9] = kind_name;
	res = mt_db_query_or_reply(req, STMT_MATERIAL_ADD, 10, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return not_editable(req);
	}
	return reply_text(req, 201, res);
}

static int
h_material_delete(struct mt_req *req)
{
	const char *id = mt_req_param(req, "id"), *p[4];
	struct scope sc;
	char status[16];
	PGresult *res;
	int rc;

	scope_of(req, &sc);
	if (owned_or_reply(req, &sc, id, status) <= 0)
		return -1;
	if (strcmp(status, "draft") != 0 && strcmp(status, "returned") != 0)
		return not_editable(req);
	p[0] = id;
	p[1] = mt_req_param(req, "mid");
	p[2] = sc.user;
	p[3] = sc.role;
	res = mt_db_query_or_reply(req, STMT_MATERIAL_DELETE, 4, p);
	if (res == NULL)
		return -1;
	rc = PQntuples(res);
	PQclear(res);
	if (rc == 0)
		return mt_reply_err(req, MT_E_MATERIAL_NOT_FOUND, "mid");
	return mt_reply_raw(req, 204, NULL, NULL, 0);
}

static int
h_material_file(struct mt_req *req)
{
	const char *mid = mt_req_param(req, "mid"), *p[6];
	struct scope sc;
	char rel[80];
	PGresult *res;

	scope_of(req, &sc);
	p[0] = mid;
	p[1] = sc.role;
	p[2] = sc.person;
	p[3] = sc.institution;
	p[4] = sc.region;
	p[5] = sc.user;
	res = mt_db_query_or_reply(req, STMT_MATERIAL_FILE, 6, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mt_reply_err(req, MT_E_MATERIAL_NOT_FOUND, "mid");
	}
	mt_files_relpath(PQgetvalue(res, 0, 0), rel, sizeof(rel));
	/* nginx serves the bytes from its internal location. */
	mt_req_header(req, "X-Accel-Redirect: /_files/%s", rel);
	mt_req_header(req, "Content-Disposition: inline; "
	    "filename=\"material-%s.%s\"", mid,
	    mt_files_ext(PQgetvalue(res, 0, 1)));
	mt_req_header(req, "Cache-Control: private, no-store");
	mt_reply_raw(req, 200, PQgetvalue(res, 0, 1), NULL, 0);
	PQclear(res);
	return 0;
}

static int
h_submit(struct mt_req *req)
{
	const char *p[6];
	json_object *r, *ok;
	struct scope sc;
	PGresult *res;

	if (strcmp(mt_req_param(req, "promise"), "true") != 0)
		return mt_reply_err(req, MT_E_PROMISE_REQUIRED, "promise");
	scope_of(req, &sc);
	p[0] = mt_req_param(req, "id");
	p[1] = sc.user;
	p[2] = sc.role;
	p[3] = sc.person;
	p[4] = sc.institution;
	p[5] = sc.region;
	res = mt_db_query_or_reply(req, STMT_SUBMIT, 6, p);
	if (res == NULL)
		return -1;
	r = json_tokener_parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (json_object_object_get_ex(r, "ok", &ok)) {
		/* Committed: wake the dispatcher to push it to an expert (it
		 * also finds it on its own if Redis is down). */
		redisReply *w = mt_redis_cmd("LPUSH wake submit");

		if (w != NULL)
			freeReplyObject(w);
		mt_reply_json(req, 200, json_object_get(ok));
	}
	else
		mt_reply_refusal(req, r);
	json_object_put(r);
	return 0;
}

static int
valid_limit(const char *s)
{
	long v = atol(s);

	return v >= 1 && v <= 100;
}

static int
valid_status(const char *s)
{
	static const char *const st[] = { "draft", "submitted", "returned",
	    "in_review", "approved", "rejected", "withdrawn", NULL };

	return mt_valid_one_of(s, st);
}

static int
valid_record_no(const char *s)
{
	return s[0] != '\0' && strpbrk(s, "\r\n\t") == NULL;
}

#define F_ID { "id", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "申请编号" }
/* The agent (R-APP-9): all four or none. */
#define F_AGENT \
	{ "agent.name", MT_IN_BODY, MT_F_STRING, mt_valid_name, \
	  MT_REQ_GROUP, 32, "代办人姓名" }, \
	{ "agent.id_number", MT_IN_BODY, MT_F_STRING, mt_valid_id_number, \
	  MT_REQ_GROUP, 18, "代办人身份证号码" }, \
	{ "agent.relation", MT_IN_BODY, MT_F_STRING, mt_valid_name, \
	  MT_REQ_GROUP, 16, "代办人与申请人关系" }, \
	{ "agent.phone", MT_IN_BODY, MT_F_STRING, mt_valid_phone, \
	  MT_REQ_GROUP, 11, "代办人手机号码" }

/* The details an application carries (required when creating, optional
 * in a patch), then its agent. */
#define F_DETAILS(req) \
	{ "phone", MT_IN_BODY, MT_F_STRING, mt_valid_phone, req, 11, \
	  "手机号码" }, \
	{ "medical_record_no", MT_IN_BODY, MT_F_STRING, valid_record_no, req, \
	  64, "病案号" }, \
	{ "designated_institution", MT_IN_BODY, MT_F_STRING, \
	  mt_valid_institution_code, req, 20, "定点医疗机构" }, \
	F_AGENT
#define F_DISEASE { "disease_code", MT_IN_BODY, MT_F_STRING, \
	  mt_valid_disease_code, 1, 16, "申请病种" }

static const struct mt_field f_create[] = {
	F_DISEASE,
	F_DETAILS(1),
	{ NULL },
};

static const struct mt_field f_hospital_file[] = {
	{ "id_number", MT_IN_BODY, MT_F_STRING, mt_valid_id_number, 1, 18,
	  "申请人身份证号码" },
	{ "name", MT_IN_BODY, MT_F_STRING, mt_valid_name, 1, 32,
	  "申请人姓名" },
	F_DISEASE,
	F_DETAILS(1),
	{ NULL },
};

static const struct mt_field f_patch[] = {
	F_ID,
	F_DETAILS(0),
	{ NULL },
};

static const struct mt_field f_id[] = { F_ID, { NULL } };

static const struct mt_field f_list[] = {
	{ "limit", MT_IN_QUERY, MT_F_INT, valid_limit, 0, 3,
	  "每页条数（1–100）" },
	{ "cursor", MT_IN_QUERY, MT_F_INT, NULL, 0, 18, "分页游标" },
	{ "status", MT_IN_QUERY, MT_F_STRING, valid_status, 0, 16,
	  "申请状态" },
	{ NULL },
};

/* The upload's parts (R-APP-3); the file is sniffed by the handler. */
static const struct mt_field f_upload[] = {
	F_ID,
	{ "kind", MT_IN_PART, MT_F_STRING, valid_kind, 1, 40, "材料类型" },
	{ "issued_on", MT_IN_PART, MT_F_STRING, mt_valid_date, 1, 10,
	  "出具日期（YYYY-MM-DD）" },
	{ "issuer", MT_IN_PART, MT_F_STRING, valid_issuer, 1, 128,
	  "出具机构" },
	{ "file", MT_IN_PART, MT_F_FILE, NULL, 1, 0, "要上传的文件" },
	{ NULL },
};

static const struct mt_field f_material[] = {
	F_ID,
	{ "mid", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "材料编号" },
	{ NULL },
};

static const struct mt_field f_file[] = {
	{ "mid", MT_IN_PATH, MT_F_INT, NULL, 1, 18, "材料编号" },
	{ NULL },
};

static const struct mt_field f_submit[] = {
	F_ID,
	{ "promise", MT_IN_BODY, MT_F_BOOL, NULL, 1, 5, "承诺" },
	{ NULL },
};

#define APPLICANT (MT_ROLE_INSURED | MT_ROLE_HOSPITAL)
#define READERS (MT_ROLE_INSURED | MT_ROLE_HOSPITAL | MT_ROLE_AGENCY | \
                 MT_ROLE_ADMIN)
#define UPLOAD_MAX (12 * 1024 * 1024)

static const struct mt_route routes[] = {
	{ "POST", "/applications", h_create, MT_ROLE_INSURED, 0, f_create,
	  MT_R_IDEMPOTENT },
	{ "GET", "/applications", h_list, READERS, 0, f_list, 0 },
	{ "GET", "/applications/{id}", h_get, READERS, 0, f_id, 0 },
	{ "PATCH", "/applications/{id}", h_patch, APPLICANT, 0, f_patch, 0 },
	{ "POST", "/applications/{id}/materials", h_upload, APPLICANT,
	  UPLOAD_MAX, f_upload, MT_R_MULTIPART | MT_R_IDEMPOTENT },
	{ "DELETE", "/applications/{id}/materials/{mid}", h_material_delete,
	  APPLICANT, 0, f_material, 0 },
	{ "GET", "/materials/{mid}", h_material_file,
	  READERS | MT_ROLE_EXPERT, 0, f_file, 0 },
	{ "POST", "/applications/{id}/submit", h_submit, APPLICANT, 0,
	  f_submit, MT_R_IDEMPOTENT },
	{ "POST", "/applications/{id}/withdraw", h_withdraw, APPLICANT, 0,
	  f_id, 0 },
	{ "POST", "/hospital/applications", h_hospital_file, MT_ROLE_HOSPITAL,
	  0, f_hospital_file, MT_R_IDEMPOTENT },
};

const struct mt_module mt_module = {
	.name = "apply",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = stmts,
	.nstmts = STMT__MAX,
	.worker_init = apply_init,
};
