#!/bin/sh
# One receive and transmit queue per core on a DPDK port (queues: N), in a
# network namespace this test creates (and removes): `krank run` with an
# interface of backend dpdk on DPDK's af_packet PMD made with qpairs=2 over
# one end of a veth (two AF_PACKET sockets in one PACKET_FANOUT_HASH group:
# the kernel spreads flows over them as RSS would), `queues: 2`.  Linux, on
# the other end, runs 8 TCP connections and 8 UDP flows of distinct ports
# at once against the echo isolate, each with its own data, every byte
# checked; `krankctl metrics` must then show frames received on both
# queues.  The same on DPDK's tap PMD with two queues (Linux's tun driver
# spreads flows over them).  Bad input: queues: 3 on the af_packet device
# (it has 2 queue pairs) and queues: 1 (a pair left unread) are refused
# at start with a line saying why.
set -u
ns="krankC-q-$$" tools="cmp head"
. "${top_srcdir:-.}/tests/krank/dpdk_lib.sh"
krankctl="$bld/krank/krankctl"
vdev="net_af_packet0,iface=kqc1,qpairs=2"

nsx ip link add kqc0 type veth peer name kqc1
# DPDK's af_packet PMD does not complete checksums Linux left to the
# device, so the veth must not offload them (test_krank_dpdk.sh).
nsx ethtool -K kqc0 tx off >/dev/null 2>&1 ||
	echo "info: no ethtool: TCP and UDP may see bad checksums"
nsx ip addr add 10.97.1.1/24 dev kqc0
nsx ip link set kqc0 up
nsx ip link set kqc1 up

# yaml QUEUES [ADDR [MORE]]: the deployment, interface krank0 with
# queues: QUEUES (MORE: more keys of the interface).
yaml() {
	cat >"$work/q$1.yaml" <<EOT
name: dpdk-queues
cores: [$core]
memory: {size: 256M, mlock: no}
components: [vfs, tmpfs, net, ether, virtif, socket, inet]
interfaces:
  - {name: krank0, backend: dpdk, device: ${vdev%%,*}, address: ${2:-10.97.1.2}/24, queues: $1${3:-}}
isolates:
  - {name: echo, elf: $bld/examples/echo/echo.kx,
     argv: [echo, --port, "7", --max-conn, "64"], core: $core}
control: {socket: $work/krank.sock}
EOT
}

# Bad queue counts for this device: krank run fails, saying why.
for q in 3 1; do
	yaml $q
	if nsx env KRANK_DPDK_EAL="$eal --vdev=$vdev" "$krank" run "$work/q$q.yaml" \
	    >"$work/bad$q.out" 2>&1 </dev/null; then
		bad "queues: $q on a device of 2 queue pairs started"
	else
		case $q in
		3) want="at most 2 receive" ;;
		1) want="has 2 queue pairs" ;;
		esac
		grep -q "$want" "$work/bad$q.out" &&
			ok "queues: $q on a device of 2 queue pairs is refused: $(grep -o "queues=$q.*" "$work/bad$q.out" | head -1 | cut -c1-110)" ||
			bad "queues: $q: no line saying why: $(tail -3 "$work/bad$q.out")"
	fi
done

