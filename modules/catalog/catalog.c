/*
 * catalog.c -- module `catalog`: public, cacheable reads.
 *
 *   GET /health                      both dependencies, 503 when one is down
 *   GET /diseases?region=            the catalog (a region's when given)
 *   GET /diseases/{code}?region=     one disease, with ETag / 304
 *   GET /institutions?region=&disease=&certifying=&limit=&cursor=
 *   GET /rejection-reasons           the active rejection reason codes
 *
 * The disease catalog is small and read far more than written, so each
 * worker keeps it in memory as ready JSON bodies with their ETags, and
 * asks PostgreSQL for catalog_version (bumped by triggers on every catalog
 * change) at most once a second.  While PostgreSQL is down a loaded
 * catalog is still served; a worker that never loaded it answers 503.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"
#include "mt_redis.h"
#include "mt_util.h"
#include "mt_valid.h"

enum stmt {
	STMT_PING,
	STMT_VERSION,
	STMT_DISEASES,
	STMT_REGIONS,
	STMT_INSTITUTIONS,
	STMT_REASONS,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_PING] = "SELECT 1",
	[STMT_VERSION] = "SELECT version FROM catalog_version",
	/* One row per (region or NULL for the base catalog, disease). */
	[STMT_DISEASES] =
	    "SELECT r.region, d.code, json_build_object("
	    " 'code', d.code, 'name', d.name, 'category', d.category,"
	    " 'specialty', d.specialty,"
	    " 'review_mode', coalesce(r.review_mode, d.review_mode),"
	    " 'instant', coalesce(r.review_mode, d.review_mode) = 'single',"
	    " 'quota', d.quota, 'validity_months', d.validity_months,"
	    " 'required_materials', coalesce((SELECT json_agg(json_build_object("
	    "   'kind', m.kind, 'name', k.name, 'required', m.required,"
	    "   'max_age_days', m.max_age_days, 'note', m.note)"
	    "   ORDER BY m.sort_order, m.kind)"
	    "  FROM disease_materials m JOIN material_kinds k ON k.code = m.kind"
	    "  WHERE m.disease = d.code), '[]'::json))::text"
	    " FROM (SELECT NULL::text AS region, code AS disease,"
	    "        NULL::text AS review_mode FROM diseases"
	    "       UNION ALL SELECT region, disease, review_mode"
	    "        FROM region_diseases) r"
	    " JOIN diseases d ON d.code = r.disease"
	    " ORDER BY r.region NULLS FIRST, d.sort_order, d.code",
	[STMT_REGIONS] = "SELECT code FROM regions ORDER BY code",
	[STMT_INSTITUTIONS] =
	    "SELECT json_build_object('code', i.code, 'name', i.name,"
	    " 'region', i.region, 'level', i.level, 'ownership', i.ownership,"
	    " 'designated', i.designated, 'certifying', i.certifying,"
	    " 'certification_status', i.certification_status,"
	    " 'certifying_diseases', coalesce((SELECT json_agg(x.disease"
	    "   ORDER BY x.disease) FROM institution_diseases x"
	    "   WHERE x.institution = i.code), '[]'::json))::text, i.code"
	    " FROM institutions i"
	    " WHERE ($1::text IS NULL OR i.region = $1)"
	    "  AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM"
	    "   institution_diseases y WHERE y.institution = i.code"
	    "   AND y.disease = $2))"
	    "  AND ($3::boolean IS NULL OR i.certifying = $3)"
	    "  AND ($4::text IS NULL OR i.code > $4)"
	    " ORDER BY i.code LIMIT $5::int",
	/* One row: the whole body of GET /rejection-reasons. */
	[STMT_REASONS] =
	    "SELECT json_build_object('items', coalesce(json_agg("
	    " json_build_object('code', code, 'name', name_zh)"
	    " ORDER BY sort, code), '[]'::json))::text"
	    " FROM rejection_reasons WHERE active",
};

/* One cached response: key "" (base list), "<region>" (a region's list),
 * "<code>" or "<code>@<region>" (one disease), REASONS_KEY (the rejection
 * reasons). */
struct entry {
	char   *key;
	char   *body;
	size_t  len;
	char    etag[40];
};

/* No region (six digits) or disease code (a letter first) starts so. */
#define REASONS_KEY	"#rejection-reasons"

static struct {
	struct entry   *e;
	size_t          n;
	long long       version;
	double          checked_ms;
} cache;

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key,
	    ((const struct entry *)b)->key);
}

