/*
 * mt_audit.c -- see mt_audit.h.  The anchor files and the archive files
 * are written here only: the dispatcher's daily job and mtcertctl
 * audit-trail call these functions, so the command and the job are one
 * code path.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "mt_audit.h"
#include "mt_log.h"
#include "mt_util.h"

/* Heads anchored per transaction, chains archived per job file. */
#define ANCHOR_BATCH "1000"
#define ARCHIVE_BATCH 500
/* The prev of the very first anchor line. */
#define ANCHOR_GENESIS \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* One key for every process that anchors (pg_try_advisory_xact_lock):
 * two dispatchers never interleave their lines. */
/* The end of an anchor file read for its last line (a line is a few
 * hundred bytes; a month's file may be megabytes, read once a batch). */
#define ANCHOR_TAIL 65536
#define ANCHOR_LOCK "SELECT pg_try_advisory_xact_lock(hashtext(" \
	"'mtcert audit anchor'))"

/* The lowercase hex SHA-256 of len bytes at data into hex. */
static void
sha_hex(const void *data, size_t len, char hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	mt_hex(h, sizeof(h), hex);
}

/* scandir's filter: the anchor files, anchor-YYYY-MM.jsonl. */
static int
is_anchor(const struct dirent *d)
{
	return strncmp(d->d_name, "anchor-", 7) == 0 &&
	    strlen(d->d_name) == 20 &&
	    strcmp(d->d_name + 14, ".jsonl") == 0;
}

/*
 * The hex SHA-256 of the last line of the newest anchor file under dir
 * into prev (ANCHOR_GENESIS when there is none).  0, or -1 when the
 * directory or the file cannot be read.
 */
static int
last_anchor(const char *dir, char prev[65])
{
	struct dirent **names;
	struct mt_buf b = {0};
	char *path;
	int n, rc = 0;
	size_t end;

	memcpy(prev, ANCHOR_GENESIS, 65);
	if ((n = scandir(dir, &names, is_anchor, alphasort)) < 0)
		return -1;
	if (n > 0) {
		path = mt_xasprintf("%s/%s", dir, names[n - 1]->d_name);
		rc = mt_read_file(path, ANCHOR_TAIL, &b);
		free(path);
	}
	if (rc == 0 && b.len > 1) {
		/* The last line: after the last '\n' but the final one. */
		end = b.len - 1;
		while (end > 0 && b.data[end - 1] != '\n')
			end--;
		sha_hex(b.data + end, b.len - 1 - end, prev);
	}
	while (n-- > 0)
		free(names[n]);
	free(names);
	mt_buf_free(&b);
	return rc;
}

/*
 * Append b's lines to <dir>/anchor-<month>.jsonl and fsync it; made
 * 0640 and, when we are root (mtcertctl), the directory's owner's, so
 * the dispatcher appends to it next.  0, or -1 (logged).
 */
static int
append_anchor(const char *dir, const char *month, const struct mt_buf *b)
{
	char *path = mt_xasprintf("%s/anchor-%s.jsonl", dir, month);
	struct stat st;
	int fd, rc = -1;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || stat(dir, &st) != 0 ||
	    (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) != 0) ||
	    write(fd, b->data, b->len) != (ssize_t)b->len || fsync(fd) != 0)
		mt_log_warn("audit anchor: cannot append to %s: %s", path,
		    strerror(errno));
	else
		rc = 0;
	if (fd >= 0 && close(fd) != 0)
		rc = -1;
	free(path);
	return rc;
}

/*
 * Row i of res (audit_anchor_take) as an anchor line after the line
 * whose hash is prev, appended to b with its '\n'; prev becomes its
 * hash.
 */
