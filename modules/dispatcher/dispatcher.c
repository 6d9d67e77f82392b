/*
 * dispatcher.c -- mtcert-dispatcher, the background daemon.
 *
 *   mtcert-dispatcher [--config FILE]
 *
 * The process is a master that runs the work below in one child and
 * restarts it when it dies (supervise(), near the end); PostgreSQL
 * outages are waited out with a capped backoff (pg_gate()).
 *
 * Today it drains the SMS outbox (R-CER-7): every message is an
 * sms_outbox row written in the transaction that caused it; we poll its
 * partial index every POLL_MS (not LISTEN/NOTIFY: PostgreSQL serialises
 * the commits of notifying transactions, which would cost every writer
 * its group commit).
 * Delivery is at least once: a message is handed to the sender before its
 * row is marked sent, so a crash in between sends it again with the same
 * id, by which the receiver deduplicates.  Several dispatchers may run:
 * rows are claimed with FOR UPDATE SKIP LOCKED.
 *
 * The development sender appends one JSON line per message to the
 * configured sms_log ({"id","to","template","text","at"}); a gateway
 * sender goes behind the same function later.
 *
 * And it runs the review engine's clock (sql/fn/30_review.sql holds the
 * engine itself; the dispatcher is its only caller):
 *   - pushes: every application with a stage needing an expert gets one
 *     (push_batch, a page at a time: the draws, the assignments, the
 *     events, the SMS, each a set); then the leases and the timers go to
 *     Redis in one transaction (SET lease NX PX, ZADD timers:{region}
 *     deadline id).  Modules wake us with LPUSH wake.
 *   - timers: due members are claimed atomically by a Lua script that
 *     re-arms them VISIBILITY_MS ahead, so a dispatcher killed mid-batch
 *     loses nothing; a batch is expired idempotently in PostgreSQL and
 *     its stages pushed to the next experts in one call (repush_batch);
 *     then the members are removed.
 *   - rebuild: at start, after Redis was flushed, restarted or out of
 *     reach, and after Redis refused a write of ours, every pushed
 *     assignment is added again to its timer set, and any that is
 *     overdue is expired straight from PostgreSQL, so a Redis flush or
 *     outage loses no assignment and no deadline.  Never while Redis is
 *     healthy and took every write (redis_lost): re-arming 100,000
 *     timers a minute was measured as a share of the burst throughput.
 *     A timer missing all the same is the overdue sweep's.
 *   - renewals: every RENEWAL_MS the renewal job of sql/fn/60_renewal.sql
 *     (R-BEN-4): notices before a period ends, then renewal or expiry.
 *   - publicity: every PUBLICITY_MS the public notices of hospital panel
 *     approvals past their last day are ended (sql/fn/72_panel.sql,
 *     R-CER-10): the qualification is made, the agency confirms.
 *   - quarterly reviews: every REVIEWS_MS each region's quarterly review
 *     due on its quarterly_review_day is drawn (sql/fn/
 *     88_quarterly_review.sql, R-SUP-2, S2 三).
 *   - sanctions: every SANCTIONS_MS the sanctions past their last day end
 *     and what was temporary is undone (sql/fn/92_sanctions.sql,
 *     R-SUP-4): a suspended expert or hospital is active again.
 *   - audit trail: every AUDIT_MS the heads of the chains whose day is
 *     past anchored to a file outside the database, and the access_log
 *     days past their retention archived (shared/mt_audit.c, issue 15).
 * Several dispatchers may run at once: PostgreSQL's conditional updates
 * and the one-live-assignment index decide every race.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mt_audit.h"
#include "mt_config.h"
#include "mt_db.h"
#include "mt_identity.h"
#include "mt_log.h"
#include "mt_metrics.h"
#include "mt_redis.h"
#include "mt_settle.h"
#include "mt_store.h"
#include "mt_util.h"

#include "metrics.h"

#define BATCH "100"
/*
 * Due timers claimed per repush_batch call (one transaction, one round
 * trip, one Redis MULTI/EXEC), chosen by tests/bench/dispatcher.sh's
 * figures (in its header; make CFLAGS='-O2 -g -DTIMER_BATCH=\"500\"'
 * builds another to compare): 250 re-pushed a third faster than 100;
 * 500 no faster than 250, and the call must end within pg_deadline_ms
 * on a loaded machine, or the whole batch is rolled back and comes back
 * after VISIBILITY_MS.
 */
#ifndef TIMER_BATCH
#define TIMER_BATCH "250"
#endif
#define POLL_MS 200
#define VISIBILITY_MS 30000
/* How often the rebuild marker is compared with Redis' run_id. */
#define REDIS_CHECK_MS 1000
#define RETRY_UNASSIGNED_MS 10000
#define SWEEP_MS 2000
#define OVERDUE_GRACE "10 seconds"
/*
 * The renewal job (R-BEN-4) runs every RENEWAL_MS, at start too.  It is
 * daily work in substance (a period ends on a date), but a run with
 * nothing due only probes partial indexes (one for the ends, one per
 * region for the notices: 10 ms measured with 200,000 active
 * qualifications and 83 regions), so running it often costs little and
 * means a period ending at midnight is renewed or expired, and a notice
 * sent, within seconds of the day turning, with no clock of its own to
 * miss after a restart.
 */
#define RENEWAL_MS 15000
/*
 * The publicity job (R-CER-10) runs every PUBLICITY_MS, at start too: a
 * notice ends on a date, and a run with nothing due is one probe of the
 * partial index publicity_open, so a notice ends within seconds of its
 * day being over.
 */
#define PUBLICITY_MS 5000
/*
 * The quarterly review job (R-SUP-2) runs every REVIEWS_MS, at start
 * too: a review is due on a day, once a quarter, and a run with nothing
 * due is one look at each region's quarterly_review_day.
 */
#define REVIEWS_MS 60000
/*
 * The sanctions job (R-SUP-4, issue 12): every SANCTIONS_MS, at start
 * too, sanctions past their last day end and a temporary effect is
 * undone (sql/fn/92_sanctions.sql: run_sanctions); a run with nothing
 * due is one probe of the partial index sanctions_due.
 */
#define SANCTIONS_MS 15000
/*
 * The files' retention job (issue 15, PIPL art. 47; sql/fn/96_files.sql):
 * every SHRED_MS, at start too, the files of materials whose retention
 * ended are shredded (key destroyed, file unlinked).  Daily work (a
 * retention is counted in days); hourly so a restart never skips a day.
 * XXX: a run with nothing due still scans the live materials (no index
 * can hold "decided N days ago"); measured cost belongs in a bench once
 * the table is large.
 */
#define SHRED_MS 3600000
/*
 * The audit trail's daily job (issue 15; shared/mt_audit.c, the same
 * code as mtcertctl audit-trail daily): every AUDIT_MS, at start too,
 * the heads of the chains whose day is past are appended to the anchor
 * file under audit_dir, then the access_log days past their region's
 * audit_retention_months are archived there.  Daily work; hourly so a
 * restart never skips a day, and a run with nothing due is one probe of
 * each of the partial indexes audit_chain_heads_unanchored and
 * audit_chain_heads_unarchived (045).  An advisory lock lets one dispatcher
 * anchor at a time (each appends to its own host's audit_dir:
 * docs/operations.md says which to keep).
 */
