#!/bin/sh
# The AF_PACKET backend's PACKET_MMAP rings (with their offloads, and
# without: offload=no) against its copy path (afpacket:IF,ring=no:
# recvmmsg batches, one sendmsg per frame) and against Linux's own stack,
# across the same veth pair, in one run.  Two
# network namespaces made here: the client side (Linux's ping and socat)
# and the server side, where the same veth end is served in turn by KRANK's
# stack (tests/rumpdrv/net/net_peer) over the rings, by KRANK over the copy
# path, and by Linux's stack (an address on that end, socat discarding).
# Across processes; nobody pinned or spinning (KRANK's receive thread
# sleeps in poll like Linux's socat).  Measured: ping -f round trip
# (median of runs is the bench runner's job; here avg of COUNT pings) and
# request/reply rate, a bulk TCP transfer Linux -> server's discard
# port: MiB/s and frames/s crossing the veth (data and ACKs), and a TCP
# echo of the same size through the server (KRANK's echo loop; Linux:
# socat with a pipe), MiB/s each way.  Linux's
# transmit offloads are off on the client end (KRANK's AF_PACKET port
# takes 1,500-byte frames with whole checksums), for every variant.
#   make tests/rumpdrv/net/net_peer && sh tests/bench/bench_afpacket.sh [MiB] [PINGS]
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${top_builddir:-$src}
mib=${1:-32}
pings=${2:-2000}
. "$src/tests/bench/point.sh"
peer="$bld/tests/rumpdrv/net/net_peer"
[ "$(id -u)" -eq 0 ] || { echo "bench_afpacket: needs root"; exit 77; }
for t in socat ping ip; do
	command -v $t >/dev/null 2>&1 || { echo "bench_afpacket: needs $t"; exit 77; }
done
[ -x "$peer" ] || { echo "bench_afpacket: build $peer first"; exit 77; }
work=$(mktemp -d)
cli=kba-cli-$$ srv=kba-srv-$$
skip() { echo "bench_afpacket: skipped: $*"; exit 77; }
netns_stopvars=
. "$src/tests/netns_lib.sh"
netns_add "$cli" "$srv"
ip -n $cli link add kb0 type veth peer name kb1 netns $srv
ip -n $cli addr add 10.81.1.1/24 dev kb0
ip netns exec $cli ethtool -K kb0 tx off >/dev/null 2>&1
ip -n $cli link set kb0 up
ip -n $srv link set kb1 up
head -c $((mib * 1048576)) /dev/zero >"$work/blob"
head -c $((mib * 1048576 / 2)) /dev/urandom >"$work/half"
now() { date +%s%N; }
stat_() { ip netns exec $cli cat /sys/class/net/kb0/statistics/$1; }

