/*
 * mtcertctl.c -- the operator's command line.  Reads the same config as
 * `make run` (var/mtcert.conf, or MTCERT_CONFIG, or --config FILE first).
 *
 *   mtcertctl migrate
 *   mtcertctl load-reference
 *   mtcertctl person add --id-number N --name X --phone P --region R
 *                        --insurance employee|resident
 *   mtcertctl user add --role insured|hospital|expert|agency|admin
 *                      --login L --password P|- [--region R]
 *                      [--institution CODE] [--id-number N]
 *   mtcertctl expert add --login L --password P|- --institution CODE
 *                        --title 中级|副高|正高 --specialties 肿瘤,精神
 *                        [--phone P]
 *   mtcertctl policy set REGION KEY VALUE
 *   mtcertctl policy get REGION
 *   mtcertctl settlements import FILE --region R [--format csv|ndjson]
 *   mtcertctl renewals run             (the renewal job, now)
 *   mtcertctl publicity run            (the publicity job, now)
 *   mtcertctl returns run              (the lapse of returned, now)
 *   mtcertctl sanctions run            (the sanctions job, now)
 *   mtcertctl audit-trail verify [--region R] [--from DATE]
 *   mtcertctl audit-trail archive --before DATE --out FILE
 *   mtcertctl audit-trail daily        (anchor and archive, now)
 *   mtcertctl errors                   (the error table as JSON)
 *   mtcertctl card keygen              (a first e-card key when none)
 *   mtcertctl card rotate              (a new current e-card key)
 *   mtcertctl card verify TOKEN [--keys FILE]
 *                                      (offline: the keys file alone)
 *   mtcertctl keys init | rotate | retire N
 *                                      (the file store's master keys)
 *   mtcertctl files encrypt | shred    (seal plain files; shred those
 *                                      whose retention is over, now)
 *   mtcertctl identity encrypt [--batch N] [--keep-plain]
 *                                      (seal ID numbers and phones left
 *                                      plain, N rows a transaction)
 *   mtcertctl identity hmac id_number|phone VALUE...
 *   mtcertctl identity show PERSON      (ID number and phone, opened)
 *   mtcertctl identity open id_number|phone SEALED
 *                                      (one <col>_enc value, opened)
 *   mtcertctl identity rotate data [--batch N]
 *                                      (a new data key, every value
 *                                      re-sealed under it)
 *   mtcertctl identity reseal [--batch N]
 *   mtcertctl identity retire data N   (once no value uses key N)
 *
 * Exit status: 0 success, 2 bad input (with a message saying what), 1 when
 * the database fails.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "mt_audit.h"
#include "mt_auth.h"
#include "mt_card.h"
#include "mt_draw.h"
#include "mt_config.h"
#include "mt_db.h"
#include "mt_error.h"
#include "mt_keys.h"
#include "mt_identity.h"
#include "mt_policy.h"
#include "mt_settle.h"
#include "mt_store.h"
#include "mt_util.h"
#include "mt_valid.h"

#define EXIT_BAD 2
#define IDENTITY_BATCH 500     /* rows a transaction of identity_fill */

static PGconn *conn;

/*
 * The statements, as data (STYLE.md).  Prepared on first use, not at
 * connect: most name tables that only `migrate` creates.  Files of SQL
 * (migrations, sql/fn, sql/ref) are run as they are, by run().
 */
enum stmt {
	STMT_MIGRATOR_LOCK,
	STMT_MIGRATIONS_TABLE,
	STMT_MIGRATION_APPLIED,
	STMT_MIGRATION_RECORD,
	STMT_REPEATABLES_TABLE,
	STMT_REPEATABLE_CURRENT,
	STMT_REPEATABLE_RECORD,
	STMT_REBUILD_VIEWS,
	STMT_VIEWS_STALE_MARK,
	STMT_VIEWS_STALE,
	STMT_VIEWS_FRESH,
	STMT_USER_UPSERT,
	STMT_PERSON_UPSERT,
	STMT_EXPERT_ADD,
	STMT_IDENTITY_PENDING,
	STMT_IDENTITY_SEAL,
	STMT_OUTBOX_PENDING,
	STMT_OUTBOX_SEAL,
	STMT_PERSON_SEALED,
	STMT_REST_APP_PHONE,
	STMT_SEAL_APP_PHONE,
	STMT_REST_AGENT_ID,
	STMT_SEAL_AGENT_ID,
	STMT_REST_AGENT_PHONE,
	STMT_SEAL_AGENT_PHONE,
	STMT_REST_GUARDIAN,
	STMT_SEAL_GUARDIAN,
	STMT_REST_EXPERT_PHONE,
	STMT_SEAL_EXPERT_PHONE,
	STMT_REST_INST_PHONE,
	STMT_SEAL_INST_PHONE,
	STMT_IDENTITY_KEY_USES,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* Serialises concurrent migrators (held to the transaction's end). */
	[STMT_MIGRATOR_LOCK] = "SELECT pg_advisory_xact_lock(7411200)",
	[STMT_MIGRATIONS_TABLE] =
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version text PRIMARY KEY,"
	    " applied_at timestamptz NOT NULL DEFAULT now())",
	/* A row when migration $1 was applied. */
	[STMT_MIGRATION_APPLIED] =
	    "SELECT 1 FROM schema_migrations WHERE version = $1",
	[STMT_MIGRATION_RECORD] =
	    "INSERT INTO schema_migrations (version) VALUES ($1)",
	[STMT_REPEATABLES_TABLE] =
	    "CREATE TABLE IF NOT EXISTS schema_repeatables ("
	    " name text PRIMARY KEY,"
	    " sha256 text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())",
	/* A row when file $1 was applied with SHA-256 $2. */
	[STMT_REPEATABLE_CURRENT] =
	    "SELECT 1 FROM schema_repeatables WHERE name = $1 AND sha256 = $2",
	[STMT_REPEATABLE_RECORD] =
	    "INSERT INTO schema_repeatables (name, sha256) VALUES ($1, $2)"
	    " ON CONFLICT (name) DO UPDATE"
	    " SET sha256 = EXCLUDED.sha256, applied_at = now()",
	/* The views of the next $2 applications after id $1 (defined in
	 * fn/20_applications.sql); NULL when none is left. */
	[STMT_REBUILD_VIEWS] = "SELECT rebuild_application_views($1, $2)",
	/* The mark that the stored views still wait for a rebuild: set in
	 * the transaction that applies files of sql/fn/, cleared when every
	 * batch is done, so a migrate that stopped between the two finishes
	 * the rebuild next time. */
	[STMT_VIEWS_STALE_MARK] =
	    "INSERT INTO schema_repeatables (name, sha256)"
	    " VALUES ('(stored views)', 'stale') ON CONFLICT (name) DO NOTHING",
	[STMT_VIEWS_STALE] =
	    "SELECT 1 FROM schema_repeatables WHERE name = '(stored views)'",
	[STMT_VIEWS_FRESH] =
	    "DELETE FROM schema_repeatables WHERE name = '(stored views)'",
	/* login $1, role $2, hash $3, region $4, institution $5, the ID
	 * number's HMAC $6; $7: keep an existing account as it is (demo
	 * users must never get their published passwords back on a
	 * restart).  No row: the
	 * institution or person is unknown, or the account was kept. */
	[STMT_USER_UPSERT] =
	    "INSERT INTO users (login, role, password_hash, region,"
	    " institution, person_id)"
	    " SELECT $1, $2, $3, coalesce($4, i.region, pr.region), $5, pr.id"
	    " FROM (SELECT 1) one"
	    " LEFT JOIN institutions i ON i.code = $5"
	    " LEFT JOIN persons pr ON pr.id_number_hmac = $6"
	    " WHERE ($5::text IS NULL OR i.code IS NOT NULL)"
	    "   AND ($6::text IS NULL OR pr.id IS NOT NULL)"
	    " ON CONFLICT (login) DO UPDATE SET role = EXCLUDED.role,"
	    " password_hash = EXCLUDED.password_hash,"
	    " region = EXCLUDED.region, institution = EXCLUDED.institution,"
	    " person_id = EXCLUDED.person_id, failed_logins = 0,"
	    " locked_until = NULL WHERE NOT $7::boolean"
	    " RETURNING id",
	/* The ID number's HMAC $1, seal $2, mask $3, name $4, sex $5,
	 * birth $6, the phone's HMAC $7, seal $8, mask $9, insurance $10,
	 * region $11; $12: keep an existing person as it is (the demo
	 * persons).  No row: the region is unknown, or the person kept. */
	[STMT_PERSON_UPSERT] =
	    "INSERT INTO persons (id_number_hmac, id_number_enc,"
	    " id_number_masked, name, sex, birth_date, phone_hmac, phone_enc,"
	    " phone_masked, insurance, region)"
	    " SELECT $1, $2, $3, $4, $5, $6::date, $7, $8, $9, $10, $11"
	    " WHERE EXISTS (SELECT 1 FROM regions WHERE code = $11)"
	    " ON CONFLICT (id_number_hmac) DO UPDATE SET name = EXCLUDED.name,"
	    " phone_hmac = EXCLUDED.phone_hmac, phone_enc = EXCLUDED.phone_enc,"
	    " phone_masked = EXCLUDED.phone_masked, phone = NULL,"
	    " insurance = EXCLUDED.insurance, region = EXCLUDED.region"
	    " WHERE NOT $12::boolean RETURNING id",
	/* create_expert's refusal code (NULL when added) and the id. */
	[STMT_EXPERT_ADD] =
	    "SELECT create_expert($1, $2, $3, $4, $5::text[], $6, $7, $8)"
	    "->>'error' AS error, create_expert_id($1) AS id",
	/* identity encrypt (043_identity.sql): the next $1 persons with a
	 * plain ID number or phone, locked; $2 keep the plain columns (then
	 * only those not sealed yet). */
	[STMT_IDENTITY_PENDING] =
	    "SELECT id, id_number, phone FROM persons"
	    " WHERE (id_number IS NOT NULL OR phone IS NOT NULL)"
	    "   AND NOT ($2::boolean AND id_number_hmac IS NOT NULL"
	    "            AND phone_hmac IS NOT NULL)"
	    " ORDER BY id LIMIT $1 FOR NO KEY UPDATE",
	/* Person $1: ID number HMAC, seal, mask $2-$4, phone's $5-$7 (NULL:
	 * that one is sealed already); $8 keep the plain columns. */
	[STMT_IDENTITY_SEAL] =
	    "UPDATE persons SET id_number_hmac = coalesce($2, id_number_hmac),"
	    " id_number_enc = coalesce($3, id_number_enc),"
	    " id_number_masked = coalesce($4, id_number_masked),"
	    " phone_hmac = coalesce($5, phone_hmac),"
	    " phone_enc = coalesce($6, phone_enc),"
	    " phone_masked = coalesce($7, phone_masked),"
	    " id_number = CASE WHEN $8::boolean THEN id_number END,"
	    " phone = CASE WHEN $8::boolean THEN phone END WHERE id = $1",
	[STMT_OUTBOX_PENDING] =
	    "SELECT id, to_phone FROM sms_outbox WHERE to_phone IS NOT NULL"
	    " ORDER BY id LIMIT $1 FOR NO KEY UPDATE",
	[STMT_OUTBOX_SEAL] =
	    "UPDATE sms_outbox SET to_phone_enc = $2, to_phone = NULL"
	    " WHERE id = $1",
	[STMT_PERSON_SEALED] =
	    "SELECT id_number_enc, phone_enc FROM persons WHERE id = $1",
	/*
	 * identity encrypt, the columns of 044_identity_rest.sql: each a
	 * STMT_REST_ (the next $1 rows with the value plain, locked, as
	 * key and value; $2 keep the plain ones, then only those not
	 * sealed yet) and a STMT_SEAL_ (row $1: seal $2, $3 keep the
	 * plain value, mask $4 where the column has one).  identity_rest.
	 */
	[STMT_REST_APP_PHONE] =
	    "SELECT id AS key, phone AS value FROM applications"
	    " WHERE phone IS NOT NULL AND NOT ($2 AND phone_enc IS NOT NULL)"
	    " ORDER BY id LIMIT $1 FOR NO KEY UPDATE",
	[STMT_SEAL_APP_PHONE] =
	    "UPDATE applications SET phone_enc = $2, phone_masked = $4,"
	    " phone = CASE WHEN $3 THEN phone END WHERE id = $1",
	[STMT_REST_AGENT_ID] =
	    "SELECT id AS key, agent_id_number AS value FROM applications"
	    " WHERE agent_id_number IS NOT NULL"
	    "   AND NOT ($2 AND agent_id_number_enc IS NOT NULL)"
	    " ORDER BY id LIMIT $1 FOR NO KEY UPDATE",
	[STMT_SEAL_AGENT_ID] =
	    "UPDATE applications SET agent_id_number_enc = $2,"
	    " agent_id_number_masked = $4,"
	    " agent_id_number = CASE WHEN $3 THEN agent_id_number END"
	    " WHERE id = $1",
	[STMT_REST_AGENT_PHONE] =
	    "SELECT id AS key, agent_phone AS value FROM applications"
	    " WHERE agent_phone IS NOT NULL"
	    "   AND NOT ($2 AND agent_phone_enc IS NOT NULL)"
	    " ORDER BY id LIMIT $1 FOR NO KEY UPDATE",
	[STMT_SEAL_AGENT_PHONE] =
	    "UPDATE applications SET agent_phone_enc = $2,"
	    " agent_phone_masked = $4,"
	    " agent_phone = CASE WHEN $3 THEN agent_phone END WHERE id = $1",
	[STMT_REST_GUARDIAN] =
	    "SELECT id AS key, guardian_id_number AS value FROM qualifications"
	    " WHERE guardian_id_number IS NOT NULL"
	    "   AND NOT ($2 AND guardian_id_number_enc IS NOT NULL)"
	    " ORDER BY id LIMIT $1 FOR NO KEY UPDATE",
	[STMT_SEAL_GUARDIAN] =
	    "UPDATE qualifications SET guardian_id_number_enc = $2,"
	    " guardian_id_number = CASE WHEN $3 THEN guardian_id_number END"
	    " WHERE id = $1",
	[STMT_REST_EXPERT_PHONE] =
	    "SELECT user_id AS key, phone AS value FROM experts"
	    " WHERE phone IS NOT NULL AND NOT ($2 AND phone_enc IS NOT NULL)"
	    " ORDER BY user_id LIMIT $1 FOR NO KEY UPDATE",
	[STMT_SEAL_EXPERT_PHONE] =
	    "UPDATE experts SET phone_enc = $2, phone_masked = $4,"
	    " phone = CASE WHEN $3 THEN phone END WHERE user_id = $1",
	[STMT_REST_INST_PHONE] =
	    "SELECT code AS key, contact_phone AS value FROM institutions"
	    " WHERE contact_phone IS NOT NULL"
	    "   AND NOT ($2 AND contact_phone_enc IS NOT NULL)"
	    " ORDER BY code LIMIT $1 FOR NO KEY UPDATE",
	[STMT_SEAL_INST_PHONE] =
	    "UPDATE institutions SET contact_phone_enc = $2,"
	    " contact_phone = CASE WHEN $3 THEN contact_phone END"
	    " WHERE code = $1",
	/* Values still sealed under data key $1 (identity retire data). */
	[STMT_IDENTITY_KEY_USES] =
	    "SELECT count(*) AS n FROM identity_sealed WHERE key_id = $1",
};

/* The columns identity encrypt seals beside persons' (044). */
static const struct identity_rest {
	enum stmt               pending, seal;
	enum mt_identity_col    col;
	int                     masked;     /* the column keeps a mask */
} identity_rest[] = {
	{ STMT_REST_APP_PHONE, STMT_SEAL_APP_PHONE, MT_IDENTITY_PHONE, 1 },
	{ STMT_REST_AGENT_ID, STMT_SEAL_AGENT_ID, MT_IDENTITY_ID_NUMBER, 1 },
	{ STMT_REST_AGENT_PHONE, STMT_SEAL_AGENT_PHONE, MT_IDENTITY_PHONE, 1 },
	{ STMT_REST_GUARDIAN, STMT_SEAL_GUARDIAN, MT_IDENTITY_ID_NUMBER, 0 },
	{ STMT_REST_EXPERT_PHONE, STMT_SEAL_EXPERT_PHONE, MT_IDENTITY_PHONE,
	  1 },
	{ STMT_REST_INST_PHONE, STMT_SEAL_INST_PHONE, MT_IDENTITY_PHONE, 0 },
};

/*
 * Every sealed column, for identity rotate data: its table's key column,
 * a key before its first row, its kind (the associated data) and its
 * table.column.  The C list of sql/fn/11_identity.sql's identity_sealed
 * view (a test holds the two together); reseal_sql makes its statements.
 */
static const struct identity_sealed {
	const char             *key;
	const char             *start;
	enum mt_identity_col    col;
	const char             *name;       /* table.column */
} identity_sealed[] = {
	{ "id", "0", MT_IDENTITY_ID_NUMBER, "persons.id_number_enc" },
	{ "id", "0", MT_IDENTITY_PHONE, "persons.phone_enc" },
	{ "id", "0", MT_IDENTITY_PHONE, "applications.phone_enc" },
	{ "id", "0", MT_IDENTITY_ID_NUMBER,
	  "applications.agent_id_number_enc" },
	{ "id", "0", MT_IDENTITY_PHONE, "applications.agent_phone_enc" },
	{ "id", "0", MT_IDENTITY_ID_NUMBER,
	  "qualifications.guardian_id_number_enc" },
	{ "user_id", "0", MT_IDENTITY_PHONE, "experts.phone_enc" },
	{ "code", "", MT_IDENTITY_PHONE, "institutions.contact_phone_enc" },
	{ "id", "0", MT_IDENTITY_PHONE, "sms_outbox.to_phone_enc" },
};

static void
die_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2),
    noreturn));

