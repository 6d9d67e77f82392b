/*
 * apply_db.c -- the apply module's statements and the typed functions
 * handlers call instead (see apply_db.h): parameters are filled here from
 * the callers' structs, columns read by name (PQfnumber), and failures
 * answered here (`_or_reply`: 503 when the database is down, 500 for a
 * bug, an SQL function's refusal through mt_reply_refusal).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mt_db.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_identity.h"
#include "mt_log.h"
#include "mt_util.h"

#include "apply_db.h"

/*
 * The caller's scope as a condition on applications alias a, with the
 * role, person id, institution and region as parameters $2..$5 (and the
 * user id $6 where a read is logged): filled by scope_params.  An insured
 * person's own and those they filed for as the family agent (R-APP-9).
 * SCOPE_WITH(agency): the agency's part narrowed by the condition agency.
 */
#define SCOPE_WITH(agency) \
	"(($2 = 'insured' AND $3::bigint IN (a.person_id, a.agent_person_id))" \
	" OR ($2 = 'hospital' AND a.filing_institution = $4)" \
	" OR ($2 = 'agency' AND a.region = $5" agency ") OR $2 = 'admin')"

/* Reads: agency staff read every application of their region. */
#define SCOPE SCOPE_WITH("")

/* Writes (PATCH, materials, withdraw; submit_application the same):
 * agency staff change only what they filed at the counter (R-APP-1),
 * never a person's own filing from the mini program or the web. */
#define WRITE_SCOPE SCOPE_WITH(" AND a.channel = 'counter'")

#define EDITABLE "('draft', 'returned')"

/* The phones the progress view shows in full (apply_view_phones): the
 * stored view holds their masks. */
#define VIEW_PHONES \
	"a.phone, a.phone_enc, a.agent_phone, a.agent_phone_enc"

/*
 * Application a is re-decided on an objection (R-CER-12): materials may
 * be added to it (never deleted) while its objection is open.
 */
#define OBJECTING \
	"(a.status = 'in_review' AND EXISTS (SELECT 1 FROM objections o" \
	" WHERE o.application_id = a.id AND o.state = 'open'))"

/*
 * An on-site application submitted to hospital $4 (certifying_institution)
 * and not certified yet (issue 11): the caller, its staff ($2), may add
 * images to it and read them (sql/fn/70_hospital.sql certifies it).
 */
#define CERTIFYING \
	"($2 = 'hospital' AND a.certifying_institution = $4" \
	" AND a.status = 'submitted' AND a.review_mode = 'onsite'" \
	" AND NOT EXISTS (SELECT 1 FROM certifications c" \
	"  WHERE c.application_id = a.id))"

/* Private to this file: handlers name functions, not statements.  Each
 * statement's $n are filled by the one function that runs it. */
enum stmt {
	STMT_DISEASE,
	STMT_INSTITUTION,
	STMT_PERSON_BY_NUMBER,
	STMT_PERSON_BY_ID,
	STMT_RELATIVE_FIT,
	STMT_CREATE,
	STMT_PRECHECK,
	STMT_REFUSAL,
	STMT_DETAIL_OWN,
	STMT_DETAIL_LOGGED,
	STMT_LIST,
	STMT_OWNED,
	STMT_PATCH,
	STMT_WITHDRAW,
	STMT_MATERIAL_RULES,
	STMT_MATERIAL_ADD,
	STMT_MATERIAL_DELETE,
	STMT_MATERIAL_FILE,
	STMT_MATERIAL_SEALED,
	STMT_SUBMIT,
	/* Objections and hospitals' appeals (objection.c, R-CER-12). */
	STMT_OBJECTION,
	/* Who read a person's file (reads.c, issue 15, PIPL art. 45). */
	STMT_READS_OWNER,
	STMT_READS,
	STMT__MAX
};