#define AUDIT_MS 3600000

enum stmt {
	STMT_CLAIM,
	STMT_SENT,
	STMT_FAILED,
	STMT_FIRST_PUSH,
	STMT_RETRY,
	STMT_REPUSH_BATCH,
	STMT_PUSH_BATCH,
	STMT_LIVE_TIMERS,
	STMT_OVERDUE,
	STMT_REGIONS,
	STMT__MAX
};

/*
 * The pushed assignments, as Redis holds them (arm_rows), a page of
 * REBUILD_PAGE after ($1 deadline, $2 id), soonest deadline first, by
 * the partial index assignments_pushed_deadline_id (046): a rebuild
 * reads them page by page (issue 13: read whole, the 100,000 of the
 * burst bench were one result of ~16 MB, and the dispatcher's RSS stayed
 * 16 MB higher after it), the timers due first armed first, and the due
 * ones run between pages (rebuild()).  dl_key: the deadline as text for the next
 * page's $1 (the session's time zone and microseconds: exact).
 * REGION_OF: each row's region by the primary key, the page's rows only
 * (as a join, a plan made before a burst's rows were counted hashed
 * every application for each page: 270 ms a page of 2,000 in the
 * bench's burst of 100,000, issue 13 fifth round).
 */
#define REGION_OF \
	"(SELECT a.region FROM applications a WHERE a.id = x.application_id)"
#define REBUILD_PAGE "2000"
#define LIVE_TIMERS \
	"SELECT x.id, " REGION_OF " AS region, x.application_id, x.stage," \
	" x.expert_id, (extract(epoch FROM x.accept_deadline) * 1000)::bigint" \
	"  AS deadline_ms," \
	" greatest(1, (extract(epoch FROM x.accept_deadline - now())" \
	"  * 1000)::bigint) AS ttl_ms, x.accept_deadline::text AS dl_key" \
	" FROM assignments x" \
	" WHERE x.state = 'pushed' AND x.accept_deadline >= $1::timestamptz" \
	" AND (x.accept_deadline, x.id) > ($1::timestamptz, $2::bigint)" \
	" ORDER BY x.accept_deadline, x.id LIMIT " REBUILD_PAGE

static const char *const stmts[STMT__MAX] = {
	[STMT_CLAIM] =
	    "SELECT id, to_phone, to_phone_enc, template, body,"
	    " to_char(created_at AT TIME ZONE 'Asia/Shanghai',"
	    "  'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"') AS at"
	    " FROM sms_outbox WHERE sent_at IS NULL AND next_attempt_at <= now()"
	    " ORDER BY id LIMIT " BATCH " FOR UPDATE SKIP LOCKED",
	/* The batch $1 but the rows $2 whose phone did not open. */
	[STMT_SENT] =
	    "UPDATE sms_outbox SET sent_at = now(), attempts = attempts + 1"
	    " WHERE id = ANY($1::bigint[]) AND id <> ALL($2::bigint[])",
	[STMT_FAILED] =
	    "UPDATE sms_outbox SET attempts = attempts + 1, last_error = $2,"
	    " next_attempt_at = now() + make_interval(secs =>"
	    "  least(300, power(2, least(attempts, 9))))"
	    " WHERE id = ANY($1::bigint[])",
	/* Applications whose stage needs an expert, never tried yet: the
	 * partial index applications_first_push (sql/032_dispatcher.sql)
	 * holds only these, so the batch is all that is read however many
	 * wait for an expert nobody can take.  A page after id $1. */
	[STMT_FIRST_PUSH] =
	    "SELECT id FROM applications WHERE push_stage IS NOT NULL"
	    " AND unassigned_since IS NULL"
	    " AND id > $1::bigint ORDER BY id LIMIT " BATCH,
	/* The retry: all of them, those that found nobody eligible too. */
	[STMT_RETRY] =
	    "SELECT id FROM applications WHERE push_stage IS NOT NULL"
	    " AND id > $1::bigint ORDER BY id LIMIT " BATCH,
	/* The engine's answers (sql/fn/30_review.sql) as JSON text: a
	 * batch's in one round trip, a set in each statement (push_set,
	 * expire_set).  push_batch names every assignment it made, every
	 * seat of an objection's panel too, so each gets its timer. */
	[STMT_REPUSH_BATCH] = "SELECT repush_batch($1::bigint[])::text AS out",
	[STMT_PUSH_BATCH] = "SELECT push_batch($1::bigint[])::text AS out",
	[STMT_LIVE_TIMERS] = LIVE_TIMERS,
	/* The BATCH longest overdue (by assignments_pushed_deadline_id: as
	 * many rows read, however many are overdue; ordered by region first,
	 * every overdue row was read and joined each SWEEP_MS, ~200 ms in a
	 * burst of 100,000), by region for expire_batch. */
	[STMT_OVERDUE] =
	    "SELECT o.id, o.region FROM (SELECT x.id, " REGION_OF " AS region,"
	    " x.accept_deadline FROM assignments x WHERE x.state = 'pushed'"
	    " AND x.accept_deadline < now() - interval '" OVERDUE_GRACE "'"
	    " ORDER BY x.accept_deadline, x.id LIMIT " BATCH ") o"
	    " ORDER BY o.region, o.accept_deadline, o.id",
	/* The regions whose timer sets are claimed. */
	[STMT_REGIONS] = "SELECT code FROM regions ORDER BY code",
};

/* Take the due members of a timer set and re-arm them VISIBILITY_MS
 * ahead in one atomic step (KEYS[1] set, ARGV now, re-arm, batch). */
#define CLAIM_DUE \
	"local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]," \
	" 'LIMIT', 0, tonumber(ARGV[3])) " \
	"for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], id) end " \
	"return due"

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Row i's phone into to[size]: to_phone, or to_phone_enc opened (a
 * person's phone is sealed, shared/mt_identity.h).  0, or -1 (errno
 * EKEYREJECTED) when the seal does not open: no keys, or other keys.
 */
static int
recipient(PGresult *res, int i, char *to, size_t size)
{
	const char *plain = mt_db_text(res, i, "to_phone");

	if (plain != NULL) {
		snprintf(to, size, "%s", plain);
		return 0;
	}
	if (mt_identity_open(MT_IDENTITY_PHONE, mt_db_get(res, i,
	    "to_phone_enc"), to, size) == 0)
		return 0;
	mt_log_error("sms %s: its sealed phone does not open (identity "
	    "keys missing or not the ones it was sealed with)",
	    mt_db_get(res, i, "id"));
	errno = EKEYREJECTED;
	return -1;
}

/*
 * The development sender: one JSON line per message, appended and
 * flushed to disk.  A row whose phone does not open is left out, its id
 * added to bad ("1,2": the caller fails those alone, so one unreadable
 * row holds up no other message).  Returns how many were written, or -1
 * when the file cannot be written.
 */
