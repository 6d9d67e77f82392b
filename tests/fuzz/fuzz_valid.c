/*
 * fuzz_valid.c -- libFuzzer harness for the pure parsers of mt_valid.h
 * that see raw client input: URL decoding (query strings), UTF-8 checks
 * (bodies, paths), path matching (routes) and every validator.  Built and
 * run by `make fuzz` (clang, -fsanitize=fuzzer,address,undefined); any
 * crash, out-of-bounds access or UB report fails the run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mt_valid.h"

static const char *const patterns[] = {
	"/diseases/{code}", "/applications/{id}/materials/{mid}",
	"/expert/tasks/{aid}/accept", "/health",
};

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mt_span caps[4];
	char *s, *out;
	size_t i, n;
	long len;

	/* A NUL-terminated copy of exactly the input. */
	s = malloc(size + 1);
	out = malloc(size + 1);
	if (s == NULL || out == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	len = mt_url_decode(s, size, out, size & 1);
	if (len >= 0 && (size_t)len > size)
		abort();
	if (mt_valid_utf8(s, size) && len >= 0)
		(void)mt_valid_utf8(out, (size_t)len);
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		if (mt_path_match(patterns[i], s, caps, 4, &n))
			while (n-- > 0)
				if (caps[n].p < s || caps[n].p + caps[n].n >
				    s + strlen(s))
					abort();
	(void)mt_valid_id_number(s);
	(void)mt_valid_phone(s);
	(void)mt_valid_date(s);
	(void)mt_valid_quarter(s);
	(void)mt_valid_region(s);
	(void)mt_valid_disease_code(s);
	(void)mt_valid_institution_code(s);
	(void)mt_valid_login(s);
	(void)mt_valid_name(s);
	mt_mask_id_number(s, out);
	mt_mask_phone(s, out);
	mt_mask_name(s, out);
	free(s);
	free(out);
	return 0;
}
