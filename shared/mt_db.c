/*
 * mt_db.c -- see mt_db.h.
 */
#include <assert.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_config.h"
#include "mt_db.h"
#include "mt_error.h"
#include "mt_log.h"
#include "mt_metrics.h"
#include "mt_util.h"

/*
 * See mt_db.h.  A replica that is down is not a 503: pg_read_conninfo
 * names the primary after it (docs/scale.md), and libpq tries it.
 */
const char *
mt_db_conninfo(int read_only)
{
	if (read_only && mt_cfg.pg_read_conninfo != NULL &&
	    mt_cfg.pg_read_conninfo[0] != '\0')
		return mt_cfg.pg_read_conninfo;
	return mt_cfg.pg_conninfo;
}

void
mt_db_setup(struct mt_db *db, const char *conninfo, const char *const *stmts,
    size_t nstmts)
{
	memset(db, 0, sizeof(*db));
	db->conninfo = conninfo;
	db->stmts = stmts;
	db->nstmts = nstmts;
}

void
mt_db_setup_host(struct mt_db *db, const char *const *stmts, size_t nstmts)
{
	db->host_stmts = stmts;
	db->nhost_stmts = nstmts;
}

void
mt_db_close(struct mt_db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
}

/* 1 when the open connection is usable: an idle connection that
 * speaks is ending (mt_fd_readable). */
static int
conn_ok(struct mt_db *db)
{
	return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK &&
	    !mt_fd_readable(PQsocket(db->conn));
}

/* Prepare stmts[0..n) as "<prefix><i>".  0, or -1 (a bug: logged). */
static int
prepare(struct mt_db *db, char prefix, const char *const *stmts, size_t n)
{
	char name[32];
	PGresult *res;
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%c%zu", prefix, i);
		res = PQprepare(db->conn, name, stmts[i], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			/* A bad statement is a bug: say which, stay down. */
			mt_log_error("prepare %s failed: %s", name,
			    PQerrorMessage(db->conn));
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

/*
 * The connection's parameters: db's conninfo (expanded: key=value or a
 * URI) after the fallback application_name, so a name the conninfo gives
 * wins.  Without one the connection is named after the module
 * ("mtcert-apply", "mtcert-dispatcher"): an operator sees in
 * pg_stat_activity which pool holds a connection or waits on a lock.
 * app is the caller's buffer of APP_NAME_MAX bytes.
 */
#define APP_NAME_MAX 48
static const char *const conn_keys[] = {
	"fallback_application_name", "dbname", NULL
};

static void
conn_vals(const struct mt_db *db, char *app, const char *vals[3])
{
	snprintf(app, APP_NAME_MAX, "%s%s", strcmp(mt_log_tag(), "mtcert") ==
	    0 ? "" : "mtcert-", mt_log_tag());
	vals[0] = app;
	vals[1] = db->conninfo;
	vals[2] = NULL;
}

PGPing
mt_db_ping(const struct mt_db *db)
{
	char app[APP_NAME_MAX];
	const char *vals[3];

	conn_vals(db, app, vals);
	return PQpingParams(conn_keys, vals, 1);
}

int
mt_db_ensure(struct mt_db *db)
{
	char app[APP_NAME_MAX];
	const char *vals[3];
	PGresult *res;

	if (conn_ok(db))
		return 0;
	mt_db_close(db);
	if (db->in_tx)
		return -1;	/* never continue a transaction elsewhere */
	conn_vals(db, app, vals);
	db->conn = PQconnectdbParams(conn_keys, vals, 1);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		mt_log_warn("postgres connect failed: %s",
		    PQerrorMessage(db->conn));
		mt_metrics_db_error(MT_METRICS_DB_CONNECT);	/* metrics */
		mt_db_close(db);
		return -1;
	}
	if (db->on_connect != NULL) {
		res = PQexec(db->conn, db->on_connect);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			mt_log_error("on-connect SQL failed: %s",
			    PQerrorMessage(db->conn));
			PQclear(res);
			/* metrics */
			mt_metrics_db_error(MT_METRICS_DB_CONNECT);
			mt_db_close(db);
			return -1;
		}
		PQclear(res);
	}
	if (prepare(db, 's', db->stmts, db->nstmts) != 0 ||
	    prepare(db, 'h', db->host_stmts, db->nhost_stmts) != 0) {
		mt_metrics_db_error(MT_METRICS_DB_CONNECT);	/* metrics */
		mt_db_close(db);
		return -1;
	}
	return 0;
}

