#!/bin/sh
# The tap and AF_PACKET packet backends against Linux's own IPv4 stack:
# inside a network namespace this test creates (and removes), Linux pings a
# tiny responder built on hyp_pkt_* (ARP and ICMP echo), once over a veth
# pair through AF_PACKET and once over a tap device.  Nothing outside the
# namespace is touched.
set -u
resp="$top_builddir/tests/hypercalls/pkt_responder"
ns="krank-hyp-$$"
work=$(mktemp -d)
fail=0

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root for network namespaces"; exit 77
fi
if ! ip netns add "$ns" 2>"$work/err"; then
	echo "SKIP: this machine forbids network namespaces: $(cat "$work/err")"
	rm -rf "$work"; exit 77
fi
cleanup() {
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
nsx() { ip netns exec "$ns" "$@"; }
nsx ip link set lo up

# run_case NAME SPEC ADDR SETUP: start the responder, wait for "ready"
# through a fifo, run SETUP, ping 3 times, check what both sides saw.
run_case() {
	name=$1 spec=$2 addr=$3 setup=$4
	mkfifo "$work/fifo.$name"
	nsx "$resp" "$spec" "$addr" 3 15 >"$work/fifo.$name" 2>"$work/err.$name" &
	rpid=$!
	exec 3<"$work/fifo.$name"
	if ! read -r ready <&3; then
		echo "FAIL: $name: responder did not start: $(cat "$work/err.$name")"
		fail=1; exec 3<&-; rpid=; return
	fi
	echo "$name: responder $ready"
	eval "$setup"
	if nsx ping -c 3 -i 0.2 -W 3 "$addr" >"$work/ping.$name" 2>&1; then
		echo "ok: $name: Linux pinged $addr 3 times: $(grep -o '[0-9]* received' "$work/ping.$name")"
	else
		echo "FAIL: $name: ping failed:"; cat "$work/ping.$name"; fail=1
	fi
	wait "$rpid"; rc=$?; rpid=
	summary=$(cat <&3); exec 3<&-
	echo "$name: $summary"
	case "$rc:$summary" in
	0:*"echo replies 3"*) echo "ok: $name: responder answered ARP and 3 echoes" ;;
	*) echo "FAIL: $name: responder exit $rc"; fail=1 ;;
	esac
}

nsx ip link add kv0 type veth peer name kv1
nsx ip addr add 10.77.1.1/24 dev kv0
nsx ip link set kv0 up
nsx ip link set kv1 up
run_case afpacket afpacket:kv1 10.77.1.2 ":"

run_case tap tap:ktap0 10.77.2.2 \
	"nsx ip addr add 10.77.2.1/24 dev ktap0 && nsx ip link set ktap0 up"

# The dpdk: backend, when built: DPDK's af_packet poll-mode driver on a
# second veth pair, with the EAL in plain (non-huge) memory.
if grep -q 'define HAVE_DPDK 1' "$top_builddir/config.h"; then
	nsx ip link add kv2 type veth peer name kv3
	nsx ip addr add 10.77.3.1/24 dev kv2
	nsx ip link set kv2 up
	nsx ip link set kv3 up
	export KRANK_DPDK_EAL="--no-huge --no-pci --no-shconf -m 64 --log-level=error --vdev=net_af_packet0,iface=kv3"
	run_case dpdk dpdk:net_af_packet0 10.77.3.2 ":"
	unset KRANK_DPDK_EAL
else
	echo "info: built without DPDK: the dpdk: backend is not tested"
fi

nsx "$resp" afpacket:nosuchif 10.0.0.1 1 1 >/dev/null 2>"$work/err.none"
grep -q "errno 2" "$work/err.none" && echo "ok: a missing interface gives ENOENT" ||
	{ echo "FAIL: missing interface: $(cat "$work/err.none")"; fail=1; }
exit $fail
