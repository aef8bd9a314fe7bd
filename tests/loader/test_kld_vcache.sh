#!/bin/sh
# The verdict cache: builds a program with krank-cc and runs
# test_kld_vcache on it (SHA-256 vectors, hits, every kind of bad entry,
# changed code verified again, an inserted syscall still refused).
set -u
src=${top_srcdir:-.}
bld=${top_builddir:-.}
export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
command -v gcc >/dev/null 2>&1 || { echo "SKIP: no gcc to build the program"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! "$bld/loader/krank-cc" -O2 -o "$work/hello.kx" \
		"$src/tests/loader/corpus/ok_features.c" >"$work/cc.out" 2>&1; then
	echo "FAIL: krank-cc failed:"; cat "$work/cc.out"; exit 1
fi
exec "$bld/tests/loader/${KLD_VCACHE_PROG:-test_kld_vcache}" "$work/hello.kx"
