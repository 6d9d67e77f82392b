/*
 * mt_log.h -- one line per event on stderr (the host redirects it to
 * var/log/<module>.log).  Callers never pass personal data: ID numbers,
 * phones and names stay out of logs; log ids and codes instead.
 */
#ifndef MT_LOG_H
#define MT_LOG_H

void    mt_log_init(const char *tag);
void    mt_log(const char *level, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));

#define mt_log_info(...)  mt_log("info", __VA_ARGS__)
#define mt_log_warn(...)  mt_log("warn", __VA_ARGS__)
#define mt_log_error(...) mt_log("error", __VA_ARGS__)

#endif
