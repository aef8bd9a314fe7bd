#!/bin/sh
# Summarise the automake .trs files of the last make check, plus the
# distcheck result, as the last line "N passed, N failed".
# usage: summarize-tests.sh CHECK_RC DISTCHECK_RC
set -u
cd "$(dirname "$0")/.."
check_rc=${1:-0}
dist_rc=${2:-0}
pass=0 fail=0 skip=0
for trs in $(find . -path './krank-*' -prune -o -name '*.trs' -print); do
	r=$(sed -n 's/^:test-result: //p' "$trs")
	case "$r" in
	PASS|XFAIL) pass=$((pass + 1)) ;;
	SKIP) skip=$((skip + 1)); echo "skipped: ${trs%.trs}" ;;
	*) fail=$((fail + 1)); echo "failed: ${trs%.trs} ($r)"
	   # What it said last, so that a failure on a CI machine can be
	   # read from CI's output alone.
	   [ -f "${trs%.trs}.log" ] && tail -n 40 "${trs%.trs}.log" |
		sed 's/^/    | /' ;;
	esac
done
if [ "$check_rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
	echo "failed: make check exited $check_rc"
	fail=$((fail + 1))
fi
if [ "$dist_rc" -eq 0 ]; then pass=$((pass + 1)); else
	echo "failed: make distcheck (see distcheck.log)"; fail=$((fail + 1)); fi
echo "$skip skipped"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
