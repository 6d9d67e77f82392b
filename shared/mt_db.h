/*
 * mt_db.h -- one PostgreSQL connection per worker with its prepared
 * statements.  Statements are data: a module passes an array of SQL texts
 * indexed by its own enum stmt; they are prepared once per connection as
 * "s0", "s1", ...  The shared layer's own statements (the host's, such as
 * the Idempotency-Key table of mt_idem.c) are a second table beside it,
 * prepared as "h0", "h1", ... and run with mt_db_exec_host.
 *
 * Failures: a broken connection is dropped and reopened on the next call
 * (callers answer 503 meanwhile) -- except inside a transaction, which is
 * never silently continued on a new connection: the calls fail until
 * mt_db_rollback().  Every call has a client-side deadline, so a stalled
 * server cannot hang a worker.
 */
#ifndef MT_DB_H
#define MT_DB_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "mt_http.h"

#define MT_DB_DEADLINE_MS 15000  /* default; server statement_timeout 10 s */

struct mt_db {
	PGconn             *conn;
	const char         *conninfo;
	const char *const  *stmts;
	size_t              nstmts;
	const char *const  *host_stmts; /* the shared layer's; may be NULL */
	size_t              nhost_stmts;
	int                 in_tx;      /* between begin and commit/rollback */
	int                 deadline_ms; /* per call; 0: MT_DB_DEADLINE_MS */
	int                 long_ms;    /* per call inside mt_db_begin_long's
	                                 * transaction; 0 otherwise */
	const char         *on_connect; /* SQL run on each new connection */
};

/*
 * The one place that decides which database a pool connects to:
 * pg_read_conninfo for a pool that only reads and may lag a second
 * (read_only 1) when it is set, pg_conninfo otherwise (every write).
 */
const char *mt_db_conninfo(int read_only);
/* Remember what to connect to and what to prepare; does not connect. */
void        mt_db_setup(struct mt_db *db, const char *conninfo,
                const char *const *stmts, size_t nstmts);
/* Add the shared layer's statement table (prepared as "h<i>"). */
void        mt_db_setup_host(struct mt_db *db, const char *const *stmts,
                size_t nstmts);
/* Connect and prepare if not connected.  Returns 0, or -1 when down. */
int         mt_db_ensure(struct mt_db *db);
/* PQping of the server mt_db_ensure connects to (the same parameters). */
PGPing      mt_db_ping(const struct mt_db *db);
/*
 * Run prepared statement `stmt` with n text parameters (NULL = SQL NULL).
 * Returns the result whatever its status when the server answered (the
 * caller checks PQresultStatus and PQclears it), or NULL when the
 * connection is down or the deadline passed (it is then dropped).
 */
PGresult   *mt_db_exec(struct mt_db *db, int stmt, int n,
                const char *const *params);
/* The same for statement stmt of the shared layer's table. */
PGresult   *mt_db_exec_host(struct mt_db *db, int stmt, int n,
                const char *const *params);
/* Run SQL with text parameters, unprepared (rare statements). */
PGresult   *mt_db_params(struct mt_db *db, const char *sql, int n,
                const char *const *params);
/* The same for a statement that gives rows, outside a request: the
 * result (caller PQclears), or NULL when down or when it failed (a
 * failure logged, rid "-"). */
PGresult   *mt_db_params_rows(struct mt_db *db, const char *sql, int n,
                const char *const *params);
/* Run literal SQL without parameters; same returns. */
PGresult   *mt_db_run(struct mt_db *db, const char *sql);
/* BEGIN / COMMIT / ROLLBACK.  0, or -1 when it failed (a failed COMMIT
 * means nothing was written). */
int         mt_db_begin(struct mt_db *db);
/*
 * BEGIN a transaction whose statements may each run up to ms (bulk work,
 * e.g. a settlement file of tens of thousands of rows): the server's
 * statement_timeout and this side's per-call deadline are both raised
 * for this transaction only; commit or rollback restores them.  0 or -1.
 */
