/*
 * mt_idem.c -- Idempotency-Key; see mt_idem.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mt_db.h"
#include "mt_error.h"
#include "mt_http.h"
#include "mt_idem.h"
#include "mt_log.h"
#include "mt_parse.h"

enum stmt {
	STMT_CLAIM,
	STMT_KEEP,
	STMT_RELEASE,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* Claim key $2 of user $1 for the request whose hash is $3; an
	 * abandoned claim (a worker died) expires after 60 s.  One row:
	 * claimed (1 when this request holds the key now), same_request
	 * (NULL when the first claim is not visible yet), status (0 while
	 * it runs) and the kept body. */
	[STMT_CLAIM] =
	    "WITH c AS (INSERT INTO idempotency_keys"
	    " (user_id, key, request_hash, status, body)"
	    " VALUES ($1, $2, $3, 0, '') ON CONFLICT (user_id, key) DO UPDATE"
	    " SET created_at = now() WHERE idempotency_keys.status = 0"
	    " AND idempotency_keys.request_hash = $3"
	    " AND idempotency_keys.created_at < now() - interval '60 seconds'"
	    " RETURNING 1)"
	    " SELECT (SELECT count(*) FROM c) AS claimed,"
	    " k.request_hash = $3 AS same_request, k.status, k.body"
	    " FROM (SELECT 1) one LEFT JOIN idempotency_keys k"
	    " ON k.user_id = $1 AND k.key = $2",
	/* Keep answer $3 (status) $4 (body) of key $2 of user $1. */
	[STMT_KEEP] =
	    "UPDATE idempotency_keys SET status = $3, body = $4"
	    " WHERE user_id = $1 AND key = $2",
	/* Release key $2 of user $1 still being claimed. */
	[STMT_RELEASE] =
	    "DELETE FROM idempotency_keys"
	    " WHERE user_id = $1 AND key = $2 AND status = 0",
};

/* See mt_idem.h. */
void
mt_idem_db_setup(struct mt_db *db)
{
	mt_db_setup_host(db, stmts, STMT__MAX);
}

/* The SHA-256 of the request's path and body, in hex, into hash[65]. */
static void
request_hash(const struct mt_req *req, char *hash)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)req->path,
	    strlen(req->path) + 1);
	if (req->body_len > 0)
		crypto_hash_sha256_update(&st, (const unsigned char *)req->body,
		    req->body_len);
	crypto_hash_sha256_final(&st, h);
	mt_hex(h, sizeof(h), hash);
}

/*
 * Answer a key that another request holds, from the CLAIM row of res:
 * 409 while it runs, 422 for another body, else the kept answer.
 */
static void
reply_held(struct mt_req *req, const PGresult *res)
{
	const char *same = mt_db_get(res, 0, "same_request");
	int status = atoi(mt_db_get(res, 0, "status"));
	const char *body = mt_db_get(res, 0, "body");

	if (mt_db_isnull(res, 0, "same_request") ||
	    (strcmp(same, "t") == 0 && status == 0)) {
		/* Still running (its claim may not even be visible to this
		 * snapshot yet). */
		mt_req_header(req, "Retry-After: 1");
		mt_reply_err(req, MT_E_REQUEST_IN_PROGRESS, "Idempotency-Key");
	} else if (strcmp(same, "t") != 0)
		mt_reply_err(req, MT_E_IDEMPOTENCY_KEY_REUSED,
		    "Idempotency-Key");
	else {
		mt_req_header(req, "Idempotent-Replayed: true");
		mt_reply_raw(req, status, "application/json; charset=utf-8",
		    body, strlen(body));
	}
}

/* See mt_idem.h. */
int
mt_idem_begin(struct mt_req *req)
{
	const char *key = mt_req_env(req, "HTTP_IDEMPOTENCY_KEY");
	char hash[65], uid[24];
	const char *p[3];
	PGresult *res;
	int run;

	if (key == NULL)
		return 1;
	if (!mt_parse_idem_key(key)) {
		mt_reply_err(req, MT_E_FIELD_INVALID, "Idempotency-Key",
		    "Idempotency-Key", "（1–64 个字母、数字、- 或 _）");
		return 0;
	}
	request_hash(req, hash);
	snprintf(uid, sizeof(uid), "%lld", req->session->user_id);
	p[0] = uid;
	p[1] = key;
	p[2] = hash;
	res = mt_db_exec_host(req->db, STMT_CLAIM, 3, p);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		PQclear(res);
		mt_reply_unavailable(req, "数据库");
		return 0;
	}
	run = strcmp(mt_db_get(res, 0, "claimed"), "1") == 0;
	if (run)
		req->idem_key = key;
	else
		reply_held(req, res);
	PQclear(res);
	return run;
}

/* See mt_idem.h. */
void
mt_idem_end(struct mt_req *req)
{
	char uid[24], status[8];
	const char *p[4];
	PGresult *res;

	snprintf(uid, sizeof(uid), "%lld", req->session->user_id);
	snprintf(status, sizeof(status), "%d", req->status);
	p[0] = uid;
	p[1] = req->idem_key;
	p[2] = status;
	p[3] = req->reply_body.data != NULL ? req->reply_body.data : "";
	if (req->status >= 500)
		res = mt_db_exec_host(req->db, STMT_RELEASE, 2, p);
	else
		res = mt_db_exec_host(req->db, STMT_KEEP, 4, p);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		mt_log_warn("rid=%s idempotency key not recorded",
		    req->request_id);
	PQclear(res);
}
