/*
 * test_card.c -- the e-card token and its keys (shared/mt_card.c):
 * tables of tokens that must verify and that must not, with the reason;
 * tables of keys files; making, rotating and reloading keys in a
 * temporary directory.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mt_card.h"
#include "mt_util.h"
#include "mt_valid.h"
#include "unit.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static struct mt_card
sample(void)
{
	struct mt_card c;

	memset(&c, 0, sizeof(c));
	c.qualification = 26;
	strcpy(c.name, "李**");
	strcpy(c.id_number, "6301**********5814");
	strcpy(c.disease, "D013");
	strcpy(c.disease_name, "冠状动脉粥样硬化性心脏病");
	strcpy(c.institution, "H63010200018");
	strcpy(c.institution_name,
	    "东关大街社区卫生服务中心（西宁市回族医院）");
	strcpy(c.valid_from, "2026-11-30");
	strcpy(c.valid_to, "2028-11-28");
	strcpy(c.issued_on, "2026-11-30");
	return c;
}

/* A key made from a fixed seed byte, current. */
static struct mt_card_key
key_of(unsigned char b)
{
	struct mt_card_key k;
	unsigned char seed[32];

	memset(&k, 0, sizeof(k));
	memset(seed, b, sizeof(seed));
	crypto_sign_seed_keypair(k.pk, k.sk, seed);
	mt_card_kid(k.pk, k.kid);
	k.has_sk = 1;
	k.current = 1;
	strcpy(k.created_at, "2026-11-30T00:00:00Z");
	return k;
}

/* token with its payload replaced by the base64url of text. */
static char *
with_payload(const char *token, const char *text)
{
	const char *d2 = strchr(token + 4, '.'), *d3 = strrchr(token, '.');
	char b[2048];

	sodium_bin2base64(b, sizeof(b), (const unsigned char *)text,
	    strlen(text), B64);
	return mt_xasprintf("%.*s.%s%s", (int)(d2 - token), token, b, d3);
}

/* A token of key whose payload is text, properly signed: what only a
 * leaked key could make, checked all the same. */
static char *
signed_payload(const struct mt_card_key *k, const char *text)
{
	unsigned char sig[crypto_sign_BYTES];
	char b[2048], s64[128], *head, *tok;

	sodium_bin2base64(b, sizeof(b), (const unsigned char *)text,
	    strlen(text), B64);
	head = mt_xasprintf("MC1.%s.%s", k->kid, b);
	crypto_sign_detached(sig, NULL, (unsigned char *)head, strlen(head),
	    k->sk);
	sodium_bin2base64(s64, sizeof(s64), sig, sizeof(sig), B64);
	tok = mt_xasprintf("%s.%s", head, s64);
	free(head);
	return tok;
}

static void
test_signed_payloads(void)
{
	static const char *const bad[] = {
		"", "[]", "{}", "null", "{\"q\":1}",
		/* a date longer than its field (found by fuzz_card) */
		"{\"q\":1,\"n\":\"a\",\"i\":\"b\",\"d\":\"c\","
		"\"dn\":\"d\",\"h\":\"e\",\"hn\":\"f\","
		"\"f\":\"2026-11-30KKKKKKKKKKKKKKKK\",\"t\":\"2026-11-30\","
		"\"at\":\"2026-11-30\"}",
		/* q not a number, not positive */
		"{\"q\":\"1\",\"n\":\"a\",\"i\":\"b\",\"d\":\"c\","
		"\"dn\":\"d\",\"h\":\"e\",\"hn\":\"f\",\"f\":\"2026-11-30\","
		"\"t\":\"2026-11-30\",\"at\":\"2026-11-30\"}",
		"{\"q\":0,\"n\":\"a\",\"i\":\"b\",\"d\":\"c\","
		"\"dn\":\"d\",\"h\":\"e\",\"hn\":\"f\",\"f\":\"2026-11-30\","
		"\"t\":\"2026-11-30\",\"at\":\"2026-11-30\"}",
		/* an eleventh member */
		"{\"q\":1,\"n\":\"a\",\"i\":\"b\",\"d\":\"c\","
		"\"dn\":\"d\",\"h\":\"e\",\"hn\":\"f\",\"f\":\"2026-11-30\","
		"\"t\":\"2026-11-30\",\"at\":\"2026-11-30\",\"x\":1}",
		/* trailing bytes */
		"{\"q\":1,\"n\":\"a\",\"i\":\"b\",\"d\":\"c\","
		"\"dn\":\"d\",\"h\":\"e\",\"hn\":\"f\",\"f\":\"2026-11-30\","
		"\"t\":\"2026-11-30\",\"at\":\"2026-11-30\"} x",
	};
	struct mt_card_key k = key_of(5);
	struct mt_card_keys keys = { &k, 1 };
	struct mt_card out;
	size_t i;
	char *t;

	for (i = 0; i < MT_ARRAY_LEN(bad); i++) {
		t = signed_payload(&k, bad[i]);
		CHECK(mt_card_verify(&keys, t, &out) == MT_CARD_MALFORMED &&
		    strcmp(out.kid, k.kid) == 0, "signed payload %zu", i);
		free(t);
	}
}

