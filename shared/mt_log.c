/*
 * mt_log.c -- see mt_log.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mt_log.h"

static char log_tag[32] = "mtcert";

void
mt_log_init(const char *tag)
{
	snprintf(log_tag, sizeof(log_tag), "%s", tag);
}

void
mt_log(const char *level, const char *fmt, ...)
{
	char line[2048], ts[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ld %s[%ld] %s ", ts,
	    (long)tv.tv_usec / 1000, log_tag, (long)getpid(), level);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* One write per line so lines of several workers never interleave. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