int         mt_db_begin_long(struct mt_db *db, int ms);
int         mt_db_commit(struct mt_db *db);
void        mt_db_rollback(struct mt_db *db);
/*
 * Read a column by its name (AS name in the statement), never by its
 * position: the value of row's column col ("" for NULL, as PQgetvalue),
 * and 1 when it is NULL.  A name the result lacks is a bug (asserted).
 */
const char *mt_db_get(const PGresult *res, int row, const char *col);
int         mt_db_isnull(const PGresult *res, int row, const char *col);
/* The number of column col of res, for a loop over rows to look it up
 * once (PQgetvalue(res, row, c)); a name res lacks is a bug (asserted). */
int         mt_db_col(const PGresult *res, const char *col);
/* 1 when res is an error whose SQLSTATE starts with prefix ("23"). */
int         mt_db_state_is(const PGresult *res, const char *prefix);
/* 1 when res failed because the database is busy or going away (timeout,
 * serialization, deadlock, out of resources, shutdown): answer 503. */
int         mt_db_transient(const PGresult *res);
/* Log a failed result without its DETAIL (which may hold personal data):
 * SQLSTATE and constraint only. */
void        mt_db_log_error(const char *rid, int stmt, const PGresult *res);
void        mt_db_close(struct mt_db *db);

/*
 * The two helpers that take a PGresult and answer a request; only a
 * module's <module>_db.c calls them (handlers never see a PGresult).
 *
 * Run the module's prepared statement stmt on req->db; on a dropped
 * connection or a busy database answer 503, on any other failure log it
 * and answer 500 (a bug, never bad input).  Returns the result (caller
 * PQclears) or NULL after replying.
 */
PGresult   *mt_db_query_or_reply(struct mt_req *req, int stmt, int n,
                const char *const *params);
/* The same for SQL text run unprepared (mt_db_params): a rare statement
 * of a file that cannot add to its module's table. */
PGresult   *mt_db_params_or_reply(struct mt_req *req, const char *sql,
                int n, const char *const *params);
/*
 * Answer a list page {"items":[...],"next_cursor":...}: column 0 of each
 * row is an item's JSON text; a row beyond limit means there is a next
 * page, whose cursor is column 1 of the last row shown (null without
 * it).  Clears res.  Returns 0.
 */
int         mt_reply_items(struct mt_req *req, PGresult *res, int limit);

/*
 * Read a column by name, tolerant of absence (for <module>_db.c): the
 * text of row's column col, or NULL when there is no such row, the value
 * is SQL NULL, or the result has no such column (a bug of the statement:
 * logged at error level).  The text belongs to res.
 */
const char *mt_db_text(const PGresult *res, int row, const char *col);
/* The same as a number; 0 when mt_db_text gives NULL. */
long long   mt_db_ll(const PGresult *res, int row, const char *col);
/* The same copied into buf[size] (truncated); "" when NULL. */
void        mt_db_copy(const PGresult *res, int row, const char *col,
                char *buf, size_t size);

/*
 * Run the module's statement stmt for whether it touched or found
 * anything (a SELECT 1 or a RETURNING): 1 when it gave at least one
 * row, 0 when none, -1 after mt_db_query_or_reply answered 503/500.
 * Keeps no result.
 */
int         mt_db_affected_or_reply(struct mt_req *req, int stmt, int n,
                const char *const *p);

/*
 * Answer one list page: run the module's statement stmt with p[0..n-1],
 * p[limit_idx] set here to limit + 1 (the row beyond the page says there
 * is a next one), and answer it through mt_reply_items.  p[limit_idx] is
 * NULL again on return.  0, or -1 after answering 503/500.
 */
int         mt_db_reply_page(struct mt_req *req, int stmt, int n,
                const char **p, int limit_idx, int limit);

/*
 * Run the module's statement stmt, an engine function whose one row's
 * column col is {"ok": value} or a refusal {"error": code, ...} (rows of
 * shared/mt_error.c).  0 with value into *ok (the caller puts it), or -1
 * after answering the refusal, 503 or 500 (no such row: a bug, logged).
 */
int         mt_db_outcome_or_reply(struct mt_req *req, int stmt, int n,
                const char *const *p, const char *col, json_object **ok);

#endif
