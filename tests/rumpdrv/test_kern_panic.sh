#!/bin/sh
# test_kern_panic.sh - a failed kernel assertion panics: the message reaches
# the console through the hypercall layer and the process does not go on.
: "${top_builddir:=.}"
prog="$top_builddir/tests/rumpdrv/test_kern"
[ -x "$prog" ] || { echo "SKIP: $prog not built"; exit 77; }
ulimit -c 0 2>/dev/null
out=$("$prog" panic 2>&1)
rc=$?
if [ $rc -eq 0 ]; then
	echo "FAIL: panic returned exit status 0"; echo "$out"; exit 1
fi
case $out in
*"KASSERTMSG returned"*)
	echo "FAIL: execution continued after the panic"; exit 1 ;;
esac
case $out in
*"krank: panic: test panic: answer is 41"*) ;;
*) echo "FAIL: panic message missing: $out"; exit 1 ;;
esac
echo "ok: KASSERTMSG failure printed 'krank: panic: test panic: answer is 41' and stopped (exit status $rc)"
echo "PASS"
