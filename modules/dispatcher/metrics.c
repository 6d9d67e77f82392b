/*
 * metrics.c -- the dispatcher's figures (see metrics.h, docs/metrics.md).
 *
 * Served as a file, not a listener: once a second the child writes
 * <var_dir>/run/metrics/dispatcher.prom (a temporary file renamed over
 * it, so a reader never sees half of one) and nginx's local-only server
 * answers GET /metrics/dispatcher with it.  Why a file: the dispatcher's
 * loop stays one blocking loop with no socket to watch, a scrape costs
 * it nothing, and a child that stalls stops refreshing the file, which
 * the heartbeat gauge in it shows (an alert of docs/alerts.yml).
 *
 * Several dispatchers may run: each master claims the first free file
 * name with a lock (flock) it holds until it ends, so dispatcher-2.prom
 * is the second one's.  A master that stops cleanly removes its file
 * (nginx then answers 404: the target is down); one killed leaves it,
 * and its heartbeat grows old.  The counters live in a MAP_SHARED region the
 * master maps before forking (mt_metrics_shared), so a restarted child
 * goes on from its predecessor's counts; mt_metrics.c's own region
 * (module "dispatcher") counts the child's restarts and the database
 * and Redis errors.
 *
 * The gauges come from PostgreSQL, the record of truth, not from the
 * Redis timer sets (a cache of it, rebuilt from it): timers due are the
 * pushed assignments past their accept deadline, whatever Redis holds.
 * Each count touches only the rows it counts (partial indexes
 * assignments_pushed_deadline_id, sms_outbox_unsent, applications_push):
 * next to nothing when all is well, the backlog itself when not -- 200-
 * 280 ms measured here under load with 100,000 timers due, 100,000
 * unsent messages and 33,500 waiting applications.  So the query runs
 * at most GAUGE_SHARE of the time: every second while it is quick, every
 * few seconds during such a backlog, never more than GAUGE_MAX_MS apart
 * (the file is still written every second, with the gauges last read).
 */
#include <sys/file.h>

#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "mt_config.h"
#include "mt_log.h"
#include "mt_metrics.h"
#include "mt_util.h"

#define TICK_MS 1000
/* The gauges' query: at most 1/GAUGE_SHARE of the dispatcher's time,
 * but read again at least every GAUGE_MAX_MS (mt_metrics_next_read). */
#define GAUGE_SHARE 50
#define GAUGE_MAX_MS 10000
/* How many dispatchers may each have their own file. */
#define MAX_SLOTS 64

static const char *const counters[MT_DISPATCHER__MAX][2] = {
	[MT_DISPATCHER_PUSHES] = { "mtcert_dispatcher_pushes_total",
	    "First pushes of an application's stage to an expert." },
	[MT_DISPATCHER_REPUSHES] = { "mtcert_dispatcher_repushes_total",
	    "Pushes to the next expert after an assignment expired." },
	[MT_DISPATCHER_EXPIRIES] = { "mtcert_dispatcher_expiries_total",
	    "Assignments expired unanswered at their accept deadline." },
	[MT_DISPATCHER_SMS_SENT] = { "mtcert_dispatcher_sms_sent_total",
	    "SMS messages of the outbox handed to the sender." },
	[MT_DISPATCHER_LOOP_ERRORS] = { "mtcert_dispatcher_loop_errors_total",
	    "Loop turns lost: a wait for PostgreSQL, a failed send." },
	[MT_DISPATCHER_POOL_WAKES] = { "mtcert_dispatcher_pool_wakes_total",
	    "Wake-ups saying the expert pool changed (a retry of all waiting)." },
};

/* The gauges: metric name, column of GAUGES_SQL, help. */
static const struct gauge {
	const char *name, *col, *help;
} gauges[] = {
	{ "mtcert_dispatcher_timers_due", "due",
	  "Pushed assignments past their accept deadline, not expired yet." },
	{ "mtcert_dispatcher_lag_seconds", "lag",
	  "Age of the oldest due timer (0 when none is due)." },
	{ "mtcert_dispatcher_outbox_unsent", "unsent",
	  "SMS messages of the outbox not sent yet." },
	{ "mtcert_dispatcher_outbox_oldest_seconds", "oldest",
	  "Age of the oldest unsent SMS message (0 when none)." },
	{ "mtcert_dispatcher_waiting_applications", "waiting",
	  "Applications whose stage waits for an expert to be pushed." },
	{ "mtcert_dispatcher_unassigned_applications", "unassigned",
	  "Of those, the ones no eligible expert was found for." },
};

#define GAUGES_SQL \
	"SELECT t.due, t.lag, o.unsent, o.oldest, w.waiting, w.unassigned" \
	" FROM (SELECT count(*) AS due, coalesce(extract(epoch FROM" \
	"   now() - min(accept_deadline)), 0) AS lag FROM assignments" \
	"   WHERE state = 'pushed' AND accept_deadline <= now()) t," \
	" (SELECT count(*) AS unsent, coalesce(extract(epoch FROM" \
	"   now() - min(created_at)), 0) AS oldest FROM sms_outbox" \
	"   WHERE sent_at IS NULL) o," \
	" (SELECT count(*) AS waiting, count(*) FILTER (WHERE" \
	"   unassigned_since IS NOT NULL) AS unassigned FROM applications" \
	"   WHERE push_stage IS NOT NULL) w"

