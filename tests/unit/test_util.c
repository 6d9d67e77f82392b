/*
 * test_util.c -- mt_buf, mt_hex, the mt_x* string helpers (mt_util.h) and
 * mt_config_load (mt_config.h), table-driven where there is a table.
 *
 * Config files are written with mkstemp(3) under /tmp and removed after
 * each case.  mt_config_load prints why it refuses a file to stderr; that
 * output is expected.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mt_config.h"
#include "mt_db.h"
#include "mt_util.h"
#include "unit.h"

#define MB	(1024 * 1024)

/* The invariants of every buffer: NUL-terminated, len < cap. */
static int
buf_sane(const struct mt_buf *b)
{
	if (b->data == NULL)
		return b->len == 0 && b->cap == 0;
	return b->len < b->cap && b->data[b->len] == '\0';
}

static void
test_buf_small(void)
{
	struct mt_buf b = { NULL, 0, 0 };
	char *p;

	mt_buf_reset(&b);
	CHECK(b.data == NULL && b.len == 0, "reset of a zero buffer");

	mt_buf_append(&b, "", 0);
	CHECK(buf_sane(&b) && b.data != NULL && b.len == 0 &&
	    b.data[0] == '\0', "append of 0 bytes gives \"\"");

	mt_buf_append(&b, "abc", 3);
	mt_buf_puts(&b, "def");
	mt_buf_printf(&b, "-%d-%s-%c", 42, "中", 'x');
	CHECK(buf_sane(&b) && b.len == 3 + 3 + 9 &&
	    strcmp(b.data, "abcdef-42-中-x") == 0,
	    "append/puts/printf: %s (%zu)", unit_esc(b.data, b.len), b.len);

	mt_buf_printf(&b, "%s", "");
	CHECK(buf_sane(&b) && b.len == 15, "printf of \"\" adds nothing");

	mt_buf_append(&b, "x\0y", 3);
	CHECK(buf_sane(&b) && b.len == 18 &&
	    memcmp(b.data + 15, "x\0y", 3) == 0,
	    "append keeps embedded NULs");

	p = b.data;
	mt_buf_reset(&b);
	CHECK(b.len == 0 && b.data == p && b.data[0] == '\0' && b.cap > 0,
	    "reset keeps the memory and empties the string");
	mt_buf_puts(&b, "again");
	CHECK(buf_sane(&b) && strcmp(b.data, "again") == 0,
	    "reuse after reset: %s", unit_str(b.data));

	mt_buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0, "free zeroes");
	mt_buf_free(&b);
	CHECK(b.data == NULL, "second free is a no-op");

	/* A zero buffer first written by printf. */
	mt_buf_printf(&b, "%s", "");
	CHECK(buf_sane(&b) && b.data != NULL && b.len == 0,
	    "printf of \"\" into a zero buffer gives \"\"");
	mt_buf_free(&b);
	mt_buf_printf(&b, "%05d", 7);
	CHECK(buf_sane(&b) && strcmp(b.data, "00007") == 0,
	    "printf into a zero buffer: %s", unit_str(b.data));
	mt_buf_free(&b);
}

