/*
 * auth.c -- module `auth`: sign-in and the session.  This file: the
 * session (start, /me, logout), the counters both sign-ins use, the
 * field and route tables; auth_sms.c the insured person's SMS sign-in,
 * auth_staff.c the staff password sign-in, auth_db.c the statements.
 *
 *   POST /auth/sms-code         {phone} -> 204 (a code by SMS if the phone
 *                               is in the insured registry; same answer if not)
 *   POST /auth/login            insured: {phone, code, id_number, name}
 *   POST /auth/password-login   staff: {login, password}
 *   POST /auth/logout
 *   GET  /me                    user, role, scope and idle seconds left;
 *                               a cookie session also gets its CSRF
 *                               token back (reloads)
 *
 * SMS codes (Redis, keyed by <ph>, the phone's lookup HMAC in hex, never
 * the phone itself: mt_identity.h): "smscode:<ph>" holds the code's hash
 * and the tries, living sms_code_ttl_seconds; "smsrate:<ph>" allows one
 * code per sms_code_interval_seconds, "smsday:<ph>" sms_code_daily_max in
 * 24 hours from the first, except from an address the phone's person
 * has signed in from lately (see sms_limits_or_reply in auth_sms.c).  A
 * code is single use: the login that deletes the key wins.  The sixth
 * wrong try (sms_code_max_tries) kills the code.  Every message is an
 * sms_outbox row; the dispatcher sends it.
 *
 * Staff sign-in: a lock per account and address, and a slower one per
 * account that never locks out an address the account has signed in
 * from lately (login_known_address_days); each try is counted before
 * its password is checked (see limit_keys in auth_staff.c).  Unknown
 * logins and wrong passwords get the same answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "auth_db.h"
#include "mt_auth.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_policy.h"
#include "mt_redis.h"
#include "mt_valid.h"

/*
 * The int policy key of region ("": the key's default) into *v.  Returns
 * 0, or -1 after answering 503 (the values live in the database only).
 */
int
auth_policy_or_reply(struct mt_req *req, const char *region, const char *key,
    int *v)
{
	return mt_policy_ints_or_reply(req, region, &key, v, 1);
}

/*
 * Count one more event under key in one atomic step: the key lives ttl
 * seconds from its first event and again from its max-th (the lock that
 * starts there runs its full time); max 0: from the first event only (a
 * fixed window).  Returns the count, or -1 when Redis failed.
 */
long long
auth_count_event(const char *key, int max, int ttl)
{
	static const char script[] =
	    "local n = redis.call('INCR', KEYS[1]) "
	    "if n == 1 or n == tonumber(ARGV[1]) then "
	    "redis.call('EXPIRE', KEYS[1], ARGV[2]) end return n";
	redisReply *r = mt_redis_cmd("EVAL %s 1 %s %d %d", script, key, max,
	    ttl);
	long long n;

	if (r == NULL)
		return -1;
	n = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return n;
}

/*
 * Take back one event counted under key (a try that turned out not to be
 * a failure), in one atomic step and never below 0 nor on a key that has
 * run out.  Returns 0, or -1 when Redis failed.
 */
int
auth_uncount_event(const char *key)
{
	static const char script[] =
	    "if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then "
	    "redis.call('DECR', KEYS[1]) end return 0";
	redisReply *r = mt_redis_cmd("EVAL %s 1 %s", script, key);

	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* Seconds key has left to live (at least 1), -1 when Redis failed. */
long long
auth_ttl(const char *key)
{
	redisReply *r = mt_redis_cmd("TTL %s", key);
	long long n;

	if (r == NULL)
		return -1;
	n = r->type == REDIS_REPLY_INTEGER && r->integer > 0 ? r->integer : 1;
	freeReplyObject(r);
	return n;
}

/* The client's address as nginx passes it (REMOTE_ADDR), "-" if none. */
const char *
auth_remote_addr(struct mt_req *req)
{
	const char *addr = mt_req_env(req, "REMOTE_ADDR");

	return addr != NULL && *addr != '\0' ? addr : "-";
}

/* Sign in session s: create it and answer with token, cookie and user. */
int
auth_start_session(struct mt_req *req, struct mt_session *s, const char *login)
{
	char token[65], csrf[65];
	json_object *o, *u;
	int idle;

	if (auth_policy_or_reply(req, s->region, "session_idle_seconds", &idle) < 0)
		return -1;
	if (mt_auth_create(s, idle, token, csrf) != 0)
		return mt_reply_unavailable(req, "会话存储");
	/* Secure whenever nginx terminates TLS (fastcgi_param HTTPS). */
	mt_req_header(req, "Set-Cookie: " MT_AUTH_COOKIE "=%s; Path=/; "
	    "HttpOnly; SameSite=Strict; Max-Age=%d%s", token, idle,
	    mt_req_env(req, "HTTPS") != NULL ? "; Secure" : "");
	mt_req_header(req, "Cache-Control: no-store");
	o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "csrf_token", json_object_new_string(csrf));
	json_object_object_add(o, "expires_in", json_object_new_int(idle));
	u = json_object_new_object();
	json_object_object_add(u, "id", json_object_new_int64(s->user_id));
	json_object_object_add(u, "login", json_object_new_string(login));
	json_object_object_add(u, "role",
	    json_object_new_string(mt_role_name(s->role)));
	json_object_object_add(o, "user", u);
	return mt_reply_json(req, 200, o);
}

