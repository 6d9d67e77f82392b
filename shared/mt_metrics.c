/*
 * mt_metrics.c -- see mt_metrics.h.  The shared region, the counting
 * calls (one relaxed atomic add each: no lock, no system call on the
 * request path) and the text format.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mt_log.h"
#include "mt_metrics.h"

/* The statuses counted by number; any other counts as "other" (the last
 * slot).  Every status the host and mt_error.c answer is here. */
static const int statuses[] = {
	200, 201, 202, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405,
	406, 409, 410, 412, 413, 415, 416, 422, 429, 500, 501, 502, 503, 504,
};
#define NSTATUS (MT_ARRAY_LEN(statuses) + 1)

/* The methods of the rows of requests that matched no route (a method
 * not listed counts as "other", so a client cannot add series). */
static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
};
#define NMETHOD MT_ARRAY_LEN(methods)

/* Upper bounds of the latency buckets, in seconds (Prometheus' default
 * buckets and 1 ms: a catalog read takes well under 1 ms in a worker). */
static const double bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
#define NBUCKET (MT_ARRAY_LEN(bounds) + 1)	/* the last: +Inf */

/* One route's counters (or those of one method's unmatched requests). */
struct row {
	_Atomic uint64_t	status[NSTATUS];
	_Atomic uint64_t	bucket[NBUCKET];	/* not cumulative */
	_Atomic uint64_t	sum_us;
};

struct region {
	_Atomic uint64_t	restarts;
	_Atomic uint64_t	db[MT_METRICS_DB__MAX];
	_Atomic uint64_t	redis[MT_METRICS_REDIS__MAX];
	struct row		rows[];	/* routes, then methods[] */
};

static const char *const db_kinds[MT_METRICS_DB__MAX] = {
	[MT_METRICS_DB_CONNECT] = "connect",
	[MT_METRICS_DB_LOST] = "lost",
	[MT_METRICS_DB_QUERY] = "query",
};
static const char *const redis_kinds[MT_METRICS_REDIS__MAX] = {
	[MT_METRICS_REDIS_CONNECT] = "connect",
	[MT_METRICS_REDIS_COMMAND] = "command",
	[MT_METRICS_REDIS_REPLY] = "reply",
};

static struct region *reg;	/* NULL: counting is off */
static const char *pool;
static const struct mt_route *routes;
static size_t nroutes;

