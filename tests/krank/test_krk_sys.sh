#!/bin/sh
# test_krk_sys.sh - an ordinary POSIX program (tests/krank/iso_posix.c)
# built by krank-cc from the build tree (krank-cc-uninstalled, no
# environment variables) into an isolate, run as a real isolate over
# KRANK's syscall layer by krk_sys_run, must print exactly what the same
# source built by gcc prints on Linux (run in a private network namespace for its loopback).
# Also: the isolate verifies with krank-ld, a call KRANK lacks is a link
# error, and a thread blocked in a system call is given up soon after a
# kill.
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

# Every isolate header stands alone (twice included, strict C11).
nh=0
for h in $(cd "$src/loader/isolate/include" && find . -name '*.h' | sed 's|^\./||' | sort); do
	printf '#include <%s>\n#include <%s>\nint krank_unit;\n' "$h" "$h" \
	    >"$work/h.c"
	if "$bld/loader/krank-cc-uninstalled" -std=c11 -Wall -Wextra -Werror \
	    -pedantic -c -o "$work/h.o" "$work/h.c" >"$work/h.log" 2>&1; then
		nh=$((nh + 1))
	else
		echo "FAIL: <$h> does not compile on its own:"; cat "$work/h.log"
		fail=1
	fi
done
echo "ok - $nh isolate headers compile on their own (-std=c11 -pedantic)"

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

# The isolate run: a real isolate (krk_isolate_spawn: its own context,
# heap arena and thread) with tmpfs on / and loopback 127.0.0.1 inside
# KRANK's stack.  It prints into /iso_posix.out (-o: dup2 onto its
# descriptor 1), which krk_sys_run copies out of KRANK's tmpfs after the
# isolate ended: byte for byte, where the console log keeps only
# non-empty lines of up to 512 bytes.
"$bld/tests/krank/krk_sys_run" --cat /iso_posix.out "$work/iso_posix.kx" \
    -o /iso_posix.out / >"$work/krank.out" 2>"$work/krank.err"
rk=$?
cat "$work/krank.err"
# The Linux run: the same program, in a temporary directory, in a
# network namespace of its own with only lo up.
mkdir "$work/dir"
# shellcheck disable=SC2016
KRK_TEST=isolate unshare -rn sh -c 'ip link set lo up && exec "$0" "$@"' \
    "$bld/tests/krank/iso_posix_linux" -o "$work/linux.out" "$work/dir" \
    >"$work/linux.err" 2>&1
rl=$?
cat "$work/linux.err"
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

# Its console as KRANK's consumer sees it: without -o the usage line goes
# to descriptor 1, which is KRANK's log ("iso_posix: usage: ..."); read
# back from the log ring it must be what Linux prints, with the status.
"$bld/tests/krank/krk_sys_run" "$work/iso_posix.kx" >"$work/kuse.out" \
    2>"$work/kuse.err"
rk=$?
"$bld/tests/krank/iso_posix_linux" >"$work/luse.out" 2>&1
rl=$?
if [ $rk = 2 ] && [ $rl = 2 ] && [ -s "$work/luse.out" ] &&
    cmp -s "$work/luse.out" "$work/kuse.out"; then
	echo "ok - through KRANK's console (log ring) the isolate prints Linux's usage line and exits 2"
else
	echo "FAIL: console run: exit $rk (Linux $rl):"; cat "$work/kuse.err"
	diff -u "$work/luse.out" "$work/kuse.out"; fail=1
fi

# The console keeps lines as they were written: an empty line, a line
# written in pieces, and descriptor 2 (its log lines say "(stderr)").
cat >"$work/con.c" <<'XEOF'
#include <stdio.h>
#include <unistd.h>
int main(void) {
	printf("first\n\nthi"); fflush(stdout); printf("rd\n");
	fputs("to stderr\n", stderr);
	return write(1, "\n", 1) == 1 ? 0 : 1;
}
XEOF
printf 'first\n\nthird\nto stderr\n\n' >"$work/con.want"
if "$bld/loader/krank-cc-uninstalled" -o "$work/con.kx" "$work/con.c" &&
    "$bld/tests/krank/krk_sys_run" "$work/con.kx" >"$work/con.out" \
    2>"$work/con.err" && cmp -s "$work/con.want" "$work/con.out"; then
	echo "ok - the console log keeps empty lines, joins pieces, takes descriptor 2"
else
	echo "FAIL: console lines:"; cat "$work/con.err"
	diff -u "$work/con.want" "$work/con.out"; fail=1
fi

# Again with KRANK's code (isolate runtime, heap arenas, shims, isolate
# libc, loader) under ASan+UBSan.
"$bld/tests/krank/krk_sys_run_san" --cat /iso_posix.out "$work/iso_posix.kx" \
    -o /iso_posix.out / >"$work/san.out" 2>"$work/san.err"
rs=$?
if [ $rs -eq 0 ] && cmp -s "$work/linux.out" "$work/san.out"; then
	echo "ok - under ASan+UBSan the isolate prints the same, no reports"
else
	echo "FAIL: ASan+UBSan run (exit $rs):"; cat "$work/san.err"
	diff -u "$work/linux.out" "$work/san.out"; fail=1
fi

# Kills: an isolate whose thread is blocked for good in poll,
# epoll_wait, nanosleep, pthread_cond_wait or pthread_mutex_lock, or
# that prints to its console without pause, is
# killed (krk_isolate_kill) 100 ms after its start and must be gone
# within 200 ms of that (the shims wait in 50 ms slices and check between
# them).
"$bld/loader/krank-cc-uninstalled" -O2 -Wall -Wextra -Werror \
    -o "$work/iso_block.kx" "$src/tests/krank/iso_block.c" || exit 1
for mode in poll epoll sleep cond mutex print; do
	if timeout 30 "$bld/tests/krank/krk_sys_run" --kill-after 100 \
	    "$work/iso_block.kx" $mode >"$work/block.out" 2>&1 &&
	    grep -q "^blocking in $mode\$" "$work/block.out"; then
		echo "ok - killed while blocked in $mode: $(grep 'killed, ' "$work/block.out" | sed 's/.*killed, //')"
	else
		echo "FAIL: kill while blocked in $mode:"; cat "$work/block.out"
		fail=1
	fi
	if ! timeout 60 "$bld/tests/krank/krk_sys_run_san" --kill-after 100 \
	    "$work/iso_block.kx" $mode >"$work/block.out" 2>&1; then
		echo "FAIL: kill while blocked in $mode (ASan+UBSan):"
		cat "$work/block.out"; fail=1
	fi
done
# A kill while the isolate is inside malloc or free, or inside close
# (which walks KRANK's epoll table under its lock), must wait for the call
# to return: unwound there, the thread kept the lock and KRANK hung (the
# supervisor joining it, or everyone needing the table) - in malloc about
# one kill in five, in close with 200 epoll instances two in five.  Ten
# kills of each at staggered times.
for mode in malloc close; do
	hung=0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		timeout 10 "$bld/tests/krank/krk_sys_run" --kill-after \
		    $((20 + i * 3)) "$work/iso_block.kx" $mode \
		    >"$work/block.out" 2>&1 || {
			hung=$((hung + 1)); tail -3 "$work/block.out"; }
	done
	if [ $hung = 0 ]; then
		echo "ok - 10 kills of an isolate busy in $mode: each ends it"
	else
		echo "FAIL: $hung of 10 kills of an isolate busy in $mode failed or hung"
		fail=1
	fi
done
exit $fail
