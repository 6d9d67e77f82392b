/*
 * catalog.c -- module `catalog`: public, cacheable reads.
 *
 *   GET /health                      both dependencies, 503 when one is down
 *   GET /diseases?region=            the catalog (a region's when given)
 *   GET /diseases/{code}?region=     one disease, with ETag / 304
 *   GET /institutions?region=&disease=&certifying=&limit=&cursor=
 *   GET /rejection-reasons           the active rejection reason codes
 *   GET /cards/verify?token=         an e-card's token: genuine, and valid
 *                                    today by the record (R-BEN-2)
 *   GET /cards/keys                  the public keys that sign e-cards
 *   GET /stats/public?region=&month= the public monthly figures (stats.c)
 *
 * The disease catalog is small and read far more than written, so each
 * worker keeps it in memory as ready JSON bodies with their ETags, and
 * asks PostgreSQL for catalog_version (bumped by triggers on every catalog
 * change) once in each second of the clock it serves in, and again when a
 * request names a region its copy lacks.  While PostgreSQL
 * is down a loaded catalog is still served; a worker that never loaded it
 * answers 503.
 *
 * nginx keeps the public reads (diseases, institutions, rejection reasons,
 * card keys) in its fastcgi_cache until the end of the second the data was
 * checked in (X-Accel-Expires: @that second; nginx/mtcert.conf.in): worker
 * and nginx together are never more than one second behind an edit.
 * The statements and the building of the cached bodies are in
 * catalog_db.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "catalog_db.h"
#include "reviews.h"
#include "mt_card.h"
#include "mt_config.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"
#include "mt_parse.h"
#include "mt_redis.h"
#include "mt_util.h"
#include "mt_valid.h"
#include "stats.h"

/* This worker's copy of the catalog: ready bodies with their ETags. */
static struct {
	struct catalog_set set;
	long long       version;
	time_t          checked;	/* the clock's second of the check */
	int             db_ok;		/* that check reached PostgreSQL */
} cache;

/*
 * Make sure the cache is loaded and checked in this second of the clock
 * (so nginx may keep an answer until the second ends).  Returns 0, or -1
 * after answering 503 when there is nothing to serve.
 */
static int
cache_fresh_or_reply(struct mt_req *req)
{
	time_t now = time(NULL);
	struct catalog_set fresh;
	long long v;

	if (cache.set.e != NULL && now == cache.checked)
		return 0;
	cache.db_ok = catalog_db_version(req, &v) == 0;
	if (cache.db_ok && (cache.set.e == NULL || v != cache.version)) {
		if (catalog_db_load(req, &fresh) == 0) {
			catalog_set_free(&cache.set);
			cache.set = fresh;
			cache.version = v;
		} else if (cache.set.e == NULL)
			return mt_reply_unavailable(req, "数据库");
	}
	/* Checked, or failed: either way not again for a second, so a
	 * database that is down costs one attempt a second, not each
	 * request. */
	cache.checked = now;
	if (cache.set.e == NULL)
		return mt_reply_unavailable(req, "数据库");
	return 0;
}

static const struct catalog_entry *
cache_find(const char *key)
{
	return catalog_set_find(&cache.set, key);
}

/*
 * Let nginx keep this public answer until the end of the clock's second
 * in which its data was checked (nginx never keeps one carrying no
 * X-Accel-Expires: the cache's Cache-Control and Expires are ignored).
 */
static void
nginx_keeps_this_second(struct mt_req *req, time_t checked)
{
	mt_req_header(req, "X-Accel-Expires: @%lld", (long long)checked);
}

/*
 * GET /health: 200 when PostgreSQL answers SELECT 1 and Redis takes a
 * write; 503 (Health plus error, Retry-After) otherwise.  Redis is probed
 * with a write, not PING: a Redis out of memory under noeviction, or one
 * whose AOF cannot be written, still answers PING but refuses every
 * session and sign-in.  The probe key lives 10 s, so it never grows.
 */
