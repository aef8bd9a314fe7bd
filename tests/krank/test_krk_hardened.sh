#!/bin/sh
# test_krk_hardened.sh - hardened isolates (hardened: yes; issue 14).
#  1. tests/krank/iso_escape.c reaches a host system call from isolate code
#     (a syscall hidden in an immediate, accepted only --lax): without
#     hardening it gets KRANK's host pid back; hardened, the thread gets
#     SIGSYS and the isolate ends as faulted, naming the call;
#  2. tests/krank/iso_posix.c (files on tmpfs, TCP and UDP over loopback,
#     poll, epoll, threads, mutexes, condition variables, clocks, sleep,
#     malloc, the errno cases) prints, hardened, exactly what it prints as
#     an ordinary isolate: every call goes through the gate and works;
#  3. a hardened isolate blocked in poll, nanosleep, a condition variable or
#     a mutex (waits its gate server makes for it), or busy printing or in
#     malloc, is killed as promptly as an ordinary one;
#  4. 1 and 2 under ASan+UBSan (krk_sys_run_san).
# krk_sys_run also prints how many system calls of KRANK's own code the
# filter refused on sealed threads (the end of each job): they get EPERM.
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL: $*"; fail=1; }

if ! grep -q '^Seccomp:' /proc/self/status; then
	echo "SKIP: this kernel has no seccomp (no Seccomp: in /proc/self/status)"
	exit 77
fi
cc="$bld/loader/krank-cc-uninstalled"
"$cc" -O2 -Wall -Wextra -Werror -o "$work/iso_escape.kx" \
    "$src/tests/krank/iso_escape.c" || { bad "krank-cc iso_escape.c"; exit 1; }
"$cc" -O2 -Wall -Wextra -Werror -o "$work/iso_posix.kx" \
    "$src/tests/krank/iso_posix.c" || { bad "krank-cc iso_posix.c"; exit 1; }

# ---- 1. the escape ----
if "$bld/loader/krank-ld" verify "$work/iso_escape.kx" >"$work/v" 2>&1; then
	bad "strict verify accepts the hidden syscall"
else
	ok "strict verify refuses iso_escape ($(grep -m1 -o 'syscall[^,]*' "$work/v" || echo refused))"
fi
"$bld/tests/krank/krk_sys_run" --lax "$work/iso_escape.kx" \
    >"$work/plain.out" 2>"$work/plain.err"
rc=$?
cat "$work/plain.out" "$work/plain.err"
pid=$(sed -n 's/^escape: host system call returned \([0-9]*\)$/\1/p' "$work/plain.out")
if [ $rc -eq 3 ] && [ -n "$pid" ] && [ "$pid" -gt 1 ]; then
	ok "not hardened: the hidden syscall reached Linux (getpid = $pid)"
else
	bad "not hardened: expected the escape to work (exit $rc)"
fi
"$bld/tests/krank/krk_sys_run" --lax --hardened "$work/iso_escape.kx" \
    >"$work/hard.out" 2>"$work/hard.err"
rc=$?
cat "$work/hard.out" "$work/hard.err"
if grep -q '^escape: isolate pid' "$work/hard.out"; then
	ok "hardened: printf and getpid went through the gate"
else
	bad "hardened: the ordinary calls before the escape did not work"
fi
if grep -q 'returned' "$work/hard.out"; then
	bad "hardened: the host system call returned"
elif [ $rc -ne 0 ] && grep -q 'faulted: host system call 39 refused (hardened)' \
    "$work/hard.err"; then
	ok "hardened: the isolate ended as faulted: $(grep -o 'faulted: .*' "$work/hard.err")"
else
	bad "hardened: expected a fault naming system call 39 (exit $rc)"
fi

# ---- 2. ordinary work, hardened ----
run_posix() {	# RUNNER TAG [--hardened]
	r=$1 tag=$2
	shift 2
	"$bld/tests/krank/$r" "$@" --cat /iso_posix.out "$work/iso_posix.kx" \
	    -o /iso_posix.out / >"$work/$tag.out" 2>"$work/$tag.err"
	echo $? > "$work/$tag.rc"
	cat "$work/$tag.err"
}
run_posix krk_sys_run plainp
run_posix krk_sys_run hardp --hardened
n=$(grep -c '^ok - ' "$work/hardp.out")
if [ "$(cat "$work/hardp.rc")" -eq 0 ] && [ "$n" -ge 100 ] &&
    cmp -s "$work/plainp.out" "$work/hardp.out"; then
	ok "hardened iso_posix: exit 0, the same $n checks and $(wc -l <"$work/hardp.out") lines as unhardened"
else
	bad "hardened iso_posix: exit $(cat "$work/hardp.rc"), $n checks"
	diff "$work/plainp.out" "$work/hardp.out" | head -20
fi
if grep -q "hardened; .* refused" "$work/hardp.err"; then
	ok "$(grep -o 'hardened; .*' "$work/hardp.err")"
fi

# ---- 3. kills: a hardened thread blocked in a call (its server waits)
# or busy printing or in malloc is gone within krk_sys_run's slack ----
"$cc" -O2 -Wall -Wextra -Werror -o "$work/iso_block.kx" \
    "$src/tests/krank/iso_block.c" || { bad "krank-cc iso_block.c"; exit 1; }
for mode in poll sleep cond mutex print malloc; do
	if timeout 30 "$bld/tests/krank/krk_sys_run" --hardened --kill-after 100 \
	    "$work/iso_block.kx" $mode >"$work/block.out" 2>&1; then
		ok "hardened, killed in $mode: $(grep -o 'killed, .*' "$work/block.out")"
	else
		bad "hardened kill in $mode:"; cat "$work/block.out"
	fi
done

# ---- 4. ASan+UBSan ----
if [ -x "$bld/tests/krank/krk_sys_run_san" ]; then
	run_posix krk_sys_run_san sanp --hardened
	if [ "$(cat "$work/sanp.rc")" -eq 0 ] &&
	    cmp -s "$work/plainp.out" "$work/sanp.out"; then
		ok "hardened iso_posix under ASan+UBSan: the same output"
	else
		bad "hardened iso_posix under ASan+UBSan: exit $(cat "$work/sanp.rc")"
	fi
	"$bld/tests/krank/krk_sys_run_san" --lax --hardened \
	    "$work/iso_escape.kx" >"$work/hsan.out" 2>"$work/hsan.err"
	if grep -q 'faulted: host system call 39' "$work/hsan.err"; then
		ok "hardened escape under ASan+UBSan: faulted"
	else
		bad "hardened escape under ASan+UBSan"; cat "$work/hsan.err"
	fi
fi
[ $fail -eq 0 ] && echo PASS
exit $fail