static void
entry_set(struct entry *e, char *key, struct mt_buf *body)
{
	unsigned char h[16];
	char hex[33];

	crypto_generichash(h, sizeof(h), (unsigned char *)body->data,
	    body->len, NULL, 0);
	mt_hex(h, sizeof(h), hex);
	e->key = key;
	e->len = body->len;
	e->body = body->data;	/* takes the buffer */
	snprintf(e->etag, sizeof(e->etag), "\"%s\"", hex);
	body->data = NULL;
	body->len = body->cap = 0;
}

static void
cache_free(struct entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].body);
	}
	free(e);
}

/* Close the list being built for region (NULL = base) as an entry. */
static void
close_list(struct entry *e, size_t *n, struct mt_buf *list,
    const char *region)
{
	if (region != NULL)
		mt_buf_printf(list, "],\"region\":\"%s\"}", region);
	else
		mt_buf_puts(list, "],\"region\":null}");
	entry_set(&e[(*n)++], mt_xstrdup(region != NULL ? region : ""), list);
}

/*
 * Append the rejection reasons' list to e (n entries, room for one more).
 * Returns 0, or -1 when the database is down or answered an error.
 */
static int
reasons_load(struct mt_db *db, struct entry *e, size_t *n)
{
	struct mt_buf body = {0};
	PGresult *res;

	res = mt_db_exec(db, STMT_REASONS, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		if (res != NULL)
			mt_db_log_error("-", STMT_REASONS, res);
		PQclear(res);
		return -1;
	}
	mt_buf_puts(&body, PQgetvalue(res, 0, 0));
	PQclear(res);
	entry_set(&e[(*n)++], mt_xstrdup(REASONS_KEY), &body);
	return 0;
}

/*
 * Rebuild the cache from PostgreSQL.  Returns 0, or -1 when the database
 * is down or answered an error (the old cache stays).
 */
static int
cache_load(struct mt_db *db, long long version)
{
	struct mt_buf list = {0}, one = {0};
	struct entry *e;
	const char *region, *prev = NULL;
	PGresult *res;
	size_t n = 0;
	int i, rows;

	res = mt_db_exec(db, STMT_DISEASES, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		if (res != NULL)
			mt_db_log_error("-", STMT_DISEASES, res);
		PQclear(res);
		return -1;
	}
	rows = PQntuples(res);
	/* Per row one disease entry, plus at most one list per row. */
	e = mt_xcalloc((size_t)rows * 2 + 1, sizeof(*e));
	for (i = 0; i < rows; i++) {
		region = PQgetisnull(res, i, 0) ? NULL : PQgetvalue(res, i, 0);
		if (i == 0 || (region == NULL) != (prev == NULL) ||
		    (region != NULL && strcmp(region, prev) != 0)) {
			if (i > 0)
				close_list(e, &n, &list, prev);
			mt_buf_puts(&list, "{\"items\":[");
		} else
			mt_buf_puts(&list, ",");
		mt_buf_puts(&list, PQgetvalue(res, i, 2));
		mt_buf_puts(&one, PQgetvalue(res, i, 2));
		entry_set(&e[n++], region == NULL ?
		    mt_xstrdup(PQgetvalue(res, i, 1)) :
		    mt_xasprintf("%s@%s", PQgetvalue(res, i, 1), region), &one);
		prev = region;
	}
	if (rows > 0)
		close_list(e, &n, &list, prev);
	else {
		mt_buf_puts(&list, "{\"items\":[");
		close_list(e, &n, &list, NULL);
	}
	PQclear(res);
	/* A region without catalog rows is still a region: an empty list. */
	res = mt_db_exec(db, STMT_REGIONS, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		PQclear(res);
		cache_free(e, n);
		return -1;
	}
	e = mt_xrealloc(e, (n + (size_t)PQntuples(res) + 1) * sizeof(*e));
	qsort(e, n, sizeof(*e), entry_cmp);
	for (i = 0, rows = (int)n; i < PQntuples(res); i++) {
		struct entry k = { .key = PQgetvalue(res, i, 0) };

		if (bsearch(&k, e, (size_t)rows, sizeof(k), entry_cmp) != NULL)
			continue;
		mt_buf_puts(&list, "{\"items\":[");
		close_list(e, &n, &list, PQgetvalue(res, i, 0));
	}
	PQclear(res);
	if (reasons_load(db, e, &n) != 0) {
		cache_free(e, n);
		return -1;
	}
	qsort(e, n, sizeof(*e), entry_cmp);
	cache_free(cache.e, cache.n);
	cache.e = e;
	cache.n = n;
	cache.version = version;
	return 0;
}