static void
die_bad(const char *fmt, ...)
{
	va_list ap;

	fputs("mtcertctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_BAD);
}

/* Say what failed on connection c with libpq's why, when it has one
 * (an mt_db call that failed has logged the SQLSTATE and may have
 * rolled back or dropped c since); exit 1. */
static void
die_conn(PGconn *c, const char *what)
{
	const char *why = c != NULL ? PQerrorMessage(c) : "";

	if (*why != '\0')
		fprintf(stderr, "mtcertctl: %s: %s", what, why);
	else
		fprintf(stderr, "mtcertctl: %s\n", what);
	exit(1);
}

static void
die_db(const char *what)
{
	die_conn(conn, what);
}

/* libsodium started (exit 1 when it cannot), then the connection (exit
 * 1 when refused), its notices from warning up. */
static void
connect_db(void)
{
	if (mt_auth_init() != 0)
		exit(1);
	conn = PQconnectdb(mt_cfg.pg_conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
		die_db("cannot connect to PostgreSQL");
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
}

/* The file being applied (migrate), named first in an error message. */
static const char *err_file;

/* Set by a caller that retries its transaction: a deadlock or a
 * serialization failure (a running service's transaction crossed ours)
 * then sets `transient` and returns NULL instead of exiting. */
static int tolerate_transient, transient;

/* res when it succeeded; else say why and exit 1 (2 when a constraint
 * refused the input, with bad23 set).  A file of comments only (an
 * emptied migration) is no failure. */
static PGresult *
checked(PGresult *res, int bad23)
{
	ExecStatusType st = PQresultStatus(res);
	int refused;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
	    st == PGRES_EMPTY_QUERY)
		return res;
	if (tolerate_transient && (mt_db_state_is(res, "40P01") ||
	    mt_db_state_is(res, "40001"))) {
		transient = 1;
		PQclear(res);
		return NULL;
	}
	if (err_file != NULL)
		fprintf(stderr, "mtcertctl: %s: %s", err_file,
		    PQresultErrorMessage(res));
	else
		fprintf(stderr, "mtcertctl: %s", PQresultErrorMessage(res));
	refused = mt_db_state_is(res, "23");
	PQclear(res);
	PQfinish(conn);
	exit(bad23 && refused ? EXIT_BAD : 1);
}

/* Run sql; exit 1 on failure.  Returns the result (caller clears). */
static PGresult *
run(const char *sql, int n, const char *const *params)
{
	/* Without parameters use the simple protocol: files hold many
	 * statements. */
	return checked(n == 0 ? PQexec(conn, sql) :
	    PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0), 0);
}

static void
run0(const char *sql)
{
	PQclear(run(sql, 0, NULL));
}

/*
 * Run statement stmt of the table with n parameters, prepared as "c<i>"
 * on its first use.  Exits 1 on failure (2 when bad23 and a constraint
 * refused the input).  Returns the result (caller clears).
 */
static PGresult *
exec_stmt_ex(enum stmt stmt, int n, const char *const *params, int bad23)
{
	static int prepared[STMT__MAX];
	char name[16];

	snprintf(name, sizeof(name), "c%d", (int)stmt);
	if (!prepared[stmt]) {
		PQclear(checked(PQprepare(conn, name, stmts[stmt], 0, NULL),
		    0));
		prepared[stmt] = 1;
	}
	return checked(PQexecPrepared(conn, name, n, params, NULL, NULL, 0),
	    bad23);
}

static PGresult *
exec_stmt(enum stmt stmt, int n, const char *const *params)
{
	return exec_stmt_ex(stmt, n, params, 0);
}

static void
exec0(enum stmt stmt)
{
	PQclear(exec_stmt(stmt, 0, NULL));
}

/*
 * The content of the file at path (caller frees; NUL-terminated, and
 * its length in bytes into *len when len is not NULL: a NUL inside is
 * content); exits 2 when unreadable.
 */
static char *
read_path(const char *path, size_t *len)
{
	struct mt_buf b = {0};

	if (mt_read_file(path, 0, &b) != 0)
		die_bad("cannot read %s: %s", path, strerror(errno));
	if (b.data == NULL)
		mt_buf_puts(&b, "");
	if (len != NULL)
		*len = b.len;
	return b.data;
}

