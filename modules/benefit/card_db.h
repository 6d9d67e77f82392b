/*
 * card_db.h -- the e-card's one read (card.c): the caller's own
 * qualification as qualification_json() gives it, and today's date in
 * China.  Its statement is run unprepared (mt_db_params_or_reply), so it
 * needs no row in the module's table (benefit_db.h).
 */
#ifndef CARD_DB_H
#define CARD_DB_H

struct mt_req;

/* What the card shows: the qualification's JSON text and the day. */
struct card_row {
	char   *json;           /* qualification_json; caller frees */
	char    today[11];      /* YYYY-MM-DD, Asia/Shanghai */
};

/*
 * Read qualification id of person into *row.  1 found, 0 not the
 * person's or no such one (the caller answers 404), -1 after answering
 * 503/500.
 */
int     card_db_get(struct mt_req *req, const char *id, long long person,
            struct card_row *row);

#endif
