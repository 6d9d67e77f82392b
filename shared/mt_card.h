/*
 * mt_card.h -- the e-card's signed token (R-BEN-2) and the keys that
 * sign it.  Pure: no request, no database; the token parser is fuzzed
 * (tests/fuzz/fuzz_card.c) and table-tested (tests/unit/test_card.c).
 *
 * A token is four parts joined by '.':
 *
 *   MC1.<key id>.<payload>.<signature>
 *
 * "MC1" is the format's version; the key id is 12 lower-case hex digits,
 * the first 6 bytes of BLAKE2b(public key); the payload is compact JSON
 * with short keys (below) and the signature Ed25519 (libsodium
 * crypto_sign_detached), both base64url without padding.  The signature
 * covers the exact bytes before the last '.' -- version, key id and the
 * encoded payload -- so nothing of the token can change unnoticed, and
 * the payload is parsed only once its signature holds.
 *
 * Payload members (every one required, strings unless said):
 *   q  qualification id (a number)    n  holder's name, masked
 *   i  ID number, masked              d  disease code
 *   dn disease name                   h  designated hospital code
 *   hn its name                       f  valid from (YYYY-MM-DD)
 *   t  valid to                       at issued on
 * The names (n, dn, hn) are shortened by mt_card_shorten to at most
 * MT_CARD_NAME_CHARS characters, cut between characters and ended by
 * "…" when cut: the token stays small enough for a phone to scan, and
 * its UTF-8 whole.  The full names are the record's (GET /cards/verify's
 * "current").
 *
 * Keys live in a directory (var/keys/card/ under `make run`): one
 * <key id>.key per key (the 32-byte seed, base64url, mode 0600) and
 * keys.json, the public keys in the shape of GET /cards/keys:
 *   {"keys":[{"key_id","algorithm":"Ed25519","public_key","created_at",
 *             "current"}]}
 * Exactly one key is current (it signs new cards); the others keep
 * verifying the cards they signed.
 */
#ifndef MT_CARD_H
#define MT_CARD_H

#include <stddef.h>

#include <json-c/json.h>

#define MT_CARD_VERSION     "MC1"
#define MT_CARD_KID_LEN     12      /* hex digits */
#define MT_CARD_TOKEN_MAX   1024    /* longer is malformed, unread */
#define MT_CARD_NAME_CHARS  24      /* characters of a name on a card */
#define MT_CARD_ELLIPSIS    "…"     /* ends a shortened name (3 bytes) */
/* Bytes of a shortened name: MT_CARD_NAME_CHARS characters of at most 4
 * bytes (a shortened one: one fewer and the ellipsis), and the NUL. */
#define MT_CARD_NAME_MAX    (MT_CARD_NAME_CHARS * 4 + 1)
/* Bytes of one payload string the verifier reads, NUL included: room for
 * a name (MT_CARD_NAME_MAX), and what cards signed before names were
 * shortened carried (up to 127 bytes), so those keep verifying. */
#define MT_CARD_TEXT_MAX    128
#define MT_CARD_DIR         "keys/card" /* under the config's var_dir */

/* Why a token is not genuine, or MT_CARD_OK.  The reasons past
 * MT_CARD_BAD_SIGNATURE are the database's (the caller's) to give. */
enum mt_card_reason {
	MT_CARD_OK,
	MT_CARD_MALFORMED,
	MT_CARD_UNKNOWN_KEY,
	MT_CARD_BAD_SIGNATURE,
	MT_CARD_NOT_FOUND,
	MT_CARD_ENDED,
	MT_CARD_NOT_YET_VALID,
	MT_CARD_SUPERSEDED,
	MT_CARD__MAX
};

/* The reason's code ("bad_signature") and its Chinese text; "" / "" for
 * MT_CARD_OK.  Static strings. */
const char *mt_card_reason_code(enum mt_card_reason r);
const char *mt_card_reason_text(enum mt_card_reason r);
/* The reason of a code, or MT_CARD__MAX for an unknown one. */
enum mt_card_reason mt_card_reason_of(const char *code);

/* What a card says. */
struct mt_card {
	char        kid[MT_CARD_KID_LEN + 1];
	long long   qualification;
	char        name[MT_CARD_TEXT_MAX];
	char        id_number[MT_CARD_TEXT_MAX];
	char        disease[MT_CARD_TEXT_MAX];
	char        disease_name[MT_CARD_TEXT_MAX];
	char        institution[MT_CARD_TEXT_MAX];
	char        institution_name[MT_CARD_TEXT_MAX];
	char        valid_from[11];
	char        valid_to[11];
	char        issued_on[11];
};

