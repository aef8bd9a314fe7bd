#!/bin/sh
# Asynchronous sends through libkrank-preload.so (docs/bridge.md): a
# deployment of one ring, where the library sends small writes without
# waiting.  preload_probe's async checks (order across asynchronous and
# synchronous sends, a peer that does not read, close and shutdown after
# queued bytes, a reset reported by a later send), its fetch checks with
# asynchronous sends on, the same checks with KRANK_SEND_ASYNC=0, and a
# program killed with bytes queued in KRANK: KRANK ends its attachment
# and goes on.
. "${top_srcdir:-.}/tests/bridge/lib.sh"
probe="$bld/tests/bridge/preload_probe"
boot_krank "$(seq -s ', ' 0 $(($(nproc) - 1)))" 1 0us
for mode in async fetch; do
	for as in 1 0; do
		kx env KRANK_SEND_ASYNC=$as KRANK_STATS=1 "$probe" $mode 7421 \
			>"$work/$mode$as.out" 2>"$work/$mode$as.err"
		rc=$?
		st=$(sed -n 's/.*stats: //p' "$work/$mode$as.err")
		if [ $rc -eq 0 ]; then
			ok "$mode checks, KRANK_SEND_ASYNC=$as: $(grep -c '^ok' "$work/$mode$as.out") passed ($st)"
		else
			bad "$mode checks, KRANK_SEND_ASYNC=$as (exit $rc):"
			grep -v '^ok' "$work/$mode$as.out"; tail -3 "$work/$mode$as.err"
		fi
	done
done
grep -q "[1-9][0-9]* asynchronous sends" "$work/async1.err" &&
	! grep -q "[1-9][0-9]* asynchronous sends" "$work/async0.err" &&
	ok "sends went asynchronously with KRANK_SEND_ASYNC=1 only" ||
	bad "asynchronous sends not as configured: $(cat "$work/async1.err" "$work/async0.err" | grep stats)"

# A program killed while its bytes wait in KRANK's send queue (its peer
# does not read): KRANK ends the attachment, frees the queue, serves on.
kx socat -u TCP-LISTEN:7422,bind=127.0.0.1,reuseaddr,rcvbuf=4096 \
	EXEC:"sleep 30" 2>/dev/null &
spid=$!
kx python3 -c '
import socket, sys, time, os
for i in range(100):
	try:
		s = socket.create_connection(("127.0.0.1", 7422)); break
	except OSError: time.sleep(0.05)
s.setblocking(False)
n = 0
try:
	while n < (32 << 20):
		n += s.send(b"q" * 1000)
except BlockingIOError: pass
print(n, flush=True)
os.kill(os.getpid(), 9)' >"$work/killed.out" 2>&1
"$krankctl" -s "$ksock" ps >"$work/ps" 2>&1
i=0
until "$krankctl" -s "$ksock" ps 2>/dev/null | grep python3 | grep -qv " attached "; do
	i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.05
done
"$krankctl" -s "$ksock" ps >"$work/ps" 2>&1
grep python3 "$work/ps" | grep -qv " attached " &&
	ok "a program killed with $(head -1 "$work/killed.out") bytes sent, its peer not reading: attachment ended ($(grep python3 "$work/ps" | awk '{print $4}'))" ||
	{ bad "killed program's attachment:"; cat "$work/ps" "$work/killed.out"; }
kill $spid 2>/dev/null
kill -0 "$kpid" 2>/dev/null && ok "krank still runs" || bad "krank died"
[ $fail -eq 0 ] && echo PASS || echo FAIL
exit $fail