static int
send_batch(PGresult *res, struct mt_buf *bad)
{
	struct mt_buf out = {0};
	json_object *o;
	char to[MT_IDENTITY_VALUE_MAX + 1];
	int fd = -1, i, rc = -1, written = 0;
	int c_id = mt_db_col(res, "id");
	int c_tpl = mt_db_col(res, "template"), c_body = mt_db_col(res, "body");
	int c_at = mt_db_col(res, "at");

	for (i = 0; i < PQntuples(res); i++) {
		if (recipient(res, i, to, sizeof(to)) != 0) {
			mt_buf_printf(bad, "%s%s", bad->len > 0 ? "," : "",
			    PQgetvalue(res, i, c_id));
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "id",
		    json_object_new_int64(atoll(PQgetvalue(res, i, c_id))));
		json_object_object_add(o, "to", json_object_new_string(to));
		json_object_object_add(o, "template",
		    json_object_new_string(PQgetvalue(res, i, c_tpl)));
		json_object_object_add(o, "text",
		    json_object_new_string(PQgetvalue(res, i, c_body)));
		json_object_object_add(o, "at",
		    json_object_new_string(PQgetvalue(res, i, c_at)));
		mt_buf_puts(&out, json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		mt_buf_puts(&out, "\n");
		json_object_put(o);
		written++;
	}
	fd = open(mt_cfg.sms_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (fd >= 0 && write(fd, out.data, out.len) == (ssize_t)out.len &&
	    fdatasync(fd) == 0)
		rc = 0;
	if (fd >= 0)
		close(fd);
	mt_buf_free(&out);
	return rc == 0 ? written : -1;
}

/* The ids of res as a PostgreSQL array literal "{1,2,3}". */
static char *
id_array(PGresult *res)
{
	struct mt_buf b = {0};
	int i, c_id = mt_db_col(res, "id");

	mt_buf_puts(&b, "{");
	for (i = 0; i < PQntuples(res); i++)
		mt_buf_printf(&b, "%s%s", i ? "," : "", PQgetvalue(res, i, c_id));
	mt_buf_puts(&b, "}");
	return b.data;
}

/*
 * Mark the batch ids ("{1,2,3}") sent but for bad ("1,2": their phones
 * did not open, failed with a retry later), or, unless sent, all failed
 * with error.  In the open transaction; 0, or -1.
 */
static int
mark_sms(struct mt_db *db, const char *ids, const char *bad, int sent,
    const char *error)
{
	char *set = mt_xasprintf("{%s}", bad);
	const char *p[2] = { ids, sent ? set : error };
	PGresult *r;
	int rc = -1;

	r = mt_db_exec(db, sent ? STMT_SENT : STMT_FAILED, 2, p);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
		goto out;
	if (sent && *bad != '\0') {
		PQclear(r);
		p[0] = set;
		p[1] = strerror(EKEYREJECTED);
		r = mt_db_exec(db, STMT_FAILED, 2, p);
		if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
			goto out;
	}
	rc = 0;
out:
	PQclear(r);
	free(set);
	return rc;
}

/* Send what is due.  Returns the number sent, or -1 on a failure. */
static int
drain_sms(struct mt_db *db)
{
	struct mt_buf bad = {0};
	const char *err;
	PGresult *res;
	char *ids;
	int n, sent, written;

	if (mt_db_begin(db) != 0)
		return -1;
	res = mt_db_exec(db, STMT_CLAIM, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		PQclear(res);
		mt_db_rollback(db);
		return -1;
	}
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		mt_db_rollback(db);
		return 0;
	}
	ids = id_array(res);
	mt_buf_puts(&bad, "");
	sent = (written = send_batch(res, &bad)) >= 0;
	err = sent ? NULL : strerror(errno);
	PQclear(res);
	if (mark_sms(db, ids, bad.data, sent, err) != 0) {
		free(ids);
		mt_buf_free(&bad);
		mt_db_rollback(db);
		return -1;
	}
	free(ids);
	mt_buf_free(&bad);
	if (mt_db_commit(db) != 0)
		return -1;
	if (!sent) {
		mt_log_warn("sms sender failed for %d messages", n);
		mt_dispatcher_count(MT_DISPATCHER_LOOP_ERRORS, 1); /* metrics */
	}
	return sent ? written : -1;
}

static double
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The regions whose timer sets are claimed, refreshed at every sweep:
 * all of them, however many (China has over 300 统筹区). */
static char (*regions)[8];
static int nregions, cap_regions;

/* 1 once Redis refused (or never got) a write of ours: the next turn
 * rebuilds.  Cleared by a rebuild that went through. */
static int redis_missed;

/* Queue in tx what Redis holds of a pushed assignment: its lease (kept
 * if already there) and its timer. */
static void
arm_add(struct mt_redis_tx *tx, const char *asg, const char *region,
    const char *app, const char *stage, const char *expert,
    const char *deadline_ms, long long ttl_ms)
{
	mt_redis_tx_add(tx, "SET lease:{%s}:%s:%s %s:%s NX PX %lld", region,
	    app, stage, asg, expert, ttl_ms > 0 ? ttl_ms : 1);
	mt_redis_tx_add(tx, "ZADD timers:{%s} %s %s", region, deadline_ms,
	    asg);
}

/* Assignments armed per transaction by arm_rows: one round trip each
 * ARM_CHUNK, and no transaction so long it stalls Redis. */
#define ARM_CHUNK 500

/*
 * Tell Redis about the pushed assignments of res (rows of LIVE_TIMERS):
 * their leases and timers, ARM_CHUNK to a transaction.  Returns 0, or -1
 * when Redis is down or refused a chunk (redis_missed is then set: the
 * next turn rebuilds; meanwhile the overdue sweep expires them from
 * PostgreSQL).  res stays the caller's.
 */
static int
arm_rows(PGresult *res)
{
	struct mt_redis_tx tx = {0};
	int i, n = PQntuples(res);
	int c_id = mt_db_col(res, "id"), c_reg = mt_db_col(res, "region");
	int c_app = mt_db_col(res, "application_id");
	int c_stage = mt_db_col(res, "stage");
	int c_exp = mt_db_col(res, "expert_id");
	int c_dl = mt_db_col(res, "deadline_ms");
	int c_ttl = mt_db_col(res, "ttl_ms");

	for (i = 0; i < n; i++) {
		arm_add(&tx, PQgetvalue(res, i, c_id),
		    PQgetvalue(res, i, c_reg), PQgetvalue(res, i, c_app),
		    PQgetvalue(res, i, c_stage), PQgetvalue(res, i, c_exp),
		    PQgetvalue(res, i, c_dl), atoll(PQgetvalue(res, i, c_ttl)));
		if (((i + 1) % ARM_CHUNK == 0 || i + 1 == n) &&
		    mt_redis_tx_exec(&tx) != 0) {
			redis_missed = 1;
			return -1;
		}
	}
	return 0;
}

static const char *
jstr(json_object *o, const char *key, char *buf, size_t n)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	snprintf(buf, n, "%s", json_object_get_string(v));
	return buf;
}