static void
test_tokens(void)
{
	struct mt_card_key k = key_of(1), other = key_of(2);
	struct mt_card_keys keys = { &k, 1 }, others = { &other, 1 };
	struct mt_card c = sample(), out;
	const char *why;
	char *tok = mt_card_sign(&k, &c, &why), *t;
	size_t n, i;
	struct { const char *name; char *token; enum mt_card_reason want; }
	    bad[16];

	CHECK(tok != NULL && strncmp(tok, "MC1.", 4) == 0, "signed %s",
	    unit_str(tok));
	CHECK(strlen(tok) < 600, "short enough for a QR: %zu", strlen(tok));
	CHECK(mt_card_verify(&keys, tok, &out) == MT_CARD_OK, "genuine");
	CHECK(strcmp(out.name, c.name) == 0 && out.qualification == 26 &&
	    strcmp(out.institution_name, c.institution_name) == 0 &&
	    strcmp(out.kid, k.kid) == 0 && strcmp(out.issued_on,
	    "2026-11-30") == 0, "fields back %s", unit_str(out.name));
	n = 0;
	bad[n].name = "empty"; bad[n].token = mt_xstrdup("");
	bad[n++].want = MT_CARD_MALFORMED;
	bad[n].name = "truncated"; bad[n].token = mt_xstrndup(tok,
	    strlen(tok) - 3); bad[n++].want = MT_CARD_MALFORMED;
	bad[n].name = "no signature"; bad[n].token = mt_xstrndup(tok,
	    (size_t)(strrchr(tok, '.') - tok)); bad[n++].want =
	    MT_CARD_MALFORMED;
	t = mt_xstrdup(tok);
	t[strlen(t) - 20] = t[strlen(t) - 20] == 'A' ? 'B' : 'A';
	bad[n].name = "altered signature"; bad[n].token = t;
	bad[n++].want = MT_CARD_BAD_SIGNATURE;
	t = mt_xstrdup(tok);
	t[30] = t[30] == 'A' ? 'B' : 'A';
	bad[n].name = "altered payload"; bad[n].token = t;
	bad[n++].want = MT_CARD_BAD_SIGNATURE;
	bad[n].name = "forged payload"; bad[n].token = with_payload(tok,
	    "{\"q\":27}"); bad[n++].want = MT_CARD_BAD_SIGNATURE;
	t = mt_xstrdup(tok);
	memcpy(t + 4, "000000000000", 12);
	bad[n].name = "unknown key"; bad[n].token = t;
	bad[n++].want = MT_CARD_UNKNOWN_KEY;
	t = mt_xstrdup(tok);
	t[2] = '2';
	bad[n].name = "version"; bad[n].token = t;
	bad[n++].want = MT_CARD_MALFORMED;
	bad[n].name = "extra part"; bad[n].token = mt_xasprintf("%s.x", tok);
	bad[n++].want = MT_CARD_MALFORMED;
	bad[n].name = "non-ASCII"; bad[n].token = mt_xstrdup("MC1.凭证.a.b");
	bad[n++].want = MT_CARD_MALFORMED;
	bad[n].name = "upper-case kid"; bad[n].token = mt_xstrdup(
	    "MC1.ABCDEF012345.e30.AAAA"); bad[n++].want = MT_CARD_MALFORMED;
	bad[n].name = "short kid"; bad[n].token = mt_xstrdup(
	    "MC1.abcdef01234.e30.AAAA"); bad[n++].want = MT_CARD_MALFORMED;
	bad[n].name = "non-hex kid"; bad[n].token = mt_xstrdup(
	    "MC1.abcdef01234g.e30.AAAA"); bad[n++].want = MT_CARD_MALFORMED;
	t = mt_xmalloc(MT_CARD_TOKEN_MAX + 100);
	memset(t, 'A', MT_CARD_TOKEN_MAX + 99);
	memcpy(t, tok, strlen(tok));
	t[MT_CARD_TOKEN_MAX + 99] = '\0';
	bad[n].name = "huge"; bad[n].token = t;
	bad[n++].want = MT_CARD_MALFORMED;
	for (i = 0; i < n; i++) {
		enum mt_card_reason r = mt_card_verify(&keys, bad[i].token,
		    &out);
		CHECK(r == bad[i].want, "%s: %s, want %s", bad[i].name,
		    mt_card_reason_code(r), mt_card_reason_code(bad[i].want));
		CHECK(strlen(mt_card_reason_text(r)) > 0, "%s has a text",
		    bad[i].name);
		free(bad[i].token);
	}
	/* Another deployment's key: unknown here, genuine there. */
	CHECK(mt_card_verify(&others, tok, &out) == MT_CARD_UNKNOWN_KEY,
	    "other keys");
	/* The longest field round-trips; a card too long for a QR code
	 * (every text at its longest) is refused at signing. */
	memset(c.institution_name, 'x', sizeof(c.institution_name) - 1);
	c.institution_name[sizeof(c.institution_name) - 1] = '\0';
	t = mt_card_sign(&k, &c, &why);
	CHECK(t != NULL && mt_card_verify(&keys, t, &out) == MT_CARD_OK,
	    "longest field");
	free(t);
	strcpy(c.name, c.institution_name);
	strcpy(c.disease_name, c.institution_name);
	strcpy(c.id_number, c.institution_name);
	strcpy(c.institution, c.institution_name);
	t = mt_card_sign(&k, &c, &why);
	CHECK(t == NULL && strstr(why, "TOKEN_MAX") != NULL,
	    "over-long card refused: %s", why);
	free(t);
	free(tok);
}

