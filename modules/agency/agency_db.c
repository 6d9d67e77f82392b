/*
 * agency_db.c -- the agency module's statements and the typed functions
 * over them (see agency_db.h).  Each statement's parameters are filled
 * by name (the enum above it lists its $1..$n), its columns are read by
 * name (PQfnumber of the AS names in the SQL).
 */
#include <stdio.h>
#include <string.h>

#include "agency_db.h"
#include "mt_db.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_identity.h"
#include "mt_log.h"
#include "mt_policy.h"

/* $n of the statements below. */
enum { POLICY_REGION, POLICY__N };
enum { EXPERTS_REGION, EXPERTS_STATUS, EXPERTS_CURSOR, EXPERTS_LIMIT,
	EXPERTS__N };
enum { ADD_LOGIN, ADD_HASH, ADD_INSTITUTION, ADD_TITLE, ADD_SPECIALTIES,
	ADD_PHONE_ENC, ADD_PHONE_MASKED, ADD_REGION, ADD__N };
enum { GET_ID, GET__N };
enum { REINSTATE_ID, REINSTATE_REGION, REINSTATE__N };
enum { QUEUE_REGION, QUEUE_STATUS, QUEUE_OVERDUE, QUEUE_CURSOR,
	QUEUE_LIMIT, QUEUE_CONFIRMATION, QUEUE_SEARCH, QUEUE_OBJECTION,
	QUEUE_SEARCH_ID, QUEUE_SEARCH_PHONE, QUEUE__N };
enum { QUALS_REGION, QUALS_STATUS, QUALS_DISEASE, QUALS_INSTITUTION,
	QUALS_CURSOR, QUALS_LIMIT, QUALS__N };
enum { END_ID, END_REGION, END_REASON, END_NOTE, END_ON, END_ACTOR,
	END_ROLE, END__N };
enum { REGION_CODE, REGION__N };
enum { REGION_SET_CODE, REGION_SET_NAME, REGION_SET_HOTLINE,
	REGION_SET_ADDRESS, REGION_SET__N };
enum { FEED_REGION, FEED_SINCE, FEED_LIMIT, FEED_READER, FEED__N };
enum { INSTS_REGION, INSTS_CERTIFYING, INSTS_CURSOR, INSTS_LIMIT,
	INSTS__N };
enum { AUTHZ_CODE, AUTHZ_REGION, AUTHZ__N };
enum { AUTHORIZE_CODE, AUTHORIZE_REGION, AUTHORIZE_DISEASES,
	AUTHORIZE_STATUS, AUTHORIZE_REASON, AUTHORIZE_ACTOR, AUTHORIZE__N };
enum { APP_ID, APP_REGION, APP_READER, APP__N };
enum { CONFIRM_ID, CONFIRM_REGION, CONFIRM_DECISION, CONFIRM_REASON,
	CONFIRM_ACTOR, CONFIRM_ROLE, CONFIRM__N };
enum { QSTAT_REGION, QSTAT_QUARTER, QSTAT__N };
enum { RDRAW_REGION, RDRAW_QUARTER, RDRAW_ACTOR, RDRAW__N };
enum { REVIEW_ID, REVIEW_REGION, REVIEW__N };
enum { ANEW_REGION, ANEW_FROM, ANEW_TO, ANEW_RATE, ANEW_ACTOR, ANEW__N };
enum { AUDITS_REGION, AUDITS_CURSOR, AUDITS_LIMIT, AUDITS__N };
enum { AUDIT_ID, AUDIT_REGION, AUDIT_READER, AUDIT__N };
enum { ARES_AUDIT, ARES_ITEM, ARES_REGION, ARES_RESULT, ARES_NOTE,
	ARES_ACTOR, ARES_ROLE, ARES__N };
enum { CATALOG_REGION, CATALOG__N };
enum { CSET_REGION, CSET_CODE, CSET_BODY, CSET_ACTOR, CSET_ROLE,
	CSET__N };
enum { CAL_YEAR, CAL__N };
enum { CALSET_YEAR, CALSET_DAYS, CALSET_ACTOR, CALSET_ROLE, CALSET_REGION,
	CALSET__N };
/* Sanctions and the expert pool (issue 12 item 6). */
enum { SUSPEND_ID, SUSPEND_REGION, SUSPEND_REASON, SUSPEND__N };
enum { SANCTION_REGION, SANCTION_FORM, SANCTION_ACTOR, SANCTION_ROLE,
	SANCTION__N };
enum { SANCTIONS_REGION, SANCTIONS_TYPE, SANCTIONS_STATE, SANCTIONS_CURSOR,
	SANCTIONS_LIMIT, SANCTIONS__N };
enum { SEXP_REGION, SEXP_MONTH, SEXP__N };
enum { STURN_REGION, STURN_FROM, STURN_TO, STURN__N };
enum { OBJS_REGION, OBJS_STATUS, OBJS_CURSOR, OBJS_LIMIT, OBJS__N };

