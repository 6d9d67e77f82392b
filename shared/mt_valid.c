/*
 * mt_valid.c -- see mt_valid.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mt_valid.h"

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int
valid_ymd(int y, int m, int d)
{
	return y >= 1900 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 &&
	    d <= days_in_month(y, m);
}

int
mt_valid_id_number(const char *s)
{
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10,
	    5, 8, 4, 2};
	static const char check[] = "10X98765432";
	int i, sum = 0, y, m, d;

	if (strlen(s) != 18 || !all_digits(s, 17))
		return 0;
	if (!((s[17] >= '0' && s[17] <= '9') || s[17] == 'X'))
		return 0;
	if (s[0] == '0')
		return 0;
	y = (s[6] - '0') * 1000 + (s[7] - '0') * 100 + (s[8] - '0') * 10 +
	    (s[9] - '0');
	m = (s[10] - '0') * 10 + (s[11] - '0');
	d = (s[12] - '0') * 10 + (s[13] - '0');
	if (!valid_ymd(y, m, d))
		return 0;
	for (i = 0; i < 17; i++)
		sum += (s[i] - '0') * w[i];
	return check[sum % 11] == s[17];
}

char
mt_id_number_sex(const char *id)
{
	return ((id[16] - '0') % 2) ? 'M' : 'F';
}

int
mt_valid_phone(const char *s)
{
	return strlen(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' &&
	    all_digits(s, 11);
}

int
mt_valid_date(const char *s)
{
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    !all_digits(s, 4) || !all_digits(s + 5, 2) || !all_digits(s + 8, 2))
		return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	return valid_ymd(y, m, d);
}

/* YYYYQn: a quarter of a year of mt_valid_date's range. */
int
mt_valid_quarter(const char *s)
{
	int y;

	if (strlen(s) != 6 || !all_digits(s, 4) || s[4] != 'Q' ||
	    s[5] < '1' || s[5] > '4')
		return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	return y >= 1900 && y <= 2199;
}

/* YYYY-MM: a month of a year of mt_valid_date's range. */
int
mt_valid_month(const char *s)
{
	int y;

	if (strlen(s) != 7 || !all_digits(s, 4) || s[4] != '-' ||
	    !all_digits(s + 5, 2) || !((s[5] == '0' && s[6] >= '1') ||
	    (s[5] == '1' && s[6] <= '2')))
		return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	return y >= 1900 && y <= 2199;
}

int
mt_valid_region(const char *s)
{
	return strlen(s) == 6 && all_digits(s, 6) && s[0] != '0';
}

static int
upper_alnum(const char *s, size_t from)
{
	for (; s[from] != '\0'; from++)
		if (!((s[from] >= 'A' && s[from] <= 'Z') ||
		    (s[from] >= '0' && s[from] <= '9')))
			return 0;
	return 1;
}

int
mt_valid_disease_code(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n <= 16 && s[0] >= 'A' && s[0] <= 'Z' &&
	    upper_alnum(s, 1);
}

int
mt_valid_institution_code(const char *s)
{
	size_t n = strlen(s);

	return n >= 6 && n <= 20 && s[0] >= 'A' && s[0] <= 'Z' &&
	    upper_alnum(s, 1);
}

int
mt_valid_code(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
		    (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

int
mt_valid_page_limit(const char *s)
{
	size_t n = strlen(s);
	long v;

	if (n == 0 || n > 3 || !all_digits(s, n))
		return 0;
	v = atol(s);
	return v >= 1 && v <= 200;
}

int
mt_valid_login(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 3 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_.@-", s[i]) == NULL)
			return 0;
	return 1;
}

int
mt_valid_bool(const char *s)
{
	static const char *const set[] = { "true", "false", "1", "0", NULL };

	return mt_valid_one_of(s, set);
}

int
mt_valid_uint(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 18 && all_digits(s, n);
}

int
mt_valid_utf8(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k, len;
	unsigned long cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			len = 2;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			len = 3;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			len = 4;
			cp = s[i] & 0x07;
		} else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

size_t
mt_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int
mt_valid_one_of(const char *s, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(s, *set) == 0)
			return 1;
	return 0;
}

int
mt_valid_line(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || !mt_valid_utf8(s, n))
		return 0;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		/* C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8. */
		if ((unsigned char)s[i] == 0xc2 &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

int
mt_valid_note(const char *s)
{
	const unsigned char *c;

	for (c = (const unsigned char *)s; *c != '\0'; c++)
		if ((*c < 0x20 && *c != '\n') || *c == 0x7f)
			return 0;
	return s[strspn(s, " \n")] != '\0';
}

int
mt_valid_name(const char *s)
{
	return mt_valid_line(s) && mt_utf8_chars(s) <= 32;
}

int
mt_valid_qualification_status(const char *s)
{
	static const char *const st[] = { "active", "terminated", "expired",
	    "revoked", NULL };

	return mt_valid_one_of(s, st);
}

int
mt_valid_end_reason(const char *s)
{
	static const char *const r[] = { "cured", "violation", "death",
	    "expired", "audit_failed", "other", NULL };

	return mt_valid_one_of(s, r);
}

int
mt_path_match(const char *pat, const char *path, struct mt_span *caps,
    size_t max, size_t *ncaps)
{
	size_t n = 0;
	const char *end;

	while (*pat != '\0') {
		if (*pat == '{') {
			pat = strchr(pat, '}');
			if (pat == NULL)
				return 0;
			pat++;
			end = strchr(path, '/');
			if (end == NULL)
				end = path + strlen(path);
			if (end == path || n >= max)
				return 0;
			caps[n].p = path;
			caps[n].n = (size_t)(end - path);
			n++;
			path = end;
			continue;
		}
		if (*pat != *path)
			return 0;
		pat++;
		path++;
	}
	if (*path != '\0')
		return 0;
	*ncaps = n;
	return 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
mt_url_decode(const char *in, size_t n, char *out, int plus_is_space)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (in[i] == '%') {
			if (i + 2 >= n)
				return -1;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			out[o] = (char)(hi * 16 + lo);
			i += 2;
		} else if (in[i] == '+' && plus_is_space)
			out[o] = ' ';
		else
			out[o] = in[i];
		if (out[o] == '\0')
			return -1;
		o++;
	}
	out[o] = '\0';
	return (long)o;
}

void
mt_mask_id_number(const char *in, char *out)
{
	size_t i, n = strlen(in);

	for (i = 0; i < n; i++)
		out[i] = (i < 4 || i + 4 >= n) ? in[i] : '*';
	out[n] = '\0';
}

void
mt_mask_phone(const char *in, char *out)
{
	size_t i, n = strlen(in);

	for (i = 0; i < n; i++)
		out[i] = (i < 3 || i + 4 >= n) ? in[i] : '*';
	out[n] = '\0';
}

void
mt_mask_name(const char *in, char *out)
{
	size_t i = 0, o = 0;

	if (in[0] == '\0') {
		out[0] = '\0';
		return;
	}
	/* Keep the first UTF-8 character, star the rest, one per char. */
	do {
		out[o++] = in[i++];
	} while (in[i] != '\0' && ((unsigned char)in[i] & 0xc0) == 0x80);
	for (; in[i] != '\0'; i++)
		if (((unsigned char)in[i] & 0xc0) != 0x80)
			out[o++] = '*';
	out[o] = '\0';
}
