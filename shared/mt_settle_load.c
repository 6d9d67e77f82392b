/*
 * mt_settle_load.c -- the settlement import and the renewal job's caller
 * of mt_settle.h, over the pure parser of mt_settle.c.  The statements
 * are run unprepared (mt_db_params, as mt_policy.c does): the callers are
 * two modules' worth of code (the agency module, mtcertctl; the
 * dispatcher) and an import is rare and large.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "mt_db.h"
#include "mt_identity.h"
#include "mt_log.h"
#include "mt_settle.h"
#include "mt_util.h"

/*
 * A whole file is staged and merged in one transaction: 50,000 rows take
 * about a second on a quiet machine, several when it is loaded -- past
 * the per-call deadline that bounds an API request's queries (15 s, 3 s
 * on the test stack) and the connection's statement_timeout (10 s).
 * The import's transaction gets this bound instead (mt_db_begin_long).
 */
#define SETTLE_DEADLINE_MS 120000

/* Stage one batch; $6 the refused rows [{"line","field","message"}]. */
static const char sql_stage[] =
    "SELECT settlement_stage($1::int[], $2::text[], $3::text[],"
    " $4::text[], $5::bigint[], $6::jsonb)";
/* One batch of the renewal job (sql/fn/60_renewal.sql). */
static const char sql_renewals[] =
    "SELECT run_renewals(100)::text AS out";
/* Check everything staged and merge it (sql/fn/60_renewal.sql). */
static const char sql_merge[] =
    "SELECT settlement_merge($1, $2::int)::text AS result";

/* A batch being built: the good rows as array literals, the bad ones. */
struct batch {
	struct mt_buf   lines, ids, diseases, months, cents;
	json_object    *bad;
	int             n;
};

static void
batch_free(struct batch *b)
{
	mt_buf_free(&b->lines);
	mt_buf_free(&b->ids);
	mt_buf_free(&b->diseases);
	mt_buf_free(&b->months);
	mt_buf_free(&b->cents);
	json_object_put(b->bad);
}

/* Empty (a zeroed or a used batch). */
static void
batch_reset(struct batch *b)
{
	batch_free(b);
	memset(b, 0, sizeof(*b));
	b->bad = json_object_new_array();
}

/* Add a good row of line no (checked: no quoting needed); its ID number
 * as the lookup HMAC (persons.id_number_hmac).  0, or -1 without keys
 * (logged). */
static int
batch_row(struct batch *b, long no, const struct mt_settle_row *r)
{
	const char *sep = b->lines.len > 0 ? "," : "";
	char h[MT_IDENTITY_HMAC_LEN + 1];

	if (mt_identity_hmac(MT_IDENTITY_ID_NUMBER, r->id_number, h) != 0) {
		mt_log_error("settlements: no identity keys");
		return -1;
	}
	mt_buf_printf(&b->lines, "%s%ld", sep, no);
	mt_buf_printf(&b->ids, "%s%s", sep, h);
	mt_buf_printf(&b->diseases, "%s%s", sep, r->disease);
	mt_buf_printf(&b->months, "%s%s", sep, r->month);
	mt_buf_printf(&b->cents, "%s%lld", sep, r->cents);
	b->n++;
	return 0;
}

/* Add a refused line. */
static void
batch_bad(struct batch *b, long no, const char *field, const char *msg)
{
	json_object *e = json_object_new_object();

	json_object_object_add(e, "line", json_object_new_int64(no));
	json_object_object_add(e, "field", json_object_new_string(field));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_array_add(b->bad, e);
	b->n++;
}

/* "{" buf "}" into out (reset first). */
static void
literal(struct mt_buf *out, const struct mt_buf *in)
{
	mt_buf_reset(out);
	mt_buf_printf(out, "{%s}", in->len > 0 ? in->data : "");
}

/* Stage the batch (settlement_stage) and empty it.  0, or -1 (logged). */
static int
batch_flush(struct mt_db *db, struct batch *b)
{
	struct mt_buf lit[5] = {{0}};
	const struct mt_buf *in[5] = { &b->lines, &b->ids, &b->diseases,
	    &b->months, &b->cents };
	const char *p[6];
	PGresult *res;
	int i, rc;

	if (b->n == 0)
		return 0;
	for (i = 0; i < 5; i++) {
		literal(&lit[i], in[i]);
		p[i] = lit[i].data;
	}
	p[5] = json_object_to_json_string_ext(b->bad, JSON_C_TO_STRING_PLAIN);
	res = mt_db_params_rows(db, sql_stage, 6, p);
	rc = res != NULL ? 0 : -1;
	PQclear(res);
	for (i = 0; i < 5; i++)
		mt_buf_free(&lit[i]);
	batch_reset(b);
	return rc;
}

/* 1 when p[0..n) holds nothing but spaces, tabs and CR. */
static int
blank(const char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' ||
	    p[n - 1] == '\r'))
		n--;
	return n == 0;
}

