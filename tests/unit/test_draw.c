/*
 * test_draw.c -- mt_draw_pick (shared/mt_draw.h) gives what the service's
 * draw_pick (sql/fn/15_draw.sql) gives: the vectors below were computed
 * by the SQL function (psql: SELECT draw_pick(seed, n, k)), so the C
 * verifier and the SQL draw are one rule.  Plus the rule's own
 * properties: a permutation when k = n, every position reachable,
 * arguments outside the rule refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mt_draw.h"
#include "unit.h"

struct vector {
	const char      *seed;     /* "seq": bytes 0..31; else SHA-256 of it */
	uint32_t         n, k;
	uint32_t         want[40];
};

static const struct vector vectors[] = {
	{ "seq", 10, 3, { 2, 0, 5 } },
	{ "seq", 1000, 10,
	  { 832, 344, 371, 883, 117, 802, 37, 961, 448, 551 } },
	{ "seq", 40, 40,
	  { 32, 17, 23, 36, 33, 0, 31, 34, 5, 2, 16, 8, 12, 15, 21, 7, 35, 9,
	    10, 11, 37, 27, 4, 29, 1, 19, 13, 30, 28, 25, 3, 14, 20, 24, 22,
	    39, 6, 26, 38, 18 } },
	{ "x", 7, 7, { 1, 3, 5, 2, 6, 4, 0 } },
	{ "x", 3, 1, { 0 } },
	{ "mtcert", 3, 3, { 1, 0, 2 } },
	{ "mtcert", 2, 1, { 0 } },
	{ "mtcert", 1, 1, { 0 } },
	{ "mtcert", 100000, 5, { 15016, 31109, 6716, 90159, 11408 } },
};

static void
seed_of(const char *s, unsigned char seed[MT_DRAW_SEED_LEN])
{
	int i;

	if (strcmp(s, "seq") == 0)
		for (i = 0; i < MT_DRAW_SEED_LEN; i++)
			seed[i] = (unsigned char)i;
	else
		crypto_hash_sha256(seed, (const unsigned char *)s, strlen(s));
}

static void
test_vectors(void)
{
	unsigned char seed[MT_DRAW_SEED_LEN];
	uint32_t got[40];
	size_t i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];

		seed_of(v->seed, seed);
		memset(got, 0xff, sizeof(got));
		CHECK(mt_draw_pick(seed, v->n, v->k, got) == 0 &&
		    memcmp(got, v->want, v->k * sizeof(uint32_t)) == 0,
		    "vector %zu (%s, n=%u, k=%u) equals draw_pick's: first %u",
		    i, v->seed, v->n, v->k, got[0]);
	}
}

static void
test_properties(void)
{
	unsigned char seed[MT_DRAW_SEED_LEN];
	uint32_t got[16], seen[5] = { 0 };
	int i, j, perm;

	/* k = n is a permutation of 0 .. n-1. */
	seed_of("perm", seed);
	CHECK(mt_draw_pick(seed, 16, 16, got) == 0, "16 of 16");
	perm = 1;
	for (i = 0; i < 16; i++)
		for (j = i + 1; j < 16; j++)
			if (got[i] == got[j] || got[i] >= 16)
				perm = 0;
	CHECK(perm, "16 of 16 is a permutation");

	/* Each of 5 positions is chosen first for some seed of 200 (the
	 * chance that one never is: 5 * 0.8^200, about 2e-19). */
	for (i = 0; i < 200; i++) {
		seed[0] = (unsigned char)i;
		seed[1] = (unsigned char)(i >> 8);
		if (mt_draw_pick(seed, 5, 1, got) == 0 && got[0] < 5)
			seen[got[0]]++;
	}
	for (i = 0; i < 5; i++)
		CHECK(seen[i] > 0, "position %d reachable (%u times)", i,
		    seen[i]);

	/* Same seed, same choice. */
	{
		uint32_t a[3], b[3];

		seed_of("again", seed);
		CHECK(mt_draw_pick(seed, 50, 3, a) == 0 &&
		    mt_draw_pick(seed, 50, 3, b) == 0 &&
		    memcmp(a, b, sizeof(a)) == 0, "deterministic");
	}

	CHECK(mt_draw_pick(seed, 0, 0, got) == -1, "an empty pool refused");
	CHECK(mt_draw_pick(seed, 3, 4, got) == -1, "k > n refused");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_vectors();
	test_properties();
	return unit_done();
}