/* One key: the public half always, the secret one when it was read. */
struct mt_card_key {
	char            kid[MT_CARD_KID_LEN + 1];
	unsigned char   pk[32];
	unsigned char   sk[64];
	int             has_sk;
	int             current;
	char            created_at[40];
};

struct mt_card_keys {
	struct mt_card_key *k;
	size_t              n;
};

/*
 * Read dir/keys.json, and when with_secret the current key's secret from
 * dir/<kid>.key (checked against its public key).  0, or -1 with why in
 * err[errlen] (a missing or malformed file); *out is then empty.  The
 * caller frees with mt_card_keys_free.
 */
int         mt_card_keys_load(const char *dir, int with_secret,
                struct mt_card_keys *out, char *err, size_t errlen);
/* The same from the keys file itself (public keys only: offline
 * verification with a copied file). */
int         mt_card_keys_load_file(const char *path,
                struct mt_card_keys *out, char *err, size_t errlen);
/* Parse the JSON text of a keys file (public keys only).  0 or -1. */
int         mt_card_keys_parse(const char *text, struct mt_card_keys *out,
                char *err, size_t errlen);
void        mt_card_keys_free(struct mt_card_keys *keys);
/* The key of kid, or the current key (kid NULL); NULL when none. */
const struct mt_card_key *mt_card_keys_find(const struct mt_card_keys *keys,
                const char *kid);
/* {"keys":[...]} as keys.json and GET /cards/keys have it (caller
 * puts). */
json_object *mt_card_keys_json(const struct mt_card_keys *keys);

/*
 * Make a new key in dir (created 0700 when missing) and make it the
 * current one: write <kid>.key (0600) and rewrite keys.json (through a
 * temporary file and rename, so a reader never sees half of it).  When
 * run as root, the new files take the owner of dir, so the workers that
 * read them keep reading them.  0 with the new key id in kid, or -1 with
 * why in err.
 */
int         mt_card_keys_new(const char *dir, char kid[MT_CARD_KID_LEN + 1],
                char *err, size_t errlen);

/*
 * A worker's keys, read again whenever keys.json changed (its inode, size
 * or modification time, one stat() a use): a rotation reaches every
 * worker at its next card, and a verifier meeting a key id it does not
 * know finds it there.
 */
struct mt_card_ring {
	struct mt_card_keys keys;
	int                 loaded;
	unsigned long long  ino, size;
	long long           mtime_ns;
};

/* Make ring current for dir: 0 (keys loaded), or -1 when there are none
 * to use (the file is missing or bad and none were read before; logged
 * by the caller). */
int         mt_card_ring_fresh(struct mt_card_ring *ring, const char *dir,
                int with_secret);

/* The key id of a public key (12 hex digits and a NUL into kid). */
void        mt_card_kid(const unsigned char pk[32],
                char kid[MT_CARD_KID_LEN + 1]);

/*
 * Shorten the UTF-8 name in into out for a card: the whole of it when it
 * has at most MT_CARD_NAME_CHARS characters, else its first
 * MT_CARD_NAME_CHARS - 1 and MT_CARD_ELLIPSIS.  Never cuts a character
 * (a text that is not UTF-8 may come out broken: mt_card_sign refuses
 * it).  The one way a name enters a card.
 */
void        mt_card_shorten(const char *in, char out[MT_CARD_TEXT_MAX]);

/*
 * Sign card c (its kid is set here) with key (which must hold its
 * secret).  Returns the token (caller frees), or NULL with why (a static
 * string) when it cannot be one mt_card_verify accepts: no secret, a
 * field the verifier refuses (empty, not UTF-8, not a date), or longer
 * than MT_CARD_TOKEN_MAX (too dense for a QR code a phone reads).  Every
 * token is verified before it is returned: none that fails ever leaves.
 */
char       *mt_card_sign(const struct mt_card_key *key, struct mt_card *c,
                const char **why);

/*
 * Check token against keys: MT_CARD_OK and *out filled when genuine;
 * otherwise the reason (malformed, unknown_key, bad_signature) and *out
 * holds at most the key id.  Never reads past MT_CARD_TOKEN_MAX bytes of
 * the token.
 */
enum mt_card_reason mt_card_verify(const struct mt_card_keys *keys,
                const char *token, struct mt_card *out);
/* The key id of a well-formed token's first parts into kid: 0, or -1
 * (kid "") when it has none. */
int         mt_card_token_kid(const char *token,
                char kid[MT_CARD_KID_LEN + 1]);

/* The card as JSON: holder{name,id_number}, disease{code,name},
 * designated_institution{code,name}, valid_from, valid_to, issued_on
 * (caller puts). */
json_object *mt_card_json(const struct mt_card *c);

#endif