/* The text of file name in dir (caller frees); exits 2 when unreadable. */
static char *
read_file(const char *dir, const char *name)
{
	char *path = mt_xasprintf("%s/%s", dir, name), *text;

	text = read_path(path, NULL);
	free(path);
	return text;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .sql files of dir in name order; *n gets the count. */
static char **
sql_files(const char *dir, size_t *n)
{
	char **names = NULL;
	struct dirent *d;
	size_t len;
	DIR *dh = opendir(dir);

	*n = 0;
	if (dh == NULL)
		die_bad("cannot open %s: %s", dir, strerror(errno));
	while ((d = readdir(dh)) != NULL) {
		len = strlen(d->d_name);
		if (len < 5 || strcmp(d->d_name + len - 4, ".sql") != 0)
			continue;
		names = mt_xrealloc(names, (*n + 1) * sizeof(*names));
		names[(*n)++] = mt_xstrdup(d->d_name);
	}
	closedir(dh);
	qsort(names, *n, sizeof(*names), name_cmp);
	return names;
}

/* Begin a transaction holding the migrators' lock: every step of
 * migrate, the CREATE TABLE IF NOT EXISTS of its own tables included,
 * runs under it, so two migrators never race. */
static void
begin_locked(void)
{
	run0("BEGIN");
	exec0(STMT_MIGRATOR_LOCK);
}

/* How often a step crossed by the running service's transactions (a
 * deadlock, a serialization failure) is tried again from its start. */
enum { TRANSIENT_TRIES = 20, VIEW_BATCH = 100 };
/* Rows linked per transaction by backfill_chains. */
#define BACKFILL_BATCH "5000"

/* Back off before try number `try` (1, 2, ...) of a crossed step:
 * 20 ms, 40 ms, ... up to 1 s, so the other transaction gets through. */
static void
transient_pause(int try)
{
	struct timespec ts;
	long ms = 20L * try;

	if (ms > 1000)
		ms = 1000;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

/* A transaction crossed by the service: roll it back; exit 1 saying
 * `what` when it was the last try. */
static void
transient_rollback(int try, const char *what)
{
	PQclear(PQexec(conn, "ROLLBACK"));
	transient = 0;
	if (try >= TRANSIENT_TRIES) {
		fprintf(stderr, "mtcertctl: %s: still crossed by the running "
		    "service's transactions after %d tries\n", what, try);
		exit(1);
	}
	transient_pause(try);
}

/*
 * One try of applying the changed files of sql/fn/ in one transaction;
 * done[i] set for each applied file.  Returns the number applied, -1
 * when the service's transactions crossed it (rolled back by the
 * caller; nothing kept).  Exits 1 when a file fails.
 */
static int
apply_repeatables_once(const char *dir, char **files, size_t n, char *done)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char *sql, sha[sizeof(h) * 2 + 1], fname[300];
	const char *p[2];
	PGresult *res;
	size_t i;
	int applied = 0, ok;

	memset(done, 0, n);
	begin_locked();
	exec0(STMT_REPEATABLES_TABLE);
	for (i = 0; i < n && !transient; i++) {
		sql = read_file(dir, files[i]);
		crypto_hash_sha256(h, (const unsigned char *)sql, strlen(sql));
		mt_hex(h, sizeof(h), sha);
		p[0] = files[i];
		p[1] = sha;
		res = exec_stmt(STMT_REPEATABLE_CURRENT, 2, p);
		ok = res != NULL && PQntuples(res) == 0;
		PQclear(res);
		if (ok) {
			snprintf(fname, sizeof(fname), "fn/%s", files[i]);
			err_file = fname;
			run0(sql);
			err_file = NULL;
			if (!transient)
				PQclear(exec_stmt(STMT_REPEATABLE_RECORD, 2,
				    p));
			done[i] = 1;
			applied++;
		}
		free(sql);
	}
	if (applied > 0 && !transient)
		exec0(STMT_VIEWS_STALE_MARK);
	if (!transient)
		run0("COMMIT");
	return transient ? -1 : applied;
}

/*
 * Rebuild every stored progress view with the definitions now in the
 * database, when the mark says they wait for it: VIEW_BATCH views per
 * transaction in id order, each batch tried again when crossed by the
 * service, then the mark cleared.  A view the service rewrote between
 * two batches was already built with the new definitions.
 */
static void
rebuild_views(void)
{
	const char *p[2];
	char after[32] = "0", batch[16];
	PGresult *res;
	int stale, try = 0;

	res = exec_stmt(STMT_VIEWS_STALE, 0, NULL);
	stale = PQntuples(res) > 0;
	PQclear(res);
	if (!stale)
		return;
	snprintf(batch, sizeof(batch), "%d", VIEW_BATCH);
	err_file = "rebuilding the stored progress views";
	p[0] = after;
	p[1] = batch;
	for (;;) {
		run0("BEGIN");
		res = exec_stmt(STMT_REBUILD_VIEWS, 2, p);
		if (res != NULL && !transient)
			run0("COMMIT");
		if (transient) {
			PQclear(res);
			transient_rollback(++try, err_file);
			continue;
		}
		try = 0;
		if (PQgetisnull(res, 0, 0)) {
			PQclear(res);
			break;
		}
		snprintf(after, sizeof(after), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	exec0(STMT_VIEWS_FRESH);
	err_file = NULL;
}

/*
 * Link the access_log and events rows written before their chain (042)
 * with audit_backfill (sql/fn/13_audit_chain.sql): BACKFILL_BATCH rows
 * per transaction, each batch tried again when crossed by the service,
 * until none is left.  Prints how many when any.  Nothing to link is one
 * probe of two empty partial indexes.
 */
static void
backfill_chains(void)
{
	static const char *const p[1] = { BACKFILL_BATCH };
	long long total = 0, n;
	PGresult *res;
	int try = 0;

	err_file = "linking the rows written before the audit chain";
	do {
		run0("BEGIN");
		res = run("SELECT audit_backfill($1::int)", 1, p);
		if (!transient)
			run0("COMMIT");
		if (transient) {
			PQclear(res);
			transient_rollback(++try, err_file);
			n = 1;
			continue;
		}
		try = 0;
		total += n = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
	} while (n > 0);
	err_file = NULL;
	if (total > 0)
		printf("audit chain: %lld rows of before it linked\n", total);
}

/*
 * Apply the files of sql/fn/ (the one live definition of each function,
 * view and trigger) whose SHA-256 differs from the one recorded in
 * schema_repeatables, in name order, all in one transaction, after the
 * numbered migrations.  Only changed files, not all of them every time:
 * re-creating a trigger locks its table (events, applications) against
 * the running service, and when the service's transactions cross ours
 * (a deadlock) the whole step is rolled back and tried again.  When any
 * file was applied, every stored progress view is rebuilt afterwards
 * (rebuild_views), whichever file it was: a new mask_phone reaches the
 * stored views too.  Files are said applied only after COMMIT.  Exits 1
 * when a file fails, naming it (nothing of this step is kept), 2 when
 * sql/fn cannot be read.
 */
static void
apply_repeatables(void)
{
	char **files, *dir, *done;
	size_t n, i;
	int applied, try = 0;

	dir = mt_xasprintf("%s/fn", mt_cfg.sql_dir);
	files = sql_files(dir, &n);
	done = mt_xcalloc(n > 0 ? n : 1, 1);
	tolerate_transient = 1;
	while ((applied = apply_repeatables_once(dir, files, n, done)) < 0)
		transient_rollback(++try, "applying sql/fn");
	rebuild_views();
	backfill_chains();
	tolerate_transient = 0;
	for (i = 0; i < n; i++) {
		if (done[i])
			printf("applied fn/%s\n", files[i]);
		free(files[i]);
	}
	free(done);
	free(files);
	free(dir);
	printf("functions: %d applied, %zu files\n", applied, n);
}

/*
 * Apply sql/NNN_*.sql in order, each in its own transaction, once (tables,
 * indexes, data), then the changed files of sql/fn/.  Returns 0; exits 1
 * when the database fails, 2 on two migrations with one number.
 */
static int
cmd_migrate(void)
{
	const char *p[1];
	char **files, *sql, version[64];
	size_t n, i;
	PGresult *res;
	int applied = 0, done;

	/* The service's statement_timeout (10 s, in pg_conninfo's options)
	 * is for requests; a migration's DDL or backfill, or a rebuild batch
	 * on a loaded machine, may take longer (a batch of 500 views once
	 * timed out at load 18). */
	run0("SET statement_timeout = 0");
	begin_locked();
	exec0(STMT_MIGRATIONS_TABLE);
	run0("COMMIT");
	files = sql_files(mt_cfg.sql_dir, &n);
	/* The version is the number before '_': two files with one number
	 * would silently skip the second, so refuse that outright. */
	for (i = 1; i < n; i++)
		if (strcspn(files[i], "_.") == strcspn(files[i - 1], "_.") &&
		    strncmp(files[i], files[i - 1], strcspn(files[i], "_."))
		    == 0)
			die_bad("migrations %s and %s share a version number",
			    files[i - 1], files[i]);
	for (i = 0; i < n; i++) {
		snprintf(version, sizeof(version), "%.*s",
		    (int)strcspn(files[i], "_."), files[i]);
		begin_locked();
		p[0] = version;
		res = exec_stmt(STMT_MIGRATION_APPLIED, 1, p);
		done = 0;
		if (PQntuples(res) == 0) {
			sql = read_file(mt_cfg.sql_dir, files[i]);
			err_file = files[i];
			run0(sql);
			err_file = NULL;
			PQclear(exec_stmt(STMT_MIGRATION_RECORD, 1, p));
			done = 1;
			free(sql);
		}
		PQclear(res);
		run0("COMMIT");
		if (done) {
			printf("applied %s\n", files[i]);
			applied++;
		}
		free(files[i]);
	}
	free(files);
	printf("migrations: %d applied, %zu total\n", applied, n);
	apply_repeatables();
	return 0;
}

/* Refuse (exit 2, saying why) the options of an account that cannot
 * be one. */
static void
user_check(const char *role, const char *login, const char *password,
    const char *region, const char *inst, const char *idnum)
{
	if (mt_role_bit(role) == 0)
		die_bad("--role must be insured, hospital, expert, agency or "
		    "admin");
	if (login == NULL || !mt_valid_login(login))
		die_bad("--login must be 3-64 of A-Z a-z 0-9 _ . @ -");
	if (strcmp(role, "insured") != 0 &&
	    (password == NULL || strlen(password) < 8))
		die_bad("--password of at least 8 characters is required for "
		    "staff");
	if (region != NULL && !mt_valid_region(region))
		die_bad("--region must be a 6-digit region code");
	if (inst != NULL && !mt_valid_institution_code(inst))
		die_bad("--institution is not a valid institution code");
	if (idnum != NULL && !mt_valid_id_number(idnum))
		die_bad("--id-number fails the GB 11643 check");
	if ((strcmp(role, "hospital") == 0 || strcmp(role, "expert") == 0) &&
	    inst == NULL)
		die_bad("--institution is required for role %s", role);
	if (strcmp(role, "agency") == 0 && region == NULL)
		die_bad("--region is required for role agency");
	if (strcmp(role, "insured") == 0 && idnum == NULL)
		die_bad("--id-number is required for role insured");
}

/*
 * Insert or update a staff or insured account (keep: an existing one is
 * left as it is).  Returns 0, or exits 2 with the reason (1 when the
 * database fails).
 */
static int
user_upsert(const char *role, const char *login, const char *password,
    const char *region, const char *inst, const char *idnum, int keep)
{
	char hash[crypto_pwhash_STRBYTES], idh[MT_IDENTITY_HMAC_LEN + 1];
	const char *p[7];
	PGresult *res;

	user_check(role, login, password, region, inst, idnum);
	if (idnum != NULL && mt_identity_hmac(MT_IDENTITY_ID_NUMBER, idnum,
	    idh) != 0)
		die_bad("no identity keys (identity_keys_dir)");
	if (password != NULL &&
	    mt_auth_hash_password(password, hash, sizeof(hash)) != 0)
		die_bad("cannot hash the password (out of memory?)");
	p[0] = login;
	p[1] = role;
	p[2] = password != NULL ? hash : NULL;
	p[3] = region;
	p[4] = inst;
	p[5] = idnum != NULL ? idh : NULL;
	p[6] = keep ? "true" : "false";
	/* A constraint refusing the input is bad input: exit 2. */
	res = exec_stmt_ex(STMT_USER_UPSERT, 7, p, 1);
	if (PQntuples(res) == 0 && keep) {
		PQclear(res);
		return 0;		/* exists: left as it is */
	}
	if (PQntuples(res) == 0)
		die_bad("%s not found: add the %s first",
		    inst != NULL ? "institution" : "person",
		    inst != NULL ? "institution" : "person (mtcertctl person add)");
	printf("user %s (%s) id %s\n", login, role, mt_db_get(res, 0, "id"));
	PQclear(res);
	return 0;
}

/*
 * Call fn with the nf (at most 6) fields of each line of sql/ref/<name>
 * (blank lines and '#' comments skipped, '-' meaning none).  Exits 2 on
 * a short line.
 */
static void
each_tsv_line(const char *name, int nf, void (*fn)(char **))
{
	char *dir = mt_xasprintf("%s/ref", mt_cfg.sql_dir);
	char *text = read_file(dir, name), *line, *save = NULL, *f[6], *s2;
	int i;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		s2 = NULL;
		for (i = 0; i < nf; i++) {
			f[i] = strtok_r(i == 0 ? line : NULL, "\t ", &s2);
			if (f[i] == NULL)
				die_bad("%s/%s: a line needs %d fields", dir,
				    name, nf);
			if (strcmp(f[i], "-") == 0)
				f[i] = NULL;
		}
		fn(f);
	}
	free(text);
	free(dir);
}

/* Demo accounts (sql/ref/demo_users.tsv): role login password region
 * institution id_number; an existing account is left as it is. */
static void
demo_user(char **f)
{
	user_upsert(f[0], f[1], f[2], f[3], f[4], f[5], 1);
}

static void	demo_expert(char **);
static void	demo_person(char **);
static long	identity_fill(int, int);

static int
cmd_load_reference(void)
{
	char *dir = mt_xasprintf("%s/ref", mt_cfg.sql_dir), *sql;
	char **files;
	size_t n, i;

	files = sql_files(dir, &n);
	run0("BEGIN");
	for (i = 0; i < n; i++) {
		sql = read_file(dir, files[i]);
		run0(sql);
		printf("loaded %s\n", files[i]);
		free(sql);
		free(files[i]);
	}
	run0("COMMIT");
	free(files);
	free(dir);
	identity_fill(IDENTITY_BATCH, 0);
	each_tsv_line("demo_persons.tsv", 5, demo_person);
	each_tsv_line("demo_users.tsv", 6, demo_user);
	each_tsv_line("demo_experts.tsv", 6, demo_expert);
	return 0;
}

/* --name value pairs from argv[from..] into vals[] by names[]. */
static void
parse_opts(int argc, char **argv, int from, const char *const *names,
    const char **vals, size_t n)
{
	size_t k;
	int i;

	for (i = from; i < argc; i += 2) {
		for (k = 0; k < n; k++)
			if (strcmp(argv[i], names[k]) == 0)
				break;
		if (k == n)
			die_bad("unknown option %s", argv[i]);
		if (i + 1 >= argc)
			die_bad("%s needs a value", argv[i]);
		vals[k] = argv[i + 1];
	}
}

/* Seal one plain value of a pending row into c (c->enc NULL for a NULL
 * value); exits 1 without keys. */
static void
identity_seal(enum mt_identity_col col, const char *value,
    struct mt_identity_cols *c)
{
	memset(c, 0, sizeof(*c));
	if (value != NULL && mt_identity_cols(col, value, c) != 0) {
		fprintf(stderr, "mtcertctl: no identity keys\n");
		exit(1);
	}
}

/* Seal the persons of STMT_IDENTITY_PENDING's res (cleared here) in the
 * open transaction.  Returns how many. */
static long
identity_fill_persons(PGresult *res, int keep)
{
	struct mt_identity_cols id, ph;
	const char *p[8];
	int i, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		identity_seal(MT_IDENTITY_ID_NUMBER,
		    mt_db_text(res, i, "id_number"), &id);
		identity_seal(MT_IDENTITY_PHONE, mt_db_text(res, i, "phone"),
		    &ph);
		p[0] = mt_db_get(res, i, "id");
		p[1] = id.enc != NULL ? id.hmac : NULL;
		p[2] = id.enc;
		p[3] = id.enc != NULL ? id.masked : NULL;
		p[4] = ph.enc != NULL ? ph.hmac : NULL;
		p[5] = ph.enc;
		p[6] = ph.enc != NULL ? ph.masked : NULL;
		p[7] = keep ? "true" : "false";
		PQclear(exec_stmt(STMT_IDENTITY_SEAL, 8, p));
		mt_identity_cols_free(&id);
		mt_identity_cols_free(&ph);
	}
	PQclear(res);
	return n;
}

/* Seal the phones of STMT_OUTBOX_PENDING's res (cleared here) in the
 * open transaction.  Returns how many. */
static long
identity_fill_outbox(PGresult *res)
{
	const char *p[2];
	char *enc;
	int i, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		enc = mt_identity_seal(MT_IDENTITY_PHONE,
		    mt_db_get(res, i, "to_phone"));
		if (enc == NULL) {
			fprintf(stderr, "mtcertctl: no identity keys\n");
			exit(1);
		}
		p[0] = mt_db_get(res, i, "id");
		p[1] = enc;
		PQclear(exec_stmt(STMT_OUTBOX_SEAL, 2, p));
		free(enc);
	}
	PQclear(res);
	return n;
}

