#!/bin/sh
# bench_dpdk.sh - two KRANK stacks in two processes over DPDK's net_memif
# (and in one process over a net_ring pair),
# against the same over the POSIX host's tap (two taps on a Linux bridge)
# and AF_PACKET (a veth pair) backends, against Linux's own stack across
# a veth between two namespaces, in one run; plus the host system calls
# per packet of the DPDK host in steady state.
#
# In every case the client is tests/rumpdrv/net/net_echo_client (one
# source: KRANK's stack on the DPDK host for memif, on the POSIX host for
# tap and AF_PACKET, Linux's sockets for Linux) and the server an echo on
# port 7: examples/echo/echo.kx under `krank run` for KRANK (memif server
# through the POSIX host's dpdk: backend; tap; afpacket), the same echo.c
# built for Linux (tests/bench/bench_echo) for Linux.  Measured: median
# and p99 of 64-byte TCP round trips (TCP_NODELAY), and 64-byte UDP
# datagrams echoed per second with 32 in flight, and MiB/s of BULK_KIB
# (default 16384) echoed in 16 KiB round trips on the TCP connection
# (full-sized segments, which DPDK ports send from the stack's buffers;
# the ring row once more with lend=no, copying every send, for the
# difference the lending makes).  Nothing pinned beyond
# krank's deployment core; KRANK's defaults (KRANK_SPIN_US 50).  DPDK in
# ordinary pages (--no-huge).
#
# System calls per packet: the DPDK-host client runs twice under
# `perf stat -e raw_syscalls:sys_enter`, with ROUND_TRIPS and 2 x
# ROUND_TRIPS round trips (no UDP); (calls2 - calls1) / (2 x ROUND_TRIPS
# packets more), so boot and connection setup cancel out.  Once with
# KRANK's defaults, once with KRANK_SPIN_US=forever (run to completion on
# dedicated cores) in the client.
#   make krank/krank examples/echo/echo.kx tests/bench/bench_echo \
#        tests/rumpdrv/net/net_echo_client tests/rumpdrv/net/net_echo_client_dpdkhost
#   sh tests/bench/bench_dpdk.sh [ROUND_TRIPS] [UDP_PACKETS] [BULK_KIB]
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=$(cd "${top_builddir:-$src}" && pwd)
rts=${1:-5000} udp=${2:-100000} bulk=${3:-16384}
. "$src/tests/bench/point.sh"
PATH=$PATH:/sbin:/usr/sbin
skip() { echo "bench_dpdk: skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
grep -q 'define HAVE_DPDK 1' "$bld/config.h" || skip "built without DPDK"
for t in ip perf; do command -v $t >/dev/null 2>&1 || skip "needs $t"; done
cli="$bld/tests/rumpdrv/net/net_echo_client"
clid="$bld/tests/rumpdrv/net/net_echo_client_dpdkhost"
for f in krank/krank examples/echo/echo.kx tests/bench/bench_echo \
    tests/rumpdrv/net/net_echo_client tests/rumpdrv/net/net_echo_client_dpdkhost; do
	[ -e "$bld/$f" ] || skip "$bld/$f not built (make $f)"
done
prefix=kbd
. "$src/tests/bench/dpdk_ns.sh"

# krank_up NAME BACKEND DEVICE ADDR [EAL_VDEV]: krank run of echo.kx in
# the server namespace; waits for "ready".
krank_up() {
	cat >"$work/$1.yaml" <<EOT
name: bench-dpdk-$1
cores: [$core]
memory: {size: 256M, mlock: no}
components: [vfs, tmpfs, net, ether, virtif, socket, inet]
interfaces:
  - {name: krank0, backend: $2, device: $3, address: $4, mac: "02:00:00:96:00:02"}
isolates:
  - {name: echo, elf: $bld/examples/echo/echo.kx,
     argv: [echo, --port, "7", --max-conn, "64"], core: $core}
control: {socket: $work/$1.sock}
EOT
	mkfifo "$work/$1.out"
	ip netns exec $sa env KRANK_DPDK_EAL="$eal ${5:+--vdev=$5}" \
		"$bld/krank/krank" run "$work/$1.yaml" >"$work/$1.out" 2>"$work/$1.err" &
	kpid=$!
	exec 3<"$work/$1.out"
	ready=
	while read -r l <&3; do case $l in *ready*) ready=1; break ;; esac; done
	[ -n "$ready" ] || { echo "bench_dpdk: $1: krank did not start: $(tail -3 "$work/$1.err")"; exit 1; }
	cat <&3 >/dev/null &
	exec 3<&-
}
krank_down() {
	kill "$kpid" 2>/dev/null; wait "$kpid" 2>/dev/null; kpid=
}

