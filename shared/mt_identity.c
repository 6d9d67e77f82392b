/*
 * mt_identity.c -- see mt_identity.h.  libsodium: crypto_aead_xchacha20
 * poly1305_ietf (a random 24-byte nonce per value is safe at any count)
 * and crypto_auth_hmacsha256.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "mt_config.h"
#include "mt_identity.h"
#include "mt_util.h"

#define NONCE_LEN  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN    crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEALED_MAX (NONCE_LEN + MT_IDENTITY_VALUE_MAX + TAG_LEN)

static const char *const col_names[MT_IDENTITY__MAX] = {
	[MT_IDENTITY_ID_NUMBER] = "id_number",
	[MT_IDENTITY_PHONE] = "phone",
};

/*
 * The data keys this process has read, by number (a handful in a key's
 * life), the lookup key, and whether mt_identity_keys was given them
 * (pinned: data key 1 alone, no directory read).
 */
#define DATA_MAX 16
static struct {
	int             n;
	unsigned char   key[MT_IDENTITY_KEY_LEN];
} data_keys[DATA_MAX];
static int ndata;
static unsigned char lookup_key[MT_IDENTITY_KEY_LEN];
static int keys_set, pinned;

/* See mt_identity.h. */
const char *
mt_identity_col_name(enum mt_identity_col col)
{
	return col_names[col];
}

/* Data key n's file name: data.key (1, as before rotation), data-<n>.key.
 * The caller frees. */
static char *
data_name(int n)
{
	return n == 1 ? mt_xstrdup("data.key") :
	    mt_xasprintf("data-%d.key", n);
}

/* The number of a data key's file name, or 0 when it is not one. */
static int
data_number(const char *name)
{
	if (strcmp(name, "data.key") == 0)
		return 1;
	return mt_name_number(name, "data-", ".key", 2);
}

