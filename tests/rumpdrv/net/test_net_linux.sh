#!/bin/sh
# The KRANK stack against Linux's own, in a network namespace this test
# creates and removes: over a veth pair (AF_PACKET, transmit checksum
# offload off on the Linux side) and over a tap device, Linux pings KRANK,
# sends UDP datagrams (small, and 5000 bytes so both sides fragment and
# reassemble) to KRANK's echo port with socat, and echoes a KRANK
# client's probes with a socat server; over TCP, socat sends 1 MiB through
# KRANK's echo port and 100 MiB (tap) or 20 MiB (AF_PACKET) to its discard
# port, and a KRANK client's message is echoed by a Linux socat server.  Then, over the veth pair with
# nftables dropping 2% of the TCP packets both ways on the Linux side,
# 20 MiB must reach the discard port and 1 MiB come back through the echo
# port intact, Linux must have recovered its losses with SACK (its
# TcpExt counters) and KRANK must have sent SACK blocks (for Linux's
# losses) and used Linux's (for its own).
# Nothing outside the namespace is touched; readiness goes through a fifo.
set -u
peer="$top_builddir/tests/rumpdrv/net/net_peer"
ns="krank-net-$$"
work=$(mktemp -d)
fail=0

netns_stopvars=
netns_atexit() {
	for p in ${ppid_:-} ${spid:-} ${tpid:-} ${dpid:-}; do kill "$p" 2>/dev/null; done
}
. "${top_srcdir:-.}/tests/netns_lib.sh"
netns_need socat ping
netns_add "$ns"
# Stop whatever this test started inside its namespace (socat's forks).
killns() {
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
}
head -c 5000 /dev/urandom >"$work/blob"
head -c 1048576 /dev/urandom >"$work/blob1m"
head -c 104857600 /dev/zero >"$work/blob100m"
head -c 20971520 /dev/zero >"$work/blob20m"

# peer_start NAME SPEC KADDR LADDR SECONDS SETUP: the KRANK peer, then
# SETUP, then Linux's echo servers for the KRANK client's probes.
peer_start() {
	name=$1
	mkfifo "$work/fifo.$name"
	nsx "$peer" "$2" "$3/24" "$4" "$5" >"$work/fifo.$name" 2>"$work/err.$name" &
	ppid_=$!
	exec 3<"$work/fifo.$name"
	if ! read -r ready <&3; then
		echo "FAIL: $name: KRANK peer did not start: $(cat "$work/err.$name")"
		fail=1; exec 3<&-; ppid_=; return 1
	fi
	echo "$name: KRANK $ready"
	eval "$6"
	ip netns exec "$ns" socat UDP-RECVFROM:9999,bind="$4",fork EXEC:cat >/dev/null 2>&1 &
	spid=$!
	ip netns exec "$ns" socat TCP-LISTEN:9998,bind="$4",reuseaddr,fork EXEC:cat >/dev/null 2>&1 &
	tpid=$!
}

# peer_stop NAME KADDR: tell the peer to quit; sets rc and summary.
peer_stop() {
	# "quit" is one UDP datagram and may be lost like any other: send it
	# again every 0.2 s (a retransmission interval) until the peer exits.
	for _try in $(seq 50); do
		kill -0 "$ppid_" 2>/dev/null || break
		printf 'quit\n' | nsx socat -u - UDP:"$2":7
		sleep 0.2
	done
	wait "$ppid_"; rc=$?; ppid_=
	summary=$(cat <&3); exec 3<&-
	kill "$spid" "$tpid" 2>/dev/null; wait "$spid" "$tpid" 2>/dev/null; spid= tpid=
	killns
	echo "$1: $summary"
}

