/*
 * fuzz_multipart.c -- libFuzzer harness for mt_multipart.h: the first
 * line of the input is a Content-Type whose boundary is parsed, the rest
 * is the body (in a buffer of exactly its length, no NUL after it).  Any
 * crash, out-of-bounds access or UB report fails the run, and so does a
 * part that points outside the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mt_multipart.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() when [p, p+n) is not inside [body, body+len). */
static void
inside(const char *body, size_t len, const char *p, size_t n)
{
	if (p == NULL ? n != 0 : (p < body || n > len ||
	    p > body + len - n))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct mt_part parts[8];
	char boundary[80], *ctype, *body;
	size_t clen = nl != NULL ? (size_t)(nl - data) : 0, blen;
	int n, i;

	ctype = malloc(clen + 1);
	if (ctype == NULL)
		abort();
	memcpy(ctype, data, clen);
	ctype[clen] = '\0';
	if (mt_multipart_boundary(ctype, boundary, sizeof(boundary)) != 0)
		strcpy(boundary, "XyZ");
	else if (strlen(boundary) == 0 || strlen(boundary) > 70)
		abort();
	blen = nl != NULL ? size - clen - 1 : size;
	body = malloc(blen > 0 ? blen : 1);
	if (body == NULL)
		abort();
	memcpy(body, nl != NULL ? nl + 1 : data, blen);
	n = mt_multipart_parse(body, blen, boundary, parts, 8);
	if (n > 8)
		abort();
	for (i = 0; i < n; i++) {
		inside(body, blen, parts[i].name, parts[i].name_len);
		inside(body, blen, parts[i].filename, parts[i].filename_len);
		inside(body, blen, parts[i].ctype, parts[i].ctype_len);
		inside(body, blen, parts[i].data, parts[i].len);
		if (parts[i].name_len == 0)
			abort();
	}
	(void)mt_multipart_find(parts, n, "file");
	free(ctype);
	free(body);
	return 0;
}
