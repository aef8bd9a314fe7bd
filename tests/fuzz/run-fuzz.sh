#!/bin/sh
# Short libFuzzer run of one target, for make check.
# usage: run-fuzz.sh TARGET SECONDS
# The target is tests/fuzz/TARGET in the build tree; its seed corpus is
# tests/fuzz/corpus/TARGET in the source tree (read-only here: new inputs
# go to a scratch directory that is removed afterwards).  Exit 77 (skip)
# when the fuzzer could not be built (no clang).
set -u
target=$1
secs=${2:-10}
bin="${top_builddir:-.}/tests/fuzz/$target"
seeds="${top_srcdir:-.}/tests/fuzz/corpus/$target"
if [ ! -x "$bin" ]; then
	echo "SKIP: $target was not built (configure found no clang for libFuzzer)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fuzzing $target for ${secs}s from $(ls "$seeds" 2>/dev/null | wc -l) seeds"
"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
	-print_final_stats=1 "$work" "$seeds" 2>&1 | tail -25
rc=$?
# POSIX sh has no PIPESTATUS: re-check for crash artefacts instead.
if ls crash-* leak-* timeout-* oom-* >/dev/null 2>&1; then
	echo "FAIL: $target found a crash, leak or hang:"; ls crash-* leak-* timeout-* oom-* 2>/dev/null
	exit 1
fi
exit $rc