/* See mt_metrics.h. */
void *
mt_metrics_shared(size_t size)
{
	void *p;

	/* Zero-filled by the kernel: every counter starts at 0. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		mt_log_error("metrics: mmap of %zu bytes: %s", size,
		    strerror(errno));
		return NULL;
	}
	return p;
}

/* See mt_metrics.h. */
int
mt_metrics_init(const char *name, const struct mt_route *r, size_t n)
{
	reg = mt_metrics_shared(sizeof(struct region) + (n + NMETHOD) *
	    sizeof(struct row));
	if (reg == NULL)
		return -1;
	pool = name;
	routes = r;
	nroutes = n;
	return 0;
}

/* Add n to the shared counter c (relaxed: a counter only grows, and no
 * other memory is ordered by it). */
static void
add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* The shared counter c as it is now. */
static uint64_t
get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* The row of route r (NULL: the unmatched row of method). */
static struct row *
row_of(const struct mt_route *r, const char *method)
{
	size_t i;

	if (r != NULL && r >= routes && r < routes + nroutes)
		return &reg->rows[r - routes];
	for (i = 0; i < NMETHOD - 1; i++)
		if (method != NULL && strcmp(method, methods[i]) == 0)
			break;
	return &reg->rows[nroutes + i];
}

/* See mt_metrics.h. */
void
mt_metrics_request(const struct mt_req *req, double ms)
{
	struct row *w;
	size_t i, b;

	if (reg == NULL)
		return;
	w = row_of(req->route, req->method);
	for (i = 0; i < MT_ARRAY_LEN(statuses); i++)
		if (statuses[i] == req->status)
			break;
	add(&w->status[i], 1);
	for (b = 0; b < NBUCKET - 1 && ms / 1000.0 > bounds[b]; b++)
		;
	add(&w->bucket[b], 1);
	add(&w->sum_us, ms > 0 ? (uint64_t)(ms * 1000.0) : 0);
}

/* See mt_metrics.h. */
void
mt_metrics_restart(void)
{
	if (reg != NULL)
		add(&reg->restarts, 1);
}

/* See mt_metrics.h. */
void
mt_metrics_db_error(enum mt_metrics_db kind)
{
	if (reg != NULL && kind < MT_METRICS_DB__MAX)
		add(&reg->db[kind], 1);
}

/* See mt_metrics.h. */
void
mt_metrics_redis_error(enum mt_metrics_redis kind)
{
	if (reg != NULL && kind < MT_METRICS_REDIS__MAX)
		add(&reg->redis[kind], 1);
}

/* See mt_metrics.h. */
double
mt_metrics_next_read(double t0, double took, int share, double min_ms,
    double max_ms)
{
	double gap = took < 0 ? 0 : took * share;

	return t0 + (gap < min_ms ? min_ms : gap > max_ms ? max_ms : gap);
}

/* See mt_metrics.h. */
void
mt_metrics_label(struct mt_buf *out, const char *v)
{
	for (; *v != '\0'; v++)
		if (*v == '\\' || *v == '"')
			mt_buf_printf(out, "\\%c", *v);
		else if (*v == '\n')
			mt_buf_puts(out, "\\n");
		else
			mt_buf_append(out, v, 1);
}

/* The labels of row i: module, route ("unmatched" for the rows of no
 * route: a pattern always starts with '/') and method, without the
 * closing brace. */
static void
row_labels(struct mt_buf *out, const char *family, size_t i)
{
	mt_buf_printf(out, "%s{module=\"", family);
	mt_metrics_label(out, pool);
	mt_buf_puts(out, "\",route=\"");
	mt_metrics_label(out, i < nroutes ? routes[i].pattern : "unmatched");
	mt_buf_puts(out, "\",method=\"");
	mt_metrics_label(out, i < nroutes ? routes[i].method :
	    methods[i - nroutes]);
	mt_buf_puts(out, "\"");
}

/* mtcert_http_requests_total: the series that counted something. */
static void
render_requests(struct mt_buf *out)
{
	uint64_t n;
	size_t i, s;

	mt_buf_puts(out, "# HELP mtcert_http_requests_total Requests answered"
	    " by the module, by route pattern, method and status.\n"
	    "# TYPE mtcert_http_requests_total counter\n");
	for (i = 0; i < nroutes + NMETHOD; i++)
		for (s = 0; s < NSTATUS; s++) {
			if ((n = get(&reg->rows[i].status[s])) == 0)
				continue;
			row_labels(out, "mtcert_http_requests_total", i);
			if (s < MT_ARRAY_LEN(statuses))
				mt_buf_printf(out, ",status=\"%d\"} %llu\n",
				    statuses[s], (unsigned long long)n);
			else
				mt_buf_printf(out, ",status=\"other\"} %llu\n",
				    (unsigned long long)n);
		}
}

/* The histogram of row i, cumulative as the format wants, when it
 * counted something. */
static void
render_histogram(struct mt_buf *out, size_t i)
{
	const char *h = "mtcert_http_request_duration_seconds";
	uint64_t c[NBUCKET], total = 0;
	size_t b;
	char name[64];

	for (b = 0; b < NBUCKET; b++)
		total += c[b] = get(&reg->rows[i].bucket[b]);
	if (total == 0)
		return;
	snprintf(name, sizeof(name), "%s_bucket", h);
	for (total = 0, b = 0; b < NBUCKET; b++) {
		total += c[b];
		row_labels(out, name, i);
		if (b < NBUCKET - 1)
			mt_buf_printf(out, ",le=\"%g\"} %llu\n", bounds[b],
			    (unsigned long long)total);
		else
			mt_buf_printf(out, ",le=\"+Inf\"} %llu\n",
			    (unsigned long long)total);
	}
	snprintf(name, sizeof(name), "%s_sum", h);
	row_labels(out, name, i);
	mt_buf_printf(out, "} %.6f\n", get(&reg->rows[i].sum_us) / 1e6);
	snprintf(name, sizeof(name), "%s_count", h);
	row_labels(out, name, i);
	mt_buf_printf(out, "} %llu\n", (unsigned long long)total);
}

/* A counter family of one series per kind, each labelled module and
 * kind, zeros included (an alert's rate() needs the series to exist). */
static void
render_kinds(struct mt_buf *out, const char *family, const char *help,
    const char *const *kinds, _Atomic uint64_t *c, size_t n)
{
	size_t k;

	mt_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", family, help,
	    family);
	for (k = 0; k < n; k++) {
		mt_buf_printf(out, "%s{module=\"", family);
		mt_metrics_label(out, pool);
		mt_buf_printf(out, "\",kind=\"%s\"} %llu\n", kinds[k],
		    (unsigned long long)get(&c[k]));
	}
}

/* See mt_metrics.h. */
void
mt_metrics_render(struct mt_buf *out)
{
	size_t i;

	if (reg == NULL)
		return;
	if (nroutes > 0) {
		render_requests(out);
		mt_buf_puts(out, "# HELP mtcert_http_request_duration_seconds"
		    " Time from accepting a request to its answer sent, in"
		    " the worker.\n"
		    "# TYPE mtcert_http_request_duration_seconds histogram\n");
		for (i = 0; i < nroutes + NMETHOD; i++)
			render_histogram(out, i);
	}
	mt_buf_puts(out, "# HELP mtcert_worker_restarts_total Workers that"
	    " ended and were replaced by their master.\n"
	    "# TYPE mtcert_worker_restarts_total counter\n"
	    "mtcert_worker_restarts_total{module=\"");
	mt_metrics_label(out, pool);
	mt_buf_printf(out, "\"} %llu\n",
	    (unsigned long long)get(&reg->restarts));
	render_kinds(out, "mtcert_db_errors_total", "PostgreSQL failures:"
	    " no connection, a connection lost or timed out, a statement"
	    " failed.", db_kinds, reg->db, MT_METRICS_DB__MAX);
	render_kinds(out, "mtcert_redis_errors_total", "Redis failures: no"
	    " connection, no answer, an error reply.", redis_kinds,
	    reg->redis, MT_METRICS_REDIS__MAX);
}

/* See mt_metrics.h. */
int
mt_metrics_reply(struct mt_req *req)
{
	struct mt_buf b = {0};

	if (reg == NULL)
		return mt_reply_raw(req, 503, "text/plain", "off\n", 4);
	mt_metrics_render(&b);
	mt_req_header(req, "Cache-Control: no-store");
	mt_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8",
	    b.data, b.len);
	mt_buf_free(&b);
	return 0;
}
