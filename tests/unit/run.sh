#!/bin/sh
# run.sh -- run the unit test binaries given as arguments (built by the
# Makefile as build/tests/test_*), show their output, and sum the summary
# line each prints last: "N passed, N failed" (tests/unit/unit.h).
#
# Prints one final line "unit: N passed, N failed" and exits 1 when any
# case failed, or any binary crashed, was killed, exited non-zero, or
# printed no summary; such a binary counts as one more failure, so the
# final line never reads "0 failed" when the exit status is 1.
# UBSan is made fatal here (unless UBSAN_OPTIONS is set), so a sanitizer
# build reports undefined behaviour through the exit status too.

if [ $# -eq 0 ]; then
	echo "usage: $0 build/tests/test_* ..." >&2
	echo "unit: 0 passed, 1 failed"
	exit 1
fi

: "${UBSAN_OPTIONS:=halt_on_error=1:print_stacktrace=1}"
export UBSAN_OPTIONS

out=$(mktemp "${TMPDIR:-/tmp}/mtcert-unit-run.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
trap 'exit 1' HUP INT TERM

passed=0
failed=0
for t in "$@"; do
	echo "== $t"
	"$t" >"$out"
	rc=$?
	cat "$out"
	# The summary must be the very last line of stdout.
	last=$(tail -n 1 "$out")
	p=$(printf '%s\n' "$last" |
	    sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\1/p')
	f=$(printf '%s\n' "$last" |
	    sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed$/\2/p')
	if [ -z "$p" ] || [ -z "$f" ]; then
		echo "run.sh: $t: no summary line (exit status $rc)" >&2
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# e.g. a LeakSanitizer report after the summary.
		echo "run.sh: $t: exit status $rc with no failed case" >&2
		failed=$((failed + 1))
	elif [ "$rc" -eq 0 ] && [ "$f" -ne 0 ]; then
		echo "run.sh: $t: exit status 0 with failed cases" >&2
	fi
done

echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
