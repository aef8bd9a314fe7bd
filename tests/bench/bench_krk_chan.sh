#!/bin/sh
# Channel benchmark (issue 12): KRANK's zero-copy channels between two
# threads and between two krank-cc isolates on cores 0 and 1, against a
# Linux pipe and a unix stream socket between two processes, same run.
#   make tests/bench/bench_krk_chan loader/krank-cc-uninstalled &&
#   sh tests/bench/bench_krk_chan.sh [SCALE]
set -eu
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${top_builddir:-$src}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bld/loader/krank-cc-uninstalled" -O2 -o "$work/iso_chanbench.kx" \
	"$src/tests/bench/iso_chanbench.c"
exec "$bld/tests/bench/bench_krk_chan" -i "$work" "${1:-1}"
