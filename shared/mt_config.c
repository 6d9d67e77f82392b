/*
 * mt_config.c -- see mt_config.h.  Configuration is data: one row per key
 * with its type, where it goes and its default (nginx's ngx_command_t).
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mt_config.h"
#include "mt_util.h"

struct mt_config mt_cfg;

enum cfg_type { CFG_STR, CFG_INT };

static const struct cfg_row {
	const char     *key;
	enum cfg_type   type;
	size_t          offset;
	const char     *def;
} cfg_rows[] = {
	{ "pg_conninfo", CFG_STR, offsetof(struct mt_config, pg_conninfo),
	  "dbname=mtcert" },
	{ "pg_read_conninfo", CFG_STR,
	  offsetof(struct mt_config, pg_read_conninfo), "" },
	{ "pg_deadline_ms", CFG_INT, offsetof(struct mt_config, pg_deadline_ms),
	  "15000" },
	{ "redis_socket", CFG_STR, offsetof(struct mt_config, redis_socket),
	  "var/run/redis/redis.sock" },
	{ "redis_timeout_ms", CFG_INT,
	  offsetof(struct mt_config, redis_timeout_ms), "1000" },
	/* Redis Sentinel (docs/scale.md): empty means redis_socket. */
	{ "redis_sentinels", CFG_STR,
	  offsetof(struct mt_config, redis_sentinels), "" },
	{ "redis_master_name", CFG_STR,
	  offsetof(struct mt_config, redis_master_name), "mtcert" },
	{ "var_dir", CFG_STR, offsetof(struct mt_config, var_dir), "var" },
	{ "files_dir", CFG_STR, offsetof(struct mt_config, files_dir),
	  "var/files" },
	/* Outside the database and files_dir (docs/keys.md). */
	{ "files_keys_dir", CFG_STR, offsetof(struct mt_config, files_keys_dir),
	  "var/keys/files" },
	{ "sql_dir", CFG_STR, offsetof(struct mt_config, sql_dir), "sql" },
	{ "sms_log", CFG_STR, offsetof(struct mt_config, sms_log),
	  "var/sms.log" },
	/* Outside the database and the checkout (mt_identity.h). */
	{ "identity_keys_dir", CFG_STR,
	  offsetof(struct mt_config, identity_keys_dir), "var/keys/identity" },
	/* The audit trail's anchor files and archives (mt_audit.h): outside
	 * the database, the workers' user's. */
	{ "audit_dir", CFG_STR, offsetof(struct mt_config, audit_dir),
	  "var/audit" },
};

static int
cfg_set(const struct cfg_row *r, const char *val)
{
	char *end;
	long v;

	if (r->type == CFG_STR) {
		char **dst = (char **)((char *)&mt_cfg + r->offset);

		free(*dst);
		*dst = mt_xstrdup(val);
		return 0;
	}
	errno = 0;
	v = strtol(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || v < 0 || v > INT_MAX)
		return -1;
	*(int *)((char *)&mt_cfg + r->offset) = (int)v;
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

char *
mt_config_default_path(void)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return mt_xstrdup("var/mtcert.conf");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash != NULL)
		*slash = '\0';
	/* build/bin/<exe> -> <checkout>/var/mtcert.conf */
	return mt_xasprintf("%s/../../var/mtcert.conf", exe);
}

int
mt_config_load(const char *path)
{
	char line[4096], *k, *v, *eq, *def = NULL;
	size_t i;
	int lineno = 0, rc = -1;
	FILE *f;

	for (i = 0; i < MT_ARRAY_LEN(cfg_rows); i++)
		cfg_set(&cfg_rows[i], cfg_rows[i].def);
	if (path == NULL)
		path = getenv("MTCERT_CONFIG");
	if (path == NULL)
		path = def = mt_config_default_path();
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "mtcert: 无法读取配置文件 %s: %s "
		    "(run `make run` first, or set MTCERT_CONFIG)\n",
		    path, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (eq == NULL) {
			fprintf(stderr, "%s:%d: expected key = value\n",
			    path, lineno);
			goto close;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		for (i = 0; i < MT_ARRAY_LEN(cfg_rows); i++)
			if (strcmp(cfg_rows[i].key, k) == 0)
				break;
		if (i == MT_ARRAY_LEN(cfg_rows) || cfg_set(&cfg_rows[i], v)) {
			fprintf(stderr, "%s:%d: unknown key or bad value: %s\n",
			    path, lineno, k);
			goto close;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error: %s\n", path, strerror(errno));
		goto close;
	}
	rc = 0;
close:
	fclose(f);
out:
	free(def);
	return rc;
}
