#!/bin/sh
# The parallel verifier against the serial one: builds the corpus's good
# programs and a large generated program (2000 functions) with krank-cc,
# then runs test_kld_vparallel on them and on mutated copies.
set -u
src=${top_srcdir:-.}
bld=${top_builddir:-.}
export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
command -v gcc >/dev/null 2>&1 || { echo "SKIP: no gcc to build the programs"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
progs=""
for p in ok_hello ok_features ok_lib; do
	if ! "$bld/loader/krank-cc" -O2 -o "$work/$p.kx" \
			"$src/tests/loader/corpus/$p.c" >"$work/cc.out" 2>&1; then
		echo "FAIL: krank-cc $p failed:"; cat "$work/cc.out"; exit 1
	fi
	progs="$progs $work/$p.kx"
done
awk -v n=2000 'BEGIN {
	for (i = 0; i < n; i++) {
		printf "int f%d(int x) { int s = x ^ %d;\n", i, i * 40503 % 65536;
		printf " switch ((x + %d) & 7) {\n", i;
		for (c = 0; c < 8; c++)
			printf "  case %d: s = s * %d + (s >> %d) - %d; break;\n", c, 3 + (i + c) % 29, 1 + c, i + c;
		printf " }\n return s; }\n";
	}
	printf "int (*table[])(int) = {";
	for (i = 0; i < n; i++) printf "%sf%d", i ? ", " : "", i;
	print "};";
	print "int main(void) { unsigned a = 0;";
	printf " for (int i = 0; i < %d; i++) a += (unsigned)table[i](i);\n", n;
	print " return (int)(a & 63); }";
}' >"$work/big.c"
if ! "$bld/loader/krank-cc" -O1 -o "$work/big.kx" "$work/big.c" >"$work/cc.out" 2>&1; then
	echo "FAIL: krank-cc big.c failed:"; cat "$work/cc.out"; exit 1
fi
exec "$bld/tests/loader/test_kld_vparallel" $progs "$work/big.kx"
