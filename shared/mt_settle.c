/*
 * mt_settle.c -- settlement rows: the pure parser of mt_settle.h (no
 * database, nothing kept between calls), table-tested
 * (tests/unit/test_settle.c) and fuzzed (tests/fuzz/fuzz_settle.c).  The
 * import and the renewal job's caller are mt_settle_load.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "mt_settle.h"
#include "mt_util.h"
#include "mt_valid.h"

#define MAX_LINE 1024

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
	return n == strlen(MT_SETTLE_CSV_HEADER) &&
	    memcmp(line, MT_SETTLE_CSV_HEADER, n) == 0;
}

/* See mt_settle.h. */
int
mt_settle_amount(const char *s, size_t n, long long *cents)
{
	long long v = 0;
	size_t i = 0, whole = 0, frac = 0;

	/* Counted before each digit is added: never past 12 digits. */
	for (; i < n && isdigit((unsigned char)s[i]); i++) {
		if (++whole > 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (whole == 0)
		return -1;
	if (i < n && s[i] == '.') {
		for (i++; i < n && isdigit((unsigned char)s[i]); i++) {
			if (++frac > 2)
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		if (frac == 0)
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
		*msg = i == 3 ? "结算金额应为数字或字符串" :
		    "此字段应为字符串";
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
	/* A NUL byte is never text: refused here, not cut at (a field
	 * copied as a C string would lose what follows it). */
	if (memchr(line, '\0', n) != NULL) {
		*field = "line";
		*msg = "本行含有 NUL 字节，不是文本";
		return -1;
	}
	if (f == MT_SETTLE_CSV)
		return csv_line(line, n, row, field, msg);
	return ndjson_line(line, n, row, field, msg);
}
