/*
 * mt_log.h -- one line per event on stderr.  With mt_log_open() stderr is
 * a log file the process opened itself (--log FILE), reopened on SIGUSR1
 * so a rotated file is let go (docs/operations.md, "Log rotation").
 * Callers never pass personal data: ID numbers, phones and names stay out
 * of logs; log ids and codes instead.
 */
#ifndef MT_LOG_H
#define MT_LOG_H

#include <sys/types.h>

void    mt_log_init(const char *tag);
const char *mt_log_tag(void);
int     mt_log_open(const char *path);
int     mt_log_reopen(void);
void    mt_log_catch_reopen(void);
void    mt_log_reopen_children(const pid_t *pids, int n);
void    mt_log(const char *level, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));

#define mt_log_info(...)  mt_log("info", __VA_ARGS__)
#define mt_log_warn(...)  mt_log("warn", __VA_ARGS__)
#define mt_log_error(...) mt_log("error", __VA_ARGS__)

#endif