/* POST /auth/logout: the session ends.  204; 503 session store down. */
static int
h_logout(struct mt_req *req)
{
	if (mt_auth_destroy(req->session->token_hash) != 0)
		return mt_reply_unavailable(req, "会话存储");
	mt_req_header(req, "Set-Cookie: " MT_AUTH_COOKIE "=; Path=/; "
	    "HttpOnly; SameSite=Strict; Max-Age=0");
	return mt_reply_raw(req, 204, NULL, NULL, 0);
}

/*
 * GET /me: the caller, role and scope, the region's agency contact (for
 * every page's footer), seconds of silence left, and the
 * CSRF token of a cookie session.  200 (no-store); 401 unauthenticated
 * (the account was disabled since sign-in: the session ends too); 503.
 */
static int
h_me(struct mt_req *req)
{
	json_object *o;
	int found;

	if ((found = auth_db_me(req, req->session->user_id, &o)) < 0)
		return -1;
	if (found == 0) {
		/* Disabled since sign-in: end the session too. */
		mt_auth_destroy(req->session->token_hash);
		return mt_reply_err(req, MT_E_UNAUTHENTICATED, NULL);
	}
	/* A browser keeps the CSRF token in memory only; after a reload it
	 * asks here (a same-origin read: no other site can see the answer). */
	if (req->session->via_cookie)
		json_object_object_add(o, "csrf_token",
		    json_object_new_string(req->session->csrf));
	/* Seconds of silence before the session ends (this request has just
	 * pushed the end back): the portal warns before it. */
	json_object_object_add(o, "expires_in",
	    json_object_new_int(req->session->idle_seconds));
	mt_req_header(req, "Cache-Control: no-store");
	return mt_reply_json(req, 200, o);
}

static const struct mt_field f_login[] = {
	{ "login", MT_IN_BODY, MT_F_STRING, mt_valid_login, 1, 64, "账号" },
	{ "password", MT_IN_BODY, MT_F_STRING, NULL, 1, 128, "密码" },
	{ NULL },
};

static const struct mt_field f_sms[] = {
	{ "phone", MT_IN_BODY, MT_F_STRING, mt_valid_phone, 1, 11, "手机号码" },
	{ NULL },
};

static int
valid_code(const char *s)
{
	return strlen(s) == 6 && strspn(s, "0123456789") == 6;
}

static const struct mt_field f_insured_login[] = {
	{ "phone", MT_IN_BODY, MT_F_STRING, mt_valid_phone, 1, 11, "手机号码" },
	{ "code", MT_IN_BODY, MT_F_STRING, valid_code, 1, 6, "短信验证码" },
	{ "id_number", MT_IN_BODY, MT_F_STRING, mt_valid_id_number, 1, 18,
	  "身份证号码" },
	{ "name", MT_IN_BODY, MT_F_STRING, mt_valid_name, 1, 32, "姓名" },
	{ NULL },
};

static const struct mt_route routes[] = {
	{ "POST", "/auth/sms-code", h_sms_code, MT_ROLE_PUBLIC, 1024, f_sms,
	  0 },
	{ "POST", "/auth/login", h_login, MT_ROLE_PUBLIC, 4096,
	  f_insured_login, 0 },
	{ "POST", "/auth/password-login", h_password_login, MT_ROLE_PUBLIC,
	  4096, f_login, 0 },
	{ "POST", "/auth/logout", h_logout, MT_ROLE_ANY, 0, NULL, 0 },
	{ "GET", "/me", h_me, MT_ROLE_ANY, 0, NULL, 0 },
};

const struct mt_module mt_module = {
	.name = "auth",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = auth_db_stmts,
	.nstmts = STMT__MAX,
	.worker_init = auth_staff_init,
};
