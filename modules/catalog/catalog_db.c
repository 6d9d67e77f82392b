/*
 * catalog_db.c -- the catalog module's statements and the typed
 * functions over them (see catalog_db.h): the cache's set of ready
 * bodies is built here from the rows, columns read by name.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "catalog_db.h"
#include "mt_db.h"
#include "mt_http.h"
#include "mt_log.h"
#include "mt_util.h"

const char *const catalog_db_stmts[CATALOG_STMT__MAX] = {
	[CATALOG_STMT_PING] = "SELECT 1",
	[CATALOG_STMT_VERSION] = "SELECT version FROM catalog_version",
	/* One row per (region or NULL for the base catalog, disease). */
	[CATALOG_STMT_DISEASES] =
	    "SELECT r.region, d.code, json_build_object("
	    " 'code', d.code, 'name', d.name, 'category', d.category,"
	    " 'specialty', d.specialty,"
	    " 'review_mode', m.mode, 'instant', m.mode = 'single',"
	    " 'quota', d.quota, 'validity_months',"
	    "  coalesce(r.validity_months, d.validity_months),"
	    /* Who certifies, in words a person choosing the disease reads
	     * (R-CER-8, R-CER-10, S2): the notice days are the region's
	     * policy (policies bumps catalog_version too). */
	    " 'certified_by', json_build_object('mode', m.mode, 'text',"
	    "  CASE m.mode WHEN 'onsite' THEN '到认定医院现场认定'"
	    "  WHEN 'panel' THEN '由认定医院专家组评审，通过后院内公示'"
	    "   || policy_value(r.region, 'publicity_working_days') || '个工作日'"
	    "  ELSE '由认定专家网上认定' END),"
	    " 'required_materials', coalesce((SELECT json_agg(json_build_object("
	    "   'kind', m.kind, 'name', k.name, 'required', m.required,"
	    "   'max_age_days', m.max_age_days, 'note', m.note)"
	    "   ORDER BY m.sort_order, m.kind)"
	    /* A region's own list replaces the disease's
	     * (sql/fn/94_catalog_admin.sql). */
	    "  FROM region_materials(r.region, d.code) m"
	    "  JOIN material_kinds k ON k.code = m.kind), '[]'::json))::text"
	    " AS body"
	    " FROM (SELECT NULL::text AS region, code AS disease,"
	    "        NULL::text AS review_mode, NULL::int AS validity_months"
	    "        FROM diseases"
	    "       UNION ALL SELECT region, disease, review_mode,"
	    "        validity_months FROM region_diseases) r"
	    " JOIN diseases d ON d.code = r.disease"
	    " CROSS JOIN LATERAL (SELECT coalesce(r.review_mode, d.review_mode)"
	    "  AS mode) m"
	    " ORDER BY r.region NULLS FIRST, d.sort_order, d.code",
	[CATALOG_STMT_REGIONS] = "SELECT code FROM regions ORDER BY code",
	[CATALOG_STMT_INSTITUTIONS] =
	    "SELECT json_build_object('code', i.code, 'name', i.name,"
	    " 'region', i.region, 'level', i.level, 'ownership', i.ownership,"
	    " 'designated', i.designated, 'certifying', i.certifying,"
	    " 'certification_status', i.certification_status,"
	    " 'province_wide', i.province_wide,"
	    /* Active authorizations only (R-CER-8): a suspended or revoked
	     * one certifies nothing. */
	    " 'certifying_diseases', coalesce((SELECT json_agg(x.disease"
	    "   ORDER BY x.disease) FROM institution_diseases x"
	    "   WHERE x.institution = i.code AND x.status = 'active'),"
	    "  '[]'::json))::text, i.code"
	    " FROM institutions i"
	    /* A region's hospitals and those the province authorizes
	     * (province_wide, R-CER-13): a person of the region may
	     * designate them and be certified there. */
	    " WHERE ($1::text IS NULL OR i.region = $1 OR (i.province_wide"
	    "  AND left(i.region, 2) = left($1, 2)))"
	    /* Those a person of region $1 with disease $2 may choose as
	     * designated hospital: the rule submit and a change of hospital
	     * apply (institution_may_serve, sql/fn/20_applications.sql). */
	    "  AND ($2::text IS NULL OR institution_may_serve(i.code, $2, $1))"
	    "  AND ($3::boolean IS NULL OR i.certifying = $3)"
	    /* certifying=true with a disease: those that may certify it now
	     * for a person of region $1 (else of their own region), the
	     * check every hospital certification makes. */
	    "  AND ($2::text IS NULL OR NOT coalesce($3::boolean, false)"
	    "   OR certification_refusal(i.code, $2, coalesce($1, i.region))"
	    "   IS NULL)"
	    "  AND ($4::text IS NULL OR i.code > $4)"
	    " ORDER BY i.code LIMIT $5::int",
	/* One row: the whole body of GET /rejection-reasons. */
	[CATALOG_STMT_REASONS] =
	    "SELECT json_build_object('items', coalesce(json_agg("
	    " json_build_object('code', code, 'name', name_zh)"
	    " ORDER BY sort, code), '[]'::json))::text AS body"
	    " FROM rejection_reasons WHERE active",
	/* A genuine card against the record: the current state with the
	 * full names (a card carries them shortened), and why the card no
	 * longer holds (NULL when it does). */
	[CATALOG_STMT_CARD] =
	    "SELECT json_build_object('status', x.status,"
	    " 'disease', json_build_object('code', d.code, 'name', d.name),"
	    " 'designated_institution', json_build_object('code', i.code,"
	    "  'name', i.name),"
	    " 'valid_to', x.valid_to, 'ended_on', x.ended_on,"
	    " 'end_reason_text', qualification_reason_text(x.end_reason)"
	    " )::text AS current,"
	    " CASE WHEN x.status <> 'active' OR cn_today() > x.valid_to"
	    "  THEN 'ended' WHEN cn_today() < x.valid_from THEN 'not_yet_valid'"
	    "  WHEN x.designated_institution <> $2 THEN 'superseded'"
	    " END AS reason"
	    " FROM qualifications x"
	    " JOIN institutions i ON i.code = x.designated_institution"
	    " JOIN diseases d ON d.code = x.disease"
	    " WHERE x.id = $1::bigint",
	/* sql/fn/88_quarterly_review.sql. */
	[CATALOG_STMT_REVIEWS_PUBLIC] =
	    "SELECT quarterly_review_public($1, $2)::text AS result",
	/* sql/fn/90_stats.sql. */
	[CATALOG_STMT_STATS_PUBLIC] =
	    "SELECT public_stats_json($1, $2)::text AS result",
};

