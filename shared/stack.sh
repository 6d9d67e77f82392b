#!/usr/bin/env bash
# stack.sh -- start, stop and inspect the local mtcert stack.
#
#   shared/stack.sh deps | browser-deps | start | stop | status
#   shared/stack.sh redis-stop | redis-start | pg-stop | pg-start
#   shared/stack.sh modules-stop | modules-start   (MTCERT_BUILD picks the build)
#   shared/stack.sh host-stop H                     (MTCERT_HOSTS, docs/scale.md)
#   shared/stack.sh logrotate | logreopen           (docs/operations.md)
#   shared/stack.sh backup | restore DIR [BACKUP]   (docs/operations.md)
#   shared/stack.sh nginx-extra NAME PORT | nginx-extra-stop NAME
#   shared/stack.sh pg-replica-start | pg-replica-stop | pg-promote
#                                                   (docs/scale.md)
#
# Everything lives under $MTCERT_VAR (default: var/ in the checkout):
#   pg/ (PostgreSQL 15 cluster, owned by postgres)   redis/ (AOF)
#   run/fcgi/*.sock (module sockets, group www-data)  run/pg, run/redis
#   nginx/ (generated config)  log/  files/ (uploads, encrypted)  pids/
#   keys/card/ (e-card keys)  keys/files/ (the uploads' master keys: back
#   them up apart from the database, docs/keys.md)  mtcert.conf
#   backup/wal/ (archived WAL)  backup/base/<time>/ (pg_basebackup)
# Ports: MTCERT_PORT (nginx, default 8080), MTCERT_PG_PORT (default 5433,
# used only to name the PostgreSQL socket: the cluster has no TCP),
# MTCERT_METRICS_PORT (nginx's local-only metrics server, default
# MTCERT_PORT + 7: +1 is the benchmark's baseline server).
# MTCERT_TLS_PORT: nginx serves HTTPS with HTTP/2 there too (a self-signed
# certificate under tls/); MTCERT_TRUSTED_PROXIES: the proxies whose
# X-Forwarded-For nginx believes (docs/operations.md).
# MTCERT_REDIS_SENTINEL=1: Redis as a master, a replica and three
# sentinels on 127.0.0.1 (MTCERT_PORT + 20 .. + 24, docs/scale.md)
# instead of one Redis on a unix socket.
# MTCERT_PG_REPLICA=1: a streaming replica of PostgreSQL too (pg-replica/,
# socket port MTCERT_PG_PORT + 1; docs/scale.md).
# MTCERT_HOSTS=N (default 1): N simulated hosts, each a set of every
# module's pools and a dispatcher, behind one nginx upstream per module
# (docs/scale.md, "Several hosts").
# Only processes this script started are stopped, by the PIDs it recorded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VAR=${MTCERT_VAR:-$ROOT/var}
PORT=${MTCERT_PORT:-8080}
PG_PORT=${MTCERT_PG_PORT:-5433}
METRICS_PORT=${MTCERT_METRICS_PORT:-$((PORT + 7))}
BUILD=${MTCERT_BUILD:-$ROOT/build}
PGBIN=/usr/lib/postgresql/15/bin
WWW_USER=www-data
# Module and worker count per pool.  Scale a module by its count here.
MODULES=${MTCERT_MODULES:-"catalog:4 auth:2 agency:2 apply:4 review:2 benefit:2 hospital:2"}
# nginx has an upstream for each of these, started or not (a missing
# pool answers 503).
UPSTREAMS="catalog auth agency apply review benefit hospital"
HOSTS=${MTCERT_HOSTS:-1}
[[ "$HOSTS" =~ ^[1-9]$ ]] || { echo "mtcert: MTCERT_HOSTS is 1 to 9" >&2; exit 1; }
PACKAGES="build-essential pkg-config libfcgi-dev libpq-dev libjson-c-dev
libhiredis-dev libsodium-dev nginx postgresql-15 redis-server curl
wrk python3-pytest python3-requests python3-yaml clang libclang-rt-14-dev
libqrencode-dev zbar-tools librsvg2-bin prometheus redis-sentinel"
# openssl: the development certificate of MTCERT_TLS_PORT (tls_cert).
PACKAGES="$PACKAGES openssl"
# iproute2: ss, whether a port nginx-extra wants is free (port_taken).
PACKAGES="$PACKAGES iproute2"
# python3-jsonschema: the API tests check answers against the schemas of
# docs/openapi.yaml (tests/api/test_openapi.py, conforms).
PACKAGES="$PACKAGES python3-jsonschema"
# (zbar-tools and librsvg2-bin: tests/api/test_cards.py reads the e-card's
# QR code back from its SVG; prometheus: make test checks the metrics and
# docs/alerts.yml with its promtool; redis-sentinel: MTCERT_REDIS_SENTINEL.)

say() { printf 'mtcert: %s\n' "$*"; }
die() { printf 'mtcert: %s\n' "$*" >&2; exit 1; }

# The parts each start function (re)started, for cmd_start's summary.
STARTED=()

# The service user: workers, the dispatcher and Redis run as it, never as
# root (PostgreSQL runs as postgres, nginx workers as www-data).
SVC_USER=mtcert

# alive PIDFILE [EXE-NAME]: the recorded process runs and is what we
# started (a PID reused after a reboot is not ours: never signal it).
alive() {
	[ -f "$1" ] || return 1
	local pid exe
	pid=$(cat "$1" 2>/dev/null) || return 1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	exe=${exe% (deleted)}	# rebuilt since it started: still ours
	case "$(basename "$exe")" in
	mtcert-host|mtcert-dispatcher|nginx|redis-server|redis-check-rdb) return 0 ;;
	*) return 1 ;;
	esac
}

# running PID: the process has not ended.  An ended one that is still a
# zombie has: our daemons' parent is PID 1, which here collects them
# about 2 s later (waiting for kill -0 to fail took 2 s a process, 18 s
# a `stop`, issue 13).
running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

# stop_pids SIGNAL PIDFILE...: signal each of our processes at once, wait
# until all have ended (up to 15 s, then SIGKILL), remove the PID files.
stop_pids() {
	local sig=$1 f pid pids=() left
	shift
	for f in "$@"; do
		alive "$f" || continue
		pid=$(cat "$f")
		kill "-$sig" "$pid" 2>/dev/null || true
		pids+=("$pid")
	done
	for _ in $(seq 300); do
		left=0
		for pid in "${pids[@]}"; do running "$pid" && left=1; done
		[ "$left" = 0 ] && break
		sleep 0.05
	done
	for pid in "${pids[@]}"; do
		running "$pid" && kill -KILL "$pid" 2>/dev/null
		while running "$pid"; do sleep 0.05; done
	done
	rm -f "$@"
}

