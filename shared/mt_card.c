/*
 * mt_card.c -- the e-card's signed token and its keys (see mt_card.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "mt_card.h"
#include "mt_util.h"
#include "mt_valid.h"

_Static_assert(MT_CARD_NAME_MAX <= MT_CARD_TEXT_MAX,
    "a shortened name fits the verifier's buffer");

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define KEYS_FILE "keys.json"
#define KEYS_FILE_MAX (256 * 1024)

static const struct {
	const char *code;
	const char *text;
} reasons[MT_CARD__MAX] = {
	[MT_CARD_OK] = { "", "" },
	[MT_CARD_MALFORMED] = { "malformed", "凭证格式不正确，无法识别" },
	[MT_CARD_UNKNOWN_KEY] = { "unknown_key",
	    "凭证的签名密钥未知，无法确认真伪" },
	[MT_CARD_BAD_SIGNATURE] = { "bad_signature",
	    "凭证签名不符，可能被伪造或篡改" },
	[MT_CARD_NOT_FOUND] = { "not_found", "未找到该凭证对应的待遇资格" },
	[MT_CARD_ENDED] = { "ended", "该门诊慢特病待遇已终止或已到期" },
	[MT_CARD_NOT_YET_VALID] = { "not_yet_valid", "该待遇尚未开始" },
	[MT_CARD_SUPERSEDED] = { "superseded",
	    "定点医院已变更，此凭证已作废，请出示最新的电子凭证" },
};

/* See mt_card.h. */
const char *
mt_card_reason_code(enum mt_card_reason r)
{
	return r < MT_CARD__MAX ? reasons[r].code : "";
}

/* See mt_card.h. */
const char *
mt_card_reason_text(enum mt_card_reason r)
{
	return r < MT_CARD__MAX ? reasons[r].text : "";
}

/* See mt_card.h. */
enum mt_card_reason
mt_card_reason_of(const char *code)
{
	int r;

	for (r = MT_CARD_MALFORMED; r < MT_CARD__MAX; r++)
		if (strcmp(reasons[r].code, code) == 0)
			return (enum mt_card_reason)r;
	return MT_CARD__MAX;
}

/* See mt_card.h. */
void
mt_card_kid(const unsigned char pk[32], char kid[MT_CARD_KID_LEN + 1])
{
	unsigned char h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof(h), pk, 32, NULL, 0);
	mt_hex(h, MT_CARD_KID_LEN / 2, kid);
}

/* 1 when s[0..n) is a key id: exactly MT_CARD_KID_LEN lower-case hex
 * digits (s may be a slice of a token: more follows). */
static int
kid_ok(const char *s, size_t n)
{
	return n == MT_CARD_KID_LEN && strspn(s, "0123456789abcdef") >= n;
}

/* Decode n base64url characters (no padding) into exactly want bytes:
 * 0, or -1 when they are not that. */
static int
b64_exact(const char *s, size_t n, unsigned char *out, size_t want)
{
	const char *end = NULL;
	size_t len = 0;

	if (n == 0 || sodium_base642bin(out, want, s, n, NULL, &len, &end,
	    B64) != 0 || end != s + n || len != want)
		return -1;
	return 0;
}

/* ---- keys ---- */

static void
seterr(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, fmt, arg);
}

/* The members of one key of a keys file and their JSON types: each is
 * checked before it is read (a null "algorithm" once crashed
 * `mtcertctl card verify`). */
enum key_member { KM_ID, KM_ALG, KM_PUB, KM_AT, KM_CUR, KM__MAX };

static const struct {
	const char *name;
	json_type   type;
} key_members[KM__MAX] = {
	[KM_ID] = { "key_id", json_type_string },
	[KM_ALG] = { "algorithm", json_type_string },
	[KM_PUB] = { "public_key", json_type_string },
	[KM_AT] = { "created_at", json_type_string },
	[KM_CUR] = { "current", json_type_boolean },
};

/* Read one key object of a keys file into *k: 0, or -1 when it is not
 * an object, a member is missing or of another type, or the key is not
 * an Ed25519 key whose id is its own. */
