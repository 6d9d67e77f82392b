/*
 * mt_redis.c -- see mt_redis.h.
 */
#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "mt_log.h"
#include "mt_metrics.h"
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
		mt_metrics_redis_error(MT_METRICS_REDIS_CONNECT); /* metrics */
		mt_redis_close();
		return NULL;
	}
	/* Set on every new connection: a hung Redis must not hang us. */
	if (redisSetTimeout(rctx, rtimeout) != REDIS_OK) {
		mt_metrics_redis_error(MT_METRICS_REDIS_CONNECT); /* metrics */
		mt_redis_close();
		return NULL;
	}
	return rctx;
}

/*
 * mt_redis_cmd with a va_list.  An error reply discards the context too:
 * the command may have been sent on a connection left in a state we do
 * not know, and a reconnect costs less than a worker stuck in it.
 */
static redisReply *
redis_vcmd(const char *fmt, va_list ap)
{
	redisContext *c;
	redisReply *r;

	/* MULTI goes through mt_redis_tx, which never leaves one open. */
	assert(strncasecmp(fmt, "MULTI", 5) != 0);
	if ((c = mt_redis_ctx()) == NULL)
		return NULL;
	r = redisvCommand(c, fmt, ap);
	if (r == NULL) {
		mt_log_warn("redis command failed: %s", c->errstr);
		mt_metrics_redis_error(MT_METRICS_REDIS_COMMAND); /* metrics */
		mt_redis_close();
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		mt_log_warn("redis error reply: %s", r->str);
		mt_metrics_redis_error(MT_METRICS_REDIS_REPLY); /* metrics */
		freeReplyObject(r);
		mt_redis_close();
		return NULL;
	}
	return r;
}

/* See mt_redis.h. */
redisReply *
mt_redis_cmd(const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redis_vcmd(fmt, ap);
	va_end(ap);
	return r;
}

/* See mt_redis.h. */
int
mt_redis_do(const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redis_vcmd(fmt, ap);
	va_end(ap);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

void
mt_redis_tx_add(struct mt_redis_tx *tx, const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = redisvFormatCommand(&cmd, fmt, ap);
	va_end(ap);
	if (len < 0) {
		tx->err = 1;
		return;
	}
	mt_buf_append(&tx->cmds, cmd, (size_t)len);
	redisFreeCommand(cmd);
	tx->n++;
}

/*
 * Read the reply to the i-th command of the pipeline (0 is MULTI, n+1
 * EXEC) and check it.  0 when it is what a clean transaction answers,
 * -1 after logging what it was.
 */
static int
tx_reply(redisContext *c, size_t i, size_t n)
{
	redisReply *r = NULL;
	size_t k;
	int rc = -1;

	if (redisGetReply(c, (void **)&r) != REDIS_OK || r == NULL) {
		mt_log_warn("redis transaction failed: %s", c->errstr);
		goto out;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		mt_log_warn("redis transaction error reply: %s", r->str);
		goto out;
	}
	if (i == n + 1) {
		if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
			mt_log_warn("redis transaction not run");
			goto out;
		}
		for (k = 0; k < n; k++)
			if (r->element[k]->type == REDIS_REPLY_ERROR) {
				mt_log_warn("redis transaction error reply: %s",
				    r->element[k]->str);
				goto out;
			}
	} else if (r->type != REDIS_REPLY_STATUS) {
		mt_log_warn("redis transaction: unexpected reply");
		goto out;
	}
	rc = 0;
out:
	if (r != NULL)
		freeReplyObject(r);
	return rc;
}

int
mt_redis_tx_exec(struct mt_redis_tx *tx)
{
	redisContext *c = NULL;
	size_t i;
	int rc = -1;

	if (tx->err || tx->n == 0 || (c = mt_redis_ctx()) == NULL)
		goto out;
	/* One pipeline: MULTI, the commands, EXEC; then every reply, so
	 * none is left unread on the connection. */
	if (redisAppendCommand(c, "MULTI") != REDIS_OK ||
	    redisAppendFormattedCommand(c, tx->cmds.data, tx->cmds.len) !=
	    REDIS_OK || redisAppendCommand(c, "EXEC") != REDIS_OK)
		goto out;
	for (i = 0; i < tx->n + 2; i++)
		if (tx_reply(c, i, tx->n) != 0)
			goto out;
	rc = 0;
out:
	/* Whatever failed, the connection goes: Redis discards the
	 * transaction of a client that left, and no unread reply is left
	 * to be taken for the answer to the next command. */
	if (rc != 0 && c != NULL) {
		/* metrics: an I/O failure sets c->err, an error reply not. */
		mt_metrics_redis_error(c->err ? MT_METRICS_REDIS_COMMAND :
		    MT_METRICS_REDIS_REPLY);
		mt_redis_close();
	}
	mt_buf_free(&tx->cmds);
	tx->n = 0;
	tx->err = 0;
	return rc;
}
