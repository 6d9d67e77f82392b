/*
 * mt_parse.c -- see mt_parse.h.
 */
#include <string.h>
#include <strings.h>

#include "mt_parse.h"

/*
 * The value of the first "name=value" pair of s, pairs separated by sep;
 * with trim, spaces and tabs around a pair are not part of it (cookies).
 * 1 and *v, *vn set when present, 0 when absent.
 */
static int
pair_value(const char *s, char sep, int trim, const char *name,
    const char **v, size_t *vn)
{
	size_t nlen = strlen(name), plen;
	const char *p = s;
	char seps[2] = { sep, '\0' };

	while (p != NULL && *p != '\0') {
		while (trim && (*p == ' ' || *p == '\t'))
			p++;
		plen = strcspn(p, seps);
		if (plen > nlen && p[nlen] == '=' &&
		    strncmp(p, name, nlen) == 0) {
			*v = p + nlen + 1;
			*vn = plen - nlen - 1;
			while (trim && *vn > 0 && ((*v)[*vn - 1] == ' ' ||
			    (*v)[*vn - 1] == '\t'))
				(*vn)--;
			return 1;
		}
		p = p[plen] == sep ? p + plen + 1 : NULL;
	}
	return 0;
}

int
mt_parse_query(const char *query, const char *name, const char **v,
    size_t *vn)
{
	return pair_value(query, '&', 0, name, v, vn);
}

int
mt_parse_cookie(const char *header, const char *name, const char **v,
    size_t *vn)
{
	return pair_value(header, ';', 1, name, v, vn);
}

int
mt_parse_bearer(const char *header, const char **v, size_t *vn)
{
	if (header == NULL || strncmp(header, "Bearer ", 7) != 0)
		return 0;
	*v = header + 7;
	*vn = strlen(header + 7);
	return 1;
}

int
mt_parse_token(const char *t, size_t n)
{
	/* >= n: t may be a slice (a cookie's value), followed by more. */
	return n == 64 && strspn(t, "0123456789abcdef") >= n;
}

int
mt_parse_idem_key(const char *k)
{
	size_t n = strlen(k);

	return n > 0 && n <= 64 && strspn(k, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

int
mt_parse_etag_match(const char *inm, const char *etag)
{
	size_t n = strlen(etag), len;
	const char *p = inm;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		len = strcspn(p, ",");
		/* Trailing spaces of this member. */
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 1 && *p == '*')
			return 1;
		if (len >= 2 && strncmp(p, "W/", 2) == 0) {
			p += 2;
			len -= 2;
		}
		if (len == n && n > 0 && strncmp(p, etag, n) == 0)
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

int
mt_parse_json_type(const char *ctype)
{
	const char *p;

	if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0)
		return 0;
	p = ctype + 16;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 1;
	if (*p++ != ';')
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return 0;
	p += 8;
	if (strncasecmp(p, "\"utf-8\"", 7) == 0)
		p += 7;
	else if (strncasecmp(p, "utf-8", 5) == 0)
		p += 5;
	else
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0';
}
