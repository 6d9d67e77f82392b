/*
 * mt_policy.c -- read and change policy values; see mt_policy.h.
 * The statements are run unprepared (mt_db_params): a module's prepared
 * statements are its own table, and these are few and small.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mt_http.h"
#include "mt_log.h"
#include "mt_policy.h"
#include "mt_util.h"

/* The int keys asked for ($2, a text[] literal) with their values. */
static const char sql_ints[] =
    "SELECT k.key, policy_value($1, k.key) FROM policy_keys k"
    " WHERE k.key = ANY($2::text[]) AND k.type = 'int'";

/* NULL (no row): no such region; else set_policy's answer. */
static const char sql_set[] =
    "SELECT set_policy(r.code, $2, $3, $4)::text FROM regions r"
    " WHERE r.code = $1";

/* A decimal int in [INT_MIN, INT_MAX]; 0, or -1 when s is not one. */
static int
parse_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < INT_MIN ||
	    v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/*
 * Put each row's value where its key is in keys[].  Returns 0 when every
 * key got an int, or -1 (logged).
 */
static int
fill_ints(PGresult *res, const char *const *keys, int *out, size_t n)
{
	size_t i, found = 0;
	int row;

	for (i = 0; i < n; i++) {
		for (row = 0; row < PQntuples(res); row++)
			if (strcmp(PQgetvalue(res, row, 0), keys[i]) == 0)
				break;
		if (row == PQntuples(res) || PQgetisnull(res, row, 1) ||
		    parse_int(PQgetvalue(res, row, 1), &out[i]) != 0) {
			mt_log_warn("policy %s: no int value", keys[i]);
			continue;
		}
		found++;
	}
	return found == n ? 0 : -1;
}

/*
 * Returns 0 or -1; out[] is filled on 0.  Keys are snake_case names
 * written in C (no quoting needed in the array literal; asserted).
 */
int
mt_policy_ints(struct mt_db *db, const char *region,
    const char *const *keys, int *out, size_t n)
{
	struct mt_buf arr = {0};
	const char *p[2];
	PGresult *res;
	size_t i;
	int rc = -1;

	mt_buf_puts(&arr, "{");
	for (i = 0; i < n; i++) {
		assert(keys[i][strspn(keys[i],
		    "abcdefghijklmnopqrstuvwxyz0123456789_")] == '\0');
		mt_buf_printf(&arr, "%s%s", i ? "," : "", keys[i]);
	}
	mt_buf_puts(&arr, "}");
	p[0] = region != NULL && *region != '\0' ? region : NULL;
	p[1] = arr.data;
	if ((res = mt_db_params_rows(db, sql_ints, 2, p)) != NULL) {
		rc = fill_ints(res, keys, out, n);
		PQclear(res);
	}
	mt_buf_free(&arr);
	return rc;
}

/* Returns 0, or -1 after answering 503. */
int
mt_policy_ints_or_reply(struct mt_req *req, const char *region,
    const char *const *keys, int *out, size_t n)
{
	if (mt_policy_ints(req->db, region, keys, out, n) != 0)
		return mt_reply_unavailable(req, "政策参数");
	return 0;
}

/* See mt_policy.h; why may be NULL. */
enum mt_policy_set
mt_policy_set(struct mt_db *db, const char *region, const char *key,
    const char *value, const char *by, json_object **why)
{
	const char *p[4] = { region, key, value, by };
	enum mt_policy_set rc = MT_POLICY_SET_DOWN;
	PGresult *res = mt_db_params_rows(db, sql_set, 4, p);
	json_object *o;

	if (why != NULL)
		*why = NULL;
	if (res == NULL)
		goto out;
	if (PQntuples(res) == 0) {
		rc = MT_POLICY_SET_NO_REGION;
		goto out;
	}
	if (PQgetisnull(res, 0, 0)) {
		rc = MT_POLICY_SET_OK;
		goto out;
	}
	if ((o = json_tokener_parse(PQgetvalue(res, 0, 0))) == NULL)
		goto out;
	if (why != NULL)
		*why = o;
	else
		json_object_put(o);
	rc = MT_POLICY_SET_REFUSED;
out:
	PQclear(res);
	return rc;
}
