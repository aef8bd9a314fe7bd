#!/bin/sh
# test_hostnet.sh - hostnet against Linux's TCP/IP in a network namespace
# this test makes (unshare -n: a private loopback, removed with the
# process), plain and under ASan+UBSan.  The C program runs the Linux
# listeners itself; here we also check that each denied destination was
# logged once, however often it was tried.
set -u
b=${top_builddir:-.}/tests/rumpdrv/hostnet
if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
	echo "SKIP: needs root and unshare -n for a private network namespace"
	exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
for prog in test_hostnet test_hostnet_san; do
	echo "-- $prog in a new network namespace"
	unshare -n sh -c "ip link set lo up && exec $b/$prog" >"$out" 2>&1
	r=$?
	cat "$out"
	if [ $r -ne 0 ]; then
		echo "FAIL: $prog exited $r"
		rc=1
		continue
	fi
	# 127.0.0.1:DENIED was tried 3 times (twice by connect, once by
	# sendto): one log line.  127.0.0.2 once: one line.
	n=$(grep -c 'hostnet: connect to 127.0.0.1:[0-9]* denied' "$out")
	n2=$(grep -c 'hostnet: datagram to 127.0.0.1:[0-9]* denied' "$out")
	if [ "$n" -ge 1 ] && [ "$n2" -eq 0 ]; then
		echo "ok: a destination denied 3 times is logged once ($n line(s) for the default-deny probe and the denied port)"
	else
		echo "FAIL: denied destinations logged $n (connect) / $n2 (datagram) times"
		rc=1
	fi
	dup=$(grep -o 'hostnet: [a-z ]* to [^ ]* denied' "$out" | sed 's/^hostnet: [a-z ]* to //' | sort | uniq -d)
	if [ -n "$dup" ]; then
		echo "FAIL: logged more than once: $dup"
		rc=1
	else
		echo "ok: no destination logged twice"
	fi
done
[ $rc -eq 0 ] && echo PASS
exit $rc
