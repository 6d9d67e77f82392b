/*
 * mt_auth.c -- see mt_auth.h.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_auth.h"
#include "mt_parse.h"
#include "mt_redis.h"
#include "mt_util.h"
#include "mt_valid.h"

/* HGETALL the session and push its expiry idle seconds ahead. */
#define SESSION_TOUCH \
	"local h = redis.call('HGETALL', KEYS[1]) " \
	"local idle = redis.call('HGET', KEYS[1], 'idle') " \
	"if idle then redis.call('EXPIRE', KEYS[1], tonumber(idle)) end " \
	"return h"

int
mt_auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static void
token_hash(const char *token, char *out)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	mt_hex(h, sizeof(h), out);
}

/* Copy the token from the request into tok[65]: the Bearer header, else
 * the session cookie.  1 found, 0 none (or not a token). */
static int
find_token(struct mt_req *req, char *tok, int *via_cookie)
{
	const char *h = mt_req_env(req, "HTTP_AUTHORIZATION"), *v;
	size_t n;

	if (mt_parse_bearer(h, &v, &n))
		*via_cookie = 0;
	else if ((h = mt_req_env(req, "HTTP_COOKIE")) != NULL &&
	    mt_parse_cookie(h, MT_AUTH_COOKIE, &v, &n))
		*via_cookie = 1;
	else
		return 0;
	if (!mt_parse_token(v, n))
		return 0;
	memcpy(tok, v, 64);
	tok[64] = '\0';
	return 1;
}

/*
 * This worker's sessions seen in the last SESSION_CACHE_MS, by token hash
 * (direct-mapped on its first bytes; a collision replaces).  A revoked
 * session (logout: DEL in Redis) is answered from here by another worker
 * for at most SESSION_CACHE_MS, so logout holds everywhere within half a
 * second; the idle expiry slides when the entry is fetched again.  Why:
 * the Redis round trip was a third of a signed-in read (issue 13).  A
 * broadcast of revocations was the other way; it needs a subscriber
 * inside each single-threaded worker, and the expiry bound is simpler
 * to prove.
 */
#define SESSION_CACHE_MS 500.0
#define SESSION_CACHE_SLOTS 64

static struct {
	struct mt_session s;
	double            at_ms;	/* 0: empty */
} session_cache[SESSION_CACHE_SLOTS];

/* The slot of token hash hex (64 hex characters). */
static size_t
cache_slot(const char *hex)
{
	char head[9];

	memcpy(head, hex, 8);
	head[8] = '\0';
	return strtoul(head, NULL, 16) % SESSION_CACHE_SLOTS;
}

/* Copy the cached session of s->token_hash into s, keeping
 * s->via_cookie.  1 found and young enough, 0 not. */
static int
cache_get(struct mt_session *s)
{
	size_t i = cache_slot(s->token_hash);
	int via_cookie = s->via_cookie;

	if (session_cache[i].at_ms == 0 ||
	    mt_now_ms() - session_cache[i].at_ms >= SESSION_CACHE_MS ||
	    strcmp(session_cache[i].s.token_hash, s->token_hash) != 0)
		return 0;
	*s = session_cache[i].s;
	s->via_cookie = via_cookie;
	return 1;
}

/* Forget the cached session of token hash hex, if any. */
static void
cache_drop(const char *hex)
{
	size_t i = cache_slot(hex);

	if (strcmp(session_cache[i].s.token_hash, hex) == 0)
		session_cache[i].at_ms = 0;
}

int
mt_auth_lookup(struct mt_req *req, struct mt_session *s)
{
	redisReply *h;
	char tok[65];
	size_t i;
	int idle = 0;
	double now;

	memset(s, 0, sizeof(*s));
	if (!find_token(req, tok, &s->via_cookie))
		return 0;
	token_hash(tok, s->token_hash);
	if (cache_get(s))
		return 1;
	now = mt_now_ms();
	/* One round trip: read the session and slide its idle expiry. */
	h = mt_redis_cmd("EVAL %s 1 sess:%s", SESSION_TOUCH, s->token_hash);
	if (h == NULL)
		return -1;
	if (h->type != REDIS_REPLY_ARRAY || h->elements == 0) {
		freeReplyObject(h);
		return 0;
	}
	for (i = 0; i + 1 < h->elements; i += 2) {
		const char *k = h->element[i]->str, *v = h->element[i + 1]->str;

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, "uid") == 0)
			s->user_id = atoll(v);
		else if (strcmp(k, "role") == 0)
			s->role = mt_role_bit(v);
		else if (strcmp(k, "pid") == 0)
			s->person_id = atoll(v);
		else if (strcmp(k, "region") == 0)
			snprintf(s->region, sizeof(s->region), "%s", v);
		else if (strcmp(k, "inst") == 0)
			snprintf(s->institution, sizeof(s->institution), "%s", v);
		else if (strcmp(k, "csrf") == 0)
			snprintf(s->csrf, sizeof(s->csrf), "%s", v);
		else if (strcmp(k, "idle") == 0)
			idle = atoi(v);
	}
	freeReplyObject(h);
	if (s->user_id <= 0 || s->role == 0 || idle <= 0)
		return 0;
	s->idle_seconds = idle;
	/* Aged from before the round trip: the bound holds however long
	 * Redis took. */
	i = cache_slot(s->token_hash);
	session_cache[i].s = *s;
	session_cache[i].at_ms = now;
	return 1;
}

int
mt_auth_create(const struct mt_session *s, int idle, char *token, char *csrf)
{
	unsigned char raw[32];
	char hash[65], uid[24], pid[24], idles[16];
	struct mt_redis_tx tx = {0};

	randombytes_buf(raw, sizeof(raw));
	mt_hex(raw, sizeof(raw), token);
	randombytes_buf(raw, sizeof(raw));
	mt_hex(raw, sizeof(raw), csrf);
	token_hash(token, hash);
	snprintf(uid, sizeof(uid), "%lld", s->user_id);
	snprintf(pid, sizeof(pid), "%lld", s->person_id);
	snprintf(idles, sizeof(idles), "%d", idle);
	/* One transaction: the session never exists without its expiry. */
	mt_redis_tx_add(&tx, "HSET sess:%s uid %s role %s pid %s region %s "
	    "inst %s csrf %s idle %s", hash, uid, mt_role_name(s->role), pid,
	    s->region, s->institution, csrf, idles);
	mt_redis_tx_add(&tx, "EXPIRE sess:%s %d", hash, idle);
	return mt_redis_tx_exec(&tx);
}

int
mt_auth_destroy(const char *hash)
{
	redisReply *r;

	cache_drop(hash);
	if ((r = mt_redis_cmd("DEL sess:%s", hash)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int
mt_auth_hash_password(const char *pw, char *out, size_t outlen)
{
	if (outlen < crypto_pwhash_STRBYTES)
		return -1;
	return crypto_pwhash_str(out, pw, strlen(pw),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

int
mt_auth_verify_password(const char *hash, const char *pw)
{
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}