# run_case NAME SPEC KADDR LADDR SETUP
run_case() {
	name=$1 kaddr=$3
	peer_start "$1" "$2" "$3" "$4" 30 "$5" || return
	if nsx ping -c 3 -i 0.2 -W 3 "$kaddr" >"$work/ping.$name" 2>&1; then
		echo "ok: $name: Linux pinged KRANK: $(grep -o '[0-9]* received' "$work/ping.$name")"
	else
		echo "FAIL: $name: ping:"; cat "$work/ping.$name"; fail=1
	fi
	got=$(echo "hello from linux" | nsx socat -t 2 - UDP:"$kaddr":7 2>&1)
	if [ "$got" = "hello from linux" ]; then
		echo "ok: $name: UDP Linux -> KRANK echo -> Linux"
	else
		echo "FAIL: $name: UDP echo gave '$got'"; fail=1
	fi
	nsx socat -t 2 -b 8192 - UDP:"$kaddr":7 <"$work/blob" >"$work/back.$name" 2>&1
	if cmp -s "$work/blob" "$work/back.$name"; then
		echo "ok: $name: a 5000-byte datagram fragmented and reassembled both ways"
	else
		echo "FAIL: $name: 5000-byte echo differs ($(wc -c <"$work/back.$name") bytes back)"; fail=1
	fi
	[ -n "${lif:-}" ] && frames0=$(nsx cat /sys/class/net/$lif/statistics/rx_packets)
	nsx timeout 60 socat -t 10 - TCP:"$kaddr":7 <"$work/blob1m" >"$work/back1m.$name" 2>"$work/tcperr.$name"
	if cmp -s "$work/blob1m" "$work/back1m.$name"; then
		echo "ok: $name: 1 MiB through KRANK's TCP echo, byte for byte"
	else
		echo "FAIL: $name: TCP echo returned $(wc -c <"$work/back1m.$name") of 1048576 bytes: $(cat "$work/tcperr.$name")"; fail=1
	fi
	if [ -n "${lif:-}" ]; then
		# Segmentation offload: KRANK hands Linux 64 KB segments, so
		# the 1 MiB echoed back (724 segments of 1448 bytes) and
		# KRANK's ACKs of what it received cross in far fewer writes.
		frames=$(( $(nsx cat /sys/class/net/$lif/statistics/rx_packets) - frames0 ))
		if [ "$frames" -lt 400 ]; then
			echo "ok: $name: KRANK sent the 1 MiB echo in $frames frames (64 KB segments cut by Linux)"
		else
			echo "FAIL: $name: KRANK sent $frames frames for the 1 MiB echo: no segmentation offload"; fail=1
		fi
	fi
	if nsx timeout 180 socat -u FILE:"$work/blob${discard_mib}m" TCP:"$kaddr":9 2>"$work/tcperr2.$name"; then
		echo "ok: $name: Linux sent $discard_mib MiB to KRANK's TCP discard port"
	else
		echo "FAIL: $name: TCP discard: $(cat "$work/tcperr2.$name")"; fail=1
	fi
	peer_stop "$name" "$kaddr"
	case "$rc:$summary" in
	0:*"linux echoed our probe yes"*"linux echoed our tcp yes"*)
		echo "ok: $name: KRANK client's UDP and TCP echoed by Linux" ;;
	*) echo "FAIL: $name: KRANK peer exit $rc: $(cat "$work/err.$name")"; fail=1 ;;
	esac
	case "$summary" in
	*"tcp discarded $((discard_mib * 1048576)) bytes"*) echo "ok: $name: KRANK counted all $((discard_mib * 1048576)) discarded bytes" ;;
	*) echo "FAIL: $name: discard count wrong"; fail=1 ;;
	esac
}

nsx ip link add kn0 type veth peer name kn1
nsx ip addr add 10.78.1.1/24 dev kn0
if command -v ethtool >/dev/null 2>&1; then
	nsx ethtool -K kn0 tx off >/dev/null 2>&1
else
	echo "note: ethtool missing; Linux may send partial checksums over veth"
fi
nsx ip link set kn0 up
nsx ip link set kn1 up
# 20 MiB over AF_PACKET: its host socket queue (the default, ~200 KiB)
# overflows whenever KRANK's receive thread loses its CPU, and on a loaded
# machine 100 MiB can take minutes of Linux loss recoveries.
discard_mib=20
run_case afpacket afpacket:kn1 10.78.1.2 10.78.1.1 ":"

# tcpext NAME: a TcpExt counter of the namespace's Linux stack.
tcpext() {
	nsx cat /proc/net/netstat | awk -v k="$1" '$1 == "TcpExt:" {
		if (!h) { for (i = 2; i <= NF; i++) n[i] = $i; h = 1 }
		else for (i = 2; i <= NF; i++) if (n[i] == k) print $i }'
}

