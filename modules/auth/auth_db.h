/*
 * auth_db.h -- the auth module's typed database functions (STYLE.md,
 * kcgi-framework's db.c): the statements, their parameters and their
 * columns live in auth_db.c only; the handlers call these and never
 * touch libpq.
 *
 * Convention (_or_reply): each function returns what it says, or answers
 * the request itself (503 database down, 500 a bug) and returns -1.
 */
#ifndef AUTH_DB_H
#define AUTH_DB_H

#include <stddef.h>

#include <json-c/json.h>

struct mt_req;
struct mt_session;

/* The prepared statements (auth_db_stmts, wired into mt_module). */
enum stmt {
	STMT_USER_BY_LOGIN,
	STMT_ADDRESS_KNOWN,
	STMT_ADDRESS_OK,
	STMT_PHONE_ADDRESS_KNOWN,
	STMT_ME,
	STMT_PHONE_REGION,
	STMT_SMS_QUEUE,
	STMT_PERSON_MATCH,
	STMT_INSURED_USER,
	STMT__MAX
};

extern const char *const auth_db_stmts[STMT__MAX];

/* The region of the first insured person with this phone into
 * region[size].  1 found, 0 unknown phone ("" then), -1. */
int     auth_db_phone_region(struct mt_req *req, const char *phone,
            char *region, size_t size);
/* Queue the sign-in code SMS text to phone (sms_outbox).  0 or -1. */
int     auth_db_queue_sms(struct mt_req *req, const char *phone,
            const char *text);
/* The insured person with this phone, id number and name into s
 * (person_id, region).  1 found, 0 no such person, -1. */
int     auth_db_person_match(struct mt_req *req, const char *phone,
            const char *id_number, const char *name, struct mt_session *s);
/* The account of insured person s->person_id in s->region (made at the
 * first sign-in) into s->user_id.  1, 0 when it may not sign in
 * (disabled, or a rule of the database refused it), -1. */
int     auth_db_insured_user(struct mt_req *req, struct mt_session *s);
/* The account login into s (user_id, role, person_id, region,
 * institution), its password hash into hash[size] when it has one, and
 * *usable = 1 when that hash may sign in (not disabled, not an insured
 * account).  s, hash and *usable are left alone for an unknown login.
 * 1 found, 0 unknown, -1. */
int     auth_db_staff_user(struct mt_req *req, const char *login,
            struct mt_session *s, char *hash, size_t size, int *usable);
/* 1 when user uid has signed in from addr in the last days days, 0 if
 * not, -1. */
int     auth_db_address_known(struct mt_req *req, long long uid,
            const char *addr, int days);
/* 1 when an insured person with this phone has signed in from addr in
 * the last days days, 0 if not (an unknown phone alike), -1. */
int     auth_db_phone_address_known(struct mt_req *req, const char *phone,
            const char *addr, int days);
/* Remember that user uid signed in from addr now.  0 or -1. */
int     auth_db_address_ok(struct mt_req *req, long long uid,
            const char *addr);
/* *me = {"user": {id, login, display_name}, "role", "scope": {region,
 * institution, institution_name, person_id}, "region": {code, name,
 * agency_name, hotline, agency_address} or null} of enabled user uid (the
 * caller owns it).  1, 0 when the account is gone or disabled, -1. */
int     auth_db_me(struct mt_req *req, long long uid, json_object **me);

#endif