const char *const apply_stmts[APPLY_NSTMTS] = {
	[STMT_DISEASE] =
	    "SELECT coalesce(rd.review_mode, d.review_mode) AS review_mode"
	    " FROM diseases d"
	    " JOIN region_diseases rd ON rd.disease = d.code AND rd.region = $2"
	    " WHERE d.code = $1",
	[STMT_INSTITUTION] = "SELECT 1 FROM institutions WHERE code = $1",
	[STMT_PERSON_BY_NUMBER] =
	    "SELECT id, region FROM persons"
	    " WHERE id_number_hmac = $1 AND name = $2",
	/* Sealed (shared/mt_identity.h): apply_db_person_card opens them. */
	[STMT_PERSON_BY_ID] =
	    "SELECT id_number_enc, name, phone_enc FROM persons WHERE id = $1",
	/* Filing for a relative (R-APP-9): the relative's region ($1), its
	 * name, and whether disease $2 and hospital $3 fit it (the one rule,
	 * institution_may_serve). */
	[STMT_RELATIVE_FIT] =
	    "SELECT r.name, (EXISTS (SELECT 1 FROM region_diseases rd"
	    "  WHERE rd.region = $1 AND rd.disease = $2))::int AS in_catalog,"
	    " institution_may_serve($3, $2, $1)::int AS may_serve"
	    " FROM regions r WHERE r.code = $1",
	/* The phones and the agent's ID number sealed ($6, $12, $14) with
	 * their masks ($18-$20): apply_sealed_or_reply. */
	[STMT_CREATE] =
	    "WITH a AS (INSERT INTO applications (person_id, disease, region,"
	    "  channel, review_mode, phone_enc, medical_record_no,"
	    "  designated_institution, filing_institution, filed_by,"
	    "  agent_name, agent_id_number_enc, agent_relation,"
	    "  agent_phone_enc, agent_person_id, phone_masked,"
	    "  agent_id_number_masked, agent_phone_masked)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
	    "  $14, $17::bigint, $18, $19, $20) RETURNING id),"
	    /* filed_by_agent names the family agent (event_text). */
	    " e AS (INSERT INTO events (application_id, type, actor_user,"
	    "  actor_role, data) SELECT id, $15, $10, $16,"
	    "  CASE WHEN $15 = 'filed_by_agent' THEN jsonb_build_object("
	    "   'agent_name', $11::text, 'relation', $13::text)"
	    "   ELSE '{}' END FROM a)"
	    " SELECT id FROM a",
	/* R-APP-7: the rules run at filing; the event rebuilds the view. */
	[STMT_PRECHECK] =
	    "WITH u AS (UPDATE applications a SET precheck = jsonb_build_object("
	    " 'missing_materials', missing_materials(a),"
	    " 'refusal', submission_refusal(a),"
	    " 'at', now()) WHERE id = $1 RETURNING id)"
	    " INSERT INTO events (application_id, type, actor_user, actor_role)"
	    " SELECT id, 'prechecked', $2, 'hospital' FROM u",
	/* sql/fn/20_applications.sql: NULL, or the refusal submit would
	 * give. */
	[STMT_REFUSAL] =
	    "SELECT submission_refusal(a)::text AS refusal"
	    " FROM applications a WHERE a.id = $1::bigint",
	/* The ready view (sql/fn/20_applications.sql: application_view);
	 * every read but a person's of their own is logged (staff, a family
	 * agent). */
	/* A person's read of their own: nothing to log, so one plain
	 * primary-key read (issue 13: pgbench, 4 clients, 3 interleaved
	 * pairs: 13.2k/19.6k/23.5k reads/s against 11.1k/14.3k/13.5k with
	 * the write CTE below).  The join is kept (issue 13, third round):
	 * in a loop of 100,000 in one backend it costs 12-13 us against
	 * 3-4 us for the view alone, but dropping it would copy the sealed
	 * phones and the owner into application_views, a second copy that
	 * `identity encrypt` (no event, no rebuild) would leave behind;
	 * two primary-key lookups or a scalar subquery measured within
	 * the noise of the join. */
	[STMT_DETAIL_OWN] =
	    "SELECT v.view, " VIEW_PHONES " FROM applications a"
	    " JOIN application_views v ON v.application_id = a.id"
	    " WHERE a.id = $1 AND a.person_id = $2::bigint",
	[STMT_DETAIL_LOGGED] =
	    "WITH a AS (SELECT a.id, a.person_id, v.view, " VIEW_PHONES
	    "  FROM applications a"
	    "  JOIN application_views v ON v.application_id = a.id"
	    "  WHERE a.id = $1 AND " SCOPE "),"
	    " l AS (INSERT INTO access_log (user_id, person_id, object_type,"
	    "  object_id, action) SELECT $6, a.person_id, 'application', a.id,"
	    "  'read' FROM a"
	    /* A person reading their own is no access to log. */
	    "  WHERE NOT ($2 = 'insured' AND a.person_id = $3::bigint))"
	    " SELECT * FROM a",
	[STMT_LIST] =
	    "SELECT json_build_object('id', a.id, 'status', a.status,"
	    " 'channel', a.channel,"
	    " 'disease', json_build_object('code', d.code, 'name', d.name),"
	    " 'applicant', json_build_object('name', p.name,"
	    "   'id_number', shown_id(p.id_number_masked, p.id_number)),"
	    " 'phone', shown_phone(a.phone_masked, a.phone),"
	    " 'designated_institution', a.designated_institution,"
	    " 'created_at', a.created_at, 'submitted_at', a.submitted_at,"
	    " 'waiting_for_expert', waiting_for_expert(a.status,"
	    "  a.unassigned_since),"
	    /* Filed by the caller for a relative (R-APP-9). */
	    " 'filed_for', ($2 = 'insured' AND a.person_id <> $3::bigint),"
	    " 'agent_relation', a.agent_relation)::text AS item,"
	    " a.id AS next_cursor"
	    " FROM applications a JOIN persons p ON p.id = a.person_id"
	    " JOIN diseases d ON d.code = a.disease"
	    " WHERE " SCOPE
	    " AND ($1::bigint IS NULL OR a.id < $1::bigint)"
	    " AND ($6::text IS NULL OR a.status = $6)"
	    " ORDER BY a.id DESC LIMIT $7::int",
	/* status 'certifying': see CERTIFYING.  Asked before every
	 * write: the write scope. */
	[STMT_OWNED] =
	    "SELECT CASE WHEN " CERTIFYING " THEN 'certifying'"
	    " WHEN " OBJECTING " THEN 'objecting'"
	    " ELSE a.status END AS status FROM applications a"
	    " WHERE a.id = $1 AND (" WRITE_SCOPE " OR " CERTIFYING ")",
	/* The scope in the statement too: alone, it can change only the
	 * caller's own application (the caller checked it before).  Sealed
	 * as in STMT_CREATE ($7, $12, $14; masks $15-$17); a value replaced
	 * leaves no plain one of before 044 behind. */
	[STMT_PATCH] =
	    "WITH u AS (UPDATE applications a SET"
	    " phone_enc = coalesce($7, phone_enc),"
	    " phone_masked = coalesce($15, phone_masked),"
	    " phone = CASE WHEN $7 IS NULL THEN phone END,"
	    " medical_record_no = coalesce($8, medical_record_no),"
	    " designated_institution = coalesce($9, designated_institution),"
	    " agent_name = CASE WHEN $10 THEN $11 ELSE agent_name END,"
	    " agent_id_number_enc = CASE WHEN $10 THEN $12"
	    "  ELSE agent_id_number_enc END,"
	    " agent_id_number_masked = CASE WHEN $10 THEN $16"
	    "  ELSE agent_id_number_masked END,"
	    " agent_id_number = CASE WHEN NOT $10 THEN agent_id_number END,"
	    " agent_relation = CASE WHEN $10 THEN $13 ELSE agent_relation END,"
	    " agent_phone_enc = CASE WHEN $10 THEN $14 ELSE agent_phone_enc END,"
	    " agent_phone_masked = CASE WHEN $10 THEN $17"
	    "  ELSE agent_phone_masked END,"
	    " agent_phone = CASE WHEN NOT $10 THEN agent_phone END,"
	    " updated_at = now()"
	    " WHERE a.id = $1 AND a.status IN " EDITABLE " AND " WRITE_SCOPE
	    " RETURNING a.id),"
	    " e AS (INSERT INTO events (application_id, type, actor_user,"
	    "  actor_role) SELECT id, 'updated', $6::bigint, $2 FROM u)"
	    " SELECT id FROM u",
	[STMT_WITHDRAW] =
	    "SELECT withdraw_application($1, $6::bigint, $2, $3::bigint, $4,"
	    " $5)::text AS withdrawn",
	[STMT_MATERIAL_RULES] =
	    /* The hospital's own records: any disease, hospital staff
	     * only (R-APP-7). */
	    "SELECT (dm.kind IS NOT NULL"
	    "  OR ($2 = 'hospital_record' AND $4 = 'hospital')) AS needed,"
	    " coalesce(mk.name, '') AS kind_name,"
	    " coalesce(dm.max_age_days,"
	    "  policy_value(a.region, 'material_max_age_days')::int)"
	    "  AS max_age_days,"
	    " policy_value(a.region, 'material_max_bytes')::bigint"
	    "  AS max_file_bytes,"
	    " policy_value(a.region, 'application_max_bytes')::bigint"
	    "  AS max_app_bytes,"
	    " (SELECT coalesce(sum(size_bytes), 0) FROM materials m"
	    "  WHERE m.application_id = a.id AND m.deleted_at IS NULL)"
	    "  AS used_bytes,"
	    " cn_today() - $3::date AS age_days"
	    " FROM applications a"
	    /* The region's list (sql/fn/94_catalog_admin.sql). */
	    " LEFT JOIN region_materials(a.region, a.disease) dm"
	    "  ON dm.kind = $2"
	    " LEFT JOIN material_kinds mk ON mk.code = $2"
	    " WHERE a.id = $1",
	[STMT_MATERIAL_ADD] =
	    "WITH m AS (INSERT INTO materials (application_id, kind, issued_on,"
	    "  issuer, sha256, size_bytes, media_type, uploaded_by, blob,"
	    "  key_id, file_key)"
	    "  SELECT $1, $2, $3::date, $4, $5, $6::bigint, $7, $8, $11,"
	    "  $12::int, $13::bytea"
	    "  FROM applications a WHERE id = $1 AND (status IN " EDITABLE
	    "   OR " OBJECTING
	    "   OR (status = 'submitted' AND review_mode = 'onsite'"
	    "    AND certifying_institution IS NOT NULL AND NOT EXISTS"
	    "    (SELECT 1 FROM certifications c WHERE c.application_id = $1)))"
	    "  RETURNING id, created_at),"
	    " e AS (INSERT INTO events (application_id, type, actor_user,"
	    "  actor_role, data) SELECT $1, 'material_added', $8, $9,"
	    "  jsonb_build_object('material_id', m.id, 'kind', $2::text,"
	    "  'kind_name', $10::text) FROM m)"
	    " SELECT json_build_object('id', id, 'kind', $2::text,"
	    " 'name', $10::text, 'issued_on', $3::date, 'issuer', $4::text,"
	    " 'media_type', $7::text, 'size', $6::bigint,"
	    " 'uploaded_at', created_at)::text AS material FROM m",
	[STMT_MATERIAL_DELETE] =
	    "WITH m AS (UPDATE materials SET deleted_at = now()"
	    "  WHERE id = $7 AND application_id = $1 AND deleted_at IS NULL"
	    "  AND EXISTS (SELECT 1 FROM applications a WHERE a.id = $1"
	    "   AND a.status IN " EDITABLE " AND " WRITE_SCOPE ")"
	    "  RETURNING id, kind),"
	    " e AS (INSERT INTO events (application_id, type, actor_user,"
	    "  actor_role, data) SELECT $1, 'material_removed', $6::bigint,"
	    "  $2,"
	    "  jsonb_build_object('material_id', m.id, 'kind', m.kind,"
	    "  'kind_name', k.name) FROM m JOIN material_kinds k"
	    "  ON k.code = m.kind)"
	    " SELECT id FROM m",
	[STMT_MATERIAL_FILE] =
	    "WITH f AS (SELECT m.id, m.sha256, m.media_type, m.size_bytes,"
	    "  m.blob, m.key_id, m.file_key, m.shredded_at, a.person_id"
	    "  FROM materials m JOIN applications a ON a.id = m.application_id"
	    "  WHERE m.id = $1 AND m.deleted_at IS NULL AND (" SCOPE
	    /* The hospital that certifies it (issue 11, its archive). */
	    "  OR ($2 = 'hospital' AND a.certifying_institution = $4)"
	    /* The agency of the certifying hospital's region too (its
	     * archive, S4 三; sql/fn/74_confirm.sql agency_may_open). */
	    "  OR ($2 = 'agency' AND agency_may_open(a.id, $5))"
	    /* An expert holding an accepted task of the application. */
	    "  OR ($2 = 'expert' AND EXISTS (SELECT 1 FROM assignments x"
	    "   WHERE x.application_id = a.id AND x.expert_id = $6::bigint"
	    "   AND x.state IN ('accepted', 'decided')))"
	    /* A quarterly review's reviewer of the application
	     * (sql/fn/88_quarterly_review.sql). */
	    "  OR ($2 = 'expert' AND reviewer_may_open(a.id, $6::bigint)))),"
	    " l AS (INSERT INTO access_log (user_id, person_id, object_type,"
	    "  object_id, action) SELECT $6, person_id, 'material', id,"
	    "  'download' FROM f)"
	    " SELECT sha256, media_type, size_bytes, blob, key_id,"
	    "  encode(file_key, 'hex') AS file_key,"
	    "  shredded_at IS NOT NULL AS shredded FROM f",
	/* Where material $1's file is now (after it was found plain and
	 * its plain file had gone: `mtcertctl files encrypt` sealed it). */
	[STMT_MATERIAL_SEALED] =
	    "SELECT blob, key_id, encode(file_key, 'hex') AS file_key"
	    " FROM materials WHERE id = $1 AND file_key IS NOT NULL",
	/* Every rule and the change in one call
	 * (sql/fn/20_applications.sql: submit_application). */
	[STMT_SUBMIT] =
	    "SELECT submit_application($1, $2, $3, $4::bigint, $5, $6)::text"
	    " AS result",
	/* Objections and hospitals' appeals: the scope, every rule and the
	 * change in one call (sql/fn/80_objection.sql). */
	[STMT_OBJECTION] =
	    "SELECT file_objection($1, $2::bigint, $3, $4::bigint, $5, $6)"
	    "::text AS result",
	/* The person's own application $1 (or one they filed as the family
	 * agent): role $2, person $3, as SCOPE's insured part. */
	[STMT_READS_OWNER] =
	    "SELECT 1 FROM applications a WHERE a.id = $1 AND $2 = 'insured'"
	    " AND $3::bigint IN (a.person_id, a.agent_person_id)",
	/* Each logged read of application $1 and its materials, newest
	 * first (index access_log_person): when, the reader's role, their
	 * hospital or agency -- never an expert's name or institution (the
	 * review is blind) nor any staff member's name. */
	[STMT_READS] =
	    "SELECT json_build_object('id', l.id, 'at', l.at,"
	    " 'role', u.role, 'object_type', l.object_type,"
	    " 'object_id', l.object_id, 'action', l.action,"
	    " 'self', coalesce(u.person_id = a.person_id, false),"
	    " 'institution', CASE u.role"
	    "  WHEN 'hospital' THEN json_build_object('code', i.code,"
	    "   'name', i.name)"
	    "  WHEN 'agency' THEN json_build_object('region', g.code,"
	    "   'name', g.name) END)::text AS item,"
	    " l.id AS next_cursor"
	    " FROM applications a"
	    " JOIN access_log l ON l.person_id = a.person_id"
	    " JOIN users u ON u.id = l.user_id"
	    " LEFT JOIN institutions i ON i.code = u.institution"
	    " LEFT JOIN regions g ON g.code = u.region"
	    " WHERE a.id = $1 AND (($3::bigint IS NULL OR l.id < $3::bigint))"
	    " AND ((l.object_type IN ('application', 'certification')"
	    "   AND l.object_id = a.id)"
	    "  OR (l.object_type = 'material' AND EXISTS (SELECT 1"
	    "   FROM materials m WHERE m.id = l.object_id"
	    "   AND m.application_id = a.id)))"
	    " ORDER BY l.id DESC LIMIT $2::int",
};