/* Seal the rows of r's pending statement (p: its $1 batch, $2 keep) in
 * the open transaction.  Returns how many. */
static long
identity_fill_rest(const struct identity_rest *r, const char *const *p)
{
	PGresult *res = exec_stmt(r->pending, 2, p);
	struct mt_identity_cols c;
	const char *q[4];
	int i, n = PQntuples(res);

	for (i = 0; i < n; i++) {
		identity_seal(r->col, mt_db_get(res, i, "value"), &c);
		q[0] = mt_db_get(res, i, "key");
		q[1] = c.enc;
		q[2] = p[1];
		q[3] = c.masked;
		PQclear(exec_stmt(r->seal, r->masked ? 4 : 3, q));
		mt_identity_cols_free(&c);
	}
	PQclear(res);
	return n;
}

/* identity show PERSON: the person's ID number and phone, opened, on one
 * line (tab between).  0, 2 unknown person, 1 when they do not open. */
static int
identity_show(const char *person)
{
	char id[MT_IDENTITY_VALUE_MAX + 1], ph[MT_IDENTITY_VALUE_MAX + 1];
	const char *p[1] = { person };
	PGresult *res;
	int rc = 1;

	if (strspn(person, "0123456789") != strlen(person) || *person == '\0'
	    || strlen(person) > 18)
		die_bad("identity show: PERSON is a person's id");
	res = exec_stmt(STMT_PERSON_SEALED, 1, p);
	if (PQntuples(res) == 0) {
		PQclear(res);
		die_bad("no person %s", person);
	}
	if (mt_identity_open(MT_IDENTITY_ID_NUMBER, mt_db_get(res, 0,
	    "id_number_enc"), id, sizeof(id)) == 0 &&
	    mt_identity_open(MT_IDENTITY_PHONE, mt_db_get(res, 0, "phone_enc"),
	    ph, sizeof(ph)) == 0) {
		printf("%s\t%s\n", id, ph);
		rc = 0;
	} else
		fprintf(stderr, "mtcertctl: person %s: not sealed, or not "
		    "under these keys\n", person);
	PQclear(res);
	return rc;
}

/*
 * Column c's two statements (the caller frees): *old, the next $1 rows
 * after key $3 whose value is sealed under another data key than $2,
 * locked, as key and enc; *upd, row $1's value becomes $2.
 */
static void
reseal_sql(const struct identity_sealed *c, char **old, char **upd)
{
	char *table = mt_xstrdup(c->name), *col = strchr(table, '.');

	*col++ = '\0';
	*old = mt_xasprintf("SELECT %s::text AS key, %s AS enc FROM %s"
	    " WHERE %s > $3 AND identity_key(%s) <> $2 ORDER BY %s LIMIT $1"
	    " FOR NO KEY UPDATE", c->key, col, table, c->key, col, c->key);
	*upd = mt_xasprintf("UPDATE %s SET %s = $2 WHERE %s = $1", table, col,
	    c->key);
	free(table);
}

/*
 * Re-seal the next batch rows of column c after *last (a row key, which
 * advances) whose value is not under data key key (text), in one
 * transaction, rows locked: each opened under the key it names and
 * sealed under the current one (sql: reseal_sql's).  Returns how many;
 * exits 1 naming the row when one does not open (its key missing:
 * docs/keys.md) or when the database fails.
 */
static int
identity_reseal_batch(const struct identity_sealed *c, char *const sql[2],
    const char *key, int batch, char **last)
{
	char plain[MT_IDENTITY_VALUE_MAX + 1], lim[16], *enc;
	const char *p[3] = { lim, key, *last };
	PGresult *res;
	int i, n;

	snprintf(lim, sizeof(lim), "%d", batch);
	run0("BEGIN");
	res = run(sql[0], 3, p);
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		p[0] = mt_db_get(res, i, "key");
		if (mt_identity_open(c->col, mt_db_get(res, i, "enc"), plain,
		    sizeof(plain)) != 0 ||
		    (enc = mt_identity_seal(c->col, plain)) == NULL) {
			fprintf(stderr, "mtcertctl: %s of row %s does not "
			    "open (its data key missing?)\n", c->name, p[0]);
			exit(1);
		}
		p[1] = enc;
		PQclear(run(sql[1], 2, p));
		free(enc);
	}
	sodium_memzero(plain, sizeof(plain));
	if (n > 0) {
		free(*last);
		*last = mt_xstrdup(mt_db_get(res, n - 1, "key"));
	}
	PQclear(res);
	run0("COMMIT");
	return n;
}

/*
 * Re-seal every sealed value (identity_sealed[]) not under the current
 * data key, batch rows a transaction, the service running (a value
 * written meanwhile by a worker that had not seen the new key yet is
 * left: identity retire data refuses until a later reseal takes it).
 * Returns how many; exits as identity_reseal_batch.
 */
static long
identity_reseal(int batch)
{
	char key[16], *last, *sql[2];
	long total = 0;
	size_t c;
	int n;

	snprintf(key, sizeof(key), "%d", mt_identity_data_current());
	for (c = 0; c < MT_ARRAY_LEN(identity_sealed); c++) {
		reseal_sql(&identity_sealed[c], &sql[0], &sql[1]);
		last = mt_xstrdup(identity_sealed[c].start);
		while ((n = identity_reseal_batch(&identity_sealed[c], sql,
		    key, batch, &last)) > 0)
			total += n;
		free(last);
		free(sql[0]);
		free(sql[1]);
	}
	return total;
}

/*
 * identity retire data N: remove data key N once it is not current, the
 * current key is MT_KEYS_RETIRE_GRACE seconds old (a worker that read N
 * as current just before the rotation may still commit a value sealed
 * under it: the same race, and bound, as the files' master keys) and no
 * sealed value uses it.  Prints {"key": current, "retired": N}; exits 2
 * on a refusal.
 */
static int
identity_retire(const char *arg)
{
	const char *p[1] = { arg };
	int n = atoi(arg), cur = mt_identity_data_current();
	PGresult *res;
	long long uses;

	if (n <= 0 || strspn(arg, "0123456789") != strlen(arg) ||
	    mt_identity_data_age(n) < 0)
		die_bad("identity retire data: no data key %s", arg);
	if (n == cur)
		die_bad("identity retire data: %d is the current key", n);
	if (mt_identity_data_age(cur) < MT_KEYS_RETIRE_GRACE)
		die_bad("identity retire data: the current key is younger "
		    "than %d s (a worker may still write a value sealed under "
		    "%d): retire it later", MT_KEYS_RETIRE_GRACE, n);
	res = exec_stmt(STMT_IDENTITY_KEY_USES, 1, p);
	uses = atoll(mt_db_get(res, 0, "n"));
	PQclear(res);
	if (uses != 0)
		die_bad("identity retire data: %lld value(s) still sealed "
		    "under data key %d (identity reseal first)", uses, n);
	if (mt_identity_data_remove(n) != 0)
		die_bad("identity retire data: %s", strerror(errno));
	printf("{\"key\": %d, \"retired\": %d}\n", cur, n);
	return 0;
}

/*
 * identity rotate data [--batch N]: a new current data key, then every
 * value re-sealed under it (identity_reseal); identity reseal [--batch
 * N]: the re-sealing alone (what a rotation left: values written during
 * it).  Prints {"key": current, "resealed": n}.  Exit 2 on bad input, 1
 * when the key cannot be made, a value does not open or the database
 * fails.  The lookup key does not rotate yet (docs/keys.md says how it
 * will).
 */
static int
identity_rotate(int argc, char **argv)
{
	int rotate = strcmp(argv[2], "rotate") == 0, from = rotate ? 4 : 3;
	int batch = IDENTITY_BATCH, key;
	long n;

	if (rotate && (argc < 4 || strcmp(argv[3], "data") != 0))
		die_bad("identity rotate: only the data key rotates (the "
		    "lookup key's plan: docs/keys.md)");
	if (argc == from + 2 && strcmp(argv[from], "--batch") == 0)
		batch = atoi(argv[from + 1]);
	else if (argc != from)
		batch = 0;
	if (batch <= 0 || batch > 100000)
		die_bad("identity %s: bad option (--batch 1..100000)",
		    argv[2]);
	if (mt_identity_data_current() == 0)
		die_bad("identity %s: no data key in %s", argv[2],
		    mt_cfg.identity_keys_dir);
	if (rotate && (key = mt_identity_data_new()) < 0) {
		fprintf(stderr, "mtcertctl: cannot make a data key in %s: "
		    "%s\n", mt_cfg.identity_keys_dir, strerror(errno));
		return 1;
	}
	n = identity_reseal(batch);
	printf("{\"key\": %d, \"resealed\": %ld}\n",
	    mt_identity_data_current(), n);
	return 0;
}

/*
 * identity hmac id_number|phone V...: the lookup HMAC of each V, a line
 * each (for an operator's, or a test's, exact query; many at once for a
 * test's batch).  identity open id_number|phone S: what the sealed value
 * S (any <col>_enc) opens to.  1 when one does not (no keys, too long, a
 * seal these keys do not open), 2 on a kind that is neither.
 */
static int
identity_values(int argc, char **argv)
{
	char h[MT_IDENTITY_HMAC_LEN + 1];
	enum mt_identity_col col;
	int open = strcmp(argv[2], "open") == 0, i;

	if (strcmp(argv[3], "id_number") == 0)
		col = MT_IDENTITY_ID_NUMBER;
	else if (strcmp(argv[3], "phone") == 0)
		col = MT_IDENTITY_PHONE;
	else
		die_bad("identity %s: %s is neither id_number nor phone",
		    argv[2], argv[3]);
	if (open && argc != 5)
		die_bad("usage: identity open id_number|phone SEALED");
	for (i = 4; i < argc; i++) {
		if (open ? mt_identity_open(col, argv[i], h, sizeof(h)) != 0 :
		    mt_identity_hmac(col, argv[i], h) != 0)
			return 1;
		printf("%s\n", h);
	}
	return 0;
}

