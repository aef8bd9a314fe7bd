#!/bin/sh
# A Linux process uses a running KRANK through libkrank (issue 12's queue
# path end to end): krank run boots a deployment with a tmpfs and the
# TCP/IP stack; krq_e2e attaches over the control socket and, on two
# rings from two threads, writes files inline, bounced and by reference,
# reads them back, and talks TCP over KRANK's loopback.  Then a client
# killed with SIGKILL while attached leaves KRANK serving the next one,
# and krank stops cleanly on SIGTERM.
set -u
bld=${top_builddir:-.}
krank="$bld/krank/krank"
e2e="$bld/tests/krank/krq_e2e"
work=$(mktemp -d)
kpid=
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

core=$(($(nproc) - 1))
cat >"$work/q.yaml" <<EOT
name: queue-test
cores: [$core]
memory: {size: 64M, mlock: no}
components: [vfs, tmpfs, net, ether, socket, inet]
tmpfs:
  - mount: /
    size: 32M
control: {socket: $work/k.sock}
queues: {spin: 20us, slots: 64, area: 4M, rings: 2}
EOT
"$krank" run "$work/q.yaml" >"$work/out" 2>&1 &
kpid=$!
# Poll for the boot report's last line (10 s deadline).
i=0
until grep -q "ready in" "$work/out"; do
	kill -0 "$kpid" 2>/dev/null || { cat "$work/out"; echo "FAIL: krank exited"; exit 1; }
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$work/out"; echo "FAIL: no ready line"; exit 1; }
	sleep 0.05
done
grep -q "queues: processes attach over the control socket: 2 ring pairs of 64 slots, 4096 KiB buffer area, server spin 20 us" "$work/out" &&
	ok "the boot report describes the queues from the deployment" ||
	{ bad "boot report lacks the queues line:"; cat "$work/out"; }

"$e2e" "$work/k.sock" / >"$work/e2e.out" 2>&1; rc=$?
cat "$work/e2e.out"
[ $rc -eq 0 ] && ok "krq_e2e: every check passed" || bad "krq_e2e exited $rc"

# A client killed while attached: KRANK ends that attachment and serves
# the next client.
"$e2e" "$work/k.sock" / >/dev/null 2>&1 &
vpid=$!
kill -9 $vpid 2>/dev/null
wait $vpid 2>/dev/null
"$e2e" "$work/k.sock" / >"$work/e2e2.out" 2>&1 &&
	ok "after a client was killed, the next one passes every check" ||
	{ bad "second client after a kill:"; cat "$work/e2e2.out"; }
kill -0 "$kpid" 2>/dev/null && ok "krank still runs" || bad "krank died"

kill -TERM "$kpid"
wait "$kpid"; rc=$?
kpid=
[ $rc -eq 0 ] && ok "krank stopped on SIGTERM (exit 0)" || bad "krank exit $rc on SIGTERM"
[ $fail -eq 0 ] && echo PASS || echo FAIL
exit $fail