/*
 * Make sure the cache is loaded and at most a second old.  Returns 0, or
 * -1 after answering 503 when there is nothing to serve.
 */
static int
cache_fresh_or_reply(struct mt_req *req)
{
	double now = mt_now_ms();
	long long v;
	PGresult *res;

	if (cache.e != NULL && now - cache.checked_ms < 1000.0)
		return 0;
	res = mt_db_exec(req->db, STMT_VERSION, 0, NULL);
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) == 1) {
		v = atoll(PQgetvalue(res, 0, 0));
		if ((cache.e == NULL || v != cache.version) &&
		    cache_load(req->db, v) != 0 && cache.e == NULL) {
			PQclear(res);
			return mt_reply_unavailable(req, "数据库");
		}
	}
	/* Checked, or failed: either way not again for a second, so a
	 * database that is down costs one attempt a second, not each
	 * request. */
	cache.checked_ms = now;
	PQclear(res);
	if (cache.e == NULL)
		return mt_reply_unavailable(req, "数据库");
	return 0;
}

static const struct entry *
cache_find(const char *key)
{
	struct entry k = { .key = (char *)key };

	return bsearch(&k, cache.e, cache.n, sizeof(k), entry_cmp);
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
	PGresult *res = mt_db_exec(req->db, STMT_PING, 0, NULL);
	redisReply *r = mt_redis_cmd("SET health:probe 1 PX 10000");
	int pg_ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK;
	int redis_ok = r != NULL;
	json_object *o = json_object_new_object(), *err;
	const struct mt_error *row;
	const char *what[2] = { NULL, NULL };
	char msg[256];

	PQclear(res);
	if (r != NULL)
		freeReplyObject(r);
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

/* 404 unless region is in the catalog; -1 after replying. */
static int
region_known_or_reply(struct mt_req *req, const char *region)
{
	if (region == NULL || cache_find(region) != NULL)
		return 0;
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
	const struct entry *e;

	if (cache_fresh_or_reply(req) < 0 ||
	    region_known_or_reply(req, region) < 0)
		return -1;
	e = cache_find(region != NULL ? region : "");
	if (e == NULL)
		return mt_reply_unavailable(req, "病种目录");
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
	const struct entry *e;
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
	const char *p[5];
	PGresult *res;
	int lim;
	char lims[16];

	if (cache_fresh_or_reply(req) < 0 ||
	    region_known_or_reply(req, mt_req_param(req, "region")) < 0)
		return -1;
	lim = limit != NULL ? atoi(limit) : 50;
	/* Ask for one more than the page to know whether a next one exists. */
	snprintf(lims, sizeof(lims), "%d", lim + 1);
	p[0] = mt_req_param(req, "region");
	p[1] = mt_req_param(req, "disease");
	p[2] = cert == NULL ? NULL :
	    (strcmp(cert, "true") == 0 || strcmp(cert, "1") == 0) ? "t" : "f";
	p[3] = mt_req_param(req, "cursor");
	p[4] = lims;
	res = mt_db_query_or_reply(req, STMT_INSTITUTIONS, 5, p);
	if (res == NULL)
		return -1;
	return mt_reply_items(req, res, lim);
}

/*
 * GET /rejection-reasons: the codes an expert may give with a rejection
 * (R-CER-11), from the cache like the diseases.  200 or 304; 503 when
 * the cache was never loaded.
 */
static int
h_rejection_reasons(struct mt_req *req)
{
	const struct entry *e;

	if (cache_fresh_or_reply(req) < 0)
		return -1;
	if ((e = cache_find(REASONS_KEY)) == NULL)
		return mt_reply_unavailable(req, "不予认定原因目录");
	return mt_reply_cached(req, e->body, e->len, e->etag);
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
	{ "limit", MT_IN_QUERY, MT_F_INT, mt_valid_page_limit, 0, 3,
	  "每页条数（1–200）" },
	{ "cursor", MT_IN_QUERY, MT_F_STRING, mt_valid_institution_code, 0,
	  20, "分页游标" },
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
};

const struct mt_module mt_module = {
	.name = "catalog",
	.routes = routes,
	.nroutes = MT_ARRAY_LEN(routes),
	.stmts = stmts,
	.nstmts = STMT__MAX,
};