static int
h_health(struct mt_req *req)
{
	int pg_ok = catalog_db_ping(req);
	int redis_ok = mt_redis_do("SET health:probe 1 PX 10000") == 0;
	json_object *o = json_object_new_object(), *err;
	const struct mt_error *row;
	const char *what[2] = { NULL, NULL };
	char msg[256];

	json_object_object_add(o, "status",
	    json_object_new_string(pg_ok && redis_ok ? "ok" : "unavailable"));
	json_object_object_add(o, "postgres",
	    json_object_new_string(pg_ok ? "ok" : "down"));
	json_object_object_add(o, "redis",
	    json_object_new_string(redis_ok ? "ok" : "down"));
	mt_req_header(req, "Cache-Control: no-store");
	if (pg_ok && redis_ok)
		return mt_reply_json(req, 200, o);
	/* The error member is the table's row, as mt_reply_unavailable
	 * words it. */
	row = &mt_errors[MT_E_SERVICE_UNAVAILABLE];
	what[0] = !pg_ok ? "（数据库）" : "（缓存服务）";
	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(row->code));
	json_object_object_add(err, "message", json_object_new_string(
	    mt_error_text(row, what, msg, sizeof(msg))));
	json_object_object_add(o, "error", err);
	mt_req_header(req, "Retry-After: 5");
	return mt_reply_json(req, 503, o);
}

/*
 * 404 unless region is in the catalog; -1 after replying.  A region this
 * worker's copy lacks may have been added after this second's check (an
 * agency adds one and reads it at once), so a miss checks the version
 * again before the 404 -- unless the last check could not reach
 * PostgreSQL (then a flood of unknown regions costs no reconnects).
 */
static int
region_known_or_reply(struct mt_req *req, const char *region)
{
	if (region == NULL || cache_find(region) != NULL)
		return 0;
	if (cache.db_ok) {
		cache.checked = 0;
		if (cache_fresh_or_reply(req) < 0)
			return -1;
		if (cache_find(region) != NULL)
			return 0;
	}
	return mt_reply_err(req, MT_E_REGION_NOT_FOUND, "region");
}

/*
 * GET /diseases?region=: the base catalog, or a region's.  200 or 304
 * (ETag); 400 malformed region; 404 region_not_found; 503 the catalog
 * was never loaded (database down).
 */
static int
h_diseases(struct mt_req *req)
{
	const char *region = mt_req_param(req, "region");
	const struct catalog_entry *e;

	if (cache_fresh_or_reply(req) < 0 ||
	    region_known_or_reply(req, region) < 0)
		return -1;
	e = cache_find(region != NULL ? region : "");
	if (e == NULL)
		return mt_reply_unavailable(req, "病种目录");
	nginx_keeps_this_second(req, cache.checked);
	return mt_reply_cached(req, e->body, e->len, e->etag);
}

/*
 * GET /diseases/{code}?region=: one disease.  200 or 304 (ETag); 400
 * malformed code or region; 404 disease_not_found (field code) or
 * region_not_found; 503 the catalog was never loaded.
 */
static int
h_disease(struct mt_req *req)
{
	const char *region = mt_req_param(req, "region");
	const char *code = mt_req_param(req, "code");
	const struct catalog_entry *e;
	char key[64];

	if (cache_fresh_or_reply(req) < 0 ||
	    region_known_or_reply(req, region) < 0)
		return -1;
	if (region != NULL)
		snprintf(key, sizeof(key), "%s@%s", code, region);
	else
		snprintf(key, sizeof(key), "%s", code);
	e = cache_find(key);
	if (e == NULL)
		return mt_reply_err(req, MT_E_DISEASE_NOT_FOUND, "code");
	nginx_keeps_this_second(req, cache.checked);
	return mt_reply_cached(req, e->body, e->len, e->etag);
}

/*
 * GET /institutions?region=&disease=&certifying=&limit=&cursor=: the
 * hospitals, a page at a time by code.  200; 400 a query field that
 * fails its check; 404 region_not_found; 503 database down.
 */
static int
h_institutions(struct mt_req *req)
{
	const char *cert = mt_req_param(req, "certifying");
	const char *limit = mt_req_param(req, "limit");
	struct catalog_inst_query q = {
		.region = mt_req_param(req, "region"),
		.disease = mt_req_param(req, "disease"),
		.certifying = cert == NULL ? NULL :
		    (strcmp(cert, "true") == 0 || strcmp(cert, "1") == 0) ?
		    "t" : "f",
		.after = mt_req_param(req, "cursor"),
		.limit = limit != NULL ? atoi(limit) : 50,
	};

	if (cache_fresh_or_reply(req) < 0 ||
	    region_known_or_reply(req, q.region) < 0)
		return -1;
	/* Read now, after the check: a 503 is kept to the second's end too. */
	nginx_keeps_this_second(req, cache.checked);
	return catalog_db_reply_institutions(req, &q);
}

