#!/bin/sh
# check-layering.sh - the layering rules of DESIGN.md, per archive and
# object of the build tree (nm), and per source of examples/ and tools/:
#  1. only the kernel base (rumpdrv/kern/librumpkern.a) references
#     rumpuser_*;
#  2. only the virtif driver (an object named *if_virt*) references
#     hyp_pkt_*;
#  (the hypercall libraries themselves -- libkrank-hypercall, the other
#  hosts libkrank-hypercall-* such as -dpdk, and libkrank-hyp-* -- are
#  the layer these names belong to, and are skipped)
#  3. examples/ and tools/ use installed headers only: every <krank/X>
#     they include is installed, every "X" resolves inside examples/ or
#     tools/, and their fragments add no -I for a folder that is neither
#     a public include folder nor their own.
# Exceptions are listed, with reasons, in scripts/layering-exceptions.txt
# (KRANK_LAYERING_EXCEPTIONS overrides); an exception that no longer
# matches anything is an error too.  Run by make check.
set -u
: "${top_builddir:=.}" "${top_srcdir:=.}"
NM=${NM:-nm}
command -v "$NM" >/dev/null 2>&1 || { echo "SKIP: nm not found"; exit 77; }
exc=${KRANK_LAYERING_EXCEPTIONS:-$top_srcdir/scripts/layering-exceptions.txt}
[ -r "$exc" ] || { echo "FAIL: no exception file $exc"; exit 1; }

tmp=${TMPDIR:-/tmp}/krank-check-layering.$$
trap 'rm -f "$tmp".*' EXIT
: > "$tmp.bad"
: > "$tmp.used"

# ---- 1 and 2: undefined symbols, archive by archive -------------------
archives=$(cd "$top_builddir" && find . -name '*.a' ! -path './tests/*' \
    ! -name 'libkrank-hypercall.a' ! -name 'libkrank-hypercall-*.a' \
    ! -name 'libkrank-hyp-*.a' \
    ! -path '*/_inst/*' ! -path '*/_build/*' | sed 's|^\./||' | sort)
if ! echo "$archives" | grep -q 'rumpdrv/kern/librumpkern.a'; then
	echo "FAIL: rumpdrv/kern/librumpkern.a not built under $top_builddir"
	exit 1
fi
awk '!/^[[:space:]]*#/ && NF >= 2 { print NR " " $1 " " $2 }' "$exc" \
    > "$tmp.exc"
nrefs=0
for a in $archives; do
	(cd "$top_builddir" && "$NM" -A -u "$a" 2>/dev/null) |
	    awk '{ print $1 " " $NF }' | sed 's/: / /; s/:$//' |
	    while read -r where sym; do
		case $sym in
		rumpuser_*)
			[ "$a" = rumpdrv/kern/librumpkern.a ] && continue
			rule="only rumpdrv/kern calls rumpuser_*" ;;
		hyp_pkt_*)
			case $where in *if_virt*) continue ;; esac
			rule="only the virtif driver calls hyp_pkt_*" ;;
		*) continue ;;
		esac
		# where is ARCHIVE:MEMBER (nm -A on an archive).
		where=${where%:}
		hit=
		while read -r n pat spat; do
			# shellcheck disable=SC2254
			case $where in $pat) ;; *) case ${where%%:*} in $pat) ;; *) continue ;; esac ;; esac
			# shellcheck disable=SC2254
			case $sym in $spat) hit=$n; break ;; esac
		done < "$tmp.exc"
		if [ -n "$hit" ]; then
			echo "$hit" >> "$tmp.used"
		else
			echo "FAIL: $where references $sym: $rule"
			echo x >> "$tmp.bad"
		fi
	    done
	nrefs=$((nrefs + 1))
done
# Every exception must still be needed.
while read -r n pat spat; do
	if ! grep -qx "$n" "$tmp.used"; then
		echo "FAIL: $exc line $n ($pat $spat) matches nothing: remove it"
		echo x >> "$tmp.bad"
	else
		echo "ok: exception in use: $pat $spat ($(grep -cx "$n" "$tmp.used") references)"
	fi
done < "$tmp.exc"
echo "ok: checked rumpuser_* and hyp_pkt_* references of $nrefs archives"

# ---- 3: examples/ and tools/ use installed headers ----------------------
# Installed headers: every .h named in a *_HEADERS assignment of the
# fragments (continuation lines joined).
( cd "$top_srcdir" && cat Makefile.am $(find . -name 'local*.mk' ! -path './_*') ) |
    awk '
	/^[A-Za-z0-9_]*_HEADERS[ \t]*\+?=/ { on = 1 }
	on { for (i = 1; i <= NF; i++) if ($i ~ /\.h$/) print $i
	     if ($0 !~ /\\$/) on = 0 }' | sort -u > "$tmp.inst"
[ -s "$tmp.inst" ] || { echo "FAIL: found no installed headers"; exit 1; }
sed 's|/[^/]*$||; s|/krank$||; s|/sys$||; s|/netinet$||; s|/arpa$||' \
    "$tmp.inst" | sort -u > "$tmp.incdirs"
nsrc=0
for top in examples tools; do
	for f in $(cd "$top_srcdir" && find "$top" -name '*.[ch]' | sort); do
		nsrc=$((nsrc + 1))
		d=${f%/*}
		grep -n '^[[:space:]]*#[[:space:]]*include' "$top_srcdir/$f" |
		    sed 's/^\([0-9]*\):.*include[[:space:]]*\(.*\)$/\1 \2/' |
		    while read -r line inc; do
			case $inc in
			\<krank/*\>)
				h=${inc#<}; h=${h%>}
				if ! grep -q "/$h\$" "$tmp.inst"; then
					echo "FAIL: $f:$line includes <$h>, which is not installed"
					echo x >> "$tmp.bad"
				fi ;;
			\"*\")
				h=${inc#\"}; h=${h%\"}
				if [ -f "$top_srcdir/$d/$h" ]; then
					r="$d/$h"
				elif [ -f "$top_srcdir/examples/common/$h" ]; then
					r="examples/common/$h"
				else
					r=
				fi
				case $r in
				examples/*|tools/*) ;;
				*)	echo "FAIL: $f:$line includes \"$h\": not a header of $top/ (use the installed <krank/...> one)"
					echo x >> "$tmp.bad" ;;
				esac ;;
			esac
		    done
	done
	for mk in $(cd "$top_srcdir" && find "$top" -name 'local*.mk'); do
		grep -o -- '-I\$([a-z_]*srcdir)/[A-Za-z0-9_/.-]*' "$top_srcdir/$mk" |
		    sed 's|^-I\$([a-z_]*srcdir)/||; s|/$||' | sort -u |
		    while read -r dir; do
			case $dir in examples*|tools*) continue ;; esac
			grep -qx -- "$dir" "$tmp.incdirs" && continue
			echo "FAIL: $mk adds -I for $dir: not a public include folder"
			echo x >> "$tmp.bad"
		    done
	done
done
echo "ok: $nsrc sources of examples/ and tools/ include installed headers only"

if [ -s "$tmp.bad" ]; then
	echo "FAIL: $(wc -l < "$tmp.bad") layering violations"
	exit 1
fi
echo PASS