# serve CASE VDEV ADDR [MORE]: krank run with queues: 2 on VDEV, address
# ADDR (MORE: more keys of the interface), then Linux's 8 TCP connections
# and 8 UDP flows at once against it, and the frames per queue from
# krankctl metrics.  $setup runs once krank is up.
serve() {
	cname=$1 vdev=$2 addr=$3
	yaml 2 "$addr" "${4:-}"
	rm -f "$work/krank.out"
	mkfifo "$work/krank.out"
	ip netns exec "$ns" env KRANK_DPDK_EAL="$eal --vdev=$vdev" "$krank" run "$work/q2.yaml" \
		>"$work/krank.out" 2>"$work/krank.err" &
	kpid=$!
	exec 3<"$work/krank.out"
	ready=
	while read -r l <&3; do
		case $l in *ready*) ready=$l; break ;; esac
	done
	if [ -z "$ready" ]; then
		bad "$cname: krank did not get ready: $(tail -5 "$work/krank.err")"
		exec 3<&-
		return 1
	fi
	cat <&3 >/dev/null &
	exec 3<&-
	ok "$cname: krank run is ready with krank0 on dpdk:${vdev%%,*}, queues: 2"
	$setup
	# Linux's side is up once KRANK answers (ARP, then ICMP).
	if nsx ping -c 3 -i 0.2 -W 3 "$addr" >"$work/ping" 2>&1; then
		ok "$cname: Linux pinged KRANK at $addr"
	else
		bad "$cname: ping $addr failed: $(tail -2 "$work/ping")"
		nsx ip -s link show
		nsx ip neigh
		"$krankctl" -s "$work/krank.sock" ifconfig
	fi

	# Linux: 8 TCP connections and 8 UDP flows at once, each its own data.
	i=0
	while [ $i -lt 8 ]; do
		head -c $((65536 + i * 4099)) /dev/urandom >"$work/tcp$i.in"
		head -c $((200 + i * 100)) /dev/urandom >"$work/udp$i.in"
		i=$((i + 1))
	done
	pids=
	i=0
	while [ $i -lt 8 ]; do
		nsx socat -t 5 -T 15 - "TCP:$addr:7,connect-timeout=5" \
			<"$work/tcp$i.in" >"$work/tcp$i.out" 2>"$work/tcp$i.err" &
		pids="$pids $!"
		nsx socat -t 3 -T 5 - "UDP:$addr:7,sourceport=$((40100 + i))" \
			<"$work/udp$i.in" >"$work/udp$i.out" 2>"$work/udp$i.err" &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do
		wait "$p"
	done
	tcp_ok=0 udp_ok=0
	i=0
	while [ $i -lt 8 ]; do
		cmp -s "$work/tcp$i.in" "$work/tcp$i.out" && tcp_ok=$((tcp_ok + 1)) ||
			echo "  tcp $i: $(wc -c <"$work/tcp$i.out") of $(wc -c <"$work/tcp$i.in") bytes back $(cat "$work/tcp$i.err")"
		cmp -s "$work/udp$i.in" "$work/udp$i.out" && udp_ok=$((udp_ok + 1)) ||
			echo "  udp $i: $(wc -c <"$work/udp$i.out") of $(wc -c <"$work/udp$i.in") bytes back $(cat "$work/udp$i.err")"
		i=$((i + 1))
	done
	[ $tcp_ok -eq 8 ] && ok "$cname: 8 TCP connections at once (64 to 93 KiB each) came back intact" ||
		bad "$cname: $tcp_ok of 8 TCP connections came back intact"
	[ $udp_ok -eq 8 ] && ok "$cname: 8 UDP flows from distinct ports came back intact" ||
		bad "$cname: $udp_ok of 8 UDP flows came back intact"

	"$krankctl" -s "$work/krank.sock" metrics >"$work/metrics" 2>&1
	q0=$(sed -n 's/^krank_interface_receive_queue_packets_total{interface="krank0",queue="0"} //p' "$work/metrics")
	q1=$(sed -n 's/^krank_interface_receive_queue_packets_total{interface="krank0",queue="1"} //p' "$work/metrics")
	if [ -n "$q0" ] && [ -n "$q1" ] && [ "$q0" -gt 0 ] && [ "$q1" -gt 0 ]; then
		ok "$cname: frames arrived on both queues: queue 0 $q0, queue 1 $q1 (krankctl metrics)"
	else
		bad "$cname: frames per queue: queue 0 '${q0}', queue 1 '${q1}': $(grep queue "$work/metrics")"
	fi

	kill "$kpid"
	wait "$kpid"
	rc=$?
	kpid=
	[ $rc -eq 0 ] && ok "$cname: krank stopped on SIGTERM, exit 0" ||
		bad "$cname: krank exit $rc on SIGTERM: $(tail -3 "$work/krank.err")"
}

# (a) net_af_packet with qpairs=2 on the veth.
setup=
serve afpacket "$vdev" 10.97.1.2

# (b) net_tap with two queues: the PMD makes the tap (a multi-queue tun
# device) and Linux's tun driver picks each frame's queue by its flow
# hash.  The PMD gives the port Linux's MAC address: KRANK takes its own.
tap_up() {
	nsx ip addr add 10.97.2.1/24 dev kqctap0 && nsx ip link set kqctap0 up
}
setup=tap_up
serve tap "net_tap0,iface=kqctap0" 10.97.2.2 ", mac: 02:00:00:97:02:02"
exit $fail