/* The parameters of GET /institutions' statement, by name. */
enum { INST_REGION, INST_DISEASE, INST_CERTIFYING, INST_AFTER, INST_LIMIT,
	INST__N };

/* A set being built: room for cap entries. */
struct build {
	struct catalog_entry *e;
	size_t           n, cap;
};

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct catalog_entry *)a)->key,
	    ((const struct catalog_entry *)b)->key);
}

/* See catalog_db.h. */
const struct catalog_entry *
catalog_set_find(const struct catalog_set *s, const char *key)
{
	struct catalog_entry k = { .key = (char *)key };

	if (s->e == NULL)
		return NULL;
	return bsearch(&k, s->e, s->n, sizeof(k), entry_cmp);
}

static void
entries_free(struct catalog_entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].body);
	}
	free(e);
}

/* See catalog_db.h. */
void
catalog_set_free(struct catalog_set *s)
{
	entries_free(s->e, s->n);
	s->e = NULL;
	s->n = 0;
}

/* Add an entry under key (taken) with body (its buffer taken) and the
 * ETag over it. */
static void
add(struct build *b, char *key, struct mt_buf *body)
{
	struct catalog_entry *e;
	unsigned char h[16];
	char hex[33];

	if (b->n == b->cap) {
		b->cap = b->cap == 0 ? 64 : b->cap * 2;
		b->e = mt_xrealloc(b->e, b->cap * sizeof(*b->e));
	}
	e = &b->e[b->n++];
	crypto_generichash(h, sizeof(h), (unsigned char *)body->data,
	    body->len, NULL, 0);
	mt_hex(h, sizeof(h), hex);
	e->key = key;
	e->len = body->len;
	e->body = body->data;
	snprintf(e->etag, sizeof(e->etag), "\"%s\"", hex);
	body->data = NULL;
	body->len = body->cap = 0;
}

/* Close the list being built for region (NULL = base) as an entry. */
static void
close_list(struct build *b, struct mt_buf *list, const char *region)
{
	if (region != NULL)
		mt_buf_printf(list, "],\"region\":\"%s\"}", region);
	else
		mt_buf_puts(list, "],\"region\":null}");
	add(b, mt_xstrdup(region != NULL ? region : ""), list);
}

/* Run a statement without parameters that returns rows; NULL (logged
 * when the server answered an error) when it failed. */
static PGresult *
rows(struct mt_req *req, int stmt)
{
	PGresult *res = mt_db_exec(req->db, stmt, 0, NULL);

	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	if (res != NULL)
		mt_db_log_error(req->request_id, stmt, res);
	PQclear(res);
	return NULL;
}

static int
same_region(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/*
 * One entry per disease row (a region's, or NULL for the base catalog)
 * and one list per region in the rows (the rows come by region, base
 * first).  0, or -1 when the statement failed.
 */
static int
load_diseases(struct mt_req *req, struct build *b)
{
	struct mt_buf list = {0}, one = {0};
	const char *region, *prev = NULL;
	int i, n, c_region, c_code, c_body;
	PGresult *res;

	if ((res = rows(req, CATALOG_STMT_DISEASES)) == NULL)
		return -1;
	c_region = PQfnumber(res, "region");
	c_code = PQfnumber(res, "code");
	c_body = PQfnumber(res, "body");
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		region = PQgetisnull(res, i, c_region) ? NULL :
		    PQgetvalue(res, i, c_region);
		if (i > 0 && same_region(region, prev))
			mt_buf_puts(&list, ",");
		else {
			if (i > 0)
				close_list(b, &list, prev);
			mt_buf_puts(&list, "{\"items\":[");
		}
		mt_buf_puts(&list, PQgetvalue(res, i, c_body));
		mt_buf_puts(&one, PQgetvalue(res, i, c_body));
		add(b, region == NULL ? mt_xstrdup(PQgetvalue(res, i, c_code)) :
		    mt_xasprintf("%s@%s", PQgetvalue(res, i, c_code), region),
		    &one);
		prev = region;
	}
	if (n == 0)
		mt_buf_puts(&list, "{\"items\":[");
	close_list(b, &list, prev);
	PQclear(res);
	return 0;
}

