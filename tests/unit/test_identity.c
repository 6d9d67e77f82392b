/*
 * test_identity.c -- mt_identity (mt_identity.h): the lookup HMACs
 * against values computed independently (Python's hmac module, key 32
 * bytes of 0x02), and sealing round trips and refusals: another column,
 * another key, a flipped byte, a value too long, no key files; numbered
 * data keys (rotation): each value names its key, old ones still open.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mt_config.h"
#include "mt_identity.h"
#include "unit.h"

static unsigned char key_a[MT_IDENTITY_KEY_LEN];
static unsigned char key_b[MT_IDENTITY_KEY_LEN];
static unsigned char key_c[MT_IDENTITY_KEY_LEN];

static const struct {
	enum mt_identity_col col;
	const char *value;
	const char *hmac;
} hmacs[] = {
	{ MT_IDENTITY_ID_NUMBER, "41120019580312013X",
	  "f0971e2d54d89aea26783152775ac4490275740002c6d1bbae20167e2774c3b3" },
	{ MT_IDENTITY_PHONE, "13800000001",
	  "7897828466eb0efb47a92dc58a8ee6b28df178cd41892da52261d0c20bb69b44" },
	/* The same text in another column is another HMAC. */
	{ MT_IDENTITY_ID_NUMBER, "13800000001",
	  "14bacc30577833239b3f4e5433cac0f960b6390c149987c4120f6248b2fb4c4b" },
	{ MT_IDENTITY_PHONE, "",
	  "825de927117ad2559039cc8fdeb0ac2a7992c8ab606c228cf6baab265362ec53" },
	/* An ID number's x is its X. */
	{ MT_IDENTITY_ID_NUMBER, "41120019580312013x",
	  "f0971e2d54d89aea26783152775ac4490275740002c6d1bbae20167e2774c3b3" },
};

/* The HMAC table under lookup key 0x02..., then under another key. */
static void
test_hmac(void)
{
	char out[MT_IDENTITY_HMAC_LEN + 1], err[256];
	size_t i;

	CHECK(mt_identity_keys(key_a, key_b, err, sizeof(err)) == 0, "%s",
	    err);
	for (i = 0; i < sizeof(hmacs) / sizeof(hmacs[0]); i++) {
		CHECK(mt_identity_hmac(hmacs[i].col, hmacs[i].value,
		    out) == 0 && strcmp(out, hmacs[i].hmac) == 0, "%s %s: %s",
		    mt_identity_col_name(hmacs[i].col), hmacs[i].value, out);
	}
	CHECK(mt_identity_keys(key_a, key_c, err, sizeof(err)) == 0, "%s",
	    err);
	CHECK(mt_identity_hmac(hmacs[0].col, hmacs[0].value, out) == 0 &&
	    strcmp(out, hmacs[0].hmac) != 0, "another key, another HMAC");
}

static const char *const values[] = { "41120019580312013X",
	"13800000001", "", "12345678901234567890123456789012" };

/* Round trips, and each way an opening must fail. */
static void
test_seal(void)
{
	char out[MT_IDENTITY_VALUE_MAX + 1], err[256], *s, *t;
	size_t i;

	mt_identity_keys(key_a, key_b, err, sizeof(err));
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		s = mt_identity_seal(MT_IDENTITY_PHONE, values[i]);
		t = mt_identity_seal(MT_IDENTITY_PHONE, values[i]);
		CHECK(s != NULL && t != NULL && strcmp(s, t) != 0,
		    "two seals of %s differ (random nonce)", values[i]);
		CHECK((s != NULL && strstr(s, values[i]) == NULL) ||
		    values[i][0] == '\0', "%s not in its seal", values[i]);
		CHECK(mt_identity_open(MT_IDENTITY_PHONE, s, out,
		    sizeof(out)) == 0 && strcmp(out, values[i]) == 0,
		    "round trip %s", values[i]);
		CHECK(mt_identity_open(MT_IDENTITY_ID_NUMBER, s, out,
		    sizeof(out)) != 0, "%s opened as another column",
		    values[i]);
		CHECK(strlen(values[i]) < 4 ||
		    mt_identity_open(MT_IDENTITY_PHONE, s, out, 4) != 0,
		    "%s does not fit 4 bytes", values[i]);
		s[strlen(s) / 2] = s[strlen(s) / 2] == 'A' ? 'B' : 'A';
		CHECK(mt_identity_open(MT_IDENTITY_PHONE, s, out,
		    sizeof(out)) != 0, "a flipped byte opens: %s", s);
		free(s);
		mt_identity_keys(key_c, key_b, err, sizeof(err));
		CHECK(mt_identity_open(MT_IDENTITY_PHONE, t, out,
		    sizeof(out)) != 0, "%s opened under another key",
		    values[i]);
		mt_identity_keys(key_a, key_b, err, sizeof(err));
		free(t);
	}
	CHECK(mt_identity_seal(MT_IDENTITY_PHONE,
	    "123456789012345678901234567890123") == NULL, "33 bytes sealed");
	CHECK(mt_identity_open(MT_IDENTITY_PHONE, "not base64!", out,
	    sizeof(out)) != 0, "garbage opened");
	CHECK(mt_identity_open(MT_IDENTITY_PHONE, "", out, sizeof(out)) != 0,
	    "empty opened");
}

