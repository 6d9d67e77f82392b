#!/usr/bin/env bash
# tests/restore-drill.sh -- the restore drill (docs/operations.md,
# "Backups"), against a running stack (MTCERT_VAR, MTCERT_PG_PORT,
# MTCERT_URL; tests/run.sh runs it on its test stack):
#   1. a base backup (shared/stack.sh backup);
#   2. more applications after it, through the API;
#   3. the live counts of applications, events and qualifications read
#      and the current WAL segment closed (pg_switch_wal) at one moment
#      (one transaction holding SHARE locks: no write commits between),
#      and a wait until that segment is archived;
#   4. shared/stack.sh restore into a new directory, started on a spare
#      port (archive off, its own socket directory): it replays the
#      archive to its end;
#   5. its counts must equal the live ones, and include step 2's.
# Stops the PostgreSQL it started, by its PID, and removes its directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VAR=${MTCERT_VAR:?MTCERT_VAR: the running stack}
PG_PORT=${MTCERT_PG_PORT:-5433}
DRILL_PORT=${MTCERT_DRILL_PG_PORT:-$((PG_PORT + 17))}
PGBIN=/usr/lib/postgresql/15/bin
NEW_APPS=3

say() { printf 'restore-drill: %s\n' "$*"; }
fail() { printf 'restore-drill: FAIL: %s\n' "$*" >&2; exit 1; }

DIR=$(mktemp -d "$VAR/restore.XXXXXX")
SOCK=$DIR.sock
PID=
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -INT "$PID"	# fast shutdown
		for _ in $(seq 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$PID" 2>/dev/null && kill -KILL "$PID"
	fi
	rm -rf "$DIR" "$SOCK"
}
trap cleanup EXIT
rmdir "$DIR"	# stack.sh restore makes it, postgres's

live=(psql -h "$VAR/run/pg" -p "$PG_PORT" -U postgres -d mtcert -qAtX)
COUNTS="SELECT (SELECT count(*) FROM applications) || ' ' ||
	(SELECT count(*) FROM events) || ' ' ||
	(SELECT count(*) FROM qualifications)"

shared/stack.sh backup >/dev/null
base=$("${live[@]}" -c "SELECT count(*) FROM applications")

# Applications the base backup does not hold: only the archive has them.
/usr/bin/python3 - "$NEW_APPS" <<'PY'
import sys
sys.path.insert(0, "tests/api")
import conftest as c
reg = c.new_region()
for _ in range(int(sys.argv[1])):
    c.submitted_application(reg)
PY

# The live counts at the end of the last archived segment: read and the
# segment switched in one transaction that holds SHARE locks on the three
# tables, so no write to them commits between the count and the switch
# (NOWAIT, tried again: the drill never waits in a queue of locks, so it
# can take no part in a deadlock with the service's transactions).
AT_SWITCH="BEGIN;
LOCK TABLE applications, events, qualifications IN SHARE MODE NOWAIT;
$COUNTS;
SELECT pg_walfile_name(pg_switch_wal());
COMMIT;"
for try in $(seq 50); do
	out=$(printf '%s\n' "$AT_SWITCH" |
		"${live[@]}" -v ON_ERROR_STOP=1 2>/dev/null) && break
	[ "$try" -eq 50 ] && fail "could not lock the tables for a moment"
	sleep 0.2
done
after=$(sed -n 1p <<<"$out")
seg=$(sed -n 2p <<<"$out")
for _ in $(seq 600); do
	[ -f "$VAR/backup/wal/$seg" ] && break
	sleep 0.1
done
[ -f "$VAR/backup/wal/$seg" ] || fail "segment $seg never archived"
say "live at $seg: applications events qualifications = $after"

shared/stack.sh restore "$DIR" >/dev/null
install -d -o postgres -g postgres -m 700 "$SOCK"
install -o postgres -m 640 /dev/null "$VAR/log/restore-drill.log"
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR" -w -t 300 \
	-l "$VAR/log/restore-drill.log" \
	-o "-c port=$DRILL_PORT -c unix_socket_directories=$SOCK \
	    -c listen_addresses= -c archive_mode=off -c logging_collector=off \
	    -c shared_buffers=32MB" start >/dev/null ||
	fail "the restored cluster did not start: $(tail -5 "$VAR/log/restore-drill.log")"
PID=$(head -1 "$DIR/postmaster.pid")

restored=$(psql -h "$SOCK" -p "$DRILL_PORT" -U postgres -d mtcert -qAtX \
	-c "$COUNTS")
say "restored:  applications events qualifications = $restored"
[ "$restored" = "$after" ] || fail "restored $restored, live $after"
[ "${restored%% *}" -ge $((base + NEW_APPS)) ] ||
	fail "the applications made after the base backup are missing"
say "PASS (base backup + archived WAL = the live records)"
