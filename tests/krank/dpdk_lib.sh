# dpdk_lib.sh - sourced by the tests that run `krank run` on DPDK's
# virtual devices in a network namespace of their own (test_krank_dpdk.sh,
# test_krank_dpdk_queues.sh): the checks that make such a test a skip
# (DPDK, root, the tools TOOLS, the echo isolate), the namespace NSNAME
# (tests/netns_lib.sh: loopback up, removed at exit with every process in
# it and krank, $kpid), and what every such test uses: work, fail, nsx, ok,
# bad, core (the last CPU, krank's) and eal (EAL arguments: ordinary pages,
# that core).
#   ns=NSNAME tools="TOOLS" . "$top_srcdir/tests/krank/dpdk_lib.sh"
bld=${top_builddir:-.}
krank="$bld/krank/krank"
work=$(mktemp -d)
fail=0
kpid=

. "${top_srcdir:-.}/tests/netns_lib.sh"
grep -q 'define HAVE_DPDK 1' "$bld/config.h" || skip "built without DPDK"
netns_need ping socat $tools
[ -f "$bld/examples/echo/echo.kx" ] || skip "examples/echo/echo.kx not built"
netns_add "$ns"
core=$(($(nproc) - 1))
eal="--no-huge --no-pci --no-shconf -m 128 -l $core --log-level=error"