# run NAME NETNS CMD...: the client; its @result into rtt/p99/pps_NAME.
run() {
	name=$1 n=$2
	shift 2
	if ! ip netns exec "$n" "$@" >"$work/$name.res" 2>"$work/$name.cerr"; then
		echo "bench_dpdk: $name: client failed: $(cat "$work/$name.res") $(tail -3 "$work/$name.cerr")"
	fi
	r=$(grep '^@result' "$work/$name.res")
	for kv in $r; do
		case $kv in
		tcp_rtt_med_us=*) eval "rtt_$name=\${kv#*=}" ;;
		tcp_rtt_p99_us=*) eval "p99_$name=\${kv#*=}" ;;
		udp_pps=*) eval "pps_$name=\${kv#*=}" ;;
		bulk_mib_s=*) eval "bulk_$name=\${kv#*=}" ;;
		esac
	done
	eval "echo \"# $name: \$rtt_$name us median, \$p99_$name us p99, \$pps_$name datagrams/s, \$bulk_$name MiB/s bulk\""
}
rtt_ring=0 p99_ring=0 pps_ring=0 rtt_memif=0 p99_memif=0 pps_memif=0 rtt_tap=0 p99_tap=0 pps_tap=0
rtt_afp=0 p99_afp=0 pps_afp=0 rtt_linux=0 p99_linux=0 pps_linux=0
bulk_ring=0 bulk_ringcopy=0 bulk_memif=0 bulk_afp=0 bulk_tap=0 bulk_linux=0
rtt_ringcopy=0 p99_ringcopy=0 pps_ringcopy=0

# net_ring: two KRANK stacks in one process (DPDK host) on a ring pair.
run ring $sa env KRANK_DPDK_HUGE=no KRANK_DPDK_MEM=128 "$clid" ring 10.96.5.1/24 10.96.5.2 "$rts" "$udp" 20 "$bulk"
run ringcopy $sa env KRANK_DPDK_HUGE=no KRANK_DPDK_MEM=128 "$clid" ring,lend=no 10.96.5.1/24 10.96.5.2 "$rts" "$udp" 20 "$bulk"

# memif: DPDK host client <-> krank run (memif server), one namespace.
sock=kbd-memif-$$
krank_up memif dpdk net_memif0 10.96.1.2/24 "net_memif0,role=server,socket=$sock"
dpdkenv="KRANK_DPDK_HUGE=no KRANK_DPDK_MEM=128 KRANK_DPDK_EAL_ARGS=--vdev=net_memif0,role=client,socket=$sock,mac=02:00:00:96:00:01"
run memif $sa env $dpdkenv "$clid" dpdk:net_memif0 10.96.1.1/24 10.96.1.2 "$rts" "$udp" 20 "$bulk"
# System calls per packet, steady state: KRANK's default (50 us spins)
# and run to completion (KRANK_SPIN_US=forever, docs/net.md) in the
# client; the server (krank run) keeps the default.  The 2N run's median
# round trip with them.
# syscalls NAME [SPIN]: sc_NAME (per packet), rttsc_NAME.
syscalls() {
	for k in 1 2; do
		ip netns exec $sa env $dpdkenv ${2:+KRANK_SPIN_US=$2} perf stat \
			-e raw_syscalls:sys_enter -x, -o "$work/perf.$1.$k" "$clid" \
			dpdk:net_memif0 10.96.1.1/24 10.96.1.2 $((rts * k)) 0 \
			>"$work/perf.out.$1.$k" 2>"$work/perf.err.$1.$k" ||
			echo "bench_dpdk: perf run $1 $k failed: $(tail -3 "$work/perf.err.$1.$k")"
		eval "sc$k=\$(awk -F, '/raw_syscalls/ { print \$1 }' \"$work/perf.$1.$k\")"
	done
	eval "sc_$1=\$(awk -v a=\"\${sc1:-0}\" -v b=\"\${sc2:-0}\" -v n=\"$rts\" 'BEGIN { printf \"%.4f\", (b - a) / (2 * n) }')"
	eval "rttsc_$1=\$(sed -n 's/.*tcp_rtt_med_us=\([0-9.]*\).*/\1/p' \"$work/perf.out.$1.2\")"
	eval "echo \"# DPDK host client, $1: \${sc1:-?} system calls for $rts round trips, \${sc2:-?} for $((rts * 2)): \$sc_$1 per packet (RTT \$rttsc_$1 us)\""
}
syscalls default
syscalls forever forever
krank_down

# AF_PACKET: POSIX host client <-> krank run (afpacket) across a veth.
ip link add kbd0 netns $ca type veth peer name kbd1 netns $sa
for e in "$ca kbd0" "$sa kbd1"; do
	set -- $e
	ip netns exec "$1" ethtool -K "$2" tx off >/dev/null 2>&1
	ip -n "$1" link set "$2" up
done
krank_up afp afpacket kbd1 10.96.2.2/24
run afp $ca "$cli" afpacket:kbd0 10.96.2.1/24 10.96.2.2 "$rts" "$udp" 20 "$bulk"
krank_down

# tap: POSIX host client <-> krank run (tap), the taps on a bridge.
ip -n $sa link add kbdbr type bridge
ip -n $sa link set kbdbr up
krank_up tap tap kbdt1 10.96.3.2/24
ip -n $sa link set kbdt1 master kbdbr
ip -n $sa link set kbdt1 up
# The client's tap exists once it booted: put it on the bridge then.
( for _i in $(seq 100); do
	ip -n $sa link show kbdt0 >/dev/null 2>&1 && break
	sleep 0.05
  done
  ip -n $sa link set kbdt0 master kbdbr && ip -n $sa link set kbdt0 up ) &
