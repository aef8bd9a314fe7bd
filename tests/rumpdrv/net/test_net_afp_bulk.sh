#!/bin/sh
# Two KRANK stacks talking TCP over the AF_PACKET backend across a veth
# pair in a network namespace this test creates and removes: net_peer
# (echo on port 7) on one end, net_echo_client on the other moving 2 MiB
# through the echo in 16 KiB round trips, every byte checked.  With the
# veth's transmit checksumming off (no TSO: KRANK's 64 KB segments must
# take the qdisc path, where Linux cuts them; the direct path dropped
# them) and on (whole 64 KB segments cross the veth and reach the other
# port too big for a ring slot: read from the socket's queue), and with
# the client on a port without offloads and on the copy path; and with
# TSO turned off on the server's end after it opened its port (the first
# send the kernel drops turns the qdisc bypass off).
set -u
peer="$top_builddir/tests/rumpdrv/net/net_peer"
client="$top_builddir/tests/rumpdrv/net/net_echo_client"
ns="krank-afpb-$$"
work=$(mktemp -d)
fail=0
kib=2048

netns_stopvars=
. "${top_srcdir:-.}/tests/netns_lib.sh"
netns_need ethtool
netns_add "$ns"
# Both ends in one namespace; Linux has no address on them.
nsx ip link add kb0 type veth peer name kb1
nsx ip link set kb0 up
nsx ip link set kb1 up
stat() { nsx cat "/sys/class/net/$1/statistics/$2"; }

# run_case NAME TX(on|off) CLIENT_SPEC
run_case() {
	name=$1
	nsx ethtool -K kb0 tx "$2" >/dev/null 2>&1
	nsx ethtool -K kb1 tx "$2" >/dev/null 2>&1
	drop0=$(( $(stat kb0 tx_dropped) + $(stat kb1 tx_dropped) ))
	mkfifo "$work/fifo.$name"
	ip netns exec "$ns" "$peer" afpacket:kb1 10.79.9.2/24 10.79.9.1 60 \
		>"$work/fifo.$name" 2>"$work/perr.$name" &
	ppid_=$!
	exec 3<"$work/fifo.$name"
	if ! read -r ready <&3; then
		echo "FAIL: $name: KRANK server did not start: $(cat "$work/perr.$name")"
		fail=1; exec 3<&-; return
	fi
	# TSO gone after the server's open (it took the qdisc bypass).
	[ "$4" = gone ] && nsx ethtool -K kb1 tx off >/dev/null 2>&1
	pkts0=$(stat kb1 rx_packets)
	nsx timeout 60 "$client" "$3" 10.79.9.1/24 10.79.9.2 20 50 20 $kib \
		>"$work/out.$name" 2>"$work/cerr.$name"
	rc=$?
	pkts=$(( $(stat kb1 rx_packets) - pkts0 ))
	drop=$(( $(stat kb0 tx_dropped) + $(stat kb1 tx_dropped) - drop0 ))
	kill "$ppid_" 2>/dev/null; wait "$ppid_" 2>/dev/null; exec 3<&-
	res=$(grep @result "$work/out.$name")
	if [ "$rc" -eq 0 ] && echo "$res" | grep -q " bulk_kib_ok=$kib "; then
		echo "ok: $name: tx $2: $kib KiB through the echo, byte for byte ($pkts frames into the server's veth end): $res"
	else
		echo "FAIL: $name: tx $2: client exit $rc: $res $(cat "$work/cerr.$name")"
		fail=1
	fi
	if [ "$4" = gone ]; then
		if grep -q "no more qdisc bypass" "$work/perr.$name"; then
			echo "ok: $name: the kernel dropped $drop segment(s) on the direct path; the server said so and took the qdisc: $(grep bypass "$work/perr.$name")"
		else
			echo "FAIL: $name: TSO went off, yet the server kept the qdisc bypass ($drop dropped)"; fail=1
		fi
	elif [ "$drop" -ne 0 ]; then
		echo "FAIL: $name: the veth dropped $drop of KRANK's sends"; fail=1
	elif grep -h "said once" "$work/perr.$name" "$work/cerr.$name"; then
		echo "FAIL: $name: frames were dropped (above)"; fail=1
	fi
	# 2 MiB as 1,448-byte segments are ~1,450 frames; 64 KB segments
	# crossing whole (tx on) a few hundred with the ACKs.
	if [ "$4" = merged ] && [ "$pkts" -ge 1400 ]; then
		echo "FAIL: $name: $pkts frames: no 64 KB segments crossed whole"; fail=1
	elif [ "$4" = merged ]; then
		echo "ok: $name: 64 KB segments crossed the veth whole and were taken from the socket's queue"
	fi
}

run_case ring-txoff off afpacket:kb0 -
run_case ring-txon on afpacket:kb0 merged
run_case plain-txoff off afpacket:kb0,offload=no -
run_case copy-txoff off afpacket:kb0,ring=no -
run_case ring-tsogone on afpacket:kb0 gone
exit $fail
