#!/bin/sh
# examples/kv under KRANK vs redis-server on Linux (issue 15: goal >= 2x
# requests/s at -P 1), in the same run: redis-benchmark (50 clients, SET
# and GET, -P 1 and -P 16) runs in one network namespace, against kv.kx
# as a KRANK isolate through a tap krank creates there, then against
# redis-server (--save '' --appendonly no) in a second namespace behind a
# veth pair.  Both servers on the same core, one after the other (KRANK's
# core is its own while it runs); redis-benchmark on the other cores.
# Needs root, redis-server and redis-benchmark.  From the build tree:
#   make examples/kv/kv.kx krank/krank && sh tests/bench/bench_kv.sh [N_P1 [N_P16]]
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
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	ip netns del "$cli" 2>/dev/null
	ip netns del "$srv" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$cli" && ip netns add "$srv" || exit 1
ip -n "$cli" link set lo up
ip -n "$srv" link set lo up
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

# bench HOST OUTFILE: the four rates, "set1 get1 set16 get16".
bench() {
	for p in 1 16; do
		n=$n1
		[ $p -eq 16 ] && n=$n16
		ip netns exec "$cli" taskset -c "$others" redis-benchmark \
			-h "$1" -p 6379 -c 50 -n "$n" -P $p -r 100000 -t set,get \
			--csv 2>>"$work/bench.err" | tee -a "$work/$2.csv" |
			awk -F, '$1 == "\"SET\"" || $1 == "\"GET\"" { gsub(/"/, "", $2); printf "%s ", $2 }'
	done
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
i=0
until [ "$(ip netns exec "$cli" redis-cli -h 10.98.2.2 PING 2>/dev/null)" = PONG ]; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 "$kpid" 2>/dev/null; then
		echo "kv.kx did not answer: $(cat "$work/kout" "$work/kerr")"
		exit 1
	fi
	sleep 0.1
done
grep ready "$work/kout" | sed 's/^/KRANK: /'
set -- $(bench 10.98.2.2 krank)
k_set1=${1:-0} k_get1=${2:-0} k_set16=${3:-0} k_get16=${4:-0}
kill -TERM "$kpid"
wait "$kpid" 2>/dev/null
kpid=

# 2. redis-server on Linux, the same core.
ip netns exec "$srv" taskset -c "$core" redis-server --port 6379 \
	--bind 10.98.3.2 --save '' --appendonly no --protected-mode no \
	--daemonize no --logfile "$work/redis.log" >/dev/null 2>&1 &
rpid=$!
i=0
until [ "$(ip netns exec "$cli" redis-cli -h 10.98.3.2 PING 2>/dev/null)" = PONG ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$rpid" 2>/dev/null; then
		echo "redis-server did not answer: $(cat "$work/redis.log")"
		exit 1
	fi
	sleep 0.1
done
echo "Linux: $(redis-server --version | cut -d' ' -f1-3)"
set -- $(bench 10.98.3.2 redis)
r_set1=${1:-0} r_get1=${2:-0} r_set16=${3:-0} r_get16=${4:-0}
kill "$rpid"
wait "$rpid" 2>/dev/null
rpid=

[ -s "$work/bench.err" ] && { echo "redis-benchmark said:"; tail -5 "$work/bench.err"; }
printf '%-22s %14s %14s %7s\n' point "KRANK req/s" "redis req/s" ratio
for pt in set1 get1 set16 get16; do
	eval "k=\$k_$pt r=\$r_$pt"
	awk -v p="$pt" -v k="$k" -v r="$r" 'BEGIN {
		printf "%-22s %14.0f %14.0f %7.2f\n", p, k, r, (r > 0 ? k / r : 0) }'
done
point kv.set_p1 "$k_set1" "$r_set1" req/s higher 2 \
	"redis-benchmark SET, 50 clients, -P 1: kv.kx (tap) vs redis-server (veth)"
point kv.get_p1 "$k_get1" "$r_get1" req/s higher 2 \
	"redis-benchmark GET, 50 clients, -P 1: kv.kx (tap) vs redis-server (veth)"
point kv.set_p16 "$k_set16" "$r_set16" req/s higher 0 \
	"redis-benchmark SET, 50 clients, -P 16: kv.kx (tap) vs redis-server (veth)"
point kv.get_p16 "$k_get16" "$r_get16" req/s higher 0 \
	"redis-benchmark GET, 50 clients, -P 16: kv.kx (tap) vs redis-server (veth)"
# A run where a side measured nothing is not a result.
for v in "$k_set1" "$k_get1" "$r_set1" "$r_get1"; do
	awk -v v="$v" 'BEGIN { exit !(v > 0) }' || exit 1
done
exit 0
