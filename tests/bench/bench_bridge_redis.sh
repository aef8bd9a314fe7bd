#!/bin/sh
# bench_bridge_redis - unmodified redis-server and redis-benchmark (Debian
# packages) both under libkrank-preload.so, talking over KRANK's TCP/IP
# stack, against the same two programs on Linux's loopback, in one
# network namespace and one run.  SET and GET, 50 clients, pipelines of 1
# and 16.  Prints both rates and their ratio (KRANK / Linux; the goal of
# issue 13 is >= 1.5 at -P 1).  Not part of make check.
#   bench_bridge_redis.sh [REQUESTS]   (default 100000)
. "${top_srcdir:-.}/tests/bridge/lib.sh"
. "${top_srcdir:-.}/tests/bench/point.sh"
"${top_builddir:-.}/tests/bench/bench_machine" --quick || echo "machine: costs not measured (make tests/bench/bench_machine)"
n=${1:-100000}
for t in redis-server redis-benchmark redis-cli; do
	command -v $t >/dev/null 2>&1 || skip "$t not installed"
done
# KRANK's ring servers on every CPU, one ring pair per (single-threaded)
# program, and no spinning by default, as in the runs recorded before.
# Spinning no longer starves the peer on a shared CPU (the budgets adapt
# and are 0 on the peer's CPU, krq_bell.h), but on 2 CPUs loaded by other
# work neither setting won (docs/PERFORMANCE.md, "Spinning that adapts").
# Override with BENCH_CORES, BENCH_RINGS, BENCH_SPIN.
cores=$(seq -s ', ' 0 $(($(nproc) - 1)))
boot_krank "$cores" "${BENCH_RINGS:-1}" 0us
# KRANK_POLL_FETCH for both programs (readiness with data, docs/bridge.md;
# 0 turns it off, for a before/after in one run).
[ -n "${BENCH_FETCH:-}" ] && export KRANK_POLL_FETCH="$BENCH_FETCH"
# Round trips: the calls KRANK served for every attachment so far
# (krankctl ps, CALLS).
calls() {
	"$krankctl" -s "$ksock" ps 2>/dev/null |
		awk '$2 == "foreign" { s += $8 } END { print s + 0 }'
}

export KRANK_STATS=1	# each program's round trips, at its exit
kx redis-server --port 7000 --save '' --appendonly no --bind 127.0.0.1 \
	--dir "$work" >"$work/rk.out" 2>&1 &
nsx redis-server --port 7001 --save '' --appendonly no --bind 127.0.0.1 \
	--dir "$work" >"$work/rl.out" 2>&1 &
wait_for 10 sh -c "ip netns exec $ns env LD_LIBRARY_PATH=$bld/.libs \
    KRANK_PRELOAD=$preload $bld/bridge/krank-attach -s $ksock \
    redis-cli -p 7000 ping | grep -q PONG" ||
	{ cat "$work/rk.out"; echo "FAIL: redis-server under the preload not ready"; exit 1; }
wait_for 10 sh -c "ip netns exec $ns redis-cli -p 7001 ping | grep -q PONG" ||
	{ cat "$work/rl.out"; echo "FAIL: redis-server on Linux not ready"; exit 1; }

rate() {	# rate FILE TEST
	tr '\r' '\n' <"$1" | awk -v t="$2" '$1 == t":" {print $2}' | tail -1
}
echo "redis-benchmark -c 50 -n $n -t set,get: requests per second"
echo "KRANK = redis-server and redis-benchmark both under libkrank-preload.so on KRANK's TCP/IP"
echo "Linux = the same two programs on Linux's loopback, same namespace, same run"
echo "KRANK deployment: cores [${BENCH_CORES:-$cores}], queues rings ${BENCH_RINGS:-1}, spin ${BENCH_SPIN:-0us}, KRANK_POLL_FETCH ${KRANK_POLL_FETCH:-default}"
printf '%-4s %-3s %12s %12s %7s\n' test -P KRANK Linux ratio
for p in 1 16; do
	c0=$(calls)
	kx redis-benchmark -p 7000 -c 50 -P $p -n "$n" -q -t set,get \
		>"$work/bk$p" 2>&1
	c1=$(calls)
	rt=$(awk -v c=$((c1 - c0)) -v n="$n" 'BEGIN { printf "%.2f", c / (2 * n) }')
	echo "  -P $p: $((c1 - c0)) requests over the queues for $((2 * n)) redis requests: $rt per request (server and benchmark together, asynchronous sends included)"
	sed -n 's/.*stats: \([0-9]*\) round trips, \([0-9]*\) async.*/\1 \2/p' "$work/bk$p" |
		awk -v n="$n" '{ printf "  -P '$p' redis-benchmark: %.2f round trips and %.2f asynchronous sends per request\n", $1 / (2 * n), $2 / (2 * n) }'
	nsx redis-benchmark -p 7001 -c 50 -P $p -n "$n" -q -t set,get \
		>"$work/bl$p" 2>&1
	for t in SET GET; do
		k=$(rate "$work/bk$p" $t); l=$(rate "$work/bl$p" $t)
		awk -v t=$t -v p=$p -v k="${k:-0}" -v l="${l:-0}" 'BEGIN {
			printf "%-4s %-3s %12.0f %12.0f %7.2f\n", t, p, k, l,
			    (l > 0 ? k / l : 0) }'
		goal=0
		[ $p = 1 ] && goal=1.5
		point "bridge.redis_$(echo $t | tr A-Z a-z)_p$p" "${k:-0}" \
		    "${l:-0}" req/s higher $goal "redis-benchmark $t -P $p, 50 clients: redis-server and redis-benchmark under the preload over KRANK vs both on Linux loopback"
	done
done
kx redis-cli -p 7000 shutdown nosave >/dev/null 2>&1
wait_for 10 grep -q "stats:" "$work/rk.out"
sed -n 's/.*stats: \([0-9]*\) round trips, \([0-9]*\) async.*/\1 \2/p' "$work/rk.out" |
	awk -v n="$n" '{ printf "  redis-server over both -P runs: %.2f round trips and %.2f asynchronous sends per request\n", $1 / (4 * n), $2 / (4 * n) }'
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
