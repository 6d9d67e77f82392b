/*
 * test_settle.c -- tables of good and bad settlement rows for the pure
 * half of mt_settle.h (kcgi regress style): the media types, the CSV
 * header, amounts in yuan, and whole lines of either format with the
 * column each bad one is blamed on.  Every input is copied into a heap
 * buffer of exactly its own size first, so that a sanitizer build
 * catches any read past the end.
 */
#include <stdlib.h>
#include <string.h>

#include "mt_settle.h"
#include "mt_util.h"
#include "unit.h"

/* A valid GB 11643 ID number (checksum included). */
#define ID "11010519491231002X"

static const struct {
	const char *ctype;
	int         want;   /* -1, or the format */
} types[] = {
	{ "text/csv", MT_SETTLE_CSV },
	{ "text/csv; charset=utf-8", MT_SETTLE_CSV },
	{ "TEXT/CSV", MT_SETTLE_CSV },
	{ "application/x-ndjson", MT_SETTLE_NDJSON },
	{ "application/x-ndjson;charset=UTF-8", MT_SETTLE_NDJSON },
	{ "application/json", -1 },
	{ "text/csvx", -1 },
	{ "text/cs", -1 },
	{ "text/plain", -1 },
	{ "", -1 },
};

static const struct {
	const char *line;
	int         ok;
} headers[] = {
	{ "id_number,disease,month,amount", 1 },
	{ "id_number,disease,month,amount\r", 1 },
	{ "\xef\xbb\xbfid_number,disease,month,amount", 1 },
	{ "  id_number,disease,month,amount  ", 1 },
	{ "id_number,disease,month", 0 },
	{ "id_number, disease,month,amount", 0 },
	{ "ID_NUMBER,disease,month,amount", 0 },
	{ "", 0 },
};

static const struct {
	const char *s;
	long long   cents;  /* -1: refused */
} amounts[] = {
	{ "0", 0 }, { "12", 1200 }, { "12.3", 1230 }, { "12.34", 1234 },
	{ "0.07", 7 }, { "9999999999.99", 999999999999LL },
	{ "12.345", -1 }, { "-1", -1 }, { "+1", -1 }, { "1e3", -1 },
	{ "", -1 }, { ".5", -1 }, { "5.", -1 }, { "1,000", -1 },
	{ "12345678901", -1 }, { "1 2", -1 }, { "0x10", -1 },
	/* Found by fuzz_settle: 31 digits overflowed before the check. */
	{ "4021101411200110390281102813939", -1 }, { "1.0000000000000000000", -1 },
};

static const struct {
	enum mt_settle_format f;
	const char *line;
	const char *field;  /* NULL: good */
	long long   cents;
} lines[] = {
	{ MT_SETTLE_CSV, ID ",D013,2026-01,12.30", NULL, 1230 },
	{ MT_SETTLE_CSV, ID " , D013 ,2026-01, 1 \r", NULL, 100 },
	{ MT_SETTLE_CSV, "11010519491231002x,D013,2026-01,1", NULL, 100 },
	{ MT_SETTLE_CSV, "110105194912310021,D013,2026-01,1", "id_number", 0 },
	{ MT_SETTLE_CSV, "1101051949123100,D013,2026-01,1", "id_number", 0 },
	{ MT_SETTLE_CSV, ID ",d013,2026-01,1", "disease", 0 },
	{ MT_SETTLE_CSV, ID ",,2026-01,1", "disease", 0 },
	{ MT_SETTLE_CSV, ID ",D013,2026-1,1", "month", 0 },
	{ MT_SETTLE_CSV, ID ",D013,2026-00,1", "month", 0 },
	{ MT_SETTLE_CSV, ID ",D013,2026-13,1", "month", 0 },
	{ MT_SETTLE_CSV, ID ",D013,1989-12,1", "month", 0 },
	{ MT_SETTLE_CSV, ID ",D013,2026/01,1", "month", 0 },
	{ MT_SETTLE_CSV, ID ",D013,2026-01-01,1", "month", 0 },
	{ MT_SETTLE_CSV, ID ",D013,2026-01,-1", "amount", 0 },
	{ MT_SETTLE_CSV, ID ",D013,2026-01,", "amount", 0 },
	{ MT_SETTLE_CSV, ID ",D013,2026-01", "line", 0 },
	{ MT_SETTLE_CSV, ID ",D013,2026-01,1,1", "line", 0 },
	{ MT_SETTLE_CSV, "\"" ID "\",D013,2026-01,1", "id_number", 0 },
	{ MT_SETTLE_NDJSON, "{\"id_number\":\"" ID "\",\"disease\":\"D013\","
	  "\"month\":\"2026-01\",\"amount\":99.5}", NULL, 9950 },
	{ MT_SETTLE_NDJSON, "{\"amount\":\"7\",\"month\":\"2026-01\","
	  "\"disease\":\"D013\",\"id_number\":\"" ID "\"}", NULL, 700 },
	{ MT_SETTLE_NDJSON, "{\"id_number\":\"" ID "\",\"disease\":\"D013\","
	  "\"month\":\"2026-01\",\"amount\":3}", NULL, 300 },
	{ MT_SETTLE_NDJSON, "{\"id_number\":\"" ID "\",\"disease\":\"D013\","
	  "\"month\":\"2026-01\",\"amount\":1.005}", "amount", 0 },
	{ MT_SETTLE_NDJSON, "{\"id_number\":\"" ID "\",\"disease\":\"D013\","
	  "\"month\":\"2026-01\",\"amount\":-3}", "amount", 0 },
	{ MT_SETTLE_NDJSON, "{\"id_number\":\"" ID "\",\"disease\":\"D013\","
	  "\"month\":\"2026-01\",\"amount\":true}", "amount", 0 },
	{ MT_SETTLE_NDJSON, "{\"id_number\":\"" ID "\",\"disease\":13,"
	  "\"month\":\"2026-01\",\"amount\":1}", "disease", 0 },
	{ MT_SETTLE_NDJSON, "{\"id_number\":\"" ID "\",\"disease\":\"D013\","
	  "\"month\":\"2026-01\"}", "line", 0 },
	{ MT_SETTLE_NDJSON, "{\"id_number\":\"" ID "\",\"disease\":\"D013\","
	  "\"month\":\"2026-01\",\"amount\":1,\"x\":1}", "line", 0 },
	{ MT_SETTLE_NDJSON, "{\"id_number\":\"" ID "\",\"disease\":\"D013\","
	  "\"month\":\"2026-01\",\"amount\":1} x", "line", 0 },
	{ MT_SETTLE_NDJSON, "{\"id_number\":\"" ID "\",\"disease\":\"D013\","
	  "\"month\":\"2026-01\",\"mount\":1}", "amount", 0 },
	{ MT_SETTLE_NDJSON, "[1,2,3,4]", "line", 0 },
	{ MT_SETTLE_NDJSON, "{", "line", 0 },
	{ MT_SETTLE_NDJSON, "", "line", 0 },
};