_Static_assert(STMT__MAX == APPLY_NSTMTS, "APPLY_NSTMTS in apply_db.h");

/* See apply_db.h. */
void
apply_scope_of(const struct mt_req *req, struct apply_scope *sc)
{
	const struct mt_session *s = req->session;

	sc->role = mt_role_name(s->role);
	snprintf(sc->person, sizeof(sc->person), "%lld", s->person_id);
	sc->institution = s->institution;
	sc->region = s->region;
	snprintf(sc->user, sizeof(sc->user), "%lld", s->user_id);
}

/* The scope as the statements' parameters $2..$6 into p[1..5]. */
static void
scope_params(const char **p, const struct apply_scope *sc)
{
	p[1] = sc->role;
	p[2] = sc->person;
	p[3] = sc->institution;
	p[4] = sc->region;
	p[5] = sc->user;
}

/* Column name of row 0 of res as a malloc'd copy, or NULL. */
static char *
col_dup(const PGresult *res, const char *name)
{
	const char *v = mt_db_text(res, 0, name);

	return v != NULL ? mt_xstrdup(v) : NULL;
}

/* Column name of row 0 of res parsed as JSON (the caller puts it), or
 * NULL when SQL NULL. */
static json_object *
col_json(const PGresult *res, const char *name)
{
	const char *v = mt_db_text(res, 0, name);

	return v != NULL ? json_tokener_parse(v) : NULL;
}