static void
anchor_line(const PGresult *res, int i, char prev[65], struct mt_buf *b)
{
	static const char *const cols[] = { "tbl", "region", "day", "shard",
	    "seq", "hash", "at" };
	json_object *o = json_object_new_object();
	const char *line;
	size_t k;

	for (k = 0; k < MT_ARRAY_LEN(cols); k++) {
		const char *v = mt_db_get(res, i, cols[k]);

		json_object_object_add(o, cols[k],
		    strcmp(cols[k], "shard") == 0 || strcmp(cols[k], "seq") == 0 ?
		    json_object_new_int64(atoll(v)) : json_object_new_string(v));
	}
	json_object_object_add(o, "prev", json_object_new_string(prev));
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	sha_hex(line, strlen(line), prev);
	mt_buf_puts(b, line);
	mt_buf_puts(b, "\n");
	json_object_put(o);
}

/*
 * One batch of mt_audit_anchor in one transaction.  Returns the heads
 * anchored (0: none due, or another process anchoring), or -1.
 */
static int
anchor_batch(struct mt_db *db, const char *dir)
{
	static const char *const p[1] = { ANCHOR_BATCH };
	PGresult *lock = NULL, *res = NULL;
	struct mt_buf b = {0};
	char prev[65], month[8];
	int i, n = -1;

	if (mt_db_begin(db) != 0)
		return -1;
	if ((lock = mt_db_params_rows(db, ANCHOR_LOCK, 0, NULL)) == NULL)
		goto out;
	n = 0;
	if (strcmp(PQgetvalue(lock, 0, 0), "t") != 0)
		goto out;
	n = -1;
	if ((res = mt_db_params_rows(db, "SELECT * FROM audit_anchor_take("
	    "$1::int)", 1, p)) == NULL)
		goto out;
	if ((n = PQntuples(res)) == 0)
		goto out;
	if (last_anchor(dir, prev) != 0) {
		mt_log_warn("audit anchor: cannot read %s: %s", dir,
		    strerror(errno));
		n = -1;
		goto out;
	}
	for (i = 0; i < n; i++)
		anchor_line(res, i, prev, &b);
	/* The China month it is written in: "YYYY-MM" of `at`. */
	snprintf(month, sizeof(month), "%s", mt_db_get(res, 0, "at"));
	if (append_anchor(dir, month, &b) != 0 || mt_db_commit(db) != 0)
		n = -1;
out:
	if (n <= 0)
		mt_db_rollback(db);
	PQclear(lock);
	PQclear(res);
	mt_buf_free(&b);
	return n;
}

/* See mt_audit.h. */
long long
mt_audit_anchor(struct mt_db *db, const char *dir)
{
	long long total = 0;
	int n;

	while ((n = anchor_batch(db, dir)) > 0)
		total += n;
	return n < 0 ? -1 : total;
}

/*
 * Commit chain i of res (region, day, shard) as archived in file path,
 * whose bytes for it hash to hex.  Returns its rows deleted, -2 when the
 * database refused it (its reason logged and copied to err), -1 when the
 * database failed.
 */
static long long
archive_commit(struct mt_db *db, const PGresult *res, int i,
    const char *hex, const char *path, char *err, size_t size)
{
	const char *p[5] = { PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
	    PQgetvalue(res, i, 2), hex, path };
	PGresult *r = mt_db_params(db, "SELECT audit_archive_commit($1,"
	    " $2::date, $3::smallint, $4, $5)", 5, p);
	const char *why;
	long long n = -1;

	if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK)
		n = atoll(PQgetvalue(r, 0, 0));
	else if (r != NULL && db->conn != NULL &&
	    PQstatus(db->conn) == CONNECTION_OK) {
		why = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		mt_log_warn("audit archive: chain %s %s %s kept: %s", p[0],
		    p[1], p[2], why != NULL ? why : "refused");
		if (err != NULL)
			snprintf(err, size, "%s", why != NULL ? why : "refused");
		n = -2;
	}
	PQclear(r);
	return n;
}

/*
 * The archive text of every chain of res into b, end[i] its end.
 * 0, or -1 when the database failed.
 */