/*
 * Wait for the answer to the query just sent, at most the deadline.
 * Returns the last result, or NULL when the connection failed or the
 * deadline passed (the query is then cancelled and the connection
 * dropped).
 */
static PGresult *
wait_result(struct mt_db *db)
{
	int limit = db->in_tx && db->long_ms > 0 ? db->long_ms :
	    db->deadline_ms > 0 ? db->deadline_ms : MT_DB_DEADLINE_MS;
	double end = mt_now_ms() + limit, left;
	struct pollfd p;
	PGresult *res, *last = NULL;

	p.fd = PQsocket(db->conn);
	p.events = POLLIN;
	while (PQisBusy(db->conn)) {
		left = end - mt_now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			/* No PQcancel: it would wait on the same stalled
			 * server.  Closing is enough: the backend notices the
			 * gone client (client_connection_check_interval) and
			 * statement_timeout bounds it anyway. */
			mt_log_warn("postgres did not answer in %d ms", limit);
			goto lost;
		}
		if (PQconsumeInput(db->conn) == 0)
			goto lost;
	}
	while ((res = PQgetResult(db->conn)) != NULL) {
		PQclear(last);
		last = res;
	}
	if (last == NULL || PQstatus(db->conn) != CONNECTION_OK)
		goto lost;
	return last;
lost:
	mt_log_warn("postgres connection lost: %s", PQerrorMessage(db->conn));
	mt_metrics_db_error(MT_METRICS_DB_LOST);	/* metrics */
	PQclear(last);
	mt_db_close(db);
	return NULL;
}

/* Run the prepared statement called name; see mt_db_exec. */
static PGresult *
exec_prepared(struct mt_db *db, const char *name, int n,
    const char *const *params)
{
	if (mt_db_ensure(db) != 0)
		return NULL;
	/* A failed send leaves the error for wait_result to report. */
	PQsendQueryPrepared(db->conn, name, n, params, NULL, NULL, 0);
	return wait_result(db);
}

/*
 * Run statement stmt of a table of nstmts prepared under prefix
 * ("s0", "h3", ...); NULL for a number outside the table.
 */
static PGresult *
exec_numbered(struct mt_db *db, char prefix, size_t nstmts, int stmt,
    int n, const char *const *params)
{
	char name[32];

	if (stmt < 0 || (size_t)stmt >= nstmts)
		return NULL;
	snprintf(name, sizeof(name), "%c%d", prefix, stmt);
	return exec_prepared(db, name, n, params);
}

PGresult *
mt_db_exec(struct mt_db *db, int stmt, int n, const char *const *params)
{
	return exec_numbered(db, 's', db->nstmts, stmt, n, params);
}

PGresult *
mt_db_exec_host(struct mt_db *db, int stmt, int n, const char *const *params)
{
	return exec_numbered(db, 'h', db->nhost_stmts, stmt, n, params);
}

PGresult *
mt_db_params(struct mt_db *db, const char *sql, int n,
    const char *const *params)
{
	if (mt_db_ensure(db) != 0)
		return NULL;
	PQsendQueryParams(db->conn, sql, n, NULL, params, NULL, NULL, 0);
	return wait_result(db);
}

