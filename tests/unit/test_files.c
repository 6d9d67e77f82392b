/*
 * test_files.c -- what an upload is judged by (mt_files.h): the media
 * type from the content (mt_files_sniff) and whether a PDF is whole
 * (mt_files_complete), table-driven with good and bad inputs; and what
 * the sweep of leftover temporary files removes (mt_files_sweep).
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Create file path, its last change age seconds ago. */
static void
touch_aged(const char *path, long age)
{
	struct timeval tv[2];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd >= 0)
		close(fd);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= age;
	tv[1] = tv[0];
	utimes(path, tv);
}

static void
test_sweep(void)
{
	static const struct { const char *rel; long age; int gone; } t[] = {
		{ "ab/cd/.tmp-0123456789abcdef", 7200, 1 },   /* killed writer */
		{ "ab/cd/.tmp-fedcba9876543210", 10, 0 },     /* live writer */
		{ "ab/cd/abcd0000", 7200, 0 },                /* a stored file */
		{ "ab/ef/.tmp-1", 3601 + 60, 1 },
		{ "ab/.tmp-2", 7200, 0 },                     /* not a leaf */
		{ ".tmp-3", 7200, 0 },                        /* not a leaf */
		{ "zz/cd/.tmp-4", 7200, 0 },                  /* not a level */
	};
	static const char *const dirs[] = { "ab", "ab/cd", "ab/ef", "zz",
	    "zz/cd" };
	char dir[] = "/tmp/mtcert-unit-sweep.XXXXXX", path[256];
	size_t i;
	int n;

	if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
		mkdir(path, 0700);
	}
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, t[i].rel);
		touch_aged(path, t[i].age);
	}
	n = mt_files_sweep(dir, 3600);
	CHECK(n == 2, "sweep removed %d files, want 2", n);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, t[i].rel);
		CHECK((access(path, F_OK) != 0) == t[i].gone, "%s %s", t[i].rel,
		    t[i].gone ? "left behind" : "removed");
		unlink(path);
	}
	for (i = sizeof(dirs) / sizeof(dirs[0]); i-- > 0;) {
		snprintf(path, sizeof(path), "%s/%s", dir, dirs[i]);
		rmdir(path);
	}
	rmdir(dir);
	CHECK(mt_files_sweep("/nonexistent/mtcert-unit", 3600) == -1,
	    "an unreadable store is -1");
}

int
main(void)
{
	test_sniff();
	test_complete();
	test_sweep();
	return unit_done();
}
