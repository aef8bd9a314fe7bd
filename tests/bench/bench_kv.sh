#!/bin/sh
# examples/kv under KRANK vs redis-server on Linux (issue 15: goal >= 2x
# requests/s at -P 1), in the same run: redis-benchmark (50 clients, SET
# and GET, -P 1 and -P 16) runs in one network namespace, against kv.kx
# as a KRANK isolate through a tap krank creates there, then against
# redis-server (--save '' --appendonly no) in a second namespace behind a
# veth pair.  Both servers on the same core, one after the other (KRANK's
# core is its own while it runs); redis-benchmark on the other cores.
# Then the same programs on one machine's loopback, as a user with both
# ends on one node would run them: redis-benchmark under the preload
# library (krank-attach) against kv.kx over KRANK's own loopback, and
# plain redis-benchmark against redis-server over Linux's loopback, in
# one namespace (rows kv.preload.*).  Either way drives kv.kx with
# unmodified redis-benchmark, which issue 15 allows.
# Needs root, redis-server and redis-benchmark.  From the build tree:
#   make examples/kv/kv.kx krank/krank krank/krankctl bridge/krank-attach \
#       libkrank-preload.la && sh tests/bench/bench_kv.sh [N_P1 [N_P16]]
# KV_BENCH_PRELOAD=0 skips the loopback rows.
set -u
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=$(cd "${top_builddir:-$src}" && pwd)
n1=${1:-100000}
n16=${2:-1000000}
. "$src/tests/bench/point.sh"
"${top_builddir:-.}/tests/bench/bench_machine" --quick || echo "machine: costs not measured (make tests/bench/bench_machine)"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (network namespaces, a tap)"; exit 77; }
for t in redis-server redis-benchmark ip; do
	command -v $t >/dev/null 2>&1 ||
		{ echo "SKIP: $t not installed (scripts/install-deps.sh --bench)"; exit 77; }
done
[ -f "$bld/examples/kv/kv.kx" ] && [ -x "$bld/krank/krank" ] ||
	{ echo "SKIP: build examples/kv/kv.kx and krank/krank first"; exit 77; }

work=$(mktemp -d)
cli=kvb-c-$$ srv=kvb-s-$$
kpid= rpid=
netns_stopvars="kpid rpid"
. "$src/tests/netns_lib.sh"
netns_add "$cli" "$srv"
ip link add kvb-c$$ netns "$cli" type veth peer name kvb-s$$ netns "$srv" || exit 1
ip -n "$cli" addr add 10.98.3.1/24 dev kvb-c$$
ip -n "$srv" addr add 10.98.3.2/24 dev kvb-s$$
ip -n "$cli" link set kvb-c$$ up
ip -n "$srv" link set kvb-s$$ up

ncpu=$(nproc)
core=$((ncpu - 1))
others=$(seq -s, 0 $((core - 1)) 2>/dev/null)
[ -n "$others" ] || others=0
echo "servers on core $core, redis-benchmark on cores $others"
echo "redis-benchmark: 50 clients, SET and GET, -P 1 ($n1 requests) and -P 16 ($n16)"

