#!/usr/bin/env bash
# tests/bench/run.sh -- `make bench`: wrk through nginx against the catalog
# module and, in the same run, the baselines:
#   return   nginx answering `return 200` itself
#   minimal  nginx -> a minimal libfcgi responder (2 workers)
#   redis    the same doing one Redis GET (4 workers)
#   select   the same doing one PostgreSQL primary-key SELECT (4 workers)
#   insert   the same doing one durable INSERT (32 workers: durable commits
#            want many workers to share fsyncs)
#   floor    the same writing the rows a submit writes (application,
#            SMS, event, view) in one plain statement (issue 13; below)
# Every responder closes like mtcert-host (FCGX_Detach after the body).
# Prints requests/s, p50 and p99 at the stated concurrency, and ratios.
#   verify   GET /cards/verify of a genuine card (Ed25519 check + one
#            record read), beside the catalog reads in the same run
#   publicity  GET /hospital/publicity (issue 11: the public notice list,
#            no session), against the select baseline
#   catalog  GET /diseases/D001 as the API serves it: from nginx's cache
#            (issue 13), against minimal; catalog_module the same read
#            from the module itself (the cache bypassed)
#   progress GET /applications/{id} signed in, against select
#   download GET /materials/{id} of a 10 MB PDF (issue 15: decrypted by
#            the apply worker, streamed in 64 KiB chunks), against
#            x-accel: the same plain file as it was served before issue
#            15 (a minimal responder's X-Accel-Redirect, nginx sendfile),
#            both through nginx at BENCH_DOWNLOAD_CONN (8) connections
#   *_ka     (BENCH_KEEPALIVE=1, the default) catalog_module and progress
#            with `fastcgi_keep_conn on` and upstream `keepalive
#            BENCH_KEEPALIVE_CONN` (1) per nginx worker, beside the same
#            reads without, in the same run (nginx/mtcert.conf.in says
#            which was chosen and why)
# Targets: catalog read >= 2x minimal, catalog p99 < 10 ms at 64;
# progress >= 0.80 of select.
# Runs on its own throwaway stack; stops everything it started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
# BENCH_QUICK=1 (development): 3 s runs, 10,000 drafts, no keepalive pair.
# A read runs 6 s (BENCH_SECONDS; 10 s before issue 14, shortened for the
# 15 minutes of `make bench`): what moves a figure on a shared machine is
# the load from one run to the next, which a longer run does not remove
# (the catalog's p99 takes turns with its floor instead, and so do
# progress with select and download with x-accel: alternate).  The reads
# printed for information only -- no target, no baseline of one -- run
# 3 s (BENCH_INFO_SECONDS, never more than BENCH_SECONDS; issue 13 item
# 7: `make bench` took 15.0 minutes on a machine whose insert baseline was
# 3,729 req/s): the slowest of them, publicity, at the ~320 req/s of a
# loaded run is ~960 requests, its p99 the 10th slowest.  6 s stay for
# the baselines (minimal, insert), the submit floor (floor / insert: what
# a submit's writes alone cost) and the logged read's pair (its ratio has
# a target, issue 15).
QUICK=${BENCH_QUICK:+1}
SECS=${BENCH_SECONDS:-${QUICK:+3}}; SECS=${SECS:-6}
INFO_SECS=${BENCH_INFO_SECONDS:-$((SECS < 3 ? SECS : 3))}
INFO_RUNS=" redis catalog_module health diseases verify catalog_ka progress_ka publicity "
CONN=${BENCH_CONNECTIONS:-64}
. tests/bench/stack.sh
# apply with 8 workers: submissions are CPU-bound in PostgreSQL (rules
# and the progress view), so more workers than that only queue on the 2
# cores (measured: 32 workers 949/s p99 343 ms, 8 workers 1404/s p99 78 ms,
# 4 workers 1347/s).
export MTCERT_MODULES="catalog:4 auth:2 agency:1 apply:${BENCH_APPLY_WORKERS:-8} benefit:1 hospital:2"
bench_stack bench 28080 25433
BPORT=$((MTCERT_PORT + 1))
psql "$PGC" -qc "CREATE TABLE IF NOT EXISTS bench_inserts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)"
redis-cli -s "$V/run/redis/redis.sock" set bench:key hello >/dev/null

start_responder() { # name mode workers [statement of mode sql]
	build/bench/bench-responder --socket "$V/run/fcgi/bench-$1.sock" \
		--mode "$2" --workers "$3" --pg "$PGC" --sql "${4:-}" \
		--redis "$V/run/redis/redis.sock" >>"$V/log/bench.log" 2>&1 &
	BENCH_PIDS+=($!)
}
start_responder minimal minimal 2
start_responder redis redis 4
start_responder select select 4
SELECT_PID=$!	# its CPU per request beside progress's (cpu_run)
start_responder insert insert 32
# The download's baseline: X-Accel-Redirect to the plain copy (below).
build/bench/bench-responder --socket "$V/run/fcgi/bench-xaccel.sock" \
	--mode xaccel --workers 2 --sql /_bench_files/ten.pdf \
	>>"$V/log/bench.log" 2>&1 &
BENCH_PIDS+=($!)
for n in minimal redis select insert xaccel; do
	for _ in $(seq 100); do [ -S "$V/run/fcgi/bench-$n.sock" ] && break; sleep 0.05; done