/* Growth past 1 MB, one byte, one big block and many printfs at a time. */
static void
test_buf_growth(void)
{
	struct mt_buf b = { NULL, 0, 0 };
	size_t i, bad, n;
	char c, *big, line[16];
	int len;

	for (i = 0; i < MB + 17; i++) {
		c = (char)('a' + i % 26);
		mt_buf_append(&b, &c, 1);
	}
	for (i = 0, bad = 0; i < b.len; i++)
		if (b.data[i] != (char)('a' + i % 26))
			bad++;
	CHECK(buf_sane(&b) && b.len == (size_t)MB + 17 && bad == 0,
	    "byte-wise append to 1 MB + 17: len %zu, %zu bad bytes",
	    b.len, bad);
	mt_buf_reset(&b);
	CHECK(b.len == 0 && b.data[0] == '\0', "reset after 1 MB");
	mt_buf_free(&b);

	n = 3 * MB + 5;
	big = mt_xmalloc(n);
	for (i = 0; i < n; i++)
		big[i] = (char)(i * 7 % 251 + 1);
	mt_buf_puts(&b, "head:");
	mt_buf_append(&b, big, n);
	CHECK(buf_sane(&b) && b.len == n + 5 &&
	    memcmp(b.data, "head:", 5) == 0 && memcmp(b.data + 5, big, n) == 0,
	    "one 3 MB append: len %zu", b.len);
	mt_buf_free(&b);

	/* One printf of a string larger than 1 MB. */
	big[n - 1] = '\0';
	mt_buf_printf(&b, "<%s>", big);
	CHECK(buf_sane(&b) && b.len == n + 1 && b.data[0] == '<' &&
	    b.data[n] == '>' && memcmp(b.data + 1, big, n - 1) == 0,
	    "one 3 MB printf: len %zu", b.len);
	mt_buf_free(&b);
	free(big);

	/* Many small printfs past 1 MB, each checked in place after. */
	for (i = 0; i < 200000; i++)
		mt_buf_printf(&b, "%06zu\n", i);
	CHECK(buf_sane(&b) && b.len == 200000 * 7,
	    "200000 printfs: len %zu", b.len);
	for (i = 0, bad = 0; i < 200000 && b.len == 200000 * 7; i++) {
		len = snprintf(line, sizeof(line), "%06zu\n", i);
		if (memcmp(b.data + i * 7, line, (size_t)len) != 0)
			bad++;
	}
	CHECK(bad == 0, "200000 printfs: %zu bad lines", bad);
	mt_buf_free(&b);
}

static const struct {
	const char	*in;
	size_t		 n;
	const char	*hex;
} hexes[] = {
	{ "", 0, "" },
	{ "\x00", 1, "00" },
	{ "\x0f", 1, "0f" },
	{ "\xf0", 1, "f0" },
	{ "\xff", 1, "ff" },
	{ "abc", 3, "616263" },
	{ "\x01\x23\x45\x67\x89\xab\xcd\xef", 8, "0123456789abcdef" },
	{ "\xde\xad\xbe\xef\x00", 5, "deadbeef00" },
};

static void
test_hex(void)
{
	unsigned char all[256];
	char *out, want[513];
	size_t i;

	for (i = 0; i < MT_ARRAY_LEN(hexes); i++) {
		out = mt_xmalloc(2 * hexes[i].n + 1);
		mt_hex((const unsigned char *)hexes[i].in, hexes[i].n, out);
		CHECK(strcmp(out, hexes[i].hex) == 0, "mt_hex(%s) = %s, "
		    "want %s", unit_esc(hexes[i].in, hexes[i].n),
		    unit_str(out), hexes[i].hex);
		free(out);
	}

	/* Every byte value, against printf's %02x. */
	for (i = 0; i < 256; i++) {
		all[i] = (unsigned char)i;
		snprintf(want + 2 * i, 3, "%02x", (unsigned)i);
	}
	out = mt_xmalloc(sizeof(want));
	mt_hex(all, sizeof(all), out);
	CHECK(strcmp(out, want) == 0, "mt_hex of bytes 0..255");
	free(out);
}

static void
test_strings(void)
{
	char *s;

	s = mt_xasprintf("%s-%d", "a", 42);
	CHECK(strcmp(s, "a-42") == 0, "mt_xasprintf: %s", unit_str(s));
	free(s);
	s = mt_xasprintf("%s", "");
	CHECK(strcmp(s, "") == 0, "mt_xasprintf of \"\": %s", unit_str(s));
	free(s);
	s = mt_xasprintf("%s/%s", "张建国", "411200");
	CHECK(strcmp(s, "张建国/411200") == 0, "mt_xasprintf UTF-8: %s",
	    unit_str(s));
	free(s);
	s = mt_xasprintf("%0*d", 2 * MB, 7);
	CHECK(strlen(s) == 2 * MB && s[0] == '0' && s[2 * MB - 1] == '7',
	    "mt_xasprintf 2 MB: len %zu", strlen(s));
	free(s);

	s = mt_xstrdup("abc");
	CHECK(strcmp(s, "abc") == 0, "mt_xstrdup: %s", unit_str(s));
	free(s);
	s = mt_xstrndup("abcdef", 3);
	CHECK(strcmp(s, "abc") == 0, "mt_xstrndup: %s", unit_str(s));
	free(s);
	s = mt_xstrndup("ab", 0);
	CHECK(strcmp(s, "") == 0, "mt_xstrndup of 0: %s", unit_str(s));
	free(s);
}

