#!/bin/sh
# Build the test isolates with krank-cc and run test_krk_isolate on them.
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
for p in exitcode crash spin stackov heapfill; do
	"$bld/loader/krank-cc" -O1 -o "$work/$p.kx" "$src/tests/krank/iso/$p.c" ||
		{ echo "FAIL: krank-cc $p.c"; exit 1; }
done
exec "$bld/tests/krank/test_krk_isolate" "$work"
