/*
 * mt_draw.h -- the rule of every recorded random choice (R-SUP-7), in C,
 * so an auditor's tool recomputes what PostgreSQL drew: `mtcertctl draw
 * verify` and `mtcertctl audit verify`.  The one definition the service
 * draws with is draw_pick in sql/fn/15_draw.sql; this is its twin, kept
 * equal by tests/unit/test_draw.c (vectors computed by the SQL function)
 * and by the API tests that verify every draw of the suite.
 *
 * Rule 'sha256-ctr-u32-fy/1': the 32-byte seed expanded by SHA-256 in
 * counter mode (block b = SHA-256(seed || b as 8 bytes big-endian)), read
 * as big-endian u32s; a number below m is the next u32 u with u < 2^32 -
 * (2^32 mod m) (rejection: no modulo bias), mod m; k of n chosen by a
 * partial Fisher-Yates shuffle of the positions 0 .. n-1.
 */
#ifndef MT_DRAW_H
#define MT_DRAW_H

#include <stddef.h>
#include <stdint.h>

#define MT_DRAW_RULE      "sha256-ctr-u32-fy/1"
#define MT_DRAW_SEED_LEN  32

/*
 * The positions (0-based, in draw order) the rule chooses: k of n for
 * seed, into out[0 .. k-1].  Returns 0, or -1 when the arguments are
 * outside the rule (n < 1, k > n) or memory ran out.
 */
int mt_draw_pick(const unsigned char seed[MT_DRAW_SEED_LEN], uint32_t n,
    uint32_t k, uint32_t *out);

#endif
