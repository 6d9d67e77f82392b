/*
 * fuzz_card.c -- libFuzzer harness for the e-card token parser and the
 * keys file parser (shared/mt_card.c), the parts that see a stranger's
 * bytes: GET /cards/verify's token, `mtcertctl card verify`'s keys file.
 * Each input is tried four ways: as a whole token; as the payload of a
 * token signed with the harness's own key, so the payload's JSON parser
 * (reached only past a good signature) is fuzzed too; as a keys file;
 * and as a name on a card: shortened (mt_card_shorten) it stays within
 * its bytes, and when it was UTF-8 it stays UTF-8 and the card signs and
 * verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mt_card.h"
#include "mt_util.h"
#include "mt_valid.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static struct mt_card_key key;
static struct mt_card_keys keys = { &key, 1 };

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
setup(void)
{
	unsigned char seed[32];

	if (key.has_sk)
		return;
	if (sodium_init() < 0)
		abort();
	memset(seed, 7, sizeof(seed));
	crypto_sign_seed_keypair(key.pk, key.sk, seed);
	mt_card_kid(key.pk, key.kid);
	key.has_sk = key.current = 1;
}

/* A token whose payload is the input, signed with the harness's key. */
static char *
signed_payload(const uint8_t *data, size_t size)
{
	size_t n = sodium_base64_ENCODED_LEN(size, B64);
	char *p64 = mt_xmalloc(n), *head, *tok;
	unsigned char sig[crypto_sign_BYTES];
	char sig64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, B64)];

	sodium_bin2base64(p64, n, data, size, B64);
	head = mt_xasprintf("%s.%s.%s", MT_CARD_VERSION, key.kid, p64);
	crypto_sign_detached(sig, NULL, (unsigned char *)head, strlen(head),
	    key.sk);
	sodium_bin2base64(sig64, sizeof(sig64), sig, sizeof(sig), B64);
	tok = mt_xasprintf("%s.%s", head, sig64);
	free(p64);
	free(head);
	return tok;
}

/* s as the names of a card: see the comment at the top. */
static void
as_name(const char *s)
{
	struct mt_card c, back;
	const char *why;
	char *tok;

	memset(&c, 0, sizeof(c));
	c.qualification = 1;
	mt_card_shorten(s, c.disease_name);
	if (strlen(c.disease_name) >= MT_CARD_NAME_MAX)
		abort();
	if (!mt_valid_utf8(s, strlen(s)) || s[0] == '\0')
		return;
	if (!mt_valid_utf8(c.disease_name, strlen(c.disease_name)) ||
	    mt_utf8_chars(c.disease_name) > MT_CARD_NAME_CHARS)
		abort();
	mt_card_shorten(s, c.institution_name);
	mt_card_shorten(s, c.name);
	strcpy(c.id_number, "6301**********5814");
	strcpy(c.disease, "D006");
	strcpy(c.institution, "H63010200018");
	strcpy(c.valid_from, "2026-11-30");
	strcpy(c.valid_to, "2028-11-28");
	strcpy(c.issued_on, "2026-11-30");
	if ((tok = mt_card_sign(&key, &c, &why)) == NULL ||
	    mt_card_verify(&keys, tok, &back) != MT_CARD_OK)
		abort();        /* every UTF-8 name makes a card */
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mt_card c;
	struct mt_card_keys parsed;
	char *s = mt_xmalloc(size + 1), *tok;

	setup();
	memcpy(s, data, size);
	s[size] = '\0';
	if (mt_card_verify(&keys, s, &c) == MT_CARD_OK)
		abort();        /* nothing but the key signs */
	tok = signed_payload(data, size);
	if (mt_card_verify(&keys, tok, &c) == MT_CARD_OK &&
	    (c.qualification <= 0 || strlen(c.valid_to) != 10))
		abort();        /* a card that passed must be whole */
	free(tok);
	if (mt_card_keys_parse(s, &parsed, NULL, 0) == 0)
		mt_card_keys_free(&parsed);
	as_name(s);
	free(s);
	return 0;
}
