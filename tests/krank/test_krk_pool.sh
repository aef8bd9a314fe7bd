#!/bin/sh
# Build poolprobe with krank-cc and run test_krk_pool on it (the isolate
# memory pool: W^X, zeroed reuse, fallback when full, page faults).
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
"$bld/loader/krank-cc" -O1 -o "$work/poolprobe.kx" \
    "$src/tests/krank/iso/poolprobe.c" ||
	{ echo "FAIL: krank-cc poolprobe.c"; exit 1; }
# The pool's own accounting (a run back at each unload) without the
# objects krank parks by default, then spawns with them (fresh places).
KRANK_ISOLATE_PARK=0 "$bld/tests/krank/${KRK_POOL_TEST:-test_krk_pool}" "$work" || exit 1
unset KRANK_ISOLATE_PARK KRANK_ISOLATE_PARK_PLACE
exec "$bld/tests/krank/${KRK_POOL_TEST:-test_krk_pool}" "$work"
