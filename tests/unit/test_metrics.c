/*
 * test_metrics.c -- mt_metrics (mt_metrics.h): label escaping as a table,
 * then requests counted on a small route table and the text rendered
 * from them (the statuses, the unmatched rows, the cumulative histogram,
 * the error kinds).  tests/api/test_metrics.py checks the same counters
 * through nginx on the real pools.
 */
#include <string.h>

#include "mt_http.h"
#include "mt_metrics.h"
#include "mt_util.h"
#include "unit.h"

static const struct {
	const char *in, *out;
} labels[] = {
	{ "", "" },
	{ "/diseases/{code}", "/diseases/{code}" },
	{ "a\"b", "a\\\"b" },
	{ "a\\b", "a\\\\b" },
	{ "a\nb", "a\\nb" },
	{ "\\\"\n", "\\\\\\\"\\n" },
};

static void
test_labels(void)
{
	struct mt_buf b = {0};
	size_t i;

	for (i = 0; i < MT_ARRAY_LEN(labels); i++) {
		mt_buf_reset(&b);
		mt_metrics_label(&b, labels[i].in);
		CHECK(strcmp(b.data != NULL ? b.data : "", labels[i].out) == 0,
		    "label %s gave %s", unit_str(labels[i].in),
		    unit_str(b.data));
	}
	mt_buf_free(&b);
}

static const struct mt_route routes[] = {
	{ "GET", "/things/{id}", NULL, 0, 0, NULL, 0 },
	{ "POST", "/things", NULL, 0, 0, NULL, 0 },
};

/* Count one request of route r (NULL: none), method m, status s, ms. */
static void
count(const struct mt_route *r, const char *m, int s, double ms)
{
	struct mt_req req;

	memset(&req, 0, sizeof(req));
	req.route = r;
	req.method = m;
	req.status = s;
	mt_metrics_request(&req, ms);
}

/* The lines the rendered text must hold, whole. */
static const char *const want[] = {
	"mtcert_http_requests_total{module=\"t\",route=\"/things/{id}\","
	    "method=\"GET\",status=\"200\"} 2\n",
	"mtcert_http_requests_total{module=\"t\",route=\"/things/{id}\","
	    "method=\"GET\",status=\"other\"} 1\n",
	"mtcert_http_requests_total{module=\"t\",route=\"unmatched\","
	    "method=\"other\",status=\"404\"} 1\n",
	"mtcert_http_requests_total{module=\"t\",route=\"unmatched\","
	    "method=\"DELETE\",status=\"405\"} 1\n",
	"mtcert_http_request_duration_seconds_bucket{module=\"t\","
	    "route=\"/things/{id}\",method=\"GET\",le=\"0.001\"} 1\n",
	"mtcert_http_request_duration_seconds_bucket{module=\"t\","
	    "route=\"/things/{id}\",method=\"GET\",le=\"0.005\"} 2\n",
	"mtcert_http_request_duration_seconds_bucket{module=\"t\","
	    "route=\"/things/{id}\",method=\"GET\",le=\"10\"} 2\n",
	"mtcert_http_request_duration_seconds_bucket{module=\"t\","
	    "route=\"/things/{id}\",method=\"GET\",le=\"+Inf\"} 3\n",
	"mtcert_http_request_duration_seconds_sum{module=\"t\","
	    "route=\"/things/{id}\",method=\"GET\"} 20.003500\n",
	"mtcert_http_request_duration_seconds_count{module=\"t\","
	    "route=\"/things/{id}\",method=\"GET\"} 3\n",
	"mtcert_worker_restarts_total{module=\"t\"} 1\n",
	"mtcert_db_errors_total{module=\"t\",kind=\"lost\"} 2\n",
	"mtcert_db_errors_total{module=\"t\",kind=\"query\"} 0\n",
	"mtcert_redis_errors_total{module=\"t\",kind=\"reply\"} 1\n",
};

/* Series that must not be there: what counted nothing, the client's
 * own method. */
static const char *const unwanted[] = {
	"route=\"/things\"",
	"BREW",
	"status=\"201\"",
};

static void
test_counting(void)
{
	struct mt_buf b = {0};
	size_t i;

	/* Before init every call is a no-op and nothing is rendered. */
	count(&routes[0], "GET", 200, 1);
	mt_metrics_db_error(MT_METRICS_DB_LOST);
	mt_metrics_render(&b);
	CHECK(b.len == 0, "rendered before init: %s", unit_str(b.data));

	CHECK(mt_metrics_init("t", routes, MT_ARRAY_LEN(routes)) == 0,
	    "init");
	count(&routes[0], "GET", 200, 0.5);
	count(&routes[0], "HEAD", 200, 3);
	count(&routes[0], "GET", 299, 20000);	/* status "other" */
	count(NULL, "BREW", 404, 1);			/* method "other" */
	count(NULL, "DELETE", 405, 1);
	mt_metrics_restart();
	mt_metrics_db_error(MT_METRICS_DB_LOST);
	mt_metrics_db_error(MT_METRICS_DB_LOST);
	mt_metrics_redis_error(MT_METRICS_REDIS_REPLY);
	mt_metrics_render(&b);
	for (i = 0; i < MT_ARRAY_LEN(want); i++)
		CHECK(strstr(b.data, want[i]) != NULL, "missing %s",
		    unit_str(want[i]));
	for (i = 0; i < MT_ARRAY_LEN(unwanted); i++)
		CHECK(strstr(b.data, unwanted[i]) == NULL, "has %s",
		    unit_str(unwanted[i]));
	mt_buf_free(&b);
}

/* The gauges' schedule: 1/50 of the time, between 1 s and 10 s. */
static void
test_next_read(void)
{
	CHECK(mt_metrics_next_read(5000, 4, 50, 1000, 10000) == 6000,
	    "a quick read (4 ms): the next second");
	CHECK(mt_metrics_next_read(5000, 100, 50, 1000, 10000) == 10000,
	    "a 100 ms read: 5 s later (1/50 of the time)");
	CHECK(mt_metrics_next_read(5000, 2000, 50, 1000, 10000) == 15000,
	    "a read held up 2 s: 10 s later, not 100 s");
	CHECK(mt_metrics_next_read(5000, 600000, 50, 1000, 10000) == 15000,
	    "a read held up 10 min: still 10 s later");
	CHECK(mt_metrics_next_read(5000, -1, 50, 1000, 10000) == 6000,
	    "a failed read: the next second");
}

int
main(void)
{
	test_labels();
	test_counting();
	test_next_read();
	return unit_done();
}
