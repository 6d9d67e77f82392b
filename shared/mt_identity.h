/*
 * mt_identity.h -- ID numbers and phones as PostgreSQL keeps them
 * (issue 15): never the plain value, but
 *   <col>_enc   XChaCha20-Poly1305 (libsodium's AEAD) of the value under
 *               the data key, its kind's name (enum mt_identity_col:
 *               "id_number", "phone") as associated data (a ciphertext
 *               moved to a column of the other kind fails to open; a
 *               phone's moves to sms_outbox.to_phone_enc as it is);
 *               stored as base64 of nonce || ciphertext, after
 *               "<n>:" naming the data key n that sealed it (n >= 2;
 *               no prefix is key 1, data.key: what every value sealed
 *               before rotation existed looks like, so a stack of then
 *               needs no step).  Base64 has no ':', so SQL reads the
 *               key of each value too (identity_key(), sql/fn/
 *               11_identity.sql);
 *   <col>_hmac  HMAC-SHA256 under a separate lookup key of
 *               "<column>:<value>", 64 hex digits: the exact lookups
 *               (sign-in, duplicate checks, filing by ID number) compare
 *               these, so PostgreSQL never needs the plain value.
 * Both keys live in files outside the database and the checkout
 * (config identity_keys_dir: data.key, lookup.key, 32 bytes each, made
 * by shared/stack.sh), read on first use.  Data keys are numbered: 1 is
 * data.key, n >= 2 data-<n>.key (`mtcertctl identity rotate data`); the
 * highest is current and seals every new value (the directory is read
 * at each seal, a handful of names, so a rotation is seen at once); an
 * older one is read when a value names it and this process has not read
 * it yet, kept until the process ends.  docs/keys.md.  The encryption
 * is here, in the workers and mtcertctl, because PostgreSQL must not see
 * the keys: pgcrypto would take them as statement parameters, into its
 * logs and pg_stat_activity.
 */
#ifndef MT_IDENTITY_H
#define MT_IDENTITY_H

#include <stddef.h>

#define MT_IDENTITY_KEY_LEN   32
#define MT_IDENTITY_HMAC_LEN  64        /* hex digits */
/* The longest plain value (an ID number is 18, a phone 11). */
#define MT_IDENTITY_VALUE_MAX 32

enum mt_identity_col {
	MT_IDENTITY_ID_NUMBER,          /* "id_number" */
	MT_IDENTITY_PHONE,              /* "phone" */
	MT_IDENTITY__MAX
};

/* The column's name ("id_number", "phone"). */
const char *mt_identity_col_name(enum mt_identity_col col);
/*
 * Use these keys (tests), or, with NULL, load data.key and lookup.key
 * from mt_cfg.identity_keys_dir.  0, or -1 (message in err[size]) when
 * a file is missing or not exactly 32 bytes; the keys are then unset.
 */
int     mt_identity_keys(const unsigned char *data,
            const unsigned char *lookup, char *err, size_t size);
/*
 * The current data key's number (the highest in identity_keys_dir; 1
 * with keys given to mt_identity_keys), 0 when there is none or the
 * directory cannot be read.
 */
int     mt_identity_data_current(void);
/*
 * Make data key current+1 (data.key when there is none) from the
 * system's random source: 32 bytes, 0400, never replacing a file, the
 * directory's owner's when run as root.  Its number, or -1 (errno set).
 */
int     mt_identity_data_new(void);
/* Seconds since data key n's file was made, or -1 when there is none. */
long    mt_identity_data_age(int n);
/* Remove data key n's file (and forget it).  0, or -1 with errno set. */
int     mt_identity_data_remove(int n);
/*
 * The lookup HMAC of value in column col into out[65] (hex, NUL); an ID
 * number's x counts as X.  Loads the keys on first use.  0, or -1 when
 * there are no keys or value is longer than MT_IDENTITY_VALUE_MAX.
 */
int     mt_identity_hmac(enum mt_identity_col col, const char *value,
            char out[MT_IDENTITY_HMAC_LEN + 1]);
/*
 * value sealed for column col under the current data key: a new string
 * the caller frees, or NULL when there are no keys (the current one
 * unreadable: said on stderr) or value is longer than
 * MT_IDENTITY_VALUE_MAX.
 */
char   *mt_identity_seal(enum mt_identity_col col, const char *value);
/*
 * Open what mt_identity_seal made for col into out[size], under the
 * data key it names (read now if this process has not yet).  0, or -1
 * when there are no keys, sealed is NULL or malformed, names a data key
 * that cannot be read (said on stderr), was made under another key or
 * for another column, or does not fit.
 */
int     mt_identity_open(enum mt_identity_col col, const char *sealed,
            char *out, size_t size);

/*
 * The masked form lists show into out[size]: an ID number keeps its
 * first 4 and last 4 characters (4112**********1234), a phone its first
 * 3 and last 4 (138****5678); a value too short to keep any is all
 * stars.  The one definition of every sealed column's mask (<col>_masked:
 * persons, 043; applications, experts, 044); sql/fn/10_util.sql's
 * mask_id and mask_phone do the same for rows not sealed yet (answers
 * read either through shown_id and shown_phone there).  -1 when
 * out is too small, else 0.
 */
int     mt_identity_mask(enum mt_identity_col col, const char *value,
            char *out, size_t size);

/* The three columns of one value (see above). */
struct mt_identity_cols {
	char    hmac[MT_IDENTITY_HMAC_LEN + 1];
	char   *enc;                    /* mt_identity_seal's, owned */
	char    masked[MT_IDENTITY_VALUE_MAX + 1];
};
/*
 * Fill c with value's HMAC, seal and mask for column col.  0, or -1 (no
 * keys, or value longer than MT_IDENTITY_VALUE_MAX; c->enc then NULL).
 * Release with mt_identity_cols_free (NULL-safe, and after a failure).
 */
int     mt_identity_cols(enum mt_identity_col col, const char *value,
            struct mt_identity_cols *c);
void    mt_identity_cols_free(struct mt_identity_cols *c);

/*
 * In a request (shared/mt_identity_req.c): as mt_identity_hmac and
 * mt_identity_cols, but without keys they answer 503 (the keys are a
 * dependency, like the database) and return -1.
 */
struct mt_req;
int     mt_identity_hmac_or_reply(struct mt_req *req,
            enum mt_identity_col col, const char *value,
            char out[MT_IDENTITY_HMAC_LEN + 1]);
int     mt_identity_cols_or_reply(struct mt_req *req,
            enum mt_identity_col col, const char *value,
            struct mt_identity_cols *c);
/*
 * value sealed for col into *sealed (the caller frees), or NULL for a
 * NULL value.  0, or -1 after answering 503 (no keys).
 */
int     mt_identity_seal_or_reply(struct mt_req *req,
            enum mt_identity_col col, const char *value, char **sealed);

#endif
