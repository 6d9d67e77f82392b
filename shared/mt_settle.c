/*
 * mt_settle.c -- settlement rows: the pure parser, then the import; see
 * mt_settle.h.  The import's statements are run unprepared (mt_db_params,
 * as mt_policy.c does): the callers are two modules' worth of code (the
 * agency module, mtcertctl) and an import is rare and large.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "mt_db.h"
#include "mt_log.h"
#include "mt_settle.h"
#include "mt_util.h"
#include "mt_valid.h"

#define CSV_HEADER "id_number,disease,month,amount"
#define MAX_LINE 1024

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

/* See mt_settle.h. */
int
mt_settle_format(const char *ctype, enum mt_settle_format *f)
{
	static const struct {
		const char             *type;
		enum mt_settle_format   f;
	} types[] = {
		{ "text/csv", MT_SETTLE_CSV },
		{ "application/x-ndjson", MT_SETTLE_NDJSON },
	};
	size_t i, n;

	if (ctype == NULL)
		return -1;
	n = strcspn(ctype, "; \t");
	for (i = 0; i < MT_ARRAY_LEN(types); i++)
		if (n == strlen(types[i].type) &&
		    strncasecmp(ctype, types[i].type, n) == 0) {
			*f = types[i].f;
			return 0;
		}
	return -1;
}

/* s[0..*n) without leading and trailing spaces, tabs and CR. */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t' ||
	    s[*n - 1] == '\r'))
		(*n)--;
	return s;
}

/* See mt_settle.h. */
int
mt_settle_header(const char *line, size_t n)
{
	if (n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		n -= 3;
	}
	line = trim(line, &n);
	return n == strlen(CSV_HEADER) && memcmp(line, CSV_HEADER, n) == 0;
}

/* See mt_settle.h. */
int
mt_settle_amount(const char *s, size_t n, long long *cents)
{
	long long v = 0;
	size_t i = 0, whole = 0, frac = 0;

	for (; i < n && isdigit((unsigned char)s[i]); i++, whole++)
		v = v * 10 + (s[i] - '0');
	if (whole == 0 || whole > 10)
		return -1;
	if (i < n && s[i] == '.') {
		for (i++; i < n && isdigit((unsigned char)s[i]); i++, frac++)
			v = v * 10 + (s[i] - '0');
		if (frac == 0 || frac > 2)
			return -1;
	}
	if (i != n)
		return -1;
	for (; frac < 2; frac++)
		v *= 10;
	*cents = v;
	return 0;
}

/* 1 when s is YYYY-MM with a year from 1990 to 2199 and a month 01-12. */
static int
valid_month(const char *s)
{
	int y, m;

	if (strlen(s) != 7 || s[4] != '-' ||
	    strspn(s, "0123456789") != 4 || strspn(s + 5, "0123456789") != 2)
		return 0;
	y = atoi(s);
	m = atoi(s + 5);
	return y >= 1990 && y <= 2199 && m >= 1 && m <= 12;
}

/* Copy s[0..n) into buf[size] as a string; -1 when it does not fit. */
static int
copy_field(char *buf, size_t size, const char *s, size_t n)
{
	if (n >= size)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* One column's text, named by its index in the CSV order. */
struct col {
	const char *p;
	size_t      n;
};

static const char *const col_name[4] = { "id_number", "disease", "month",
	"amount" };

/*
 * Check the four columns into *row.  Returns 0, or -1 with *field and
 * *msg set.
 */
static int
fill_row(struct col *c, struct mt_settle_row *row, const char **field,
    const char **msg)
{
	char *x;
	int i;

	for (i = 0; i < 4; i++)
		c[i].p = trim(c[i].p, &c[i].n);
	*field = col_name[0];
	*msg = "身份证号不正确（18 位，校验位须正确）";
	if (copy_field(row->id_number, sizeof(row->id_number), c[0].p,
	    c[0].n) < 0)
		return -1;
	if ((x = strchr(row->id_number, 'x')) != NULL)
		*x = 'X';
	if (!mt_valid_id_number(row->id_number))
		return -1;
	*field = col_name[1];
	*msg = "病种编码格式不正确";
	if (copy_field(row->disease, sizeof(row->disease), c[1].p, c[1].n) < 0
	    || !mt_valid_disease_code(row->disease))
		return -1;
	*field = col_name[2];
	*msg = "结算月份应为 YYYY-MM 格式，如 2026-03";
	if (copy_field(row->month, sizeof(row->month), c[2].p, c[2].n) < 0 ||
	    !valid_month(row->month))
		return -1;
	*field = col_name[3];
	*msg = "结算金额应为不小于 0 的元数，最多两位小数";
	if (mt_settle_amount(c[3].p, c[3].n, &row->cents) < 0)
		return -1;
	*field = *msg = NULL;
	return 0;
}

/* A CSV data line: exactly four comma-separated columns. */
static int
csv_line(const char *line, size_t n, struct mt_settle_row *row,
    const char **field, const char **msg)
{
	struct col c[4];
	const char *end = line + n, *comma;
	int i;

	for (i = 0; i < 4; i++) {
		comma = memchr(line, ',', (size_t)(end - line));
		if ((comma == NULL) != (i == 3))
			goto bad;
		c[i].p = line;
		c[i].n = (size_t)((comma != NULL ? comma : end) - line);
		line = comma != NULL ? comma + 1 : end;
	}
	return fill_row(c, row, field, msg);
bad:
	*field = "line";
	*msg = "每行应为 4 列：id_number,disease,month,amount";
	return -1;
}

/*
 * The text of member name of JSON object o into c (amount may be a
 * number); -1 with *field and *msg when it is missing or of another type.
 */
static int
json_col(json_object *o, int i, struct col *c, const char **field,
    const char **msg)
{
	json_object *v;

	*field = col_name[i];
	if (!json_object_object_get_ex(o, col_name[i], &v) || v == NULL) {
		*msg = "缺少此字段";
		return -1;
	}
	if (!json_object_is_type(v, json_type_string) && !(i == 3 &&
	    (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)))) {
		*msg = i == 3 ? "结算金额应为数字或字符串" : "此字段应为字符串";
		return -1;
	}
	c->p = json_object_get_string(v);
	c->n = strlen(c->p);
	return 0;
}

