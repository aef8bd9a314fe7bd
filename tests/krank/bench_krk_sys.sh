#!/bin/sh
# bench_krk_sys.sh - system-call cost from an isolate (direct call into
# krank's shims, tmpfs) beside the same program on Linux (its temporary
# directory).  Not in make check:  sh tests/krank/bench_krk_sys.sh
set -eu
bld=${top_builddir:-.}
src=${top_srcdir:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
${CC:-gcc} -O2 -o "$work/linux" "$src/tests/krank/iso_bench.c"
"$bld/loader/krank-cc-uninstalled" -O2 -o "$work/iso.kx" \
    "$src/tests/krank/iso_bench.c"
echo "Linux:   $("$work/linux" "$work")"
echo "isolate: $("$bld/tests/krank/krk_sys_run" "$work/iso.kx" / 2>/dev/null)"
