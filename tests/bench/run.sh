#!/usr/bin/env bash
# tests/bench/run.sh -- `make bench`: wrk through nginx against the catalog
# module and, in the same run, the baselines:
#   return   nginx answering `return 200` itself
#   minimal  nginx -> a minimal libfcgi responder (2 workers)
#   redis    the same doing one Redis GET (4 workers)
#   select   the same doing one PostgreSQL primary-key SELECT (4 workers)
#   insert   the same doing one durable INSERT (32 workers: durable commits
#            want many workers to share fsyncs)
# Every responder closes like mtcert-host (FCGX_Detach after the body).
# Prints requests/s, p50 and p99 at the stated concurrency, and ratios.
# Targets: catalog read >= 70 % of minimal, catalog p99 < 10 ms at 64.
# Runs on its own throwaway stack; stops everything it started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECS=${BENCH_SECONDS:-10}
CONN=${BENCH_CONNECTIONS:-64}
export MTCERT_VAR
MTCERT_VAR=$(mktemp -d /tmp/mtcert-bench.XXXXXX)
chmod 711 "$MTCERT_VAR"
export MTCERT_PORT=${BENCH_PORT:-28080} MTCERT_PG_PORT=${BENCH_PG_PORT:-25433}
BPORT=$((MTCERT_PORT + 1))
export MTCERT_MODULES="catalog:4 auth:2 agency:1"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	shared/stack.sh stop >/dev/null 2>&1 || true
	rm -rf "$MTCERT_VAR"
}
trap cleanup EXIT

shared/stack.sh start >/dev/null
V=$MTCERT_VAR
PGC="host=$V/run/pg port=$MTCERT_PG_PORT dbname=mtcert user=mtcert"
psql "$PGC" -qc "CREATE TABLE IF NOT EXISTS bench_inserts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)"
redis-cli -s "$V/run/redis/redis.sock" set bench:key hello >/dev/null

start_responder() { # name mode workers
	build/bench/bench-responder --socket "$V/run/fcgi/bench-$1.sock" \
		--mode "$2" --workers "$3" --pg "$PGC" \
		--redis "$V/run/redis/redis.sock" >>"$V/log/bench.log" 2>&1 &
	PIDS+=($!)
}
start_responder minimal minimal 2
start_responder redis redis 4
start_responder select select 4
start_responder insert insert 32
for n in minimal redis select insert; do
	for _ in $(seq 100); do [ -S "$V/run/fcgi/bench-$n.sock" ] && break; sleep 0.05; done
done
cat > "$V/nginx/conf.d/bench.conf" <<CONF
server {
    listen 127.0.0.1:$BPORT;
    access_log off;
    location = /return { return 200 '{"ok":true}'; }
    location ~ ^/(minimal|redis|select|insert)\$ {
        include fastcgi.mtcert;
        fastcgi_pass unix:$V/run/fcgi/bench-\$1.sock;
    }
}
CONF
kill -HUP "$(cat "$V/run/nginx.pid")"
sleep 1
for u in /return /minimal /redis /select /insert; do
	curl -sf "http://127.0.0.1:$BPORT$u" >/dev/null || { echo "bench: $u not answering"; exit 1; }
done
curl -sf "http://127.0.0.1:$MTCERT_PORT/api/v1/diseases/D001" >/dev/null

declare -A RPS P50 P99
to_ms() { # wrk latency like 1.23ms / 456.00us / 1.02s
	awk -v v="$1" 'BEGIN { if (v ~ /us$/) print v/1000; else if (v ~ /ms$/) print v+0; else if (v ~ /s$/) print v*1000; else print v }'
}
run() { # name url
	local out
	out=$(wrk -t2 -c"$CONN" -d"${SECS}s" --latency "$2")
	RPS[$1]=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	P50[$1]=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	P99[$1]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	local errs; errs=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
	printf '%-16s %10.0f req/s   p50 %7.2f ms   p99 %7.2f ms  %s\n' "$1" \
		"${RPS[$1]}" "${P50[$1]}" "${P99[$1]}" "$errs"
}
echo "wrk: 2 threads, $CONN connections, ${SECS}s each, through nginx (sharing the $(nproc) cores)"
run return   "http://127.0.0.1:$BPORT/return"
run minimal  "http://127.0.0.1:$BPORT/minimal"
run redis    "http://127.0.0.1:$BPORT/redis"
run select   "http://127.0.0.1:$BPORT/select"
run insert   "http://127.0.0.1:$BPORT/insert"
run catalog  "http://127.0.0.1:$MTCERT_PORT/api/v1/diseases/D001"
run health   "http://127.0.0.1:$MTCERT_PORT/api/v1/health"

ratio() { awk -v a="${RPS[$1]}" -v b="${RPS[$2]}" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "catalog / minimal = $(ratio catalog minimal)   (target >= 0.70)"
echo "catalog p99       = ${P99[catalog]} ms (target < 10 ms at $CONN connections)"
echo "health / select   = $(ratio health select)   (health = 1 SELECT + 1 Redis PING)"
echo "minimal / return  = $(ratio minimal return)"
echo "select / minimal  = $(ratio select minimal)   redis / minimal = $(ratio redis minimal)   insert / minimal = $(ratio insert minimal)"
ok=$(awk -v r="$(ratio catalog minimal)" -v p="${P99[catalog]}" 'BEGIN { print (r >= 0.70 && p < 10) ? "met" : "NOT met" }')
echo "catalog targets: $ok"
