/*
 * mt_files.h -- the uploaded-file store: files judged by their content,
 * stored content-addressed (<dir>/ab/cd/<sha256>), written to a temporary
 * file, fsynced, renamed into place and the directory fsynced, so a file
 * is either whole or absent.  nginx serves them from an internal location
 * (X-Accel-Redirect) after a module has checked who asks.
 */
#ifndef MT_FILES_H
#define MT_FILES_H

#include <stddef.h>

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
 * Store data under dir; writes its SHA-256 (64 hex + NUL) to sha.  A file
 * already stored is not written again.  Returns 0, or -1 with errno set.
 */
int         mt_files_store(const char *dir, const void *data, size_t len,
                char *sha);
/*
 * Remove the temporary files (".tmp-*") under dir's ab/cd/ directories
 * whose last change is more than max_age seconds old: a writer killed
 * between creating one and renaming it into place leaves it behind, and
 * nothing else ever would remove it.  A live writer's file is seconds
 * old, so any bound of minutes is safe.  Returns the number removed, or
 * -1 with errno set when dir cannot be read.
 */
int         mt_files_sweep(const char *dir, long max_age);
/* "ab/cd/<sha>" for a stored file into out (at least 72 bytes). */
void        mt_files_relpath(const char *sha, char *out, size_t outlen);

#endif