# measure NAME ADDR: ping and bulk against ADDR; sets rtt_NAME (us),
# pps_NAME (pings/s), mibs_NAME, fps_NAME.
measure() {
	ip netns exec $cli ping -q -f -c 200 -W 2 "$2" >/dev/null 2>&1	# warm: ARP, pages
	t0=$(now)
	ip netns exec $cli ping -q -f -c "$pings" -W 2 "$2" >"$work/ping.$1" 2>&1
	t1=$(now)
	rtt=$(sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p' "$work/ping.$1")
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$work/ping.$1")
	eval "rtt_$1=\$(awk -v r=\"\${rtt:-0}\" 'BEGIN { print r * 1000 }')"
	eval "pps_$1=\$(awk -v n=\"\${got:-0}\" -v t=$((t1 - t0)) 'BEGIN { printf \"%.0f\", n / (t / 1e9) }')"
	tx0=$(stat_ tx_packets) rx0=$(stat_ rx_packets)
	t0=$(now)
	if ! ip netns exec $cli timeout 120 socat -u FILE:"$work/blob" TCP:"$2":9 2>"$work/bulk.$1"; then
		echo "bench_afpacket: $1: bulk transfer failed: $(cat "$work/bulk.$1")"
	fi
	t1=$(now)
	fr=$(( $(stat_ tx_packets) - tx0 + $(stat_ rx_packets) - rx0 ))
	eval "mibs_$1=\$(awk -v m=$mib -v t=$((t1 - t0)) 'BEGIN { printf \"%.1f\", m / (t / 1e9) }')"
	eval "fps_$1=\$(awk -v f=$fr -v t=$((t1 - t0)) 'BEGIN { printf \"%.0f\", f / (t / 1e9) }')"
	t0=$(now)
	ip netns exec $cli timeout 120 socat -b 65536 -t 5 - TCP:"$2":7 <"$work/half" >"$work/back.$1" 2>>"$work/bulk.$1"
	t1=$(now)
	cmp -s "$work/half" "$work/back.$1" || echo "bench_afpacket: $1: echo returned $(wc -c <"$work/back.$1") bytes"
	eval "echo_$1=\$(awk -v m=$mib -v t=$((t1 - t0)) 'BEGIN { printf \"%.1f\", m / 2 / (t / 1e9) }')"
}

# KRANK's stack on kb1, over SPEC.
krank_case() {
	mkfifo "$work/fifo.$1"
	ip netns exec $srv "$peer" "$2" 10.81.1.2/24 10.81.1.1 300 >"$work/fifo.$1" 2>"$work/err.$1" &
	kpid=$!
	exec 3<"$work/fifo.$1"
	read -r ready <&3 || { echo "bench_afpacket: $1: peer did not start: $(cat "$work/err.$1")"; exit 1; }
	measure "$1" 10.81.1.2
	for _try in $(seq 50); do
		kill -0 "$kpid" 2>/dev/null || break
		printf 'quit\n' | ip netns exec $cli socat -u - UDP:10.81.1.2:7
		sleep 0.2
	done
	wait "$kpid"
	cat <&3 >/dev/null; exec 3<&-
	if grep -q "no PACKET_MMAP ring" "$work/err.$1"; then
		echo "bench_afpacket: $1: $(cat "$work/err.$1")"
	fi
}

krank_case ring afpacket:kb1
krank_case plain afpacket:kb1,offload=no
krank_case copy afpacket:kb1,ring=no
# Linux's stack on the same veth end.
ip -n $srv addr add 10.81.1.3/24 dev kb1
ip netns exec $srv socat -u TCP-LISTEN:9,bind=10.81.1.3,reuseaddr,fork OPEN:/dev/null >/dev/null 2>&1 &
ip netns exec $srv socat -b 65536 TCP-LISTEN:7,bind=10.81.1.3,reuseaddr,fork PIPE >/dev/null 2>&1 &
for _i in $(seq 50); do
	ip netns exec $srv ss -ltn 2>/dev/null | grep -q '10.81.1.3:7 ' &&
		ip netns exec $srv ss -ltn 2>/dev/null | grep -q '10.81.1.3:9 ' && break
	sleep 0.1
done
measure linux 10.81.1.3

printf '\nAF_PACKET backend vs Linux across one veth (%s MiB bulk, %s pings; across processes, unpinned, not spinning)\n' "$mib" "$pings"
printf '%-28s %10s %10s %10s %10s\n' "" "ring" "ring-plain" "copy" "Linux"
printf '%-28s %10s %10s %10s %10s\n' "ping -f round trip, us" "$rtt_ring" "$rtt_plain" "$rtt_copy" "$rtt_linux"
printf '%-28s %10s %10s %10s %10s\n' "ping -f replies/s" "$pps_ring" "$pps_plain" "$pps_copy" "$pps_linux"
printf '%-28s %10s %10s %10s %10s\n' "TCP bulk in, MiB/s" "$mibs_ring" "$mibs_plain" "$mibs_copy" "$mibs_linux"
printf '%-28s %10s %10s %10s %10s\n' "TCP bulk, frames/s on veth" "$fps_ring" "$fps_plain" "$fps_copy" "$fps_linux"
printf '%-28s %10s %10s %10s %10s\n' "TCP echo, MiB/s each way" "$echo_ring" "$echo_plain" "$echo_copy" "$echo_linux"
printf 'ring vs copy: round trip %sx, bulk in %sx, echo %sx\n\n' \
	"$(awk -v a="$rtt_ring" -v b="$rtt_copy" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')" \
	"$(awk -v a="$mibs_ring" -v b="$mibs_copy" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" \
	"$(awk -v a="$echo_ring" -v b="$echo_copy" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
for v in ring plain copy; do
	eval "r=\$rtt_$v m=\$mibs_$v f=\$fps_$v e=\$echo_$v"
	point afp-rtt-$v "$r" "$rtt_linux" us lower 1 "AF_PACKET $v: ping -f RTT vs Linux's stack on the same veth"
	point afp-bulk-$v "$m" "$mibs_linux" MiB/s higher 1 "AF_PACKET $v: TCP bulk in vs Linux"
	point afp-fps-$v "$f" "$fps_linux" frames/s higher 1 "AF_PACKET $v: frames/s on the veth during bulk in vs Linux"
	point afp-echo-$v "$e" "$echo_linux" MiB/s higher 1 "AF_PACKET $v: TCP echo (each way) vs Linux socat"
done
point afp-ring-vs-copy-rtt "$rtt_ring" "$rtt_copy" us lower 1 "AF_PACKET rings vs copy path: ping -f RTT"
point afp-ring-vs-copy-bulk "$mibs_ring" "$mibs_copy" MiB/s higher 1 "AF_PACKET rings vs copy path: TCP bulk in"
point afp-ring-vs-copy-echo "$echo_ring" "$echo_copy" MiB/s higher 1 "AF_PACKET rings vs copy path: TCP echo"
