#!/bin/bash
# test_pkgconfig_static.sh - for every host library's .pc file that
# `make install` puts in place, a conformance test (test_params, test_mutex
# and test_pkt_wire, with the suite's harness; with DPDK, krank.pc also
# pulls in the dpdk: backend's archive, which the shared library loads as
# a module instead and a static program cannot) builds from the installed headers
# and archives with `pkg-config --static` alone, links no KRANK shared
# library, and passes: once against krank.pc (the POSIX host) and, when
# DPDK was built, once against krank-hypercall-dpdk.pc (the DPDK host, its
# EAL in ordinary pages, --no-huge); the DPDK host's programs carry that
# host's own code, not the POSIX host's.  The temp tree is a static-only install (the .so
# files removed, as --disable-shared leaves it), so -lkrank-hypercall can
# only mean the archive; DPDK's archives come through Requires.private.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
CC=${CC:-cc}
MAKE=${MAKE:-make}

command -v pkg-config >/dev/null ||
	{ echo "SKIP: pkg-config is not installed"; exit 77; }
command -v "$CC" >/dev/null || { echo "SKIP: no C compiler ($CC)"; exit 77; }

tmp=$(mktemp -d /tmp/krank-pc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# Install from the build tree (writable in distcheck too; the read-only
# source tree is only read from).
if ! $MAKE -s -C "$top_builddir" install DESTDIR="$root" >"$tmp/install.log" 2>&1; then
	echo "FAIL: make install DESTDIR=$root failed:"
	tail -20 "$tmp/install.log"
	exit 1
fi
pcdirs=$(find "$root" -type d -path '*/pkgconfig' | head -1)
[ -n "$pcdirs" ] || { echo "FAIL: make install put no pkgconfig folder in $root"; exit 1; }
libdir=$(dirname "$pcdirs")
echo "ok: make install DESTDIR: .pc files in ${pcdirs#$root}"
find "$libdir" -name 'libkrank*.so*' -delete
find "$libdir" -name 'libkrank*.la' -delete
[ -f "$libdir/libkrank-hypercall.a" ] ||
	{ echo "FAIL: no libkrank-hypercall.a installed in ${libdir#$root}"; exit 1; }

# The sysroot holds KRANK's install only; pkg-config prefixes it to the
# -I/-L of every module, the system's (liburing, libdpdk ...) too.  Those
# folders are linked into the sysroot so that their flags still resolve,
# as they would in a full sysroot.
for pc in "$pcdirs"/*.pc; do
	for req in $(PKG_CONFIG_PATH=$pcdirs pkg-config --print-requires-private "$(basename "$pc" .pc)" | awk '{print $1}'); do
		for f in $(pkg-config --static --cflags-only-I --libs-only-L "$req"); do
			d=${f#-[IL]}
			[ -d "$d" ] && [ ! -e "$root$d" ] || continue
			mkdir -p "$(dirname "$root$d")" && ln -s "$d" "$root$d"
		done
	done
done
export PKG_CONFIG_PATH=$pcdirs PKG_CONFIG_SYSROOT_DIR=$root
fail=0 nhost=0
if grep -q 'define HAVE_DPDK 1' "$top_builddir/config.h"; then
	[ -f "$pcdirs/krank-hypercall-dpdk.pc" ] &&
		echo "ok: DPDK built: krank-hypercall-dpdk.pc installed" ||
		{ echo "FAIL: DPDK built but make install put no krank-hypercall-dpdk.pc"; fail=1; }
	[ -f "$libdir/libkrank-hypercall-dpdk.a" ] ||
		{ echo "FAIL: DPDK built but no libkrank-hypercall-dpdk.a installed"; fail=1; }
fi
for pc in "$pcdirs"/*.pc; do
	mod=$(basename "$pc" .pc)
	host=$(pkg-config --variable=host "$mod")
	[ -n "$host" ] || continue	# not a host library
	nhost=$((nhost + 1))
	cflags=$(pkg-config --static --cflags "$mod") || { echo "FAIL: $mod: pkg-config --cflags"; fail=1; continue; }
	libs=$(pkg-config --static --libs "$mod") || { echo "FAIL: $mod: pkg-config --static --libs"; fail=1; continue; }
	echo "info: $mod ($host host): pkg-config --static --libs gives: $(echo "$libs" | cut -c1-300)"
	if [ "$host" = posix ] && grep -q 'define HAVE_DPDK 1' "$top_builddir/config.h"; then
		[ -f "$libdir/libkrank-pkt-dpdk.a" ] && [ -f "$libdir/krank/krank-pkt-dpdk.so" ] &&
			echo "ok: $mod: the dpdk: backend installed as a module (krank/krank-pkt-dpdk.so) and an archive (libkrank-pkt-dpdk.a)" ||
			{ echo "FAIL: $mod: DPDK built but krank/krank-pkt-dpdk.so or libkrank-pkt-dpdk.a not installed"; fail=1; }
		! ar t "$libdir/libkrank-hypercall.a" | grep -q dpdk &&
			echo "ok: $mod: libkrank-hypercall.a holds no DPDK code" ||
			{ echo "FAIL: $mod: libkrank-hypercall.a holds DPDK code: $(ar t "$libdir/libkrank-hypercall.a" | grep dpdk)"; fail=1; }
		pkg-config --print-requires-private "$mod" | grep -q '^libdpdk' &&
			echo "$libs" | grep -q -- '-lkrank-pkt-dpdk' &&
			echo "ok: $mod: Libs.private names the backend's archive and Requires.private libdpdk" ||
			{ echo "FAIL: $mod: DPDK built but the .pc lacks -lkrank-pkt-dpdk or libdpdk"; fail=1; }
		# Without DPDK's libraries the same link must fail: the check
		# below is what tells a .pc that forgot them.
		if $CC -D_GNU_SOURCE -o "$tmp/nodpdk" "$top_srcdir/tests/hypercalls/test_pkt_wire.c" \
		    "$top_srcdir/tests/hypercalls/hyptest.c" -I"$top_srcdir/tests/hypercalls" \
		    $cflags -L"$libdir" -lkrank-hypercall -Wl,-u,krank_pkt_dpdk_init -lkrank-pkt-dpdk \
		    $(pkg-config --static --libs liburing liburcu-bp) \
		    -lpthread >"$tmp/nodpdk.log" 2>&1; then
			echo "FAIL: $mod: test_pkt_wire links without DPDK's libraries although it holds the DPDK backend"
			fail=1
		elif grep -q "undefined reference to .rte_" "$tmp/nodpdk.log"; then
			echo "ok: $mod: without libdpdk the static link fails ($(grep -c "undefined reference to .rte_" "$tmp/nodpdk.log") undefined rte_ references: what krank.pc lacked before)"
		else
			echo "FAIL: $mod: the link without libdpdk failed for another reason:"
			tail -5 "$tmp/nodpdk.log"
			fail=1
		fi
	fi
	# The DPDK host's harness skips (77) when the EAL cannot start.
	hostdef=
	[ "$host" = dpdk ] && hostdef=-DHYPTEST_HOST_DPDK
	for t in test_params test_mutex test_pkt_wire; do
		exe=$tmp/$t-$host
		if ! $CC -D_GNU_SOURCE $hostdef -o "$exe" "$top_srcdir/tests/hypercalls/$t.c" \
		    "$top_srcdir/tests/hypercalls/hyptest.c" -I"$top_srcdir/tests/hypercalls" \
		    $cflags $libs >"$tmp/cc.log" 2>&1; then
			echo "FAIL: $mod: $t does not link from the installed tree with pkg-config --static:"
			tail -15 "$tmp/cc.log"
			fail=1
			continue
		fi
		if readelf -d "$exe" | grep NEEDED | grep -q 'libkrank'; then
			echo "FAIL: $mod: $t needs a KRANK shared library: $(readelf -d "$exe" | grep NEEDED | grep libkrank)"
			fail=1
			continue
		fi
		echo "ok: $mod: $t linked against the installed archive (no libkrank*.so NEEDED)"
		# Which host the program got: the DPDK host's EAL start is in it
		# exactly when it was linked against that host.
		if nm "$exe" | grep -q ' rumpuser__dpdk_up$'; then got=dpdk; else got=posix; fi
		if [ "$got" != "$host" ]; then
			echo "FAIL: $mod: $t holds the $got host's code, not the $host host's"
			fail=1
			continue
		fi
		echo "ok: $mod: $t holds the $host host's code"
		# A static program cannot load the dpdk: module: krank.pc
		# linked the backend in (its init is what the library finds).
		if [ "$host" = posix ] && grep -q 'define HAVE_DPDK 1' "$top_builddir/config.h"; then
			nm "$exe" | grep -q ' krank_pkt_dpdk_init$' &&
				echo "ok: $mod: $t carries the dpdk: backend (linked in, not a module)" ||
				{ echo "FAIL: $mod: $t lacks the dpdk: backend (krank_pkt_dpdk_init)"; fail=1; }
		fi
		if [ "$host" = dpdk ]; then
			(cd "$tmp" && KRANK_DPDK_HUGE=no KRANK_DPDK_MEM=64 "$exe") >"$tmp/run.log" 2>&1
		else
			(cd "$tmp" && "$exe") >"$tmp/run.log" 2>&1
		fi
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "ok: $mod: $t passes ($(grep -c '^ok:' "$tmp/run.log") checks)"
		elif [ $rc -eq 77 ] && [ "$host" = dpdk ]; then
			echo "info: $mod: $t skipped: $(grep SKIP "$tmp/run.log")"
		else
			echo "FAIL: $mod: $t from the installed tree fails:"
			grep -v '^ok:' "$tmp/run.log" | tail -15
			fail=1
		fi
	done
done
if [ "$nhost" -eq 0 ]; then
	echo "FAIL: no installed .pc file names a host (variable host=)"
	exit 1
fi
echo "info: $nhost host librar$([ $nhost = 1 ] && echo y || echo ies) checked"
exit $fail
