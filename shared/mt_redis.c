/*
 * mt_redis.c -- see mt_redis.h.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "mt_log.h"
#include "mt_metrics.h"
#include "mt_redis.h"
#include "mt_util.h"

#define SENTINELS_MAX	8	/* entries of redis_sentinels used */

static redisContext *rctx;
static const char *rpath;
static struct timeval rtimeout;

/* The sentinels, when configured (nsentinels > 0), and the master's
 * name there; rmaster_at is where the last connection went, to log a
 * change of master once. */
static struct sentinel {
	char	*host;
	int	 port;
} sentinels[SENTINELS_MAX];
static size_t nsentinels;
static char *rmaster;
static char rmaster_at[300];

/*
 * Parse list ("host:port" entries, commas or spaces between) into
 * sentinels[], replacing what was there.  A bad entry is skipped with a
 * warning; entries past SENTINELS_MAX too.
 */
static void
sentinels_parse(const char *list)
{
	char *copy, *tok, *save, *colon, *end;
	long port;

	for (; nsentinels > 0; nsentinels--)
		free(sentinels[nsentinels - 1].host);
	if (list == NULL)
		return;
	copy = mt_xstrdup(list);
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		colon = strrchr(tok, ':');
		port = colon != NULL ? strtol(colon + 1, &end, 10) : 0;
		if (colon == NULL || colon == tok || *end != '\0' ||
		    port <= 0 || port > 65535 || nsentinels == SENTINELS_MAX) {
			mt_log_warn("redis_sentinels: entry skipped: %s", tok);
			continue;
		}
		sentinels[nsentinels].host = mt_xstrndup(tok,
		    (size_t)(colon - tok));
		sentinels[nsentinels++].port = (int)port;
	}
	free(copy);
}

/* See mt_redis.h. */
void
mt_redis_setup(const char *socket_path, const char *sentinel_list,
    const char *master, int timeout_ms)
{
	rpath = socket_path;
	rtimeout.tv_sec = timeout_ms / 1000;
	rtimeout.tv_usec = (timeout_ms % 1000) * 1000;
	sentinels_parse(sentinel_list);
	free(rmaster);
	rmaster = mt_xstrdup(master != NULL ? master : "mtcert");
	rmaster_at[0] = '\0';
}

void
mt_redis_close(void)
{
	if (rctx != NULL)
		redisFree(rctx);
	rctx = NULL;
}

/*
 * Finish a new connection c (may be NULL): the command timeout set again
 * (a hung Redis must not hang us).  Returns c, or NULL after logging why
 * (c freed); what names the peer in the log.
 */
static redisContext *
conn_ready(redisContext *c, const char *what)
{
	if (c == NULL || c->err != 0) {
		mt_log_warn("redis connect to %s failed: %s", what,
		    c != NULL ? c->errstr : "no memory");
		goto fail;
	}
	if (redisSetTimeout(c, rtimeout) != REDIS_OK) {
		mt_log_warn("redis timeout on %s not set", what);
		goto fail;
	}
	return c;
fail:
	if (c != NULL)
		redisFree(c);
	return NULL;
}

/*
 * Ask sentinel s where the master named rmaster is, into host (size
 * hostsz) and *port.  Returns 0, or -1 when it is down or does not
 * know (logged).
 */
static int
sentinel_ask(const struct sentinel *s, char *host, size_t hostsz, int *port)
{
	redisContext *c;
	redisReply *r = NULL;
	char what[300];
	int rc = -1;

	snprintf(what, sizeof(what), "sentinel %s:%d", s->host, s->port);
	c = conn_ready(redisConnectWithTimeout(s->host, s->port, rtimeout),
	    what);
	if (c == NULL)
		return -1;
	r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", rmaster);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		mt_log_warn("%s: no master %s", what, rmaster);
		goto out;
	}
	snprintf(host, hostsz, "%s", r->element[0]->str);
	*port = atoi(r->element[1]->str);
	rc = 0;
out:
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return rc;
}

/*
 * 1 when c is connected to a master (ROLE), 0 when to a replica or a
 * sentinel whose news is stale, or when ROLE fails.
 */
static int
is_master(redisContext *c)
{
	redisReply *r = redisCommand(c, "ROLE");
	int ok;

	ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(r->element[0]->str, "master") == 0;
	if (r != NULL)
		freeReplyObject(r);
	return ok;
}

/*
 * A connection to the master the sentinels name: each sentinel asked in
 * turn, once (bounded: at most nsentinels tries per call), until one
 * names a master that ROLE confirms; the one that did is asked first
 * next time (Redis' guidelines for Sentinel clients).  Returns the
 * context, or NULL (Redis down for this call; the next call asks again).
 */
static redisContext *
sentinel_connect(void)
{
	struct sentinel tmp;
	redisContext *c;
	char host[256], at[300];
	size_t i;
	int port;

	for (i = 0; i < nsentinels; i++) {
		if (sentinel_ask(&sentinels[i], host, sizeof(host), &port))
			continue;
		snprintf(at, sizeof(at), "%s:%d", host, port);
		c = conn_ready(redisConnectWithTimeout(host, port, rtimeout),
		    at);
		if (c == NULL)
			continue;
		if (!is_master(c)) {
			mt_log_warn("redis at %s is not the master", at);
			redisFree(c);
			continue;
		}
		if (strcmp(at, rmaster_at) != 0) {
			mt_log_info("redis master %s at %s", rmaster, at);
			snprintf(rmaster_at, sizeof(rmaster_at), "%s", at);
		}
		if (i > 0) {	/* asked first from now on (a dead one later) */
			tmp = sentinels[0];
			sentinels[0] = sentinels[i];
			sentinels[i] = tmp;
		}
		return c;
	}
	return NULL;
}

/* See mt_redis.h: asks the sentinels when there are some. */
redisContext *
mt_redis_ctx(void)
{
	if (rctx != NULL && rctx->err == 0 && !mt_fd_readable(rctx->fd))
		return rctx;
	mt_redis_close();
	if (nsentinels > 0)
		rctx = sentinel_connect();
	else
		rctx = conn_ready(redisConnectUnixWithTimeout(rpath, rtimeout),
		    rpath);
	if (rctx == NULL)
		mt_metrics_redis_error(MT_METRICS_REDIS_CONNECT); /* metrics */
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