/*
 * mt_fd_readable on a pipe: empty, holding data, drained, and with the
 * writing end closed (what a server that went away looks like).
 */
static void
test_fd_readable(void)
{
	int fds[2], rc;
	char c;

	if (!CHECK(pipe(fds) == 0, "pipe"))
		return;
	rc = mt_fd_readable(fds[0]);
	CHECK(rc == 0, "empty pipe: %d, want 0", rc);
	CHECK(write(fds[1], "x", 1) == 1, "write to pipe");
	rc = mt_fd_readable(fds[0]);
	CHECK(rc == 1, "pipe holding a byte: %d, want 1", rc);
	CHECK(read(fds[0], &c, 1) == 1 && c == 'x', "read from pipe");
	rc = mt_fd_readable(fds[0]);
	CHECK(rc == 0, "drained pipe: %d, want 0", rc);
	close(fds[1]);
	rc = mt_fd_readable(fds[0]);
	CHECK(rc == 1, "pipe closed by the writer: %d, want 1", rc);
	close(fds[0]);
}

static void
test_now_ms(void)
{
	double a, b;
	int i, back = 0;

	a = mt_now_ms();
	for (i = 0; i < 1000; i++) {
		b = mt_now_ms();
		if (b < a)
			back++;
		a = b;
	}
	CHECK(a > 0 && back == 0, "mt_now_ms went back %d times", back);
	a = mt_now_ms();
	usleep(20 * 1000);
	b = mt_now_ms();
	CHECK(b - a >= 19.0 && b - a < 5000.0,
	    "mt_now_ms over a 20 ms sleep: %.3f ms", b - a);
}

/*
 * Write text to a new file under /tmp; returns its path, which the
 * caller unlinks and frees, or NULL after a failed CHECK.
 */
