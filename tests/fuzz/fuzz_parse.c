/*
 * fuzz_parse.c -- libFuzzer harness for the header and query parsers of
 * mt_parse.h: query strings, cookies, Authorization, session tokens,
 * Idempotency-Key, If-None-Match and Content-Type.  Built and run by
 * `make fuzz`; any crash, out-of-bounds access or UB report fails the
 * run, and so does a value found outside its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mt_parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() when [v, v+vn) is not inside s. */
static void
inside(const char *s, const char *v, size_t vn)
{
	if (v < s || v + vn > s + strlen(s))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "limit", "cursor", "a",
	    "mtcert_session" };
	const char *v;
	size_t i, vn;
	char *s;

	/* A NUL-terminated copy of exactly the input. */
	s = malloc(size + 1);
	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (mt_parse_query(s, names[i], &v, &vn))
			inside(s, v, vn);
		if (mt_parse_cookie(s, names[i], &v, &vn))
			inside(s, v, vn);
	}
	if (mt_parse_bearer(s, &v, &vn)) {
		inside(s, v, vn);
		(void)mt_parse_token(v, vn);
	}
	(void)mt_parse_token(s, strlen(s));
	(void)mt_parse_idem_key(s);
	(void)mt_parse_etag_match(s, "\"v1\"");
	(void)mt_parse_etag_match(s, s);
	(void)mt_parse_json_type(s);
	free(s);
	return 0;
}