static int repush(struct mt_db *, const char *, struct mt_redis_tx *,
    size_t *);

/*
 * The retry of applications nobody could take (unassigned_since set),
 * spread over the loop a page at a time so that the timers never wait
 * behind it: retry_pages pages are still to go (1 after a tick, INT_MAX
 * after the expert pool changed), from retry_from on, in id order.  The
 * ticks go round robin, so every waiting application gets its turn
 * however many wait in regions with nobody eligible.
 */
static long long retry_from;
static int retry_pages;

/* One page of FIRST_PUSH (waiting: of RETRY) after id after, pushed
 * in one push_batch (one transaction: a failure leaves the whole page
 * waiting, pushed on a later turn) and armed in one Redis transaction.
 * Sets *rows and *last (the last id seen); returns how many were
 * pushed. */
static int
push_page(struct mt_db *db, int waiting, long long after, int *rows,
    long long *last)
{
	char from[24], *ids;
	const char *p[1] = { from };
	struct mt_redis_tx tx = {0};
	PGresult *res;
	size_t n = 0;

	*rows = 0;
	snprintf(from, sizeof(from), "%lld", after);
	res = mt_db_exec(db, waiting ? STMT_RETRY : STMT_FIRST_PUSH, 1, p);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	if ((*rows = PQntuples(res)) > 0) {
		*last = atoll(PQgetvalue(res, *rows - 1, mt_db_col(res, "id")));
		ids = id_array(res);
		if (repush(db, ids, &tx, &n) == 0 && tx.n > 0 &&
		    mt_redis_tx_exec(&tx) != 0)
			redis_missed = 1;	/* not armed: the next turn
						 * rebuilds */
		mt_buf_free(&tx.cmds);
		free(ids);
	}
	PQclear(res);
	if (n > 0)	/* each push is logged by arm_pushed */
		mt_dispatcher_count(MT_DISPATCHER_PUSHES, (long)n); /* metrics */
	return (int)n;
}

/*
 * Push a page of the applications waiting for their first try (oldest
 * first), and a page of the retry when one is due.  Returns how many were
 * pushed, plus one while a retry is under way (so the loop goes on).
 */
static int
run_pushes(struct mt_db *db)
{
	long long last = 0;
	int rows, n;

	n = push_page(db, 0, 0, &rows, &last);
	if (retry_pages > 0) {
		n += push_page(db, 1, retry_from, &rows, &last);
		if (rows == atoi(BATCH)) {
			retry_from = last;
			retry_pages--;
		} else {
			retry_from = 0;         /* the end: next time from the start */
			retry_pages = 0;
		}
	}
	return n + (retry_pages > 0);
}

/* Run a batch function on an id array; the parsed JSON, or NULL. */
static json_object *
batch_call(struct mt_db *db, int stmt, const char *ids)
{
	const char *p[1] = { ids };
	json_object *out;
	PGresult *res;

	res = mt_db_exec(db, stmt, 1, p);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		if (res != NULL)
			mt_db_log_error("dispatcher", stmt, res);
		PQclear(res);
		return NULL;
	}
	out = json_tokener_parse(mt_db_get(res, 0, "out"));
	PQclear(res);
	return out;
}

/* Member key of o (borrowed), or NULL (json_object_get_int takes it as
 * 0; the array loops check for it). */
static json_object *
jmember(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

/* Queue in tx the lease and timer of each pushed assignment of arr (the
 * elements of push_batch's answer, already committed), log each push
 * (an operator follows an application through the log), and return how
 * many. */
static size_t
arm_pushed(json_object *arr, struct mt_redis_tx *tx)
{
	char asg[24], reg[8], app[24], stage[8], expert[24], dl[24];
	json_object *o;
	double now = wall_ms();
	size_t k;

	for (k = 0; arr != NULL && k < json_object_array_length(arr); k++) {
		o = json_object_array_get_idx(arr, k);
		jstr(o, "assignment", asg, sizeof(asg));
		jstr(o, "region", reg, sizeof(reg));
		jstr(o, "application", app, sizeof(app));
		jstr(o, "stage", stage, sizeof(stage));
		jstr(o, "expert", expert, sizeof(expert));
		jstr(o, "deadline_ms", dl, sizeof(dl));
		arm_add(tx, asg, reg, app, stage, expert, dl,
		    (long long)(atof(dl) - now));
		mt_log_info("pushed assignment=%s application=%s stage=%s",
		    asg, app, stage);
	}
	return k;
}

/*
 * Push the applications of apps (an array literal "{1,2}") that need an
 * expert (push_batch), queue each new push's lease and timer in tx and
 * set *pushed to how many.  Returns 0, or -1 on a database failure.
 */
static int
repush(struct mt_db *db, const char *apps, struct mt_redis_tx *tx,
    size_t *pushed)
{
	json_object *out;

	if ((out = batch_call(db, STMT_PUSH_BATCH, apps)) == NULL)
		return -1;
	*pushed = arm_pushed(out, tx);
	json_object_put(out);
	return 0;
}

/*
 * Expire a claimed batch of one region and push the expired stages again
 * in ONE call and one transaction (repush_batch, sql/fn/30_review.sql:
 * each statement there is a set, so a batch is a few statements, not a
 * few per assignment; each application's stored view is patched once).
 * Then Redis is told in one transaction (one round trip for the whole
 * batch): settled members go, new pushes get their lease and timer,
 * early ones are re-armed.  If Redis refuses it, nothing of it is
 * written: the members keep the score the claim gave them and come back
 * after VISIBILITY_MS (settled ones are answered settled again), and a
 * rebuild is asked for.  Returns how many were settled; on a database
 * failure nothing is kept and the members come back after VISIBILITY_MS.
 */
static int
expire_batch(struct mt_db *db, const char *region, char *const *ids,
    size_t nids)
{
	char id[24], dl[24];
	struct mt_buf arr = {0};
	struct mt_redis_tx tx = {0};
	json_object *out, *v, *o;
	size_t k, pushed;
	int n = 0;

	mt_buf_puts(&arr, "{");
	for (k = 0; k < nids; k++)
		mt_buf_printf(&arr, "%s%s", k ? "," : "", ids[k]);
	mt_buf_puts(&arr, "}");
	out = batch_call(db, STMT_REPUSH_BATCH, arr.data);
	mt_buf_free(&arr);
	if (out == NULL)
		return 0;
	v = jmember(out, "settled");
	for (k = 0; v != NULL && k < json_object_array_length(v); k++, n++)
		mt_redis_tx_add(&tx, "ZREM timers:{%s} %s", region,
		    json_object_get_string(json_object_array_get_idx(v, k)));
	v = jmember(out, "early");
	for (k = 0; v != NULL && k < json_object_array_length(v); k++) {
		o = json_object_array_get_idx(v, k);
		if (jstr(o, "id", id, sizeof(id)) != NULL &&
		    jstr(o, "deadline_ms", dl, sizeof(dl)) != NULL)
			mt_redis_tx_add(&tx, "ZADD timers:{%s} %s %s", region,
			    dl, id);
	}
	pushed = arm_pushed(jmember(out, "pushed"), &tx);
	/* metrics: counted once committed (a rollback expired nothing, and
	 * the members come back to be counted then). */
	mt_dispatcher_count(MT_DISPATCHER_EXPIRIES,
	    (long)json_object_get_int(jmember(out, "expired")));
	mt_dispatcher_count(MT_DISPATCHER_REPUSHES, (long)pushed);
	json_object_put(out);
	if (tx.n > 0 && mt_redis_tx_exec(&tx) != 0)
		redis_missed = 1;
	if (n > 0)
		mt_log_info("expired and re-pushed %d (region %s)", n, region);
	return n;
}

/* Claim and expire the due timers of every region.  Returns how many. */
static int
run_timers(struct mt_db *db)
{
	char now[32], rearm[32];
	redisReply *r;
	size_t k;
	int i, n = 0;
	double t = wall_ms();

	snprintf(now, sizeof(now), "%.0f", t);
	snprintf(rearm, sizeof(rearm), "%.0f", t + VISIBILITY_MS);
	for (i = 0; i < nregions && !stopping; i++) {
		r = mt_redis_cmd("EVAL %s 1 timers:{%s} %s %s %s", CLAIM_DUE,
		    regions[i], now, rearm, TIMER_BATCH);
		if (r == NULL)
			return n;
		if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
			char **ids = mt_xcalloc(r->elements, sizeof(*ids));

			for (k = 0; k < r->elements; k++)
				ids[k] = r->element[k]->str;
			n += expire_batch(db, regions[i], ids, r->elements);
			free(ids);
		}
		freeReplyObject(r);
	}
	return n;
}