static char *
conf_write(const char *text)
{
	char *path;
	size_t n = strlen(text);
	ssize_t w;
	int fd;

	path = mt_xstrdup("/tmp/mtcert-unit-XXXXXX");
	if (!CHECK((fd = mkstemp(path)) != -1, "mkstemp %s", path)) {
		free(path);
		return NULL;
	}
	w = write(fd, text, n);
	close(fd);
	if (!CHECK(w == (ssize_t)n, "write %s", path)) {
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

/* Load text as a config file; returns mt_config_load's result or -2. */
static int
conf_load(const char *text)
{
	char *path;
	int rc;

	if ((path = conf_write(text)) == NULL)
		return -2;
	rc = mt_config_load(path);
	unlink(path);
	free(path);
	return rc;
}

/* Same string, both possibly NULL. */
static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
test_config_good(void)
{
	static const char full[] =
	    "# mtcert.conf written by a test\n"
	    "\n"
	    "   # an indented comment\n"
	    "pg_conninfo = host=/tmp/pg dbname=mtcert_test\n"
	    "redis_socket=/tmp/redis.sock\n"
	    "\tredis_timeout_ms\t=\t250\t\n"
	    "  \t  \n"
	    "var_dir = /srv/mtcert/var\r\n"
	    "files_dir   =   /srv/mtcert/var/files   \n"
	    "#sql_dir = /not/this\n"
	    "sql_dir = /srv/mtcert/sql\n"
	    "sms_log = /srv/mtcert/var/sms.log";	/* no final newline */
	struct mt_config def;
	int rc;

	/* A file of comments and blank lines: defaults only. */
	rc = conf_load("# nothing\n\n   \n#\n");
	CHECK(rc == 0, "comments-only file: rc %d", rc);
	CHECK(mt_cfg.pg_conninfo != NULL && mt_cfg.redis_socket != NULL &&
	    mt_cfg.var_dir != NULL && mt_cfg.files_dir != NULL &&
	    mt_cfg.sql_dir != NULL && mt_cfg.sms_log != NULL &&
	    mt_cfg.redis_timeout_ms > 0, "every key has a default");
	def.pg_conninfo = mt_xstrdup(mt_cfg.pg_conninfo);
	def.redis_socket = mt_xstrdup(mt_cfg.redis_socket);
	def.redis_timeout_ms = mt_cfg.redis_timeout_ms;
	def.var_dir = mt_xstrdup(mt_cfg.var_dir);
	def.files_dir = mt_xstrdup(mt_cfg.files_dir);
	def.sql_dir = mt_xstrdup(mt_cfg.sql_dir);
	def.sms_log = mt_xstrdup(mt_cfg.sms_log);

	rc = conf_load("");
	CHECK(rc == 0, "empty file: rc %d", rc);

	rc = conf_load(full);
	CHECK(rc == 0, "full file: rc %d", rc);
	CHECK(streq(mt_cfg.pg_conninfo, "host=/tmp/pg dbname=mtcert_test"),
	    "pg_conninfo %s (a value may hold '=')",
	    unit_str(mt_cfg.pg_conninfo));
	CHECK(streq(mt_cfg.redis_socket, "/tmp/redis.sock"),
	    "redis_socket %s", unit_str(mt_cfg.redis_socket));
	CHECK(mt_cfg.redis_timeout_ms == 250, "redis_timeout_ms %d",
	    mt_cfg.redis_timeout_ms);
	CHECK(streq(mt_cfg.var_dir, "/srv/mtcert/var"), "var_dir %s (CRLF)",
	    unit_str(mt_cfg.var_dir));
	CHECK(streq(mt_cfg.files_dir, "/srv/mtcert/var/files"),
	    "files_dir %s", unit_str(mt_cfg.files_dir));
	CHECK(streq(mt_cfg.sql_dir, "/srv/mtcert/sql"),
	    "sql_dir %s (commented line ignored)", unit_str(mt_cfg.sql_dir));
	CHECK(streq(mt_cfg.sms_log, "/srv/mtcert/var/sms.log"),
	    "sms_log %s (last line without newline)",
	    unit_str(mt_cfg.sms_log));

	/* A later load starts from the defaults again, not the last file. */
	rc = conf_load("var_dir = /elsewhere\n");
	CHECK(rc == 0, "partial file: rc %d", rc);
	CHECK(streq(mt_cfg.var_dir, "/elsewhere"), "partial: var_dir %s",
	    unit_str(mt_cfg.var_dir));
	CHECK(streq(mt_cfg.pg_conninfo, def.pg_conninfo) &&
	    streq(mt_cfg.redis_socket, def.redis_socket) &&
	    mt_cfg.redis_timeout_ms == def.redis_timeout_ms &&
	    streq(mt_cfg.files_dir, def.files_dir) &&
	    streq(mt_cfg.sql_dir, def.sql_dir) &&
	    streq(mt_cfg.sms_log, def.sms_log),
	    "partial: the other keys are back to their defaults");

	free(def.pg_conninfo);
	free(def.redis_socket);
	free(def.var_dir);
	free(def.files_dir);
	free(def.sql_dir);
	free(def.sms_log);
}

/* The Sentinel keys (docs/scale.md): off by default, read as written. */
static void
test_config_sentinel(void)
{
	int rc;

	rc = conf_load("");
	CHECK(rc == 0 && streq(mt_cfg.redis_sentinels, "") &&
	    streq(mt_cfg.redis_master_name, "mtcert"),
	    "sentinel defaults: [%s] [%s]", unit_str(mt_cfg.redis_sentinels),
	    unit_str(mt_cfg.redis_master_name));
	rc = conf_load("redis_sentinels = 10.0.0.1:26379, 10.0.0.2:26379\n"
	    "redis_master_name = prov41\n");
	CHECK(rc == 0 && streq(mt_cfg.redis_sentinels,
	    "10.0.0.1:26379, 10.0.0.2:26379") &&
	    streq(mt_cfg.redis_master_name, "prov41"),
	    "sentinel keys: [%s] [%s]", unit_str(mt_cfg.redis_sentinels),
	    unit_str(mt_cfg.redis_master_name));
	rc = conf_load("redis_sentinels =\n");
	CHECK(rc == 0 && streq(mt_cfg.redis_sentinels, ""),
	    "an empty value means no sentinels: [%s]",
	    unit_str(mt_cfg.redis_sentinels));
}

static const struct {
	const char	*text;
	int		 want;
} cfg_ints[] = {
	{ "redis_timeout_ms = 250\n", 250 },
	{ "redis_timeout_ms=1\n", 1 },
	{ "redis_timeout_ms = 2147483647\n", INT_MAX },
	{ "redis_timeout_ms = 5000\r\n", 5000 },
};

static void
test_config_ints(void)
{
	size_t i;
	int rc;

	for (i = 0; i < MT_ARRAY_LEN(cfg_ints); i++) {
		mt_cfg.redis_timeout_ms = -12345;
		rc = conf_load(cfg_ints[i].text);
		CHECK(rc == 0 && mt_cfg.redis_timeout_ms == cfg_ints[i].want,
		    "config %s: rc %d, redis_timeout_ms %d, want 0, %d",
		    unit_str(cfg_ints[i].text), rc, mt_cfg.redis_timeout_ms,
		    cfg_ints[i].want);
	}
}

/* Files mt_config_load must refuse with -1. */
static const char *const cfg_bad[] = {
	"redis_port = 6379\n",			/* unknown key */
	"pg_conninfo = dbname=x\nbogus = 1\n",	/* unknown key, line 2 */
	"PG_CONNINFO = dbname=x\n",		/* keys are case-sensitive */
	"pg_conninfo\n",			/* no '=' */
	"pg_conninfo dbname\n",		/* no '=' */
	"pg_conninfo dbname = x\n",		/* key with a space */
	"= value\n",				/* no key */
	"redis_timeout_ms = abc\n",
	"redis_timeout_ms = 12abc\n",
	"redis_timeout_ms = 1.5\n",
	"redis_timeout_ms = -1\n",
	"redis_timeout_ms = 2147483648\n",	/* INT_MAX + 1 */
	"redis_timeout_ms = 99999999999999999999\n",
	"redis_timeout_ms = 0x10\n",
	"redis_timeout_ms = 1 000\n",
	"redis_timeout_ms =\n",	
	"redis_timeout_ms =   \n",
};

static void
test_config_bad(void)
{
	size_t i;
	int rc;

	for (i = 0; i < MT_ARRAY_LEN(cfg_bad); i++) {
		rc = conf_load(cfg_bad[i]);
		CHECK(rc == -1, "config %s: rc %d, want -1",
		    unit_str(cfg_bad[i]), rc);
	}
}

static void
test_config_paths(void)
{
	char *path;
	int rc;

	rc = mt_config_load("/nonexistent/mtcert-unit/mtcert.conf");
	CHECK(rc == -1, "missing file: rc %d, want -1", rc);

	/* A directory opens but cannot be read: refused, not empty. */
	rc = mt_config_load("/tmp");
	CHECK(rc == -1, "a directory as the config file: rc %d, want -1", rc);

	/* path NULL: $MTCERT_CONFIG names the file. */
	if ((path = conf_write("sql_dir = /from/env\n")) == NULL)
		return;
	setenv("MTCERT_CONFIG", path, 1);
	rc = mt_config_load(NULL);
	CHECK(rc == 0 && streq(mt_cfg.sql_dir, "/from/env"),
	    "$MTCERT_CONFIG: rc %d, sql_dir %s", rc, unit_str(mt_cfg.sql_dir));
	/* An explicit path wins over $MTCERT_CONFIG. */
	rc = mt_config_load("/nonexistent/mtcert-unit/mtcert.conf");
	CHECK(rc == -1, "explicit path over $MTCERT_CONFIG: rc %d", rc);
	unsetenv("MTCERT_CONFIG");
	unlink(path);
	free(path);
}

/*
 * pg_read_conninfo (docs/scale.md): unset, every pool connects with
 * pg_conninfo; set, a pool that only reads takes it and every other
 * pool still pg_conninfo.
 */
static void
test_config_read_conninfo(void)
{
	int rc;

	rc = conf_load("pg_conninfo = dbname=w\n");
	CHECK(rc == 0 && streq(mt_db_conninfo(1), "dbname=w") &&
	    streq(mt_db_conninfo(0), "dbname=w"),
	    "no pg_read_conninfo: the primary's for reads too");
	rc = conf_load("pg_conninfo = dbname=w\n"
	    "pg_read_conninfo = port=2,1 target_session_attrs=prefer-standby\n");
	CHECK(rc == 0 && streq(mt_db_conninfo(1),
	    "port=2,1 target_session_attrs=prefer-standby") &&
	    streq(mt_db_conninfo(0), "dbname=w"),
	    "pg_read_conninfo: reads only (got %s)",
	    unit_str(mt_db_conninfo(1)));
}

/* mt_read_file: the whole file, its last bytes, a missing file. */
static void
test_read_file(void)
{
	char dir[] = "/tmp/mt-read-file.XXXXXX", *path;
	struct mt_buf b = {0};
	FILE *f;

	CHECK(mkdtemp(dir) != NULL, "a temporary directory");
	path = mt_xasprintf("%s/f", dir);
	f = fopen(path, "w");
	CHECK(f != NULL && fputs("a\nbb\nccc\n", f) >= 0 && fclose(f) == 0,
	    "a file written");
	CHECK(mt_read_file(path, 0, &b) == 0 && b.len == 9 &&
	    memcmp(b.data, "a\nbb\nccc\n", 9) == 0, "the whole file");
	mt_buf_reset(&b);
	CHECK(mt_read_file(path, 4, &b) == 0 && b.len == 4 &&
	    memcmp(b.data, "ccc\n", 4) == 0, "its last 4 bytes");
	mt_buf_reset(&b);
	CHECK(mt_read_file(path, 100, &b) == 0 && b.len == 9,
	    "a tail longer than the file: the whole file");
	unlink(path);
	CHECK(mt_read_file(path, 0, &b) == -1 && errno == ENOENT,
	    "a missing file: -1, ENOENT");
	rmdir(dir);
	free(path);
	mt_buf_free(&b);
}

static int
master_number(const char *name)
{
	return mt_name_number(name, "master-", ".key", 1);
}

/* Numbered key files: the names that are one, the highest, the age. */
static void
test_numbered_files(void)
{
	char dir[] = "/tmp/mt-numbered.XXXXXX", *path;
	const char *names[] = { "master-2.key", "master-10.key",
	    "master-9.key.tmp", "master-11.keys", "xmaster-12.key" };
	size_t i;
	FILE *f;

	CHECK(mt_name_number("master-7.key", "master-", ".key", 1) == 7,
	    "master-7.key is 7");
	CHECK(mt_name_number("data-1.key", "data-", ".key", 2) == 0,
	    "below min: not one");
	CHECK(mt_name_number("master-.key", "master-", ".key", 1) == 0 &&
	    mt_name_number("master--3.key", "master-", ".key", 1) == 0 &&
	    mt_name_number("master-3.key.tmp", "master-", ".key", 1) == 0 &&
	    mt_name_number("master-99999999999.key", "master-", ".key", 1)
	    == 0, "no number, a sign, another suffix, out of range: 0");
	CHECK(mkdtemp(dir) != NULL, "a temporary directory");
	CHECK(mt_dir_highest(dir, master_number) == 0, "an empty dir: 0");
	for (i = 0; i < MT_ARRAY_LEN(names); i++) {
		path = mt_xasprintf("%s/%s", dir, names[i]);
		f = fopen(path, "w");
		CHECK(f != NULL && fclose(f) == 0, "a file made");
		free(path);
	}
	CHECK(mt_dir_highest(dir, master_number) == 10,
	    "the highest of the names that are one: 10");
	CHECK(mt_dir_highest(NULL, master_number) == 0 &&
	    mt_dir_highest("/nonexistent/mt", master_number) == 0,
	    "no dir: 0");
	path = mt_xasprintf("%s/master-10.key", dir);
	CHECK(mt_file_age(path) >= 0 && mt_file_age(path) < 3600,
	    "a file just written: its age");
	free(path);
	for (i = 0; i < MT_ARRAY_LEN(names); i++) {
		path = mt_xasprintf("%s/%s", dir, names[i]);
		unlink(path);
		free(path);
	}
	path = mt_xasprintf("%s/master-10.key", dir);
	CHECK(mt_file_age(path) == -1, "a missing file: -1");
	free(path);
	rmdir(dir);
}

int
main(void)
{
	test_buf_small();
	test_buf_growth();
	test_hex();
	test_strings();
	test_fd_readable();
	test_now_ms();
	test_config_good();
	test_config_sentinel();
	test_config_read_conninfo();
	test_config_ints();
	test_config_bad();
	test_config_paths();
	test_read_file();
	test_numbered_files();
	return unit_done();
}
