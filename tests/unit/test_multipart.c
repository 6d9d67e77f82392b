/*
 * test_multipart.c -- tables of good and bad inputs for mt_multipart.h
 * (RFC 7578 form bodies, RFC 2046 boundaries).  Bodies are copied into a
 * heap buffer of exactly their length (no NUL after them), so that a
 * sanitizer build catches any read past the end.
 */
#include <stdlib.h>
#include <string.h>

#include "mt_multipart.h"
#include "mt_util.h"
#include "unit.h"

#define CRLF	"\r\n"
#define DISP(n)	"Content-Disposition: form-data; name=\"" n "\""
#define PART(n, v)	"--XyZ" CRLF DISP(n) CRLF CRLF v CRLF
#define END	"--XyZ--" CRLF

static void
test_boundary(void)
{
	static const struct { const char *ctype, *want; } rows[] = {
		{ "multipart/form-data; boundary=XyZ", "XyZ" },
		{ "Multipart/Form-Data;boundary=XyZ", "XyZ" },
		{ "multipart/form-data; charset=utf-8; boundary=XyZ", "XyZ" },
		{ "multipart/form-data; boundary=\"a b:c\"", "a b:c" },
		{ "multipart/form-data; boundary=XyZ; x=1", "XyZ" },
		{ "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWx"
		  "kTrZu0gW", "----WebKitFormBoundary7MA4YWxkTrZu0gW" },
		{ "multipart/form-data; boundary=", NULL },
		{ "multipart/form-data; boundary=\"\"", NULL },
		{ "multipart/form-data; boundary=\"XyZ", NULL },
		{ "multipart/form-data", NULL },
		{ "multipart/form-data;", NULL },
		{ "multipart/mixed; boundary=XyZ", NULL },
		{ "application/json", NULL },
		{ "", NULL },
		{ "multipart/form-data; boundary=0123456789012345678901234567"
		  "89012345678901234567890123456789012345678901", NULL },
	};
	char out[80], *in;
	size_t i;
	int rc;

	CHECK(mt_multipart_boundary(NULL, out, sizeof(out)) == -1,
	    "boundary of NULL");
	for (i = 0; i < MT_ARRAY_LEN(rows); i++) {
		in = mt_xstrdup(rows[i].ctype);
		rc = mt_multipart_boundary(in, out, sizeof(out));
		if (rows[i].want == NULL)
			CHECK(rc == -1, "boundary of %s", unit_str(in));
		else
			CHECK(rc == 0 && strcmp(out, rows[i].want) == 0,
			    "boundary of %s: %s", unit_str(in),
			    rc == 0 ? unit_str(out) : "-1");
		free(in);
	}
	CHECK(mt_multipart_boundary("multipart/form-data; boundary=XyZ",
	    out, 3) == -1, "boundary into a buffer too small");
}

/* A body, and what mt_multipart_parse must make of it with at most 4
 * parts: the count (-1 malformed), then name=value of each part. */
struct body_row {
	const char *body;
	int         n;
	const char *parts[4];
};

