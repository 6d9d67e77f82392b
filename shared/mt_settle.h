/*
 * mt_settle.h -- monthly settlement records (R-BEN-4): the one parser and
 * validator of their rows, and the one import, used by POST
 * /agency/settlements (modules/agency/settlements.c) and `mtcertctl
 * settlements import` alike; and the one caller of the renewal job that
 * reads them (the dispatcher, `mtcertctl renewals run`).
 *
 * A file is CSV (text/csv: the header line "id_number,disease,month,
 * amount", then one row a line) or JSON lines (application/x-ndjson: one
 * object a line with the same four members).  id_number: a GB 11643 ID
 * number; disease: a catalog code; month: YYYY-MM; amount: yuan, at most
 * 2 decimals, >= 0 (in JSON a number or a string).  Blank lines are
 * skipped; lines are numbered from 1 as an editor shows them (the CSV
 * header is line 1).
 *
 * The parser (mt_settle_line, mt_settle_header, mt_settle_amount) is
 * pure: no database, no allocation that outlives a call; it is
 * table-tested (tests/unit/test_settle.c).  The import checks what needs
 * the database in sql/fn/60_renewal.sql (settlement_merge).
 */
#ifndef MT_SETTLE_H
#define MT_SETTLE_H

#include <stddef.h>

#include <json-c/json.h>

struct mt_db;

enum mt_settle_format { MT_SETTLE_CSV, MT_SETTLE_NDJSON };

/* The CSV header line, the columns' names and order. */
#define MT_SETTLE_CSV_HEADER "id_number,disease,month,amount"

/* One good row.  Strings are NUL-terminated and checked. */
struct mt_settle_row {
	char        id_number[19];
	char        disease[17];
	char        month[8];       /* YYYY-MM */
	long long   cents;
};

/*
 * The format of a Content-Type ("text/csv", "application/x-ndjson",
 * parameters such as charset ignored, case-insensitive).  Returns 0 and
 * sets *f, or -1 for any other type or NULL.
 */
int     mt_settle_format(const char *ctype, enum mt_settle_format *f);

/* 1 when line[0..n) is the CSV header (a UTF-8 BOM, spaces and a
 * trailing CR allowed), else 0. */
int     mt_settle_header(const char *line, size_t n);

/*
 * Yuan text s[0..n) ("12", "12.3", "12.34"; no sign, no exponent, at
 * most 10 digits before the point) into cents.  Returns 0, or -1.
 */
int     mt_settle_amount(const char *s, size_t n, long long *cents);

/*
 * Parse and check one data line[0..n) (no newline; a trailing CR is
 * ignored; a NUL byte refuses the line) of format f into *row.  Returns 0, or -1 with *field (the
 * column's name, or "line") and *msg (Chinese) set to static strings.
 */
int     mt_settle_line(enum mt_settle_format f, const char *line, size_t n,
            struct mt_settle_row *row, const char **field, const char **msg);

struct mt_settle_result {
	long long   rows;
	long long   inserted;
	long long   updated;
	long long   unchanged;
};

enum mt_settle_rc {
	MT_SETTLE_DOWN = -1,    /* the database failed: nothing imported */
	MT_SETTLE_OK = 0,
	MT_SETTLE_INVALID       /* bad rows: nothing imported, see *refusal */
};

/* At most this many errors are listed (their count is always given). */
#define MT_SETTLE_MAX_ERRORS 100

/*
 * Import body[0..len) of format f as the settlements of region's
 * persons, all or nothing, in one transaction on db: every line parsed
 * and checked, the good ones staged in batches (one statement per
 * MT_SETTLE_BATCH rows), then checked against the database and merged
 * (settlement_merge).  On MT_SETTLE_OK *res holds the counts; on
 * MT_SETTLE_INVALID *refusal is {"error":"settlements_invalid","args",
 * "details":{"errors":[{line,field,message}...],"count"}} for
 * mt_reply_refusal / mt_refusal_text, owned by the caller (NULL
 * otherwise).  db must not be in a transaction.
 */
#define MT_SETTLE_BATCH 5000
enum mt_settle_rc mt_settle_import(struct mt_db *db, const char *region,
            enum mt_settle_format f, const char *body, size_t len,
            struct mt_settle_result *res, json_object **refusal);

/* What one run of the renewal job did (run_renewals, sql/fn/60_renewal.sql). */
struct mt_renewals {
	long long   renewed;
	long long   expired;
	long long   noticed;
};

/*
 * The renewal job (R-BEN-4) now, on db: batches of run_renewals (each its
 * own transaction, rows locked FOR UPDATE SKIP LOCKED, so several callers
 * at once never do one twice) until one finds nothing due or *stop is
 * set (stop may be NULL).  The dispatcher calls it on its clock,
 * `mtcertctl renewals run` on demand.  Adds what was done to *done.
 * Returns 0, or -1 when the database failed (logged; batches done so
 * far stay done).
 */
int     mt_settle_renewals(struct mt_db *db, struct mt_renewals *done,
            volatile const int *stop);

#endif
