#!/bin/sh
# bench_net_tools.sh - the tools a user would pick, from a Linux network
# namespace, against KRANK's TCP/IP stack and against Linux's, same run
# (issue 16):
#   sockperf ping-pong, UDP and TCP, 64-byte messages, full round trips
#   (--full-rtt): average, median and p99;
#   iperf3, TCP, client to server and server to client (-R): throughput.
# The servers are the same unmodified Debian programs (sockperf server,
# iperf3 -s) on both sides:
#   KRANK: under libkrank-preload.so (krank-attach) on the stack of a
#          `krank run` deployment reached through its tap (KRANK
#          10.96.2.2, the client's namespace 10.96.2.1);
#   Linux: in a second namespace behind a veth (10.96.1.2 from 10.96.1.1).
# The clients are plain Linux programs in the first namespace, so both
# sides are reached by Linux's own TCP/UDP.  Server side on the last CPU
# (KRANK's deployment core, its ring servers and the attached servers;
# or the Linux servers pinned there), clients on the others; nothing
# spins (KRANK_SPIN_US=0, queue spin 0us).  Needs root, sockperf, iperf3.
#   make libkrank-preload.la bridge/krank-attach krank/krank &&
#   sh tests/bench/bench_net_tools.sh [SECONDS]     (default 10 per point)
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=$(cd "${top_builddir:-$src}" && pwd)
secs=${1:-10}
. "$src/tests/bench/point.sh"
PATH=$PATH:/sbin:/usr/sbin
skip() { echo "bench_net_tools: skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, a tap)"
for t in sockperf iperf3 ip taskset; do
	command -v $t >/dev/null 2>&1 ||
		skip "needs $t (scripts/install-deps.sh --bench installs sockperf and iperf3)"
done
preload=$bld/.libs/libkrank-preload.so
for f in "$preload" "$bld/bridge/krank-attach" "$bld/krank/krank"; do
	[ -r "$f" ] || skip "$f not built (make libkrank-preload.la bridge/krank-attach krank/krank)"
done
work=$(mktemp -d)
cli=kbt-cli-$$ srv=kbt-srv-$$
kpid=
. "$src/tests/netns_lib.sh"
trap 'exit 1' INT TERM
netns_add "$cli" "$srv"
ip link add kbtc0 netns "$cli" type veth peer name kbts0 netns "$srv" || exit 1
ip -n "$cli" addr add 10.96.1.1/24 dev kbtc0
ip -n "$srv" addr add 10.96.1.2/24 dev kbts0
ip -n "$cli" link set kbtc0 up
ip -n "$srv" link set kbts0 up
core=$(($(nproc) - 1))
others=0
[ "$core" -gt 1 ] && others=0-$((core - 1))

# KRANK: one ring pair per attached (single-threaded) server.
cat >"$work/k.yaml" <<EOT
name: bench-net-tools
cores: [$core]
memory: {size: 256M, mlock: no}
components: [vfs, tmpfs, net, ether, virtif, socket, inet]
tmpfs:
  - mount: /
    size: 16M
interfaces:
  - {name: krank0, backend: tap, device: kbttap, address: 10.96.2.2/24,
     host_address: 10.96.2.1/24}
control: {socket: $work/k.sock}
queues: {spin: 0us, slots: 64, area: 4M, rings: 3}
EOT
ip netns exec "$cli" env KRANK_SPIN_US=0 "$bld/krank/krank" run "$work/k.yaml" \
	>"$work/k.out" 2>&1 &
kpid=$!
i=0
until grep -q "ready in" "$work/k.out" 2>/dev/null; do
	kill -0 "$kpid" 2>/dev/null || { cat "$work/k.out"; echo "bench_net_tools: krank exited"; exit 1; }
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$work/k.out"; echo "bench_net_tools: krank not ready in 10 s"; exit 1; }
	sleep 0.05
done
# ksrv CMD...: a server on KRANK's stack; lsrv CMD...: one on Linux's.
ksrv() {
	ip netns exec "$cli" env LD_LIBRARY_PATH="$bld/.libs" KRANK_PRELOAD="$preload" \
		"$bld/bridge/krank-attach" -s "$work/k.sock" taskset -c "$core" "$@"
}
lsrv() { ip netns exec "$srv" taskset -c "$core" "$@"; }
cl() { ip netns exec "$cli" taskset -c "$others" "$@"; }
for side in k:10.96.2.2 l:10.96.1.2; do
	s=${side%%:*} a=${side#*:}
	${s}srv sockperf server -i "$a" -p 11111 >"$work/$s.spu" 2>&1 &
	${s}srv sockperf server -i "$a" -p 11112 --tcp >"$work/$s.spt" 2>&1 &
	${s}srv iperf3 -s -B "$a" -p 5201 >"$work/$s.ip" 2>&1 &
done
# Every server answers before we measure (deadline 20 s each).
ready() {	# ready DESCRIPTION CMD...
	d=$1; shift
	i=0
	until "$@" >"$work/probe" 2>&1; do
		i=$((i + 1))
		[ $i -lt 40 ] || { echo "bench_net_tools: $d does not answer:"
			tail -5 "$work/probe"; tail -5 "$work"/*.sp? "$work"/*.ip "$work/k.out"; exit 1; }
		sleep 0.5
	done
}
for a in 10.96.2.2 10.96.1.2; do
	ready "sockperf UDP on $a" cl sockperf ping-pong -i "$a" -p 11111 -t 1 -m 64
	ready "sockperf TCP on $a" cl sockperf ping-pong -i "$a" -p 11112 --tcp -t 1 -m 64
	ready "iperf3 on $a" cl iperf3 -c "$a" -p 5201 -n 1M
done

# The KRANK-side servers are on KRANK's stack: Linux in the client's
# namespace listens on none of their ports.
if ip netns exec "$cli" ss -tulnH | grep -Eq ':(11111|11112|5201)\b'; then
	echo "bench_net_tools: Linux listens on a server port in $cli: the preload did not take"
	exit 1
fi
# pp ADDR PORT [--tcp]: "avg p50 p99" round trip in microseconds.
pp() {
	a=$1 p=$2; shift 2
	cl sockperf ping-pong -i "$a" -p "$p" "$@" -t "$secs" -m 64 --full-rtt \
		>"$work/pp.out" 2>&1 || { tail -5 "$work/pp.out" >&2; echo "0 0 0"; return; }
	sed 's/\x1b\[[0-9;]*m//g' "$work/pp.out" | awk '
		/avg-rtt=|avg-latency=/ { sub(/.*avg-(rtt|latency)=/, ""); avg = $1 + 0 }
		/percentile 50.000 =/ { p50 = $NF }
		/percentile 99.000 =/ { p99 = $NF }
		END { printf "%s %s %s\n", avg + 0, p50 + 0, p99 + 0 }'
}
# ip3 ADDR [-R]: received Mbit/s.
ip3() {
	a=$1; shift
	cl iperf3 -c "$a" -p 5201 -t "$secs" -f m "$@" >"$work/ip.out" 2>&1 ||
		{ tail -5 "$work/ip.out" >&2; echo 0; return; }
	awk '/receiver$/ { v = $(NF - 2) } END { print v + 0 }' "$work/ip.out"
}
echo "bench_net_tools: clients in a Linux namespace over Linux's own TCP/UDP, ${secs} s per point"
echo "  KRANK: sockperf server / iperf3 -s under the preload on KRANK's stack, behind a tap"
echo "  Linux: the same programs on Linux's stack in a namespace, behind a veth"
echo "  server side on CPU $core (KRANK deployment core + attached servers), clients on CPUs $others; nothing spins"
printf '%-30s %12s %12s %8s\n' point KRANK Linux ratio
line() {	# line NAME K L lower|higher
	awk -v n="$1" -v k="$2" -v l="$3" -v b="$4" 'BEGIN {
		r = 0; if (k > 0 && l > 0) r = (b == "lower" ? l / k : k / l)
		printf "%-30s %12.1f %12.1f %7.2fx\n", n, k, l, r }'
}
for proto in udp tcp; do
	port=11111 flag=
	[ $proto = tcp ] && port=11112 flag=--tcp
	# shellcheck disable=SC2086
	k=$(pp 10.96.2.2 $port $flag)
	# shellcheck disable=SC2086
	l=$(pp 10.96.1.2 $port $flag)
	set -- $k $l
	line "sockperf $proto RTT avg (us)" "$1" "$4" lower
	line "sockperf $proto RTT p50 (us)" "$2" "$5" lower
	line "sockperf $proto RTT p99 (us)" "$3" "$6" lower
	up=$(echo $proto | tr a-z A-Z)
	point "tools.sockperf_$proto.avg" "$1" "$4" us lower 0 \
		"sockperf ping-pong $up 64 B round trip average, Linux client in a namespace: sockperf server under the preload on KRANK behind a tap vs on Linux behind a veth"
	point "tools.sockperf_$proto.p50" "$2" "$5" us lower 0 \
		"sockperf ping-pong $up 64 B round trip median, same setup"
	point "tools.sockperf_$proto.p99" "$3" "$6" us lower 0 \
		"sockperf ping-pong $up 64 B round trip p99, same setup"
done
k=$(ip3 10.96.2.2) l=$(ip3 10.96.1.2)
line "iperf3 to server (Mbit/s)" "$k" "$l" higher
point tools.iperf3_up "$k" "$l" Mbit/s higher 0 \
	"iperf3 TCP, Linux client in a namespace sending to iperf3 -s under the preload on KRANK behind a tap vs on Linux behind a veth"
k=$(ip3 10.96.2.2 -R) l=$(ip3 10.96.1.2 -R)
line "iperf3 from server (Mbit/s)" "$k" "$l" higher
point tools.iperf3_down "$k" "$l" Mbit/s higher 0 \
	"iperf3 -R TCP, the server sending to the Linux client, same setup"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (ratio > 1: KRANK better)"
