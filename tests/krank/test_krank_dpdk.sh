#!/bin/sh
# KRANK's TCP/IP stack over DPDK's virtual devices, against real peers, in
# a network namespace this test creates (and removes):
#  (a) net_af_packet: `krank run` with an interface of backend dpdk on
#      DPDK's af_packet PMD over one end of a veth; Linux, on the other
#      end, pings KRANK, exchanges TCP and UDP with examples/echo (an
#      isolate) through socat, and runs net_echo_client on its own stack;
#  (b) net_memif: the same deployment on a memif server port, and a
#      second KRANK process -- net_echo_client on the DPDK host
#      (libkrank-hypercall-dpdk), memif client -- does TCP round trips and
#      UDP through it, every byte checked;
#  (c) net_tap: DPDK's tap PMD makes a tap in the namespace; Linux pings
#      KRANK and talks TCP and UDP to the echo through it;
#  (d) net_ring: two KRANK stacks in one process (DPDK host) on a ring
#      pair, TCP round trips and UDP.
# Each TCP client also moves 1 MiB through the echo in 16 KiB round trips:
# full-sized segments, which a DPDK port sends from the stack's own
# buffers (hyp_pkt_send_ref), every byte checked.
# The EAL runs in ordinary pages (--no-huge), as on CI.
set -u
ns="krank-dpdk-$$" tools=""
. "${top_srcdir:-.}/tests/krank/dpdk_lib.sh"
cli="$bld/tests/rumpdrv/net/net_echo_client"
clid="$bld/tests/rumpdrv/net/net_echo_client_dpdkhost"

# start_krank NAME VDEV ADDR [MORE]: krank run of the echo isolate behind
# the dpdk: port VDEV's name (MORE: more keys of the interface), the EAL
# given VDEV; waits for "ready".
start_krank() {
	name=$1 vdev=$2 addr=$3 more=${4:-}
	dev=${vdev%%,*}
	cat >"$work/$name.yaml" <<EOT
name: dpdk-$name
cores: [$core]
memory: {size: 256M, mlock: no}
components: [vfs, tmpfs, net, ether, virtif, socket, inet]
interfaces:
  - {name: krank0, backend: dpdk, device: $dev, address: $addr$more}
isolates:
  - {name: echo, elf: $bld/examples/echo/echo.kx,
     argv: [echo, --port, "7"], core: $core}
control: {socket: $work/$name.sock}
EOT
	rm -f "$work/$name.out"
	mkfifo "$work/$name.out"
	# Not through nsx: $! must be krank's pid (a function would fork).
	ip netns exec "$ns" env KRANK_DPDK_EAL="$eal --vdev=$vdev" "$krank" run "$work/$name.yaml" \
		>"$work/$name.out" 2>"$work/$name.err" &
	kpid=$!
	exec 3<"$work/$name.out"
	ready=
	while read -r l <&3; do
		case $l in *ready*) ready=$l; break ;; esac
	done
	if [ -z "$ready" ]; then
		bad "$name: krank did not get ready: $(tail -5 "$work/$name.err")"
		exec 3<&-
		kill "$kpid" 2>/dev/null; wait "$kpid" 2>/dev/null; kpid=
		return 1
	fi
	cat <&3 >/dev/null &
	exec 3<&-
	ok "$name: krank run is ready with interface krank0 on dpdk:$dev ($addr)"
}

stop_krank() {
	[ -n "$kpid" ] || return 0
	kill "$kpid"
	wait "$kpid"
	rc=$?
	kpid=
	# SIGTERM: krank stops in order (143 would be a death by the signal).
	[ $rc -eq 0 ] && ok "$1: krank stopped on SIGTERM, exit 0" ||
		bad "$1: krank exit $rc on SIGTERM: $(tail -3 "$work/$1.err")"
}

