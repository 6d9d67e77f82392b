/*
 * mt_db.c -- see mt_db.h.
 */
#include <stdio.h>
#include <string.h>

#include "mt_db.h"
#include "mt_log.h"
#include "mt_util.h"

void
mt_db_setup(struct mt_db *db, const char *conninfo, const char *const *stmts,
    size_t nstmts)
{
	db->conn = NULL;
	db->conninfo = conninfo;
	db->stmts = stmts;
	db->nstmts = nstmts;
}

void
mt_db_close(struct mt_db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
}

int
mt_db_ensure(struct mt_db *db)
{
	char name[32];
	PGresult *res;
	size_t i;

	/* See mt_fd_readable(): an idle connection that speaks is ending. */
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK &&
	    !mt_fd_readable(PQsocket(db->conn)))
		return 0;
	mt_db_close(db);
	db->conn = PQconnectdb(db->conninfo);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		mt_log_warn("postgres connect failed: %s",
		    PQerrorMessage(db->conn));
		mt_db_close(db);
		return -1;
	}
	for (i = 0; i < db->nstmts; i++) {
		snprintf(name, sizeof(name), "s%zu", i);
		res = PQprepare(db->conn, name, db->stmts[i], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			/* A bad statement is a bug: say which, stay down. */
			mt_log_error("prepare s%zu failed: %s", i,
			    PQerrorMessage(db->conn));
			PQclear(res);
			mt_db_close(db);
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

static PGresult *
mt_db_check(struct mt_db *db, PGresult *res)
{
	if (res == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		mt_log_warn("postgres connection lost: %s",
		    PQerrorMessage(db->conn));
		PQclear(res);
		mt_db_close(db);
		return NULL;
	}
	return res;
}

PGresult *
mt_db_exec(struct mt_db *db, int stmt, int n, const char *const *params)
{
	char name[32];

	if ((size_t)stmt >= db->nstmts || mt_db_ensure(db) != 0)
		return NULL;
	snprintf(name, sizeof(name), "s%d", stmt);
	return mt_db_check(db, PQexecPrepared(db->conn, name, n, params,
	    NULL, NULL, 0));
}

PGresult *
mt_db_params(struct mt_db *db, const char *sql, int n,
    const char *const *params)
{
	if (mt_db_ensure(db) != 0)
		return NULL;
	return mt_db_check(db, PQexecParams(db->conn, sql, n, NULL, params,
	    NULL, NULL, 0));
}

PGresult *
mt_db_run(struct mt_db *db, const char *sql)
{
	if (mt_db_ensure(db) != 0)
		return NULL;
	return mt_db_check(db, PQexec(db->conn, sql));
}

int
mt_db_state_is(const PGresult *res, const char *prefix)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return st != NULL && strncmp(st, prefix, strlen(prefix)) == 0;
}