static int
archive_text(struct mt_db *db, const PGresult *res, struct mt_buf *b,
    size_t *end)
{
	PGresult *t;
	int i;

	for (i = 0; i < PQntuples(res); i++) {
		const char *p[3] = { PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2) };

		t = mt_db_params_rows(db, "SELECT audit_archive_text($1,"
		    " $2::date, $3::smallint)", 3, p);
		if (t == NULL)
			return -1;
		mt_buf_puts(b, PQgetvalue(t, 0, 0));
		end[i] = b->len;
		PQclear(t);
	}
	return 0;
}

/*
 * Write b to the new file path (its directory's owner's when we are
 * root; never over an existing file) and read it back whole into back.
 * 0, or -1 (logged) when it cannot or it does not read back as written.
 */
static int
archive_file(const char *path, const struct mt_buf *b, struct mt_buf *back)
{
	char *dir = mt_xstrdup(path), *slash = strrchr(dir, '/');
	struct stat st;
	int rc = -1;

	if (slash != NULL)
		*slash = '\0';
	if (stat(slash != NULL ? dir : ".", &st) != 0 ||
	    mt_write_atomic(path, b->data, 0640, &st, 1) != 0 ||
	    mt_read_file(path, 0, back) != 0)
		mt_log_warn("audit archive: cannot write %s: %s", path,
		    strerror(errno));
	else if (back->len != b->len || memcmp(back->data, b->data, b->len))
		mt_log_warn("audit archive: %s does not read back as written",
		    path);
	else
		rc = 0;
	free(dir);
	return rc;
}

/* See mt_audit.h. */
long long
mt_audit_archive(struct mt_db *db, const char *before, const char *path,
    int limit, struct mt_audit_run *r, char *err, size_t size)
{
	struct mt_buf b = {0}, back = {0};
	char lim[16], hex[65];
	const char *p[2] = { before, lim };
	PGresult *res;
	size_t *end = NULL, at = 0;
	long long n = -1, rows;
	int i;

	snprintf(lim, sizeof(lim), "%d", limit);
	res = mt_db_params_rows(db, "SELECT region, day, shard FROM"
	    " audit_archivable(coalesce($1::date, cn_today()))"
	    " LIMIT nullif($2::int, 0)", 2, p);
	if (res == NULL || (n = PQntuples(res)) == 0)
		goto out;
	end = mt_xcalloc((size_t)n, sizeof(*end));
	if (archive_text(db, res, &b, end) != 0 ||
	    archive_file(path, &b, &back) != 0) {
		n = -1;
		goto out;
	}
	for (i = 0; i < n; i++) {
		sha_hex(back.data + at, end[i] - at, hex);
		at = end[i];
		if ((rows = archive_commit(db, res, i, hex, path, err,
		    size)) == -1) {
			n = -1;
			goto out;
		}
		if (rows == -2)
			r->refused++;
		else {
			r->chains++;
			r->rows += rows;
		}
	}
out:
	PQclear(res);
	mt_buf_free(&b);
	mt_buf_free(&back);
	free(end);
	return n;
}

/* See mt_audit.h. */
int
mt_audit_daily(struct mt_db *db, const char *dir, struct mt_audit_run *r)
{
	PGresult *res;
	char *path;
	long long n;
	int k = 0;

	memset(r, 0, sizeof(*r));
	if ((r->anchored = mt_audit_anchor(db, dir)) < 0)
		return -1;
	res = mt_db_params_rows(db, "SELECT to_char(now() AT TIME ZONE"
	    " 'Asia/Shanghai', 'YYYYMMDD\"T\"HH24MISS')", 0, NULL);
	if (res == NULL)
		return -1;
	do {
		path = mt_xasprintf("%s/archive/access_log-%s-%d.jsonl", dir,
		    PQgetvalue(res, 0, 0), ++k);
		n = mt_audit_archive(db, NULL, path, ARCHIVE_BATCH, r, NULL, 0);
		free(path);
		/* A batch of refused chains alone would come back whole. */
	} while (n == ARCHIVE_BATCH && r->refused == 0);
	PQclear(res);
	return n < 0 ? -1 : 0;
}

