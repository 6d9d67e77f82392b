/*
 * mt_parse.h -- the parsers of request headers and query strings.  Pure:
 * they know nothing of requests (no FastCGI, no session), never allocate,
 * and read only up to the NUL of their input, so they are table-tested
 * (tests/unit/test_parse.c) and fuzzed (tests/fuzz/fuzz_parse.c) alone.
 * Values they find point into the input and are not NUL-terminated.
 */
#ifndef MT_PARSE_H
#define MT_PARSE_H

#include <stddef.h>

/*
 * The raw (still percent-encoded) value of the first "name=value" pair
 * of a query string ("a=1&b=2", no leading '?').  Returns 1 and sets *v
 * and *vn when present, 0 when absent (a bare "name" without '=' is
 * absent).
 */
int     mt_parse_query(const char *query, const char *name, const char **v,
            size_t *vn);

/*
 * The value of the first cookie called name in a Cookie header
 * ("a=1; b=2", RFC 6265 5.4; spaces and tabs around pairs are skipped).
 * Returns 1 and sets *v and *vn when present, 0 when absent.
 */
int     mt_parse_cookie(const char *header, const char *name, const char **v,
            size_t *vn);

/*
 * The credentials of an Authorization header of scheme "Bearer " (case
 * as sent by every client we have: exactly "Bearer", one space).
 * Returns 1 and sets *v and *vn, or 0 for another scheme or none.
 */
int     mt_parse_bearer(const char *header, const char **v, size_t *vn);

/* 1 when t[0..n) is a session token: exactly 64 lower-case hex digits.
 * t lies in a NUL-terminated string (a header), which may go on after n. */
int     mt_parse_token(const char *t, size_t n);

/* 1 when k is an Idempotency-Key: 1 to 64 of [A-Za-z0-9_-]. */
int     mt_parse_idem_key(const char *k);

/*
 * 1 when the If-None-Match list inm ("a", W/"b", or *) names etag (a
 * quoted strong tag such as "\"v1\""); weak tags compare by their opaque
 * part (RFC 9110 13.1.2: If-None-Match uses the weak comparison).
 */
int     mt_parse_etag_match(const char *inm, const char *etag);

/*
 * 1 when a Content-Type is JSON: "application/json" in any case, alone or
 * with one parameter charset=utf-8 (any case, optionally quoted).  Any
 * other type, parameter or charset is 0.
 */
int     mt_parse_json_type(const char *ctype);

#endif
