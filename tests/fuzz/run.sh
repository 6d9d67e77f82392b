#!/usr/bin/env bash
# tests/fuzz/run.sh -- `make fuzz`: build each libFuzzer harness with clang
# and run it for FUZZ_SECONDS (default 20) from the seed corpus.  Bounded
# in time; fails on any crash or sanitizer report.  Harnesses link the
# pure parsers only (PURE below), never the request layer.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SECS=${FUZZ_SECONDS:-20}
OUT=build/fuzz
PURE="shared/mt_valid.c shared/mt_parse.c shared/mt_multipart.c shared/mt_settle.c"
# The settlement parser reads JSON lines with json-c.
JSONC_CFLAGS=$(pkg-config --cflags json-c)
JSONC_LIBS=$(pkg-config --libs json-c)
# The e-card harness adds the token code and the libraries it signs and
# parses with.
CARD="shared/mt_card.c shared/mt_util.c $(pkg-config --cflags --libs libsodium)"
mkdir -p "$OUT"
for h in tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	extra=
	[ "$name" = fuzz_card ] && extra=$CARD
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -D_GNU_SOURCE -Ishared \
		$JSONC_CFLAGS -o "$OUT/$name" "$h" $PURE $extra $JSONC_LIBS
	work=$(mktemp -d)
	cp tests/fuzz/corpus/* "$work/" 2>/dev/null || true
	echo "fuzz: $name for ${SECS}s"
	"$OUT/$name" -max_total_time="$SECS" -max_len=512 \
		-artifact_prefix="$OUT/$name-" "$work" 2>"$OUT/$name.log" ||
		{ tail -40 "$OUT/$name.log"; rm -rf "$work"; exit 1; }
	grep -E '^(Done|#[0-9]+.*DONE)' "$OUT/$name.log" | tail -1
	rm -rf "$work"
done
