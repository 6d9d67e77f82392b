/*
 * mt_multipart.h -- a strict multipart/form-data parser (RFC 7578) over a
 * body already in memory.  Pure: it knows nothing of requests, so it is
 * unit-tested and fuzzed alone.  Parts point into the body (no copies);
 * names and values are not NUL-terminated.
 */
#ifndef MT_MULTIPART_H
#define MT_MULTIPART_H

#include <stddef.h>

struct mt_part {
	const char *name;       size_t name_len;
	const char *filename;   size_t filename_len;  /* NULL when absent */
	const char *ctype;      size_t ctype_len;     /* NULL when absent */
	const char *data;       size_t len;
};

/*
 * The boundary of a "multipart/form-data; boundary=..." Content-Type,
 * unquoted, into out (at least 71 bytes).  Returns 0, or -1 when the type
 * is not multipart/form-data or the boundary is missing or invalid.
 */
int     mt_multipart_boundary(const char *ctype, char *out, size_t outlen);

/*
 * Split body into at most max parts.  Returns the number of parts, or -1
 * when the body is malformed (no closing delimiter, a part without a
 * Content-Disposition form-data name, headers over 4 KiB, more than max
 * parts).
 */
int     mt_multipart_parse(const char *body, size_t len, const char *boundary,
            struct mt_part *parts, size_t max);

/* The part named name (exactly), or NULL. */
const struct mt_part *mt_multipart_find(const struct mt_part *parts, int n,
            const char *name);

#endif
