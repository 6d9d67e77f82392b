/*
 * mt_host.c -- mtcert-host, the one FastCGI host.
 *
 *   mtcert-host --module build/modules/catalog.so --socket var/run/fcgi/x.sock
 *               --workers 4 [--config var/mtcert.conf] [--log var/log/x.log]
 *
 * Loads one module, listens on one unix socket (never TCP: only nginx may
 * speak FastCGI to us), preforks N workers and restarts any that dies.
 * SIGTERM drains: workers finish the request in hand and exit; the master
 * waits for them (SIGKILL after 10 s) and removes the socket.  SIGUSR1
 * to the master reopens the --log file in it and in every worker.
 *
 * Each worker opens PostgreSQL and Redis once, prepares the module's
 * statements once, and loops on FCGX_Accept_r.  A lost connection is
 * reopened on the next request; until then requests needing it get 503.
 *
 * Closing: libfcgi's default close half-closes the socket and waits up to
 * 2 s for nginx to close its side, idling the worker through that round
 * trip.  We read the whole request body first, then FCGX_Detach() so that
 * FCGX_Finish_r() closes at once (measured here: ~32k -> ~56k req/s for a
 * minimal responder).  Safe on unix sockets, where nothing is in flight
 * once the body is consumed; tests/api/test_host.py proves large bodies
 * arrive whole and responses are never cut.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "mt_auth.h"
#include "mt_config.h"
#include "mt_db.h"
#include "mt_http.h"
#include "mt_idem.h"
#include "mt_log.h"
#include "mt_metrics.h"
#include "mt_redis.h"
#include "mt_util.h"

#define MAX_WORKERS 256

static volatile sig_atomic_t stopping;	/* workers only */
static const struct mt_module *module;
static struct mt_db worker_db;

static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void
usage(void)
{
	fputs("usage: mtcert-host --module FILE.so --socket PATH "
	    "[--workers N] [--config FILE] [--log FILE]\n", stderr);
	exit(2);
}

/* The request id nginx gave ($request_id), or a fresh one. */
static const char *
request_id(FCGX_Request *fr, char *buf)
{
	const char *id = FCGX_GetParam("REQUEST_ID", fr->envp);
	unsigned char raw[16];

	if (id != NULL && strlen(id) == 32 &&
	    strspn(id, "0123456789abcdef") == 32)
		return id;
	randombytes_buf(raw, sizeof(raw));
	mt_hex(raw, sizeof(raw), buf);
	return buf;
}

/* Serve one accepted request and release everything it allocated. */
static void
serve(FCGX_Request *fr)
{
	struct mt_req req;
	const char *uri, *q;
	char rid[33], sink[8192];
	double t0 = mt_now_ms(), ms;
	size_t i;
	int scrape;

	memset(&req, 0, sizeof(req));
	req.fcgi = fr;
	req.db = &worker_db;
	req.request_id = request_id(fr, rid);
	req.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	uri = FCGX_GetParam("DOCUMENT_URI", fr->envp);
	if (uri == NULL)
		uri = FCGX_GetParam("SCRIPT_NAME", fr->envp);
	q = FCGX_GetParam("QUERY_STRING", fr->envp);
	req.path = mt_xstrdup(uri != NULL ? uri : "");
	req.query = q != NULL ? q : "";
	if (req.method == NULL)
		req.method = "GET";

	/* metrics: only nginx's local-only server sets MTCERT_METRICS
	 * (mt_metrics.h); that answer is neither routed nor counted. */
	scrape = FCGX_GetParam("MTCERT_METRICS", fr->envp) != NULL;
	if (scrape)
		mt_metrics_reply(&req);
	else
		mt_http_dispatch(module, &req);

	/* Consume the rest of the body so the close below loses nothing. */
	while (FCGX_GetStr(sink, sizeof(sink), fr->in) > 0)
		;
	ms = mt_now_ms() - t0;
	mt_log_info("rid=%s %s %s status=%d ms=%.2f", req.request_id,
	    req.method, req.route != NULL ? req.route->pattern : "-",
	    req.status, ms);
	if (!scrape)
		mt_metrics_request(&req, ms);	/* metrics */

	for (i = 0; i < req.nparams; i++)
		free(req.params[i].value);
	json_object_put(req.json);
	free(req.body);
	free(req.path);
	mt_buf_free(&req.headers);
	mt_buf_free(&req.reply_body);
}