done
KPORT=$((MTCERT_PORT + 2))
KA=${BENCH_KEEPALIVE_CONN:-1}
cat > "$V/nginx/conf.d/bench.conf" <<CONF
# The baselines run under the same per-request nginx work as the API
# (security headers, access log), so the ratios compare the modules, not
# two nginx configurations.
server {
    listen 127.0.0.1:$BPORT;
    include security-headers.conf;
    access_log $V/log/nginx-access.log mtcert buffer=32k flush=1s;
    location = /return { return 200 '{"ok":true}'; }
    # The card check as the API serves it, minus its per-address rate
    # limit (wrk comes from one address).
    location = /api/v1/cards/verify {
        include fastcgi.mtcert;
        fastcgi_pass unix:$V/run/fcgi/catalog.sock;
    }
    location ~ ^/(minimal|redis|select|insert|floor|xaccel)\$ {
        include fastcgi.mtcert;
        fastcgi_pass unix:$V/run/fcgi/bench-\$1.sock;
    }
    # Files as before issue 15 (the download's baseline): internal, the
    # plain file sent by nginx itself, the file headers of then.
    location /_bench_files/ {
        internal;
        alias $V/bench-files/;
        include file-headers.conf;
    }
    # The catalog module itself, without nginx's cache.
    location /api/v1/diseases/ {
        include fastcgi.mtcert;
        fastcgi_pass unix:$V/run/fcgi/catalog.sock;
    }
}
# The same module reads over kept-alive FastCGI connections: $KA idle
# connection(s) per nginx worker, each holding one module worker.
upstream ka_catalog { server unix:$V/run/fcgi/catalog.sock; keepalive $KA; }
upstream ka_apply   { server unix:$V/run/fcgi/apply.sock; keepalive $KA; }
server {
    listen 127.0.0.1:$KPORT;
    include security-headers.conf;
    access_log $V/log/nginx-access.log mtcert buffer=32k flush=1s;
    fastcgi_keep_conn on;
    location /api/v1/diseases/ {
        include fastcgi.mtcert;
        fastcgi_pass ka_catalog;
    }
    location /api/v1/applications/ {
        include fastcgi.mtcert;
        fastcgi_pass ka_apply;
    }
}
CONF
kill -HUP "$(cat "$V/run/nginx.pid")"
sleep 1
for u in /return /minimal /redis /select /insert; do
	curl -sf "http://127.0.0.1:$BPORT$u" >/dev/null || { echo "bench: $u not answering"; exit 1; }
done
curl -sf "http://127.0.0.1:$MTCERT_PORT/api/v1/diseases/D001" >/dev/null

# --- issue 3: a signed-in applicant and fresh drafts to submit -------------
API="http://127.0.0.1:$MTCERT_PORT/api/v1"
build/bin/mtcertctl --config "$V/mtcert.conf" person add --id-number 411200195803120139 \
	--name 张建国 --phone 13800000001 --region 411200 --insurance employee >/dev/null
curl -sf -XPOST "$API/auth/sms-code" -H 'Content-Type: application/json' \
	-d '{"phone":"13800000001"}' >/dev/null
