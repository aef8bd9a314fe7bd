# ext2_lib.sh - shared helpers of the ext2 interop scripts (sourced).
# Finds e2fsprogs and krank-fs, makes a scratch directory, counts checks.
set -u
PATH=$PATH:/sbin:/usr/sbin
KFS="${top_builddir:-.}/tools/krank-fs/krank-fs"
for t in mke2fs e2fsck debugfs; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "SKIP: $t not found (install Debian's e2fsprogs)"
		exit 77
	fi
done
if [ ! -x "$KFS" ]; then
	echo "FAIL: $KFS was not built"
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nfail=0
nok=0

ok() { echo "ok: $*"; nok=$((nok + 1)); }
bad() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
# fsck_clean IMAGE DESC: e2fsck -fn must find nothing to fix.
fsck_clean() {
	if e2fsck -fn "$1" > "$work/fsck.out" 2>&1; then
		ok "e2fsck -fn clean: $2"
	else
		bad "e2fsck -fn: $2"
		sed 's/^/    /' "$work/fsck.out" | head -30
	fi
}
# dbg_same IMAGE PATH HOSTFILE: debugfs reads the same bytes.
dbg_same() {
	debugfs -R "cat $2" "$1" 2>/dev/null > "$work/dbg.out"
	if cmp -s "$work/dbg.out" "$3"; then
		ok "debugfs cat $2 matches"
	else
		bad "debugfs cat $2 differs from $3"
	fi
}
finish() {
	echo "$nok checks passed, $nfail failed"
	[ $nfail -eq 0 ]
	exit $?
}