/*
 * Run stmt with n parameters p; *rows gets the row count.  The result
 * (the caller clears it), or NULL after answering 503/500.
 */
static PGresult *
run(struct mt_req *req, enum stmt stmt, int n, const char *const *p,
    int *rows)
{
	PGresult *res = mt_db_query_or_reply(req, stmt, n, p);

	*rows = res != NULL ? PQntuples(res) : -1;
	return res;
}

/* See apply_db.h. */
int
apply_db_person(struct mt_req *req, const char *id_number, const char *name,
    char *person, char *region)
{
	char h[MT_IDENTITY_HMAC_LEN + 1];
	const char *p[2] = { h, name };
	PGresult *res;
	int rows;

	if (mt_identity_hmac_or_reply(req, MT_IDENTITY_ID_NUMBER, id_number,
	    h) < 0 ||
	    (res = run(req, STMT_PERSON_BY_NUMBER, 2, p, &rows)) == NULL)
		return -1;
	mt_db_copy(res, 0, "id", person, 24);
	mt_db_copy(res, 0, "region", region, 8);
	PQclear(res);
	return rows > 0;
}

/* See apply_db.h. */
int
apply_db_person_card(struct mt_req *req, const char *person,
    struct apply_person *c)
{
	const char *p[1] = { person };
	PGresult *res;
	int rows;