/* A region without catalog rows is still a region: an empty list for
 * each.  0, or -1 when the statement failed. */
static int
load_regions(struct mt_req *req, struct build *b)
{
	struct mt_buf list = {0};
	struct catalog_entry k;
	size_t known = b->n;
	PGresult *res;
	int i, c_code;

	if ((res = rows(req, CATALOG_STMT_REGIONS)) == NULL)
		return -1;
	c_code = PQfnumber(res, "code");
	qsort(b->e, known, sizeof(*b->e), entry_cmp);
	for (i = 0; i < PQntuples(res); i++) {
		k.key = PQgetvalue(res, i, c_code);
		if (bsearch(&k, b->e, known, sizeof(k), entry_cmp) != NULL)
			continue;
		mt_buf_puts(&list, "{\"items\":[");
		close_list(b, &list, k.key);
	}
	PQclear(res);
	return 0;
}

/* The rejection reasons' whole body (R-CER-11) as one entry.  0, or -1
 * when the statement failed. */
static int
load_reasons(struct mt_req *req, struct build *b)
{
	struct mt_buf body = {0};
	PGresult *res;

	if ((res = rows(req, CATALOG_STMT_REASONS)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return -1;
	}
	mt_buf_puts(&body, PQgetvalue(res, 0, PQfnumber(res, "body")));
	PQclear(res);
	add(b, mt_xstrdup(CATALOG_REASONS_KEY), &body);
	return 0;
}

/* See catalog_db.h. */
int
catalog_db_load(struct mt_req *req, struct catalog_set *out)
{
	struct build b = {0};

	if (load_diseases(req, &b) != 0 || load_regions(req, &b) != 0 ||
	    load_reasons(req, &b) != 0) {
		entries_free(b.e, b.n);
		return -1;
	}
	qsort(b.e, b.n, sizeof(*b.e), entry_cmp);
	out->e = b.e;
	out->n = b.n;
	return 0;
}

/* See catalog_db.h. */
int
catalog_db_ping(struct mt_req *req)
{
	PGresult *res = mt_db_exec(req->db, CATALOG_STMT_PING, 0, NULL);
	int ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK;

	PQclear(res);
	return ok;
}

/* See catalog_db.h. */
int
catalog_db_version(struct mt_req *req, long long *version)
{
	PGresult *res = mt_db_exec(req->db, CATALOG_STMT_VERSION, 0, NULL);
	int ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) == 1;

	if (ok)
		*version = atoll(PQgetvalue(res, 0, PQfnumber(res, "version")));
	PQclear(res);
	return ok ? 0 : -1;
}

/* See catalog_db.h. */
int
catalog_db_reply_institutions(struct mt_req *req,
    const struct catalog_inst_query *q)
{
	const char *p[INST__N];

	p[INST_REGION] = q->region;
	p[INST_DISEASE] = q->disease;
	p[INST_CERTIFYING] = q->certifying;
	p[INST_AFTER] = q->after;
	return mt_db_reply_page(req, CATALOG_STMT_INSTITUTIONS, INST__N, p,
	    INST_LIMIT, q->limit);
}

/* See catalog_db.h. */
int
catalog_db_card(struct mt_req *req, long long q, const char *inst,
    char **current, char reason[16])
{
	char id[24];
	const char *p[2] = { id, inst };
	PGresult *res;
	int found;

	snprintf(id, sizeof(id), "%lld", q);
	res = mt_db_query_or_reply(req, CATALOG_STMT_CARD, 2, p);
	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	if (found) {
		*current = mt_xstrdup(mt_db_get(res, 0, "current"));
		mt_db_copy(res, 0, "reason", reason, 16);
	}
	PQclear(res);
	return found;
}

/* See catalog_db.h. */
int
catalog_db_reply_reviews_public(struct mt_req *req, const char *region,
    const char *quarter)
{
	const char *p[2] = { region, quarter };
	json_object *ok;

	if (mt_db_outcome_or_reply(req, CATALOG_STMT_REVIEWS_PUBLIC, 2, p,
	    "result", &ok) < 0)
		return -1;
	mt_req_header(req, "Cache-Control: public, max-age=300");
	return mt_reply_json(req, 200, ok);
}

/* See catalog_db.h. */
int
catalog_db_stats_public(struct mt_req *req, const char *region,
    const char *month, json_object **ok)
{
	const char *p[2] = { region, month };

	return mt_db_outcome_or_reply(req, CATALOG_STMT_STATS_PUBLIC, 2, p,
	    "result", ok);
}