const char *const agency_db_stmts[STMT__MAX] = {
	[STMT_POLICY] =
	    "SELECT json_build_object('region', r.code, 'name', r.name,"
	    " 'policies', coalesce((SELECT json_agg(json_build_object("
	    "   'key', k.key, 'value', coalesce(p.value, k.default_value),"
	    "   'type', k.type, 'min', k.min_value, 'max', k.max_value,"
	    "   'choices', k.choices, 'default', k.default_value,"
	    "   'requirement', k.requirement, 'description', k.description,"
	    "   'updated_at', p.updated_at) ORDER BY k.key)"
	    "  FROM policy_keys k LEFT JOIN policies p"
	    "   ON p.key = k.key AND p.region = r.code), '[]'::json))::text"
	    " AS policy FROM regions r WHERE r.code = $1",
	/* Items of a page (mt_reply_items: the JSON, then the cursor). */
	[STMT_EXPERTS] =
	    "SELECT expert_json(e.user_id)::text AS item,"
	    " e.user_id AS next_cursor FROM experts e"
	    " JOIN users u ON u.id = e.user_id"
	    " JOIN institutions i ON i.code = u.institution"
	    " WHERE ($1::text IS NULL OR i.region = $1)"
	    " AND ($2::text IS NULL OR e.status = $2)"
	    " AND ($3::bigint IS NULL OR e.user_id > $3::bigint)"
	    " ORDER BY e.user_id LIMIT $4::int",
	[STMT_EXPERT_ADD] =
	    "SELECT create_expert($1, $2, $3, $4, $5::text[], $6, $7, $8)::text"
	    " AS result",
	/* expert_json is NULL unless the expert, its user and institution
	 * all exist (its own joins; users.institution may be NULL): then
	 * no row, a 404. */
	[STMT_EXPERT_GET] =
	    "SELECT x::text AS expert FROM expert_json($1::bigint) x"
	    " WHERE x IS NOT NULL",
	/* Back in the pool with a clean count (R-CER-4), unless an active
	 * sanction holds the expert out (sql/fn/92_sanctions.sql: it ends
	 * on its date, run_sanctions): one row, held true then, none when
	 * no such expert of the region. */
	[STMT_REINSTATE] =
	    "WITH t AS (SELECT e.user_id, EXISTS (SELECT 1 FROM sanctions s"
	    "  WHERE s.state = 'active' AND s.subject_type = 'expert'"
	    "  AND s.subject = e.user_id::text) AS held"
	    "  FROM experts e JOIN users u ON u.id = e.user_id"
	    "  JOIN institutions i ON i.code = u.institution"
	    "  WHERE e.user_id = $1 AND ($2::text IS NULL OR i.region = $2)"
	    "  FOR UPDATE OF e),"
	    " r AS (UPDATE experts e SET status = 'active',"
	    "  consecutive_misses = 0, status_changed_at = now(),"
	    "  status_reason = NULL FROM t"
	    "  WHERE e.user_id = t.user_id AND NOT t.held RETURNING 1)"
	    " SELECT t.held FROM t",
	[STMT_QUEUE] =
	    "SELECT json_build_object('id', a.id, 'status', CASE WHEN"
	    "  a.unassigned_since IS NOT NULL AND a.status IN ('submitted',"
	    "  'in_review') THEN 'unassigned' ELSE a.status END,"
	    " 'stage', a.stage, 'disease', json_build_object('code', d.code,"
	    "  'name', d.name),"
	    " 'applicant', json_build_object('name', p.name,"
	    "  'id_number', shown_id(p.id_number_masked, p.id_number)),"
	    " 'submitted_at', a.submitted_at,"
	    " 'expected_decision_date', a.expected_decision_date,"
	    " 'overdue', a.expected_decision_date < cn_today(),"
	    " 'unassigned_since', a.unassigned_since,"
	    /* Waiting longer than the region's unassigned_notice_hours (the
	     * applicant has been told by SMS): the agency must act. */
	    " 'stuck', coalesce(a.unassigned_since <= now() - make_interval("
	    "  hours => policy_value(a.region, 'unassigned_notice_hours')::int)"
	    "  AND a.status IN ('submitted', 'in_review'), false),"
	    /* Hospitals certify (issue 11, sql/fn/74_confirm.sql). */
	    " 'certifying_institution', (SELECT json_build_object('code',"
	    "  ci.code, 'name', ci.name) FROM institutions ci"
	    "  WHERE ci.code = a.certifying_institution),"
	    " 'conclusion', hospital_conclusion(a.id),"
	    " 'confirmation', a.confirmation)::text AS item,"
	    " a.id AS cursor"
	    " FROM applications a JOIN persons p ON p.id = a.person_id"
	    " JOIN diseases d ON d.code = a.disease"
	    " WHERE ($1::text IS NULL OR a.region = $1)"
	    /* The 待确认 queue: by confirmation, in any status unless one
	     * is named. */
	    " AND ($6::text IS NULL OR a.confirmation = $6)"
	    /* A search (q), the 待确认 queue or an objection filter: any
	     * status unless named. */
	    " AND CASE coalesce($2, CASE WHEN $6 IS NULL AND $7::text IS NULL"
	    "  AND $8::text IS NULL THEN 'open' ELSE 'any' END)"
	    "  WHEN 'any' THEN true"
	    "  WHEN 'open' THEN a.status IN ('submitted', 'in_review')"
	    "  WHEN 'decided' THEN a.status IN ('approved', 'rejected')"
	    "  WHEN 'unassigned' THEN a.unassigned_since IS NOT NULL"
	    "   AND a.status IN ('submitted', 'in_review')"
	    "  ELSE a.status = $2 END"
	    " AND (NOT $3::boolean OR (a.status IN ('submitted', 'in_review')"
	    "  AND a.expected_decision_date < cn_today()))"
	    " AND ($4::bigint IS NULL OR a.id < $4::bigint)"
	    /* q: the application number, or the person's whole ID number
	     * or phone, each exact (issue 12: no tails, which would let a
	     * list be browsed by guessing four digits), these two by their
	     * lookup HMACs $9, $10.  At most 18 digits: the cast cannot
	     * overflow. */
	    " AND ($7::text IS NULL"
	    "  OR a.id = CASE WHEN $7 ~ '^[0-9]{1,18}$' THEN $7::bigint END"
	    "  OR p.id_number_hmac = $9 OR p.phone_hmac = $10)"
	    /* 有未结复核申请 and the like (sql/fn/80_objection.sql). */
	    " AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM objections o"
	    "  WHERE o.application_id = a.id AND objection_in_state(o, $8)))"
	    " ORDER BY a.id DESC LIMIT $5::int",
	/* Lists are masked and not logged, as the queue above: access_log
	 * holds reads of one person's record and exports. */
	[STMT_QUALIFICATIONS] =
	    "SELECT qualification_json(q.id)::text AS item, q.id AS next_cursor"
	    " FROM qualifications q"
	    " WHERE ($1::text IS NULL OR q.region = $1)"
	    " AND ($2::text IS NULL OR q.status = $2)"
	    " AND ($3::text IS NULL OR q.disease = $3)"
	    " AND ($4::text IS NULL OR q.designated_institution = $4)"
	    " AND ($5::bigint IS NULL OR q.id < $5::bigint)"
	    " ORDER BY q.id DESC LIMIT $6::int",
	/* The day the benefit ends: given, or today; never after today
	 * nor before the benefit began.  One that has not begun (valid_from
	 * after today: a quota disease from the 1st of next month) ends on
	 * valid_from, the default then: the benefit never starts.  Then
	 * end_qualification (sql/fn/50_benefit.sql) does the rest.  Another
	 * region's qualification is not found. */
	[STMT_QUALIFICATION_END] =
	    "SELECT (CASE WHEN q.id IS NULL THEN jsonb_build_object("
	    "  'error', 'qualification_not_found', 'field', 'id')"
	    " WHEN d.day > d.latest OR d.day < q.valid_from THEN"
	    "  jsonb_build_object('error', 'date_out_of_range',"
	    "  'field', 'ended_on', 'args', jsonb_build_array('终止日期',"
	    "  CASE WHEN d.latest > cn_today()"
	    "   THEN '待遇尚未开始，只能是待遇开始日期 ' || d.latest"
	    "   WHEN d.day > d.latest"
	    "   THEN '不能晚于今天（' || d.latest || '）'"
	    "   ELSE '不能早于待遇开始日期 ' || q.valid_from END))"
	    " ELSE end_qualification(q.id, $3, d.day, $6::bigint, $7, $4)"
	    " END)::text AS result"
	    " FROM (SELECT 1) one"
	    " LEFT JOIN qualifications q ON q.id = $1::bigint"
	    " AND ($2::text IS NULL OR q.region = $2)"
	    " CROSS JOIN LATERAL (SELECT greatest(cn_today(), q.valid_from)"
	    "  AS latest) l"
	    " CROSS JOIN LATERAL (SELECT coalesce($5::date, l.latest) AS day,"
	    "  l.latest) d",
	[STMT_REGION] =
	    "SELECT x::text AS region FROM region_contact_json($1) x"
	    " WHERE x IS NOT NULL",
	[STMT_REGION_SET] =
	    "UPDATE regions SET agency_name = $2, hotline = $3,"
	    " agency_address = $4 WHERE code = $1 RETURNING code",
	/* sql/fn/55_feed.sql: numbers what has committed, then reads. */
	[STMT_FEED] =
	    "SELECT qualification_feed($1, coalesce($2::bigint, 0), $3::int,"
	    " $4::bigint)::text AS page",
	/* Certification authorization: sql/fn/65_authorization.sql. */
	[STMT_INSTITUTIONS] =
	    "SELECT institution_authz_json(i.code)::text AS item,"
	    " i.code AS next_cursor FROM institutions i"
	    " WHERE ($1::text IS NULL OR i.region = $1)"
	    " AND ($2::boolean IS NULL OR i.certifying = $2::boolean)"
	    " AND ($3::text IS NULL OR i.code > $3)"
	    " ORDER BY i.code LIMIT $4::int",
	[STMT_AUTHORIZATIONS] =
	    "SELECT authorizations_json(i.code)::text AS body"
	    " FROM institutions i WHERE i.code = $1"
	    " AND ($2::text IS NULL OR i.region = $2)",
	[STMT_AUTHORIZE] =
	    "SELECT set_authorizations($1, $2, $3::jsonb, $4, $5,"
	    " $6::bigint)::text AS result",
	/* One application's archive (sql/fn/74_confirm.sql): the agency of
	 * the person's region or of the certifying hospital's; the read is
	 * logged, as a certification when it has the form. */
	[STMT_APPLICATION] =
	    "WITH a AS (SELECT a.id, a.person_id, EXISTS (SELECT 1"
	    "  FROM certifications c WHERE c.application_id = a.id) AS cert"
	    "  FROM applications a WHERE a.id = $1::bigint"
	    "  AND agency_may_open(a.id, $2::text)),"
	    " l AS (INSERT INTO access_log (user_id, person_id, object_type,"
	    "  object_id, action) SELECT $3::bigint, a.person_id, CASE WHEN"
	    "  a.cert THEN 'certification' ELSE 'application' END, a.id,"
	    "  'read' FROM a)"
	    " SELECT agency_application_json(a.id)::text AS application FROM a",
	/* Every rule and the change in one call (confirm_application). */
	[STMT_CONFIRM] =
	    "SELECT confirm_application($1::bigint, $2, $3, $4, $5::bigint,"
	    " $6)::text AS result",
	/* sql/fn/76_reports.sql (a NULL quarter: the last ended one). */
	[STMT_QUARTERLY_STATUS] =
	    "SELECT quarterly_status_json($1,"
	    " coalesce($2, quarter_before(cn_today())))::text AS result",
	/* The quarterly review (sql/fn/88_quarterly_review.sql). */
	[STMT_REVIEW_DRAW] =
	    "SELECT draw_quarterly_review($1, $2, $3::bigint)::text AS result",
	[STMT_REVIEWS] = "SELECT quarterly_reviews_json($1)::text AS result",
	[STMT_REVIEW] =
	    "SELECT quarterly_review_of($1::bigint, $2)::text AS result",
	/* Audit samples: sql/fn/86_audit.sql. */
	[STMT_AUDIT_NEW] =
	    "SELECT create_audit($1, $2::date, $3::date, $4::int,"
	    " $5::bigint)::text AS result",
	[STMT_AUDITS] =
	    "SELECT audit_json(x.id, false)::text AS item, x.id AS next_cursor"
	    " FROM audits x WHERE ($1::text IS NULL OR x.region = $1)"
	    " AND ($2::bigint IS NULL OR x.id < $2::bigint)"
	    " ORDER BY x.id DESC LIMIT $3::int",
	/* The read is logged per sampled person (access_log). */
	[STMT_AUDIT] =
	    "SELECT x::text AS audit FROM audit_report_read($1::bigint, $2,"
	    " $3::bigint) x WHERE x IS NOT NULL",
	[STMT_AUDIT_RESULT] =
	    "SELECT record_audit_result($1::bigint, $2::bigint, $3, $4, $5,"
	    " $6::bigint, $7)::text AS result",
	/* The agency's catalog and the calendar: sql/fn/
	 * 94_catalog_admin.sql. */
	[STMT_CATALOG] =
	    "SELECT x::text AS catalog FROM agency_catalog_json($1) x"
	    " WHERE x IS NOT NULL",
	[STMT_CATALOG_SET] =
	    "SELECT set_catalog_entry($1, $2, $3::jsonb, $4::bigint, $5)::text"
	    " AS result",
	[STMT_CALENDAR] =
	    "SELECT calendar_year_json($1::int)::text AS calendar",
	[STMT_CALENDAR_SET] =
	    "SELECT set_calendar_year($1::int, $2::jsonb, $3::bigint, $4,"
	    " $5)::text AS result",
	/* Sanctions and the expert pool (issue 12 item 6). */
	/* Out of the pool until reinstated (R-CER-4); a disqualified
	 * expert stays disqualified. */
	[STMT_SUSPEND] =
	    "UPDATE experts e SET status = CASE e.status WHEN 'disqualified'"
	    " THEN e.status ELSE 'suspended' END, status_reason = $3,"
	    " status_changed_at = now() FROM users u, institutions i"
	    " WHERE e.user_id = $1 AND u.id = e.user_id"
	    " AND i.code = u.institution AND ($2::text IS NULL OR i.region = $2)"
	    " RETURNING e.user_id",
	/* sql/fn/92_sanctions.sql: the record and its effect. */
	[STMT_SANCTION_ADD] =
	    "SELECT record_sanction($1, $2::jsonb, $3::bigint, $4)::text"
	    " AS result",
	[STMT_SANCTIONS] =
	    "SELECT sanction_json(s)::text AS item, s.id AS next_cursor"
	    " FROM sanctions s"
	    " WHERE ($1::text IS NULL OR s.region = $1)"
	    " AND ($2::text IS NULL OR s.subject_type = $2)"
	    " AND ($3::text IS NULL OR s.state = $3)"
	    " AND ($4::bigint IS NULL OR s.id < $4::bigint)"
	    " ORDER BY s.id DESC LIMIT $5::int",
	/* Statistics: sql/fn/90_stats.sql. */
	[STMT_STATS_EXPERTS] =
	    "SELECT expert_stats_json($1, $2)::text AS result",
	[STMT_STATS_TURNAROUND] =
	    "SELECT turnaround_stats_json($1, $2::date, $3::date)::text"
	    " AS result",
	/* The objections of a region, newest first: sql/fn/
	 * 80_objection.sql. */
	[STMT_OBJECTIONS] =
	    "SELECT agency_objection_json(o)::text AS item, o.id AS next_cursor"
	    " FROM objections o JOIN applications a ON a.id = o.application_id"
	    " WHERE ($1::text IS NULL OR a.region = $1)"
	    " AND objection_in_state(o, coalesce($2, 'any'))"
	    " AND ($3::bigint IS NULL OR o.id < $3::bigint)"
	    " ORDER BY o.id DESC LIMIT $4::int",
};

