# lib.sh - sourced by tests/bridge/test_*.sh and the bridge benchmark: a
# network namespace of the test's own (loopback up), a `krank run` of a
# loopback-only deployment in it, and the preload library of the build
# tree.  Sets work, ns, ksock, preload, krankctl; nsx runs a command in the
# namespace, kx runs it there under the preload library.
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
work=$(mktemp -d)
fail=0
ns="krank-br-$$"
kpid=
ksock=$work/k.sock
krankctl="$bld/krank/krankctl"
preload="$bld/.libs/libkrank-preload.so"

netns_stopvars=
netns_atexit() { [ -n "$kpid" ] && kill "$kpid" 2>/dev/null; }
. "$src/tests/netns_lib.sh"
netns_need ss
[ -r "$preload" ] || skip "$preload not built"
netns_add "$ns"
# The build tree's libkrank is found through LD_LIBRARY_PATH (the
# installed preload library finds the installed one by its run path).
kx() {
	ip netns exec "$ns" env LD_LIBRARY_PATH="$bld/.libs" \
		KRANK_PRELOAD="$preload" "$bld/bridge/krank-attach" -s "$ksock" "$@"
}

# boot_krank CORES RINGS [SPIN] [TAP]: krank run, TCP/IP on its own
# loopback and a tmpfs at /, in the namespace; with TAP ("yes") also the
# tap kbrtap0 to Linux in the namespace (KRANK 10.77.0.2, Linux
# 10.77.0.1), so plain Linux programs there reach KRANK's stack; waits
# for the ready line (10 s).
boot_krank() {
	set -- "$1" "$2" "${3:-50us}" "${4:-no}"
	comps="vfs, tmpfs, net, ether, socket, inet"
	[ "$4" = yes ] && comps="$comps, virtif"
	cat >"$work/k.yaml" <<EOT
name: bridge-test
cores: [${BENCH_CORES:-$1}]
memory: {size: 256M, mlock: no}
components: [$comps]
tmpfs:
  - mount: /
    size: 32M
control: {socket: $ksock}
queues: {spin: ${BENCH_SPIN:-$3}, slots: 64, area: 4M, rings: $2}
EOT
	[ "$4" = yes ] && cat >>"$work/k.yaml" <<EOT
interfaces:
  - {name: krank0, backend: tap, device: kbrtap0, address: 10.77.0.2/24,
     host_address: 10.77.0.1/24}
EOT
	nsx "$bld/krank/krank" run "$work/k.yaml" >"$work/krank.out" 2>&1 &
	kpid=$!
	i=0
	until grep -q "ready in" "$work/krank.out"; do
		kill -0 "$kpid" 2>/dev/null ||
			{ cat "$work/krank.out"; echo "FAIL: krank exited"; exit 1; }
		i=$((i + 1))
		[ $i -lt 200 ] ||
			{ cat "$work/krank.out"; echo "FAIL: krank not ready in 10 s"; exit 1; }
		sleep 0.05
	done
}

# wait_for DEADLINE_S CMD...: poll CMD until it succeeds.
wait_for() {
	d=$1; shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt $((d * 20)) ] || return 1
		sleep 0.05
	done
}