/* Refresh the regions whose timer sets we claim from (a new region's
 * timers are claimed within one sweep): each sweep, before run_timers
 * of the same turn. */
static void
load_regions(struct mt_db *db)
{
	PGresult *res = mt_db_exec(db, STMT_REGIONS, 0, NULL);
	int i, n, c_code;

	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK) {
		n = PQntuples(res);
		c_code = mt_db_col(res, "code");
		if (n > cap_regions) {
			regions = mt_xrealloc(regions, (size_t)n * sizeof(*regions));
			cap_regions = n;
		}
		for (i = 0; i < n; i++)
			snprintf(regions[i], sizeof(regions[i]), "%s",
			    PQgetvalue(res, i, c_code));
		nregions = n;
	}
	PQclear(res);
}

/*
 * Redis' run_id (INFO server: a new one at every start of redis-server)
 * into id (41 bytes).  Returns 0, or -1 when Redis is down.
 */
static int
redis_run_id(char id[41])
{
	redisReply *r = mt_redis_cmd("INFO server");
	const char *p;
	int rc = -1;

	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING) {
		p = strstr(r->str, "run_id:");
		if (p != NULL && sscanf(p, "run_id:%40[0-9a-f]", id) == 1)
			rc = 0;
	}
	freeReplyObject(r);
	return rc;
}

/*
 * One dispatcher rebuilds at a time (issue 13: four rebuilding the same
 * 110,000 timers at once, each running batches between its pages, slowed
 * each other's batches past pg_deadline_ms, which came back 30 s later:
 * 93 re-pushes/s in one bench run, against 846 with one dispatcher):
 * dispatcher:rebuilding holds the rebuilder's token, REBUILD_LOCK_MS from
 * its last page (a rebuilder that died frees it by then; meanwhile the
 * overdue sweep expires from PostgreSQL).
 */
#define REBUILD_LOCK_MS 30000
#define RELEASE_IF_OURS \
	"if redis.call('GET', KEYS[1]) == ARGV[1] then" \
	" return redis.call('DEL', KEYS[1]) end return 0"
static char lock_token[64];
/*
 * While a rebuild runs, the marker says "pending:" and the rebuilder's
 * token; at the end it is set to Redis' run_id only if it still says
 * so.  A marker removed or changed meanwhile -- a DEL asking for a
 * rebuild, a FLUSHALL, another rebuilder after a flush took the lock --
 * means the sets may lack what this rebuild's pages armed or rows its
 * pages had passed: the rebuild is not taken as complete and runs again.
 * (Issue 13, sixth round: a rebuild begun at start, cut short by a stop,
 * took a DEL made during its pages as done, its pages past the new rows'
 * deadlines; the next burst was expired by the overdue sweep alone, 58
 * and 96 re-pushes/s against 2,103 and 2,184 with one dispatcher.)
 */
#define MARK_IF_PENDING \
	"if redis.call('GET', KEYS[1]) == ARGV[1] then" \
	" return redis.call('SET', KEYS[1], ARGV[2]) end return 0"

/* Whether the marker dispatcher:rebuilt names run_id: 1 or 0, -1 when
 * Redis does not answer. */