static int
key_parse(json_object *o, struct mt_card_key *k)
{
	json_object *v[KM__MAX];
	const char *s;
	int m;

	memset(k, 0, sizeof(*k));
	if (!json_object_is_type(o, json_type_object))
		return -1;
	for (m = 0; m < KM__MAX; m++)
		if (!json_object_object_get_ex(o, key_members[m].name,
		    &v[m]) || !json_object_is_type(v[m], key_members[m].type))
			return -1;
	if (strcmp(json_object_get_string(v[KM_ALG]), "Ed25519") != 0)
		return -1;
	s = json_object_get_string(v[KM_PUB]);
	if (b64_exact(s, strlen(s), k->pk, sizeof(k->pk)) != 0)
		return -1;
	/* The id is the public key's: a file whose ids were edited by
	 * hand is refused rather than trusted. */
	mt_card_kid(k->pk, k->kid);
	if (strcmp(k->kid, json_object_get_string(v[KM_ID])) != 0)
		return -1;
	snprintf(k->created_at, sizeof(k->created_at), "%s",
	    json_object_get_string(v[KM_AT]));
	k->current = json_object_get_boolean(v[KM_CUR]);
	return 0;
}

/* See mt_card.h. */
int
mt_card_keys_parse(const char *text, struct mt_card_keys *out, char *err,
    size_t errlen)
{
	json_object *root = json_tokener_parse(text), *arr;
	size_t i, n, ncur = 0;

	out->k = NULL;
	out->n = 0;
	if (sodium_init() < 0 || root == NULL ||
	    !json_object_object_get_ex(root, "keys", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		goto bad;
	n = json_object_array_length(arr);
	out->k = mt_xcalloc(n + 1, sizeof(*out->k));
	for (i = 0; i < n; i++) {
		if (key_parse(json_object_array_get_idx(arr, i),
		    &out->k[i]) != 0)
			goto bad;
		ncur += out->k[i].current != 0;
		out->n++;
	}
	if (n > 0 && ncur != 1)
		goto bad;
	json_object_put(root);
	return 0;
bad:
	seterr(err, errlen, "%s", "malformed keys file");
	json_object_put(root);
	mt_card_keys_free(out);
	return -1;
}

/* The whole of a small file as a string (caller frees), or NULL with
 * errno set. */
static char *
slurp(const char *path)
{
	struct mt_buf b = {0};

	if (mt_read_file(path, 0, &b) != 0 || b.len > KEYS_FILE_MAX) {
		if (b.len > KEYS_FILE_MAX)
			errno = EFBIG;
		mt_buf_free(&b);
		return NULL;
	}
	mt_buf_puts(&b, "");
	return b.data;
}

/* See mt_card.h. */
int
mt_card_keys_load_file(const char *path, struct mt_card_keys *out,
    char *err, size_t errlen)
{
	char *text = slurp(path);
	int rc;

	out->k = NULL;
	out->n = 0;
	if (text == NULL) {
		seterr(err, errlen, "cannot read %s", path);
		return -1;
	}
	rc = mt_card_keys_parse(text, out, err, errlen);
	free(text);
	return rc;
}

/* Read the secret of *k from dir/<kid>.key and check it against the
 * public key: 0, or -1. */
static int
secret_load(const char *dir, struct mt_card_key *k)
{
	char *path = mt_xasprintf("%s/%s.key", dir, k->kid);
	char *text = slurp(path);
	unsigned char seed[32], pk[32];
	size_t n;
	int rc = -1;

	if (text == NULL)
		goto out;
	n = strcspn(text, "\r\n");
	if (b64_exact(text, n, seed, sizeof(seed)) != 0)
		goto out;
	crypto_sign_seed_keypair(pk, k->sk, seed);
	if (sodium_memcmp(pk, k->pk, sizeof(pk)) != 0)
		goto out;
	k->has_sk = 1;
	rc = 0;
out:
	sodium_memzero(seed, sizeof(seed));
	if (text != NULL)
		sodium_memzero(text, strlen(text));
	free(text);
	free(path);
	return rc;
}

/* See mt_card.h. */
int
mt_card_keys_load(const char *dir, int with_secret,
    struct mt_card_keys *out, char *err, size_t errlen)
{
	char *path = mt_xasprintf("%s/%s", dir, KEYS_FILE);
	struct mt_card_key *cur;
	int rc = mt_card_keys_load_file(path, out, err, errlen);

	free(path);
	if (rc != 0 || !with_secret)
		return rc;
	cur = (struct mt_card_key *)mt_card_keys_find(out, NULL);
	if (cur == NULL || secret_load(dir, cur) != 0) {
		seterr(err, errlen, "cannot read the current key in %s", dir);
		mt_card_keys_free(out);
		return -1;
	}
	return 0;
}

/* See mt_card.h. */
void
mt_card_keys_free(struct mt_card_keys *keys)
{
	if (keys->k != NULL)
		sodium_memzero(keys->k, keys->n * sizeof(*keys->k));
	free(keys->k);
	keys->k = NULL;
	keys->n = 0;
}

/* See mt_card.h. */
int
mt_card_ring_fresh(struct mt_card_ring *ring, const char *dir,
    int with_secret)
{
	char *path = mt_xasprintf("%s/%s", dir, KEYS_FILE);
	struct mt_card_keys fresh;
	struct stat st;
	long long ns;
	int rc;

	rc = stat(path, &st);
	free(path);
	if (rc != 0)
		return ring->loaded ? 0 : -1;
	ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	if (ring->loaded && ring->ino == (unsigned long long)st.st_ino &&
	    ring->size == (unsigned long long)st.st_size &&
	    ring->mtime_ns == ns)
		return 0;
	if (mt_card_keys_load(dir, with_secret, &fresh, NULL, 0) != 0)
		return ring->loaded ? 0 : -1;
	mt_card_keys_free(&ring->keys);
	ring->keys = fresh;
	ring->loaded = 1;
	ring->ino = (unsigned long long)st.st_ino;
	ring->size = (unsigned long long)st.st_size;
	ring->mtime_ns = ns;
	return 0;
}

/* See mt_card.h. */
const struct mt_card_key *
mt_card_keys_find(const struct mt_card_keys *keys, const char *kid)
{
	size_t i;

	for (i = 0; i < keys->n; i++)
		if (kid == NULL ? keys->k[i].current :
		    strcmp(keys->k[i].kid, kid) == 0)
			return &keys->k[i];
	return NULL;
}

/* See mt_card.h. */
json_object *
mt_card_keys_json(const struct mt_card_keys *keys)
{
	json_object *root = json_object_new_object();
	json_object *arr = json_object_new_array(), *o;
	char pub[sodium_base64_ENCODED_LEN(32, B64)];
	size_t i;

	for (i = 0; i < keys->n; i++) {
		o = json_object_new_object();
		sodium_bin2base64(pub, sizeof(pub), keys->k[i].pk, 32, B64);
		json_object_object_add(o, "key_id",
		    json_object_new_string(keys->k[i].kid));
		json_object_object_add(o, "algorithm",
		    json_object_new_string("Ed25519"));
		json_object_object_add(o, "public_key",
		    json_object_new_string(pub));
		json_object_object_add(o, "created_at",
		    json_object_new_string(keys->k[i].created_at));
		json_object_object_add(o, "current",
		    json_object_new_boolean(keys->k[i].current));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "keys", arr);
	return root;
}

/* A fresh key pair in *k, its seed (base64url) in seed_b64. */
static void
key_make(struct mt_card_key *k, char *seed_b64, size_t len)
{
	unsigned char seed[32];
	time_t now = time(NULL);
	struct tm tm;

	memset(k, 0, sizeof(*k));
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	sodium_bin2base64(seed_b64, len, seed, sizeof(seed), B64);
	sodium_memzero(seed, sizeof(seed));
	mt_card_kid(k->pk, k->kid);
	gmtime_r(&now, &tm);
	strftime(k->created_at, sizeof(k->created_at), "%Y-%m-%dT%H:%M:%SZ",
	    &tm);
	k->has_sk = 1;
	k->current = 1;
}

/* See mt_card.h. */
int
mt_card_keys_new(const char *dir, char kid[MT_CARD_KID_LEN + 1], char *err,
    size_t errlen)
{
	struct mt_card_keys keys = { NULL, 0 };
	char seed[sodium_base64_ENCODED_LEN(32, B64) + 1], *path = NULL;
	char *line = NULL;
	json_object *j = NULL;
	struct stat st;
	size_t i;
	int rc = -1;

	if (sodium_init() < 0 ||
	    ((mkdir(dir, 0700) != 0 && errno != EEXIST) || stat(dir, &st))) {
		seterr(err, errlen, "cannot create %s", dir);
		return -1;
	}
	path = mt_xasprintf("%s/%s", dir, KEYS_FILE);
	if (access(path, F_OK) == 0 &&
	    mt_card_keys_load_file(path, &keys, err, errlen) != 0)
		goto out;
	keys.k = mt_xrealloc(keys.k, (keys.n + 1) * sizeof(*keys.k));
	for (i = 0; i < keys.n; i++)
		keys.k[i].current = 0;
	key_make(&keys.k[keys.n], seed, sizeof(seed));
	snprintf(kid, MT_CARD_KID_LEN + 1, "%s", keys.k[keys.n++].kid);
	free(path);
	path = mt_xasprintf("%s/%s.key", dir, kid);
	line = mt_xasprintf("%s\n", seed);
	sodium_memzero(seed, sizeof(seed));
	if (mt_write_atomic(path, line, 0600, &st, 1) != 0) {
		seterr(err, errlen, "cannot write %s", path);
		goto out;
	}
	free(path);
	path = mt_xasprintf("%s/%s", dir, KEYS_FILE);
	j = mt_card_keys_json(&keys);
	if (mt_write_atomic(path, json_object_to_json_string_ext(j,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE), 0644,
	    &st, 0) != 0) {
		seterr(err, errlen, "cannot write %s", path);
		goto out;
	}
	rc = 0;
out:
	if (line != NULL)
		sodium_memzero(line, strlen(line));
	free(line);
	free(path);
	json_object_put(j);
	mt_card_keys_free(&keys);
	return rc;
}

/* ---- tokens ---- */

/* The payload of c as compact JSON (caller puts). */
static json_object *
payload_json(const struct mt_card *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "q", json_object_new_int64(c->qualification));
	json_object_object_add(o, "n", json_object_new_string(c->name));
	json_object_object_add(o, "i", json_object_new_string(c->id_number));
	json_object_object_add(o, "d", json_object_new_string(c->disease));
	json_object_object_add(o, "dn",
	    json_object_new_string(c->disease_name));
	json_object_object_add(o, "h", json_object_new_string(c->institution));
	json_object_object_add(o, "hn",
	    json_object_new_string(c->institution_name));
	json_object_object_add(o, "f", json_object_new_string(c->valid_from));
	json_object_object_add(o, "t", json_object_new_string(c->valid_to));
	json_object_object_add(o, "at", json_object_new_string(c->issued_on));
	return o;
}

/* See mt_card.h. */
void
mt_card_shorten(const char *in, char out[MT_CARD_TEXT_MAX])
{
	size_t i, cut = 0, chars = 0;
	const size_t room = MT_CARD_NAME_MAX - sizeof(MT_CARD_ELLIPSIS);

	/* i ends where the name ends, or where its character past
	 * MT_CARD_NAME_CHARS starts; cut is where its last kept one
	 * (MT_CARD_NAME_CHARS - 1 of them) ends. */
	for (i = 0; in[i] != '\0'; i++) {
		if (((unsigned char)in[i] & 0xc0) == 0x80)
			continue;
		if (chars == MT_CARD_NAME_CHARS - 1)
			cut = i;
		if (++chars > MT_CARD_NAME_CHARS)
			break;
	}
	if (in[i] == '\0' && i < MT_CARD_NAME_MAX) {
		memcpy(out, in, i + 1);
		return;
	}
	/* Only a text that is not UTF-8 (runs of continuation bytes) has
	 * its cut past room, or none: cut it there, the signer refuses. */
	if (cut == 0 || cut > room)
		cut = room;
	memcpy(out, in, cut);
	memcpy(out + cut, MT_CARD_ELLIPSIS, sizeof(MT_CARD_ELLIPSIS));
}

/* The signed token of card c under key: version, key id and payload,
 * then the signature (caller frees). */
static char *
token_make(const struct mt_card_key *key, const struct mt_card *c)
{
	json_object *o = payload_json(c);
	const char *p = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t plen = strlen(p), b64len = sodium_base64_ENCODED_LEN(plen, B64);
	struct mt_buf tok = {0};
	unsigned char sig[crypto_sign_BYTES];
	char sig64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, B64)];
	char *p64 = mt_xmalloc(b64len);

	sodium_bin2base64(p64, b64len, (const unsigned char *)p, plen, B64);
	json_object_put(o);
	mt_buf_printf(&tok, "%s.%s.%s", MT_CARD_VERSION, key->kid, p64);
	free(p64);
	crypto_sign_detached(sig, NULL, (unsigned char *)tok.data, tok.len,
	    key->sk);
	sodium_bin2base64(sig64, sizeof(sig64), sig, sizeof(sig), B64);
	mt_buf_printf(&tok, ".%s", sig64);
	return tok.data;
}

