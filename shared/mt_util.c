/*
 * mt_util.c -- see mt_util.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mt_util.h"

static void
mt_oom(void)
{
	fputs("mtcert: out of memory\n", stderr);
	abort();
}

void *
mt_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		mt_oom();
	return p;
}

void *
mt_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		mt_oom();
	return p;
}

void *
mt_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		mt_oom();
	return q;
}

char *
mt_xstrdup(const char *s)
{
	return mt_xstrndup(s, strlen(s));
}

char *
mt_xstrndup(const char *s, size_t n)
{
	char *p = mt_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
mt_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		mt_oom();
	va_end(ap);
	return s;
}

static void
mt_buf_grow(struct mt_buf *b, size_t need)
{
	size_t cap;

	if (b->len + need + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1)
		cap *= 2;
	b->data = mt_xrealloc(b->data, cap);
	b->cap = cap;
}

void
mt_buf_append(struct mt_buf *b, const void *p, size_t n)
{
	mt_buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
mt_buf_puts(struct mt_buf *b, const char *s)
{
	mt_buf_append(b, s, strlen(s));
}

void
mt_buf_printf(struct mt_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	mt_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
mt_buf_reset(struct mt_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
mt_buf_free(struct mt_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
mt_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

double
mt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int
mt_fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

void
mt_master_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGUSR1);	/* reopen the log, tell the children */
	sigprocmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* See mt_util.h. */
int
mt_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* fsync the directory that holds path.  0, or -1 with errno set. */
static int
fsync_parent(const char *path)
{
	char *dir = mt_xstrdup(path), *slash = strrchr(dir, '/');
	int rc;

	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	rc = mt_fsync_dir(dir);
	free(dir);
	return rc;
}

/* See mt_util.h. */
int
mt_write_atomic(const char *path, const char *text, unsigned int mode,
    const struct stat *st, int excl)
{
	return mt_write_atomic_n(path, text, strlen(text), mode, st, excl);
}

/* See mt_util.h. */
int
mt_write_atomic_n(const char *path, const void *buf, size_t n,
    unsigned int mode, const struct stat *st, int excl)
{
	char *tmp = mt_xasprintf("%s.tmp", path);
	int fd, rc = -1;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		goto out;
	if (geteuid() == 0 && fchown(fd, st->st_uid, st->st_gid) != 0)
		goto out_close;
	if (write(fd, buf, n) != (ssize_t)n || fsync(fd) != 0)
		goto out_close;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	/* A key file is never replaced (link fails on an existing one);
	 * keys.json is. */
	if (excl ? link(tmp, path) : rename(tmp, path))
		goto out;
	rc = fsync_parent(path);
out_close:
	if (fd >= 0)
		close(fd);
out:
	unlink(tmp);
	free(tmp);
	return rc;
}

/* See mt_util.h. */
int
mt_read_file(const char *path, size_t tail, struct mt_buf *b)
{
	char chunk[8192];
	struct stat st;
	size_t n;
	int bad;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return -1;
	if (tail > 0 && (fstat(fileno(f), &st) != 0 ||
	    (st.st_size > (off_t)tail &&
	    fseeko(f, st.st_size - (off_t)tail, SEEK_SET) != 0))) {
		fclose(f);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		mt_buf_append(b, chunk, n);
	bad = ferror(f);
	fclose(f);
	if (bad)
		errno = EIO;
	return bad ? -1 : 0;
}

/* See mt_util.h. */
int
mt_name_number(const char *name, const char *prefix, const char *suffix,
    int min)
{
	size_t lp = strlen(prefix);
	char *end;
	long n;

	if (strncmp(name, prefix, lp) != 0 || name[lp] < '0' || name[lp] > '9')
		return 0;
	errno = 0;
	n = strtol(name + lp, &end, 10);
	if (errno != 0 || n < min || n > 1000000 || strcmp(end, suffix) != 0)
		return 0;
	return (int)n;
}

/* See mt_util.h. */
int
mt_dir_highest(const char *dir, int (*number)(const char *name))
{
	struct dirent *e;
	DIR *d;
	int n, best = 0;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if ((n = number(e->d_name)) > best)
			best = n;
	closedir(d);
	return best;
}

/* See mt_util.h. */
long
mt_file_age(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return (long)difftime(time(NULL), st.st_mtime);
}
