/*
 * mt_log.c -- see mt_log.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mt_log.h"

static char log_tag[32] = "mtcert";
static char log_path[4096];	/* empty: stderr as inherited */

/* The tag every line carries (the module's or the dispatcher's name). */
void
mt_log_init(const char *tag)
{
	snprintf(log_tag, sizeof(log_tag), "%s", tag);
}

/* That tag ("mtcert" before mt_log_init). */
const char *
mt_log_tag(void)
{
	return log_tag;
}

/*
 * Open the log file again by its path (O_APPEND, created 0640 when a
 * rotation removed it) and put it on stdout and stderr, so the renamed
 * old file is no longer written.  Async-signal-safe: only open, dup2 and
 * close, errno kept.  Returns 0, or -1 when there is no path or the open
 * failed (stderr then stays on the old file: nothing is lost).
 */
int
mt_log_reopen(void)
{
	int fd, saved = errno, rc = -1;

	if (log_path[0] == '\0')
		goto out;
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		goto out;
	/* dup2 clears O_CLOEXEC on the copies: children inherit them. */
	if (dup2(fd, STDOUT_FILENO) >= 0 && dup2(fd, STDERR_FILENO) >= 0)
		rc = 0;
	close(fd);
out:
	errno = saved;
	return rc;
}

/* Log to the file path from now on (see mt_log_reopen).  Returns 0, or
 * -1 with the reason on the old stderr. */
int
mt_log_open(const char *path)
{
	if (strlen(path) >= sizeof(log_path)) {
		fprintf(stderr, "log path too long: %s\n", path);
		return -1;
	}
	snprintf(log_path, sizeof(log_path), "%s", path);
	if (mt_log_reopen() != 0) {
		fprintf(stderr, "cannot open log %s: %s\n", path,
		    strerror(errno));
		log_path[0] = '\0';
		return -1;
	}
	return 0;
}

/*
 * A master's SIGUSR1: its own log reopened, then SIGUSR1 to each child of
 * pids[0..n) (0 or less: an empty slot), which reopens in its handler, and
 * "log reopened" written in the new file (shared/stack.sh logreopen waits
 * for that line).  Without a log path, or when the open fails, a warning
 * in the old file and no child is signalled.
 */
void
mt_log_reopen_children(const pid_t *pids, int n)
{
	int i;

	if (mt_log_reopen() != 0) {
		mt_log_warn("log not reopened (no --log, or it cannot be "
		    "opened)");
		return;
	}
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGUSR1);
	mt_log_info("log reopened");
}

/* The SIGUSR1 handler of mt_log_catch_reopen: the log reopened at once. */
static void
on_reopen(int sig)
{
	(void)sig;
	(void)mt_log_reopen();
}

/*
 * A process that is not a master (a worker, the dispatcher's child):
 * SIGUSR1 reopens the log at once, in the handler.  SA_RESTART, so an
 * accept() or read() in progress goes on (libpq and hiredis retry the
 * calls that still see EINTR).  Install before unblocking SIGUSR1.
 */
void
mt_log_catch_reopen(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_reopen;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/* One line: time, tag, PID, level, the formatted text. */
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
