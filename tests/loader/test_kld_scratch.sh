#!/bin/sh
# Scratch buffers reused from load to load (loader/kld_load.c): builds a
# program with much code and one with a large bss, krank-cc, and runs
# test_kld_scratch, which loads them in turn in one process: the second
# is staged where the first left its bytes, and its bss, gaps and page
# tails must still read as zero.
set -u
src=${top_srcdir:-.}
bld=${top_builddir:-.}
export KRANK_ISOLATE_INCLUDE="$src/loader/isolate/include"
export KRANK_ISOLATE_LIBDIR="$bld/loader"
command -v gcc >/dev/null 2>&1 || { echo "SKIP: no gcc to build the programs"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Code and initialised data, no zero runs to speak of: 600 functions.
awk -v n=600 'BEGIN {
	for (i = 0; i < n; i++)
		printf "int f%d(int x) { return x * %d + (x >> %d) - %d; }\n", i, 3 + i % 29, 1 + i % 7, i;
	printf "int (*table[])(int) = {";
	for (i = 0; i < n; i++) printf "%sf%d", i ? ", " : "", i;
	print "};";
	printf "unsigned char ones[65536] = { [0 ... 65535] = 0xa5 };\n";
	print "int main(void) { int s = 0;";
	printf " for (int i = 0; i < %d; i++) s += table[i](i) + ones[i];\n", n;
	print " return s & 1; }";
}' >"$work/full.c"
# A large bss that must read as zero; its second page is touched.
cat >"$work/bss.c" <<'C'
/* Not static, read through a volatile pointer: gcc may not assume the
 * array holds what the program stored. */
unsigned char zero[262144];
int counter;
int main(void)
{
	const volatile unsigned char *z = zero;

	for (unsigned i = 0; i < sizeof(zero); i++)
		if (z[i] != 0)
			return 1;
	zero[4096] = 1;
	return counter++ == 0 ? 0 : 2;
}
C
for p in full bss; do
	if ! "$bld/loader/krank-cc" -O1 -o "$work/$p.kx" "$work/$p.c" \
			>"$work/cc.out" 2>&1; then
		echo "FAIL: krank-cc $p failed:"; cat "$work/cc.out"; exit 1
	fi
done
exec "$bld/tests/loader/test_kld_scratch" "$work/full.kx" "$work/bss.kx"