/*
 * Parse body line by line into batches staged on db.  Returns 0, or -1
 * when staging failed.
 */
static int
stage_all(struct mt_db *db, enum mt_settle_format f, const char *body,
    size_t len)
{
	struct batch b = {0};
	struct mt_settle_row row;
	const char *p = body, *end = body + len, *nl, *field, *msg;
	size_t n;
	long no = 0;
	int header = f != MT_SETTLE_CSV, rc = 0;

	batch_reset(&b);
	for (; p < end && rc == 0; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		no++;
		if (!header) {
			header = 1;
			if (!mt_settle_header(p, n))
				batch_bad(&b, no, "header",
				    "第一行应为表头：" MT_SETTLE_CSV_HEADER);
			continue;
		}
		if (blank(p, n))
			continue;
		if (mt_settle_line(f, p, n, &row, &field, &msg) != 0)
			batch_bad(&b, no, field, msg);
		else if (batch_row(&b, no, &row) != 0)
			rc = -1;
		if (rc == 0 && b.n >= MT_SETTLE_BATCH)
			rc = batch_flush(db, &b);
	}
	if (!header)
		batch_bad(&b, 1, "header",
		    "第一行应为表头：" MT_SETTLE_CSV_HEADER);
	if (rc == 0)
		rc = batch_flush(db, &b);
	batch_free(&b);
	return rc;
}

/*
 * settlement_merge's answer into *res or *refusal.  Returns
 * MT_SETTLE_OK, MT_SETTLE_INVALID or MT_SETTLE_DOWN (logged).
 */
static enum mt_settle_rc
merge(struct mt_db *db, const char *region, struct mt_settle_result *res,
    json_object **refusal)
{
	char max[16];
	const char *p[2] = { region, max };
	enum mt_settle_rc rc = MT_SETTLE_DOWN;
	PGresult *r;
	json_object *o = NULL, *ok, *v;

	snprintf(max, sizeof(max), "%d", MT_SETTLE_MAX_ERRORS);
	if ((r = mt_db_params_rows(db, sql_merge, 2, p)) == NULL)
		goto out;
	if ((o = json_tokener_parse(PQgetvalue(r, 0, 0))) == NULL)
		goto out;
	if (!json_object_object_get_ex(o, "ok", &ok)) {
		*refusal = json_object_get(o);
		rc = MT_SETTLE_INVALID;
		goto out;
	}
	json_object_object_get_ex(ok, "rows", &v);
	res->rows = json_object_get_int64(v);
	json_object_object_get_ex(ok, "inserted", &v);
	res->inserted = json_object_get_int64(v);
	json_object_object_get_ex(ok, "updated", &v);
	res->updated = json_object_get_int64(v);
	json_object_object_get_ex(ok, "unchanged", &v);
	res->unchanged = json_object_get_int64(v);
	rc = MT_SETTLE_OK;
out:
	json_object_put(o);
	PQclear(r);
	return rc;
}

/* See mt_settle.h. */
enum mt_settle_rc
mt_settle_import(struct mt_db *db, const char *region,
    enum mt_settle_format f, const char *body, size_t len,
    struct mt_settle_result *res, json_object **refusal)
{
	enum mt_settle_rc rc = MT_SETTLE_DOWN;

	*refusal = NULL;
	memset(res, 0, sizeof(*res));
	if (mt_db_begin_long(db, SETTLE_DEADLINE_MS) < 0)
		return MT_SETTLE_DOWN;
	if (stage_all(db, f, body, len) < 0)
		goto out;
	/* Sets *refusal only when it answers MT_SETTLE_INVALID. */
	rc = merge(db, region, res, refusal);
	if (rc == MT_SETTLE_OK && mt_db_commit(db) < 0)
		rc = MT_SETTLE_DOWN;
out:
	if (rc != MT_SETTLE_OK)
		mt_db_rollback(db);
	return rc;
}

/* See mt_settle.h. */
int
mt_settle_renewals(struct mt_db *db, struct mt_renewals *done,
    volatile const int *stop)
{
	long long *tot[3] = { &done->renewed, &done->expired, &done->noticed };
	static const char *const keys[3] = { "renewed", "expired", "noticed" };
	json_object *o, *v;
	PGresult *res;
	long long n;
	int i, more = 1;

	while (more && (stop == NULL || !*stop)) {
		if ((res = mt_db_params_rows(db, sql_renewals, 0,
		    NULL)) == NULL)
			return -1;
		o = json_tokener_parse(PQgetvalue(res, 0, 0));
		PQclear(res);
		for (more = 0, i = 0; i < 3; i++) {
			n = json_object_object_get_ex(o, keys[i], &v) ?
			    json_object_get_int64(v) : 0;
			*tot[i] += n;
			more |= n > 0;
		}
		json_object_put(o);
	}
	return 0;
}