/* The longest disease name of the reference data (D006, 52 characters,
 * 156 bytes: cut at 127 bytes it once made every such card malformed). */
#define D006 "重性精神疾病（包括精神分裂症、双相障碍、妄想性障碍、" \
	"分裂情感性障碍、癫痫性精神病、重度以上精神发育迟滞）"

static void
test_shorten(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "", "" },
		{ "李**", "李**" },
		{ "冠状动脉粥样硬化性心脏病", "冠状动脉粥样硬化性心脏病" },
		/* 24 characters: whole */
		{ "一二三四五六七八九十一二三四五六七八九十一二三四",
		  "一二三四五六七八九十一二三四五六七八九十一二三四" },
		/* 25: 23 and the ellipsis */
		{ "一二三四五六七八九十一二三四五六七八九十一二三四五",
		  "一二三四五六七八九十一二三四五六七八九十一二三…" },
		{ D006, "重性精神疾病（包括精神分裂症、双相障碍、妄想性…" },
		/* four-byte characters (CJK extension B) */
		{ "𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇𠀈𠀉𠀊𠀋𠀌𠀍𠀎𠀏𠀐𠀑𠀒𠀓𠀔𠀕𠀖𠀗𠀘𠀙",
		  "𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇𠀈𠀉𠀊𠀋𠀌𠀍𠀎𠀏𠀐𠀑𠀒𠀓𠀔𠀕𠀖…" },
		{ "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvw…" },
		{ "第一人民医院abcdefghijklmnopqrstuvwxyz",
		  "第一人民医院abcdefghijklmnopq…" },
	};
	char out[MT_CARD_TEXT_MAX], junk[400];
	size_t i;

	for (i = 0; i < MT_ARRAY_LEN(t); i++) {
		memset(out, 'Z', sizeof(out));
		mt_card_shorten(t[i].in, out);
		CHECK(strcmp(out, t[i].want) == 0 &&
		    mt_valid_utf8(out, strlen(out)) &&
		    mt_utf8_chars(out) <= MT_CARD_NAME_CHARS,
		    "shorten %zu: %s", i, out);
	}
	/* Not UTF-8 (a lead byte and a run of continuation bytes): stays
	 * inside its bytes; the signer refuses what comes out. */
	memset(junk, 0x80, sizeof(junk) - 1);
	junk[0] = (char)0xe4;
	junk[sizeof(junk) - 1] = '\0';
	mt_card_shorten(junk, out);
	CHECK(strlen(out) < MT_CARD_NAME_MAX, "junk bounded: %zu",
	    strlen(out));
}