/*
 * identity encrypt [--batch N] [--keep-plain]: seal what is left plain
 * (identity_fill); prints "sealed N".  identity hmac|open: see
 * identity_values.  identity show PERSON: identity_show.  identity
 * rotate data | reseal: identity_rotate; identity retire data N:
 * identity_retire.
 */
static int
cmd_identity(int argc, char **argv)
{
	int batch = IDENTITY_BATCH, keep = 0, i;

	if (argc == 4 && strcmp(argv[2], "show") == 0)
		return identity_show(argv[3]);
	if (argc >= 5 && (strcmp(argv[2], "hmac") == 0 ||
	    strcmp(argv[2], "open") == 0))
		return identity_values(argc, argv);
	if (argc >= 3 && (strcmp(argv[2], "rotate") == 0 ||
	    strcmp(argv[2], "reseal") == 0))
		return identity_rotate(argc, argv);
	if (argc == 5 && strcmp(argv[2], "retire") == 0 &&
	    strcmp(argv[3], "data") == 0)
		return identity_retire(argv[4]);
	if (argc < 3 || strcmp(argv[2], "encrypt") != 0)
		die_bad("usage: identity encrypt [--batch N] [--keep-plain] | "
		    "identity hmac id_number|phone VALUE... | identity open "
		    "id_number|phone SEALED | identity show PERSON | identity "
		    "rotate data [--batch N] | identity reseal [--batch N] | "
		    "identity retire data N");
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--keep-plain") == 0)
			keep = 1;
		else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc &&
		    (batch = atoi(argv[++i])) > 0 && batch <= 100000)
			continue;
		else
			die_bad("identity encrypt: bad option %s (--batch "
			    "1..100000, --keep-plain)", argv[i]);
	}
	printf("sealed %ld\n", identity_fill(batch, keep));
	return 0;
}

/*
 * Seal the plain ID numbers and phones left in persons (rows written
 * before 043_identity.sql, or by SQL directly), in the columns of 044
 * (identity_rest: applications, qualifications, experts, institutions)
 * and in sms_outbox, batch rows of each a transaction, so the service
 * runs on meanwhile; keep: fill the new columns but leave the plain ones
 * (sms_outbox's are sealed only without keep), for workers that still
 * read them.  Returns the number of rows sealed; exits 1 without
 * keys or when the database fails.
 */
static long
identity_fill(int batch, int keep)
{
	char lim[16];
	const char *p[2] = { lim, keep ? "true" : "false" };
	long total = 0, n;
	size_t r;

	snprintf(lim, sizeof(lim), "%d", batch);
	do {
		run0("BEGIN");
		n = identity_fill_persons(exec_stmt(STMT_IDENTITY_PENDING, 2,
		    p), keep);
		for (r = 0; r < sizeof(identity_rest) /
		    sizeof(identity_rest[0]); r++)
			n += identity_fill_rest(&identity_rest[r], p);
		if (!keep)
			n += identity_fill_outbox(exec_stmt(STMT_OUTBOX_PENDING,
			    1, p));
		run0("COMMIT");
		total += n;
	} while (n > 0);
	return total;
}

/* The columns of the person's ID number and phone into id, ph; exits 2
 * when either fails its check, 1 without keys. */
static void
person_cols(const char *idnum, const char *phone,
    struct mt_identity_cols *id, struct mt_identity_cols *ph)
{
	if (idnum == NULL || !mt_valid_id_number(idnum))
		die_bad("--id-number is missing or fails the GB 11643 "
		    "checksum");
	if (phone == NULL || !mt_valid_phone(phone))
		die_bad("--phone must be an 11-digit mobile number");
	if (mt_identity_cols(MT_IDENTITY_ID_NUMBER, idnum, id) != 0 ||
	    mt_identity_cols(MT_IDENTITY_PHONE, phone, ph) != 0) {
		fprintf(stderr, "mtcertctl: no identity keys\n");
		exit(1);
	}
}

/*
 * Add the person (v: ID number, name, phone, region, insurance), or
 * update the one of that ID number unless keep.  Prints the id; exits 2
 * on bad input or an unknown region (when not keep).
 */
static void
person_upsert(const char *const *v, int keep)
{
	static const char *const insurances[] = { "employee", "resident",
	    NULL };
	struct mt_identity_cols id, ph;
	char sex[2], birth[11];
	const char *p[12];
	PGresult *res;

	person_cols(v[0], v[2], &id, &ph);
	if (v[1] == NULL || !mt_valid_name(v[1]))
		die_bad("--name must be 1-32 characters");
	if (v[3] == NULL || !mt_valid_region(v[3]))
		die_bad("--region must be a 6-digit region code");
	if (v[4] == NULL || !mt_valid_one_of(v[4], insurances))
		die_bad("--insurance must be employee or resident");
	sex[0] = mt_id_number_sex(v[0]);
	sex[1] = '\0';
	snprintf(birth, sizeof(birth), "%.4s-%.2s-%.2s", v[0] + 6, v[0] + 10,
	    v[0] + 12);
	p[0] = id.hmac; p[1] = id.enc; p[2] = id.masked; p[3] = v[1];
	p[4] = sex; p[5] = birth; p[6] = ph.hmac; p[7] = ph.enc;
	p[8] = ph.masked; p[9] = v[4]; p[10] = v[3];
	p[11] = keep ? "true" : "false";
	res = exec_stmt(STMT_PERSON_UPSERT, 12, p);
	if (PQntuples(res) == 0 && !keep)
		die_bad("unknown region %s", v[3]);
	if (PQntuples(res) > 0)
		printf("person id %s\n", mt_db_get(res, 0, "id"));
	PQclear(res);
	mt_identity_cols_free(&id);
	mt_identity_cols_free(&ph);
}

/* Demo persons (sql/ref/demo_persons.tsv): id_number name phone region
 * insurance; an existing person is left as it is. */
static void
demo_person(char **f)
{
	person_upsert((const char *const *)f, 1);
}

static int
cmd_person_add(int argc, char **argv)
{
	static const char *const names[] = { "--id-number", "--name",
	    "--phone", "--region", "--insurance" };
	const char *v[5] = {0};

	parse_opts(argc, argv, 3, names, v, 5);
	/* A plain row of the same person would be a second one. */
	identity_fill(IDENTITY_BATCH, 0);
	person_upsert(v, 0);
	return 0;
}

static int
cmd_user_add(int argc, char **argv)
{
	static const char *const names[] = { "--role", "--login",
	    "--password", "--region", "--institution", "--id-number" };
	const char *v[6] = {0};
	static char pw[256];

	parse_opts(argc, argv, 3, names, v, 6);
	if (v[0] == NULL)
		die_bad("--role is required");
	/* "--password -" reads it from standard input, out of `ps`. */
	if (v[2] != NULL && strcmp(v[2], "-") == 0) {
		if (fgets(pw, sizeof(pw), stdin) == NULL)
			die_bad("no password on standard input");
		pw[strcspn(pw, "\r\n")] = '\0';
		v[2] = pw;
	}
	return user_upsert(v[0], v[1], v[2], v[3], v[4], v[5], 0);
}

/*
 * Add an expert through create_expert() (sql/fn/40_experts.sql): the
 * same checks as POST /agency/experts.  keep: an existing login is left alone (demo
 * data).  Exits 2 with the reason on bad input.
 */
static int
expert_add(const char *login, const char *password, const char *inst,
    const char *title, const char *specs, const char *phone, int keep)
{
	char hash[crypto_pwhash_STRBYTES], *arr;
	struct mt_identity_cols ph;
	const char *p[8], *err;
	PGresult *res;

	if (login == NULL || !mt_valid_login(login))
		die_bad("--login must be 3-64 of A-Z a-z 0-9 _ . @ -");
	if (password == NULL || strlen(password) < 8)
		die_bad("--password of at least 8 characters is required");
	if (inst == NULL || !mt_valid_institution_code(inst))
		die_bad("--institution is missing or not a valid code");
	if (title == NULL)
		die_bad("--title is required (中级, 副高 or 正高)");
	if (specs == NULL || *specs == '\0' || strpbrk(specs, "{}\"\\ ") != NULL)
		die_bad("--specialties is required, comma-separated (肿瘤,精神)");
	if (phone != NULL && !mt_valid_phone(phone))
		die_bad("--phone must be an 11-digit mobile number");
	if (mt_auth_hash_password(password, hash, sizeof(hash)) != 0)
		die_bad("cannot hash the password");
	arr = mt_xasprintf("{%s}", specs);
	identity_seal(MT_IDENTITY_PHONE, phone, &ph);
	p[0] = login; p[1] = hash; p[2] = inst; p[3] = title; p[4] = arr;
	p[5] = ph.enc; p[6] = ph.enc != NULL ? ph.masked : NULL; p[7] = NULL;
	res = exec_stmt(STMT_EXPERT_ADD, 8, p);
	mt_identity_cols_free(&ph);
	free(arr);
	err = mt_db_isnull(res, 0, "error") ? NULL :
	    mt_db_get(res, 0, "error");
	if (err != NULL && !(keep && strcmp(err, "login_taken") == 0))
		die_bad("expert not added: %s", err);
	if (err == NULL)
		printf("expert %s id %s\n", login, mt_db_get(res, 0, "id"));
	PQclear(res);
	return 0;
}

static int
cmd_expert_add(int argc, char **argv)
{
	static const char *const names[] = { "--login", "--password",
	    "--institution", "--title", "--specialties", "--phone" };
	const char *v[6] = {0};
	static char pw[256];

	parse_opts(argc, argv, 3, names, v, 6);
	if (v[1] != NULL && strcmp(v[1], "-") == 0) {
		if (fgets(pw, sizeof(pw), stdin) == NULL)
			die_bad("no password on standard input");
		pw[strcspn(pw, "\r\n")] = '\0';
		v[1] = pw;
	}
	return expert_add(v[0], v[1], v[2], v[3], v[4], v[5], 0);
}

/* Demo experts (sql/ref/demo_experts.tsv): login password institution
 * title specialties phone; an existing login is left alone. */
static void
demo_expert(char **f)
{
	expert_add(f[0], f[1], f[2], f[3], f[4], f[5], 1);
}

/*
 * policy get REGION: every key=value of the region (policy_value: its
 * value, else the key's default).  policy set REGION KEY VALUE: through
 * mt_policy_set, i.e. the SQL function set_policy that PUT /agency/policy
 * calls, with its checks; its refusal printed with the error table's
 * text (the API's message).  Exit 2 for an unknown region
 * or key or a bad value, 1 when the database fails.
 */
static int
cmd_policy(int argc, char **argv)
{
	struct mt_db db = {0};
	const struct mt_error *e;
	json_object *why;
	char msg[512];
	const char *p[1];
	PGresult *res;
	int i;

	if (argc < 4 || !mt_valid_region(argv[3]))
		die_bad("usage: policy set REGION KEY VALUE | policy get REGION");
	p[0] = argv[3];
	if (strcmp(argv[2], "get") == 0 && argc == 4) {
		res = run("SELECT k.key, policy_value(r.code, k.key)"
		    " FROM regions r, policy_keys k WHERE r.code = $1"
		    " ORDER BY k.key", 1, p);
		if (PQntuples(res) == 0)
			die_bad("unknown region %s", argv[3]);
		for (i = 0; i < PQntuples(res); i++)
			printf("%s=%s\n", PQgetvalue(res, i, 0),
			    PQgetvalue(res, i, 1));
		PQclear(res);
		return 0;
	}
	if (strcmp(argv[2], "set") != 0 || argc != 6)
		die_bad("usage: policy set REGION KEY VALUE | policy get REGION");
	mt_db_setup(&db, mt_cfg.pg_conninfo, NULL, 0);
	switch (mt_policy_set(&db, argv[3], argv[4], argv[5], "mtcertctl",
	    &why)) {
	case MT_POLICY_SET_OK:
		break;
	case MT_POLICY_SET_NO_REGION:
		die_bad("unknown region %s", argv[3]);
	case MT_POLICY_SET_REFUSED:
		e = mt_refusal_text(why, msg, sizeof(msg));
		die_bad("%s: %s", e != NULL ? e->code : "?", msg);
	default:
		die_conn(db.conn, "policy set failed");
	}
	mt_db_close(&db);
	printf("%s %s=%s\n", argv[3], argv[4], argv[5]);
	return 0;
}