/*
 * The anchored heads of file name (lines arr, a JSON array of {n, l})
 * checked against the database (audit_anchor_breaks); each fault
 * printed to out.  Returns the faults, or -1 when the database failed.
 */
static long long
anchor_db_check(struct mt_db *db, const char *name, const char *arr,
    const char *region, FILE *out)
{
	const char *p[2] = { arr, region };
	PGresult *res;
	long long n;
	int i;

	res = mt_db_params_rows(db, "SELECT n, tbl, region, day, shard, what,"
	    " expected, found FROM audit_anchor_breaks($1::jsonb, $2)", 2, p);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n; i++)
		fprintf(out, "BROKEN anchor %s line %s: %s region '%s' day %s"
		    " shard %s: %s: expected %s, found %s\n", name,
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		    PQgetvalue(res, i, 4), PQgetvalue(res, i, 5),
		    PQgetvalue(res, i, 6), PQgetvalue(res, i, 7));
	PQclear(res);
	return n;
}

/*
 * The lines of one anchor file (text, len bytes, named name) checked
 * against each other: each one's prev the hash of the one before it
 * (prev on entry: the hash of the previous file's last line; on return:
 * this file's).  Each line read into arr as {"n": its number, "l": it};
 * each fault printed to out.  Returns the faults.
 */
static long long
anchor_lines(const char *name, const char *text, size_t len, char prev[65],
    struct mt_buf *arr, FILE *out)
{
	const char *line = text, *nl, *got;
	json_object *o, *v;
	char *s;
	long long bad = 0;
	int n = 0;

	for (; line < text + len; line = nl + 1) {
		n++;
		if ((nl = memchr(line, '\n', (size_t)(text + len - line))) ==
		    NULL) {
			fprintf(out, "BROKEN anchor %s line %d: torn (no end of"
			    " line)\n", name, n);
			return bad + 1;
		}
		s = mt_xstrndup(line, (size_t)(nl - line));
		o = json_tokener_parse(s);
		free(s);
		got = o != NULL && json_object_object_get_ex(o, "prev", &v) &&
		    json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : "-";
		if (strcmp(got, prev) != 0) {
			fprintf(out, "BROKEN anchor %s line %d: not the line"
			    " after the one before it (prev): expected %s, found"
			    " %s\n", name, n, prev, got);
			bad++;
		}
		if (o != NULL)
			mt_buf_printf(arr, "%s{\"n\": %d, \"l\": %.*s}",
			    arr->len > 1 ? "," : "", n, (int)(nl - line), line);
		json_object_put(o);
		sha_hex(line, (size_t)(nl - line), prev);
	}
	return bad;
}

/* See mt_audit.h. */
long long
mt_audit_anchor_check(struct mt_db *db, const char *dir, const char *region,
    FILE *out)
{
	struct dirent **names;
	struct mt_buf text = {0}, arr = {0};
	char prev[65] = ANCHOR_GENESIS, *path;
	long long bad = 0, n;
	int i, k;

	if ((k = scandir(dir, &names, is_anchor, alphasort)) < 0)
		return errno == ENOENT ? 0 : -1;
	for (i = 0; i < k && bad >= 0; i++) {
		mt_buf_reset(&text);
		mt_buf_reset(&arr);
		path = mt_xasprintf("%s/%s", dir, names[i]->d_name);
		if (mt_read_file(path, 0, &text) != 0)
			bad = -1;
		free(path);
		if (bad < 0)
			break;
		mt_buf_puts(&arr, "[");
		bad += anchor_lines(names[i]->d_name, text.data != NULL ?
		    text.data : "", text.len, prev, &arr, out);
		mt_buf_puts(&arr, "]");
		n = anchor_db_check(db, names[i]->d_name, arr.data, region,
		    out);
		bad = n < 0 ? -1 : bad + n;
	}
	while (k-- > 0)
		free(names[k]);
	free(names);
	mt_buf_free(&text);
	mt_buf_free(&arr);
	return bad;
}
