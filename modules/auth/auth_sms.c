/*
 * auth_sms.c -- the insured person's sign-in by SMS code (module auth;
 * see auth.c for the keys and limits): POST /auth/sms-code and
 * POST /auth/login.
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
#include "mt_identity.h"
#include "mt_policy.h"
#include "mt_redis.h"

/*
 * sha256(ph ":" code) as hex into out[65], ph the phone's lookup HMAC
 * (the key of the code, see below).
 */
static void
code_hash(const char *ph, const char *code, char *out)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char in[MT_IDENTITY_HMAC_LEN + 16];

	snprintf(in, sizeof(in), "%s:%s", ph, code);
	crypto_hash_sha256(h, (const unsigned char *)in, strlen(in));
	mt_hex(h, sizeof(h), out);
}

/*
 * The sending limits of POST /auth/sms-code, the same for every phone,
 * registered or not (the keys' defaults, not a region's value, which
 * would tell which phones are registered):
 *
 * - one code per sms_code_interval_seconds ("smsrate:<ph>"), always;
 * - at most sms_code_daily_max codes in 24 hours ("smsday:<ph>"; the
 *   window runs from the first code, so a cap reached ends at most 24 h
 *   after the first), so that nobody can send a victim a code a minute
 *   all day long from many addresses;
 * - but an address from which an insured person with this phone has
 *   signed in within login_known_address_days is exempt from the daily
 *   cap (and not counted in it): a stranger who spends the cap cannot
 *   keep the person from signing in from home for a day (issue 9 review).
 *   A stranger's address is known for no phone, so the answers are the
 *   same for registered and unregistered phones.
 *
 * Left by design: a person who has never signed in, or signs in from a
 * new address, can still be kept waiting until the window ends; and the
 * address is nginx's $remote_addr (behind a proxy: real_ip, see
 * nginx/fastcgi.mtcert).  ph is the phone's lookup HMAC (auth.c: Redis
 * keys never carry the phone).  Returns 0, or -1 after answering 429
 * sms_too_frequent or sms_daily_limit, or 503.
 */
static int
sms_limits_or_reply(struct mt_req *req, const char *phone, const char *ph)
{
	enum { SMS_INTERVAL, SMS_DAILY_MAX, SMS_KNOWN_DAYS, SMS__MAX };
	static const char *const keys[SMS__MAX] = {
		[SMS_INTERVAL] = "sms_code_interval_seconds",
		[SMS_DAILY_MAX] = "sms_code_daily_max",
		[SMS_KNOWN_DAYS] = "login_known_address_days",
	};
	char key[MT_IDENTITY_HMAC_LEN + 8];
	redisReply *r;
	long long n;
	int v[SMS__MAX], known;

	if (mt_policy_ints_or_reply(req, "", keys, v, SMS__MAX) < 0)
		return -1;
	r = mt_redis_cmd("SET smsrate:%s 1 EX %d NX", ph, v[SMS_INTERVAL]);
	if (r == NULL)
		return mt_reply_unavailable(req, "缓存服务");
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		r = mt_redis_cmd("TTL smsrate:%s", ph);
		mt_req_header(req, "Retry-After: %lld",
		    r != NULL && r->integer > 0 ? r->integer :
		    (long long)v[SMS_INTERVAL]);
		if (r != NULL)
			freeReplyObject(r);
		return mt_reply_err(req, MT_E_SMS_TOO_FREQUENT, "phone");
	}
	freeReplyObject(r);
	if ((known = auth_db_phone_address_known(req, phone,
	    auth_remote_addr(req), v[SMS_KNOWN_DAYS])) != 0)
		return known < 0 ? -1 : 0;
	snprintf(key, sizeof(key), "smsday:%s", ph);
	/* max 0: the window's expiry is set at the first code only. */
	if ((n = auth_count_event(key, 0, 86400)) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	if (n <= v[SMS_DAILY_MAX])
		return 0;
	if ((n = auth_ttl(key)) < 0)
		return mt_reply_unavailable(req, "缓存服务");
	mt_req_header(req, "Retry-After: %lld", n);
	return mt_reply_err(req, MT_E_SMS_DAILY_LIMIT, "phone");
}

/*
 * POST /auth/sms-code.  204 whether or not the phone is registered (a
 * code is queued only when it is); 429 sms_too_frequent or
 * sms_daily_limit; 503.
 */
