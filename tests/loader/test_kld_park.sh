#!/bin/sh
# Parked objects (kld_set_park): builds a program with data, bss and a
# constructor with krank-cc and runs test_kld_park on it.
set -u
src=${top_srcdir:-.}
bld=${top_builddir:-.}
export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
command -v gcc >/dev/null 2>&1 || { echo "SKIP: no gcc to build the program"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/park.c" <<'C'
static int counter = 5;
static int zeroed;
static int inits;
__attribute__((constructor)) static void ini(void) { inits++; }
int main(void) { counter++; zeroed += 7; return counter * 100 + zeroed * 10 + inits; }
C
if ! "$bld/loader/krank-cc" -O1 -o "$work/park.kx" "$work/park.c" \
		>"$work/cc.out" 2>&1; then
	echo "FAIL: krank-cc failed:"; cat "$work/cc.out"; exit 1
fi
exec "$bld/tests/loader/${KLD_PARK_PROG:-test_kld_park}" "$work/park.kx"
