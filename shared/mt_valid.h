/*
 * mt_valid.h -- pure validators and small text helpers.
 * Nothing here knows about requests, so each function can be tested and
 * fuzzed alone.  Every validator takes a NUL-terminated string and returns
 * 1 when it is acceptable, 0 otherwise; none allocates.
 */
#ifndef MT_VALID_H
#define MT_VALID_H

#include <stddef.h>

/* GB 11643-1999 citizen ID number: 18 chars, valid birth date, checksum. */
int     mt_valid_id_number(const char *s);
/* Mainland mobile number: 11 digits, 1[3-9]xxxxxxxxx. */
int     mt_valid_phone(const char *s);
/* A real calendar date YYYY-MM-DD between 1900-01-01 and 2199-12-31. */
int     mt_valid_date(const char *s);
/* A calendar quarter "2026Q3": YYYYQ1-4, years 1900-2199. */
int     mt_valid_quarter(const char *s);
/* A calendar month "2026-09": YYYY-MM, years 1900-2199. */
int     mt_valid_month(const char *s);
/* 6-digit administrative region code. */
int     mt_valid_region(const char *s);
/* Disease code as in the catalog: [A-Z][A-Z0-9]{1,15}. */
int     mt_valid_disease_code(const char *s);
/* Institution code: [A-Z][0-9A-Z]{5,19}. */
int     mt_valid_institution_code(const char *s);
/* A snake_case code (policy keys, reason codes): [a-z0-9_]{1,64}. */
int     mt_valid_code(const char *s);
/* A page size for list endpoints: 1 to 200. */
int     mt_valid_page_limit(const char *s);
/* Staff login: [A-Za-z0-9_.@-]{3,64}. */
int     mt_valid_login(const char *s);
/* "true" / "false" / "1" / "0". */
int     mt_valid_bool(const char *s);
/* Decimal integer without sign, up to 18 digits. */
int     mt_valid_uint(const char *s);
/* Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF), n bytes. */
int     mt_valid_utf8(const char *s, size_t n);
/* One line of free text (an agency's name, an address): well-formed
 * UTF-8, not empty, no C0/C1 control characters; no length cap (the
 * field table's max_len caps it in characters). */
int     mt_valid_line(const char *s);
/* A note or a reason (an agency's note, a reason to reject or overturn):
 * some text besides spaces and line breaks, lines allowed, no other
 * control characters. */
int     mt_valid_note(const char *s);
/* Person name: 1..32 characters of UTF-8, no control characters. */
int     mt_valid_name(const char *s);
/* A qualification's status: active, terminated, expired, revoked. */
int     mt_valid_qualification_status(const char *s);
/* An exit reason the agency may give (R-BEN-5): cured, violation, death,
 * expired, audit_failed, other (voluntary is the person's own). */
int     mt_valid_end_reason(const char *s);
/* Characters (not bytes) of a UTF-8 string. */
size_t  mt_utf8_chars(const char *s);
/* 1 when s is one of the strings of set (NULL-terminated): the closed
 * lists of states and titles the field validators accept. */
int     mt_valid_one_of(const char *s, const char *const *set);

/* Sex from an ID number already validated: 'M' or 'F'. */
char    mt_id_number_sex(const char *id);

/*
 * Match a path against a pattern with {name} segments ("/diseases/{code}").
 * On match returns 1 and fills up to max captured segment values as
 * (start, length) pairs into caps[]; *ncaps gets their count.
 */
struct mt_span {
	const char *p;
	size_t      n;
};
int     mt_path_match(const char *pattern, const char *path,
            struct mt_span *caps, size_t max, size_t *ncaps);

/*
 * Decode %XX and '+' of a URL component of length n into out (n+1 bytes).
 * Returns the decoded length, or -1 on a malformed escape or a NUL byte.
 */
long    mt_url_decode(const char *in, size_t n, char *out, int plus_is_space);

/* Masks for lists and logs; out must hold strlen(in)+1 bytes. */
void    mt_mask_id_number(const char *in, char *out);  /* 4112**********1234 */
void    mt_mask_phone(const char *in, char *out);      /* 138****5678 */
/* Masks a Chinese name to its first character and '*'s; out >= strlen+1. */
void    mt_mask_name(const char *in, char *out);

#endif
