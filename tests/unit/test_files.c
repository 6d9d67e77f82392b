/*
 * test_files.c -- what an upload is judged by (mt_files.h): the media
 * type from the content (mt_files_sniff) and whether a PDF is whole
 * (mt_files_complete), table-driven with good and bad inputs; and what
 * the sweep of leftover temporary files removes (mt_files_sweep); and
 * the sealed store (issue 15): every size round-trips, every alteration,
 * cut or wrong key is refused (mt_files_seal/open/read, mt_keys), and
 * a bad key file never spoils a cached master key.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "mt_config.h"
#include "mt_files.h"
#include "mt_keys.h"
#include "mt_util.h"
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

/* Read sealed file s under dir whole into out (cap bytes): its length,
 * or an mt_files_err. */
static long
unseal(const char *dir, const struct mt_files_sealed *s, unsigned char *out,
    size_t cap)
{
	struct mt_files_reader *r;
	unsigned char chunk[MT_FILES_CHUNK];
	long got = 0;
	ssize_t n;
	int rc;

	if ((rc = mt_files_open(dir, s, &r)) != 0)
		return rc;
	while ((n = mt_files_read(r, chunk)) > 0) {
		if ((size_t)got + (size_t)n <= cap)
			memcpy(out + got, chunk, (size_t)n);
		got += n;
	}
	mt_files_close(r);
	return n < 0 ? (long)n : got;
}

/* Rewrite the sealed file of s under dir as fn leaves it. */
static void
alter(const char *dir, const struct mt_files_sealed *s, long at, long cut)
{
	char rel[80], path[4200];
	unsigned char b;
	int fd;

	mt_files_relpath(s->blob, rel, sizeof(rel));
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDWR);
	if (at >= 0 && pread(fd, &b, 1, at) == 1) {
		b ^= 0x20;
		if (pwrite(fd, &b, 1, at) != 1)
			CHECK(0, "pwrite");
	}
	if (cut > 0 && ftruncate(fd, cut) != 0)
		CHECK(0, "ftruncate");
	if (cut < 0 && pwrite(fd, "x", 1, lseek(fd, 0, SEEK_END)) != 1)
		CHECK(0, "append");
	close(fd);
}

static void
test_sealed(void)
{
	static const size_t sizes[] = { 1, 100, 65535, 65536, 65537, 200000 };
	/* Offsets of a 200000-byte file: magic, header, chunk 1 and 3, the
	 * last tag; a cut inside and at a chunk's end; a byte appended. */
	static const struct { long at, cut; const char *what; } bad[] = {
		{ 0, 0, "magic" }, { 10, 0, "header" }, { 40, 0, "chunk 1" },
		{ 28 + 2 * 65553 + 5, 0, "chunk 3" }, { 200000 + 28 + 4 * 17 - 1,
		0, "last tag" }, { -1, 5000, "cut inside chunk 1" },
		{ -1, 28 + 65553, "cut after chunk 1" }, { -1, -1, "appended" },
	};
	char dir[] = "/tmp/mtcert-unit-seal.XXXXXX", keys[64];
	unsigned char *in = mt_xmalloc(200000), *out = mt_xmalloc(200001);
	struct mt_files_sealed s, t;
	size_t i;
	long n;

	if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	mkdir(keys, 0700);
	mt_cfg.files_keys_dir = mt_xstrdup(keys);
	CHECK(mt_files_seal(dir, "x", 1, &s) != 0 && errno == ENOKEY,
	    "no master key: ENOKEY");
	CHECK(mt_keys_new() == 1 && mt_keys_current() == 1, "first key 1");
	randombytes_buf(in, 200000);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CHECK(mt_files_seal(dir, in, sizes[i], &s) == 0, "seal %zu",
		    sizes[i]);
		n = unseal(dir, &s, out, 200001);
		CHECK(n == (long)sizes[i] && memcmp(in, out, sizes[i]) == 0,
		    "%zu bytes round-trip: %ld", sizes[i], n);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(mt_files_seal(dir, in, 200000, &s) == 0, "seal");
		alter(dir, &s, bad[i].at, bad[i].cut);
		n = unseal(dir, &s, out, 200001);
		CHECK(n == MT_FILES_EBAD, "%s: %ld", bad[i].what, n);
	}
	/* Re-wrapped under key 2: reads the same; its wrapped key on
	 * another file (or with key 2 gone) does not open it. */
	CHECK(mt_files_seal(dir, in, 1000, &s) == 0 &&
	    mt_files_seal(dir, in, 10, &t) == 0, "seal two");
	CHECK(mt_keys_new() == 2 && mt_files_rewrap(&s, 2) == 0 && s.kid == 2,
	    "rewrap to 2");
	CHECK(unseal(dir, &s, out, 200001) == 1000, "read under key 2");
	memcpy(t.wrapped, s.wrapped, sizeof(t.wrapped));
	t.kid = 2;
	CHECK(unseal(dir, &t, out, 200001) == MT_FILES_EKEY, "moved key");
	/* A key file removed stays in a process that read it (a worker keeps
	 * serving until restarted); a key never made does not open. */
	CHECK(mt_keys_remove(2) == 0 && !mt_keys_exists(2), "remove 2");
	s.kid = 7;
	CHECK(unseal(dir, &s, out, 200001) == MT_FILES_EKEY, "no key 7");
	free(in);
	free(out);
	snprintf(keys, sizeof(keys), "rm -rf '%s'", dir);
	CHECK(system(keys) == 0, "cleanup");
}

/* Write master key file id under dir with content text. */
static void
key_file(const char *dir, int id, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/master-%d.key", dir, id);
	if (!CHECK((f = fopen(path, "w")) != NULL, "key file %d", id))
		return;
	fputs(text, f);
	fclose(f);
}

/*
 * The master key cache full (more keys than it holds: the last slot is
 * reused): a key file that is not a key (40 hex digits, then garbage) is
 * refused without overwriting the key held in that slot, which still
 * unwraps what it wrapped.
 */
static void
test_key_cache(void)
{
	char dir[] = "/tmp/mtcert-unit-keys.XXXXXX", hex[2 * MT_KEYS_LEN + 2];
	unsigned char raw[MT_KEYS_LEN], key[MT_KEYS_LEN], back[MT_KEYS_LEN];
	unsigned char wrapped[MT_KEYS_WRAPPED], other[MT_KEYS_WRAPPED];
	int id;

	if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	free(mt_cfg.files_keys_dir);
	mt_cfg.files_keys_dir = mt_xstrdup(dir);
	randombytes_buf(key, sizeof(key));
	for (id = 101; id <= 120; id++) {
		randombytes_buf(raw, sizeof(raw));
		mt_hex(raw, sizeof(raw), hex);
		key_file(dir, id, hex);
		CHECK(mt_keys_wrap(id, "blob", key, wrapped) == 0, "wrap %d",
		    id);
	}
	key_file(dir, 200, "0000000000000000000000000000000000000000zz\n");
	CHECK(mt_keys_wrap(200, "blob", key, other) != 0, "bad key refused");
	CHECK(mt_keys_unwrap(120, "blob", wrapped, back) == 0 &&
	    memcmp(key, back, sizeof(key)) == 0, "cached key 120 intact");
	snprintf(hex, sizeof(hex), "rm -rf '%s'", dir);
	CHECK(system(hex) == 0, "cleanup");
}

int
main(void)
{
	test_sniff();
	test_complete();
	test_sweep();
	test_sealed();
	test_key_cache();
	return unit_done();
}
