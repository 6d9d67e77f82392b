/*
 * mt_draw.c -- the draw rule in C (see mt_draw.h; the service's copy is
 * sql/fn/15_draw.sql).  SHA-256 is libsodium's.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mt_draw.h"

/* The stream of u32s of a seed: the current block and the next index. */
struct stream {
	const unsigned char *seed;
	unsigned char        block[crypto_hash_sha256_BYTES];
	uint64_t             have;   /* number of the block in `block`, +1 */
	uint64_t             next;   /* index of the next u32 */
};

static uint32_t
next_u32(struct stream *s)
{
	unsigned char in[MT_DRAW_SEED_LEN + 8];
	uint64_t b = s->next / 8;
	const unsigned char *p;
	int i;

	if (s->have != b + 1) {
		memcpy(in, s->seed, MT_DRAW_SEED_LEN);
		for (i = 0; i < 8; i++)
			in[MT_DRAW_SEED_LEN + i] = (unsigned char)(b >> (56 - 8 * i));
		crypto_hash_sha256(s->block, in, sizeof(in));
		s->have = b + 1;
	}
	p = s->block + (s->next % 8) * 4;
	s->next++;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A number below m (1 <= m), without modulo bias. */
static uint32_t
uniform(struct stream *s, uint32_t m)
{
	uint64_t lim = (1ULL << 32) - ((1ULL << 32) % m);
	uint32_t u;

	do
		u = next_u32(s);
	while (u >= lim);
	return u % m;
}

int
mt_draw_pick(const unsigned char seed[MT_DRAW_SEED_LEN], uint32_t n,
    uint32_t k, uint32_t *out)
{
	struct stream s = { seed, { 0 }, 0, 0 };
	uint32_t *pos, j, r, t;

	if (n < 1 || k > n)
		return -1;
	pos = malloc((size_t)n * sizeof(*pos));
	if (pos == NULL)
		return -1;
	for (j = 0; j < n; j++)
		pos[j] = j;
	for (j = 0; j < k; j++) {
		r = j + uniform(&s, n - j);
		t = pos[j];
		pos[j] = pos[r];
		pos[r] = t;
		out[j] = pos[j];
	}
	free(pos);
	return 0;
}
