/*
 * unit.h -- the harness of the table-driven unit tests (kcgi regress
 * style: tables of good and bad inputs, one loop over each table).
 *
 * Each test binary is one .c file that includes this header once; the
 * counters are private to that binary.
 *
 *   CHECK(cond, fmt, ...)  counts a pass or a failure; a failure prints
 *                          "FAIL file:line: <fmt ...> [cond]" on stdout.
 *                          Evaluates to 1 when cond held, 0 otherwise.
 *   unit_esc(p, n)         quotes n bytes for a message (C escapes);
 *   unit_str(s)            the same for a NUL-terminated string.  Both
 *                          return one of a few rotating static buffers.
 *   unit_done()            prints the summary "N passed, N failed" alone
 *                          on the last line of stdout (CI and run.sh parse
 *                          exactly that) and returns the exit status: 1
 *                          if anything failed, 0 otherwise.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define UNIT_UNUSED	__attribute__((unused))

#define CHECK(cond, ...) \
	unit_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond, __VA_ARGS__)

static unsigned long	unit_npassed;
static unsigned long	unit_nfailed;

static int		unit_check(int, const char *, int, const char *,
			    const char *, ...)
			    __attribute__((format(printf, 5, 6))) UNIT_UNUSED;
static const char	*unit_esc(const void *, size_t) UNIT_UNUSED;
static const char	*unit_str(const char *) UNIT_UNUSED;
static int		 unit_done(void) UNIT_UNUSED;

static int
unit_check(int ok, const char *file, int line, const char *expr,
    const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		unit_npassed++;
		return 1;
	}
	unit_nfailed++;
	printf("FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" [%s]\n", expr);
	fflush(stdout);
	return 0;
}

static const char *
unit_esc(const void *p, size_t n)
{
	static char buf[8][512];
	static size_t next;
	const unsigned char *s = p;
	char *out = buf[next++ % 8];
	size_t i, o = 0;

	out[o++] = '"';
	for (i = 0; i < n && o < sizeof(buf[0]) - 8; i++) {
		if (s[i] == '"' || s[i] == '\\')
			o += (size_t)snprintf(out + o, 3, "\\%c", s[i]);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			out[o++] = (char)s[i];
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", s[i]);
	}
	if (i < n)
		o += (size_t)snprintf(out + o, 4, "...");
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static const char *
unit_str(const char *s)
{
	if (s == NULL)
		return "(null)";
	return unit_esc(s, strlen(s));
}

static int
unit_done(void)
{
	printf("%lu passed, %lu failed\n", unit_npassed, unit_nfailed);
	fflush(stdout);
	return unit_nfailed ? 1 : 0;
}

#endif
