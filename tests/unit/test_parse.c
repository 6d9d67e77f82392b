/*
 * test_parse.c -- tables of good and bad inputs for every parser of
 * mt_parse.h (kcgi regress style).  Every input is copied into a heap
 * buffer of exactly its own size before the call, so that a sanitizer
 * build catches any read past the end.
 */
#include <stdlib.h>
#include <string.h>

#include "mt_parse.h"
#include "mt_util.h"
#include "unit.h"

#define TOK	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"

/* A lookup of name in input: want NULL when absent, else the value. */
struct lookup {
	const char *input, *name, *want;
};

static const struct lookup queries[] = {
	{ "limit=20", "limit", "20" },
	{ "a=1&limit=20&b=2", "limit", "20" },
	{ "limit=1&limit=2", "limit", "1" },		/* the first one */
	{ "limit=", "limit", "" },
	{ "limit=%E4%B8%AD", "limit", "%E4%B8%AD" },	/* still encoded */
	{ "limit=a=b", "limit", "a=b" },
	{ "&&limit=3&", "limit", "3" },
	{ "", "limit", NULL },
	{ "limit", "limit", NULL },			/* no '=' */
	{ "limits=3", "limit", NULL },
	{ "xlimit=3", "limit", NULL },
	{ "lim=3", "limit", NULL },
	{ "LIMIT=3", "limit", NULL },			/* names are exact */
	{ "a=limit=3", "limit", NULL },			/* inside a value */
	{ "=3", "limit", NULL },
	{ "&", "limit", NULL },
};

static const struct lookup cookies[] = {
	{ "mtcert_session=" TOK, "mtcert_session", TOK },
	{ "a=1; mtcert_session=x", "mtcert_session", "x" },
	{ "a=1;mtcert_session=x;b=2", "mtcert_session", "x" },
	{ "a=1;\tmtcert_session=x ; b=2", "mtcert_session", "x" },
	{ "mtcert_session=1; mtcert_session=2", "mtcert_session", "1" },
	{ "mtcert_session=", "mtcert_session", "" },
	{ "", "mtcert_session", NULL },
	{ "xmtcert_session=1", "mtcert_session", NULL },
	{ "a=mtcert_session=1", "mtcert_session", NULL },
	{ "mtcert_sessionx=1", "mtcert_session", NULL },
	{ "mtcert_session", "mtcert_session", NULL },
	{ ";;;", "mtcert_session", NULL },
	{ " ", "mtcert_session", NULL },
};

static void
test_lookup(const char *what, const struct lookup *t, size_t n,
    int (*fn)(const char *, const char *, const char **, size_t *))
{
	const char *v = NULL;
	size_t i, vn = 0;
	char *in;
	int got;

	for (i = 0; i < n; i++) {
		in = mt_xstrdup(t[i].input);
		got = fn(in, t[i].name, &v, &vn);
		if (t[i].want == NULL)
			CHECK(got == 0, "%s %s in %s: found", what,
			    t[i].name, unit_str(t[i].input));
		else if (CHECK(got == 1, "%s %s in %s: not found", what,
		    t[i].name, unit_str(t[i].input)))
			CHECK(vn == strlen(t[i].want) &&
			    memcmp(v, t[i].want, vn) == 0 &&
			    v >= in && v + vn <= in + strlen(in),
			    "%s %s in %s: got %s", what, t[i].name,
			    unit_str(t[i].input), unit_esc(v, vn));
		free(in);
	}
}

/* fn over a NULL-ended list of inputs, each expected to give want. */
static void
test_list(const char *what, const char *const *list, int want,
    int (*fn)(const char *))
{
	size_t i;
	char *in;

	for (i = 0; list[i] != NULL; i++) {
		in = mt_xstrdup(list[i]);
		CHECK((fn(in) != 0) == want, "%s %s: want %d", what,
		    unit_str(in), want);
		free(in);
	}
}

/* mt_parse_token over a whole string. */
static int
token_of(const char *s)
{
	return mt_parse_token(s, strlen(s));
}