static int
marker_names(const char *run_id)
{
	redisReply *r = mt_redis_cmd("GET dispatcher:rebuilt");
	int rc;

	if (r == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_STRING && strcmp(r->str, run_id) == 0;
	freeReplyObject(r);
	return rc;
}

/* 1 when the marker names run_id and no write of ours was refused since:
 * the timer sets are complete. */
static int
marker_current(const char *run_id)
{
	return !redis_missed && marker_names(run_id) == 1;
}

/*
 * Take the rebuild: 1 when it is ours to do, 0 when it is not needed any
 * more (another dispatcher's rebuild set the marker to Redis' run_id, and
 * no write of ours was refused since), -1 when another is rebuilding or
 * Redis does not answer (try again soon).
 */
static int
rebuild_lock(const char *run_id)
{
	redisReply *r;
	int rc;

	if (marker_current(run_id))
		return 0;
	if (lock_token[0] == '\0')
		snprintf(lock_token, sizeof(lock_token), "%ld-%lld-%d",
		    (long)getpid(), (long long)wall_ms(), rand());
	if ((r = mt_redis_cmd("SET dispatcher:rebuilding %s NX PX %d",
	    lock_token, REBUILD_LOCK_MS)) == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_STATUS ? 1 : -1;
	freeReplyObject(r);
	/* Looked at again under the lock: a rebuilder sets the marker
	 * before it lets go, so one that finished between the look above
	 * and the lock is seen here, not rebuilt after. */
	if (rc == 1 && marker_current(run_id)) {
		if ((r = mt_redis_cmd("EVAL %s 1 dispatcher:rebuilding %s",
		    RELEASE_IF_OURS, lock_token)) != NULL)
			freeReplyObject(r);
		return 0;
	}
	return rc;
}

/*
 * Arm every pushed assignment, a page of LIVE_TIMERS at a time, running
 * what is due among those armed so far between pages (issue 13: 120,000
 * live timers are 60 pages, ~2 s, and the 1,000 a second falling due
 * meanwhile waited for the whole rebuild: steady lag p99 2.9 s).  Adds
 * the rows armed to *total.  Returns 0 once the last page is armed, -1
 * when PostgreSQL or Redis failed or the dispatcher is stopping.
 */
static int
rebuild_pages(struct mt_db *db, int *total)
{
	char dl[64] = "-infinity", after[24] = "0";
	const char *p[2] = { dl, after };
	PGresult *res;
	redisReply *r;
	int rows;

	do {
		res = mt_db_exec(db, STMT_LIVE_TIMERS, 2, p);
		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
		    arm_rows(res) != 0) {
			PQclear(res);
			return -1;
		}
		if ((rows = PQntuples(res)) > 0) {
			snprintf(dl, sizeof(dl), "%s", PQgetvalue(res, rows - 1,
			    mt_db_col(res, "dl_key")));
			snprintf(after, sizeof(after), "%s", PQgetvalue(res,
			    rows - 1, mt_db_col(res, "id")));
		}
		*total += rows;
		PQclear(res);
		if ((r = mt_redis_cmd("PEXPIRE dispatcher:rebuilding %d",
		    REBUILD_LOCK_MS)) != NULL)
			freeReplyObject(r);
		if (rows > 0 && db->conn != NULL)
			run_timers(db);
	} while (rows > 0 && !stopping && db->conn != NULL);
	return stopping || db->conn == NULL ? -1 : 0;
}

/*
 * Make Redis agree with PostgreSQL again: every pushed assignment in its
 * timer set with its lease, and anything overdue expired from here.
 * Then the marker dispatcher:rebuilt holds Redis' run_id (redis_lost).
 * Returns 0, or -1 when Redis or PostgreSQL is down, Redis refused a
 * write or the marker changed while the pages were read (try again
 * soon; the marker is set only after every chunk went in, and only if
 * it still says this rebuild is pending: MARK_IF_PENDING).
 */
static int
rebuild(struct mt_db *db)
{
	redisReply *r;
	int rc = -1, total = 0;
	char run_id[41], pending[sizeof(lock_token) + 8];

	/* No load_regions here: the rows name their regions, and
	 * run_timers comes after timed_steps, which refreshes them. */
	if (redis_run_id(run_id) != 0)
		return -1;
	switch (rebuild_lock(run_id)) {
	case 1:
		break;
	case 0:		/* done meanwhile by another: the marker is current */
		return 0;
	default:	/* another is at it, or Redis is down: soon again */
		return -1;
	}
	snprintf(pending, sizeof(pending), "pending:%s", lock_token);
	if ((r = mt_redis_cmd("SET dispatcher:rebuilt %s", pending)) == NULL)
		goto out;
	freeReplyObject(r);
	/* Set again by a write Redis refuses from here on (arm_rows, or a
	 * push between pages): then no marker, and the next turn rebuilds. */
	redis_missed = 0;
	if (rebuild_pages(db, &total) != 0 || redis_missed)
		goto out;
	if (total > 0)
		mt_log_info("rebuilt %d timers", total);
	/* The marker says these sets are complete in this run of Redis; a
	 * flush loses it, a restart changes the run_id (redis_lost).  An
	 * assignment pushed while the pages were read was armed by its
	 * push (arm_pushed), whatever page its deadline fell in. */
	if ((r = mt_redis_cmd("EVAL %s 1 dispatcher:rebuilt %s %s",
	    MARK_IF_PENDING, pending, run_id)) == NULL)
		goto out;
	rc = r->type == REDIS_REPLY_STATUS ? 0 : -1;
	freeReplyObject(r);
	if (rc != 0)
		mt_log_info("rebuild: the marker changed while the pages were "
		    "read; rebuilding again");
out:
	if ((r = mt_redis_cmd("EVAL %s 1 dispatcher:rebuilding %s",
	    RELEASE_IF_OURS, lock_token)) != NULL)
		freeReplyObject(r);
	return rc;
}

/*
 * 1 when Redis may have lost timers of ours, so a rebuild is due: it
 * refused a write (redis_missed), or, looked at every REDIS_CHECK_MS
 * (two small commands a second), the marker is gone (FLUSHALL, a restart
 * without its files) or names another run of Redis (a restart: the
 * AOF's last second may be gone).  0 while Redis is healthy, and while
 * it is down (the wait says so: serve()).
 */
static int
redis_lost(double t)
{
	static double next_check;
	char run_id[41];
	int named;

	if (redis_missed)
		return 1;
	if (t < next_check)
		return 0;
	next_check = t + REDIS_CHECK_MS;
	if (redis_run_id(run_id) != 0 || (named = marker_names(run_id)) < 0)
		return 0;
	return !named;
}

/*
 * Expire what is long overdue straight from PostgreSQL, whatever Redis
 * holds (Redis down or flushed), by the same batches per region.
 */
static int
sweep(struct mt_db *db)
{
	PGresult *res = mt_db_exec(db, STMT_OVERDUE, 0, NULL);
	char *ids[100];
	const char *region;
	int i, from, n = 0, rows, c_reg, c_id;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	rows = PQntuples(res);
	c_reg = mt_db_col(res, "region");
	c_id = mt_db_col(res, "id");
	for (from = 0; from < rows && !stopping; from = i) {
		region = PQgetvalue(res, from, c_reg);
		for (i = from; i < rows && i - from < 100 &&
		    strcmp(PQgetvalue(res, i, c_reg), region) == 0; i++)
			ids[i - from] = PQgetvalue(res, i, c_id);
		n += expire_batch(db, region, ids, (size_t)(i - from));
	}
	PQclear(res);
	return n;
}

/*
 * The renewal job (R-BEN-4): mt_settle_renewals until nothing is due;
 * dispatchers running at once share the work and never renew one twice.
 * Returns the number of qualifications handled (0 also when the database
 * failed: the next turn's pg_gate waits).
 */
static int
renewals(struct mt_db *db)
{
	struct mt_renewals r = {0};

	mt_settle_renewals(db, &r, (volatile const int *)&stopping);
	if (r.renewed + r.expired + r.noticed > 0)
		mt_log_info("renewals renewed=%lld expired=%lld noticed=%lld",
		    r.renewed, r.expired, r.noticed);
	return (int)(r.renewed + r.expired + r.noticed);
}

/*
 * A batch job of SQL: call fn (an SQL function of one batch size that
 * returns how many it did: run_publicity, run_returns, run_sanctions,
 * run_quarterly_reviews) until it does
 * nothing; dispatchers running at once share the work (SKIP LOCKED) and
 * never do one twice.  Logs "<what>=n" when it did something.  Returns
 * the number done (0 also when the database failed).
 */
static int
batch_job(struct mt_db *db, const char *sql, const char *what)
{
	PGresult *res;
	int n, total = 0;

	do {
		res = mt_db_params_rows(db, sql, 0, NULL);
		if (res == NULL)
			break;
		n = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		total += n;
	} while (n > 0 && !stopping);
	if (total > 0)
		mt_log_info("%s=%d", what, total);
	return total;
}

/*
 * The audit trail's daily job (mt_audit_daily): anchor, then archive.
 * Logs what it did, and a warning when it failed or a chain was refused
 * (its rows kept: verify names it).  Returns the heads and chains done.
 */
static int
audit_daily(struct mt_db *db)
{
	struct mt_audit_run r;

	if (mt_audit_daily(db, mt_cfg.audit_dir, &r) != 0)
		mt_log_warn("audit trail: the daily job failed (see above);"
		    " again in %d s", AUDIT_MS / 1000);
	if (r.anchored + r.chains + r.refused > 0)
		mt_log_info("audit trail anchored=%lld archived=%lld rows=%lld"
		    " refused=%lld", r.anchored, r.chains, r.rows, r.refused);
	return (int)(r.anchored + r.chains);
}

/* Take every wake-up queued (the list emptied in one atomic step) and
 * return them (an array of reasons). */
#define TAKE_WAKES \
	"local w = redis.call('LRANGE', KEYS[1], 0, -1) " \
	"redis.call('DEL', KEYS[1]) return w"

/* 1 when reply r (an array of reasons) holds "pool". */
static int
has_pool(const redisReply *r, size_t from)
{
	size_t k;

	for (k = from; r->type == REDIS_REPLY_ARRAY && k < r->elements; k++)
		if (r->element[k]->str != NULL &&
		    strcmp(r->element[k]->str, "pool") == 0)
			return 1;
	return 0;
}

/*
 * Wait up to POLL_MS for a wake-up (LPUSH wake <reason>), then take the
 * rest of the queue too: a wake-up only says "look now", and one turn
 * (one probe of applications_first_push) serves all that came, so 1,000
 * submits are not 1,000 turns.  A wake-up lost (Redis down, or taken by
 * another dispatcher) costs at most POLL_MS: every turn looks anyway.
 * Returns 2 when one was "pool" (the expert pool changed: retry the
 * unassigned), 1 for any other wake-up, 0 after the wait, -1 when Redis
 * is down.
 */
static int
wait_wake(void)
{
	redisReply *r = mt_redis_cmd("BLPOP wake %.3f", POLL_MS / 1000.0);
	int rc;

	if (r == NULL) {
		usleep(POLL_MS * 1000);
		return -1;
	}
	rc = r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? 1 : 0;
	if (rc && has_pool(r, 1))
		rc = 2;
	freeReplyObject(r);
	if (rc == 0 || (r = mt_redis_cmd("EVAL %s 1 wake", TAKE_WAKES)) == NULL)
		return rc;
	if (has_pool(r, 0))
		rc = 2;
	freeReplyObject(r);
	return rc;
}

/*
 * PostgreSQL outages.  While it is down every statement of a loop turn
 * would try a new connection and log it: 472 warnings in 50 s were
 * measured.  Instead the loop waits here, probing with PQping (which logs
 * nothing) after a delay that doubles from PG_BACKOFF_MIN_MS up to
 * PG_BACKOFF_MAX_MS, and says once that it is down and once that it is
 * back.  The cap bounds how late the SMS codes resume after an outage.
 */
#define PG_BACKOFF_MIN_MS 200
#define PG_BACKOFF_MAX_MS 5000

static struct {
	int	down;		/* 1 between "down" and "back" */
	int	delay_ms;	/* the next wait */
	double	since;		/* when it went down */
} pg;

/* Sleep ms, cut short by SIGTERM (usleep returns on a signal). */
static void
nap(int ms)
{
	if (!stopping)
		usleep((useconds_t)ms * 1000);
}

/*
 * Make sure the database connection is up before a loop turn.  Returns
 * 0 when it is, -1 after a backoff wait (the caller starts the turn
 * again).  Logs one line when PostgreSQL goes down and one when it is
 * back, whatever the outage's length.
 */
static int
pg_gate(struct mt_db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (pg.down) {
		nap(pg.delay_ms);
		pg.delay_ms = pg.delay_ms * 2 > PG_BACKOFF_MAX_MS ?
		    PG_BACKOFF_MAX_MS : pg.delay_ms * 2;
	}
	if (!stopping && mt_db_ping(db) == PQPING_OK &&
	    mt_db_ensure(db) == 0) {
		if (pg.down)
			mt_log_info("postgres back after %.1f s",
			    (mt_now_ms() - pg.since) / 1000.0);
		pg.down = 0;
		return 0;
	}
	if (!pg.down) {
		mt_log_warn("postgres down; retrying every %d-%d ms until "
		    "it is back", PG_BACKOFF_MIN_MS, PG_BACKOFF_MAX_MS);
		pg.down = 1;
		pg.since = mt_now_ms();
		pg.delay_ms = PG_BACKOFF_MIN_MS;
	}
	return -1;
}

/* The child's signals, database and Redis (not connected yet). */
static void
serve_init(struct mt_db *db)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mt_db_setup(db, mt_cfg.pg_conninfo, stmts, STMT__MAX);
	db->deadline_ms = mt_cfg.pg_deadline_ms;
	/*
	 * Our commits need not wait for the disk: everything we write can be
	 * derived again.  A lost expiry leaves the assignment pushed and
	 * overdue, so the sweep expires it again; a lost push leaves the
	 * application's push_stage set, so it is pushed again; WAL order
	 * means no later commit survives an earlier lost one.  A lost
	 * "sent" mark re-sends the SMS with its id (at least once).  A lost
	 * renewal batch leaves its qualifications due, and its SMS rows
	 * are lost with it: the next run does the same again.
	 */
	db->on_connect = "SET synchronous_commit = off";
	mt_redis_setup(mt_cfg.redis_socket, mt_cfg.redis_sentinels,
	    mt_cfg.redis_master_name, mt_cfg.redis_timeout_ms);
	mt_log_info("started");
}