for _ in $(seq 100); do grep -q 13800000001 "$V/sms.log" && break; sleep 0.1; done
CODE=$(grep 13800000001 "$V/sms.log" | tail -1 | grep -o '验证码为[0-9]*' | grep -o '[0-9]*')
INSURED=$(curl -sf -XPOST "$API/auth/login" -H 'Content-Type: application/json' \
	-d "{\"phone\":\"13800000001\",\"code\":\"$CODE\",\"id_number\":\"411200195803120139\",\"name\":\"张建国\"}" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
APP=$(curl -sf -XPOST "$API/applications" -H "Authorization: Bearer $INSURED" \
	-H 'Content-Type: application/json' \
	-d '{"disease_code":"D013","phone":"13800000001","medical_record_no":"B1","designated_institution":"H41120000001"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
build/bin/mtcertctl --config "$V/mtcert.conf" user add --role hospital \
	--login bench-hospital --password bench-password-1 --institution H41120000001 >/dev/null
HOSP=$(curl -sf -XPOST "$API/auth/password-login" -H 'Content-Type: application/json' \
	-d '{"login":"bench-hospital","password":"bench-password-1"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# Issue 15: an agency reader, whose GET /applications/{id} is logged.
build/bin/mtcertctl --config "$V/mtcert.conf" user add --role agency \
	--login bench-agency --password bench-password-1 --region 411200 >/dev/null
AGENCY=$(curl -sf -XPOST "$API/auth/password-login" -H 'Content-Type: application/json' \
	-d '{"login":"bench-agency","password":"bench-password-1"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# --- issue 10: the card of a qualification of that applicant -------------
# --- issue 15: a 10 MB PDF uploaded (stored encrypted) and its plain copy
# for the X-Accel-Redirect baseline -----------------------------------------
mkdir -p "$V/bench-files"
python3 -c 'import sys; body = b"%PDF-1.4\n" + bytes(range(256)) * 39060; sys.stdout.buffer.write(body + b"\nstartxref\n9\n%%EOF\n")' >"$V/bench-files/ten.pdf"
chmod 755 "$V/bench-files"; chmod 644 "$V/bench-files/ten.pdf"
MID=$(curl -sf -XPOST "$API/applications/$APP/materials" -H "Authorization: Bearer $INSURED" \
	-F "file=@$V/bench-files/ten.pdf;type=application/pdf" -F kind=inpatient_record \
	-F "issued_on=$(date -d '-10 days' +%F)" -F issuer=测试医院 |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cmp <(curl -sf "$API/materials/$MID" -H "Authorization: Bearer $INSURED") "$V/bench-files/ten.pdf" ||
	{ echo "bench: the 10 MB download is not the file uploaded"; exit 1; }
cmp <(curl -sf "http://127.0.0.1:$BPORT/xaccel") "$V/bench-files/ten.pdf" ||
	{ echo "bench: the X-Accel-Redirect baseline is not the file"; exit 1; }
QID=$(psql "$PGC" -qAt -c "INSERT INTO qualifications (person_id, disease, region, designated_institution, valid_from, valid_to) SELECT id, 'D013', '411200', 'H41120000001', cn_today(), cn_today() + 729 FROM persons WHERE id_number_hmac = '$(build/bin/mtcertctl --config "$V/mtcert.conf" identity hmac id_number 411200195803120139)' RETURNING id")
TOKEN=$(curl -sf "$API/qualifications/$QID/card" -H "Authorization: Bearer $INSURED" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -sf "http://127.0.0.1:$BPORT/api/v1/cards/verify?token=$TOKEN" | grep -q '"valid":true' ||
	{ echo "bench: card verify not valid"; exit 1; }
# Complete drafts filed by that hospital (40 diseases a person).
NDRAFT=${BENCH_DRAFTS:-${QUICK:+10000}}; NDRAFT=${NDRAFT:-60000}
psql "$PGC" -q <<SQL
INSERT INTO persons (id_number, name, sex, birth_date, phone, insurance, region)
SELECT '4112001960' || lpad(g::text, 8, '0'), '压测', 'M', '1960-01-01',
       '139' || lpad(g::text, 8, '0'), 'resident', '411200'
FROM generate_series(1, ($NDRAFT / 40) + 1) g;
WITH p AS (SELECT id FROM persons WHERE name = '压测'),
     d AS (SELECT code FROM diseases ORDER BY sort_order OFFSET 5 LIMIT 40),
     a AS (INSERT INTO applications (person_id, disease, region, channel,
             review_mode, phone, medical_record_no, designated_institution,
             filing_institution, filed_by)
           SELECT p.id, d.code, '411200', 'hospital', 'double', '13900000000',
                  'B', 'H41120000001', 'H41120000001',
                  (SELECT id FROM users WHERE login = 'bench-hospital')
           -- Disease-major: consecutive drafts belong to different
           -- persons, as real traffic does (one person's submissions
           -- queue on that person's row lock).
           FROM d CROSS JOIN p ORDER BY d.code, p.id LIMIT $NDRAFT
           RETURNING id, disease)
INSERT INTO materials (application_id, kind, issued_on, issuer, sha256,
                       size_bytes, media_type, uploaded_by)
SELECT a.id, dm.kind, cn_today() - 10, '压测医院', repeat('a', 64), 100,
       'image/png', (SELECT id FROM users WHERE login = 'bench-hospital')
FROM a JOIN disease_materials dm ON dm.disease = a.disease AND dm.required;
-- Experts of every specialty of those diseases in the region, at
-- another hospital than the designated one: each submit's push finds
-- one, as in service.  (Without them every push found nobody, wrote an
-- 'unassigned' event, and the dispatcher's 10 s retry pushed the waiting
-- again: push_assignment ran 1.5-2.6 times per submit, issue 13, and
-- the profile waited for pushes that could never come.)
WITH s AS (SELECT specialty, row_number() OVER (ORDER BY specialty) n
           FROM (SELECT DISTINCT specialty FROM diseases) x),
     u AS (INSERT INTO users (login, role, password_hash, institution, region)
           SELECT 'bench-ex-' || s.n || '-' || g, 'expert', 'x',
                  'H41120000002', '411200'
           FROM s CROSS JOIN generate_series(1, 5) g RETURNING id, login),
     e AS (INSERT INTO experts (user_id, title, phone)
           SELECT id, '副高', '13700000000' FROM u RETURNING user_id)
INSERT INTO expert_specialties (expert_id, specialty)
SELECT u.id, s.specialty FROM u JOIN s ON u.login LIKE 'bench-ex-' || s.n || '-%'
    AND u.id IN (SELECT user_id FROM e);
ANALYZE persons, applications, materials, experts, expert_specialties;
SQL
FIRST=$(psql "$PGC" -qAt -c "SELECT min(id) FROM applications WHERE filing_institution = 'H41120000001' AND status = 'draft'")
# Their stored progress views, as in service (a draft's events -- filed,
# each material added -- build its view): submit patches the view it
# finds (issue 13, third round).  Built for the first BENCH_VIEWS (5,000)
# drafts of each wrk thread's slice (submit.lua below), more than a run
# reaches (a draft without one is built whole at submit, as before): a
# build took 0.85 ms on 2 loaded cores, so all 60,000 would add most of
# a minute to `make bench`, 10,000 add about 9 s.
NVIEW=${BENCH_VIEWS:-5000}
psql "$PGC" -q <<SQL
INSERT INTO application_views (application_id, view, built_xid)
SELECT a.id, application_view(a.id), pg_current_xact_id()
FROM applications a
WHERE a.id >= $FIRST AND (a.id - $FIRST) % ($NDRAFT / 2) < $NVIEW
  AND a.filing_institution = 'H41120000001' AND a.status = 'draft';
SQL
# --- issue 13: the submit floor -------------------------------------------
# The rows a submit writes -- the application's change, the SMS, the
# event, the stored progress view -- written by one plain statement in
# one durable transaction, through nginx and a responder with apply's
# worker count: copies of the four tables (their columns, CHECKs and
# indexes; no triggers, no rules, nothing computed), each floor request
# the next copied draft.  submit / floor is how close the service comes
# to writing what it must; floor / insert what that writing costs.
psql "$PGC" -q <<SQL
CREATE TABLE bench_applications (LIKE applications INCLUDING ALL);
INSERT INTO bench_applications OVERRIDING SYSTEM VALUE
    SELECT * FROM applications WHERE id >= $FIRST;
CREATE TABLE bench_outbox (LIKE sms_outbox INCLUDING ALL);
CREATE TABLE bench_events (LIKE events INCLUDING ALL);
CREATE TABLE bench_views (LIKE application_views INCLUDING ALL)
    WITH (fillfactor = 50, toast_tuple_target = 8160);
CREATE SEQUENCE bench_floor_ids START $FIRST;
ANALYZE bench_applications;
SQL
FLOOR_SQL="WITH a AS (UPDATE bench_applications SET status = 'submitted',
    promised_at = now(), submitted_at = now(), updated_at = now(),
    expected_decision_date = current_date + 20
    WHERE id = (SELECT nextval('bench_floor_ids'))
    RETURNING id, phone, review_mode),
 s AS (INSERT INTO bench_outbox (to_phone, template, body)
    SELECT phone, 'application_submitted', '【门诊慢特病】您的“糖尿病”认定申请（编号'
        || id || '）已提交，结果将以短信通知。' FROM a),
 e AS (INSERT INTO bench_events (application_id, type, actor_user,
        actor_role, data)
    SELECT id, 'submitted', NULL, 'hospital',
        jsonb_build_object('mode', review_mode) FROM a
    RETURNING id, application_id)
INSERT INTO bench_views (application_id, view, built_xid, built_event)
SELECT e.application_id, v.view, pg_current_xact_id(), e.id
FROM e, application_views v WHERE v.application_id = $APP
ON CONFLICT (application_id) DO UPDATE SET view = EXCLUDED.view"
start_responder floor sql "${BENCH_APPLY_WORKERS:-8}" "$FLOOR_SQL"
for _ in $(seq 100); do [ -S "$V/run/fcgi/bench-floor.sock" ] && break; sleep 0.05; done
# --- issue 11: 50 open public notices (GET /hospital/publicity, public,
# the page anyone may open during a notice), on drafts the submit run
# does not reach (the last ones).
psql "$PGC" -q <<SQL
INSERT INTO publicity (application_id, institution, region, starts_on, ends_on)
SELECT id, 'H41120000001', '411200', cn_today(), cn_today() + 6
FROM applications WHERE filing_institution = 'H41120000001'
ORDER BY id DESC LIMIT 50;
SQL
cat > "$V/submit.lua" <<LUA
-- Each wrk thread submits its own slice of the fresh drafts, once each.
local first, per = $FIRST, math.floor($NDRAFT / 2)
local threads = 0
function setup(thread) thread:set("base", first + threads * per); threads = threads + 1 end
function init(args) n = 0 end
function request()
  local id = base + n
  n = n + 1
  return wrk.format("POST", "/api/v1/applications/" .. id .. "/submit",
    {["Authorization"] = "Bearer $HOSP", ["Content-Type"] = "application/json"},
    '{"promise":true}')
end
LUA

# BENCH_PROFILE=1 (tests/bench/profile.sh): the PL/pgSQL profile of the
# submit run -- track_functions = 'pl' (BENCH_PROFILE=all: SQL functions
# that are not inlined too), the counters reset just before it, and after
# it, once the dispatcher has pushed what was submitted (the push is part
# of what a submit costs), pg_stat_user_functions: calls per submit, self
# and total time per call, share of all self time.
PGSU=(psql -h "$V/run/pg" -p "$MTCERT_PG_PORT" -U postgres -d mtcert -qAt)
# CPU seconds so far (utime + stime) of the stack's PostgreSQL, apply
# workers, dispatcher, nginx and Redis, each with its children: where a
# submit's CPU goes (the function times above are wall-clock times).
# cpu_snapshot [NAME=PID]...: those processes trees too.
cpu_snapshot() {
	python3 - "$V" "$@" <<'PY'
import os, sys
v = sys.argv[1]
def pid(f):
    with open(os.path.join(v, f)) as fh:
        return int(fh.readline())
roots = {"postgres": pid("pg/postmaster.pid"), "apply": pid("pids/apply.pid"),
         "dispatcher": pid("pids/dispatcher.pid"),
         "nginx": pid("run/nginx.pid"), "redis": pid("pids/redis.pid")}
roots.update((a.split("=")[0], int(a.split("=")[1])) for a in sys.argv[2:])
parent, ticks = {}, {}
for d in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open("/proc/%s/stat" % d) as fh:
            f = fh.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError):
        continue
    parent[int(d)] = int(f[1])
    ticks[int(d)] = int(f[11]) + int(f[12])
hz = os.sysconf("SC_CLK_TCK")
for name, root in roots.items():
    total = 0
    for p in ticks:
        q = p
        while q > 1 and q != root:
            q = parent.get(q, 1)
        if q == root:
            total += ticks[p]
            # Each PostgreSQL process too, for profile_report's split.
            if name == "postgres" and p != root:
                print("pg:%d" % p, ticks[p] / hz)
    print(name, total / hz)
PY
}
profile_start() {
	local track=pl
	[ "$BENCH_PROFILE" = all ] && track=all
	"${PGSU[@]}" -c "ALTER SYSTEM SET track_functions = '$track'" \
		-c "SELECT pg_reload_conf()" >/dev/null
	sleep 1
	"${PGSU[@]}" -c "SELECT pg_stat_reset()" >/dev/null
	CPU0=$(cpu_snapshot)
}
profile_report() {
	local i q="SELECT count(*) FROM applications
		WHERE filing_institution = 'H41120000001' AND push_stage IS NOT NULL"
	for i in $(seq 120); do
		[ "$(psql "$PGC" -qAt -c "$q")" = 0 ] && break
		sleep 0.5
	done
	CPU1=$(cpu_snapshot)
	# A backend sends its counters when idle, at most once a second (10 s
	# when the shared entry was busy).
	sleep 11
	echo
	echo "CPU ms per submit (the submit run and its pushes):"
	join <(grep -v '^pg:' <<<"$CPU0" | sort) <(grep -v '^pg:' <<<"$CPU1" | sort) |
		awk -v n="$SUBMITTED" '{ printf "  %-10s %7.2f\n", $1, ($3 - $2) * 1000 / n }'
	# PostgreSQL's split (issue 13, third round): the backends whose last
	# statement was the submit (the apply workers': the submit
	# transactions), the other connections (the dispatcher's: the pushes),
	# and the rest (WAL writer, checkpointer, autovacuum ...).  A process
	# that started or ended during the run is not counted.
	"${PGSU[@]}" -F ' ' -c "SELECT 'pg:' || pid, CASE
		WHEN query LIKE '%submit_application%' THEN 'submit'
		WHEN backend_type = 'client backend' THEN 'other-clients'
		ELSE 'background' END FROM pg_stat_activity" |
		sort >"$V/pg-kinds"
	join <(grep '^pg:' <<<"$CPU0" | sort) <(grep '^pg:' <<<"$CPU1" | sort) |
		join -a 1 - "$V/pg-kinds" |
		awk -v n="$SUBMITTED" '{ k = NF > 3 ? $4 : "background"; t[k] += $3 - $2 }
			END { for (k in t) printf "    postgres %-13s %5.2f\n", k, t[k] * 1000 / n }' |
		sort
	echo
	echo "PL/pgSQL profile of $SUBMITTED submits and their pushes" \
		"(track_functions = $("${PGSU[@]}" -c 'SHOW track_functions')):"
	"${PGSU[@]}" -F $'\t' -P footer=off <<SQL | column -t -s $'\t'
SELECT 'function', 'calls/submit', 'self us/call', 'total us/call',
       'self %', 'self ms/submit'
UNION ALL
(SELECT funcname, round(calls::numeric / $SUBMITTED, 2)::text,
       round((self_time * 1000 / calls)::numeric, 1)::text,
       round((total_time * 1000 / calls)::numeric, 1)::text,
       round((100 * self_time / sum(self_time) OVER ())::numeric, 1)::text,
       round((self_time / $SUBMITTED)::numeric, 3)::text
 FROM pg_stat_user_functions WHERE calls > 0
 ORDER BY self_time DESC LIMIT ${BENCH_PROFILE_TOP:-12})
UNION ALL
SELECT 'all', '', '', '', '100',
       round((sum(self_time) / $SUBMITTED)::numeric, 3)::text
FROM pg_stat_user_functions;
SQL
}

declare -A RPS P50 P99 REQS CPU_US
to_ms() { # wrk latency like 1.23ms / 456.00us / 1.02s
	awk -v v="$1" 'BEGIN { if (v ~ /us$/) print v/1000; else if (v ~ /ms$/) print v+0; else if (v ~ /s$/) print v*1000; else print v }'
}
run() { # name url [wrk options]
	local out name=$1 url=$2 secs=$SECS
	shift 2
	# BENCH_ONLY="select progress" runs just those (for quick iterations).
	if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $name "* ]]; then
		RPS[$name]=1; P50[$name]=0; P99[$name]=0
		return 0
	fi
	[ "$name" = submit ] && secs=$SUBMIT_SECS
	[[ $INFO_RUNS == *" $name "* ]] && secs=$INFO_SECS
	out=$(wrk -t2 -c"$CONN" -d"${secs}s" --latency "$@" "$url")
	set -- "$name"
	RPS[$1]=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	REQS[$1]=$(awk '/ requests in / {print $1}' <<<"$out")
	P50[$1]=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	P99[$1]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	local errs; errs=$(grep -E 'Non-2xx|Socket errors' <<<"$out" || true)
	printf '%-16s %10.0f req/s   p50 %7.2f ms   p99 %7.2f ms  %s\n' "$1" \
		"${RPS[$1]}" "${P50[$1]}" "${P99[$1]}" "$errs"
}
# cpu_run NAME URL [wrk options]: run, and the CPU its requests took into
# CPU_US[NAME]: microseconds per request of each process group (with its
# children; "select" the select baseline's responder).  Issue 13: req/s
# ratios move with the machine's load (progress / select 0.48-0.91 from
# one run to the next); what a request costs each process moves less.
cpu_run() {
	local a b
	if skipped "$1"; then run "$@"; return 0; fi
	a=$(cpu_snapshot select="$SELECT_PID")
	run "$@"
	b=$(cpu_snapshot select="$SELECT_PID")
	CPU_US[$1]=$(join <(sort <<<"$a") <(sort <<<"$b") |
		awk -v n="${REQS[$1]}" '/^pg:/ { next }	# in "postgres" already
			{ us = ($3 - $2) * 1e6 / n; t += us
			if (us >= 1) printf "%s %.0f  ", $1, us }
			END { printf "= %.0f  ", t }')
}
# cpu_ratio A B: B's CPU per request over A's (the total after "= "), a
# req/s ratio as the CPU alone would set it; "-" unless both were run.
cpu_ratio() {
	if [ -z "${CPU_US[$1]:-}" ] || [ -z "${CPU_US[$2]:-}" ]; then echo -; return; fi
	awk -v a="${CPU_US[$1]##*= }" -v b="${CPU_US[$2]##*= }" \
		'BEGIN { printf "%.2f", b / a }'
}
# median V...: the middle value (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# alternate ROUNDS SECS NAME...: each read run ROUNDS times for SECS
# seconds, the reads taking turns, and its figures the median of its
# rounds (CPU_US: its last round's).  A read is its function read_NAME
# (below: run or cpu_run with its URL and options).  For the catalog's
# p99 beside its floor, nginx's own `return 200`: on a shared machine
# the load moves within seconds, a single run of each read met two
# different loads (10 s runs at load 10-12: return's p99 20 ms in one,
# 63 ms in the next), taking turns gives both the same.  The same for
# progress beside select and download beside x-accel (issue 13, sixth
# round: one 6 s run of each printed progress / select 0.96 and 0.79,
# download / x-accel 0.24 to 0.35, in runs of the same code).
alternate() {
	local rounds=$1 i n
	local -A r5 r50 r99
	SECS=$2
	shift 2
	for i in $(seq "$rounds"); do
		for n in "$@"; do
			"read_$n"
			r5[$n]+=" ${RPS[$n]}"; r50[$n]+=" ${P50[$n]}"; r99[$n]+=" ${P99[$n]}"
		done
	done
	for n in "$@"; do
		# shellcheck disable=SC2086
		RPS[$n]=$(median ${r5[$n]}); P50[$n]=$(median ${r50[$n]}); P99[$n]=$(median ${r99[$n]})
		skipped "$n" || [ "$rounds" = 1 ] ||
			printf '%-16s %10.0f req/s   p50 %7.2f ms   p99 %7.2f ms  (median of %d alternated runs)\n' \
			"$n" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}" "$rounds"
	done
	SECS=$RUN_SECS
}
skipped() { [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $1 "* ]]; }
RUN_SECS=$SECS
P99_ROUNDS=${BENCH_P99_ROUNDS:-${QUICK:+1}}; P99_ROUNDS=${P99_ROUNDS:-5}
P99_SECS=${BENCH_P99_SECONDS:-${QUICK:+3}}; P99_SECS=${P99_SECS:-5}
echo "wrk: 2 threads, $CONN connections, ${SECS}s each (the reads for information ${INFO_SECS}s), through nginx (sharing the $(nproc) cores)"
echo "return and catalog: $P99_ROUNDS rounds of ${P99_SECS}s each, taking turns"
DLC=${BENCH_DOWNLOAD_CONN:-8}
read_return()   { run return  "http://127.0.0.1:$BPORT/return"; }
read_catalog()  { run catalog "http://127.0.0.1:$MTCERT_PORT/api/v1/diseases/D001"; }
read_select()   { cpu_run select "http://127.0.0.1:$BPORT/select"; }
read_progress() { cpu_run progress "http://127.0.0.1:$MTCERT_PORT/api/v1/applications/$APP" -H "Authorization: Bearer $INSURED"; }
read_download() { run download "http://127.0.0.1:$MTCERT_PORT/api/v1/materials/$MID" -c "$DLC" -H "Authorization: Bearer $INSURED"; }
read_x-accel()  { run x-accel "http://127.0.0.1:$BPORT/xaccel" -c "$DLC"; }
# The ratios with a target: progress / select and download / x-accel,
# each pair taking turns, ALT_ROUNDS rounds of ALT_SECS (verify, health
# and publicity, one run each, are printed against that select median).
ALT_ROUNDS=${BENCH_ALT_ROUNDS:-${QUICK:+1}}; ALT_ROUNDS=${ALT_ROUNDS:-3}
ALT_SECS=${BENCH_ALT_SECONDS:-3}
alternate "$P99_ROUNDS" "$P99_SECS" return catalog
run minimal  "http://127.0.0.1:$BPORT/minimal"
run redis    "http://127.0.0.1:$BPORT/redis"
run insert   "http://127.0.0.1:$BPORT/insert"
run catalog_module "http://127.0.0.1:$BPORT/api/v1/diseases/D001"
run health   "http://127.0.0.1:$MTCERT_PORT/api/v1/health"
run diseases "http://127.0.0.1:$MTCERT_PORT/api/v1/diseases"
run verify   "http://127.0.0.1:$BPORT/api/v1/cards/verify?token=$TOKEN"
echo "select and progress, download and x-accel: $ALT_ROUNDS rounds of ${ALT_SECS}s each, taking turns"
alternate "$ALT_ROUNDS" "$ALT_SECS" select progress
alternate "$ALT_ROUNDS" "$ALT_SECS" download x-accel
# Issue 15: the logged read (the agency's: one access_log row, linked
# into its region's and day's hash chain under the chain head's lock, to
# the commit), then the same read with the chain's trigger off -- the
# chain's own cost, same run.  All on one chain: the worst case.
cpu_run progress_logged "http://127.0.0.1:$MTCERT_PORT/api/v1/applications/$APP" -H "Authorization: Bearer $AGENCY"
if ! skipped progress_unchained; then
	psql "$PGC" -qc "ALTER TABLE access_log DISABLE TRIGGER access_log_chain"
	cpu_run progress_unchained "http://127.0.0.1:$MTCERT_PORT/api/v1/applications/$APP" -H "Authorization: Bearer $AGENCY"
	psql "$PGC" -qc "ALTER TABLE access_log ENABLE TRIGGER access_log_chain"
fi
if [ "${BENCH_KEEPALIVE:-${QUICK:+0}}" != 0 ]; then
	run catalog_ka  "http://127.0.0.1:$KPORT/api/v1/diseases/D001"
	run progress_ka "http://127.0.0.1:$KPORT/api/v1/applications/$APP" -H "Authorization: Bearer $INSURED"
fi
# --- worker counts (docs/operations.md, "Worker pools") -----------------
# sweep MODULE "N..." NAME URL [wrk options]: MODULE's pool restarted with
# each worker count in turn, NAME read at each (printed as NAME@N), then
# the pool as it was.  catalog: its own read past nginx's cache; apply:
# the signed-in progress read; auth: GET /me, a signed-in read (Redis
# session, one PostgreSQL row) as the staff modules' reads are (agency,
# review, benefit, hospital run the same host and session check).
SWEEP_SECS=${BENCH_SWEEP_SECONDS:-${QUICK:+2}}; SWEEP_SECS=${SWEEP_SECS:-5}
# pool_restart MODULE N [URL curl options]: MODULE's pool with N workers;
# with URL, read it until every new worker has answered (a worker connects
# to PostgreSQL and prepares its statements first: measured from the
# start, a loaded machine's sweep timed 2 s of that, 11 req/s).
pool_restart() {
	local m=$1 n=$2 log=$V/log/$1.log at pid i w p
	shift 2
	MTCERT_MODULES="$m:$n" shared/stack.sh modules-stop >/dev/null
	at=$(stat -c %s "$log")
	MTCERT_MODULES="$m:$n" shared/stack.sh modules-start >/dev/null
	[ $# -gt 0 ] || return 0
	pid=$(cat "$V/pids/$m.pid")
	for i in $(seq 600); do
		curl -s -o /dev/null "$@"
		w=0
		for p in $(pgrep -P "$pid"); do
			tail -c "+$((at + 1))" "$log" | grep -q "$m\[$p\] info rid=" && w=$((w + 1))
		done
		[ "$w" -ge "$n" ] && return 0
		[ "$i" -gt 20 ] && sleep 0.05
	done
	echo "bench: $m's $n workers did not all answer"
}
sweep() {
	local m=$1 counts=$2 name=$3 url=$4 n was
	shift 4
	for n in $counts; do skipped "$name@$n" || break; done
	skipped "$name@$n" && return 0
	was=$(tr ' ' '\n' <<<"$MTCERT_MODULES" | awk -F: -v m="$m" '$1 == m { print $2 }')
	SECS=$SWEEP_SECS
	for n in $counts; do
		skipped "$name@$n" && continue
		pool_restart "$m" "$n" "$url" "$@"
		run "$name@$n" "$url" "$@"
	done
	SECS=$RUN_SECS
	pool_restart "$m" "$was"
}
# "-" unless both were measured.
sratio() { if skipped "$1" || skipped "$2"; then echo -; else ratio "$1" "$2"; fi; }
sweep catalog "2 4 8" catalog_module "http://127.0.0.1:$BPORT/api/v1/diseases/D001"
sweep apply "4 8" progress "http://127.0.0.1:$MTCERT_PORT/api/v1/applications/$APP" -H "Authorization: Bearer $INSURED"
sweep auth "1 2 4" me "http://127.0.0.1:$MTCERT_PORT/api/v1/me" -H "Authorization: Bearer $INSURED"
run publicity "http://127.0.0.1:$MTCERT_PORT/api/v1/hospital/publicity?region=411200&limit=20"
run floor    "http://127.0.0.1:$BPORT/floor"
FLOORED=$(psql "$PGC" -qAt -c "SELECT count(*) FROM bench_views")
SUBMIT_SECS=${BENCH_SUBMIT_SECONDS:-5}
[ -n "${BENCH_PROFILE:-}" ] && profile_start
run submit   "http://127.0.0.1:$MTCERT_PORT/" -s "$V/submit.lua"
SUBMITTED=$(psql "$PGC" -qAt -c "SELECT count(*) FROM applications
	WHERE filing_institution = 'H41120000001' AND submitted_at IS NOT NULL")
[ -n "${BENCH_PROFILE:-}" ] && profile_report

ratio() { awk -v a="${RPS[$1]}" -v b="${RPS[$2]}" 'BEGIN { printf "%.2f", a / b }'; }
# rtarget WHAT A B OP LIMIT: the ratio A / B (same run) against its target;
# "-" when BENCH_ONLY skipped either.
rtarget() {
	local v
	if skipped "$2" || skipped "$3"; then v=-; else v=$(ratio "$2" "$3"); fi
	target "$1" "$v" "$4" "$5" "${RPS[$2]%.*} / ${RPS[$3]%.*} req/s, same run"
}
# p99target WHAT NAME LIMIT FLOOR: NAME's p99 against LIMIT, with FLOOR's
# p99 (same run) beside it.
p99target() {
	local v=${P99[$2]}
	skipped "$2" && v=-
	target "$1" "$v" "<" "$3" "ms at $CONN connections; $4 p99 ${P99[$4]} ms, same run"
}
echo
echo "catalog / minimal = $(ratio catalog minimal)   (target >= 2.0: GET /diseases/D001 from nginx's cache)"
echo "catalog p99       = ${P99[catalog]} ms   return p99 = ${P99[return]} ms   (target < 10 ms at $CONN connections; return: nginx's own \`return 200\`, the floor, same rounds)"
echo "catalog_module / minimal = $(ratio catalog_module minimal)   (the module itself, nginx's cache bypassed)"
echo "verify / catalog  = $(ratio verify catalog)   verify / diseases = $(ratio verify diseases)   verify / select = $(ratio verify select)   (card check: Ed25519 + 1 SELECT)"
echo "health / select   = $(ratio health select)   (health = 1 SELECT + 1 Redis write probe, SET PX)"
echo "minimal / return  = $(ratio minimal return)"
echo "select / minimal  = $(ratio select minimal)   redis / minimal = $(ratio redis minimal)   insert / minimal = $(ratio insert minimal)"
rtarget "catalog / minimal" catalog minimal ">=" 2.0
p99target "catalog p99 (ms)" catalog 10 return
echo
echo "progress / select = $(ratio progress select)   (target >= 0.80: signed-in GET /applications/{id})"
skipped progress || skipped select ||
	echo "  CPU us/request: progress ${CPU_US[progress]}| select ${CPU_US[select]}| by CPU progress / select = $(cpu_ratio progress select)   (same run; each process group with its children; wrk's own not counted)"
echo "download / x-accel = $(ratio download x-accel)   (target >= 0.30: a 10 MB PDF decrypted and streamed by apply vs the plain file by X-Accel-Redirect, $DLC connections; ${RPS[download]%.*} / ${RPS[x-accel]%.*} files/s, p99 ${P99[download]} / ${P99[x-accel]} ms, same run)"
if [ "${BENCH_KEEPALIVE:-${QUICK:+0}}" != 0 ]; then
	echo "catalog_ka / catalog_module = $(ratio catalog_ka catalog_module)   progress_ka / progress = $(ratio progress_ka progress)   (FastCGI keepalive $KA per nginx worker; p99 ${P99[catalog_ka]} / ${P99[catalog_module]} ms and ${P99[progress_ka]} / ${P99[progress]} ms)"
fi
echo "submit / insert   = $(ratio submit insert)   (target >= 0.40: every rule, one durable transaction; $SUBMITTED drafts submitted, apply with ${BENCH_APPLY_WORKERS:-8} workers)"
echo "submit / floor    = $(ratio submit floor)   floor / insert = $(ratio floor insert)   (floor: the rows a submit writes, one plain statement, $FLOORED written, ${BENCH_APPLY_WORKERS:-8} workers)"
echo "publicity / select = $(ratio publicity select)   (public notice list, 20 of 50 open notices, names masked: one page query, no session)"
rtarget "progress / select" progress select ">=" 0.80
# 0.30: a regression guard, not a goal.  The plain file costs nginx a
# sendfile; the sealed one costs the cipher (20-27 ms of a core per 10 MB
# measured by hand) and the copy through the worker, so the ratio falls
# as the machine is less loaded: 0.60 and 0.39 in two runs of issue 15.
rtarget "download / x-accel" download x-accel ">=" 0.30
echo "progress_logged / progress_unchained = $(sratio progress_logged progress_unchained)   progress_logged / progress = $(sratio progress_logged progress)   (target >= 0.50: the agency's logged read hash-chained against the same read with the chain's trigger off, same run; issue 15 measured 0.61 on 2 loaded cores; p99 ${P99[progress_logged]:-} / ${P99[progress_unchained]:-} ms)"
skipped progress_logged || skipped progress_unchained ||
	echo "  CPU us/request: progress_logged ${CPU_US[progress_logged]}| progress_unchained ${CPU_US[progress_unchained]}| by CPU progress_logged / progress_unchained = $(cpu_ratio progress_logged progress_unchained)   (same run)"
# gzip (docs/operations.md, "Compression"): bytes on the wire without
# and with Accept-Encoding: gzip, as nginx/mtcert.conf.in sets it.
gz() { # PATH: "plain -> gzipped bytes (ratio)"
	local a b
	a=$(curl -s -o /dev/null -w '%{size_download}' "$API$1")
	b=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' "$API$1")
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%d -> %d bytes (%.1fx)", a, b, a / b }'
}
echo
echo "gzip: /diseases $(gz /diseases)   /institutions?limit=100 $(gz '/institutions?limit=100')"
echo
echo "worker counts ($CONN connections, ${SWEEP_SECS}s each; docs/operations.md):"
echo "  catalog_module@2 / @4 = $(sratio catalog_module@2 catalog_module@4)   @8 / @4 = $(sratio catalog_module@8 catalog_module@4)   (p99 ${P99[catalog_module@2]:-} / ${P99[catalog_module@4]:-} / ${P99[catalog_module@8]:-} ms)"
echo "  progress@4 / @8       = $(sratio progress@4 progress@8)   (apply; p99 ${P99[progress@4]:-} / ${P99[progress@8]:-} ms)"
echo "  me@1 / @2 = $(sratio me@1 me@2)   me@4 / @2 = $(sratio me@4 me@2)   (auth, GET /me; p99 ${P99[me@1]:-} / ${P99[me@2]:-} / ${P99[me@4]:-} ms)"
rtarget "submit / insert" submit insert ">=" 0.40