# stop_pid PIDFILE [SIGNAL]: stop_pids of one.
stop_pid() { stop_pids "${2:-TERM}" "$1"; }

cmd_deps() {
	install_packages $PACKAGES
}

# The browser tests' tools: Debian's Chromium (never a downloaded
# browser), a CJK font so pages and screenshots show Chinese, poppler-utils
# (pdftotext: the printed letter's text), Node.js and
# npm's playwright-core and axe-core (accessibility rules) at the versions
# tests/browser/package-lock.json pins; and the contract's linter,
# @redocly/cli, as tests/lint/package-lock.json pins it.
BROWSER_PACKAGES="chromium fonts-wqy-microhei poppler-utils"
cmd_browser_deps() {
	local pk=$BROWSER_PACKAGES d
	command -v npm >/dev/null 2>&1 || pk="$pk nodejs npm"
	install_packages $pk
	for d in tests/browser tests/lint; do
		# npm writes node_modules/.package-lock.json: newer than the
		# lock file means installed as pinned.
		[ "$ROOT/$d/node_modules/.package-lock.json" -nt \
		    "$ROOT/$d/package-lock.json" ] && continue
		say "installing what $d/package-lock.json pins (npm ci)"
		(cd "$ROOT/$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
			die "npm ci in $d failed"
	done
}

# install_packages PKG...: the Debian packages not yet installed.
install_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		say "missing Debian packages; as root run:"
		echo "  apt-get update && apt-get install -y ${missing[*]}"
		exit 1
	fi
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
}

# Directories and who may enter them.  The runtime dir must be reachable
# by postgres and www-data; a checkout under a private home directory is
# not, so var/ then points to a private directory under /var/tmp.
prepare_dirs() {
	id "$SVC_USER" >/dev/null 2>&1 ||
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$SVC_USER"
	if [ -z "${MTCERT_VAR:-}" ] && [ ! -e "$VAR" ] &&
	   ! runuser -u "$WWW_USER" -- test -x "$ROOT" 2>/dev/null; then
		local alt
		alt=$(mktemp -d /var/tmp/mtcert-XXXXXXXX)
		ln -s "$alt" "$VAR"
		say "checkout not reachable by $WWW_USER: var/ -> $alt"
	fi
	mkdir -p "$VAR"/{pg,run/fcgi,run/pg,run/redis,run/metrics,redis,nginx/tmp,nginx/conf.d,log,files,pids,www}
	chmod 711 "$VAR" "$VAR/run"
	chmod 700 "$VAR/redis" "$VAR/run/redis" "$VAR/pids"
	chown -R "$SVC_USER:$SVC_USER" "$VAR/redis" "$VAR/run/redis"
	chown postgres:postgres "$VAR/pg" "$VAR/run/pg"
	chmod 700 "$VAR/pg"
	chmod 755 "$VAR/run/pg"
	chown "$SVC_USER:$WWW_USER" "$VAR/run/fcgi" "$VAR/files" "$VAR/run/metrics"
	chmod 750 "$VAR/run/fcgi"
	# The dispatcher writes its metrics file here, nginx reads it (setgid:
	# the file is group www-data).
	chmod 2750 "$VAR/run/metrics"
	# setgid: stored files and their directories stay group www-data.
	chmod 2750 "$VAR/files"
	chown "$WWW_USER" "$VAR/nginx/tmp"
	chmod 711 "$VAR/nginx"
	chmod 755 "$VAR/www"
	touch "$VAR/sms.log"
	# The development SMS sender (the dispatcher, as $SVC_USER) appends.
	chown "$SVC_USER" "$VAR/sms.log"
	log_files
	# The audit trail's anchor files and archives (shared/mt_audit.h):
	# outside the database, written by the dispatcher's daily job.
	install -d -o "$SVC_USER" -g "$SVC_USER" -m 750 "$VAR/audit" \
	    "$VAR/audit/archive"
	# WAL archive and base backups: PostgreSQL's own (docs/operations.md).
	install -d -m 711 "$VAR/backup"
	install -d -o postgres -g postgres -m 700 "$VAR/backup/wal" \
	    "$VAR/backup/base"
}

# log_files: every log under $VAR/log made if missing, owned by the
# process that opens it by name (so it can open it again after a
# rotation: the directory itself stays root's).
log_files() {
	local m h
	log_file postgresql postgres
	log_file postgresql-start postgres
	log_file redis "$SVC_USER"
	log_file redis-b "$SVC_USER"
	log_file dispatcher "$SVC_USER"
	for m in $MODULES; do
		for h in $(seq "$HOSTS"); do
			log_file "${m%%:*}$(host_suffix "$h")" "$SVC_USER"
		done
	done
}
log_file() {
	[ -e "$VAR/log/$1.log" ] || install -m 640 /dev/null "$VAR/log/$1.log"
	chown "$2" "$VAR/log/$1.log"
}

# The e-card's signing key (R-BEN-2), made once under $VAR/keys/card/
# (never in the checkout): the key files 0600 and the directory 0700, both
# the workers' user's; keys.json beside them holds the public keys, as
# GET /cards/keys serves them.  `mtcertctl card rotate` adds a new one.
card_keys() {
	install -d -m 711 "$VAR/keys"
	install -d -o "$SVC_USER" -g "$SVC_USER" -m 700 "$VAR/keys/card"
	"$BUILD/bin/mtcertctl" --config "$VAR/mtcert.conf" card keygen >/dev/null ||
		die "cannot make the e-card key under $VAR/keys/card"
}

# The file store's master keys (issue 15, docs/keys.md) under
# $VAR/keys/files/: outside the database and outside $VAR/files, the
# directory 0700 and each master-<n>.key 0400, the workers' user's.  The
# first is made here when there is none (`mtcertctl keys init`, after
# migrate: the command connects); `mtcertctl keys rotate` adds the next.
# Then any plain file of a stack that ran before issue 15 is sealed
# (`mtcertctl files encrypt`: nothing to do, one query, on a new stack).
file_keys() {
	install -d -m 711 "$VAR/keys"
	install -d -o "$SVC_USER" -g "$SVC_USER" -m 700 "$VAR/keys/files"
	"$BUILD/bin/mtcertctl" --config "$VAR/mtcert.conf" keys init >/dev/null ||
		die "cannot make the file store's master key under $VAR/keys/files"
	"$BUILD/bin/mtcertctl" --config "$VAR/mtcert.conf" files encrypt >/dev/null ||
		die "cannot seal the plain files under $VAR/files (see the log)"
}