/*
 * errors: the error table (shared/mt_error.c) as one JSON array of
 * {code, status, message}, for the contract test and for operators.
 * Needs no database.  Exit 1 when the table is out of order.
 */
static int
cmd_errors(void)
{
	json_object *all = json_object_new_array(), *row;
	size_t i;

	if (mt_error_check() != 0)
		return 1;
	for (i = 0; i < MT_E__MAX; i++) {
		row = json_object_new_object();
		json_object_object_add(row, "code",
		    json_object_new_string(mt_errors[i].code));
		json_object_object_add(row, "status",
		    json_object_new_int(mt_errors[i].status));
		json_object_object_add(row, "message",
		    json_object_new_string(mt_errors[i].message));
		json_object_array_add(all, row);
	}
	puts(json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(all);
	return 0;
}

/* ---- mtcertctl card: the e-card's keys and offline verification ---- */

static void	usage(void) __attribute__((noreturn));

/* The card keys' directory of the config (caller frees). */
static char *
card_dir(void)
{
	return mt_xasprintf("%s/%s", mt_cfg.var_dir, MT_CARD_DIR);
}

/*
 * card keygen (rotate 0): make the first key when the directory has none,
 * else leave it alone; card rotate (1): a new current key, the old ones
 * kept for verifying.  Prints the current key id.  0, or 1 when the
 * files cannot be written.
 */
static int
card_keygen(int rotate)
{
	char *dir = card_dir(), err[256], kid[MT_CARD_KID_LEN + 1];
	struct mt_card_keys keys;
	const struct mt_card_key *cur;
	int rc = 1;

	if (!rotate && mt_card_keys_load(dir, 0, &keys, NULL, 0) == 0) {
		if ((cur = mt_card_keys_find(&keys, NULL)) != NULL) {
			printf("%s\n", cur->kid);
			rc = 0;
		}
		mt_card_keys_free(&keys);
		if (rc == 0)
			goto out;
	}
	if (mt_card_keys_new(dir, kid, err, sizeof(err)) != 0) {
		fprintf(stderr, "mtcertctl: %s\n", err);
		goto out;
	}
	printf("%s\n", kid);
	rc = 0;
out:
	free(dir);
	return rc;
}

/* Print what a genuine card says, one field a line. */
static void
card_print(const struct mt_card *c)
{
	printf("genuine: yes\nkey_id: %s\nqualification: %lld\n"
	    "holder: %s %s\ndisease: %s %s\ninstitution: %s %s\n"
	    "valid: %s .. %s\nissued_on: %s\n", c->kid, c->qualification,
	    c->name, c->id_number, c->disease, c->disease_name,
	    c->institution, c->institution_name, c->valid_from, c->valid_to,
	    c->issued_on);
}

/*
 * card verify TOKEN [--keys FILE]: check a token offline, against the
 * keys file alone (FILE, or the config's var_dir/keys/card/keys.json);
 * no database.  0 genuine (the card's fields printed), 1 not (the reason
 * printed), 2 bad usage or no keys file.
 */
static int
card_verify(const char *cfg, int argc, char **argv)
{
	struct mt_card_keys keys;
	struct mt_card c;
	enum mt_card_reason r;
	char *dir, err[256];
	int rc;

	if (argc == 6 && strcmp(argv[4], "--keys") == 0)
		rc = mt_card_keys_load_file(argv[5], &keys, err, sizeof(err));
	else if (argc == 4 && mt_config_load(cfg) == 0) {
		dir = card_dir();
		rc = mt_card_keys_load(dir, 0, &keys, err, sizeof(err));
		free(dir);
	} else
		usage();
	if (rc != 0) {
		fprintf(stderr, "mtcertctl: %s\n", err);
		return EXIT_BAD;
	}
	r = mt_card_verify(&keys, argv[3], &c);
	mt_card_keys_free(&keys);
	if (r != MT_CARD_OK) {
		printf("genuine: no\nreason: %s (%s)\n",
		    mt_card_reason_code(r), mt_card_reason_text(r));
		return 1;
	}
	card_print(&c);
	return 0;
}

/* mtcertctl card ...: none needs the database. */
static int
cmd_card(const char *cfg, int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[2], "verify") == 0)
		return card_verify(cfg, argc, argv);
	if (argc != 3 || (strcmp(argv[2], "keygen") != 0 &&
	    strcmp(argv[2], "rotate") != 0))
		usage();
	if (mt_config_load(cfg) != 0)
		return EXIT_BAD;
	return card_keygen(strcmp(argv[2], "rotate") == 0);
}

/* A settlements_invalid refusal on stderr: its text, then one
 * "line N: field: message" per error (refusal borrowed). */
static void
print_settle_errors(json_object *refusal)
{
	json_object *d, *errs, *e;
	char msg[512];
	size_t i;

	mt_refusal_text(refusal, msg, sizeof(msg));
	fprintf(stderr, "mtcertctl: settlements_invalid: %s\n", msg);
	json_object_object_get_ex(refusal, "details", &d);
	json_object_object_get_ex(d, "errors", &errs);
	for (i = 0; i < json_object_array_length(errs); i++) {
		e = json_object_array_get_idx(errs, i);
		fprintf(stderr, "line %s: %s: %s\n",
		    json_object_get_string(json_object_object_get(e, "line")),
		    json_object_get_string(json_object_object_get(e, "field")),
		    json_object_get_string(json_object_object_get(e,
		    "message")));
	}
}

/*
 * Settlements and renewal (R-BEN-4, issue 10 item 6).
 *
 * settlements import FILE --region R [--format csv|ndjson]: the file
 * through mt_settle_import, the code of POST /agency/settlements (format
 * from the name's .csv / .ndjson / .jsonl unless given).  Prints
 * {rows, inserted, updated, unchanged}; exit 2 with the bad rows by line
 * (nothing imported), 1 when the database fails.
 */
static int
cmd_settlements(int argc, char **argv)
{
	static const char *const names[] = { "--region", "--format" };
	const char *v[2] = {0}, *dot;
	enum mt_settle_format f = MT_SETTLE_CSV;
	struct mt_settle_result r;
	struct mt_db db = {0};
	json_object *refusal;
	char *body;
	size_t len;

	if (argc < 4 || strcmp(argv[2], "import") != 0)
		die_bad("usage: settlements import FILE --region R "
		    "[--format csv|ndjson]");
	parse_opts(argc, argv, 4, names, v, 2);
	if (v[0] == NULL || !mt_valid_region(v[0]))
		die_bad("--region must be a 6-digit region code");
	dot = v[1] != NULL ? v[1] : strrchr(argv[3], '.');
	if (dot != NULL && (strcmp(dot, "ndjson") == 0 ||
	    strcmp(dot, ".ndjson") == 0 || strcmp(dot, ".jsonl") == 0))
		f = MT_SETTLE_NDJSON;
	else if (v[1] != NULL && strcmp(v[1], "csv") != 0)
		die_bad("--format must be csv or ndjson");
	/* The length read, not strlen: a NUL byte is a line's error, as
	 * in the API, not the end of the file. */
	body = read_path(argv[3], &len);
	mt_db_setup(&db, mt_cfg.pg_conninfo, NULL, 0);
	switch (mt_settle_import(&db, v[0], f, body, len, &r, &refusal)) {
	case MT_SETTLE_OK:
		printf("{\"rows\": %lld, \"inserted\": %lld, \"updated\": %lld,"
		    " \"unchanged\": %lld}\n", r.rows, r.inserted, r.updated,
		    r.unchanged);
		break;
	case MT_SETTLE_INVALID:
		print_settle_errors(refusal);
		json_object_put(refusal);
		free(body);
		exit(EXIT_BAD);
	default:
		die_conn(db.conn, "settlements import failed");
	}
	mt_db_close(&db);
	free(body);
	return 0;
}

/*
 * renewals run: the renewal job now (run_renewals, the dispatcher's
 * step), batch after batch until nothing is due.  Prints the totals
 * {renewed, expired, noticed}; exit 1 when the database fails.
 */
static int
cmd_renewals(int argc, char **argv)
{
	struct mt_renewals r = {0};
	struct mt_db db = {0};

	if (argc != 3 || strcmp(argv[2], "run") != 0)
		die_bad("usage: renewals run");
	mt_db_setup(&db, mt_cfg.pg_conninfo, NULL, 0);
	if (mt_settle_renewals(&db, &r, NULL) < 0)
		die_conn(db.conn, "renewals run failed");
	mt_db_close(&db);
	printf("{\"renewed\": %lld, \"expired\": %lld, \"noticed\": %lld}\n",
	    r.renewed, r.expired, r.noticed);
	return 0;
}

/*
 * A batch job now: `sql` (SELECT fn(100) AS n, an SQL function that
 * returns how many it did) until it does nothing; prints {"<key>": n}.
 * Exits 1 when the database fails.
 */
static int
run_batch_job(const char *sql, const char *key)
{
	struct mt_db db = {0};
	long long done = 0, batch;
	PGresult *res;

	mt_db_setup(&db, mt_cfg.pg_conninfo, NULL, 0);
	for (batch = 1; batch > 0; done += batch) {
		if ((res = mt_db_params_rows(&db, sql, 0, NULL)) == NULL)
			die_conn(db.conn, "the job failed");
		batch = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	mt_db_close(&db);
	printf("{\"%s\": %lld}\n", key, done);
	return 0;
}

/*
 * publicity run: the publicity job now (run_publicity, the dispatcher's
 * step): every open public notice past its last day is ended.  Prints
 * {"ended": n}; exit 1 when the database fails.
 */
static int
cmd_publicity(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[2], "run") != 0)
		die_bad("usage: publicity run");
	return run_batch_job("SELECT run_publicity(100) AS n", "ended");
}

/*
 * sanctions run: the sanctions job now (run_sanctions, the dispatcher's
 * step, R-SUP-4): every active sanction past its last day ends and a
 * temporary effect is undone.  Prints {"ended": n}; exit 1 when the
 * database fails.
 */
static int
cmd_sanctions(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[2], "run") != 0)
		die_bad("usage: sanctions run");
	return run_batch_job("SELECT run_sanctions(100) AS n", "ended");
}

/*
 * returns run: the lapse job now (run_returns, sql/fn/82_return.sql, the
 * dispatcher's step): every returned application past its resubmit_by
 * is withdrawn.  Prints {"lapsed": n}; exit 1 when the database fails.
 */
static int
cmd_returns(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[2], "run") != 0)
		die_bad("usage: returns run");
	return run_batch_job("SELECT run_returns(100) AS n", "lapsed");
}

/*
 * keys init: master key 1 when there is none (`make run`); keys rotate: a
 * new current master key, then every file key re-wrapped under it in
 * batches (the files untouched; downloads go on: the old key stays until
 * retired); keys retire N: remove master key N once no file key uses it
 * and the current key is MT_KEYS_RETIRE_GRACE seconds old.
 * Prints {"key": current, ...}.  Exit 2 on a refusal, 1 when the store
 * or the database fails.  docs/keys.md.
 */
static int
cmd_keys(int argc, char **argv)
{
	struct mt_db db = {0};
	long long n = 0, uses;
	int kid, batch;

	if (argc == 3 && strcmp(argv[2], "init") == 0) {
		if ((kid = mt_keys_current()) == 0 && (kid = mt_keys_new()) < 0)
			die_bad("cannot make a master key in %s: %s",
			    mt_cfg.files_keys_dir, strerror(errno));
		printf("{\"key\": %d}\n", kid);
		return 0;
	}
	mt_db_setup(&db, mt_cfg.pg_conninfo, NULL, 0);
	if (argc == 3 && strcmp(argv[2], "rotate") == 0) {
		if ((kid = mt_keys_new()) < 0)
			die_bad("cannot make a master key in %s: %s",
			    mt_cfg.files_keys_dir, strerror(errno));
		while ((batch = mt_store_rewrap_batch(&db, kid)) > 0)
			n += batch;
		if (batch < 0)
			die_conn(db.conn, "keys rotate: re-wrapping failed");
		printf("{\"key\": %d, \"rewrapped\": %lld}\n", kid, n);
	} else if (argc == 4 && strcmp(argv[2], "retire") == 0) {
		kid = atoi(argv[3]);
		if (kid <= 0 || !mt_keys_exists(kid))
			die_bad("keys retire: no master key %s", argv[3]);
		if (kid == mt_keys_current())
			die_bad("keys retire: %d is the current key", kid);
		if (mt_keys_age(mt_keys_current()) < MT_KEYS_RETIRE_GRACE)
			die_bad("keys retire: the current key is younger than "
			    "%d s (an upload of before it may still commit a "
			    "file key wrapped by %d): retire it later",
			    MT_KEYS_RETIRE_GRACE, kid);
		if ((uses = mt_store_key_uses(&db, kid)) != 0)
			die_bad("keys retire: %lld file key(s) still wrapped by "
			    "master key %d (keys rotate first)", uses, kid);
		if (mt_keys_remove(kid) != 0)
			die_bad("keys retire: %s", strerror(errno));
		printf("{\"key\": %d, \"retired\": %d}\n",
		    mt_keys_current(), kid);
	} else
		die_bad("usage: keys init | keys rotate | keys retire N");
	mt_db_close(&db);
	return 0;
}

