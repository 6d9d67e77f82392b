/*
 * auth.c -- module `auth`: staff sign-in and the session.
 *
 *   POST /auth/password-login   {login, password} -> {token, csrf_token, user}
 *   POST /auth/logout
 *   GET  /me                    user, role and scope
 *
 * Lockout: after login_max_failures failures in a row the account is
 * locked for login_lockout_seconds (policy of the user's region, or the
 * policy default).  Unknown logins and wrong passwords get the same answer.
 * XXX: the insured SMS sign-in (/auth/sms-code, /auth/login) is issue 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mt_auth.h"
#include "mt_http.h"
#include "mt_log.h"
#include "mt_valid.h"

enum stmt {
	STMT_USER_BY_LOGIN,
	STMT_POLICY,
	STMT_LOGIN_FAILED,
	STMT_LOGIN_OK,
	STMT_ME,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_USER_BY_LOGIN] =
	    "SELECT id, role, password_hash, coalesce(person_id, 0),"
	    " coalesce(region, ''), coalesce(institution, ''),"
	    " disabled OR role = 'insured',"
	    " greatest(0, ceil(extract(epoch FROM locked_until - now())))::int"
	    " FROM users WHERE login = $1",
	[STMT_POLICY] =
	    "SELECT coalesce((SELECT value FROM policies"
	    "  WHERE region = $1 AND key = $2),"
	    " (SELECT default_value FROM policy_keys WHERE key = $2))",
	[STMT_LOGIN_FAILED] =
	    /* A lock that has run out starts the count afresh. */
	    "UPDATE users SET"
	    " failed_logins = CASE WHEN locked_until <= now() THEN 1"
	    "  ELSE failed_logins + 1 END,"
	    " locked_until = CASE"
	    "  WHEN locked_until <= now() THEN NULL"
	    "  WHEN failed_logins + 1 >= $2::int"
	    "  THEN now() + make_interval(secs => $3::int)"
	    "  ELSE locked_until END WHERE id = $1",
	[STMT_LOGIN_OK] =
	    "UPDATE users SET failed_logins = 0, locked_until = NULL"
	    " WHERE id = $1",
	[STMT_ME] =
	    "SELECT u.id, u.login, u.role, u.display_name,"
	    " u.region, u.institution, i.name, u.person_id"
	    " FROM users u LEFT JOIN institutions i ON i.code = u.institution"
	    " WHERE u.id = $1 AND NOT u.disabled",
};

/* A hash to verify against when the login is unknown, so both cost the
 * same time. */
static char dummy_hash[crypto_pwhash_STRBYTES];

static int
auth_init(void)
{
	return mt_auth_hash_password("not-a-password", dummy_hash,
	    sizeof(dummy_hash));
}

/* A policy value as an int (region may be ""), or def when unreadable. */
static int
policy_int(struct mt_req *req, const char *region, const char *key, int def)
{
	const char *p[2] = { region, key };
	PGresult *res = mt_db_exec(req->db, STMT_POLICY, 2, p);
	int v = def;

	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

static int
bad_login(struct mt_req *req)
{
	return mt_reply_error(req, 401, "login_failed",
	    "账号或密码错误", NULL);
}

static int
h_password_login(struct mt_req *req)
{
	const char *login = mt_req_param(req, "login");
	const char *pw = mt_req_param(req, "password");
	const char *p[3];
	struct mt_session s;
	char token[65], csrf[65], fails[16], lock[16], msg[160];
	json_object *o, *u;
	PGresult *res;
	int idle, ok, locked;

	p[0] = login;
	res = mt_db_query_or_reply(req, STMT_USER_BY_LOGIN, 1, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		mt_auth_verify_password(dummy_hash, pw);
		return bad_login(req);
	}
	memset(&s, 0, sizeof(s));
	s.user_id = atoll(PQgetvalue(res, 0, 0));
	s.role = mt_role_bit(PQgetvalue(res, 0, 1));
	s.person_id = atoll(PQgetvalue(res, 0, 3));
	snprintf(s.region, sizeof(s.region), "%s", PQgetvalue(res, 0, 4));
	snprintf(s.institution, sizeof(s.institution), "%s",
	    PQgetvalue(res, 0, 5));
	if ((locked = atoi(PQgetvalue(res, 0, 7))) > 0) {
		PQclear(res);
		snprintf(msg, sizeof(msg), "连续登录失败次数过多，账号已暂时锁定，"
		    "请%d分钟后再试", (locked + 59) / 60);
		mt_req_header(req, "Retry-After: %d", locked);
		return mt_reply_error(req, 429, "account_locked", msg, NULL);
	}
	ok = strcmp(PQgetvalue(res, 0, 6), "f") == 0 &&
	    !PQgetisnull(res, 0, 2) &&
	    mt_auth_verify_password(PQgetvalue(res, 0, 2), pw);
	PQclear(res);
	snprintf(token, sizeof(token), "%lld", s.user_id);
	p[0] = token;
	if (!ok) {
		snprintf(fails, sizeof(fails), "%d", policy_int(req, s.region,
		    "login_max_failures", 5));
		snprintf(lock, sizeof(lock), "%d", policy_int(req, s.region,
		    "login_lockout_seconds", 900));
		p[1] = fails;
		p[2] = lock;
		res = mt_db_query_or_reply(req, STMT_LOGIN_FAILED, 3, p);
		if (res == NULL)
			return -1;
		PQclear(res);
		return bad_login(req);
	}
	res = mt_db_query_or_reply(req, STMT_LOGIN_OK, 1, p);
	if (res == NULL)
		return -1;
	PQclear(res);
	idle = policy_int(req, s.region, "session_idle_seconds", 1800);
	if (mt_auth_create(&s, idle, token, csrf) != 0)
		return mt_reply_unavailable(req, "会话存储");
	mt_req_header(req, "Set-Cookie: " MT_AUTH_COOKIE "=%s; Path=/; "
	    "HttpOnly; SameSite=Strict; Max-Age=%d", token, idle);
	mt_req_header(req, "Cache-Control: no-store");
	o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "csrf_token", json_object_new_string(csrf));
	json_object_object_add(o, "expires_in", json_object_new_int(idle));
	u = json_object_new_object();
	json_object_object_add(u, "id", json_object_new_int64(s.user_id));
	json_object_object_add(u, "login", json_object_new_string(login));
	json_object_object_add(u, "role",
	    json_object_new_string(mt_role_name(s.role)));
	json_object_object_add(o, "user", u);
	return mt_reply_json(req, 200, o);
}

