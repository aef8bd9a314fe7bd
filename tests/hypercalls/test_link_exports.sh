#!/bin/sh
# libkrank-hypercall exports every rumpuser v17 function (and nothing but
# rumpuser_* and hyp_*), needs nothing from NetBSD, and a program taking
# the address of every one of them links against it alone and runs.
# HYP_LIB names another host's library (krank-hypercall-dpdk).
set -u
HYP_LIB=${HYP_LIB:-krank-hypercall}
lib="$top_builddir/.libs/lib$HYP_LIB.so"
syms="$top_srcdir/tests/hypercalls/rumpuser_v17.syms"
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

[ -f "$lib" ] || { echo "SKIP: no shared library built ($lib)"; exit 77; }
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort)
want=$(grep -v '^#' "$syms" | sort)
nwant=$(echo "$want" | wc -l)
missing=$(echo "$want" | while read -r s; do
	echo "$exported" | grep -qx "$s" || echo "$s"; done)
[ -z "$missing" ] && ok "all $nwant rumpuser v17 functions are exported" ||
	bad "missing exports: $missing"
extra=$(echo "$exported" | grep -v '^rumpuser_' | grep -v '^hyp_' || true)
[ -z "$extra" ] && ok "nothing but rumpuser_* and hyp_* is exported" ||
	bad "unexpected exports: $extra"
internal=$(echo "$exported" | grep '^rumpuser__' || true)
[ -z "$internal" ] && ok "internal rumpuser__* helpers stay hidden" ||
	bad "internal helpers exported: $internal"
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "$needed" | grep -qi 'rump\|netbsd' && bad "needs a NetBSD library: $needed" ||
	ok "needs only: $needed"
# Only the weak link-set bounds of a statically linked rump kernel may be
# looked for; they resolve to nothing when absent.
undef_rump=$(nm -D --undefined-only "$lib" | grep -i 'rump' |
	grep -v ' w __st[a-z]*_link_set_' || true)
[ -z "$undef_rump" ] && ok "imports no rump symbol (only weak link-set bounds)" ||
	bad "imports: $undef_rump"

# Link a program against the library alone, taking every function's address.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
	echo '#include <stdio.h>'
	echo "$want" | while read -r s; do echo "extern void $s(void);"; done
	echo 'int main(void) { void *p[] = {'
	echo "$want" | while read -r s; do echo "(void *)$s,"; done
	echo '}; int n = 0; for (unsigned i = 0; i < sizeof(p)/sizeof(p[0]); i++) n += p[i] != 0;'
	echo 'printf("%d\n", n); return 0; }'
} >"$work/all.c"
if ${CC:-cc} -fno-builtin -o "$work/all" "$work/all.c" -L"$top_builddir/.libs" \
	-l"$HYP_LIB" 2>"$work/err"; then
	n=$(LD_LIBRARY_PATH="$top_builddir/.libs" "$work/all")
	[ "$n" = "$nwant" ] && ok "a program referencing all $nwant links and runs" ||
		bad "program saw $n of $nwant"
else
	bad "link failed: $(cat "$work/err")"
fi
exit $fail
