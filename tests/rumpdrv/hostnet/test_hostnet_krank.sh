#!/bin/sh
# test_hostnet_krank.sh - hostnet end to end: inside a network namespace
# this test makes (unshare -n; gone with its processes), socat serves an
# echo and a "hold until EOF" service on the namespace's loopback; krank
# run boots a deployment whose hostnet allow list names those two ports;
# krq_hostnet, a libkrank client, connects through KRS_AF_HOSTNET sockets
# (data both ways, EOF, poll, a denied port), then exits with a host
# connection open, which KRANK must close.  krankctl metrics shows the
# counters and the log the denial, once.
set -u
if [ "${HOSTNET_IN_NS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null; then
		echo "SKIP: needs root and unshare -n for a private network namespace"
		exit 77
	fi
	command -v socat >/dev/null || { echo "SKIP: socat not installed"; exit 77; }
	HOSTNET_IN_NS=1 exec unshare -n sh "$0" "$@"
fi
ip link set lo up
bld=${top_builddir:-.}
krank="$bld/krank/krank"
kc="$bld/krank/krankctl"
cli="$bld/tests/rumpdrv/hostnet/krq_hostnet"
work=$(mktemp -d)
src=${top_srcdir:-.}
kpid= epid= hpid= ipid=
cleanup() {
	for p in $kpid $epid $hpid $ipid; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
# wait_for CMD...: poll a condition, 10 s deadline.
wait_for() {
	i=0
	until "$@"; do
		i=$((i + 1)); [ $i -lt 200 ] || return 1
		sleep 0.05
	done
}

ECHO=7001 HOLD=7002 DENIED=7003 ISOHOLD=7004
"$bld/loader/krank-cc-uninstalled" -O1 -o "$work/iso_hostnet.kx" \
	"$src/tests/rumpdrv/hostnet/iso_hostnet.c" ||
	{ echo "FAIL: krank-cc iso_hostnet.c"; exit 1; }
socat TCP-LISTEN:$ECHO,bind=127.0.0.1,reuseaddr,fork EXEC:cat &
epid=$!
socat -u TCP-LISTEN:$HOLD,bind=127.0.0.1,reuseaddr CREATE:"$work/held" &
hpid=$!
socat -u TCP-LISTEN:$ISOHOLD,bind=127.0.0.1,reuseaddr CREATE:"$work/isoheld" &
ipid=$!
wait_for sh -c "ss -tln | grep -q 127.0.0.1:$ECHO && ss -tln | grep -q 127.0.0.1:$HOLD && ss -tln | grep -q 127.0.0.1:$ISOHOLD" ||
	{ echo "FAIL: socat listeners did not come up"; exit 1; }

core=$(($(nproc) - 1))
cat >"$work/h.yaml" <<EOT
name: hostnet-test
cores: [$core]
memory: {size: 128M, mlock: no}
components: [vfs, tmpfs, net, ether, socket, inet, hostnet]
tmpfs:
  - mount: /
    size: 8M
control: {socket: $work/k.sock}
queues: {slots: 64, area: 1M, rings: 1}
isolates:
  - {name: hn, elf: $work/iso_hostnet.kx, argv: [iso_hostnet, "$ECHO", "$ISOHOLD"], core: $core, heap: 4M}
hostnet:
  allow: ["127.0.0.1:$ECHO", "127.0.0.1:$HOLD", "127.0.0.1:$ISOHOLD", "[::1]:*"]
  max: 16
EOT
"$krank" run -v "$work/h.yaml" >"$work/out" 2>&1 &
kpid=$!
wait_for grep -q "ready in" "$work/out" || { cat "$work/out"; echo "FAIL: krank not ready"; exit 1; }
grep -q "hostnet: isolates may reach 127.0.0.1:$ECHO on the host" "$work/out" &&
	ok "the boot report lists the allowed host destinations" ||
	{ bad "boot report lacks the hostnet lines"; cat "$work/out"; }

# The isolate: echo through hostnet, then it ends with a connection open.
wait_for grep -q "iso_hostnet: leaving a host connection open" "$work/out" &&
grep -q 'iso_hostnet: echo "from an isolate"' "$work/out" &&
	ok "an isolate's socket(KRS_AF_HOSTNET) reached Linux's echo and back" ||
	{ bad "isolate output:"; cat "$work/out"; }
wait_for sh -c "! kill -0 $ipid 2>/dev/null" &&
	ok "the isolate's open host connection was closed when it ended" ||
	bad "socat on $ISOHOLD still connected after the isolate ended"
ipid=
[ "$(cat "$work/isoheld" 2>/dev/null)" = "iso" ] &&
	ok "what the isolate wrote reached Linux" || bad "isoheld: $(cat "$work/isoheld" 2>/dev/null)"

"$cli" "$work/k.sock" $ECHO $HOLD $DENIED >"$work/cli.out" 2>&1; rc=$?
cat "$work/cli.out"
[ $rc -eq 0 ] && ok "krq_hostnet: every check passed" || bad "krq_hostnet exited $rc"

# The client exited with the HOLD connection open: KRANK closes it, so
# socat sees EOF, writes the file and exits.
wait_for sh -c "! kill -0 $hpid 2>/dev/null" &&
	ok "the host connection left open was closed when the client went away" ||
	bad "socat on $HOLD still connected after the client exited"
hpid=
[ "$(cat "$work/held" 2>/dev/null)" = "held" ] &&
	ok "the data written before exit reached Linux" || bad "held file: $(cat "$work/held" 2>/dev/null)"

"$kc" -s "$work/k.sock" metrics >"$work/m" 2>&1
grep -q "^krank_hostnet_denied_total 1$" "$work/m" &&
	ok "krankctl metrics: krank_hostnet_denied_total 1" ||
	{ bad "metrics: $(grep hostnet "$work/m")"; }
grep -q "^krank_hostnet_connects_total 4$" "$work/m" &&
	ok "krankctl metrics: krank_hostnet_connects_total 4 (2 by the isolate, 2 by the client)" ||
	bad "metrics: $(grep hostnet_connects "$work/m")"
wait_for sh -c "'$kc' -s '$work/k.sock' metrics | grep -q '^krank_hostnet_open_sockets 0$'" &&
	ok "krankctl metrics: no host sockets left open" ||
	bad "metrics: $(grep hostnet_open "$work/m")"
n=$(grep -c "hostnet: connect to 127.0.0.1:$DENIED denied" "$work/out")
[ "$n" = 1 ] && ok "the denial is in KRANK's log once" ||
	{ bad "denial logged $n times"; cat "$work/out"; }

# krank check refuses a bad entry with its position.
cat >"$work/bad.yaml" <<EOT
name: bad
cores: [0]
components: [vfs, net, socket, hostnet]
hostnet:
  allow: ["127.0.0.1:1", 10.0.0.1/8:5432, "[::1]:99999"]
EOT
"$krank" check "$work/bad.yaml" >"$work/chk" 2>&1
grep -q "bad.yaml:5:26: hostnet.allow\[1\]: expected no address bits below the prefix length" "$work/chk" &&
grep -q "bad.yaml:5:50: hostnet.allow\[2\]: expected a port 1..65535, LO-HI or \*" "$work/chk" &&
	ok "krank check: bad allow entries named by file:line:col" ||
	{ bad "krank check output:"; cat "$work/chk"; }

kill "$kpid"; wait "$kpid" 2>/dev/null; kpid=
[ $fail -eq 0 ] && echo PASS
exit $fail