/*
 * The steps that run on their own clocks, at time t: the sweep of long
 * overdue assignments every SWEEP_MS, the renewal job every RENEWAL_MS,
 * the publicity job every PUBLICITY_MS, the sanctions job every
 * SANCTIONS_MS, the files' retention job every SHRED_MS, the audit
 * trail's daily job every AUDIT_MS.  Returns how much they did (0 when
 * nothing was due).
 */
static int
timed_steps(struct mt_db *db, double t)
{
	static double next_sweep, next_renewal, next_publicity, next_sanctions;
	static double next_reviews, next_shred, next_audit;
	long long shred;
	int busy = 0;

	if (t >= next_sweep) {
		load_regions(db);
		busy += sweep(db);
		next_sweep = t + SWEEP_MS;
	}
	if (t >= next_renewal && db->conn != NULL) {
		busy += renewals(db);
		next_renewal = t + RENEWAL_MS;
	}
	if (t >= next_publicity && db->conn != NULL) {
		busy += batch_job(db, "SELECT run_publicity(100) AS n",
		    "publicity ended");
		/* Same clock: returned applications past their resubmit_by
		 * withdrawn (sql/fn/82_return.sql, R-APP-8). */
		busy += batch_job(db, "SELECT run_returns(100) AS n",
		    "returns lapsed");
		next_publicity = t + PUBLICITY_MS;
	}
	if (t >= next_reviews && db->conn != NULL) {
		/* Two dispatchers at once draw a quarter once (an advisory
		 * lock and the unique (region, quarter)). */
		busy += batch_job(db, "SELECT run_quarterly_reviews() AS n",
		    "quarterly reviews drawn");
		next_reviews = t + REVIEWS_MS;
	}
	if (t >= next_sanctions && db->conn != NULL) {
		busy += batch_job(db, "SELECT run_sanctions(100) AS n",
		    "sanctions ended");
		next_sanctions = t + SANCTIONS_MS;
	}
	if (t >= next_audit && db->conn != NULL) {
		busy += audit_daily(db);
		next_audit = t + AUDIT_MS;
	}
	if (t >= next_shred && db->conn != NULL) {
		if ((shred = mt_store_shred(db, mt_cfg.files_dir)) > 0) {
			mt_log_info("files shredded=%lld", shred);
			busy += (int)shred;
		}
		next_shred = t + SHRED_MS;
	}
	return busy;
}

