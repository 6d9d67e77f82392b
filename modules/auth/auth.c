/*
 * auth.c -- module `auth`: staff sign-in and the session.
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
 * SMS codes (Redis): "smscode:<phone>" holds the code's hash and the
 * tries, living sms_code_ttl_seconds; "smsrate:<phone>" allows one code
 * per sms_code_interval_seconds.  A code is single use: the login that
 * deletes the key wins.  The sixth wrong try (sms_code_max_tries) kills
 * the code.  Every message is an sms_outbox row; the dispatcher sends it.
 *
 * Lockout: after login_max_failures failures in a row the account is
 * locked for login_lockout_seconds (policy of the user's region, or the
 * policy default).  Unknown logins and wrong passwords get the same answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mt_auth.h"
#include "mt_http.h"
#include "mt_log.h"
#include "mt_redis.h"
#include "mt_valid.h"

enum stmt {
	STMT_USER_BY_LOGIN,
	STMT_POLICY,
	STMT_LOGIN_FAILED,
	STMT_LOGIN_OK,
	STMT_ME,
	STMT_PHONE_REGION,
	STMT_SMS_QUEUE,
	STMT_PERSON_MATCH,
	STMT_INSURED_USER,
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
	    "SELECT u.id, u.login, u.role,"
	    " coalesce(nullif(u.display_name, ''), p.name, ''),"
	    " u.region, u.institution, i.name, u.person_id"
	    " FROM users u LEFT JOIN institutions i ON i.code = u.institution"
	    " LEFT JOIN persons p ON p.id = u.person_id"
	    " WHERE u.id = $1 AND NOT u.disabled",
	[STMT_PHONE_REGION] =
	    "SELECT region FROM persons WHERE phone = $1 ORDER BY id LIMIT 1",
	[STMT_SMS_QUEUE] =
	    "INSERT INTO sms_outbox (to_phone, template, body)"
	    " VALUES ($1, 'login_code', $2)",
	[STMT_PERSON_MATCH] =
	    "SELECT id, region FROM persons"
	    " WHERE phone = $1 AND id_number = $2 AND name = $3",
	/* The insured person's account, made at first sign-in. */
	[STMT_INSURED_USER] =
	    "INSERT INTO users (login, role, person_id, region)"
	    " VALUES ('insured-' || $1, 'insured', $1::bigint, $2)"
	    " ON CONFLICT (login) DO UPDATE SET region = EXCLUDED.region"
	    " RETURNING id, disabled",
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

/* sha256(phone ":" code) as hex into out[65]. */
static void
code_hash(const char *phone, const char *code, char *out)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char in[64];

	snprintf(in, sizeof(in), "%s:%s", phone, code);
	crypto_hash_sha256(h, (const unsigned char *)in, strlen(in));
	mt_hex(h, sizeof(h), out);
}

/* The region of the first person with this phone into region[8]; 1 found,
 * 0 unknown phone, -1 after answering 503. */
