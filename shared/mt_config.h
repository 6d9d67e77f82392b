/*
 * mt_config.h -- the configuration file shared by mtcert-host, the
 * dispatcher and mtcertctl (written by `make run` into var/mtcert.conf).
 * Format: "key = value" lines, '#' comments.  Unknown keys are an error.
 */
#ifndef MT_CONFIG_H
#define MT_CONFIG_H

struct mt_config {
	char   *pg_conninfo;    /* libpq connection string */
	char   *pg_read_conninfo; /* for modules that read only ("": the
	                           * primary's; docs/scale.md) */
	int     pg_deadline_ms; /* longest wait for one PostgreSQL answer */
	char   *redis_socket;   /* unix socket of redis-server */
	int     redis_timeout_ms; /* connect and command timeout */
	char   *redis_sentinels; /* "host:port,..." or "": redis_socket */
	char   *redis_master_name; /* the master's name at the sentinels */
	char   *var_dir;        /* runtime directory */
	char   *files_dir;      /* uploaded-file store */
	char   *files_keys_dir; /* its master keys (mt_keys.h) */
	char   *sql_dir;        /* migrations and reference data */
	char   *sms_log;        /* development SMS sender output */
	char   *identity_keys_dir; /* ID-number and phone keys (mt_identity.h) */
	char   *audit_dir;      /* audit anchors and archives (mt_audit.h) */
};

extern struct mt_config mt_cfg;

/*
 * Load path (or $MTCERT_CONFIG, or the default next to the binary when
 * path is NULL) into mt_cfg.  Returns 0, or -1 after printing why.
 */
int     mt_config_load(const char *path);
/* The default config path: <dir of the executable>/../../var/mtcert.conf. */
char   *mt_config_default_path(void);

#endif