/* A JSON line: one object with exactly the four members. */
static int
ndjson_line(const char *line, size_t n, struct mt_settle_row *row,
    const char **field, const char **msg)
{
	struct json_tokener *tok = json_tokener_new_ex(4);
	json_object *o;
	struct col c[4];
	int i, rc = -1;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, line, (int)n);
	*field = "line";
	*msg = "本行不是一个 JSON 对象";
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)n ||
	    !json_object_is_type(o, json_type_object))
		goto out;
	*msg = "本行应只有 id_number、disease、month、amount 四个字段";
	if (json_object_object_length(o) != 4)
		goto out;
	for (i = 0; i < 4; i++)
		if (json_col(o, i, &c[i], field, msg) < 0)
			goto out;
	rc = fill_row(c, row, field, msg);
out:
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

/* See mt_settle.h. */
int
mt_settle_line(enum mt_settle_format f, const char *line, size_t n,
    struct mt_settle_row *row, const char **field, const char **msg)
{
	line = trim(line, &n);
	if (n > MAX_LINE) {
		*field = "line";
		*msg = "本行过长";
		return -1;
	}
	if (f == MT_SETTLE_CSV)
		return csv_line(line, n, row, field, msg);
	return ndjson_line(line, n, row, field, msg);
}

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

/* Add a good row of line no (checked: no quoting needed). */
static void
batch_row(struct batch *b, long no, const struct mt_settle_row *r)
{
	const char *sep = b->lines.len > 0 ? "," : "";

	mt_buf_printf(&b->lines, "%s%ld", sep, no);
	mt_buf_printf(&b->ids, "%s%s", sep, r->id_number);
	mt_buf_printf(&b->diseases, "%s%s", sep, r->disease);
	mt_buf_printf(&b->months, "%s%s", sep, r->month);
	mt_buf_printf(&b->cents, "%s%lld", sep, r->cents);
	b->n++;
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
	int i, rc = -1;

	if (b->n == 0)
		return 0;
	for (i = 0; i < 5; i++) {
		literal(&lit[i], in[i]);
		p[i] = lit[i].data;
	}
	p[5] = json_object_to_json_string_ext(b->bad, JSON_C_TO_STRING_PLAIN);
	res = mt_db_params(db, sql_stage, 6, p);
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
		rc = 0;
	else if (res != NULL)
		mt_db_log_error("-", -1, res);
	PQclear(res);
	for (i = 0; i < 5; i++)
		mt_buf_free(&lit[i]);
	batch_reset(b);
	return rc;
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
				    "第一行应为表头：" CSV_HEADER);
			continue;
		}
		trim(p, &n);
		if (n == 0)
			continue;
		if (mt_settle_line(f, p, n, &row, &field, &msg) == 0)
			batch_row(&b, no, &row);
		else
			batch_bad(&b, no, field, msg);
		if (b.n >= MT_SETTLE_BATCH)
			rc = batch_flush(db, &b);
	}
	if (!header)
		batch_bad(&b, 1, "header", "第一行应为表头：" CSV_HEADER);
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
	r = mt_db_params(db, sql_merge, 2, p);
	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		if (r != NULL)
			mt_db_log_error("-", -1, r);
		goto out;
	}
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
	if (mt_db_begin(db) < 0)
		return MT_SETTLE_DOWN;
	if (stage_all(db, f, body, len) < 0)
		goto out;
	rc = merge(db, region, res, refusal);
	if (rc == MT_SETTLE_OK && mt_db_commit(db) < 0)
		rc = MT_SETTLE_DOWN;
out:
	if (rc != MT_SETTLE_OK)
		mt_db_rollback(db);
	if (rc == MT_SETTLE_DOWN && *refusal != NULL) {
		json_object_put(*refusal);
		*refusal = NULL;
	}
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
		res = mt_db_params(db, sql_renewals, 0, NULL);
		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
			if (res != NULL)
				mt_db_log_error("-", -1, res);
			PQclear(res);
			return -1;
		}
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