static void
test_bearer_and_tokens(void)
{
	static const struct { const char *in, *want; } bearers[] = {
		{ "Bearer " TOK, TOK },
		{ "Bearer ", "" },
		{ "Bearer  x", " x" },
		{ "bearer " TOK, NULL },
		{ "Basic YWxhZGRpbjpvcGVuc2VzYW1l", NULL },
		{ "Bearer", NULL },
		{ "", NULL },
	};
	static const char *const tok_good[] = { TOK,
	    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	    NULL };
	static const char *const tok_bad[] = { "", TOK "0",
	    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	    "0123456789abcdeg0123456789abcdef0123456789abcdef0123456789abcdef",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde ",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	    NULL };
	static const char *const key_good[] = { "a", "k-1_X",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    NULL };
	static const char *const key_bad[] = { "", "a b", "a.b", "键",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
	    "a\r\nX: y", "a/b", NULL };
	const char *v = NULL;
	size_t i, vn;
	char *in;
	int got;

	CHECK(mt_parse_bearer(NULL, &v, &vn) == 0, "bearer of NULL");
	for (i = 0; i < MT_ARRAY_LEN(bearers); i++) {
		in = mt_xstrdup(bearers[i].in);
		got = mt_parse_bearer(in, &v, &vn);
		if (bearers[i].want == NULL)
			CHECK(got == 0, "bearer %s", unit_str(bearers[i].in));
		else
			CHECK(got == 1 && vn == strlen(bearers[i].want) &&
			    memcmp(v, bearers[i].want, vn) == 0,
			    "bearer %s", unit_str(bearers[i].in));
		free(in);
	}
	test_list("token", tok_good, 1, token_of);
	test_list("token", tok_bad, 0, token_of);
	test_list("idem key", key_good, 1, mt_parse_idem_key);
	test_list("idem key", key_bad, 0, mt_parse_idem_key);
}

static void
test_etag(void)
{
	static const struct { const char *inm; int want; } rows[] = {
		{ "\"v1\"", 1 },
		{ "W/\"v1\"", 1 },
		{ "*", 1 },
		{ " * ", 1 },
		{ "\"a\", \"v1\"", 1 },
		{ "\"a\",W/\"v1\" ,\"b\"", 1 },
		{ "\"v1\" ", 1 },
		{ "\"v2\"", 0 },
		{ "\"v1x\"", 0 },
		{ "\"v\"", 0 },
		{ "v1", 0 },
		{ "W/*", 0 },
		{ "**", 0 },
		{ "\"a*\"", 0 },
		{ "", 0 },
		{ ",,,", 0 },
		{ "W/", 0 },
		{ "\"v1\"x", 0 },
	};
	size_t i;
	char *in;

	for (i = 0; i < MT_ARRAY_LEN(rows); i++) {
		in = mt_xstrdup(rows[i].inm);
		CHECK(mt_parse_etag_match(in, "\"v1\"") == rows[i].want,
		    "If-None-Match %s against \"v1\"", unit_str(in));
		free(in);
	}
}

static void
test_json_type(void)
{
	static const char *const good[] = { "application/json",
	    "Application/JSON", "application/json; charset=utf-8",
	    "application/json;charset=UTF-8", "application/json ; charset=utf-8",
	    "application/json; charset=\"utf-8\"", "application/json ",
	    NULL };
	static const char *const bad[] = { "", "text/plain", "application/js",
	    "application/jsonx", "application/json-patch+json",
	    "application/json;", "application/json; charset=latin1",
	    "application/json; charset=utf-89", "application/json; x=y",
	    "application/json; charset=utf-8; x=y",
	    "application/json; charset=utf-8x", "multipart/form-data",
	    "application/json; charset=\"utf-8", NULL };
	CHECK(!mt_parse_json_type(NULL), "json type of NULL");
	test_list("json type", good, 1, mt_parse_json_type);
	test_list("json type", bad, 0, mt_parse_json_type);
}

int
main(void)
{
	test_lookup("query", queries, MT_ARRAY_LEN(queries), mt_parse_query);
	test_lookup("cookie", cookies, MT_ARRAY_LEN(cookies),
	    mt_parse_cookie);
	test_bearer_and_tokens();
	test_etag();
	test_json_type();
	return unit_done();
}
