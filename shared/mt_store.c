/*
 * mt_store.c -- see mt_store.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "mt_files.h"
#include "mt_keys.h"
#include "mt_log.h"
#include "mt_store.h"
#include "mt_util.h"

#define BATCH "100"
/* Plain files sealed per batch: each is read and written whole (10 MiB
 * at most) before the row changes. */
#define SEAL_BATCH "20"

/* Unlink file name (a blob or a plain sha256) under dir; a file already
 * gone is no failure. */
static void
unlink_stored(const char *dir, const char *name)
{
	char rel[80], path[4200];

	mt_files_relpath(name, rel, sizeof(rel));
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (unlink(path) != 0 && errno != ENOENT)
		mt_log_warn("file store: cannot unlink %s: %s", path,
		    strerror(errno));
}

long long
mt_store_shred(struct mt_db *db, const char *dir)
{
	static const char *const p[1] = { BATCH };
	long long total = 0;
	PGresult *res;
	int i, n;

	do {
		res = mt_db_params_rows(db, "SELECT blob, plain FROM "
		    "shred_due_materials($1::int)", 1, p);
		if (res == NULL)
			return -1;
		n = PQntuples(res);
		for (i = 0; i < n; i++) {
			if (!PQgetisnull(res, i, 0))
				unlink_stored(dir, PQgetvalue(res, i, 0));
			else if (!PQgetisnull(res, i, 1))
				unlink_stored(dir, PQgetvalue(res, i, 1));
		}
		PQclear(res);
		total += n;
	} while (n > 0);
	return total;
}

/* s from row i of res (columns blob, key_id, file_key as hex).  0, or
 * -1 when the wrapped key is malformed. */
static int
sealed_of(const PGresult *res, int i, struct mt_files_sealed *s)
{
	const char *hex = mt_db_get(res, i, "file_key");
	size_t got = 0;

	snprintf(s->blob, sizeof(s->blob), "%s", mt_db_get(res, i, "blob"));
	s->kid = atoi(mt_db_get(res, i, "key_id"));
	return sodium_hex2bin(s->wrapped, sizeof(s->wrapped), hex,
	    strlen(hex), NULL, &got, NULL) == 0 && got == sizeof(s->wrapped) ?
	    0 : -1;
}

/* Record s as row id's file and key; `where` narrows the update.
 * 1 updated, 0 not (the row changed meanwhile), -1 database down. */
static int
sealed_save(struct mt_db *db, const char *id,
    const struct mt_files_sealed *s, const char *where)
{
	char kid[16], hex[2 * MT_KEYS_WRAPPED + 3], *sql;
	const char *p[4] = { id, s->blob, kid, hex };
	PGresult *res;
	int n;

	snprintf(kid, sizeof(kid), "%d", s->kid);
	hex[0] = '\\';
	hex[1] = 'x';
	mt_hex(s->wrapped, sizeof(s->wrapped), hex + 2);
	sql = mt_xasprintf("UPDATE materials SET blob = $2, key_id = $3::int,"
	    " file_key = $4::bytea WHERE id = $1::bigint AND %s RETURNING id",
	    where);
	res = mt_db_params_rows(db, sql, 4, p);
	free(sql);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n;
}

int
mt_store_rewrap_batch(struct mt_db *db, int kid)
{
	struct mt_files_sealed s;
	char k[16];
	const char *p[1] = { k };
	PGresult *res = NULL;
	int i, n = -1;

	snprintf(k, sizeof(k), "%d", kid);
	if (mt_db_begin(db) != 0)
		return -1;
	res = mt_db_params_rows(db, "SELECT id, blob, key_id,"
	    " encode(file_key, 'hex') AS file_key FROM materials"
	    " WHERE key_id IS NOT NULL AND key_id <> $1::int ORDER BY id"
	    " LIMIT " BATCH " FOR UPDATE SKIP LOCKED", 1, p);
	if (res == NULL)
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		if (sealed_of(res, i, &s) != 0 ||
		    mt_files_rewrap(&s, kid) != 0) {
			mt_log_error("keys: material %s: its file key does not "
			    "unwrap", mt_db_get(res, i, "id"));
			goto out;
		}
		if (sealed_save(db, mt_db_get(res, i, "id"), &s,
		    "key_id IS NOT NULL") < 0)
			goto out;
	}
	n = PQntuples(res);
out:
	PQclear(res);
	if (n < 0 || mt_db_commit(db) != 0) {
		mt_db_rollback(db);
		return -1;
	}
	return n;
}

long long
mt_store_key_uses(struct mt_db *db, int kid)
{
	char k[16];
	const char *p[1] = { k };
	PGresult *res;
	long long n;

	snprintf(k, sizeof(k), "%d", kid);
	res = mt_db_params_rows(db, "SELECT count(*) FROM materials"
	    " WHERE key_id = $1::int", 1, p);
	if (res == NULL)
		return -1;
	n = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* Unlink plain file sha under dir when no plain row still needs it.
 * 0, or -1 when the database failed. */
static int
plain_release(struct mt_db *db, const char *dir, const char *sha)
{
	const char *p[1] = { sha };
	PGresult *res;
	int used;

	res = mt_db_params_rows(db, "SELECT 1 FROM materials WHERE sha256 = $1"
	    " AND blob IS NULL AND shredded_at IS NULL LIMIT 1", 1, p);
	if (res == NULL)
		return -1;
	used = PQntuples(res) > 0;
	PQclear(res);
	if (!used)
		unlink_stored(dir, sha);
	return 0;
}

/* Seal row id's plain file sha under dir and record it.  1 sealed, 0
 * skipped (its file is missing, or the row changed), -1 failure. */
static int
seal_one(struct mt_db *db, const char *dir, const char *id, const char *sha)
{
	struct mt_files_sealed s;
	char rel[80], path[4200];
	int fd, rc;

	mt_files_relpath(sha, rel, sizeof(rel));
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		mt_log_error("files encrypt: material %s: %s: %s", id, path,
		    strerror(errno));
		return errno == ENOENT ? 0 : -1;
	}
	rc = mt_files_seal_fd(dir, fd, &s);
	close(fd);
	if (rc != 0) {
		mt_log_error("files encrypt: material %s: %s", id,
		    strerror(errno));
		return -1;
	}
	rc = sealed_save(db, id, &s, "blob IS NULL AND shredded_at IS NULL");
	if (rc <= 0)		/* not recorded: the sealed copy goes */
		unlink_stored(dir, s.blob);
	if (rc == 1 && plain_release(db, dir, sha) != 0)
		return -1;
	return rc;
}

int
mt_store_seal_batch(struct mt_db *db, const char *dir, long long *after,
    int *rows)
{
	char from[24];
	const char *p[1] = { from };
	PGresult *res;
	int i, rc, n = 0;

	snprintf(from, sizeof(from), "%lld", *after);
	res = mt_db_params_rows(db, "SELECT id, sha256 FROM materials"
	    " WHERE blob IS NULL AND shredded_at IS NULL AND id > $1::bigint"
	    " ORDER BY id LIMIT " SEAL_BATCH, 1, p);
	if (res == NULL)
		return -1;
	*rows = PQntuples(res);
	for (i = 0; i < *rows; i++) {
		rc = seal_one(db, dir, PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1));
		if (rc < 0) {
			n = -1;
			break;
		}
		n += rc;
		*after = atoll(PQgetvalue(res, i, 0));
	}
	PQclear(res);
	return n;
}
