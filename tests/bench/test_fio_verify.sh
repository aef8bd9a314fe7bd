#!/bin/sh
# test_fio_verify - the KRANK side of bench_fio, small: random 4 KiB
# reads, writes, a 70/30 mix, writes with fsync and threaded reads on an
# ext2 image mounted "direct,cache=1" (a 16 MiB file over a 1 MiB cache, so
# dirty blocks are evicted mid-run).  Checks that every read returned the
# block's last written content, that a remount with a cold cache reads
# every block back as last written, that debugfs (an independent reader)
# sees the same bytes, and that e2fsck -fn finds the image clean.
set -u
PATH=$PATH:/sbin:/usr/sbin
for t in mke2fs e2fsck debugfs; do
	command -v $t >/dev/null 2>&1 ||
		{ echo "SKIP: $t not found (install Debian's e2fsprogs)"; exit 77; }
done
prog=${top_builddir:-.}/tests/bench/bench_fio
[ -x "$prog" ] || { echo "FAIL: $prog was not built"; exit 1; }
# In the build tree, not /tmp: tmpfs refuses O_DIRECT.
work=$(mktemp -d "${top_builddir:-.}/tests/bench/fio-verify.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT PIPE TERM
nfail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; nfail=$((nfail + 1)); }

img=$work/fio.img
mke2fs -q -F -t ext2 -b 4096 "$img" 32M >/dev/null 2>&1 ||
	{ echo "FAIL: mke2fs $img"; exit 1; }
if "$prog" krank "$img" 16 0.3 2 verify "$work/expect" >"$work/out" 2>"$work/err"; then
	ok "bench_fio krank: every read returned the last write; the workloads ran"
else
	bad "bench_fio krank failed:"
	sed 's/^/    /' "$work/out" "$work/err" | tail -15
fi
if grep -q 'direct I/O refused' "$work/err"; then
	echo "note: $(dirname "$img") refused O_DIRECT: the image was cached by the host"
fi
n=$(grep -c '^@fio side=krank' "$work/out")
[ "$n" -eq 5 ] && ok "5 workloads reported" || bad "$n workloads reported, want 5"
if grep -q '^verify: 4096 blocks read back after remount, 0 differ' "$work/out"; then
	ok "cold remount: 4096 blocks hold their last write"
else
	bad "cold remount verify: $(grep '^verify' "$work/out")"
fi
debugfs -R "dump /data $work/dumped" "$img" >/dev/null 2>&1
if [ -f "$work/expect" ] && cmp -s "$work/dumped" "$work/expect"; then
	ok "debugfs dump of /data equals the expected 16 MiB"
else
	bad "debugfs dump of /data differs from what was written"
fi
if e2fsck -fn "$img" >"$work/fsck" 2>&1; then
	ok "e2fsck -fn clean after the workloads"
else
	bad "e2fsck -fn:"
	sed 's/^/    /' "$work/fsck" | head -20
fi
[ $nfail -eq 0 ] && echo "all checks passed"
exit $nfail