/* Every name at its longest, shortened, signs and verifies; a field the
 * verifier would refuse is refused at signing, never emitted. */
static void
test_sign_only_verifiable(void)
{
	struct mt_card_key k = key_of(6);
	struct mt_card_keys keys = { &k, 1 };
	struct mt_card c = sample(), out;
	char name[600];
	const char *why;
	char *t;
	int i;

	mt_card_shorten(D006, c.disease_name);
	for (name[0] = '\0', i = 0; i < 128; i++)
		strcat(name, i % 7 == 6 ? "𠀀" : "院");
	mt_card_shorten(name, c.institution_name);
	mt_card_shorten("阿**********************************", c.name);
	t = mt_card_sign(&k, &c, &why);
	CHECK(t != NULL && mt_card_verify(&keys, t, &out) == MT_CARD_OK &&
	    strcmp(out.disease_name, c.disease_name) == 0 &&
	    strcmp(out.institution_name, c.institution_name) == 0,
	    "longest names sign and verify (%s)", why);
	CHECK(t != NULL && strlen(t) < 700, "still small for a QR: %zu",
	    t != NULL ? strlen(t) : 0);
	free(t);
	/* The old bug: the D006 name cut at 127 bytes, mid-character. */
	memcpy(c.disease_name, D006, sizeof(c.disease_name) - 1);
	c.disease_name[sizeof(c.disease_name) - 1] = '\0';
	t = mt_card_sign(&k, &c, &why);
	CHECK(t == NULL && strstr(why, "UTF-8") != NULL, "cut UTF-8: %s",
	    why);
	free(t);
	c = sample();
	c.institution_name[0] = '\0';
	t = mt_card_sign(&k, &c, &why);
	CHECK(t == NULL, "empty name refused: %s", why);
	free(t);
	c = sample();
	strcpy(c.valid_to, "2026-13-01");
	t = mt_card_sign(&k, &c, &why);
	CHECK(t == NULL, "bad date refused: %s", why);
	free(t);
	k.has_sk = 0;
	c = sample();
	CHECK(mt_card_sign(&k, &c, &why) == NULL, "no secret: %s", why);
}

static void
test_reasons(void)
{
	int r;

	for (r = MT_CARD_MALFORMED; r < MT_CARD__MAX; r++)
		CHECK(mt_card_reason_of(mt_card_reason_code(
		    (enum mt_card_reason)r)) == (enum mt_card_reason)r,
		    "reason %d round trip", r);
	CHECK(mt_card_reason_of("nonsense") == MT_CARD__MAX, "unknown code");
	CHECK(mt_card_reason_of("") == MT_CARD__MAX, "empty code");
}

