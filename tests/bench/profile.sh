#!/usr/bin/env bash
# tests/bench/profile.sh -- the PL/pgSQL profile of POST .../submit (issue
# 13): run.sh's insert baseline, the submit floor and the submit run
# only, with BENCH_PROFILE set (see run.sh: track_functions,
# pg_stat_user_functions per submit, the dispatcher's pushes of those
# submits included).  BENCH_PROFILE=all
# counts the SQL functions that are not inlined too.
exec env BENCH_PROFILE="${BENCH_PROFILE:-1}" \
	BENCH_ONLY="${BENCH_ONLY:-insert floor submit}" "$(dirname "$0")/run.sh"