static int
phone_region(struct mt_req *req, const char *phone, char *region)
{
	const char *p[1] = { phone };
	PGresult *res = mt_db_query_or_reply(req, STMT_PHONE_REGION, 1, p);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	snprintf(region, 8, "%s", found ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return found;
}

static int
h_sms_code(struct mt_req *req)
{
	const char *phone = mt_req_param(req, "phone");
	char region[8], code[8], hash[65], text[160];
	struct mt_redis_tx tx = {0};
	const char *p[2];
	redisReply *r;
	PGresult *res;
	int known, ttl, interval;

	if ((known = phone_region(req, phone, region)) < 0)
		return -1;
	interval = policy_int(req, region, "sms_code_interval_seconds", 60);
	ttl = policy_int(req, region, "sms_code_ttl_seconds", 300);
	/* The same limit for known and unknown phones: nothing to learn. */
	r = mt_redis_cmd("SET smsrate:%s 1 EX %d NX", phone, interval);
	if (r == NULL)
		return mt_reply_unavailable(req, "缓存服务");
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		r = mt_redis_cmd("TTL smsrate:%s", phone);
		mt_req_header(req, "Retry-After: %lld",
		    r != NULL && r->integer > 0 ? r->integer : interval);
		if (r != NULL)
			freeReplyObject(r);
		return mt_reply_error(req, 429, "sms_too_frequent",
		    "验证码发送过于频繁，请稍后再试", "phone");
	}
	freeReplyObject(r);
	if (!known)
		return mt_reply_raw(req, 204, NULL, NULL, 0);
	snprintf(code, sizeof(code), "%06u", randombytes_uniform(1000000));
	code_hash(phone, code, hash);
	/* A new code replaces the old one, tries and all; never without
	 * its expiry. */
	mt_redis_tx_add(&tx, "DEL smscode:%s", phone);
	mt_redis_tx_add(&tx, "HSET smscode:%s hash %s tries 0", phone, hash);
	mt_redis_tx_add(&tx, "EXPIRE smscode:%s %d", phone, ttl);
	if (mt_redis_tx_exec(&tx) != 0)
		return mt_reply_unavailable(req, "缓存服务");
	snprintf(text, sizeof(text), "【门诊慢特病】您的登录验证码为%s，"
	    "%d分钟内有效。请勿告诉他人。", code, ttl / 60);
	p[0] = phone;
	p[1] = text;
	res = mt_db_query_or_reply(req, STMT_SMS_QUEUE, 2, p);
	if (res == NULL)
		return -1;
	PQclear(res);
	return mt_reply_raw(req, 204, NULL, NULL, 0);
}

/*
 * Check and consume the SMS code.  Returns 1 when right (and now used),
 * 0 when wrong, expired or out of tries, -1 after answering 503.
 */
static int
use_code(struct mt_req *req, const char *phone, const char *code,
    int max_tries)
{
	char want[65];
	redisReply *r, *h;
	int tries, ok;

	r = mt_redis_cmd("HINCRBY smscode:%s tries 1", phone);
	if (r == NULL)
		return mt_reply_unavailable(req, "缓存服务");
	tries = (int)r->integer;
	freeReplyObject(r);
	h = mt_redis_cmd("HGET smscode:%s hash", phone);
	if (h == NULL)
		return mt_reply_unavailable(req, "缓存服务");
	code_hash(phone, code, want);
	ok = h->type == REDIS_REPLY_STRING && h->len == 64 &&
	    sodium_memcmp(h->str, want, 64) == 0;
	freeReplyObject(h);
	if (tries == 1 && !ok) {
		/* HINCRBY made a key for a phone without a code: drop it. */
		r = mt_redis_cmd("HEXISTS smscode:%s hash", phone);
		if (r != NULL && r->integer == 0) {
			freeReplyObject(r);
			r = mt_redis_cmd("DEL smscode:%s", phone);
		}
		if (r != NULL)
			freeReplyObject(r);
		return 0;
	}
	if (!ok && tries < max_tries)
		return 0;
	/* Right, or the last try spent: the code is gone either way, and
	 * only the request whose DEL removed it may use it. */
	r = mt_redis_cmd("DEL smscode:%s", phone);
	if (r == NULL)
		return mt_reply_unavailable(req, "缓存服务");
	ok = ok && tries <= max_tries && r->integer == 1;
	freeReplyObject(r);
	return ok;
}