static const struct body_row bodies[] = {
	{ PART("kind", "diagnosis_record") END, 1,
	  { "kind=diagnosis_record" } },
	{ PART("a", "1") PART("b", "") PART("c", "x" CRLF "y") END, 3,
	  { "a=1", "b=", "c=x\r\ny" } },
	/* A preamble before the first delimiter is skipped. */
	{ "preamble" CRLF PART("a", "1") END, 1, { "a=1" } },
	/* Transport padding after a delimiter. */
	{ "--XyZ  " CRLF DISP("a") CRLF CRLF "1" CRLF END, 1, { "a=1" } },
	/* A file part with its name and type. */
	{ "--XyZ" CRLF DISP("file") "; filename=\"a.png\"" CRLF
	  "Content-Type: image/png" CRLF CRLF "PNG" CRLF END, 1,
	  { "file=PNG" } },
	/* Two parts of one name: both are returned (the caller refuses). */
	{ PART("file", "1") PART("file", "2") END, 2, { "file=1", "file=2" } },
	/* The data may hold the boundary without a CRLF before it. */
	{ PART("a", "--XyZ") END, 1, { "a=--XyZ" } },
	{ "--XyZ--", 0, { NULL } },
	/* Malformed. */
	{ "", -1, { NULL } },
	{ "no delimiter at all", -1, { NULL } },
	{ PART("a", "1"), -1, { NULL } },		/* no close */
	{ "--XyZ" CRLF DISP("a") CRLF "1" CRLF END, -1, { NULL } },
	{ "--XyZ" CRLF "Content-Type: text/plain" CRLF CRLF "1" CRLF END, -1,
	  { NULL } },					/* no name */
	{ "--XyZ" CRLF DISP("") CRLF CRLF "1" CRLF END, -1, { NULL } },
	{ "--XyZ" CRLF "Content-Disposition: attachment; name=\"a\"" CRLF
	  CRLF "1" CRLF END, -1, { NULL } },
	{ "--XyZ" CRLF "Content-Disposition: form-data; name=a" CRLF CRLF
	  "1" CRLF END, -1, { NULL } },			/* unquoted */
	{ "--XyZ" CRLF "Content-Disposition: form-data; name=\"a" CRLF CRLF
	  "1" CRLF END, -1, { NULL } },			/* unterminated */
	{ "--XyZx" CRLF DISP("a") CRLF CRLF "1" CRLF END, -1, { NULL } },
	{ PART("a", "1") PART("b", "2") PART("c", "3") PART("d", "4")
	  PART("e", "5") END, -1, { NULL } },		/* over max */
	{ "--XyZ" CRLF DISP("a") CRLF CRLF "1", -1, { NULL } },
	{ "--XyZ", -1, { NULL } },
	{ "--XyZ-", -1, { NULL } },
	{ "--XyZ" CRLF, -1, { NULL } },
};

static void
test_parse(void)
{
	struct mt_part parts[4];
	const char *eq;
	size_t i, len;
	char *body;
	int n, j, ok;

	for (i = 0; i < MT_ARRAY_LEN(bodies); i++) {
		len = strlen(bodies[i].body);
		body = mt_xmalloc(len > 0 ? len : 1);
		memcpy(body, bodies[i].body, len);
		n = mt_multipart_parse(body, len, "XyZ", parts, 4);
		if (!CHECK(n == bodies[i].n, "body %s: %d parts, want %d",
		    unit_esc(body, len), n, bodies[i].n)) {
			free(body);
			continue;
		}
		for (j = 0; j < n; j++) {
			eq = strchr(bodies[i].parts[j], '=');
			ok = parts[j].name_len ==
			    (size_t)(eq - bodies[i].parts[j]) &&
			    memcmp(parts[j].name, bodies[i].parts[j],
			    parts[j].name_len) == 0 &&
			    parts[j].len == strlen(eq + 1) &&
			    memcmp(parts[j].data, eq + 1, parts[j].len) == 0 &&
			    parts[j].data >= body &&
			    parts[j].data + parts[j].len <= body + len;
			CHECK(ok, "body %s part %d: want %s, got %s=%s",
			    unit_esc(body, len), j,
			    unit_str(bodies[i].parts[j]),
			    unit_esc(parts[j].name, parts[j].name_len),
			    unit_esc(parts[j].data, parts[j].len));
		}
		free(body);
	}
}

static void
test_find_and_filename(void)
{
	static const char body[] = "--XyZ" CRLF DISP("file")
	    "; filename=\"病历.pdf\"" CRLF "Content-Type: application/pdf"
	    CRLF CRLF "%PDF-" CRLF PART("kind", "x") END;
	struct mt_part parts[4];
	const struct mt_part *f;
	int n;

	n = mt_multipart_parse(body, sizeof(body) - 1, "XyZ", parts, 4);
	CHECK(n == 2, "two parts, got %d", n);
	f = mt_multipart_find(parts, n, "file");
	CHECK(f != NULL && f->filename != NULL &&
	    f->filename_len == strlen("病历.pdf") &&
	    memcmp(f->filename, "病历.pdf", f->filename_len) == 0 &&
	    f->ctype_len == strlen("application/pdf"),
	    "the file part keeps its file name and type");
	f = mt_multipart_find(parts, n, "kind");
	CHECK(f != NULL && f->filename == NULL, "a text part has no name");
	CHECK(mt_multipart_find(parts, n, "fil") == NULL, "prefix is not a "
	    "name");
	CHECK(mt_multipart_find(parts, n, "files") == NULL, "longer is not a "
	    "name");
}

int
main(void)
{
	test_boundary();
	test_parse();
	test_find_and_filename();
	return unit_done();
}