run tap $sa "$cli" tap:kbdt0 10.96.3.1/24 10.96.3.2 "$rts" "$udp" 20 "$bulk"
krank_down

# Linux: its own stack across a veth between two namespaces.
ip link add kbd2 netns $ca type veth peer name kbd3 netns $sa
ip -n $ca addr add 10.96.4.1/24 dev kbd2
ip -n $sa addr add 10.96.4.2/24 dev kbd3
ip -n $ca link set kbd2 up
ip -n $sa link set kbd3 up
ip netns exec $sa "$bld/tests/bench/bench_echo" --port 7 --max-conn 64 >"$work/e.out" 2>&1 &
epid=$!
run linux $ca "$cli" linux - 10.96.4.2 "$rts" "$udp" 20 "$bulk"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a > 0 && b > 0) ? a / b : 0 }'; }
printf '\nTwo KRANK stacks in two processes vs Linux across a veth (%s round trips, %s UDP datagrams; 64 bytes)\n' "$rts" "$udp"
printf '%-30s %10s %10s %10s %10s %10s\n' "" "ring(1 proc)" "memif" "AF_PACKET" "tap" "Linux"
printf '%-30s %10s %10s %10s %10s %10s\n' "TCP round trip median, us" "$rtt_ring" "$rtt_memif" "$rtt_afp" "$rtt_tap" "$rtt_linux"
printf '%-30s %10s %10s %10s %10s %10s\n' "TCP round trip p99, us" "$p99_ring" "$p99_memif" "$p99_afp" "$p99_tap" "$p99_linux"
printf '%-30s %10s %10s %10s %10s %10s\n' "UDP echoes/s (32 in flight)" "$pps_ring" "$pps_memif" "$pps_afp" "$pps_tap" "$pps_linux"
printf '%-30s %10s %10s %10s %10s %10s\n' "bulk, 16 KiB round trips, MiB/s" "$bulk_ring" "$bulk_memif" "$bulk_afp" "$bulk_tap" "$bulk_linux"
printf 'ring, sends lent vs copied (lend=no): bulk %s vs %s MiB/s (%sx), RTT %s vs %s us, UDP %s vs %s/s\n' \
	"$bulk_ring" "$bulk_ringcopy" "$(ratio "$bulk_ring" "$bulk_ringcopy")" "$rtt_ring" "$rtt_ringcopy" "$pps_ring" "$pps_ringcopy"
printf 'memif vs Linux: RTT %sx of Linux (goal <= 0.3), packets/s %sx (goal >= 3)\n' \
	"$(ratio "$rtt_memif" "$rtt_linux")" "$(ratio "$pps_memif" "$pps_linux")"
printf 'memif vs AF_PACKET: RTT %sx, packets/s %sx; vs tap: RTT %sx, packets/s %sx\n' \
	"$(ratio "$rtt_memif" "$rtt_afp")" "$(ratio "$pps_memif" "$pps_afp")" \
	"$(ratio "$rtt_memif" "$rtt_tap")" "$(ratio "$pps_memif" "$pps_tap")"
printf 'DPDK host system calls per packet, steady state: %s by default, %s with KRANK_SPIN_US=forever (goal 0); memif RTT %s vs %s us\n\n' \
	"$sc_default" "$sc_forever" "$rttsc_default" "$rttsc_forever"
point dpdk-ring-rtt "$rtt_ring" "$rtt_linux" us lower 3.33 "two KRANK stacks in one process over net_ring vs Linux veth: 64 B TCP RTT median"
point dpdk-ring-pps "$pps_ring" "$pps_linux" pkt/s higher 3 "two KRANK stacks in one process over net_ring vs Linux veth: 64 B UDP echoes/s"
point dpdk-memif-rtt "$rtt_memif" "$rtt_linux" us lower 3.33 "KRANK-KRANK over net_memif vs Linux veth: 64 B TCP RTT median"
point dpdk-memif-pps "$pps_memif" "$pps_linux" pkt/s higher 3 "KRANK-KRANK over net_memif vs Linux veth: 64 B UDP echoes/s"
point dpdk-afp-rtt "$rtt_afp" "$rtt_linux" us lower 1 "KRANK-KRANK over AF_PACKET (POSIX host) vs Linux veth: TCP RTT"
point dpdk-afp-pps "$pps_afp" "$pps_linux" pkt/s higher 1 "KRANK-KRANK over AF_PACKET (POSIX host) vs Linux veth: UDP echoes/s"
point dpdk-tap-rtt "$rtt_tap" "$rtt_linux" us lower 1 "KRANK-KRANK over taps on a bridge (POSIX host) vs Linux veth: TCP RTT"
point dpdk-tap-pps "$pps_tap" "$pps_linux" pkt/s higher 1 "KRANK-KRANK over taps on a bridge (POSIX host) vs Linux veth: UDP echoes/s"
