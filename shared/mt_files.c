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
#include "mt_keys.h"
#include "mt_util.h"

/* A sealed file: MAGIC, the secretstream header, then chunks of
 * MT_FILES_CHUNK bytes (the last shorter, tagged final), each with its
 * ABYTES of tag. */
#define MAGIC       "MTF1"
#define MAGIC_LEN   4
#define HEADER_LEN  crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define ABYTES      crypto_secretstream_xchacha20poly1305_ABYTES

struct sealer;
static void seal_abort(struct sealer *);

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

/* Write all n bytes of p to fd.  0, or -1 with errno set. */
static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read up to n bytes into p, short only at the end.  The count, or -1. */
static ssize_t
read_full(int fd, void *p, size_t n)
{
	char *c = p;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, c + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* A sealed file being written: its temporary file and stream state. */
struct sealer {
	int             fd;
	int             root;   /* run as root (mtcertctl): what it makes
	                         * is given the store's owner, uid/gid */
	uid_t           uid;
	gid_t           gid;
	char            sub[4096], tmp[4200], path[4200];
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char   out[MT_FILES_CHUNK + ABYTES];
};

/* mkdir path in directory parent, tolerating an existing one; a new one
 * is given the store's owner when root, and parent fsynced (the new
 * entry survives a crash, as the file about to be recorded in it must).
 * 0 or -1. */
static int
mkdir_ok(const struct sealer *w, const char *parent, const char *path)
{
	if (mkdir(path, 02750) != 0)
		return errno == EEXIST ? 0 : -1;
	if (w->root && chown(path, w->uid, w->gid) != 0)
		return -1;
	return mt_fsync_dir(parent);
}

/*
 * Start writing sealed file blob under dir with key: its ab/cd/
 * directories, a temporary file, the magic and the stream's header.
 * 0, or -1 with errno set (nothing left behind).
 */
static int
seal_open(struct sealer *w, const char *dir, const char *blob,
    const unsigned char *key)
{
	unsigned char head[MAGIC_LEN + HEADER_LEN];
	struct stat st;
	char rel[80];

	w->fd = -1;
	if ((w->root = geteuid() == 0)) {
		if (stat(dir, &st) != 0)
			return -1;
		w->uid = st.st_uid;
		w->gid = st.st_gid;
	}
	mt_files_relpath(blob, rel, sizeof(rel));
	snprintf(w->path, sizeof(w->path), "%s/%s", dir, rel);
	/* w->tmp holds ab/ while ab/cd/ is made in it. */
	snprintf(w->tmp, sizeof(w->tmp), "%s/%.2s", dir, blob);
	if (mkdir_ok(w, dir, w->tmp) < 0)
		return -1;
	snprintf(w->sub, sizeof(w->sub), "%s/%.2s/%.2s", dir, blob, blob + 2);
	if (mkdir_ok(w, w->tmp, w->sub) < 0)
		return -1;
	snprintf(w->tmp, sizeof(w->tmp), "%s/.tmp-%s", w->sub, blob);
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (w->fd < 0)
		return -1;
	memcpy(head, MAGIC, MAGIC_LEN);
	crypto_secretstream_xchacha20poly1305_init_push(&w->st,
	    head + MAGIC_LEN, key);
	if (write_all(w->fd, head, sizeof(head)) != 0) {
		seal_abort(w);
		return -1;
	}
	return 0;
}

/* Encrypt and write n (at most MT_FILES_CHUNK) bytes of p, the file's
 * last chunk when last.  0, or -1 with errno set. */
static int
seal_chunk(struct sealer *w, const void *p, size_t n, int last)
{
	unsigned long long clen;

	crypto_secretstream_xchacha20poly1305_push(&w->st, w->out, &clen, p,
	    n, NULL, 0, last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
	    : 0);
	return write_all(w->fd, w->out, (size_t)clen);
}

/* Give up a sealed file being written: nothing is left behind. */
static void
seal_abort(struct sealer *w)
{
	int saved = errno;

	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	unlink(w->tmp);
	errno = saved;
}

/* The file whole: fsync, rename into place, fsync the directory; when
 * root, the store's owner is given the file.  0, or -1 (nothing left
 * behind). */
static int
seal_close(struct sealer *w)
{
	if (w->root && fchown(w->fd, w->uid, w->gid) != 0)
		goto fail;
	if (fsync(w->fd) != 0)
		goto fail;
	if (close(w->fd) != 0) {
		w->fd = -1;
		goto fail;
	}
	w->fd = -1;
	if (rename(w->tmp, w->path) != 0 || mt_fsync_dir(w->sub) != 0)
		goto fail;
	return 0;
fail:
	seal_abort(w);
	return -1;
}

/* A new file key and name, the current master key wrapping it, into s;
 * the key into key.  0, or -1 (errno ENOKEY: no master key). */
static int
seal_keys(struct mt_files_sealed *s, unsigned char *key)
{
	unsigned char rnd[MT_FILES_BLOB_LEN / 2];

	if ((s->kid = mt_keys_current()) == 0) {
		errno = ENOKEY;
		return -1;
	}
	randombytes_buf(rnd, sizeof(rnd));
	mt_hex(rnd, sizeof(rnd), s->blob);
	crypto_secretstream_xchacha20poly1305_keygen(key);
	if (mt_keys_wrap(s->kid, s->blob, key, s->wrapped) != 0) {
		errno = ENOKEY;
		return -1;
	}
	return 0;
}

int
mt_files_seal(const char *dir, const void *data, size_t len,
    struct mt_files_sealed *s)
{
	unsigned char key[MT_KEYS_LEN];
	struct sealer *w = mt_xmalloc(sizeof(*w));
	const char *p = data;
	size_t off = 0, n;
	int rc = -1;

	if (seal_keys(s, key) != 0 || seal_open(w, dir, s->blob, key) != 0)
		goto out;
	do {
		n = len - off < MT_FILES_CHUNK ? len - off : MT_FILES_CHUNK;
		if (seal_chunk(w, p + off, n, off + n == len) != 0) {
			seal_abort(w);
			goto out;
		}
		off += n;
	} while (off < len);
	rc = seal_close(w);
out:
	sodium_memzero(key, sizeof(key));
	free(w);
	return rc;
}

int
mt_files_seal_fd(const char *dir, int fd, struct mt_files_sealed *s)
{
	unsigned char key[MT_KEYS_LEN], *in = mt_xmalloc(MT_FILES_CHUNK + 1);
	struct sealer *w = mt_xmalloc(sizeof(*w));
	ssize_t n, next;
	int rc = -1;

	if (seal_keys(s, key) != 0 || seal_open(w, dir, s->blob, key) != 0)
		goto out;
	/* One byte of look-ahead tells the last chunk from the others. */
	if ((n = read_full(fd, in, MT_FILES_CHUNK + 1)) < 0)
		goto fail;
	for (;;) {
		next = n > MT_FILES_CHUNK ? n - MT_FILES_CHUNK : 0;
		if (seal_chunk(w, in, (size_t)(n - next), next == 0) != 0)
			goto fail;
		if (next == 0)
			break;
		in[0] = in[MT_FILES_CHUNK];
		if ((n = read_full(fd, in + 1, MT_FILES_CHUNK)) < 0)
			goto fail;
		n += 1;
	}
	rc = seal_close(w);
	goto out;
fail:
	seal_abort(w);
out:
	sodium_memzero(key, sizeof(key));
	free(in);
	free(w);
	return rc;
}

/* A sealed file being read (mt_files_open). */
struct mt_files_reader {
	int             fd;
	int             done;   /* its final chunk was read */
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char   in[MT_FILES_CHUNK + ABYTES];
};

int
mt_files_open(const char *dir, const struct mt_files_sealed *s,
    struct mt_files_reader **rp)
{
	unsigned char key[MT_KEYS_LEN], head[MAGIC_LEN + HEADER_LEN];
	struct mt_files_reader *r;
	char rel[80], path[4200];
	int rc = MT_FILES_EBAD;

	mt_files_relpath(s->blob, rel, sizeof(rel));
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	r = mt_xcalloc(1, sizeof(*r));
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = errno;	/* for the caller, past free() */
		free(r);
		errno = rc;
		return MT_FILES_EIO;
	}
	if (mt_keys_unwrap(s->kid, s->blob, s->wrapped, key) != 0) {
		rc = MT_FILES_EKEY;
		goto fail;
	}
	if (read_full(r->fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    memcmp(head, MAGIC, MAGIC_LEN) != 0 ||
	    crypto_secretstream_xchacha20poly1305_init_pull(&r->st,
	    head + MAGIC_LEN, key) != 0)
		goto fail;
	sodium_memzero(key, sizeof(key));
	*rp = r;
	return 0;
fail:
	sodium_memzero(key, sizeof(key));
	mt_files_close(r);
	return rc;
}

ssize_t
mt_files_read(struct mt_files_reader *r, unsigned char *out)
{
	unsigned long long n;
	unsigned char tag;
	ssize_t got;

	if (r->done)
		return 0;
	got = read_full(r->fd, r->in, sizeof(r->in));
	if (got < ABYTES)	/* cut short before its final chunk */
		return MT_FILES_EBAD;
	if (crypto_secretstream_xchacha20poly1305_pull(&r->st, out, &n, &tag,
	    r->in, (unsigned long long)got, NULL, 0) != 0)
		return MT_FILES_EBAD;
	if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		/* Nothing may follow the final chunk. */
		if (read_full(r->fd, r->in, 1) != 0)
			return MT_FILES_EBAD;
		r->done = 1;
	} else if (got < (ssize_t)sizeof(r->in))
		return MT_FILES_EBAD;
	return (ssize_t)n;
}

void
mt_files_close(struct mt_files_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	sodium_memzero(r, sizeof(*r));
	free(r);
}

int
mt_files_rewrap(struct mt_files_sealed *s, int kid)
{
	unsigned char key[MT_KEYS_LEN];
	int rc = -1;

	if (mt_keys_unwrap(s->kid, s->blob, s->wrapped, key) != 0 ||
	    mt_keys_wrap(kid, s->blob, key, s->wrapped) != 0)
		goto out;
	s->kid = kid;
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	return rc;
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