# linux_peer NAME ADDR: Linux pings KRANK, TCP and UDP echo through socat,
# then net_echo_client on Linux's stack.
linux_peer() {
	name=$1 addr=$2
	if nsx ping -c 3 -i 0.2 -W 3 "$addr" >"$work/ping.$name" 2>&1; then
		ok "$name: Linux pinged KRANK at $addr: $(grep -o '[0-9]* received' "$work/ping.$name")"
	else
		bad "$name: ping $addr failed: $(tail -2 "$work/ping.$name")"
	fi
	msg="krank over dpdk $name $$"
	got=$(printf '%s\n' "$msg" | nsx socat -t 1 -T 5 - "TCP:$addr:7,connect-timeout=5" 2>&1)
	[ "$got" = "$msg" ] && ok "$name: socat's TCP line came back from the echo isolate" ||
		bad "$name: TCP echo through socat gave '$got'"
	got=$(printf '%s\n' "$msg" | nsx socat -t 1 -T 3 - "UDP:$addr:7" 2>&1)
	[ "$got" = "$msg" ] && ok "$name: socat's UDP datagram came back" ||
		bad "$name: UDP echo through socat gave '$got'"
	if out=$(nsx "$cli" linux - "$addr" 200 500 20 1024 2>&1); then
		ok "$name: Linux's stack: 200 TCP round trips and 1 MiB in 16 KiB round trips intact (KRANK sends full segments from its buffers), UDP: $(echo "$out" | grep -o 'udp_echoed=[0-9]*')"
	else
		bad "$name: net_echo_client on Linux's stack: $out"
	fi
}

# (a) net_af_packet on a veth.
nsx ip link add kd0 type veth peer name kd1
# DPDK's af_packet PMD does not complete checksums Linux left to the
# device (it ignores TP_STATUS_CSUMNOTREADY), so the veth must not
# offload them, as on a NIC without checksum offload.
if command -v ethtool >/dev/null 2>&1; then
	nsx ethtool -K kd0 tx off >/dev/null 2>&1
else
	echo "info: no ethtool: TCP and UDP over net_af_packet may see bad checksums"
fi
nsx ip addr add 10.98.1.1/24 dev kd0
nsx ip link set kd0 up
nsx ip link set kd1 up
if start_krank afpacket "net_af_packet0,iface=kd1" 10.98.1.2/24; then
	linux_peer afpacket 10.98.1.2
	stop_krank afpacket
fi

# (b) net_memif between two KRANK processes.  The memif socket is an
# abstract one (DPDK's default), so in this namespace only.
sock="krank-memif-$$"
if start_krank memif "net_memif0,role=server,socket=$sock,mac=02:00:00:98:02:02" 10.98.2.2/24; then
	if out=$(nsx env KRANK_DPDK_EAL_ARGS="--vdev=net_memif0,role=client,socket=$sock,mac=02:00:00:98:02:01" \
	    KRANK_DPDK_HUGE=no KRANK_DPDK_MEM=128 "$clid" dpdk:net_memif0 10.98.2.1/24 \
	    10.98.2.2 500 2000 20 1024 2>"$work/memif.cli.err"); then
		ok "memif: KRANK (DPDK host, memif client) to KRANK (krank run, memif server): 500 TCP round trips and 1 MiB in 16 KiB round trips intact; $(echo "$out" | grep -o 'tcp_rtt_med_us=[0-9.]*') $(echo "$out" | grep -o 'udp_echoed=[0-9]*')/2000 UDP"
	else
		bad "memif: client: $out $(tail -5 "$work/memif.cli.err")"
	fi
	stop_krank memif
fi

# (c) net_tap: the PMD makes the tap; Linux addresses its side.  The PMD
# gives the port and Linux's side of the tap the same MAC address, and a
# stack drops frames from its own address, so KRANK takes its own (mac:).
if start_krank tap "net_tap0,iface=kdtap0" 10.98.3.2/24 ", mac: 02:00:00:98:03:02"; then
	nsx ip addr add 10.98.3.1/24 dev kdtap0 && nsx ip link set kdtap0 up
	linux_peer tap 10.98.3.2
	stop_krank tap
fi

# (d) net_ring: two KRANK stacks in one process on the DPDK host, joined
# by two ring ports over a crossed pair of rings.
if out=$(KRANK_DPDK_HUGE=no KRANK_DPDK_MEM=128 "$clid" ring 10.98.4.1/24 10.98.4.2 200 2000 20 1024 2>&1); then
	ok "ring: two stacks in one process: 200 TCP round trips and 1 MiB in 16 KiB round trips intact (each stack receives the other's buffers), $(echo "$out" | grep -o 'udp_echoed=[0-9]*')/2000 UDP"
else
	bad "ring: $out"
fi

nsx ip link show kdtap0 >/dev/null 2>&1 && bad "kdtap0 is left after krank stopped" ||
	ok "the tap PMD's kdtap0 is gone after krank stopped"
exit $fail