/* See mt_card.h. */
char *
mt_card_sign(const struct mt_card_key *key, struct mt_card *c,
    const char **why)
{
	struct mt_card_key pub;
	struct mt_card_keys one = { &pub, 1 };
	struct mt_card back;
	char *tok;

	*why = "no secret key";
	if (!key->has_sk || sodium_init() < 0)
		return NULL;
	snprintf(c->kid, sizeof(c->kid), "%s", key->kid);
	tok = token_make(key, c);
	*why = "longer than MT_CARD_TOKEN_MAX";
	if (strlen(tok) > MT_CARD_TOKEN_MAX)
		goto refuse;
	/* Verified as any verifier will: a field it refuses (empty, not
	 * UTF-8, a bad date) is found here, never by a hospital. */
	pub = *key;
	sodium_memzero(pub.sk, sizeof(pub.sk));
	pub.has_sk = 0;
	*why = "a field the verifier refuses (empty, not UTF-8, a bad date)";
	if (mt_card_verify(&one, tok, &back) != MT_CARD_OK)
		goto refuse;
	*why = "";
	return tok;
refuse:
	free(tok);
	return NULL;
}

/* The string member name of o into buf[size]: 0, or -1 when it is
 * missing, not a string, empty, too long for buf or not UTF-8. */
