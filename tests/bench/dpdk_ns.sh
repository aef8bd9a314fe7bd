# dpdk_ns.sh - sourced by the DPDK benchmarks (bench_dpdk.sh,
# bench_dpdk_queues.sh) after their skip checks: the client and server
# network namespaces ca and sa (PREFIX-cli-PID, PREFIX-srv-PID, loopback
# up), work, and the cleanup at exit of both with every process in them,
# krank ($kpid) and the Linux echo ($epid); core (the last CPU) and eal
# (EAL arguments: ordinary pages, that core).
#   prefix=PREFIX . "$src/tests/bench/dpdk_ns.sh"
work=$(mktemp -d)
ca=$prefix-cli-$$ sa=$prefix-srv-$$
kpid= epid=
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	[ -n "$epid" ] && kill "$epid" 2>/dev/null && wait "$epid" 2>/dev/null
	for n in $ca $sa; do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add $ca 2>"$work/err" || skip "no network namespaces: $(cat "$work/err")"
ip netns add $sa || exit 1
ip -n $ca link set lo up
ip -n $sa link set lo up
core=$(($(nproc) - 1))
eal="--no-huge --no-pci --no-shconf -m 128 -l $core --log-level=error"
