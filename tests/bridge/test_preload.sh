#!/bin/sh
# An unmodified Linux program on KRANK's TCP/IP stack and files through
# libkrank-preload.so (issue 13): in a network namespace of its own, krank
# runs a loopback-only deployment; preload_probe (plain libc, no
# libkrank) runs under krank-attach and checks TCP over 127.0.0.1, epoll
# mixing a Linux pipe with KRANK's sockets, poll, select, non-blocking
# accept and connect, dup2, fcntl, FIONREAD, readv/writev,
# sendmsg/recvmsg and files under a prefix.  While it holds its port,
# krankctl netstat shows the port and Linux's ss does not.  Also
# krank-attach's errors, and the library without KRANK_ATTACH.
. "${top_srcdir:-.}/tests/bridge/lib.sh"
probe="$bld/tests/bridge/preload_probe"
port=7411

# krank-attach's own errors need no KRANK.
"$bld/bridge/krank-attach" --help | grep -q "usage: krank-attach" &&
	ok "krank-attach --help prints its usage" || bad "krank-attach --help"
mkdir "$work/run"
KRANK_ATTACH= KRANK_SOCKET= KRANK_RUN_DIR="$work/run" "$bld/bridge/krank-attach" true 2>"$work/e1"
[ $? -ne 0 ] && grep -q "no KRANK attach socket in $work/run" "$work/e1" &&
	ok "krank-attach without a running KRANK: $(cat "$work/e1")" ||
	bad "krank-attach without KRANK: $(cat "$work/e1")"
"$bld/bridge/krank-attach" -s "$work/nope.sock" true 2>"$work/e2"
[ $? -ne 0 ] && grep -q "nope.sock: no such socket" "$work/e2" &&
	ok "krank-attach -s MISSING: $(cat "$work/e2")" ||
	bad "krank-attach -s missing socket: $(cat "$work/e2")"
"$bld/bridge/krank-attach" -s "$work" 2>"$work/e3"
[ $? -ne 0 ] && grep -q "no command" "$work/e3" &&
	ok "krank-attach without a command: $(cat "$work/e3")" ||
	bad "krank-attach without a command: $(cat "$work/e3")"

# Without KRANK_ATTACH everything is Linux's, said once with KRANK_DEBUG.
nsx env LD_LIBRARY_PATH="$bld/.libs" LD_PRELOAD="$preload" KRANK_DEBUG=1 \
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",7412)); s.listen(); import subprocess; print(subprocess.run(["ss","-tlnH","sport = :7412"],capture_output=True,text=True).stdout)' \
	>"$work/pass.out" 2>"$work/pass.err"
grep -q "7412" "$work/pass.out" && grep -q "KRANK_ATTACH not set" "$work/pass.err" &&
	ok "without KRANK_ATTACH a socket is Linux's (ss shows it) and KRANK_DEBUG says why" ||
	{ bad "pass-through without KRANK_ATTACH:"; cat "$work/pass.out" "$work/pass.err"; }

boot_krank "$(($(nproc) - 1))" 2

# Without -s, krank-attach finds the one running KRANK's attach socket
# (beside its control socket, $work/k.attach); several are ambiguous.
got=$(KRANK_ATTACH= KRANK_SOCKET= KRANK_RUN_DIR="$work" LD_LIBRARY_PATH="$bld/.libs" \
	KRANK_PRELOAD="$preload" "$bld/bridge/krank-attach" sh -c 'echo "$KRANK_ATTACH"' 2>&1)
[ "$got" = "$work/k.attach" ] &&
	ok "krank-attach without -s finds the one attach socket: $got" ||
	bad "krank-attach discovery gave '$got'"
python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('$work/run/a.attach'); socket.socket(socket.AF_UNIX).bind('$work/run/b.attach')"
KRANK_ATTACH= KRANK_SOCKET= KRANK_RUN_DIR="$work/run" "$bld/bridge/krank-attach" true 2>"$work/e4"
[ $? -ne 0 ] && grep -q "several KRANKs run: $work/run/a.attach $work/run/b.attach; choose one" "$work/e4" &&
	ok "two attach sockets: $(cat "$work/e4")" || bad "two attach sockets: $(cat "$work/e4")"

# The probe holds its port until its input ends: feed it from a fifo.
mkfifo "$work/in"
kx -d -p /krank-probe "$probe" $port /krank-probe "$work/linux-file" \
	<"$work/in" >"$work/probe.out" 2>"$work/probe.err" &
ppid=$!
exec 7>"$work/in"
i=0
until grep -q "^listening on" "$work/probe.out"; do
	kill -0 $ppid 2>/dev/null || break
	i=$((i + 1)); [ $i -lt 1200 ] || break	# 60 s
	sleep 0.05
done
if grep -q "^listening on $port" "$work/probe.out"; then
	"$krankctl" -s "$ksock" netstat >"$work/netstat" 2>&1
	grep -q ":$port" "$work/netstat" &&
		ok "krankctl netstat shows port $port while the probe holds it" ||
		{ bad "krankctl netstat lacks :$port:"; cat "$work/netstat"; }
	nsx ss -tanH >"$work/ss"
	grep -q ":$port" "$work/ss" &&
		{ bad "Linux has a socket on :$port:"; cat "$work/ss"; } ||
		ok "Linux's ss shows no socket on :$port in the namespace"
else
	bad "the probe never said it listens"