/*
 * The text of column col of res's one row into *out (owned by res).
 * Returns 1, 0 when there is no row, or -1 after answering 500 (a
 * statement without that column, or NULL in it, is a bug: logged).
 */
static int
one_text(struct mt_req *req, PGresult *res, const char *col,
    const char **out)
{
	int c = PQfnumber(res, col);

	if (PQntuples(res) == 0)
		return 0;
	if (c < 0 || PQgetisnull(res, 0, c)) {
		mt_log_warn("agency: no %s in the statement's row", col);
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	*out = PQgetvalue(res, 0, c);
	return 1;
}

/*
 * Run stmt and answer status with the JSON text of column col of its one
 * row; without one, answer none (a 404 naming field).  Returns 0 or -1.
 */
static int
reply_row(struct mt_req *req, int stmt, int n, const char *const *p,
    int status, const char *col, enum mt_err none, const char *field)
{
	const char *json;
	PGresult *res;
	int rc;

	if ((res = mt_db_query_or_reply(req, stmt, n, p)) == NULL)
		return -1;
	if ((rc = one_text(req, res, col, &json)) == 1)
		rc = mt_reply_raw(req, status, "application/json; charset=utf-8",
		    json, strlen(json));
	else if (rc == 0)
		rc = mt_reply_err(req, none, field);
	PQclear(res);
	return rc;
}

/* See agency_db.h. */
int
agency_db_reply_experts(struct mt_req *req, const char *region,
    const char *status, const char *cursor, int limit)
{
	const char *p[EXPERTS__N] = {
		[EXPERTS_REGION] = region,
		[EXPERTS_STATUS] = status,
		[EXPERTS_CURSOR] = cursor,
	};

	return mt_db_reply_page(req, STMT_EXPERTS, EXPERTS__N, p,
	    EXPERTS_LIMIT, limit);
}

/*
 * A PostgreSQL text[] literal of the strings of array a into buf, each
 * quoted (" and \ escaped).
 */
static void
text_array(struct mt_buf *buf, json_object *a)
{
	size_t i, n = json_object_array_length(a);
	const char *s;

	mt_buf_puts(buf, "{");
	for (i = 0; i < n; i++) {
		mt_buf_puts(buf, i ? ",\"" : "\"");
		for (s = json_object_get_string(json_object_array_get_idx(a,
		    i)); *s != '\0'; s++)
			mt_buf_printf(buf, "%s%c", *s == '"' || *s == '\\' ?
			    "\\" : "", *s);
		mt_buf_puts(buf, "\"");
	}
	mt_buf_puts(buf, "}");
}

/*
 * create_expert's answer json: {"id"} into *id (0), or its refusal
 * answered (-1).
 */
static int
expert_created(struct mt_req *req, const char *json, long long *id)
{
	json_object *r = json_tokener_parse(json), *v;
	int rc = 0;

	if (r != NULL && json_object_object_get_ex(r, "error", &v))
		rc = mt_reply_refusal(req, r);
	else if (r != NULL && json_object_object_get_ex(r, "id", &v))
		*id = json_object_get_int64(v);
	else {
		mt_log_warn("agency: create_expert answered no id");
		rc = mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	json_object_put(r);
	return rc;
}

/* See agency_db.h. */
int
agency_db_create_expert(struct mt_req *req, const struct agency_expert_new *e,
    long long *id)
{
	struct mt_identity_cols ph = {0};
	struct mt_buf spec = {0};
	const char *p[ADD__N], *json;
	PGresult *res;
	int rc;

	/* The phone kept sealed, with its mask (044_identity_rest.sql). */
	if (e->phone != NULL && mt_identity_cols_or_reply(req,
	    MT_IDENTITY_PHONE, e->phone, &ph) < 0)
		return -1;
	text_array(&spec, e->specialties);
	p[ADD_LOGIN] = e->login;
	p[ADD_HASH] = e->password_hash;
	p[ADD_INSTITUTION] = e->institution;
	p[ADD_TITLE] = e->title;
	p[ADD_SPECIALTIES] = spec.data;
	p[ADD_PHONE_ENC] = ph.enc;
	p[ADD_PHONE_MASKED] = ph.enc != NULL ? ph.masked : NULL;
	p[ADD_REGION] = e->region;
	res = mt_db_query_or_reply(req, STMT_EXPERT_ADD, ADD__N, p);
	mt_identity_cols_free(&ph);
	mt_buf_free(&spec);
	if (res == NULL)
		return -1;
	if ((rc = one_text(req, res, "result", &json)) == 1)
		rc = expert_created(req, json, id);
	else if (rc == 0) {
		mt_log_warn("agency: create_expert answered no row");
		rc = mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	PQclear(res);
	return rc;
}

/* See agency_db.h. */
int
agency_db_reply_expert(struct mt_req *req, int status, long long id)
{
	char ids[24];
	const char *p[GET__N] = { [GET_ID] = ids };

	snprintf(ids, sizeof(ids), "%lld", id);
	return reply_row(req, STMT_EXPERT_GET, GET__N, p, status, "expert",
	    MT_E_EXPERT_NOT_FOUND, "id");
}

/* See agency_db.h. */
int
agency_db_reinstate(struct mt_req *req, long long id, const char *region)
{
	char ids[24];
	const char *p[REINSTATE__N] = {
		[REINSTATE_ID] = ids,
		[REINSTATE_REGION] = region,
	};
	PGresult *res;
	int held;

	snprintf(ids, sizeof(ids), "%lld", id);
	if ((res = mt_db_query_or_reply(req, STMT_REINSTATE, REINSTATE__N,
	    p)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mt_reply_err(req, MT_E_EXPERT_NOT_FOUND, "id");
	}
	held = strcmp(mt_db_get(res, 0, "held"), "t") == 0;
	PQclear(res);
	return held ? mt_reply_err(req, MT_E_EXPERT_SANCTIONED, "id") : 0;
}

/* See agency_db.h. */
int
agency_db_reply_queue(struct mt_req *req, const struct agency_queue_query *q)
{
	char idh[MT_IDENTITY_HMAC_LEN + 1], ph[MT_IDENTITY_HMAC_LEN + 1];
	const char *p[QUEUE__N] = {
		[QUEUE_REGION] = q->region,
		[QUEUE_STATUS] = q->status,
		[QUEUE_OVERDUE] = q->overdue ? "true" : "false",
		[QUEUE_CURSOR] = q->cursor,
		[QUEUE_CONFIRMATION] = q->confirmation,
		[QUEUE_SEARCH] = q->search,
		[QUEUE_OBJECTION] = q->objection,
		[QUEUE_SEARCH_ID] = idh,
		[QUEUE_SEARCH_PHONE] = ph,
	};

	if (q->search == NULL)
		idh[0] = ph[0] = '\0';
	else if (mt_identity_hmac_or_reply(req, MT_IDENTITY_ID_NUMBER,
	    q->search, idh) < 0 || mt_identity_hmac_or_reply(req,
	    MT_IDENTITY_PHONE, q->search, ph) < 0)
		return -1;
	return mt_db_reply_page(req, STMT_QUEUE, QUEUE__N, p, QUEUE_LIMIT,
	    q->limit);
}

/* See agency_db.h. */
int
agency_db_reply_policy(struct mt_req *req, const char *region)
{
	const char *p[POLICY__N] = { [POLICY_REGION] = region };

	return reply_row(req, STMT_POLICY, POLICY__N, p, 200, "policy",
	    MT_E_REGION_NOT_FOUND, "region");
}

/* See agency_db.h. */
int
agency_db_set_policy(struct mt_req *req, const char *region,
    const char *key, const char *value, const char *by)
{
	json_object *why;
	int rc;

	switch (mt_policy_set(req->db, region, key, value, by, &why)) {
	case MT_POLICY_SET_OK:
		return 0;
	case MT_POLICY_SET_NO_REGION:
		return mt_reply_err(req, MT_E_REGION_NOT_FOUND, "region");
	case MT_POLICY_SET_REFUSED:
		rc = mt_reply_refusal(req, why);
		json_object_put(why);
		return rc;
	default:
		return mt_reply_unavailable(req, "数据库");
	}
}

/* See agency_db.h. */
int
agency_db_reply_qualifications(struct mt_req *req,
    const struct agency_qual_query *q)
{
	const char *p[QUALS__N] = {
		[QUALS_REGION] = q->region,
		[QUALS_STATUS] = q->status,
		[QUALS_DISEASE] = q->disease,
		[QUALS_INSTITUTION] = q->institution,
		[QUALS_CURSOR] = q->cursor,
	};

	return mt_db_reply_page(req, STMT_QUALIFICATIONS, QUALS__N, p,
	    QUALS_LIMIT, q->limit);
}

/*
 * An SQL function's answer json: 200 with its "ok" member, or its
 * refusal through the error table.  Returns 0 or -1.
 */
static int
reply_ok_or_refusal(struct mt_req *req, const char *json)
{
	json_object *r = json_tokener_parse(json), *v;
	int rc;

	if (r != NULL && json_object_object_get_ex(r, "ok", &v))
		rc = mt_reply_json(req, 200, json_object_get(v));
	else if (r != NULL && json_object_object_get_ex(r, "error", &v))
		rc = mt_reply_refusal(req, r);
	else {
		mt_log_warn("agency: an answer with neither ok nor error");
		rc = mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	json_object_put(r);
	return rc;
}

/*
 * Run stmt, an SQL function's call answering one row with column
 * "result", and answer as reply_ok_or_refusal.  Returns 0 or -1.
 */
static int
reply_result(struct mt_req *req, int stmt, int n, const char *const *p)
{
	const char *json;
	PGresult *res;
	int rc;

	if ((res = mt_db_query_or_reply(req, stmt, n, p)) == NULL)
		return -1;
	if ((rc = one_text(req, res, "result", &json)) == 1)
		rc = reply_ok_or_refusal(req, json);
	else if (rc == 0) {
		mt_log_warn("agency: statement %d answered no row", stmt);
		rc = mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	PQclear(res);
	return rc;
}

/* See agency_db.h. */
int
agency_db_reply_end(struct mt_req *req, const struct agency_qual_end *e)
{
	char actor[24];
	const char *p[END__N] = {
		[END_ID] = e->id,
		[END_REGION] = e->region,
		[END_REASON] = e->reason,
		[END_NOTE] = e->note,
		[END_ON] = e->ended_on,
		[END_ACTOR] = actor,
		[END_ROLE] = e->role,
	};

	snprintf(actor, sizeof(actor), "%lld", e->actor);
	return reply_result(req, STMT_QUALIFICATION_END, END__N, p);
}

/* See agency_db.h. */
int
agency_db_reply_region(struct mt_req *req, const char *region)
{
	const char *p[REGION__N] = { [REGION_CODE] = region };

	return reply_row(req, STMT_REGION, REGION__N, p, 200, "region",
	    MT_E_REGION_NOT_FOUND, "region");
}

/* See agency_db.h. */
int
agency_db_set_region(struct mt_req *req,
    const struct agency_region_contact *c)
{
	const char *p[REGION_SET__N] = {
		[REGION_SET_CODE] = c->region,
		[REGION_SET_NAME] = c->agency_name,
		[REGION_SET_HOTLINE] = c->hotline,
		[REGION_SET_ADDRESS] = c->agency_address,
	};
	int found;

	if ((found = mt_db_affected_or_reply(req, STMT_REGION_SET,
	    REGION_SET__N, p)) < 0)
		return -1;
	return found ? 0 : mt_reply_err(req, MT_E_REGION_NOT_FOUND, "region");
}

/* See agency_db.h. */
int
agency_db_reply_feed(struct mt_req *req, const char *region,
    const char *since, int limit, long long reader)
{
	char lim[16], who[24];
	const char *p[FEED__N] = {
		[FEED_REGION] = region,
		[FEED_SINCE] = since,
		[FEED_LIMIT] = lim,
		[FEED_READER] = who,
	};

	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(who, sizeof(who), "%lld", reader);
	return reply_row(req, STMT_FEED, FEED__N, p, 200, "page",
	    MT_E_INTERNAL_ERROR, NULL);
}

/* See agency_db.h. */
int
agency_db_reply_institutions(struct mt_req *req,
    const struct agency_inst_query *q)
{
	const char *p[INSTS__N] = {
		[INSTS_REGION] = q->region,
		[INSTS_CERTIFYING] = q->certifying,
		[INSTS_CURSOR] = q->cursor,
	};

	return mt_db_reply_page(req, STMT_INSTITUTIONS, INSTS__N, p,
	    INSTS_LIMIT, q->limit);
}

/* See agency_db.h. */
int
agency_db_reply_application(struct mt_req *req, const char *id,
    const char *region, long long reader)
{
	char who[24];
	const char *p[APP__N] = {
		[APP_ID] = id,
		[APP_REGION] = region,
		[APP_READER] = who,
	};

	snprintf(who, sizeof(who), "%lld", reader);
	return reply_row(req, STMT_APPLICATION, APP__N, p, 200, "application",
	    MT_E_APPLICATION_NOT_FOUND, "id");
}

/* See agency_db.h. */
int
agency_db_reply_authorizations(struct mt_req *req, const char *code,
    const char *region)
{
	const char *p[AUTHZ__N] = {
		[AUTHZ_CODE] = code,
		[AUTHZ_REGION] = region,
	};

	mt_req_header(req, "Cache-Control: no-store");
	return reply_row(req, STMT_AUTHORIZATIONS, AUTHZ__N, p, 200, "body",
	    MT_E_INSTITUTION_UNKNOWN, "code");
}

/* See agency_db.h. */
int
agency_db_set_authorizations(struct mt_req *req,
    const struct agency_authz_set *a)
{
	char actor[24];
	const char *p[AUTHORIZE__N] = {
		[AUTHORIZE_CODE] = a->code,
		[AUTHORIZE_REGION] = a->region,
		[AUTHORIZE_DISEASES] = a->diseases,
		[AUTHORIZE_STATUS] = a->status,
		[AUTHORIZE_REASON] = a->reason,
		[AUTHORIZE_ACTOR] = actor,
	};
	json_object *ok;

	snprintf(actor, sizeof(actor), "%lld", a->actor);
	if (mt_db_outcome_or_reply(req, STMT_AUTHORIZE, AUTHORIZE__N, p,
	    "result", &ok) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: no-store");
	return mt_reply_json(req, 200, ok);
}

/* See agency_db.h. */
int
agency_db_reply_confirm(struct mt_req *req, const struct agency_confirm *c)
{
	char actor[24];
	const char *p[CONFIRM__N] = {
		[CONFIRM_ID] = c->id,
		[CONFIRM_REGION] = c->region,
		[CONFIRM_DECISION] = c->decision,
		[CONFIRM_REASON] = c->reason,
		[CONFIRM_ACTOR] = actor,
		[CONFIRM_ROLE] = c->role,
	};

	snprintf(actor, sizeof(actor), "%lld", c->actor);
	return reply_result(req, STMT_CONFIRM, CONFIRM__N, p);
}

/* See agency_db.h. */
int
agency_db_reply_quarterly_status(struct mt_req *req, const char *region,
    const char *quarter)
{
	const char *p[QSTAT__N] = {
		[QSTAT_REGION] = region,
		[QSTAT_QUARTER] = quarter,
	};
	json_object *ok;

	if (mt_db_outcome_or_reply(req, STMT_QUARTERLY_STATUS, QSTAT__N, p,
	    "result", &ok) < 0)
		return -1;
	return mt_reply_json(req, 200, ok);
}

/* Run an engine statement of the quarterly review (its one row's
 * "result" is {"ok": value} or a refusal) and answer status with the
 * value; -1 after answering the refusal, 503 or 500. */
static int
review_outcome(struct mt_req *req, int stmt, int n, const char *const *p,
    int status)
{
	json_object *ok;

	if (mt_db_outcome_or_reply(req, stmt, n, p, "result", &ok) < 0)
		return -1;
	return mt_reply_json(req, status, ok);
}

/* See agency_db.h. */
int
agency_db_draw_review(struct mt_req *req, const char *region,
    const char *quarter, long long actor)
{
	char who[24];
	const char *p[RDRAW__N] = {
		[RDRAW_REGION] = region,
		[RDRAW_QUARTER] = quarter,
		[RDRAW_ACTOR] = who,
	};

	snprintf(who, sizeof(who), "%lld", actor);
	return review_outcome(req, STMT_REVIEW_DRAW, RDRAW__N, p, 201);
}

/* See agency_db.h. */
int
agency_db_reply_reviews(struct mt_req *req, const char *region)
{
	const char *p[1] = { region };

	return review_outcome(req, STMT_REVIEWS, 1, p, 200);
}

/* See agency_db.h. */
int
agency_db_reply_review(struct mt_req *req, const char *id,
    const char *region)
{
	const char *p[REVIEW__N] = {
		[REVIEW_ID] = id,
		[REVIEW_REGION] = region,
	};

	return review_outcome(req, STMT_REVIEW, REVIEW__N, p, 200);
}

/* See agency_db.h. */
int
agency_db_reply_audit_new(struct mt_req *req, const struct agency_audit_new *a)
{
	char actor[24];
	const char *p[ANEW__N] = {
		[ANEW_REGION] = a->region,
		[ANEW_FROM] = a->from,
		[ANEW_TO] = a->to,
		[ANEW_RATE] = a->rate,
		[ANEW_ACTOR] = actor,
	};
	json_object *ok;

	snprintf(actor, sizeof(actor), "%lld", a->actor);
	if (mt_db_outcome_or_reply(req, STMT_AUDIT_NEW, ANEW__N, p, "result",
	    &ok) < 0)
		return -1;
	return mt_reply_json(req, 201, ok);
}

/* See agency_db.h. */
int
agency_db_reply_audits(struct mt_req *req, const char *region,
    const char *cursor, int limit)
{
	const char *p[AUDITS__N] = {
		[AUDITS_REGION] = region,
		[AUDITS_CURSOR] = cursor,
	};

	return mt_db_reply_page(req, STMT_AUDITS, AUDITS__N, p, AUDITS_LIMIT,
	    limit);
}

/* See agency_db.h. */
int
agency_db_reply_audit(struct mt_req *req, const char *id, const char *region,
    long long reader)
{
	char who[24];
	const char *p[AUDIT__N] = {
		[AUDIT_ID] = id,
		[AUDIT_REGION] = region,
		[AUDIT_READER] = who,
	};

	snprintf(who, sizeof(who), "%lld", reader);
	return reply_row(req, STMT_AUDIT, AUDIT__N, p, 200, "audit",
	    MT_E_AUDIT_NOT_FOUND, "id");
}

/* See agency_db.h. */
int
agency_db_reply_audit_result(struct mt_req *req,
    const struct agency_audit_result *r)
{
	char actor[24];
	const char *p[ARES__N] = {
		[ARES_AUDIT] = r->audit,
		[ARES_ITEM] = r->item,
		[ARES_REGION] = r->region,
		[ARES_RESULT] = r->result,
		[ARES_NOTE] = r->note,
		[ARES_ACTOR] = actor,
		[ARES_ROLE] = r->role,
	};

	snprintf(actor, sizeof(actor), "%lld", r->actor);
	return reply_result(req, STMT_AUDIT_RESULT, ARES__N, p);
}

/* See agency_db.h. */
int
agency_db_reply_catalog(struct mt_req *req, const char *region)
{
	const char *p[CATALOG__N] = { [CATALOG_REGION] = region };

	return reply_row(req, STMT_CATALOG, CATALOG__N, p, 200, "catalog",
	    MT_E_REGION_NOT_FOUND, "region");
}

/* See agency_db.h. */
int
agency_db_set_catalog(struct mt_req *req, const struct agency_catalog_set *c)
{
	char actor[24];
	const char *p[CSET__N] = {
		[CSET_REGION] = c->region,
		[CSET_CODE] = c->code,
		[CSET_BODY] = c->body,
		[CSET_ACTOR] = actor,
		[CSET_ROLE] = c->role,
	};

	snprintf(actor, sizeof(actor), "%lld", c->actor);
	return reply_result(req, STMT_CATALOG_SET, CSET__N, p);
}

/* See agency_db.h. */
int
agency_db_reply_calendar(struct mt_req *req, const char *year)
{
	const char *p[CAL__N] = { [CAL_YEAR] = year };

	return reply_row(req, STMT_CALENDAR, CAL__N, p, 200, "calendar",
	    MT_E_INTERNAL_ERROR, NULL);
}

/* See agency_db.h. */
int
agency_db_set_calendar(struct mt_req *req,
    const struct agency_calendar_set *c)
{
	char actor[24];
	const char *p[CALSET__N] = {
		[CALSET_YEAR] = c->year,
		[CALSET_DAYS] = c->days,
		[CALSET_ACTOR] = actor,
		[CALSET_ROLE] = c->role,
		[CALSET_REGION] = c->region,
	};

	snprintf(actor, sizeof(actor), "%lld", c->actor);
	return reply_result(req, STMT_CALENDAR_SET, CALSET__N, p);
}

/* Sanctions and the expert pool (issue 12 item 6). */

/* See agency_db.h. */
int
agency_db_suspend(struct mt_req *req, long long id, const char *region,
    const char *reason)
{
	char ids[24];
	const char *p[SUSPEND__N] = {
		[SUSPEND_ID] = ids,
		[SUSPEND_REGION] = region,
		[SUSPEND_REASON] = reason,
	};
	int found;

	snprintf(ids, sizeof(ids), "%lld", id);
	if ((found = mt_db_affected_or_reply(req, STMT_SUSPEND, SUSPEND__N,
	    p)) < 0)
		return -1;
	return found ? 0 : mt_reply_err(req, MT_E_EXPERT_NOT_FOUND, "id");
}

/* See agency_db.h. */
int
agency_db_record_sanction(struct mt_req *req,
    const struct agency_sanction_new *s)
{
	char actor[24];
	const char *p[SANCTION__N] = {
		[SANCTION_REGION] = s->region,
		[SANCTION_FORM] = s->form,
		[SANCTION_ACTOR] = actor,
		[SANCTION_ROLE] = s->role,
	};
	json_object *ok;

	snprintf(actor, sizeof(actor), "%lld", s->actor);
	if (mt_db_outcome_or_reply(req, STMT_SANCTION_ADD, SANCTION__N, p,
	    "result", &ok) < 0)
		return -1;
	return mt_reply_json(req, 201, ok);
}

/* See agency_db.h. */
int
agency_db_reply_sanctions(struct mt_req *req,
    const struct agency_sanction_query *q)
{
	const char *p[SANCTIONS__N] = {
		[SANCTIONS_REGION] = q->region,
		[SANCTIONS_TYPE] = q->subject_type,
		[SANCTIONS_STATE] = q->state,
		[SANCTIONS_CURSOR] = q->cursor,
	};

	return mt_db_reply_page(req, STMT_SANCTIONS, SANCTIONS__N, p,
	    SANCTIONS_LIMIT, q->limit);
}

/* Answer 200 with the {"ok": value} of stmt or its refusal. */
static int
reply_outcome(struct mt_req *req, int stmt, int n, const char *const *p)
{
	json_object *ok;

	if (mt_db_outcome_or_reply(req, stmt, n, p, "result", &ok) < 0)
		return -1;
	return mt_reply_json(req, 200, ok);
}

/* See agency_db.h. */
int
agency_db_reply_stats_experts(struct mt_req *req, const char *region,
    const char *month)
{
	const char *p[SEXP__N] = {
		[SEXP_REGION] = region,
		[SEXP_MONTH] = month,
	};

	return reply_outcome(req, STMT_STATS_EXPERTS, SEXP__N, p);
}

/* See agency_db.h. */
int
agency_db_reply_stats_turnaround(struct mt_req *req, const char *region,
    const char *from, const char *to)
{
	const char *p[STURN__N] = {
		[STURN_REGION] = region,
		[STURN_FROM] = from,
		[STURN_TO] = to,
	};

	return reply_outcome(req, STMT_STATS_TURNAROUND, STURN__N, p);
}

/* See agency_db.h. */
int
agency_db_reply_objections(struct mt_req *req,
    const struct agency_objection_query *q)
{
	const char *p[OBJS__N] = {
		[OBJS_REGION] = q->region,
		[OBJS_STATUS] = q->status,
		[OBJS_CURSOR] = q->cursor,
	};

	return mt_db_reply_page(req, STMT_OBJECTIONS, OBJS__N, p, OBJS_LIMIT,
	    q->limit);
}