/*
 * GET /rejection-reasons: the codes an expert may give with a rejection
 * (R-CER-11), from the cache like the diseases.  200 or 304; 503 when
 * the cache was never loaded.
 */
static int
h_rejection_reasons(struct mt_req *req)
{
	const struct catalog_entry *e;

	if (cache_fresh_or_reply(req) < 0)
		return -1;
	if ((e = cache_find(CATALOG_REASONS_KEY)) == NULL)
		return mt_reply_unavailable(req, "不予认定原因目录");
	nginx_keeps_this_second(req, cache.checked);
	return mt_reply_cached(req, e->body, e->len, e->etag);
}

/* This worker's copy of the card keys (public halves only). */
static struct mt_card_ring card_ring;

/* Make card_ring current: 0, or -1 after answering 503 when there are no
 * keys to check against. */
static int
card_keys_or_reply(struct mt_req *req)
{
	char *dir = mt_xasprintf("%s/%s", mt_cfg.var_dir, MT_CARD_DIR);
	int rc = mt_card_ring_fresh(&card_ring, dir, 0);

	free(dir);
	if (rc == 0)
		return 0;
	mt_log_error("rid=%s no card keys under %s/%s", req->request_id,
	    mt_cfg.var_dir, MT_CARD_DIR);
	return mt_reply_unavailable(req, "电子凭证公钥");
}

/* Add "reason" and "reason_text" of r to o. */
static void
add_reason(json_object *o, enum mt_card_reason r)
{
	json_object_object_add(o, "reason",
	    json_object_new_string(mt_card_reason_code(r)));
	json_object_object_add(o, "reason_text",
	    json_object_new_string(mt_card_reason_text(r)));
}

/*
 * A genuine card c against the record: add "current" and the verdict to
 * o.  0, or -1 after answering 503/500 (o is then the caller's to put).
 */
static int
card_against_record(struct mt_req *req, const struct mt_card *c,
    json_object *o)
{
	char *current = NULL, why[16] = "";
	enum mt_card_reason r = MT_CARD_NOT_FOUND;
	int found;

	found = catalog_db_card(req, c->qualification, c->institution,
	    &current, why);
	if (found < 0)
		return -1;
	if (found) {
		json_object_object_add(o, "current",
		    json_tokener_parse(current));
		r = why[0] == '\0' ? MT_CARD_OK : mt_card_reason_of(why);
		free(current);
	}
	json_object_object_add(o, "valid", json_object_new_boolean(
	    r == MT_CARD_OK));
	if (r != MT_CARD_OK)
		add_reason(o, r < MT_CARD__MAX ? r : MT_CARD_ENDED);
	return 0;
}

/*
 * GET /cards/verify?token=: is this e-card genuine (signed by one of the
 * keys of GET /cards/keys), and does it hold today?  {valid, genuine,
 * reason?, reason_text?, key_id?, card? (what the token says, masked),
 * current? (the record now)}.  valid: genuine, the qualification active
 * and within its validity, and the card's hospital still the designated
 * one.  Any token, however broken, is a 200 with valid false and the
 * reason (malformed, unknown_key, bad_signature, not_found, ended,
 * not_yet_valid, superseded).  503 no keys, or the database is down for
 * a genuine card (the answer promises the current status).
 */
static int
h_card_verify(struct mt_req *req)
{
	const char *token = mt_req_param(req, "token");
	json_object *o;
	struct mt_card c;
	enum mt_card_reason r;

	if (card_keys_or_reply(req) < 0)
		return -1;
	r = mt_card_verify(&card_ring.keys, token != NULL ? token : "", &c);
	o = json_object_new_object();
	json_object_object_add(o, "genuine",
	    json_object_new_boolean(r == MT_CARD_OK));
	if (c.kid[0] != '\0')
		json_object_object_add(o, "key_id",
		    json_object_new_string(c.kid));
	mt_req_header(req, "Cache-Control: no-store");
	if (r != MT_CARD_OK) {
		json_object_object_add(o, "valid",
		    json_object_new_boolean(0));
		add_reason(o, r);
		return mt_reply_json(req, 200, o);
	}
	json_object_object_add(o, "card", mt_card_json(&c));
	if (card_against_record(req, &c, o) < 0) {
		json_object_put(o);
		return -1;
	}
	return mt_reply_json(req, 200, o);
}

