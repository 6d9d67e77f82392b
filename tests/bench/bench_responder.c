/*
 * bench_responder.c -- the baselines of `make bench`: a minimal libfcgi
 * responder with the same close behaviour as mtcert-host (whole body read,
 * FCGX_Detach, FCGX_Finish_r), optionally doing one dependency call:
 *
 *   bench-responder --socket PATH --workers N --mode MODE [--pg CONNINFO]
 *                   [--redis SOCKET] [--sql STATEMENT]
 *   MODE: minimal | redis (one GET) | select (one primary-key SELECT)
 *         | insert (one INSERT, durable commit)
 *         | sql (STATEMENT, prepared, one durable transaction: run.sh's
 *           submit floor)
 *         | xaccel (answers X-Accel-Redirect: STATEMENT, an internal
 *           location of a plain file: the file download as it was
 *           before issue 15, the baseline of run.sh's download)
 *
 * Not part of the service; only tests/bench/run.sh starts it.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>

static const char *mode = "minimal", *pg = "", *rsock = "", *sql = "";

/* The prepared statement of a PostgreSQL mode and its parameter count. */
static int
statement(const char **text)
{
	if (strcmp(mode, "select") == 0)
		*text = "SELECT name FROM diseases WHERE code = $1";
	else if (strcmp(mode, "insert") == 0)
		*text = "INSERT INTO bench_inserts (payload) VALUES ($1)";
	else if (strcmp(mode, "sql") == 0) {
		*text = sql;
		return 0;
	} else
		return -1;
	return 1;
}

static void
serve(int fd)
{
	static const char ok[] = "Status: 200 OK\r\nContent-Type: "
	    "application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
	struct timeval tv = { 1, 0 };
	const char *p[1] = { "D001" }, *text;
	redisContext *rc = NULL;
	PGconn *c = NULL;
	FCGX_Request req;
	PGresult *res;
	redisReply *r;
	char sink[4096];
	int np;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if ((np = statement(&text)) >= 0) {
		c = PQconnectdb(pg);
		if (PQstatus(c) != CONNECTION_OK)
			_exit(1);
		PQclear(PQprepare(c, "q", text, np, NULL));
	} else if (strcmp(mode, "redis") == 0) {
		rc = redisConnectUnixWithTimeout(rsock, tv);
		if (rc == NULL || rc->err)
			_exit(1);
		redisSetTimeout(rc, tv);
	}
	FCGX_InitRequest(&req, fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetStr(sink, sizeof(sink), req.in) > 0)
			;
		if (c != NULL) {
			res = PQexecPrepared(c, "q", np, p, NULL, NULL, 0);
			PQclear(res);
		} else if (rc != NULL) {
			r = redisCommand(rc, "GET bench:key");
			if (r != NULL)
				freeReplyObject(r);
		}
		if (strcmp(mode, "xaccel") == 0)
			FCGX_FPrintF(req.out, "Status: 200 OK\r\nContent-Type: "
			    "application/pdf\r\nCache-Control: private, "
			    "no-store\r\nX-Accel-Redirect: %s\r\n\r\n", sql);
		else
			FCGX_PutStr(ok, sizeof(ok) - 1, req.out);
		FCGX_Detach(&req);
		FCGX_Finish_r(&req);
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	const char *sock = NULL;
	int i, n = 2, fd;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--socket") == 0)
			sock = argv[i + 1];
		else if (strcmp(argv[i], "--workers") == 0)
			n = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--mode") == 0)
			mode = argv[i + 1];
		else if (strcmp(argv[i], "--pg") == 0)
			pg = argv[i + 1];
		else if (strcmp(argv[i], "--redis") == 0)
			rsock = argv[i + 1];
		else if (strcmp(argv[i], "--sql") == 0)
			sql = argv[i + 1];
	}
	if (sock == NULL || n < 1)
		return 2;
	FCGX_Init();
	unlink(sock);
	fd = FCGX_OpenSocket(sock, 1024);
	if (fd < 0)
		return 1;
	chmod(sock, 0666);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++)
		if (fork() == 0)
			serve(fd);
	/* Children die with us: the script stops us by PID with SIGTERM. */
	signal(SIGTERM, SIG_DFL);
	while (wait(NULL) > 0)
		;
	return 0;
}
