/*
 * mt_db.h -- one PostgreSQL connection per worker with its prepared
 * statements.  Statements are data: a module passes an array of SQL texts
 * indexed by its own enum stmt; they are prepared once per connection as
 * "s0", "s1", ...  A broken connection is dropped and reopened on the next
 * call; meanwhile callers answer 503.
 */
#ifndef MT_DB_H
#define MT_DB_H

#include <libpq-fe.h>
#include <stddef.h>

struct mt_db {
	PGconn             *conn;
	const char         *conninfo;
	const char *const  *stmts;
	size_t              nstmts;
};

/* Remember what to connect to and what to prepare; does not connect. */
void        mt_db_setup(struct mt_db *db, const char *conninfo,
                const char *const *stmts, size_t nstmts);
/* Connect and prepare if not connected.  Returns 0, or -1 when down. */
int         mt_db_ensure(struct mt_db *db);
/*
 * Run prepared statement `stmt` with n text parameters (NULL = SQL NULL).
 * Returns the result whatever its status when the server answered (the
 * caller checks PQresultStatus and PQclears it), or NULL when the
 * connection is down (it is then dropped for a reconnect).
 */
PGresult   *mt_db_exec(struct mt_db *db, int stmt, int n,
                const char *const *params);
/* Run SQL with text parameters, unprepared (rare statements). */
PGresult   *mt_db_params(struct mt_db *db, const char *sql, int n,
                const char *const *params);
/* Run literal SQL without parameters (BEGIN, COMMIT...); same returns. */
PGresult   *mt_db_run(struct mt_db *db, const char *sql);
/* 1 when res is an error whose SQLSTATE starts with prefix ("23"). */
int         mt_db_state_is(const PGresult *res, const char *prefix);
void        mt_db_close(struct mt_db *db);

#endif