static _Atomic uint64_t *counts;	/* [MT_DISPATCHER__MAX], shared */
static char *path;			/* the metrics file; NULL: none */

/*
 * Claim the first free slot's lock under dir and set path to its file.
 * The lock's descriptor stays open (and inherited by the children)
 * until the process ends.  0, or -1 (logged) when none could be had.
 */
static int
claim_slot(const char *dir)
{
	char *lock, suffix[16] = "";
	int i, fd;

	for (i = 1; i <= MAX_SLOTS; i++) {
		if (i > 1)
			snprintf(suffix, sizeof(suffix), "-%d", i);
		lock = mt_xasprintf("%s/dispatcher%s.lock", dir, suffix);
		fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
		free(lock);
		if (fd < 0)
			break;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			path = mt_xasprintf("%s/dispatcher%s.prom", dir,
			    suffix);
			return 0;
		}
		close(fd);
	}
	mt_log_warn("metrics: no file of mine under %s; none written", dir);
	return -1;
}

/* At the master's exit (the child ends with _exit, which skips it):
 * no file left to pass for a live dispatcher. */
static void
remove_file(void)
{
	if (path != NULL)
		unlink(path);
}

/* See metrics.h. */
int
mt_dispatcher_metrics_init(void)
{
	char *dir = mt_xasprintf("%s/run/metrics", mt_cfg.var_dir);
	int rc = 0;

	if (mt_metrics_init("dispatcher", NULL, 0) != 0 ||
	    (counts = mt_metrics_shared(sizeof(*counts) *
	    MT_DISPATCHER__MAX)) == NULL || claim_slot(dir) != 0)
		rc = -1;
	else
		atexit(remove_file);
	free(dir);
	return rc;
}

/* See metrics.h. */
void
mt_dispatcher_count(enum mt_dispatcher_count c, long n)
{
	if (counts != NULL && c < MT_DISPATCHER__MAX && n > 0)
		atomic_fetch_add_explicit(&counts[c], (uint64_t)n,
		    memory_order_relaxed);
}

/*
 * Read the gauges from db into *text when they are due (see the top
 * comment), and leave *text as it was otherwise.  Emptied when the
 * database is not connected or the query failed: an absent gauge is
 * unknown, never an old figure passed off as current.
 */
static void
read_gauges(struct mt_db *db, struct mt_buf *text)
{
	static double next;
	double t0 = mt_now_ms();
	PGresult *res;
	size_t i;

	if (db->conn == NULL) {
		mt_buf_reset(text);	/* never connect: pg_gate does */
		return;
	}
	if (t0 < next)
		return;
	mt_buf_reset(text);
	res = mt_db_params_rows(db, GAUGES_SQL, 0, NULL);
	next = mt_metrics_next_read(t0, res == NULL ? -1 : mt_now_ms() - t0,
	    GAUGE_SHARE, TICK_MS, GAUGE_MAX_MS);
	if (res == NULL)
		return;
	for (i = 0; i < MT_ARRAY_LEN(gauges); i++)
		mt_buf_printf(text, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n",
		    gauges[i].name, gauges[i].help, gauges[i].name,
		    gauges[i].name, mt_db_get(res, 0, gauges[i].col));
	PQclear(res);
}

/* Replace the metrics file by out's text through a temporary file and
 * rename.  A failure is logged once until a write succeeds again. */
static void
write_file(const struct mt_buf *out)
{
	static int failing;
	char *tmp = mt_xasprintf("%s.tmp", path);
	int fd, ok;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	ok = fd >= 0 && write(fd, out->data, out->len) == (ssize_t)out->len;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (ok && rename(tmp, path) != 0)
		ok = 0;
	if (!ok) {
		if (!failing)
			mt_log_warn("metrics: cannot write %s", path);
		unlink(tmp);
	}
	failing = !ok;
	free(tmp);
}

/* See metrics.h. */
void
mt_dispatcher_metrics_tick(struct mt_db *db)
{
	static struct mt_buf gauge_text;
	static double next;
	struct mt_buf out = {0};
	struct timespec now;
	size_t i;

	if (path == NULL || counts == NULL || mt_now_ms() < next)
		return;
	next = mt_now_ms() + TICK_MS;
	mt_metrics_render(&out);
	for (i = 0; i < MT_DISPATCHER__MAX; i++)
		mt_buf_printf(&out, "# HELP %s %s\n# TYPE %s counter\n"
		    "%s %llu\n", counters[i][0], counters[i][1],
		    counters[i][0], counters[i][0], (unsigned long long)
		    atomic_load_explicit(&counts[i], memory_order_relaxed));
	read_gauges(db, &gauge_text);
	if (gauge_text.len > 0)
		mt_buf_puts(&out, gauge_text.data);
	clock_gettime(CLOCK_REALTIME, &now);
	mt_buf_printf(&out, "# HELP mtcert_dispatcher_heartbeat_timestamp_"
	    "seconds When the dispatcher last wrote these figures.\n"
	    "# TYPE mtcert_dispatcher_heartbeat_timestamp_seconds gauge\n"
	    "mtcert_dispatcher_heartbeat_timestamp_seconds %.3f\n",
	    now.tv_sec + now.tv_nsec / 1e9);
	write_file(&out);
	mt_buf_free(&out);
}
