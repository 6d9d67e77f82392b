/*
 * test_files.c -- what an upload is judged by (mt_files.h): the media
 * type from the content (mt_files_sniff) and whether a PDF is whole
 * (mt_files_complete), table-driven with good and bad inputs.
 */
#include <stdlib.h>
#include <string.h>

#include "mt_files.h"
#include "unit.h"

#define PDF_OK	"%PDF-1.4\n1 0 obj << >> endobj\nxref\n0 1\n" \
		"0000000000 65535 f \ntrailer << /Size 1 >>\nstartxref\n30\n%%EOF\n"

static void
test_sniff(void)
{
	static const struct { const char *data; size_t len; const char *want; } t[] = {
		{ "\xff\xd8\xff\xe0" "JFIF", 8, "image/jpeg" },
		{ "\x89PNG\r\n\x1a\n" "IHDR", 12, "image/png" },
		{ "%PDF-1.7\n", 9, "application/pdf" },
		{ "\xff\xd8", 2, NULL },              /* too short for JPEG */
		{ "\x89PNG\r\n\x1a", 7, NULL },       /* too short for PNG */
		{ "%PDF", 4, NULL },
		{ "GIF89a", 6, NULL },
		{ "<html>", 6, NULL },
		{ " %PDF-1.4", 9, NULL },             /* not at the start */
		{ "", 0, NULL },
	};
	size_t i;
	const char *got;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = mt_files_sniff(t[i].data, t[i].len);
		CHECK(t[i].want == NULL ? got == NULL :
		    got != NULL && strcmp(got, t[i].want) == 0,
		    "sniff %s -> %s", unit_esc(t[i].data, t[i].len),
		    got ? got : "NULL");
	}
}

static void
test_complete(void)
{
	static const struct { const char *data; int want; } t[] = {
		{ PDF_OK, 1 },
		{ PDF_OK "\r\n\n", 1 },                   /* trailing newlines */
		{ PDF_OK "\x00\x00junk", 1 },             /* a little junk */
		{ PDF_OK "1 0 obj << >> endobj\nstartxref\n99\n%%EOF", 1 },
		{ "%PDF-1.4\n%%EOF\n", 0 },               /* no startxref */
		{ "%PDF-1.4\n1 0 obj << >> endobj\nstartxref\n30\n", 0 },
		{ "%PDF-1.4\n1 0 obj << >> endobj\n", 0 }, /* cut off */
		{ "%PDF-1.4\n%%EOF startxref 30", 0 },     /* in the wrong order */
		{ "%PDF-", 0 },
	};
	size_t i;
	char *big;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECK(mt_files_complete("application/pdf", t[i].data,
		    strlen(t[i].data)) == t[i].want, "complete %s",
		    unit_str(t[i].data));
	/* Images are not judged here. */
	CHECK(mt_files_complete("image/png", "\x89PNG\r\n\x1a\n", 8) == 1,
	    "png");
	CHECK(mt_files_complete("image/jpeg", "\xff\xd8\xff", 3) == 1, "jpeg");

	/* A whole PDF of 64 KiB: only its end is read. */
	big = malloc(65536 + sizeof(PDF_OK));
	memset(big, 'x', 65536);
	memcpy(big + 65536, PDF_OK, sizeof(PDF_OK));
	CHECK(mt_files_complete("application/pdf", big, strlen(big)) == 1,
	    "64 KiB whole");
	/* The same cut off 10 bytes before its end: damaged. */
	CHECK(mt_files_complete("application/pdf", big, strlen(big) - 10) == 0,
	    "64 KiB cut");
	/* "%%EOF" far from the end (more than 1 KiB of junk after it). */
	memcpy(big, PDF_OK, sizeof(PDF_OK) - 1);
	memset(big + sizeof(PDF_OK) - 1, 'x', 65536 - sizeof(PDF_OK) + 1);
	big[65536] = '\0';
	CHECK(mt_files_complete("application/pdf", big, 65536) == 0,
	    "EOF marker 64 KiB before the end");
	free(big);
}

int
main(void)
{
	test_sniff();
	test_complete();
	return unit_done();
}
