/*
 * mt_store.h -- the file store's jobs over the materials table (issue
 * 15): shredding files whose retention is over (the dispatcher's hourly
 * step and `mtcertctl files shred`), re-wrapping file keys under a new
 * master key (`mtcertctl keys rotate`) and sealing the plain files of
 * before issue 15 (`mtcertctl files encrypt`).  Each works in batches of
 * short transactions, with the service running.
 */
#ifndef MT_STORE_H
#define MT_STORE_H

#include "mt_db.h"

/*
 * Shred every material due (sql/fn/96_files.sql: shred_due_materials)
 * and unlink its file under dir.  Returns how many were shredded, or -1
 * when the database failed (what was committed stays shredded; a file
 * not unlinked then is noise without its key).
 */
long long   mt_store_shred(struct mt_db *db, const char *dir);
/*
 * Re-wrap, in one transaction, up to one batch of file keys not wrapped
 * by master key kid under it (the files are not touched).  Returns how
 * many, 0 when none is left, -1 when the database failed or a key could
 * not be unwrapped (logged with the material's id).
 */
int         mt_store_rewrap_batch(struct mt_db *db, int kid);
/* Rows still wrapped by master key kid, or -1 when the database failed. */
long long   mt_store_key_uses(struct mt_db *db, int kid);
/*
 * Seal one batch of plain files (rows without a blob) with ids above
 * *after, advancing it: each encrypted to a new file under dir, its row
 * updated, then the plain file unlinked once no plain row needs it.
 * Returns how many rows were sealed (a row whose plain file is missing is
 * logged and skipped), 0 when none is left, -1 when the database or the
 * file store failed.
 */
int         mt_store_seal_batch(struct mt_db *db, const char *dir,
                long long *after, int *batch_rows);

#endif
