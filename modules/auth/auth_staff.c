/*
 * auth_staff.c -- staff sign-in by password (module auth):
 * POST /auth/password-login and its limits (below, limit_keys).
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

/* A hash to verify against when the login is unknown, so both cost the
 * same time. */
static char dummy_hash[crypto_pwhash_STRBYTES];

/* See auth.h. */
int
auth_staff_init(void)
{
	return mt_auth_hash_password("not-a-password", dummy_hash,
	    sizeof(dummy_hash));
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
	if ((left = auth_locked_for(key, lim[LIM_PAIR_MAX])) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	if (left > 0)
		return locked_reply(req, left);
	snprintf(key, sizeof(key), "loginfail:%s", login);
	if ((left = auth_locked_for(key, lim[LIM_ACCT_MAX])) < 0)
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
	if (auth_count_event(key, lim[LIM_PAIR_MAX], lim[LIM_PAIR_LOCK]) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	snprintf(key, sizeof(key), "loginfail:%s", login);
	if (auth_count_event(key, lim[LIM_ACCT_MAX], lim[LIM_ACCT_LOCK]) < 0)
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
int
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
	return auth_start_session(req, &s, login);
}