	if ((res = run(req, STMT_PERSON_BY_ID, 1, p, &rows)) == NULL)
		return -1;
	if (rows > 0 && (mt_identity_open(MT_IDENTITY_ID_NUMBER,
	    mt_db_get(res, 0, "id_number_enc"), c->id_number,
	    sizeof(c->id_number)) != 0 || mt_identity_open(MT_IDENTITY_PHONE,
	    mt_db_get(res, 0, "phone_enc"), c->phone, sizeof(c->phone)) != 0)) {
		PQclear(res);
		mt_log_error("person %s: sealed ID number or phone does not "
		    "open", person);
		return mt_reply_unavailable(req, "密钥");
	}
	mt_db_copy(res, 0, "name", c->name, sizeof(c->name));
	PQclear(res);
	return rows > 0;
}

/* See apply_db.h. */
int
apply_db_relative_fit(struct mt_req *req, const char *region,
    const char *disease, const char *inst, struct apply_region_fit *fit)
{
	const char *p[3] = { region, disease, inst };
	char flag[4];
	PGresult *res;
	int rows;

	if ((res = run(req, STMT_RELATIVE_FIT, 3, p, &rows)) == NULL)
		return -1;
	fit->name[0] = '\0';
	fit->in_catalog = fit->may_serve = 0;
	if (rows > 0) {
		mt_db_copy(res, 0, "name", fit->name, sizeof(fit->name));
		mt_db_copy(res, 0, "in_catalog", flag, sizeof(flag));
		fit->in_catalog = flag[0] == '1';
		mt_db_copy(res, 0, "may_serve", flag, sizeof(flag));
		fit->may_serve = flag[0] == '1';
	}
	PQclear(res);
	return rows > 0;
}