static int
member_sized(json_object *o, const char *name, char *buf, size_t size)
{
	json_object *v;
	int n;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	n = json_object_get_string_len(v);
	if (n <= 0 || (size_t)n >= size ||
	    !mt_valid_utf8(json_object_get_string(v), (size_t)n) ||
	    memchr(json_object_get_string(v), '\0', (size_t)n) != NULL)
		return -1;
	memcpy(buf, json_object_get_string(v), (size_t)n + 1);
	return 0;
}

#define member(o, name, buf) member_sized((o), (name), (buf), sizeof(buf))

/* Read a payload's JSON text of n bytes into *c: 0, or -1. */
static int
payload_parse(const char *text, size_t n, struct mt_card *c)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o = json_tokener_parse_ex(tok, text, (int)n), *q;
	int rc = -1;

	if (o == NULL || json_tokener_get_parse_end(tok) != n ||
	    !json_object_is_type(o, json_type_object) ||
	    json_object_object_length(o) != 10 ||
	    !json_object_object_get_ex(o, "q", &q) ||
	    !json_object_is_type(q, json_type_int) ||
	    (c->qualification = json_object_get_int64(q)) <= 0 ||
	    member(o, "n", c->name) || member(o, "i", c->id_number) ||
	    member(o, "d", c->disease) || member(o, "dn", c->disease_name) ||
	    member(o, "h", c->institution) ||
	    member(o, "hn", c->institution_name) ||
	    member(o, "f", c->valid_from) || member(o, "t", c->valid_to) ||
	    member(o, "at", c->issued_on) ||
	    !mt_valid_date(c->valid_from) || !mt_valid_date(c->valid_to) ||
	    !mt_valid_date(c->issued_on))
		goto out;
	rc = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return rc;
}