# bench HOST OUTFILE [RUNNER...]: the four rates, "set1 get1 set16
# get16"; RUNNER (default: the client namespace) runs redis-benchmark.
bench() {
	h=$1 out=$2
	shift 2
	[ $# -gt 0 ] || set -- ip netns exec "$cli"
	for p in 1 16; do
		n=$n1
		[ $p -eq 16 ] && n=$n16
		"$@" taskset -c "$others" redis-benchmark \
			-h "$h" -p 6379 -c 50 -n "$n" -P $p -r 100000 -t set,get \
			--csv 2>>"$work/bench.err" | tee -a "$work/$out.csv" |
			awk -F, '$1 == "\"SET\"" || $1 == "\"GET\"" { gsub(/"/, "", $2); printf "%s ", $2 }'
	done
}

# pong PID TRIES WHAT LOGS HOST RUNNER...: wait until redis-cli, run by
# RUNNER, gets PONG from HOST:6379; after TRIES tenths of a second, or
# when PID has ended, say that WHAT did not answer, with the files LOGS.
pong() {
	pid=$1 tries=$2 what=$3 logs=$4 host=$5
	shift 5
	i=0
	until [ "$("$@" redis-cli -h "$host" PING 2>/dev/null)" = PONG ]; do
		i=$((i + 1))
		if [ $i -gt "$tries" ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "$what did not answer: $(cat $logs 2>/dev/null)"
			exit 1
		fi
		sleep 0.1
	done
}

# redis_up NETNS ADDRESS LOG: redis-server on core $core in NETNS, bound to
# ADDRESS, answering; its pid in rpid.
redis_up() {
	ip netns exec "$1" taskset -c "$core" redis-server --port 6379 \
		--bind "$2" --save '' --appendonly no --protected-mode no \
		--daemonize no --logfile "$3" >/dev/null 2>&1 &
	rpid=$!
	pong "$rpid" 100 redis-server "$3" "$2" ip netns exec "$cli"
}

# down PID: end a server and wait for it.
down() {
	kill -TERM "$1"
	wait "$1" 2>/dev/null
}

# 1. kv.kx under KRANK.
cat >"$work/kv.yaml" <<EOT
name: kvbench
cores: [$core]
memory: {size: 512M, hugepages: auto}
components: [vfs, tmpfs, net, ether, virtif, socket, inet]
interfaces:
  - {name: krank0, backend: tap, device: kvb-t$$, address: 10.98.2.2/24,
     host_address: 10.98.2.1/24}
isolates:
  - {name: kv, elf: $bld/examples/kv/kv.kx, core: $core, heap: 256M, fds: 256,
     argv: [kv, --port, "6379", --maxmemory, 192mb]}
control: {socket: $work/k.sock}
EOT
: >"$work/kout"
ip netns exec "$cli" "$bld/krank/krank" run "$work/kv.yaml" >"$work/kout" \
	2>"$work/kerr" &
kpid=$!
pong "$kpid" 300 kv.kx "$work/kout $work/kerr" 10.98.2.2 \
	ip netns exec "$cli"
grep ready "$work/kout" | sed 's/^/KRANK: /'
set -- $(bench 10.98.2.2 krank)
k_set1=${1:-0} k_get1=${2:-0} k_set16=${3:-0} k_get16=${4:-0}
down "$kpid"
kpid=

# 2. redis-server on Linux, the same core.
redis_up "$srv" 10.98.3.2 "$work/redis.log"
echo "Linux: $(redis-server --version | cut -d' ' -f1-3)"
set -- $(bench 10.98.3.2 redis)
r_set1=${1:-0} r_get1=${2:-0} r_set16=${3:-0} r_get16=${4:-0}
down "$rpid"
rpid=

# 3. One node's loopback: redis-benchmark under the preload against kv.kx
# on KRANK's stack (its ring server threads on every core, one ring pair
# per program, no spinning: as bench_bridge_redis.sh), then plain
# redis-benchmark against redis-server on Linux's loopback; kv.kx and
# redis-server on core $core, redis-benchmark on $others.
preload=$bld/.libs/libkrank-preload.so
lp=0
if [ "${KV_BENCH_PRELOAD:-1}" = 0 ]; then
	echo "loopback rows skipped (KV_BENCH_PRELOAD=0)"
elif [ ! -r "$preload" ] || [ ! -x "$bld/bridge/krank-attach" ]; then
	echo "loopback rows skipped: build libkrank-preload.la and bridge/krank-attach"
else
	lp=1
	cat >"$work/kvl.yaml" <<EOT
name: kvloop
cores: [$(seq -s ', ' 0 $((ncpu - 1)))]
memory: {size: 512M, hugepages: auto}
components: [vfs, tmpfs, net, ether, socket, inet]
isolates:
  - {name: kv, elf: $bld/examples/kv/kv.kx, core: $core, heap: 256M, fds: 256,
     argv: [kv, --port, "6379", --maxmemory, 192mb]}
control: {socket: $work/kl.sock}
queues: {spin: 0us, slots: 64, area: 4M, rings: 1}
EOT
	ip netns exec "$cli" "$bld/krank/krank" run "$work/kvl.yaml" \
		>"$work/klout" 2>"$work/klerr" &
	kpid=$!
	attached() {
		ip netns exec "$cli" env LD_LIBRARY_PATH="$bld/.libs" \
			KRANK_PRELOAD="$preload" "$bld/bridge/krank-attach" \
			-s "$work/kl.sock" "$@"
	}
	pong "$kpid" 300 "kv.kx over the preload" "$work/klout $work/klerr" \
		127.0.0.1 attached
	set -- $(bench 127.0.0.1 krank-loop attached)
	kl_set1=${1:-0} kl_get1=${2:-0} kl_set16=${3:-0} kl_get16=${4:-0}
	down "$kpid"
	kpid=
	redis_up "$cli" 127.0.0.1 "$work/redisl.log"
	set -- $(bench 127.0.0.1 redis-loop)
	rl_set1=${1:-0} rl_get1=${2:-0} rl_set16=${3:-0} rl_get16=${4:-0}
	down "$rpid"
	rpid=
fi

[ -s "$work/bench.err" ] && { echo "redis-benchmark said:"; tail -5 "$work/bench.err"; }
# table K R: the four points of KRANK's rates $K_* and redis's $R_*.
table() {
	printf '%-22s %14s %14s %7s\n' point "KRANK req/s" "redis req/s" ratio
	for pt in set1 get1 set16 get16; do
		eval "k=\$$1_$pt r=\$$2_$pt"
		awk -v p="$pt" -v k="$k" -v r="$r" 'BEGIN {
			printf "%-22s %14.0f %14.0f %7.2f\n", p, k, r,
			    (r > 0 ? k / r : 0) }'
	done
}
table k r
point kv.set_p1 "$k_set1" "$r_set1" req/s higher 2 \
	"redis-benchmark SET, 50 clients, -P 1: kv.kx (tap) vs redis-server (veth)"
point kv.get_p1 "$k_get1" "$r_get1" req/s higher 2 \
	"redis-benchmark GET, 50 clients, -P 1: kv.kx (tap) vs redis-server (veth)"
point kv.set_p16 "$k_set16" "$r_set16" req/s higher 0 \
	"redis-benchmark SET, 50 clients, -P 16: kv.kx (tap) vs redis-server (veth)"
point kv.get_p16 "$k_get16" "$r_get16" req/s higher 0 \
	"redis-benchmark GET, 50 clients, -P 16: kv.kx (tap) vs redis-server (veth)"
if [ $lp = 1 ]; then
	echo "one node's loopback: redis-benchmark under the preload -> kv.kx on KRANK's stack, vs redis-benchmark -> redis-server on Linux's"
	table kl rl
	what="50 clients: redis-benchmark under the preload -> kv.kx over KRANK's loopback vs redis-benchmark -> redis-server over Linux's loopback"
	point kv.preload.set_p1 "$kl_set1" "$rl_set1" req/s higher 2 "SET -P 1, $what"
	point kv.preload.get_p1 "$kl_get1" "$rl_get1" req/s higher 2 "GET -P 1, $what"
	point kv.preload.set_p16 "$kl_set16" "$rl_set16" req/s higher 0 "SET -P 16, $what"
	point kv.preload.get_p16 "$kl_get16" "$rl_get16" req/s higher 0 "GET -P 16, $what"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $ncpu CPUs"
# A run where a side measured nothing is not a result.
for v in "$k_set1" "$k_get1" "$r_set1" "$r_get1" ${kl_set1:-} ${rl_set1:-}; do
	awk -v v="$v" 'BEGIN { exit !(v > 0) }' || exit 1
done
exit 0