static int
h_logout(struct mt_req *req)
{
	if (mt_auth_destroy(req->session->token_hash) != 0)
		return mt_reply_unavailable(req, "会话存储");
	mt_req_header(req, "Set-Cookie: " MT_AUTH_COOKIE "=; Path=/; "
	    "HttpOnly; SameSite=Strict; Max-Age=0");
	return mt_reply_raw(req, 204, NULL, NULL, 0);
}

/* Add column col of row 0 as key, or null when SQL NULL. */
static void
add_text(json_object *o, const char *key, PGresult *res, int col)
{
	json_object_object_add(o, key, PQgetisnull(res, 0, col) ? NULL :
	    json_object_new_string(PQgetvalue(res, 0, col)));
}

static int
h_me(struct mt_req *req)
{
	char uid[24];
	const char *p[1] = { uid };
	json_object *o, *u, *scope;
	PGresult *res;

	snprintf(uid, sizeof(uid), "%lld", req->session->user_id);
	res = mt_db_query_or_reply(req, STMT_ME, 1, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		/* Disabled since sign-in: end the session too. */
		mt_auth_destroy(req->session->token_hash);
		return mt_reply_error(req, 401, "unauthenticated",
		    "账号已停用，请联系经办机构", NULL);
	}
	o = json_object_new_object();
	u = json_object_new_object();
	json_object_object_add(u, "id", json_object_new_int64(
	    atoll(PQgetvalue(res, 0, 0))));
	add_text(u, "login", res, 1);
	add_text(u, "display_name", res, 3);
	json_object_object_add(o, "user", u);
	add_text(o, "role", res, 2);
	scope = json_object_new_object();
	add_text(scope, "region", res, 4);
	add_text(scope, "institution", res, 5);
	add_text(scope, "institution_name", res, 6);
	json_object_object_add(scope, "person_id", PQgetisnull(res, 0, 7) ?
	    NULL : json_object_new_int64(atoll(PQgetvalue(res, 0, 7))));
	json_object_object_add(o, "scope", scope);
	PQclear(res);
	mt_req_header(req, "Cache-Control: no-store");
	return mt_reply_json(req, 200, o);
}

static const struct mt_field f_login[] = {
	{ "login", MT_IN_BODY, MT_F_STRING, mt_valid_login, 1, 64, "账号" },
	{ "password", MT_IN_BODY, MT_F_STRING, NULL, 1, 128, "密码" },
	{ NULL },
};

static const struct mt_route routes[] = {
	{ "POST", "/auth/password-login", h_password_login, MT_ROLE_PUBLIC,
	  4096, f_login },
	{ "POST", "/auth/logout", h_logout, MT_ROLE_ANY, 0, NULL },
	{ "GET", "/me", h_me, MT_ROLE_ANY, 0, NULL },
};

const struct mt_module mt_module = {
	.name = "auth",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = stmts,
	.nstmts = STMT__MAX,
	.worker_init = auth_init,
};
