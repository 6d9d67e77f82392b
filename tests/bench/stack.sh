# tests/bench/stack.sh -- sourced by the benchmark scripts: one throwaway
# stack of their own under /tmp, with its own ports, stopped and removed
# when the script exits however it exits.
#   bench_stack NAME PORT PG_PORT   (BENCH_PORT / BENCH_PG_PORT override)
# Sets MTCERT_VAR, MTCERT_PORT, MTCERT_PG_PORT, V (= MTCERT_VAR) and PGC
# (a libpq connection string).  BENCH_PIDS: processes the script started
# besides the stack, killed at exit too.
BENCH_PIDS=()
# target WHAT VALUE OP LIMIT [NOTE]: one target's line, PASS or NOT MET
# (OP ">=" or "<"; VALUE "-" when it was not measured: SKIPPED), also
# appended to $BENCH_SUMMARY when set (`make bench` prints every target
# again at its end).
target() {
	local line verdict
	verdict=$(awk -v v="$2" -v op="$3" -v l="$4" 'BEGIN {
		if (v == "-") { print "SKIPPED"; exit }
		ok = (op == ">=") ? (v + 0 >= l + 0) : (v + 0 < l + 0)
		print ok ? "PASS" : "NOT MET" }')
	line=$(printf '%-9s %-34s %10s  (target %s %s)  %s' "$verdict" "$1" "$2" \
		"$3" "$4" "${5:-}")
	echo "$line"
	if [ -n "${BENCH_SUMMARY:-}" ]; then echo "$line" >>"$BENCH_SUMMARY"; fi
}
bench_cleanup() {
	local p
	for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	shared/stack.sh stop >/dev/null 2>&1 || true
	rm -rf "$MTCERT_VAR"
}
bench_stack() {
	export MTCERT_VAR MTCERT_PORT=${BENCH_PORT:-$2} MTCERT_PG_PORT=${BENCH_PG_PORT:-$3}
	MTCERT_VAR=$(mktemp -d "/tmp/mtcert-$1.XXXXXX")
	chmod 711 "$MTCERT_VAR"
	trap bench_cleanup EXIT
	shared/stack.sh start >/dev/null
	V=$MTCERT_VAR
	PGC="host=$V/run/pg port=$MTCERT_PG_PORT dbname=mtcert user=mtcert"
}