/* Sign in session s: create it and answer with token, cookie and user. */
static int
start_session(struct mt_req *req, struct mt_session *s, const char *login)
{
	char token[65], csrf[65];
	json_object *o, *u;
	int idle;

	idle = policy_int(req, s->region, "session_idle_seconds", 1800);
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

static int
h_login(struct mt_req *req)
{
	const char *phone = mt_req_param(req, "phone");
	const char *p[3];
	struct mt_session s;
	char region[8], login[40], pid[24];
	PGresult *res;
	int rc;

	if (phone_region(req, phone, region) < 0)
		return -1;
	rc = use_code(req, phone, mt_req_param(req, "code"),
	    policy_int(req, region, "sms_code_max_tries", 5));
	if (rc < 0)
		return -1;
	if (rc == 0)
		goto refuse;
	p[0] = phone;
	p[1] = mt_req_param(req, "id_number");
	p[2] = mt_req_param(req, "name");
	res = mt_db_query_or_reply(req, STMT_PERSON_MATCH, 3, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		goto refuse;
	}
	memset(&s, 0, sizeof(s));
	s.role = MT_ROLE_INSURED;
	s.person_id = atoll(PQgetvalue(res, 0, 0));
	snprintf(s.region, sizeof(s.region), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	snprintf(pid, sizeof(pid), "%lld", s.person_id);
	p[0] = pid;
	p[1] = s.region;
	res = mt_db_query_or_reply(req, STMT_INSURED_USER, 2, p);
	if (res == NULL)
		return -1;
	s.user_id = atoll(PQgetvalue(res, 0, 0));
	rc = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	if (rc)
		goto refuse;
	snprintf(login, sizeof(login), "insured-%s", pid);
	return start_session(req, &s, login);
refuse:
	/* One answer for a wrong code, an expired one and a registry
	 * mismatch: nothing to learn about who is insured. */
	return mt_reply_error(req, 401, "login_failed",
	    "验证码错误或已失效，或身份信息与参保登记不符", NULL);
}

static int	bad_login(struct mt_req *);

static int
locked_reply(struct mt_req *req, int seconds)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "连续登录失败次数过多，账号已暂时锁定，"
	    "请%d分钟后再试", (seconds + 59) / 60);
	mt_req_header(req, "Retry-After: %d", seconds);
	return mt_reply_error(req, 429, "account_locked", msg, NULL);
}

/*
 * A login that does not exist fails and locks exactly like one that does
 * (counted in Redis under the default policy), so neither the answer nor
 * its timing says which logins exist.
 */
static int
unknown_login(struct mt_req *req, const char *login)
{
	int max = policy_int(req, "", "login_max_failures", 5);
	int lock = policy_int(req, "", "login_lockout_seconds", 900);
	redisReply *r = mt_redis_cmd("INCR loginfail:%s", login);
	long long n, ttl;

	if (r == NULL)
		return bad_login(req);
	n = r->integer;
	freeReplyObject(r);
	if (n == 1 || n == max) {
		r = mt_redis_cmd("EXPIRE loginfail:%s %d", login, lock);
		if (r != NULL)
			freeReplyObject(r);
	}
	if (n <= max)
		return bad_login(req);
	r = mt_redis_cmd("TTL loginfail:%s", login);
	ttl = r != NULL && r->integer > 0 ? r->integer : lock;
	if (r != NULL)
		freeReplyObject(r);
	return locked_reply(req, (int)ttl);
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
	char token[24], fails[16], lock[16];
	PGresult *res;
	int ok, locked;

	p[0] = login;
	res = mt_db_query_or_reply(req, STMT_USER_BY_LOGIN, 1, p);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		mt_auth_verify_password(dummy_hash, pw);
		return unknown_login(req, login);
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
		return locked_reply(req, locked);
	}
	/* Always one Argon2id verification, so timing tells nothing. */
	ok = mt_auth_verify_password(PQgetisnull(res, 0, 2) ? dummy_hash :
	    PQgetvalue(res, 0, 2), pw) && !PQgetisnull(res, 0, 2) &&
	    strcmp(PQgetvalue(res, 0, 6), "f") == 0;
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
	return start_session(req, &s, login);
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
	/* A browser keeps the CSRF token in memory only; after a reload it
	 * asks here (a same-origin read: no other site can see the answer). */
	if (req->session->via_cookie)
		json_object_object_add(o, "csrf_token",
		    json_object_new_string(req->session->csrf));
	/* Seconds of silence before the session ends (this request has just
	 * pushed the end back): the portal warns before it. */
	json_object_object_add(o, "expires_in",
	    json_object_new_int(req->session->idle_seconds));
	PQclear(res);
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
	.stmts = stmts,
	.nstmts = STMT__MAX,
	.worker_init = auth_init,
};