/*
 * files encrypt: seal every plain file of before issue 15 in batches
 * (the service running: each row changes only once its sealed file is
 * in place); prints {"sealed": n}.  files shred: the retention job now
 * (sql/fn/96_files.sql); prints {"shredded": n}.  Exit 1 when the
 * database or the file store fails.
 */
static int
cmd_files(int argc, char **argv)
{
	struct mt_db db = {0};
	long long n = 0, after = 0;
	int batch, rows;

	if (argc != 3 || (strcmp(argv[2], "encrypt") != 0 &&
	    strcmp(argv[2], "shred") != 0))
		die_bad("usage: files encrypt | files shred");
	mt_db_setup(&db, mt_cfg.pg_conninfo, NULL, 0);
	if (strcmp(argv[2], "shred") == 0) {
		if ((n = mt_store_shred(&db, mt_cfg.files_dir)) < 0)
			die_conn(db.conn, "files shred failed");
		printf("{\"shredded\": %lld}\n", n);
		mt_db_close(&db);
		return 0;
	}
	do {
		if ((batch = mt_store_seal_batch(&db, mt_cfg.files_dir, &after,
		    &rows)) < 0)
			die_conn(db.conn, "files encrypt failed (see the log)");
		n += batch;
	} while (rows > 0);
	printf("{\"sealed\": %lld}\n", n);
	mt_db_close(&db);
	return 0;
}

/* The ids of a PostgreSQL array's text ("{3,5,8}") into a new array
 * (caller frees) and *n; NULL on a malformed text. */
static long long *
id_array(const char *t, size_t *n)
{
	long long *v;
	size_t cap = 1;
	const char *p;
	char *end;

	*n = 0;
	if (t == NULL || *t != '{')
		return NULL;
	for (p = t; *p != '\0'; p++)
		if (*p == ',')
			cap++;
	v = mt_xcalloc(cap, sizeof(*v));
	for (p = t + 1; *p != '}'; p = end + (*end == ',')) {
		if (*n == cap) {
			free(v);
			return NULL;
		}
		v[(*n)++] = strtoll(p, &end, 10);
		if (end == p || (*end != ',' && *end != '}')) {
			free(v);
			return NULL;
		}
	}
	return v;
}

/* The 32-byte seed of its hex; -1 when it is not that. */
static int
seed_of_hex(const char *hex, unsigned char seed[MT_DRAW_SEED_LEN])
{
	size_t len;

	return hex != NULL && strlen(hex) == 2 * MT_DRAW_SEED_LEN &&
	    sodium_hex2bin(seed, MT_DRAW_SEED_LEN, hex, strlen(hex), NULL,
	    &len, NULL) == 0 && len == MT_DRAW_SEED_LEN ? 0 : -1;
}

/*
 * One recorded draw, recomputed (mt_draw_pick): the rule must be ours,
 * the pool sorted and without repeats, the rule must give `chosen` from
 * seed and pool, and what was done with it (`used`, NULL when its
 * purpose records no use) must be `chosen`.  Prints one line; returns 1
 * when it matches, 0 when not.
 */
static int
verify_draw(PGresult *res, int row)
{
	const char *id = PQgetvalue(res, row, 0);
	const char *purpose = PQgetvalue(res, row, 1);
	const char *stage = PQgetvalue(res, row, 2);
	unsigned char seed[MT_DRAW_SEED_LEN];
	long long *pool = NULL, *chosen = NULL, *used = NULL;
	size_t npool = 0, nchosen = 0, nused = 0, i;
	uint32_t *pick = NULL;
	const char *why = NULL;
	long k;

	printf("draw %s (%s%s%s): ", *id != '\0' ? id : "-", purpose,
	    *stage != '\0' ? ", stage " : "", stage);
	if (strcmp(purpose, "unrecorded") == 0) {
		printf("MISMATCH: assignment %s refers to no draw\n",
		    PQgetvalue(res, row, 8));
		return 0;
	}
	k = atol(PQgetvalue(res, row, 6));
	pool = id_array(PQgetvalue(res, row, 5), &npool);
	chosen = id_array(PQgetvalue(res, row, 7), &nchosen);
	if (!PQgetisnull(res, row, 8))
		used = id_array(PQgetvalue(res, row, 8), &nused);
	if (strcmp(PQgetvalue(res, row, 3), MT_DRAW_RULE) != 0)
		why = "not the rule " MT_DRAW_RULE;
	else if (seed_of_hex(PQgetvalue(res, row, 4), seed) != 0)
		why = "the seed is not 32 bytes";
	else if (pool == NULL || chosen == NULL || k < 1 ||
	    (size_t)k > npool || nchosen != (size_t)k)
		why = "the pool or the chosen are malformed";
	for (i = 1; why == NULL && i < npool; i++)
		if (pool[i] <= pool[i - 1])
			why = "the pool is not sorted without repeats";
	if (why == NULL) {
		pick = mt_xcalloc((size_t)k, sizeof(*pick));
		if (mt_draw_pick(seed, (uint32_t)npool, (uint32_t)k, pick) != 0)
			why = "the rule cannot draw from it";
		for (i = 0; why == NULL && i < (size_t)k; i++)
			if (pool[pick[i]] != chosen[i])
				why = "the seed and the pool give another choice";
	}
	if (why == NULL && !PQgetisnull(res, row, 8) &&
	    (used == NULL || nused != nchosen ||
	    memcmp(used, chosen, nused * sizeof(*used)) != 0))
		why = "what was done differs from the choice";
	if (why == NULL)
		printf("%zu in the pool, chose %s: match\n", npool,
		    PQgetvalue(res, row, 7));
	else
		printf("MISMATCH: %s (pool %s, chosen %s, used %s)\n", why,
		    PQgetvalue(res, row, 5), PQgetvalue(res, row, 7),
		    PQgetisnull(res, row, 8) ? "-" : PQgetvalue(res, row, 8));
	free(pool);
	free(chosen);
	free(used);
	free(pick);
	return why == NULL;
}

/*
 * Verify every draw the query gives (columns: id, purpose, stage, rule,
 * seed hex, pool, k, chosen, used; see draws_of_application in
 * sql/fn/15_draw.sql), one line each, then a summary.  Returns 0 when
 * all match, EXIT_MISMATCH when any does not.
 */
#define EXIT_MISMATCH 3
static int
verify_draws(const char *sql, const char *param, const char *what)
{
	const char *p[1] = { param };
	PGresult *res = run(sql, 1, p);
	int i, n = PQntuples(res), ok = 0;

	for (i = 0; i < n; i++)
		ok += verify_draw(res, i);
	PQclear(res);
	printf("%s: %d draws, %d match, %d mismatch\n", what, n, ok, n - ok);
	return ok == n ? 0 : EXIT_MISMATCH;
}

/* draw verify APPLICATION | draw verify --all: recompute every recorded
 * draw of one application, or of every application that has any. */
static int
cmd_draw(int argc, char **argv)
{
	PGresult *res;
	int i, rc = 0, bad = 0;
	char what[64];

	if (argc != 4 || strcmp(argv[2], "verify") != 0)
		die_bad("usage: draw verify APPLICATION | draw verify --all");
	if (strcmp(argv[3], "--all") != 0) {
		if (strspn(argv[3], "0123456789") != strlen(argv[3]) ||
		    strlen(argv[3]) == 0 || strlen(argv[3]) > 18)
			die_bad("draw verify: APPLICATION is an application's "
			    "number");
		snprintf(what, sizeof(what), "application %s", argv[3]);
		return verify_draws("SELECT * FROM draws_of_application($1)",
		    argv[3], what);
	}
	res = run("SELECT DISTINCT application_id FROM draws"
	    " WHERE application_id IS NOT NULL ORDER BY 1", 0, NULL);
	for (i = 0; i < PQntuples(res); i++) {
		snprintf(what, sizeof(what), "application %s",
		    PQgetvalue(res, i, 0));
		if (verify_draws("SELECT * FROM draws_of_application($1)",
		    PQgetvalue(res, i, 0), what) != 0) {
			rc = EXIT_MISMATCH;
			bad++;
		}
	}
	printf("all: %d applications, %d with a mismatch\n", PQntuples(res),
	    bad);
	PQclear(res);
	return rc;
}

/*
 * Verify audit id (R-SUP-1): recompute its sample from the recorded
 * population (the draw's pool) and seed, check that its items are
 * exactly the chosen qualifications in draw order (draw_used), and
 * re-derive the population from the qualifications table
 * (audit_population_check in sql/fn/86_audit.sql: a date or region
 * edited after the draw shows).  Returns 0 when all match, EXIT_MISMATCH
 * when any differs; exits EXIT_BAD when there is no such audit.
 */
static int
verify_audit(const char *id)
{
	const char *p[1] = { id };
	PGresult *res;
	char what[64];
	int rc;

	res = run("SELECT audit_population_check($1::bigint)", 1, p);
	if (!PQgetisnull(res, 0, 0) &&
	    strncmp(PQgetvalue(res, 0, 0), "no audit", 8) == 0) {
		PQclear(res);
		die_bad("audit verify: no audit %s", id);
	}
	snprintf(what, sizeof(what), "audit %s", id);
	rc = verify_draws("SELECT * FROM draws_of_audit($1::bigint)", id,
	    what);
	if (PQgetisnull(res, 0, 0))
		printf("audit %s: population re-derived from the "
		    "qualifications: match\n", id);
	else {
		printf("audit %s: population MISMATCH: %s\n", id,
		    PQgetvalue(res, 0, 0));
		rc = EXIT_MISMATCH;
	}
	PQclear(res);
	return rc;
}

/* audit verify ID | audit verify --all: exit 0 all match, 3 not. */
static int
cmd_audit(int argc, char **argv)
{
	PGresult *res;
	int i, rc = 0, bad = 0;

	if (argc != 4 || strcmp(argv[2], "verify") != 0)
		die_bad("usage: audit verify ID | audit verify --all");
	if (strcmp(argv[3], "--all") != 0) {
		if (strspn(argv[3], "0123456789") != strlen(argv[3]) ||
		    strlen(argv[3]) == 0 || strlen(argv[3]) > 18)
			die_bad("audit verify: ID is an audit's number");
		return verify_audit(argv[3]);
	}
	res = run("SELECT id FROM audits ORDER BY id", 0, NULL);
	for (i = 0; i < PQntuples(res); i++)
		if (verify_audit(PQgetvalue(res, i, 0)) != 0) {
			rc = EXIT_MISMATCH;
			bad++;
		}
	printf("all: %d audits, %d with a mismatch\n", PQntuples(res), bad);
	PQclear(res);
	return rc;
}

/*
 * reviews run [--on DATE]: the quarterly review job now (the
 * dispatcher's step, R-SUP-2): draw every region's review due on DATE
 * (default: today in China).  Prints {"drawn": n}; exit 1 when the
 * database fails, 2 on bad usage.
 */