# The keys of ID numbers and phones in PostgreSQL (shared/mt_identity.h),
# made once under $VAR/keys/identity/ (never in the checkout, never in the
# database): data.key encrypts, lookup.key makes the HMACs of exact
# lookups; 32 random bytes each, mode 0400, the directory 0700, all the
# workers' user's.  Losing them loses every stored ID number and phone.
identity_keys() {
	local d=$VAR/keys/identity k
	install -d -m 711 "$VAR/keys"
	install -d -o "$SVC_USER" -g "$SVC_USER" -m 700 "$d"
	for k in data lookup; do
		[ -s "$d/$k.key" ] && continue
		# Data key 1 only on a stack with no data key at all: after
		# `mtcertctl identity retire data 1` the newest is data-<n>.key.
		[ "$k" = data ] && compgen -G "$d/data-*.key" >/dev/null &&
			continue
		(umask 277 && head -c 32 /dev/urandom > "$d/$k.key.new") &&
			chown "$SVC_USER:$SVC_USER" "$d/$k.key.new" &&
			mv "$d/$k.key.new" "$d/$k.key" ||
			die "cannot make $d/$k.key"
	done
}

write_config() {
	local pgc="dbname=mtcert user=mtcert connect_timeout=2 options='-c statement_timeout=10000 -c client_connection_check_interval=1000 -c TimeZone=Asia/Shanghai'"
	cat > "$VAR/mtcert.conf" <<CONF
# Generated by shared/stack.sh; read by mtcert-host and mtcertctl.
$(pg_conninfo_lines "$pgc")
pg_deadline_ms = ${MTCERT_PG_DEADLINE_MS:-15000}
redis_socket = $VAR/run/redis/redis.sock
redis_timeout_ms = 1000
redis_sentinels = $(sentinel_list)
redis_master_name = mtcert
var_dir = $VAR
files_dir = $VAR/files
files_keys_dir = $VAR/keys/files
sql_dir = $ROOT/sql
sms_log = $VAR/sms.log
identity_keys_dir = $VAR/keys/identity
audit_dir = $VAR/audit
CONF
}

pg_start() {
	if [ ! -f "$VAR/pg/PG_VERSION" ]; then
		say "creating PostgreSQL cluster in $VAR/pg"
		runuser -u postgres -- "$PGBIN/initdb" -D "$VAR/pg" -U postgres \
			--auth-local=trust --auth-host=reject -E UTF8 \
			--locale=C.UTF-8 >/dev/null
		cat >> "$VAR/pg/postgresql.conf" <<PGC
# mtcert: unix socket only, in our own directory.
listen_addresses = ''
port = $PG_PORT
unix_socket_directories = '$VAR/run/pg'
max_connections = 200
shared_buffers = 256MB
# Rewritten by shared/stack.sh at every start: logging, WAL archive.
include_if_exists = 'mtcert-ops.conf'
PGC
	fi
	pg_ops_conf
	local psql=(psql -h "$VAR/run/pg" -p "$PG_PORT" -U postgres -qAt) i
	# Alive means answering, not a PID: after a kill -9 of the
	# postmaster, pg_ctl status still sees its PID (a zombie, or the
	# backends still ending), and its first start fails on the lock
	# file; so try again for up to 15 s.
	if ! PGCONNECT_TIMEOUT=2 "${psql[@]}" -c 'SELECT 1' >/dev/null 2>&1; then
		for i in $(seq 60); do
			runuser -u postgres -- "$PGBIN/pg_ctl" -D "$VAR/pg" -w -t 60 \
				-l "$VAR/log/postgresql-start.log" start >/dev/null 2>&1 && break
			[ "$i" -eq 60 ] && die "PostgreSQL did not start; see $VAR/log/postgresql{,-start}.log"
			sleep 0.25
		done
		STARTED+=(postgres)
	fi
	"${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname='mtcert'" | grep -q 1 ||
		"${psql[@]}" -c "CREATE ROLE mtcert LOGIN"
	"${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname='mtcert'" | grep -q 1 ||
		"${psql[@]}" -c "CREATE DATABASE mtcert OWNER mtcert"
	# Times in answers carry the China offset (+08:00), whoever connects.
	"${psql[@]}" -c "ALTER DATABASE mtcert SET timezone = 'Asia/Shanghai'"
}

# PostgreSQL's settings for operations, in the cluster's mtcert-ops.conf
# (read at the next start):
# - its own log collector writes $VAR/log/postgresql.log and opens it again
#   on `pg_ctl logrotate` (stack.sh logreopen); pg_ctl's -l file keeps
#   only what is said before the collector starts;
# - every finished WAL segment is copied to $VAR/backup/wal (never over an
#   existing one: a second cluster must not overwrite the first's), and a
#   segment is finished at least every archive_timeout, so a lost disk
#   loses at most 5 minutes of records; `stack.sh backup` adds the base.
pg_ops_conf() {
	local wal=$VAR/backup/wal
	cat > "$VAR/pg/mtcert-ops.conf" <<PGC
# Generated by shared/stack.sh (pg_ops_conf); docs/operations.md.
logging_collector = on
log_directory = '$VAR/log'
log_filename = 'postgresql.log'
log_file_mode = 0640
log_rotation_age = 0
log_rotation_size = 0
wal_level = replica
archive_mode = on
archive_command = 'test ! -f $wal/%f && cp %p $wal/%f.part && mv $wal/%f.part $wal/%f'
archive_timeout = 300
PGC
	chown postgres:postgres "$VAR/pg/mtcert-ops.conf"
	grep -q "^include_if_exists = 'mtcert-ops.conf'" "$VAR/pg/postgresql.conf" ||
		echo "include_if_exists = 'mtcert-ops.conf'" >> "$VAR/pg/postgresql.conf"
}

