#!/bin/sh
# test_pkt_module.sh - the POSIX host's dpdk: packet backend is a module
# loaded on first use, so a process that opens no dpdk: port never maps
# DPDK:
#  - neither libkrank-hypercall nor krank needs a DPDK library (ldd);
#  - a program opens a wire: port without DPDK mapped; its first dpdk:
#    open loads krank-pkt-dpdk.so from the build tree (beside the library
#    libtool runs it against) and reaches DPDK (an unknown port is ENOENT
#    from the EAL, not EINVAL);
#  - a copy of the library with no module beside it fails that open with
#    ENOENT and one line naming the module's path and dlerror's reason,
#    and maps no DPDK; a module of another ABI is refused by name;
#  - krank, which links libkrank-hypercall's archive, looks beside its own
#    file (a copy run through a link elsewhere names its folder).
# Without DPDK built, dpdk: is an unknown backend (EINVAL).
set -u
bld=${top_builddir:-.}
probe="$bld/tests/hypercalls/pkt_module_probe"
probebin="$bld/tests/hypercalls/.libs/pkt_module_probe"
lib="$bld/.libs/libkrank-hypercall.so.0"
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# expect OUT LINE: OUT has the line LINE.
expect() {
	if grep -qxF "$2" "$1"; then ok "$3: $2"; else bad "$3: wanted \"$2\", got: $(tr '\n' '|' <"$1")"; fi
}

if ! grep -q 'define HAVE_DPDK 1' "$bld/config.h"; then
	"$probe" dpdk:krank_nosuch0 >"$work/out" 2>"$work/err"
	expect "$work/out" "open dpdk:krank_nosuch0: 22 rte=no module=no" "built without DPDK"
	exit $fail
fi

[ -f "$lib" ] || { echo "SKIP: no shared $lib (--disable-shared)"; exit 77; }
# krank is libtool's wrapper script when it links the build tree's shared
# libraries, the program itself when it links their archives.
kbin="$bld/krank/krank"
head -c 4 "$kbin" | grep -q ELF || kbin="$bld/krank/.libs/krank"
[ -f "$kbin" ] || bad "no krank program at $bld/krank/krank or $kbin"
if LD_LIBRARY_PATH="$bld/.libs" ldd "$lib" "$kbin" 2>&1 | grep librte_ >"$work/ldd"; then
	bad "libkrank-hypercall or krank still needs DPDK: $(tr '\n' ' ' <"$work/ldd")"
else
	ok "neither libkrank-hypercall.so nor krank needs a DPDK library (ldd)"
fi

core=$(($(nproc) - 1))
export KRANK_DPDK_EAL="--no-huge --no-pci --no-shconf -m 64 -l $core --log-level=error"
"$probe" wire:krank_modw0 dpdk:krank_nosuch0 >"$work/out" 2>"$work/err"
expect "$work/out" "start: rte=no module=no" "build tree"
expect "$work/out" "open wire:krank_modw0: 0 rte=no module=no" "build tree"
if grep -qxF "open dpdk:krank_nosuch0: 6 rte=yes module=yes" "$work/out"; then
	ok "build tree: the module loaded; DPDK's EAL cannot start here (ENXIO): $(grep -m1 EAL "$work/err")"
else
	expect "$work/out" "open dpdk:krank_nosuch0: 2 rte=yes module=yes" "build tree, first dpdk: open"
fi

# The library alone, in a folder of its own: no module beside it.
[ -x "$probebin" ] || { bad "no $probebin (libtool's program behind $probe)"; exit 1; }
cp "$lib" "$work/"
LD_LIBRARY_PATH="$work:$bld/.libs" "$probebin" dpdk:krank_nosuch0 >"$work/out" 2>"$work/err"
expect "$work/out" "open dpdk:krank_nosuch0: 2 rte=no module=no" "module missing"
want="krank-hypercall: dpdk: cannot load the DPDK packet backend $work/krank-pkt-dpdk.so: $work/krank-pkt-dpdk.so: cannot open shared object file: No such file or directory"
expect "$work/err" "$want" "module missing, stderr"

# krank links libkrank-hypercall's archive: a copy of the program looks
# beside its file (/proc/self/exe), not beside argv[0] (here a link in
# another folder).  The build tree's krank finds the module through
# krank/krank-pkt-dpdk.so (test_krank_dpdk.sh boots on it).
if head -c 4 "$kbin" | grep -q ELF &&
    ! LD_LIBRARY_PATH="$bld/.libs" ldd "$kbin" | grep -q libkrank-hypercall; then
	mkdir "$work/bin"
	cp "$kbin" "$work/bin/krank"
	ln -s "$work/bin/krank" "$work/krank-link"
	cat >"$work/d.yaml" <<EOT
cores: [$core]
memory: {size: 64M, mlock: no}
components: [net, ether, virtif]
interfaces:
  - {name: krank0, backend: dpdk, device: krank_nosuch0, address: 10.96.9.2/24}
control: {socket: $work/k.sock}
EOT
	"$work/krank-link" run -q "$work/d.yaml" >"$work/out" 2>"$work/err"
	rc=$?
	want="krank-hypercall: dpdk: cannot load the DPDK packet backend $work/bin/krank-pkt-dpdk.so: $work/bin/krank-pkt-dpdk.so: cannot open shared object file: No such file or directory"
	expect "$work/err" "$want" "krank copied, run through a link"
	[ $rc -eq 1 ] && ok "krank copied: boot failed, exit 1" ||
		bad "krank copied: exit $rc, wanted 1"
	if [ -L "$bld/krank/krank-pkt-dpdk.so" ] &&
	    [ "$(readlink "$bld/krank/krank-pkt-dpdk.so")" = ../.libs/krank-pkt-dpdk.so ]; then
		ok "build tree: krank/krank-pkt-dpdk.so links to the module in .libs"
	else
		bad "build tree: no link krank/krank-pkt-dpdk.so -> ../.libs/krank-pkt-dpdk.so"
	fi
else
	echo "info: krank links the shared libkrank-hypercall: the program's own lookup is not checked"
fi

# A module of another ABI, where the module is looked for.
CC=${CC:-cc}
if command -v "$CC" >/dev/null 2>&1; then
	printf 'const void *krank_pkt_dpdk_init(const void *c) { (void)c; return 0; }\n' >"$work/old.c"
	"$CC" -shared -fPIC -o "$work/krank-pkt-dpdk.so" "$work/old.c"
	LD_LIBRARY_PATH="$work:$bld/.libs" "$probebin" dpdk:krank_nosuch0 >"$work/out" 2>"$work/err"
	expect "$work/out" "open dpdk:krank_nosuch0: 2 rte=no module=yes" "module of another ABI"
	grep -q "krank-pkt-dpdk.so was built for another version of libkrank-hypercall" "$work/err" &&
		ok "module of another ABI: refused by name: $(cat "$work/err")" ||
		bad "module of another ABI: stderr says: $(cat "$work/err")"
else
	echo "info: no C compiler ($CC): the other-ABI module is not checked"
fi
exit $fail
