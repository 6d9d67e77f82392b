/*
 * mt_policy.h -- a region's policy values (the numbers of REQUIREMENTS.md
 * and the session / login limits) and the one way to change one.
 *
 * One source for each rule: the keys, their types, ranges and defaults
 * live in the database only (policy_keys, loaded from
 * sql/ref/020_policies.sql); no default is written in C.  A value is
 * resolved by the SQL function policy_value (the region's value, else the
 * key's default), the one the SQL rules use too; a change goes through
 * the SQL function set_policy, for the API and mtcertctl alike.
 */
#ifndef MT_POLICY_H
#define MT_POLICY_H

#include <stddef.h>

#include <json-c/json.h>

#include "mt_db.h"

struct mt_req;

/*
 * Read the n int policy keys of region into out[0..n-1].  region NULL or
 * "" reads the keys' defaults (the national value: limits that must not
 * depend on who is asking).  Returns 0, or -1 when the database did not
 * answer or a key is unknown or not an int (a bug of the caller: logged).
 */
int     mt_policy_ints(struct mt_db *db, const char *region,
            const char *const *keys, int *out, size_t n);
/* The same; on failure answers 503 and returns -1. */
int     mt_policy_ints_or_reply(struct mt_req *req, const char *region,
            const char *const *keys, int *out, size_t n);

enum mt_policy_set {
	MT_POLICY_SET_DOWN = -1,    /* the database did not answer */
	MT_POLICY_SET_OK = 0,
	MT_POLICY_SET_NO_REGION,    /* no such region */
	MT_POLICY_SET_REFUSED       /* unknown key or bad value: see *why */
};

/*
 * Set key of region to value, recorded as changed by `by`, through the
 * SQL function set_policy (its checks of type and range).  On
 * MT_POLICY_SET_REFUSED *why (when why is not NULL) is set_policy's
 * refusal {"error", "field", "args"}, owned by the caller: a handler
 * answers it with mt_reply_refusal, a tool prints mt_refusal_text (the
 * error table's text either way).  Otherwise *why is NULL.
 */
enum mt_policy_set mt_policy_set(struct mt_db *db, const char *region,
            const char *key, const char *value, const char *by,
            json_object **why);

#endif