# --- PostgreSQL streaming replica (docs/scale.md) -------------------------
# pg_conninfo_lines OPTIONS: the config's pg_conninfo (and with
# MTCERT_PG_REPLICA=1 its pg_read_conninfo).  With a replica both nodes
# are named: writes take whichever is read-write (so a reconnect after a
# promotion finds the new primary), reads prefer the standby and fall
# back to the primary when it is down (libpq's target_session_attrs).
pg_conninfo_lines() {
	if [ "${MTCERT_PG_REPLICA:-0}" != 1 ]; then
		echo "pg_conninfo = host='$VAR/run/pg' port=$PG_PORT $1"
		return
	fi
	local hosts="host='$VAR/run/pg,$VAR/run/pg' port=$PG_PORT,$REPLICA_PORT"
	echo "pg_conninfo = $hosts target_session_attrs=read-write $1"
	echo "pg_read_conninfo = host='$VAR/run/pg,$VAR/run/pg'" \
	    "port=$REPLICA_PORT,$PG_PORT target_session_attrs=prefer-standby $1"
}

REPLICA_PORT=$((PG_PORT + 1))
REPLICA_DIR=$VAR/pg-replica

# pg_replica_start: with MTCERT_PG_REPLICA=1, a hot standby of the
# cluster in $VAR/pg-replica, made once with pg_basebackup -R (slot
# mtcert_replica), started with pg_ctl; the primary then waits for it at
# each commit (synchronous_standby_names: a 2xx is on both nodes, so a
# promotion loses nothing accepted).  Without it, a synchronous standby
# left from an earlier run is forgotten (writes would wait for nobody).
pg_replica_start() {
	local psql=(psql -h "$VAR/run/pg" -p "$PG_PORT" -U postgres -qAt)
	if [ "${MTCERT_PG_REPLICA:-0}" != 1 ]; then
		[ -n "$("${psql[@]}" -c 'SHOW synchronous_standby_names')" ] &&
			"${psql[@]}" -c 'ALTER SYSTEM RESET synchronous_standby_names' \
			    -c 'SELECT pg_reload_conf()' >/dev/null
		return 0
	fi
	if [ ! -f "$REPLICA_DIR/PG_VERSION" ]; then
		say "making the PostgreSQL replica in $REPLICA_DIR"
		"${psql[@]}" -c "SELECT pg_drop_replication_slot('mtcert_replica')
		    FROM pg_replication_slots WHERE slot_name = 'mtcert_replica'" >/dev/null
		install -d -o postgres -g postgres -m 700 "$REPLICA_DIR"
		runuser -u postgres -- "$PGBIN/pg_basebackup" -R -C \
		    -S mtcert_replica -X stream --checkpoint=fast -D "$REPLICA_DIR" \
		    -d "host=$VAR/run/pg port=$PG_PORT user=postgres application_name=mtcert_replica" ||
			die "pg_basebackup of the replica failed"
		runuser -u postgres -- sh -c "cat >> '$REPLICA_DIR/postgresql.conf'" <<PGC
# shared/stack.sh pg_replica_start: the replica's own port and log.
port = $REPLICA_PORT
log_filename = 'postgresql-replica.log'
PGC
	fi
	log_file postgresql-replica postgres
	log_file postgresql-replica-start postgres
	if ! replica_alive; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$REPLICA_DIR" -w -t 60 \
		    -l "$VAR/log/postgresql-replica-start.log" start >/dev/null ||
			die "the replica did not start; see $VAR/log/postgresql-replica.log"
		STARTED+=(postgres-replica)
	fi
	[ "$("${psql[@]}" -c 'SHOW synchronous_standby_names')" = mtcert_replica ] ||
		"${psql[@]}" -c "ALTER SYSTEM SET synchronous_standby_names = 'mtcert_replica'" \
		    -c 'SELECT pg_reload_conf()' >/dev/null
}

# pg_replica_guard: after a promotion (the replica's standby.signal is
# gone) the old primary must never start again: it would take writes
# beside the new one (docs/scale.md, runbook step 5).
pg_replica_guard() {
	[ -f "$REPLICA_DIR/PG_VERSION" ] && [ ! -f "$REPLICA_DIR/standby.signal" ] &&
		die "the replica in $REPLICA_DIR was promoted: the old primary stays stopped (docs/scale.md)"
	return 0
}

replica_alive() {
	[ -f "$REPLICA_DIR/postmaster.pid" ] &&
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$REPLICA_DIR" status >/dev/null 2>&1
}

# pg-replica-stop: a planned stop; the primary stops waiting for it first
# (an unplanned loss of the replica: docs/scale.md's runbook).
pg_replica_stop() {
	replica_alive || return 0
	psql -h "$VAR/run/pg" -p "$PG_PORT" -U postgres -qAt \
	    -c 'ALTER SYSTEM RESET synchronous_standby_names' \
	    -c 'SELECT pg_reload_conf()' >/dev/null 2>&1 || true
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$REPLICA_DIR" -m fast -w stop >/dev/null
}

# pg-promote: the replica becomes the primary (the runbook in
# docs/scale.md: only once the old primary is stopped for good).  It waits
# for no standby of its own; the workers' next connection finds it.
cmd_pg_promote() {
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$REPLICA_DIR" -w promote >/dev/null ||
		die "pg_ctl promote failed"
	psql -h "$VAR/run/pg" -p "$REPLICA_PORT" -U postgres -qAt \
	    -c 'ALTER SYSTEM RESET synchronous_standby_names' \
	    -c 'SELECT pg_reload_conf()' >/dev/null
	say "promoted the replica (port $REPLICA_PORT)"
}

redis_start() {
	if [ "${MTCERT_REDIS_SENTINEL:-0}" = 1 ]; then
		sentinel_stack_start
		return
	fi
	alive "$VAR/pids/redis.pid" && return 0
	cat > "$VAR/redis.conf" <<RC
# Generated by shared/stack.sh.  Unix socket only (no TCP at all).
port 0
unixsocket $VAR/run/redis/redis.sock
unixsocketperm 700
dir $VAR/redis
daemonize no
appendonly yes
appendfsync everysec
save ""
# Redis opens its log file for every line: a renamed one is let go at once.
logfile $VAR/log/redis.log
RC
	nohup setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups -- \
		redis-server "$VAR/redis.conf" >>"$VAR/log/redis.log" 2>&1 &
	echo $! > "$VAR/pids/redis.pid"
	STARTED+=(redis)
	local i
	for i in $(seq 100); do
		redis-cli -s "$VAR/run/redis/redis.sock" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	die "redis did not start; see $VAR/log/redis.log"
}

redis_stop() { stop_pid "$VAR/pids/redis.pid"; }

