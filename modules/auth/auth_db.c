/*
 * auth_db.c -- the auth module's statements and the typed functions over
 * them (see auth_db.h).  Each statement's parameters are filled by name
 * (the enum above it lists its $1..$n), its columns are read by name
 * (the AS names in the SQL, through mt_db_text() and col_jstr()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_db.h"
#include "mt_db.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_identity.h"
#include "mt_log.h"

/* $n of the statements below.  Phones and ID numbers are passed as
 * their lookup HMACs, or sealed (shared/mt_identity.h). */
enum { BY_LOGIN_LOGIN, BY_LOGIN__N };
enum { ADDR_USER, ADDR_ADDRESS, ADDR__N };  /* ADDRESS_OK */
enum { KNOWN_USER, KNOWN_ADDRESS, KNOWN_DAYS, KNOWN__N };
enum { PKNOWN_PHONE, PKNOWN_ADDRESS, PKNOWN_DAYS, PKNOWN__N };
enum { ME_USER, ME__N };
enum { PHONE_PHONE, PHONE__N };
enum { SMS_PHONE, SMS_BODY, SMS__N };
enum { MATCH_PHONE, MATCH_ID_NUMBER, MATCH_NAME, MATCH__N };
enum { INSURED_PERSON, INSURED_REGION, INSURED__N };

const char *const auth_db_stmts[STMT__MAX] = {
	[STMT_USER_BY_LOGIN] =
	    "SELECT id, role, password_hash,"
	    " coalesce(person_id, 0) AS person_id,"
	    " coalesce(region, '') AS region,"
	    " coalesce(institution, '') AS institution,"
	    " disabled OR role = 'insured' AS unusable"
	    " FROM users WHERE login = $1",
	/* An address is known for login_known_address_days ($3) after the
	 * last sign-in from it; an older row no longer counts (XXX: nor is
	 * it deleted) until a sign-in from it refreshes last_at. */
	[STMT_ADDRESS_KNOWN] =
	    "SELECT 1 FROM login_addresses WHERE user_id = $1 AND address = $2"
	    " AND last_at > now() - make_interval(days => $3::int)",
	[STMT_PHONE_ADDRESS_KNOWN] =
	    "SELECT 1 FROM login_addresses a JOIN users u ON u.id = a.user_id"
	    " JOIN persons p ON p.id = u.person_id"
	    " WHERE p.phone_hmac = $1 AND a.address = $2"
	    " AND a.last_at > now() - make_interval(days => $3::int) LIMIT 1",
	/* A sign-in from an expired address starts it afresh. */
	[STMT_ADDRESS_OK] =
	    "INSERT INTO login_addresses (user_id, address) VALUES ($1, $2)"
	    " ON CONFLICT (user_id, address) DO UPDATE SET last_at = now()",
	[STMT_ME] =
	    "SELECT u.id, u.login, u.role,"
	    " coalesce(nullif(u.display_name, ''), p.name, '') AS display_name,"
	    " u.region, u.institution, i.name AS institution_name, u.person_id,"
	    /* The footer's contact (sql/fn/50_benefit.sql): the person's region,
	     * the institution's, the agency's own; none for an admin. */
	    " region_contact_json(coalesce(p.region, i.region, u.region))::text"
	    "  AS region_contact"
	    " FROM users u LEFT JOIN institutions i ON i.code = u.institution"
	    " LEFT JOIN persons p ON p.id = u.person_id"
	    " WHERE u.id = $1 AND NOT u.disabled",
	[STMT_PHONE_REGION] =
	    "SELECT region FROM persons WHERE phone_hmac = $1"
	    " ORDER BY id LIMIT 1",
	[STMT_SMS_QUEUE] =
	    "INSERT INTO sms_outbox (to_phone_enc, template, body)"
	    " VALUES ($1, 'login_code', $2)",
	[STMT_PERSON_MATCH] =
	    "SELECT id, region FROM persons"
	    " WHERE phone_hmac = $1 AND id_number_hmac = $2 AND name = $3",
	/* The insured person's account, made at first sign-in. */
	[STMT_INSURED_USER] =
	    "INSERT INTO users (login, role, person_id, region)"
	    " VALUES ('insured-' || $1, 'insured', $1::bigint, $2)"
	    " ON CONFLICT (login) DO UPDATE SET region = EXCLUDED.region"
	    " RETURNING id, disabled",
};

