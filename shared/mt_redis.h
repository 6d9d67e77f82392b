/*
 * mt_redis.h -- one Redis connection per worker.  Every new connection
 * gets the command timeout set again (hiredis 0.14 forgets it on
 * reconnect, and without it a stopped Redis hangs the worker).  After
 * any error the context is discarded and the next call reconnects.
 */
#ifndef MT_REDIS_H
#define MT_REDIS_H

#include <hiredis/hiredis.h>

/* Where to connect; does not connect. */
void        mt_redis_setup(const char *socket_path, int timeout_ms);
/* The live context, connecting if needed; NULL when Redis is down. */
redisContext *mt_redis_ctx(void);
/*
 * Run one command (hiredis format).  Returns the reply (caller frees with
 * freeReplyObject), or NULL when Redis is down or answered an error
 * (after an I/O error the context is discarded).
 */
redisReply *mt_redis_cmd(const char *fmt, ...);
void        mt_redis_close(void);

#endif
