#!/bin/sh
# Build the channel isolates with krank-cc and run test_krk_chan on them
# (test_krk_chan_san: the same with KRANK's code under ASan+UBSan).
set -u
bld=${top_builddir:-.}
src=${top_srcdir:-.}
prog=${KRK_CHAN_TEST:-test_krk_chan}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
for p in chan_recv chan_send chan_hostile; do
	"$bld/loader/krank-cc" -O1 -o "$work/$p.kx" "$src/tests/krank/iso/$p.c" ||
		{ echo "FAIL: krank-cc $p.c"; exit 1; }
done
exec "$bld/tests/krank/$prog" "$work"