/* The parts of a token: where each starts and how long it is. */
struct parts {
	const char *kid, *payload, *sig;
	size_t      nkid, npayload, nsig, nsigned;
};

/* Split token into its parts: 0, or -1 when it is not shaped as one. */
static int
split(const char *token, struct parts *p)
{
	size_t n = strnlen(token, MT_CARD_TOKEN_MAX + 1);
	const char *d1, *d2, *d3, *end = token + n;
	size_t vlen = strlen(MT_CARD_VERSION);

	if (n > MT_CARD_TOKEN_MAX || n < vlen + 1 ||
	    memcmp(token, MT_CARD_VERSION ".", vlen + 1) != 0)
		return -1;
	d1 = token + vlen;
	if ((d2 = memchr(d1 + 1, '.', (size_t)(end - d1 - 1))) == NULL ||
	    (d3 = memchr(d2 + 1, '.', (size_t)(end - d2 - 1))) == NULL ||
	    memchr(d3 + 1, '.', (size_t)(end - d3 - 1)) != NULL)
		return -1;
	p->kid = d1 + 1;
	p->nkid = (size_t)(d2 - p->kid);
	p->payload = d2 + 1;
	p->npayload = (size_t)(d3 - p->payload);
	p->sig = d3 + 1;
	p->nsig = (size_t)(end - p->sig);
	p->nsigned = (size_t)(d3 - token);
	return kid_ok(p->kid, p->nkid) ? 0 : -1;
}

