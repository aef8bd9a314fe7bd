#!/bin/sh
# The KRANK stack over the AF_PACKET backend, with PACKET_MMAP rings and
# with the copy path (ring=no), against Linux's own stack across a veth
# pair in a network namespace this test creates and removes.  For each:
# Linux pings KRANK 200 times (flood), sends 4 MiB through KRANK's TCP
# echo port (compared byte for byte) and 8 MiB to its discard port
# (counted by KRANK); KRANK's client exchanges UDP and TCP with Linux.
# That the rings are really used: the ring port has the packet socket
# mapped (/proc/PID/maps), the copy port has not.  With offloads (the
# default: PACKET_VNET_HDR), KRANK's 4 MiB echo crosses the veth as 64 KB
# segments Linux cuts: well under the ~4,400 frames (segments and ACKs)
# it takes without; offload=no keeps the rings without the header.
# Then the fallback (afp_fallback, through the host-call table): with the
# rings or their mapping refused a port opens on the copy path, says so
# once, and exchanges frames with a ring port across a second veth.
set -u
peer="$top_builddir/tests/rumpdrv/net/net_peer"
ns="krank-afpr-$$"
work=$(mktemp -d)
fail=0

netns_stopvars=
. "${top_srcdir:-.}/tests/netns_lib.sh"
netns_need socat ping
netns_add "$ns"
killns() {
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
}
nsx ip link add ka0 type veth peer name ka1
nsx ip addr add 10.79.1.1/24 dev ka0
# Linux would hand AF_PACKET partial checksums and 64 KB segments.
nsx ethtool -K ka0 tx off >/dev/null 2>&1 ||
	echo "note: ethtool missing; Linux may send partial checksums over veth"
nsx ip link set ka0 up
nsx ip link set ka1 up
head -c 4194304 /dev/urandom >"$work/blob4m"
head -c 8388608 /dev/zero >"$work/blob8m"

# run_case NAME SPEC RING(yes|no) OFFLOAD(tso|-)
run_case() {
	name=$1 kaddr=10.79.1.2
	mkfifo "$work/fifo.$name"
	ip netns exec "$ns" "$peer" "$2" "$kaddr/24" 10.79.1.1 60 \
		>"$work/fifo.$name" 2>"$work/err.$name" &
	ppid_=$!
	exec 3<"$work/fifo.$name"
	if ! read -r ready <&3; then
		echo "FAIL: $name: KRANK peer did not start: $(cat "$work/err.$name")"
		fail=1; exec 3<&-; return
	fi
	echo "$name: KRANK $ready"
	ip netns exec "$ns" socat UDP-RECVFROM:9999,bind=10.79.1.1,fork EXEC:cat >/dev/null 2>&1 &
	ip netns exec "$ns" socat TCP-LISTEN:9998,bind=10.79.1.1,reuseaddr,fork EXEC:cat >/dev/null 2>&1 &
	maps=$(grep -c 'socket:\[' "/proc/$ppid_/maps" 2>/dev/null)
	if [ "$3" = yes ] && [ "${maps:-0}" -gt 0 ]; then
		echo "ok: $name: the packet socket's rings are mapped ($maps mapping)"
	elif [ "$3" = no ] && [ "${maps:-0}" -eq 0 ]; then
		echo "ok: $name: no ring mapped (copy path)"
	else
		echo "FAIL: $name: ring $3 but $maps socket mappings"; fail=1
	fi
	if [ "$3" = yes ] && grep -q "no PACKET_MMAP ring" "$work/err.$name"; then
		echo "FAIL: $name: fell back: $(cat "$work/err.$name")"; fail=1
	fi
	if nsx ping -f -c 200 -W 2 "$kaddr" >"$work/ping.$name" 2>&1 &&
	    grep -q " 200 received" "$work/ping.$name"; then
		echo "ok: $name: Linux flood-pinged KRANK: $(grep -o '200 received.*loss' "$work/ping.$name"), $(grep -o 'rtt.*' "$work/ping.$name")"
	else
		echo "FAIL: $name: ping:"; cat "$work/ping.$name"; fail=1
	fi
	frames0=$(nsx cat /sys/class/net/ka0/statistics/rx_packets)
	nsx timeout 60 socat -t 10 - TCP:"$kaddr":7 <"$work/blob4m" >"$work/back.$name" 2>"$work/tcperr.$name"
	frames=$(( $(nsx cat /sys/class/net/ka0/statistics/rx_packets) - frames0 ))
	if cmp -s "$work/blob4m" "$work/back.$name"; then
		echo "ok: $name: 4 MiB through KRANK's TCP echo, byte for byte ($frames frames from KRANK)"
		# Without offloads about 4,400: 2,897 segments and an ACK
		# for every other of Linux's 2,897; with them the ACKs remain.
		if [ "$4" = tso ] && [ "$frames" -ge 2500 ]; then
			echo "FAIL: $name: $frames frames for the 4 MiB echo: no segmentation offload"; fail=1
		elif [ "$4" = tso ]; then
			echo "ok: $name: KRANK sent 64 KB segments for Linux to cut"
		fi
	else
		echo "FAIL: $name: TCP echo returned $(wc -c <"$work/back.$name") of 4194304 bytes: $(cat "$work/tcperr.$name")"; fail=1
	fi
	if nsx timeout 60 socat -u FILE:"$work/blob8m" TCP:"$kaddr":9 2>"$work/tcperr2.$name"; then
		echo "ok: $name: Linux sent 8 MiB to KRANK's TCP discard port"
	else
		echo "FAIL: $name: TCP discard: $(cat "$work/tcperr2.$name")"; fail=1
	fi
	# "quit" is one UDP datagram: resend it until the peer exits.
	for _try in $(seq 50); do
		kill -0 "$ppid_" 2>/dev/null || break
		printf 'quit\n' | nsx socat -u - UDP:"$kaddr":7
		sleep 0.2
	done
	wait "$ppid_"; rc=$?
	summary=$(cat <&3); exec 3<&-
	killns
	echo "$name: $summary"
	case "$rc:$summary" in
	0:*"linux echoed our probe yes"*"tcp discarded 8388608 bytes"*"linux echoed our tcp yes"*)
		echo "ok: $name: KRANK's client was echoed by Linux; KRANK counted all 8388608 discarded bytes" ;;
	*) echo "FAIL: $name: KRANK peer exit $rc: $(cat "$work/err.$name")"; fail=1 ;;
	esac
}

run_case ring afpacket:ka1 yes tso
run_case ring-plain afpacket:ka1,offload=no yes -
run_case copy afpacket:ka1,ring=no no -

nsx ip link add kf0 type veth peer name kf1
nsx ip link set kf0 up
nsx ip link set kf1 up
if nsx "$top_builddir/tests/hypercalls/afp_fallback" kf0 kf1 >"$work/fb" 2>"$work/fb.err"; then
	cat "$work/fb"
else
	cat "$work/fb"; echo "FAIL: afp_fallback: $(cat "$work/fb.err")"; fail=1
fi
n=$(grep -c "no PACKET_MMAP ring" "$work/fb.err")
if [ "$n" -eq 2 ]; then
	echo "ok: each refused port logged its fallback once: $(head -1 "$work/fb.err")"
else
	echo "FAIL: $n fallback log lines for 2 refused ports"; fail=1
fi
exit $fail