# --- Redis Sentinel (MTCERT_REDIS_SENTINEL=1, docs/scale.md) -------------
# Two Redis nodes on 127.0.0.1: "redis" (MTCERT_PORT + 20, the first
# master; also on run/redis/redis.sock) and "redis-b" (+ 21, its replica,
# run/redis/redis-b.sock), and three sentinels (+ 22, + 23, + 24) that
# watch the master named "mtcert" (quorum 2, down after 1 s).  Each node
# and sentinel has its directory under $VAR/redis and its log under
# $VAR/log; PID files pids/redis.pid, redis-b.pid, sentinel-N.pid.  The
# configuration files are written once: after that Redis and the
# sentinels keep them (a failover rewrites them), so a restarted node
# comes back in the role it was given.
REDIS_BASE=$((PORT + 20))
sentinel_list() {
	[ "${MTCERT_REDIS_SENTINEL:-0}" = 1 ] || return 0
	echo "127.0.0.1:$((REDIS_BASE + 2)),127.0.0.1:$((REDIS_BASE + 3)),127.0.0.1:$((REDIS_BASE + 4))"
}

# sentinel_spawn NAME CONF EXE...: start one process as the service
# user with its PID in pids/NAME.pid, unless it is alive.
sentinel_spawn() {
	local name=$1 conf=$2; shift 2
	alive "$VAR/pids/$name.pid" && return 0
	chown -R "$SVC_USER:$SVC_USER" "$(dirname "$conf")"
	nohup setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups -- \
		"$@" "$conf" >>"$VAR/log/$name.log" 2>&1 &
	echo $! > "$VAR/pids/$name.pid"
	STARTED+=("$name")
}

# redis_node_conf NAME PORT [MASTER-PORT]: a node's configuration, once.
redis_node_conf() {
	local dir=$VAR/redis/$1 sock=$VAR/run/redis/$1.sock
	[ "$1" = redis ] && sock=$VAR/run/redis/redis.sock
	mkdir -p "$dir"
	[ -f "$dir/redis.conf" ] && return 0
	cat > "$dir/redis.conf" <<RC
# Generated once by shared/stack.sh (sentinel set); Redis rewrites it.
bind 127.0.0.1
port $2
unixsocket $sock
unixsocketperm 700
dir $dir
daemonize no
appendonly yes
appendfsync everysec
save ""
logfile $VAR/log/$1.log
replica-announce-ip 127.0.0.1
RC
	[ -n "${3:-}" ] && echo "replicaof 127.0.0.1 $3" >> "$dir/redis.conf"
	return 0
}

# sentinel_conf N PORT: sentinel N's configuration, once.
sentinel_conf() {
	local dir=$VAR/redis/sentinel-$1
	mkdir -p "$dir"
	[ -f "$dir/sentinel.conf" ] && return 0
	cat > "$dir/sentinel.conf" <<SC
# Generated once by shared/stack.sh; the sentinel rewrites it.
bind 127.0.0.1
port $2
daemonize no
dir $dir
logfile $VAR/log/sentinel-$1.log
sentinel announce-ip 127.0.0.1
sentinel monitor mtcert 127.0.0.1 $REDIS_BASE 2
sentinel down-after-milliseconds mtcert 1000
sentinel failover-timeout mtcert 10000
sentinel parallel-syncs mtcert 1
SC
}

sentinel_stack_start() {
	local n i
	redis_node_conf redis "$REDIS_BASE"
	redis_node_conf redis-b "$((REDIS_BASE + 1))" "$REDIS_BASE"
	sentinel_spawn redis "$VAR/redis/redis/redis.conf" redis-server
	sentinel_spawn redis-b "$VAR/redis/redis-b/redis.conf" redis-server
	for n in 1 2 3; do
		sentinel_conf "$n" "$((REDIS_BASE + 1 + n))"
		log_file "sentinel-$n" "$SVC_USER"
		sentinel_spawn "sentinel-$n" \
		    "$VAR/redis/sentinel-$n/sentinel.conf" redis-sentinel
	done
	# Ready when a sentinel names a master that answers.  A sentinel just
	# spawned may not listen yet: redis-cli then fails, and under
	# errexit and pipefail the assignment's status would end the script
	# at once, silently, with 1 (a CI run of 2 December: redis-start
	# after test_sentinel killed sentinel-1, on a loaded machine).
	for i in $(seq 100); do
		n=$(redis-cli -p "$((REDIS_BASE + 2))" SENTINEL \
		    get-master-addr-by-name mtcert 2>/dev/null | tail -1) || n=
		[ -n "$n" ] && redis-cli -p "$n" ping 2>/dev/null | grep -q PONG &&
			return 0
		sleep 0.1
	done
	die "redis sentinel set did not start; see $VAR/log/redis*.log, sentinel-*.log"
}

# --- Several hosts (MTCERT_HOSTS, docs/scale.md) -------------------------
# Host 1 is what `make run` has always started: run/fcgi/NAME.sock,
# pids/NAME.pid, log/NAME.log.  Host H (2 and up) is a second set of the
# same pools with the suffix -H on each (run/fcgi/catalog-2.sock,
# pids/catalog-2.pid, log/catalog-2.log) and its own dispatcher
# (dispatcher-H, unless MTCERT_DISPATCHERS says how many).  Each pool is
# its own mtcert-host master, so killing a host's processes is what the
# loss of a machine is to nginx (a refused connect; on a network, a
# connect timeout).
host_suffix() { [ "$1" -gt 1 ] && echo "-$1"; return 0; }

# pool_start NAME WORKERS SUFFIX: one module's pool unless it is alive.
pool_start() {
	local id=$1$3
	alive "$VAR/pids/$id.pid" && return 0
	rm -f "$VAR/run/fcgi/$id.sock"
	nohup setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups -- \
		"$BUILD/bin/mtcert-host" --module "$BUILD/modules/$1.so" \
		--socket "$VAR/run/fcgi/$id.sock" --workers "$2" \
		--config "$VAR/mtcert.conf" --log "$VAR/log/$id.log" \
		>>"$VAR/log/$id.log" 2>&1 &
	echo $! > "$VAR/pids/$id.pid"
	STARTED+=("$id")
}

# modules_start: every pool of every host that is not alive, then waits
# for each socket.
modules_start() {
	local m h id
	for h in $(seq "$HOSTS"); do
		for m in $MODULES; do
			pool_start "${m%%:*}" "${m##*:}" "$(host_suffix "$h")"
		done
	done
	for h in $(seq "$HOSTS"); do
		for m in $MODULES; do
			id=${m%%:*}$(host_suffix "$h")
			for _ in $(seq 100); do
				[ -S "$VAR/run/fcgi/$id.sock" ] && break
				sleep 0.05
			done
			[ -S "$VAR/run/fcgi/$id.sock" ] ||
				die "module $id did not start; see $VAR/log/$id.log"
		done
	done
}