# run_lossy: TCP only, over kn0/kn1 with 2% of TCP dropped each way.
run_lossy() {
	name=lossy kaddr=10.78.1.2
	if ! command -v nft >/dev/null 2>&1; then
		echo "note: nft missing; the lossy SACK case is skipped"; return
	fi
	if ! nsx nft -f - <<-EOF 2>"$work/nft.err"
		table netdev krloss {
			chain out { type filter hook egress device "kn0" priority 0;
				ip protocol tcp numgen random mod 100 < 2 counter drop; }
			chain in { type filter hook ingress device "kn0" priority 0;
				ip protocol tcp numgen random mod 100 < 2 counter drop; }
		}
	EOF
	then
		echo "note: nftables netdev hooks unavailable ($(cat "$work/nft.err")); lossy case skipped"
		return
	fi
	# The egress hook sees Linux's packets before GSO cuts them into
	# segments: with GSO on, one drop takes up to 64 KiB at once and
	# drops are too rare to be sure of a recovery.  One segment each.
	nsx ethtool -K kn0 gso off tso off >/dev/null 2>&1
	# The copy path (ring=no): nftables' egress drops on kn0 are local
	# drops that Linux's TCP sees (dev_queue_xmit returns
	# NET_XMIT_DROP) and sends again without any loss on the wire, so
	# the frames Linux -> KRANK that KRANK must SACK are lost only where
	# KRANK's side drops them: the copy path's socket queue overflows
	# under this load, the PACKET_MMAP rings (2 MiB) did not.
	peer_start "$name" afpacket:kn1,ring=no "$kaddr" 10.78.1.1 60 ":" || return
	sackrec0=$(tcpext TCPSackRecovery)
	nsx timeout 120 socat -u FILE:"$work/blob20m" TCP:"$kaddr":9 2>"$work/tcperr2.$name" &
	dpid=$!
	: >"$work/ss.$name"
	while kill -0 "$dpid" 2>/dev/null; do
		nsx ss -tin dst "$kaddr" >>"$work/ss.$name" 2>&1
		sleep 0.1
	done
	if wait "$dpid"; then
		echo "ok: $name: Linux sent 20 MiB to KRANK's discard port over 2% loss"
	else
		echo "FAIL: $name: TCP discard: $(cat "$work/tcperr2.$name")"; fail=1
	fi
	# Linux's own word that it ran SACK with KRANK: its recoveries are
	# counted as TCPSackRecovery, not TCPRenoRecovery (ss -tin prints
	# "sack" too where its iproute2 matches the kernel; not all do).
	sackrec=$(($(tcpext TCPSackRecovery) - ${sackrec0:-0}))
	renorec=$(tcpext TCPRenoRecovery)
	if [ "${sackrec:-0}" -gt 0 ] && [ "${renorec:-0}" -eq 0 ]; then
		echo "ok: $name: Linux recovered with SACK ($sackrec TCPSackRecovery, 0 TCPRenoRecovery)$(grep -q -w sack "$work/ss.$name" && echo '; ss -tin shows sack')"
	else
		echo "FAIL: $name: Linux TCPSackRecovery ${sackrec:-?}, TCPRenoRecovery ${renorec:-?}"; fail=1
	fi
	nsx timeout 120 socat -t 10 - TCP:"$kaddr":7 <"$work/blob1m" >"$work/back1m.$name" 2>"$work/tcperr.$name"
	if cmp -s "$work/blob1m" "$work/back1m.$name"; then
		echo "ok: $name: 1 MiB through KRANK's TCP echo over 2% loss, byte for byte"
	else
		echo "FAIL: $name: TCP echo returned $(wc -c <"$work/back1m.$name") of 1048576 bytes"; fail=1
	fi
	peer_stop "$name" "$kaddr"
	echo "$name: nftables dropped: $(nsx nft list table netdev krloss | grep -o 'packets [0-9]*' | tr '\n' ' ')"
	nsx nft delete table netdev krloss
	sent=$(echo "$summary" | sed -n 's/.*sack blocks sent \([0-9]*\).*/\1/p')
	used=$(echo "$summary" | sed -n 's/.*sack blocks used \([0-9]*\).*/\1/p')
	case "$rc:$summary" in
	0:*"tcp discarded 20971520 bytes"*) echo "ok: $name: KRANK counted all 20971520 discarded bytes" ;;
	*) echo "FAIL: $name: KRANK peer exit $rc or discard count wrong: $(cat "$work/err.$name")"; fail=1 ;;
	esac
	if [ "${sent:-0}" -gt 0 ] && [ "${used:-0}" -gt 0 ]; then
		echo "ok: $name: KRANK sent $sent SACK blocks to Linux and used $used of Linux's"
	else
		echo "FAIL: $name: SACK blocks sent ${sent:-?}, used ${used:-?}"; fail=1
	fi
}
run_lossy

discard_mib=100
lif=ktapn0
run_case tap tap:ktapn0 10.78.2.2 10.78.2.1 \
	"nsx ip addr add 10.78.2.1/24 dev ktapn0 && nsx ip link set ktapn0 up"
# The same without offloads (offload=no: no virtio-net header), so the
# plain path stays tested.
discard_mib=20
lif=
run_case tap-plain tap:ktapn1,offload=no 10.78.3.2 10.78.3.1 \
	"nsx ip addr add 10.78.3.1/24 dev ktapn1 && nsx ip link set ktapn1 up"
exit $fail
