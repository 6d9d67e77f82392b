/*
 * metrics.h -- the dispatcher's figures in Prometheus' text format
 * (docs/metrics.md).  See metrics.c for how they are served.
 */
#ifndef MT_DISPATCHER_METRICS_H
#define MT_DISPATCHER_METRICS_H

#include "mt_db.h"

/* The dispatcher's counters (mtcert_dispatcher_<name>_total). */
enum mt_dispatcher_count {
	MT_DISPATCHER_PUSHES,       /* first pushes of a stage to an expert */
	MT_DISPATCHER_REPUSHES,     /* pushes to the next expert after an
	                               expiry */
	MT_DISPATCHER_EXPIRIES,     /* assignments expired unanswered */
	MT_DISPATCHER_SMS_SENT,     /* messages handed to the sender */
	MT_DISPATCHER_LOOP_ERRORS,  /* turns lost: PostgreSQL down (each
	                               backoff wait), a sender failure */
	MT_DISPATCHER_POOL_WAKES,   /* "pool" wake-ups taken, each starting
	                               a retry of every waiting application */
	MT_DISPATCHER__MAX
};

/*
 * In the master, before it forks: claim this dispatcher's metrics file
 * (the first free of dispatcher.prom, dispatcher-2.prom, ... under
 * <var_dir>/run/metrics, held by a lock for the master's life) and map
 * the counters its children share, so a restarted child goes on
 * counting.  Returns 0, or -1 when either failed (logged; the
 * dispatcher runs on without metrics).
 */
int     mt_dispatcher_metrics_init(void);
/* Add n to counter c (no-op without mt_dispatcher_metrics_init). */
void    mt_dispatcher_count(enum mt_dispatcher_count c, long n);
/*
 * In the child, once a loop turn: at most once a second, read the gauges
 * (timers due, lag, outbox, waiting applications) from PostgreSQL when
 * connected -- never connecting for it -- and write the file again.
 */
void    mt_dispatcher_metrics_tick(struct mt_db *db);

#endif