# upstreams.conf for nginx (included by nginx/mtcert.conf.in): one
# upstream per module with one server per host.  zone: nginx's workers
# share what they learn of a server (one failed connect takes a dead
# host out for all of them).  max_fails=1 fail_timeout=10s (nginx's own
# defaults, written out): the first failure takes the host out for 10 s,
# then one request tries it again; with one server nginx ignores both.
upstreams_conf() {
	local name h
	echo "# Generated by shared/stack.sh (MTCERT_HOSTS=$HOSTS)."
	for name in $UPSTREAMS; do
		echo "upstream $name {"
		echo "    zone upstream_$name 64k;"
		for h in $(seq "$HOSTS"); do
			echo "    server unix:$VAR/run/fcgi/$name$(host_suffix "$h").sock max_fails=1 fail_timeout=10s;"
		done
		echo "}"
	done
}

# MTCERT_DISPATCHERS (default MTCERT_HOSTS: one a host): several may run
# at once; PostgreSQL decides every race between them.
dispatcher_start() {
	local i f
	for i in $(seq "${MTCERT_DISPATCHERS:-$HOSTS}"); do
		f=$VAR/pids/dispatcher.pid
		[ "$i" -gt 1 ] && f=$VAR/pids/dispatcher-$i.pid
		alive "$f" && continue
		nohup setpriv --reuid="$SVC_USER" --regid="$SVC_USER" --init-groups -- \
			"$BUILD/bin/mtcert-dispatcher" --config "$VAR/mtcert.conf" \
			--log "$VAR/log/dispatcher.log" \
			>>"$VAR/log/dispatcher.log" 2>&1 &
		echo $! > "$f"
		STARTED+=("$(basename "$f" .pid)")
	done
}

# nginx_render DIR PORT PIDFILE: the configuration in DIR (nginx.conf
# and its includes) for plain HTTP on PORT, plus TLS on MTCERT_TLS_PORT
# when set (tls.d/tls.conf, a self-signed certificate under $VAR/tls) and
# the proxies of MTCERT_TRUSTED_PROXIES (proxies.conf); checked with
# nginx -t.
nginx_render() {
	local dir=$1 port=$2 pid=$3 metrics=${4:-$(($2 + 7))}
	mkdir -p "$dir/tls.d"
	sed -e "s|@VAR@|$VAR|g" -e "s|@PORT@|$port|g" -e "s|@USER@|$WWW_USER|g" \
	    -e "s|@WEB@|$VAR/www|g" -e "s|^pid .*|pid $pid;|" \
	    -e "s|@METRICS_PORT@|$metrics|g" \
	    "$ROOT/nginx/mtcert.conf.in" > "$dir/nginx.conf"
	cp "$ROOT/nginx/fastcgi.mtcert" "$ROOT/nginx/security-headers.conf" \
	    "$ROOT/nginx/file-headers.conf" "$ROOT/nginx/not-implemented.conf" \
	    "$dir/"
	proxies_conf > "$dir/proxies.conf"
	upstreams_conf > "$dir/upstreams.conf"
	rm -f "$dir"/tls.d/*.conf
	if [ -n "${MTCERT_TLS_PORT:-}" ]; then
		tls_cert
		sed -e "s|@TLS_PORT@|$MTCERT_TLS_PORT|g" -e "s|@TLS_DIR@|$VAR/tls|g" \
		    "$ROOT/nginx/tls.conf.example" > "$dir/tls.d/tls.conf"
	fi
	nginx -t -p "$dir" -c "$dir/nginx.conf" -e "$VAR/log/nginx-error.log" 2>"$VAR/log/nginx-test.log" ||
		die "nginx config invalid: $(cat "$VAR/log/nginx-test.log")"
}

# proxies.conf from MTCERT_TRUSTED_PROXIES (space-separated addresses or
# CIDRs; empty: nginx/proxies.conf, no proxy trusted).
proxies_conf() {
	local p
	if [ -z "${MTCERT_TRUSTED_PROXIES:-}" ]; then
		cat "$ROOT/nginx/proxies.conf"
		return
	fi
	echo "# Generated by shared/stack.sh from MTCERT_TRUSTED_PROXIES."
	for p in $MTCERT_TRUSTED_PROXIES; do
		[[ "$p" =~ ^[0-9a-fA-F.:/]+$ ]] || die "not an address: $p"
		[ "${p#*/}" = 0 ] && die "a /0 trusts every client: $p"
		echo "set_real_ip_from $p;"
	done
	echo "real_ip_header X-Forwarded-For;"
	echo "real_ip_recursive on;"
	echo 'geo $realip_remote_addr $mt_from_proxy {'
	echo "    default 0;"
	for p in $MTCERT_TRUSTED_PROXIES; do echo "    $p 1;"; done
	echo "}"
}

# A self-signed certificate for localhost under $VAR/tls (made once, with
# openssl: P-256, a year), for development and the TLS tests only.
tls_cert() {
	[ -f "$VAR/tls/cert.pem" ] && return 0
	install -d -m 700 "$VAR/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 365 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$VAR/tls/key.pem" -out "$VAR/tls/cert.pem" 2>/dev/null ||
		die "openssl could not make the certificate"
	chmod 600 "$VAR/tls/key.pem"
}

nginx_start() {
	if alive "$VAR/run/nginx.pid"; then
		upstreams_reload
		return 0
	fi
	rm -rf "$VAR/www"; cp -a "$ROOT/web" "$VAR/www"
	chmod -R a+rX "$VAR/www"
	nginx_render "$VAR/nginx" "$PORT" "$VAR/run/nginx.pid" "$METRICS_PORT"
	nginx -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -e "$VAR/log/nginx-error.log"
	STARTED+=(nginx)
	for _ in $(seq 100); do alive "$VAR/run/nginx.pid" && return 0; sleep 0.05; done
	die "nginx did not start; see $VAR/log/nginx-error.log"
}

# port_taken PORT: something listens on TCP PORT (any address; ss from
# iproute2).
port_taken() {
	[ -n "$(ss -Hltn "sport = :$1")" ]
}

