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
netns_stopvars="kpid epid"
. "$src/tests/netns_lib.sh"
trap 'exit 1' INT TERM
netns_add "$ca" "$sa"
core=$(($(nproc) - 1))
eal="--no-huge --no-pci --no-shconf -m 128 -l $core --log-level=error"
