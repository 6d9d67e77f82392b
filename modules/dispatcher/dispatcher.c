/*
 * dispatcher.c -- mtcert-dispatcher, the background daemon.
 *
 *   mtcert-dispatcher [--config FILE]
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
 * XXX: the 24-hour lease timers arrive with the review engine (issue 4).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "mt_config.h"
#include "mt_db.h"
#include "mt_log.h"
#include "mt_util.h"

#define BATCH "100"
#define POLL_MS 200

enum stmt {
	STMT_CLAIM,
	STMT_SENT,
	STMT_FAILED,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	[STMT_CLAIM] =
	    "SELECT id, to_phone, template, body,"
	    " to_char(created_at AT TIME ZONE 'Asia/Shanghai',"
	    "  'YYYY-MM-DD\"T\"HH24:MI:SS\"+08:00\"')"
	    " FROM sms_outbox WHERE sent_at IS NULL AND next_attempt_at <= now()"
	    " ORDER BY id LIMIT " BATCH " FOR UPDATE SKIP LOCKED",
	[STMT_SENT] =
	    "UPDATE sms_outbox SET sent_at = now(), attempts = attempts + 1"
	    " WHERE id = ANY($1::bigint[])",
	[STMT_FAILED] =
	    "UPDATE sms_outbox SET attempts = attempts + 1, last_error = $2,"
	    " next_attempt_at = now() + make_interval(secs =>"
	    "  least(300, power(2, least(attempts, 9))))"
	    " WHERE id = ANY($1::bigint[])",
};

static volatile sig_atomic_t stopping;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * The development sender: one JSON line per message, appended and
 * flushed to disk.  Returns 0, or -1 when the file cannot be written.
 */
static int
send_batch(PGresult *res)
{
	struct mt_buf out = {0};
	json_object *o;
	int fd, i, rc = -1;

	for (i = 0; i < PQntuples(res); i++) {
		o = json_object_new_object();
		json_object_object_add(o, "id",
		    json_object_new_int64(atoll(PQgetvalue(res, i, 0))));
		json_object_object_add(o, "to",
		    json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_object_add(o, "template",
		    json_object_new_string(PQgetvalue(res, i, 2)));
		json_object_object_add(o, "text",
		    json_object_new_string(PQgetvalue(res, i, 3)));
		json_object_object_add(o, "at",
		    json_object_new_string(PQgetvalue(res, i, 4)));
		mt_buf_puts(&out, json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		mt_buf_puts(&out, "\n");
		json_object_put(o);
	}
	fd = open(mt_cfg.sms_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (fd >= 0 && write(fd, out.data, out.len) == (ssize_t)out.len &&
	    fdatasync(fd) == 0)
		rc = 0;
	if (fd >= 0)
		close(fd);
	mt_buf_free(&out);
	return rc;
}

/* The ids of res as a PostgreSQL array literal "{1,2,3}". */
static char *
id_array(PGresult *res)
{
	struct mt_buf b = {0};
	int i;

	mt_buf_puts(&b, "{");
	for (i = 0; i < PQntuples(res); i++)
		mt_buf_printf(&b, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
	mt_buf_puts(&b, "}");
	return b.data;
}

/* Send what is due.  Returns the number sent, or -1 on a failure. */
static int
drain_sms(struct mt_db *db)
{
	PGresult *res, *r2;
	const char *p[2];
	char *ids;
	int n, sent;

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
	p[0] = ids;
	sent = send_batch(res) == 0;
	p[1] = sent ? NULL : strerror(errno);
	PQclear(res);
	r2 = mt_db_exec(db, sent ? STMT_SENT : STMT_FAILED, sent ? 1 : 2, p);
	free(ids);
	if (r2 == NULL || PQresultStatus(r2) != PGRES_COMMAND_OK) {
		PQclear(r2);
		mt_db_rollback(db);
		return -1;
	}
	PQclear(r2);
	if (mt_db_commit(db) != 0)
		return -1;
	if (!sent)
		mt_log_warn("sms sender failed for %d messages", n);
	return sent ? n : -1;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct mt_db db;
	int n = 0;

	if (argc == 3 && strcmp(argv[1], "--config") == 0) {
		if (mt_config_load(argv[2]) != 0)
			return 2;
	} else if (argc != 1) {
		fputs("usage: mtcert-dispatcher [--config FILE]\n", stderr);
		return 2;
	} else if (mt_config_load(NULL) != 0)
		return 2;
	mt_log_init("dispatcher");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	mt_db_setup(&db, mt_cfg.pg_conninfo, stmts, STMT__MAX);
	db.deadline_ms = mt_cfg.pg_deadline_ms;
	mt_log_info("started");
	while (!stopping) {
		while (!stopping && (n = drain_sms(&db)) > 0)
			mt_log_info("sms sent=%d", n);
		/* Idle, or backing off after a failure; a signal cuts it. */
		usleep((n < 0 ? 1000 : POLL_MS) * 1000);
	}
	mt_db_close(&db);
	mt_log_info("stopped");
	return 0;
}
