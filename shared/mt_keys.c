/*
 * mt_keys.c -- see mt_keys.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "mt_config.h"
#include "mt_keys.h"
#include "mt_util.h"

/* Master keys a process has read, by id (a handful in a key's life). */
#define CACHE_MAX 16
static struct {
	int             id;
	unsigned char   key[MT_KEYS_LEN];
} cache[CACHE_MAX];
static int ncache;

/* The path of master key id (caller frees). */
static char *
key_path(int id)
{
	return mt_xasprintf("%s/master-%d.key", mt_cfg.files_keys_dir, id);
}

/* The id of a key file's name, or 0 when it is not one. */
static int
id_of(const char *name)
{
	return mt_name_number(name, "master-", ".key", 1);
}

int
mt_keys_current(void)
{
	return mt_dir_highest(mt_cfg.files_keys_dir, id_of);
}

long
mt_keys_age(int id)
{
	char *path = key_path(id);
	long age = mt_file_age(path);

	free(path);
	return age;
}

int
mt_keys_exists(int id)
{
	return mt_keys_age(id) >= 0;
}

int
mt_keys_new(void)
{
	unsigned char key[MT_KEYS_LEN];
	char hex[2 * MT_KEYS_LEN + 2], *path;
	struct stat st;
	int id, rc;

	if (stat(mt_cfg.files_keys_dir, &st) != 0)
		return -1;
	id = mt_keys_current() + 1;
	randombytes_buf(key, sizeof(key));
	mt_hex(key, sizeof(key), hex);
	strcat(hex, "\n");
	path = key_path(id);
	rc = mt_write_atomic(path, hex, 0400, &st, 1);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	free(path);
	return rc == 0 ? id : -1;
}

int
mt_keys_remove(int id)
{
	char *path = key_path(id);
	int rc = unlink(path);

	free(path);
	return rc;
}

/*
 * Read master key id into the cache (when full, into its last slot); its
 * slot, or -1 when the file cannot be read or is not a key.  The key is
 * decoded aside first: a bad file never overwrites a cached key.
 */
static int
key_load(int id)
{
	char hex[2 * MT_KEYS_LEN + 8], *path;
	unsigned char key[MT_KEYS_LEN];
	size_t got = 0;
	FILE *f;
	int i, slot = -1;

	for (i = 0; i < ncache; i++)
		if (cache[i].id == id)
			return i;
	path = key_path(id);
	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return -1;
	if (fgets(hex, sizeof(hex), f) == NULL ||
	    sodium_hex2bin(key, sizeof(key), hex, strlen(hex), "\n", &got,
	    NULL) != 0 || got != sizeof(key))
		goto out;
	slot = ncache < CACHE_MAX ? ncache++ : CACHE_MAX - 1;
	cache[slot].id = id;
	memcpy(cache[slot].key, key, sizeof(key));
out:
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(key, sizeof(key));
	fclose(f);
	return slot;
}

int
mt_keys_wrap(int kid, const char *ad, const unsigned char key[MT_KEYS_LEN],
    unsigned char out[MT_KEYS_WRAPPED])
{
	int slot = key_load(kid);

	if (slot < 0)
		return -1;
	randombytes_buf(out, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out +
	    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, key,
	    MT_KEYS_LEN, (const unsigned char *)ad, strlen(ad), NULL, out,
	    cache[slot].key);
	return 0;
}

int
mt_keys_unwrap(int kid, const char *ad,
    const unsigned char in[MT_KEYS_WRAPPED], unsigned char key[MT_KEYS_LEN])
{
	int slot = key_load(kid);

	if (slot < 0)
		return -1;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(key, NULL, NULL,
	    in + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    MT_KEYS_WRAPPED - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    (const unsigned char *)ad, strlen(ad), in, cache[slot].key) == 0 ?
	    0 : -1;
}