static int
cmd_reviews(int argc, char **argv)
{
	const char *p[1] = { NULL };
	PGresult *res;

	if (argc == 5 && strcmp(argv[3], "--on") == 0)
		p[0] = argv[4];
	else if (argc != 3)
		die_bad("usage: reviews run [--on YYYY-MM-DD]");
	if (strcmp(argv[2], "run") != 0)
		die_bad("usage: reviews run [--on YYYY-MM-DD]");
	res = run("SELECT run_quarterly_reviews(coalesce($1::date,"
	    " cn_today()))", 1, p);
	printf("{\"drawn\": %s}\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* review verify ID: recompute the quarterly review's two draws and check
 * each case went to the reviewer the rule gives (draws_of_review). */
static int
cmd_review(int argc, char **argv)
{
	char what[64];

	if (argc != 4 || strcmp(argv[2], "verify") != 0 ||
	    strspn(argv[3], "0123456789") != strlen(argv[3]) ||
	    strlen(argv[3]) == 0 || strlen(argv[3]) > 18)
		die_bad("usage: review verify ID   (a quarterly review's "
		    "number)");
	snprintf(what, sizeof(what), "review %s", argv[3]);
	return verify_draws("SELECT * FROM draws_of_review($1)", argv[3],
	    what);
}

/*
 * The anchor files under audit_dir checked (mt_audit_anchor_check: the
 * lines against each other, the heads of region, or of every region
 * when NULL, against the database), each fault printed.  Returns the
 * faults; exits 1 when the database fails or a file cannot be read.
 */
static long long
trail_anchors(const char *region)
{
	struct mt_db db;
	long long bad;

	mt_db_setup(&db, mt_cfg.pg_conninfo, NULL, 0);
	bad = mt_audit_anchor_check(&db, mt_cfg.audit_dir, region, stdout);
	if (bad < 0)
		die_conn(db.conn, "audit-trail verify: cannot check the anchors"
		    " (see the log)");
	printf("audit-trail: anchors under %s, %lld broken\n",
	    mt_cfg.audit_dir, bad);
	mt_db_close(&db);
	return bad;
}

/*
 * audit-trail verify [--region R] [--from DATE]: recompute the hash
 * chains of access_log and events (sql/fn/13_audit_chain.sql,
 * audit_chain_breaks) and print the first broken link of each broken
 * chain: table, region, day, shard, row id, what broke, expected and
 * found; then every anchor of a head (trail_anchors).
 * Returns 0 when every chain and anchor holds, EXIT_MISMATCH when one
 * does not;
 * exits 2 on bad usage, 1 when the database fails.
 */
static int
trail_verify(int argc, char **argv)
{
	static const char *const names[] = { "--region", "--from" };
	const char *v[2] = { NULL, NULL };
	PGresult *res;
	long long a;
	int i, n;

	parse_opts(argc, argv, 3, names, v, 2);
	if (v[0] != NULL && !mt_valid_region(v[0]))
		die_bad("audit-trail verify: --region is a 6-digit code");
	if (v[1] != NULL && !mt_valid_date(v[1]))
		die_bad("audit-trail verify: --from is YYYY-MM-DD");
	res = run("SELECT b.tbl, b.region, b.day, b.shard,"
	    " coalesce(b.id::text, '-'), b.what, b.expected, b.found FROM"
	    " (SELECT * FROM audit_chain_breaks('access_log', $1, $2::date,"
	    " NULL) UNION ALL SELECT * FROM audit_chain_breaks('events', $1,"
	    " $2::date, NULL)) b ORDER BY b.day, b.region, b.shard, b.tbl",
	    2, v);
	n = PQntuples(res);
	for (i = 0; i < n; i++)
		printf("BROKEN %s region '%s' day %s shard %s id %s: %s:"
		    " expected %s, found %s\n", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		    PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		    PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
		    PQgetvalue(res, i, 7));
	PQclear(res);
	res = run("SELECT count(*) FROM audit_chain_heads h"
	    " WHERE ($1::text IS NULL OR h.region = $1)"
	    " AND ($2::date IS NULL OR h.day >= $2::date)", 2, v);
	printf("audit-trail: %s chains, %d broken\n", PQgetvalue(res, 0, 0),
	    n);
	PQclear(res);
	a = trail_anchors(v[0]);
	return n == 0 && a == 0 ? 0 : EXIT_MISMATCH;
}

/*
 * audit-trail archive --before DATE --out FILE: every closed chain of
 * access_log before DATE and past its region's audit_retention_months
 * (audit_archivable) is written to the new FILE (each head, then its
 * rows: audit_archive_text), the file read back, and only then, chain
 * by chain, its rows deleted -- audit_archive_commit checks under the
 * head's lock that the chain is intact and hashes as the file's bytes
 * do, and keeps the head, marked archived with the file's hash.  The
 * dispatcher's daily job does the same (mt_audit_archive).  Prints
 * {"chains": n, "rows": m}.  Exits 2 on bad usage or an unwritable file,
 * 1 when the database fails or refuses a chain (its rows kept).
 */
static int
trail_archive(int argc, char **argv)
{
	static const char *const names[] = { "--before", "--out" };
	const char *v[2] = { NULL, NULL };
	struct mt_audit_run r = {0};
	struct mt_db db;
	char err[512] = "";
	long long n;

	parse_opts(argc, argv, 3, names, v, 2);
	if (v[0] == NULL || !mt_valid_date(v[0]) || v[1] == NULL)
		die_bad("usage: audit-trail archive --before YYYY-MM-DD "
		    "--out FILE");
	mt_db_setup(&db, mt_cfg.pg_conninfo, NULL, 0);
	if ((n = mt_audit_archive(&db, v[0], v[1], 0, &r, err,
	    sizeof(err))) < 0 && db.conn != NULL &&
	    PQstatus(db.conn) == CONNECTION_OK)
		die_bad("audit-trail archive: cannot write %s (see the log)",
		    v[1]);
	if (n < 0)
		die_conn(db.conn, "audit-trail archive failed");
	if (r.refused > 0) {
		fprintf(stderr, "mtcertctl: audit-trail archive: %lld chains"
		    " kept: %s\n", r.refused, err);
		exit(1);
	}
	printf("{\"chains\": %lld, \"rows\": %lld}\n", r.chains, r.rows);
	mt_db_close(&db);
	return 0;
}

/*
 * audit-trail daily: the dispatcher's daily job now (mt_audit_daily):
 * the heads of the chains whose day is past anchored under audit_dir,
 * then the access_log days past their retention archived under
 * audit_dir/archive.  Prints {"anchored", "chains", "rows", "refused"}.
 * Exits 1 when the database or a file fails.
 */
static int
trail_daily(void)
{
	struct mt_audit_run r;
	struct mt_db db;

	mt_db_setup(&db, mt_cfg.pg_conninfo, NULL, 0);
	if (mt_audit_daily(&db, mt_cfg.audit_dir, &r) != 0)
		die_conn(db.conn, "audit-trail daily failed (see the log)");
	printf("{\"anchored\": %lld, \"chains\": %lld, \"rows\": %lld,"
	    " \"refused\": %lld}\n", r.anchored, r.chains, r.rows, r.refused);
	mt_db_close(&db);
	return 0;
}

/* audit-trail verify ... | audit-trail archive ... | audit-trail daily */
static int
cmd_audit_trail(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[2], "verify") == 0)
		return trail_verify(argc, argv);
	if (argc >= 3 && strcmp(argv[2], "archive") == 0)
		return trail_archive(argc, argv);
	if (argc == 3 && strcmp(argv[2], "daily") == 0)
		return trail_daily();
	die_bad("usage: audit-trail verify [--region R] [--from DATE] | "
	    "audit-trail archive --before DATE --out FILE | "
	    "audit-trail daily");
}

static void
usage(void)
{
	fputs("usage: mtcertctl [--config FILE] COMMAND\n"
	    "  migrate | load-reference\n"
	    "  person add --id-number N --name X --phone P --region R "
	    "--insurance employee|resident\n"
	    "  user add --role insured|hospital|expert|agency|admin --login L "
	    "--password P [--region R] [--institution CODE] [--id-number N]\n"
	    "  expert add --login L --password P --institution CODE "
	    "--title 中级|副高|正高 --specialties A,B [--phone P]\n"
	    "  policy set REGION KEY VALUE | policy get REGION\n"
	    "  settlements import FILE --region R [--format csv|ndjson]\n"
	    "  renewals run   (the renewal job now, until nothing is due)\n"
	    "  publicity run  (the publicity job now: end notices past their "
	    "last day)\n"
	    "  returns run    (the lapse job now: withdraw returned "
	    "applications past their resubmit_by)\n"
	    "  sanctions run  (the sanctions job now: end sanctions past "
	    "their last day)\n"
	    "  draw verify APPLICATION | draw verify --all   (recompute every "
	    "recorded draw; exit 3 on a mismatch)\n"
	    "  reviews run [--on DATE]   (the quarterly review job now)\n"
	    "  review verify ID   (recompute a quarterly review's draws and "
	    "its reviewers; exit 3 on a mismatch)\n"
	    "  audit verify ID | audit verify --all   (recompute an audit's "
	    "sample, re-derive its population; exit 3 on a mismatch)\n"
	    "  audit-trail verify [--region R] [--from DATE]   (recompute the "
	    "hash chains of access_log and events and their anchors; exit 3 "
	    "on a broken link)\n"
	    "  audit-trail archive --before DATE --out FILE   (access_log "
	    "days past retention to FILE, then deleted)\n"
	    "  audit-trail daily   (the dispatcher's daily job now: chain "
	    "heads anchored under audit_dir, old days archived)\n"
	    "  errors   (the error table as JSON)\n"
	    "  card keygen | card rotate | card verify TOKEN [--keys FILE]\n"
	    "  keys init | keys rotate | keys retire N   (the file store's "
	    "master keys; docs/keys.md)\n"
	    "  files encrypt | files shred   (seal plain files; shred those "
	    "whose retention is over)\n"
	    "  identity encrypt [--batch N] [--keep-plain]   (seal the ID "
	    "numbers and phones left plain)\n"
	    "  identity hmac id_number|phone VALUE...   (their lookup HMACs)\n"
	    "  identity show PERSON   (a person's ID number and phone, "
	    "opened)\n",
	    stderr);
	exit(EXIT_BAD);
}

/* The commands that check their own arguments, by name (a command is a
 * row, STYLE.md "Tables, not branches"). */
static const struct ctl_cmd {
	const char  *name;
	int        (*fn)(int, char **);
} ctl_cmds[] = {
	{ "settlements", cmd_settlements },
	{ "renewals", cmd_renewals },
	{ "publicity", cmd_publicity },
	{ "returns", cmd_returns },
	{ "sanctions", cmd_sanctions },
	{ "draw", cmd_draw },
	{ "review", cmd_review },
	{ "audit", cmd_audit },
	{ "keys", cmd_keys },
	{ "files", cmd_files },
	{ "audit-trail", cmd_audit_trail },
	{ "identity", cmd_identity },
};

/* Run the row of ctl_cmds named argv[1]; its exit status, or usage(). */
static int
run_named(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < MT_ARRAY_LEN(ctl_cmds); i++)
		if (strcmp(argv[1], ctl_cmds[i].name) == 0)
			return ctl_cmds[i].fn(argc, argv);
	usage();
}

/* The config (cfg, or the default), then libsodium and the database
 * (connect_db): 0, or EXIT_BAD when the config is bad; exits 1 when
 * libsodium or the database fails. */
static int
open_service(const char *cfg)
{
	if (mt_config_load(cfg) != 0)
		return EXIT_BAD;
	connect_db();
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cfg = NULL;
	int rc;

	if (argc >= 3 && strcmp(argv[1], "--config") == 0) {
		cfg = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "errors") == 0 && argc == 2)
		return cmd_errors();
	if (strcmp(argv[1], "card") == 0 && argc >= 3)
		return cmd_card(cfg, argc, argv);
	if ((rc = open_service(cfg)) != 0)
		return rc;
	if (strcmp(argv[1], "migrate") == 0 && argc == 2)
		rc = cmd_migrate();
	else if (strcmp(argv[1], "load-reference") == 0 && argc == 2)
		rc = cmd_load_reference();
	else if (strcmp(argv[1], "person") == 0 && argc >= 3 &&
	    strcmp(argv[2], "add") == 0)
		rc = cmd_person_add(argc, argv);
	else if (strcmp(argv[1], "user") == 0 && argc >= 3 &&
	    strcmp(argv[2], "add") == 0)
		rc = cmd_user_add(argc, argv);
	else if (strcmp(argv[1], "expert") == 0 && argc >= 3 &&
	    strcmp(argv[2], "add") == 0)
		rc = cmd_expert_add(argc, argv);
	else if (strcmp(argv[1], "policy") == 0 && argc >= 3)
		rc = cmd_policy(argc, argv);
	else if (strcmp(argv[1], "reviews") == 0 && argc >= 3)
		rc = cmd_reviews(argc, argv);
	else
		rc = run_named(argc, argv);
	PQfinish(conn);
	return rc;
}
