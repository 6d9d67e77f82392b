/*
 * mt_files.h -- the uploaded-file store: files judged by their content,
 * stored encrypted (issue 15): each file under a random name
 * (<dir>/ab/cd/<32 hex>) with a key of its own, libsodium's secretstream
 * (XChaCha20-Poly1305) in chunks, so a file is encrypted and decrypted
 * as a stream and any change to it, a cut or a swap of chunks is
 * detected; the file key is kept only wrapped by a master key
 * (mt_keys.h).  A file is written to a temporary file, fsynced, renamed
 * into place and the directory fsynced: it is either whole or absent.
 * Files stored before issue 15 are plain, content-addressed
 * (<dir>/ab/cd/<sha256>) until `mtcertctl files encrypt` seals them.
 */
#ifndef MT_FILES_H
#define MT_FILES_H

#include <sys/types.h>

#include <stddef.h>

#include "mt_keys.h"

#define MT_FILES_CHUNK     65536   /* plain bytes per sealed chunk */
#define MT_FILES_BLOB_LEN  32      /* hex digits of a sealed file's name */

/* Why a sealed file cannot be read. */
enum mt_files_err {
	MT_FILES_EIO  = -1,     /* cannot open or read it (errno) */
	MT_FILES_EKEY = -2,     /* its key does not unwrap: the master key
	                         * is missing or not the one that wrapped it,
	                         * or the wrapped key was altered */
	MT_FILES_EBAD = -3      /* altered, cut short or not a sealed file */
};

/* Where a sealed file is and how its key is kept (a material's row). */
struct mt_files_sealed {
	char            blob[MT_FILES_BLOB_LEN + 1];
	int             kid;    /* the master key wrapping it */
	unsigned char   wrapped[MT_KEYS_WRAPPED];
};

struct mt_files_reader;

/* "image/jpeg", "image/png" or "application/pdf" by magic bytes, else
 * NULL.  Never trusts a name or a declared type. */
const char *mt_files_sniff(const void *data, size_t len);
/*
 * 1 when a file of media_type (as sniffed) is whole: a PDF must end as
 * the format says, "startxref" then "%%EOF" in its last 1 KiB (a few
 * bytes of trailing junk are tolerated, as readers do).  A cut-off or
 * damaged PDF otherwise reaches the expert's viewer, which cannot show
 * it.  Images: always 1.
 */
int         mt_files_complete(const char *media_type, const void *data,
                size_t len);
/* The file name extension for one of those media types ("jpg"...). */
const char *mt_files_ext(const char *media_type);
/*
 * Store data sealed under dir, with a new key wrapped by the current
 * master key; writes its name and wrapped key to s.  0, or -1 with errno
 * set (ENOKEY: no master key).  Nothing is left behind on failure.
 */
int         mt_files_seal(const char *dir, const void *data, size_t len,
                struct mt_files_sealed *s);
/* The same for what fd holds, read in chunks (a plain file of before
 * issue 15: `mtcertctl files encrypt`). */
int         mt_files_seal_fd(const char *dir, int fd,
                struct mt_files_sealed *s);
/*
 * Open sealed file s under dir: unwraps its key, reads and checks its
 * header.  0 with *r (mt_files_close frees it), or an mt_files_err.
 */
int         mt_files_open(const char *dir, const struct mt_files_sealed *s,
                struct mt_files_reader **r);
/*
 * The next chunk's plain bytes into out (MT_FILES_CHUNK bytes): their
 * count, 0 once the final chunk was read, or MT_FILES_EBAD when the file
 * was altered or cut short (never a silent short read).
 */
ssize_t     mt_files_read(struct mt_files_reader *r, unsigned char *out);
/* Close a reader; NULL is a no-op. */
void        mt_files_close(struct mt_files_reader *r);
/*
 * Re-wrap s's file key under master key kid (key rotation: the file is
 * not touched); updates s.  0, or -1 when either key cannot be used.
 */
int         mt_files_rewrap(struct mt_files_sealed *s, int kid);
/*
 * Remove the temporary files (".tmp-*") under dir's ab/cd/ directories
 * whose last change is more than max_age seconds old: a writer killed
 * between creating one and renaming it into place leaves it behind, and
 * nothing else ever would remove it.  A live writer's file is seconds
 * old, so any bound of minutes is safe.  Returns the number removed, or
 * -1 with errno set when dir cannot be read.
 */
int         mt_files_sweep(const char *dir, long max_age);
/* "ab/cd/<name>" for a stored file (its sha256 when plain, its blob
 * when sealed) into out (at least 72 bytes). */
void        mt_files_relpath(const char *sha, char *out, size_t outlen);

#endif
