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
 *   login_account_lockout_seconds to every address that has not signed
 *   in to it in the last login_known_address_days days.  An address that
 *   has (login_addresses, kept in PostgreSQL so that a Redis flush does
 *   not forget it; each sign-in refreshes it) is never locked out by it:
 *   the owner keeps working while someone guesses from elsewhere.
 *
 * Each try is counted before its password is checked, in one atomic
 * INCR (reserve_or_reply): counting after the Argon2 check let parallel
 * wrong passwords all pass a check that saw none of the others (nginx
 * lets a burst of 5 through at once).  A right password then takes its
 * try back: the pair count is cleared, the account count decremented.
 * A lock runs its full time from the try that reached it; later tries
 * do not extend it.  The limits are the policy of the account's region
 * (unknown logins: the defaults).
 *
 * What it does not do, by design: an address shared by many (an office
 * NAT, a hotel) is one address, so someone behind it can lock the owner
 * out at that address (not from elsewhere) for login_lockout_seconds.
 * And the address is nginx's $remote_addr: behind another proxy it must
 * be set from that proxy's header by real_ip, trusting that proxy only
 * (nginx/fastcgi.mtcert), or every client has the proxy's address.
 */
enum { LIM_PAIR_MAX, LIM_PAIR_LOCK, LIM_ACCT_MAX, LIM_ACCT_LOCK,
    LIM_KNOWN_DAYS, LIM__MAX };

static const char *const limit_keys[LIM__MAX] = {
	[LIM_PAIR_MAX] = "login_max_failures",
	[LIM_PAIR_LOCK] = "login_lockout_seconds",
	[LIM_ACCT_MAX] = "login_account_max_failures",
	[LIM_ACCT_LOCK] = "login_account_lockout_seconds",
	[LIM_KNOWN_DAYS] = "login_known_address_days",
};

/* The Redis keys of the two counters of login and addr. */
struct lim_keys {
	char pair[160];
	char acct[96];
};

/* 429 account_locked with the seconds left of key's lock; returns -1. */
static int
locked_reply(struct mt_req *req, const char *key)
{
	char minutes[24];
	long long seconds = auth_ttl(key);

	if (seconds < 0)
		return mt_reply_unavailable(req, "缓存服务");
	snprintf(minutes, sizeof(minutes), "%lld", (seconds + 59) / 60);
	mt_req_header(req, "Retry-After: %lld", seconds);
	return mt_reply_err(req, MT_E_ACCOUNT_LOCKED, NULL, minutes);
}

/* 1 when user uid has signed in from addr lately, 0 if not, -1 after
 * answering 503. */
static int
known_address(struct mt_req *req, long long uid, const char *addr,
    const int *lim)
{
	if (uid == 0)
		return 0;
	return auth_db_address_known(req, uid, addr, lim[LIM_KNOWN_DAYS]);
}

/*
 * Count this try to login (user uid, 0 when unknown) from addr before
 * its password is checked, and refuse it while a lock holds (see
 * above); a refused try is not counted against the account.  Returns 0
 * to go on, or -1 after answering 429 account_locked or 503.
 */
static int
reserve_or_reply(struct mt_req *req, long long uid, const char *addr,
    const int *lim, const struct lim_keys *k)
{
	long long n;
	int known;

	if ((n = auth_count_event(k->pair, lim[LIM_PAIR_MAX],
	    lim[LIM_PAIR_LOCK])) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	if (n > lim[LIM_PAIR_MAX])
		return locked_reply(req, k->pair);
	if ((n = auth_count_event(k->acct, lim[LIM_ACCT_MAX],
	    lim[LIM_ACCT_LOCK])) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	if (n <= lim[LIM_ACCT_MAX])
		return 0;
	if ((known = known_address(req, uid, addr, lim)) != 0)
		return known < 0 ? -1 : 0;
	if (auth_uncount_event(k->acct) < 0 || auth_uncount_event(k->pair) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	return locked_reply(req, k->acct);
}

/*
 * A success from addr: its failure count starts afresh, the account's
 * count takes the try back, and the address is known from now on.
 * Returns 0, or -1 after answering 503.
 */
static int
succeeded_or_reply(struct mt_req *req, long long uid, const char *addr,
    const struct lim_keys *k)
{
	redisReply *r;

	if ((r = mt_redis_cmd("DEL %s", k->pair)) == NULL ||
	    auth_uncount_event(k->acct) < 0) {
		if (r != NULL)
			freeReplyObject(r);
		return mt_reply_unavailable(req, "缓存服务");
	}
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
	const char *addr = auth_remote_addr(req);
	char hash[crypto_pwhash_STRBYTES];
	struct mt_session s;
	struct lim_keys k;
	int lim[LIM__MAX], usable, ok;

	snprintf(k.pair, sizeof(k.pair), "loginpair:%s:%s", login, addr);
	snprintf(k.acct, sizeof(k.acct), "loginfail:%s", login);
	if (staff_user(req, login, &s, hash, &usable) < 0 ||
	    mt_policy_ints_or_reply(req, s.region, limit_keys, lim,
	    LIM__MAX) < 0 ||
	    reserve_or_reply(req, s.user_id, addr, lim, &k) < 0)
		return -1;
	/* Always one Argon2id verification, so timing tells nothing.  A
	 * wrong password stays counted. */
	ok = mt_auth_verify_password(hash, mt_req_param(req, "password")) &&
	    usable;
	if (!ok)
		return mt_reply_err(req, MT_E_LOGIN_FAILED, NULL,
		    "账号或密码错误");
	if (succeeded_or_reply(req, s.user_id, addr, &k) < 0)
		return -1;
	return auth_start_session(req, &s, login);
}

