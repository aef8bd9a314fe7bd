# dpdk_lib.sh - sourced by the tests that run `krank run` on DPDK's
# virtual devices in a network namespace of their own (test_krank_dpdk.sh,
# test_krank_dpdk_queues.sh): the checks that make such a test a skip
# (DPDK, root, the tools TOOLS, the echo isolate), the namespace NSNAME
# (loopback up) removed at exit with every process in it and krank ($kpid),
# and what every such test uses: work, fail, nsx, ok, bad, core (the last
# CPU, krank's) and eal (EAL arguments: ordinary pages, that core).
#   ns=NSNAME tools="TOOLS" . "$top_srcdir/tests/krank/dpdk_lib.sh"
bld=${top_builddir:-.}
krank="$bld/krank/krank"
work=$(mktemp -d)
fail=0
kpid=

skip() { echo "SKIP: $*"; rm -rf "$work"; exit 77; }
grep -q 'define HAVE_DPDK 1' "$bld/config.h" || skip "built without DPDK"
[ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
for t in ip ping socat $tools; do
	command -v $t >/dev/null 2>&1 || skip "$t not installed"
done
[ -f "$bld/examples/echo/echo.kx" ] || skip "examples/echo/echo.kx not built"
ip netns add "$ns" 2>"$work/err" ||
	skip "this machine forbids network namespaces: $(cat "$work/err")"
cleanup() {
	[ -n "$kpid" ] && kill "$kpid" 2>/dev/null && wait "$kpid" 2>/dev/null
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
nsx() { ip netns exec "$ns" "$@"; }
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
nsx ip link set lo up
core=$(($(nproc) - 1))
eal="--no-huge --no-pci --no-shconf -m 128 -l $core --log-level=error"