/*
 * GET /cards/keys: {"keys":[{key_id, algorithm, public_key, created_at,
 * current}]}, the public keys a hospital's own system keeps to check
 * cards with no network.  200 or 304 (ETag), public for 5 minutes (a
 * rotation shows within that); 503 when there are no keys.
 */
static int
h_card_keys(struct mt_req *req)
{
	json_object *o;
	const char *body, *inm = mt_req_env(req, "HTTP_IF_NONE_MATCH");
	unsigned char h[16];
	char hex[33], etag[40];
	int rc;

	if (card_keys_or_reply(req) < 0)
		return -1;
	o = mt_card_keys_json(&card_ring.keys);
	body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	crypto_generichash(h, sizeof(h), (const unsigned char *)body,
	    strlen(body), NULL, 0);
	mt_hex(h, sizeof(h), hex);
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	mt_req_header(req, "ETag: %s", etag);
	mt_req_header(req, "Cache-Control: public, max-age=300");
	/* The key files were read just now. */
	nginx_keeps_this_second(req, time(NULL));
	if (inm != NULL && mt_parse_etag_match(inm, etag))
		rc = mt_reply_raw(req, 304, NULL, NULL, 0);
	else
		rc = mt_reply_raw(req, 200, "application/json; charset=utf-8",
		    body, strlen(body));
	json_object_put(o);
	return rc;
}

static const struct mt_field f_region[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

static const struct mt_field f_disease[] = {
	{ "code", MT_IN_PATH, MT_F_STRING, mt_valid_disease_code, 1, 16,
	  "病种编码" },
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ NULL },
};

static const struct mt_field f_institutions[] = {
	{ "region", MT_IN_QUERY, MT_F_STRING, mt_valid_region, 0, 6,
	  "统筹区代码" },
	{ "disease", MT_IN_QUERY, MT_F_STRING, mt_valid_disease_code, 0, 16,
	  "病种编码" },
	{ "certifying", MT_IN_QUERY, MT_F_BOOL, NULL, 0, 5, "是否认定机构" },
	MT_F_PAGE_LIMIT,
	MT_F_CODE_CURSOR,
	{ NULL },
};

/* Any text at all: a token that is not one is valid:false, malformed.
 * The cap is nginx's (a longer query is 414 there). */
static const struct mt_field f_token[] = {
	{ "token", MT_IN_QUERY, MT_F_STRING, NULL, 0, 8000, "电子凭证" },
	{ NULL },
};

static const struct mt_route routes[] = {
	{ "GET", "/health", h_health, MT_ROLE_PUBLIC, 0, NULL, 0 },
	{ "GET", "/diseases", h_diseases, MT_ROLE_PUBLIC, 0, f_region, 0 },
	{ "GET", "/diseases/{code}", h_disease, MT_ROLE_PUBLIC, 0, f_disease, 0 },
	{ "GET", "/institutions", h_institutions, MT_ROLE_PUBLIC, 0,
	  f_institutions, 0 },
	{ "GET", "/rejection-reasons", h_rejection_reasons, MT_ROLE_PUBLIC, 0,
	  NULL, 0 },
	{ "GET", "/cards/verify", h_card_verify, MT_ROLE_PUBLIC, 0, f_token,
	  0 },
	{ "GET", "/cards/keys", h_card_keys, MT_ROLE_PUBLIC, 0, NULL, 0 },
	/* The quarterly review's counts, 一公开 (issue 12 item 4):
	 * reviews.c. */
	{ "GET", "/reviews/public", h_reviews_public, MT_ROLE_PUBLIC, 0,
	  f_reviews_public, 0 },
	/* The public figures (issue 12, R-SUP-3): stats.c. */
	{ "GET", "/stats/public", h_stats_public, MT_ROLE_PUBLIC, 0,
	  f_stats_public, 0 },
};

const struct mt_module mt_module = {
	.name = "catalog",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = catalog_db_stmts,
	.nstmts = CATALOG_STMT__MAX,
	/* Public reads only, each allowed a second of lag (docs/scale.md). */
	.reads_replica = 1,
};
