#!/bin/sh
# kld_mutate built with the loader's sources under ASan+UBSan: the same
# malformed and mutated ELF files, with every memory error fatal.
set -u
bld=${top_builddir:-.}
export KRANK_ISOLATE_INCLUDE="${top_srcdir:-.}/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
command -v gcc >/dev/null 2>&1 || { echo "SKIP: no gcc"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bld/loader/krank-cc" -O2 -o "$work/iso" "${top_srcdir:-.}/tests/loader/corpus/ok_features.c" || exit 1
KLD_MUTATE_NO_MAPCOUNT=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	"$bld/tests/loader/kld_mutate_san" "$work/iso" 1500
