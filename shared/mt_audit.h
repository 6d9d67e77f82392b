/*
 * mt_audit.h -- the audit trail's work outside the database (issue 15
 * item 3; the chains themselves: sql/fn/13_audit_chain.sql).  One code
 * path for the dispatcher's daily job and for mtcertctl audit-trail:
 *
 *   - anchor: the head of every chain whose day is past is appended to
 *     <audit_dir>/anchor-YYYY-MM.jsonl (the China month it is written
 *     in), one JSON line {tbl, region, day, shard, seq, hash, at, prev}
 *     each, where prev is the hex SHA-256 of the line before it (the
 *     previous file's last line for a month's first; 64 zeros for the
 *     very first), so the files are a chain themselves;
 *   - check: every anchor line against the database (a chain recomputed
 *     after an edit, its head updated, no longer matches its anchor) and
 *     against the line before it (a line edited);
 *   - archive: access_log chains past their region's retention written
 *     to a file, read back, hashed as the chain, then deleted.
 */
#ifndef MT_AUDIT_H
#define MT_AUDIT_H

#include <stdio.h>

#include "mt_db.h"

/* What one run of the daily job did. */
struct mt_audit_run {
	long long   anchored;   /* heads appended to the anchor file */
	long long   chains;     /* chains archived */
	long long   rows;       /* their rows deleted */
	long long   refused;    /* chains the database refused to archive */
};

/*
 * Anchor every chain head due (audit_anchor_take), in batches of one
 * transaction each: the lines appended to the month's file and fsynced
 * before the commit.  Another process anchoring meanwhile (an advisory
 * lock): returns 0 at once.  Returns the heads anchored, or -1 when the
 * database or the file failed (logged; what was committed is anchored).
 */
long long   mt_audit_anchor(struct mt_db *db, const char *dir);
/*
 * Archive the access_log chains of audit_archivable(before; NULL:
 * today), at most limit (0: all), to the new file path (never over an
 * existing one): written, read back, then each chain committed by
 * audit_archive_commit against the bytes read.  A chain the database
 * refuses (broken, changed) keeps its rows: counted in r->refused, its
 * reason logged and, when err is not NULL, copied there (size bytes).
 * Adds to r->chains and r->rows.  Returns the chains written to the
 * file (0: none, no file made), or -1 when the database or the file
 * failed.
 */
long long   mt_audit_archive(struct mt_db *db, const char *before,
                const char *path, int limit, struct mt_audit_run *r,
                char *err, size_t size);
/*
 * The daily job: anchor, then archive what the retention allows into
 * <dir>/archive/access_log-<China time>-<n>.jsonl, a file per batch.
 * Fills *r.  Returns 0, or -1 when the database or a file failed.
 */
int         mt_audit_daily(struct mt_db *db, const char *dir,
                struct mt_audit_run *r);
/*
 * Check every anchor file under dir: each line's prev against the line
 * before it, each anchored head of region (NULL: every one) against the
 * database (audit_anchor_breaks).  Prints one "BROKEN anchor ..." line
 * per fault to out.  Returns the faults, or -1 when the database failed
 * or a file could not be read.
 */
long long   mt_audit_anchor_check(struct mt_db *db, const char *dir,
                const char *region, FILE *out);

#endif
