/*
 * mt_metrics.h -- counters in Prometheus' text format (exposition 0.0.4)
 * for a module pool or the dispatcher; docs/metrics.md lists them.
 *
 * A pool is a master and N forked workers, and a worker may die and be
 * replaced at any time, so the counters live in one anonymous MAP_SHARED
 * region the master maps before it forks: every worker adds to it with
 * C11 atomics (relaxed: each counter only grows), any worker reads the
 * whole pool's figures from it, and a restarted worker finds the
 * counts of the one before.  Its size is fixed at start from the route
 * table: one row per route and one per method for requests that matched
 * no route, each with a slot per status of mt_metrics.c's table and a
 * latency histogram.  Until mt_metrics_init, and in mtcertctl, which
 * never calls it, every counting call is a no-op.
 *
 * Served: nginx's local-only server (127.0.0.1, its own port, never the
 * public one) passes GET /metrics/<module> to the module's socket with
 * the FastCGI parameter MTCERT_METRICS set; a worker answers it with
 * mt_metrics_reply instead of routing it.  No client can set that
 * parameter: request headers arrive as HTTP_*.
 */
#ifndef MT_METRICS_H
#define MT_METRICS_H

#include <stddef.h>

#include "mt_http.h"
#include "mt_util.h"

/* What went wrong with PostgreSQL (label kind of mtcert_db_errors_total). */
enum mt_metrics_db {
	MT_METRICS_DB_CONNECT,  /* no connection, or preparing failed */
	MT_METRICS_DB_LOST,     /* dropped, or no answer in the deadline */
	MT_METRICS_DB_QUERY,    /* a statement failed (logged, SQLSTATE) */
	MT_METRICS_DB__MAX
};

/* The same for Redis (mtcert_redis_errors_total). */
enum mt_metrics_redis {
	MT_METRICS_REDIS_CONNECT,   /* no connection */
	MT_METRICS_REDIS_COMMAND,   /* no answer: timeout, broken socket */
	MT_METRICS_REDIS_REPLY,     /* an error reply (OOM, READONLY...) */
	MT_METRICS_REDIS__MAX
};

/*
 * Map the shared counters of the pool called name (the module's name,
 * or "dispatcher") with one row per route of routes[nroutes] (NULL and 0
 * for none).  Called once by the master, before it forks; name and
 * routes are borrowed for the life of the process.  Returns 0, or -1
 * when the mapping failed (logged; counting stays off).
 */
int         mt_metrics_init(const char *name, const struct mt_route *routes,
                size_t nroutes);
/*
 * A zero-filled anonymous MAP_SHARED mapping of size bytes, for counters
 * that a master's children share (the region above; the dispatcher's
 * own).  Map it before forking.  NULL when it failed (logged).
 */
void       *mt_metrics_shared(size_t size);
/* Count one answered request of the module: its route (NULL: none
 * matched), method, status and how long it took in ms. */
void        mt_metrics_request(const struct mt_req *req, double ms);
/* Count a worker (or the dispatcher's child) that ended and was
 * replaced. */
void        mt_metrics_restart(void);
void        mt_metrics_db_error(enum mt_metrics_db kind);
void        mt_metrics_redis_error(enum mt_metrics_redis kind);
/*
 * Append the pool's counters to out in the text format: the requests and
 * the latency histogram (series that have counted something), worker
 * restarts, database and Redis errors (every kind, zeros too).
 */
void        mt_metrics_render(struct mt_buf *out);
/*
 * When a costly read (a gauges' query) begun at t0 ms, which took took ms
 * (< 0: it failed), is due again: so that it takes at most 1/share of the
 * time, but never sooner than min_ms nor later than max_ms after t0 (took
 * is wall time: one read held up by a loaded machine must not put the
 * next minutes away); after a failed read, min_ms.
 */
double      mt_metrics_next_read(double t0, double took, int share,
                double min_ms, double max_ms);
/* Append a label value to out, escaped as the text format wants. */
void        mt_metrics_label(struct mt_buf *out, const char *value);
/* Answer the request with mt_metrics_render's text, 200 text/plain;
 * version=0.0.4 (503 when counting is off).  Returns 0. */
int         mt_metrics_reply(struct mt_req *req);

#endif
