#!/bin/sh
# bench_net_cross.sh - bench_net's cross-process variant (run by
# tests/bench/bench_net as root; usable alone): a Linux client (bench_net
# --client) in one network namespace against
#   KRANK: examples/echo/echo.kx, an isolate of `krank run`, behind a tap
#          (KRANK 10.97.2.2, the namespace 10.97.2.1), and
#   Linux: the same echo.c built for Linux (tests/bench/bench_echo) in a
#          second namespace behind a veth (10.97.1.2 from 10.97.1.1),
# in the same run.  The server side gets the last CPU (KRANK's deployment
# core and isolate core, or the Linux echo pinned there); the client the
# others.  Neither side spins: KRANK_SPIN_US=0 for krank, and the Linux
# echo sleeps in poll.  Prints "krank @result ..." and "linux @result
# ..." lines (bench_net --client's), and '#' lines saying what ran; exit
# 77 when it cannot run here.
#   sh tests/bench/bench_net_cross.sh BENCH_NET [ROUND_TRIPS] [BULK_MIB]
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=$(cd "${top_builddir:-$src}" && pwd)
bn=${1:?usage: bench_net_cross.sh BENCH_NET [ROUND_TRIPS] [BULK_MIB]}
rtts=${2:-20000} mib=${3:-64}
PATH=$PATH:/sbin:/usr/sbin
skip() { echo "# skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v ip >/dev/null 2>&1 || skip "needs ip (iproute2)"
for f in krank/krank examples/echo/echo.kx tests/bench/bench_echo; do
	[ -x "$bld/$f" ] || [ -r "$bld/$f" ] ||
		skip "$bld/$f not built (make krank/krank examples/echo/echo.kx tests/bench/bench_echo)"
done
work=$(mktemp -d)
cli=kbn-cli-$$ srv=kbn-srv-$$
kpid= epid=
netns_stopvars="kpid epid"
. "$src/tests/netns_lib.sh"
trap 'exit 1' INT TERM
netns_add "$cli" "$srv"
ip link add kbnc0 netns "$cli" type veth peer name kbns0 netns "$srv" || exit 1
ip -n "$cli" addr add 10.97.1.1/24 dev kbnc0
ip -n "$srv" addr add 10.97.1.2/24 dev kbns0
ip -n "$cli" link set kbnc0 up
ip -n "$srv" link set kbns0 up

core=$(($(nproc) - 1))
others=0
[ "$core" -gt 1 ] && others=0-$((core - 1))

ip netns exec "$srv" taskset -c "$core" "$bld/tests/bench/bench_echo" \
	--port 7 --max-conn 64 >"$work/e.out" 2>&1 &
epid=$!

cat >"$work/k.yaml" <<EOT
name: bench-net-cross
cores: [$core]
memory: {size: 256M, mlock: no}
components: [vfs, tmpfs, net, ether, virtif, socket, inet]
interfaces:
  - {name: krank0, backend: tap, device: kbntap, address: 10.97.2.2/24,
     host_address: 10.97.2.1/24}
isolates:
  - {name: echo, elf: $bld/examples/echo/echo.kx,
     argv: [echo, --port, "7", --max-conn, "64"], core: $core}
control: {socket: $work/k.sock}
EOT
ip netns exec "$cli" env KRANK_SPIN_US=0 "$bld/krank/krank" run "$work/k.yaml" \
	>"$work/k.out" 2>&1 &
kpid=$!

# Both echo before we measure: one round trip and 1 MiB each, retried
# until a deadline of 10 s.
for a in 10.97.2.2 10.97.1.2; do
	i=0
	until ip netns exec "$cli" "$bn" --client $a 1 1 >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 20 ] || { echo "# $a:7 does not echo"; cat "$work/k.out" "$work/e.out"; exit 1; }
		kill -0 "$kpid" 2>/dev/null || { echo "# krank exited:"; cat "$work/k.out"; exit 1; }
		sleep 0.5
	done
done
echo "# server side on CPU $core, client on CPUs $others; socket waits do not spin (KRANK_SPIN_US=0)"
for side in krank:10.97.2.2 linux:10.97.1.2; do
	ip netns exec "$cli" taskset -c "$others" "$bn" --client "${side#*:}" \
		"$rtts" "$mib" >"$work/c.out" 2>&1 ||
		{ echo "# client against ${side#*:} failed:"; cat "$work/c.out"; exit 1; }
	sed -n "s/^@result /${side%%:*} @result /p" "$work/c.out"
done
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