# upstreams_reload: a running nginx given the upstreams of MTCERT_HOSTS
# when they changed (a host added or taken out, docs/scale.md): the file
# rewritten, checked with nginx -t, and nginx reloaded (HUP: its old
# workers finish the requests in hand, nothing is dropped).
upstreams_reload() {
	local f=$VAR/nginx/upstreams.conf
	upstreams_conf > "$f.new"
	if cmp -s "$f.new" "$f"; then rm -f "$f.new"; return 0; fi
	mv "$f.new" "$f"
	nginx -t -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" \
	    -e "$VAR/log/nginx-error.log" 2>"$VAR/log/nginx-test.log" ||
		die "nginx config invalid: $(cat "$VAR/log/nginx-test.log")"
	kill -HUP "$(cat "$VAR/run/nginx.pid")"
	STARTED+=("nginx-reload")
}

# nginx-extra NAME PORT: a second nginx in front of the same module pools,
# configured from the environment as nginx_start is (MTCERT_TLS_PORT,
# MTCERT_TRUSTED_PROXIES), with its own limits; its PID in
# $VAR/nginx-NAME/nginx.pid; its local metrics server listens on PORT + 7.
# It refuses to start (exit 1, naming the port) when PORT, PORT + 7 or
# MTCERT_TLS_PORT is in use.  The TLS and proxy tests start one each and
# stop it with nginx-extra-stop NAME (stop stops any left).
nginx_extra_start() {
	local dir=$VAR/nginx-${1:?NAME} port=${2:?PORT} p
	[[ "$1" =~ ^[a-z0-9-]+$ ]] || die "bad name $1"
	[[ "$port" =~ ^[0-9]+$ ]] || die "bad port $port"
	# One left by a test that did not stop it: replaced.
	stop_pid "$dir/nginx.pid" QUIT
	# Its ports, the metrics server's PORT + 7 included, must be free:
	# said here, not as a bind() failure in nginx's log.
	for p in "$port" $((port + 7)) ${MTCERT_TLS_PORT:-}; do
		port_taken "$p" &&
			die "nginx-$1: port $p is in use (PORT $port, metrics PORT + 7 = $((port + 7))${MTCERT_TLS_PORT:+, TLS $MTCERT_TLS_PORT})"
	done
	nginx_render "$dir" "$port" "$dir/nginx.pid"
	nginx -p "$dir" -c "$dir/nginx.conf" -e "$VAR/log/nginx-error.log"
	for _ in $(seq 100); do alive "$dir/nginx.pid" && return 0; sleep 0.05; done
	die "nginx-$1 did not start; see $VAR/log/nginx-error.log"
}

