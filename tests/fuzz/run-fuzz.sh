#!/bin/sh
# Short libFuzzer run of one target, for make check.
# usage: run-fuzz.sh TARGET SECONDS
# The target is tests/fuzz/TARGET in the build tree; its seed corpus is
# tests/fuzz/corpus/TARGET in the source tree (read-only here: new inputs
# and any crash, leak, hang or OOM artefact go to a scratch directory,
# removed afterwards, so nothing is left in the build tree).  A finding
# fails the test and is printed (base64) so it can be reproduced from the
# log.  Exit 77 (skip) when the fuzzer was not built (no clang).
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
mkdir "$work/corpus" "$work/artifacts"
echo "fuzzing $target for ${secs}s from $(ls "$seeds" 2>/dev/null | wc -l) seeds"
# A unit may take 30 s before it counts as a hang: machines running the
# suite in parallel are slow, and a real hang runs on forever anyway.
# A target may have a libFuzzer dictionary beside it (tests/fuzz/TARGET.dict).
dict="${top_srcdir:-.}/tests/fuzz/$target.dict"
[ -f "$dict" ] && set -- -dict="$dict" || set --
"$bin" "$@" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=30 \
	-artifact_prefix="$work/artifacts/" -print_final_stats=1 \
	"$work/corpus" "$seeds" >"$work/out" 2>&1
rc=$?
tail -25 "$work/out"
found=$(ls "$work/artifacts")
if [ -n "$found" ]; then
	echo "FAIL: $target found: $found"
	for f in "$work/artifacts"/*; do
		echo "--- $(basename "$f") (base64; reproduce: base64 -d > x && $bin x)"
		base64 "$f" | head -200
	done
	exit 1
fi
if [ $rc -ne 0 ]; then
	echo "FAIL: $target exited $rc"
	exit 1
fi
exit 0
