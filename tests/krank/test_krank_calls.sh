#!/bin/sh
# Build two isolates with krank-cc and run test_krank_calls, which also
# spawns, waits for and kills them through libkrank.
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
for p in exitcode spin; do
	"$bld/loader/krank-cc" -O1 -o "$work/$p.kx" "$src/tests/krank/iso/$p.c" ||
		{ echo "FAIL: krank-cc $p.c"; exit 1; }
done
exec "$bld/tests/krank/test_krank_calls" "$work"