# Start whatever part is not alive, every part, every time (a part killed
# with -9 is started again; the live ones are left alone), and say which.
# The dispatcher restarts its own child (mtcert-dispatcher's supervise());
# systemd units for a real server are in shared/systemd/.
cmd_start() {
	[ "$(id -u)" -eq 0 ] || die "make run needs root (initdb as postgres, nginx user switch)"
	[ -x "$BUILD/bin/mtcert-host" ] || die "not built: run make first"
	prepare_dirs
	write_config
	card_keys
	identity_keys
	pg_replica_guard
	pg_start
	pg_replica_start
	redis_start
	"$BUILD/bin/mtcertctl" --config "$VAR/mtcert.conf" migrate >/dev/null
	"$BUILD/bin/mtcertctl" --config "$VAR/mtcert.conf" load-reference >/dev/null
	file_keys
	modules_start
	dispatcher_start
	nginx_start
	if [ ${#STARTED[@]} -eq 0 ]; then
		say "everything was already running (make stop to stop)"
	else
		say "started: ${STARTED[*]}"
	fi
	say "running at http://127.0.0.1:$PORT/  (API: http://127.0.0.1:$PORT/api/v1/)"
	say "metrics (local only): http://127.0.0.1:$METRICS_PORT/metrics/<module>, /metrics/dispatcher, /stub_status"
	say "demo logins: see README.md (admin / mtcert-admin-2026, agency-sanmenxia / mtcert-agency-2026, ...)"
}

cmd_stop() {
	[ -d "$VAR" ] || return 0
	local f workers=() redis=()
	# In three waves, each stopped at once: nginx, then the pools and
	# the dispatchers (each finishes what it holds), then Redis.
	stop_pids QUIT "$VAR/run/nginx.pid" "$VAR"/nginx-*/nginx.pid
	for f in "$VAR"/pids/*.pid; do
		[ -e "$f" ] || continue
		case "$(basename "$f")" in
		redis*|sentinel-*) redis+=("$f") ;;
		*) workers+=("$f") ;;
		esac
	done
	stop_pids TERM "${workers[@]}"
	stop_pids TERM "${redis[@]}"
	if [ -f "$VAR/pg/postmaster.pid" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$VAR/pg" -m fast -w stop >/dev/null 2>&1 || true
	fi
	pg_replica_stop 2>/dev/null || true
	say "stopped"
}

cmd_status() {
	local f
	for f in "$VAR"/pids/*.pid "$VAR/run/nginx.pid"; do
		[ -e "$f" ] || continue
		if alive "$f"; then echo "$(basename "$f" .pid): running ($(cat "$f"))"
		else echo "$(basename "$f" .pid): dead"; fi
	done
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$VAR/pg" status >/dev/null 2>&1 &&
		echo "postgres: running" || echo "postgres: stopped"
	[ -d "$REPLICA_DIR" ] && { replica_alive &&
		echo "postgres-replica: running" || echo "postgres-replica: stopped"; }
	return 0
}

modules_stop() {
	local m h f=()
	for h in $(seq "$HOSTS"); do
		for m in $MODULES; do
			f+=("$VAR/pids/${m%%:*}$(host_suffix "$h").pid")
		done
	done
	stop_pids TERM "${f[@]}"
}

# host-stop H: host H's pools and its dispatcher stopped by their PIDs
# (SIGTERM: each worker finishes the request in hand).  Take the host out
# of nginx first (start with a smaller MTCERT_HOSTS), docs/scale.md.
host_stop() {
	local h=${1:?usage: host-stop H} m f=()
	[[ "$h" =~ ^[1-9]$ ]] || die "bad host $h"
	for m in $MODULES; do f+=("$VAR/pids/${m%%:*}$(host_suffix "$h").pid"); done
	if [ "$h" -gt 1 ]; then f+=("$VAR/pids/dispatcher-$h.pid")
	else f+=("$VAR/pids/dispatcher.pid"); fi
	stop_pids TERM "${f[@]}"
}

pg_stop() {
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$VAR/pg" -m fast -w stop >/dev/null
}

# --- Log rotation (docs/operations.md) ----------------------------------
# logreopen: every process lets go of its renamed log and writes a new
# one under the same name: the module pools and dispatchers on SIGUSR1
# (each master reopens, tells its workers or child, and says "log
# reopened" in the new file once it has), nginx on USR1, PostgreSQL's
# collector on `pg_ctl logrotate`; Redis opens its log for every line.
# Returns once every signalled master has said so (at most 10 s each).
cmd_logreopen() {
	local f name size=() log i
	log_files
	for f in "$VAR"/pids/*.pid; do
		[ -e "$f" ] && alive "$f" || continue
		name=$(basename "$f" .pid)
		case "$name" in
		redis|redis-*|sentinel-*) continue ;;
		dispatcher-*) name=dispatcher ;;
		esac
		log=$VAR/log/$name.log
		size+=("$f:$log:$(stat -c %s "$log")")
		kill -USR1 "$(cat "$f")"
	done
	for f in "$VAR/run/nginx.pid" "$VAR"/nginx-*/nginx.pid; do
		[ -e "$f" ] && alive "$f" && kill -USR1 "$(cat "$f")"
	done
	[ -f "$VAR/pg/postmaster.pid" ] &&
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$VAR/pg" logrotate >/dev/null
	for f in "${size[@]}"; do
		IFS=: read -r _ log i <<<"$f"
		for _ in $(seq 200); do
			tail -c "+$((i + 1))" "$log" | grep -q 'log reopened' && break
			sleep 0.05
		done
	done
}

# logrotate: each log under $VAR/log renamed to NAME.log.<UTC time>, then
# logreopen.  logrotate(8) does the renaming itself and calls logreopen
# in its postrotate (docs/operations.md).
cmd_logrotate() {
	local stamp f
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	for f in "$VAR"/log/*.log; do
		[ -e "$f" ] && mv "$f" "$f.$stamp"
	done
	cmd_logreopen
	say "logs rotated to *.log.$stamp"
}

# --- Backups (docs/operations.md) -----------------------------------------
# backup: a base backup of the running cluster with pg_basebackup into
# $VAR/backup/base/<UTC time>/ (tar, gzip, with the WAL it needs: it
# restores alone); with the archived WAL after it, any later moment
# restores.  Keeps the last MTCERT_BACKUP_KEEP (default 2) and the WAL
# from the oldest kept one on (pg_archivecleanup).
cmd_backup() {
	local stamp dir
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	dir=$VAR/backup/base/$stamp
	runuser -u postgres -- "$PGBIN/pg_basebackup" -h "$VAR/run/pg" \
		-p "$PG_PORT" -U postgres -D "$dir" -Ft -z -X stream \
		--checkpoint=fast -l "mtcert-$stamp" ||
		die "pg_basebackup failed"
	backup_prune
	say "base backup in $dir"
}

backup_prune() {
	local keep=${MTCERT_BACKUP_KEEP:-2} all oldest label
	mapfile -t all < <(ls -1 "$VAR/backup/base" | sort)
	[ "${#all[@]}" -gt "$keep" ] || return 0
	for oldest in "${all[@]:0:${#all[@]}-keep}"; do
		rm -rf "${VAR:?}/backup/base/$oldest"
	done
	oldest=${all[${#all[@]}-keep]}
	# The history file the archive got when the oldest kept backup ended.
	label=$(grep -l "^LABEL: mtcert-$oldest\$" "$VAR"/backup/wal/*.backup \
		2>/dev/null | head -1) || true
	[ -n "$label" ] && runuser -u postgres -- "$PGBIN/pg_archivecleanup" \
		"$VAR/backup/wal" "$(basename "$label")"
	return 0
}

# restore DIR [BACKUP]: a new data directory DIR (absent or empty) made
# from the base backup BACKUP (a name under backup/base, default the
# last), set to replay every archived WAL segment after it (no recovery
# target: to the end of the archive, then a new timeline).  Start it
# with pg_ctl as the postgres user; tests/restore-drill.sh does on a
# spare port.
cmd_restore() {
	local dir=${1:?usage: restore DIR [BACKUP]} b=${2:-}
	[ -n "$b" ] || b=$(ls -1 "$VAR/backup/base" | sort | tail -1)
	b=$VAR/backup/base/$b
	[ -f "$b/base.tar.gz" ] || die "no base backup $b"
	[ ! -e "$dir" ] || [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
	install -d -o postgres -g postgres -m 700 "$dir"
	runuser -u postgres -- tar -xzf "$b/base.tar.gz" -C "$dir"
	runuser -u postgres -- tar -xzf "$b/pg_wal.tar.gz" -C "$dir/pg_wal"
	runuser -u postgres -- sh -c "cat >> '$dir/postgresql.auto.conf'" <<PGC
# shared/stack.sh restore: replay the archive to its end.
restore_command = 'cp $VAR/backup/wal/%f %p'
recovery_target_timeline = 'latest'
PGC
	runuser -u postgres -- touch "$dir/recovery.signal"
	say "restored $b into $dir (start it with pg_ctl as postgres)"
}

case "${1:-}" in
deps) cmd_deps ;;
browser-deps) cmd_browser_deps ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
redis-stop) redis_stop ;;
redis-start) redis_start ;;
pg-stop) pg_stop ;;
pg-start) pg_replica_guard; pg_start ;;
modules-stop) modules_stop ;;
modules-start) modules_start ;;
host-stop) host_stop "${2:-}" ;;
dispatcher-start) dispatcher_start ;;
dispatcher-stop) stop_pids TERM "$VAR"/pids/dispatcher*.pid ;;
logreopen) cmd_logreopen ;;
logrotate) cmd_logrotate ;;
backup) cmd_backup ;;
nginx-extra) nginx_extra_start "${2:-}" "${3:-}" ;;
nginx-extra-stop) stop_pid "$VAR/nginx-${2:?NAME}/nginx.pid" QUIT ;;
restore) shift; cmd_restore "$@" ;;
pg-replica-start) pg_replica_start ;;
pg-replica-stop) pg_replica_stop ;;
pg-promote) cmd_pg_promote ;;
*) echo "usage: $0 deps|browser-deps|start|stop|status|redis-stop|redis-start|pg-stop|pg-start|modules-stop|modules-start|host-stop H|dispatcher-start|dispatcher-stop|logrotate|logreopen|backup|restore DIR [BACKUP]|nginx-extra NAME PORT|nginx-extra-stop NAME|pg-replica-start|pg-replica-stop|pg-promote" >&2; exit 2 ;;
esac