PGresult *
mt_db_params_rows(struct mt_db *db, const char *sql, int n,
    const char *const *params)
{
	PGresult *res = mt_db_params(db, sql, n, params);

	if (res == NULL || PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	mt_db_log_error("-", -1, res);
	PQclear(res);
	return NULL;
}

PGresult *
mt_db_run(struct mt_db *db, const char *sql)
{
	if (mt_db_ensure(db) != 0)
		return NULL;
	PQsendQuery(db->conn, sql);
	return wait_result(db);
}

/* Run a transaction-control command; 0 when it succeeded. */
static int
tx_command(struct mt_db *db, const char *sql)
{
	PGresult *res = mt_db_run(db, sql);
	int ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok ? 0 : -1;
}

int
mt_db_begin(struct mt_db *db)
{
	if (tx_command(db, "BEGIN") != 0)
		return -1;
	db->in_tx = 1;
	return 0;
}

int
mt_db_begin_long(struct mt_db *db, int ms)
{
	char sql[64];

	if (mt_db_begin(db) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "SET LOCAL statement_timeout = %d", ms);
	if (tx_command(db, sql) != 0) {
		mt_db_rollback(db);
		return -1;
	}
	db->long_ms = ms;
	return 0;
}

int
mt_db_commit(struct mt_db *db)
{
	PGresult *res;
	int rc = -1;

	if (db->conn != NULL && (res = mt_db_run(db, "COMMIT")) != NULL) {
		/* COMMIT of an aborted transaction answers ROLLBACK. */
		rc = PQresultStatus(res) == PGRES_COMMAND_OK &&
		    strcmp(PQcmdStatus(res), "COMMIT") == 0 ? 0 : -1;
		PQclear(res);
	}
	db->in_tx = 0;
	db->long_ms = 0;
	return rc;
}

void
mt_db_rollback(struct mt_db *db)
{
	if (db->conn != NULL && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		tx_command(db, "ROLLBACK");
	db->in_tx = 0;
	db->long_ms = 0;
}

int
mt_db_col(const PGresult *res, const char *col)
{
	int c = PQfnumber(res, col);

	assert(c >= 0);
	return c;
}

const char *
mt_db_get(const PGresult *res, int row, const char *col)
{
	return PQgetvalue(res, row, mt_db_col(res, col));
}

int
mt_db_isnull(const PGresult *res, int row, const char *col)
{
	return PQgetisnull(res, row, mt_db_col(res, col));
}

int
mt_db_state_is(const PGresult *res, const char *prefix)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return st != NULL && strncmp(st, prefix, strlen(prefix)) == 0;
}

int
mt_db_transient(const PGresult *res)
{
	/* query_canceled (statement_timeout), serialization_failure,
	 * deadlock_detected, insufficient_resources, operator
	 * intervention (shutdown), connection exceptions. */
	return mt_db_state_is(res, "57014") || mt_db_state_is(res, "40001") ||
	    mt_db_state_is(res, "40P01") || mt_db_state_is(res, "53") ||
	    mt_db_state_is(res, "57P") || mt_db_state_is(res, "08");
}

void
mt_db_log_error(const char *rid, int stmt, const PGresult *res)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);

	mt_log_error("rid=%s stmt=%d sqlstate=%s constraint=%s", rid, stmt,
	    st != NULL ? st : "-", cons != NULL ? cons : "-");
	mt_metrics_db_error(MT_METRICS_DB_QUERY);	/* metrics */
}

/*
 * The answer of statement stmt (-1: unprepared SQL): res when it holds
 * rows or a command's success, else NULL after answering 503 (down,
 * busy) or 500 (a bug, logged).  Takes res.
 */
static PGresult *
result_or_reply(struct mt_req *req, int stmt, PGresult *res)
{
	ExecStatusType st;

	if (res == NULL) {
		mt_reply_unavailable(req, "数据库");
		return NULL;
	}
	st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return res;
	mt_db_log_error(req->request_id, stmt, res);
	if (mt_db_transient(res))
		mt_reply_unavailable(req, "数据库繁忙");
	else
		mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	PQclear(res);
	return NULL;
}

/* See mt_db.h. */
PGresult *
mt_db_query_or_reply(struct mt_req *req, int stmt, int n,
    const char *const *params)
{
	return result_or_reply(req, stmt,
	    mt_db_exec(req->db, stmt, n, params));
}

