#!/bin/sh
# test_krk_sys.sh - an ordinary POSIX program (tests/krank/iso_posix.c)
# built by krank-cc from the build tree (krank-cc-uninstalled, no
# environment variables) into an isolate, run over KRANK's syscall layer
# by krk_sys_run, must print exactly what the same source built by gcc
# prints on Linux (run in a private network namespace for its loopback).
# Also: the isolate verifies with krank-ld, and a call KRANK lacks is a
# link error.
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

if ! unshare -rn true 2>/dev/null; then
	echo "SKIP: cannot create a network namespace (unshare -rn) for the Linux run"
	exit 77
fi

env -u KRANK_ISOLATE_INCLUDE -u KRANK_ISOLATE_LIBDIR \
    "$bld/loader/krank-cc-uninstalled" -O2 -Wall -Wextra -Werror \
    -o "$work/iso_posix.kx" "$src/tests/krank/iso_posix.c" || {
	echo "FAIL: krank-cc-uninstalled could not build iso_posix.c"
	exit 1
}
echo "ok - krank-cc-uninstalled builds iso_posix.c without environment variables"

if "$bld/loader/krank-ld" verify "$work/iso_posix.kx" >"$work/verify" 2>&1; then
	echo "ok - krank-ld verify accepts the isolate"
else
	echo "FAIL: krank-ld verify:"; cat "$work/verify"; fail=1
fi

cat >"$work/bad.c" <<'XEOF'
#include <stdio.h>
void *fopen(const char *, const char *);
int main(void) { return fopen("x", "r") != 0; }
XEOF
if "$bld/loader/krank-cc-uninstalled" -o "$work/bad.kx" "$work/bad.c" \
    >"$work/bad.log" 2>&1; then
	echo "FAIL: a call to fopen (not provided) linked"; fail=1
elif grep -q "undefined reference to .fopen" "$work/bad.log"; then
	echo "ok - a call KRANK does not provide (fopen) is a link error"
else
	echo "FAIL: unexpected krank-cc error:"; cat "$work/bad.log"; fail=1
fi

# The isolate run: tmpfs on /, loopback 127.0.0.1 inside KRANK's stack.
"$bld/tests/krank/krk_sys_run" "$work/iso_posix.kx" / \
    >"$work/krank.out" 2>"$work/krank.err"
rk=$?
cat "$work/krank.err"
# The Linux run: the same program, in a temporary directory, in a
# network namespace of its own with only lo up.
mkdir "$work/dir"
KRK_TEST=isolate unshare -rn sh -c 'ip link set lo up && exec "$0" "$1"' \
    "$bld/tests/krank/iso_posix_linux" "$work/dir" >"$work/linux.out" 2>&1
rl=$?
n=$(grep -c '^ok - ' "$work/krank.out")
echo "isolate: exit $rk, $n checks passed; Linux: exit $rl"
if [ $rk -ne 0 ] || [ $rl -ne 0 ]; then
	echo "FAIL: a run failed"; grep FAIL "$work/krank.out" "$work/linux.out"
	fail=1
fi
if diff -u "$work/linux.out" "$work/krank.out"; then
	echo "ok - the isolate printed the same $(wc -l <"$work/krank.out") lines as Linux"
else
	echo "FAIL: the isolate's output differs from Linux's (diff above)"
	fail=1
fi
[ "$n" -ge 100 ] || { echo "FAIL: only $n checks ran"; fail=1; }
exit $fail