int
h_sms_code(struct mt_req *req)
{
	const char *phone = mt_req_param(req, "phone");
	char region[8], code[8], hash[65], text[160];
	char ph[MT_IDENTITY_HMAC_LEN + 1];
	struct mt_redis_tx tx = {0};
	int known, ttl;

	if (mt_identity_hmac_or_reply(req, MT_IDENTITY_PHONE, phone, ph) < 0 ||
	    (known = auth_db_phone_region(req, phone, region,
	    sizeof(region))) < 0 ||
	    sms_limits_or_reply(req, phone, ph) < 0)
		return -1;
	if (!known)
		return mt_reply_raw(req, 204, NULL, NULL, 0);
	if (auth_policy_or_reply(req, region, "sms_code_ttl_seconds", &ttl) < 0)
		return -1;
	snprintf(code, sizeof(code), "%06u", randombytes_uniform(1000000));
	code_hash(ph, code, hash);
	/* A new code replaces the old one, tries and all; never without
	 * its expiry. */
	mt_redis_tx_add(&tx, "DEL smscode:%s", ph);
	mt_redis_tx_add(&tx, "HSET smscode:%s hash %s tries 0", ph, hash);
	mt_redis_tx_add(&tx, "EXPIRE smscode:%s %d", ph, ttl);
	if (mt_redis_tx_exec(&tx) != 0)
		return mt_reply_unavailable(req, "缓存服务");
	snprintf(text, sizeof(text), "【门诊慢特病】您的登录验证码为%s，"
	    "%d分钟内有效。请勿告诉他人。", code, ttl / 60);
	if (auth_db_queue_sms(req, phone, text) < 0)
		return -1;
	return mt_reply_raw(req, 204, NULL, NULL, 0);
}

/*
 * Check and consume the SMS code of the phone whose lookup HMAC is ph.
 * Returns 1 when right (and now used), 0 when wrong, expired or out of
 * tries, -1 after answering 503.
 */
static int
use_code(struct mt_req *req, const char *ph, const char *code,
    int max_tries)
{
	char want[65];
	redisReply *r, *h;
	int tries, ok;

	r = mt_redis_cmd("HINCRBY smscode:%s tries 1", ph);
	if (r == NULL)
		return mt_reply_unavailable(req, "缓存服务");
	tries = (int)r->integer;
	freeReplyObject(r);
	h = mt_redis_cmd("HGET smscode:%s hash", ph);
	if (h == NULL)
		return mt_reply_unavailable(req, "缓存服务");
	code_hash(ph, code, want);
	ok = h->type == REDIS_REPLY_STRING && h->len == 64 &&
	    sodium_memcmp(h->str, want, 64) == 0;
	freeReplyObject(h);
	if (tries == 1 && !ok) {
		/* HINCRBY made a key for a phone without a code: drop it. */
		r = mt_redis_cmd("HEXISTS smscode:%s hash", ph);
		if (r != NULL && r->integer == 0) {
			freeReplyObject(r);
			r = mt_redis_cmd("DEL smscode:%s", ph);
		}
		if (r != NULL)
			freeReplyObject(r);
		return 0;
	}
	if (!ok && tries < max_tries)
		return 0;
	/* Right, or the last try spent: the code is gone either way, and
	 * only the request whose DEL removed it may use it. */
	r = mt_redis_cmd("DEL smscode:%s", ph);
	if (r == NULL)
		return mt_reply_unavailable(req, "缓存服务");
	ok = ok && tries <= max_tries && r->integer == 1;
	freeReplyObject(r);
	return ok;
}

/*
 * POST /auth/login: an insured person signs in with the SMS code and
 * the identity of the insured registry.  200 with the session; 401
 * login_failed (a wrong, expired or spent code and a registry mismatch
 * alike); 503.
 */
int
h_login(struct mt_req *req)
{
	const char *phone = mt_req_param(req, "phone");
	struct mt_session s;
	char region[8], login[40], ph[MT_IDENTITY_HMAC_LEN + 1];
	int rc, tries;

	if (mt_identity_hmac_or_reply(req, MT_IDENTITY_PHONE, phone, ph) < 0 ||
	    auth_db_phone_region(req, phone, region, sizeof(region)) < 0 ||
	    auth_policy_or_reply(req, region, "sms_code_max_tries", &tries) < 0)
		return -1;
	memset(&s, 0, sizeof(s));
	s.role = MT_ROLE_INSURED;
	/* A right code, the person of the registry, an account that may
	 * sign in: each step 1 to go on, 0 to refuse, -1 answered. */
	if ((rc = use_code(req, ph, mt_req_param(req, "code"),
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
	/* The address is known from now on: the daily SMS cap no longer
	 * applies to it (sms_limits_or_reply). */
	if (auth_db_address_ok(req, s.user_id, auth_remote_addr(req)) < 0)
		return -1;
	snprintf(login, sizeof(login), "insured-%lld", s.person_id);
	return auth_start_session(req, &s, login);
}

