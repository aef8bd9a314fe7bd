#!/bin/sh
# Loader benchmark: builds a hello-world and a large (>= 1 MiB of code)
# program twice - as KRANK isolates with krank-cc and as static Linux
# programs with gcc - then runs tests/bench/bench_kld on them.
#   make tests/bench/bench_kld loader/krank-ld && sh tests/bench/bench_kld.sh
set -eu
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${top_builddir:-$src}
export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/hello.c" <<'C'
#include <stdio.h>
int main(void) { puts("hello, world"); return 0; }
C
# A large program: NFUNC functions of branchy arithmetic, all reached
# through a table of function pointers (one relocation each).
NFUNC=${NFUNC:-5000}
awk -v n="$NFUNC" 'BEGIN {
	print "#include <stdio.h>";
	for (i = 0; i < n; i++) {
		printf "int f%d(int x) { int s = x ^ %d;\n", i, i * 2654435761 % 65536;
		printf " switch ((x + %d) & 7) {\n", i;
		for (c = 0; c < 8; c++)
			printf "  case %d: s = s * %d + (s >> %d) - %d; s ^= s << %d; break;\n", c, 3 + (i + c) % 29, 1 + c, i + c, 1 + (i * c) % 7;
		printf " }\n return s + (s >> 11) * %d; }\n", i % 13 + 1;
	}
	printf "int (*const table[])(int) = {";
	for (i = 0; i < n; i++) printf "%sf%d", i ? ", " : "", i;
	print "};";
	print "int main(void) { unsigned acc = 0;";
	printf " for (int i = 0; i < %d; i++) acc += (unsigned)table[i](i);\n", n;
	print " printf(\"%u\\n\", acc); return (int)(acc & 63); }";
}' >"$work/big.c"
"$bld/loader/krank-cc" -O1 -o "$work/hello.kx" "$work/hello.c"
"$bld/loader/krank-cc" -O1 -o "$work/big.kx" "$work/big.c"
gcc -O1 -static -o "$work/hello.static" "$work/hello.c"
gcc -O1 -static -o "$work/big.static" "$work/big.c"
"$bld/loader/krank-ld" verify --lax "$work/hello.kx" "$work/big.kx" 2>&1 | grep -v "^warning"
code=$((0x$(readelf -SW "$work/big.kx" | awk '{ for (i = 1; i < NF; i++) if ($i == ".text") print $(i + 4) }')))
# KLD_BENCH: the program that compares them (bench_kld_start.sh sets it).
prog=${KLD_BENCH:-bench_kld}
echo "$prog: large isolate has $code bytes of .text; $(nproc) CPUs; $(uname -r)"
"$bld/tests/bench/$prog" "$work/hello.kx" "$work/hello.static" \
	"$work/big.kx" "$work/big.static"
