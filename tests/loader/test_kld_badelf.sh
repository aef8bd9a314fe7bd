#!/bin/sh
# Malformed and mutated ELF files against the loader (kld_mutate): clear
# errors, no crash, nothing left mapped.
set -u
bld=${top_builddir:-.}
export KRANK_ISOLATE_INCLUDE="${top_srcdir:-.}/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
command -v gcc >/dev/null 2>&1 || { echo "SKIP: no gcc"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bld/loader/krank-cc" -O2 -o "$work/iso" "${top_srcdir:-.}/tests/loader/corpus/ok_features.c" || exit 1
"$bld/tests/loader/kld_mutate" "$work/iso" 3000