/* See apply_db.h. */
int
apply_db_disease(struct mt_req *req, const char *disease, const char *region,
    char *mode)
{
	const char *p[2] = { disease, region };
	PGresult *res;
	int rows;

	if ((res = run(req, STMT_DISEASE, 2, p, &rows)) == NULL)
		return -1;
	mt_db_copy(res, 0, "review_mode", mode, 16);
	PQclear(res);
	return rows > 0;
}

/* See apply_db.h. */
int
apply_db_institution(struct mt_req *req, const char *code)
{
	const char *p[1] = { code };

	return mt_db_affected_or_reply(req, STMT_INSTITUTION, 1, p);
}

/*
 * Insert the application d (s: its phones and agent's ID number sealed)
 * and its first event; writes its id (24).  0,
 * or -1 after answering 409 (one open application per person and
 * disease), 503 or 500.
 */
static int
insert_or_reply(struct mt_req *req, const struct apply_scope *sc,
    const struct apply_draft *d, const struct apply_sealed *s, char *id)
{
	const char *p[20] = { d->person, d->disease, d->region, d->channel,
	    d->review_mode, s->phone.enc, d->record_no, d->institution,
	    d->filing, sc->user, d->agent.name, s->agent_id.enc,
	    d->agent.relation, s->agent_phone.enc,
	    d->event != NULL ? d->event : "created", sc->role,
	    d->agent_person, apply_sealed_masked(&s->phone),
	    apply_sealed_masked(&s->agent_id),
	    apply_sealed_masked(&s->agent_phone) };
	PGresult *res;
	int dup;

	res = mt_db_exec(req->db, STMT_CREATE, 20, p);
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
	mt_db_copy(res, 0, "id", id, 24);
	PQclear(res);
	return 0;
}

/*
 * The submission rules besides materials (submission_refusal: designated
 * hospital of the region, the certifying hospital's authorization,
 * already qualified, R-APP-6's yearly limit) on application id, so a
 * person learns before uploading anything what submit would refuse.
 * With field set, just a refusal naming that field counts (the
 * designated hospital: not designated for the disease, or not
 * certifying it).  0 when they pass, or -1 after answering the refusal
 * (403, 422), 503 or 500.
 */
static int
refusal_or_reply(struct mt_req *req, const char *id, const char *field)
{
	const char *p[1] = { id };
	json_object *r, *f;
	PGresult *res;
	int rows, rc = 0;

	if ((res = run(req, STMT_REFUSAL, 1, p, &rows)) == NULL)
		return -1;
	if ((r = col_json(res, "refusal")) != NULL) {
		if (field == NULL ||
		    (json_object_object_get_ex(r, "field", &f) &&
		    strcmp(json_object_get_string(f), field) == 0))
			rc = mt_reply_refusal(req, r);
		json_object_put(r);
	}
	PQclear(res);
	return rc;
}

/* Record the pre-check of hospital filing id (R-APP-7).  0, or -1 after
 * answering 503/500. */
static int
precheck_or_reply(struct mt_req *req, const struct apply_scope *sc,
    const char *id)
{
	const char *p[2] = { id, sc->user };

	return mt_db_affected_or_reply(req, STMT_PRECHECK, 2, p) < 0 ? -1 : 0;
}

/* See apply_db.h. */
int
apply_db_create(struct mt_req *req, const struct apply_scope *sc,
    const struct apply_draft *d, char *id)
{
	struct apply_sealed s;
	int rc = -1;

	if (apply_sealed_or_reply(req, d->phone, &d->agent, &s) < 0)
		return -1;
	if (mt_db_begin(req->db) != 0) {
		rc = mt_reply_unavailable(req, "数据库");
		goto out;
	}
	if (insert_or_reply(req, sc, d, &s, id) < 0 ||
	    refusal_or_reply(req, id, NULL) < 0 ||
	    (d->filing != NULL && precheck_or_reply(req, sc, id) < 0)) {
		mt_db_rollback(req->db);
		goto out;
	}
	rc = mt_db_commit(req->db) != 0 ?
	    mt_reply_unavailable(req, "数据库") : 0;
out:
	apply_sealed_free(&s);
	return rc;
}

/* See apply_db.h. */
int
apply_db_status(struct mt_req *req, const struct apply_scope *sc,
    const char *id, char *status)
{
	const char *p[6] = { id };
	PGresult *res;
	int rows;

	scope_params(p, sc);
	if ((res = run(req, STMT_OWNED, 5, p, &rows)) == NULL)
		return -1;
	mt_db_copy(res, 0, "status", status, 16);
	PQclear(res);
	return rows > 0;
}

/*
 * The full phones of row 0 of res (VIEW_PHONES) into *view.  0, or -1
 * after answering 503 (a seal does not open: the keys) or 500; *view is
 * then freed and NULL.
 */
