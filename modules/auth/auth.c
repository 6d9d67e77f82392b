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
 * per sms_code_interval_seconds, "smsday:<phone>" sms_code_daily_max in
 * 24 hours (see sms_limits_or_reply).  A code is single use: the login that
 * deletes the key wins.  The sixth wrong try (sms_code_max_tries) kills
 * the code.  Every message is an sms_outbox row; the dispatcher sends it.
 *
 * Staff sign-in: a lock per account and address, and a slower one per
 * account that never locks out an address the account has signed in
 * from (see above limit_keys).  Unknown logins and wrong passwords
 * get the same answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth_db.h"
#include "mt_auth.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"
#include "mt_policy.h"
#include "mt_redis.h"
#include "mt_valid.h"

/* A hash to verify against when the login is unknown, so both cost the
 * same time. */
static char dummy_hash[crypto_pwhash_STRBYTES];

static int
auth_init(void)
{
	return mt_auth_hash_password("not-a-password", dummy_hash,
	    sizeof(dummy_hash));
}

/*
 * The int policy key of region ("": the key's default) into *v.  Returns
 * 0, or -1 after answering 503 (the values live in the database only).
 */
static int
policy_or_reply(struct mt_req *req, const char *region, const char *key,
    int *v)
{
	return mt_policy_ints_or_reply(req, region, &key, v, 1);
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

/*
 * Count one more event under key in one atomic step: the key lives ttl
 * seconds from its first event and again from its max-th (the lock or
 * the cap that starts there runs its full time).  Returns the count, or
 * -1 when Redis failed.
 */
static long long
count_event(const char *key, int max, int ttl)
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
 * Seconds left of the lock of key (its count has reached max), 0 when it
 * is not locked, -1 when Redis failed.
 */
static long long
locked_for(const char *key, int max)
{
	redisReply *r = mt_redis_cmd("GET %s", key);
	long long n;

	if (r == NULL)
		return -1;
	n = r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
	freeReplyObject(r);
	if (n < max)
		return 0;
	if ((r = mt_redis_cmd("TTL %s", key)) == NULL)
		return -1;
	n = r->integer > 0 ? r->integer : 1;
	freeReplyObject(r);
	return n;
}

/*
 * The sending limits of POST /auth/sms-code, the same for every phone,
 * registered or not (the keys' defaults, not a region's value, which
 * would tell which phones are registered): one code per
 * sms_code_interval_seconds ("smsrate:<phone>"), and at most
 * sms_code_daily_max codes in 24 hours ("smsday:<phone>", from the first;
 * once reached, none for 24 hours), so that nobody can send a victim a
 * code a minute all day long from many addresses.  Returns 0, or -1
 * after answering 429 sms_too_frequent or sms_daily_limit, or 503.
 */
static int
sms_limits_or_reply(struct mt_req *req, const char *phone)
{
	static const char *const keys[] = { "sms_code_interval_seconds",
	    "sms_code_daily_max" };
	char key[32];
	redisReply *r;
	long long n;
	int v[2];

	if (mt_policy_ints_or_reply(req, "", keys, v, 2) < 0)
		return -1;
	r = mt_redis_cmd("SET smsrate:%s 1 EX %d NX", phone, v[0]);
	if (r == NULL)
		return mt_reply_unavailable(req, "缓存服务");
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		r = mt_redis_cmd("TTL smsrate:%s", phone);
		mt_req_header(req, "Retry-After: %lld",
		    r != NULL && r->integer > 0 ? r->integer : v[0]);
		if (r != NULL)
			freeReplyObject(r);
		return mt_reply_err(req, MT_E_SMS_TOO_FREQUENT, "phone");
	}
	freeReplyObject(r);
	snprintf(key, sizeof(key), "smsday:%s", phone);
	if ((n = count_event(key, v[1], 86400)) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	if (n <= v[1])
		return 0;
	if ((n = locked_for(key, v[1])) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	mt_req_header(req, "Retry-After: %lld", n);
	return mt_reply_err(req, MT_E_SMS_DAILY_LIMIT, "phone");
}

/*
 * POST /auth/sms-code.  204 whether or not the phone is registered (a
 * code is queued only when it is); 429 sms_too_frequent or
 * sms_daily_limit; 503.
 */
static int
h_sms_code(struct mt_req *req)
{
	const char *phone = mt_req_param(req, "phone");
	char region[8], code[8], hash[65], text[160];
	struct mt_redis_tx tx = {0};
	int known, ttl;

	if ((known = auth_db_phone_region(req, phone, region, sizeof(region))) < 0 ||
	    sms_limits_or_reply(req, phone) < 0)
		return -1;
	if (!known)
		return mt_reply_raw(req, 204, NULL, NULL, 0);
	if (policy_or_reply(req, region, "sms_code_ttl_seconds", &ttl) < 0)
		return -1;
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
	if (auth_db_queue_sms(req, phone, text) < 0)
		return -1;
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

	if (policy_or_reply(req, s->region, "session_idle_seconds", &idle) < 0)
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

/*
 * POST /auth/login: an insured person signs in with the SMS code and
 * the identity of the insured registry.  200 with the session; 401
 * login_failed (a wrong, expired or spent code and a registry mismatch
 * alike); 503.
 */
static int
h_login(struct mt_req *req)
{
	const char *phone = mt_req_param(req, "phone");
	struct mt_session s;
	char region[8], login[40];
	int rc, tries;

	if (auth_db_phone_region(req, phone, region, sizeof(region)) < 0 ||
	    policy_or_reply(req, region, "sms_code_max_tries", &tries) < 0)
		return -1;
	memset(&s, 0, sizeof(s));
	s.role = MT_ROLE_INSURED;
	/* A right code, the person of the registry, an account that may
	 * sign in: each step 1 to go on, 0 to refuse, -1 answered. */
	if ((rc = use_code(req, phone, mt_req_param(req, "code"),
	    tries)) == 1 &&
	    (rc = auth_db_person_match(req, phone,
	    mt_req_param(req, "id_number"), mt_req_param(req, "name"),
	    &s)) == 1)
		rc = auth_db_insured_user(req, &s);
	if (rc < 0)
		return -1;
	if (rc == 0)
		/* One answer for a wrong code, an expired one and a
		 * registry mismatch: nothing to learn about who is
		 * insured. */
		return mt_reply_err(req, MT_E_LOGIN_FAILED, NULL,
		    "验证码错误或已失效，或身份信息与参保登记不符");
	snprintf(login, sizeof(login), "insured-%lld", s.person_id);
	return start_session(req, &s, login);
}

/*
 * Staff sign-in limits (issue 9 A3).  Failures used to lock the account
 * for everyone, so five wrong passwords from anywhere locked `admin` out
 * for 15 minutes.  Now two counters in Redis, both kept alike for known
 * and unknown logins (neither the answers nor the lock say which exist):
 *
 * - per account and address ("loginpair:<login>:<addr>", the REMOTE_ADDR
 *   nginx passes): after login_max_failures failures that address is
 *   refused for login_lockout_seconds, right password or not.  A success
 *   from the address clears its count.
 * - per account ("loginfail:<login>", every address together): after
 *   login_account_max_failures failures (a slower limit, 50 by default,
 *   against guessing from many addresses) the account is refused for
 *   login_account_lockout_seconds to every address that has never signed
 *   in to it.  An address that has (login_addresses, kept in PostgreSQL
 *   so that a Redis flush does not forget it) is never locked out by it:
 *   the owner keeps working while someone guesses from elsewhere.
 *
 * A lock runs its full time from the failure that reached it; later
 * failures do not extend it.  The limits are the policy of the account's
 * region (unknown logins: the defaults).
 */
enum { LIM_PAIR_MAX, LIM_PAIR_LOCK, LIM_ACCT_MAX, LIM_ACCT_LOCK, LIM__MAX };

static const char *const limit_keys[LIM__MAX] = {
	[LIM_PAIR_MAX] = "login_max_failures",
	[LIM_PAIR_LOCK] = "login_lockout_seconds",
	[LIM_ACCT_MAX] = "login_account_max_failures",
	[LIM_ACCT_LOCK] = "login_account_lockout_seconds",
};

/* 429 account_locked with the seconds left; returns -1. */
static int
locked_reply(struct mt_req *req, long long seconds)
{
	char minutes[24];

	snprintf(minutes, sizeof(minutes), "%lld", (seconds + 59) / 60);
	mt_req_header(req, "Retry-After: %lld", seconds);
	return mt_reply_err(req, MT_E_ACCOUNT_LOCKED, NULL, minutes);
}

/* 1 when user uid has signed in from addr before, 0 if not, -1 after
 * answering 503. */
static int
known_address(struct mt_req *req, long long uid, const char *addr)
{
	if (uid == 0)
		return 0;
	return auth_db_address_known(req, uid, addr);
}

/*
 * Refuse a sign-in to login (user uid, 0 when unknown) from addr while a
 * lock holds (see above).  Returns 0 to go on, or -1 after answering 429
 * account_locked or 503.
 */
static int
check_locks_or_reply(struct mt_req *req, const char *login, long long uid,
    const char *addr, const int *lim)
{
	char key[160];
	long long left;
	int known;

	snprintf(key, sizeof(key), "loginpair:%s:%s", login, addr);
	if ((left = locked_for(key, lim[LIM_PAIR_MAX])) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	if (left > 0)
		return locked_reply(req, left);
	snprintf(key, sizeof(key), "loginfail:%s", login);
	if ((left = locked_for(key, lim[LIM_ACCT_MAX])) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	if (left == 0)
		return 0;
	if ((known = known_address(req, uid, addr)) < 0)
		return -1;
	return known ? 0 : locked_reply(req, left);
}

/* Count a failed sign-in to login from addr; 401 login_failed (or 503
 * when Redis failed).  Returns -1. */
static int
failed_or_reply(struct mt_req *req, const char *login, const char *addr,
    const int *lim)
{
	char key[160];

	snprintf(key, sizeof(key), "loginpair:%s:%s", login, addr);
	if (count_event(key, lim[LIM_PAIR_MAX], lim[LIM_PAIR_LOCK]) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	snprintf(key, sizeof(key), "loginfail:%s", login);
	if (count_event(key, lim[LIM_ACCT_MAX], lim[LIM_ACCT_LOCK]) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	return mt_reply_err(req, MT_E_LOGIN_FAILED, NULL, "账号或密码错误");
}

/*
 * A success from addr: its failure count starts afresh and the address
 * is known from now on.  Returns 0, or -1 after answering 503.
 */
static int
succeeded_or_reply(struct mt_req *req, const char *login, long long uid,
    const char *addr)
{
	redisReply *r;

	if ((r = mt_redis_cmd("DEL loginpair:%s:%s", login, addr)) == NULL)
		return mt_reply_unavailable(req, "缓存服务");
	freeReplyObject(r);
	return auth_db_address_ok(req, uid, addr);
}

/*
 * The staff account login into *s and its password hash into hash (the
 * dummy one when it has none, is disabled or is an insured account:
 * *usable = 0).  Returns 1 found, 0 unknown, -1 after answering 503.
 */
static int
staff_user(struct mt_req *req, const char *login, struct mt_session *s,
    char *hash, int *usable)
{
	memset(s, 0, sizeof(*s));
	snprintf(hash, crypto_pwhash_STRBYTES, "%s", dummy_hash);
	*usable = 0;
	return auth_db_staff_user(req, login, s, hash, crypto_pwhash_STRBYTES,
	    usable);
}

/*
 * POST /auth/password-login.  200 with the session; 401 login_failed (a
 * wrong password and an unknown login alike); 429 account_locked; 503.
 */
static int
h_password_login(struct mt_req *req)
{
	const char *login = mt_req_param(req, "login");
	const char *addr = mt_req_env(req, "REMOTE_ADDR");
	char hash[crypto_pwhash_STRBYTES];
	struct mt_session s;
	int lim[LIM__MAX], usable, ok;

	if (addr == NULL || *addr == '\0')
		addr = "-";
	if (staff_user(req, login, &s, hash, &usable) < 0 ||
	    mt_policy_ints_or_reply(req, s.region, limit_keys, lim,
	    LIM__MAX) < 0 ||
	    check_locks_or_reply(req, login, s.user_id, addr, lim) < 0)
		return -1;
	/* Always one Argon2id verification, so timing tells nothing. */
	ok = mt_auth_verify_password(hash, mt_req_param(req, "password")) &&
	    usable;
	if (!ok)
		return failed_or_reply(req, login, addr, lim);
	if (succeeded_or_reply(req, login, s.user_id, addr) < 0)
		return -1;
	return start_session(req, &s, login);
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
 * GET /me: the caller, role and scope, seconds of silence left, and the
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
	.worker_init = auth_init,
};