/*
 * A worker's signals: the master's blocked set cleared, SIGTERM/SIGINT
 * caught without SA_RESTART (so accept() sees EINTR), SIGPIPE ignored,
 * and SIGTERM/SIGINT then held (*term) while a request is served, so it
 * finishes; *old gets the mask to accept with.
 */
static void
worker_signals(sigset_t *term, sigset_t *old)
{
	struct sigaction sa;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	mt_log_catch_reopen();
	/* The master blocks these for sigtimedwait; a worker starts clean. */
	sigemptyset(old);
	sigprocmask(SIG_SETMASK, old, NULL);
	signal(SIGCHLD, SIG_DFL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: accept() sees EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(term);
	sigaddset(term, SIGTERM);
	sigaddset(term, SIGINT);
	sigprocmask(SIG_BLOCK, term, old);
}

/* A worker's connections (tried once now; reopened per request while
 * down) and its module's init; exits 1 when the init fails. */
static void
worker_connect(void)
{
	mt_db_setup(&worker_db, mt_db_conninfo(module->reads_replica),
	    module->stmts, module->nstmts);
	mt_idem_db_setup(&worker_db);
	worker_db.deadline_ms = mt_cfg.pg_deadline_ms;
	mt_redis_setup(mt_cfg.redis_socket, mt_cfg.redis_sentinels,
	    mt_cfg.redis_master_name, mt_cfg.redis_timeout_ms);
	if (mt_db_ensure(&worker_db) != 0)
		mt_log_warn("postgres down at start; will retry per request");
	if (mt_redis_ctx() == NULL)
		mt_log_warn("redis down at start; will retry per request");
	if (module->worker_init != NULL && module->worker_init() != 0) {
		mt_log_error("module init failed; worker exits to be restarted");
		_exit(1);
	}
}

/* A worker: accept and serve until SIGTERM, then exit 0. */
static void
worker_main(int listen_fd)
{
	sigset_t term, old;
	FCGX_Request fr;
	int rc;

	worker_signals(&term, &old);
	worker_connect();
	if (FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		_exit(1);
	for (;;) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (stopping)
			break;
		rc = FCGX_Accept_r(&fr);
		sigprocmask(SIG_BLOCK, &term, NULL);
		if (rc < 0) {
			if (stopping)
				break;
			/* A persistent accept error (EMFILE...) must not spin
			 * the CPU. */
			usleep(10 * 1000);
			continue;
		}
		serve(&fr);
		/* Whole body read: close at once, see the top comment. */
		FCGX_Detach(&fr);
		FCGX_Finish_r(&fr);
	}
	mt_db_close(&worker_db);
	mt_redis_close();
	_exit(0);
}

static pid_t
spawn(int listen_fd)
{
	pid_t pid = fork();

	if (pid == 0)
		worker_main(listen_fd);
	if (pid < 0)
		mt_log_error("fork: %s", strerror(errno));
	return pid;
}

/* Start a worker in every empty slot; a fork that failed is retried on
 * the next tick. */
static void
fill(pid_t *pids, time_t *born, int n, int fd)
{
	int i;

	for (i = 0; i < n; i++)
		if (pids[i] <= 0) {
			pids[i] = spawn(fd);
			born[i] = time(NULL);
		}
}

/* Reap every worker that ended and free its slot; 1 if any ended. */
static int
reap(pid_t *pids, time_t *born, int n)
{
	int status, i, any = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < n; i++) {
			if (pids[i] != pid)
				continue;
			mt_log_warn("worker %ld ended (%s %d); restarting",
			    (long)pid, WIFSIGNALED(status) ? "signal" : "exit",
			    WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status));
			/* A worker dying at birth must not spin the CPU. */
			if (time(NULL) - born[i] < 1)
				usleep(100 * 1000);
			pids[i] = 0;
			mt_metrics_restart();	/* metrics */
			any = 1;
		}
	return any;
}

/* The command line into the options; exits 2 (usage) when it is not
 * one. */
