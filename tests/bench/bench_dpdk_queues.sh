#!/bin/sh
# bench_dpdk_queues.sh - one KRANK stack on a DPDK port of one and of two
# queue pairs (queues: N), against Linux clients across a veth, and
# Linux's own stack across a veth in the same run.
#
# The server is examples/echo/echo.kx under `krank run` on DPDK's
# af_packet PMD over one end of a veth (qpairs=1, or qpairs=2 with
# queues: 2: the kernel spreads flows over the two sockets by hash), or
# the same echo.c built for Linux (tests/bench/bench_echo) on Linux's
# stack; the clients are tests/rumpdrv/net/net_echo_client on Linux's
# sockets in another namespace.  Measured: one client (median and p99 of
# 64-byte TCP round trips, 64-byte UDP echoes/s with 32 in flight, MiB/s
# of BULK_KIB in 16 KiB round trips), and FLOWS clients at once (each its
# own TCP connection and UDP flow; the sum of their UDP echoes/s).
# BEFORE=DIR (another build tree, e.g. the tree before queues existed)
# adds its krank with one queue pair, rows alternated with this build's,
# for the single-queue path's A/B.  DPDK in ordinary pages (--no-huge);
# krank's deployment cores are CORES (default: the last CPU; e.g.
# CORES="0, 1"), the echo isolate and the EAL's lcore on the last CPU.
#   make krank/krank examples/echo/echo.kx tests/bench/bench_echo \
#        tests/rumpdrv/net/net_echo_client
#   [BEFORE=DIR] [CORES=LIST] sh tests/bench/bench_dpdk_queues.sh [ROUND_TRIPS]
#        [UDP_PACKETS] [BULK_KIB] [FLOWS] [REPEAT]
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=$(cd "${top_builddir:-$src}" && pwd)
rts=${1:-3000} udp=${2:-50000} bulk=${3:-8192} flows=${4:-4} rep=${5:-1}
before=${BEFORE:-}
. "$src/tests/bench/point.sh"
PATH=$PATH:/sbin:/usr/sbin
skip() { echo "bench_dpdk_queues: skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
grep -q 'define HAVE_DPDK 1' "$bld/config.h" || skip "built without DPDK"
command -v ip >/dev/null 2>&1 || skip "needs ip"
cli="$bld/tests/rumpdrv/net/net_echo_client"
for f in krank/krank examples/echo/echo.kx tests/bench/bench_echo \
    tests/rumpdrv/net/net_echo_client; do
	[ -e "$bld/$f" ] || skip "$bld/$f not built (make $f)"
done
[ -z "$before" ] || [ -x "$before/krank/krank" ] || skip "BEFORE=$before has no krank/krank"
prefix=kbq
. "$src/tests/bench/dpdk_ns.sh"
cores=${CORES:-$core}

# KRANK's veth (kbq0 in the client namespace, kbq1 the server's, under the
# PMD) and Linux's (kbq2, kbq3).  The PMD completes no checksum Linux left
# to the device: the client's end computes them (tx off).
ip link add kbq0 netns $ca type veth peer name kbq1 netns $sa
ip link add kbq2 netns $ca type veth peer name kbq3 netns $sa
ip netns exec $ca ethtool -K kbq0 tx off >/dev/null 2>&1
ip -n $ca addr add 10.95.1.1/24 dev kbq0
ip -n $ca addr add 10.95.2.1/24 dev kbq2
ip -n $sa addr add 10.95.2.2/24 dev kbq3
for l in "$ca kbq0" "$sa kbq1" "$ca kbq2" "$sa kbq3"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip netns exec $sa "$bld/tests/bench/bench_echo" --port 7 --max-conn 64 >"$work/e.out" 2>&1 &
epid=$!

# krank_up NAME BUILD QPAIRS: krank run of echo.kx on net_af_packet0 over
# kbq1 with QPAIRS queue pairs (queues: QPAIRS when more than one).
krank_up() {
	q=
	[ "$3" -gt 1 ] && q=", queues: $3"
	cat >"$work/$1.yaml" <<EOT
name: bench-dpdkq-$1
cores: [$cores]
memory: {size: 256M, mlock: no}
components: [vfs, tmpfs, net, ether, virtif, socket, inet]
interfaces:
  - {name: krank0, backend: dpdk, device: net_af_packet0, address: 10.95.1.2/24, mac: "02:00:00:95:00:02"$q}
isolates:
  - {name: echo, elf: $bld/examples/echo/echo.kx,
     argv: [echo, --port, "7", --max-conn, "64"], core: $core}
control: {socket: $work/$1.sock}
EOT
	rm -f "$work/$1.out"
	mkfifo "$work/$1.out"
	ip netns exec $sa env KRANK_DPDK_EAL="$eal --vdev=net_af_packet0,iface=kbq1,qpairs=$3" \
		"$2/krank/krank" run "$work/$1.yaml" >"$work/$1.out" 2>"$work/$1.err" &
	kpid=$!
	exec 3<"$work/$1.out"
	ready=
	while read -r l <&3; do case $l in *ready*) ready=1; break ;; esac; done
	[ -n "$ready" ] || { echo "bench_dpdk_queues: $1: krank did not start: $(tail -3 "$work/$1.err")"; exit 1; }
	cat <&3 >/dev/null &
	exec 3<&-
}
krank_down() {
	kill "$kpid" 2>/dev/null; wait "$kpid" 2>/dev/null; kpid=
}

