/*
 * mt_identity.c -- see mt_identity.h.  libsodium: crypto_aead_xchacha20
 * poly1305_ietf (a random 24-byte nonce per value is safe at any count)
 * and crypto_auth_hmacsha256.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static unsigned char data_key[MT_IDENTITY_KEY_LEN];
static unsigned char lookup_key[MT_IDENTITY_KEY_LEN];
static int keys_set;

/* See mt_identity.h. */
const char *
mt_identity_col_name(enum mt_identity_col col)
{
	return col_names[col];
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

/* See mt_identity.h. */
int
mt_identity_keys(const unsigned char *data, const unsigned char *lookup,
    char *err, size_t size)
{
	const char *dir = mt_cfg.identity_keys_dir;

	keys_set = 0;
	if (sodium_init() < 0) {
		snprintf(err, size, "libsodium cannot start");
		return -1;
	}
	if (data != NULL && lookup != NULL) {
		memcpy(data_key, data, sizeof(data_key));
		memcpy(lookup_key, lookup, sizeof(lookup_key));
	} else if (dir == NULL ||
	    read_key(dir, "data.key", data_key, err, size) != 0 ||
	    read_key(dir, "lookup.key", lookup_key, err, size) != 0) {
		if (dir == NULL)
			snprintf(err, size, "no identity_keys_dir");
		sodium_memzero(data_key, sizeof(data_key));
		sodium_memzero(lookup_key, sizeof(lookup_key));
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

/* See mt_identity.h. */
char *
mt_identity_seal(enum mt_identity_col col, const char *value)
{
	unsigned char buf[SEALED_MAX];
	size_t n = strlen(value), blen;
	unsigned long long clen;
	char *out;

	if (n > MT_IDENTITY_VALUE_MAX || ready() != 0)
		return NULL;
	randombytes_buf(buf, NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + NONCE_LEN, &clen,
	    (const unsigned char *)value, n, (const unsigned char *)
	    col_names[col], strlen(col_names[col]), NULL, buf, data_key);
	blen = sodium_base64_encoded_len(NONCE_LEN + clen,
	    sodium_base64_VARIANT_ORIGINAL);
	out = mt_xmalloc(blen);
	sodium_bin2base64(out, blen, buf, NONCE_LEN + clen,
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
	size_t blen;
	int rc = -1;

	if (sealed == NULL || ready() != 0 || sodium_base642bin(buf,
	    sizeof(buf), sealed, strlen(sealed), NULL, &blen, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    blen < NONCE_LEN + TAG_LEN ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL,
	    buf + NONCE_LEN, blen - NONCE_LEN, (const unsigned char *)
	    col_names[col], strlen(col_names[col]), buf, data_key) != 0 ||
	    plen >= size)
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
