/*
 * mt_auth.h -- sessions and passwords.
 *
 * A session token is 32 random bytes shown to the client as 64 hex
 * characters; Redis stores only its SHA-256 (key "sess:<hex>") as a hash
 * of uid, role, pid, region, inst, csrf and idle (seconds).  Every use
 * pushes the expiry idle seconds ahead, so sessions die when idle.  Each
 * worker keeps a session it read for half a second (mt_auth.c), so a
 * logout holds in every worker within that.
 * Passwords: libsodium Argon2id (crypto_pwhash_str).
 */
#ifndef MT_AUTH_H
#define MT_AUTH_H

#include "mt_http.h"

#define MT_AUTH_COOKIE "mtcert_session"

/*
 * Find the caller's session from "Authorization: Bearer <token>" or the
 * mtcert_session cookie.  Returns 1 and fills *s, 0 when there is no valid
 * session, -1 when the session store is down.
 */
int     mt_auth_lookup(struct mt_req *req, struct mt_session *s);
/*
 * Create a session for s (user fields filled) living idle seconds.
 * Writes the token and the CSRF token (65 bytes each).  0, or -1 when
 * the session store is down.
 */
int     mt_auth_create(const struct mt_session *s, int idle, char *token,
            char *csrf);
/* Destroy the session with this token hash.  0, or -1 when down. */
int     mt_auth_destroy(const char *token_hash);

/* Argon2id hash of pw into out (crypto_pwhash_STRBYTES); 0 or -1. */
int     mt_auth_hash_password(const char *pw, char *out, size_t outlen);
/* 1 when pw matches the stored hash. */
int     mt_auth_verify_password(const char *hash, const char *pw);
/* Initialise libsodium once per process; 0 or -1. */
int     mt_auth_init(void);

#endif
