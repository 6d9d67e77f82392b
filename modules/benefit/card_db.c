/*
 * card_db.c -- the e-card's statement and its typed function (see
 * card_db.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "mt_db.h"
#include "mt_util.h"

#include "card_db.h"

/* The caller's own qualification: another person's is no row (404). */
static const char card_sql[] =
    "SELECT qualification_json(x.id)::text AS q, cn_today()::text AS today"
    " FROM qualifications x WHERE x.id = $1::bigint AND x.person_id = $2";

/* See card_db.h. */
int
card_db_get(struct mt_req *req, const char *id, long long person,
    struct card_row *row)
{
	char pid[24];
	const char *p[2] = { id, pid };
	PGresult *res;
	int found;

	snprintf(pid, sizeof(pid), "%lld", person);
	if ((res = mt_db_params_or_reply(req, card_sql, 2, p)) == NULL)
		return -1;
	found = PQntuples(res) == 1;
	if (found) {
		row->json = mt_xstrdup(mt_db_get(res, 0, "q"));
		mt_db_copy(res, 0, "today", row->today, sizeof(row->today));
	}
	PQclear(res);
	return found;
}
