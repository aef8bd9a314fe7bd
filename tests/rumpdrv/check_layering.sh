#!/bin/sh
# check_layering.sh - rumpdrv may reference only the hypercall layer
# (rumpuser_*, hyp_*), other rumpdrv code, and a short list of pure libc
# functions.  Runs nm on every rumpdrv archive in the build tree and fails,
# naming the symbol and the object, on anything else (pthreads, stdio, host
# system calls, malloc ...).
set -u
: "${top_builddir:=.}"
NM=${NM:-nm}
command -v "$NM" >/dev/null 2>&1 || { echo "SKIP: nm not found"; exit 77; }

archives=$(find "$top_builddir/rumpdrv" -name '*.a' ! -path '*/.libs/*' | sort)
if [ -z "$archives" ]; then
	echo "FAIL: no rumpdrv archives under $top_builddir/rumpdrv"
	exit 1
fi

# Pure libc: no host state, no system calls.
ALLOWED_LIBC='memcpy memmove memset memcmp memchr
strlen strnlen strcmp strncmp strchr strrchr strstr strcpy strncpy strcspn strspn
snprintf vsnprintf qsort bsearch
_GLOBAL_OFFSET_TABLE_ __start_krank_components __stop_krank_components'

tmp=${TMPDIR:-/tmp}/krank-layering.$$
trap 'rm -f "$tmp".*' EXIT
# Everything any rumpdrv archive defines.
for a in $archives; do
	"$NM" --defined-only "$a" 2>/dev/null | awk 'NF == 3 { print $3 }'
done | sort -u > "$tmp.defined"
printf '%s\n' $ALLOWED_LIBC | sort -u > "$tmp.allowed"

bad=0
for a in $archives; do
	"$NM" -u -A "$a" 2>/dev/null | awk '{ print $NF " " $1 }' |
	while read -r sym where; do
		case $sym in
		rumpuser_*|hyp_*) continue ;;
		esac
		if grep -qx -- "$sym" "$tmp.defined" || grep -qx -- "$sym" "$tmp.allowed"; then
			continue
		fi
		echo "FAIL: $where references $sym: not a hypercall, not rumpdrv, not pure libc"
		echo x >> "$tmp.bad"
	done
done
[ -f "$tmp.bad" ] && bad=1
n=$(echo $archives | wc -w)
if [ $bad -ne 0 ]; then
	exit 1
fi
echo "ok: $n rumpdrv archives reference only rumpuser_/hyp_ hypercalls, rumpdrv and pure libc"
echo "PASS"