fi
exec 7>&-
wait $ppid; rc=$?
cat "$work/probe.out"
[ $rc -eq 0 ] && ok "preload_probe: every check passed" ||
	{ bad "preload_probe exited $rc"; cat "$work/probe.err"; }
grep -q "attached to $ksock" "$work/probe.err" &&
	ok "KRANK_DEBUG: the probe attached lazily to $ksock" ||
	{ bad "no attach line in the probe's debug output"; head "$work/probe.err"; }
grep -q "socket(AF_INET): KRANK descriptor" "$work/probe.err" &&
	ok "KRANK_DEBUG: one line per decision (socket -> KRANK descriptor)" ||
	bad "no socket decision line"
[ "$(cat "$work/linux-file" 2>/dev/null)" = linux ] &&
	ok "the file outside the prefix is Linux's ($work/linux-file)" ||
	bad "the file outside the prefix is not on Linux"
[ ! -e /krank-probe ] &&
	ok "the prefix /krank-probe does not exist on Linux (KRANK's tmpfs had it)" ||
	bad "/krank-probe was made on Linux"
# A program that exits without closing its socket: its data still
# arrives, then an orderly end (FIN), as when Linux closes a process's
# sockets at exit - not a reset that loses what was queued.
kx socat -u TCP-LISTEN:7413,bind=127.0.0.1,reuseaddr CREATE:"$work/got" \
	2>"$work/socat.err" &
spid=$!
i=0
until kx "$probe" sendexit 7413 3000000 2>"$work/sendexit.err"; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.05	# socat not listening yet: poll with a deadline
done
wait $spid; src=$?
[ "$(wc -c <"$work/got" 2>/dev/null)" = 3000000 ] && [ $src -eq 0 ] &&
	ok "a program exiting without close: all 3000000 bytes arrived and the connection ended cleanly" ||
	bad "exit without close: got $(wc -c <"$work/got" 2>/dev/null) bytes, socat exit $src: $(cat "$work/socat.err" "$work/sendexit.err")"
# Readiness with data: bytes that come with a poll's answer are read in
# order with the rest, through poll, select, epoll LT and ET, dup, EOF
# and close; KRANK_DEBUG says once that a poll brought bytes.  The same
# checks pass with the fetch off (KRANK_POLL_FETCH=0: every read is
# KRANK's).
for f in 4096 0; do
	kx env KRANK_DEBUG=1 KRANK_POLL_FETCH=$f "$probe" fetch 7414 \
		>"$work/fetch.out" 2>"$work/fetch.err"
	frc=$?
	said=no
	grep -q "came with its readiness, held for its reads" "$work/fetch.err" && said=yes
	want=yes
	[ $f = 0 ] && want=no
	if [ $frc -eq 0 ] && [ $said = $want ]; then
		ok "readiness with data, KRANK_POLL_FETCH=$f: $(grep -c '^ok' "$work/fetch.out") checks (poll, select, epoll LT/ET, MSG_WAITALL, dup, EOF, close), bytes fetched: $said"
	else
		bad "readiness with data, KRANK_POLL_FETCH=$f (exit $frc, fetched $said):"
		grep -v '^ok' "$work/fetch.out"; grep -v "KRANK descriptor" "$work/fetch.err" | tail -5
	fi
done
kx env KRANK_POLL_FETCH=99999999 true 2>"$work/fetch2.err"
grep -q "KRANK_POLL_FETCH=99999999: not a number of bytes 0..65536" "$work/fetch2.err" &&
	ok "KRANK_POLL_FETCH=99999999: refused with a reason" ||
	bad "KRANK_POLL_FETCH=99999999: $(cat "$work/fetch2.err")"
# KRANK_QUEUE_SPIN_US: a bounded number of microseconds is taken (and
# the calls work with it), anything else is refused with a reason and
# the deployment's spin kept.
kx -p /kq mkdir -p /kq
kx -p /kq env KRANK_QUEUE_SPIN_US=20 KRANK_DEBUG=1 dd if=/dev/zero \
	of=/kq/f bs=64 count=200 2>"$work/spin.err"
kx -p /kq env KRANK_QUEUE_SPIN_US=0 dd if=/kq/f of="$work/spin.out" \
	bs=64 2>/dev/null
grep -q "spinning 20 us for responses" "$work/spin.err" &&
	[ "$(wc -c <"$work/spin.out" 2>/dev/null)" = 12800 ] &&
	ok "KRANK_QUEUE_SPIN_US=20 and =0: taken, 12800 bytes written and read back" ||
	bad "KRANK_QUEUE_SPIN_US=20: $(head -3 "$work/spin.err"), read back $(wc -c <"$work/spin.out" 2>/dev/null) bytes"
kx -p /kq env KRANK_QUEUE_SPIN_US=20000 dd if=/kq/f of=/dev/null bs=64 \
	2>"$work/spin2.err"
grep -q "KRANK_QUEUE_SPIN_US=20000: not a number of microseconds 0..10000" \
	"$work/spin2.err" && grep -q "^200+0 records in" "$work/spin2.err" &&
	ok "KRANK_QUEUE_SPIN_US=20000 (over 10 ms): refused with a reason, calls still served" ||
	bad "KRANK_QUEUE_SPIN_US=20000: $(head -3 "$work/spin2.err")"
kill -0 "$kpid" 2>/dev/null && ok "krank still runs" || bad "krank died"
[ $fail -eq 0 ] && echo PASS || echo FAIL
exit $fail