/* Read exactly MT_IDENTITY_KEY_LEN bytes of dir/name into key.  0/-1. */
static int
read_key(const char *dir, const char *name, unsigned char *key,
    char *err, size_t size)
{
	char *path = mt_xasprintf("%s/%s", dir, name);
	unsigned char extra;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, size, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (read(fd, key, MT_IDENTITY_KEY_LEN) != MT_IDENTITY_KEY_LEN ||
	    read(fd, &extra, 1) != 0) {
		snprintf(err, size, "%s: not a %d-byte key", path,
		    MT_IDENTITY_KEY_LEN);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/*
 * Data key n's slot in data_keys, read from its file when this process
 * has not yet (a value sealed under a key made since it started: the
 * directory is read again only then).  -1 (message in err[size]) when
 * the file is missing or not a key; a bad file never replaces a key read
 * before.  When the cache is full the last slot is reused.
 */
static int
data_slot(int n, char *err, size_t size)
{
	unsigned char key[MT_IDENTITY_KEY_LEN];
	char *name;
	int i, rc;

	for (i = 0; i < ndata; i++)
		if (data_keys[i].n == n)
			return i;
	if (pinned || mt_cfg.identity_keys_dir == NULL) {
		snprintf(err, size, "no data key %d", n);
		return -1;
	}
	name = data_name(n);
	rc = read_key(mt_cfg.identity_keys_dir, name, key, err, size);
	free(name);
	if (rc != 0)
		return -1;
	i = ndata < DATA_MAX ? ndata++ : DATA_MAX - 1;
	data_keys[i].n = n;
	memcpy(data_keys[i].key, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	return i;
}

/* Forget every key read (the memory wiped). */
static void
forget_keys(void)
{
	sodium_memzero(data_keys, sizeof(data_keys));
	sodium_memzero(lookup_key, sizeof(lookup_key));
	ndata = keys_set = pinned = 0;
}

/* See mt_identity.h. */
int
mt_identity_keys(const unsigned char *data, const unsigned char *lookup,
    char *err, size_t size)
{
	const char *dir = mt_cfg.identity_keys_dir;
	int cur;

	forget_keys();
	if (sodium_init() < 0) {
		snprintf(err, size, "libsodium cannot start");
		return -1;
	}
	if (data != NULL && lookup != NULL) {
		pinned = ndata = data_keys[0].n = 1;
		memcpy(data_keys[0].key, data, MT_IDENTITY_KEY_LEN);
		memcpy(lookup_key, lookup, sizeof(lookup_key));
	} else if (dir == NULL ||
	    data_slot((cur = mt_identity_data_current()) > 0 ? cur : 1, err,
	    size) < 0 ||
	    read_key(dir, "lookup.key", lookup_key, err, size) != 0) {
		if (dir == NULL)
			snprintf(err, size, "no identity_keys_dir");
		forget_keys();
		return -1;
	}
	keys_set = 1;
	return 0;
}

/* The keys, loaded on first use (a failure said on stderr).  0/-1. */
static int
ready(void)
{
	char err[512];

	if (keys_set)
		return 0;
	if (mt_identity_keys(NULL, NULL, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "mt_identity: %s\n", err);
	return -1;
}

/* See mt_identity.h. */
int
mt_identity_data_current(void)
{
	return pinned ? 1 : mt_dir_highest(mt_cfg.identity_keys_dir,
	    data_number);
}

/* Data key n's path (the caller frees). */
static char *
data_path(int n)
{
	char *name = data_name(n), *path;

	path = mt_xasprintf("%s/%s", mt_cfg.identity_keys_dir, name);
	free(name);
	return path;
}

/* See mt_identity.h. */
int
mt_identity_data_new(void)
{
	unsigned char key[MT_IDENTITY_KEY_LEN];
	struct stat st;
	char *path;
	int n, rc;

	if (mt_cfg.identity_keys_dir == NULL ||
	    stat(mt_cfg.identity_keys_dir, &st) != 0)
		return -1;
	n = mt_identity_data_current() + 1;
	randombytes_buf(key, sizeof(key));
	path = data_path(n);
	rc = mt_write_atomic_n(path, key, sizeof(key), 0400, &st, 1);
	sodium_memzero(key, sizeof(key));
	free(path);
	return rc == 0 ? n : -1;
}

/* See mt_identity.h. */
long
mt_identity_data_age(int n)
{
	char *path = data_path(n);
	long age = mt_file_age(path);

	free(path);
	return age;
}

/* See mt_identity.h. */
int
mt_identity_data_remove(int n)
{
	char *path = data_path(n);
	int i, rc = unlink(path);

	free(path);
	for (i = 0; rc == 0 && i < ndata; i++)
		if (data_keys[i].n == n) {
			data_keys[i].n = -1;    /* never asked for */
			sodium_memzero(data_keys[i].key,
			    sizeof(data_keys[i].key));
		}
	return rc;
}

/*
 * The data key a sealed value names: its "<n>:" prefix, none for key 1
 * (values sealed before rotation existed).  Sets *b64 to what follows.
 * 0 when the prefix is malformed.
 */
static int
sealed_key(const char *sealed, const char **b64)
{
	char *end;
	long n;

	*b64 = sealed;
	if (strchr(sealed, ':') == NULL)
		return 1;
	errno = 0;
	n = strtol(sealed, &end, 10);
	if (errno != 0 || *end != ':' || end == sealed || n < 2 ||
	    n > 999999999 || *sealed < '0' || *sealed > '9')
		return 0;
	*b64 = end + 1;
	return (int)n;
}

/* See mt_identity.h. */
int
mt_identity_hmac(enum mt_identity_col col, const char *value,
    char out[MT_IDENTITY_HMAC_LEN + 1])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char canon[MT_IDENTITY_VALUE_MAX + 1], *x;

	if (ready() != 0 || strlen(value) > MT_IDENTITY_VALUE_MAX)
		return -1;
	/* An ID number's check character is X, whichever case it came in. */
	snprintf(canon, sizeof(canon), "%s", value);
	if (col == MT_IDENTITY_ID_NUMBER && (x = strchr(canon, 'x')) != NULL)
		*x = 'X';
	value = canon;
	crypto_auth_hmacsha256_init(&st, lookup_key, sizeof(lookup_key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)
	    col_names[col], strlen(col_names[col]));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)":", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)value,
	    strlen(value));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, MT_IDENTITY_HMAC_LEN + 1, mac, sizeof(mac));
	sodium_memzero(canon, sizeof(canon));
	sodium_memzero(&st, sizeof(st));
	return 0;
}