static int
with_phones_or_reply(struct mt_req *req, const PGresult *res, char **view)
{
	struct apply_view_phones ph = {
		.phone = mt_db_text(res, 0, "phone"),
		.phone_enc = mt_db_text(res, 0, "phone_enc"),
		.agent_phone = mt_db_text(res, 0, "agent_phone"),
		.agent_phone_enc = mt_db_text(res, 0, "agent_phone_enc"),
	};

	if (apply_view_phones(view, &ph) == 0)
		return 0;
	free(*view);
	*view = NULL;
	return mt_reply_unavailable(req, "密钥");
}

/* See apply_db.h. */
int
apply_db_view(struct mt_req *req, const struct apply_scope *sc,
    const char *id, char **view)
{
	const char *own[2] = { id, sc->person }, *p[6] = { id };
	PGresult *res = NULL;
	int rows = 0;

	if (strcmp(sc->role, "insured") == 0) {
		if ((res = run(req, STMT_DETAIL_OWN, 2, own, &rows)) == NULL)
			return -1;
		/* Not their own: a relative's, read as the agent (logged). */
		if (rows == 0) {
			PQclear(res);
			res = NULL;
		}
	}
	scope_params(p, sc);
	if (res == NULL &&
	    (res = run(req, STMT_DETAIL_LOGGED, 6, p, &rows)) == NULL)
		return -1;
	*view = col_dup(res, "view");
	if (*view != NULL && with_phones_or_reply(req, res, view) < 0) {
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return *view != NULL;
}

/* See apply_db.h. */
int
apply_db_reply_list(struct mt_req *req, const struct apply_scope *sc,
    const char *cursor, const char *status, int limit)
{
	const char *p[7] = { cursor };

	scope_params(p, sc);
	p[5] = status;
	/* mt_reply_items: column 0 the item, column 1 the cursor; $7 the
	 * limit. */
	return mt_db_reply_page(req, STMT_LIST, 7, p, 6, limit);
}

/* Run STMT_PATCH for pt on application id.  1 written, 0 not editable,
 * -1 after answering 503/500. */
static int
patch_row(struct mt_req *req, const struct apply_scope *sc, const char *id,
    const struct apply_patch *pt)
{
	struct apply_sealed s;
	const char *p[17] = { id };
	int rc;

	if (apply_sealed_or_reply(req, pt->phone, &pt->agent, &s) < 0)
		return -1;
	scope_params(p, sc);
	p[6] = s.phone.enc;
	p[7] = pt->record_no;
	p[8] = pt->institution;
	p[9] = pt->set_agent ? "true" : "false";
	p[10] = pt->agent.name;
	p[11] = s.agent_id.enc;
	p[12] = pt->agent.relation;
	p[13] = s.agent_phone.enc;
	p[14] = apply_sealed_masked(&s.phone);
	p[15] = apply_sealed_masked(&s.agent_id);
	p[16] = apply_sealed_masked(&s.agent_phone);
	rc = mt_db_affected_or_reply(req, STMT_PATCH, 17, p);
	apply_sealed_free(&s);
	return rc;
}

/* See apply_db.h. */
int
apply_db_patch(struct mt_req *req, const struct apply_scope *sc,
    const char *id, const struct apply_patch *pt)
{
	int rc;

	if (pt->institution == NULL)
		return patch_row(req, sc, id, pt);
	/* A new hospital: checked in the same transaction (issue 9 A6). */
	if (mt_db_begin(req->db) != 0)
		return mt_reply_unavailable(req, "数据库");
	rc = patch_row(req, sc, id, pt);
	if (rc > 0 && refusal_or_reply(req, id, "designated_institution") < 0)
		rc = -1;
	if (rc <= 0)
		mt_db_rollback(req->db);
	else if (mt_db_commit(req->db) != 0)
		return mt_reply_unavailable(req, "数据库");
	return rc;
}

/* See apply_db.h. */
int
apply_db_withdraw(struct mt_req *req, const struct apply_scope *sc,
    const char *id, json_object **w)
{
	const char *p[6] = { id };
	PGresult *res;
	int rows;

	scope_params(p, sc);
	if ((res = run(req, STMT_WITHDRAW, 6, p, &rows)) == NULL)
		return -1;
	*w = col_json(res, "withdrawn");
	PQclear(res);
	return *w != NULL;
}

/* See apply_db.h. */
int
apply_db_submit(struct mt_req *req, const struct apply_scope *sc,
    const char *id, json_object **ok)
{
	const char *p[6] = { id, sc->user, sc->role, sc->person,
	    sc->institution, sc->region };

	return mt_db_outcome_or_reply(req, STMT_SUBMIT, 6, p, "result", ok);
}

/* See apply_db.h. */
int
apply_db_material_rules(struct mt_req *req, const struct apply_scope *sc,
    const char *id, const char *kind, const char *issued,
    struct apply_material_rules *r)
{
	const char *p[4] = { id, kind, issued, sc->role };
	const char *needed;
	PGresult *res;
	int rows;

	if ((res = run(req, STMT_MATERIAL_RULES, 4, p, &rows)) == NULL)
		return -1;
	needed = mt_db_text(res, 0, "needed");
	r->needed = needed != NULL && strcmp(needed, "t") == 0;
	mt_db_copy(res, 0, "kind_name", r->kind_name, sizeof(r->kind_name));
	r->max_age_days = mt_db_ll(res, 0, "max_age_days");
	r->max_file_bytes = mt_db_ll(res, 0, "max_file_bytes");
	r->max_app_bytes = mt_db_ll(res, 0, "max_app_bytes");
	r->used_bytes = mt_db_ll(res, 0, "used_bytes");
	r->age_days = mt_db_ll(res, 0, "age_days");
	PQclear(res);
	return rows > 0;
}

/* See apply_db.h. */
int
apply_db_material_add(struct mt_req *req, const struct apply_scope *sc,
    const char *id, const struct apply_material *m, char **json)
{
	const char *p[13] = { id, m->kind, m->issued_on, m->issuer,
	    m->sha256, NULL, m->media_type, sc->user, sc->role,
	    m->kind_name, m->sealed->blob, NULL, NULL };
	char size[24], kid[16], key[2 * MT_KEYS_WRAPPED + 3];
	PGresult *res;
	int rows;

	snprintf(size, sizeof(size), "%zu", m->size);
	p[5] = size;
	snprintf(kid, sizeof(kid), "%d", m->sealed->kid);
	p[11] = kid;
	memcpy(key, "\\x", 2);
	mt_hex(m->sealed->wrapped, MT_KEYS_WRAPPED, key + 2);
	p[12] = key;
	if ((res = run(req, STMT_MATERIAL_ADD, 13, p, &rows)) == NULL)
		return -1;
	*json = col_dup(res, "material");
	PQclear(res);
	return *json != NULL;
}

/* See apply_db.h. */
int
apply_db_material_delete(struct mt_req *req, const struct apply_scope *sc,
    const char *id, const char *mid)
{
	const char *p[7] = { id, NULL, NULL, NULL, NULL, NULL, mid };

	scope_params(p, sc);
	return mt_db_affected_or_reply(req, STMT_MATERIAL_DELETE, 7, p);
}

/* A sealed file's name and wrapped key from row 0 of res (columns blob,
 * key_id, file_key as hex).  0, or -1 when it has none (a plain file of
 * before issue 15, or shredded). */
static int
sealed_of(const PGresult *res, struct mt_files_sealed *s)
{
	const char *hex = mt_db_text(res, 0, "file_key");
	size_t got = 0;

	if (hex == NULL || sodium_hex2bin(s->wrapped, sizeof(s->wrapped), hex,
	    strlen(hex), NULL, &got, NULL) != 0 || got != sizeof(s->wrapped))
		return -1;
	mt_db_copy(res, 0, "blob", s->blob, sizeof(s->blob));
	s->kid = (int)mt_db_ll(res, 0, "key_id");
	return 0;
}

/* See apply_db.h. */
int
apply_db_material_file(struct mt_req *req, const struct apply_scope *sc,
    const char *mid, struct apply_file *f)
{
	const char *p[6] = { mid };
	PGresult *res;
	int rows;

	scope_params(p, sc);
	if ((res = run(req, STMT_MATERIAL_FILE, 6, p, &rows)) == NULL)
		return -1;
	if (rows > 0) {
		mt_db_copy(res, 0, "sha256", f->sha256, sizeof(f->sha256));
		mt_db_copy(res, 0, "media_type", f->media_type,
		    sizeof(f->media_type));
		f->size = mt_db_ll(res, 0, "size_bytes");
		f->shredded = strcmp(mt_db_get(res, 0, "shredded"), "t") == 0;
		f->sealed = sealed_of(res, &f->file) == 0;
	}
	PQclear(res);
	return rows > 0;
}

/* See apply_db.h. */
int
apply_db_material_sealed(struct mt_req *req, const char *mid,
    struct mt_files_sealed *s)
{
	const char *p[1] = { mid };
	PGresult *res;
	int rows, rc;

	if ((res = run(req, STMT_MATERIAL_SEALED, 1, p, &rows)) == NULL)
		return -1;
	rc = rows > 0 && sealed_of(res, s) == 0;
	PQclear(res);
	return rc;
}

/* See apply_db.h. */
int
apply_db_objection(struct mt_req *req, const struct apply_scope *sc,
    const char *id, const char *reason, json_object **ok)
{
	const char *p[6] = { id, sc->user, sc->role, sc->person,
	    sc->institution, reason };

	return mt_db_outcome_or_reply(req, STMT_OBJECTION, 6, p, "result", ok);
}

/* See apply_db.h. */
int
apply_db_reply_reads(struct mt_req *req, const struct apply_scope *sc,
    const char *id, const char *cursor, int limit)
{
	const char *p[6] = { id };
	int found;

	scope_params(p, sc);
	if ((found = mt_db_affected_or_reply(req, STMT_READS_OWNER, 3, p)) <= 0)
		return found;
	p[1] = NULL;
	p[2] = cursor;
	/* mt_reply_items: column 0 the item, column 1 the cursor; $2 the
	 * limit. */
	return mt_db_reply_page(req, STMT_READS, 3, p, 1, limit) < 0 ? -1 : 1;
}