# measure NAME ADDR: one client, then FLOWS at once; sums into NAME's
# variables (divided by REPEAT at the end).
measure() {
	name=$1 addr=$2
	ip netns exec $ca "$cli" linux - "$addr" "$rts" "$udp" 20 "$bulk" \
		>"$work/$name.res" 2>"$work/$name.cerr" ||
		echo "bench_dpdk_queues: $name: client failed: $(cat "$work/$name.res") $(tail -2 "$work/$name.cerr")"
	for kv in $(grep '^@result' "$work/$name.res"); do
		case $kv in
		tcp_rtt_med_us=*) acc "rtt_$name" "${kv#*=}" ;;
		tcp_rtt_p99_us=*) acc "p99_$name" "${kv#*=}" ;;
		udp_pps=*) acc "pps_$name" "${kv#*=}" ;;
		bulk_mib_s=*) acc "bulk_$name" "${kv#*=}" ;;
		esac
	done
	pids=
	i=0
	while [ $i -lt "$flows" ]; do
		ip netns exec $ca "$cli" linux - "$addr" 100 "$udp" 20 0 \
			>"$work/$name.f$i" 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do wait "$p"; done
	sum=$(cat "$work/$name".f* | grep -o 'udp_pps=[0-9.]*' |
		awk -F= '{ s += $2 } END { printf "%.0f", s }')
	acc "flows_$name" "$sum"
	lost=$(cat "$work/$name".f* | tr ' ' '\n' | awk -F= '
		$1 == "udp_sent" { s += $2 } $1 == "udp_echoed" { e += $2 }
		END { print s - e }')
	acc "lost_$name" "$lost"
	if [ -S "$work/$name.sock" ]; then
		"$bld/krank/krankctl" -s "$work/$name.sock" metrics 2>/dev/null |
			grep '^krank_interface_receive_queue_packets_total' |
			sed "s/^/# $name: /"
	fi
}
acc() {
	eval "$1=\$(awk -v a=\"\${$1:-0}\" -v b=\"$2\" 'BEGIN { print a + b }')"
}

r=0
while [ $r -lt "$rep" ]; do
	if [ -n "$before" ]; then
		krank_up before "$before" 1
		measure before 10.95.1.2
		krank_down
	fi
	krank_up q1 "$bld" 1
	measure q1 10.95.1.2
	krank_down
	krank_up q2 "$bld" 2
	measure q2 10.95.1.2
	krank_down
	measure linux 10.95.2.2
	r=$((r + 1))
done

avg() { eval "awk -v a=\"\${$1:-0}\" -v n=$rep 'BEGIN { printf \"%.1f\", a / n }'"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a > 0 && b > 0) ? a / b : 0 }'; }
cols="q1 q2 linux"
[ -n "$before" ] && cols="before q1 q2 linux"
printf '\nKRANK on net_af_packet (cores %s), 1 vs 2 queue pairs, vs Linux across a veth (%s round trips, %s UDP datagrams of 64 B, %s flows at once; mean of %s runs; load %s)\n' \
	"$cores" "$rts" "$udp" "$flows" "$rep" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s' ""
for c in $cols; do printf ' %10s' "$c"; done
printf '\n'
for m in "rtt:TCP round trip median, us" "p99:TCP round trip p99, us" \
    "pps:UDP echoes/s, one flow" "bulk:bulk 16 KiB round trips, MiB/s" \
    "flows:UDP echoes/s, $flows flows" "lost:  datagrams not echoed, per run"; do
	printf '%-34s' "${m#*:}"
	for c in $cols; do printf ' %10s' "$(avg "${m%%:*}_$c")"; done
	printf '\n'
done
printf '2 queues vs 1: UDP %s flows %sx, one flow %sx, RTT %sx\n' "$flows" \
	"$(ratio "$(avg flows_q2)" "$(avg flows_q1)")" \
	"$(ratio "$(avg pps_q2)" "$(avg pps_q1)")" \
	"$(ratio "$(avg rtt_q2)" "$(avg rtt_q1)")"
[ -n "$before" ] && printf 'one queue, this build vs BEFORE: RTT %sx, UDP %sx, bulk %sx\n' \
	"$(ratio "$(avg rtt_q1)" "$(avg rtt_before)")" \
	"$(ratio "$(avg pps_q1)" "$(avg pps_before)")" \
	"$(ratio "$(avg bulk_q1)" "$(avg bulk_before)")"
point dpdk-afp-q2-flows "$(avg flows_q2)" "$(avg flows_linux)" pkt/s higher 1 "KRANK on net_af_packet with 2 queue pairs vs Linux veth: 64 B UDP echoes/s, $flows flows"
point dpdk-afp-q1-flows "$(avg flows_q1)" "$(avg flows_linux)" pkt/s higher 1 "KRANK on net_af_packet with 1 queue pair vs Linux veth: 64 B UDP echoes/s, $flows flows"
point dpdk-afp-q1-rtt "$(avg rtt_q1)" "$(avg rtt_linux)" us lower 1 "KRANK on net_af_packet with 1 queue pair vs Linux veth: 64 B TCP RTT median"
