/*
 * mt_multipart.c -- see mt_multipart.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mt_multipart.h"

#define MAX_HEADERS 4096

int
mt_multipart_boundary(const char *ctype, char *out, size_t outlen)
{
	const char *p, *b;
	size_t n;

	if (ctype == NULL || strncasecmp(ctype, "multipart/form-data", 19) != 0)
		return -1;
	p = ctype + 19;
	for (;;) {
		while (*p == ';' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return -1;
		if (strncasecmp(p, "boundary=", 9) == 0)
			break;
		p = strchr(p, ';');
		if (p == NULL)
			return -1;
	}
	b = p + 9;
	if (*b == '"') {
		b++;
		p = strchr(b, '"');
		if (p == NULL)
			return -1;
		n = (size_t)(p - b);
	} else
		n = strcspn(b, "; \t");
	/* RFC 2046: 1 to 70 characters. */
	if (n == 0 || n > 70 || n + 1 > outlen)
		return -1;
	memcpy(out, b, n);
	out[n] = '\0';
	return 0;
}

/* Value of param (name= or filename=) in a Content-Disposition value of
 * length n; sets *v and *vn.  Returns 1 found, 0 absent, -1 malformed. */
static int
disp_param(const char *h, size_t n, const char *param, const char **v,
    size_t *vn)
{
	size_t pl = strlen(param), i = 0;
	const char *end;

	while (i < n) {
		/* Parameters start after ';' and optional spaces. */
		while (i < n && h[i] != ';')
			i++;
		i++;
		while (i < n && (h[i] == ' ' || h[i] == '\t'))
			i++;
		if (i + pl + 1 < n && strncasecmp(h + i, param, pl) == 0 &&
		    h[i + pl] == '=') {
			i += pl + 1;
			if (h[i] != '"')
				return -1;
			i++;
			end = memchr(h + i, '"', n - i);
			if (end == NULL)
				return -1;
			*v = h + i;
			*vn = (size_t)(end - (h + i));
			return 1;
		}
	}
	return 0;
}

/* Parse the header block [h, h+n) of one part into p; 0 or -1. */
static int
part_headers(const char *h, size_t n, struct mt_part *p)
{
	const char *line = h, *eol, *val;
	size_t ln, vn;
	int got = 0;

	while (line < h + n) {
		eol = memchr(line, '\r', (size_t)(h + n - line));
		if (eol == NULL)
			eol = h + n;
		ln = (size_t)(eol - line);
		if (ln > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0) {
			val = line + 20;
			vn = ln - 20;
			while (vn > 0 && (*val == ' ' || *val == '\t')) {
				val++;
				vn--;
			}
			if (vn < 9 || strncasecmp(val, "form-data", 9) != 0)
				return -1;
			if (disp_param(val, vn, "name", &p->name,
			    &p->name_len) != 1 || p->name_len == 0)
				return -1;
			if (disp_param(val, vn, "filename", &p->filename,
			    &p->filename_len) < 0)
				return -1;
			got = 1;
		} else if (ln > 13 &&
		    strncasecmp(line, "Content-Type:", 13) == 0) {
			val = line + 13;
			vn = ln - 13;
			while (vn > 0 && (*val == ' ' || *val == '\t')) {
				val++;
				vn--;
			}
			p->ctype = val;
			p->ctype_len = vn;
		}
		line = eol + 2;
	}
	return got ? 0 : -1;
}

int
mt_multipart_parse(const char *body, size_t len, const char *boundary,
    struct mt_part *parts, size_t max)
{
	char delim[80];
	const char *p, *end = body + len, *hend, *next;
	size_t dl;
	int n = 0;

	dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	if (dl >= sizeof(delim) || dl < 5)
		return -1;
	/* The first delimiter has no CRLF before it when there is no
	 * preamble. */
	if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0)
		p = body + dl - 2;
	else {
		p = memmem(body, len, delim, dl);
		if (p == NULL)
			return -1;
		p += dl;
	}
	for (;;) {
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return n;		/* close delimiter */
		/* Transport padding, then CRLF. */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		p += 2;
		if ((size_t)n == max)
			return -1;
		memset(&parts[n], 0, sizeof(parts[n]));
		hend = memmem(p, (size_t)(end - p) < MAX_HEADERS ?
		    (size_t)(end - p) : MAX_HEADERS, "\r\n\r\n", 4);
		if (hend == NULL ||
		    part_headers(p, (size_t)(hend - p), &parts[n]) < 0)
			return -1;
		p = hend + 4;
		next = memmem(p, (size_t)(end - p), delim, dl);
		if (next == NULL)
			return -1;
		parts[n].data = p;
		parts[n].len = (size_t)(next - p);
		n++;
		p = next + dl;
	}
}

const struct mt_part *
mt_multipart_find(const struct mt_part *parts, int n, const char *name)
{
	size_t nl = strlen(name);
	int i;

	for (i = 0; i < n; i++)
		if (parts[i].name_len == nl &&
		    memcmp(parts[i].name, name, nl) == 0)
			return &parts[i];
	return NULL;
}