static void
test_keys_files(void)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"keys\":{}}",
		"{\"keys\":[{\"key_id\":\"0123456789ab\"}]}",
		/* a key id that is not its public key's */
		"{\"keys\":[{\"key_id\":\"0123456789ab\",\"algorithm\":"
		"\"Ed25519\",\"public_key\":"
		"\"iSNv9k6mMdP4vqV7KjcbLThnzvfOPDUoqMOk_05G3cU\","
		"\"created_at\":\"x\",\"current\":true}]}",
		/* not 32 bytes */
		"{\"keys\":[{\"key_id\":\"0123456789ab\",\"algorithm\":"
		"\"Ed25519\",\"public_key\":\"AAAA\",\"created_at\":\"x\","
		"\"current\":true}]}",
	};
	/* A member of another JSON type than its own, in an otherwise
	 * good key (a null algorithm once crashed `mtcertctl card
	 * verify`). */
	static const struct {
		const char *member, *value;
	} mistyped[] = {
		{ "algorithm", "null" }, { "algorithm", "1" },
		{ "algorithm", "[]" }, { "algorithm", "{}" },
		{ "key_id", "null" }, { "key_id", "7" },
		{ "public_key", "null" }, { "public_key", "{}" },
		{ "created_at", "null" }, { "created_at", "false" },
		{ "current", "null" }, { "current", "\"true\"" },
		{ "current", "1" },
	};
	struct mt_card_key k[2] = { key_of(3), key_of(4) };
	struct mt_card_keys keys = { k, 2 }, back;
	json_object *j, *one;
	const char *text;
	size_t i;

	for (i = 0; i < MT_ARRAY_LEN(bad); i++)
		CHECK(mt_card_keys_parse(bad[i], &back, NULL, 0) == -1 &&
		    back.n == 0, "bad keys file %zu", i);
	for (i = 0; i < MT_ARRAY_LEN(mistyped); i++) {
		j = mt_card_keys_json(&(struct mt_card_keys){ &k[1], 1 });
		one = json_object_array_get_idx(json_object_object_get(j,
		    "keys"), 0);
		json_object_object_add(one, mistyped[i].member,
		    json_tokener_parse(mistyped[i].value));
		text = json_object_to_json_string(j);
		CHECK(mt_card_keys_parse(text, &back, NULL, 0) == -1 &&
		    back.n == 0, "%s %s refused", mistyped[i].member,
		    mistyped[i].value);
		json_object_put(j);
	}
	CHECK(mt_card_keys_parse("{\"keys\":[\"x\",1,null]}", &back, NULL,
	    0) == -1, "keys not objects");
	/* Two current keys are one too many. */
	j = mt_card_keys_json(&keys);
	CHECK(mt_card_keys_parse(json_object_to_json_string(j), &back,
	    NULL, 0) == -1, "two current keys");
	json_object_put(j);
	k[0].current = 0;
	j = mt_card_keys_json(&keys);
	CHECK(mt_card_keys_parse(json_object_to_json_string(j), &back,
	    NULL, 0) == 0 && back.n == 2, "round trip");
	CHECK(mt_card_keys_find(&back, NULL) != NULL &&
	    strcmp(mt_card_keys_find(&back, NULL)->kid, k[1].kid) == 0,
	    "current found");
	CHECK(mt_card_keys_find(&back, k[0].kid) != NULL &&
	    !back.k[0].has_sk, "public only");
	mt_card_keys_free(&back);
	json_object_put(j);
}

static void
test_make_rotate_reload(void)
{
	char dir[] = "/tmp/test_card.XXXXXX", kid1[13], kid2[13], *sub, *p;
	struct mt_card_keys keys;
	struct mt_card_ring ring = {0};
	struct mt_card c = sample(), out;
	struct stat st;
	const char *why;
	char *old;

	if (mkdtemp(dir) == NULL)
		return (void)CHECK(0, "mkdtemp");
	sub = mt_xasprintf("%s/card", dir);
	CHECK(mt_card_ring_fresh(&ring, sub, 1) == -1, "no keys yet");
	CHECK(mt_card_keys_new(sub, kid1, NULL, 0) == 0, "first key");
	p = mt_xasprintf("%s/%s.key", sub, kid1);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600, "key 0600");
	free(p);
	CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700, "dir 0700");
	CHECK(mt_card_ring_fresh(&ring, sub, 1) == 0 &&
	    strcmp(mt_card_keys_find(&ring.keys, NULL)->kid, kid1) == 0,
	    "loaded with secret");
	old = mt_card_sign(mt_card_keys_find(&ring.keys, NULL), &c, &why);
	CHECK(mt_card_keys_new(sub, kid2, NULL, 0) == 0 &&
	    strcmp(kid1, kid2) != 0, "rotated");
	CHECK(mt_card_ring_fresh(&ring, sub, 1) == 0 &&
	    strcmp(mt_card_keys_find(&ring.keys, NULL)->kid, kid2) == 0,
	    "reloaded on change");
	CHECK(mt_card_keys_load(sub, 0, &keys, NULL, 0) == 0 && keys.n == 2,
	    "both keys listed");
	CHECK(old != NULL && mt_card_verify(&keys, old, &out) == MT_CARD_OK,
	    "old card still genuine");
	mt_card_keys_free(&keys);
	mt_card_keys_free(&ring.keys);
	free(old);
	p = mt_xasprintf("rm -rf '%s'", dir);
	CHECK(system(p) == 0, "cleanup");
	free(p);
	free(sub);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_tokens();
	test_signed_payloads();
	test_shorten();
	test_sign_only_verifiable();
	test_reasons();
	test_keys_files();
	test_make_rotate_reload();
	return unit_done();
}