/* See mt_card.h. */
int
mt_card_token_kid(const char *token, char kid[MT_CARD_KID_LEN + 1])
{
	struct parts p;

	kid[0] = '\0';
	if (split(token, &p) != 0)
		return -1;
	memcpy(kid, p.kid, MT_CARD_KID_LEN);
	kid[MT_CARD_KID_LEN] = '\0';
	return 0;
}

/* See mt_card.h. */
enum mt_card_reason
mt_card_verify(const struct mt_card_keys *keys, const char *token,
    struct mt_card *out)
{
	unsigned char sig[crypto_sign_BYTES], *payload;
	const struct mt_card_key *k;
	size_t plen = 0;
	const char *end = NULL;
	struct parts p;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sodium_init() < 0 || split(token, &p) != 0 ||
	    b64_exact(p.sig, p.nsig, sig, sizeof(sig)) != 0)
		return MT_CARD_MALFORMED;
	memcpy(out->kid, p.kid, MT_CARD_KID_LEN);
	if ((k = mt_card_keys_find(keys, out->kid)) == NULL)
		return MT_CARD_UNKNOWN_KEY;
	if (crypto_sign_verify_detached(sig, (const unsigned char *)token,
	    p.nsigned, k->pk) != 0)
		return MT_CARD_BAD_SIGNATURE;
	/* Genuine: only now is the payload read. */
	payload = mt_xmalloc(p.npayload + 1);
	if (p.npayload == 0 || sodium_base642bin(payload, p.npayload,
	    p.payload, p.npayload, NULL, &plen, &end, B64) != 0 ||
	    end != p.payload + p.npayload)
		rc = -1;
	else
		rc = payload_parse((const char *)payload, plen, out);
	free(payload);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		memcpy(out->kid, p.kid, MT_CARD_KID_LEN);
		return MT_CARD_MALFORMED;
	}
	return MT_CARD_OK;
}

/* A {code, name} object. */
static json_object *
code_name(const char *code, const char *name)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "name", json_object_new_string(name));
	return o;
}

/* See mt_card.h. */
json_object *
mt_card_json(const struct mt_card *c)
{
	json_object *o = json_object_new_object(), *h;

	h = json_object_new_object();
	json_object_object_add(h, "name", json_object_new_string(c->name));
	json_object_object_add(h, "id_number",
	    json_object_new_string(c->id_number));
	json_object_object_add(o, "qualification_id",
	    json_object_new_int64(c->qualification));
	json_object_object_add(o, "holder", h);
	json_object_object_add(o, "disease",
	    code_name(c->disease, c->disease_name));
	json_object_object_add(o, "designated_institution",
	    code_name(c->institution, c->institution_name));
	json_object_object_add(o, "valid_from",
	    json_object_new_string(c->valid_from));
	json_object_object_add(o, "valid_to",
	    json_object_new_string(c->valid_to));
	json_object_object_add(o, "issued_on",
	    json_object_new_string(c->issued_on));
	return o;
}
