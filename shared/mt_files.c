/*
 * mt_files.c -- see mt_files.h.
 */
#include <sys/stat.h>

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "mt_files.h"
#include "mt_util.h"

const char *
mt_files_sniff(const void *data, size_t len)
{
	static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	    0x1a, '\n' };
	const unsigned char *p = data;

	if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "image/jpeg";
	if (len >= 8 && memcmp(p, png, 8) == 0)
		return "image/png";
	if (len >= 5 && memcmp(p, "%PDF-", 5) == 0)
		return "application/pdf";
	return NULL;
}

int
mt_files_complete(const char *media_type, const void *data, size_t len)
{
	const char *p = data, *end = p + len, *tail, *eof = NULL, *at, *from;

	if (strcmp(media_type, "application/pdf") != 0)
		return 1;
	/* The last "%%EOF" in the last 1 KiB (an updated PDF has several). */
	tail = len > 1024 ? end - 1024 : p;
	while ((at = memmem(tail, (size_t)(end - tail), "%%EOF", 5)) != NULL) {
		eof = at;
		tail = at + 5;
	}
	if (eof == NULL)
		return 0;
	/* Its "startxref <offset>" just before it. */
	from = eof - p > 1024 ? eof - 1024 : p;
	return memmem(from, (size_t)(eof - from), "startxref", 9) != NULL;
}

const char *
mt_files_ext(const char *media_type)
{
	if (strcmp(media_type, "image/jpeg") == 0)
		return "jpg";
	if (strcmp(media_type, "image/png") == 0)
		return "png";
	return "pdf";
}

void
mt_files_relpath(const char *sha, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.2s/%.2s/%s", sha, sha + 2, sha);
}

/* mkdir that tolerates an existing directory; 0 or -1. */
static int
mkdir_ok(const char *path)
{
	return mkdir(path, 02750) == 0 || errno == EEXIST ? 0 : -1;
}

static int
fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
mt_files_store(const char *dir, const void *data, size_t len, char *sha)
{
	unsigned char h[crypto_hash_sha256_BYTES], rnd[8];
	char rel[80], path[4200], tmp[4200], sub[4096], r[17];
	const char *p = data;
	struct stat st;
	ssize_t w;
	size_t off = 0;
	int fd, saved;

	crypto_hash_sha256(h, data, len);
	mt_hex(h, sizeof(h), sha);
	mt_files_relpath(sha, rel, sizeof(rel));
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (stat(path, &st) == 0 && (size_t)st.st_size == len)
		return 0;		/* same content already stored */
	snprintf(sub, sizeof(sub), "%s/%.2s", dir, sha);
	if (mkdir_ok(sub) < 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s/%.2s/%.2s", dir, sha, sha + 2);
	if (mkdir_ok(sub) < 0)
		return -1;
	randombytes_buf(rnd, sizeof(rnd));
	mt_hex(rnd, sizeof(rnd), r);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", sub, r);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0 || fsync_dir(sub) != 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

/* 1 when name is two lower-case hex digits (a level of the store). */
static int
is_level(const char *name)
{
	return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

/* Open directory name under the directory fd as a DIR, or NULL. */
static DIR *
open_under(int fd, const char *name)
{
	int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	DIR *d;

	if (sub < 0)
		return NULL;
	if ((d = fdopendir(sub)) == NULL)
		close(sub);
	return d;
}

/* Remove the ".tmp-*" files of one leaf older than before; the count. */
static int
sweep_leaf(DIR *leaf, time_t before)
{
	struct dirent *e;
	struct stat st;
	int n = 0, fd = dirfd(leaf);

	while ((e = readdir(leaf)) != NULL)
		if (strncmp(e->d_name, ".tmp-", 5) == 0 &&
		    fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_mtime < before &&
		    unlinkat(fd, e->d_name, 0) == 0)
			n++;
	return n;
}

int
mt_files_sweep(const char *dir, long max_age)
{
	time_t before = time(NULL) - max_age;
	struct dirent *e, *f;
	DIR *d, *s, *leaf;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!is_level(e->d_name) ||
		    (s = open_under(dirfd(d), e->d_name)) == NULL)
			continue;
		while ((f = readdir(s)) != NULL)
			if (is_level(f->d_name) &&
			    (leaf = open_under(dirfd(s), f->d_name)) != NULL) {
				n += sweep_leaf(leaf, before);
				closedir(leaf);
			}
		closedir(s);
	}
	closedir(d);
	return n;
}
