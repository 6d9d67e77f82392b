/*
 * mt_redis.h -- one Redis connection per worker.  Every new connection
 * gets the command timeout set again (hiredis 0.14 forgets it on
 * reconnect, and without it a stopped Redis hangs the worker).  After
 * any error, an error reply included, the context is discarded and the
 * next call reconnects: a connection in an unknown state (inside a
 * MULTI, half a pipeline read) is never used again.
 *
 * With Redis Sentinel (docs/scale.md) every new connection first asks
 * the sentinels, in turn, for the master's address (SENTINEL
 * get-master-addr-by-name), connects there and checks with ROLE that it
 * is the master.  Since any error discards the context, a master that
 * died (connection error) or was demoted (a READONLY error reply) is
 * left at once and the next call asks the sentinels again: a failover
 * is followed without a restart, and the calls made meanwhile see Redis
 * down (503).  hiredis 0.14 has no Sentinel support: this is all of it.
 */
#ifndef MT_REDIS_H
#define MT_REDIS_H

#include <hiredis/hiredis.h>

#include "mt_util.h"

/*
 * Where to connect; does not connect.  sentinels: NULL or "" for the
 * unix socket socket_path, else "host:port" entries separated by commas
 * or spaces, asked for master's address (the strings are copied; an
 * entry without a port is skipped with a warning).
 */
void        mt_redis_setup(const char *socket_path, const char *sentinels,
                const char *master, int timeout_ms);
/* The live context, connecting if needed; NULL when Redis is down. */
redisContext *mt_redis_ctx(void);
/*
 * Run one command (hiredis format); never MULTI (see mt_redis_tx).
 * Returns the reply (caller frees with freeReplyObject), or NULL when
 * Redis is down or answered an error (the context is then discarded).
 */
redisReply *mt_redis_cmd(const char *fmt, ...);
/*
 * The same when only success matters (best-effort writes after a commit,
 * wake-ups, probes): the reply is freed here.  0 when Redis ran it, -1
 * when it is down or answered an error (context discarded).  Callers
 * that need no answer ignore the result.
 */
int         mt_redis_do(const char *fmt, ...);

/*
 * A transaction: the only way to send MULTI.  Commands are queued here
 * (hiredis format) and mt_redis_tx_exec sends MULTI, them and EXEC as
 * one pipeline (one round trip) and reads every reply.  Zero-initialised
 * is empty.
 */
struct mt_redis_tx {
	struct mt_buf	 cmds;	/* the commands, in the wire protocol */
	size_t		 n;	/* how many */
	int		 err;	/* a command could not be formatted */
};

/* Queue one command (hiredis format) in tx. */
void        mt_redis_tx_add(struct mt_redis_tx *tx, const char *fmt, ...);
/*
 * Run tx's commands in one MULTI...EXEC.  Returns 0 when EXEC ran them
 * all without an error reply; -1 when tx is empty or a command could not
 * be formatted, when Redis is down, refused one (out of memory, AOF not
 * writable: EXECABORT) or failed one.  On -1 the
 * connection is dropped, so no transaction outlives the call and the
 * next command starts on a fresh connection.  Either way tx's memory
 * is freed and tx is left empty, ready for reuse.
 */
int         mt_redis_tx_exec(struct mt_redis_tx *tx);
void        mt_redis_close(void);

#endif