/* A heap copy of exactly n bytes (no NUL after them). */
static char *
copy(const char *s, size_t n)
{
	char *p = mt_xmalloc(n ? n : 1);

	memcpy(p, s, n);
	return p;
}

static void
test_types(void)
{
	enum mt_settle_format f;
	size_t i;
	int rc;

	for (i = 0; i < MT_ARRAY_LEN(types); i++) {
		rc = mt_settle_format(types[i].ctype, &f);
		CHECK(types[i].want < 0 ? rc < 0 : rc == 0 &&
		    (int)f == types[i].want, "type %s",
		    unit_str(types[i].ctype));
	}
	CHECK(mt_settle_format(NULL, &f) < 0, "NULL type");
}

static void
test_headers(void)
{
	size_t i, n;
	char *p;

	for (i = 0; i < MT_ARRAY_LEN(headers); i++) {
		n = strlen(headers[i].line);
		p = copy(headers[i].line, n);
		CHECK(mt_settle_header(p, n) == headers[i].ok, "header %s",
		    unit_esc(p, n));
		free(p);
	}
}

static void
test_amounts(void)
{
	long long c;
	size_t i, n;
	char *p;
	int rc;

	for (i = 0; i < MT_ARRAY_LEN(amounts); i++) {
		n = strlen(amounts[i].s);
		p = copy(amounts[i].s, n);
		c = -2;
		rc = mt_settle_amount(p, n, &c);
		CHECK(amounts[i].cents < 0 ? rc < 0 :
		    rc == 0 && c == amounts[i].cents, "amount %s -> %lld",
		    unit_esc(p, n), c);
		free(p);
	}
}

static void
test_lines(void)
{
	struct mt_settle_row row;
	const char *field, *msg;
	size_t i, n;
	char *p;
	int rc;

	for (i = 0; i < MT_ARRAY_LEN(lines); i++) {
		n = strlen(lines[i].line);
		p = copy(lines[i].line, n);
		field = msg = NULL;
		rc = mt_settle_line(lines[i].f, p, n, &row, &field, &msg);
		if (lines[i].field == NULL)
			CHECK(rc == 0 && row.cents == lines[i].cents &&
			    strcmp(row.id_number, "11010519491231002X") == 0 &&
			    strcmp(row.disease, "D013") == 0 &&
			    strcmp(row.month, "2026-01") == 0,
			    "good line %s", unit_esc(p, n));
		else
			CHECK(rc < 0 && field != NULL &&
			    strcmp(field, lines[i].field) == 0 && msg != NULL &&
			    *msg != '\0', "bad line %s blamed on %s",
			    unit_esc(p, n), unit_str(field));
		free(p);
	}
}

/* A NUL byte anywhere refuses the line ("line"), even at a field's end
 * where a C string would just stop (D013\0 read as D013). */
static void
test_nul(void)
{
	static const char *const cuts[] = { ",D013", ",D013,2026-01",
	    ",D013,2026-01,1", "" };
	struct mt_settle_row row;
	const char *field, *msg;
	char buf[128];
	size_t i;
	int n, rc;

	for (i = 0; i < MT_ARRAY_LEN(cuts); i++) {
		n = snprintf(buf, sizeof(buf), "11010519491231002X%s", cuts[i]);
		buf[n] = '\0';		/* the NUL inside the line */
		n += snprintf(buf + n + 1, sizeof(buf) - (size_t)n - 1,
		    ",2026-01,1") + 1;
		field = msg = NULL;
		rc = mt_settle_line(MT_SETTLE_CSV, buf, (size_t)n, &row,
		    &field, &msg);
		CHECK(rc < 0 && field != NULL && strcmp(field, "line") == 0,
		    "NUL line %s blamed on %s", unit_esc(buf, (size_t)n),
		    unit_str(field));
	}
}

int
main(void)
{
	test_types();
	test_headers();
	test_amounts();
	test_lines();
	test_nul();
	return unit_done();
}
