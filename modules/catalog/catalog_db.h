/*
 * catalog_db.h -- the catalog module's typed database functions (issue 9
 * B2; kcgi-framework's db.c): catalog.c's handlers call these and never
 * see a statement, a parameter position or a column.
 *
 * The disease catalog and the rejection reasons are read whole into a
 * set of ready response bodies (struct catalog_set) that catalog.c keeps
 * per worker; those loads never reply (a worker with a loaded set keeps
 * serving it while PostgreSQL is down).  catalog_db_reply_institutions
 * follows the _or_reply convention: 0, or -1 after answering 503/500.
 */
#ifndef CATALOG_DB_H
#define CATALOG_DB_H

#include <stddef.h>

#include <json.h>

struct mt_req;

/* The statements, prepared per connection (struct mt_module.stmts). */
enum catalog_stmt {
	CATALOG_STMT_PING,
	CATALOG_STMT_VERSION,
	CATALOG_STMT_DISEASES,
	CATALOG_STMT_REGIONS,
	CATALOG_STMT_INSTITUTIONS,
	CATALOG_STMT_REASONS,
	CATALOG_STMT_CARD,
	/* The quarterly review's published counts (reviews.c). */
	CATALOG_STMT_REVIEWS_PUBLIC,
	/* The public figures (stats.c, sql/fn/90_stats.sql). */
	CATALOG_STMT_STATS_PUBLIC,
	CATALOG_STMT__MAX
};
extern const char *const catalog_db_stmts[CATALOG_STMT__MAX];

/*
 * One cached response: key "" (base list), "<region>" (a region's list),
 * "<code>" or "<code>@<region>" (one disease), CATALOG_REASONS_KEY (the
 * rejection reasons).
 */
struct catalog_entry {
	char            *key;
	char            *body;
	size_t           len;
	char             etag[40];      /* "\"<32 hex>\"" over body */
};

/* No region (six digits) or disease code (a letter first) starts so. */
#define CATALOG_REASONS_KEY "#rejection-reasons"

/* Every entry, sorted by key. */
struct catalog_set {
	struct catalog_entry *e;
	size_t           n;
};

/* The entry of key, or NULL. */
const struct catalog_entry *catalog_set_find(const struct catalog_set *s,
            const char *key);
void    catalog_set_free(struct catalog_set *s);

/* 1 when PostgreSQL answers SELECT 1, else 0. */
int     catalog_db_ping(struct mt_req *req);
/* catalog_version (bumped by triggers on every catalog change): 0, or -1
 * when the database is down or answered an error. */
int     catalog_db_version(struct mt_req *req, long long *version);
/* Build the whole set from PostgreSQL: 0, or -1 (logged, *out
 * untouched) when the database is down or answered an error. */
int     catalog_db_load(struct mt_req *req, struct catalog_set *out);

/* GET /institutions' filters; NULL members are not filtered on. */
struct catalog_inst_query {
	const char      *region;
	const char      *disease;
	const char      *certifying;    /* "t", "f" or NULL */
	const char      *after;         /* the cursor: codes after this one */
	int              limit;         /* the page size */
};

/* Answer one page of institutions ({items, next_cursor}). */
int     catalog_db_reply_institutions(struct mt_req *req,
            const struct catalog_inst_query *q);

/*
 * The database's side of a genuine card (GET /cards/verify): qualification
 * q now -- *current, its JSON {status, designated_institution{code,name},
 * valid_to, ended_on, end_reason_text} (caller frees) -- and in *reason
 * why the card of hospital inst no longer holds today: "ended" (not
 * active, or past its valid_to), "not_yet_valid", "superseded" (another
 * hospital now), or "" when it holds.  1 found, 0 no such qualification,
 * -1 after answering 503/500.
 */
int     catalog_db_card(struct mt_req *req, long long q, const char *inst,
            char **current, char reason[16]);

/* 200 (public, 5 minutes) with the published counts of region's
 * quarterly review of quarter (NULL: the newest drawn); 404
 * region_not_found or review_not_found. */
int     catalog_db_reply_reviews_public(struct mt_req *req,
            const char *region, const char *quarter);


/* The public figures of region (NULL: every region) and month
 * (YYYY-MM, NULL: the last 12) into *ok (the caller puts it): 0, or -1
 * after answering 404 region_not_found, 422 date_out_of_range, 503 or
 * 500. */
int     catalog_db_stats_public(struct mt_req *req, const char *region,
            const char *month, json_object **ok);

#endif
