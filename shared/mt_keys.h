/*
 * mt_keys.h -- the master keys of the file store (issue 15, docs/keys.md).
 * Each uploaded file has a key of its own; that key is kept in the
 * material's row only wrapped (encrypted) by a master key, which lives
 * in files_keys_dir (var/keys/files: outside the database and outside
 * files_dir), one file per key, "master-<n>.key", 64 hex digits, mode
 * 0400.  The highest n is the current key: new files are wrapped by it,
 * `mtcertctl keys rotate` makes a new one and re-wraps every file key.
 */
#ifndef MT_KEYS_H
#define MT_KEYS_H

#include <stddef.h>

#define MT_KEYS_LEN     32      /* a master or a file key, bytes */
/* A wrapped file key: nonce (24), the key (32), the tag (16). */
#define MT_KEYS_WRAPPED 72

/*
 * The current master key's id (the highest n in the directory), or 0
 * when there is none or the directory cannot be read.  Read on each call
 * (a handful of names): a worker picks up a rotation at once.
 */
int     mt_keys_current(void);
/*
 * Make master key current+1 (the first is 1) from the system's random
 * source; written 0400 and never replaced, owned by the directory's
 * owner when run as root.  Returns its id, or -1 with errno set.
 */
int     mt_keys_new(void);
/*
 * Seconds a new current key must have existed before an older key may be
 * retired (`mtcertctl keys retire`): an upload reads the current key,
 * wraps its file key, then inserts its row, so one that began just before
 * a rotation can commit a key wrapped by the old master key after the
 * rotation's last batch and after `keys retire` counted that key's uses
 * (its row then unreadable).  An upload's statements end within
 * statement_timeout (10 s) and nginx waits 30 s: 10 minutes is ample.
 */
#define MT_KEYS_RETIRE_GRACE 600

/* 1 when master key id exists (a file in the directory), else 0. */
int     mt_keys_exists(int id);
/*
 * Seconds since master key id's file was made (its last change: a key
 * file is never rewritten), or -1 when it does not exist.
 */
long    mt_keys_age(int id);
/* Remove master key id's file.  0, or -1 with errno set. */
int     mt_keys_remove(int id);
/*
 * Wrap the file key key under master key kid, bound to ad (the file's
 * name: a wrapped key moved to another row does not open its file), into
 * out.  0, or -1 when the master key cannot be read.
 */
int     mt_keys_wrap(int kid, const char *ad,
            const unsigned char key[MT_KEYS_LEN],
            unsigned char out[MT_KEYS_WRAPPED]);
/*
 * Unwrap in (wrapped by master key kid for ad) into key.  0, or -1 when
 * the master key cannot be read or is not the one that wrapped it, or
 * in was altered.
 */
int     mt_keys_unwrap(int kid, const char *ad,
            const unsigned char in[MT_KEYS_WRAPPED],
            unsigned char key[MT_KEYS_LEN]);

#endif