/* See mt_db.h. */
PGresult *
mt_db_params_or_reply(struct mt_req *req, const char *sql, int n,
    const char *const *params)
{
	return result_or_reply(req, -1, mt_db_params(req->db, sql, n, params));
}

/* See mt_db.h. */
int
mt_reply_items(struct mt_req *req, PGresult *res, int limit)
{
	struct mt_buf b = {0};
	json_object *cur;
	int i, n = PQntuples(res);

	mt_buf_puts(&b, "{\"items\":[");
	for (i = 0; i < n && i < limit; i++)
		mt_buf_printf(&b, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
	mt_buf_puts(&b, "],\"next_cursor\":");
	if (n > limit && PQnfields(res) > 1) {
		/* Serialized by json-c: a cursor is never trusted text. */
		cur = json_object_new_string(PQgetvalue(res, limit - 1, 1));
		mt_buf_puts(&b, json_object_to_json_string(cur));
		json_object_put(cur);
	} else
		mt_buf_puts(&b, "null");
	mt_buf_puts(&b, "}");
	PQclear(res);
	mt_req_header(req, "Cache-Control: no-store");
	mt_reply_raw(req, 200, "application/json; charset=utf-8", b.data,
	    b.len);
	mt_buf_free(&b);
	return 0;
}

/* See mt_db.h. */
const char *
mt_db_text(const PGresult *res, int row, const char *col)
{
	int c = PQfnumber(res, col);

	if (c < 0) {
		mt_log_error("db: no column %s", col);
		return NULL;
	}
	if (row < 0 || row >= PQntuples(res) || PQgetisnull(res, row, c))
		return NULL;
	return PQgetvalue(res, row, c);
}

/* See mt_db.h. */
long long
mt_db_ll(const PGresult *res, int row, const char *col)
{
	const char *v = mt_db_text(res, row, col);

	return v != NULL ? atoll(v) : 0;
}

/* See mt_db.h. */
void
mt_db_copy(const PGresult *res, int row, const char *col, char *buf,
    size_t size)
{
	const char *v = mt_db_text(res, row, col);

	snprintf(buf, size, "%s", v != NULL ? v : "");
}

/* See mt_db.h. */
int
mt_db_affected_or_reply(struct mt_req *req, int stmt, int n,
    const char *const *p)
{
	PGresult *res = mt_db_query_or_reply(req, stmt, n, p);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) > 0;
	PQclear(res);
	return found;
}

/* See mt_db.h. */
int
mt_db_reply_page(struct mt_req *req, int stmt, int n, const char **p,
    int limit_idx, int limit)
{
	char lim[16];
	PGresult *res;

	assert(limit_idx >= 0 && limit_idx < n);
	/* One row more than shown: its presence means a next page. */
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	p[limit_idx] = lim;
	res = mt_db_query_or_reply(req, stmt, n, p);
	p[limit_idx] = NULL;	/* lim dies here */
	if (res == NULL)
		return -1;
	return mt_reply_items(req, res, limit);
}

/* See mt_db.h. */
int
mt_db_outcome_or_reply(struct mt_req *req, int stmt, int n,
    const char *const *p, const char *col, json_object **ok)
{
	json_object *r = NULL, *v;
	const char *text;
	PGresult *res;
	int rc = 0;

	*ok = NULL;
	if ((res = mt_db_query_or_reply(req, stmt, n, p)) == NULL)
		return -1;
	if ((text = mt_db_text(res, 0, col)) != NULL)
		r = json_tokener_parse(text);
	PQclear(res);
	if (r == NULL) {
		mt_log_error("rid=%s db: statement %d gave no %s",
		    req->request_id, stmt, col);
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	if (json_object_object_get_ex(r, "ok", &v))
		*ok = json_object_get(v);
	else
		rc = mt_reply_refusal(req, r);
	json_object_put(r);
	return rc;
}
