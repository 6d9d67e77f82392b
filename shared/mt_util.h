/*
 * mt_util.h -- memory helpers and a growable byte buffer.
 * Out of memory aborts through the mt_x* family: a worker that cannot
 * allocate is restarted by the host, which is the only sane recovery.
 */
#ifndef MT_UTIL_H
#define MT_UTIL_H

#include <signal.h>
#include <stddef.h>

#define MT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void   *mt_xmalloc(size_t n);
void   *mt_xcalloc(size_t n, size_t size);
void   *mt_xrealloc(void *p, size_t n);
char   *mt_xstrdup(const char *s);
char   *mt_xstrndup(const char *s, size_t n);
/* printf into a new string; the caller frees it. */
char   *mt_xasprintf(const char *fmt, ...)
            __attribute__((format(printf, 1, 2)));

/*
 * A growable buffer, always NUL-terminated.  Zero-initialised is empty.
 * mt_buf_free() releases the memory; mt_buf_reset() keeps it for reuse.
 */
struct mt_buf {
	char   *data;
	size_t  len;
	size_t  cap;
};

void    mt_buf_append(struct mt_buf *b, const void *p, size_t n);
void    mt_buf_puts(struct mt_buf *b, const char *s);
void    mt_buf_printf(struct mt_buf *b, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
void    mt_buf_reset(struct mt_buf *b);
void    mt_buf_free(struct mt_buf *b);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void    mt_hex(const unsigned char *in, size_t n, char *out);

/*
 * 1 when fd has something to read or was closed by the peer, without
 * blocking.  Between two request/reply exchanges a database or Redis
 * connection has nothing to say but its own end (a server that restarted
 * closed it), so callers reconnect before sending rather than fail.
 */
int     mt_fd_readable(int fd);

/*
 * Write text to path with mode through path.tmp, fsynced; when root, give
 * it the owner of st (the directory's: the workers' user).  excl 1: link
 * into place, so an existing file is never replaced (a key); 0: rename.
 * Then the directory is fsynced: the new name survives a crash before
 * anything that relies on it is committed elsewhere (a file key wrapped
 * by a new master key).  0, or -1 with errno set.
 */
struct stat;
int     mt_write_atomic(const char *path, const char *text,
            unsigned int mode, const struct stat *st, int excl);
/* The same for n bytes of buf (a raw key, which may hold a NUL). */
int     mt_write_atomic_n(const char *path, const void *buf, size_t n,
            unsigned int mode, const struct stat *st, int excl);
/*
 * Append the bytes of the file at path to *b: all of them when tail is
 * 0, else only its last tail bytes (the end of an append-only file).
 * 0, or -1 with errno set.
 */
int     mt_read_file(const char *path, size_t tail, struct mt_buf *b);
/*
 * Numbered files (master-<n>.key, data-<n>.key): n when name is
 * prefix, a decimal n >= min and suffix, else 0; the highest n that
 * number() gives a name of dir (0: none, or dir unreadable); the
 * seconds since the file at path was written (-1: absent).
 */
int     mt_name_number(const char *name, const char *prefix,
            const char *suffix, int min);
int     mt_dir_highest(const char *dir, int (*number)(const char *name));
long    mt_file_age(const char *path);
/* fsync directory path (its entries: a file renamed or linked into it,
 * a directory made in it).  0, or -1 with errno set. */
int     mt_fsync_dir(const char *path);

/* Milliseconds from a monotonic clock. */
double  mt_now_ms(void);

/*
 * For a master that supervises children (mtcert-host, the dispatcher):
 * fill *set with SIGTERM, SIGINT, SIGCHLD and SIGUSR1 (reopen the log and
 * pass it on to the children) and block them, to be taken
 * synchronously with sigtimedwait(set), so a SIGTERM can never slip in
 * between a check and a blocking wait; ignore SIGPIPE.
 */
void    mt_master_signals(sigset_t *set);

#endif