/*
 * Data key n's slot, or -1 after saying on stderr why it cannot be read
 * (a worker's log names the missing file).
 */
static int
data_slot_logged(int n)
{
	char err[512];
	int slot;

	if ((slot = data_slot(n, err, sizeof(err))) < 0)
		fprintf(stderr, "mt_identity: %s\n", err);
	return slot;
}

/* See mt_identity.h. */
char *
mt_identity_seal(enum mt_identity_col col, const char *value)
{
	unsigned char buf[SEALED_MAX];
	size_t n = strlen(value), blen, plen = 0;
	unsigned long long clen;
	char pre[16] = "";
	char *out;
	int key, slot;

	if (n > MT_IDENTITY_VALUE_MAX || ready() != 0 ||
	    (key = mt_identity_data_current()) <= 0 ||
	    (slot = data_slot_logged(key)) < 0)
		return NULL;
	if (key > 1)
		plen = (size_t)snprintf(pre, sizeof(pre), "%d:", key);
	randombytes_buf(buf, NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE_LEN, &clen,
	    (const unsigned char *)value, n, (const unsigned char *)
	    col_names[col], strlen(col_names[col]), NULL, buf,
	    data_keys[slot].key);
	blen = sodium_base64_encoded_len(NONCE_LEN + clen,
	    sodium_base64_VARIANT_ORIGINAL);
	out = mt_xmalloc(plen + blen);
	memcpy(out, pre, plen);
	sodium_bin2base64(out + plen, blen, buf, NONCE_LEN + clen,
	    sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* See mt_identity.h. */
int
mt_identity_open(enum mt_identity_col col, const char *sealed, char *out,
    size_t size)
{
	unsigned char buf[SEALED_MAX], plain[MT_IDENTITY_VALUE_MAX];
	unsigned long long plen;
	const char *b64;
	size_t blen;
	int rc = -1, key, slot;

	if (sealed == NULL || ready() != 0 ||
	    (key = sealed_key(sealed, &b64)) == 0 ||
	    (slot = data_slot_logged(key)) < 0 || sodium_base642bin(buf,
	    sizeof(buf), b64, strlen(b64), NULL, &blen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    blen < NONCE_LEN + TAG_LEN ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL,
	    buf + NONCE_LEN, blen - NONCE_LEN, (const unsigned char *)
	    col_names[col], strlen(col_names[col]), buf,
	    data_keys[slot].key) != 0 || plen >= size)
		goto out;
	memcpy(out, plain, plen);
	out[plen] = '\0';
	rc = 0;
out:
	/* Also when it opened but did not fit. */
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

/* See mt_identity.h. */
int
mt_identity_mask(enum mt_identity_col col, const char *value, char *out,
    size_t size)
{
	size_t n = strlen(value), head, tail = 4;

	head = col == MT_IDENTITY_ID_NUMBER ? 4 : 3;
	if (n + 1 > size)
		return -1;
	if (n <= head + tail)
		head = tail = 0;
	memcpy(out, value, head);
	memset(out + head, '*', n - head - tail);
	memcpy(out + n - tail, value + n - tail, tail);
	out[n] = '\0';
	return 0;
}

/* See mt_identity.h. */
int
mt_identity_cols(enum mt_identity_col col, const char *value,
    struct mt_identity_cols *c)
{
	memset(c, 0, sizeof(*c));
	if (mt_identity_hmac(col, value, c->hmac) != 0 ||
	    mt_identity_mask(col, value, c->masked, sizeof(c->masked)) != 0 ||
	    (c->enc = mt_identity_seal(col, value)) == NULL)
		return -1;
	return 0;
}

/* See mt_identity.h. */
void
mt_identity_cols_free(struct mt_identity_cols *c)
{
	if (c == NULL)
		return;
	free(c->enc);
	c->enc = NULL;
}
