/*
 * mt_idem.h -- Idempotency-Key (API.md) for the creating POSTs
 * (MT_R_IDEMPOTENT routes): the first request with a key runs and its
 * answer is kept; the same key and body again replay that answer; the
 * same key with another body is refused; a key whose first request is
 * still running answers 409.  Keys live in PostgreSQL (idempotency_keys),
 * through the host's own prepared statements (mt_db_setup_host).
 */
#ifndef MT_IDEM_H
#define MT_IDEM_H

struct mt_db;
struct mt_req;

/* Give db the statements below, prepared on each of its connections. */
void    mt_idem_db_setup(struct mt_db *db);

/*
 * Before the handler: claim the request's key (none: nothing to do).
 * Returns 1 when the handler should run (req->idem_key is then set when
 * there is a key), 0 after answering: 400 field_invalid (a malformed
 * key), 409 request_in_progress, 422 idempotency_key_reused, 503 (the
 * database), or the kept answer replayed (Idempotent-Replayed: true).
 */
int     mt_idem_begin(struct mt_req *req);

/* After the handler of a claimed key: keep its answer for replays, or
 * release the key after a 5xx so that a retry runs again.  A failure is
 * logged only (the answer has gone). */
void    mt_idem_end(struct mt_req *req);

#endif
