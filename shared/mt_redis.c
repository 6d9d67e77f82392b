/*
 * mt_redis.c -- see mt_redis.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <sys/time.h>

#include "mt_log.h"
#include "mt_redis.h"
#include "mt_util.h"

static redisContext *rctx;
static const char *rpath;
static struct timeval rtimeout;

void
mt_redis_setup(const char *socket_path, int timeout_ms)
{
	rpath = socket_path;
	rtimeout.tv_sec = timeout_ms / 1000;
	rtimeout.tv_usec = (timeout_ms % 1000) * 1000;
}

void
mt_redis_close(void)
{
	if (rctx != NULL)
		redisFree(rctx);
	rctx = NULL;
}

redisContext *
mt_redis_ctx(void)
{
	if (rctx != NULL && rctx->err == 0 && !mt_fd_readable(rctx->fd))
		return rctx;
	mt_redis_close();
	rctx = redisConnectUnixWithTimeout(rpath, rtimeout);
	if (rctx == NULL || rctx->err != 0) {
		mt_log_warn("redis connect failed: %s",
		    rctx != NULL ? rctx->errstr : "no memory");
		mt_redis_close();
		return NULL;
	}
	/* Set on every new connection: a hung Redis must not hang us. */
	if (redisSetTimeout(rctx, rtimeout) != REDIS_OK) {
		mt_redis_close();
		return NULL;
	}
	return rctx;
}

redisReply *
mt_redis_cmd(const char *fmt, ...)
{
	redisContext *c = mt_redis_ctx();
	redisReply *r;
	va_list ap;

	if (c == NULL)
		return NULL;
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (r == NULL) {
		mt_log_warn("redis command failed: %s", c->errstr);
		mt_redis_close();
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		mt_log_warn("redis error reply: %s", r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}