/* Column name of row 0 of res as a json string, or NULL (JSON null). */
static json_object *
col_jstr(const PGresult *res, const char *name)
{
	const char *v = mt_db_text(res, 0, name);

	return v != NULL ? json_object_new_string(v) : NULL;
}

/*
 * Run stmt and keep the result in *res when it has one row.  1 one row
 * (the caller PQclears), 0 none (cleared), -1 after answering.
 */
static int
one_row(struct mt_req *req, int stmt, int n, const char *const *p,
    PGresult **res)
{
	if ((*res = mt_db_query_or_reply(req, stmt, n, p)) == NULL)
		return -1;
	if (PQntuples(*res) == 1)
		return 1;
	PQclear(*res);
	*res = NULL;
	return 0;
}

/* Run a statement that answers nothing to read.  0 or -1. */
static int
run(struct mt_req *req, int stmt, int n, const char *const *p)
{
	PGresult *res = mt_db_query_or_reply(req, stmt, n, p);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* See auth_db.h. */
int
auth_db_phone_region(struct mt_req *req, const char *phone, char *region,
    size_t size)
{
	char h[MT_IDENTITY_HMAC_LEN + 1];
	const char *p[PHONE__N] = { [PHONE_PHONE] = h };
	PGresult *res;
	int found;

	region[0] = '\0';
	if (mt_identity_hmac_or_reply(req, MT_IDENTITY_PHONE, phone, h) < 0)
		return -1;
	if ((found = one_row(req, STMT_PHONE_REGION, PHONE__N, p, &res)) < 1)
		return found;
	mt_db_copy(res, 0, "region", region, size);
	PQclear(res);
	return 1;
}

/* See auth_db.h. */
int
auth_db_queue_sms(struct mt_req *req, const char *phone, const char *text)
{
	struct mt_identity_cols c;
	const char *p[SMS__N] = { [SMS_BODY] = text };
	int rc;

	if (mt_identity_cols_or_reply(req, MT_IDENTITY_PHONE, phone, &c) < 0)
		return -1;
	p[SMS_PHONE] = c.enc;
	rc = run(req, STMT_SMS_QUEUE, SMS__N, p);
	mt_identity_cols_free(&c);
	return rc;
}

/* See auth_db.h. */
int
auth_db_person_match(struct mt_req *req, const char *phone,
    const char *id_number, const char *name, struct mt_session *s)
{
	char ph[MT_IDENTITY_HMAC_LEN + 1], idh[MT_IDENTITY_HMAC_LEN + 1];
	const char *p[MATCH__N] = {
		[MATCH_PHONE] = ph,
		[MATCH_ID_NUMBER] = idh,
		[MATCH_NAME] = name,
	};
	PGresult *res;
	int found;

	if (mt_identity_hmac_or_reply(req, MT_IDENTITY_PHONE, phone, ph) < 0 ||
	    mt_identity_hmac_or_reply(req, MT_IDENTITY_ID_NUMBER, id_number,
	    idh) < 0)
		return -1;
	if ((found = one_row(req, STMT_PERSON_MATCH, MATCH__N, p, &res)) < 1)
		return found;
	s->person_id = mt_db_ll(res, 0, "id");
	mt_db_copy(res, 0, "region", s->region, sizeof(s->region));
	PQclear(res);
	return 1;
}

/* See auth_db.h. */
int
auth_db_insured_user(struct mt_req *req, struct mt_session *s)
{
	char pid[24];
	const char *p[INSURED__N] = {
		[INSURED_PERSON] = pid,
		[INSURED_REGION] = s->region,
	};
	const char *disabled;
	PGresult *res;
	int ok;

	snprintf(pid, sizeof(pid), "%lld", s->person_id);
	/* No row: a rule of the database refused the account. */
	if ((ok = one_row(req, STMT_INSURED_USER, INSURED__N, p, &res)) < 1)
		return ok;
	disabled = mt_db_text(res, 0, "disabled");
	ok = disabled != NULL && strcmp(disabled, "f") == 0;
	if (ok)
		s->user_id = mt_db_ll(res, 0, "id");
	PQclear(res);
	return ok;
}

/* See auth_db.h. */
int
auth_db_staff_user(struct mt_req *req, const char *login,
    struct mt_session *s, char *hash, size_t size, int *usable)
{
	const char *p[BY_LOGIN__N] = { [BY_LOGIN_LOGIN] = login };
	const char *h, *unusable, *role;
	PGresult *res;
	int found;

	if ((found = one_row(req, STMT_USER_BY_LOGIN, BY_LOGIN__N, p,
	    &res)) < 1)
		return found;
	s->user_id = mt_db_ll(res, 0, "id");
	role = mt_db_text(res, 0, "role");
	s->role = mt_role_bit(role != NULL ? role : "");
	s->person_id = mt_db_ll(res, 0, "person_id");
	mt_db_copy(res, 0, "region", s->region, sizeof(s->region));
	mt_db_copy(res, 0, "institution", s->institution, sizeof(s->institution));
	if ((h = mt_db_text(res, 0, "password_hash")) != NULL) {
		snprintf(hash, size, "%s", h);
		unusable = mt_db_text(res, 0, "unusable");
		*usable = unusable != NULL && strcmp(unusable, "f") == 0;
	}
	PQclear(res);
	return 1;
}

/* See auth_db.h. */
int
auth_db_address_known(struct mt_req *req, long long uid, const char *addr,
    int days)
{
	char id[24], d[16];
	const char *p[KNOWN__N] = { [KNOWN_USER] = id, [KNOWN_ADDRESS] = addr,
	    [KNOWN_DAYS] = d };
	PGresult *res;
	int known;

	snprintf(id, sizeof(id), "%lld", uid);
	snprintf(d, sizeof(d), "%d", days);
	if ((known = one_row(req, STMT_ADDRESS_KNOWN, KNOWN__N, p, &res)) == 1)
		PQclear(res);
	return known;
}

/* See auth_db.h. */
int
auth_db_phone_address_known(struct mt_req *req, const char *phone,
    const char *addr, int days)
{
	char d[16];
	char h[MT_IDENTITY_HMAC_LEN + 1];
	const char *p[PKNOWN__N] = { [PKNOWN_PHONE] = h,
	    [PKNOWN_ADDRESS] = addr, [PKNOWN_DAYS] = d };
	PGresult *res;
	int known;

	if (mt_identity_hmac_or_reply(req, MT_IDENTITY_PHONE, phone, h) < 0)
		return -1;
	snprintf(d, sizeof(d), "%d", days);
	if ((known = one_row(req, STMT_PHONE_ADDRESS_KNOWN, PKNOWN__N, p,
	    &res)) == 1)
		PQclear(res);
	return known;
}

/* See auth_db.h. */
int
auth_db_address_ok(struct mt_req *req, long long uid, const char *addr)
{
	char id[24];
	const char *p[ADDR__N] = { [ADDR_USER] = id, [ADDR_ADDRESS] = addr };

	snprintf(id, sizeof(id), "%lld", uid);
	return run(req, STMT_ADDRESS_OK, ADDR__N, p);
}

/* {"user", "role", "scope", "region"} of the one row of STMT_ME. */
static json_object *
me_json(const PGresult *res)
{
	json_object *o = json_object_new_object(), *u, *scope;

	u = json_object_new_object();
	json_object_object_add(u, "id", json_object_new_int64(mt_db_ll(res, 0,
	    "id")));
	json_object_object_add(u, "login", col_jstr(res, "login"));
	json_object_object_add(u, "display_name", col_jstr(res,
	    "display_name"));
	json_object_object_add(o, "user", u);
	json_object_object_add(o, "role", col_jstr(res, "role"));
	scope = json_object_new_object();
	json_object_object_add(scope, "region", col_jstr(res, "region"));
	json_object_object_add(scope, "institution", col_jstr(res,
	    "institution"));
	json_object_object_add(scope, "institution_name", col_jstr(res,
	    "institution_name"));
	json_object_object_add(scope, "person_id", mt_db_text(res, 0, "person_id") ==
	    NULL ? NULL : json_object_new_int64(mt_db_ll(res, 0, "person_id")));
	json_object_object_add(o, "scope", scope);
	/* NULL text (an admin): JSON null. */
	json_object_object_add(o, "region", mt_db_text(res, 0,
	    "region_contact") == NULL ? NULL :
	    json_tokener_parse(mt_db_text(res, 0, "region_contact")));
	return o;
}

/* See auth_db.h. */
int
auth_db_me(struct mt_req *req, long long uid, json_object **me)
{
	char id[24];
	const char *p[ME__N] = { [ME_USER] = id };
	PGresult *res;
	int found;

	snprintf(id, sizeof(id), "%lld", uid);
	if ((found = one_row(req, STMT_ME, ME__N, p, &res)) < 1)
		return found;
	*me = me_json(res);
	PQclear(res);
	return 1;
}