/*
 * The dispatcher's loop (the supervised child): until SIGTERM, one turn
 * of rebuild, sweep, pushes, timers and SMS, then an idle wait.  A turn
 * that loses the database stops at once and waits in pg_gate(), so no
 * later step of the turn tries (and logs) a connection of its own.
 * Returns the exit status.
 */
static int
serve(void)
{
	struct mt_db db;
	double next_rebuild = 0, next_retry = 0;	/* 0: at once */
	int n = 0, busy, wake;

	serve_init(&db);
	retry_pages = INT_MAX;	/* the pool may have changed meanwhile */
	while (!stopping) {
		double t = mt_now_ms();

		mt_dispatcher_metrics_tick(&db);	/* metrics */
		if (pg_gate(&db) < 0) {
			/* metrics */
			mt_dispatcher_count(MT_DISPATCHER_LOOP_ERRORS, 1);
			continue;
		}
		if (t >= next_rebuild ||
		    (next_rebuild == INFINITY && redis_lost(t))) {
			/* Soon again while Redis is down, so it is rebuilt as
			 * soon as it is back; else when redis_lost says. */
			next_rebuild = rebuild(&db) < 0 ? t + 1000 : INFINITY;
		}
		busy = timed_steps(&db, t);
		if (t >= next_retry) {
			if (retry_pages == 0)
				retry_pages = 1;
			next_retry = t + RETRY_UNASSIGNED_MS;
		}
		if (db.conn == NULL)
			continue;
		busy += run_pushes(&db);
		if (db.conn == NULL)
			continue;
		busy += run_timers(&db);
		while (!stopping && db.conn != NULL &&
		    (n = drain_sms(&db)) > 0) {
			mt_log_info("sms sent=%d", n);
			/* metrics */
			mt_dispatcher_count(MT_DISPATCHER_SMS_SENT, n);
			busy++;
		}
		if (busy > 0 || db.conn == NULL)
			continue;
		/* Idle: wait for a wake-up; a signal cuts it. */
		wake = wait_wake();
		if (wake == 2) {
			/* The pool changed: every waiting one, from the start
			 * (counted: the tick's retry would hide a lost one). */
			retry_from = 0;
			retry_pages = INT_MAX;
			mt_dispatcher_count(MT_DISPATCHER_POOL_WAKES, 1);
		} else if (wake < 0 && next_rebuild > mt_now_ms() + 1000)
			/* Redis is down: rebuild its timers as soon as it is
			 * back (whatever the marker then says). */
			next_rebuild = mt_now_ms() + 1000;
	}
	mt_db_close(&db);
	mt_log_info("stopped");
	return 0;
}

/*
 * Supervision: the process started (by stack.sh or systemd) is a small
 * master that runs serve() in a child and starts a new child when it
 * dies, like mtcert-host does for its workers.  A child that dies within
 * CHILD_STABLE_S of its start waits before the next one, 1 s doubling up
 * to 30 s, so a crash at start does not spin; one that ran longer is
 * restarted after 1 s.  SIGTERM/SIGINT to the master stop the child (15
 * s, then SIGKILL) and the master.  The child dies with the master
 * (PR_SET_PDEATHSIG), so a killed master leaves no orphan behind and a
 * new master (stack.sh start, systemd's Restart=always) takes over.
 */
#define CHILD_STABLE_S 60
#define CHILD_DELAY_MAX_S 30

/* Fork the child; it never returns.  Returns its PID, or -1. */
static pid_t
spawn(pid_t master)
{
	sigset_t none;
	pid_t pid = fork();

	if (pid != 0) {
		if (pid < 0)
			mt_log_error("fork: %s", strerror(errno));
		return pid;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master)	/* the master died before prctl */
		_exit(0);
	mt_log_catch_reopen();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGCHLD, SIG_DFL);
	_exit(serve());
}

/* Stop the child: SIGTERM, 15 s, SIGKILL; reap it. */
static void
stop_child(pid_t pid)
{
	int i;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 150 && waitpid(pid, NULL, WNOHANG) == 0; i++)
		usleep(100 * 1000);
	if (i == 150) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/*
 * The master's loop (see above).  Signals are taken synchronously
 * (sigtimedwait), so a SIGTERM never slips in between a check and a
 * wait.  Returns the exit status.
 */
static int
supervise(void)
{
	struct timespec tick = { 1, 0 };
	time_t born = 0, next = 0;
	int delay = 1, status, sig;
	pid_t child = -1, pid, master = getpid();
	sigset_t set;

	mt_master_signals(&set);
	mt_dispatcher_metrics_init();	/* metrics: before forking */
	for (;;) {
		if (child <= 0 && time(NULL) >= next) {
			born = time(NULL);
			child = spawn(master);
			next = born + delay;	/* a failed fork waits too */
		}
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGUSR1)
			mt_log_reopen_children(&child, 1);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != child)
				continue;
			delay = time(NULL) - born >= CHILD_STABLE_S ? 1 :
			    delay * 2 > CHILD_DELAY_MAX_S ? CHILD_DELAY_MAX_S :
			    delay * 2;
			next = time(NULL) + delay;
			mt_log_warn("dispatcher %ld ended (%s %d); restarting in "
			    "%d s", (long)pid, WIFSIGNALED(status) ? "signal" :
			    "exit", WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status), delay);
			mt_metrics_restart();	/* metrics */
			child = -1;
		}
	}
	stop_child(child);
	return 0;
}

/* mtcert-dispatcher [--config FILE] [--log FILE]: exits 2 on a bad
 * command line, a config that does not load or a log it cannot open. */
int
main(int argc, char **argv)
{
	const char *cfg = NULL, *log = NULL;
	int i;

	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2)
		if (strcmp(argv[i], "--config") == 0)
			cfg = argv[i + 1];
		else if (strcmp(argv[i], "--log") == 0)
			log = argv[i + 1];
		else
			break;
	if (i != argc) {
		fputs("usage: mtcert-dispatcher [--config FILE] [--log FILE]\n",
		    stderr);
		return 2;
	}
	if ((log != NULL && mt_log_open(log) != 0) ||
	    mt_config_load(cfg) != 0)
		return 2;
	mt_log_init("dispatcher");
	return supervise();
}