static void
parse_args(int argc, char **argv, const char **modpath, const char **sock,
    int *nworkers, const char **cfg, const char **log)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--module") == 0)
			*modpath = argv[++i];
		else if (strcmp(argv[i], "--socket") == 0)
			*sock = argv[++i];
		else if (strcmp(argv[i], "--workers") == 0)
			*nworkers = atoi(argv[++i]);
		else if (strcmp(argv[i], "--config") == 0)
			*cfg = argv[++i];
		else if (strcmp(argv[i], "--log") == 0)
			*log = argv[++i];
		else
			usage();
	}
	if (*modpath == NULL || *sock == NULL || *nworkers < 1 ||
	    *nworkers > MAX_WORKERS)
		usage();
}

/* Listen on the unix socket sock (its inode into *mine).  Returns the
 * descriptor, or -1 (said on stderr). */
static int
listen_on(const char *sock, struct stat *mine)
{
	int fd;

	FCGX_Init();
	unlink(sock);
	fd = FCGX_OpenSocket(sock, 1024);
	if (fd < 0 || sock[0] == ':' || strchr(sock, '/') == NULL ||
	    stat(sock, mine) != 0) {
		fprintf(stderr, "mtcert-host: cannot listen on %s (a unix "
		    "socket path containing '/' is required)\n", sock);
		return -1;
	}
	/* Access is controlled by the socket directory's permissions. */
	chmod(sock, 0666);
	return fd;
}

/* SIGTERM every worker, wake those in accept(), wait up to 10 s for the
 * requests in hand, then SIGKILL what is left. */
static void
drain(pid_t *pids, int n, int fd)
{
	int i, alive, tries;
	pid_t pid;

	mt_log_info("draining %d workers", n);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	/*
	 * Wake every worker blocked in accept(): a SIGTERM that lands just
	 * before a worker enters accept() would otherwise leave it waiting
	 * for a connection (libfcgi cannot multiplex).  Shutting the shared
	 * listening socket makes those accept() calls fail at once; requests
	 * in hand, on their own connections, finish.
	 */
	shutdown(fd, SHUT_RDWR);
	for (tries = 0; tries < 100; tries++) {
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			for (i = 0; i < n; i++)
				if (pids[i] == pid)
					pids[i] = 0;
		for (alive = 0, i = 0; i < n; i++)
			alive += pids[i] > 0;
		if (alive == 0)
			break;
		usleep(100 * 1000);
	}
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
}

int
main(int argc, char **argv)
{
	const char *modpath = NULL, *sock = NULL, *cfg = NULL, *log = NULL;
	pid_t pids[MAX_WORKERS] = { 0 };
	time_t born[MAX_WORKERS];
	int nworkers = 2, fd, sig;
	struct timespec tick = { 1, 0 };
	struct stat mine, now;
	sigset_t set;
	void *dl;

	parse_args(argc, argv, &modpath, &sock, &nworkers, &cfg, &log);
	if ((log != NULL && mt_log_open(log) != 0) ||
	    mt_config_load(cfg) != 0 || mt_auth_init() != 0)
		return 1;
	dl = dlopen(modpath, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL || (module = dlsym(dl, "mt_module")) == NULL) {
		fprintf(stderr, "mtcert-host: cannot load %s: %s\n", modpath,
		    dlerror());
		return 1;
	}
	mt_log_init(module->name);
	/* metrics: mapped before the first fork, shared by every worker. */
	mt_metrics_init(module->name, module->routes, module->nroutes);
	/* The master takes its signals synchronously (sigtimedwait). */
	mt_master_signals(&set);
	if ((fd = listen_on(sock, &mine)) < 0)
		return 1;
	fill(pids, born, nworkers, fd);
	mt_log_info("listening on %s with %d workers", sock, nworkers);
	for (;;) {
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGUSR1)
			mt_log_reopen_children(pids, nworkers);
		reap(pids, born, nworkers);
		fill(pids, born, nworkers, fd);
	}
	drain(pids, nworkers, fd);
	/* Remove the socket only if it is still ours, not a successor's. */
	if (stat(sock, &now) == 0 && now.st_ino == mine.st_ino &&
	    now.st_dev == mine.st_dev)
		unlink(sock);
	mt_log_info("stopped");
	return 0;
}