/* No key files: every call refuses, none crashes. */
static void
test_no_keys(void)
{
	char out[MT_IDENTITY_HMAC_LEN + 1], err[256];

	mt_cfg.identity_keys_dir = "/nonexistent/mtcert-identity";
	CHECK(mt_identity_keys(NULL, NULL, err, sizeof(err)) != 0 &&
	    strstr(err, "data.key") != NULL, "%s", err);
	CHECK(mt_identity_hmac(MT_IDENTITY_PHONE, "13800000001", out) != 0,
	    "HMAC without keys");
	CHECK(mt_identity_seal(MT_IDENTITY_PHONE, "13800000001") == NULL,
	    "seal without keys");
	mt_cfg.identity_keys_dir = NULL;
}

/* Write n bytes of key to dir/name.  0/-1. */
static int
put_key(const char *dir, const char *name, const unsigned char *key)
{
	char path[512];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	rc = fwrite(key, 1, MT_IDENTITY_KEY_LEN, f) == MT_IDENTITY_KEY_LEN;
	return fclose(f) == 0 && rc ? 0 : -1;
}

/*
 * Numbered data keys in a directory: data.key is key 1 and its seals are
 * bare base64 (as before rotation); data_new makes key 2, whose seals
 * say "2:"; both open; a value naming a missing key or a bad number
 * does not; key 1 removed, its values no longer open.
 */
static void
test_rotation(void)
{
	char dir[] = "/tmp/mt-identity-XXXXXX", out[MT_IDENTITY_VALUE_MAX + 1];
	char err[256], buf[256], *a = NULL, *b = NULL;

	if (mkdtemp(dir) == NULL || put_key(dir, "data.key", key_a) != 0 ||
	    put_key(dir, "lookup.key", key_b) != 0) {
		CHECK(0, "cannot make %s", dir);
		return;
	}
	mt_cfg.identity_keys_dir = dir;
	CHECK(mt_identity_keys(NULL, NULL, err, sizeof(err)) == 0, "%s", err);
	CHECK(mt_identity_data_current() == 1, "key 1 is data.key");
	a = mt_identity_seal(MT_IDENTITY_PHONE, "13800000001");
	CHECK(a != NULL && strchr(a, ':') == NULL, "key 1 seals bare");
	CHECK(mt_identity_data_new() == 2 && mt_identity_data_current() == 2,
	    "a new key is 2, current");
	b = mt_identity_seal(MT_IDENTITY_PHONE, "13800000002");
	CHECK(b != NULL && strncmp(b, "2:", 2) == 0, "key 2 says so");
	CHECK(a != NULL && mt_identity_open(MT_IDENTITY_PHONE, a, out,
	    sizeof(out)) == 0 && strcmp(out, "13800000001") == 0, "1 opens");
	CHECK(b != NULL && mt_identity_open(MT_IDENTITY_PHONE, b, out,
	    sizeof(out)) == 0 && strcmp(out, "13800000002") == 0, "2 opens");
	snprintf(buf, sizeof(buf), "3:%s", b != NULL ? b + 2 : "");
	CHECK(mt_identity_open(MT_IDENTITY_PHONE, buf, out, sizeof(out)) != 0,
	    "a missing key 3 opens");
	snprintf(buf, sizeof(buf), "%s", b != NULL ? b + 2 : "");
	CHECK(mt_identity_open(MT_IDENTITY_PHONE, buf, out, sizeof(out)) != 0,
	    "key 2's value opens as key 1's");
	CHECK(mt_identity_open(MT_IDENTITY_PHONE, "x:AAAA", out,
	    sizeof(out)) != 0, "a bad key number opens");
	CHECK(mt_identity_data_remove(1) == 0 && a != NULL &&
	    mt_identity_open(MT_IDENTITY_PHONE, a, out, sizeof(out)) != 0,
	    "a removed key still opens");
	CHECK(mt_identity_data_age(1) < 0 && mt_identity_data_age(2) >= 0,
	    "ages");
	free(a);
	free(b);
	snprintf(buf, sizeof(buf), "%s/data-2.key", dir);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s/lookup.key", dir);
	unlink(buf);
	rmdir(dir);
	mt_cfg.identity_keys_dir = NULL;
	mt_identity_keys(key_a, key_b, err, sizeof(err));
}

static const struct {
	enum mt_identity_col col;
	const char *value, *masked;
} masks[] = {
	{ MT_IDENTITY_ID_NUMBER, "41120019580312013X", "4112**********013X" },
	{ MT_IDENTITY_ID_NUMBER, "123456789", "1234*6789" },
	{ MT_IDENTITY_ID_NUMBER, "12345678", "********" },
	{ MT_IDENTITY_ID_NUMBER, "", "" },
	{ MT_IDENTITY_PHONE, "13800000001", "138****0001" },
	{ MT_IDENTITY_PHONE, "12345678", "123*5678" },
	{ MT_IDENTITY_PHONE, "1234567", "*******" },
};

/* The masks of API.md, as sql/fn/10_util.sql's mask_id and mask_phone. */
static void
test_mask(void)
{
	char out[MT_IDENTITY_VALUE_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++)
		CHECK(mt_identity_mask(masks[i].col, masks[i].value, out,
		    sizeof(out)) == 0 && strcmp(out, masks[i].masked) == 0,
		    "%s -> %s", masks[i].value, out);
	CHECK(mt_identity_mask(MT_IDENTITY_PHONE, "13800000001", out, 11) != 0,
	    "11 characters in 11 bytes");
}

int
main(void)
{
	memset(key_a, 1, sizeof(key_a));
	memset(key_b, 2, sizeof(key_b));
	memset(key_c, 3, sizeof(key_c));
	test_hmac();
	test_seal();
	test_no_keys();
	test_rotation();
	test_mask();
	return unit_done();
}
